//! Protection records as the domain sees them: validated, typed, keyed by their natural keys.

use chrono::{NaiveDate, NaiveTime, TimeDelta};
use csc_core::LaCode;

pub use csc_core::ChildDateKey;

/// A child in need plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CinPlan {
    pub la_code: LaCode,
    pub child_id: String,
    pub start_date: NaiveDate,
    pub end_date: Option<NaiveDate>,
}

/// A child protection plan with its review conferences.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CpPlan {
    pub la_code: LaCode,
    pub child_id: String,
    pub start_date: NaiveDate,
    pub end_date: Option<NaiveDate>,
    pub initial_category: String,
    /// `None` when not recorded: unchanged from the initial category.
    pub latest_category: Option<String>,
    /// NumberOfPreviousCPP as recorded; `None` when not recorded.
    pub previous_plans: Option<i32>,
    /// Sorted, without repeats.
    pub review_dates: Vec<NaiveDate>,
}

impl CpPlan {
    /// The category the plan is counted under: the latest, else the initial.
    pub fn category(&self) -> &str {
        self.latest_category
            .as_deref()
            .unwrap_or(&self.initial_category)
    }

    pub fn first_review(&self) -> Option<NaiveDate> {
        self.review_dates.first().copied()
    }

    /// Open at the end of `d`: started on or before it and not ended by then (MEASURES.md stocks).
    pub fn open_at(&self, d: NaiveDate) -> bool {
        open_at(self.start_date, self.end_date, d)
    }

    /// Adds review dates (kept sorted, without repeats).
    pub fn add_reviews(&mut self, more: impl IntoIterator<Item = NaiveDate>) {
        self.review_dates.extend(more);
        self.review_dates.sort_unstable();
        self.review_dates.dedup();
    }
}

impl CinPlan {
    pub fn open_at(&self, d: NaiveDate) -> bool {
        open_at(self.start_date, self.end_date, d)
    }
}

/// Started on or before `d`, and not ended or ended after `d`.
pub fn open_at(start: NaiveDate, end: Option<NaiveDate>, d: NaiveDate) -> bool {
    start <= d && end.is_none_or(|e| e > d)
}

/// 903 MISSING: the kind of absence.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum AbsenceKind {
    /// M: missing, whereabouts unknown.
    Missing,
    /// A: away from placement without authorisation.
    Away,
}

impl AbsenceKind {
    pub fn code(self) -> &'static str {
        match self {
            AbsenceKind::Missing => "M",
            AbsenceKind::Away => "A",
        }
    }
    pub fn from_code(s: &str) -> Option<Self> {
        match s {
            "M" => Some(AbsenceKind::Missing),
            "A" => Some(AbsenceKind::Away),
            _ => None,
        }
    }
}

/// Where the child was absent from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum AbsentFrom {
    Home,
    Care,
}

impl AbsentFrom {
    pub const ALL: [AbsentFrom; 2] = [AbsentFrom::Home, AbsentFrom::Care];

    /// The row key of MEASURES.md (`home`, `care`), also the stored value.
    pub fn key(self) -> &'static str {
        match self {
            AbsentFrom::Home => "home",
            AbsentFrom::Care => "care",
        }
    }
    pub fn label(self) -> &'static str {
        match self {
            AbsentFrom::Home => "From home",
            AbsentFrom::Care => "From care",
        }
    }
    pub fn from_key(s: &str) -> Option<Self> {
        AbsentFrom::ALL.into_iter().find(|a| a.key() == s)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InterviewOutcome {
    Accepted,
    Declined,
}

impl InterviewOutcome {
    pub fn key(self) -> &'static str {
        match self {
            InterviewOutcome::Accepted => "accepted",
            InterviewOutcome::Declined => "declined",
        }
    }
    pub fn from_key(s: &str) -> Option<Self> {
        match s {
            "accepted" => Some(InterviewOutcome::Accepted),
            "declined" => Some(InterviewOutcome::Declined),
            _ => None,
        }
    }
}

/// A missing or away episode and the return interview that followed it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MissingEpisode {
    pub la_code: LaCode,
    pub child_id: String,
    pub start_date: NaiveDate,
    pub kind: AbsenceKind,
    pub absent_from: AbsentFrom,
    pub start_time: Option<NaiveTime>,
    pub end_date: Option<NaiveDate>,
    pub end_time: Option<NaiveTime>,
    pub interview_offered_date: Option<NaiveDate>,
    pub interview_outcome: Option<InterviewOutcome>,
    pub interview_completed_date: Option<NaiveDate>,
    pub interview_completed_time: Option<NaiveTime>,
}

/// The statutory expectation: a return interview within 72 hours of the child's return.
pub const RETURN_INTERVIEW_HOURS: i64 = 72;

