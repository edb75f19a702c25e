//! Pass 4: relations, `@from` and policy field paths (everything that needs
//! every model built).
//!
//! Decisions:
//! - **belongsTo**: a relation field with `@relation(fields: [...],
//!   references: [...])`. `references` defaults to the target's primary key.
//!   The referenced fields must be the target's primary key or one of its
//!   unique constraints (SQLite rejects foreign keys to anything else at
//!   write time), and each FK field must have the type of the field it
//!   references.
//! - **back-relations**: a relation field without `fields` pairs with the
//!   belongsTo on the target that points back at this model (same
//!   `@relation` name, or both unnamed). A list field becomes `HasMany`, a
//!   single field `HasOne` (whose foreign key must be `@unique`). Several
//!   candidates are an error asking for `@relation("name")`.
//! - **implicit many-to-many**: two list fields pointing at each other with no
//!   foreign key (`tags tags[]` ↔ `posts posts[]`). The join table is
//!   `_<A>To<B>` (model names in byte order, e.g. `_postsTotags`), or
//!   `_<name>` when the relation is named; column `A` references the first
//!   model's primary key and `B` the second's. For a self-relation the field
//!   whose name sorts first is side `A`.
//! - **explicit many-to-many**: `tags tags[] @relation(through: postTags)`
//!   where `postTags` is a model with a belongsTo to each side; the join
//!   table is that model's table and its FK columns.
//! - **`@from(x, ...)`**: `x` is a relation field of the model, or the name of
//!   a model with a belongsTo pointing at this one (the README's
//!   `@from(orders, sum: amount)` form).

use super::super::ast::{self, ExprKind};
use super::super::model::*;
use super::super::span::Span;
use super::Ctx;
use super::exprs::Args;
use super::fields::{Pending, RelAttr};

/// Snapshot of one relation field, for pairing.
#[derive(Clone)]
struct RelInfo {
    model: ModelId,
    field: FieldId,
    target: ModelId,
    name: Option<String>,
    belongs_to: bool,
    list: bool,
    through: bool,
}

pub(super) fn resolve(cx: &mut Ctx<'_>, pendings: &[Pending<'_>]) {
    // A: belongsTo.
    let mut infos = Vec::new();
    for (mi, p) in pendings.iter().enumerate() {
        let mid = ModelId(mi as u32);
        for r in &p.relations {
            let f = &cx.schema.models[mi].fields[r.field.0 as usize];
            let Some(rel) = f.relation() else { continue };
            let target = rel.target;
            let list = f.list;
            let belongs_to = r.fields.is_some() || r.references.is_some();
            if belongs_to {
                belongs_to_relation(cx, mid, r, target);
            }
            if let FieldType::Relation(rel) =
                &mut cx.schema.models[mi].fields[r.field.0 as usize].ty
            {
                rel.name = r.name.clone();
            }
            infos.push(RelInfo {
                model: mid,
                field: r.field,
                target,
                name: r.name.clone(),
                belongs_to,
                list,
                through: r.through.is_some(),
            });
        }
    }
    // B: back-relations and many-to-many.
    for (mi, p) in pendings.iter().enumerate() {
        for r in &p.relations {
            let me = infos
                .iter()
                .find(|i| i.model.0 as usize == mi && i.field == r.field)
                .cloned();
            let Some(me) = me else { continue };
            if me.belongs_to {
                continue;
            }
            let kind = match &r.through {
                Some(j) => explicit_m2m(cx, &me, j),
                None => back_relation(cx, &me, r, &infos),
            };
            if let Some(kind) = kind {
                if let FieldType::Relation(rel) =
                    &mut cx.schema.models[mi].fields[r.field.0 as usize].ty
                {
                    rel.kind = kind;
                }
            }
        }
    }
    // C: @from.
    for (mi, p) in pendings.iter().enumerate() {
        for (fid, a) in &p.froms {
            let d = derived(cx, ModelId(mi as u32), *fid, a);
            cx.schema.models[mi].fields[fid.0 as usize].from = d;
        }
    }
    // E: the auth model.
    check_auth(cx, pendings);
    // D: policy field paths; `check(model, ...)` → `check(relationField, ...)`.
    for (mi, p) in pendings.iter().enumerate() {
        for e in &p.policy_exprs {
            check_policy_paths(cx, ModelId(mi as u32), e);
        }
        let mid = ModelId(mi as u32);
        let mut policies = std::mem::take(&mut cx.schema.models[mi].policies);
        for p in &mut policies {
            normalize_checks(cx, mid, &mut p.expr);
        }
        cx.schema.models[mi].policies = policies;
        for fi in 0..cx.schema.models[mi].fields.len() {
            let mut policies = std::mem::take(&mut cx.schema.models[mi].fields[fi].policies);
            for p in &mut policies {
                normalize_checks(cx, mid, &mut p.expr);
            }
            cx.schema.models[mi].fields[fi].policies = policies;
        }
    }
}

