//! Recovery: torn tails and bit flips cut at the first invalid batch, damaged indexes rebuilt
//! after a clean shutdown, and the recovery regressions.

use super::*;

type Batch = (BatchHeader, usize, Vec<Record>);

/// A crashed log (dropped without `close`): a sealed segment of two batches and an active one of
/// three, in every codec. Returns its directory and its batches.
fn crashed_log(config: &LogConfig) -> (tempfile::TempDir, Vec<Batch>) {
    let dir = tempfile::tempdir().unwrap();
    let mut log = Log::open(dir.path(), config.clone(), false, T0).unwrap();
    let codecs = [
        Compression::Gzip,
        Compression::None,
        Compression::Lz4,
        Compression::Zstd,
        Compression::None,
    ];
    for (i, codec) in codecs.into_iter().enumerate() {
        let base = log.log_end_offset();
        let recs: Vec<NewRecord> = (0..2)
            .map(|j| {
                let o = base + j;
                rec(
                    Some(&format!("k{o}")),
                    Some(&"v".repeat(5 + i)),
                    T0 + o as i64,
                )
            })
            .collect();
        append(&mut log, &recs, codec, T0);
        if i == 1 {
            log.roll().unwrap();
        }
    }
    let batches = read_all(&log);
    assert_eq!(batches.len(), 5);
    assert_eq!(log.segment_count(), 2);
    drop(log);
    (dir, batches)
}

/// Copies `template`, damages the active segment's `.log` with `damage`, and checks that
/// recovery keeps exactly the first `keep` batches: end offset, reads and indexes agree, a second
/// recovery changes nothing, and the next append gets the next offset.
fn check_recovery(
    template: &Path,
    config: &LogConfig,
    all: &[Batch],
    keep: usize,
    label: &str,
    damage: impl FnOnce(&Path),
) {
    let dir = tempfile::tempdir().unwrap();
    copy_dir(template, dir.path());
    let active = *log_files(dir.path()).last().unwrap();
    damage(&dir.path().join(segment::file_name(active, "log")));
    let end = all[keep - 1].0.next_offset();

    let log = Log::open(dir.path(), config.clone(), false, T0)
        .unwrap_or_else(|e| panic!("{label}: recovery failed: {e}"));
    assert_eq!(log.log_end_offset(), end, "{label}: log end offset");
    assert_eq!(read_all(&log), all[..keep], "{label}: batches kept");
    check_indexes(&log);
    drop(log);

    let sizes = file_sizes(dir.path());
    let mut log = Log::open(dir.path(), config.clone(), false, T0).unwrap();
    assert_eq!(
        file_sizes(dir.path()),
        sizes,
        "{label}: a second recovery changes files"
    );
    assert_eq!(log.log_end_offset(), end, "{label}: second recovery");
    check_indexes(&log);
    let info = append(
        &mut log,
        &[rec(None, Some("after"), T0)],
        Compression::None,
        T0,
    );
    assert_eq!(info.base_offset, end, "{label}: next append");
    assert_eq!(read_all(&log).len(), keep + 1, "{label}");
    check_indexes(&log);
}

/// Where the last batch starts in the active segment file, and its length.
fn last_batch_span(all: &[Batch]) -> (u64, usize) {
    let last = all.last().unwrap().1;
    let active_len: usize = all[2..].iter().map(|b| b.1).sum();
    ((active_len - last) as u64, last)
}

fn edit_file(path: &Path, edit: impl FnOnce(&mut Vec<u8>)) {
    let mut bytes = std::fs::read(path).unwrap();
    edit(&mut bytes);
    std::fs::write(path, bytes).unwrap();
}

/// Deterministic pseudo-random bytes.
fn noise(seed: u32, len: usize) -> Vec<u8> {
    let mut x = seed | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            (x >> 8) as u8
        })
        .collect()
}

#[test]
fn torn_tail_every_cut_point_of_the_last_batch() {
    let config = small_config();
    let (template, all) = crashed_log(&config);
    let (start, len) = last_batch_span(&all);
    for cut in start..start + len as u64 {
        check_recovery(
            template.path(),
            &config,
            &all,
            4,
            &format!("cut at {cut}"),
            |p| {
                let f = std::fs::OpenOptions::new().write(true).open(p).unwrap();
                f.set_len(cut).unwrap();
            },
        );
    }
    check_recovery(template.path(), &config, &all, 5, "no damage", |_| {});
}

