//! Request parsing whose every failure answers in Confluent's error format: the body extractor
//! (size limit → 413), path parameters (a segment that does not parse → the generic 404), query
//! strings (→ 400), JSON bodies (empty → 422, malformed → 400, wrong shape → 422), and the
//! embedded formats of `Content-Type` and `Accept`.

use axum::body::Bytes;
use axum::extract::path::ErrorKind;
use axum::extract::rejection::PathRejection;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::HeaderMap;
use axum::http::header::{ACCEPT, CONTENT_TYPE};
use axum::http::request::Parts;
use serde::Deserialize;
use serde::de::DeserializeOwned;

use super::errors::{Api, GatewayError};

/// The raw request body, with axum's rejections (notably the body limit) in our format.
#[derive(Debug)]
pub struct Body(pub Bytes);

impl<S: Send + Sync> FromRequest<S> for Body {
    type Rejection = GatewayError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match Bytes::from_request(req, state).await {
            Ok(b) => Ok(Body(b)),
            Err(rejection) => {
                if rejection.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
                    Err(GatewayError::PayloadTooLarge(
                        "Request body is larger than the configured limit (limits.max_request_body)."
                            .into(),
                    ))
                } else {
                    Err(GatewayError::BadRequest(rejection.body_text()))
                }
            }
        }
    }
}

/// Path parameters, as axum's `Path`, failing in our format: a segment that does not parse (a
/// partition that is not a number) matches no resource, which Confluent's JAX-RS answers with
/// the generic 404; a segment that is not UTF-8 is a 400.
#[derive(Debug)]
pub struct Path<T>(pub T);

impl<T: DeserializeOwned + Send, S: Send + Sync> FromRequestParts<S> for Path<T> {
    type Rejection = GatewayError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match axum::extract::Path::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Path(v)) => Ok(Path(v)),
            // A handler whose parameters do not fit its path: our bug, not the client's.
            Err(PathRejection::FailedToDeserializePathParams(e))
                if e.status().is_server_error() =>
            {
                Err(GatewayError::Internal(e.body_text()))
            }
            Err(PathRejection::FailedToDeserializePathParams(e)) => match e.kind() {
                ErrorKind::InvalidUtf8InPathParam { .. } => {
                    Err(GatewayError::BadRequest(e.body_text()))
                }
                _ => Err(GatewayError::NotFound),
            },
            // `MissingPathParams`: a handler registered on a path without its parameters.
            Err(other) => Err(GatewayError::Internal(other.body_text())),
        }
    }
}

/// A query string, as axum's `Query`, failing in our format (400: a repeated parameter, bad
/// percent-encoding).
#[derive(Debug)]
pub struct Query<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for Query<T> {
    type Rejection = GatewayError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        axum::extract::Query::<T>::from_request_parts(parts, state)
            .await
            .map(|axum::extract::Query(v)| Query(v))
            .map_err(|e| GatewayError::BadRequest(e.body_text()))
    }
}

/// A `T` that must come as a JSON object. serde's derived structs also accept an array of
/// their fields in order (`[null, null]` for `{"key": null, "value": null}`); Confluent's
/// proxy refuses those, and so do we: request structs nested in others are wrapped in this.
#[derive(Debug)]
pub struct Object<T>(pub T);

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Object<T> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct OnlyMaps<T>(std::marker::PhantomData<T>);
        impl<'de, T: Deserialize<'de>> serde::de::Visitor<'de> for OnlyMaps<T> {
            type Value = T;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, map: A) -> Result<T, A::Error> {
                T::deserialize(serde::de::value::MapAccessDeserializer::new(map))
            }
        }
        d.deserialize_map(OnlyMaps(std::marker::PhantomData))
            .map(Object)
    }
}

