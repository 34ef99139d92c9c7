#!/usr/bin/env bash
# Provides node_modules/mediasoup/worker/out/Release/mediasoup-worker, where mediasoup looks
# for its worker by default, so nothing has to be set at run time.
#
# The worker is built offline from the npm package against Debian's libraries (meson shims,
# scripts/mediasoup/write-shims.sh), with libsrtp built from Debian's source on OpenSSL and
# linked statically (scripts/mediasoup/build-libsrtp.sh), and with the DTLS kTLS fix
# (scripts/mediasoup/dtls-ktls-fix.patch), and with H.265 back in its codec table, which
# mediasoup 3.19 dropped (scripts/mediasoup/h265-codec.patch). A build takes 4-7 minutes on 2 cores, so the
# binary is cached outside the checkout, keyed by mediasoup version, platform and a hash of
# this recipe; a fresh clone on the same machine reuses it.
#
# Usage: build-mediasoup-worker.sh [mediasoup-package-dir]   (default: node_modules/mediasoup)
#        build-mediasoup-worker.sh --print-key                 (the cache key; nothing is built)
# Env:   TESSERA_CACHE_DIR  cache root (default: $XDG_CACHE_HOME/tessera or ~/.cache/tessera)
#        MS_JOBS            parallel compile jobs (default: nproc)
set -euo pipefail

REPO=$(cd "$(dirname "$0")/.." && pwd)
PRINT_KEY=
if [ "${1:-}" = "--print-key" ]; then PRINT_KEY=1; shift; fi
PKG=$(cd "${1:-$REPO/node_modules/mediasoup}" && pwd)
VERSION=$(node -p "require('$PKG/package.json').version")
PLATFORM="$(uname -m)-$(. /etc/os-release && echo "${ID}${VERSION_ID:-}")"
# Keep this list and its order in step with media-node/workers/workerBinary.ts.
RECIPE=$(cd "$REPO" && printf '%s\n' scripts/build-mediasoup-worker.sh scripts/mediasoup/* | LC_ALL=C sort \
  | xargs cat | sha256sum | cut -c1-16)
KEY="mediasoup-worker-$VERSION-$PLATFORM-$RECIPE"
CACHE_ROOT=${TESSERA_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/tessera}
CACHED="$CACHE_ROOT/$KEY/mediasoup-worker"
TARGET="$PKG/worker/out/Release/mediasoup-worker"
STAMP="$TARGET.tessera-build"
if [ -n "$PRINT_KEY" ]; then echo "$KEY"; exit 0; fi

install_cached() {
  mkdir -p "$(dirname "$TARGET")"
  cp "$CACHED" "$TARGET.tmp" && mv "$TARGET.tmp" "$TARGET"
  echo "$KEY" > "$STAMP"
}

if [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$KEY" ] && [ -x "$TARGET" ]; then
  echo "[worker] $KEY already in place"
  exit 0
fi
mkdir -p "$CACHE_ROOT"
exec 9>"$CACHE_ROOT/.build.lock"
flock 9 # one build at a time per machine; a second caller then finds the cache filled
if [ -x "$CACHED" ]; then
  install_cached
  echo "[worker] $KEY from cache ($CACHE_ROOT)"
  exit 0
fi

for tool in meson ninja flatc pkg-config g++ patch; do
  command -v "$tool" >/dev/null || { echo "[worker] '$tool' missing: run scripts/setup-machine.sh" >&2; exit 1; }
done

started=$(date +%s)
WORK=$(mktemp -d "${TMPDIR:-/tmp}/tessera-worker.XXXXXX")
LOG="$CACHE_ROOT/$KEY.build.log"
echo "[worker] building $KEY (4-7 minutes on 2 cores, once per machine); log: $LOG"
# A line every 20 s meanwhile, with ninja's step count once compiling, so a first start is not silent.
# Its sleep is waited for, so that a kill ends the sleep too (no stray process holding stdout).
(
  trap 'kill $! 2>/dev/null || true; exit 0' TERM
  while :; do
    sleep 20 &
    wait $!
    step=$(grep -o '^\[[0-9]*/[0-9]*\]' "$LOG" 2>/dev/null | tail -1 || true)
    echo "[worker] still building ($(( $(date +%s) - started )) s${step:+, compiling $step})"
  done
) &
PROGRESS=$!
trap 'kill "$PROGRESS" 2>/dev/null || true; rm -rf "$WORK"' EXIT
cp -r "$PKG/worker" "$WORK/worker"
W="$WORK/worker"
# set -e is ignored inside `{ } || ...`, so the steps run in their own errexit subshell.
set +e
(
  set -euo pipefail
  bash "$REPO/scripts/mediasoup/build-libsrtp.sh" "$WORK/libsrtp"
  bash "$REPO/scripts/mediasoup/write-shims.sh" "$W" "$WORK/libsrtp"
  for p in "$REPO"/scripts/mediasoup/*.patch; do patch -d "$W" -p1 < "$p"; done
  # Debian bookworm has meson 1.0.1; mediasoup asks for >= 1.1.0 but builds with 1.0.1.
  sed -i -E "s/meson_version *: *'>= *1\.[1-9][0-9.]*'/meson_version: '>= 1.0.0'/" "$W/meson.build"
  # liburing off: Debian's 2.3 lacks APIs the worker uses; it falls back to libuv sends.
  cd "$W"
  meson setup --wrap-mode=nodownload --buildtype=release -Db_ndebug=true \
    -Dms_disable_liburing=true out/build
  meson compile -C out/build flatbuffers-generator
  ninja -C out/build -j "${MS_JOBS:-$(nproc)}" mediasoup-worker
) > "$LOG" 2>&1
rc=$?
set -e
kill "$PROGRESS" 2>/dev/null || true
if [ $rc -ne 0 ]; then
  tail -40 "$LOG" >&2
  echo "[worker] build failed, full log: $LOG" >&2
  exit 1
fi

mkdir -p "$(dirname "$CACHED")"
strip -o "$CACHED.tmp" "$W/out/build/mediasoup-worker"
mv "$CACHED.tmp" "$CACHED"
install_cached
echo "[worker] built $KEY in $(( $(date +%s) - started )) s; cached at $CACHED"
