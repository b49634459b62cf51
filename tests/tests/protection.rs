//! The child protection service end to end, on every backend: validation (nothing of a bad batch
//! applied), get / list / delete and idempotent replays, review dates accumulating across
//! censuses, the missing and feedback CSV imports, and measures through the store equal to the
//! definitions over every record.

use chrono::{Days, NaiveDate, NaiveTime};
use csc::import::{ImportSummary, import_feedback, import_missing};
use csc::serve::Service;
use csc_core::{LaCode, Period};
use csc_e2e::{all_pages, assert_row_refused, backends, protos, start};
use csc_protection::domain::{
    self, AbsenceKind, AbsentFrom, CinPlan, CpPlan, Feedback, InterviewOutcome, MissingEpisode,
    ProtectionData, QUESTIONS, Rating,
};
use csc_proto::{common as cpb, protection as pb};
use csc_runtime::convert::measure_from_proto;
use tonic::Code;
use tonic_types::StatusExt;

fn plan(child: &str, start: &str, end: &str, category: &str) -> pb::CpPlan {
    pb::CpPlan {
        la_code: "885".into(),
        child_id: child.into(),
        start_date: start.into(),
        end_date: end.into(),
        initial_category: category.into(),
        latest_category: String::new(),
        previous_plans: Some(0),
        review_dates: vec![],
    }
}

fn plans_req(id: &str, records: Vec<pb::CpPlan>) -> pb::BatchUpsertCpPlansRequest {
    pb::BatchUpsertCpPlansRequest {
        request_id: id.into(),
        records,
        replace_reviews: false,
        keep_stored: false,
    }
}

fn fields(s: &tonic::Status) -> Vec<String> {
    s.get_details_bad_request()
        .expect("BadRequest")
        .field_violations
        .into_iter()
        .map(|v| v.field)
        .collect()
}

fn list_req(page_size: i32, page_token: String) -> cpb::ListRequest {
    cpb::ListRequest {
        la_code: "885".into(),
        child_id: String::new(),
        page_size,
        page_token,
    }
}

#[tokio::test]
async fn bad_plans_are_refused_whole_with_field_violations() {
    for b in backends().await {
        let s = start(Service::Protection, &b.url).await;
        let mut c = s.protection().await;
        let mut negative = plan("C4", "2018-04-01", "", "NEG");
        negative.previous_plans = Some(-1);
        let mut early_review = plan("C5", "2018-04-10", "", "EMO");
        early_review.review_dates = vec!["2018-06-01".into(), "2018-04-09".into()];
        let err = c
            .batch_upsert_cp_plans(plans_req(
                "bad",
                vec![
                    plan("C1", "2018-04-01", "", "NEG"),
                    plan("C2", "2018-04-01", "", "XYZ"),
                    plan("C3", "2018-04-01", "2018-03-31", "PHY"),
                    negative,
                    early_review,
                ],
            ))
            .await
            .unwrap_err();
        assert_eq!(err.code(), Code::InvalidArgument, "{}", b.name);
        assert_eq!(
            fields(&err),
            [
                "records[1].initial_category",
                "records[2].end_date",
                "records[3].previous_plans",
                "records[4].review_dates[1]",
            ]
        );
        let listed = c
            .list_cp_plans(list_req(0, String::new()))
            .await
            .unwrap()
            .into_inner();
        assert!(listed.records.is_empty(), "nothing of a bad batch lands");

        // A CIN plan ending before it starts, and an episode with no kind, likewise.
        let err = c
            .batch_upsert_cin_plans(pb::BatchUpsertCinPlansRequest {
                request_id: String::new(),
                keep_stored: false,
                records: vec![pb::CinPlan {
                    la_code: "885".into(),
                    child_id: "C1".into(),
                    start_date: "2018-05-01".into(),
                    end_date: "2018-04-30".into(),
                }],
            })
            .await
            .unwrap_err();
        assert_eq!(fields(&err), ["records[0].end_date"]);
        s.stop().await;
    }
}

