# syntax=docker/dockerfile:1
# One image with the three oomcast binaries:
#   /usr/local/bin/oomcast-predictor, oomcast-metrics-adapter, oomcast-controller
# Build:  docker build -t oomcast/oomcast:0.1.0 .
#
# The build stage runs scripts/setup.sh, the same script the README tells developers to run:
# it installs the Debian 12 build dependencies and builds the project into ./build. The runtime
# stage gets only the shared libraries the binaries load (tests/chart/check_dockerfile.sh checks
# that against the setup script and, where built binaries exist, against their ldd).

FROM debian:12 AS build
ENV DEBIAN_FRONTEND=noninteractive \
    OOMCAST_SKIP_NODE_TOOLS=1
WORKDIR /src
COPY . .
RUN scripts/setup.sh \
 && mkdir -p /out \
 && for bin in oomcast-predictor oomcast-metrics-adapter oomcast-controller; do \
      path=$(find build -type f -name "$bin" -perm -u+x | head -n 1); \
      if [ -z "$path" ]; then echo "build did not produce $bin" >&2; exit 1; fi; \
      install -s -m 0755 "$path" "/out/$bin"; \
    done

FROM debian:12-slim
ARG VERSION=0.1.0
LABEL org.opencontainers.image.title="oomcast" \
      org.opencontainers.image.description="Forecasts container OOM kills; external.metrics.k8s.io adapter and MemoryScaler controller" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.licenses="Apache-2.0"
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      ca-certificates \
      libssl3 \
      zlib1g \
      libprometheus-cpp-core1.0 \
      libprometheus-cpp-pull1.0 \
      libyaml-cpp0.7 \
      libboost-system1.74.0 \
      libboost-program-options1.74.0 \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --gid 65532 nonroot \
 && useradd --uid 65532 --gid 65532 --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin nonroot
COPY --from=build /out/ /usr/local/bin/
USER 65532:65532
WORKDIR /
EXPOSE 8080 6443
CMD ["/usr/local/bin/oomcast-predictor", "serve", "--config", "/etc/oomcast/config.yaml"]
