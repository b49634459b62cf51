//! Front-door records, keyed by their natural keys.

use chrono::NaiveDate;
use csc_core::{LaCode, Violations, codes};

/// Longest identifier accepted (child ids, contact ids): longer is almost certainly not an id.
pub const MAX_ID_LEN: usize = 64;

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

/// Field-by-field validation of one record, collecting every problem under a path prefix such as
/// `records[3]`. The `api` layer feeds it raw strings and gets typed values or violations.
pub struct FieldCheck<'a> {
    prefix: &'a str,
    pub violations: Violations,
}

/// Dates outside this range are typing errors, not history.
const EARLIEST: (i32, u32, u32) = (1900, 1, 1);
const LATEST: (i32, u32, u32) = (2099, 12, 31);

impl<'a> FieldCheck<'a> {
    pub fn new(prefix: &'a str) -> Self {
        Self {
            prefix,
            violations: Violations::new(),
        }
    }

    fn path(&self, field: &str) -> String {
        if self.prefix.is_empty() {
            field.to_owned()
        } else {
            format!("{}.{field}", self.prefix)
        }
    }

    pub fn fail(&mut self, field: &str, why: impl Into<String>) {
        let p = self.path(field);
        self.violations.add(p, why);
    }

    pub fn la_code(&mut self, field: &str, v: &str) -> Option<LaCode> {
        LaCode::parse(v).map_err(|e| self.fail(field, e)).ok()
    }

    pub fn id(&mut self, field: &str, v: &str) -> Option<String> {
        let t = v.trim();
        if t.is_empty() {
            self.fail(field, "required");
            None
        } else if t.len() > MAX_ID_LEN {
            self.fail(field, format!("longer than {MAX_ID_LEN} characters"));
            None
        } else if t.chars().any(char::is_control) {
            self.fail(field, "contains control characters");
            None
        } else {
            Some(t.to_owned())
        }
    }

    /// An ISO 8601 date (`2018-04-01`), required.
    pub fn date(&mut self, field: &str, v: &str) -> Option<NaiveDate> {
        if v.trim().is_empty() {
            self.fail(field, "required");
            return None;
        }
        self.optional_date(field, v).flatten()
    }

    /// An ISO 8601 date or empty. `Some(None)` is "empty"; `None` is "invalid" (already reported).
    pub fn optional_date(&mut self, field: &str, v: &str) -> Option<Option<NaiveDate>> {
        let t = v.trim();
        if t.is_empty() {
            return Some(None);
        }
        let lo = NaiveDate::from_ymd_opt(EARLIEST.0, EARLIEST.1, EARLIEST.2).expect("valid");
        let hi = NaiveDate::from_ymd_opt(LATEST.0, LATEST.1, LATEST.2).expect("valid");
        match NaiveDate::parse_from_str(t, "%Y-%m-%d") {
            Ok(d) if t.len() == 10 && (lo..=hi).contains(&d) => Some(Some(d)),
            Ok(d) if t.len() == 10 => {
                self.fail(field, format!("date {d} is outside {lo}..{hi}"));
                None
            }
            _ => {
                self.fail(field, format!("malformed date {t:?}: expected YYYY-MM-DD"));
                None
            }
        }
    }

    pub fn referral_source(&mut self, field: &str, v: &str) -> Option<String> {
        let t = v.trim();
        if t.is_empty() {
            self.fail(field, "required");
            None
        } else if codes::referral_source_group(t).is_none() {
            self.fail(field, format!("unknown referral source {t:?}: expected a CIN census ReferralSource code (1A-1D, 2A, 2B, 3A-3F, 4, 5A-5D, 6, 7, 8, 9, 10)"));
            None
        } else {
            Some(t.to_owned())
        }
    }

    /// `later` must not be before `earlier` (both already parsed).
    pub fn not_before(
        &mut self,
        field: &str,
        later: Option<NaiveDate>,
        earlier: Option<NaiveDate>,
        what: &str,
    ) {
        if let (Some(l), Some(e)) = (later, earlier)
            && l < e
        {
            self.fail(field, format!("{l} is before the {what} {e}"));
        }
    }

    pub fn done<T>(self, value: Option<T>) -> Result<T, Violations> {
        match value {
            Some(v) if self.violations.is_empty() => Ok(v),
            _ => Err(self.violations),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_check_names_each_problem() {
        let mut c = FieldCheck::new("records[3]");
        assert!(c.la_code("la_code", "88").is_none());
        assert!(c.id("child_id", "  ").is_none());
        assert!(c.date("referral_date", "2018-02-30").is_none());
        assert!(c.date("referral_date", "01/04/2018").is_none());
        assert!(c.referral_source("source", "3Z").is_none());
        assert_eq!(c.optional_date("x", ""), Some(None));
        let fields: Vec<_> = c.violations.0.iter().map(|v| v.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "records[3].la_code",
                "records[3].child_id",
                "records[3].referral_date",
                "records[3].referral_date",
                "records[3].source"
            ]
        );
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

/// The natural key of every front-door record but contacts: LA, child and a date (referral date,
/// assessment start, S47 start, discussion date, ICPC date).
#[derive(
    Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
pub struct ChildDateKey {
    pub la_code: LaCode,
    pub child_id: String,
    pub date: NaiveDate,
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
