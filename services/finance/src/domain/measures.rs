//! The `finance.*` measures (docs/measures.md). Readings of the definitions are in docs/finance.md.

use std::collections::HashMap;

use csc_core::{Measure, MeasureRow, Period, Unit, measure::div_round};

use super::records::{Category, Commitment};

/// What the finance measures of a period are computed from: the LA's effective catalogue (in
/// report order) and its commitments that the period needs.
#[derive(Debug, Clone, Default)]
pub struct FinanceData {
    pub categories: Vec<Category>,
    pub commitments: Vec<Commitment>,
}

/// Every `finance.*` measure for `period` from what [`FinanceData`] holds.
pub fn compute_for(period: &Period, data: &FinanceData) -> Vec<Measure> {
    compute(period, &data.categories, &data.commitments)
}

/// Every `finance.*` measure for `period`, over one LA's effective catalogue (in report order)
/// and its commitments.
pub fn compute(
    period: &Period,
    categories: &[Category],
    commitments: &[Commitment],
) -> Vec<Measure> {
    let (start, end) = (period.start(), period.end());
    // Only the commitments that run on some day of the period or are active at its end: those
    // given may reach further (a trend's periods read at once).
    let commitments: Vec<&Commitment> = commitments
        .iter()
        .filter(|c| c.start_date <= end && c.end_date.is_none_or(|e| e > start))
        .collect();
    // Rows: every category of the catalogue, then any category a commitment names that the
    // catalogue no longer has (so that nothing counted in the total is missing from the rows).
    let mut rows: Vec<(String, String)> = categories
        .iter()
        .map(|c| (c.key.clone(), c.name.clone()))
        .collect();
    for c in &commitments {
        if !rows.iter().any(|(k, _)| *k == c.category_key) {
            rows.push((c.category_key.clone(), c.category_key.clone()));
        }
    }

    // Unit costs: commitments active at end, by category: number and mean weekly cost to the
    // nearest pound.
    let active: Vec<&Commitment> = commitments
        .iter()
        .copied()
        .filter(|c| c.active_at_end_of(end))
        .collect();
    let mut by_cat: HashMap<&str, (i64, i64)> = HashMap::new();
    for c in &active {
        let e = by_cat.entry(c.category_key.as_str()).or_default();
        e.0 += 1;
        e.1 += c.weekly_cost_pence;
    }
    let mean = |n: i64, total: i64| (n > 0).then(|| mean_to_pound(total, n));
    let total_n = active.len() as i64;
    let total_pence: i64 = active.iter().map(|c| c.weekly_cost_pence).sum();
    let mut unit_rows: Vec<MeasureRow> = rows
        .iter()
        .map(|(key, name)| {
            let (n, total) = by_cat.get(key.as_str()).copied().unwrap_or_default();
            MeasureRow::mean(key.clone(), name.clone(), mean(n, total), total, n)
        })
        .collect();
    unit_rows.push(MeasureRow::mean(
        "total",
        "Total",
        mean(total_n, total_pence),
        total_pence,
        total_n,
    ));
    let unit_costs = Measure::mean(
        "finance.unit_costs",
        "Placements and average unit cost per week",
        Unit::GbpPerWeek,
        mean(total_n, total_pence),
        total_pence,
        total_n,
    )
    .with_rows(unit_rows);

    // Weekly spend at end.
    let weekly = Measure::money(
        "finance.weekly_spend_at_end",
        "Weekly cost of placements at end",
        Unit::GbpPerWeek,
        total_pence,
    );

    // Spend in the period: Σ weekly cost × days active in P ÷ 7, to the nearest penny; each row
    // and the total are rounded from their exact sums.
    let mut spend7: HashMap<&str, i128> = HashMap::new();
    for c in &commitments {
        let days = c.days_within(start, end);
        if days > 0 {
            *spend7.entry(c.category_key.as_str()).or_default() +=
                i128::from(c.weekly_cost_pence) * i128::from(days);
        }
    }
    let total7: i128 = spend7.values().sum();
    let mut spend_rows: Vec<MeasureRow> = rows
        .iter()
        .map(|(key, name)| {
            MeasureRow::money(
                key.clone(),
                name.clone(),
                to_pence(spend7.get(key.as_str()).copied().unwrap_or(0)),
            )
        })
        .collect();
    spend_rows.push(MeasureRow::money("total", "Total", to_pence(total7)));
    let spend = Measure::money(
        "finance.spend_in_period",
        "Spend on placements in the period",
        Unit::Gbp,
        to_pence(total7),
    )
    .with_rows(spend_rows);

    vec![unit_costs, weekly, spend]
}

/// A mean weekly cost to the nearest pound (half away from zero), in pence.
fn mean_to_pound(total_pence: i64, n: i64) -> i64 {
    (div_round(i128::from(total_pence), i128::from(n) * 100) * 100) as i64
}

