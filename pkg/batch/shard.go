package batch

import (
	"fmt"
	"strconv"
	"strings"
)

// Shard picks a deterministic part of the input: row r belongs to shard
// r mod Count, so Count workers with indexes 0..Count-1 cover every row once.
type Shard struct {
	Index, Count int
}

// ParseShard parses "i/N" with 0 <= i < N ("" means the whole input).
func ParseShard(s string) (Shard, error) {
	if s == "" {
		return Shard{Index: 0, Count: 1}, nil
	}
	a, b, ok := strings.Cut(s, "/")
	i, err1 := strconv.Atoi(a)
	n, err2 := strconv.Atoi(b)
	if !ok || err1 != nil || err2 != nil || n < 1 || i < 0 || i >= n {
		return Shard{}, fmt.Errorf("shard %q: want INDEX/COUNT with 0 <= INDEX < COUNT, e.g. 0/4", s)
	}
	return Shard{Index: i, Count: n}, nil
}

// Has reports whether input row r belongs to the shard.
func (s Shard) Has(r int64) bool { return s.Count <= 1 || r%int64(s.Count) == int64(s.Index) }

// String formats the shard as ParseShard reads it.
func (s Shard) String() string { return fmt.Sprintf("%d/%d", s.Index, s.Count) }
