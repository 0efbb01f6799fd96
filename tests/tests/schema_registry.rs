//! The Confluent Schema Registry API through the real server (CONTRACTS.md §1.3): every
//! endpoint, shape and error code; a restart (clean and `kill -9`) that must keep every
//! subject, version, id, config, mode and soft delete; and hostile input.

use serde_json::{Value, json};

use crate::support::{Runnel, SR};

fn record(name: &str, fields: &[(&str, Value)]) -> String {
    let fields: Vec<Value> = fields
        .iter()
        .map(|(n, t)| json!({"name": n, "type": t}))
        .collect();
    json!({"type": "record", "name": name, "namespace": "e2e", "fields": fields}).to_string()
}

fn order_v1() -> String {
    record("Order", &[("id", json!("long"))])
}

fn order_v2() -> String {
    // A new field with a default: BACKWARD compatible.
    let fields = json!([
        {"name": "id", "type": "long"},
        {"name": "note", "type": "string", "default": ""}
    ]);
    json!({"type": "record", "name": "Order", "namespace": "e2e", "fields": fields}).to_string()
}

fn order_breaking() -> String {
    // A new field without a default cannot read old data.
    record("Order", &[("id", json!("long")), ("qty", json!("int"))])
}

/// A request with an optional JSON body under `content_type`; `(status, content type, body)`.
async fn call_with(
    r: &Runnel,
    method: &str,
    path: &str,
    content_type: Option<&str>,
    body: Option<String>,
) -> (u16, String, Value) {
    let headers: Vec<_> = content_type
        .map(|ct| ("Content-Type", ct))
        .into_iter()
        .collect();
    let reply = r.request(method, path, &headers, body).await;
    (reply.status, reply.content_type.clone(), reply.json())
}

async fn call(r: &Runnel, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
    r.sr_call(method, path, body.as_ref()).await
}

async fn ok(r: &Runnel, method: &str, path: &str, body: Option<Value>) -> Value {
    let (status, v) = call(r, method, path, body).await;
    assert_eq!(status, 200, "{method} {path}: {v}");
    v
}

async fn err(r: &Runnel, method: &str, path: &str, body: Option<Value>, code: u32) {
    let (status, v) = call(r, method, path, body).await;
    assert_eq!(v["error_code"], code, "{method} {path}: {status} {v}");
    let expected = if code >= 1000 { code / 100 } else { code };
    assert_eq!(u32::from(status), expected, "{method} {path}: {v}");
    assert!(v["message"].as_str().is_some_and(|m| !m.is_empty()), "{v}");
}

/// What a registry request must answer.
enum Want {
    /// 200 with exactly this body.
    Body(Value),
    /// 200, whatever the body.
    Ok,
    /// A Confluent error with this `error_code`, its status and a message.
    Code(u32),
}

use Want::{Body, Code};

/// Sends each `"METHOD /path"` with its body, in order, and checks each answer.
async fn exchange(r: &Runnel, steps: Vec<(&str, Option<Value>, Want)>) {
    for (request, body, want) in steps {
        let (method, path) = request.split_once(' ').expect("METHOD /path");
        match want {
            Body(expected) => assert_eq!(ok(r, method, path, body).await, expected, "{request}"),
            Want::Ok => drop(ok(r, method, path, body).await),
            Code(code) => err(r, method, path, body, code).await,
        }
    }
}

/// The body of a registration, a lookup or a check.
fn schema(text: String) -> Option<Value> {
    Some(json!({ "schema": text }))
}

fn level(name: &str) -> Want {
    Body(json!({ "compatibilityLevel": name }))
}

fn mode(name: &str) -> Want {
    Body(json!({ "mode": name }))
}

fn compatible(yes: bool) -> Want {
    Body(json!({ "is_compatible": yes }))
}

async fn register(r: &Runnel, subject: &str, schema: &str) -> i64 {
    let v = ok(
        r,
        "POST",
        &format!("/subjects/{subject}/versions"),
        Some(json!({"schema": schema})),
    )
    .await;
    v["id"].as_i64().expect("id")
}

