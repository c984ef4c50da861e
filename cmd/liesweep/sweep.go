package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/liesweep/liesweep/activities"
	"github.com/liesweep/liesweep/infra"
	"github.com/liesweep/liesweep/pipeline"
	"github.com/liesweep/liesweep/report"
	"github.com/liesweep/liesweep/sweeps"
	"github.com/liesweep/liesweep/workflows"
	"github.com/spf13/cobra"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	"golang.org/x/term"
)

func newSweepCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "sweep", Short: "Run and inspect sweeps on Temporal"}
	addConfigFlags(cmd)
	cmd.AddCommand(newSweepStartCmd(), newSweepStatusCmd(), newSweepWatchCmd(), newSweepResumeCmd(),
		newSweepCancelCmd(), newSweepListCmd(), newSweepReportCmd(), newSweepCompareCmd())
	return cmd
}

type session struct {
	cfg    infra.Config
	client client.Client
	store  sweeps.ArtifactStore
}

func connect(cmd *cobra.Command) (*session, error) {
	cfg, err := loadConfig(cmd)
	if err != nil {
		return nil, err
	}
	st, err := cfg.Store()
	if err != nil {
		return nil, err
	}
	if err := st.EnsureBucket(cmd.Context()); err != nil {
		return nil, err
	}
	c, err := cfg.Dial(cmd.Context())
	if err != nil {
		return nil, err
	}
	return &session{cfg: cfg, client: c, store: st}, nil
}

func startSweep(ctx context.Context, s *session, id string, spec *sweeps.Spec, w io.Writer) error {
	b, _ := json.MarshalIndent(spec, "", "  ")
	if err := s.store.Put(ctx, sweeps.SpecKey(id), b); err != nil {
		return fmt.Errorf("store spec: %w", err)
	}
	_, err := s.client.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		ID:                    id,
		TaskQueue:             workflows.TaskQueue,
		WorkflowIDReusePolicy: enumspb.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE_FAILED_ONLY,
	}, "SweepWorkflow", workflows.SweepInput{SweepID: id, Spec: *spec})
	if err != nil {
		var already *serviceerror.WorkflowExecutionAlreadyStarted
		if errors.As(err, &already) {
			return fmt.Errorf("sweep %s already exists (running or completed): pick another --id, or `liesweep sweep resume %s` if it failed", id, id)
		}
		return fmt.Errorf("start sweep: %w", err)
	}
	fmt.Fprintf(w, "sweep %s started\n  web UI: %s\n", id, s.cfg.WorkflowURL(id))
	return nil
}

func newSweepStartCmd() *cobra.Command {
	var specPath, id string
	var wait bool
	cmd := &cobra.Command{
		Use:   "start --spec FILE [--id ID] [--wait]",
		Short: "Validate a spec and start its sweep; prints the sweep id and its Web UI link",
		RunE: func(cmd *cobra.Command, args []string) error {
			spec, err := loadSpecFile(specPath) // rejected here, before anything is scheduled
			if err != nil {
				return err
			}
			if id == "" {
				name := spec.Name
				if name == "" {
					name = "sweep"
				}
				id = fmt.Sprintf("%s-%s", name, time.Now().UTC().Format("20060102-150405"))
			}
			s, err := connect(cmd)
			if err != nil {
				return err
			}
			defer s.client.Close()
			if err := startSweep(cmd.Context(), s, id, spec, cmd.OutOrStdout()); err != nil {
				return err
			}
			if !wait {
				return nil
			}
			return waitAndReport(cmd, s, id)
		},
	}
	cmd.Flags().StringVar(&specPath, "spec", "", "sweep spec (YAML)")
	cmd.Flags().StringVar(&id, "id", "", "sweep id (default: <name>-<UTC time>)")
	cmd.Flags().BoolVar(&wait, "wait", false, "watch the sweep until it ends, then print the verdict")
	cmd.MarkFlagRequired("spec")
	return cmd
}

func waitAndReport(cmd *cobra.Command, s *session, id string) error {
	if err := watch(cmd.Context(), s, id, cmd.ErrOrStderr()); err != nil {
		return err
	}
	return printReport(cmd.Context(), s, id, "table", cmd.OutOrStdout())
}

// trialView is one row of `sweep status`: the workflow's view of a trial
// joined with the heartbeat of its running activity.
type trialView struct {
	workflows.TrialStatus
	Activity string                `json:"activity,omitempty"`
	Attempt  int32                 `json:"attempt,omitempty"`
	Beat     *activities.Heartbeat `json:"heartbeat,omitempty"`
}

