//! `@@gate("R.C.U.D")` levels with the builder's gate callback: each
//! operation's requirement, SYSTEM (8) only via `as_system`, LOCKED (9)
//! for everyone, includes checking the included model's read level.

use litestone::{Client, Error, ErrorKind, Level};
use serde_json::{Value, json};

const SCHEMA: &str = r#"
model posts {
  id    Integer @id
  title Text
  tags  tags[]

  @@gate("1.3.4.6")
}

model tags {
  id     Integer @id
  name   Text
  post   posts?  @relation(fields: [postId], references: [id])
  postId Integer?

  @@gate("5.5.5.5")
}

model vault {
  id     Integer @id
  secret Text

  @@gate("9")
}

model audit {
  id   Integer @id
  what Text

  @@gate("8")
}

model open {
  id Integer @id

  @@gate("0")
}
"#;

struct Db {
    client: Client,
    _dir: tempfile::TempDir,
}

async fn open(with_gate: bool) -> Db {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("gate.db");
    let mut b = Client::builder()
        .schema(SCHEMA)
        .db_path(path.to_str().expect("utf8"))
        .auto_migrate(true);
    if with_gate {
        b = b.gate(|auth: Option<&Value>, _model: &str| {
            auth.and_then(|a| a.get("level"))
                .and_then(Value::as_u64)
                .map_or(Level::STRANGER, |l| {
                    u8::try_from(l).unwrap_or(Level::LOCKED)
                })
        });
    }
    let client = b.open().await.expect("open");
    client
        .as_system()
        .model("posts")
        .create(json!({"data": {"id": 1, "title": "p"}}))
        .await
        .expect("seed");
    Db { client, _dir: dir }
}

fn as_level(db: &Db, level: u8) -> Client {
    db.client.set_auth(json!({"level": level}))
}

fn denied_op(e: &Error) -> String {
    match e {
        Error::AccessDenied { operation, .. } => operation.clone(),
        other => panic!("expected AccessDenied, got {other:?}"),
    }
}

#[tokio::test]
async fn each_operation_needs_its_level() {
    let db = open(true).await;
    let e = db
        .client
        .model("posts")
        .find_many(json!({}))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::AccessDenied);
    assert_eq!(denied_op(&e), "read");
    let visitor = as_level(&db, Level::VISITOR);
    assert_eq!(
        visitor.model("posts").count(json!({})).await.unwrap(),
        json!(1)
    );
    let e = visitor
        .model("posts")
        .create(json!({"data": {"id": 2, "title": "x"}}))
        .await
        .unwrap_err();
    assert_eq!(denied_op(&e), "create");
    let creator = as_level(&db, Level::CREATOR);
    creator
        .model("posts")
        .create(json!({"data": {"id": 2, "title": "x"}}))
        .await
        .unwrap();
    let e = creator
        .model("posts")
        .update(json!({"where": {"id": 2}, "data": {"title": "y"}}))
        .await
        .unwrap_err();
    assert_eq!(denied_op(&e), "update");
    // upsert needs create and update.
    let e = creator
        .model("posts")
        .upsert(json!({"where": {"id": 3}, "create": {"title": "z"}, "update": {}}))
        .await
        .unwrap_err();
    assert_eq!(denied_op(&e), "update");
    let user = as_level(&db, Level::USER);
    user.model("posts")
        .update(json!({"where": {"id": 2}, "data": {"title": "y"}}))
        .await
        .unwrap();
    let e = user
        .model("posts")
        .delete(json!({"where": {"id": 2}}))
        .await
        .unwrap_err();
    assert_eq!(denied_op(&e), "delete");
    let e = as_level(&db, Level::ADMINISTRATOR)
        .model("posts")
        .delete_many(json!({"all": true}))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::AccessDenied);
    let n = as_level(&db, Level::OWNER)
        .model("posts")
        .delete_many(json!({"where": {"id": 2}}))
        .await
        .unwrap();
    assert_eq!(n, json!({"count": 1}));
    // @@gate("0"): anyone.
    assert_eq!(
        db.client.model("open").count(json!({})).await.unwrap(),
        json!(0)
    );
}

#[tokio::test]
async fn includes_need_the_child_read_level() {
    let db = open(true).await;
    let e = as_level(&db, Level::USER)
        .model("posts")
        .find_many(json!({"include": {"tags": true}}))
        .await
        .unwrap_err();
    match &e {
        Error::AccessDenied { model, .. } => assert_eq!(model, "tags"),
        other => panic!("{other:?}"),
    }
    let rows = as_level(&db, Level::ADMINISTRATOR)
        .model("posts")
        .find_many(json!({"include": {"tags": true}}))
        .await
        .unwrap();
    assert_eq!(rows[0]["tags"], json!([]));
}

#[tokio::test]
async fn system_is_eight_and_nine_is_locked() {
    let db = open(true).await;
    // The callback cannot grant SYSTEM: its result is capped at SYSADMIN.
    let e = as_level(&db, 200)
        .model("audit")
        .find_many(json!({}))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::AccessDenied);
    let sys = db.client.as_system();
    sys.model("audit")
        .create(json!({"data": {"id": 1, "what": "x"}}))
        .await
        .unwrap();
    assert_eq!(sys.model("audit").count(json!({})).await.unwrap(), json!(1));
    for c in [sys.clone(), as_level(&db, Level::SYSADMIN)] {
        let e = c.model("vault").find_many(json!({})).await.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::AccessDenied);
        let e = c
            .model("vault")
            .create(json!({"data": {"id": 1, "secret": "s"}}))
            .await
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::AccessDenied);
    }
}

#[tokio::test]
async fn without_a_callback_callers_are_strangers() {
    let db = open(false).await;
    let e = db
        .client
        .set_auth(json!({"level": 9, "role": "admin"}))
        .model("posts")
        .find_many(json!({}))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::AccessDenied);
    assert_eq!(
        db.client
            .as_system()
            .model("posts")
            .count(json!({}))
            .await
            .unwrap(),
        json!(1)
    );
    assert_eq!(
        db.client.model("open").count(json!({})).await.unwrap(),
        json!(0)
    );
}
