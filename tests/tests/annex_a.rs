//! Ofsted Annex A next to the CIN census, end to end on every backend: a batch sent with
//! `keep_stored` fills only what it leaves empty, and a generated county's Annex A imported after
//! its censuses, or before them, gives the census's own front-door and protection figures for
//! the Annex A's months, plus its contacts.

use chrono::NaiveDate;
use csc::import::{ImportSummary, annex_a, import_cin};
use csc_e2e::{Backend, backends, start};
use csc_proto::{common as cpb, frontdoor as pb, protection as ppb};

async fn suite(b: &Backend, name: &str) -> (csc_e2e::Running, csc_e2e::Running, csc_e2e::Running) {
    let fd = start(
        csc::serve::Service::Frontdoor,
        &b.another(&format!("{name}_frontdoor")).await,
    )
    .await;
    let prot = start(
        csc::serve::Service::Protection,
        &b.another(&format!("{name}_protection")).await,
    )
    .await;
    let cla = start(
        csc::serve::Service::Placements,
        &b.another(&format!("{name}_placements")).await,
    )
    .await;
    (fd, prot, cla)
}

#[tokio::test]
async fn keep_stored_fills_only_what_the_batch_leaves_empty() {
    for b in backends().await {
        let (fd, prot, cla) = suite(&b, "keep").await;
        let mut c = fd.client().await;
        let census = pb::Assessment {
            la_code: "885".into(),
            child_id: "C1".into(),
            start_date: "2024-05-02".into(),
            referral_date: "2024-04-30".into(),
            authorisation_date: "2024-06-01".into(),
            factors: vec!["21".into(), "11A".into()],
            outcome: 0,
            closure_reason: "RC8".into(),
        };
        let send = |keep_stored: bool, r: pb::Assessment| pb::BatchUpsertAssessmentsRequest {
            request_id: uuid::Uuid::new_v4().to_string(),
            records: vec![r],
            keep_stored,
        };
        c.batch_upsert_assessments(send(false, census.clone()))
            .await
            .unwrap();
        // Annex A's view: no factors, no closure reason, a referral date it inferred, an
        // explicit outcome.
        let annex = pb::Assessment {
            referral_date: "2024-05-02".into(),
            factors: vec![],
            outcome: pb::AssessmentOutcome::Nfa as i32,
            closure_reason: String::new(),
            ..census.clone()
        };
        let r = c
            .batch_upsert_assessments(send(true, annex.clone()))
            .await
            .unwrap()
            .into_inner();
        assert_eq!((r.written, r.unchanged), (1, 0), "{}", b.name);
        let key = pb::AssessmentKey {
            la_code: "885".into(),
            child_id: "C1".into(),
            start_date: "2024-05-02".into(),
        };
        let held = c.get_assessment(key.clone()).await.unwrap().into_inner();
        let mut factors = held.factors.clone();
        factors.sort();
        assert_eq!(factors, ["11A", "21"], "{}", b.name);
        assert_eq!(held.closure_reason, "RC8");
        assert_eq!(held.referral_date, "2024-04-30");
        assert_eq!(held.outcome, pb::AssessmentOutcome::Nfa as i32);
        // The same batch again changes nothing; without keep_stored it clears what it lacks.
        let r = c
            .batch_upsert_assessments(send(true, annex.clone()))
            .await
            .unwrap()
            .into_inner();
        assert_eq!((r.written, r.unchanged), (0, 1));
        c.batch_upsert_assessments(send(false, annex))
            .await
            .unwrap();
        let held = c.get_assessment(key).await.unwrap().into_inner();
        assert!(held.factors.is_empty() && held.closure_reason.is_empty());

        // An S47 enquiry keeps the census's referral date and ICPC target; Annex A's ICPC lands.
        let census_s47 = pb::Section47Enquiry {
            la_code: "885".into(),
            child_id: "C1".into(),
            start_date: "2024-05-06".into(),
            referral_date: "2024-04-30".into(),
            icpc_target_date: "2024-05-28".into(),
            icpc_date: String::new(),
            icpc_not_required: false,
        };
        let s47 =
            |keep_stored: bool, r: pb::Section47Enquiry| pb::BatchUpsertSection47EnquiriesRequest {
                request_id: uuid::Uuid::new_v4().to_string(),
                records: vec![r],
                keep_stored,
            };
        c.batch_upsert_section47_enquiries(s47(false, census_s47.clone()))
            .await
            .unwrap();
        c.batch_upsert_section47_enquiries(s47(
            true,
            pb::Section47Enquiry {
                referral_date: "2024-05-02".into(),
                icpc_target_date: String::new(),
                icpc_date: "2024-05-20".into(),
                ..census_s47.clone()
            },
        ))
        .await
        .unwrap();
        let held = c
            .get_section47_enquiry(pb::Section47EnquiryKey {
                la_code: "885".into(),
                child_id: "C1".into(),
                start_date: "2024-05-06".into(),
            })
            .await
            .unwrap()
            .into_inner();
        assert_eq!(
            (
                held.referral_date.as_str(),
                held.icpc_target_date.as_str(),
                held.icpc_date.as_str()
            ),
            ("2024-04-30", "2024-05-28", "2024-05-20"),
            "{}",
            b.name
        );

        // A CP plan keeps its stored end, latest category, previous plans and reviews.
        let mut p = prot.protection().await;
        let plan = ppb::CpPlan {
            la_code: "885".into(),
            child_id: "C1".into(),
            start_date: "2024-06-10".into(),
            end_date: "2025-01-10".into(),
            initial_category: "NEG".into(),
            latest_category: "EMO".into(),
            previous_plans: Some(2),
            review_dates: vec!["2024-09-01".into(), "2024-12-01".into()],
        };
        let plans = |keep_stored: bool, r: ppb::CpPlan| ppb::BatchUpsertCpPlansRequest {
            request_id: uuid::Uuid::new_v4().to_string(),
            records: vec![r],
            replace_reviews: false,
            keep_stored,
        };
        p.batch_upsert_cp_plans(plans(false, plan.clone()))
            .await
            .unwrap();
        let r = p
            .batch_upsert_cp_plans(plans(
                true,
                ppb::CpPlan {
                    end_date: String::new(),
                    latest_category: String::new(),
                    previous_plans: None,
                    review_dates: vec!["2024-12-01".into()],
                    ..plan.clone()
                },
            ))
            .await
            .unwrap()
            .into_inner();
        assert_eq!((r.written, r.unchanged), (0, 1), "{}", b.name);

        // A CLA review with its date only (List 8) keeps the 903's review code.
        let mut l = csc::client::connect_placements(&cla.addr).await.unwrap();
        let review =
            |code: &str, keep_stored: bool| csc_proto::placements::BatchUpsertReviewsRequest {
                request_id: uuid::Uuid::new_v4().to_string(),
                records: vec![csc_proto::placements::Review {
                    la_code: "885".into(),
                    child_id: "C1".into(),
                    review_date: "2024-10-01".into(),
                    review_code: code.into(),
                }],
                keep_stored,
            };
        l.batch_upsert_reviews(review("PN1", false)).await.unwrap();
        let r = l
            .batch_upsert_reviews(review("", true))
            .await
            .unwrap()
            .into_inner();
        assert_eq!((r.written, r.unchanged), (0, 1), "{}", b.name);
        fd.stop().await;
        prot.stop().await;
        cla.stop().await;
    }
}

