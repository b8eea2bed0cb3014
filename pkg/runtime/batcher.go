package runtime

import (
	"context"
	"errors"
	"fmt"
	goruntime "runtime"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/kilnml/kiln/pkg/oip"
	"github.com/kilnml/kiln/pkg/onnx"
)

// ErrQueueFull is returned at once when a Batcher already holds its
// MaxQueueSize requests; the caller should retry later.
var ErrQueueFull = errors.New("inference queue is full")

// BatchOptions configure a Batcher. Zero values take the defaults below.
type BatchOptions struct {
	// Disabled runs each request on its own (still at most Instances at a time).
	Disabled bool
	// MaxBatchSize is the most rows one Run takes; default 64.
	MaxBatchSize int
	// MaxQueueDelay is how long a batch may wait for more rows while other
	// requests are active. Zero (the default) adapts: a batch waits up to half
	// the model's recent Run time, at least 250µs (the time a client that was
	// just answered takes to come back) and at most 2ms. A lone request never
	// waits.
	MaxQueueDelay time.Duration
	// MaxQueueSize is how many requests may wait; more get ErrQueueFull. Default 1024.
	MaxQueueSize int
	// Instances is how many Runs go at once; default one less than the
	// number of CPUs (at least 1), leaving a core to the network.
	Instances int
}

// WithDefaults fills in zero fields.
func (o BatchOptions) WithDefaults() BatchOptions {
	if o.MaxBatchSize <= 0 {
		o.MaxBatchSize = 64
	}
	if o.MaxQueueSize <= 0 {
		o.MaxQueueSize = 1024
	}
	if o.Instances <= 0 {
		o.Instances = max(1, goruntime.GOMAXPROCS(0)-1)
	}
	return o
}

// BatchObserver receives the batcher's measurements; nil fields are skipped.
type BatchObserver struct {
	Queued   func(wait time.Duration)
	Computed func(rows int, took time.Duration)
}

// Batcher runs a Model's requests through a bounded queue, joining
// requests whose inputs differ only in their first (batch) dimension into one
// Run along that dimension and splitting the outputs back.
type Batcher struct {
	model   *Model
	opts    BatchOptions
	observe BatchObserver
	jobs    chan *job
	slots   chan struct{} // one per instance, held while a Run goes
	pending atomic.Int64  // admitted and not yet answered
	// peak is the most requests recently pending at once: about how many
	// clients are active, so how many rows a batch can expect. It decays as
	// batches finish.
	peak     atomic.Int64
	runTime  movingAverage // of a Run
	mergable bool
	wg       sync.WaitGroup
	// admit is held for reading while a request enters the queue and for
	// writing by Close, so no request is sent on the closed queue.
	admit  sync.RWMutex
	closed bool
}

type job struct {
	ctx      context.Context
	inputs   []*oip.Tensor // in model order
	outputs  []int
	rows     int64
	enqueued time.Time
	done     chan result
}

type result struct {
	outputs []*oip.Tensor
	timing  Timing
	err     error
}

// Timing says when a request entered the batcher and when the Run that
// answered it started and finished, with the rows that Run took.
type Timing struct {
	Enqueued, Started, Finished time.Time
	BatchRows                   int
}

// NewBatcher starts the batcher's workers; Close stops them.
func NewBatcher(m *Model, opts BatchOptions, observe BatchObserver) *Batcher {
	opts = opts.WithDefaults()
	b := &Batcher{
		model:    m,
		opts:     opts,
		observe:  observe,
		jobs:     make(chan *job, opts.MaxQueueSize),
		slots:    make(chan struct{}, opts.Instances),
		mergable: !opts.Disabled && opts.MaxBatchSize > 1 && m.batchable(),
	}
	for range opts.Instances {
		b.wg.Add(1)
		go b.work()
	}
	return b
}

// Pending returns the number of requests admitted and not yet answered.
func (b *Batcher) Pending() int64 { return b.pending.Load() }

// Options returns the batcher's settings, defaults filled in.
func (b *Batcher) Options() BatchOptions { return b.opts }

// Batching reports whether requests can be joined into one Run (batching is
// on and the model's inputs and outputs have a dynamic first dimension).
func (b *Batcher) Batching() bool { return b.mergable }

// Model returns the model the batcher runs.
func (b *Batcher) Model() *Model { return b.model }

// Run answers one request as Model.Run does. When nothing is queued and an
// instance is free it runs at once on the caller's goroutine; otherwise it
// queues the request, to be batched, and waits. It fails at once with
// ErrQueueFull when the queue is full, and gives up with ctx's error when
// ctx ends first; work still queued is then skipped.
func (b *Batcher) Run(ctx context.Context, inputs []*oip.Tensor, outputs []string) ([]*oip.Tensor, error) {
	out, _, err := b.RunTimed(ctx, inputs, outputs)
	return out, err
}

