package table

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"sync"

	"github.com/kilnml/kiln/pkg/objstore"
)

// S3OptionsFromEnv reads the endpoint from KILN_S3_ENDPOINT or
// AWS_ENDPOINT_URL; credentials and region are left to the AWS chain.
func S3OptionsFromEnv() objstore.S3Options {
	endpoint := os.Getenv("KILN_S3_ENDPOINT")
	if endpoint == "" {
		endpoint = os.Getenv("AWS_ENDPOINT_URL")
	}
	return objstore.S3Options{Endpoint: endpoint, Region: os.Getenv("AWS_REGION")}
}

// s3PartSize bounds the memory an upload of unknown size buffers.
const s3PartSize = 16 << 20

// Storage reads, lists and writes files at local and S3 locations, each
// through an objstore bucket: the local file system, or the location's S3
// bucket.
type Storage struct {
	opts objstore.S3Options

	mu      sync.Mutex
	local   *objstore.FS
	buckets map[string]*objstore.S3
}

// NewStorage returns a Storage; buckets are opened on first use.
func NewStorage(opts objstore.S3Options) *Storage {
	if opts.PartSize == 0 {
		opts.PartSize = s3PartSize
	}
	return &Storage{opts: opts, buckets: map[string]*objstore.S3{}}
}

// FileInfo describes one file.
type FileInfo struct {
	Loc  Location
	Size int64
}

// ReadAtCloser is a file that can be read at any offset.
type ReadAtCloser = objstore.ReadAtCloser

// bucket returns the bucket that holds loc and loc's key in it.
func (s *Storage) bucket(loc Location) (objstore.Bucket, string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if loc.IsS3() {
		b := s.buckets[loc.Bucket]
		if b == nil {
			var err error
			if b, err = objstore.NewS3(loc.Bucket, s.opts); err != nil {
				return nil, "", err
			}
			s.buckets[loc.Bucket] = b
		}
		return b, loc.Key, nil
	}
	abs, err := filepath.Abs(loc.Key)
	if err != nil {
		return nil, "", err
	}
	if s.local == nil {
		if s.local, err = objstore.NewFS("/"); err != nil {
			return nil, "", err
		}
	}
	return s.local, strings.TrimPrefix(filepath.ToSlash(abs), "/"), nil
}

// notExist makes a missing object an error matching fs.ErrNotExist.
func notExist(loc Location, err error) error {
	if errors.Is(err, objstore.ErrNotFound) {
		return fmt.Errorf("%s: %w", loc, fs.ErrNotExist)
	}
	return err
}

// Stat describes the file at loc; a missing file (or a folder) gives an
// error matching fs.ErrNotExist.
func (s *Storage) Stat(ctx context.Context, loc Location) (FileInfo, error) {
	b, key, err := s.bucket(loc)
	if err != nil {
		return FileInfo{}, err
	}
	attrs, err := b.Attributes(ctx, key)
	if err != nil {
		return FileInfo{}, notExist(loc, err)
	}
	return FileInfo{Loc: loc, Size: attrs.Size}, nil
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
// files in the folder (an S3 prefix: at any depth) whose names end in one
// of exts, sorted by name. Names starting with "." or "_" are left out.
func (s *Storage) List(ctx context.Context, loc Location, exts []string) ([]FileInfo, error) {
	if !strings.HasSuffix(loc.Key, "/") {
		if info, err := s.Stat(ctx, loc); err == nil {
			return []FileInfo{info}, nil
		}
	}
	b, dir, err := s.bucket(loc)
	if err != nil {
		return nil, err
	}
	var opts []objstore.IterOption
	if loc.IsS3() {
		opts = append(opts, objstore.Recursive()) // a prefix holds everything under it
	}
	var files []FileInfo
	dir = strings.TrimSuffix(dir, "/")
	err = b.Iter(ctx, dir, func(key string) error {
		name := path.Base(key)
		if strings.HasSuffix(key, "/") || strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_") || !hasExt(name, exts) {
			return nil
		}
		attrs, err := b.Attributes(ctx, key)
		if err != nil {
			return notExist(loc, err)
		}
		rel := strings.TrimPrefix(strings.TrimPrefix(key, dir), "/")
		files = append(files, FileInfo{Loc: loc.Join(rel), Size: attrs.Size})
		return nil
	}, opts...)
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", loc, err)
	}
	sort.Slice(files, func(i, j int) bool { return files[i].Loc.Key < files[j].Loc.Key })
	if len(files) == 0 {
		return nil, fmt.Errorf("%s: no %s files there: %w", loc, strings.Join(exts, ", "), fs.ErrNotExist)
	}
	return files, nil
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

// OpenAt opens the file at loc for random access and returns its size.
func (s *Storage) OpenAt(ctx context.Context, loc Location) (ReadAtCloser, int64, error) {
	b, key, err := s.bucket(loc)
	if err != nil {
		return nil, 0, err
	}
	f, size, err := objstore.OpenReaderAt(ctx, b, key)
	if err != nil {
		return nil, 0, notExist(loc, err)
	}
	return f, size, nil
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
	b, key, err := s.bucket(loc)
	if err != nil {
		return nil, err
	}
	pr, pw := io.Pipe()
	p := &pendingUpload{pw: pw, done: make(chan error, 1)}
	go func() {
		err := b.Upload(ctx, key, pr)
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

// RemoveAll deletes the folder or prefix at loc and everything in it.
func (s *Storage) RemoveAll(ctx context.Context, loc Location) error {
	b, key, err := s.bucket(loc)
	if err != nil {
		return err
	}
	if err := objstore.DeleteAll(ctx, b, key); err != nil {
		return fmt.Errorf("remove %s: %w", loc, err)
	}
	return nil
}

// pendingUpload streams what is written to an upload that completes on
// Commit and is abandoned on Abort.
type pendingUpload struct {
	pw   *io.PipeWriter
	done chan error
}

func (p *pendingUpload) Write(b []byte) (int, error) { return p.pw.Write(b) }

func (p *pendingUpload) Commit() error {
	p.pw.Close()
	return <-p.done
}

func (p *pendingUpload) Abort() {
	p.pw.CloseWithError(errors.New("write aborted"))
	<-p.done
}
