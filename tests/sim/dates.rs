//! HTTP-dates the way a server writes them, for Retry-After (shared by the
//! simulation and the input fuzzing).

/// IMF-fixdate of epoch ms (`Sun, 06 Nov 1994 08:49:37 GMT`), whole seconds.
pub fn http_date(epoch_ms: u64) -> String {
    const DAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
    const MONTHS: [&str; 12] = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
    let secs = epoch_ms / 1000;
    let days = (secs / 86_400) as i64;
    let (h, m, s) = (secs % 86_400 / 3600, secs % 3600 / 60, secs % 60);
    // Civil from days (Hinnant).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + (month <= 2) as i64;
    format!("{}, {day:02} {} {year} {h:02}:{m:02}:{s:02} GMT", DAYS[(days % 7) as usize], MONTHS[month as usize - 1])
}

#[test]
fn http_dates_read_back_by_the_core() {
    use durafetch::core::http_date::parse_http_date;
    assert_eq!(http_date(784_111_777_000), "Sun, 06 Nov 1994 08:49:37 GMT");
    for ms in [0, 951_782_400_000, 1_700_000_000_999, 4_107_542_400_000] {
        assert_eq!(parse_http_date(&http_date(ms)), Some((ms / 1000 * 1000) as f64), "{}", http_date(ms));
    }
}
