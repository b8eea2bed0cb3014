#!/usr/bin/env bash
# Deployment checks that need no cluster and no Docker engine:
#   1. helm (pinned, built and cached by scripts/setup-helm.sh) lint --strict
#      and template with no values (the trial install) and over every values
#      file in charts/kiln/ci;
#   2. a values file with a misspelt key must fail values.schema.json;
#   3. the chart's Go tests (charts/kiln/tests, a module of its own): every
#      rendered manifest decoded strictly into k8s.io/api and Prometheus
#      Operator types, wiring, security, alerts, schema and template errors;
#   4. the Dockerfile linted with BuildKit's rules (tools/dockerlint, a module
#      of its own), with that tool's own tests.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

helm=$(scripts/setup-helm.sh)
export KILN_HELM="$helm"
chart=charts/kiln

echo "test-deploy: helm lint --strict + template: no values (the trial install)"
"$helm" lint --strict --quiet "$chart"
"$helm" template kiln "$chart" >/dev/null

for values in "$chart"/ci/*-values.yaml; do
	echo "test-deploy: helm lint --strict + template: $values"
	"$helm" lint --strict --quiet "$chart" -f "$values"
	"$helm" template kiln "$chart" -f "$values" >/dev/null
done

misspelt="$chart/tests/testdata/misspelt-values.yaml"
if out=$("$helm" lint --strict "$chart" -f "$misspelt" 2>&1); then
	echo "test-deploy: helm lint accepted $misspelt; values.schema.json must reject unknown keys" >&2
	exit 1
fi
if ! grep -q "additional properties 'replicsa' not allowed" <<<"$out"; then
	echo "test-deploy: helm lint rejected $misspelt, but not for its misspelt key:" >&2
	echo "$out" >&2
	exit 1
fi
echo "test-deploy: schema rejects the misspelt key in $misspelt"

echo "test-deploy: chart tests ($chart/tests)"
(cd "$chart/tests" && go vet ./... && go test -count=1 ./...)

echo "test-deploy: Dockerfile lint (tools/dockerlint)"
(cd tools/dockerlint && go vet ./... && go test -count=1 ./... && go run . "$root/Dockerfile")
