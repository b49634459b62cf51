//! Front-door records, keyed by their natural keys.

use chrono::NaiveDate;
pub use csc_core::ChildDateKey;
use csc_core::{FieldCheck, LaCode, codes};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Contact {
    pub la_code: LaCode,
    pub contact_id: String,
    pub child_id: String,
    pub contact_date: NaiveDate,
    pub source: String,
    pub became_referral: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Referral {
    pub la_code: LaCode,
    pub child_id: String,
    pub referral_date: NaiveDate,
    pub source: String,
    pub nfa: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AssessmentOutcome {
    Unspecified,
    Nfa,
    FurtherAction,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Assessment {
    pub la_code: LaCode,
    pub child_id: String,
    pub start_date: NaiveDate,
    pub referral_date: NaiveDate,
    pub authorisation_date: Option<NaiveDate>,
    pub factors: Vec<String>,
    pub outcome: AssessmentOutcome,
    pub closure_reason: Option<String>,
}

/// A CIN census ReferralSource code, required.
pub fn referral_source(c: &mut FieldCheck<'_>, field: &str, v: &str) -> Option<String> {
    let t = v.trim();
    if t.is_empty() {
        c.fail(field, "required");
        None
    } else if codes::referral_source_group(t).is_none() {
        c.fail(
            field,
            format!(
                "unknown referral source {t:?}: expected a CIN census ReferralSource code (1A-1D, 2A, 2B, 3A-3F, 4, 5A-5D, 6, 7, 8, 9, 10)"
            ),
        );
        None
    } else {
        Some(t.to_owned())
    }
}

impl Assessment {
    /// Child found not in need: the DfE closure reasons RC8 or RC9, or an explicit NFA outcome.
    pub fn is_nfa(&self) -> bool {
        self.outcome == AssessmentOutcome::Nfa
            || self
                .closure_reason
                .as_deref()
                .is_some_and(codes::closure_means_nfa)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Section47Enquiry {
    pub la_code: LaCode,
    pub child_id: String,
    pub start_date: NaiveDate,
    pub referral_date: Option<NaiveDate>,
    pub icpc_target_date: Option<NaiveDate>,
    pub icpc_date: Option<NaiveDate>,
    pub icpc_not_required: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Agency {
    Police,
    Health,
    Education,
    Other,
}

impl Agency {
    pub const ALL: [Agency; 4] = [
        Agency::Police,
        Agency::Health,
        Agency::Education,
        Agency::Other,
    ];

    pub fn key(self) -> &'static str {
        match self {
            Agency::Police => "police",
            Agency::Health => "health",
            Agency::Education => "education",
            Agency::Other => "other",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Agency::Police => "Police",
            Agency::Health => "Health",
            Agency::Education => "Education",
            Agency::Other => "Other",
        }
    }

    pub fn from_key(s: &str) -> Option<Agency> {
        Agency::ALL
            .into_iter()
            .find(|a| a.key().eq_ignore_ascii_case(s.trim()))
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StrategyDiscussion {
    pub la_code: LaCode,
    pub child_id: String,
    pub discussion_date: NaiveDate,
    /// Sorted, without repeats.
    pub invited: Vec<Agency>,
    /// Sorted, without repeats.
    pub attended: Vec<Agency>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Icpc {
    pub la_code: LaCode,
    pub child_id: String,
    pub icpc_date: NaiveDate,
    pub s47_start_date: Option<NaiveDate>,
}

/// An early help assessment (Ofsted Annex A List 2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EarlyHelpAssessment {
    pub la_code: LaCode,
    pub child_id: String,
    pub start_date: NaiveDate,
    pub completion_date: Option<NaiveDate>,
    pub organisation: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn referral_sources_are_the_census_codes() {
        let mut c = FieldCheck::new("records[3]");
        assert!(referral_source(&mut c, "source", "3Z").is_none());
        assert!(referral_source(&mut c, "source", "").is_none());
        assert_eq!(
            referral_source(&mut c, "source", " 5D "),
            Some("5D".to_owned())
        );
        let v: Vec<_> = c
            .violations
            .0
            .iter()
            .map(|v| (v.field.as_str(), v.description.as_str()))
            .collect();
        assert_eq!(v[0].0, "records[3].source");
        assert!(v[0].1.contains("\"3Z\""));
        assert_eq!(v[1].1, "required");
    }

    #[test]
    fn nfa_is_rc8_rc9_or_explicit() {
        let d = NaiveDate::from_ymd_opt(2018, 4, 1).unwrap();
        let mut a = Assessment {
            la_code: LaCode::parse("885").unwrap(),
            child_id: "C1".into(),
            start_date: d,
            referral_date: d,
            authorisation_date: Some(d),
            factors: vec![],
            outcome: AssessmentOutcome::Unspecified,
            closure_reason: Some("RC7".into()),
        };
        assert!(!a.is_nfa());
        a.closure_reason = Some("RC9".into());
        assert!(a.is_nfa());
        a.closure_reason = None;
        a.outcome = AssessmentOutcome::Nfa;
        assert!(a.is_nfa());
    }
}

/// A contact's natural key: the LA's own contact id.
#[derive(
    Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
pub struct ContactKey {
    pub la_code: LaCode,
    pub contact_id: String,
}

impl Contact {
    pub fn key(&self) -> ContactKey {
        ContactKey {
            la_code: self.la_code,
            contact_id: self.contact_id.clone(),
        }
    }
}

macro_rules! child_date_key {
    ($t:ty, $date:ident) => {
        impl $t {
            pub fn key(&self) -> ChildDateKey {
                ChildDateKey {
                    la_code: self.la_code,
                    child_id: self.child_id.clone(),
                    date: self.$date,
                }
            }
        }
    };
}
child_date_key!(Referral, referral_date);
child_date_key!(Assessment, start_date);
child_date_key!(Section47Enquiry, start_date);
child_date_key!(StrategyDiscussion, discussion_date);
child_date_key!(Icpc, icpc_date);
child_date_key!(EarlyHelpAssessment, start_date);
