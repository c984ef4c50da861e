package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"reflect"
	"strconv"
	"strings"

	"github.com/liesweep/liesweep/datasets"
	"github.com/liesweep/liesweep/infra/filestore"
	"github.com/liesweep/liesweep/sweeps"
	"go.yaml.in/yaml/v3"
)

// Bounds on reading a spec file.
const (
	// MaxSpecBytes is the largest spec read. A spec is a page of YAML (the
	// examples are under 2 KiB); 1 MiB leaves room for comments and long
	// lists, and anything larger (/dev/zero included) is refused after
	// reading MaxSpecBytes+1 bytes, never read whole.
	MaxSpecBytes = 1 << 20
	// maxSpecErrors is how many decoding problems one error reports.
	maxSpecErrors = 20
	// maxSpecVisits bounds the YAML nodes the decoder visits: aliases and
	// merge keys (<<: *a) can make a small document name a huge tree.
	maxSpecVisits = 1 << 14
	// maxSpecNesting bounds how deep merge keys may chain.
	maxSpecNesting = 32
)

// loadSpec reads a YAML sweep spec over the documented defaults and checks
// it: the single loader of `validate`, `train`, `run` and `sweep start`.
// Every problem with the spec, from its size and YAML syntax to a bound
// or an expression, is an error wrapping sweeps.ErrInvalidSpec; only a
// failure to read r is not.
func loadSpec(r io.Reader) (*sweeps.Spec, error) {
	raw, err := io.ReadAll(io.LimitReader(r, MaxSpecBytes+1))
	if err != nil {
		return nil, fmt.Errorf("read spec: %w", err)
	}
	if len(raw) > MaxSpecBytes {
		return nil, fmt.Errorf("%w: the spec is larger than %d bytes (MaxSpecBytes: a spec is a page of YAML)", sweeps.ErrInvalidSpec, MaxSpecBytes)
	}
	return parseSpec(raw)
}

// parseSpec decodes raw strictly (see decodeSpec) over sweeps.DefaultSpec,
// normalises the spec and checks it with checkSpec.
func parseSpec(raw []byte) (*sweeps.Spec, error) {
	spec := sweeps.DefaultSpec()
	if err := decodeSpec(raw, &spec); err != nil {
		return nil, err
	}
	spec.Normalize()
	if err := checkSpec(&spec); err != nil {
		return nil, err
	}
	return &spec, nil
}

