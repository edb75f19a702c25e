//! Source positions for schema diagnostics.

/// A region of a schema source file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
pub struct Span {
    /// Index into the parser's file table (`Schema::files`).
    pub file: u32,
    /// Byte offset of the start.
    pub start: u32,
    /// Byte offset one past the end.
    pub end: u32,
    /// 1-based line of the start.
    pub line: u32,
    /// 1-based column (characters) of the start.
    pub column: u32,
}
