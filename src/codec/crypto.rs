//! Field encryption (`@encrypted`, `@secret`): AES-256-GCM at rest.
//!
//! Stored form: `enc:v1:` + base64(nonce ‖ ciphertext ‖ tag), a Text value.
//! - `@encrypted`: a random 96-bit nonce per write, so equal plaintexts
//!   store differently and equality filters cannot match (the README's
//!   "always null (not searchable)").
//! - `@encrypted(searchable: true)`: the nonce is the first 96 bits of
//!   HMAC-SHA256(search key, plaintext) (synthetic-IV style), so equal
//!   plaintexts encrypt identically and `where: {email: "…"}` compiles to
//!   an equality on the ciphertext (index-friendly). This reveals which rows
//!   share a value, which is what equality search needs.
//! - The search key is HMAC-SHA256(key, "litestone search key"), so the one
//!   32-byte key the builder gets (64 hex characters) serves both.
//!
//! Reads decrypt in SQL through the `litestone_decrypt(x)` function
//! registered on every connection (so rows decode on the actor thread like
//! any other column). After `rotate_key`, the previous key is kept for
//! decryption, so reads racing the rotation still decode.

use std::sync::Arc;

use aes_gcm::aead::{Aead, AeadCore, KeyInit, OsRng};
use aes_gcm::{Aes256Gcm, Key, Nonce};
use base64::Engine as _;
use hmac::{Hmac, Mac};
use parking_lot::RwLock;
use sha2::Sha256;

use crate::error::{Error, Result};

const PREFIX: &str = "enc:v1:";

fn hmac_with(key: &[u8]) -> Hmac<Sha256> {
    // HMAC accepts keys of any length; this cannot fail.
    match <Hmac<Sha256> as hmac::digest::KeyInit>::new_from_slice(key) {
        Ok(m) => m,
        Err(_) => unreachable!("HMAC takes keys of any length"),
    }
}

/// One key: the cipher and the derived search key.
#[derive(Clone)]
struct KeySet {
    cipher: Aes256Gcm,
    search: [u8; 32],
}

impl KeySet {
    fn new(raw: &[u8; 32]) -> KeySet {
        let mut mac = hmac_with(raw);
        mac.update(b"litestone search key");
        let search: [u8; 32] = mac.finalize().into_bytes().into();
        KeySet {
            cipher: Aes256Gcm::new(Key::<Aes256Gcm>::from_slice(raw)),
            search,
        }
    }

    fn encrypt(&self, plain: &str, searchable: bool) -> String {
        let nonce = if searchable {
            let mut mac = hmac_with(&self.search);
            mac.update(plain.as_bytes());
            let tag = mac.finalize().into_bytes();
            *Nonce::from_slice(&tag[..12])
        } else {
            Aes256Gcm::generate_nonce(&mut OsRng)
        };
        // Encryption of an in-memory buffer with a valid key cannot fail.
        let ct = self
            .cipher
            .encrypt(&nonce, plain.as_bytes())
            .unwrap_or_default();
        let mut out = Vec::with_capacity(12 + ct.len());
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&ct);
        format!(
            "{PREFIX}{}",
            base64::engine::general_purpose::STANDARD_NO_PAD.encode(out)
        )
    }

    fn decrypt(&self, bytes: &[u8]) -> Option<String> {
        if bytes.len() < 12 + 16 {
            return None;
        }
        let (nonce, ct) = bytes.split_at(12);
        let plain = self.cipher.decrypt(Nonce::from_slice(nonce), ct).ok()?;
        String::from_utf8(plain).ok()
    }
}

struct Keys {
    current: KeySet,
    previous: Option<KeySet>,
}

/// The client's field-encryption keys. Cheap to clone (shared).
#[derive(Clone)]
pub(crate) struct Crypto {
    keys: Arc<RwLock<Keys>>,
}

impl std::fmt::Debug for Crypto {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Crypto(..)")
    }
}

/// Parses a 64-hex-character key.
pub(crate) fn parse_key(hex: &str) -> Result<[u8; 32]> {
    let hex = hex.trim();
    let bad = || {
        Error::invalid_args(
            "encryption_key",
            "expected 64 hexadecimal characters (32 bytes)",
        )
    };
    if hex.len() != 64 || !hex.is_ascii() {
        return Err(bad());
    }
    let mut out = [0u8; 32];
    for (i, b) in out.iter_mut().enumerate() {
        *b = u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).map_err(|_| bad())?;
    }
    Ok(out)
}

impl Crypto {
    /// Keys from a 64-hex-character key.
    pub(crate) fn from_hex(hex: &str) -> Result<Crypto> {
        let raw = parse_key(hex)?;
        Ok(Crypto {
            keys: Arc::new(RwLock::new(Keys {
                current: KeySet::new(&raw),
                previous: None,
            })),
        })
    }

