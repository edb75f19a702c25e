//! Field-level policies (`@allow('read'|'write', expr)`), `@guarded`,
//! relation-based policies (`check(relation, expr)`, `rel.field` paths) and
//! auth stamping (`@default(auth().id)`, `@updatedBy`) on a real SQLite file.

mod common;

use common::{Db, ids, open_with};
use litestone::{Error, ErrorKind};
use serde_json::{Value, json};

const SCHEMA: &str = r#"
model orgs {
  id      Integer @id
  name    Text
  ownerId Integer
  members users[]
  docs    docs[]

  @@allow('read', check(members, id == auth().id))
}

model users {
  id     Integer @id
  org    orgs    @relation(fields: [orgId], references: [id])
  orgId  Integer
  role   Text    @default("member")
  salary Real?   @allow('read', auth().role == 'admin' || id == auth().id)
  notes  Text?   @allow('write', auth().role == 'admin')
  apiKey Text?   @guarded
  token  Text?   @guarded(all)
}

model docs {
  id        Integer  @id
  org       orgs     @relation(fields: [orgId], references: [id])
  orgId     Integer
  title     Text
  createdBy Integer? @default(auth().id)
  editedBy  Integer? @updatedBy

  @@allow('read', check(org, ownerId == auth().id))
  @@allow('create', org.ownerId == auth().id)
  @@allow('update', org.ownerId == auth().id, "only the org owner edits docs")
}
"#;

async fn setup() -> Db {
    let db = open_with(SCHEMA).await;
    let sys = db.client.as_system();
    sys.model("orgs")
        .create_many(json!({"data": [
            {"id": 1, "name": "one", "ownerId": 1},
            {"id": 2, "name": "two", "ownerId": 3}
        ]}))
        .await
        .expect("orgs");
    sys.model("users")
        .create_many(json!({"data": [
            {"id": 1, "orgId": 1, "role": "admin", "salary": 100.0, "apiKey": "k1", "token": "t1"},
            {"id": 2, "orgId": 1, "salary": 50.0, "apiKey": "k2", "token": "t2"},
            {"id": 3, "orgId": 2, "salary": 70.0}
        ]}))
        .await
        .expect("users");
    sys.model("docs")
        .create_many(json!({"data": [
            {"id": 1, "orgId": 1, "title": "a"},
            {"id": 2, "orgId": 2, "title": "b"}
        ]}))
        .await
        .expect("docs");
    db
}

fn salaries(rows: &Value) -> Vec<Value> {
    rows.as_array()
        .expect("rows")
        .iter()
        .map(|r| r["salary"].clone())
        .collect()
}

fn message(e: &Error) -> &str {
    match e {
        Error::AccessDenied { message, .. } => message,
        other => panic!("expected AccessDenied, got {other:?}"),
    }
}

#[tokio::test]
async fn read_policy_nulls_the_field_per_row() {
    let db = setup().await;
    let q = json!({"orderBy": {"id": "asc"}});
    let admin = db.client.set_auth(json!({"id": 1, "role": "admin"}));
    let member = db.client.set_auth(json!({"id": 2, "role": "member"}));
    assert_eq!(
        salaries(&admin.model("users").find_many(q.clone()).await.unwrap()),
        vec![json!(100.0), json!(50.0), json!(70.0)]
    );
    let rows = member.model("users").find_many(q.clone()).await.unwrap();
    assert_eq!(salaries(&rows), vec![Value::Null, json!(50.0), Value::Null]);
    // The key stays (null), so row shapes are stable.
    assert!(rows[0].as_object().unwrap().contains_key("salary"));
    let anon = db.client.model("users").find_many(q.clone()).await.unwrap();
    assert_eq!(salaries(&anon), vec![Value::Null; 3]);
    let one = member
        .model("users")
        .find_unique(json!({"where": {"id": 3}}))
        .await
        .unwrap();
    assert_eq!(one["salary"], Value::Null);
    // Rows returned by writes are masked too.
    let upd = member
        .model("users")
        .update(json!({"where": {"id": 3}, "data": {"role": "viewer"}}))
        .await
        .unwrap();
    assert_eq!(upd["role"], json!("viewer"));
    assert_eq!(upd["salary"], Value::Null);
    // The stored value is untouched.
    assert_eq!(
        db.col("SELECT salary FROM users WHERE id = 3"),
        vec![json!(70.0)]
    );
    let sys = db
        .client
        .as_system()
        .model("users")
        .find_many(q)
        .await
        .unwrap();
    assert_eq!(salaries(&sys), vec![json!(100.0), json!(50.0), json!(70.0)]);
    // Included rows are masked by their own model's field policies.
    let org = member
        .model("orgs")
        .find_unique(
            json!({"where": {"id": 1}, "include": {"members": {"orderBy": {"id": "asc"}}}}),
        )
        .await
        .unwrap();
    assert_eq!(salaries(&org["members"]), vec![Value::Null, json!(50.0)]);
}

