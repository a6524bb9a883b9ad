# syntax=docker/dockerfile:1
# tlogwatch container image (docs/operations.md). Two stages on the Node 24 LTS slim image:
#   build    npm ci (with dev dependencies: TypeScript), tsc -p tsconfig.build.json -> dist/, and the
#            native Merkle addon (native/merkle.c, gcc from Debian) -> build/native/merkle.node
#   runtime  production dependencies only, dist/ and build/, tini as PID 1, a non-root user, state only in /data,
#            node on jemalloc with 16 MB semi-spaces (docs/operations.md "Memory")
# The compiler stays in the build stage: the addon needs only libc and the node binary at run time.
# test/ops/dockerfile.test.ts lints this file and checks these properties; test/ops/image-commands.test.ts
# runs the same commands outside a container (no Docker engine in CI).

FROM node:24-slim AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends gcc libc6-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json ./
RUN --mount=type=cache,target=/root/.npm npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build
# --strict: an image without the fast path fails its build rather than shipping ~10x slower proof checks.
COPY native ./native
RUN npm run build:native -- --strict

FROM node:24-slim AS runtime
ARG VERSION=0.1.0
LABEL org.opencontainers.image.title="tlogwatch" \
      org.opencontainers.image.description="A verified local mirror and monitor of Sigstore's transparency logs" \
      org.opencontainers.image.source="https://github.com/tlogwatch/tlogwatch" \
      org.opencontainers.image.documentation="https://github.com/tlogwatch/tlogwatch/blob/main/docs/operations.md" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.licenses="Apache-2.0"
# tini reaps zombies and forwards SIGTERM to node, which then commits its current batch and exits 0.
# A fixed numeric uid/gid so Kubernetes' runAsNonRoot can check it and volumes can be chowned ahead.
RUN apt-get update \
 && apt-get install -y --no-install-recommends tini libjemalloc2 \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 10001 tlogwatch \
 && useradd --system --uid 10001 --gid tlogwatch --home-dir /data --no-create-home --shell /usr/sbin/nologin tlogwatch \
 && mkdir -p /data \
 && chown 10001:10001 /data
WORKDIR /app
ENV NODE_ENV=production
# Memory (BENCHMARKS.md "Ingest", docs/operations.md "Memory"): jemalloc instead of glibc's malloc, whose
# arenas LevelDB's threads and Node's buffers fragment; a bare soname, so ld.so finds it on any architecture.
# MALLOC_CONF: a background thread hands freed pages back to the kernel after half a second instead of ten
# (jemalloc's default), so a catch-up peaks ~15% lower and an idle daemon gives back what the catch-up used.
ENV LD_PRELOAD=libjemalloc.so.2 \
    MALLOC_CONF=background_thread:true,dirty_decay_ms:500,muzzy_decay_ms:0
# package.json also carries "type": "module", which dist/*.js needs.
COPY package.json package-lock.json ./
RUN --mount=type=cache,target=/root/.npm npm ci --omit=dev --no-audit --no-fund
COPY --from=build /app/dist ./dist
COPY --from=build /app/build ./build
USER 10001:10001
# Everything the daemon writes (LevelDB store, TUF cache) lives under the data directory, so the
# container runs with a read-only root filesystem.
VOLUME ["/data"]
EXPOSE 8080
# The healthcheck reads its URL from the environment so a changed --listen port needs no new image.
ENV TLOGWATCH_HEALTHCHECK_URL=http://127.0.0.1:8080/healthz
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch(process.env.TLOGWATCH_HEALTHCHECK_URL, { signal: AbortSignal.timeout(4000) }).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# Memory over catch-up speed (docs/operations.md "Memory"): --max-semi-space-size=4 keeps V8's young
# generation at 12 MB (it grows to 128 MB during a catch-up otherwise), and --expose-gc lets the catch-up
# pace full collections (src/mirror/gc-pacer.ts). With jemalloc, a 1M-entry catch-up then peaks under
# 300 MB, ~170 MB lower than under Node's defaults, at about their speed (BENCHMARKS.md "Ingest").
ENTRYPOINT ["/usr/bin/tini", "--", "node", "--max-semi-space-size=4", "--expose-gc", "/app/dist/cli.js"]
CMD ["serve", "--data-dir", "/data", "--listen", "0.0.0.0:8080"]
