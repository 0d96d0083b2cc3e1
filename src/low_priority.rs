//! The write lane: requests that change something (every method but GET, HEAD and OPTIONS) are served on
//! a runtime of their own whose threads run at a lower scheduling priority than the threads that answer
//! reads, and so is the blocking work they start (hashing a body; creating, writing, syncing and renaming
//! its file; the transaction that records it; deleting a blob it replaced). When the CPU is saturated, the
//! kernel then gives a read the CPU before a write's work (much of it in the kernel, charged to the thread
//! that asked), so reads keep their pace while uploads run, and uploads take what reads leave (issue 15,
//! "Reads never wait behind writes"; BENCHMARKS.md). On an idle machine they run as fast.

use std::future::Future;
use std::sync::LazyLock;

use tokio::runtime::Runtime;
use tokio::task::{JoinError, JoinHandle};

/// The nice value of the write lane's threads: a weight of 110 against 1,024 for the others (Linux CFS),
/// about a tenth of a contended CPU, never nothing.
pub const NICE: i32 = 10;

/// Blocking threads of the lane at most; more blocking work than this waits for one.
const BLOCKING_THREADS: usize = 16;

/// Started at the first write, so a node that only serves reads runs no thread of it.
static LANE: LazyLock<Option<Runtime>> = LazyLock::new(|| {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(
            std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(1),
        )
        .thread_name("arca-write")
        .enable_all()
        .max_blocking_threads(BLOCKING_THREADS)
        .on_thread_start(|| {
            // Where the system refuses (no such call), the thread runs at the normal priority.
            let _ = rustix::process::setpriority_process(None, NICE);
        })
        .build()
        .ok()
});

/// Runs blocking `work` on the write lane (on the current runtime's blocking pool where the lane could
/// not be made).
pub async fn run<T: Send + 'static>(
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, JoinError> {
    let handle = match LANE.as_ref() {
        Some(lane) => lane.spawn_blocking(work),
        None => tokio::task::spawn_blocking(work),
    };
    handle.await
}

/// Drives `work` to its end on the write lane (in place where the lane could not be made). Dropping the
/// returned future cancels `work`, as dropping `work` itself would: a client that goes away mid-upload
/// stops its upload. A panic in `work` resumes in the caller.
pub async fn serve<F>(work: F) -> F::Output
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    let Some(lane) = LANE.as_ref() else {
        return work.await;
    };
    let mut task = CancelOnDrop(lane.spawn(work));
    match (&mut task.0).await {
        Ok(output) => output,
        Err(e) => match e.try_into_panic() {
            Ok(panic) => std::panic::resume_unwind(panic),
            // Only `CancelOnDrop` cancels the task, and it has not been dropped while it is awaited.
            Err(e) => unreachable!("a write lane task was cancelled while awaited: {e}"),
        },
    }
}

struct CancelOnDrop<T>(JoinHandle<T>);

impl<T> Drop for CancelOnDrop<T> {
    fn drop(&mut self) {
        self.0.abort();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn priority_and_thread() -> (i32, Option<String>) {
        (
            rustix::process::getpriority_process(None).unwrap(),
            std::thread::current().name().map(str::to_string),
        )
    }

    #[tokio::test]
    async fn write_work_runs_niced_and_the_caller_does_not() {
        let caller = rustix::process::getpriority_process(None).unwrap();
        let (blocking, blocking_thread) = run(priority_and_thread).await.unwrap();
        let (served, served_thread) = serve(async { priority_and_thread() }).await;
        for (niced, thread) in [(blocking, blocking_thread), (served, served_thread)] {
            assert_eq!(niced, NICE.max(caller));
            assert_eq!(thread.as_deref(), Some("arca-write"));
        }
        assert_eq!(rustix::process::getpriority_process(None).unwrap(), caller);
    }

    #[tokio::test]
    async fn dropping_a_served_future_cancels_its_work() {
        let (started_tx, started_rx) = tokio::sync::oneshot::channel();
        let (dropped_tx, dropped_rx) = tokio::sync::oneshot::channel::<()>();
        struct Sentinel(Option<tokio::sync::oneshot::Sender<()>>);
        impl Drop for Sentinel {
            fn drop(&mut self) {
                let _ = self.0.take().unwrap().send(());
            }
        }
        let served = tokio::spawn(serve(async move {
            let _sentinel = Sentinel(Some(dropped_tx));
            let _ = started_tx.send(());
            std::future::pending::<()>().await
        }));
        started_rx.await.unwrap();
        served.abort();
        // The work's future is dropped on the lane, so its sentinel reports, rather than the task living on.
        tokio::time::timeout(std::time::Duration::from_secs(5), dropped_rx)
            .await
            .expect("the work was cancelled")
            .unwrap();
    }

    #[tokio::test]
    async fn a_panic_in_served_work_reaches_the_caller() {
        let outcome = tokio::spawn(serve(async { panic!("boom") })).await;
        assert!(outcome.unwrap_err().is_panic());
    }
}
