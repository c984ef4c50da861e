package worker_test

// A Nomad cluster on loopback for the tests of the Nomad launcher: one
// server agent and client agents of their own classes, each with its own
// data dir, ports, node name and cgroup parent, started and stopped by the
// harness like the Temporal and MinIO servers.

import (
	"bufio"
	"fmt"
	"maps"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/hashicorp/nomad/api"
	"github.com/liesweep/liesweep/infra/devstack"
)

// NomadVersion is the agent the Makefile builds (the last MPL-2.0 release).
const NomadVersion = "v1.6.3"

// gpuConstraint places workers on the GPU nodes: what a user passes to
// `liesweep infra nomad deploy --constraint`.
const gpuConstraint = "${node.class} = gpu"

// nomadNode is a client of the test cluster: its name (${node.unique.name},
// the prefix of its workers' names) and class (${node.class}, also in
// ${meta.liesweep_role}).
type nomadNode struct {
	name, class string
}

// gpuNodes is the cluster of the placement tests: two GPU nodes and a CPU
// node that a GPU job must never use.
var gpuNodes = []nomadNode{{"gpu1", "gpu"}, {"gpu2", "gpu"}, {"cpu1", "cpu"}}

// nomadAgent is one `nomad agent` process.
type nomadAgent struct {
	name string
	http int
	rpc  int
	cmd  *exec.Cmd
	done chan struct{}
	log  string
}

func (a *nomadAgent) alive() bool {
	select {
	case <-a.done:
		return false
	default:
		return true
	}
}

// nomadCluster is a Nomad server and its clients on loopback.
type nomadCluster struct {
	t       *testing.T
	dir     string
	server  *nomadAgent
	clients map[string]*nomadAgent
	api     *api.Client
	// cgroup is the prefix of the clients' cgroup parents.
	cgroup string

	mu     sync.Mutex
	killed []proc // processes of killed clients: their cgroups are removed at the end
}

// Addr is the server's HTTP API (--nomad-address).
func (c *nomadCluster) Addr() string { return fmt.Sprintf("http://127.0.0.1:%d", c.server.http) }

// startNomadCluster starts a server agent (bootstrap_expect 1, no client)
// and one client agent per node with raw_exec enabled, and waits until
// every node is ready. Two clients on one host need their own data dir
// (alloc and state dirs below it), ports, node name and cgroup parent (a
// client manages the cpuset cgroups under its parent as its own). Agents
// are stopped with SIGTERM: a SIGKILL (killNode) orphans their executors.
func startNomadCluster(t *testing.T, nodes ...nomadNode) *nomadCluster {
	t.Helper()
	bin, err := devstack.FindTool(stack.ToolsDir, "nomad", NomadVersion)
	if err != nil {
		t.Fatal(err)
	}
	dir, err := os.MkdirTemp("", "liesweep-nomad-")
	if err != nil {
		t.Fatal(err)
	}
	c := &nomadCluster{t: t, dir: dir, clients: map[string]*nomadAgent{}, cgroup: "liesweep-" + strings.TrimPrefix(filepath.Base(dir), "liesweep-nomad-")}
	t.Cleanup(c.stop)
	c.startAgent(bin, "server", `
server {
  enabled          = true
  bootstrap_expect = 1
}
client {
  enabled = false
}
`)
	for _, n := range nodes {
		c.startAgent(bin, n.name, fmt.Sprintf(`
server {
  enabled = false
}
client {
  enabled           = true
  servers           = ["127.0.0.1:%d"]
  node_class        = %q
  network_interface = "lo"
  cgroup_parent     = "%s-%s.slice"
  meta {
    liesweep_role = %q
  }
  options {
    "driver.denylist" = "docker,exec,java,qemu"
  }
}
plugin "raw_exec" {
  config {
    enabled = true
  }
}
`, c.server.rpc, n.class, c.cgroup, n.name, n.class))
	}
	// every call bounded: a test waits with its own deadlines
	if c.api, err = api.NewClient(&api.Config{Address: c.Addr(), HttpClient: &http.Client{Timeout: 15 * time.Second}}); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(90 * time.Second)
	for {
		ready := 0
		if list, _, err := c.api.Nodes().List(nil); err == nil {
			for _, n := range list {
				if n.Status == "ready" {
					ready++
				}
			}
		}
		if ready == len(nodes) {
			return c
		}
		if time.Now().After(deadline) {
			t.Fatalf("nomad cluster: %d of %d clients ready after 90 s\n%s", ready, len(nodes), c.logs())
		}
		time.Sleep(300 * time.Millisecond)
	}
}

