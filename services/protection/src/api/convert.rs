//! Proto ↔ domain for every protection record kind ([`WireRecord`]): validation happens here,
//! once, each problem named by its field within the record.

use csc_core::{ChildDateKey, FieldCheck, Violations, codes, format_optional_date, format_time};
use csc_proto::protection as pb;
use csc_runtime::Error;
use csc_runtime::rpc::{self, WireRecord, child_date_key};

use crate::domain::{
    self, AbsenceKind, AbsentFrom, CinPlan, CpPlan, Feedback, FeedbackKey, InterviewOutcome,
    MissingEpisode, Rating, Respondent,
};

/// Most review conferences one plan can list (a review every three months for 50 years).
pub const MAX_REVIEWS: usize = 200;
/// Longest question key.
const MAX_QUESTION_KEY: usize = 64;

// ---- shared by the conversions ---------------------------------------------------------------

fn category(
    c: &mut FieldCheck<'_>,
    field: &str,
    v: &str,
    required: bool,
) -> Option<Option<String>> {
    let v = v.trim().to_ascii_uppercase();
    let known = |x: &str| codes::CATEGORIES_OF_ABUSE.iter().any(|(k, _)| *k == x);
    let what = "category of abuse (expected NEG, PHY, SAB, EMO or MUL)";
    if required {
        c.required_code(field, &v, known, what).map(Some)
    } else {
        c.code(field, &v, known, what)
    }
}

fn respondent_from(v: i32) -> Option<Respondent> {
    match pb::Respondent::try_from(v) {
        Ok(pb::Respondent::Parent) => Some(Respondent::Parent),
        Ok(pb::Respondent::Child) => Some(Respondent::Child),
        Ok(pb::Respondent::Professional) => Some(Respondent::Professional),
        _ => None,
    }
}

pub(super) fn respondent_to(r: Respondent) -> i32 {
    (match r {
        Respondent::Parent => pb::Respondent::Parent,
        Respondent::Child => pb::Respondent::Child,
        Respondent::Professional => pb::Respondent::Professional,
    }) as i32
}

fn plan_key(k: &pb::PlanKey) -> Result<ChildDateKey, Error> {
    child_date_key(&k.la_code, &k.child_id, "start_date", &k.start_date)
}

fn time_str(t: Option<chrono::NaiveTime>) -> String {
    t.map(format_time).unwrap_or_default()
}

// ---- the record kinds ------------------------------------------------------------------------

impl WireRecord for CinPlan {
    type Proto = pb::CinPlan;
    type ProtoKey = pb::PlanKey;
    type Batch = pb::BatchUpsertCinPlansRequest;
    type List = pb::ListCinPlansResponse;
    const BATCH_UPSERT: &str = "BatchUpsertCinPlans";

    fn from_proto(p: &pb::CinPlan) -> Result<Self, Violations> {
        let mut c = FieldCheck::new("");
        let la_code = c.la_code("la_code", &p.la_code);
        let child_id = c.id("child_id", &p.child_id);
        let start_date = c.date("start_date", &p.start_date);
        let end_date = c.optional_date("end_date", &p.end_date);
        c.not_before(
            "end_date",
            end_date.flatten(),
            start_date,
            "plan's start date",
        );
        let r = (|| {
            Some(CinPlan {
                la_code: la_code?,
                child_id: child_id?,
                start_date: start_date?,
                end_date: end_date?,
            })
        })();
        c.done(r)
    }

    fn to_proto(&self) -> pb::CinPlan {
        pb::CinPlan {
            la_code: self.la_code.to_string(),
            child_id: self.child_id.clone(),
            start_date: self.start_date.to_string(),
            end_date: format_optional_date(self.end_date),
        }
    }

    fn key_from_proto(k: &pb::PlanKey) -> Result<Self::Key, Error> {
        plan_key(k)
    }
}

impl WireRecord for CpPlan {
    type Proto = pb::CpPlan;
    type ProtoKey = pb::PlanKey;
    type Batch = pb::BatchUpsertCpPlansRequest;
    type List = pb::ListCpPlansResponse;
    const BATCH_UPSERT: &str = "BatchUpsertCpPlans";

