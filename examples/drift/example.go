// Package driftexample makes the data and the model of Kiln's drift
// example: a seeded synthetic table with three features (a and b numeric, c
// a category coded 0, 1, 2), a classifier over them, and data whose
// distribution is known to shift, so that a test can check that drift is
// found where it was put and nowhere else.
//
// The committed files (model.onnx, reference.csv, current.csv,
// shifted.csv) are written by `go generate ./examples/drift/` (gen/main.go).
package driftexample

//go:generate go run ./gen -o .

import (
	"encoding/csv"
	"io"
	"math/rand/v2"
	"strconv"
	"strings"

	"github.com/kilnml/kiln/pkg/onnx"
)

// FeatureNames are the model's input columns, in order.
var FeatureNames = []string{"a", "b", "c"}

// Classes are the model's labels.
var Classes = []string{"low", "high"}

// Distribution says how rows are drawn: a ~ N(AMean, 1), b ~ N(5, 2), and
// c takes 0, 1, 2 with probabilities CProbs.
type Distribution struct {
	AMean  float64
	CProbs [3]float64
}

var (
	// Reference is the distribution of the training and reference data.
	Reference = Distribution{AMean: 0, CProbs: [3]float64{0.5, 0.3, 0.2}}
	// Shifted moves a by one standard deviation and reverses c's mix; b
	// does not change.
	Shifted = Distribution{AMean: 1, CProbs: [3]float64{0.2, 0.3, 0.5}}
)

// Files are the committed data files: name, seed, rows and distribution.
var Files = []struct {
	Name string
	Seed uint64
	Rows int
	Dist Distribution
}{
	{"reference.csv", 1, 1000, Reference},
	{"current.csv", 2, 1000, Reference},
	{"shifted.csv", 3, 1000, Shifted},
}

// Rows draws n rows of (a, b, c) from d with a fixed seed.
func Rows(seed uint64, n int, d Distribution) [][3]float32 {
	r := rand.New(rand.NewPCG(seed, 2026))
	rows := make([][3]float32, n)
	for i := range rows {
		c, u := 0, r.Float64()
		for c < 2 && u >= d.CProbs[c] {
			u -= d.CProbs[c]
			c++
		}
		rows[i] = [3]float32{round2(d.AMean + r.NormFloat64()), round2(5 + 2*r.NormFloat64()), float32(c)}
	}
	return rows
}

// round2 keeps two decimals, so that the CSV text is the exact value.
func round2(x float64) float32 {
	v, _ := strconv.ParseFloat(strconv.FormatFloat(x, 'f', 2, 64), 32)
	return float32(v)
}

// WriteCSV writes rows under the header a,b,c.
func WriteCSV(w io.Writer, rows [][3]float32) error {
	cw := csv.NewWriter(w)
	cw.Write(FeatureNames)
	for _, row := range rows {
		rec := make([]string, 3)
		for i, v := range row {
			rec[i] = strconv.FormatFloat(float64(v), 'f', -1, 32)
		}
		cw.Write(rec)
	}
	cw.Flush()
	return cw.Error()
}

// Model is a logistic classifier over (a, b, c): the "high" logit is
// 1.5a + 0.25b + 0.5c - 1.6, about 0 on average on the reference data.
// Input "input" FP32 [N,3] (feature_names "a,b,c"); outputs "label" (the
// class name, BYTES [N]) and "probabilities" (FP32 [N,2]).
func Model() (*onnx.Model, error) {
	return onnx.NewBuilder("drift_example").
		Opset("ai.onnx.ml", 2).
		Producer("kiln-examples", "1").
		ModelVersion(1).
		Doc("Logistic classifier over synthetic data, for Kiln's drift example.").
		Metadata("feature_names", strings.Join(FeatureNames, ",")).
		Metadata("class_names", strings.Join(Classes, ",")).
		Input("input", onnx.TensorType(onnx.Float, -1, 3)).
		Initializer("weights", onnx.Float, []int64{3, 2}, []float32{0, 1.5, 0, 0.25, 0, 0.5}).
		Initializer("bias", onnx.Float, []int64{2}, []float32{0, -1.6}).
		Node("MatMul", []string{"input", "weights"}, []string{"projected"}).
		Node("Add", []string{"projected", "bias"}, []string{"logits"}).
		Node("Softmax", []string{"logits"}, []string{"probabilities"}, onnx.AttrInt("axis", 1)).
		Node("ArgMax", []string{"logits"}, []string{"class_index"}, onnx.AttrInt("axis", 1), onnx.AttrInt("keepdims", 0)).
		DomainNode("ai.onnx.ml", "LabelEncoder", []string{"class_index"}, []string{"label"},
			onnx.AttrInts("keys_int64s", 0, 1), onnx.AttrStrings("values_strings", Classes...), onnx.AttrString("default_string", "unknown")).
		Output("label", onnx.TensorType(onnx.String, -1)).
		Output("probabilities", onnx.TensorType(onnx.Float, -1, 2)).
		Build()
}
