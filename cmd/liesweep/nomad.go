package main

import (
	"encoding/base64"
	"fmt"
	"os"

	"strings"

	"github.com/hashicorp/nomad/api"

	"github.com/liesweep/liesweep/infra/nomad"
	"github.com/spf13/cobra"
)

func newInfraCmd() *cobra.Command {
	infraCmd := &cobra.Command{Use: "infra", Short: "Place workers on a cluster"}
	cmd := &cobra.Command{Use: "nomad", Short: "Render, register, inspect and stop the liesweep worker job on Nomad"}
	addConfigFlags(cmd)
	jc := nomad.DefaultJobConfig()
	var nc nomad.ClientConfig
	f := cmd.PersistentFlags()
	f.StringVar(&jc.Name, "name", jc.Name, "job name")
	f.IntVar(&jc.Count, "count", jc.Count, "number of workers")
	f.IntVar(&jc.GPUs, "gpus", 0, "GPUs per worker (0 = CPU worker)")
	f.StringVar(&jc.GPUModel, "gpu-model", "", "require this GPU model (device.model)")
	f.StringSliceVar(&jc.Queues, "queue", jc.Queues, "task queue(s) the workers serve")
	f.IntVar(&jc.Slots, "slots", 0, "trainings per worker (default: --gpus, else 1)")
	f.StringVar(&jc.Driver, "driver", jc.Driver, "raw_exec, exec or docker")
	f.StringVar(&jc.Image, "image", "", "container image (docker)")
	f.StringVar(&jc.Binary, "binary", jc.Binary, "path of the liesweep binary on the nodes (raw_exec, exec)")
	f.StringSliceVar(&jc.Datacenters, "datacenter", jc.Datacenters, "datacenter(s)")
	f.StringVar(&jc.NodePool, "node-pool", "", "node pool")
	f.IntVar(&jc.CPU, "cpu", jc.CPU, "CPU per worker (MHz)")
	f.IntVar(&jc.MemoryMB, "memory", jc.MemoryMB, "memory per worker (MB)")
	f.StringVar(&jc.SecretsFrom, "secrets-from", jc.SecretsFrom, "variables (Nomad Variables) or env (job environment)")
	f.DurationVar(&jc.StopTimeout, "stop-timeout", jc.StopTimeout, "time a stopping worker's trainings get to checkpoint and hand back (the job's kill_timeout is this + 5s)")
	f.StringVar(&nc.Address, "nomad-address", "", "Nomad address (NOMAD_ADDR)")
	var constraints []string
	f.StringArrayVar(&constraints, "constraint", nil, "placement constraint ATTR OP VALUE, e.g. '${attr.kernel.name} = linux'")

	build := func(cmd *cobra.Command) (nomad.JobConfig, error) {
		cfg, err := loadConfig(cmd)
		if err != nil {
			return jc, err
		}
		j := jc
		j.Env = map[string]string{
			"LIESWEEP_TEMPORAL_ADDRESS":   cfg.Temporal.Address,
			"LIESWEEP_TEMPORAL_NAMESPACE": cfg.Temporal.Namespace,
			"LIESWEEP_S3_ENDPOINT":        cfg.S3.Endpoint,
			"LIESWEEP_S3_BUCKET":          cfg.S3.Bucket,
			"LIESWEEP_S3_SECURE":          cfg.S3.Secure,
		}
		if cfg.S3.Region != "" {
			j.Env["LIESWEEP_S3_REGION"] = cfg.S3.Region
		}
		j.Secrets = map[string]string{}
		for k, v := range map[string]string{"LIESWEEP_S3_ACCESS_KEY": cfg.S3.AccessKey, "LIESWEEP_S3_SECRET_KEY": cfg.S3.SecretKey,
			"LIESWEEP_S3_SESSION_TOKEN": cfg.S3.SessionToken, "LIESWEEP_TEMPORAL_API_KEY": cfg.Temporal.APIKey} {
			if v != "" {
				j.Secrets[k] = v
			}
		}
		// Temporal's TLS reaches the workers too: the switch and server name
		// in the job, the certificates (base64 PEM) with the secrets, in
		// Nomad Variables — never in the job text.
		tc, err := cfg.Temporal.TLSConfig()
		if err != nil {
			return j, err
		}
		if tc != nil {
			j.Env["LIESWEEP_TEMPORAL_TLS"] = "true"
			if cfg.Temporal.TLSServerName != "" {
				j.Env["LIESWEEP_TEMPORAL_TLS_SERVER_NAME"] = cfg.Temporal.TLSServerName
			}
			for env, f := range map[string][2]string{
				"LIESWEEP_TEMPORAL_TLS_CERT_DATA": {cfg.Temporal.TLSCert, cfg.Temporal.TLSCertData},
				"LIESWEEP_TEMPORAL_TLS_KEY_DATA":  {cfg.Temporal.TLSKey, cfg.Temporal.TLSKeyData},
				"LIESWEEP_TEMPORAL_TLS_CA_DATA":   {cfg.Temporal.TLSCA, cfg.Temporal.TLSCAData},
			} {
				data := f[1]
				if data == "" && f[0] != "" {
					b, err := os.ReadFile(f[0])
					if err != nil {
						return j, fmt.Errorf("read %s for the workers: %w", f[0], err)
					}
					data = base64.StdEncoding.EncodeToString(b)
				}
				if data != "" {
					j.Secrets[env] = data
				}
			}
		}
		switch {
		case cfg.S3.CACertData != "":
			j.Secrets["LIESWEEP_S3_CA_CERT_DATA"] = cfg.S3.CACertData
		case cfg.S3.CACert != "":
			b, err := os.ReadFile(cfg.S3.CACert)
			if err != nil {
				return j, fmt.Errorf("read s3.ca_cert for the workers: %w", err)
			}
			j.Secrets["LIESWEEP_S3_CA_CERT_DATA"] = base64.StdEncoding.EncodeToString(b)
		}
		for _, c := range constraints {
			parts := strings.Fields(c)
			if len(parts) != 3 {
				return j, usageError{fmt.Errorf("--constraint %q: want ATTRIBUTE OPERATOR VALUE", c)}
			}
			j.Constraints = append(j.Constraints, nomad.Constraint{Attribute: parts[0], Operator: parts[1], Value: parts[2]})
		}
		if err := j.Validate(); err != nil {
			return j, usageError{err} // every field is a flag
		}
		return j, nil
	}
	client := func(cmd *cobra.Command) (*api.Client, error) {
		cfg, err := loadConfig(cmd)
		if err != nil {
			return nil, err
		}
		cc := cfg.Nomad
		if nc.Address != "" {
			cc.Address = nc.Address
		}
		return nomad.NewClient(cc)
	}
	render := func(cmd *cobra.Command) (nomad.JobConfig, *api.Job, error) {
		j, err := build(cmd)
		if err != nil {
			return j, nil, err
		}
		job, err := nomad.Render(j)
		return j, job, err
	}
	plan := &cobra.Command{
		Use:   "plan",
		Short: "Print the job (secrets redacted) and, when Nomad is reachable, its plan diff; registers nothing",
		RunE: func(cmd *cobra.Command, args []string) error {
			_, job, err := render(cmd)
			if err != nil {
				return err
			}
			b, err := nomad.Redacted(job)
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s\n", b)
			c, err := client(cmd)
			if err != nil {
				return err
			}
			if err := nomad.Plan(c, job, cmd.OutOrStdout()); err != nil {
				fmt.Fprintf(cmd.ErrOrStderr(), "no plan diff: %v\n", err)
			}
			return nil
		},
	}
	deploy := &cobra.Command{
		Use:   "deploy",
		Short: "Register the worker job (secrets go to Nomad Variables unless --secrets-from env)",
		RunE: func(cmd *cobra.Command, args []string) error {
			j, job, err := render(cmd)
			if err != nil {
				return err
			}
			c, err := client(cmd)
			if err != nil {
				return err
			}
			eval, err := nomad.Deploy(c, j, job)
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "job %s registered (evaluation %s); `liesweep infra nomad status` shows its workers\n", j.Name, eval)
			return nil
		},
	}
	status := &cobra.Command{
		Use:   "status",
		Short: "Show the workers' allocations per node, their health and task queues",
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := client(cmd)
			if err != nil {
				return err
			}
			rows, err := nomad.Status(c, jc.Name)
			if err != nil {
				return err
			}
			if jsonOutput(cmd) {
				return printJSON(cmd, rows)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%-10s %-20s %-10s %-8s %-8s %s\n", "ALLOC", "NODE", "STATUS", "DESIRED", "HEALTHY", "QUEUES")
			for _, r := range rows {
				fmt.Fprintf(cmd.OutOrStdout(), "%-10s %-20s %-10s %-8s %-8s %s\n", r.ID, r.Node, r.Status, r.Desired, r.Healthy, r.Queues)
			}
			return nil
		},
	}
	var purge bool
	stop := &cobra.Command{
		Use:   "stop [--purge]",
		Short: "Deregister the worker job",
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := client(cmd)
			if err != nil {
				return err
			}
			if err := nomad.Stop(c, jc.Name, purge); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "job %s stopped\n", jc.Name)
			return nil
		},
	}
	stop.Flags().BoolVar(&purge, "purge", false, "also remove the job from Nomad's state")
	cmd.AddCommand(plan, deploy, status, stop)
	infraCmd.AddCommand(cmd)
	return infraCmd
}
