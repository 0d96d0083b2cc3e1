//! `GET /openapi.json`: an OpenAPI 3.1 document of the whole management API (CodeArts Artifact with its
//! release repositories and audit log, IAM, ProjectMan, and the operations endpoints), one module per API
//! group. Request bodies are the handlers' own types, and so are the answers that handlers serialise from
//! a type (`StorageTotals`, `RepoUser`, `TicketRow`, `RepoUserRow`, `PrivilegeView`): those are true by
//! construction. The other answers are built with `json!`, so the types here describe them rather than
//! produce them; tests/e2e/test_openapi.py calls every operation live and validates each answer against
//! the document, which is what keeps the two together. Objects deny fields they do not list, so an answer
//! that grows a field fails that test until the document says so. tests.rs keeps the document's paths and
//! the routers' paths the same.
//!
//! The package protocols (`/artifactory/...`, npm, PyPI, Cargo and Maven paths) are not described here:
//! their own ecosystems describe them.

// The answer types exist for their schemas; nothing constructs or reads them.
#![allow(dead_code)]

/// Declares `$name`, the success envelope `{"status", "<trace>", "result": $result}` with the trace id
/// field spelt as the operation's SDK model spells it.
macro_rules! envelope {
    ($name:ident, $result:ty) => {
        #[derive(serde::Serialize, utoipa::ToSchema)]
        #[serde(deny_unknown_fields)]
        pub struct $name {
            /// Always `success`.
            status: String,
            trace_id: String,
            result: $result,
        }
    };
    ($name:ident, $result:ty, camel) => {
        #[derive(serde::Serialize, utoipa::ToSchema)]
        #[serde(deny_unknown_fields)]
        pub struct $name {
            /// Always `success`.
            status: String,
            #[serde(rename = "traceId")]
            trace_id: String,
            result: $result,
        }
    };
}

mod artifact;
mod artifact_answers;
mod artifact_repositories;
mod audit;
mod iam;
mod operations;
mod projectman;
mod release;

use axum::http::header;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::openapi::{ContentBuilder, Ref, RefOr, ResponseBuilder};
use utoipa::{OpenApi, ToSchema};

/// Every error answer (README, "Error codes").
#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ErrorAnswer {
    /// Always `error`.
    status: String,
    trace_id: String,
    error_code: String,
    error_msg: String,
}

/// The answer (or the `result`) of operations that answer nothing more.
#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Empty {}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "arca management API",
        description = "The management API of arca: CodeArts Artifact (repositories, files, tickets, \
            privileges, the release repositories and the audit log), IAM and ProjectMan, at the SDKs' paths \
            and in their shapes, plus the operations endpoints. operationId is the SDK's operation name where \
            the SDK has the operation. The package protocols (/artifactory/..., npm, PyPI, Cargo and Maven \
            paths) are not described here: their own ecosystems describe them."
    ),
    components(schemas(ErrorAnswer)),
    tags(
        (name = "artifact", description = "CodeArts Artifact: repositories, files, tickets, privileges"),
        (name = "release", description = "CodeArts Artifact release repositories (devreposerver)"),
        (name = "audit", description = "CodeArts Artifact audit log"),
        (name = "iam", description = "IAM (Keystone and IAM 3.0 subsets)"),
        (name = "projectman", description = "ProjectMan v4 projects and members"),
        (name = "operations", description = "Health, metrics and this document"),
    )
)]
struct ApiDoc;

/// Statuses every management operation may answer with the common error body.
const ERROR_STATUSES: [(&str, &str); 6] = [
    (
        "400",
        "a parameter or the body is invalid (the message names it)",
    ),
    ("401", "no valid credentials"),
    ("403", "the caller may not do this"),
    ("404", "no such resource in the caller's account"),
    (
        "429",
        "too many failed authentications from this address or for this user",
    ),
    ("503", "the database or the blob store is unavailable"),
];

/// Statuses a write may answer besides.
const WRITE_ERROR_STATUSES: [(&str, &str); 2] = [
    ("409", "it would duplicate or contradict what exists"),
    ("413", "the body is over the size limit"),
];

fn document() -> utoipa::openapi::OpenApi {
    let mut doc = ApiDoc::openapi();
    for group in [
        artifact::Doc::openapi(),
        audit::Doc::openapi(),
        release::Doc::openapi(),
        iam::Doc::openapi(),
        projectman::Doc::openapi(),
        operations::Doc::openapi(),
    ] {
        doc.merge(group);
    }
    for (path, item) in doc.paths.paths.iter_mut() {
        if operations::PATHS.contains(&path.as_str()) {
            continue;
        }
        let operations = [
            (&mut item.get, false),
            (&mut item.head, false),
            (&mut item.put, true),
            (&mut item.post, true),
            (&mut item.delete, true),
            (&mut item.patch, true),
        ];
        for (operation, write) in operations {
            let Some(operation) = operation else {
                continue;
            };
            let writes: &[(&str, &str)] = if write { &WRITE_ERROR_STATUSES } else { &[] };
            for &(status, description) in ERROR_STATUSES.iter().chain(writes) {
                operation
                    .responses
                    .responses
                    .entry(status.to_string())
                    .or_insert_with(|| RefOr::T(error_response(description)));
            }
        }
    }
    doc
}

fn error_response(description: &str) -> utoipa::openapi::Response {
    ResponseBuilder::new()
        .description(description)
        .content(
            "application/json",
            ContentBuilder::new()
                .schema(Some(Ref::from_schema_name("ErrorAnswer")))
                .build(),
        )
        .build()
}

static DOCUMENT: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    document()
        .to_json()
        .expect("the OpenAPI document serialises")
});

pub async fn serve() -> Response {
    (
        [(header::CONTENT_TYPE, "application/json")],
        DOCUMENT.as_str(),
    )
        .into_response()
}

#[cfg(test)]
mod tests;
