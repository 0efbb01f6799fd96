#![allow(clippy::unwrap_used, clippy::indexing_slicing)]

use std::collections::BTreeMap;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use serde_json::json;
use tower::ServiceExt as _;

use crate::broker::NewRecord;
use crate::gateway::testing::TestGateway;
use crate::group::{
    CommitScope, GroupId, JoinRequest, Member, MemberId, OffsetAndMetadata, Subscription,
    TopicPartition,
};

fn produce(gw: &TestGateway, topic: &str, partition: u32, n: usize) {
    let records: Vec<NewRecord> = (0..n)
        .map(|i| NewRecord {
            timestamp: Some(1_000 + i as i64),
            value: Some(bytes::Bytes::from(vec![b'x'; 10])),
            ..NewRecord::default()
        })
        .collect();
    let p = gw.broker.partition(topic, partition).unwrap();
    p.append_records(&records, 1_000).unwrap();
}

fn join(gw: &TestGateway, group: &str, member: &str, topics: &[&str]) -> Member {
    let mut req = JoinRequest::new(
        GroupId::new(group).unwrap(),
        "app",
        Subscription::topics(topics.iter().copied()),
    );
    req.member_id = Some(MemberId::new(member));
    gw.groups.join(req).unwrap()
}

fn commits(entries: &[(&str, u32, u64)]) -> BTreeMap<TopicPartition, OffsetAndMetadata> {
    entries
        .iter()
        .map(|(t, p, o)| (TopicPartition::new(*t, *p), OffsetAndMetadata::new(*o)))
        .collect()
}

#[tokio::test]
async fn consumer_group_resources_have_confluent_shapes() {
    let gw = TestGateway::new().await;
    gw.create_topic("t", 2);
    produce(&gw, "t", 0, 5);
    let member = join(&gw, "g1", "m-1", &["t"]);
    let generation = member.assignment().generation_id().unwrap();
    member
        .commit(generation, commits(&[("t", 0, 2)]))
        .await
        .unwrap();
    let (c, v3) = (gw.cluster_id(), gw.v3());
    let g = format!("{v3}/consumer-groups/g1");
    let crn = format!("crn:///kafka={c}/consumer-group=g1");

    let group = json!({
        "kind": "KafkaConsumerGroup",
        "metadata": { "self": g, "resource_name": crn },
        "cluster_id": c,
        "consumer_group_id": "g1",
        "is_simple": false,
        "partition_assignor": "range",
        "state": "STABLE",
        "type": "CLASSIC",
        "is_mixed_consumer_group": false,
        "coordinator": { "related": format!("{v3}/brokers/1") },
        "consumers": { "related": format!("{g}/consumers") },
        "lag_summary": { "related": format!("{g}/lag-summary") },
    });
    let base = format!("/v3/clusters/{c}/consumer-groups");
    assert_eq!(
        gw.get(format!("{base}/g1")).await,
        (StatusCode::OK, group.clone())
    );
    let (status, list) = gw.get(&base).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        list,
        json!({
            "kind": "KafkaConsumerGroupList",
            "metadata": { "self": format!("{v3}/consumer-groups"), "next": null },
            "data": [group],
        })
    );

    let m = format!("{g}/consumers/m-1");
    let consumer = json!({
        "kind": "KafkaConsumer",
        "metadata": { "self": m, "resource_name": format!("{crn}/consumer=m-1") },
        "cluster_id": c,
        "consumer_group_id": "g1",
        "consumer_id": "m-1",
        "instance_id": null,
        "client_id": "app",
        "assignments": { "related": format!("{m}/assignments") },
    });
    assert_eq!(
        gw.get(format!("{base}/g1/consumers/m-1")).await,
        (StatusCode::OK, consumer.clone())
    );
    let (_, consumers) = gw.get(format!("{base}/g1/consumers")).await;
    assert_eq!(consumers["kind"], "KafkaConsumerList");
    assert_eq!(consumers["data"], json!([consumer]));

    let assignment = json!({
        "kind": "KafkaConsumerAssignment",
        "metadata": {
            "self": format!("{m}/assignments/t/partitions/1"),
            "resource_name": format!("{crn}/consumer=m-1/assignment=t/partition=1"),
        },
        "cluster_id": c,
        "consumer_group_id": "g1",
        "consumer_id": "m-1",
        "topic_name": "t",
        "partition_id": 1,
        "partition": { "related": format!("{v3}/topics/t/partitions/1") },
        "lag": { "related": format!("{g}/lags/t/partitions/1") },
    });
    let (status, assignments) = gw.get(format!("{base}/g1/consumers/m-1/assignments")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(assignments["kind"], "KafkaConsumerAssignmentList");
    assert_eq!(assignments["metadata"]["self"], format!("{m}/assignments"));
    assert_eq!(assignments["data"].as_array().unwrap().len(), 2);
    assert_eq!(assignments["data"][1], assignment);
    assert_eq!(
        gw.get(format!(
            "{base}/g1/consumers/m-1/assignments/t/partitions/1"
        ))
        .await,
        (StatusCode::OK, assignment)
    );

    let lag = json!({
        "kind": "KafkaConsumerLag",
        "metadata": {
            "self": format!("{g}/lags/t/partitions/0"),
            "resource_name": format!("{crn}/lag=t/partition=0"),
        },
        "cluster_id": c,
        "consumer_group_id": "g1",
        "topic_name": "t",
        "partition_id": 0,
        "consumer_id": "m-1",
        "instance_id": null,
        "client_id": "app",
        "current_offset": 2,
        "log_end_offset": 5,
        "lag": 3,
    });
    assert_eq!(
        gw.get(format!("{base}/g1/lags/t/partitions/0")).await,
        (StatusCode::OK, lag.clone())
    );
    let (_, lags) = gw.get(format!("{base}/g1/lags")).await;
    assert_eq!(
        lags,
        json!({
            "kind": "KafkaConsumerLagList",
            "metadata": { "self": format!("{g}/lags"), "next": null },
            "data": [lag],
        })
    );
    assert_eq!(
        gw.get(format!("{base}/g1/lag-summary")).await,
        (
            StatusCode::OK,
            json!({
                "kind": "KafkaConsumerLagSummary",
                "metadata": {
                    "self": format!("{g}/lag-summary"),
                    "resource_name": format!("{crn}/lag-summary"),
                },
                "cluster_id": c,
                "consumer_group_id": "g1",
                "max_lag_consumer_id": "m-1",
                "max_lag_instance_id": null,
                "max_lag_client_id": "app",
                "max_lag_topic_name": "t",
                "max_lag_partition_id": 0,
                "max_lag": 3,
                "total_lag": 3,
                "max_lag_consumer": { "related": m },
                "max_lag_partition": { "related": format!("{v3}/topics/t/partitions/0") },
            })
        )
    );
}

