package objstore

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"
)

// FS is a bucket in a local folder. Writes go to a hidden temporary file
// that is synced and then renamed (or hard-linked, for Create) into place,
// so readers never see a partial object. Swap holds an flock on the
// object's folder, so several processes may share the folder. Names
// starting with "." are temporary files and are not listed.
type FS struct {
	root string
}

// NewFS opens (creating if needed) a bucket in the folder root.
func NewFS(root string) (*FS, error) {
	abs, err := filepath.Abs(root)
	if err != nil {
		return nil, fmt.Errorf("fs bucket %s: %w", root, err)
	}
	if err := os.MkdirAll(abs, 0o755); err != nil {
		return nil, fmt.Errorf("fs bucket: %w", err)
	}
	return &FS{root: abs}, nil
}

func (b *FS) path(key string) (string, error) {
	if err := checkKey(key); err != nil {
		return "", err
	}
	return filepath.Join(b.root, filepath.FromSlash(key)), nil
}

// Upload implements Bucket.
func (b *FS) Upload(ctx context.Context, key string, r io.Reader) error {
	p, err := b.path(key)
	if err != nil {
		return err
	}
	tmp, err := writeTemp(ctx, p, r)
	if err != nil {
		return fmt.Errorf("upload %s: %w", key, err)
	}
	if err := os.Rename(tmp, p); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("upload %s: %w", key, err)
	}
	return syncDir(filepath.Dir(p))
}

// Create implements ConditionalBucket.
func (b *FS) Create(ctx context.Context, key string, data []byte) (string, error) {
	p, err := b.path(key)
	if err != nil {
		return "", err
	}
	tmp, err := writeTemp(ctx, p, bytes.NewReader(data))
	if err != nil {
		return "", fmt.Errorf("create %s: %w", key, err)
	}
	defer os.Remove(tmp)
	// link fails if p exists: exactly one creator wins, with complete content.
	if err := os.Link(tmp, p); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return "", fmt.Errorf("create %s: %w: already exists", key, ErrConflict)
		}
		return "", fmt.Errorf("create %s: %w", key, err)
	}
	if err := syncDir(filepath.Dir(p)); err != nil {
		return "", err
	}
	return fileETag(p)
}

// Swap implements ConditionalBucket.
func (b *FS) Swap(ctx context.Context, key string, data []byte, etag string) (string, error) {
	p, err := b.path(key)
	if err != nil {
		return "", err
	}
	unlock, err := lockDir(filepath.Dir(p))
	if errors.Is(err, ErrNotFound) {
		return "", fmt.Errorf("swap %s: %w: does not exist", key, ErrConflict)
	}
	if err != nil {
		return "", fmt.Errorf("swap %s: %w", key, err)
	}
	defer unlock()
	current, err := fileETag(p)
	if errors.Is(err, ErrNotFound) || (err == nil && current != etag) {
		return "", fmt.Errorf("swap %s: %w: changed since it was read", key, ErrConflict)
	}
	if err != nil {
		return "", err
	}
	if err := b.Upload(ctx, key, bytes.NewReader(data)); err != nil {
		return "", err
	}
	return fileETag(p)
}

// Get implements Bucket.
func (b *FS) Get(ctx context.Context, key string) (io.ReadCloser, Attributes, error) {
	f, attrs, err := b.open("get", key)
	if err != nil {
		return nil, Attributes{}, err
	}
	return f, attrs, nil
}

// open opens the file under key; a folder is not an object.
func (b *FS) open(op, key string) (*os.File, Attributes, error) {
	p, err := b.path(key)
	if err != nil {
		return nil, Attributes{}, err
	}
	f, err := os.Open(p)
	if err != nil {
		return nil, Attributes{}, fsError(op, key, err)
	}
	fi, err := f.Stat()
	if err == nil && fi.IsDir() {
		err = fs.ErrNotExist
	}
	if err != nil {
		f.Close()
		return nil, Attributes{}, fsError(op, key, err)
	}
	return f, fileAttributes(fi), nil
}

// GetRange implements Bucket.
func (b *FS) GetRange(ctx context.Context, key string, off, length int64) (io.ReadCloser, error) {
	if off < 0 {
		return nil, fmt.Errorf("%w: range %d+%d of %s", ErrInvalid, off, length, key)
	}
	f, _, err := b.open("get range", key)
	if err != nil {
		return nil, err
	}
	if _, err := f.Seek(off, io.SeekStart); err != nil {
		f.Close()
		return nil, fsError("get range", key, err)
	}
	if length < 0 {
		return f, nil
	}
	return struct {
		io.Reader
		io.Closer
	}{io.LimitReader(f, length), f}, nil
}

// ReaderAt opens the object under key for random access, with its size.
func (b *FS) ReaderAt(ctx context.Context, key string) (ReadAtCloser, int64, error) {
	f, attrs, err := b.open("open", key)
	if err != nil {
		return nil, 0, err
	}
	return f, attrs.Size, nil
}

