#!/usr/bin/env bash
# The project's test command (CI runs it through .ci/run): build arca, run the Rust tests, fuzz every parser
# target briefly, then the end-to-end suite that drives the real binary with the official Huawei Cloud
# SDKs. pytest runs last, so its summary is the closing line; any failure makes the script exit non-zero.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
repo=$PWD
target_dir=${CARGO_TARGET_DIR:-target}
case $target_dir in /*) ;; *) target_dir=$repo/$target_dir ;; esac

# The real Maven client runs offline in the end-to-end suite: Debian packages the plugins it needs
# (/usr/share/maven-repo), so no Central is involved.
maven_packages=(maven libmaven-deploy-plugin-java libmaven-install-plugin-java libmaven-compiler-plugin-java
    libmaven-jar-plugin-java libmaven-resources-plugin-java libsurefire-java libmaven-clean-plugin-java
    libmaven-dependency-plugin-java maven-debian-helper)
if ! dpkg -s "${maven_packages[@]}" >/dev/null 2>&1; then
    sudo_cmd=()
    [ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
    "${sudo_cmd[@]}" apt-get update -qq
    DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends \
        "${maven_packages[@]}" >/dev/null
fi

# The real S3 server the S3 blob store's tests start (built once, cached under ~/.cargo).
bash scripts/s3-server.sh install >/dev/null
cargo build --locked
cargo test --locked
# Every cargo-fuzz target for a short while, its build included (longer offline: scripts/fuzz.sh 600).
bash scripts/fuzz.sh "${FUZZ_SECONDS:-15}"

venv=$repo/.venv-e2e
if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv"
fi
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r tests/e2e/requirements.txt

ARCA_BIN="$target_dir/debug/arca" \
ARCA_SHARED="${ARCA_SHARED:-$repo/../shared}" \
    "$venv/bin/python" -m pytest tests/e2e -q -p no:cacheprovider
