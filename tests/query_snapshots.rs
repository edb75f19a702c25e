//! Snapshots of the SQL text and parameters compiled for each query shape.
//! Re-bless with `INSTA_UPDATE=always cargo test --test query_snapshots`.
#![allow(clippy::unwrap_used)]
mod common;
use common::*;
use litestone::query::Op;
use serde_json::{Value, json};

fn sql(db: &Db, model: &str, op: Op, args: Value) -> Value {
    db.client.model(model).to_sql(op, args).unwrap()
}

/// The soft-delete timestamp is the first parameter; it changes every run.
fn now_redacted(mut v: Value) -> Value {
    v[0]["params"][0] = json!("[now]");
    v
}

macro_rules! snap {
    ($name:literal, $v:expr) => {
        insta::assert_json_snapshot!($name, $v)
    };
}

#[tokio::test]
async fn read_shapes() {
    let db = open().await;
    use Op::*;
    snap!("find_many_plain", sql(&db, "labels", FindMany, json!({})));
    snap!(
        "find_many_where_order_page",
        sql(
            &db,
            "users",
            FindMany,
            json!({
                "where": {"role": "admin", "age": {"gte": 18, "lt": 65}, "name": {"not": null}},
                "orderBy": [{"age": "desc"}, {"id": "asc"}], "limit": 20, "offset": 40,
                "select": {"id": true, "email": true}
            })
        )
    );
    snap!(
        "where_operators",
        sql(
            &db,
            "users",
            FindMany,
            json!({
                "select": {"id": true},
                "where": {
                    "email": {"contains": "a%b_c", "mode": "insensitive"},
                    "name": {"startsWith": "A*[?"},
                    "age": {"in": [1, 2, null], "notIn": [3]},
                    "score": {"not": 1.5},
                    "active": true,
                    "createdAt": {"gt": "2024-01-01T02:00:00+02:00"},
                    "OR": [{"role": "viewer"}, {"NOT": {"tags": null}}],
                    "address": {"city": "NYC"},
                    "$raw": {"sql": "length(email) > ?", "params": [3]}
                }
            })
        )
    );
    snap!(
        "relation_filters",
        sql(
            &db,
            "users",
            FindMany,
            json!({
                "select": {"id": true},
                "where": {
                    "posts": {"some": {"views": {"gt": 10}}, "every": {"published": true}, "none": {"title": "x"}},
                    "account": {"is": {"name": "Acme"}},
                    "profile": null
                }
            })
        )
    );
    snap!(
        "m2m_filter_and_include",
        sql(
            &db,
            "posts",
            FindMany,
            json!({
                "select": {"id": true},
                "where": {"labels": {"some": {"name": "rust"}}},
                "include": {"labels": {"orderBy": {"name": "asc"}, "limit": 2}}
            })
        )
    );
    snap!(
        "includes_nested",
        sql(
            &db,
            "accounts",
            FindMany,
            json!({
                "select": {"id": true},
                "include": {"users": {"select": {"email": true}, "include": {"posts": {"where": {"published": true}, "select": {"title": true}}, "profile": true}}}
            })
        )
    );
    snap!(
        "find_first",
        sql(&db, "labels", FindFirst, json!({"where": {"name": "rust"}}))
    );
    snap!(
        "find_unique",
        sql(&db, "labels", FindUnique, json!({"where": {"id": 1}}))
    );
    snap!(
        "count",
        sql(&db, "posts", Count, json!({"where": {"views": {"gt": 5}}}))
    );
    snap!(
        "count_with_deleted",
        sql(&db, "posts", Count, json!({"withDeleted": true}))
    );
    snap!(
        "exists",
        sql(
            &db,
            "posts",
            Exists,
            json!({"where": {"authorId": 1}, "onlyDeleted": true})
        )
    );
    snap!(
        "find_many_and_count",
        sql(
            &db,
            "labels",
            FindManyAndCount,
            json!({"limit": 2, "orderBy": {"name": "asc"}})
        )
    );
    snap!(
        "cursor_first_page",
        sql(
            &db,
            "users",
            FindManyCursor,
            json!({"limit": 10, "orderBy": {"age": "desc"}, "select": {"id": true}})
        )
    );
    snap!(
        "order_by_relations",
        sql(
            &db,
            "posts",
            FindMany,
            json!({
                "select": {"id": true},
                "orderBy": [{"author": {"account": {"name": "asc"}}}, {"labels": {"_count": "desc"}}, {"id": "asc"}]
            })
        )
    );
    snap!(
        "order_by_aggregate",
        sql(
            &db,
            "users",
            FindMany,
            json!({
                "select": {"id": true},
                "orderBy": {"posts": {"_sum": {"views": {"dir": "desc", "nulls": "last"}}}}
            })
        )
    );
    snap!(
        "distinct",
        sql(
            &db,
            "users",
            FindMany,
            json!({"select": {"role": true}, "distinct": true})
        )
    );
    snap!(
        "relation_counts",
        sql(
            &db,
            "users",
            FindMany,
            json!({
                "select": {"id": true, "_count": {"select": {"posts": {"where": {"views": {"gt": 3}}}}}},
                "include": {"posts": {"select": {"id": true, "_count": true}, "limit": 1}}
            })
        )
    );
}

