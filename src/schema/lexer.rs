//! Tokenizer for `.lite` sources.
//!
//! Owns turning text into spanned [`Token`]s: identifiers, string literals
//! (`"…"` and `'…'`, with `\` escapes), numbers (and durations such as `30d`),
//! punctuation and operators. `//` comments are skipped; `///` doc comments
//! are not tokens of their own but are attached to the token that follows
//! them ([`Token::doc`]), which is how the parser finds the doc of a model,
//! field or enum. Newlines carry no meaning in the language (fields and
//! database statements are delimited by their own shape), so they are skipped.
//!
//! The lexer never fails: an unexpected character becomes a
//! [`TokenKind::Unknown`] token and an unterminated string is reported as a
//! lexical diagnostic, so the parser can report it with every other problem.

use super::span::Span;

/// The kinds of tokens.
#[derive(Debug, Clone, PartialEq)]
pub enum TokenKind {
    /// An identifier or keyword (`model`, `users`, `Integer`).
    Ident(String),
    /// A string literal, unescaped.
    Str(String),
    /// A number literal.
    Number(f64),
    /// A number with a unit suffix (`30d`, `12h`), as written.
    Duration(String),
    /// `{`.
    LBrace,
    /// `}`.
    RBrace,
    /// `(`.
    LParen,
    /// `)`.
    RParen,
    /// `[`.
    LBracket,
    /// `]`.
    RBracket,
    /// `,`.
    Comma,
    /// `:`.
    Colon,
    /// `;`.
    Semi,
    /// `.`.
    Dot,
    /// `?`.
    Question,
    /// `@`.
    At,
    /// `@@`.
    AtAt,
    /// `=`.
    Assign,
    /// `==`.
    EqEq,
    /// `!=`.
    NotEq,
    /// `<`.
    Lt,
    /// `<=`.
    Le,
    /// `>`.
    Gt,
    /// `>=`.
    Ge,
    /// `&&`.
    AndAnd,
    /// `||`.
    OrOr,
    /// `!`.
    Bang,
    /// `-` (only meaningful before a number).
    Minus,
    /// A character the language does not use.
    Unknown(char),
    /// End of input.
    Eof,
}

impl TokenKind {
    /// A short human description used in "expected …, found …" messages.
    pub fn describe(&self) -> String {
        match self {
            TokenKind::Ident(s) => format!("`{s}`"),
            TokenKind::Str(_) => "a string".into(),
            TokenKind::Number(_) => "a number".into(),
            TokenKind::Duration(d) => format!("`{d}`"),
            TokenKind::LBrace => "`{`".into(),
            TokenKind::RBrace => "`}`".into(),
            TokenKind::LParen => "`(`".into(),
            TokenKind::RParen => "`)`".into(),
            TokenKind::LBracket => "`[`".into(),
            TokenKind::RBracket => "`]`".into(),
            TokenKind::Comma => "`,`".into(),
            TokenKind::Colon => "`:`".into(),
            TokenKind::Semi => "`;`".into(),
            TokenKind::Dot => "`.`".into(),
            TokenKind::Question => "`?`".into(),
            TokenKind::At => "`@`".into(),
            TokenKind::AtAt => "`@@`".into(),
            TokenKind::Assign => "`=`".into(),
            TokenKind::EqEq => "`==`".into(),
            TokenKind::NotEq => "`!=`".into(),
            TokenKind::Lt => "`<`".into(),
            TokenKind::Le => "`<=`".into(),
            TokenKind::Gt => "`>`".into(),
            TokenKind::Ge => "`>=`".into(),
            TokenKind::AndAnd => "`&&`".into(),
            TokenKind::OrOr => "`||`".into(),
            TokenKind::Bang => "`!`".into(),
            TokenKind::Minus => "`-`".into(),
            TokenKind::Unknown(c) => format!("`{}`", c.escape_debug()),
            TokenKind::Eof => "end of file".into(),
        }
    }
}

/// A token with its position and the `///` doc comment lines before it.
#[derive(Debug, Clone, PartialEq)]
pub struct Token {
    /// What it is.
    pub kind: TokenKind,
    /// Where it is.
    pub span: Span,
    /// `///` lines directly before the token, joined with `\n`.
    pub doc: Option<String>,
}

/// A problem found while tokenizing (an unterminated string).
#[derive(Debug, Clone, PartialEq)]
pub struct LexError {
    /// Where.
    pub span: Span,
    /// What.
    pub message: String,
}

struct Cursor<'a> {
    src: &'a str,
    pos: usize,
    line: u32,
    column: u32,
    file: u32,
}

