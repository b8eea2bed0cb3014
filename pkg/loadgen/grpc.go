package loadgen

import (
	"context"
	"fmt"

	"github.com/kilnml/kiln/pkg/oip"
	"github.com/kilnml/kiln/pkg/oip/grpcpb"
)

// GRPCInferRequest returns a Request that sends req, converted to its gRPC
// message once (raw or typed contents), to model on a gRPC inference
// server, and checks that each answer is an inference response.
func GRPCInferRequest(c *grpcpb.Client, model, version string, req *oip.InferRequest, raw bool) (Request, error) {
	m, err := grpcpb.FromRequest(model, version, req, raw)
	if err != nil {
		return nil, err
	}
	rows := rowsOf(req)
	// One checked request up front: the answer must convert to an OIP response.
	resp, err := c.RPC().ModelInfer(context.Background(), m)
	if err != nil {
		return nil, err
	}
	if _, err := grpcpb.ToResponse(resp); err != nil {
		return nil, fmt.Errorf("model %s: the answer is not an inference response: %w", model, err)
	}
	return func(ctx context.Context) (int, error) {
		if _, err := c.RPC().ModelInfer(ctx, m); err != nil {
			return 0, err
		}
		return rows, nil
	}, nil
}