type statusView struct {
	Sweep   string      `json:"sweep"`
	State   string      `json:"state"`
	Phase   string      `json:"phase"`
	Verdict string      `json:"verdict,omitempty"`
	Trials  []trialView `json:"trials"`
	Error   string      `json:"error,omitempty"`
}

func status(ctx context.Context, s *session, id string) (*statusView, error) {
	desc, err := s.client.DescribeWorkflowExecution(ctx, id, "")
	if err != nil {
		var nf *serviceerror.NotFound
		if errors.As(err, &nf) {
			return nil, fmt.Errorf("no sweep %q (list them with `liesweep sweep list`)", id)
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
	beats := map[string][]trialView{}
	dc := converter.GetDefaultDataConverter()
	for _, t := range p.Trials {
		tv := trialView{TrialStatus: t}
		if t.Child != "" && (t.Stage == workflows.StagePreparing || t.Stage == workflows.StageTraining || t.Stage == workflows.StageAnalysing) {
			if _, ok := beats[t.Child]; !ok {
				beats[t.Child] = nil
				if cd, err := s.client.DescribeWorkflowExecution(ctx, t.Child, ""); err == nil {
					for _, pa := range cd.PendingActivities {
						x := trialView{Activity: pa.ActivityType.GetName(), Attempt: pa.Attempt}
						if pa.HeartbeatDetails != nil {
							var hb activities.Heartbeat
							if dc.FromPayloads(pa.HeartbeatDetails, &hb) == nil {
								x.Beat = &hb
							}
						}
						beats[t.Child] = append(beats[t.Child], x)
					}
				}
			}
			for _, b := range beats[t.Child] {
				// PrepareLatent (NG 0) serves every trial of the child; the
				// other activities carry their trial's N_g.
				if b.Beat != nil && (b.Beat.NG == 0 || b.Beat.NG == t.NG) {
					tv.Activity, tv.Attempt, tv.Beat = b.Activity, b.Attempt, b.Beat
				}
			}
		}
		v.Trials = append(v.Trials, tv)
	}
	sort.Slice(v.Trials, func(i, j int) bool {
		a, b := v.Trials[i], v.Trials[j]
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

func renderStatus(w io.Writer, v *statusView) {
	fmt.Fprintf(w, "sweep %s: %s (%s)\n", v.Sweep, v.State, v.Phase)
	for _, t := range v.Trials {
		line := fmt.Sprintf("  ℓ=%-3d N_g=%-3d seed=%-3d %-10s", t.Latent, t.NG, t.Seed, t.Stage)
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
			line += fmt.Sprintf(" (attempt %d)", t.Attempt)
		}
		if w := firstNonEmpty(t.Worker, beatWorker(t.Beat)); w != "" {
			line += " @" + w
		}
		fmt.Fprintln(w, line)
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
		Use:   "status ID [--json]",
		Short: "Show each trial's stage, epoch, latest losses, attempt and worker",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			s, err := connect(cmd)
			if err != nil {
				return err
			}
			defer s.client.Close()
			v, err := status(cmd.Context(), s, args[0])
			if err != nil {
				return err
			}
			if asJSON {
				enc := json.NewEncoder(cmd.OutOrStdout())
				enc.SetIndent("", "  ")
				return enc.Encode(v)
			}
			renderStatus(cmd.OutOrStdout(), v)
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
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
	for {
		v, err := status(ctx, s, id)
		if err != nil {
			return err
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
		case "running":
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
	return fmt.Sprintf("%s: %s", v.Phase, strings.Join(parts, ", "))
}

func newSweepWatchCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "watch ID",
		Short: "Follow a sweep live until it ends",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			s, err := connect(cmd)
			if err != nil {
				return err
			}
			defer s.client.Close()
			return waitAndReport(cmd, s, args[0])
		},
	}
}

func newSweepResumeCmd() *cobra.Command {
	var wait bool
	cmd := &cobra.Command{
		Use:   "resume ID [--wait]",
		Short: "Re-run a failed or cancelled sweep; finished stages are reused from the store",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			id := args[0]
			s, err := connect(cmd)
			if err != nil {
				return err
			}
			defer s.client.Close()
			desc, err := s.client.DescribeWorkflowExecution(cmd.Context(), id, "")
			if err == nil {
				switch desc.WorkflowExecutionInfo.Status {
				case enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING:
					return fmt.Errorf("sweep %s is still running", id)
				case enumspb.WORKFLOW_EXECUTION_STATUS_COMPLETED:
					return fmt.Errorf("sweep %s completed: nothing to resume (see `liesweep sweep report %s`)", id, id)
				}
			}
			b, err := s.store.Get(cmd.Context(), sweeps.SpecKey(id))
			if err != nil {
				return fmt.Errorf("read the spec of sweep %s: %w", id, err)
			}
			var spec sweeps.Spec
			if err := json.Unmarshal(b, &spec); err != nil {
				return fmt.Errorf("spec of sweep %s: %w", id, err)
			}
			if err := startSweep(cmd.Context(), s, id, &spec, cmd.OutOrStdout()); err != nil {
				return err
			}
			if wait {
				return waitAndReport(cmd, s, id)
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&wait, "wait", false, "watch until it ends")
	return cmd
}

func newSweepCancelCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "cancel ID",
		Short: "Cancel a running sweep (running trainings stop at their next heartbeat)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			s, err := connect(cmd)
			if err != nil {
				return err
			}
			defer s.client.Close()
			if err := s.client.CancelWorkflow(cmd.Context(), args[0], ""); err != nil {
				return fmt.Errorf("cancel %s: %w", args[0], err)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "sweep %s: cancel requested\n", args[0])
			return nil
		},
	}
}

func newSweepListCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "list",
		Short: "List sweeps, newest first",
		RunE: func(cmd *cobra.Command, args []string) error {
			s, err := connect(cmd)
			if err != nil {
				return err
			}
			defer s.client.Close()
			resp, err := s.client.ListWorkflow(cmd.Context(), &workflowservice.ListWorkflowExecutionsRequest{Namespace: s.cfg.Temporal.Namespace, Query: "WorkflowType='SweepWorkflow'"})
			if err != nil {
				return err
			}
			for _, e := range resp.Executions {
				st := strings.ToLower(strings.TrimPrefix(e.Status.String(), "WORKFLOW_EXECUTION_STATUS_"))
				fmt.Fprintf(cmd.OutOrStdout(), "%-40s %-11s started %s\n", e.Execution.WorkflowId, st, e.StartTime.AsTime().Local().Format(time.DateTime))
			}
			return nil
		},
	}
}

