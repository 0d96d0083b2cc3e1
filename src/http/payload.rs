//! Signed bodies that stream: an artifact upload signed with `SDK-HMAC-SHA256` is checked before its body
//! is read, so the signature covers only the SHA-256 the client declared in `X-Sdk-Content-Sha256`. The
//! body is then bound to that hash here: it is hashed as its consumer reads it, the end of the body is
//! refused when the hashes differ, and every upload path calls `finish` before it commits, which reads
//! whatever the consumer left (a multipart epilogue) and answers whether the bytes matched. So a body
//! swapped under a captured signature never becomes visible, whichever parser read it.
//!
//! The check of the request in flight lives in a task-local slot that `guard` opens around every protocol
//! request; `guard` also answers 401 when the body turned out not to match, whatever error the consumer
//! made of the refused read.

use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use axum::body::{Body, BodyDataStream};
use axum::extract::Request;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use futures_util::{Stream, StreamExt};
use sha2::{Digest, Sha256};

use super::error::ApiError;

/// What `finish` reads past the point where the consumer stopped: enough for a multipart epilogue, too
/// little to be a way of making the server read without bound.
const MAX_UNREAD_TAIL: usize = 64 * 1024;

tokio::task_local! {
    static SLOT: Slot;
}

#[derive(Clone, Default)]
struct Slot(Arc<Mutex<Option<Arc<Check>>>>);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    Pending,
    Matched,
    Mismatched,
}

struct CheckState {
    inner: BodyDataStream,
    hasher: Sha256,
    expected: String,
    outcome: Outcome,
}

struct Check(Mutex<CheckState>);

#[derive(Debug, thiserror::Error)]
#[error("the body does not match the SHA-256 declared in the signed X-Sdk-Content-Sha256")]
pub struct PayloadMismatch;

impl Check {
    fn outcome(&self) -> Outcome {
        self.0.lock().expect("payload check poisoned").outcome
    }
}

/// The body as its consumer sees it: the original bytes, hashed on the way, with a refusal instead of
/// the end when the hash is not the declared one.
struct Hashed(Arc<Check>);

impl Stream for Hashed {
    type Item = Result<Bytes, axum::Error>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let mut state = self.0 .0.lock().expect("payload check poisoned");
        match state.outcome {
            Outcome::Matched => return Poll::Ready(None),
            Outcome::Mismatched => {
                return Poll::Ready(Some(Err(axum::Error::new(PayloadMismatch))))
            }
            Outcome::Pending => {}
        }
        match state.inner.poll_next_unpin(cx) {
            Poll::Pending => Poll::Pending,
            Poll::Ready(Some(Ok(bytes))) => {
                state.hasher.update(&bytes);
                Poll::Ready(Some(Ok(bytes)))
            }
            Poll::Ready(Some(Err(e))) => Poll::Ready(Some(Err(e))),
            Poll::Ready(None) => {
                let actual = hex::encode(state.hasher.finalize_reset());
                if actual == state.expected {
                    state.outcome = Outcome::Matched;
                    Poll::Ready(None)
                } else {
                    state.outcome = Outcome::Mismatched;
                    Poll::Ready(Some(Err(axum::Error::new(PayloadMismatch))))
                }
            }
        }
    }
}

/// Binds `body` to the lower-case hex SHA-256 it must have. Outside `guard` the binding still refuses a
/// mismatching end; `finish` then has nothing to answer for.
pub fn bind(body: Body, expected_sha256: String) -> Body {
    let check = Arc::new(Check(Mutex::new(CheckState {
        inner: body.into_data_stream(),
        hasher: Sha256::new(),
        expected: expected_sha256,
        outcome: Outcome::Pending,
    })));
    let _ = SLOT.try_with(|slot| {
        *slot.0.lock().expect("payload slot poisoned") = Some(check.clone());
    });
    Body::from_stream(Hashed(check))
}

/// Called by every upload path before it commits: Ok when the request's body was not bound, or was read
/// to its end (here, if its consumer stopped early) and matched its declared hash.
pub async fn finish() -> Result<(), ApiError> {
    let Some(check) = SLOT
        .try_with(|slot| slot.0.lock().expect("payload slot poisoned").clone())
        .ok()
        .flatten()
    else {
        return Ok(());
    };
    let mut rest = Hashed(check.clone());
    let mut unread = 0usize;
    while let Some(chunk) = rest.next().await {
        match chunk {
            Ok(bytes) => {
                unread += bytes.len();
                if unread > MAX_UNREAD_TAIL {
                    return Err(ApiError::invalid(
                        "body",
                        "carries data after the end of the upload",
                    ));
                }
            }
            Err(_) => break,
        }
    }
    match check.outcome() {
        Outcome::Matched => Ok(()),
        _ => Err(mismatch()),
    }
}

fn mismatch() -> ApiError {
    ApiError::Unauthenticated("the body does not match the signed X-Sdk-Content-Sha256")
}

/// Opens the slot `bind` and `finish` use for one protocol request, and answers 401 when its body turned
/// out to differ from the hash it was signed with.
pub async fn guard(request: Request, next: Next) -> Response {
    let slot = Slot::default();
    let response = SLOT.scope(slot.clone(), next.run(request)).await;
    let bound = slot.0.lock().expect("payload slot poisoned").clone();
    match bound {
        Some(check) if check.outcome() == Outcome::Mismatched => mismatch().into_response(),
        _ => response,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::BodyExt;

    fn sha256_hex(data: &[u8]) -> String {
        hex::encode(Sha256::digest(data))
    }

    #[tokio::test]
    async fn a_matching_body_reads_through_and_finishes() {
        SLOT.scope(Slot::default(), async {
            let body = bind(Body::from("jar bytes"), sha256_hex(b"jar bytes"));
            let bytes = body.collect().await.unwrap().to_bytes();
            assert_eq!(&bytes[..], b"jar bytes");
            assert!(finish().await.is_ok());
        })
        .await;
    }

    #[tokio::test]
    async fn a_swapped_body_is_refused_at_its_end() {
        SLOT.scope(Slot::default(), async {
            let body = bind(Body::from("forged bytes"), sha256_hex(b"jar bytes"));
            assert!(body.collect().await.is_err());
            assert!(matches!(finish().await, Err(ApiError::Unauthenticated(_))));
        })
        .await;
    }

    #[tokio::test]
    async fn finish_reads_what_a_consumer_left_behind() {
        SLOT.scope(Slot::default(), async {
            let chunks = futures_util::stream::iter(
                ["form", " epilogue"].map(|s| Ok::<_, std::io::Error>(Bytes::from(s))),
            );
            let body = bind(Body::from_stream(chunks), sha256_hex(b"form epilogue"));
            let mut stream = body.into_data_stream();
            assert_eq!(&stream.next().await.unwrap().unwrap()[..], b"form");
            drop(stream);
            assert!(finish().await.is_ok());

            let chunks = futures_util::stream::iter(
                ["form", " forged"].map(|s| Ok::<_, std::io::Error>(Bytes::from(s))),
            );
            let body = bind(Body::from_stream(chunks), sha256_hex(b"form epilogue"));
            let mut stream = body.into_data_stream();
            assert_eq!(&stream.next().await.unwrap().unwrap()[..], b"form");
            drop(stream);
            assert!(finish().await.is_err());
        })
        .await;
    }

    #[tokio::test]
    async fn an_unbound_request_has_nothing_to_finish() {
        SLOT.scope(Slot::default(), async { assert!(finish().await.is_ok()) })
            .await;
        assert!(finish().await.is_ok());
    }
}
