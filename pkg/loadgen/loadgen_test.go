package loadgen

import (
	"context"
	"errors"
	"math/rand/v2"
	"sync/atomic"
	"testing"

	"github.com/kilnml/kiln/pkg/oip"
)

func TestRunCountsRequestsRowsErrorsAndQuantiles(t *testing.T) {
	var n atomic.Int64
	send := func(ctx context.Context) (int, error) {
		i := n.Add(1)
		if i%10 == 0 {
			return 0, errors.New("every tenth fails")
		}
		return 3, nil
	}
	r := Run(context.Background(), send, Options{Concurrency: 4, Requests: 100})
	if r.Requests != 90 || r.Errors != 10 || r.Rows != 270 || r.FirstError != "every tenth fails" || r.Concurrency != 4 {
		t.Errorf("result %+v", r)
	}
	if r.Throughput <= 0 || r.P50 > r.P90 || r.P90 > r.P99 {
		t.Errorf("throughput %v, quantiles %v %v %v", r.Throughput, r.P50, r.P90, r.P99)
	}
}

func TestRandomRequestFollowsMetadata(t *testing.T) {
	md := &oip.ModelMetadata{Inputs: []oip.TensorMetadata{
		{Name: "x", Datatype: oip.FP32, Shape: []int64{-1, 4}},
		{Name: "ids", Datatype: oip.Int64, Shape: []int64{-1, -1}},
		{Name: "s", Datatype: oip.Bytes, Shape: []int64{2}},
	}}
	req, err := RandomRequest(md, 5, rand.New(rand.NewPCG(1, 2)))
	if err != nil {
		t.Fatal(err)
	}
	for i, want := range [][]int64{{5, 4}, {5, 1}, {2}} {
		in := req.Inputs[i]
		if len(in.Shape) != len(want) || in.Shape[0] != want[0] || in.Validate() != nil {
			t.Errorf("input %s: shape %v, want %v (%v)", in.Name, in.Shape, want, in.Validate())
		}
	}
	ids, _ := oip.Values[int64](req.Inputs[1])
	for _, v := range ids {
		if v < 0 || v >= 10 {
			t.Errorf("id %d out of [0,10)", v)
		}
	}
	if _, err := RandomRequest(&oip.ModelMetadata{Inputs: []oip.TensorMetadata{{Name: "c", Datatype: "COMPLEX"}}}, 1, rand.New(rand.NewPCG(1, 2))); err == nil {
		t.Error("want an error for an unknown datatype")
	}
}
