//! Read arguments (`where`, `orderBy`, `limit`, `offset`, `select`,
//! `include`, `distinct`, `withDeleted`, `onlyDeleted`) → [`ReadQuery`].
//!
//! Visibility rules (README "Field attributes"): `@omit` hides a field from
//! list reads (findMany, findFirst, cursor pages, includes) and `@omit(all)`
//! from every read, unless the field is selected explicitly. `@guarded` /
//! `@guarded(all)` hide the same way unless the client is `as_system()`, and
//! an explicit `select` does not reveal a guarded field. Derived (`@from`) and
//! `@computed` fields are never selected as columns.
//!
//! Soft delete: reads of `@@softDelete` models see live rows only, unless
//! `withDeleted: true`, `onlyDeleted: true`, or the top-level `where` names
//! the soft-delete field itself (the README's `{deletedAt: {not: null}}`).

use std::sync::Arc;

use serde_json::{Map, Value};

use super::Cx;
use super::ast::{
    Include, Link, Nulls, Order, OutCol, ParentLink, ReadQuery, RelatedSort, SortValue,
};
use super::filter::{live_filter, parse_where, relation_link};
use crate::codec::Kind;
use crate::error::{Error, Result};
use crate::schema::{Field, Model, Schema, Visibility};

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

/// Options a read method accepts besides the common ones.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct ReadOpts {
    /// findMany/findFirst/includes/cursor: `@omit` applies.
    pub(crate) list: bool,
    /// Accept `limit`/`offset`.
    pub(crate) paging: bool,
    /// Accept `orderBy`.
    pub(crate) ordering: bool,
    /// Accept `select`/`include`.
    pub(crate) projection: bool,
    /// Accept `distinct`.
    pub(crate) distinct: bool,
    /// Accept `cursor`.
    pub(crate) cursor: bool,
}

/// Checks that `args` is an object (or null) with only the allowed keys.
pub(crate) fn args_object<'v>(
    args: &'v Value,
    allowed: &[&str],
    path: &str,
) -> Result<Option<&'v Map<String, Value>>> {
    match args {
        Value::Null => Ok(None),
        Value::Object(o) => {
            for k in o.keys() {
                if !allowed.contains(&k.as_str()) {
                    let msg = match k.as_str() {
                        "window" | "recursive" | "_count" | "_sum" | "_avg" | "_min" | "_max"
                        | "by" | "having" => "is not supported by this method yet".to_string(),
                        _ => format!("unknown argument (expected one of: {})", allowed.join(", ")),
                    };
                    return Err(Error::invalid_args(join(path, k), format!("`{k}` {msg}")));
                }
            }
            Ok(Some(o))
        }
        _ => Err(Error::invalid_args(path, "expected an arguments object")),
    }
}

/// The keys a read with these options accepts.
pub(crate) fn allowed_keys(opts: ReadOpts) -> Vec<&'static str> {
    let mut keys = vec!["where", "withDeleted", "onlyDeleted"];
    if opts.paging {
        keys.extend(["limit", "offset"]);
    }
    if opts.ordering {
        keys.push("orderBy");
    }
    if opts.projection {
        keys.extend(["select", "include"]);
    }
    if opts.distinct {
        keys.push("distinct");
    }
    if opts.cursor {
        keys.push("cursor");
    }
    keys
}

fn get_bool(o: &Map<String, Value>, key: &str, path: &str) -> Result<bool> {
    match o.get(key) {
        None | Some(Value::Null) => Ok(false),
        Some(Value::Bool(b)) => Ok(*b),
        Some(_) => Err(Error::invalid_args(
            join(path, key),
            "expected true or false",
        )),
    }
}

fn get_count(o: &Map<String, Value>, key: &str, path: &str) -> Result<Option<i64>> {
    match o.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => match v.as_i64() {
            Some(n) if n >= 0 => Ok(Some(n)),
            _ => Err(Error::invalid_args(
                join(path, key),
                "expected a non-negative integer",
            )),
        },
    }
}

