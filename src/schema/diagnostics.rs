//! Spanned diagnostics: collecting problems during a run and rendering them
//! into public [`Diagnostic`]s (file, line, column, message, caret snippet).
//!
//! Owns the source texts of every file read in a run, so spans (which carry a
//! file index) can be turned into the offending line with a caret under it.

use super::span::Span;
use crate::error::Diagnostic;

/// A problem at a span, before rendering.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Diag {
    pub(crate) span: Span,
    pub(crate) message: String,
}

impl Diag {
    pub(crate) fn new(span: Span, message: impl Into<String>) -> Diag {
        Diag {
            span,
            message: message.into(),
        }
    }
}

/// The files of one run: name and text, indexed by `Span::file`.
#[derive(Debug, Clone, Default)]
pub(crate) struct SourceMap {
    pub(crate) files: Vec<(String, String)>,
}

impl SourceMap {
    /// Adds a file and returns its index.
    pub(crate) fn add(&mut self, name: String, text: String) -> u32 {
        self.files.push((name, text));
        (self.files.len() - 1) as u32
    }

    /// Renders diagnostics in source order (file, then position).
    pub(crate) fn render_all(&self, mut diags: Vec<Diag>) -> Vec<Diagnostic> {
        diags.sort_by_key(|d| (d.span.file, d.span.start, d.span.end));
        diags.dedup();
        diags.iter().map(|d| self.render(d)).collect()
    }

    /// Renders one diagnostic with a caret snippet.
    pub(crate) fn render(&self, d: &Diag) -> Diagnostic {
        let (name, text) = self
            .files
            .get(d.span.file as usize)
            .map(|(n, t)| (n.as_str(), t.as_str()))
            .unwrap_or(("<schema>", ""));
        Diagnostic {
            file: name.to_string(),
            line: d.span.line,
            column: d.span.column,
            message: d.message.clone(),
            snippet: snippet(text, d.span),
        }
    }
}

/// The line of `span` with carets under the spanned characters (clipped to
/// the line; at least one caret).
fn snippet(text: &str, span: Span) -> String {
    let start = (span.start as usize).min(text.len());
    if !text.is_char_boundary(start) || span.line == 0 {
        return String::new();
    }
    let line_start = text[..start].rfind('\n').map(|i| i + 1).unwrap_or(0);
    let line_end = text[start..]
        .find('\n')
        .map(|i| start + i)
        .unwrap_or(text.len());
    let line = text[line_start..line_end].trim_end_matches('\r');
    let mut pad = String::new();
    for c in text[line_start..start].chars() {
        pad.push(if c == '\t' { '\t' } else { ' ' });
    }
    let end = (span.end as usize).clamp(start, line_end);
    let width = if text.is_char_boundary(end) {
        text[start..end].chars().count().max(1)
    } else {
        1
    };
    format!("{line}\n{pad}{}", "^".repeat(width))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_caret_under_span() {
        let text = "model a {\n  x Foo\n}";
        let span = Span {
            file: 0,
            start: 14,
            end: 17,
            line: 2,
            column: 5,
        };
        assert_eq!(snippet(text, span), "  x Foo\n    ^^^");
    }
}
