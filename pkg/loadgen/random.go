package loadgen

import (
	"fmt"
	"math/rand/v2"

	"github.com/kilnml/kiln/pkg/oip"
)

// RandomRequest builds a request for a model from its metadata, with rows
// in the first dimension when it is dynamic, 1 in other dynamic dimensions,
// and random values of each input's datatype.
func RandomRequest(md *oip.ModelMetadata, rows int, rng *rand.Rand) (*oip.InferRequest, error) {
	req := &oip.InferRequest{}
	for _, in := range md.Inputs {
		shape := make([]int64, len(in.Shape))
		n := 1
		for i, d := range in.Shape {
			switch {
			case d >= 0:
				shape[i] = d
			case i == 0:
				shape[i] = int64(rows)
			default:
				shape[i] = 1
			}
			n *= int(shape[i])
		}
		t, err := randomTensor(in.Name, in.Datatype, shape, n, rng)
		if err != nil {
			return nil, err
		}
		req.Inputs = append(req.Inputs, t)
	}
	return req, nil
}

func randomTensor(name string, dt oip.Datatype, shape []int64, n int, rng *rand.Rand) (*oip.Tensor, error) {
	switch dt {
	case oip.FP32:
		return oip.NewTensor(name, shape, fill(n, func() float32 { return rng.Float32() })), nil
	case oip.FP64:
		return oip.NewTensor(name, shape, fill(n, rng.Float64)), nil
	case oip.FP16:
		return oip.NewFP16Tensor(name, shape, fill(n, func() uint16 { return oip.Float32ToFloat16(rng.Float32()) })), nil
	case oip.BF16:
		return oip.NewBF16Tensor(name, shape, fill(n, func() uint16 { return oip.Float32ToBFloat16(rng.Float32()) })), nil
	case oip.Bool:
		return oip.NewTensor(name, shape, fill(n, func() bool { return rng.IntN(2) == 1 })), nil
	case oip.Bytes:
		return oip.NewBytesTensor(name, shape, fill(n, func() []byte { return fmt.Appendf(nil, "s%d", rng.IntN(1000)) })), nil
	case oip.Uint8, oip.Uint16, oip.Uint32, oip.Uint64, oip.Int8, oip.Int16, oip.Int32, oip.Int64:
		// Small non-negative integers fit every integer type and are valid indices for most models.
		t := &oip.Tensor{Name: name, Datatype: dt, Shape: shape, Raw: make([]byte, n*dt.Size())}
		for i := range n {
			t.Raw[i*dt.Size()] = byte(rng.IntN(10))
		}
		return t, nil
	}
	return nil, fmt.Errorf("input %q: no random values for datatype %q", name, dt)
}

func fill[T any](n int, next func() T) []T {
	out := make([]T, n)
	for i := range out {
		out[i] = next()
	}
	return out
}
