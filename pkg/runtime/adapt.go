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
	shapeScalar     = "kiln__shape_scalar" // {}: Reshape to []
	shapeOne        = "kiln__shape_one"    // {1}: Reshape to [1]
	shapeFlat       = "kiln__shape_flat"   // {-1}: Reshape to [N]
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
	// rowWidth, when above zero, says the output is [N, fixed dims...] with
	// N the rows of the request and rowWidth elements a row, of rowShape:
	// Run can give ONNX Runtime the buffer to write it into.
	rowWidth int
	rowShape []int64
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

// adapt plans the rewrite of info's graph (whose bytes are data);
// localeAvailable, when not nil, says which C locales the machine has.
func adapt(info *onnx.Model, data []byte, localeAvailable func(string) bool) (*plan, error) {
	r := &rewriter{b: info.Edit(), constants: map[string]bool{}}
	if r.b.ImportsOpset("") == 0 {
		r.b.Opset("", 13) // a graph of ai.onnx.ml operators only: the added nodes need the default domain
	}
	for _, vi := range info.Inputs {
		if err := r.input(vi, nil); err != nil {
			return nil, err
		}
	}
	for _, d := range info.Defaults(maxDefaultBytes) {
		if err := r.input(d.ValueInfo, d.Value); err != nil {
			return nil, err
		}
	}
	if len(r.p.sessionInputs) == 0 {
		r.b.Input(placeholderName, onnx.TensorType(onnx.Float, 1))
		r.p.sessionInputs = []string{placeholderName}
		r.p.placeholder = true
		r.changed = true
	}
	for _, vi := range info.Outputs {
		if err := carriable(vi.Type); err != nil {
			return nil, fmt.Errorf("output %q: %w", vi.Name, err)
		}
		r.output(vi)
	}
	if localeAvailable != nil {
		r.locales(localeAvailable)
	}
	if !r.changed {
		r.p.data = data
		return &r.p, nil
	}
	var err error
	if r.p.data, err = r.b.Bytes(); err != nil {
		return nil, fmt.Errorf("rewrite graph: %w", err)
	}
	return &r.p, nil
}

// rewriter builds a plan and the graph edits it needs.
type rewriter struct {
	p         plan
	b         *onnx.Builder
	changed   bool
	constants map[string]bool // the shape initializers added so far
}

// shape adds, once, an int64 initializer holding dims.
func (r *rewriter) shape(name string, dims ...int64) string {
	if !r.constants[name] {
		r.constants[name] = true
		r.b.Initializer(name, onnx.Int64, []int64{int64(len(dims))}, dims)
	}
	return name
}

func (r *rewriter) sessionInput(name string) int {
	r.p.sessionInputs = append(r.p.sessionInputs, name)
	return len(r.p.sessionInputs) - 1
}

func (r *rewriter) sessionOutput(name string) int {
	r.p.sessionOutputs = append(r.p.sessionOutputs, name)
	return len(r.p.sessionOutputs) - 1
}

// input plans one input a request may give; def is its default, if any.
func (r *rewriter) input(vi onnx.ValueInfo, def *oip.Tensor) error {
	in := input{ValueInfo: vi, present: -1, def: def}
	name, t, b := vi.Name, vi.Type, r.b
	opset := b.ImportsOpset("")
	switch {
	case t.Kind == onnx.KindOptional && t.Value.IsTensor() && opset >= 16:
		// A value and a presence flag; If makes the optional of them.
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
		in.value, in.present = r.sessionInput(value), r.sessionInput(present)
		r.changed = true
	case t.Kind == onnx.KindSequence && t.Value.IsTensor() && opset >= 11:
		// A sequence arrives stacked, [N, ...element shape], and is split
		// back into its N elements inside the graph.
		stacked := name + suffixStacked
		b.RemoveInput(name).
			Input(stacked, onnx.TensorType(t.Value.Elem)).
			Node("SplitToSequence", []string{stacked}, []string{name}, onnx.AttrInt("axis", 0), onnx.AttrInt("keepdims", 0))
		in.value = r.sessionInput(stacked)
		r.changed = true
	case t.IsTensor() && t.Shape != nil && len(t.Shape) == 0:
		// A scalar arrives as [1] and is reshaped to [] inside the graph.
		if opset < 5 {
			return fmt.Errorf("input %q: a scalar input needs opset 5 of the default domain; the model imports %d", name, opset)
		}
		b.RemoveInput(name).RemoveInitializer(name).
			Input(name+suffix1D, onnx.TensorType(t.Elem, 1)).
			Node("Reshape", []string{name + suffix1D, r.shape(shapeScalar)}, []string{name})
		in.scalar = true
		in.value = r.sessionInput(name + suffix1D)
		r.changed = true
	default:
		in.value = r.sessionInput(name)
	}
	r.p.inputs = append(r.p.inputs, in)
	return nil
}

