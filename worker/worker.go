// Package worker wires the workflows and activities onto Temporal task
// queues.
package worker

import (
	"fmt"
	"sync"
	"time"

	"github.com/liesweep/liesweep/activities"
	"github.com/liesweep/liesweep/workflows"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"
)

// Options choose what a worker serves.
type Options struct {
	// Queues to serve: workflows.TaskQueue (orchestration, closure analysis, aggregation)
	// and/or workflows.TrainQueue (training). Empty means both.
	Queues []string
	// TrainSlots is how many training activities run at once (one per GPU
	// on a GPU node; configurable on CPU nodes).
	TrainSlots int
	// StopTimeout is how long stop waits for running activities: a
	// training told to stop (models.WithStop) checkpoints at the end of its
	// epoch and hands its activity back within it; what is still running
	// then is cancelled and retried from its last periodic checkpoint.
	StopTimeout time.Duration
}

// Start starts workers for the queues and returns a function that stops
// them.
func Start(c client.Client, acts *activities.Activities, opts Options) (stop func(), err error) {
	queues := opts.Queues
	if len(queues) == 0 {
		queues = []string{workflows.TaskQueue, workflows.TrainQueue}
	}
	var started []worker.Worker
	// The workers stop at once, side by side: a worker's stop channel (which
	// the trainings watch to hand back) closes only when its own Stop is
	// called, and one after the other could take twice StopTimeout, past
	// the scheduler's kill timeout.
	stop = func() {
		var wg sync.WaitGroup
		for _, w := range started {
			wg.Add(1)
			go func() {
				defer wg.Done()
				w.Stop()
			}()
		}
		wg.Wait()
	}
	for _, q := range queues {
		var w worker.Worker
		switch q {
		case workflows.TaskQueue:
			w = worker.New(c, q, worker.Options{WorkerStopTimeout: opts.StopTimeout})
			w.RegisterWorkflowWithOptions(workflows.SweepWorkflow, workflow.RegisterOptions{Name: "SweepWorkflow"})
			w.RegisterWorkflowWithOptions(workflows.LatentWorkflow, workflow.RegisterOptions{Name: "LatentWorkflow"})
			w.RegisterActivity(acts.Aggregate)
			w.RegisterActivity(acts.AnalyzeClosure)
		case workflows.TrainQueue:
			slots := opts.TrainSlots
			if slots < 1 {
				slots = 1
			}
			w = worker.New(c, q, worker.Options{MaxConcurrentActivityExecutionSize: slots, WorkerStopTimeout: opts.StopTimeout})
			w.RegisterActivity(acts.PrepareLatent)
			w.RegisterActivity(acts.TrainGenerators)
		default:
			stop()
			return nil, fmt.Errorf("unknown task queue %q (want %s or %s)", q, workflows.TaskQueue, workflows.TrainQueue)
		}
		if err := w.Start(); err != nil {
			stop()
			return nil, fmt.Errorf("start worker on %s: %w", q, err)
		}
		started = append(started, w)
	}
	return stop, nil
}
