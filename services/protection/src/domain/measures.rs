//! The `protection.*` measures of MEASURES.md, as pure functions over one LA's records.
//!
//! Readings of the text that needed a choice are written down in `docs/measures.md`.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::{Datelike, NaiveDate};
use csc_core::{Measure, MeasureRow, Period, Unit, add_months, codes, sub_months};

use super::records::{
    AbsenceKind, AbsentFrom, CinPlan, CpPlan, Feedback, InterviewOutcome, MissingEpisode,
    QUESTIONS, Rating,
};

/// One LA's records, as many as the measures of a period need (more is harmless: every measure
/// filters by its own dates). `cp_plans` must hold, for every child with a plan started in the
/// period, all of that child's earlier plans (the repeat measures look back over the history).
#[derive(Debug, Default, Clone)]
pub struct ProtectionData {
    pub cin_plans: Vec<CinPlan>,
    pub cp_plans: Vec<CpPlan>,
    pub missing: Vec<MissingEpisode>,
    pub feedback: Vec<Feedback>,
}

/// A repeat plan within this many months of the previous one ending is "within 2 years".
pub const REPEAT_MONTHS: u32 = 24;
/// A CIN plan open longer than this many months is drifting.
pub const CIN_DRIFT_MONTHS: u32 = 6;

pub fn compute(period: &Period, data: &ProtectionData) -> Vec<Measure> {
    let mut out = Vec::new();
    cp_measures(period, &data.cp_plans, &mut out);
    cin_measures(period, &data.cin_plans, &data.cp_plans, &mut out);
    missing_measures(period, &data.missing, &mut out);
    out.push(feedback_measure(period, &data.feedback));
    out
}

fn cp_measures(period: &Period, plans: &[CpPlan], out: &mut Vec<Measure>) {
    let end = period.end();
    let open: Vec<&CpPlan> = plans.iter().filter(|p| p.open_at(end)).collect();
    let total = open.len() as i64;
    let rows = codes::CATEGORIES_OF_ABUSE
        .iter()
        .map(|(code, label)| {
            let n = open.iter().filter(|p| p.category() == *code).count() as i64;
            MeasureRow::share(*code, *label, n, total)
        })
        .collect();
    out.push(
        Measure::count(
            "protection.cp_open_at_end",
            "Child protection plans open at the end of the period, by latest category of abuse",
            total,
        )
        .with_rows(rows),
    );
    let children: BTreeSet<&str> = open.iter().map(|p| p.child_id.as_str()).collect();
    out.push(Measure::count(
        "protection.cp_children_at_end",
        "Children subject to a child protection plan at the end of the period",
        children.len() as i64,
    ));

    // Starts, each with the child's most recent earlier plan.
    let mut by_child: HashMap<&str, Vec<&CpPlan>> = HashMap::new();
    for p in plans {
        by_child.entry(p.child_id.as_str()).or_default().push(p);
    }
    let started: Vec<&CpPlan> = plans
        .iter()
        .filter(|p| period.contains(p.start_date))
        .collect();
    let (mut ever, mut within, mut over) = (0, 0, 0);
    for p in &started {
        let previous = by_child[p.child_id.as_str()]
            .iter()
            .filter(|q| q.start_date < p.start_date)
            .max_by_key(|q| q.start_date);
        if p.previous_plans.is_some_and(|n| n >= 1) || previous.is_some() {
            ever += 1;
        }
        if let Some(prev) = previous {
            // A previous plan not recorded as ended has not ended before `start − 2 years`.
            let cutoff = sub_months(p.start_date, REPEAT_MONTHS);
            match prev.end_date {
                Some(e) if e < cutoff => over += 1,
                _ => within += 1,
            }
        }
    }
    let n_started = started.len() as i64;
    out.push(Measure::count(
        "protection.cp_started",
        "Child protection plans started",
        n_started,
    ));
    out.push(Measure::ratio(
        "protection.cp_repeat_ever",
        "Plans started that were a repeat plan (at any time)",
        ever,
        n_started,
    ));
    out.push(Measure::ratio(
        "protection.cp_repeat_within_2y",
        "Plans started within 2 years of the child's previous plan ending",
        within,
        n_started,
    ));
    out.push(Measure::ratio(
        "protection.cp_repeat_over_2y",
        "Plans started more than 2 years after the child's previous plan ended",
        over,
        n_started,
    ));

    let first_reviews: Vec<(&CpPlan, NaiveDate)> = plans
        .iter()
        .filter_map(|p| p.first_review().map(|r| (p, r)))
        .filter(|(_, r)| period.contains(*r))
        .collect();
    let ended_at_review = first_reviews
        .iter()
        .filter(|(p, r)| p.end_date == Some(*r))
        .count() as i64;
    out.push(Measure::ratio(
        "protection.cp_first_review_ended",
        "Plans whose first review conference was held in the period: removed from plan at that review",
        ended_at_review,
        first_reviews.len() as i64,
    ));

    let ended: Vec<&CpPlan> = plans
        .iter()
        .filter(|p| p.end_date.is_some_and(|e| period.contains(e)))
        .collect();
    let lasted_2y = ended
        .iter()
        .filter(|p| {
            p.end_date
                .is_some_and(|e| e >= add_months(p.start_date, REPEAT_MONTHS))
        })
        .count() as i64;
    out.push(Measure::count(
        "protection.cp_ended",
        "Child protection plans ended",
        ended.len() as i64,
    ));
    out.push(Measure::ratio(
        "protection.cp_ended_2y_plus",
        "Plans ended that had lasted 2 years or more",
        lasted_2y,
        ended.len() as i64,
    ));
    let open_2y = open
        .iter()
        .filter(|p| p.start_date <= sub_months(end, REPEAT_MONTHS))
        .count() as i64;
    out.push(Measure::ratio(
        "protection.cp_open_2y_plus",
        "Plans open at the end of the period that had been open 2 years or more",
        open_2y,
        total,
    ));
}

