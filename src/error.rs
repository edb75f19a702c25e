//! The one public error type of litestone, and its fieldless [`ErrorKind`].
//!
//! Every fallible call returns [`Error`]. Variants carry the details a caller
//! needs (model, field, JSON path, constraint columns, schema position);
//! [`Error::kind`] maps each variant to an [`ErrorKind`] a service can turn into
//! an HTTP status without matching on message text.
//!
//! `Error` is `Clone`: one failing group commit must answer every caller whose
//! write rode in it, so SQLite errors are kept as code + message rather than as
//! the non-clonable `rusqlite::Error`.

use std::fmt;

/// `Result<T, litestone::Error>`.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// One problem found in a `.lite` schema, with its position and a caret excerpt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// File the problem is in (`<schema>` for inline sources).
    pub file: String,
    /// 1-based line.
    pub line: u32,
    /// 1-based column (in characters).
    pub column: u32,
    /// What is wrong, in one sentence.
    pub message: String,
    /// The offending source line with a caret under the problem.
    pub snippet: String,
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}:{}: {}",
            self.file, self.line, self.column, self.message
        )?;
        if !self.snippet.is_empty() {
            write!(f, "\n{}", self.snippet)?;
        }
        Ok(())
    }
}

/// Which constraint a write violated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ConstraintKind {
    /// UNIQUE or PRIMARY KEY.
    Unique,
    /// FOREIGN KEY.
    ForeignKey,
    /// NOT NULL.
    NotNull,
    /// CHECK (including enum and Boolean checks).
    Check,
}

/// The fieldless classification of an [`Error`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The `.lite` schema is malformed or inconsistent.
    Schema,
    /// A value failed a field validator, type or range check.
    Validation,
    /// A `*_or_throw` read, an update or delete found no row.
    NotFound,
    /// UNIQUE / PRIMARY KEY violation.
    UniqueViolation,
    /// FOREIGN KEY violation.
    ForeignKeyViolation,
    /// CHECK violation.
    CheckViolation,
    /// NOT NULL violation.
    NotNullViolation,
    /// `client.model(name)` named no model of the schema.
    UnknownModel,
    /// An argument named a field the model does not have.
    UnknownField,
    /// Arguments of the wrong shape, unknown operators, bad cursors.
    InvalidArgs,
    /// A policy, gate or guard refused the operation.
    AccessDenied,
    /// The database stayed locked by another process past `busy_timeout`.
    Busy,
    /// A transaction, lock wait or call exceeded its time limit.
    Timeout,
    /// The client (or the actor serving it) is closed.
    Closed,
    /// Code panicked while serving the call; the panic was caught.
    Panic,
    /// Any other SQLite error.
    Sqlite,
}

