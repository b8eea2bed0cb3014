#!/usr/bin/env bash
# Regenerates onnx.pb.go from the onnx.proto schema that Debian's libonnx-dev ships.
# Needs: apt-get install protobuf-compiler libonnx-dev;
#        go install google.golang.org/protobuf/cmd/protoc-gen-go@v1.36.12
# The proto package is renamed to kiln.onnx so it cannot clash with another
# ONNX package registered in the same binary.
set -euo pipefail
cd "$(dirname "$0")"
schema=${ONNX_PROTO:-/usr/include/onnx/onnx.proto}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
sed -e 's/^package onnx;/package kiln.onnx;/' "$schema" >"$work/kiln_onnx.proto"
cat >>"$work/kiln_onnx.proto" <<'PROTO'
option go_package = "github.com/kilnml/kiln/pkg/onnx/internal/onnxpb";
PROTO
protoc --proto_path="$work" --go_out="$work" --go_opt=paths=source_relative "$work/kiln_onnx.proto"
mv "$work/kiln_onnx.pb.go" onnx.pb.go