// checkSpec runs Spec.Validate and then parses the expressions of an expr
// oracle (datasets.CheckExprs), and joins what both find.
func checkSpec(s *sweeps.Spec) error {
	var errs []error
	if err := s.Validate(); err != nil {
		errs = append(errs, err)
	}
	d := s.Dataset
	if d.Kind == "analytic" && d.Oracle == "expr" && d.Dim >= 1 && len(d.Expr) <= sweeps.MaxExprs {
		if err := datasets.CheckExprs(d.Expr, d.Dim); err != nil {
			if len(errs) == 0 {
				errs = append(errs, sweeps.ErrInvalidSpec)
			}
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// outStore opens the --out folder as a store (checkOutDir).
func outStore(out string) (*filestore.Store, error) {
	if err := checkOutDir(out); err != nil {
		return nil, err
	}
	return filestore.New(out)
}

// checkOutDir refuses an --out that exists and is not a folder: a mistake
// in the command line (exit 2).
func checkOutDir(out string) error {
	if fi, err := os.Stat(out); err == nil && !fi.IsDir() {
		return usageError{fmt.Errorf("--out %s is a file, not a folder: name a folder (it is created when missing)", out)}
	}
	return nil
}

func loadSpecFile(path string) (*sweeps.Spec, error) {
	// a spec that cannot be read is a mistake in the command line (exit 2)
	if path == "" {
		return nil, usageError{errors.New("no spec file given: --spec FILE (a YAML spec, e.g. examples/so3.yaml)")}
	}
	if fi, err := os.Stat(path); err == nil && fi.IsDir() {
		return nil, usageError{fmt.Errorf("spec %s is a directory: name a YAML spec file in it", path)}
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, usageError{fmt.Errorf("open spec: %w", err)}
	}
	defer f.Close()
	s, err := loadSpec(f)
	if err != nil {
		return nil, fmt.Errorf("spec %s: %w", path, err)
	}
	resolveTablePath(s, path)
	return s, nil
}

// loadLocalSpec is loadSpecFile for the commands that run on this machine
// (run, train): --mnist-dir, when given, replaces dataset.mnist_dir.
func loadLocalSpec(path, mnistDir string) (*sweeps.Spec, error) {
	spec, err := loadSpecFile(path)
	if err != nil {
		return nil, err
	}
	if mnistDir != "" {
		spec.Dataset.MNISTDir = mnistDir
	}
	if err := checkMNISTDir(spec); err != nil {
		return nil, err
	}
	return spec, nil
}

// checkMNISTDir refuses an MNIST folder that is not there, before anything
// trains (validate accepted it, and train then failed with exit 1). A
// sweep's workers read their own, so `sweep start` does not check it.
func checkMNISTDir(spec *sweeps.Spec) error {
	d := spec.Dataset.MNISTDir
	if d == "" || spec.Dataset.Kind != "mnist" {
		return nil
	}
	if fi, err := os.Stat(d); err != nil || !fi.IsDir() {
		return &sweeps.FieldError{Field: "dataset.mnist_dir", Msg: fmt.Sprintf("%s is not a folder (it holds MNIST's four IDX files; leave it out to use the copy in the GoMNIST module)", d)}
	}
	return nil
}

// decodeSpec decodes one YAML document into spec, field by field over what
// spec holds already, with the keys of its mapstructure tags. It is strict
// where a weakly typed decoder guesses: an unknown key, a key given twice,
// a float, bool or string for an integer (20.7, 1e30, true, "10"), a
// non-finite float (.inf, .nan) and a scalar for a list are errors naming
// the key path and line, joined and wrapping sweeps.ErrInvalidSpec. A null
// value keeps the default. Lists replace the default list.
func decodeSpec(raw []byte, spec *sweeps.Spec) error {
	dec := yaml.NewDecoder(bytes.NewReader(raw))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil // an empty spec: the defaults, which Validate judges
		}
		return fmt.Errorf("%w: spec is not valid YAML: %v", sweeps.ErrInvalidSpec, err)
	}
	var more yaml.Node
	if err := dec.Decode(&more); !errors.Is(err, io.EOF) {
		return fmt.Errorf("%w: spec is not valid YAML: a spec is one YAML document, and this one goes on after a '---' or '...' line", sweeps.ErrInvalidSpec)
	}
	d := &specDecoder{}
	if len(doc.Content) == 1 {
		d.value(doc.Content[0], reflect.ValueOf(spec).Elem(), "", 0)
	}
	spec.Axes = d.axes
	if len(d.errs) == 0 {
		return nil
	}
	errs := append([]error{sweeps.ErrInvalidSpec}, d.errs...)
	if d.dropped > 0 {
		errs = append(errs, fmt.Errorf("… and %d more problems", d.dropped))
	}
	return errors.Join(errs...)
}

type specDecoder struct {
	axes    []sweeps.Axis
	errs    []error
	dropped int
	visits  int
	keys    map[reflect.Type]map[string]int
}

func (d *specDecoder) bad(n *yaml.Node, path, format string, args ...any) {
	if len(d.errs) >= maxSpecErrors {
		d.dropped++
		return
	}
	field := path
	if field == "" {
		field = "(top level)"
	}
	d.errs = append(d.errs, &sweeps.FieldError{Field: field, Msg: fmt.Sprintf("line %d: ", n.Line) + fmt.Sprintf(format, args...)})
}

// value decodes n into v, the field at path.
func (d *specDecoder) value(n *yaml.Node, v reflect.Value, path string, depth int) {
	if d.visits++; d.visits > maxSpecVisits {
		if d.visits == maxSpecVisits+1 {
			d.bad(n, path, "the document has more than %d values (long lists, or aliases and merge keys that expand; a swept key takes a few values, seeds a few dozen)", maxSpecVisits)
		}
		return
	}
	if depth > maxSpecNesting {
		d.bad(n, path, "aliases and merge keys nest deeper than %d levels", maxSpecNesting)
		return
	}
	for n.Kind == yaml.AliasNode {
		if n.Alias == nil {
			return
		}
		n = n.Alias
	}
	if n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null" {
		return // keep the default
	}
	if vals, ok := axisValues(n, v); ok {
		d.axis(n, vals, v, path, depth)
		return
	}
	switch v.Kind() {
	case reflect.Struct:
		d.mapping(n, v, path, depth)
	case reflect.Slice:
		if n.Kind != yaml.SequenceNode {
			d.bad(n, path, "must be a list such as [1, 2], got %s", describe(n))
			return
		}
		s := reflect.MakeSlice(v.Type(), len(n.Content), len(n.Content))
		for i, e := range n.Content {
			d.value(e, s.Index(i), fmt.Sprintf("%s[%d]", path, i), depth)
		}
		v.Set(s)
	case reflect.Int:
		if !d.scalar(n, path, "!!int", "an integer") {
			return
		}
		var x int64
		if err := n.Decode(&x); err != nil || int64(int(x)) != x {
			d.bad(n, path, "must be an integer, got %s", describe(n))
			return
		}
		v.SetInt(x)
	case reflect.Float64:
		if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!float" && n.ShortTag() != "!!int" {
			d.bad(n, path, "must be a number, got %s", describe(n))
			return
		}
		var x float64
		if err := n.Decode(&x); err != nil {
			d.bad(n, path, "must be a number, got %s", describe(n))
			return
		}
		if math.IsNaN(x) || math.IsInf(x, 0) {
			d.bad(n, path, "must be a finite number, got %s", describe(n))
			return
		}
		v.SetFloat(x)
	case reflect.String:
		if !d.scalar(n, path, "!!str", "a string (quote it)") {
			return
		}
		v.SetString(n.Value)
	case reflect.Bool:
		if !d.scalar(n, path, "!!bool", "true or false") {
			return
		}
		var x bool
		if err := n.Decode(&x); err != nil {
			d.bad(n, path, "must be true or false, got %s", describe(n))
			return
		}
		v.SetBool(x)
	default:
		panic(fmt.Sprintf("liesweep: spec field %s has unsupported type %s", path, v.Type()))
	}
}

