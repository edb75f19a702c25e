//! Pass 3: model attributes (`@@...`) and the per-model checks.
//!
//! Decisions:
//! - `@@db(name)`: with database blocks declared, `name` must be one of them
//!   (or `main`, the implicit default). Without any database block only
//!   `@@db(main)` is accepted. `Model::database` is `None` for the main
//!   database (with or without an explicit `@@db(main)`).
//! - A model needs a primary key (`@id` or `@@id`) unless it is
//!   `@@external` or routed to a `jsonl`/`logger` database (append-only
//!   logs have no key).
//! - `@@gate("R.C.U.D")`: one to four digits 0–9; missing parts repeat the
//!   last one (`"9"` = `"9.9.9.9"`, `"1.3"` = `"1.3.3.3"`).
//! - On `@@softDelete` models, `@@index` indexes are partial
//!   (`WHERE "deletedAt" IS NULL`), matching the default read filter.
//! - `@@fts` on an `@@external` model declares that the table *is* an FTS5
//!   table (`Fts::table` = the model's table); otherwise litestone owns a
//!   `<table>_fts` external-content table.
//! - Index names default to `<table>_<col>_<col>_idx`.

use super::super::ast::{self, AttributeAst};
use super::super::model::*;
use super::Ctx;
use super::exprs::{self, Args, display_name};
use super::fields::{Pending, log_target, policy};