/// Every error litestone returns.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The schema has problems; `diagnostics` lists all of them, the other
    /// fields repeat the first.
    #[error("schema error at {file}:{line}:{column}: {message}{}", more_diagnostics(.diagnostics))]
    Schema {
        /// File of the first problem.
        file: String,
        /// Line of the first problem.
        line: u32,
        /// Column of the first problem.
        column: u32,
        /// Message of the first problem.
        message: String,
        /// Every problem found, in source order.
        diagnostics: Vec<Diagnostic>,
    },

    /// A value failed validation.
    #[error("validation failed on {model}.{field} ({rule}): {message}")]
    Validation {
        /// Model of the field.
        model: String,
        /// Field whose value is invalid.
        field: String,
        /// The rule that failed (`type`, `email`, `length`, `enum`, ...).
        rule: String,
        /// Human readable explanation.
        message: String,
    },

    /// No row matched where one was required.
    #[error("{model}: {message}")]
    NotFound {
        /// Model that was queried.
        model: String,
        /// What was looked for.
        message: String,
    },

    /// A constraint of the database refused a write.
    #[error("{kind:?} constraint failed on {}{}: {message}", model.as_deref().unwrap_or("?"), fmt_columns(.columns))]
    Constraint {
        /// Which constraint.
        kind: ConstraintKind,
        /// Model (table) the constraint belongs to, when known.
        model: Option<String>,
        /// Columns the constraint covers, when SQLite names them.
        columns: Vec<String>,
        /// SQLite's message.
        message: String,
    },

    /// `client.model(name)` named no model.
    #[error("unknown model `{model}`")]
    UnknownModel {
        /// The name asked for.
        model: String,
    },

    /// An argument named a field the model does not have.
    #[error("unknown field `{field}` on model `{model}` at `{path}`")]
    UnknownField {
        /// Model searched.
        model: String,
        /// Field name given.
        field: String,
        /// JSON path of the argument (`where.author.email`).
        path: String,
    },

    /// An operator the field's type does not support.
    #[error("unknown operator `{operator}` for {model}.{field} at `{path}`")]
    UnknownOperator {
        /// Model of the field.
        model: String,
        /// Field the operator was applied to.
        field: String,
        /// The operator given.
        operator: String,
        /// JSON path of the argument.
        path: String,
    },

    /// Arguments of the wrong shape or value.
    #[error("invalid arguments at `{path}`: {message}")]
    InvalidArgs {
        /// JSON path of the offending argument (empty for the root).
        path: String,
        /// What is wrong.
        message: String,
    },

    /// A policy, gate or guard refused the operation.
    #[error("access denied: {operation} on {model}: {message}")]
    AccessDenied {
        /// Model.
        model: String,
        /// Operation (`read`, `create`, `update`, `delete`).
        operation: String,
        /// Policy message.
        message: String,
    },

    /// The database stayed locked past `busy_timeout`.
    #[error("database is busy: {message}")]
    Busy {
        /// SQLite's message.
        message: String,
    },

    /// A time limit was exceeded.
    #[error("timed out: {message}")]
    Timeout {
        /// What timed out.
        message: String,
    },

    /// The client or the actor serving the call is closed.
    #[error("client is closed: {message}")]
    Closed {
        /// Why.
        message: String,
    },

    /// A panic was caught while serving the call.
    #[error("panic while serving the call: {message}")]
    Panic {
        /// The panic payload, when it was a string.
        message: String,
    },

    /// Any other SQLite error.
    #[error("sqlite error{}: {message}", code.map(|c| format!(" (code {c})")).unwrap_or_default())]
    Sqlite {
        /// SQLite extended result code, when there is one.
        code: Option<i32>,
        /// Message.
        message: String,
    },
}

fn more_diagnostics(d: &[Diagnostic]) -> String {
    if d.len() > 1 {
        format!(" (and {} more)", d.len() - 1)
    } else {
        String::new()
    }
}

fn fmt_columns(c: &[String]) -> String {
    if c.is_empty() {
        String::new()
    } else {
        format!(" ({})", c.join(", "))
    }
}

impl Error {
    /// The fieldless classification of this error.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::Schema { .. } => ErrorKind::Schema,
            Error::Validation { .. } => ErrorKind::Validation,
            Error::NotFound { .. } => ErrorKind::NotFound,
            Error::Constraint { kind, .. } => match kind {
                ConstraintKind::Unique => ErrorKind::UniqueViolation,
                ConstraintKind::ForeignKey => ErrorKind::ForeignKeyViolation,
                ConstraintKind::NotNull => ErrorKind::NotNullViolation,
                ConstraintKind::Check => ErrorKind::CheckViolation,
            },
            Error::UnknownModel { .. } => ErrorKind::UnknownModel,
            Error::UnknownField { .. } => ErrorKind::UnknownField,
            Error::UnknownOperator { .. } | Error::InvalidArgs { .. } => ErrorKind::InvalidArgs,
            Error::AccessDenied { .. } => ErrorKind::AccessDenied,
            Error::Busy { .. } => ErrorKind::Busy,
            Error::Timeout { .. } => ErrorKind::Timeout,
            Error::Closed { .. } => ErrorKind::Closed,
            Error::Panic { .. } => ErrorKind::Panic,
            Error::Sqlite { .. } => ErrorKind::Sqlite,
        }
    }

    /// Builds [`Error::Schema`] from a non-empty list of diagnostics.
    pub fn schema(diagnostics: Vec<Diagnostic>) -> Error {
        let first = diagnostics.first().cloned().unwrap_or(Diagnostic {
            file: "<schema>".into(),
            line: 0,
            column: 0,
            message: "invalid schema".into(),
            snippet: String::new(),
        });
        Error::Schema {
            file: first.file,
            line: first.line,
            column: first.column,
            message: first.message,
            diagnostics,
        }
    }

    /// Shorthand for [`Error::InvalidArgs`].
    pub fn invalid_args(path: impl Into<String>, message: impl Into<String>) -> Error {
        Error::InvalidArgs {
            path: path.into(),
            message: message.into(),
        }
    }

    /// Shorthand for [`Error::Validation`].
    pub fn validation(
        model: impl Into<String>,
        field: impl Into<String>,
        rule: impl Into<String>,
        message: impl Into<String>,
    ) -> Error {
        Error::Validation {
            model: model.into(),
            field: field.into(),
            rule: rule.into(),
            message: message.into(),
        }
    }

    /// Shorthand for [`Error::Closed`].
    pub fn closed(message: impl Into<String>) -> Error {
        Error::Closed {
            message: message.into(),
        }
    }

    /// Converts a caught panic payload into [`Error::Panic`].
    pub fn from_panic(payload: &(dyn std::any::Any + Send)) -> Error {
        let message = if let Some(s) = payload.downcast_ref::<&str>() {
            (*s).to_string()
        } else if let Some(s) = payload.downcast_ref::<String>() {
            s.clone()
        } else {
            "non-string panic payload".to_string()
        };
        Error::Panic { message }
    }
}

