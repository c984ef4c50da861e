package devstack

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestUpFailsFastWhenAServerDies: a server that exits at once (a broken
// build, a bad flag, a port taken between the check and the bind) makes
// Up fail within seconds with the end of its log, instead of waiting out
// its 60-second limit (`dev up` did).
func TestUpFailsFastWhenAServerDies(t *testing.T) {
	tools := t.TempDir()
	for _, tool := range []struct{ name, version, script string }{
		{"temporal", TemporalVersion, "#!/bin/sh\necho 'fatal: database is locked' >&2\nexit 1\n"},
		{"minio", MinIOVersion, "#!/bin/sh\nexec sleep 30\n"},
	} {
		p := ToolPath(tools, tool.name, tool.version)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(tool.script), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	var ports [3]int
	for i := range ports {
		ports[i], _ = FreePort()
	}
	s := &Stack{Dir: t.TempDir(), ToolsDir: tools, TemporalPort: ports[0], UIPort: ports[1], MinIOPort: ports[2], AccessKey: "k", SecretKey: "secretsecret"}
	defer s.Down()
	start := time.Now()
	err := s.Up(context.Background())
	if err == nil || !strings.Contains(err.Error(), "temporal exited") || !strings.Contains(err.Error(), "database is locked") {
		t.Fatalf("Up: %v, want temporal's exit and its log", err)
	}
	if d := time.Since(start); d > 15*time.Second {
		t.Errorf("Up took %v to notice", d)
	}
}
