//! Write methods: returned values, rows left in the database, defaults,
//! transforms/validators, codecs and error kinds.
#![allow(clippy::unwrap_used)]
mod common;
use common::*;
use litestone::ErrorKind;
use serde_json::json;

#[tokio::test]
async fn create_returns_row_with_defaults_and_codecs() {
    let db = open().await;
    let u = db
        .client
        .model("users")
        .create(json!({"data": {
            "email": "  MIXED@Case.IO",
            "avatar": "AQID",
            "tags": ["x"],
            "address": {"street": "s", "city": "c", "zip": null},
            "createdAt": "2024-05-06T07:08:09+02:00"
        }}))
        .await
        .unwrap_err();
    // @email runs after @lower, but "  mixed@case.io" has spaces (no @trim here)
    assert_eq!(u.kind(), ErrorKind::Validation);
    let u = db
        .client
        .model("users")
        .create(json!({"data": {
            "email": "MIXED@Case.IO",
            "avatar": "AQID",
            "tags": ["x"],
            "address": {"street": "s", "city": "c", "zip": null},
            "createdAt": "2024-05-06T07:08:09+02:00"
        }}))
        .await
        .unwrap();
    assert_eq!(u["id"], 1);
    assert_eq!(u["email"], "mixed@case.io");
    assert_eq!(u["active"], true);
    assert_eq!(u["role"], "member");
    assert_eq!(u["avatar"], "AQID");
    assert_eq!(u["tags"], json!(["x"]));
    assert_eq!(
        u["address"],
        json!({"street": "s", "city": "c", "zip": null})
    );
    assert_eq!(u["createdAt"], "2024-05-06T05:08:09.000Z");
    assert!(u["updatedAt"].as_str().unwrap().ends_with('Z'));
    // stored forms
    let raw = db.raw();
    let (active, avatar, created): (i64, Vec<u8>, String) = raw
        .query_row(
            "SELECT active, avatar, createdAt FROM users WHERE id = 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .unwrap();
    assert_eq!(
        (active, avatar, created.as_str()),
        (1, vec![1u8, 2, 3], "2024-05-06T05:08:09.000Z")
    );
    // uuid default, @trim transform
    let a = db
        .client
        .model("accounts")
        .create(json!({"data": {"name": "  Acme  "}}))
        .await
        .unwrap();
    assert_eq!(a["name"], "Acme");
    assert_eq!(a["plan"], "starter");
    let p = db
        .client
        .model("posts")
        .create(json!({"data": {"authorId": 1, "title": "t"}}))
        .await
        .unwrap();
    assert_eq!(p["slug"].as_str().unwrap().len(), 36);
    assert_eq!(p["views"], 0);
    assert_eq!(p["published"], false);
}

#[tokio::test]
async fn create_select_include_and_select_false() {
    let db = open().await;
    seed(&db).await;
    let p = db
        .client
        .model("posts")
        .create(json!({"data": {"authorId": 2, "title": "new"}, "select": {"id": true, "title": true}, "include": {"author": {"select": {"name": true}}}}))
        .await
        .unwrap();
    assert_eq!(
        p,
        json!({"id": 6, "title": "new", "author": {"name": "Bob"}})
    );
    let n = db
        .client
        .model("posts")
        .create(json!({"data": {"authorId": 2, "title": "quiet"}, "select": false}))
        .await
        .unwrap();
    assert_eq!(n, json!(null));
    assert_eq!(
        db.col("SELECT title FROM posts WHERE id = 7"),
        vec![json!("quiet")]
    );
}

#[tokio::test]
async fn create_errors() {
    let db = open().await;
    seed(&db).await;
    let m = db.client.model("users");
    let e = m
        .create(json!({"data": {"email": "x@y.io", "age": "30"}}))
        .await
        .unwrap_err();
    assert!(
        matches!(&e, litestone::Error::Validation { model, field, rule, .. } if model == "users" && field == "age" && rule == "type"),
        "{e:?}"
    );
    let e = m
        .create(json!({"data": {"email": "x@y.io", "age": 1.5}}))
        .await
        .unwrap_err();
    assert!(matches!(&e, litestone::Error::Validation { rule, .. } if rule == "type"));
    let e = m
        .create(json!({"data": {"email": "x@y.io", "age": 18446744073709551615u64}}))
        .await
        .unwrap_err();
    assert!(matches!(&e, litestone::Error::Validation { rule, .. } if rule == "range"));
    let e = m
        .create(json!({"data": {"email": "x@y.io", "active": "yes"}}))
        .await
        .unwrap_err();
    assert!(matches!(&e, litestone::Error::Validation { field, .. } if field == "active"));
    let e = m
        .create(json!({"data": {"email": "x@y.io", "role": "boss"}}))
        .await
        .unwrap_err();
    assert!(matches!(&e, litestone::Error::Validation { rule, .. } if rule == "enum"));
    let e = m
        .create(json!({"data": {"email": "x@y.io", "createdAt": "yesterday"}}))
        .await
        .unwrap_err();
    assert!(matches!(&e, litestone::Error::Validation { rule, .. } if rule == "datetime"));
    let e = m
        .create(json!({"data": {"email": "x@y.io", "address": {"street": "s"}}}))
        .await
        .unwrap_err();
    assert!(
        matches!(&e, litestone::Error::Validation { field, rule, .. } if field == "address.city" && rule == "required"),
        "{e:?}"
    );
    let e = m.create(json!({"data": {"email": "x@y.io", "address": {"street": "s", "city": "c", "planet": "x"}}})).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Validation);
    let e = m
        .create(json!({"data": {"email": "x@y.io", "tags": [1]}}))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Validation);
    let e = m
        .create(json!({"data": {"email": "x@y.io", "avatar": "***"}}))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Validation);
    let e = m
        .create(json!({"data": {"email": "not-an-email"}}))
        .await
        .unwrap_err();
    assert!(matches!(&e, litestone::Error::Validation { rule, .. } if rule == "email"));
    let e = m.create(json!({"data": {}})).await.unwrap_err();
    assert!(
        matches!(&e, litestone::Error::Validation { field, rule, .. } if field == "email" && rule == "required")
    );
    let e = m
        .create(json!({"data": {"email": "x@y.io", "nope": 1}}))
        .await
        .unwrap_err();
    assert!(matches!(&e, litestone::Error::UnknownField { path, .. } if path == "data.nope"));
    let e = m
        .create(json!({"data": {"email": "x@y.io", "posts": []}}))
        .await
        .unwrap_err();
    assert!(matches!(&e, litestone::Error::InvalidArgs { path, .. } if path == "data.posts"));
    let e = m
        .create(json!({"data": {"email": "alice@acme.io"}}))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::UniqueViolation);
    let e = db
        .client
        .model("posts")
        .create(json!({"data": {"authorId": 99, "title": "x"}}))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::ForeignKeyViolation);
    let e = db
        .client
        .model("posts")
        .create(json!({"data": {"authorId": 1, "title": ""}}))
        .await
        .unwrap_err();
    assert!(matches!(&e, litestone::Error::Validation { rule, .. } if rule == "length"));
    // nothing half-written
    assert_eq!(db.col("SELECT COUNT(*) FROM users"), vec![json!(4)]);
}

