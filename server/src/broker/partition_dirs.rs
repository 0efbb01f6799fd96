//! Partition directories and which topic incarnation owns each.
//!
//! Every partition directory `<data>/topics/<topic>-<partition>/` holds `partition.metadata`
//! (Kafka's file name and text format: `version: 0` and `topic_id: <id>` lines) naming the topic
//! incarnation it belongs to. That makes the metadata commit the one step that creates or
//! deletes a topic: at start-up, [`sweep`] removes a directory only when its id names no live
//! topic (a deleted topic whose files were not yet removed, or a create interrupted before its
//! commit), adopts a live topic's directory that has no id (data written before ids existed),
//! and moves a directory it cannot place, with records in it, to `<data>/orphaned/` instead of
//! deleting it. Nothing here ever deletes the records of a topic the metadata names.
//!
//! The id file is written without fsync: after a crash it may be missing or empty, and a
//! directory without an id takes the conservative paths above (adopted, or moved aside).
//!
//! Not owned here: the metadata file itself (`broker/mod.rs`), the log inside (`log/`).

use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use tracing::{info, warn};

/// File in each partition directory naming its topic's id.
const ID_FILE: &str = "partition.metadata";
/// Where directories that no topic owns but that hold records are kept for the operator.
const ORPHANED_DIR: &str = "orphaned";

/// Directory name of a partition: `<topic>-<partition>`, as Kafka's.
pub(super) fn dir_name(topic: &str, partition: u32) -> String {
    format!("{topic}-{partition}")
}

/// Records `topic_id` as the owner of partition directory `dir`.
///
/// # Errors
/// I/O errors (the caller fails the create; nothing is committed yet).
pub(super) fn write_topic_id(dir: &Path, topic_id: &str) -> std::io::Result<()> {
    let path = dir.join(ID_FILE);
    let tmp = dir.join(format!("{ID_FILE}.tmp"));
    let mut f = std::fs::File::create(&tmp)?;
    f.write_all(format!("version: 0\ntopic_id: {topic_id}\n").as_bytes())?;
    drop(f);
    std::fs::rename(&tmp, &path)
}

/// The topic id recorded in `dir`, if a whole one is there.
fn read_topic_id(dir: &Path) -> Option<String> {
    let text = std::fs::read_to_string(dir.join(ID_FILE)).ok()?;
    let mut lines = text.lines();
    (lines.next()? == "version: 0").then_some(())?;
    let id = lines.next()?.strip_prefix("topic_id: ")?;
    (!id.is_empty()).then(|| id.to_owned())
}

/// Whether any segment of `dir` holds bytes.
fn holds_records(dir: &Path) -> bool {
    let Ok(entries) = std::fs::read_dir(dir) else {
        // Unreadable: treat as precious.
        return true;
    };
    entries.flatten().any(|e| {
        e.path().extension().is_some_and(|x| x == "log") && e.metadata().is_ok_and(|m| m.len() > 0)
    })
}

