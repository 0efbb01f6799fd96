//! Content negotiation, as Confluent's resources declare it with `@Produces`: every answer is
//! JSON under one of three media types, preferred in this order (Confluent's server-side
//! weights `qs` 1, 0.9 and 0.5): `application/vnd.schemaregistry.v1+json`,
//! `application/vnd.schemaregistry+json`, `application/json`.
//!
//! The `Accept` header picks one: the type the client weighs highest (`q`, default 1), ties
//! going to the one we prefer; a range (`*/*`, `application/*`) stands for every type it
//! covers, and a more specific entry overrides it (`*/*, application/json;q=0` never answers
//! `application/json`). No header, or an empty one, means the first. When nothing the client
//! accepts is one of ours, the answer is 406 with `{"error_code":406,"message":...}`.
//!
//! [`negotiate`] runs as a route layer on every registry route, before the handler, and sets the
//! `Content-Type` of whatever the handler answers (errors included). Not owned here: request
//! bodies' `Content-Type` (`SrBody` in `mod.rs`).

use axum::extract::Request;
use axum::http::header::{ACCEPT, CONTENT_TYPE};
use axum::http::{HeaderMap, HeaderValue};
use axum::middleware::Next;
use axum::response::{IntoResponse as _, Response};

use super::MEDIA_TYPE;
use crate::error::RegistryError;

/// The media types answers can take, most preferred first, with Confluent's weights (`qs`).
pub const ANSWER_TYPES: [(&str, f32); 3] = [
    (MEDIA_TYPE, 1.0),
    ("application/vnd.schemaregistry+json", 0.9),
    ("application/json", 0.5),
];

/// Longest `Accept` text quoted back in a 406 message.
const QUOTE_MAX_CHARS: usize = 100;

/// Refuses a request whose `Accept` names none of [`ANSWER_TYPES`] (406), and answers the
/// others under the type it asked for.
pub(super) async fn negotiate(request: Request, next: Next) -> Response {
    let Some(chosen) = choose(request.headers()) else {
        let accept = request
            .headers()
            .get_all(ACCEPT)
            .iter()
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
            .collect::<Vec<_>>()
            .join(", ");
        return RegistryError::NotAcceptable(accept.chars().take(QUOTE_MAX_CHARS).collect())
            .into_response();
    };
    let mut response = next.run(request).await;
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static(chosen));
    response
}

/// The media type to answer in, given the request's `Accept` headers; `None` when the client
/// accepts none of ours.
pub fn choose(headers: &HeaderMap) -> Option<&'static str> {
    let mut values = headers.get_all(ACCEPT).iter().peekable();
    if values.peek().is_none() {
        return Some(MEDIA_TYPE);
    }
    let mut ranges = Vec::new();
    for value in values {
        // A header that is not text names nothing we can answer in.
        let text = value.to_str().ok()?;
        ranges.extend(text.split(',').filter_map(MediaRange::parse));
    }
    if ranges.is_empty() {
        // `Accept:` with no entries is no preference at all.
        return Some(MEDIA_TYPE);
    }
    ANSWER_TYPES
        .iter()
        .filter_map(|(media_type, qs)| {
            let q = client_weight(&ranges, media_type)?;
            (q > 0.0).then_some((*media_type, q, *qs))
        })
        // Highest client weight, then our preference (`qs`, distinct for each type).
        .max_by(|a, b| a.1.total_cmp(&b.1).then(a.2.total_cmp(&b.2)))
        .map(|(media_type, _, _)| media_type)
}