fn cin_measures(
    period: &Period,
    cin_plans: &[CinPlan],
    cp_plans: &[CpPlan],
    out: &mut Vec<Measure>,
) {
    let end = period.end();
    let on_cp: BTreeSet<&str> = cp_plans
        .iter()
        .filter(|p| p.open_at(end))
        .map(|p| p.child_id.as_str())
        .collect();
    // Each child on a CIN plan (and no CP plan) at the end, with their earliest open CIN plan.
    let mut earliest: BTreeMap<&str, NaiveDate> = BTreeMap::new();
    for p in cin_plans
        .iter()
        .filter(|p| p.open_at(end) && !on_cp.contains(p.child_id.as_str()))
    {
        let e = earliest.entry(p.child_id.as_str()).or_insert(p.start_date);
        *e = (*e).min(p.start_date);
    }
    let n = earliest.len() as i64;
    let cutoff = sub_months(end, CIN_DRIFT_MONTHS);
    let over_6m = earliest.values().filter(|s| **s < cutoff).count() as i64;
    out.push(Measure::count(
        "protection.cin_plans_open_at_end",
        "Children on a child in need plan (and not a child protection plan) at the end of the period",
        n,
    ));
    out.push(Measure::ratio(
        "protection.cin_open_over_6m",
        "Children on a child in need plan at the end whose plan had been open more than 6 months",
        over_6m,
        n,
    ));
}

fn missing_measures(period: &Period, episodes: &[MissingEpisode], out: &mut Vec<Measure>) {
    let starting = |kind: AbsenceKind| {
        episodes
            .iter()
            .filter(move |e| e.kind == kind && period.contains(e.start_date))
    };
    for (kind, id, label) in [
        (
            AbsenceKind::Missing,
            "protection.missing_episodes",
            "Missing episodes (whereabouts unknown) starting in the period",
        ),
        (
            AbsenceKind::Away,
            "protection.away_episodes",
            "Away-without-authorisation episodes starting in the period",
        ),
    ] {
        let total = starting(kind).count() as i64;
        let rows = AbsentFrom::ALL
            .into_iter()
            .map(|from| {
                let n = starting(kind).filter(|e| e.absent_from == from).count() as i64;
                MeasureRow::share(from.key(), from.label(), n, total)
            })
            .collect();
        out.push(Measure::count(id, label, total).with_rows(rows));
    }

    let children: BTreeSet<&str> = starting(AbsenceKind::Missing)
        .map(|e| e.child_id.as_str())
        .collect();
    let rows = AbsentFrom::ALL
        .into_iter()
        .map(|from| {
            let c: BTreeSet<&str> = starting(AbsenceKind::Missing)
                .filter(|e| e.absent_from == from)
                .map(|e| e.child_id.as_str())
                .collect();
            MeasureRow::count(from.key(), from.label(), c.len() as i64)
        })
        .collect();
    out.push(
        Measure::count(
            "protection.children_missing",
            "Children with a missing episode starting in the period",
            children.len() as i64,
        )
        .with_rows(rows),
    );

    let ended: Vec<&MissingEpisode> = episodes
        .iter()
        .filter(|e| {
            e.kind == AbsenceKind::Missing && e.end_date.is_some_and(|d| period.contains(d))
        })
        .collect();
    let d = ended.len() as i64;
    let offered = ended
        .iter()
        .filter(|e| e.interview_offered_date.is_some())
        .count() as i64;
    let accepted = ended
        .iter()
        .filter(|e| e.interview_outcome == Some(InterviewOutcome::Accepted))
        .count() as i64;
    let on_time = ended.iter().filter(|e| e.interview_within_72h()).count() as i64;
    out.push(Measure::breakdown(
        "protection.return_interviews",
        "Return interviews after missing episodes that ended in the period",
        Unit::Ratio,
        vec![
            MeasureRow::ratio("offered", "Offered", offered, d),
            MeasureRow::ratio("accepted", "Accepted", accepted, d),
            MeasureRow::ratio(
                "completed_within_72h",
                "Completed within 72 hours",
                on_time,
                d,
            ),
        ],
    ));
}

