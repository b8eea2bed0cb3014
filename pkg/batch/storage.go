package batch

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
)

// S3Options say how to reach S3. Empty fields come from the standard AWS
// environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_REGION, the
// shared credentials file, instance roles).
type S3Options struct {
	// Endpoint is the server URL, e.g. http://127.0.0.1:9000; empty means AWS.
	Endpoint  string
	AccessKey string
	SecretKey string
	Region    string
}

// S3OptionsFromEnv reads the endpoint from KILN_S3_ENDPOINT or
// AWS_ENDPOINT_URL; credentials and region are left to the AWS chain.
func S3OptionsFromEnv() S3Options {
	endpoint := os.Getenv("KILN_S3_ENDPOINT")
	if endpoint == "" {
		endpoint = os.Getenv("AWS_ENDPOINT_URL")
	}
	return S3Options{Endpoint: endpoint, Region: os.Getenv("AWS_REGION")}
}

// s3PartSize bounds the memory an upload of unknown size buffers.
const s3PartSize = 16 << 20

// Storage reads, lists and writes files at local and S3 locations.
type Storage struct {
	opts S3Options
	s3   *minio.Client
}

// NewStorage returns a Storage; the S3 client is created on first use.
func NewStorage(opts S3Options) *Storage { return &Storage{opts: opts} }

// FileInfo describes one file.
type FileInfo struct {
	Loc  Location
	Size int64
	// Version changes when the file's content may have changed: the
	// modification time of a local file, the ETag of an S3 object.
	Version string
}

func (s *Storage) client() (*minio.Client, error) {
	if s.s3 != nil {
		return s.s3, nil
	}
	host, secure := "s3.amazonaws.com", true
	if s.opts.Endpoint != "" {
		u, err := url.Parse(s.opts.Endpoint)
		if err != nil || u.Host == "" {
			return nil, fmt.Errorf("S3 endpoint %q: want a URL such as http://127.0.0.1:9000", s.opts.Endpoint)
		}
		host, secure = u.Host, u.Scheme == "https"
	}
	creds := credentials.NewChainCredentials([]credentials.Provider{
		&credentials.EnvAWS{},
		&credentials.FileAWSCredentials{},
		&credentials.IAM{},
	})
	if s.opts.AccessKey != "" {
		creds = credentials.NewStaticV4(s.opts.AccessKey, s.opts.SecretKey, "")
	}
	c, err := minio.New(host, &minio.Options{Creds: creds, Secure: secure, Region: s.opts.Region})
	if err != nil {
		return nil, fmt.Errorf("S3 client for %s: %w", host, err)
	}
	s.s3 = c
	return c, nil
}

// Stat describes the file at loc; a missing file gives an error matching
// fs.ErrNotExist.
func (s *Storage) Stat(ctx context.Context, loc Location) (FileInfo, error) {
	if !loc.IsS3() {
		st, err := os.Stat(loc.Key)
		if err != nil {
			return FileInfo{}, err
		}
		if st.IsDir() {
			return FileInfo{}, fmt.Errorf("%s is a folder", loc)
		}
		return FileInfo{Loc: loc, Size: st.Size(), Version: st.ModTime().UTC().Format(time.RFC3339Nano)}, nil
	}
	c, err := s.client()
	if err != nil {
		return FileInfo{}, err
	}
	info, err := c.StatObject(ctx, loc.Bucket, loc.Key, minio.StatObjectOptions{})
	if err != nil {
		if minio.ToErrorResponse(err).StatusCode == 404 {
			return FileInfo{}, fmt.Errorf("%s: %w", loc, fs.ErrNotExist)
		}
		return FileInfo{}, fmt.Errorf("stat %s: %w", loc, err)
	}
	return FileInfo{Loc: loc, Size: info.Size, Version: info.ETag}, nil
}

