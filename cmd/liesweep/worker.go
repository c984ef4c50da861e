package main

import (
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/liesweep/liesweep/activities"
	"github.com/liesweep/liesweep/pipeline"
	"github.com/liesweep/liesweep/sweeps"
	"github.com/liesweep/liesweep/worker"
	"github.com/liesweep/liesweep/workflows"
	"github.com/spf13/cobra"
)

func newWorkerCmd() *cobra.Command {
	var queues []string
	var slots int
	var name string
	var stopTimeout time.Duration
	cmd := &cobra.Command{
		Use:   "worker [--queue Q]... [--slots N]",
		Short: "Serve sweeps: workflows (queue liesweep) and/or training (queue liesweep-train)",
		PreRunE: func(cmd *cobra.Command, args []string) error {
			if slots < 1 || slots > sweeps.MaxSlots {
				return usageError{fmt.Errorf("--slots %d: want 1…%d trainings at a time (MaxSlots)", slots, sweeps.MaxSlots)}
			}
			for _, q := range queues {
				if q != workflows.TaskQueue && q != workflows.TrainQueue {
					return usageError{fmt.Errorf("--queue %q: want %s or %s", q, workflows.TaskQueue, workflows.TrainQueue)}
				}
			}
			if stopTimeout < time.Second {
				return usageError{fmt.Errorf("--stop-timeout %v: want at least 1s (the time running trainings get to checkpoint and hand back)", stopTimeout)}
			}
			return nil
		},
		RunE: sessionRunE(func(cmd *cobra.Command, args []string, s *session) error {
			if name == "" {
				name = fmt.Sprintf("%s/pid%d", pipeline.Hostname(), os.Getpid())
			}
			// a GPU node's workers say which GPU they hold (Nomad and the
			// NVIDIA container runtime set NVIDIA_VISIBLE_DEVICES)
			if gpu := os.Getenv("NVIDIA_VISIBLE_DEVICES"); gpu != "" && gpu != "all" && gpu != "none" {
				name += "/gpu" + gpu
			}
			acts := &activities.Activities{Store: s.store, MNISTDir: s.cfg.MNISTDir, Worker: name}
			stop, err := worker.Start(s.client, acts, worker.Options{Queues: queues, TrainSlots: slots, StopTimeout: stopTimeout})
			if err != nil {
				return err
			}
			defer stop()
			q := "liesweep, liesweep-train"
			if len(queues) > 0 {
				q = strings.Join(queues, ", ")
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "worker %s serving %s on %s (training slots %d)\n", name, q, s.cfg.Temporal.Address, max(1, slots))
			sig := make(chan os.Signal, 1)
			signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
			<-sig
			fmt.Fprintf(cmd.ErrOrStderr(), "worker stopping: no new tasks; running trainings checkpoint at the end of their epoch and hand back (up to %v; a second signal exits at once)\n", stopTimeout)
			go func() {
				<-sig
				fmt.Fprintln(cmd.ErrOrStderr(), "worker: second signal, exiting without waiting (Temporal retries what it held from its last checkpoint)")
				os.Exit(130)
			}()
			return nil
		}),
	}
	addConfigFlags(cmd)
	cmd.Flags().StringSliceVar(&queues, "queue", nil, "task queue(s) to serve: liesweep, liesweep-train (default both)")
	cmd.Flags().DurationVar(&stopTimeout, "stop-timeout", 25*time.Second, "on SIGINT/SIGTERM, how long running trainings get to checkpoint at the end of their epoch and hand back (keep it under the scheduler's kill timeout)")
	cmd.Flags().IntVar(&slots, "slots", 1, "training activities at once (one per GPU; CPU nodes: as configured)")
	cmd.Flags().StringVar(&name, "name", "", "worker name shown in progress and results (default host/pid)")
	cmd.Flags().String("mnist-dir", "", "folder with the MNIST IDX .gz files")
	return cmd
}
