package registry

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
)

// S3Options configure an S3Store.
type S3Options struct {
	// Bucket holds the registry; Prefix (optional) is a folder inside it.
	Bucket string
	Prefix string
	// Endpoint is the S3 URL, e.g. "http://127.0.0.1:7070"; empty means AWS S3.
	Endpoint string
	// Region of the bucket; empty lets the client discover it.
	Region string
	// PathStyle addresses the bucket as ENDPOINT/BUCKET instead of BUCKET.ENDPOINT.
	PathStyle bool
	// AccessKey and SecretKey, when set, are used instead of the credential
	// chain (AWS_* environment, shared credentials file, web identity, instance role).
	AccessKey, SecretKey string
	// PartSize of streaming multipart uploads (default 8 MiB, minimum 5 MiB);
	// an upload holds at most PartSize × UploadThreads bytes in memory.
	PartSize uint64
	// UploadThreads is how many parts upload in parallel (default 2).
	UploadThreads uint
}

// S3Store is a Store in an S3-compatible bucket (AWS S3, MinIO, versitygw, ...).
// Conditional writes are single-part PUTs with If-None-Match / If-Match.
type S3Store struct {
	client   *minio.Client
	bucket   string
	prefix   string
	partSize uint64
	threads  uint
}

// NewS3Store connects to the bucket described by opts and checks that it exists.
func NewS3Store(ctx context.Context, opts S3Options) (*S3Store, error) {
	client, err := NewS3Client(opts)
	if err != nil {
		return nil, err
	}
	ok, err := client.BucketExists(ctx, opts.Bucket)
	if err != nil {
		return nil, fmt.Errorf("s3 store: bucket %s: %w", opts.Bucket, err)
	}
	if !ok {
		return nil, fmt.Errorf("s3 store: bucket %s does not exist; create it first", opts.Bucket)
	}
	s := &S3Store{client: client, bucket: opts.Bucket, partSize: opts.PartSize, threads: opts.UploadThreads}
	if p := strings.Trim(opts.Prefix, "/"); p != "" {
		s.prefix = p + "/"
	}
	if s.partSize == 0 {
		s.partSize = 8 << 20
	}
	if s.threads == 0 {
		s.threads = 2
	}
	return s, nil
}

// NewS3Client builds the minio-go client for opts' endpoint and credentials.
func NewS3Client(opts S3Options) (*minio.Client, error) {
	host, secure := "s3.amazonaws.com", true
	if opts.Endpoint != "" {
		u, err := url.Parse(opts.Endpoint)
		if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
			return nil, fmt.Errorf("s3 endpoint %q: want http://HOST[:PORT] or https://HOST[:PORT]", opts.Endpoint)
		}
		host, secure = u.Host, u.Scheme == "https"
	}
	creds := credentials.NewChainCredentials([]credentials.Provider{
		&credentials.EnvAWS{},
		&credentials.FileAWSCredentials{},
		&credentials.IAM{}, // web identity (AWS_WEB_IDENTITY_TOKEN_FILE), ECS and EC2 roles
	})
	if opts.AccessKey != "" {
		creds = credentials.NewStaticV4(opts.AccessKey, opts.SecretKey, "")
	}
	lookup := minio.BucketLookupAuto
	if opts.PathStyle {
		lookup = minio.BucketLookupPath
	}
	client, err := minio.New(host, &minio.Options{Creds: creds, Secure: secure, Region: opts.Region, BucketLookup: lookup})
	if err != nil {
		return nil, fmt.Errorf("s3 client: %w", err)
	}
	return client, nil
}

func (s *S3Store) key(key string) (string, error) {
	if err := checkKey(key); err != nil {
		return "", err
	}
	return s.prefix + key, nil
}

// Upload implements Store with a streaming multipart upload of bounded part
// size; a failed read aborts the multipart upload, so nothing appears.
func (s *S3Store) Upload(ctx context.Context, key string, r io.Reader) error {
	k, err := s.key(key)
	if err != nil {
		return err
	}
	_, err = s.client.PutObject(ctx, s.bucket, k, r, -1, minio.PutObjectOptions{
		ContentType:           "application/octet-stream",
		PartSize:              s.partSize,
		NumThreads:            s.threads,
		ConcurrentStreamParts: s.threads > 1,
	})
	if err != nil {
		return s3Error("upload", key, err)
	}
	return nil
}

// Create implements Store with a single-part PUT and If-None-Match: *.
func (s *S3Store) Create(ctx context.Context, key string, data []byte) (string, error) {
	opts := minio.PutObjectOptions{ContentType: "application/json"}
	opts.SetMatchETagExcept("*")
	return s.putSmall(ctx, "create", key, data, opts)
}

