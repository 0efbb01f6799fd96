//! `/compatibility/...`, `/config[/{subject}]` and `/mode[/{subject}]`.

use std::sync::Arc;

use axum::extract::FromRef;
use runnel_openapi::ErrorBody;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::registry::Registry;

use super::{Reg, SchemaRequest, SrBody, SrJson, SrPath, SrQuery, SubjectPath, VersionPath};
use crate::compat::Level;
use crate::error::RegistryError;
use crate::registry::{Mode, VersionSpec};

pub(super) fn routes<S>() -> OpenApiRouter<S>
where
    S: Clone + Send + Sync + 'static,
    Arc<Registry>: FromRef<S>,
{
    OpenApiRouter::new()
        .routes(routes!(check_all))
        .routes(routes!(check_version))
        .routes(routes!(
            get_global_config,
            put_global_config,
            delete_global_config
        ))
        .routes(routes!(
            get_subject_config,
            put_subject_config,
            delete_subject_config
        ))
        .routes(routes!(
            get_global_mode,
            put_global_mode,
            delete_global_mode
        ))
        .routes(routes!(
            get_subject_mode,
            put_subject_mode,
            delete_subject_mode
        ))
}

/// Query of the compatibility checks.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(super) struct CheckQuery {
    /// Answer the reasons of an incompatibility in `messages`.
    verbose: Option<bool>,
    /// Normalize the schema before checking.
    normalize: Option<bool>,
    /// Runnel's extension: check under this level (NONE, BACKWARD, ..., FULL_TRANSITIVE, any
    /// case) instead of the subject's; an unknown level is 42203. Without it, the subject's
    /// level (or the global one), as Confluent's registry checks.
    level: Option<String>,
}

impl CheckQuery {
    /// The level asked for with `?level=`, if any.
    fn level(&self) -> Result<Option<Level>, RegistryError> {
        self.level
            .as_deref()
            .map(|text| {
                text.trim().parse::<Level>().map_err(|_| {
                    RegistryError::InvalidCompatibilityLevel(text.chars().take(64).collect())
                })
            })
            .transpose()
    }
}

/// `?defaultToGlobal=`
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(super) struct DefaultToGlobalQuery {
    /// Answer the global setting when the subject has none of its own.
    #[serde(rename = "defaultToGlobal")]
    #[param(rename = "defaultToGlobal")]
    default_to_global: Option<bool>,
}

/// `?force=`
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(super) struct ForceQuery {
    /// Allow IMPORT although schemas exist.
    force: Option<bool>,
}

/// The answer of a compatibility check.
#[derive(Debug, Serialize, ToSchema)]
pub(super) struct CompatibilityResponse {
    is_compatible: bool,
    /// With `verbose=true`: why not, naming the offending fields.
    #[serde(skip_serializing_if = "Option::is_none")]
    messages: Option<Vec<String>>,
}

/// A compatibility level (`GET` and `DELETE` answers).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub(super) struct ConfigResponse {
    #[schema(example = "BACKWARD")]
    compatibility_level: String,
}

/// The body of `PUT /config`.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub(super) struct ConfigRequest {
    /// NONE, BACKWARD, BACKWARD_TRANSITIVE, FORWARD, FORWARD_TRANSITIVE, FULL or
    /// FULL_TRANSITIVE (any case); anything else is 42203.
    #[schema(example = "FULL")]
    compatibility: Option<String>,
}

/// A mode, in requests and answers.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub(super) struct ModeBody {
    /// READWRITE, READONLY, READONLY_OVERRIDE or IMPORT (any case); anything else is 42204.
    #[schema(example = "READWRITE")]
    mode: Option<String>,
}

fn compatibility_response(messages: Vec<String>, verbose: bool) -> CompatibilityResponse {
    CompatibilityResponse {
        is_compatible: messages.is_empty(),
        messages: verbose.then_some(messages),
    }
}

