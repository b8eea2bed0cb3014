package oip

import (
	"math/rand/v2"
	"testing"
)

func BenchmarkDecodeRequestSmallJSON(b *testing.B) {
	body := []byte(`{"id":"42","inputs":[{"name":"input","shape":[1,4],"datatype":"FP32","data":[[5.1,3.5,1.4,0.2]]}]}`)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := DecodeRequest(body, -1); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkEncodeResponseSmall(b *testing.B) {
	resp := &InferResponse{ModelName: "iris", ModelVersion: "1", ID: "42", Outputs: []*Tensor{
		NewTensor("probabilities", []int64{1, 3}, []float32{0.97, 0.025, 0.005}),
	}}
	b.ReportAllocs()
	for b.Loop() {
		EncodeResponse(resp, nil)
	}
}

func largeRequest() *InferRequest {
	rng := rand.New(rand.NewPCG(7, 8))
	data := make([]float32, 64*1024)
	for i := range data {
		data[i] = rng.Float32()*2 - 1
	}
	return &InferRequest{Inputs: []*Tensor{NewTensor("x", []int64{64, 1024}, data)}}
}

func BenchmarkDecodeRequestLargeJSON(b *testing.B) {
	body, n := EncodeRequest(largeRequest(), false)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := DecodeRequest(body, n); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecodeRequestLargeBinary(b *testing.B) {
	body, n := EncodeRequest(largeRequest(), true)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := DecodeRequest(body, n); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkEncodeRequestLargeJSON(b *testing.B) {
	req := largeRequest()
	b.ReportAllocs()
	for b.Loop() {
		EncodeRequest(req, false)
	}
}

func BenchmarkEncodeRequestLargeBinary(b *testing.B) {
	req := largeRequest()
	b.ReportAllocs()
	for b.Loop() {
		EncodeRequest(req, true)
	}
}
