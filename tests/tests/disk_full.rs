//! A full disk: the server runs with its data dir on a small tmpfs in a private mount namespace
//! (`unshare --mount`), next to a ballast file. Produce until the disk is full, expect the
//! retriable 50003, check the server stays up and serves every acknowledged record, then free
//! the ballast and produce on at the next offsets, across a kill -9 and a graceful restart.
//!
//! Needs root and util-linux's `unshare` and `nsenter`; elsewhere the test prints a SKIP line.

use std::ffi::OsString;
use std::io::{BufRead as _, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use serde_json::{Value, json};

use crate::support::{BINARY_V2, Options, Runnel};

const TMPFS_MIB: u32 = 24;
const BALLAST_MIB: u32 = 4;
const TOPIC: &str = "full";
/// Records per request and value size: 128 KiB per request.
const RECORDS_PER_REQUEST: usize = 4;
const VALUE_BYTES: usize = 32 << 10;

fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status").is_ok_and(|s| {
        s.lines()
            .find(|l| l.starts_with("Uid:"))
            .and_then(|l| l.split_whitespace().nth(1))
            == Some("0")
    })
}

fn have(program: &str) -> bool {
    Command::new("sh")
        .args(["-c", &format!("command -v {program} >/dev/null")])
        .status()
        .is_ok_and(|s| s.success())
}

/// A private mount namespace holding a tmpfs at `mnt`, kept alive by a `sleep` so the server can
/// be restarted inside it; dropped, it kills the holder and the tmpfs goes with the namespace.
struct Namespace {
    holder: Child,
    mnt: PathBuf,
}

impl Namespace {
    fn new(mnt: &Path) -> Namespace {
        const SCRIPT: &str = r#"set -e
mount -t tmpfs -o "size=$2m" tmpfs "$1"
mkdir "$1/data"
dd if=/dev/zero of="$1/ballast" bs=1M count="$3" 2>/dev/null
echo ready
exec sleep 900"#;
        let mut holder = Command::new("unshare")
            .args([
                "--mount",
                "--propagation",
                "private",
                "--",
                "sh",
                "-c",
                SCRIPT,
                "sh",
            ])
            .arg(mnt)
            .arg(TMPFS_MIB.to_string())
            .arg(BALLAST_MIB.to_string())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("spawn unshare");
        let mut line = String::new();
        BufReader::new(holder.stdout.take().expect("holder stdout"))
            .read_line(&mut line)
            .expect("read from the namespace holder");
        if line.trim() != "ready" {
            let status = holder.wait();
            panic!("could not set up the tmpfs namespace ({status:?}): {line:?}");
        }
        Namespace {
            holder,
            mnt: mnt.to_path_buf(),
        }
    }

    /// `nsenter -t <holder> -m --`: runs a command in the namespace (exec'd, same pid).
    fn wrapper(&self) -> Vec<OsString> {
        ["nsenter", "-t", &self.holder.id().to_string(), "-m", "--"]
            .into_iter()
            .map(OsString::from)
            .collect()
    }

