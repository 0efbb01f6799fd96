//! `runnel audit [--topic T]`: the delivery audit for people (a table) or as JSON. Without a
//! topic, one row per audited topic (its last complete window and open problems); with one,
//! one row per window (its status, each tier's count, its problems).

use std::collections::BTreeSet;
use std::io::Write;

use runnel_openapi::audit::{AuditSummary, AuditWindow, AuditWindows};

use super::write_table;
use crate::cli::OutputFormat;
use crate::cli::client::Client;

/// Runs `runnel audit` against `client`, writing to `out`.
///
/// # Errors
/// The server cannot be reached or answers an error; writing failed.
pub async fn run<W: Write + ?Sized>(
    client: &Client,
    topic: Option<&str>,
    output: OutputFormat,
    out: &mut W,
) -> anyhow::Result<()> {
    match (topic, output) {
        (None, OutputFormat::Json) => json(out, &client.audit_summary().await?)?,
        (None, OutputFormat::Table) => print_summary(out, &client.audit_summary().await?)?,
        (Some(t), OutputFormat::Json) => json(out, &client.audit_windows(t).await?)?,
        (Some(t), OutputFormat::Table) => print_windows(out, &client.audit_windows(t).await?)?,
    }
    Ok(())
}

fn json<W: Write + ?Sized, T: serde::Serialize>(out: &mut W, value: &T) -> anyhow::Result<()> {
    serde_json::to_writer_pretty(&mut *out, value)?;
    writeln!(out)?;
    Ok(())
}

fn print_summary<W: Write + ?Sized>(out: &mut W, s: &AuditSummary) -> std::io::Result<()> {
    let rows: Vec<Vec<String>> = s
        .topics
        .iter()
        .map(|t| {
            let problems: Vec<String> = t
                .open_problems
                .iter()
                .map(|(kind, n)| format!("{kind} {n}"))
                .collect();
            vec![
                t.topic.clone(),
                t.last_complete_window
                    .map_or_else(|| "-".to_owned(), |w| w.to_string()),
                if problems.is_empty() {
                    "none".to_owned()
                } else {
                    problems.join(", ")
                },
            ]
        })
        .collect();
    write_table(out, &["TOPIC", "LAST COMPLETE WINDOW", "PROBLEMS"], &rows)
}

/// One column per tier any window has, in the API's order (client, groups, ingress, log).
fn print_windows<W: Write + ?Sized>(out: &mut W, w: &AuditWindows) -> std::io::Result<()> {
    let tiers: BTreeSet<&str> = w
        .windows
        .iter()
        .flat_map(|w| w.tiers.keys().map(String::as_str))
        .collect();
    let mut headers = vec!["WINDOW START", "STATUS"];
    headers.extend(tiers.iter().copied());
    headers.push("PROBLEMS");
    let rows: Vec<Vec<String>> = w
        .windows
        .iter()
        .map(|window| {
            let mut row = vec![
                window
                    .window_start
                    .map_or_else(|| "no time".to_owned(), |s| s.to_string()),
                window.status.clone(),
            ];
            row.extend(tiers.iter().map(|t| {
                window
                    .tiers
                    .get(*t)
                    .map_or_else(|| "-".to_owned(), |c| c.count.to_string())
            }));
            row.push(problems(window));
            row
        })
        .collect();
    write_table(out, &headers, &rows)
}

/// `gap 10 log p0 5-14; lagging 3 group:g p1` and so on.
fn problems(w: &AuditWindow) -> String {
    if w.problems.is_empty() {
        return "-".to_owned();
    }
    w.problems
        .iter()
        .map(|p| {
            let mut text = format!("{} {} {}", p.kind, p.count, p.tier);
            if let Some(partition) = p.partition {
                text.push_str(&format!(" p{partition}"));
            }
            if let (Some(from), Some(to)) = (p.offset_from, p.offset_to) {
                text.push_str(&format!(" {from}-{to}"));
            }
            if let Some(reporter) = &p.reporter {
                text.push_str(&format!(" ({reporter})"));
            }
            text
        })
        .collect::<Vec<_>>()
        .join("; ")
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use runnel_openapi::audit::{AuditProblem, TierCount, TopicAuditSummary};

    use super::*;

    fn count(n: u64) -> TierCount {
        TierCount {
            count: n,
            checksum: "0".to_owned(),
        }
    }

    #[test]
    fn windows_print_a_column_per_tier_and_their_problems() {
        let windows = AuditWindows {
            windows: vec![AuditWindow {
                topic: "t".to_owned(),
                window_start: Some(60_000),
                window_end: Some(120_000),
                status: "gap".to_owned(),
                tiers: BTreeMap::from([
                    ("client".to_owned(), count(1000)),
                    ("ingress".to_owned(), count(990)),
                    ("log".to_owned(), count(990)),
                ]),
                problems: vec![AuditProblem {
                    kind: "gap".to_owned(),
                    tier: "client".to_owned(),
                    partition: None,
                    offset_from: None,
                    offset_to: None,
                    count: 10,
                    reporter: Some("app-1".to_owned()),
                }],
            }],
        };
        let mut out = Vec::new();
        print_windows(&mut out, &windows).unwrap();
        let text = String::from_utf8(out).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert!(lines[0].starts_with("WINDOW START"), "{text}");
        assert!(
            lines[0].contains("client") && lines[0].ends_with("PROBLEMS"),
            "{text}"
        );
        assert!(lines[1].contains("60000"), "{text}");
        assert!(
            lines[1].contains("1000") && lines[1].contains("990"),
            "{text}"
        );
        assert!(lines[1].ends_with("gap 10 client (app-1)"), "{text}");
    }

    #[test]
    fn the_summary_prints_one_row_per_topic() {
        let summary = AuditSummary {
            topics: vec![
                TopicAuditSummary {
                    topic: "a".to_owned(),
                    last_complete_window: Some(60_000),
                    open_problems: BTreeMap::new(),
                },
                TopicAuditSummary {
                    topic: "b".to_owned(),
                    last_complete_window: None,
                    open_problems: BTreeMap::from([("gap".to_owned(), 2)]),
                },
            ],
        };
        let mut out = Vec::new();
        print_summary(&mut out, &summary).unwrap();
        let text = String::from_utf8(out).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 3, "{text}");
        assert!(
            lines[1].starts_with('a') && lines[1].ends_with("none"),
            "{text}"
        );
        assert!(lines[2].ends_with("gap 2"), "{text}");
    }
}
