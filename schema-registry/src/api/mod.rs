//! The Confluent Schema Registry HTTP API (CONTRACTS.md §1.3) as an axum router.
//!
//! [`routes`] registers every handler with `utoipa-axum`'s `OpenApiRouter`, so the server that
//! merges it serves these paths and documents them in its one OpenAPI document (tag
//! [`TAG`]). The router works with any state: handlers find the [`Registry`] in the request
//! extensions ([`Reg`]), which the server adds with `axum::Extension(Arc<Registry>)`.
//!
//! Requests: bodies are JSON under `application/vnd.schemaregistry.v1+json`,
//! `application/vnd.schemaregistry+json`, `application/json`, `application/octet-stream` or no
//! content type (Confluent's clients send all of these); anything else is a 415. A body over
//! [`RegistryConfig::max_request_bytes`](crate::registry::RegistryConfig) is refused before it
//! is read (42209). Answers: JSON under the media type the `Accept` header picks
//! (`negotiate.rs`; `application/vnd.schemaregistry.v1+json` by default, 406 when it names none
//! of ours); errors are `{"error_code", "message"}` (`error.rs`).
//!
//! Files: `root.rs` (`/`, `/contexts`), `schemas.rs` (`/schemas...`), `subjects.rs`
//! (`/subjects/...`), `config.rs` (`/config`, `/mode`, `/compatibility`), `negotiate.rs`
//! (`Accept`).

mod config;
pub mod negotiate;
mod root;
mod schemas;
mod subjects;

use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::extract::{FromRef, FromRequest, FromRequestParts, Request};
use axum::http::header::{CONTENT_LENGTH, CONTENT_TYPE};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use utoipa::openapi::path::Operation;
use utoipa::openapi::{ContentBuilder, OpenApi, Ref, RefOr, ResponseBuilder};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;

use crate::error::RegistryError;
use crate::registry::records::Reference;
use crate::registry::{NewSchema, Registry};

/// The OpenAPI tag of every registry operation.
pub const TAG: &str = "schema-registry";
/// The media type answers take unless `Accept` asks for another ([`negotiate`]).
pub const MEDIA_TYPE: &str = "application/vnd.schemaregistry.v1+json";

/// The document fragment that declares [`TAG`].
#[derive(utoipa::OpenApi)]
#[openapi(tags((
    name = "schema-registry",
    description = "Confluent Schema Registry API for Avro: subjects, versions, schemas by id, \
        references, compatibility checks, global and per-subject config and mode, soft and \
        permanent deletes. State lives in the compacted topic `_schemas`."
)))]
struct TagDoc;

/// Every registry route with its documentation, for any router state, each behind content
/// negotiation ([`negotiate`]).
pub fn routes<S>() -> OpenApiRouter<S>
where
    S: Clone + Send + Sync + 'static,
    Arc<Registry>: FromRef<S>,
{
    let mut router = OpenApiRouter::with_openapi(<TagDoc as utoipa::OpenApi>::openapi())
        .merge(root::routes())
        .merge(schemas::routes())
        .merge(subjects::routes())
        .merge(config::routes());
    document_negotiation(router.get_openapi_mut());
    router.route_layer(axum::middleware::from_fn(negotiate::negotiate))
}

/// Documents what every operation shares, so the handlers' annotations need not repeat it:
/// [`TAG`]; a body under [`MEDIA_TYPE`] or `application/json` ([`SrBody`] takes both, and
/// more); what [`negotiate`] does: each answer it lets through comes in any of
/// [`negotiate::ANSWER_TYPES`] (the handlers' annotations name the default one), and an
/// unacceptable `Accept` is a 406.
fn document_negotiation(doc: &mut OpenApi) {
    for item in doc.paths.paths.values_mut() {
        for op in [
            &mut item.get,
            &mut item.put,
            &mut item.post,
            &mut item.delete,
        ]
        .into_iter()
        .flatten()
        {
            op.tags = Some(vec![TAG.to_owned()]);
            offer_both_request_types(op);
            offer_every_answer_type(op);
            op.responses.responses.insert(
                "406".to_owned(),
                RefOr::T(
                    ResponseBuilder::new()
                        .description(
                            "The `Accept` header names none of the registry's media types (406)",
                        )
                        .content(
                            "application/json",
                            ContentBuilder::new()
                                .schema(Some(Ref::from_schema_name("ErrorBody")))
                                .build(),
                        )
                        .build(),
                ),
            );
        }
    }
}

/// Documents `op`'s body, annotated as JSON, under the registry's media type too.
fn offer_both_request_types(op: &mut Operation) {
    let Some(RefOr::T(body)) = op.request_body.as_mut() else {
        return;
    };
    let Some(content) = body.content.values().next().cloned() else {
        return;
    };
    body.content = [MEDIA_TYPE, "application/json"]
        .iter()
        .map(|media_type| ((*media_type).to_owned(), content.clone()))
        .collect();
}

