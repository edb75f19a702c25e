//! `@@log` / `@log` / `@secret` with a `driver logger` database: entries
//! after commit, queryable as `auditLogs`, no secret values, rolled-back
//! work never logged, retention applied at open.
#![allow(clippy::unwrap_used)]

use litestone::Client;
use serde_json::{Value, json};

fn schema(dir: &std::path::Path) -> String {
    format!(
        r#"
database main  {{ path "{main}" }}
database audit {{ path "{audit}/"; driver logger; retention 30d }}

model users {{
  id     Integer @id
  email  Text    @unique
  name   Text?
  apiKey Text?   @secret
  @@log(audit)
}}
model notes {{
  id    Integer @id
  body  Text
  owner Text?   @log(audit)
}}
"#,
        main = dir.join("app.db").display(),
        audit = dir.join("audit").display()
    )
}

async fn open(dir: &std::path::Path) -> Client {
    Client::builder()
        .schema(&schema(dir))
        .encryption_key(&"ab".repeat(32))
        .on_log(|entry, auth| {
            json!({"requestId": auth.and_then(|a| a.get("req")).cloned(), "model": entry["model"]})
        })
        .auto_migrate(true)
        .open()
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn writes_to_logged_models_leave_audit_entries() {
    let dir = tempfile::tempdir().unwrap();
    let db = open(dir.path()).await;
    assert!(dir.path().join("audit").join("audit.db").exists());
    let me = db.set_auth(json!({"id": 7, "req": "r-1"}));
    me.model("users")
        .create(json!({"data": {"email": "a@x.io", "name": "Ann", "apiKey": "sk_secret_1"}}))
        .await
        .unwrap();
    me.model("users")
        .update(json!({"where": {"id": 1}, "data": {"name": "Ann B"}}))
        .await
        .unwrap();
    me.model("users")
        .update_many(json!({"where": {"id": {"gt": 0}}, "data": {"name": "x"}}))
        .await
        .unwrap();
    me.model("users")
        .delete(json!({"where": {"id": 1}}))
        .await
        .unwrap();
    // Field-level: only writes naming `owner`.
    me.model("notes")
        .create(json!({"data": {"body": "plain"}}))
        .await
        .unwrap();
    me.model("notes")
        .create(json!({"data": {"body": "owned", "owner": "bob"}}))
        .await
        .unwrap();
    // Rolled back: never logged.
    let r: litestone::Result<()> = me
        .transaction(async |tx| {
            tx.model("users")
                .create(json!({"data": {"email": "gone@x.io"}}))
                .await?;
            Err(litestone::Error::invalid_args("", "roll back"))
        })
        .await;
    assert!(r.is_err());
    // Committed in a transaction: logged after COMMIT.
    me.transaction(async |tx| {
        tx.model("users")
            .create(json!({"data": {"email": "tx@x.io"}}))
            .await?;
        Ok(())
    })
    .await
    .unwrap();

    let log = db
        .model("auditLogs")
        .find_many(json!({"orderBy": {"id": "asc"}}))
        .await
        .unwrap();
    let rows = log.as_array().unwrap();
    let summary: Vec<(String, String, Value)> = rows
        .iter()
        .map(|r| {
            (
                r["model"].as_str().unwrap().to_string(),
                r["action"].as_str().unwrap().to_string(),
                r["recordId"].clone(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        vec![
            ("users".into(), "create".into(), json!("1")),
            ("users".into(), "update".into(), json!("1")),
            ("users".into(), "update".into(), Value::Null),
            ("users".into(), "delete".into(), json!("1")),
            ("notes".into(), "create".into(), json!("2")),
            // Row ids are reused after the delete (no AUTOINCREMENT).
            ("users".into(), "create".into(), json!("1")),
        ]
    );
    assert_eq!(rows[0]["actorId"], json!("7"));
    assert_eq!(
        rows[0]["meta"],
        json!({"requestId": "r-1", "model": "users"})
    );
    assert_eq!(rows[0]["data"]["email"], json!("a@x.io"));
    assert!(rows[0]["data"].get("apiKey").is_none());
    assert!(
        rows[0]["fields"]
            .as_array()
            .unwrap()
            .contains(&json!("apiKey"))
    );
    assert_eq!(rows[2]["data"]["count"], json!(1));
    assert_eq!(rows[4]["fields"], json!(["owner"]));
    assert_eq!(rows[4]["data"], Value::Null);
    // No plaintext secret anywhere in the log file.
    let raw = std::fs::read(dir.path().join("audit").join("audit.db")).unwrap();
    let text = String::from_utf8_lossy(&raw);
    assert!(!text.contains("sk_secret_1"));
    let filtered = db
        .model("auditLogs")
        .count(json!({"where": {"model": "notes"}}))
        .await
        .unwrap();
    assert_eq!(filtered, json!(1));
    db.close().await.unwrap();

    // Retention: entries older than 30 days go at the next open.
    let audit = rusqlite::Connection::open(dir.path().join("audit").join("audit.db")).unwrap();
    audit
        .execute(
            "UPDATE auditLogs SET createdAt = '2000-01-01T00:00:00.000Z' WHERE id <= 2",
            [],
        )
        .unwrap();
    drop(audit);
    let db = open(dir.path()).await;
    assert_eq!(
        db.model("auditLogs").count(json!({})).await.unwrap(),
        json!(4)
    );
}
