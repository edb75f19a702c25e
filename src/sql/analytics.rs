//! SQL of the analytical reads: `aggregate`, `groupBy` (with interval
//! buckets and gap filling through a recursive CTE), and the extended row
//! SELECT that carries computed columns (window functions, `@from` derived
//! fields, FTS5 highlights), relation ORDER BY terms and recursive trees.
//!
//! Every identifier comes from the validated schema and is quoted; every
//! value is a bound parameter; raw fragments arrive as
//! [`Filter::Raw`](crate::query::ast::Filter::Raw) with their own
//! parameters. Text and parameters are written in one walk of the typed
//! operation by [`SqlWriter`].

use std::sync::Arc;

use rusqlite::types::Value as SqlValue;

use super::plan::{RowsPlan, Stmt};
use super::writer::SqlWriter;
use crate::codec::Kind;
use crate::query::aggregate::{AggCol, AggExpr, AggFn};
use crate::query::ast::{CmpOp, Filter, Link, Nulls, Order};
use crate::query::derived::{Computed, ExtRead, OrderExpr, Source, SubAgg, SubFn};
use crate::query::group_by::{Bucket, GroupQuery, GroupRef, Having, HavingCmp};
use crate::query::recursive::TreeSource;
use crate::query::search::{FtsCol, FtsSource};
use crate::query::window::{WinFn, WindowCol};

/// Where an aggregate value goes in the result object.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct AggOut {
    /// Enclosing object (`_sum`), or none for a top-level key.
    pub(crate) group: Option<String>,
    /// Key.
    pub(crate) key: String,
    /// Decoding kind.
    pub(crate) kind: Kind,
}

/// An `aggregate` (one row → an object) or `groupBy` (rows → an array).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct AggPlan {
    /// The statement; its columns are `cols` in order.
    pub(crate) stmt: Stmt,
    /// Output columns.
    pub(crate) cols: Vec<AggOut>,
    /// An array of groups (`groupBy`) rather than one object.
    pub(crate) many: bool,
}

pub(crate) fn finish(w: SqlWriter) -> Stmt {
    Stmt {
        sql: Arc::from(w.sql),
        params: w.params,
    }
}

fn func_name(f: AggFn) -> &'static str {
    match f {
        AggFn::CountAll | AggFn::Count | AggFn::CountDistinct => "COUNT",
        AggFn::Sum => "SUM",
        AggFn::Avg => "AVG",
        AggFn::Min => "MIN",
        AggFn::Max => "MAX",
        AggFn::StringAgg => "group_concat",
    }
}

/// Writes one aggregate expression over alias `alias`.
pub(crate) fn agg_expr(w: &mut SqlWriter, e: &AggExpr, alias: &str) {
    w.push(func_name(e.func)).push("(");
    match (e.func, &e.column) {
        (AggFn::CountAll, _) | (_, None) => {
            w.push("*");
        }
        (AggFn::CountDistinct, Some(c)) => {
            w.push("DISTINCT ").qcol(alias, c);
        }
        (_, Some(c)) => {
            w.qcol(alias, c);
        }
    }
    if e.func == AggFn::StringAgg {
        w.push(", ")
            .param(SqlValue::Text(e.separator.clone().unwrap_or_default()));
        for (i, (c, desc)) in e.order.iter().enumerate() {
            w.push(if i == 0 { " ORDER BY " } else { ", " });
            w.qcol(alias, c).push(if *desc { " DESC" } else { " ASC" });
        }
    }
    w.push(")");
    if let Some(f) = &e.filter {
        w.push(" FILTER (WHERE ");
        w.filter(f, alias);
        w.push(")");
    }
}

fn where_clause(w: &mut SqlWriter, filter: &Filter) {
    if !filter.is_true() {
        w.push(" WHERE ");
        w.filter(filter, "t0");
    }
}