// output plans one model output: optionals become a presence flag and a
// value, awkward sequences and 16-bit floats are converted, and tensors of
// rank 0 or of unknown rank leave as [1] or flattened beside their shape.
func (r *rewriter) output(vi onnx.ValueInfo) {
	out := output{ValueInfo: vi, shape: -1, has: -1}
	name, t, b := vi.Name, vi.Type, r.b
	if t.Kind == onnx.KindOptional && t.Value.IsTensor() {
		has, value, elem := name+suffixHas, name+suffixValue, t.Value.Elem
		b.RemoveOutput(name).
			Node("OptionalHasElement", []string{name}, []string{has + "__kiln_scalar"}).
			Node("Reshape", []string{has + "__kiln_scalar", r.shape(shapeOne, 1)}, []string{has}).
			Output(has, onnx.TensorType(onnx.Bool, 1)).
			Node("If", []string{has}, []string{value},
				onnx.AttrGraph("then_branch", onnx.NewBuilder("held").
					Node("OptionalGetElement", []string{name}, []string{name + "__kiln_held"}).
					Output(name+"__kiln_held", onnx.TensorType(elem))),
				onnx.AttrGraph("else_branch", onnx.NewBuilder("none").
					Node("Constant", nil, []string{name + "__kiln_none"}, onnx.AttrTensor("value", elem, []int64{0}, nil)).
					Output(name+"__kiln_none", onnx.TensorType(elem))))
		out.has = r.sessionOutput(has)
		// The value's rank is known only when it holds one: below, it leaves flattened.
		name, t = value, onnx.TensorType(elem)
		b.Output(name, t)
		r.changed = true
	}
	if t.Kind == onnx.KindSequence && t.Value.IsTensor() && b.ImportsOpset("") >= 17 && awkward(*t.Value) {
		out.half = halfType(t.Value.Elem)
		out.shape = r.sessionOutput(name + suffixShape)
		name = r.flattenElements(name, t.Value.Elem)
	}
	if t.IsTensor() {
		if out.half = halfType(t.Elem); out.half != "" {
			// onnxruntime_go v1.27.0 copies only half the bytes of the 16-bit
			// float outputs it allocates; both widen to FP32 and back exactly.
			b.RemoveOutput(name).
				Node("Cast", []string{name}, []string{name + suffixFP32}, onnx.AttrInt("to", int64(onnx.Float)))
			name, t.Elem = name+suffixFP32, onnx.Float
			b.Output(name, t)
			r.changed = true
		}
		switch {
		case t.Shape == nil:
			b.RemoveOutput(name).
				Node("Reshape", []string{name, r.shape(shapeFlat, -1)}, []string{name + suffixFlat}).
				Node("Shape", []string{name}, []string{name + suffixShape}).
				Output(name+suffixFlat, onnx.TensorType(t.Elem, -1)).
				Output(name+suffixShape, onnx.TensorType(onnx.Int64, -1))
			out.shape = r.sessionOutput(name + suffixShape)
			name = name + suffixFlat
			r.changed = true
		case len(t.Shape) == 0:
			b.RemoveOutput(name).
				Node("Reshape", []string{name, r.shape(shapeOne, 1)}, []string{name + suffix1D}).
				Output(name+suffix1D, onnx.TensorType(t.Elem, 1))
			out.scalar = true
			name = name + suffix1D
			r.changed = true
		}
	}
	if name == vi.Name {
		out.rowWidth, out.rowShape = rowsOf(t)
	}
	out.value = r.sessionOutput(name)
	r.p.outputs = append(r.p.outputs, out)
}

