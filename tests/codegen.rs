//! Generated Rust types and JSON Schema: the generator's output for a
//! fixture is checked in (and so compiled by this test crate), then used to
//! decode real rows. Regenerate with `UPDATE_CODEGEN=1 cargo test --test codegen`.
#![allow(clippy::unwrap_used)]

use litestone::Client;
use serde_json::json;

#[allow(dead_code, unreachable_pub, clippy::all)]
mod generated {
    include!("fixtures/codegen/blog_types.rs");
}

const SCHEMA: &str = include_str!("fixtures/codegen/blog.lite");

#[test]
fn generated_rust_matches_the_checked_in_file() {
    let schema = litestone::schema::parse(SCHEMA).unwrap();
    let code = litestone::codegen::rust_types(&schema, None);
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/codegen/blog_types.rs"
    );
    if std::env::var_os("UPDATE_CODEGEN").is_some() {
        std::fs::write(path, &code).unwrap();
    }
    assert_eq!(code, std::fs::read_to_string(path).unwrap());
    let only = litestone::codegen::rust_types(&schema, Some(&["posts"]));
    assert!(only.contains("pub struct Posts") && !only.contains("pub struct Authors"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn generated_types_decode_rows_with_and_without_includes() {
    let db = Client::builder()
        .schema(SCHEMA)
        .db_path(":memory:")
        .auto_migrate(true)
        .open()
        .await
        .unwrap();
    db.model("authors")
        .create(json!({"data": {"email": "a@b.co", "address": {"city": "Oslo"}, "tags": ["x"], "secret": "s"}}))
        .await
        .unwrap();
    db.model("posts")
        .create(json!({"data": {"title": "Hi", "authorId": 1}}))
        .await
        .unwrap();
    let authors: Vec<generated::Authors> = db
        .model("authors")
        .find_many_as(json!({"include": {"posts": true}}))
        .await
        .unwrap();
    let a = &authors[0];
    assert_eq!(a.role, generated::Role::Member);
    assert_eq!(a.address.as_ref().unwrap().city, "Oslo");
    assert_eq!(a.tags, vec!["x".to_string()]);
    assert_eq!(a.secret, None, "guarded: absent from list reads");
    assert_eq!(a.post_count, Some(1));
    assert_eq!(a.posts.as_ref().unwrap()[0].title, "Hi");
    let p: Option<generated::Posts> = db
        .model("posts")
        .find_first_as(json!({"include": {"author": true}}))
        .await
        .unwrap();
    let p = p.unwrap();
    assert_eq!(p.r#type, "note");
    assert_eq!(p.author.unwrap().email, "a@b.co");
}

#[test]
fn json_schema_describes_rows() {
    let schema = litestone::schema::parse(SCHEMA).unwrap();
    let js = litestone::codegen::json_schema(&schema, None);
    let posts = &js["$defs"]["posts"];
    assert_eq!(posts["properties"]["title"]["maxLength"], json!(80));
    assert_eq!(posts["properties"]["id"]["type"], json!("integer"));
    let authors = &js["$defs"]["authors"];
    assert_eq!(authors["properties"]["email"]["format"], json!("email"));
    assert_eq!(
        authors["properties"]["role"]["enum"],
        json!(["admin", "member"])
    );
    assert!(
        !authors["required"]
            .as_array()
            .unwrap()
            .contains(&json!("secret"))
    );
    assert!(authors["properties"].get("posts").is_none());
}
