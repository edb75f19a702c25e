//! One test per `where` operator: returned rows (by id) on the seeded data.
#![allow(clippy::unwrap_used)]
mod common;
use common::*;
use litestone::ErrorKind;
use serde_json::{Value, json};

async fn users(db: &Db, w: Value) -> Vec<i64> {
    ids(&db
        .client
        .model("users")
        .find_many(json!({"where": w, "orderBy": {"id": "asc"}}))
        .await
        .unwrap_or_else(|e| panic!("{w}: {e}")))
}

#[tokio::test]
async fn equality_null_and_not() {
    let db = open().await;
    seed(&db).await;
    assert_eq!(users(&db, json!({"name": "Bob"})).await, vec![2]);
    assert_eq!(
        users(&db, json!({"name": {"equals": "Bob"}})).await,
        vec![2]
    );
    assert_eq!(users(&db, json!({"name": null})).await, vec![3]);
    assert_eq!(
        users(&db, json!({"name": {"not": null}})).await,
        vec![1, 2, 4]
    );
    // `not` is null-safe: Carol (NULL name) is "not Bob".
    assert_eq!(
        users(&db, json!({"name": {"not": "Bob"}})).await,
        vec![1, 3, 4]
    );
    assert_eq!(
        users(&db, json!({"age": {"not": {"gt": 28}}})).await,
        vec![2]
    );
    assert_eq!(users(&db, json!({"active": false})).await, vec![2]);
    assert_eq!(users(&db, json!({"active": true})).await, vec![1, 3, 4]);
    assert_eq!(users(&db, json!({"role": "viewer"})).await, vec![3]);
}

#[tokio::test]
async fn in_and_not_in_includes_nulls() {
    let db = open().await;
    seed(&db).await;
    assert_eq!(
        users(&db, json!({"age": {"in": [25, 41]}})).await,
        vec![2, 4]
    );
    assert_eq!(
        users(&db, json!({"age": {"in": []}})).await,
        Vec::<i64>::new()
    );
    assert_eq!(
        users(&db, json!({"age": {"in": [25, null]}})).await,
        vec![2, 3]
    );
    // README convention: notIn includes NULL rows.
    assert_eq!(
        users(&db, json!({"age": {"notIn": [25, 41]}})).await,
        vec![1, 3]
    );
    assert_eq!(
        users(&db, json!({"age": {"notIn": []}})).await,
        vec![1, 2, 3, 4]
    );
    assert_eq!(
        users(&db, json!({"age": {"notIn": [25, null]}})).await,
        vec![1, 4]
    );
}

#[tokio::test]
async fn ranges() {
    let db = open().await;
    seed(&db).await;
    assert_eq!(users(&db, json!({"age": {"gt": 25}})).await, vec![1, 4]);
    assert_eq!(users(&db, json!({"age": {"gte": 25}})).await, vec![1, 2, 4]);
    assert_eq!(users(&db, json!({"age": {"lt": 30}})).await, vec![2]);
    assert_eq!(users(&db, json!({"age": {"lte": 30}})).await, vec![1, 2]);
    assert_eq!(
        users(&db, json!({"age": {"gte": 25, "lte": 30}})).await,
        vec![1, 2]
    );
    assert_eq!(users(&db, json!({"score": {"gt": 1.0}})).await, vec![1]);
    // DateTime operands are normalised before comparing.
    assert_eq!(
        users(&db, json!({"createdAt": {"gt": "2000-01-01"}})).await,
        vec![1, 2, 3, 4]
    );
    assert_eq!(
        users(
            &db,
            json!({"createdAt": {"lt": "2000-01-01T00:00:00+01:00"}})
        )
        .await,
        Vec::<i64>::new()
    );
}

