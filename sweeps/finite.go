package sweeps

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"strconv"
)

// JSON has no NaN or ±Inf. A trial can measure one (ψ constant along every
// direction makes inv_ratio 0/0; a step too small to change ψ in float64
// does the same), and that is a result, not a crash: the metrics, losses
// and intervals encode a non-finite value as null and decode null as NaN,
// which Judge fails; the other floats of a TrialResult that are not finite
// are dropped on encoding, each with a note in Notes.

// marshalFloats encodes a struct of float64, [N]float64 and int fields,
// every field by its json tag in order, with non-finite floats as null.
func marshalFloats(v any) ([]byte, error) {
	rv := reflect.ValueOf(v)
	rt := rv.Type()
	var b bytes.Buffer
	b.WriteByte('{')
	for i := 0; i < rt.NumField(); i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.Quote(jsonName(rt.Field(i))))
		b.WriteByte(':')
		f := rv.Field(i)
		switch f.Kind() {
		case reflect.Float64:
			writeFloat(&b, f.Float())
		case reflect.Array:
			b.WriteByte('[')
			for j := 0; j < f.Len(); j++ {
				if j > 0 {
					b.WriteByte(',')
				}
				writeFloat(&b, f.Index(j).Float())
			}
			b.WriteByte(']')
		default:
			enc, err := json.Marshal(f.Interface())
			if err != nil {
				return nil, err
			}
			b.Write(enc)
		}
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

func writeFloat(b *bytes.Buffer, x float64) {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		b.WriteString("null")
		return
	}
	enc, _ := json.Marshal(x) // finite: cannot fail
	b.Write(enc)
}

// unmarshalFloats decodes what marshalFloats writes into the struct p
// points to: null (in a float or an array element) becomes NaN.
func unmarshalFloats(data []byte, p any) error {
	if bytes.Equal(bytes.TrimSpace(data), []byte("null")) {
		return nil
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(data, &raw); err != nil {
		return err
	}
	rv := reflect.ValueOf(p).Elem()
	rt := rv.Type()
	for i := 0; i < rt.NumField(); i++ {
		name := jsonName(rt.Field(i))
		msg, ok := raw[name]
		if !ok {
			continue
		}
		f := rv.Field(i)
		switch f.Kind() {
		case reflect.Float64:
			x, err := readFloat(msg)
			if err != nil {
				return fmt.Errorf("%s: %w", name, err)
			}
			f.SetFloat(x)
		case reflect.Array:
			var elems []json.RawMessage
			if err := json.Unmarshal(msg, &elems); err != nil {
				return fmt.Errorf("%s: %w", name, err)
			}
			if len(elems) != f.Len() {
				return fmt.Errorf("%s: %d values, want %d", name, len(elems), f.Len())
			}
			for j, e := range elems {
				x, err := readFloat(e)
				if err != nil {
					return fmt.Errorf("%s[%d]: %w", name, j, err)
				}
				f.Index(j).SetFloat(x)
			}
		default:
			if err := json.Unmarshal(msg, f.Addr().Interface()); err != nil {
				return fmt.Errorf("%s: %w", name, err)
			}
		}
	}
	return nil
}

func readFloat(msg json.RawMessage) (float64, error) {
	if bytes.Equal(bytes.TrimSpace(msg), []byte("null")) {
		return math.NaN(), nil
	}
	var x float64
	err := json.Unmarshal(msg, &x)
	return x, err
}

func jsonName(f reflect.StructField) string {
	name, _, _ := bytes.Cut([]byte(f.Tag.Get("json")), []byte(","))
	if len(name) == 0 {
		return f.Name
	}
	return string(name)
}

// MarshalJSON writes non-finite metrics as null.
func (m Metrics) MarshalJSON() ([]byte, error) { return marshalFloats(m) }

// UnmarshalJSON reads a null metric as NaN (which fails Judge).
func (m *Metrics) UnmarshalJSON(b []byte) error { return unmarshalFloats(b, m) }

// MarshalJSON writes non-finite losses as null.
func (l Losses) MarshalJSON() ([]byte, error) { return marshalFloats(l) }

// UnmarshalJSON reads a null loss as NaN.
func (l *Losses) UnmarshalJSON(b []byte) error { return unmarshalFloats(b, l) }

// MarshalJSON writes non-finite interval ends as null.
func (iv MetricIntervals) MarshalJSON() ([]byte, error) { return marshalFloats(iv) }

// UnmarshalJSON reads a null interval end as NaN.
func (iv *MetricIntervals) UnmarshalJSON(b []byte) error { return unmarshalFloats(b, iv) }

// trialResultJSON is TrialResult without its MarshalJSON.
type trialResultJSON TrialResult

// MarshalJSON encodes r with every float it holds finite or null: the
// metrics, losses and intervals as null (decoded as NaN), and any other
// collection of floats holding a non-finite value (pair residuals, structure
// constants, the sparse basis, ψ's accuracy, …) dropped, with a note in
// Notes saying which.
func (r TrialResult) MarshalJSON() ([]byte, error) {
	c := r
	drop := func(what string) {
		c.Notes = append(append([]string(nil), c.Notes...), what+" not finite: left out of this result")
	}
	if !finiteSlice(c.PairResidual) {
		c.PairResidual = nil
		drop("pair_residuals")
	}
	if !finiteSlice(c.PairOrtho) {
		c.PairOrtho = nil
		drop("pair_ortho")
	}
	if !finite3(c.StructureConstants) {
		c.StructureConstants = nil
		drop("structure_constants")
	}
	if !finite3(c.JointConstants) {
		c.JointConstants = nil
		drop("joint_constants")
	}
	if sb := c.SparseBasis; sb != nil && !(finite3(sb.Matrices) && finite3(sb.StructureConstants) && finite2(sb.Rotation) && finiteSlice(sb.Point)) {
		c.SparseBasis = nil
		drop("sparse_basis")
	}
	for _, p := range []struct {
		name string
		v    **float64
	}{{"oracle_accuracy", &c.OracleAccuracy}, {"oracle_r2", &c.OracleR2}, {"autoencoder_mse", &c.AutoencoderMSE}} {
		if *p.v != nil && !finite(**p.v) {
			*p.v = nil
			drop(p.name)
		}
	}
	if !finiteAlgebra(c.Algebra) {
		c.Algebra = Algebra{Dim: c.Algebra.Dim, Description: "not computed: its structure constants are not finite"}
		drop("algebra")
	}
	for i := range c.Stages {
		if !finite(c.Stages[i].Seconds) {
			c.Stages = append([]StageRun(nil), c.Stages...)
			c.Stages[i].Seconds = 0
		}
	}
	return json.Marshal(trialResultJSON(c))
}

func finite(x float64) bool { return !math.IsNaN(x) && !math.IsInf(x, 0) }

func finiteSlice(v []float64) bool {
	for _, x := range v {
		if !finite(x) {
			return false
		}
	}
	return true
}

func finite2(v [][]float64) bool {
	for _, r := range v {
		if !finiteSlice(r) {
			return false
		}
	}
	return true
}

func finite3(v [][][]float64) bool {
	for _, r := range v {
		if !finite2(r) {
			return false
		}
	}
	return true
}

func finiteAlgebra(a Algebra) bool {
	if !finite(a.Tol) {
		return false
	}
	for _, id := range a.Decomposition {
		if !finite2(id.Basis) {
			return false
		}
	}
	return true
}