/// The soft-delete part of a read's filter.
pub(crate) fn deleted_filter(
    model: &Model,
    o: Option<&Map<String, Value>>,
    path: &str,
) -> Result<super::ast::Filter> {
    let Some(o) = o else {
        return Ok(live_filter(model));
    };
    let mut with = get_bool(o, "withDeleted", path)?;
    let only = get_bool(o, "onlyDeleted", path)?;
    // A where that names the soft-delete field itself (`{deletedAt: {not:
    // null}}`) takes control of it: the implicit live-rows filter is dropped.
    if let (Some(sd), Some(Value::Object(w))) = (model.soft_delete, o.get("where")) {
        with |= w.contains_key(&model.field_by_id(sd.field).name);
    }
    match (model.soft_delete, with, only) {
        (Some(_), _, true) => Ok(super::ast::Filter::Not(Box::new(live_filter(model)))),
        (Some(_), true, false) => Ok(super::ast::Filter::True),
        _ => Ok(live_filter(model)),
    }
}

/// Builds the read query of `model` from its arguments object.
pub(crate) fn build(
    cx: &Cx<'_>,
    model: &Model,
    o: Option<&Map<String, Value>>,
    opts: ReadOpts,
    path: &str,
) -> Result<ReadQuery> {
    let empty = Map::new();
    let args = o.unwrap_or(&empty);
    let filter = parse_where(
        cx,
        model,
        args.get("where").unwrap_or(&Value::Null),
        &join(path, "where"),
    )?
    .and(deleted_filter(model, o, path)?)
    .and(super::policy::read_filter(cx, model)?);
    let order = if opts.ordering {
        parse_order(
            cx.schema,
            model,
            args.get("orderBy"),
            &join(path, "orderBy"),
        )?
    } else {
        Vec::new()
    };
    super::policy::check_order(cx, model, &order)?;
    let (limit, offset) = if opts.paging {
        (
            get_count(args, "limit", path)?,
            get_count(args, "offset", path)?,
        )
    } else {
        (None, None)
    };
    let distinct = opts.distinct && get_bool(args, "distinct", path)?;
    let mut q = ReadQuery {
        table: model.table.clone(),
        cols: Arc::default(),
        hidden: Vec::new(),
        filter,
        order,
        limit,
        offset,
        distinct,
        includes: Vec::new(),
        parent_link: None,
    };
    if opts.projection {
        project(
            cx,
            model,
            args.get("select"),
            args.get("include"),
            opts.list,
            path,
            &mut q,
        )?;
        // `@from` fields of included rows and cursor pages (top-level
        // `find_*` reads get theirs from the extended read in derived.rs).
        if !path.is_empty() || opts.cursor {
            add_derived(cx, model, args.get("select"), &mut q)?;
        }
    } else {
        q.cols = default_cols(cx, model, opts.list);
        super::policy::mask_cols(cx, model, &mut q.cols)?;
    }
    Ok(q)
}

/// Appends the `@from` fields of `model` that `select` asks for (all of
/// them without a select) to `q.cols` as subquery columns.
pub(crate) fn add_derived(
    cx: &Cx<'_>,
    model: &Model,
    select: Option<&Value>,
    q: &mut ReadQuery,
) -> Result<()> {
    if !model.fields.iter().any(|f| f.from.is_some()) {
        return Ok(());
    }
    let extra = super::derived::derived_cols(cx, model, select)?;
    if extra.is_empty() {
        return Ok(());
    }
    let cols = Arc::make_mut(&mut q.cols);
    for (mut c, computed) in extra {
        if let super::derived::Computed::Sub(s) = computed {
            c.column = c.key.clone();
            c.derived = Some(Box::new(s));
            cols.push(c);
        }
    }
    Ok(())
}

fn visible(cx: &Cx<'_>, f: &Field, list: bool, explicit: bool) -> bool {
    if !f.is_column() {
        return false;
    }
    let guarded = match f.guarded {
        Visibility::None => false,
        Visibility::Default => list,
        Visibility::All => true,
    };
    if guarded && !cx.system {
        return false;
    }
    if explicit {
        return true;
    }
    match f.omit {
        Visibility::None => true,
        Visibility::Default => !list,
        Visibility::All => false,
    }
}

