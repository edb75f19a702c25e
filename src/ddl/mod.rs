//! Schema → DDL: the SQL that builds a schema on a fresh SQLite file.
//!
//! Pure functions over the validated [`Schema`]; no I/O. Every statement is
//! idempotent (`IF NOT EXISTS`) and has no trailing `;`, so each can be run
//! on its own (`Connection::execute_batch` works for all of them, trigger
//! bodies included). The per-model building blocks are public for the
//! migration engine, which builds a pristine database from them and diffs.
//!
//! # Conventions
//! - Identifiers are always double-quoted ([`quote_ident`]).
//! - Tables are `STRICT` unless `@@noStrict`. Column types: Integer and
//!   Boolean `INTEGER`; Real `REAL`; Blob `BLOB`; Text, DateTime, Json, File,
//!   enums, typed JSON shapes and every list (`T[]`) `TEXT`.
//! - `NOT NULL` on every non-optional stored column except generated ones
//!   (their nullability is their expression's).
//! - A single `Integer @id` is `INTEGER PRIMARY KEY` (the rowid alias: an
//!   omitted id is assigned by SQLite). Other keys are a `PRIMARY KEY (...)`
//!   table constraint.
//! - Defaults: literals become SQL literals (booleans `1`/`0`, enum values
//!   quoted, lists and JSON as their JSON text); `now()` becomes
//!   `(strftime('%Y-%m-%dT%H:%M:%fZ','now'))`, the crate's DateTime format;
//!   `dbgenerated("sql")` becomes `(sql)`; `uuid()` becomes a SQL expression
//!   building a random v4 UUID ([`UUID_SQL`]; the query layer may still fill
//!   it itself). `ulid()`, `nanoid()`, `auth()`, `env(...)`,
//!   `@default(otherField)` and `autoincrement()` have no SQL default: the
//!   query layer fills them on create (`autoincrement()` on an Integer id is
//!   the rowid alias anyway).
//! - Without a `@default`, `@updatedAt` columns default to `now()` (so a
//!   row is stamped on create too) and required lists to `'[]'`.
//! - CHECK constraints: `"col" IN ('a','b')` for enums, `"col" IN (0,1)` for
//!   Booleans (NULL passes a CHECK, so optional columns need nothing more).
//! - Foreign keys are table constraints with `ON DELETE` / `ON UPDATE`
//!   when given. No foreign key is emitted to an `@@external` model or to a
//!   model in another database (SQLite cannot enforce either).
//! - UNIQUE constraints (`@unique`, `@@unique`) are emitted as
//!   `CREATE UNIQUE INDEX` statements named `<table>_<cols>_key` (or the
//!   given `name:`), not inline, so migrations can add and drop them without
//!   rebuilding the table. On `@@softDelete` models they are **partial**
//!   (`WHERE "deletedAt" IS NULL`) so a soft-deleted row does not block
//!   reusing its value — except when a foreign key references those columns
//!   (SQLite requires a full unique index for a parent key). Upserts
//!   targeting a partial unique index must repeat its predicate:
//!   `ON CONFLICT ("email") WHERE "deletedAt" IS NULL DO UPDATE ...`.
//! - `@@index` → `CREATE INDEX`, partial on soft-delete models. Every
//!   belongsTo foreign key gets an index `<table>_<cols>_fkey_idx` unless an
//!   index, unique constraint or the primary key already starts with those
//!   columns (includes and cascades look rows up by it).
//! - `@sequence(scope: s)` → `CREATE UNIQUE INDEX <table>_<s>_<col>_seq` on
//!   `(scope, col)` (or `(col)` without a scope).
//! - `@generated` and schema-function fields → `GENERATED ALWAYS AS (expr)
//!   STORED` (or `VIRTUAL`).
//! - `@@fts([a, b])` → an external-content FTS5 table `<table>_fts` with
//!   `content='<table>'`, `content_rowid='<pk>'` (the rowid when the key is
//!   not a single Integer), and three triggers `<table>_fts_ai` / `_ad` /
//!   `_au` implementing the external-content delete protocol. Soft-deleted
//!   rows stay indexed; the query layer filters them.
//! - Implicit many-to-many join tables (`_<A>To<B>` with columns `A`, `B`)
//!   get a composite primary key `(A, B)`, foreign keys with `ON DELETE
//!   CASCADE` and an index on `B`.
//! - `@@external` models, models of `jsonl` / `logger` databases, relation
//!   fields, `@from` and `@computed` fields get no DDL.

