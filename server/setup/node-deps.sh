#!/usr/bin/env bash
# Install npm dependencies when they are missing or older than the lockfile. Everything else setup does
# (Debian packages, the docker CLI, the image catalog) runs in TypeScript once these exist.
set -euo pipefail
cd "$(dirname "$0")/../.."
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "layerlab: installing npm dependencies…" >&2
  npm ci --no-audit --no-fund --loglevel=error >&2
fi
