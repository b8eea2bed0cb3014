package runtime

import (
	"context"
	"fmt"
	"reflect"
	"time"

	ort "github.com/yalue/onnxruntime_go"

	"github.com/kilnml/kiln/pkg/oip"
)

// Run evaluates the model on inputs (every model input, by name, in any
// order) and returns the named outputs in the order asked, or every output
// in the model's order when outputs is empty. Inputs that do not fit the
// signature fail with ErrInvalidInput before ONNX Runtime sees them.
func (m *Model) Run(ctx context.Context, inputs []*oip.Tensor, outputs []string) ([]*oip.Tensor, error) {
	ordered, err := m.orderInputs(inputs)
	if err != nil {
		return nil, err
	}
	selected, err := m.selectOutputs(outputs)
	if err != nil {
		return nil, err
	}
	return m.run(ctx, ordered, selected)
}

// run evaluates checked inputs, in model order, and returns the outputs at
// the selected indexes (every output when selected is nil).
func (m *Model) run(ctx context.Context, ordered []*oip.Tensor, selected []int) ([]*oip.Tensor, error) {
	if selected == nil {
		selected = m.allOutputs
	}
	m.lifetime.RLock()
	defer m.lifetime.RUnlock()
	if m.closed {
		return nil, ErrClosed
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}

	in := make([]ort.Value, len(m.plan.sessionInputs))
	owned := make([]ort.Value, 0, len(ordered))
	defer func() { destroyAll(owned) }()
	for i, spec := range m.plan.inputs {
		t := ordered[i]
		if t == nil {
			in[spec.value] = m.constants.omitted[i]
			if spec.present >= 0 {
				in[spec.present] = m.constants.notGiven
			}
			continue
		}
		v, err := newValue(t, spec.scalar)
		if err != nil {
			return nil, fmt.Errorf("input %q: %w", t.Name, err)
		}
		owned = append(owned, v)
		in[spec.value] = v
		if spec.present >= 0 {
			in[spec.present] = m.constants.given
		}
	}
	if m.plan.placeholder {
		in[0] = m.constants.placeholder
	}
	out := make([]ort.Value, len(m.plan.sessionOutputs))
	defer destroyAll(out)
	given := m.preallocate(ordered, out)
	session, start := m.pickSession()
	err := runSession(ctx, session, in, out)
	if err != nil && given && ctx.Err() == nil {
		// The outputs were not [rows, ...] after all: let ONNX Runtime
		// allocate them, and do so from now on if that works.
		destroyAll(out)
		clear(out)
		if err = runSession(ctx, session, in, out); err == nil {
			m.noPreallocation.Store(true)
		}
	}
	m.ranSession(start)
	if err != nil {
		return nil, err
	}
	result := make([]*oip.Tensor, len(selected))
	for i, idx := range selected {
		var err error
		if result[i], err = m.plan.outputs[idx].tensor(out); err != nil {
			return nil, fmt.Errorf("output %q: %w", m.plan.outputs[idx].Name, err)
		}
	}
	return result, nil
}

// preallocate gives ONNX Runtime Go buffers to write the [rows, ...]
// outputs into, rows being the first dimension every input shares (it
// saves onnxruntime_go's copy of each output and its cgo calls), and
// reports whether it gave any.
func (m *Model) preallocate(ordered []*oip.Tensor, out []ort.Value) bool {
	if m.noPreallocation.Load() || len(ordered) == 0 {
		return false
	}
	rows := int64(-1)
	for _, t := range ordered {
		if t == nil || len(t.Shape) == 0 || (rows >= 0 && t.Shape[0] != rows) {
			return false
		}
		rows = t.Shape[0]
	}
	given := false
	for _, o := range m.plan.outputs {
		if o.rowWidth == 0 {
			continue
		}
		dt := o.Type.Elem
		buf := make([]byte, int(rows)*o.rowWidth*dt.OIP().Size())
		if len(buf) == 0 {
			buf = oneByte[:1:1] // onnxruntime_go wants a byte; ORT writes none
		}
		v, err := ort.NewCustomDataTensor(append(ort.Shape{rows}, o.rowShape...), buf, ort.TensorElementDataType(dt))
		if err != nil {
			continue
		}
		out[o.value] = v
		given = true
	}
	return given
}

// costlyRun is the Run time, on one thread, from which a Run gains from
// more threads: below it, handing parts of a Run to other threads costs
// more than it saves (the example classifier's Run is 7 µs; an image model's
// is milliseconds).
const costlyRun = 500 * time.Microsecond

// pickSession chooses the session for a Run: the wide one when the model has
// one, its Runs are costly and no other Run is in flight (a Run alone may use
// every core; concurrent Runs keep to their own). It returns the time to
// pass to ranSession, which counts the Run out: its start when the Run's
// one-thread time is to be kept. The first costly Run alone starts making
// the wide session; until it is there, Runs keep to one thread.
func (m *Model) pickSession() (*ort.DynamicAdvancedSession, time.Time) {
	if m.wideSpec.threads == 0 {
		return m.session, time.Time{}
	}
	alone := m.running.Add(1) == 1
	if alone && m.narrowRun.get() >= costlyRun {
		if wide := m.wide.Load(); wide != nil {
			return wide, time.Time{}
		}
		m.wideOnce.Do(m.makeWide)
	}
	return m.session, time.Now()
}

// makeWide makes the wide session in the background. Should that fail (for
// want of memory, say), Runs keep to one thread.
func (m *Model) makeWide() {
	m.makingWide.Add(1)
	go func() {
		defer m.makingWide.Done()
		if wide, err := m.wideSpec.newSession(m.plan); err == nil {
			m.wide.Store(wide)
		}
	}()
}

// ranSession counts out a Run that pickSession placed, keeping the moving
// average of one-thread Runs when start is not zero.
func (m *Model) ranSession(start time.Time) {
	if m.wideSpec.threads == 0 {
		return
	}
	m.running.Add(-1)
	if start.IsZero() {
		return
	}
	m.narrowRun.add(time.Since(start))
}

// runSession runs session, stopping it early when ctx is cancelled.
func runSession(ctx context.Context, session *ort.DynamicAdvancedSession, in, out []ort.Value) error {
	var opts *ort.RunOptions
	if ctx.Done() != nil {
		var err error
		if opts, err = ort.NewRunOptions(); err != nil {
			return err
		}
		defer opts.Destroy()
		stop := context.AfterFunc(ctx, func() { opts.Terminate() })
		defer stop()
	}
	if err := session.RunWithOptions(in, out, opts); err != nil {
		if ctxErr := ctx.Err(); ctxErr != nil {
			return ctxErr
		}
		return fmt.Errorf("onnxruntime: %w", err)
	}
	return nil
}

// selectOutputs maps requested output names to indexes into the model's outputs.
func (m *Model) selectOutputs(names []string) ([]int, error) {
	if len(names) == 0 {
		return m.allOutputs, nil
	}
	idx := make([]int, len(names))
	for i, name := range names {
		idx[i] = indexOf(m.Info.Outputs, name)
		if idx[i] < 0 {
			return nil, invalidInput("unknown output %q; the model's outputs are %s", name, listNames(m.Info.Outputs))
		}
	}
	return idx, nil
}

// destroyAll destroys every value; a value may be a typed nil pointer when
// onnxruntime_go failed to convert an output.
func destroyAll(values []ort.Value) {
	for _, v := range values {
		if v != nil && !reflect.ValueOf(v).IsNil() {
			v.Destroy()
		}
	}
}