/// Classifies rusqlite errors: constraint failures become [`Error::Constraint`]
/// (with the table and columns SQLite names), `SQLITE_BUSY`/`SQLITE_LOCKED`
/// become [`Error::Busy`], everything else [`Error::Sqlite`].
impl From<rusqlite::Error> for Error {
    fn from(e: rusqlite::Error) -> Self {
        use rusqlite::ffi;
        match &e {
            rusqlite::Error::SqliteFailure(fe, msg) => {
                let message = msg.clone().unwrap_or_else(|| fe.to_string());
                match fe.code {
                    rusqlite::ErrorCode::ConstraintViolation => {
                        let kind = match fe.extended_code {
                            ffi::SQLITE_CONSTRAINT_UNIQUE | ffi::SQLITE_CONSTRAINT_PRIMARYKEY => {
                                ConstraintKind::Unique
                            }
                            ffi::SQLITE_CONSTRAINT_FOREIGNKEY => ConstraintKind::ForeignKey,
                            ffi::SQLITE_CONSTRAINT_NOTNULL => ConstraintKind::NotNull,
                            _ => ConstraintKind::Check,
                        };
                        let (model, columns) = parse_constraint_target(&message);
                        Error::Constraint {
                            kind,
                            model,
                            columns,
                            message,
                        }
                    }
                    rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked => {
                        Error::Busy { message }
                    }
                    _ => Error::Sqlite {
                        code: Some(fe.extended_code),
                        message,
                    },
                }
            }
            _ => Error::Sqlite {
                code: None,
                message: e.to_string(),
            },
        }
    }
}

/// `"UNIQUE constraint failed: users.email, users.accountId"` →
/// `(Some("users"), ["email", "accountId"])`.
fn parse_constraint_target(message: &str) -> (Option<String>, Vec<String>) {
    let Some((_, rest)) = message.split_once("failed: ") else {
        return (None, Vec::new());
    };
    let mut model = None;
    let mut columns = Vec::new();
    for part in rest.split(", ") {
        match part.split_once('.') {
            Some((t, c)) => {
                model.get_or_insert_with(|| t.trim().to_string());
                columns.push(c.trim().to_string());
            }
            None => {
                // CHECK failures name the constraint or expression instead.
                columns.push(part.trim().to_string());
            }
        }
    }
    (model, columns)
}

impl From<serde_json::Error> for Error {
    fn from(e: serde_json::Error) -> Self {
        Error::InvalidArgs {
            path: String::new(),
            message: e.to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_constraint_message() {
        let (m, c) =
            parse_constraint_target("UNIQUE constraint failed: users.email, users.accountId");
        assert_eq!(m.as_deref(), Some("users"));
        assert_eq!(c, vec!["email", "accountId"]);
    }
}
