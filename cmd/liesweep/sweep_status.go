package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/liesweep/liesweep/activities"
	"github.com/liesweep/liesweep/infra"
	"github.com/liesweep/liesweep/sweeps"
	"github.com/liesweep/liesweep/workflows"
	"github.com/spf13/cobra"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/converter"
	"golang.org/x/term"
)

func waitAndReport(cmd *cobra.Command, s *session, id string, failOnVerdict bool) error {
	if err := watch(cmd.Context(), s, id, cmd.ErrOrStderr()); err != nil {
		if errors.Is(err, context.Canceled) {
			// Ctrl-C stops the watching, not the sweep: say how to go on
			// (running the same start again says the id exists)
			return fmt.Errorf("stopped watching sweep %s, which runs on: `liesweep sweep watch %s` follows it again, `liesweep sweep cancel %s` stops it (%w)", id, id, id, err)
		}
		return err
	}
	format := "table"
	if jsonOutput(cmd) {
		format = "json"
	}
	if err := printReport(cmd.Context(), s, id, format, cmd.OutOrStdout()); err != nil {
		return err
	}
	if failOnVerdict {
		return storedVerdictFailed(cmd.Context(), s, id)
	}
	return nil
}

// storedVerdictFailed is verdictFailed of the sweep's stored verdict.
func storedVerdictFailed(ctx context.Context, s *session, id string) error {
	rep, err := loadReport(ctx, s, id)
	if err != nil {
		return err
	}
	return verdictFailed(rep.Groups)
}

// verdictFailed is errVerdict when a (dataset, ℓ[, combination]) group
// found no closed algebra (max N_g = 0): what --fail-on-verdict fails on.
func verdictFailed(groups []sweeps.Group) error {
	if len(groups) == 0 {
		// every trial failed before a result (a bad stage, a NaN loss, …):
		// nothing passed, and exit 0 would read as success
		return fmt.Errorf("%w: no trial produced a result (see the report's notes for why each failed)", errVerdict)
	}
	var bad []string
	for _, g := range groups {
		if g.MaxNG == 0 {
			label := fmt.Sprintf("%s ℓ=%d", g.Dataset, g.LatentDim)
			if g.HyperLabel != "" {
				label += " " + g.HyperLabel
			}
			bad = append(bad, label)
		}
	}
	if len(bad) == 0 {
		return nil
	}
	return fmt.Errorf("%w: no N_g passed for %s", errVerdict, strings.Join(bad, "; "))
}

// trialView is one row of `sweep status`: the workflow's view of a trial
// joined with the heartbeat of its running activity.
type trialView struct {
	workflows.TrialStatus
	Activity string                `json:"activity,omitempty"`
	Attempt  int32                 `json:"attempt,omitempty"`
	Beat     *activities.Heartbeat `json:"heartbeat,omitempty"`
	// LastFailure is why the previous attempt failed, when Attempt > 1.
	LastFailure string `json:"last_failure,omitempty"`
}

// retryView is a pending activity being retried that no heartbeat ties to
// a trial (it failed before its first heartbeat): its attempt and why the
// last one failed, so a retry loop is never invisible.
type retryView struct {
	Activity    string `json:"activity"`
	Attempt     int32  `json:"attempt"`
	LastFailure string `json:"last_failure"`
}

type statusView struct {
	Sweep   string      `json:"sweep"`
	State   string      `json:"state"`
	Phase   string      `json:"phase"`
	Verdict string      `json:"verdict,omitempty"`
	Trials  []trialView `json:"trials"`
	Retries []retryView `json:"retries,omitempty"`
	Error   string      `json:"error,omitempty"`
}

