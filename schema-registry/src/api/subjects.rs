//! `/subjects/...`: listing subjects and versions, registering, looking up by schema,
//! `referencedby`, and soft and permanent deletes.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::FromRef;
use axum::response::Response;
use runnel_openapi::ErrorBody;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::registry::Registry;

use super::{
    Reg, SchemaReference, SchemaRequest, SrBody, SrJson, SrPath, SrQuery, SubjectPath, VersionPath,
    raw_json,
};
use crate::error::RegistryError;
use crate::registry::{SchemaVersion, SubjectFilter, VersionSpec};

pub(super) fn routes<S>() -> OpenApiRouter<S>
where
    S: Clone + Send + Sync + 'static,
    Arc<Registry>: FromRef<S>,
{
    OpenApiRouter::new()
        .routes(routes!(list_subjects))
        .routes(routes!(list_versions, register))
        .routes(routes!(get_version, delete_version))
        .routes(routes!(get_version_schema))
        .routes(routes!(referenced_by))
        .routes(routes!(lookup, delete_subject))
}

/// Query of `GET /subjects`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(super) struct SubjectsQuery {
    /// Only subjects starting with this.
    #[serde(rename = "subjectPrefix")]
    #[param(rename = "subjectPrefix")]
    subject_prefix: Option<String>,
    /// Include subjects whose versions are all soft-deleted.
    deleted: Option<bool>,
    /// Only subjects with soft-deleted versions.
    #[serde(rename = "deletedOnly")]
    #[param(rename = "deletedOnly")]
    deleted_only: Option<bool>,
}

/// `?deleted=`
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(super) struct DeletedQuery {
    /// Include soft-deleted versions.
    deleted: Option<bool>,
}

/// `?normalize=`
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(super) struct NormalizeQuery {
    /// Normalize the schema (Avro's parsing canonical form) before storing and comparing.
    normalize: Option<bool>,
}

/// Query of `POST /subjects/{subject}`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(super) struct LookupQuery {
    /// Normalize the schema before comparing.
    normalize: Option<bool>,
    /// Also match soft-deleted versions.
    deleted: Option<bool>,
}

/// `?permanent=`
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(super) struct PermanentQuery {
    /// Delete permanently (only after a soft delete).
    permanent: Option<bool>,
}

/// A version of a subject.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub(super) struct SubjectVersionBody {
    subject: String,
    version: i32,
    id: i32,
    /// Always present here; `GET /schemas` leaves it out for AVRO, as Confluent does.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(example = "AVRO")]
    schema_type: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    references: Vec<SchemaReference>,
    /// The schema, as a JSON string.
    schema: String,
    /// Present (true) only on soft-deleted versions, listed with `deleted=true`.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    deleted: bool,
}

impl From<SchemaVersion> for SubjectVersionBody {
    fn from(v: SchemaVersion) -> Self {
        SubjectVersionBody {
            subject: v.subject,
            version: v.version,
            id: v.id,
            schema_type: Some(v.schema.schema_type.clone()),
            references: v
                .schema
                .references
                .iter()
                .map(SchemaReference::from)
                .collect(),
            schema: v.schema.schema.clone(),
            deleted: v.deleted,
        }
    }
}

impl SubjectVersionBody {
    /// The body without `schemaType` when it is AVRO, the default (Confluent's
    /// `SchemaTypeConverter`).
    pub(super) fn omitting_avro_type(mut self) -> Self {
        if self
            .schema_type
            .as_deref()
            .is_some_and(|t| t.eq_ignore_ascii_case(crate::registry::AVRO))
        {
            self.schema_type = None;
        }
        self
    }
}

/// The id a registration got.
#[derive(Debug, Serialize, ToSchema)]
pub(super) struct RegisterResponse {
    #[schema(example = 1)]
    id: i32,
}

/// Subjects, sorted.
#[utoipa::path(
    get,
    path = "/subjects",
    operation_id = "sr_list_subjects",
    params(SubjectsQuery),
    responses(
        (status = 200, description = "Subject names", body = Vec<String>, content_type = "application/vnd.schemaregistry.v1+json"),
        (status = 400, description = "A query parameter does not parse (400)", body = ErrorBody),
    ),
)]
pub(super) async fn list_subjects(
    Reg(registry): Reg,
    SrQuery(q): SrQuery<SubjectsQuery>,
) -> SrJson<Vec<String>> {
    let filter = if q.deleted_only == Some(true) {
        SubjectFilter::DeletedOnly
    } else if q.deleted == Some(true) {
        SubjectFilter::All
    } else {
        SubjectFilter::Live
    };
    SrJson(registry.subjects(q.subject_prefix.as_deref().unwrap_or(""), filter))
}

