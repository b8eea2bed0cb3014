# Kiln: build, test, demo and benchmarks. Targets that need ONNX Runtime
# install it first (scripts/setup-ort.sh: pinned, verified, cached).
GO ?= go
export CGO_ENABLED := 1

BINARIES := kiln kiln-serve kiln-registry

.PHONY: all setup build test demo bench lint generate clean

all: build

setup:
	@scripts/setup-ort.sh

build: setup
	$(GO) build -o bin/kiln ./cmd/kiln
	$(GO) build -o bin/kiln-serve ./cmd/serve
	CGO_ENABLED=0 $(GO) build -o bin/kiln-registry ./cmd/registry

test: setup
	scripts/test.sh

demo: build
	scripts/demo.sh

bench: setup
	scripts/bench.sh

lint:
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); echo "gofmt: files above need formatting"; exit 1; }
	$(GO) vet ./...

generate:
	$(GO) generate ./...

clean:
	rm -rf bin
