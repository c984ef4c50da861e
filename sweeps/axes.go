package sweeps

import (
	"fmt"
	"math"
	"reflect"
	"strconv"
	"strings"
)

// Axis is a hyperparameter swept beside ℓ × N_g × seed: a spec key given
// a list of values (`lr: [1.0e-3, 3.0e-3]`, or W&B's `{values: […]}`).
type Axis struct {
	// Key is the dotted YAML path, e.g. "train.lr" or "generator.hidden".
	Key string `json:"key"`
	// Values are the values in the order given: numbers, strings, booleans,
	// or lists of integers for generator.hidden.
	Values []any `json:"values"`
}

// AxisSections are the spec sections whose scalar keys may be swept, and
// generator.hidden (a list of lists). The grid (latent_dims, ng, seeds)
// has its own keys; dataset keys and verdict.quorum are single values.
var AxisSections = []string{"train", "generator", "autoencoder", "oracle_net", "classifier", "verdict"}

// SweepableKey reports whether key may be an axis, and why not.
func SweepableKey(key string) error {
	section, field, ok := strings.Cut(key, ".")
	if !ok || strings.Contains(field, ".") {
		return fmt.Errorf("only keys of the sections %s can be swept", strings.Join(AxisSections, ", "))
	}
	for _, s := range AxisSections {
		if s == section {
			if key == "verdict.quorum" {
				return fmt.Errorf("verdict.quorum applies to the whole verdict and cannot be swept")
			}
			if key == "oracle_net.onnx" {
				return fmt.Errorf("oracle_net.onnx names one imported ψ per sweep: start a sweep per model and compare them (liesweep sweep compare)")
			}
			return nil
		}
	}
	return fmt.Errorf("only keys of the sections %s can be swept (the grid's own axes are latent_dims, ng and seeds)", strings.Join(AxisSections, ", "))
}

// Combo is one combination of the axes' values: a concrete spec, with no
// axes, whose stages share artifacts with every other combination (and
// sweep) wherever their configs are equal.
type Combo struct {
	// Index is the combination's place in the grid (the first axis varies
	// slowest); 0 is the first value of every axis.
	Index int `json:"index"`
	// Label names it, e.g. "train.lr=0.001 generator.hidden=[16 16]"; ""
	// when the spec has no axes.
	Label string `json:"label,omitempty"`
	// Values maps each axis key to its value here.
	Values map[string]any `json:"values,omitempty"`
	Spec   Spec           `json:"-"`
}

// Combos expands the spec's axes into their product, each a concrete spec.
// A spec without axes has one combination: itself, with an empty label.
func (s *Spec) Combos() ([]Combo, error) {
	base := *s
	base.Axes = nil
	n := 1
	for _, a := range s.Axes {
		if len(a.Values) == 0 {
			return nil, &FieldError{Field: a.Key, Msg: "a swept key needs at least one value"}
		}
		n *= len(a.Values)
	}
	out := make([]Combo, 0, n)
	for i := 0; i < n; i++ {
		c := Combo{Index: i, Spec: base}
		rest := i
		var parts []string
		for k := len(s.Axes) - 1; k >= 0; k-- {
			a := s.Axes[k]
			v := a.Values[rest%len(a.Values)]
			rest /= len(a.Values)
			if err := c.Spec.Set(a.Key, v); err != nil {
				return nil, err
			}
			if c.Values == nil {
				c.Values = map[string]any{}
			}
			c.Values[a.Key] = v
			parts = append([]string{a.Key + "=" + FormatValue(v)}, parts...)
		}
		c.Label = strings.Join(parts, " ")
		c.Spec.Normalize() // defaults that depend on a swept key (normalization by kind)
		out = append(out, c)
	}
	return out, nil
}

// OrZero returns the combination, or the zero one (no axes) for nil.
func (c *Combo) OrZero() Combo {
	if c == nil {
		return Combo{}
	}
	return *c
}