#[tokio::test]
async fn schemas_subjects_and_versions() {
    let r = Runnel::start().await;
    assert_eq!(ok(&r, "GET", "/schemas/types", None).await, json!(["AVRO"]));
    assert_eq!(ok(&r, "GET", "/subjects", None).await, json!([]));

    // Register: the answer is {"id"} under the registry's media type.
    let (status, ct, v) = call_with(
        &r,
        "POST",
        "/subjects/orders-value/versions",
        Some(SR),
        Some(json!({"schema": order_v1()}).to_string()),
    )
    .await;
    assert_eq!((status, ct.as_str(), &v), (200, SR, &json!({"id": 1})));
    // Idempotent, and the same schema under another subject keeps its id.
    assert_eq!(register(&r, "orders-value", &order_v1()).await, 1);
    assert_eq!(register(&r, "copy-value", &order_v1()).await, 1);
    assert_eq!(register(&r, "orders-value", &order_v2()).await, 2);
    // Incompatible: 409 with error_code 409, as Confluent ≤ 8.0.3.
    err(
        &r,
        "POST",
        "/subjects/orders-value/versions",
        Some(json!({"schema": order_breaking()})),
        409,
    )
    .await;

    assert_eq!(
        ok(&r, "GET", "/subjects", None).await,
        json!(["copy-value", "orders-value"])
    );
    assert_eq!(
        ok(&r, "GET", "/subjects?subjectPrefix=ord", None).await,
        json!(["orders-value"])
    );
    assert_eq!(
        ok(&r, "GET", "/subjects/orders-value/versions", None).await,
        json!([1, 2])
    );
    for latest in ["latest", "-1", "2"] {
        let v = ok(
            &r,
            "GET",
            &format!("/subjects/orders-value/versions/{latest}"),
            None,
        )
        .await;
        assert_eq!(v["subject"], "orders-value");
        assert_eq!(v["version"], 2);
        assert_eq!(v["id"], 2);
        assert_eq!(v["schemaType"], "AVRO");
        let schema: Value = serde_json::from_str(v["schema"].as_str().unwrap()).unwrap();
        assert_eq!(schema["name"], "Order");
    }
    let raw = ok(&r, "GET", "/subjects/orders-value/versions/1/schema", None).await;
    assert_eq!(raw["type"], "record");
    assert_eq!(raw["fields"][0]["name"], "id");

    // By id.
    let (status, ct, by_id) = call_with(&r, "GET", "/schemas/ids/1", None, None).await;
    assert_eq!((status, ct.as_str()), (200, SR));
    let schema: Value = serde_json::from_str(by_id["schema"].as_str().unwrap()).unwrap();
    assert_eq!(schema["fields"][0]["type"], "long");
    assert_eq!(
        ok(&r, "GET", "/schemas/ids/1/schema", None).await["name"],
        "Order"
    );
    assert_eq!(
        ok(&r, "GET", "/schemas/ids/1/versions", None).await,
        json!([{"subject": "copy-value", "version": 1}, {"subject": "orders-value", "version": 1}])
    );
    assert_eq!(
        ok(&r, "GET", "/schemas/ids/1/subjects", None).await,
        json!(["copy-value", "orders-value"])
    );
    assert_eq!(
        ok(&r, "GET", "/schemas/ids/1?fetchMaxId=true", None).await["maxId"],
        2
    );
    err(&r, "GET", "/schemas/ids/99", None, 40403).await;
    err(&r, "GET", "/schemas/ids/99/schema", None, 40403).await;
    err(&r, "GET", "/schemas/ids/99/versions", None, 40403).await;
    err(&r, "GET", "/schemas/ids/99/subjects", None, 40403).await;
    err(&r, "GET", "/schemas/ids/abc", None, 404).await;

    // Lookup by schema.
    let found = ok(
        &r,
        "POST",
        "/subjects/orders-value",
        Some(json!({"schema": order_v1()})),
    )
    .await;
    assert_eq!(
        (found["id"].as_i64(), found["version"].as_i64()),
        (Some(1), Some(1))
    );
    assert_eq!(found["subject"], "orders-value");
    err(
        &r,
        "POST",
        "/subjects/orders-value",
        Some(json!({"schema": record("Other", &[("x", json!("int"))])})),
        40403,
    )
    .await;
    err(
        &r,
        "POST",
        "/subjects/nope",
        Some(json!({"schema": order_v1()})),
        40401,
    )
    .await;

    // Bad versions and unknown subjects and versions.
    for bad in ["0", "abc", "-2", "2147483648"] {
        err(
            &r,
            "GET",
            &format!("/subjects/orders-value/versions/{bad}"),
            None,
            42202,
        )
        .await;
        err(
            &r,
            "DELETE",
            &format!("/subjects/orders-value/versions/{bad}"),
            None,
            42202,
        )
        .await;
    }
    err(&r, "GET", "/subjects/nope/versions", None, 40401).await;
    err(&r, "GET", "/subjects/nope/versions/1", None, 40401).await;
    err(&r, "GET", "/subjects/orders-value/versions/9", None, 40402).await;
    err(
        &r,
        "GET",
        "/subjects/orders-value/versions/9/schema",
        None,
        40402,
    )
    .await;
    r.assert_no_panic();
}

