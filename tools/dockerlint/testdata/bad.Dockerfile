FROM debian:trixie-slim as base
MAINTAINER someone
ENV MODE production
ARG API_TOKEN=abc
WORKDIR relative/dir
CMD echo hello

FROM debian:trixie-slim AS base