/// Removes a leftover partition directory at `dir` before a topic of the same name takes it.
/// The name is not a live topic's (the caller holds the metadata lock), so whatever is there
/// belongs to a deleted incarnation whose removal failed earlier.
///
/// # Errors
/// I/O errors: the create must fail rather than adopt the old records.
pub(super) fn clear_leftover(dir: &Path) -> std::io::Result<()> {
    match std::fs::remove_dir_all(dir) {
        Ok(()) => {
            warn!(dir = %dir.display(), "removed a deleted topic's leftover partition directory");
            Ok(())
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(e),
    }
}

/// Puts every directory under `topics_dir` in order before the logs open (see the module
/// docs). `live` maps each partition directory the metadata names to its topic's id.
pub(super) fn sweep(data_dir: &Path, topics_dir: &Path, live: &BTreeMap<String, String>) {
    let Ok(entries) = std::fs::read_dir(topics_dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if !path.is_dir() {
            continue;
        }
        let Some(name) = entry.file_name().to_str().map(str::to_owned) else {
            continue;
        };
        match (live.get(&name), read_topic_id(&path)) {
            (Some(live_id), Some(id)) if *live_id == id => {}
            (Some(live_id), None) => {
                if let Err(e) = write_topic_id(&path, live_id) {
                    warn!(dir = %path.display(), cause = %e, "could not record the partition's topic id");
                }
            }
            (Some(live_id), Some(_)) => {
                // A deleted incarnation under a live topic's name: the live one starts empty.
                remove(&path, "a deleted topic's partition");
                let recreated =
                    std::fs::create_dir_all(&path).and_then(|()| write_topic_id(&path, live_id));
                if let Err(e) = recreated {
                    warn!(dir = %path.display(), cause = %e, "could not record the partition's topic id");
                }
            }
            (None, Some(_)) => remove(&path, "a deleted topic's partition"),
            (None, None) if !holds_records(&path) => {
                remove(&path, "an empty partition no topic owns")
            }
            (None, None) => move_aside(data_dir, &path, &name),
        }
    }
}

fn remove(path: &Path, what: &str) {
    info!(dir = %path.display(), "removing {what}");
    if let Err(e) = std::fs::remove_dir_all(path) {
        warn!(dir = %path.display(), cause = %e, "could not remove it; trying again at the next start");
    }
}

/// Keeps records no topic owns where the operator can look at them, instead of deleting them.
fn move_aside(data_dir: &Path, path: &Path, name: &str) {
    let target_dir = data_dir.join(ORPHANED_DIR);
    let target: PathBuf = target_dir.join(format!("{name}.{}", super::now_ms()));
    let moved = std::fs::create_dir_all(&target_dir).and_then(|()| std::fs::rename(path, &target));
    match moved {
        Ok(()) => warn!(
            from = %path.display(),
            to = %target.display(),
            "a partition directory with records belongs to no topic; moved aside, not deleted"
        ),
        Err(e) => {
            warn!(dir = %path.display(), cause = %e, "could not move an unowned partition directory aside")
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, reason = "tests fail loudly on purpose")]
mod tests {
    use super::*;

    fn partition_dir(topics: &Path, name: &str, id: Option<&str>, records: bool) -> PathBuf {
        let dir = topics.join(name);
        std::fs::create_dir_all(&dir).unwrap();
        let bytes: &[u8] = if records { b"batch" } else { b"" };
        std::fs::write(dir.join("00000000000000000000.log"), bytes).unwrap();
        if let Some(id) = id {
            write_topic_id(&dir, id).unwrap();
        }
        dir
    }

    #[test]
    fn sweep_removes_only_what_no_live_topic_owns() {
        let root = tempfile::tempdir().unwrap();
        let topics = root.path().join("topics");
        let live_dir = partition_dir(&topics, "t-0", Some("A"), true);
        let adopted = partition_dir(&topics, "t-1", None, true);
        let stale = partition_dir(&topics, "u-0", Some("OLD"), true);
        let deleted = partition_dir(&topics, "gone-0", Some("B"), true);
        let empty = partition_dir(&topics, "empty-0", None, false);
        let unknown = partition_dir(&topics, "unknown-0", None, true);
        let live = BTreeMap::from([
            ("t-0".to_owned(), "A".to_owned()),
            ("t-1".to_owned(), "A".to_owned()),
            ("u-0".to_owned(), "NEW".to_owned()),
        ]);

        sweep(root.path(), &topics, &live);

        assert!(live_dir.is_dir());
        assert_eq!(read_topic_id(&adopted).as_deref(), Some("A"));
        assert!(!holds_records(&stale), "a deleted incarnation's records go");
        assert_eq!(read_topic_id(&stale).as_deref(), Some("NEW"));
        assert!(!deleted.exists());
        assert!(!empty.exists());
        assert!(!unknown.exists(), "moved out of topics/");
        let aside: Vec<_> = std::fs::read_dir(root.path().join(ORPHANED_DIR))
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        assert_eq!(aside.len(), 1);
        assert!(aside[0].starts_with("unknown-0."), "{aside:?}");
    }

    #[test]
    fn a_torn_id_file_reads_as_no_id() {
        let root = tempfile::tempdir().unwrap();
        let dir = partition_dir(root.path(), "t-0", None, false);
        std::fs::write(dir.join(ID_FILE), "version: 0\ntopic_").unwrap();
        assert_eq!(read_topic_id(&dir), None);
        std::fs::write(dir.join(ID_FILE), "").unwrap();
        assert_eq!(read_topic_id(&dir), None);
    }
}
