//! `/schemas/...`: the listing of every subject's versions, schema types, and schemas by global
//! id (the hot path of every Confluent deserializer: `GET /schemas/ids/{id}` answers from a body
//! built once per schema).

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::FromRef;
use axum::response::{IntoResponse as _, Response};
use runnel_openapi::ErrorBody;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::subjects::SubjectVersionBody;
use super::{Reg, SchemaReference, SrJson, SrPath, SrQuery, raw_json};
use crate::error::RegistryError;
use crate::registry::{Registry, SchemaListing, StoredSchema};

pub(super) fn routes<S>() -> OpenApiRouter<S>
where
    S: Clone + Send + Sync + 'static,
    Arc<Registry>: FromRef<S>,
{
    OpenApiRouter::new()
        .routes(routes!(list_schemas))
        .routes(routes!(schema_types))
        .routes(routes!(get_schema))
        .routes(routes!(get_raw_schema))
        .routes(routes!(get_schema_versions))
        .routes(routes!(get_schema_subjects))
}

/// Most versions one `GET /schemas` answers, and the count when `limit` is absent or out of
/// range (Confluent's `schema.search.default.limit` and `schema.search.max.limit`).
const SCHEMA_LISTING_MAX: usize = 1000;

/// Query of `GET /schemas`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(super) struct SchemasQuery {
    /// Only subjects starting with this.
    #[serde(rename = "subjectPrefix")]
    #[param(rename = "subjectPrefix")]
    subject_prefix: Option<String>,
    /// Include soft-deleted versions.
    deleted: Option<bool>,
    /// Only the latest version of each subject (the latest soft-deleted one counts with
    /// `deleted=true`).
    #[serde(rename = "latestOnly")]
    #[param(rename = "latestOnly")]
    latest_only: Option<bool>,
    /// Versions to skip from the start of the listing; a negative one counts as 0.
    offset: Option<i32>,
    /// Most versions to answer: 1 to 1000; anything else (or none) means 1000.
    limit: Option<i32>,
}

/// `{id}`
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub(super) struct IdPath {
    /// A global schema id.
    #[param(minimum = 1)]
    id: i32,
}

/// Query of `GET /schemas/ids/{id}`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(super) struct SchemaQuery {
    /// Accepted for compatibility; ids are global here.
    subject: Option<String>,
    /// Accepted for compatibility; Avro schemas are answered as stored.
    format: Option<String>,
    /// Also answer `maxId`, the largest id handed out.
    #[serde(rename = "fetchMaxId")]
    #[param(rename = "fetchMaxId")]
    fetch_max_id: Option<bool>,
}

/// Query of the id listings.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(super) struct IdListingQuery {
    /// Only this subject's versions.
    subject: Option<String>,
    /// Include soft-deleted versions.
    deleted: Option<bool>,
}

/// A schema by id.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub(super) struct SchemaById {
    /// The schema, as a JSON string.
    schema: String,
    #[schema(example = "AVRO")]
    schema_type: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    references: Vec<SchemaReference>,
    /// With `fetchMaxId=true`: the largest id handed out.
    #[serde(skip_serializing_if = "Option::is_none")]
    max_id: Option<i32>,
}

/// A `(subject, version)` pair.
#[derive(Debug, Serialize, ToSchema)]
pub(super) struct SubjectVersion {
    subject: String,
    version: i32,
}

fn by_id(stored: &StoredSchema, max_id: Option<i32>) -> SchemaById {
    SchemaById {
        schema: stored.schema.clone(),
        schema_type: stored.schema_type.clone(),
        references: stored
            .references
            .iter()
            .map(SchemaReference::from)
            .collect(),
        max_id,
    }
}

fn stored(registry: &Registry, id: i32) -> Result<std::sync::Arc<StoredSchema>, RegistryError> {
    registry
        .stored_schema(id)
        .ok_or(RegistryError::SchemaIdNotFound(i64::from(id)))
}

/// Every version of the subjects that match, by subject then version, as schema objects.
#[utoipa::path(
    get,
    path = "/schemas",
    operation_id = "sr_list_schemas",
    params(SchemasQuery),
    responses(
        (status = 200, description = "The versions, as `GET /subjects/{subject}/versions/{version}` answers them but without `schemaType` for AVRO", body = Vec<SubjectVersionBody>, content_type = "application/vnd.schemaregistry.v1+json"),
        (status = 400, description = "A query parameter does not parse (400)", body = ErrorBody),
    ),
)]
pub(super) async fn list_schemas(
    Reg(registry): Reg,
    SrQuery(q): SrQuery<SchemasQuery>,
) -> SrJson<Vec<SubjectVersionBody>> {
    let limit = q
        .limit
        .and_then(|l| usize::try_from(l).ok())
        .filter(|l| (1..=SCHEMA_LISTING_MAX).contains(l))
        .unwrap_or(SCHEMA_LISTING_MAX);
    let listing = SchemaListing {
        prefix: q.subject_prefix.as_deref().unwrap_or(""),
        deleted: q.deleted.unwrap_or(false),
        latest_only: q.latest_only.unwrap_or(false),
        offset: q.offset.and_then(|o| usize::try_from(o).ok()).unwrap_or(0),
        limit,
    };
    SrJson(
        registry
            .schemas(&listing)
            .into_iter()
            .map(|v| SubjectVersionBody::from(v).omitting_avro_type())
            .collect(),
    )
}

