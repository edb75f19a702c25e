//! Pass 2: building one model — trait splicing, field types and field
//! attributes.
//!
//! Decisions:
//! - `@slug` without arguments is the built-in transform; any attribute with
//!   arguments whose name is a schema function (`@slug(title)`,
//!   `@fullName(first, last)`) expands that function's `@@expr` template
//!   into a STORED generated column (`{param}` → the quoted column of the
//!   field passed as argument; string and number arguments are inlined as
//!   SQL literals).
//! - `@generated("sql")` is STORED unless written `@generated("sql", virtual)`
//!   or `@generated("sql", stored: false)`.
//! - `@secret` = `@encrypted` + `@guarded(all)` + `@log(<db>)` where `<db>` is
//!   the first `driver logger` database, or `audit` when there is none.
//! - `@length(n)` with one argument is a minimum; `@length(min, max)` or
//!   `@length(min: a, max: b)` otherwise.
//! - `@updatedBy` without arguments stamps `auth().id`.

use std::collections::HashMap;

use serde_json::Value;

use super::super::ast::{self, AttributeAst, ExprKind, Member};
use super::super::model::*;
use super::super::span::Span;
use super::Ctx;
use super::exprs::{self, Args, display_name};

/// What the relation pass needs from a built model.
#[derive(Default)]
pub(super) struct Pending<'a> {
    /// One entry per relation field.
    pub(super) relations: Vec<RelAttr>,
    /// `@from(...)` attributes to resolve once relations are known.
    pub(super) froms: Vec<(FieldId, &'a AttributeAst)>,
    /// Policy conditions (model-level and field-level) whose field paths
    /// are checked once relations are known.
    pub(super) policy_exprs: Vec<&'a ast::Expr>,
}

/// A relation field and its `@relation(...)` arguments.
pub(super) struct RelAttr {
    pub(super) field: FieldId,
    pub(super) name: Option<String>,
    pub(super) fields: Option<Vec<(String, ast::Expr)>>,
    pub(super) references: Option<Vec<(String, ast::Expr)>>,
    pub(super) on_delete: Option<ReferentialAction>,
    pub(super) on_update: Option<ReferentialAction>,
    pub(super) through: Option<ast::Ident>,
    /// The `@relation` attribute, or the field's type when there is none.
    pub(super) span: Span,
}

/// Builds model `id` from its declaration.
pub(super) fn build_model<'a>(
    cx: &mut Ctx<'a>,
    id: ModelId,
    decl: &'a ast::ModelDecl,
) -> (Model, Pending<'a>) {
    let mut members = Vec::new();
    let mut traits = Vec::new();
    splice(cx, decl, &mut members, &mut traits, &mut Vec::new());

    let mut model = Model {
        id,
        name: decl.name.name.clone(),
        table: decl.name.name.clone(),
        doc: decl.doc.clone(),
        fields: Vec::new(),
        primary_key: Vec::new(),
        uniques: Vec::new(),
        indexes: Vec::new(),
        soft_delete: None,
        fts: None,
        strict: true,
        external: false,
        database: None,
        policies: Vec::new(),
        gate: None,
        log: None,
        is_auth: false,
        traits,
        attributes: Vec::new(),
        span: decl.span,
        field_index: HashMap::new(),
    };
    let mut pending = Pending::default();

    let mut field_decls: Vec<&'a ast::FieldDecl> = Vec::new();
    let mut model_attrs: Vec<&'a AttributeAst> = Vec::new();
    for m in members {
        match m {
            Member::Attribute(a) => model_attrs.push(a),
            Member::Field(f) => {
                if let Some(prev) = model.fields.iter().find(|x| x.name == f.name.name) {
                    let p = prev.span;
                    cx.error(
                        f.name.span,
                        format!(
                            "duplicate field `{}` in model `{}` (first declared at {}:{})",
                            f.name.name, model.name, p.line, p.column
                        ),
                    );
                    continue;
                }
                let fid = FieldId(model.fields.len() as u32);
                let ty = field_type(cx, f);
                model.fields.push(new_field(fid, f, ty));
                field_decls.push(f);
            }
        }
    }
    model.reindex();

    // Fields that are not columns must be known as such before any attribute
    // names a column (`@@index`, `@sequence(scope:)`, function arguments…),
    // whatever the declaration order. `@from` is provisional until the
    // relation pass resolves it.
    for (i, f) in field_decls.iter().enumerate() {
        for a in &f.attributes {
            match a.name.name.as_str() {
                "computed" => model.fields[i].computed = true,
                "from" => {
                    model.fields[i].from = Some(Derived {
                        relation: FieldId(i as u32),
                        agg: DerivedAgg::Count,
                        filter: None,
                        target: id,
                        inverse: None,
                        via_model: true,
                    })
                }
                _ => {}
            }
        }
    }

    for (i, f) in field_decls.iter().enumerate() {
        field_attributes(cx, &mut model, FieldId(i as u32), f, &mut pending);
    }
    super::models::model_attributes(cx, &mut model, &model_attrs, &mut pending);
    super::models::check_model(cx, &mut model, decl);
    (model, pending)
}