#[tokio::test]
async fn compatibility_checks_and_config() {
    let r = Runnel::start().await;
    let check = "POST /compatibility/subjects/orders-value/versions";
    let latest: &str = &format!("{check}/latest");
    exchange(
        &r,
        vec![
            ("GET /config", None, level("BACKWARD")),
            // A subject without versions accepts anything.
            (check, schema(order_v1()), compatible(true)),
            // `latest` of a subject without versions is checked against none, as Confluent does.
            (latest, schema(order_v1()), compatible(true)),
        ],
    )
    .await;
    register(&r, "orders-value", &order_v1()).await;
    exchange(
        &r,
        vec![
            (latest, schema(order_v2()), compatible(true)),
            (check, schema(order_breaking()), compatible(false)),
        ],
    )
    .await;
    let verbose = ok(
        &r,
        "POST",
        "/compatibility/subjects/orders-value/versions/1?verbose=true",
        schema(order_breaking()),
    )
    .await;
    assert_eq!(verbose["is_compatible"], false);
    let messages = verbose["messages"].as_array().expect("messages");
    assert!(
        messages.iter().any(|m| m.as_str().unwrap().contains("qty")),
        "the message names the offending field: {verbose}"
    );
    let put = |level: &str| Some(json!({ "compatibility": level }));
    let (missing, zero) = (format!("{check}/7"), format!("{check}/zero"));
    exchange(
        &r,
        vec![
            (missing.as_str(), schema(order_v2()), Code(40402)),
            (zero.as_str(), schema(order_v2()), Code(42202)),
            (check, schema("{nope".into()), Code(42201)),
            // Global config: PUT echoes the request, DELETE answers the level before.
            (
                "PUT /config",
                put("full"),
                Body(json!({"compatibility": "FULL"})),
            ),
            ("GET /config", None, level("FULL")),
            ("DELETE /config", None, level("FULL")),
            ("GET /config", None, level("BACKWARD")),
            // Subject config.
            ("GET /config/orders-value", None, Code(40408)),
            (
                "GET /config/orders-value?defaultToGlobal=true",
                None,
                level("BACKWARD"),
            ),
            (
                "PUT /config/orders-value",
                put("NONE"),
                Body(json!({"compatibility": "NONE"})),
            ),
            ("GET /config/orders-value", None, level("NONE")),
        ],
    )
    .await;
    // Under NONE the breaking schema registers.
    assert_eq!(register(&r, "orders-value", &order_breaking()).await, 2);
    exchange(
        &r,
        vec![
            ("DELETE /config/orders-value", None, level("NONE")),
            ("DELETE /config/nope", None, Code(40401)),
        ],
    )
    .await;
    for bad in [
        json!({"compatibility": "SIDEWAYS"}),
        json!({}),
        json!({"compatibility": ""}),
    ] {
        err(&r, "PUT", "/config", Some(bad.clone()), 42203).await;
        err(&r, "PUT", "/config/orders-value", Some(bad), 42203).await;
    }
    for name in [
        "NONE",
        "BACKWARD",
        "BACKWARD_TRANSITIVE",
        "FORWARD",
        "FORWARD_TRANSITIVE",
        "FULL",
        "FULL_TRANSITIVE",
    ] {
        exchange(
            &r,
            vec![
                ("PUT /config/x", put(name), Want::Ok),
                ("GET /config/x", None, level(name)),
            ],
        )
        .await;
    }
    r.assert_no_panic();
}

