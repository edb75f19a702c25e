//! Opt-in extension loading (`load_extension` feature): a library given to
//! the builder is loaded into every connection; a bad path or entry point is
//! an error from `open`, never a panic. Builds a tiny extension with the C
//! compiler that the bundled SQLite already needs.
#![cfg(feature = "load_extension")]
#![allow(clippy::unwrap_used)]

use litestone::{Client, ErrorKind};

/// Compiles a shared library whose entry point succeeds without touching the
/// API table (enough to prove the load happened).
fn build_extension(dir: &std::path::Path) -> std::path::PathBuf {
    let src = dir.join("ext.c");
    std::fs::write(
        &src,
        "int litestone_test_init(void *db, char **err, const void *api) { (void)db; (void)err; (void)api; return 0; }\n",
    )
    .unwrap();
    let lib = dir.join("libltext.so");
    let cc = std::env::var("CC").unwrap_or_else(|_| "cc".to_string());
    let ok = std::process::Command::new(cc)
        .args(["-shared", "-fPIC", "-o"])
        .arg(&lib)
        .arg(&src)
        .status()
        .unwrap()
        .success();
    assert!(ok, "the C compiler failed");
    lib
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn loads_a_trusted_extension_and_rejects_bad_ones() {
    let dir = tempfile::tempdir().unwrap();
    let lib = build_extension(dir.path());
    let db_path = dir.path().join("e.db");
    let db = Client::builder()
        .schema("")
        .db_path(db_path.to_str().unwrap())
        .readers(2)
        .load_extension(lib.to_str().unwrap(), Some("litestone_test_init"))
        .open()
        .await
        .unwrap();
    db.exec("CREATE TABLE t (x INTEGER)").await.unwrap();
    // SQL's own load_extension() stays disabled after the load.
    let err = db
        .sql(
            "SELECT load_extension(?, 'litestone_test_init')",
            serde_json::json!([lib.to_str().unwrap()]),
        )
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Sqlite);
    db.close().await.unwrap();

    let err = Client::builder()
        .schema("")
        .db_path(db_path.to_str().unwrap())
        .load_extension(lib.to_str().unwrap(), Some("no_such_entry_point"))
        .open()
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Sqlite, "{err}");
    let err = Client::builder()
        .schema("")
        .db_path(db_path.to_str().unwrap())
        .load_extension(dir.path().join("missing.so").to_str().unwrap(), None)
        .open()
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Sqlite, "{err}");
}
