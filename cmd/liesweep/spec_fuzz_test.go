package main

import (
	"bytes"
	"errors"
	"testing"

	"github.com/liesweep/liesweep/sweeps"
)

// FuzzSpecYAML loads arbitrary bytes through the CLI's spec loader: never a
// panic, every error is an invalid spec, and an accepted spec is
// normalised and valid.
func FuzzSpecYAML(f *testing.F) {
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := loadSpec(bytes.NewReader(b))
		if err != nil {
			if !errors.Is(err, sweeps.ErrInvalidSpec) {
				t.Fatalf("error %v does not wrap sweeps.ErrInvalidSpec", err)
			}
			return
		}
		if err := checkSpec(s); err != nil {
			t.Fatalf("an accepted spec does not check: %v", err)
		}
	})
}
