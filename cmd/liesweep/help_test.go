package main

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var updateHelp = flag.Bool("update-help", false, "rewrite the golden help texts in testdata/help")

// TestHelpGolden: the help a new user reads first — the root command, train,
// run, validate and sweep start — is what testdata/help holds (run with
// -update-help after changing a command on purpose).
func TestHelpGolden(t *testing.T) {
	for _, args := range [][]string{{}, {"train"}, {"run"}, {"validate"}, {"sweep", "start"}} {
		name := "root"
		if len(args) > 0 {
			name = strings.Join(args, "-")
		}
		out, _, code := execute(t, append(args, "--help")...)
		if code != 0 {
			t.Fatalf("%s --help exited %d", name, code)
		}
		// The version line depends on the build.
		golden := filepath.Join("testdata", "help", name+".golden")
		if *updateHelp {
			os.MkdirAll(filepath.Dir(golden), 0o755)
			if err := os.WriteFile(golden, []byte(out), 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(golden)
		if err != nil {
			t.Fatalf("%v (run go test ./cmd/liesweep -run TestHelpGolden -update-help)", err)
		}
		if out != string(want) {
			t.Errorf("%s --help differs from %s (run with -update-help if the change is meant):\n%s", name, golden, out)
		}
	}
}
