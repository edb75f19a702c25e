//! A blog schema exercised end to end: value round trips (DateTime
//! normalisation, Json, arrays, Blob, Boolean), soft delete with
//! remove/restore and the deleted filters, many-to-many through an implicit
//! join, a category tree read recursively, FTS search, nested writes, and
//! window/interval analytics checked against hand-written SQL.

#![allow(clippy::unwrap_used)]

use litestone::{Client, ErrorKind};
use serde_json::{Value, json};

const SCHEMA: &str = r#"
type Address {
  city Text
  zip  Text?
}

model authors {
  id       Integer  @id
  name     Text
  email    Text     @unique
  active   Boolean  @default(true)
  address  Address?
  tags     Text[]
  avatar   Blob?
  joinedAt DateTime @default(now())
  posts    posts[]
}

model categories {
  id       Integer @id
  name     Text
  parentId Integer?
  parent   categories? @relation("tree", fields: [parentId], references: [id])
  children categories[] @relation("tree")
  posts    posts[]
}

model labels {
  id    Integer @id
  name  Text @unique
  posts posts[]
}

model posts {
  id         Integer   @id
  title      Text
  body       Text
  views      Integer   @default(0)
  authorId   Integer
  author     authors   @relation(fields: [authorId], references: [id])
  categoryId Integer?
  category   categories? @relation(fields: [categoryId], references: [id])
  labels     labels[]
  publishedAt DateTime?
  deletedAt  DateTime?
  @@softDelete
  @@fts([title, body])
}
"#;

async fn open(dir: &tempfile::TempDir) -> Client {
    Client::builder()
        .schema(SCHEMA)
        .db_path(dir.path().join("blog.db").to_str().unwrap())
        .auto_migrate(true)
        .open()
        .await
        .expect("open")
}