/// `SELECT agg, … FROM table AS t0 WHERE …` (one row).
pub(crate) fn aggregate(table: &str, filter: &Filter, cols: &[AggCol]) -> Stmt {
    let mut w = SqlWriter::default();
    w.push("SELECT ");
    if cols.is_empty() {
        w.push("1");
    }
    for (i, c) in cols.iter().enumerate() {
        if i > 0 {
            w.push(", ");
        }
        agg_expr(&mut w, &c.expr, "t0");
    }
    w.push(" FROM ").ident(table).push(" AS t0");
    where_clause(&mut w, filter);
    finish(w)
}

/// The text label of a bucket for the DateTime expression `e`.
fn bucket_label(b: Bucket, e: &str) -> String {
    match b {
        Bucket::Year => format!("strftime('%Y', {e})"),
        Bucket::Quarter => format!(
            "strftime('%Y', {e}) || '-Q' || ((CAST(strftime('%m', {e}) AS INTEGER) + 2) / 3)"
        ),
        Bucket::Month => format!("strftime('%Y-%m', {e})"),
        Bucket::Week => format!("date({e}, 'weekday 0', '-6 days')"),
        Bucket::Day => format!("strftime('%Y-%m-%d', {e})"),
        Bucket::Hour => format!("strftime('%Y-%m-%dT%H:00', {e})"),
    }
}

/// The start of the bucket holding `e`, as `YYYY-MM-DD HH:MM:SS`.
fn bucket_start(b: Bucket, e: &str) -> String {
    match b {
        Bucket::Year => format!("datetime({e}, 'start of year')"),
        Bucket::Quarter => format!(
            "datetime({e}, 'start of month', '-' || ((CAST(strftime('%m', {e}) AS INTEGER) - 1) % 3) || ' months')"
        ),
        Bucket::Month => format!("datetime({e}, 'start of month')"),
        Bucket::Week => format!("datetime({e}, 'start of day', 'weekday 0', '-6 days')"),
        Bucket::Day => format!("datetime({e}, 'start of day')"),
        Bucket::Hour => format!("strftime('%Y-%m-%d %H:00:00', {e})"),
    }
}

fn bucket_step(b: Bucket) -> &'static str {
    match b {
        Bucket::Year => "'+1 years'",
        Bucket::Quarter => "'+3 months'",
        Bucket::Month => "'+1 months'",
        Bucket::Week => "'+7 days'",
        Bucket::Day => "'+1 days'",
        Bucket::Hour => "'+1 hours'",
    }
}

fn key_expr(w: &mut SqlWriter, q: &GroupQuery, i: usize) {
    let k = &q.keys[i];
    match k.bucket {
        None => {
            w.qcol("t0", &k.column);
        }
        Some(b) => {
            let mut c = SqlWriter::default();
            c.qcol("t0", &k.column);
            w.push(&bucket_label(b, &c.sql));
        }
    }
}

fn cmp_op(op: CmpOp) -> &'static str {
    match op {
        CmpOp::Eq => " = ",
        CmpOp::Ne => " IS NOT ",
        CmpOp::Lt => " < ",
        CmpOp::Lte => " <= ",
        CmpOp::Gt => " > ",
        CmpOp::Gte => " >= ",
    }
}

fn having(w: &mut SqlWriter, q: &GroupQuery) {
    for (i, h) in q.having.iter().enumerate() {
        w.push(if i == 0 { " HAVING " } else { " AND " });
        match h {
            Having::Keys(f) => w.filter(f, "t0"),
            Having::Agg(e, cmp) => {
                agg_expr(w, e, "t0");
                match cmp {
                    HavingCmp::Cmp(op, v) => {
                        w.push(cmp_op(*op)).param(v.clone());
                    }
                    HavingCmp::Null(is) => {
                        w.push(if *is { " IS NULL" } else { " IS NOT NULL" });
                    }
                    HavingCmp::In(vals, neg) => {
                        w.push(if *neg { " NOT IN (" } else { " IN (" });
                        for (j, v) in vals.iter().enumerate() {
                            if j > 0 {
                                w.push(", ");
                            }
                            w.param(v.clone());
                        }
                        w.push(")");
                    }
                }
            }
        }
    }
}