func loadReport(ctx context.Context, s *session, id string) (*sweeps.VerdictDoc, error) {
	b, err := s.store.Get(ctx, sweeps.VerdictKey(id))
	if err != nil {
		if errors.Is(err, sweeps.ErrNotFound) {
			return nil, fmt.Errorf("sweep %s has no verdict yet (is it finished? `liesweep sweep status %s`)", id, id)
		}
		return nil, err
	}
	var rep sweeps.VerdictDoc
	if err := json.Unmarshal(b, &rep); err != nil {
		return nil, fmt.Errorf("verdict of %s: %w", id, err)
	}
	return &rep, nil
}

// renderReport renders a verdict in one format.
func renderReport(rep *sweeps.VerdictDoc, format string) (string, error) {
	switch format {
	case "json":
		b, _ := json.MarshalIndent(map[string]any{"sweep": rep.Sweep, "groups": rep.Groups}, "", "  ")
		return string(b) + "\n", nil
	case "table":
		out := fmt.Sprintf("sweep %s\n%s", rep.Sweep, sweeps.FormatTable(rep.Groups))
		for _, n := range rep.Notes {
			out += "note: " + n + "\n"
		}
		return out, nil
	case "csv":
		return sweeps.FormatCSV(rep.Sweep, rep.Groups), nil
	case "md":
		return sweeps.FormatMarkdown(rep.Sweep, rep.Groups), nil
	}
	return "", fmt.Errorf("--format %q: want table, md, html, csv or json", format)
}

func printReport(ctx context.Context, s *session, id, format string, w io.Writer) error {
	rep, err := loadReport(ctx, s, id)
	if err != nil {
		return err
	}
	if format == "html" {
		full, err := buildPlots(ctx, s.store, s.cfg.MNISTDir, id, rep)
		if err != nil {
			return err
		}
		_, err = w.Write(full.HTML())
		return err
	}
	text, err := renderReport(rep, format)
	if err != nil {
		return err
	}
	_, err = io.WriteString(w, text)
	return err
}