/// `@@auth`: at most one model; when there is one, `auth().field` paths in
/// policies, `@default(auth().x)` and `@updatedBy(auth().x)` must name its
/// fields. (Without an `@@auth` model the auth object is free-form.)
fn check_auth(cx: &mut Ctx<'_>, pendings: &[Pending<'_>]) {
    let auth: Vec<ModelId> = cx
        .schema
        .models
        .iter()
        .filter(|m| m.is_auth)
        .map(|m| m.id)
        .collect();
    if auth.len() > 1 {
        for id in &auth[1..] {
            let m = &cx.schema.models[id.0 as usize];
            let span = m
                .attributes
                .iter()
                .find(|a| a.name == "auth")
                .map(|a| a.span)
                .unwrap_or(m.span);
            let msg = format!(
                "only one model can be `@@auth` (`{}` already is)",
                cx.schema.models[auth[0].0 as usize].name
            );
            cx.error(span, msg);
        }
        return;
    }
    let Some(auth_id) = auth.first().copied() else {
        return;
    };
    let mut uses: Vec<(Vec<String>, Span)> = Vec::new();
    for p in pendings {
        for e in &p.policy_exprs {
            auth_paths(e, &mut uses);
        }
    }
    for m in &cx.schema.models {
        for f in &m.fields {
            let span = |name: &str| {
                f.attributes
                    .iter()
                    .find(|a| a.name == name)
                    .map(|a| a.span)
                    .unwrap_or(f.span)
            };
            if let Some(DefaultValue::Auth(path)) = &f.default {
                uses.push((path.clone(), span("default")));
            }
            if let Some(path) = &f.updated_by {
                if f.attributes
                    .iter()
                    .any(|a| a.name == "updatedBy" && !a.args.is_empty())
                {
                    uses.push((path.clone(), span("updatedBy")));
                }
            }
        }
    }
    let am = &cx.schema.models[auth_id.0 as usize];
    let mut errors = Vec::new();
    for (path, span) in uses {
        let Some(first) = path.first() else { continue };
        if am.field(first).is_none() {
            errors.push((
                span,
                format!(
                    "`auth().{}`: the auth model `{}` has no field `{first}`",
                    path.join("."),
                    am.name
                ),
            ));
        }
    }
    for (span, msg) in errors {
        cx.error(span, msg);
    }
}

/// Collects `auth().a.b` paths (with their spans) in an expression.
fn auth_paths(e: &ast::Expr, out: &mut Vec<(Vec<String>, Span)>) {
    match &e.kind {
        ExprKind::Not(inner) => auth_paths(inner, out),
        ExprKind::Binary(_, l, r) => {
            auth_paths(l, out);
            auth_paths(r, out);
        }
        ExprKind::Call(name, args) if name.name == "check" => {
            for a in args {
                auth_paths(a, out);
            }
        }
        ExprKind::Member(..) => {
            if let Some((name, args, path)) = super::exprs::call_path(e) {
                if name.name == "auth" && args.is_empty() && !path.is_empty() {
                    out.push((path, e.span));
                }
            }
        }
        _ => {}
    }
}

/// The relation field and target model named by the first argument of
/// `check(x, ...)` on model `mid`: a relation field, or (as the README
/// writes it, `check(relatedModel, expr)`) a model this one has exactly one
/// relation field to.
fn check_target(cx: &Ctx<'_>, mid: ModelId, name: &str) -> Result<(String, ModelId), String> {
    let model = &cx.schema.models[mid.0 as usize];
    if let Some(r) = model.field(name).and_then(|f| f.relation()) {
        return Ok((name.to_string(), r.target));
    }
    if let Some(tid) = cx.model_ids.get(name) {
        let fields: Vec<&str> = model
            .relations()
            .filter(|(_, r)| r.target == *tid)
            .map(|(f, _)| f.name.as_str())
            .collect();
        return match fields.as_slice() {
            [one] => Ok((one.to_string(), *tid)),
            [] => Err(format!(
                "`check({name}, ...)`: model `{}` has no relation field to `{name}`",
                model.name
            )),
            many => Err(format!(
                "`check({name}, ...)`: model `{}` has several relations to `{name}` ({}); name the relation field",
                model.name,
                many.join(", ")
            )),
        };
    }
    Err(format!(
        "`check({name}, ...)`: `{name}` is not a relation field of model `{}`",
        model.name
    ))
}