fn nulls(w: &mut SqlWriter, n: Option<Nulls>) {
    match n {
        Some(Nulls::First) => {
            w.push(" NULLS FIRST");
        }
        Some(Nulls::Last) => {
            w.push(" NULLS LAST");
        }
        None => {}
    }
}

fn limit_offset(w: &mut SqlWriter, limit: Option<i64>, offset: Option<i64>) {
    match (limit, offset) {
        (None, None) => {}
        (l, o) => {
            w.push(" LIMIT ").param(SqlValue::Integer(l.unwrap_or(-1)));
            if let Some(o) = o {
                w.push(" OFFSET ").param(SqlValue::Integer(o));
            }
        }
    }
}

/// ORDER BY over the output aliases `k{i}` / `a{j}` (aggregates that are
/// not returned are written out in full).
fn group_order(w: &mut SqlWriter, q: &GroupQuery) {
    if q.order.is_empty() {
        for i in 0..q.keys.len() {
            w.push(if i == 0 { " ORDER BY " } else { ", " });
            w.push(&format!("k{i}"));
        }
        return;
    }
    for (i, o) in q.order.iter().enumerate() {
        w.push(if i == 0 { " ORDER BY " } else { ", " });
        match &o.target {
            GroupRef::Key(k) => {
                w.push(&format!("k{k}"));
            }
            GroupRef::Agg(_, Some(j)) => {
                w.push(&format!("a{j}"));
            }
            GroupRef::Agg(e, None) => agg_expr(w, e, "t0"),
        }
        w.push(if o.desc { " DESC" } else { " ASC" });
        nulls(w, o.nulls);
    }
}

/// The `groupBy` statement; output columns are the keys (`k0…`) then the
/// aggregates (`a0…`).
pub(crate) fn group_by(q: &GroupQuery) -> Stmt {
    let mut w = SqlWriter::default();
    match (&q.fill, q.keys.first().and_then(|k| k.bucket)) {
        (Some(fill), Some(b)) if q.keys.len() == 1 => {
            let col = {
                let mut c = SqlWriter::default();
                c.qcol("t0", &q.keys[0].column);
                c.sql
            };
            w.push("WITH RECURSIVE __g AS (SELECT ")
                .push(&bucket_start(b, &col))
                .push(" AS __b");
            for (j, a) in q.aggs.iter().enumerate() {
                w.push(", ");
                agg_expr(&mut w, &a.expr, "t0");
                w.push(&format!(" AS a{j}"));
            }
            w.push(" FROM ").ident(&q.table).push(" AS t0");
            where_clause(&mut w, &q.filter);
            w.push(" GROUP BY __b");
            having(&mut w, q);
            w.push("), __s(__b) AS (SELECT ");
            match &fill.lo {
                Some(lo) => {
                    w.push("(SELECT ")
                        .push(&bucket_start(b, "x"))
                        .push(" FROM (SELECT ")
                        .param(lo.clone())
                        .push(" AS x))");
                }
                None => {
                    w.push("(SELECT MIN(__b) FROM __g)");
                }
            }
            w.push(" UNION ALL SELECT datetime(__b, ")
                .push(bucket_step(b))
                .push(") FROM __s WHERE __b < ");
            match &fill.hi {
                Some(hi) => {
                    w.push("(SELECT ")
                        .push(&bucket_start(b, "x"))
                        .push(" FROM (SELECT ")
                        .param(hi.clone())
                        .push(" AS x))");
                }
                None => {
                    w.push("(SELECT MAX(__b) FROM __g)");
                }
            }
            w.push(") SELECT ")
                .push(&bucket_label(b, "__s.__b"))
                .push(" AS k0");
            for (j, a) in q.aggs.iter().enumerate() {
                w.push(", ");
                if a.expr.is_count() {
                    w.push(&format!("COALESCE(__g.a{j}, 0)"));
                } else {
                    w.push(&format!("__g.a{j}"));
                }
                w.push(&format!(" AS a{j}"));
            }
            w.push(" FROM __s LEFT JOIN __g ON __g.__b = __s.__b WHERE __s.__b IS NOT NULL");
            group_order(&mut w, q);
        }
        _ => {
            w.push("SELECT ");
            for i in 0..q.keys.len() {
                if i > 0 {
                    w.push(", ");
                }
                key_expr(&mut w, q, i);
                w.push(&format!(" AS k{i}"));
            }
            for (j, a) in q.aggs.iter().enumerate() {
                w.push(", ");
                agg_expr(&mut w, &a.expr, "t0");
                w.push(&format!(" AS a{j}"));
            }
            w.push(" FROM ").ident(&q.table).push(" AS t0");
            where_clause(&mut w, &q.filter);
            w.push(" GROUP BY ");
            for i in 0..q.keys.len() {
                if i > 0 {
                    w.push(", ");
                }
                w.push(&format!("k{i}"));
            }
            having(&mut w, q);
            group_order(&mut w, q);
        }
    }
    limit_offset(&mut w, q.limit, q.offset);
    finish(w)
}

