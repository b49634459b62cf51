//! The `frontdoor.*` measures of MEASURES.md, as pure functions over one LA's records.
//!
//! Readings of the text that needed a choice are written down in `docs/measures.md`.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::NaiveDate;
use csc_core::{Measure, MeasureRow, Period, Unit, codes, sub_months, working_days_between};

use super::records::{
    Agency, Assessment, Contact, EarlyHelpAssessment, Icpc, Referral, Section47Enquiry,
    StrategyDiscussion,
};

/// One LA's records, as many as the measures of a period need (more is harmless: every measure
/// filters by its own dates). [`FrontDoorData::window`] says which dates the store must load.
#[derive(Debug, Default, Clone)]
pub struct FrontDoorData {
    pub contacts: Vec<Contact>,
    pub referrals: Vec<Referral>,
    pub assessments: Vec<Assessment>,
    pub s47s: Vec<Section47Enquiry>,
    pub strategy_discussions: Vec<StrategyDiscussion>,
    pub icpcs: Vec<Icpc>,
    pub early_help: Vec<EarlyHelpAssessment>,
}

/// Assessments completed within this many working days are on time.
pub const ASSESSMENT_TIMESCALE_WD: i64 = 45;
/// ICPCs held within this many working days of the S47 start are on time.
pub const ICPC_TIMESCALE_WD: i64 = 15;

/// Working-day bands of `frontdoor.assessment_duration_bands`: (key, lowest, highest).
pub const DURATION_BANDS: &[(&str, i64, i64)] = &[
    ("0", 0, 0),
    ("1-10", 1, 10),
    ("11-20", 11, 20),
    ("21-30", 21, 30),
    ("31-40", 31, 40),
    ("41-45", 41, 45),
    ("46-50", 46, 50),
    ("51-60", 51, 60),
    ("61+", 61, i64::MAX),
];

/// Whether `d0` is in the 12 months before `d`: `d − 12 months ≤ d0 < d`.
fn in_12_months_before(d0: NaiveDate, d: NaiveDate) -> bool {
    sub_months(d, 12) <= d0 && d0 < d
}

/// Whether any date in the sorted `dates` lies in the 12 months before `d`.
fn any_in_12_months_before(dates: &[NaiveDate], d: NaiveDate) -> bool {
    let from = sub_months(d, 12);
    let i = dates.partition_point(|x| *x < from);
    dates.get(i).is_some_and(|x| in_12_months_before(*x, d))
}

/// Sorted dates per child.
fn dates_by_child<'a>(
    pairs: impl Iterator<Item = (&'a str, NaiveDate)>,
) -> HashMap<&'a str, Vec<NaiveDate>> {
    let mut map: HashMap<&str, Vec<NaiveDate>> = HashMap::new();
    for (child, date) in pairs {
        map.entry(child).or_default().push(date);
    }
    for v in map.values_mut() {
        v.sort_unstable();
    }
    map
}

