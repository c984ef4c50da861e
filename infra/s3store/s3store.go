// Package s3store is the ArtifactStore on S3 (MinIO locally, any S3
// endpoint in production), through minio-go.
package s3store

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"strings"
	"sync"

	"github.com/liesweep/liesweep/sweeps"
	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
)

var _ sweeps.ArtifactStore = (*Store)(nil)

// Config locates the bucket. Secrets are never printed: String() omits them.
type Config struct {
	Endpoint     string // host:port or URL
	AccessKey    string
	SecretKey    string
	SessionToken string
	// Chain, with no static keys, takes credentials from the standard
	// chain: AWS_* and MINIO_* variables, ~/.aws/credentials, IAM.
	Chain  bool
	Bucket string
	Region string
	Secure bool // https
	// CACert is a PEM file of extra root CAs for https; CAPEM the same
	// given as bytes.
	CACert string
	CAPEM  []byte
}

func (c Config) String() string {
	return fmt.Sprintf("s3://%s/%s", c.Endpoint, c.Bucket)
}

// shaKey is the user-metadata key holding an object's SHA-256.
const shaKey = "Sha256"

// Store keeps objects in one bucket. S3 publishes an object only once its
// upload completes, so Put is atomic; the SHA-256 rides in the object's
// metadata and Get verifies it.
type Store struct {
	cfg    Config
	client *minio.Client

	once    sync.Mutex
	checked bool
}

// New connects to the endpoint (no request is made until first use).
func New(cfg Config) (*Store, error) {
	ep := cfg.Endpoint
	if u, err := url.Parse(ep); err == nil && u.Host != "" {
		ep = u.Host
		cfg.Secure = cfg.Secure || u.Scheme == "https"
	}
	if ep == "" || cfg.Bucket == "" {
		return nil, fmt.Errorf("s3 store: endpoint and bucket are required (LIESWEEP_S3_ENDPOINT, LIESWEEP_S3_BUCKET)")
	}
	creds := credentials.NewStaticV4(cfg.AccessKey, cfg.SecretKey, cfg.SessionToken)
	if cfg.Chain && cfg.AccessKey == "" {
		creds = credentials.NewChainCredentials([]credentials.Provider{
			&credentials.EnvAWS{}, &credentials.EnvMinio{}, &credentials.FileAWSCredentials{}, &credentials.IAM{},
		})
	}
	opts := &minio.Options{Creds: creds, Secure: cfg.Secure, Region: cfg.Region, BucketLookup: minio.BucketLookupPath}
	if cfg.CACert != "" || len(cfg.CAPEM) > 0 {
		pem := cfg.CAPEM
		if cfg.CACert != "" {
			var err error
			if pem, err = os.ReadFile(cfg.CACert); err != nil {
				return nil, fmt.Errorf("s3 store: read s3.ca_cert: %w", err)
			}
		}
		pool, err := x509.SystemCertPool()
		if err != nil || pool == nil {
			pool = x509.NewCertPool()
		}
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("s3 store: s3.ca_cert %s holds no PEM certificate", cfg.CACert)
		}
		tr, err := minio.DefaultTransport(cfg.Secure)
		if err != nil {
			return nil, err
		}
		tr.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
		opts.Transport = tr
	}
	cl, err := minio.New(ep, opts)
	if err != nil {
		return nil, fmt.Errorf("s3 store %s: %w", cfg, err)
	}
	cfg.Endpoint = ep
	return &Store{cfg: cfg, client: cl}, nil
}

