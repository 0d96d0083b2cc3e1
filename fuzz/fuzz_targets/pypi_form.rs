//! twine's upload form: the multipart body through `pypi_form::read` (multer, every bound enforced as the
//! bytes arrive, the distribution streamed into a blob store) and `validate_upload` (the form against the
//! file name and digests), as the upload handler runs them.
//!
//! Input: the multipart body; its first line `--<boundary>` gives the boundary. The form is read three
//! times: whole and in small pieces within the handler's limits, and in pieces within small limits.
//! Properties: no panic; a refusal is a 4xx, never a 500; the answer does not depend on how the body
//! was cut; every blob stored is reported for reclaiming, accepted or not; within small limits a form
//! is either refused for a limit or read the same, and what it keeps is within them; only the fields
//! arca reads are kept; the stored file is the bytes the form carried, with their BLAKE2b-256; an
//! accepted upload names a clean path `packages/<project>/<version>/<file>` whose project is the PEP
//! 503 form of the given name, and whose file name says the same project, version and kind.
#![no_main]

use std::collections::HashMap;

use arca::domain::artifact_path::ArtifactPath;
use arca::formats::pypi::{is_valid_name, is_valid_version, normalize, parse_filename};
use arca::blob::Ungated;
use arca::http::error::ApiError;
use arca::http::protocols::pypi::validate_upload;
use arca::http::protocols::pypi_form::{read, FormLimits, Uploaded, KEPT, LIMITS};
use arca_fuzz::{block_on, body_in_pieces, MemBlobs};
use axum::body::Body;
use axum::extract::Request;
use blake2::digest::consts::U32;
use blake2::{Blake2b, Digest};
use libfuzzer_sys::fuzz_target;

/// What the handler would pass as `max_artifact_bytes`, scaled to fuzz inputs.
const MAX_FILE_BYTES: u64 = 64 * 1024;

const SMALL: FormLimits = FormLimits {
    field_bytes: 64,
    form_bytes: 160,
    parts: 12,
    framing_bytes: 256,
};
const SMALL_FILE_BYTES: u64 = 512;

type Form = (HashMap<String, String>, Option<Uploaded>);

struct Outcome {
    form: Result<Form, ApiError>,
    blobs: MemBlobs,
}

fn read_form(boundary: &str, body: Body, limits: &FormLimits, max_file: u64) -> Outcome {
    let request = Request::builder()
        .method("POST")
        .header(
            "content-type",
            format!("multipart/form-data; boundary=\"{boundary}\""),
        )
        .body(body)
        .expect("a request");
    let blobs = MemBlobs::default();
    let mut reported = Vec::new();
    let form = block_on(read(&blobs, &Ungated, max_file, limits, request, &mut reported));
    // Whatever the outcome, the caller can reclaim every blob the form made the store keep.
    let stored = blobs.stored.lock().unwrap();
    for (info, _) in stored.iter() {
        assert!(
            reported.contains(&info.sha256),
            "a stored blob went unreported"
        );
    }
    assert!(stored.len() <= 1, "more than one distribution stored");
    drop(stored);
    if let Err(refused) = &form {
        assert!(refused.status().is_client_error(), "{refused}");
    }
    Outcome { form, blobs }
}

fn same(a: &Result<Form, ApiError>, b: &Result<Form, ApiError>) -> bool {
    match (a, b) {
        (Ok((fa, ua)), Ok((fb, ub))) => {
            let file = |u: &Option<Uploaded>| {
                u.as_ref()
                    .map(|u| (u.info.clone(), u.blake2.clone(), u.filename.clone()))
            };
            fa == fb && file(ua) == file(ub)
        }
        (Err(a), Err(b)) => a.status() == b.status(),
        _ => false,
    }
}

fuzz_target!(|data: &[u8]| {
    let Some(first) = data.split(|b| *b == b'\n').next() else {
        return;
    };
    let Some(boundary) = first.strip_prefix(b"--") else {
        return;
    };
    let boundary = boundary.strip_suffix(b"\r").unwrap_or(boundary);
    // A boundary as a Content-Type header may quote it (RFC 2046: at most 70 characters).
    let Ok(boundary) = std::str::from_utf8(boundary) else {
        return;
    };
    if boundary.is_empty()
        || boundary.len() > 70
        || !boundary
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"'()+_,-./:=? ".contains(&b))
    {
        return;
    }

    let whole = read_form(boundary, Body::from(data.to_vec()), &LIMITS, MAX_FILE_BYTES);
    let in_pieces = read_form(boundary, body_in_pieces(data), &LIMITS, MAX_FILE_BYTES);
    assert!(
        same(&whole.form, &in_pieces.form),
        "whole and in pieces differ: {:?} / {:?}",
        whole.form.as_ref().err().map(ToString::to_string),
        in_pieces.form.as_ref().err().map(ToString::to_string)
    );
    let small = read_form(boundary, body_in_pieces(data), &SMALL, SMALL_FILE_BYTES);
    match &small.form {
        Ok((fields, uploaded)) => {
            assert!(fields.len() <= SMALL.parts);
            assert!(fields.values().all(|v| v.len() <= SMALL.field_bytes));
            assert!(fields.values().map(String::len).sum::<usize>() <= SMALL.form_bytes);
            assert!(uploaded
                .as_ref()
                .is_none_or(|u| u.info.size <= SMALL_FILE_BYTES));
            if whole.form.is_ok() {
                assert!(
                    same(&small.form, &whole.form),
                    "a small limit changed the form"
                );
            }
        }
        Err(refused) if whole.form.is_ok() => {
            let text = refused.to_string();
            assert!(
                refused.status() == 413 || text.contains("more than 12 form fields"),
                "refused within small limits for no limit: {text}"
            );
        }
        Err(_) => {}
    }

    let Ok((fields, uploaded)) = whole.form else {
        return;
    };
    assert!(
        fields.keys().all(|k| KEPT.contains(&k.as_str())),
        "{fields:?}"
    );
    let Some(uploaded) = uploaded else {
        return;
    };
    let (info, content) = whole.blobs.stored.lock().unwrap().pop().expect("stored");
    assert_eq!(info, uploaded.info);
    assert_eq!(uploaded.info.size, content.len() as u64);
    assert_eq!(
        uploaded.blake2,
        hex::encode(Blake2b::<U32>::digest(&content))
    );

    let Ok((kind, project, display, version)) = validate_upload(&fields, &uploaded) else {
        return;
    };
    assert!(is_valid_name(&display) && is_valid_version(&version));
    assert_eq!(project, normalize(&display));
    let file = parse_filename(&uploaded.filename).expect("an accepted file name parses");
    assert_eq!((file.kind, file.project.as_str()), (kind, project.as_str()));
    assert!(file.version.eq_ignore_ascii_case(&version));
    let rel = format!("packages/{project}/{version}/{}", uploaded.filename);
    let parsed = ArtifactPath::parse_plain(&rel).expect("an accepted upload has a clean path");
    assert_eq!(parsed.as_str(), rel);
    assert_eq!(parsed.file_name(), uploaded.filename);
});