#[test]
fn torn_tail_bit_flips_in_the_last_batch() {
    let config = small_config();
    let (template, all) = crashed_log(&config);
    let (start, len) = last_batch_span(&all);
    let base = all[4].0.base_offset;
    let mut flips: Vec<(usize, u8)> = Vec::new();
    // Base offset (not under the CRC): flips that move it backwards, or beyond the 32-bit range
    // a segment's relative offsets can hold, are damage. A flip that moves it forwards by less
    // cannot be told from a gap left by compaction, as in Kafka.
    for bit in 0..64u32 {
        if base & (1 << bit) != 0 || bit >= 32 {
            flips.push((7 - bit as usize / 8, 1 << (bit % 8)));
        }
    }
    // Every bit of the length field.
    for byte in 8..12 {
        for bit in 0..8 {
            flips.push((byte, 1 << bit));
        }
    }
    // One bit of every other byte after the leader epoch (which, like the base offset, is
    // outside the CRC and not checked): magic, CRC, attributes, the fixed fields and records.
    for byte in 16..len {
        flips.push((byte, 1 << (byte % 8)));
    }
    for (byte, mask) in flips {
        let label = format!("flip {mask:#04x} at byte {byte}");
        check_recovery(template.path(), &config, &all, 4, &label, |p| {
            edit_file(p, |b| b[start as usize + byte] ^= mask);
        });
    }
    let mut flipped = all.clone();
    flipped[4].0.leader_epoch ^= 0x10 << 16;
    check_recovery(
        template.path(),
        &config,
        &flipped,
        5,
        "a leader epoch flip is kept",
        |p| {
            edit_file(p, |b| b[start as usize + 13] ^= 0x10);
        },
    );
}

#[test]
fn torn_tail_garbage_after_the_last_batch_is_cut() {
    let config = small_config();
    let (template, all) = crashed_log(&config);
    for (seed, len) in [(1, 1), (2, 11), (3, 12), (4, 61), (5, 500), (6, 5000)] {
        check_recovery(
            template.path(),
            &config,
            &all,
            5,
            &format!("{len} bytes of garbage"),
            |p| {
                edit_file(p, |b| b.extend(noise(seed, len)));
            },
        );
    }
    check_recovery(template.path(), &config, &all, 5, "zeros", |p| {
        edit_file(p, |b| b.extend([0u8; 4096]));
    });
    // A copy of the last batch's header alone: a batch that never finished.
    let (start, _) = last_batch_span(&all);
    check_recovery(template.path(), &config, &all, 5, "a lone header", |p| {
        edit_file(p, |b| {
            let head = b[start as usize..start as usize + batch::HEADER_LEN].to_vec();
            b.extend(head);
        });
    });
}

#[test]
fn torn_tail_after_a_clean_shutdown_is_cut_too() {
    let config = small_config();
    let dir = tempfile::tempdir().unwrap();
    let mut log = Log::open(dir.path(), config.clone(), false, T0).unwrap();
    fill(&mut log, 4, 2, T0);
    let all = read_all(&log);
    log.close(T0).unwrap();
    drop(log);
    let path = dir.path().join(segment::file_name(0, "log"));
    edit_file(&path, |b| b.extend(noise(9, 100)));
    let log = Log::open(dir.path(), config, true, T0).unwrap();
    assert_eq!(read_all(&log), all);
    assert_eq!(log.log_end_offset(), 8);
    check_indexes(&log);
}

#[test]
fn torn_tail_length_field_gigabytes_past_the_end() {
    // With the default limit the length is impossible; with a huge limit it is a batch that
    // never finished. Either way it is cut, and nothing of that size is allocated.
    for max_message_bytes in [
        LogConfig::default().max_message_bytes,
        i32::MAX as usize - 100,
    ] {
        let config = LogConfig {
            max_message_bytes,
            ..small_config()
        };
        let (template, all) = crashed_log(&config);
        let (start, _) = last_batch_span(&all);
        for len in [0x4000_0000u32, 0x7fff_0000, u32::MAX] {
            let label = format!("length {len:#x}, limit {max_message_bytes}");
            check_recovery(template.path(), &config, &all, 4, &label, |p| {
                edit_file(p, |b| {
                    b[start as usize + 8..start as usize + 12].copy_from_slice(&len.to_be_bytes());
                });
            });
        }
    }
}

