package runtime

import (
	"fmt"

	"github.com/kilnml/kiln/pkg/oip"
	"github.com/kilnml/kiln/pkg/onnx"
)

// maxDefaultBytes bounds the initializers a request may override: larger
// ones (the weights that old exporters also list as inputs) stay constants.
const maxDefaultBytes = 64 << 10

// Names of the values that adapt adds to a graph.
const (
	suffix1D        = "__kiln_1d"
	suffixFlat      = "__kiln_flat"
	suffixShape     = "__kiln_shape"
	suffixFP32      = "__kiln_fp32"
	suffixHas       = "__kiln_has"
	suffixValue     = "__kiln_value"
	suffixPresent   = "__kiln_present"
	suffixStacked   = "__kiln_stacked"
	shapeScalar     = "kiln__shape_scalar" // int64 [0]: Reshape to []
	shapeOne        = "kiln__shape_one"    // int64 [1] = {1}: Reshape to [1]
	shapeFlat       = "kiln__shape_flat"   // int64 [1] = {-1}: Reshape to [N]
	placeholderName = "kiln__placeholder"
	fallbackLocale  = "C.UTF-8"
)

// input is one input a request may give, and how the session takes it.
type input struct {
	onnx.ValueInfo
	// value is the session input that receives the tensor; present, when
	// not -1, the bool [1] session input that says whether an optional
	// input was given.
	value, present int
	// scalar inputs are fed as [1] and reshaped to [] inside the graph.
	scalar bool
	// def is the initializer's value for an input a request may omit.
	def *oip.Tensor
}

// output is one model output and where the session returns it.
type output struct {
	onnx.ValueInfo
	value int // session output with the data
	// shape, when not -1, is the session output holding the true shape of
	// a value returned flattened (its rank is unknown until it runs); for a
	// sequence, a sequence of the shapes of its flattened elements.
	shape int
	// has, when not -1, is the bool [1] session output that says whether an
	// optional output holds a value.
	has int
	// scalar values come back as [1] and are reported as [].
	scalar bool
	// half is FP16 or BF16 for outputs the session returns as FP32.
	half oip.Datatype
}

// plan is a model rewritten so that every value crossing the session
// boundary is one that onnxruntime_go can carry: tensors of rank 1 or more,
// at least one input, no optional values, no 16-bit float outputs. Models
// that need none of it run unchanged.
type plan struct {
	data          []byte
	inputs        []input
	outputs       []output
	sessionInputs []string
	// sessionOutputs are the names the session returns, in order.
	sessionOutputs []string
	placeholder    bool // the graph has no input of its own: feed kiln__placeholder
}

