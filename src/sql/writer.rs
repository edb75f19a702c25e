//! [`SqlWriter`]: the one walk that appends SQL text and collects the
//! parameters of its placeholders, plus the where-tree writer.

use rusqlite::types::Value as SqlValue;

use crate::query::ast::{CmpOp, Col, Filter, Link, Operand, Quant, RelatedSort, SortValue, TextOp};

/// Joins the columns of a composite key in one "column" name (hidden keys
/// and include links); `qcol` renders it as `json_array(...)`. Schema
/// identifiers never contain it.
pub(crate) const KEY_SEP: char = '\u{1f}';

/// SQL text and its parameters, built together.
///
/// A writer made with [`SqlWriter::params_only`] walks the same code but
/// skips the text: used when the text of a shape is already known (rows 2..n
/// of a bulk insert), so parameters still come from the one walk that would
/// have written the text.
#[derive(Debug)]
pub(crate) struct SqlWriter {
    /// The text.
    pub(crate) sql: String,
    /// Parameters in placeholder order.
    pub(crate) params: Vec<SqlValue>,
    next_alias: u32,
    text: bool,
}

impl Default for SqlWriter {
    fn default() -> Self {
        SqlWriter {
            sql: String::new(),
            params: Vec::new(),
            next_alias: 0,
            text: true,
        }
    }
}

impl SqlWriter {
    /// A writer that collects parameters only.
    pub(crate) fn params_only() -> Self {
        SqlWriter {
            text: false,
            ..SqlWriter::default()
        }
    }

    /// Appends raw SQL syntax.
    pub(crate) fn push(&mut self, s: &str) -> &mut Self {
        if self.text {
            self.sql.push_str(s);
        }
        self
    }

    /// Appends a double-quoted identifier (embedded quotes doubled).
    pub(crate) fn ident(&mut self, name: &str) -> &mut Self {
        if !self.text {
            return self;
        }
        self.sql.push('"');
        if name.contains('"') {
            self.sql.push_str(&name.replace('"', "\"\""));
        } else {
            self.sql.push_str(name);
        }
        self.sql.push('"');
        self
    }

    /// Appends `alias."column"`.
    pub(crate) fn qcol(&mut self, alias: &str, column: &str) -> &mut Self {
        if column.contains(KEY_SEP) {
            return self.composite(Some(alias), column);
        }
        self.push(alias).push(".").ident(column)
    }

    /// An unqualified column (RETURNING), composite keys included.
    pub(crate) fn col_or_key(&mut self, column: &str) -> &mut Self {
        if column.contains(KEY_SEP) {
            return self.composite(None, column);
        }
        self.ident(column)
    }

    /// A composite key (`KEY_SEP`-joined column names) as one value:
    /// `json_array(a."x", a."y")`, compared as text on both sides of an
    /// include.
    fn composite(&mut self, alias: Option<&str>, key: &str) -> &mut Self {
        self.push("json_array(");
        for (i, c) in key.split(KEY_SEP).enumerate() {
            if i > 0 {
                self.push(", ");
            }
            if let Some(a) = alias {
                self.push(a).push(".");
            }
            self.ident(c);
        }
        self.push(")")
    }

    /// Appends `?` and records its value.
    pub(crate) fn param(&mut self, v: SqlValue) -> &mut Self {
        self.push("?");
        self.params.push(v);
        self
    }

    /// A fresh table alias for a subquery.
    pub(crate) fn alias(&mut self) -> String {
        self.next_alias += 1;
        format!("t{}", self.next_alias)
    }

    fn col(&mut self, alias: &str, col: &Col) {
        match col {
            Col::Column(c) => {
                self.qcol(alias, c);
            }
            Col::Json { column, path } => {
                self.push("json_extract(").qcol(alias, column).push(", ");
                self.param(SqlValue::Text(path.clone())).push(")");
            }
        }
    }

    /// Appends an output column, wrapped in `CASE WHEN mask THEN … END` when
    /// a field-level read policy applies to it.
    /// An output column, through `litestone_decrypt(…)` when `decrypt`.
    pub(crate) fn out_col_dec(
        &mut self,
        alias: &str,
        column: &str,
        mask: Option<&Filter>,
        decrypt: bool,
    ) {
        if decrypt {
            self.push("litestone_decrypt(");
            self.out_col(alias, column, mask);
            self.push(")");
        } else {
            self.out_col(alias, column, mask);
        }
    }

    pub(crate) fn out_col(&mut self, alias: &str, column: &str, mask: Option<&Filter>) {
        match mask {
            Some(m) => {
                self.push("CASE WHEN ");
                self.filter(m, alias);
                self.push(" THEN ").qcol(alias, column).push(" END");
            }
            None => {
                self.qcol(alias, column);
            }
        }
    }

