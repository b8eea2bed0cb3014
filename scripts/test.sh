#!/usr/bin/env bash
# The project's test command (make test): formatting and vet, every Go test,
# then the deployment checks (helm lint/template, strict manifest decoding,
# Dockerfile lint). ONNX Runtime is installed by make setup; S3 tests install
# and start their own versitygw (internal/testenv) and scripts/setup-helm.sh
# installs helm, each cached by version.
set -euo pipefail
cd "$(dirname "$0")/.."

unformatted=$(gofmt -l $(git ls-files '*.go'))
if [[ -n "$unformatted" ]]; then
	echo "gofmt: these files need formatting:" >&2
	echo "$unformatted" >&2
	exit 1
fi
go vet ./...
go test -count=1 -timeout 40m ./...
scripts/test-deploy.sh
