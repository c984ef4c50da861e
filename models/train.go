package models

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"

	"github.com/liesweep/liesweep/models/ops"
	"github.com/liesweep/liesweep/sweeps"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// ErrNonFinite is returned when a loss becomes NaN or infinite, and wrapped
// by nonFiniteError when weights or fields do.
var ErrNonFinite = errors.New("loss is not finite")

// nonFiniteError says which value is not finite (weights, a field): it
// is ErrNonFinite for errors.Is without reading "loss is not finite".
type nonFiniteError struct{ msg string }

func (e *nonFiniteError) Error() string { return e.msg }
func (e *nonFiniteError) Unwrap() error { return ErrNonFinite }

// ErrHandedBack is returned by a training stage that stopped because its
// worker is shutting down (WithStop): it wrote a checkpoint at the epoch
// it reached, so running the stage again resumes there.
var ErrHandedBack = errors.New("training handed back: the worker is shutting down")

type stopKey struct{}

// WithStop returns a context under which training stages watch stop: once
// it is closed, a stage finishes the epoch it is in, writes a checkpoint
// (when it checkpoints at all: Hooks.OnCheckpoint) and returns an error
// wrapping ErrHandedBack. A drain then costs at most one epoch, where a
// cancel would lose everything since the last periodic checkpoint.
func WithStop(ctx context.Context, stop <-chan struct{}) context.Context {
	return context.WithValue(ctx, stopKey{}, stop)
}

// stopped reports whether ctx carries a closed stop channel.
func stopped(ctx context.Context) bool {
	stop, _ := ctx.Value(stopKey{}).(<-chan struct{})
	if stop == nil {
		return false
	}
	select {
	case <-stop:
		return true
	default:
		return false
	}
}

// Adam is the optimizer of Kingma & Ba (2015) with PyTorch's update rule:
//
//	m ← β1 m + (1−β1) g,   v ← β2 v + (1−β2) g²
//	p ← p − lr · (m / (1−β1^t)) / (√(v / (1−β2^t)) + eps)
//
// Its state (Step, M, V) is exported so that a checkpoint holds it and a
// resumed run continues bit for bit.
type Adam struct {
	LR, Beta1, Beta2, Eps float64
	Step                  int
	M, V                  Params
}

// NewAdam returns an Adam optimizer with zeroed moments for params.
func NewAdam(lr float64, params Params) *Adam {
	a := &Adam{LR: lr, Beta1: 0.9, Beta2: 0.999, Eps: 1e-8}
	for _, p := range params {
		a.M = append(a.M, &Param{Name: p.Name, Dense: tensor.New(tensor.Of(p.Dense.Dtype()), tensor.WithShape(p.Dense.Shape().Clone()...))})
		a.V = append(a.V, &Param{Name: p.Name, Dense: tensor.New(tensor.Of(p.Dense.Dtype()), tensor.WithShape(p.Dense.Shape().Clone()...))})
	}
	return a
}

// update applies one step to params with the gradients held by nodes and
// zeroes those gradients (gorgonia accumulates them across runs).
func (a *Adam) update(params Params, nodes []*G.Node) error {
	a.Step++
	c1 := 1 - math.Pow(a.Beta1, float64(a.Step))
	c2 := 1 - math.Pow(a.Beta2, float64(a.Step))
	for i, p := range params {
		gv, err := nodes[i].Grad()
		if err != nil {
			return fmt.Errorf("gradient of %s: %w", p.Name, err)
		}
		gd := gv.(*tensor.Dense)
		switch w := p.Dense.Data().(type) {
		case []float64:
			adamSteps(w, gd.Data().([]float64), a.M[i].Dense.Data().([]float64), a.V[i].Dense.Data().([]float64), a, c1, c2)
		case []float32:
			adamSteps(w, gd.Data().([]float32), a.M[i].Dense.Data().([]float32), a.V[i].Dense.Data().([]float32), a, c1, c2)
		}
	}
	return nil
}

