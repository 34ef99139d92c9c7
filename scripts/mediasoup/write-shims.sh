#!/usr/bin/env bash
# Writes meson "shim" subprojects into a mediasoup worker tree so that it builds offline
# against Debian's libraries instead of downloading its wraps.
#
# Usage: write-shims.sh <worker-dir> <libsrtp-prefix>
#
# Every subproject('x') resolves through subprojects/x.wrap -> `directory = D`; when D
# exists, meson uses it and never downloads. Each shim exports the variables the real wrap
# exports, backed by dependency() on the Debian library. The link_whole variables are only
# used by the (unbuilt) shared-library target, but meson checks them, so they are empty
# static libraries. libsrtp is the exception: the shim links the static OpenSSL-backed
# build from build-libsrtp.sh, adapted to mediasoup's libsrtp3 API by srtp-compat.h.
set -euo pipefail

W=${1:?usage: $0 <worker-dir> <libsrtp-prefix>}
SRTP_PREFIX=${2:?usage: $0 <worker-dir> <libsrtp-prefix>}
HERE=$(cd "$(dirname "$0")" && pwd)

wrapdir() { sed -n 's/^directory *= *//p' "$W/subprojects/$1.wrap" | head -1; }

# Options mediasoup passes to subprojects via default_options; declared so meson accepts them.
OPTIONS="option('build_tests', type: 'string', value: 'false')
option('build_benchmarks', type: 'string', value: 'false')
option('crypto-library', type: 'string', value: 'openssl')
option('crypto-library-kdf', type: 'string', value: 'disabled')
option('tests', type: 'string', value: 'disabled')
option('sctp_build_programs', type: 'string', value: 'false')
option('sctp_debug', type: 'string', value: 'false')
option('sctp_inet', type: 'string', value: 'false')
option('sctp_inet6', type: 'string', value: 'false')"

for wrap in "$W"/subprojects/*.wrap; do
  name=$(basename "$wrap" .wrap)
  [ "$name" = wingetopt ] && continue # Windows only
  d="$W/subprojects/$(wrapdir "$name")"
  mkdir -p "$d"
  echo "typedef int tessera_shim_placeholder_t;" > "$d/dummy.c"
  echo "$OPTIONS" > "$d/meson_options.txt"
  case "$name" in
    openssl) cat > "$d/meson.build" <<'M'
project('openssl', 'c')
libssl_dep = dependency('libssl')
libcrypto_dep = dependency('libcrypto')
openssl_dep = dependency('openssl')
libssl_lib = static_library('shim_ssl', 'dummy.c')
libcrypto_lib = static_library('shim_crypto', 'dummy.c')
M
    ;;
    libuv) cat > "$d/meson.build" <<'M'
project('libuv', 'c')
libuv_dep = dependency('libuv')
libuv = static_library('shim_uv', 'dummy.c')
M
    ;;
    libsrtp3)
      mkdir -p "$d/include" "$d/prefix"
      cp "$HERE/srtp-compat.h" "$d/include/srtp.h"
      cp -r "$SRTP_PREFIX/include" "$SRTP_PREFIX/lib" "$d/prefix/"
      cat > "$d/meson.build" <<'M'
project('libsrtp3', 'c')
libsrtp3_dep = declare_dependency(
  include_directories: include_directories('include', 'prefix/include'),
  link_args: [meson.current_source_dir() / 'prefix' / 'lib' / 'libsrtp2.a'],
  dependencies: dependency('libcrypto'),
)
libsrtp3 = static_library('shim_libsrtp3', 'dummy.c')
M
    ;;
    usrsctp) cat > "$d/meson.build" <<'M'
project('usrsctp', 'c')
usrsctp_dep = dependency('usrsctp')
usrsctp = static_library('shim_usrsctp', 'dummy.c')
M
    ;;
    abseil-cpp) cat > "$d/meson.build" <<'M'
project('abseil-cpp', 'c')
absl_container_dep = declare_dependency(dependencies: [
  dependency('absl_flat_hash_map'), dependency('absl_flat_hash_set'),
  dependency('absl_node_hash_map'), dependency('absl_node_hash_set'),
  dependency('absl_btree'), dependency('absl_inlined_vector'),
])
absl_strings_dep = declare_dependency(dependencies: [dependency('absl_strings'), dependency('absl_str_format')])
absl_types_dep = declare_dependency(dependencies: [
  dependency('absl_optional'), dependency('absl_variant'), dependency('absl_span'),
])
absl_base_dep = declare_dependency(dependencies: [dependency('absl_base'), dependency('absl_memory')])
absl_container_lib = static_library('shim_absl', 'dummy.c')
M
    ;;
    flatbuffers) cat > "$d/meson.build" <<'M'
project('flatbuffers', 'c')
# flatc itself: worker/fbs/meson.build finds /usr/bin/flatc (Debian 2.0.8, same as the headers).
flatbuffers_dep = dependency('flatbuffers')
flatbuffers_lib = static_library('shim_flatbuffers', 'dummy.c')
M
    ;;
    catch2) cat > "$d/meson.build" <<'M'
project('catch2', 'c')
# Only the worker's own test binary needs Catch2; it is not built.
catch2_dep = declare_dependency()
catch2_with_main_dep = declare_dependency()
M
    ;;
    liburing) cat > "$d/meson.build" <<'M'
project('liburing', 'c')
# Not used: Debian's liburing 2.3 lacks APIs the worker needs (built with ms_disable_liburing).
liburing = static_library('shim_liburing', 'dummy.c')
M
    ;;
    *) echo "[shims] no shim for wrap '$name': meson would try to download it" >&2; exit 1 ;;
  esac
done
