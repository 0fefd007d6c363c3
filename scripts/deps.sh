#!/usr/bin/env bash
# Installs the Debian packages espat needs to build and test, if any are
# missing. On a machine that has them all, it does no apt work at all.
# Append new packages to PACKAGES (one list, so the check stays exact).
set -euo pipefail

PACKAGES=(
	gcc make libc6-dev
	libcmocka-dev libinih-dev libjansson-dev libc-ares-dev libssl-dev
	clang libclang-rt-14-dev
	python3 python3-serial python3-pytest python3-zeroconf python3-dnspython python3-cryptography
	socat openssl procps dnsmasq-base iproute2 iputils-ping
	netcat-openbsd picocom python3-pytest-xdist
	mosquitto mosquitto-clients python3-paho-mqtt
	python3-websockets
	gunicorn python3-httpbin
	mtools dosfstools
	chromium chromium-driver python3-selenium
	linux-libc-dev
)

missing=()
for p in "${PACKAGES[@]}"; do
	status=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
	[ "$status" = installed ] || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "deps.sh: installing ${missing[*]}" >&2
sudo=()
if [ "$(id -u)" -ne 0 ]; then
	command -v sudo >/dev/null 2>&1 || {
		echo "deps.sh: missing packages (${missing[*]}) and not root, no sudo" >&2
		exit 1
	}
	sudo=(sudo)
fi
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update
"${sudo[@]}" apt-get install -y --no-install-recommends "${missing[@]}"