// adamSteps is adamStep, spread over the cores for a large parameter (each
// element's update is its own, so the result is the same on any number of
// cores).
func adamSteps[T float32 | float64](w, g, m, v []T, a *Adam, c1, c2 float64) {
	if len(w) < 1<<17 {
		adamStep(w, g, m, v, a, c1, c2)
		return
	}
	ops.Parallel(len(w), func(i0, i1 int) { adamStep(w[i0:i1], g[i0:i1], m[i0:i1], v[i0:i1], a, c1, c2) })
}

func adamStep[T float32 | float64](w, g, m, v []T, a *Adam, c1, c2 float64) {
	b1, b2 := T(a.Beta1), T(a.Beta2)
	lr1 := T(a.LR / c1)
	sc2 := T(math.Sqrt(c2))
	eps := T(a.Eps)
	for j := range w {
		gj := g[j]
		m[j] = b1*m[j] + (1-b1)*gj
		v[j] = b2*v[j] + (1-b2)*gj*gj
		w[j] -= lr1 * m[j] / (T(math.Sqrt(float64(v[j])))/sc2 + eps)
		g[j] = 0
	}
}

// Checkpoint is the complete state of a training stage after Epoch epochs:
// the weights, the optimizer's moments and step count. Restoring it and
// training on gives the same weights as an uninterrupted run, because the
// data order of every epoch is a pure function of (seed, epoch).
type Checkpoint struct {
	Stage  string
	Epoch  int
	Params Params
	Adam   *Adam
	// Losses are the per-epoch mean losses so far (for curves and reports).
	Losses []map[string]float64
	// Config names the configuration the checkpoint was written for (a
	// stage key); a caller refuses to resume another configuration's.
	// Empty in checkpoints written before it was recorded.
	Config string
	// HistoryApart, when set, leaves Losses out of Encode: the caller
	// stores the history itself, appended in chunks, so that a checkpoint
	// every epoch does not rewrite the whole history each time. Decode
	// sets it for such a checkpoint and leaves Losses for the caller to
	// fill.
	HistoryApart bool
}