/// A CP plan names its category of abuse; only a batch that keeps stored values (the DfE CSC API
/// payload's, which has none) may leave it out, and then a stored category stays.
#[tokio::test]
async fn a_category_may_be_left_out_only_by_a_batch_that_keeps_stored_values() {
    for b in backends().await {
        let s = start(Service::Protection, &b.url).await;
        let mut c = s.protection().await;
        let err = c
            .batch_upsert_cp_plans(plans_req("none", vec![plan("C1", "2018-04-01", "", "")]))
            .await
            .unwrap_err();
        assert_eq!(fields(&err), ["records[0].initial_category"], "{}", b.name);
        c.batch_upsert_cp_plans(plans_req(
            "census",
            vec![plan("C1", "2018-04-01", "", "NEG")],
        ))
        .await
        .unwrap();
        let mut payload = plans_req(
            "payload",
            vec![
                plan("C1", "2018-04-01", "2018-09-01", ""),
                plan("C2", "2018-04-01", "", ""),
            ],
        );
        payload.keep_stored = true;
        c.batch_upsert_cp_plans(payload).await.unwrap();
        let held = c
            .list_cp_plans(list_req(0, String::new()))
            .await
            .unwrap()
            .into_inner()
            .records;
        let c1 = held.iter().find(|p| p.child_id == "C1").unwrap();
        assert_eq!(
            (c1.initial_category.as_str(), c1.end_date.as_str()),
            ("NEG", "2018-09-01")
        );
        let c2 = held.iter().find(|p| p.child_id == "C2").unwrap();
        assert_eq!(c2.initial_category, "");
        s.stop().await;
    }
}

fn episode(child: &str, start: &str) -> pb::MissingEpisode {
    pb::MissingEpisode {
        la_code: "885".into(),
        child_id: child.into(),
        start_date: start.into(),
        kind: pb::AbsenceKind::Missing as i32,
        absent_from: pb::AbsentFrom::Home as i32,
        ..Default::default()
    }
}