// axisValues returns the values of a swept key: a list given to a scalar
// key (`lr: [1.0e-3, 3.0e-3]`), W&B's form (`lr: {values: [...]}`), or a
// list of lists given to generator.hidden.
func axisValues(n *yaml.Node, v reflect.Value) ([]*yaml.Node, bool) {
	if n.Kind == yaml.MappingNode && len(n.Content) == 2 && n.Content[0].Value == "values" && n.Content[1].Kind == yaml.SequenceNode {
		return n.Content[1].Content, true
	}
	if n.Kind != yaml.SequenceNode {
		return nil, false
	}
	switch v.Kind() {
	case reflect.Int, reflect.Float64, reflect.String, reflect.Bool:
		return n.Content, true
	case reflect.Slice:
		if len(n.Content) > 0 && n.Content[0].Kind == yaml.SequenceNode {
			return n.Content, true
		}
	}
	return nil, false
}

// axis decodes the values of a swept key, sets the field to the first and
// records the axis.
func (d *specDecoder) axis(list *yaml.Node, vals []*yaml.Node, v reflect.Value, path string, depth int) {
	// errors point at the list (an empty one has no first value, and
	// pointed at "line 0")
	if err := sweeps.SweepableKey(path); err != nil {
		d.bad(list, path, "is given a list of values, but %v", err)
		return
	}
	if len(vals) == 0 {
		d.bad(list, path, "a swept key needs at least one value")
		return
	}
	a := sweeps.Axis{Key: path}
	for i, e := range vals {
		tmp := reflect.New(v.Type()).Elem()
		before := len(d.errs)
		d.value(e, tmp, fmt.Sprintf("%s[%d]", path, i), depth)
		if len(d.errs) > before {
			return
		}
		a.Values = append(a.Values, tmp.Interface())
	}
	v.Set(reflect.ValueOf(a.Values[0]))
	d.axes = append(d.axes, a)
}

// dropAxes forgets the axes at path or below it (a merged mapping's swept
// keys that an explicit key overrides).
func (d *specDecoder) dropAxes(path string) {
	kept := d.axes[:0]
	for _, a := range d.axes {
		if a.Key != path && !strings.HasPrefix(a.Key, path+".") {
			kept = append(kept, a)
		}
	}
	d.axes = kept
}

