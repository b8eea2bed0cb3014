// Package auth holds the registry's tokens and roles: the tokens file keeps
// the sha256 of each token with its role and owner.
package auth

import (
	"bufio"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/kilnml/kiln/pkg/registry"
)

// Role is what a token may do; each role includes the weaker ones.
type Role int

// The roles, weakest first.
const (
	// RoleReader lists, shows and downloads.
	RoleReader Role = iota + 1
	// RoleWriter also pushes, updates versions and moves aliases.
	RoleWriter
	// RoleAdmin also deletes versions.
	RoleAdmin
)

var roleNames = map[Role]string{RoleReader: "reader", RoleWriter: "writer", RoleAdmin: "admin"}

// String returns the role's name.
func (r Role) String() string { return roleNames[r] }

// ParseRole parses "reader", "writer" or "admin".
func ParseRole(s string) (Role, error) {
	for r, name := range roleNames {
		if name == s {
			return r, nil
		}
	}
	return 0, fmt.Errorf("%w: role %q: want reader, writer or admin", registry.ErrInvalid, s)
}

// Identity is who presented a token.
type Identity struct {
	Name string
	Role Role
}

// Tokens holds the sha256 hashes of the accepted bearer tokens, never the
// tokens themselves.
type Tokens struct {
	byHash map[string]Identity
}

// LoadTokens reads a tokens file: one "sha256:<hex> ROLE NAME" per line;
// blank lines and lines starting with # are ignored.
func LoadTokens(path string) (*Tokens, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("tokens file: %w", err)
	}
	defer f.Close()
	t, err := ParseTokens(f)
	if err != nil {
		return nil, fmt.Errorf("tokens file %s: %w", path, err)
	}
	return t, nil
}

// ParseTokens reads the tokens file format from r (see LoadTokens).
func ParseTokens(r io.Reader) (*Tokens, error) {
	t := &Tokens{byHash: map[string]Identity{}}
	sc := bufio.NewScanner(r)
	for line := 1; sc.Scan(); line++ {
		text := strings.TrimSpace(sc.Text())
		if text == "" || strings.HasPrefix(text, "#") {
			continue
		}
		fields := strings.Fields(text)
		if len(fields) != 3 {
			return nil, fmt.Errorf("%w: line %d: want \"sha256:<hex> ROLE NAME\"", registry.ErrInvalid, line)
		}
		if _, err := registry.ParseDigest(fields[0]); err != nil {
			return nil, fmt.Errorf("line %d: %w", line, err)
		}
		role, err := ParseRole(fields[1])
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", line, err)
		}
		t.byHash[fields[0]] = Identity{Name: fields[2], Role: role}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if len(t.byHash) == 0 {
		return nil, fmt.Errorf("%w: no tokens", registry.ErrInvalid)
	}
	return t, nil
}

// Lookup returns the identity of a presented token.
func (t *Tokens) Lookup(token string) (Identity, bool) {
	id, ok := t.byHash[HashToken(token)]
	return id, ok
}

// HashToken returns the form a token is stored in: "sha256:<hex>".
func HashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return "sha256:" + hex.EncodeToString(sum[:])
}

// NewToken returns a random token with 256 bits of entropy.
func NewToken() string {
	var b [32]byte
	rand.Read(b[:])
	return "kiln_" + base64.RawURLEncoding.EncodeToString(b[:])
}
