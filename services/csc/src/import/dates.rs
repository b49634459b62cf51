//! Dates as councils' exports write them (docs/formats.md, "Dates"): ISO `2025-05-01`, day first
//! `01/05/2025` or `1/5/2025`, two-digit years `01/05/25`, and date-times from databases and
//! spreadsheets (`2025-05-01 00:00:00.000`, `2025-05-01T00:00:00Z`, `01/05/2025 00:00`). What was
//! read other than a plain date is counted per file and said once in the import's warnings.

use chrono::{NaiveDate, NaiveTime, Timelike};

/// Two-digit years 00–69 are 2000–2069; 70–99 are 1970–1999 (no child in a return was born
/// before 1970, and no return is dated after 2069).
pub const PIVOT: u32 = 70;

/// A date read from a file, and what else the text held.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReadDate {
    pub date: NaiveDate,
    pub two_digit_year: bool,
    /// A time of day written after the date: midnight, or another time (kept out of the date).
    pub time: Option<NaiveTime>,
}

/// Reads a date as the exports write it; `None` when the text is no date (including dates before
/// 1900 or after 2099, which no return holds: `08/05/0017` is a typing error, not year 17).
pub fn read_date(text: &str) -> Option<ReadDate> {
    let t = text.trim();
    let (date_part, time_part) = match t.find(['T', ' ']) {
        Some(i) => (&t[..i], Some(t[i + 1..].trim())),
        None => (t, None),
    };
    let (date, two_digit_year) = read_date_part(date_part)?;
    if !(1900..=2099).contains(&chrono::Datelike::year(&date)) {
        return None;
    }
    let time = match time_part {
        None => None,
        Some(s) => Some(read_time_part(s)?),
    };
    Some(ReadDate {
        date,
        two_digit_year,
        time,
    })
}

fn digits(s: &str, min: usize, max: usize) -> Option<u32> {
    (s.len() >= min && s.len() <= max && s.bytes().all(|b| b.is_ascii_digit()))
        .then(|| s.parse().ok())
        .flatten()
}

fn read_date_part(s: &str) -> Option<(NaiveDate, bool)> {
    if let [y, m, d] = s.split('-').collect::<Vec<_>>()[..]
        && y.len() == 4
    {
        let date =
            NaiveDate::from_ymd_opt(digits(y, 4, 4)? as i32, digits(m, 1, 2)?, digits(d, 1, 2)?)?;
        return Some((date, false));
    }
    let sep = if s.contains('/') {
        '/'
    } else if s.contains('.') {
        '.'
    } else if s.contains('-') {
        '-'
    } else {
        return None;
    };
    let [d, m, y] = s.split(sep).collect::<Vec<_>>()[..] else {
        return None;
    };
    let (day, month) = (digits(d, 1, 2)?, digits(m, 1, 2)?);
    let (year, two) = match y.len() {
        4 => (digits(y, 4, 4)? as i32, false),
        // dd-mm-yy is not read: yy-mm-dd is written with dashes too.
        2 if sep != '-' => {
            let yy = digits(y, 2, 2)?;
            (
                (if yy < PIVOT { 2000 + yy } else { 1900 + yy }) as i32,
                true,
            )
        }
        _ => return None,
    };
    Some((NaiveDate::from_ymd_opt(year, month, day)?, two))
}

/// `hh:mm`, `hh:mm:ss`, `hh:mm:ss.fff`, with an ISO zone (`Z`, `+01:00`) tolerated after it.
fn read_time_part(s: &str) -> Option<NaiveTime> {
    let s = s.trim_end_matches('Z');
    let s = match s.rfind(['+', '-']) {
        Some(i) if i >= 5 => &s[..i],
        _ => s,
    };
    let (hms, frac) = match s.split_once('.') {
        Some((a, f)) if !f.is_empty() && f.bytes().all(|b| b.is_ascii_digit()) => (a, Some(f)),
        Some(_) => return None,
        None => (s, None),
    };
    let parts: Vec<&str> = hms.split(':').collect();
    let (h, m, sec) = match parts[..] {
        [h, m] => (digits(h, 1, 2)?, digits(m, 2, 2)?, 0),
        [h, m, sec] => (digits(h, 1, 2)?, digits(m, 2, 2)?, digits(sec, 2, 2)?),
        _ => return None,
    };
    let nanos = frac.map_or(Some(0), |f| {
        let f = &f[..f.len().min(9)];
        f.parse::<u32>()
            .ok()
            .map(|n| n * 10u32.pow(9 - f.len() as u32))
    })?;
    NaiveTime::from_hms_nano_opt(h, m, sec, nanos)
}