/// Every front-door and protection measure of each quarter, as (period, measure, value).
async fn figures(
    c: &mut csc::import::CinClients,
    quarters: &[String],
) -> Vec<(String, String, Option<f64>)> {
    let mut out = Vec::new();
    for q in quarters {
        let req = || cpb::ComputeMeasuresRequest {
            la_code: "885".into(),
            period: q.clone(),
        };
        let mut measures = c
            .frontdoor
            .compute_measures(req())
            .await
            .unwrap()
            .into_inner()
            .measures;
        measures.extend(
            c.protection
                .compute_measures(req())
                .await
                .unwrap()
                .into_inner()
                .measures,
        );
        out.extend(csc_e2e::figures(q, &measures));
    }
    out
}

/// The figures the census holds: not those resting on contacts or early help (Annex A only).
fn census_figures(f: &[(String, String, Option<f64>)]) -> Vec<(String, String, Option<f64>)> {
    f.iter()
        .filter(|(_, id, _)| {
            !id.starts_with("frontdoor.contacts")
                && !id.starts_with("frontdoor.early_help_assessments")
                && !id.starts_with("frontdoor.nfa_children_previous_contact")
        })
        .cloned()
        .collect()
}

/// The rows of a list whose `column` is dated in `[from, to]`, counted straight from the workbook.
fn rows_dated(
    path: &std::path::Path,
    sheet: &str,
    column: &str,
    from: NaiveDate,
    to: NaiveDate,
) -> usize {
    use calamine::{Data, Reader};
    let mut book = calamine::open_workbook_auto(path).unwrap();
    let range = book.worksheet_range(sheet).unwrap();
    let header = range
        .rows()
        .position(|r| r.iter().any(|c| *c == Data::String(column.into())))
        .unwrap();
    let col = range
        .rows()
        .nth(header)
        .unwrap()
        .iter()
        .position(|c| *c == Data::String(column.into()))
        .unwrap();
    range
        .rows()
        .skip(header + 1)
        .filter_map(|r| match &r[col] {
            Data::DateTime(d) => d.as_datetime().map(|t| t.date()),
            _ => None,
        })
        .filter(|d| *d >= from && *d <= to)
        .count()
}