#[tokio::test]
async fn text_matching_sensitive_and_insensitive() {
    let db = open().await;
    seed(&db).await;
    assert_eq!(
        users(&db, json!({"name": {"contains": "li"}})).await,
        vec![1]
    );
    assert_eq!(
        users(&db, json!({"name": {"contains": "LI"}})).await,
        Vec::<i64>::new()
    );
    assert_eq!(
        users(
            &db,
            json!({"name": {"contains": "LI", "mode": "insensitive"}})
        )
        .await,
        vec![1]
    );
    assert_eq!(
        users(&db, json!({"name": {"startsWith": "B"}})).await,
        vec![2]
    );
    assert_eq!(
        users(&db, json!({"name": {"startsWith": "b"}})).await,
        Vec::<i64>::new()
    );
    assert_eq!(
        users(
            &db,
            json!({"name": {"startsWith": "b", "mode": "insensitive"}})
        )
        .await,
        vec![2]
    );
    assert_eq!(
        users(&db, json!({"email": {"endsWith": ".io"}})).await,
        vec![1, 2, 3, 4]
    );
    // Wildcards in the needle are literal.
    assert_eq!(
        users(&db, json!({"email": {"contains": "_100%"}})).await,
        vec![4]
    );
    assert_eq!(
        users(&db, json!({"email": {"contains": "%"}})).await,
        vec![4]
    );
    assert_eq!(
        users(
            &db,
            json!({"email": {"contains": "_", "mode": "insensitive"}})
        )
        .await,
        vec![4]
    );
    assert_eq!(
        users(&db, json!({"email": {"contains": "*"}})).await,
        Vec::<i64>::new()
    );
    assert_eq!(
        users(&db, json!({"email": {"contains": "?"}})).await,
        Vec::<i64>::new()
    );
    assert_eq!(
        users(&db, json!({"email": {"contains": "["}})).await,
        Vec::<i64>::new()
    );
}

#[tokio::test]
async fn logic_at_any_depth() {
    let db = open().await;
    seed(&db).await;
    assert_eq!(
        users(&db, json!({"OR": [{"name": "Bob"}, {"age": 41}]})).await,
        vec![2, 4]
    );
    assert_eq!(
        users(&db, json!({"AND": [{"active": true}, {"age": {"gt": 20}}]})).await,
        vec![1, 4]
    );
    assert_eq!(
        users(&db, json!({"AND": {"active": true}})).await,
        vec![1, 3, 4]
    );
    assert_eq!(
        users(&db, json!({"NOT": {"name": "Bob"}})).await,
        vec![1, 4]
    );
    // NOT with a list: every listed condition must be false (Carol's NULL name stays unknown).
    assert_eq!(
        users(&db, json!({"NOT": [{"name": "Bob"}, {"age": 41}]})).await,
        vec![1]
    );
    assert_eq!(
        users(&db, json!({"NOT": {"name": "Bob", "age": 41}})).await,
        vec![1, 2, 4]
    );
    assert_eq!(
        users(
            &db,
            json!({"OR": [{"AND": [{"role": "admin"}, {"NOT": {"age": 99}}]}, {"OR": [{"id": 3}]}]})
        )
        .await,
        vec![1, 3]
    );
    assert_eq!(users(&db, json!({"OR": []})).await, Vec::<i64>::new());
}

