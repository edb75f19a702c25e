//! Global query filters per model (README `filters: { posts: { status:
//! 'published' } }`) as the builder's `.filters(..)` option.

use litestone::{Client, ErrorKind};
use serde_json::{Value, json};

const SCHEMA: &str = r#"
model users {
  id    Integer @id
  name  Text
  posts posts[]
}

model posts {
  id       Integer @id
  author   users   @relation(fields: [authorId], references: [id])
  authorId Integer
  status   Text
}
"#;

fn ids(v: &Value) -> Vec<i64> {
    v.as_array()
        .expect("array")
        .iter()
        .map(|r| r["id"].as_i64().expect("id"))
        .collect()
}

async fn open(filters: Value) -> (Client, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("f.db");
    let client = Client::builder()
        .schema(SCHEMA)
        .db_path(path.to_str().expect("utf8"))
        .auto_migrate(true)
        .filters(filters)
        .open()
        .await
        .expect("open");
    (client, dir)
}

#[tokio::test]
async fn reads_and_includes_are_filtered() {
    let (db, _dir) = open(json!({"posts": {"status": "published"}})).await;
    db.model("users")
        .create(json!({"data": {"id": 1, "name": "a"}}))
        .await
        .unwrap();
    db.model("posts")
        .create_many(json!({"data": [
            {"id": 1, "authorId": 1, "status": "published"},
            {"id": 2, "authorId": 1, "status": "draft"},
            {"id": 3, "authorId": 1, "status": "published"}
        ]}))
        .await
        .unwrap();
    let posts = db.model("posts");
    assert_eq!(
        ids(&posts
            .find_many(json!({"orderBy": {"id": "asc"}}))
            .await
            .unwrap()),
        vec![1, 3]
    );
    assert_eq!(posts.count(json!({})).await.unwrap(), json!(2));
    // ANDed with the caller's where, also its own AND list.
    assert_eq!(
        ids(&posts
            .find_many(json!({"where": {"AND": [{"id": {"gte": 2}}]}}))
            .await
            .unwrap()),
        vec![3]
    );
    // find_unique keeps its unique key and is filtered too.
    assert_eq!(
        posts
            .find_unique(json!({"where": {"id": 2}}))
            .await
            .unwrap(),
        Value::Null
    );
    let u = db
        .model("users")
        .find_unique(json!({"where": {"id": 1}, "include": {"posts": {"orderBy": {"id": "desc"}}}}))
        .await
        .unwrap();
    assert_eq!(ids(&u["posts"]), vec![3, 1]);
    // Writes are not filtered.
    let n = posts
        .update_many(json!({"all": true, "data": {"status": "archived"}}))
        .await
        .unwrap();
    assert_eq!(n, json!({"count": 3}));
    assert_eq!(posts.count(json!({})).await.unwrap(), json!(0));
}

#[tokio::test]
async fn bad_filters_fail_on_open() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("f.db");
    let e = Client::builder()
        .schema(SCHEMA)
        .db_path(path.to_str().expect("utf8"))
        .filters(json!({"nope": {"x": 1}}))
        .open()
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::UnknownModel);
    let e = Client::builder()
        .schema(SCHEMA)
        .db_path(path.to_str().expect("utf8"))
        .filters(json!({"posts": 3}))
        .open()
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidArgs);
}