    /// Writes a where-tree over table alias `alias`.
    pub(crate) fn filter(&mut self, f: &Filter, alias: &str) {
        match f {
            Filter::True => {
                self.push("1");
            }
            Filter::And(items) | Filter::Or(items) => {
                let is_and = matches!(f, Filter::And(_));
                let items: Vec<&Filter> =
                    items.iter().filter(|x| !(is_and && x.is_true())).collect();
                match items.as_slice() {
                    [] => {
                        self.push(if is_and { "1" } else { "0" });
                    }
                    [one] => self.filter(one, alias),
                    many => {
                        self.push("(");
                        for (i, x) in many.iter().enumerate() {
                            if i > 0 {
                                self.push(if is_and { " AND " } else { " OR " });
                            }
                            self.filter(x, alias);
                        }
                        self.push(")");
                    }
                }
            }
            Filter::Not(inner) => {
                self.push("NOT (");
                self.filter(inner, alias);
                self.push(")");
            }
            Filter::Cmp { col, op, value } => {
                self.col(alias, col);
                self.push(match op {
                    CmpOp::Eq => " = ",
                    CmpOp::Ne => " IS NOT ",
                    CmpOp::Lt => " < ",
                    CmpOp::Lte => " <= ",
                    CmpOp::Gt => " > ",
                    CmpOp::Gte => " >= ",
                });
                self.param(value.clone());
            }
            Filter::Null { col, is_null } => {
                self.col(alias, col);
                self.push(if *is_null { " IS NULL" } else { " IS NOT NULL" });
            }
            Filter::In {
                col,
                values,
                with_null,
                negated,
            } => self.in_list(alias, col, values, *with_null, *negated),
            Filter::Text {
                col,
                op,
                value,
                insensitive,
            } => {
                self.col(alias, col);
                if *insensitive {
                    let mut pat = String::with_capacity(value.len() + 2);
                    if *op != TextOp::StartsWith {
                        pat.push('%');
                    }
                    for c in value.chars() {
                        if matches!(c, '%' | '_' | '\\') {
                            pat.push('\\');
                        }
                        pat.push(c);
                    }
                    if *op != TextOp::EndsWith {
                        pat.push('%');
                    }
                    self.push(" LIKE ")
                        .param(SqlValue::Text(pat))
                        .push(" ESCAPE '\\'");
                } else {
                    let mut pat = String::with_capacity(value.len() + 2);
                    if *op != TextOp::StartsWith {
                        pat.push('*');
                    }
                    for c in value.chars() {
                        match c {
                            '*' => pat.push_str("[*]"),
                            '?' => pat.push_str("[?]"),
                            '[' => pat.push_str("[[]"),
                            c => pat.push(c),
                        }
                    }
                    if *op != TextOp::EndsWith {
                        pat.push('*');
                    }
                    self.push(" GLOB ").param(SqlValue::Text(pat));
                }
            }
            Filter::Compare { left, op, right } => {
                let side = |w: &mut SqlWriter, o: &Operand| match o {
                    Operand::Column(c) => {
                        w.qcol(alias, c);
                    }
                    Operand::Value(v) => {
                        w.param(v.clone());
                    }
                };
                match op {
                    CmpOp::Eq | CmpOp::Ne => {
                        side(self, left);
                        self.push(if *op == CmpOp::Eq { " IS " } else { " IS NOT " });
                        side(self, right);
                    }
                    _ => {
                        self.push("(");
                        side(self, left);
                        self.push(match op {
                            CmpOp::Lt => " < ",
                            CmpOp::Lte => " <= ",
                            CmpOp::Gt => " > ",
                            _ => " >= ",
                        });
                        side(self, right);
                        self.push(") IS 1");
                    }
                }
            }
            Filter::Raw { sql, params } => {
                self.push("(").push(sql).push(")");
                self.params.extend(params.iter().cloned());
            }
            Filter::Rel {
                table,
                link,
                quant,
                inner,
            } => {
                let a = self.alias();
                self.push(if *quant == Quant::Some {
                    "EXISTS (SELECT 1 FROM "
                } else {
                    "NOT EXISTS (SELECT 1 FROM "
                });
                match link {
                    Link::Direct { pairs } => {
                        self.ident(table).push(" AS ").push(&a).push(" WHERE ");
                        for (i, (tc, sc)) in pairs.iter().enumerate() {
                            if i > 0 {
                                self.push(" AND ");
                            }
                            self.qcol(&a, tc).push(" = ").qcol(alias, sc);
                        }
                    }
                    Link::Through {
                        table: jt,
                        source_col,
                        source_ref,
                        target_col,
                        target_ref,
                    } => {
                        let j = format!("j{}", &a[1..]);
                        self.ident(jt).push(" AS ").push(&j).push(" JOIN ");
                        self.ident(table).push(" AS ").push(&a).push(" ON ");
                        self.qcol(&a, target_ref).push(" = ").qcol(&j, target_col);
                        self.push(" WHERE ")
                            .qcol(&j, source_col)
                            .push(" = ")
                            .qcol(alias, source_ref);
                    }
                }
                if !inner.is_true() {
                    self.push(" AND ");
                    if *quant == Quant::Every {
                        self.push("NOT (");
                        self.filter(inner, &a);
                        self.push(")");
                    } else {
                        self.filter(inner, &a);
                    }
                } else if *quant == Quant::Every {
                    // Every row satisfies "true": nothing can violate it.
                    self.push(" AND 0");
                }
                self.push(")");
            }
        }
    }