/// Every `frontdoor.*` measure for `period`, in catalogue order.
pub fn compute(period: &Period, data: &FrontDoorData) -> Vec<Measure> {
    let in_p = |d: NaiveDate| period.contains(d);
    let referrals_by_child = dates_by_child(
        data.referrals
            .iter()
            .map(|r| (r.child_id.as_str(), r.referral_date)),
    );
    let mut out = Vec::with_capacity(16);

    // Contacts.
    out.push(Measure::count(
        "frontdoor.contacts",
        "Contacts",
        data.contacts
            .iter()
            .filter(|c| in_p(c.contact_date))
            .count() as i64,
    ));

    // Referrals, by source, repeated within 12 months, NFA.
    let referrals: Vec<&Referral> = data
        .referrals
        .iter()
        .filter(|r| in_p(r.referral_date))
        .collect();
    let total = referrals.len() as i64;
    out.push(Measure::count("frontdoor.referrals", "Referrals", total));

    let mut by_group = vec![0i64; codes::REFERRAL_SOURCE_GROUPS.len()];
    for r in &referrals {
        if let Some(g) = codes::referral_source_group(&r.source) {
            by_group[g] += 1;
        }
    }
    let rows = codes::REFERRAL_SOURCE_GROUPS
        .iter()
        .zip(&by_group)
        .map(|((key, label, _), &n)| MeasureRow::share(*key, *label, n, total))
        .collect();
    out.push(
        Measure::count(
            "frontdoor.referrals_by_source",
            "Referrals by source",
            total,
        )
        .with_rows(rows),
    );

    let rereferrals = referrals
        .iter()
        .filter(|r| {
            any_in_12_months_before(&referrals_by_child[r.child_id.as_str()], r.referral_date)
        })
        .count() as i64;
    out.push(Measure::ratio(
        "frontdoor.rereferrals_12m",
        "Re-referrals within 12 months",
        rereferrals,
        total,
    ));

    let nfa = referrals.iter().filter(|r| r.nfa).count() as i64;
    out.push(Measure::ratio(
        "frontdoor.referrals_nfa",
        "Referrals with no further action",
        nfa,
        total,
    ));

    // Assessments.
    let completed: Vec<(&Assessment, i64)> = data
        .assessments
        .iter()
        .filter_map(|a| {
            let auth = a.authorisation_date.filter(|d| in_p(*d))?;
            Some((a, working_days_between(a.start_date, auth)))
        })
        .collect();
    let n_completed = completed.len() as i64;
    out.push(Measure::count(
        "frontdoor.assessments_completed",
        "Assessments completed",
        n_completed,
    ));

    let on_time = completed
        .iter()
        .filter(|(_, wd)| *wd <= ASSESSMENT_TIMESCALE_WD)
        .count() as i64;
    out.push(Measure::ratio(
        "frontdoor.assessments_within_45wd",
        "Assessments completed within 45 working days",
        on_time,
        n_completed,
    ));

    let band_rows = DURATION_BANDS
        .iter()
        .map(|&(key, lo, hi)| {
            let n = completed
                .iter()
                .filter(|(_, wd)| (lo..=hi).contains(wd))
                .count() as i64;
            MeasureRow::share(key, key, n, n_completed)
        })
        .collect();
    out.push(
        Measure::count(
            "frontdoor.assessment_duration_bands",
            "Assessments completed by working days taken",
            n_completed,
        )
        .with_rows(band_rows),
    );

    let nfa_assessments: Vec<&Assessment> = completed
        .iter()
        .map(|(a, _)| *a)
        .filter(|a| a.is_nfa())
        .collect();
    out.push(Measure::count(
        "frontdoor.assessments_nfa",
        "Assessments completed with no further action",
        nfa_assessments.len() as i64,
    ));

    // Children whose assessment ended NFA: was there an earlier referral, or a contact that did
    // not become a referral, in the 12 months before that assessment's referral?
    let mut nfa_children: BTreeMap<&str, Vec<NaiveDate>> = BTreeMap::new();
    for a in &nfa_assessments {
        nfa_children
            .entry(a.child_id.as_str())
            .or_default()
            .push(a.referral_date);
    }
    let contacts_by_child = dates_by_child(
        data.contacts
            .iter()
            .filter(|c| !c.became_referral)
            .map(|c| (c.child_id.as_str(), c.contact_date)),
    );
    let no_dates: Vec<NaiveDate> = Vec::new();
    let with_prev_referral = nfa_children
        .iter()
        .filter(|(child, rds)| {
            let history = referrals_by_child.get(*child).unwrap_or(&no_dates);
            rds.iter().any(|rd| any_in_12_months_before(history, *rd))
        })
        .count() as i64;
    let with_prev_contact = nfa_children
        .iter()
        .filter(|(child, rds)| {
            let history = contacts_by_child.get(*child).unwrap_or(&no_dates);
            rds.iter().any(|rd| any_in_12_months_before(history, *rd))
        })
        .count() as i64;
    let n_nfa_children = nfa_children.len() as i64;
    out.push(Measure::ratio(
        "frontdoor.nfa_children_previous_referral",
        "Children assessed with no further action who had a referral in the previous 12 months",
        with_prev_referral,
        n_nfa_children,
    ));
    out.push(Measure::ratio(
        "frontdoor.nfa_children_previous_contact",
        "Children assessed with no further action who had a contact (not a referral) in the previous 12 months",
        with_prev_contact,
        n_nfa_children,
    ));

    // Section 47 enquiries and strategy discussions.
    out.push(Measure::count(
        "frontdoor.s47_started",
        "Section 47 enquiries started",
        data.s47s.iter().filter(|s| in_p(s.start_date)).count() as i64,
    ));
    let discussions: Vec<&StrategyDiscussion> = data
        .strategy_discussions
        .iter()
        .filter(|s| in_p(s.discussion_date))
        .collect();
    out.push(Measure::count(
        "frontdoor.strategy_discussions",
        "Strategy discussions held",
        discussions.len() as i64,
    ));
    let attendance_rows = Agency::ALL
        .iter()
        .map(|&agency| {
            let invited: Vec<_> = discussions
                .iter()
                .filter(|s| s.invited.contains(&agency))
                .collect();
            let attended = invited
                .iter()
                .filter(|s| s.attended.contains(&agency))
                .count() as i64;
            MeasureRow::ratio(agency.key(), agency.label(), attended, invited.len() as i64)
        })
        .collect();
    out.push(Measure::breakdown(
        "frontdoor.strategy_attendance",
        "Strategy discussions attended by agencies invited",
        Unit::Ratio,
        attendance_rows,
    ));

    // ICPCs: one per child and date, however many records name it.
    let (held, on_time) = icpc_timeliness(period, data);
    out.push(Measure::ratio(
        "frontdoor.icpc_within_15wd",
        "Initial child protection conferences within 15 working days of the section 47 enquiry starting",
        on_time,
        held,
    ));

    // Factors identified at the end of assessment.
    let mut factor_counts: HashMap<&str, i64> = HashMap::new();
    for (a, _) in &completed {
        let distinct: BTreeSet<&str> = a.factors.iter().map(String::as_str).collect();
        for f in distinct {
            *factor_counts.entry(f).or_default() += 1;
        }
    }
    let factor_rows = codes::ASSESSMENT_FACTORS
        .iter()
        .map(|(code, label)| {
            MeasureRow::count(*code, *label, factor_counts.get(code).copied().unwrap_or(0))
        })
        .collect();
    out.push(Measure::breakdown(
        "frontdoor.assessment_factors",
        "Factors identified at the end of assessment",
        Unit::Count,
        factor_rows,
    ));

    // Early help assessments (Ofsted Annex A List 2): the suite's, not MEASURES.md's, so after
    // all of those (the report prints it after contacts).
    out.push(Measure::count(
        "frontdoor.early_help_assessments",
        "Early help assessments started",
        data.early_help
            .iter()
            .filter(|e| in_p(e.start_date))
            .count() as i64,
    ));

    out
}

