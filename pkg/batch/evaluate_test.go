package batch

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/kilnml/kiln/pkg/drift"
	"github.com/kilnml/kiln/pkg/eval"
	"github.com/kilnml/kiln/pkg/objstore"
	"github.com/kilnml/kiln/pkg/oip"
	"github.com/kilnml/kiln/pkg/table"
)

// fakeModel scores x (float [-1,2]) without ONNX Runtime. A classifier
// answers cls (int64 [-1], the index of the larger element) and probs (x
// itself); a regressor answers y = x[0] + x[1] (float [-1]).
type fakeModel struct{ classifier bool }

func (m fakeModel) Signature() (inputs, outputs []oip.TensorMetadata) {
	inputs = []oip.TensorMetadata{{Name: "x", Datatype: oip.FP32, Shape: []int64{-1, 2}}}
	if m.classifier {
		return inputs, []oip.TensorMetadata{{Name: "cls", Datatype: oip.Int64, Shape: []int64{-1}}, {Name: "probs", Datatype: oip.FP32, Shape: []int64{-1, 2}}}
	}
	return inputs, []oip.TensorMetadata{{Name: "y", Datatype: oip.FP32, Shape: []int64{-1}}}
}

func (fakeModel) Metadata() map[string]string { return nil }

func (fakeModel) ID() string { return "fake" }

func (m fakeModel) Predict(_ context.Context, inputs []*oip.Tensor) ([]*oip.Tensor, error) {
	x, err := oip.Values[float32](inputs[0])
	if err != nil {
		return nil, err
	}
	n := len(x) / 2
	cls, y := make([]int64, n), make([]float32, n)
	for i := range n {
		if x[2*i+1] > x[2*i] {
			cls[i] = 1
		}
		y[i] = x[2*i] + x[2*i+1]
	}
	if m.classifier {
		return []*oip.Tensor{oip.NewTensor("cls", []int64{int64(n)}, cls), oip.NewTensor("probs", []int64{int64(n), 2}, x)}, nil
	}
	return []*oip.Tensor{oip.NewTensor("y", []int64{int64(n)}, y)}, nil
}

// scanCSV returns the options to scan text, written to a CSV file, with
// model, columns p and q feeding x.
func scanCSV(t *testing.T, model Predictor, text string) ScanOptions {
	t.Helper()
	path := filepath.Join(t.TempDir(), "data.csv")
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return ScanOptions{Input: path, Predictor: model, Score: ScoreOptions{Features: []string{"p", "q"}}, BatchSize: 2, Storage: table.NewStorage(objstore.S3Options{})}
}

// TestCollectPredictionsClassifies: the integer output is the predicted
// class, the list output the probabilities; the label 1.0 is class "1";
// an empty label and a row that cannot be scored are skipped.
func TestCollectPredictionsClassifies(t *testing.T) {
	scan := scanCSV(t, fakeModel{classifier: true}, "p,q,y\n0.9,0.1,0\n0.2,0.8,1.0\n0.3,0.7,\nabc,1,1\n0.6,0.4,1\n")
	preds, err := CollectPredictions(context.Background(), scan, EvalOptions{Task: eval.TaskClassification, Label: "y"})
	if err != nil {
		t.Fatal(err)
	}
	rep, err := preds.Report("fake", scan.Input, 1)
	if err != nil {
		t.Fatal(err)
	}
	if c := rep.Classification; c.Rows != 3 || rep.Skipped != 2 || c.Accuracy != 2.0/3 || !slices.Equal(c.Classes, []string{"0", "1"}) {
		t.Errorf("%d rows, %d skipped, accuracy %v, classes %v", c.Rows, rep.Skipped, c.Accuracy, c.Classes)
	}
	if len(rep.Worst) != 1 || rep.Worst[0].Index != 4 || rep.Worst[0].Label != "1" || rep.Worst[0].Predicted != "0" {
		t.Errorf("worst %+v, want row 4 (label 1, predicted 0)", rep.Worst)
	}
}

// probsModel is the fake classifier without its class output; it names
// its classes in class_names metadata.
type probsModel struct{}

func (probsModel) Signature() (inputs, outputs []oip.TensorMetadata) {
	inputs, outputs = fakeModel{classifier: true}.Signature()
	return inputs, outputs[1:]
}

func (probsModel) Metadata() map[string]string { return map[string]string{"class_names": "neg,pos"} }

func (probsModel) ID() string { return "probs" }

func (probsModel) Predict(ctx context.Context, inputs []*oip.Tensor) ([]*oip.Tensor, error) {
	out, err := fakeModel{classifier: true}.Predict(ctx, inputs)
	if err != nil {
		return nil, err
	}
	return out[1:], nil
}