fn out_col(cx: &Cx<'_>, f: &Field) -> OutCol {
    OutCol {
        key: Arc::from(f.name.as_str()),
        column: Arc::from(f.column.as_str()),
        kind: Kind::of(f),
        mask: None,
        count: None,
        derived: None,
        // Only with a key: the SQL function exists on this client's
        // connections then (without one, nothing was stored encrypted).
        decrypt: f.encrypted.is_some() && cx.crypto.is_some(),
    }
}

/// `_count: true | {select: {relation: true | {where}}}` → count columns.
fn relation_counts(cx: &Cx<'_>, model: &Model, v: &Value, path: &str) -> Result<Vec<OutCol>> {
    let wanted: Vec<(&Field, Option<&Value>, String)> = match v {
        Value::Bool(false) | Value::Null => Vec::new(),
        Value::Bool(true) => model
            .relations()
            .filter(|(f, _)| relation_link(cx.schema, model, f).is_ok_and(|(_, many)| many))
            .map(|(f, _)| (f, None, join(path, &f.name)))
            .collect(),
        Value::Object(o) => {
            for k in o.keys() {
                if k != "select" {
                    return Err(Error::invalid_args(join(path, k), "expected `select`"));
                }
            }
            let sp = join(path, "select");
            let Some(Value::Object(sel)) = o.get("select") else {
                return Err(Error::invalid_args(sp, "expected {relation: true}"));
            };
            let mut out = Vec::new();
            for (k, x) in sel {
                let p = join(&sp, k);
                let Some(f) = model.field(k).filter(|f| f.relation().is_some()) else {
                    return Err(Error::UnknownField {
                        model: model.name.clone(),
                        field: k.clone(),
                        path: p,
                    });
                };
                match x {
                    Value::Bool(false) | Value::Null => {}
                    Value::Bool(true) => out.push((f, None, p)),
                    Value::Object(args) => {
                        for ak in args.keys() {
                            if ak != "where" {
                                return Err(Error::invalid_args(join(&p, ak), "expected `where`"));
                            }
                        }
                        out.push((f, args.get("where"), p));
                    }
                    _ => return Err(Error::invalid_args(p, "expected true or {where}")),
                }
            }
            out
        }
        _ => {
            return Err(Error::invalid_args(
                path,
                "expected true or {select: {...}}",
            ));
        }
    };
    let mut cols = Vec::new();
    for (f, w, p) in wanted {
        let (link, many) = relation_link(cx.schema, model, f)?;
        if !many {
            return Err(Error::invalid_args(
                p,
                format!("`{}` is not a to-many relation", f.name),
            ));
        }
        let Some(rel) = f.relation() else { continue };
        let target = cx.schema.model_by_id(rel.target);
        let mut filter = live_filter(target).and(super::policy::read_filter(cx, target)?);
        if let Some(w) = w {
            filter = filter.and(parse_where(cx, target, w, &join(&p, "where"))?);
        }
        cols.push(OutCol {
            key: Arc::from(f.name.as_str()),
            column: Arc::from(""),
            kind: Kind::RAW,
            mask: None,
            count: Some(Box::new(RelatedSort {
                hops: vec![(target.table.clone(), link)],
                value: SortValue::Count,
                filter,
            })),
            derived: None,
            decrypt: false,
        });
    }
    Ok(cols)
}

/// The columns a read returns when nothing is selected; cached per client
/// by (model, list read, system).
pub(crate) fn default_cols(cx: &Cx<'_>, model: &Model, list: bool) -> Arc<Vec<OutCol>> {
    let build = || {
        Arc::new(
            model
                .fields
                .iter()
                .filter(|f| visible(cx, f, list, false))
                .map(|f| out_col(cx, f))
                .collect::<Vec<_>>(),
        )
    };
    match cx.cache {
        Some(c) => c.default_cols(model.id, list, cx.system, build),
        None => build(),
    }
}