/// Replaces `@@trait(T)` with the members of `T` (recursively).
fn splice<'a>(
    cx: &mut Ctx<'a>,
    decl: &'a ast::ModelDecl,
    out: &mut Vec<&'a Member>,
    names: &mut Vec<String>,
    stack: &mut Vec<String>,
) {
    for m in &decl.members {
        let Member::Attribute(a) = m else {
            out.push(m);
            continue;
        };
        if a.name.name != "trait" {
            out.push(m);
            continue;
        }
        out.push(m);
        if a.args().is_empty() {
            cx.error(a.span, "`@@trait` needs a trait name: `@@trait(Name)`");
        }
        for arg in a.args() {
            let Some(name) = arg.value.as_ident() else {
                cx.error(arg.span, "expected a trait name");
                continue;
            };
            let Some(t) = cx.traits.get(name).copied() else {
                cx.error(arg.value.span, format!("unknown trait `{name}`"));
                continue;
            };
            if stack.iter().any(|s| s == name) {
                cx.error(
                    arg.value.span,
                    format!(
                        "trait `{name}` includes itself (cycle through {})",
                        stack.join(" → ")
                    ),
                );
                continue;
            }
            if names.iter().any(|s| s == name) {
                // Spliced already (through another trait): once is enough.
                continue;
            }
            if stack.len() >= 32 {
                cx.error(
                    arg.value.span,
                    "traits are nested too deeply (32 levels at most)",
                );
                continue;
            }
            names.push(name.to_string());
            stack.push(name.to_string());
            splice(cx, t, out, names, stack);
            stack.pop();
        }
    }
}

fn field_type(cx: &mut Ctx<'_>, f: &ast::FieldDecl) -> FieldType {
    let n = &f.ty.name.name;
    if let Some(s) = ScalarType::from_name(n) {
        return FieldType::Scalar(s);
    }
    if let Some(id) = cx.schema.enum_index.get(n) {
        return FieldType::Enum(*id);
    }
    if let Some(id) = cx.schema.type_index.get(n) {
        return FieldType::Shape(*id);
    }
    if let Some(id) = cx.model_ids.get(n) {
        return FieldType::Relation(Relation {
            target: *id,
            name: None,
            // Placeholder until the relation pass resolves it.
            kind: RelationKind::HasMany {
                inverse: FieldId(0),
            },
        });
    }
    let hint = if cx.traits.contains_key(n) {
        format!(" (`{n}` is a trait: splice it with `@@trait({n})`)")
    } else {
        String::new()
    };
    let hint = if hint.is_empty() {
        let names: Vec<String> = [
            "Integer", "Real", "Text", "Boolean", "DateTime", "Json", "Blob", "File",
        ]
        .iter()
        .map(|s| s.to_string())
        .chain(cx.schema.enums.iter().map(|e| e.name.clone()))
        .chain(cx.schema.types.iter().map(|t| t.name.clone()))
        .chain(cx.model_ids.keys().cloned())
        .collect();
        super::did_you_mean(n, "", names.iter().map(String::as_str))
    } else {
        hint
    };
    cx.error(f.ty.name.span, format!("unknown type `{n}`{hint}"));
    FieldType::Scalar(ScalarType::Json)
}

fn new_field(id: FieldId, f: &ast::FieldDecl, ty: FieldType) -> Field {
    Field {
        id,
        name: f.name.name.clone(),
        column: f.name.name.clone(),
        doc: f.doc.clone(),
        ty,
        optional: f.ty.optional,
        list: f.ty.list,
        is_id: false,
        is_unique: false,
        default: None,
        updated_at: false,
        updated_by: None,
        generated: None,
        sequence: None,
        omit: Visibility::None,
        guarded: Visibility::None,
        encrypted: None,
        log: None,
        policies: Vec::new(),
        validators: Vec::new(),
        transforms: Vec::new(),
        from: None,
        computed: false,
        hard_delete: false,
        markdown: false,
        keep_versions: false,
        accept: None,
        attributes: Vec::new(),
        span: f.span,
    }
}

