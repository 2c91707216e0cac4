#!/usr/bin/env bash
# Installs the Debian packages ringdb needs (only those missing) and builds
# it in build/ (RelWithDebInfo). Sourced by shell.sh and test.sh; safe to
# run again.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PACKAGES=(build-essential cmake ninja-build pkg-config
          liburing-dev libxxhash-dev libgtest-dev librocksdb-dev liblmdb-dev
          libedit-dev libgflags-dev gnuplot-nox fio
          clang libclang-rt-14-dev  # clang: the libFuzzer targets
          python3 python3-pytest)   # the Python package and its tests

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "ringdb: installing ${missing[*]}" >&2
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

ringdb_build() {  # ringdb_build DIR [cmake args...]
  local dir="$1"; shift
  cmake -S "$ROOT" -B "$dir" -G Ninja "$@" >/dev/null
  cmake --build "$dir" -j"$(nproc)"
}
