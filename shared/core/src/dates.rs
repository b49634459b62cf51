//! Calendar dates as the statutory returns write them, and calendar-month arithmetic.

use chrono::{Months, NaiveDate, NaiveTime, Timelike};

/// Parses a date written as ISO 8601 (`2018-04-01`) or as the returns often write it
/// (`01/04/2018`, day first). Surrounding white space is ignored; anything else is `None`.
pub fn parse_date(text: &str) -> Option<NaiveDate> {
    let t = text.trim();
    if t.len() == 10 && t.as_bytes()[4] == b'-' {
        NaiveDate::parse_from_str(t, "%Y-%m-%d").ok()
    } else if t.contains('/') {
        NaiveDate::parse_from_str(t, "%d/%m/%Y").ok()
    } else {
        None
    }
}

/// Parses a time of day written `HH:MM` or `HH:MM:SS` (24-hour).
pub fn parse_time(text: &str) -> Option<NaiveTime> {
    let t = text.trim();
    match t.len() {
        5 => NaiveTime::parse_from_str(t, "%H:%M").ok(),
        8 => NaiveTime::parse_from_str(t, "%H:%M:%S").ok(),
        _ => None,
    }
}

/// A time of day as the API writes it: `HH:MM`, with seconds only when there are some.
pub fn format_time(t: NaiveTime) -> String {
    if t.second() == 0 {
        t.format("%H:%M").to_string()
    } else {
        t.format("%H:%M:%S").to_string()
    }
}

/// An optional date as the API writes it: ISO 8601, or empty when there is none.
pub fn format_optional_date(d: Option<NaiveDate>) -> String {
    d.map(|d| d.to_string()).unwrap_or_default()
}

/// `d` minus `n` calendar months; a day that does not exist in the target month becomes that
/// month's last day (29 February 2020 − 12 months = 28 February 2019), as the measure
/// definitions require (docs/measures.md).
pub fn sub_months(d: NaiveDate, n: u32) -> NaiveDate {
    d.checked_sub_months(Months::new(n))
        .expect("date arithmetic stays within chrono's range")
}

/// `d` plus `n` calendar months, clamped to the target month's last day like [`sub_months`].
pub fn add_months(d: NaiveDate, n: u32) -> NaiveDate {
    d.checked_add_months(Months::new(n))
        .expect("date arithmetic stays within chrono's range")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::d;

    #[test]
    fn times_of_day_round_trip() {
        let t = parse_time("09:05").unwrap();
        assert_eq!(format_time(t), "09:05");
        assert_eq!(format_time(parse_time(" 23:59:30 ").unwrap()), "23:59:30");
        assert_eq!(parse_time("24:00"), None);
        assert_eq!(parse_time("9:05"), None);
        assert_eq!(parse_time("09:05pm"), None);
    }

    #[test]
    fn parses_iso_and_day_first() {
        assert_eq!(parse_date("2018-04-01"), Some(d(2018, 4, 1)));
        assert_eq!(parse_date(" 01/04/2018 "), Some(d(2018, 4, 1)));
        assert_eq!(parse_date("1/4/2018"), Some(d(2018, 4, 1)));
    }

    #[test]
    fn rejects_malformed_and_impossible_dates() {
        for bad in [
            "",
            "2018-13-01",
            "2019-02-29",
            "31/02/2018",
            "2018/04/01x",
            "yesterday",
            "20180401",
        ] {
            assert_eq!(parse_date(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn twelve_months_back_from_29_february_is_28_february() {
        assert_eq!(sub_months(d(2020, 2, 29), 12), d(2019, 2, 28));
        assert_eq!(sub_months(d(2021, 2, 28), 12), d(2020, 2, 28));
        assert_eq!(sub_months(d(2018, 3, 31), 1), d(2018, 2, 28));
        assert_eq!(add_months(d(2018, 1, 31), 1), d(2018, 2, 28));
    }
}
