//! The raw, spanned syntax tree of one `.lite` source, as written.
//!
//! Owns the shape of the language only: nothing here is resolved (type names
//! are strings, attributes are name + arguments). Validation
//! (`schema::validate`) turns a set of these trees into the resolved
//! [`Schema`](super::Schema). Tooling (formatters, editors, linters) can use
//! it directly through [`parse_ast`](super::parse_ast).

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
