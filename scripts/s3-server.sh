#!/usr/bin/env bash
# A real S3 server on loopback for the tests of arca's S3 blob store: s3s-fs (crates.io), built once with
# `cargo install --locked` and cached under ~/.cargo, so later runs (and CI on the same machine) start it at
# once. No mock: it speaks the S3 REST API with SigV4 authentication, multipart uploads, ranged GETs,
# CopyObject and ListObjectsV2, and keeps objects as files in a directory.
#
#   scripts/s3-server.sh install        build and cache the server (idempotent), print its path
#   scripts/s3-server.sh start DIR [PORT]
#                                       start it with its data in DIR (a bucket named `arca-test` is
#                                       made; DIR may hold a previous run's data) on PORT (default: a
#                                       free one), wait until it answers, and print `export` lines:
#                                       ARCA_TEST_S3_ENDPOINT, ARCA_TEST_S3_BUCKET, AWS_ACCESS_KEY_ID,
#                                       AWS_SECRET_ACCESS_KEY, ARCA_TEST_S3_PID. Stop it with
#                                       `kill $ARCA_TEST_S3_PID`.
#
# The version is the newest s3s-fs whose rust-version the toolchain (rust-toolchain.toml, 1.95) meets:
# 0.15 and later ask for 1.96.
set -euo pipefail

S3S_FS_VERSION=0.14.1
cache=${ARCA_S3S_CACHE:-${CARGO_HOME:-$HOME/.cargo}/arca-tools/s3s-fs-$S3S_FS_VERSION}
bin=$cache/bin/s3s-fs
# Fixed, test-only credentials: the server listens on loopback only and holds throwaway data.
access_key=arca-test-access-key
secret_key=arca-test-secret-key-0123456789
bucket=arca-test

install() {
    if [ ! -x "$bin" ]; then
        echo "building s3s-fs $S3S_FS_VERSION into $cache (once)" >&2
        cargo install s3s-fs --version "=$S3S_FS_VERSION" --features binary --locked \
            --root "$cache" --quiet >&2
    fi
    echo "$bin"
}

start() {
    local dir=${1:?usage: s3-server.sh start DIR [PORT]} port=${2:-0}
    install >/dev/null
    mkdir -p "$dir/data/$bucket"
    # Port 0: the kernel picks a free port and the server logs the address it bound.
    RUST_LOG=s3s_fs=info "$bin" --host 127.0.0.1 --port "$port" \
        --access-key "$access_key" --secret-key "$secret_key" "$dir/data" >"$dir/s3s-fs.log" 2>&1 &
    local pid=$! endpoint=
    for _ in $(seq 1 100); do
        endpoint=$(grep -o 'http://127\.0\.0\.1:[0-9]*' "$dir/s3s-fs.log" | head -n1 || true)
        [ -n "$endpoint" ] && break
        if ! kill -0 "$pid" 2>/dev/null; then
            cat "$dir/s3s-fs.log" >&2
            echo "s3s-fs exited at start" >&2
            exit 1
        fi
        sleep 0.1
    done
    if [ -z "$endpoint" ]; then
        kill "$pid" 2>/dev/null || true
        echo "s3s-fs did not report its address within 10 s (log: $dir/s3s-fs.log)" >&2
        exit 1
    fi
    cat <<EOF
export ARCA_TEST_S3_ENDPOINT=$endpoint
export ARCA_TEST_S3_BUCKET=$bucket
export AWS_ACCESS_KEY_ID=$access_key
export AWS_SECRET_ACCESS_KEY=$secret_key
export ARCA_TEST_S3_PID=$pid
EOF
}

case ${1:-} in
install) install ;;
start) start "${2:-}" "${3:-}" ;;
*)
    echo "usage: $0 install | start DIR" >&2
    exit 2
    ;;
esac
