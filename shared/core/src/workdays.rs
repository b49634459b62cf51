//! Working days: Monday to Friday, less England & Wales bank holidays.
//!
//! The table below is the one list the suite uses. It covers 2012–2030: the gov.uk announced dates
//! to 2026 (with the one-off changes: 2012 Diamond Jubilee and moved spring holiday, 2020 VE Day,
//! 2022 Platinum Jubilee, moved spring holiday and State Funeral, 2023 Coronation) and the standing
//! rules, with weekend substitutes, after that. Outside 2012–2030 no bank holidays are known and
//! only weekends are excluded (documented in docs/measures.md).

use chrono::{Datelike, NaiveDate, Weekday};

/// England & Wales bank holidays 2012–2030, in date order: (year, month, day, name).
pub const BANK_HOLIDAYS: &[(i32, u32, u32, &str)] = &[
    (2012, 1, 2, "New Year's Day"),
    (2012, 4, 6, "Good Friday"),
    (2012, 4, 9, "Easter Monday"),
    (2012, 5, 7, "Early May bank holiday"),
    (2012, 6, 4, "Spring bank holiday"),
    (2012, 6, 5, "Queen's Diamond Jubilee"),
    (2012, 8, 27, "Summer bank holiday"),
    (2012, 12, 25, "Christmas Day"),
    (2012, 12, 26, "Boxing Day"),
    (2013, 1, 1, "New Year's Day"),
    (2013, 3, 29, "Good Friday"),
    (2013, 4, 1, "Easter Monday"),
    (2013, 5, 6, "Early May bank holiday"),
    (2013, 5, 27, "Spring bank holiday"),
    (2013, 8, 26, "Summer bank holiday"),
    (2013, 12, 25, "Christmas Day"),
    (2013, 12, 26, "Boxing Day"),
    (2014, 1, 1, "New Year's Day"),
    (2014, 4, 18, "Good Friday"),
    (2014, 4, 21, "Easter Monday"),
    (2014, 5, 5, "Early May bank holiday"),
    (2014, 5, 26, "Spring bank holiday"),
    (2014, 8, 25, "Summer bank holiday"),
    (2014, 12, 25, "Christmas Day"),
    (2014, 12, 26, "Boxing Day"),
    (2015, 1, 1, "New Year's Day"),
    (2015, 4, 3, "Good Friday"),
    (2015, 4, 6, "Easter Monday"),
    (2015, 5, 4, "Early May bank holiday"),
    (2015, 5, 25, "Spring bank holiday"),
    (2015, 8, 31, "Summer bank holiday"),
    (2015, 12, 25, "Christmas Day"),
    (2015, 12, 28, "Boxing Day"),
    (2016, 1, 1, "New Year's Day"),
    (2016, 3, 25, "Good Friday"),
    (2016, 3, 28, "Easter Monday"),
    (2016, 5, 2, "Early May bank holiday"),
    (2016, 5, 30, "Spring bank holiday"),
    (2016, 8, 29, "Summer bank holiday"),
    (2016, 12, 26, "Boxing Day"),
    (2016, 12, 27, "Christmas Day"),
    (2017, 1, 2, "New Year's Day"),
    (2017, 4, 14, "Good Friday"),
    (2017, 4, 17, "Easter Monday"),
    (2017, 5, 1, "Early May bank holiday"),
    (2017, 5, 29, "Spring bank holiday"),
    (2017, 8, 28, "Summer bank holiday"),
    (2017, 12, 25, "Christmas Day"),
    (2017, 12, 26, "Boxing Day"),
    (2018, 1, 1, "New Year's Day"),
    (2018, 3, 30, "Good Friday"),
    (2018, 4, 2, "Easter Monday"),
    (2018, 5, 7, "Early May bank holiday"),
    (2018, 5, 28, "Spring bank holiday"),
    (2018, 8, 27, "Summer bank holiday"),
    (2018, 12, 25, "Christmas Day"),
    (2018, 12, 26, "Boxing Day"),
    (2019, 1, 1, "New Year's Day"),
    (2019, 4, 19, "Good Friday"),
    (2019, 4, 22, "Easter Monday"),
    (2019, 5, 6, "Early May bank holiday"),
    (2019, 5, 27, "Spring bank holiday"),
    (2019, 8, 26, "Summer bank holiday"),
    (2019, 12, 25, "Christmas Day"),
    (2019, 12, 26, "Boxing Day"),
    (2020, 1, 1, "New Year's Day"),
    (2020, 4, 10, "Good Friday"),
    (2020, 4, 13, "Easter Monday"),
    (2020, 5, 8, "Early May bank holiday"),
    (2020, 5, 25, "Spring bank holiday"),
    (2020, 8, 31, "Summer bank holiday"),
    (2020, 12, 25, "Christmas Day"),
    (2020, 12, 28, "Boxing Day"),
    (2021, 1, 1, "New Year's Day"),
    (2021, 4, 2, "Good Friday"),
    (2021, 4, 5, "Easter Monday"),
    (2021, 5, 3, "Early May bank holiday"),
    (2021, 5, 31, "Spring bank holiday"),
    (2021, 8, 30, "Summer bank holiday"),
    (2021, 12, 27, "Christmas Day"),
    (2021, 12, 28, "Boxing Day"),
    (2022, 1, 3, "New Year's Day"),
    (2022, 4, 15, "Good Friday"),
    (2022, 4, 18, "Easter Monday"),
    (2022, 5, 2, "Early May bank holiday"),
    (2022, 6, 2, "Spring bank holiday"),
    (2022, 6, 3, "Queen's Platinum Jubilee"),
    (2022, 8, 29, "Summer bank holiday"),
    (2022, 9, 19, "State Funeral of Queen Elizabeth II"),
    (2022, 12, 26, "Boxing Day"),
    (2022, 12, 27, "Christmas Day"),
    (2023, 1, 2, "New Year's Day"),
    (2023, 4, 7, "Good Friday"),
    (2023, 4, 10, "Easter Monday"),
    (2023, 5, 1, "Early May bank holiday"),
    (2023, 5, 8, "Coronation of King Charles III"),
    (2023, 5, 29, "Spring bank holiday"),
    (2023, 8, 28, "Summer bank holiday"),
    (2023, 12, 25, "Christmas Day"),
    (2023, 12, 26, "Boxing Day"),
    (2024, 1, 1, "New Year's Day"),
    (2024, 3, 29, "Good Friday"),
    (2024, 4, 1, "Easter Monday"),
    (2024, 5, 6, "Early May bank holiday"),
    (2024, 5, 27, "Spring bank holiday"),
    (2024, 8, 26, "Summer bank holiday"),
    (2024, 12, 25, "Christmas Day"),
    (2024, 12, 26, "Boxing Day"),
    (2025, 1, 1, "New Year's Day"),
    (2025, 4, 18, "Good Friday"),
    (2025, 4, 21, "Easter Monday"),
    (2025, 5, 5, "Early May bank holiday"),
    (2025, 5, 26, "Spring bank holiday"),
    (2025, 8, 25, "Summer bank holiday"),
    (2025, 12, 25, "Christmas Day"),
    (2025, 12, 26, "Boxing Day"),
    (2026, 1, 1, "New Year's Day"),
    (2026, 4, 3, "Good Friday"),
    (2026, 4, 6, "Easter Monday"),
    (2026, 5, 4, "Early May bank holiday"),
    (2026, 5, 25, "Spring bank holiday"),
    (2026, 8, 31, "Summer bank holiday"),
    (2026, 12, 25, "Christmas Day"),
    (2026, 12, 28, "Boxing Day"),
    (2027, 1, 1, "New Year's Day"),
    (2027, 3, 26, "Good Friday"),
    (2027, 3, 29, "Easter Monday"),
    (2027, 5, 3, "Early May bank holiday"),
    (2027, 5, 31, "Spring bank holiday"),
    (2027, 8, 30, "Summer bank holiday"),
    (2027, 12, 27, "Christmas Day"),
    (2027, 12, 28, "Boxing Day"),
    (2028, 1, 3, "New Year's Day"),
    (2028, 4, 14, "Good Friday"),
    (2028, 4, 17, "Easter Monday"),
    (2028, 5, 1, "Early May bank holiday"),
    (2028, 5, 29, "Spring bank holiday"),
    (2028, 8, 28, "Summer bank holiday"),
    (2028, 12, 25, "Christmas Day"),
    (2028, 12, 26, "Boxing Day"),
    (2029, 1, 1, "New Year's Day"),
    (2029, 3, 30, "Good Friday"),
    (2029, 4, 2, "Easter Monday"),
    (2029, 5, 7, "Early May bank holiday"),
    (2029, 5, 28, "Spring bank holiday"),
    (2029, 8, 27, "Summer bank holiday"),
    (2029, 12, 25, "Christmas Day"),
    (2029, 12, 26, "Boxing Day"),
    (2030, 1, 1, "New Year's Day"),
    (2030, 4, 19, "Good Friday"),
    (2030, 4, 22, "Easter Monday"),
    (2030, 5, 6, "Early May bank holiday"),
    (2030, 5, 27, "Spring bank holiday"),
    (2030, 8, 26, "Summer bank holiday"),
    (2030, 12, 25, "Christmas Day"),
    (2030, 12, 26, "Boxing Day"),
];