/// Rewrites `check(modelName, e)` to name the relation field, recursively
/// (the inner condition is evaluated on the related model).
fn normalize_checks(cx: &Ctx<'_>, mid: ModelId, e: &mut Expr) {
    match e {
        Expr::Check { relation, expr } => {
            if let Ok((field, target)) = check_target(cx, mid, relation) {
                *relation = field;
                normalize_checks(cx, target, expr);
            }
        }
        Expr::Not(inner) => normalize_checks(cx, mid, inner),
        Expr::Binary { left, right, .. } => {
            normalize_checks(cx, mid, left);
            normalize_checks(cx, mid, right);
        }
        _ => {}
    }
}

fn field_label(cx: &Ctx<'_>, m: ModelId, f: FieldId) -> String {
    let model = &cx.schema.models[m.0 as usize];
    format!("{}.{}", model.name, model.fields[f.0 as usize].name)
}

fn type_label(cx: &Ctx<'_>, f: &Field) -> String {
    match &f.ty {
        FieldType::Scalar(s) => s.name().to_string(),
        FieldType::Enum(id) => cx.schema.enums[id.0 as usize].name.clone(),
        FieldType::Shape(id) => cx.schema.types[id.0 as usize].name.clone(),
        FieldType::Relation(r) => cx.schema.models[r.target.0 as usize].name.clone(),
    }
}

