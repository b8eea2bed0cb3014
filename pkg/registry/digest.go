package registry

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"regexp"
)

var digestPattern = regexp.MustCompile(`^sha256:([0-9a-f]{64})$`)

// ParseDigest checks a "sha256:<64 lowercase hex>" digest and returns its hex part.
func ParseDigest(digest string) (string, error) {
	m := digestPattern.FindStringSubmatch(digest)
	if m == nil {
		return "", fmt.Errorf("%w: digest %q: want sha256:<64 lowercase hex digits>", ErrInvalid, digest)
	}
	return m[1], nil
}

// Digest returns the registry's digest of data: "sha256:<hex>".
func Digest(data []byte) string {
	sum := sha256.Sum256(data)
	return "sha256:" + hex.EncodeToString(sum[:])
}