pub(super) fn model_attributes<'a>(
    cx: &mut Ctx<'a>,
    model: &mut Model,
    attrs: &[&'a AttributeAst],
    pending: &mut Pending<'a>,
) {
    // Pending lists resolved after the loop, when @@map / @@softDelete are known.
    let mut indexes: Vec<(Vec<FieldId>, Option<String>)> = Vec::new();
    let mut soft_delete_attr: Option<(&AttributeAst, bool)> = None;
    let mut fts_fields: Option<Vec<FieldId>> = None;
    let mut id_attr: Option<(&AttributeAst, Vec<FieldId>)> = None;

    for a in attrs {
        model.attributes.push(exprs::attribute(a));
        let args = Args::new(a);
        match a.name.name.as_str() {
            "trait" => {} // spliced in pass 2
            "id" => {
                args.check_shape(&["fields", "name", "map"], 1, &mut cx.diags);
                if let Some(fields) = field_list(cx, model, a) {
                    id_attr = Some((a, fields));
                }
            }
            "unique" => {
                args.check_shape(&["fields", "name", "map"], 1, &mut cx.diags);
                if let Some(fields) = field_list(cx, model, a) {
                    model.uniques.push(UniqueConstraint {
                        fields,
                        name: given_name(&args),
                    });
                }
            }
            "index" => {
                args.check_shape(&["fields", "name", "map", "type"], 1, &mut cx.diags);
                if let Some(fields) = field_list(cx, model, a) {
                    indexes.push((fields, given_name(&args)));
                }
            }
            "fts" => {
                args.check_shape(&[], 1, &mut cx.diags);
                if let Some(fields) = field_list(cx, model, a) {
                    fts_fields = Some(fields);
                }
            }
            "softDelete" => {
                args.check_shape(&[], 1, &mut cx.diags);
                let cascade = match args.positional().first() {
                    None => false,
                    Some(p) if p.value.as_ident() == Some("cascade") => true,
                    Some(p) => {
                        cx.error(p.value.span, "expected `cascade`");
                        false
                    }
                };
                soft_delete_attr = Some((a, cascade));
            }
            "gate" => {
                args.check_shape(&[], 1, &mut cx.diags);
                // `@@gate(9)` is accepted for a single level.
                let text = args.positional().first().and_then(|p| match &p.value.kind {
                    ast::ExprKind::Str(s) => Some(s.clone()),
                    ast::ExprKind::Number(n) if n.fract() == 0.0 && (0.0..=9.0).contains(n) => {
                        Some(format!("{n}"))
                    }
                    _ => None,
                });
                match text.as_deref() {
                    Some(s) => match parse_gate(s) {
                        Some(g) => model.gate = Some(g),
                        None => cx.error(
                            a.span,
                            format!(
                                "invalid gate `{s}`: expected one to four levels 0-9 like \"R.C.U.D\""
                            ),
                        ),
                    },
                    None => cx.error(a.span, "`@@gate` needs a string like \"1.3.4.6\""),
                }
            }
            "allow" | "deny" => {
                let effect = if a.name.name == "allow" {
                    PolicyEffect::Allow
                } else {
                    PolicyEffect::Deny
                };
                if let Some(p) = policy(cx, a, effect, false) {
                    if let Some(arg) = a.args().get(1) {
                        pending.policy_exprs.push(&arg.value);
                    }
                    model.policies.push(p);
                }
            }
            "log" => {
                if let Some(db) = log_target(cx, a) {
                    model.log = Some(db);
                }
            }
            "auth" => {
                args.check_shape(&[], 0, &mut cx.diags);
                model.is_auth = true;
            }
            "noStrict" => {
                args.check_shape(&[], 0, &mut cx.diags);
                model.strict = false;
            }
            "external" => {
                args.check_shape(&[], 0, &mut cx.diags);
                model.external = true;
            }
            "map" => {
                args.check_shape(&[], 1, &mut cx.diags);
                match args.positional().first().and_then(|p| p.value.as_str()) {
                    Some(s) if !s.is_empty() => model.table = s.to_string(),
                    _ => cx.error(a.span, "`@@map` needs a table name string"),
                }
            }
            "db" => {
                args.check_shape(&[], 1, &mut cx.diags);
                let Some(arg) = args.positional().first().copied() else {
                    cx.error(a.span, "`@@db` needs a database name");
                    continue;
                };
                let Some(name) = arg.value.as_ident().or(arg.value.as_str()) else {
                    cx.error(arg.value.span, "expected a database name");
                    continue;
                };
                if !cx.database_exists(name) {
                    let msg = if cx.schema.databases.is_empty() {
                        format!(
                            "unknown database `{name}`: declare it with `database {name} {{ path \"...\" }}`"
                        )
                    } else {
                        format!(
                            "unknown database `{name}` (declared: {})",
                            cx.schema
                                .databases
                                .iter()
                                .map(|d| d.name.as_str())
                                .collect::<Vec<_>>()
                                .join(", ")
                        )
                    };
                    cx.error(arg.value.span, msg);
                } else if name != super::MAIN_DB {
                    model.database = Some(name.to_string());
                }
            }
            other => cx.error(
                a.name.span,
                format!(
                    "unknown model attribute `@@{other}`{}",
                    super::did_you_mean(other, "@@", super::MODEL_ATTRIBUTES.iter().copied())
                ),
            ),
        }
    }

    // Primary key.
    let id_fields: Vec<FieldId> = model
        .fields
        .iter()
        .filter(|f| f.is_id)
        .map(|f| f.id)
        .collect();
    if id_fields.len() > 1 {
        let second = model.fields[id_fields[1].0 as usize].span;
        cx.error(
            second,
            format!(
                "model `{}` has more than one `@id` field; use `@@id([a, b])` for a composite key",
                model.name
            ),
        );
    }
    match id_attr {
        Some((a, fields)) => {
            if !id_fields.is_empty() {
                cx.error(a.span, "`@@id` and `@id` cannot both be used");
            }
            model.primary_key = fields;
        }
        None => model.primary_key = id_fields.into_iter().take(1).collect(),
    }
    for pk in model.primary_key.clone() {
        let f = &model.fields[pk.0 as usize];
        if f.optional || f.list || !f.is_column() || f.generated.is_some() {
            let span = f.span;
            cx.error(
                span,
                format!(
                    "primary key field `{}` must be a required, non-list, stored column",
                    f.name
                ),
            );
        }
    }

    // Soft delete.
    if let Some((a, cascade)) = soft_delete_attr {
        match model.field_id("deletedAt") {
            Some(id)
                if model.fields[id.0 as usize].ty == FieldType::Scalar(ScalarType::DateTime)
                    && model.fields[id.0 as usize].optional
                    && !model.fields[id.0 as usize].list =>
            {
                model.soft_delete = Some(SoftDelete { field: id, cascade });
            }
            _ => cx.error(
                a.span,
                format!(
                    "`@@softDelete` needs a `deletedAt DateTime?` field on model `{}`",
                    model.name
                ),
            ),
        }
    }

    let predicate = model.soft_delete.map(|sd| {
        format!(
            "{} IS NULL",
            crate::ddl::quote_ident(&model.fields[sd.field.0 as usize].column)
        )
    });
    for (fields, name) in indexes {
        let name = name.unwrap_or_else(|| derived_name(model, &fields, "idx"));
        model.indexes.push(Index {
            fields,
            name,
            predicate: predicate.clone(),
        });
    }

    if fts_fields.is_some() {
        // External-content FTS5 is keyed by the rowid, which VACUUM may
        // renumber unless it is an INTEGER PRIMARY KEY.
        let rowid_key = model
            .single_pk()
            .is_some_and(|f| f.ty == FieldType::Scalar(ScalarType::Integer) && !f.list);
        if !model.external && !rowid_key {
            if let Some(a) = attrs.iter().find(|a| a.name.name == "fts") {
                cx.error(
                    a.span,
                    format!(
                        "`@@fts` needs a single `Integer @id` on model `{}` (the FTS index is keyed by the rowid)",
                        model.name
                    ),
                );
            }
        }
    }
    if let (Some(fields), false) = (&fts_fields, model.external) {
        for f in fields {
            let col = &model.fields[f.0 as usize].column;
            if col.eq_ignore_ascii_case("rank") || col.eq_ignore_ascii_case("rowid") {
                let span = model.fields[f.0 as usize].span;
                cx.error(
                    span,
                    format!("column `{col}` cannot be full-text indexed: FTS5 reserves that name (rename it with `@map`)"),
                );
            }
        }
    }
    if let Some(fields) = fts_fields {
        let table = if model.external {
            model.table.clone()
        } else {
            format!("{}_fts", model.table)
        };
        model.fts = Some(Fts { fields, table });
    }
}

