#!/usr/bin/env bash
# System packages the test suite needs (Debian). Idempotent; skips what is already installed.
#   prometheus               prometheus + promtool: alert rule tests and the end-to-end Prometheus test
#   prometheus-alertmanager  amtool and prometheus-alertmanager: check grafana/alertmanager.yml and run it
#   tini                     the image's PID 1, to run the Dockerfile's ENTRYPOINT outside a container
#   gcc, libc6-dev           the native Merkle addon (native/build.ts), which the tests expect to be built
#   libjemalloc2             the allocator the image preloads (Dockerfile), so the image test runs with it
set -euo pipefail
need=()
command -v prometheus >/dev/null 2>&1 && command -v promtool >/dev/null 2>&1 || need+=(prometheus)
command -v amtool >/dev/null 2>&1 && command -v prometheus-alertmanager >/dev/null 2>&1 || need+=(prometheus-alertmanager)
command -v tini >/dev/null 2>&1 || need+=(tini)
command -v cc >/dev/null 2>&1 || need+=(gcc libc6-dev)
ldconfig -p 2>/dev/null | grep -q 'libjemalloc\.so\.2 ' || need+=(libjemalloc2)
if [ "${#need[@]}" -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
