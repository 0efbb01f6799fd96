//! Every gateway failure, mapped in one place to an HTTP status and a Confluent error body
//! `{"error_code": <int>, "message": "..."}`.
//!
//! The maps are exhaustive `match`es without `_ =>`, so a new broker or log error cannot silently
//! become a 400. Server-side failures (5xx) answer with a generic message; the real cause is
//! logged here with its context, client errors are not logged above debug.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use crate::broker::{self, LogError};
use crate::group::GroupError;

/// Which API answers: the two versions use different codes for the same condition.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Api {
    V2,
    V3,
}

/// A failed request.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum GatewayError {
    #[error("{0}")]
    Broker(#[source] broker::Error, Api),
    /// A consumer-group failure; the API picks the codes of broker errors inside it.
    #[error("{0}")]
    Group(#[source] GroupError, Api),
    /// A partition number a record or message names that the topic does not have, as given
    /// (a negative one included, which the broker's `u32` partition ids cannot carry).
    #[error("Partition {partition} of topic '{topic}' not found.")]
    UnknownPartition {
        topic: String,
        partition: i64,
        api: Api,
    },
    #[error("{0}")]
    MalformedJson(String),
    #[error("{0}")]
    UnsupportedMediaType(String),
    #[error("{0}")]
    NotAcceptable(String),
    /// A v2 consumer read whose `Accept` names another embedded format than the instance's
    /// (Confluent's 40601, not the plain 406).
    #[error("{0}")]
    ConsumerFormatMismatch(String),
    /// A v2 consumer instance created with a setting or format we refuse (Confluent's 42204).
    #[error("{0}")]
    InvalidConsumerConfig(String),
    #[error("Payload error. Request body is empty. Data is required.")]
    EmptyBody(Api),
    #[error("{0}")]
    InvalidRecord(String),
    /// A v3 `records:batch` that is empty, too long, or has bad or repeated ids.
    #[error("{0}")]
    BatchError(String),
    #[error("{0}")]
    PayloadTooLarge(String),
    #[error("Too many requests in flight (limits.max_concurrent_requests); retry later.")]
    TooManyRequests,
    /// A long-poll that found every waiting slot taken (`limits.max_waiting_polls`).
    #[error("Too many reads waiting for records (limits.max_waiting_polls); retry later.")]
    TooManyWaiting,
    /// A request body sent slower than `limits.min_body_rate`; the connection is closed.
    #[error(
        "The request body arrived too slowly (limits.body_read_timeout, limits.min_body_rate); \
         the connection is closed."
    )]
    RequestTimeout,
    #[error("{0}")]
    BadRequest(String),
    /// A request Kafka itself refuses with `InvalidRequestException` (a config SET without a
    /// value, a config named twice in one batch): Confluent's 40002.
    #[error("{0}")]
    InvalidRequest(String),
    #[error("HTTP 404 Not Found")]
    NotFound,
    #[error("HTTP 405 Method Not Allowed")]
    MethodNotAllowed,
    #[error("{0}")]
    OffsetOutOfRange(String),
    /// A schema-format failure with the REST Proxy's code (42201 key schema missing, 42202
    /// value schema missing, 42205 invalid schema) or, 500 for codes ≥ 50000, the registry's
    /// own failure.
    #[error("{1}")]
    Schema(u32, String),
    #[error("internal error: {0}")]
    Internal(String),
}

/// The Confluent error body (shared with the OpenAPI document).
pub use runnel_openapi::ErrorBody;

impl GatewayError {
    pub fn v2(e: broker::Error) -> Self {
        GatewayError::Broker(e, Api::V2)
    }
    pub fn v3(e: broker::Error) -> Self {
        GatewayError::Broker(e, Api::V3)
    }