    /// Encrypts `plain` with the current key.
    pub(crate) fn encrypt(&self, plain: &str, searchable: bool) -> String {
        self.keys.read().current.encrypt(plain, searchable)
    }

    /// Decrypts a stored value (current key, then the previous one). Text
    /// that is not in the encrypted form is returned unchanged (rows written
    /// before the field was encrypted); a value no key opens is `None`.
    pub(crate) fn decrypt(&self, stored: &str) -> Option<String> {
        let Some(b64) = stored.strip_prefix(PREFIX) else {
            return Some(stored.to_string());
        };
        let bytes = base64::engine::general_purpose::STANDARD_NO_PAD
            .decode(b64)
            .ok()?;
        let keys = self.keys.read();
        keys.current
            .decrypt(&bytes)
            .or_else(|| keys.previous.as_ref().and_then(|k| k.decrypt(&bytes)))
    }

    /// Re-encrypts a stored value under `next` (for key rotation).
    pub(crate) fn reencrypt(
        &self,
        stored: &str,
        next: &Crypto,
        searchable: bool,
    ) -> Result<String> {
        let plain = self.decrypt(stored).ok_or_else(|| {
            Error::invalid_args(
                "encryption_key",
                "a stored value does not decrypt with the current key",
            )
        })?;
        Ok(next.encrypt(&plain, searchable))
    }

    /// Makes `next`'s key current, keeping this one for decryption.
    pub(crate) fn rotate_to(&self, next: &Crypto) {
        let new = next.keys.read().current.clone();
        let mut keys = self.keys.write();
        let old = std::mem::replace(&mut keys.current, new);
        keys.previous = Some(old);
    }

    /// Registers `litestone_decrypt(x)` on `conn`: NULL stays NULL, the
    /// encrypted form decrypts, anything else passes through.
    pub(crate) fn register(&self, conn: &rusqlite::Connection) -> rusqlite::Result<()> {
        use rusqlite::functions::FunctionFlags;
        use rusqlite::types::{Value as SqlValue, ValueRef};
        let me = self.clone();
        conn.create_scalar_function(
            "litestone_decrypt",
            1,
            FunctionFlags::SQLITE_UTF8,
            move |ctx| {
                Ok(match ctx.get_raw(0) {
                    ValueRef::Text(t) => match std::str::from_utf8(t) {
                        Ok(s) => me.decrypt(s).map_or(SqlValue::Null, SqlValue::Text),
                        Err(_) => SqlValue::Null,
                    },
                    ValueRef::Null => SqlValue::Null,
                    ValueRef::Integer(i) => SqlValue::Integer(i),
                    ValueRef::Real(f) => SqlValue::Real(f),
                    ValueRef::Blob(b) => SqlValue::Blob(b.to_vec()),
                })
            },
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const K1: &str = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";
    const K2: &str = "ff0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";

    #[test]
    fn round_trips_and_searchable_is_deterministic() {
        let c = Crypto::from_hex(K1).unwrap();
        let a = c.encrypt("123-45-6789", false);
        let b = c.encrypt("123-45-6789", false);
        assert!(a.starts_with(PREFIX) && !a.contains("123"));
        assert_ne!(a, b, "random nonces");
        assert_eq!(c.decrypt(&a).as_deref(), Some("123-45-6789"));
        let s1 = c.encrypt("a@b.c", true);
        assert_eq!(s1, c.encrypt("a@b.c", true));
        assert_ne!(s1, c.encrypt("a@b.d", true));
        // Tampering is detected; plain text passes through.
        let mut t = s1.clone().into_bytes();
        let last = t.len() - 2;
        t[last] = if t[last] == b'A' { b'B' } else { b'A' };
        assert_eq!(c.decrypt(std::str::from_utf8(&t).unwrap()), None);
        assert_eq!(c.decrypt("legacy").as_deref(), Some("legacy"));
    }

    #[test]
    fn rotation_keeps_old_values_readable() {
        let c = Crypto::from_hex(K1).unwrap();
        let old = c.encrypt("x", false);
        let next = Crypto::from_hex(K2).unwrap();
        let re = c.reencrypt(&old, &next, false).unwrap();
        c.rotate_to(&next);
        assert_eq!(c.decrypt(&re).as_deref(), Some("x"));
        assert_eq!(c.decrypt(&old).as_deref(), Some("x"));
        assert!(Crypto::from_hex("abc").is_err());
        assert!(Crypto::from_hex(&"zz".repeat(32)).is_err());
    }
}
