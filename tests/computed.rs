//! `@computed` fields and `$validate` rules registered on the builder
//! (README "Computed fields").
#![allow(clippy::unwrap_used)]

use litestone::{Client, ErrorKind};
use serde_json::{Value, json};

const SCHEMA: &str = r#"
model teams {
  id      Integer @id
  name    Text
  members users[]
  label   Text    @computed
}
model users {
  id        Integer   @id
  firstName Text
  lastName  Text?
  email     Text
  teamId    Integer?
  team      teams?    @relation(fields: [teamId], references: [id])
  deletedAt DateTime?
  fullName  Text      @computed
  isActive  Boolean   @computed
}
"#;

async fn open(dir: &tempfile::TempDir) -> Client {
    Client::builder()
        .schema(SCHEMA)
        .db_path(dir.path().join("c.db").to_str().unwrap())
        .auto_migrate(true)
        .computed("users", "fullName", |row| {
            let parts: Vec<&str> = ["firstName", "lastName"]
                .iter()
                .filter_map(|k| row.get(*k).and_then(Value::as_str))
                .collect();
            json!(parts.join(" "))
        })
        .computed("users", "isActive", |row| {
            json!(row.get("deletedAt").is_none_or(Value::is_null))
        })
        .computed("teams", "label", |row| {
            json!(format!(
                "#{} {}",
                row["id"],
                row["name"].as_str().unwrap_or("")
            ))
        })
        .validate("users", "email", "Email aliases not allowed", |data| {
            !data
                .get("email")
                .and_then(Value::as_str)
                .is_some_and(|e| e.contains('+'))
        })
        .open()
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn computed_fields_appear_everywhere_rows_do() {
    let dir = tempfile::tempdir().unwrap();
    let db = open(&dir).await;
    db.model("teams")
        .create(json!({"data": {"id": 1, "name": "core"}}))
        .await
        .unwrap();
    let ada = db
        .model("users")
        .create(json!({"data": {"firstName": "Ada", "lastName": "Lovelace", "email": "ada@x.io", "teamId": 1}}))
        .await
        .unwrap();
    assert_eq!(ada["fullName"], json!("Ada Lovelace"));
    assert_eq!(ada["isActive"], json!(true));
    db.model("users")
        .create(json!({"data": {"firstName": "Bob", "email": "bob@x.io", "deletedAt": "2024-01-01T00:00:00Z"}}))
        .await
        .unwrap();

    let users = db
        .model("users")
        .find_many(json!({"orderBy": {"id": "asc"}, "include": {"team": true}}))
        .await
        .unwrap();
    assert_eq!(users[0]["fullName"], json!("Ada Lovelace"));
    assert_eq!(users[0]["team"]["label"], json!("#1 core"));
    assert_eq!(users[1]["fullName"], json!("Bob"));
    assert_eq!(users[1]["isActive"], json!(false));
    assert_eq!(users[1]["team"], Value::Null);

    // Included rows, pages and typed rows.
    let teams = db
        .model("teams")
        .find_many(json!({"include": {"members": {"orderBy": {"id": "asc"}}}}))
        .await
        .unwrap();
    assert_eq!(teams[0]["label"], json!("#1 core"));
    assert_eq!(teams[0]["members"][0]["fullName"], json!("Ada Lovelace"));
    let page = db
        .model("users")
        .find_many_cursor(json!({"limit": 1, "orderBy": {"id": "asc"}}))
        .await
        .unwrap();
    assert_eq!(page["items"][0]["fullName"], json!("Ada Lovelace"));
    let counted = db
        .model("users")
        .find_many_and_count(json!({"where": {"id": 2}}))
        .await
        .unwrap();
    assert_eq!(counted["rows"][0]["isActive"], json!(false));
    #[derive(serde::Deserialize)]
    struct U {
        id: i64,
        #[serde(rename = "fullName")]
        full_name: String,
    }
    let typed: Vec<U> = db
        .model("users")
        .find_many_as(json!({"orderBy": {"id": "asc"}}))
        .await
        .unwrap();
    assert_eq!((typed[1].id, typed[1].full_name.as_str()), (2, "Bob"));

    // select: only the computed fields it names.
    let sel = db
        .model("users")
        .find_unique(json!({"where": {"id": 1}, "select": {"id": true, "firstName": true, "lastName": true, "fullName": true}}))
        .await
        .unwrap();
    assert_eq!(
        sel,
        json!({"id": 1, "firstName": "Ada", "lastName": "Lovelace", "fullName": "Ada Lovelace"})
    );
    let sel = db
        .model("users")
        .find_unique(json!({"where": {"id": 1}, "select": {"id": true}}))
        .await
        .unwrap();
    assert_eq!(sel, json!({"id": 1}));

    // Computed fields are not stored and not writable.
    let e = db
        .model("users")
        .create(json!({"data": {"firstName": "X", "email": "x@x.io", "fullName": "nope"}}))
        .await
        .unwrap_err();
    assert!(e.to_string().contains("fullName"), "{e}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn validate_rules_refuse_writes_before_anything_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let db = open(&dir).await;
    let users = db.model("users");
    let e = users
        .create(json!({"data": {"firstName": "Eve", "email": "eve+spam@x.io"}}))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Validation);
    assert!(e.to_string().contains("Email aliases not allowed"), "{e}");
    let e = users
        .create_many(json!({"data": [
            {"firstName": "A", "email": "a@x.io"},
            {"firstName": "B", "email": "b+1@x.io"}
        ]}))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Validation);
    assert_eq!(users.count(json!({})).await.unwrap(), json!(0));
    users
        .create(json!({"data": {"firstName": "Ok", "email": "ok@x.io"}}))
        .await
        .unwrap();
    let e = users
        .update(json!({"where": {"id": 1}, "data": {"email": "ok+2@x.io"}}))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Validation);
    let row = users
        .find_unique(json!({"where": {"id": 1}}))
        .await
        .unwrap();
    assert_eq!(row["email"], json!("ok@x.io"));

    // Registrations are checked at open.
    let e = Client::builder()
        .schema(SCHEMA)
        .db_path(":memory:")
        .computed("users", "email", |_| Value::Null)
        .open()
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidArgs, "{e}");
    let e = Client::builder()
        .schema(SCHEMA)
        .db_path(":memory:")
        .computed("ghosts", "x", |_| Value::Null)
        .open()
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::UnknownModel, "{e}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn panicking_user_code_is_an_error_not_a_panic() {
    let dir = tempfile::tempdir().unwrap();
    let db = Client::builder()
        .schema(SCHEMA)
        .db_path(dir.path().join("p.db").to_str().unwrap())
        .auto_migrate(true)
        .computed("teams", "label", |_| panic!("label exploded"))
        .validate("users", "email", "never", |_| panic!("rule exploded"))
        .scope_fn("users", "boom", |_| panic!("scope exploded"))
        .open()
        .await
        .unwrap();
    let e = db
        .model("users")
        .create(json!({"data": {"firstName": "A", "email": "a@x.io"}}))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Panic, "{e}");
    assert!(e.to_string().contains("rule exploded"), "{e}");
    assert_eq!(db.model("users").count(json!({})).await.unwrap(), json!(0));
    let e = db
        .model("users")
        .scope("boom")
        .find_many(json!({}))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Panic, "{e}");
    db.model("teams")
        .create_many(json!({"data": [{"name": "t"}]}))
        .await
        .unwrap();
    let e = db.model("teams").find_many(json!({})).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Panic, "{e}");
    assert!(e.to_string().contains("label"), "{e}");
    // The client keeps serving.
    assert_eq!(db.model("teams").count(json!({})).await.unwrap(), json!(1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn before_write_and_after_read_hooks() {
    let dir = tempfile::tempdir().unwrap();
    let db = Client::builder()
        .schema(SCHEMA)
        .db_path(dir.path().join("h.db").to_str().unwrap())
        .auto_migrate(true)
        .before_write(|model, action, data| {
            if model == "users" {
                if let Some(Value::String(e)) = data.get_mut("email") {
                    *e = e.trim().to_lowercase();
                }
                if action == "create" && !data.contains_key("lastName") {
                    data.insert("lastName".into(), json!("(none)"));
                }
            }
        })
        .after_read(|model, row| {
            if model == "users" {
                row.remove("deletedAt");
                row.insert("_kind".into(), json!("user"));
            }
        })
        .open()
        .await
        .unwrap();
    let u = db
        .model("users")
        .create(json!({"data": {"firstName": "Ann", "email": "  ANN@X.IO "}}))
        .await
        .unwrap();
    assert_eq!(u["email"], json!("ann@x.io"));
    assert_eq!(u["lastName"], json!("(none)"));
    assert_eq!(u["_kind"], json!("user"));
    assert!(u.get("deletedAt").is_none());
    db.model("users")
        .create_many(json!({"data": [{"firstName": "Bo", "email": "BO@X.IO"}]}))
        .await
        .unwrap();
    let raw = db
        .sql("SELECT email, lastName FROM users ORDER BY id", json!([]))
        .await
        .unwrap();
    assert_eq!(raw[1]["email"], json!("bo@x.io"));
    assert_eq!(raw[1]["lastName"], json!("(none)"));
    let upd = db
        .model("users")
        .update(json!({"where": {"id": 1}, "data": {"email": "NEW@X.IO"}}))
        .await
        .unwrap();
    assert_eq!(upd["email"], json!("new@x.io"));
    #[derive(serde::Deserialize)]
    struct U {
        #[serde(rename = "_kind")]
        kind: String,
    }
    let typed: Vec<U> = db.model("users").find_many_as(json!({})).await.unwrap();
    assert!(typed.iter().all(|u| u.kind == "user"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn streamed_rows_get_computed_fields_and_hooks() {
    use futures::StreamExt;
    let dir = tempfile::tempdir().unwrap();
    let db = Client::builder()
        .schema(SCHEMA)
        .db_path(dir.path().join("s.db").to_str().unwrap())
        .auto_migrate(true)
        .computed("users", "fullName", |row| json!(row["firstName"]))
        .after_read(|_, row| {
            row.insert("seen".into(), json!(true));
        })
        .open()
        .await
        .unwrap();
    let data: Vec<Value> = (0..2500)
        .map(|i| json!({"firstName": format!("u{i}"), "email": format!("u{i}@x.io")}))
        .collect();
    db.model("users")
        .create_many(json!({ "data": data }))
        .await
        .unwrap();
    let mut s = db
        .model("users")
        .find_many_stream(json!({"orderBy": {"id": "asc"}}));
    let mut n = 0;
    while let Some(r) = s.next().await {
        let r = r.unwrap();
        assert_eq!(r["fullName"], json!(format!("u{n}")));
        assert_eq!(r["seen"], json!(true));
        n += 1;
    }
    assert_eq!(n, 2500);
    #[derive(serde::Deserialize)]
    struct U {
        #[serde(rename = "fullName")]
        full_name: String,
    }
    let typed: Vec<U> = db
        .model("users")
        .find_many_stream_as::<U>(json!({"where": {"id": {"lte": 3}}, "orderBy": {"id": "asc"}}))
        .map(|r| r.unwrap())
        .collect()
        .await;
    assert_eq!(typed[2].full_name, "u2");
}
