//! Recursive-descent parser: tokens → [`SchemaAst`].
//!
//! Owns the grammar of the `.lite` language and syntax-error recovery. A
//! syntax error is recorded and the parser skips to the next member of the
//! current block (a token on a later line that can start a field or `@@`
//! attribute) or to the next top-level declaration, so one run reports every
//! syntax error of a file rather than the first. It never panics and always
//! terminates: every loop iteration consumes at least one token.
//!
//! Grammar (informal):
//! ```text
//! file      = item*
//! item      = model | trait | type | enum | function | database | import
//! model     = ("model" | "trait" | "type") IDENT "{" (field | "@@" attr)* "}"
//! field     = IDENT IDENT ("[" "]")? "?"? ("@" attr)*
//! attr      = IDENT ("." IDENT)* ("(" (arg ("," arg)*)? ","? ")")?
//! arg       = (IDENT ":")? expr
//! enum      = "enum" IDENT "{" (IDENT ("@" attr)* ","?)* "}"
//! function  = "function" IDENT "(" (IDENT ":" type ("," ...)*)? ")" (":" type)? "{" ("@@" attr)* "}"
//! database  = "database" IDENT "{" (IDENT expr ";"?)* "}"
//! import    = "import" STRING
//! expr      = or ; or = and ("||" and)* ; and = cmp ("&&" cmp)*
//! cmp       = unary (("=="|"!="|"<"|"<="|">"|">=") unary)?
//! unary     = "!" unary | "-" NUMBER | postfix
//! postfix   = primary ("." IDENT)*
//! primary   = STRING | NUMBER | DURATION | "true" | "false" | "null"
//!           | IDENT ("(" (expr ("," expr)*)? ")")? | "(" expr ")" | "[" (expr ","?)* "]"
//! ```

use super::ast::*;
use super::diagnostics::Diag;
use super::lexer::{Token, TokenKind};
use super::span::Span;

/// Keywords that start a top-level declaration.
const TOP_LEVEL: &[&str] = &[
    "model", "enum", "function", "database", "import", "trait", "type",
];

/// Marker: the error was already recorded.
struct Reported;

type PResult<T> = Result<T, Reported>;

/// Parses one file's tokens (the last token must be `Eof`).
pub(crate) fn parse_tokens(tokens: &[Token]) -> (SchemaAst, Vec<Diag>) {
    let mut p = Parser {
        toks: tokens,
        pos: 0,
        diags: Vec::new(),
        depth: 0,
        expr_start: 0,
    };
    let ast = p.file();
    (ast, p.diags)
}

struct Parser<'a> {
    toks: &'a [Token],
    pos: usize,
    diags: Vec<Diag>,
    /// Expression nesting, bounded so hostile input cannot overflow the stack.
    depth: u32,
    /// First token of the outermost expression being parsed.
    expr_start: usize,
}

const MAX_DEPTH: u32 = 64;

/// Tokens allowed in one attribute argument or setting value. Operator and
/// member chains nest the tree without nesting the parser, so this bounds
/// the depth of every expression tree (and of the recursive passes over it)
/// on hostile input; real schemas stay far below it.
const MAX_EXPR_TOKENS: usize = 1024;

fn join(a: Span, b: Span) -> Span {
    Span {
        end: b.end.max(a.start),
        ..a
    }
}

impl<'a> Parser<'a> {
    // ----- token helpers -------------------------------------------------

