//! How each record kind maps to its table: key and value columns, and model ↔ domain conversion.

use chrono::NaiveTime;
use csc_core::LaCode;
use csc_core::{format_time, parse_time};
use csc_runtime::Error;
use csc_runtime::store::{
    KeepStored, StoredRecord, after_child_date, child_date_filter, stored_la as la,
};
use sea_orm::{ActiveValue::Set, ColumnTrait, Condition};

use super::entities::*;
use crate::domain::{
    AbsenceKind, AbsentFrom, ChildDateKey, CinPlan, CpPlan, Feedback, FeedbackKey,
    InterviewOutcome, MissingEpisode, Rating, Respondent,
};

fn stored<T>(what: &str, v: &str, parse: impl Fn(&str) -> Option<T>) -> Result<T, Error> {
    parse(v).ok_or_else(|| Error::Internal(format!("stored {what} {v:?}")))
}

fn opt_stored<T>(
    what: &str,
    v: Option<String>,
    parse: impl Fn(&str) -> Option<T>,
) -> Result<Option<T>, Error> {
    v.map(|v| stored(what, &v, parse)).transpose()
}

fn time_text(t: Option<NaiveTime>) -> Option<String> {
    t.map(format_time)
}

pub(crate) fn join_dates(dates: &[chrono::NaiveDate]) -> String {
    dates
        .iter()
        .map(|d| d.to_string())
        .collect::<Vec<_>>()
        .join(",")
}

pub(crate) fn split_dates(s: &str) -> Result<Vec<chrono::NaiveDate>, Error> {
    s.split(',')
        .filter(|x| !x.is_empty())
        .map(|x| stored("review date", x, csc_core::parse_date))
        .collect()
}

impl StoredRecord for CinPlan {
    type Entity = cin_plan::Entity;
    type Model = cin_plan::Model;
    type Active = cin_plan::ActiveModel;
    type Key = ChildDateKey;

    fn la_column() -> cin_plan::Column {
        cin_plan::Column::LaCode
    }
    fn child_column() -> cin_plan::Column {
        cin_plan::Column::ChildId
    }
    fn key(&self) -> ChildDateKey {
        CinPlan::key(self)
    }
    fn key_filter(k: &ChildDateKey) -> Condition {
        use cin_plan::Column::*;
        child_date_filter(LaCode, ChildId, StartDate, k)
    }
    fn after(k: &ChildDateKey) -> Condition {
        after_child_date(cin_plan::Column::ChildId, cin_plan::Column::StartDate, k)
    }
    fn to_active(&self) -> cin_plan::ActiveModel {
        cin_plan::ActiveModel {
            la_code: Set(self.la_code.to_string()),
            child_id: Set(self.child_id.clone()),
            start_date: Set(self.start_date),
            end_date: Set(self.end_date),
        }
    }
    fn from_model(m: cin_plan::Model) -> Result<Self, Error> {
        Ok(CinPlan {
            la_code: la(&m.la_code)?,
            child_id: m.child_id,
            start_date: m.start_date,
            end_date: m.end_date,
        })
    }
}

impl StoredRecord for CpPlan {
    type Entity = cp_plan::Entity;
    type Model = cp_plan::Model;
    type Active = cp_plan::ActiveModel;
    type Key = ChildDateKey;

    fn la_column() -> cp_plan::Column {
        cp_plan::Column::LaCode
    }
    fn child_column() -> cp_plan::Column {
        cp_plan::Column::ChildId
    }
    fn key(&self) -> ChildDateKey {
        CpPlan::key(self)
    }
    fn key_filter(k: &ChildDateKey) -> Condition {
        use cp_plan::Column::*;
        child_date_filter(LaCode, ChildId, StartDate, k)
    }
    fn after(k: &ChildDateKey) -> Condition {
        after_child_date(cp_plan::Column::ChildId, cp_plan::Column::StartDate, k)
    }
    fn to_active(&self) -> cp_plan::ActiveModel {
        cp_plan::ActiveModel {
            la_code: Set(self.la_code.to_string()),
            child_id: Set(self.child_id.clone()),
            start_date: Set(self.start_date),
            end_date: Set(self.end_date),
            initial_category: Set(self.initial_category.clone()),
            latest_category: Set(self.latest_category.clone()),
            previous_plans: Set(self.previous_plans),
            review_dates: Set(join_dates(&self.review_dates)),
        }
    }
    fn from_model(m: cp_plan::Model) -> Result<Self, Error> {
        Ok(CpPlan {
            la_code: la(&m.la_code)?,
            child_id: m.child_id,
            start_date: m.start_date,
            end_date: m.end_date,
            initial_category: m.initial_category,
            latest_category: m.latest_category,
            previous_plans: m.previous_plans,
            review_dates: split_dates(&m.review_dates)?,
        })
    }
}

impl StoredRecord for MissingEpisode {
    type Entity = missing_episode::Entity;
    type Model = missing_episode::Model;
    type Active = missing_episode::ActiveModel;
    type Key = ChildDateKey;

