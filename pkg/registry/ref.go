package registry

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

var namePattern = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,62}$`)

// ValidateName checks a model name against ^[a-z0-9][a-z0-9._-]{0,62}$.
func ValidateName(name string) error {
	if !namePattern.MatchString(name) {
		return fmt.Errorf("%w: model name %q: use 1-63 of a-z 0-9 . _ - starting with a letter or digit", ErrInvalid, name)
	}
	return nil
}

// ValidateAlias checks an alias: the model name pattern, but not all digits
// (those are version numbers).
func ValidateAlias(alias string) error {
	if !namePattern.MatchString(alias) {
		return fmt.Errorf("%w: alias %q: use 1-63 of a-z 0-9 . _ - starting with a letter or digit", ErrInvalid, alias)
	}
	if allDigits(alias) {
		return fmt.Errorf("%w: alias %q is all digits, which reads as a version number", ErrInvalid, alias)
	}
	return nil
}

// Ref names one model version: by number (Version > 0) or through an alias.
type Ref struct {
	Name    string
	Version int
	Alias   string
}

// ParseRef parses "name@N" or "name@alias".
func ParseRef(s string) (Ref, error) {
	name, ref, ok := strings.Cut(s, "@")
	if !ok {
		return Ref{}, fmt.Errorf("%w: model reference %q: want NAME@VERSION or NAME@ALIAS", ErrInvalid, s)
	}
	if err := ValidateName(name); err != nil {
		return Ref{}, err
	}
	r, err := ParseSelector(ref)
	if err != nil {
		return Ref{}, err
	}
	r.Name = name
	return r, nil
}

// ParseSelector parses the part of a reference after "@": a version number
// or an alias (the inverse of Ref.Selector).
func ParseSelector(s string) (Ref, error) {
	if allDigits(s) {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			return Ref{}, fmt.Errorf("%w: version %q: want a number from 1", ErrInvalid, s)
		}
		return Ref{Version: n}, nil
	}
	if err := ValidateAlias(s); err != nil {
		return Ref{}, err
	}
	return Ref{Alias: s}, nil
}

// String formats the reference as "name@N" or "name@alias".
func (r Ref) String() string {
	return r.Name + "@" + r.Selector()
}

// Selector is the part after "@": the version number or the alias.
func (r Ref) Selector() string {
	if r.Alias != "" {
		return r.Alias
	}
	return strconv.Itoa(r.Version)
}

func allDigits(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}
