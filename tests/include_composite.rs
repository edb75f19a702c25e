//! Includes over composite foreign keys (a relation on two columns to a
//! `@@unique` pair): both directions, nested arguments, typed rows and
//! write results, checked against hand-written SQL.
#![allow(clippy::unwrap_used)]

use litestone::Client;
use serde_json::{Value, json};

const SCHEMA: &str = r#"
model orgs {
  id      Integer @id
  code    Text
  region  Text
  name    Text
  members members[]
  @@unique([code, region])
}
model members {
  id        Integer @id
  name      Text
  orgCode   Text?
  orgRegion Text?
  org       orgs?   @relation(fields: [orgCode, orgRegion], references: [code, region])
}
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn includes_follow_composite_keys() {
    let db = Client::builder()
        .schema(SCHEMA)
        .db_path(":memory:")
        .auto_migrate(true)
        .open()
        .await
        .unwrap();
    db.model("orgs")
        .create_many(json!({"data": [
            {"code": "acme", "region": "eu", "name": "Acme EU"},
            {"code": "acme", "region": "us", "name": "Acme US"},
            {"code": "zeta", "region": "eu", "name": "Zeta"}
        ]}))
        .await
        .unwrap();
    db.model("members")
        .create_many(json!({"data": [
            {"name": "a", "orgCode": "acme", "orgRegion": "eu"},
            {"name": "b", "orgCode": "acme", "orgRegion": "us"},
            {"name": "c", "orgCode": "acme", "orgRegion": "eu"},
            {"name": "d", "orgCode": "zeta", "orgRegion": null},
            {"name": "e"}
        ]}))
        .await
        .unwrap();

    // belongsTo: each member's org matches both key columns.
    let members = db
        .model("members")
        .find_many(
            json!({"orderBy": {"id": "asc"}, "include": {"org": {"select": {"name": true}}}}),
        )
        .await
        .unwrap();
    let orgs: Vec<Value> = members
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["org"].clone())
        .collect();
    assert_eq!(
        orgs,
        vec![
            json!({"name": "Acme EU"}),
            json!({"name": "Acme US"}),
            json!({"name": "Acme EU"}),
            Value::Null,
            Value::Null
        ]
    );

    // hasMany with nested where/orderBy/limit.
    let got = db
        .model("orgs")
        .find_many(json!({"orderBy": {"id": "asc"},
            "include": {"members": {"orderBy": {"name": "desc"}, "select": {"name": true}}}}))
        .await
        .unwrap();
    let want = db
        .sql(
            "SELECT o.id, (SELECT json_group_array(name) FROM (SELECT m.name FROM members m \
             WHERE m.orgCode = o.code AND m.orgRegion = o.region ORDER BY m.name DESC)) AS names \
             FROM orgs o ORDER BY o.id",
            json!([]),
        )
        .await
        .unwrap();
    for (g, w) in got.as_array().unwrap().iter().zip(want.as_array().unwrap()) {
        let names: Vec<Value> = g["members"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["name"].clone())
            .collect();
        let want: Vec<Value> = serde_json::from_str(w["names"].as_str().unwrap()).unwrap();
        assert_eq!(names, want, "{g}");
    }
    let limited = db
        .model("orgs")
        .find_first(json!({"where": {"id": 1}, "include": {"members": {"take": null, "limit": 1, "orderBy": {"id": "asc"}}}}))
        .await;
    // `take` is not an argument: the error names it.
    assert!(limited.is_err());
    let limited = db
        .model("orgs")
        .find_first(json!({"where": {"id": 1}, "include": {"members": {"limit": 1, "orderBy": {"id": "asc"}}}}))
        .await
        .unwrap();
    assert_eq!(limited["members"].as_array().unwrap().len(), 1);
    assert_eq!(limited["members"][0]["name"], json!("a"));

    // Typed rows and a write result with the include.
    #[derive(serde::Deserialize)]
    struct Org {
        name: String,
    }
    #[derive(serde::Deserialize)]
    struct Member {
        name: String,
        org: Option<Org>,
    }
    let typed: Vec<Member> = db
        .model("members")
        .find_many_as(json!({"orderBy": {"id": "asc"}, "include": {"org": true}}))
        .await
        .unwrap();
    assert_eq!(typed[1].org.as_ref().unwrap().name, "Acme US");
    assert!(typed[4].org.is_none() && typed[4].name == "e");
    let made = db
        .model("members")
        .create(json!({"data": {"name": "f", "orgCode": "zeta", "orgRegion": "eu"}, "include": {"org": true}}))
        .await
        .unwrap();
    assert_eq!(made["org"]["name"], json!("Zeta"));
}
