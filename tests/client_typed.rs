//! Typed reads and writes (`*_as::<T>`), decoded straight from the row.
#![allow(clippy::unwrap_used)]
mod common;
use common::*;
use litestone::ErrorKind;
use serde::Deserialize;
use serde_json::json;

#[derive(Debug, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
struct Address {
    street: String,
    city: String,
    zip: Option<String>,
}

#[derive(Debug, Deserialize, PartialEq)]
#[serde(rename_all = "lowercase")]
enum Role {
    Admin,
    Member,
    Viewer,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct User {
    id: i64,
    account_id: Option<i64>,
    email: String,
    name: Option<String>,
    age: Option<u8>,
    score: Option<f64>,
    active: bool,
    role: Role,
    address: Option<Address>,
    tags: Option<Vec<String>>,
    avatar: Option<String>,
    created_at: String,
}

#[derive(Debug, Deserialize)]
struct Bytes {
    #[serde(with = "serde_bytes_like")]
    avatar: Vec<u8>,
}

mod serde_bytes_like {
    pub(super) fn deserialize<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = Vec<u8>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("bytes")
            }
            fn visit_bytes<E>(self, v: &[u8]) -> Result<Vec<u8>, E> {
                Ok(v.to_vec())
            }
        }
        d.deserialize_bytes(V)
    }
}

#[derive(Debug, Deserialize, PartialEq)]
struct Label {
    id: i64,
    name: String,
}

#[tokio::test]
async fn typed_reads() {
    let db = open().await;
    seed(&db).await;
    db.client
        .model("users")
        .update(json!({"where": {"id": 1}, "data": {"avatar": [1, 2, 255]}}))
        .await
        .unwrap();
    let m = db.client.model("users");
    let all: Vec<User> = m
        .find_many_as(json!({"orderBy": {"id": "asc"}}))
        .await
        .unwrap();
    assert_eq!(all.len(), 4);
    let a = &all[0];
    assert_eq!(
        (a.id, a.account_id, a.email.as_str()),
        (1, Some(1), "alice@acme.io")
    );
    assert_eq!(a.name.as_deref(), Some("Alice"));
    assert_eq!((a.age, a.score, a.active), (Some(30), Some(1.5), true));
    assert_eq!(a.role, Role::Admin);
    assert_eq!(
        a.address,
        Some(Address {
            street: "1 Main".into(),
            city: "NYC".into(),
            zip: None
        })
    );
    assert_eq!(a.tags, Some(vec!["a".to_string(), "b".to_string()]));
    assert_eq!(a.avatar.as_deref(), Some("AQL/"));
    assert!(a.created_at.ends_with('Z'));
    assert!(!all[1].active);
    assert_eq!(all[2].role, Role::Viewer);
    assert_eq!(all[3].role, Role::Member);
    let b: Option<Bytes> = m
        .find_first_as(json!({"where": {"id": 1}, "select": {"avatar": true}}))
        .await
        .unwrap();
    assert_eq!(b.unwrap().avatar, vec![1, 2, 255]);
    let none: Option<User> = m
        .find_unique_as(json!({"where": {"id": 99}}))
        .await
        .unwrap();
    assert!(none.is_none());
    let one: User = m
        .find_unique_or_throw_as(json!({"where": {"email": "bob@acme.io"}}))
        .await
        .unwrap();
    assert_eq!(one.id, 2);
    let e = m
        .find_first_or_throw_as::<User>(json!({"where": {"id": 99}}))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotFound);
    // a row that does not fit T is an error, not a panic
    #[derive(Debug, Deserialize)]
    #[allow(dead_code)]
    struct Wrong {
        email: i64,
    }
    let e = m.find_many_as::<Wrong>(json!({})).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidArgs);
    // includes decode from the fetched row tree
    #[derive(Debug, Deserialize)]
    struct WithPosts {
        id: i64,
        posts: Vec<Label2>,
    }
    #[derive(Debug, Deserialize)]
    struct Label2 {
        title: String,
    }
    let w: Vec<WithPosts> = m
        .find_many_as(json!({"where": {"id": 2}, "select": {"id": true, "posts": {"select": {"title": true}}}}))
        .await
        .unwrap();
    assert_eq!((w[0].id, w[0].posts[0].title.as_str()), (2, "Bob post"));
    // a to-one include decodes into an Option (present) and the JSON path agrees
    #[derive(Debug, Deserialize)]
    struct PostAuthor {
        title: String,
        author: Option<AuthorId>,
    }
    #[derive(Debug, Deserialize)]
    struct AuthorId {
        id: i64,
    }
    let args = json!({"where": {"title": "Bob post"}, "select": {"title": true, "author": {"select": {"id": true}}}});
    let p: Vec<PostAuthor> = db
        .client
        .model("posts")
        .find_many_as(args.clone())
        .await
        .unwrap();
    let j = db.client.model("posts").find_many(args).await.unwrap();
    assert_eq!(p.len(), 1);
    assert_eq!(p[0].title, j[0]["title"].as_str().unwrap());
    assert_eq!(
        Some(p[0].author.as_ref().unwrap().id),
        j[0]["author"]["id"].as_i64()
    );
}

#[tokio::test]
async fn typed_writes() {
    let db = open().await;
    let l = db.client.model("labels");
    let created: Label = l
        .create_as(json!({"data": {"name": "rust"}}))
        .await
        .unwrap();
    assert_eq!(
        created,
        Label {
            id: 1,
            name: "rust".into()
        }
    );
    let upd: Option<Label> = l
        .update_as(json!({"where": {"id": 1}, "data": {"name": "Rust"}}))
        .await
        .unwrap();
    assert_eq!(upd.unwrap().name, "Rust");
    let none: Option<Label> = l
        .update_as(json!({"where": {"id": 5}, "data": {"name": "x"}}))
        .await
        .unwrap();
    assert!(none.is_none());
    let up: Label = l
        .upsert_as(json!({"where": {"name": "go"}, "create": {}, "update": {}}))
        .await
        .unwrap();
    assert_eq!(up.name, "go");
    let e = l
        .create_as::<Label>(json!({"data": {"name": "z"}, "select": false}))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidArgs);
}

#[tokio::test]
async fn futures_are_send() {
    let db = open().await;
    seed(&db).await;
    let c = db.client.clone();
    let h = tokio::spawn(async move {
        let a = c.model("users").find_many(json!({})).await.unwrap();
        let b: Vec<Label> = c.model("labels").find_many_as(json!({})).await.unwrap();
        (a, b)
    });
    let (a, b) = h.await.unwrap();
    assert_eq!(a.as_array().unwrap().len(), 4);
    assert_eq!(b.len(), 2);
}
