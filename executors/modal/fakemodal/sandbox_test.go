package fakemodal

import "testing"

func TestRewriteMounts(t *testing.T) {
	mounts := map[string]string{"/runs": "/tmp/vol"}
	cases := map[string]string{
		"/runs":                        "/tmp/vol",
		"/runs/.llcflow/bin/llcflow-1": "/tmp/vol/.llcflow/bin/llcflow-1",
		`{"store":"/runs","x":1}`:      `{"store":"/tmp/vol","x":1}`,
		"tar -C /runs x":               "tar -C /tmp/vol x",
		"--store=/runs/a":              "--store=/tmp/vol/a",
		"/runsheet":                    "/runsheet",
		"/data/runs":                   "/data/runs",
		"/runs /runs":                  "/tmp/vol /tmp/vol",
	}
	for in, want := range cases {
		if got := rewriteMounts(in, mounts); got != want {
			t.Errorf("rewriteMounts(%q) = %q, want %q", in, got, want)
		}
	}
}