#[tokio::test]
async fn create_many_and_skip_duplicates() {
    let db = open().await;
    seed(&db).await;
    let data: Vec<_> = (0..250)
        .map(|i| json!({"authorId": 1 + i % 4, "title": format!("bulk {i}"), "views": i}))
        .collect();
    let r = db
        .client
        .model("posts")
        .create_many(json!({"data": data}))
        .await
        .unwrap();
    assert_eq!(r, json!({"count": 250}));
    assert_eq!(db.col("SELECT COUNT(*) FROM posts"), vec![json!(255)]);
    let r = db
        .client
        .model("labels")
        .create_many(json!({"data": [{"name": "rust"}, {"name": "go"}], "skipDuplicates": true}))
        .await
        .unwrap();
    assert_eq!(r, json!({"count": 1}));
    // a bad row rejects the whole batch
    let e = db
        .client
        .model("labels")
        .create_many(json!({"data": [{"name": "zig"}, {"name": 3}]}))
        .await
        .unwrap_err();
    assert!(matches!(&e, litestone::Error::Validation { field, .. } if field == "name"));
    let e = db
        .client
        .model("labels")
        .create_many(json!({"data": [{"name": "zig"}, {"name": "rust"}]}))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::UniqueViolation);
    assert_eq!(
        db.col("SELECT COUNT(*) FROM labels WHERE name = 'zig'"),
        vec![json!(0)]
    );
}

