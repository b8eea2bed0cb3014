package registry

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
)

// maxProfileBytes bounds a reference profile read into memory.
const maxProfileBytes = 256 << 20

// ReferenceProfile returns the reference profile stored with version v,
// checked against its digest; it wraps ErrNotFound when v has none.
func (c *Client) ReferenceProfile(ctx context.Context, v *Version) ([]byte, error) {
	if v.ReferenceProfile == nil {
		return nil, fmt.Errorf("%s: %w: the version has no reference profile", v.Ref(), ErrNotFound)
	}
	resp, err := c.do(ctx, http.MethodGet, versionPath(v.Ref())+"/reference-profile", nil, "", nil)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxProfileBytes+1))
	if err != nil {
		return nil, fmt.Errorf("reference profile of %s: %w", v.Ref(), err)
	}
	sum := sha256.Sum256(data)
	if got := "sha256:" + hex.EncodeToString(sum[:]); got != v.ReferenceProfile.Digest {
		return nil, fmt.Errorf("reference profile of %s: %w: got %s, want %s", v.Ref(), ErrDigestMismatch, got, v.ReferenceProfile.Digest)
	}
	return data, nil
}
