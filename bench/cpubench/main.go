// Command cpubench measures kiln-serve the way users load a server: from
// another process (kiln bench as a child process), with 64 connections, and
// counts each server's CPU time per request from /proc, beside a minimal Go
// HTTP handler (bench/cpubench/floor) loaded the same way, and prints a
// markdown table with the goals of docs/performance.md. The two alternate
// over rounds (the machine's speed drifts between runs): each ratio is the
// median of the rounds' ratios, with their range.
// KILN_BENCH_DURATION sets how long each load runs (default 10s),
// KILN_BENCH_ROUNDS how many rounds (default 3).
//
//	go run ./bench/cpubench
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/kilnml/kiln/pkg/loadgen"
	"github.com/kilnml/kiln/pkg/runtime"
)

const clients = 64

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "cpubench:", err)
		os.Exit(1)
	}
}

func run() error {
	duration := 10 * time.Second
	if d, err := time.ParseDuration(os.Getenv("KILN_BENCH_DURATION")); err == nil {
		duration = d
	}
	rounds := 3
	if n, err := strconv.Atoi(os.Getenv("KILN_BENCH_ROUNDS")); err == nil && n > 0 {
		rounds = n
	}
	lib := os.Getenv("KILN_ORT_LIB")
	if lib == "" {
		lib, _ = filepath.Abs(filepath.Join("lib", runtime.LibraryName))
	}
	dir, err := os.MkdirTemp("", "kiln-cpubench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	bins := map[string]string{}
	for name, pkg := range map[string]string{"kiln-serve": "./cmd/serve", "kiln": "./cmd/kiln", "floor": "./bench/cpubench/floor"} {
		bins[name] = filepath.Join(dir, name)
		if out, err := exec.Command("go", "build", "-o", bins[name], pkg).CombinedOutput(); err != nil {
			return fmt.Errorf("go build %s: %v\n%s", pkg, err, out)
		}
	}
	b := bench{kiln: bins["kiln"], env: append(os.Environ(), "KILN_ORT_LIB="+lib), duration: duration}
	var cpu, throughput, p99 []float64
	var kilns, floors []result
	for round := range rounds {
		pair := [2]result{}
		for k := range 2 {
			which := (round + k) % 2 // alternate who goes first
			server := []string{bins["floor"]}
			if which == 0 {
				server = []string{bins["kiln-serve"], "--model", "iris=examples/iris/model.onnx", "--grpc-addr", "", "--log-level", "warn"}
			}
			r, err := b.measure(server...)
			if err != nil {
				return err
			}
			pair[which] = r
		}
		kiln, floor := pair[0], pair[1]
		kilns, floors = append(kilns, kiln), append(floors, floor)
		cpu = append(cpu, float64(kiln.cpu)/float64(floor.cpu))
		throughput = append(throughput, kiln.Throughput/floor.Throughput)
		p99 = append(p99, float64(kiln.P99)/float64(floor.P99))
	}
	kiln, floor := kilns[medianIndex(cpu)], floors[medianIndex(cpu)]
	fmt.Printf("| iris, batch-1 JSON requests, %d connections, kiln bench in its own process (%v × %d rounds; figures of the median round) | kiln-serve | minimal handler | ratio: median (range) | goal |\n", clients, duration, rounds)
	fmt.Println("|---|---|---|---|---|")
	fmt.Printf("| server CPU per request (µs) | %.1f | %.1f | %s | ≤ 1.3 |\n", us(kiln.cpu), us(floor.cpu), spread(cpu))
	fmt.Printf("| requests/s | %.0f | %.0f | %s | ≥ 0.8 |\n", kiln.Throughput, floor.Throughput, spread(throughput))
	fmt.Printf("| p99 (ms) | %.2f | %.2f | %s | ≤ 1.2 |\n", ms(kiln.P99), ms(floor.P99), spread(p99))
	fmt.Printf("| rows per ONNX Runtime Run (mean) | %.1f | | | |\n", kiln.batch)
	return nil
}

// medianIndex returns the index of the median of xs (the lower one of an even count).
func medianIndex(xs []float64) int {
	order := make([]int, len(xs))
	for i := range order {
		order[i] = i
	}
	sort.Slice(order, func(a, b int) bool { return xs[order[a]] < xs[order[b]] })
	return order[(len(xs)-1)/2]
}

// spread formats the median of ratios with their range.
func spread(xs []float64) string {
	return fmt.Sprintf("%.2f (%.2f–%.2f)", xs[medianIndex(xs)], slices.Min(xs), slices.Max(xs))
}

// meanBatch reads the mean rows per Run from a kiln-serve's metrics (0 for
// a server without them).
func meanBatch(url string) (float64, error) {
	resp, err := http.Get(url + "/metrics")
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	var sum, count float64
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		name, value, _ := strings.Cut(sc.Text(), " ")
		v, _ := strconv.ParseFloat(value, 64)
		switch {
		case strings.HasPrefix(name, "kiln_inference_batch_size_sum"):
			sum += v
		case strings.HasPrefix(name, "kiln_inference_batch_size_count"):
			count += v
		}
	}
	if count == 0 {
		return 0, sc.Err()
	}
	return sum / count, sc.Err()
}

