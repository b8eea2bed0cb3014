package serve

import (
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/kilnml/kiln/pkg/runtime"
)

// StatDuration is a count and the total time of what it counts (Triton's
// StatisticDuration).
type StatDuration struct {
	Count uint64 `json:"count"`
	NS    uint64 `json:"ns"`
}

func (d *StatDuration) add(t time.Duration) {
	d.Count++
	d.NS += uint64(max(t, 0))
}

// InferStats are a version's cumulative request statistics, in the terms of
// Triton's statistics extension.
type InferStats struct {
	Success       StatDuration `json:"success"`
	Fail          StatDuration `json:"fail"`
	Queue         StatDuration `json:"queue"`
	ComputeInput  StatDuration `json:"compute_input"`
	ComputeInfer  StatDuration `json:"compute_infer"`
	ComputeOutput StatDuration `json:"compute_output"`
}

// BatchStats are the Runs of one batch size.
type BatchStats struct {
	BatchSize    int          `json:"batch_size"`
	ComputeInfer StatDuration `json:"compute_infer"`
}

// ModelStats are one version's statistics since it was loaded.
type ModelStats struct {
	Name    string `json:"name"`
	Version string `json:"version"`
	// LastInference is in milliseconds since the epoch, 0 before the first.
	LastInference  uint64       `json:"last_inference"`
	InferenceCount uint64       `json:"inference_count"`
	ExecutionCount uint64       `json:"execution_count"`
	InferenceStats InferStats   `json:"inference_stats"`
	BatchStats     []BatchStats `json:"batch_stats"`
}

// versionStats collects a version's statistics from its requests and its batcher.
type versionStats struct {
	mu      sync.Mutex
	s       ModelStats
	batches map[int]*StatDuration
}

func newVersionStats(model, version string) *versionStats {
	return &versionStats{s: ModelStats{Name: model, Version: version}, batches: map[int]*StatDuration{}}
}

// succeeded records an answered request of rows inferences: received at
// start, queued and run as timing says, answered at done. compute_input is
// the time before it queued (decoding, checks), compute_output the time
// after its Run (classification, encoding, sending).
func (st *versionStats) succeeded(start time.Time, timing runtime.Timing, done time.Time, rows int64) {
	st.mu.Lock()
	defer st.mu.Unlock()
	st.s.LastInference = uint64(done.UnixMilli())
	st.s.InferenceCount += uint64(max(rows, 0))
	is := &st.s.InferenceStats
	is.Success.add(done.Sub(start))
	is.ComputeInput.add(timing.Enqueued.Sub(start))
	is.Queue.add(timing.Started.Sub(timing.Enqueued))
	is.ComputeInfer.add(timing.Finished.Sub(timing.Started))
	is.ComputeOutput.add(done.Sub(timing.Finished))
}

// failed records a request that failed after took.
func (st *versionStats) failed(took time.Duration) {
	st.mu.Lock()
	st.s.InferenceStats.Fail.add(took)
	st.mu.Unlock()
}

// executed records one Run of rows rows.
func (st *versionStats) executed(rows int, took time.Duration) {
	st.mu.Lock()
	defer st.mu.Unlock()
	st.s.ExecutionCount++
	d := st.batches[rows]
	if d == nil {
		d = &StatDuration{}
		st.batches[rows] = d
	}
	d.add(took)
}

// snapshot returns a copy of the statistics, batch sizes in ascending order.
func (st *versionStats) snapshot() ModelStats {
	st.mu.Lock()
	defer st.mu.Unlock()
	out := st.s
	out.BatchStats = make([]BatchStats, 0, len(st.batches))
	for _, size := range slices.Sorted(maps.Keys(st.batches)) {
		out.BatchStats = append(out.BatchStats, BatchStats{BatchSize: size, ComputeInfer: *st.batches[size]})
	}
	return out
}