fn belongs_to_relation(cx: &mut Ctx<'_>, mid: ModelId, r: &RelAttr, target: ModelId) {
    let mi = mid.0 as usize;
    let ti = target.0 as usize;
    let fname = cx.schema.models[mi].fields[r.field.0 as usize].name.clone();
    if cx.schema.models[mi].fields[r.field.0 as usize].list {
        cx.error(
            r.span,
            format!(
                "list relation `{fname}` cannot hold the foreign key: put `@relation(fields: ..., references: ...)` on the single side"
            ),
        );
        return;
    }
    if let Some(t) = &r.through {
        cx.error(
            t.span,
            "`through:` is only for list (many-to-many) relations",
        );
    }
    let Some(fields) = &r.fields else {
        cx.error(
            r.span,
            format!("relation `{fname}` has `references` but no `fields`"),
        );
        return;
    };
    let mut ok = true;
    let mut local = Vec::new();
    for (n, e) in fields {
        match cx.schema.models[mi].field_id(n) {
            Some(id) if cx.schema.models[mi].fields[id.0 as usize].is_column() => local.push(id),
            Some(_) => {
                cx.error(
                    e.span,
                    format!("relation `{fname}`: `{n}` is not a stored column"),
                );
                ok = false;
            }
            None => {
                cx.error(
                    e.span,
                    format!(
                        "relation `{fname}` names unknown field `{n}` on model `{}`",
                        cx.schema.models[mi].name
                    ),
                );
                ok = false;
            }
        }
    }
    let mut refs = Vec::new();
    match &r.references {
        Some(list) => {
            for (n, e) in list {
                match cx.schema.models[ti].field_id(n) {
                    Some(id) if cx.schema.models[ti].fields[id.0 as usize].is_column() => {
                        refs.push(id)
                    }
                    _ => {
                        cx.error(
                            e.span,
                            format!(
                                "relation `{fname}` references unknown field `{n}` on model `{}`",
                                cx.schema.models[ti].name
                            ),
                        );
                        ok = false;
                    }
                }
            }
        }
        None => refs = cx.schema.models[ti].primary_key.clone(),
    }
    if !ok {
        return;
    }
    if local.len() != refs.len() {
        cx.error(
            r.span,
            format!(
                "relation `{fname}` has {} field(s) but references {}",
                local.len(),
                refs.len()
            ),
        );
        return;
    }
    for (l, t) in local.iter().zip(&refs) {
        let lf = &cx.schema.models[mi].fields[l.0 as usize];
        let tf = &cx.schema.models[ti].fields[t.0 as usize];
        if lf.ty != tf.ty || lf.list != tf.list {
            let msg = format!(
                "relation `{fname}`: type mismatch: `{}` is {} but references `{}` of type {}",
                field_label(cx, mid, *l),
                type_label(cx, lf),
                field_label(cx, target, *t),
                type_label(cx, tf)
            );
            cx.error(r.span, msg);
            ok = false;
        }
    }
    let tm = &cx.schema.models[ti];
    let mut sorted = refs.clone();
    sorted.sort();
    let is_key = |fields: &[FieldId]| {
        let mut s = fields.to_vec();
        s.sort();
        s == sorted
    };
    if !tm.external && !is_key(&tm.primary_key) && !tm.uniques.iter().any(|u| is_key(&u.fields)) {
        let msg = format!(
            "relation `{fname}` must reference the primary key or a unique field of `{}`",
            tm.name
        );
        cx.error(r.span, msg);
        ok = false;
    }
    let rel_optional = cx.schema.models[mi].fields[r.field.0 as usize].optional;
    let optional_fk: Vec<String> = local
        .iter()
        .map(|l| &cx.schema.models[mi].fields[l.0 as usize])
        .filter(|f| f.optional)
        .map(|f| f.name.clone())
        .collect();
    if !rel_optional && !optional_fk.is_empty() {
        let msg = format!(
            "relation `{fname}` is required but its foreign key `{}` is optional: make the relation optional (`{}?`) or the field required",
            optional_fk.join(", "),
            cx.schema.models[ti].name
        );
        cx.error(r.span, msg);
        ok = false;
    }
    if r.on_delete == Some(ReferentialAction::SetNull) && optional_fk.len() != local.len() {
        cx.error(
            r.span,
            format!("relation `{fname}`: `onDelete: SetNull` needs optional foreign key fields"),
        );
        ok = false;
    }
    if !ok {
        return;
    }
    if let FieldType::Relation(rel) = &mut cx.schema.models[mi].fields[r.field.0 as usize].ty {
        rel.kind = RelationKind::BelongsTo {
            fields: local,
            references: refs,
            on_delete: r.on_delete,
            on_update: r.on_update,
        };
    }
}

