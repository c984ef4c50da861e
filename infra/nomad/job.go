// Package nomad renders and registers the liesweep worker as a Nomad
// service job: count, placement, CPU/memory, a GPU device request for the
// training queue, the Temporal and S3 endpoints as environment, secrets from
// Nomad Variables (or the deployer's environment), restart and reschedule
// policies, and the driver (raw_exec, exec or docker).
package nomad

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/hashicorp/nomad/api"
	"github.com/liesweep/liesweep/sweeps"
)

// Drivers a job may use.
var Drivers = []string{"raw_exec", "exec", "docker"}

// Secret environment variables: never rendered in clear by Plan.
var secretEnv = []string{"LIESWEEP_S3_ACCESS_KEY", "LIESWEEP_S3_SECRET_KEY", "LIESWEEP_TEMPORAL_API_KEY"}

// Constraint is a Nomad placement constraint.
type Constraint struct {
	Attribute string `mapstructure:"attribute"`
	Operator  string `mapstructure:"operator"`
	Value     string `mapstructure:"value"`
}

// JobConfig describes the worker job.
type JobConfig struct {
	Name        string       `mapstructure:"name"`
	Region      string       `mapstructure:"region"`
	Namespace   string       `mapstructure:"namespace"`
	Datacenters []string     `mapstructure:"datacenters"`
	NodePool    string       `mapstructure:"node_pool"`
	Constraints []Constraint `mapstructure:"constraints"`
	Count       int          `mapstructure:"count"`
	// CPU in MHz and memory in MB per worker.
	CPU      int `mapstructure:"cpu"`
	MemoryMB int `mapstructure:"memory"`
	// GPUs per worker (0: a CPU worker); GPUVendor/GPUModel constrain them.
	GPUs      int    `mapstructure:"gpus"`
	GPUVendor string `mapstructure:"gpu_vendor"`
	GPUModel  string `mapstructure:"gpu_model"`
	// Queues the workers serve (default: the training queue only).
	Queues []string `mapstructure:"queues"`
	// Slots is the number of trainings per worker (default: GPUs, else 1).
	Slots int `mapstructure:"slots"`
	// Driver is raw_exec, exec or docker; Binary is the liesweep executable
	// on the nodes (raw_exec/exec), Image the container image (docker).
	Driver string `mapstructure:"driver"`
	Binary string `mapstructure:"binary"`
	Image  string `mapstructure:"image"`
	// Env is passed to the workers as is (endpoints, namespace, bucket).
	Env map[string]string `mapstructure:"env"`
	// SecretsFrom is "variables" (Nomad Variables at nomad/jobs/<name>,
	// read by a template at start) or "env" (the values in Secrets, put in
	// the job's environment).
	SecretsFrom string            `mapstructure:"secrets_from"`
	Secrets     map[string]string `mapstructure:"-"`
	// StopTimeout is how long a worker told to stop (a drain, a job stop:
	// Nomad sends SIGINT) gives its trainings to write a checkpoint at the
	// end of their epoch and hand their activities back; the task's
	// kill_timeout is this plus KillMargin, after which Nomad kills it.
	StopTimeout time.Duration `mapstructure:"stop_timeout"`
}

// KillMargin is what the job's kill_timeout adds to the worker's stop
// timeout: time for the worker to report the handed-back activities to
// Temporal and exit.
const KillMargin = 5 * time.Second

// DefaultJobConfig is a one-worker CPU job on the training queue.
func DefaultJobConfig() JobConfig {
	return JobConfig{Name: "liesweep-worker", Datacenters: []string{"dc1"}, Count: 1, CPU: 2000, MemoryMB: 4096,
		GPUVendor: "nvidia", Queues: []string{"liesweep-train"}, Driver: "raw_exec", Binary: "liesweep", SecretsFrom: "variables", StopTimeout: 25 * time.Second}
}

// Validate checks the job configuration.
func (c JobConfig) Validate() error {
	var errs []error
	if c.Name == "" || strings.ContainsAny(c.Name, " /") {
		errs = append(errs, fmt.Errorf("nomad job name %q: want a non-empty name without spaces or slashes", c.Name))
	}
	if c.Count < 1 {
		errs = append(errs, fmt.Errorf("--count must be ≥ 1, got %d", c.Count))
	}
	if c.GPUs < 0 {
		errs = append(errs, fmt.Errorf("--gpus must be ≥ 0, got %d", c.GPUs))
	}
	if c.Slots < 0 || c.Slots > sweeps.MaxSlots {
		// rendered into the job, it would make every worker crash-loop
		errs = append(errs, fmt.Errorf("--slots must be 1…%d (0: --gpus, else 1), got %d", sweeps.MaxSlots, c.Slots))
	}
	if !slices.Contains(Drivers, c.Driver) {
		errs = append(errs, fmt.Errorf("--driver %q: want one of %s", c.Driver, strings.Join(Drivers, ", ")))
	}
	if c.Driver == "docker" && c.Image == "" {
		errs = append(errs, errors.New("--driver docker needs --image"))
	}
	if c.CPU < 1 || c.MemoryMB < 1 {
		errs = append(errs, fmt.Errorf("--cpu and --memory must be positive, got %d MHz, %d MB", c.CPU, c.MemoryMB))
	}
	if len(c.Datacenters) == 0 {
		errs = append(errs, errors.New("--datacenter: at least one datacenter"))
	}
	if c.SecretsFrom != "variables" && c.SecretsFrom != "env" {
		errs = append(errs, fmt.Errorf("secrets_from %q: want variables or env", c.SecretsFrom))
	}
	if c.StopTimeout < time.Second || c.StopTimeout > 10*time.Minute {
		errs = append(errs, fmt.Errorf("--stop-timeout %v: want 1s to 10m (the time a stopping worker's trainings get to checkpoint and hand back; an epoch should fit in it)", c.StopTimeout))
	}
	for _, q := range c.Queues {
		if q != "liesweep" && q != "liesweep-train" {
			errs = append(errs, fmt.Errorf("--queue %q: want liesweep or liesweep-train", q))
		}
	}
	return errors.Join(errs...)
}