#[tokio::test]
async fn records_round_trip_page_replay_and_delete() {
    for b in backends().await {
        let s = start(Service::Protection, &b.url).await;
        let mut c = s.protection().await;
        let mut returned = episode("C1", "2018-04-03");
        returned.start_time = "23:15".into();
        returned.end_date = "2018-04-04".into();
        returned.end_time = "07:00".into();
        returned.interview_offered_date = "2018-04-04".into();
        returned.interview_outcome = pb::InterviewOutcome::Accepted as i32;
        returned.interview_completed_date = "2018-04-06".into();
        returned.interview_completed_time = "16:30".into();
        let records = vec![
            returned.clone(),
            episode("C1", "2018-05-01"),
            episode("C2", "2018-04-03"),
            episode("C3", "2018-04-01"),
            episode("C3", "2018-04-02"),
        ];
        let req = pb::BatchUpsertMissingEpisodesRequest {
            request_id: "r-1".into(),
            records: records.clone(),
        };
        let first = c
            .batch_upsert_missing_episodes(req.clone())
            .await
            .unwrap()
            .into_inner();
        assert_eq!((first.received, first.written), (5, 5), "{}", b.name);
        // The same request again is answered from the log; the same records again change nothing.
        let replay = c
            .batch_upsert_missing_episodes(req)
            .await
            .unwrap()
            .into_inner();
        assert_eq!(replay, first);
        let again = c
            .batch_upsert_missing_episodes(pb::BatchUpsertMissingEpisodesRequest {
                request_id: "r-2".into(),
                records,
            })
            .await
            .unwrap()
            .into_inner();
        assert_eq!((again.written, again.unchanged), (0, 5));

        let got = c
            .get_missing_episode(pb::MissingEpisodeKey {
                la_code: "885".into(),
                child_id: "C1".into(),
                start_date: "2018-04-03".into(),
            })
            .await
            .unwrap()
            .into_inner();
        assert_eq!(got, returned);

        // Pages of two, in key order (child, then start), every record once.
        let pages = all_pages(|token| {
            let mut c = c.clone();
            async move {
                let page = c
                    .list_missing_episodes(list_req(2, token))
                    .await
                    .unwrap()
                    .into_inner();
                (page.records, page.next_page_token)
            }
        })
        .await;
        assert!(pages.iter().all(|p| p.len() <= 2));
        let seen: Vec<String> = pages
            .iter()
            .flatten()
            .map(|e| format!("{}@{}", e.child_id, e.start_date))
            .collect();
        assert_eq!(
            seen,
            [
                "C1@2018-04-03",
                "C1@2018-05-01",
                "C2@2018-04-03",
                "C3@2018-04-01",
                "C3@2018-04-02"
            ]
        );

        let key = pb::MissingEpisodeKey {
            la_code: "885".into(),
            child_id: "C3".into(),
            start_date: "2018-04-02".into(),
        };
        c.delete_missing_episode(key.clone()).await.unwrap();
        let gone = c.get_missing_episode(key.clone()).await.unwrap_err();
        assert_eq!(gone.code(), Code::NotFound);
        assert_eq!(
            c.delete_missing_episode(key).await.unwrap_err().code(),
            Code::NotFound
        );

        // Feedback: the catalogue's questions, and a response to one of them.
        let questions = c
            .list_feedback_questions(pb::ListFeedbackQuestionsRequest {})
            .await
            .unwrap()
            .into_inner()
            .questions;
        assert_eq!(questions.len(), QUESTIONS.len());
        let response = pb::FeedbackResponse {
            la_code: "885".into(),
            response_id: "F1".into(),
            question: questions[0].key.clone(),
            respondent: questions[0].respondent,
            response_date: "2018-04-30".into(),
            rating: pb::Rating::Positive as i32,
            child_id: "C1".into(),
        };
        c.batch_upsert_feedback(pb::BatchUpsertFeedbackRequest {
            request_id: String::new(),
            records: vec![response.clone()],
        })
        .await
        .unwrap();
        let got = c
            .get_feedback(pb::FeedbackKey {
                la_code: "885".into(),
                response_id: "F1".into(),
            })
            .await
            .unwrap()
            .into_inner();
        assert_eq!(got, response);
        s.stop().await;
    }
}

#[tokio::test]
async fn review_dates_accumulate_across_censuses_unless_replaced() {
    for b in backends().await {
        let s = start(Service::Protection, &b.url).await;
        let mut c = s.protection().await;
        let key = pb::PlanKey {
            la_code: "885".into(),
            child_id: "C1".into(),
            start_date: "2018-02-01".into(),
        };
        // The 2017-18 census lists the plan's review in March, the 2018-19 census its later ones.
        let mut p = plan("C1", "2018-02-01", "", "NEG");
        p.review_dates = vec!["2018-03-01".into()];
        c.batch_upsert_cp_plans(plans_req("", vec![p.clone()]))
            .await
            .unwrap();
        p.review_dates = vec!["2018-06-01".into(), "2018-12-01".into()];
        p.end_date = "2018-12-01".into();
        c.batch_upsert_cp_plans(plans_req("", vec![p.clone()]))
            .await
            .unwrap();
        let got = c.get_cp_plan(key.clone()).await.unwrap().into_inner();
        assert_eq!(
            got.review_dates,
            ["2018-03-01", "2018-06-01", "2018-12-01"],
            "{}",
            b.name
        );
        // The first review is the March one: the plan was not ended at its first review.
        let ms = c
            .compute_measures(cpb::ComputeMeasuresRequest {
                la_code: "885".into(),
                period: "2017-18-Q4".into(),
            })
            .await
            .unwrap()
            .into_inner();
        let m = ms
            .measures
            .iter()
            .find(|m| m.id == "protection.cp_first_review_ended")
            .unwrap();
        assert_eq!((m.numerator, m.denominator), (Some(0), Some(1)));

        // Sending the same again changes nothing.
        let r = c
            .batch_upsert_cp_plans(plans_req("", vec![p.clone()]))
            .await
            .unwrap()
            .into_inner();
        assert_eq!((r.written, r.unchanged), (0, 1));

        // An end date before a review already held is refused, naming the way out.
        p.review_dates = vec![];
        p.end_date = "2018-07-01".into();
        let err = c
            .batch_upsert_cp_plans(plans_req("", vec![p.clone()]))
            .await
            .unwrap_err();
        assert_eq!(fields(&err), ["records[0].end_date"]);
        assert!(
            err.get_details_bad_request().unwrap().field_violations[0]
                .description
                .contains("replace_reviews")
        );
        // With replace_reviews the plan's reviews are exactly those sent.
        p.review_dates = vec!["2018-03-01".into(), "2018-06-01".into()];
        c.batch_upsert_cp_plans(pb::BatchUpsertCpPlansRequest {
            request_id: String::new(),
            records: vec![p],
            replace_reviews: true,
            keep_stored: false,
        })
        .await
        .unwrap();
        let got = c.get_cp_plan(key).await.unwrap().into_inner();
        assert_eq!(got.review_dates, ["2018-03-01", "2018-06-01"]);
        assert_eq!(got.end_date, "2018-07-01");
        s.stop().await;
    }
}

