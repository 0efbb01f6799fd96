//! Schema registry behaviour that clients written for Confluent rely on, through the real
//! server (issue 10, item 8): content negotiation on `Accept` for every endpoint, the root
//! resource, `GET /schemas` and `GET /contexts`, 40402 for a compatibility check against a
//! version that does not exist, and Confluent's own error texts.

use serde_json::{Value, json};

use crate::support::{Runnel, SR};

/// `(status, content type, body)` of a request with an optional `Accept` and a JSON body.
async fn call(
    r: &Runnel,
    method: &str,
    path: &str,
    accept: Option<&str>,
    body: Option<Value>,
) -> (u16, String, Value) {
    let mut headers = Vec::new();
    headers.extend(accept.map(|a| ("Accept", a)));
    headers.extend(body.is_some().then_some(("Content-Type", SR)));
    let reply = r
        .request(method, path, &headers, body.map(|b| b.to_string()))
        .await;
    (reply.status, reply.content_type.clone(), reply.json())
}

fn record_schema(fields: &[&str]) -> String {
    let fields: Vec<Value> = fields
        .iter()
        .map(|n| json!({"name": n, "type": "string", "default": ""}))
        .collect();
    json!({"type": "record", "name": "Click", "namespace": "conformance", "fields": fields})
        .to_string()
}

/// One request of every registry endpoint, each valid against a registry holding
/// `clicks-value` version 1.
fn every_endpoint() -> Vec<(&'static str, &'static str, Option<Value>)> {
    let schema = json!({"schema": record_schema(&["user"])});
    vec![
        ("GET", "/", None),
        ("GET", "/contexts", None),
        ("GET", "/schemas", None),
        ("GET", "/schemas/types", None),
        ("GET", "/schemas/ids/1", None),
        ("GET", "/schemas/ids/1/schema", None),
        ("GET", "/schemas/ids/1/versions", None),
        ("GET", "/schemas/ids/1/subjects", None),
        ("GET", "/subjects", None),
        ("GET", "/subjects/clicks-value/versions", None),
        (
            "POST",
            "/subjects/clicks-value/versions",
            Some(schema.clone()),
        ),
        ("GET", "/subjects/clicks-value/versions/1", None),
        ("GET", "/subjects/clicks-value/versions/latest/schema", None),
        (
            "GET",
            "/subjects/clicks-value/versions/1/referencedby",
            None,
        ),
        ("POST", "/subjects/clicks-value", Some(schema.clone())),
        (
            "POST",
            "/compatibility/subjects/clicks-value/versions",
            Some(schema.clone()),
        ),
        (
            "POST",
            "/compatibility/subjects/clicks-value/versions/1",
            Some(schema),
        ),
        ("GET", "/config", None),
        ("PUT", "/config", Some(json!({"compatibility": "BACKWARD"}))),
        (
            "PUT",
            "/config/clicks-value",
            Some(json!({"compatibility": "BACKWARD"})),
        ),
        ("GET", "/config/clicks-value", None),
        ("DELETE", "/config/clicks-value", None),
        ("GET", "/mode", None),
        ("PUT", "/mode", Some(json!({"mode": "READWRITE"}))),
        (
            "PUT",
            "/mode/clicks-value",
            Some(json!({"mode": "READWRITE"})),
        ),
        ("GET", "/mode/clicks-value", None),
        ("DELETE", "/mode/clicks-value", None),
    ]
}

#[tokio::test]
async fn every_registry_endpoint_answers_in_the_media_type_accept_asks_for() {
    let r = Runnel::start().await;
    let (status, _, v) = call(
        &r,
        "POST",
        "/subjects/clicks-value/versions",
        None,
        Some(json!({"schema": record_schema(&["user"])})),
    )
    .await;
    assert_eq!((status, &v), (200, &json!({"id": 1})));
    let asked = [
        (None, SR),
        (Some("*/*"), SR),
        (Some(SR), SR),
        (
            Some("application/vnd.schemaregistry+json"),
            "application/vnd.schemaregistry+json",
        ),
        (Some("application/json"), "application/json"),
        (
            Some("text/html;q=0.9, application/json;q=0.5, */*;q=0.1"),
            "application/json",
        ),
        (
            Some("application/vnd.schemaregistry.v1+json, application/json"),
            SR,
        ),
    ];
    // Each round goes through every endpoint in order, so a subject's config and mode are set
    // again before they are read and deleted.
    for (accept, expected) in asked {
        for (method, path, body) in every_endpoint() {
            let (status, ct, v) = call(&r, method, path, accept, body.clone()).await;
            assert_eq!(status, 200, "{method} {path} Accept {accept:?}: {v}");
            assert_eq!(ct, expected, "{method} {path} Accept {accept:?}");
        }
    }
    r.assert_no_panic();
}

#[tokio::test]
async fn every_registry_endpoint_refuses_an_unacceptable_accept_with_406() {
    let r = Runnel::start().await;
    for (method, path, body) in every_endpoint() {
        for accept in ["text/html", "application/xml, application/json;q=0"] {
            let (status, ct, v) = call(&r, method, path, Some(accept), body.clone()).await;
            assert_eq!(status, 406, "{method} {path} Accept {accept}: {v}");
            assert!(ct.starts_with("application/json"), "{method} {path}: {ct}");
            assert_eq!(v["error_code"], 406, "{method} {path}: {v}");
            assert!(v["message"].as_str().is_some_and(|m| !m.is_empty()), "{v}");
        }
    }
    // Nothing refused was applied: no registration, no config.
    let (_, _, subjects) = call(&r, "GET", "/subjects", None, None).await;
    assert_eq!(subjects, json!([]));
    let (_, _, mode) = call(&r, "GET", "/mode", None, None).await;
    assert_eq!(mode, json!({"mode": "READWRITE"}));
    r.assert_no_panic();
}

