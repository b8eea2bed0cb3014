package objstore

import (
	"context"
	"io"
	"strings"
	"time"
)

// WithPrefix returns a view of b in which every key lives under the folder
// prefix ("a/b"; slashes around it do not matter). An empty prefix returns b.
func WithPrefix(b ConditionalBucket, prefix string) ConditionalBucket {
	prefix = strings.Trim(prefix, "/")
	if prefix == "" {
		return b
	}
	return &prefixed{b: b, prefix: prefix + "/"}
}

type prefixed struct {
	b      ConditionalBucket
	prefix string
}

// key checks key before prefixing it, so that no key leaves the prefix.
func (p *prefixed) key(key string) (string, error) {
	if err := checkKey(key); err != nil {
		return "", err
	}
	return p.prefix + key, nil
}

func (p *prefixed) Upload(ctx context.Context, key string, r io.Reader) error {
	k, err := p.key(key)
	if err != nil {
		return err
	}
	return p.b.Upload(ctx, k, r)
}

func (p *prefixed) Create(ctx context.Context, key string, data []byte) (string, error) {
	k, err := p.key(key)
	if err != nil {
		return "", err
	}
	return p.b.Create(ctx, k, data)
}

func (p *prefixed) Swap(ctx context.Context, key string, data []byte, etag string) (string, error) {
	k, err := p.key(key)
	if err != nil {
		return "", err
	}
	return p.b.Swap(ctx, k, data, etag)
}

func (p *prefixed) Get(ctx context.Context, key string) (io.ReadCloser, Attributes, error) {
	k, err := p.key(key)
	if err != nil {
		return nil, Attributes{}, err
	}
	return p.b.Get(ctx, k)
}

func (p *prefixed) GetRange(ctx context.Context, key string, off, length int64) (io.ReadCloser, error) {
	k, err := p.key(key)
	if err != nil {
		return nil, err
	}
	return p.b.GetRange(ctx, k, off, length)
}

func (p *prefixed) Iter(ctx context.Context, dir string, f func(string) error, opts ...IterOption) error {
	dir, err := folder(dir)
	if err != nil {
		return err
	}
	return p.b.Iter(ctx, p.prefix+dir, func(key string) error {
		return f(strings.TrimPrefix(key, p.prefix))
	}, opts...)
}

func (p *prefixed) Attributes(ctx context.Context, key string) (Attributes, error) {
	k, err := p.key(key)
	if err != nil {
		return Attributes{}, err
	}
	return p.b.Attributes(ctx, k)
}

func (p *prefixed) Delete(ctx context.Context, key string) error {
	k, err := p.key(key)
	if err != nil {
		return err
	}
	return p.b.Delete(ctx, k)
}

func (p *prefixed) PresignGet(ctx context.Context, key string, ttl time.Duration) (string, error) {
	k, err := p.key(key)
	if err != nil {
		return "", err
	}
	return p.b.PresignGet(ctx, k, ttl)
}

func (p *prefixed) Close() error { return p.b.Close() }