/// Recursive rows nested into trees by `exec/`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct TreePlan {
    /// The rows (flat), with the key and parent key among the hidden columns.
    pub(crate) rows: RowsPlan,
    /// Hidden index of the key.
    pub(crate) id_hidden: usize,
    /// Hidden index of the parent key.
    pub(crate) parent_hidden: usize,
    /// Children array key.
    pub(crate) children_key: String,
}

pub(crate) fn sub_agg(w: &mut SqlWriter, s: &SubAgg, outer: &str) {
    let a = w.alias();
    if s.func == SubFn::Exists {
        w.push("EXISTS (SELECT 1");
    } else {
        w.push("(SELECT ");
        let func = match s.func {
            SubFn::Count => Some("COUNT"),
            SubFn::Sum => Some("SUM"),
            SubFn::Min => Some("MIN"),
            SubFn::Max => Some("MAX"),
            SubFn::First | SubFn::Last | SubFn::Exists => None,
        };
        match (func, &s.column) {
            (Some(f), Some(c)) => {
                w.push(f).push("(").qcol(&a, c).push(")");
            }
            (Some(f), None) => {
                w.push(f).push("(*)");
            }
            (None, Some(c)) => {
                w.qcol(&a, c);
            }
            (None, None) => {
                w.push("json_object(");
                for (i, (k, c)) in s.row.iter().enumerate() {
                    if i > 0 {
                        w.push(", ");
                    }
                    w.param(SqlValue::Text(k.clone())).push(", ").qcol(&a, c);
                }
                w.push(")");
            }
        }
    }
    w.push(" FROM ");
    match &s.link {
        Link::Direct { pairs } => {
            w.ident(&s.table).push(" AS ").push(&a).push(" WHERE ");
            for (i, (tc, sc)) in pairs.iter().enumerate() {
                if i > 0 {
                    w.push(" AND ");
                }
                w.qcol(&a, tc).push(" = ").qcol(outer, sc);
            }
        }
        Link::Through {
            table,
            source_col,
            source_ref,
            target_col,
            target_ref,
        } => {
            let j = format!("j{}", &a[1..]);
            w.ident(table).push(" AS ").push(&j).push(" JOIN ");
            w.ident(&s.table).push(" AS ").push(&a).push(" ON ");
            w.qcol(&a, target_ref).push(" = ").qcol(&j, target_col);
            w.push(" WHERE ")
                .qcol(&j, source_col)
                .push(" = ")
                .qcol(outer, source_ref);
        }
    }
    if !s.live.is_true() {
        w.push(" AND ");
        w.filter(&s.live, &a);
    }
    if let Some(f) = &s.schema_filter {
        w.push(" AND (").push(f).push(")");
    }
    if matches!(s.func, SubFn::First | SubFn::Last) {
        w.push(" ORDER BY ").qcol(&a, &s.pk);
        w.push(if s.func == SubFn::Last {
            " DESC LIMIT 1"
        } else {
            " ASC LIMIT 1"
        });
    }
    w.push(")");
}

