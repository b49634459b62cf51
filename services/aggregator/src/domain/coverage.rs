//! What a section's figures rest on, and whether that covers the period (docs/coverage.md).
//!
//! Each domain service says what it holds for the LA (`GetCoverage`): per record kind a count and
//! the span of its event dates, and the files imported. From that a section is `ok` (data covers
//! the period and every look-back its measures make), `partial` (figures shown, with notes saying
//! what is short) or `no_data` (nothing held for the period: no figures, never zeros). Pure.

use std::collections::BTreeMap;

use chrono::{Days, NaiveDate};
use csc_core::{Period, dates::sub_months};
use serde::{Deserialize, Serialize};

use super::sections::SectionStatus;

/// Data held up to this many days before a period's end counts as reaching it: records do not
/// arrive every day (weekends, bank holidays, a small LA's quiet week), and an import says the
/// day its return ends.
pub const GRACE_DAYS: u64 = 14;

/// One record kind a service holds for the LA.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct KindHeld {
    pub kind: String,
    pub records: i64,
    pub earliest: Option<NaiveDate>,
    pub latest: Option<NaiveDate>,
}

/// One file imported into a service, as `csc import` recorded it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ImportHeld {
    pub source: String,
    pub file: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub return_year: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub covers_from: Option<NaiveDate>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub covers_to: Option<NaiveDate>,
    pub imported_at: String,
    pub accepted: i64,
    pub refused: i64,
}

/// What a service holds for the LA (its `GetCoverage`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Held {
    pub kinds: Vec<KindHeld>,
    pub imports: Vec<ImportHeld>,
}

impl Held {
    pub fn records(&self, kind: &str) -> i64 {
        self.kinds
            .iter()
            .filter(|k| k.kind == kind)
            .map(|k| k.records)
            .sum()
    }

    /// The first and last day of data held for `kinds` (every kind when empty), or `None` when
    /// none of them holds a record. The first day is the earliest import's first day where imports
    /// say it (a return holds episodes that began years before its own year), else the earliest
    /// event; the last is the latest of any import's last day and any event.
    pub fn window(&self, kinds: &[&str]) -> Option<(NaiveDate, NaiveDate)> {
        let chosen: Vec<&KindHeld> = self
            .kinds
            .iter()
            .filter(|k| k.records > 0 && (kinds.is_empty() || kinds.contains(&k.kind.as_str())))
            .collect();
        if chosen.is_empty() {
            return None;
        }
        let imported_from = self.imports.iter().filter_map(|i| i.covers_from).min();
        let from = imported_from.or_else(|| chosen.iter().filter_map(|k| k.earliest).min())?;
        let to = chosen
            .iter()
            .filter_map(|k| k.latest)
            .chain(self.imports.iter().filter_map(|i| i.covers_to))
            .max()?;
        Some((from, to.max(from)))
    }

    /// The earliest event held of one kind, where any is held.
    pub fn earliest(&self, kind: &str) -> Option<NaiveDate> {
        self.kinds
            .iter()
            .filter(|k| k.kind == kind && k.records > 0)
            .filter_map(|k| k.earliest)
            .min()
    }

    /// Whether the data held for `kinds` covers all of `p` (within [`GRACE_DAYS`] of its end).
    pub fn covers(&self, kinds: &[&str], p: &Period) -> bool {
        self.window(kinds)
            .is_some_and(|(from, to)| from <= p.start() && reaches(to, p.end()))
    }

    /// Records refused by the imports held, and the files that refused them.
    pub fn refused(&self) -> (i64, Vec<&str>) {
        let files: Vec<&str> = self
            .imports
            .iter()
            .filter(|i| i.refused > 0)
            .map(|i| i.file.as_str())
            .collect();
        (self.imports.iter().map(|i| i.refused).sum(), files)
    }
}

fn reaches(to: NaiveDate, end: NaiveDate) -> bool {
    to.checked_add_days(Days::new(GRACE_DAYS))
        .is_none_or(|t| t >= end)
}

/// The record kinds a section's figures rest on, as the services name them in `GetCoverage`.
pub fn section_kinds(section: &str) -> &'static [&'static str] {
    match section {
        "frontdoor" => &["referrals", "assessments"],
        "exploitation" => &["assessments"],
        "child_protection" => &["cp_plans"],
        "children_in_need" => &["cin_plans"],
        "missing" => &["missing_episodes"],
        "looked_after" => &["episodes"],
        "costs" => &["commitments"],
        _ => &[],
    }
}

