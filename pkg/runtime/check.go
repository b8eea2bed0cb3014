package runtime

import (
	"errors"
	"fmt"
	"strings"

	"github.com/kilnml/kiln/pkg/oip"
	"github.com/kilnml/kiln/pkg/onnx"
)

// ErrInvalidInput is wrapped by every error about inputs or requested outputs
// that do not fit the model's signature; the caller sent something wrong.
var ErrInvalidInput = errors.New("invalid input")

type inputError struct{ msg string }

func (e *inputError) Error() string        { return e.msg }
func (e *inputError) Is(target error) bool { return target == ErrInvalidInput }

func invalidInput(format string, args ...any) error {
	return &inputError{msg: fmt.Sprintf(format, args...)}
}

// orderInputs checks inputs against the model's signature and returns them
// in the order of m.plan.inputs, nil for inputs left to their default.
func (m *Model) orderInputs(inputs []*oip.Tensor) ([]*oip.Tensor, error) {
	specs := m.plan.inputs
	ordered := make([]*oip.Tensor, len(specs))
	for _, t := range inputs {
		i := indexOfInput(specs, t.Name)
		if i < 0 {
			return nil, invalidInput("unknown input %q; the model's inputs are %s", t.Name, listNames(m.Info.Inputs))
		}
		if ordered[i] != nil {
			return nil, invalidInput("input %q is given twice", t.Name)
		}
		if err := checkTensor(t, specs[i].Type); err != nil {
			return nil, err
		}
		ordered[i] = t
	}
	for i, t := range ordered {
		spec := specs[i]
		if t == nil && spec.def == nil && spec.present < 0 {
			return nil, invalidInput("missing input %q (%s)", spec.Name, spec.Type)
		}
	}
	return ordered, nil
}

// checkTensor checks one tensor's datatype and shape against the type the model expects.
func checkTensor(t *oip.Tensor, want onnx.Type) error {
	switch {
	case want.Kind == onnx.KindOptional && want.Value.IsTensor():
		want = *want.Value
	case want.Kind == onnx.KindSequence && want.Value.IsTensor():
		// Sent stacked: one more dimension, of any size, before the element's.
		elem := *want.Value
		want = onnx.Type{Kind: onnx.KindTensor, Elem: elem.Elem}
		if elem.Shape != nil {
			want.Shape = append([]onnx.Dim{{Size: -1}}, elem.Shape...)
		}
	}
	if !want.IsTensor() {
		return invalidInput("input %q: the model expects %s; only tensor inputs are supported", t.Name, want)
	}
	if wantDT := want.Elem.OIP(); t.Datatype != wantDT {
		return invalidInput("input %q: datatype %s, the model expects %s", t.Name, t.Datatype, wantDT)
	}
	if want.Shape != nil && len(want.Shape) == 0 && len(t.Shape) != 0 {
		return invalidInput("input %q is a scalar: send shape [] (one value), not %s", t.Name, formatDims(t.Shape))
	}
	if want.Shape != nil && !shapeFits(t.Shape, want.Shape) {
		return invalidInput("input %q: shape %s does not fit the model's %s", t.Name, formatDims(t.Shape), formatDims(want.Dims()))
	}
	if err := t.Validate(); err != nil {
		return &inputError{msg: err.Error()}
	}
	return nil
}

func shapeFits(got []int64, want []onnx.Dim) bool {
	if len(got) != len(want) {
		return false
	}
	for i, d := range want {
		if !d.Dynamic() && got[i] != d.Size {
			return false
		}
	}
	return true
}

func formatDims(dims []int64) string {
	parts := make([]string, len(dims))
	for i, d := range dims {
		parts[i] = fmt.Sprint(d)
	}
	return "[" + strings.Join(parts, ",") + "]"
}

func indexOfInput(specs []input, name string) int {
	for i, s := range specs {
		if s.Name == name {
			return i
		}
	}
	return -1
}

func indexOf(vs []onnx.ValueInfo, name string) int {
	for i, v := range vs {
		if v.Name == name {
			return i
		}
	}
	return -1
}

func listNames(vs []onnx.ValueInfo) string {
	names := make([]string, len(vs))
	for i, v := range vs {
		names[i] = fmt.Sprintf("%q", v.Name)
	}
	return strings.Join(names, ", ")
}