/// Check a schema against the versions the subject's level names (against none for a subject
/// without versions: compatible); `?level=` checks under another level instead.
#[utoipa::path(
    post,
    path = "/compatibility/subjects/{subject}/versions",
    operation_id = "sr_check_compatibility",
    params(SubjectPath, CheckQuery),
    request_body = SchemaRequest,
    responses(
        (status = 200, description = "Whether it is compatible", body = CompatibilityResponse, content_type = "application/vnd.schemaregistry.v1+json"),
        (status = 400, description = "Malformed JSON or query (400)", body = ErrorBody),
        (status = 404, description = "Generic 404 for a path that names nothing (404)", body = ErrorBody),
        (status = 415, description = "Unsupported content type (415)", body = ErrorBody),
        (status = 422, description = "Invalid schema (42201), unknown `level` (42203), schema too large (42209), wrong body shape (422)", body = ErrorBody),
    ),
)]
pub(super) async fn check_all(
    Reg(registry): Reg,
    SrPath(SubjectPath { subject }): SrPath<SubjectPath>,
    SrQuery(q): SrQuery<CheckQuery>,
    SrBody(body): SrBody<SchemaRequest>,
) -> Result<SrJson<CompatibilityResponse>, RegistryError> {
    let messages = registry
        .check_compatibility(
            &subject,
            None,
            &body.into_new_schema()?,
            q.normalize.unwrap_or(false),
            q.level()?,
        )
        .await?;
    Ok(SrJson(compatibility_response(
        messages,
        q.verbose.unwrap_or(false),
    )))
}

/// Check a schema against one version of the subject, in the direction its level names
/// (`latest` of a subject without live versions: against none, compatible); `?level=` checks
/// in the direction of another level instead.
#[utoipa::path(
    post,
    path = "/compatibility/subjects/{subject}/versions/{version}",
    operation_id = "sr_check_compatibility_version",
    params(VersionPath, CheckQuery),
    request_body = SchemaRequest,
    responses(
        (status = 200, description = "Whether it is compatible", body = CompatibilityResponse, content_type = "application/vnd.schemaregistry.v1+json"),
        (status = 400, description = "Malformed JSON or query (400)", body = ErrorBody),
        (status = 404, description = "A numbered version the subject does not hold, or of a subject that does not exist (40402)", body = ErrorBody),
        (status = 415, description = "Unsupported content type (415)", body = ErrorBody),
        (status = 422, description = "Invalid or empty schema (42201), invalid version (42202), unknown `level` (42203), schema too large (42209), wrong body shape (422)", body = ErrorBody),
    ),
)]
pub(super) async fn check_version(
    Reg(registry): Reg,
    SrPath(VersionPath { subject, version }): SrPath<VersionPath>,
    SrQuery(q): SrQuery<CheckQuery>,
    SrBody(body): SrBody<SchemaRequest>,
) -> Result<SrJson<CompatibilityResponse>, RegistryError> {
    let spec: VersionSpec = version.parse()?;
    let messages = registry
        .check_compatibility(
            &subject,
            Some(spec),
            &body.into_new_schema()?,
            q.normalize.unwrap_or(false),
            q.level()?,
        )
        .await?;
    Ok(SrJson(compatibility_response(
        messages,
        q.verbose.unwrap_or(false),
    )))
}

/// Sets the global level (`subject` None) or a subject's; answers the level set.
async fn put_level(
    registry: &Registry,
    subject: Option<&str>,
    request: &ConfigRequest,
) -> Result<SrJson<ConfigRequest>, RegistryError> {
    let level = parse_level(request)?;
    registry.set_level(subject, level).await?;
    Ok(SrJson(ConfigRequest {
        compatibility: Some(level.as_str().to_owned()),
    }))
}

