//! What a client can make the server hold or wait for. Every request body is an `IdleTimeoutBody`
//! (`server::serve_on` wraps it): one that stalls fails with `BodyStalledError`, which the readers here
//! turn into a 408, and any other failure of the client's body into a 400, never a 500. Multipart forms
//! are read with a bound on what their framing may make the parser buffer.

use std::error::Error as StdError;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use futures_util::Stream;
use hyper::body::{Body as HttpBody, Frame, SizeHint};
use tokio::time::Sleep;

use super::error::ApiError;

type BoxError = Box<dyn StdError + Send + Sync>;

/// A request body that fails when the client sends nothing for `timeout` while the server waits for it:
/// an idle timeout, so a large upload that keeps streaming is never cut. tower-http's `TimeoutBody` is
/// not used: its clock runs on while the server is busy elsewhere (a blob's fsync) and it then fails a
/// body whose next bytes had already arrived (this one fails only a read that finds nothing), and it
/// hides the body's declared length from readers that size their buffer by it.
pub struct IdleTimeoutBody<B> {
    inner: B,
    timeout: Duration,
    sleep: Option<Pin<Box<Sleep>>>,
}

impl<B> IdleTimeoutBody<B> {
    pub fn new(inner: B, timeout: Duration) -> Self {
        IdleTimeoutBody {
            inner,
            timeout,
            sleep: None,
        }
    }
}

impl<B> HttpBody for IdleTimeoutBody<B>
where
    B: HttpBody<Data = Bytes> + Unpin,
    B::Error: Into<BoxError>,
{
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        let this = &mut *self;
        if let Poll::Ready(frame) = Pin::new(&mut this.inner).poll_frame(cx) {
            this.sleep = None;
            return Poll::Ready(frame.map(|f| f.map_err(Into::into)));
        }
        // Nothing there: the clock starts at the first read that finds nothing and stops with data.
        let timeout = this.timeout;
        let sleep = this
            .sleep
            .get_or_insert_with(|| Box::pin(tokio::time::sleep(timeout)));
        match sleep.as_mut().poll(cx) {
            Poll::Ready(()) => Poll::Ready(Some(Err(Box::new(BodyStalledError)))),
            Poll::Pending => Poll::Pending,
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    // Readers size their buffer from it and refuse a declared length over their limit at once.
    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

#[derive(Debug)]
pub struct BodyStalledError;

impl std::fmt::Display for BodyStalledError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("no data arrived within the request body timeout")
    }
}

impl StdError for BodyStalledError {}

/// A failure of the client's request body, carried through `io::Error` by readers (the blob store's
/// `AsyncRead`) so that it is not mistaken for a failure of the server's own storage.
#[derive(Debug)]
pub struct ClientBodyError(BoxError);

impl std::fmt::Display for ClientBodyError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "the request body could not be read: {}", self.0)
    }
}

impl StdError for ClientBodyError {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        Some(self.0.as_ref())
    }
}

/// Wraps an error of the client's body stream for an `io::Error`-based reader.
pub fn client_io_error(e: impl Into<BoxError>) -> io::Error {
    io::Error::other(ClientBodyError(e.into()))
}

/// Each error of `e`'s chain; `io::Error` hides its payload from `source()`, so it is unwrapped here.
fn chain<'a>(
    e: &'a (dyn StdError + 'static),
) -> impl Iterator<Item = &'a (dyn StdError + 'static)> {
    std::iter::successors(Some(e), |&err: &&'a (dyn StdError + 'static)| match err
        .downcast_ref::<io::Error>()
    {
        Some(io) => io.get_ref().map(|inner| inner as &(dyn StdError + 'static)),
        None => err.source(),
    })
}

/// What a failed body read answers: 408 when it stalled past the body timeout, 413 when a multipart
/// form's framing ran over its bound, else 400 (the client ended it early or framed it wrongly).
pub fn body_failure(e: &(dyn StdError + 'static)) -> ApiError {
    for err in chain(e) {
        if err.is::<BodyStalledError>() {
            return ApiError::BodyStalled;
        }
        if let Some(framing) = err.downcast_ref::<FramingTooLarge>() {
            return ApiError::TooLarge {
                what: "The multipart framing between form fields".into(),
                limit: format!("{} bytes", framing.0),
            };
        }
    }
    ApiError::invalid("body", "could not be read to its end")
}

/// The answer for an `io::Error` of a reader fed by the client's body, `None` when the error is not the
/// client's (the server's own storage failed).
pub fn client_body_failure(e: &io::Error) -> Option<ApiError> {
    chain(e)
        .any(|err| err.is::<ClientBodyError>())
        .then(|| body_failure(e))
}

#[derive(Debug)]
struct FramingTooLarge(usize);

impl std::fmt::Display for FramingTooLarge {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "more than {} bytes between form fields", self.0)
    }
}

impl StdError for FramingTooLarge {}

/// Bounds the bytes a multipart parser pulls while it looks for the next part (its boundary and
/// headers): `multer` buffers until it finds them, so a preamble or a part header that never ends would
/// be held whole. While a part's data is read, it streams through and nothing is counted.
#[derive(Clone)]
pub struct FramingBudget(Arc<Budget>);

struct Budget {
    limit: usize,
    between_parts: AtomicBool,
    used: AtomicUsize,
}

impl FramingBudget {
    pub fn new(limit: usize) -> Self {
        FramingBudget(Arc::new(Budget {
            limit,
            between_parts: AtomicBool::new(true),
            used: AtomicUsize::new(0),
        }))
    }

