//! Read methods: shapes, ordering, paging, projection, includes, soft delete,
//! visibility.
#![allow(clippy::unwrap_used)]
mod common;
use common::*;
use litestone::ErrorKind;
use serde_json::json;

#[tokio::test]
async fn find_first_unique_and_throw() {
    let db = open().await;
    seed(&db).await;
    let m = db.client.model("users");
    let f = m
        .find_first(json!({"where": {"age": {"gt": 20}}, "orderBy": {"age": "desc"}}))
        .await
        .unwrap();
    assert_eq!(f["id"], 4);
    assert_eq!(
        m.find_first(json!({"where": {"age": 1000}})).await.unwrap(),
        json!(null)
    );
    let u = m
        .find_unique(json!({"where": {"email": "bob@acme.io"}}))
        .await
        .unwrap();
    assert_eq!(u["id"], 2);
    let u = m.find_unique(json!({"where": {"id": 3}})).await.unwrap();
    assert_eq!(u["email"], "carol@globex.io");
    assert_eq!(
        m.find_unique(json!({"where": {"id": 99}})).await.unwrap(),
        json!(null)
    );
    let e = m
        .find_unique(json!({"where": {"name": "Bob"}}))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidArgs);
    assert!(e.to_string().contains("name"), "{e}");
    let e = m.find_unique(json!({})).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidArgs);
    let e = m
        .find_unique_or_throw(json!({"where": {"id": 99}}))
        .await
        .unwrap_err();
    assert!(matches!(&e, litestone::Error::NotFound { model, .. } if model == "users"));
    let e = m
        .find_first_or_throw(json!({"where": {"age": 1000}}))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotFound);
    assert_eq!(
        m.find_first_or_throw(json!({"where": {"id": 2}}))
            .await
            .unwrap()["name"],
        "Bob"
    );
    // composite primary key (@@id) counts as unique
    let mem = db.client.model("members");
    mem.create(json!({"data": {"orgId": 1, "userId": 2, "role": "owner"}}))
        .await
        .unwrap();
    let r = mem
        .find_unique(json!({"where": {"orgId": 1, "userId": 2}}))
        .await
        .unwrap();
    assert_eq!(r["role"], "owner");
    assert_eq!(
        mem.find_unique(json!({"where": {"orgId": 1}}))
            .await
            .unwrap_err()
            .kind(),
        ErrorKind::InvalidArgs
    );
}

#[tokio::test]
async fn count_exists_and_count_pages() {
    let db = open().await;
    seed(&db).await;
    let m = db.client.model("users");
    assert_eq!(m.count(json!({})).await.unwrap(), json!(4));
    assert_eq!(m.count(serde_json::Value::Null).await.unwrap(), json!(4));
    assert_eq!(
        m.count(json!({"where": {"active": true}})).await.unwrap(),
        json!(3)
    );
    assert_eq!(
        m.exists(json!({"where": {"email": "bob@acme.io"}}))
            .await
            .unwrap(),
        json!(true)
    );
    assert_eq!(
        m.exists(json!({"where": {"email": "zed@acme.io"}}))
            .await
            .unwrap(),
        json!(false)
    );
    let page = m
        .find_many_and_count(
            json!({"where": {"id": {"gt": 1}}, "orderBy": {"id": "asc"}, "limit": 2, "offset": 1}),
        )
        .await
        .unwrap();
    assert_eq!(page["total"], 3);
    assert_eq!(ids(&page["rows"]), vec![3, 4]);
}

