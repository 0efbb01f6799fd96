//! `/schemas/...`: schema types, and schemas by global id (the hot path of every Confluent
//! deserializer: `GET /schemas/ids/{id}` answers from a body built once per schema).

use axum::body::Bytes;
use axum::response::{IntoResponse as _, Response};
use runnel_openapi::ErrorBody;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{Reg, SchemaReference, SrJson, SrPath, SrQuery, raw_json};
use crate::error::RegistryError;
use crate::registry::{Registry, StoredSchema};

pub(super) fn routes<S: Clone + Send + Sync + 'static>() -> OpenApiRouter<S> {
    OpenApiRouter::new()
        .routes(routes!(schema_types))
        .routes(routes!(get_schema))
        .routes(routes!(get_raw_schema))
        .routes(routes!(get_schema_versions))
        .routes(routes!(get_schema_subjects))
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

/// The schema types this registry serves.
#[utoipa::path(
    get,
    path = "/schemas/types",
    operation_id = "sr_schema_types",
    tag = "schema-registry",
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
    tag = "schema-registry",
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
    tag = "schema-registry",
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
    tag = "schema-registry",
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
    tag = "schema-registry",
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
