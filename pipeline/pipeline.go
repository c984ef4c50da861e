// Package pipeline runs the stages of one trial (DESIGN §1): autoencoder →
// latents → oracle → generators → analysis for MNIST, generators → analysis
// for analytic oracles. Every stage's output is stored under a content
// address of its config and everything upstream, so a finished stage is
// reused and an interrupted one resumes from its last checkpoint. It is the
// engine behind `liesweep train` and the Temporal activities.
package pipeline

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"sync"
	"time"

	"github.com/liesweep/liesweep/datasets"
	"github.com/liesweep/liesweep/models"
	"github.com/liesweep/liesweep/sweeps"
	"gorgonia.org/tensor"
)

// Event reports progress of a stage.
type Event struct {
	Stage   string
	Epoch   int
	Epochs  int
	Losses  map[string]float64
	Message string
}

// Runner runs stages against an artifact store.
type Runner struct {
	Store    sweeps.ArtifactStore
	MNISTDir string
	// Progress, when set, receives every epoch and stage message.
	Progress func(Event)
	// Worker identifies where trials run (host, GPU); copied into results.
	Worker string

	cache *mnistCache
}

type mnistCache struct {
	mu    sync.Mutex
	mnist *datasets.MNIST
}

// WithProgress returns a runner that reports to progress and shares r's
// store and loaded data.
func (r *Runner) WithProgress(progress func(Event)) *Runner {
	r.ensureCache()
	return &Runner{Store: r.Store, MNISTDir: r.MNISTDir, Progress: progress, Worker: r.Worker, cache: r.cache}
}

func (r *Runner) ensureCache() {
	if r.cache == nil {
		r.cache = &mnistCache{}
	}
}

func (r *Runner) emit(e Event) {
	if r.Progress != nil {
		r.Progress(e)
	}
}

func (r *Runner) loadMNIST(dir string) (*datasets.MNIST, error) {
	r.ensureCache()
	c := r.cache
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.mnist == nil {
		if dir == "" {
			dir = r.MNISTDir
		}
		m, err := datasets.LoadMNIST(dir)
		if err != nil {
			return nil, err
		}
		c.mnist = m
	}
	return c.mnist, nil
}

// trainStage trains one stage with checkpoints: it resumes from the stage's
// checkpoint when one is stored (a corrupt one is reported and ignored) and
// stores a new one every `every` epochs.
func (r *Runner) trainStage(ctx context.Context, stage, key string, like models.Params, every int, train func(models.Hooks) error) (resumedFrom int, err error) {
	ckKey := sweeps.ArtifactKey(stage, key, "checkpoint.safetensors")
	h := models.Hooks{
		CheckpointEvery: every,
		OnEpoch: func(e models.EpochReport) {
			r.emit(Event{Stage: stage, Epoch: e.Epoch, Epochs: e.Epochs, Losses: e.Losses})
		},
		OnCheckpoint: func(c *models.Checkpoint) error {
			b, err := c.Encode()
			if err != nil {
				return err
			}
			return r.Store.Put(ctx, ckKey, b)
		},
	}
	b, err := r.Store.Get(ctx, ckKey)
	switch {
	case err == nil:
		c, derr := models.DecodeCheckpoint(b, stage, like)
		if derr != nil {
			r.emit(Event{Stage: stage, Message: fmt.Sprintf("checkpoint %s is unusable (%v): training %s from scratch", ckKey, derr, stage)})
			break
		}
		h.Resume = c
		resumedFrom = c.Epoch
		r.emit(Event{Stage: stage, Epoch: c.Epoch, Message: fmt.Sprintf("resuming %s from epoch %d", stage, c.Epoch)})
	case errors.Is(err, sweeps.ErrCorrupt):
		r.emit(Event{Stage: stage, Message: fmt.Sprintf("checkpoint is corrupt (%v): not used, training %s from scratch", err, stage)})
	case errors.Is(err, sweeps.ErrNotFound):
	default:
		return 0, fmt.Errorf("read checkpoint: %w", err)
	}
	return resumedFrom, train(h)
}

// getOptional returns the object or nil when it is absent.
func (r *Runner) getOptional(ctx context.Context, key string) ([]byte, error) {
	b, err := r.Store.Get(ctx, key)
	if errors.Is(err, sweeps.ErrNotFound) {
		return nil, nil
	}
	return b, err
}

func encodeTensors(ts map[string]*tensor.Dense, meta map[string]string) ([]byte, error) {
	var buf bytes.Buffer
	if err := models.WriteSafetensors(&buf, ts, meta); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func paramsTensors(prefix string, ps models.Params) map[string]*tensor.Dense {
	out := map[string]*tensor.Dense{}
	for _, p := range ps {
		out[prefix+p.Name] = p.Dense
	}
	return out
}

func rowsTensor(rows [][]float64) *tensor.Dense {
	cols := 1
	if len(rows) > 0 {
		cols = len(rows[0])
	}
	flat := make([]float64, 0, len(rows)*cols)
	for _, r := range rows {
		flat = append(flat, r...)
	}
	return tensor.New(tensor.WithShape(len(rows), cols), tensor.WithBacking(flat))
}

func tensorRows(t *tensor.Dense) [][]float64 {
	d := t.Data().([]float64)
	cols := t.Shape()[len(t.Shape())-1]
	out := make([][]float64, len(d)/cols)
	for i := range out {
		out[i] = d[i*cols : (i+1)*cols]
	}
	return out
}

func intsTensor(v []int) *tensor.Dense {
	f := make([]float64, len(v))
	for i, x := range v {
		f[i] = float64(x)
	}
	return tensor.New(tensor.WithShape(len(v)), tensor.WithBacking(f))
}

func tensorInts(t *tensor.Dense) []int {
	d := t.Data().([]float64)
	out := make([]int, len(d))
	for i, x := range d {
		out[i] = int(x)
	}
	return out
}

func loadInto(b []byte, prefix string, ps models.Params) (map[string]string, error) {
	ts, meta, err := models.ReadSafetensors(bytes.NewReader(b))
	if err != nil {
		return nil, err
	}
	for _, p := range ps {
		t, ok := ts[prefix+p.Name]
		if !ok || !t.Shape().Eq(p.Dense.Shape()) {
			return nil, fmt.Errorf("%w: weights lack %s%s of shape %v", models.ErrCorrupt, prefix, p.Name, p.Dense.Shape())
		}
		p.Dense = t
	}
	return meta, nil
}

func stageRun(stage, key string, start time.Time, reused bool, resumed int) sweeps.StageRun {
	return sweeps.StageRun{Stage: stage, Key: key, Seconds: time.Since(start).Seconds(), Reused: reused, ResumedFrom: resumed}
}

// Hostname names this machine for results.
func Hostname() string {
	h, err := os.Hostname()
	if err != nil {
		return "unknown"
	}
	return h
}

func jsonBytes(v any) []byte {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		panic(err)
	}
	return b
}

func bytesReader(b []byte) *bytes.Reader { return bytes.NewReader(b) }
