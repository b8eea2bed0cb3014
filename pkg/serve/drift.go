package serve

import (
	"fmt"
	"os"
	"sync/atomic"
	"time"

	"github.com/kilnml/kiln/pkg/drift"
	"github.com/kilnml/kiln/pkg/oip"
)

// DriftConfig sets up drift monitoring for a model (the "drift" key of the
// settings file). Monitoring runs when the served version has a reference
// profile: its own from the registry, or Profile for a local model.
type DriftConfig struct {
	// Enabled turns monitoring off with false; default on.
	Enabled *bool `yaml:"enabled"`
	// profile is a reference profile file (kiln profile) for a model served
	// from a local file; registry versions carry their own.
	Profile string `yaml:"profile"`
	// QueueSize is how many answered requests may wait to be added to the
	// window (it is drained 10ms after its first request); beyond it their
	// rows are dropped and counted. Default 4096.
	QueueSize int `yaml:"queue_size"`
	// Window, tests and thresholds: see drift.Config.
	drift.Config `yaml:",inline"`
}

func (c DriftConfig) enabled() bool { return c.Enabled == nil || *c.Enabled }

// loadProfile reads the configured local profile, if any.
func (c DriftConfig) loadProfile() (*drift.Profile, error) {
	if c.Profile == "" || !c.enabled() {
		return nil, nil
	}
	data, err := os.ReadFile(c.Profile)
	if err != nil {
		return nil, fmt.Errorf("drift profile: %w", err)
	}
	p, err := drift.ParseProfile(data)
	if err != nil {
		return nil, fmt.Errorf("drift profile %s: %w", c.Profile, err)
	}
	return p, nil
}

// observation is one answered request waiting to join the drift window.
type observation struct {
	at              time.Time
	inputs, outputs []*oip.Tensor
}

// driftRecorder feeds one version's answered requests into its drift
// monitor on a goroutine of its own, off the request path, and keeps the
// latest report.
type driftRecorder struct {
	model, version string
	monitor        *drift.Monitor
	columns        drift.Columns // used by run's goroutine only
	features       []string
	queue          chan observation
	// scheduled is set while a drain is due; wake tells run to do it.
	scheduled  atomic.Bool
	wake       chan struct{}
	metrics    *Metrics
	latest     atomic.Pointer[drift.Report]
	dropped    atomic.Int64
	stop, done chan struct{}
}

func newDriftRecorder(model, version string, p *drift.Profile, cfg DriftConfig, m *Metrics) (*driftRecorder, error) {
	monitor, err := drift.NewMonitor(p, cfg.Config)
	if err != nil {
		return nil, err
	}
	size := cfg.QueueSize
	if size <= 0 {
		size = 4096
	}
	d := &driftRecorder{
		model: model, version: version, monitor: monitor, metrics: m,
		queue: make(chan observation, size), wake: make(chan struct{}, 1),
		stop: make(chan struct{}), done: make(chan struct{}),
	}
	for _, f := range p.Features {
		d.features = append(d.features, f.Name)
	}
	go d.run()
	return d, nil
}

// observe queues an answered request without waiting; a full queue drops
// it. The first request queued since the last drain schedules the next.
func (d *driftRecorder) observe(inputs, outputs []*oip.Tensor) {
	select {
	case d.queue <- observation{at: time.Now(), inputs: inputs, outputs: outputs}:
		if !d.scheduled.Load() && !d.scheduled.Swap(true) {
			select {
			case d.wake <- struct{}{}:
			default: // a wake is already pending
			}
		}
	default:
		rows := int64(1)
		if len(inputs) > 0 && len(inputs[0].Shape) > 0 {
			rows = inputs[0].Shape[0]
		}
		d.dropped.Add(rows)
		d.metrics.driftDropped.WithLabelValues(d.model, d.version).Add(float64(rows))
	}
}

// drainDelay is how long the recorder lets requests gather before it takes
// them: waking it per request would cost the request path more than the
// monitoring does. An idle recorder only wakes each second, for windows
// due by time.
const drainDelay = 10 * time.Millisecond

func (d *driftRecorder) run() {
	defer close(d.done)
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	gather := time.NewTimer(drainDelay)
	gather.Stop() // started by the first wake
	for {
		select {
		case <-d.wake:
			gather.Reset(drainDelay)
		case <-gather.C:
			d.scheduled.Store(false) // requests queued from now on schedule the next drain
			d.drain()
		case now := <-tick.C:
			d.flush(now) // a window due by time
		case <-d.stop:
			return
		}
	}
}

// drain adds every queued request, closing windows as they fill.
func (d *driftRecorder) drain() {
	for {
		select {
		case o := <-d.queue:
			d.add(o)
			d.flush(o.at)
		default:
			return
		}
	}
}

// add puts a request's rows into the monitor's window.
func (d *driftRecorder) add(o observation) {
	if inputs, outputs, err := d.columns.Of(o.inputs, o.outputs, d.features); err == nil {
		d.monitor.Observe(o.at, inputs, outputs)
	}
}

func (d *driftRecorder) flush(now time.Time) {
	if r, ok := d.monitor.Flush(now); ok {
		d.latest.Store(r)
		d.metrics.driftReport(d.model, d.version, r)
	}
}

// close stops the recorder; rows still queued are not added.
func (d *driftRecorder) close() {
	close(d.stop)
	<-d.done
}

// DriftStatus is what GET /v2/models/{m}/drift answers.
type DriftStatus struct {
	Model   string `json:"model"`
	Version string `json:"version"`
	// WindowRows is the number of rows in the open window.
	WindowRows int `json:"window_rows"`
	// DroppedRows counts rows not monitored because the queue was full.
	DroppedRows int64 `json:"dropped_rows"`
	// Report is the latest closed window's report, reference against
	// current per feature and output; null before the first window closes.
	Report *drift.Report `json:"report"`
}

func (d *driftRecorder) status() DriftStatus {
	return DriftStatus{Model: d.model, Version: d.version, WindowRows: d.monitor.Rows(), DroppedRows: d.dropped.Load(), Report: d.latest.Load()}
}