fn write(dir: &std::path::Path, name: &str, text: &str) -> std::path::PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

fn tally(r: &ImportSummary, kind: &str) -> (u64, u64, u64, u64) {
    let t = r.tallies.get(kind).copied().unwrap_or_default();
    (t.received, t.accepted, t.unchanged, t.rejected)
}

fn measure<'a>(ms: &'a cpb::ComputeMeasuresResponse, id: &str) -> &'a cpb::Measure {
    ms.measures.iter().find(|m| m.id == id).unwrap()
}

#[tokio::test]
async fn missing_and_feedback_csv_report_bad_rows_and_land_good_ones() {
    let dir = tempfile::tempdir().unwrap();
    // Spreadsheet habits: a BOM, CRLF, day-first dates, columns in any order and case.
    let missing = write(
        dir.path(),
        "missing.csv",
        "\u{feff}Child_ID,kind,absent_from,start_date,start_time,end_date,end_time,interview_offered_date,interview_outcome,interview_completed_date,interview_completed_time\r\n\
         C1,M,home,02/04/2018,21:00,03/04/2018,08:00,03/04/2018,accepted,06/04/2018,08:00\r\n\
         C1,M,home,10/04/2018,,11/04/2018,08:00,11/04/2018,Accepted,14/04/2018,09:00\r\n\
         C2,A,care,2018-05-01,,2018-05-02,,,,,\r\n\
         C3,X,care,2018-05-01,,,,,,,\r\n\
         C4,M,school,2018-05-01,,,,,,,\r\n\
         C5,M,care,31/06/2018,,,,,,,\r\n\
         C6,M,care,2018-06-30,,,,,declined,,\r\n\
         C7,M,care,2018-06-30,,2018-06-29,,,,,\r\n\
         C8,M,care,2018-06-30,,,,,,,\r\n",
    );
    let feedback = write(
        dir.path(),
        "feedback.csv",
        "response_id,question,respondent,response_date,rating,child_id\n\
         F1,parent_concern_explained,parent,2018-04-02,positive,C1\n\
         F2,parent_concern_explained,parent,2018-04-20,negative,\n\
         F3,parent_concern_explained,professional,2018-04-21,positive,\n\
         F4,professional_conference_child_focused,Professional,01/05/2018,Positive,\n\
         F5,professional_conference_child_focused,professional,2018-05-02,great,\n\
         F6,Bad Key,parent,2018-05-02,neutral,\n",
    );
    for b in backends().await {
        let s = start(Service::Protection, &b.url).await;
        let mut c = s.protection().await;
        let mut report = ImportSummary::default();
        import_missing(&mut c, &missing, Some("885"), &mut report)
            .await
            .unwrap();
        assert_eq!(
            tally(&report, "missing episodes"),
            (9, 4, 0, 5),
            "{}",
            b.name
        );
        assert_row_refused(&report, 5, "kind", "\"x\"");
        assert_row_refused(&report, 6, "absent_from", "\"school\"");
        assert_row_refused(&report, 7, "start_date", "not a date");
        assert_row_refused(&report, 8, "interview_outcome", "offered");
        assert_row_refused(&report, 9, "end_date", "before");

        let mut fb = ImportSummary::default();
        import_feedback(&mut c, &feedback, Some("885"), &mut fb)
            .await
            .unwrap();
        assert_eq!(tally(&fb, "feedback responses"), (6, 3, 0, 3));
        assert_row_refused(&fb, 4, "respondent", "asked of a parent");
        assert_row_refused(&fb, 6, "rating", "\"great\"");
        assert_row_refused(&fb, 7, "question", "not a question key");

        // Re-importing changes nothing.
        let mut again = ImportSummary::default();
        import_missing(&mut c, &missing, Some("885"), &mut again)
            .await
            .unwrap();
        assert_eq!(tally(&again, "missing episodes"), (9, 0, 4, 5));

        let ms = c
            .compute_measures(cpb::ComputeMeasuresRequest {
                la_code: "885".into(),
                period: "2018-19-Q1".into(),
            })
            .await
            .unwrap()
            .into_inner();
        let m = measure(&ms, "protection.missing_episodes");
        assert_eq!(m.figure, Some(cpb::measure::Figure::Count(3)));
        let ri = measure(&ms, "protection.return_interviews");
        let row = |k: &str| {
            let r = ri.rows.iter().find(|r| r.key == k).unwrap();
            (r.numerator.unwrap(), r.denominator.unwrap())
        };
        // C1's two episodes ended in the period: the first interview at exactly 72 hours, the
        // second at 73.
        assert_eq!(row("offered"), (2, 2));
        assert_eq!(row("completed_within_72h"), (1, 2));
        let f = measure(&ms, "protection.feedback");
        let april = f
            .rows
            .iter()
            .find(|r| r.key == "parent_concern_explained.2018-04")
            .unwrap();
        assert_eq!((april.numerator, april.denominator), (Some(1), Some(2)));
        s.stop().await;
    }
}