    fn run(&self, args: &[&str]) -> String {
        let w = self.wrapper();
        let out = Command::new(&w[0])
            .args(&w[1..])
            .args(args)
            .output()
            .expect("nsenter");
        assert!(
            out.status.success(),
            "{args:?} in the namespace failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    fn df(&self) -> String {
        self.run(&["df", "-k", &self.mnt.to_string_lossy()])
    }
}

impl Drop for Namespace {
    fn drop(&mut self) {
        let _ = self.holder.kill();
        let _ = self.holder.wait();
    }
}

fn request_body(first_seq: u64) -> (Value, Vec<String>) {
    let values: Vec<String> = (0..RECORDS_PER_REQUEST as u64)
        .map(|i| {
            let mut v = format!("seq-{:08}-", first_seq + i).into_bytes();
            v.resize(VALUE_BYTES, b'x');
            B64.encode(v)
        })
        .collect();
    let records: Vec<Value> = values.iter().map(|v| json!({"value": v})).collect();
    (json!({ "records": records }), values)
}

/// What one produce request came to.
enum Outcome {
    /// Every record acknowledged, at these offsets.
    Acked(Vec<u64>),
    /// The disk was full: the retriable 50003, with a message about space.
    DiskFull(String),
}

async fn produce(r: &Runnel, first_seq: u64) -> (Outcome, Vec<String>) {
    let (body, values) = request_body(first_seq);
    let (status, resp) = r.post(&format!("/topics/{TOPIC}"), BINARY_V2, &body).await;
    if status != 200 {
        // Accepted too: the whole request failing with the retriable code.
        assert!(
            status >= 500 && resp["error_code"] == 50003,
            "produce failed with {status} and not the retriable 50003: {resp}"
        );
        let msg = resp["message"].as_str().unwrap_or_default().to_owned();
        assert!(msg.contains("space"), "50003 message: {resp}");
        return (Outcome::DiskFull(msg), values);
    }
    let offsets = resp["offsets"].as_array().expect("offsets");
    assert_eq!(offsets.len(), RECORDS_PER_REQUEST, "{resp}");
    if offsets.iter().all(|o| o["error_code"].is_null()) {
        let offs = offsets
            .iter()
            .map(|o| o["offset"].as_u64().expect("offset"))
            .collect();
        return (Outcome::Acked(offs), values);
    }
    // One partition, one batch: the request succeeds or fails as a whole.
    for o in offsets {
        assert_eq!(
            o["error_code"], 50003,
            "a record failed with other than the retriable 50003: {resp}"
        );
        assert!(o["offset"].is_null() && o["partition"].is_null(), "{resp}");
        let msg = o["error"].as_str().unwrap_or_default();
        assert!(
            msg.contains("space"),
            "50003 message does not mention space: {resp}"
        );
    }
    let msg = offsets[0]["error"].as_str().unwrap_or_default().to_owned();
    (Outcome::DiskFull(msg), values)
}

/// Reads the partition (binary) and checks it holds exactly `acked`, in order.
async fn assert_log_is(r: &Runnel, acked: &[String], when: &str) {
    let log = r.read_from(TOPIC, 0, 0, BINARY_V2).await;
    assert_eq!(
        log.len(),
        acked.len(),
        "{when}: the log holds {} records, {} were acknowledged",
        log.len(),
        acked.len()
    );
    for (i, (rec, want)) in log.iter().zip(acked).enumerate() {
        assert!(
            rec["value"].as_str() == Some(want.as_str()),
            "{when}: offset {i} holds another record than the one acknowledged there"
        );
    }
}

#[tokio::test]
async fn full_disk_fails_produce_retriably_and_recovers_when_space_is_freed() {
    if !is_root() || !have("unshare") || !have("nsenter") {
        eprintln!(
            "SKIP disk_full: needs root and util-linux unshare + nsenter (root: {}, unshare: {}, \
             nsenter: {})",
            is_root(),
            have("unshare"),
            have("nsenter")
        );
        return;
    }
    let mnt_root = tempfile::Builder::new()
        .prefix("runnel-e2e-tmpfs-")
        .tempdir()
        .expect("tempdir");
    let ns = Namespace::new(mnt_root.path());
    let mut r = Runnel::start_with(Options {
        wrapper: ns.wrapper(),
        data_dir: Some(mnt_root.path().join("data")),
        ..Options::default()
    })
    .await;
    r.create_topic(
        TOPIC,
        1,
        &[
            ("segment.bytes", "1048576"),
            ("segment.index.bytes", "65536"),
        ],
    )
    .await;

    // Fill the disk.
    let mut acked: Vec<String> = Vec::new();
    let mut seq = 0u64;
    let max_requests = (TMPFS_MIB as usize * 2 * 1024 * 1024) / (RECORDS_PER_REQUEST * VALUE_BYTES);
    let mut full_message = None;
    for _ in 0..max_requests {
        let (outcome, values) = produce(&r, seq).await;
        seq += RECORDS_PER_REQUEST as u64;
        match outcome {
            Outcome::Acked(offsets) => {
                let expected: Vec<u64> =
                    (acked.len() as u64..(acked.len() + RECORDS_PER_REQUEST) as u64).collect();
                assert_eq!(offsets, expected, "offsets while filling the disk");
                acked.extend(values);
            }
            Outcome::DiskFull(msg) => {
                full_message = Some(msg);
                break;
            }
        }
    }
    let Some(msg) = full_message else {
        panic!(
            "{max_requests} requests of 128 KiB never filled a {TMPFS_MIB} MiB tmpfs:\n{}",
            ns.df()
        );
    };
    eprintln!(
        "disk full after {} records: {msg}\n{}",
        acked.len(),
        ns.df()
    );
    assert!(
        acked.len() > 32,
        "the disk filled too early to mean anything"
    );

    // Still full: more attempts fail the same retriable way (or fit); the log never goes offline.
    for _ in 0..3 {
        let (outcome, values) = produce(&r, seq).await;
        seq += RECORDS_PER_REQUEST as u64;
        if let Outcome::Acked(offsets) = outcome {
            assert_eq!(offsets[0], acked.len() as u64);
            acked.extend(values);
        }
    }

    // The server is up and serves every acknowledged record, once, in order.
    assert!(r.is_running(), "the server exited on a full disk");
    let (status, _) = r.get_json("/health").await;
    assert_eq!(status, 200, "/health on a full disk");
    assert_log_is(&r, &acked, "disk full").await;

    // Free the ballast: produce works again, at the next offsets, across segment rolls.
    ns.run(&["rm", &mnt_root.path().join("ballast").to_string_lossy()]);
    for _ in 0..12 {
        let (outcome, values) = produce(&r, seq).await;
        seq += RECORDS_PER_REQUEST as u64;
        match outcome {
            Outcome::Acked(offsets) => {
                assert_eq!(
                    offsets[0],
                    acked.len() as u64,
                    "the first offset after freeing space follows the acknowledged ones"
                );
                acked.extend(values);
            }
            Outcome::DiskFull(msg) => panic!(
                "produce still fails after freeing {BALLAST_MIB} MiB: {msg}\n{}",
                ns.df()
            ),
        }
    }
    assert_log_is(&r, &acked, "after freeing space").await;

    // Restarts inside the same namespace (the tmpfs lives as long as it does).
    r.crash_restart().await;
    assert_log_is(&r, &acked, "after kill -9").await;
    r.restart().await;
    assert_log_is(&r, &acked, "after a graceful restart").await;
    let (outcome, _) = produce(&r, seq).await;
    match outcome {
        Outcome::Acked(offsets) => assert_eq!(offsets[0], acked.len() as u64),
        Outcome::DiskFull(msg) => panic!("produce after restart: {msg}"),
    }
    r.assert_no_panic();
}
