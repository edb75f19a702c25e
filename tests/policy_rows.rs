//! Row-level policies (`@@allow` / `@@deny`) through the public API on a
//! real SQLite file: rows returned, rows left behind, AccessDenied kinds and
//! custom messages, `as_system` bypass, missing auth, soft delete.

mod common;

use common::{Db, ids, open_with};
use litestone::{Error, ErrorKind};
use serde_json::{Value, json};

const SCHEMA: &str = r#"
model accounts {
  id      Integer @id
  name    Text
  ownerId Integer?
  posts   posts[]
}

model posts {
  id        Integer   @id
  account   accounts  @relation(fields: [accountId], references: [id])
  accountId Integer
  status    Text      @default("draft")
  title     Text
  deletedAt DateTime?
  comments  comments[]

  @@softDelete
  @@allow('read',   status == 'published' || accountId == auth().accountId)
  @@allow('create', accountId == auth().accountId, "you can only post in your account")
  @@allow('update', accountId == auth().accountId)
  @@deny('delete',  status == 'published', "published posts can never be deleted")
}

model comments {
  id     Integer @id
  post   posts   @relation(fields: [postId], references: [id])
  postId Integer
  body   Text
  hidden Boolean @default(false)

  @@deny('read', hidden)
}

model notes {
  id     Integer @id
  body   Text
  secret Boolean @default(false)

  @@allow('all', true)
  @@deny('read', secret, "secret notes")
  @@deny('update', secret)
}
"#;

async fn setup() -> Db {
    let db = open_with(SCHEMA).await;
    let sys = db.client.as_system();
    sys.model("accounts")
        .create_many(json!({"data": [
            {"id": 5, "name": "five", "ownerId": 1},
            {"id": 6, "name": "six", "ownerId": 2}
        ]}))
        .await
        .expect("accounts");
    sys.model("posts")
        .create_many(json!({"data": [
            {"id": 1, "accountId": 5, "status": "draft", "title": "a"},
            {"id": 2, "accountId": 5, "status": "published", "title": "b"},
            {"id": 3, "accountId": 6, "status": "draft", "title": "c"},
            {"id": 4, "accountId": 6, "status": "published", "title": "d"}
        ]}))
        .await
        .expect("posts");
    sys.model("comments")
        .create_many(json!({"data": [
            {"id": 1, "postId": 1, "body": "x"},
            {"id": 2, "postId": 1, "body": "y", "hidden": true},
            {"id": 3, "postId": 3, "body": "z"}
        ]}))
        .await
        .expect("comments");
    db
}

fn user(db: &Db) -> litestone::Client {
    db.client.set_auth(json!({"id": 1, "accountId": 5}))
}

fn denied(e: &Error) -> (&str, &str) {
    match e {
        Error::AccessDenied {
            operation, message, ..
        } => (operation.as_str(), message.as_str()),
        other => panic!("expected AccessDenied, got {other:?}"),
    }
}

fn left(db: &Db) -> Vec<Value> {
    db.col("SELECT id FROM posts ORDER BY id")
}

#[tokio::test]
async fn reads_only_see_permitted_rows() {
    let db = setup().await;
    let u = user(&db);
    let posts = u.model("posts");
    let all = posts
        .find_many(json!({"orderBy": {"id": "asc"}}))
        .await
        .unwrap();
    assert_eq!(ids(&all), vec![1, 2, 4]);
    assert_eq!(posts.count(json!({})).await.unwrap(), json!(3));
    assert_eq!(
        posts.exists(json!({"where": {"id": 3}})).await.unwrap(),
        json!(false)
    );
    assert_eq!(
        posts
            .find_unique(json!({"where": {"id": 3}}))
            .await
            .unwrap(),
        Value::Null
    );
    let e = posts
        .find_first_or_throw(json!({"where": {"id": 3}}))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotFound);
    let page = posts
        .find_many_cursor(json!({"limit": 2, "orderBy": {"id": "asc"}}))
        .await
        .unwrap();
    assert_eq!(ids(&page["items"]), vec![1, 2]);
    let next = posts
        .find_many_cursor(
            json!({"limit": 2, "orderBy": {"id": "asc"}, "cursor": page["nextCursor"]}),
        )
        .await
        .unwrap();
    assert_eq!(ids(&next["items"]), vec![4]);
    assert_eq!(next["hasMore"], json!(false));
    let rc = posts
        .find_many_and_count(json!({"limit": 1}))
        .await
        .unwrap();
    assert_eq!(rc["total"], json!(3));
    // The where is ANDed with the policy, never ORed.
    let w = posts
        .find_many(json!({"where": {"OR": [{"id": 3}, {"id": 1}]}}))
        .await
        .unwrap();
    assert_eq!(ids(&w), vec![1]);
}