    /// Call before asking the parser for the next part.
    pub fn between_parts(&self) {
        self.0.used.store(0, Ordering::Relaxed);
        self.0.between_parts.store(true, Ordering::Relaxed);
    }

    /// Call once the parser answered a part, before its data is read.
    pub fn in_part(&self) {
        self.0.between_parts.store(false, Ordering::Relaxed);
    }

    /// The body's data stream, failing once the parser pulled more than the limit between two parts.
    pub fn guard<S>(&self, stream: S) -> Guarded<S> {
        Guarded {
            inner: stream,
            budget: self.clone(),
            last_was_data: false,
            ended: false,
        }
    }
}

/// Also holds the end of the stream back for one poll when it comes right after data. `multer` (3.1),
/// looking for the first boundary, polls the stream, searches, and polls again; when that second poll
/// brings the rest of the body and its end at once, it reports the form as incomplete without searching
/// what just arrived. That needs the body to be written while the parser runs, which hyper's connection
/// task does whenever the handler runs on another task: serving writes on a runtime of their own (tried
/// for issue 15, BENCHMARKS.md) made one small twine upload in a few hundred fail that way.
pub struct Guarded<S> {
    inner: S,
    budget: FramingBudget,
    last_was_data: bool,
    ended: bool,
}

impl<S, E> Stream for Guarded<S>
where
    S: Stream<Item = Result<Bytes, E>> + Unpin,
    E: Into<BoxError>,
{
    type Item = Result<Bytes, BoxError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        if self.ended {
            return Poll::Ready(None);
        }
        let polled = Pin::new(&mut self.inner).poll_next(cx);
        let last_was_data = std::mem::replace(
            &mut self.last_was_data,
            matches!(polled, Poll::Ready(Some(Ok(_)))),
        );
        let budget = &self.budget.0;
        Poll::Ready(match polled {
            Poll::Pending => return Poll::Pending,
            Poll::Ready(None) if last_was_data => {
                self.ended = true;
                cx.waker().wake_by_ref();
                return Poll::Pending;
            }
            Poll::Ready(None) => None,
            Poll::Ready(Some(Err(e))) => Some(Err(e.into())),
            Poll::Ready(Some(Ok(data))) => {
                let over = budget.between_parts.load(Ordering::Relaxed)
                    && budget.used.fetch_add(data.len(), Ordering::Relaxed) + data.len()
                        > budget.limit;
                if over {
                    Some(Err(Box::new(FramingTooLarge(budget.limit)) as BoxError))
                } else {
                    Some(Ok(data))
                }
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use futures_util::StreamExt;

    use super::*;

    #[tokio::test]
    async fn failures_are_told_apart_through_io_errors() {
        use http_body_util::BodyExt;
        let silent = http_body_util::StreamBody::new(futures_util::stream::pending::<
            Result<Frame<Bytes>, io::Error>,
        >());
        let timeout = IdleTimeoutBody::new(silent, Duration::from_millis(5))
            .frame()
            .await
            .unwrap()
            .unwrap_err();
        let stalled = client_io_error(axum::Error::new(timeout));
        assert!(matches!(
            client_body_failure(&stalled),
            Some(ApiError::BodyStalled)
        ));
        let aborted = client_io_error(io::Error::from(io::ErrorKind::UnexpectedEof));
        assert!(matches!(
            client_body_failure(&aborted),
            Some(ApiError::InvalidParameter { .. })
        ));
        let disk = io::Error::from(io::ErrorKind::StorageFull);
        assert!(client_body_failure(&disk).is_none());
    }

    /// A body whose rest and end arrive together while the parser is between its two polls: the first
    /// poll finds nothing, the next one the whole form and then the end.
    struct ArrivesAtOnce(Option<Bytes>, bool);

    impl Stream for ArrivesAtOnce {
        type Item = Result<Bytes, io::Error>;

        fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
            if !self.1 {
                self.1 = true;
                cx.waker().wake_by_ref();
                return Poll::Pending;
            }
            Poll::Ready(self.0.take().map(Ok))
        }
    }

    #[tokio::test]
    async fn a_form_whose_end_arrives_with_its_data_is_read_whole() {
        let form = "--b\r\nContent-Disposition: form-data; name=\"name\"\r\n\r\nmany\r\n--b--\r\n";
        let arrives = || ArrivesAtOnce(Some(Bytes::from(form)), false);
        // What multer makes of such a stream by itself, and so what this guards against.
        let mut unguarded = multer::Multipart::new(arrives(), "b");
        assert!(matches!(
            unguarded.next_field().await,
            Err(multer::Error::IncompleteStream)
        ));
        let mut guarded = multer::Multipart::new(FramingBudget::new(4096).guard(arrives()), "b");
        let field = guarded.next_field().await.unwrap().unwrap();
        assert_eq!(field.name(), Some("name"));
        assert_eq!(&field.bytes().await.unwrap()[..], b"many");
        assert!(guarded.next_field().await.unwrap().is_none());
    }

    #[tokio::test]
    async fn framing_is_bounded_between_parts_only() {
        let chunks = || {
            futures_util::stream::iter(
                (0..4).map(|_| Ok::<_, io::Error>(Bytes::from(vec![b'-'; 1000]))),
            )
        };
        let budget = FramingBudget::new(2500);
        let between: Vec<_> = budget.guard(chunks()).collect().await;
        let passed: Vec<bool> = between.iter().map(Result::is_ok).collect();
        assert_eq!(passed[..3], [true, true, false]);
        budget.in_part();
        let inside: Vec<_> = budget.guard(chunks()).collect().await;
        assert!(inside.iter().all(Result::is_ok));
    }
}