// startAgent runs one agent on loopback with its own data dir and ports
// and adds it to the cluster; role is the server or client part of its
// configuration.
func (c *nomadCluster) startAgent(bin, name, role string) {
	t := c.t
	var ports [3]int
	for i := range ports {
		var err error
		if ports[i], err = devstack.FreePort(); err != nil {
			t.Fatal(err)
		}
	}
	a := &nomadAgent{name: name, http: ports[0], rpc: ports[1], done: make(chan struct{}), log: filepath.Join(c.dir, name+".log")}
	cfg := fmt.Sprintf(`name                 = %q
bind_addr            = "127.0.0.1"
data_dir             = %q
disable_update_check = true
advertise {
  http = "127.0.0.1"
  rpc  = "127.0.0.1"
  serf = "127.0.0.1"
}
ports {
  http = %d
  rpc  = %d
  serf = %d
}
`, name, filepath.Join(c.dir, name), ports[0], ports[1], ports[2]) + role
	cfgPath := filepath.Join(c.dir, name+".hcl")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	logf, err := os.Create(a.log)
	if err != nil {
		t.Fatal(err)
	}
	defer logf.Close()
	a.cmd = exec.Command(bin, "agent", "-config", cfgPath)
	a.cmd.Stdout, a.cmd.Stderr = logf, logf
	a.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := a.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { a.cmd.Wait(); close(a.done) }()
	if name == "server" {
		c.server = a
	} else {
		c.clients[name] = a
	}
}

func (c *nomadCluster) agents() []*nomadAgent {
	var as []*nomadAgent
	for _, n := range slices.Sorted(maps.Keys(c.clients)) {
		as = append(as, c.clients[n])
	}
	if c.server != nil {
		as = append(as, c.server) // the server last: it stops the clients' allocations
	}
	return as
}

// logs is the tail of every agent's log.
func (c *nomadCluster) logs() string {
	var b strings.Builder
	for _, a := range c.agents() {
		l, _ := os.ReadFile(a.log)
		fmt.Fprintf(&b, "--- nomad agent %s ---\n%s\n", a.name, tail(string(l), 3000))
	}
	return b.String()
}

// workerLogs is the tail of every task log on the clients.
func (c *nomadCluster) workerLogs() string {
	var b strings.Builder
	logs, _ := filepath.Glob(filepath.Join(c.dir, "*", "alloc", "*", "alloc", "logs", "worker.std*"))
	for _, l := range logs {
		text, _ := os.ReadFile(l)
		rel, _ := filepath.Rel(c.dir, l)
		fmt.Fprintf(&b, "--- %s ---\n%s\n", rel, tail(string(text), 3000))
	}
	return b.String()
}

// allocs lists a job's allocations, and those running.
func (c *nomadCluster) allocs(job string) (all, running []*api.AllocationListStub) {
	all, _, _ = c.api.Jobs().Allocations(job, true, nil)
	for _, a := range all {
		if a.ClientStatus == "running" {
			running = append(running, a)
		}
	}
	return all, running
}

// workerArgs are the flags of `liesweep infra nomad plan|deploy` for count
// raw_exec workers of the test binary on the cluster (both queues, one
// training each, secrets from the CLI's environment).
func (c *nomadCluster) workerArgs(job string, count int, constraints ...string) []string {
	args := []string{"--nomad-address", c.Addr(), "--name", job, "--count", strconv.Itoa(count), "--driver", "raw_exec", "--binary", binary,
		"--queue", "liesweep-train", "--queue", "liesweep", "--secrets-from", "env", "--cpu", "300", "--memory", "512"}
	for _, k := range constraints {
		args = append(args, "--constraint", k)
	}
	return args
}

// deployWorkers runs `liesweep infra nomad deploy` (through run, the CLI of
// a stack) and waits until count allocations run.
func (c *nomadCluster) deployWorkers(run func(args ...string) (string, error), job string, count int, constraints ...string) []*api.AllocationListStub {
	t := c.t
	t.Helper()
	if out, err := run(append([]string{"infra", "nomad", "deploy"}, c.workerArgs(job, count, constraints...)...)...); err != nil {
		t.Fatalf("deploy: %v\n%s", err, out)
	}
	var running []*api.AllocationListStub
	waitFor(t, 90*time.Second, fmt.Sprintf("%d running worker allocations", count), func() bool { _, running = c.allocs(job); return len(running) == count })
	return running
}

