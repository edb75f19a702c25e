//! ISO-8601 parsing and the one canonical DateTime text form,
//! `YYYY-MM-DDTHH:MM:SS.sssZ` in UTC, so that text order is time order.
//!
//! Hand-written (no calendar crate): the accepted grammar is small and the
//! conversion only needs the proleptic Gregorian day count.
//!
//! Accepted input: `YYYY-MM-DD`, optionally followed by `T` (or a space) and
//! `HH:MM`, `HH:MM:SS` or `HH:MM:SS.f…` (any number of fraction digits,
//! truncated to milliseconds), optionally followed by `Z` or an offset
//! `±HH:MM` / `±HHMM` / `±HH`. A value without an offset is taken as UTC.

use std::time::{SystemTime, UNIX_EPOCH};

/// Days since 1970-01-01 of a civil date (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Civil date of a day count since 1970-01-01.
fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = if z >= 0 { z } else { z - 146_096 } / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { y + 1 } else { y }, m, d)
}

fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ => {
            if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 {
                29
            } else {
                28
            }
        }
    }
}

/// Formats milliseconds since the Unix epoch in the canonical form.
pub(crate) fn format_millis(ms: i64) -> String {
    let days = ms.div_euclid(86_400_000);
    let rem = ms.rem_euclid(86_400_000);
    let (y, mo, d) = civil_from_days(days);
    let (h, mi, s, milli) = (
        rem / 3_600_000,
        (rem / 60_000) % 60,
        (rem / 1000) % 60,
        rem % 1000,
    );
    if !(0..=9999).contains(&y) {
        return format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}.{milli:03}Z");
    }
    // Written digit by digit: `format!` was most of the cost of a DateTime
    // column in bulk inserts. Same text as the `format!` above.
    let mut b = *b"0000-00-00T00:00:00.000Z";
    let mut put = |at: usize, width: usize, mut v: i64| {
        for i in (at..at + width).rev() {
            b[i] = b'0' + (v % 10) as u8;
            v /= 10;
        }
    };
    put(0, 4, y);
    put(5, 2, mo);
    put(8, 2, d);
    put(11, 2, h);
    put(14, 2, mi);
    put(17, 2, s);
    put(20, 3, milli);
    match std::str::from_utf8(&b) {
        Ok(t) => t.to_owned(),
        Err(_) => format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}.{milli:03}Z"),
    }
}

/// The current time in the canonical form.
pub(crate) fn now() -> String {
    now_minus_secs(0)
}

/// `secs` seconds before now, in the canonical form.
pub(crate) fn now_minus_secs(secs: i64) -> String {
    let ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0);
    format_millis(ms - secs * 1000)
}

struct Cursor<'a> {
    b: &'a [u8],
    i: usize,
}

impl Cursor<'_> {
    fn digits(&mut self, n: usize) -> Option<i64> {
        let s = self.b.get(self.i..self.i + n)?;
        let mut v = 0i64;
        for c in s {
            if !c.is_ascii_digit() {
                return None;
            }
            v = v * 10 + i64::from(c - b'0');
        }
        self.i += n;
        Some(v)
    }
    fn eat(&mut self, c: u8) -> bool {
        if self.b.get(self.i) == Some(&c) {
            self.i += 1;
            true
        } else {
            false
        }
    }
    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }
}

