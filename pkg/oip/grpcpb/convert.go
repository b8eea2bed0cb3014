package grpcpb

import (
	"encoding/json"
	"fmt"
	"unsafe"

	"github.com/kilnml/kiln/pkg/oip"
)

// ToRequest converts a gRPC inference request into an OIP request. Inputs
// given as raw_input_contents share the message's bytes (no per-element
// work); typed contents are converted to the input's datatype.
func ToRequest(m *ModelInferRequest) (*oip.InferRequest, error) {
	req := &oip.InferRequest{ID: m.GetId(), Parameters: toParameters(m.GetParameters())}
	raw := m.GetRawInputContents()
	if len(raw) > 0 && len(raw) != len(m.GetInputs()) {
		return nil, fmt.Errorf("%w: %d raw_input_contents for %d inputs: give every input raw or none", oip.ErrInvalid, len(raw), len(m.GetInputs()))
	}
	for i, in := range m.GetInputs() {
		t := &oip.Tensor{Name: in.GetName(), Datatype: oip.Datatype(in.GetDatatype()), Shape: in.GetShape(), Parameters: toParameters(in.GetParameters())}
		if t.Shape == nil {
			t.Shape = []int64{}
		}
		if !t.Datatype.Valid() {
			return nil, fmt.Errorf("%w: input %q: unknown datatype %q", oip.ErrInvalid, t.Name, in.GetDatatype())
		}
		var err error
		if len(raw) > 0 {
			err = oip.SetRawContents(t, raw[i])
		} else {
			err = setContents(t, in.GetContents())
		}
		if err == nil {
			err = t.Validate()
		}
		if err != nil {
			return nil, fmt.Errorf("%w: input %q: %v", oip.ErrInvalid, t.Name, err)
		}
		req.Inputs = append(req.Inputs, t)
	}
	for _, o := range m.GetOutputs() {
		req.Outputs = append(req.Outputs, oip.RequestedOutput{Name: o.GetName(), Parameters: toParameters(o.GetParameters())})
	}
	return req, nil
}

// FromRequest converts an OIP request for model and version into a gRPC
// request; with raw, tensors travel as raw_input_contents, else as typed
// contents (FP16 and BF16 have no typed field and always travel raw).
func FromRequest(model, version string, req *oip.InferRequest, raw bool) (*ModelInferRequest, error) {
	m := &ModelInferRequest{ModelName: model, ModelVersion: version, Id: req.ID, Parameters: fromParameters(req.Parameters)}
	raw = raw || hasHalf(req.Inputs)
	for _, t := range req.Inputs {
		in := &ModelInferRequest_InferInputTensor{Name: t.Name, Datatype: string(t.Datatype), Shape: t.Shape, Parameters: fromParameters(t.Parameters)}
		if raw {
			m.RawInputContents = append(m.RawInputContents, oip.RawContents(t))
		} else {
			var err error
			if in.Contents, err = contents(t); err != nil {
				return nil, err
			}
		}
		m.Inputs = append(m.Inputs, in)
	}
	for _, o := range req.Outputs {
		m.Outputs = append(m.Outputs, &ModelInferRequest_InferRequestedOutputTensor{Name: o.Name, Parameters: fromParameters(o.Parameters)})
	}
	return m, nil
}

// FromResponse converts an OIP response into a gRPC response, with outputs
// as raw_output_contents (Raw itself for fixed-size datatypes: no copy) or
// as typed contents.
func FromResponse(resp *oip.InferResponse, raw bool) (*ModelInferResponse, error) {
	m := &ModelInferResponse{ModelName: resp.ModelName, ModelVersion: resp.ModelVersion, Id: resp.ID, Parameters: fromParameters(resp.Parameters)}
	raw = raw || hasHalf(resp.Outputs)
	for _, t := range resp.Outputs {
		out := &ModelInferResponse_InferOutputTensor{Name: t.Name, Datatype: string(t.Datatype), Shape: t.Shape, Parameters: fromParameters(t.Parameters)}
		if raw {
			m.RawOutputContents = append(m.RawOutputContents, oip.RawContents(t))
		} else {
			var err error
			if out.Contents, err = contents(t); err != nil {
				return nil, err
			}
		}
		m.Outputs = append(m.Outputs, out)
	}
	return m, nil
}

// ToResponse converts a gRPC response into an OIP response.
func ToResponse(m *ModelInferResponse) (*oip.InferResponse, error) {
	resp := &oip.InferResponse{ModelName: m.GetModelName(), ModelVersion: m.GetModelVersion(), ID: m.GetId(), Parameters: toParameters(m.GetParameters())}
	raw := m.GetRawOutputContents()
	if len(raw) > 0 && len(raw) != len(m.GetOutputs()) {
		return nil, fmt.Errorf("%w: %d raw_output_contents for %d outputs", oip.ErrInvalid, len(raw), len(m.GetOutputs()))
	}
	for i, o := range m.GetOutputs() {
		t := &oip.Tensor{Name: o.GetName(), Datatype: oip.Datatype(o.GetDatatype()), Shape: o.GetShape(), Parameters: toParameters(o.GetParameters())}
		if t.Shape == nil {
			t.Shape = []int64{}
		}
		var err error
		if len(raw) > 0 {
			err = oip.SetRawContents(t, raw[i])
		} else {
			err = setContents(t, o.GetContents())
		}
		if err != nil {
			return nil, fmt.Errorf("%w: output %q: %v", oip.ErrInvalid, t.Name, err)
		}
		resp.Outputs = append(resp.Outputs, t)
	}
	return resp, nil
}

func hasHalf(ts []*oip.Tensor) bool {
	for _, t := range ts {
		if t.Datatype == oip.FP16 || t.Datatype == oip.BF16 {
			return true
		}
	}
	return false
}