#[tokio::test]
async fn a_group_with_only_offsets_is_empty_and_simple() {
    let gw = TestGateway::new().await;
    gw.create_topic("t", 1);
    let g = GroupId::new("a b/c").unwrap();
    gw.groups
        .commit_offsets(&g, CommitScope::Simple, &commits(&[("t", 0, 0)]))
        .await
        .unwrap();
    let c = gw.cluster_id();
    let (status, body) = gw
        .get(format!("/v3/clusters/{c}/consumer-groups/a%20b%2Fc"))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["consumer_group_id"], "a b/c");
    assert_eq!(body["state"], "EMPTY");
    assert_eq!(body["is_simple"], true);
    assert_eq!(body["partition_assignor"], "");
    assert_eq!(
        body["metadata"]["self"],
        format!("{}/consumer-groups/a%20b%2Fc", gw.v3())
    );
    let (_, consumers) = gw
        .get(format!(
            "/v3/clusters/{c}/consumer-groups/a%20b%2Fc/consumers"
        ))
        .await;
    assert_eq!(consumers["data"], json!([]));
    let (_, summary) = gw
        .get(format!(
            "/v3/clusters/{c}/consumer-groups/a%20b%2Fc/lag-summary"
        ))
        .await;
    assert_eq!(summary["max_lag_consumer_id"], "");
    assert_eq!(summary["max_lag_consumer"], json!(null));
    assert_eq!(summary["total_lag"], 0);
}

