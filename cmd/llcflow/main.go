// Command llcflow plans and runs local learning coefficient experiments
// described in HCL files. Run `llcflow --help` for the commands.
package main

import (
	"errors"
	"fmt"
	"os"
	"regexp"

	"github.com/alecthomas/kong"
)

// Exit codes, documented in the help of every command.
const (
	exitOK      = 0
	exitFailure = 1
	exitUsage   = 2
	exitChanges = 3 // plan --detailed-exitcode: something would run
)

type cli struct {
	Store   string `help:"Store directory that contains the runs." env:"LLCFLOW_STORE" default:"runs" type:"path"`
	NoColor bool   `help:"Print diagnostics without colour." env:"NO_COLOR"`

	Plan       planCmd       `cmd:"" help:"Show which nodes are cached and which would run."`
	Apply      applyCmd      `cmd:"" help:"Run the nodes that are not cached."`
	Results    resultsCmd    `cmd:"" help:"Print the LLC estimates of the sampler nodes."`
	Validate   validateCmd   `cmd:"" help:"Check HCL files without touching the store."`
	Fmt        fmtCmd        `cmd:"" help:"Format HCL files."`
	Graph      graphCmd      `cmd:"" help:"Print the node graph in DOT."`
	Show       showCmd       `cmd:"" help:"Describe one run, by address or run id."`
	Runs       runsCmd       `cmd:"" help:"List the runs of the store, filtered by type, kind, status or age."`
	Check      checkCmd      `cmd:"" help:"Verify runs by re-hashing their files; failing runs are recomputed by the next apply."`
	Gc         gcCmd         `cmd:"" help:"Remove the runs that no kept HCL file references and report the bytes freed."`
	Report     reportCmd     `cmd:"" help:"Draw the plots and write an HTML report of the results."`
	Pull       pullCmd       `cmd:"" help:"Copy runs from the Modal volume into the local store."`
	ExecNode   execNodeCmd   `cmd:"" name:"exec-node" help:"Run one node from a spec file (what remote workers run)."`
	Completion completionCmd `cmd:"" help:"Print a shell completion script for bash, zsh or fish."`
	Version    versionCmd    `cmd:"" help:"Print the llcflow version."`
}

// exitError carries an exit code up to main. A nil err means the message
// was already printed.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string {
	if e.err == nil {
		return fmt.Sprintf("exit status %d", e.code)
	}
	return e.err.Error()
}

func (e *exitError) Unwrap() error { return e.err }

func main() {
	os.Exit(run(os.Args[1:]))
}

func run(args []string) int {
	var c cli
	parser, err := kong.New(&c,
		kong.Name("llcflow"),
		kong.Description("Plan and run local learning coefficient (LLC) experiments described in HCL files.\n\n"+
			"Exit codes: 0 success, 1 failure, 2 usage error, 3 (plan --detailed-exitcode) something would run."),
		kong.UsageOnError(),
		kong.ConfigureHelp(kong.HelpOptions{Compact: true}),
		kong.Exit(func(code int) { panic(kongExit(code)) }),
	)
	if err != nil {
		fmt.Fprintln(os.Stderr, "llcflow:", err)
		return exitFailure
	}
	return parseArgs(parser, args)
}

type kongExit int

// parseArgs parses and runs the command, turning kong's exits and our
// errors into exit codes.
func parseArgs(parser *kong.Kong, args []string) (code int) {
	defer func() {
		if r := recover(); r != nil {
			if k, ok := r.(kongExit); ok {
				code = int(k)
				return
			}
			panic(r)
		}
	}()
	kctx, err := parser.Parse(args)
	if err != nil {
		fmt.Fprintln(os.Stderr, "llcflow:", explainParseError(err))
		var perr *kong.ParseError
		if errors.As(err, &perr) {
			_ = perr.Context.PrintUsage(true)
		}
		return exitUsage
	}
	cfg := parser.Model.Target.Addr().Interface().(*cli)
	if err := kctx.Run(cfg); err != nil {
		var ee *exitError
		if errors.As(err, &ee) {
			if ee.err != nil {
				fmt.Fprintln(os.Stderr, "llcflow:", ee.err)
			}
			return ee.code
		}
		fmt.Fprintln(os.Stderr, "llcflow:", err)
		return exitFailure
	}
	return exitOK
}

// negativeValue matches kong's error for a flag value that starts with '-'
// and so reads as a flag, such as -j -1.
var negativeValue = regexp.MustCompile(`^(--[\w-]+): expected \w+ value but got "(-[0-9][^"]*)" \(short flag\)`)

// explainParseError rewords kong's error for a negative number, which
// suggests --flag="-1" although every count and duration of llcflow must
// be at least zero.
func explainParseError(err error) string {
	if m := negativeValue.FindStringSubmatch(err.Error()); m != nil {
		return fmt.Sprintf("%s %s: the value must not be negative", m[1], m[2])
	}
	return err.Error()
}