#[tokio::test]
async fn as_system_bypasses_and_missing_auth_is_closed() {
    let db = setup().await;
    let all = db
        .client
        .as_system()
        .model("posts")
        .find_many(json!({"orderBy": {"id": "asc"}}))
        .await
        .unwrap();
    assert_eq!(ids(&all), vec![1, 2, 3, 4]);
    // No set_auth: auth() is missing, `accountId == auth().accountId` is
    // false, so only published posts remain.
    let anon = db
        .client
        .model("posts")
        .find_many(json!({"orderBy": {"id": "asc"}}))
        .await
        .unwrap();
    assert_eq!(ids(&anon), vec![2, 4]);
    // An auth object without the key behaves the same.
    let partial = db
        .client
        .set_auth(json!({"id": 1}))
        .model("posts")
        .find_many(json!({"orderBy": {"id": "asc"}}))
        .await
        .unwrap();
    assert_eq!(ids(&partial), vec![2, 4]);
    // `set_auth` on a system handle drops the system bypass.
    let back = db
        .client
        .as_system()
        .set_auth(json!({"accountId": 6}))
        .model("posts")
        .find_many(json!({"orderBy": {"id": "asc"}}))
        .await
        .unwrap();
    assert_eq!(ids(&back), vec![2, 3, 4]);
}

#[tokio::test]
async fn create_checks_the_new_row() {
    let db = setup().await;
    let u = user(&db);
    let ok = u
        .model("posts")
        .create(json!({"data": {"id": 10, "accountId": 5, "title": "mine"}}))
        .await
        .unwrap();
    assert_eq!(ok["id"], json!(10));
    let e = u
        .model("posts")
        .create(json!({"data": {"id": 11, "accountId": 6, "title": "theirs"}}))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::AccessDenied);
    assert_eq!(denied(&e), ("create", "you can only post in your account"));
    // create_many fails as a whole when one row is refused.
    let e = u
        .model("posts")
        .create_many(json!({"data": [
            {"id": 12, "accountId": 5, "title": "ok"},
            {"id": 13, "accountId": 6, "title": "no"}
        ]}))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::AccessDenied);
    // select: false goes through the same check.
    let e = db
        .client
        .model("posts")
        .create(json!({"data": {"id": 14, "accountId": 5, "title": "anon"}, "select": false}))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::AccessDenied);
    assert_eq!(
        left(&db),
        vec![json!(1), json!(2), json!(3), json!(4), json!(10)]
    );
    let n = u
        .model("posts")
        .create_many(json!({"data": [{"id": 15, "accountId": 5, "title": "a"}, {"id": 16, "accountId": 5, "title": "b"}]}))
        .await
        .unwrap();
    assert_eq!(n, json!({"count": 2}));
}

#[tokio::test]
async fn update_single_and_many() {
    let db = setup().await;
    let u = user(&db);
    let posts = u.model("posts");
    let r = posts
        .update(json!({"where": {"id": 1}, "data": {"title": "A"}}))
        .await
        .unwrap();
    assert_eq!(r["title"], json!("A"));
    // Exists, but the policy refuses it: AccessDenied, not NotFound.
    let e = posts
        .update(json!({"where": {"id": 3}, "data": {"title": "C"}}))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::AccessDenied);
    assert_eq!(denied(&e).0, "update");
    // Missing: as without policies.
    let missing = posts
        .update(json!({"where": {"id": 99}, "data": {"title": "?"}}))
        .await
        .unwrap();
    assert_eq!(missing, Value::Null);
    // Many: only permitted rows.
    let n = posts
        .update_many(json!({"all": true, "data": {"title": "bulk"}}))
        .await
        .unwrap();
    assert_eq!(n, json!({"count": 2}));
    assert_eq!(
        db.col("SELECT title FROM posts ORDER BY id"),
        vec![json!("bulk"), json!("bulk"), json!("c"), json!("d")]
    );
}