// ---- measures through the store equal the definitions over all records ----------------------

struct Rng(u64);
impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

/// Six years of records for 80 children: repeat plans within and over two years, plans ending at
/// reviews, CIN plans beside CP plans, episodes from home and care with interviews on and off time.
fn dataset() -> ProtectionData {
    let la = LaCode::parse("885").unwrap();
    let base = NaiveDate::from_ymd_opt(2013, 4, 1).unwrap();
    let mut rng = Rng(0xc0ffee);
    let categories = ["NEG", "PHY", "SAB", "EMO", "MUL"];
    let mut d = ProtectionData::default();
    for c in 0..80 {
        let child = format!("C{c:02}");
        let mut start = base + Days::new(rng.below(1500));
        for k in 0..(1 + rng.below(3)) {
            let days = 20 + rng.below(900);
            let open = rng.below(5) == 0;
            let end = start + Days::new(days);
            let mut reviews: Vec<NaiveDate> =
                (1..=days / 90).map(|r| start + Days::new(r * 90)).collect();
            if !open && rng.below(3) == 0 {
                reviews.truncate(1);
                reviews.push(end); // ended at a review
                reviews.dedup();
            }
            d.cp_plans.push(CpPlan {
                la_code: la,
                child_id: child.clone(),
                start_date: start,
                end_date: (!open).then_some(end),
                initial_category: categories[rng.below(5) as usize].into(),
                latest_category: (rng.below(2) == 0)
                    .then(|| categories[rng.below(5) as usize].to_string()),
                previous_plans: [None, Some(0), Some(k as i32)][rng.below(3) as usize],
                review_dates: reviews,
            });
            if open {
                break;
            }
            start = end + Days::new(1 + rng.below(1000));
        }
        for _ in 0..rng.below(3) {
            let s = base + Days::new(rng.below(2000));
            d.cin_plans.push(CinPlan {
                la_code: la,
                child_id: child.clone(),
                start_date: s,
                end_date: (rng.below(3) > 0).then(|| s + Days::new(rng.below(500))),
            });
        }
        for _ in 0..rng.below(6) {
            let s = base + Days::new(rng.below(2100));
            let end = (rng.below(6) > 0).then(|| s + Days::new(rng.below(10)));
            let offered = end.is_some() && rng.below(4) > 0;
            let accepted = offered && rng.below(3) > 0;
            let completed = accepted
                .then(|| end.map(|e| e + Days::new(1 + rng.below(5))))
                .flatten();
            let time = |rng: &mut Rng| {
                (rng.below(2) == 0)
                    .then(|| NaiveTime::from_hms_opt(rng.below(24) as u32, 0, 0).unwrap())
            };
            let end_time = end.and_then(|_| time(&mut rng));
            d.missing.push(MissingEpisode {
                la_code: la,
                child_id: child.clone(),
                start_date: s,
                kind: if rng.below(3) == 0 {
                    AbsenceKind::Away
                } else {
                    AbsenceKind::Missing
                },
                absent_from: if rng.below(2) == 0 {
                    AbsentFrom::Home
                } else {
                    AbsentFrom::Care
                },
                start_time: None,
                end_date: end,
                end_time,
                interview_offered_date: offered.then(|| end.unwrap()),
                interview_outcome: match (offered, accepted) {
                    (false, _) => None,
                    (true, true) => Some(InterviewOutcome::Accepted),
                    (true, false) => Some(InterviewOutcome::Declined),
                },
                interview_completed_date: completed,
                interview_completed_time: completed
                    .and_then(|_| end_time.map(|t| t + chrono::TimeDelta::hours(1))),
            });
        }
    }
    for i in 0..400 {
        let q = &QUESTIONS[rng.below(QUESTIONS.len() as u64) as usize];
        d.feedback.push(Feedback {
            la_code: la,
            response_id: format!("F{i:04}"),
            question: q.key.into(),
            respondent: q.respondent,
            response_date: base + Days::new(rng.below(2100)),
            rating: [Rating::Positive, Rating::Neutral, Rating::Negative][rng.below(3) as usize],
            child_id: None,
        });
    }
    let key = |c: &str, s: NaiveDate| (c.to_owned(), s);
    d.cin_plans.sort_by_key(|p| key(&p.child_id, p.start_date));
    d.cin_plans
        .dedup_by(|a, b| a.child_id == b.child_id && a.start_date == b.start_date);
    d.missing.sort_by_key(|p| key(&p.child_id, p.start_date));
    d.missing
        .dedup_by(|a, b| a.child_id == b.child_id && a.start_date == b.start_date);
    d
}