// RunTimed is Run that also tells how long the request queued and ran.
func (b *Batcher) RunTimed(ctx context.Context, inputs []*oip.Tensor, outputs []string) ([]*oip.Tensor, Timing, error) {
	enqueued := time.Now()
	ordered, err := b.model.orderInputs(inputs)
	if err != nil {
		return nil, Timing{}, err
	}
	selected, err := b.model.selectOutputs(outputs)
	if err != nil {
		return nil, Timing{}, err
	}
	if r, ran := b.runInline(ordered, selected); ran {
		r.timing.Enqueued = enqueued
		return r.outputs, r.timing, r.err
	}
	j := jobPool.Get().(*job)
	j.ctx, j.inputs, j.outputs, j.enqueued = ctx, ordered, selected, enqueued
	j.rows = b.batchRows(ordered)
	if err := b.enqueue(j); err != nil {
		j.recycle()
		return nil, Timing{}, err
	}
	select {
	case r := <-j.done:
		j.recycle()
		r.timing.Enqueued = enqueued
		return r.outputs, r.timing, r.err
	case <-ctx.Done():
		return nil, Timing{}, ctx.Err() // a worker may still answer j: it is not recycled
	}
}

// jobPool keeps jobs, with their answer channels, for the next requests.
var jobPool = sync.Pool{New: func() any { return &job{done: make(chan result, 1)} }}

// recycle returns a job that no worker holds to jobPool.
func (j *job) recycle() {
	*j = job{done: j.done}
	jobPool.Put(j)
}

// runInline runs a request on the caller's goroutine if nothing is queued
// and an instance is free, and, when requests can be batched, nobody else is
// active nor was lately (a request among others waits to share their Run);
// ran is false when it did not.
func (b *Batcher) runInline(ordered []*oip.Tensor, selected []int) (r result, ran bool) {
	if len(b.jobs) > 0 || (b.mergable && (b.pending.Load() > 0 || b.peak.Load() > 1)) {
		return result{}, false
	}
	b.admit.RLock()
	if b.closed {
		b.admit.RUnlock()
		return result{err: ErrClosed}, true
	}
	select {
	case b.slots <- struct{}{}:
	default:
		b.admit.RUnlock()
		return result{}, false
	}
	b.admit.RUnlock()
	b.notePending(b.pending.Add(1))
	defer func() {
		<-b.slots
		b.pending.Add(-1)
	}()
	if b.observe.Queued != nil {
		b.observe.Queued(0)
	}
	return b.timedRun(ordered, selected), true
}

// timedRun runs checked inputs and records the Run's time and rows.
func (b *Batcher) timedRun(inputs []*oip.Tensor, selected []int) result {
	r := result{timing: Timing{Started: time.Now()}}
	r.outputs, r.err = b.model.run(context.Background(), inputs, selected)
	r.timing.Finished = time.Now()
	took := r.timing.Finished.Sub(r.timing.Started)
	b.runTime.add(took)
	if len(inputs) > 0 && inputs[0] != nil && len(inputs[0].Shape) > 0 {
		r.timing.BatchRows = int(inputs[0].Shape[0])
	}
	if b.observe.Computed != nil {
		b.observe.Computed(r.timing.BatchRows, took)
	}
	return r
}

// enqueue admits a job unless the queue is full or closed. The queue
// channel holds MaxQueueSize jobs, so the send never blocks.
func (b *Batcher) enqueue(j *job) error {
	b.admit.RLock()
	defer b.admit.RUnlock()
	if b.closed {
		return ErrClosed
	}
	p := b.pending.Add(1)
	if p > int64(b.opts.MaxQueueSize) {
		b.pending.Add(-1)
		return fmt.Errorf("%w: %d requests waiting", ErrQueueFull, b.opts.MaxQueueSize)
	}
	b.notePending(p)
	b.jobs <- j
	return nil
}

// notePending raises the peak to p requests pending.
func (b *Batcher) notePending(p int64) {
	if p > b.peak.Load() {
		b.peak.Store(p)
	}
}

// Close stops taking requests, lets the workers finish what is queued, and
// waits for them. It does not close the Model.
func (b *Batcher) Close() {
	b.admit.Lock()
	if !b.closed {
		b.closed = true
		close(b.jobs)
	}
	b.admit.Unlock()
	b.wg.Wait()
}

