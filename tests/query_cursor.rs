//! Keyset pagination: pages, directions and NULL placement, stability under
//! inserts, tampered / foreign cursors, and the index seek.
#![allow(clippy::unwrap_used)]
mod common;
use common::*;
use litestone::ErrorKind;
use serde_json::{Value, json};

async fn all_pages(m: &litestone::Model, args: Value) -> Vec<Vec<i64>> {
    let mut pages = Vec::new();
    let mut cursor = Value::Null;
    loop {
        let mut a = args.clone();
        a["cursor"] = cursor.clone();
        let page = m.find_many_cursor(a).await.unwrap();
        pages.push(ids(&page["items"]));
        assert_eq!(
            page["hasMore"].as_bool().unwrap(),
            !page["nextCursor"].is_null()
        );
        if !page["hasMore"].as_bool().unwrap() {
            break;
        }
        cursor = page["nextCursor"].clone();
    }
    pages
}

async fn seeded_users(n: i64) -> Db {
    let db = open().await;
    let data: Vec<Value> = (1..=n)
        .map(|i| {
            json!({"id": i, "email": format!("u{i}@x.io"),
                   "age": if i % 3 == 0 { Value::Null } else { json!(i % 5) },
                   "name": format!("n{:02}", (i * 7) % 11)})
        })
        .collect();
    db.client
        .model("users")
        .create_many(json!({"data": data}))
        .await
        .unwrap();
    db
}

#[tokio::test]
async fn pages_by_id() {
    let db = seeded_users(7).await;
    let m = db.client.model("users");
    let pages = all_pages(&m, json!({"limit": 3, "orderBy": {"id": "asc"}})).await;
    assert_eq!(pages, vec![vec![1, 2, 3], vec![4, 5, 6], vec![7]]);
    let pages = all_pages(&m, json!({"limit": 3, "orderBy": {"id": "desc"}})).await;
    assert_eq!(pages, vec![vec![7, 6, 5], vec![4, 3, 2], vec![1]]);
    let pages = all_pages(&m, json!({"limit": 7})).await;
    assert_eq!(pages, vec![vec![1, 2, 3, 4, 5, 6, 7]]);
    let page = m
        .find_many_cursor(json!({"limit": 2, "where": {"id": {"gt": 5}}}))
        .await
        .unwrap();
    assert_eq!(page["hasMore"], false);
    assert_eq!(page["nextCursor"], json!(null));
}

#[tokio::test]
async fn nullable_columns_and_ties_in_every_direction() {
    let db = seeded_users(23).await;
    let m = db.client.model("users");
    for (dir, nulls) in [
        ("asc", None),
        ("desc", None),
        ("asc", Some("last")),
        ("desc", Some("first")),
    ] {
        let order = match nulls {
            None => json!([{"age": dir}, {"name": "desc"}]),
            Some(n) => json!([{"age": {"dir": dir, "nulls": n}}, {"name": "desc"}]),
        };
        let full = ids(&m
            .find_many(json!({"orderBy": [order[0].clone(), order[1].clone(), {"id": "asc"}]}))
            .await
            .unwrap());
        for limit in [1, 2, 5] {
            let pages = all_pages(&m, json!({"limit": limit, "orderBy": order.clone()})).await;
            let flat: Vec<i64> = pages.into_iter().flatten().collect();
            assert_eq!(flat, full, "dir={dir} nulls={nulls:?} limit={limit}");
        }
    }
}

#[tokio::test]
async fn stable_under_inserts_between_pages() {
    let db = seeded_users(6).await;
    let m = db.client.model("users");
    let p1 = m
        .find_many_cursor(json!({"limit": 3, "orderBy": {"id": "asc"}}))
        .await
        .unwrap();
    assert_eq!(ids(&p1["items"]), vec![1, 2, 3]);
    // rows inserted before the cursor position do not shift the next page
    m.create(json!({"data": {"id": 0, "email": "zero@x.io"}}))
        .await
        .unwrap();
    m.create(json!({"data": {"id": 100, "email": "late@x.io"}}))
        .await
        .unwrap();
    let p2 = m
        .find_many_cursor(json!({"limit": 3, "orderBy": {"id": "asc"}, "cursor": p1["nextCursor"]}))
        .await
        .unwrap();
    assert_eq!(ids(&p2["items"]), vec![4, 5, 6]);
    assert_eq!(p2["hasMore"], true);
}