/// The client's weight for `media_type`: that of the most specific range covering it (exact,
/// then `type/*`, then `*/*`), `None` when no range covers it.
fn client_weight(ranges: &[MediaRange<'_>], media_type: &str) -> Option<f32> {
    let (main, _) = media_type.split_once('/')?;
    ranges
        .iter()
        .filter_map(|r| {
            let specificity = if r.essence.eq_ignore_ascii_case(media_type) {
                2
            } else if r.essence.eq_ignore_ascii_case(&format!("{main}/*")) {
                1
            } else if r.essence == "*/*" {
                0
            } else {
                return None;
            };
            Some((specificity, r.q))
        })
        .max_by(|a, b| a.0.cmp(&b.0).then(a.1.total_cmp(&b.1)))
        .map(|(_, q)| q)
}

/// One entry of an `Accept` header: `type/subtype` and its weight.
#[derive(Debug, Clone, Copy)]
struct MediaRange<'a> {
    essence: &'a str,
    q: f32,
}

impl<'a> MediaRange<'a> {
    /// Parses `type/subtype;param=value;q=0.5`; entries without a `/` are skipped, and a `q`
    /// that is not a number in `0..=1` makes the entry unacceptable (weight 0).
    fn parse(entry: &'a str) -> Option<Self> {
        let mut parts = entry.split(';');
        let essence = parts.next()?.trim();
        if !essence.contains('/') {
            return None;
        }
        let mut q = 1.0;
        for param in parts {
            if let Some((name, value)) = param.split_once('=')
                && name.trim().eq_ignore_ascii_case("q")
            {
                q = value
                    .trim()
                    .parse::<f32>()
                    .ok()
                    .filter(|q| (0.0..=1.0).contains(q))
                    .unwrap_or(0.0);
            }
        }
        Some(MediaRange { essence, q })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chosen(accept: &[&str]) -> Option<&'static str> {
        let mut headers = HeaderMap::new();
        for a in accept {
            headers.append(ACCEPT, HeaderValue::from_str(a).expect("header"));
        }
        choose(&headers)
    }

    #[test]
    fn no_accept_header_answers_the_versioned_registry_type() {
        assert_eq!(chosen(&[]), Some(MEDIA_TYPE));
        assert_eq!(chosen(&[""]), Some(MEDIA_TYPE));
    }

    #[test]
    fn each_registry_type_asked_for_is_the_type_answered() {
        for (media_type, _) in ANSWER_TYPES {
            assert_eq!(chosen(&[media_type]), Some(media_type));
            assert_eq!(
                chosen(&[&media_type.to_uppercase()]),
                Some(media_type),
                "media types compare without case"
            );
        }
        assert_eq!(
            chosen(&["application/json; charset=utf-8"]),
            Some("application/json")
        );
    }

    #[test]
    fn wildcards_answer_the_most_preferred_type() {
        assert_eq!(chosen(&["*/*"]), Some(MEDIA_TYPE));
        assert_eq!(chosen(&["application/*"]), Some(MEDIA_TYPE));
        assert_eq!(chosen(&["text/html, */*;q=0.1"]), Some(MEDIA_TYPE));
    }

    #[test]
    fn q_values_pick_the_client_favourite_and_ties_go_to_ours() {
        assert_eq!(
            chosen(&["application/vnd.schemaregistry.v1+json;q=0.5, application/json"]),
            Some("application/json")
        );
        assert_eq!(
            chosen(&["application/json, application/vnd.schemaregistry+json"]),
            Some("application/vnd.schemaregistry+json")
        );
        assert_eq!(
            chosen(&[
                "application/json;q=0.9",
                "application/vnd.schemaregistry+json;q=0.8"
            ]),
            Some("application/json"),
            "several Accept headers are one list"
        );
        assert_eq!(
            chosen(&["*/*, application/vnd.schemaregistry.v1+json;q=0"]),
            Some("application/vnd.schemaregistry+json"),
            "a specific q=0 overrides the wildcard"
        );
    }

    #[test]
    fn nothing_acceptable_is_refused() {
        for accept in [
            "text/html",
            "application/xml, text/plain;q=0.5",
            "application/json;q=0",
            "*/*;q=0",
            "application/json;q=abc",
            "image/*",
        ] {
            assert_eq!(chosen(&[accept]), None, "{accept}");
        }
    }
}
