package eval

import (
	"math"
	"strconv"
)

// Number is a metric that may be undefined (NaN): JSON writes it as null.
type Number float64

// MarshalJSON writes null for NaN and infinities, else the number.
func (n Number) MarshalJSON() ([]byte, error) {
	f := float64(n)
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return []byte("null"), nil
	}
	return strconv.AppendFloat(nil, f, 'g', -1, 64), nil
}