func status(ctx context.Context, s *session, id string) (*statusView, error) {
	desc, err := s.client.DescribeWorkflowExecution(ctx, id, "")
	if err != nil {
		var nf *serviceerror.NotFound
		if errors.As(err, &nf) {
			return nil, usageError{fmt.Errorf("no sweep %q (list them with `liesweep sweep list`)", id)}
		}
		return nil, err
	}
	v := &statusView{Sweep: id, State: strings.ToLower(strings.TrimPrefix(desc.WorkflowExecutionInfo.Status.String(), "WORKFLOW_EXECUTION_STATUS_"))}
	resp, err := s.client.QueryWorkflow(ctx, id, "", workflows.ProgressQuery)
	if err != nil {
		return v, nil // e.g. failed before the handler was set
	}
	var p workflows.Progress
	if err := resp.Get(&p); err != nil {
		return nil, err
	}
	v.Phase, v.Verdict = p.Phase, p.Verdict
	// The pending activities (with their last heartbeat) of every running
	// child, described concurrently: a large sweep has many at once.
	// A grid sweep runs its trials' activities itself (no Child): the sweep
	// is described, once.
	owner := func(t workflows.TrialStatus) string {
		if t.Child == "" {
			return id
		}
		return t.Child
	}
	active := func(t workflows.TrialStatus) bool {
		return t.Stage == workflows.StagePreparing || t.Stage == workflows.StageTraining || t.Stage == workflows.StageAnalysing
	}
	beats := map[string][]trialView{}
	var running []string
	for _, t := range p.Trials {
		if _, seen := beats[owner(t)]; active(t) && !seen {
			beats[owner(t)] = nil
			running = append(running, owner(t))
		}
	}
	var (
		mu  sync.Mutex
		wg  sync.WaitGroup
		sem = make(chan struct{}, 8)
		dc  = converter.GetDefaultDataConverter()
	)
	for _, child := range running {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			cd, err := s.client.DescribeWorkflowExecution(ctx, child, "")
			if err != nil {
				return
			}
			var xs []trialView
			for _, pa := range cd.PendingActivities {
				x := trialView{Activity: pa.ActivityType.GetName(), Attempt: pa.Attempt}
				if pa.Attempt > 1 {
					x.LastFailure = pa.GetLastFailure().GetMessage()
				}
				if pa.HeartbeatDetails != nil {
					var hb activities.Heartbeat
					if dc.FromPayloads(pa.HeartbeatDetails, &hb) == nil {
						x.Beat = &hb
					}
				}
				xs = append(xs, x)
			}
			mu.Lock()
			beats[child] = xs
			mu.Unlock()
		}()
	}
	wg.Wait()
	for _, t := range p.Trials {
		tv := trialView{TrialStatus: t}
		if active(t) {
			for _, b := range beats[owner(t)] {
				// PrepareLatent (NG 0) serves every N_g of its (ℓ, seed);
				// the other activities carry their trial's N_g.
				if b.Beat != nil && b.Beat.Latent == t.Latent && b.Beat.Seed == t.Seed && b.Beat.Combo == t.Combo && (b.Beat.NG == t.NG || b.Beat.NG == 0 && t.Stage == workflows.StagePreparing) {
					tv.Activity, tv.Attempt, tv.Beat, tv.LastFailure = b.Activity, b.Attempt, b.Beat, b.LastFailure
				}
			}
		}
		v.Trials = append(v.Trials, tv)
	}
	for _, owned := range beats {
		for _, b := range owned {
			if b.Beat == nil && b.Attempt > 1 {
				v.Retries = append(v.Retries, retryView{Activity: b.Activity, Attempt: b.Attempt, LastFailure: b.LastFailure})
			}
		}
	}
	sort.Slice(v.Retries, func(i, j int) bool { return v.Retries[i].Attempt > v.Retries[j].Attempt })
	sort.Slice(v.Trials, func(i, j int) bool {
		a, b := v.Trials[i], v.Trials[j]
		if a.Combo != b.Combo {
			return a.Combo < b.Combo
		}
		if a.Latent != b.Latent {
			return a.Latent < b.Latent
		}
		if a.NG != b.NG {
			return a.NG < b.NG
		}
		return a.Seed < b.Seed
	})
	return v, nil
}

// hasCombos reports whether the sweep's trials span hyperparameter
// combinations (then each row says which: h<k>, as the result files).
func hasCombos(v *statusView) bool {
	for _, t := range v.Trials {
		if t.Combo > 0 {
			return true
		}
	}
	return false
}

