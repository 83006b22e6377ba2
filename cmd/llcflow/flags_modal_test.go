package main

import (
	"strings"
	"testing"
	"time"
)

func TestModalFlagsOverrideBlock(t *testing.T) {
	app, cpu, timeout, retries := "flag-app", 8.0, 45*time.Minute, 0
	f := modalFlags{ModalApp: &app, ModalCPU: &cpu, ModalTimeout: &timeout, ModalRetries: &retries}
	o, err := f.options(map[string]any{"app": "block-app", "volume": "block-volume", "cpu": 2.0, "retries": 5.0})
	if err != nil {
		t.Fatal(err)
	}
	if o.App != "flag-app" {
		t.Errorf("app %q, want the flag's", o.App)
	}
	if o.Volume != "block-volume" {
		t.Errorf("volume %q, want the block's", o.Volume)
	}
	if o.CPU != 8 {
		t.Errorf("cpu %v, want the flag's 8", o.CPU)
	}
	if o.Timeout != 45*time.Minute {
		t.Errorf("timeout %v, want the flag's 45m", o.Timeout)
	}
	if o.Retries != 0 {
		t.Errorf("retries %d, want the flag's 0", o.Retries)
	}
	if o.BackoffInitial != 10*time.Second {
		t.Errorf("backoff %v, want the default 10s", o.BackoffInitial)
	}
}

func TestModalFlagsRejectInvalid(t *testing.T) {
	negative := -2
	if _, err := (&modalFlags{ModalRetries: &negative}).options(nil); err == nil || !strings.Contains(err.Error(), "retries -2 is negative") {
		t.Errorf("negative --modal-retries: err = %v", err)
	}
	if _, err := (&modalFlags{}).options(map[string]any{"gpu": "A100"}); err == nil || !strings.Contains(err.Error(), "valid attributes are") {
		t.Errorf("unknown block attribute: err = %v", err)
	}
}
