//! The records of the `_schemas` log, in Confluent's own JSON layouts, so the topic reads like
//! a Confluent registry's:
//!
//! | key | value (`null` = tombstone) |
//! |---|---|
//! | `{"keytype":"SCHEMA","subject":"t-value","version":1,"magic":1}` | `{"subject","version","id","schemaType","references","schema","deleted"}`; null = permanently deleted |
//! | `{"keytype":"CONFIG","subject":null\|"s","magic":0}` | `{"compatibilityLevel":"FULL"}`; null = config removed |
//! | `{"keytype":"MODE","subject":null\|"s","magic":0}` | `{"mode":"READONLY"}`; null = mode removed |
//! | `{"keytype":"DELETE_SUBJECT","subject":"s","magic":0}` | `{"subject":"s","version":3}`: versions ≤ 3 are soft-deleted; null once the subject is permanently deleted |
//! | `{"keytype":"NOOP","magic":0}` | `{"maxId":42}` (our extension): the largest id ever handed out |
//!
//! The `NOOP` record exists because ids must never be reused: the largest id is otherwise
//! known only from the `SCHEMA` records, and a permanent delete tombstones those. Every
//! permanent delete therefore first writes the current largest id under the one `NOOP` key,
//! which compaction keeps (its value is never null).
//!
//! Keys are serialized deterministically (fixed field order), because compaction compares
//! their bytes. Unknown key types (Confluent's `CLEAR_SUBJECT`, `CONTEXT`, ...) decode as
//! [`Record::Unknown`] and are skipped.

use bytes::Bytes;
use serde::{Deserialize, Serialize};

use crate::store::StoreRecord;

/// A schema reference: a named type defined by another subject's version.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Reference {
    /// The full name of the type the referencing schema uses.
    pub name: String,
    pub subject: String,
    pub version: i32,
}

/// A `SCHEMA` value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SchemaValue {
    pub subject: String,
    pub version: i32,
    pub id: i32,
    #[serde(default = "avro")]
    pub schema_type: String,
    #[serde(default)]
    pub references: Vec<Reference>,
    pub schema: String,
    #[serde(default)]
    pub deleted: bool,
}

fn avro() -> String {
    "AVRO".to_owned()
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ConfigValue {
    compatibility_level: String,
}

#[derive(Debug, Serialize, Deserialize)]
struct ModeValue {
    mode: String,
}

#[derive(Debug, Serialize, Deserialize)]
struct DeleteSubjectValue {
    subject: String,
    version: i32,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct NoopValue {
    max_id: i32,
}

/// A decoded record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Record {
    /// A version of a subject; `None` when permanently deleted.
    Schema {
        subject: String,
        version: i32,
        value: Option<SchemaValue>,
    },
    /// The global (`subject: None`) or a subject's compatibility level, as spelled; `None`
    /// when removed.
    Config {
        subject: Option<String>,
        level: Option<String>,
    },
    /// The global or a subject's mode, as spelled; `None` when removed.
    Mode {
        subject: Option<String>,
        mode: Option<String>,
    },
    /// A soft delete of every version up to `up_to`; `None` when cleared.
    DeleteSubject { subject: String, up_to: Option<i32> },
    /// The largest id ever handed out.
    MaxId(i32),
    /// A key type this registry does not use.
    Unknown(String),
}

#[derive(Debug, Deserialize)]
struct KeyIn {
    keytype: String,
    #[serde(default)]
    subject: Option<String>,
    #[serde(default)]
    version: Option<i32>,
}

/// A key as Confluent writes it: `keytype` first, `magic` last, `subject` omitted only for
/// `NOOP` (and `null` for the global `CONFIG`/`MODE`).
fn key(keytype: &'static str, subject: Option<&str>, version: Option<i32>, magic: i32) -> Bytes {
    let mut out = format!("{{\"keytype\":\"{keytype}\"");
    if keytype != "NOOP" {
        out.push_str(",\"subject\":");
        out.push_str(&String::from_utf8_lossy(&json(&subject)));
    }
    if let Some(v) = version {
        out.push_str(&format!(",\"version\":{v}"));
    }
    out.push_str(&format!(",\"magic\":{magic}}}"));
    Bytes::from(out)
}

#[expect(
    clippy::expect_used,
    reason = "these structs of strings and ints always serialize"
)]
fn json<T: Serialize>(v: &T) -> Vec<u8> {
    serde_json::to_vec(v).expect("record serializes")
}

