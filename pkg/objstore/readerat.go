package objstore

import (
	"context"
	"fmt"
	"io"
)

// ReadAtCloser is an object opened for random access.
type ReadAtCloser interface {
	io.Reader
	io.ReaderAt
	io.Closer
}

// readerAtBucket is a bucket with a cheaper random access than GetRange per
// read (a local file).
type readerAtBucket interface {
	ReaderAt(ctx context.Context, key string) (ReadAtCloser, int64, error)
}

// OpenReaderAt opens the object under key for random access and returns its
// size. Read streams the object from the start in one request; ReadAt is
// one ranged get per call, except on buckets that can do better (a local
// folder hands out the file itself).
func OpenReaderAt(ctx context.Context, b Bucket, key string) (ReadAtCloser, int64, error) {
	if rb, ok := b.(readerAtBucket); ok {
		return rb.ReaderAt(ctx, key)
	}
	attrs, err := b.Attributes(ctx, key)
	if err != nil {
		return nil, 0, err
	}
	return &rangeReader{ctx: ctx, b: b, key: key, size: attrs.Size}, attrs.Size, nil
}

// rangeReader reads an object sequentially through one get, and at an
// offset through ranged gets.
type rangeReader struct {
	ctx    context.Context
	b      Bucket
	key    string
	size   int64
	stream io.ReadCloser
}

func (r *rangeReader) Read(p []byte) (int, error) {
	if r.stream == nil {
		rc, _, err := r.b.Get(r.ctx, r.key)
		if err != nil {
			return 0, err
		}
		r.stream = rc
	}
	return r.stream.Read(p)
}

func (r *rangeReader) ReadAt(p []byte, off int64) (int, error) {
	if off >= r.size {
		return 0, io.EOF
	}
	n := min(int64(len(p)), r.size-off)
	rc, err := r.b.GetRange(r.ctx, r.key, off, n)
	if err != nil {
		return 0, err
	}
	defer rc.Close()
	got, err := io.ReadFull(rc, p[:n])
	if err != nil {
		return got, fmt.Errorf("read %s at %d: %w", r.key, off, err)
	}
	if n < int64(len(p)) {
		return got, io.EOF
	}
	return got, nil
}

func (r *rangeReader) Close() error {
	if r.stream == nil {
		return nil
	}
	return r.stream.Close()
}
