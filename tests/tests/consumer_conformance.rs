//! REST Proxy conformance gaps that clients written for Confluent found (issue 10, item 8),
//! through the real server: routes answer with a trailing slash as without one, and a v2
//! subscription to both `topics` and a `topic_pattern` is Confluent's 409 40903.

use std::time::Duration;

use serde_json::json;

use crate::support::{JSON_V2, Runnel, assert_error};

const V2: &str = "application/vnd.kafka.v2+json";
/// Longest a test waits for a subscribed instance to be assigned and read a record.
const PATIENCE: Duration = Duration::from_secs(20);

#[tokio::test]
async fn rest_proxy_routes_accept_a_trailing_slash() {
    let r = Runnel::start_with_topic("t", 1).await;

    let (status, body) = r.get_accept("/topics/", V2).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body, json!(["t"]));
    r.post_expect(
        "/topics/t/",
        JSON_V2,
        &json!({"records": [{"value": {"n": 1}}]}),
        200,
    )
    .await;

    let body = json!({"name": "c", "format": "json", "auto.offset.reset": "earliest"});
    let created = r.post_expect("/consumers/g/", V2, &body, 200).await;
    assert!(
        created["base_uri"]
            .as_str()
            .is_some_and(|u| u.ends_with("/consumers/g/instances/c")),
        "{created}"
    );
    let base = "/consumers/g/instances/c";
    r.post_expect(
        &format!("{base}/subscription/"),
        V2,
        &json!({"topics": ["t"]}),
        204,
    )
    .await;
    let (status, body) = r.get_accept(&format!("{base}/subscription/"), V2).await;
    assert_eq!((status, body), (200, json!({"topics": ["t"]})));

    // The instance joins its group in the background: poll until the record comes.
    let deadline = tokio::time::Instant::now() + PATIENCE;
    let records = loop {
        let (status, body) = r
            .get_accept(&format!("{base}/records/?timeout=500"), JSON_V2)
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
    let (status, body) = r.get_accept("/v3/clusters/", "application/json").await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = r.get_accept("/subjects/", "application/json").await;
    assert_eq!((status, body), (200, json!([])));

    let (status, body) = r
        .request("DELETE", &format!("{base}/"), &[("Accept", V2)], None)
        .await
        .status_json();
    assert_eq!(status, 204, "{body}");
    r.assert_no_panic();
}

#[tokio::test]
async fn subscribing_to_both_topics_and_a_pattern_is_an_illegal_state() {
    let r = Runnel::start_with_topic("t", 1).await;
    r.post_expect("/consumers/g", V2, &json!({"name": "c"}), 200)
        .await;
    let path = "/consumers/g/instances/c/subscription";

    let got = r
        .post(path, V2, &json!({"topics": ["t"], "topic_pattern": "t.*"}))
        .await;
    assert_error("topics and topic_pattern", &got, 409, 40903);

    // Nothing was subscribed, and either one alone still works.
    let (status, body) = r.get_accept(path, V2).await;
    assert_eq!((status, body), (200, json!({"topics": []})));
    r.post_expect(path, V2, &json!({"topic_pattern": "t.*"}), 204)
        .await;
    r.assert_no_panic();
}