fn field_attributes<'a>(
    cx: &mut Ctx<'a>,
    model: &mut Model,
    fid: FieldId,
    decl: &'a ast::FieldDecl,
    pending: &mut Pending<'a>,
) {
    let idx = fid.0 as usize;
    let is_relation = matches!(model.fields[idx].ty, FieldType::Relation(_));
    let mut relation_attr: Option<&'a AttributeAst> = None;
    if !known_type(cx, &decl.ty.name.name) {
        // Already reported; interpreting attributes would only add noise.
        model.fields[idx].attributes = decl.attributes.iter().map(exprs::attribute).collect();
        return;
    }
    for a in &decl.attributes {
        model.fields[idx].attributes.push(exprs::attribute(a));
        let name = a.name.name.as_str();
        let args = Args::new(a);
        if is_relation && !matches!(name, "relation" | "allow" | "omit" | "guarded") {
            cx.error(
                a.name.span,
                format!(
                    "`@{name}` is not allowed on relation field `{}`",
                    decl.name.name
                ),
            );
            continue;
        }
        // A schema function wins over a same-named transform when called with arguments.
        if a.args.is_some() && cx.schema.function(name).is_some() && !is_builtin(name) {
            schema_function(cx, model, fid, a);
            continue;
        }
        match name {
            "id" => {
                args.check_shape(&[], 0, &mut cx.diags);
                model.fields[idx].is_id = true;
            }
            "unique" => {
                args.check_shape(&["name", "map"], 0, &mut cx.diags);
                model.fields[idx].is_unique = true;
                let uname = ["name", "map"]
                    .iter()
                    .find_map(|k| args.named(k))
                    .and_then(|a| a.value.as_str().map(str::to_string));
                model.uniques.push(UniqueConstraint {
                    fields: vec![fid],
                    name: uname,
                });
            }
            "default" => {
                args.check_shape(&[], 1, &mut cx.diags);
                match args.positional().first() {
                    Some(arg) => {
                        if let Some(d) = default_value(cx, model, fid, &arg.value) {
                            model.fields[idx].default = Some(d);
                        }
                    }
                    None => cx.error(a.span, "`@default` needs a value"),
                }
            }
            "relation" => {
                if !is_relation && known_type(cx, &decl.ty.name.name) {
                    cx.error(
                        a.name.span,
                        format!(
                            "`@relation` on `{}`, which is not a relation field (its type is not a model)",
                            decl.name.name
                        ),
                    );
                    continue;
                }
                if is_relation {
                    relation_attr = Some(a);
                }
            }
            "generated" => {
                args.check_shape(&["stored"], 2, &mut cx.diags);
                let pos = args.positional();
                let Some(sql) = pos.first().and_then(|p| p.value.as_str()) else {
                    cx.error(a.span, "`@generated` needs a SQL expression string");
                    continue;
                };
                let mut stored = true;
                if let Some(kind) = pos.get(1) {
                    match kind.value.as_ident() {
                        Some("stored") => stored = true,
                        Some("virtual") => stored = false,
                        _ => cx.error(kind.span, "expected `stored` or `virtual`"),
                    }
                }
                if let Some(s) = args.named("stored") {
                    match s.value.kind {
                        ExprKind::Bool(b) => stored = b,
                        _ => cx.error(s.value.span, "expected `true` or `false`"),
                    }
                }
                model.fields[idx].generated = Some(Generated {
                    expr: sql.to_string(),
                    stored,
                    function: None,
                });
            }
            "computed" => {
                args.check_shape(&[], 0, &mut cx.diags);
                model.fields[idx].computed = true;
            }
            "updatedAt" => {
                args.check_shape(&[], 0, &mut cx.diags);
                if model.fields[idx].ty != FieldType::Scalar(ScalarType::DateTime) {
                    cx.error(a.name.span, "`@updatedAt` needs a DateTime field");
                }
                model.fields[idx].updated_at = true;
            }
            "updatedBy" => {
                args.check_shape(&[], 1, &mut cx.diags);
                let path = match args.positional().first() {
                    None => Some(vec!["id".to_string()]),
                    Some(arg) => match exprs::call_path(&arg.value) {
                        Some((n, call_args, path))
                            if n.name == "auth" && call_args.is_empty() && !path.is_empty() =>
                        {
                            Some(path)
                        }
                        _ => {
                            cx.error(arg.value.span, "expected `auth().field`");
                            None
                        }
                    },
                };
                model.fields[idx].updated_by = path;
            }
            "sequence" => {
                args.check_shape(&["scope"], 1, &mut cx.diags);
                if model.fields[idx].ty != FieldType::Scalar(ScalarType::Integer) {
                    cx.error(a.name.span, "`@sequence` needs an Integer field");
                }
                let scope_arg = args.named("scope").or(args.positional().first().copied());
                let scope = match scope_arg {
                    None => None,
                    Some(s) => match s.value.as_ident() {
                        Some(n) => match model.field_index.get(n) {
                            Some(id) if model.fields[id.0 as usize].is_column() => Some(*id),
                            Some(_) => {
                                cx.error(
                                    s.value.span,
                                    format!(
                                        "`@sequence` scope `{n}` is not a stored column of model `{}`",
                                        model.name
                                    ),
                                );
                                None
                            }
                            None => {
                                cx.error(
                                    s.value.span,
                                    format!(
                                        "`@sequence` scope names unknown field `{n}` on model `{}`",
                                        model.name
                                    ),
                                );
                                None
                            }
                        },
                        None => {
                            cx.error(s.value.span, "expected a field name");
                            None
                        }
                    },
                };
                model.fields[idx].sequence = Some(Sequence { scope });
            }
            "map" => {
                args.check_shape(&[], 1, &mut cx.diags);
                match args.positional().first().and_then(|p| p.value.as_str()) {
                    Some(s) if !s.is_empty() => model.fields[idx].column = s.to_string(),
                    _ => cx.error(a.span, "`@map` needs a column name string"),
                }
            }
            "omit" | "guarded" => {
                args.check_shape(&[], 1, &mut cx.diags);
                let level = match args.positional().first() {
                    None => Visibility::Default,
                    Some(p) if p.value.as_ident() == Some("all") => Visibility::All,
                    Some(p) => {
                        cx.error(p.value.span, "expected `all`");
                        Visibility::Default
                    }
                };
                let f = &mut model.fields[idx];
                if name == "omit" {
                    f.omit = level;
                } else {
                    f.guarded = max_vis(f.guarded, level);
                }
            }
            "encrypted" => {
                args.check_shape(&["searchable"], 0, &mut cx.diags);
                let searchable = match args.named("searchable") {
                    None => false,
                    Some(s) => match s.value.kind {
                        ExprKind::Bool(b) => b,
                        _ => {
                            cx.error(s.value.span, "expected `true` or `false`");
                            false
                        }
                    },
                };
                let f = &mut model.fields[idx];
                f.encrypted = Some(Encrypted { searchable });
                f.guarded = Visibility::All;
            }
            "secret" => {
                args.check_shape(&[], 0, &mut cx.diags);
                let log = cx
                    .schema
                    .databases
                    .iter()
                    .find(|d| d.driver == Driver::Logger)
                    .map(|d| d.name.clone())
                    .unwrap_or_else(|| "audit".into());
                let f = &mut model.fields[idx];
                f.encrypted = Some(f.encrypted.unwrap_or(Encrypted { searchable: false }));
                f.guarded = Visibility::All;
                f.log.get_or_insert(log);
            }
            "allow" => {
                if let Some(p) = policy(cx, a, PolicyEffect::Allow, true) {
                    if p.ops.iter().any(|o| matches!(o, PolicyOp::Delete)) {
                        cx.error(
                            a.span,
                            "field policies cover 'read', 'create', 'update', 'write' or 'all' (not 'delete')",
                        );
                        continue;
                    }
                    if let Some(arg) = a.args().get(1) {
                        pending.policy_exprs.push(&arg.value);
                    }
                    model.fields[idx].policies.push(p);
                }
            }
            "log" => {
                if let Some(db) = log_target(cx, a) {
                    model.fields[idx].log = Some(db);
                }
            }
            "keepVersions" => {
                args.check_shape(&[], 0, &mut cx.diags);
                if model.fields[idx].ty != FieldType::Scalar(ScalarType::File) {
                    cx.error(a.name.span, "`@keepVersions` needs a File field");
                }
                model.fields[idx].keep_versions = true;
            }
            "accept" => {
                args.check_shape(&[], 1, &mut cx.diags);
                if model.fields[idx].ty != FieldType::Scalar(ScalarType::File) {
                    cx.error(a.name.span, "`@accept` needs a File field");
                }
                match args.positional().first().and_then(|p| p.value.as_str()) {
                    Some(s) => model.fields[idx].accept = Some(s.to_string()),
                    None => cx.error(a.span, "`@accept` needs a MIME type string"),
                }
            }
            "markdown" => {
                args.check_shape(&[], 0, &mut cx.diags);
                model.fields[idx].markdown = true;
            }
            "hardDelete" => {
                args.check_shape(&[], 0, &mut cx.diags);
                model.fields[idx].hard_delete = true;
            }
            "from" => pending.froms.push((fid, a)),
            "trim" | "lower" | "upper" | "slug" => {
                if !a.args().is_empty() {
                    // Transforms take no arguments: with arguments this can
                    // only be a call of a schema function, and there is none.
                    cx.error(
                        a.name.span,
                        format!(
                            "`@{name}` takes no arguments; `@{name}(...)` needs a schema function `{name}` (declare it with `function {name}(...)`)"
                        ),
                    );
                    continue;
                }
                model.fields[idx].transforms.push(match name {
                    "trim" => Transform::Trim,
                    "lower" => Transform::Lower,
                    "upper" => Transform::Upper,
                    _ => Transform::Slug,
                });
            }
            _ => match validator(cx, a) {
                Some(Ok(v)) => model.fields[idx].validators.push(v),
                Some(Err(())) => {}
                None => {
                    let functions: Vec<String> =
                        cx.schema.functions.iter().map(|f| f.name.clone()).collect();
                    let hint = super::did_you_mean(
                        name,
                        "@",
                        super::FIELD_ATTRIBUTES
                            .iter()
                            .copied()
                            .chain(functions.iter().map(String::as_str)),
                    );
                    if a.args.is_some() {
                        cx.error(
                            a.name.span,
                            format!(
                                "unknown function `{name}`: no built-in attribute or schema function has that name{hint}"
                            ),
                        );
                    } else {
                        cx.error(a.name.span, format!("unknown attribute `@{name}`{hint}"));
                    }
                }
            },
        }
    }
    if is_relation {
        pending
            .relations
            .push(relation_attr_args(cx, fid, decl, relation_attr));
    }
}

