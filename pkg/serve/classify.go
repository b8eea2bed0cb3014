package serve

import (
	"slices"
	"strconv"
	"strings"

	"github.com/kilnml/kiln/pkg/oip"
	"github.com/kilnml/kiln/pkg/runtime"
)

// paramClassification asks for the top K classes of an output (Triton's classification extension).
const paramClassification = "classification"

// classify returns the outputs to answer with: each output requested with
// "classification": K becomes its top K classes per row, a BYTES tensor
// [rows, K] of "score:index" or "score:index:label", labels taken from the
// output's keys or the model's class_names metadata. outputs is not changed.
func classify(v *Version, req *oip.InferRequest, outputs []*oip.Tensor) ([]*oip.Tensor, error) {
	answers := outputs // copied before the first change
	for i, ro := range req.Outputs {
		k, ok := ro.Parameters.Int(paramClassification)
		if !ok {
			continue
		}
		if k < 1 {
			return nil, badRequest("output %q: classification must be a positive count, got %d", ro.Name, k)
		}
		top, err := topK(outputs[i], int(k), classLabels(v, outputs[i]))
		if err != nil {
			return nil, err
		}
		if &answers[0] == &outputs[0] {
			answers = slices.Clone(outputs)
		}
		answers[i] = top
	}
	return answers, nil
}

func classLabels(v *Version, t *oip.Tensor) []string {
	if keys, ok := t.Parameters[runtime.ParamKeys].([]string); ok {
		return keys
	}
	if names := v.Runtime.Info.Metadata["class_names"]; names != "" {
		return strings.Split(names, ",")
	}
	return nil
}

func topK(t *oip.Tensor, k int, labels []string) (*oip.Tensor, error) {
	scores, err := oip.Float64s(t)
	if err != nil {
		return nil, badRequest("output %q: classification needs numeric scores: %v", t.Name, err)
	}
	if len(t.Shape) == 0 || len(t.Shape) > 2 {
		return nil, badRequest("output %q: classification needs a 1-D or 2-D output, got shape %v", t.Name, t.Shape)
	}
	bitSize := 64
	if t.Datatype == oip.FP32 {
		bitSize = 32
	}
	classes := int(t.Shape[len(t.Shape)-1])
	rows := 1
	if len(t.Shape) == 2 {
		rows = int(t.Shape[0])
	}
	k = min(k, classes)
	out := make([][]byte, 0, rows*k)
	order := make([]int, classes)
	for r := range rows {
		row := scores[r*classes : (r+1)*classes]
		for i := range order {
			order[i] = i
		}
		slices.SortStableFunc(order, func(a, b int) int {
			switch {
			case row[a] > row[b]:
				return -1
			case row[a] < row[b]:
				return 1
			}
			return 0
		})
		for _, idx := range order[:k] {
			entry := strconv.FormatFloat(row[idx], 'g', -1, bitSize) + ":" + strconv.Itoa(idx)
			if idx < len(labels) {
				entry += ":" + labels[idx]
			}
			out = append(out, []byte(entry))
		}
	}
	shape := []int64{int64(k)}
	if len(t.Shape) == 2 {
		shape = []int64{int64(rows), int64(k)}
	}
	return oip.NewBytesTensor(t.Name, shape, out), nil
}