#[tokio::test]
async fn service_measures_equal_the_definitions_over_all_records() {
    let data = dataset();
    assert!(data.cp_plans.len() > 100 && data.missing.len() > 100);
    for b in backends().await {
        let srv = start(Service::Protection, &b.url).await;
        let mut c = srv.protection().await;
        c.batch_upsert_cp_plans(plans_req("", protos(&data.cp_plans)))
            .await
            .unwrap();
        c.batch_upsert_cin_plans(pb::BatchUpsertCinPlansRequest {
            request_id: String::new(),
            keep_stored: false,
            records: protos(&data.cin_plans),
        })
        .await
        .unwrap();
        c.batch_upsert_missing_episodes(pb::BatchUpsertMissingEpisodesRequest {
            request_id: String::new(),
            records: protos(&data.missing),
        })
        .await
        .unwrap();
        c.batch_upsert_feedback(pb::BatchUpsertFeedbackRequest {
            request_id: String::new(),
            records: protos(&data.feedback),
        })
        .await
        .unwrap();

        let mut nonzero = 0;
        for id in [
            "2014-15",
            "2016-17",
            "2018-19",
            "2014-15-Q2",
            "2015-16-Q1",
            "2016-17-Q3",
            "2017-18-Q4",
            "2019-20-Q1",
        ] {
            let period: Period = id.parse().unwrap();
            let expected = domain::compute(&period, &data);
            let got = c
                .compute_measures(cpb::ComputeMeasuresRequest {
                    la_code: "885".into(),
                    period: id.into(),
                })
                .await
                .unwrap()
                .into_inner();
            let got: Vec<_> = got.measures.iter().map(measure_from_proto).collect();
            assert_eq!(got.len(), expected.len());
            for (g, e) in got.iter().zip(&expected) {
                assert_eq!(g, e, "{id} {} on {}", e.id, b.name);
                if e.numerator.is_some_and(|n| n > 0) {
                    nonzero += 1;
                }
            }
        }
        assert!(nonzero > 20, "the data reach the ratios' numerators");
        srv.stop().await;
    }
}

