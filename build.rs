//! Lays out the release binary's functions in the order a start and the requests run them
//! (bench/text-order.txt, written by bench/text-order): the kernel maps text in 64 KiB windows around each
//! page touched, so functions used together, kept together, keep the resident text small (BENCHMARKS.md,
//! "Text laid out in the order it runs").
//!
//! Only for release builds on x86_64 Linux, whose default linker is LLD (`--symbol-ordering-file` is an
//! LLD option); names the list has and a build lacks are skipped. `ARCA_TEXT_ORDER=off` leaves it out
//! (for another linker).

use std::path::Path;

fn main() {
    println!("cargo:rerun-if-changed=bench/text-order.txt");
    println!("cargo:rerun-if-env-changed=ARCA_TEXT_ORDER");
    let env = |name: &str| std::env::var(name).unwrap_or_default();
    let order = Path::new(&env("CARGO_MANIFEST_DIR")).join("bench/text-order.txt");
    if env("PROFILE") == "release"
        && env("TARGET") == "x86_64-unknown-linux-gnu"
        && env("ARCA_TEXT_ORDER") != "off"
        && order.exists()
    {
        println!(
            "cargo:rustc-link-arg-bins=-Wl,--symbol-ordering-file={}",
            order.display()
        );
        println!("cargo:rustc-link-arg-bins=-Wl,--no-warn-symbol-ordering");
    }
}
