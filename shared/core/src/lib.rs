//! The suite's domain vocabulary, with no I/O: LA codes, periods and calendar arithmetic, working
//! days and bank holidays, the statutory code lists, ratios and the measure shape that every
//! service returns. Everything here is a pure function, so every service and the tests agree on
//! what a quarter, a working day or a percentage is.

pub mod codes;
pub mod dates;
pub mod keys;
pub mod la;
pub mod measure;
pub mod period;
pub mod suppression;
pub mod text;
pub mod validation;
pub mod workdays;

pub use dates::{
    add_months, format_optional_date, format_time, parse_date, parse_time, sub_months,
};
pub use keys::ChildDateKey;
pub use la::LaCode;
pub use measure::{Measure, MeasureRow, Unit, percent_1dp};
pub use period::{Period, PeriodError, Span};
pub use validation::{FieldCheck, FieldViolation, Violations};
pub use workdays::working_days_between;

/// Shorthands for tests across the workspace: a date, and the LA most test records belong to.
#[doc(hidden)]
pub mod testing {
    use chrono::NaiveDate;

    use crate::LaCode;

    /// The date `y`-`m`-`day` (a test's literal; panics on an impossible one).
    pub fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).expect("a valid test date")
    }

    /// LA 885, as most test records are.
    pub fn la() -> LaCode {
        LaCode::parse("885").expect("885 is an LA code")
    }
}
