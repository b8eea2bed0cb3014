// Command train fits a softmax-regression classifier to the Iris data in
// examples/iris/iris.csv and writes it as an ONNX model with pkg/onnx.
//
//	go run ./examples/iris/train -data examples/iris/iris.csv -o examples/iris/model.onnx
package main

//go:generate go run . -data ../iris.csv -o ../model.onnx

import (
	"flag"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"

	"github.com/kilnml/kiln/examples/iris/irisdata"
	"github.com/kilnml/kiln/pkg/onnx"
)

func main() {
	data := flag.String("data", "examples/iris/iris.csv", "Iris CSV (scikit-learn's layout)")
	out := flag.String("o", "examples/iris/model.onnx", "where to write the model")
	flag.Parse()
	if err := run(*data, *out); err != nil {
		fmt.Fprintln(os.Stderr, "train:", err)
		os.Exit(1)
	}
}

func run(dataPath, outPath string) error {
	data, err := irisdata.Read(dataPath)
	if err != nil {
		return err
	}
	x, y, classes := data.Rows, data.Labels, data.Classes
	trainIdx, testIdx := split(len(x), 0.8)
	mean, std := standardize(x, trainIdx)
	w, b := fit(x, y, trainIdx, mean, std, len(classes))
	acc := accuracy(x, y, testIdx, mean, std, w, b)
	fmt.Printf("held-out accuracy %.3f on %d rows\n", acc, len(testIdx))
	model, err := buildModel(mean, std, w, b, classes, acc)
	if err != nil {
		return err
	}
	return model.WriteFile(outPath)
}

// split shuffles row indexes with a fixed seed and cuts them into train and test.
func split(n int, trainShare float64) (train, test []int) {
	idx := rand.New(rand.NewPCG(1, 2)).Perm(n)
	cut := int(float64(n) * trainShare)
	return idx[:cut], idx[cut:]
}

func standardize(x [][]float64, rows []int) (mean, std []float64) {
	mean, std = make([]float64, 4), make([]float64, 4)
	for _, r := range rows {
		for j, v := range x[r] {
			mean[j] += v / float64(len(rows))
		}
	}
	for _, r := range rows {
		for j, v := range x[r] {
			std[j] += (v - mean[j]) * (v - mean[j]) / float64(len(rows))
		}
	}
	for j := range std {
		std[j] = math.Sqrt(std[j])
	}
	return mean, std
}

// fit trains softmax regression with full-batch gradient descent.
func fit(x [][]float64, y, rows []int, mean, std []float64, k int) (w [][]float64, b []float64) {
	w = make([][]float64, 4)
	for i := range w {
		w[i] = make([]float64, k)
	}
	b = make([]float64, k)
	const lr, l2, epochs = 0.5, 1e-3, 3000
	for range epochs {
		gw := make([][]float64, 4)
		for i := range gw {
			gw[i] = make([]float64, k)
		}
		gb := make([]float64, k)
		for _, r := range rows {
			z := scale(x[r], mean, std)
			p := softmax(logits(z, w, b))
			for c := range k {
				d := p[c]
				if c == y[r] {
					d--
				}
				d /= float64(len(rows))
				gb[c] += d
				for j := range z {
					gw[j][c] += d * z[j]
				}
			}
		}
		for j := range w {
			for c := range k {
				w[j][c] -= lr * (gw[j][c] + l2*w[j][c])
			}
		}
		for c := range b {
			b[c] -= lr * gb[c]
		}
	}
	return w, b
}

func accuracy(x [][]float64, y, rows []int, mean, std []float64, w [][]float64, b []float64) float64 {
	right := 0
	for _, r := range rows {
		l := logits(scale(x[r], mean, std), w, b)
		best := 0
		for c := range l {
			if l[c] > l[best] {
				best = c
			}
		}
		if best == y[r] {
			right++
		}
	}
	return float64(right) / float64(len(rows))
}

func scale(v, mean, std []float64) []float64 {
	z := make([]float64, len(v))
	for j := range v {
		z[j] = (v[j] - mean[j]) / std[j]
	}
	return z
}

func logits(z []float64, w [][]float64, b []float64) []float64 {
	l := append([]float64(nil), b...)
	for j := range z {
		for c := range l {
			l[c] += z[j] * w[j][c]
		}
	}
	return l
}

func softmax(l []float64) []float64 {
	m := l[0]
	for _, v := range l {
		m = math.Max(m, v)
	}
	p := make([]float64, len(l))
	sum := 0.0
	for i, v := range l {
		p[i] = math.Exp(v - m)
		sum += p[i]
	}
	for i := range p {
		p[i] /= sum
	}
	return p
}

// buildModel writes the classifier as ONNX: standardize, MatMul + Add,
// Softmax -> "probabilities" [N,3]; ArgMax + LabelEncoder -> "label" (class name) [N].
func buildModel(mean, std []float64, w [][]float64, b []float64, classes []string, acc float64) (*onnx.Model, error) {
	k := int64(len(classes))
	var flatW []float32
	for _, row := range w {
		flatW = append(flatW, f32(row)...)
	}
	keys := make([]int64, k)
	for i := range keys {
		keys[i] = int64(i)
	}
	return onnx.NewBuilder("iris_softmax_regression").
		Opset("ai.onnx.ml", 2).
		Producer("kiln-examples", "1").
		ModelVersion(1).
		Doc("Softmax regression on Fisher's Iris data (scikit-learn's copy).").
		Metadata("feature_names", strings.Join(irisdata.FeatureNames, ",")).
		Metadata("class_names", strings.Join(classes, ",")).
		Metadata("heldout_accuracy", strconv.FormatFloat(acc, 'f', 4, 64)).
		Input("input", onnx.Type{Kind: onnx.KindTensor, Elem: onnx.Float, Shape: []onnx.Dim{{Size: -1, Name: "batch"}, {Size: 4}}}).
		Initializer("mean", onnx.Float, []int64{4}, f32(mean)).
		Initializer("std", onnx.Float, []int64{4}, f32(std)).
		Initializer("weights", onnx.Float, []int64{4, k}, flatW).
		Initializer("bias", onnx.Float, []int64{k}, f32(b)).
		Node("Sub", []string{"input", "mean"}, []string{"centered"}).
		Node("Div", []string{"centered", "std"}, []string{"scaled"}).
		Node("MatMul", []string{"scaled", "weights"}, []string{"projected"}).
		Node("Add", []string{"projected", "bias"}, []string{"logits"}).
		Node("Softmax", []string{"logits"}, []string{"probabilities"}, onnx.AttrInt("axis", 1)).
		Node("ArgMax", []string{"logits"}, []string{"class_index"}, onnx.AttrInt("axis", 1), onnx.AttrInt("keepdims", 0)).
		DomainNode("ai.onnx.ml", "LabelEncoder", []string{"class_index"}, []string{"label"},
			onnx.AttrInts("keys_int64s", keys...), onnx.AttrStrings("values_strings", classes...), onnx.AttrString("default_string", "unknown")).
		Output("label", onnx.Type{Kind: onnx.KindTensor, Elem: onnx.String, Shape: []onnx.Dim{{Size: -1, Name: "batch"}}}).
		Output("probabilities", onnx.Type{Kind: onnx.KindTensor, Elem: onnx.Float, Shape: []onnx.Dim{{Size: -1, Name: "batch"}, {Size: k}}}).
		Build()
}

func f32(v []float64) []float32 {
	out := make([]float32, len(v))
	for i, x := range v {
		out[i] = float32(x)
	}
	return out
}
