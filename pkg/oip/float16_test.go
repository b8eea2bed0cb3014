package oip

import (
	"math"
	"math/rand/v2"
	"testing"
)

func TestFloat16KnownValues(t *testing.T) {
	cases := []struct {
		f    float32
		bits uint16
	}{
		{0, 0x0000},
		{float32(math.Copysign(0, -1)), 0x8000},
		{1, 0x3C00},
		{-2, 0xC000},
		{0.5, 0x3800},
		{65504, 0x7BFF},                       // largest finite
		{float32(math.Ldexp(1, -14)), 0x0400}, // smallest normal
		{float32(math.Ldexp(1, -24)), 0x0001}, // smallest subnormal
		{float32(math.Ldexp(1023, -24)), 0x03FF},
		{float32(math.Inf(1)), 0x7C00},
		{float32(math.Inf(-1)), 0xFC00},
	}
	for _, c := range cases {
		if got := Float32ToFloat16(c.f); got != c.bits {
			t.Errorf("Float32ToFloat16(%g) = %#04x, want %#04x", c.f, got, c.bits)
		}
		if got := Float16ToFloat32(c.bits); math.Float32bits(got) != math.Float32bits(c.f) {
			t.Errorf("Float16ToFloat32(%#04x) = %g, want %g", c.bits, got, c.f)
		}
	}
}

func TestFloat16Rounding(t *testing.T) {
	cases := []struct {
		name string
		f    float64
		bits uint16
	}{
		{"tie 1+2^-11 goes down to even", 1 + math.Ldexp(1, -11), 0x3C00},
		{"tie 1+3*2^-11 goes up to even", 1 + 3*math.Ldexp(1, -11), 0x3C02},
		{"just above a tie goes up", 1 + math.Ldexp(1, -11) + math.Ldexp(1, -20), 0x3C01},
		{"65519 rounds to max", 65519, 0x7BFF},
		{"65520 (tie with 2^16) overflows to Inf", 65520, 0x7C00},
		{"1e6 overflows", 1e6, 0x7C00},
		{"half the smallest subnormal ties to zero", math.Ldexp(1, -25), 0x0000},
		{"above half the smallest subnormal", math.Ldexp(1.5, -25), 0x0001},
		{"1.5 smallest subnormal ties to 2", math.Ldexp(3, -25), 0x0002},
		{"tiny underflows to -0", -1e-30, 0x8000},
		{"subnormal carries into smallest normal", math.Ldexp(1, -14) - math.Ldexp(1, -26), 0x0400},
		{"0.1", 0.1, 0x2E66},
	}
	for _, c := range cases {
		if got := Float32ToFloat16(float32(c.f)); got != c.bits {
			t.Errorf("%s: Float32ToFloat16(%g) = %#04x, want %#04x", c.name, c.f, got, c.bits)
		}
	}
}

// TestFloat16AllValues checks every FP16 pattern: widening and narrowing
// again is the identity (NaN stays NaN), and the midpoint between two
// neighbours rounds to the one with an even mantissa.
func TestFloat16AllValues(t *testing.T) {
	for h := range 1 << 16 {
		h := uint16(h)
		f := Float16ToFloat32(h)
		back := Float32ToFloat16(f)
		if isNaN16(h) {
			if !math.IsNaN(float64(f)) || !isNaN16(back) || back&0x8000 != h&0x8000 {
				t.Fatalf("NaN %#04x -> %g -> %#04x", h, f, back)
			}
			continue
		}
		if back != h {
			t.Fatalf("%#04x -> %g -> %#04x", h, f, back)
		}
		next := h + 1
		if h&0x7FFF >= 0x7BFF { // the largest finite magnitude and above
			continue
		}
		mid := (float64(f) + float64(Float16ToFloat32(next))) / 2
		want := h
		if h&1 == 1 {
			want = next
		}
		if got := Float32ToFloat16(float32(mid)); got != want {
			t.Fatalf("midpoint %g of %#04x and %#04x -> %#04x, want %#04x", mid, h, next, got, want)
		}
	}
}

// TestFloat16Nearest compares narrowing of random float32 values with the
// nearest FP16 value found by searching its neighbours.
func TestFloat16Nearest(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for range 200000 {
		f := math.Float32frombits(rng.Uint32())
		if math.IsNaN(float64(f)) || math.Abs(float64(f)) >= 65520 {
			continue
		}
		h := Float32ToFloat16(f)
		d := math.Abs(float64(f) - float64(Float16ToFloat32(h)))
		for _, n := range []uint16{h - 1, h + 1} {
			if n&0x7FFF > 0x7BFF || (h&0x7FFF == 0 && n&0x7FFF == 0x7FFF) {
				continue
			}
			if dn := math.Abs(float64(f) - float64(Float16ToFloat32(n))); dn < d || dn == d && n&1 == 0 {
				t.Fatalf("%g -> %#04x (%g), but %#04x (%g) is nearer or an even tie", f, h, Float16ToFloat32(h), n, Float16ToFloat32(n))
			}
		}
	}
}

func isNaN16(h uint16) bool { return h&0x7C00 == 0x7C00 && h&0x3FF != 0 }

func TestBFloat16(t *testing.T) {
	cases := []struct {
		f    float32
		bits uint16
	}{
		{1, 0x3F80},
		{-2, 0xC000},
		{float32(math.Inf(1)), 0x7F80},
		{float32(math.Inf(-1)), 0xFF80},
		{math.Float32frombits(0x7F7F0000), 0x7F7F}, // largest finite
		{math.Float32frombits(0x00010000), 0x0001}, // smallest subnormal
		{float32(math.Copysign(0, -1)), 0x8000},
	}
	for _, c := range cases {
		if got := Float32ToBFloat16(c.f); got != c.bits {
			t.Errorf("Float32ToBFloat16(%g) = %#04x, want %#04x", c.f, got, c.bits)
		}
		if got := BFloat16ToFloat32(c.bits); math.Float32bits(got) != math.Float32bits(c.f) {
			t.Errorf("BFloat16ToFloat32(%#04x) = %g, want %g", c.bits, got, c.f)
		}
	}
	rounding := []struct {
		in   uint32
		bits uint16
	}{
		{0x3F808000, 0x3F80}, // tie, even stays
		{0x3F818000, 0x3F82}, // tie, odd goes up
		{0x3F808001, 0x3F81}, // above the tie
		{0x3F807FFF, 0x3F80}, // below the tie
		{0x7F7FFFFF, 0x7F80}, // rounds up to Inf
		{0x7F800001, 0x7FC0}, // signalling NaN is quieted, stays NaN
		{0xFFC00000, 0xFFC0}, // negative NaN keeps its sign
	}
	for _, c := range rounding {
		if got := Float32ToBFloat16(math.Float32frombits(c.in)); got != c.bits {
			t.Errorf("Float32ToBFloat16(%#08x) = %#04x, want %#04x", c.in, got, c.bits)
		}
	}
	if got := Float32ToFloat16(math.Float32frombits(0x7F800001)); !isNaN16(got) {
		t.Errorf("Float32ToFloat16(sNaN) = %#04x, want a NaN", got)
	}
}