#[tokio::test]
async fn ordering_limit_offset_distinct() {
    let db = open().await;
    seed(&db).await;
    let m = db.client.model("users");
    let r = m
        .find_many(json!({"orderBy": {"age": "desc"}}))
        .await
        .unwrap();
    assert_eq!(ids(&r), vec![4, 1, 2, 3]); // NULLs last when descending (SQLite default)
    let r = m
        .find_many(json!({"orderBy": {"age": {"dir": "desc", "nulls": "first"}}}))
        .await
        .unwrap();
    assert_eq!(ids(&r), vec![3, 4, 1, 2]);
    let r = m
        .find_many(json!({"orderBy": {"age": {"dir": "asc", "nulls": "last"}}}))
        .await
        .unwrap();
    assert_eq!(ids(&r), vec![2, 1, 4, 3]);
    let r = m
        .find_many(json!({"orderBy": [{"active": "asc"}, {"id": "desc"}]}))
        .await
        .unwrap();
    assert_eq!(ids(&r), vec![2, 4, 3, 1]);
    let r = m
        .find_many(json!({"orderBy": {"id": "asc"}, "limit": 2, "offset": 1}))
        .await
        .unwrap();
    assert_eq!(ids(&r), vec![2, 3]);
    let r = m
        .find_many(json!({"orderBy": {"id": "asc"}, "offset": 3}))
        .await
        .unwrap();
    assert_eq!(ids(&r), vec![4]);
    let r = m
        .find_many(
            json!({"select": {"active": true}, "distinct": true, "orderBy": {"active": "asc"}}),
        )
        .await
        .unwrap();
    assert_eq!(r, json!([{"active": false}, {"active": true}]));
    let e = m
        .find_many(json!({"orderBy": {"nope": "asc"}}))
        .await
        .unwrap_err();
    assert!(matches!(&e, litestone::Error::UnknownField { path, .. } if path == "orderBy.nope"));
    let e = m
        .find_many(json!({"orderBy": {"id": "sideways"}}))
        .await
        .unwrap_err();
    assert!(matches!(&e, litestone::Error::InvalidArgs { path, .. } if path == "orderBy.id"));
    let e = m.find_many(json!({"limit": -1})).await.unwrap_err();
    assert!(matches!(&e, litestone::Error::InvalidArgs { path, .. } if path == "limit"));
    let e = m.find_many(json!({"take": 1})).await.unwrap_err();
    assert!(matches!(&e, litestone::Error::InvalidArgs { path, .. } if path == "take"));
}

#[tokio::test]
async fn select_and_visibility() {
    let db = open().await;
    seed(&db).await;
    let m = db.client.model("users");
    m.update(json!({"where": {"id": 1}, "data": {"secret": "s1", "hidden": "h1", "apiKey": "k1"}}))
        .await
        .unwrap();
    let r = m
        .find_first(json!({"where": {"id": 1}, "select": {"id": true, "email": true}}))
        .await
        .unwrap();
    assert_eq!(r, json!({"id": 1, "email": "alice@acme.io"}));
    let r = m.find_first(json!({"where": {"id": 1}})).await.unwrap();
    assert!(r.get("secret").is_none() && r.get("hidden").is_none() && r.get("apiKey").is_none());
    // @omit shows on findUnique, @omit(all) does not; @guarded hidden on lists.
    let r = m.find_unique(json!({"where": {"id": 1}})).await.unwrap();
    assert_eq!(r["secret"], "s1");
    assert!(r.get("hidden").is_none());
    assert_eq!(r["apiKey"], "k1"); // plain @guarded applies to list reads only
    // Explicit select reveals @omit fields, not guarded ones.
    let r = m
        .find_first(
            json!({"where": {"id": 1}, "select": {"secret": true, "hidden": true, "apiKey": true}}),
        )
        .await
        .unwrap();
    assert_eq!(r, json!({"secret": "s1", "hidden": "h1"}));
    let sys = db.client.as_system().model("users");
    let r = sys
        .find_first(json!({"where": {"id": 1}, "select": {"apiKey": true}}))
        .await
        .unwrap();
    assert_eq!(r, json!({"apiKey": "k1"}));
    // select with only falses removes from the default set
    let r = m.find_first(json!({"where": {"id": 2}, "select": {"address": false, "tags": false, "avatar": false, "createdAt": false, "updatedAt": false}})).await.unwrap();
    assert_eq!(r.as_object().unwrap().len(), 8);
    let e = m
        .find_many(json!({"select": {"nope": true}}))
        .await
        .unwrap_err();
    assert!(matches!(&e, litestone::Error::UnknownField { path, .. } if path == "select.nope"));
}