#[tokio::test]
async fn delete_remove_and_deny_messages() {
    let db = setup().await;
    let u = user(&db);
    let posts = u.model("posts");
    let e = posts.delete(json!({"where": {"id": 2}})).await.unwrap_err();
    assert_eq!(
        denied(&e),
        ("delete", "published posts can never be deleted")
    );
    let e = posts.remove(json!({"where": {"id": 4}})).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::AccessDenied);
    db.client
        .as_system()
        .model("comments")
        .delete_many(json!({"all": true}))
        .await
        .unwrap();
    // Delete has no @@allow: default open apart from the deny.
    let gone = posts.delete(json!({"where": {"id": 3}})).await.unwrap();
    assert_eq!(gone["id"], json!(3));
    let n = posts.delete_many(json!({"all": true})).await.unwrap();
    assert_eq!(n, json!({"count": 1}));
    assert_eq!(left(&db), vec![json!(2), json!(4)]);
    let e = posts
        .delete(json!({"where": {"id": 77}}))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotFound);
}

#[tokio::test]
async fn soft_delete_and_restore_follow_policies() {
    let db = setup().await;
    let u = user(&db);
    let posts = u.model("posts");
    let r = posts.remove(json!({"where": {"id": 1}})).await.unwrap();
    assert_eq!(r["id"], json!(1));
    assert_eq!(
        ids(&posts
            .find_many(json!({"orderBy": {"id": "asc"}}))
            .await
            .unwrap()),
        vec![2, 4]
    );
    let with = posts
        .find_many(json!({"withDeleted": true, "orderBy": {"id": "asc"}}))
        .await
        .unwrap();
    assert_eq!(ids(&with), vec![1, 2, 4]);
    // Someone else's removed draft cannot be restored (update policy).
    db.client
        .as_system()
        .model("posts")
        .remove(json!({"where": {"id": 3}}))
        .await
        .unwrap();
    let restored = posts.restore(json!({"all": true})).await.unwrap();
    assert_eq!(ids(&restored), vec![1]);
    assert_eq!(
        db.col("SELECT id FROM posts WHERE deletedAt IS NOT NULL"),
        vec![json!(3)]
    );
}

#[tokio::test]
async fn deny_wins_over_allow() {
    let db = setup().await;
    let sys = db.client.as_system();
    sys.model("notes")
        .create_many(json!({"data": [
            {"id": 1, "body": "open"},
            {"id": 2, "body": "closed", "secret": true}
        ]}))
        .await
        .unwrap();
    let u = user(&db);
    let notes = u.model("notes");
    assert_eq!(ids(&notes.find_many(json!({})).await.unwrap()), vec![1]);
    let e = notes
        .update(json!({"where": {"id": 2}, "data": {"body": "x"}}))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::AccessDenied);
    // 'all' allows the delete of the secret note (no delete deny).
    let n = notes.delete_many(json!({"all": true})).await.unwrap();
    assert_eq!(n, json!({"count": 2}));
}

#[tokio::test]
async fn includes_apply_the_child_policies() {
    let db = setup().await;
    let u = user(&db);
    let accts = u
        .model("accounts")
        .find_many(json!({
            "orderBy": {"id": "asc"},
            "include": {"posts": {"orderBy": {"id": "asc"}, "include": {"comments": true}}}
        }))
        .await
        .unwrap();
    assert_eq!(ids(&accts[0]["posts"]), vec![1, 2]);
    assert_eq!(ids(&accts[1]["posts"]), vec![4]);
    // comment 2 is hidden by its own model's @@deny('read').
    assert_eq!(ids(&accts[0]["posts"][0]["comments"]), vec![1]);
    // A to-one include of a refused row is null.
    let c = db
        .client
        .set_auth(json!({"accountId": 5}))
        .model("comments")
        .find_unique(json!({"where": {"id": 3}, "include": {"post": true}}))
        .await
        .unwrap();
    assert_eq!(c["post"], Value::Null);
    let sys = db
        .client
        .as_system()
        .model("comments")
        .find_many(json!({}))
        .await
        .unwrap();
    assert_eq!(ids(&sys), vec![1, 2, 3]);
}

