//! Requests another broker owns as a whole, sent to it over the cluster port; and this
//! broker's side of the cluster port's data plane.
//!
//! Produce and reads go to each partition's leader record by record (`broker/remote.rs`).
//! What keeps state in one broker's memory cannot be split so: a consumer group lives with
//! its coordinator, the leader of the group's `__consumer_offsets` partition (Kafka's rule),
//! and the schema registry with the leader of `_schemas` (Confluent's single writer; before
//! any schema exists, the controller, whose first write creates `_schemas` on itself). The
//! [`route`] middleware runs after routing, so it knows the route: a v2 consumer or v3
//! consumer-group route names its group, and the registry's routes are the registry crate's.
//! When another broker owns the request, the request goes there whole (method, path, headers,
//! body) and its answer comes back whole, so the client sees the same shapes and codes as a
//! local call, including the v2 `base_uri` of the broker that holds the instance. A request
//! that arrives forwarded is served where it lands, never sent on (no loops while views of
//! the metadata differ for a moment).
//!
//! [`PeerService`] answers other brokers: forwarded HTTP requests through this broker's own
//! router, partition requests through the broker.
//!
//! A listing of which each broker holds a part (the v3 consumer groups) asks the others with
//! [`ask_others`] and merges their answers.
//!
//! Not built yet: a WebSocket group member on a broker that does not coordinate its group is
//! refused with the coordinator's address (`ws/consume.rs`).