fn holiday_ordinals() -> &'static [i32] {
    use std::sync::OnceLock;
    static DAYS: OnceLock<Vec<i32>> = OnceLock::new();
    DAYS.get_or_init(|| {
        BANK_HOLIDAYS
            .iter()
            .map(|&(y, m, d, _)| {
                NaiveDate::from_ymd_opt(y, m, d)
                    .expect("valid holiday")
                    .num_days_from_ce()
            })
            .collect()
    })
}

pub fn is_bank_holiday(d: NaiveDate) -> bool {
    holiday_ordinals()
        .binary_search(&d.num_days_from_ce())
        .is_ok()
}

pub fn is_working_day(d: NaiveDate) -> bool {
    !matches!(d.weekday(), Weekday::Sat | Weekday::Sun) && !is_bank_holiday(d)
}

/// Weekdays (Monday–Friday) in the days `(0, n]` counted from a day whose ordinal is `from`.
fn weekdays_up_to(day: i32) -> i64 {
    // Days from the common era are 1 = Monday 1 January 1 AD; count whole weeks plus the remainder.
    let day = i64::from(day);
    let weeks = day.div_euclid(7);
    let rem = day.rem_euclid(7); // 0 = Sunday ... 6 = Saturday for this numbering
    weeks * 5 + rem.min(5)
}

