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
	"runtime/debug"
	"slices"
	"sync"
	"time"

	"github.com/liesweep/liesweep/datasets"
	"github.com/liesweep/liesweep/models"
	"github.com/liesweep/liesweep/sweeps"
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
	// noTrain makes every stage that is not stored fail with
	// sweeps.ErrStageMissing instead of training it (AnalyzeTrial).
	noTrain bool
}

type mnistCache struct {
	mu    sync.Mutex
	mnist *datasets.MNIST
	// loads are the image sets and tables read (or being read) from the
	// store, by digest (and for tables the columns read), oldest first in
	// order; at most maxLoads finished ones are kept.
	loads map[string]*dataLoad
	order []string
}

// maxLoads bounds the data sets a runner keeps read: a worker serves
// sweep after sweep, and a table may be a gigabyte.
const maxLoads = 4

// dataLoad is one data set being read, or read, from the store.
type dataLoad struct {
	done chan struct{}
	v    any
	err  error
}

// cachedLoad returns what load returns for key, calling it once per
// runner while its result is kept: the first caller reads outside the
// cache's lock (other data is not held up), callers of the same key
// meanwhile wait for it, and a failed load is tried again by a later call.
// load runs in its own goroutine on the first caller's context without
// its cancellation, so that caller giving up does not fail the others
// waiting for the same data; every caller, the first too, stops waiting
// when its own context ends.
func cachedLoad[T any](ctx context.Context, r *Runner, key string, load func(ctx context.Context) (T, error)) (T, error) {
	r.ensureCache()
	c := r.cache
	c.mu.Lock()
	if c.loads == nil {
		c.loads = map[string]*dataLoad{}
	}
	l := c.loads[key]
	if l == nil {
		l = &dataLoad{done: make(chan struct{})}
		c.loads[key] = l
		c.order = append(c.order, key)
		for i := 0; len(c.loads) > maxLoads && i < len(c.order); {
			k := c.order[i]
			select {
			case <-c.loads[k].done:
				delete(c.loads, k)
				c.order = append(c.order[:i], c.order[i+1:]...)
			default:
				i++ // still loading: kept
			}
		}
		c.mu.Unlock()
		go func() {
			defer func() {
				if p := recover(); p != nil {
					l.err = fmt.Errorf("load %s: panic: %v", key, p)
				}
				if l.err != nil {
					c.mu.Lock()
					if c.loads[key] == l {
						delete(c.loads, key)
						c.order = slices.DeleteFunc(c.order, func(k string) bool { return k == key })
					}
					c.mu.Unlock()
				}
				close(l.done)
			}()
			l.v, l.err = load(context.WithoutCancel(ctx))
		}()
	} else {
		c.mu.Unlock()
	}
	var zero T
	select {
	case <-l.done:
		if l.err != nil {
			return zero, l.err
		}
		return l.v.(T), nil
	case <-ctx.Done():
		return zero, ctx.Err()
	}
}

// WithProgress returns a runner that reports to progress and shares r's
// store and loaded data.
func (r *Runner) WithProgress(progress func(Event)) *Runner {
	r.ensureCache()
	return &Runner{Store: r.Store, MNISTDir: r.MNISTDir, Progress: progress, Worker: r.Worker, cache: r.cache, noTrain: r.noTrain}
}

// cacheInit guards the creation of a runner's cache: the activities share
// one runner and call WithProgress concurrently.
var cacheInit sync.Mutex

