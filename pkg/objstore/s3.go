package objstore

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

// S3Options say how to reach an S3-compatible server. They are the same
// for every command: --s3-endpoint, --s3-region, --s3-path-style.
type S3Options struct {
	// Endpoint is the S3 URL, e.g. "http://127.0.0.1:7070"; empty means AWS S3.
	Endpoint string
	// Region of the bucket; empty lets the client discover it.
	Region string
	// PathStyle addresses the bucket as ENDPOINT/BUCKET instead of
	// BUCKET.ENDPOINT; without it the client picks (path style for servers
	// other than AWS).
	PathStyle bool
	// AccessKey and SecretKey, when set, are used instead of the credential
	// chain (AWS_* environment, shared credentials file, web identity
	// through AWS_WEB_IDENTITY_TOKEN_FILE, ECS and EC2 roles).
	AccessKey, SecretKey string
	// PartSize of streaming multipart uploads (default 8 MiB, minimum 5 MiB);
	// an upload holds at most PartSize × UploadThreads bytes in memory.
	PartSize uint64
	// UploadThreads is how many parts upload in parallel (default 2).
	UploadThreads uint
}

// S3 is a bucket on an S3-compatible server (AWS S3, MinIO, versitygw, ...).
// Conditional writes are single-part PUTs with If-None-Match / If-Match.
type S3 struct {
	client   *minio.Client
	bucket   string
	partSize uint64
	threads  uint
}

// NewS3 returns the bucket named bucket on the server opts describe. It
// does not contact the server: see CheckExists.
func NewS3(bucket string, opts S3Options) (*S3, error) {
	host, secure := "s3.amazonaws.com", true
	if opts.Endpoint != "" {
		u, err := url.Parse(opts.Endpoint)
		if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
			return nil, fmt.Errorf("%w: s3 endpoint %q: want http://HOST[:PORT] or https://HOST[:PORT]", ErrInvalid, opts.Endpoint)
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
		return nil, fmt.Errorf("s3 client for %s: %w", host, err)
	}
	b := &S3{client: client, bucket: bucket, partSize: opts.PartSize, threads: opts.UploadThreads}
	if b.partSize == 0 {
		b.partSize = 8 << 20
	}
	if b.threads == 0 {
		b.threads = 2
	}
	return b, nil
}

// CheckExists returns an error saying what to do when the bucket does not
// exist or cannot be reached.
func (b *S3) CheckExists(ctx context.Context) error {
	ok, err := b.client.BucketExists(ctx, b.bucket)
	if err != nil {
		return fmt.Errorf("s3 bucket %s: %w", b.bucket, err)
	}
	if !ok {
		return fmt.Errorf("s3 bucket %s does not exist; create it first", b.bucket)
	}
	return nil
}

// Upload implements Bucket with a streaming multipart upload of bounded
// part size; a failed read aborts the multipart upload, so nothing appears.
func (b *S3) Upload(ctx context.Context, key string, r io.Reader) error {
	if err := checkKey(key); err != nil {
		return err
	}
	_, err := b.client.PutObject(ctx, b.bucket, key, r, -1, minio.PutObjectOptions{
		ContentType:           "application/octet-stream",
		PartSize:              b.partSize,
		NumThreads:            b.threads,
		ConcurrentStreamParts: b.threads > 1,
	})
	if err != nil {
		return s3Error("upload", key, err)
	}
	return nil
}

// Create implements ConditionalBucket with a single-part PUT and If-None-Match: *.
func (b *S3) Create(ctx context.Context, key string, data []byte) (string, error) {
	opts := minio.PutObjectOptions{ContentType: "application/json"}
	opts.SetMatchETagExcept("*")
	return b.putSmall(ctx, "create", key, data, opts)
}

// Swap implements ConditionalBucket with a single-part PUT and If-Match: etag.
func (b *S3) Swap(ctx context.Context, key string, data []byte, etag string) (string, error) {
	opts := minio.PutObjectOptions{ContentType: "application/json"}
	opts.SetMatchETag(etag)
	return b.putSmall(ctx, "swap", key, data, opts)
}