// adapt plans the rewrite of info's graph (whose bytes are data).
func adapt(info *onnx.Model, data []byte, localeAvailable func(string) bool) (*plan, error) {
	p := &plan{}
	b := info.Edit()
	changed := false
	constants := map[string]bool{}
	constant := func(name string, data []int64) {
		if !constants[name] {
			constants[name] = true
			b.Initializer(name, onnx.Int64, []int64{int64(len(data))}, data)
		}
	}
	needsOpset := func(what string, version int64) error {
		if v := b.ImportsOpset(""); v < version {
			return fmt.Errorf("%s needs opset %d of the default domain; the model imports %d", what, version, v)
		}
		return nil
	}
	if b.ImportsOpset("") == 0 {
		b.Opset("", 13) // a graph of ai.onnx.ml operators only: the added nodes need the default domain
	}

	addInput := func(vi onnx.ValueInfo, def *oip.Tensor) error {
		in := input{ValueInfo: vi, present: -1, def: def}
		name, t := vi.Name, vi.Type
		switch {
		case t.Kind == onnx.KindOptional && t.Value.IsTensor() && b.ImportsOpset("") >= 16:
			value, present := name+suffixValue, name+suffixPresent
			elem := onnx.TensorType(t.Value.Elem)
			b.RemoveInput(name).
				Input(value, elem).
				Input(present, onnx.TensorType(onnx.Bool, 1)).
				Node("If", []string{present}, []string{name},
					onnx.AttrGraph("then_branch", onnx.NewBuilder("given").
						Node("Optional", []string{value}, []string{name + "__kiln_given"}).
						Output(name+"__kiln_given", t)),
					onnx.AttrGraph("else_branch", onnx.NewBuilder("omitted").
						Node("Optional", nil, []string{name + "__kiln_omitted"}, onnx.AttrType("type", elem)).
						Output(name+"__kiln_omitted", t)))
			in.value, in.present = len(p.sessionInputs), len(p.sessionInputs)+1
			p.sessionInputs = append(p.sessionInputs, value, present)
			changed = true
		case t.Kind == onnx.KindSequence && t.Value.IsTensor() && b.ImportsOpset("") >= 11:
			// A sequence arrives stacked, [N, ...element shape], and is split
			// back into its N elements inside the graph.
			stacked := name + suffixStacked
			b.RemoveInput(name).
				Input(stacked, onnx.TensorType(t.Value.Elem)).
				Node("SplitToSequence", []string{stacked}, []string{name}, onnx.AttrInt("axis", 0), onnx.AttrInt("keepdims", 0))
			in.value = len(p.sessionInputs)
			p.sessionInputs = append(p.sessionInputs, stacked)
			changed = true
		case t.IsTensor() && t.Shape != nil && len(t.Shape) == 0:
			if err := needsOpset("a scalar input", 5); err != nil {
				return fmt.Errorf("input %q: %w", name, err)
			}
			constant(shapeScalar, []int64{})
			b.RemoveInput(name).RemoveInitializer(name).
				Input(name+suffix1D, onnx.TensorType(t.Elem, 1)).
				Node("Reshape", []string{name + suffix1D, shapeScalar}, []string{name})
			in.scalar = true
			in.value = len(p.sessionInputs)
			p.sessionInputs = append(p.sessionInputs, name+suffix1D)
			changed = true
		default:
			in.value = len(p.sessionInputs)
			p.sessionInputs = append(p.sessionInputs, name)
		}
		p.inputs = append(p.inputs, in)
		return nil
	}
	for _, vi := range info.Inputs {
		if err := addInput(vi, nil); err != nil {
			return nil, err
		}
	}
	for _, d := range info.Defaults(maxDefaultBytes) {
		if err := addInput(d.ValueInfo, d.Value); err != nil {
			return nil, err
		}
	}
	if len(p.sessionInputs) == 0 {
		b.Input(placeholderName, onnx.TensorType(onnx.Float, 1))
		p.sessionInputs = []string{placeholderName}
		p.placeholder = true
		changed = true
	}

	for _, vi := range info.Outputs {
		out := output{ValueInfo: vi, shape: -1, has: -1}
		name, t := vi.Name, vi.Type
		if t.Kind == onnx.KindOptional && t.Value.IsTensor() {
			has, value := name+suffixHas, name+suffixValue
			constant(shapeOne, []int64{1})
			elem := *t.Value
			b.RemoveOutput(name).
				Node("OptionalHasElement", []string{name}, []string{has + "__kiln_scalar"}).
				Node("Reshape", []string{has + "__kiln_scalar", shapeOne}, []string{has}).
				Output(has, onnx.TensorType(onnx.Bool, 1)).
				Node("If", []string{has}, []string{value},
					onnx.AttrGraph("then_branch", onnx.NewBuilder("held").
						Node("OptionalGetElement", []string{name}, []string{name + "__kiln_held"}).
						Output(name+"__kiln_held", onnx.TensorType(elem.Elem))),
					onnx.AttrGraph("else_branch", onnx.NewBuilder("none").
						Node("Constant", nil, []string{name + "__kiln_none"}, onnx.AttrTensor("value", elem.Elem, []int64{0}, nil)).
						Output(name+"__kiln_none", onnx.TensorType(elem.Elem))))
			out.has = len(p.sessionOutputs)
			p.sessionOutputs = append(p.sessionOutputs, has)
			// The value's rank is known only when it holds one: return it flattened.
			name, t = value, onnx.Type{Kind: onnx.KindTensor, Elem: elem.Elem}
			b.Output(name, t)
			changed = true
		}
		if t.Kind == onnx.KindSequence && t.Value.IsTensor() && b.ImportsOpset("") >= 17 && awkward(*t.Value) {
			// Elements that are scalars, of unknown rank or 16-bit floats:
			// each leaves flattened (as FP32), with its shape beside it.
			elem := t.Value.Elem
			body := onnx.NewBuilder("flatten").Input("e", onnx.TensorType(elem))
			flatIn := "e"
			if elem == onnx.Float16 || elem == onnx.BFloat16 {
				out.half = elem.OIP()
				body.Node("Cast", []string{"e"}, []string{"wide"}, onnx.AttrInt("to", int64(onnx.Float)))
				flatIn, elem = "wide", onnx.Float
			}
			body.Initializer("flat", onnx.Int64, []int64{1}, []int64{-1}).
				Node("Reshape", []string{flatIn, "flat"}, []string{"values"}).
				Node("Shape", []string{"e"}, []string{"shape"}).
				Output("values", onnx.TensorType(elem, -1)).
				Output("shape", onnx.TensorType(onnx.Int64, -1))
			b.RemoveOutput(name).
				Node("SequenceMap", []string{name}, []string{name + suffixFlat, name + suffixShape}, onnx.AttrGraph("body", body)).
				Output(name+suffixFlat, onnx.SequenceType(onnx.TensorType(elem, -1))).
				Output(name+suffixShape, onnx.SequenceType(onnx.TensorType(onnx.Int64, -1)))
			out.shape = len(p.sessionOutputs)
			p.sessionOutputs = append(p.sessionOutputs, name+suffixShape)
			name = name + suffixFlat
			changed = true
		}
		if !t.IsTensor() {
			out.value = len(p.sessionOutputs)
			p.sessionOutputs = append(p.sessionOutputs, name)
			p.outputs = append(p.outputs, out)
			continue
		}
		if t.Elem == onnx.Float16 || t.Elem == onnx.BFloat16 {
			// onnxruntime_go v1.27.0 copies only half the bytes of the 16-bit
			// float outputs it allocates; both widen to FP32 and back exactly.
			out.half = t.Elem.OIP()
			b.RemoveOutput(name).
				Node("Cast", []string{name}, []string{name + suffixFP32}, onnx.AttrInt("to", int64(onnx.Float)))
			name, t.Elem = name+suffixFP32, onnx.Float
			b.Output(name, t)
			changed = true
		}
		switch {
		case t.Shape == nil:
			constant(shapeFlat, []int64{-1})
			b.RemoveOutput(name).
				Node("Reshape", []string{name, shapeFlat}, []string{name + suffixFlat}).
				Node("Shape", []string{name}, []string{name + suffixShape}).
				Output(name+suffixFlat, onnx.TensorType(t.Elem, -1)).
				Output(name+suffixShape, onnx.TensorType(onnx.Int64, -1))
			out.shape = len(p.sessionOutputs)
			p.sessionOutputs = append(p.sessionOutputs, name+suffixShape)
			name = name + suffixFlat
			changed = true
		case len(t.Shape) == 0:
			constant(shapeOne, []int64{1})
			b.RemoveOutput(name).
				Node("Reshape", []string{name, shapeOne}, []string{name + suffix1D}).
				Output(name+suffix1D, onnx.TensorType(t.Elem, 1))
			out.scalar = true
			name = name + suffix1D
			changed = true
		}
		out.value = len(p.sessionOutputs)
		p.sessionOutputs = append(p.sessionOutputs, name)
		p.outputs = append(p.outputs, out)
	}

	// StringNormalizer builds a C++ locale, en_US.UTF-8 unless told; where
	// that locale is not installed the session cannot even be created.
	if localeAvailable != nil {
		b.SetNodeAttr("StringNormalizer", "locale", fallbackLocale, func(current string, present bool) bool {
			if !present {
				current = "en_US.UTF-8"
			}
			if localeAvailable(current) {
				return true
			}
			changed = true
			return false
		})
	}
	if !changed {
		p.data = data
		return p, nil
	}
	var err error
	if p.data, err = b.Bytes(); err != nil {
		return nil, fmt.Errorf("rewrite graph: %w", err)
	}
	return p, nil
}

// awkward reports whether onnxruntime_go cannot hand back sequence elements
// of type t as they are: scalars (it refuses rank 0), tensors of unknown rank
// (they may be scalars), and 16-bit floats (it copies half their bytes).
func awkward(t onnx.Type) bool {
	return t.Shape == nil || len(t.Shape) == 0 || t.Elem == onnx.Float16 || t.Elem == onnx.BFloat16
}
