// Package onnxpb holds the Go protobuf types generated from ONNX's onnx.proto,
// under the renamed proto package kiln.onnx.
package onnxpb

//go:generate ./generate.sh