/// Whether a type name resolves (unknown types were already reported).
fn known_type(cx: &Ctx<'_>, name: &str) -> bool {
    ScalarType::from_name(name).is_some()
        || cx.schema.enum_index.contains_key(name)
        || cx.schema.type_index.contains_key(name)
        || cx.model_ids.contains_key(name)
}

/// Built-in field attributes a schema function may not shadow (transforms
/// and validators may: a call with arguments picks the function).
pub(super) fn is_builtin(name: &str) -> bool {
    matches!(
        name,
        "id" | "unique"
            | "default"
            | "relation"
            | "generated"
            | "computed"
            | "updatedAt"
            | "updatedBy"
            | "sequence"
            | "map"
            | "omit"
            | "guarded"
            | "encrypted"
            | "secret"
            | "allow"
            | "log"
            | "keepVersions"
            | "accept"
            | "markdown"
            | "hardDelete"
            | "from"
    )
}

fn max_vis(a: Visibility, b: Visibility) -> Visibility {
    match (a, b) {
        (Visibility::All, _) | (_, Visibility::All) => Visibility::All,
        (Visibility::Default, _) | (_, Visibility::Default) => Visibility::Default,
        _ => Visibility::None,
    }
}

/// `@log(db)` / `@@log(db)`: the database name. With database blocks
/// declared it must name one of them; without, any name is accepted (the
/// runtime creates a logger for it).
pub(super) fn log_target(cx: &mut Ctx<'_>, a: &AttributeAst) -> Option<String> {
    let args = Args::new(a);
    args.check_shape(&[], 1, &mut cx.diags);
    let Some(arg) = args.positional().first().copied() else {
        cx.error(
            a.span,
            format!("`{}` needs a database name", display_name(a)),
        );
        return None;
    };
    let Some(name) = arg.value.as_ident().or(arg.value.as_str()) else {
        cx.error(arg.value.span, "expected a database name");
        return None;
    };
    if !cx.schema.databases.is_empty() {
        match cx.schema.databases.iter().find(|d| d.name == name) {
            None => {
                cx.error(arg.value.span, format!("unknown database `{name}`"));
                return None;
            }
            Some(d) if d.driver != Driver::Logger => {
                cx.error(
                    arg.value.span,
                    format!(
                        "`{}` logs to `{name}`, which is not a `driver logger` database",
                        display_name(a)
                    ),
                );
                return None;
            }
            Some(_) => {}
        }
    }
    Some(name.to_string())
}

