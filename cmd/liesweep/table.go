package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/liesweep/liesweep/datasets"
	"github.com/liesweep/liesweep/infra"
	"github.com/liesweep/liesweep/infra/s3store"
	"github.com/liesweep/liesweep/pipeline"
	"github.com/liesweep/liesweep/sweeps"
	"github.com/spf13/cobra"
)

// resolveTablePath makes a table's (and an imported ψ's) relative local
// path relative to the directory of the spec file that names it.
func resolveTablePath(spec *sweeps.Spec, specPath string) {
	for _, p := range []*string{&spec.Dataset.Path, &spec.OracleNet.ONNX} {
		if (spec.Dataset.Kind != "table" && spec.Dataset.Kind != "images") || *p == "" || strings.HasPrefix(*p, "s3://") || filepath.IsAbs(*p) {
			continue
		}
		*p = filepath.Join(filepath.Dir(specPath), *p)
	}
}

// splitS3 splits s3://bucket/key.
func splitS3(p string) (bucket, key string, err error) {
	rest, ok := strings.CutPrefix(p, "s3://")
	bucket, key, ok2 := strings.Cut(rest, "/")
	if !ok || !ok2 || bucket == "" || key == "" {
		return "", "", fmt.Errorf("%w: %q: an S3 object is s3://bucket/key", sweeps.ErrInvalidSpec, p)
	}
	return bucket, key, nil
}

// readInputBytes reads a user's input file named by the spec key field: a
// local file, or an S3 object through the configured endpoint (s3.*
// settings). Both are checked against the size bound before they are read.
func readInputBytes(cmd *cobra.Command, field, p string) (name string, data []byte, err error) {
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
		var big *s3store.TooLargeError
		if errors.As(err, &big) {
			return "", nil, datasets.CheckTableSize(p, big.Size, big.Max)
		}
		if err != nil {
			return "", nil, fmt.Errorf("%s: %w", field, err)
		}
		return p, b, nil
	}
	fi, err := os.Stat(p)
	if err != nil {
		return "", nil, fmt.Errorf("%w: %s: %v (relative paths are relative to the spec file's directory)", sweeps.ErrInvalidSpec, field, err)
	}
	if fi.IsDir() {
		return "", nil, fmt.Errorf("%w: %s %s is a directory: give the file", sweeps.ErrInvalidSpec, field, p)
	}
	if !fi.Mode().IsRegular() {
		// a named pipe or device: reading it waited for ever (or forever
		// grew), ignoring Ctrl-C
		return "", nil, fmt.Errorf("%w: %s %s is not a regular file (%v): give a file", sweeps.ErrInvalidSpec, field, p, fi.Mode().Type())
	}
	if err := datasets.CheckTableSize(p, fi.Size(), 0); err != nil {
		return "", nil, err
	}
	b, err := datasets.ReadFile(p, 0)
	if err != nil {
		return "", nil, fmt.Errorf("read %s: %w", field, err)
	}
	return p, b, nil
}

