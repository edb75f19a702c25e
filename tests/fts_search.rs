//! FTS5 `search` (bm25 ranking, where/limit/offset, highlight, snippet) and
//! `optimize_fts`, on a litestone-owned `@@fts` table and on an
//! `@@external` FTS5 table, compared with hand-written FTS5 SQL.

mod analytics_support;

use analytics_support::{SCHEMA, open, open_with};
use litestone::ErrorKind;
use litestone::query::Op;
use serde_json::{Value, json};

async fn seed_articles(db: &analytics_support::Db) {
    let arts = [
        (
            1,
            "Rust async runtimes",
            Some("tokio drives async rust services"),
        ),
        (
            2,
            "SQLite tuning",
            Some("WAL mode and rust bindings for sqlite"),
        ),
        (3, "Cooking", Some("nothing about databases here")),
        (4, "Rust rust rust", None),
        (5, "Deleted rust article", Some("rust")),
    ];
    for (id, title, body) in arts {
        db.client
            .model("articles")
            .create(json!({"data": {"id": id, "title": title, "body": body}}))
            .await
            .expect("article");
    }
    db.client
        .model("articles")
        .remove(json!({"where": {"id": 5}}))
        .await
        .expect("soft delete");
}

fn ids(v: &Value) -> Vec<Value> {
    v.as_array()
        .expect("array")
        .iter()
        .map(|r| r["id"].clone())
        .collect()
}

#[tokio::test]
async fn search_ranks_by_bm25_and_honours_where_and_paging() {
    let db = open().await;
    seed_articles(&db).await;
    let arts = db.client.model("articles");
    let got = arts.search(json!("rust")).await.expect("search");
    let want: Vec<Value> = db
        .rows(
            "SELECT a.id FROM articles a JOIN articles_fts ON articles_fts.rowid = a.rowid \
             WHERE articles_fts MATCH 'rust' AND a.deletedAt IS NULL ORDER BY articles_fts.rank, a.id",
        )
        .into_iter()
        .map(|r| r["id"].clone())
        .collect();
    assert_eq!(ids(&got), want);
    assert_eq!(want.len(), 3, "the soft-deleted article is not found");
    assert_eq!(got[0]["title"], json!("Rust rust rust"));

    let got = arts
        .search(
            json!({"query": "rust OR sqlite", "where": {"id": {"gt": 1}}, "limit": 1, "offset": 1}),
        )
        .await
        .expect("paged");
    let want: Vec<Value> = db
        .rows(
            "SELECT a.id FROM articles a JOIN articles_fts ON articles_fts.rowid = a.rowid \
             WHERE articles_fts MATCH 'rust OR sqlite' AND a.id > 1 AND a.deletedAt IS NULL \
             ORDER BY articles_fts.rank LIMIT 1 OFFSET 1",
        )
        .into_iter()
        .map(|r| r["id"].clone())
        .collect();
    assert_eq!(ids(&got), want);
    let none = arts
        .search(json!({"query": "nomatch"}))
        .await
        .expect("none");
    assert_eq!(none, json!([]));
}

#[tokio::test]
async fn search_highlight_and_snippet() {
    let db = open().await;
    seed_articles(&db).await;
    let arts = db.client.model("articles");
    let got = arts
        .search(json!({
            "query": "tokio",
            "select": {"id": true},
            "highlight": true,
            "snippet": {"field": "body", "open": "[", "close": "]", "ellipsis": "...", "tokens": 3},
        }))
        .await
        .expect("highlight");
    let want = db.row(
        "SELECT highlight(articles_fts, 0, '<mark>', '</mark>') AS t, highlight(articles_fts, 1, '<mark>', '</mark>') AS b, \
         snippet(articles_fts, 1, '[', ']', '...', 3) AS s FROM articles_fts WHERE articles_fts MATCH 'tokio'",
    );
    assert_eq!(
        got,
        json!([{"id": 1, "_highlight": {"title": want["t"], "body": want["b"]}, "_snippet": {"body": want["s"]}}])
    );
    assert_eq!(
        got[0]["_highlight"]["body"],
        json!("<mark>tokio</mark> drives async rust services")
    );
    let e = arts
        .search(json!({"query": "x", "highlight": {"field": "nope"}}))
        .await
        .expect_err("bad field");
    assert!(e.to_string().contains("highlight.field"), "{e}");
}

#[tokio::test]
async fn search_errors_and_optimize() {
    let db = open().await;
    seed_articles(&db).await;
    let e = db
        .client
        .model("orders")
        .search(json!("x"))
        .await
        .expect_err("no fts");
    assert_eq!(e.kind(), ErrorKind::InvalidArgs);
    assert!(e.to_string().contains("@@fts"), "{e}");
    let arts = db.client.model("articles");
    let e = arts.search(json!({"query": ""})).await.expect_err("empty");
    assert!(e.to_string().contains("query"), "{e}");
    let e = arts
        .search(json!({"query": "x", "bogus": 1}))
        .await
        .expect_err("unknown key");
    assert!(e.to_string().contains("bogus"), "{e}");
    assert_eq!(
        arts.optimize_fts(json!({})).await.expect("optimize"),
        Value::Null
    );
    assert_eq!(
        arts.optimize_fts(Value::Null).await.expect("optimize"),
        Value::Null
    );
    // Still searchable after the merge.
    assert_eq!(
        ids(&arts.search(json!("tokio")).await.expect("after")),
        vec![json!(1)]
    );
    let snap = arts
        .to_sql(Op::Search, json!({"query": "rust", "where": {"id": {"gt": 1}}, "orderBy": {"id": "desc"}, "limit": 5, "highlight": {"fields": ["title"], "open": "<b>", "close": "</b>"}, "snippet": true}))
        .expect("sql");
    insta::assert_json_snapshot!("fts_search", snap);
    insta::assert_json_snapshot!(
        "fts_optimize",
        arts.to_sql(Op::OptimizeFts, json!({})).expect("sql")
    );
}

#[tokio::test]
async fn search_on_an_external_fts5_table() {
    let schema = format!(
        "{SCHEMA}\nmodel docs_fts {{\n  title Text\n  body  Text\n\n  @@external\n  @@fts([title, body])\n}}\n"
    );
    let db = open_with(&schema).await;
    db.raw()
        .execute_batch(
            "CREATE VIRTUAL TABLE docs_fts USING fts5(title, body); \
             INSERT INTO docs_fts (title, body) VALUES ('alpha', 'rust and sqlite'), ('beta', 'only sqlite'), ('gamma', 'rust rust');",
        )
        .expect("external fts");
    let docs = db.client.model("docs_fts");
    let got = docs
        .search(json!({"query": "rust", "highlight": {"field": "body"}}))
        .await
        .expect("external search");
    let want = db.rows(
        "SELECT title, body, highlight(docs_fts, 1, '<mark>', '</mark>') AS h FROM docs_fts WHERE docs_fts MATCH 'rust' ORDER BY rank",
    );
    let want: Vec<Value> = want
        .into_iter()
        .map(|r| json!({"title": r["title"], "body": r["body"], "_highlight": {"body": r["h"]}}))
        .collect();
    assert_eq!(got, Value::Array(want));
    assert_eq!(
        docs.optimize_fts(json!({})).await.expect("optimize"),
        Value::Null
    );
}