fn back_relation(
    cx: &mut Ctx<'_>,
    me: &RelInfo,
    r: &RelAttr,
    infos: &[RelInfo],
) -> Option<RelationKind> {
    let is_me = |i: &RelInfo| i.model == me.model && i.field == me.field;
    let fname = field_label(cx, me.model, me.field);
    let tname = cx.schema.models[me.target.0 as usize].name.clone();
    let bts: Vec<&RelInfo> = infos
        .iter()
        .filter(|i| {
            i.belongs_to
                && i.model == me.target
                && i.target == me.model
                && i.name == me.name
                && !is_me(i)
        })
        .collect();
    match bts.as_slice() {
        [bt] => {
            if me.list {
                return Some(RelationKind::HasMany { inverse: bt.field });
            }
            // One-to-one: the FK must be unique.
            let t = &cx.schema.models[me.target.0 as usize];
            if let Some(RelationKind::BelongsTo { fields, .. }) =
                t.fields[bt.field.0 as usize].relation().map(|x| &x.kind)
            {
                let mut s = fields.clone();
                s.sort();
                let unique = t.uniques.iter().any(|u| {
                    let mut k = u.fields.clone();
                    k.sort();
                    k == s
                }) || {
                    let mut k = t.primary_key.clone();
                    k.sort();
                    k == s
                };
                if !unique {
                    let cols: Vec<&str> = fields
                        .iter()
                        .map(|f| t.fields[f.0 as usize].name.as_str())
                        .collect();
                    cx.error(
                        r.span,
                        format!(
                            "one-to-one relation `{fname}` needs the foreign key `{}.{}` to be `@unique` (or make `{}` a list)",
                            t.name,
                            cols.join(", "),
                            cx.schema.models[me.model.0 as usize].fields[me.field.0 as usize].name
                        ),
                    );
                    return None;
                }
            }
            Some(RelationKind::HasOne { inverse: bt.field })
        }
        [] => {
            let others: Vec<&RelInfo> = infos
                .iter()
                .filter(|i| {
                    !i.belongs_to
                        && !i.through
                        && i.list
                        && i.model == me.target
                        && i.target == me.model
                        && i.name == me.name
                        && !is_me(i)
                })
                .collect();
            match (me.list, others.as_slice()) {
                (true, [other]) => implicit_m2m(cx, me, other, r),
                (true, [_, _, ..]) => {
                    cx.error(
                        r.span,
                        format!(
                            "ambiguous many-to-many relation `{fname}`: `{tname}` has several list relations back; name each pair with `@relation(\"name\")`"
                        ),
                    );
                    None
                }
                _ => {
                    // A relation back exists under another name: say so.
                    let named_back: Vec<String> = infos
                        .iter()
                        .filter(|i| {
                            i.model == me.target
                                && i.target == me.model
                                && !is_me(i)
                                && i.name != me.name
                        })
                        .map(|i| match &i.name {
                            Some(n) => format!("`{n}`"),
                            None => "no name".to_string(),
                        })
                        .collect();
                    let hint = if named_back.is_empty() {
                        format!(
                            "add `@relation(fields: [...], references: [...])` on one side{}",
                            if me.name.is_some() {
                                " with the same relation name"
                            } else {
                                ""
                            }
                        )
                    } else {
                        format!(
                            "the relations back on `{tname}` have {} — use the same `@relation(\"name\")` on both sides",
                            named_back.join(", ")
                        )
                    };
                    cx.error(
                        r.span,
                        format!("relation `{fname}` has no matching relation on `{tname}`: {hint}"),
                    );
                    None
                }
            }
        }
        many => {
            let names: Vec<String> = many
                .iter()
                .map(|i| {
                    cx.schema.models[i.model.0 as usize].fields[i.field.0 as usize]
                        .name
                        .clone()
                })
                .collect();
            cx.error(
                r.span,
                format!(
                    "ambiguous relation `{fname}`: `{tname}` has several relations back ({}); name them with `@relation(\"name\")`",
                    names.join(", ")
                ),
            );
            None
        }
    }
}

fn implicit_m2m(
    cx: &mut Ctx<'_>,
    me: &RelInfo,
    other: &RelInfo,
    r: &RelAttr,
) -> Option<RelationKind> {
    let m = &cx.schema.models[me.model.0 as usize];
    let t = &cx.schema.models[me.target.0 as usize];
    let (Some(mpk), Some(tpk)) = (m.single_pk(), t.single_pk()) else {
        let msg = format!(
            "many-to-many relation `{}.{}` needs a single-field primary key on `{}` and `{}`",
            m.name, m.fields[me.field.0 as usize].name, m.name, t.name
        );
        cx.error(r.span, msg);
        return None;
    };
    if m.database != t.database {
        let msg = format!(
            "many-to-many relation `{}.{}` joins models of different databases",
            m.name, m.fields[me.field.0 as usize].name
        );
        cx.error(r.span, msg);
        return None;
    }
    // Which side is `A`.
    let me_is_a = if me.model == me.target {
        m.fields[me.field.0 as usize].name <= t.fields[other.field.0 as usize].name
    } else {
        m.name < t.name
    };
    let (a, b) = if m.name <= t.name {
        (&m.name, &t.name)
    } else {
        (&t.name, &m.name)
    };
    let table = match &me.name {
        Some(n) => format!("_{n}"),
        None => format!("_{a}To{b}"),
    };
    let (source_column, target_column) = if me_is_a { ("A", "B") } else { ("B", "A") };
    Some(RelationKind::ManyToMany(JoinTable {
        table,
        model: None,
        source_column: source_column.into(),
        source_ref: mpk.id,
        target_column: target_column.into(),
        target_ref: tpk.id,
        implicit: true,
    }))
}

