package validate

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"go.yaml.in/yaml/v3"
)

// ParsePolicy reads a policy written as YAML or JSON (JSON is YAML). Field
// names are those of the json tags; an unknown field, a second document or
// an empty file is an error, and so is a policy that fails Validate. Every
// error wraps ErrInvalidPolicy.
func ParsePolicy(data []byte) (Policy, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc any
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return Policy{}, fmt.Errorf("%w: the policy is empty", ErrInvalidPolicy)
		}
		return Policy{}, fmt.Errorf("%w: %v", ErrInvalidPolicy, err)
	}
	var extra any
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		return Policy{}, fmt.Errorf("%w: want one YAML document, found more", ErrInvalidPolicy)
	}
	if _, ok := doc.(map[string]any); !ok {
		return Policy{}, fmt.Errorf("%w: want a mapping of policy fields at the top level", ErrInvalidPolicy)
	}
	js, err := json.Marshal(doc)
	if err != nil {
		return Policy{}, fmt.Errorf("%w: %v", ErrInvalidPolicy, err)
	}
	return DecodePolicyJSON(js)
}

// DecodePolicyJSON reads a policy from JSON, strictly (see ParsePolicy).
func DecodePolicyJSON(data []byte) (Policy, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var p Policy
	if err := dec.Decode(&p); err != nil {
		return Policy{}, fmt.Errorf("%w: %s", ErrInvalidPolicy, strings.TrimPrefix(err.Error(), "json: "))
	}
	if dec.More() {
		return Policy{}, fmt.Errorf("%w: trailing data after the policy", ErrInvalidPolicy)
	}
	if err := p.Validate(); err != nil {
		return Policy{}, err
	}
	return p, nil
}

// FormatYAML writes p as YAML that ParsePolicy reads back to the same policy.
func FormatYAML(p Policy) ([]byte, error) {
	js, err := json.Marshal(p)
	if err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(js))
	dec.UseNumber()
	var doc any
	if err := dec.Decode(&doc); err != nil {
		return nil, err
	}
	return yaml.Marshal(plain(doc))
}

// plain turns decoded JSON into values YAML writes naturally: numbers as
// integers where they are whole, null fields dropped.
func plain(v any) any {
	switch v := v.(type) {
	case map[string]any:
		for k, e := range v {
			if e == nil {
				delete(v, k)
				continue
			}
			v[k] = plain(e)
		}
	case []any:
		for i, e := range v {
			v[i] = plain(e)
		}
	case json.Number:
		if n, err := v.Int64(); err == nil {
			return n
		}
		f, _ := v.Float64()
		return f
	}
	return v
}
