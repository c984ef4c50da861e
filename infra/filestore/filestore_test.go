package filestore

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/liesweep/liesweep/infra/storetest"
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
