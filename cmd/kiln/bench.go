package main

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/kilnml/kiln/pkg/loadgen"
	"github.com/kilnml/kiln/pkg/oip"
	"github.com/kilnml/kiln/pkg/runtime"
)

// benchFlags are the settings of `kiln bench`.
type benchFlags struct {
	server      serverFlags
	version     string
	concurrency string
	duration    time.Duration
	requests    int
	batch       int
	binary      bool
	input       string
	inProcess   bool
	ortLib      string
}

// benchReport is the JSON output of `kiln bench`.
type benchReport struct {
	Model  string           `json:"model"`
	Target string           `json:"target"`
	Batch  int              `json:"batch"`
	Levels []loadgen.Result `json:"levels"`
}

func benchCommand(g *globals) *cobra.Command {
	f := &benchFlags{}
	c := &cobra.Command{
		Use:   "bench MODEL",
		Short: "Load-test a model on an OIP server (or in this process) over a concurrency sweep",
		Long: `Sends inference requests for MODEL from 1, 4, 16 and 64 concurrent clients (--concurrency)
and prints throughput and p50/p90/p99 latency per level. MODEL is a model name on the
OIP server at --server (kiln-serve, Triton, KServe; with --protocol grpc, at --grpc-server),
or with --in-process an ONNX file run
through ONNX Runtime directly: the ceiling. Inputs are random, shaped from the model's
metadata with --batch rows, unless --input gives an OIP request JSON file.`,
		Args: exactArgs("MODEL"),
		RunE: func(c *cobra.Command, args []string) error {
			levels, err := parseLevels(f.concurrency)
			if err != nil {
				return usage(c, err)
			}
			if f.batch < 1 {
				return usage(c, fmt.Errorf("--batch must be at least 1"))
			}
			if err := f.server.validate(); err != nil {
				return usage(c, err)
			}
			send, target, err := benchTarget(c.Context(), args[0], f, levels[len(levels)-1])
			if err != nil {
				return err
			}
			report := benchReport{Model: args[0], Target: target, Batch: f.batch}
			for _, n := range levels {
				r := loadgen.Run(c.Context(), send, loadgen.Options{Concurrency: n, Duration: f.duration, Requests: f.requests, Warmup: 1})
				if r.Requests == 0 && r.FirstError != "" {
					return fmt.Errorf("every request failed at concurrency %d: %s", n, r.FirstError)
				}
				report.Levels = append(report.Levels, r)
			}
			if g.json {
				return printJSON(c.OutOrStdout(), report)
			}
			return printBench(c, report)
		},
	}
	fl := c.Flags()
	f.server.register(c)
	fl.StringVar(&f.version, "model-version", "", "model version on the server (default: the server's default)")
	fl.StringVar(&f.concurrency, "concurrency", "1,4,16,64", "comma-separated numbers of concurrent clients")
	fl.DurationVar(&f.duration, "duration", 5*time.Second, "how long each level runs")
	fl.IntVar(&f.requests, "requests", 0, "stop each level after this many requests (0: run for --duration)")
	fl.IntVar(&f.batch, "batch", 1, "rows per request")
	fl.BoolVar(&f.binary, "binary", false, "send and receive tensors with the binary data extension (gRPC: raw contents)")
	fl.StringVar(&f.input, "input", "", "OIP inference request JSON to send instead of random inputs")
	fl.BoolVar(&f.inProcess, "in-process", false, "MODEL is an ONNX file: run it through ONNX Runtime in this process")
	fl.StringVar(&f.ortLib, "ort-lib", "", "ONNX Runtime library for --in-process (default: KILN_ORT_LIB, lib/, system)")
	return c
}

// benchTarget returns the request function for the chosen target and its description.
func benchTarget(ctx context.Context, model string, f *benchFlags, maxClients int) (loadgen.Request, string, error) {
	rng := rand.New(rand.NewPCG(1, 2))
	if f.inProcess {
		if err := runtime.Init(runtime.FindLibrary(f.ortLib)); err != nil {
			return nil, "", err
		}
		m, err := runtime.Load(model, runtime.Options{})
		if err != nil {
			return nil, "", err
		}
		inputs, _ := m.Signature()
		req, err := benchRequest(f, &oip.ModelMetadata{Inputs: inputs}, rng)
		if err != nil {
			return nil, "", err
		}
		rows := int(req.Inputs[0].Shape[0])
		return func(ctx context.Context) (int, error) {
			_, err := m.Run(ctx, req.Inputs, nil)
			return rows, err
		}, "in-process onnxruntime " + runtime.Version(), nil
	}
	client, err := f.server.dial(maxClients)
	if err != nil {
		return nil, "", err
	}
	md, err := client.modelMetadata(ctx, model, f.version)
	if err != nil {
		return nil, "", fmt.Errorf("model metadata from %s: %w", client.address(), err)
	}
	req, err := benchRequest(f, md, rng)
	if err != nil {
		return nil, "", err
	}
	send, err := client.loadRequest(model, f.version, req, f.binary)
	return send, client.address() + " (" + client.codec(f.binary) + ")", err
}

// benchRequest reads --input or makes a random request from the metadata.
func benchRequest(f *benchFlags, md *oip.ModelMetadata, rng *rand.Rand) (*oip.InferRequest, error) {
	if f.input == "" {
		return loadgen.RandomRequest(md, f.batch, rng)
	}
	data, err := os.ReadFile(f.input)
	if err != nil {
		return nil, err
	}
	var req oip.InferRequest
	if err := json.Unmarshal(data, &req); err != nil {
		return nil, fmt.Errorf("%s: %w", f.input, err)
	}
	if len(req.Inputs) == 0 {
		return nil, fmt.Errorf("%s: the request has no inputs", f.input)
	}
	return &req, nil
}

func parseLevels(s string) ([]int, error) {
	var levels []int
	for _, part := range strings.Split(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(part))
		if err != nil || n < 1 {
			return nil, fmt.Errorf("--concurrency %q: want positive numbers separated by commas", s)
		}
		levels = append(levels, n)
	}
	return levels, nil
}

func printBench(c *cobra.Command, r benchReport) error {
	fmt.Fprintf(c.OutOrStdout(), "%s on %s, %d row(s) per request\n", r.Model, r.Target, r.Batch)
	rows := [][]string{{"CLIENTS", "REQUESTS", "ERRORS", "REQ/S", "ROWS/S", "P50", "P90", "P99"}}
	for _, l := range r.Levels {
		rows = append(rows, []string{
			strconv.Itoa(l.Concurrency), strconv.Itoa(l.Requests), strconv.Itoa(l.Errors),
			fmt.Sprintf("%.0f", l.Throughput), fmt.Sprintf("%.0f", l.RowThroughput),
			l.P50.Round(time.Microsecond).String(), l.P90.Round(time.Microsecond).String(), l.P99.Round(time.Microsecond).String(),
		})
	}
	return printTable(c.OutOrStdout(), rows)
}
