//! File fields with local storage: uploads stored and replaced by refs,
//! @accept checked, old objects deleted on replace (not with
//! @keepVersions) and on hard delete, nothing left behind by a failed write.
#![allow(clippy::unwrap_used)]

use litestone::{Client, ErrorKind, file_url, file_urls};
use serde_json::{Value, json};

const SCHEMA: &str = r#"
model users {
  id     Integer @id
  email  Text    @unique
  avatar File?   @accept("image/*")
  resume File?   @keepVersions
  photos File[]
}
"#;

fn files_in(dir: &std::path::Path) -> usize {
    fn walk(p: &std::path::Path) -> usize {
        std::fs::read_dir(p)
            .map(|rd| {
                rd.flatten()
                    .map(|e| {
                        let p = e.path();
                        if p.is_dir() { walk(&p) } else { 1 }
                    })
                    .sum()
            })
            .unwrap_or(0)
    }
    walk(dir)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn uploads_refs_and_cleanup() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("storage");
    let db = Client::builder()
        .schema(SCHEMA)
        .db_path(dir.path().join("f.db").to_str().unwrap())
        .auto_migrate(true)
        .file_storage(store.to_str().unwrap(), "https://cdn.example.com/")
        .open()
        .await
        .unwrap();
    let users = db.model("users");
    let png = json!({"name": "me.png", "type": "image/png", "data": "iVBORw0KGgo="});
    let u = users
        .create(json!({"data": {"email": "a@x.io", "avatar": png, "resume": {"name": "cv.pdf", "type": "application/pdf", "data": "JVBERi0="},
                               "photos": [png.clone(), png.clone()]}}))
        .await
        .unwrap();
    let url = file_url(&u["avatar"]).unwrap();
    assert!(
        url.starts_with("https://cdn.example.com/users/avatar/") && url.ends_with("-me.png"),
        "{url}"
    );
    assert_eq!(u["avatar"]["size"], json!(8));
    assert_eq!(file_urls(&u["photos"]).len(), 2);
    assert_eq!(files_in(&store), 4);
    let key = u["avatar"]["key"].as_str().unwrap();
    assert_eq!(std::fs::read(store.join(key)).unwrap().len(), 8);

    // @accept refuses before anything is stored or written.
    let e = users
        .update(json!({"where": {"id": 1}, "data": {"avatar": {"name": "x.exe", "type": "application/x-msdownload", "data": "TVo="}}}))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Validation, "{e}");
    assert_eq!(files_in(&store), 4);

    // A failing write leaves no stored file behind.
    let e = users
        .create(json!({"data": {"email": "a@x.io", "avatar": png}}))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::UniqueViolation, "{e}");
    assert_eq!(files_in(&store), 4);

    // Replacing: the old avatar goes; the old resume stays (@keepVersions).
    let u2 = users
        .update(json!({"where": {"id": 1}, "data": {"avatar": png, "resume": {"name": "cv2.pdf", "type": "application/pdf", "data": "JVBERi0="}}}))
        .await
        .unwrap();
    assert!(!store.join(key).exists(), "old avatar still stored");
    assert!(store.join(u2["avatar"]["key"].as_str().unwrap()).exists());
    assert!(store.join(u["resume"]["key"].as_str().unwrap()).exists());
    assert_eq!(files_in(&store), 5);

    // A ref passes through unchanged; hard delete removes the row's files.
    let again = users
        .update(json!({"where": {"id": 1}, "data": {"avatar": u2["avatar"].clone()}}))
        .await
        .unwrap();
    assert_eq!(again["avatar"], u2["avatar"]);
    assert_eq!(files_in(&store), 5);
    users.delete(json!({"where": {"id": 1}})).await.unwrap();
    assert_eq!(files_in(&store), 1, "only the kept resume version remains");

    // Without storage, uploads are refused; refs are fine.
    let plain = Client::builder()
        .schema(SCHEMA)
        .db_path(":memory:")
        .auto_migrate(true)
        .open()
        .await
        .unwrap();
    let e = plain
        .model("users")
        .create(json!({"data": {"email": "b@x.io", "avatar": png}}))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Validation);
    let r = plain
        .model("users")
        .create(json!({"data": {"email": "b@x.io", "avatar": {"key": "k", "url": "https://x/k"}}}))
        .await
        .unwrap();
    assert_eq!(file_url(&r["avatar"]).unwrap(), "https://x/k");
    assert_eq!(r["photos"], Value::Array(vec![]));
}