#[tokio::test]
async fn modes_and_import() {
    let r = Runnel::start().await;
    exchange(&r, vec![("GET /mode", None, mode("READWRITE"))]).await;
    register(&r, "a-value", &order_v1()).await;
    let put = |name: &str| Some(json!({ "mode": name }));
    let imported = json!({"schema": order_breaking(), "id": 100, "version": 5});
    exchange(
        &r,
        vec![
            ("GET /mode/a-value", None, Code(40409)),
            (
                "GET /mode/a-value?defaultToGlobal=true",
                None,
                mode("READWRITE"),
            ),
            ("PUT /mode/a-value", put("READONLY"), mode("READONLY")),
            (
                "POST /subjects/a-value/versions",
                schema(order_v2()),
                Code(42205),
            ),
            ("DELETE /subjects/a-value", None, Code(42205)),
            // Reads still work.
            ("GET /subjects/a-value/versions/latest", None, Want::Ok),
            ("DELETE /mode/a-value", None, mode("READONLY")),
            ("DELETE /mode/a-value", None, Code(40409)),
            // READONLY_OVERRIDE globally wins over a subject's READWRITE.
            ("PUT /mode/a-value", put("READWRITE"), Want::Ok),
            ("PUT /mode", put("READONLY_OVERRIDE"), Want::Ok),
            (
                "POST /subjects/a-value/versions",
                schema(order_v2()),
                Code(42205),
            ),
            ("DELETE /mode", None, mode("READONLY_OVERRIDE")),
            // IMPORT over existing schemas needs force; then ids and versions are the caller's.
            ("PUT /mode", put("IMPORT"), Code(42205)),
            ("PUT /mode?force=true", put("import"), Want::Ok),
            (
                "POST /subjects/imported-value/versions",
                Some(imported),
                Body(json!({"id": 100})),
            ),
            (
                "GET /subjects/imported-value/versions",
                None,
                Body(json!([5])),
            ),
        ],
    )
    .await;
    // Id 100 holds another schema: 42207.
    let taken = json!({"schema": order_v2(), "id": 100});
    err(
        &r,
        "POST",
        "/subjects/other-value/versions",
        Some(taken),
        42207,
    )
    .await;
    ok(&r, "PUT", "/mode", put("READWRITE")).await;
    // Outside IMPORT an id cannot be chosen, and new ids continue after the imported one.
    let chosen = json!({"schema": order_v2(), "id": 7});
    err(
        &r,
        "POST",
        "/subjects/b-value/versions",
        Some(chosen),
        42205,
    )
    .await;
    let b = record("B", &[("b", json!("int"))]);
    assert_eq!(register(&r, "b-value", &b).await, 101);
    for bad in [json!({"mode": "WRITEONLY"}), json!({}), json!({"mode": 3})] {
        let (status, v) = call(&r, "PUT", "/mode", Some(bad)).await;
        assert_eq!(status, 422, "{v}");
        assert!(v["error_code"] == 42204 || v["error_code"] == 422, "{v}");
    }
    err(&r, "PUT", "/mode/a-value", put("nope"), 42204).await;
    r.assert_no_panic();
}