// waitHealthy waits until the job's running allocations are healthy for
// its deployment (running for the migrate block's min_healthy_time, 10 s
// by default), as on a cluster in use: Nomad's drainer stops no more than
// the healthy allocations beyond count − max_parallel, so a drain waits
// for younger workers to become healthy first.
func (c *nomadCluster) waitHealthy(job string) {
	waitFor(c.t, 2*time.Minute, "healthy worker allocations", func() bool {
		_, running := c.allocs(job)
		return len(running) > 0 && !slices.ContainsFunc(running, func(a *api.AllocationListStub) bool {
			return a.DeploymentStatus == nil || a.DeploymentStatus.Healthy == nil || !*a.DeploymentStatus.Healthy
		})
	})
}

// nodeOf is the node a worker runs on: its name is ${node.unique.name}/${NOMAD_ALLOC_ID}.
func nodeOf(worker string) string {
	n, _, _ := strings.Cut(worker, "/")
	return n
}

// drain drains a node with a deadline: Nomad sends its allocations' tasks
// their kill signal (SIGINT) and places replacements on eligible nodes.
func (c *nomadCluster) drain(node string, deadline time.Duration) error {
	id, err := c.nodeID(node)
	if err != nil {
		return err
	}
	_, err = c.api.Nodes().UpdateDrainOpts(id, &api.DrainOptions{DrainSpec: &api.DrainSpec{Deadline: deadline}}, nil)
	return err
}

func (c *nomadCluster) nodeID(node string) (string, error) {
	list, _, err := c.api.Nodes().List(nil)
	if err != nil {
		return "", err
	}
	for _, n := range list {
		if n.Name == node {
			return n.ID, nil
		}
	}
	return "", fmt.Errorf("no nomad node %q", node)
}

// killNode is a node dying: SIGKILL its client agent and its workers. The
// agent's executor and logmon processes, orphaned by the kill, are killed
// too (they would die with the machine). It returns what it killed.
func (c *nomadCluster) killNode(node string) []proc {
	t := c.t
	a := c.clients[node]
	tree := descendants(a.cmd.Process.Pid)
	if err := a.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	<-a.done
	c.mu.Lock()
	c.killed = append(c.killed, tree...)
	c.mu.Unlock()
	killProcs(slices.DeleteFunc(slices.Clone(tree), func(p proc) bool { return !isWorker(p.argv) }))
	killProcs(tree) // the orphaned executors and logmons
	for _, p := range tree {
		if p.alive() {
			t.Fatalf("process %d %v of node %s survived SIGKILL", p.pid, p.argv, node)
		}
	}
	return tree
}

// isWorker reports whether a command line is a worker of the test binary.
func isWorker(argv []string) bool {
	return len(argv) > 1 && argv[0] == binary && argv[1] == "worker"
}

// stop stops the cluster: every job (a client agent that exits leaves its
// tasks running), then the agents with SIGTERM, then whatever they left:
// processes (killed), cgroups, tmpfs mounts under the data dirs.
func (c *nomadCluster) stop() {
	t := c.t
	if c.api != nil {
		if jobs, _, err := c.api.Jobs().List(nil); err == nil {
			for _, j := range jobs {
				c.api.Jobs().Deregister(j.ID, true, nil)
			}
		}
		live := map[string]bool{}
		for n, a := range c.clients {
			live[n] = a.alive()
		}
		deadline := time.Now().Add(60 * time.Second)
		for time.Now().Before(deadline) {
			allocs, _, err := c.api.Allocations().List(nil)
			if err != nil {
				break
			}
			if !slices.ContainsFunc(allocs, func(a *api.AllocationListStub) bool {
				return live[a.NodeName] && (a.ClientStatus == "running" || a.ClientStatus == "pending")
			}) {
				break
			}
			time.Sleep(250 * time.Millisecond)
		}
	}
	var left []proc
	for _, a := range c.agents() {
		if !a.alive() {
			continue
		}
		left = append(left, descendants(a.cmd.Process.Pid)...)
		a.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-a.done:
		case <-time.After(30 * time.Second):
			t.Logf("nomad agent %s did not stop on SIGTERM within 30 s", a.name)
		}
	}
	if n := killProcs(left); n > 0 {
		t.Logf("nomad cluster: killed %d processes its agents left running", n)
	}
	c.mu.Lock()
	left = append(left, c.killed...)
	c.mu.Unlock()
	removeCgroups(left, c.cgroup)
	unmountUnder(c.dir)
	if err := os.RemoveAll(c.dir); err != nil {
		t.Logf("nomad cluster: %v", err)
	}
}

