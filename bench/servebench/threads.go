package main

import (
	"fmt"
	"os"
	"path/filepath"
	goruntime "runtime"
	"time"

	"github.com/kilnml/kiln/pkg/onnx"
)

// threadChoices measures a convolutional model (1×3×224×224 FP32 in, two
// 32-channel 3×3 convolutions: about 0.3 GFLOP a request) under each
// way of spending the cores: one client's latency, and 8 clients' req/s.
// The default (0 threads, 0 instances) is the cores less one instances of
// one thread each, and every core for a costly Run that finds no other in
// flight.
func threadChoices() error {
	image, err := writeConvModel()
	if err != nil {
		return err
	}
	defer os.RemoveAll(filepath.Dir(image))
	pixels := imageRequest()
	cores := goMaxProcs()
	fmt.Println("| conv model 1×3×224×224 (0.3 GFLOP), binary requests | 1 client p50 (ms) | 1 client p99 (ms) | 8 clients (req/s) |")
	fmt.Println("|---|---|---|---|")
	for _, c := range []struct {
		label            string
		intra, instances int
	}{
		{"the default: 1 thread per Run, all cores for a Run alone", 0, 0},
		{"1 thread per Run, 1 instance", 1, 1},
		{fmt.Sprintf("%d threads per Run, 1 instance", cores), cores, 1},
		{fmt.Sprintf("1 thread per Run, %d instances", cores), 1, cores},
	} {
		settings := batching(true)
		settings.IntraOpThreads = c.intra
		settings.Batching.Instances = c.instances
		one, err := loadServer("image", image, settings, pixels, 1, true)
		if err != nil {
			return err
		}
		eight, err := loadServer("image", image, settings, pixels, 8, true)
		if err != nil {
			return err
		}
		fmt.Printf("| %s | %.2f | %.2f | %.0f |\n", c.label, ms(one.P50), ms(one.P99), eight.Throughput)
	}
	return nil
}

func goMaxProcs() int { return goruntime.GOMAXPROCS(0) }

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// writeConvModel builds the model threadChoices measures into a temporary file.
func writeConvModel() (string, error) {
	m, err := onnx.NewBuilder("conv").
		Input("image", onnx.TensorType(onnx.Float, -1, 3, 224, 224)).
		Initializer("w1", onnx.Float, []int64{32, 3, 3, 3}, randomFloats(32*3*3*3)).
		Initializer("w2", onnx.Float, []int64{32, 32, 3, 3}, randomFloats(32*32*3*3)).
		Initializer("head", onnx.Float, []int64{32, 10}, randomFloats(320)).
		Node("Conv", []string{"image", "w1"}, []string{"c1"}, onnx.AttrInts("pads", 1, 1, 1, 1)).
		Node("Relu", []string{"c1"}, []string{"r1"}).
		Node("Conv", []string{"r1", "w2"}, []string{"c2"}, onnx.AttrInts("strides", 2, 2), onnx.AttrInts("pads", 1, 1, 1, 1)).
		Node("Relu", []string{"c2"}, []string{"r2"}).
		Node("GlobalAveragePool", []string{"r2"}, []string{"pooled"}).
		Node("Flatten", []string{"pooled"}, []string{"flat"}).
		Node("MatMul", []string{"flat", "head"}, []string{"scores"}).
		Output("scores", onnx.TensorType(onnx.Float, -1, 10)).
		Build()
	if err != nil {
		return "", err
	}
	return writeModel("conv.onnx", m)
}
