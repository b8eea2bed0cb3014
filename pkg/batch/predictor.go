package batch

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/kilnml/kiln/pkg/oip"
	"github.com/kilnml/kiln/pkg/runtime"
)

// ErrBadInput marks a prediction that failed because of the rows it was
// given, not because of the model or the server: the engine then looks for
// the rows to blame.
var ErrBadInput = errors.New("bad input")

// Predictor runs a model on a batch of input tensors.
type Predictor interface {
	// Signature returns the model's inputs and outputs.
	Signature() (inputs, outputs []oip.TensorMetadata)
	// Metadata returns the model's metadata (feature_names, class_names, ...).
	Metadata() map[string]string
	// Predict returns every output, in Signature's order. Errors caused by
	// the inputs wrap ErrBadInput.
	Predict(ctx context.Context, inputs []*oip.Tensor) ([]*oip.Tensor, error)
	// ID names the model for checkpoints: a digest or a server and model name.
	ID() string
}

// RuntimePredictor runs a model loaded in this process.
type RuntimePredictor struct {
	Model  *runtime.Model
	Digest string
}

// Signature returns the model's inputs and outputs.
func (p *RuntimePredictor) Signature() (inputs, outputs []oip.TensorMetadata) {
	return p.Model.Signature()
}

// Metadata returns the model file's metadata.
func (p *RuntimePredictor) Metadata() map[string]string { return p.Model.Info.Metadata }

// Predict runs the model.
func (p *RuntimePredictor) Predict(ctx context.Context, inputs []*oip.Tensor) ([]*oip.Tensor, error) {
	out, err := p.Model.Run(ctx, inputs, nil)
	if errors.Is(err, runtime.ErrInvalidInput) {
		return nil, fmt.Errorf("%w: %w", ErrBadInput, err)
	}
	return out, err
}

// ID returns the model's digest.
func (p *RuntimePredictor) ID() string { return p.Digest }

// ServerPredictor sends batches to a running OIP server (kiln-serve, Triton).
type ServerPredictor struct {
	Client  *oip.Client
	Model   string
	Version string
	meta    *oip.ModelMetadata
}

// NewServerPredictor asks the server for the model's signature.
func NewServerPredictor(ctx context.Context, c *oip.Client, model, version string) (*ServerPredictor, error) {
	meta, err := c.ModelMetadata(ctx, model, version)
	if err != nil {
		return nil, fmt.Errorf("model %q on %s: %w", model, c.BaseURL, err)
	}
	return &ServerPredictor{Client: c, Model: model, Version: version, meta: meta}, nil
}

// Signature returns the served model's inputs and outputs.
func (p *ServerPredictor) Signature() (inputs, outputs []oip.TensorMetadata) {
	return p.meta.Inputs, p.meta.Outputs
}

// Metadata is empty: OIP metadata carries no model properties.
func (p *ServerPredictor) Metadata() map[string]string { return nil }

// Predict sends one inference request with binary tensor data.
func (p *ServerPredictor) Predict(ctx context.Context, inputs []*oip.Tensor) ([]*oip.Tensor, error) {
	req := &oip.InferRequest{Inputs: inputs}
	for _, o := range p.meta.Outputs {
		req.Outputs = append(req.Outputs, oip.RequestedOutput{Name: o.Name})
	}
	resp, err := p.Client.Infer(ctx, p.Model, p.Version, req, true)
	var httpErr *oip.HTTPError
	if errors.As(err, &httpErr) && httpErr.Status == http.StatusBadRequest {
		return nil, fmt.Errorf("%w: %w", ErrBadInput, err)
	}
	if err != nil {
		return nil, err
	}
	out := make([]*oip.Tensor, len(p.meta.Outputs))
	for i, o := range p.meta.Outputs {
		if out[i] = resp.Output(o.Name); out[i] == nil {
			return nil, fmt.Errorf("server answered without output %q", o.Name)
		}
	}
	return out, nil
}

// ID names the server and model.
func (p *ServerPredictor) ID() string {
	return p.Client.BaseURL + "/v2/models/" + p.Model + "/versions/" + p.Version
}