#[tokio::test]
async fn soft_and_permanent_deletes_and_references() {
    let r = Runnel::start().await;
    register(&r, "orders-value", &order_v1()).await;
    register(&r, "orders-value", &order_v2()).await;
    register(&r, "copy-value", &order_v1()).await;

    exchange(
        &r,
        vec![
            (
                "DELETE /subjects/orders-value/versions/2?permanent=true",
                None,
                Code(40407),
            ),
            (
                "DELETE /subjects/orders-value/versions/2",
                None,
                Body(json!(2)),
            ),
            (
                "DELETE /subjects/orders-value/versions/2",
                None,
                Code(40406),
            ),
            (
                "GET /subjects/orders-value/versions",
                None,
                Body(json!([1])),
            ),
            (
                "GET /subjects/orders-value/versions?deleted=true",
                None,
                Body(json!([1, 2])),
            ),
            ("GET /subjects/orders-value/versions/2", None, Code(40402)),
        ],
    )
    .await;
    let deleted = ok(
        &r,
        "GET",
        "/subjects/orders-value/versions/2?deleted=true",
        None,
    )
    .await;
    assert_eq!(deleted["id"], 2);
    let soft_deleted = json!([{"subject": "orders-value", "version": 2}]);
    exchange(
        &r,
        vec![
            // A soft-deleted version's id still resolves, so old data decodes.
            ("GET /schemas/ids/2", None, Want::Ok),
            ("GET /schemas/ids/2/versions", None, Body(json!([]))),
            (
                "GET /schemas/ids/2/versions?deleted=true",
                None,
                Body(soft_deleted),
            ),
            (
                "DELETE /subjects/orders-value/versions/2?permanent=true",
                None,
                Body(json!(2)),
            ),
            ("GET /schemas/ids/2", None, Code(40403)),
            (
                "DELETE /subjects/orders-value/versions/2",
                None,
                Code(40402),
            ),
        ],
    )
    .await;
    // A permanently deleted id is not reused; the version number is free again (Confluent
    // numbers after the largest version still stored, soft-deleted ones included).
    assert_eq!(register(&r, "orders-value", &order_v2()).await, 3);
    exchange(
        &r,
        vec![
            (
                "GET /subjects/orders-value/versions",
                None,
                Body(json!([1, 2])),
            ),
            // Subjects.
            (
                "DELETE /subjects/copy-value?permanent=true",
                None,
                Code(40405),
            ),
            ("DELETE /subjects/copy-value", None, Body(json!([1]))),
            ("DELETE /subjects/copy-value", None, Code(40404)),
            ("GET /subjects/copy-value/versions", None, Code(40401)),
            ("GET /subjects", None, Body(json!(["orders-value"]))),
            (
                "GET /subjects?deleted=true",
                None,
                Body(json!(["copy-value", "orders-value"])),
            ),
            (
                "GET /subjects?deletedOnly=true",
                None,
                Body(json!(["copy-value"])),
            ),
            (
                "DELETE /subjects/copy-value?permanent=true",
                None,
                Body(json!([1])),
            ),
            (
                "GET /subjects?deleted=true",
                None,
                Body(json!(["orders-value"])),
            ),
            ("DELETE /subjects/copy-value", None, Code(40401)),
            ("DELETE /subjects/nope/versions/1", None, Code(40401)),
            // Id 1 is still used by orders-value version 1.
            ("GET /schemas/ids/1", None, Want::Ok),
        ],
    )
    .await;

    // References.
    let address = json!({"type": "record", "name": "Address", "namespace": "e2e",
        "fields": [{"name": "city", "type": "string"}]})
    .to_string();
    let address_id = register(&r, "address-value", &address).await;
    let person = json!({"type": "record", "name": "Person", "namespace": "e2e",
        "fields": [{"name": "home", "type": "e2e.Address"}]})
    .to_string();
    let reference = json!([{"name": "e2e.Address", "subject": "address-value", "version": 1}]);
    let person_id = ok(
        &r,
        "POST",
        "/subjects/person-value/versions",
        Some(json!({"schema": person, "schemaType": "AVRO", "references": reference})),
    )
    .await["id"]
        .as_i64()
        .unwrap();
    assert_ne!(person_id, address_id);
    exchange(
        &r,
        vec![
            (
                "GET /subjects/address-value/versions/1/referencedby",
                None,
                Body(json!([person_id])),
            ),
            (
                "GET /subjects/orders-value/versions/1/referencedby",
                None,
                Body(json!([])),
            ),
            (
                "GET /subjects/nope/versions/1/referencedby",
                None,
                Code(40401),
            ),
        ],
    )
    .await;
    let by_id = ok(&r, "GET", &format!("/schemas/ids/{person_id}"), None).await;
    assert_eq!(by_id["references"], reference);
    let version = ok(&r, "GET", "/subjects/person-value/versions/1", None).await;
    assert_eq!(version["references"], reference);
    // A reference to nothing is an invalid schema.
    let dangling = json!({"schema": person, "references":
        [{"name": "e2e.Address", "subject": "address-value", "version": 9}]});
    exchange(
        &r,
        vec![
            (
                "DELETE /subjects/address-value/versions/1",
                None,
                Code(42206),
            ),
            ("DELETE /subjects/address-value", None, Code(42206)),
            (
                "POST /subjects/bad-value/versions",
                Some(dangling),
                Code(42201),
            ),
        ],
    )
    .await;
    r.assert_no_panic();
}

