//! Test support for the gateway's HTTP tests: a broker on a temporary directory behind the real
//! router, driven in-process with `tower::ServiceExt::oneshot` (axum's `examples/testing`).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use serde_json::Value;
use tower::ServiceExt as _;

use super::{AppState, Limits, router};
use crate::broker::{Broker, BrokerConfig};
use crate::group::GroupCoordinator;
use runnel_schema_registry::registry::Registry;

/// The base of every link in responses.
pub(crate) const PUBLIC_URL: &str = "http://runnel.test:8080";

/// A broker on a temporary directory and the router over it.
pub(crate) struct TestGateway {
    pub(crate) dir: tempfile::TempDir,
    pub(crate) broker: Arc<Broker>,
    pub(crate) groups: Arc<GroupCoordinator>,
    pub(crate) registry: Arc<Registry>,
    pub(crate) router: Router,
}

impl TestGateway {
    /// A fresh broker with no topics and no broker-level topic defaults.
    pub(crate) async fn new() -> Self {
        Self::with_defaults(BTreeMap::new()).await
    }

    /// A fresh broker with these broker-level topic defaults.
    pub(crate) async fn with_defaults(topic_defaults: BTreeMap<String, String>) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        Self::open(dir, topic_defaults).await
    }

    async fn open(dir: tempfile::TempDir, topic_defaults: BTreeMap<String, String>) -> Self {
        let broker = Broker::open(BrokerConfig {
            data_dir: dir.path().to_path_buf(),
            cluster_id: None,
            broker_id: 1,
            num_partitions: 1,
            topic_defaults,
            log_check_interval: Duration::from_secs(3600),
            checkpoint_interval: Duration::from_secs(3600),
        })
        .expect("broker opens");
        let groups = GroupCoordinator::open_with_defaults(Arc::clone(&broker))
            .expect("group coordinator opens");
        let registry = crate::schemas::open_registry(Arc::clone(&broker), Default::default())
            .await
            .expect("schema registry opens");
        let state = AppState {
            broker: Arc::clone(&broker),
            groups: Arc::clone(&groups),
            registry: Arc::clone(&registry),
            public_url: Arc::from(PUBLIC_URL),
            cluster: crate::metadata::ClusterView::single(1, PUBLIC_URL),
        };
        let limits = Limits {
            max_request_body: 1 << 20,
            max_concurrent_requests: 64,
            max_records_per_request: 100_000,
            ..Limits::default()
        };
        TestGateway {
            dir,
            broker,
            groups,
            registry,
            router: router(state, limits),
        }
    }

    /// Closes the broker cleanly and opens the same directory again.
    pub(crate) async fn reopen(self) -> Self {
        let TestGateway {
            dir,
            broker,
            groups,
            registry,
            router,
        } = self;
        drop(router);
        drop(registry);
        drop(groups);
        let topic_defaults = broker.config().topic_defaults.clone();
        broker.close().expect("broker closes");
        drop(broker);
        Self::open(dir, topic_defaults).await
    }

    pub(crate) fn cluster_id(&self) -> String {
        self.broker.cluster_id().to_owned()
    }

    /// `<PUBLIC_URL>/v3/clusters/<cluster id>`.
    pub(crate) fn v3(&self) -> String {
        format!("{PUBLIC_URL}/v3/clusters/{}", self.cluster_id())
    }

    /// Creates a topic directly on the broker.
    pub(crate) fn create_topic(&self, name: &str, partitions: i64) {
        self.broker
            .create_topic(name, Some(partitions), None, BTreeMap::new(), false)
            .expect("topic created");
    }

    /// Sends a request; answers the status and the body as JSON (`Value::Null` when empty).
    pub(crate) async fn call(
        &self,
        method: Method,
        uri: impl Into<String>,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut req = Request::builder().method(method).uri(uri.into());
        let body = match body {
            Some(b) => {
                req = req.header(header::CONTENT_TYPE, "application/json");
                Body::from(serde_json::to_vec(&b).expect("json"))
            }
            None => Body::empty(),
        };
        let response = self
            .router
            .clone()
            .oneshot(req.body(body).expect("request"))
            .await
            .expect("infallible");
        let status = response.status();
        let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .expect("body");
        let value = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes)
                .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&bytes)))
        };
        (status, value)
    }

    pub(crate) async fn get(&self, uri: impl Into<String>) -> (StatusCode, Value) {
        self.call(Method::GET, uri, None).await
    }
}

/// Sends one request through `router` (with `accept` as `Accept`, and a JSON body under the
/// v2 content type); answers the status and the body as JSON (`Value::Null` when empty).
pub(crate) async fn send(
    router: &Router,
    method: Method,
    uri: &str,
    body: Option<Value>,
    accept: Option<&str>,
) -> (StatusCode, Value) {
    let mut req = Request::builder().method(method).uri(uri);
    if let Some(a) = accept {
        req = req.header(header::ACCEPT, a);
    }
    let body = match body {
        Some(b) => {
            req = req.header(header::CONTENT_TYPE, "application/vnd.kafka.v2+json");
            Body::from(serde_json::to_vec(&b).expect("json"))
        }
        None => Body::empty(),
    };
    let resp = router
        .clone()
        .oneshot(req.body(body).expect("request"))
        .await
        .expect("infallible");
    let status = resp.status();
    let bytes = axum::body::to_bytes(resp.into_body(), usize::MAX)
        .await
        .expect("body");
    let v = if bytes.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&bytes).expect("json body")
    };
    (status, v)
}