use std::collections::HashSet;

use crate::schema::{
    DefaultValue, Driver, Field, FieldId, FieldType, JoinTable, Model, ModelId, RelationKind,
    ScalarType, Schema,
};

/// The SQL expression of the crate's DateTime default (`now()`).
pub const NOW_SQL: &str = "strftime('%Y-%m-%dT%H:%M:%fZ','now')";

/// A SQL expression producing a random lowercase UUID v4 (the SQL default
/// of `@default(uuid())`, so rows inserted with raw SQL get one too).
pub const UUID_SQL: &str = "lower(hex(randomblob(4))) || '-' || lower(hex(randomblob(2))) || '-4' || substr(lower(hex(randomblob(2))), 2) || '-' || substr('89ab', 1 + (random() & 3), 1) || substr(lower(hex(randomblob(2))), 2) || '-' || lower(hex(randomblob(6)))";

/// Double-quotes an identifier, doubling embedded quotes.
pub fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// Single-quotes a SQL string literal, doubling embedded quotes.
pub fn quote_literal(value: &str) -> String {
    format!("'{}'", value.replace('\'', "''"))
}

/// Whether `model` is created by litestone in `database` (`None` = main).
pub fn model_in_database(schema: &Schema, model: &Model, database: Option<&str>) -> bool {
    let wanted = match database {
        None | Some("main") => None,
        Some(d) => Some(d),
    };
    model.database.as_deref() == wanted && owns_table(schema, model)
}

/// Whether litestone creates and migrates `model`'s table: not `@@external`
/// and routed to a SQLite database.
pub fn owns_table(schema: &Schema, model: &Model) -> bool {
    if model.external {
        return false;
    }
    let db = model.database.as_deref().unwrap_or("main");
    schema
        .database(db)
        .is_none_or(|d| d.driver != Driver::Jsonl)
}

/// The statements that create every table, index, trigger and FTS table of
/// the models routed to `database` (`None` = the main database), in an order
/// that satisfies foreign keys (referenced tables first; cycles fall back to
/// declaration order). `@@external` models get none.
pub fn create_statements(schema: &Schema, database: Option<&str>) -> Vec<String> {
    let models: Vec<&Model> = schema
        .models
        .iter()
        .filter(|m| model_in_database(schema, m, database))
        .collect();
    let order = dependency_order(&models);
    let mut out = Vec::new();
    for m in &order {
        out.push(create_table(schema, m));
    }
    for m in &order {
        out.extend(index_statements(schema, m));
        out.extend(fts_statements(schema, m));
    }
    let mut seen = HashSet::new();
    for m in &order {
        for (_, jt) in implicit_join_tables(schema, m) {
            if seen.insert(jt.table.clone()) {
                out.extend(join_table_statements(schema, m.id, jt));
            }
        }
    }
    out
}

/// Models sorted so that each comes after the models it references.
fn dependency_order<'a>(models: &[&'a Model]) -> Vec<&'a Model> {
    let ids: HashSet<ModelId> = models.iter().map(|m| m.id).collect();
    let mut done: HashSet<ModelId> = HashSet::new();
    let mut out = Vec::new();
    // Kahn-like passes; whatever is left after a pass without progress is a
    // cycle and is emitted in declaration order (SQLite checks FKs at write
    // time, so any order is valid SQL).
    let mut remaining: Vec<&Model> = models.to_vec();
    while !remaining.is_empty() {
        let before = remaining.len();
        remaining.retain(|m| {
            let ready = m.relations().all(|(_, r)| {
                !matches!(r.kind, RelationKind::BelongsTo { .. })
                    || r.target == m.id
                    || !ids.contains(&r.target)
                    || done.contains(&r.target)
            });
            if ready {
                done.insert(m.id);
                out.push(*m);
            }
            !ready
        });
        if remaining.len() == before {
            out.append(&mut remaining);
        }
    }
    out
}