/// Everything a client can observe, as one JSON value.
async fn listing(r: &Runnel) -> Value {
    let mut out = serde_json::Map::new();
    let subjects = ok(r, "GET", "/subjects?deleted=true", None).await;
    out.insert("subjects".into(), subjects.clone());
    out.insert("live".into(), ok(r, "GET", "/subjects", None).await);
    out.insert("config".into(), ok(r, "GET", "/config", None).await);
    out.insert("mode".into(), ok(r, "GET", "/mode", None).await);
    for s in subjects.as_array().unwrap() {
        let s = s.as_str().unwrap();
        let versions = ok(
            r,
            "GET",
            &format!("/subjects/{s}/versions?deleted=true"),
            None,
        )
        .await;
        for v in versions.as_array().unwrap() {
            let body = ok(
                r,
                "GET",
                &format!("/subjects/{s}/versions/{v}?deleted=true"),
                None,
            )
            .await;
            out.insert(format!("{s}/{v}"), body);
        }
        out.insert(format!("{s}/versions"), versions);
        for what in ["config", "mode"] {
            let (status, body) = call(r, "GET", &format!("/{what}/{s}"), None).await;
            out.insert(format!("{what}/{s}"), json!([status, body]));
        }
    }
    let max_id = ok(r, "GET", "/schemas/ids/1?fetchMaxId=true", None).await["maxId"]
        .as_i64()
        .unwrap_or(0);
    out.insert("max_id".into(), json!(max_id));
    for id in 1..=max_id + 1 {
        let (status, body) = call(r, "GET", &format!("/schemas/ids/{id}"), None).await;
        let versions = call(
            r,
            "GET",
            &format!("/schemas/ids/{id}/versions?deleted=true"),
            None,
        )
        .await;
        out.insert(format!("id/{id}"), json!([status, body, versions.1]));
    }
    Value::Object(out)
}

#[tokio::test]
async fn a_restart_keeps_every_subject_version_id_config_mode_and_deletion() {
    let mut r = Runnel::start().await;
    for i in 0..5 {
        let subject = format!("s{i}-value");
        register(
            &r,
            &subject,
            &record(&format!("R{i}"), &[("a", json!("int"))]),
        )
        .await;
        let v2 = json!({"type": "record", "name": format!("R{i}"), "namespace": "e2e", "fields": [
            {"name": "a", "type": "int"}, {"name": "b", "type": "string", "default": "x"}]});
        register(&r, &subject, &v2.to_string()).await;
    }
    ok(&r, "DELETE", "/subjects/s0-value/versions/1", None).await;
    ok(&r, "DELETE", "/subjects/s1-value", None).await;
    ok(&r, "DELETE", "/subjects/s2-value", None).await;
    ok(&r, "DELETE", "/subjects/s2-value?permanent=true", None).await;
    ok(
        &r,
        "PUT",
        "/config",
        Some(json!({"compatibility": "FULL_TRANSITIVE"})),
    )
    .await;
    ok(
        &r,
        "PUT",
        "/config/s3-value",
        Some(json!({"compatibility": "NONE"})),
    )
    .await;
    ok(
        &r,
        "PUT",
        "/mode/s4-value",
        Some(json!({"mode": "READONLY"})),
    )
    .await;
    // The largest id goes with a permanent delete: it must still not be reused.
    let last = register(&r, "last-value", &record("Last", &[("z", json!("int"))])).await;
    ok(&r, "DELETE", "/subjects/last-value", None).await;
    ok(&r, "DELETE", "/subjects/last-value?permanent=true", None).await;

    let before = listing(&r).await;
    r.restart().await;
    assert_eq!(listing(&r).await, before, "after a clean restart");
    r.crash_restart().await;
    assert_eq!(listing(&r).await, before, "after kill -9");
    let next = register(&r, "next-value", &record("Next", &[("n", json!("int"))])).await;
    assert_eq!(next, last + 1, "ids are never reused");
    r.assert_no_panic();
}