// rowsOf says whether a tensor type is [N, fixed dims...] of a fixed-size
// element type, and then the elements of one row and the row's dims.
func rowsOf(t onnx.Type) (int, []int64) {
	if !t.IsTensor() || len(t.Shape) == 0 || !t.Shape[0].Dynamic() || t.Elem.OIP().Size() <= 0 {
		return 0, nil
	}
	width := 1
	dims := make([]int64, len(t.Shape)-1)
	for i, d := range t.Shape[1:] {
		if d.Dynamic() {
			return 0, nil
		}
		width *= int(d.Size)
		dims[i] = d.Size
	}
	return width, dims
}

// flattenElements replaces the sequence output name by two: name+suffixFlat,
// its elements flattened (16-bit floats widened to FP32), and
// name+suffixShape, their shapes. It returns the first.
func (r *rewriter) flattenElements(name string, elem onnx.DataType) string {
	body := onnx.NewBuilder("flatten").Input("e", onnx.TensorType(elem))
	values := "e"
	if halfType(elem) != "" {
		body.Node("Cast", []string{"e"}, []string{"wide"}, onnx.AttrInt("to", int64(onnx.Float)))
		values, elem = "wide", onnx.Float
	}
	body.Initializer("flat", onnx.Int64, []int64{1}, []int64{-1}).
		Node("Reshape", []string{values, "flat"}, []string{"values"}).
		Node("Shape", []string{"e"}, []string{"shape"}).
		Output("values", onnx.TensorType(elem, -1)).
		Output("shape", onnx.TensorType(onnx.Int64, -1))
	r.b.RemoveOutput(name).
		Node("SequenceMap", []string{name}, []string{name + suffixFlat, name + suffixShape}, onnx.AttrGraph("body", body)).
		Output(name+suffixFlat, onnx.SequenceType(onnx.TensorType(elem, -1))).
		Output(name+suffixShape, onnx.SequenceType(onnx.TensorType(onnx.Int64, -1)))
	r.changed = true
	return name + suffixFlat
}

// locales points StringNormalizer nodes whose locale (en_US.UTF-8 unless
// told) the machine lacks at C.UTF-8: ONNX Runtime builds the locale when
// it creates the session, and fails there without it.
func (r *rewriter) locales(available func(string) bool) {
	r.b.SetNodeAttr("StringNormalizer", "locale", fallbackLocale, func(current string, present bool) bool {
		if !present {
			current = "en_US.UTF-8"
		}
		if available(current) {
			return true
		}
		r.changed = true
		return false
	})
}

// carriable reports why an output of type t cannot be answered over OIP:
// element types OIP has no name for (complex numbers), sparse tensors, and
// optionals of anything but a tensor (onnxruntime_go cannot read an empty
// one). Found at load, so that such a model fails there, with the reason.
func carriable(t onnx.Type) error {
	switch t.Kind {
	case onnx.KindTensor:
		if t.Elem.OIP() == "" {
			return fmt.Errorf("element type %s has no Open Inference Protocol datatype", t.Elem)
		}
		return nil
	case onnx.KindSequence, onnx.KindOptional:
		if t.Kind == onnx.KindOptional && !t.Value.IsTensor() {
			return fmt.Errorf("%s is not supported: only optional tensors are", t)
		}
		return carriable(*t.Value)
	case onnx.KindMap:
		if k := t.Elem; k != onnx.Int64 && k != onnx.String {
			return fmt.Errorf("%s: map keys must be int64 or string", t)
		}
		return carriable(*t.Value)
	}
	return fmt.Errorf("%s is not supported", t)
}

// awkward reports whether onnxruntime_go cannot hand back sequence elements
// of type t as they are: scalars (it refuses rank 0), tensors of unknown rank
// (they may be scalars), and 16-bit floats (it copies half their bytes).
func awkward(t onnx.Type) bool {
	return t.Shape == nil || len(t.Shape) == 0 || halfType(t.Elem) != ""
}

// halfType is FP16 or BF16 for those element types, else "".
func halfType(dt onnx.DataType) oip.Datatype {
	if dt == onnx.Float16 || dt == onnx.BFloat16 {
		return dt.OIP()
	}
	return ""
}
