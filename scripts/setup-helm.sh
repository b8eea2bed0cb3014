#!/usr/bin/env bash
# Installs helm (pinned) for the chart checks and prints its path.
#
# helm is a Go program, so it is built with `go install` from its module at a
# pinned version, through the Go module proxy (checked against go.sum's
# checksum database like any module). The binary is cached under
# ${KILN_CACHE:-~/.cache/kiln}/helm/<version>/helm; a second run does nothing.
# KILN_HELM may point at an existing helm binary to use instead.
set -euo pipefail

version=v3.22.0
# The Kubernetes version helm assumes without a cluster (helm lint, helm
# template): that of the client-go it is built with, as helm's own Makefile sets it.
kube_major=1
kube_minor=37

if [[ -n "${KILN_HELM:-}" ]]; then
	if [[ ! -x "$KILN_HELM" ]]; then
		echo "setup-helm: KILN_HELM=$KILN_HELM is not an executable file" >&2
		exit 1
	fi
	echo "$KILN_HELM"
	exit 0
fi

dir="${KILN_CACHE:-$HOME/.cache/kiln}/helm/$version"
bin="$dir/helm"
stamp="$version k8s v$kube_major.$kube_minor"
if [[ -x "$bin" && -f "$dir/stamp" && "$(cat "$dir/stamp")" == "$stamp" ]]; then
	echo "$bin"
	exit 0
fi

echo "setup-helm: building helm $version with go install (a few minutes, once)" >&2
mkdir -p "$dir"
# The stamps make `helm version` report the pinned release and set the
# default Kubernetes version, as a release build of helm does.
ldflags="-X helm.sh/helm/v3/internal/version.version=$version"
for pkg in pkg/lint/rules pkg/chartutil; do
	ldflags+=" -X helm.sh/helm/v3/$pkg.k8sVersionMajor=$kube_major -X helm.sh/helm/v3/$pkg.k8sVersionMinor=$kube_minor"
done
GOBIN="$dir" CGO_ENABLED=0 GOFLAGS=-buildvcs=false go install -trimpath -ldflags "$ldflags" \
	"helm.sh/helm/v3/cmd/helm@$version" >&2
if ! "$bin" version --template '{{.Version}}' | grep -qx "$version"; then
	echo "setup-helm: $bin does not report $version" >&2
	exit 1
fi
echo "$stamp" >"$dir/stamp"
echo "$bin"