#[tokio::test]
async fn normalize_stores_and_matches_the_normalized_form() {
    let r = Runnel::start().await;
    // Two spellings of one schema: a namespace beside the name, or a full name.
    let split = json!({"type": "record", "name": "N", "namespace": "e2e",
        "fields": [{"name": "a", "type": "int"}]})
    .to_string();
    let full = json!({"fields": [{"type": "int", "name": "a"}], "name": "e2e.N",
        "type": "record"})
    .to_string();
    let id = ok(
        &r,
        "POST",
        "/subjects/n-value/versions?normalize=true",
        Some(json!({"schema": split})),
    )
    .await["id"]
        .clone();
    let stored = ok(&r, "GET", "/subjects/n-value/versions/1/schema", None).await;
    assert_eq!(stored["name"], "e2e.N", "normalized: {stored}");
    // The other spelling normalizes to the same schema: found, and registering is idempotent.
    let found = ok(
        &r,
        "POST",
        "/subjects/n-value?normalize=true",
        Some(json!({"schema": full})),
    )
    .await;
    assert_eq!(found["id"], id);
    let again = ok(
        &r,
        "POST",
        "/subjects/n-value/versions?normalize=true",
        Some(json!({"schema": full})),
    )
    .await;
    assert_eq!(again["id"], id);
    assert_eq!(
        ok(&r, "GET", "/subjects/n-value/versions", None).await,
        json!([1])
    );
    r.assert_no_panic();
}

/// `_schemas` is created by the first write with one partition and `cleanup.policy=compact`,
/// and a client cannot change the policy (the broker's internal topic).
#[tokio::test]
async fn the_schemas_topic_is_one_compacted_partition() {
    let mut r = Runnel::start().await;
    let cid = r.cluster_id().await;
    let topic = format!("/v3/clusters/{cid}/topics/_schemas");
    let (status, _) = r.get_json(&topic).await;
    assert_eq!(status, 404, "no topic before the first write");
    register(&r, "a-value", &order_v1()).await;
    let (status, t) = r.get_json(&topic).await;
    assert_eq!(status, 200, "{t}");
    assert_eq!(t["partitions_count"], 1, "{t}");
    let policy = format!("{topic}/configs/cleanup.policy");
    assert_eq!(r.get_json(&policy).await.1["value"], "compact");

    let resp = r
        .http
        .put(r.url(&policy))
        .header("Content-Type", "application/json")
        .body(json!({"value": "delete"}).to_string())
        .send()
        .await
        .expect("PUT config");
    assert_eq!(resp.status().as_u16(), 400);
    assert_eq!(r.get_json(&policy).await.1["value"], "compact");
    r.restart().await;
    assert_eq!(r.get_json(&policy).await.1["value"], "compact");
    assert_eq!(ok(&r, "GET", "/subjects", None).await, json!(["a-value"]));
    r.assert_no_panic();
}

