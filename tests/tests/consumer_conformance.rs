//! REST Proxy conformance gaps that clients written for Confluent found (issue 10, item 8),
//! through the real server: routes answer with a trailing slash as without one, and a v2
//! subscription to both `topics` and a `topic_pattern` is Confluent's 409 40903.

use std::time::Duration;

use serde_json::{Value, json};

use crate::support::{JSON_V2, Runnel, assert_error, status_json};

const V2: &str = "application/vnd.kafka.v2+json";
/// Longest a test waits for a subscribed instance to be assigned and read a record.
const PATIENCE: Duration = Duration::from_secs(20);

/// `method path` with `Accept: accept`, returning status and JSON body.
async fn call(r: &Runnel, method: reqwest::Method, path: &str, accept: &str) -> (u16, Value) {
    let resp = r
        .http
        .request(method, r.url(path))
        .header("Accept", accept)
        .send()
        .await
        .expect("request");
    status_json(resp).await
}

#[tokio::test]
async fn rest_proxy_routes_accept_a_trailing_slash() {
    let r = Runnel::start().await;
    r.create_topic("t", 1, &[]).await;

    let (status, body) = call(&r, reqwest::Method::GET, "/topics/", V2).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body, json!(["t"]));
    let (status, body) = r
        .post(
            "/topics/t/",
            JSON_V2,
            &json!({"records": [{"value": {"n": 1}}]}),
        )
        .await;
    assert_eq!(status, 200, "{body}");

    let body = json!({"name": "c", "format": "json", "auto.offset.reset": "earliest"});
    let (status, created) = r.post("/consumers/g/", V2, &body).await;
    assert_eq!(status, 200, "{created}");
    assert!(
        created["base_uri"]
            .as_str()
            .is_some_and(|u| u.ends_with("/consumers/g/instances/c")),
        "{created}"
    );
    let base = "/consumers/g/instances/c";
    let (status, body) = r
        .post(
            &format!("{base}/subscription/"),
            V2,
            &json!({"topics": ["t"]}),
        )
        .await;
    assert_eq!(status, 204, "{body}");
    let (status, body) = call(
        &r,
        reqwest::Method::GET,
        &format!("{base}/subscription/"),
        V2,
    )
    .await;
    assert_eq!((status, body), (200, json!({"topics": ["t"]})));

    // The instance joins its group in the background: poll until the record comes.
    let deadline = tokio::time::Instant::now() + PATIENCE;
    let records = loop {
        let (status, body) = call(
            &r,
            reqwest::Method::GET,
            &format!("{base}/records/?timeout=500"),
            JSON_V2,
        )
        .await;
        assert_eq!(status, 200, "{body}");
        if body.as_array().is_some_and(|a| !a.is_empty()) {
            break body;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "no record within {PATIENCE:?}"
        );
    };
    assert_eq!(records[0]["value"], json!({"n": 1}), "{records}");

    // v3 and the registry get the same treatment.
    let (status, body) = call(
        &r,
        reqwest::Method::GET,
        "/v3/clusters/",
        "application/json",
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = call(&r, reqwest::Method::GET, "/subjects/", "application/json").await;
    assert_eq!((status, body), (200, json!([])));

    let (status, body) = call(&r, reqwest::Method::DELETE, &format!("{base}/"), V2).await;
    assert_eq!(status, 204, "{body}");
    r.assert_no_panic();
}

#[tokio::test]
async fn subscribing_to_both_topics_and_a_pattern_is_an_illegal_state() {
    let r = Runnel::start().await;
    r.create_topic("t", 1, &[]).await;
    let (status, body) = r.post("/consumers/g", V2, &json!({"name": "c"})).await;
    assert_eq!(status, 200, "{body}");
    let path = "/consumers/g/instances/c/subscription";

    let got = r
        .post(path, V2, &json!({"topics": ["t"], "topic_pattern": "t.*"}))
        .await;
    assert_error("topics and topic_pattern", &got, 409, 40903);

    // Nothing was subscribed, and either one alone still works.
    let (status, body) = call(&r, reqwest::Method::GET, path, V2).await;
    assert_eq!((status, body), (200, json!({"topics": []})));
    let (status, body) = r.post(path, V2, &json!({"topic_pattern": "t.*"})).await;
    assert_eq!(status, 204, "{body}");
    r.assert_no_panic();
}