#[tokio::test]
async fn includes_every_kind_without_n_plus_one() {
    let db = open().await;
    seed(&db).await;
    db.client
        .model("profiles")
        .create(json!({"data": {"userId": 1, "bio": "hi"}}))
        .await
        .unwrap();
    let events = std::sync::Arc::new(parking_lot::Mutex::new(Vec::new()));
    let ev = events.clone();
    let _tap = db.client.tap_query(move |e| ev.lock().push(e.sql.clone()));
    let r = db
        .client
        .model("users")
        .find_many(json!({
            "orderBy": {"id": "asc"},
            "select": {"id": true, "account": true},
            "include": {
                "posts": {"where": {"published": true}, "orderBy": {"views": "desc"}, "select": {"title": true}},
                "profile": true
            }
        }))
        .await
        .unwrap();
    // one statement per level: users, account, posts, profile
    assert_eq!(events.lock().len(), 4, "{:#?}", events.lock());
    assert_eq!(r[0]["account"]["name"], "Acme");
    assert_eq!(
        r[0]["posts"],
        json!([{"title": "Hello"}, {"title": "Third"}])
    );
    assert_eq!(r[0]["profile"]["bio"], "hi");
    assert_eq!(r[1]["posts"], json!([{"title": "Bob post"}]));
    assert_eq!(r[1]["profile"], json!(null));
    assert_eq!(r[3]["account"], json!(null));
    assert_eq!(r[3]["posts"], json!([]));
    // select shape holds only the asked keys
    assert_eq!(
        r[1].as_object().unwrap().keys().collect::<Vec<_>>(),
        vec!["id", "account", "posts", "profile"]
    );
}

#[tokio::test]
async fn nested_includes_with_per_parent_limit() {
    let db = open().await;
    seed(&db).await;
    let r = db
        .client
        .model("accounts")
        .find_many(json!({
            "orderBy": {"id": "asc"},
            "include": {"users": {
                "orderBy": {"id": "asc"},
                "include": {"posts": {"orderBy": {"views": "desc"}, "limit": 1, "offset": 0}}
            }}
        }))
        .await
        .unwrap();
    let acme_users = r[0]["users"].as_array().unwrap();
    assert_eq!(acme_users.len(), 2);
    assert_eq!(acme_users[0]["posts"].as_array().unwrap().len(), 1);
    assert_eq!(acme_users[0]["posts"][0]["title"], "World");
    assert_eq!(acme_users[1]["posts"][0]["title"], "Bob post");
    assert_eq!(r[1]["users"][0]["posts"][0]["title"], "Carol post");
    let r = db
        .client
        .model("users")
        .find_many(json!({"where": {"id": 1}, "include": {"posts": {"orderBy": {"id": "asc"}, "limit": 2, "offset": 1}}}))
        .await
        .unwrap();
    assert_eq!(ids(&r[0]["posts"]), vec![2, 5]);
    let e = db
        .client
        .model("users")
        .find_many(json!({"include": {"email": true}}))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidArgs);
    let e = db
        .client
        .model("users")
        .find_many(json!({"include": {"posts": {"where": {"bogus": 1}}}}))
        .await
        .unwrap_err();
    assert!(
        matches!(&e, litestone::Error::UnknownField { path, model, .. } if path == "include.posts.where.bogus" && model == "posts"),
        "{e:?}"
    );
}

