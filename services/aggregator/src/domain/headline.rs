//! The headline page: the figures a head of service asks about first, each with this period,
//! the previous one and a year earlier, its direction of travel judged by the measure's
//! direction, its position against England's latest published figure, and a line of commentary
//! where an analyst has set one. Read from the [`Report`], so a kept report's headline page is
//! the one it had.

use super::cells::Cell;
use super::direction::{Direction, Judgement};
use super::report::{Report, ReportMeasure};

/// The commentary target for the headline page's opening line; a headline measure's id is the
/// target of its own line.
pub const HEADLINE_COMMENTARY: &str = "headline";

/// The headline figures, in print order, with the label the page gives them.
pub const HEADLINES: &[(&str, &str)] = &[
    ("frontdoor.referrals", "Referrals"),
    ("frontdoor.rereferrals_12m", "Re-referrals within 12 months"),
    (
        "frontdoor.assessments_within_45wd",
        "Assessments within 45 working days",
    ),
    ("frontdoor.s47_started", "Section 47 enquiries started"),
    ("frontdoor.icpc_within_15wd", "ICPCs within 15 working days"),
    ("protection.cp_children_at_end", "Children on a CP plan"),
    ("protection.cp_rate_per_10k", "CP rate per 10,000"),
    ("protection.cp_repeat_ever", "Repeat CP plans"),
    ("protection.cin_plans_open_at_end", "Children on a CIN plan"),
    ("placements.cla_at_end", "Children looked after"),
    (
        "placements.cla_rate_per_10k",
        "Looked-after rate per 10,000",
    ),
    (
        "placements.three_plus_placements_12m",
        "3+ placements in 12 months",
    ),
    (
        "placements.long_term_stability",
        "Long-term placement stability",
    ),
    ("finance.unit_costs", "Average weekly placement cost"),
];

/// Whether a commentary target is the headline page or one of its figures.
pub fn is_headline_target(target: &str) -> bool {
    target == HEADLINE_COMMENTARY || HEADLINES.iter().any(|(id, _)| *id == target)
}

/// Which way a figure moved since the previous period.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Travel {
    Up,
    Down,
    Same,
}

impl Travel {
    pub fn arrow(self) -> &'static str {
        match self {
            Travel::Up => "▲",
            Travel::Down => "▼",
            Travel::Same => "▶",
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Travel::Up => "up",
            Travel::Down => "down",
            Travel::Same => "no change",
        }
    }
}

/// Where the figure stands against a benchmark.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Position {
    /// The benchmark's collection year (31 March).
    pub year: i32,
    pub benchmark: f64,
    /// `Up`: above the benchmark, `Down`: below, `Same`: equal.
    pub side: Travel,
    pub judgement: Judgement,
}

impl Position {
    pub fn describe(&self) -> &'static str {
        match self.side {
            Travel::Up => "above",
            Travel::Down => "below",
            Travel::Same => "level with",
        }
    }
}

/// One figure of the headline page.
#[derive(Debug, Clone)]
pub struct Headline<'a> {
    pub label: &'static str,
    pub section: &'a str,
    pub measure: &'a ReportMeasure,
    /// Since the previous period, and whether that is better or worse; none where either
    /// figure is missing or suppressed.
    pub travel: Option<(Travel, Judgement)>,
    pub england: Option<Position>,
    pub statistical_neighbours: Option<Position>,
    pub commentary: Option<&'a str>,
}

fn side(now: f64, other: f64) -> Travel {
    match now.partial_cmp(&other) {
        Some(std::cmp::Ordering::Greater) => Travel::Up,
        Some(std::cmp::Ordering::Less) => Travel::Down,
        _ => Travel::Same,
    }
}

fn position(d: Direction, now: Option<f64>, year: i32, bench: Option<f64>) -> Option<Position> {
    let (now, benchmark) = (now?, bench?);
    Some(Position {
        year,
        benchmark,
        side: side(now, benchmark),
        judgement: d.judge(benchmark, now),
    })
}

