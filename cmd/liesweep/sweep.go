package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/liesweep/liesweep/activities"
	"github.com/liesweep/liesweep/infra"
	"github.com/liesweep/liesweep/pipeline"
	"github.com/liesweep/liesweep/sweeps"
	"github.com/liesweep/liesweep/workflows"
	"github.com/spf13/cobra"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
)

func newSweepCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "sweep", Short: "Run and inspect sweeps on Temporal"}
	addConfigFlags(cmd)
	cmd.AddCommand(newSweepStartCmd(), newSweepStatusCmd(), newSweepWatchCmd(), newSweepResumeCmd(),
		newSweepCancelCmd(), newSweepListCmd(), newSweepReportCmd(), newSweepCompareCmd())
	for _, c := range cmd.Commands() {
		if c.Name() != "start" && c.Name() != "list" {
			c.ValidArgsFunction = completeSweepIDs
		}
	}
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

// withSession connects (connect), runs f with the session and closes it.
func withSession(cmd *cobra.Command, f func(s *session) error) error {
	s, err := connect(cmd)
	if err != nil {
		return err
	}
	defer s.client.Close()
	return f(s)
}

// sessionRunE is the RunE of a command that works in a session from its
// start (withSession).
func sessionRunE(run func(cmd *cobra.Command, args []string, s *session) error) func(*cobra.Command, []string) error {
	return func(cmd *cobra.Command, args []string) error {
		// every positional argument of these commands is a sweep id: one
		// that no sweep can have is a usage mistake, said before any
		// server is asked (a non-ASCII id leaked a gRPC header error)
		for _, id := range args {
			if sweeps.ValidateID(id) != nil {
				return usageError{fmt.Errorf("%q is not a sweep id (sweep ids are 1–128 letters, digits, '.', '_' or '-', starting with a letter or digit): `liesweep sweep list` shows them", id)}
			}
		}
		return withSession(cmd, func(s *session) error { return run(cmd, args, s) })
	}
}

// sweepMissing lists what a completed sweep lacks and a re-run recreates:
// the results of grid trials (activities.MissingResults) and the objects
// that its trials' results name and the store no longer has
// (pipeline.MissingArtifacts).
func sweepMissing(ctx context.Context, s *session, id string) ([]string, error) {
	rep, err := loadReport(ctx, s, id)
	if err != nil {
		return nil, err
	}
	// trials of the grid that have no result (each failed, or its result
	// was deleted): the note of the verdict says resume runs them
	keys, err := s.store.List(ctx, sweeps.ResultsPrefix(id))
	if err != nil {
		return nil, err
	}
	gone := activities.MissingResults(&rep.Spec, id, keys)
	for _, g := range rep.Groups {
		spec := &rep.Spec
		if combos, err := rep.Spec.Combos(); err == nil && g.Combo >= 0 && g.Combo < len(combos) && len(rep.Spec.Axes) > 0 {
			spec = &combos[g.Combo].Spec
		}
		for _, lv := range g.Levels {
			for _, t := range lv.Trials {
				miss, err := pipeline.MissingArtifacts(ctx, s.store, spec, t)
				if err != nil {
					return nil, err
				}
				gone = append(gone, miss...)
			}
		}
	}
	return gone, nil
}