    /// `(HTTP status, error_code)` of this error.
    pub fn status_and_code(&self) -> (StatusCode, u32) {
        match self {
            GatewayError::Broker(e, api) => broker_status(e, *api),
            GatewayError::Group(e, api) => group_status(e, *api),
            GatewayError::UnknownPartition { api, .. } => match api {
                Api::V2 => (StatusCode::NOT_FOUND, 40402),
                Api::V3 => (StatusCode::NOT_FOUND, 40403),
            },
            GatewayError::MalformedJson(_) => (StatusCode::BAD_REQUEST, 400),
            GatewayError::UnsupportedMediaType(_) => (StatusCode::UNSUPPORTED_MEDIA_TYPE, 415),
            GatewayError::NotAcceptable(_) => (StatusCode::NOT_ACCEPTABLE, 406),
            GatewayError::ConsumerFormatMismatch(_) => (StatusCode::NOT_ACCEPTABLE, 40601),
            GatewayError::InvalidConsumerConfig(_) => (StatusCode::UNPROCESSABLE_ENTITY, 42204),
            GatewayError::EmptyBody(Api::V2) => (StatusCode::UNPROCESSABLE_ENTITY, 42206),
            GatewayError::EmptyBody(Api::V3) => (StatusCode::UNPROCESSABLE_ENTITY, 422),
            GatewayError::InvalidRecord(_) => (StatusCode::UNPROCESSABLE_ENTITY, 42203),
            GatewayError::BatchError(_) => (StatusCode::UNPROCESSABLE_ENTITY, 42208),
            GatewayError::PayloadTooLarge(_) => (StatusCode::PAYLOAD_TOO_LARGE, 413),
            GatewayError::TooManyRequests | GatewayError::TooManyWaiting => {
                (StatusCode::TOO_MANY_REQUESTS, 42901)
            }
            GatewayError::RequestTimeout => (StatusCode::REQUEST_TIMEOUT, 408),
            GatewayError::BadRequest(_) => (StatusCode::BAD_REQUEST, 400),
            GatewayError::InvalidRequest(_) => (StatusCode::BAD_REQUEST, 40002),
            GatewayError::NotFound => (StatusCode::NOT_FOUND, 404),
            GatewayError::MethodNotAllowed => (StatusCode::METHOD_NOT_ALLOWED, 405),
            GatewayError::OffsetOutOfRange(_) => (StatusCode::BAD_REQUEST, 40002),
            GatewayError::Schema(code, _) if *code >= 50000 => {
                (StatusCode::INTERNAL_SERVER_ERROR, *code)
            }
            GatewayError::Schema(code, _) => (StatusCode::UNPROCESSABLE_ENTITY, *code),
            GatewayError::Internal(_) => (StatusCode::INTERNAL_SERVER_ERROR, 50002),
        }
    }
}

fn broker_status(e: &broker::Error, api: Api) -> (StatusCode, u32) {
    use broker::Error as B;
    match e {
        B::UnknownTopic(_) => match api {
            Api::V2 => (StatusCode::NOT_FOUND, 40401),
            Api::V3 => (StatusCode::NOT_FOUND, 40403),
        },
        B::UnknownPartition { .. } => match api {
            Api::V2 => (StatusCode::NOT_FOUND, 40402),
            Api::V3 => (StatusCode::NOT_FOUND, 40403),
        },
        B::TopicExists(_)
        | B::InvalidTopicName(_)
        | B::InvalidConfig(_)
        | B::InvalidPartitions(_)
        | B::TooManyPartitions { .. }
        | B::InvalidReplicationFactor(_)
        | B::InternalTopic(_)
        | B::CannotAppendToInternalTopic(_)
        | B::InternalTopicCreation(_)
        | B::InternalTopicDeletion(_)
        | B::InternalTopicConfig { .. }
        | B::TopicCollision { .. }
        | B::PartitionsNotIncreased { .. } => (StatusCode::BAD_REQUEST, 40002),
        B::Log(l) => log_status(l),
        B::Quorum(_) => (StatusCode::INTERNAL_SERVER_ERROR, 50003),
        B::Metadata { .. } | B::InternalTopicMisconfigured { .. } | B::ForeignCluster { .. } => {
            (StatusCode::INTERNAL_SERVER_ERROR, 50002)
        }
    }
}