/// Working days from `a` to `b`: the number of working days in `(a, b]`, so the same day is 0 and
/// the next working day is 1. Negative when `b` is before `a` (the working days in `(b, a]`).
pub fn working_days_between(a: NaiveDate, b: NaiveDate) -> i64 {
    if b < a {
        return -working_days_between(b, a);
    }
    let (fa, fb) = (a.num_days_from_ce(), b.num_days_from_ce());
    let weekdays = weekdays_up_to(fb) - weekdays_up_to(fa);
    let hol = holiday_ordinals();
    let lo = hol.partition_point(|&h| h <= fa);
    let hi = hol.partition_point(|&h| h <= fb);
    weekdays - (hi - lo) as i64
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::d;

    fn slow(a: NaiveDate, b: NaiveDate) -> i64 {
        a.iter_days()
            .skip(1)
            .take_while(|x| *x <= b)
            .filter(|x| is_working_day(*x))
            .count() as i64
    }

    #[test]
    fn table_is_sorted_weekdays_covering_2012_to_2030() {
        let ords = holiday_ordinals();
        assert!(ords.windows(2).all(|w| w[0] < w[1]));
        for &(y, m, day, name) in BANK_HOLIDAYS {
            let date = d(y, m, day);
            assert!(
                !matches!(date.weekday(), Weekday::Sat | Weekday::Sun),
                "{date} {name}"
            );
        }
        for y in 2012..=2030 {
            let n = BANK_HOLIDAYS.iter().filter(|h| h.0 == y).count();
            assert!((8..=10).contains(&n), "{y}: {n}");
        }
    }

    #[test]
    fn one_off_holidays_are_in_the_table() {
        for date in [
            d(2012, 6, 5),
            d(2020, 5, 8),
            d(2022, 6, 3),
            d(2022, 9, 19),
            d(2023, 5, 8),
            d(2020, 12, 28),
        ] {
            assert!(is_bank_holiday(date), "{date}");
        }
        assert!(
            !is_bank_holiday(d(2020, 5, 4)),
            "early May 2020 moved to VE Day"
        );
    }

    #[test]
    fn same_day_is_zero_and_next_day_is_one() {
        assert_eq!(working_days_between(d(2018, 4, 3), d(2018, 4, 3)), 0);
        assert_eq!(working_days_between(d(2018, 4, 3), d(2018, 4, 4)), 1);
        // Friday to Monday is one working day; Saturday to Monday too.
        assert_eq!(working_days_between(d(2018, 4, 6), d(2018, 4, 9)), 1);
        assert_eq!(working_days_between(d(2018, 4, 7), d(2018, 4, 9)), 1);
        assert_eq!(working_days_between(d(2018, 4, 7), d(2018, 4, 8)), 0);
    }

    #[test]
    fn easter_and_christmas_are_skipped() {
        // Thursday 29 March 2018 to Tuesday 3 April 2018: Good Friday and Easter Monday are off.
        assert_eq!(working_days_between(d(2018, 3, 29), d(2018, 4, 3)), 1);
        // Friday 22 December 2017 to Friday 29 December 2017: 25 and 26 are bank holidays.
        assert_eq!(working_days_between(d(2017, 12, 22), d(2017, 12, 29)), 3);
    }

    #[test]
    fn matches_day_by_day_count_over_years() {
        let start = d(2011, 12, 1);
        for (i, a) in start.iter_days().step_by(13).take(400).enumerate() {
            let b = a + chrono::Days::new((i as u64 * 7) % 90);
            assert_eq!(working_days_between(a, b), slow(a, b), "{a} {b}");
        }
        assert_eq!(
            working_days_between(d(2018, 5, 1), d(2018, 4, 1)),
            -slow(d(2018, 4, 1), d(2018, 5, 1))
        );
    }
}