const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

/// The first day of each calendar month in the period.
fn months(period: &Period) -> Vec<NaiveDate> {
    let mut out = Vec::new();
    let mut m = period.start().with_day(1).expect("day 1 exists");
    while m <= period.end() {
        out.push(m);
        m = add_months(m, 1);
    }
    out
}

fn feedback_measure(period: &Period, responses: &[Feedback]) -> Measure {
    // (question, month's first day) → (positive, responses)
    let mut tally: HashMap<(&str, NaiveDate), (i64, i64)> = HashMap::new();
    let mut own_questions: BTreeSet<&str> = BTreeSet::new();
    for r in responses
        .iter()
        .filter(|r| period.contains(r.response_date))
    {
        let month = r.response_date.with_day(1).expect("day 1 exists");
        let t = tally.entry((r.question.as_str(), month)).or_default();
        t.1 += 1;
        if r.rating == Rating::Positive {
            t.0 += 1;
        }
        if super::records::question(&r.question).is_none() {
            own_questions.insert(r.question.as_str());
        }
    }
    let questions = QUESTIONS
        .iter()
        .map(|q| (q.key, format!("{}: {}", q.respondent.label(), q.text)))
        .chain(own_questions.into_iter().map(|k| (k, k.replace('_', " "))));
    let mut rows = Vec::new();
    for (key, text) in questions {
        for m in months(period) {
            let (pos, n) = tally.get(&(key, m)).copied().unwrap_or_default();
            rows.push(MeasureRow::ratio(
                format!("{key}.{}", m.format("%Y-%m")),
                format!("{text} ({} {})", MONTHS[m.month0() as usize], m.year()),
                pos,
                n,
            ));
        }
    }
    Measure::breakdown(
        "protection.feedback",
        "Service-user feedback: positive responses by question and month",
        Unit::Ratio,
        rows,
    )
}

#[cfg(test)]
mod tests {
    use chrono::NaiveTime;
    use csc_core::testing::{d, la};

    use csc_core::measure::testing::{count, measure, ratio, row_count, row_ratio};

    use super::*;
    use crate::domain::records::Respondent;

    fn q(id: &str) -> Period {
        id.parse().unwrap()
    }
    fn cp(child: &str, start: NaiveDate, end: Option<NaiveDate>) -> CpPlan {
        CpPlan {
            la_code: la(),
            child_id: child.into(),
            start_date: start,
            end_date: end,
            initial_category: "NEG".into(),
            latest_category: None,
            previous_plans: Some(0),
            review_dates: vec![],
        }
    }
    fn cin(child: &str, start: NaiveDate, end: Option<NaiveDate>) -> CinPlan {
        CinPlan {
            la_code: la(),
            child_id: child.into(),
            start_date: start,
            end_date: end,
        }
    }
    fn episode(
        child: &str,
        kind: AbsenceKind,
        from: AbsentFrom,
        start: NaiveDate,
        end: Option<NaiveDate>,
    ) -> MissingEpisode {
        MissingEpisode {
            la_code: la(),
            child_id: child.into(),
            start_date: start,
            kind,
            absent_from: from,
            start_time: None,
            end_date: end,
            end_time: None,
            interview_offered_date: None,
            interview_outcome: None,
            interview_completed_date: None,
            interview_completed_time: None,
        }
    }
    fn run(period: &str, data: ProtectionData) -> Vec<Measure> {
        compute(&q(period), &data)
    }