// proc is a process as /proc showed it: pid and start time (which tell it
// from a later process with the same pid), command line and cgroups.
type proc struct {
	pid     int
	start   string
	argv    []string
	cgroups []string // cgroup directories under /sys/fs/cgroup
}

func readProc(pid int) (proc, int, bool) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return proc{}, 0, false
	}
	// pid (comm) state ppid … starttime (field 22); comm may hold spaces
	f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+1:]))
	if len(f) < 20 {
		return proc{}, 0, false
	}
	ppid, _ := strconv.Atoi(f[1])
	p := proc{pid: pid, start: f[19]}
	if cl, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid)); err == nil {
		p.argv = strings.Split(strings.TrimRight(string(cl), "\x00"), "\x00")
	}
	if cg, err := os.ReadFile(fmt.Sprintf("/proc/%d/cgroup", pid)); err == nil {
		for _, l := range strings.Split(strings.TrimSpace(string(cg)), "\n") {
			// hierarchy-id:controllers:path (v2: 0::path)
			parts := strings.SplitN(l, ":", 3)
			if len(parts) != 3 || parts[2] == "/" {
				continue
			}
			ctl, _, _ := strings.Cut(strings.TrimPrefix(parts[1], "name="), ",")
			p.cgroups = append(p.cgroups, filepath.Join("/sys/fs/cgroup", ctl, parts[2]))
		}
	}
	return p, ppid, true
}

// alive reports whether the process is still there (the same one).
func (p proc) alive() bool {
	q, _, ok := readProc(p.pid)
	return ok && q.start == p.start
}

// descendants lists the processes below root.
func descendants(root int) []proc {
	entries, _ := os.ReadDir("/proc")
	children := map[int][]proc{}
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if p, ppid, ok := readProc(pid); ok {
			children[ppid] = append(children[ppid], p)
		}
	}
	var out []proc
	queue := []int{root}
	for len(queue) > 0 {
		for _, p := range children[queue[0]] {
			out = append(out, p)
			queue = append(queue, p.pid)
		}
		queue = queue[1:]
	}
	return out
}

// killProcs sends SIGKILL to those of ps still alive, in order, waits for
// them to go, and returns how many it killed.
func killProcs(ps []proc) int {
	n := 0
	for _, p := range ps {
		if p.alive() && syscall.Kill(p.pid, syscall.SIGKILL) == nil {
			n++
		}
	}
	for _, p := range ps {
		for i := 0; i < 200 && p.alive(); i++ {
			time.Sleep(25 * time.Millisecond)
		}
	}
	return n
}

// removeCgroups removes the (empty) cgroups the cluster's tasks ran in and
// the clients' cgroup parents, deepest first. A cgroup still in use is
// not removed (rmdir fails).
func removeCgroups(ps []proc, parent string) {
	var dirs []string
	for _, p := range ps {
		for _, d := range p.cgroups {
			if strings.Contains(d, "/nomad/") || strings.Contains(d, "/nomad.slice/") || strings.Contains(d, "/"+parent) {
				dirs = append(dirs, d)
			}
		}
	}
	roots, _ := filepath.Glob("/sys/fs/cgroup/*")
	roots = append(roots, "/sys/fs/cgroup")
	for _, r := range roots {
		ms, _ := filepath.Glob(filepath.Join(r, parent+"-*"))
		for _, m := range ms {
			filepath.WalkDir(m, func(p string, d os.DirEntry, err error) error {
				if err == nil && d.IsDir() {
					dirs = append(dirs, p)
				}
				return nil
			})
		}
	}
	slices.SortFunc(dirs, func(a, b string) int { return strings.Count(b, "/") - strings.Count(a, "/") })
	for _, d := range slices.Compact(dirs) {
		syscall.Rmdir(d)
	}
}

// unmountUnder detaches the mounts below dir (the tmpfs secrets and
// private dirs of tasks whose client did not clean them up).
func unmountUnder(dir string) {
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return
	}
	defer f.Close()
	var mounts []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		// id parent major:minor root mount-point …
		if fs := strings.Fields(sc.Text()); len(fs) > 4 && strings.HasPrefix(fs[4], dir+"/") {
			mounts = append(mounts, fs[4])
		}
	}
	slices.SortFunc(mounts, func(a, b string) int { return strings.Count(b, "/") - strings.Count(a, "/") })
	for _, m := range mounts {
		syscall.Unmount(m, syscall.MNT_DETACH)
	}
}