#[tokio::test]
async fn write_policy_refuses_the_field() {
    let db = setup().await;
    let member = db.client.set_auth(json!({"id": 2, "role": "member"}));
    let admin = db.client.set_auth(json!({"id": 1, "role": "admin"}));
    let users = member.model("users");
    let e = users
        .create(json!({"data": {"id": 9, "orgId": 1, "notes": "hi"}}))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::AccessDenied);
    assert_eq!(message(&e), "writing of `users.notes` is not permitted");
    // Without the field the create is fine.
    users
        .create(json!({"data": {"id": 9, "orgId": 1}}))
        .await
        .unwrap();
    let e = users
        .update(json!({"where": {"id": 2}, "data": {"notes": "x"}}))
        .await
        .unwrap_err();
    assert_eq!(message(&e), "writing of `users.notes` is not permitted");
    let e = users
        .update_many(json!({"where": {"orgId": 1}, "data": {"notes": "x", "role": "viewer"}}))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::AccessDenied);
    assert_eq!(
        db.col("SELECT count(*) FROM users WHERE notes IS NOT NULL OR role = 'viewer'"),
        vec![json!(0)]
    );
    let n = admin
        .model("users")
        .update_many(json!({"where": {"orgId": 1}, "data": {"notes": "x"}}))
        .await
        .unwrap();
    assert_eq!(n, json!({"count": 3}));
    db.client
        .as_system()
        .model("users")
        .update(json!({"where": {"id": 3}, "data": {"notes": "sys"}}))
        .await
        .unwrap();
}

#[tokio::test]
async fn guarded_fields_need_as_system() {
    let db = setup().await;
    let u = db.client.set_auth(json!({"id": 1, "role": "admin"}));
    let list = u
        .model("users")
        .find_many(json!({"where": {"id": 1}}))
        .await
        .unwrap();
    let row = list[0].as_object().unwrap();
    assert!(!row.contains_key("apiKey"));
    assert!(!row.contains_key("token"));
    let explicit = u
        .model("users")
        .find_many(json!({"where": {"id": 1}, "select": {"id": true, "apiKey": true}}))
        .await
        .unwrap();
    assert!(!explicit[0].as_object().unwrap().contains_key("apiKey"));
    // @guarded is a list-read rule: a unique read shows it; @guarded(all) never.
    let one = u
        .model("users")
        .find_unique(json!({"where": {"id": 1}}))
        .await
        .unwrap();
    assert!(!one.as_object().unwrap().contains_key("token"));
    let sys = db
        .client
        .as_system()
        .model("users")
        .find_many(json!({"where": {"id": 1}}))
        .await
        .unwrap();
    assert_eq!(sys[0]["apiKey"], json!("k1"));
    assert_eq!(sys[0]["token"], json!("t1"));
}

#[tokio::test]
async fn check_and_relation_paths() {
    let db = setup().await;
    let owner1 = db.client.set_auth(json!({"id": 1}));
    let owner3 = db.client.set_auth(json!({"id": 3}));
    assert_eq!(
        ids(&owner1.model("docs").find_many(json!({})).await.unwrap()),
        vec![1]
    );
    assert_eq!(
        ids(&owner3.model("docs").find_many(json!({})).await.unwrap()),
        vec![2]
    );
    // To-many check(): orgs you are a member of.
    let member2 = db.client.set_auth(json!({"id": 2}));
    assert_eq!(
        ids(&member2.model("orgs").find_many(json!({})).await.unwrap()),
        vec![1]
    );
    assert_eq!(
        ids(&owner3.model("orgs").find_many(json!({})).await.unwrap()),
        vec![2]
    );
    // `org.ownerId == auth().id` through the to-one relation.
    let e = owner1
        .model("docs")
        .update(json!({"where": {"id": 2}, "data": {"title": "x"}}))
        .await
        .unwrap_err();
    assert_eq!(message(&e), "only the org owner edits docs");
    let e = owner1
        .model("docs")
        .create(json!({"data": {"id": 3, "orgId": 2, "title": "x"}}))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::AccessDenied);
    assert_eq!(
        db.col("SELECT id FROM docs ORDER BY id"),
        vec![json!(1), json!(2)]
    );
}

