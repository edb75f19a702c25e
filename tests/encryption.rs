//! `@encrypted`, `@encrypted(searchable: true)` and `@secret`: AES-256-GCM
//! at rest, decrypted for `as_system()` reads, equality search on
//! searchable fields, refused writes without a key, key rotation.
#![allow(clippy::unwrap_used)]

use litestone::{Client, ErrorKind};
use serde_json::{Value, json};

const SCHEMA: &str = r#"
model users {
  id     Integer @id
  name   Text
  email  Text    @unique @encrypted(searchable: true)
  ssn    Text?   @encrypted
  apiKey Text?   @secret
}
"#;
const K1: &str = "8f2a4c6e0b1d3f5a7c9e1b3d5f7a9c0e2b4d6f8a0c1e3b5d7f9a1c2e4b6d8f0a";
const K2: &str = "1111111111111111111111111111111111111111111111111111111111111111";

async fn open(path: &std::path::Path, key: Option<&str>) -> Client {
    let mut b = Client::builder()
        .schema(SCHEMA)
        .db_path(path.to_str().unwrap())
        .auto_migrate(true);
    if let Some(k) = key {
        b = b.encryption_key(k);
    }
    b.open().await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn encrypted_fields_round_trip_and_stay_ciphertext_at_rest() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("e.db");
    let db = open(&path, Some(K1)).await;
    let users = db.model("users");
    let made = users
        .create(json!({"data": {"name": "Ann", "email": "ann@example.com", "ssn": "123-45-6789", "apiKey": "sk_live_1"}}))
        .await
        .unwrap();
    // Guarded: a normal handle never sees them.
    assert!(
        made.get("ssn").is_none() && made.get("apiKey").is_none(),
        "{made}"
    );
    users
        .create(json!({"data": {"name": "Bob", "email": "bob@example.com", "ssn": "123-45-6789"}}))
        .await
        .unwrap();

    // At rest: ciphertext, never the plain text; equal ssn values differ.
    let raw = db
        .sql(
            "SELECT email, ssn, apiKey FROM users ORDER BY id",
            json!([]),
        )
        .await
        .unwrap();
    for r in raw.as_array().unwrap() {
        for k in ["email", "ssn"] {
            let s = r[k].as_str().unwrap();
            assert!(s.starts_with("enc:v1:"), "{k}: {s}");
            assert!(!s.contains("example") && !s.contains("123"), "{s}");
        }
    }
    assert_ne!(raw[0]["ssn"], raw[1]["ssn"]);
    assert!(raw[0]["apiKey"].as_str().unwrap().starts_with("enc:v1:"));
    assert_eq!(raw[1]["apiKey"], Value::Null);

    // as_system reads decrypt.
    let sys = db.as_system().model("users");
    let ann = sys.find_unique(json!({"where": {"id": 1}})).await.unwrap();
    assert_eq!(ann["email"], json!("ann@example.com"));
    assert_eq!(ann["ssn"], json!("123-45-6789"));
    assert_eq!(ann["apiKey"], json!("sk_live_1"));
    #[derive(serde::Deserialize)]
    struct U {
        email: String,
        ssn: Option<String>,
    }
    let typed: Vec<U> = sys
        .find_many_as(json!({"orderBy": {"id": "asc"}}))
        .await
        .unwrap();
    assert_eq!(typed[1].email, "bob@example.com");
    assert_eq!(typed[1].ssn.as_deref(), Some("123-45-6789"));

    // Searchable: equality and in work; non-searchable never matches.
    let found = sys
        .find_first(json!({"where": {"email": "bob@example.com"}}))
        .await
        .unwrap();
    assert_eq!(found["name"], json!("Bob"));
    let n = sys
        .count(json!({"where": {"email": {"in": ["ann@example.com", "bob@example.com", "x@y.z"]}}}))
        .await
        .unwrap();
    assert_eq!(n, json!(2));
    let none = sys
        .find_first(json!({"where": {"ssn": "123-45-6789"}}))
        .await
        .unwrap();
    assert_eq!(none, Value::Null);
    assert_eq!(
        sys.count(json!({"where": {"apiKey": null}})).await.unwrap(),
        json!(1)
    );
    let e = sys
        .find_many(json!({"where": {"email": {"contains": "ann"}}}))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidArgs, "{e}");

    // Unique on a searchable field still holds.
    let e = users
        .create(json!({"data": {"name": "Dup", "email": "ann@example.com"}}))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::UniqueViolation, "{e}");

    // Updates re-encrypt; the row reads back.
    let upd = sys
        .update(json!({"where": {"email": "ann@example.com"}, "data": {"ssn": "999-00-1111"}}))
        .await
        .unwrap();
    assert_eq!(upd["ssn"], json!("999-00-1111"));

    // Rotation: everything re-encrypted under the new key, still readable
    // here and by a client opened with the new key.
    let before = db
        .sql("SELECT ssn FROM users WHERE id = 1", json!([]))
        .await
        .unwrap();
    db.rotate_key(K2).await.unwrap();
    let after = db
        .sql("SELECT ssn FROM users WHERE id = 1", json!([]))
        .await
        .unwrap();
    assert_ne!(before, after);
    assert_eq!(
        sys.find_unique(json!({"where": {"id": 1}})).await.unwrap()["ssn"],
        json!("999-00-1111")
    );
    assert_eq!(
        sys.count(json!({"where": {"email": "bob@example.com"}}))
            .await
            .unwrap(),
        json!(1)
    );
    db.close().await.unwrap();
    let db2 = open(&path, Some(K2)).await;
    let ann = db2
        .as_system()
        .model("users")
        .find_first(json!({"where": {"email": "ann@example.com"}}))
        .await
        .unwrap();
    assert_eq!(ann["ssn"], json!("999-00-1111"));
    assert_eq!(ann["apiKey"], json!("sk_live_1"));
    let e = db2.rotate_key("not-hex").await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidArgs);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_key_encrypted_writes_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let db = open(&dir.path().join("n.db"), None).await;
    let e = db
        .model("users")
        .create(json!({"data": {"name": "Ann", "email": "a@b.c"}}))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Validation, "{e}");
    assert!(e.to_string().contains("email"), "{e}");
    let n = db
        .sql("SELECT count(*) AS n FROM users", json!([]))
        .await
        .unwrap();
    assert_eq!(n[0]["n"], json!(0));
    let e = db.rotate_key(K1).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidArgs);
    let e = Client::builder()
        .schema(SCHEMA)
        .db_path(":memory:")
        .encryption_key("abc")
        .open()
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidArgs);
}