    fn from_proto(p: &pb::CpPlan) -> Result<Self, Violations> {
        let mut c = FieldCheck::new("");
        let la_code = c.la_code("la_code", &p.la_code);
        let child_id = c.id("child_id", &p.child_id);
        let start_date = c.date("start_date", &p.start_date);
        let end_date = c.optional_date("end_date", &p.end_date);
        c.not_before(
            "end_date",
            end_date.flatten(),
            start_date,
            "plan's start date",
        );
        // Required unless the batch keeps stored values (`merge_cp_plans`): the DfE CSC API
        // payload carries no category of abuse.
        let initial_category = category(&mut c, "initial_category", &p.initial_category, false);
        let latest_category = category(&mut c, "latest_category", &p.latest_category, false);
        if let Some(n) = p.previous_plans
            && n < 0
        {
            c.fail("previous_plans", format!("{n} is negative"));
        }
        let mut review_dates = Vec::with_capacity(p.review_dates.len());
        if p.review_dates.len() > MAX_REVIEWS {
            c.fail(
                "review_dates",
                format!(
                    "{} review dates; a plan lists at most {MAX_REVIEWS}",
                    p.review_dates.len()
                ),
            );
        } else {
            for (j, r) in p.review_dates.iter().enumerate() {
                let field = format!("review_dates[{j}]");
                let Some(d) = c.date(&field, r) else { continue };
                c.not_before(&field, Some(d), start_date, "plan's start date");
                if let Some(Some(e)) = end_date
                    && d > e
                {
                    c.fail(&field, format!("{d} is after the plan ended ({e})"));
                }
                review_dates.push(d);
            }
        }
        let mut r = (|| {
            Some(CpPlan {
                la_code: la_code?,
                child_id: child_id?,
                start_date: start_date?,
                end_date: end_date?,
                initial_category: initial_category?.unwrap_or_default(),
                latest_category: latest_category?,
                previous_plans: p.previous_plans,
                review_dates: Vec::new(),
            })
        })();
        if let Some(plan) = &mut r {
            plan.add_reviews(review_dates);
        }
        c.done(r)
    }

    fn to_proto(&self) -> pb::CpPlan {
        pb::CpPlan {
            la_code: self.la_code.to_string(),
            child_id: self.child_id.clone(),
            start_date: self.start_date.to_string(),
            end_date: format_optional_date(self.end_date),
            initial_category: self.initial_category.clone(),
            latest_category: self.latest_category.clone().unwrap_or_default(),
            previous_plans: self.previous_plans,
            review_dates: self.review_dates.iter().map(|d| d.to_string()).collect(),
        }
    }

    fn key_from_proto(k: &pb::PlanKey) -> Result<Self::Key, Error> {
        plan_key(k)
    }
}

impl WireRecord for MissingEpisode {
    type Proto = pb::MissingEpisode;
    type ProtoKey = pb::MissingEpisodeKey;
    type Batch = pb::BatchUpsertMissingEpisodesRequest;
    type List = pb::ListMissingEpisodesResponse;
    const BATCH_UPSERT: &str = "BatchUpsertMissingEpisodes";

