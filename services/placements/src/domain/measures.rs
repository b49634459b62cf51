//! The `placements.*` measures of MEASURES.md, as pure functions over one LA's records.
//!
//! Readings of the text that needed a choice are written down in `docs/measures.md`.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::NaiveDate;
use csc_core::{Measure, MeasureRow, Period, add_months, codes, sub_months};

use super::history::{self, History, Warning};
use super::records::{Child, Episode, SwAllocation};

/// One LA's records. Every child's whole history is needed: a period of care can start years
/// before the period measured.
#[derive(Debug, Default, Clone)]
pub struct PlacementsData {
    pub children: Vec<Child>,
    pub episodes: Vec<Episode>,
    pub sw_allocations: Vec<SwAllocation>,
}

/// Each child's history, by child id.
pub fn histories(episodes: &[Episode]) -> BTreeMap<&str, History<'_>> {
    let mut by_child: BTreeMap<&str, Vec<&Episode>> = BTreeMap::new();
    for e in episodes {
        by_child.entry(e.child_id.as_str()).or_default().push(e);
    }
    by_child
        .into_iter()
        .map(|(c, eps)| (c, history::derive(&eps)))
        .collect()
}

/// Every inconsistency found in the LA's histories.
pub fn warnings(episodes: &[Episode]) -> Vec<Warning> {
    histories(episodes)
        .into_values()
        .flat_map(|h| h.warnings)
        .collect()
}

/// Placement type groups of `placements.placement_type_mix`, in order: (key, label, codes).
pub const PLACEMENT_GROUPS: &[(&str, &str, &[&str])] = &[
    (
        "fostering",
        "Fostering",
        &["U1", "U2", "U3", "U4", "U5", "U6"],
    ),
    (
        "residential",
        "Residential",
        &["K1", "K2", "R1", "R2", "R5", "S1"],
    ),
    ("supported", "Supported", &["H5", "P2", "K3"]),
    ("parents", "Placed with parents", &["P1"]),
    ("adoption", "Adoption", &["A3", "A4", "A5", "A6"]),
];

fn placement_group(place: &str) -> &'static str {
    PLACEMENT_GROUPS
        .iter()
        .find(|(_, _, codes)| codes.contains(&place))
        .map_or("other", |(k, _, _)| k)
}

/// Duration bands of `placements.duration_at_exit`: (key, label).
const DURATION_BANDS: &[(&str, &str)] = &[
    ("under_12m", "Under 12 months"),
    ("12_to_24m", "12 to under 24 months"),
    ("24m_plus", "24 months or more"),
];