// Encode writes the checkpoint as safetensors: "param/<name>",
// "adam_m/<name>", "adam_v/<name>" tensors and the epoch, step and loss
// history as metadata.
func (c *Checkpoint) Encode() ([]byte, error) {
	ts := map[string]*tensor.Dense{}
	for _, p := range c.Params {
		ts["param/"+p.Name] = p.Dense
	}
	meta := map[string]string{"format": "liesweep-checkpoint-v1", "stage": c.Stage, "epoch": strconv.Itoa(c.Epoch)}
	if c.Adam != nil {
		for i := range c.Adam.M {
			ts["adam_m/"+c.Adam.M[i].Name] = c.Adam.M[i].Dense
			ts["adam_v/"+c.Adam.V[i].Name] = c.Adam.V[i].Dense
		}
		meta["adam_step"] = strconv.Itoa(c.Adam.Step)
		meta["adam_lr"] = strconv.FormatFloat(c.Adam.LR, 'g', -1, 64)
	}
	if c.Config != "" {
		meta["config"] = c.Config
	}
	if c.HistoryApart {
		meta["history"] = "apart"
	} else {
		meta["losses"] = EncodeHistory(c.Losses)
	}
	var buf bytes.Buffer
	if err := WriteSafetensors(&buf, ts, meta); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// DecodeCheckpoint reads a checkpoint written by Encode into the shapes of
// like (the parameters of a freshly built network of the same config).
// A checkpoint that does not match is an error wrapping sweeps.ErrCorrupt.
func DecodeCheckpoint(b []byte, stage string, like Params) (*Checkpoint, error) {
	ts, meta, err := ReadSafetensors(bytes.NewReader(b))
	if err != nil {
		return nil, err
	}
	if meta["format"] != "liesweep-checkpoint-v1" || meta["stage"] != stage {
		return nil, fmt.Errorf("%w: checkpoint is %q for stage %q, want liesweep-checkpoint-v1 for %q", sweeps.ErrCorrupt, meta["format"], meta["stage"], stage)
	}
	c := &Checkpoint{Stage: stage, Config: meta["config"]}
	if c.Epoch, err = strconv.Atoi(meta["epoch"]); err != nil || c.Epoch < 1 {
		return nil, fmt.Errorf("%w: checkpoint epoch %q (want a positive integer)", sweeps.ErrCorrupt, meta["epoch"])
	}
	pick := func(prefix string) (Params, error) {
		out := make(Params, len(like))
		for i, p := range like {
			t, ok := ts[prefix+p.Name]
			if !ok || !t.Shape().Eq(p.Dense.Shape()) || t.Dtype() != p.Dense.Dtype() {
				return nil, fmt.Errorf("%w: checkpoint tensor %s%s missing or of the wrong shape (want %v %v)", sweeps.ErrCorrupt, prefix, p.Name, p.Dense.Shape(), p.Dense.Dtype())
			}
			out[i] = &Param{Name: p.Name, Dense: t}
		}
		return out, nil
	}
	if c.Params, err = pick("param/"); err != nil {
		return nil, err
	}
	if s, ok := meta["adam_step"]; ok {
		a := &Adam{Beta1: 0.9, Beta2: 0.999, Eps: 1e-8}
		if a.Step, err = strconv.Atoi(s); err != nil || a.Step < 0 {
			return nil, fmt.Errorf("%w: adam step %q", sweeps.ErrCorrupt, s)
		}
		if a.LR, err = strconv.ParseFloat(meta["adam_lr"], 64); err != nil {
			return nil, fmt.Errorf("%w: adam lr %q", sweeps.ErrCorrupt, meta["adam_lr"])
		}
		if a.M, err = pick("adam_m/"); err != nil {
			return nil, err
		}
		if a.V, err = pick("adam_v/"); err != nil {
			return nil, err
		}
		c.Adam = a
	}
	switch h := meta["history"]; h {
	case "apart":
		c.HistoryApart = true
	case "":
		if c.Losses, err = DecodeHistory(meta["losses"]); err != nil {
			return nil, fmt.Errorf("%w: loss history: %v", sweeps.ErrCorrupt, err)
		}
	default:
		return nil, fmt.Errorf("%w: checkpoint history %q (want apart, or the history in \"losses\")", sweeps.ErrCorrupt, h)
	}
	return c, nil
}

// Hooks connect a training stage to its caller: cancellation, progress,
// periodic checkpoints and resumption. The zero value trains silently.
type Hooks struct {
	// OnEpoch is called after every epoch with the epoch's mean losses.
	OnEpoch func(EpochReport)
	// CheckpointEvery K > 0 calls OnCheckpoint after every K-th epoch and
	// after the last one.
	CheckpointEvery int
	OnCheckpoint    func(*Checkpoint) error
	// Resume, when set, restores weights, optimizer and epoch first.
	Resume *Checkpoint
	// Plateau, when set, ends training early once every loss term has
	// plateaued (checked every Plateau.Window epochs).
	Plateau *Plateau
}

// EpochReport is what OnEpoch receives.
type EpochReport struct {
	Stage  string
	Epoch  int // 1-based number of epochs completed
	Epochs int
	Losses map[string]float64
}

// EpochOrder returns the order in which an epoch visits n items: a
// permutation drawn from a PCG seeded with (seed, epoch), so the data order
// of an epoch never depends on what ran before it.
func EpochOrder(n int, seed uint64, epoch int) []int {
	return rand.New(rand.NewPCG(seed, 0xe90c<<32|uint64(epoch))).Perm(n)
}

// loop is the training loop shared by every stage.
type loop struct {
	stage  string
	params Params
	nodes  []*G.Node // the graph nodes of params, same order
	vm     G.VM
	adam   *Adam
	epochs int
	// batches returns the item indices of each step of an epoch.
	batches func(epoch int) [][]int
	// feed sets the graph's inputs for one step.
	feed func(idx []int) error
	// reads are the loss terms to report; the first is the total.
	names []string
	reads []*G.Value
}

func (l *loop) run(ctx context.Context, h Hooks) ([]map[string]float64, error) {
	start := 0
	var history []map[string]float64
	if c := h.Resume; c != nil {
		if c.Epoch < 1 || c.Epoch > l.epochs || len(c.Losses) != c.Epoch {
			return nil, fmt.Errorf("resume %s: %w: checkpoint at epoch %d with %d epochs of loss history, training runs %d epochs: delete the checkpoint to train from scratch", l.stage, sweeps.ErrCorrupt, c.Epoch, len(c.Losses), l.epochs)
		}
		if err := l.params.CopyFrom(c.Params); err != nil {
			return nil, fmt.Errorf("resume %s: %w", l.stage, err)
		}
		if c.Adam != nil && c.Adam.LR != l.adam.LR {
			return nil, fmt.Errorf("resume %s: %w: checkpoint was written with learning rate %g, this run trains with %g: delete the checkpoint to train from scratch", l.stage, sweeps.ErrCorrupt, c.Adam.LR, l.adam.LR)
		}
		if c.Adam != nil {
			if err := l.adam.M.CopyFrom(c.Adam.M); err != nil {
				return nil, fmt.Errorf("resume %s: %w", l.stage, err)
			}
			if err := l.adam.V.CopyFrom(c.Adam.V); err != nil {
				return nil, fmt.Errorf("resume %s: %w", l.stage, err)
			}
			l.adam.Step = c.Adam.Step
		}
		start = c.Epoch
		history = append(history, c.Losses...)
		// A run that stopped at this very epoch stops again: the decision
		// depends on the loss history only, which the checkpoint holds.
		if h.Plateau.stopsAt(start, l.epochs, history) {
			return history, nil
		}
	}
	for epoch := start; epoch < l.epochs; epoch++ {
		if err := ctx.Err(); err != nil {
			return history, err
		}
		sums := make([]float64, len(l.reads))
		steps := l.batches(epoch)
		for _, idx := range steps {
			if err := ctx.Err(); err != nil {
				return history, err
			}
			if err := l.feed(idx); err != nil {
				return history, err
			}
			if err := l.vm.RunAll(); err != nil {
				l.vm.Reset()
				return history, fmt.Errorf("%s epoch %d: %w", l.stage, epoch+1, err)
			}
			for i, r := range l.reads {
				sums[i] += ops.Scalar(*r)
			}
			if total := ops.Scalar(*l.reads[0]); !finite(total) {
				l.vm.Reset()
				return history, fmt.Errorf("%s epoch %d: %w (total loss %v): lower the learning rate or check the data for NaN/Inf", l.stage, epoch+1, ErrNonFinite, total)
			}
			if err := l.adam.update(l.params, l.nodes); err != nil {
				return history, err
			}
			l.vm.Reset()
		}
		// The loss was finite before each update; the last update can
		// still overflow the weights (lr 1e300 in one epoch), and NaN
		// generators measured inv_ratio 0 and passed.
		if p := nonFiniteParam(l.params); p != "" {
			return history, &nonFiniteError{fmt.Sprintf("%s epoch %d: the weights %s are not finite after the epoch's last update (the training diverged): lower the learning rate", l.stage, epoch+1, p)}
		}
		losses := map[string]float64{}
		for i, n := range l.names {
			losses[n] = sums[i] / float64(len(steps))
		}
		history = append(history, losses)
		if h.OnEpoch != nil {
			h.OnEpoch(EpochReport{Stage: l.stage, Epoch: epoch + 1, Epochs: l.epochs, Losses: losses})
		}
		periodic := h.CheckpointEvery > 0 && ((epoch+1)%h.CheckpointEvery == 0 || epoch+1 == l.epochs)
		// Without checkpoints a hand-back would lose every epoch: such a
		// stage trains on, within the worker's stop timeout.
		checkpoints := h.OnCheckpoint != nil && h.CheckpointEvery > 0
		handBack := checkpoints && epoch+1 < l.epochs && stopped(ctx) && !h.Plateau.stopsAt(epoch+1, l.epochs, history)
		if checkpoints && (periodic || handBack) {
			c := &Checkpoint{Stage: l.stage, Epoch: epoch + 1, Params: l.params, Adam: l.adam, Losses: history}
			if err := h.OnCheckpoint(c); err != nil {
				return history, fmt.Errorf("%s checkpoint at epoch %d: %w", l.stage, epoch+1, err)
			}
		}
		if handBack {
			return history, fmt.Errorf("%s: %w after epoch %d of %d (checkpoint written; the next attempt resumes there)", l.stage, ErrHandedBack, epoch+1, l.epochs)
		}
		if h.Plateau.stopsAt(epoch+1, l.epochs, history) {
			break
		}
	}
	return history, nil
}

// nonFiniteParam names the first parameter holding NaN or ±Inf, "" when
// every value is finite.
func nonFiniteParam(ps Params) string {
	for _, p := range ps {
		var s float64
		switch w := p.Dense.Data().(type) {
		case []float64:
			for _, v := range w {
				s += v * 0
			}
		case []float32:
			for _, v := range w {
				s += float64(v * 0)
			}
		}
		if s != 0 {
			return p.Name
		}
	}
	return ""
}

// Plateau is the early-stopping rule: every Window epochs (from 2·Window
// on), compare each loss term's mean over the last Window epochs with its
// mean over the Window before; when no term improved by more than Tol
// (relative), training stops. It depends on the loss history only and is
// checked at fixed epochs, so a run resumed from a checkpoint stops at
// the same epoch as an uninterrupted one, with the same weights.
type Plateau struct {
	Window int
	Tol    float64
}

// stopsAt reports whether training stops after epoch (of epochs).
func (p *Plateau) stopsAt(epoch, epochs int, history []map[string]float64) bool {
	if p == nil || p.Window <= 0 || epoch >= epochs || epoch%p.Window != 0 || epoch < 2*p.Window || len(history) < epoch {
		return false
	}
	return p.Reached(history[:epoch])
}

// Reached reports whether every loss term of the history has plateaued.
func (p Plateau) Reached(history []map[string]float64) bool {
	w := p.Window
	if w <= 0 || len(history) < 2*w {
		return false
	}
	last, prev := history[len(history)-w:], history[len(history)-2*w:len(history)-w]
	for term := range history[len(history)-1] {
		if term == "total" {
			continue
		}
		var cur, before float64
		for i := range w {
			cur += last[i][term]
			before += prev[i][term]
		}
		cur, before = cur/float64(w), before/float64(w)
		// A term at the level of float64 noise has nothing left to gain.
		if math.Abs(before) < 1e-300 {
			continue
		}
		if (before-cur)/math.Abs(before) > p.Tol {
			return false
		}
	}
	return true
}

// miniBatches splits the epoch's order into full batches of size b (the
// graph's shapes are fixed, so a last partial batch is dropped; the order
// changes every epoch, so every item is still visited). b ≤ 0 or b ≥ n means
// one full batch in the original order.
func miniBatches(n, b int, seed uint64) func(epoch int) [][]int {
	return func(epoch int) [][]int {
		if b <= 0 || b >= n {
			idx := make([]int, n)
			for i := range idx {
				idx[i] = i
			}
			return [][]int{idx}
		}
		order := EpochOrder(n, seed, epoch)
		var out [][]int
		for s := 0; s+b <= n; s += b {
			out = append(out, order[s:s+b])
		}
		return out
	}
}

// decodeLosses reads the loss history format of checkpoints written before
// EncodeHistory.
func decodeLosses(s string) ([]map[string]float64, error) {
	if s == "" {
		return nil, nil
	}
	var out []map[string]float64
	for _, ep := range bytes.Split([]byte(s), []byte(";")) {
		m := map[string]float64{}
		for _, kv := range bytes.Split(ep, []byte(",")) {
			k, v, ok := bytes.Cut(kv, []byte("="))
			if !ok {
				return nil, fmt.Errorf("entry %q", kv)
			}
			f, err := strconv.ParseFloat(string(v), 64)
			if err != nil {
				return nil, err
			}
			m[string(k)] = f
		}
		out = append(out, m)
	}
	return out, nil
}
