//! HTTP tests of v2 consumer instances, through the real router.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::http::{Method, StatusCode};
use serde_json::{Value, json};

use super::routes_with_clock;
use crate::clock::{Clock, ManualClock};
use crate::gateway::AppState;
use crate::gateway::testing::{PUBLIC_URL, TestGateway, send};
use crate::group::instances::InstanceSettings;

const JSON: &str = "application/vnd.kafka.json.v2+json";
const BINARY: &str = "application/vnd.kafka.binary.v2+json";

async fn produce(gw: &TestGateway, topic: &str, partition: u32, values: std::ops::Range<u32>) {
    let records: Vec<Value> = values
        .map(|n| json!({"value": {"n": n}, "partition": partition}))
        .collect();
    let (s, body) = gw
        .call(
            Method::POST,
            format!("/topics/{topic}"),
            Some(json!({ "records": records })),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{body}");
}

async fn create(gw: &Router, group: &str, body: Value) -> (StatusCode, Value) {
    send(
        gw,
        Method::POST,
        &format!("/consumers/{group}"),
        Some(body),
        None,
    )
    .await
}

fn base(group: &str, name: &str) -> String {
    format!("/consumers/{group}/instances/{name}")
}

async fn poll(r: &Router, group: &str, name: &str, timeout: u64) -> Vec<Value> {
    let (s, v) = send(
        r,
        Method::GET,
        &format!("{}/records?timeout={timeout}", base(group, name)),
        None,
        Some(JSON),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    v.as_array().expect("bare array").clone()
}

#[tokio::test]
async fn lifecycle_create_subscribe_poll_commit_offsets_delete() {
    let gw = TestGateway::new().await;
    gw.create_topic("t", 1);
    produce(&gw, "t", 0, 0..3).await;
    let r = &gw.router;

    let (s, v) = create(
        r,
        "g1",
        json!({"name": "c1", "format": "json", "auto.offset.reset": "earliest", "auto.commit.enable": "false"}),
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(
        v,
        json!({"instance_id": "c1", "base_uri": format!("{PUBLIC_URL}/consumers/g1/instances/c1")})
    );
    let b = base("g1", "c1");
    let (s, _) = send(
        r,
        Method::POST,
        &format!("{b}/subscription"),
        Some(json!({"topics": ["t"]})),
        None,
    )
    .await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let (s, v) = send(r, Method::GET, &format!("{b}/subscription"), None, None).await;
    assert_eq!((s, v), (StatusCode::OK, json!({"topics": ["t"]})));

    let records = poll(r, "g1", "c1", 5000).await;
    assert_eq!(records.len(), 3);
    let first = records[0].as_object().expect("object");
    let keys: BTreeSet<&str> = first.keys().map(String::as_str).collect();
    assert_eq!(
        keys,
        BTreeSet::from([
            "topic",
            "key",
            "value",
            "partition",
            "offset",
            "timestamp",
            "headers"
        ])
    );
    assert_eq!(records[0]["topic"], "t");
    assert_eq!(records[0]["key"], Value::Null);
    assert_eq!(records[0]["value"], json!({"n": 0}));
    assert_eq!(records[2]["offset"], 2);
    // Positions advanced: nothing more.
    assert!(poll(r, "g1", "c1", 0).await.is_empty());

    let (s, _) = send(r, Method::GET, &format!("{b}/assignments"), None, None).await;
    assert_eq!(s, StatusCode::OK);

    // Nothing committed yet (auto commit off).
    let (s, v) = send(
        r,
        Method::GET,
        &format!("{b}/offsets"),
        Some(json!({"partitions": [{"topic": "t", "partition": 0}]})),
        None,
    )
    .await;
    assert_eq!((s, v), (StatusCode::OK, json!({"offsets": []})));

    let (s, v) = send(
        r,
        Method::POST,
        &format!("{b}/offsets"),
        Some(json!({"offsets": [{"topic": "t", "partition": 0, "offset": 1, "metadata": "m"}]})),
        None,
    )
    .await;
    assert_eq!((s, v), (StatusCode::OK, json!([])));
    let (s, v) = send(
        r,
        Method::GET,
        &format!("{b}/offsets"),
        Some(json!({"partitions": [{"topic": "t", "partition": 0}]})),
        None,
    )
    .await;
    assert_eq!(
        (s, v),
        (
            StatusCode::OK,
            json!({"offsets": [{"topic": "t", "partition": 0, "offset": 2, "metadata": "m"}]})
        )
    );
    // Empty body: commit everything fetched.
    let (s, v) = send(r, Method::POST, &format!("{b}/offsets"), None, None).await;
    assert_eq!((s, v), (StatusCode::OK, json!([])));
    assert_eq!(
        gw.groups
            .committed_offsets(&crate::group::GroupId::new("g1").expect("id"))
            [&crate::group::TopicPartition::new("t", 0)]
            .offset,
        3
    );

    let (s, _) = send(r, Method::DELETE, &format!("{b}/subscription"), None, None).await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let (s, v) = send(r, Method::GET, &format!("{b}/subscription"), None, None).await;
    assert_eq!((s, v), (StatusCode::OK, json!({"topics": []})));

    let (s, _) = send(r, Method::DELETE, &b, None, None).await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let (s, v) = send(r, Method::DELETE, &b, None, None).await;
    assert_eq!(
        (s, v["error_code"].clone()),
        (StatusCode::NOT_FOUND, json!(40403))
    );
    let (s, v) = send(r, Method::GET, &format!("{b}/records"), None, Some(JSON)).await;
    assert_eq!(
        (s, v["error_code"].clone()),
        (StatusCode::NOT_FOUND, json!(40403))
    );
}

#[tokio::test]
async fn two_instances_split_partitions_and_read_every_record_once() {
    let gw = TestGateway::new().await;
    gw.create_topic("t", 4);
    for p in 0..4 {
        produce(&gw, "t", p, 0..5).await;
    }
    let r = &gw.router;
    for name in ["a", "b"] {
        let (s, _) = create(
            r,
            "g",
            json!({"name": name, "format": "json", "auto.offset.reset": "earliest"}),
        )
        .await;
        assert_eq!(s, StatusCode::OK);
    }
    let sub = json!({"topic_pattern": "t.*"});
    let (s, _) = send(
        r,
        Method::POST,
        &format!("{}/subscription", base("g", "a")),
        Some(sub.clone()),
        None,
    )
    .await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    // `a` alone reads the first 20 records, then `b` joins.
    let mut seen = BTreeSet::new();
    let mut total = 0;
    for rec in poll(r, "g", "a", 5000).await {
        total += 1;
        seen.insert((rec["partition"].as_u64(), rec["offset"].as_u64()));
    }
    let (s, _) = send(
        r,
        Method::POST,
        &format!("{}/subscription", base("g", "b")),
        Some(sub),
        None,
    )
    .await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    for p in 0..4 {
        produce(&gw, "t", p, 5..10).await;
    }
    for _ in 0..40 {
        if total >= 40 {
            break;
        }
        for name in ["a", "b"] {
            for rec in poll(r, "g", name, 200).await {
                total += 1;
                seen.insert((rec["partition"].as_u64(), rec["offset"].as_u64()));
            }
        }
    }
    assert_eq!(total, 40, "every record exactly once");
    assert_eq!(seen.len(), 40);
    // Both own partitions now, without overlap.
    let mut owned = Vec::new();
    for name in ["a", "b"] {
        let (_, v) = send(
            r,
            Method::GET,
            &format!("{}/assignments", base("g", name)),
            None,
            None,
        )
        .await;
        let parts = v["partitions"].as_array().expect("list").clone();
        assert!(!parts.is_empty(), "{name} owns partitions");
        owned.extend(parts);
    }
    let distinct: BTreeSet<String> = owned.iter().map(Value::to_string).collect();
    assert_eq!((owned.len(), distinct.len()), (4, 4));
}

#[tokio::test]
async fn committed_offsets_survive_a_broker_reopen() {
    let gw = TestGateway::new().await;
    gw.create_topic("t", 1);
    produce(&gw, "t", 0, 0..4).await;
    let (s, _) = create(
        &gw.router,
        "g",
        json!({"name": "c", "format": "json", "auto.offset.reset": "earliest"}),
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    let b = base("g", "c");
    let (s, _) = send(
        &gw.router,
        Method::POST,
        &format!("{b}/assignments"),
        Some(json!({"partitions": [{"topic": "t", "partition": 0}]})),
        None,
    )
    .await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let (_, v) = send(
        &gw.router,
        Method::GET,
        &format!("{b}/assignments"),
        None,
        None,
    )
    .await;
    assert_eq!(v, json!({"partitions": [{"topic": "t", "partition": 0}]}));
    assert_eq!(poll(&gw.router, "g", "c", 1000).await.len(), 4);
    let (s, _) = send(
        &gw.router,
        Method::POST,
        &format!("{b}/offsets"),
        None,
        None,
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    let (s, _) = send(&gw.router, Method::DELETE, &b, None, None).await;
    assert_eq!(s, StatusCode::NO_CONTENT);

    let gw = gw.reopen().await;
    produce(&gw, "t", 0, 4..6).await;
    let (s, _) = create(
        &gw.router,
        "g",
        json!({"name": "c", "format": "json", "auto.offset.reset": "earliest"}),
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    let (_, v) = send(
        &gw.router,
        Method::GET,
        &format!("{b}/offsets"),
        Some(json!({"partitions": [{"topic": "t", "partition": 0}]})),
        None,
    )
    .await;
    assert_eq!(
        v,
        json!({"offsets": [{"topic": "t", "partition": 0, "offset": 4, "metadata": ""}]})
    );
    let (s, _) = send(
        &gw.router,
        Method::POST,
        &format!("{b}/subscription"),
        Some(json!({"topics": ["t"]})),
        None,
    )
    .await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let recs = poll(&gw.router, "g", "c", 5000).await;
    let offsets: Vec<_> = recs
        .iter()
        .map(|r| r["offset"].as_u64().expect("offset"))
        .collect();
    assert_eq!(offsets, vec![4, 5]);
}

/// `(status, error_code)` of an answer.
fn code(answer: (StatusCode, Value)) -> (StatusCode, Value) {
    (answer.0, answer.1["error_code"].clone())
}

#[tokio::test]
async fn an_instance_name_taken_in_the_group_is_refused() {
    let gw = TestGateway::new().await;
    let r = &gw.router;
    let (s, v) = create(r, "g", json!({"name": "c"})).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(
        code(create(r, "g", json!({"name": "c"})).await),
        (StatusCode::CONFLICT, json!(40902))
    );
    // The same name in another group is another instance.
    let (s, v) = create(r, "other", json!({"name": "c"})).await;
    assert_eq!(s, StatusCode::OK, "{v}");
}

#[tokio::test]
async fn reading_in_another_format_than_the_instance_is_refused() {
    let gw = TestGateway::new().await;
    let r = &gw.router;
    let (s, v) = create(r, "g", json!({"name": "c"})).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let answer = send(
        r,
        Method::GET,
        &format!("{}/records", base("g", "c")),
        None,
        Some(JSON),
    )
    .await;
    assert_eq!(code(answer), (StatusCode::NOT_ACCEPTABLE, json!(40601)));
}

#[tokio::test]
async fn polling_without_a_subscription_or_assignment_is_an_illegal_state() {
    let gw = TestGateway::new().await;
    let r = &gw.router;
    let (s, v) = create(r, "g", json!({"name": "c"})).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let answer = send(
        r,
        Method::GET,
        &format!("{}/records?timeout=0", base("g", "c")),
        None,
        Some(BINARY),
    )
    .await;
    assert_eq!(code(answer), (StatusCode::CONFLICT, json!(40903)));
}

#[tokio::test]
async fn assigning_a_subscribed_instance_is_an_illegal_state() {
    let gw = TestGateway::new().await;
    gw.create_topic("t", 1);
    let r = &gw.router;
    let (s, v) = create(r, "g", json!({"name": "c"})).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let (s, _) = send(
        r,
        Method::POST,
        &format!("{}/subscription", base("g", "c")),
        Some(json!({"topics": ["t"]})),
        None,
    )
    .await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let answer = send(
        r,
        Method::POST,
        &format!("{}/assignments", base("g", "c")),
        Some(json!({"partitions": [{"topic": "t", "partition": 0}]})),
        None,
    )
    .await;
    assert_eq!(code(answer), (StatusCode::CONFLICT, json!(40903)));
}

/// Confluent answers a subscription naming both `topics` and `topic_pattern` with the Java
/// consumer's IllegalStateException, 409 40903 (issue 10: we answered 422 42203).
#[tokio::test]
async fn subscribing_to_both_topics_and_a_pattern_is_an_illegal_state() {
    let gw = TestGateway::new().await;
    gw.create_topic("t", 1);
    let r = &gw.router;
    let (s, v) = create(r, "g", json!({"name": "c"})).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let path = format!("{}/subscription", base("g", "c"));
    let (s, v) = send(
        r,
        Method::POST,
        &path,
        Some(json!({"topics": ["t"], "topic_pattern": "t.*"})),
        None,
    )
    .await;
    assert_eq!(
        (s, v["error_code"].clone()),
        (StatusCode::CONFLICT, json!(40903)),
        "{v}"
    );
    assert!(
        v["message"]
            .as_str()
            .is_some_and(|m| m.contains("mutually exclusive")),
        "{v}"
    );
    // Nothing was subscribed.
    let (s, v) = send(r, Method::GET, &path, None, None).await;
    assert_eq!((s, v), (StatusCode::OK, json!({"topics": []})));
    // Neither, or an empty list: still a malformed subscription.
    for bad in [json!({}), json!({"topics": []})] {
        let answer = send(r, Method::POST, &path, Some(bad.clone()), None).await;
        assert_eq!(
            code(answer),
            (StatusCode::UNPROCESSABLE_ENTITY, json!(42203)),
            "{bad}"
        );
    }
}

#[tokio::test]
async fn bad_instance_settings_are_refused() {
    let gw = TestGateway::new().await;
    let r = &gw.router;
    for bad in [
        json!({"format": "protobuf"}),
        json!({"format": "xml"}),
        json!({"auto.offset.reset": "sometimes"}),
        json!({"auto.commit.enable": "maybe"}),
        json!({"fetch.min.bytes": "-1"}),
        json!({"name": ".."}),
    ] {
        assert_eq!(
            code(create(r, "g", bad.clone()).await),
            (StatusCode::UNPROCESSABLE_ENTITY, json!(42204)),
            "{bad}"
        );
    }
}

#[tokio::test]
async fn the_legacy_id_alias_names_an_instance_and_a_missing_name_is_generated() {
    let gw = TestGateway::new().await;
    let r = &gw.router;
    let (_, v) = create(r, "g", json!({"id": "legacy"})).await;
    assert_eq!(v["instance_id"], "legacy");
    let (s, v) = create(r, "g", json!({})).await;
    assert_eq!(s, StatusCode::OK);
    assert!(
        v["instance_id"]
            .as_str()
            .expect("id")
            .starts_with("rest-consumer-")
    );
}

#[tokio::test]
async fn positions_seek_offsets_timestamps_beginning_end() {
    let gw = TestGateway::new().await;
    gw.create_topic("t", 1);
    produce(&gw, "t", 0, 0..5).await;
    let r = &gw.router;
    let (s, _) = create(
        r,
        "g",
        json!({"name": "c", "format": "json", "auto.commit.enable": false}),
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    let b = base("g", "c");
    let part = json!({"partitions": [{"topic": "t", "partition": 0}]});
    // Not assigned yet: illegal state.
    let (s, _) = send(
        r,
        Method::POST,
        &format!("{b}/positions/beginning"),
        Some(part.clone()),
        None,
    )
    .await;
    assert_eq!(s, StatusCode::CONFLICT);
    send(
        r,
        Method::POST,
        &format!("{b}/assignments"),
        Some(part.clone()),
        None,
    )
    .await;
    // Default auto.offset.reset is latest: nothing.
    assert!(poll(r, "g", "c", 0).await.is_empty());
    let (s, _) = send(
        r,
        Method::POST,
        &format!("{b}/positions"),
        Some(json!({"offsets": [{"topic": "t", "partition": 0, "offset": 3}]})),
        None,
    )
    .await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let offs = |v: Vec<Value>| {
        v.iter()
            .map(|r| r["offset"].as_u64().expect("o"))
            .collect::<Vec<_>>()
    };
    assert_eq!(offs(poll(r, "g", "c", 0).await), vec![3, 4]);
    let (s, _) = send(
        r,
        Method::POST,
        &format!("{b}/positions/beginning"),
        Some(part.clone()),
        None,
    )
    .await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    assert_eq!(offs(poll(r, "g", "c", 0).await), vec![0, 1, 2, 3, 4]);
    let (s, _) = send(
        r,
        Method::POST,
        &format!("{b}/positions"),
        Some(json!({"timestamps": [{"topic": "t", "partition": 0, "timestamp": 0}]})),
        None,
    )
    .await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    assert_eq!(offs(poll(r, "g", "c", 0).await).len(), 5);
    let (s, _) = send(
        r,
        Method::POST,
        &format!("{b}/positions/end"),
        Some(part),
        None,
    )
    .await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    assert!(poll(r, "g", "c", 0).await.is_empty());
    // A long poll wakes on a new record.
    let router = r.clone();
    let waiter = tokio::spawn(async move { poll(&router, "g", "c", 10_000).await });
    tokio::time::sleep(Duration::from_millis(100)).await;
    produce(&gw, "t", 0, 5..6).await;
    let got = tokio::time::timeout(Duration::from_secs(5), waiter)
        .await
        .expect("woke before its timeout")
        .expect("task");
    assert_eq!(offs(got), vec![5]);
}

/// Whether group `g` has no members left (or, without offsets, no longer exists).
fn group_is_empty(gw: &TestGateway, g: &str) -> bool {
    match gw
        .groups
        .describe_group(&crate::group::GroupId::new(g).expect("id"))
    {
        Ok(desc) => desc.members.is_empty(),
        Err(e) => {
            assert!(
                matches!(e, crate::group::GroupError::GroupIdNotFound(_)),
                "{e:?}"
            );
            true
        }
    }
}

/// Idleness is measured on the instances' clock, moved by hand: the test waits only for the
/// reaper to notice, never for time to pass.
#[tokio::test]
async fn idle_instances_expire_and_leave_their_group() {
    let gw = TestGateway::new().await;
    gw.create_topic("t", 1);
    let state = AppState {
        broker: Arc::clone(&gw.broker),
        groups: Arc::clone(&gw.groups),
        registry: Arc::clone(&gw.registry),
        public_url: Arc::from(PUBLIC_URL),
        cluster: crate::metadata::ClusterView::single(1, PUBLIC_URL),
    };
    let clock = Arc::new(ManualClock::new(0));
    let (r, _) = routes_with_clock(
        InstanceSettings {
            instance_timeout: Duration::from_millis(200),
        },
        Arc::clone(&clock) as Arc<dyn Clock>,
    )
    .with_state(state)
    .split_for_parts();
    let (s, _) = create(&r, "g", json!({"name": "c"})).await;
    assert_eq!(s, StatusCode::OK);
    let (s, _) = send(
        &r,
        Method::POST,
        &format!("{}/subscription", base("g", "c")),
        Some(json!({"topics": ["t"]})),
        None,
    )
    .await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let assignments = format!("{}/assignments", base("g", "c"));
    // Used within the timeout: still there, and its expiry starts again.
    clock.advance(Duration::from_millis(150));
    let (s, _) = send(&r, Method::GET, &assignments, None, None).await;
    assert_eq!(s, StatusCode::OK);
    clock.advance(Duration::from_millis(150));
    assert!(!group_is_empty(&gw, "g"));

    clock.advance(Duration::from_millis(100));
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while !group_is_empty(&gw, "g") {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the idle instance was not reaped"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let (s, v) = send(&r, Method::GET, &assignments, None, None).await;
    assert_eq!(
        (s, v["error_code"].clone()),
        (StatusCode::NOT_FOUND, json!(40403))
    );
}

#[tokio::test]
async fn auto_commit_commits_what_was_fetched_before_the_next_poll() {
    let gw = TestGateway::new().await;
    gw.create_topic("t", 1);
    produce(&gw, "t", 0, 0..3).await;
    let r = &gw.router;
    let (s, _) = create(
        r,
        "g",
        json!({"name": "c", "format": "json", "auto.offset.reset": "earliest"}),
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    let b = base("g", "c");
    let (s, _) = send(
        r,
        Method::POST,
        &format!("{b}/subscription"),
        Some(json!({"topics": ["t"]})),
        None,
    )
    .await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    assert_eq!(poll(r, "g", "c", 5000).await.len(), 3);
    let group = crate::group::GroupId::new("g").expect("id");
    let tp = crate::group::TopicPartition::new("t", 0);
    assert!(!gw.groups.committed_offsets(&group).contains_key(&tp));
    assert!(poll(r, "g", "c", 0).await.is_empty());
    assert_eq!(gw.groups.committed_offsets(&group)[&tp].offset, 3);
}
