//! Validation: parsed files → the resolved [`Schema`], or every problem
//! found.
//!
//! Ordered passes that *accumulate* diagnostics instead of stopping at the
//! first one:
//! 1. **names** (this module): collect every declaration, report duplicates,
//!    build enums, databases, functions and typed JSON shapes, assign ids;
//! 2. **models** ([`fields`]): splice traits, resolve field types, interpret
//!    field attributes (defaults, validators, schema functions, …);
//! 3. **model attributes** ([`models`]): `@@id`, `@@index`, `@@softDelete`,
//!    policies, routing, and the per-model consistency checks;
//! 4. **relations** ([`relations`]): belongsTo keys and types, back-relation
//!    pairing (hasMany / hasOne), many-to-many join tables, `@from`, field
//!    paths inside policy expressions, and the `@@auth` model's fields named
//!    by `auth().x`;
//! 5. **tables** (this module): table names (models, FTS and join tables)
//!    unique per database, ignoring ASCII case as SQLite does.
//!
//! Decisions where the README is silent are documented on the pass that
//! makes them.

mod exprs;
mod fields;
mod models;
mod relations;

use std::collections::HashMap;

use super::ast::{self, Item, SchemaAst};
use super::diagnostics::Diag;
use super::model::*;
use super::span::Span;

/// The database every model without `@@db` belongs to.
pub(crate) const MAIN_DB: &str = "main";

/// Validates the items of every file (imports first) into a [`Schema`].
pub(crate) fn validate(files: &[SchemaAst], file_names: Vec<String>) -> (Schema, Vec<Diag>) {
    let mut cx = Ctx::default();
    cx.schema.files = file_names;
    let items: Vec<&Item> = files.iter().flat_map(|f| f.items.iter()).collect();
    cx.declarations(&items);
    let decls = std::mem::take(&mut cx.model_decls);
    let mut pendings = Vec::with_capacity(decls.len());
    for (i, decl) in decls.iter().enumerate() {
        let (model, pending) = fields::build_model(&mut cx, ModelId(i as u32), decl);
        cx.schema.models.push(model);
        pendings.push(pending);
    }
    cx.schema.reindex();
    relations::resolve(&mut cx, &pendings);
    cx.check_table_names();
    let Ctx {
        mut schema, diags, ..
    } = cx;
    schema.reindex();
    (schema, diags)
}

/// State shared by the passes.
#[derive(Default)]
pub(super) struct Ctx<'a> {
    pub(super) schema: Schema,
    pub(super) diags: Vec<Diag>,
    /// Model declarations kept (duplicates dropped), in id order.
    pub(super) model_decls: Vec<&'a ast::ModelDecl>,
    /// Model name → id (ids assigned before models are built).
    pub(super) model_ids: HashMap<String, ModelId>,
    /// Trait name → declaration.
    pub(super) traits: HashMap<String, &'a ast::ModelDecl>,
}

impl Ctx<'_> {
    pub(super) fn error(&mut self, span: Span, message: impl Into<String>) {
        self.diags.push(Diag::new(span, message));
    }

    /// Whether `name` names a database models may be routed to.
    pub(super) fn database_exists(&self, name: &str) -> bool {
        self.schema.databases.iter().any(|d| d.name == name) || (name == MAIN_DB)
    }

    /// The driver of database `name` (`main` without a block is SQLite).
    pub(super) fn driver(&self, name: Option<&str>) -> Driver {
        let name = name.unwrap_or(MAIN_DB);
        self.schema
            .databases
            .iter()
            .find(|d| d.name == name)
            .map(|d| d.driver)
            .unwrap_or_default()
    }
}

impl Ctx<'_> {
    /// Table and index names (models, implicit join tables, FTS tables,
    /// named indexes and unique constraints) are unique per database,
    /// ignoring ASCII case as SQLite does.
    fn check_table_names(&mut self) {
        let mut seen: Vec<(Option<String>, String, String)> = Vec::new();
        let mut errors = Vec::new();
        for m in &self.schema.models {
            if m.external {
                continue;
            }
            let mut tables = vec![(m.table.clone(), format!("model `{}`", m.name))];
            if let Some(f) = &m.fts {
                tables.push((f.table.clone(), format!("the FTS table of `{}`", m.name)));
            }
            for (_, r) in m.relations() {
                if let RelationKind::ManyToMany(j) = &r.kind {
                    if j.implicit {
                        tables.push((j.table.clone(), format!("the join table `{}`", j.table)));
                    }
                }
            }
            // Indexes share the table namespace in SQLite.
            for ix in &m.indexes {
                tables.push((ix.name.clone(), format!("index `{}`", ix.name)));
            }
            for u in m.uniques.iter().filter_map(|u| u.name.as_ref()) {
                tables.push((u.clone(), format!("unique constraint `{u}`")));
            }
            for (table, what) in tables {
                let clash = seen.iter().find(|(db, t, w)| {
                    *db == m.database && t.eq_ignore_ascii_case(&table) && *w != what
                });
                match clash {
                    Some((_, _, first)) => errors.push((
                        m.span,
                        format!("name `{table}` of {what} clashes with {first}"),
                    )),
                    None => seen.push((m.database.clone(), table, what)),
                }
            }
        }
        errors.dedup();
        for (span, msg) in errors {
            // Point at the model name rather than the whole block.
            self.error(
                Span {
                    end: span.start + 6,
                    ..span
                },
                msg,
            );
        }
    }
}