impl Cursor<'_> {
    fn peek(&self) -> Option<char> {
        self.src[self.pos..].chars().next()
    }

    fn peek2(&self) -> Option<char> {
        let mut it = self.src[self.pos..].chars();
        it.next();
        it.next()
    }

    fn bump(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.pos += c.len_utf8();
        if c == '\n' {
            self.line += 1;
            self.column = 1;
        } else {
            self.column += 1;
        }
        Some(c)
    }

    fn start(&self) -> Span {
        Span {
            file: self.file,
            start: self.pos as u32,
            end: self.pos as u32,
            line: self.line,
            column: self.column,
        }
    }

    fn finish(&self, mut span: Span) -> Span {
        span.end = self.pos as u32;
        span
    }
}

/// Tokenizes `src` (file index `file` for the spans). The last token is
/// always [`TokenKind::Eof`].
pub fn tokenize(src: &str, file: u32) -> (Vec<Token>, Vec<LexError>) {
    // A UTF-8 byte order mark is not part of the text.
    let bom = if src.starts_with('\u{feff}') { 3 } else { 0 };
    let mut cur = Cursor {
        src,
        pos: bom,
        line: 1,
        column: 1,
        file,
    };
    let mut tokens = Vec::new();
    let mut errors = Vec::new();
    let mut doc: Vec<String> = Vec::new();

    while let Some(c) = cur.peek() {
        if c.is_whitespace() {
            cur.bump();
            continue;
        }
        if c == '/' && cur.peek2() == Some('/') {
            let rest = &src[cur.pos..];
            let line_end = rest.find('\n').unwrap_or(rest.len());
            let text = &rest[..line_end];
            if let Some(d) = text.strip_prefix("///") {
                // `////…` is a plain comment, as in Rust.
                if !d.starts_with('/') {
                    doc.push(d.strip_prefix(' ').unwrap_or(d).trim_end().to_string());
                }
            }
            while let Some(c) = cur.peek() {
                if c == '\n' {
                    break;
                }
                cur.bump();
            }
            continue;
        }
        if c == '/' && cur.peek2() == Some('*') {
            let span = cur.start();
            cur.bump();
            cur.bump();
            let mut closed = false;
            while let Some(c) = cur.bump() {
                if c == '*' && cur.peek() == Some('/') {
                    cur.bump();
                    closed = true;
                    break;
                }
            }
            if !closed {
                errors.push(LexError {
                    span: cur.finish(span),
                    message: "unterminated block comment".into(),
                });
            }
            continue;
        }

        let span = cur.start();
        let kind = if c.is_alphabetic() || c == '_' {
            let start = cur.pos;
            while let Some(c) = cur.peek() {
                if c.is_alphanumeric() || c == '_' {
                    cur.bump();
                } else {
                    break;
                }
            }
            TokenKind::Ident(src[start..cur.pos].to_string())
        } else if c.is_ascii_digit() {
            lex_number(&mut cur)
        } else if c == '"' || c == '\'' {
            match lex_string(&mut cur, c) {
                Ok(s) => TokenKind::Str(s),
                Err(s) => {
                    errors.push(LexError {
                        span: cur.finish(span),
                        message: "unterminated string literal".into(),
                    });
                    TokenKind::Str(s)
                }
            }
        } else {
            cur.bump();
            let next = cur.peek();
            let two = |k: TokenKind, cur: &mut Cursor<'_>| {
                cur.bump();
                k
            };
            match (c, next) {
                ('@', Some('@')) => two(TokenKind::AtAt, &mut cur),
                ('@', _) => TokenKind::At,
                ('=', Some('=')) => two(TokenKind::EqEq, &mut cur),
                ('=', _) => TokenKind::Assign,
                ('!', Some('=')) => two(TokenKind::NotEq, &mut cur),
                ('!', _) => TokenKind::Bang,
                ('<', Some('=')) => two(TokenKind::Le, &mut cur),
                ('<', _) => TokenKind::Lt,
                ('>', Some('=')) => two(TokenKind::Ge, &mut cur),
                ('>', _) => TokenKind::Gt,
                ('&', Some('&')) => two(TokenKind::AndAnd, &mut cur),
                ('|', Some('|')) => two(TokenKind::OrOr, &mut cur),
                ('{', _) => TokenKind::LBrace,
                ('}', _) => TokenKind::RBrace,
                ('(', _) => TokenKind::LParen,
                (')', _) => TokenKind::RParen,
                ('[', _) => TokenKind::LBracket,
                (']', _) => TokenKind::RBracket,
                (',', _) => TokenKind::Comma,
                (':', _) => TokenKind::Colon,
                (';', _) => TokenKind::Semi,
                ('.', _) => TokenKind::Dot,
                ('?', _) => TokenKind::Question,
                ('-', _) => TokenKind::Minus,
                (c, _) => TokenKind::Unknown(c),
            }
        };
        let doc_text = if doc.is_empty() {
            None
        } else {
            Some(std::mem::take(&mut doc).join("\n"))
        };
        tokens.push(Token {
            kind,
            span: cur.finish(span),
            doc: doc_text,
        });
    }
    let span = cur.start();
    tokens.push(Token {
        kind: TokenKind::Eof,
        span,
        doc: None,
    });
    (tokens, errors)
}