fn explicit_m2m(cx: &mut Ctx<'_>, me: &RelInfo, j: &ast::Ident) -> Option<RelationKind> {
    if !me.list {
        cx.error(
            j.span,
            "`through:` is only for list (many-to-many) relations",
        );
        return None;
    }
    let Some(jid) = cx.model_ids.get(&j.name).copied() else {
        cx.error(j.span, format!("unknown join model `{}`", j.name));
        return None;
    };
    let jm = &cx.schema.models[jid.0 as usize];
    let bts: Vec<(&Field, &Vec<FieldId>, &Vec<FieldId>, ModelId)> = jm
        .fields
        .iter()
        .filter_map(|f| match f.relation() {
            Some(Relation {
                target,
                kind:
                    RelationKind::BelongsTo {
                        fields, references, ..
                    },
                ..
            }) => Some((f, fields, references, *target)),
            _ => None,
        })
        .collect();
    let to_me: Vec<_> = bts.iter().filter(|b| b.3 == me.model).collect();
    let to_target: Vec<_> = bts.iter().filter(|b| b.3 == me.target).collect();
    let (src, dst) = if me.model == me.target {
        match to_me.as_slice() {
            [a, b] => (*a, *b),
            _ => {
                cx.error(
                    j.span,
                    format!(
                        "join model `{}` needs exactly two relations to `{}` for a self many-to-many",
                        j.name, cx.schema.models[me.model.0 as usize].name
                    ),
                );
                return None;
            }
        }
    } else {
        match (to_me.as_slice(), to_target.as_slice()) {
            ([a], [b]) => (*a, *b),
            _ => {
                cx.error(
                    j.span,
                    format!(
                        "join model `{}` needs exactly one relation (with `fields`) to `{}` and one to `{}`",
                        j.name,
                        cx.schema.models[me.model.0 as usize].name,
                        cx.schema.models[me.target.0 as usize].name
                    ),
                );
                return None;
            }
        }
    };
    if src.1.len() != 1 || dst.1.len() != 1 {
        cx.error(
            j.span,
            "join model relations must use single-column foreign keys",
        );
        return None;
    }
    Some(RelationKind::ManyToMany(JoinTable {
        table: jm.table.clone(),
        model: Some(jid),
        source_column: jm.fields[src.1[0].0 as usize].column.clone(),
        source_ref: src.2[0],
        target_column: jm.fields[dst.1[0].0 as usize].column.clone(),
        target_ref: dst.2[0],
        implicit: false,
    }))
}

