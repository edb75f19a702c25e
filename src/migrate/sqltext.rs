//! A small SQLite tokenizer for the DDL text kept in `sqlite_master`.
//!
//! Owns only lexical work: splitting a `CREATE TABLE` body into column
//! definitions and table constraints, and normalising DDL text (quotes,
//! keyword case, whitespace) so two spellings of the same definition compare
//! equal. It never executes SQL and never parses expressions beyond
//! balancing parentheses.

/// One token with its byte range in the source text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Token {
    /// Normalised text: identifiers unquoted, keywords upper-cased.
    pub(crate) norm: String,
    /// What kind of token.
    pub(crate) kind: TokKind,
    /// Byte offset of the first character in the source.
    pub(crate) start: usize,
    /// Byte offset one past the last character in the source.
    pub(crate) end: usize,
}

/// Token kinds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TokKind {
    /// A bare word (keyword or identifier).
    Word,
    /// A quoted identifier (`"x"`, `` `x` ``, `[x]`).
    Quoted,
    /// A string literal.
    Str,
    /// A number or blob literal.
    Number,
    /// Punctuation: `(`, `)`, `,`, `;`, operators.
    Punct,
}

impl Token {
    /// Whether this token is an identifier-like word or quoted name equal
    /// (case-insensitively) to `name`.
    pub(crate) fn is_name(&self, name: &str) -> bool {
        matches!(self.kind, TokKind::Word | TokKind::Quoted) && self.norm.eq_ignore_ascii_case(name)
    }

    /// Whether this token is the bare keyword `kw` (upper-case).
    pub(crate) fn is_kw(&self, kw: &str) -> bool {
        self.kind == TokKind::Word && self.norm == kw
    }

    /// Whether this token is the punctuation `p`.
    pub(crate) fn is_punct(&self, p: &str) -> bool {
        self.kind == TokKind::Punct && self.norm == p
    }
}

/// Splits `sql` into tokens, dropping whitespace and comments.
pub(crate) fn tokenize(sql: &str) -> Vec<Token> {
    let bytes = sql.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        let start = i;
        if c.is_ascii_whitespace() {
            i += 1;
            continue;
        }
        if c == b'-' && bytes.get(i + 1) == Some(&b'-') {
            while i < bytes.len() && bytes[i] != b'\n' {
                i += 1;
            }
            continue;
        }
        if c == b'/' && bytes.get(i + 1) == Some(&b'*') {
            i += 2;
            while i < bytes.len() && !(bytes[i] == b'*' && bytes.get(i + 1) == Some(&b'/')) {
                i += 1;
            }
            i = (i + 2).min(bytes.len());
            continue;
        }
        let (kind, norm) = match c {
            b'\'' | b'"' | b'`' => {
                let q = c;
                i += 1;
                let mut text = String::new();
                let mut seg = i;
                while i < bytes.len() {
                    if bytes[i] == q {
                        if bytes.get(i + 1) == Some(&q) {
                            text.push_str(&sql[seg..=i]);
                            i += 2;
                            seg = i;
                            continue;
                        }
                        break;
                    }
                    i += 1;
                }
                text.push_str(&sql[seg..i.min(bytes.len())]);
                i = (i + 1).min(bytes.len());
                if q == b'\'' {
                    (TokKind::Str, format!("'{}'", text.replace('\'', "''")))
                } else {
                    (TokKind::Quoted, text)
                }
            }
            b'[' => {
                i += 1;
                let s = i;
                while i < bytes.len() && bytes[i] != b']' {
                    i += 1;
                }
                let text = sql[s..i.min(bytes.len())].to_string();
                i = (i + 1).min(bytes.len());
                (TokKind::Quoted, text)
            }
            b'x' | b'X' if bytes.get(i + 1) == Some(&b'\'') => {
                i += 2;
                while i < bytes.len() && bytes[i] != b'\'' {
                    i += 1;
                }
                i = (i + 1).min(bytes.len());
                (TokKind::Number, sql[start..i].to_ascii_uppercase())
            }
            c if c.is_ascii_digit()
                || (c == b'.' && bytes.get(i + 1).is_some_and(|d| d.is_ascii_digit())) =>
            {
                while i < bytes.len()
                    && (bytes[i].is_ascii_alphanumeric()
                        || bytes[i] == b'.'
                        || ((bytes[i] == b'+' || bytes[i] == b'-')
                            && matches!(bytes[i - 1], b'e' | b'E')))
                {
                    i += 1;
                }
                (TokKind::Number, sql[start..i].to_string())
            }
            c if c.is_ascii_alphabetic() || c == b'_' || c >= 0x80 || c == b'$' => {
                while i < bytes.len()
                    && (bytes[i].is_ascii_alphanumeric()
                        || bytes[i] == b'_'
                        || bytes[i] == b'$'
                        || bytes[i] >= 0x80)
                {
                    i += 1;
                }
                let w = &sql[start..i];
                let norm = if is_keyword(w) {
                    w.to_ascii_uppercase()
                } else {
                    w.to_string()
                };
                (TokKind::Word, norm)
            }
            _ => {
                let two = sql.get(i..i + 2).unwrap_or("");
                let len = if matches!(two, "<=" | ">=" | "!=" | "<>" | "==" | "||" | "<<" | ">>") {
                    2
                } else {
                    1
                };
                // Never split a multi-byte character.
                let mut end = i + len;
                while end < bytes.len() && !sql.is_char_boundary(end) {
                    end += 1;
                }
                i = end;
                (TokKind::Punct, sql[start..end].to_string())
            }
        };
        out.push(Token {
            norm,
            kind,
            start,
            end: i,
        });
    }
    out
}