#[tokio::test]
async fn census_and_annex_a_in_either_order_give_the_census_figures_plus_contacts() {
    let dir = tempfile::tempdir().unwrap();
    let until = NaiveDate::from_ymd_opt(2026, 9, 30).unwrap();
    csc::generate::generate(
        &csc::generate::Config {
            la: "885".into(),
            children: 20_000,
            years: 2,
            seed: 7,
            until,
        },
        dir.path(),
    )
    .unwrap();
    let mut censuses: Vec<_> = std::fs::read_dir(dir.path().join("cin"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    censuses.sort();
    let workbook = dir.path().join("annex_a.xlsx");
    // The Annex A holds 1 October 2025 to 30 September 2026.
    let quarters: Vec<String> = ["2025-26-Q3", "2025-26-Q4", "2026-27-Q1", "2026-27-Q2"]
        .map(String::from)
        .to_vec();
    for b in backends().await {
        let mut runs = Vec::new();
        for (name, annex_first, census, annex) in [
            ("census", false, true, false),
            ("census_then_annex", false, true, true),
            ("annex_then_census", true, true, true),
        ] {
            let (fd, prot, cla) = suite(&b, name).await;
            let mut c = csc::import::CinClients {
                frontdoor: fd.client().await,
                protection: prot.protection().await,
            };
            let mut report = ImportSummary::default();
            let annex_a = async |c: &mut csc::import::CinClients, report: &mut ImportSummary| {
                annex_a::import(c, &cla.addr, &workbook, "885", report)
                    .await
                    .unwrap();
                // Sending the same Annex A again changes nothing.
                let mut again = ImportSummary::default();
                annex_a::import(c, &cla.addr, &workbook, "885", &mut again)
                    .await
                    .unwrap();
                for (kind, t) in &again.tallies {
                    assert_eq!(t.accepted, 0, "{name} {kind} on {}", b.name);
                }
            };
            if annex && annex_first {
                annex_a(&mut c, &mut report).await;
            }
            if census {
                for f in &censuses {
                    import_cin(&mut c, f, Some("885"), &mut report)
                        .await
                        .unwrap();
                }
            }
            if annex && !annex_first {
                annex_a(&mut c, &mut report).await;
            }
            assert!(
                report.is_clean(),
                "{name} on {}: {}",
                b.name,
                report.render()
            );
            runs.push((name, figures(&mut c, &quarters).await));
            fd.stop().await;
            prot.stop().await;
            cla.stop().await;
        }
        let census = census_figures(&runs[0].1);
        assert!(
            census
                .iter()
                .any(|(_, id, v)| id == "frontdoor.referrals" && v.unwrap_or(0.0) > 0.0)
        );
        for (name, f) in &runs[1..] {
            let f2 = census_figures(f);
            let differ: Vec<_> = f2
                .iter()
                .zip(&census)
                .filter(|(a, b)| a != b)
                .take(5)
                .collect();
            assert!(
                differ.is_empty() && f2.len() == census.len(),
                "{name} on {}: (with Annex A, census alone) {differ:?}",
                b.name
            );
            // The contacts are List 1's, counted naively.
            for q in &quarters {
                let p: csc_core::Period = q.parse().unwrap();
                let held = f
                    .iter()
                    .find(|(per, id, _)| per == q && id == "frontdoor.contacts")
                    .and_then(|(_, _, v)| *v)
                    .unwrap();
                assert_eq!(
                    held as usize,
                    rows_dated(&workbook, "List 1", "Date of Contact", p.start(), p.end()),
                    "{name} {q} on {}",
                    b.name
                );
                // Early help assessments (List 2) started in the quarter, likewise.
                let early_help = f
                    .iter()
                    .find(|(per, id, _)| per == q && id == "frontdoor.early_help_assessments")
                    .and_then(|(_, _, v)| *v)
                    .unwrap();
                let listed = rows_dated(
                    &workbook,
                    "List 2",
                    "Assessment start date",
                    p.start(),
                    p.end(),
                );
                assert!(listed > 0, "{q}: the generated List 2 has rows");
                assert_eq!(early_help as usize, listed, "{name} {q} on {}", b.name);
            }
        }
    }
}