#[tokio::test]
async fn tampered_and_foreign_cursors_are_rejected() {
    use base64::Engine as _;
    let db = seeded_users(6).await;
    let m = db.client.model("users");
    let p1 = m
        .find_many_cursor(json!({"limit": 2, "orderBy": {"id": "asc"}}))
        .await
        .unwrap();
    let token = p1["nextCursor"].as_str().unwrap().to_string();
    let bad = |e: litestone::Error| {
        assert!(
            matches!(&e, litestone::Error::InvalidArgs { path, .. } if path == "cursor"),
            "{e:?}"
        );
    };
    // another orderBy
    bad(m
        .find_many_cursor(json!({"limit": 2, "orderBy": {"id": "desc"}, "cursor": token}))
        .await
        .unwrap_err());
    // another model
    db.client
        .model("labels")
        .create(json!({"data": {"name": "x"}}))
        .await
        .unwrap();
    bad(db
        .client
        .model("labels")
        .find_many_cursor(json!({"limit": 2, "cursor": token}))
        .await
        .unwrap_err());
    // edited values
    let engine = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let mut v: Value = serde_json::from_slice(&engine.decode(&token).unwrap()).unwrap();
    v["v"][0] = json!(4);
    let forged = engine.encode(v.to_string());
    bad(m
        .find_many_cursor(json!({"limit": 2, "orderBy": {"id": "asc"}, "cursor": forged}))
        .await
        .unwrap_err());
    // garbage and hostile strings
    for junk in ["", "!!!", "eyJ9", "' OR 1=1 --", "bnVsbA"] {
        bad(m
            .find_many_cursor(json!({"limit": 2, "orderBy": {"id": "asc"}, "cursor": junk}))
            .await
            .unwrap_err());
    }
    let e = m.find_many_cursor(json!({"cursor": 5})).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidArgs);
    assert_eq!(db.col("SELECT COUNT(*) FROM users"), vec![json!(6)]);
}

#[tokio::test]
async fn pages_are_index_seeks_not_offsets() {
    let db = seeded_users(10).await;
    let m = db.client.model("users");
    let p1 = m
        .find_many_cursor(json!({"limit": 3, "orderBy": {"id": "asc"}}))
        .await
        .unwrap();
    let sql = m
        .to_sql(
            litestone::query::Op::FindManyCursor,
            json!({"limit": 3, "orderBy": {"id": "asc"}, "cursor": p1["nextCursor"]}),
        )
        .unwrap();
    let text = sql[0]["sql"].as_str().unwrap().to_string();
    assert!(!text.contains("OFFSET"), "{text}");
    let raw = db.raw();
    let plan: Vec<String> = {
        let mut st = raw.prepare(&format!("EXPLAIN QUERY PLAN {text}")).unwrap();
        let params: Vec<rusqlite::types::Value> = sql[0]["params"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| match p {
                Value::Number(n) => rusqlite::types::Value::Integer(n.as_i64().unwrap()),
                Value::String(s) => rusqlite::types::Value::Text(s.clone()),
                _ => rusqlite::types::Value::Null,
            })
            .collect();
        st.query_map(rusqlite::params_from_iter(params), |r| {
            r.get::<_, String>(3)
        })
        .unwrap()
        .map(|r| r.unwrap())
        .collect()
    };
    assert!(
        plan.iter()
            .any(|l| l.contains("SEARCH") && l.contains("rowid>?")),
        "{plan:?}"
    );
}