func renderStatus(w io.Writer, v *statusView) {
	if v.Phase == "" {
		// no progress answered (no worker, or ended before it kept any)
		fmt.Fprintf(w, "sweep %s: %s (no progress recorded)\n", v.Sweep, v.State)
	} else {
		fmt.Fprintf(w, "sweep %s: %s (%s)\n", v.Sweep, v.State, v.Phase)
	}
	for _, t := range v.Trials {
		combo := ""
		if t.Combo > 0 || hasCombos(v) {
			combo = fmt.Sprintf("h%-2d ", t.Combo)
		}
		line := fmt.Sprintf("  %sℓ=%-3d N_g=%-3d seed=%-3d %-10s", combo, t.Latent, t.NG, t.Seed, t.Stage)
		switch {
		case t.Stage == workflows.StageDone && t.Passed != nil && *t.Passed:
			line += " passed"
		case t.Stage == workflows.StageDone:
			line += " failed on " + strings.Join(t.FailedOn, ", ")
		case t.Stage == workflows.StageFailed:
			line += " error: " + t.Error
		case t.Beat != nil && t.Beat.Epochs > 0:
			line += fmt.Sprintf(" %s %s epoch %d/%d %s", bar(t.Beat.Epoch, t.Beat.Epochs, 20), t.Beat.Stage, t.Beat.Epoch, t.Beat.Epochs, lossText(t.Beat.Losses))
		case t.Beat != nil:
			line += " " + t.Beat.Stage + " " + t.Beat.Note
		}
		if t.Attempt > 1 {
			line += fmt.Sprintf(" (attempt %d; last failure: %s)", t.Attempt, t.LastFailure)
		}
		if w := firstNonEmpty(t.Worker, beatWorker(t.Beat)); w != "" {
			line += " @" + w
		}
		fmt.Fprintln(w, line)
	}
	for _, r := range v.Retries {
		fmt.Fprintf(w, "  retrying %s, attempt %d; last failure: %s\n", r.Activity, r.Attempt, r.LastFailure)
	}
	if v.Verdict != "" {
		fmt.Fprintf(w, "verdict: %s\n", v.Verdict)
	}
}

func beatWorker(b *activities.Heartbeat) string {
	if b == nil {
		return ""
	}
	return b.Worker
}

func firstNonEmpty(s ...string) string {
	for _, x := range s {
		if x != "" {
			return x
		}
	}
	return ""
}

func bar(n, total, width int) string {
	if total <= 0 {
		return ""
	}
	k := n * width / total
	return "[" + strings.Repeat("#", k) + strings.Repeat(".", width-k) + "]"
}

func newSweepStatusCmd() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "status ID [-o json]",
		Short: "Show each trial's stage, epoch, latest losses, attempt and worker",
		Args:  cobra.ExactArgs(1),
		RunE: sessionRunE(func(cmd *cobra.Command, args []string, s *session) error {
			v, err := status(cmd.Context(), s, args[0])
			if err != nil {
				return err
			}
			if asJSON || jsonOutput(cmd) {
				enc := json.NewEncoder(cmd.OutOrStdout())
				enc.SetIndent("", "  ")
				return enc.Encode(v)
			}
			renderStatus(cmd.OutOrStdout(), v)
			return nil
		}),
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON (as -o json)")
	return cmd
}

// watch renders the status until the sweep ends; it returns an error when
// the sweep failed or was cancelled.
func watch(ctx context.Context, s *session, id string, w io.Writer) error {
	tty := false
	if f, ok := w.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		tty = true
	}
	last := ""
	var lastPollCheck time.Time
	idle := ""
	var downSince time.Time
	for {
		v, err := status(ctx, s, id)
		if err != nil {
			// A Temporal server that is down or restarting is waited for (the
			// sweep itself survives it): say so once, poll with backoff, and
			// give up only after serverWait.
			if ctx.Err() != nil || !transient(err) {
				return err
			}
			if downSince.IsZero() {
				downSince = time.Now()
				fmt.Fprintf(w, "[%s] Temporal at %s does not answer (%v); still waiting — the sweep goes on once it is back\n", time.Now().Format("15:04:05"), s.cfg.Temporal.Address, err)
			}
			if time.Since(downSince) > serverWait {
				return fmt.Errorf("%w: Temporal at %s has not answered for %s: %v (the sweep itself may still finish: `liesweep sweep watch %s` once the server is back)", infra.ErrUnreachable, s.cfg.Temporal.Address, serverWait, err, id)
			}
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(min(10*time.Second, time.Second+time.Since(downSince)/4)):
			}
			continue
		}
		if !downSince.IsZero() {
			fmt.Fprintf(w, "[%s] Temporal is back after %s\n", time.Now().Format("15:04:05"), time.Since(downSince).Round(time.Second))
			downSince = time.Time{}
		}
		if v.State == "running" && time.Since(lastPollCheck) > 5*time.Second {
			lastPollCheck = time.Now()
			if msg := idleQueues(ctx, s.client); msg != idle {
				if msg != "" {
					fmt.Fprintf(w, "[%s] %s\n", time.Now().Format("15:04:05"), msg)
				}
				idle = msg
			}
		}
		var b strings.Builder
		renderStatus(&b, v)
		if out := b.String(); tty {
			fmt.Fprint(w, "\033[H\033[2J"+out)
		} else if summary := summarize(v); summary != last {
			fmt.Fprintf(w, "[%s] %s\n", time.Now().Format("15:04:05"), summary)
			last = summary
		}
		switch v.State {
		case "running", "continued_as_new": // a large sweep's next run takes over
		case "completed":
			return nil
		default:
			return fmt.Errorf("sweep %s %s: see `liesweep sweep status %s`; `liesweep sweep resume %s` re-runs what is missing", id, v.State, id, id)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Second):
		}
	}
}