/// `@allow` / `@@allow` / `@@deny`: `(ops, condition, message?)`.
pub(super) fn policy(
    cx: &mut Ctx<'_>,
    a: &AttributeAst,
    effect: PolicyEffect,
    field_level: bool,
) -> Option<Policy> {
    let args = Args::new(a);
    args.check_shape(&[], if field_level { 2 } else { 3 }, &mut cx.diags);
    let pos = args.positional();
    let (Some(ops_arg), Some(cond)) = (pos.first(), pos.get(1)) else {
        cx.error(
            a.span,
            format!(
                "`{}` needs an operation and a condition, e.g. `{}('read', auth() != null)`",
                display_name(a),
                display_name(a)
            ),
        );
        return None;
    };
    let Some(ops_text) = ops_arg.value.as_str().or(ops_arg.value.as_ident()) else {
        cx.error(
            ops_arg.value.span,
            "expected the operations as a string like 'read'",
        );
        return None;
    };
    let mut ops = Vec::new();
    for op in ops_text.split(',').map(str::trim) {
        let parsed = match op {
            "read" => PolicyOp::Read,
            "create" => PolicyOp::Create,
            "update" => PolicyOp::Update,
            "delete" => PolicyOp::Delete,
            "write" => PolicyOp::Write,
            "all" => PolicyOp::All,
            other => {
                cx.error(
                    ops_arg.value.span,
                    format!(
                        "unknown operation `{other}` (expected read, create, update, delete, write or all)"
                    ),
                );
                return None;
            }
        };
        if !ops.contains(&parsed) {
            ops.push(parsed);
        }
    }
    let expr = match exprs::policy_expr(&cond.value) {
        Ok(e) => e,
        Err(d) => {
            cx.diags.push(d);
            return None;
        }
    };
    let message = match pos.get(2) {
        None => None,
        Some(m) => match m.value.as_str() {
            Some(s) => Some(s.to_string()),
            None => {
                cx.error(m.value.span, "expected a message string");
                None
            }
        },
    };
    Some(Policy {
        effect,
        ops,
        expr,
        message,
        span: a.span,
    })
}