/// Sets the global mode (`subject` None) or a subject's; answers the mode set.
async fn put_mode(
    registry: &Registry,
    subject: Option<&str>,
    q: &ForceQuery,
    request: &ModeBody,
) -> Result<SrJson<ModeBody>, RegistryError> {
    let mode = parse_mode(request)?;
    registry
        .set_mode(subject, mode, q.force.unwrap_or(false))
        .await?;
    Ok(mode_body(mode))
}

fn parse_level(request: &ConfigRequest) -> Result<Level, RegistryError> {
    let text = request.compatibility.as_deref().unwrap_or_default();
    text.trim()
        .parse::<Level>()
        .map_err(|_| RegistryError::InvalidCompatibilityLevel(text.chars().take(64).collect()))
}

fn parse_mode(request: &ModeBody) -> Result<Mode, RegistryError> {
    let text = request.mode.as_deref().unwrap_or_default();
    text.parse::<Mode>()
        .map_err(|()| RegistryError::InvalidMode(text.chars().take(64).collect()))
}

fn level_body(level: Level) -> SrJson<ConfigResponse> {
    SrJson(ConfigResponse {
        compatibility_level: level.as_str().to_owned(),
    })
}

fn mode_body(mode: Mode) -> SrJson<ModeBody> {
    SrJson(ModeBody {
        mode: Some(mode.as_str().to_owned()),
    })
}

/// The global compatibility level.
#[utoipa::path(
    get,
    path = "/config",
    operation_id = "sr_get_global_config",
    params(DefaultToGlobalQuery),
    responses(
        (status = 200, description = "The global level", body = ConfigResponse, content_type = "application/vnd.schemaregistry.v1+json"),
        (status = 400, description = "A query parameter does not parse (400)", body = ErrorBody),
    ),
)]
pub(super) async fn get_global_config(
    Reg(registry): Reg,
    SrQuery(_q): SrQuery<DefaultToGlobalQuery>,
) -> Result<SrJson<ConfigResponse>, RegistryError> {
    Ok(level_body(registry.level(None, true)?))
}

/// Set the global compatibility level.
#[utoipa::path(
    put,
    path = "/config",
    operation_id = "sr_put_global_config",
    request_body = ConfigRequest,
    responses(
        (status = 200, description = "The request, echoed", body = ConfigRequest, content_type = "application/vnd.schemaregistry.v1+json"),
        (status = 400, description = "Malformed JSON (400)", body = ErrorBody),
        (status = 415, description = "Unsupported content type (415)", body = ErrorBody),
        (status = 422, description = "Invalid compatibility level (42203), wrong body shape (422), body too large (42209)", body = ErrorBody),
        (status = 500, description = "The schema store failed (50001)", body = ErrorBody),
    ),
)]
pub(super) async fn put_global_config(
    Reg(registry): Reg,
    SrBody(body): SrBody<ConfigRequest>,
) -> Result<SrJson<ConfigRequest>, RegistryError> {
    put_level(&registry, None, &body).await
}

/// Reset the global compatibility level to the server's default; answers the level before.
#[utoipa::path(
    delete,
    path = "/config",
    operation_id = "sr_delete_global_config",
    responses(
        (status = 200, description = "The level before", body = ConfigResponse, content_type = "application/vnd.schemaregistry.v1+json"),
        (status = 500, description = "The schema store failed (50001)", body = ErrorBody),
    ),
)]
pub(super) async fn delete_global_config(
    Reg(registry): Reg,
) -> Result<SrJson<ConfigResponse>, RegistryError> {
    Ok(level_body(registry.delete_level(None).await?))
}

