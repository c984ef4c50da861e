package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"

	"github.com/liesweep/liesweep/pipeline"
	"github.com/liesweep/liesweep/report"
	"github.com/liesweep/liesweep/sweeps"
	"github.com/spf13/cobra"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
)

func loadReport(ctx context.Context, s *session, id string) (*sweeps.VerdictDoc, error) {
	b, err := s.store.Get(ctx, sweeps.VerdictKey(id))
	if err != nil {
		if errors.Is(err, sweeps.ErrNotFound) {
			return nil, noVerdict(ctx, s, id)
		}
		return nil, err
	}
	var rep sweeps.VerdictDoc
	if err := json.Unmarshal(b, &rep); err != nil {
		return nil, fmt.Errorf("verdict of %s: %w", id, err)
	}
	return &rep, nil
}

// noVerdict says why a sweep has no verdict.json and what to do: an
// unknown id (a usage mistake), a sweep still running, or one that ended
// without writing its verdict to this bucket.
func noVerdict(ctx context.Context, s *session, id string) error {
	desc, err := s.client.DescribeWorkflowExecution(ctx, id, "")
	if err != nil {
		var nf *serviceerror.NotFound
		if errors.As(err, &nf) {
			return usageError{fmt.Errorf("no sweep %q (list them with `liesweep sweep list`)", id)}
		}
		return fmt.Errorf("sweep %s has no verdict in bucket %s, and Temporal could not say why: %w", id, s.cfg.S3.Bucket, err)
	}
	switch st := desc.WorkflowExecutionInfo.Status; st {
	case enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING:
		return fmt.Errorf("sweep %s is still running: no verdict yet (`liesweep sweep watch %s` waits for it)", id, id)
	case enumspb.WORKFLOW_EXECUTION_STATUS_COMPLETED:
		return fmt.Errorf("sweep %s completed but its verdict is not in bucket %s: the workers may write to another bucket (check their s3.bucket), or sweeps/%s/verdict.json was deleted; `liesweep sweep resume %s` runs what is missing and writes the verdict again", id, s.cfg.S3.Bucket, id, id)
	default:
		return fmt.Errorf("sweep %s ended %s without a verdict (`liesweep sweep status %s` says why; `liesweep sweep resume %s` runs what is missing)", id, strings.ToLower(strings.TrimPrefix(st.String(), "WORKFLOW_EXECUTION_STATUS_")), id, id)
	}
}

// renderReport renders a verdict in one format.
func renderReport(rep *sweeps.VerdictDoc, format string) (string, error) {
	switch format {
	case "json":
		// The verdict document itself (schema_version, sweep, spec, groups,
		// notes): what verdict.json holds, from either path.
		b, err := json.MarshalIndent(rep, "", "  ")
		if err != nil {
			return "", err
		}
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
	return "", usageError{fmt.Errorf("--format %q: want table, md, html, csv or json", format)}
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

// flowsSchemaVersion is the version of flows.json's layout.
const flowsSchemaVersion = 1

// reportFiles are every file of a sweep's report by name: the verdict in
// each text format, the Markdown and HTML reports with their plots, and
// flows.json (the tangency and streamline measurements).
func reportFiles(rep *sweeps.VerdictDoc, full *report.Report) map[string][]byte {
	files := full.Files()
	for format, name := range map[string]string{"table": "report.txt", "csv": "trials.csv", "json": "verdict.json"} {
		text, _ := renderReport(rep, format)
		files[name] = []byte(text)
	}
	// NaN and ±Inf (a diverged trial's measurements) as null: flows.json
	// was not written at all
	flows, err := json.MarshalIndent(finiteTree(reflect.ValueOf(map[string]any{"schema_version": flowsSchemaVersion, "tangency": full.Tangency, "streamlines": full.Drift, "morphing": full.Morph})), "", "  ")
	if err != nil {
		fmt.Fprintln(os.Stderr, "liesweep: warning: flows.json not written:", err)
	} else {
		files["flows.json"] = append(flows, '\n')
	}
	return files
}

// plotsManifest lists, beside a report, the plots it wrote.
const plotsManifest = ".liesweep-plots"

// writeFiles writes files under dir, creating folders as needed, and
// removes the plots an earlier report wrote there (its manifest lists
// them) that this one does not have: a reused --out kept the plots of an
// earlier grid beside the new ones, unmentioned. Files liesweep did not
// write are left alone.
func writeFiles(dir string, files map[string][]byte) error {
	if old, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(plotsManifest))); err == nil {
		for _, name := range strings.Fields(string(old)) {
			if _, ok := files["plots/"+name]; !ok && name == filepath.Base(name) {
				if err := os.Remove(filepath.Join(dir, "plots", name)); err != nil && !os.IsNotExist(err) {
					return fmt.Errorf("remove the earlier report's plot %s: %w", name, err)
				}
			}
		}
	}
	var plots []string
	for name := range files {
		if strings.HasPrefix(name, "plots/") {
			plots = append(plots, strings.TrimPrefix(name, "plots/"))
		}
	}
	if len(plots) > 0 {
		slices.Sort(plots)
		files[plotsManifest] = []byte(strings.Join(plots, "\n") + "\n")
	}
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
	var failOnVerdict bool
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
		PreRunE: func(cmd *cobra.Command, args []string) error {
			if !slices.Contains([]string{"table", "md", "html", "csv", "json"}, format) {
				return usageError{fmt.Errorf("--format %q: want table, md, html, csv or json", format)}
			}
			return nil
		},
		RunE: sessionRunE(func(cmd *cobra.Command, args []string, s *session) error {
			if out != "" {
				if err := writeReports(cmd.Context(), s, args[0], out); err != nil {
					return err
				}
				fmt.Fprintf(cmd.ErrOrStderr(), "report written to %s (open %s) and sweeps/%s/report/ in the bucket\n", out, filepath.Join(out, "report.html"), args[0])
			}
			if jsonOutput(cmd) && !cmd.Flags().Changed("format") {
				format = "json"
			}
			if err := printReport(cmd.Context(), s, args[0], format, cmd.OutOrStdout()); err != nil {
				return err
			}
			if failOnVerdict {
				return storedVerdictFailed(cmd.Context(), s, args[0])
			}
			return nil
		}),
	}
	cmd.Flags().BoolVar(&failOnVerdict, "fail-on-verdict", false, "exit 4 when a (dataset, ℓ) group found no closed algebra")
	cmd.Flags().StringVar(&format, "format", "table", "table, md, html, csv or json (-o json: json)")
	cmd.Flags().StringVar(&out, "out", "", "also write the whole report (HTML, Markdown with PNG plots, CSV, JSON) here")
	return cmd
}

func newSweepCompareCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "compare ID1 ID2",
		Short: "Two sweeps' verdicts side by side, differences marked with *",
		Args:  cobra.ExactArgs(2),
		RunE: sessionRunE(func(cmd *cobra.Command, args []string, s *session) error {
			a, err := loadReport(cmd.Context(), s, args[0])
			if err != nil {
				return err
			}
			b, err := loadReport(cmd.Context(), s, args[1])
			if err != nil {
				return err
			}
			if jsonOutput(cmd) {
				return printJSON(cmd, map[string]any{"a": a, "b": b})
			}
			fmt.Fprint(cmd.OutOrStdout(), sweeps.FormatCompare(args[0], a.Groups, args[1], b.Groups))
			return nil
		}),
	}
}

// finiteTree is v as encoding/json would see it (exported fields by their
// json names, omitempty honoured, types with their own MarshalJSON kept),
// with every NaN and ±Inf float as nil, so that encoding it cannot fail.
func finiteTree(v reflect.Value) any {
	if !v.IsValid() {
		return nil
	}
	if m, ok := v.Interface().(json.Marshaler); ok && v.Kind() != reflect.Pointer && v.Kind() != reflect.Interface {
		if b, err := m.MarshalJSON(); err == nil {
			return json.RawMessage(b)
		}
	}
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if v.IsNil() {
			return nil
		}
		return finiteTree(v.Elem())
	case reflect.Float32, reflect.Float64:
		if f := v.Float(); math.IsNaN(f) || math.IsInf(f, 0) {
			return nil
		}
		return v.Interface()
	case reflect.Slice, reflect.Array:
		if v.Kind() == reflect.Slice && v.IsNil() {
			return nil
		}
		out := make([]any, v.Len())
		for i := range out {
			out[i] = finiteTree(v.Index(i))
		}
		return out
	case reflect.Map:
		if v.IsNil() {
			return nil
		}
		out := map[string]any{}
		for it := v.MapRange(); it.Next(); {
			out[fmt.Sprint(it.Key().Interface())] = finiteTree(it.Value())
		}
		return out
	case reflect.Struct:
		out := map[string]any{}
		t := v.Type()
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			if !f.IsExported() {
				continue
			}
			name, opts, _ := strings.Cut(f.Tag.Get("json"), ",")
			if name == "-" {
				continue
			}
			if name == "" {
				name = f.Name
			}
			if strings.Contains(opts, "omitempty") && v.Field(i).IsZero() {
				continue
			}
			out[name] = finiteTree(v.Field(i))
		}
		return out
	}
	return v.Interface()
}