    fn la_column() -> missing_episode::Column {
        missing_episode::Column::LaCode
    }
    fn child_column() -> missing_episode::Column {
        missing_episode::Column::ChildId
    }
    fn key(&self) -> ChildDateKey {
        MissingEpisode::key(self)
    }
    fn key_filter(k: &ChildDateKey) -> Condition {
        use missing_episode::Column::*;
        child_date_filter(LaCode, ChildId, StartDate, k)
    }
    fn after(k: &ChildDateKey) -> Condition {
        after_child_date(
            missing_episode::Column::ChildId,
            missing_episode::Column::StartDate,
            k,
        )
    }
    fn to_active(&self) -> missing_episode::ActiveModel {
        missing_episode::ActiveModel {
            la_code: Set(self.la_code.to_string()),
            child_id: Set(self.child_id.clone()),
            start_date: Set(self.start_date),
            kind: Set(self.kind.code().to_owned()),
            absent_from: Set(self.absent_from.key().to_owned()),
            start_time: Set(time_text(self.start_time)),
            end_date: Set(self.end_date),
            end_time: Set(time_text(self.end_time)),
            interview_offered_date: Set(self.interview_offered_date),
            interview_outcome: Set(self.interview_outcome.map(|o| o.key().to_owned())),
            interview_completed_date: Set(self.interview_completed_date),
            interview_completed_time: Set(time_text(self.interview_completed_time)),
        }
    }
    fn from_model(m: missing_episode::Model) -> Result<Self, Error> {
        Ok(MissingEpisode {
            la_code: la(&m.la_code)?,
            child_id: m.child_id,
            start_date: m.start_date,
            kind: stored("absence kind", &m.kind, AbsenceKind::from_code)?,
            absent_from: stored("absent from", &m.absent_from, AbsentFrom::from_key)?,
            start_time: opt_stored("time", m.start_time, parse_time)?,
            end_date: m.end_date,
            end_time: opt_stored("time", m.end_time, parse_time)?,
            interview_offered_date: m.interview_offered_date,
            interview_outcome: opt_stored(
                "interview outcome",
                m.interview_outcome,
                InterviewOutcome::from_key,
            )?,
            interview_completed_date: m.interview_completed_date,
            interview_completed_time: opt_stored("time", m.interview_completed_time, parse_time)?,
        })
    }
}

impl StoredRecord for Feedback {
    type Entity = feedback::Entity;
    type Model = feedback::Model;
    type Active = feedback::ActiveModel;
    type Key = FeedbackKey;

    fn la_column() -> feedback::Column {
        feedback::Column::LaCode
    }
    fn child_column() -> feedback::Column {
        feedback::Column::ChildId
    }
    fn key(&self) -> FeedbackKey {
        Feedback::key(self)
    }
    fn key_filter(k: &FeedbackKey) -> Condition {
        Condition::all()
            .add(feedback::Column::LaCode.eq(k.la_code.as_str()))
            .add(feedback::Column::ResponseId.eq(k.response_id.as_str()))
    }
    fn after(k: &FeedbackKey) -> Condition {
        Condition::all().add(feedback::Column::ResponseId.gt(k.response_id.as_str()))
    }
    fn to_active(&self) -> feedback::ActiveModel {
        feedback::ActiveModel {
            la_code: Set(self.la_code.to_string()),
            response_id: Set(self.response_id.clone()),
            question: Set(self.question.clone()),
            respondent: Set(self.respondent.key().to_owned()),
            response_date: Set(self.response_date),
            rating: Set(self.rating.key().to_owned()),
            child_id: Set(self.child_id.clone()),
        }
    }
    fn from_model(m: feedback::Model) -> Result<Self, Error> {
        Ok(Feedback {
            la_code: la(&m.la_code)?,
            response_id: m.response_id,
            question: m.question,
            respondent: stored("respondent", &m.respondent, Respondent::from_key)?,
            response_date: m.response_date,
            rating: stored("rating", &m.rating, Rating::from_key)?,
            child_id: m.child_id,
        })
    }
}

/// A CIN plan keeps its stored end date where the batch has none.
impl KeepStored for CinPlan {
    fn la_child(&self) -> (LaCode, &str) {
        (self.la_code, &self.child_id)
    }
    fn keep_stored(&mut self, stored: &Self) {
        self.end_date = self.end_date.or(stored.end_date);
    }
}

/// A CP plan keeps its stored end date, initial and latest categories and number of previous plans where the
/// batch has none (its reviews are merged unless `replace_reviews`).
impl KeepStored for CpPlan {
    fn la_child(&self) -> (LaCode, &str) {
        (self.la_code, &self.child_id)
    }
    fn keep_stored(&mut self, stored: &Self) {
        self.end_date = self.end_date.or(stored.end_date);
        if self.initial_category.is_empty() {
            self.initial_category = stored.initial_category.clone();
        }
        if self.latest_category.is_none() {
            self.latest_category = stored.latest_category.clone();
        }
        self.previous_plans = self.previous_plans.or(stored.previous_plans);
    }
}
