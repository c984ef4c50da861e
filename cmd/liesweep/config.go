package main

import (
	"fmt"
	"os"
	"strings"

	"github.com/go-viper/mapstructure/v2"
	"github.com/liesweep/liesweep/infra"
	"github.com/spf13/cobra"
	"github.com/spf13/viper"
)

// loadConfig fills infra.Config from (lowest first) defaults,
// liesweep.yaml (--config, else ./liesweep.yaml if present), LIESWEEP_*
// environment variables and flags. Secrets may also come from files named
// by LIESWEEP_S3_SECRET_KEY_FILE, LIESWEEP_S3_ACCESS_KEY_FILE and
// LIESWEEP_TEMPORAL_API_KEY_FILE.
func loadConfig(cmd *cobra.Command) (infra.Config, error) {
	v := viper.New()
	def := infra.DefaultConfig()
	defaults := map[string]any{
		"temporal.address": def.Temporal.Address, "temporal.namespace": def.Temporal.Namespace, "temporal.ui": def.Temporal.UI,
		"temporal.api_key": "", "temporal.tls_cert": "", "temporal.tls_key": "", "temporal.tls_ca": "", "temporal.tls_server_name": "",
		"s3.endpoint": def.S3.Endpoint, "s3.access_key": def.S3.AccessKey, "s3.secret_key": def.S3.SecretKey, "s3.bucket": def.S3.Bucket,
		"s3.region": "", "s3.secure": "auto", "s3.session_token": "", "s3.ca_cert": "", "s3.ca_cert_data": "",
		"temporal.tls": false, "temporal.tls_cert_data": "", "temporal.tls_key_data": "", "temporal.tls_ca_data": "",
		"state_dir": def.StateDir, "mnist_dir": "",
		"nomad.address": "", "nomad.region": "", "nomad.namespace": "", "nomad.token": "", "nomad.ca_cert": "", "nomad.client_cert": "", "nomad.client_key": "",
		"dev.temporal_port": def.Dev.TemporalPort, "dev.ui_port": def.Dev.UIPort, "dev.minio_port": def.Dev.MinIOPort, "dev.tools_dir": def.Dev.ToolsDir,
	}
	for k, val := range defaults {
		v.SetDefault(k, val)
	}
	v.SetEnvPrefix("LIESWEEP")
	v.SetEnvKeyReplacer(strings.NewReplacer(".", "_"))
	v.AutomaticEnv()
	cfgFile, _ := cmd.Flags().GetString("config")
	if cfgFile == "" {
		if _, err := os.Stat("liesweep.yaml"); err == nil {
			cfgFile = "liesweep.yaml"
		}
	}
	if cfgFile != "" {
		v.SetConfigFile(cfgFile)
		if err := v.ReadInConfig(); err != nil {
			return infra.Config{}, fmt.Errorf("read config %s: %w", cfgFile, err)
		}
	}
	flagKeys := map[string]string{"state-dir": "state_dir", "temporal-address": "temporal.address", "namespace": "temporal.namespace", "s3-endpoint": "s3.endpoint", "bucket": "s3.bucket", "mnist-dir": "mnist_dir"}
	for flag, key := range flagKeys {
		if f := cmd.Flags().Lookup(flag); f != nil {
			v.BindPFlag(key, f)
		}
	}
	for key, env := range map[string]string{"s3.secret_key": "LIESWEEP_S3_SECRET_KEY_FILE", "s3.access_key": "LIESWEEP_S3_ACCESS_KEY_FILE", "temporal.api_key": "LIESWEEP_TEMPORAL_API_KEY_FILE"} {
		if p := os.Getenv(env); p != "" {
			b, err := os.ReadFile(p)
			if err != nil {
				return infra.Config{}, fmt.Errorf("read %s (%s): %w", env, p, err)
			}
			v.Set(key, strings.TrimSpace(string(b)))
		}
	}
	var c infra.Config
	if err := v.Unmarshal(&c, func(dc *mapstructure.DecoderConfig) { dc.ErrorUnused = true }); err != nil {
		return infra.Config{}, fmt.Errorf("configuration: %w", err)
	}
	return c, c.Validate()
}

// addConfigFlags adds the flags every server-facing command takes.
func addConfigFlags(cmd *cobra.Command) {
	f := cmd.PersistentFlags()
	f.String("config", "", "config file (default ./liesweep.yaml when present)")
	f.String("state-dir", "", "local stack state directory (LIESWEEP_STATE_DIR; default .liesweep)")
	f.String("temporal-address", "", "Temporal frontend host:port (LIESWEEP_TEMPORAL_ADDRESS)")
	f.String("namespace", "", "Temporal namespace (LIESWEEP_TEMPORAL_NAMESPACE)")
	f.String("s3-endpoint", "", "S3 endpoint host:port (LIESWEEP_S3_ENDPOINT)")
	f.String("bucket", "", "S3 bucket (LIESWEEP_S3_BUCKET)")
}