/// A cleanly closed log of four segments; returns its directory and batches.
fn closed_log(config: &LogConfig) -> (tempfile::TempDir, Vec<Batch>) {
    let dir = tempfile::tempdir().unwrap();
    let mut log = Log::open(dir.path(), config.clone(), false, T0).unwrap();
    for i in 0..4 {
        fill(&mut log, 6, 3, T0 + i * 1000);
        log.roll().unwrap();
    }
    fill(&mut log, 6, 3, T0 + 5000);
    assert!(log.segment_count() >= 4);
    let all = read_all(&log);
    log.close(T0).unwrap();
    (dir, all)
}

/// Opens a damaged copy of a closed log after a clean shutdown and checks it reads, looks up
/// and appends as the original did.
fn check_clean_open(
    template: &Path,
    config: &LogConfig,
    all: &[Batch],
    label: &str,
    damage: impl FnOnce(&Path, &[u64]),
) {
    let dir = tempfile::tempdir().unwrap();
    copy_dir(template, dir.path());
    damage(dir.path(), &log_files(dir.path()));
    // The data directory's marker says the shutdown was clean.
    let data_dir = tempfile::tempdir().unwrap();
    marker::write(data_dir.path()).unwrap();
    let clean = marker::take(data_dir.path()).unwrap();
    assert!(clean);
    let mut log = Log::open(dir.path(), config.clone(), clean, T0)
        .unwrap_or_else(|e| panic!("{label}: open failed: {e}"));
    let end = all.last().unwrap().0.next_offset();
    assert_eq!(log.log_end_offset(), end, "{label}");
    assert_eq!(read_all(&log), all, "{label}: reads");
    check_indexes(&log);
    for (h, _, recs) in all {
        for r in recs {
            let found = log.offset_for_timestamp(r.timestamp).unwrap();
            assert_eq!(found, Some((r.offset, r.timestamp)), "{label}: time lookup");
        }
        // Reads at every offset start at its batch.
        for o in h.base_offset..=h.last_offset() {
            let got = decode_batches(&log.read(o, 1, end).unwrap(), usize::MAX);
            assert_eq!(got[0].0.base_offset, h.base_offset, "{label}: read at {o}");
        }
    }
    let info = append(&mut log, &[rec(None, Some("x"), T0)], Compression::None, T0);
    assert_eq!(info.base_offset, end, "{label}");
    check_indexes(&log);
}

#[test]
fn corrupt_indexes_after_a_clean_shutdown_are_rebuilt() {
    let config = LogConfig {
        index_interval_bytes: 0,
        ..small_config()
    };
    let (template, all) = closed_log(&config);
    let n = log_files(template.path()).len();
    for (which, target) in [("sealed", 1usize), ("active", n - 1), ("first", 0)] {
        let idx =
            |dir: &Path, bases: &[u64], ext: &str| dir.join(segment::file_name(bases[target], ext));
        for ext in ["index", "timeindex"] {
            let label = format!("{which} {ext}: random bytes");
            check_clean_open(template.path(), &config, &all, &label, |dir, bases| {
                let p = idx(dir, bases, ext);
                let len = std::fs::metadata(&p).unwrap().len() as usize;
                std::fs::write(&p, noise(target as u32 + 7, len)).unwrap();
            });
            let label = format!("{which} {ext}: random bytes of another length");
            check_clean_open(template.path(), &config, &all, &label, |dir, bases| {
                std::fs::write(idx(dir, bases, ext), noise(3, 1000)).unwrap();
            });
            let label = format!("{which} {ext}: missing");
            check_clean_open(template.path(), &config, &all, &label, |dir, bases| {
                std::fs::remove_file(idx(dir, bases, ext)).unwrap();
            });
            let label = format!("{which} {ext}: empty");
            check_clean_open(template.path(), &config, &all, &label, |dir, bases| {
                std::fs::write(idx(dir, bases, ext), []).unwrap();
            });
            let label = format!("{which} {ext}: longer than the log");
            check_clean_open(template.path(), &config, &all, &label, |dir, bases| {
                edit_file(&idx(dir, bases, ext), |b| {
                    // Entries that keep growing but point past the log's end.
                    let entry = b.len() - if ext == "index" { 8 } else { 12 };
                    let mut last = b[entry..].to_vec();
                    for _ in 0..4 {
                        for x in last.iter_mut().rev() {
                            *x = x.wrapping_add(0x40);
                            if *x >= 0x40 {
                                break;
                            }
                        }
                        b.extend(&last);
                    }
                });
            });
            let label = format!("{which} {ext}: zero-filled tail");
            check_clean_open(template.path(), &config, &all, &label, |dir, bases| {
                edit_file(&idx(dir, bases, ext), |b| b.extend([0u8; 96]));
            });
        }
        let label = format!("{which} index: last entry inside a batch");
        check_clean_open(template.path(), &config, &all, &label, |dir, bases| {
            edit_file(&idx(dir, bases, "index"), |b| {
                let at = b.len() - 1;
                b[at] = b[at].wrapping_add(1);
            });
        });
        let label = format!("{which} index: an entry names the wrong offset");
        check_clean_open(template.path(), &config, &all, &label, |dir, bases| {
            edit_file(&idx(dir, bases, "index"), |b| {
                let at = b.len() - 5;
                b[at] = b[at].wrapping_add(1);
            });
        });
    }
}

