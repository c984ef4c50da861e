// Package storetest is the contract every sweeps.ArtifactStore passes; each
// implementation's tests run it against a real instance.
package storetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/liesweep/liesweep/sweeps"
)

// Corrupter alters a stored object's bytes behind the store's back.
type Corrupter func(t *testing.T, key string)

// Run checks put/get/exists/list/delete, not-found and corruption.
func Run(t *testing.T, s sweeps.ArtifactStore, corrupt Corrupter) {
	ctx := context.Background()
	big := bytes.Repeat([]byte("liesweep"), 1<<20) // 8 MiB
	objects := map[string][]byte{
		"artifacts/generators/abc/weights.safetensors": []byte("weights"),
		"artifacts/generators/abc/result.json":         []byte(`{"ng":1}`),
		"artifacts/oracle/def/weights.safetensors":     big,
		"sweeps/s1/verdict.json":                       []byte("{}"),
	}
	for k, v := range objects {
		if err := s.Put(ctx, k, v); err != nil {
			t.Fatalf("put %s: %v", k, err)
		}
	}
	for k, v := range objects {
		got, err := s.Get(ctx, k)
		if err != nil || !bytes.Equal(got, v) {
			t.Errorf("get %s: %d bytes, %v; want %d bytes", k, len(got), err, len(v))
		}
		if ok, err := s.Exists(ctx, k); !ok || err != nil {
			t.Errorf("exists %s: %v %v", k, ok, err)
		}
	}
	if _, err := s.Get(ctx, "artifacts/none/x"); !errors.Is(err, sweeps.ErrNotFound) {
		t.Errorf("get of a missing key: want ErrNotFound, got %v", err)
	}
	if ok, _ := s.Exists(ctx, "artifacts/none/x"); ok {
		t.Error("exists of a missing key")
	}
	keys, err := s.List(ctx, "artifacts/generators/")
	if err != nil || fmt.Sprint(keys) != "[artifacts/generators/abc/result.json artifacts/generators/abc/weights.safetensors]" {
		t.Errorf("list: %v %v", keys, err)
	}
	// overwrite
	if err := s.Put(ctx, "sweeps/s1/verdict.json", []byte(`{"v":2}`)); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.Get(ctx, "sweeps/s1/verdict.json"); string(got) != `{"v":2}` {
		t.Errorf("overwrite: got %s", got)
	}
	// corruption is detected, never returned as data
	corrupt(t, "artifacts/generators/abc/weights.safetensors")
	if got, err := s.Get(ctx, "artifacts/generators/abc/weights.safetensors"); !errors.Is(err, sweeps.ErrCorrupt) {
		t.Errorf("corrupt object: want ErrCorrupt, got %q, %v", got, err)
	}
	if err := s.Delete(ctx, "sweeps/s1/verdict.json"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get(ctx, "sweeps/s1/verdict.json"); !errors.Is(err, sweeps.ErrNotFound) {
		t.Errorf("after delete: %v", err)
	}
}