fn frame_bound(n: Option<i64>, start: bool) -> String {
    match n {
        None if start => "UNBOUNDED PRECEDING".into(),
        None => "UNBOUNDED FOLLOWING".into(),
        Some(0) => "CURRENT ROW".into(),
        Some(n) if n < 0 => format!("{} PRECEDING", n.unsigned_abs()),
        Some(n) => format!("{n} FOLLOWING"),
    }
}

fn order_terms(w: &mut SqlWriter, alias: &str, order: &[Order]) {
    for (i, o) in order.iter().enumerate() {
        w.push(if i == 0 { "ORDER BY " } else { ", " });
        w.qcol(alias, &o.column);
        w.push(if o.desc { " DESC" } else { " ASC" });
        nulls(w, o.nulls);
    }
}

fn window(w: &mut SqlWriter, c: &WindowCol) {
    let col = |w: &mut SqlWriter, c: &str| {
        w.qcol("t0", c);
    };
    match &c.func {
        WinFn::RowNumber => {
            w.push("ROW_NUMBER()");
        }
        WinFn::Rank => {
            w.push("RANK()");
        }
        WinFn::DenseRank => {
            w.push("DENSE_RANK()");
        }
        WinFn::CumeDist => {
            w.push("CUME_DIST()");
        }
        WinFn::PercentRank => {
            w.push("PERCENT_RANK()");
        }
        WinFn::Ntile(n) => {
            w.push("NTILE(").param(SqlValue::Integer(*n)).push(")");
        }
        WinFn::Shift {
            lead,
            column,
            offset,
            default,
        } => {
            w.push(if *lead { "LEAD(" } else { "LAG(" });
            col(w, column);
            w.push(", ").param(SqlValue::Integer(*offset));
            if let Some(d) = default {
                w.push(", ").param(d.clone());
            }
            w.push(")");
        }
        WinFn::FirstValue(c) => {
            w.push("FIRST_VALUE(");
            col(w, c);
            w.push(")");
        }
        WinFn::LastValue(c) => {
            w.push("LAST_VALUE(");
            col(w, c);
            w.push(")");
        }
        WinFn::NthValue(c, n) => {
            w.push("NTH_VALUE(");
            col(w, c);
            w.push(", ").param(SqlValue::Integer(*n)).push(")");
        }
        WinFn::Agg(f, c) => {
            w.push(f).push("(");
            match c {
                Some(c) => col(w, c),
                None => {
                    w.push("*");
                }
            }
            w.push(")");
        }
    }
    if let Some(f) = &c.filter {
        w.push(" FILTER (WHERE ");
        w.filter(f, "t0");
        w.push(")");
    }
    w.push(" OVER (");
    let mut sep = "";
    if !c.partition.is_empty() {
        w.push("PARTITION BY ");
        for (i, p) in c.partition.iter().enumerate() {
            if i > 0 {
                w.push(", ");
            }
            w.qcol("t0", p);
        }
        sep = " ";
    }
    if !c.order.is_empty() {
        w.push(sep);
        order_terms(w, "t0", &c.order);
        sep = " ";
    }
    if let Some(fr) = &c.frame {
        w.push(sep)
            .push(if fr.range {
                "RANGE BETWEEN "
            } else {
                "ROWS BETWEEN "
            })
            .push(&frame_bound(fr.start, true))
            .push(" AND ")
            .push(&frame_bound(fr.end, false));
    }
    w.push(")");
}

/// The FTS5 table's hidden column (first argument of its auxiliary
/// functions and left side of MATCH).
fn fts_ref(w: &mut SqlWriter, s: &FtsSource) {
    if s.self_table {
        w.qcol("t0", &s.table);
    } else {
        w.ident(&s.table);
    }
}

