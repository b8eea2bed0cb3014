#!/usr/bin/env bash
# The demo (make demo): a registry with the example Iris classifier behind a
# promotion policy, a serving node following iris@production, and the Open
# Inference Protocol at work with curl and the kiln CLI. Everything runs on
# free loopback ports and in a temporary folder, and stops at the end.
set -euo pipefail
cd "$(dirname "$0")/.."

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
work=$(mktemp -d)
registry="http://127.0.0.1:$(free_port)"
server="http://127.0.0.1:$(free_port)"
grpc="127.0.0.1:$(free_port)"
export KILN_REGISTRY=$registry KILN_SERVER=$server KILN_GRPC_SERVER=$grpc
pids=()
cleanup() {
	for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
	wait 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT

bold=$'\033[1m' plain=$'\033[0m'
[[ -t 1 ]] || bold='' plain=''
step() { printf '\n%s$ %s%s\n' "$bold" "$*" "$plain"; "$@"; echo; }
wait_for() { for _ in $(seq 200); do curl -sf "$1" >/dev/null && return; sleep 0.1; done; echo "demo: $1 did not answer" >&2; exit 1; }

bin/kiln-registry --addr "${registry#http://}" --store "file://$work/registry" --auth=none --log-format text 2>"$work/registry.log" &
pids+=($!)
wait_for "$registry/readyz"
echo "${bold}The console: $registry/${plain} (models, versions, the refused promotion, the node; open it while the demo runs)"
[[ -t 0 && -t 1 ]] && { echo "(after the demo, the registry and the node keep running until Enter)"; keep=1; }
export KILN_NODE_ID=demo-node KILN_HEARTBEAT_INTERVAL=1s # how the node reports to the registry

echo "== A registry: push the classifier with its metrics, guard production with a policy, promote it"
step bin/kiln push iris examples/iris/model.onnx --metric accuracy=0.98 --description "softmax regression on Iris"
printf 'metrics:\n  accuracy: {min: 0.9}\n' >"$work/policy.yaml"
step bin/kiln policy set iris -f "$work/policy.yaml"
step bin/kiln alias set iris production 1

echo "== A serving node following iris@production"
bin/kiln-serve --addr "${server#http://}" --grpc-addr "$grpc" --registry "$registry" --model iris@production \
	--cache-dir "$work/cache" --poll-interval 1s --log-format text 2>"$work/serve.log" &
pids+=($!)
wait_for "$server/v2/health/ready"
step curl -s "$server/v2/models/iris"
step curl -s -X POST "$server/v2/models/iris/infer" -H 'Content-Type: application/json' -d '{
  "id": "three-flowers",
  "inputs": [{"name": "input", "datatype": "FP32", "shape": [3, 4],
              "data": [[5.1, 3.5, 1.4, 0.2], [5.9, 3.0, 4.2, 1.5], [6.9, 3.1, 5.4, 2.1]]}]}'
step curl -s -X POST "$server/v2/models/iris/infer" -d '{
  "inputs": [{"name": "input", "datatype": "FP32", "shape": [1, 4], "data": [6.3, 2.8, 5.1, 1.5]}],
  "outputs": [{"name": "probabilities", "parameters": {"classification": 2}}]}'
step bin/kiln predict iris --data '[[5.1, 3.5, 1.4, 0.2], [6.7, 3.0, 5.2, 2.3]]'
step bin/kiln predict iris --protocol grpc --binary --data '[[6.7, 3.0, 5.2, 2.3]]'
step curl -s "$server/v2/models/iris/config"

echo "== A bad request gets a 400 and a message that names the problem"
step curl -s -w ' (HTTP %{http_code})' -X POST "$server/v2/models/iris/infer" -d '{
  "inputs": [{"name": "input", "datatype": "FP32", "shape": [1, 5], "data": [1, 2, 3, 4, 5]}]}'

echo "== A version below the policy's accuracy cannot be promoted"
step bin/kiln push iris examples/iris/model.onnx --metric accuracy=0.5
step bin/kiln alias set iris production 2 || true

echo "== Load: throughput and latency from 1 and 16 clients"
step bin/kiln bench iris --concurrency 1,16 --duration 2s

step curl -s "$server/v2/models/iris/status"
step sh -c "curl -s $server/metrics | grep -E '^kiln_inference_(requests_total|batch_size_count)'"

echo "== The console shows the model, its versions, the refused promotion and the node"
wait_for "$registry/api/v1/nodes/demo-node"
step sh -c "curl -s $registry/models/iris | grep -o -E 'refused|version 2|demo-node' | sort | uniq -c"
if [[ -n "${keep:-}" ]]; then
	read -r -p "Console at $registry/ - press Enter to stop. "
fi
