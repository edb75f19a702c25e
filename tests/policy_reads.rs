//! Reads beyond find: `client.query(spec)` batches apply the same gates, row
//! policies and global filters as single calls; aggregates, groups and
//! windows never reveal fields hidden by read policies.
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

const SALARY: &str = r#"
model staff {
  id     Integer @id
  team   Text
  salary Real?   @allow('read', auth().role == 'admin')
}
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn aggregates_cannot_reveal_fields_hidden_by_read_policies() {
    let dir = tempfile::tempdir().unwrap();
    let db = Client::builder()
        .schema(SALARY)
        .db_path(dir.path().join("s.db").to_str().unwrap())
        .auto_migrate(true)
        .open()
        .await
        .unwrap();
    db.as_system()
        .model("staff")
        .create_many(json!({"data": [
            {"team": "a", "salary": 100.0},
            {"team": "a", "salary": 200.0},
            {"team": "b", "salary": 50.0},
        ]}))
        .await
        .unwrap();
    let member = db.set_auth(json!({"id": 1, "role": "member"}));
    let staff = member.model("staff");
    for args in [
        json!({"_sum": {"salary": true}}),
        json!({"_max": {"salary": true}}),
        json!({"_countHigh": {"count": true, "filter": "1"}, "_avgPay": {"avg": "salary"}}),
    ] {
        let err = staff.aggregate(args.clone()).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::AccessDenied, "{args}");
    }
    let err = staff
        .group_by(json!({"by": ["salary"], "_count": true}))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::AccessDenied);
    let err = staff
        .group_by(json!({"by": ["team"], "_sum": {"salary": true}}))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::AccessDenied);
    // Counting rows and grouping by readable fields stay allowed.
    let g = staff
        .group_by(json!({"by": ["team"], "_count": true}))
        .await
        .unwrap();
    assert_eq!(
        g,
        json!([{"team": "a", "_count": 2}, {"team": "b", "_count": 1}])
    );
    // An admin, and the system, may aggregate the field.
    let admin = db.set_auth(json!({"id": 2, "role": "admin"}));
    let s = admin
        .model("staff")
        .aggregate(json!({"_sum": {"salary": true}}))
        .await
        .unwrap();
    assert_eq!(s["_sum"]["salary"], json!(350.0));
    let s = db
        .as_system()
        .model("staff")
        .aggregate(json!({"_sum": {"salary": true}}))
        .await
        .unwrap();
    assert_eq!(s["_sum"]["salary"], json!(350.0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn windows_cannot_reveal_fields_hidden_by_read_policies() {
    let dir = tempfile::tempdir().unwrap();
    let db = Client::builder()
        .schema(SALARY)
        .db_path(dir.path().join("w.db").to_str().unwrap())
        .auto_migrate(true)
        .open()
        .await
        .unwrap();
    db.as_system()
        .model("staff")
        .create_many(json!({"data": [{"team": "a", "salary": 1.0}, {"team": "b", "salary": 2.0}]}))
        .await
        .unwrap();
    let member = db
        .set_auth(json!({"id": 1, "role": "member"}))
        .model("staff");
    let err = member
        .find_many(json!({"window": {"total": {"sum": "salary", "orderBy": {"id": "asc"}}}}))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::AccessDenied);
    let err = member
        .find_many(json!({"window": {"r": {"rank": true, "orderBy": {"salary": "desc"}}}}))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::AccessDenied);
    let rows = member
        .find_many(json!({"orderBy": {"id": "asc"}, "window": {"rn": {"rowNumber": true, "orderBy": {"id": "asc"}}}}))
        .await
        .unwrap();
    assert_eq!(rows[1]["rn"], json!(2));
    assert_eq!(rows[1]["salary"], Value::Null);
}
