package registry

import (
	"context"
	"fmt"
)

// ReadReferenceProfile returns the reference profile stored with version
// v; it wraps ErrNotFound when v has none.
func (s *Service) ReadReferenceProfile(ctx context.Context, v *Version) ([]byte, error) {
	if v.ReferenceProfile == nil {
		return nil, fmt.Errorf("%s: %w: the version has no reference profile", v.Ref(), ErrNotFound)
	}
	hexDigest, err := ParseDigest(v.ReferenceProfile.Digest)
	if err != nil {
		return nil, err
	}
	data, _, err := ReadAll(ctx, s.store, blobKey(hexDigest))
	if err != nil {
		return nil, fmt.Errorf("reference profile of %s: %w", v.Ref(), err)
	}
	return data, nil
}