// TestCollectPredictionsNamesTheMostProbableClass: a model that gives only
// probabilities predicts the most probable class by its class_names name
// (by index it matched none of the labels, and every row was wrong).
func TestCollectPredictionsNamesTheMostProbableClass(t *testing.T) {
	scan := scanCSV(t, probsModel{}, "p,q,y\n0.9,0.1,neg\n0.2,0.8,pos\n0.6,0.4,pos\n")
	preds, err := CollectPredictions(context.Background(), scan, EvalOptions{Task: eval.TaskClassification, Label: "y"})
	if err != nil {
		t.Fatal(err)
	}
	rep, err := preds.Report("probs", scan.Input, 1)
	if err != nil {
		t.Fatal(err)
	}
	if c := rep.Classification; c.Rows != 3 || c.Accuracy != 2.0/3 || !slices.Equal(c.Classes, []string{"neg", "pos"}) {
		t.Errorf("%d rows, accuracy %v, classes %v", c.Rows, c.Accuracy, c.Classes)
	}
	if len(rep.Worst) != 1 || rep.Worst[0].Index != 2 || rep.Worst[0].Predicted != "neg" {
		t.Errorf("worst %+v, want row 2 predicted neg", rep.Worst)
	}
}

func TestCollectPredictionsRegresses(t *testing.T) {
	scan := scanCSV(t, fakeModel{}, "p,q,y\n1,2,3\n2,2,5\n")
	preds, err := CollectPredictions(context.Background(), scan, EvalOptions{Task: eval.TaskRegression, Label: "y"})
	if err != nil {
		t.Fatal(err)
	}
	rep, err := preds.Report("fake", scan.Input, 1)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Regression.MAE != 0.5 || len(rep.Worst) != 1 || rep.Worst[0].Index != 1 {
		t.Errorf("MAE %v, worst %+v", rep.Regression.MAE, rep.Worst)
	}
	scan = scanCSV(t, fakeModel{}, "p,q,y\n1,2,three\n")
	if _, err := CollectPredictions(context.Background(), scan, EvalOptions{Task: eval.TaskRegression, Label: "y"}); err == nil || err.Error() != `row 0: label: "three" is not a number` {
		t.Errorf("a label that is not a number: %v", err)
	}
}

// TestCollectPredictionsErrors: a label that is no column and a model
// without a class output are typed errors; a named output must exist.
func TestCollectPredictionsErrors(t *testing.T) {
	ctx := context.Background()
	data := "p,q,y\n1,2,1\n"
	_, err := CollectPredictions(ctx, scanCSV(t, fakeModel{classifier: true}, data), EvalOptions{Task: eval.TaskClassification, Label: "zzz"})
	var noLabel *LabelColumnError
	if !errors.As(err, &noLabel) || noLabel.Column != "zzz" || !slices.Equal(noLabel.Columns, []string{"p", "q", "y"}) {
		t.Errorf("unknown label column: %v", err)
	}
	_, err = CollectPredictions(ctx, scanCSV(t, fakeModel{}, data), EvalOptions{Task: eval.TaskClassification, Label: "y"})
	if !errors.Is(err, ErrNoClassOutput) || !strings.Contains(err.Error(), "(outputs: y)") {
		t.Errorf("no class output: %v", err)
	}
	_, err = CollectPredictions(ctx, scanCSV(t, fakeModel{classifier: true}, data), EvalOptions{Task: eval.TaskClassification, Label: "y", ProbaOutput: "nope"})
	if err == nil || err.Error() != "the named output is not among the model's outputs: cls, probs" {
		t.Errorf("unknown output: %v", err)
	}
}

// TestProfileNamesFeaturesAndSkipsBadRows: the input columns are named
// after the features; a row that cannot be scored is counted, and an input
// without a row that can be is an error.
func TestProfileNamesFeaturesAndSkipsBadRows(t *testing.T) {
	ctx := context.Background()
	scan := scanCSV(t, fakeModel{}, "p,q\n1,2\n3,4\nabc,5\n")
	res, err := Profile(ctx, scan, drift.ProfileOptions{})
	if err != nil {
		t.Fatal(err)
	}
	p := res.Profile
	if p.Rows != 2 || p.Feature("p") == nil || p.Feature("q") == nil || p.Output("y") == nil || p.Output("y").Max != 7 {
		t.Errorf("profile: %d rows, features %+v, outputs %+v", p.Rows, p.Features, p.Outputs)
	}
	if res.Skipped != 1 || res.FirstError == nil || !strings.HasPrefix(res.FirstError.Error(), "row 2: ") {
		t.Errorf("skipped %d, first error %v", res.Skipped, res.FirstError)
	}
	for text, want := range map[string]string{"p,q\n": "has no rows", "p,q\nabc,1\n": "could be scored: row 0: "} {
		if _, err := Profile(ctx, scanCSV(t, fakeModel{}, text), drift.ProfileOptions{}); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: %v, want %q", text, err, want)
		}
	}
}
