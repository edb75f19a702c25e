//! Hostile identifiers are rejected, hostile values are bound; the table
//! survives every attempt.
#![allow(clippy::unwrap_used)]
mod common;
use common::*;
use litestone::ErrorKind;
use serde_json::json;

const HOSTILE: &[&str] = &[
    "id; DROP TABLE users",
    "\"x",
    "id\" = 1 OR \"1",
    "1=1 --",
    "email) OR (1=1",
    "name`",
    "",
    "rowid",
    "__proto__",
];

#[tokio::test]
async fn hostile_field_names_are_unknown_fields() {
    let db = open().await;
    seed(&db).await;
    let m = db.client.model("users");
    for key in HOSTILE {
        let checks = [
            m.find_many(json!({"where": {*key: 1}})).await,
            m.find_many(json!({"orderBy": {*key: "asc"}})).await,
            m.find_many(json!({"select": {*key: true}})).await,
            m.find_many(json!({"include": {*key: true}})).await,
            m.update_many(json!({"where": {"id": 1}, "data": {*key: 1}}))
                .await,
            m.create(json!({"data": {"email": "h@x.io", *key: 1}}))
                .await,
            m.find_many(json!({"where": {"posts": {"some": {*key: 1}}}}))
                .await,
        ];
        for r in checks {
            let e = r.unwrap_err();
            assert_eq!(e.kind(), ErrorKind::UnknownField, "{key}: {e}");
        }
        let e = m
            .find_many(json!({"where": {"address": {*key: "x"}}}))
            .await
            .unwrap_err();
        assert!(
            matches!(e.kind(), ErrorKind::UnknownField | ErrorKind::InvalidArgs),
            "{key}: {e}"
        );
        let e = m
            .find_many(json!({"where": {"age": {*key: 1}}}))
            .await
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidArgs, "{key}: {e}");
        let e = m.find_many(json!({*key: 1})).await.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidArgs, "{key}: {e}");
        let e = db.client.model(key).find_many(json!({})).await.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::UnknownModel, "{key}: {e}");
    }
    let e = m
        .find_many(json!({"orderBy": {"id": "asc; DROP TABLE users"}}))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidArgs);
    let e = m
        .find_many(json!({"orderBy": {"age": {"dir": "asc", "nulls": "last; --"}}}))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidArgs);
    assert_eq!(db.col("SELECT COUNT(*) FROM users"), vec![json!(4)]);
}

#[tokio::test]
async fn hostile_values_are_bound() {
    let db = open().await;
    seed(&db).await;
    let m = db.client.model("users");
    let evil = [
        "'; DROP TABLE users; --",
        "\" OR 1=1 --",
        "x') OR ('1'='1",
        "%",
        "_",
        "*",
        "\\",
        "\u{0}",
        "Robert'); DROP TABLE users;--",
    ];
    for v in evil {
        for w in [
            json!({"name": v}),
            json!({"name": {"contains": v}}),
            json!({"name": {"startsWith": v, "mode": "insensitive"}}),
            json!({"name": {"in": [v, "Bob"]}}),
            json!({"address": {"city": v}}),
        ] {
            match m.find_many(json!({"where": w})).await {
                Ok(r) => assert!(r.as_array().unwrap().len() <= 1, "{w}"),
                // a NUL inside a text pattern is refused, never widened
                Err(e) => {
                    assert!(v.contains('\0'), "{w}: {e}");
                    assert_eq!(e.kind(), ErrorKind::InvalidArgs);
                }
            }
        }
        let created = m
            .create(json!({"data": {"email": format!("e{}@x.io", v.len()), "name": v}}))
            .await
            .unwrap();
        assert_eq!(created["name"], v);
        let back = m
            .find_unique(json!({"where": {"id": created["id"]}}))
            .await
            .unwrap();
        assert_eq!(back["name"], v);
        m.delete(json!({"where": {"id": created["id"]}}))
            .await
            .unwrap();
    }
    // the hostile JSON path value is bound too
    let e = m
        .find_many(json!({"where": {"address": {"city') OR 1=1 --": "x"}}}))
        .await
        .unwrap_err();
    assert!(matches!(
        e.kind(),
        ErrorKind::UnknownField | ErrorKind::InvalidArgs
    ));
    let a = db
        .client
        .model("accounts")
        .find_many(json!({"where": {"meta": {"a.b": 1}}}))
        .await
        .unwrap_err();
    assert_eq!(a.kind(), ErrorKind::InvalidArgs);
    assert_eq!(db.col("SELECT COUNT(*) FROM users"), vec![json!(4)]);
    assert_eq!(
        db.col("SELECT name FROM users WHERE id = 2"),
        vec![json!("Bob")]
    );
}