impl MissingEpisode {
    /// Return interview completed within 72 hours of the episode's end. With both times known the
    /// hours are exact; otherwise whole days count (72 hours = 3 days), see docs/measures.md.
    pub fn interview_within_72h(&self) -> bool {
        let (Some(end), Some(done)) = (self.end_date, self.interview_completed_date) else {
            return false;
        };
        match (self.end_time, self.interview_completed_time) {
            (Some(et), Some(ct)) => {
                done.and_time(ct) - end.and_time(et) <= TimeDelta::hours(RETURN_INTERVIEW_HOURS)
            }
            _ => (done - end).num_days() <= RETURN_INTERVIEW_HOURS / 24,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Respondent {
    Parent,
    Child,
    Professional,
}

impl Respondent {
    pub fn key(self) -> &'static str {
        match self {
            Respondent::Parent => "parent",
            Respondent::Child => "child",
            Respondent::Professional => "professional",
        }
    }
    pub fn from_key(s: &str) -> Option<Self> {
        [
            Respondent::Parent,
            Respondent::Child,
            Respondent::Professional,
        ]
        .into_iter()
        .find(|r| r.key() == s)
    }
    pub fn label(self) -> &'static str {
        match self {
            Respondent::Parent => "Parent",
            Respondent::Child => "Child",
            Respondent::Professional => "Professional",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rating {
    Positive,
    Neutral,
    Negative,
}

impl Rating {
    pub fn key(self) -> &'static str {
        match self {
            Rating::Positive => "positive",
            Rating::Neutral => "neutral",
            Rating::Negative => "negative",
        }
    }
    pub fn from_key(s: &str) -> Option<Self> {
        [Rating::Positive, Rating::Neutral, Rating::Negative]
            .into_iter()
            .find(|r| r.key() == s)
    }
}

/// One answer to one survey question.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Feedback {
    pub la_code: LaCode,
    pub response_id: String,
    pub question: String,
    pub respondent: Respondent,
    pub response_date: NaiveDate,
    pub rating: Rating,
    pub child_id: Option<String>,
}

#[derive(
    Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
pub struct FeedbackKey {
    pub la_code: LaCode,
    pub response_id: String,
}

impl Feedback {
    pub fn key(&self) -> FeedbackKey {
        FeedbackKey {
            la_code: self.la_code,
            response_id: self.response_id.clone(),
        }
    }
}

/// A survey question the feedback measure always reports.
#[derive(Debug, Clone, Copy)]
pub struct Question {
    pub key: &'static str,
    pub text: &'static str,
    pub respondent: Respondent,
}

/// The questions of the model report's monthly service-user feedback, in its order. An LA may
/// send answers to questions of its own (any lower-case key); they are reported after these.
pub const QUESTIONS: &[Question] = &[
    Question {
        key: "parent_concern_explained",
        text: "The social worker explained the concern before conference",
        respondent: Respondent::Parent,
    },
    Question {
        key: "parent_plan_positive_difference",
        text: "The plan has made a positive difference",
        respondent: Respondent::Parent,
    },
    Question {
        key: "professional_child_voice_understood",
        text: "The child's voice is understood in the assessment",
        respondent: Respondent::Professional,
    },
    Question {
        key: "professional_conference_child_focused",
        text: "The conference was child focused",
        respondent: Respondent::Professional,
    },
    Question {
        key: "professional_plan_reflects_needs",
        text: "The plan reflects the child's needs",
        respondent: Respondent::Professional,
    },
];

pub fn question(key: &str) -> Option<&'static Question> {
    QUESTIONS.iter().find(|q| q.key == key)
}

macro_rules! child_date_key {
    ($t:ty) => {
        impl $t {
            pub fn key(&self) -> ChildDateKey {
                ChildDateKey {
                    la_code: self.la_code,
                    child_id: self.child_id.clone(),
                    date: self.start_date,
                }
            }
        }
    };
}
child_date_key!(CinPlan);
child_date_key!(CpPlan);
child_date_key!(MissingEpisode);

#[cfg(test)]
mod tests {
    use super::*;
    use csc_core::testing::d;

    fn t(h: u32, m: u32) -> Option<NaiveTime> {
        NaiveTime::from_hms_opt(h, m, 0)
    }

    fn episode() -> MissingEpisode {
        MissingEpisode {
            la_code: LaCode::parse("885").unwrap(),
            child_id: "C1".into(),
            start_date: d(2018, 4, 1),
            kind: AbsenceKind::Missing,
            absent_from: AbsentFrom::Care,
            start_time: None,
            end_date: Some(d(2018, 4, 2)),
            end_time: t(10, 0),
            interview_offered_date: Some(d(2018, 4, 2)),
            interview_outcome: Some(InterviewOutcome::Accepted),
            interview_completed_date: Some(d(2018, 4, 5)),
            interview_completed_time: t(10, 0),
        }
    }

    #[test]
    fn return_interview_at_72_hours_is_on_time_and_at_73_is_not() {
        let mut e = episode();
        assert!(e.interview_within_72h(), "exactly 72 hours");
        e.interview_completed_time = t(11, 0);
        assert!(!e.interview_within_72h(), "73 hours");
        e.interview_completed_time = t(10, 1);
        assert!(!e.interview_within_72h(), "72 hours and a minute");
    }

    #[test]
    fn without_times_three_days_is_72_hours() {
        let mut e = episode();
        e.interview_completed_time = None;
        assert!(e.interview_within_72h(), "3 days after");
        e.interview_completed_date = Some(d(2018, 4, 6));
        assert!(!e.interview_within_72h(), "4 days after");
        e.interview_completed_date = None;
        assert!(!e.interview_within_72h(), "not completed");
    }

    #[test]
    fn plan_categories_and_reviews() {
        let mut p = CpPlan {
            la_code: LaCode::parse("885").unwrap(),
            child_id: "C1".into(),
            start_date: d(2018, 4, 1),
            end_date: Some(d(2018, 6, 30)),
            initial_category: "NEG".into(),
            latest_category: None,
            previous_plans: None,
            review_dates: vec![],
        };
        assert_eq!(p.category(), "NEG");
        p.latest_category = Some("EMO".into());
        assert_eq!(p.category(), "EMO");
        p.add_reviews([d(2018, 6, 1), d(2018, 5, 1), d(2018, 6, 1)]);
        assert_eq!(p.review_dates, [d(2018, 5, 1), d(2018, 6, 1)]);
        assert_eq!(p.first_review(), Some(d(2018, 5, 1)));
        assert!(p.open_at(d(2018, 6, 29)));
        assert!(
            !p.open_at(d(2018, 6, 30)),
            "ended on the day: not open at its end"
        );
        assert!(!p.open_at(d(2018, 3, 31)));
    }
}