#[tokio::test]
async fn update_values_and_atomic_ops() {
    let db = open().await;
    seed(&db).await;
    let p = db.client.model("posts");
    let r = p
        .update(json!({"where": {"id": 1}, "data": {"views": {"increment": 5}, "title": "Hi"}}))
        .await
        .unwrap();
    assert_eq!(
        (r["views"].clone(), r["title"].clone()),
        (json!(15), json!("Hi"))
    );
    let r = p
        .update(json!({"where": {"id": 1}, "data": {"views": {"decrement": 3}}}))
        .await
        .unwrap();
    assert_eq!(r["views"], 12);
    let r = p
        .update(json!({"where": {"id": 1}, "data": {"views": {"multiply": 2}}}))
        .await
        .unwrap();
    assert_eq!(r["views"], 24);
    let r = p
        .update(json!({"where": {"id": 1}, "data": {"views": {"divide": 5}}}))
        .await
        .unwrap();
    assert_eq!(r["views"], 4);
    let r = p
        .update(json!({"where": {"id": 1}, "data": {"views": {"set": 9}, "body": null}}))
        .await
        .unwrap();
    assert_eq!(
        (r["views"].clone(), r["body"].clone()),
        (json!(9), json!(null))
    );
    assert_eq!(
        db.col("SELECT views FROM posts WHERE id = 1"),
        vec![json!(9)]
    );
    assert_eq!(
        p.update(json!({"where": {"id": 99}, "data": {"views": 1}}))
            .await
            .unwrap(),
        json!(null)
    );
    // single update touches one row only
    let r = p
        .update(json!({"where": {"authorId": 1}, "data": {"views": 0}}))
        .await
        .unwrap();
    assert!(r.is_object());
    assert_eq!(
        db.col("SELECT COUNT(*) FROM posts WHERE views = 0"),
        vec![json!(1)]
    );
    // @updatedAt moves
    let before = db.col("SELECT updatedAt FROM users WHERE id = 1");
    std::thread::sleep(std::time::Duration::from_millis(5));
    let u = db
        .client
        .model("users")
        .update(json!({"where": {"id": 1}, "data": {"name": "Al"}}))
        .await
        .unwrap();
    assert_ne!(json!([u["updatedAt"].clone()]), json!(before));
    let e = p
        .update(json!({"where": {"id": 1}, "data": {"title": {"increment": 1}}}))
        .await
        .unwrap_err();
    assert!(
        matches!(&e, litestone::Error::UnknownOperator { field, operator, .. } if field == "title" && operator == "increment")
    );
    let e = p
        .update(json!({"where": {"id": 1}, "data": {"title": null}}))
        .await
        .unwrap_err();
    assert!(matches!(&e, litestone::Error::Validation { rule, .. } if rule == "required"));
    let e = p.update(json!({"data": {"views": 1}})).await.unwrap_err();
    assert!(matches!(&e, litestone::Error::InvalidArgs { path, .. } if path == "where"));
    let e = p
        .update(json!({"where": {}, "data": {"views": 1}}))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidArgs);
    let r = db
        .client
        .model("users")
        .update(json!({"where": {"id": 2}, "data": {"age": 26}, "select": {"age": true}, "include": {"posts": {"select": {"id": true}}}}))
        .await
        .unwrap();
    assert_eq!(r, json!({"age": 26, "posts": [{"id": 3}]}));
    assert_eq!(
        db.client
            .model("users")
            .update(json!({"where": {"id": 2}, "data": {"age": 27}, "select": false}))
            .await
            .unwrap(),
        json!(null)
    );
    assert_eq!(
        db.col("SELECT age FROM users WHERE id = 2"),
        vec![json!(27)]
    );
}

