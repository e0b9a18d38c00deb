#!/usr/bin/env bash
# Installs what the build and the tests need on a fresh Debian machine, once.
set -euo pipefail
need=()
command -v pkg-config >/dev/null 2>&1 || need+=(pkg-config)
pkg-config --exists libgcrypt 2>/dev/null || need+=(libgcrypt20-dev)
command -v openssl >/dev/null 2>&1 || need+=(openssl)
pkg-config --exists libssl 2>/dev/null || need+=(libssl-dev)   # tls-bench-openssl
command -v gnutls-serv >/dev/null 2>&1 || need+=(gnutls-bin)
command -v tstclnt >/dev/null 2>&1 || [ -x /usr/lib/nss/tstclnt ] || need+=(libnss3-tools)
if [ ${#need[@]} -gt 0 ]; then
  echo "setup: installing ${need[*]}"
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -q
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q "${need[@]}"
fi
