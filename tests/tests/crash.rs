//! `kill -9` of the real server in the middle of produce: with `flush.messages=1` every record
//! the server acknowledged must be there after the restart, at its acknowledged offset, once.

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use rand::Rng as _;
use serde_json::{Value, json};

use crate::support::{JSON_V2, Runnel};

const KILLS: usize = 20;
const PRODUCERS: usize = 3;
const TOPIC: &str = "crash";

/// One producer: sends requests of 1–20 records (values `{"seq": n}` with globally unique `n`)
/// until `stop` or until the server goes away; returns every acknowledged `(offset, seq)`.
async fn produce_until_killed(
    http: reqwest::Client,
    url: String,
    next_seq: Arc<AtomicU64>,
    stop: Arc<AtomicBool>,
) -> Vec<(u64, u64)> {
    let mut acked = Vec::new();
    while !stop.load(Ordering::SeqCst) {
        let n: u64 = rand::rng().random_range(1..=20);
        let first = next_seq.fetch_add(n, Ordering::SeqCst);
        let records: Vec<Value> = (first..first + n)
            .map(|seq| json!({"value": {"seq": seq}}))
            .collect();
        let sent = http
            .post(&url)
            .header("Content-Type", JSON_V2)
            .body(json!({ "records": records }).to_string())
            .send()
            .await;
        let Ok(resp) = sent else { break };
        let status = resp.status();
        // A body cut short by the kill is not an acknowledgement.
        let Ok(body) = resp.json::<Value>().await else {
            break;
        };
        assert_eq!(
            status, 200,
            "produce failed while the server was up: {body}"
        );
        let offsets = body["offsets"].as_array().expect("offsets");
        assert_eq!(offsets.len() as u64, n, "{body}");
        for (i, o) in offsets.iter().enumerate() {
            assert!(o["error_code"].is_null(), "record error: {body}");
            assert_eq!(o["partition"], 0, "{body}");
            acked.push((o["offset"].as_u64().expect("offset"), first + i as u64));
        }
    }
    acked
}

/// The `seq` of every record in the partition, checking offsets are contiguous from 0.
async fn log_seqs(r: &Runnel) -> Vec<u64> {
    r.read_all(TOPIC, 0)
        .await
        .iter()
        .map(|rec| rec["value"]["seq"].as_u64().expect("value.seq"))
        .collect()
}

/// 20 times: 3 producers send small requests; after 50–400 ms the server is SIGKILLed and
/// restarted on the same data dir. Then the whole log (which keeps growing) is checked: offsets
/// contiguous from 0, no sequence number twice, every acknowledged record at its acknowledged
/// offset, and what survived the previous crash still there unchanged.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn kill_9_during_produce_loses_no_acknowledged_record() {
    let started = Instant::now();
    let mut r = Runnel::start_with_env(&[("RUNNEL_TOPIC_DEFAULTS_FLUSH_MESSAGES", "1")]).await;
    r.create_topic(TOPIC, 1, &[("flush.messages", "1")]).await;

    let next_seq = Arc::new(AtomicU64::new(0));
    let mut acked: BTreeMap<u64, u64> = BTreeMap::new();
    let mut survived: Vec<u64> = Vec::new();
    for kill in 1..=KILLS {
        let stop = Arc::new(AtomicBool::new(false));
        let producers: Vec<_> = (0..PRODUCERS)
            .map(|_| {
                tokio::spawn(produce_until_killed(
                    r.http.clone(),
                    r.url(&format!("/topics/{TOPIC}")),
                    Arc::clone(&next_seq),
                    Arc::clone(&stop),
                ))
            })
            .collect();
        let delay = rand::rng().random_range(50..=400);
        tokio::time::sleep(Duration::from_millis(delay)).await;
        r.kill9();
        stop.store(true, Ordering::SeqCst);
        let mut this_round = 0;
        for p in producers {
            for (offset, seq) in p.await.expect("producer task") {
                this_round += 1;
                if let Some(other) = acked.insert(offset, seq) {
                    panic!("offset {offset} acknowledged twice: seq {other} and seq {seq}");
                }
            }
        }

        r.spawn_ready().await;
        let seqs = log_seqs(&r).await;
        assert!(
            seqs.starts_with(&survived),
            "kill {kill}: records that survived the previous crash changed or vanished \
             (had {}, now {})",
            survived.len(),
            seqs.len()
        );
        let mut unique = HashSet::with_capacity(seqs.len());
        for (offset, seq) in seqs.iter().enumerate() {
            assert!(
                unique.insert(*seq),
                "kill {kill}: seq {seq} appears twice (again at offset {offset})"
            );
        }
        for (&offset, &seq) in &acked {
            let found = seqs.get(offset as usize);
            assert_eq!(
                found,
                Some(&seq),
                "kill {kill}: acknowledged seq {seq} at offset {offset} is {} (log has {} records)",
                found.map_or("missing".to_owned(), |s| format!("seq {s} instead")),
                seqs.len()
            );
        }
        eprintln!(
            "kill {kill}: after {delay} ms, {this_round} records acknowledged, \
             {} acknowledged in all, log holds {}",
            acked.len(),
            seqs.len()
        );
        survived = seqs;
    }
    assert!(
        acked.len() >= 50,
        "only {} records were acknowledged over {KILLS} kills: the test proved little",
        acked.len()
    );
    r.assert_no_panic();
    eprintln!(
        "{KILLS} kills, {} acknowledged records verified in {:?}",
        acked.len(),
        started.elapsed()
    );
}