// queueDescriber is the part of the Temporal client idleQueues needs.
type queueDescriber interface {
	DescribeTaskQueue(ctx context.Context, taskQueue string, taskQueueType enumspb.TaskQueueType) (*workflowservice.DescribeTaskQueueResponse, error)
}

// serverWait is how long watch waits for an unreachable Temporal server.
const serverWait = 15 * time.Minute

// transient reports whether an error from Temporal may go away by itself:
// the server unavailable, restarting, or slow to answer.
func transient(err error) bool {
	var unavailable *serviceerror.Unavailable
	var deadline *serviceerror.DeadlineExceeded
	msg := err.Error()
	return errors.As(err, &unavailable) || errors.As(err, &deadline) || errors.Is(err, context.DeadlineExceeded) ||
		strings.Contains(msg, "connection refused") || strings.Contains(msg, "Unavailable") || strings.Contains(msg, "context deadline exceeded")
}

// idleQueues names the task queues the sweep needs that no worker polls
// (Temporal's DescribeTaskQueue), with what to do; "" when every queue has
// a worker. The sweep waits for one either way.
func idleQueues(ctx context.Context, c queueDescriber) string {
	var missing []string
	for _, q := range []struct {
		name string
		typ  enumspb.TaskQueueType
	}{
		{workflows.TaskQueue, enumspb.TASK_QUEUE_TYPE_WORKFLOW},
		{workflows.TaskQueue, enumspb.TASK_QUEUE_TYPE_ACTIVITY},
		{workflows.TrainQueue, enumspb.TASK_QUEUE_TYPE_ACTIVITY},
	} {
		resp, err := c.DescribeTaskQueue(ctx, q.name, q.typ)
		if err != nil {
			return "" // the check is advice: a server that cannot answer it says nothing
		}
		if len(resp.GetPollers()) == 0 && !slices.Contains(missing, q.name) {
			missing = append(missing, q.name)
		}
	}
	if len(missing) == 0 {
		return ""
	}
	return fmt.Sprintf("no worker is serving queue %s; start one with `liesweep worker` (the sweep waits for it)", strings.Join(missing, " and "))
}

func summarize(v *statusView) string {
	counts := map[string]int{}
	for _, t := range v.Trials {
		counts[t.Stage]++
	}
	var parts []string
	for _, st := range []string{workflows.StagePending, workflows.StagePreparing, workflows.StageTraining, workflows.StageAnalysing, workflows.StageDone, workflows.StageFailed} {
		if counts[st] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", counts[st], st))
		}
	}
	if v.Phase == "" && len(parts) == 0 {
		// the progress query went unanswered (the line read
		// "[15:04:05] : "): a running sweep needs a worker polling its
		// queue to answer; an ended one may have failed before it kept any
		if v.State != "running" {
			return fmt.Sprintf("%s: the sweep recorded no progress (`liesweep sweep status %s` says what ended it)", v.State, v.Sweep)
		}
		return fmt.Sprintf("%s: no progress to show: no worker answers the sweep's queries (is `liesweep worker` running against this Temporal?)", v.State)
	}
	return fmt.Sprintf("%s: %s", v.Phase, strings.Join(parts, ", "))
}

func newSweepWatchCmd() *cobra.Command {
	var failOnVerdict bool
	cmd := &cobra.Command{
		Use:   "watch ID",
		Short: "Follow a sweep live until it ends, then print its verdict",
		Args:  cobra.ExactArgs(1),
		RunE: sessionRunE(func(cmd *cobra.Command, args []string, s *session) error {
			return waitAndReport(cmd, s, args[0], failOnVerdict)
		}),
	}
	cmd.Flags().BoolVar(&failOnVerdict, "fail-on-verdict", false, "exit 4 when a (dataset, ℓ) group found no closed algebra")
	return cmd
}
