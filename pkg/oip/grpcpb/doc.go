// Package grpcpb holds the messages and service stubs of the KServe v2 /
// Triton gRPC inference protocol, generated from inference.proto.
package grpcpb

//go:generate ../../../scripts/gen-grpc.sh
