//! An upstream body as a stream of `Bytes`, bounded: it fails with `TooLarge` as soon as more than the
//! caller's limit has arrived, so a lying or endless upstream costs at most the limit (plus one chunk in
//! flight), never the disk. The read idle timeout is reqwest's (`ClientBuilder::read_timeout`, reset by
//! every read); its error arrives here as `Timeout`.

use std::fmt;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use bytes::{Bytes, BytesMut};
use futures_util::{Stream, StreamExt};

use super::error::{from_reqwest, Phase};
use super::UpstreamError;

type Inner = Pin<Box<dyn Stream<Item = reqwest::Result<Bytes>> + Send>>;

pub struct UpstreamBody {
    /// `None` once the body ended or failed: the connection is dropped with it, not drained.
    inner: Option<Inner>,
    host: String,
    limit: u64,
    received: u64,
}

impl UpstreamBody {
    pub(super) fn new(response: reqwest::Response, host: String, limit: u64) -> UpstreamBody {
        UpstreamBody {
            inner: Some(Box::pin(response.bytes_stream())),
            host,
            limit,
            received: 0,
        }
    }

    /// Bytes received so far.
    pub fn received(&self) -> u64 {
        self.received
    }

    /// The whole body in memory, for metadata documents (still bounded by the request's limit).
    pub async fn bytes(mut self) -> Result<Bytes, UpstreamError> {
        let mut all = BytesMut::new();
        while let Some(chunk) = self.next().await {
            all.extend_from_slice(&chunk?);
        }
        Ok(all.freeze())
    }
}

impl Stream for UpstreamBody {
    type Item = Result<Bytes, UpstreamError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        let Some(inner) = this.inner.as_mut() else {
            return Poll::Ready(None);
        };
        let item = match ready!(inner.as_mut().poll_next(cx)) {
            None => None,
            Some(Ok(chunk)) => {
                this.received = this.received.saturating_add(chunk.len() as u64);
                if this.received <= this.limit {
                    return Poll::Ready(Some(Ok(chunk)));
                }
                Some(Err(UpstreamError::TooLarge {
                    host: this.host.clone(),
                    limit: this.limit,
                }))
            }
            Some(Err(err)) => Some(Err(from_reqwest(&err, &this.host, Phase::Body, None))),
        };
        this.inner = None;
        Poll::Ready(item)
    }
}

impl fmt::Debug for UpstreamBody {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UpstreamBody")
            .field("host", &self.host)
            .field("limit", &self.limit)
            .field("received", &self.received)
            .field("ended", &self.inner.is_none())
            .finish()
    }
}