impl<'a> Ctx<'a> {
    /// Pass 1: names, duplicates, enums, shapes, functions, databases.
    fn declarations(&mut self, items: &[&'a Item]) {
        // Models, enums and shapes share one namespace (they are all field
        // types); functions and databases have their own.
        let mut names: HashMap<(u8, String), (&'static str, Span)> = HashMap::new();
        let mut shape_decls = Vec::new();
        let mut kept_functions: Vec<Span> = Vec::new();

        for item in items {
            let (kind, ns): (&'static str, u8) = match item {
                Item::Import(_) => continue,
                Item::Model(_) => ("model", 0),
                Item::Enum(_) => ("enum", 0),
                Item::Type(_) => ("type", 0),
                Item::Function(_) => ("function", 1),
                Item::Database(_) => ("database", 2),
                Item::Trait(_) => ("trait", 3),
            };
            let name = item.name();
            if let Some((prev_kind, p)) = names.get(&(ns, name.name.clone())) {
                self.error(
                    name.span,
                    format!(
                        "duplicate {kind} `{}` ({} {prev_kind} of that name is declared at {}:{})",
                        name.name,
                        if prev_kind.starts_with(['a', 'e']) {
                            "an"
                        } else {
                            "a"
                        },
                        p.line,
                        p.column
                    ),
                );
                continue;
            }
            names.insert((ns, name.name.clone()), (kind, name.span));
            if let Item::Trait(d) = item {
                self.traits.insert(name.name.clone(), d);
                continue;
            }
            if let Item::Function(_) = item {
                kept_functions.push(name.span);
            }
            match item {
                Item::Model(d) => {
                    if ScalarType::from_name(&d.name.name).is_some() {
                        self.error(
                            d.name.span,
                            format!("`{}` is a built-in type name", d.name.name),
                        );
                        continue;
                    }
                    let id = ModelId(self.model_decls.len() as u32);
                    self.model_ids.insert(d.name.name.clone(), id);
                    self.model_decls.push(d);
                }
                Item::Enum(d) => self.enum_decl(d),
                Item::Type(d) => {
                    let id = TypeId(self.schema.types.len() as u32);
                    self.schema.types.push(TypeDef {
                        id,
                        name: d.name.name.clone(),
                        fields: Vec::new(),
                        span: d.span,
                    });
                    shape_decls.push((id, d));
                }
                Item::Database(d) => self.database(d),
                _ => {}
            }
        }
        self.schema.reindex();
        // Functions after enums so parameter types resolve.
        for item in items {
            if let Item::Function(d) = item {
                if kept_functions.contains(&d.name.span) {
                    self.function(d);
                }
            }
        }
        for (id, d) in shape_decls {
            self.shape(id, d);
        }
    }

    fn enum_decl(&mut self, d: &ast::EnumDecl) {
        let mut values: Vec<String> = Vec::new();
        for v in &d.values {
            if values.contains(&v.name.name) {
                self.error(
                    v.name.span,
                    format!(
                        "duplicate value `{}` in enum `{}`",
                        v.name.name, d.name.name
                    ),
                );
            } else {
                values.push(v.name.name.clone());
            }
        }
        if values.is_empty() {
            self.error(d.name.span, format!("enum `{}` has no values", d.name.name));
        }
        let id = EnumId(self.schema.enums.len() as u32);
        self.schema.enums.push(Enum {
            id,
            name: d.name.name.clone(),
            values,
            doc: d.doc.clone(),
            span: d.span,
        });
    }

    fn database(&mut self, d: &ast::DatabaseDecl) {
        let mut db = Database {
            name: d.name.name.clone(),
            path: None,
            driver: Driver::Sqlite,
            retention: None,
            span: d.span,
        };
        let mut seen: Vec<&str> = Vec::new();
        for s in &d.settings {
            if seen.contains(&s.key.name.as_str()) {
                self.error(
                    s.key.span,
                    format!(
                        "duplicate setting `{}` in database `{}`",
                        s.key.name, d.name.name
                    ),
                );
                continue;
            }
            seen.push(&s.key.name);
            match s.key.name.as_str() {
                "path" | "url" => match config_value(&s.value) {
                    Some(v) => db.path = Some(v),
                    None => self.error(
                        s.value.span,
                        "expected a quoted path or `env(\"VAR\", \"default\")`",
                    ),
                },
                "driver" => match s.value.as_ident().or(s.value.as_str()) {
                    Some("sqlite") => db.driver = Driver::Sqlite,
                    Some("jsonl") => db.driver = Driver::Jsonl,
                    Some("logger") => db.driver = Driver::Logger,
                    _ => self.error(
                        s.value.span,
                        "unknown driver (expected `sqlite`, `jsonl` or `logger`)",
                    ),
                },
                "retention" => match &s.value.kind {
                    ast::ExprKind::Duration(v) if valid_duration(v) => {
                        db.retention = Some(v.clone());
                    }
                    ast::ExprKind::Str(v) if valid_duration(v) => db.retention = Some(v.clone()),
                    _ => self.error(
                        s.value.span,
                        "expected a retention like `30d` (units: s, m, h, d, w, y)",
                    ),
                },
                other => self.error(
                    s.key.span,
                    format!(
                        "unknown database setting `{other}` (expected `path`, `driver` or `retention`)"
                    ),
                ),
            }
        }
        self.schema.databases.push(db);
    }

    fn function(&mut self, d: &ast::FunctionDecl) {
        if fields::is_builtin(&d.name.name) {
            self.error(
                d.name.span,
                format!(
                    "function `{}` would shadow the built-in attribute `@{}`",
                    d.name.name, d.name.name
                ),
            );
        }
        let mut params: Vec<(String, String)> = Vec::new();
        for (p, ty) in &d.params {
            if params.iter().any(|(n, _)| *n == p.name) {
                self.error(
                    p.span,
                    format!(
                        "duplicate parameter `{}` in function `{}`",
                        p.name, d.name.name
                    ),
                );
                continue;
            }
            self.check_plain_type(ty);
            params.push((p.name.clone(), ty.name.name.clone()));
        }
        if let Some(r) = &d.returns {
            self.check_plain_type(r);
        }
        let mut expr = None;
        for a in &d.attributes {
            if a.name.name != "expr" {
                self.error(
                    a.name.span,
                    format!(
                        "unknown function attribute `@@{}` (expected `@@expr(\"...\")`)",
                        a.name.name
                    ),
                );
                continue;
            }
            match a.args() {
                [arg] if arg.name.is_none() && arg.value.as_str().is_some() => {
                    let template = arg.value.as_str().unwrap_or_default().to_string();
                    for ph in placeholders(&template) {
                        if !params.iter().any(|(n, _)| *n == ph) {
                            self.error(
                                arg.value.span,
                                format!(
                                    "`{{{ph}}}` in function `{}` is not a parameter",
                                    d.name.name
                                ),
                            );
                        }
                    }
                    expr = Some(template);
                }
                _ => self.error(a.span, "`@@expr` takes one SQL template string"),
            }
        }
        let expr = expr.unwrap_or_else(|| {
            self.error(
                d.name.span,
                format!("function `{}` has no `@@expr(\"...\")`", d.name.name),
            );
            // Kept (with an empty template) so its uses are not also reported.
            String::new()
        });
        self.schema.functions.push(Function {
            name: d.name.name.clone(),
            params,
            returns: d
                .returns
                .as_ref()
                .map(|r| r.name.name.clone())
                .unwrap_or_else(|| "Text".into()),
            expr,
            span: d.span,
        });
    }

    /// Function parameters and shape keys: scalars, enums and shapes only.
    fn check_plain_type(&mut self, ty: &ast::TypeRef) -> Option<FieldType> {
        let n = &ty.name.name;
        if let Some(s) = ScalarType::from_name(n) {
            return Some(FieldType::Scalar(s));
        }
        if let Some(id) = self.schema.enum_index.get(n) {
            return Some(FieldType::Enum(*id));
        }
        if let Some(id) = self.schema.type_index.get(n) {
            return Some(FieldType::Shape(*id));
        }
        if self.model_ids.contains_key(n) {
            self.error(
                ty.name.span,
                format!("model `{n}` cannot be used here (only scalars, enums and types)"),
            );
        } else {
            self.error(ty.name.span, format!("unknown type `{n}`"));
        }
        None
    }

    fn shape(&mut self, id: TypeId, d: &ast::ModelDecl) {
        let mut fields: Vec<ShapeField> = Vec::new();
        for m in &d.members {
            match m {
                ast::Member::Attribute(a) => self.error(
                    a.span,
                    format!("`@@{}` is not allowed in a type", a.name.name),
                ),
                ast::Member::Field(f) => {
                    if fields.iter().any(|x| x.name == f.name.name) {
                        self.error(
                            f.name.span,
                            format!(
                                "duplicate field `{}` in type `{}`",
                                f.name.name, d.name.name
                            ),
                        );
                        continue;
                    }
                    let ty = self
                        .check_plain_type(&f.ty)
                        .unwrap_or(FieldType::Scalar(ScalarType::Json));
                    let mut validators = Vec::new();
                    for a in &f.attributes {
                        match fields::validator(self, a) {
                            Some(Ok(v)) => validators.push(v),
                            Some(Err(())) => {}
                            None => self.error(
                                a.name.span,
                                format!(
                                    "`@{}` is not allowed in a type (only validators)",
                                    a.name.name
                                ),
                            ),
                        }
                    }
                    fields.push(ShapeField {
                        name: f.name.name.clone(),
                        ty,
                        optional: f.ty.optional,
                        list: f.ty.list,
                        validators,
                    });
                }
            }
        }
        self.schema.types[id.0 as usize].fields = fields;
    }
}

fn config_value(e: &ast::Expr) -> Option<ConfigValue> {
    match &e.kind {
        ast::ExprKind::Str(s) => Some(ConfigValue::Literal(s.clone())),
        ast::ExprKind::Call(name, args) if name.name == "env" => match args.as_slice() {
            [var] => Some(ConfigValue::Env {
                var: var.as_str()?.to_string(),
                fallback: None,
            }),
            [var, fallback] => Some(ConfigValue::Env {
                var: var.as_str()?.to_string(),
                fallback: Some(fallback.as_str()?.to_string()),
            }),
            _ => None,
        },
        _ => None,
    }
}

fn valid_duration(s: &str) -> bool {
    let digits = s.chars().take_while(|c| c.is_ascii_digit()).count();
    digits > 0 && matches!(&s[digits..], "s" | "m" | "h" | "d" | "w" | "y")
}

/// The `{name}` placeholders of a function template.
pub(super) fn placeholders(template: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = template;
    while let Some(i) = rest.find('{') {
        let after = &rest[i + 1..];
        match after.find('}') {
            Some(j) => {
                let name = &after[..j];
                if !name.is_empty() && name.chars().all(|c| c.is_alphanumeric() || c == '_') {
                    out.push(name.to_string());
                }
                rest = &after[j + 1..];
            }
            None => break,
        }
    }
    out
}

/// ` (did you mean `x`?)` for the candidate closest to `name`, when one is
/// close enough to be a likely typo.
pub(super) fn did_you_mean<'a>(
    name: &str,
    prefix: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> String {
    let limit = (name.chars().count() / 3).max(1);
    candidates
        .into_iter()
        .map(|c| (edit_distance(&name.to_lowercase(), &c.to_lowercase()), c))
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| format!(" (did you mean `{prefix}{c}`?)"))
        .unwrap_or_default()
}

/// Levenshtein distance over characters.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let sub = prev[j] + usize::from(ca != *cb);
            cur.push(sub.min(prev[j + 1] + 1).min(cur[j] + 1));
        }
        prev = cur;
    }
    prev[b.len()]
}

/// Every built-in field attribute name.
pub(super) const FIELD_ATTRIBUTES: &[&str] = &[
    "id",
    "unique",
    "default",
    "relation",
    "generated",
    "computed",
    "updatedAt",
    "updatedBy",
    "sequence",
    "map",
    "omit",
    "guarded",
    "encrypted",
    "secret",
    "allow",
    "log",
    "keepVersions",
    "accept",
    "markdown",
    "hardDelete",
    "from",
    "email",
    "url",
    "date",
    "datetime",
    "phone",
    "regex",
    "length",
    "gt",
    "gte",
    "lt",
    "lte",
    "startsWith",
    "endsWith",
    "contains",
    "trim",
    "lower",
    "upper",
    "slug",
];

/// Every built-in model attribute name.
pub(super) const MODEL_ATTRIBUTES: &[&str] = &[
    "id",
    "unique",
    "index",
    "fts",
    "softDelete",
    "gate",
    "allow",
    "deny",
    "log",
    "auth",
    "noStrict",
    "external",
    "map",
    "db",
    "trait",
];
