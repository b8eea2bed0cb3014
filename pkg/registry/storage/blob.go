package storage

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"time"

	"github.com/kilnml/kiln/pkg/objstore"
	"github.com/kilnml/kiln/pkg/registry"
)

// putBlob stores the bytes read from r as the blob digest, verifying on the
// way that they hash to digest, stay within the size limit and pass check,
// which reads a copy of the stream concurrently (nil: no check). When any
// of these fails the upload is abandoned and nothing is stored. A blob that
// already exists is verified the same way but not written again.
func (s *Service) putBlob(ctx context.Context, digest string, r io.Reader, check func(io.Reader) error) (int64, error) {
	hexDigest, err := registry.ParseDigest(digest)
	if err != nil {
		return 0, err
	}
	v := newVerifier(r, hexDigest, s.maxBytes, check)
	defer v.stop()
	exists, err := objstore.Exists(ctx, s.store, blobKey(hexDigest))
	if err != nil {
		return 0, err
	}
	if exists {
		_, err = io.Copy(io.Discard, v)
	} else {
		err = s.store.Upload(ctx, blobKey(hexDigest), v)
	}
	if v.err != nil {
		return 0, v.err // the verifier's verdict explains the failure best
	}
	if err != nil {
		return 0, fmt.Errorf("store blob %s: %w", digest, err)
	}
	return v.n, nil
}

// verifier passes a stream through while hashing, counting and checking it.
// It reports the end of the stream (io.EOF) only once every check passed,
// so a store never commits bytes that fail them.
type verifier struct {
	r       io.Reader
	want    string
	max     int64
	h       hash.Hash
	n       int64
	pw      *io.PipeWriter
	checked chan error
	err     error
}

func newVerifier(r io.Reader, hexDigest string, max int64, check func(io.Reader) error) *verifier {
	v := &verifier{r: r, want: hexDigest, max: max, h: sha256.New()}
	if check != nil {
		pr, pw := io.Pipe()
		v.pw, v.checked = pw, make(chan error, 1)
		go func() {
			err := check(pr)
			if err == nil {
				_, err = io.Copy(io.Discard, pr) // a check may stop reading early
			}
			pr.CloseWithError(errCheckDone)
			v.checked <- err
		}()
	}
	return v
}

var errCheckDone = errors.New("check finished")

func (v *verifier) Read(p []byte) (int, error) {
	if v.err != nil {
		return 0, v.err
	}
	n, err := v.r.Read(p)
	if n > 0 {
		v.n += int64(n)
		if v.n > v.max {
			return 0, v.fail(fmt.Errorf("%w: upload exceeds the limit of %d bytes", registry.ErrTooLarge, v.max))
		}
		v.h.Write(p[:n])
		if v.pw != nil {
			if _, werr := v.pw.Write(p[:n]); werr != nil {
				return 0, v.fail(v.checkResult(werr))
			}
		}
	}
	switch {
	case err == io.EOF:
		if cerr := v.finish(); cerr != nil {
			return n, v.fail(cerr)
		}
		return n, io.EOF
	case errors.Is(err, io.ErrUnexpectedEOF):
		return n, v.fail(fmt.Errorf("%w: upload cut off after %d bytes", registry.ErrInvalid, v.n))
	case err != nil:
		return n, v.fail(fmt.Errorf("read upload: %w", err))
	}
	return n, nil
}

// finish runs the end-of-stream checks: the concurrent check, then the digest.
func (v *verifier) finish() error {
	if v.pw != nil {
		v.pw.Close()
		if err := v.checkResult(nil); err != nil {
			return err
		}
	}
	if got := hex.EncodeToString(v.h.Sum(nil)); got != v.want {
		return fmt.Errorf("%w: digest mismatch: the bytes received hash to sha256:%s, not sha256:%s", registry.ErrInvalid, got, v.want)
	}
	return nil
}

// checkResult waits for the check goroutine; fallback is returned if it passed.
func (v *verifier) checkResult(fallback error) error {
	err := <-v.checked
	v.checked <- err // keep the verdict for stop and later calls
	if err != nil {
		return err
	}
	return fallback
}

func (v *verifier) fail(err error) error {
	v.err = err
	return err
}

// stop ends the check goroutine if the stream was abandoned midway.
func (v *verifier) stop() {
	if v.pw != nil {
		v.pw.CloseWithError(errors.New("upload abandoned"))
		<-v.checked
	}
}

// OpenBlob opens length bytes (length < 0: all) of a blob from offset off.
func (s *Service) OpenBlob(ctx context.Context, digest string, off, length int64) (io.ReadCloser, error) {
	hexDigest, err := registry.ParseDigest(digest)
	if err != nil {
		return nil, err
	}
	return s.store.GetRange(ctx, blobKey(hexDigest), off, length)
}

// SeekBlob opens a blob of the given size for reading with seeks (ranged
// downloads). A lazy one opens nothing until it is read (for answers that
// may need only the size).
func (s *Service) SeekBlob(ctx context.Context, digest string, size int64, lazy bool) (io.ReadSeekCloser, error) {
	hexDigest, err := registry.ParseDigest(digest)
	if err != nil {
		return nil, err
	}
	if lazy {
		return objstore.LazyReadSeeker(ctx, s.store, blobKey(hexDigest), size), nil
	}
	return objstore.OpenReadSeeker(ctx, s.store, blobKey(hexDigest), size)
}

// PresignBlob returns a URL that downloads a blob directly from storage, or
// an error wrapping errors.ErrUnsupported when the store has no such URLs.
func (s *Service) PresignBlob(ctx context.Context, digest string, ttl time.Duration) (string, error) {
	hexDigest, err := registry.ParseDigest(digest)
	if err != nil {
		return "", err
	}
	return s.store.PresignGet(ctx, blobKey(hexDigest), ttl)
}