/// (ICPCs held in P, those within 15 working days of the start of the S47 enquiry that led to
/// each). The enquiry that led to a conference is the child's latest enquiry naming that
/// conference date and starting on or before it; failing that, the enquiry the ICPC record names.
fn icpc_timeliness(period: &Period, data: &FrontDoorData) -> (i64, i64) {
    // (child, ICPC date) → start of the S47 that led to it, if known.
    let mut conferences: BTreeMap<(&str, NaiveDate), Option<NaiveDate>> = BTreeMap::new();
    for s in &data.s47s {
        if let Some(icpc) = s.icpc_date.filter(|d| period.contains(*d)) {
            let slot = conferences.entry((s.child_id.as_str(), icpc)).or_default();
            if s.start_date <= icpc && slot.is_none_or(|prev| s.start_date > prev) {
                *slot = Some(s.start_date);
            }
        }
    }
    for i in data.icpcs.iter().filter(|i| period.contains(i.icpc_date)) {
        let slot = conferences
            .entry((i.child_id.as_str(), i.icpc_date))
            .or_default();
        if slot.is_none() {
            *slot = i.s47_start_date.filter(|s| *s <= i.icpc_date);
        }
    }
    let held = conferences.len() as i64;
    let on_time = conferences
        .iter()
        .filter(|((_, icpc), start)| {
            start.is_some_and(|s| working_days_between(s, *icpc) <= ICPC_TIMESCALE_WD)
        })
        .count() as i64;
    (held, on_time)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::records::AssessmentOutcome;
    use csc_core::testing::{d, la};

    use csc_core::measure::testing::{count, measure, ratio};

    fn q(id: &str) -> Period {
        id.parse().unwrap()
    }
    fn referral(child: &str, date: NaiveDate, source: &str, nfa: bool) -> Referral {
        Referral {
            la_code: la(),
            child_id: child.into(),
            referral_date: date,
            source: source.into(),
            nfa,
        }
    }
    fn assessment(
        child: &str,
        referral: NaiveDate,
        start: NaiveDate,
        auth: Option<NaiveDate>,
    ) -> Assessment {
        Assessment {
            la_code: la(),
            child_id: child.into(),
            start_date: start,
            referral_date: referral,
            authorisation_date: auth,
            factors: vec![],
            outcome: AssessmentOutcome::Unspecified,
            closure_reason: None,
        }
    }
    fn contact(id: &str, child: &str, date: NaiveDate, became_referral: bool) -> Contact {
        Contact {
            la_code: la(),
            contact_id: id.into(),
            child_id: child.into(),
            contact_date: date,
            source: "6".into(),
            became_referral,
        }
    }

    #[test]
    fn every_catalogue_measure_is_computed_once() {
        let ms = compute(&q("2018-19-Q1"), &FrontDoorData::default());
        let ids: Vec<&str> = ms.iter().map(|m| m.id.as_str()).collect();
        assert_eq!(
            ids,
            [
                "frontdoor.contacts",
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
                "frontdoor.assessment_factors",
                "frontdoor.early_help_assessments",
            ]
        );
        // Empty denominators give no value, not 0%.
        assert_eq!(measure(&ms, "frontdoor.rereferrals_12m").value, None);
    }

    #[test]
    fn referrals_on_the_first_and_last_day_of_the_period_count() {
        let data = FrontDoorData {
            referrals: vec![
                referral("A", d(2018, 3, 31), "6", false),
                referral("B", d(2018, 4, 1), "6", false),
                referral("C", d(2018, 6, 30), "2A", true),
                referral("D", d(2018, 7, 1), "6", false),
            ],
            ..Default::default()
        };
        let ms = compute(&q("2018-19-Q1"), &data);
        assert_eq!(count(&ms, "frontdoor.referrals"), 2);
        assert_eq!(ratio(&ms, "frontdoor.referrals_nfa"), (1, 2));
        let by_source = measure(&ms, "frontdoor.referrals_by_source");
        let keys: Vec<&str> = by_source.rows.iter().map(|r| r.key.as_str()).collect();
        assert_eq!(keys[0], "individual");
        assert_eq!(keys.len(), 11);
        assert_eq!(by_source.row("police").unwrap().percent, Some(50.0));
        assert_eq!(by_source.row("schools").unwrap().percent, Some(50.0));
        assert_eq!(by_source.row("unknown").unwrap().percent, Some(0.0));
    }

    #[test]
    fn rereferral_window_is_twelve_calendar_months_back_from_29_february() {
        // Referral on 29 Feb 2020: the window starts 28 Feb 2019 (inclusive).
        let p = q("2019-20-Q4");
        let data = FrontDoorData {
            referrals: vec![
                referral("A", d(2019, 2, 28), "6", false),
                referral("A", d(2020, 2, 29), "6", false),
                referral("B", d(2019, 2, 27), "6", false),
                referral("B", d(2020, 2, 29), "6", false),
            ],
            ..Default::default()
        };
        assert_eq!(
            ratio(&compute(&p, &data), "frontdoor.rereferrals_12m"),
            (1, 2)
        );
    }

    #[test]
    fn several_referrals_of_one_child_each_count_and_each_can_be_a_rereferral() {
        let data = FrontDoorData {
            referrals: vec![
                referral("A", d(2018, 4, 2), "6", false),
                referral("A", d(2018, 5, 2), "6", false),
                referral("A", d(2018, 6, 2), "6", false),
                // Exactly 12 months before 2018-06-02 counts; a day more does not.
                referral("B", d(2017, 6, 2), "6", false),
                referral("B", d(2018, 6, 2), "6", false),
                referral("C", d(2017, 6, 1), "6", false),
                referral("C", d(2018, 6, 2), "6", false),
            ],
            ..Default::default()
        };
        let ms = compute(&q("2018-19-Q1"), &data);
        assert_eq!(count(&ms, "frontdoor.referrals"), 5);
        assert_eq!(ratio(&ms, "frontdoor.rereferrals_12m"), (3, 5));
    }

    #[test]
    fn assessments_landing_on_the_45th_and_46th_working_day_across_bank_holidays() {
        // Start Thursday 29 March 2018: Good Friday 30 March, Easter Monday 2 April, the early May
        // bank holiday 7 May and the spring bank holiday 28 May are all off.
        let start = d(2018, 3, 29);
        let day45 = start
            .iter_days()
            .find(|x| working_days_between(start, *x) == 45)
            .unwrap();
        let day46 = start
            .iter_days()
            .find(|x| working_days_between(start, *x) == 46)
            .unwrap();
        assert_eq!(day45, d(2018, 6, 6));
        assert_eq!(day46, d(2018, 6, 7));
        let data = FrontDoorData {
            assessments: vec![
                assessment("A", start, start, Some(day45)),
                assessment("B", start, start, Some(day46)),
                assessment("C", d(2018, 4, 10), d(2018, 4, 10), Some(d(2018, 4, 10))),
                assessment("D", start, start, None),
                assessment("E", start, start, Some(d(2018, 3, 31))),
            ],
            ..Default::default()
        };
        let ms = compute(&q("2018-19-Q1"), &data);
        assert_eq!(count(&ms, "frontdoor.assessments_completed"), 3);
        assert_eq!(ratio(&ms, "frontdoor.assessments_within_45wd"), (2, 3));
        let bands = measure(&ms, "frontdoor.assessment_duration_bands");
        let by_key = |k: &str| bands.row(k).unwrap().value.unwrap().as_f64() as i64;
        assert_eq!(
            (by_key("0"), by_key("41-45"), by_key("46-50"), by_key("61+")),
            (1, 1, 1, 0)
        );
        assert_eq!(bands.rows.len(), 9);
    }

    #[test]
    fn nfa_children_with_previous_referral_and_contact() {
        let rd = d(2018, 5, 15);
        let mut a = assessment("A", rd, d(2018, 5, 16), Some(d(2018, 6, 1)));
        a.closure_reason = Some("RC8".into());
        let mut a2 = assessment("A", rd, d(2018, 5, 17), Some(d(2018, 6, 2)));
        a2.outcome = AssessmentOutcome::Nfa;
        let mut b = assessment("B", rd, d(2018, 5, 16), Some(d(2018, 6, 1)));
        b.closure_reason = Some("RC9".into());
        let mut c = assessment("C", rd, d(2018, 5, 16), Some(d(2018, 6, 1)));
        c.closure_reason = Some("RC7".into());
        let data = FrontDoorData {
            assessments: vec![a, a2, b, c],
            referrals: vec![
                referral("A", rd, "6", true),
                referral("A", d(2017, 5, 15), "6", false), // exactly 12 months before: counts
                referral("B", rd, "6", true),
                referral("B", d(2017, 5, 14), "6", false), // a day too early
                referral("C", d(2018, 1, 1), "6", false),
            ],
            contacts: vec![
                contact("k1", "B", d(2018, 1, 1), false),
                contact("k2", "A", d(2018, 1, 1), true), // became a referral: not counted
                contact("k3", "A", rd, false),           // same day as the referral: not before it
            ],
            ..Default::default()
        };
        let ms = compute(&q("2018-19-Q1"), &data);
        assert_eq!(count(&ms, "frontdoor.assessments_nfa"), 3);
        assert_eq!(
            ratio(&ms, "frontdoor.nfa_children_previous_referral"),
            (1, 2)
        );
        assert_eq!(
            ratio(&ms, "frontdoor.nfa_children_previous_contact"),
            (1, 2)
        );
    }

    #[test]
    fn contacts_count_by_date_whether_or_not_they_became_referrals() {
        let data = FrontDoorData {
            contacts: vec![
                contact("1", "A", d(2018, 4, 1), true),
                contact("2", "A", d(2018, 4, 1), false),
                contact("3", "B", d(2018, 7, 1), false),
            ],
            ..Default::default()
        };
        assert_eq!(
            count(&compute(&q("2018-19-Q1"), &data), "frontdoor.contacts"),
            2
        );
    }

    #[test]
    fn strategy_attendance_is_of_agencies_invited() {
        let sd = |date, invited: Vec<Agency>, attended: Vec<Agency>| StrategyDiscussion {
            la_code: la(),
            child_id: "A".into(),
            discussion_date: date,
            invited,
            attended,
        };
        use Agency::*;
        let data = FrontDoorData {
            strategy_discussions: vec![
                sd(
                    d(2018, 4, 3),
                    vec![Police, Health, Education],
                    vec![Police, Health],
                ),
                sd(d(2018, 4, 4), vec![Police, Health], vec![Health, Education]),
                sd(d(2018, 7, 4), vec![Police], vec![Police]),
            ],
            ..Default::default()
        };
        let ms = compute(&q("2018-19-Q1"), &data);
        assert_eq!(count(&ms, "frontdoor.strategy_discussions"), 2);
        let att = measure(&ms, "frontdoor.strategy_attendance");
        let nd = |k: &str| {
            let r = att.row(k).unwrap();
            (r.numerator.unwrap(), r.denominator.unwrap())
        };
        assert_eq!(nd("police"), (1, 2));
        assert_eq!(nd("health"), (2, 2));
        assert_eq!(nd("education"), (0, 1)); // attended once, but invited only once and absent then
        assert_eq!(nd("other"), (0, 0));
        assert_eq!(att.row("other").unwrap().value, None);
    }

    #[test]
    fn icpc_counted_once_per_child_and_date_and_timed_from_its_s47() {
        let s47 = |child: &str, start, icpc| Section47Enquiry {
            la_code: la(),
            child_id: child.into(),
            start_date: start,
            referral_date: None,
            icpc_target_date: None,
            icpc_date: icpc,
            icpc_not_required: false,
        };
        let icpc = |child: &str, date, s47| Icpc {
            la_code: la(),
            child_id: child.into(),
            icpc_date: date,
            s47_start_date: s47,
        };
        // Start Tuesday 3 April 2018; 15 working days later is Tuesday 24 April.
        let start = d(2018, 4, 3);
        assert_eq!(working_days_between(start, d(2018, 4, 24)), 15);
        let data = FrontDoorData {
            s47s: vec![
                s47("A", start, Some(d(2018, 4, 24))),
                s47("B", start, Some(d(2018, 4, 25))),
                s47("D", d(2018, 3, 1), None),
            ],
            icpcs: vec![
                icpc("A", d(2018, 4, 24), None), // the same conference again
                icpc("C", d(2018, 5, 1), Some(d(2018, 4, 20))), // linked by the ICPC record
                icpc("D", d(2018, 5, 1), None),  // no enquiry known: late
                icpc("E", d(2018, 7, 2), Some(d(2018, 6, 29))), // held after the period
            ],
            ..Default::default()
        };
        let ms = compute(&q("2018-19-Q1"), &data);
        assert_eq!(ratio(&ms, "frontdoor.icpc_within_15wd"), (2, 4));
        assert_eq!(count(&ms, "frontdoor.s47_started"), 2);
    }

    #[test]
    fn factors_count_once_per_assessment_completed_in_the_period() {
        let mut a = assessment("A", d(2018, 4, 1), d(2018, 4, 2), Some(d(2018, 4, 20)));
        a.factors = vec!["11A".into(), "24A".into(), "11A".into()];
        let mut b = assessment("B", d(2018, 4, 1), d(2018, 4, 2), Some(d(2018, 4, 20)));
        b.factors = vec!["11A".into()];
        let mut late = assessment("C", d(2018, 4, 1), d(2018, 4, 2), None);
        late.factors = vec!["11A".into()];
        let data = FrontDoorData {
            assessments: vec![a, b, late],
            ..Default::default()
        };
        let ms = compute(&q("2018-19-Q1"), &data);
        let f = measure(&ms, "frontdoor.assessment_factors");
        let v = |k: &str| f.row(k).unwrap().value.unwrap().as_f64() as i64;
        assert_eq!((v("11A"), v("24A"), v("10A")), (2, 1, 0));
        assert_eq!(f.rows.len(), codes::ASSESSMENT_FACTORS.len());
    }
}
