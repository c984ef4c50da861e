package nomad

import (
	"errors"
	"fmt"
	"io"
	"net"
	"sort"
	"strings"

	"github.com/hashicorp/nomad/api"
)

// ClientConfig reaches a Nomad cluster. Empty fields fall back to the
// standard NOMAD_ADDR, NOMAD_REGION, NOMAD_NAMESPACE, NOMAD_TOKEN,
// NOMAD_CACERT, NOMAD_CLIENT_CERT and NOMAD_CLIENT_KEY variables.
type ClientConfig struct {
	Address    string `mapstructure:"address"`
	Region     string `mapstructure:"region"`
	Namespace  string `mapstructure:"namespace"`
	Token      string `mapstructure:"token"` // secret
	CACert     string `mapstructure:"ca_cert"`
	ClientCert string `mapstructure:"client_cert"`
	ClientKey  string `mapstructure:"client_key"`
}

// NewClient connects to Nomad.
func NewClient(cc ClientConfig) (*api.Client, error) {
	cfg := api.DefaultConfig()
	set := func(dst *string, v string) {
		if v != "" {
			*dst = v
		}
	}
	set(&cfg.Address, cc.Address)
	set(&cfg.Region, cc.Region)
	set(&cfg.Namespace, cc.Namespace)
	set(&cfg.SecretID, cc.Token)
	if cfg.TLSConfig == nil {
		cfg.TLSConfig = &api.TLSConfig{}
	}
	set(&cfg.TLSConfig.CACert, cc.CACert)
	set(&cfg.TLSConfig.ClientCert, cc.ClientCert)
	set(&cfg.TLSConfig.ClientKey, cc.ClientKey)
	c, err := api.NewClient(cfg)
	if err != nil {
		return nil, fmt.Errorf("nomad client for %s: %w", cfg.Address, err)
	}
	return c, nil
}

func unreachable(c *api.Client, op string, err error) error {
	var ne net.Error
	var oe *net.OpError
	if errors.As(err, &oe) || errors.As(err, &ne) || strings.Contains(err.Error(), "connection refused") || strings.Contains(err.Error(), "no such host") {
		// The CLI exits 3 for an unreachable server.
		return fmt.Errorf("%s: Nomad at %s is unreachable: %w (set NOMAD_ADDR or nomad.address in liesweep.yaml)", op, c.Address(), err)
	}
	return fmt.Errorf("%s: Nomad at %s: %w", op, c.Address(), err)
}

// Plan asks Nomad what registering the job would change, without
// registering it, and writes the diff and any placement failures.
func Plan(c *api.Client, job *api.Job, w io.Writer) error {
	resp, _, err := c.Jobs().Plan(job, true, nil)
	if err != nil {
		return unreachable(c, "plan", err)
	}
	if resp.Diff != nil {
		writeDiff(w, "job", resp.Diff.Type, resp.Diff.ID, resp.Diff.Fields, resp.Diff.Objects, "")
		for _, g := range resp.Diff.TaskGroups {
			fmt.Fprintf(w, "  %s group %q", sign(g.Type), g.Name)
			for k, n := range g.Updates {
				fmt.Fprintf(w, " (%d %s)", n, k)
			}
			fmt.Fprintln(w)
			for _, t := range g.Tasks {
				writeDiff(w, "task", t.Type, t.Name, t.Fields, t.Objects, "    ")
			}
		}
	}
	for g, m := range resp.FailedTGAllocs {
		fmt.Fprintf(w, "placement failure for group %q: %d nodes evaluated, %d filtered, %d exhausted (%v)\n", g, m.NodesEvaluated, m.NodesFiltered, m.NodesExhausted, m.DimensionExhausted)
	}
	return nil
}

func sign(t string) string {
	switch t {
	case "Added":
		return "+"
	case "Deleted":
		return "-"
	case "Edited":
		return "~"
	}
	return " "
}

func writeDiff(w io.Writer, kind, typ, name string, fields []*api.FieldDiff, objs []*api.ObjectDiff, indent string) {
	fmt.Fprintf(w, "%s%s %s %q\n", indent, sign(typ), kind, name)
	for _, f := range fields {
		if f.Type == "None" {
			continue
		}
		old, nw := f.Old, f.New
		if strings.Contains(strings.ToUpper(f.Name), "LIESWEEP_S3_SECRET") || strings.Contains(strings.ToUpper(f.Name), "KEY") {
			old, nw = "<redacted>", "<redacted>"
		}
		fmt.Fprintf(w, "%s  %s %s: %q => %q\n", indent, sign(f.Type), f.Name, old, nw)
	}
	for _, o := range objs {
		if o.Type != "None" {
			fmt.Fprintf(w, "%s  %s %s\n", indent, sign(o.Type), o.Name)
		}
	}
}

// Deploy stores the secrets in Nomad Variables (when the job reads them
// from there) and registers the job.
func Deploy(c *api.Client, cfg JobConfig, job *api.Job) (string, error) {
	if cfg.SecretsFrom == "variables" && len(cfg.Secrets) > 0 {
		items := api.VariableItems{}
		for k, v := range cfg.Secrets {
			items[strings.ToLower(strings.TrimPrefix(k, "LIESWEEP_"))] = v
		}
		v := &api.Variable{Path: cfg.VariablePath(), Items: items}
		if cfg.Namespace != "" {
			v.Namespace = cfg.Namespace
		}
		if _, _, err := c.Variables().Create(v, nil); err != nil {
			return "", unreachable(c, "store secrets in Nomad Variables "+cfg.VariablePath(), err)
		}
	}
	resp, _, err := c.Jobs().Register(job, nil)
	if err != nil {
		return "", unreachable(c, "register job "+*job.ID, err)
	}
	return resp.EvalID, nil
}

// AllocStatus is one worker allocation.
type AllocStatus struct {
	ID      string `json:"id"`
	Node    string `json:"node"`
	Status  string `json:"status"`
	Desired string `json:"desired"`
	Healthy string `json:"healthy"`
	Queues  string `json:"queues"`
}

// Status lists the job's allocations.
func Status(c *api.Client, name string) ([]AllocStatus, error) {
	job, _, err := c.Jobs().Info(name, nil)
	if err != nil {
		return nil, unreachable(c, "job "+name, err)
	}
	allocs, _, err := c.Jobs().Allocations(name, false, nil)
	if err != nil {
		return nil, unreachable(c, "allocations of "+name, err)
	}
	var out []AllocStatus
	for _, a := range allocs {
		h := "unknown"
		if a.DeploymentStatus != nil && a.DeploymentStatus.Healthy != nil {
			h = fmt.Sprint(*a.DeploymentStatus.Healthy)
		}
		out = append(out, AllocStatus{ID: a.ID[:8], Node: a.NodeName, Status: a.ClientStatus, Desired: a.DesiredStatus, Healthy: h, Queues: job.Meta["liesweep_queues"]})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Node+out[i].ID < out[j].Node+out[j].ID })
	return out, nil
}

// Stop deregisters the job (purge: also from Nomad's state).
func Stop(c *api.Client, name string, purge bool) error {
	if _, _, err := c.Jobs().Deregister(name, purge, nil); err != nil {
		return unreachable(c, "stop job "+name, err)
	}
	return nil
}
