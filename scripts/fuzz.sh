#!/usr/bin/env bash
# Fuzzing: builds the cargo-fuzz targets in fuzz/ and runs each for a bounded time.
#
#   bash scripts/fuzz.sh [SECONDS_PER_TARGET] [TARGET...]
#
# CI (scripts/test.sh) runs every target for 15 s; offline, e.g. `bash scripts/fuzz.sh 600`. Each target
# starts from the committed seeds (fuzz/corpus/<target>, real client requests and files) plus what earlier
# runs here found (fuzz/target/corpus/<target>, not committed). A crash stops the run with the input in
# fuzz/artifacts/<target>/; `cargo fuzz tmin <target> <file>` minimises it. Any failure, including a missing
# toolchain or cargo-fuzz that cannot be installed, exits non-zero: nothing is skipped.
#
# The targets build on the project's pinned stable toolchain without a sanitizer: arca forbids unsafe code,
# so AddressSanitizer would only watch its dependencies, and it needs nightly. FUZZ_SANITIZER=address runs
# them under ASan with `cargo +nightly` instead (fails when no nightly toolchain is installed).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
seconds=${1:-15}
shift || true
case $seconds in '' | *[!0-9]*) echo "fuzz.sh: seconds per target must be a number, not '$seconds'" >&2; exit 2 ;; esac

cargo_fuzz_version=0.13.2
if [ "$(cargo fuzz --version 2>/dev/null)" != "cargo-fuzz $cargo_fuzz_version" ]; then
    echo "fuzz.sh: installing cargo-fuzz $cargo_fuzz_version into ~/.cargo/bin"
    cargo install cargo-fuzz --version "$cargo_fuzz_version" --locked --quiet
fi

sanitizer=${FUZZ_SANITIZER:-none}
toolchain=()
if [ "$sanitizer" != none ]; then
    if ! rustup run nightly rustc --version >/dev/null 2>&1; then
        echo "fuzz.sh: FUZZ_SANITIZER=$sanitizer needs a nightly toolchain, and none is installed" >&2
        exit 1
    fi
    toolchain=(+nightly)
fi

targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
    mapfile -t targets < <(cargo "${toolchain[@]}" fuzz list --fuzz-dir fuzz)
fi
[ ${#targets[@]} -gt 0 ] || { echo "fuzz.sh: no fuzz targets found" >&2; exit 1; }

# The fuzz crate's lock file pins its dependencies as the main one does; an outdated one is an error.
cargo "${toolchain[@]}" fetch --locked --quiet --manifest-path fuzz/Cargo.toml

# -a: overflow checks and debug assertions, as in the unit tests.
build=(--fuzz-dir fuzz --sanitizer "$sanitizer" --debug-assertions)
started=$SECONDS
if [ $# -eq 0 ]; then
    cargo "${toolchain[@]}" fuzz build "${build[@]}"
else
    for target in "${targets[@]}"; do cargo "${toolchain[@]}" fuzz build "${build[@]}" "$target"; done
fi
echo "fuzz.sh: built in $((SECONDS - started)) s; running ${#targets[@]} targets for $seconds s each"

for target in "${targets[@]}"; do
    found=fuzz/target/corpus/$target
    mkdir -p "$found" "fuzz/corpus/$target"
    log=fuzz/target/fuzz-$target.log
    # -rss_limit_mb: no input may make a parser hold more than this (the server's goal is 32 MiB a
    # request; the fuzzer's own corpus and coverage tables need the rest).
    if ! cargo "${toolchain[@]}" fuzz run "${build[@]}" "$target" "$found" "fuzz/corpus/$target" -- \
        -max_total_time="$seconds" -rss_limit_mb=512 -timeout=10 -print_final_stats=1 >"$log" 2>&1; then
        tail -n 60 "$log" >&2
        echo "fuzz.sh: $target FAILED (input in fuzz/artifacts/$target/, log $log)" >&2
        exit 1
    fi
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
    coverage=$(grep -o 'cov: [0-9]*' "$log" | tail -n 1)
    echo "fuzz.sh: $target: ${runs:-?} runs in $seconds s, $coverage, no failure"
done
echo "fuzz.sh: ${#targets[@]} targets passed in $((SECONDS - started)) s"
