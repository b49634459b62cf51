//! Reporting periods: financial years (`2018-19`, 1 April–31 March) and their quarters
//! (`2018-19-Q1` April–June, Q2 July–September, Q3 October–December, Q4 January–March).

use std::{fmt, str::FromStr};

use chrono::{Datelike, Days, NaiveDate};
use serde::Serialize;

use crate::dates::sub_months;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "malformed period {0}: expected a financial year like \"2018-19\" or a quarter like \"2018-19-Q1\""
)]
/// The text refused, quoted and bounded ([`crate::text::quote`]).
pub struct PeriodError(pub String);

/// A reporting period `P = [start, end]`, both dates inclusive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Period {
    /// The calendar year in which the financial year starts (2018 for 2018-19).
    fy: i32,
    /// 1–4 for a quarter, `None` for the whole year.
    quarter: Option<u8>,
}

impl Period {
    pub fn year(fy: i32) -> Self {
        Self { fy, quarter: None }
    }

    pub fn quarter(fy: i32, q: u8) -> Self {
        assert!((1..=4).contains(&q), "quarter {q}");
        Self {
            fy,
            quarter: Some(q),
        }
    }

    /// The financial year's first calendar year (2018 for `2018-19`).
    pub fn financial_year(&self) -> i32 {
        self.fy
    }

    pub fn quarter_number(&self) -> Option<u8> {
        self.quarter
    }

    pub fn start(&self) -> NaiveDate {
        let (y, m) = match self.quarter {
            None | Some(1) => (self.fy, 4),
            Some(2) => (self.fy, 7),
            Some(3) => (self.fy, 10),
            Some(_) => (self.fy + 1, 1),
        };
        NaiveDate::from_ymd_opt(y, m, 1).expect("valid first of month")
    }

    pub fn end(&self) -> NaiveDate {
        let (y, m, d) = match self.quarter {
            Some(1) => (self.fy, 6, 30),
            Some(2) => (self.fy, 9, 30),
            Some(3) => (self.fy, 12, 31),
            None | Some(_) => (self.fy + 1, 3, 31),
        };
        NaiveDate::from_ymd_opt(y, m, d).expect("valid quarter end")
    }

    pub fn contains(&self, d: NaiveDate) -> bool {
        self.start() <= d && d <= self.end()
    }

    /// First day of `W12`, the 12 months ending at `end`: `end − 12 months + 1 day`.
    pub fn w12_start(&self) -> NaiveDate {
        sub_months(self.end(), 12) + Days::new(1)
    }

    /// Whether `d` lies in `W12 = [end − 12 months + 1 day, end]`.
    pub fn in_w12(&self, d: NaiveDate) -> bool {
        self.w12_start() <= d && d <= self.end()
    }

    /// The period just before: the previous quarter, or the previous financial year.
    pub fn previous(&self) -> Self {
        match self.quarter {
            None => Self::year(self.fy - 1),
            Some(1) => Self::quarter(self.fy - 1, 4),
            Some(q) => Self::quarter(self.fy, q - 1),
        }
    }

    /// The same period a year earlier.
    pub fn year_earlier(&self) -> Self {
        Self {
            fy: self.fy - 1,
            quarter: self.quarter,
        }
    }

    /// The report's second comparison: for a quarter, the same quarter a year earlier; for a
    /// year, the year before the previous one (its year earlier *is* the previous year, so an
    /// annual report's two comparisons are distinct years).
    pub fn earlier_comparison(&self) -> Self {
        match self.quarter {
            Some(_) => self.year_earlier(),
            None => Self::year(self.fy - 2),
        }
    }

    /// The period (quarter or year) that contains `d`, of the same kind as `self`.
    pub fn quarter_containing(d: NaiveDate) -> Self {
        let fy = if d.month() >= 4 {
            d.year()
        } else {
            d.year() - 1
        };
        let q = match d.month() {
            4..=6 => 1,
            7..=9 => 2,
            10..=12 => 3,
            _ => 4,
        };
        Self::quarter(fy, q)
    }

    pub fn id(&self) -> String {
        self.to_string()
    }
}

/// The dates several periods reach, for a store that reads once what all of them need (a
/// report's trend): a loader given a span reads a superset of each period's records, and every
/// measure filters by its own period's dates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Span {
    /// The earliest start.
    pub start: NaiveDate,
    /// The latest end.
    pub end: NaiveDate,
    /// The earliest end (what "open at the end" reaches back to).
    pub earliest_end: NaiveDate,
    /// The earliest start of a period's 12 months to its end, or of the period if longer:
    /// `min(w12_start, start)` over the periods.
    pub w12_start: NaiveDate,
}

impl Span {
    /// The span of `periods`; `None` for none.
    pub fn of(periods: &[Period]) -> Option<Span> {
        let first = periods.first()?;
        let mut s = Span {
            start: first.start(),
            end: first.end(),
            earliest_end: first.end(),
            w12_start: first.w12_start().min(first.start()),
        };
        for p in &periods[1..] {
            s.start = s.start.min(p.start());
            s.end = s.end.max(p.end());
            s.earliest_end = s.earliest_end.min(p.end());
            s.w12_start = s.w12_start.min(p.w12_start().min(p.start()));
        }
        Some(s)
    }
}

impl fmt::Display for Period {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{:02}", self.fy, (self.fy + 1).rem_euclid(100))?;
        if let Some(q) = self.quarter {
            write!(f, "-Q{q}")?;
        }
        Ok(())
    }
}