/// A kind a measure needs beyond its section's own, where it has one: with none held the measure
/// is not shown (its zero would be a confident one).
pub fn measure_kind(measure: &str) -> Option<&'static str> {
    Some(match measure {
        "frontdoor.contacts" | "frontdoor.nfa_children_previous_contact" => "contacts",
        "frontdoor.early_help_assessments" => "early_help_assessments",
        "frontdoor.strategy_discussions" | "frontdoor.strategy_attendance" => {
            "strategy_discussions"
        }
        "frontdoor.icpc_within_15wd" => "icpcs",
        "frontdoor.s47_started" => "section47_enquiries",
        "protection.feedback" => "feedback",
        "placements.social_workers_per_child" | "placements.social_workers_3plus_12m" => {
            "social_worker_allocations"
        }
        _ => return None,
    })
}

/// Figures the suite adds to MEASURES.md's from a source a council may not keep (early help
/// assessments, from Ofsted Annex A List 2): their absence leaves the section whole.
pub fn supplementary(measure: &str) -> bool {
    matches!(measure, "frontdoor.early_help_assessments")
}

/// The first day a measure reads for period `p`, where it looks back before the period
/// (MEASURES.md): 12 months before the start for re-referrals and the NFA children's history,
/// 2 years before the start for repeat CP plans, W12 for the 12-month placement measures, 2 years
/// before the end for social workers per child and 2½ years for long-term stability.
pub fn lookback(measure: &str, p: &Period) -> Option<(NaiveDate, &'static str)> {
    Some(match measure {
        "frontdoor.rereferrals_12m"
        | "frontdoor.nfa_children_previous_referral"
        | "frontdoor.nfa_children_previous_contact" => {
            (sub_months(p.start(), 12), "12 months before the period")
        }
        "protection.cp_repeat_within_2y" | "protection.cp_repeat_over_2y" => {
            (sub_months(p.start(), 24), "2 years before the period")
        }
        "placements.three_plus_placements_12m"
        | "placements.moves_by_end_reason"
        | "placements.social_workers_3plus_12m"
        | "placements.duration_at_exit" => (p.w12_start(), "the 12 months to the period end"),
        "placements.social_workers_per_child" => {
            (sub_months(p.end(), 24), "2 years before the period end")
        }
        "placements.long_term_stability" => {
            (sub_months(p.end(), 30), "2½ years before the period end")
        }
        _ => return None,
    })
}

/// What a section may show for a period, and why not all of it.
#[derive(Debug, Clone, PartialEq)]
pub struct Assessed {
    pub standing: SectionStatus,
    pub notes: Vec<String>,
    /// Measures not shown: a kind they need is not held.
    pub hidden: Vec<String>,
}

/// Whether `held` (the section's service's data) covers `section` for period `p`; `measures`
/// are the section's measure ids with their labels.
pub fn assess(
    section: &str,
    service_label: &str,
    measures: &[(&str, &str)],
    held: &Held,
    la: &str,
    p: &Period,
) -> Assessed {
    let kinds = section_kinds(section);
    let mut out = Assessed {
        standing: SectionStatus::Ok,
        notes: Vec::new(),
        hidden: Vec::new(),
    };
    let names = kinds.join(" or ").replace('_', " ");
    let Some((from, to)) = held.window(kinds) else {
        out.standing = SectionStatus::NoData;
        out.notes.push(format!(
            "The {service_label} service holds no {names} for LA {la}: no figures are shown."
        ));
        return out;
    };
    if to < p.start() || from > p.end() {
        out.standing = SectionStatus::NoData;
        out.notes.push(format!(
            "The {service_label} service holds {names} from {from} to {to}, none in the period \
             {} to {}: no figures are shown.",
            p.start(),
            p.end()
        ));
        return out;
    }
    if !reaches(to, p.end()) {
        out.standing = SectionStatus::Partial;
        out.notes.push(format!(
            "Data held to {to} only; the period ends {}: the figures miss what happened after \
             {to}.",
            p.end()
        ));
    }
    if from > p.start() {
        out.standing = SectionStatus::Partial;
        out.notes.push(format!(
            "Data held from {from} only; the period starts {}: the figures miss what happened \
             before {from}.",
            p.start()
        ));
    }
    let mut short: Vec<String> = Vec::new();
    for (id, label) in measures {
        if let Some(kind) = measure_kind(id)
            && held.records(kind) == 0
        {
            // A figure beyond MEASURES.md from an optional source (early help, from Annex A):
            // not shown, and said, but the section's own figures are whole without it.
            if !supplementary(id) {
                out.standing = SectionStatus::Partial;
            }
            out.hidden.push((*id).to_owned());
            out.notes.push(format!(
                "No {} are held for LA {la}: {label} is not shown.",
                kind.replace('_', " ")
            ));
            continue;
        }
        if let Some((need, why)) = lookback(id, p)
            && from > need
        {
            short.push(format!("{label} needs {why}, from {need}"));
        }
    }
    if !short.is_empty() {
        out.standing = SectionStatus::Partial;
        out.notes.push(format!(
            "Data held from {from}: {}. Those figures count only what is held.",
            short.join("; ")
        ));
    }
    let (refused, files) = held.refused();
    if refused > 0 {
        out.notes.push(format!(
            "Imports into the {service_label} service refused {refused} record(s) ({}); the \
             figures do not include them (`csc coverage --la {la}` lists the imports).",
            files.join(", ")
        ));
    }
    out
}

