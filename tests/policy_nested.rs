//! Nested writes and access rules: a nested `create`/`update` that would
//! write a model with row or field policies (or a gate) is refused as a
//! whole with `AccessDenied` instead of running unchecked; nothing is
//! written. `as_system()` and models without rules are unaffected.
#![allow(clippy::unwrap_used)]

use litestone::{Client, ErrorKind};
use serde_json::json;

const SCHEMA: &str = r#"
model accounts {
  id    Integer @id
  name  Text
  users users[]
  notes notes[]
}
model users {
  id        Integer @id
  accountId Integer
  account   accounts @relation(fields: [accountId], references: [id])
  email     Text @unique
  @@allow('all', accountId == auth().accountId)
}
model notes {
  id        Integer @id
  accountId Integer
  account   accounts @relation(fields: [accountId], references: [id])
  body      Text
}
"#;

async fn open(dir: &tempfile::TempDir) -> Client {
    Client::builder()
        .schema(SCHEMA)
        .db_path(dir.path().join("n.db").to_str().unwrap())
        .auto_migrate(true)
        .open()
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nested_writes_into_policed_models_are_refused_whole() {
    let dir = tempfile::tempdir().unwrap();
    let db = open(&dir).await;
    let user = db.set_auth(json!({"id": 1, "accountId": 1}));

    // A nested create reaching `users` (policed) from `accounts` (not).
    let e = user
        .model("accounts")
        .create(json!({"data": {"name": "Acme", "users": {"create": [{"email": "x@y.z"}]}}}))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::AccessDenied, "{e}");
    assert!(e.to_string().contains("users"), "{e}");
    let raw = db
        .sql(
            "SELECT (SELECT count(*) FROM accounts) AS a, (SELECT count(*) FROM users) AS u",
            json!([]),
        )
        .await
        .unwrap();
    assert_eq!(raw[0]["a"], json!(0));
    assert_eq!(raw[0]["u"], json!(0));

    // Starting from the policed model itself.
    db.as_system()
        .model("accounts")
        .create(json!({"data": {"id": 2, "name": "Other"}}))
        .await
        .unwrap();
    let e = user
        .model("users")
        .create(json!({"data": {"email": "a@b.c", "account": {"connect": {"id": 2}}}}))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::AccessDenied, "{e}");
    assert_eq!(
        db.as_system()
            .model("users")
            .count(json!({}))
            .await
            .unwrap(),
        json!(0)
    );

    // Models without rules: nested writes run.
    let acct = user
        .model("accounts")
        .create(json!({"data": {"name": "Free", "notes": {"create": [{"body": "hi"}]}}, "include": {"notes": true}}))
        .await
        .unwrap();
    assert_eq!(acct["notes"][0]["body"], json!("hi"));

    // as_system: the nested write into the policed model runs.
    let acct = db
        .as_system()
        .model("accounts")
        .create(json!({"data": {"name": "Sys", "users": {"create": [{"email": "s@y.z"}]}}, "include": {"users": true}}))
        .await
        .unwrap();
    assert_eq!(acct["users"][0]["email"], json!("s@y.z"));
}
