package nomad

import (
	"flag"
	"os"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files")

func gpuConfig(secretsFrom string) JobConfig {
	c := DefaultJobConfig()
	c.Count, c.GPUs, c.GPUModel = 3, 2, "Tesla V100-SXM2-16GB"
	c.Datacenters = []string{"gpu-east"}
	c.NodePool = "gpu"
	c.Constraints = []Constraint{{Attribute: "${attr.kernel.name}", Operator: "=", Value: "linux"}}
	c.Driver, c.Image = "docker", "ghcr.io/liesweep/liesweep:v1"
	c.CPU, c.MemoryMB = 8000, 32768
	c.Env = map[string]string{"LIESWEEP_TEMPORAL_ADDRESS": "temporal.internal:7233", "LIESWEEP_S3_ENDPOINT": "https://s3.internal", "LIESWEEP_S3_BUCKET": "sweeps"}
	c.SecretsFrom = secretsFrom
	c.Secrets = map[string]string{"LIESWEEP_S3_ACCESS_KEY": "AKIA-NOT-FOR-EYES", "LIESWEEP_S3_SECRET_KEY": "s3cr3t-NOT-FOR-EYES"}
	return c
}

func TestRenderGPUJobGolden(t *testing.T) {
	for _, from := range []string{"variables", "env"} {
		t.Run(from, func(t *testing.T) {
			job, err := Render(gpuConfig(from))
			if err != nil {
				t.Fatal(err)
			}
			got, err := Redacted(job)
			if err != nil {
				t.Fatal(err)
			}
			if strings.Contains(string(got), "NOT-FOR-EYES") {
				t.Fatalf("a secret is in the rendered job:\n%s", got)
			}
			golden := "testdata/gpu-" + from + ".golden.json"
			if *update {
				os.WriteFile(golden, got, 0o644)
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -update once)", err)
			}
			if string(got) != string(want) {
				t.Errorf("rendered job differs from %s:\n%s", golden, got)
			}
			// what the golden file holds, spelled out
			task := job.TaskGroups[0].Tasks[0]
			dev := task.Resources.Devices[0]
			if dev.Name != "nvidia/gpu" || *dev.Count != 2 || dev.Constraints[0].RTarget != "Tesla V100-SXM2-16GB" {
				t.Errorf("device block %+v", dev)
			}
			if *job.TaskGroups[0].Count != 3 || task.Env["LIESWEEP_S3_ENDPOINT"] != "https://s3.internal" || !strings.Contains(strings.Join(task.Config["args"].([]string), " "), "--slots 2 --name") {
				t.Errorf("count, env or args wrong: %+v %v", task.Env, task.Config)
			}
		})
	}
}

func TestRenderRejects(t *testing.T) {
	c := DefaultJobConfig()
	c.Driver, c.Count = "docker", 0
	if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "--image") || !strings.Contains(err.Error(), "--count") {
		t.Errorf("want errors naming --image and --count, got %v", err)
	}
}
