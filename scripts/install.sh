#!/usr/bin/env bash
# Installs everything Tessera needs on this machine, idempotently: Debian packages, npm
# packages (again only when package-lock.json changed) and the mediasoup worker (from the
# cache outside the checkout when it was built before). Called by `npm start` and `npm test`,
# and by a deployed media node's user data with TESSERA_PROFILE=media-node (no test tools).
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup-machine.sh

want=$(cat package.json package-lock.json | sha256sum | cut -c1-16)
stamp=node_modules/.tessera-install
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  # `npm install` against the committed lock, not `npm ci`: this machine's registry does not
  # serve some platform packages that other platforms' optional dependencies name (biome's),
  # which `npm ci` refuses; `npm install` installs the same locked tree and skips them.
  echo "[install] npm install (locked)"
  if [ "${TESSERA_PROFILE:-}" = "media-node" ]; then
    npm install --omit=dev --no-audit --no-fund --loglevel=error
  else
    npm install --no-audit --no-fund --loglevel=error
  fi
  echo "$want" > "$stamp"
fi

bash scripts/build-mediasoup-worker.sh