impl Record {
    /// The key and value bytes of this record.
    pub fn encode(&self) -> StoreRecord {
        match self {
            Record::Schema {
                subject,
                version,
                value,
            } => (
                key("SCHEMA", Some(subject), Some(*version), 1),
                value.as_ref().map(|v| Bytes::from(json(v))),
            ),
            Record::Config { subject, level } => (
                key("CONFIG", subject.as_deref(), None, 0),
                level.as_ref().map(|l| {
                    Bytes::from(json(&ConfigValue {
                        compatibility_level: l.clone(),
                    }))
                }),
            ),
            Record::Mode { subject, mode } => (
                key("MODE", subject.as_deref(), None, 0),
                mode.as_ref()
                    .map(|m| Bytes::from(json(&ModeValue { mode: m.clone() }))),
            ),
            Record::DeleteSubject { subject, up_to } => (
                key("DELETE_SUBJECT", Some(subject), None, 0),
                up_to.map(|version| {
                    Bytes::from(json(&DeleteSubjectValue {
                        subject: subject.clone(),
                        version,
                    }))
                }),
            ),
            Record::MaxId(max_id) => (
                key("NOOP", None, None, 0),
                Some(Bytes::from(json(&NoopValue { max_id: *max_id }))),
            ),
            Record::Unknown(keytype) => (Bytes::from(keytype.clone()), None),
        }
    }

    /// Decodes a stored record.
    ///
    /// # Errors
    /// A key or value that is not the JSON its key type needs.
    pub fn decode(key: &[u8], value: Option<&[u8]>) -> Result<Record, String> {
        let k: KeyIn = serde_json::from_slice(key).map_err(|e| format!("bad key: {e}"))?;
        fn val<'a, T: Deserialize<'a>>(v: Option<&'a [u8]>) -> Result<Option<T>, String> {
            v.map(|v| serde_json::from_slice(v).map_err(|e| format!("bad value: {e}")))
                .transpose()
        }
        let subject = |k: &KeyIn| {
            k.subject
                .clone()
                .ok_or_else(|| format!("{} key without a subject", k.keytype))
        };
        Ok(match k.keytype.as_str() {
            "SCHEMA" => Record::Schema {
                subject: subject(&k)?,
                version: k.version.ok_or("SCHEMA key without a version")?,
                value: val::<SchemaValue>(value)?,
            },
            "CONFIG" => Record::Config {
                subject: k.subject,
                level: val::<ConfigValue>(value)?.map(|c| c.compatibility_level),
            },
            "MODE" => Record::Mode {
                subject: k.subject,
                mode: val::<ModeValue>(value)?.map(|m| m.mode),
            },
            "DELETE_SUBJECT" => Record::DeleteSubject {
                subject: subject(&k)?,
                up_to: val::<DeleteSubjectValue>(value)?.map(|d| d.version),
            },
            "NOOP" => match val::<NoopValue>(value) {
                Ok(Some(v)) => Record::MaxId(v.max_id),
                // Confluent's own NOOP records carry no value.
                Ok(None) | Err(_) => Record::Unknown(k.keytype),
            },
            _ => Record::Unknown(k.keytype),
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn round_trip(r: Record) {
        let (k, v) = r.encode();
        assert_eq!(Record::decode(&k, v.as_deref()).unwrap(), r);
    }

    #[test]
    fn keys_are_confluents() {
        let (k, _) = Record::Schema {
            subject: "t-value".into(),
            version: 1,
            value: None,
        }
        .encode();
        assert_eq!(
            &k[..],
            br#"{"keytype":"SCHEMA","subject":"t-value","version":1,"magic":1}"#
        );
        let (k, v) = Record::Config {
            subject: None,
            level: Some("FULL".into()),
        }
        .encode();
        assert_eq!(&k[..], br#"{"keytype":"CONFIG","subject":null,"magic":0}"#);
        assert_eq!(&v.unwrap()[..], br#"{"compatibilityLevel":"FULL"}"#);
        let (k, _) = Record::MaxId(3).encode();
        assert_eq!(&k[..], br#"{"keytype":"NOOP","magic":0}"#);
    }

    #[test]
    fn every_record_round_trips() {
        round_trip(Record::Schema {
            subject: "s".into(),
            version: 2,
            value: Some(SchemaValue {
                subject: "s".into(),
                version: 2,
                id: 7,
                schema_type: "AVRO".into(),
                references: vec![Reference {
                    name: "a.B".into(),
                    subject: "b".into(),
                    version: 1,
                }],
                schema: "\"int\"".into(),
                deleted: true,
            }),
        });
        round_trip(Record::Config {
            subject: Some("s".into()),
            level: None,
        });
        round_trip(Record::Mode {
            subject: None,
            mode: Some("IMPORT".into()),
        });
        round_trip(Record::DeleteSubject {
            subject: "s".into(),
            up_to: Some(4),
        });
        round_trip(Record::MaxId(99));
    }

    #[test]
    fn garbage_is_an_error_or_unknown_never_a_panic() {
        assert!(Record::decode(b"", None).is_err());
        assert!(Record::decode(b"{\"keytype\":\"SCHEMA\"}", None).is_err());
        assert!(
            Record::decode(
                br#"{"keytype":"SCHEMA","subject":"s","version":1}"#,
                Some(b"[")
            )
            .is_err()
        );
        assert_eq!(
            Record::decode(br#"{"keytype":"CONTEXT","magic":0}"#, None).unwrap(),
            Record::Unknown("CONTEXT".into())
        );
    }
}
