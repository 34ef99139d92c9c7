#!/usr/bin/env bash
# Installs the Debian packages Tessera needs on a fresh Debian bookworm machine.
# Idempotent: packages already present are left alone, and apt is only asked when
# something is missing.
set -euo pipefail

# TESSERA_PROFILE=media-node (a deployed media node) needs only what builds and runs the node.
PACKAGES=(
  # mediasoup worker build (scripts/build-mediasoup-worker.sh)
  build-essential pkg-config meson ninja-build
  libssl-dev libuv1-dev libusrsctp-dev libabsl-dev libflatbuffers-dev flatbuffers-compiler
  # media processing
  ffmpeg
  # TURN beside the media node (coturn), and its TLS certificate
  coturn openssl
)
if [ "${TESSERA_PROFILE:-}" != "media-node" ]; then
  PACKAGES+=(
    # local cluster and tests
    redis-server openjdk-17-jre-headless chromium
    # fonts so Chromium renders the demo page and its fake camera text
    fonts-liberation
    # network-fault tests: namespaces, veth pairs and packet filters (test/harness/netns.ts)
    iproute2 nftables iptables
    # RTSP peer for the streaming tests (test/harness/peers/gst-rtsp-server.py)
    gstreamer1.0-rtsp gir1.2-gst-rtsp-server-1.0 python3-gi gstreamer1.0-plugins-base
    gstreamer1.0-plugins-good gstreamer1.0-plugins-bad gstreamer1.0-plugins-ugly gstreamer1.0-libav
  )
fi

missing=()
for pkg in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "[setup] all ${#PACKAGES[@]} Debian packages present"
  exit 0
fi

if ! command -v apt-get >/dev/null 2>&1; then
  echo "[setup] apt-get not found: Tessera's setup needs Debian (bookworm) or a derivative." >&2
  echo "[setup] install these by hand: ${missing[*]}" >&2
  exit 1
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "[setup] missing packages: ${missing[*]}" >&2
  echo "[setup] run as root (or: sudo bash scripts/setup-machine.sh) to install them." >&2
  exit 1
fi

echo "[setup] installing: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -o DPkg::Lock::Timeout=600
apt-get install -y -o DPkg::Lock::Timeout=600 --no-install-recommends "${missing[@]}"
# Debian starts a freshly installed coturn with its default configuration, which relays for
# anyone. Tessera runs coturn with its own (the media node's user data, the embedded server).
if [[ " ${missing[*]} " == *" coturn "* ]] && command -v systemctl >/dev/null 2>&1; then
  systemctl disable --now coturn >/dev/null 2>&1 || true
fi