/// The SQL type of a stored field.
pub fn column_type(field: &Field) -> &'static str {
    if field.list {
        return "TEXT";
    }
    match &field.ty {
        FieldType::Scalar(s) => s.sql_type(),
        FieldType::Enum(_) | FieldType::Shape(_) => "TEXT",
        FieldType::Relation(_) => "TEXT",
    }
}

/// Whether `model`'s key is a single Integer `@id` (the rowid alias).
pub fn is_rowid_alias(model: &Model) -> bool {
    model
        .single_pk()
        .is_some_and(|f| !f.list && f.ty == FieldType::Scalar(ScalarType::Integer))
}

/// The column definition of one stored field (`"name" TYPE ...`), as used in
/// [`create_table`] and by migrations for `ALTER TABLE ... ADD COLUMN`.
pub fn column_definition(schema: &Schema, model: &Model, field: &Field) -> String {
    let col = quote_ident(&field.column);
    let mut def = format!("{col} {}", column_type(field));
    let single_pk = model.primary_key.len() == 1 && model.primary_key[0] == field.id;
    if single_pk {
        def.push_str(" PRIMARY KEY");
        if is_rowid_alias(model) {
            // INTEGER PRIMARY KEY is implicitly NOT NULL (rowid alias).
        } else {
            def.push_str(" NOT NULL");
        }
    } else if !field.optional && field.generated.is_none() {
        def.push_str(" NOT NULL");
    }
    if let Some(g) = &field.generated {
        def.push_str(&format!(
            " GENERATED ALWAYS AS ({}) {}",
            g.expr,
            if g.stored { "STORED" } else { "VIRTUAL" }
        ));
    } else if let Some(d) = column_default(field) {
        def.push_str(" DEFAULT ");
        def.push_str(&d);
    }
    if !field.list {
        match &field.ty {
            FieldType::Enum(id) => {
                let values: Vec<String> = schema
                    .enum_by_id(*id)
                    .values
                    .iter()
                    .map(|v| quote_literal(v))
                    .collect();
                def.push_str(&format!(" CHECK ({col} IN ({}))", values.join(",")));
            }
            FieldType::Scalar(ScalarType::Boolean) => {
                def.push_str(&format!(" CHECK ({col} IN (0,1))"));
            }
            _ => {}
        }
    }
    def
}

/// The SQL `DEFAULT` of a stored column: its `@default` when SQLite can
/// compute it; otherwise `now()` for `@updatedAt` fields and `'[]'` for
/// required lists (an absent list is an empty one).
pub fn column_default(field: &Field) -> Option<String> {
    if field.generated.is_some() {
        return None;
    }
    match &field.default {
        Some(d) => default_sql(field, d),
        None if field.updated_at => Some(format!("({NOW_SQL})")),
        None if field.list && !field.optional => Some("'[]'".into()),
        None => None,
    }
}

/// The SQL default of a field, when it has one SQLite can compute.
pub fn default_sql(field: &Field, default: &DefaultValue) -> Option<String> {
    use serde_json::Value;
    match default {
        DefaultValue::Literal(v) => Some(match v {
            Value::Null => "NULL".into(),
            Value::Bool(b) => if *b { "1" } else { "0" }.into(),
            Value::Number(n) => {
                if n.is_f64() && field.scalar() == Some(ScalarType::Real) {
                    let f = n.as_f64().unwrap_or_default();
                    if f.fract() == 0.0 {
                        format!("{f:.1}")
                    } else {
                        n.to_string()
                    }
                } else if field.scalar() == Some(ScalarType::Real) {
                    format!("{}.0", n)
                } else {
                    n.to_string()
                }
            }
            Value::String(s) => quote_literal(s),
            other => quote_literal(&other.to_string()),
        }),
        DefaultValue::Now => Some(format!("({NOW_SQL})")),
        DefaultValue::Uuid => Some(format!("({UUID_SQL})")),
        DefaultValue::Sql(s) => Some(format!("({s})")),
        _ => None,
    }
}

/// `CREATE TABLE IF NOT EXISTS` for `model`: columns, primary key, foreign
/// keys; `STRICT` unless `@@noStrict`.
pub fn create_table(schema: &Schema, model: &Model) -> String {
    let mut lines: Vec<String> = model
        .columns()
        .map(|f| column_definition(schema, model, f))
        .collect();
    if model.primary_key.len() > 1 {
        lines.push(format!(
            "PRIMARY KEY ({})",
            column_list(model, &model.primary_key)
        ));
    }
    lines.extend(foreign_keys(schema, model));
    format!(
        "CREATE TABLE IF NOT EXISTS {} (\n  {}\n){}",
        quote_ident(&model.table),
        lines.join(",\n  "),
        if model.strict { " STRICT" } else { "" }
    )
}

