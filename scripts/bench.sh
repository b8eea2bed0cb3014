#!/usr/bin/env bash
# make bench: every benchmark table, each measured side by side in one run.
set -euo pipefail
cd "$(dirname "$0")/.."
for b in bench/*/; do
	name=$(basename "$b")
	echo
	echo "## $name"
	go run "./bench/$name"
done
