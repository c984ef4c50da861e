package sweeps

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
)

// Errors an ArtifactStore reports; match them with errors.Is.
var (
	ErrNotFound = errors.New("artifact not found")
	ErrCorrupt  = errors.New("artifact corrupt")
	// ErrStageMissing: a stage's output that an analysis needs is not
	// stored (the analysis never trains).
	ErrStageMissing = errors.New("stage output missing")
)

// ArtifactStore keeps stage outputs and checkpoints under slash-separated
// keys. Put publishes atomically (a reader sees the whole object or none)
// with the SHA-256 of the bytes; Get verifies it and returns an error
// wrapping ErrCorrupt on a mismatch, ErrNotFound when absent.
type ArtifactStore interface {
	Put(ctx context.Context, key string, data []byte) error
	Get(ctx context.Context, key string) ([]byte, error)
	Exists(ctx context.Context, key string) (bool, error)
	List(ctx context.Context, prefix string) ([]string, error)
	Delete(ctx context.Context, key string) error
}

// Digest returns the hex SHA-256 of b.
func Digest(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// StageKey returns the content address of a stage: the first 20 hex digits
// of the SHA-256 of the canonical JSON of cfg, which holds the stage's own
// configuration, its format version and the keys of its upstream stages.
func StageKey(cfg any) string {
	b, err := json.Marshal(cfg)
	if err != nil {
		panic(fmt.Sprintf("sweeps: stage config is not JSON: %v", err))
	}
	return Digest(b)[:20]
}