/// Applies `select` / `include` to `q`.
#[allow(clippy::too_many_arguments)]
pub(crate) fn project(
    cx: &Cx<'_>,
    model: &Model,
    select: Option<&Value>,
    include: Option<&Value>,
    list: bool,
    path: &str,
    q: &mut ReadQuery,
) -> Result<()> {
    let mut rels: Vec<(&Field, &Value, String)> = Vec::new();
    let mut counts: Vec<OutCol> = Vec::new();
    match select {
        None | Some(Value::Null) => q.cols = default_cols(cx, model, list),
        Some(Value::Object(sel)) => {
            let sp = join(path, "select");
            let mut on = Vec::new();
            let mut off = Vec::new();
            for (key, v) in sel {
                let p = join(&sp, key);
                if key == "_count" {
                    counts.extend(relation_counts(cx, model, v, &p)?);
                    continue;
                }
                let Some(f) = model.field(key) else {
                    return Err(Error::UnknownField {
                        model: model.name.clone(),
                        field: key.clone(),
                        path: p,
                    });
                };
                if f.relation().is_some() {
                    match v {
                        Value::Bool(false) | Value::Null => {}
                        _ => rels.push((f, v, p)),
                    }
                    continue;
                }
                match v {
                    Value::Bool(true) => on.push(f.id),
                    Value::Bool(false) => off.push(f.id),
                    _ => return Err(Error::invalid_args(p, "expected true or false")),
                }
            }
            q.cols = Arc::new(
                model
                    .fields
                    .iter()
                    .filter(|f| {
                        if on.is_empty() {
                            !off.contains(&f.id) && visible(cx, f, list, false)
                        } else {
                            on.contains(&f.id) && visible(cx, f, list, true)
                        }
                    })
                    .map(|f| out_col(cx, f))
                    .collect(),
            );
        }
        Some(_) => {
            return Err(Error::invalid_args(
                join(path, "select"),
                "expected an object of field: true|false",
            ));
        }
    }
    match include {
        None | Some(Value::Null) => {}
        Some(Value::Object(inc)) => {
            let ip = join(path, "include");
            for (key, v) in inc {
                let p = join(&ip, key);
                if key == "_count" {
                    counts.extend(relation_counts(cx, model, v, &p)?);
                    continue;
                }
                let Some(f) = model.field(key) else {
                    return Err(Error::UnknownField {
                        model: model.name.clone(),
                        field: key.clone(),
                        path: p,
                    });
                };
                if f.relation().is_none() {
                    return Err(Error::invalid_args(
                        p,
                        format!("`{}.{key}` is not a relation", model.name),
                    ));
                }
                match v {
                    Value::Bool(false) | Value::Null => {}
                    _ => rels.push((f, v, p)),
                }
            }
        }
        Some(_) => {
            return Err(Error::invalid_args(
                join(path, "include"),
                "expected an object of relation: true|{…}",
            ));
        }
    }
    if !counts.is_empty() {
        Arc::make_mut(&mut q.cols).extend(counts);
    }
    super::policy::mask_cols(cx, model, &mut q.cols)?;
    for (f, v, p) in rels {
        let inc = build_include(cx, model, f, v, &p, q)?;
        q.includes.push(inc);
    }
    Ok(())
}

fn hidden_index(q: &mut ReadQuery, column: &str) -> usize {
    if let Some(i) = q.hidden.iter().position(|c| c == column) {
        return i;
    }
    q.hidden.push(column.to_string());
    q.hidden.len() - 1
}

