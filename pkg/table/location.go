package table

import (
	"fmt"
	"path"
	"path/filepath"
	"strings"
)

// Location is a file or folder: a local path, or an S3 object or prefix
// written s3://bucket/key.
type Location struct {
	// Bucket is set for S3 locations.
	Bucket string
	// Key is the object key (S3) or the file path (local).
	Key string
}

// ParseLocation parses a local path or an s3://bucket/key URL.
func ParseLocation(s string) (Location, error) {
	if rest, ok := strings.CutPrefix(s, "s3://"); ok {
		bucket, key, _ := strings.Cut(rest, "/")
		if bucket == "" {
			return Location{}, fmt.Errorf("location %q: want s3://BUCKET/KEY", s)
		}
		return Location{Bucket: bucket, Key: key}, nil
	}
	if strings.Contains(s, "://") {
		return Location{}, fmt.Errorf("location %q: only local paths and s3:// URLs are supported", s)
	}
	if s == "" {
		return Location{}, fmt.Errorf("empty location")
	}
	return Location{Key: s}, nil
}

// IsS3 reports whether the location is in S3.
func (l Location) IsS3() bool { return l.Bucket != "" }

// String formats the location as ParseLocation reads it.
func (l Location) String() string {
	if l.IsS3() {
		return "s3://" + l.Bucket + "/" + l.Key
	}
	return l.Key
}

// Join returns the location of name inside l (a folder or prefix).
func (l Location) Join(name string) Location {
	if l.IsS3() {
		key := strings.TrimSuffix(l.Key, "/")
		if key != "" {
			key += "/"
		}
		return Location{Bucket: l.Bucket, Key: key + name}
	}
	return Location{Key: filepath.Join(l.Key, name)}
}

// WithSuffix returns the location with suffix appended to its name.
func (l Location) WithSuffix(suffix string) Location {
	l.Key = strings.TrimSuffix(l.Key, "/") + suffix
	return l
}

// Base returns the last element of the location's name.
func (l Location) Base() string {
	if l.IsS3() {
		return path.Base(l.Key)
	}
	return filepath.Base(l.Key)
}
