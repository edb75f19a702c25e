//! The SQL (and bound parameters) that policies compile to, snapshotted per
//! shape, plus the fail-closed semantics of a missing auth.

mod common;

use common::{ids, open_with};
use litestone::query::Op;
use serde_json::json;

const SCHEMA: &str = r#"
model orgs {
  id      Integer @id
  ownerId Integer
  members users[]

  @@allow('read', check(members, id == auth().id))
}

model users {
  id     Integer @id
  org    orgs    @relation(fields: [orgId], references: [id])
  orgId  Integer
  role   Text    @default("member")
  salary Real?   @allow('read', auth().role == 'admin' || id == auth().id)
  notes  Text?   @allow('write', auth().role == 'admin')
  posts  posts[]
}

model posts {
  id        Integer @id
  author    users   @relation(fields: [authorId], references: [id])
  authorId  Integer
  status    Text    @default("draft")
  score     Integer @default(0)

  @@allow('read', status == 'published' || author.orgId == auth().orgId)
  @@allow('create', authorId == auth().id, "own posts only")
  @@allow('update', authorId == auth().id)
  @@deny('update', score > 100, "frozen")
  @@deny('delete', status == 'published' || auth() == null)
}

model flags {
  id     Integer @id
  owner  Integer?

  @@deny('read', owner != auth().id)
}
"#;

fn user() -> serde_json::Value {
    json!({"id": 7, "orgId": 3, "role": "member"})
}

#[tokio::test]
async fn snapshots() {
    let db = open_with(SCHEMA).await;
    let u = db.client.set_auth(user());
    let posts = u.model("posts");
    insta::assert_json_snapshot!(
        "read_allow_or_relation_path",
        posts
            .to_sql(Op::FindMany, json!({"where": {"id": {"gt": 1}}}))
            .unwrap()
    );
    insta::assert_json_snapshot!(
        "read_include_child_policy_and_mask",
        u.model("orgs")
            .to_sql(
                Op::FindMany,
                json!({"include": {"members": {"include": {"posts": true}}}})
            )
            .unwrap()
    );
    insta::assert_json_snapshot!(
        "update_single_guard",
        posts
            .to_sql(
                Op::Update,
                json!({"where": {"id": 1}, "data": {"status": "published"}})
            )
            .unwrap()
    );
    insta::assert_json_snapshot!(
        "delete_many_deny_with_auth_null",
        posts.to_sql(Op::DeleteMany, json!({"all": true})).unwrap()
    );
    insta::assert_json_snapshot!(
        "create_values_guard",
        posts
            .to_sql(Op::Create, json!({"data": {"id": 5, "authorId": 7}}))
            .unwrap()
    );
    insta::assert_json_snapshot!(
        "update_many_field_write_guard",
        u.model("users")
            .to_sql(
                Op::UpdateMany,
                json!({"where": {"orgId": 3}, "data": {"notes": "n"}})
            )
            .unwrap()
    );
    // No policies for system handles: the plain statement.
    insta::assert_json_snapshot!(
        "system_plain",
        db.client
            .as_system()
            .model("posts")
            .to_sql(Op::FindMany, json!({}))
            .unwrap()
    );
}

#[tokio::test]
async fn missing_auth_fails_closed_in_denies() {
    let db = open_with(SCHEMA).await;
    db.client
        .as_system()
        .model("flags")
        .create_many(json!({"data": [{"id": 1, "owner": 7}, {"id": 2, "owner": 8}, {"id": 3}]}))
        .await
        .unwrap();
    let mine = db
        .client
        .set_auth(json!({"id": 7}))
        .model("flags")
        .find_many(json!({"orderBy": {"id": "asc"}}))
        .await
        .unwrap();
    // `owner != auth().id` is two-valued: the NULL owner row is denied too.
    assert_eq!(ids(&mine), vec![1]);
    // Without auth the deny's comparison cannot be evaluated: it denies.
    let anon = db.client.model("flags").find_many(json!({})).await.unwrap();
    assert_eq!(ids(&anon), Vec::<i64>::new());
    // `auth() == null` in a deny: anonymous callers cannot delete.
    db.client
        .as_system()
        .model("orgs")
        .create(json!({"data": {"id": 1, "ownerId": 1}}))
        .await
        .unwrap();
    db.client
        .as_system()
        .model("users")
        .create(json!({"data": {"id": 7, "orgId": 1}}))
        .await
        .unwrap();
    db.client
        .as_system()
        .model("posts")
        .create(json!({"data": {"id": 1, "authorId": 7}}))
        .await
        .unwrap();
    let n = db
        .client
        .model("posts")
        .delete_many(json!({"all": true}))
        .await
        .unwrap();
    assert_eq!(n, json!({"count": 0}));
    // The deny on update uses its message.
    db.client
        .as_system()
        .model("posts")
        .update(json!({"where": {"id": 1}, "data": {"score": 500}}))
        .await
        .unwrap();
    let e = db
        .client
        .set_auth(json!({"id": 7, "orgId": 1}))
        .model("posts")
        .update(json!({"where": {"id": 1}, "data": {"status": "x"}}))
        .await
        .unwrap_err();
    match e {
        litestone::Error::AccessDenied { message, .. } => assert_eq!(message, "frozen"),
        other => panic!("{other:?}"),
    }
    let n = db
        .client
        .set_auth(json!({"id": 7, "orgId": 1}))
        .model("posts")
        .delete_many(json!({"all": true}))
        .await
        .unwrap();
    assert_eq!(n, json!({"count": 1}));
}

