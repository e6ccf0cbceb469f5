#!/bin/sh
# Install the Debian 12 packages tangle needs (as root; skipped when present).
set -eu
packages="build-essential cmake pkg-config clang libclang-rt-14-dev
  libdw-dev libelf-dev elfutils libcmocka-dev gdb lldb-16 python3-lldb-16
  liblldb-16-dev python3 procps"
missing=""
for p in $packages; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" ||
    missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" != 0 ]; then
  echo "tangle: missing Debian packages:$missing (run as root to install)" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends $missing >/dev/null
