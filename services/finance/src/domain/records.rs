//! Finance records and their natural keys.

use chrono::NaiveDate;
use csc_core::LaCode;
use serde::{Deserialize, Serialize};

/// Report groups of categories.
pub const GROUPS: &[&str] = &["residential", "fostering", "supported", "other"];

/// A weekly cost above this (£100,000) is a typing error, not a placement.
pub const MAX_WEEKLY_PENCE: i64 = 10_000_000;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Category {
    pub la_code: LaCode,
    pub key: String,
    pub name: String,
    pub group: String,
    pub parent_key: Option<String>,
    /// The key is one of the built-in catalogue's (the LA may have renamed it).
    pub built_in: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct CategoryKey {
    pub la_code: LaCode,
    pub key: String,
}

impl Category {
    pub fn key(&self) -> CategoryKey {
        CategoryKey {
            la_code: self.la_code,
            key: self.key.clone(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CategoryMapping {
    pub la_code: LaCode,
    pub place: String,
    /// Empty: any provider.
    pub place_provider: String,
    pub category_key: String,
    pub built_in: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct CategoryMappingKey {
    pub la_code: LaCode,
    pub place: String,
    pub place_provider: String,
}

impl CategoryMapping {
    pub fn key(&self) -> CategoryMappingKey {
        CategoryMappingKey {
            la_code: self.la_code,
            place: self.place.clone(),
            place_provider: self.place_provider.clone(),
        }
    }
}

/// The weekly cost of a placement from `start_date` up to, not including, `end_date`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Commitment {
    pub la_code: LaCode,
    pub child_id: String,
    pub placement_start: NaiveDate,
    pub start_date: NaiveDate,
    pub end_date: Option<NaiveDate>,
    pub weekly_cost_pence: i64,
    /// Empty until resolved from `place` and `place_provider` through the catalogue; never
    /// empty once stored.
    pub category_key: String,
    pub place: Option<String>,
    pub place_provider: Option<String>,
    pub provider_name: Option<String>,
    pub provider_urn: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct CommitmentKey {
    pub la_code: LaCode,
    pub child_id: String,
    pub placement_start: NaiveDate,
    pub start_date: NaiveDate,
}

impl Commitment {
    pub fn key(&self) -> CommitmentKey {
        CommitmentKey {
            la_code: self.la_code,
            child_id: self.child_id.clone(),
            placement_start: self.placement_start,
            start_date: self.start_date,
        }
    }

    /// Active at the end of day `d`: started on or before it, and not ended by then (MEASURES.md's
    /// stock rule: "not ended, or ended after end").
    pub fn active_at_end_of(&self, d: NaiveDate) -> bool {
        self.start_date <= d && self.end_date.is_none_or(|e| e > d)
    }

    /// Days of `[from, to]` (both inclusive) on which the commitment runs: from its start up to,
    /// not including, its end date.
    pub fn days_within(&self, from: NaiveDate, to: NaiveDate) -> i64 {
        let first = self.start_date.max(from);
        let after_last = match self.end_date {
            Some(e) => e.min(to.succ_opt().expect("date in range")),
            None => to.succ_opt().expect("date in range"),
        };
        (after_last - first).num_days().max(0)
    }

    /// Whether two commitments' spans share a day.
    pub fn overlaps(&self, other: &Commitment) -> bool {
        let ends_after = |c: &Commitment, d: NaiveDate| c.end_date.is_none_or(|e| e > d);
        ends_after(self, other.start_date) && ends_after(other, self.start_date)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use csc_core::testing::d;

    fn c(start: NaiveDate, end: Option<NaiveDate>) -> Commitment {
        Commitment {
            la_code: LaCode::parse("885").unwrap(),
            child_id: "C".into(),
            placement_start: start,
            start_date: start,
            end_date: end,
            weekly_cost_pence: 70_000,
            category_key: "ifa".into(),
            place: None,
            place_provider: None,
            provider_name: None,
            provider_urn: None,
        }
    }

    #[test]
    fn a_commitment_runs_up_to_not_including_its_end_date() {
        let q1 = (d(2018, 4, 1), d(2018, 6, 30));
        // Starting on the first day: all 91 days of the quarter.
        assert_eq!(c(d(2018, 4, 1), None).days_within(q1.0, q1.1), 91);
        // Ending on the last day: that day is not run, and it is not active at the end.
        let ends_last = c(d(2018, 4, 1), Some(d(2018, 6, 30)));
        assert_eq!(ends_last.days_within(q1.0, q1.1), 90);
        assert!(!ends_last.active_at_end_of(q1.1));
        // Ending on the first day: no day in the quarter.
        assert_eq!(
            c(d(2018, 3, 1), Some(d(2018, 4, 1))).days_within(q1.0, q1.1),
            0
        );
        // Starting on the last day: one day, and active at the end.
        let starts_last = c(d(2018, 6, 30), None);
        assert_eq!(starts_last.days_within(q1.0, q1.1), 1);
        assert!(starts_last.active_at_end_of(q1.1));
        // Ending the day after the quarter: active at its end.
        assert!(c(d(2018, 4, 1), Some(d(2018, 7, 1))).active_at_end_of(q1.1));
    }

    #[test]
    fn the_overlap_rule_names_batch_records_and_lets_a_batch_replace_what_is_stored() {
        use csc_core::Violations;
        let stored = vec![c(d(2018, 4, 1), None)];
        // A cost change: the stored open commitment is restated to end, and the new one starts.
        let restated = c(d(2018, 4, 1), Some(d(2018, 5, 1)));
        let mut next = c(d(2018, 4, 1), None);
        next.start_date = d(2018, 5, 1);
        let mut v = Violations::new();
        rules::overlaps(&[(0, restated), (1, next.clone())], &stored, &mut v);
        assert!(v.is_empty(), "{v}");
        // The new one alone overlaps the stored open commitment.
        rules::overlaps(&[(7, next)], &stored, &mut v);
        assert_eq!(v.0.len(), 1);
        assert_eq!(v.0[0].field, "records[7].start_date");
        // Another placement of the same child may overlap.
        let mut other = c(d(2018, 4, 15), None);
        other.placement_start = d(2018, 4, 15);
        let mut v = Violations::new();
        rules::overlaps(&[(0, other)], &stored, &mut v);
        assert!(v.is_empty());
    }

    #[test]
    fn categories_resolve_through_the_mapping_or_are_named_unknown() {
        use crate::domain::catalogue::{effective_categories, effective_mappings};
        use csc_core::Violations;
        let la = LaCode::parse("885").unwrap();
        let (cats, maps) = (effective_categories(la, &[]), effective_mappings(la, &[]));
        let mut by_code = c(d(2018, 4, 1), None);
        by_code.category_key = String::new();
        by_code.place = Some("U4".into());
        by_code.place_provider = Some("PR1".into());
        let mut unknown = c(d(2018, 4, 1), None);
        unknown.category_key = "castle".into();
        let mut batch = vec![(0, by_code), (1, unknown)];
        let mut v = Violations::new();
        rules::resolve_categories(&mut batch, &cats, &maps, &mut v);
        assert_eq!(batch[0].1.category_key, "in_house_fostering");
        assert_eq!(v.0.len(), 1);
        assert_eq!(v.0[0].field, "records[1].category_key");
    }

    #[test]
    fn consecutive_commitments_do_not_overlap_but_shared_days_do() {
        let a = c(d(2018, 4, 1), Some(d(2018, 5, 1)));
        assert!(!a.overlaps(&c(d(2018, 5, 1), None)));
        assert!(a.overlaps(&c(d(2018, 4, 30), None)));
        assert!(c(d(2018, 4, 1), None).overlaps(&c(d(2019, 1, 1), None)));
        assert!(!c(d(2018, 6, 1), None).overlaps(&a));
    }
}

/// The rules a batch of commitments must meet against the LA's catalogue and what is stored:
/// each names its category (directly, or through the 903 mapping), and no two commitments of one
/// placement share a day. `batch` carries each record's position in the request.
pub mod rules {
    use csc_core::Violations;

    use super::{Category, CategoryMapping, Commitment};
    use crate::domain::catalogue::resolve_category;

    /// Fills in categories mapped from PLACE and PLACE_PROVIDER, and reports unknown ones.
    pub fn resolve_categories(
        batch: &mut [(usize, Commitment)],
        categories: &[Category],
        mappings: &[CategoryMapping],
        v: &mut Violations,
    ) {
        for (i, c) in batch.iter_mut() {
            if c.category_key.is_empty() {
                let place = c.place.as_deref().unwrap_or_default();
                let provider = c.place_provider.as_deref().unwrap_or_default();
                match resolve_category(mappings, place, provider) {
                    Some(k) => c.category_key = k.to_owned(),
                    None => v.add(
                        format!("records[{i}].place"),
                        format!(
                            "no category maps PLACE {place:?} with PLACE_PROVIDER {provider:?} in LA {}'s catalogue: give category_key, or add a mapping",
                            c.la_code
                        ),
                    ),
                }
            } else if !categories.iter().any(|k| k.key == c.category_key) {
                v.add(
                    format!("records[{i}].category_key"),
                    format!(
                        "unknown category {:?} in LA {}'s catalogue",
                        c.category_key, c.la_code
                    ),
                );
            }
        }
    }

    /// Two commitments of one placement (LA, child, placement start) that share a day: each
    /// batch record involved is reported, naming the commitment it overlaps. The batch replaces
    /// stored commitments with the same key.
    pub fn overlaps(batch: &[(usize, Commitment)], stored: &[Commitment], v: &mut Violations) {
        use std::collections::{HashMap, HashSet};
        let in_batch: HashSet<_> = batch.iter().map(|(_, c)| c.key()).collect();
        let mut placements: HashMap<(&str, chrono::NaiveDate, csc_core::LaCode), Vec<&Commitment>> =
            HashMap::new();
        let current = stored
            .iter()
            .filter(|o| !in_batch.contains(&o.key()))
            .chain(batch.iter().map(|(_, c)| c));
        for c in current {
            placements
                .entry((c.child_id.as_str(), c.placement_start, c.la_code))
                .or_default()
                .push(c);
        }
        for (i, c) in batch {
            let group = &placements[&(c.child_id.as_str(), c.placement_start, c.la_code)];
            if let Some(o) = group
                .iter()
                .find(|o| o.start_date != c.start_date && c.overlaps(o))
            {
                let end = o.end_date.map_or("open".to_owned(), |e| e.to_string());
                v.add(
                    format!("records[{i}].start_date"),
                    format!(
                        "overlaps the commitment for the same placement (child {}, placement start {}) running {} to {end}",
                        c.child_id, c.placement_start, o.start_date
                    ),
                );
            }
        }
    }
}
