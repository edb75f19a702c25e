//! `driver jsonl` databases: append-only `<model>.jsonl` files, queried
//! with the full read API, reloaded at open, retention applied.
#![allow(clippy::unwrap_used)]

use litestone::{Client, ErrorKind};
use serde_json::{Value, json};

fn schema(dir: &std::path::Path) -> String {
    format!(
        r#"
database main {{ path "{main}" }}
database logs {{ path "{logs}"; driver jsonl; retention 30d }}

model users {{
  id    Integer @id
  email Text
}}
model apiRequests {{
  id        Integer  @id
  method    Text
  path      Text
  status    Integer
  createdAt DateTime @default(now())
  @@db(logs)
}}
"#,
        main = dir.join("app.db").display(),
        logs = dir.join("logs").display()
    )
}

async fn open(dir: &std::path::Path) -> Client {
    Client::builder()
        .schema(&schema(dir))
        .auto_migrate(true)
        .open()
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jsonl_models_append_query_and_reload() {
    let dir = tempfile::tempdir().unwrap();
    let db = open(dir.path()).await;
    let req = db.model("apiRequests");
    let one = req
        .create(json!({"data": {"method": "GET", "path": "/", "status": 200}}))
        .await
        .unwrap();
    assert_eq!(one["id"], json!(1));
    assert!(one["createdAt"].as_str().unwrap().ends_with('Z'));
    let n = req
        .create_many(json!({"data": [
            {"method": "POST", "path": "/login", "status": 401},
            {"method": "GET", "path": "/home", "status": 200},
            {"method": "GET", "path": "/missing", "status": 404}
        ]}))
        .await
        .unwrap();
    assert_eq!(n, json!({"count": 3}));
    let file = dir.path().join("logs").join("apiRequests.jsonl");
    let lines: Vec<Value> = std::fs::read_to_string(&file)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 4);
    assert_eq!(lines[1]["path"], json!("/login"));
    assert_eq!(lines[3]["id"], json!(4));

    // Introspection (README `$databases`, `$softDelete`).
    let dbs = db.databases();
    assert_eq!(dbs["logs"]["driver"], json!("jsonl"));
    assert_eq!(dbs["main"]["driver"], json!("sqlite"));
    assert!(dbs["main"]["path"].as_str().unwrap().ends_with("app.db"));
    assert_eq!(
        db.soft_delete_models(),
        json!({"users": false, "apiRequests": false})
    );
    assert_eq!(db.enums(), json!({}));

    // Reads: the whole query API.
    let ok = req
        .find_many(json!({"where": {"status": {"lt": 300}}, "orderBy": {"id": "desc"}, "select": {"path": true}}))
        .await
        .unwrap();
    assert_eq!(ok, json!([{"path": "/home"}, {"path": "/"}]));
    let groups = req
        .group_by(json!({"by": ["method"], "_count": true, "orderBy": {"method": "asc"}}))
        .await
        .unwrap();
    assert_eq!(
        groups,
        json!([{"method": "GET", "_count": 3}, {"method": "POST", "_count": 1}])
    );

    // Append-only; bad rows refused before anything is appended.
    let e = req
        .update(json!({"where": {"id": 1}, "data": {"status": 500}}))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidArgs, "{e}");
    let e = req
        .delete_many(json!({"where": {"id": 1}}))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidArgs);
    let e = req
        .create(json!({"data": {"method": "GET", "path": "/", "status": "ok"}}))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Validation, "{e}");
    assert_eq!(std::fs::read_to_string(&file).unwrap().lines().count(), 4);

    // The main database is unaffected and works as usual.
    db.model("users")
        .create(json!({"data": {"email": "a@b.c"}}))
        .await
        .unwrap();
    db.close().await.unwrap();

    // An old line (past retention) and a broken one, then reopen: the old
    // row is dropped from memory and file, the broken line is skipped.
    let mut text = std::fs::read_to_string(&file).unwrap();
    text.push_str(
        "{\"id\": 5, \"method\": \"GET\", \"path\": \"/old\", \"status\": 200, \"createdAt\": \"2001-01-01T00:00:00.000Z\"}\n",
    );
    text.push_str("not json\n");
    std::fs::write(&file, text).unwrap();
    let db = open(dir.path()).await;
    let req = db.model("apiRequests");
    assert_eq!(req.count(json!({})).await.unwrap(), json!(4));
    assert_eq!(
        req.count(json!({"where": {"path": "/old"}})).await.unwrap(),
        json!(0)
    );
    assert!(!std::fs::read_to_string(&file).unwrap().contains("/old"));
    let next = req
        .create(json!({"data": {"method": "GET", "path": "/again", "status": 200}}))
        .await
        .unwrap();
    assert_eq!(next["id"], json!(5));
    assert_eq!(db.model("users").count(json!({})).await.unwrap(), json!(1));
}
