package pipeline

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

// TestInterruptible: a computation that never looks at ctx (the closure
// analysis) no longer holds up a cancel — Ctrl-C during the analysis of
// ℓ = 16, N_g = 64 used to wait 77 s and more; its result arrives when it
// finishes first; its panic reaches the caller's goroutine.
func TestInterruptible(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	release := make(chan struct{})
	defer close(release)
	time.AfterFunc(20*time.Millisecond, cancel)
	start := time.Now()
	err := interruptible(ctx, func() error { <-release; return nil })
	if !errors.Is(err, context.Canceled) || time.Since(start) > 5*time.Second {
		t.Errorf("cancelled after %v with %v, want context.Canceled at once", time.Since(start), err)
	}
	want := errors.New("analysis failed")
	if err := interruptible(context.Background(), func() error { return want }); err != want {
		t.Errorf("got %v, want f's error", err)
	}
	defer func() {
		if p := recover(); p == nil || !strings.Contains(p.(string), "bug in f") {
			t.Errorf("recovered %v, want f's panic", p)
		}
	}()
	interruptible(context.Background(), func() error { panic("bug in f") })
}