fn derived(cx: &mut Ctx<'_>, mid: ModelId, fid: FieldId, a: &ast::AttributeAst) -> Option<Derived> {
    let args = Args::new(a);
    args.check_shape(
        &[
            "count", "sum", "max", "min", "first", "last", "exists", "where",
        ],
        1,
        &mut cx.diags,
    );
    let Some(first) = args.positional().first().copied() else {
        cx.error(
            a.span,
            "`@from` needs a relation: `@from(relation, count: true)`",
        );
        return None;
    };
    let Some(rel_name) = first.value.as_ident() else {
        cx.error(first.value.span, "expected a relation field or model name");
        return None;
    };
    let model = &cx.schema.models[mid.0 as usize];
    // The relation field form, else the model-name form.
    let (relation, target, inverse, via_model) = match model.field(rel_name) {
        Some(f) if f.relation().is_some() => {
            let rel = f.relation()?;
            let inverse = match &rel.kind {
                RelationKind::HasMany { inverse } | RelationKind::HasOne { inverse } => {
                    Some(*inverse)
                }
                _ => None,
            };
            (f.id, rel.target, inverse, false)
        }
        Some(_) if !cx.model_ids.contains_key(rel_name) => {
            cx.error(
                first.value.span,
                format!(
                    "`{rel_name}` is not a relation field of model `{}`",
                    model.name
                ),
            );
            return None;
        }
        _ => {
            let Some(tid) = cx.model_ids.get(rel_name).copied() else {
                cx.error(
                    first.value.span,
                    format!(
                        "`@from` names `{rel_name}`, which is neither a relation field of `{}` nor a model",
                        model.name
                    ),
                );
                return None;
            };
            let t = &cx.schema.models[tid.0 as usize];
            let bts: Vec<FieldId> = t
                .fields
                .iter()
                .filter(|f| {
                    matches!(f.relation(), Some(r) if r.target == mid && matches!(r.kind, RelationKind::BelongsTo { .. }))
                })
                .map(|f| f.id)
                .collect();
            let [inv] = bts.as_slice() else {
                cx.error(
                    first.value.span,
                    format!(
                        "`@from({rel_name}, ...)`: model `{rel_name}` needs exactly one relation with `fields` pointing at `{}` (found {})",
                        model.name,
                        bts.len()
                    ),
                );
                return None;
            };
            // Reuse a back-relation field of this model when there is one.
            let rel_field = model
                .relations()
                .find(|(_, r)| {
                    r.target == tid
                        && matches!(r.kind, RelationKind::HasMany { inverse } | RelationKind::HasOne { inverse } if inverse == *inv)
                })
                .map(|(f, _)| f.id);
            match rel_field {
                Some(rf) => (rf, tid, Some(*inv), false),
                None => (fid, tid, Some(*inv), true),
            }
        }
    };
    let t = &cx.schema.models[target.0 as usize];
    let target_field = |cx: &mut Ctx<'_>, arg: &ast::Arg| -> Option<FieldId> {
        let t = &cx.schema.models[target.0 as usize];
        match arg.value.as_ident().and_then(|n| t.field(n)) {
            Some(f) if f.is_column() => Some(f.id),
            _ => {
                let msg = format!(
                    "`{}` is not a column of model `{}`",
                    arg.value.as_ident().unwrap_or("?"),
                    t.name
                );
                cx.error(arg.value.span, msg);
                None
            }
        }
    };
    let _ = t;
    let mut agg = None;
    let mut count = 0;
    for key in ["count", "sum", "max", "min", "first", "last", "exists"] {
        let Some(arg) = args.named(key) else { continue };
        count += 1;
        let is_true = matches!(arg.value.kind, ExprKind::Bool(true));
        agg = match key {
            "count" | "exists" if is_true => Some(if key == "count" {
                DerivedAgg::Count
            } else {
                DerivedAgg::Exists
            }),
            "count" | "exists" => {
                cx.error(arg.value.span, format!("expected `{key}: true`"));
                return None;
            }
            "first" | "last" => {
                let f = if is_true {
                    None
                } else {
                    Some(target_field(cx, arg)?)
                };
                Some(if key == "first" {
                    DerivedAgg::First(f)
                } else {
                    DerivedAgg::Last(f)
                })
            }
            _ => {
                let f = target_field(cx, arg)?;
                Some(match key {
                    "sum" => DerivedAgg::Sum(f),
                    "max" => DerivedAgg::Max(f),
                    _ => DerivedAgg::Min(f),
                })
            }
        };
    }
    if count != 1 {
        cx.error(
            a.span,
            "`@from` needs exactly one of count, sum, max, min, first, last or exists",
        );
        return None;
    }
    let filter = match args.named("where") {
        None => None,
        Some(w) => match w.value.as_str() {
            Some(s) => Some(s.to_string()),
            None => {
                cx.error(w.value.span, "expected a SQL string for `where`");
                return None;
            }
        },
    };
    Some(Derived {
        relation,
        agg: agg?,
        filter,
        target,
        inverse,
        via_model,
    })
}

/// Reports field paths in a policy condition that name no field.
fn check_policy_paths(cx: &mut Ctx<'_>, mid: ModelId, e: &ast::Expr) {
    match &e.kind {
        ExprKind::Not(inner) => check_policy_paths(cx, mid, inner),
        ExprKind::Binary(_, l, r) => {
            check_policy_paths(cx, mid, l);
            check_policy_paths(cx, mid, r);
        }
        ExprKind::Call(name, args) if name.name == "check" && args.len() == 2 => {
            let Some(rel) = args[0].as_ident() else {
                return;
            };
            match check_target(cx, mid, rel) {
                Ok((_, target)) => check_policy_paths(cx, target, &args[1]),
                Err(msg) => cx.error(args[0].span, msg),
            }
        }
        ExprKind::Ident(_) | ExprKind::Member(..) => {
            let Some(path) = e.as_path() else { return };
            let mut current = mid;
            for (i, seg) in path.iter().enumerate() {
                let model = &cx.schema.models[current.0 as usize];
                let Some(f) = model.field(seg) else {
                    let msg = format!(
                        "unknown field `{seg}` of model `{}` in policy expression",
                        model.name
                    );
                    cx.error(e.span, msg);
                    return;
                };
                match &f.ty {
                    FieldType::Relation(r) => current = r.target,
                    FieldType::Scalar(ScalarType::Json) | FieldType::Shape(_) => return,
                    _ if i + 1 < path.len() => {
                        let msg = format!(
                            "`{seg}` is not a relation, so `{}` cannot be followed",
                            path.join(".")
                        );
                        cx.error(e.span, msg);
                        return;
                    }
                    _ => {}
                }
            }
        }
        _ => {}
    }
}
