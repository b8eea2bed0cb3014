package serve_test

import (
	"context"
	"encoding/json"
	"math"
	"net/http"
	"strings"
	"testing"

	"github.com/kilnml/kiln/internal/testenv"
	"github.com/kilnml/kiln/pkg/oip"
	"github.com/kilnml/kiln/pkg/onnx"
	"github.com/kilnml/kiln/pkg/serve"
)

// TestStreamingVAD calls a model shaped like a voice-activity detector 100
// times in a row, feeding its state back, over JSON and the binary
// extension, and checks every answer against the same arithmetic in Go.
func TestStreamingVAD(t *testing.T) {
	_, client := startServer(t, serve.Options{}, map[string]*onnx.Model{"vad": testenv.VADModel(t)})
	for _, binary := range []bool{false, true} {
		state := make([]float32, 256)
		sr := oip.NewTensor("sr", []int64{}, []int64{16000})
		for step := range 100 {
			chunk := make([]float32, 512)
			for i := range chunk {
				chunk[i] = float32(math.Sin(float64(step*512+i) / 50))
			}
			resp, err := client.Infer(context.Background(), "vad", "", &oip.InferRequest{Inputs: []*oip.Tensor{
				oip.NewTensor("input", []int64{1, 512}, chunk),
				oip.NewTensor("state", []int64{2, 1, 128}, state),
				sr,
			}}, binary)
			if err != nil {
				t.Fatalf("binary=%v step %d: %v", binary, step, err)
			}
			var level, memory float64
			for _, v := range chunk {
				level += float64(v)
			}
			level /= float64(len(chunk))
			for _, v := range state {
				memory += float64(v)
			}
			memory /= float64(len(state))
			want := 1 / (1 + math.Exp(-(level + memory)))
			prob, err := oip.Values[float32](resp.Output("output"))
			if err != nil || len(prob) != 1 || math.IsNaN(float64(prob[0])) || math.Abs(float64(prob[0])-want) > 1e-5 {
				t.Fatalf("binary=%v step %d: output %v (%v), want %.6f", binary, step, prob, err, want)
			}
			next, err := oip.Values[float32](resp.Output("stateN"))
			if err != nil || len(next) != 256 {
				t.Fatalf("binary=%v step %d: stateN %d values (%v)", binary, step, len(next), err)
			}
			for i, v := range next {
				if w := float64(state[i])/2 + level; math.IsNaN(float64(v)) || math.Abs(float64(v)-w) > 1e-5 {
					t.Fatalf("binary=%v step %d: stateN[%d] = %v, want %v", binary, step, i, v, w)
				}
			}
			state = append([]float32{}, next...)
		}
	}
}

// TestScalarsInJSON sends a scalar both ways JSON allows ("data": [v] and
// "data": v), checks that metadata describes it as shape [], and that a
// scalar input sent as [1] is refused with a message that says so.
func TestScalarsInJSON(t *testing.T) {
	ts, client := startServer(t, serve.Options{}, map[string]*onnx.Model{"vad": testenv.VADModel(t)})
	md, err := client.ModelMetadata(context.Background(), "vad", "")
	if err != nil {
		t.Fatal(err)
	}
	for _, in := range md.Inputs {
		if in.Name == "sr" && (in.Shape == nil || len(in.Shape) != 0) {
			t.Errorf("metadata of sr: shape %v, want []", in.Shape)
		}
	}
	raw, _ := json.Marshal(md)
	if !strings.Contains(string(raw), `"name":"sr","datatype":"INT64","shape":[]`) {
		t.Errorf("metadata JSON %s does not describe sr with shape []", raw)
	}
	state := "[" + strings.TrimSuffix(strings.Repeat("0,", 256), ",") + "]"
	body := func(sr string) string {
		return `{"inputs":[{"name":"input","datatype":"FP32","shape":[1,2],"data":[0.5,0.5]},` +
			`{"name":"state","datatype":"FP32","shape":[2,1,128],"data":` + state + `},` + sr + `]}`
	}
	for _, sr := range []string{
		`{"name":"sr","datatype":"INT64","shape":[],"data":[16000]}`,
		`{"name":"sr","datatype":"INT64","shape":[],"data":16000}`,
	} {
		resp, err := http.Post(ts.URL+"/v2/models/vad/infer", "application/json", strings.NewReader(body(sr)))
		if err != nil {
			t.Fatal(err)
		}
		var out struct {
			Outputs []struct {
				Name string
				Data []float64
			}
			Error string
		}
		json.NewDecoder(resp.Body).Decode(&out)
		resp.Body.Close()
		if resp.StatusCode != 200 || len(out.Outputs) != 2 || math.Abs(out.Outputs[0].Data[0]-1/(1+math.Exp(-0.5))) > 1e-6 {
			t.Errorf("%s: status %d, %+v", sr, resp.StatusCode, out)
		}
	}
	resp, err := http.Post(ts.URL+"/v2/models/vad/infer", "application/json",
		strings.NewReader(body(`{"name":"sr","datatype":"INT64","shape":[1],"data":[16000]}`)))
	if err != nil {
		t.Fatal(err)
	}
	var e struct{ Error string }
	json.NewDecoder(resp.Body).Decode(&e)
	resp.Body.Close()
	if resp.StatusCode != 400 || !strings.Contains(e.Error, `input "sr" is a scalar`) {
		t.Errorf("sr as [1]: status %d, error %q", resp.StatusCode, e.Error)
	}
}
