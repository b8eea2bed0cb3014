// Command cpubench measures kiln-serve the way users load a server: from
// another process (kiln bench as a child process), with 64 connections, and
// counts each server's CPU time per request from /proc, beside a minimal Go
// HTTP handler (bench/cpubench/floor) loaded the same way, and prints a
// markdown table with the goals of docs/performance.md.
// KILN_BENCH_DURATION sets how long each load runs (default 10s).
//
//	go run ./bench/cpubench
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
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
	env := append(os.Environ(), "KILN_ORT_LIB="+lib)
	measure := func(server ...string) (result, error) {
		addr, err := freeAddr()
		if err != nil {
			return result{}, err
		}
		cmd := exec.Command(server[0], append(server[1:], "--addr", addr)...)
		cmd.Env = env
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
		out, err := exec.Command(bins["kiln"], "bench", "iris", "--server", url, "--concurrency", strconv.Itoa(clients),
			"--duration", duration.String(), "--json").Output()
		if err != nil {
			return result{}, fmt.Errorf("kiln bench %s: %w", url, err)
		}
		after, err := cpuTime(cmd.Process.Pid)
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
		return result{l, perRequest}, nil
	}
	kiln, err := measure(bins["kiln-serve"], "--model", "iris=examples/iris/model.onnx", "--grpc-addr", "", "--log-level", "warn")
	if err != nil {
		return err
	}
	floor, err := measure(bins["floor"])
	if err != nil {
		return err
	}
	fmt.Printf("| iris, batch-1 JSON requests, %d connections, kiln bench in its own process (%v) | kiln-serve | minimal handler | ratio | goal |\n", clients, duration)
	fmt.Println("|---|---|---|---|---|")
	fmt.Printf("| server CPU per request (µs) | %.1f | %.1f | %.2f | ≤ 1.3 |\n", us(kiln.cpu), us(floor.cpu), float64(kiln.cpu)/float64(floor.cpu))
	fmt.Printf("| requests/s | %.0f | %.0f | %.2f | ≥ 0.8 |\n", kiln.Throughput, floor.Throughput, kiln.Throughput/floor.Throughput)
	fmt.Printf("| p99 (ms) | %.2f | %.2f | %.2f | ≤ 1.2 |\n", ms(kiln.P99), ms(floor.P99), float64(kiln.P99)/float64(floor.P99))
	return nil
}

type result struct {
	loadgen.Result
	cpu time.Duration // server CPU time per request
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
