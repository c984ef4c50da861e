package filestore

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/liesweep/liesweep/infra/storetest"
	"github.com/liesweep/liesweep/sweeps"
)

func TestContract(t *testing.T) {
	dir := t.TempDir()
	s, err := New(dir)
	if err != nil {
		t.Fatal(err)
	}
	storetest.Run(t, s, func(t *testing.T, key string) {
		p := filepath.Join(dir, filepath.FromSlash(key))
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		b[0] ^= 0xff
		os.WriteFile(p, b, 0o644)
	})
}

// TestFailedPutKeepsPrevious: a write of a new version that fails —
// while writing the object or while writing its digest — leaves the
// previous version readable and verified.
func TestFailedPutKeepsPrevious(t *testing.T) {
	for failAt := 1; failAt <= 2; failAt++ {
		dir := t.TempDir()
		s, err := New(dir)
		if err != nil {
			t.Fatal(err)
		}
		ctx := context.Background()
		if err := s.Put(ctx, "a/ck", []byte("good")); err != nil {
			t.Fatal(err)
		}
		calls := 0
		createTemp = func(dir, pattern string) (*os.File, error) {
			calls++
			if calls == failAt {
				return nil, errors.New("no space left on device")
			}
			return os.CreateTemp(dir, pattern)
		}
		err = s.Put(ctx, "a/ck", []byte("new version"))
		createTemp = os.CreateTemp
		if err == nil || !strings.Contains(err.Error(), "unchanged") {
			t.Errorf("failing write %d: %v, want an error saying the previous object is unchanged", failAt, err)
		}
		if b, err := s.Get(ctx, "a/ck"); err != nil || string(b) != "good" {
			t.Errorf("failing write %d: then read %q, %v; want the previous version", failAt, b, err)
		}
		if ents, _ := os.ReadDir(filepath.Join(dir, "a")); len(ents) != 2 {
			t.Errorf("failing write %d left %d files in a/, want the object and its digest", failAt, len(ents))
		}
	}
}

// TestMissingDigestIsCorrupt: an object whose .sha256 was deleted is
// reported as corrupt, not read unverified and not taken as absent.
func TestMissingDigestIsCorrupt(t *testing.T) {
	dir := t.TempDir()
	s, _ := New(dir)
	ctx := context.Background()
	if err := s.Put(ctx, "k", []byte("x")); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(dir, "k.sha256")); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get(ctx, "k"); !errors.Is(err, sweeps.ErrCorrupt) || !strings.Contains(err.Error(), "digest") {
		t.Errorf("got %v, want ErrCorrupt about the digest", err)
	}
}

// TestObjectsAreReadable: objects and digests are written 0644 like every
// other file of a run (they were 0600, the temporary file's mode).
func TestObjectsAreReadable(t *testing.T) {
	dir := t.TempDir()
	s, err := New(dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Put(context.Background(), "results/r.json", []byte("{}")); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"results/r.json", "results/r.json.sha256"} {
		fi, err := os.Stat(filepath.Join(dir, filepath.FromSlash(f)))
		if err != nil || fi.Mode().Perm() != 0o644 {
			t.Errorf("%s: mode %v (%v), want 0644", f, fi.Mode().Perm(), err)
		}
	}
}
