// Command liesweep discovers the continuous symmetries of a labelled dataset
// and the Lie algebra they form (Oracle-Preserving Latent Flows), one trial
// at a time (`liesweep train`) or as a sweep.
package main

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"
)

func main() {
	if err := newRootCmd().Execute(); err != nil {
		fmt.Fprintln(os.Stderr, "liesweep:", err)
		os.Exit(1)
	}
}

func newRootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:           "liesweep",
		Short:         "Find the symmetry algebra of a dataset with oracle-preserving latent flows",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.AddCommand(newTrainCmd(), newRunCmd(), newValidateCmd(), newSweepCmd(), newWorkerCmd(), newDevCmd(), newInfraCmd(), newBenchCmd())
	root.AddCommand(newBenchWorkloadCmd())
	return root
}
