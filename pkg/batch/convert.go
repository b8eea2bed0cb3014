package batch

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/kilnml/kiln/pkg/table"
)

var errMissing = errors.New("missing value")

// toFloat reads a cell as a number.
func toFloat(v table.Value) (float64, error) {
	switch v.Kind {
	case table.KindFloat32, table.KindFloat64:
		return v.Float, nil
	case table.KindInt, table.KindBool:
		return float64(v.Int), nil
	case table.KindString:
		s := strings.TrimSpace(v.Str)
		if s == "" {
			return 0, errMissing
		}
		f, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return 0, fmt.Errorf("%q is not a number", v.Str)
		}
		return f, nil
	case table.KindNull:
		return 0, errMissing
	}
	return 0, fmt.Errorf("a %s where a number is expected", v.Kind)
}

// toInt reads a cell as an integer in [lo, hi].
func toInt(v table.Value, lo, hi int64) (int64, error) {
	var i int64
	switch v.Kind {
	case table.KindInt, table.KindBool:
		i = v.Int
	case table.KindString:
		s := strings.TrimSpace(v.Str)
		if s == "" {
			return 0, errMissing
		}
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			f, ferr := strconv.ParseFloat(s, 64)
			if ferr != nil || f != math.Trunc(f) || math.Abs(f) >= 1<<63 {
				return 0, fmt.Errorf("%q is not an integer", v.Str)
			}
			n = int64(f)
		}
		i = n
	case table.KindFloat32, table.KindFloat64:
		if v.Float != math.Trunc(v.Float) || math.Abs(v.Float) >= 1<<63 {
			return 0, fmt.Errorf("%v is not an integer", v.Float)
		}
		i = int64(v.Float)
	case table.KindNull:
		return 0, errMissing
	default:
		return 0, fmt.Errorf("a %s where an integer is expected", v.Kind)
	}
	if i < lo || i > hi {
		return 0, fmt.Errorf("%d is out of range [%d, %d]", i, lo, hi)
	}
	return i, nil
}

// toBool reads a cell as a boolean: true/false, 1/0.
func toBool(v table.Value) (bool, error) {
	switch v.Kind {
	case table.KindBool, table.KindInt:
		if v.Int == 0 || v.Int == 1 {
			return v.Int == 1, nil
		}
	case table.KindString:
		if b, err := strconv.ParseBool(strings.TrimSpace(v.Str)); err == nil {
			return b, nil
		}
		if strings.TrimSpace(v.Str) == "" {
			return false, errMissing
		}
	case table.KindNull:
		return false, errMissing
	}
	return false, fmt.Errorf("%s is not a boolean", v.Text())
}

// toBytes reads a cell as the bytes of a BYTES element.
func toBytes(v table.Value) ([]byte, error) {
	switch v.Kind {
	case table.KindNull:
		return nil, errMissing
	case table.KindList:
		return nil, errors.New("a list where a string is expected")
	}
	return []byte(v.Text()), nil
}