    /// A correlated subquery selecting the sort value of a relation orderBy.
    pub(crate) fn related_sort(&mut self, r: &RelatedSort, outer: &str) {
        self.push("(SELECT ");
        let aliases: Vec<String> = r.hops.iter().map(|_| self.alias()).collect();
        let Some(last) = aliases.last().cloned() else {
            self.push("NULL)");
            return;
        };
        match &r.value {
            SortValue::Column(c) => {
                self.qcol(&last, c);
            }
            SortValue::Count => {
                self.push("COUNT(*)");
            }
            SortValue::Agg(f, c) => {
                self.push(f).push("(").qcol(&last, c).push(")");
            }
        }
        self.push(" FROM ");
        let mut correlate: Vec<(String, String, String, String)> = Vec::new();
        for (i, ((table, link), a)) in r.hops.iter().zip(&aliases).enumerate() {
            let prev = if i == 0 {
                outer.to_string()
            } else {
                aliases[i - 1].clone()
            };
            match link {
                Link::Direct { pairs } => {
                    if i > 0 {
                        self.push(" JOIN ");
                    }
                    self.ident(table).push(" AS ").push(a);
                    if i > 0 {
                        self.push(" ON ");
                        for (k, (tc, sc)) in pairs.iter().enumerate() {
                            if k > 0 {
                                self.push(" AND ");
                            }
                            self.qcol(a, tc).push(" = ").qcol(&prev, sc);
                        }
                    } else {
                        for (tc, sc) in pairs {
                            correlate.push((a.clone(), tc.clone(), prev.clone(), sc.clone()));
                        }
                    }
                }
                Link::Through {
                    table: jt,
                    source_col,
                    source_ref,
                    target_col,
                    target_ref,
                } => {
                    let j = format!("j{}", &a[1..]);
                    self.ident(jt).push(" AS ").push(&j).push(" JOIN ");
                    self.ident(table).push(" AS ").push(a).push(" ON ");
                    self.qcol(a, target_ref).push(" = ").qcol(&j, target_col);
                    correlate.push((j, source_col.clone(), prev, source_ref.clone()));
                }
            }
        }
        self.push(" WHERE ");
        for (k, (a, tc, p, sc)) in correlate.iter().enumerate() {
            if k > 0 {
                self.push(" AND ");
            }
            self.qcol(a, tc).push(" = ").qcol(p, sc);
        }
        if !r.filter.is_true() {
            self.push(" AND ");
            self.filter(&r.filter, &last);
        }
        self.push(")");
    }

    fn in_list(
        &mut self,
        alias: &str,
        col: &Col,
        values: &[SqlValue],
        with_null: bool,
        negated: bool,
    ) {
        let list = |w: &mut SqlWriter| {
            w.push("(");
            for (i, v) in values.iter().enumerate() {
                if i > 0 {
                    w.push(", ");
                }
                w.param(v.clone());
            }
            w.push(")");
        };
        match (values.is_empty(), negated, with_null) {
            (true, false, false) => {
                self.push("0");
            }
            (true, false, true) | (true, true, true) => {
                self.col(alias, col);
                self.push(if negated { " IS NOT NULL" } else { " IS NULL" });
            }
            (true, true, false) => {
                self.push("1");
            }
            (false, false, false) => {
                self.col(alias, col);
                self.push(" IN ");
                list(self);
            }
            (false, true, true) => {
                self.col(alias, col);
                self.push(" NOT IN ");
                list(self);
            }
            (false, neg, _) => {
                self.push("(");
                self.col(alias, col);
                self.push(if neg { " NOT IN " } else { " IN " });
                list(self);
                self.push(" OR ");
                self.col(alias, col);
                self.push(" IS NULL)");
            }
        }
    }
}