// unreachable wraps connection errors with the address and how to start
// the local stack.
func (s *Store) unreachable(op string, err error) error {
	msg := err.Error()
	var ue *url.Error
	switch {
	case strings.Contains(msg, "x509:") || strings.Contains(msg, "certificate"):
		return fmt.Errorf("%s: the TLS certificate of S3 endpoint %s is not trusted (%w): give its CA in s3.ca_cert (LIESWEEP_S3_CA_CERT), or check s3.endpoint", op, s.cfg.Endpoint, err)
	case strings.Contains(msg, "HTTP response to HTTPS client"), strings.Contains(msg, "first record does not look like a TLS handshake"):
		return fmt.Errorf("%s: S3 endpoint %s speaks plain http, not https (%w): set s3.secure: false (LIESWEEP_S3_SECURE=false) for it", op, s.cfg.Endpoint, err)
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return fmt.Errorf("%s: %w", op, err)
	case errors.As(err, &ue) || strings.Contains(msg, "connection refused") || strings.Contains(msg, "no such host"):
		return fmt.Errorf("%s: S3 endpoint %s is unreachable (%w): start the local stack with `liesweep dev up` or set LIESWEEP_S3_ENDPOINT", op, s.cfg.Endpoint, err)
	}
	return fmt.Errorf("%s: %w", op, err)
}

// EnsureBucket creates the bucket on first use.
func (s *Store) EnsureBucket(ctx context.Context) error {
	s.once.Lock()
	defer s.once.Unlock()
	if s.checked {
		return nil
	}
	ok, err := s.client.BucketExists(ctx, s.cfg.Bucket)
	if err != nil {
		return s.unreachable("check bucket "+s.cfg.Bucket, err)
	}
	if !ok {
		if err := s.client.MakeBucket(ctx, s.cfg.Bucket, minio.MakeBucketOptions{Region: s.cfg.Region}); err != nil {
			var er minio.ErrorResponse
			if !(errors.As(err, &er) && (er.Code == "BucketAlreadyOwnedByYou" || er.Code == "BucketAlreadyExists")) {
				return s.unreachable("create bucket "+s.cfg.Bucket, err)
			}
		}
	}
	s.checked = true
	return nil
}

// Put uploads data under key with its SHA-256 in the metadata.
func (s *Store) Put(ctx context.Context, key string, data []byte) error {
	if err := sweeps.ValidateKey(key); err != nil {
		return err
	}
	if err := s.EnsureBucket(ctx); err != nil {
		return err
	}
	_, err := s.client.PutObject(ctx, s.cfg.Bucket, key, bytes.NewReader(data), int64(len(data)), minio.PutObjectOptions{
		UserMetadata: map[string]string{shaKey: sweeps.Digest(data)},
		ContentType:  "application/octet-stream",
	})
	if err != nil {
		return s.unreachable("put "+key, err)
	}
	return nil
}

func notFound(err error) bool {
	var er minio.ErrorResponse
	return errors.As(err, &er) && (er.Code == "NoSuchKey" || er.StatusCode == 404)
}

// Get downloads key and verifies its SHA-256.
func (s *Store) Get(ctx context.Context, key string) ([]byte, error) {
	if err := sweeps.ValidateKey(key); err != nil {
		return nil, err
	}
	if err := s.EnsureBucket(ctx); err != nil {
		return nil, err
	}
	obj, err := s.client.GetObject(ctx, s.cfg.Bucket, key, minio.GetObjectOptions{})
	if err != nil {
		return nil, s.unreachable("get "+key, err)
	}
	defer obj.Close()
	st, err := obj.Stat()
	if err != nil {
		if notFound(err) {
			return nil, fmt.Errorf("get %s: %w", key, sweeps.ErrNotFound)
		}
		return nil, s.unreachable("get "+key, err)
	}
	data, err := io.ReadAll(obj)
	if err != nil {
		return nil, s.unreachable("get "+key, err)
	}
	want := st.UserMetadata[shaKey]
	if want == "" {
		want = st.Metadata.Get("X-Amz-Meta-" + shaKey)
	}
	if got := sweeps.Digest(data); want == "" || got != want {
		return nil, fmt.Errorf("get %s from %s: %w: sha256 is %s, recorded %q; delete the object to have its stage recomputed", key, s.cfg, sweeps.ErrCorrupt, got, want)
	}
	return data, nil
}

