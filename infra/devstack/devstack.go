// Package devstack runs the local stack: a Temporal dev server (the
// `temporal` CLI, SQLite file, Web UI) and a MinIO server, built by the
// Makefile from pinned Go modules into a tools cache. All state (database,
// object data, logs, pid files) lives under one directory.
package devstack

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"go.temporal.io/sdk/client"
)

// Pinned versions of the servers (see NOTES-servers in the design docs):
// the newest Temporal CLI whose go.mod `go install` accepts, and the last
// upstream MinIO.
const (
	TemporalModule  = "github.com/temporalio/cli/cmd/temporal"
	TemporalVersion = "v1.5.1"
	MinIOModule     = "github.com/minio/minio"
	MinIOVersion    = "v0.0.0-20260212201848-7aac2a2c5b7c"
)

// ToolPath is where the Makefile installs a tool: <toolsDir>/<name>-<version>/<name>.
func ToolPath(toolsDir, name, version string) string {
	return filepath.Join(toolsDir, name+"-"+version, name)
}

// FindTool returns the installed tool or an error saying how to build it.
func FindTool(toolsDir, name, version string) (string, error) {
	p := ToolPath(toolsDir, name, version)
	if _, err := os.Stat(p); err != nil {
		return "", fmt.Errorf("%s %s is not built at %s: run `make tools` (builds it from the Go module proxy once; ~6 min for temporal, ~9 min for minio on 2 cores)", name, version, p)
	}
	return p, nil
}

// Stack is one local stack.
type Stack struct {
	Dir          string
	ToolsDir     string
	TemporalPort int
	UIPort       int
	MinIOPort    int
	AccessKey    string
	SecretKey    string
}

func (s *Stack) logDir() string          { return filepath.Join(s.Dir, "logs") }
func (s *Stack) pidFile(n string) string { return filepath.Join(s.Dir, n+".pid") }

// TemporalAddress and MinIOAddress are the servers' loopback addresses.
func (s *Stack) TemporalAddress() string { return "127.0.0.1:" + strconv.Itoa(s.TemporalPort) }
func (s *Stack) MinIOAddress() string    { return "127.0.0.1:" + strconv.Itoa(s.MinIOPort) }
func (s *Stack) UIAddress() string       { return "http://127.0.0.1:" + strconv.Itoa(s.UIPort) }

// ErrPortInUse reports a port some other process holds.
var ErrPortInUse = errors.New("port already in use")

func portFree(port int) error {
	l, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(port))
	if err != nil {
		return fmt.Errorf("%w: 127.0.0.1:%d (%v): stop what holds it or choose another port (--temporal-port, --ui-port, --minio-port)", ErrPortInUse, port, err)
	}
	return l.Close()
}

// FreePort asks the kernel for an unused loopback port.
func FreePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// Up starts both servers (unless they already run from this state dir)
// and waits until they answer.
func (s *Stack) Up(ctx context.Context) error {
	temporalBin, err := FindTool(s.ToolsDir, "temporal", TemporalVersion)
	if err != nil {
		return err
	}
	minioBin, err := FindTool(s.ToolsDir, "minio", MinIOVersion)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(s.logDir(), 0o755); err != nil {
		return err
	}
	if !s.running("temporal") {
		for _, p := range []int{s.TemporalPort, s.UIPort} {
			if err := portFree(p); err != nil {
				return err
			}
		}
		if err := s.start("temporal", temporalBin, nil, "server", "start-dev", "--ip", "127.0.0.1",
			"--port", strconv.Itoa(s.TemporalPort), "--ui-port", strconv.Itoa(s.UIPort),
			"--db-filename", filepath.Join(s.Dir, "temporal.db"), "--log-level", "warn",
			// WAL with synchronous=NORMAL: no fsync per transaction, and
			// still consistent when the server process is killed (only a
			// power loss can lose the last transactions).
			"--sqlite-pragma", "journal_mode=wal", "--sqlite-pragma", "synchronous=normal"); err != nil {
			return err
		}
	}
	if !s.running("minio") {
		if err := portFree(s.MinIOPort); err != nil {
			return err
		}
		env := []string{"MINIO_ROOT_USER=" + s.AccessKey, "MINIO_ROOT_PASSWORD=" + s.SecretKey, "MINIO_BROWSER=off"}
		if err := s.start("minio", minioBin, env, "server", filepath.Join(s.Dir, "minio"), "--address", s.MinIOAddress(), "--quiet"); err != nil {
			return err
		}
	}
	return s.waitReady(ctx, 60*time.Second)
}

