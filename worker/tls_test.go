package worker_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"io"
	"math/big"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/liesweep/liesweep/infra"
	"github.com/liesweep/liesweep/infra/devstack"
	"go.temporal.io/api/workflowservice/v1"
)

// testCA is a throwaway certificate authority.
type testCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	pem  []byte
}

func newTestCA(t *testing.T) *testCA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "liesweep test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature, BasicConstraintsValid: true}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	return &testCA{cert: cert, key: key, pem: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})}
}

// issue signs a leaf certificate for 127.0.0.1 (server) or a client.
func (ca *testCA) issue(t *testing.T, serial int64, client bool) (certPEM, keyPEM []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: "liesweep test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), KeyUsage: x509.KeyUsageDigitalSignature}
	if client {
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}
	} else {
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
		tmpl.IPAddresses = []net.IP{net.ParseIP("127.0.0.1")}
		tmpl.DNSNames = []string{"localhost"}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	kb, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb})
}

// TestMinIOOverTLS: the S3 store talks to a real MinIO serving TLS with a
// certificate from a generated CA — secure by default for the endpoint,
// trusting the CA given in s3.ca_cert — and refuses the server without it.
func TestMinIOOverTLS(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a MinIO server")
	}
	ca := newTestCA(t)
	dir := t.TempDir()
	certs := filepath.Join(dir, "certs")
	os.MkdirAll(certs, 0o700)
	crt, key := ca.issue(t, 2, false)
	os.WriteFile(filepath.Join(certs, "public.crt"), crt, 0o600)
	os.WriteFile(filepath.Join(certs, "private.key"), key, 0o600)
	caFile := filepath.Join(dir, "ca.pem")
	os.WriteFile(caFile, ca.pem, 0o600)
	bin, err := devstack.FindTool(stack.ToolsDir, "minio", devstack.MinIOVersion)
	if err != nil {
		t.Fatal(err)
	}
	port, err := devstack.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	addr := "127.0.0.1:" + strconv.Itoa(port)
	cmd := exec.Command(bin, "server", filepath.Join(dir, "data"), "--address", addr, "--certs-dir", certs, "--quiet")
	cmd.Env = append(os.Environ(), "MINIO_ROOT_USER=tlsuser", "MINIO_ROOT_PASSWORD=tls-secret-key", "MINIO_BROWSER=off")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cmd.Process.Kill(); cmd.Wait() }()

	ctx := context.Background()
	base := infra.S3Config{Endpoint: "https://" + addr, AccessKey: "tlsuser", SecretKey: "tls-secret-key", Bucket: "tls", CACert: caFile}
	cfg, err := base.StoreConfig()
	if err != nil || !cfg.Secure {
		t.Fatalf("store config %+v, %v: want https", cfg, err)
	}
	var st interface {
		Put(context.Context, string, []byte) error
		Get(context.Context, string) ([]byte, error)
	}
	deadline := time.Now().Add(60 * time.Second)
	for {
		s, err := (infra.Config{S3: base}).Store()
		if err != nil {
			t.Fatal(err)
		}
		if err = s.Put(ctx, "k", []byte("over tls")); err == nil {
			st = s
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("put over TLS: %v", err)
		}
		time.Sleep(500 * time.Millisecond)
	}
	if b, err := st.Get(ctx, "k"); err != nil || string(b) != "over tls" {
		t.Fatalf("get over TLS: %q, %v", b, err)
	}
	// Without the CA the server's certificate is not trusted.
	noCA := base
	noCA.CACert = ""
	s, err := (infra.Config{S3: noCA}).Store()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get(ctx, "k"); err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Errorf("a server signed by an unknown CA was trusted: %v", err)
	}
}

// TestTemporalOverMutualTLS: the Temporal client dials through a TLS
// endpoint that requires a client certificate (a TLS proxy in front of
// the dev server) with the certificate, key and CA given as base64 data —
// as Nomad-deployed workers receive them — and a client without a
// certificate is refused.
func TestTemporalOverMutualTLS(t *testing.T) {
	if testing.Short() {
		t.Skip("needs the dev server")
	}
	ca := newTestCA(t)
	srvCert, srvKey := ca.issue(t, 3, false)
	cliCert, cliKey := ca.issue(t, 4, true)
	pair, err := tls.X509KeyPair(srvCert, srvKey)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(ca.pem)
	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{pair}, ClientCAs: pool,
		ClientAuth: tls.RequireAndVerifyClientCert, NextProtos: []string{"h2"}, MinVersion: tls.VersionTLS12})
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				if err := c.(*tls.Conn).Handshake(); err != nil {
					return
				}
				up, err := net.Dial("tcp", stack.TemporalAddress())
				if err != nil {
					return
				}
				defer up.Close()
				go io.Copy(up, c)
				io.Copy(c, up)
			}()
		}
	}()
	b64 := func(b []byte) string { return base64.StdEncoding.EncodeToString(b) }
	cfg := infra.DefaultConfig()
	cfg.Temporal.Address = ln.Addr().String()
	cfg.Temporal.TLSCertData, cfg.Temporal.TLSKeyData, cfg.Temporal.TLSCAData = b64(cliCert), b64(cliKey), b64(ca.pem)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := cfg.Dial(ctx)
	if err != nil {
		t.Fatalf("dial over mTLS: %v", err)
	}
	defer c.Close()
	if _, err := c.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{Namespace: cfg.Temporal.Namespace}); err != nil {
		t.Fatalf("list over mTLS: %v", err)
	}
	// No client certificate: the handshake fails, and so does the dial.
	noCert := cfg
	noCert.Temporal.TLSCertData, noCert.Temporal.TLSKeyData = "", ""
	sctx, scancel := context.WithTimeout(context.Background(), 12*time.Second)
	defer scancel()
	if c2, err := noCert.Dial(sctx); err == nil {
		_, lerr := c2.ListWorkflow(sctx, &workflowservice.ListWorkflowExecutionsRequest{Namespace: cfg.Temporal.Namespace})
		c2.Close()
		if lerr == nil {
			t.Error("a client without a certificate got through the mTLS endpoint")
		}
	}
}
