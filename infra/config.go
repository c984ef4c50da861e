// Package infra holds the machinery at the edge: configuration of the
// Temporal client and the S3 store, the local dev stack, the Nomad
// launcher. cmd/liesweep fills Config from liesweep.yaml, LIESWEEP_*
// variables and flags.
package infra

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
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
	// TLS turns TLS on with the system's root CAs (a CA, a client
	// certificate, an API key or a server name turn it on too).
	TLS bool `mapstructure:"tls"`
	// TLSCertData, TLSKeyData and TLSCAData are the same PEM files' contents,
	// base64-encoded: how `infra nomad deploy` hands them to workers
	// through Nomad Variables (LIESWEEP_TEMPORAL_TLS_CERT_DATA, …).
	TLSCertData string `mapstructure:"tls_cert_data"`
	TLSKeyData  string `mapstructure:"tls_key_data"`
	TLSCAData   string `mapstructure:"tls_ca_data"`
	// UI is the base URL of the Web UI, for links.
	UI string `mapstructure:"ui"`
}

// S3Config locates the artifact bucket.
type S3Config struct {
	Endpoint string `mapstructure:"endpoint"`
	// AccessKey, SecretKey and SessionToken are static credentials
	// (secrets). Without them liesweep uses the standard chain: AWS_* and
	// MINIO_* environment variables, ~/.aws/credentials, then the instance's
	// IAM role — and the local stack's dev keys only for a loopback endpoint.
	AccessKey    string `mapstructure:"access_key"`
	SecretKey    string `mapstructure:"secret_key"`
	SessionToken string `mapstructure:"session_token"`
	Bucket       string `mapstructure:"bucket"`
	Region       string `mapstructure:"region"`
	// Secure is "true" (https), "false" (http) or "" / "auto": https for
	// every endpoint but a loopback one.
	Secure string `mapstructure:"secure"`
	// CACert is a PEM file of the CA that signed the endpoint's certificate
	// (a private MinIO); the system roots are used otherwise. CACertData is
	// the same, base64-encoded (for Nomad-deployed workers).
	CACert     string `mapstructure:"ca_cert"`
	CACertData string `mapstructure:"ca_cert_data"`
}

