package main

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/go-viper/mapstructure/v2"
	"github.com/liesweep/liesweep/sweeps"
	"github.com/spf13/viper"
)

// loadSpec reads a YAML sweep spec through viper over the documented
// defaults. Unknown keys are an error naming the key; the spec is then
// normalised and validated.
func loadSpec(r io.Reader) (*sweeps.Spec, error) {
	raw, err := io.ReadAll(r)
	if err != nil {
		return nil, err
	}
	v := viper.New()
	v.SetConfigType("yaml")
	if err := v.ReadConfig(bytes.NewReader(raw)); err != nil {
		return nil, fmt.Errorf("spec is not valid YAML: %w", err)
	}
	spec := sweeps.DefaultSpec()
	err = v.UnmarshalExact(&spec, func(c *mapstructure.DecoderConfig) {
		c.ErrorUnused = true
		c.ZeroFields = false
	})
	if err != nil {
		return nil, fmt.Errorf("%w: %s (see the configuration reference in README.md)", sweeps.ErrInvalidSpec, strings.ReplaceAll(err.Error(), "\n", " "))
	}
	spec.Normalize()
	if err := spec.Validate(); err != nil {
		return nil, err
	}
	return &spec, nil
}

func loadSpecFile(path string) (*sweeps.Spec, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open spec: %w", err)
	}
	defer f.Close()
	s, err := loadSpec(f)
	if err != nil {
		return nil, fmt.Errorf("spec %s: %w", path, err)
	}
	return s, nil
}
