//! HTTP-date (RFC 9110 §5.6.7) to epoch milliseconds, for `Retry-After`.
//!
//! Hand-written rather than the `httpdate` crate: that one goes through
//! `std::time::SystemTime`, whose conversions drag formatting code into the
//! .wasm; this is the three formats and a days-from-civil conversion.

#[allow(unused_imports)]
use crate::prelude::*;
const MONTHS: [&[u8; 3]; 12] = [b"Jan", b"Feb", b"Mar", b"Apr", b"May", b"Jun", b"Jul", b"Aug", b"Sep", b"Oct", b"Nov", b"Dec"];

fn number(field: &[u8]) -> Option<i64> {
    if field.is_empty() || field.len() > 4 || !field.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(field.iter().fold(0, |n, d| n * 10 + (d - b'0') as i64))
}

fn month(field: &[u8]) -> Option<i64> {
    MONTHS.iter().position(|m| m.as_slice() == field).map(|i| i as i64 + 1)
}

/// `hh:mm:ss` as seconds of the day.
fn time_of_day(field: &[u8]) -> Option<i64> {
    let mut parts = field.split(|&b| b == b':');
    let (h, m, s) = (number(parts.next()?)?, number(parts.next()?)?, number(parts.next()?)?);
    if parts.next().is_some() || field.len() != 8 || h > 23 || m > 59 || s > 60 {
        return None;
    }
    Some(h * 3600 + m * 60 + s)
}

/// Days from 1970-01-01 to a proleptic Gregorian date (Hinnant's algorithm).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

fn to_epoch_ms(year: i64, month: i64, day: i64, seconds: i64) -> Option<f64> {
    if !(1..=12).contains(&month) || day < 1 || day > days_in_month(year, month) {
        return None;
    }
    Some((days_from_civil(year, month, day) * 86_400 + seconds) as f64 * 1000.0)
}

/// IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`), the obsolete RFC 850
/// (`Sunday, 06-Nov-94 08:49:37 GMT`) and asctime (`Sun Nov  6 08:49:37 1994`).
pub fn parse_http_date(value: &str) -> Option<f64> {
    let fields: Vec<&[u8]> = value.as_bytes().split(|&b| b == b' ').filter(|f| !f.is_empty()).collect();
    match fields.as_slice() {
        [_, day, mon, year, time, b"GMT"] => {
            to_epoch_ms(number(year).filter(|_| year.len() == 4)?, month(mon)?, number(day)?, time_of_day(time)?)
        }
        [_, date, time, b"GMT"] => {
            let mut parts = date.split(|&b| b == b'-');
            let (day, mon, yy) = (parts.next()?, parts.next()?, parts.next()?);
            let yy = number(yy).filter(|_| yy.len() == 2)?;
            // RFC 9110: a two-digit year more than 50 years ahead is in the past century.
            let year = if yy < 70 { 2000 + yy } else { 1900 + yy };
            to_epoch_ms(year, month(mon)?, number(day)?, time_of_day(time)?)
        }
        [_, mon, day, time, year] => {
            to_epoch_ms(number(year).filter(|_| year.len() == 4)?, month(mon)?, number(day)?, time_of_day(time)?)
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn epoch_and_known_dates() {
        assert_eq!(parse_http_date("Thu, 01 Jan 1970 00:00:00 GMT"), Some(0.0));
        assert_eq!(parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT"), Some(784_111_777_000.0));
        assert_eq!(parse_http_date("Tue, 29 Feb 2028 23:59:59 GMT"), Some(1_835_481_599_000.0));
        assert_eq!(parse_http_date("Wed, 01 Mar 2000 00:00:00 GMT"), Some(951_868_800_000.0));
    }

    #[test]
    fn rejects_impossible_dates_and_junk() {
        for v in [
            "Sun, 30 Feb 2026 00:00:00 GMT",
            "Sun, 29 Feb 2100 00:00:00 GMT",
            "Sun, 06 Nov 1994 24:00:00 GMT",
            "Sun, 06 Nov 1994 08:49:37 UTC",
            "Sun, 06 Foo 1994 08:49:37 GMT",
            "Sun, 06 Nov 94 08:49:37 GMT",
            "Sun, 06 Nov 1994 8:49:37 GMT",
            "",
            "Sun,",
        ] {
            assert_eq!(parse_http_date(v), None, "{v}");
        }
    }
}