    fn tok(&self) -> &'a Token {
        let i = self.pos.min(self.toks.len().saturating_sub(1));
        &self.toks[i]
    }

    fn peek(&self) -> &'a TokenKind {
        &self.tok().kind
    }

    fn peek_at(&self, n: usize) -> &'a TokenKind {
        let i = (self.pos + n).min(self.toks.len().saturating_sub(1));
        &self.toks[i].kind
    }

    fn at_eof(&self) -> bool {
        matches!(self.peek(), TokenKind::Eof)
    }

    fn bump(&mut self) -> &'a Token {
        let t = self.tok();
        if !self.at_eof() {
            self.pos += 1;
        }
        t
    }

    /// End span of the previously consumed token.
    fn prev_span(&self) -> Span {
        if self.pos == 0 {
            self.tok().span
        } else {
            self.toks[self.pos - 1].span
        }
    }

    fn error(&mut self, span: Span, message: impl Into<String>) -> Reported {
        self.diags.push(Diag::new(span, message));
        Reported
    }

    fn unexpected(&mut self, expected: &str) -> Reported {
        let t = self.tok();
        let msg = format!("expected {expected}, found {}", t.kind.describe());
        self.error(t.span, msg)
    }

    fn eat(&mut self, kind: &TokenKind) -> bool {
        if self.peek() == kind {
            self.bump();
            true
        } else {
            false
        }
    }

    fn expect(&mut self, kind: &TokenKind, expected: &str) -> PResult<Span> {
        if self.peek() == kind {
            Ok(self.bump().span)
        } else {
            Err(self.unexpected(expected))
        }
    }

    fn ident(&mut self, expected: &str) -> PResult<Ident> {
        match self.peek() {
            TokenKind::Ident(name) => {
                let span = self.bump().span;
                Ok(Ident {
                    name: name.clone(),
                    span,
                })
            }
            _ => Err(self.unexpected(expected)),
        }
    }

    /// Whether the current token starts a top-level declaration written at
    /// column 1 (`model x {`, `function f(`, `import "..."`): inside a
    /// block, that means the block's `}` is missing. Fields never have this
    /// shape, even when named `type` or `model`.
    fn is_keyword_at_line_start(&self) -> bool {
        let t = self.tok();
        let TokenKind::Ident(k) = &t.kind else {
            return false;
        };
        if t.span.column != 1 {
            return false;
        }
        matches!(
            (k.as_str(), self.peek_at(1), self.peek_at(2)),
            ("import", TokenKind::Str(_), _)
                | ("function", TokenKind::Ident(_), TokenKind::LParen)
                | (
                    "model" | "enum" | "trait" | "type" | "database",
                    TokenKind::Ident(_),
                    TokenKind::LBrace
                )
        )
    }

    // ----- recovery ------------------------------------------------------

    /// Skips to the next top-level keyword outside any braces.
    fn recover_top(&mut self) {
        let mut depth = 0usize;
        loop {
            match self.peek() {
                TokenKind::Eof => return,
                TokenKind::LBrace => depth += 1,
                TokenKind::RBrace => {
                    if depth <= 1 {
                        self.bump();
                        if depth == 1 {
                            return;
                        }
                        continue;
                    }
                    depth -= 1;
                }
                TokenKind::Ident(k) if depth == 0 && TOP_LEVEL.contains(&k.as_str()) => return,
                _ if self.is_keyword_at_line_start() => return,
                _ => {}
            }
            self.bump();
        }
    }

    /// Skips to the next member of a block after a syntax error in the
    /// member that starts at `start`: scanning resumes right after `start`
    /// (so a member cut short by the error is not lost) and stops at the
    /// block's `}` or at the first token of a later line indented no deeper
    /// than `start` (continuation lines are indented deeper).
    fn recover_member(&mut self, start: &Token) {
        let from = self
            .toks
            .partition_point(|x| x.span.start < start.span.start);
        self.pos = (from + 1).min(self.toks.len().saturating_sub(1));
        let mut braces = 0usize;
        loop {
            let i = self.pos;
            let t = self.tok();
            let first_on_line = i == 0 || self.toks[i - 1].span.line < t.span.line;
            match &t.kind {
                TokenKind::Eof => return,
                TokenKind::LBrace => braces += 1,
                TokenKind::RBrace => {
                    if braces == 0 {
                        return;
                    }
                    braces -= 1;
                }
                TokenKind::Ident(_) | TokenKind::AtAt
                    if first_on_line
                        && braces == 0
                        && t.span.line > start.span.line
                        && (t.span.column <= start.span.column
                            || self.is_keyword_at_line_start()) =>
                {
                    return;
                }
                _ => {}
            }
            self.bump();
        }
    }

    // ----- items ---------------------------------------------------------

    fn file(&mut self) -> SchemaAst {
        let mut items = Vec::new();
        while !self.at_eof() {
            let t = self.tok();
            let start = self.pos;
            let res = match &t.kind {
                TokenKind::Ident(k) => match k.as_str() {
                    "model" => self.model_like().map(Item::Model),
                    "trait" => self.model_like().map(Item::Trait),
                    "type" => self.model_like().map(Item::Type),
                    "enum" => self.enum_decl().map(Item::Enum),
                    "function" => self.function().map(Item::Function),
                    "database" => self.database().map(Item::Database),
                    "import" => self.import().map(Item::Import),
                    _ => Err(self.unexpected(
                        "a declaration (`model`, `enum`, `function`, `database`, `import`, `trait` or `type`)",
                    )),
                },
                _ => Err(self.unexpected(
                    "a declaration (`model`, `enum`, `function`, `database`, `import`, `trait` or `type`)",
                )),
            };
            match res {
                Ok(item) => items.push(item),
                Err(Reported) => {
                    if self.pos == start {
                        self.bump();
                    }
                    self.recover_top();
                }
            }
        }
        SchemaAst { items }
    }

    /// `model|trait|type NAME { members }`.
    fn model_like(&mut self) -> PResult<ModelDecl> {
        let kw = self.bump();
        let doc = kw.doc.clone();
        let what = match &kw.kind {
            TokenKind::Ident(k) => k.clone(),
            _ => String::new(),
        };
        let name = self.ident(&format!("a {what} name"))?;
        let open = self.expect(&TokenKind::LBrace, "`{`")?;
        let mut members = Vec::new();
        loop {
            let t = self.tok();
            match &t.kind {
                TokenKind::RBrace => {
                    self.bump();
                    break;
                }
                TokenKind::Eof => {
                    self.error(open, format!("unclosed `{{` of {what} `{}`", name.name));
                    break;
                }
                _ if self.is_keyword_at_line_start() => {
                    self.error(open, format!("unclosed `{{` of {what} `{}`", name.name));
                    break;
                }
                TokenKind::AtAt => match self.attribute() {
                    Ok(a) => members.push(Member::Attribute(a)),
                    Err(Reported) => self.recover_member(t),
                },
                TokenKind::Ident(_) => match self.field() {
                    Ok(f) => members.push(Member::Field(f)),
                    Err(Reported) => self.recover_member(t),
                },
                TokenKind::At => {
                    self.error(
                        t.span,
                        "field attribute without a field (block attributes start with `@@`)",
                    );
                    self.bump();
                    self.recover_member(t);
                }
                _ => {
                    self.unexpected("a field or a `@@` attribute");
                    self.bump();
                    self.recover_member(t);
                }
            }
        }
        Ok(ModelDecl {
            name,
            doc,
            members,
            span: join(kw.span, self.prev_span()),
        })
    }

    /// `name Type[]? @attr...`.
    fn field(&mut self) -> PResult<FieldDecl> {
        let first = self.tok();
        let name = self.ident("a field name")?;
        let t = self.tok();
        if t.span.line != name.span.line {
            return Err(self.error(name.span, format!("field `{}` has no type", name.name)));
        }
        if !matches!(t.kind, TokenKind::Ident(_)) {
            let msg = format!(
                "expected a type for field `{}`, found {}",
                name.name,
                t.kind.describe()
            );
            return Err(self.error(t.span, msg));
        }
        let ty = self.type_ref()?;
        let mut attributes = Vec::new();
        while matches!(self.peek(), TokenKind::At) {
            attributes.push(self.attribute()?);
        }
        Ok(FieldDecl {
            name,
            doc: first.doc.clone(),
            ty,
            attributes,
            span: join(first.span, self.prev_span()),
        })
    }

    fn type_ref(&mut self) -> PResult<TypeRef> {
        let name = self.ident("a type")?;
        let mut list = false;
        let mut optional = false;
        loop {
            match self.peek() {
                TokenKind::LBracket if !list => {
                    self.bump();
                    self.expect(&TokenKind::RBracket, "`]`")?;
                    list = true;
                }
                TokenKind::Question if !optional => {
                    self.bump();
                    optional = true;
                }
                _ => break,
            }
        }
        Ok(TypeRef {
            span: join(name.span, self.prev_span()),
            name,
            list,
            optional,
        })
    }

    /// `@name(args)` / `@@name(args)`, at the `@`/`@@`.
    fn attribute(&mut self) -> PResult<AttributeAst> {
        let at = self.bump();
        let block = matches!(at.kind, TokenKind::AtAt);
        let mut name = self.ident("an attribute name")?;
        while matches!(self.peek(), TokenKind::Dot) {
            self.bump();
            let part = self.ident("an attribute name after `.`")?;
            name.name.push('.');
            name.name.push_str(&part.name);
            name.span = join(name.span, part.span);
        }
        let args = if matches!(self.peek(), TokenKind::LParen) {
            let open = self.bump().span;
            let mut args = Vec::new();
            loop {
                if self.eat(&TokenKind::RParen) {
                    break;
                }
                if self.at_eof() || self.is_keyword_at_line_start() {
                    let msg = format!(
                        "unclosed `(` of `{}{}`",
                        if block { "@@" } else { "@" },
                        name.name
                    );
                    return Err(self.error(open, msg));
                }
                let arg_line = self.tok().span.line;
                args.push(self.arg()?);
                if self.eat(&TokenKind::Comma) {
                    continue;
                }
                // Something other than `,`/`)` after an argument that began on
                // a later line, or on a new line: the `(` was never closed.
                if !matches!(self.peek(), TokenKind::RParen)
                    && (self.tok().span.line != self.prev_span().line || arg_line != open.line)
                {
                    let msg = format!(
                        "unclosed `(` of `{}{}`",
                        if block { "@@" } else { "@" },
                        name.name
                    );
                    return Err(self.error(open, msg));
                }
                self.expect(&TokenKind::RParen, "`,` or `)`")?;
                break;
            }
            Some(args)
        } else {
            None
        };
        Ok(AttributeAst {
            name,
            block,
            args,
            span: join(at.span, self.prev_span()),
        })
    }

    fn arg(&mut self) -> PResult<Arg> {
        let start = self.tok().span;
        let name = match (self.peek(), self.peek_at(1)) {
            (TokenKind::Ident(_), TokenKind::Colon) => {
                let n = self.ident("an argument name")?;
                self.bump();
                Some(n)
            }
            _ => None,
        };
        let value = self.expr()?;
        Ok(Arg {
            name,
            value,
            span: join(start, self.prev_span()),
        })
    }

    /// `enum Name { a b c }` (commas optional).
    fn enum_decl(&mut self) -> PResult<EnumDecl> {
        let kw = self.bump();
        let name = self.ident("an enum name")?;
        let open = self.expect(&TokenKind::LBrace, "`{`")?;
        let mut values = Vec::new();
        loop {
            let t = self.tok();
            match &t.kind {
                TokenKind::RBrace => {
                    self.bump();
                    break;
                }
                TokenKind::Eof => {
                    self.error(open, format!("unclosed `{{` of enum `{}`", name.name));
                    break;
                }
                _ if self.is_keyword_at_line_start() => {
                    self.error(open, format!("unclosed `{{` of enum `{}`", name.name));
                    break;
                }
                TokenKind::Comma => {
                    self.bump();
                }
                TokenKind::AtAt => {
                    // Block attributes on enums (`@@map`) are accepted and ignored.
                    if self.attribute().is_err() {
                        self.recover_member(t);
                    }
                }
                TokenKind::Ident(_) => {
                    let v = self.ident("an enum value")?;
                    let mut attributes = Vec::new();
                    let mut failed = false;
                    while matches!(self.peek(), TokenKind::At) {
                        match self.attribute() {
                            Ok(a) => attributes.push(a),
                            Err(Reported) => {
                                failed = true;
                                break;
                            }
                        }
                    }
                    if failed {
                        self.recover_member(t);
                    }
                    values.push(EnumValue {
                        name: v,
                        doc: t.doc.clone(),
                        attributes,
                    });
                }
                _ => {
                    self.unexpected("an enum value");
                    self.bump();
                    self.recover_member(t);
                }
            }
        }
        Ok(EnumDecl {
            name,
            doc: kw.doc.clone(),
            values,
            span: join(kw.span, self.prev_span()),
        })
    }

    /// `function name(a: T, b: T): T { @@expr("...") }`.
    fn function(&mut self) -> PResult<FunctionDecl> {
        let kw = self.bump();
        let name = self.ident("a function name")?;
        self.expect(&TokenKind::LParen, "`(`")?;
        let mut params = Vec::new();
        loop {
            if self.eat(&TokenKind::RParen) {
                break;
            }
            let p = self.ident("a parameter name")?;
            self.expect(&TokenKind::Colon, "`:` and a parameter type")?;
            let ty = self.type_ref()?;
            params.push((p, ty));
            if self.eat(&TokenKind::Comma) {
                continue;
            }
            self.expect(&TokenKind::RParen, "`,` or `)`")?;
            break;
        }
        let returns = if self.eat(&TokenKind::Colon) {
            Some(self.type_ref()?)
        } else {
            None
        };
        let open = self.expect(&TokenKind::LBrace, "`{`")?;
        let mut attributes = Vec::new();
        loop {
            let t = self.tok();
            match &t.kind {
                TokenKind::RBrace => {
                    self.bump();
                    break;
                }
                TokenKind::Eof => {
                    self.error(open, format!("unclosed `{{` of function `{}`", name.name));
                    break;
                }
                _ if self.is_keyword_at_line_start() => {
                    self.error(open, format!("unclosed `{{` of function `{}`", name.name));
                    break;
                }
                TokenKind::AtAt => match self.attribute() {
                    Ok(a) => attributes.push(a),
                    Err(Reported) => self.recover_member(t),
                },
                _ => {
                    self.unexpected("`@@expr(\"...\")`");
                    self.bump();
                    self.recover_member(t);
                }
            }
        }
        Ok(FunctionDecl {
            name,
            doc: kw.doc.clone(),
            params,
            returns,
            attributes,
            span: join(kw.span, self.prev_span()),
        })
    }

    /// `database name { path "..."; driver jsonl; retention 30d }`.
    fn database(&mut self) -> PResult<DatabaseDecl> {
        let kw = self.bump();
        let name = self.ident("a database name")?;
        let open = self.expect(&TokenKind::LBrace, "`{`")?;
        let mut settings = Vec::new();
        loop {
            let t = self.tok();
            match &t.kind {
                TokenKind::RBrace => {
                    self.bump();
                    break;
                }
                TokenKind::Eof => {
                    self.error(open, format!("unclosed `{{` of database `{}`", name.name));
                    break;
                }
                _ if self.is_keyword_at_line_start() => {
                    self.error(open, format!("unclosed `{{` of database `{}`", name.name));
                    break;
                }
                TokenKind::Semi => {
                    self.bump();
                }
                TokenKind::Ident(_) => {
                    let key = self.ident("a setting name")?;
                    let v = self.tok();
                    if v.span.line != key.span.line
                        || matches!(v.kind, TokenKind::Semi | TokenKind::RBrace)
                    {
                        self.error(key.span, format!("setting `{}` has no value", key.name));
                        continue;
                    }
                    match self.expr() {
                        Ok(value) => settings.push(Setting { key, value }),
                        Err(Reported) => self.recover_member(t),
                    }
                }
                _ => {
                    self.unexpected("a setting (`path`, `driver` or `retention`)");
                    self.bump();
                    self.recover_member(t);
                }
            }
        }
        Ok(DatabaseDecl {
            name,
            doc: kw.doc.clone(),
            settings,
            span: join(kw.span, self.prev_span()),
        })
    }

    /// `import "./x.lite"`.
    fn import(&mut self) -> PResult<ImportDecl> {
        let kw = self.bump();
        match self.peek() {
            TokenKind::Str(s) => {
                let span = self.bump().span;
                Ok(ImportDecl {
                    path: Ident {
                        name: s.clone(),
                        span,
                    },
                    span: join(kw.span, span),
                })
            }
            _ => Err(self.unexpected("a quoted path after `import`")),
        }
    }

    // ----- expressions ---------------------------------------------------

    /// Errors once the current outermost expression exceeds
    /// [`MAX_EXPR_TOKENS`].
    fn check_length(&mut self) -> PResult<()> {
        if self.pos.saturating_sub(self.expr_start) > MAX_EXPR_TOKENS {
            let span = self.tok().span;
            return Err(self.error(span, "expression is too long"));
        }
        Ok(())
    }

    fn expr(&mut self) -> PResult<Expr> {
        if self.depth == 0 {
            self.expr_start = self.pos;
        }
        self.check_length()?;
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            self.depth -= 1;
            let span = self.tok().span;
            return Err(self.error(span, "expression is nested too deeply"));
        }
        let r = self.or_expr();
        self.depth -= 1;
        r
    }

    fn or_expr(&mut self) -> PResult<Expr> {
        let mut left = self.and_expr()?;
        while matches!(self.peek(), TokenKind::OrOr) {
            self.check_length()?;
            self.bump();
            let right = self.and_expr()?;
            left = binary(BinOp::Or, left, right);
        }
        Ok(left)
    }

    fn and_expr(&mut self) -> PResult<Expr> {
        let mut left = self.cmp_expr()?;
        while matches!(self.peek(), TokenKind::AndAnd) {
            self.check_length()?;
            self.bump();
            let right = self.cmp_expr()?;
            left = binary(BinOp::And, left, right);
        }
        Ok(left)
    }

    fn cmp_expr(&mut self) -> PResult<Expr> {
        let left = self.unary()?;
        let op = match self.peek() {
            TokenKind::EqEq => BinOp::Eq,
            TokenKind::NotEq => BinOp::Ne,
            TokenKind::Lt => BinOp::Lt,
            TokenKind::Le => BinOp::Le,
            TokenKind::Gt => BinOp::Gt,
            TokenKind::Ge => BinOp::Ge,
            TokenKind::Assign => {
                let span = self.tok().span;
                return Err(self.error(span, "expected `==` for comparison, found `=`"));
            }
            _ => return Ok(left),
        };
        self.bump();
        let right = self.unary()?;
        Ok(binary(op, left, right))
    }

    fn unary(&mut self) -> PResult<Expr> {
        let t = self.tok();
        match &t.kind {
            TokenKind::Bang => {
                self.bump();
                self.depth += 1;
                if self.depth > MAX_DEPTH {
                    self.depth -= 1;
                    return Err(self.error(t.span, "expression is nested too deeply"));
                }
                let inner = self.unary();
                self.depth -= 1;
                let inner = inner?;
                Ok(Expr {
                    span: join(t.span, inner.span),
                    kind: ExprKind::Not(Box::new(inner)),
                })
            }
            TokenKind::Minus => {
                self.bump();
                match self.peek() {
                    TokenKind::Number(n) => {
                        let end = self.bump().span;
                        Ok(Expr {
                            kind: ExprKind::Number(-n),
                            span: join(t.span, end),
                        })
                    }
                    _ => Err(self.unexpected("a number after `-`")),
                }
            }
            _ => self.postfix(),
        }
    }

    fn postfix(&mut self) -> PResult<Expr> {
        let mut e = self.primary()?;
        while matches!(self.peek(), TokenKind::Dot) {
            self.check_length()?;
            self.bump();
            let m = self.ident("a name after `.`")?;
            e = Expr {
                span: join(e.span, m.span),
                kind: ExprKind::Member(Box::new(e), m),
            };
        }
        Ok(e)
    }

    fn primary(&mut self) -> PResult<Expr> {
        let t = self.tok();
        let kind = match &t.kind {
            TokenKind::Str(s) => ExprKind::Str(s.clone()),
            TokenKind::Number(n) => ExprKind::Number(*n),
            TokenKind::Duration(d) => ExprKind::Duration(d.clone()),
            TokenKind::Ident(name) => match name.as_str() {
                "true" => ExprKind::Bool(true),
                "false" => ExprKind::Bool(false),
                "null" => ExprKind::Null,
                _ => {
                    self.bump();
                    if matches!(self.peek(), TokenKind::LParen) {
                        self.bump();
                        let mut args = Vec::new();
                        loop {
                            if self.eat(&TokenKind::RParen) {
                                break;
                            }
                            args.push(self.expr()?);
                            if self.eat(&TokenKind::Comma) {
                                continue;
                            }
                            self.expect(&TokenKind::RParen, "`,` or `)`")?;
                            break;
                        }
                        return Ok(Expr {
                            kind: ExprKind::Call(
                                Ident {
                                    name: name.clone(),
                                    span: t.span,
                                },
                                args,
                            ),
                            span: join(t.span, self.prev_span()),
                        });
                    }
                    return Ok(Expr {
                        kind: ExprKind::Ident(name.clone()),
                        span: t.span,
                    });
                }
            },
            TokenKind::LParen => {
                self.bump();
                let inner = self.expr()?;
                self.expect(&TokenKind::RParen, "`)`")?;
                return Ok(Expr {
                    kind: inner.kind,
                    span: join(t.span, self.prev_span()),
                });
            }
            TokenKind::LBracket => {
                self.bump();
                let mut items = Vec::new();
                loop {
                    if self.eat(&TokenKind::RBracket) {
                        break;
                    }
                    items.push(self.expr()?);
                    if self.eat(&TokenKind::Comma) {
                        continue;
                    }
                    self.expect(&TokenKind::RBracket, "`,` or `]`")?;
                    break;
                }
                return Ok(Expr {
                    kind: ExprKind::Array(items),
                    span: join(t.span, self.prev_span()),
                });
            }
            _ => return Err(self.unexpected("a value")),
        };
        self.bump();
        Ok(Expr { kind, span: t.span })
    }
}

fn binary(op: BinOp, left: Expr, right: Expr) -> Expr {
    Expr {
        span: join(left.span, right.span),
        kind: ExprKind::Binary(op, Box::new(left), Box::new(right)),
    }
}
