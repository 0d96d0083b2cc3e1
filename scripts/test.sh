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

# The console's browser tests (tests/e2e/test_console.py) drive Debian's chromium through Playwright, whose
# own browser download is never used.
if ! command -v chromium >/dev/null 2>&1; then
    sudo_cmd=()
    [ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
    "${sudo_cmd[@]}" apt-get update -qq
    DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends chromium \
        >/dev/null
fi

# The Go module tests (tests/e2e/test_go.py) fetch and build modules from arca with Debian's go command.
if ! command -v go >/dev/null 2>&1; then
    sudo_cmd=()
    [ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
    "${sudo_cmd[@]}" apt-get update -qq
    DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends golang-go \
        >/dev/null
fi

# The container image tests (tests/e2e/test_oci.py) copy images with Debian's skopeo and build, push
# and pull one with buildah and podman; tests/e2e/test_oci_remote.py proxies Debian's docker-registry.
if ! command -v skopeo >/dev/null 2>&1 || ! command -v buildah >/dev/null 2>&1 || ! command -v podman >/dev/null 2>&1 \
    || ! command -v docker-registry >/dev/null 2>&1; then
    sudo_cmd=()
    [ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
    "${sudo_cmd[@]}" apt-get update -qq
    DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends skopeo buildah \
        podman docker-registry >/dev/null
fi

# The real S3 server the S3 blob store's tests start (built once, cached under ~/.cargo).
bash scripts/s3-server.sh install >/dev/null
cargo build --locked
# The store's connection tests run on PostgreSQL as well as SQLite: a throwaway cluster for the run
# (scripts/pg-server.sh installs Debian's postgresql when it is missing), kept for the end-to-end suite.
pg_dir=$(mktemp -d)
trap 'bash scripts/pg-server.sh stop "$pg_dir" >/dev/null 2>&1 || true; rm -rf "$pg_dir"' EXIT
export ARCA_TEST_PG_URL
ARCA_TEST_PG_URL=$(bash scripts/pg-server.sh start "$pg_dir")
cargo test --locked
# Every cargo-fuzz target for a short while, its build included (longer offline: scripts/fuzz.sh 600).
bash scripts/fuzz.sh "${FUZZ_SECONDS:-15}"

venv=$repo/.venv-e2e
if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv"
fi
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r tests/e2e/requirements.txt

export ARCA_BIN="$target_dir/debug/arca"
# The side-by-side benchmark's harness, in its smoke mode: one short round against arca alone (the debug
# binary the build above made; no peers installed), failing when a request or the harness does.
BENCH_PYTHON="$venv/bin/python" bench/run --smoke --report "$target_dir/bench-smoke.md" >"$target_dir/bench-smoke.log" 2>&1 ||
    { tail -n 40 "$target_dir/bench-smoke.log"; exit 1; }
echo "bench/run --smoke: ok ($target_dir/bench-smoke.md)"
# The console's browser tests save their screenshots (main pages, light and dark) here.
export ARCA_SCREENSHOTS="${ARCA_SCREENSHOTS:-$target_dir/screenshots}"
export ARCA_SHARED="${ARCA_SHARED:-$repo/../shared}"

# The end-to-end suite on the scale-out backends: every server's metadata in a fresh database of the
# PostgreSQL cluster above and its blobs on a real S3 server (s3s-fs). ARCA_TEST_S3_E2E=subset runs only the
# files that exercise the storage most (every package format, the 2 GiB stream, storage faults, crashes,
# races, refused uploads, purges); off skips it.
s3_e2e=${ARCA_TEST_S3_E2E:-all}
scale_out=(env ARCA_TEST_DB=pg ARCA_TEST_BLOBS=s3)
case $s3_e2e in
all) "${scale_out[@]}" "$venv/bin/python" -m pytest tests/e2e -q -p no:cacheprovider ;;
subset)
    files=()
    for name in generic maven npm pypi cargo go oci large storage_faults crash races refused_uploads repositories; do
        files+=("tests/e2e/test_$name.py")
    done
    "${scale_out[@]}" "$venv/bin/python" -m pytest "${files[@]}" -q -p no:cacheprovider
    ;;
off) ;;
*)
    echo "ARCA_TEST_S3_E2E must be all, subset or off" >&2
    exit 2
    ;;
esac

# Last, so that its summary is the closing line: the embedded defaults (SQLite and the filesystem), and
# the multi-node and migration tests, which bring their own PostgreSQL and S3 servers.
"$venv/bin/python" -m pytest tests/e2e -q -p no:cacheprovider