async fn sql(db: &Client, q: &str) -> Vec<Value> {
    db.sql(q, json!([]))
        .await
        .expect("sql")
        .as_array()
        .cloned()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_blog_end_to_end() {
    let dir = tempfile::tempdir().unwrap();
    let db = open(&dir).await;

    // Values.
    let a = db
        .model("authors")
        .create(json!({"data": {
            "name": "Ada", "email": "ada@example.com",
            "address": {"city": "London", "zip": "N1"},
            "tags": ["math", "engines"],
            "avatar": "aGVsbG8=",
            "joinedAt": "2024-03-10T12:30:00+02:00"
        }}))
        .await
        .unwrap();
    assert_eq!(a["active"], json!(true));
    assert_eq!(a["address"]["city"], json!("London"));
    assert_eq!(a["tags"], json!(["math", "engines"]));
    assert_eq!(a["joinedAt"], json!("2024-03-10T10:30:00.000Z"));
    let raw = sql(
        &db,
        "SELECT active, joinedAt, tags, typeof(avatar) AS t, length(avatar) AS n FROM authors",
    )
    .await;
    assert_eq!(raw[0]["active"], json!(1));
    assert_eq!(raw[0]["joinedAt"], json!("2024-03-10T10:30:00.000Z"));
    assert_eq!(raw[0]["t"], json!("blob"));
    assert_eq!(raw[0]["n"], json!(5));
    let b = db
        .model("authors")
        .create(
            json!({"data": {"name": "Bob", "email": "bob@example.com", "active": false,
                                  "address": {"city": "Paris"}, "tags": []}}),
        )
        .await
        .unwrap();
    let by_city = db
        .model("authors")
        .find_many(json!({"where": {"address": {"city": "Paris"}}}))
        .await
        .unwrap();
    assert_eq!(by_city.as_array().unwrap().len(), 1);
    assert_eq!(by_city[0]["id"], b["id"]);
    let e = db
        .model("authors")
        .create(json!({"data": {"name": "X", "email": "x@example.com", "joinedAt": "yesterday"}}))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Validation, "{e}");

    // Category tree and labels.
    db.model("categories")
        .create_many(json!({"data": [
            {"id": 1, "name": "root"},
            {"id": 2, "name": "tech", "parentId": 1},
            {"id": 3, "name": "rust", "parentId": 2},
            {"id": 4, "name": "life", "parentId": 1},
            {"id": 5, "name": "async", "parentId": 3}
        ]}))
        .await
        .unwrap();
    let tree = db
        .model("categories")
        .find_many(json!({"where": {"id": 2}, "recursive": true}))
        .await
        .unwrap();
    let mut ids: Vec<i64> = tree
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_i64().unwrap())
        .collect();
    ids.sort();
    assert_eq!(ids, vec![2, 3, 5]);
    let up = db
        .model("categories")
        .find_many(json!({"where": {"id": 5}, "recursive": {"direction": "ancestors"}}))
        .await
        .unwrap();
    let mut ids: Vec<i64> = up
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_i64().unwrap())
        .collect();
    ids.sort();
    assert_eq!(ids, vec![1, 2, 3, 5]);

    // Nested create: post with labels created/connected in one call.
    db.model("labels")
        .create(json!({"data": {"name": "intro"}}))
        .await
        .unwrap();
    let p = db
        .model("posts")
        .create(json!({
            "data": {
                "title": "Hello async Rust", "body": "Futures and executors explained",
                "authorId": a["id"], "categoryId": 5,
                "labels": {"connect": [{"name": "intro"}], "create": [{"name": "rust"}]}
            },
            "include": {"labels": {"orderBy": {"name": "asc"}}, "author": true}
        }))
        .await
        .unwrap();
    assert_eq!(p["author"]["name"], json!("Ada"));
    let names: Vec<&Value> = p["labels"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| &l["name"])
        .collect();
    assert_eq!(names, vec![&json!("intro"), &json!("rust")]);
    for i in 0..30 {
        db.model("posts")
            .create(json!({"data": {
                "title": format!("Post {i}"), "body": if i % 3 == 0 { "sqlite tuning notes" } else { "travel diary" },
                "authorId": if i % 2 == 0 { &a["id"] } else { &b["id"] },
                "views": i * 10,
                "publishedAt": format!("2024-{:02}-15T08:00:00Z", i % 6 + 1),
                "categoryId": i % 5 + 1
            }}))
            .await
            .unwrap();
    }
    // m2m filter from the other side.
    let intro_posts = db
        .model("posts")
        .count(json!({"where": {"labels": {"some": {"name": "intro"}}}}))
        .await
        .unwrap();
    assert_eq!(intro_posts, json!(1));

    // FTS search.
    let hits = db
        .model("posts")
        .search(json!(["sqlite", {"limit": 50}]))
        .await
        .unwrap();
    assert_eq!(hits.as_array().unwrap().len(), 10);

    // Soft delete: remove hides, withDeleted/onlyDeleted show, restore.
    let removed = db
        .model("posts")
        .remove_many(json!({"where": {"views": {"lt": 50}, "title": {"startsWith": "Post"}}}))
        .await
        .unwrap();
    assert_eq!(removed, json!({"count": 5}));
    assert_eq!(db.model("posts").count(json!({})).await.unwrap(), json!(26));
    assert_eq!(
        db.model("posts")
            .count(json!({"withDeleted": true}))
            .await
            .unwrap(),
        json!(31)
    );
    let only = db
        .model("posts")
        .find_many(json!({"onlyDeleted": true}))
        .await
        .unwrap();
    assert_eq!(only.as_array().unwrap().len(), 5);
    let raw = sql(
        &db,
        "SELECT count(*) AS n FROM posts WHERE deletedAt IS NOT NULL",
    )
    .await;
    assert_eq!(raw[0]["n"], json!(5));
    let hits = db
        .model("posts")
        .search(json!(["sqlite", {"limit": 50}]))
        .await
        .unwrap();
    assert_eq!(
        hits.as_array().unwrap().len(),
        8,
        "search must hide soft-deleted rows"
    );
    db.model("posts")
        .restore(json!({"where": {"views": {"lt": 20}}}))
        .await
        .unwrap();
    assert_eq!(db.model("posts").count(json!({})).await.unwrap(), json!(28));

    // Window: rank of views per author, checked against SQL.
    let ranked = db
        .model("posts")
        .find_many(json!({
            "where": {"title": {"startsWith": "Post"}},
            "orderBy": {"id": "asc"},
            "select": {"id": true, "views": true},
            "window": {"r": {"rank": true, "partitionBy": "authorId", "orderBy": {"views": "desc"}}}
        }))
        .await
        .unwrap();
    let want = sql(
        &db,
        "SELECT id, rank() OVER (PARTITION BY authorId ORDER BY views DESC) AS r FROM posts \
         WHERE title LIKE 'Post%' AND deletedAt IS NULL ORDER BY id",
    )
    .await;
    assert_eq!(ranked.as_array().unwrap().len(), want.len());
    for (g, w) in ranked.as_array().unwrap().iter().zip(&want) {
        assert_eq!(g["id"], w["id"]);
        assert_eq!(g["r"], w["r"]);
    }

    // groupBy interval month with gaps filled.
    let months = db
        .model("posts")
        .group_by(
            json!({"by": ["publishedAt"], "interval": {"publishedAt": "month"}, "_count": true,
                         "where": {"publishedAt": {"not": null}}}),
        )
        .await
        .unwrap();
    let months = months.as_array().unwrap();
    assert_eq!(months.len(), 6, "{months:?}");
    assert_eq!(months[0]["publishedAt"], json!("2024-01"));
    let total: i64 = months.iter().map(|m| m["_count"].as_i64().unwrap()).sum();
    assert_eq!(total, 28 - 1);

    // Transaction: typed rows, rollback on error leaves nothing.
    #[derive(serde::Deserialize, Debug)]
    struct Label {
        id: i64,
        name: String,
    }
    let r: litestone::Result<()> = db
        .transaction(async |tx| {
            let l: Label = tx
                .model("labels")
                .create_as(json!({"data": {"name": "temp"}}))
                .await?;
            assert!(l.id > 0 && l.name == "temp");
            tx.model("labels")
                .create(json!({"data": {"name": "temp"}}))
                .await?;
            Ok(())
        })
        .await;
    assert_eq!(r.unwrap_err().kind(), ErrorKind::UniqueViolation);
    assert_eq!(
        db.model("labels")
            .count(json!({"where": {"name": "temp"}}))
            .await
            .unwrap(),
        json!(0)
    );

    // Nested update: disconnect a label, set the category.
    let u = db
        .model("posts")
        .update(json!({
            "where": {"id": p["id"]},
            "data": {"labels": {"disconnect": [{"name": "intro"}]}, "category": {"connect": {"id": 4}}},
            "include": {"labels": true, "category": true}
        }))
        .await
        .unwrap();
    assert_eq!(u["labels"].as_array().unwrap().len(), 1);
    assert_eq!(u["category"]["name"], json!("life"));
    db.close().await.unwrap();
}
