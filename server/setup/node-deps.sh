#!/usr/bin/env bash
# Install npm dependencies when they are missing or older than the lockfile. Everything else setup does
# (Debian packages, the docker CLI, the image catalog) runs in TypeScript once these exist.
set -euo pipefail
cd "$(dirname "$0")/../.."
# node-pty is a native addon built by node-gyp at install: it needs a C++ toolchain and python3.
if ! command -v g++ >/dev/null || ! command -v make >/dev/null || ! command -v python3 >/dev/null; then
  echo "layerlab: installing build tools for native npm modules…" >&2
  apt-get update -q >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends build-essential python3 >&2
fi
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "layerlab: installing npm dependencies…" >&2
  npm ci --no-audit --no-fund --loglevel=error >&2
fi
