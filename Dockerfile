# mcp-proxy container image (docs/operations.md, "Docker"). Two stages: the build stage compiles
# the release preset and packages it with CPack; the runtime stage installs that .deb, so the
# image has the package's files and its shared-library dependencies, and nothing of the build.
#   docker build -t mcp-proxy:0.1.0 .
#   docker run --rm -p 9090:9090 -e MCP_PROXY_TOKEN="$(openssl rand -hex 32)" mcp-proxy:0.1.0
# No container engine runs in this project's CI: ci/check-deploy.py lints this file instead.

FROM debian:12 AS build
# The build packages of ci/install-deps.sh (no test tools), plus what CPack's .deb needs.
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      g++ cmake ninja-build libboost1.81-dev libboost-json1.81-dev libboost-url1.81-dev \
      libssl-dev libcli11-dev libspdlog-dev dpkg-dev file \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY CMakeLists.txt CMakePresets.json LICENSE README.md ./
COPY proxy proxy
COPY mock-servers mock-servers
COPY packaging packaging
COPY docs docs
COPY examples examples
RUN cmake --preset release -DMCP_PROXY_BUILD_TESTS=OFF -DMCP_PROXY_BUILD_BENCH=OFF \
 && cmake --build build/release -j "$(nproc)" \
 && cd build/release && cpack -G DEB

FROM debian:12-slim
# The package (its dependencies from Debian), Node and npm for npx backends, the CA
# certificates HTTPS backends and npm need, and tini as PID 1.
COPY --from=build /src/build/release/mcp-proxy_*.deb /tmp/
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      /tmp/mcp-proxy_*.deb nodejs npm ca-certificates tini \
 && rm -rf /var/lib/apt/lists/* /tmp/mcp-proxy_*.deb \
 && groupadd --system --gid 10001 mcp-proxy \
 && useradd --system --uid 10001 --gid 10001 --create-home --home-dir /home/mcp-proxy \
      --shell /usr/sbin/nologin mcp-proxy
# Listens on 0.0.0.0:9090 and needs a token: MCP_PROXY_TOKEN (docs/operations.md).
COPY packaging/container-config.json /etc/mcp-proxy/config.json
COPY packaging/healthcheck.sh /usr/local/bin/mcp-proxy-healthcheck
# Numeric, so Kubernetes' runAsNonRoot can verify it.
USER 10001:10001
WORKDIR /home/mcp-proxy
ENV HOME=/home/mcp-proxy
EXPOSE 9090
HEALTHCHECK --interval=30s --timeout=5s --start-period=15s --retries=3 \
  CMD ["/usr/local/bin/mcp-proxy-healthcheck", "9090"]
# tini passes every signal on to mcp-proxy (SIGTERM drains, SIGHUP reloads) and reaps the
# orphans a backend leaves (npx's grandchildren), which PID 1 must do and mcp-proxy does not.
ENTRYPOINT ["/usr/bin/tini", "--", "/usr/bin/mcp-proxy"]
CMD ["--config", "/etc/mcp-proxy/config.json"]