/// Opening a log after a crash counted every preallocated slot of the active segment's indexes
/// as an entry and reserved room for one more, so each unclean restart grew both index files.
#[test]
fn regression_unclean_reopen_does_not_grow_index_files() {
    let dir = tempfile::tempdir().unwrap();
    let config = small_config();
    let mut log = open(dir.path(), &config, false);
    fill(&mut log, 3, 2, T0);
    drop(log);
    drop(open(dir.path(), &config, false));
    let sizes = file_sizes(dir.path());
    for _ in 0..3 {
        drop(open(dir.path(), &config, false));
        assert_eq!(file_sizes(dir.path()), sizes);
    }
}

/// After a clean shutdown a missing or emptied index passed the sanity check, so the segment
/// had no offset-index entries and no maximum timestamp: time lookups skipped it and time
/// retention never deleted it.
#[test]
fn regression_missing_time_index_is_rebuilt_after_a_clean_shutdown() {
    let dir = tempfile::tempdir().unwrap();
    let config = LogConfig {
        retention_ms: Some(HOUR),
        ..small_config()
    };
    let mut log = open(dir.path(), &config, false);
    one_batch_segments(&mut log, 1, T0 - 2 * HOUR);
    fill(&mut log, 1, 3, T0);
    log.close(T0).unwrap();
    std::fs::remove_file(dir.path().join(segment::file_name(0, "timeindex"))).unwrap();
    std::fs::remove_file(dir.path().join(segment::file_name(0, "index"))).unwrap();
    let mut log = open(dir.path(), &config, true);
    assert_eq!(
        log.offset_for_timestamp(T0 - 3 * HOUR).unwrap(),
        Some((0, T0 - 2 * HOUR))
    );
    check_indexes(&log);
    assert_eq!(log.apply_retention(T0).unwrap(), 1);
}

/// The base offset is not covered by the CRC. A flipped high bit made recovery accept the last
/// batch at an offset billions past the log, and the log end offset jumped with it.
#[test]
fn regression_recovery_rejects_a_base_offset_past_the_segment_range() {
    let dir = tempfile::tempdir().unwrap();
    let config = small_config();
    let mut log = open(dir.path(), &config, false);
    fill(&mut log, 2, 2, T0);
    let second = read_all(&log)[0].1;
    drop(log);
    edit_file(&dir.path().join(segment::file_name(0, "log")), |b| {
        b[second + 3] ^= 1
    });
    let log = open(dir.path(), &config, false);
    assert_eq!(log.log_end_offset(), 2);
}

/// Recovery sized its read buffer by `max.message.bytes` rather than by the file, so a log
/// configured for huge messages allocated that much for every segment it scanned.
#[test]
fn regression_recovery_buffer_is_bounded_by_the_file() {
    let config = LogConfig {
        max_message_bytes: 1 << 40,
        ..small_config()
    };
    let (template, all) = crashed_log(&config);
    let (start, _) = last_batch_span(&all);
    check_recovery(template.path(), &config, &all, 4, "huge limit", |p| {
        edit_file(p, |b| {
            b[start as usize + 8..start as usize + 12]
                .copy_from_slice(&0x7fff_0000u32.to_be_bytes());
        });
    });
}