// isLoopback reports whether an endpoint (host:port or URL) is this machine.
func isLoopback(endpoint string) bool {
	host := endpoint
	if i := strings.Index(host, "://"); i >= 0 {
		host = host[i+3:]
	}
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	host = strings.Trim(host, "[]")
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// secure decides https for the endpoint: explicit "true"/"false", an
// https:// or http:// URL, else https unless the endpoint is loopback.
func (c S3Config) secure() (bool, error) {
	switch strings.ToLower(c.Secure) {
	case "true", "1", "yes":
		return true, nil
	case "false", "0", "no":
		return false, nil
	case "", "auto":
	default:
		return false, fmt.Errorf("s3.secure %q: want true, false or auto", c.Secure)
	}
	switch {
	case strings.HasPrefix(c.Endpoint, "https://"):
		return true, nil
	case strings.HasPrefix(c.Endpoint, "http://"):
		return false, nil
	}
	return !isLoopback(c.Endpoint), nil
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
		S3:       S3Config{Endpoint: "127.0.0.1:9000", Bucket: "liesweep"},
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
	cfg, err := c.S3.StoreConfig()
	if err != nil {
		return nil, err
	}
	return s3store.New(cfg)
}

// StoreConfig resolves the S3 settings: https unless loopback, static keys
// when given, the local stack's dev keys for a loopback endpoint without
// keys, the standard credential chain otherwise — never the dev keys for a
// remote endpoint.
func (c S3Config) StoreConfig() (s3store.Config, error) {
	secure, err := c.secure()
	if err != nil {
		return s3store.Config{}, err
	}
	cfg := s3store.Config{Endpoint: c.Endpoint, AccessKey: c.AccessKey, SecretKey: c.SecretKey, SessionToken: c.SessionToken,
		Bucket: c.Bucket, Region: c.Region, Secure: secure, CACert: c.CACert}
	if c.CACertData != "" {
		pem, err := base64.StdEncoding.DecodeString(c.CACertData)
		if err != nil {
			return s3store.Config{}, fmt.Errorf("s3.ca_cert_data is not base64: %w", err)
		}
		cfg.CAPEM = pem
	}
	if (c.AccessKey == "") != (c.SecretKey == "") {
		return s3store.Config{}, errors.New("s3.access_key and s3.secret_key go together (LIESWEEP_S3_ACCESS_KEY, LIESWEEP_S3_SECRET_KEY)")
	}
	if c.AccessKey == "" {
		if isLoopback(c.Endpoint) {
			cfg.AccessKey, cfg.SecretKey = DevAccessKey, DevSecretKey
		} else {
			cfg.Chain = true
		}
	}
	return cfg, nil
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
	tc, err := c.Temporal.TLSConfig()
	if err != nil {
		return nil, err
	}
	opts.ConnectionOptions.TLS = tc
	dctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	cl, err := client.DialContext(dctx, opts)
	if err != nil {
		return nil, fmt.Errorf("%w: Temporal at %s (namespace %s): %v — start the local stack with `liesweep dev up` (or `make demo`), or set LIESWEEP_TEMPORAL_ADDRESS",
			ErrUnreachable, c.Temporal.Address, c.Temporal.Namespace, strings.TrimSpace(err.Error()))
	}
	return cl, nil
}

// TLSConfig is the client's TLS: nil (plain gRPC) unless tls, a CA, a
// client certificate, an API key (Temporal Cloud) or a server name is set;
// then the system roots plus the CA, and the client certificate for mTLS.
// Certificates come from files (tls_cert, tls_key, tls_ca) or base64 PEM
// data (tls_*_data, as Nomad-deployed workers receive them).
func (t TemporalConfig) TLSConfig() (*tls.Config, error) {
	if !t.TLS && t.TLSCert == "" && t.TLSCA == "" && t.APIKey == "" && t.TLSServerName == "" && t.TLSCertData == "" && t.TLSCAData == "" {
		return nil, nil
	}
	read := func(what, path, data string) ([]byte, error) {
		if data != "" {
			b, err := base64.StdEncoding.DecodeString(data)
			if err != nil {
				return nil, fmt.Errorf("temporal.%s_data is not base64: %w", what, err)
			}
			return b, nil
		}
		if path == "" {
			return nil, nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("temporal.%s: %w", what, err)
		}
		return b, nil
	}
	tc := &tls.Config{ServerName: t.TLSServerName, MinVersion: tls.VersionTLS12}
	cert, err := read("tls_cert", t.TLSCert, t.TLSCertData)
	if err != nil {
		return nil, err
	}
	key, err := read("tls_key", t.TLSKey, t.TLSKeyData)
	if err != nil {
		return nil, err
	}
	if (cert == nil) != (key == nil) {
		return nil, errors.New("temporal.tls_cert and temporal.tls_key go together")
	}
	if cert != nil {
		pair, err := tls.X509KeyPair(cert, key)
		if err != nil {
			return nil, fmt.Errorf("temporal tls client certificate: %w", err)
		}
		tc.Certificates = []tls.Certificate{pair}
	}
	ca, err := read("tls_ca", t.TLSCA, t.TLSCAData)
	if err != nil {
		return nil, err
	}
	if ca != nil {
		pool, err := x509.SystemCertPool()
		if err != nil || pool == nil {
			pool = x509.NewCertPool()
		}
		if !pool.AppendCertsFromPEM(ca) {
			return nil, fmt.Errorf("temporal tls ca: no PEM certificate in %s", firstNonEmpty(t.TLSCA, "tls_ca_data"))
		}
		tc.RootCAs = pool
	}
	return tc, nil
}

func firstNonEmpty(s ...string) string {
	for _, x := range s {
		if x != "" {
			return x
		}
	}
	return ""
}

// WorkflowURL is the Web UI link of a workflow.
func (c Config) WorkflowURL(id string) string {
	if c.Temporal.UI == "" {
		return ""
	}
	return fmt.Sprintf("%s/namespaces/%s/workflows/%s", strings.TrimRight(c.Temporal.UI, "/"), c.Temporal.Namespace, id)
}
