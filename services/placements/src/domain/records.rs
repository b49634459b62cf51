//! Looked-after children's records as the domain sees them: validated, typed, keyed by their
//! natural keys (the SSDA903 tables Header, Episodes, SWEpisodes and Reviews).

use chrono::NaiveDate;
use csc_core::LaCode;

pub use csc_core::ChildDateKey;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Sex {
    Male,
    Female,
    Unknown,
}

impl Sex {
    pub fn key(self) -> &'static str {
        match self {
            Sex::Male => "M",
            Sex::Female => "F",
            Sex::Unknown => "U",
        }
    }
    pub fn from_key(s: &str) -> Option<Self> {
        match s {
            "M" => Some(Sex::Male),
            "F" => Some(Sex::Female),
            "U" => Some(Sex::Unknown),
            _ => None,
        }
    }
}

/// A looked-after child (903 Header).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Child {
    pub la_code: LaCode,
    pub child_id: String,
    pub sex: Sex,
    pub date_of_birth: NaiveDate,
    pub ethnicity: Option<String>,
    pub upn: Option<String>,
}

#[derive(
    Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
pub struct ChildKey {
    pub la_code: LaCode,
    pub child_id: String,
}

impl Child {
    pub fn key(&self) -> ChildKey {
        ChildKey {
            la_code: self.la_code,
            child_id: self.child_id.clone(),
        }
    }
}

/// An episode of care (903 Episodes), keyed by LA, child and DECOM.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Episode {
    pub la_code: LaCode,
    pub child_id: String,
    pub decom: NaiveDate,
    pub rne: String,
    pub legal_status: String,
    pub cin: Option<String>,
    pub place: String,
    pub place_provider: Option<String>,
    pub dec: Option<NaiveDate>,
    pub rec: Option<String>,
    pub reason_place_change: Option<String>,
    pub home_post: Option<String>,
    pub pl_post: Option<String>,
    pub urn: Option<String>,
}

impl Episode {
    pub fn key(&self) -> ChildDateKey {
        ChildDateKey {
            la_code: self.la_code,
            child_id: self.child_id.clone(),
            date: self.decom,
        }
    }

    /// Open at the end of `d`: started on or before it and not ceased by then.
    pub fn open_at(&self, d: NaiveDate) -> bool {
        self.decom <= d && self.dec.is_none_or(|e| e > d)
    }

    pub fn is_short_break(&self) -> bool {
        csc_core::codes::is_short_break(&self.legal_status)
    }
}

/// A social worker's allocation to a child (903 SWEpisodes), keyed by LA, child, worker and start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SwAllocation {
    pub la_code: LaCode,
    pub child_id: String,
    pub sw_id: String,
    pub start_date: NaiveDate,
    pub end_date: Option<NaiveDate>,
    pub reason: Option<String>,
}

#[derive(
    Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
pub struct SwAllocationKey {
    pub la_code: LaCode,
    pub child_id: String,
    pub sw_id: String,
    pub start_date: NaiveDate,
}

impl SwAllocation {
    pub fn key(&self) -> SwAllocationKey {
        SwAllocationKey {
            la_code: self.la_code,
            child_id: self.child_id.clone(),
            sw_id: self.sw_id.clone(),
            start_date: self.start_date,
        }
    }

    /// Allocated at some time in `[a, b]`: started on or before `b`, and not ended or ended on or
    /// after `a`.
    pub fn allocated_in(&self, a: NaiveDate, b: NaiveDate) -> bool {
        self.start_date <= b && self.end_date.is_none_or(|e| e >= a)
    }
}

/// A looked-after child's review (903 Reviews), keyed by LA, child and date.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaReview {
    pub la_code: LaCode,
    pub child_id: String,
    pub review_date: NaiveDate,
    pub review_code: Option<String>,
}

impl ClaReview {
    pub fn key(&self) -> ChildDateKey {
        ChildDateKey {
            la_code: self.la_code,
            child_id: self.child_id.clone(),
            date: self.review_date,
        }
    }
}

/// A child looked after as Ofsted Annex A List 8 summarises them (kept beside the 903 episodes).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CareSummary {
    pub la_code: LaCode,
    pub child_id: String,
    pub care_start_date: NaiveDate,
    pub legal_status: Option<String>,
    pub legal_status_start_date: Option<NaiveDate>,
    pub last_visit_date: Option<NaiveDate>,
    pub ceased_date: Option<NaiveDate>,
    pub reason_ceased: Option<String>,
}

impl CareSummary {
    pub fn key(&self) -> ChildDateKey {
        ChildDateKey {
            la_code: self.la_code,
            child_id: self.child_id.clone(),
            date: self.care_start_date,
        }
    }
}