#[tokio::test]
async fn upsert_follows_create_or_update() {
    let db = setup().await;
    let u = user(&db);
    let posts = u.model("posts");
    // Existing row of another account: update policy refuses.
    let e = posts
        .upsert(json!({"where": {"id": 3}, "create": {"accountId": 5, "title": "n"}, "update": {"title": "u"}}))
        .await
        .unwrap_err();
    assert_eq!(denied(&e).0, "update");
    // Missing row created in another account: create policy refuses.
    let e = posts
        .upsert(json!({"where": {"id": 30}, "create": {"accountId": 6, "title": "n"}, "update": {"title": "u"}}))
        .await
        .unwrap_err();
    assert_eq!(denied(&e), ("create", "you can only post in your account"));
    let ok = posts
        .upsert(json!({"where": {"id": 1}, "create": {"accountId": 5, "title": "n"}, "update": {"title": "u"}}))
        .await
        .unwrap();
    assert_eq!(ok["title"], json!("u"));
    let ok = posts
        .upsert(json!({"where": {"id": 31}, "create": {"accountId": 5, "title": "n"}, "update": {"title": "u"}}))
        .await
        .unwrap();
    assert_eq!(ok["title"], json!("n"));
    let e = posts
        .upsert_many(
            json!({"data": [{"id": 3, "accountId": 6, "title": "x"}], "conflictTarget": ["id"]}),
        )
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::AccessDenied);
    assert_eq!(
        db.col("SELECT title FROM posts WHERE id = 3"),
        vec![json!("c")]
    );
}

#[tokio::test]
async fn hostile_auth_values_are_bound() {
    let db = setup().await;
    let evil = db.client.set_auth(json!({
        "id": "1 OR 1=1",
        "accountId": "5' OR '1'='1"
    }));
    let rows = evil
        .model("posts")
        .find_many(json!({"orderBy": {"id": "asc"}}))
        .await
        .unwrap();
    assert_eq!(ids(&rows), vec![2, 4]);
    let evil = db
        .client
        .set_auth(json!({"accountId": "5); DROP TABLE posts; --"}));
    let n = evil
        .model("posts")
        .update_many(json!({"all": true, "data": {"title": "pwned"}}))
        .await
        .unwrap();
    assert_eq!(n, json!({"count": 0}));
    assert_eq!(left(&db).len(), 4);
    let sql = evil
        .model("posts")
        .to_sql(litestone::query::Op::FindMany, json!({}))
        .unwrap();
    let text = sql[0]["sql"].as_str().unwrap();
    assert!(!text.contains("DROP"), "{text}");
    assert!(
        sql[0]["params"]
            .as_array()
            .unwrap()
            .contains(&json!("5); DROP TABLE posts; --"))
    );
}

#[tokio::test]
async fn transactions_inherit_the_auth_of_the_handle() {
    let db = setup().await;
    let u = user(&db);
    let (seen, refused) = u
        .transaction(|tx| async move {
            tx.model("posts")
                .create(json!({"data": {"id": 20, "accountId": 5, "title": "tx"}}))
                .await?;
            let seen = tx
                .model("posts")
                .find_many(json!({"orderBy": {"id": "asc"}}))
                .await?;
            let refused = tx
                .model("posts")
                .update(json!({"where": {"id": 3}, "data": {"title": "x"}}))
                .await
                .expect_err("refused inside the transaction");
            Ok((seen, refused.kind()))
        })
        .await
        .unwrap();
    assert_eq!(ids(&seen), vec![1, 2, 4, 20]);
    assert_eq!(refused, ErrorKind::AccessDenied);
    assert_eq!(
        db.col("SELECT title FROM posts WHERE id IN (3, 20) ORDER BY id"),
        vec![json!("c"), json!("tx")]
    );
    let sys_seen = db
        .client
        .as_system()
        .transaction(|tx| async move { tx.model("posts").count(json!({})).await })
        .await
        .unwrap();
    assert_eq!(sys_seen, json!(5));
}

#[tokio::test]
async fn streams_apply_policies() {
    use futures::StreamExt as _;
    let db = setup().await;
    let mut s = user(&db)
        .model("posts")
        .find_many_stream(json!({"orderBy": {"id": "asc"}}));
    let mut seen = Vec::new();
    while let Some(row) = s.next().await {
        seen.push(row.unwrap()["id"].as_i64().unwrap());
    }
    assert_eq!(seen, vec![1, 2, 4]);
}
