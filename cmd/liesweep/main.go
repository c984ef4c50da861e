// Command liesweep discovers the continuous symmetries of a labelled dataset
// and the Lie algebra they form (Oracle-Preserving Latent Flows), one trial
// at a time (`liesweep train`) or as a sweep.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"strings"

	"github.com/liesweep/liesweep/datasets"
	"github.com/liesweep/liesweep/infra"
	"github.com/liesweep/liesweep/models"
	"github.com/liesweep/liesweep/sweeps"
	"github.com/spf13/cobra"
)

// Exit statuses (documented in the README's Commands section).
const (
	exitError   = 1   // anything else: a failed training, a corrupt artifact, …
	exitUsage   = 2   // bad flags or arguments, an invalid spec or sweep id
	exitInfra   = 3   // Temporal, the S3 store or Nomad could not be reached
	exitVerdict = 4   // --fail-on-verdict and the verdict failed
	exitSignal  = 130 // interrupted (Ctrl-C, SIGTERM); run the command again to resume
)

// usageError marks a mistake in the command line.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

// errVerdict is returned under --fail-on-verdict when the verdict failed.
var errVerdict = errors.New("the verdict failed")

// exitCode maps an error to the process's exit status.
func exitCode(err error) int {
	var ue usageError
	switch {
	case err == nil:
		return 0
	case errors.Is(err, errVerdict):
		return exitVerdict
	case errors.As(err, &ue), errors.Is(err, sweeps.ErrInvalidSpec), errors.Is(err, datasets.ErrBadData),
		strings.HasPrefix(err.Error(), "unknown command"), strings.HasPrefix(err.Error(), "unknown flag"),
		strings.HasPrefix(err.Error(), "unknown shorthand flag"), strings.Contains(err.Error(), "required flag"):
		return exitUsage
	case errors.Is(err, infra.ErrUnreachable), strings.Contains(err.Error(), "is unreachable"):
		return exitInfra
	case errors.Is(err, context.Canceled):
		return exitSignal
	}
	return exitError
}

// exitOnPanic, deferred first in main and in every goroutine a command
// starts, turns a panic into an internal error: a panic is a bug in
// liesweep, not a usage mistake, so it says so and exits 1 (the runtime's
// own exit status, 2, reads as usage).
func exitOnPanic() {
	if p := recover(); p != nil {
		fmt.Fprintf(os.Stderr, "liesweep: internal error (a bug in liesweep, not in your spec or data; please report it with this output): %v\n%s", p, debug.Stack())
		os.Exit(exitError)
	}
}

func main() {
	defer exitOnPanic()
	err := newRootCmd().Execute()
	if err != nil {
		fmt.Fprintln(os.Stderr, "liesweep:", err)
	}
	os.Exit(exitCode(err))
}

// version is the module version and VCS revision the binary was built
// from, with the BLAS it links.
func version() string {
	v, rev, dirty := "(devel)", "", false
	if bi, ok := debug.ReadBuildInfo(); ok {
		if bi.Main.Version != "" {
			v = bi.Main.Version
		}
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				rev = s.Value
			case "vcs.modified":
				dirty = s.Value == "true"
			}
		}
	}
	if len(rev) > 12 {
		rev = rev[:12]
	}
	if dirty {
		rev += "+modified"
	}
	if rev != "" {
		v += " (commit " + rev + ")"
	}
	return fmt.Sprintf("%s, %s, BLAS %s, %s/%s", v, runtime.Version(), models.BLAS, runtime.GOOS, runtime.GOARCH)
}

func newRootCmd() *cobra.Command {
	var (
		logLevel string
		verbose  bool
	)
	root := &cobra.Command{
		Use:           "liesweep",
		Short:         "Find the symmetry algebra of a dataset with oracle-preserving latent flows",
		Version:       version(),
		SilenceUsage:  true,
		SilenceErrors: true,
		Example: `  liesweep train --spec examples/so4.yaml --ng 6 --seed 1 --out out/so4   # one trial, no server
  liesweep run --spec examples/so3.yaml --out out/so3                     # a whole sweep, no server
  liesweep dev up && liesweep worker &                                    # the local stack
  liesweep sweep start --spec examples/so3.yaml --wait                    # a sweep on Temporal`,
		PersistentPreRunE: func(cmd *cobra.Command, args []string) error {
			if verbose && !cmd.Flags().Changed("log-level") {
				logLevel = "info"
			}
			if err := infra.SetLogLevel(logLevel); err != nil {
				return usageError{err}
			}
			return checkOutputFlags(cmd)
		},
	}
	root.PersistentFlags().StringVar(&logLevel, "log-level", "warn", "log level of the Temporal SDK and workers: debug, info, warn, error")
	root.PersistentFlags().BoolVarP(&verbose, "verbose", "v", false, "log at info level (--log-level info)")
	root.PersistentFlags().StringP("output", "o", "text", "output format of read commands: text or json")
	root.SetFlagErrorFunc(func(cmd *cobra.Command, err error) error { return usageError{err} })
	root.AddCommand(newTrainCmd(), newRunCmd(), newValidateCmd(), newSweepCmd(), newWorkerCmd(), newDevCmd(), newInfraCmd(), newBenchCmd())
	root.AddCommand(newBenchWorkloadCmd(), newBenchReadCmd())
	root.AddCommand(newSchemaCmd(), newDataCmd())
	markUsageErrors(root)
	return root
}