/// What a file's dates held besides plain dates: counted as they are read, said once per file.
#[derive(Debug, Default, Clone)]
pub struct DateTally {
    pub two_digit: u64,
    pub first_two_digit: Option<(String, String)>,
    pub midnight: u64,
    pub first_midnight: Option<(String, String)>,
}

impl DateTally {
    /// Notes a date read at `location` from `raw`.
    pub fn note(&mut self, d: &ReadDate, location: &str, raw: &str) {
        if d.two_digit_year {
            self.two_digit += 1;
            self.first_two_digit
                .get_or_insert_with(|| (location.to_owned(), raw.trim().to_owned()));
        }
        if d.time
            .is_some_and(|t| t.num_seconds_from_midnight() == 0 && t.nanosecond() == 0)
        {
            self.midnight += 1;
            self.first_midnight
                .get_or_insert_with(|| (location.to_owned(), raw.trim().to_owned()));
        }
    }
}

/// A time that is not midnight on a date-only field: the date is kept, the time is not.
pub fn is_not_midnight(d: &ReadDate) -> bool {
    d.time
        .is_some_and(|t| t.num_seconds_from_midnight() != 0 || t.nanosecond() != 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ymd(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    fn date(s: &str) -> Option<NaiveDate> {
        read_date(s).map(|d| d.date)
    }

    #[test]
    fn plain_dates_in_every_written_form() {
        assert_eq!(date("2025-05-01"), Some(ymd(2025, 5, 1)));
        assert_eq!(date(" 01/05/2025 "), Some(ymd(2025, 5, 1)));
        assert_eq!(date("1/5/2025"), Some(ymd(2025, 5, 1)));
        assert_eq!(date("01.05.2025"), Some(ymd(2025, 5, 1)));
        assert_eq!(date("01-05-2025"), Some(ymd(2025, 5, 1)));
        assert_eq!(date("31/02/2025"), None);
        assert_eq!(date("2025-13-01"), None);
        assert_eq!(date("May 1 2025"), None);
        assert_eq!(date(""), None);
    }

    #[test]
    fn two_digit_years_pivot_at_70() {
        let d = read_date("08/05/17").unwrap();
        assert_eq!((d.date, d.two_digit_year), (ymd(2017, 5, 8), true));
        assert_eq!(date("01/01/69"), Some(ymd(2069, 1, 1)));
        assert_eq!(date("01/01/70"), Some(ymd(1970, 1, 1)));
        assert_eq!(date("31/12/99"), Some(ymd(1999, 12, 31)));
        assert_eq!(date("01/01/00"), Some(ymd(2000, 1, 1)));
        // Two-digit years with dashes could be year first: not read.
        assert_eq!(date("01-05-25"), None);
        // A four-digit year that is not one a return holds is refused, not read as year 17.
        assert_eq!(date("08/05/0017"), None);
        assert_eq!(date("0017-05-08"), None);
    }

    #[test]
    fn date_times_keep_their_date_and_say_their_time() {
        for s in [
            "2025-05-01 00:00:00",
            "2025-05-01 00:00:00.000",
            "2025-05-01T00:00:00",
            "2025-05-01T00:00:00Z",
            "2025-05-01T00:00:00+01:00",
            "01/05/2025 00:00",
            "01/05/2025 00:00:00",
        ] {
            let d = read_date(s).unwrap_or_else(|| panic!("{s}"));
            assert_eq!(d.date, ymd(2025, 5, 1), "{s}");
            assert!(!is_not_midnight(&d), "{s}");
            assert!(d.time.is_some());
        }
        let d = read_date("2025-05-01 14:30:00").unwrap();
        assert!(is_not_midnight(&d));
        assert_eq!(d.date, ymd(2025, 5, 1));
        assert_eq!(date("2025-05-01 25:00"), None);
        assert_eq!(date("2025-05-01 noon"), None);
    }

    #[test]
    fn the_tally_counts_two_digit_years_and_midnights_once_each() {
        let mut t = DateTally::default();
        t.note(&read_date("01/05/25").unwrap(), "f.csv line 2", "01/05/25");
        t.note(
            &read_date("02/05/25 00:00").unwrap(),
            "f.csv line 3",
            "02/05/25 00:00",
        );
        t.note(
            &read_date("2025-05-03").unwrap(),
            "f.csv line 4",
            "2025-05-03",
        );
        assert_eq!((t.two_digit, t.midnight), (2, 1));
        assert_eq!(t.first_two_digit.unwrap().0, "f.csv line 2");
    }
}
