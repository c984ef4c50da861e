// Package infra holds the machinery at the edge: configuration of the
// Temporal client and the S3 store, the local dev stack, the Nomad
// launcher. cmd/liesweep fills Config from liesweep.yaml, LIESWEEP_*
// variables and flags.
package infra

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/liesweep/liesweep/infra/nomad"
	"github.com/liesweep/liesweep/infra/s3store"
	"go.temporal.io/sdk/client"
)

// Config is everything a liesweep command needs to reach its servers.
type Config struct {
	Temporal TemporalConfig `mapstructure:"temporal"`
	S3       S3Config       `mapstructure:"s3"`
	// StateDir holds the local stack's data, logs and pid files.
	StateDir string `mapstructure:"state_dir"`
	// MNISTDir overrides where the MNIST files are read from.
	MNISTDir string `mapstructure:"mnist_dir"`
	// Dev configures `liesweep dev` (the local stack).
	Dev DevConfig `mapstructure:"dev"`
	// Nomad reaches the cluster for `liesweep infra nomad`.
	Nomad nomad.ClientConfig `mapstructure:"nomad"`
}

// TemporalConfig reaches a Temporal server or Temporal Cloud.
type TemporalConfig struct {
	Address   string `mapstructure:"address"`
	Namespace string `mapstructure:"namespace"`
	// APIKey authenticates against Temporal Cloud (secret: never logged).
	APIKey string `mapstructure:"api_key"`
	// mTLS: client certificate and key, and the CA of the server.
	TLSCert       string `mapstructure:"tls_cert"`
	TLSKey        string `mapstructure:"tls_key"`
	TLSCA         string `mapstructure:"tls_ca"`
	TLSServerName string `mapstructure:"tls_server_name"`
	// UI is the base URL of the Web UI, for links.
	UI string `mapstructure:"ui"`
}

// S3Config locates the artifact bucket.
type S3Config struct {
	Endpoint  string `mapstructure:"endpoint"`
	AccessKey string `mapstructure:"access_key"` // secret
	SecretKey string `mapstructure:"secret_key"` // secret
	Bucket    string `mapstructure:"bucket"`
	Region    string `mapstructure:"region"`
	Secure    bool   `mapstructure:"secure"`
}

// DevConfig sets the ports of the local stack.
type DevConfig struct {
	TemporalPort int `mapstructure:"temporal_port"`
	UIPort       int `mapstructure:"ui_port"`
	MinIOPort    int `mapstructure:"minio_port"`
	// ToolsDir is where the Makefile builds the pinned servers.
	ToolsDir string `mapstructure:"tools_dir"`
}

// Local stack credentials (not secrets: they guard a loopback server).
const (
	DevAccessKey = "liesweep"
	DevSecretKey = "liesweep-dev-secret"
)

// DefaultConfig points at the local stack of `liesweep dev up`.
func DefaultConfig() Config {
	home, _ := os.UserHomeDir()
	return Config{
		Temporal: TemporalConfig{Address: "127.0.0.1:7233", Namespace: "default", UI: "http://127.0.0.1:8233"},
		S3:       S3Config{Endpoint: "127.0.0.1:9000", AccessKey: DevAccessKey, SecretKey: DevSecretKey, Bucket: "liesweep"},
		StateDir: ".liesweep",
		Dev:      DevConfig{TemporalPort: 7233, UIPort: 8233, MinIOPort: 9000, ToolsDir: filepath.Join(home, ".cache", "liesweep", "tools")},
	}
}

// Validate checks the configuration.
func (c Config) Validate() error {
	var errs []error
	if c.Temporal.Address == "" {
		errs = append(errs, errors.New("temporal.address is empty (LIESWEEP_TEMPORAL_ADDRESS)"))
	}
	if (c.Temporal.TLSCert == "") != (c.Temporal.TLSKey == "") {
		errs = append(errs, errors.New("temporal.tls_cert and temporal.tls_key go together"))
	}
	if c.S3.Endpoint == "" || c.S3.Bucket == "" {
		errs = append(errs, errors.New("s3.endpoint and s3.bucket are required (LIESWEEP_S3_ENDPOINT, LIESWEEP_S3_BUCKET)"))
	}
	return errors.Join(errs...)
}

// Store opens the S3 artifact store.
func (c Config) Store() (*s3store.Store, error) {
	return s3store.New(s3store.Config{Endpoint: c.S3.Endpoint, AccessKey: c.S3.AccessKey, SecretKey: c.S3.SecretKey, Bucket: c.S3.Bucket, Region: c.S3.Region, Secure: c.S3.Secure})
}

// ErrUnreachable marks a server that could not be reached.
var ErrUnreachable = errors.New("server unreachable")

// Dial connects to Temporal. An unreachable server is an error naming the
// address and how to start the local stack.
func (c Config) Dial(ctx context.Context) (client.Client, error) {
	opts := client.Options{HostPort: c.Temporal.Address, Namespace: c.Temporal.Namespace, Logger: quietLogger{}}
	if c.Temporal.APIKey != "" {
		opts.Credentials = client.NewAPIKeyStaticCredentials(c.Temporal.APIKey)
	}
	if c.Temporal.TLSCert != "" || c.Temporal.TLSCA != "" || c.Temporal.APIKey != "" {
		tc := &tls.Config{ServerName: c.Temporal.TLSServerName}
		if c.Temporal.TLSCert != "" {
			cert, err := tls.LoadX509KeyPair(c.Temporal.TLSCert, c.Temporal.TLSKey)
			if err != nil {
				return nil, fmt.Errorf("temporal tls client certificate: %w", err)
			}
			tc.Certificates = []tls.Certificate{cert}
		}
		if c.Temporal.TLSCA != "" {
			pem, err := os.ReadFile(c.Temporal.TLSCA)
			if err != nil {
				return nil, fmt.Errorf("temporal tls ca: %w", err)
			}
			pool := x509.NewCertPool()
			if !pool.AppendCertsFromPEM(pem) {
				return nil, fmt.Errorf("temporal tls ca %s: no certificate found", c.Temporal.TLSCA)
			}
			tc.RootCAs = pool
		}
		opts.ConnectionOptions.TLS = tc
	}
	dctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	cl, err := client.DialContext(dctx, opts)
	if err != nil {
		return nil, fmt.Errorf("%w: Temporal at %s (namespace %s): %v — start the local stack with `liesweep dev up` (or `make demo`), or set LIESWEEP_TEMPORAL_ADDRESS",
			ErrUnreachable, c.Temporal.Address, c.Temporal.Namespace, strings.TrimSpace(err.Error()))
	}
	return cl, nil
}

// WorkflowURL is the Web UI link of a workflow.
func (c Config) WorkflowURL(id string) string {
	if c.Temporal.UI == "" {
		return ""
	}
	return fmt.Sprintf("%s/namespaces/%s/workflows/%s", strings.TrimRight(c.Temporal.UI, "/"), c.Temporal.Namespace, id)
}