#[tokio::test]
async fn soft_delete_reads() {
    let db = open().await;
    seed(&db).await;
    let p = db.client.model("posts");
    let removed = p.remove(json!({"where": {"id": 2}})).await.unwrap();
    assert_eq!(removed["id"], 2);
    assert!(removed["deletedAt"].is_string());
    // the row is still there, stamped
    assert_eq!(
        db.col("SELECT deletedAt IS NOT NULL FROM posts WHERE id = 2"),
        vec![json!(1)]
    );
    assert_eq!(
        ids(&p
            .find_many(json!({"orderBy": {"id": "asc"}}))
            .await
            .unwrap()),
        vec![1, 3, 4, 5]
    );
    assert_eq!(p.count(json!({})).await.unwrap(), json!(4));
    assert_eq!(
        p.count(json!({"withDeleted": true})).await.unwrap(),
        json!(5)
    );
    assert_eq!(
        ids(&p.find_many(json!({"onlyDeleted": true})).await.unwrap()),
        vec![2]
    );
    assert_eq!(
        p.find_unique(json!({"where": {"id": 2}})).await.unwrap(),
        json!(null)
    );
    // includes skip soft-deleted children
    let u = db
        .client
        .model("users")
        .find_unique(json!({"where": {"id": 1}, "include": {"posts": true}}))
        .await
        .unwrap();
    assert_eq!(ids(&u["posts"]), vec![1, 5]);
    let restored = p.restore(json!({"where": {"id": 2}})).await.unwrap();
    assert_eq!(ids(&restored), vec![2]);
    assert_eq!(restored[0]["deletedAt"], json!(null));
    assert_eq!(p.count(json!({})).await.unwrap(), json!(5));
    // remove_many soft-deletes, delete is always hard
    assert_eq!(
        p.remove_many(json!({"where": {"authorId": 1}}))
            .await
            .unwrap(),
        json!({"count": 3})
    );
    assert_eq!(db.col("SELECT COUNT(*) FROM posts"), vec![json!(5)]);
    assert_eq!(
        p.delete(json!({"where": {"id": 1}})).await.unwrap()["id"],
        1
    );
    assert_eq!(db.col("SELECT COUNT(*) FROM posts"), vec![json!(4)]);
    // remove on a model without @@softDelete hard-deletes
    db.client
        .model("labels")
        .remove(json!({"where": {"id": 1}}))
        .await
        .unwrap();
    assert_eq!(db.col("SELECT COUNT(*) FROM labels"), vec![json!(1)]);
    let e = db
        .client
        .model("labels")
        .restore(json!({"where": {"id": 1}}))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidArgs);
}