// batchable reports whether every input and output of the model has a
// dynamic first dimension (or is a sequence, one item per row), so that
// rows can be joined and split.
func (m *Model) batchable() bool {
	for _, v := range m.Info.Inputs {
		if !v.Type.IsTensor() || len(v.Type.Shape) == 0 || !v.Type.Shape[0].Dynamic() {
			return false
		}
	}
	for _, v := range m.Info.Outputs {
		seq := v.Type.Kind == onnx.KindSequence
		if !seq && (!v.Type.IsTensor() || len(v.Type.Shape) == 0 || !v.Type.Shape[0].Dynamic()) {
			return false
		}
	}
	return len(m.Info.Inputs) > 0
}

// batchRows returns the rows of a request that can join others in a Run,
// or 0 when it must run alone.
func (b *Batcher) batchRows(inputs []*oip.Tensor) int64 {
	if !b.mergable {
		return 0
	}
	signature := len(b.model.Info.Inputs)
	for _, t := range inputs[signature:] {
		if t != nil {
			return 0 // overrides a default: run alone
		}
	}
	rows := inputs[0].Shape[0]
	for _, t := range inputs[:signature] {
		if t.Shape[0] != rows {
			return 0 // inputs disagree on the batch size: run alone
		}
	}
	if rows > int64(b.opts.MaxBatchSize) {
		return 0
	}
	return rows
}

// sameWidths reports whether two requests' inputs have the same shapes but
// for the first (batch) dimension, so that they can share a Run.
func (b *Batcher) sameWidths(x, y *job) bool {
	for i := range b.model.Info.Inputs {
		if !slices.Equal(x.inputs[i].Shape[1:], y.inputs[i].Shape[1:]) {
			return false
		}
	}
	return true
}

// work is one instance: it collects a batch, runs it, answers it, repeats.
func (b *Batcher) work() {
	defer b.wg.Done()
	var held []*job
	for {
		var first *job
		if len(held) > 0 {
			first, held = held[0], held[1:]
		} else {
			var ok bool
			if first, ok = <-b.jobs; !ok {
				return
			}
		}
		if first.ctx.Err() != nil {
			b.finish(first, result{err: first.ctx.Err()})
			continue
		}
		batch := []*job{first}
		if first.rows > 0 {
			batch, held = b.collect(batch, held)
		}
		b.slots <- struct{}{}
		b.runBatch(batch)
		<-b.slots
	}
}

// collect adds jobs of the first job's widths, from those held back and then
// from the queue, until the batch is full, nothing is queued and nobody else
// is active, or MaxQueueDelay has passed. Jobs that cannot join are held for
// the next batches.
func (b *Batcher) collect(batch, held []*job) ([]*job, []*job) {
	first, rows := batch[0], batch[0].rows
	joins := func(j *job) bool { return j.rows > 0 && b.sameWidths(first, j) }
	fits := func(j *job) bool { return joins(j) && rows+j.rows <= int64(b.opts.MaxBatchSize) }
	kept := held[:0]
	for _, j := range held {
		if fits(j) {
			batch = append(batch, j)
			rows += j.rows
		} else {
			kept = append(kept, j)
		}
	}
	held = kept
	var timer *time.Timer
	defer func() {
		if timer != nil {
			timer.Stop()
		}
	}()
	for rows < int64(b.opts.MaxBatchSize) {
		var j *job
		select {
		case j = <-b.jobs:
		default:
			delay := b.queueDelay()
			if delay <= 0 || (b.pending.Load() <= int64(len(batch)+len(held)) && rows >= b.peak.Load()) {
				return batch, held // no waiting, or nobody else is active nor expected
			}
			if timer == nil {
				timer = time.NewTimer(delay)
			}
			select {
			case j = <-b.jobs:
			case <-timer.C:
				return batch, held
			}
		}
		switch {
		case j == nil:
			return batch, held // the queue is closed
		case j.ctx.Err() != nil:
			b.finish(j, result{err: j.ctx.Err()})
		case fits(j):
			batch = append(batch, j)
			rows += j.rows
		default:
			held = append(held, j)
			if joins(j) {
				return batch, held // it would overflow this batch: start the next with it
			}
		}
	}
	return batch, held
}

// The queue delay chosen from the Run time stays within these. The floor is
// about what a closed-loop client just answered needs to send its next
// request (a loopback round trip and the HTTP parse, under load): waiting
// that long lets a cheap model's batch take the clients that are coming
// back instead of running them one by one, each Run's fixed cost paid again
// (with 64 connections, the classifier's rows per Run went from 2 to 11 and
// the node's CPU per request down by a fifth).
const (
	minAdaptiveDelay = 250 * time.Microsecond
	maxAdaptiveDelay = 2 * time.Millisecond
)

