package serve_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/kilnml/kiln/internal/testenv"
	"github.com/kilnml/kiln/pkg/oip"
	"github.com/kilnml/kiln/pkg/onnx"
	"github.com/kilnml/kiln/pkg/runtime"
	"github.com/kilnml/kiln/pkg/serve"
)

// TestConformanceOverJSONAndBinary serves every model of the conformance set
// and checks, element by element, that kiln-serve answers over loopback in
// JSON and in the binary extension what the same model answers in-process,
// and what ONNX semantics say it must.
func TestConformanceOverJSONAndBinary(t *testing.T) {
	cases := testenv.ConformanceCases(t)
	models := map[string]*onnx.Model{}
	for i, c := range cases {
		models[fmt.Sprintf("m%d", i)] = c.Model
	}
	_, client := startServer(t, serve.Options{}, models)
	for i, c := range cases {
		t.Run(c.Name, func(t *testing.T) {
			local, err := runtime.LoadBytes(mustBytes(t, c.Model), runtime.Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer local.Close()
			for r, req := range c.Requests {
				direct, err := local.Run(context.Background(), req.Inputs, nil)
				if err != nil {
					t.Fatalf("request %d in-process: %v", r, err)
				}
				for _, binary := range []bool{false, true} {
					resp, err := client.Infer(context.Background(), fmt.Sprintf("m%d", i), "", &oip.InferRequest{Inputs: req.Inputs}, binary)
					if err != nil {
						t.Fatalf("request %d binary=%v: %v", r, binary, err)
					}
					for j, want := range req.Want {
						got := resp.Output(want.Name)
						if err := testenv.SameTensor(got, direct[j]); err != nil {
							t.Errorf("request %d binary=%v, against in-process: %v", r, binary, err)
						}
						if err := testenv.SameTensor(got, want); err != nil {
							t.Errorf("request %d binary=%v: %v", r, binary, err)
						}
					}
				}
			}
		})
	}
}

func mustBytes(t *testing.T, m *onnx.Model) []byte {
	t.Helper()
	data, err := m.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	return data
}
