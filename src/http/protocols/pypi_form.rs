//! twine's upload form (multipart/form-data), read with every bound enforced as the bytes arrive: the
//! distribution streams into the blob store; every other field is counted chunk by chunk and refused the
//! moment it passes its limit (a 300 MiB `description` once held the whole field before being refused);
//! only the fields arca reads are kept; the framing between fields is bounded (see `FramingBudget`).
//! It needs no server (a blob store and a request), so the fuzz targets (fuzz/) drive it as it is.

use std::collections::HashMap;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use axum::extract::Request;
use axum::http::header;
use blake2::digest::consts::U32;
use blake2::{Blake2b, Digest};
use futures_util::TryStreamExt;
use tokio::io::{AsyncRead, ReadBuf};
use tokio_util::io::StreamReader;

use crate::blob::{BlobInfo, BlobStore, PlaceGate};
use crate::http::error::ApiError;
use crate::http::limits::{body_failure, client_io_error, FramingBudget};

/// The bounds a form is read within.
#[derive(Debug, Clone, Copy)]
pub struct FormLimits {
    /// Any one field other than the distribution.
    pub field_bytes: usize,
    /// All fields other than the distribution together.
    pub form_bytes: usize,
    /// Parts in one form.
    pub parts: usize,
    /// What the parser may buffer between two fields (a boundary and a part's headers, plus one read
    /// ahead).
    pub framing_bytes: usize,
}

/// twine's uploads: a long README as `description` fits in a field; a form has a few dozen parts, one
/// per classifier and requirement.
pub const LIMITS: FormLimits = FormLimits {
    field_bytes: 4 * 1024 * 1024,
    form_bytes: 8 * 1024 * 1024,
    parts: 1000,
    framing_bytes: 4 * 1024 * 1024,
};
/// The fields arca reads; the others (description, classifiers, ...) are counted and dropped.
pub const KEPT: [&str; 8] = [
    ":action",
    "name",
    "version",
    "filetype",
    "md5_digest",
    "sha256_digest",
    "blake2_256_digest",
    "requires_python",
];

pub struct Uploaded {
    pub info: BlobInfo,
    pub blake2: String,
    pub filename: String,
}

/// Hashes what passes through with BLAKE2b-256, the digest twine sends besides MD5 and SHA-256.
struct Blake2Reader<R> {
    inner: R,
    hasher: Blake2b<U32>,
}

impl<R: AsyncRead + Unpin> AsyncRead for Blake2Reader<R> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let this = &mut *self;
        let polled = Pin::new(&mut this.inner).poll_read(cx, buf);
        if let Poll::Ready(Ok(())) = &polled {
            this.hasher.update(&buf.filled()[before..]);
        }
        polled
    }
}

/// The form's fields and the distribution (`content`), streamed into `blobs` (at most
/// `max_artifact_bytes`); the digest of what was stored goes into `stored` at once, so that the caller
/// can reclaim it when the form turns out to be unusable, even when reading fails half-way.
pub async fn read(
    blobs: &dyn BlobStore,
    gate: &dyn PlaceGate,
    max_artifact_bytes: u64,
    limits: &FormLimits,
    request: Request,
    stored: &mut Vec<String>,
) -> Result<(HashMap<String, String>, Option<Uploaded>), ApiError> {
    let boundary = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| multer::parse_boundary(v).ok())
        .ok_or_else(|| ApiError::invalid("body", "must be multipart/form-data with a boundary"))?;
    let budget = FramingBudget::new(limits.framing_bytes);
    let stream = budget.guard(request.into_body().into_data_stream());
    let mut multipart = multer::Multipart::new(stream, boundary);
    let mut fields: HashMap<String, String> = HashMap::new();
    let (mut total, mut parts) = (0usize, 0usize);
    let mut uploaded = None;
    loop {
        budget.between_parts();
        let Some(mut field) = multipart.next_field().await.map_err(form_error)? else {
            break;
        };
        budget.in_part();
        parts += 1;
        if parts > limits.parts {
            return Err(ApiError::invalid(
                "body",
                format!("has more than {} form fields", limits.parts),
            ));
        }
        let name = field.name().unwrap_or_default().to_string();
        if name == "content" {
            if uploaded.is_some() {
                return Err(ApiError::invalid("content", "is given more than once"));
            }
            let filename = field.file_name().unwrap_or_default().to_string();
            let mut reader = Blake2Reader {
                inner: StreamReader::new(field.map_err(client_io_error)),
                hasher: Blake2b::<U32>::new(),
            };
            let info = blobs
                .put_gated(&mut reader, max_artifact_bytes, gate)
                .await?;
            stored.push(info.sha256.clone());
            uploaded = Some(Uploaded {
                info,
                blake2: hex::encode(reader.hasher.finalize()),
                filename,
            });
            continue;
        }
        let keep = KEPT.contains(&name.as_str());
        let (mut value, mut size) = (Vec::new(), 0usize);
        while let Some(chunk) = field.chunk().await.map_err(form_error)? {
            size += chunk.len();
            total += chunk.len();
            if size > limits.field_bytes {
                return Err(ApiError::TooLarge {
                    what: format!("The form field '{}'", printable(&name)),
                    limit: format!("{} bytes", limits.field_bytes),
                });
            }
            if total > limits.form_bytes {
                return Err(ApiError::TooLarge {
                    what: "The form's fields together".into(),
                    limit: format!("{} bytes", limits.form_bytes),
                });
            }
            if keep {
                value.extend_from_slice(&chunk);
            }
        }
        if !keep {
            continue;
        }
        let text =
            String::from_utf8(value).map_err(|_| ApiError::invalid(&name, "is not UTF-8"))?;
        // Repeated fields are kept joined; none of those arca reads is meant to repeat.
        fields
            .entry(name)
            .and_modify(|v| {
                v.push('\n');
                v.push_str(&text);
            })
            .or_insert(text);
    }
    Ok((fields, uploaded))
}

fn form_error(e: multer::Error) -> ApiError {
    match e {
        multer::Error::StreamReadFailed(inner) => body_failure(inner.as_ref()),
        // Malformed framing; multer's text names no value of the client's.
        other => ApiError::invalid("body", format!("is not a valid multipart form: {other}")),
    }
}

/// A field name for a message: the client's own text, so cut short and without control characters.
fn printable(name: &str) -> String {
    name.chars().filter(|c| !c.is_control()).take(64).collect()
}