// FormatValue writes an axis value compactly: 0.001, 16, true, [16 16].
func FormatValue(v any) string {
	switch x := v.(type) {
	case float64:
		return strconv.FormatFloat(x, 'g', -1, 64)
	case []any:
		parts := make([]string, len(x))
		for i, e := range x {
			parts[i] = FormatValue(e)
		}
		return "[" + strings.Join(parts, " ") + "]"
	case []int:
		parts := make([]string, len(x))
		for i, e := range x {
			parts[i] = strconv.Itoa(e)
		}
		return "[" + strings.Join(parts, " ") + "]"
	}
	return fmt.Sprint(v)
}

// Set sets the spec field at the dotted YAML path key to v, converting
// JSON's numbers (float64) and lists ([]any) to the field's type.
func (s *Spec) Set(key string, v any) error {
	f := reflect.ValueOf(s).Elem()
	for _, part := range strings.Split(key, ".") {
		if f.Kind() != reflect.Struct {
			return &FieldError{Field: key, Msg: "is not a spec key"}
		}
		idx := -1
		for _, yf := range yamlFields(f.Type(), "") {
			if yf.tag == part {
				idx = yf.index
			}
		}
		if idx < 0 {
			return &FieldError{Field: key, Msg: "is not a spec key"}
		}
		f = f.Field(idx)
	}
	bad := func() error {
		return &FieldError{Field: key, Msg: fmt.Sprintf("value %v (%T) does not fit a %s", v, v, f.Type())}
	}
	switch f.Kind() {
	case reflect.Int:
		x, ok := toFloat(v)
		if !ok || x != math.Trunc(x) || math.Abs(x) > 1<<53 {
			return bad()
		}
		f.SetInt(int64(x))
	case reflect.Float64:
		x, ok := toFloat(v)
		if !ok {
			return bad()
		}
		f.SetFloat(x)
	case reflect.String:
		x, ok := v.(string)
		if !ok {
			return bad()
		}
		f.SetString(x)
	case reflect.Bool:
		x, ok := v.(bool)
		if !ok {
			return bad()
		}
		f.SetBool(x)
	case reflect.Slice:
		if f.Type().Elem().Kind() != reflect.Int {
			return bad()
		}
		var xs []int
		switch l := v.(type) {
		case []int:
			xs = append(xs, l...)
		case []any:
			for _, e := range l {
				x, ok := toFloat(e)
				if !ok || x != math.Trunc(x) {
					return bad()
				}
				xs = append(xs, int(x))
			}
		default:
			return bad()
		}
		f.Set(reflect.ValueOf(xs))
	default:
		return bad()
	}
	return nil
}

func toFloat(v any) (float64, bool) {
	switch x := v.(type) {
	case float64:
		return x, true
	case int:
		return float64(x), true
	case int64:
		return float64(x), true
	}
	return 0, false
}

// GridSize counts the trials and the distinct stages (by content address)
// the spec's grid expands to; with adaptive mode, the trials of its first
// level (the ascent adds levels while they pass).
func (s *Spec) GridSize() (trials, stages int, err error) {
	combos, err := s.Combos()
	if err != nil {
		return 0, 0, err
	}
	ngs := s.NG
	if s.Adaptive.Enabled && len(ngs) > 0 {
		ngs = []int{ngs[0]}
		for _, n := range s.NG {
			ngs[0] = min(ngs[0], n)
		}
	}
	keys := map[string]bool{}
	for _, c := range combos {
		for _, l := range c.Spec.LatentDims {
			for _, ng := range ngs {
				for _, seed := range c.Spec.Seeds {
					trials++
					k := StageKeys(&c.Spec, Trial{Latent: l, NG: ng, Seed: seed})
					for stage, key := range map[string]string{StageAutoencoder: k.Autoencoder, StageLatents: k.Latents, StageOracle: k.Oracle, StageClassifier: k.Classifier, StageGenerators: k.Generators, StageAnalysis: k.Analysis} {
						if key != "" {
							keys[stage+"/"+key] = true
						}
					}
				}
			}
		}
	}
	return trials, len(keys), nil
}
