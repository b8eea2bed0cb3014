package oip

import "math"

// Parameters are free-form OIP parameters. Values decoded from JSON are
// string, bool, int64 (integer literals that fit), float64 (other numbers),
// nil (null) or, for nested values, what encoding/json produces for any.
type Parameters map[string]any

// Well-known parameter names of the binary tensor data extension.
const (
	// ParamBinaryDataSize gives the byte length of a tensor's binary data.
	// The codec consumes it: decoded tensors never carry it.
	ParamBinaryDataSize = "binary_data_size"
	// ParamBinaryData asks for one requested output in binary form.
	ParamBinaryData = "binary_data"
	// ParamBinaryDataOutput asks for all outputs in binary form.
	ParamBinaryDataOutput = "binary_data_output"
)

// Tensor holds one named tensor. Fixed-size element types keep their
// elements in Raw, little-endian and packed (BOOL one byte per element, 0
// or 1; FP16 and BF16 as their 16-bit patterns). BYTES tensors keep one
// []byte per element in Strings.
type Tensor struct {
	Name       string
	Datatype   Datatype
	Shape      []int64
	Parameters Parameters
	Raw        []byte
	Strings    [][]byte
}

// InferRequest is an OIP inference request.
type InferRequest struct {
	ID         string
	Parameters Parameters
	Inputs     []*Tensor
	Outputs    []RequestedOutput
}

// RequestedOutput names an output the client wants, with its parameters
// (for example "binary_data": true or "classification": 3).
type RequestedOutput struct {
	Name       string
	Parameters Parameters
}

// InferResponse is an OIP inference response.
type InferResponse struct {
	ModelName    string
	ModelVersion string
	ID           string
	Parameters   Parameters
	Outputs      []*Tensor
}

// ServerMetadata is the body of GET /v2.
type ServerMetadata struct {
	Name       string   `json:"name"`
	Version    string   `json:"version"`
	Extensions []string `json:"extensions"`
}

// ModelMetadata is the body of GET /v2/models/{model}[/versions/{version}].
type ModelMetadata struct {
	Name     string           `json:"name"`
	Versions []string         `json:"versions,omitempty"`
	Platform string           `json:"platform"`
	Inputs   []TensorMetadata `json:"inputs"`
	Outputs  []TensorMetadata `json:"outputs"`
}

// TensorMetadata describes one model input or output; -1 in Shape marks a
// dimension of any size.
type TensorMetadata struct {
	Name     string   `json:"name"`
	Datatype Datatype `json:"datatype"`
	Shape    []int64  `json:"shape"`
}

// Input returns the input tensor with the given name, or nil.
func (r *InferRequest) Input(name string) *Tensor {
	for _, t := range r.Inputs {
		if t.Name == name {
			return t
		}
	}
	return nil
}

// Output returns the output tensor with the given name, or nil.
func (r *InferResponse) Output(name string) *Tensor {
	for _, t := range r.Outputs {
		if t.Name == name {
			return t
		}
	}
	return nil
}

// WantsBinary reports whether the client asked for output in binary form:
// the requested output's "binary_data" parameter if it has one, else the
// request's "binary_data_output" parameter, else false.
func (r *InferRequest) WantsBinary(output string) bool {
	for i := range r.Outputs {
		if r.Outputs[i].Name == output {
			if v, ok := r.Outputs[i].Parameters.Bool(ParamBinaryData); ok {
				return v
			}
			break
		}
	}
	v, _ := r.Parameters.Bool(ParamBinaryDataOutput)
	return v
}

// Bool returns the boolean parameter key and whether it is present and a bool.
func (p Parameters) Bool(key string) (value, ok bool) {
	v, ok := p[key].(bool)
	return v, ok
}

// Int returns the parameter key as an int64 when it is present and an
// integer, whatever numeric Go type holds it.
func (p Parameters) Int(key string) (int64, bool) {
	return intValue(p[key])
}

// intValue converts an integral number of any Go numeric type to int64.
func intValue(v any) (int64, bool) {
	switch v := v.(type) {
	case int64:
		return v, true
	case int:
		return int64(v), true
	case int32:
		return int64(v), true
	case uint32:
		return int64(v), true
	case uint64:
		if v <= math.MaxInt64 {
			return int64(v), true
		}
	case float64:
		if v == math.Trunc(v) && v >= -(1<<63) && v < 1<<63 {
			return int64(v), true
		}
	}
	return 0, false
}

// String returns the string parameter key and whether it is present and a string.
func (p Parameters) String(key string) (string, bool) {
	v, ok := p[key].(string)
	return v, ok
}