#[tokio::test]
async fn auth_stamps_defaults_and_updated_by() {
    let db = setup().await;
    let owner1 = db.client.set_auth(json!({"id": 1}));
    let d = owner1
        .model("docs")
        .create(json!({"data": {"id": 5, "orgId": 1, "title": "new"}}))
        .await
        .unwrap();
    assert_eq!(d["createdBy"], json!(1));
    let u = owner1
        .model("docs")
        .update(json!({"where": {"id": 5}, "data": {"title": "newer"}}))
        .await
        .unwrap();
    assert_eq!(u["editedBy"], json!(1));
    // A system handle keeps the auth for stamping.
    db.client
        .set_auth(json!({"id": 7}))
        .as_system()
        .model("docs")
        .update(json!({"where": {"id": 2}, "data": {"title": "sys"}}))
        .await
        .unwrap();
    assert_eq!(
        db.col("SELECT createdBy, editedBy FROM docs WHERE id = 2"),
        vec![Value::Null]
    );
    assert_eq!(
        db.col("SELECT editedBy FROM docs WHERE id = 2"),
        vec![json!(7)]
    );
}

#[tokio::test]
async fn filters_cannot_probe_hidden_values() {
    let db = setup().await;
    let member = db.client.set_auth(json!({"id": 2, "role": "member"}));
    // Salary 100 (user 1) and 70 (user 3) are hidden from user 2.
    let rows = member
        .model("users")
        .find_many(json!({"where": {"salary": {"gt": 60}}}))
        .await
        .unwrap();
    assert_eq!(ids(&rows), Vec::<i64>::new());
    let rows = member
        .model("users")
        .find_many(json!({"where": {"salary": {"lt": 60}}}))
        .await
        .unwrap();
    assert_eq!(ids(&rows), vec![2]);
    let admin = db.client.set_auth(json!({"id": 1, "role": "admin"}));
    let rows = admin
        .model("users")
        .find_many(json!({"where": {"salary": {"gt": 60}}, "orderBy": {"id": "asc"}}))
        .await
        .unwrap();
    assert_eq!(ids(&rows), vec![1, 3]);
    // Relation filters only see related rows the caller may read: member 2
    // reads org 1 but not its doc "a" (docs need the org owner), so the
    // doc cannot be probed through the org.
    let probe = json!({"where": {"docs": {"some": {"title": "a"}}}});
    let orgs = member.model("orgs").find_many(probe.clone()).await.unwrap();
    assert_eq!(ids(&orgs), Vec::<i64>::new());
    assert_eq!(
        ids(&member.model("orgs").find_many(json!({})).await.unwrap()),
        vec![1]
    );
    let owner1 = db.client.set_auth(json!({"id": 1}));
    let orgs = owner1.model("orgs").find_many(probe).await.unwrap();
    assert_eq!(ids(&orgs), vec![1]);
}

#[tokio::test]
async fn ordering_by_a_hidden_field_is_refused() {
    let db = setup().await;
    let member = db.client.set_auth(json!({"id": 2, "role": "member"}));
    let e = member
        .model("users")
        .find_many(json!({"orderBy": {"salary": "desc"}}))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::AccessDenied);
    let e = member
        .model("users")
        .find_many_cursor(json!({"orderBy": {"salary": "desc"}}))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::AccessDenied);
    // The policy is constant-true for an admin: ordering is fine.
    let admin = db.client.set_auth(json!({"id": 1, "role": "admin"}));
    let rows = admin
        .model("users")
        .find_many(json!({"orderBy": {"salary": "desc"}}))
        .await
        .unwrap();
    assert_eq!(ids(&rows), vec![1, 3, 2]);
}

#[tokio::test]
async fn cached_statement_shapes_never_mix_callers() {
    let db = setup().await;
    let q = json!({"where": {"id": {"gte": 1}}, "orderBy": {"id": "asc"}});
    for _ in 0..3 {
        for (auth, want) in [
            (
                json!({"id": 2, "role": "member"}),
                vec![Value::Null, json!(50.0), Value::Null],
            ),
            (
                json!({"id": 3, "role": "member"}),
                vec![Value::Null, Value::Null, json!(70.0)],
            ),
            (
                json!({"id": 1, "role": "admin"}),
                vec![json!(100.0), json!(50.0), json!(70.0)],
            ),
        ] {
            let rows = db
                .client
                .set_auth(auth)
                .model("users")
                .find_many(q.clone())
                .await
                .unwrap();
            assert_eq!(salaries(&rows), want);
        }
    }
}
