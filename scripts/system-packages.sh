#!/usr/bin/env bash
# What the test suite needs from Debian that PyPI does not provide: Chromium, for the
# builds dashboard's browser test; autoconf, automake and libtool, for the autotools
# recipe built from a tarball without configure; debootstrap, for the Debian 11 root that
# zig-built wheels are proved in. Installs only what is missing; needs root (as on CI).
set -euo pipefail
packages=()
command -v chromium >/dev/null 2>&1 || packages+=(chromium)
command -v autoreconf >/dev/null 2>&1 || packages+=(autoconf automake libtool)
command -v debootstrap >/dev/null 2>&1 || packages+=(debootstrap)  # the Debian 11 root zig-built wheels are tried in
[ -f /usr/share/aclocal/ltdl.m4 ] || packages+=(libltdl-dev)  # LT_SYS_SYMBOL_USCORE, which libffi's configure.ac uses
if [ ${#packages[@]} -eq 0 ]; then
    exit 0
fi
if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
    echo "scripts/system-packages.sh: missing ${packages[*]}; install them with your system's package manager" >&2
    exit 0  # the tests that need them say so and skip
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${packages[@]}" >/dev/null