/// SQL keywords that are compared case-insensitively (upper-cased when
/// normalising). Identifiers that are not keywords keep their case.
fn is_keyword(w: &str) -> bool {
    const KW: &[&str] = &[
        "ABORT",
        "ACTION",
        "AFTER",
        "ALWAYS",
        "AND",
        "AS",
        "ASC",
        "AUTOINCREMENT",
        "BEFORE",
        "BEGIN",
        "BETWEEN",
        "BLOB",
        "BY",
        "CASCADE",
        "CASE",
        "CAST",
        "CHECK",
        "COLLATE",
        "CONFLICT",
        "CONSTRAINT",
        "CREATE",
        "CURRENT_DATE",
        "CURRENT_TIME",
        "CURRENT_TIMESTAMP",
        "DEFAULT",
        "DEFERRABLE",
        "DEFERRED",
        "DELETE",
        "DESC",
        "DISTINCT",
        "EACH",
        "ELSE",
        "END",
        "ESCAPE",
        "EXISTS",
        "FAIL",
        "FALSE",
        "FOR",
        "FOREIGN",
        "FROM",
        "GENERATED",
        "GLOB",
        "IF",
        "IGNORE",
        "IMMEDIATE",
        "IN",
        "INDEX",
        "INITIALLY",
        "INSERT",
        "INSTEAD",
        "INT",
        "INTEGER",
        "INTO",
        "IS",
        "ISNULL",
        "KEY",
        "LIKE",
        "MATCH",
        "NEW",
        "NO",
        "NOT",
        "NOTNULL",
        "NULL",
        "OF",
        "OLD",
        "ON",
        "OR",
        "PRIMARY",
        "REAL",
        "REFERENCES",
        "REGEXP",
        "REPLACE",
        "RESTRICT",
        "ROW",
        "ROWID",
        "SELECT",
        "SET",
        "STORED",
        "STRICT",
        "TABLE",
        "TEMP",
        "TEMPORARY",
        "TEXT",
        "THEN",
        "TRIGGER",
        "TRUE",
        "UNIQUE",
        "UPDATE",
        "USING",
        "VALUES",
        "VIRTUAL",
        "WHEN",
        "WHERE",
        "WITHOUT",
        "ANY",
        "NUMERIC",
    ];
    KW.iter().any(|k| k.eq_ignore_ascii_case(w))
}

/// Joins tokens into one canonical string: identifiers unquoted, keywords
/// upper-case, one space between tokens.
pub(crate) fn join(tokens: &[Token]) -> String {
    let mut s = String::new();
    for (n, t) in tokens.iter().enumerate() {
        if n > 0 {
            s.push(' ');
        }
        s.push_str(&t.norm);
    }
    s
}

/// The canonical form of a whole statement, with `IF NOT EXISTS` removed
/// (SQLite drops it from `sqlite_master` too, but hand-written DDL may keep it).
pub(crate) fn normalize(sql: &str) -> String {
    let toks = tokenize(sql);
    let mut kept: Vec<Token> = Vec::with_capacity(toks.len());
    let mut i = 0;
    while i < toks.len() {
        if toks[i].is_kw("IF")
            && toks.get(i + 1).is_some_and(|t| t.is_kw("NOT"))
            && toks.get(i + 2).is_some_and(|t| t.is_kw("EXISTS"))
        {
            i += 3;
            continue;
        }
        if toks[i].is_punct(";") {
            i += 1;
            continue;
        }
        kept.push(toks[i].clone());
        i += 1;
    }
    join(&kept)
}