/// A subject's version numbers.
#[utoipa::path(
    get,
    path = "/subjects/{subject}/versions",
    operation_id = "sr_list_versions",
    params(SubjectPath, DeletedQuery),
    responses(
        (status = 200, description = "Version numbers, ascending", body = Vec<i32>, content_type = "application/vnd.schemaregistry.v1+json"),
        (status = 400, description = "A query parameter does not parse (400)", body = ErrorBody),
        (status = 404, description = "Unknown subject (40401)", body = ErrorBody),
    ),
)]
pub(super) async fn list_versions(
    Reg(registry): Reg,
    SrPath(SubjectPath { subject }): SrPath<SubjectPath>,
    SrQuery(q): SrQuery<DeletedQuery>,
) -> Result<SrJson<Vec<i32>>, RegistryError> {
    Ok(SrJson(
        registry.versions(&subject, q.deleted.unwrap_or(false))?,
    ))
}

/// Register a schema under a subject; idempotent, and a schema known under any subject keeps
/// its id.
#[utoipa::path(
    post,
    path = "/subjects/{subject}/versions",
    operation_id = "sr_register",
    params(SubjectPath, NormalizeQuery),
    request_body = SchemaRequest,
    responses(
        (status = 200, description = "The schema's global id", body = RegisterResponse, content_type = "application/vnd.schemaregistry.v1+json"),
        (status = 400, description = "Malformed JSON or query (400)", body = ErrorBody),
        (status = 404, description = "Generic 404 for a path that names nothing (404)", body = ErrorBody),
        (status = 409, description = "Incompatible with the subject's versions under its level (409)", body = ErrorBody),
        (status = 415, description = "Unsupported content type (415)", body = ErrorBody),
        (status = 422, description = "Invalid schema (42201), read-only mode (42205), id or version taken in IMPORT mode (42207), invalid subject (42208), schema too large (42209), wrong body shape (422)", body = ErrorBody),
        (status = 500, description = "The schema store failed (50001)", body = ErrorBody),
    ),
)]
pub(super) async fn register(
    Reg(registry): Reg,
    SrPath(SubjectPath { subject }): SrPath<SubjectPath>,
    SrQuery(q): SrQuery<NormalizeQuery>,
    SrBody(body): SrBody<SchemaRequest>,
) -> Result<SrJson<RegisterResponse>, RegistryError> {
    let registered = registry
        .register(
            &subject,
            &body.into_new_schema()?,
            q.normalize.unwrap_or(false),
        )
        .await?;
    Ok(SrJson(RegisterResponse { id: registered.id }))
}

/// One version of a subject.
#[utoipa::path(
    get,
    path = "/subjects/{subject}/versions/{version}",
    operation_id = "sr_get_version",
    params(VersionPath, DeletedQuery),
    responses(
        (status = 200, description = "The version", body = SubjectVersionBody, content_type = "application/vnd.schemaregistry.v1+json"),
        (status = 400, description = "A query parameter does not parse (400)", body = ErrorBody),
        (status = 404, description = "Unknown subject (40401) or version (40402)", body = ErrorBody),
        (status = 422, description = "Invalid version (42202)", body = ErrorBody),
    ),
)]
pub(super) async fn get_version(
    Reg(registry): Reg,
    SrPath(VersionPath { subject, version }): SrPath<VersionPath>,
    SrQuery(q): SrQuery<DeletedQuery>,
) -> Result<SrJson<SubjectVersionBody>, RegistryError> {
    let spec: VersionSpec = version.parse()?;
    let v = registry.version(&subject, spec, q.deleted.unwrap_or(false))?;
    Ok(SrJson(v.into()))
}

/// Delete a version: soft by default, permanently (after a soft delete) with `permanent=true`.
#[utoipa::path(
    delete,
    path = "/subjects/{subject}/versions/{version}",
    operation_id = "sr_delete_version",
    params(VersionPath, PermanentQuery),
    responses(
        (status = 200, description = "The deleted version number", body = i32, content_type = "application/vnd.schemaregistry.v1+json"),
        (status = 400, description = "A query parameter does not parse (400)", body = ErrorBody),
        (status = 404, description = "Unknown subject (40401) or version (40402), already soft-deleted (40406), permanent without a soft delete first (40407)", body = ErrorBody),
        (status = 422, description = "Invalid version (42202), read-only mode (42205), still referenced (42206)", body = ErrorBody),
        (status = 500, description = "The schema store failed (50001)", body = ErrorBody),
    ),
)]
pub(super) async fn delete_version(
    Reg(registry): Reg,
    SrPath(VersionPath { subject, version }): SrPath<VersionPath>,
    SrQuery(q): SrQuery<PermanentQuery>,
) -> Result<SrJson<i32>, RegistryError> {
    let spec: VersionSpec = version.parse()?;
    Ok(SrJson(
        registry
            .delete_version(&subject, spec, q.permanent.unwrap_or(false))
            .await?,
    ))
}

