package batch

import (
	"fmt"

	"go.yaml.in/yaml/v3"
)

// ParseMapping reads a mapping file (YAML or JSON): each model input name
// maps to one column name or a list of column names, e.g.
//
//	image: pixels
//	tabular: [age, income, score]
func ParseMapping(data []byte) (map[string][]string, error) {
	var raw map[string]any
	if err := yaml.Unmarshal(data, &raw); err != nil {
		return nil, fmt.Errorf("mapping file: %w", err)
	}
	out := map[string][]string{}
	for input, v := range raw {
		switch v := v.(type) {
		case string:
			out[input] = []string{v}
		case []any:
			for _, c := range v {
				s, ok := c.(string)
				if !ok {
					return nil, fmt.Errorf("mapping file: input %q: column %v is not a name", input, c)
				}
				out[input] = append(out[input], s)
			}
		default:
			return nil, fmt.Errorf("mapping file: input %q: want a column name or a list of names", input)
		}
		if len(out[input]) == 0 {
			return nil, fmt.Errorf("mapping file: input %q has no columns", input)
		}
	}
	return out, nil
}