#[tokio::test]
async fn bad_input_gets_a_4xx_and_the_server_keeps_answering() {
    let r = Runnel::start().await;
    let versions = "/subjects/bad-value/versions";
    // Invalid JSON, wrong shapes, wrong content type.
    for (body, code) in [
        ("{", 400),
        ("", 400),
        ("[1]", 422),
        (r#"{"schema": 1}"#, 422),
        (r#"{"nope": 1}"#, 422),
    ] {
        let (status, _, v) = call_with(&r, "POST", versions, Some(SR), Some(body.into())).await;
        assert_eq!(
            (status, v["error_code"].as_u64()),
            (code, Some(u64::from(code))),
            "{body}: {v}"
        );
    }
    for ct in [
        "application/json",
        "application/vnd.schemaregistry+json",
        "application/octet-stream",
    ] {
        let body = json!({"schema": "\"string\""}).to_string();
        let (status, _, v) = call_with(&r, "POST", versions, Some(ct), Some(body)).await;
        assert_eq!(status, 200, "{ct}: {v}");
    }
    let (status, _, v) =
        call_with(&r, "POST", versions, Some("text/plain"), Some("{}".into())).await;
    assert_eq!((status, v["error_code"].as_u64()), (415, Some(415)), "{v}");

    // Invalid Avro: 42201 with a message that says what is wrong.
    for schema in [
        r#"{"type": "record", "name": "R"}"#,
        r#"{"type": "nonsense"}"#,
        r#"{"type": "record", "name": "R", "fields": [{"name": "a", "type": "no.Such"}]}"#,
        "not json",
    ] {
        let (status, v) = call(&r, "POST", versions, Some(json!({"schema": schema}))).await;
        assert_eq!(
            (status, v["error_code"].as_u64()),
            (422, Some(42201)),
            "{schema}: {v}"
        );
        assert!(v["message"].as_str().unwrap().len() > 16, "{v}");
    }
    let (status, v) = call(
        &r,
        "POST",
        versions,
        Some(json!({"schema": "{}", "schemaType": "PROTOBUF"})),
    )
    .await;
    assert_eq!(
        (status, v["error_code"].as_u64()),
        (422, Some(42201)),
        "{v}"
    );

    // A 10,000-deep schema.
    let deep = format!(
        "{}\"int\"{}",
        r#"{"type":"array","items":"#.repeat(10_000),
        "}".repeat(10_000)
    );
    let (status, v) = call(&r, "POST", versions, Some(json!({"schema": deep}))).await;
    assert_eq!(status, 422, "{v}");
    assert!(v["error_code"] == 42201 || v["error_code"] == 42209, "{v}");
    // A 10 MiB schema.
    let huge = format!("\"{}\"", "x".repeat(10 << 20));
    let (status, v) = call(&r, "POST", versions, Some(json!({"schema": huge}))).await;
    assert!(status == 422 || status == 413, "{status} {v}");
    assert!(v["error_code"] == 42209 || v["error_code"] == 413, "{v}");

    // Unknown level, invalid mode, bad versions, unknown id.
    err(
        &r,
        "PUT",
        "/config",
        Some(json!({"compatibility": "MOSTLY"})),
        42203,
    )
    .await;
    err(
        &r,
        "PUT",
        "/mode",
        Some(json!({"mode": "SOMETIMES"})),
        42204,
    )
    .await;
    for v in ["0", "abc"] {
        err(&r, "GET", &format!("{versions}/{v}"), None, 42202).await;
    }
    err(&r, "GET", "/schemas/ids/424242", None, 40403).await;
    err(&r, "GET", "/subjects?deleted=perhaps", None, 400).await;
    // Unknown routes and methods keep the gateway's generic answers.
    err(
        &r,
        "GET",
        "/subjects/bad-value/versions/1/nothing",
        None,
        404,
    )
    .await;
    err(&r, "PATCH", "/subjects", None, 405).await;

    // Still serving.
    assert_eq!(ok(&r, "GET", "/subjects", None).await, json!(["bad-value"]));
    let (status, _) = r.get_json("/ready").await;
    assert_eq!(status, 200);
    r.assert_no_panic();
}

#[tokio::test]
async fn the_default_level_comes_from_the_server_config() {
    let r = Runnel::start_with_env(&[("RUNNEL_SCHEMA_COMPATIBILITY_LEVEL", "none")]).await;
    let (status, body) = r.get_json("/config").await;
    assert_eq!(
        (status, &body),
        (200, &json!({"compatibilityLevel": "NONE"}))
    );
    // Under NONE a breaking change registers.
    let v1 = r#"{"type":"record","name":"R","fields":[{"name":"a","type":"int"}]}"#;
    let v2 = r#"{"type":"record","name":"R","fields":[{"name":"b","type":"string"}]}"#;
    for schema in [v1, v2] {
        r.post_expect(
            "/subjects/cfg-value/versions",
            "application/json",
            &json!({"schema": schema}),
            200,
        )
        .await;
    }
    r.assert_no_panic();

    // An unknown level stops the server at start, naming the setting.
    let out = std::process::Command::new(crate::support::runnel_bin())
        .args(["serve", "--data-dir"])
        .arg(r.root().join("other"))
        .args(["--listen", "127.0.0.1:0"])
        .env("RUNNEL_SCHEMA_COMPATIBILITY_LEVEL", "SIDEWAYS")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("RUNNEL_SCHEMA_COMPATIBILITY_LEVEL")
            || stderr.contains("schema_compatibility_level"),
        "{stderr}"
    );
}
