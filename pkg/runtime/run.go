package runtime

import (
	"context"
	"fmt"
	"reflect"

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

	var err error
	in := make([]ort.Value, len(ordered))
	defer destroyAll(in)
	for i, t := range ordered {
		if in[i], err = newValue(t); err != nil {
			return nil, fmt.Errorf("input %q: %w", t.Name, err)
		}
	}
	out := make([]ort.Value, len(m.outputNames))
	defer destroyAll(out)
	if err := m.runSession(ctx, in, out); err != nil {
		return nil, err
	}
	result := make([]*oip.Tensor, len(selected))
	for i, idx := range selected {
		if result[i], err = toTensor(m.outputNames[idx], out[idx]); err != nil {
			return nil, fmt.Errorf("output %q: %w", m.outputNames[idx], err)
		}
		if dt, ok := m.halfOutputs[idx]; ok {
			narrow(result[i], dt)
		}
	}
	return result, nil
}

// runSession runs the session, stopping it early when ctx is cancelled.
func (m *Model) runSession(ctx context.Context, in, out []ort.Value) error {
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
	if err := m.session.RunWithOptions(in, out, opts); err != nil {
		if ctxErr := ctx.Err(); ctxErr != nil {
			return ctxErr
		}
		return fmt.Errorf("onnxruntime: %w", err)
	}
	return nil
}

// selectOutputs maps requested output names to indexes into m.outputNames.
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

// narrow turns an FP32 tensor into FP16 or BF16 bit patterns.
func narrow(t *oip.Tensor, dt oip.Datatype) {
	wide, _ := oip.Values[float32](t)
	convert := oip.Float32ToFloat16
	if dt == oip.BF16 {
		convert = oip.Float32ToBFloat16
	}
	bits := make([]uint16, len(wide))
	for i, f := range wide {
		bits[i] = convert(f)
	}
	*t = *oip.NewTensor(t.Name, t.Shape, bits)
	t.Datatype = dt
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