/// Deserializes an offset: Kafka's offsets are `int64`, so anything past `i64::MAX` is refused
/// (a 422, as any value of the wrong shape), never stored. Use with `#[serde(deserialize_with)]`.
///
/// # Errors
/// A value that is not an integer in `0..=i64::MAX`.
pub fn kafka_offset<'de, D: serde::Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
    let v = d.deserialize_any(Integer)?;
    let v = u64::try_from(v).map_err(|_| {
        serde::de::Error::custom(format!("offset {v} is negative; Kafka offsets start at 0"))
    })?;
    if i64::try_from(v).is_err() {
        return Err(serde::de::Error::custom(format!(
            "offset {v} is larger than the largest Kafka offset ({})",
            i64::MAX
        )));
    }
    Ok(v)
}

/// An optional integer that may come as a JSON number or a string of one (`"1"`), as
/// Confluent's Jackson coerces scalars, so clients written for Confluent that quote their ids
/// and partitions are understood. Use with `#[serde(default, deserialize_with)]`.
///
/// # Errors
/// Anything but null, an integer, or a string holding one.
pub fn lenient_int<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    struct OrNull;
    impl<'de> serde::de::Visitor<'de> for OrNull {
        type Value = Option<i64>;
        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("an integer, a string holding one, or null")
        }
        fn visit_unit<E: serde::de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_none<E: serde::de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_some<D: serde::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
            d.deserialize_any(Integer).map(Some)
        }
        fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Self::Value, E> {
            Integer.visit_i64(v).map(Some)
        }
        fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Self::Value, E> {
            Integer.visit_u64(v).map(Some)
        }
        fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Self::Value, E> {
            Integer.visit_str(v).map(Some)
        }
    }
    d.deserialize_option(OrNull)
}

/// An `i64` from a JSON integer or a string holding one.
struct Integer;

impl serde::de::Visitor<'_> for Integer {
    type Value = i64;
    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("an integer or a string holding one")
    }
    fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<i64, E> {
        Ok(v)
    }
    fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<i64, E> {
        i64::try_from(v).map_err(|_| E::custom(format!("{v} is larger than {}", i64::MAX)))
    }
    fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<i64, E> {
        v.trim()
            .parse()
            .map_err(|_| E::custom(format!("'{v}' is not an integer")))
    }
}

/// Parses a JSON body, which must be an object: empty is a payload error, bad syntax a 400, a
/// wrong shape a 422.
///
/// # Errors
/// As above.
pub fn parse_json<'a, T: Deserialize<'a>>(body: &'a [u8], api: Api) -> Result<T, GatewayError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(GatewayError::EmptyBody(api));
    }
    serde_json::from_slice(body)
        .map(|Object(v)| v)
        .map_err(|e| match e.classify() {
            serde_json::error::Category::Data => GatewayError::InvalidRecord(e.to_string()),
            serde_json::error::Category::Syntax
            | serde_json::error::Category::Eof
            | serde_json::error::Category::Io => {
                GatewayError::MalformedJson(format!("Malformed JSON: {e}"))
            }
        })
}

/// The embedded format of a v2 content type (`application/vnd.kafka.<format>.v2+json`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EmbeddedFormat {
    Binary,
    Json,
    Avro,
    JsonSchema,
    Protobuf,
}

impl EmbeddedFormat {
    pub fn name(self) -> &'static str {
        match self {
            EmbeddedFormat::Binary => "binary",
            EmbeddedFormat::Json => "json",
            EmbeddedFormat::Avro => "avro",
            EmbeddedFormat::JsonSchema => "jsonschema",
            EmbeddedFormat::Protobuf => "protobuf",
        }
    }

    pub fn media_type(self) -> String {
        format!("application/vnd.kafka.{}.v2+json", self.name())
    }
}

/// What a media type says: a v2 embedded format, a plain JSON type, or something else.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum MediaType {
    Embedded(EmbeddedFormat),
    PlainJson,
    Any,
    Other,
}

