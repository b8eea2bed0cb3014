package objstore

import (
	"context"
	"fmt"
	"net/url"
	"strings"
)

// Open opens the bucket a URL names: file://PATH (a local folder, relative
// paths allowed: file://./kiln-data) or s3://BUCKET[/PREFIX], for which s3
// gives the endpoint, region, credentials and upload settings. An S3
// bucket must exist; a prefix is applied with WithPrefix.
func Open(ctx context.Context, rawURL string, s3 S3Options) (ConditionalBucket, error) {
	scheme, rest, ok := strings.Cut(rawURL, "://")
	if !ok || rest == "" {
		return nil, fmt.Errorf("%w: bucket %q: want file://PATH or s3://BUCKET/PREFIX", ErrInvalid, rawURL)
	}
	switch scheme {
	case "file":
		return NewFS(rest)
	case "s3":
		u, err := url.Parse(rawURL)
		if err != nil || u.Host == "" {
			return nil, fmt.Errorf("%w: bucket %q: want s3://BUCKET/PREFIX", ErrInvalid, rawURL)
		}
		b, err := NewS3(u.Host, s3)
		if err != nil {
			return nil, err
		}
		if err := b.CheckExists(ctx); err != nil {
			return nil, err
		}
		return WithPrefix(b, u.Path), nil
	}
	return nil, fmt.Errorf("%w: bucket %q: scheme %q is not file or s3", ErrInvalid, rawURL, scheme)
}
