package grpcpb

import (
	"context"
	"fmt"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/kilnml/kiln/pkg/oip"
)

// Client calls a KServe v2 / Triton gRPC server (kiln-serve, Triton) with
// OIP types, as oip.Client does over REST.
type Client struct {
	conn *grpc.ClientConn
	rpc  GRPCInferenceServiceClient
}

// Dial returns a client of the server at addr (host:port, plaintext), which
// takes messages up to maxMessage bytes each way.
func Dial(addr string, maxMessage int) (*Client, error) {
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(maxMessage), grpc.MaxCallSendMsgSize(maxMessage)))
	if err != nil {
		return nil, err
	}
	return &Client{conn: conn, rpc: NewGRPCInferenceServiceClient(conn)}, nil
}

// Close closes the connection.
func (c *Client) Close() error { return c.conn.Close() }

// RPC returns the generated client, for calls beyond inference and metadata.
func (c *Client) RPC() GRPCInferenceServiceClient { return c.rpc }

// Infer runs one request on model (version "" for the server's default);
// raw sends and receives tensors as raw contents instead of typed ones.
func (c *Client) Infer(ctx context.Context, model, version string, req *oip.InferRequest, raw bool) (*oip.InferResponse, error) {
	m, err := FromRequest(model, version, req, raw)
	if err != nil {
		return nil, err
	}
	resp, err := c.rpc.ModelInfer(ctx, m)
	if err != nil {
		return nil, err
	}
	return ToResponse(resp)
}

// ModelMetadata returns the metadata of model (version "" for the default).
func (c *Client) ModelMetadata(ctx context.Context, model, version string) (*oip.ModelMetadata, error) {
	r, err := c.rpc.ModelMetadata(ctx, &ModelMetadataRequest{Name: model, Version: version})
	if err != nil {
		return nil, err
	}
	md := &oip.ModelMetadata{Name: r.Name, Versions: r.Versions, Platform: r.Platform}
	tensors := func(ts []*ModelMetadataResponse_TensorMetadata) []oip.TensorMetadata {
		out := make([]oip.TensorMetadata, len(ts))
		for i, t := range ts {
			out[i] = oip.TensorMetadata{Name: t.Name, Datatype: oip.Datatype(t.Datatype), Shape: t.Shape}
			if out[i].Shape == nil {
				out[i].Shape = []int64{}
			}
		}
		return out
	}
	md.Inputs, md.Outputs = tensors(r.Inputs), tensors(r.Outputs)
	if len(md.Inputs) == 0 && len(md.Outputs) == 0 {
		return nil, fmt.Errorf("model %q: the metadata lists no inputs or outputs", model)
	}
	return md, nil
}