pub fn compute(period: &Period, data: &PlacementsData) -> Vec<Measure> {
    let end = period.end();
    let w12 = period.w12_start();
    let hs = histories(&data.episodes);
    let dob: HashMap<&str, NaiveDate> = data
        .children
        .iter()
        .map(|c| (c.child_id.as_str(), c.date_of_birth))
        .collect();
    let mut sw: HashMap<&str, Vec<&SwAllocation>> = HashMap::new();
    for a in &data.sw_allocations {
        sw.entry(a.child_id.as_str()).or_default().push(a);
    }

    // Children looked after at the end, each with their current period of care.
    let looked_after: Vec<(&str, &History<'_>)> = hs
        .iter()
        .filter(|(_, h)| h.period_at(end).is_some())
        .map(|(c, h)| (*c, h))
        .collect();
    let n_cla = looked_after.len() as i64;
    let mut out = vec![Measure::count(
        "placements.cla_at_end",
        "Children looked after at the end of the period",
        n_cla,
    )];
    let periods = || hs.values().flat_map(|h| h.periods.iter());
    out.push(Measure::count(
        "placements.cla_started",
        "Periods of care started",
        periods()
            .filter(|p| p.started() && period.contains(p.start))
            .count() as i64,
    ));
    out.push(Measure::count(
        "placements.cla_ceased",
        "Periods of care ended",
        periods()
            .filter(|p| p.ceased().is_some_and(|e| period.contains(e)))
            .count() as i64,
    ));

    // Three or more placements in the 12 months, and the moves of those children.
    let three_plus: Vec<(&str, &History<'_>)> = looked_after
        .iter()
        .filter(|(_, h)| h.placements().filter(|p| p.overlaps(w12, end)).count() >= 3)
        .copied()
        .collect();
    out.push(Measure::ratio(
        "placements.three_plus_placements_12m",
        "Children looked after with 3 or more placements in the last 12 months",
        three_plus.len() as i64,
        n_cla,
    ));
    let mut by_reason: BTreeMap<String, i64> = BTreeMap::new();
    for (_, h) in &three_plus {
        for p in h
            .placements()
            .filter(|p| p.ended_with_move && p.end.is_some_and(|e| w12 <= e && e <= end))
        {
            let key = p.end_reason().unwrap_or("not_recorded").to_owned();
            *by_reason.entry(key).or_default() += 1;
        }
    }
    let total_moves: i64 = by_reason.values().sum();
    let mut reasons: Vec<(String, i64)> = by_reason.into_iter().collect();
    reasons.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    let mut rows: Vec<MeasureRow> = reasons
        .into_iter()
        .map(|(key, n)| {
            let label = match key.as_str() {
                "not_recorded" => "Not recorded".to_owned(),
                k => {
                    codes::reason_place_change_label(k).map_or_else(|| k.to_owned(), str::to_owned)
                }
            };
            MeasureRow::share(key, label, n, total_moves)
        })
        .collect();
    rows.push(MeasureRow::share(
        "total",
        "Total",
        total_moves,
        total_moves,
    ));
    out.push(
        Measure::count(
            "placements.moves_by_end_reason",
            "Placement moves in the last 12 months of children with 3 or more placements, by end reason",
            total_moves,
        )
        .with_rows(rows),
    );

    // Long-term stability: under 16, looked after 2.5 years or more, same placement 2 years.
    let (mut stable_d, mut stable_n) = (0, 0);
    for (child, h) in &looked_after {
        let Some(born) = dob.get(child) else { continue };
        let current = h.period_at(end).expect("looked after at end");
        if add_months(*born, 16 * 12) > end && current.start <= sub_months(end, 30) {
            stable_d += 1;
            if current
                .placement_at(end)
                .is_some_and(|p| p.start <= sub_months(end, 24))
            {
                stable_n += 1;
            }
        }
    }
    out.push(Measure::ratio(
        "placements.long_term_stability",
        "Children under 16 looked after for 2.5 years or more: in the same placement for 2 years or more",
        stable_n,
        stable_d,
    ));

    // Social workers.
    let workers_in = |child: &str, a: NaiveDate, b: NaiveDate| -> usize {
        sw.get(child)
            .map(|list| {
                list.iter()
                    .filter(|s| s.allocated_in(a, b))
                    .map(|s| s.sw_id.as_str())
                    .collect::<BTreeSet<_>>()
                    .len()
            })
            .unwrap_or(0)
    };
    let mut bands = [0i64; 11];
    let mut three_workers = 0;
    for (child, h) in &looked_after {
        let current = h.period_at(end).expect("looked after at end");
        let a = current.start.max(sub_months(end, 24));
        bands[workers_in(child, a, end).min(10)] += 1;
        if workers_in(child, w12, end) >= 3 {
            three_workers += 1;
        }
    }
    let rows = bands
        .iter()
        .enumerate()
        .map(|(i, n)| {
            let key = if i == 10 {
                "10+".to_owned()
            } else {
                i.to_string()
            };
            MeasureRow::share(key.clone(), key, *n, n_cla)
        })
        .collect();
    out.push(
        Measure::count(
            "placements.social_workers_per_child",
            "Children looked after by number of social workers allocated (this period of care, at most the last 2 years)",
            n_cla,
        )
        .with_rows(rows),
    );
    out.push(Measure::ratio(
        "placements.social_workers_3plus_12m",
        "Children looked after with 3 or more social workers in the last 12 months",
        three_workers,
        n_cla,
    ));

    // Duration of care at exit, for periods ended in the 12 months.
    let mut durations = [0i64; 3];
    for p in periods() {
        let Some(e) = p.ceased().filter(|e| w12 <= *e && *e <= end) else {
            continue;
        };
        let band = if e < add_months(p.start, 12) {
            0
        } else if e < add_months(p.start, 24) {
            1
        } else {
            2
        };
        durations[band] += 1;
    }
    let exits: i64 = durations.iter().sum();
    out.push(
        Measure::count(
            "placements.duration_at_exit",
            "Periods of care ended in the last 12 months, by duration",
            exits,
        )
        .with_rows(
            DURATION_BANDS
                .iter()
                .zip(durations)
                .map(|((k, l), n)| MeasureRow::share(*k, *l, n, exits))
                .collect(),
        ),
    );

    // Placement type of the episode open at the end.
    let mut mix: HashMap<&str, i64> = HashMap::new();
    for (_, h) in &looked_after {
        let place = h
            .period_at(end)
            .and_then(|p| p.episode_at(end))
            .map_or("", |e| e.place.as_str());
        *mix.entry(placement_group(place)).or_default() += 1;
    }
    let rows = PLACEMENT_GROUPS
        .iter()
        .map(|(k, l, _)| (*k, *l))
        .chain([("other", "Other")])
        .map(|(k, l)| MeasureRow::share(k, l, mix.get(k).copied().unwrap_or(0), n_cla))
        .collect();
    out.push(
        Measure::count(
            "placements.placement_type_mix",
            "Children looked after at the end by type of placement",
            n_cla,
        )
        .with_rows(rows),
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::records::Sex;
    use csc_core::testing::la;

    use csc_core::measure::testing::{count, measure, ratio, row_count};

    use crate::domain::history::tests::d;

    fn q(id: &str) -> Period {
        id.parse().unwrap()
    }
    fn ep(
        child: &str,
        decom: NaiveDate,
        rne: &str,
        place: &str,
        dec: Option<NaiveDate>,
        rec: &str,
        reason: &str,
    ) -> Episode {
        Episode {
            child_id: child.into(),
            cin: None,
            place_provider: None,
            ..crate::domain::history::tests::ep(decom, rne, place, dec, rec, reason)
        }
    }
    fn child(id: &str, dob: NaiveDate) -> Child {
        Child {
            la_code: la(),
            child_id: id.into(),
            sex: Sex::Female,
            date_of_birth: dob,
            ethnicity: None,
            upn: None,
        }
    }
    fn sw(childid: &str, id: &str, start: NaiveDate, end: Option<NaiveDate>) -> SwAllocation {
        SwAllocation {
            la_code: la(),
            child_id: childid.into(),
            sw_id: id.into(),
            start_date: start,
            end_date: end,
            reason: None,
        }
    }

    #[test]
    fn every_measure_in_catalogue_order_on_no_data() {
        let ms = compute(&q("2018-19-Q1"), &PlacementsData::default());
        let ids: Vec<&str> = ms.iter().map(|m| m.id.as_str()).collect();
        assert_eq!(
            ids,
            [
                "placements.cla_at_end",
                "placements.cla_started",
                "placements.cla_ceased",
                "placements.three_plus_placements_12m",
                "placements.moves_by_end_reason",
                "placements.long_term_stability",
                "placements.social_workers_per_child",
                "placements.social_workers_3plus_12m",
                "placements.duration_at_exit",
                "placements.placement_type_mix",
            ]
        );
    }

    #[test]
    fn exactly_three_placements_one_starting_on_the_window_s_first_day() {
        // 2018-19-Q1: W12 = 2017-07-01 .. 2018-06-30.
        let data = PlacementsData {
            episodes: vec![
                // A: placements ending 2017-07-01 (not overlapping: ended on W12's first day),
                // 2017-07-01 (starts on the first day), 2018-01-01 and open: 3 in W12.
                ep(
                    "A",
                    d(2017, 1, 1),
                    "S",
                    "U4",
                    Some(d(2017, 7, 1)),
                    "X1",
                    "CREQB",
                ),
                ep(
                    "A",
                    d(2017, 7, 1),
                    "P",
                    "U6",
                    Some(d(2018, 1, 1)),
                    "X1",
                    "CHILD",
                ),
                ep("A", d(2018, 1, 1), "P", "K2", Some(d(2018, 3, 1)), "X1", ""),
                ep("A", d(2018, 3, 1), "P", "U4", None, "", ""),
                // B: two placements only.
                ep(
                    "B",
                    d(2017, 1, 1),
                    "S",
                    "U4",
                    Some(d(2018, 1, 1)),
                    "X1",
                    "CREQB",
                ),
                ep("B", d(2018, 1, 1), "P", "U4", None, "", ""),
            ],
            ..Default::default()
        };
        let ms = compute(&q("2018-19-Q1"), &data);
        assert_eq!(count(&ms, "placements.cla_at_end"), 2);
        assert_eq!(ratio(&ms, "placements.three_plus_placements_12m"), (1, 2));
        // A's moves ending in W12: 2017-07-01 (CREQB), 2018-01-01 (CHILD), 2018-03-01 (blank).
        let m = measure(&ms, "placements.moves_by_end_reason");
        let keys: Vec<&str> = m.rows.iter().map(|r| r.key.as_str()).collect();
        assert_eq!(keys, ["CHILD", "CREQB", "not_recorded", "total"]);
        assert_eq!(row_count(&ms, "placements.moves_by_end_reason", "total"), 3);
        assert_eq!(m.rows[0].percent, Some(33.3));
        assert_eq!(m.rows[0].label, "Child requests placement end");
    }

    #[test]
    fn a_period_of_care_ending_on_the_period_s_last_day() {
        let data = PlacementsData {
            episodes: vec![
                ep(
                    "A",
                    d(2017, 6, 30),
                    "S",
                    "U4",
                    Some(d(2018, 6, 30)),
                    "E13",
                    "",
                ),
                ep(
                    "B",
                    d(2018, 4, 1),
                    "S",
                    "U4",
                    Some(d(2018, 7, 1)),
                    "E13",
                    "",
                ),
                ep(
                    "C",
                    d(2016, 4, 1),
                    "S",
                    "U4",
                    Some(d(2018, 5, 1)),
                    "E11",
                    "",
                ),
            ],
            ..Default::default()
        };
        let ms = compute(&q("2018-19-Q1"), &data);
        assert_eq!(
            count(&ms, "placements.cla_at_end"),
            1,
            "A ended on the last day: not open"
        );
        assert_eq!(count(&ms, "placements.cla_started"), 1);
        assert_eq!(count(&ms, "placements.cla_ceased"), 2);
        // A: exactly 12 months (12_to_24m); C: 25 months.
        assert_eq!(
            row_count(&ms, "placements.duration_at_exit", "12_to_24m"),
            1
        );
        assert_eq!(row_count(&ms, "placements.duration_at_exit", "24m_plus"), 1);
        assert_eq!(
            row_count(&ms, "placements.duration_at_exit", "under_12m"),
            0
        );
    }

    #[test]
    fn long_term_stability_at_exactly_two_and_a_half_years_and_two_years() {
        let end = d(2018, 6, 30);
        let data = PlacementsData {
            children: vec![
                child("A", d(2005, 1, 1)),
                child("B", d(2005, 1, 1)),
                child("C", d(2002, 6, 30)), // 16 on the last day: not under 16
                child("D", d(2005, 1, 1)),
            ],
            episodes: vec![
                // A: looked after from end − 2.5 years, current placement from end − 2 years.
                ep(
                    "A",
                    d(2015, 12, 30),
                    "S",
                    "U4",
                    Some(d(2016, 6, 30)),
                    "X1",
                    "",
                ),
                ep("A", d(2016, 6, 30), "P", "U6", None, "", ""),
                // B: a day short of 2.5 years.
                ep("B", d(2015, 12, 31), "S", "U4", None, "", ""),
                ep("C", d(2010, 1, 1), "S", "U4", None, "", ""),
                // D: current placement a day short of 2 years.
                ep("D", d(2010, 1, 1), "S", "U4", Some(d(2016, 7, 1)), "X1", ""),
                ep("D", d(2016, 7, 1), "P", "U6", None, "", ""),
            ],
            ..Default::default()
        };
        let ms = compute(&q("2018-19-Q1"), &data);
        assert_eq!(end, q("2018-19-Q1").end());
        assert_eq!(ratio(&ms, "placements.long_term_stability"), (1, 2));
    }

    #[test]
    fn social_workers_counted_once_when_reallocated() {
        let data = PlacementsData {
            episodes: vec![ep("A", d(2015, 1, 1), "S", "U4", None, "", "")],
            sw_allocations: vec![
                sw("A", "SW1", d(2015, 1, 1), Some(d(2016, 1, 1))), // before end − 2 years
                sw("A", "SW2", d(2016, 1, 1), Some(d(2016, 6, 30))), // ends on a = end − 2y
                sw("A", "SW3", d(2016, 6, 30), Some(d(2017, 7, 1))),
                sw("A", "SW3", d(2018, 1, 1), None), // re-allocated: still one worker
                sw("A", "SW4", d(2017, 7, 1), Some(d(2018, 1, 1))),
            ],
            ..Default::default()
        };
        let ms = compute(&q("2018-19-Q1"), &data);
        assert_eq!(
            row_count(&ms, "placements.social_workers_per_child", "3"),
            1
        );
        // W12 (2017-07-01 ..): SW3 (ended on its first day, and again from January) and SW4.
        assert_eq!(ratio(&ms, "placements.social_workers_3plus_12m"), (0, 1));
    }

    #[test]
    fn placement_type_mix_by_the_episode_open_at_end() {
        let data = PlacementsData {
            episodes: vec![
                ep("A", d(2018, 1, 1), "S", "U4", None, "", ""),
                ep("B", d(2018, 1, 1), "S", "K3", None, "", ""),
                ep("C", d(2018, 1, 1), "S", "A5", None, "", ""),
                ep("D", d(2018, 1, 1), "S", "T1", None, "", ""),
                ep("E", d(2018, 1, 1), "S", "Z11", None, "", ""),
                ep("F", d(2018, 1, 1), "S", "P1", None, "", ""),
            ],
            ..Default::default()
        };
        let ms = compute(&q("2018-19-Q1"), &data);
        let mix = |k| row_count(&ms, "placements.placement_type_mix", k);
        assert_eq!(
            (
                mix("fostering"),
                mix("supported"),
                mix("adoption"),
                mix("parents"),
                mix("other")
            ),
            (1, 1, 1, 1, 2)
        );
    }

    #[test]
    fn only_periods_started_with_rne_s_and_ended_without_x1_are_starts_and_exits() {
        let data = PlacementsData {
            episodes: vec![
                // Looked after before the data begin: the earliest episode held has RNE P.
                ep(
                    "A",
                    d(2018, 4, 10),
                    "P",
                    "U4",
                    Some(d(2018, 5, 1)),
                    "E11",
                    "",
                ),
                // Ended X1 with nothing after: a gap in the data, not an exit.
                ep("B", d(2018, 4, 1), "S", "U4", Some(d(2018, 5, 1)), "X1", ""),
                // Started and ended properly.
                ep(
                    "C",
                    d(2018, 4, 2),
                    "S",
                    "U4",
                    Some(d(2018, 6, 1)),
                    "E13",
                    "",
                ),
            ],
            ..Default::default()
        };
        let ms = compute(&q("2018-19-Q1"), &data);
        assert_eq!(count(&ms, "placements.cla_started"), 2, "B and C");
        assert_eq!(count(&ms, "placements.cla_ceased"), 2, "A and C");
        assert_eq!(
            row_count(&ms, "placements.duration_at_exit", "under_12m"),
            2
        );
        assert_eq!(count(&ms, "placements.cla_at_end"), 0);
    }
}