fn given_name(args: &Args<'_>) -> Option<String> {
    ["name", "map"]
        .iter()
        .find_map(|k| args.named(k))
        .and_then(|a| a.value.as_str().map(str::to_string))
}

/// `<table>_<col>_<col>_<suffix>`.
pub(crate) fn derived_name(model: &Model, fields: &[FieldId], suffix: &str) -> String {
    let mut name = model.table.clone();
    for f in fields {
        name.push('_');
        name.push_str(&model.fields[f.0 as usize].column);
    }
    name.push('_');
    name.push_str(suffix);
    name
}

/// The first positional argument as a list of stored columns of `model`.
fn field_list(cx: &mut Ctx<'_>, model: &Model, a: &AttributeAst) -> Option<Vec<FieldId>> {
    let args = Args::new(a);
    // `@@index([a, b])` or, Prisma style, `@@index(fields: [a, b])`.
    let Some(arg) = args.positional().first().copied().or(args.named("fields")) else {
        cx.error(
            a.span,
            format!("`{}` needs a list of fields like `[a, b]`", display_name(a)),
        );
        return None;
    };
    let names = match exprs::name_list(&arg.value) {
        Ok(n) => n,
        Err(d) => {
            cx.diags.push(d);
            return None;
        }
    };
    if names.is_empty() {
        cx.error(
            arg.value.span,
            format!("`{}` needs at least one field", display_name(a)),
        );
        return None;
    }
    let mut out = Vec::new();
    let mut ok = true;
    for (n, e) in names {
        match model.field_index.get(&n) {
            Some(id) if model.fields[id.0 as usize].is_column() => {
                if out.contains(id) {
                    cx.error(e.span, format!("field `{n}` is listed twice"));
                    ok = false;
                } else {
                    out.push(*id);
                }
            }
            Some(_) => {
                cx.error(
                    e.span,
                    format!(
                        "`{}` names `{n}`, which is not a stored column of model `{}`",
                        display_name(a),
                        model.name
                    ),
                );
                ok = false;
            }
            None => {
                cx.error(
                    e.span,
                    format!(
                        "`{}` names unknown field `{n}` on model `{}`",
                        display_name(a),
                        model.name
                    ),
                );
                ok = false;
            }
        }
    }
    ok.then_some(out)
}

/// Parses `"R.C.U.D"`; fewer parts repeat the last.
pub(crate) fn parse_gate(s: &str) -> Option<Gate> {
    let parts: Vec<&str> = s.split('.').collect();
    if parts.is_empty() || parts.len() > 4 {
        return None;
    }
    let mut levels = Vec::new();
    for p in parts {
        let p = p.trim();
        if p.len() != 1 {
            return None;
        }
        levels.push(p.parse::<u8>().ok()?);
    }
    let last = *levels.last()?;
    while levels.len() < 4 {
        levels.push(last);
    }
    Some(Gate {
        read: levels[0],
        create: levels[1],
        update: levels[2],
        delete: levels[3],
    })
}

/// Checks that need the whole model (after attributes).
pub(super) fn check_model(cx: &mut Ctx<'_>, model: &mut Model, decl: &ast::ModelDecl) {
    let driver = cx.driver(model.database.as_deref());
    if model.primary_key.is_empty() && !model.external && driver == Driver::Sqlite {
        cx.error(
            decl.name.span,
            format!(
                "model `{}` has no primary key: add an `@id` field (or `@@id([...])`), or mark it `@@external`",
                model.name
            ),
        );
    }
    let mut conflicts = Vec::new();
    for f in &model.fields {
        if f.generated.is_some() && f.default.is_some() {
            conflicts.push((
                f.span,
                format!("generated field `{}` cannot also have a `@default`", f.name),
            ));
        }
        // `@from` is resolved in the relation pass: look at the attribute.
        let derived = f.computed || f.attributes.iter().any(|a| a.name == "from");
        if derived && (f.is_id || f.is_unique || f.default.is_some()) {
            conflicts.push((
                f.span,
                format!(
                    "`{}` is not stored (`@from` / `@computed`), so it cannot be `@id`, `@unique` or have a `@default`",
                    f.name
                ),
            ));
        }
    }
    for (span, msg) in conflicts {
        cx.error(span, msg);
    }
    // Two fields mapped to one column (SQLite compares names ignoring ASCII case).
    let mut seen: Vec<(&str, &str)> = Vec::new();
    let mut dups = Vec::new();
    for f in model.columns() {
        if let Some((_, first)) = seen.iter().find(|(c, _)| c.eq_ignore_ascii_case(&f.column)) {
            dups.push((
                f.span,
                format!(
                    "fields `{first}` and `{}` both map to column `{}`",
                    f.name, f.column
                ),
            ));
        } else {
            seen.push((&f.column, &f.name));
        }
    }
    for (span, msg) in dups {
        cx.error(span, msg);
    }
}