#[tokio::test]
async fn bad_policy_expressions_fail_on_open() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("bad.db");
    for schema in [
        "model a { id Integer @id\n  @@allow('read', nope == auth().id) }",
        "model a { id Integer @id  bs b[]\n  @@allow('read', bs.id == 1) }\nmodel b { id Integer @id  a a @relation(fields: [aId], references: [id])  aId Integer }",
        "model a { id Integer @id\n  @@allow('read', check(id, true)) }",
    ] {
        let e = litestone::Client::builder()
            .schema(schema)
            .db_path(path.to_str().expect("utf8"))
            .open()
            .await
            .unwrap_err();
        assert_eq!(e.kind(), litestone::ErrorKind::Schema, "{schema}: {e}");
    }
}

#[tokio::test]
async fn now_negation_and_auth_presence() {
    let db = open_with(
        r#"
model events {
  id        Integer  @id
  publishAt DateTime
  draft     Boolean  @default(false)

  @@allow('read', publishAt <= now() && !draft)
  @@allow('create', auth() != null)
}
"#,
    )
    .await;
    let sys = db.client.as_system();
    sys.model("events")
        .create_many(json!({"data": [
            {"id": 1, "publishAt": "2020-01-01T00:00:00Z"},
            {"id": 2, "publishAt": "2999-01-01T00:00:00Z"},
            {"id": 3, "publishAt": "2020-01-01T00:00:00Z", "draft": true}
        ]}))
        .await
        .unwrap();
    let u = db.client.set_auth(json!({"id": 1}));
    assert_eq!(
        ids(&u.model("events").find_many(json!({})).await.unwrap()),
        vec![1]
    );
    u.model("events")
        .create(json!({"data": {"id": 4, "publishAt": "2021-01-01T00:00:00Z"}}))
        .await
        .unwrap();
    let e = db
        .client
        .model("events")
        .create(json!({"data": {"id": 5, "publishAt": "2021-01-01T00:00:00Z"}}))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), litestone::ErrorKind::AccessDenied);
    assert_eq!(
        ids(&db
            .client
            .model("events")
            .find_many(json!({"orderBy": {"id": "asc"}}))
            .await
            .unwrap()),
        vec![1, 4]
    );
}

#[tokio::test]
async fn an_allow_closes_only_its_own_operation() {
    let db = open_with(
        r#"
model memos {
  id    Integer @id
  owner Integer

  @@allow('read', owner == auth().id)
}

model plain {
  id Integer @id
}
"#,
    )
    .await;
    let u = db.client.set_auth(json!({"id": 1}));
    let memos = u.model("memos");
    // create / update / delete have no policy: open.
    memos
        .create_many(json!({"data": [{"id": 1, "owner": 1}, {"id": 2, "owner": 2}]}))
        .await
        .unwrap();
    assert_eq!(ids(&memos.find_many(json!({})).await.unwrap()), vec![1]);
    let n = memos
        .update_many(json!({"all": true, "data": {"owner": 3}}))
        .await
        .unwrap();
    assert_eq!(n, json!({"count": 2}));
    assert_eq!(memos.count(json!({})).await.unwrap(), json!(0));
    let n = memos.delete_many(json!({"all": true})).await.unwrap();
    assert_eq!(n, json!({"count": 2}));
    // A model without policies compiles to the plain statement.
    let sql = u.model("plain").to_sql(Op::FindMany, json!({})).unwrap();
    assert_eq!(
        sql[0]["sql"],
        json!("SELECT t0.\"id\" FROM \"plain\" AS t0")
    );
}
