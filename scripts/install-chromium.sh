#!/usr/bin/env bash
# Installs the headless Chromium and the font that the codec server's Web UI
# test (codecserver/webui_test.go) drives. Idempotent: does nothing when both
# are already present. Needs root (or sudo) and the Debian package archive.
set -euo pipefail

shell=/usr/bin/chromium-headless-shell
font=/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf

if [ -x "$shell" ] && [ -e "$font" ]; then
	exit 0
fi

sudo=""
if [ "$(id -u)" -ne 0 ]; then
	if ! command -v sudo >/dev/null 2>&1; then
		echo "install-chromium: error: chromium-headless-shell is missing and this is not root; install the Debian packages chromium-headless-shell and fonts-dejavu-core" >&2
		exit 1
	fi
	sudo=sudo
fi

export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends chromium-headless-shell fonts-dejavu-core >/dev/null

if [ ! -x "$shell" ]; then
	echo "install-chromium: error: chromium-headless-shell installed but $shell is missing" >&2
	exit 1
fi