/// A subject's compatibility level.
#[utoipa::path(
    get,
    path = "/config/{subject}",
    operation_id = "sr_get_subject_config",
    params(SubjectPath, DefaultToGlobalQuery),
    responses(
        (status = 200, description = "The subject's level", body = ConfigResponse, content_type = "application/vnd.schemaregistry.v1+json"),
        (status = 400, description = "A query parameter does not parse (400)", body = ErrorBody),
        (status = 404, description = "The subject has no level of its own (40408)", body = ErrorBody),
    ),
)]
pub(super) async fn get_subject_config(
    Reg(registry): Reg,
    SrPath(SubjectPath { subject }): SrPath<SubjectPath>,
    SrQuery(q): SrQuery<DefaultToGlobalQuery>,
) -> Result<SrJson<ConfigResponse>, RegistryError> {
    Ok(level_body(registry.level(
        Some(&subject),
        q.default_to_global.unwrap_or(false),
    )?))
}

/// Set a subject's compatibility level.
#[utoipa::path(
    put,
    path = "/config/{subject}",
    operation_id = "sr_put_subject_config",
    params(SubjectPath),
    request_body = ConfigRequest,
    responses(
        (status = 200, description = "The request, echoed", body = ConfigRequest, content_type = "application/vnd.schemaregistry.v1+json"),
        (status = 400, description = "Malformed JSON (400)", body = ErrorBody),
        (status = 404, description = "Generic 404 for a path that names nothing (404)", body = ErrorBody),
        (status = 415, description = "Unsupported content type (415)", body = ErrorBody),
        (status = 422, description = "Invalid compatibility level (42203), invalid subject (42208), wrong body shape (422), body too large (42209)", body = ErrorBody),
        (status = 500, description = "The schema store failed (50001)", body = ErrorBody),
    ),
)]
pub(super) async fn put_subject_config(
    Reg(registry): Reg,
    SrPath(SubjectPath { subject }): SrPath<SubjectPath>,
    SrBody(body): SrBody<ConfigRequest>,
) -> Result<SrJson<ConfigRequest>, RegistryError> {
    put_level(&registry, Some(&subject), &body).await
}

/// Remove a subject's own level; answers the level in force before.
#[utoipa::path(
    delete,
    path = "/config/{subject}",
    operation_id = "sr_delete_subject_config",
    params(SubjectPath),
    responses(
        (status = 200, description = "The level before", body = ConfigResponse, content_type = "application/vnd.schemaregistry.v1+json"),
        (status = 404, description = "Unknown subject (40401)", body = ErrorBody),
        (status = 500, description = "The schema store failed (50001)", body = ErrorBody),
    ),
)]
pub(super) async fn delete_subject_config(
    Reg(registry): Reg,
    SrPath(SubjectPath { subject }): SrPath<SubjectPath>,
) -> Result<SrJson<ConfigResponse>, RegistryError> {
    Ok(level_body(registry.delete_level(Some(&subject)).await?))
}

/// The global mode.
#[utoipa::path(
    get,
    path = "/mode",
    operation_id = "sr_get_global_mode",
    responses((status = 200, description = "The global mode", body = ModeBody, content_type = "application/vnd.schemaregistry.v1+json")),
)]
pub(super) async fn get_global_mode(Reg(registry): Reg) -> Result<SrJson<ModeBody>, RegistryError> {
    Ok(mode_body(registry.mode(None, true)?))
}

/// Set the global mode.
#[utoipa::path(
    put,
    path = "/mode",
    operation_id = "sr_put_global_mode",
    params(ForceQuery),
    request_body = ModeBody,
    responses(
        (status = 200, description = "The request, echoed", body = ModeBody, content_type = "application/vnd.schemaregistry.v1+json"),
        (status = 400, description = "Malformed JSON or query (400)", body = ErrorBody),
        (status = 415, description = "Unsupported content type (415)", body = ErrorBody),
        (status = 422, description = "Invalid mode (42204), IMPORT over existing schemas without force (42205), wrong body shape (422), body too large (42209)", body = ErrorBody),
        (status = 500, description = "The schema store failed (50001)", body = ErrorBody),
    ),
)]
pub(super) async fn put_global_mode(
    Reg(registry): Reg,
    SrQuery(q): SrQuery<ForceQuery>,
    SrBody(body): SrBody<ModeBody>,
) -> Result<SrJson<ModeBody>, RegistryError> {
    put_mode(&registry, None, &q, &body).await
}

