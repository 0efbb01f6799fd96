//! Every registry failure, mapped in one place to an HTTP status and Confluent's
//! `{"error_code", "message"}` body, with the codes of Confluent's `Errors.java`.
//!
//! The map is an exhaustive `match` without `_ =>`: a new variant must pick its code. Store
//! failures (5xx) answer with a generic message and are logged here; client errors are logged
//! at debug only.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use runnel_openapi::ErrorBody;

use crate::store::StoreError;

/// A failed registry operation.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RegistryError {
    /// 40401.
    #[error("Subject '{0}' not found.")]
    SubjectNotFound(String),
    /// 40402.
    #[error("Version {version} not found.")]
    VersionNotFound { subject: String, version: i32 },
    /// 40403: no schema with this id.
    #[error("Schema {0} not found")]
    SchemaIdNotFound(i64),
    /// 40403: a lookup (`POST /subjects/{s}`) found no version with this schema.
    #[error("Schema not found")]
    SchemaNotFound,
    /// 40404: deleting a subject that is already soft-deleted.
    #[error("Subject '{0}' was soft deleted.Set permanent=true to delete permanently")]
    SubjectSoftDeleted(String),
    /// 40405: a permanent delete of a subject that was not soft-deleted first.
    #[error("Subject '{0}' was not deleted first before being permanently deleted")]
    SubjectNotSoftDeleted(String),
    /// 40406: deleting a version that is already soft-deleted.
    #[error(
        "Subject '{subject}' Version {version} was soft deleted.Set permanent=true to delete permanently"
    )]
    VersionSoftDeleted { subject: String, version: i32 },
    /// 40407: a permanent delete of a version that was not soft-deleted first.
    #[error(
        "Subject '{subject}' Version {version} was not deleted first before being permanently deleted"
    )]
    VersionNotSoftDeleted { subject: String, version: i32 },
    /// 40408.
    #[error("Subject '{0}' does not have subject-level compatibility configured")]
    SubjectConfigNotFound(String),
    /// 40409.
    #[error("Subject '{0}' does not have subject-level mode configured")]
    SubjectModeNotFound(String),
    /// 409: the schema breaks the subject's compatibility level. Confluent ≤ 8.0.3 answers
    /// `error_code` 409, which is what its clients of every version understand.
    #[error("Schema being registered is incompatible with an earlier schema for subject \"{subject}\", details: [{}]", .messages.join(", "))]
    Incompatible {
        subject: String,
        messages: Vec<String>,
    },
    /// 42201: the schema does not parse, or its type or references are unusable.
    #[error("Invalid schema: {0}")]
    InvalidSchema(String),
    /// 42201: the schema text is empty or only whitespace (Confluent's own text).
    #[error("Empty schema")]
    EmptySchema,
    /// 42202.
    #[error(
        "The specified version '{0}' is not a valid version id. Allowed values are between [1, 2^31-1] and the string \"latest\""
    )]
    InvalidVersion(String),
    /// 42203: Confluent's own text (`RestInvalidCompatibilityException`); the level asked
    /// for is kept for the log only.
    #[error(
        "Invalid compatibility level. Valid values are none, backward, forward, full, backward_transitive, forward_transitive, and full_transitive"
    )]
    InvalidCompatibilityLevel(String),
    /// 42204.
    #[error(
        "Invalid mode '{0}'. Valid values are READWRITE, READONLY, READONLY_OVERRIDE and IMPORT"
    )]
    InvalidMode(String),
    /// 42205: the mode forbids the operation.
    #[error("{0}")]
    OperationNotPermitted(String),
    /// 42206: the version is referenced by another schema.
    #[error("One or more references exist to the schema {{subject={subject},version={version}}}.")]
    ReferenceExists { subject: String, version: i32 },
    /// 42207: an IMPORT with an id or version already taken by another schema.
    #[error("{0}")]
    IdMismatch(String),
    /// 42208.
    #[error("Invalid subject '{0}': subjects are 1 to {max} characters without control characters", max = crate::registry::MAX_SUBJECT_BYTES)]
    InvalidSubject(String),
    /// 42209: the schema (or the request carrying it) is over the configured size.
    #[error("{0}")]
    SchemaTooLarge(String),
    /// 400: the body is not JSON.
    #[error("{0}")]
    MalformedJson(String),
    /// 422: the body is JSON of the wrong shape.
    #[error("{0}")]
    InvalidRequest(String),
    /// 400: a query parameter does not parse.
    #[error("{0}")]
    BadQuery(String),
    /// 413: the body is over the server's `limits.max_request_body`.
    #[error("{0}")]
    PayloadTooLarge(String),
    /// 415.
    #[error(
        "HTTP 415 Unsupported Media Type: Content-Type '{0}' is not supported; use application/vnd.schemaregistry.v1+json"
    )]
    UnsupportedMediaType(String),
    /// 406: the `Accept` header names no media type the registry answers in (`api/negotiate.rs`);
    /// the header is kept for the log only. Confluent's (Jersey's) own text.
    #[error("HTTP 406 Not Acceptable")]
    NotAcceptable(String),
    /// 404: a path segment that names no resource (an id that is not a number).
    #[error("HTTP 404 Not Found")]
    NotFound,
    /// 50001: the `_schemas` store failed; nothing was applied.
    #[error("Error while writing to the schema store: {0}")]
    Store(#[source] StoreError),
    /// 50001: the blocking task that parses or checks a schema panicked or was cancelled.
    #[error("a schema parse or compatibility check did not finish: {0}")]
    Worker(#[source] tokio::task::JoinError),
}

impl RegistryError {
    /// `(HTTP status, error_code)` of this error.
    pub fn status_and_code(&self) -> (StatusCode, u32) {
        use RegistryError as E;
        let not_found = StatusCode::NOT_FOUND;
        let unprocessable = StatusCode::UNPROCESSABLE_ENTITY;
        match self {
            E::SubjectNotFound(_) => (not_found, 40401),
            E::VersionNotFound { .. } => (not_found, 40402),
            E::SchemaIdNotFound(_) | E::SchemaNotFound => (not_found, 40403),
            E::SubjectSoftDeleted(_) => (not_found, 40404),
            E::SubjectNotSoftDeleted(_) => (not_found, 40405),
            E::VersionSoftDeleted { .. } => (not_found, 40406),
            E::VersionNotSoftDeleted { .. } => (not_found, 40407),
            E::SubjectConfigNotFound(_) => (not_found, 40408),
            E::SubjectModeNotFound(_) => (not_found, 40409),
            E::Incompatible { .. } => (StatusCode::CONFLICT, 409),
            E::InvalidSchema(_) | E::EmptySchema => (unprocessable, 42201),
            E::InvalidVersion(_) => (unprocessable, 42202),
            E::InvalidCompatibilityLevel(_) => (unprocessable, 42203),
            E::InvalidMode(_) => (unprocessable, 42204),
            E::OperationNotPermitted(_) => (unprocessable, 42205),
            E::ReferenceExists { .. } => (unprocessable, 42206),
            E::IdMismatch(_) => (unprocessable, 42207),
            E::InvalidSubject(_) => (unprocessable, 42208),
            E::SchemaTooLarge(_) => (unprocessable, 42209),
            E::MalformedJson(_) | E::BadQuery(_) => (StatusCode::BAD_REQUEST, 400),
            E::InvalidRequest(_) => (unprocessable, 422),
            E::PayloadTooLarge(_) => (StatusCode::PAYLOAD_TOO_LARGE, 413),
            E::UnsupportedMediaType(_) => (StatusCode::UNSUPPORTED_MEDIA_TYPE, 415),
            E::NotAcceptable(_) => (StatusCode::NOT_ACCEPTABLE, 406),
            E::NotFound => (not_found, 404),
            E::Store(_) | E::Worker(_) => (StatusCode::INTERNAL_SERVER_ERROR, 50001),
        }
    }
}

impl IntoResponse for RegistryError {
    fn into_response(self) -> Response {
        let (status, error_code) = self.status_and_code();
        let message = if status.is_server_error() {
            tracing::error!(cause = %self, "schema registry request failed");
            "Error in the backend data store; see the server log.".to_owned()
        } else {
            tracing::debug!(status = status.as_u16(), cause = %self, "schema registry client error");
            self.to_string()
        };
        (
            status,
            Json(ErrorBody {
                error_code,
                message,
            }),
        )
            .into_response()
    }
}
