package objstore

import (
	"context"
	"fmt"
	"io"
	"os"
)

// OpenReadSeeker opens an object of a known size for http.ServeContent and
// other readers that seek. A local folder hands out the file itself (the
// kernel can send it); other buckets stream from one get, and a seek
// followed by a read reopens the stream at the new offset with a ranged get.
func OpenReadSeeker(ctx context.Context, b Bucket, key string, size int64) (io.ReadSeekCloser, error) {
	rc, err := b.GetRange(ctx, key, 0, -1)
	if err != nil {
		return nil, err
	}
	if f, ok := rc.(*os.File); ok {
		return f, nil
	}
	return &streamSeeker{ctx: ctx, b: b, key: key, size: size, stream: rc}, nil
}

// LazyReadSeeker is OpenReadSeeker for answers that may read nothing (a
// HEAD, a 304): it opens the object at its first read, so an answer that
// needs only the size costs no request to storage. A missing object shows
// at that read.
func LazyReadSeeker(ctx context.Context, b Bucket, key string, size int64) io.ReadSeekCloser {
	return &streamSeeker{ctx: ctx, b: b, key: key, size: size}
}

// streamSeeker reads an object through a stream opened at streamAt, which
// reads advance; pos is where the next read starts.
type streamSeeker struct {
	ctx           context.Context
	b             Bucket
	key           string
	size          int64
	stream        io.ReadCloser
	pos, streamAt int64
}

func (s *streamSeeker) Read(p []byte) (int, error) {
	if s.pos >= s.size {
		return 0, io.EOF
	}
	if s.stream == nil || s.pos != s.streamAt {
		if err := s.Close(); err != nil {
			return 0, err
		}
		rc, err := s.b.GetRange(s.ctx, s.key, s.pos, -1)
		if err != nil {
			return 0, err
		}
		s.stream, s.streamAt = rc, s.pos
	}
	n, err := s.stream.Read(p)
	s.pos += int64(n)
	s.streamAt = s.pos
	return n, err
}

func (s *streamSeeker) Seek(offset int64, whence int) (int64, error) {
	switch whence {
	case io.SeekCurrent:
		offset += s.pos
	case io.SeekEnd:
		offset += s.size
	}
	if offset < 0 {
		return 0, fmt.Errorf("%w: seek to %d in %s", ErrInvalid, offset, s.key)
	}
	s.pos = offset
	return offset, nil
}

func (s *streamSeeker) Close() error {
	if s.stream == nil {
		return nil
	}
	err := s.stream.Close()
	s.stream = nil
	return err
}
