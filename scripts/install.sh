#!/usr/bin/env bash
# Installs everything Tessera needs on this machine, idempotently: Debian packages, npm
# packages (again only when package-lock.json changed) and the mediasoup worker (from the
# cache outside the checkout when it was built before). Called by `npm start` and `npm test`.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup-machine.sh

want=$(cat package.json package-lock.json | sha256sum | cut -c1-16)
stamp=node_modules/.tessera-install
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  echo "[install] npm ci"
  npm ci --no-audit --no-fund --loglevel=error
  echo "$want" > "$stamp"
fi

bash scripts/build-mediasoup-worker.sh
