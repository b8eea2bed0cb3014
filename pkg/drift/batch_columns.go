package drift

import "github.com/kilnml/kiln/pkg/oip"

// BatchColumns turns one batch's input and output tensors into the columns a
// Monitor or a ProfileBuilder takes, named the way a serving node names
// them: a single input tensor with len(features) values per row takes the
// feature names; every other tensor is split by TensorColumns.
func BatchColumns(inputs, outputs []*oip.Tensor, features []string) (in, out []Column, err error) {
	return new(Columns).Of(inputs, outputs, features)
}

// Of is BatchColumns in c's memory (see Columns).
func (c *Columns) Of(inputs, outputs []*oip.Tensor, features []string) (in, out []Column, err error) {
	c.values = c.values[:0]
	in, out = c.in[:0], c.out[:0]
	for _, t := range inputs {
		var names []string
		if len(inputs) == 1 && len(t.Shape) == 2 && int(t.Shape[1]) == len(features) {
			names = features
		}
		if in, err = c.appendTensor(in, t, names); err != nil {
			return nil, nil, err
		}
	}
	for _, t := range outputs {
		if out, err = c.appendTensor(out, t, nil); err != nil {
			return nil, nil, err
		}
	}
	c.in, c.out = in, out
	return in, out, nil
}
