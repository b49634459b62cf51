//! The report's sections, in the model report's order, each with the domain service its figures
//! come from and its measures in print order; and what a section's status can be.

use serde::{Deserialize, Serialize};

/// The domain services a report is composed from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Upstream {
    Frontdoor,
    Protection,
    Placements,
    Finance,
}

impl Upstream {
    pub const ALL: [Upstream; 4] = [
        Upstream::Frontdoor,
        Upstream::Protection,
        Upstream::Placements,
        Upstream::Finance,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Upstream::Frontdoor => "frontdoor",
            Upstream::Protection => "protection",
            Upstream::Placements => "placements",
            Upstream::Finance => "finance",
        }
    }
}

/// A section of the report, in the model report's order, with its measures in print order.
#[derive(Debug, Clone, Copy)]
pub struct SectionDef {
    pub id: &'static str,
    pub title: &'static str,
    pub service: Upstream,
    pub measures: &'static [&'static str],
}

pub const SECTIONS: &[SectionDef] = &[
    SectionDef {
        id: "frontdoor",
        title: "Family Front Door",
        service: Upstream::Frontdoor,
        measures: &[
            "frontdoor.contacts",
            "frontdoor.early_help_assessments",
            "frontdoor.referrals",
            "frontdoor.referrals_by_source",
            "frontdoor.rereferrals_12m",
            "frontdoor.referrals_nfa",
            "frontdoor.assessments_completed",
            "frontdoor.assessments_within_45wd",
            "frontdoor.assessment_duration_bands",
            "frontdoor.assessments_nfa",
            "frontdoor.nfa_children_previous_referral",
            "frontdoor.nfa_children_previous_contact",
            "frontdoor.s47_started",
            "frontdoor.strategy_discussions",
            "frontdoor.strategy_attendance",
            "frontdoor.icpc_within_15wd",
        ],
    },
    SectionDef {
        id: "child_protection",
        title: "Child Protection",
        service: Upstream::Protection,
        measures: &[
            "protection.cp_open_at_end",
            "protection.cp_children_at_end",
            "protection.cp_rate_per_10k",
            "protection.cp_started",
            "protection.cp_repeat_ever",
            "protection.cp_repeat_within_2y",
            "protection.cp_repeat_over_2y",
            "protection.cp_first_review_ended",
            "protection.cp_ended",
            "protection.cp_ended_2y_plus",
            "protection.cp_open_2y_plus",
            "protection.feedback",
        ],
    },
    SectionDef {
        id: "children_in_need",
        title: "Children in Need",
        service: Upstream::Protection,
        measures: &[
            "protection.cin_plans_open_at_end",
            "protection.cin_share_of_open_cases",
            "protection.cin_open_over_6m",
        ],
    },
    SectionDef {
        id: "missing",
        title: "Missing Children",
        service: Upstream::Protection,
        measures: &[
            "protection.missing_episodes",
            "protection.away_episodes",
            "protection.children_missing",
            "protection.return_interviews",
        ],
    },
    SectionDef {
        id: "exploitation",
        title: "Child Sexual Exploitation",
        service: Upstream::Frontdoor,
        measures: &["frontdoor.assessment_factors"],
    },
    SectionDef {
        id: "looked_after",
        title: "Looked After Children",
        service: Upstream::Placements,
        measures: &[
            "placements.cla_at_end",
            "placements.cla_rate_per_10k",
            "placements.cla_started",
            "placements.cla_ceased",
            "placements.three_plus_placements_12m",
            "placements.moves_by_end_reason",
            "placements.long_term_stability",
            "placements.social_workers_per_child",
            "placements.social_workers_3plus_12m",
            "placements.duration_at_exit",
            "placements.placement_type_mix",
        ],
    },
    SectionDef {
        id: "costs",
        title: "Placement Costs",
        service: Upstream::Finance,
        measures: &[
            "finance.unit_costs",
            "finance.weekly_spend_at_end",
            "finance.spend_in_period",
        ],
    },
];

pub fn section_def(id: &str) -> Option<&'static SectionDef> {
    SECTIONS.iter().find(|s| s.id == id)
}

/// What a section shows (docs/coverage.md): its figures (`ok`), figures with notes saying what
/// the data held is short of (`partial`), no figures because nothing is held for the period
/// (`no_data`, never zeros), or nothing because its service could not be reached
/// (`unavailable`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SectionStatus {
    Ok,
    Partial,
    NoData,
    Unavailable,
}

impl SectionStatus {
    /// As the report's JSON writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            SectionStatus::Ok => "ok",
            SectionStatus::Partial => "partial",
            SectionStatus::NoData => "no_data",
            SectionStatus::Unavailable => "unavailable",
        }
    }
}

impl std::fmt::Display for SectionStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}
