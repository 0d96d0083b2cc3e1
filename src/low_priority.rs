//! Threads for uploads' blocking work (hashing a small body; creating, writing, syncing and renaming its
//! file; the transaction that records it; deleting a blob it replaced), at a lower scheduling priority than
//! the threads that answer reads. When the CPU is saturated, the kernel then gives a read the CPU before an
//! upload's file work (most of it in the kernel, charged to the thread that asked), so reads keep their
//! pace while uploads run, and uploads take what reads leave (issue 15, "Reads never wait behind writes";
//! BENCHMARKS.md). On an idle machine they run as fast.

use std::sync::LazyLock;

use tokio::runtime::Runtime;
use tokio::task::JoinError;

/// The nice value of the upload threads: a weight of 110 against 1,024 for the others (Linux CFS), about a
/// tenth of a contended CPU, never nothing.
pub const NICE: i32 = 10;

/// Upload threads at most; more uploads than this wait for one.
const THREADS: usize = 16;

/// Only its blocking pool is used: a runtime that is never driven starts no other thread.
static POOL: LazyLock<Option<Runtime>> = LazyLock::new(|| {
    tokio::runtime::Builder::new_current_thread()
        .thread_name("arca-upload")
        .max_blocking_threads(THREADS)
        .on_thread_start(|| {
            // Where the system refuses (no such call), the thread runs at the normal priority.
            let _ = rustix::process::setpriority_process(None, NICE);
        })
        .build()
        .ok()
});

/// Runs `work` on an upload thread (on the runtime's blocking pool where that pool could not be made).
pub async fn run<T: Send + 'static>(
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, JoinError> {
    let handle = match POOL.as_ref() {
        Some(pool) => pool.spawn_blocking(work),
        None => tokio::task::spawn_blocking(work),
    };
    handle.await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn upload_work_runs_niced_and_the_caller_does_not() {
        let caller = rustix::process::getpriority_process(None).unwrap();
        let (niced, thread) = run(|| {
            (
                rustix::process::getpriority_process(None).unwrap(),
                std::thread::current().name().map(str::to_string),
            )
        })
        .await
        .unwrap();
        assert_eq!(niced, NICE.max(caller));
        assert_eq!(thread.as_deref(), Some("arca-upload"));
        assert_eq!(rustix::process::getpriority_process(None).unwrap(), caller);
    }
}
