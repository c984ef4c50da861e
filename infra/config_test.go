package infra

import (
	"testing"
)

// TestS3StoreConfig: https unless the endpoint is loopback; the local
// stack's dev keys only ever go to a loopback endpoint; without keys a
// remote endpoint uses the standard credential chain.
func TestS3StoreConfig(t *testing.T) {
	for _, c := range []struct {
		cfg        S3Config
		secure     bool
		devKeys    bool
		chain      bool
		wantErr    bool
		sessionTok string
	}{
		{cfg: S3Config{Endpoint: "127.0.0.1:9000", Bucket: "b"}, secure: false, devKeys: true},
		{cfg: S3Config{Endpoint: "localhost:9000", Bucket: "b"}, secure: false, devKeys: true},
		{cfg: S3Config{Endpoint: "[::1]:9000", Bucket: "b"}, secure: false, devKeys: true},
		{cfg: S3Config{Endpoint: "minio.internal:9000", Bucket: "b"}, secure: true, chain: true},
		{cfg: S3Config{Endpoint: "s3.eu-west-1.amazonaws.com", Bucket: "b", AccessKey: "a", SecretKey: "s", SessionToken: "tok"}, secure: true, sessionTok: "tok"},
		{cfg: S3Config{Endpoint: "http://minio.internal:9000", Bucket: "b"}, secure: false, chain: true},
		{cfg: S3Config{Endpoint: "minio.internal:9000", Bucket: "b", Secure: "false"}, secure: false, chain: true},
		{cfg: S3Config{Endpoint: "127.0.0.1:9000", Bucket: "b", Secure: "true"}, secure: true, devKeys: true},
		{cfg: S3Config{Endpoint: "minio.internal:9000", Bucket: "b", Secure: "maybe"}, wantErr: true},
		{cfg: S3Config{Endpoint: "minio.internal:9000", Bucket: "b", AccessKey: "a"}, wantErr: true},
	} {
		got, err := c.cfg.StoreConfig()
		if (err != nil) != c.wantErr {
			t.Errorf("%+v: error %v, want error %v", c.cfg, err, c.wantErr)
			continue
		}
		if err != nil {
			continue
		}
		dev := got.AccessKey == DevAccessKey && got.SecretKey == DevSecretKey
		if got.Secure != c.secure || dev != c.devKeys || got.Chain != c.chain || got.SessionToken != c.sessionTok {
			t.Errorf("%+v: secure %v, dev keys %v, chain %v, token %q; want %v, %v, %v, %q", c.cfg, got.Secure, dev, got.Chain, got.SessionToken, c.secure, c.devKeys, c.chain, c.sessionTok)
		}
	}
}

// TestTemporalTLSConfig: plain gRPC unless something asks for TLS; a
// server name alone or tls: true turns TLS on with the system roots.
func TestTemporalTLSConfig(t *testing.T) {
	for _, c := range []struct {
		cfg  TemporalConfig
		tls  bool
		name string
	}{
		{TemporalConfig{}, false, ""},
		{TemporalConfig{TLS: true}, true, ""},
		{TemporalConfig{TLSServerName: "temporal.internal"}, true, "temporal.internal"},
		{TemporalConfig{APIKey: "k"}, true, ""},
	} {
		tc, err := c.cfg.TLSConfig()
		if err != nil {
			t.Fatal(err)
		}
		if (tc != nil) != c.tls || tc != nil && (tc.ServerName != c.name || tc.RootCAs != nil || len(tc.Certificates) != 0) {
			t.Errorf("%+v: TLS config %+v, want TLS %v with system roots, server name %q", c.cfg, tc, c.tls, c.name)
		}
	}
	if _, err := (TemporalConfig{TLSCertData: "not base64!"}).TLSConfig(); err == nil {
		t.Error("bad base64 certificate data accepted")
	}
	if _, err := (TemporalConfig{TLSCert: "/no/such.pem", TLSKey: "/no/such.key"}).TLSConfig(); err == nil {
		t.Error("a missing certificate file accepted")
	}
}