// scalar reports whether n is a scalar with the tag want, and reports the
// problem at path when it is not.
func (d *specDecoder) scalar(n *yaml.Node, path, tag, what string) bool {
	if n.Kind != yaml.ScalarNode || n.ShortTag() != tag {
		d.bad(n, path, "must be %s, got %s", what, describe(n))
		return false
	}
	return true
}

// mapping decodes the mapping n into the struct v: merge keys (<<) first,
// so that the keys given explicitly override what they merge in.
func (d *specDecoder) mapping(n *yaml.Node, v reflect.Value, path string, depth int) {
	if n.Kind != yaml.MappingNode {
		d.bad(n, path, "must be a mapping of keys to values, got %s", describe(n))
		return
	}
	keys := d.keys[v.Type()]
	if keys == nil {
		keys = specKeys(v.Type())
		if d.keys == nil {
			d.keys = map[reflect.Type]map[string]int{}
		}
		d.keys[v.Type()] = keys
	}
	seen := map[string]bool{}
	for _, merges := range []bool{true, false} {
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, val := n.Content[i], n.Content[i+1]
			if merge := k.Kind == yaml.ScalarNode && k.ShortTag() == "!!merge"; merge != merges {
				continue
			} else if merge {
				d.merge(val, v, path, depth+1)
				continue
			}
			if k.Kind != yaml.ScalarNode || k.ShortTag() != "!!str" {
				d.bad(k, path, "keys must be names, got %s", describe(k))
				continue
			}
			sub := join(path, k.Value)
			idx, ok := keys[k.Value]
			if !ok {
				d.bad(k, sub, "unknown key %q%s%s", k.Value, where(path), suggest(k.Value, keys))
				continue
			}
			if seen[k.Value] {
				d.bad(k, sub, "key %q is given twice%s", k.Value, where(path))
				continue
			}
			seen[k.Value] = true
			if !merges {
				// A key given here overrides what a merge key brought in,
				// a swept list included.
				d.dropAxes(sub)
			}
			d.value(val, v.Field(idx), sub, depth)
		}
	}
}

// merge decodes the value of a merge key: a mapping or a list of them.
func (d *specDecoder) merge(n *yaml.Node, v reflect.Value, path string, depth int) {
	for n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	if n.Kind == yaml.SequenceNode {
		for _, e := range n.Content {
			d.value(e, v, path, depth)
		}
		return
	}
	d.value(n, v, path, depth)
}

// specKeys maps the YAML keys of struct type t (its mapstructure tags) to
// field indices.
func specKeys(t reflect.Type) map[string]int {
	keys := map[string]int{}
	for i := 0; i < t.NumField(); i++ {
		if k, _, _ := strings.Cut(t.Field(i).Tag.Get("mapstructure"), ","); k != "" && k != "-" {
			keys[k] = i
		}
	}
	return keys
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func where(path string) string {
	if path == "" {
		return ""
	}
	return " in " + path
}

// suggest names the known key closest to an unknown one: one edit away
// per three letters of the key, at most two (a different case is free).
func suggest(key string, keys map[string]int) string {
	best, bestD := "", min(2, len(key)/3)+1
	for k := range keys {
		if dist := editDistance(strings.ToLower(key), k); dist < bestD || dist == bestD && k < best {
			best, bestD = k, dist
		}
	}
	if best == "" {
		return ""
	}
	return fmt.Sprintf(" (did you mean %q?)", best)
}

// editDistance is the Levenshtein distance between a and b, bytewise; keys
// longer than 64 bytes are not compared (they match nothing).
func editDistance(a, b string) int {
	if len(a) > 64 || len(b) > 64 {
		return math.MaxInt
	}
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// describe shows a YAML node in an error message: its kind and, for a
// scalar, its text, cut to 40 bytes.
func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.AliasNode:
		return "an alias"
	}
	v := n.Value
	if len(v) > 40 {
		v = v[:40] + "…"
	}
	switch n.ShortTag() {
	case "!!str":
		return "the string " + strconv.Quote(v)
	case "!!bool":
		return "the boolean " + v
	case "!!int", "!!float":
		return "the number " + v
	}
	return strconv.Quote(v)
}
