#!/usr/bin/env bash
# The project's test command (CI runs it through .ci/run): build arca, run the Rust tests, then the
# end-to-end suite that drives the real binary with the official Huawei Cloud SDKs. pytest runs last,
# so its summary is the closing line; any failure makes the script exit non-zero.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
repo=$PWD
target_dir=${CARGO_TARGET_DIR:-target}
case $target_dir in /*) ;; *) target_dir=$repo/$target_dir ;; esac

cargo build --locked
cargo test --locked

venv=$repo/.venv-e2e
if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv"
fi
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r tests/e2e/requirements.txt

ARCA_BIN="$target_dir/debug/arca" \
ARCA_SHARED="${ARCA_SHARED:-$repo/../shared}" \
    "$venv/bin/python" -m pytest tests/e2e -q -p no:cacheprovider