func (s *Stack) start(name, bin string, env []string, args ...string) error {
	logf, err := os.OpenFile(filepath.Join(s.logDir(), name+".log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	defer logf.Close()
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.Env = append(os.Environ(), env...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true} // outlives `liesweep dev up`
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start %s: %w", name, err)
	}
	if err := os.WriteFile(s.pidFile(name), []byte(strconv.Itoa(cmd.Process.Pid)), 0o644); err != nil {
		return err
	}
	go cmd.Wait() // reap if we are still around when it exits
	return nil
}

func (s *Stack) pid(name string) int {
	b, err := os.ReadFile(s.pidFile(name))
	if err != nil {
		return 0
	}
	p, _ := strconv.Atoi(strings.TrimSpace(string(b)))
	return p
}

func (s *Stack) running(name string) bool {
	p := s.pid(name)
	return p > 0 && syscall.Kill(p, 0) == nil
}

// Ready reports whether each server answers.
func (s *Stack) Ready(ctx context.Context) (temporalOK, minioOK bool) {
	cctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	if c, err := client.DialContext(cctx, client.Options{HostPort: s.TemporalAddress(), Logger: nopLogger{}}); err == nil {
		_, err = c.CheckHealth(cctx, &client.CheckHealthRequest{})
		temporalOK = err == nil
		c.Close()
	}
	req, _ := http.NewRequestWithContext(cctx, http.MethodGet, "http://"+s.MinIOAddress()+"/minio/health/ready", nil)
	if resp, err := http.DefaultClient.Do(req); err == nil {
		minioOK = resp.StatusCode == http.StatusOK
		resp.Body.Close()
	}
	return temporalOK, minioOK
}

func (s *Stack) waitReady(ctx context.Context, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for {
		t, m := s.Ready(ctx)
		if t && m {
			return nil
		}
		// a server that exited will not answer: say so now, with its log,
		// instead of waiting out the limit
		for _, srv := range []struct {
			name string
			ok   bool
		}{{"temporal", t}, {"minio", m}} {
			if !srv.ok && !s.running(srv.name) {
				return fmt.Errorf("%s exited before it answered; the end of its log (%s):\n%s", srv.name, filepath.Join(s.logDir(), srv.name+".log"), s.logTail(srv.name, 15))
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("local stack not ready after %v (temporal %v, minio %v): see the logs in %s", limit, t, m, s.logDir())
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// Down stops both servers with SIGTERM and waits for them to exit.
func (s *Stack) Down() error {
	var errs []error
	for _, name := range []string{"temporal", "minio"} {
		p := s.pid(name)
		if p <= 0 {
			continue
		}
		if syscall.Kill(p, syscall.SIGTERM) == nil {
			for i := 0; i < 100 && syscall.Kill(p, 0) == nil; i++ {
				time.Sleep(100 * time.Millisecond)
			}
			if syscall.Kill(p, 0) == nil {
				syscall.Kill(p, syscall.SIGKILL)
			}
		}
		if err := os.Remove(s.pidFile(name)); err != nil && !errors.Is(err, os.ErrNotExist) {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// Status describes the stack in one line per server.
func (s *Stack) Status(ctx context.Context) string {
	var b strings.Builder
	for _, st := range s.ServerStatus(ctx) {
		fmt.Fprintf(&b, "%-9s %-22s pid %-7d %s", st.Name, st.Address, st.PID, st.State)
		if st.UI != "" {
			b.WriteString("  (Web UI " + st.UI + ")")
		}
		b.WriteString("\n")
	}
	return b.String()
}

// ServerState is one server of the local stack as `dev status` shows it.
type ServerState struct {
	Name    string `json:"name"`
	Address string `json:"address"`
	PID     int    `json:"pid"`
	State   string `json:"state"` // ready | starting or unhealthy | down
	UI      string `json:"ui,omitempty"`
}

// ServerStatus reports whether each server is up.
func (s *Stack) ServerStatus(ctx context.Context) []ServerState {
	t, m := s.Ready(ctx)
	state := func(pid int, ok bool) string {
		switch {
		case ok:
			return "ready"
		case pid > 0 && syscall.Kill(pid, 0) == nil:
			return "starting or unhealthy"
		}
		return "down"
	}
	return []ServerState{
		{Name: "temporal", Address: s.TemporalAddress(), PID: s.pid("temporal"), State: state(s.pid("temporal"), t), UI: s.UIAddress()},
		{Name: "minio", Address: s.MinIOAddress(), PID: s.pid("minio"), State: state(s.pid("minio"), m)},
	}
}

type nopLogger struct{}

func (nopLogger) Debug(string, ...any) {}
func (nopLogger) Info(string, ...any)  {}
func (nopLogger) Warn(string, ...any)  {}
func (nopLogger) Error(string, ...any) {}

// PID is the process id of a server of the stack ("temporal" or "minio")
// from its pid file, or 0 when there is none. The chaos tests signal it
// (SIGKILL, SIGSTOP/SIGCONT); Up restarts a killed server on the same
// ports, database file and data directory.
func (s *Stack) PID(name string) int { return s.pid(name) }

// logTail returns the last n lines of a server's log.
func (s *Stack) logTail(name string, n int) string {
	b, err := os.ReadFile(filepath.Join(s.logDir(), name+".log"))
	if err != nil {
		return "(no log: " + err.Error() + ")"
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}
