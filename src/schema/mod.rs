//! The `.lite` schema language: lexer, parser, AST, import resolution and
//! validation into the resolved [`Schema`] model.
//!
//! Knows nothing of SQL execution: it turns text into data, or into a list of
//! spanned diagnostics (every problem of a run in one
//! [`crate::Error::Schema`]).
//!
//! Pipeline: [`lexer`] → `parser` → [`ast`] (one per file; imports are read
//! depth-first, each path relative to the importing file, every file at most
//! once so cycles and repeats are harmless) → `validate` (ordered passes) →
//! [`model`].
//!
//! # Language decisions
//!
//! The Litestone README is the reference; where it is silent:
//! - Newlines carry no meaning: fields and attributes may share a line
//!   (`model users { id Integer @id  email Text }`); database settings may be
//!   separated by `;` or newlines. `//` and `/* */` are comments; `///` lines
//!   document the next model, field, enum or enum value.
//! - `trait T { ... }` blocks hold fields and `@@` attributes and are spliced
//!   where `@@trait(T)` stands (traits may include traits; cycles are errors).
//!   `type T { ... }` declares a typed JSON shape usable as a field type
//!   (stored as TEXT JSON); its keys take validators only.
//! - Relations: `@relation(fields: [...], references: [...])` marks the side
//!   holding the foreign key (belongsTo); the other side (`posts posts[]`,
//!   `profile profiles?`) is paired by target model and relation name.
//!   Many-to-many: two list fields without keys get an implicit join table
//!   `_<A>To<B>` (or `_<name>`) with columns `A`/`B`; an explicit join model
//!   is named with `@relation(through: joinModel)` on both list fields.
//! - `@from(x, ...)`: `x` is a relation field, or a model whose belongsTo
//!   points here. `check(x, cond)` in policies likewise takes a relation
//!   field or a related model's name.
//! - `@@db(name)` must name a `database` block, or `main` (always valid);
//!   without blocks only `main` exists. `@log`/`@@log` name a `driver logger`
//!   database when blocks exist; without blocks any name is accepted.
//! - Models need a primary key unless `@@external` or routed to a `jsonl` /
//!   `logger` database. `@@fts` needs a single `Integer @id` (the FTS index
//!   follows the rowid).
//! - With an `@@auth` model (at most one), `auth().field` paths must name
//!   its fields; without one the auth object is free-form.
//! - `parse` resolves `import` paths against the current directory;
//!   [`parse_file`] against each importing file.
//!
//! See the `validate` passes (`fields`, `models`, `relations`) for the
//! complete list of checks.
//!
//! # Example
//! ```
//! let schema = litestone::schema::parse(r#"
//!     model users {
//!       id    Integer @id
//!       email Text    @unique @email
//!     }
//! "#).unwrap();
//! assert_eq!(schema.model("users").unwrap().columns().count(), 2);
//! ```

pub mod ast;
mod diagnostics;
pub mod lexer;
pub mod model;
mod parser;
pub mod span;
mod validate;

pub use model::*;
pub use span::Span;

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use crate::error::{Diagnostic, Error, Result};
use diagnostics::{Diag, SourceMap};

/// The file name used in diagnostics for inline sources.
pub const INLINE_NAME: &str = "<schema>";

/// Parses and validates an inline schema. Diagnostics name the file
/// `<schema>`; `import` paths resolve relative to the current directory.
///
/// # Errors
/// [`Error::Schema`] listing every problem found.
pub fn parse(src: &str) -> Result<Schema> {
    parse_named(src, INLINE_NAME)
}

/// Like [`parse`], with `file_name` used in diagnostics.
///
/// # Errors
/// [`Error::Schema`] listing every problem found.
pub fn parse_named(src: &str, file_name: &str) -> Result<Schema> {
    with_audit_models(parse_named_plus(src, file_name, None)?, |extra| {
        parse_named_plus(src, file_name, Some(extra))
    })
}

fn parse_named_plus(src: &str, file_name: &str, extra: Option<&str>) -> Result<Schema> {
    let mut loader = Loader::default();
    let dir = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
    loader.load(file_name.to_string(), src.to_string(), dir.clone());
    if let Some(x) = extra {
        loader.load(AUDIT_NAME.to_string(), x.to_string(), dir);
    }
    loader.finish()
}

/// Diagnostics name of the synthesized audit-log models.
const AUDIT_NAME: &str = "<audit log models>";

/// The name of the audit-log model of logger database `db`: `auditLogs`
/// when the schema has one logger database, `<db>AuditLogs` otherwise.
pub fn audit_model_name(schema: &Schema, db: &str) -> String {
    let loggers = schema
        .databases
        .iter()
        .filter(|d| d.driver == Driver::Logger)
        .count();
    if loggers <= 1 {
        "auditLogs".to_string()
    } else {
        format!("{db}AuditLogs")
    }
}

/// Re-parses with one audit-log model per `driver logger` database (the
/// README's auto-schema logger, queried as `client.model("auditLogs")`),
/// unless the schema declares those models itself.
fn with_audit_models(
    schema: Schema,
    reparse: impl FnOnce(&str) -> Result<Schema>,
) -> Result<Schema> {
    let mut extra = String::new();
    for d in schema
        .databases
        .iter()
        .filter(|d| d.driver == Driver::Logger)
    {
        let name = audit_model_name(&schema, &d.name);
        if schema.model(&name).is_some() {
            continue;
        }
        extra.push_str(&format!(
            "model {name} {{\n  id Integer @id\n  model Text\n  action Text\n  operation Text\n  recordId Text?\n  actorId Text?\n  fields Text[]\n  data Json?\n  meta Json?\n  createdAt DateTime @default(now())\n  @@index([model, createdAt])\n  @@index([createdAt])\n  @@db({})\n}}\n",
            d.name
        ));
    }
    if extra.is_empty() {
        Ok(schema)
    } else {
        reparse(&extra)
    }
}