#[tokio::test]
async fn update_many_delete_many_and_whole_table_opt_in() {
    let db = open().await;
    seed(&db).await;
    let p = db.client.model("posts");
    assert_eq!(
        p.update_many(json!({"where": {"authorId": 1}, "data": {"published": false}}))
            .await
            .unwrap(),
        json!({"count": 3})
    );
    assert_eq!(
        db.col("SELECT COUNT(*) FROM posts WHERE published = 0"),
        vec![json!(3)]
    );
    let e = p
        .update_many(json!({"data": {"views": 0}}))
        .await
        .unwrap_err();
    assert!(matches!(&e, litestone::Error::InvalidArgs { path, .. } if path == "where"));
    let e = p
        .update_many(json!({"where": {}, "data": {"views": 0}}))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidArgs);
    assert_eq!(
        p.update_many(json!({"all": true, "data": {"views": 1}}))
            .await
            .unwrap(),
        json!({"count": 5})
    );
    assert_eq!(db.col("SELECT SUM(views) FROM posts"), vec![json!(5)]);
    let e = p.delete_many(json!({})).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidArgs);
    assert_eq!(
        p.delete_many(json!({"where": {"authorId": 2}}))
            .await
            .unwrap(),
        json!({"count": 1})
    );
    assert_eq!(
        p.delete_many(json!({"where": {}, "all": true}))
            .await
            .unwrap(),
        json!({"count": 4})
    );
    assert_eq!(db.col("SELECT COUNT(*) FROM posts"), vec![json!(0)]);
    let e = db
        .client
        .model("labels")
        .delete(json!({"where": {"id": 42}}))
        .await
        .unwrap_err();
    assert!(matches!(&e, litestone::Error::NotFound { model, .. } if model == "labels"));
    let e = db
        .client
        .model("labels")
        .delete(json!({}))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidArgs);
}

#[tokio::test]
async fn upserts() {
    let db = open().await;
    seed(&db).await;
    let l = db.client.model("labels");
    let r = l
        .upsert(json!({"where": {"name": "go"}, "create": {"name": "go"}, "update": {}}))
        .await
        .unwrap();
    assert_eq!(r["name"], "go");
    let id = r["id"].clone();
    let r = l
        .upsert(json!({"where": {"name": "go"}, "create": {}, "update": {"name": "golang"}}))
        .await
        .unwrap();
    assert_eq!((r["id"].clone(), r["name"].clone()), (id, json!("golang")));
    assert_eq!(db.col("SELECT COUNT(*) FROM labels"), vec![json!(3)]);
    let r = l
        .upsert(json!({"where": {"name": "rust"}, "update": {}}))
        .await
        .unwrap();
    assert_eq!(r["id"], 1);
    let e = l
        .upsert(json!({"where": {"id": {"gt": 1}}, "create": {"name": "x"}}))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidArgs);
    let u = db.client.model("users");
    let r = u
        .upsert(json!({"where": {"email": "alice@acme.io"}, "create": {"name": "new"}, "update": {"age": {"increment": 1}}}))
        .await
        .unwrap();
    assert_eq!((r["id"].clone(), r["age"].clone()), (json!(1), json!(31)));
    let r = u
        .upsert_many(json!({
            "data": [{"email": "alice@acme.io", "name": "Alice2"}, {"email": "eve@x.io", "name": "Eve"}],
            "conflictTarget": ["email"],
            "update": ["name"]
        }))
        .await
        .unwrap();
    assert_eq!(r, json!({"count": 2}));
    assert_eq!(
        db.col("SELECT name FROM users WHERE email IN ('alice@acme.io', 'eve@x.io') ORDER BY id"),
        vec![json!("Alice2"), json!("Eve")]
    );
    let r = db
        .client
        .model("labels")
        .upsert_many(json!({"data": [{"id": 1, "name": "rust-lang"}, {"id": 9, "name": "nine"}], "conflictTarget": ["id"]}))
        .await
        .unwrap();
    assert_eq!(r, json!({"count": 2}));
    assert_eq!(
        db.col("SELECT name FROM labels WHERE id IN (1, 9) ORDER BY id"),
        vec![json!("rust-lang"), json!("nine")]
    );
    let e = u
        .upsert_many(json!({"data": [], "conflictTarget": ["bogus"]}))
        .await
        .unwrap_err();
    assert!(
        matches!(&e, litestone::Error::UnknownField { path, .. } if path == "conflictTarget[0]")
    );
}

#[tokio::test]
async fn sequence_and_map() {
    let db = open().await;
    let q = db.client.model("quotes");
    let mut nums = Vec::new();
    for acct in [5, 5, 7, 5, 7] {
        let r = q
            .create(json!({"data": {"accountId": acct, "title": "q"}}))
            .await
            .unwrap();
        nums.push(r["quoteNumber"].as_i64().unwrap());
    }
    assert_eq!(nums, vec![1, 2, 1, 3, 2]);
    q.create_many(
        json!({"data": [{"accountId": 5, "title": "a"}, {"accountId": 5, "title": "b"}]}),
    )
    .await
    .unwrap();
    assert_eq!(
        db.col("SELECT MAX(quoteNumber) FROM quote_table WHERE accountId = 5"),
        vec![json!(5)]
    );
    // @map / @@map: JSON keys are field names, SQL uses the mapped names
    let r = q
        .find_first(json!({"where": {"title": "a"}, "orderBy": {"title": "asc"}}))
        .await
        .unwrap();
    assert_eq!(r["title"], "a");
    assert_eq!(
        db.col("SELECT quote_title FROM quote_table WHERE id = 6"),
        vec![json!("a")]
    );
    let r = q
        .update(json!({"where": {"id": 6}, "data": {"title": "renamed"}}))
        .await
        .unwrap();
    assert_eq!(r["title"], "renamed");
}