// buildPlots renders the full report (plots, Markdown, HTML) from the
// artifacts the sweep's trials stored.
func buildPlots(ctx context.Context, store sweeps.ArtifactStore, mnistDir, id string, rep *sweeps.VerdictDoc) (*report.Report, error) {
	r := &pipeline.Runner{Store: store, MNISTDir: mnistDir}
	full, err := report.Build(ctx, r, &rep.Spec, id, rep.Groups, rep.Notes, report.DefaultOptions())
	if err != nil {
		return nil, fmt.Errorf("plots of sweep %s: %w", id, err)
	}
	for _, w := range full.Warnings {
		fmt.Fprintln(os.Stderr, "liesweep: warning:", w)
	}
	return full, nil
}

// reportFiles are every file of a sweep's report by name: the verdict in
// each text format, the Markdown and HTML reports with their plots, and
// flows.json (the tangency and streamline measurements).
func reportFiles(rep *sweeps.VerdictDoc, full *report.Report) map[string][]byte {
	files := full.Files()
	for format, name := range map[string]string{"table": "report.txt", "csv": "trials.csv", "json": "verdict.json"} {
		text, _ := renderReport(rep, format)
		files[name] = []byte(text)
	}
	flows, err := json.MarshalIndent(map[string]any{"tangency": full.Tangency, "streamlines": full.Drift, "morphing": full.Morph}, "", "  ")
	if err != nil {
		fmt.Fprintln(os.Stderr, "liesweep: warning: flows.json not written:", err)
	} else {
		files["flows.json"] = append(flows, '\n')
	}
	return files
}

// writeFiles writes files under dir, creating folders as needed.
func writeFiles(dir string, files map[string][]byte) error {
	for name, b := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(p, b, 0o644); err != nil {
			return err
		}
	}
	return nil
}

// writeReports writes every file of the report to dir and beside the sweep
// in the bucket (sweeps/<id>/report/…).
func writeReports(ctx context.Context, s *session, id, dir string) error {
	rep, err := loadReport(ctx, s, id)
	if err != nil {
		return err
	}
	full, err := buildPlots(ctx, s.store, s.cfg.MNISTDir, id, rep)
	if err != nil {
		return err
	}
	files := reportFiles(rep, full)
	if err := writeFiles(dir, files); err != nil {
		return err
	}
	for name, b := range files {
		if err := s.store.Put(ctx, "sweeps/"+id+"/report/"+name, b); err != nil {
			return fmt.Errorf("store report %s: %w", name, err)
		}
	}
	return nil
}

func newSweepReportCmd() *cobra.Command {
	var format, out string
	cmd := &cobra.Command{
		Use:   "report ID [--format table|md|html|csv|json] [--out DIR]",
		Short: "Print a finished sweep's verdict; --out also writes the full report with plots to DIR and beside the sweep in the bucket",
		Long: `report prints a finished sweep's verdict in one format: table (the default),
md (the verdict tables), csv (one row per trial), json (the verdict object) or
html (the whole report as one self-contained page, plots embedded).

With --out DIR it also writes the whole report to DIR and to
sweeps/<ID>/report/ in the bucket: report.html (self-contained), report.md
with plots/*.png (training curves, metrics against N_g, the latent space with
ψ and the flows for ℓ = 2, projections for ℓ = 3, decoded streamlines for
MNIST), report.txt, trials.csv, verdict.json and flows.json (how tangent each
flow is to ψ's level sets, and how far ψ's class probability drifted along
each streamline).`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			s, err := connect(cmd)
			if err != nil {
				return err
			}
			defer s.client.Close()
			if out != "" {
				if err := writeReports(cmd.Context(), s, args[0], out); err != nil {
					return err
				}
				fmt.Fprintf(cmd.ErrOrStderr(), "report written to %s (open %s) and sweeps/%s/report/ in the bucket\n", out, filepath.Join(out, "report.html"), args[0])
			}
			return printReport(cmd.Context(), s, args[0], format, cmd.OutOrStdout())
		},
	}
	cmd.Flags().StringVar(&format, "format", "table", "table, md, html, csv or json")
	cmd.Flags().StringVar(&out, "out", "", "also write the whole report (HTML, Markdown with PNG plots, CSV, JSON) here")
	return cmd
}

func newSweepCompareCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "compare ID1 ID2",
		Short: "Two sweeps' verdicts side by side, differences marked with *",
		Args:  cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			s, err := connect(cmd)
			if err != nil {
				return err
			}
			defer s.client.Close()
			a, err := loadReport(cmd.Context(), s, args[0])
			if err != nil {
				return err
			}
			b, err := loadReport(cmd.Context(), s, args[1])
			if err != nil {
				return err
			}
			fmt.Fprint(cmd.OutOrStdout(), sweeps.FormatCompare(args[0], a.Groups, args[1], b.Groups))
			return nil
		},
	}
}