// setContents fills t from the typed contents field of its datatype.
func setContents(t *oip.Tensor, c *InferTensorContents) error {
	switch t.Datatype {
	case oip.Bool:
		t.Raw = asBytes(c.GetBoolContents())
	case oip.Int8:
		return narrowed[int8](t, c.GetIntContents())
	case oip.Int16:
		return narrowed[int16](t, c.GetIntContents())
	case oip.Int32:
		t.Raw = asBytes(c.GetIntContents())
	case oip.Int64:
		t.Raw = asBytes(c.GetInt64Contents())
	case oip.Uint8:
		return narrowed[uint8](t, c.GetUintContents())
	case oip.Uint16:
		return narrowed[uint16](t, c.GetUintContents())
	case oip.Uint32:
		t.Raw = asBytes(c.GetUintContents())
	case oip.Uint64:
		t.Raw = asBytes(c.GetUint64Contents())
	case oip.FP32:
		t.Raw = asBytes(c.GetFp32Contents())
	case oip.FP64:
		t.Raw = asBytes(c.GetFp64Contents())
	case oip.Bytes:
		t.Strings = c.GetBytesContents()
	default:
		return fmt.Errorf("%s has no typed contents field: send it as raw contents", t.Datatype)
	}
	return nil
}

// narrowed stores 32-bit contents as the tensor's narrower integer type,
// refusing values out of its range.
func narrowed[T int8 | int16 | uint8 | uint16, W int32 | uint32](t *oip.Tensor, wide []W) error {
	out := make([]T, len(wide))
	for i, w := range wide {
		out[i] = T(w)
		if W(out[i]) != w {
			return fmt.Errorf("element %d: %d is out of range for %s", i, w, t.Datatype)
		}
	}
	t.Raw = asBytes(out)
	return nil
}

// contents returns t's elements in the typed field of its datatype.
func contents(t *oip.Tensor) (*InferTensorContents, error) {
	c := &InferTensorContents{}
	var err error
	switch t.Datatype {
	case oip.Bool:
		c.BoolContents, err = oip.Values[bool](t)
	case oip.Int8:
		c.IntContents, err = widened[int8, int32](t)
	case oip.Int16:
		c.IntContents, err = widened[int16, int32](t)
	case oip.Int32:
		c.IntContents, err = oip.Values[int32](t)
	case oip.Int64:
		c.Int64Contents, err = oip.Values[int64](t)
	case oip.Uint8:
		c.UintContents, err = widened[uint8, uint32](t)
	case oip.Uint16:
		c.UintContents, err = widened[uint16, uint32](t)
	case oip.Uint32:
		c.UintContents, err = oip.Values[uint32](t)
	case oip.Uint64:
		c.Uint64Contents, err = oip.Values[uint64](t)
	case oip.FP32:
		c.Fp32Contents, err = oip.Values[float32](t)
	case oip.FP64:
		c.Fp64Contents, err = oip.Values[float64](t)
	case oip.Bytes:
		c.BytesContents = t.Strings
	default:
		return nil, fmt.Errorf("%s has no typed contents field", t.Datatype)
	}
	return c, err
}

func widened[T int8 | int16 | uint8 | uint16, W int32 | uint32](t *oip.Tensor) ([]W, error) {
	vals, err := oip.Values[T](t)
	out := make([]W, len(vals))
	for i, v := range vals {
		out[i] = W(v)
	}
	return out, err
}

// asBytes views a slice of fixed-size elements as its bytes (no copy).
func asBytes[T bool | int8 | int16 | int32 | int64 | uint8 | uint16 | uint32 | uint64 | float32 | float64](data []T) []byte {
	if len(data) == 0 {
		return []byte{}
	}
	return unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(data))), len(data)*int(unsafe.Sizeof(data[0])))
}

// toParameters converts gRPC parameters; values keep their Go types
// (bool, int64, string, float64, uint64).
func toParameters(m map[string]*InferParameter) oip.Parameters {
	if len(m) == 0 {
		return nil
	}
	p := make(oip.Parameters, len(m))
	for k, v := range m {
		switch c := v.GetParameterChoice().(type) {
		case *InferParameter_BoolParam:
			p[k] = c.BoolParam
		case *InferParameter_Int64Param:
			p[k] = c.Int64Param
		case *InferParameter_StringParam:
			p[k] = c.StringParam
		case *InferParameter_DoubleParam:
			p[k] = c.DoubleParam
		case *InferParameter_Uint64Param:
			p[k] = c.Uint64Param
		}
	}
	return p
}

// fromParameters converts OIP parameters; values gRPC cannot carry as such
// (lists, such as an output's "keys") travel as JSON text.
func fromParameters(p oip.Parameters) map[string]*InferParameter {
	if len(p) == 0 {
		return nil
	}
	m := make(map[string]*InferParameter, len(p))
	for k, v := range p {
		var param InferParameter
		switch v := v.(type) {
		case bool:
			param.ParameterChoice = &InferParameter_BoolParam{BoolParam: v}
		case int64:
			param.ParameterChoice = &InferParameter_Int64Param{Int64Param: v}
		case int:
			param.ParameterChoice = &InferParameter_Int64Param{Int64Param: int64(v)}
		case uint64:
			param.ParameterChoice = &InferParameter_Uint64Param{Uint64Param: v}
		case float64:
			param.ParameterChoice = &InferParameter_DoubleParam{DoubleParam: v}
		case string:
			param.ParameterChoice = &InferParameter_StringParam{StringParam: v}
		default:
			text, err := json.Marshal(v)
			if err != nil {
				text = []byte(fmt.Sprint(v))
			}
			param.ParameterChoice = &InferParameter_StringParam{StringParam: string(text)}
		}
		m[k] = &param
	}
	return m
}