// markUsageErrors makes every command's argument check return a
// usageError, so a wrong number of arguments exits with exitUsage; a
// runnable command that declares no positional arguments takes none (a
// stray one, e.g. `run spec.yaml` for `run --spec spec.yaml`, was silently
// ignored).
func markUsageErrors(c *cobra.Command) {
	if !c.Runnable() && c.HasSubCommands() && c.HasParent() {
		// `liesweep sweep stat ID` printed sweep's help and exited 0
		c.Args = cobra.ArbitraryArgs
		c.RunE = func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 {
				return usageError{fmt.Errorf("unknown command %q for %q (its commands: %s)", args[0], cmd.CommandPath(), subcommandNames(cmd))}
			}
			return cmd.Help()
		}
	}
	if c.Args == nil && c.Runnable() {
		c.Args = cobra.NoArgs
	}
	if args := c.Args; args != nil {
		c.Args = func(cmd *cobra.Command, a []string) error {
			if err := args(cmd, a); err != nil {
				return usageError{err}
			}
			return nil
		}
	}
	for _, sub := range c.Commands() {
		markUsageErrors(sub)
	}
}

// jsonCommands are the commands that print JSON under -o json (validate
// and schema print JSON always); -o json anywhere else is refused rather
// than ignored.
var jsonCommands = map[string]bool{
	"liesweep validate": true, "liesweep schema": true, "liesweep train": true, "liesweep run": true,
	"liesweep data list": true, "liesweep dev status": true, "liesweep infra nomad status": true,
	"liesweep sweep start": true, "liesweep sweep resume": true, "liesweep sweep watch": true,
	"liesweep sweep status": true, "liesweep sweep report": true, "liesweep sweep compare": true,
	"liesweep sweep list": true,
}

// checkOutputFlags refuses an output format that is not text or json,
// -o json on a command that prints no JSON, and output flags that
// contradict each other (each would otherwise silently win over the other).
func checkOutputFlags(cmd *cobra.Command) error {
	o := outputFormat(cmd)
	if o != "text" && o != "json" {
		return usageError{fmt.Errorf("-o %s: want text or json", o)}
	}
	explicit := cmd.Flags().Changed("output")
	changed := func(name string) (string, bool) {
		f := cmd.Flags().Lookup(name)
		if f == nil || !f.Changed {
			return "", false
		}
		return f.Value.String(), true
	}
	switch {
	case o == "json" && !jsonCommands[cmd.CommandPath()]:
		return usageError{fmt.Errorf("-o json: %q prints text only; drop -o json", cmd.CommandPath())}
	case o == "json" && (cmd.Name() == "start" || cmd.Name() == "resume") && !flagSet(cmd, "wait"):
		return usageError{fmt.Errorf("-o json formats the verdict that --wait prints; add --wait (or drop -o json: without it %q prints the sweep id)", cmd.CommandPath())}
	}
	if f, ok := changed("format"); ok && explicit && (f == "json") != (o == "json") {
		return usageError{fmt.Errorf("--format %s and -o %s contradict each other; give one of them", f, o)}
	}
	if flagSet(cmd, "json") && explicit && o == "text" {
		return usageError{fmt.Errorf("--json and -o text contradict each other; give one of them")}
	}
	if o == "json" && flagSet(cmd, "reference") {
		return usageError{fmt.Errorf("--reference prints Markdown, -o json asks for JSON; give one of them (the schema itself is JSON)")}
	}
	return nil
}

// flagSet reports whether the boolean flag name is given and true.
func flagSet(cmd *cobra.Command, name string) bool {
	f := cmd.Flags().Lookup(name)
	return f != nil && f.Value.String() == "true"
}

// subcommandNames lists cmd's visible subcommands.
func subcommandNames(cmd *cobra.Command) string {
	var names []string
	for _, c := range cmd.Commands() {
		if c.IsAvailableCommand() {
			names = append(names, c.Name())
		}
	}
	return strings.Join(names, ", ")
}

// outputFormat is the value of the global -o flag.
func outputFormat(cmd *cobra.Command) string {
	if f := cmd.Flags().Lookup("output"); f != nil {
		return f.Value.String()
	}
	return "text"
}

// jsonOutput reports whether -o json was given.
func jsonOutput(cmd *cobra.Command) bool { return outputFormat(cmd) == "json" }
