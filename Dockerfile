# syntax=docker/dockerfile:1
# check=error=true;experimental=all
#
# Kiln container images. Two targets:
#
#   docker build --target serve    -t kiln-serve .     kiln-serve, the kiln CLI and ONNX Runtime (default)
#   docker build --target registry -t kiln-registry .  kiln-registry, static, on distroless
#
# Build arguments: VERSION, REVISION and CREATED stamp the binaries and the
# OCI labels; ORT_* pin ONNX Runtime (the npm package onnxruntime-node, whose
# tarball and library are checked against sha256 sums, the same ones as
# scripts/setup-ort.sh); NPM_REGISTRY and GOPROXY point the downloads at a
# mirror; *_IMAGE choose the base images (pin digests for releases).
# Lint: scripts/test-deploy.sh runs BuildKit's rules over this file.

# GO_IMAGE compiles the Go binaries.
ARG GO_IMAGE=golang:1.26.8-trixie
# NODE_IMAGE runs npm pack to fetch ONNX Runtime.
ARG NODE_IMAGE=node:24-trixie-slim
# RUNTIME_IMAGE is the base of kiln-serve (glibc and libstdc++ for ONNX Runtime).
ARG RUNTIME_IMAGE=debian:trixie-slim
# STATIC_IMAGE is the base of the static kiln-registry.
ARG STATIC_IMAGE=gcr.io/distroless/static-debian13:nonroot

# ort fetches ONNX Runtime as an npm tarball and verifies it before use.
FROM --platform=$BUILDPLATFORM ${NODE_IMAGE} AS ort
ARG ORT_VERSION=1.24.1
ARG ORT_TARBALL_SHA256=57181cf6e6e711b155c5b942d591fd63ded0b5de5c4922d51fd994e7f6ac2772
ARG ORT_LIB_SHA256_AMD64=53ef1ac028dd1b05554b8da28d9159eb3876f99868193d2aaa6e67f0243c23d4
ARG ORT_LIB_SHA256_ARM64=7954e8bdedb497f830c6a679e818d98399b7f4d81ade1126c3e0be74d28111ab
ARG NPM_REGISTRY
ARG TARGETARCH
WORKDIR /ort
RUN <<EOF
set -eu
case "${TARGETARCH}" in
	amd64) dir=x64 want="${ORT_LIB_SHA256_AMD64}" ;;
	arm64) dir=arm64 want="${ORT_LIB_SHA256_ARM64}" ;;
	*) echo "no ONNX Runtime build in onnxruntime-node for ${TARGETARCH}" >&2; exit 1 ;;
esac
npm pack --silent ${NPM_REGISTRY:+--registry "${NPM_REGISTRY}"} "onnxruntime-node@${ORT_VERSION}" >/dev/null
echo "${ORT_TARBALL_SHA256}  onnxruntime-node-${ORT_VERSION}.tgz" | sha256sum -c -
tar -xzf "onnxruntime-node-${ORT_VERSION}.tgz" -O "package/bin/napi-v6/linux/${dir}/libonnxruntime.so.1" >libonnxruntime.so.1
echo "${want}  libonnxruntime.so.1" | sha256sum -c -
rm "onnxruntime-node-${ORT_VERSION}.tgz"
EOF

# build compiles kiln-serve and kiln with cgo for the target platform.
FROM ${GO_IMAGE} AS build
ARG GOPROXY
WORKDIR /src
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod go mod download
COPY . .
ARG VERSION=dev
RUN --mount=type=cache,target=/go/pkg/mod --mount=type=cache,target=/root/.cache/go-build <<EOF
set -eu
for cmd in serve:kiln-serve kiln:kiln; do
	CGO_ENABLED=1 go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o "/out/bin/${cmd#*:}" "./cmd/${cmd%%:*}"
done
EOF

# build-static cross-compiles the pure-Go kiln-registry on the build platform.
FROM --platform=$BUILDPLATFORM ${GO_IMAGE} AS build-static
ARG GOPROXY
ARG TARGETOS
ARG TARGETARCH
WORKDIR /src
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod go mod download
COPY . .
ARG VERSION=dev
RUN --mount=type=cache,target=/go/pkg/mod --mount=type=cache,target=/root/.cache/go-build \
	CGO_ENABLED=0 GOOS=${TARGETOS} GOARCH=${TARGETARCH} \
	go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o /out/bin/kiln-registry ./cmd/registry

# registry is the kiln-registry image: one static binary on distroless, non-root.
FROM ${STATIC_IMAGE} AS registry
ARG VERSION=dev
ARG REVISION=unknown
ARG CREATED=unknown
LABEL org.opencontainers.image.title="kiln-registry" \
	org.opencontainers.image.description="Kiln model registry: versioned ONNX models with metrics, lineage and aliases, on S3" \
	org.opencontainers.image.source="https://github.com/kilnml/kiln" \
	org.opencontainers.image.url="https://github.com/kilnml/kiln" \
	org.opencontainers.image.version="${VERSION}" \
	org.opencontainers.image.revision="${REVISION}" \
	org.opencontainers.image.created="${CREATED}"
COPY --from=build-static /out/bin/kiln-registry /opt/kiln/bin/kiln-registry
ENV KILN_ADDR=:8081 \
	KILN_LOG_FORMAT=json
WORKDIR /home/nonroot
USER 65532:65532
EXPOSE 8081
ENTRYPOINT ["/opt/kiln/bin/kiln-registry"]

# serve is the default target: the serving node, with the kiln CLI for batch jobs.
FROM ${RUNTIME_IMAGE} AS serve
ARG VERSION=dev
ARG REVISION=unknown
ARG CREATED=unknown
LABEL org.opencontainers.image.title="kiln-serve" \
	org.opencontainers.image.description="Kiln serving node: ONNX models over the Open Inference Protocol v2, with the kiln CLI" \
	org.opencontainers.image.source="https://github.com/kilnml/kiln" \
	org.opencontainers.image.url="https://github.com/kilnml/kiln" \
	org.opencontainers.image.version="${VERSION}" \
	org.opencontainers.image.revision="${REVISION}" \
	org.opencontainers.image.created="${CREATED}"
RUN <<EOF
set -eu
groupadd --system --gid 65532 kiln
useradd --system --uid 65532 --gid kiln --home-dir /var/lib/kiln --no-create-home --shell /usr/sbin/nologin kiln
install -d -o kiln -g kiln /var/lib/kiln /var/cache/kiln
EOF
COPY --from=build /etc/ssl/certs/ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
COPY --from=ort /ort/libonnxruntime.so.1 /opt/kiln/lib/libonnxruntime.so.1
COPY --from=build /out/bin/ /opt/kiln/bin/
ENV PATH=/opt/kiln/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
	KILN_ADDR=:8000 \
	KILN_GRPC_ADDR=:8001 \
	KILN_LOG_FORMAT=json \
	KILN_ORT_LIB=/opt/kiln/lib/libonnxruntime.so.1 \
	KILN_CACHE_DIR=/var/cache/kiln \
	LANG=C.UTF-8
WORKDIR /var/lib/kiln
USER 65532:65532
EXPOSE 8000 8001
ENTRYPOINT ["/opt/kiln/bin/kiln-serve"]
