package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/liesweep/liesweep/datasets"
	"github.com/liesweep/liesweep/pipeline"
	"github.com/liesweep/liesweep/sweeps"
	"github.com/spf13/cobra"
)

// resolveTablePath makes a table's relative local path relative to the
// directory of the spec file that names it.
func resolveTablePath(spec *sweeps.Spec, specPath string) {
	p := spec.Dataset.Path
	if spec.Dataset.Kind != "table" || p == "" || strings.HasPrefix(p, "s3://") || filepath.IsAbs(p) {
		return
	}
	spec.Dataset.Path = filepath.Join(filepath.Dir(specPath), p)
}

// splitS3 splits s3://bucket/key.
func splitS3(p string) (bucket, key string, err error) {
	rest, ok := strings.CutPrefix(p, "s3://")
	bucket, key, ok2 := strings.Cut(rest, "/")
	if !ok || !ok2 || bucket == "" || key == "" {
		return "", "", fmt.Errorf("%w: dataset.path %q: an S3 object is s3://bucket/key", sweeps.ErrInvalidSpec, p)
	}
	return bucket, key, nil
}

// readTableBytes reads the bytes of the spec's table: a local file, or an
// S3 object through the configured endpoint (s3.* settings). Both are
// checked against the size bound before they are read.
func readTableBytes(cmd *cobra.Command, spec *sweeps.Spec) (name string, data []byte, err error) {
	p := spec.Dataset.Path
	if strings.HasPrefix(p, "s3://") {
		bucket, key, err := splitS3(p)
		if err != nil {
			return "", nil, err
		}
		cfg, err := loadConfig(cmd)
		if err != nil {
			return "", nil, err
		}
		st, err := cfg.Store()
		if err != nil {
			return "", nil, err
		}
		b, err := st.ReadObject(cmd.Context(), bucket, key, datasets.DefaultMaxTableBytes)
		if err != nil {
			return "", nil, fmt.Errorf("dataset.path: %w", err)
		}
		return p, b, nil
	}
	fi, err := os.Stat(p)
	if err != nil {
		return "", nil, fmt.Errorf("%w: dataset.path: %v (relative paths are relative to the spec file's directory)", sweeps.ErrInvalidSpec, err)
	}
	if fi.IsDir() {
		return "", nil, fmt.Errorf("%w: dataset.path %s is a directory: give the data file", sweeps.ErrInvalidSpec, p)
	}
	if err := datasets.CheckTableSize(p, fi.Size(), 0); err != nil {
		return "", nil, err
	}
	b, err := os.ReadFile(p)
	if err != nil {
		return "", nil, fmt.Errorf("read dataset.path: %w", err)
	}
	return p, b, nil
}

// stageTable reads, checks and stores the spec's table before anything
// trains (pipeline.StageTable) and says what it found on w. Specs of other
// kinds are left as they are.
//
// With a nil store the table is read and checked only (validate).
func stageTable(cmd *cobra.Command, spec *sweeps.Spec, store sweeps.ArtifactStore, w io.Writer) error {
	if spec.Dataset.Kind != "table" {
		return nil
	}
	name, data, err := readTableBytes(cmd, spec)
	if err != nil {
		return err
	}
	var tb *datasets.Table
	if store == nil {
		tb, err = pipeline.CheckTable(spec, name, data)
	} else {
		tb, err = pipeline.StageTable(cmd.Context(), store, spec, name, data)
	}
	if err != nil {
		return err
	}
	what := "regression"
	if tb.Classes > 0 {
		what = fmt.Sprintf("%d classes", tb.Classes)
	}
	fmt.Fprintf(w, "table %s: %d rows × %d features (%s), target %s, %s; sha256 %s…\n", name, tb.N, tb.D, strings.Join(tb.Features, ", "), tb.Target, what, spec.Dataset.Digest[:12])
	return spec.Validate()
}