/// Gives each of `op`'s documented answers the content of its first media type under every
/// media type [`negotiate`] may answer in.
fn offer_every_answer_type(op: &mut Operation) {
    for response in op.responses.responses.values_mut() {
        let RefOr::T(response) = response else {
            continue;
        };
        let Some(content) = response.content.values().next().cloned() else {
            continue;
        };
        response.content = negotiate::ANSWER_TYPES
            .iter()
            .map(|(media_type, _)| ((*media_type).to_owned(), content.clone()))
            .collect();
    }
}

/// The registry, from the router's state: the server's state holds it (`FromRef`), so a
/// router without one does not compile.
#[derive(Debug, Clone)]
pub struct Reg(pub Arc<Registry>);

impl<S> FromRequestParts<S> for Reg
where
    S: Send + Sync,
    Arc<Registry>: FromRef<S>,
{
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(_: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        Ok(Reg(Arc::from_ref(state)))
    }
}

/// A JSON answer under [`MEDIA_TYPE`].
#[derive(Debug)]
pub struct SrJson<T>(pub T);

impl<T: Serialize> IntoResponse for SrJson<T> {
    fn into_response(self) -> Response {
        match serde_json::to_vec(&self.0) {
            Ok(body) => raw_json(Bytes::from(body)),
            Err(e) => RegistryError::InvalidRequest(format!("cannot serialize the answer: {e}"))
                .into_response(),
        }
    }
}

/// An already-serialized JSON answer under [`MEDIA_TYPE`].
pub(crate) fn raw_json(body: Bytes) -> Response {
    let mut response = Response::new(Body::from(body));
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static(MEDIA_TYPE));
    *response.status_mut() = StatusCode::OK;
    response
}

/// A JSON request body: content type checked, size bounded, parse failures in our format
/// (empty or not JSON → 400, JSON of the wrong shape → 422).
#[derive(Debug)]
pub struct SrBody<T>(pub T);

impl<S, T> FromRequest<S> for SrBody<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
    Arc<Registry>: FromRef<S>,
{
    type Rejection = RegistryError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        if let Some(ct) = req.headers().get(CONTENT_TYPE) {
            let text = ct.to_str().unwrap_or_default();
            if !accepted_content_type(text) {
                return Err(RegistryError::UnsupportedMediaType(
                    text.chars().take(100).collect(),
                ));
            }
        }
        let limit = Arc::<Registry>::from_ref(state).config().max_request_bytes;
        let declared = req
            .headers()
            .get(CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
        if declared.is_some_and(|n| n > limit as u64) {
            drain(req.into_body()).await;
            return Err(too_large(limit));
        }
        let body = match Bytes::from_request(req, state).await {
            Ok(b) => b,
            Err(rejection) if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                return Err(RegistryError::PayloadTooLarge(
                    "Request body is larger than the configured limit (limits.max_request_body)."
                        .into(),
                ));
            }
            Err(rejection) => return Err(RegistryError::MalformedJson(rejection.body_text())),
        };
        if body.len() > limit {
            return Err(too_large(limit));
        }
        parse_body(&body).map(SrBody)
    }
}

/// Most bytes of a refused body read and dropped so the client, still sending, gets the answer
/// rather than a reset connection; past this the connection is closed instead.
const DRAIN_MAX_BYTES: usize = 64 << 20;

/// Reads and drops a refused body, chunk by chunk (nothing is kept).
async fn drain(body: Body) {
    use futures_util::StreamExt as _;
    let mut stream = body.into_data_stream();
    let mut seen = 0usize;
    while let Some(Ok(chunk)) = stream.next().await {
        seen += chunk.len();
        if seen > DRAIN_MAX_BYTES {
            break;
        }
    }
}

fn too_large(limit: usize) -> RegistryError {
    RegistryError::SchemaTooLarge(format!(
        "Request body is larger than {limit} bytes, the most a schema request may take"
    ))
}

fn accepted_content_type(ct: &str) -> bool {
    let essence = ct.split(';').next().unwrap_or_default().trim();
    [
        MEDIA_TYPE,
        "application/vnd.schemaregistry+json",
        "application/json",
        "application/octet-stream",
    ]
    .iter()
    .any(|t| t.eq_ignore_ascii_case(essence))
}

/// Parses a body that must be a JSON object.
fn parse_body<T: DeserializeOwned>(body: &[u8]) -> Result<T, RegistryError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(RegistryError::MalformedJson(
            "Request body is empty; a JSON object is required.".into(),
        ));
    }
    let value: serde_json::Value = serde_json::from_slice(body)
        .map_err(|e| RegistryError::MalformedJson(format!("Malformed JSON: {e}")))?;
    if !value.is_object() {
        return Err(RegistryError::InvalidRequest(
            "The request body must be a JSON object.".into(),
        ));
    }
    serde_json::from_value(value).map_err(|e| RegistryError::InvalidRequest(e.to_string()))
}