fn fts_col(w: &mut SqlWriter, c: &FtsCol) {
    w.push("json_object(");
    for (i, (k, idx)) in c.fields.iter().enumerate() {
        if i > 0 {
            w.push(", ");
        }
        w.param(SqlValue::Text(k.clone())).push(", ");
        w.push(if c.snippet { "snippet(" } else { "highlight(" });
        fts_ref(w, &c.source);
        w.push(", ").param(SqlValue::Integer(*idx));
        w.push(", ").param(SqlValue::Text(c.open.clone()));
        w.push(", ").param(SqlValue::Text(c.close.clone()));
        if c.snippet {
            w.push(", ").param(SqlValue::Text(c.ellipsis.clone()));
            w.push(", ").param(SqlValue::Integer(c.tokens));
        }
        w.push(")");
    }
    w.push(")");
}

fn tree_cte(w: &mut SqlWriter, t: &TreeSource) {
    w.push("WITH RECURSIVE __tree(__id, __parent, __d, __path) AS (SELECT ");
    w.qcol("t0", &t.id_col).push(", ").qcol("t0", &t.parent_col);
    w.push(", 0, json_array(")
        .qcol("t0", &t.id_col)
        .push(") FROM ");
    w.ident(&t.table).push(" AS t0");
    if !t.roots.is_true() {
        w.push(" WHERE ");
        w.filter(&t.roots, "t0");
    }
    w.push(" UNION ALL SELECT ");
    w.qcol("n", &t.id_col).push(", ").qcol("n", &t.parent_col);
    w.push(", __tree.__d + 1, json_insert(__tree.__path, '$[#]', ")
        .qcol("n", &t.id_col)
        .push(") FROM ")
        .ident(&t.table)
        .push(" AS n JOIN __tree ON ");
    if t.descendants {
        w.qcol("n", &t.parent_col).push(" = __tree.__id");
    } else {
        w.qcol("n", &t.id_col).push(" = __tree.__parent");
    }
    w.push(" WHERE NOT EXISTS (SELECT 1 FROM json_each(__tree.__path) AS v WHERE v.value = ")
        .qcol("n", &t.id_col)
        .push(")");
    if let Some(d) = t.max_depth {
        w.push(" AND __tree.__d < ").param(SqlValue::Integer(d));
    }
    w.push(") ");
}

