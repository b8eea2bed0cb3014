#!/usr/bin/env bash
# Installs ONNX Runtime 1.24.1 (libonnxruntime.so.1) into lib/.
#
# If KILN_ORT_LIB points at an existing library, that one is used and nothing is
# downloaded. Otherwise the library comes from the npm package
# onnxruntime-node@1.24.1, whose tarball and library are checked against pinned
# sha256 sums. The tarball is cached under ${KILN_CACHE:-~/.cache/kiln}/ort/1.24.1,
# and the script does nothing when lib/ already holds the verified library.
set -euo pipefail

version=1.24.1
tarball_sha256=57181cf6e6e711b155c5b942d591fd63ded0b5de5c4922d51fd994e7f6ac2772
declare -A lib_sha256=(
	[x64]=53ef1ac028dd1b05554b8da28d9159eb3876f99868193d2aaa6e67f0243c23d4
	[arm64]=7954e8bdedb497f830c6a679e818d98399b7f4d81ade1126c3e0be74d28111ab
)

root=$(cd "$(dirname "$0")/.." && pwd)
dest="$root/lib/libonnxruntime.so.1"

if [[ -n "${KILN_ORT_LIB:-}" ]]; then
	if [[ ! -f "$KILN_ORT_LIB" ]]; then
		echo "setup-ort: KILN_ORT_LIB=$KILN_ORT_LIB does not exist" >&2
		exit 1
	fi
	echo "setup-ort: using KILN_ORT_LIB=$KILN_ORT_LIB"
	exit 0
fi

case "$(uname -m)" in
x86_64 | amd64) arch=x64 ;;
aarch64 | arm64) arch=arm64 ;;
*)
	echo "setup-ort: no ONNX Runtime build for $(uname -m); set KILN_ORT_LIB to a libonnxruntime.so.1 (1.24.x)" >&2
	exit 1
	;;
esac
want=${lib_sha256[$arch]}

if [[ -f "$dest" ]] && echo "$want  $dest" | sha256sum --check --status; then
	exit 0
fi

cache="${KILN_CACHE:-$HOME/.cache/kiln}/ort/$version"
tgz="$cache/onnxruntime-node-$version.tgz"
mkdir -p "$cache"
if [[ ! -f "$tgz" ]] || ! echo "$tarball_sha256  $tgz" | sha256sum --check --status; then
	echo "setup-ort: fetching onnxruntime-node@$version with npm"
	rm -f "$tgz"
	(cd "$cache" && npm pack --silent "onnxruntime-node@$version" >/dev/null)
fi
if ! echo "$tarball_sha256  $tgz" | sha256sum --check --status; then
	echo "setup-ort: $tgz does not match the pinned sha256; refusing to install it" >&2
	exit 1
fi

mkdir -p "$root/lib"
tmp=$(mktemp "$root/lib/.libonnxruntime.XXXXXX")
trap 'rm -f "$tmp"' EXIT
tar -xzf "$tgz" -O "package/bin/napi-v6/linux/$arch/libonnxruntime.so.1" >"$tmp"
if ! echo "$want  $tmp" | sha256sum --check --status; then
	echo "setup-ort: extracted library does not match the pinned sha256" >&2
	exit 1
fi
chmod 0644 "$tmp"
mv "$tmp" "$dest"
echo "setup-ort: installed ONNX Runtime $version ($arch) into lib/"