#[tokio::test]
async fn the_903_missing_table_imports_as_episodes_from_care() {
    let sample = csc_e2e::sample("ssda903/missing.csv");
    let text = std::fs::read_to_string(&sample).unwrap();
    // An independent count of the sample: missing (M) episodes starting in 2017-18.
    let naive_m_2017_18 = text
        .lines()
        .skip(1)
        .filter(|l| {
            let f: Vec<&str> = l.split(',').collect();
            let start = NaiveDate::parse_from_str(f[3], "%d/%m/%Y").unwrap();
            f[2] == "M"
                && start >= NaiveDate::from_ymd_opt(2017, 4, 1).unwrap()
                && start <= NaiveDate::from_ymd_opt(2018, 3, 31).unwrap()
        })
        .count() as i64;
    let rows = text.lines().count() as u64 - 1;
    // The same layout with one bad start date, named by the file's own column.
    let dir = tempfile::tempdir().unwrap();
    let bad = write(
        dir.path(),
        "missing-903.csv",
        &format!("{text}999999,01/01/2005,M,32/01/2018,\n"),
    );
    for b in backends().await {
        let s = start(Service::Protection, &b.url).await;
        let mut c = s.protection().await;
        let mut report = ImportSummary::default();
        import_missing(&mut c, &sample, Some("885"), &mut report)
            .await
            .unwrap();
        assert_eq!(
            tally(&report, "missing episodes"),
            (rows, rows, 0, 0),
            "{}",
            b.name
        );
        let listed = c
            .list_missing_episodes(list_req(0, String::new()))
            .await
            .unwrap()
            .into_inner();
        assert!(
            listed
                .records
                .iter()
                .all(|e| e.absent_from == pb::AbsentFrom::Care as i32)
        );
        let ms = c
            .compute_measures(cpb::ComputeMeasuresRequest {
                la_code: "885".into(),
                period: "2017-18".into(),
            })
            .await
            .unwrap()
            .into_inner();
        let m = measure(&ms, "protection.missing_episodes");
        assert_eq!(m.figure, Some(cpb::measure::Figure::Count(naive_m_2017_18)));
        let care = m.rows.iter().find(|r| r.key == "care").unwrap();
        assert_eq!(
            care.figure,
            Some(cpb::measure_row::Figure::Count(naive_m_2017_18))
        );

        let mut again = ImportSummary::default();
        import_missing(&mut c, &bad, Some("885"), &mut again)
            .await
            .unwrap();
        assert_eq!(tally(&again, "missing episodes"), (rows + 1, 0, rows, 1));
        assert_row_refused(&again, rows as u32 + 2, "MIS_START", "not a date");
        s.stop().await;
    }
}