// queueDelay is how long a batch may wait for more rows.
func (b *Batcher) queueDelay() time.Duration {
	if b.opts.MaxQueueDelay > 0 {
		return b.opts.MaxQueueDelay
	}
	return min(max(b.runTime.get()/2, minAdaptiveDelay), maxAdaptiveDelay)
}

// finish answers j, which its caller may reuse from then on.
func (b *Batcher) finish(j *job, r result) {
	j.done <- r
	b.pending.Add(-1)
}

// runBatch runs the jobs as one Run and answers each with its own rows.
func (b *Batcher) runBatch(batch []*job) {
	if b.observe.Queued != nil {
		now := time.Now()
		for _, j := range batch {
			b.observe.Queued(now.Sub(j.enqueued))
		}
	}
	if p := b.peak.Load(); p > 0 {
		b.peak.Store(p - max(p/16, 1)) // decays unless clients keep it up
	}
	inputs := batch[0].inputs
	if len(batch) > 1 {
		inputs = concat(batch)
	}
	r := b.timedRun(inputs, nil)
	if r.err != nil {
		for _, j := range batch {
			b.finish(j, r)
		}
		return
	}
	rows := int64(r.timing.BatchRows)
	if len(batch) == 1 {
		b.finish(batch[0], result{outputs: pick(r.outputs, batch[0].outputs), timing: r.timing})
		return
	}
	if !splittable(r.outputs, rows) {
		// An output does not follow the batch dimension: answer each job on its own.
		for _, j := range batch {
			b.finish(j, b.timedRun(j.inputs, j.outputs))
		}
		return
	}
	offset := int64(0)
	for _, j := range batch {
		n := j.rows // j is its caller's again once answered
		b.finish(j, result{outputs: sliceRows(r.outputs, j.outputs, offset, n), timing: r.timing})
		offset += n
	}
}

// concat joins the jobs' inputs along the first dimension.
func concat(batch []*job) []*oip.Tensor {
	first := batch[0].inputs
	joined := make([]*oip.Tensor, len(first))
	var rows int64
	for _, j := range batch {
		rows += j.rows
	}
	for i, t := range first {
		if t == nil {
			continue // left to its default by every job
		}
		out := &oip.Tensor{Name: t.Name, Datatype: t.Datatype, Shape: append([]int64{rows}, t.Shape[1:]...)}
		size := 0
		for _, j := range batch {
			size += len(j.inputs[i].Raw)
		}
		if t.Datatype == oip.Bytes {
			for _, j := range batch {
				out.Strings = append(out.Strings, j.inputs[i].Strings...)
			}
		} else {
			out.Raw = make([]byte, 0, size)
			for _, j := range batch {
				out.Raw = append(out.Raw, j.inputs[i].Raw...)
			}
		}
		joined[i] = out
	}
	return joined
}

func splittable(outputs []*oip.Tensor, rows int64) bool {
	for _, t := range outputs {
		if len(t.Shape) == 0 || t.Shape[0] != rows {
			return false
		}
	}
	return true
}

func pick(outputs []*oip.Tensor, idx []int) []*oip.Tensor {
	out := make([]*oip.Tensor, len(idx))
	for i, k := range idx {
		out[i] = outputs[k]
	}
	return out
}

// sliceRows returns rows [offset, offset+n) of the outputs at idx, sharing
// their memory (three allocations, whatever the number of outputs).
func sliceRows(outputs []*oip.Tensor, idx []int, offset, n int64) []*oip.Tensor {
	out := make([]*oip.Tensor, len(idx))
	views := make([]oip.Tensor, len(idx))
	dims := 0
	for _, k := range idx {
		dims += len(outputs[k].Shape)
	}
	shapes := make([]int64, 0, dims)
	for i, k := range idx {
		t := outputs[k]
		s := &views[i]
		*s = oip.Tensor{Name: t.Name, Datatype: t.Datatype, Parameters: t.Parameters}
		shapes = append(shapes, n)
		shapes = append(shapes, t.Shape[1:]...)
		s.Shape = shapes[len(shapes)-len(t.Shape) : len(shapes) : len(shapes)]
		per := int64(1)
		for _, d := range t.Shape[1:] {
			per *= d
		}
		if t.Datatype == oip.Bytes {
			s.Strings = t.Strings[offset*per : (offset+n)*per]
		} else {
			size := per * int64(t.Datatype.Size())
			s.Raw = t.Raw[offset*size : (offset+n)*size]
		}
		out[i] = s
	}
	return out
}