func (r *Runner) ensureCache() {
	cacheInit.Lock()
	defer cacheInit.Unlock()
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
// checkpoint when one is stored (a corrupt one, or one written for another
// configuration, is reported and ignored) and stores a new one every
// `every` epochs. The loss history is stored apart from the checkpoint, in
// chunks of historyChunk epochs that are appended to (storeHistory), so a
// checkpoint costs the same at epoch 10 000 as at epoch 10.
func (r *Runner) trainStage(ctx context.Context, stage, key string, like models.Params, every int, train func(models.Hooks) error) (resumedFrom int, err error) {
	ckKey := sweeps.ArtifactKey(stage, key, "checkpoint.safetensors")
	stored := 0 // epochs of loss history in the store
	h := models.Hooks{
		CheckpointEvery: every,
		OnEpoch: func(e models.EpochReport) {
			r.emit(Event{Stage: stage, Epoch: e.Epoch, Epochs: e.Epochs, Losses: e.Losses})
		},
		OnCheckpoint: func(c *models.Checkpoint) error {
			// The history first: a checkpoint in the store always finds
			// its history there (a chunk may run ahead of it, never behind).
			if err := r.storeHistory(ctx, stage, key, c.Losses, stored); err != nil {
				return err
			}
			stored = c.Epoch
			c.Config, c.HistoryApart = key, true
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
		c, derr := r.decodeCheckpoint(ctx, b, stage, key, like)
		if derr != nil && !errors.Is(derr, sweeps.ErrCorrupt) && !errors.Is(derr, sweeps.ErrNotFound) {
			// the store failed to answer (a chunk read timed out): the
			// checkpoint may be good, so the attempt fails and is retried
			// rather than overwriting it from scratch
			return 0, fmt.Errorf("read checkpoint %s: %w", ckKey, derr)
		}
		if derr != nil {
			r.emit(Event{Stage: stage, Message: fmt.Sprintf("checkpoint %s is unusable (%v): training %s from scratch", ckKey, derr, stage)})
			break
		}
		h.Resume = c
		resumedFrom = c.Epoch
		if c.HistoryApart {
			stored = c.Epoch
		} // else written with its history inside: the next checkpoint stores every chunk
		r.emit(Event{Stage: stage, Epoch: c.Epoch, Message: fmt.Sprintf("resuming %s from epoch %d", stage, c.Epoch)})
	case errors.Is(err, sweeps.ErrCorrupt):
		r.emit(Event{Stage: stage, Message: fmt.Sprintf("checkpoint is corrupt (%v): not used, training %s from scratch", err, stage)})
	case errors.Is(err, sweeps.ErrNotFound):
	default:
		return 0, fmt.Errorf("read checkpoint: %w", err)
	}
	err = train(h)
	if h.Resume != nil && errors.Is(err, sweeps.ErrCorrupt) && ctx.Err() == nil {
		// refused at the resume itself (a learning rate or an epoch count
		// the checkpoint does not match): reported, not used
		r.emit(Event{Stage: stage, Message: fmt.Sprintf("checkpoint %s is unusable (%v): training %s from scratch", ckKey, err, stage)})
		h.Resume, resumedFrom, stored = nil, 0, 0
		err = train(h)
	}
	return resumedFrom, err
}

// historyChunk is the number of epochs of loss history in one stored
// chunk: a checkpoint rewrites at most the chunk it ends in.
const historyChunk = 256

func historyKey(stage, key string, chunk int) string {
	return sweeps.ArtifactKey(stage, key, fmt.Sprintf("checkpoint.losses-%05d.json", chunk))
}

// storeHistory stores the loss history from epoch `stored` on: the chunk
// that epoch falls in (rewritten, with what it held) and every chunk after
// it. Full chunks before it are not written again.
func (r *Runner) storeHistory(ctx context.Context, stage, key string, history []map[string]float64, stored int) error {
	for i := stored / historyChunk; i*historyChunk < len(history); i++ {
		chunk := history[i*historyChunk : min((i+1)*historyChunk, len(history))]
		if err := r.Store.Put(ctx, historyKey(stage, key, i), []byte(models.EncodeHistory(chunk))); err != nil {
			return fmt.Errorf("store loss history (epochs %d–%d): %w", i*historyChunk+1, i*historyChunk+len(chunk), err)
		}
	}
	return nil
}

// decodeCheckpoint decodes a stage's checkpoint and reads its loss history
// back from the chunks. A checkpoint recorded for another configuration
// than key (an object copied between keys) is refused.
func (r *Runner) decodeCheckpoint(ctx context.Context, b []byte, stage, key string, like models.Params) (*models.Checkpoint, error) {
	c, err := models.DecodeCheckpoint(b, stage, like)
	if err != nil {
		return nil, err
	}
	if c.Config != "" && c.Config != key {
		return nil, fmt.Errorf("%w: it was written for the configuration %s, this training is %s (its hyperparameters differ)", sweeps.ErrCorrupt, c.Config, key)
	}
	if !c.HistoryApart {
		return c, nil // written before the history was stored apart
	}
	for i := 0; i*historyChunk < c.Epoch; i++ {
		want := min(historyChunk, c.Epoch-i*historyChunk)
		hb, err := r.Store.Get(ctx, historyKey(stage, key, i))
		if err != nil {
			return nil, fmt.Errorf("loss history of epochs %d–%d: %w", i*historyChunk+1, i*historyChunk+want, err)
		}
		h, err := models.DecodeHistory(string(hb))
		if err != nil {
			return nil, err
		}
		if len(h) < want {
			return nil, fmt.Errorf("%w: loss history chunk %d holds %d epochs, the checkpoint needs %d", sweeps.ErrCorrupt, i, len(h), want)
		}
		c.Losses = append(c.Losses, h[:want]...)
	}
	return c, nil
}

// missing is the error of a stage that AnalyzeTrial needs and finds absent.
func missing(stage, key string) error {
	return fmt.Errorf("%w: %s is not stored at %s (its training activity must run first; resume the sweep)", sweeps.ErrStageMissing, stage, key)
}

// exists reports whether key is stored (false when the store cannot say).
func (r *Runner) exists(ctx context.Context, key string) bool {
	ok, err := r.Store.Exists(ctx, key)
	return err == nil && ok
}

// getOptional returns the object or nil when it is absent.
func (r *Runner) getOptional(ctx context.Context, key string) ([]byte, error) {
	b, err := r.Store.Get(ctx, key)
	if errors.Is(err, sweeps.ErrNotFound) {
		return nil, nil
	}
	return b, err
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

// interruptible runs f in a goroutine of its own and returns its error, or
// ctx's as soon as ctx is done: for long computations that do not watch
// ctx, so that a cancel or Ctrl-C does not wait for them. After a cancel f
// runs on to its end unobserved, so it must only write variables the
// caller reads after a nil return. A panic in f is raised again in the
// caller's goroutine (where the activities turn it into an error).
func interruptible(ctx context.Context, f func() error) error {
	type outcome struct {
		err      error
		panicked any
		stack    []byte
	}
	done := make(chan outcome, 1)
	go func() {
		defer func() {
			if p := recover(); p != nil {
				done <- outcome{panicked: p, stack: debug.Stack()}
			}
		}()
		done <- outcome{err: f()}
	}()
	select {
	case o := <-done:
		if o.panicked != nil {
			panic(fmt.Sprintf("%v\n\n[in the analysis goroutine]\n%s", o.panicked, o.stack))
		}
		return o.err
	case <-ctx.Done():
		return ctx.Err()
	}
}