#[tokio::test]
async fn relation_filters() {
    let db = open().await;
    seed(&db).await;
    // to-many
    assert_eq!(
        users(&db, json!({"posts": {"some": {"views": {"gt": 40}}}})).await,
        vec![1, 3]
    );
    assert_eq!(users(&db, json!({"posts": {"none": {}}})).await, vec![4]);
    assert_eq!(
        users(&db, json!({"posts": {"every": {"published": true}}})).await,
        vec![2, 3, 4]
    );
    // to-one (belongsTo) from posts
    let posts = db
        .client
        .model("posts")
        .find_many(json!({"where": {"author": {"is": {"name": "Bob"}}}}))
        .await
        .unwrap();
    assert_eq!(ids(&posts), vec![3]);
    let posts = db
        .client
        .model("posts")
        .find_many(
            json!({"where": {"author": {"isNot": {"role": "admin"}}}, "orderBy": {"id": "asc"}}),
        )
        .await
        .unwrap();
    assert_eq!(ids(&posts), vec![3, 4]);
    // bare where object on a to-one relation = is
    assert_eq!(
        users(&db, json!({"account": {"name": "Globex"}})).await,
        vec![3]
    );
    assert_eq!(users(&db, json!({"account": null})).await, vec![4]);
    assert_eq!(
        users(&db, json!({"account": {"isNot": null}})).await,
        vec![1, 2, 3]
    );
    // soft-deleted children do not count
    db.client
        .model("posts")
        .remove(json!({"where": {"id": 4}}))
        .await
        .unwrap();
    assert_eq!(
        users(&db, json!({"posts": {"some": {"views": {"gt": 40}}}})).await,
        vec![1]
    );
    // nested relation filter across two levels
    let accts = db
        .client
        .model("accounts")
        .find_many(
            json!({"where": {"users": {"some": {"posts": {"some": {"title": "Bob post"}}}}}}),
        )
        .await
        .unwrap();
    assert_eq!(ids(&accts), vec![1]);
}

#[tokio::test]
async fn many_to_many_filters() {
    let db = open().await;
    seed(&db).await;
    let raw = db.raw();
    // The implicit join table is created by the DDL; link post 1 ↔ rust, post 2 ↔ sqlite.
    let table: String = raw
        .query_row(
            "SELECT name FROM sqlite_master WHERE type='table' AND name LIKE '\\_%' ESCAPE '\\'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    let cols: Vec<String> = raw
        .prepare(&format!(
            "SELECT name FROM pragma_table_info('{table}') ORDER BY cid"
        ))
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(|r| r.unwrap())
        .collect();
    let schema = db.client.schema();
    let labels_field = schema.model("posts").unwrap().field("labels").unwrap();
    let litestone::schema::FieldType::Relation(rel) = &labels_field.ty else {
        panic!()
    };
    let litestone::schema::RelationKind::ManyToMany(jt) = &rel.kind else {
        panic!()
    };
    assert!(cols.contains(&jt.source_column));
    raw.execute(
        &format!(
            "INSERT INTO \"{}\" (\"{}\", \"{}\") VALUES (1, 1), (2, 2), (1, 2)",
            jt.table, jt.source_column, jt.target_column
        ),
        [],
    )
    .unwrap();
    let posts = db
        .client
        .model("posts")
        .find_many(
            json!({"where": {"labels": {"some": {"name": "sqlite"}}}, "orderBy": {"id": "asc"}}),
        )
        .await
        .unwrap();
    assert_eq!(ids(&posts), vec![1, 2]);
    let labels = db
        .client
        .model("labels")
        .find_many(
            json!({"where": {"posts": {"some": {"title": "Hello"}}}, "orderBy": {"id": "asc"}}),
        )
        .await
        .unwrap();
    assert_eq!(ids(&labels), vec![1, 2]);
    let with = db
        .client
        .model("posts")
        .find_many(json!({"where": {"id": {"in": [1, 3]}}, "include": {"labels": {"orderBy": {"name": "desc"}}}, "orderBy": {"id": "asc"}}))
        .await
        .unwrap();
    assert_eq!(with[0]["labels"].as_array().unwrap().len(), 2);
    assert_eq!(with[0]["labels"][0]["name"], "sqlite");
    assert_eq!(with[1]["labels"], json!([]));
}

#[tokio::test]
async fn json_path_filters() {
    let db = open().await;
    seed(&db).await;
    assert_eq!(
        users(&db, json!({"address": {"city": "NYC"}})).await,
        vec![1]
    );
    assert_eq!(
        users(&db, json!({"address": {"city": {"in": ["LA", "NYC"]}}})).await,
        vec![1, 2]
    );
    assert_eq!(
        users(&db, json!({"address": {"city": {"startsWith": "N"}}})).await,
        vec![1]
    );
    assert_eq!(users(&db, json!({"address": null})).await, vec![3, 4]);
    let a = db
        .client
        .model("accounts")
        .find_many(json!({"where": {"meta": {"tier": {"gte": 3}}}}))
        .await
        .unwrap();
    assert_eq!(ids(&a), vec![2]);
    // Keys are checked against the typed shape.
    let e = db
        .client
        .model("users")
        .find_many(json!({"where": {"address": {"country": "US"}}}))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::UnknownField);
}

