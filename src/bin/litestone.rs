//! `litestone` — the command-line face of the migration engine and the
//! database utilities (build with `--features cli`).
//!
//! ```sh
//! cargo run --features cli -- --schema schema.lite --db app.db migrate status
//! litestone --schema schema.lite migrate create add-users
//! litestone --schema schema.lite migrate apply
//! litestone --schema schema.lite migrate dry-run preview
//! litestone --schema schema.lite push --allow-destructive
//! litestone --schema schema.lite backup backups/app.db --vacuum
//! litestone --schema schema.lite check
//! ```
//!
//! The database path comes from `--db`, else from the schema's
//! `database main { path ... }` block. Exit status: 0 on success, 1 on an
//! error, 2 when `migrate verify` finds drift, pending or modified files.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use litestone::Client;

#[derive(Debug, Parser)]
#[command(
    name = "litestone",
    version,
    about = "Schema-first SQLite: migrations and utilities"
)]
struct Cli {
    /// The `.lite` schema file.
    #[arg(long, default_value = "schema.lite")]
    schema: PathBuf,
    /// The main database file (overrides `database main { path ... }`).
    #[arg(long)]
    db: Option<String>,
    /// The migrations directory.
    #[arg(long, default_value = "migrations")]
    migrations: PathBuf,
    /// The database block to migrate (default: main).
    #[arg(long)]
    database: Option<String>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// File-based migrations.
    Migrate {
        #[command(subcommand)]
        action: Migrate,
    },
    /// Applies the schema directly (dev push), without migration files.
    Push {
        /// Allow dropping tables and columns that hold data.
        #[arg(long)]
        allow_destructive: bool,
    },
    /// Online backup of the main database.
    Backup {
        /// Destination file.
        dest: String,
        /// Compact while copying (`VACUUM INTO`).
        #[arg(long)]
        vacuum: bool,
    },
    /// Validates the schema and prints every diagnostic.
    Check,
    /// Schema check plus database health (integrity, drift).
    Doctor,
    /// Generates Rust types (serde structs and enums) for the models.
    Types {
        /// Output file (default: standard output).
        out: Option<PathBuf>,
        /// Only these models (comma-separated).
        #[arg(long, value_delimiter = ',')]
        only: Vec<String>,
    },
    /// Generates a JSON Schema document for the models' rows.
    Jsonschema {
        /// Output file (default: standard output).
        out: Option<PathBuf>,
        /// Only these models (comma-separated).
        #[arg(long, value_delimiter = ',')]
        only: Vec<String>,
    },
}

#[derive(Debug, Subcommand)]
enum Migrate {
    /// Writes a timestamped SQL file with the schema's changes (nothing when in sync).
    Create {
        /// Label for the file name.
        #[arg(default_value = "migration")]
        label: String,
        /// Allow the file to drop tables and columns that hold data.
        #[arg(long)]
        allow_destructive: bool,
    },
    /// Applies pending migrations in order.
    Apply,
    /// Lists applied, pending, modified and missing migrations.
    Status,
    /// Reports drift between the live database and the schema.
    Verify,
    /// Prints the SQL `create` would write, writing nothing.
    DryRun {
        /// Label (as for `create`).
        #[arg(default_value = "migration")]
        label: String,
    },
}

async fn open(cli: &Cli) -> litestone::Result<Client> {
    let mut b = Client::builder().schema_file(&cli.schema.to_string_lossy());
    if let Some(db) = &cli.db {
        b = b.db_path(db);
    }
    b.open().await
}

fn migrator(cli: &Cli, db: &Client, allow_destructive: bool) -> litestone::migrate::Migrator {
    let mut m = db
        .migrator(&cli.migrations)
        .allow_destructive(allow_destructive);
    if let Some(name) = &cli.database {
        m = m.database(name);
    }
    m
}