/// The schema types this registry serves.
#[utoipa::path(
    get,
    path = "/schemas/types",
    operation_id = "sr_schema_types",
    responses((status = 200, description = "Supported schema types", body = Vec<String>, content_type = "application/vnd.schemaregistry.v1+json", example = json!(["AVRO"]))),
)]
pub(super) async fn schema_types() -> SrJson<[&'static str; 1]> {
    SrJson([crate::registry::AVRO])
}

/// A schema by its global id (soft-deleted versions keep their id resolvable).
#[utoipa::path(
    get,
    path = "/schemas/ids/{id}",
    operation_id = "sr_get_schema_by_id",
    params(IdPath, SchemaQuery),
    responses(
        (status = 200, description = "The schema", body = SchemaById, content_type = "application/vnd.schemaregistry.v1+json"),
        (status = 400, description = "A query parameter does not parse (400)", body = ErrorBody),
        (status = 404, description = "No schema with this id (40403), or an id that is not a number (404)", body = ErrorBody),
    ),
)]
pub(super) async fn get_schema(
    Reg(registry): Reg,
    SrPath(IdPath { id }): SrPath<IdPath>,
    SrQuery(query): SrQuery<SchemaQuery>,
) -> Result<Response, RegistryError> {
    let _ = (&query.subject, &query.format);
    let stored = stored(&registry, id)?;
    if query.fetch_max_id == Some(true) {
        return Ok(SrJson(by_id(&stored, Some(registry.max_id()))).into_response());
    }
    let body = stored
        .id_response
        .get_or_init(|| Bytes::from(serde_json::to_vec(&by_id(&stored, None)).unwrap_or_default()));
    Ok(raw_json(body.clone()))
}

/// The schema with this id, as raw JSON.
#[utoipa::path(
    get,
    path = "/schemas/ids/{id}/schema",
    operation_id = "sr_get_raw_schema_by_id",
    params(IdPath, SchemaQuery),
    responses(
        (status = 200, description = "The schema itself", body = Object, content_type = "application/vnd.schemaregistry.v1+json"),
        (status = 400, description = "A query parameter does not parse (400)", body = ErrorBody),
        (status = 404, description = "No schema with this id (40403), or an id that is not a number (404)", body = ErrorBody),
    ),
)]
pub(super) async fn get_raw_schema(
    Reg(registry): Reg,
    SrPath(IdPath { id }): SrPath<IdPath>,
    SrQuery(_query): SrQuery<SchemaQuery>,
) -> Result<Response, RegistryError> {
    let stored = stored(&registry, id)?;
    Ok(raw_json(Bytes::from(stored.schema.clone())))
}

/// The `(subject, version)`s that use this id.
#[utoipa::path(
    get,
    path = "/schemas/ids/{id}/versions",
    operation_id = "sr_get_schema_versions",
    params(IdPath, IdListingQuery),
    responses(
        (status = 200, description = "Subjects and versions", body = Vec<SubjectVersion>, content_type = "application/vnd.schemaregistry.v1+json"),
        (status = 400, description = "A query parameter does not parse (400)", body = ErrorBody),
        (status = 404, description = "No schema with this id (40403), or an id that is not a number (404)", body = ErrorBody),
    ),
)]
pub(super) async fn get_schema_versions(
    Reg(registry): Reg,
    SrPath(IdPath { id }): SrPath<IdPath>,
    SrQuery(query): SrQuery<IdListingQuery>,
) -> Result<SrJson<Vec<SubjectVersion>>, RegistryError> {
    let pairs =
        registry.id_versions(id, query.subject.as_deref(), query.deleted.unwrap_or(false))?;
    Ok(SrJson(
        pairs
            .into_iter()
            .map(|(subject, version)| SubjectVersion { subject, version })
            .collect(),
    ))
}

/// The subjects that use this id.
#[utoipa::path(
    get,
    path = "/schemas/ids/{id}/subjects",
    operation_id = "sr_get_schema_subjects",
    params(IdPath, IdListingQuery),
    responses(
        (status = 200, description = "Subjects", body = Vec<String>, content_type = "application/vnd.schemaregistry.v1+json"),
        (status = 400, description = "A query parameter does not parse (400)", body = ErrorBody),
        (status = 404, description = "No schema with this id (40403), or an id that is not a number (404)", body = ErrorBody),
    ),
)]
pub(super) async fn get_schema_subjects(
    Reg(registry): Reg,
    SrPath(IdPath { id }): SrPath<IdPath>,
    SrQuery(query): SrQuery<IdListingQuery>,
) -> Result<SrJson<Vec<String>>, RegistryError> {
    let pairs =
        registry.id_versions(id, query.subject.as_deref(), query.deleted.unwrap_or(false))?;
    let mut subjects: Vec<String> = pairs.into_iter().map(|(s, _)| s).collect();
    subjects.dedup();
    Ok(SrJson(subjects))
}
