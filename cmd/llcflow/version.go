package main

import (
	"fmt"
	"runtime"
	"runtime/debug"

	"github.com/llcflow/llcflow/executors"
)

type versionCmd struct{}

func (versionCmd) Run(c *cli) error {
	fmt.Printf("llcflow %s (%s, %s/%s)\n", executors.Version, runtime.Version(), runtime.GOOS, runtime.GOARCH)
	return nil
}

func init() {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return
	}
	if v := info.Main.Version; v != "" && v != "(devel)" {
		executors.Version = v
		return
	}
	for _, s := range info.Settings {
		if s.Key == "vcs.revision" && len(s.Value) >= 12 {
			executors.Version = "dev-" + s.Value[:12]
		}
	}
}
