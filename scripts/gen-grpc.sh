#!/usr/bin/env bash
# Generates pkg/oip/grpcpb from inference.proto (go generate ./pkg/oip/grpcpb).
# Installs what it needs when missing: protoc from Debian's protobuf-compiler
# (as root), protoc-gen-go and protoc-gen-go-grpc pinned below, cached by version.
set -euo pipefail
cd "$(dirname "$0")/.."

PROTOC_GEN_GO=v1.36.12 # google.golang.org/protobuf, as in go.mod
PROTOC_GEN_GO_GRPC=v1.5.1
cache=${KILN_CACHE:-$HOME/.cache/kiln}/tools

if ! command -v protoc >/dev/null; then
	if [[ $(id -u) != 0 ]]; then
		echo "gen-grpc: protoc is missing: install Debian's protobuf-compiler" >&2
		exit 1
	fi
	apt-get install -y -qq protobuf-compiler >/dev/null || { apt-get update -qq && apt-get install -y -qq protobuf-compiler >/dev/null; }
fi
tool() { # tool NAME MODULE VERSION: the path of a cached plugin binary
	local dir="$cache/$1-$3"
	if [[ ! -x "$dir/$1" ]]; then
		GOBIN="$dir" go install "$2@$3"
	fi
	echo "$dir/$1"
}
go_plugin=$(tool protoc-gen-go google.golang.org/protobuf/cmd/protoc-gen-go "$PROTOC_GEN_GO")
grpc_plugin=$(tool protoc-gen-go-grpc google.golang.org/grpc/cmd/protoc-gen-go-grpc "$PROTOC_GEN_GO_GRPC")

protoc -I pkg/oip/grpcpb \
	--plugin=protoc-gen-go="$go_plugin" --go_out=pkg/oip/grpcpb --go_opt=paths=source_relative \
	--plugin=protoc-gen-go-grpc="$grpc_plugin" --go-grpc_out=pkg/oip/grpcpb --go-grpc_opt=paths=source_relative \
	pkg/oip/grpcpb/inference.proto
