#!/usr/bin/env bash
# Installs what sessiond needs on a fresh Debian machine that has the Swift toolchain:
# system packages (only those missing) and, with --test, the Python test environment in .venv.
# Sourced by tools/run and tools/test; safe to run again.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

packages=(libnghttp2-dev libssl-dev libsqlite3-dev zlib1g-dev pkg-config curl openssl)
if [[ "${1:-}" == "--test" ]]; then
    packages+=(python3-venv nghttp2-client postgresql chromium)
fi

missing=()
for package in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
if ((${#missing[@]})); then
    echo "installing ${missing[*]}" >&2
    sudo_cmd=()
    [[ $(id -u) -eq 0 ]] || sudo_cmd=(sudo)
    "${sudo_cmd[@]}" apt-get update -qq
    DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq "${missing[@]}" >/dev/null
fi

if [[ "${1:-}" == "--test" ]]; then
    stamp=.venv/.requirements
    if [[ ! -x .venv/bin/python ]] || ! cmp -s tools/requirements-test.txt "$stamp"; then
        echo "creating the test virtual environment in .venv" >&2
        python3 -m venv .venv
        .venv/bin/pip install -q --disable-pip-version-check -r tools/requirements-test.txt
        cp tools/requirements-test.txt "$stamp"
    fi
fi
