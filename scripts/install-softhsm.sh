#!/usr/bin/env bash
# Installs SoftHSM2, the software PKCS#11 token the codec/pkcs11 tests run
# against. Idempotent: does nothing when the library is already present.
# Needs root (or sudo) and the Debian package archive.
set -euo pipefail

lib=/usr/lib/softhsm/libsofthsm2.so

if [ -e "$lib" ] && command -v softhsm2-util >/dev/null 2>&1; then
	exit 0
fi

sudo=""
if [ "$(id -u)" -ne 0 ]; then
	if ! command -v sudo >/dev/null 2>&1; then
		echo "install-softhsm: error: softhsm2 is missing and this is not root; install the Debian package softhsm2" >&2
		exit 1
	fi
	sudo=sudo
fi

export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends softhsm2 >/dev/null

if [ ! -e "$lib" ]; then
	echo "install-softhsm: error: softhsm2 installed but $lib is missing" >&2
	exit 1
fi
