package registry

import (
	"context"
	"fmt"
	"net/url"
	"strings"
)

// OpenStore opens the store a URL names: file://PATH (a local folder,
// relative paths allowed: file://./kiln-data) or s3://BUCKET[/PREFIX], for
// which s3 gives the endpoint, region and upload settings.
func OpenStore(ctx context.Context, rawURL string, s3 S3Options) (Store, error) {
	scheme, rest, ok := strings.Cut(rawURL, "://")
	if !ok || rest == "" {
		return nil, fmt.Errorf("%w: store %q: want file://PATH or s3://BUCKET/PREFIX", ErrInvalid, rawURL)
	}
	switch scheme {
	case "file":
		return NewFSStore(rest)
	case "s3":
		u, err := url.Parse(rawURL)
		if err != nil || u.Host == "" {
			return nil, fmt.Errorf("%w: store %q: want s3://BUCKET/PREFIX", ErrInvalid, rawURL)
		}
		s3.Bucket, s3.Prefix = u.Host, strings.Trim(u.Path, "/")
		return NewS3Store(ctx, s3)
	}
	return nil, fmt.Errorf("%w: store %q: scheme %q is not file or s3", ErrInvalid, rawURL, scheme)
}