/// Validators shared by model fields and typed JSON shape keys.
/// `None` when `a` is not a validator; `Some(Err)` when it is but is malformed
/// (already reported).
pub(super) fn validator(cx: &mut Ctx<'_>, a: &AttributeAst) -> Option<Result<Validator, ()>> {
    let args = Args::new(a);
    let name = a.name.name.as_str();
    let simple = match name {
        "email" => Some(Validator::Email),
        "url" => Some(Validator::Url),
        "date" => Some(Validator::Date),
        "datetime" => Some(Validator::DateTime),
        "phone" => Some(Validator::Phone),
        _ => None,
    };
    if let Some(v) = simple {
        args.check_shape(&[], 0, &mut cx.diags);
        return Some(Ok(v));
    }
    let one_str = |cx: &mut Ctx<'_>| -> Result<String, ()> {
        args.check_shape(&[], 1, &mut cx.diags);
        match args.positional().first().and_then(|p| p.value.as_str()) {
            Some(s) => Ok(s.to_string()),
            None => {
                cx.error(a.span, format!("`@{name}` needs a string argument"));
                Err(())
            }
        }
    };
    let one_num = |cx: &mut Ctx<'_>| -> Result<f64, ()> {
        args.check_shape(&[], 1, &mut cx.diags);
        match args.positional().first().map(|p| &p.value.kind) {
            Some(ExprKind::Number(n)) => Ok(*n),
            _ => {
                cx.error(a.span, format!("`@{name}` needs a number argument"));
                Err(())
            }
        }
    };
    Some(match name {
        "regex" => one_str(cx).map(Validator::Regex),
        "startsWith" => one_str(cx).map(Validator::StartsWith),
        "endsWith" => one_str(cx).map(Validator::EndsWith),
        "contains" => one_str(cx).map(Validator::Contains),
        "gt" => one_num(cx).map(Validator::Gt),
        "gte" => one_num(cx).map(Validator::Gte),
        "lt" => one_num(cx).map(Validator::Lt),
        "lte" => one_num(cx).map(Validator::Lte),
        "length" => {
            args.check_shape(&["min", "max"], 2, &mut cx.diags);
            let pos = args.positional();
            let mut get = |arg: Option<&ast::Arg>| -> Result<Option<u64>, ()> {
                match arg.map(|a| &a.value.kind) {
                    None => Ok(None),
                    Some(ExprKind::Number(n)) if *n >= 0.0 && n.fract() == 0.0 => {
                        Ok(Some(*n as u64))
                    }
                    Some(ExprKind::Null) => Ok(None),
                    Some(_) => {
                        cx.error(a.span, "`@length` bounds must be whole numbers");
                        Err(())
                    }
                }
            };
            let min = get(args.named("min").or(pos.first().copied()));
            let max = get(args.named("max").or(pos.get(1).copied()));
            match (min, max) {
                (Ok(min), Ok(max)) => {
                    if min.is_none() && max.is_none() {
                        cx.error(a.span, "`@length` needs a minimum and/or a maximum");
                        Err(())
                    } else if min.zip(max).is_some_and(|(lo, hi)| lo > hi) {
                        cx.error(a.span, "`@length` minimum is greater than its maximum");
                        Err(())
                    } else {
                        Ok(Validator::Length { min, max })
                    }
                }
                _ => Err(()),
            }
        }
        _ => return None,
    })
}