// Exists reports whether a file exists at loc.
func (s *Storage) Exists(ctx context.Context, loc Location) (bool, error) {
	_, err := s.Stat(ctx, loc)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	return err == nil, err
}

// List returns the files at loc: loc itself when it is a file, else the
// files in the folder or under the prefix whose names end in one of exts,
// sorted by name. Names starting with "." or "_" are left out.
func (s *Storage) List(ctx context.Context, loc Location, exts []string) ([]FileInfo, error) {
	if !strings.HasSuffix(loc.Key, "/") {
		if info, err := s.Stat(ctx, loc); err == nil {
			return []FileInfo{info}, nil
		}
	}
	var files []FileInfo
	if loc.IsS3() {
		c, err := s.client()
		if err != nil {
			return nil, err
		}
		prefix := strings.TrimSuffix(loc.Key, "/") + "/"
		if prefix == "/" {
			prefix = ""
		}
		for obj := range c.ListObjects(ctx, loc.Bucket, minio.ListObjectsOptions{Prefix: prefix, Recursive: true}) {
			if obj.Err != nil {
				return nil, fmt.Errorf("list %s: %w", loc, obj.Err)
			}
			files = append(files, FileInfo{Loc: Location{Bucket: loc.Bucket, Key: obj.Key}, Size: obj.Size, Version: obj.ETag})
		}
	} else {
		entries, err := os.ReadDir(loc.Key)
		if err != nil {
			return nil, err
		}
		for _, e := range entries {
			if e.Type().IsRegular() {
				info, err := s.Stat(ctx, Location{Key: filepath.Join(loc.Key, e.Name())})
				if err != nil {
					return nil, err
				}
				files = append(files, info)
			}
		}
	}
	kept := files[:0]
	for _, f := range files {
		name := f.Loc.Base()
		if !strings.HasPrefix(name, ".") && !strings.HasPrefix(name, "_") && hasExt(name, exts) {
			kept = append(kept, f)
		}
	}
	sort.Slice(kept, func(i, j int) bool { return kept[i].Loc.Key < kept[j].Loc.Key })
	if len(kept) == 0 {
		return nil, fmt.Errorf("%s: no %s files there: %w", loc, strings.Join(exts, ", "), fs.ErrNotExist)
	}
	return kept, nil
}

func hasExt(name string, exts []string) bool {
	for _, e := range exts {
		if strings.HasSuffix(strings.ToLower(name), e) {
			return true
		}
	}
	return len(exts) == 0
}

// Open opens the file at loc for reading.
func (s *Storage) Open(ctx context.Context, loc Location) (io.ReadCloser, error) {
	f, _, err := s.OpenAt(ctx, loc)
	return f, err
}

// ReadAtCloser is a file that can be read at any offset.
type ReadAtCloser interface {
	io.Reader
	io.ReaderAt
	io.Closer
}

// OpenAt opens the file at loc for random access and returns its size.
func (s *Storage) OpenAt(ctx context.Context, loc Location) (ReadAtCloser, int64, error) {
	if !loc.IsS3() {
		f, err := os.Open(loc.Key)
		if err != nil {
			return nil, 0, err
		}
		st, err := f.Stat()
		if err != nil {
			f.Close()
			return nil, 0, err
		}
		return f, st.Size(), nil
	}
	c, err := s.client()
	if err != nil {
		return nil, 0, err
	}
	obj, err := c.GetObject(ctx, loc.Bucket, loc.Key, minio.GetObjectOptions{})
	if err != nil {
		return nil, 0, fmt.Errorf("open %s: %w", loc, err)
	}
	st, err := obj.Stat()
	if err != nil {
		obj.Close()
		if minio.ToErrorResponse(err).StatusCode == 404 {
			return nil, 0, fmt.Errorf("%s: %w", loc, fs.ErrNotExist)
		}
		return nil, 0, fmt.Errorf("open %s: %w", loc, err)
	}
	return obj, st.Size, nil
}