/// The `FOREIGN KEY (...) REFERENCES ...` clauses of `model`'s belongsTo
/// relations (none towards `@@external` models or other databases).
pub fn foreign_keys(schema: &Schema, model: &Model) -> Vec<String> {
    let mut out = Vec::new();
    for (_, rel) in model.relations() {
        let RelationKind::BelongsTo {
            fields,
            references,
            on_delete,
            on_update,
        } = &rel.kind
        else {
            continue;
        };
        let target = schema.model_by_id(rel.target);
        if target.external || target.database != model.database {
            continue;
        }
        let mut fk = format!(
            "FOREIGN KEY ({}) REFERENCES {} ({})",
            column_list(model, fields),
            quote_ident(&target.table),
            column_list(target, references)
        );
        if let Some(a) = on_delete {
            fk.push_str(" ON DELETE ");
            fk.push_str(a.sql());
        }
        if let Some(a) = on_update {
            fk.push_str(" ON UPDATE ");
            fk.push_str(a.sql());
        }
        out.push(fk);
    }
    out
}

/// `"a", "b"` for fields of `model`.
pub fn column_list(model: &Model, fields: &[FieldId]) -> String {
    fields
        .iter()
        .map(|f| quote_ident(&model.field_by_id(*f).column))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Whether some belongsTo in the schema references exactly `fields` of `model`.
fn referenced_by_fk(schema: &Schema, model: &Model, fields: &[FieldId]) -> bool {
    let mut want = fields.to_vec();
    want.sort();
    schema.models.iter().any(|m| {
        m.relations().any(|(_, r)| match &r.kind {
            RelationKind::BelongsTo { references, .. } if r.target == model.id => {
                let mut got = references.clone();
                got.sort();
                got == want
            }
            _ => false,
        })
    })
}

/// The partial-index predicate (`"deletedAt" IS NULL`) of the unique index
/// litestone creates for the unique constraint on `fields` of `model`, or
/// `None` when that index is a full one (not a soft-delete model, or a
/// foreign key references those columns, or they are the primary key).
///
/// The query layer must repeat it in upserts:
/// `INSERT ... ON CONFLICT ("email") WHERE "deletedAt" IS NULL DO UPDATE ...`
/// — SQLite only matches a partial unique index when the conflict target
/// carries its predicate.
pub fn unique_index_predicate(
    schema: &Schema,
    model: &Model,
    fields: &[FieldId],
) -> Option<String> {
    let sd = model.soft_delete?;
    let mut sorted = fields.to_vec();
    sorted.sort();
    let mut pk = model.primary_key.clone();
    pk.sort();
    if sorted == pk || referenced_by_fk(schema, model, fields) {
        return None;
    }
    Some(format!(
        "{} IS NULL",
        quote_ident(&model.field_by_id(sd.field).column)
    ))
}

/// The index statements of `model`: unique indexes (`@unique`, `@@unique`),
/// `@@index`, `@sequence` uniques, and indexes on uncovered foreign keys.
pub fn index_statements(schema: &Schema, model: &Model) -> Vec<String> {
    let table = quote_ident(&model.table);
    let mut out = Vec::new();
    // Column lists already covered, to skip redundant FK indexes.
    let mut covered: Vec<Vec<FieldId>> = vec![model.primary_key.clone()];
    let mut names = HashSet::new();
    let mut pk_sorted = model.primary_key.clone();
    pk_sorted.sort();
    for u in &model.uniques {
        let mut sorted = u.fields.clone();
        sorted.sort();
        if sorted == pk_sorted {
            // The primary key is already unique.
            continue;
        }
        let name = u
            .name
            .clone()
            .unwrap_or_else(|| derived_name(model, &u.fields, "key"));
        if !names.insert(name.clone()) {
            continue;
        }
        let predicate =
            unique_index_predicate(schema, model, &u.fields).map(|p| format!(" WHERE {p}"));
        if predicate.is_none() {
            covered.push(u.fields.clone());
        }
        out.push(format!(
            "CREATE UNIQUE INDEX IF NOT EXISTS {} ON {table} ({}){}",
            quote_ident(&name),
            column_list(model, &u.fields),
            predicate.unwrap_or_default()
        ));
    }
    for ix in &model.indexes {
        if !names.insert(ix.name.clone()) {
            continue;
        }
        if ix.predicate.is_none() {
            covered.push(ix.fields.clone());
        }
        out.push(format!(
            "CREATE INDEX IF NOT EXISTS {} ON {table} ({}){}",
            quote_ident(&ix.name),
            column_list(model, &ix.fields),
            ix.predicate
                .as_ref()
                .map(|p| format!(" WHERE {p}"))
                .unwrap_or_default()
        ));
    }
    for f in model.columns() {
        let Some(seq) = &f.sequence else { continue };
        let fields: Vec<FieldId> = seq.scope.into_iter().chain([f.id]).collect();
        let name = derived_name(model, &fields, "seq");
        if names.insert(name.clone()) {
            covered.push(fields.clone());
            out.push(format!(
                "CREATE UNIQUE INDEX IF NOT EXISTS {} ON {table} ({})",
                quote_ident(&name),
                column_list(model, &fields)
            ));
        }
    }
    for (_, rel) in model.relations() {
        let RelationKind::BelongsTo { fields, .. } = &rel.kind else {
            continue;
        };
        let is_covered = covered
            .iter()
            .any(|c| c.len() >= fields.len() && c[..fields.len()] == fields[..]);
        if is_covered {
            continue;
        }
        let name = derived_name(model, fields, "fkey_idx");
        if names.insert(name.clone()) {
            covered.push(fields.clone());
            out.push(format!(
                "CREATE INDEX IF NOT EXISTS {} ON {table} ({})",
                quote_ident(&name),
                column_list(model, fields)
            ));
        }
    }
    out
}

/// `<table>_<col>_<col>_<suffix>`.
fn derived_name(model: &Model, fields: &[FieldId], suffix: &str) -> String {
    let mut name = model.table.clone();
    for f in fields {
        name.push('_');
        name.push_str(&model.field_by_id(*f).column);
    }
    name.push('_');
    name.push_str(suffix);
    name
}

/// The FTS5 statements of an `@@fts` model: the external-content virtual
/// table and the insert / delete / update triggers that keep it in sync.
/// Empty without `@@fts` or on `@@external` models.
pub fn fts_statements(schema: &Schema, model: &Model) -> Vec<String> {
    let _ = schema;
    let Some(fts) = &model.fts else {
        return Vec::new();
    };
    if model.external {
        return Vec::new();
    }
    let cols: Vec<String> = fts
        .fields
        .iter()
        .map(|f| quote_ident(&model.field_by_id(*f).column))
        .collect();
    let rowid_col = if is_rowid_alias(model) {
        model.single_pk().map(|f| f.column.clone())
    } else {
        None
    };
    let fts_table = quote_ident(&fts.table);
    let table = quote_ident(&model.table);
    let mut create = format!(
        "CREATE VIRTUAL TABLE IF NOT EXISTS {fts_table} USING fts5({}, content={}",
        cols.join(", "),
        quote_literal(&model.table)
    );
    if let Some(r) = &rowid_col {
        create.push_str(&format!(", content_rowid={}", quote_literal(r)));
    }
    create.push(')');
    let rowid = |prefix: &str| match &rowid_col {
        Some(r) => format!("{prefix}.{}", quote_ident(r)),
        None => format!("{prefix}.rowid"),
    };
    let values = |prefix: &str| {
        cols.iter()
            .map(|c| format!("{prefix}.{c}"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let col_list = cols.join(", ");
    let insert_new = format!(
        "INSERT INTO {fts_table}(rowid, {col_list}) VALUES ({}, {});",
        rowid("new"),
        values("new")
    );
    let delete_old = format!(
        "INSERT INTO {fts_table}({fts_table}, rowid, {col_list}) VALUES ('delete', {}, {});",
        rowid("old"),
        values("old")
    );
    let trigger = |name: &str, event: &str, body: &str| {
        format!(
            "CREATE TRIGGER IF NOT EXISTS {} AFTER {event} ON {table} BEGIN\n  {body}\nEND",
            quote_ident(name)
        )
    };
    let Some((_, [ai, ad, au])) = fts_object_names(model) else {
        return Vec::new();
    };
    vec![
        create,
        trigger(&ai, "INSERT", &insert_new),
        trigger(&ad, "DELETE", &delete_old),
        trigger(&au, "UPDATE", &format!("{delete_old}\n  {insert_new}")),
    ]
}

/// The names of the FTS5 objects of an `@@fts` model litestone owns: the
/// virtual table and its insert / delete / update triggers (for migrations
/// that drop or rebuild them). `None` without `@@fts` or on `@@external`.
pub fn fts_object_names(model: &Model) -> Option<(String, [String; 3])> {
    let fts = model.fts.as_ref()?;
    if model.external {
        return None;
    }
    let t = &fts.table;
    Some((
        t.clone(),
        [format!("{t}_ai"), format!("{t}_ad"), format!("{t}_au")],
    ))
}

/// Everything one model owns, in order: [`create_table`], then
/// [`index_statements`], then [`fts_statements`] (empty when litestone does
/// not own the table, see [`owns_table`]). Join tables are not included: see
/// [`implicit_join_tables`].
pub fn model_statements(schema: &Schema, model: &Model) -> Vec<String> {
    if !owns_table(schema, model) {
        return Vec::new();
    }
    let mut out = vec![create_table(schema, model)];
    out.extend(index_statements(schema, model));
    out.extend(fts_statements(schema, model));
    out
}

/// The implicit many-to-many join tables `model` takes part in, with the
/// relation field of `model` that declares each.
pub fn implicit_join_tables<'a>(
    schema: &Schema,
    model: &'a Model,
) -> Vec<(&'a Field, &'a JoinTable)> {
    let _ = schema;
    model
        .relations()
        .filter_map(|(f, r)| match &r.kind {
            RelationKind::ManyToMany(jt) if jt.implicit => Some((f, jt)),
            _ => None,
        })
        .collect()
}

/// The statements creating an implicit join table: the table (composite
/// primary key, both foreign keys `ON DELETE CASCADE`, STRICT) and an index
/// on its second column. `source` is the model declaring the relation.
pub fn join_table_statements(schema: &Schema, source: ModelId, join: &JoinTable) -> Vec<String> {
    let src = schema.model_by_id(source);
    let target = src
        .relations()
        .find_map(|(_, r)| match &r.kind {
            RelationKind::ManyToMany(jt) if jt == join => Some(r.target),
            _ => None,
        })
        .map(|t| schema.model_by_id(t))
        .unwrap_or(src);
    let src_ref = src.field_by_id(join.source_ref);
    let dst_ref = target.field_by_id(join.target_ref);
    // Columns in A, B order whichever side `source` is.
    let mut cols = [
        (&join.source_column, src, src_ref),
        (&join.target_column, target, dst_ref),
    ];
    cols.sort_by(|a, b| a.0.cmp(b.0));
    let table = quote_ident(&join.table);
    let mut lines: Vec<String> = cols
        .iter()
        .map(|(c, _, r)| format!("{} {} NOT NULL", quote_ident(c), column_type(r)))
        .collect();
    lines.push(format!(
        "PRIMARY KEY ({}, {})",
        quote_ident(cols[0].0),
        quote_ident(cols[1].0)
    ));
    for (c, m, r) in &cols {
        lines.push(format!(
            "FOREIGN KEY ({}) REFERENCES {} ({}) ON DELETE CASCADE ON UPDATE CASCADE",
            quote_ident(c),
            quote_ident(&m.table),
            quote_ident(&r.column)
        ));
    }
    vec![
        format!(
            "CREATE TABLE IF NOT EXISTS {table} (\n  {}\n) STRICT",
            lines.join(",\n  ")
        ),
        format!(
            "CREATE INDEX IF NOT EXISTS {} ON {table} ({})",
            quote_ident(&format!("{}_{}_idx", join.table, cols[1].0)),
            quote_ident(cols[1].0)
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_identifiers_and_literals() {
        assert_eq!(quote_ident("a\"b"), "\"a\"\"b\"");
        assert_eq!(quote_literal("it's"), "'it''s'");
    }
}
