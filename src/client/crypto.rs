//! Field-encryption key rotation (`client.rotate_key`, the README's
//! `$rotateKey`).

use std::collections::BTreeMap;

use rusqlite::types::Value as SqlValue;

use super::Client;
use crate::codec::crypto::Crypto;
use crate::error::{Error, Result};

impl Client {
    /// Re-encrypts every `@encrypted` / `@secret` value under `new_key` (64
    /// hexadecimal characters) and makes it the client's key. Each database
    /// is rewritten in one write (all of its values or none); the old key
    /// stays usable for reading, so reads racing the rotation still decode.
    ///
    /// # Errors
    /// [`Error::InvalidArgs`] without a current key or for a malformed new
    /// one, or when a stored value does not decrypt; SQLite errors. When a
    /// later database fails, the ones already rewritten keep the new key
    /// (and the client switches to it); the failed one still decrypts
    /// through the retained old key.
    pub async fn rotate_key(&self, new_key: &str) -> Result<()> {
        let Some(current) = self.inner.crypto.clone() else {
            return Err(Error::invalid_args(
                "encryption_key",
                "the client has no encryption key to rotate",
            ));
        };
        let next = Crypto::from_hex(new_key)?;
        // (table, column, searchable) per database.
        let mut work: BTreeMap<String, Vec<(String, String, bool)>> = BTreeMap::new();
        for m in self.inner.schema.models.iter().filter(|m| !m.external) {
            for f in &m.fields {
                if let Some(e) = f.encrypted {
                    work.entry(m.database.clone().unwrap_or_else(|| "main".to_string()))
                        .or_default()
                        .push((m.table.clone(), f.column.clone(), e.searchable));
                }
            }
        }
        let mut rewritten = false;
        let mut result = Ok(());
        for (db, cols) in work {
            if !self.inner.databases.contains_key(&db) {
                continue;
            }
            let (cur, nxt) = (current.clone(), next.clone());
            let r = self
                .run_write(&db, move |conn| {
                    for (table, column, searchable) in &cols {
                        let q = |s: &str| format!("\"{}\"", s.replace('"', "\"\""));
                        let rows: Vec<(i64, String)> = {
                            let mut st = conn.prepare(&format!(
                                "SELECT rowid, {c} FROM {t} WHERE {c} IS NOT NULL",
                                c = q(column),
                                t = q(table)
                            ))?;
                            let it = st.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
                            it.collect::<rusqlite::Result<_>>()?
                        };
                        let mut up = conn.prepare(&format!(
                            "UPDATE {t} SET {c} = ?1 WHERE rowid = ?2",
                            c = q(column),
                            t = q(table)
                        ))?;
                        for (rowid, stored) in rows {
                            let v = cur.reencrypt(&stored, &nxt, *searchable)?;
                            up.execute(rusqlite::params![SqlValue::Text(v), rowid])?;
                        }
                    }
                    Ok(())
                })
                .await;
            match r {
                Ok(()) => rewritten = true,
                Err(e) => {
                    result = Err(e);
                    break;
                }
            }
        }
        if rewritten || result.is_ok() {
            current.rotate_to(&next);
        }
        result
    }
}