/// Reset the global mode to READWRITE; answers the mode before.
#[utoipa::path(
    delete,
    path = "/mode",
    operation_id = "sr_delete_global_mode",
    responses(
        (status = 200, description = "The mode before", body = ModeBody, content_type = "application/vnd.schemaregistry.v1+json"),
        (status = 500, description = "The schema store failed (50001)", body = ErrorBody),
    ),
)]
pub(super) async fn delete_global_mode(
    Reg(registry): Reg,
) -> Result<SrJson<ModeBody>, RegistryError> {
    Ok(mode_body(registry.delete_mode(None).await?))
}

/// A subject's mode.
#[utoipa::path(
    get,
    path = "/mode/{subject}",
    operation_id = "sr_get_subject_mode",
    params(SubjectPath, DefaultToGlobalQuery),
    responses(
        (status = 200, description = "The subject's mode", body = ModeBody, content_type = "application/vnd.schemaregistry.v1+json"),
        (status = 400, description = "A query parameter does not parse (400)", body = ErrorBody),
        (status = 404, description = "The subject has no mode of its own (40409)", body = ErrorBody),
    ),
)]
pub(super) async fn get_subject_mode(
    Reg(registry): Reg,
    SrPath(SubjectPath { subject }): SrPath<SubjectPath>,
    SrQuery(q): SrQuery<DefaultToGlobalQuery>,
) -> Result<SrJson<ModeBody>, RegistryError> {
    Ok(mode_body(registry.mode(
        Some(&subject),
        q.default_to_global.unwrap_or(false),
    )?))
}

/// Set a subject's mode.
#[utoipa::path(
    put,
    path = "/mode/{subject}",
    operation_id = "sr_put_subject_mode",
    params(SubjectPath, ForceQuery),
    request_body = ModeBody,
    responses(
        (status = 200, description = "The request, echoed", body = ModeBody, content_type = "application/vnd.schemaregistry.v1+json"),
        (status = 400, description = "Malformed JSON or query (400)", body = ErrorBody),
        (status = 404, description = "Generic 404 for a path that names nothing (404)", body = ErrorBody),
        (status = 415, description = "Unsupported content type (415)", body = ErrorBody),
        (status = 422, description = "Invalid mode (42204), IMPORT over existing schemas without force (42205), invalid subject (42208), wrong body shape (422), body too large (42209)", body = ErrorBody),
        (status = 500, description = "The schema store failed (50001)", body = ErrorBody),
    ),
)]
pub(super) async fn put_subject_mode(
    Reg(registry): Reg,
    SrPath(SubjectPath { subject }): SrPath<SubjectPath>,
    SrQuery(q): SrQuery<ForceQuery>,
    SrBody(body): SrBody<ModeBody>,
) -> Result<SrJson<ModeBody>, RegistryError> {
    put_mode(&registry, Some(&subject), &q, &body).await
}

/// Remove a subject's own mode; answers the mode before.
#[utoipa::path(
    delete,
    path = "/mode/{subject}",
    operation_id = "sr_delete_subject_mode",
    params(SubjectPath),
    responses(
        (status = 200, description = "The mode before", body = ModeBody, content_type = "application/vnd.schemaregistry.v1+json"),
        (status = 404, description = "The subject has no mode of its own (40409)", body = ErrorBody),
        (status = 500, description = "The schema store failed (50001)", body = ErrorBody),
    ),
)]
pub(super) async fn delete_subject_mode(
    Reg(registry): Reg,
    SrPath(SubjectPath { subject }): SrPath<SubjectPath>,
) -> Result<SrJson<ModeBody>, RegistryError> {
    Ok(mode_body(registry.delete_mode(Some(&subject)).await?))
}