// Iter implements Bucket.
func (b *FS) Iter(ctx context.Context, dir string, f func(string) error, opts ...IterOption) error {
	dir, err := folder(dir)
	if err != nil {
		return err
	}
	p := filepath.Join(b.root, filepath.FromSlash(dir))
	if applyIterOptions(opts).recursive {
		return b.walk(ctx, dir, p, f)
	}
	entries, err := readDir(dir, p)
	if err != nil {
		return err
	}
	for _, e := range entries {
		key := dir + e.Name()
		if e.IsDir() {
			key += "/"
		}
		if err := f(key); err != nil {
			return err
		}
	}
	return nil
}

// walk passes every file under the folder p (key dir) in lexical key order.
func (b *FS) walk(ctx context.Context, dir, p string, f func(string) error) error {
	entries, err := readDir(dir, p)
	if err != nil {
		return err
	}
	for _, e := range entries {
		if err := ctx.Err(); err != nil {
			return err
		}
		key := dir + e.Name()
		if e.IsDir() {
			err = b.walk(ctx, key+"/", filepath.Join(p, e.Name()), f)
		} else {
			err = f(key)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// readDir lists the folder p without temporary files; a missing folder is
// empty. Entries sort as their keys would (a folder "a" as "a/").
func readDir(dir, p string) ([]fs.DirEntry, error) {
	entries, err := os.ReadDir(p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("iter %s: %w", dir, err)
	}
	kept := entries[:0]
	for _, e := range entries {
		if !strings.HasPrefix(e.Name(), ".") {
			kept = append(kept, e)
		}
	}
	slices.SortFunc(kept, func(a, b fs.DirEntry) int { return strings.Compare(entryKey(a), entryKey(b)) })
	return kept, nil
}

func entryKey(e fs.DirEntry) string {
	if e.IsDir() {
		return e.Name() + "/"
	}
	return e.Name()
}

// Attributes implements Bucket.
func (b *FS) Attributes(ctx context.Context, key string) (Attributes, error) {
	p, err := b.path(key)
	if err != nil {
		return Attributes{}, err
	}
	fi, err := os.Stat(p)
	if err == nil && fi.IsDir() {
		err = fs.ErrNotExist
	}
	if err != nil {
		return Attributes{}, fsError("stat", key, err)
	}
	return fileAttributes(fi), nil
}

// Delete implements Bucket.
func (b *FS) Delete(ctx context.Context, key string) error {
	p, err := b.path(key)
	if err != nil {
		return err
	}
	if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("delete %s: %w", key, err)
	}
	return nil
}

// PresignGet implements Bucket; a folder has no URLs to hand out.
func (b *FS) PresignGet(context.Context, string, time.Duration) (string, error) {
	return "", fmt.Errorf("fs bucket: presigned URLs: %w", errors.ErrUnsupported)
}

// Close implements Bucket.
func (b *FS) Close() error { return nil }

// writeTemp copies r into a synced hidden file beside p and returns its path.
func writeTemp(ctx context.Context, p string, r io.Reader) (string, error) {
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return "", err
	}
	var rnd [8]byte
	rand.Read(rnd[:])
	tmp := filepath.Join(filepath.Dir(p), "."+filepath.Base(p)+".tmp-"+hex.EncodeToString(rnd[:]))
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return "", err
	}
	_, err = io.Copy(f, contextReader{ctx, r})
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(tmp)
		return "", err
	}
	return tmp, nil
}

func fileETag(p string) (string, error) {
	fi, err := os.Stat(p)
	if err != nil {
		return "", fsError("stat", p, err)
	}
	return fileAttributes(fi).ETag, nil
}

// fileAttributes derives an ETag that changes with every replacement: each
// write renames a new file (new inode) into place.
func fileAttributes(fi fs.FileInfo) Attributes {
	var ino uint64
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		ino = st.Ino
	}
	return Attributes{
		Size:         fi.Size(),
		ETag:         fmt.Sprintf("%x-%x-%x", ino, fi.Size(), fi.ModTime().UnixNano()),
		LastModified: fi.ModTime(),
	}
}

func fsError(op, key string, err error) error {
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("%s %s: %w", op, key, ErrNotFound)
	}
	return fmt.Errorf("%s %s: %w", op, key, err)
}

// lockDir takes an exclusive flock on a folder and returns its release.
func lockDir(dir string) (func(), error) {
	f, err := os.Open(dir)
	if err != nil {
		return nil, fsError("lock", dir, err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		f.Close()
		return nil, err
	}
	return func() {
		syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		f.Close()
	}, nil
}

func syncDir(dir string) error {
	f, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := f.Sync(); err != nil {
		return fmt.Errorf("sync %s: %w", dir, err)
	}
	return nil
}

// contextReader stops a copy once ctx is done.
type contextReader struct {
	ctx context.Context
	r   io.Reader
}

func (c contextReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

// deleteFolder removes the folder dir and everything in it.
func (b *FS) deleteFolder(ctx context.Context, dir string) error {
	p, err := b.path(dir)
	if err != nil {
		return err
	}
	if err := os.RemoveAll(p); err != nil {
		return fmt.Errorf("delete %s: %w", dir, err)
	}
	return nil
}
