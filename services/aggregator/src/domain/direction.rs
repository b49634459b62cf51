//! Which way is better for each measure: so that a direction of travel, a position against
//! England and, in group reports, a quartile mean the same thing everywhere. A measure is
//! `higher_is_better` or `lower_is_better` only where the DfE or Ofsted read it that way (a
//! statutory timescale met, a repeat plan, placement instability); volumes, rates of need and
//! mixes are `neither`, because more referrals or more children in care is not in itself better
//! or worse, and they get no colour. docs/reporting.md lists the table with its reasons.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    HigherIsBetter,
    LowerIsBetter,
    /// A volume, a rate of need or a mix: no judgement.
    #[default]
    Neither,
}

impl Direction {
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::HigherIsBetter => "higher_is_better",
            Direction::LowerIsBetter => "lower_is_better",
            Direction::Neither => "neither",
        }
    }

    /// The direction of a measure, by id; `neither` for any measure the table does not name.
    pub fn of(measure_id: &str) -> Direction {
        entry(measure_id).map_or(Direction::Neither, |(_, d, _)| *d)
    }

    /// Why a measure has its direction; none for a measure that is `neither`.
    pub fn reason(measure_id: &str) -> Option<&'static str> {
        entry(measure_id).map(|(.., why)| *why)
    }

    /// Whether a change from `before` to `now` is for the better, the worse, or neither.
    pub fn judge(self, before: f64, now: f64) -> Judgement {
        match (self, now.partial_cmp(&before)) {
            (_, Some(std::cmp::Ordering::Equal) | None) | (Direction::Neither, _) => {
                Judgement::Neither
            }
            (Direction::HigherIsBetter, Some(std::cmp::Ordering::Greater))
            | (Direction::LowerIsBetter, Some(std::cmp::Ordering::Less)) => Judgement::Better,
            _ => Judgement::Worse,
        }
    }
}

/// A measure's row of [`DIRECTIONS`].
fn entry(measure_id: &str) -> Option<&'static (&'static str, Direction, &'static str)> {
    DIRECTIONS.iter().find(|(id, ..)| *id == measure_id)
}

/// A change or a position, judged by the measure's direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Judgement {
    Better,
    Worse,
    Neither,
}

impl Judgement {
    pub fn as_str(self) -> &'static str {
        match self {
            Judgement::Better => "better",
            Judgement::Worse => "worse",
            Judgement::Neither => "neither",
        }
    }
}

/// The measures with a direction, and why; every other measure is `neither`.
pub const DIRECTIONS: &[(&str, Direction, &str)] = &[
    (
        "frontdoor.rereferrals_12m",
        Direction::LowerIsBetter,
        "a re-referral within 12 months suggests the first response did not meet the need (DfE CIN statistics)",
    ),
    (
        "frontdoor.assessments_within_45wd",
        Direction::HigherIsBetter,
        "the statutory timescale for an assessment is 45 working days (Working Together)",
    ),
    (
        "frontdoor.icpc_within_15wd",
        Direction::HigherIsBetter,
        "an initial child protection conference is due within 15 working days of the strategy discussion (Working Together)",
    ),
    (
        "protection.cp_repeat_ever",
        Direction::LowerIsBetter,
        "a second or later plan suggests an earlier plan ended before the risk did (DfE CIN statistics)",
    ),
    (
        "protection.cp_repeat_within_2y",
        Direction::LowerIsBetter,
        "a repeat plan within two years of the last is the sharper signal of a plan ended too early",
    ),
    (
        "protection.cp_repeat_over_2y",
        Direction::LowerIsBetter,
        "a repeat plan, if long after the last",
    ),
    (
        "protection.cp_ended_2y_plus",
        Direction::LowerIsBetter,
        "a plan lasting two years or more suggests drift (DfE CIN statistics)",
    ),
    (
        "protection.cp_open_2y_plus",
        Direction::LowerIsBetter,
        "a plan open two years or more suggests drift",
    ),
    (
        "protection.cin_open_over_6m",
        Direction::LowerIsBetter,
        "a children in need plan open more than six months suggests drift (the model report's reading)",
    ),
    (
        "placements.three_plus_placements_12m",
        Direction::LowerIsBetter,
        "three or more placements in a year is the DfE's short-term placement instability indicator",
    ),
    (
        "placements.long_term_stability",
        Direction::HigherIsBetter,
        "two years or more in the same placement is the DfE's long-term placement stability indicator",
    ),
    (
        "placements.social_workers_3plus_12m",
        Direction::LowerIsBetter,
        "three or more social workers in a year is a change of worker the child did not choose",
    ),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_change_is_judged_by_the_measures_direction() {
        let lower = Direction::of("protection.cp_repeat_ever");
        assert_eq!(lower, Direction::LowerIsBetter);
        assert_eq!(lower.judge(20.0, 18.5), Judgement::Better);
        assert_eq!(lower.judge(18.5, 20.0), Judgement::Worse);
        assert_eq!(lower.judge(18.5, 18.5), Judgement::Neither);
        let higher = Direction::of("frontdoor.assessments_within_45wd");
        assert_eq!(higher.judge(80.0, 85.0), Judgement::Better);
        assert_eq!(higher.judge(85.0, 80.0), Judgement::Worse);
        // Volumes get no judgement, whichever way they move.
        let referrals = Direction::of("frontdoor.referrals");
        assert_eq!(referrals, Direction::Neither);
        assert_eq!(referrals.judge(100.0, 140.0), Judgement::Neither);
        assert_eq!(referrals.judge(140.0, 100.0), Judgement::Neither);
        assert_eq!(Direction::reason("frontdoor.referrals"), None);
        assert!(
            Direction::reason("protection.cp_repeat_ever")
                .is_some_and(|w| w.contains("later plan"))
        );
    }

    #[test]
    fn every_directed_measure_is_in_a_section_and_named_once() {
        use crate::domain::sections::SECTIONS;
        for (i, (id, _, why)) in DIRECTIONS.iter().enumerate() {
            assert!(
                SECTIONS.iter().any(|s| s.measures.contains(id)),
                "{id} is not a report measure"
            );
            assert!(!why.is_empty());
            assert!(
                !DIRECTIONS[i + 1..].iter().any(|(other, ..)| other == id),
                "{id} twice"
            );
        }
    }
}
