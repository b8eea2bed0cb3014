package table

import "io"

// countingReader counts the bytes read through it, for progress.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// fraction returns n/size clamped to [0, 1] (1 for an empty file).
func fraction(n, size int64) float64 {
	if size <= 0 || n >= size {
		return 1
	}
	return float64(n) / float64(size)
}
