// Package filestore is an ArtifactStore on a local directory: what
// `liesweep train` uses, and the reference the S3 store is tested against.
package filestore

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/liesweep/liesweep/sweeps"
)

var _ sweeps.ArtifactStore = (*Store)(nil)

// Store keeps each object in a file under Root, with its SHA-256 in a
// ".sha256" file beside it. Put writes both through temporary files and
// renames the object first and the digest last, so an object is never
// read with another object's digest; an object without its digest is
// reported as corrupt (ErrCorrupt), never used unverified.
type Store struct{ Root string }

// New returns a store rooted at dir, creating it.
func New(dir string) (*Store, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("artifact store %s: %w", dir, err)
	}
	return &Store{Root: dir}, nil
}

func (s *Store) path(key string) (string, error) {
	if err := sweeps.ValidateKey(key); err != nil {
		return "", err
	}
	if strings.HasSuffix(key, ".sha256") || strings.HasPrefix(key[strings.LastIndex(key, "/")+1:], ".tmp-") {
		return "", fmt.Errorf("artifact key %q: names ending in .sha256 or starting with .tmp- are the store's own", key)
	}
	return filepath.Join(s.Root, filepath.FromSlash(key)), nil
}

// createTemp is os.CreateTemp; tests make it fail.
var createTemp = os.CreateTemp

// writeTemp writes data to a synced temporary file in dir.
func writeTemp(dir string, data []byte) (string, error) {
	tmp, err := createTemp(dir, ".tmp-*")
	if err != nil {
		return "", err
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return "", err
	}
	// the mode of any file this process writes (CreateTemp makes 0600;
	// results and weights were then unreadable to the rest of a team)
	if err := tmp.Chmod(0o644); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return "", err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return "", err
	}
	if err := tmp.Close(); err != nil {
		os.Remove(tmp.Name())
		return "", err
	}
	return tmp.Name(), nil
}

// Put stores data under key. The new object and its digest are written
// in full to temporary files first, so a failed write (disk full, I/O
// error) leaves the previous object and digest as they were; only then are
// they switched in by renames: the old digest removed, the object renamed,
// the digest renamed.
func (s *Store) Put(ctx context.Context, key string, data []byte) error {
	p, err := s.path(key)
	if err != nil {
		return err
	}
	dir := filepath.Dir(p)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("put %s: %w", key, err)
	}
	obj, err := writeTemp(dir, data)
	if err != nil {
		return fmt.Errorf("put %s: %w (the previous object, if any, is unchanged)", key, err)
	}
	defer os.Remove(obj)
	sum, err := writeTemp(dir, []byte(sweeps.Digest(data)))
	if err != nil {
		return fmt.Errorf("put %s digest: %w (the previous object, if any, is unchanged)", key, err)
	}
	defer os.Remove(sum)
	if err := os.Remove(p + ".sha256"); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("put %s: %w", key, err)
	}
	if err := os.Rename(obj, p); err != nil {
		return fmt.Errorf("put %s: %w", key, err)
	}
	if err := os.Rename(sum, p+".sha256"); err != nil {
		return fmt.Errorf("put %s digest: %w", key, err)
	}
	return nil
}

// Get returns the object under key after checking its SHA-256.
func (s *Store) Get(ctx context.Context, key string) ([]byte, error) {
	p, err := s.path(key)
	if err != nil {
		return nil, err
	}
	want, err := os.ReadFile(p + ".sha256")
	if errors.Is(err, fs.ErrNotExist) {
		if _, serr := os.Stat(p); serr == nil {
			return nil, fmt.Errorf("get %s (%s): %w: its digest %s.sha256 is missing (deleted, or a write interrupted between its renames), so it cannot be verified; delete the object to have its stage recomputed", key, p, sweeps.ErrCorrupt, filepath.Base(p))
		}
		return nil, fmt.Errorf("get %s: %w", key, sweeps.ErrNotFound)
	} else if err != nil {
		return nil, fmt.Errorf("get %s: %w", key, err)
	}
	data, err := os.ReadFile(p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("get %s: %w", key, sweeps.ErrNotFound)
	} else if err != nil {
		return nil, fmt.Errorf("get %s: %w", key, err)
	}
	if got := sweeps.Digest(data); got != strings.TrimSpace(string(want)) {
		return nil, fmt.Errorf("get %s (%s): %w: sha256 is %s, recorded %s; delete the object to have its stage recomputed", key, p, sweeps.ErrCorrupt, got, strings.TrimSpace(string(want)))
	}
	return data, nil
}

// Exists reports whether a complete object is stored under key.
func (s *Store) Exists(ctx context.Context, key string) (bool, error) {
	p, err := s.path(key)
	if err != nil {
		return false, err
	}
	_, err1 := os.Stat(p)
	_, err2 := os.Stat(p + ".sha256")
	return err1 == nil && err2 == nil, nil
}

// List returns the keys under prefix, sorted.
func (s *Store) List(ctx context.Context, prefix string) ([]string, error) {
	var out []string
	err := filepath.WalkDir(s.Root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			return err
		}
		if d.IsDir() || strings.HasSuffix(path, ".sha256") || strings.HasPrefix(d.Name(), ".tmp-") {
			return nil
		}
		rel, _ := filepath.Rel(s.Root, path)
		key := filepath.ToSlash(rel)
		if strings.HasPrefix(key, prefix) {
			if _, err := os.Stat(path + ".sha256"); err == nil {
				out = append(out, key)
			}
		}
		return nil
	})
	sort.Strings(out)
	return out, err
}

// Delete removes the object under key (absent is not an error).
func (s *Store) Delete(ctx context.Context, key string) error {
	p, err := s.path(key)
	if err != nil {
		return err
	}
	os.Remove(p + ".sha256")
	if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("delete %s: %w", key, err)
	}
	return nil
}