impl FromStr for Period {
    type Err = PeriodError;

    fn from_str(s: &str) -> Result<Self, PeriodError> {
        let err = || PeriodError(crate::text::quote(s));
        let b = s.as_bytes();
        // ASCII first: the slices below are by byte, and a multi-byte character across one of
        // their ends would panic (found by the `period` fuzz target: "2018-1Ñ91").
        if !s.is_ascii() || !(b.len() == 7 || b.len() == 10) || b[4] != b'-' {
            return Err(err());
        }
        let digits = |r: std::ops::Range<usize>| -> Option<i32> {
            let part = &s[r];
            part.bytes()
                .all(|c| c.is_ascii_digit())
                .then(|| part.parse().ok())?
        };
        let fy = digits(0..4).ok_or_else(err)?;
        let next = digits(5..7).ok_or_else(err)?;
        if (fy + 1).rem_euclid(100) != next || !(1900..=2999).contains(&fy) {
            return Err(err());
        }
        if b.len() == 7 {
            return Ok(Self::year(fy));
        }
        match (&b[7..9], b[9]) {
            (b"-Q", q @ b'1'..=b'4') => Ok(Self::quarter(fy, q - b'0')),
            _ => Err(err()),
        }
    }
}

/// The period as it appears in the report's JSON: `{ "id", "start", "end" }`.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct PeriodView {
    pub id: String,
    pub start: String,
    pub end: String,
}

impl From<Period> for PeriodView {
    fn from(p: Period) -> Self {
        Self {
            id: p.id(),
            start: p.start().to_string(),
            end: p.end().to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::d;

    #[test]
    fn quarters_and_years_have_the_dfe_boundaries() {
        let cases = [
            ("2018-19-Q1", d(2018, 4, 1), d(2018, 6, 30)),
            ("2018-19-Q2", d(2018, 7, 1), d(2018, 9, 30)),
            ("2018-19-Q3", d(2018, 10, 1), d(2018, 12, 31)),
            ("2018-19-Q4", d(2019, 1, 1), d(2019, 3, 31)),
            ("2018-19", d(2018, 4, 1), d(2019, 3, 31)),
            ("1999-00", d(1999, 4, 1), d(2000, 3, 31)),
        ];
        for (id, start, end) in cases {
            let p: Period = id.parse().unwrap();
            assert_eq!((p.start(), p.end()), (start, end), "{id}");
            assert_eq!(p.to_string(), id);
        }
    }

    #[test]
    fn an_annual_report_compares_with_two_distinct_years() {
        let q: Period = "2018-19-Q2".parse().unwrap();
        assert_eq!(q.earlier_comparison().id(), "2017-18-Q2");
        let y: Period = "2018-19".parse().unwrap();
        assert_eq!(y.previous().id(), "2017-18");
        assert_eq!(y.earlier_comparison().id(), "2016-17");
    }

    #[test]
    fn a_span_reaches_every_period_s_dates() {
        let ps: Vec<Period> = ["2018-19-Q3", "2017-18-Q2", "2018-19"]
            .iter()
            .map(|p| p.parse().unwrap())
            .collect();
        let s = Span::of(&ps).unwrap();
        assert_eq!((s.start, s.end), (d(2017, 7, 1), d(2019, 3, 31)));
        assert_eq!(s.earliest_end, d(2017, 9, 30));
        // 2017-18 Q2's 12 months to its end start on 2016-10-01.
        assert_eq!(s.w12_start, d(2016, 10, 1));
        // A year is its own 12 months.
        let y = Span::of(&["2018-19".parse().unwrap()]).unwrap();
        assert_eq!(y.w12_start, d(2018, 4, 1));
        assert_eq!(Span::of(&[]), None);
    }

    #[test]
    fn rejects_malformed_ids() {
        for bad in [
            "",
            "2018",
            "2018-20",
            "2018-19-Q5",
            "2018-19-Q0",
            "2018-19Q1",
            "2018-19-q1",
            "18-19",
            "2018-19-Q1 ",
            "abcd-ef",
            // Ten bytes, with a two-byte character across a slice boundary.
            "2018-1Ñ91",
            "2018-19-Ñ",
            "2018Ñ-19",
        ] {
            assert!(bad.parse::<Period>().is_err(), "{bad:?}");
        }
    }

    #[test]
    fn w12_is_the_twelve_months_ending_at_end() {
        let p: Period = "2018-19-Q1".parse().unwrap();
        assert_eq!(p.w12_start(), d(2017, 7, 1));
        assert!(p.in_w12(d(2017, 7, 1)));
        assert!(!p.in_w12(d(2017, 6, 30)));
        let y: Period = "2019-20".parse().unwrap();
        assert_eq!(y.w12_start(), d(2019, 4, 1));
    }

    #[test]
    fn trend_periods() {
        let p: Period = "2018-19-Q1".parse().unwrap();
        assert_eq!(p.previous().to_string(), "2017-18-Q4");
        assert_eq!(p.year_earlier().to_string(), "2017-18-Q1");
        assert_eq!(
            "2018-19-Q3"
                .parse::<Period>()
                .unwrap()
                .previous()
                .to_string(),
            "2018-19-Q2"
        );
        assert_eq!(
            "2018-19".parse::<Period>().unwrap().previous().to_string(),
            "2017-18"
        );
        assert_eq!(
            Period::quarter_containing(d(2019, 2, 1)).to_string(),
            "2018-19-Q4"
        );
    }
}
