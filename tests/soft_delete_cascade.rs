//! `@@softDelete(cascade)`: remove / remove_many soft-delete FK children
//! (and whole self-relation subtrees) with the parent's timestamp; restore
//! brings back exactly what the removal took.
#![allow(clippy::unwrap_used)]

use litestone::Client;
use serde_json::{Value, json};

const SCHEMA: &str = r#"
model accounts {
  id        Integer   @id
  name      Text
  deletedAt DateTime?
  users     users[]
  notes     notes[]
  @@softDelete(cascade)
}
model users {
  id        Integer   @id
  account   accounts  @relation(fields: [accountId], references: [id])
  accountId Integer
  email     Text
  deletedAt DateTime?
  @@softDelete
}
model notes {
  id        Integer  @id
  account   accounts @relation(fields: [accountId], references: [id])
  accountId Integer
  body      Text
}
model categories {
  id        Integer      @id
  name      Text
  parent    categories?  @relation(fields: [parentId], references: [id])
  parentId  Integer?
  children  categories[]
  deletedAt DateTime?
  @@softDelete(cascade)
}
model plain {
  id        Integer  @id
  deletedAt DateTime?
  @@softDelete
}
"#;

async fn open(dir: &tempfile::TempDir) -> (Client, rusqlite::Connection) {
    let path = dir.path().join("c.db");
    let db = Client::builder()
        .schema(SCHEMA)
        .db_path(path.to_str().unwrap())
        .auto_migrate(true)
        .open()
        .await
        .unwrap();
    db.model("accounts")
        .create_many(json!({"data": [{"id": 1, "name": "a"}, {"id": 2, "name": "b"}]}))
        .await
        .unwrap();
    db.model("users")
        .create_many(json!({"data": [
            {"id": 1, "accountId": 1, "email": "x"},
            {"id": 2, "accountId": 1, "email": "y"},
            {"id": 3, "accountId": 2, "email": "z"},
        ]}))
        .await
        .unwrap();
    db.model("notes")
        .create(json!({"data": {"accountId": 1, "body": "kept"}}))
        .await
        .unwrap();
    (db, rusqlite::Connection::open(path).unwrap())
}

fn deleted(c: &rusqlite::Connection, table: &str) -> Vec<i64> {
    let mut st = c
        .prepare(&format!(
            "SELECT id FROM \"{table}\" WHERE deletedAt IS NOT NULL ORDER BY id"
        ))
        .unwrap();
    st.query_map([], |r| r.get(0))
        .unwrap()
        .collect::<rusqlite::Result<_>>()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn remove_cascades_to_children_and_restore_undoes_it() {
    let dir = tempfile::tempdir().unwrap();
    let (db, raw) = open(&dir).await;
    // User 2 was removed on its own, earlier.
    db.model("users")
        .remove(json!({"where": {"id": 2}}))
        .await
        .unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    let acct = db
        .model("accounts")
        .remove(json!({"where": {"id": 1}}))
        .await
        .unwrap();
    assert_eq!(deleted(&raw, "accounts"), vec![1]);
    assert_eq!(deleted(&raw, "users"), vec![1, 2]);
    let ts: String = raw
        .query_row("SELECT deletedAt FROM users WHERE id = 1", [], |r| r.get(0))
        .unwrap();
    assert_eq!(Value::String(ts), acct["deletedAt"]);
    // Not a soft-delete model: untouched.
    let notes: i64 = raw
        .query_row("SELECT count(*) FROM notes", [], |r| r.get(0))
        .unwrap();
    assert_eq!(notes, 1);
    assert_eq!(db.model("users").count(json!({})).await.unwrap(), json!(1));

    let restored = db
        .model("accounts")
        .restore(json!({"where": {"id": 1}}))
        .await
        .unwrap();
    assert_eq!(restored.as_array().unwrap().len(), 1);
    assert!(deleted(&raw, "accounts").is_empty());
    // User 1 came back with its account; user 2 was removed on its own.
    assert_eq!(deleted(&raw, "users"), vec![2]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn remove_many_cascades_and_other_parents_are_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let (db, raw) = open(&dir).await;
    let r = db
        .model("accounts")
        .remove_many(json!({"where": {"name": "b"}}))
        .await
        .unwrap();
    assert_eq!(r, json!({"count": 1}));
    assert_eq!(deleted(&raw, "accounts"), vec![2]);
    assert_eq!(deleted(&raw, "users"), vec![3]);
    // A model without cascade does nothing more than its own rows.
    db.model("plain")
        .create(json!({"data": {"id": 1}}))
        .await
        .unwrap();
    db.model("plain")
        .remove(json!({"where": {"id": 1}}))
        .await
        .unwrap();
    assert_eq!(deleted(&raw, "plain"), vec![1]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn self_relation_subtrees_follow_their_root() {
    let dir = tempfile::tempdir().unwrap();
    let (db, raw) = open(&dir).await;
    // 1 ─ 2 ─ 3 ─ 4, and 1 ─ 5; 6 is another root.
    db.model("categories")
        .create_many(json!({"data": [
            {"id": 1, "name": "root"},
            {"id": 2, "name": "a", "parentId": 1},
            {"id": 3, "name": "b", "parentId": 2},
            {"id": 4, "name": "c", "parentId": 3},
            {"id": 5, "name": "d", "parentId": 1},
            {"id": 6, "name": "other"},
        ]}))
        .await
        .unwrap();
    db.model("categories")
        .remove(json!({"where": {"id": 3}}))
        .await
        .unwrap();
    assert_eq!(deleted(&raw, "categories"), vec![3, 4]);
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    db.model("categories")
        .remove(json!({"where": {"id": 1}}))
        .await
        .unwrap();
    assert_eq!(deleted(&raw, "categories"), vec![1, 2, 3, 4, 5]);
    db.model("categories")
        .restore(json!({"where": {"id": 1}}))
        .await
        .unwrap();
    // 3 and 4 were removed before (another timestamp): they stay removed.
    assert_eq!(deleted(&raw, "categories"), vec![3, 4]);
    let live = db.model("categories").count(json!({})).await.unwrap();
    assert_eq!(live, json!(4));
}