// Exists reports whether key is stored.
func (s *Store) Exists(ctx context.Context, key string) (bool, error) {
	if err := sweeps.ValidateKey(key); err != nil {
		return false, err
	}
	if err := s.EnsureBucket(ctx); err != nil {
		return false, err
	}
	_, err := s.client.StatObject(ctx, s.cfg.Bucket, key, minio.StatObjectOptions{})
	if err != nil {
		if notFound(err) {
			return false, nil
		}
		return false, s.unreachable("stat "+key, err)
	}
	return true, nil
}

// List returns the keys under prefix.
func (s *Store) List(ctx context.Context, prefix string) ([]string, error) {
	if err := s.EnsureBucket(ctx); err != nil {
		return nil, err
	}
	var out []string
	for o := range s.client.ListObjects(ctx, s.cfg.Bucket, minio.ListObjectsOptions{Prefix: prefix, Recursive: true}) {
		if o.Err != nil {
			return nil, s.unreachable("list "+prefix, o.Err)
		}
		out = append(out, o.Key)
	}
	return out, nil
}

// Delete removes key.
func (s *Store) Delete(ctx context.Context, key string) error {
	if err := sweeps.ValidateKey(key); err != nil {
		return err
	}
	if err := s.EnsureBucket(ctx); err != nil {
		return err
	}
	if err := s.client.RemoveObject(ctx, s.cfg.Bucket, key, minio.RemoveObjectOptions{}); err != nil {
		return s.unreachable("delete "+key, err)
	}
	return nil
}

// PutRaw uploads bytes without the digest (tests use it to plant corrupt
// objects).
func (s *Store) PutRaw(ctx context.Context, key string, data []byte, sha string) error {
	if err := sweeps.ValidateKey(key); err != nil {
		return err
	}
	if err := s.EnsureBucket(ctx); err != nil {
		return err
	}
	_, err := s.client.PutObject(ctx, s.cfg.Bucket, key, bytes.NewReader(data), int64(len(data)), minio.PutObjectOptions{UserMetadata: map[string]string{shaKey: sha}})
	return err
}

// ReadObject downloads any object of bucket (the store's own bucket when
// empty), such as a data file a user uploaded, without the SHA-256 check of
// Get: the object need not have been written by a Store. An object larger
// than max bytes is refused before it is downloaded. A missing bucket or
// object is an error wrapping sweeps.ErrNotFound that names it.
func (s *Store) ReadObject(ctx context.Context, bucket, key string, max int64) ([]byte, error) {
	if bucket == "" {
		bucket = s.cfg.Bucket
	}
	where := fmt.Sprintf("s3://%s/%s", bucket, key)
	st, err := s.client.StatObject(ctx, bucket, key, minio.StatObjectOptions{})
	if err != nil {
		var er minio.ErrorResponse
		if errors.As(err, &er) && (er.Code == "NoSuchKey" || er.Code == "NoSuchBucket" || er.StatusCode == 404) {
			return nil, fmt.Errorf("read %s at %s: %w (%s): check the bucket and key", where, s.cfg.Endpoint, sweeps.ErrNotFound, er.Code)
		}
		return nil, s.unreachable("read "+where, err)
	}
	if max > 0 && st.Size > max {
		return nil, &TooLargeError{Object: where, Size: st.Size, Max: max}
	}
	obj, err := s.client.GetObject(ctx, bucket, key, minio.GetObjectOptions{})
	if err != nil {
		return nil, s.unreachable("read "+where, err)
	}
	defer obj.Close()
	data, err := io.ReadAll(obj)
	if err != nil {
		return nil, s.unreachable("read "+where, err)
	}
	return data, nil
}

// TooLargeError is ReadObject's refusal of an object over its bound.
type TooLargeError struct {
	Object    string
	Size, Max int64
}

func (e *TooLargeError) Error() string {
	return fmt.Sprintf("read %s: the object is %d bytes, over the bound of %d", e.Object, e.Size, e.Max)
}