async fn run(cli: Cli) -> litestone::Result<ExitCode> {
    if let Command::Types { out, only } | Command::Jsonschema { out, only } = &cli.command {
        let schema = litestone::schema::parse_file(&cli.schema)?;
        let names: Vec<&str> = only.iter().map(String::as_str).collect();
        let only = (!names.is_empty()).then_some(names.as_slice());
        let text = match cli.command {
            Command::Types { .. } => litestone::codegen::rust_types(&schema, only),
            _ => {
                let v = litestone::codegen::json_schema(&schema, only);
                serde_json::to_string_pretty(&v).unwrap_or_default()
            }
        };
        match out {
            Some(path) => std::fs::write(path, text + "\n").map_err(|e| {
                litestone::Error::invalid_args(
                    "out",
                    format!("cannot write {}: {e}", path.display()),
                )
            })?,
            None => println!("{text}"),
        }
        return Ok(ExitCode::SUCCESS);
    }
    if let Command::Check = cli.command {
        let schema = litestone::schema::parse_file(&cli.schema)?;
        println!(
            "{}: {} models, {} enums, {} databases — ok",
            cli.schema.display(),
            schema.models.len(),
            schema.enums.len(),
            schema.databases.len().max(1)
        );
        return Ok(ExitCode::SUCCESS);
    }
    let db = open(&cli).await?;
    let code = match &cli.command {
        Command::Check | Command::Types { .. } | Command::Jsonschema { .. } => ExitCode::SUCCESS,
        Command::Migrate { action } => match action {
            Migrate::Create {
                label,
                allow_destructive,
            } => {
                match migrator(&cli, &db, *allow_destructive)
                    .create(label)
                    .await?
                {
                    Some(path) => println!("created {}", path.display()),
                    None => println!("no changes: nothing written"),
                }
                ExitCode::SUCCESS
            }
            Migrate::Apply => {
                let applied = migrator(&cli, &db, false).apply().await?;
                if applied.is_empty() {
                    println!("nothing to apply");
                }
                for name in applied {
                    println!("applied {name}");
                }
                ExitCode::SUCCESS
            }
            Migrate::Status => {
                for s in migrator(&cli, &db, false).status().await? {
                    println!(
                        "{:<10} {}{}",
                        format!("{:?}", s.state).to_lowercase(),
                        s.name,
                        s.applied_at.map(|a| format!("  ({a})")).unwrap_or_default()
                    );
                }
                ExitCode::SUCCESS
            }
            Migrate::Verify => {
                let r = migrator(&cli, &db, false).verify().await?;
                for c in &r.drift {
                    println!("drift     {c}");
                }
                for p in &r.pending {
                    println!("pending   {p}");
                }
                for m in &r.modified {
                    println!("modified  {m}");
                }
                if r.is_clean() {
                    println!("clean");
                    ExitCode::SUCCESS
                } else {
                    ExitCode::from(2)
                }
            }
            Migrate::DryRun { label } => {
                let sql = migrator(&cli, &db, true).dry_run(label).await?;
                if sql.is_empty() {
                    println!("-- no changes");
                } else {
                    println!("{sql}");
                }
                ExitCode::SUCCESS
            }
        },
        Command::Push { allow_destructive } => {
            let report = db
                .push_with(
                    litestone::migrate::PushOptions::default()
                        .allow_destructive(*allow_destructive),
                )
                .await?;
            if report.is_empty() {
                println!("in sync: nothing to do");
            }
            for (name, changes) in &report.databases {
                for c in changes {
                    println!("{name}: {c}");
                }
            }
            ExitCode::SUCCESS
        }
        Command::Backup { dest, vacuum } => {
            let opts = litestone::BackupOptions {
                vacuum: *vacuum,
                ..litestone::BackupOptions::default()
            };
            db.backup_with(dest, opts).await?;
            println!("backed up to {dest}");
            ExitCode::SUCCESS
        }
        Command::Doctor => {
            let problems = db.integrity_check().await?;
            let report = migrator(&cli, &db, false).verify().await?;
            let ok = problems.iter().all(|p| p == "ok") && report.drift.is_empty();
            println!("integrity: {}", problems.join("; "));
            println!(
                "schema drift: {}",
                if report.drift.is_empty() {
                    "none".to_string()
                } else {
                    format!("{} change(s)", report.drift.len())
                }
            );
            if ok {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(2)
            }
        }
    };
    db.close().await?;
    Ok(code)
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> ExitCode {
    match run(Cli::parse()).await {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e}");
            if let litestone::Error::Schema { diagnostics, .. } = &e {
                for d in diagnostics {
                    eprintln!("{d}");
                }
            }
            ExitCode::FAILURE
        }
    }
}