#[tokio::test]
async fn unknown_groups_consumers_and_partitions_answer_404() {
    let gw = TestGateway::new().await;
    gw.create_topic("t", 1);
    let _member = join(&gw, "g1", "m-1", &["t"]);
    let c = gw.cluster_id();
    let base = format!("/v3/clusters/{c}/consumer-groups");
    for path in [
        "nope",
        "nope/consumers",
        "nope/consumers/m-1",
        "nope/lags",
        "nope/lags/t/partitions/0",
        "nope/lag-summary",
    ] {
        let (status, body) = gw.get(format!("{base}/{path}")).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
        assert_eq!(
            body,
            json!({"error_code": 40405, "message": "Consumer group 'nope' not found."}),
            "{path}"
        );
    }
    let generic = json!({"error_code": 404, "message": "HTTP 404 Not Found"});
    for path in [
        "g1/consumers/other",
        "g1/consumers/other/assignments",
        "g1/consumers/m-1/assignments/t/partitions/7",
        "g1/consumers/m-1/assignments/t/partitions/x",
        "g1/lags/t/partitions/0",
    ] {
        assert_eq!(
            gw.get(format!("{base}/{path}")).await,
            (StatusCode::NOT_FOUND, generic.clone()),
            "{path}"
        );
    }
    let (status, body) = gw.get(format!("{base}/g1/lags/zz/partitions/0")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body["error_code"], 40403);
    assert_eq!(
        gw.get("/v3/clusters/other/consumer-groups/g1").await,
        (StatusCode::NOT_FOUND, generic)
    );
}

#[tokio::test]
async fn offsets_reset_moves_an_empty_groups_offsets() {
    let gw = TestGateway::new().await;
    gw.create_topic("t", 2);
    produce(&gw, "t", 0, 6);
    produce(&gw, "t", 1, 2);
    let c = gw.cluster_id();
    let url = format!("/v3/clusters/{c}/consumer-groups/g1/offsets:reset");
    let (status, body) = gw
        .call(
            Method::POST,
            &url,
            Some(json!({"to": "latest", "topics": ["t"]})),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        body,
        json!({
            "cluster_id": c,
            "consumer_group_id": "g1",
            "offsets": [
                {"topic_name": "t", "partition_id": 0, "offset": 6},
                {"topic_name": "t", "partition_id": 1, "offset": 2},
            ],
        })
    );
    for (to, expected) in [
        (json!("earliest"), [0, 0]),
        (json!({"timestamp": 1_003}), [3, 2]),
        (json!({"offset": 4}), [4, 2]),
    ] {
        let (status, body) = gw.call(Method::POST, &url, Some(json!({ "to": to }))).await;
        assert_eq!(status, StatusCode::OK, "{to}");
        let got: Vec<u64> = body["offsets"]
            .as_array()
            .unwrap()
            .iter()
            .map(|o| o["offset"].as_u64().unwrap())
            .collect();
        assert_eq!(got, expected, "{to}");
    }
    let (_, lags) = gw
        .get(format!("/v3/clusters/{c}/consumer-groups/g1/lags"))
        .await;
    assert_eq!(lags["data"][0]["current_offset"], 4);
    assert_eq!(lags["data"][0]["lag"], 2);

    let (status, body) = gw
        .call(Method::POST, &url, Some(json!({"to": "yesterday"})))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body["error_code"], 42203);
    let (status, body) = gw
        .call(
            Method::POST,
            &url,
            Some(json!({"to": "earliest", "topics": ["missing"]})),
        )
        .await;
    assert_eq!(
        (status, body["error_code"].clone()),
        (StatusCode::NOT_FOUND, json!(40403))
    );

    let _member = join(&gw, "g1", "m-1", &["t"]);
    let (status, body) = gw
        .call(Method::POST, &url, Some(json!({"to": "earliest"})))
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(body["error_code"], 40903);
}

#[tokio::test]
async fn metrics_export_consumer_group_lag() {
    let gw = TestGateway::new().await;
    gw.create_topic("t", 1);
    produce(&gw, "t", 0, 4);
    let g = GroupId::new("g1").unwrap();
    gw.groups
        .commit_offsets(&g, CommitScope::Simple, &commits(&[("t", 0, 1)]))
        .await
        .unwrap();
    let response = gw
        .router
        .clone()
        .oneshot(Request::get("/metrics").body(Body::empty()).unwrap())
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .unwrap();
    let text = String::from_utf8(bytes.to_vec()).unwrap();
    assert!(text.contains("# TYPE runnel_consumer_group_lag gauge\n"));
    assert!(
        text.contains("runnel_consumer_group_lag{group=\"g1\",topic=\"t\",partition=\"0\"} 3\n"),
        "{text}"
    );
}