// ReadFile returns the bytes of the file at loc.
func (s *Storage) ReadFile(ctx context.Context, loc Location) ([]byte, error) {
	f, err := s.Open(ctx, loc)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(f)
}

// PendingFile is a file being written: nothing appears at its location
// until Commit succeeds, and Abort leaves nothing behind.
type PendingFile interface {
	io.Writer
	Commit() error
	Abort()
}

// Create starts writing the file at loc, creating local folders as needed.
func (s *Storage) Create(ctx context.Context, loc Location) (PendingFile, error) {
	if !loc.IsS3() {
		dir := filepath.Dir(loc.Key)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, err
		}
		f, err := os.CreateTemp(dir, ".kiln-tmp-*")
		if err != nil {
			return nil, err
		}
		return &localPending{f: f, target: loc.Key}, nil
	}
	c, err := s.client()
	if err != nil {
		return nil, err
	}
	pr, pw := io.Pipe()
	p := &s3Pending{pw: pw, done: make(chan error, 1)}
	go func() {
		_, err := c.PutObject(ctx, loc.Bucket, loc.Key, pr, -1, minio.PutObjectOptions{PartSize: s3PartSize})
		pr.CloseWithError(err)
		if err != nil {
			err = fmt.Errorf("write %s: %w", loc, err)
		}
		p.done <- err
	}()
	return p, nil
}

// WriteFile writes data to loc atomically.
func (s *Storage) WriteFile(ctx context.Context, loc Location, data []byte) error {
	f, err := s.Create(ctx, loc)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Abort()
		return err
	}
	return f.Commit()
}

// Remove deletes the file at loc; a missing file is not an error.
func (s *Storage) Remove(ctx context.Context, loc Location) error {
	if !loc.IsS3() {
		if err := os.Remove(loc.Key); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
		return nil
	}
	c, err := s.client()
	if err != nil {
		return err
	}
	if err := c.RemoveObject(ctx, loc.Bucket, loc.Key, minio.RemoveObjectOptions{}); err != nil {
		return fmt.Errorf("remove %s: %w", loc, err)
	}
	return nil
}

// RemoveAll deletes the folder or prefix at loc and everything in it.
func (s *Storage) RemoveAll(ctx context.Context, loc Location) error {
	if !loc.IsS3() {
		return os.RemoveAll(loc.Key)
	}
	c, err := s.client()
	if err != nil {
		return err
	}
	prefix := strings.TrimSuffix(loc.Key, "/") + "/"
	for obj := range c.ListObjects(ctx, loc.Bucket, minio.ListObjectsOptions{Prefix: prefix, Recursive: true}) {
		if obj.Err != nil {
			return fmt.Errorf("list %s: %w", loc, obj.Err)
		}
		if err := s.Remove(ctx, Location{Bucket: loc.Bucket, Key: obj.Key}); err != nil {
			return err
		}
	}
	return nil
}

type localPending struct {
	f      *os.File
	target string
}

func (p *localPending) Write(b []byte) (int, error) { return p.f.Write(b) }

func (p *localPending) Commit() error {
	err := p.f.Sync()
	if cerr := p.f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(p.f.Name(), 0o644)
	}
	if err == nil {
		err = os.Rename(p.f.Name(), p.target)
	}
	if err != nil {
		os.Remove(p.f.Name())
		return fmt.Errorf("write %s: %w", p.target, err)
	}
	return nil
}

func (p *localPending) Abort() {
	p.f.Close()
	os.Remove(p.f.Name())
}

type s3Pending struct {
	pw   *io.PipeWriter
	done chan error
}

func (p *s3Pending) Write(b []byte) (int, error) { return p.pw.Write(b) }

func (p *s3Pending) Commit() error {
	p.pw.Close()
	return <-p.done
}

func (p *s3Pending) Abort() {
	p.pw.CloseWithError(errors.New("write aborted"))
	<-p.done
}
