# check=error=true;experimental=all
ARG BASE=debian:trixie-slim

# app is a tiny image.
FROM ${BASE} AS app
ENV MODE=production
WORKDIR /srv
USER 65532:65532
CMD ["echo", "hello"]