// Swap implements Store with a single-part PUT and If-Match: etag.
func (s *S3Store) Swap(ctx context.Context, key string, data []byte, etag string) (string, error) {
	opts := minio.PutObjectOptions{ContentType: "application/json"}
	opts.SetMatchETag(etag)
	return s.putSmall(ctx, "swap", key, data, opts)
}

func (s *S3Store) putSmall(ctx context.Context, op, key string, data []byte, opts minio.PutObjectOptions) (string, error) {
	k, err := s.key(key)
	if err != nil {
		return "", err
	}
	opts.DisableMultipart = true
	info, err := s.client.PutObject(ctx, s.bucket, k, bytes.NewReader(data), int64(len(data)), opts)
	if err != nil {
		if resp := minio.ToErrorResponse(err); resp.StatusCode == http.StatusNotFound || resp.StatusCode == http.StatusPreconditionFailed || resp.StatusCode == http.StatusConflict {
			return "", fmt.Errorf("%s %s: %w: %s", op, key, ErrConflict, resp.Code)
		}
		return "", s3Error(op, key, err)
	}
	return info.ETag, nil
}

// Get implements Store; content and attributes come from one request.
func (s *S3Store) Get(ctx context.Context, key string) (io.ReadCloser, Attributes, error) {
	k, err := s.key(key)
	if err != nil {
		return nil, Attributes{}, err
	}
	rc, info, _, err := minio.Core{Client: s.client}.GetObject(ctx, s.bucket, k, minio.GetObjectOptions{})
	if err != nil {
		return nil, Attributes{}, s3Error("get", key, err)
	}
	return rc, objectAttributes(info), nil
}

// GetRange implements Store.
func (s *S3Store) GetRange(ctx context.Context, key string, off, length int64) (io.ReadCloser, error) {
	k, err := s.key(key)
	if err != nil {
		return nil, err
	}
	if length == 0 {
		return io.NopCloser(strings.NewReader("")), nil
	}
	var opts minio.GetObjectOptions
	end := int64(0) // with off > 0: to the end
	if length > 0 {
		end = off + length - 1
	}
	if off > 0 || length > 0 {
		if err := opts.SetRange(off, end); err != nil {
			return nil, fmt.Errorf("%w: range %d+%d of %s", ErrInvalid, off, length, key)
		}
	}
	rc, _, _, err := minio.Core{Client: s.client}.GetObject(ctx, s.bucket, k, opts)
	if err != nil {
		return nil, s3Error("get range", key, err)
	}
	return rc, nil
}

// Iter implements Store.
func (s *S3Store) Iter(ctx context.Context, dir string, f func(string) error) error {
	prefix := s.prefix
	if dir != "" {
		if err := checkKey(dir); err != nil {
			return err
		}
		prefix += strings.TrimSuffix(dir, "/") + "/"
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	for obj := range s.client.ListObjects(ctx, s.bucket, minio.ListObjectsOptions{Prefix: prefix}) {
		if obj.Err != nil {
			return s3Error("iter", dir, obj.Err)
		}
		if err := f(strings.TrimPrefix(obj.Key, s.prefix)); err != nil {
			return err
		}
	}
	return nil
}

// Attributes implements Store.
func (s *S3Store) Attributes(ctx context.Context, key string) (Attributes, error) {
	k, err := s.key(key)
	if err != nil {
		return Attributes{}, err
	}
	info, err := s.client.StatObject(ctx, s.bucket, k, minio.StatObjectOptions{})
	if err != nil {
		return Attributes{}, s3Error("stat", key, err)
	}
	return objectAttributes(info), nil
}

// Delete implements Store.
func (s *S3Store) Delete(ctx context.Context, key string) error {
	k, err := s.key(key)
	if err != nil {
		return err
	}
	if err := s.client.RemoveObject(ctx, s.bucket, k, minio.RemoveObjectOptions{}); err != nil && minio.ToErrorResponse(err).StatusCode != http.StatusNotFound {
		return s3Error("delete", key, err)
	}
	return nil
}

// PresignGet implements Store.
func (s *S3Store) PresignGet(ctx context.Context, key string, ttl time.Duration) (string, error) {
	k, err := s.key(key)
	if err != nil {
		return "", err
	}
	u, err := s.client.PresignedGetObject(ctx, s.bucket, k, ttl, nil)
	if err != nil {
		return "", s3Error("presign", key, err)
	}
	return u.String(), nil
}

// Close implements Store.
func (s *S3Store) Close() error { return nil }

func objectAttributes(info minio.ObjectInfo) Attributes {
	return Attributes{Size: info.Size, ETag: info.ETag, LastModified: info.LastModified}
}

func s3Error(op, key string, err error) error {
	if resp := minio.ToErrorResponse(err); resp.StatusCode == http.StatusNotFound || resp.Code == "NoSuchKey" {
		return fmt.Errorf("%s %s: %w", op, key, ErrNotFound)
	}
	return fmt.Errorf("s3 %s %s: %w", op, key, err)
}
