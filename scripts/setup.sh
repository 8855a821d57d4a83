#!/usr/bin/env bash
# setup.sh installs what sacrum's build, tests and demo need and is missing on this machine:
# Debian packages (DICOM peers, validators, Chromium for page tests) and the
# official ONNX Runtime shared library, extracted from the npm package onnxruntime-node (its install
# script is never run). Idempotent: a second run does nothing.
#
# Usage: scripts/setup.sh [--minimal]   (--minimal: only what `make demo` needs: ONNX Runtime)
set -euo pipefail

cd "$(dirname "$0")/.."
ORT_VERSION=1.30.0
CACHE=${SACRUM_CACHE:-$PWD/.cache}
ORT_DIR=$CACHE/onnxruntime-$ORT_VERSION
minimal=false
[ "${1:-}" = "--minimal" ] && minimal=true

need_go() {
	if ! command -v go >/dev/null 2>&1; then
		echo "setup: Go is not on PATH (expected /usr/local/go/bin/go)" >&2
		exit 1
	fi
}

# retry runs a command up to three times, 5 s and 15 s apart: a registry's passing failure should not
# fail CI.
retry() {
	local delay
	for delay in 5 15 0; do
		if "$@"; then
			return 0
		fi
		[ "$delay" -eq 0 ] && break
		echo "setup: '$*' failed; retrying in ${delay} s" >&2
		sleep "$delay"
	done
	echo "setup: '$*' failed three times" >&2
	return 1
}

apt_install() {
	local missing=()
	# command:package pairs; a package is installed only when its command is missing.
	for pair in "$@"; do
		local cmd=${pair%%:*} pkg=${pair##*:}
		if ! command -v "$cmd" >/dev/null 2>&1 && ! [ -e "$cmd" ]; then
			missing+=("$pkg")
		fi
	done
	if [ ${#missing[@]} -gt 0 ]; then
		echo "setup: installing Debian packages: ${missing[*]}"
		export DEBIAN_FRONTEND=noninteractive
		retry apt-get update -qq
		retry apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
	fi
}

ort() {
	if [ -f "$ORT_DIR/libonnxruntime.so.1" ]; then
		return
	fi
	echo "setup: fetching ONNX Runtime $ORT_VERSION (npm package onnxruntime-node, no install script run)"
	command -v npm >/dev/null 2>&1 || apt_install npm:npm
	local tmp
	tmp=$(mktemp -d)
	(cd "$tmp" && retry npm pack --silent "onnxruntime-node@$ORT_VERSION" >/dev/null)
	tar -xzf "$tmp"/onnxruntime-node-"$ORT_VERSION".tgz -C "$tmp" package/bin/napi-v6/linux/x64
	mkdir -p "$ORT_DIR"
	cp "$tmp"/package/bin/napi-v6/linux/x64/libonnxruntime.so.* "$ORT_DIR"/
	[ -f "$ORT_DIR/libonnxruntime.so.1" ] || cp "$ORT_DIR"/libonnxruntime.so.1.* "$ORT_DIR/libonnxruntime.so.1"
	rm -rf "$tmp"
}

need_go
ort
if ! $minimal; then
	apt_install \
		storescu:dcmtk \
		dciodvfy:dicom3tools \
		Orthanc:orthanc \
		dcm2niix:dcm2niix \
		chromium:chromium
	# Orthanc's Debian package starts a system service; sacrum's tests start their own on loopback.
	if command -v systemctl >/dev/null 2>&1; then systemctl stop orthanc >/dev/null 2>&1 || true; fi
	if command -v service >/dev/null 2>&1; then service orthanc stop >/dev/null 2>&1 || true; fi
fi
if [ "${1:-}" = "--golden" ]; then
	# Only for regenerating golden values (make golden); tests never need R or Python.
	apt_install \
		/usr/share/doc/r-cran-proc:r-cran-proc /usr/share/doc/r-cran-glmnet:r-cran-glmnet \
		/usr/share/doc/r-cran-hmisc:r-cran-hmisc /usr/share/doc/r-cran-psych:r-cran-psych \
		/usr/lib/python3/dist-packages/torch:python3-torch
fi
echo "setup: ok (ONNX Runtime: $ORT_DIR/libonnxruntime.so.1)"
