#!/usr/bin/env bash
# The demo (make demo): serves the Iris classifier with kiln-serve on a free
# loopback port and shows the Open Inference Protocol at work with curl.
set -euo pipefail
cd "$(dirname "$0")/.."

port=${KILN_DEMO_PORT:-$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')}
base="http://127.0.0.1:$port"
bin/kiln-serve --addr "127.0.0.1:$port" --model iris=examples/iris/model.onnx --log-format text &
server=$!
trap 'kill $server 2>/dev/null; wait $server 2>/dev/null' EXIT

for _ in $(seq 100); do
	curl -sf "$base/v2/health/ready" >/dev/null && break
	sleep 0.1
done

step() { printf '\n\033[1m$ %s\033[0m\n' "$*"; "$@"; echo; }

step curl -s "$base/v2"
step curl -s "$base/v2/models/iris"
step curl -s -X POST "$base/v2/models/iris/infer" -H 'Content-Type: application/json' -d '{
  "id": "three-flowers",
  "inputs": [{"name": "input", "datatype": "FP32", "shape": [3, 4],
              "data": [[5.1, 3.5, 1.4, 0.2], [5.9, 3.0, 4.2, 1.5], [6.9, 3.1, 5.4, 2.1]]}]}'
step curl -s -X POST "$base/v2/models/iris/infer" -d '{
  "inputs": [{"name": "input", "datatype": "FP32", "shape": [1, 4], "data": [6.3, 2.8, 5.1, 1.5]}],
  "outputs": [{"name": "probabilities", "parameters": {"classification": 2}}]}'
echo "A bad request gets a 400 and a message that names the problem:"
step curl -s -w ' (HTTP %{http_code})' -X POST "$base/v2/models/iris/infer" -d '{
  "inputs": [{"name": "input", "datatype": "FP32", "shape": [1, 5], "data": [1, 2, 3, 4, 5]}]}'
step sh -c "curl -s $base/metrics | grep '^kiln_inference_requests_total'"
