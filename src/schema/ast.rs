//! The raw, spanned syntax tree of one `.lite` source, as written.
//!
//! Owns the shape of the language only: nothing here is resolved (type names
//! are strings, attributes are name + arguments). Validation
//! (`schema::validate`) turns a set of these trees into the resolved
//! [`Schema`](super::Schema). Tooling (formatters, editors, linters) can use
//! it directly through [`parse_ast`](super::parse_ast); `Display` prints a
//! tree back as canonical source (a formatter: parsing the output gives the
//! same tree, `///` docs kept, `//` comments dropped).

use super::span::Span;

/// One parsed source file.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SchemaAst {
    /// Top-level declarations in source order.
    pub items: Vec<Item>,
}

/// A name with its position.
#[derive(Debug, Clone, PartialEq)]
pub struct Ident {
    /// The text.
    pub name: String,
    /// Where it is.
    pub span: Span,
}

/// A top-level declaration.
#[derive(Debug, Clone, PartialEq)]
pub enum Item {
    /// `model name { ... }`.
    Model(ModelDecl),
    /// `enum Name { a b c }`.
    Enum(EnumDecl),
    /// `function name(a: T): T { @@expr("...") }`.
    Function(FunctionDecl),
    /// `database name { path ...; driver ...; retention ... }`.
    Database(DatabaseDecl),
    /// `import "./x.lite"`.
    Import(ImportDecl),
    /// `trait Name { fields and attributes }`.
    Trait(ModelDecl),
    /// `type Name { fields }` (typed JSON shape).
    Type(ModelDecl),
}

impl Item {
    /// The declared name (the path for imports).
    pub fn name(&self) -> &Ident {
        match self {
            Item::Model(d) | Item::Trait(d) | Item::Type(d) => &d.name,
            Item::Enum(d) => &d.name,
            Item::Function(d) => &d.name,
            Item::Database(d) => &d.name,
            Item::Import(d) => &d.path,
        }
    }
}

/// A `model`, `trait` or `type` block.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelDecl {
    /// Name.
    pub name: Ident,
    /// `///` doc comment.
    pub doc: Option<String>,
    /// Fields and block attributes, in source order.
    pub members: Vec<Member>,
    /// The whole block.
    pub span: Span,
}

impl ModelDecl {
    /// The fields, in order.
    pub fn fields(&self) -> impl Iterator<Item = &FieldDecl> {
        self.members.iter().filter_map(|m| match m {
            Member::Field(f) => Some(f),
            Member::Attribute(_) => None,
        })
    }

    /// The `@@` attributes, in order.
    pub fn attributes(&self) -> impl Iterator<Item = &AttributeAst> {
        self.members.iter().filter_map(|m| match m {
            Member::Attribute(a) => Some(a),
            Member::Field(_) => None,
        })
    }
}

/// A member of a model/trait/type body.
#[derive(Debug, Clone, PartialEq)]
pub enum Member {
    /// `name Type @attr...`.
    Field(FieldDecl),
    /// `@@attr(...)`.
    Attribute(AttributeAst),
}

/// A field declaration.
#[derive(Debug, Clone, PartialEq)]
pub struct FieldDecl {
    /// Name.
    pub name: Ident,
    /// `///` doc comment.
    pub doc: Option<String>,
    /// Its type.
    pub ty: TypeRef,
    /// `@` attributes in order.
    pub attributes: Vec<AttributeAst>,
    /// From the name to the end of the last attribute.
    pub span: Span,
}

/// A type as written: `Text`, `Text?`, `posts[]`, `File[]`.
#[derive(Debug, Clone, PartialEq)]
pub struct TypeRef {
    /// The type name.
    pub name: Ident,
    /// `[]`.
    pub list: bool,
    /// `?`.
    pub optional: bool,
    /// The whole type.
    pub span: Span,
}

/// `@name(args)` or `@@name(args)`.
#[derive(Debug, Clone, PartialEq)]
pub struct AttributeAst {
    /// Name without `@`/`@@` (`updatedBy`, `allow`).
    pub name: Ident,
    /// `@@` (block attribute) rather than `@`.
    pub block: bool,
    /// Arguments; `None` without parentheses.
    pub args: Option<Vec<Arg>>,
    /// From the `@` to the closing parenthesis.
    pub span: Span,
}