#[tokio::test]
async fn root_answers_an_empty_object_and_contexts_the_default_context() {
    let r = Runnel::start().await;
    assert_eq!(
        call(&r, "GET", "/", None, None).await,
        (200, SR.into(), json!({}))
    );
    assert_eq!(
        call(&r, "GET", "/contexts", None, None).await,
        (200, SR.into(), json!(["."]))
    );
}

#[tokio::test]
async fn schemas_lists_versions_with_prefix_deleted_latest_only_and_paging() {
    let r = Runnel::start().await;
    let register = |subject: &'static str, fields: &'static [&'static str]| {
        let r = &r;
        async move {
            let (status, _, v) = call(
                r,
                "POST",
                &format!("/subjects/{subject}/versions"),
                None,
                Some(json!({"schema": record_schema(fields)})),
            )
            .await;
            assert_eq!(status, 200, "{v}");
            v["id"].as_i64().unwrap()
        }
    };
    let v1 = register("clicks-value", &["user"]).await;
    let v2 = register("clicks-value", &["user", "page"]).await;
    let other = register("views-value", &["page"]).await;
    let (status, _, all) = call(&r, "GET", "/schemas", None, None).await;
    assert_eq!(status, 200);
    assert_eq!(
        all,
        json!([
            {"subject": "clicks-value", "version": 1, "id": v1, "schema": record_schema(&["user"])},
            {"subject": "clicks-value", "version": 2, "id": v2, "schema": record_schema(&["user", "page"])},
            {"subject": "views-value", "version": 1, "id": other, "schema": record_schema(&["page"])},
        ]),
        "schema objects by subject then version, without schemaType for AVRO"
    );
    let pairs = |v: &Value| -> Vec<(String, i64)> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|s| {
                (
                    s["subject"].as_str().unwrap().to_owned(),
                    s["version"].as_i64().unwrap(),
                )
            })
            .collect()
    };
    let get = |path: &'static str| {
        let r = &r;
        async move {
            let (status, _, v) = call(r, "GET", path, None, None).await;
            assert_eq!(status, 200, "{path}: {v}");
            pairs(&v)
        }
    };
    assert_eq!(
        get("/schemas?subjectPrefix=views").await,
        [("views-value".to_owned(), 1)]
    );
    assert_eq!(
        get("/schemas?latestOnly=true").await,
        [
            ("clicks-value".to_owned(), 2),
            ("views-value".to_owned(), 1)
        ]
    );
    assert_eq!(
        get("/schemas?offset=1&limit=1").await,
        [("clicks-value".to_owned(), 2)]
    );
    let (status, _, _) = call(
        &r,
        "DELETE",
        "/subjects/clicks-value/versions/2",
        None,
        None,
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(
        get("/schemas?subjectPrefix=clicks").await,
        [("clicks-value".to_owned(), 1)]
    );
    assert_eq!(
        get("/schemas?subjectPrefix=clicks&deleted=true").await,
        [
            ("clicks-value".to_owned(), 1),
            ("clicks-value".to_owned(), 2)
        ]
    );
    assert_eq!(
        get("/schemas?subjectPrefix=clicks&deleted=true&latestOnly=true").await,
        [("clicks-value".to_owned(), 2)]
    );
    r.assert_no_panic();
}

#[tokio::test]
async fn compatibility_check_against_a_missing_version_is_40402() {
    let r = Runnel::start().await;
    let body = Some(json!({"schema": record_schema(&["user"])}));
    let (status, _, v) = call(
        &r,
        "POST",
        "/compatibility/subjects/nobody-value/versions/1",
        None,
        body.clone(),
    )
    .await;
    assert_eq!((status, &v["error_code"]), (404, &json!(40402)), "{v}");
    let (status, _, v) = call(
        &r,
        "POST",
        "/compatibility/subjects/nobody-value/versions/latest",
        None,
        body.clone(),
    )
    .await;
    assert_eq!(
        (status, v),
        (200, json!({"is_compatible": true})),
        "latest of a subject without versions is checked against none, as Confluent does"
    );
    call(
        &r,
        "POST",
        "/subjects/clicks-value/versions",
        None,
        body.clone(),
    )
    .await;
    let (status, _, v) = call(
        &r,
        "POST",
        "/compatibility/subjects/clicks-value/versions/5",
        None,
        body,
    )
    .await;
    assert_eq!((status, &v["error_code"]), (404, &json!(40402)), "{v}");
    // A subject that does not exist is still 40401 where Confluent says so.
    let (status, _, v) = call(&r, "GET", "/subjects/nobody-value/versions/1", None, None).await;
    assert_eq!((status, &v["error_code"]), (404, &json!(40401)), "{v}");
}

#[tokio::test]
async fn invalid_level_and_empty_schema_errors_use_confluents_texts() {
    let r = Runnel::start().await;
    let (status, _, v) = call(
        &r,
        "PUT",
        "/config",
        None,
        Some(json!({"compatibility": "SIDEWAYS"})),
    )
    .await;
    assert_eq!(status, 422);
    assert_eq!(
        v,
        json!({"error_code": 42203, "message": "Invalid compatibility level. Valid values are none, backward, forward, full, backward_transitive, forward_transitive, and full_transitive"})
    );
    let (status, _, v) = call(
        &r,
        "POST",
        "/subjects/clicks-value/versions",
        None,
        Some(json!({"schema": ""})),
    )
    .await;
    assert_eq!(status, 422);
    assert_eq!(v, json!({"error_code": 42201, "message": "Empty schema"}));
}
