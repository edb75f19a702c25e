//! `find_many_stream` / `find_many_stream_as`: every row in order, bounded
//! pages, includes per page, early drop, errors as stream items.
#![allow(clippy::unwrap_used)]

use futures::StreamExt;
use litestone::{Client, ErrorKind};
use serde::Deserialize;
use serde_json::{Value, json};

const SCHEMA: &str = r#"
model authors {
  id    Integer @id
  name  Text
  books books[]
}
model books {
  id       Integer @id
  author   authors @relation(fields: [authorId], references: [id])
  authorId Integer
  title    Text
  pages    Integer
}
"#;

async fn open(dir: &tempfile::TempDir) -> Client {
    Client::builder()
        .schema(SCHEMA)
        .db_path(dir.path().join("s.db").to_str().unwrap())
        .auto_migrate(true)
        .open()
        .await
        .unwrap()
}

async fn seed(db: &Client, authors: i64, books_each: i64) {
    let a: Vec<Value> = (1..=authors)
        .map(|i| json!({"id": i, "name": format!("author {i}")}))
        .collect();
    db.model("authors")
        .create_many(json!({ "data": a }))
        .await
        .unwrap();
    let b: Vec<Value> = (0..authors * books_each)
        .map(|i| json!({"authorId": i / books_each + 1, "title": format!("book {i}"), "pages": i % 500}))
        .collect();
    db.model("books")
        .create_many(json!({ "data": b }))
        .await
        .unwrap();
}

#[derive(Debug, Deserialize)]
struct Book {
    id: i64,
    pages: i64,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn streams_every_row_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let db = open(&dir).await;
    seed(&db, 100, 30).await;
    let mut s = db
        .model("books")
        .find_many_stream(json!({"orderBy": {"id": "asc"}}));
    let mut n = 0i64;
    while let Some(row) = s.next().await {
        let row = row.unwrap();
        n += 1;
        assert_eq!(row["id"], json!(n));
        assert_eq!(row["title"], json!(format!("book {}", n - 1)));
    }
    assert_eq!(n, 3000);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn typed_stream_honours_where() {
    let dir = tempfile::tempdir().unwrap();
    let db = open(&dir).await;
    seed(&db, 50, 20).await;
    let rows: Vec<Book> = db
        .model("books")
        .find_many_stream_as::<Book>(
            json!({"where": {"pages": {"lt": 10}}, "orderBy": {"id": "asc"}}),
        )
        .map(|r| r.unwrap())
        .collect()
        .await;
    let expected: i64 = db
        .model("books")
        .count(json!({"where": {"pages": {"lt": 10}}}))
        .await
        .unwrap()
        .as_i64()
        .unwrap();
    assert_eq!(rows.len() as i64, expected);
    assert!(rows.iter().all(|b| b.pages < 10));
    assert!(rows.windows(2).all(|w| w[0].id < w[1].id));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn includes_are_attached_per_page() {
    let dir = tempfile::tempdir().unwrap();
    let db = open(&dir).await;
    seed(&db, 700, 3).await;
    let rows: Vec<Value> = db
        .model("authors")
        .find_many_stream(
            json!({"orderBy": {"id": "asc"}, "include": {"books": {"orderBy": {"id": "asc"}}}}),
        )
        .map(|r| r.unwrap())
        .collect()
        .await;
    assert_eq!(rows.len(), 700);
    for (i, a) in rows.iter().enumerate() {
        let books = a["books"].as_array().unwrap();
        assert_eq!(books.len(), 3, "author {}", i + 1);
        assert!(books.iter().all(|b| b["authorId"] == json!(i as i64 + 1)));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropping_early_frees_the_reader() {
    let dir = tempfile::tempdir().unwrap();
    let db = Client::builder()
        .schema(SCHEMA)
        .db_path(dir.path().join("s.db").to_str().unwrap())
        .auto_migrate(true)
        .readers(2)
        .open()
        .await
        .unwrap();
    seed(&db, 100, 50).await;
    // Open and abandon more streams than there are readers: each must
    // release its reader, or the later reads would never be served.
    for _ in 0..6 {
        let mut s = db.model("books").find_many_stream(json!({}));
        let first = s.next().await.unwrap().unwrap();
        assert!(first["id"].is_number());
        drop(s);
    }
    let n = db.model("books").count(json!({})).await.unwrap();
    assert_eq!(n, json!(5000));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_arguments_arrive_as_the_only_item() {
    let dir = tempfile::tempdir().unwrap();
    let db = open(&dir).await;
    let mut s = db
        .model("books")
        .find_many_stream(json!({"where": {"nope": 1}}));
    let err = s.next().await.unwrap().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::UnknownField);
    assert!(s.next().await.is_none());
    let mut s = db.model("nothing").find_many_stream(json!({}));
    assert_eq!(
        s.next().await.unwrap().unwrap_err().kind(),
        ErrorKind::UnknownModel
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn inside_a_transaction_sees_its_writes() {
    let dir = tempfile::tempdir().unwrap();
    let db = open(&dir).await;
    seed(&db, 2, 2).await;
    let n = db
        .transaction(|tx| async move {
            tx.model("books")
                .create(json!({"data": {"authorId": 1, "title": "new", "pages": 1}}))
                .await?;
            let rows: Vec<Value> = tx
                .model("books")
                .find_many_stream(json!({}))
                .map(|r| r.unwrap())
                .collect()
                .await;
            // A second call in the same transaction after streaming must not deadlock.
            let c = tx.model("books").count(json!({})).await?;
            assert_eq!(c, json!(rows.len()));
            Ok(rows.len())
        })
        .await
        .unwrap();
    assert_eq!(n, 5);
}