/// What a section rests on, as the report's JSON carries it (`data`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DataView {
    pub service: String,
    /// First and last day of the data held for the section's records (absent: none held).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<NaiveDate>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<NaiveDate>,
    /// Records held for the LA, by kind (every kind of the service).
    pub records: BTreeMap<String, i64>,
    /// The imports the service holds for the LA, newest first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub imports: Vec<ImportHeld>,
    /// Records those imports refused.
    pub refused: i64,
}

impl DataView {
    pub fn of(section: &str, service: &str, held: &Held) -> Self {
        let window = held.window(section_kinds(section));
        DataView {
            service: service.to_owned(),
            from: window.map(|w| w.0),
            to: window.map(|w| w.1),
            records: held
                .kinds
                .iter()
                .map(|k| (k.kind.clone(), k.records))
                .collect(),
            imports: held.imports.clone(),
            refused: held.refused().0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn kind(kind: &str, records: i64, from: &str, to: &str) -> KindHeld {
        KindHeld {
            kind: kind.into(),
            records,
            earliest: Some(d(from)),
            latest: Some(d(to)),
        }
    }

    fn q(id: &str) -> Period {
        id.parse().unwrap()
    }

    const FD: &[(&str, &str)] = &[
        ("frontdoor.referrals", "Referrals"),
        ("frontdoor.rereferrals_12m", "Re-referrals"),
        ("frontdoor.contacts", "Contacts"),
    ];

    #[test]
    fn nothing_held_is_no_data() {
        let a = assess(
            "frontdoor",
            "front door",
            FD,
            &Held::default(),
            "885",
            &q("2026-27-Q2"),
        );
        assert_eq!(a.standing, SectionStatus::NoData);
        assert!(a.notes[0].contains("holds no referrals or assessments for LA 885"));
        // A kind held with no records is nothing held.
        let held = Held {
            kinds: vec![kind("referrals", 0, "2020-01-01", "2020-01-01")],
            imports: vec![],
        };
        assert!(held.window(&["referrals"]).is_none());
    }

    #[test]
    fn a_period_after_or_before_the_data_is_no_data() {
        let held = Held {
            kinds: vec![
                kind("referrals", 900, "2022-04-01", "2026-03-30"),
                kind("contacts", 9, "2022-04-01", "2026-03-30"),
            ],
            imports: vec![],
        };
        for p in ["2030-31-Q1", "2026-27-Q2", "2021-22-Q4"] {
            let a = assess("frontdoor", "front door", FD, &held, "885", &q(p));
            assert_eq!(a.standing, SectionStatus::NoData, "{p}");
        }
        // The last quarter of the data, ending within the grace: ok.
        let a = assess(
            "frontdoor",
            "front door",
            FD,
            &held,
            "885",
            &q("2025-26-Q4"),
        );
        assert_eq!(a.standing, SectionStatus::Ok, "{:?}", a.notes);
    }

    #[test]
    fn data_stopping_inside_the_period_is_partial_with_its_date() {
        let held = Held {
            kinds: vec![
                kind("referrals", 900, "2022-04-01", "2026-05-10"),
                kind("contacts", 9, "2022-04-01", "2026-05-10"),
            ],
            imports: vec![],
        };
        let a = assess(
            "frontdoor",
            "front door",
            FD,
            &held,
            "885",
            &q("2026-27-Q1"),
        );
        assert_eq!(a.standing, SectionStatus::Partial);
        assert!(a.notes[0].starts_with("Data held to 2026-05-10 only; the period ends 2026-06-30"));
        // 14 days short of the end still reaches it; 15 does not.
        let at = |to: &str| {
            let held = Held {
                kinds: vec![
                    kind("referrals", 1, "2020-01-01", to),
                    kind("contacts", 1, "2020-01-01", to),
                ],
                imports: vec![],
            };
            assess(
                "frontdoor",
                "front door",
                FD,
                &held,
                "885",
                &q("2026-27-Q1"),
            )
            .standing
        };
        assert_eq!(at("2026-06-16"), SectionStatus::Ok);
        assert_eq!(at("2026-06-15"), SectionStatus::Partial);
    }

    #[test]
    fn a_look_back_before_the_data_is_partial_naming_the_measure() {
        // Returns from 2025-26 only: 2025-26 Q2's re-referrals look back to 2024-07-01.
        let held = Held {
            kinds: vec![
                kind("referrals", 900, "2019-05-01", "2026-03-30"),
                kind("contacts", 9, "2025-04-01", "2026-03-30"),
            ],
            imports: vec![ImportHeld {
                source: "cin_census".into(),
                file: "CIN_2026.xml".into(),
                return_year: Some(2026),
                covers_from: Some(d("2025-04-01")),
                covers_to: Some(d("2026-03-31")),
                ..Default::default()
            }],
        };
        let a = assess(
            "frontdoor",
            "front door",
            FD,
            &held,
            "885",
            &q("2025-26-Q2"),
        );
        assert_eq!(a.standing, SectionStatus::Partial);
        assert_eq!(a.notes.len(), 1, "{:?}", a.notes);
        assert!(
            a.notes[0].contains("Re-referrals needs 12 months before the period, from 2024-07-01"),
            "{:?}",
            a.notes
        );
        // The import's first day, not the earliest event (a referral of 2019 in the 2026 return).
        assert_eq!(held.window(&["referrals"]).unwrap().0, d("2025-04-01"));
        // A year later the look-back is inside the data.
        let mut later = held.clone();
        later.imports[0].covers_to = Some(d("2027-03-31"));
        let a = assess(
            "frontdoor",
            "front door",
            FD,
            &later,
            "885",
            &q("2026-27-Q2"),
        );
        assert_eq!(a.standing, SectionStatus::Ok, "{:?}", a.notes);
    }

    #[test]
    fn a_measure_whose_records_are_not_held_is_hidden_not_zero() {
        let held = Held {
            kinds: vec![
                kind("referrals", 900, "2019-04-01", "2026-09-29"),
                kind("contacts", 0, "2019-04-01", "2019-04-01"),
            ],
            imports: vec![],
        };
        let a = assess(
            "frontdoor",
            "front door",
            FD,
            &held,
            "885",
            &q("2026-27-Q2"),
        );
        assert_eq!(a.standing, SectionStatus::Partial);
        assert_eq!(a.hidden, ["frontdoor.contacts"]);
        assert!(a.notes[0].contains("No contacts are held for LA 885: Contacts is not shown"));
    }

    #[test]
    fn early_help_not_held_is_hidden_and_said_but_leaves_the_section_whole() {
        let held = Held {
            kinds: vec![
                kind("referrals", 900, "2019-04-01", "2026-09-29"),
                kind("contacts", 500, "2019-04-01", "2026-09-29"),
            ],
            imports: vec![],
        };
        let measures: &[(&str, &str)] = &[
            ("frontdoor.referrals", "Referrals"),
            (
                "frontdoor.early_help_assessments",
                "Early help assessments started",
            ),
        ];
        let a = assess(
            "frontdoor",
            "front door",
            measures,
            &held,
            "885",
            &q("2026-27-Q2"),
        );
        assert_eq!(a.standing, SectionStatus::Ok, "{:?}", a.notes);
        assert_eq!(a.hidden, ["frontdoor.early_help_assessments"]);
        assert!(a.notes[0].contains("No early help assessments are held for LA 885"));
    }

    #[test]
    fn refusals_are_counted_in_a_note_without_changing_the_standing() {
        let held = Held {
            kinds: vec![
                kind("referrals", 900, "2019-04-01", "2026-09-29"),
                kind("contacts", 5, "2019-04-01", "2026-09-29"),
            ],
            imports: vec![
                ImportHeld {
                    file: "a.xml".into(),
                    refused: 3,
                    ..Default::default()
                },
                ImportHeld {
                    file: "b.xml".into(),
                    refused: 0,
                    ..Default::default()
                },
                ImportHeld {
                    file: "c.csv".into(),
                    refused: 40,
                    ..Default::default()
                },
            ],
        };
        let a = assess(
            "frontdoor",
            "front door",
            FD,
            &held,
            "885",
            &q("2026-27-Q2"),
        );
        assert_eq!(a.standing, SectionStatus::Ok);
        assert!(
            a.notes[0].contains("refused 43 record(s) (a.xml, c.csv)"),
            "{:?}",
            a.notes
        );
    }
}
