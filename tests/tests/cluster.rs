//! The cluster's control plane with real processes: three `runnel serve` brokers voting in one
//! metadata quorum (openraft), their registration and liveness, the controller's failover, and
//! bad cluster settings. A single node is a one-voter quorum on the same path.

use std::process::Stdio;

use serde_json::Value;

use crate::support::*;

/// The v3 cluster id and the listed broker ids, as broker `b` answers.
async fn v3_brokers(c: &Cluster, b: u32) -> (String, Vec<u64>) {
    let r = c.broker(b);
    let id = r.cluster_id().await;
    let (status, body) = r.get_json(&format!("/v3/clusters/{id}/brokers")).await;
    assert_eq!(status, 200, "{body}");
    let ids = body["data"]
        .as_array()
        .expect("data")
        .iter()
        .map(|b| b["broker_id"].as_u64().expect("broker_id"))
        .collect();
    (id, ids)
}

fn live(status: &Value, brokers: &[u32]) -> bool {
    brokers.iter().all(|b| fenced(status, *b) == Some(false))
}

#[tokio::test]
async fn three_brokers_form_one_cluster_and_list_each_other() {
    let c = Cluster::start(3).await;
    let agreed = c
        .wait_status(1, "three live brokers", |s| live(s, &[1, 2, 3]))
        .await;
    let controller = agreed["controller_id"].as_u64().expect("a controller");
    for b in 1..=3 {
        let s = c
            .wait_status(b, "the same controller", |s| {
                live(s, &[1, 2, 3]) && s["controller_id"] == controller
            })
            .await;
        assert_eq!(
            s["cluster_id"], agreed["cluster_id"],
            "one cluster id on every broker"
        );
        let (id, ids) = v3_brokers(&c, b).await;
        assert_eq!(id, agreed["cluster_id"]);
        assert_eq!(ids, [1, 2, 3]);
        // Each broker registered the URL clients reach it at.
        let me = s["brokers"][b as usize - 1].clone();
        assert_eq!(me["url"], c.broker(b).url(""), "{s}");
    }
    // The controller link of the v3 cluster and the metrics agree.
    let (_, cluster) = c.broker(2).get_json("/v3/clusters").await;
    let link = cluster["data"][0]["controller"]["related"]
        .as_str()
        .unwrap_or_default();
    assert!(
        link.ends_with(&format!("/brokers/{controller}")),
        "{cluster}"
    );
    assert_eq!(
        c.broker(3).metric("runnel_cluster_controller_id").await,
        controller as f64
    );

    // `runnel cluster status` prints the same for a person.
    let out = tokio::process::Command::new(runnel_bin())
        .args(["cluster", "status", "--url", &c.broker(1).url("")])
        .stdin(Stdio::null())
        .output()
        .await
        .expect("run runnel cluster status");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    assert!(text.contains(&format!("controller {controller}")), "{text}");
    assert_eq!(
        text.lines().filter(|l| l.contains(" live ")).count(),
        3,
        "{text}"
    );
    for b in &c.brokers {
        b.assert_no_panic();
    }
}

#[tokio::test]
async fn killing_the_controller_elects_another_which_fences_it_until_it_returns() {
    let mut c = Cluster::start(3).await;
    let first = c
        .wait_status(1, "three live brokers", |s| live(s, &[1, 2, 3]))
        .await;
    let cluster_id = first["cluster_id"].clone();
    let old = u32::try_from(first["controller_id"].as_u64().expect("controller")).unwrap();
    c.broker_mut(old).kill9();

    let other = (1..=3).find(|b| *b != old).unwrap();
    let after = c
        .wait_status(other, "a new controller that fenced the old one", |s| {
            s["controller_id"]
                .as_u64()
                .is_some_and(|id| id != u64::from(old))
                && fenced(s, old) == Some(true)
        })
        .await;
    let (_, ids) = v3_brokers(&c, other).await;
    assert!(
        !ids.contains(&u64::from(old)),
        "a fenced broker is not listed: {ids:?}"
    );
    assert_eq!(
        c.broker(other)
            .metric("runnel_cluster_brokers{state=\"fenced\"}")
            .await,
        1.0
    );

    c.restart(old).await;
    let back = c
        .wait_status(old, "itself unfenced under the new controller", |s| {
            live(s, &[1, 2, 3]) && s["controller_id"] == after["controller_id"]
        })
        .await;
    assert_eq!(
        back["cluster_id"], cluster_id,
        "the restarted broker kept its cluster"
    );
    for b in &c.brokers {
        b.assert_no_panic();
    }
}

#[tokio::test]
async fn a_single_node_is_a_one_voter_cluster_without_a_cluster_port() {
    let r = Runnel::start().await;
    let (status, s) = r.get_json("/v1/cluster").await;
    assert_eq!(status, 200, "{s}");
    assert_eq!(s["controller_id"], 1);
    assert_eq!(s["brokers"].as_array().map(Vec::len), Some(1), "{s}");
    assert_eq!(s["brokers"][0]["cluster_addr"], "", "no cluster port: {s}");
    assert_eq!(s["cluster_id"], r.cluster_id().await);
}

/// `runnel serve` with these extra arguments exits with an error naming the problem.
async fn refused(args: &[&str], env: &[(&str, &str)], expect: &str) {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = tokio::process::Command::new(runnel_bin())
        .arg("serve")
        .arg("--data-dir")
        .arg(dir.path())
        .args(["--listen", "127.0.0.1:0"])
        .args(args)
        .envs(env.iter().copied())
        .env_remove("RUNNEL_CONFIG")
        .stdin(Stdio::null())
        .output()
        .await
        .expect("run runnel serve");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{args:?} started: {stderr}");
    assert!(stderr.contains(expect), "{args:?}: {stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    let written: Vec<_> = std::fs::read_dir(dir.path())
        .expect("read data dir")
        .collect();
    assert!(written.is_empty(), "{args:?} wrote {written:?}");
}

#[tokio::test]
async fn bad_cluster_settings_are_refused_before_anything_is_written() {
    refused(&["--peers", "1@127.0.0.1"], &[], "ID@HOST:PORT").await;
    refused(
        &["--peers", "1@127.0.0.1:9,1@127.0.0.1:10"],
        &[],
        "node id 1 appears twice",
    )
    .await;
    refused(
        &["--peers", "1@127.0.0.1:9,2@127.0.0.1:10"],
        &[],
        "cluster_listen",
    )
    .await;
    refused(
        &[
            "--node-id",
            "3",
            "--cluster-listen",
            "127.0.0.1:0",
            "--peers",
            "1@127.0.0.1:9,2@127.0.0.1:10",
        ],
        &[],
        "node_id 3 is not among the peers",
    )
    .await;
    refused(&["--node-id", "0"], &[], "greater than zero").await;
}

#[tokio::test]
async fn a_data_dir_of_another_cluster_is_refused() {
    let mut a = Runnel::start().await;
    a.create_topic("kept", 1, &[]).await;
    a.stop().await;
    let mut b = Runnel::start().await;
    b.stop().await;
    // B's metadata quorum has its own cluster id; A's topics come with A's.
    std::fs::copy(
        a.data_dir().join("meta.json"),
        b.data_dir().join("meta.json"),
    )
    .expect("copy meta.json");
    b.spawn(0);
    let err = b
        .wait_ready()
        .await
        .expect_err("a foreign data dir must not start");
    assert!(err.contains("exited"), "{err}");
    let text = b.stderr();
    assert!(text.contains("belongs to cluster"), "{text}");
    assert!(!text.contains("panicked"), "{text}");
}