fn classify(media: &str) -> MediaType {
    let essence = media
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    match essence.as_str() {
        "application/vnd.kafka.binary.v2+json" => MediaType::Embedded(EmbeddedFormat::Binary),
        "application/vnd.kafka.json.v2+json" => MediaType::Embedded(EmbeddedFormat::Json),
        "application/vnd.kafka.avro.v2+json" => MediaType::Embedded(EmbeddedFormat::Avro),
        "application/vnd.kafka.jsonschema.v2+json" => {
            MediaType::Embedded(EmbeddedFormat::JsonSchema)
        }
        "application/vnd.kafka.protobuf.v2+json" => MediaType::Embedded(EmbeddedFormat::Protobuf),
        "application/vnd.kafka.v2+json" | "application/json" | "application/octet-stream" => {
            MediaType::PlainJson
        }
        "*/*" | "application/*" => MediaType::Any,
        _ => MediaType::Other,
    }
}

/// The embedded format of a produce request, from `Content-Type`. A plain JSON type (or none)
/// means the `json` format.
///
/// # Errors
/// 415 for any other type.
pub fn produce_format(headers: &HeaderMap) -> Result<EmbeddedFormat, GatewayError> {
    let Some(ct) = headers.get(CONTENT_TYPE) else {
        return Ok(EmbeddedFormat::Json);
    };
    let ct = ct.to_str().unwrap_or_default();
    match classify(ct) {
        MediaType::Embedded(f) => Ok(f),
        MediaType::PlainJson => Ok(EmbeddedFormat::Json),
        MediaType::Any | MediaType::Other => Err(GatewayError::UnsupportedMediaType(format!(
            "HTTP 415 Unsupported Media Type: Content-Type '{ct}' is not supported; use application/vnd.kafka.{{json,binary,avro}}.v2+json"
        ))),
    }
}

/// Checks that a JSON body came with a JSON content type (or none).
///
/// # Errors
/// 415 for a non-JSON type.
pub fn require_json(headers: &HeaderMap) -> Result<(), GatewayError> {
    match headers.get(CONTENT_TYPE) {
        None => Ok(()),
        Some(ct) => {
            let ct = ct.to_str().unwrap_or_default();
            match classify(ct) {
                MediaType::PlainJson | MediaType::Embedded(_) => Ok(()),
                MediaType::Any | MediaType::Other => Err(GatewayError::UnsupportedMediaType(
                    format!("HTTP 415 Unsupported Media Type: Content-Type '{ct}' is not JSON"),
                )),
            }
        }
    }
}

/// The embedded format a read should answer in, from `Accept`: the first acceptable entry, or
/// `default` for a missing header, `*/*` or a plain JSON type.
///
/// # Errors
/// 406 when no entry names a format this read can serve.
pub fn accept_format(
    headers: &HeaderMap,
    default: EmbeddedFormat,
    servable: &[EmbeddedFormat],
) -> Result<EmbeddedFormat, GatewayError> {
    let Some(accept) = headers.get(ACCEPT) else {
        return Ok(default);
    };
    let accept = accept.to_str().unwrap_or_default();
    for entry in accept.split(',') {
        match classify(entry) {
            MediaType::Embedded(f) if servable.contains(&f) => return Ok(f),
            MediaType::PlainJson | MediaType::Any => return Ok(default),
            MediaType::Embedded(_) | MediaType::Other => {}
        }
    }
    Err(GatewayError::NotAcceptable(format!(
        "HTTP 406 Not Acceptable: cannot answer in '{accept}'; this endpoint serves {}",
        servable
            .iter()
            .map(|f| f.media_type())
            .collect::<Vec<_>>()
            .join(", ")
    )))
}

