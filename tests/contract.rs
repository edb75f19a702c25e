//! The public API contract of DESIGN.md, exercised exactly as written there:
//! names, argument shapes, result shapes, `Send` futures, error kinds.
#![allow(clippy::unwrap_used)]

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use litestone::{Client, ErrorKind};
use serde::Deserialize;
use serde_json::json;

const SCHEMA: &str = r#"
model accounts {
  id    Integer @id
  name  Text
  users users[]
}
model users {
  id        Integer  @id
  account   accounts @relation(fields: [accountId], references: [id])
  accountId Integer
  email     Text     @unique
  role      Text     @default("member")
  active    Boolean  @default(true)
  createdAt DateTime @default(now())
}
"#;

#[derive(Debug, Deserialize)]
struct User {
    id: i64,
    email: String,
    active: bool,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_design_example_runs_as_written() {
    let dir = tempfile::tempdir().unwrap();
    let schema_path = dir.path().join("schema.lite");
    std::fs::write(&schema_path, SCHEMA).unwrap();
    let seen = Arc::new(AtomicUsize::new(0));
    let seen2 = seen.clone();
    let db = Client::builder()
        .schema_file(schema_path.to_str().unwrap())
        .db_path(dir.path().join("app.db").to_str().unwrap())
        .auto_migrate(true)
        .pragma("synchronous", "FULL")
        .readers(2)
        .on_query(move |_e| {
            seen2.fetch_add(1, Ordering::Relaxed);
        })
        .open()
        .await
        .unwrap();

    let (acct, user) = db
        .transaction(async |tx| {
            let acct = tx
                .model("accounts")
                .create(json!({"data": {"name": "Acme"}}))
                .await?;
            let user = tx
                .model("users")
                .create(
                    json!({"data": {"accountId": acct["id"], "email": "a@b.c", "role": "admin"}}),
                )
                .await?;
            Ok((acct, user))
        })
        .await
        .unwrap();
    assert_eq!(acct["name"], json!("Acme"));
    assert_eq!(user["accountId"], acct["id"]);
    assert_eq!(user["active"], json!(true));
    let created = user["createdAt"].as_str().unwrap();
    assert_eq!(created.len(), "2024-01-01T00:00:00.000Z".len());
    assert!(created.ends_with('Z'));

    let admins = db
        .model("users")
        .find_many(json!({
            "where":   { "role": "admin" },
            "include": { "account": true },
            "orderBy": { "createdAt": "desc" },
            "limit":   20
        }))
        .await
        .unwrap();
    assert_eq!(admins.as_array().unwrap().len(), 1);
    assert_eq!(admins[0]["account"]["name"], json!("Acme"));

    let page = db
        .model("users")
        .find_many_cursor(json!({"limit": 50, "orderBy": {"id": "asc"}}))
        .await
        .unwrap();
    assert_eq!(page["items"].as_array().unwrap().len(), 1);
    assert_eq!(page["hasMore"], json!(false));
    assert!(page["nextCursor"].is_null());

    let typed: Vec<User> = db
        .model("users")
        .find_many_as::<User>(json!({"where": {"active": true}}))
        .await
        .unwrap();
    assert_eq!(typed.len(), 1);
    assert_eq!(typed[0].email, "a@b.c");
    assert!(typed[0].active && typed[0].id > 0);
    let one: Option<User> = db
        .model("users")
        .find_unique_as(json!({"where": {"email": "a@b.c"}}))
        .await
        .unwrap();
    assert!(one.is_some());

    {
        let _guard = db.lock("nightly-report").await.unwrap();
    }
    let n = db
        .with_lock("nightly-report", async || {
            db.model("users").count(json!({})).await
        })
        .await
        .unwrap();
    assert_eq!(n, json!(1));

    // Every returned future is Send: usable under tokio::spawn.
    let m = db.model("users");
    let spawned = tokio::spawn(async move { m.exists(json!({"where": {"email": "a@b.c"}})).await })
        .await
        .unwrap()
        .unwrap();
    assert_eq!(spawned, json!(true));
    let db2 = db.clone();
    tokio::spawn(async move {
        db2.transaction(async |tx| tx.model("users").count(json!({})).await)
            .await
    })
    .await
    .unwrap()
    .unwrap();

    let batch = db
        .query(json!({
            "users": {"where": {"active": true}},
            "n": {"model": "users", "_count": true},
        }))
        .await
        .unwrap();
    assert_eq!(batch["n"]["_count"], json!(1));

    let rows = db
        .sql("SELECT email FROM users WHERE id = ?", json!([user["id"]]))
        .await
        .unwrap();
    assert_eq!(rows, json!([{"email": "a@b.c"}]));

    let scoped = db.set_auth(json!({"id": 1})).as_system();
    assert_eq!(
        scoped.model("users").count(json!({})).await.unwrap(),
        json!(1)
    );

    let counts = db
        .model("users")
        .update_many(json!({"where": {"role": "admin"}, "data": {"active": false}}))
        .await
        .unwrap();
    assert_eq!(counts, json!({"count": 1}));
    let none = db
        .model("users")
        .create(json!({"data": {"accountId": acct["id"], "email": "b@b.c"}, "select": false}))
        .await
        .unwrap();
    assert!(none.is_null());
    let fc = db
        .model("users")
        .find_many_and_count(json!({"limit": 1}))
        .await
        .unwrap();
    assert_eq!(fc["total"], json!(2));
    assert_eq!(fc["rows"].as_array().unwrap().len(), 1);

    assert!(seen.load(Ordering::Relaxed) > 0);

    // Error kinds.
    let e = db.model("nope").find_many(json!({})).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::UnknownModel);
    let e = db
        .model("users")
        .find_many(json!({"where": {"nope": 1}}))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::UnknownField);
    let e = db
        .model("users")
        .create(json!({"data": {"accountId": acct["id"], "email": "a@b.c"}}))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::UniqueViolation);
    let e = db
        .model("users")
        .create(json!({"data": {"accountId": 999, "email": "z@b.c"}}))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::ForeignKeyViolation);
    let e = db
        .model("users")
        .find_unique_or_throw(json!({"where": {"email": "none@b.c"}}))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotFound);

    db.close().await.unwrap();
    let e = db.model("users").count(json!({})).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Closed);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_open_reads_the_database_block() {
    let dir = tempfile::tempdir().unwrap();
    let db_file = dir.path().join("main.db");
    let schema_path = dir.path().join("schema.lite");
    std::fs::write(
        &schema_path,
        format!(
            "database main {{ path \"{}\" }}\n{SCHEMA}",
            db_file.to_str().unwrap()
        ),
    )
    .unwrap();
    let db = Client::open(&schema_path).await.unwrap();
    db.push().await.unwrap();
    db.model("accounts")
        .create(json!({"data": {"name": "x"}}))
        .await
        .unwrap();
    db.close().await.unwrap();
    assert!(db_file.exists());
    let c = rusqlite::Connection::open(&db_file).unwrap();
    let n: i64 = c
        .query_row("SELECT count(*) FROM accounts", [], |r| r.get(0))
        .unwrap();
    assert_eq!(n, 1);
}
