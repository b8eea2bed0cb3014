package main

import (
	"fmt"
	"os"
	"path/filepath"
	goruntime "runtime"
	"time"

	"github.com/kilnml/kiln/pkg/oip"
)

// threadChoices measures the image model (1×3×224×224 FP32 in) under each
// way of spending the cores: one client's latency, and 8 clients' req/s.
// (The default, 0 threads and 0 instances, is one of the rows: instances
// are the cores less one, threads the cores divided among them.)
func threadChoices() error {
	image, err := writeImageModel()
	if err != nil {
		return err
	}
	defer os.RemoveAll(filepath.Dir(image))
	pixels := &oip.InferRequest{Inputs: []*oip.Tensor{oip.NewTensor("image", []int64{1, 3, 224, 224}, randomFloats(3*224*224))}}
	cores := goMaxProcs()
	fmt.Println("| image model 1×3×224×224, binary requests | 1 client p50 (ms) | 1 client p99 (ms) | 8 clients (req/s) |")
	fmt.Println("|---|---|---|---|")
	for _, c := range []struct {
		label            string
		intra, instances int
	}{
		{"1 thread per Run, 1 instance", 1, 1},
		{fmt.Sprintf("%d threads per Run, 1 instance", cores), cores, 1},
		{fmt.Sprintf("1 thread per Run, %d instances", cores), 1, cores},
	} {
		if instances := max(1, cores-1); c.instances == instances && c.intra == max(1, cores/instances) {
			c.label += " (the default)"
		}
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