    fn from_proto(p: &pb::MissingEpisode) -> Result<Self, Violations> {
        let mut c = FieldCheck::new("");
        let la_code = c.la_code("la_code", &p.la_code);
        let child_id = c.id("child_id", &p.child_id);
        let start_date = c.date("start_date", &p.start_date);
        let kind = match pb::AbsenceKind::try_from(p.kind) {
            Ok(pb::AbsenceKind::Missing) => Some(AbsenceKind::Missing),
            Ok(pb::AbsenceKind::Away) => Some(AbsenceKind::Away),
            _ => {
                c.fail("kind", "required: MISSING (903 code M) or AWAY (A)");
                None
            }
        };
        let absent_from = match pb::AbsentFrom::try_from(p.absent_from) {
            Ok(pb::AbsentFrom::Home) => Some(AbsentFrom::Home),
            Ok(pb::AbsentFrom::Care) => Some(AbsentFrom::Care),
            _ => {
                c.fail("absent_from", "required: HOME or CARE");
                None
            }
        };
        let start_time = c.optional_time("start_time", &p.start_time);
        let end_date = c.optional_date("end_date", &p.end_date);
        let end_time = c.optional_time("end_time", &p.end_time);
        c.not_before(
            "end_date",
            end_date.flatten(),
            start_date,
            "episode's start date",
        );
        if let (Some(Some(_)), Some(None)) = (end_time, end_date) {
            c.fail("end_time", "given without an end date");
        }
        if let (Some(s), Some(Some(e)), Some(Some(st)), Some(Some(et))) =
            (start_date, end_date, start_time, end_time)
            && s == e
            && et < st
        {
            c.fail(
                "end_time",
                format!(
                    "{} is before the episode started ({})",
                    format_time(et),
                    format_time(st)
                ),
            );
        }

        let offered = c.optional_date("interview_offered_date", &p.interview_offered_date);
        c.not_before(
            "interview_offered_date",
            offered.flatten(),
            start_date,
            "episode's start date",
        );
        let outcome = match pb::InterviewOutcome::try_from(p.interview_outcome) {
            Ok(pb::InterviewOutcome::Unspecified) => Some(None),
            Ok(pb::InterviewOutcome::Accepted) => Some(Some(InterviewOutcome::Accepted)),
            Ok(pb::InterviewOutcome::Declined) => Some(Some(InterviewOutcome::Declined)),
            Err(_) => {
                c.fail(
                    "interview_outcome",
                    format!("unknown outcome {}", p.interview_outcome),
                );
                None
            }
        };
        if let (Some(Some(_)), Some(None)) = (outcome, offered) {
            c.fail(
                "interview_outcome",
                "an interview accepted or declined was offered: give interview_offered_date",
            );
        }
        let completed = c.optional_date("interview_completed_date", &p.interview_completed_date);
        let completed_time =
            c.optional_time("interview_completed_time", &p.interview_completed_time);
        if let Some(Some(done)) = completed {
            match end_date {
                Some(None) => c.fail(
                    "interview_completed_date",
                    "the episode has no end date: a return interview follows the child's return",
                ),
                Some(Some(e)) if done < e => c.fail(
                    "interview_completed_date",
                    format!("{done} is before the child returned ({e})"),
                ),
                Some(Some(e)) if done == e => {
                    if let (Some(Some(ct)), Some(Some(et))) = (completed_time, end_time)
                        && ct < et
                    {
                        c.fail(
                            "interview_completed_time",
                            format!(
                                "{} is before the child returned ({})",
                                format_time(ct),
                                format_time(et)
                            ),
                        );
                    }
                }
                _ => {}
            }
            c.not_before(
                "interview_completed_date",
                Some(done),
                offered.flatten(),
                "interview's offer date",
            );
            if outcome != Some(Some(InterviewOutcome::Accepted)) && outcome.is_some() {
                c.fail(
                    "interview_outcome",
                    "a completed interview was accepted: give ACCEPTED",
                );
            }
        }
        if let (Some(Some(_)), Some(None)) = (completed_time, completed) {
            c.fail(
                "interview_completed_time",
                "given without a completion date",
            );
        }
        let r = (|| {
            Some(MissingEpisode {
                la_code: la_code?,
                child_id: child_id?,
                start_date: start_date?,
                kind: kind?,
                absent_from: absent_from?,
                start_time: start_time?,
                end_date: end_date?,
                end_time: end_time?,
                interview_offered_date: offered?,
                interview_outcome: outcome?,
                interview_completed_date: completed?,
                interview_completed_time: completed_time?,
            })
        })();
        c.done(r)
    }

    fn to_proto(&self) -> pb::MissingEpisode {
        pb::MissingEpisode {
            la_code: self.la_code.to_string(),
            child_id: self.child_id.clone(),
            start_date: self.start_date.to_string(),
            kind: (match self.kind {
                AbsenceKind::Missing => pb::AbsenceKind::Missing,
                AbsenceKind::Away => pb::AbsenceKind::Away,
            }) as i32,
            absent_from: (match self.absent_from {
                AbsentFrom::Home => pb::AbsentFrom::Home,
                AbsentFrom::Care => pb::AbsentFrom::Care,
            }) as i32,
            start_time: time_str(self.start_time),
            end_date: format_optional_date(self.end_date),
            end_time: time_str(self.end_time),
            interview_offered_date: format_optional_date(self.interview_offered_date),
            interview_outcome: (match self.interview_outcome {
                None => pb::InterviewOutcome::Unspecified,
                Some(InterviewOutcome::Accepted) => pb::InterviewOutcome::Accepted,
                Some(InterviewOutcome::Declined) => pb::InterviewOutcome::Declined,
            }) as i32,
            interview_completed_date: format_optional_date(self.interview_completed_date),
            interview_completed_time: time_str(self.interview_completed_time),
        }
    }

