//! The migrations directory: `YYYYMMDDHHMMSS_label.sql` files, their
//! checksums, and new file names.
//!
//! Owns file naming and reading only. A migration's name is its file name
//! without `.sql`; names sort in timestamp order. Files hold plain SQL
//! statements without transaction control (the engine wraps each file in its
//! own transaction). Other files in the directory are ignored.

use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use sha2::{Digest, Sha256};

use crate::error::{Error, Result};

/// One migration file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MigrationFile {
    /// Name: the file name without `.sql`.
    pub name: String,
    /// Full path.
    pub path: PathBuf,
    /// File contents.
    pub sql: String,
    /// SHA-256 of the contents, lower-case hex.
    pub checksum: String,
}

/// SHA-256 of `text`, lower-case hex.
pub fn checksum(text: &str) -> String {
    let digest = Sha256::digest(text.as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

fn io_err(path: &Path, e: std::io::Error) -> Error {
    Error::invalid_args(
        "migrations",
        format!("cannot access migrations at {}: {e}", path.display()),
    )
}

/// The `.sql` files of `dir`, sorted by name. A missing directory has none.
///
/// # Errors
/// [`Error::InvalidArgs`] when the directory or a file cannot be read.
pub fn read_dir(dir: &Path) -> Result<Vec<MigrationFile>> {
    if !dir.exists() {
        return Ok(Vec::new());
    }
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(|e| io_err(dir, e))? {
        let entry = entry.map_err(|e| io_err(dir, e))?;
        let path = entry.path();
        if path.extension().and_then(|e| e.to_str()) != Some("sql") || !path.is_file() {
            continue;
        }
        let Some(name) = path
            .file_stem()
            .and_then(|s| s.to_str())
            .map(str::to_string)
        else {
            continue;
        };
        let sql = std::fs::read_to_string(&path).map_err(|e| io_err(&path, e))?;
        out.push(MigrationFile {
            checksum: checksum(&sql),
            name,
            path,
            sql,
        });
    }
    out.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(out)
}

/// `label` reduced to `[a-z0-9_-]`, other characters becoming `-`.
pub fn sanitize_label(label: &str) -> String {
    let s: String = label
        .trim()
        .chars()
        .map(|c| {
            let c = c.to_ascii_lowercase();
            if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
                c
            } else {
                '-'
            }
        })
        .collect();
    let s = s.trim_matches('-').to_string();
    if s.is_empty() {
        "migration".to_string()
    } else {
        s
    }
}

/// The UTC timestamp `YYYYMMDDHHMMSS` of `secs` seconds since the epoch.
pub fn timestamp(secs: u64) -> String {
    let days = secs / 86_400;
    let rem = secs % 86_400;
    let (y, m, d) = civil_from_days(days as i64);
    format!(
        "{y:04}{m:02}{d:02}{:02}{:02}{:02}",
        rem / 3600,
        (rem % 3600) / 60,
        rem % 60
    )
}

/// Days since 1970-01-01 → (year, month, day), proleptic Gregorian.
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// A new migration name `YYYYMMDDHHMMSS_label`, later than every name in
/// `existing` (the timestamp is bumped past the newest one when the clock
/// says otherwise, so files always sort in creation order).
pub fn next_name(existing: &[String], label: &str) -> String {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let mut stamp = timestamp(now);
    if let Some(last) = existing.iter().filter_map(|n| n.get(..14)).max() {
        if last.chars().all(|c| c.is_ascii_digit()) && last >= stamp.as_str() {
            let bumped = last.parse::<u64>().unwrap_or(0) + 1;
            stamp = format!("{bumped:014}");
        }
    }
    format!("{stamp}_{}", sanitize_label(label))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_are_utc_calendar_dates() {
        assert_eq!(timestamp(0), "19700101000000");
        assert_eq!(timestamp(951_782_400), "20000229000000");
        assert_eq!(timestamp(1_700_000_000), "20231114221320");
    }

    #[test]
    fn names_sort_after_existing_ones() {
        let n = next_name(&["99990101000000_future".to_string()], "Add users!");
        assert_eq!(n, "99990101000001_add-users");
    }

    #[test]
    fn checksum_is_sha256_hex() {
        assert_eq!(
            checksum(""),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }
}