fn default_value(
    cx: &mut Ctx<'_>,
    model: &Model,
    fid: FieldId,
    e: &ast::Expr,
) -> Option<DefaultValue> {
    let field = &model.fields[fid.0 as usize];
    let ty = field.ty.clone();
    let scalar = field.scalar();
    let type_name = match &ty {
        FieldType::Scalar(s) => s.name().to_string(),
        FieldType::Enum(id) => cx.schema.enums[id.0 as usize].name.clone(),
        FieldType::Shape(id) => cx.schema.types[id.0 as usize].name.clone(),
        FieldType::Relation(_) => "relation".into(),
    };
    let mismatch = |cx: &mut Ctx<'_>, what: &str| {
        cx.error(
            e.span,
            format!(
                "default value type mismatch: {what} for field `{}` of type {type_name}",
                field.name
            ),
        );
        None
    };
    if field.list {
        return match literal(e) {
            Some(v @ Value::Array(_)) => Some(DefaultValue::Literal(v)),
            _ => mismatch(cx, "expected a list like `[]`"),
        };
    }
    match &e.kind {
        ExprKind::Str(s) => match &ty {
            FieldType::Enum(id) => {
                let en = &cx.schema.enums[id.0 as usize];
                if en.values.contains(s) {
                    Some(DefaultValue::Literal(Value::String(s.clone())))
                } else {
                    cx.error(
                        e.span,
                        format!("`{s}` is not a value of enum `{}`", en.name),
                    );
                    None
                }
            }
            FieldType::Scalar(
                ScalarType::Text | ScalarType::DateTime | ScalarType::Json | ScalarType::File,
            )
            | FieldType::Shape(_) => Some(DefaultValue::Literal(Value::String(s.clone()))),
            _ => mismatch(cx, "a string"),
        },
        ExprKind::Number(n) => match scalar {
            Some(ScalarType::Integer) if n.fract() == 0.0 => {
                Some(DefaultValue::Literal(exprs::number(*n)))
            }
            Some(ScalarType::Real) => Some(DefaultValue::Literal(
                serde_json::Number::from_f64(*n)
                    .map(Value::Number)
                    .unwrap_or(Value::Null),
            )),
            _ => mismatch(cx, "a number"),
        },
        ExprKind::Bool(b) => match scalar {
            Some(ScalarType::Boolean) => Some(DefaultValue::Literal(Value::Bool(*b))),
            _ => mismatch(cx, "a boolean"),
        },
        ExprKind::Null => {
            if field.optional {
                Some(DefaultValue::Literal(Value::Null))
            } else {
                mismatch(cx, "`null` on a required field")
            }
        }
        ExprKind::Ident(s) => {
            if let FieldType::Enum(id) = &ty {
                let en = &cx.schema.enums[id.0 as usize];
                if en.values.contains(s) {
                    return Some(DefaultValue::Literal(Value::String(s.clone())));
                }
            }
            match model.field_index.get(s) {
                Some(other) if *other != fid && model.fields[other.0 as usize].is_column() => {
                    Some(DefaultValue::Field(*other))
                }
                _ => {
                    let msg = match &ty {
                        FieldType::Enum(id) => format!(
                            "`{s}` is not a value of enum `{}` nor a field of model `{}`",
                            cx.schema.enums[id.0 as usize].name, model.name
                        ),
                        _ if model.field_index.contains_key(s) => {
                            format!("`{s}` is not a stored column of model `{}`", model.name)
                        }
                        _ => format!("`{s}` is not a field of model `{}`", model.name),
                    };
                    let msg = if matches!(
                        s.as_str(),
                        "now" | "uuid" | "ulid" | "nanoid" | "autoincrement" | "auth"
                    ) {
                        format!("{msg} (did you mean `{s}()`?)")
                    } else {
                        msg
                    };
                    cx.error(e.span, msg);
                    None
                }
            }
        }
        ExprKind::Call(..) | ExprKind::Member(..) => {
            let Some((name, args, path)) = exprs::call_path(e) else {
                cx.error(e.span, "unsupported default value");
                return None;
            };
            let no_args = |cx: &mut Ctx<'_>| {
                if !args.is_empty() || !path.is_empty() {
                    cx.error(e.span, format!("`{}()` takes no arguments", name.name));
                }
            };
            match name.name.as_str() {
                "now" => {
                    no_args(cx);
                    match scalar {
                        Some(ScalarType::DateTime | ScalarType::Text) => Some(DefaultValue::Now),
                        _ => mismatch(cx, "`now()`"),
                    }
                }
                "uuid" | "ulid" | "nanoid" | "cuid" => {
                    no_args(cx);
                    match scalar {
                        Some(ScalarType::Text) => Some(match name.name.as_str() {
                            "uuid" => DefaultValue::Uuid,
                            "ulid" => DefaultValue::Ulid,
                            _ => DefaultValue::Nanoid,
                        }),
                        _ => mismatch(cx, &format!("`{}()`", name.name)),
                    }
                }
                "autoincrement" => {
                    no_args(cx);
                    match scalar {
                        Some(ScalarType::Integer) => Some(DefaultValue::Autoincrement),
                        _ => mismatch(cx, "`autoincrement()`"),
                    }
                }
                "auth" if args.is_empty() => Some(DefaultValue::Auth(path)),
                "env" if path.is_empty() => match args {
                    [var] | [var, _] if var.as_str().is_some() => Some(DefaultValue::Env {
                        var: var.as_str().unwrap_or_default().to_string(),
                        fallback: args.get(1).and_then(literal),
                    }),
                    _ => {
                        cx.error(e.span, "expected `env(\"VAR\")` or `env(\"VAR\", default)`");
                        None
                    }
                },
                "dbgenerated" | "sql" if path.is_empty() => match args {
                    [s] if s.as_str().is_some() => Some(DefaultValue::Sql(
                        s.as_str().unwrap_or_default().to_string(),
                    )),
                    _ => {
                        cx.error(e.span, format!("`{}` needs one SQL string", name.name));
                        None
                    }
                },
                other => {
                    cx.error(
                        name.span,
                        format!(
                            "unknown default function `{other}()` (expected now, uuid, ulid, nanoid, autoincrement, auth, env or dbgenerated)"
                        ),
                    );
                    None
                }
            }
        }
        _ => {
            cx.error(e.span, "unsupported default value");
            None
        }
    }
}

/// A literal expression as JSON (arrays of literals included).
fn literal(e: &ast::Expr) -> Option<Value> {
    Some(match &e.kind {
        ExprKind::Str(s) => Value::String(s.clone()),
        ExprKind::Number(n) => exprs::number(*n),
        ExprKind::Bool(b) => Value::Bool(*b),
        ExprKind::Null => Value::Null,
        ExprKind::Ident(s) => Value::String(s.clone()),
        ExprKind::Array(items) => Value::Array(items.iter().map(literal).collect::<Option<_>>()?),
        _ => return None,
    })
}