/// The SELECT of an extended read: stored columns, computed columns, hidden
/// keys; FTS/recursive sources; extended ORDER BY. Include levels are
/// the plain ones of [`super::select::rows`].
pub(crate) fn ext_rows(e: &ExtRead) -> RowsPlan {
    let q = &e.q;
    let base = super::select::rows(q, false);
    let mut w = SqlWriter::default();
    if let Source::Tree(t) = &e.source {
        tree_cte(&mut w, t);
    }
    w.push("SELECT ");
    if q.distinct {
        w.push("DISTINCT ");
    }
    let mut first = true;
    let mut sep = |w: &mut SqlWriter| {
        if !first {
            w.push(", ");
        }
        first = false;
    };
    for c in q.cols.iter() {
        sep(&mut w);
        match (&c.count, &c.derived) {
            (Some(r), _) => w.related_sort(r, "t0"),
            (None, Some(s)) => sub_agg(&mut w, s, "t0"),
            (None, None) => w.out_col_dec("t0", &c.column, c.mask.as_deref(), c.decrypt),
        }
    }
    for (_, c) in &e.extra {
        sep(&mut w);
        match c {
            Computed::Window(x) => window(&mut w, x),
            Computed::Sub(s) => sub_agg(&mut w, s, "t0"),
            Computed::Fts(f) => fts_col(&mut w, f),
        }
    }
    for h in &q.hidden {
        sep(&mut w);
        w.qcol("t0", h);
    }
    if first {
        w.push("1");
    }
    w.push(" FROM ");
    match &e.source {
        Source::Fts(f) if f.self_table => {
            w.ident(&f.table).push(" AS t0");
        }
        Source::Fts(f) => {
            w.ident(&q.table).push(" AS t0 JOIN ").ident(&f.table);
            w.push(" ON ").ident(&f.table).push(".rowid = t0.rowid");
        }
        _ => {
            w.ident(&q.table).push(" AS t0");
        }
    }
    let mut conds = 0;
    let mut and = |w: &mut SqlWriter| {
        w.push(if conds == 0 { " WHERE " } else { " AND " });
        conds += 1;
    };
    match &e.source {
        Source::Fts(f) => {
            and(&mut w);
            fts_ref(&mut w, f);
            w.push(" MATCH ").param(SqlValue::Text(f.query.clone()));
        }
        Source::Tree(t) => {
            and(&mut w);
            w.qcol("t0", &t.id_col)
                .push(" IN (SELECT __id FROM __tree)");
        }
        Source::Table => {}
    }
    if !q.filter.is_true() {
        and(&mut w);
        w.filter(&q.filter, "t0");
    }
    for (i, o) in e.order.iter().enumerate() {
        w.push(if i == 0 { " ORDER BY " } else { ", " });
        match &o.expr {
            OrderExpr::Col(a, c) => {
                w.qcol(a, c);
            }
            OrderExpr::Plain(o) => match &o.related {
                Some(r) => w.related_sort(r, "t0"),
                None => {
                    w.qcol("t0", &o.column);
                }
            },
            OrderExpr::Rank => match &e.source {
                Source::Fts(f) if !f.self_table => {
                    w.ident(&f.table).push(".rank");
                }
                _ => {
                    w.push("t0.rank");
                }
            },
            OrderExpr::Depth => {
                w.push("(SELECT MIN(__d) FROM __tree WHERE __tree.__id = ");
                if let Source::Tree(t) = &e.source {
                    w.qcol("t0", &t.id_col);
                }
                w.push(")");
            }
        }
        w.push(if o.desc { " DESC" } else { " ASC" });
        nulls(&mut w, o.nulls);
    }
    limit_offset(&mut w, q.limit, q.offset);
    let cols = if e.extra.is_empty() {
        q.cols.clone()
    } else {
        let mut cols: Vec<_> = q.cols.iter().cloned().collect();
        cols.extend(e.extra.iter().map(|(c, _)| c.clone()));
        std::sync::Arc::new(cols)
    };
    RowsPlan {
        stmt: finish(w),
        cols,
        hidden: q.hidden.len(),
        includes: base.includes,
    }
}

/// When a nested-write step runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum When {
    /// Always.
    Always,
    /// Only while the slot is still unset (the create half of
    /// connectOrCreate / upsert).
    IfUnset(usize),
}

/// What a nested-write step needs from its result.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Expect {
    /// Nothing.
    Nothing,
    /// A row, else `NotFound` (model, message).
    Row(String, String),
    /// A row, else the whole write returns `null` (update of no row).
    OrStop,
}

/// One statement of a nested write.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Step {
    /// The statement.
    pub(crate) stmt: Stmt,
    /// (parameter index, slot) substitutions.
    pub(crate) fill: Vec<(usize, usize)>,
    /// Slots receiving the first result row's columns, in order.
    pub(crate) capture: Vec<usize>,
    /// Condition.
    pub(crate) when: When,
    /// Result expectation.
    pub(crate) expect: Expect,
}

/// A create/update with nested relation writes: steps run in order inside
/// one SAVEPOINT, values flowing between them through slots; then the
/// written row is read back (with select/include).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct NestedPlan {
    /// Number of slots.
    pub(crate) slots: usize,
    /// The writes.
    pub(crate) steps: Vec<Step>,
    /// The read-back (`None` for `select: false`) and its top-level fills.
    pub(crate) result: Option<(RowsPlan, Vec<(usize, usize)>)>,
}