fn build_include(
    cx: &Cx<'_>,
    model: &Model,
    f: &Field,
    v: &Value,
    path: &str,
    parent: &mut ReadQuery,
) -> Result<Include> {
    let Some(rel) = f.relation() else {
        return Err(Error::invalid_args(path, "not a relation"));
    };
    let target = cx.schema.model_by_id(rel.target);
    let (link, to_many) = relation_link(cx.schema, model, f)?;
    let args = match v {
        Value::Bool(true) => None,
        Value::Object(o) => Some(o),
        _ => {
            return Err(Error::invalid_args(
                path,
                "expected true or an object of include arguments",
            ));
        }
    };
    let opts = ReadOpts {
        list: true,
        paging: to_many,
        ordering: to_many,
        projection: true,
        distinct: false,
        cursor: false,
    };
    if let Some(o) = args {
        let keys = allowed_keys(opts);
        args_object(v, &keys, path)?;
        let _ = o;
    }
    let mut child = build(cx, target, args, opts, path)?;
    let (parent_col, plink) = match link {
        Link::Direct { pairs } => {
            // A composite key travels as one `json_array(...)` value.
            let sep = crate::sql::KEY_SEP.to_string();
            let child_col: Vec<&str> = pairs.iter().map(|(c, _)| c.as_str()).collect();
            let parent_col: Vec<&str> = pairs.iter().map(|(_, p)| p.as_str()).collect();
            (
                parent_col.join(&sep),
                ParentLink::Column(child_col.join(&sep)),
            )
        }
        Link::Through {
            table,
            source_col,
            source_ref,
            target_col,
            target_ref,
        } => (
            source_ref,
            ParentLink::Through {
                table,
                source_col,
                target_col,
                target_ref,
            },
        ),
    };
    child.parent_link = Some(plink);
    Ok(Include {
        key: f.name.clone(),
        to_many,
        parent_key: hidden_index(parent, &parent_col),
        child,
    })
}

/// Parses `orderBy`: `{f: "asc"}`, `{f: {dir, nulls}}`, or an array of those.
pub(crate) fn parse_order(
    schema: &Schema,
    model: &Model,
    v: Option<&Value>,
    path: &str,
) -> Result<Vec<Order>> {
    let mut out = Vec::new();
    match v {
        None | Some(Value::Null) => {}
        Some(Value::Array(items)) => {
            for (i, item) in items.iter().enumerate() {
                order_object(schema, model, item, &format!("{path}[{i}]"), &mut out)?;
            }
        }
        Some(item) => order_object(schema, model, item, path, &mut out)?,
    }
    Ok(out)
}

fn parse_dir_nulls(d: &Value, p: &str) -> Result<(bool, Option<Nulls>)> {
    match d {
        Value::Object(spec) => {
            let mut desc = false;
            let mut nulls = None;
            for (k, x) in spec {
                let kp = join(p, k);
                match k.as_str() {
                    "dir" | "sort" => desc = parse_dir(x, &kp)?,
                    "nulls" => {
                        nulls = Some(match x.as_str() {
                            Some("first") => Nulls::First,
                            Some("last") => Nulls::Last,
                            _ => {
                                return Err(Error::invalid_args(
                                    kp,
                                    "expected \"first\" or \"last\"",
                                ));
                            }
                        })
                    }
                    _ => return Err(Error::invalid_args(kp, "expected `dir` or `nulls`")),
                }
            }
            Ok((desc, nulls))
        }
        _ => Ok((parse_dir(d, p)?, None)),
    }
}

