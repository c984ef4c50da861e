package main

import (
	"github.com/liesweep/liesweep/sweeps"
	"github.com/spf13/cobra"
)

// newSchemaCmd prints the spec's JSON Schema, or its Markdown reference:
// what `make schema` writes to docs/spec.schema.json and
// docs/spec-reference.md.
func newSchemaCmd() *cobra.Command {
	var reference bool
	cmd := &cobra.Command{
		Use:   "schema",
		Short: "Print the JSON Schema of a sweep spec (--reference: its Markdown reference)",
		Long: `Print the JSON Schema (draft 2020-12) of a sweep spec, generated from the
spec's Go types: every key with its type, default, bounds and meaning. It is
committed as docs/spec.schema.json; a spec whose first line is

  # yaml-language-server: $schema=../docs/spec.schema.json

(the path relative to the spec) is validated and completed by editors with
the YAML language server. --reference prints docs/spec-reference.md instead.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			out := sweeps.SpecSchema()
			if reference {
				out = []byte(sweeps.SpecReference())
			}
			_, err := cmd.OutOrStdout().Write(out)
			return err
		},
	}
	cmd.Flags().BoolVar(&reference, "reference", false, "print the Markdown reference (docs/spec-reference.md) instead of the schema")
	return cmd
}
