package main

import (
	"fmt"

	"github.com/kilnml/kiln/pkg/onnx"
)

const (
	mlpWidth   = 1024
	mlpLayers  = 6
	mlpClasses = 16
)

// writeMLP builds a compute-heavy model into a temporary file: mlpLayers
// fully connected mlpWidth-wide layers with ReLU, then a layer down to
// mlpClasses scores.
func writeMLP() (string, error) {
	b := onnx.NewBuilder("mlp").Input("x", onnx.TensorType(onnx.Float, -1, mlpWidth))
	prev := "x"
	for i := range mlpLayers {
		w, bias := fmt.Sprintf("w%d", i), fmt.Sprintf("b%d", i)
		b.Initializer(w, onnx.Float, []int64{mlpWidth, mlpWidth}, randomFloats(mlpWidth*mlpWidth)).
			Initializer(bias, onnx.Float, []int64{mlpWidth}, randomFloats(mlpWidth)).
			Node("MatMul", []string{prev, w}, []string{w + "_out"}).
			Node("Add", []string{w + "_out", bias}, []string{bias + "_out"}).
			Node("Relu", []string{bias + "_out"}, []string{fmt.Sprintf("h%d", i)})
		prev = fmt.Sprintf("h%d", i)
	}
	m, err := b.Initializer("head", onnx.Float, []int64{mlpWidth, mlpClasses}, randomFloats(mlpWidth*mlpClasses)).
		Node("MatMul", []string{prev, "head"}, []string{"scores"}).
		Output("scores", onnx.TensorType(onnx.Float, -1, mlpClasses)).
		Build()
	if err != nil {
		return "", err
	}
	return writeModel("mlp.onnx", m)
}