/// `{relation: {field: dir}}` (belongsTo, any number of hops) and
/// `{relation: {_count: dir}}` / `{relation: {_sum: {field: dir}}}`
/// (to-many) → correlated subqueries.
fn order_related(
    schema: &Schema,
    model: &Model,
    f: &Field,
    d: &Value,
    path: &str,
    mut hops: Vec<(String, Link)>,
    out: &mut Vec<Order>,
) -> Result<()> {
    let Some(rel) = f.relation() else {
        return Err(Error::invalid_args(path, "not a relation"));
    };
    let target = schema.model_by_id(rel.target);
    let (link, to_many) = relation_link(schema, model, f)?;
    let Value::Object(spec) = d else {
        return Err(Error::invalid_args(
            path,
            "expected {field: \"asc\"|\"desc\"} or an aggregate ({_count: \"desc\"})",
        ));
    };
    let through = matches!(link, Link::Through { .. });
    if through && !hops.is_empty() {
        return Err(Error::invalid_args(
            path,
            "ordering through a many-to-many after another hop is not supported",
        ));
    }
    hops.push((target.table.clone(), link));
    for (key, v) in spec {
        let p = join(path, key);
        let agg = match key.as_str() {
            "_count" => Some(None),
            "_sum" => Some(Some("SUM")),
            "_avg" => Some(Some("AVG")),
            "_min" => Some(Some("MIN")),
            "_max" => Some(Some("MAX")),
            _ => None,
        };
        let push = |out: &mut Vec<Order>, value: SortValue, desc: bool, nulls: Option<Nulls>| {
            out.push(Order {
                field: format!("{}.{key}", f.name),
                column: String::new(),
                desc,
                nulls,
                nullable: true,
                related: Some(Box::new(RelatedSort {
                    hops: hops.clone(),
                    value,
                    filter: live_filter(target),
                })),
            });
        };
        match agg {
            Some(_) if !to_many => {
                return Err(Error::invalid_args(
                    p,
                    format!(
                        "`{key}` orders by an aggregate of a to-many relation; `{}` is to-one",
                        f.name
                    ),
                ));
            }
            Some(None) => {
                let (desc, nulls) = parse_dir_nulls(v, &p)?;
                push(out, SortValue::Count, desc, nulls);
            }
            Some(Some(func)) => {
                if through {
                    return Err(Error::invalid_args(
                        p,
                        "many-to-many relations order by _count only",
                    ));
                }
                let Value::Object(fields) = v else {
                    return Err(Error::invalid_args(p, "expected {field: \"asc\"|\"desc\"}"));
                };
                for (fname, fd) in fields {
                    let fp = join(&p, fname);
                    let Some(tf) = target.field(fname).filter(|x| x.is_column()) else {
                        return Err(Error::UnknownField {
                            model: target.name.clone(),
                            field: fname.clone(),
                            path: fp,
                        });
                    };
                    let (desc, nulls) = parse_dir_nulls(fd, &fp)?;
                    push(out, SortValue::Agg(func, tf.column.clone()), desc, nulls);
                }
            }
            None if to_many => {
                return Err(Error::invalid_args(
                    p,
                    format!(
                        "order a to-many relation by an aggregate (_count, _sum, _avg, _min, _max), not by `{key}`"
                    ),
                ));
            }
            None => {
                let Some(tf) = target.field(key) else {
                    return Err(Error::UnknownField {
                        model: target.name.clone(),
                        field: key.clone(),
                        path: p,
                    });
                };
                if tf.relation().is_some() {
                    order_related(schema, target, tf, v, &p, hops.clone(), out)?;
                } else if tf.is_column() {
                    let (desc, nulls) = parse_dir_nulls(v, &p)?;
                    push(out, SortValue::Column(tf.column.clone()), desc, nulls);
                } else {
                    return Err(Error::invalid_args(
                        p,
                        "derived fields cannot be ordered by",
                    ));
                }
            }
        }
    }
    Ok(())
}

fn parse_dir(v: &Value, path: &str) -> Result<bool> {
    match v.as_str() {
        Some("asc") | Some("ASC") => Ok(false),
        Some("desc") | Some("DESC") => Ok(true),
        _ => Err(Error::invalid_args(path, "expected \"asc\" or \"desc\"")),
    }
}

fn order_object(
    schema: &Schema,
    model: &Model,
    v: &Value,
    path: &str,
    out: &mut Vec<Order>,
) -> Result<()> {
    let Value::Object(o) = v else {
        return Err(Error::invalid_args(
            path,
            "expected {field: \"asc\"|\"desc\"}",
        ));
    };
    for (key, d) in o {
        let p = join(path, key);
        let Some(f) = model.field(key) else {
            return Err(Error::UnknownField {
                model: model.name.clone(),
                field: key.clone(),
                path: p,
            });
        };
        if f.relation().is_some() {
            order_related(schema, model, f, d, &p, Vec::new(), out)?;
            continue;
        }
        if !f.is_column() {
            return Err(Error::invalid_args(
                p,
                format!(
                    "ordering by the derived field `{}.{key}` is not supported",
                    model.name
                ),
            ));
        }
        let (desc, nulls) = parse_dir_nulls(d, &p)?;
        out.push(Order {
            field: f.name.clone(),
            column: f.column.clone(),
            desc,
            nulls,
            nullable: f.optional,
            related: None,
        });
    }
    Ok(())
}