    #[test]
    fn every_protection_measure_comes_out_in_catalogue_order_on_no_data() {
        let ms = run("2018-19-Q1", ProtectionData::default());
        let ids: Vec<&str> = ms.iter().map(|m| m.id.as_str()).collect();
        assert_eq!(
            ids,
            [
                "protection.cp_open_at_end",
                "protection.cp_children_at_end",
                "protection.cp_started",
                "protection.cp_repeat_ever",
                "protection.cp_repeat_within_2y",
                "protection.cp_repeat_over_2y",
                "protection.cp_first_review_ended",
                "protection.cp_ended",
                "protection.cp_ended_2y_plus",
                "protection.cp_open_2y_plus",
                "protection.cin_plans_open_at_end",
                "protection.cin_open_over_6m",
                "protection.missing_episodes",
                "protection.away_episodes",
                "protection.children_missing",
                "protection.return_interviews",
                "protection.feedback",
            ]
        );
        assert_eq!(measure(&ms, "protection.cp_repeat_ever").value, None);
    }

    #[test]
    fn repeat_plan_whose_previous_ended_exactly_two_years_before_is_within_2y() {
        let start = d(2018, 5, 10);
        let data = ProtectionData {
            cp_plans: vec![
                cp("A", d(2015, 1, 1), Some(d(2016, 5, 10))), // exactly start − 2 years
                cp("A", start, None),
                cp("B", d(2015, 1, 1), Some(d(2016, 5, 9))), // a day earlier
                cp("B", start, None),
                cp("C", start, None), // first plan in the history
            ],
            ..Default::default()
        };
        let ms = run("2018-19-Q1", data);
        assert_eq!(count(&ms, "protection.cp_started"), 3);
        assert_eq!(ratio(&ms, "protection.cp_repeat_within_2y"), (1, 3));
        assert_eq!(ratio(&ms, "protection.cp_repeat_over_2y"), (1, 3));
        assert_eq!(ratio(&ms, "protection.cp_repeat_ever"), (2, 3));
    }

    #[test]
    fn only_the_most_recent_earlier_plan_decides_within_or_over_2y() {
        let data = ProtectionData {
            cp_plans: vec![
                cp("A", d(2010, 1, 1), Some(d(2010, 6, 1))),
                cp("A", d(2017, 1, 1), Some(d(2017, 6, 1))),
                cp("A", d(2018, 4, 2), None),
            ],
            ..Default::default()
        };
        let ms = run("2018-19-Q1", data);
        assert_eq!(ratio(&ms, "protection.cp_repeat_within_2y"), (1, 1));
        assert_eq!(ratio(&ms, "protection.cp_repeat_over_2y"), (0, 1));
    }

    #[test]
    fn recorded_previous_plans_make_a_repeat_ever_but_not_within_or_over() {
        let mut p = cp("A", d(2018, 4, 2), None);
        p.previous_plans = Some(2);
        let mut none_recorded = cp("B", d(2018, 4, 3), None);
        none_recorded.previous_plans = None;
        let data = ProtectionData {
            cp_plans: vec![p, none_recorded],
            ..Default::default()
        };
        let ms = run("2018-19-Q1", data);
        assert_eq!(ratio(&ms, "protection.cp_repeat_ever"), (1, 2));
        assert_eq!(ratio(&ms, "protection.cp_repeat_within_2y"), (0, 2));
        assert_eq!(ratio(&ms, "protection.cp_repeat_over_2y"), (0, 2));
    }

    #[test]
    fn plan_ended_at_its_first_review_versus_a_day_later() {
        let review = d(2018, 5, 15);
        let mut at = cp("A", d(2018, 2, 1), Some(review));
        at.review_dates = vec![review, d(2018, 5, 15)];
        let mut later = cp("B", d(2018, 2, 1), Some(d(2018, 5, 16)));
        later.review_dates = vec![review];
        // A first review before the period does not count, even if a later one is in it.
        let mut earlier = cp("C", d(2017, 12, 1), Some(d(2018, 5, 20)));
        earlier.review_dates = vec![d(2018, 3, 1), d(2018, 5, 20)];
        let data = ProtectionData {
            cp_plans: vec![at, later, earlier],
            ..Default::default()
        };
        let ms = run("2018-19-Q1", data);
        assert_eq!(ratio(&ms, "protection.cp_first_review_ended"), (1, 2));
    }