// stageTable reads, checks and stores the spec's table before anything
// trains (pipeline.StageTable) and says what it found on w. Specs of other
// kinds are left as they are.
//
// With a nil store the table is read and checked only (validate).
func stageTable(cmd *cobra.Command, spec *sweeps.Spec, store sweeps.ArtifactStore, w io.Writer) error {
	if spec.Dataset.Kind == "images" {
		return stageImages(cmd, spec, store, w)
	}
	if spec.Dataset.Kind != "table" {
		return nil
	}
	name, data, err := readInputBytes(cmd, "dataset.path", spec.Dataset.Path)
	if err != nil {
		return err
	}
	tb, err := pipeline.CheckTable(spec, name, data)
	if err != nil {
		return err
	}
	if spec.OracleNet.ONNX != "" {
		oname, odata, err := readInputBytes(cmd, "oracle_net.onnx", spec.OracleNet.ONNX)
		if err != nil {
			return err
		}
		o, err := pipeline.CheckONNX(spec, tb, oname, odata)
		if err != nil {
			return err
		}
		if store != nil {
			if err := pipeline.PutInput(cmd.Context(), store, &spec.OracleNet.ONNXObject, spec.OracleNet.ONNXDigest, oname, odata); err != nil {
				return err
			}
		}
		fmt.Fprintf(w, "ψ imported from %s: %d inputs → %d outputs; sha256 %s…\n", oname, o.InDim(), o.OutDim(), spec.OracleNet.ONNXDigest[:12])
	}
	if store != nil {
		// only now, with the data and the model checked, is anything stored
		if err := pipeline.PutInput(cmd.Context(), store, &spec.Dataset.Object, spec.Dataset.Digest, name, data); err != nil {
			return err
		}
	}
	what := "regression"
	if tb.Classes > 0 {
		what = fmt.Sprintf("%d classes", tb.Classes)
	}
	fmt.Fprintf(w, "table %s: %d rows × %d features (%s), target %s, %s; sha256 %s…\n", name, tb.N, tb.D, strings.Join(tb.Features, ", "), tb.Target, what, spec.Dataset.Digest[:12])
	return spec.Validate()
}

// stageImages reads the four files of an IDX image set (kind images) from
// a local directory or an S3 prefix, each raw or .gz (or a labels CSV and
// the PNGs it lists, converted to those four files by datasets.PNGSet), checks them
// (pipeline.CheckImages) and, with a store, puts them there once under
// their digest.
func stageImages(cmd *cobra.Command, spec *sweeps.Spec, store sweeps.ArtifactStore, w io.Writer) error {
	dir := strings.TrimSuffix(spec.Dataset.Path, "/")
	names := make([]string, len(datasets.IDXFiles))
	files := make([][]byte, len(datasets.IDXFiles))
	if strings.EqualFold(path.Ext(dir), ".csv") {
		// a folder of PNGs and its labels CSV, converted to an IDX set
		name, data, err := readInputBytes(cmd, "dataset.path", dir)
		if err != nil {
			return err
		}
		base := path.Dir(dir)
		files, err = datasets.PNGSet(name, data, func(file string) ([]byte, error) {
			p := base + "/" + file
			if !strings.HasPrefix(dir, "s3://") {
				p = filepath.Join(filepath.Dir(dir), filepath.FromSlash(file))
			}
			_, b, err := readInputBytes(cmd, "dataset.path", p)
			return b, err
		})
		if err != nil {
			return err
		}
		for i, f := range datasets.IDXFiles {
			names[i] = name + " (as " + f + ")"
		}
	}
	for i, f := range datasets.IDXFiles {
		if files[i] != nil {
			break
		}
		var errs []string
		for _, name := range []string{f, f + ".gz"} {
			p := dir + "/" + name
			if !strings.HasPrefix(dir, "s3://") {
				p = filepath.Join(dir, name)
				if _, err := os.Stat(p); err != nil {
					errs = append(errs, err.Error())
					continue
				}
			}
			n, b, err := readInputBytes(cmd, "dataset.path", p)
			if errors.Is(err, infra.ErrUnreachable) || err != nil && strings.Contains(err.Error(), "is unreachable") {
				return err // the server, not the spec (exit 3)
			}
			if err != nil {
				errs = append(errs, err.Error())
				continue
			}
			names[i], files[i] = n, b
			break
		}
		if files[i] == nil {
			return fmt.Errorf("%w: dataset.path %s: no %s or %s.gz (%s)", sweeps.ErrInvalidSpec, dir, f, f, strings.Join(errs, "; "))
		}
	}
	m, err := pipeline.CheckImages(spec, names, files)
	if err != nil {
		return err
	}
	if store != nil {
		if err := pipeline.PutImages(cmd.Context(), store, spec, files); err != nil {
			return err
		}
	}
	fmt.Fprintf(w, "images %s: %d training and %d test images, %s, labels %v; sha256 %s…\n", dir, len(m.TrainImages), len(m.TestImages), m.ImageShape(), spec.Dataset.Classes, spec.Dataset.Digest[:12])
	return spec.Validate()
}
