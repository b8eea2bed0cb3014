#!/usr/bin/env bash
# Installs promtool (pinned) for the alert rule tests and prints its path.
#
# promtool is a Go program in the Prometheus module, so it is built with
# `go install` at a pinned version through the Go module proxy (checked
# against the checksum database like any module). Prometheus v3.16 is Go
# module version v0.316.0. The binary is cached under
# ${KILN_CACHE:-~/.cache/kiln}/promtool/<version>/promtool; a second run does
# nothing. KILN_PROMTOOL may point at an existing promtool binary instead.
set -euo pipefail

version=v0.316.0

if [[ -n "${KILN_PROMTOOL:-}" ]]; then
	if [[ ! -x "$KILN_PROMTOOL" ]]; then
		echo "setup-promtool: KILN_PROMTOOL=$KILN_PROMTOOL is not an executable file" >&2
		exit 1
	fi
	echo "$KILN_PROMTOOL"
	exit 0
fi

dir="${KILN_CACHE:-$HOME/.cache/kiln}/promtool/$version"
bin="$dir/promtool"
if [[ -x "$bin" && -f "$dir/stamp" && "$(cat "$dir/stamp")" == "$version" ]]; then
	echo "$bin"
	exit 0
fi

echo "setup-promtool: building promtool $version with go install (a few minutes, once)" >&2
mkdir -p "$dir"
GOBIN="$dir" CGO_ENABLED=0 GOFLAGS=-buildvcs=false go install -trimpath \
	"github.com/prometheus/prometheus/cmd/promtool@$version" >&2
if ! "$bin" --version >/dev/null 2>&1; then
	echo "setup-promtool: $bin does not run" >&2
	exit 1
fi
echo "$version" >"$dir/stamp"
echo "$bin"
