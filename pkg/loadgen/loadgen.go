// Package loadgen drives a request function from many concurrent clients and
// measures throughput and latency quantiles, for `kiln bench` and `make bench`.
package loadgen

import (
	"context"
	"slices"
	"sync"
	"time"

	"github.com/kilnml/kiln/internal/quantile"
)

// Request sends one request and returns how many rows it carried.
type Request func(ctx context.Context) (rows int, err error)

// Options bound one load level: it stops after Duration or after Requests
// requests, whichever comes first (zero means no bound; one must be set).
type Options struct {
	Concurrency int
	Duration    time.Duration
	Requests    int
	// Warmup requests per client are sent first and not measured.
	Warmup int
}

// Result is one load level's measurement.
type Result struct {
	Concurrency   int           `json:"concurrency"`
	Requests      int           `json:"requests"`
	Errors        int           `json:"errors"`
	Rows          int           `json:"rows"`
	Elapsed       time.Duration `json:"elapsed_ns"`
	Throughput    float64       `json:"requests_per_second"`
	RowThroughput float64       `json:"rows_per_second"`
	P50           time.Duration `json:"p50_ns"`
	P90           time.Duration `json:"p90_ns"`
	P99           time.Duration `json:"p99_ns"`
	FirstError    string        `json:"first_error,omitempty"`
}

// Run sends requests from opts.Concurrency clients, each waiting for its
// answer before sending the next, and measures successful requests.
func Run(ctx context.Context, send Request, opts Options) Result {
	clients := max(opts.Concurrency, 1)
	for range opts.Warmup {
		warm(ctx, send, clients)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	if opts.Duration > 0 {
		var stop context.CancelFunc
		ctx, stop = context.WithTimeout(ctx, opts.Duration)
		defer stop()
	}
	var budget chan struct{}
	if opts.Requests > 0 {
		budget = make(chan struct{}, opts.Requests)
		for range opts.Requests {
			budget <- struct{}{}
		}
		close(budget)
	}

	type tally struct {
		latencies  []time.Duration
		rows, errs int
		firstErr   error
	}
	tallies := make([]tally, clients)
	var wg sync.WaitGroup
	start := time.Now()
	for c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			t := &tallies[c]
			for ctx.Err() == nil {
				if budget != nil {
					if _, ok := <-budget; !ok {
						return
					}
				}
				began := time.Now()
				rows, err := send(ctx)
				took := time.Since(began)
				switch {
				case err == nil:
					t.latencies = append(t.latencies, took)
					t.rows += rows
				case !over(ctx):
					t.errs++
					if t.firstErr == nil {
						t.firstErr = err
					}
				}
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)

	r := Result{Concurrency: clients, Elapsed: elapsed}
	var all []time.Duration
	for _, t := range tallies {
		all = append(all, t.latencies...)
		r.Rows += t.rows
		r.Errors += t.errs
		if t.firstErr != nil && r.FirstError == "" {
			r.FirstError = t.firstErr.Error()
		}
	}
	r.Requests = len(all)
	r.Throughput = float64(r.Requests) / elapsed.Seconds()
	r.RowThroughput = float64(r.Rows) / elapsed.Seconds()
	slices.Sort(all)
	r.P50, r.P90, r.P99 = quantile.NearestRank(all, 0.50), quantile.NearestRank(all, 0.90), quantile.NearestRank(all, 0.99)
	return r
}

// over reports whether the level has ended: ctx is done, or its deadline
// has passed (a transport may give up on the deadline before ctx says so).
func over(ctx context.Context) bool {
	if ctx.Err() != nil {
		return true
	}
	deadline, ok := ctx.Deadline()
	return ok && !time.Now().Before(deadline)
}

// warm sends one request from each client.
func warm(ctx context.Context, send Request, clients int) {
	var wg sync.WaitGroup
	for range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			send(ctx)
		}()
	}
	wg.Wait()
}