// startSweep starts the sweep's workflow. A new sweep (resume false) first
// stores its spec, and refuses an id whose objects exist, so starting never
// overwrites another sweep's spec; a resume reuses the stored spec.
func startSweep(ctx context.Context, s *session, id string, spec *sweeps.Spec, resume bool, w io.Writer) error {
	if err := sweeps.ValidateID(id); err != nil {
		return err
	}
	if !resume {
		exists, err := s.store.Exists(ctx, sweeps.SpecKey(id))
		if err != nil {
			return fmt.Errorf("check whether sweep %s exists: %w", id, err)
		}
		if exists {
			return fmt.Errorf("sweep %s already exists in the bucket (%s): pick another --id, or `liesweep sweep resume %s` to re-run it", id, sweeps.SpecKey(id), id)
		}
		b, err := json.MarshalIndent(spec, "", "  ")
		if err != nil {
			return err
		}
		if err := s.store.Put(ctx, sweeps.SpecKey(id), b); err != nil {
			return fmt.Errorf("store spec: %w", err)
		}
	}
	// A new sweep may reuse the id of a failed one only; resume (which
	// checked the sweep's state) may also re-run a completed one, and
	// checks the stored spec with the oldest rules: it was accepted when
	// it started, and a check added since must not refuse it now (the
	// user cannot edit a stored spec).
	policy := enumspb.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE_FAILED_ONLY
	in := workflows.SweepInput{SweepID: id, Spec: *spec}
	if resume {
		policy = enumspb.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE
		accepted := sweeps.RulesOriginal
		in.Rules = &accepted
	}
	_, err := s.client.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		ID:                    id,
		TaskQueue:             workflows.TaskQueue,
		WorkflowIDReusePolicy: policy,
	}, "SweepWorkflow", in)
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
	var wait, failOnVerdict bool
	cmd := &cobra.Command{
		Use:   "start --spec FILE [--id ID] [--wait]",
		Short: "Validate a spec and start its sweep; prints the sweep id and its Web UI link",
		Example: `  liesweep sweep start --spec examples/so3.yaml --wait
  liesweep sweep start --spec examples/mnist01_l2_seeds.yaml --id mnist-seeds --wait --fail-on-verdict -o json`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if failOnVerdict && !wait {
				return usageError{fmt.Errorf("--fail-on-verdict judges the verdict that --wait waits for: add --wait (or run `liesweep sweep report ID --fail-on-verdict` once the sweep ends)")}
			}
			spec, err := loadSpecFile(specPath) // rejected here, before anything is scheduled
			if err != nil {
				return err
			}
			if spec.Dataset.MNISTDir != "" {
				// a path on this machine means nothing to the workers
				fmt.Fprintf(cmd.ErrOrStderr(), "note: dataset.mnist_dir (%s) is a path on this machine; a sweep's workers read MNIST from their own --mnist-dir or LIESWEEP_MNIST_DIR (default: the GoMNIST module), so it is not used\n", spec.Dataset.MNISTDir)
			}
			if id == "" {
				name := spec.Name
				if name == "" {
					name = "sweep"
				}
				id = fmt.Sprintf("%s-%s", name, time.Now().UTC().Format("20060102-150405"))
			}
			return withSession(cmd, func(s *session) error {
				if err := sweeps.ValidateID(id); err != nil {
					return err
				}
				if err := stageTable(cmd, spec, s.store, cmd.ErrOrStderr()); err != nil {
					return err
				}
				if err := startSweep(cmd.Context(), s, id, spec, false, cmd.OutOrStdout()); err != nil {
					return err
				}
				if !wait {
					return nil
				}
				return waitAndReport(cmd, s, id, failOnVerdict)
			})
		},
	}
	cmd.Flags().BoolVar(&failOnVerdict, "fail-on-verdict", false, "with --wait: exit 4 when a (dataset, ℓ) group found no closed algebra")
	cmd.Flags().StringVar(&specPath, "spec", "", "sweep spec (YAML)")
	cmd.Flags().StringVar(&id, "id", "", "sweep id (default: <name>-<UTC time>)")
	cmd.Flags().BoolVar(&wait, "wait", false, "watch the sweep until it ends, then print the verdict")
	cmd.MarkFlagRequired("spec")
	return cmd
}

func newSweepResumeCmd() *cobra.Command {
	var wait bool
	cmd := &cobra.Command{
		Use:   "resume ID [--wait]",
		Short: "Re-run a failed or cancelled sweep; finished stages are reused from the store",
		Args:  cobra.ExactArgs(1),
		RunE: sessionRunE(func(cmd *cobra.Command, args []string, s *session) error {
			id := args[0]
			desc, err := s.client.DescribeWorkflowExecution(cmd.Context(), id, "")
			var nf *serviceerror.NotFound
			if err != nil && !errors.As(err, &nf) {
				// resume may re-run a completed sweep: only go on when
				// Temporal says what state the sweep is in (or that it
				// has no record of it)
				return fmt.Errorf("resume %s: %w", id, err)
			}
			if err == nil {
				switch desc.WorkflowExecutionInfo.Status {
				case enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING:
					return fmt.Errorf("sweep %s is still running", id)
				case enumspb.WORKFLOW_EXECUTION_STATUS_COMPLETED:
					// a completed sweep whose verdict is gone (deleted, or
					// written to another bucket) runs again: its stages and
					// results are reused and the verdict written anew
					ok, err := s.store.Exists(cmd.Context(), sweeps.VerdictKey(id))
					if err != nil {
						return fmt.Errorf("resume %s: is its verdict stored? %w", id, err)
					}
					if ok {
						gone, err := sweepMissing(cmd.Context(), s, id)
						if err != nil {
							return fmt.Errorf("resume %s: %w", id, err)
						}
						if len(gone) == 0 {
							return fmt.Errorf("sweep %s completed: nothing to resume (see `liesweep sweep report %s`)", id, id)
						}
						// trials without results run again; weights the
						// report needs are gone: the trials that named
						// them train again (from their checkpoints)
						fmt.Fprintf(cmd.ErrOrStderr(), "sweep %s completed, but a re-run has this to recreate:\n  - %s\nrunning it again (everything else is reused)\n", id, strings.Join(gone, "\n  - "))
					} else {
						fmt.Fprintf(cmd.ErrOrStderr(), "sweep %s completed, but its verdict is not in bucket %s: running it again to write it (finished stages and results are reused)\n", id, s.cfg.S3.Bucket)
					}
				}
			}
			b, err := s.store.Get(cmd.Context(), sweeps.SpecKey(id))
			if err != nil {
				if errors.Is(err, sweeps.ErrNotFound) {
					return usageError{fmt.Errorf("no sweep %q in bucket %s (list them with `liesweep sweep list`; a sweep started against another bucket is resumed with that bucket's configuration)", id, s.cfg.S3.Bucket)}
				}
				return fmt.Errorf("read the spec of sweep %s: %w", id, err)
			}
			var spec sweeps.Spec
			if err := json.Unmarshal(b, &spec); err != nil {
				return fmt.Errorf("spec of sweep %s: %w", id, err)
			}
			if err := startSweep(cmd.Context(), s, id, &spec, true, cmd.OutOrStdout()); err != nil {
				return err
			}
			if wait {
				return waitAndReport(cmd, s, id, false)
			}
			return nil
		}),
	}
	cmd.Flags().BoolVar(&wait, "wait", false, "watch until it ends")
	return cmd
}

func newSweepCancelCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "cancel ID",
		Short: "Cancel a running sweep (running trainings stop at their next heartbeat)",
		Args:  cobra.ExactArgs(1),
		RunE: sessionRunE(func(cmd *cobra.Command, args []string, s *session) error {
			id := args[0]
			desc, err := s.client.DescribeWorkflowExecution(cmd.Context(), id, "")
			if err != nil {
				var nf *serviceerror.NotFound
				if errors.As(err, &nf) {
					return usageError{fmt.Errorf("no sweep %q (list them with `liesweep sweep list`)", id)}
				}
				return fmt.Errorf("cancel %s: %w", id, err)
			}
			// Temporal accepts a cancel of a closed workflow silently: say
			// that there was nothing to cancel.
			if st := desc.WorkflowExecutionInfo.Status; st != enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING {
				return fmt.Errorf("sweep %s has already ended (%s): nothing to cancel", id, strings.ToLower(strings.TrimPrefix(st.String(), "WORKFLOW_EXECUTION_STATUS_")))
			}
			if err := s.client.CancelWorkflow(cmd.Context(), id, ""); err != nil {
				return fmt.Errorf("cancel %s: %w", id, err)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "sweep %s: cancel requested\n", args[0])
			return nil
		}),
	}
}

// sweepsQuery lists the sweeps: their latest runs (a large sweep's earlier
// runs, which continued as new, are left out by the server).
const sweepsQuery = "WorkflowType='SweepWorkflow' AND ExecutionStatus != 'ContinuedAsNew'"

func newSweepListCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "list",
		Short: "List sweeps, newest first",
		RunE: sessionRunE(func(cmd *cobra.Command, args []string, s *session) error {
			resp, err := s.client.ListWorkflow(cmd.Context(), &workflowservice.ListWorkflowExecutionsRequest{Namespace: s.cfg.Temporal.Namespace, Query: sweepsQuery})
			if err != nil {
				return err
			}
			type row struct {
				ID      string    `json:"id"`
				Status  string    `json:"status"`
				Started time.Time `json:"started"`
				Runs    int       `json:"runs"`
			}
			// one row per sweep, its newest run's state: a resumed or
			// continued-as-new sweep has several runs (it was listed once
			// per run, "canceled" beside "completed")
			var rows []row
			at := map[string]int{}
			for _, e := range resp.Executions {
				id := e.Execution.WorkflowId
				if i, ok := at[id]; ok {
					rows[i].Runs++
					continue
				}
				at[id] = len(rows)
				st := strings.ToLower(strings.TrimPrefix(e.Status.String(), "WORKFLOW_EXECUTION_STATUS_"))
				rows = append(rows, row{id, st, e.StartTime.AsTime(), 1})
			}
			if jsonOutput(cmd) {
				return printJSON(cmd, rows)
			}
			for _, r := range rows {
				runs := ""
				if r.Runs > 1 {
					runs = fmt.Sprintf(" (%d runs)", r.Runs)
				}
				fmt.Fprintf(cmd.OutOrStdout(), "%-40s %-11s started %s%s\n", r.ID, r.Status, r.Started.Local().Format(time.DateTime), runs)
			}
			return nil
		}),
	}
}

// completeSweepIDs completes a sweep id argument from the sweeps Temporal
// lists (nothing when it cannot be reached): shell completion comes from
// ` + "`liesweep completion bash|zsh|fish`" + `.
func completeSweepIDs(cmd *cobra.Command, args []string, toComplete string) ([]string, cobra.ShellCompDirective) {
	if len(args) > 0 && cmd.Name() != "compare" || len(args) > 1 {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	s, err := connect(cmd)
	if err != nil {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	defer s.client.Close()
	resp, err := s.client.ListWorkflow(cmd.Context(), &workflowservice.ListWorkflowExecutionsRequest{Namespace: s.cfg.Temporal.Namespace, Query: sweepsQuery})
	if err != nil {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	var ids []string
	for _, e := range resp.Executions {
		if id := e.Execution.WorkflowId; strings.HasPrefix(id, toComplete) {
			ids = append(ids, id)
		}
	}
	return ids, cobra.ShellCompDirectiveNoFileComp
}

// printJSON writes v to the command's output as indented JSON.
func printJSON(cmd *cobra.Command, v any) error {
	enc := json.NewEncoder(cmd.OutOrStdout())
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false) // "x > 1", not "x \u003e 1": read by people and jq alike
	return enc.Encode(v)
}