/// Parses an ISO-8601 date or date-time into milliseconds since the epoch.
pub(crate) fn parse_millis(s: &str) -> Option<i64> {
    let mut c = Cursor {
        b: s.trim().as_bytes(),
        i: 0,
    };
    let y = c.digits(4)?;
    if !c.eat(b'-') {
        return None;
    }
    let mo = c.digits(2)?;
    if !c.eat(b'-') {
        return None;
    }
    let d = c.digits(2)?;
    if !(1..=12).contains(&mo) || d < 1 || d > days_in_month(y, mo) {
        return None;
    }
    let (mut h, mut mi, mut sec, mut ms) = (0, 0, 0, 0);
    let mut offset_min = 0i64;
    if matches!(c.peek(), Some(b'T' | b't' | b' ')) {
        c.i += 1;
        h = c.digits(2)?;
        if !c.eat(b':') {
            return None;
        }
        mi = c.digits(2)?;
        if c.eat(b':') {
            sec = c.digits(2)?;
            if c.eat(b'.') || c.eat(b',') {
                let start = c.i;
                let mut scale = 100;
                while let Some(ch) = c.peek().filter(u8::is_ascii_digit) {
                    ms += i64::from(ch - b'0') * scale;
                    scale /= 10;
                    c.i += 1;
                }
                if c.i == start {
                    return None;
                }
            }
        }
        if h > 23 || mi > 59 || sec > 59 {
            return None;
        }
        match c.peek() {
            Some(b'Z' | b'z') => c.i += 1,
            Some(sign @ (b'+' | b'-')) => {
                c.i += 1;
                let oh = c.digits(2)?;
                c.eat(b':');
                let om = if c.i < c.b.len() { c.digits(2)? } else { 0 };
                if oh > 23 || om > 59 {
                    return None;
                }
                offset_min = (oh * 60 + om) * if sign == b'+' { 1 } else { -1 };
            }
            _ => {}
        }
    }
    if c.i != c.b.len() {
        return None;
    }
    let days = days_from_civil(y, mo, d);
    Some(days * 86_400_000 + ((h * 60 + mi - offset_min) * 60 + sec) * 1000 + ms)
}

/// Validates `s` as ISO-8601 and returns its canonical UTC form.
pub(crate) fn normalize(s: &str) -> Option<String> {
    parse_millis(s).map(format_millis)
}

/// Whether `s` is a plain `YYYY-MM-DD` date.
pub(crate) fn is_date(s: &str) -> bool {
    s.len() == 10 && parse_millis(s).is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalizes() {
        assert_eq!(
            normalize("2024-01-02").as_deref(),
            Some("2024-01-02T00:00:00.000Z")
        );
        assert_eq!(
            normalize("2024-01-02T03:04:05.678912Z").as_deref(),
            Some("2024-01-02T03:04:05.678Z")
        );
        assert_eq!(
            normalize("2024-01-02T01:00:00+02:00").as_deref(),
            Some("2024-01-01T23:00:00.000Z")
        );
        assert_eq!(
            normalize("2024-03-01 00:30-0100").as_deref(),
            Some("2024-03-01T01:30:00.000Z")
        );
        assert_eq!(normalize("2024-02-30"), None);
        assert_eq!(normalize("2023-02-29"), None);
        assert!(normalize("2024-02-29").is_some());
        assert_eq!(normalize("yesterday"), None);
        assert_eq!(normalize("2024-01-02T25:00"), None);
        assert_eq!(format_millis(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(format_millis(-1), "1969-12-31T23:59:59.999Z");
    }

    /// The digit-by-digit formatter writes what `format!` wrote, including
    /// at the edges of the four-digit years it handles.
    #[test]
    fn format_matches_the_format_macro() {
        let reference = |ms: i64| {
            let days = ms.div_euclid(86_400_000);
            let rem = ms.rem_euclid(86_400_000);
            let (y, mo, d) = civil_from_days(days);
            let (h, mi, s, milli) = (
                rem / 3_600_000,
                (rem / 60_000) % 60,
                (rem / 1000) % 60,
                rem % 1000,
            );
            format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}.{milli:03}Z")
        };
        let year0 = days_from_civil(0, 1, 1) * 86_400_000;
        let year10k = days_from_civil(10_000, 1, 1) * 86_400_000;
        let mut samples = vec![
            0,
            -1,
            1,
            year0,
            year0 - 1,
            year10k,
            year10k - 1,
            i64::MAX / 4,
            i64::MIN / 4,
        ];
        let mut x: i64 = 0x1234_5678_9abc;
        for _ in 0..10_000 {
            x = x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
            samples.push((x >> 16) % (year10k * 2));
        }
        for ms in samples {
            assert_eq!(format_millis(ms), reference(ms), "{ms}");
        }
    }
}
