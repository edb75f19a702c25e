//! `client.query(spec)` applies the same gates, row policies and global
//! filters as single model calls.
#![allow(clippy::unwrap_used)]

use litestone::{Client, ErrorKind};
use serde_json::{Value, json};

const SCHEMA: &str = r#"
model posts {
  id        Integer @id
  accountId Integer
  status    Text    @default("draft")
  @@allow('read', status == 'published' || accountId == auth().accountId)
}
model secrets {
  id   Integer @id
  note Text
  @@gate("5.5.5.5")
}
"#;

async fn open(dir: &tempfile::TempDir) -> Client {
    let db = Client::builder()
        .schema(SCHEMA)
        .db_path(dir.path().join("b.db").to_str().unwrap())
        .auto_migrate(true)
        .filters(json!({"posts": {"id": {"lt": 100}}}))
        .gate(|auth: Option<&Value>, _model: &str| {
            if auth.and_then(|a| a.get("admin")) == Some(&json!(true)) {
                5
            } else {
                1
            }
        })
        .open()
        .await
        .unwrap();
    let sys = db.as_system();
    sys.model("posts")
        .create_many(json!({"data": [
            {"id": 1, "accountId": 1, "status": "published"},
            {"id": 2, "accountId": 1},
            {"id": 3, "accountId": 2},
            {"id": 100, "accountId": 2, "status": "published"},
        ]}))
        .await
        .unwrap();
    sys.model("secrets")
        .create(json!({"data": {"note": "x"}}))
        .await
        .unwrap();
    db
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn batch_entries_get_policies_and_global_filters() {
    let dir = tempfile::tempdir().unwrap();
    let db = open(&dir).await;
    let out = db
        .set_auth(json!({"id": 7, "accountId": 2}))
        .query(json!({
            "mine": {"model": "posts", "orderBy": {"id": "asc"}},
            "n": {"model": "posts", "_count": true},
        }))
        .await
        .unwrap();
    let ids: Vec<i64> = out["mine"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_i64().unwrap())
        .collect();
    // Published post 1 and own post 3; post 100 is removed by the global filter.
    assert_eq!(ids, vec![1, 3]);
    assert_eq!(out["n"]["_count"], json!(2));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn batch_entries_are_gated() {
    let dir = tempfile::tempdir().unwrap();
    let db = open(&dir).await;
    let err = db
        .set_auth(json!({"id": 1}))
        .query(json!({"s": {"model": "secrets"}}))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::AccessDenied);
    let ok = db
        .set_auth(json!({"id": 1, "admin": true}))
        .query(json!({"s": {"model": "secrets"}}))
        .await
        .unwrap();
    assert_eq!(ok["s"].as_array().unwrap().len(), 1);
}