#[tokio::test]
async fn relation_and_aggregate_order_by() {
    let db = open().await;
    seed(&db).await;
    let p = db.client.model("posts");
    // belongsTo field
    let r = p
        .find_many(json!({"orderBy": [{"author": {"name": "desc"}}, {"id": "asc"}], "select": {"id": true}}))
        .await
        .unwrap();
    assert_eq!(ids(&r), vec![3, 1, 2, 5, 4]); // Bob, Alice×3, Carol (NULL name last)
    // two hops: posts → author → account
    let r = p
        .find_many(json!({"orderBy": [{"author": {"account": {"name": "desc"}}}, {"id": "desc"}], "select": {"id": true}}))
        .await
        .unwrap();
    assert_eq!(ids(&r), vec![4, 5, 3, 2, 1]);
    // hasMany aggregates
    let u = db.client.model("users");
    let r = u
        .find_many(json!({"orderBy": [{"posts": {"_count": "desc"}}, {"id": "asc"}], "select": {"id": true}}))
        .await
        .unwrap();
    assert_eq!(ids(&r), vec![1, 2, 3, 4]);
    let r = u
        .find_many(json!({"orderBy": [{"posts": {"_sum": {"views": "desc"}}}, {"id": "asc"}], "select": {"id": true}}))
        .await
        .unwrap();
    assert_eq!(ids(&r), vec![3, 1, 2, 4]);
    let r = u
        .find_many(json!({"orderBy": {"posts": {"_max": {"views": {"dir": "asc", "nulls": "first"}}}}, "select": {"id": true}}))
        .await
        .unwrap();
    assert_eq!(ids(&r), vec![4, 2, 1, 3]);
    // soft-deleted children are not counted
    p.remove_many(json!({"where": {"authorId": 1}}))
        .await
        .unwrap();
    let r = u
        .find_many(json!({"orderBy": [{"posts": {"_count": "desc"}}, {"id": "asc"}], "select": {"id": true}, "limit": 2}))
        .await
        .unwrap();
    assert_eq!(ids(&r), vec![2, 3]);
    // errors
    let e = u
        .find_many(json!({"orderBy": {"posts": {"title": "asc"}}}))
        .await
        .unwrap_err();
    assert!(
        matches!(&e, litestone::Error::InvalidArgs { path, .. } if path == "orderBy.posts.title"),
        "{e:?}"
    );
    let e = p
        .find_many(json!({"orderBy": {"author": {"nope": "asc"}}}))
        .await
        .unwrap_err();
    assert!(
        matches!(&e, litestone::Error::UnknownField { path, model, .. } if path == "orderBy.author.nope" && model == "users"),
        "{e:?}"
    );
    let e = p
        .find_many(json!({"orderBy": {"author": {"_count": "asc"}}}))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidArgs);
    let e = p
        .find_many_cursor(json!({"orderBy": {"author": {"name": "asc"}}}))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidArgs);
    // many-to-many _count
    let l = db.client.model("labels");
    let r = l
        .find_many(json!({"orderBy": {"posts": {"_count": "asc"}}}))
        .await
        .unwrap();
    assert_eq!(r.as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn relation_counts() {
    let db = open().await;
    seed(&db).await;
    let u = db.client.model("users");
    let r = u
        .find_many(json!({"orderBy": {"id": "asc"}, "select": {"id": true, "_count": {"select": {"posts": true}}}}))
        .await
        .unwrap();
    assert_eq!(r[0], json!({"id": 1, "_count": {"posts": 3}}));
    assert_eq!(r[3], json!({"id": 4, "_count": {"posts": 0}}));
    let r = u
        .find_unique(json!({"where": {"id": 1}, "include": {"_count": {"select": {"posts": {"where": {"views": {"gt": 8}}}}}}}))
        .await
        .unwrap();
    assert_eq!(r["_count"], json!({"posts": 2}));
    assert_eq!(r["email"], "alice@acme.io");
    let r = db
        .client
        .model("accounts")
        .find_many(json!({"orderBy": {"id": "asc"}, "include": {"_count": true, "users": {"select": {"id": true, "_count": true}, "orderBy": {"id": "asc"}, "limit": 1}}}))
        .await
        .unwrap();
    assert_eq!(r[0]["_count"], json!({"users": 2}));
    assert_eq!(r[0]["users"], json!([{"id": 1, "_count": {"posts": 3}}]));
    // a parameterised count inside a limited include level binds around :keys
    let r = db
        .client
        .model("accounts")
        .find_many(json!({"where": {"id": 1}, "include": {"users": {"select": {"id": true, "_count": {"select": {"posts": {"where": {"views": {"gt": 8}}}}}}, "orderBy": {"id": "desc"}, "limit": 1, "offset": 1}}}))
        .await
        .unwrap();
    assert_eq!(r[0]["users"], json!([{"id": 1, "_count": {"posts": 2}}]));
    let e = u
        .find_many(json!({"select": {"_count": {"select": {"account": true}}}}))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidArgs);
    let e = u
        .find_many(json!({"select": {"_count": {"select": {"nope": true}}}}))
        .await
        .unwrap_err();
    assert!(
        matches!(&e, litestone::Error::UnknownField { path, .. } if path == "select._count.select.nope")
    );
    let e = db
        .client
        .model("labels")
        .create(json!({"data": {"name": "x"}, "include": {"_count": true}}))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidArgs);
}
