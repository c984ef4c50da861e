package main

import (
	"fmt"
	"path/filepath"

	"github.com/liesweep/liesweep/infra"
	"github.com/liesweep/liesweep/infra/devstack"
	"github.com/spf13/cobra"
)

func newDevCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "dev", Short: "Manage the local stack: a Temporal dev server and a MinIO server"}
	addConfigFlags(cmd)
	var tport, uport, mport int
	cmd.PersistentFlags().IntVar(&tport, "temporal-port", 0, "Temporal frontend port (default 7233)")
	cmd.PersistentFlags().IntVar(&uport, "ui-port", 0, "Temporal Web UI port (default 8233)")
	cmd.PersistentFlags().IntVar(&mport, "minio-port", 0, "MinIO port (default 9000)")
	stack := func(cmd *cobra.Command) (*devstack.Stack, error) {
		cfg, err := loadConfig(cmd)
		if err != nil {
			return nil, err
		}
		s := &devstack.Stack{Dir: cfg.StateDir, ToolsDir: cfg.Dev.ToolsDir, TemporalPort: cfg.Dev.TemporalPort, UIPort: cfg.Dev.UIPort, MinIOPort: cfg.Dev.MinIOPort, AccessKey: infra.DevAccessKey, SecretKey: infra.DevSecretKey}
		if tport > 0 {
			s.TemporalPort = tport
		}
		if uport > 0 {
			s.UIPort = uport
		}
		if mport > 0 {
			s.MinIOPort = mport
		}
		abs, err := filepath.Abs(s.Dir)
		if err != nil {
			return nil, err
		}
		s.Dir = abs
		return s, nil
	}
	up := &cobra.Command{
		Use:   "up",
		Short: "Start the stack (state under --state-dir) and wait until it answers",
		RunE: func(cmd *cobra.Command, args []string) error {
			s, err := stack(cmd)
			if err != nil {
				return err
			}
			if err := s.Up(cmd.Context()); err != nil {
				return err
			}
			fmt.Fprint(cmd.OutOrStdout(), s.Status(cmd.Context()))
			fmt.Fprintf(cmd.OutOrStdout(), "state in %s; stop with `liesweep dev down`\n", s.Dir)
			return nil
		},
	}
	down := &cobra.Command{
		Use:   "down",
		Short: "Stop the stack (its data stays in --state-dir)",
		RunE: func(cmd *cobra.Command, args []string) error {
			s, err := stack(cmd)
			if err != nil {
				return err
			}
			return s.Down()
		},
	}
	st := &cobra.Command{
		Use:   "status",
		Short: "Show whether each server is up",
		RunE: func(cmd *cobra.Command, args []string) error {
			s, err := stack(cmd)
			if err != nil {
				return err
			}
			if jsonOutput(cmd) {
				return printJSON(cmd, s.ServerStatus(cmd.Context()))
			}
			fmt.Fprint(cmd.OutOrStdout(), s.Status(cmd.Context()))
			return nil
		},
	}
	cmd.AddCommand(up, down, st)
	return cmd
}