impl AttributeAst {
    /// The arguments (empty without parentheses).
    pub fn args(&self) -> &[Arg] {
        self.args.as_deref().unwrap_or(&[])
    }
}

/// One argument: positional or `name: value`.
#[derive(Debug, Clone, PartialEq)]
pub struct Arg {
    /// `name:` of a named argument.
    pub name: Option<Ident>,
    /// The value.
    pub value: Expr,
    /// The whole argument.
    pub span: Span,
}

/// An expression: literals, names, member access, calls, arrays, operators.
/// Attribute arguments, defaults and policy conditions all use it.
#[derive(Debug, Clone, PartialEq)]
pub struct Expr {
    /// What it is.
    pub kind: ExprKind,
    /// Where it is.
    pub span: Span,
}

/// Expression kinds.
#[derive(Debug, Clone, PartialEq)]
pub enum ExprKind {
    /// `"text"` / `'text'`.
    Str(String),
    /// `42`, `-1.5`.
    Number(f64),
    /// `30d`.
    Duration(String),
    /// `true` / `false`.
    Bool(bool),
    /// `null`.
    Null,
    /// A bare name.
    Ident(String),
    /// `base.member`.
    Member(Box<Expr>, Ident),
    /// `name(args)`.
    Call(Ident, Vec<Expr>),
    /// `[a, b]`.
    Array(Vec<Expr>),
    /// `!e`.
    Not(Box<Expr>),
    /// `a op b`.
    Binary(BinOp, Box<Expr>, Box<Expr>),
}

/// Binary operators, by increasing precedence: `||`, `&&`, comparisons.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BinOp {
    /// `||`.
    Or,
    /// `&&`.
    And,
    /// `==`.
    Eq,
    /// `!=`.
    Ne,
    /// `<`.
    Lt,
    /// `<=`.
    Le,
    /// `>`.
    Gt,
    /// `>=`.
    Ge,
}

impl Expr {
    /// The dotted path of a name or member chain (`a.b.c`), if it is one.
    pub fn as_path(&self) -> Option<Vec<String>> {
        match &self.kind {
            ExprKind::Ident(s) => Some(vec![s.clone()]),
            ExprKind::Member(base, m) => {
                let mut p = base.as_path()?;
                p.push(m.name.clone());
                Some(p)
            }
            _ => None,
        }
    }

    /// The name, if the expression is a bare identifier.
    pub fn as_ident(&self) -> Option<&str> {
        match &self.kind {
            ExprKind::Ident(s) => Some(s),
            _ => None,
        }
    }

    /// The text, if the expression is a string literal.
    pub fn as_str(&self) -> Option<&str> {
        match &self.kind {
            ExprKind::Str(s) => Some(s),
            _ => None,
        }
    }
}

/// An `enum` block.
#[derive(Debug, Clone, PartialEq)]
pub struct EnumDecl {
    /// Name.
    pub name: Ident,
    /// `///` doc comment.
    pub doc: Option<String>,
    /// Values in order.
    pub values: Vec<EnumValue>,
    /// The whole block.
    pub span: Span,
}

/// One enum value.
#[derive(Debug, Clone, PartialEq)]
pub struct EnumValue {
    /// The value.
    pub name: Ident,
    /// `///` doc comment.
    pub doc: Option<String>,
    /// Attributes after the value (kept for tooling).
    pub attributes: Vec<AttributeAst>,
}

/// A `function` block.
#[derive(Debug, Clone, PartialEq)]
pub struct FunctionDecl {
    /// Name.
    pub name: Ident,
    /// `///` doc comment.
    pub doc: Option<String>,
    /// Parameters: name and type.
    pub params: Vec<(Ident, TypeRef)>,
    /// Return type, when written.
    pub returns: Option<TypeRef>,
    /// `@@expr(...)` and any other block attributes.
    pub attributes: Vec<AttributeAst>,
    /// The whole block.
    pub span: Span,
}