#[tokio::test]
async fn write_shapes() {
    let db = open().await;
    use Op::*;
    snap!(
        "create",
        sql(&db, "labels", Create, json!({"data": {"name": "rust"}}))
    );
    snap!(
        "create_select_false",
        sql(
            &db,
            "labels",
            Create,
            json!({"data": {"name": "rust"}, "select": false})
        )
    );
    snap!(
        "create_sequence_map",
        sql(
            &db,
            "quotes",
            Create,
            json!({"data": {"accountId": 5, "title": "q"}})
        )
    );
    snap!(
        "create_many_skip",
        sql(
            &db,
            "labels",
            CreateMany,
            json!({"data": [{"name": "a"}, {"name": "b"}], "skipDuplicates": true})
        )
    );
    snap!(
        "update_atomic",
        sql(
            &db,
            "labels",
            Update,
            json!({"where": {"id": 1}, "data": {"name": "x"}})
        )
    );
    snap!(
        "update_many_arith",
        sql(
            &db,
            "quotes",
            UpdateMany,
            json!({"where": {"accountId": 5}, "data": {"quoteNumber": {"increment": 1}}})
        )
    );
    snap!(
        "update_many_all",
        sql(
            &db,
            "labels",
            UpdateMany,
            json!({"all": true, "data": {"name": "x"}})
        )
    );
    snap!(
        "upsert",
        sql(
            &db,
            "labels",
            Upsert,
            json!({"where": {"name": "go"}, "create": {}, "update": {"name": "golang"}})
        )
    );
    snap!(
        "upsert_many",
        sql(
            &db,
            "members",
            UpsertMany,
            json!({"data": [{"orgId": 1, "userId": 2, "role": "r"}], "conflictTarget": ["orgId", "userId"]})
        )
    );
    snap!(
        "delete",
        sql(&db, "labels", Delete, json!({"where": {"name": "go"}}))
    );
    snap!(
        "delete_composite_key",
        sql(&db, "members", Delete, json!({"where": {"orgId": 1}}))
    );
    snap!(
        "delete_many",
        sql(
            &db,
            "labels",
            DeleteMany,
            json!({"where": {"id": {"in": [1, 2]}}})
        )
    );
    snap!(
        "remove_soft",
        now_redacted(sql(
            &db,
            "posts",
            Remove,
            json!({"where": {"id": 1}, "select": {"id": true}})
        ))
    );
    snap!(
        "remove_many_soft",
        now_redacted(sql(
            &db,
            "posts",
            RemoveMany,
            json!({"where": {"authorId": 1}})
        ))
    );
    snap!(
        "restore",
        sql(
            &db,
            "posts",
            Restore,
            json!({"where": {"id": 1}, "select": {"id": true}})
        )
    );
}