// VariablePath is where a job's secrets live in Nomad Variables.
func (c JobConfig) VariablePath() string { return "nomad/jobs/" + c.Name }

// Render builds the Nomad job.
func Render(c JobConfig) (*api.Job, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	job := api.NewServiceJob(c.Name, c.Name, c.Region, 50)
	if c.Namespace != "" {
		job.Namespace = &c.Namespace
	}
	job.Datacenters = slices.Clone(c.Datacenters)
	if c.NodePool != "" {
		job.NodePool = &c.NodePool
	}
	for _, k := range c.Constraints {
		job.Constrain(api.NewConstraint(k.Attribute, k.Operator, k.Value))
	}
	job.Meta = map[string]string{"liesweep_queues": strings.Join(c.Queues, ","), "managed_by": "liesweep"}

	slots := c.Slots
	if slots == 0 {
		slots = max(1, c.GPUs)
	}
	args := []string{"worker", "--slots", strconv.Itoa(slots), "--name", "${node.unique.name}/${NOMAD_ALLOC_ID}", "--stop-timeout", c.StopTimeout.String()}
	for _, q := range c.Queues {
		args = append(args, "--queue", q)
	}
	task := api.NewTask("worker", c.Driver)
	switch c.Driver {
	case "docker":
		task.Config = map[string]any{"image": c.Image, "args": args}
	default:
		task.Config = map[string]any{"command": c.Binary, "args": args}
	}
	task.Env = map[string]string{}
	for k, v := range c.Env {
		task.Env[k] = v
	}
	switch c.SecretsFrom {
	case "env":
		for k, v := range c.Secrets {
			task.Env[k] = v
		}
	case "variables":
		var b strings.Builder
		fmt.Fprintf(&b, "{{ with nomadVar %q }}\n", c.VariablePath())
		for _, k := range secretEnv {
			key := strings.ToLower(strings.TrimPrefix(k, "LIESWEEP_"))
			fmt.Fprintf(&b, "{{ if .%s }}%s={{ .%s }}{{ end }}\n", key, k, key)
		}
		b.WriteString("{{ end }}\n")
		dest, env := "secrets/liesweep.env", true
		tmpl := b.String()
		task.Templates = []*api.Template{{EmbeddedTmpl: &tmpl, DestPath: &dest, Envvars: &env}}
	}
	res := &api.Resources{CPU: &c.CPU, MemoryMB: &c.MemoryMB}
	if c.GPUs > 0 {
		count := uint64(c.GPUs)
		dev := &api.RequestedDevice{Name: c.GPUVendor + "/gpu", Count: &count}
		if c.GPUModel != "" {
			dev.Constraints = []*api.Constraint{api.NewConstraint("${device.model}", "=", c.GPUModel)}
		}
		res.Devices = []*api.RequestedDevice{dev}
	}
	task.Require(res)
	// SIGINT: the worker stops polling, its trainings checkpoint and hand
	// back within StopTimeout; Temporal retries them on another worker.
	killTimeout := c.StopTimeout + KillMargin
	task.KillTimeout = &killTimeout

	group := api.NewTaskGroup("workers", c.Count)
	attempts, interval, delay, mode := 3, 5*time.Minute, 15*time.Second, "delay"
	group.RestartPolicy = &api.RestartPolicy{Attempts: &attempts, Interval: &interval, Delay: &delay, Mode: &mode}
	unlimited, rdelay, rfn, maxDelay := true, 30*time.Second, "exponential", 10*time.Minute
	group.ReschedulePolicy = &api.ReschedulePolicy{Unlimited: &unlimited, Delay: &rdelay, DelayFunction: &rfn, MaxDelay: &maxDelay}
	group.AddTask(task)
	job.AddTaskGroup(group)
	return job, nil
}

// Redacted returns the job as indented JSON with every secret value
// replaced: what `plan` prints.
func Redacted(job *api.Job) ([]byte, error) {
	b, err := json.Marshal(job)
	if err != nil {
		return nil, err
	}
	var cp api.Job
	if err := json.Unmarshal(b, &cp); err != nil {
		return nil, err
	}
	for _, g := range cp.TaskGroups {
		for _, t := range g.Tasks {
			for k := range t.Env {
				if slices.Contains(secretEnv, k) {
					t.Env[k] = "<redacted>"
				}
			}
		}
	}
	return json.MarshalIndent(&cp, "", "  ")
}
