//! Applies the pending migrations of a directory to a database file and
//! prints the names it applied, one per line.
//!
//! ```text
//! cargo run --example migrate_apply -- app.db ./migrations [schema.lite]
//! ```
//!
//! Without a schema file an empty schema is used (applying files needs none).
//! Two copies run at once apply each migration once.

use litestone::Client;

#[tokio::main]
async fn main() -> litestone::Result<()> {
    let mut args = std::env::args().skip(1);
    let (Some(db), Some(dir)) = (args.next(), args.next()) else {
        eprintln!("usage: migrate_apply <db-path> <migrations-dir> [schema.lite]");
        std::process::exit(2);
    };
    let builder = match args.next() {
        Some(schema) => Client::builder().schema_file(&schema),
        None => Client::builder().schema(""),
    };
    let client = builder.db_path(&db).open().await?;
    for name in client.migrator(&dir).apply().await? {
        println!("{name}");
    }
    Ok(())
}