/// `@fn(args)` for a schema function: a STORED generated column.
fn schema_function(cx: &mut Ctx<'_>, model: &mut Model, fid: FieldId, a: &AttributeAst) {
    let name = a.name.name.as_str();
    let Some(func) = cx.schema.function(name).cloned() else {
        return;
    };
    let args = a.args();
    if args.len() != func.params.len() || args.iter().any(|x| x.name.is_some()) {
        cx.error(
            a.span,
            format!(
                "function `{name}` takes {} argument{} ({}), found {}",
                func.params.len(),
                if func.params.len() == 1 { "" } else { "s" },
                func.params
                    .iter()
                    .map(|(p, t)| format!("{p}: {t}"))
                    .collect::<Vec<_>>()
                    .join(", "),
                args.len()
            ),
        );
        return;
    }
    let field = &model.fields[fid.0 as usize];
    let field_type = match &field.ty {
        FieldType::Scalar(s) if !field.list => Some(s.name()),
        _ => None,
    };
    if field_type != Some(func.returns.as_str())
        && !(field_type.is_some() && cx.schema.enum_index.contains_key(&func.returns))
    {
        cx.error(
            a.name.span,
            format!(
                "function `{name}` returns {} but field `{}` is not {}",
                func.returns, field.name, func.returns
            ),
        );
        return;
    }
    let mut bound = HashMap::new();
    for ((param, _), arg) in func.params.iter().zip(args) {
        let sql = match &arg.value.kind {
            ExprKind::Ident(n) => match model.field_index.get(n) {
                Some(id) if model.fields[id.0 as usize].is_column() && *id != fid => {
                    crate::ddl::quote_ident(&model.fields[id.0 as usize].column)
                }
                _ => {
                    cx.error(
                        arg.value.span,
                        format!(
                            "`{n}` is not a column of model `{}` (argument `{param}` of `{name}`)",
                            model.name
                        ),
                    );
                    return;
                }
            },
            ExprKind::Str(s) => format!("'{}'", s.replace('\'', "''")),
            ExprKind::Number(n) => exprs::number(*n).to_string(),
            _ => {
                cx.error(arg.value.span, "expected a field name or a literal");
                return;
            }
        };
        bound.insert(param.clone(), sql);
    }
    let mut expr = String::new();
    let mut rest = func.expr.as_str();
    while let Some(i) = rest.find('{') {
        expr.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        match after
            .find('}')
            .and_then(|j| bound.get(&after[..j]).map(|v| (j, v)))
        {
            Some((j, v)) => {
                expr.push_str(v);
                rest = &after[j + 1..];
            }
            None => {
                expr.push('{');
                rest = after;
            }
        }
    }
    expr.push_str(rest);
    model.fields[fid.0 as usize].generated = Some(Generated {
        expr,
        stored: true,
        function: Some(name.to_string()),
    });
}

fn relation_attr_args(
    cx: &mut Ctx<'_>,
    fid: FieldId,
    decl: &ast::FieldDecl,
    attr: Option<&AttributeAst>,
) -> RelAttr {
    let mut r = RelAttr {
        field: fid,
        name: None,
        fields: None,
        references: None,
        on_delete: None,
        on_update: None,
        through: None,
        span: attr.map(|a| a.span).unwrap_or(decl.ty.span),
    };
    let Some(a) = attr else { return r };
    let args = Args::new(a);
    args.check_shape(
        &[
            "name",
            "fields",
            "references",
            "onDelete",
            "onUpdate",
            "through",
            "map",
        ],
        1,
        &mut cx.diags,
    );
    let name_arg = args.named("name").or(args.positional().first().copied());
    if let Some(n) = name_arg {
        match n.value.as_str().or(n.value.as_ident()) {
            Some(s) => r.name = Some(s.to_string()),
            None => cx.error(n.value.span, "expected a relation name string"),
        }
    }
    for (key, slot) in [("fields", &mut r.fields), ("references", &mut r.references)] {
        if let Some(arg) = args.named(key) {
            match exprs::name_list(&arg.value) {
                Ok(list) if !list.is_empty() => *slot = Some(list),
                Ok(_) => cx.error(arg.value.span, format!("`{key}` needs at least one field")),
                Err(d) => cx.diags.push(d),
            }
        }
    }
    for (key, slot) in [
        ("onDelete", &mut r.on_delete),
        ("onUpdate", &mut r.on_update),
    ] {
        if let Some(arg) = args.named(key) {
            let action = match arg.value.as_ident().or(arg.value.as_str()) {
                Some("Cascade" | "cascade" | "CASCADE") => Some(ReferentialAction::Cascade),
                Some("Restrict" | "restrict" | "RESTRICT") => Some(ReferentialAction::Restrict),
                Some("NoAction" | "noAction" | "NO ACTION") => Some(ReferentialAction::NoAction),
                Some("SetNull" | "setNull" | "SET NULL") => Some(ReferentialAction::SetNull),
                Some("SetDefault" | "setDefault" | "SET DEFAULT") => {
                    Some(ReferentialAction::SetDefault)
                }
                _ => {
                    cx.error(
                        arg.value.span,
                        format!(
                            "unknown `{key}` action (expected Cascade, Restrict, NoAction, SetNull or SetDefault)"
                        ),
                    );
                    None
                }
            };
            *slot = action;
        }
    }
    if let Some(arg) = args.named("through") {
        match arg.value.as_ident() {
            Some(n) => {
                r.through = Some(ast::Ident {
                    name: n.to_string(),
                    span: arg.value.span,
                })
            }
            None => cx.error(arg.value.span, "expected a join model name"),
        }
    }
    r
}
