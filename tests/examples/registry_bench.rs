//! Registration load for `scripts/bench-registry.sh`: registers `SUBJECTS` subjects with
//! `VERSIONS` versions each under BACKWARD_TRANSITIVE against a running server, `CONCURRENCY`
//! subjects at a time (each subject's versions in order: every version adds a field with a
//! default, so it is compatible with all before it), and prints one JSON line with the time.
//!
//! Usage: `registry_bench <base-url> [SUBJECTS=10000] [VERSIONS=5] [CONCURRENCY=32]`

use std::collections::HashSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use serde_json::json;

const SR: &str = "application/vnd.schemaregistry.v1+json";

fn schema(subject: usize, version: usize) -> String {
    let mut fields = vec![json!({"name": "id", "type": "long"})];
    for f in 1..version {
        fields.push(json!({"name": format!("f{f}"), "type": "string", "default": ""}));
    }
    json!({"type": "record", "name": format!("R{subject}"), "namespace": "bench", "fields": fields})
        .to_string()
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let base = args
        .get(1)
        .expect("usage: registry_bench <base-url> [subjects] [versions] [concurrency]")
        .clone();
    let arg = |i: usize, default: usize| {
        args.get(i)
            .map_or(default, |s| s.parse().expect("a number"))
    };
    let (subjects, versions, concurrency) = (arg(2, 10_000), arg(3, 5), arg(4, 32));
    let http = reqwest::Client::new();
    let put = http
        .put(format!("{base}/config"))
        .header("Content-Type", SR)
        .body(json!({"compatibility": "BACKWARD_TRANSITIVE"}).to_string())
        .send()
        .await
        .expect("PUT /config");
    assert!(put.status().is_success(), "PUT /config: {}", put.status());

    let next = Arc::new(AtomicUsize::new(0));
    let ids = Arc::new(Mutex::new(HashSet::new()));
    let start = Instant::now();
    let workers: Vec<_> = (0..concurrency)
        .map(|_| {
            let (http, base, next) = (http.clone(), base.clone(), Arc::clone(&next));
            let ids = Arc::clone(&ids);
            tokio::spawn(async move {
                loop {
                    let s = next.fetch_add(1, Ordering::Relaxed);
                    if s >= subjects {
                        return;
                    }
                    for v in 1..=versions {
                        let response = http
                            .post(format!("{base}/subjects/bench-{s}-value/versions"))
                            .header("Content-Type", SR)
                            .body(json!({"schema": schema(s, v)}).to_string())
                            .send()
                            .await
                            .expect("register");
                        let status = response.status();
                        let body = response.text().await.unwrap_or_default();
                        assert!(
                            status.is_success(),
                            "subject {s} version {v}: {status} {body}"
                        );
                        let id: serde_json::Value = serde_json::from_str(&body).expect("json");
                        ids.lock()
                            .expect("ids")
                            .insert(id["id"].as_i64().expect("id"));
                    }
                }
            })
        })
        .collect();
    for w in workers {
        w.await.expect("worker");
    }
    let seconds = start.elapsed().as_secs_f64();
    let registered = subjects * versions;
    let distinct = ids.lock().expect("ids").len();
    assert_eq!(distinct, registered, "every version got its own id");
    println!(
        "{}",
        json!({"subjects": subjects, "versions": versions, "registrations": registered,
               "seconds": seconds, "per_second": registered as f64 / seconds})
    );
}