/// A `database` block.
#[derive(Debug, Clone, PartialEq)]
pub struct DatabaseDecl {
    /// Name.
    pub name: Ident,
    /// `///` doc comment.
    pub doc: Option<String>,
    /// `key value` statements in order.
    pub settings: Vec<Setting>,
    /// The whole block.
    pub span: Span,
}

/// `path "./x.db"`, `driver jsonl`, `retention 30d`.
#[derive(Debug, Clone, PartialEq)]
pub struct Setting {
    /// Key.
    pub key: Ident,
    /// Value.
    pub value: Expr,
}

/// `import "./x.lite"`.
#[derive(Debug, Clone, PartialEq)]
pub struct ImportDecl {
    /// The path as written (span of the string).
    pub path: Ident,
    /// The whole statement.
    pub span: Span,
}

// ----- printing --------------------------------------------------------------
//
// `Display` prints the canonical source of a tree (two-space indentation, one
// member per line, `///` docs kept, `//` comments dropped). Parsing the
// printed text gives back the same tree (spans aside), which the tests check.

use std::fmt;

fn write_doc(f: &mut fmt::Formatter<'_>, doc: &Option<String>, indent: &str) -> fmt::Result {
    if let Some(doc) = doc {
        for line in doc.split('\n') {
            if line.is_empty() {
                writeln!(f, "{indent}///")?;
            } else {
                writeln!(f, "{indent}/// {line}")?;
            }
        }
    }
    Ok(())
}

impl fmt::Display for SchemaAst {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, item) in self.items.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{item}")?;
        }
        Ok(())
    }
}

impl fmt::Display for Item {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Item::Model(d) => write_block(f, "model", d),
            Item::Trait(d) => write_block(f, "trait", d),
            Item::Type(d) => write_block(f, "type", d),
            Item::Enum(e) => {
                write_doc(f, &e.doc, "")?;
                writeln!(f, "enum {} {{", e.name.name)?;
                for v in &e.values {
                    write_doc(f, &v.doc, "  ")?;
                    write!(f, "  {}", v.name.name)?;
                    for a in &v.attributes {
                        write!(f, " {a}")?;
                    }
                    writeln!(f)?;
                }
                writeln!(f, "}}")
            }
            Item::Function(func) => {
                write_doc(f, &func.doc, "")?;
                write!(f, "function {}(", func.name.name)?;
                for (i, (p, ty)) in func.params.iter().enumerate() {
                    if i > 0 {
                        write!(f, ", ")?;
                    }
                    write!(f, "{}: {ty}", p.name)?;
                }
                write!(f, ")")?;
                if let Some(r) = &func.returns {
                    write!(f, ": {r}")?;
                }
                writeln!(f, " {{")?;
                for a in &func.attributes {
                    writeln!(f, "  {a}")?;
                }
                writeln!(f, "}}")
            }
            Item::Database(d) => {
                write_doc(f, &d.doc, "")?;
                writeln!(f, "database {} {{", d.name.name)?;
                for s in &d.settings {
                    writeln!(f, "  {} {}", s.key.name, s.value)?;
                }
                writeln!(f, "}}")
            }
            Item::Import(i) => {
                write!(f, "import ")?;
                write_str(f, &i.path.name)?;
                writeln!(f)
            }
        }
    }
}

fn write_block(f: &mut fmt::Formatter<'_>, keyword: &str, d: &ModelDecl) -> fmt::Result {
    write_doc(f, &d.doc, "")?;
    writeln!(f, "{keyword} {} {{", d.name.name)?;
    for m in &d.members {
        match m {
            Member::Field(field) => {
                write_doc(f, &field.doc, "  ")?;
                write!(f, "  {} {}", field.name.name, field.ty)?;
                for a in &field.attributes {
                    write!(f, " {a}")?;
                }
                writeln!(f)?;
            }
            Member::Attribute(a) => writeln!(f, "  {a}")?,
        }
    }
    writeln!(f, "}}")
}

impl fmt::Display for TypeRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}{}{}",
            self.name.name,
            if self.list { "[]" } else { "" },
            if self.optional { "?" } else { "" }
        )
    }
}