    #[test]
    fn plans_open_exactly_two_years_at_the_period_end_count_as_2y_plus() {
        let end = d(2018, 6, 30);
        let data = ProtectionData {
            cp_plans: vec![
                cp("A", d(2016, 6, 30), None),               // end − 2 years: counts
                cp("B", d(2016, 7, 1), None),                // a day short
                cp("C", d(2016, 6, 30), Some(end)),          // ended on the last day: not open
                cp("D", d(2016, 1, 1), Some(d(2018, 7, 1))), // ends after: open
            ],
            ..Default::default()
        };
        let ms = run("2018-19-Q1", data);
        assert_eq!(count(&ms, "protection.cp_open_at_end"), 3);
        assert_eq!(ratio(&ms, "protection.cp_open_2y_plus"), (2, 3));
        assert_eq!(count(&ms, "protection.cp_ended"), 1);
        assert_eq!(ratio(&ms, "protection.cp_ended_2y_plus"), (1, 1));
    }

    #[test]
    fn plans_ended_just_short_of_two_years_did_not_last_2y() {
        let data = ProtectionData {
            cp_plans: vec![
                cp("A", d(2016, 3, 1), Some(d(2018, 3, 1))),
                cp("B", d(2016, 3, 2), Some(d(2018, 3, 1))),
                // 29 February: two years on is 28 February (calendar months).
                cp("C", d(2016, 2, 29), Some(d(2018, 2, 28))),
            ],
            ..Default::default()
        };
        let ms = run("2017-18", data);
        assert_eq!(ratio(&ms, "protection.cp_ended_2y_plus"), (2, 3));
    }

    #[test]
    fn open_plans_by_latest_category_and_distinct_children() {
        let mut a = cp("A", d(2018, 1, 1), None);
        a.latest_category = Some("EMO".into());
        let b = cp("A", d(2018, 2, 1), None); // same child, two plans
        let mut c = cp("C", d(2018, 3, 1), None);
        c.initial_category = "PHY".into();
        let data = ProtectionData {
            cp_plans: vec![a, b, c],
            ..Default::default()
        };
        let ms = run("2018-19-Q1", data);
        assert_eq!(count(&ms, "protection.cp_open_at_end"), 3);
        assert_eq!(count(&ms, "protection.cp_children_at_end"), 2);
        assert_eq!(row_count(&ms, "protection.cp_open_at_end", "EMO"), 1);
        assert_eq!(row_count(&ms, "protection.cp_open_at_end", "NEG"), 1);
        assert_eq!(row_count(&ms, "protection.cp_open_at_end", "PHY"), 1);
        assert_eq!(row_count(&ms, "protection.cp_open_at_end", "MUL"), 0);
        let r = measure(&ms, "protection.cp_open_at_end")
            .row("EMO")
            .unwrap();
        assert_eq!(r.percent, Some(33.3));
    }

    #[test]
    fn a_child_on_cin_and_cp_plans_at_once_counts_as_cp_only() {
        let end = d(2018, 6, 30);
        let data = ProtectionData {
            cin_plans: vec![
                cin("A", d(2018, 1, 1), None),
                cin("B", d(2017, 12, 29), None), // before end − 6 months (30 Dec)
                cin("B", d(2018, 5, 1), None),   // the earliest open plan decides
                cin("C", d(2017, 12, 30), None), // exactly end − 6 months: not before
                cin("D", d(2017, 1, 1), Some(end)), // ended on the last day
            ],
            cp_plans: vec![cp("A", d(2018, 6, 1), None)],
            ..Default::default()
        };
        let ms = run("2018-19-Q1", data);
        assert_eq!(count(&ms, "protection.cin_plans_open_at_end"), 2);
        assert_eq!(ratio(&ms, "protection.cin_open_over_6m"), (1, 2));
        assert_eq!(count(&ms, "protection.cp_children_at_end"), 1);
    }

    #[test]
    fn missing_episodes_on_the_period_edges_by_home_and_care() {
        use AbsenceKind::*;
        use AbsentFrom::*;
        let data = ProtectionData {
            missing: vec![
                episode("A", Missing, Home, d(2018, 6, 30), None), // last day: counts
                episode("A", Missing, Care, d(2018, 4, 1), Some(d(2018, 4, 2))),
                episode("A", Missing, Care, d(2018, 4, 5), Some(d(2018, 4, 6))),
                episode("B", Missing, Care, d(2018, 7, 1), None), // after the period
                episode("C", Missing, Home, d(2018, 3, 31), Some(d(2018, 4, 1))), // started before
                episode("D", Away, Care, d(2018, 5, 1), Some(d(2018, 5, 1))),
            ],
            ..Default::default()
        };
        let ms = run("2018-19-Q1", data);
        assert_eq!(count(&ms, "protection.missing_episodes"), 3);
        assert_eq!(row_count(&ms, "protection.missing_episodes", "home"), 1);
        assert_eq!(row_count(&ms, "protection.missing_episodes", "care"), 2);
        assert_eq!(count(&ms, "protection.away_episodes"), 1);
        assert_eq!(count(&ms, "protection.children_missing"), 1);
        assert_eq!(row_count(&ms, "protection.children_missing", "home"), 1);
        assert_eq!(row_count(&ms, "protection.children_missing", "care"), 1);
        // Return interviews: missing (not away) episodes that ended in the period, including C.
        assert_eq!(
            row_ratio(&ms, "protection.return_interviews", "offered"),
            (0, 3)
        );
    }

