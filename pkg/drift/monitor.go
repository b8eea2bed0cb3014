package drift

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"
)

// Monitor accumulates the live rows of one model version in windows and
// tests each closed window against the version's reference profile. It is
// safe for concurrent use; Observe costs a few map lookups and arithmetic
// per value, so feed it off the request path.
type Monitor struct {
	mu      sync.Mutex
	profile *Profile
	cfg     Config
	inputs  []*window
	outputs []*window
	rng     *rand.Rand
	rows    int
	start   time.Time
}

// NewMonitor returns a monitor comparing live rows with profile p. It fails
// on an invalid profile or configuration.
func NewMonitor(p *Profile, cfg Config) (*Monitor, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	m := &Monitor{profile: p, cfg: cfg, rng: rand.New(rand.NewPCG(1, 0x6472696674))}
	if m.inputs, err = m.windows(p.Features); err != nil {
		return nil, err
	}
	if m.outputs, err = m.windows(p.Outputs); err != nil {
		return nil, err
	}
	return m, nil
}

func (m *Monitor) windows(fs []FeatureProfile) ([]*window, error) {
	ws := make([]*window, len(fs))
	for i := range fs {
		method, err := m.cfg.methodFor(&fs[i], m.profile.Rows)
		if err != nil {
			return nil, err
		}
		ws[i] = newWindow(&fs[i], method, m.cfg.Thresholds[method.name])
	}
	return ws, nil
}

// Observe adds one batch of rows to the current window: inputs holds the
// feature columns and outputs the model output columns (see TensorColumns),
// matched to the profile by name; columns the profile lacks are ignored and
// profile columns the batch lacks count as missing. now is when the rows
// were served; the first row of a window starts it. A column of the wrong
// length rejects the whole batch; text where the profile has numbers
// counts as missing, and Observe reports it after taking the rest.
func (m *Monitor) Observe(now time.Time, inputs, outputs []Column) error {
	n := -1
	for _, cols := range [][]Column{inputs, outputs} {
		for i := range cols {
			if n < 0 {
				n = cols[i].Len()
			}
			if cols[i].Len() != n {
				return fmt.Errorf("drift: column %q has %d rows, want %d like the others", cols[i].Name, cols[i].Len(), n)
			}
		}
	}
	if n <= 0 {
		return nil
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.rows == 0 {
		m.start = now
	}
	m.rows += n
	return errors.Join(m.add(m.inputs, inputs, n), m.add(m.outputs, outputs, n))
}

func (m *Monitor) add(ws []*window, cols []Column, n int) error {
	var errs []error
	for _, w := range ws {
		var col *Column
		for i := range cols {
			if cols[i].Name == w.ref.Name {
				col = &cols[i]
				break
			}
		}
		if err := w.add(col, n, &m.cfg, m.rng); err != nil {
			errs = append(errs, fmt.Errorf("drift: %w", err))
		}
	}
	return errors.Join(errs...)
}

// Rows is the number of rows in the open window.
func (m *Monitor) Rows() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.rows
}

// Flush closes the window and returns its report when it is due: it holds
// WindowRows rows, or WindowTime has passed since its first row and it
// holds MinRows. Otherwise it returns false and the window stays open.
func (m *Monitor) Flush(now time.Time) (*Report, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	due := m.rows >= m.cfg.WindowRows ||
		(m.cfg.WindowTime > 0 && m.rows >= m.cfg.MinRows && now.Sub(m.start) >= m.cfg.WindowTime)
	if !due {
		return nil, false
	}
	r := &Report{WindowStart: m.start, WindowEnd: now, Rows: m.rows}
	tested := 0
	for _, w := range m.inputs {
		res := w.compare()
		r.Features = append(r.Features, res)
		if res.Tested {
			tested++
		}
		if res.Drift {
			r.DriftedFeatures++
		}
	}
	for _, w := range m.outputs {
		r.Outputs = append(r.Outputs, w.compare())
	}
	if tested > 0 {
		r.DriftShare = float64(r.DriftedFeatures) / float64(tested)
	}
	r.DatasetDrift = tested > 0 && r.DriftShare >= m.cfg.DriftShare
	for _, ws := range [][]*window{m.inputs, m.outputs} {
		for _, w := range ws {
			w.reset()
		}
	}
	m.rows = 0
	return r, true
}