impl fmt::Display for AttributeAst {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}{}",
            if self.block { "@@" } else { "@" },
            self.name.name
        )?;
        if let Some(args) = &self.args {
            write!(f, "(")?;
            for (i, a) in args.iter().enumerate() {
                if i > 0 {
                    write!(f, ", ")?;
                }
                if let Some(n) = &a.name {
                    write!(f, "{}: ", n.name)?;
                }
                write!(f, "{}", a.value)?;
            }
            write!(f, ")")?;
        }
        Ok(())
    }
}

fn write_str(f: &mut fmt::Formatter<'_>, s: &str) -> fmt::Result {
    write!(f, "\"")?;
    for c in s.chars() {
        match c {
            '"' => write!(f, "\\\"")?,
            '\\' => write!(f, "\\\\")?,
            '\n' => write!(f, "\\n")?,
            '\r' => write!(f, "\\r")?,
            '\t' => write!(f, "\\t")?,
            '\0' => write!(f, "\\0")?,
            c => write!(f, "{c}")?,
        }
    }
    write!(f, "\"")
}

impl BinOp {
    /// The operator as written.
    pub fn symbol(self) -> &'static str {
        match self {
            BinOp::Or => "||",
            BinOp::And => "&&",
            BinOp::Eq => "==",
            BinOp::Ne => "!=",
            BinOp::Lt => "<",
            BinOp::Le => "<=",
            BinOp::Gt => ">",
            BinOp::Ge => ">=",
        }
    }

    /// Binding strength: `||` < `&&` < comparisons.
    fn precedence(self) -> u8 {
        match self {
            BinOp::Or => 1,
            BinOp::And => 2,
            _ => 3,
        }
    }
}

impl fmt::Display for Expr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            ExprKind::Str(s) => write_str(f, s),
            ExprKind::Number(n) => {
                if n.is_finite() {
                    write!(f, "{n}")
                } else if *n > 0.0 {
                    write!(f, "1e999")
                } else {
                    write!(f, "-1e999")
                }
            }
            ExprKind::Duration(d) => write!(f, "{d}"),
            ExprKind::Bool(b) => write!(f, "{b}"),
            ExprKind::Null => write!(f, "null"),
            ExprKind::Ident(s) => write!(f, "{s}"),
            ExprKind::Member(base, m) => {
                if matches!(base.kind, ExprKind::Binary(..) | ExprKind::Not(_)) {
                    write!(f, "({base}).{}", m.name)
                } else {
                    write!(f, "{base}.{}", m.name)
                }
            }
            ExprKind::Call(name, args) => {
                write!(f, "{}(", name.name)?;
                for (i, a) in args.iter().enumerate() {
                    if i > 0 {
                        write!(f, ", ")?;
                    }
                    write!(f, "{a}")?;
                }
                write!(f, ")")
            }
            ExprKind::Array(items) => {
                write!(f, "[")?;
                for (i, a) in items.iter().enumerate() {
                    if i > 0 {
                        write!(f, ", ")?;
                    }
                    write!(f, "{a}")?;
                }
                write!(f, "]")
            }
            ExprKind::Not(inner) => match inner.kind {
                ExprKind::Binary(..) => write!(f, "!({inner})"),
                _ => write!(f, "!{inner}"),
            },
            ExprKind::Binary(op, l, r) => {
                let p = op.precedence();
                // Left-associative: the left side may share the precedence
                // (except comparisons, which do not chain); the right may not.
                let paren_left = match &l.kind {
                    ExprKind::Binary(lo, ..) => {
                        lo.precedence() < p || (p == 3 && lo.precedence() == 3)
                    }
                    _ => false,
                };
                let paren_right =
                    matches!(&r.kind, ExprKind::Binary(ro, ..) if ro.precedence() <= p);
                if paren_left {
                    write!(f, "({l})")?;
                } else {
                    write!(f, "{l}")?;
                }
                write!(f, " {} ", op.symbol())?;
                if paren_right {
                    write!(f, "({r})")
                } else {
                    write!(f, "{r}")
                }
            }
        }
    }
}