use std::collections::HashSet;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::{FromRequestParts as _, MatchedPath, RawPathParams, Request, State};
use axum::http::{HeaderName, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use runnel_cluster::data::{DataRequest, DataResponse, DataService, HttpRequest, HttpResponse};
use tower::ServiceExt as _;

use super::errors::{Api, GatewayError};
use super::state::AppState;
use crate::broker::{Broker, Leader, LogError};
use crate::group::GroupId;

/// Marks a request another broker forwarded here, with that broker's id.
pub const FORWARDED_FROM: HeaderName = HeaderName::from_static("x-runnel-forwarded-from");
/// How long a forwarded request may take: above the longest poll a client may ask for.
const FORWARD_TIMEOUT: Duration = Duration::from_secs(90);
/// The largest answer of a forwarded request: it goes back in one frame of the cluster port.
/// Consumer polls are bounded far below it by `fetch_max_bytes`.
const MAX_FORWARDED_ANSWER: usize = runnel_cluster::protocol::MAX_FRAME_LEN / 2;
/// Headers that describe one connection, not the request: never forwarded.
const HOP_BY_HOP: [&str; 6] = [
    "connection",
    "keep-alive",
    "transfer-encoding",
    "upgrade",
    "te",
    "content-length",
];

/// What owns a request.
enum Owner {
    Here,
    Broker(u32),
    /// Nobody can serve it now (its partition's broker is fenced); says what is missing.
    Unavailable(String),
}

/// What the [`route`] middleware needs: the handlers' state, and the registry's routes.
#[derive(Debug, Clone)]
pub struct Routing {
    pub state: AppState,
    pub registry_routes: Arc<HashSet<String>>,
}

/// What a route belongs to, as far as ownership goes.
enum Scope {
    /// A consumer group's route (`{group}` in the path).
    Group,
    /// The schema registry's.
    Registry,
}

/// The middleware: serves the request here, or sends it to the broker that owns it. Most
/// routes (produce, reads, topics) are served where they land and only look at their route;
/// a broker alone in its cluster owns everything.
pub async fn route(State(routing): State<Routing>, req: Request, next: Next) -> Response {
    let scope = match req
        .extensions()
        .get::<MatchedPath>()
        .map(MatchedPath::as_str)
    {
        Some(r) if is_group_route(r) => Scope::Group,
        Some(r) if r != "/" && routing.registry_routes.contains(r) => Scope::Registry,
        _ => return next.run(req).await,
    };
    if req.headers().contains_key(&FORWARDED_FROM) {
        return next.run(req).await;
    }
    let state = &routing.state;
    let Some(node) = state.broker.cluster_node() else {
        return next.run(req).await;
    };
    if state.cluster.image().metadata.brokers.len() <= 1 {
        return next.run(req).await;
    }
    let api = api_of(&req);
    // The body is read whole before it is sent on: bounded as the handler there bounds it.
    let limit = match scope {
        Scope::Registry => state.registry.config().max_request_bytes,
        Scope::Group => req
            .extensions()
            .get::<super::Limits>()
            .map_or(usize::MAX, |l| l.max_request_body),
    };
    let owner = match scope {
        Scope::Registry => Ok(registry_owner(state)),
        Scope::Group => {
            let (mut parts, body) = req.into_parts();
            let group = RawPathParams::from_request_parts(&mut parts, &())
                .await
                .ok()
                .and_then(|params| {
                    params
                        .iter()
                        .find(|(key, _)| *key == "group")
                        .map(|(_, value)| value.to_owned())
                });
            let owner = group_owner(state, group, api).await;
            let req = Request::from_parts(parts, body);
            return respond(state, &node, owner, req, next, api, limit).await;
        }
    };
    respond(state, &node, owner, req, next, api, limit).await
}

/// Serves `req` here, forwards it to its owner, or refuses it when its owner is offline.
async fn respond(
    state: &AppState,
    node: &runnel_cluster::MetadataNode,
    owner: Result<Owner, GatewayError>,
    req: Request,
    next: Next,
    api: Api,
    limit: usize,
) -> Response {
    match owner {
        Ok(Owner::Here) => next.run(req).await,
        Ok(Owner::Broker(id)) => forward(&state.broker, node, id, req, limit)
            .await
            .unwrap_or_else(IntoResponse::into_response),
        Ok(Owner::Unavailable(reason)) => {
            GatewayError::Broker(LogError::LeaderUnavailable { reason }.into(), api).into_response()
        }
        Err(e) => e.into_response(),
    }
}

fn is_group_route(route: &str) -> bool {
    route.starts_with("/consumers/{group}")
        || route.starts_with("/v3/clusters/{cluster_id}/consumer-groups/{group}")
}

/// The error convention of the request's API (the registry's is v2's).
fn api_of(req: &Request) -> Api {
    if req.uri().path().starts_with("/v3/") {
        Api::V3
    } else {
        Api::V2
    }
}

/// The coordinator of `group` (a name the group code refuses is served here, to be refused
/// there with its own error).
async fn group_owner(
    state: &AppState,
    group: Option<String>,
    api: Api,
) -> Result<Owner, GatewayError> {
    let Some(group) = group.and_then(|g| GroupId::new(&g).ok()) else {
        return Ok(Owner::Here);
    };
    let leader = state
        .groups
        .coordinator_of(&group)
        .await
        .map_err(|e| GatewayError::Group(e, api))?;
    Ok(match leader {
        Leader::Here => Owner::Here,
        Leader::Broker(id) => Owner::Broker(id),
        Leader::Offline => Owner::Unavailable(format!(
            "The coordinator of group '{group}' is offline; retry"
        )),
    })
}

/// The registry's writer: the leader of `_schemas`, or the controller before it exists.
fn registry_owner(state: &AppState) -> Owner {
    let me = state.broker.broker_id();
    match state.broker.partition(crate::schemas::TOPIC, 0) {
        Ok(p) => match p.leader() {
            Leader::Here => Owner::Here,
            Leader::Broker(id) => Owner::Broker(id),
            Leader::Offline => {
                Owner::Unavailable("The schema registry's broker is offline; retry".to_owned())
            }
        },
        Err(_) => match state.cluster.controller() {
            Some(id) if id != me => Owner::Broker(id),
            Some(_) => Owner::Here,
            None => Owner::Unavailable("The cluster has no controller yet; retry".to_owned()),
        },
    }
}

/// Sends `req` to broker `id` and answers with its answer; a body over `limit` bytes is 413.
async fn forward(
    broker: &Broker,
    node: &runnel_cluster::MetadataNode,
    id: u32,
    req: Request,
    limit: usize,
) -> Result<Response, GatewayError> {
    let api = api_of(&req);
    let (parts, body) = req.into_parts();
    let body = axum::body::to_bytes(body, limit).await.map_err(|_| {
        GatewayError::PayloadTooLarge(format!(
            "The request body is larger than {limit} bytes, or could not be read whole."
        ))
    })?;
    let mut headers: Vec<(String, Vec<u8>)> = parts
        .headers
        .iter()
        .filter(|(name, _)| !HOP_BY_HOP.contains(&name.as_str()))
        .map(|(name, value)| (name.as_str().to_owned(), value.as_bytes().to_vec()))
        .collect();
    headers.push((
        FORWARDED_FROM.as_str().to_owned(),
        broker.broker_id().to_string().into_bytes(),
    ));
    let request = DataRequest::Http(HttpRequest {
        method: parts.method.as_str().to_owned(),
        uri: parts
            .uri
            .path_and_query()
            .map_or_else(|| parts.uri.path().to_owned(), |pq| pq.as_str().to_owned()),
        headers,
    });
    let unavailable = |e: LogError| GatewayError::Broker(e.into(), api);
    let (answer, body) = node
        .call_data(id, request, body, FORWARD_TIMEOUT)
        .await
        .map_err(|e| {
            unavailable(LogError::LeaderUnavailable {
                reason: format!("{e}; retry"),
            })
        })?;
    let DataResponse::Http(answer) = answer else {
        return Err(unavailable(LogError::LeaderFailed {
            reason: format!("broker {id} answered a forwarded request with another message"),
        }));
    };
    let mut response = Response::new(Body::from(body));
    *response.status_mut() =
        StatusCode::from_u16(answer.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    for (name, value) in answer.headers {
        if let (Ok(name), Ok(value)) = (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_bytes(&value),
        ) {
            response.headers_mut().append(name, value);
        }
    }
    Ok(response)
}

/// The answers of every other unfenced broker to `GET uri`, each served where it lands: for
/// listings of which each broker holds a part (the groups it coordinates). A broker that
/// does not answer, or answers with an error, is left out with a warning.
pub async fn ask_others<T: serde::de::DeserializeOwned>(state: &AppState, uri: &str) -> Vec<T> {
    let Some(node) = state.broker.cluster_node() else {
        return Vec::new();
    };
    let me = state.broker.broker_id();
    let others: Vec<u32> = state
        .cluster
        .image()
        .metadata
        .brokers
        .iter()
        .filter(|(id, b)| id.0 != me && !b.fenced)
        .map(|(id, _)| id.0)
        .collect();
    let mut answers = Vec::with_capacity(others.len());
    for id in others {
        let request = DataRequest::Http(HttpRequest {
            method: "GET".to_owned(),
            uri: uri.to_owned(),
            headers: vec![(
                FORWARDED_FROM.as_str().to_owned(),
                me.to_string().into_bytes(),
            )],
        });
        let answer = node
            .call_data(id, request, Bytes::new(), FORWARD_TIMEOUT)
            .await;
        match answer {
            Ok((DataResponse::Http(HttpResponse { status: 200, .. }), body)) => {
                match serde_json::from_slice(&body) {
                    Ok(parsed) => answers.push(parsed),
                    Err(e) => tracing::warn!(broker = id, cause = %e, uri, "an unreadable answer"),
                }
            }
            Ok((other, _)) => {
                tracing::warn!(broker = id, uri, answer = ?other, "a broker could not answer")
            }
            Err(e) => tracing::warn!(broker = id, cause = %e, uri, "a broker could not be asked"),
        }
    }
    answers
}

/// Other brokers' requests to this one: forwarded HTTP requests through its own router,
/// partition requests through its broker.
#[derive(Debug, Clone)]
pub struct PeerService {
    broker: Arc<Broker>,
    router: Router,
}

impl PeerService {
    pub fn new(broker: Arc<Broker>, router: Router) -> Self {
        PeerService { broker, router }
    }

    async fn serve_http(&self, request: HttpRequest, body: Bytes) -> (HttpResponse, Bytes) {
        let answer = |status: StatusCode| HttpResponse {
            status: status.as_u16(),
            headers: Vec::new(),
        };
        let Ok(method) = Method::from_bytes(request.method.as_bytes()) else {
            return (answer(StatusCode::BAD_REQUEST), Bytes::new());
        };
        let mut builder = axum::http::Request::builder()
            .method(method)
            .uri(request.uri.as_str());
        for (name, value) in &request.headers {
            builder = builder.header(name.as_str(), value.as_slice());
        }
        let Ok(req) = builder.body(Body::from(body)) else {
            return (answer(StatusCode::BAD_REQUEST), Bytes::new());
        };
        let Ok(response) = self.router.clone().oneshot(req).await;
        let (parts, body) = response.into_parts();
        let body = match axum::body::to_bytes(body, MAX_FORWARDED_ANSWER).await {
            Ok(body) => body,
            Err(e) => {
                tracing::warn!(cause = %e, "a forwarded request's answer could not be read");
                return (answer(StatusCode::INTERNAL_SERVER_ERROR), Bytes::new());
            }
        };
        let headers = parts
            .headers
            .iter()
            .filter(|(name, _)| !HOP_BY_HOP.contains(&name.as_str()))
            .map(|(name, value)| (name.as_str().to_owned(), value.as_bytes().to_vec()))
            .collect();
        (
            HttpResponse {
                status: parts.status.as_u16(),
                headers,
            },
            body,
        )
    }
}

impl DataService for PeerService {
    fn serve(
        &self,
        request: DataRequest,
        tail: Bytes,
    ) -> Pin<Box<dyn Future<Output = (DataResponse, Bytes)> + Send + 'static>> {
        let service = self.clone();
        Box::pin(async move {
            match request {
                DataRequest::Http(http) => {
                    let (answer, body) = service.serve_http(http, tail).await;
                    (DataResponse::Http(answer), body)
                }
                other => service.broker.serve_partition(other, tail).await,
            }
        })
    }
}