func (b *S3) putSmall(ctx context.Context, op, key string, data []byte, opts minio.PutObjectOptions) (string, error) {
	if err := checkKey(key); err != nil {
		return "", err
	}
	opts.DisableMultipart = true
	info, err := b.client.PutObject(ctx, b.bucket, key, bytes.NewReader(data), int64(len(data)), opts)
	if err != nil {
		if resp := minio.ToErrorResponse(err); resp.StatusCode == http.StatusNotFound || resp.StatusCode == http.StatusPreconditionFailed || resp.StatusCode == http.StatusConflict {
			return "", fmt.Errorf("%s %s: %w: %s", op, key, ErrConflict, resp.Code)
		}
		return "", s3Error(op, key, err)
	}
	return info.ETag, nil
}

// Get implements Bucket; content and attributes come from one request.
func (b *S3) Get(ctx context.Context, key string) (io.ReadCloser, Attributes, error) {
	if err := checkKey(key); err != nil {
		return nil, Attributes{}, err
	}
	rc, info, _, err := minio.Core{Client: b.client}.GetObject(ctx, b.bucket, key, minio.GetObjectOptions{})
	if err != nil {
		return nil, Attributes{}, s3Error("get", key, err)
	}
	return rc, objectAttributes(info), nil
}

// GetRange implements Bucket.
func (b *S3) GetRange(ctx context.Context, key string, off, length int64) (io.ReadCloser, error) {
	if err := checkKey(key); err != nil {
		return nil, err
	}
	if off < 0 {
		return nil, fmt.Errorf("%w: range %d+%d of %s", ErrInvalid, off, length, key)
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
	rc, _, _, err := minio.Core{Client: b.client}.GetObject(ctx, b.bucket, key, opts)
	if err != nil {
		return nil, s3Error("get range", key, err)
	}
	return rc, nil
}

// Iter implements Bucket.
func (b *S3) Iter(ctx context.Context, dir string, f func(string) error, opts ...IterOption) error {
	prefix, err := folder(dir)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	list := minio.ListObjectsOptions{Prefix: prefix, Recursive: applyIterOptions(opts).recursive}
	for obj := range b.client.ListObjects(ctx, b.bucket, list) {
		if obj.Err != nil {
			return s3Error("iter", dir, obj.Err)
		}
		if err := f(obj.Key); err != nil {
			return err
		}
	}
	return nil
}

// Attributes implements Bucket.
func (b *S3) Attributes(ctx context.Context, key string) (Attributes, error) {
	if err := checkKey(key); err != nil {
		return Attributes{}, err
	}
	info, err := b.client.StatObject(ctx, b.bucket, key, minio.StatObjectOptions{})
	if err != nil {
		return Attributes{}, s3Error("stat", key, err)
	}
	return objectAttributes(info), nil
}

// Delete implements Bucket.
func (b *S3) Delete(ctx context.Context, key string) error {
	if err := checkKey(key); err != nil {
		return err
	}
	if err := b.client.RemoveObject(ctx, b.bucket, key, minio.RemoveObjectOptions{}); err != nil && minio.ToErrorResponse(err).StatusCode != http.StatusNotFound {
		return s3Error("delete", key, err)
	}
	return nil
}

// PresignGet implements Bucket.
func (b *S3) PresignGet(ctx context.Context, key string, ttl time.Duration) (string, error) {
	if err := checkKey(key); err != nil {
		return "", err
	}
	u, err := b.client.PresignedGetObject(ctx, b.bucket, key, ttl, nil)
	if err != nil {
		return "", s3Error("presign", key, err)
	}
	return u.String(), nil
}

// Close implements Bucket.
func (b *S3) Close() error { return nil }

func objectAttributes(info minio.ObjectInfo) Attributes {
	return Attributes{Size: info.Size, ETag: info.ETag, LastModified: info.LastModified}
}

func s3Error(op, key string, err error) error {
	if resp := minio.ToErrorResponse(err); resp.StatusCode == http.StatusNotFound || resp.Code == "NoSuchKey" {
		return fmt.Errorf("%s %s: %w", op, key, ErrNotFound)
	}
	return fmt.Errorf("s3 %s %s: %w", op, key, err)
}