/// Parses and validates a schema file, resolving `import "./x.lite"` relative
/// to each importing file (each file is read once: cycles and repeats are
/// deduplicated).
///
/// # Errors
/// [`Error::Schema`] listing every problem found, or naming an unreadable file.
pub fn parse_file(path: impl AsRef<Path>) -> Result<Schema> {
    let path = path.as_ref();
    let src = std::fs::read_to_string(path).map_err(|e| {
        Error::schema(vec![Diagnostic {
            file: path.display().to_string(),
            line: 0,
            column: 0,
            message: format!("cannot read schema file: {}", io_reason(&e)),
            snippet: String::new(),
        }])
    })?;
    let load = |extra: Option<&str>| {
        let mut loader = Loader::default();
        if let Ok(canon) = path.canonicalize() {
            loader.seen.insert(canon);
        }
        let dir = path
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_else(|| PathBuf::from("."));
        loader.load(path.display().to_string(), src.clone(), dir.clone());
        if let Some(x) = extra {
            loader.load(AUDIT_NAME.to_string(), x.to_string(), dir);
        }
        loader.finish()
    };
    with_audit_models(load(None)?, |extra| load(Some(extra)))
}

/// Parses one source into its raw syntax tree, without imports or
/// validation (for tooling).
///
/// # Errors
/// [`Error::Schema`] listing every syntax error.
pub fn parse_ast(src: &str) -> Result<ast::SchemaAst> {
    let mut sources = SourceMap::default();
    let id = sources.add(INLINE_NAME.to_string(), src.to_string());
    let (ast, diags) = parse_source(src, id);
    if diags.is_empty() {
        Ok(ast)
    } else {
        Err(Error::schema(sources.render_all(diags)))
    }
}

/// Lexes and parses one file.
fn parse_source(src: &str, file: u32) -> (ast::SchemaAst, Vec<Diag>) {
    let (tokens, lex_errors) = lexer::tokenize(src, file);
    let mut diags: Vec<Diag> = lex_errors
        .into_iter()
        .map(|e| Diag::new(e.span, e.message))
        .collect();
    let (ast, parse_diags) = parser::parse_tokens(&tokens);
    // A lexical error (an unterminated string) usually derails the parser on
    // the same line; report the cause only.
    let lex_lines: Vec<u32> = diags.iter().map(|d| d.span.line).collect();
    diags.extend(
        parse_diags
            .into_iter()
            .filter(|d| !lex_lines.contains(&d.span.line)),
    );
    (ast, diags)
}

/// Reads a root source and its imports, depth-first.
#[derive(Default)]
struct Loader {
    sources: SourceMap,
    /// Parsed files in validation order (imports before their importer).
    asts: Vec<ast::SchemaAst>,
    seen: HashSet<PathBuf>,
    diags: Vec<Diag>,
}

impl Loader {
    fn load(&mut self, name: String, src: String, dir: PathBuf) {
        let id = self.sources.add(name, src);
        let (ast, diags) = parse_source(&self.sources.files[id as usize].1.clone(), id);
        self.diags.extend(diags);
        for item in &ast.items {
            let ast::Item::Import(imp) = item else {
                continue;
            };
            // `components()` drops interior `.` segments: `a/./b` → `a/b`.
            let path: PathBuf = dir.join(&imp.path.name).components().collect();
            let canon = match path.canonicalize() {
                Ok(c) => c,
                Err(e) => {
                    self.diags.push(Diag::new(
                        imp.path.span,
                        format!(
                            "cannot read imported file `{}`: {}",
                            imp.path.name,
                            io_reason(&e)
                        ),
                    ));
                    continue;
                }
            };
            if !self.seen.insert(canon.clone()) {
                continue;
            }
            match std::fs::read_to_string(&canon) {
                Ok(text) => {
                    let sub_dir = canon
                        .parent()
                        .map(Path::to_path_buf)
                        .unwrap_or_else(|| dir.clone());
                    self.load(path.display().to_string(), text, sub_dir);
                }
                Err(e) => self.diags.push(Diag::new(
                    imp.path.span,
                    format!(
                        "cannot read imported file `{}`: {}",
                        imp.path.name,
                        io_reason(&e)
                    ),
                )),
            }
        }
        self.asts.push(ast);
    }

    fn finish(self) -> Result<Schema> {
        let Loader {
            sources,
            asts,
            mut diags,
            ..
        } = self;
        let names = sources.files.iter().map(|(n, _)| n.clone()).collect();
        let (schema, validate_diags) = validate::validate(&asts, names);
        diags.extend(validate_diags);
        if diags.is_empty() {
            Ok(schema)
        } else {
            Err(Error::schema(sources.render_all(diags)))
        }
    }
}

/// A platform-independent reason for the common I/O failures.
fn io_reason(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::NotFound => "file not found".into(),
        std::io::ErrorKind::PermissionDenied => "permission denied".into(),
        _ => e.to_string(),
    }
}