/// Consumer-group errors: Kafka's group error codes as kafka-rest reports them — an unknown
/// group is 40405, an unknown member or consumer instance the v2 "consumer instance not found"
/// 40403, a member id or instance name taken 40902, a request that the group's or the
/// instance's state refuses (stale generation, rebalance, members present, subscribe and assign
/// mixed: the Java consumer's `IllegalStateException`) 40903.
fn group_status(e: &GroupError, api: Api) -> (StatusCode, u32) {
    use GroupError as G;
    match e {
        G::GroupIdNotFound(_) => (StatusCode::NOT_FOUND, 40405),
        G::UnknownMemberId { .. } | G::UnknownTopicOrPartition(_) | G::UnknownInstance { .. } => {
            (StatusCode::NOT_FOUND, 40403)
        }
        G::MemberIdInUse { .. } | G::InstanceExists { .. } => (StatusCode::CONFLICT, 40902),
        G::IllegalGeneration { .. }
        | G::RebalanceInProgress { .. }
        | G::InconsistentGroupProtocol { .. }
        | G::NonEmptyGroup { .. }
        | G::GroupSubscribedToTopic { .. }
        | G::NotSubscribed
        | G::ExclusiveSubscription { .. }
        | G::PartitionNotAssigned(_)
        | G::NoGeneration => (StatusCode::CONFLICT, 40903),
        G::InvalidSessionTimeout { .. }
        | G::InvalidOffsetReset(_)
        | G::InvalidPattern(_)
        | G::InvalidInstanceName => (StatusCode::UNPROCESSABLE_ENTITY, 42204),
        G::InvalidGroupId
        | G::OffsetMetadataTooLarge { .. }
        | G::NoOffsetForPartition(_)
        | G::OffsetOutOfRange { .. } => (StatusCode::BAD_REQUEST, 40002),
        G::TaskFailed(_) => (StatusCode::INTERNAL_SERVER_ERROR, 50002),
        G::Broker(b) => broker_status(b, api),
        G::Log(l) => log_status(l),
    }
}

/// Log errors as request failures: what the client can fix is 4xx, a full disk or no descriptor left
/// is the retriable 50003, anything else 50002.
pub fn log_status(e: &LogError) -> (StatusCode, u32) {
    use LogError as L;
    match e {
        L::BatchTooLarge { .. } => (StatusCode::PAYLOAD_TOO_LARGE, 413),
        L::OffsetOutOfRange { .. } => (StatusCode::BAD_REQUEST, 40002),
        L::InvalidRequest(_) => (StatusCode::BAD_REQUEST, 400),
        L::DiskFull { .. }
        | L::TooManyOpenFiles { .. }
        | L::NotLeader { .. }
        | L::LeaderUnavailable { .. } => (StatusCode::INTERNAL_SERVER_ERROR, 50003),
        // A produce that raced a topic delete: the topic is unknown now, as Kafka answers
        // UNKNOWN_TOPIC_OR_PARTITION.
        L::Deleted { .. } => (StatusCode::NOT_FOUND, 40401),
        L::Io { .. }
        | L::Offline { .. }
        | L::Corrupt { .. }
        | L::ChecksumMismatch { .. }
        | L::UnsupportedCompression(_)
        | L::LeaderFailed { .. } => (StatusCode::INTERNAL_SERVER_ERROR, 50002),
    }
}

/// The message a client sees for a log error: the real text for client errors and the
/// retriable disk-full case, a generic one for internal failures (logged instead).
pub fn log_message(e: &LogError) -> String {
    let (status, code) = log_status(e);
    if status.is_server_error() && code != 50003 {
        tracing::error!(cause = %e, "request failed inside the log");
        "Internal broker error; see the broker log.".to_owned()
    } else {
        e.to_string()
    }
}

impl IntoResponse for GatewayError {
    fn into_response(self) -> Response {
        let (status, error_code) = self.status_and_code();
        let message = match &self {
            GatewayError::Broker(broker::Error::Log(l), _)
            | GatewayError::Group(
                GroupError::Log(l) | GroupError::Broker(broker::Error::Log(l)),
                _,
            ) => log_message(l),
            GatewayError::Group(_, _) if status.is_server_error() => {
                tracing::error!(cause = %self, "request failed");
                "Internal broker error; see the broker log.".to_owned()
            }
            GatewayError::Broker(broker::Error::Metadata { .. }, _) | GatewayError::Internal(_) => {
                tracing::error!(cause = %self, "request failed");
                "Internal broker error; see the broker log.".to_owned()
            }
            other => {
                tracing::debug!(status = status.as_u16(), cause = %other, "client error");
                other.to_string()
            }
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

impl From<LogError> for GatewayError {
    fn from(e: LogError) -> Self {
        GatewayError::Broker(broker::Error::Log(e), Api::V2)
    }
}