#[tokio::test]
async fn raw_fragments() {
    let db = open().await;
    seed(&db).await;
    assert_eq!(users(&db, json!({"$raw": "age > 26"})).await, vec![1, 4]);
    let frag = litestone::sql!("age > {} AND name <> {}", 26, "Dave");
    assert_eq!(
        users(&db, json!({"active": true, "$raw": frag})).await,
        vec![1]
    );
    let frag = litestone::raw("age < ?", vec![json!(30)]);
    assert_eq!(
        users(&db, json!({"AND": [{"$raw": frag}, {"active": false}]})).await,
        vec![2]
    );
    let n = db
        .client
        .model("users")
        .count(json!({"where": {"$raw": {"sql": "json_extract(address, '$.city') = ?", "params": ["LA"]}}}))
        .await
        .unwrap();
    assert_eq!(n, json!(1));
    // A value that looks like SQL is only ever bound.
    assert_eq!(
        users(
            &db,
            json!({"$raw": litestone::sql!("name = {}", "x' OR 1=1 --")})
        )
        .await,
        Vec::<i64>::new()
    );
    let e = db
        .client
        .model("users")
        .find_many(json!({"where": {"$raw": {"sql": "age > ?", "params": []}}}))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidArgs);
    assert!(e.to_string().contains("where.$raw"), "{e}");
}

#[tokio::test]
async fn errors_name_the_path() {
    let db = open().await;
    seed(&db).await;
    let m = db.client.model("users");
    let e = m
        .find_many(json!({"where": {"nope": 1}}))
        .await
        .unwrap_err();
    match &e {
        litestone::Error::UnknownField { model, field, path } => {
            assert_eq!(
                (model.as_str(), field.as_str(), path.as_str()),
                ("users", "nope", "where.nope")
            );
        }
        other => panic!("{other:?}"),
    }
    let e = m
        .find_many(json!({"where": {"posts": {"some": {"author": {"is": {"emial": "x"}}}}}}))
        .await
        .unwrap_err();
    match &e {
        litestone::Error::UnknownField { path, model, .. } => {
            assert_eq!(path, "where.posts.some.author.is.emial");
            assert_eq!(model, "users");
        }
        other => panic!("{other:?}"),
    }
    let e = m
        .find_many(json!({"where": {"age": {"between": [1, 2]}}}))
        .await
        .unwrap_err();
    assert!(
        matches!(&e, litestone::Error::UnknownOperator { operator, path, .. } if operator == "between" && path == "where.age.between"),
        "{e:?}"
    );
    let e = m
        .find_many(json!({"where": {"age": {"contains": "1"}}}))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidArgs);
    let e = m
        .find_many(json!({"where": {"age": "thirty"}}))
        .await
        .unwrap_err();
    assert!(
        matches!(&e, litestone::Error::Validation { field, rule, .. } if field == "age" && rule == "type"),
        "{e:?}"
    );
    let e = m
        .find_many(json!({"where": {"role": "boss"}}))
        .await
        .unwrap_err();
    assert!(
        matches!(&e, litestone::Error::Validation { rule, .. } if rule == "enum"),
        "{e:?}"
    );
    let e = m
        .find_many(json!({"where": {"posts": {"title": "x"}}}))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidArgs);
    let e = db
        .client
        .model("nobody")
        .find_many(json!({}))
        .await
        .unwrap_err();
    assert!(matches!(&e, litestone::Error::UnknownModel { model } if model == "nobody"));
}