fn lex_number(cur: &mut Cursor<'_>) -> TokenKind {
    let start = cur.pos;
    while cur.peek().is_some_and(|c| c.is_ascii_digit() || c == '_') {
        cur.bump();
    }
    if cur.peek() == Some('.') && cur.peek2().is_some_and(|c| c.is_ascii_digit()) {
        cur.bump();
        while cur.peek().is_some_and(|c| c.is_ascii_digit()) {
            cur.bump();
        }
    }
    if matches!(cur.peek(), Some('e' | 'E'))
        && cur
            .peek2()
            .is_some_and(|c| c.is_ascii_digit() || c == '-' || c == '+')
    {
        let save = (cur.pos, cur.line, cur.column);
        cur.bump();
        if matches!(cur.peek(), Some('-' | '+')) {
            cur.bump();
        }
        if cur.peek().is_some_and(|c| c.is_ascii_digit()) {
            while cur.peek().is_some_and(|c| c.is_ascii_digit()) {
                cur.bump();
            }
        } else {
            (cur.pos, cur.line, cur.column) = save;
        }
    }
    if cur.peek().is_some_and(|c| c.is_alphabetic()) {
        while cur.peek().is_some_and(|c| c.is_alphanumeric() || c == '_') {
            cur.bump();
        }
        return TokenKind::Duration(cur.src[start..cur.pos].to_string());
    }
    let text: String = cur.src[start..cur.pos]
        .chars()
        .filter(|c| *c != '_')
        .collect();
    TokenKind::Number(text.parse().unwrap_or(f64::NAN))
}

/// Reads a string literal; `Err` carries what was read when the closing
/// quote is missing (the string runs to the end of the line).
fn lex_string(cur: &mut Cursor<'_>, quote: char) -> Result<String, String> {
    cur.bump();
    let mut out = String::new();
    loop {
        match cur.peek() {
            None | Some('\n') => return Err(out),
            Some(c) if c == quote => {
                cur.bump();
                return Ok(out);
            }
            Some('\\') => {
                cur.bump();
                match cur.peek() {
                    None | Some('\n') => return Err(out),
                    Some(e) => {
                        cur.bump();
                        out.push(match e {
                            'n' => '\n',
                            't' => '\t',
                            'r' => '\r',
                            '0' => '\0',
                            other => other,
                        });
                    }
                }
            }
            Some(c) => {
                cur.bump();
                out.push(c);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(src: &str) -> Vec<TokenKind> {
        tokenize(src, 0).0.into_iter().map(|t| t.kind).collect()
    }

    #[test]
    fn lexes_operators_and_literals() {
        use TokenKind::*;
        assert_eq!(
            kinds("@@allow('read', a.b == auth().id && !x) 30d -1.5"),
            vec![
                AtAt,
                Ident("allow".into()),
                LParen,
                Str("read".into()),
                Comma,
                Ident("a".into()),
                Dot,
                Ident("b".into()),
                EqEq,
                Ident("auth".into()),
                LParen,
                RParen,
                Dot,
                Ident("id".into()),
                AndAnd,
                Bang,
                Ident("x".into()),
                RParen,
                Duration("30d".into()),
                Minus,
                Number(1.5),
                Eof
            ]
        );
    }

    #[test]
    fn attaches_doc_comments_and_tracks_positions() {
        let (toks, errs) = tokenize("// plain\n/// The users.\n///  Second.\nmodel x", 0);
        assert!(errs.is_empty());
        assert_eq!(toks[0].doc.as_deref(), Some("The users.\n Second."));
        assert_eq!((toks[1].span.line, toks[1].span.column), (4, 7));
    }

    #[test]
    fn reports_unterminated_strings() {
        let (toks, errs) = tokenize("a \"abc\nb", 0);
        assert_eq!(errs.len(), 1);
        assert_eq!(toks[1].kind, TokenKind::Str("abc".into()));
        assert_eq!(toks[2].kind, TokenKind::Ident("b".into()));
    }
}