/// The headline figures the report holds, in print order (a figure whose section has no
/// figures, e.g. a service not reached, is left out).
pub fn headlines(report: &Report) -> Vec<Headline<'_>> {
    let mut out = Vec::new();
    for (id, label) in HEADLINES {
        let Some((section, m)) = report
            .sections
            .iter()
            .find_map(|s| s.measures.iter().find(|m| m.id == *id).map(|m| (s, m)))
        else {
            continue;
        };
        let now = m.cells.value.and_then(Cell::as_f64);
        let before = m
            .previous
            .as_ref()
            .and_then(|p| p.cells.value.and_then(Cell::as_f64));
        let travel = now
            .zip(before)
            .map(|(n, b)| (side(n, b), m.direction.judge(b, n)));
        let (england, neighbours) = match &m.benchmarks {
            Some(b) => (
                position(m.direction, now, b.year, b.england),
                position(m.direction, now, b.year, b.statistical_neighbours),
            ),
            None => (None, None),
        };
        out.push(Headline {
            label,
            section: &section.id,
            measure: m,
            travel,
            england,
            statistical_neighbours: neighbours,
            commentary: report.commentary.get(*id).map(String::as_str),
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report(json: serde_json::Value) -> Report {
        serde_json::from_value(json).unwrap()
    }

    fn measure(
        id: &str,
        unit: &str,
        value: serde_json::Value,
        before: serde_json::Value,
    ) -> serde_json::Value {
        serde_json::json!({
            "id": id, "label": id, "unit": unit,
            "direction": Direction::of(id).as_str(),
            "value": value,
            "previous": { "period": "2018-19-Q1", "value": before },
        })
    }

    #[test]
    fn travel_is_judged_by_direction_and_missing_figures_have_none() {
        let r = report(serde_json::json!({
            "la_code": "885",
            "period": { "id": "2018-19-Q2", "start": "2018-07-01", "end": "2018-09-30" },
            "generated_at": "", "published": false,
            "commentary": { "frontdoor.rereferrals_12m": "Down after the MASH review." },
            "sections": [{
                "id": "frontdoor", "title": "Family Front Door", "status": "ok",
                "commentary": null,
                "measures": [
                    measure("frontdoor.referrals", "count", 140.into(), 100.into()),
                    measure("frontdoor.rereferrals_12m", "ratio", 18.5.into(), 20.0.into()),
                    measure("frontdoor.assessments_within_45wd", "ratio", 80.0.into(), 85.0.into()),
                    measure("frontdoor.s47_started", "count", "c".into(), 10.into()),
                    measure("frontdoor.icpc_within_15wd", "ratio", 90.0.into(), 90.0.into()),
                ]
            }]
        }));
        let h = headlines(&r);
        let by = |id: &str| h.iter().find(|h| h.measure.id == id).unwrap();
        assert_eq!(
            by("frontdoor.referrals").travel,
            Some((Travel::Up, Judgement::Neither))
        );
        assert_eq!(
            by("frontdoor.rereferrals_12m").travel,
            Some((Travel::Down, Judgement::Better))
        );
        assert_eq!(
            by("frontdoor.assessments_within_45wd").travel,
            Some((Travel::Down, Judgement::Worse))
        );
        assert_eq!(by("frontdoor.s47_started").travel, None, "suppressed now");
        assert_eq!(
            by("frontdoor.icpc_within_15wd").travel,
            Some((Travel::Same, Judgement::Neither))
        );
        assert_eq!(
            by("frontdoor.rereferrals_12m").commentary,
            Some("Down after the MASH review.")
        );
        assert_eq!(by("frontdoor.referrals").commentary, None);
        // In print order, and only the figures the report holds.
        let ids: Vec<&str> = h.iter().map(|h| h.measure.id.as_str()).collect();
        assert_eq!(
            ids,
            [
                "frontdoor.referrals",
                "frontdoor.rereferrals_12m",
                "frontdoor.assessments_within_45wd",
                "frontdoor.s47_started",
                "frontdoor.icpc_within_15wd"
            ]
        );
    }

    #[test]
    fn position_against_england_is_judged_by_direction() {
        let r = report(serde_json::json!({
            "la_code": "885",
            "period": { "id": "2018-19-Q2", "start": "2018-07-01", "end": "2018-09-30" },
            "generated_at": "", "published": false,
            "sections": [{
                "id": "child_protection", "title": "Child Protection", "status": "ok",
                "commentary": null,
                "measures": [{
                    "id": "protection.cp_repeat_ever", "label": "Repeat", "unit": "ratio",
                    "direction": "lower_is_better", "numerator": 21, "denominator": 100, "value": 21.0,
                    "benchmarks": { "year": 2018, "england": 20.2, "region": null,
                                    "statistical_neighbours": 22.0, "neighbours_published": 9, "note": "" }
                }]
            }]
        }));
        let h = &headlines(&r)[0];
        let e = h.england.unwrap();
        assert_eq!(
            (e.side, e.judgement, e.year),
            (Travel::Up, Judgement::Worse, 2018)
        );
        assert_eq!(e.describe(), "above");
        let sn = h.statistical_neighbours.unwrap();
        assert_eq!((sn.side, sn.judgement), (Travel::Down, Judgement::Better));
        assert_eq!(h.travel, None, "no previous period held");
    }

    #[test]
    fn every_headline_is_a_report_measure() {
        for (id, _) in HEADLINES {
            assert!(
                super::super::sections::SECTIONS
                    .iter()
                    .any(|s| s.measures.contains(id)),
                "{id}"
            );
        }
        assert!(is_headline_target("headline"));
        assert!(is_headline_target("placements.cla_at_end"));
        assert!(!is_headline_target("placements.placement_type_mix"));
    }
}