// bench loads servers with kiln bench.
type bench struct {
	kiln     string // the kiln binary
	env      []string
	duration time.Duration
}

// measure starts server (a command line, --addr added), loads it with
// 64 connections and returns its result and CPU time per request.
func (b bench) measure(server ...string) (result, error) {
	addr, err := freeAddr()
	if err != nil {
		return result{}, err
	}
	cmd := exec.Command(server[0], append(server[1:], "--addr", addr)...)
	cmd.Env = b.env
	if err := cmd.Start(); err != nil {
		return result{}, err
	}
	defer func() {
		cmd.Process.Kill()
		cmd.Wait()
	}()
	url := "http://" + addr
	if err := waitReady(url); err != nil {
		return result{}, err
	}
	before, err := cpuTime(cmd.Process.Pid)
	if err != nil {
		return result{}, err
	}
	out, err := exec.Command(b.kiln, "bench", "iris", "--server", url, "--concurrency", strconv.Itoa(clients),
		"--duration", b.duration.String(), "--json").Output()
	if err != nil {
		return result{}, fmt.Errorf("kiln bench %s: %w", url, err)
	}
	after, err := cpuTime(cmd.Process.Pid)
	if err != nil {
		return result{}, err
	}
	batch, err := meanBatch(url)
	if err != nil {
		return result{}, err
	}
	var report struct {
		Levels []loadgen.Result `json:"levels"`
	}
	if err := json.Unmarshal(out, &report); err != nil || len(report.Levels) != 1 {
		return result{}, fmt.Errorf("kiln bench answered %q: %v", out, err)
	}
	l := report.Levels[0]
	if l.Errors > 0 {
		return result{}, fmt.Errorf("%s: %d requests failed: %s", url, l.Errors, l.FirstError)
	}
	// kiln bench warms up one request per client before measuring.
	perRequest := (after - before) / time.Duration(l.Requests+clients)
	return result{l, perRequest, batch}, nil
}

type result struct {
	loadgen.Result
	cpu   time.Duration // server CPU time per request
	batch float64       // mean rows per Run
}

// cpuTime is the user and system CPU time a process has used, from /proc.
func cpuTime(pid int) (time.Duration, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// The command name (field 2) may hold spaces: fields count from after its ")".
	i := strings.LastIndexByte(string(data), ')')
	fields := strings.Fields(string(data[i+1:]))
	if len(fields) < 13 {
		return 0, errors.New("short /proc stat")
	}
	utime, _ := strconv.ParseInt(fields[11], 10, 64)
	stime, _ := strconv.ParseInt(fields[12], 10, 64)
	return time.Duration(utime+stime) * time.Second / clockTicks(), nil
}

// clockTicks is the kernel's USER_HZ, the unit of /proc CPU times.
func clockTicks() time.Duration {
	out, err := exec.Command("getconf", "CLK_TCK").Output()
	if n, perr := strconv.Atoi(strings.TrimSpace(string(out))); err == nil && perr == nil && n > 0 {
		return time.Duration(n)
	}
	return 100
}

func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

func waitReady(url string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for ctx.Err() == nil {
		if resp, err := http.Get(url + "/v2/models/iris"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("%s did not come up", url)
}

func us(d time.Duration) float64 { return float64(d) / float64(time.Microsecond) }
func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