/// One version's schema, as raw JSON.
#[utoipa::path(
    get,
    path = "/subjects/{subject}/versions/{version}/schema",
    operation_id = "sr_get_version_schema",
    params(VersionPath, DeletedQuery),
    responses(
        (status = 200, description = "The schema itself", body = Object, content_type = "application/vnd.schemaregistry.v1+json"),
        (status = 400, description = "A query parameter does not parse (400)", body = ErrorBody),
        (status = 404, description = "Unknown subject (40401) or version (40402)", body = ErrorBody),
        (status = 422, description = "Invalid version (42202)", body = ErrorBody),
    ),
)]
pub(super) async fn get_version_schema(
    Reg(registry): Reg,
    SrPath(VersionPath { subject, version }): SrPath<VersionPath>,
    SrQuery(q): SrQuery<DeletedQuery>,
) -> Result<Response, RegistryError> {
    let spec: VersionSpec = version.parse()?;
    let v = registry.version(&subject, spec, q.deleted.unwrap_or(false))?;
    Ok(raw_json(Bytes::from(v.schema.schema.clone())))
}

/// Ids of the schemas that reference this version.
#[utoipa::path(
    get,
    path = "/subjects/{subject}/versions/{version}/referencedby",
    operation_id = "sr_referenced_by",
    params(VersionPath),
    responses(
        (status = 200, description = "Schema ids", body = Vec<i32>, content_type = "application/vnd.schemaregistry.v1+json"),
        (status = 404, description = "Unknown subject (40401) or version (40402)", body = ErrorBody),
        (status = 422, description = "Invalid version (42202)", body = ErrorBody),
    ),
)]
pub(super) async fn referenced_by(
    Reg(registry): Reg,
    SrPath(VersionPath { subject, version }): SrPath<VersionPath>,
) -> Result<SrJson<Vec<i32>>, RegistryError> {
    let spec: VersionSpec = version.parse()?;
    Ok(SrJson(registry.referenced_by(&subject, spec)?))
}

/// Find the version of a subject that holds this schema.
#[utoipa::path(
    post,
    path = "/subjects/{subject}",
    operation_id = "sr_lookup",
    params(SubjectPath, LookupQuery),
    request_body = SchemaRequest,
    responses(
        (status = 200, description = "The version holding the schema", body = SubjectVersionBody, content_type = "application/vnd.schemaregistry.v1+json"),
        (status = 400, description = "Malformed JSON or query (400)", body = ErrorBody),
        (status = 404, description = "Unknown subject (40401), schema not registered under it (40403)", body = ErrorBody),
        (status = 415, description = "Unsupported content type (415)", body = ErrorBody),
        (status = 422, description = "Invalid schema (42201), schema too large (42209), wrong body shape (422)", body = ErrorBody),
    ),
)]
pub(super) async fn lookup(
    Reg(registry): Reg,
    SrPath(SubjectPath { subject }): SrPath<SubjectPath>,
    SrQuery(q): SrQuery<LookupQuery>,
    SrBody(body): SrBody<SchemaRequest>,
) -> Result<SrJson<SubjectVersionBody>, RegistryError> {
    let v = registry.lookup(
        &subject,
        &body.into_new_schema()?,
        q.normalize.unwrap_or(false),
        q.deleted.unwrap_or(false),
    )?;
    let mut body = SubjectVersionBody::from(v);
    body.deleted = false;
    Ok(SrJson(body))
}

/// Delete a subject: soft by default (its config and mode go too), permanently (after a soft
/// delete) with `permanent=true`.
#[utoipa::path(
    delete,
    path = "/subjects/{subject}",
    operation_id = "sr_delete_subject",
    params(SubjectPath, PermanentQuery),
    responses(
        (status = 200, description = "The deleted version numbers", body = Vec<i32>, content_type = "application/vnd.schemaregistry.v1+json"),
        (status = 400, description = "A query parameter does not parse (400)", body = ErrorBody),
        (status = 404, description = "Unknown subject (40401), already soft-deleted (40404), permanent without a soft delete first (40405)", body = ErrorBody),
        (status = 422, description = "Read-only mode (42205), a version is still referenced (42206)", body = ErrorBody),
        (status = 500, description = "The schema store failed (50001)", body = ErrorBody),
    ),
)]
pub(super) async fn delete_subject(
    Reg(registry): Reg,
    SrPath(SubjectPath { subject }): SrPath<SubjectPath>,
    SrQuery(q): SrQuery<PermanentQuery>,
) -> Result<SrJson<Vec<i32>>, RegistryError> {
    Ok(SrJson(
        registry
            .delete_subject(&subject, q.permanent.unwrap_or(false))
            .await?,
    ))
}