/// A numeric path segment (a partition or broker id). Anything else matches no resource, which
/// Confluent's JAX-RS answers with the generic 404.
///
/// # Errors
/// [`GatewayError::NotFound`] for anything but a `u32`.
pub fn path_id(segment: &str) -> Result<u32, GatewayError> {
    segment.parse().map_err(|_| GatewayError::NotFound)
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    #[derive(Debug, Deserialize)]
    struct Ids {
        #[serde(default, deserialize_with = "lenient_int")]
        id: Option<i64>,
        #[serde(default, deserialize_with = "kafka_offset")]
        offset: u64,
    }

    #[test]
    fn integers_may_come_quoted_as_jackson_coerces_them() {
        let ids: Ids = serde_json::from_str(r#"{"id": "7", "offset": " 42 "}"#).unwrap();
        assert_eq!((ids.id, ids.offset), (Some(7), 42));
        let ids: Ids = serde_json::from_str(r#"{"id": -3, "offset": 0}"#).unwrap();
        assert_eq!((ids.id, ids.offset), (Some(-3), 0));
        let ids: Ids = serde_json::from_str(r#"{"id": null}"#).unwrap();
        assert_eq!(ids.id, None);
        for bad in [
            r#"{"id": "seven"}"#,
            r#"{"id": 1.5}"#,
            r#"{"id": true}"#,
            r#"{"offset": "-1"}"#,
            r#"{"offset": 9223372036854775808}"#,
        ] {
            assert!(serde_json::from_str::<Ids>(bad).is_err(), "{bad}");
        }
    }

    fn headers(name: axum::http::HeaderName, v: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(name, HeaderValue::from_str(v).unwrap());
        h
    }

    #[test]
    fn content_types_pick_formats() {
        let f = produce_format(&headers(
            CONTENT_TYPE,
            "application/vnd.kafka.binary.v2+json; charset=utf-8",
        ));
        assert_eq!(f.unwrap(), EmbeddedFormat::Binary);
        assert_eq!(
            produce_format(&HeaderMap::new()).unwrap(),
            EmbeddedFormat::Json
        );
        assert!(produce_format(&headers(CONTENT_TYPE, "text/plain")).is_err());
    }

    #[test]
    fn accept_negotiates_or_refuses() {
        let servable = [EmbeddedFormat::Binary, EmbeddedFormat::Json];
        let h = headers(ACCEPT, "application/vnd.kafka.json.v2+json");
        assert_eq!(
            accept_format(&h, EmbeddedFormat::Binary, &servable).unwrap(),
            EmbeddedFormat::Json
        );
        let h = headers(ACCEPT, "text/html");
        assert!(accept_format(&h, EmbeddedFormat::Binary, &servable).is_err());
        let h = headers(ACCEPT, "text/html, */*");
        assert_eq!(
            accept_format(&h, EmbeddedFormat::Binary, &servable).unwrap(),
            EmbeddedFormat::Binary
        );
    }

    #[test]
    fn json_bodies_fail_in_confluent_shapes() {
        #[derive(Debug, serde::Deserialize)]
        struct B {
            a: u32,
        }
        assert!(matches!(
            parse_json::<B>(b"  ", Api::V2),
            Err(GatewayError::EmptyBody(Api::V2))
        ));
        assert!(matches!(
            parse_json::<B>(b"{", Api::V2),
            Err(GatewayError::MalformedJson(_))
        ));
        assert!(matches!(
            parse_json::<B>(b"{\"a\":\"x\"}", Api::V2),
            Err(GatewayError::InvalidRecord(_))
        ));
        // A struct's fields as an array are not the struct.
        assert!(matches!(
            parse_json::<B>(b"[1]", Api::V2),
            Err(GatewayError::InvalidRecord(_))
        ));
        assert_eq!(parse_json::<B>(b"{\"a\": 1}", Api::V2).unwrap().a, 1);
        let nested: Vec<Object<B>> = serde_json::from_str("[{\"a\": 2}]").unwrap();
        assert_eq!(nested[0].0.a, 2);
        assert!(serde_json::from_str::<Vec<Object<B>>>("[[2]]").is_err());
    }
}