    #[test]
    fn return_interviews_offered_accepted_and_on_time() {
        use AbsenceKind::*;
        use AbsentFrom::*;
        let t = |h| NaiveTime::from_hms_opt(h, 0, 0);
        let mut on_time = episode("A", Missing, Care, d(2018, 4, 1), Some(d(2018, 4, 2)));
        on_time.end_time = t(9);
        on_time.interview_offered_date = Some(d(2018, 4, 2));
        on_time.interview_outcome = Some(InterviewOutcome::Accepted);
        on_time.interview_completed_date = Some(d(2018, 4, 5));
        on_time.interview_completed_time = t(9); // 72 hours
        let mut late = on_time.clone();
        late.child_id = "B".into();
        late.interview_completed_time = t(10); // 73 hours
        let mut declined = episode("C", Missing, Home, d(2018, 4, 1), Some(d(2018, 4, 3)));
        declined.interview_offered_date = Some(d(2018, 4, 3));
        declined.interview_outcome = Some(InterviewOutcome::Declined);
        let data = ProtectionData {
            missing: vec![on_time, late, declined],
            ..Default::default()
        };
        let ms = run("2018-19-Q1", data);
        let ri = |k| row_ratio(&ms, "protection.return_interviews", k);
        assert_eq!(ri("offered"), (3, 3));
        assert_eq!(ri("accepted"), (2, 3));
        assert_eq!(ri("completed_within_72h"), (1, 3));
    }

    #[test]
    fn feedback_rows_per_question_and_month() {
        let resp = |id: &str, q: &str, date: NaiveDate, rating: Rating| Feedback {
            la_code: la(),
            response_id: id.into(),
            question: q.into(),
            respondent: Respondent::Parent,
            response_date: date,
            rating,
            child_id: None,
        };
        let data = ProtectionData {
            feedback: vec![
                resp(
                    "1",
                    "parent_concern_explained",
                    d(2018, 4, 1),
                    Rating::Positive,
                ),
                resp(
                    "2",
                    "parent_concern_explained",
                    d(2018, 4, 30),
                    Rating::Neutral,
                ),
                resp(
                    "3",
                    "parent_concern_explained",
                    d(2018, 4, 15),
                    Rating::Negative,
                ),
                resp(
                    "4",
                    "parent_concern_explained",
                    d(2018, 6, 30),
                    Rating::Positive,
                ),
                resp(
                    "5",
                    "parent_concern_explained",
                    d(2018, 7, 1),
                    Rating::Negative,
                ),
                resp("6", "our_own_question", d(2018, 5, 2), Rating::Positive),
            ],
            ..Default::default()
        };
        let ms = run("2018-19-Q1", data);
        let f = measure(&ms, "protection.feedback");
        // Five catalogue questions and the LA's own, three months each.
        assert_eq!(f.rows.len(), 6 * 3);
        assert_eq!(f.rows[0].key, "parent_concern_explained.2018-04");
        assert_eq!(
            row_ratio(
                &ms,
                "protection.feedback",
                "parent_concern_explained.2018-04"
            ),
            (1, 3)
        );
        assert_eq!(
            row_ratio(
                &ms,
                "protection.feedback",
                "parent_concern_explained.2018-05"
            ),
            (0, 0)
        );
        assert_eq!(
            row_ratio(
                &ms,
                "protection.feedback",
                "parent_concern_explained.2018-06"
            ),
            (1, 1)
        );
        assert_eq!(
            row_ratio(&ms, "protection.feedback", "our_own_question.2018-05"),
            (1, 1)
        );
        assert_eq!(f.rows[17].key, "our_own_question.2018-06");
        assert_eq!(months(&q("2018-19")).len(), 12);
    }
}