/// Pence × days ÷ 7, to the nearest penny.
fn to_pence(pence_days: i128) -> i64 {
    div_round(pence_days, 7) as i64
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::catalogue::effective_categories;
    use chrono::NaiveDate;
    use csc_core::measure::Num;
    use csc_core::testing::{d, la};

    fn c(cat: &str, pence: i64, start: NaiveDate, end: Option<NaiveDate>) -> Commitment {
        Commitment {
            la_code: la(),
            child_id: format!("C{pence}{start}"),
            placement_start: start,
            start_date: start,
            end_date: end,
            weekly_cost_pence: pence,
            category_key: cat.into(),
            place: None,
            place_provider: None,
            provider_name: None,
            provider_urn: None,
        }
    }
    fn q1() -> Period {
        "2018-19-Q1".parse().unwrap()
    }
    fn row<'a>(m: &'a Measure, key: &str) -> &'a MeasureRow {
        m.row(key).unwrap_or_else(|| panic!("row {key}"))
    }

    #[test]
    fn unit_costs_count_commitments_active_at_end_with_means_to_the_pound() {
        let cats = effective_categories(la(), &[]);
        let data = vec![
            c("ifa", 78_950, d(2018, 1, 1), None),
            c("ifa", 79_049, d(2018, 6, 30), None), // starts on the last day: active
            c("ifa", 10_000, d(2018, 1, 1), Some(d(2018, 6, 30))), // ends on the last day: not active
            c(
                "agency_residential",
                341_850,
                d(2018, 1, 1),
                Some(d(2018, 7, 1)),
            ),
            c("in_house_fostering", 47_700, d(2018, 7, 1), None), // starts after the end
        ];
        let ms = compute(&q1(), &cats, &data);
        let u = &ms[0];
        assert_eq!(u.id, "finance.unit_costs");
        let ifa = row(u, "ifa");
        // (789.50 + 790.49) / 2 = 789.995 → £790
        assert_eq!(
            (ifa.denominator, ifa.numerator, ifa.value),
            (Some(2), Some(157_999), Some(Num::Pence(79_000)))
        );
        assert_eq!(
            row(u, "agency_residential").value,
            Some(Num::Pence(341_900))
        ); // £3,418.50 → £3,419
        let secure = row(u, "secure_units");
        assert_eq!((secure.denominator, secure.value), (Some(0), None));
        let total = row(u, "total");
        assert_eq!(total.denominator, Some(3));
        assert_eq!(
            total.value,
            Some(Num::Pence(div_round(499_849, 300) as i64 * 100))
        );
        assert_eq!(u.value, total.value);
        assert_eq!(u.rows.len(), cats.len() + 1);
        assert_eq!(ms[1].value, Some(Num::Pence(499_849)));
    }

    #[test]
    fn pence_rounding_of_means_is_half_away_from_zero() {
        assert_eq!(mean_to_pound(150, 1), 200); // £1.50 → £2
        assert_eq!(mean_to_pound(149, 1), 100);
        assert_eq!(mean_to_pound(301, 3), 100); // 100.33p → £1
        assert_eq!(mean_to_pound(250, 1), 300); // £2.50 → £3, not to even
        assert_eq!(to_pence(7), 1);
        assert_eq!(to_pence(10), 1); // 1.43p → 1p
        assert_eq!(to_pence(11), 2); // 1.57p → 2p
    }

    #[test]
    fn spend_counts_days_in_the_period_and_a_mid_period_cost_change_splits() {
        let cats = effective_categories(la(), &[]);
        // One placement whose cost rises on 1 May: two commitments.
        let mut first = c("ifa", 70_000, d(2018, 3, 1), Some(d(2018, 5, 1)));
        let mut second = c("ifa", 84_000, d(2018, 5, 1), None);
        first.child_id = "P".into();
        second.child_id = "P".into();
        second.placement_start = first.placement_start;
        let data = vec![
            first,
            second,
            c(
                "kinship_fostering",
                37_900,
                d(2018, 6, 30),
                Some(d(2018, 7, 2)),
            ),
        ];
        let ms = compute(&q1(), &cats, &data);
        let spend = &ms[2];
        // April: 30 days at £700/week; 1 May to 30 June: 61 days at £840/week.
        let ifa = 70_000 * 30 + 84_000 * 61;
        assert_eq!(row(spend, "ifa").value, Some(Num::Pence(to_pence(ifa))));
        assert_eq!(
            row(spend, "kinship_fostering").value,
            Some(Num::Pence(to_pence(37_900)))
        );
        assert_eq!(
            row(spend, "total").value,
            Some(Num::Pence(to_pence(ifa + 37_900)))
        );
        assert_eq!(spend.value, row(spend, "total").value);
        // Only the second commitment is active at the end.
        assert_eq!(row(&ms[0], "ifa").denominator, Some(1));
    }

    #[test]
    fn a_category_no_longer_in_the_catalogue_still_reports() {
        let cats = effective_categories(la(), &[]);
        let ms = compute(&q1(), &cats, &[c("old_home", 100_000, d(2018, 1, 1), None)]);
        assert_eq!(row(&ms[0], "old_home").denominator, Some(1));
        assert_eq!(row(&ms[0], "total").denominator, Some(1));
    }

    #[test]
    fn commitments_outside_the_period_change_nothing_of_it() {
        // A trend's periods are read at once: a period's measures see the others' commitments.
        let cats = effective_categories(la(), &[]);
        let inside = vec![c("ifa", 70_000, d(2018, 1, 1), None)];
        let mut wider = inside.clone();
        wider.push(c("old_home", 100_000, d(2017, 1, 1), Some(d(2018, 4, 1))));
        wider.push(c("closed_home", 90_000, d(2018, 7, 1), None));
        assert_eq!(
            compute(&q1(), &cats, &wider),
            compute(&q1(), &cats, &inside)
        );
        assert!(compute(&q1(), &cats, &wider)[0].row("old_home").is_none());
    }
}