/// A query string, failing with 400 in our format. Booleans are read as Java reads them
/// (`Boolean.valueOf`: `true` in any case): Confluent's Python client sends `normalize=False`.
#[derive(Debug)]
pub struct SrQuery<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for SrQuery<T> {
    type Rejection = RegistryError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let query = parts.uri.query().unwrap_or_default();
        let pairs =
            query
                .split('&')
                .filter(|p| !p.is_empty())
                .map(|pair| match pair.split_once('=') {
                    Some((k, v)) if v.eq_ignore_ascii_case("true") => format!("{k}=true"),
                    Some((k, v)) if v.eq_ignore_ascii_case("false") => format!("{k}=false"),
                    _ => pair.to_owned(),
                });
        let uri: axum::http::Uri = format!("/?{}", pairs.collect::<Vec<_>>().join("&"))
            .parse()
            .map_err(|e| RegistryError::BadQuery(format!("Invalid query string: {e}")))?;
        axum::extract::Query::<T>::try_from_uri(&uri)
            .map(|axum::extract::Query(v)| SrQuery(v))
            .map_err(|e| RegistryError::BadQuery(e.body_text()))
    }
}

/// Path parameters; a segment that does not parse (an id that is not a number) names no
/// resource: the generic 404, as Confluent's JAX-RS answers.
#[derive(Debug)]
pub struct SrPath<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Send> FromRequestParts<S> for SrPath<T> {
    type Rejection = RegistryError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        axum::extract::Path::<T>::from_request_parts(parts, state)
            .await
            .map(|axum::extract::Path(v)| SrPath(v))
            .map_err(|_| RegistryError::NotFound)
    }
}

/// `{subject}`
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct SubjectPath {
    /// A subject name.
    #[param(min_length = 1)]
    pub subject: String,
}

/// `{subject}/versions/{version}`
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct VersionPath {
    /// A subject name.
    #[param(min_length = 1)]
    pub subject: String,
    /// `1` to `2147483647`, `latest` or `-1` (the latest); anything else is 42202.
    #[param(example = "latest")]
    pub version: String,
}

/// A schema reference, as requests and answers carry it.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct SchemaReference {
    /// The full name of the referenced type, as the referencing schema names it.
    #[schema(example = "com.example.Address")]
    pub name: String,
    /// The subject that defines it.
    pub subject: String,
    /// Its version in that subject (`-1`: the latest).
    #[schema(example = 1)]
    pub version: i32,
}

impl From<&Reference> for SchemaReference {
    fn from(r: &Reference) -> Self {
        SchemaReference {
            name: r.name.clone(),
            subject: r.subject.clone(),
            version: r.version,
        }
    }
}

/// The body of a registration, a lookup and a compatibility check.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SchemaRequest {
    /// The Avro schema, as a JSON string.
    #[schema(
        example = "{\"type\":\"record\",\"name\":\"Order\",\"fields\":[{\"name\":\"id\",\"type\":\"long\"}]}"
    )]
    pub schema: String,
    /// `AVRO` (the default); `JSON` and `PROTOBUF` are refused with 42201.
    #[serde(default)]
    #[schema(example = "AVRO")]
    pub schema_type: Option<String>,
    /// Named types this schema uses from other subjects.
    #[serde(default)]
    pub references: Option<Vec<SchemaReference>>,
    /// IMPORT mode only: the id to register under.
    #[serde(default)]
    #[schema(minimum = 1)]
    pub id: Option<i32>,
    /// IMPORT mode only: the version to register as.
    #[serde(default)]
    #[schema(minimum = 1)]
    pub version: Option<i32>,
}

impl SchemaRequest {
    /// The registry's request, refusing ids and versions below 1 (as documented).
    pub(crate) fn into_new_schema(self) -> Result<NewSchema, RegistryError> {
        if let Some(id) = self.id.filter(|id| *id < 1) {
            return Err(RegistryError::InvalidRequest(format!(
                "id {id} is not a schema id; ids are 1 to 2^31-1"
            )));
        }
        if let Some(version) = self.version.filter(|v| *v < 1) {
            return Err(RegistryError::InvalidVersion(version.to_string()));
        }
        Ok(NewSchema {
            schema: self.schema,
            schema_type: self.schema_type,
            references: self
                .references
                .unwrap_or_default()
                .into_iter()
                .map(|r| Reference {
                    name: r.name,
                    subject: r.subject,
                    version: r.version,
                })
                .collect(),
            id: self.id,
            version: self.version,
        })
    }
}

#[cfg(test)]
mod tests;