/// The parts of a `CREATE TABLE name (body) options` statement.
#[derive(Debug, Clone, Default)]
pub(crate) struct TableParts {
    /// Column definitions: (column name, canonical definition text, text as written).
    pub(crate) columns: Vec<(String, String, String)>,
    /// Table constraints, canonical text.
    pub(crate) constraints: Vec<String>,
    /// Canonical text after the closing parenthesis (`STRICT`, `WITHOUT ROWID`).
    pub(crate) options: String,
    /// Byte offset of the opening parenthesis of the body in the source.
    pub(crate) body_start: usize,
}

const CONSTRAINT_STARTS: &[&str] = &["CONSTRAINT", "PRIMARY", "UNIQUE", "CHECK", "FOREIGN"];

/// Splits a `CREATE TABLE` statement into columns, table constraints and
/// options. Returns `None` for text that is not a `CREATE TABLE ... (...)`.
pub(crate) fn split_table(sql: &str) -> Option<TableParts> {
    let toks = tokenize(sql);
    let open = toks.iter().position(|t| t.is_punct("("))?;
    let mut depth = 0usize;
    let mut parts: Vec<Vec<Token>> = vec![Vec::new()];
    let mut close = None;
    for (n, t) in toks.iter().enumerate().skip(open) {
        if t.is_punct("(") {
            depth += 1;
            if depth == 1 {
                continue;
            }
        } else if t.is_punct(")") {
            depth -= 1;
            if depth == 0 {
                close = Some(n);
                break;
            }
        } else if depth == 1 && t.is_punct(",") {
            parts.push(Vec::new());
            continue;
        }
        if let Some(last) = parts.last_mut() {
            last.push(t.clone());
        }
    }
    let close = close?;
    let mut out = TableParts {
        body_start: toks[open].start,
        ..TableParts::default()
    };
    for p in parts.into_iter().filter(|p| !p.is_empty()) {
        if p[0].kind == TokKind::Word && CONSTRAINT_STARTS.contains(&p[0].norm.as_str()) {
            out.constraints.push(join(&p));
        } else {
            let name = if p[0].kind == TokKind::Word {
                sql[p[0].start..p[0].end].to_string()
            } else {
                p[0].norm.clone()
            };
            let raw = sql[p[0].start..p[p.len() - 1].end].to_string();
            out.columns.push((name, join(&p), raw));
        }
    }
    let opts: Vec<Token> = toks[close + 1..]
        .iter()
        .filter(|t| !t.is_punct(";"))
        .cloned()
        .collect();
    out.options = join(&opts);
    Some(out)
}

/// Quotes an identifier for SQL text.
pub(crate) fn quote(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// Whether the canonical text `def` mentions the identifier `name` as a
/// whole token.
pub(crate) fn mentions(def: &str, name: &str) -> bool {
    tokenize(def).iter().any(|t| t.is_name(name))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalises_quotes_case_and_space() {
        assert_eq!(
            normalize("create table if not exists \"a\" ( [b] integer  not null )"),
            normalize("CREATE TABLE a (b INTEGER NOT NULL);")
        );
        assert_ne!(
            normalize("CHECK (x IN ('a'))"),
            normalize("CHECK (x IN ('A'))")
        );
    }

    #[test]
    fn splits_table_body() {
        let p = split_table(
            "CREATE TABLE \"t\" (\"id\" INTEGER PRIMARY KEY, \"r\" TEXT CHECK (\"r\" IN ('a','b')), UNIQUE(\"id\", \"r\")) STRICT",
        )
        .unwrap();
        assert_eq!(p.columns.len(), 2);
        assert_eq!(p.columns[1].0, "r");
        assert_eq!(p.columns[1].1, "r TEXT CHECK ( r IN ( 'a' , 'b' ) )");
        assert_eq!(p.columns[1].2, "\"r\" TEXT CHECK (\"r\" IN ('a','b'))");
        assert_eq!(p.constraints, vec!["UNIQUE ( id , r )"]);
        assert_eq!(p.options, "STRICT");
    }

    #[test]
    fn strings_with_quotes_survive() {
        let t = tokenize("DEFAULT 'it''s'");
        assert_eq!(t[1].norm, "'it''s'");
        assert_eq!(t[1].kind, TokKind::Str);
    }
}
