//! Schema → DDL: the SQL that builds a schema on a fresh SQLite file.
//!
//! Pure functions over the validated [`Schema`](crate::schema::Schema); no I/O.

use crate::schema::Schema;

/// The statements that create every table, index, trigger and FTS table of
/// the models routed to `database` (`None` = the main database), in an order
/// that satisfies foreign keys. `@@external` models get none.
pub fn create_statements(schema: &Schema, database: Option<&str>) -> Vec<String> {
    let _ = (schema, database);
    Vec::new()
}
