package drift

import "github.com/kilnml/kiln/pkg/oip"

// BatchColumns turns one batch's input and output tensors into the columns a
// Monitor or a ProfileBuilder takes, named the way a serving node names
// them: a single input tensor with len(features) values per row takes the
// feature names; every other tensor is split by TensorColumns.
func BatchColumns(inputs, outputs []*oip.Tensor, features []string) (in, out []Column, err error) {
	for _, t := range inputs {
		var names []string
		if len(inputs) == 1 && len(t.Shape) == 2 && int(t.Shape[1]) == len(features) {
			names = features
		}
		cols, err := TensorColumns(t, names)
		if err != nil {
			return nil, nil, err
		}
		in = append(in, cols...)
	}
	for _, t := range outputs {
		cols, err := TensorColumns(t, nil)
		if err != nil {
			return nil, nil, err
		}
		out = append(out, cols...)
	}
	return in, out, nil
}