    fn key_from_proto(k: &pb::MissingEpisodeKey) -> Result<Self::Key, Error> {
        child_date_key(&k.la_code, &k.child_id, "start_date", &k.start_date)
    }
}

impl WireRecord for Feedback {
    type Proto = pb::FeedbackResponse;
    type ProtoKey = pb::FeedbackKey;
    type Batch = pb::BatchUpsertFeedbackRequest;
    type List = pb::ListFeedbackResponse;
    const BATCH_UPSERT: &str = "BatchUpsertFeedback";

    fn from_proto(p: &pb::FeedbackResponse) -> Result<Self, Violations> {
        let mut c = FieldCheck::new("");
        let la_code = c.la_code("la_code", &p.la_code);
        let response_id = c.id("response_id", &p.response_id);
        let q = p.question.trim();
        let question = if q.is_empty() {
            c.fail("question", "required");
            None
        } else if q.len() > MAX_QUESTION_KEY
            || !q
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
        {
            c.fail(
                "question",
                format!("{q:?} is not a question key (lower-case letters, digits and _, e.g. \"parent_concern_explained\")"),
            );
            None
        } else {
            Some(q.to_owned())
        };
        let respondent = respondent_from(p.respondent);
        if respondent.is_none() {
            c.fail("respondent", "required: PARENT, CHILD or PROFESSIONAL");
        }
        if let (Some(q), Some(r)) = (question.as_deref().and_then(domain::question), respondent)
            && q.respondent != r
        {
            c.fail(
                "respondent",
                format!(
                    "question {:?} is asked of a {}, not a {}",
                    q.key,
                    q.respondent.key(),
                    r.key()
                ),
            );
        }
        let response_date = c.date("response_date", &p.response_date);
        let rating = match pb::Rating::try_from(p.rating) {
            Ok(pb::Rating::Positive) => Some(Rating::Positive),
            Ok(pb::Rating::Neutral) => Some(Rating::Neutral),
            Ok(pb::Rating::Negative) => Some(Rating::Negative),
            _ => {
                c.fail("rating", "required: POSITIVE, NEUTRAL or NEGATIVE");
                None
            }
        };
        let child_id = c.optional_id("child_id", &p.child_id, false);
        let r = (|| {
            Some(Feedback {
                la_code: la_code?,
                response_id: response_id?,
                question: question?,
                respondent: respondent?,
                response_date: response_date?,
                rating: rating?,
                child_id: child_id?,
            })
        })();
        c.done(r)
    }

    fn to_proto(&self) -> pb::FeedbackResponse {
        pb::FeedbackResponse {
            la_code: self.la_code.to_string(),
            response_id: self.response_id.clone(),
            question: self.question.clone(),
            respondent: respondent_to(self.respondent),
            response_date: self.response_date.to_string(),
            rating: (match self.rating {
                Rating::Positive => pb::Rating::Positive,
                Rating::Neutral => pb::Rating::Neutral,
                Rating::Negative => pb::Rating::Negative,
            }) as i32,
            child_id: self.child_id.clone().unwrap_or_default(),
        }
    }

