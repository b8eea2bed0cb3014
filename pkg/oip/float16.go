package oip

import "math"

// Conversions between float32 and the two 16-bit float formats OIP carries
// as bit patterns: IEEE 754 binary16 (FP16) and bfloat16 (BF16). Narrowing
// rounds to nearest, ties to even; values too large become ±Inf, values too
// small become subnormals or ±0, and NaN stays NaN (quieted, sign and top
// payload bits kept).

// Float16ToFloat32 returns the float32 value of the FP16 bit pattern h; the
// conversion is exact.
func Float16ToFloat32(h uint16) float32 {
	sign := uint32(h&0x8000) << 16
	exp := uint32(h>>10) & 0x1f
	mant := uint32(h & 0x3ff)
	switch exp {
	case 0x1f: // Inf or NaN
		return math.Float32frombits(sign | 0x7f800000 | mant<<13)
	case 0: // zero or subnormal: m × 2^-24, normalized for float32
		if mant == 0 {
			return math.Float32frombits(sign)
		}
		e := uint32(127 - 15 + 1)
		for mant&0x400 == 0 {
			mant <<= 1
			e--
		}
		return math.Float32frombits(sign | e<<23 | (mant&0x3ff)<<13)
	}
	return math.Float32frombits(sign | (exp+127-15)<<23 | mant<<13)
}

// Float32ToFloat16 returns the FP16 bit pattern nearest to f (ties to even).
func Float32ToFloat16(f float32) uint16 {
	b := math.Float32bits(f)
	sign := uint16(b>>16) & 0x8000
	exp := int32(b>>23) & 0xff
	mant := b & 0x7fffff
	if exp == 0xff {
		if mant == 0 {
			return sign | 0x7c00
		}
		return sign | 0x7e00 | uint16(mant>>13)
	}
	e := exp - 127 + 15
	switch {
	case e >= 0x1f:
		return sign | 0x7c00
	case e <= 0:
		// Subnormal result m × 2^-24 with m = (1.mant × 2^(exp-127)) / 2^-24,
		// that is the 24-bit significand shifted right by 14-e.
		shift := uint32(14 - e)
		if shift > 24 {
			return sign
		}
		// A carry out of the 10-bit field yields the smallest normal, which
		// is the correct encoding.
		return sign | uint16(shiftRoundEven(mant|0x800000, shift))
	}
	// Normal: a carry from the mantissa into the exponent is correct too,
	// including the step from 65504 up to Inf.
	return sign | (uint16(e)<<10 + uint16(shiftRoundEven(mant, 13)))
}

// shiftRoundEven returns x >> s rounded to nearest, ties to even (0 < s < 32).
func shiftRoundEven(x, s uint32) uint32 {
	q := x >> s
	rem := x & (1<<s - 1)
	half := uint32(1) << (s - 1)
	if rem > half || (rem == half && q&1 == 1) {
		q++
	}
	return q
}

// BFloat16ToFloat32 returns the float32 value of the BF16 bit pattern h; the
// conversion is exact.
func BFloat16ToFloat32(h uint16) float32 {
	return math.Float32frombits(uint32(h) << 16)
}

// Float32ToBFloat16 returns the BF16 bit pattern nearest to f (ties to even).
func Float32ToBFloat16(f float32) uint16 {
	b := math.Float32bits(f)
	if b&0x7f800000 == 0x7f800000 && b&0x7fffff != 0 {
		return uint16(b>>16) | 0x0040
	}
	return uint16((b + 0x7fff + (b>>16)&1) >> 16)
}