#[tokio::test]
async fn transactions_see_and_roll_back_writes() {
    let db = open().await;
    seed(&db).await;
    // run_write routes through the writer; a failing write leaves nothing behind.
    let e = db
        .client
        .model("posts")
        .create_many(
            json!({"data": [{"authorId": 1, "title": "ok"}, {"authorId": 99, "title": "bad fk"}]}),
        )
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::ForeignKeyViolation);
    assert_eq!(
        db.col("SELECT COUNT(*) FROM posts WHERE title = 'ok'"),
        vec![json!(0)]
    );
}

#[tokio::test]
async fn upsert_on_soft_delete_model_uses_partial_unique_index() {
    let db = open_with(
        r#"
model subs {
  id        Integer   @id
  email     Text      @unique
  plan      Text
  deletedAt DateTime?
  @@softDelete
}
"#,
    )
    .await;
    let s = db.client.model("subs");
    let a = s.upsert(json!({"where": {"email": "a@x.io"}, "create": {"plan": "free"}, "update": {"plan": "pro"}})).await.unwrap();
    assert_eq!(
        (a["id"].clone(), a["plan"].clone()),
        (json!(1), json!("free"))
    );
    let b = s.upsert(json!({"where": {"email": "a@x.io"}, "create": {"plan": "free"}, "update": {"plan": "pro"}})).await.unwrap();
    assert_eq!(
        (b["id"].clone(), b["plan"].clone()),
        (json!(1), json!("pro"))
    );
    s.remove(json!({"where": {"id": 1}})).await.unwrap();
    // the soft-deleted row no longer holds the unique email
    let c = s.upsert(json!({"where": {"email": "a@x.io"}, "create": {"plan": "free"}, "update": {"plan": "pro"}})).await.unwrap();
    assert_eq!(
        (c["id"].clone(), c["plan"].clone()),
        (json!(2), json!("free"))
    );
    let n = s
        .upsert_many(json!({"data": [{"email": "a@x.io", "plan": "team"}, {"email": "b@x.io", "plan": "free"}], "conflictTarget": ["email"]}))
        .await
        .unwrap();
    assert_eq!(n, json!({"count": 2}));
    assert_eq!(
        db.col("SELECT plan FROM subs ORDER BY id"),
        vec![json!("pro"), json!("team"), json!("free")]
    );
}

#[tokio::test]
async fn auth_defaults_and_updated_by() {
    let db = open_with(
        r#"
model docs {
  id        Integer  @id
  ownerId   Integer? @default(auth().id)
  title     Text
  copy      Text?    @default(title)
  editedBy  Integer? @updatedBy
  nano      Text     @default(nanoid())
  ul        Text     @default(ulid())
}
"#,
    )
    .await;
    let scoped = db.client.set_auth(json!({"id": 7}));
    let d = scoped
        .model("docs")
        .create(json!({"data": {"title": "t"}}))
        .await
        .unwrap();
    assert_eq!(d["ownerId"], 7);
    assert_eq!(d["copy"], "t");
    assert_eq!(d["nano"].as_str().unwrap().len(), 21);
    assert_eq!(d["ul"].as_str().unwrap().len(), 26);
    let anon = db
        .client
        .model("docs")
        .create(json!({"data": {"title": "u", "copy": "own"}}))
        .await
        .unwrap();
    assert_eq!(
        (anon["ownerId"].clone(), anon["copy"].clone()),
        (json!(null), json!("own"))
    );
    let e = db
        .client
        .set_auth(json!({"id": 9}))
        .model("docs")
        .update(json!({"where": {"id": 2}, "data": {"title": "v"}}))
        .await
        .unwrap();
    assert_eq!(e["editedBy"], 9);
    // stamped on create too when auth is set
    assert_eq!(
        db.col("SELECT editedBy FROM docs ORDER BY id"),
        vec![json!(7), json!(9)]
    );
}