    fn key_from_proto(p: &pb::FeedbackKey) -> Result<Self::Key, Error> {
        let (la_code, response_id) = rpc::la_id_key(&p.la_code, "response_id", &p.response_id)?;
        Ok(FeedbackKey {
            la_code,
            response_id,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan() -> pb::CpPlan {
        pb::CpPlan {
            la_code: "885".into(),
            child_id: "C1".into(),
            start_date: "2018-04-10".into(),
            end_date: "2018-09-01".into(),
            initial_category: "NEG".into(),
            latest_category: "".into(),
            previous_plans: Some(0),
            review_dates: vec!["2018-06-20".into(), "2018-05-01".into()],
        }
    }

    fn fields(v: &Violations) -> Vec<&str> {
        v.0.iter().map(|f| f.field.as_str()).collect()
    }

    #[test]
    fn a_valid_plan_keeps_its_reviews_sorted() {
        let p = CpPlan::from_proto(&plan())
            .map_err(|v| v.under("records[0]"))
            .unwrap();
        assert_eq!(
            p.first_review(),
            chrono::NaiveDate::from_ymd_opt(2018, 5, 1)
        );
        assert_eq!(p.category(), "NEG");
    }

    #[test]
    fn each_bad_plan_field_is_named() {
        let p = pb::CpPlan {
            end_date: "2018-04-01".into(),  // before the start
            initial_category: "XYZ".into(), // unknown
            previous_plans: Some(-1),       // negative
            review_dates: vec!["2018-04-09".into(), "2018-4-30".into()], // before start; malformed
            ..plan()
        };
        let v = CpPlan::from_proto(&p)
            .map_err(|v| v.under("records[3]"))
            .unwrap_err();
        assert_eq!(
            fields(&v),
            [
                "records[3].end_date",
                "records[3].initial_category",
                "records[3].previous_plans",
                "records[3].review_dates[0]",
                "records[3].review_dates[0]",
                "records[3].review_dates[1]",
            ]
        );
        assert!(v.0[1].description.contains("\"XYZ\""));
    }

    #[test]
    fn a_review_after_the_plan_ended_is_refused() {
        let p = pb::CpPlan {
            review_dates: vec!["2018-09-02".into()],
            ..plan()
        };
        let v = CpPlan::from_proto(&p).unwrap_err();
        assert_eq!(fields(&v), ["review_dates[0]"]);
    }

    fn episode() -> pb::MissingEpisode {
        pb::MissingEpisode {
            la_code: "885".into(),
            child_id: "C1".into(),
            start_date: "2018-04-10".into(),
            kind: pb::AbsenceKind::Missing as i32,
            absent_from: pb::AbsentFrom::Care as i32,
            start_time: "22:00".into(),
            end_date: "2018-04-11".into(),
            end_time: "09:30".into(),
            interview_offered_date: "2018-04-11".into(),
            interview_outcome: pb::InterviewOutcome::Accepted as i32,
            interview_completed_date: "2018-04-13".into(),
            interview_completed_time: "15:00".into(),
        }
    }

    #[test]
    fn a_valid_episode_round_trips() {
        let e = MissingEpisode::from_proto(&episode()).unwrap();
        assert!(e.interview_within_72h());
        assert_eq!(e.to_proto(), episode());
    }

    #[test]
    fn contradictory_return_interviews_are_refused() {
        let still_missing = pb::MissingEpisode {
            end_date: "".into(),
            end_time: "".into(),
            ..episode()
        };
        let v = MissingEpisode::from_proto(&still_missing).unwrap_err();
        assert_eq!(fields(&v), ["interview_completed_date"]);

        let declined = pb::MissingEpisode {
            interview_outcome: pb::InterviewOutcome::Declined as i32,
            ..episode()
        };
        assert_eq!(
            fields(&MissingEpisode::from_proto(&declined).unwrap_err()),
            ["interview_outcome"]
        );

        let unoffered = pb::MissingEpisode {
            interview_offered_date: "".into(),
            interview_completed_date: "".into(),
            interview_completed_time: "".into(),
            ..episode()
        };
        assert_eq!(
            fields(&MissingEpisode::from_proto(&unoffered).unwrap_err()),
            ["interview_outcome"]
        );

        let no_kind = pb::MissingEpisode {
            kind: 0,
            absent_from: 7,
            end_time: "9.30".into(),
            ..episode()
        };
        assert_eq!(
            fields(&MissingEpisode::from_proto(&no_kind).unwrap_err()),
            ["kind", "absent_from", "end_time"]
        );
    }

    #[test]
    fn feedback_respondent_must_match_a_catalogue_question() {
        let f = pb::FeedbackResponse {
            la_code: "885".into(),
            response_id: "R1".into(),
            question: "parent_concern_explained".into(),
            respondent: pb::Respondent::Professional as i32,
            response_date: "2018-04-03".into(),
            rating: pb::Rating::Positive as i32,
            child_id: "".into(),
        };
        assert_eq!(
            fields(&Feedback::from_proto(&f).unwrap_err()),
            ["respondent"]
        );
        let own = pb::FeedbackResponse {
            question: "our_question_1".into(),
            ..f.clone()
        };
        assert!(Feedback::from_proto(&own).is_ok());
        let bad = pb::FeedbackResponse {
            question: "Our Question".into(),
            rating: 0,
            ..f
        };
        assert_eq!(
            fields(&Feedback::from_proto(&bad).unwrap_err()),
            ["question", "rating"]
        );
    }
}
