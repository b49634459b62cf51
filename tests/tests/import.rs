//! Importers end to end: the shared CIN census samples and the local CSV formats, through the
//! front door's API, on every backend.

use csc::import::{ImportSummary, import_cin, import_contacts, import_strategy};
use csc_e2e::{CinSuite, backends, sample, start_frontdoor};
use csc_proto::common as cpb;

fn tally(r: &ImportSummary, kind: &str) -> (u64, u64, u64, u64) {
    let t = r.tallies.get(kind).copied().unwrap_or_default();
    (t.received, t.accepted, t.unchanged, t.rejected)
}

#[tokio::test]
async fn cin_sample_reports_each_invalid_value_keeps_valid_records_and_reimports_unchanged() {
    for b in backends().await {
        let s = CinSuite::start(&b).await;
        let mut c = s.clients().await;
        let file = sample("cin/CIN_Census_2024.xml");
        let mut first = ImportSummary::default();
        import_cin(&mut c, &file, None, &mut first).await.unwrap();
        assert_eq!(tally(&first, "referrals"), (2, 2, 0, 0), "{}", b.name);
        assert_eq!(tally(&first, "assessments"), (2, 1, 0, 1));
        assert_eq!(tally(&first, "section 47 enquiries"), (1, 1, 0, 0));
        // The same pass sends the plans to child protection.
        assert_eq!(tally(&first, "CIN plans"), (1, 1, 0, 0));
        assert_eq!(tally(&first, "CP plans"), (1, 1, 0, 0));
        let reasons: Vec<(String, String)> = first
            .rejected
            .iter()
            .map(|p| (p.source.clone(), p.reason.clone()))
            .collect();
        assert_eq!(reasons.len(), 2);
        assert!(
            reasons[0]
                .0
                .ends_with("Child[1]/CINdetails[1]/Assessments[1]/AssessmentAuthorisationDate"),
            "{reasons:?}"
        );
        assert!(reasons[0].1.contains("before the assessment's start date"));
        assert!(
            reasons[1]
                .0
                .ends_with("FactorsIdentifiedAtAssessment/AssessmentFactors[2]")
        );
        assert!(reasons[1].1.contains("\"RB\""));
        assert!(first.rejected.iter().all(|p| p.child_id == "DfEX0000001"));
        assert!(
            first
                .warnings
                .iter()
                .any(|w| w.reason.contains("PersonBirthDate") && w.child_id == "DfEX0000001")
        );

        // The valid assessment of the second child landed, filed under the header's LEA.
        let listed = c
            .frontdoor
            .list_assessments(cpb::ListRequest {
                la_code: "201".into(),
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner();
        assert_eq!(listed.records.len(), 1);
        assert_eq!(listed.records[0].child_id, "child_fails_assessments");
        assert_eq!(listed.records[0].closure_reason, "RC9");

        // Importing the same file again changes nothing.
        let mut second = ImportSummary::default();
        import_cin(&mut c, &file, None, &mut second).await.unwrap();
        assert_eq!(tally(&second, "referrals"), (2, 0, 2, 0));
        assert_eq!(tally(&second, "assessments"), (2, 0, 1, 1));
        assert_eq!(tally(&second, "ICPCs"), (1, 0, 1, 0));
        assert_eq!(tally(&second, "CP plans"), (1, 0, 1, 0));
        let plan = c
            .protection
            .get_cp_plan(csc_proto::protection::PlanKey {
                la_code: "201".into(),
                child_id: "DfEX0000001".into(),
                start_date: "2022-02-17".into(),
            })
            .await
            .unwrap()
            .into_inner();
        assert_eq!(plan.end_date, "2023-03-14");
        assert_eq!(plan.previous_plans, Some(10));
        assert_eq!(plan.review_dates, ["2023-02-15"]);

        // --la that disagrees with the header's LEA refuses the file: nothing lands under 885.
        let mut third = ImportSummary::default();
        import_cin(
            &mut c,
            &sample("cin/CIN_Census_2021.xml"),
            Some("885"),
            &mut third,
        )
        .await
        .unwrap();
        assert_eq!(third.refused_files.len(), 1, "{:?}", third.refused_files);
        assert!(
            third.refused_files[0]
                .1
                .contains("LEA is 201 and --la is 885")
        );
        assert!(!third.is_clean());
        let in_885 = c
            .frontdoor
            .list_referrals(cpb::ListRequest {
                la_code: "885".into(),
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner();
        assert_eq!(in_885.records.len(), 0);
        s.stop().await;
    }
}

/// A deliberately naive reading of the CIN file, independent of the importer: each child's
/// referral dates, sources and NFA flags, by string search.
fn naive_referrals(xml: &str) -> Vec<(String, String, String, bool)> {
    let between = |s: &str, tag: &str| -> Option<String> {
        let open = format!("<{tag}>");
        let i = s.find(&open)? + open.len();
        let j = s[i..].find(&format!("</{tag}>"))? + i;
        Some(s[i..j].trim().to_owned())
    };
    let mut out = Vec::new();
    for child in xml.split("<Child>").skip(1) {
        let id = between(child, "LAchildID").unwrap();
        for ep in child.split("<CINdetails>").skip(1) {
            let date = between(ep, "CINreferralDate").unwrap();
            let source = between(ep, "ReferralSource").unwrap();
            let nfa = matches!(between(ep, "ReferralNFA").as_deref(), Some("true" | "1"));
            out.push((id.clone(), date, source, nfa));
        }
    }
    out
}

#[tokio::test]
async fn measures_of_the_synthetic_census_match_an_independent_count() {
    for b in backends().await {
        let s = CinSuite::start(&b).await;
        let mut c = s.clients().await;
        let file = sample("cin/fake_CIN_data.xml");
        let mut report = ImportSummary::default();
        // Its header's LEA, 975, is no English LA: the file is filed under --la, with a warning.
        let mut refused = ImportSummary::default();
        import_cin(&mut c, &file, None, &mut refused).await.unwrap();
        assert!(
            refused.refused_files[0]
                .1
                .contains("unknown LA code \"975\"")
        );
        import_cin(&mut c, &file, Some("885"), &mut report)
            .await
            .unwrap();
        assert!(report.rejected.is_empty(), "{:?}", report.rejected);
        assert!(
            report
                .warnings
                .iter()
                .any(|w| w.reason.contains("LEA \"975\" is not an English LA code"))
        );
        let naive = naive_referrals(&std::fs::read_to_string(&file).unwrap());
        assert_eq!(tally(&report, "referrals").1 as usize, naive.len());

        for period in [
            "2021-22",
            "2021-22-Q1",
            "2020-21-Q4",
            "2019-20",
            "2017-18-Q3",
        ] {
            let doc = csc::measures::fetch_frontdoor(&s.frontdoor.addr, "885", period)
                .await
                .unwrap();
            let p: csc_core::Period = period.parse().unwrap();
            let (start, end) = (p.start().to_string(), p.end().to_string());
            let in_p: Vec<_> = naive
                .iter()
                .filter(|r| r.1 >= start && r.1 <= end)
                .collect();
            let value = |id: &str| doc.measures.iter().find(|m| m.id == id).unwrap();
            let count = |id: &str| value(id).value.map(|v| v.as_f64() as usize);
            assert_eq!(
                count("frontdoor.referrals"),
                Some(in_p.len()),
                "{period} on {}",
                b.name
            );
            assert_eq!(
                value("frontdoor.referrals_nfa").numerator,
                Some(in_p.iter().filter(|r| r.3).count() as i64)
            );
            // Re-referrals: another referral of the child in [d − 12 months, d).
            let rereferrals = in_p
                .iter()
                .filter(|r| {
                    let d = csc_core::parse_date(&r.1).unwrap();
                    let from = csc_core::sub_months(d, 12);
                    naive.iter().any(|o| {
                        o.0 == r.0 && {
                            let d0 = csc_core::parse_date(&o.1).unwrap();
                            from <= d0 && d0 < d
                        }
                    })
                })
                .count();
            assert_eq!(
                value("frontdoor.rereferrals_12m").numerator,
                Some(rereferrals as i64),
                "{period}"
            );
            let police = in_p.iter().filter(|r| r.2 == "6").count() as f64;
            let row = value("frontdoor.referrals_by_source")
                .row("police")
                .unwrap()
                .value
                .unwrap()
                .as_f64();
            assert_eq!(row, police);
        }
        s.stop().await;
    }
}

#[tokio::test]
async fn contacts_and_strategy_csv_report_bad_rows_by_line_and_column_and_land_the_rest() {
    for b in backends().await {
        let s = start_frontdoor(&b.url).await;
        let mut c = s.client().await;
        let dir = tempfile::tempdir().unwrap();
        let contacts = dir.path().join("contacts.csv");
        std::fs::write(
            &contacts,
            "\u{feff}Contact_ID,child_id,contact_date,source,became_referral\r\n\
             K1,C1,01/04/2018,6,N\r\n\
             K2,C1,2018-04-02,2A,Y\r\n\
             K3,C2,2018-13-01,6,N\r\n\
             K4,C2,2018-04-03,3Z,N\r\n\
             K5,,2018-04-03,6,N\r\n\
             K6,C3,2018-04-04,6,maybe\r\n\
             K7,C3,2018-07-01,6,no\r\n\
             K8,C4,2018-13-01,6,maybe\r\n",
        )
        .unwrap();
        let mut r = ImportSummary::default();
        import_contacts(&mut c, &contacts, Some("885"), &mut r)
            .await
            .unwrap();
        assert_eq!(
            tally(&r, "contacts"),
            (8, 3, 0, 5),
            "{}: {:?}",
            b.name,
            r.rejected
        );
        csc_e2e::assert_row_refused(&r, 4, "contact_date", "not a date");
        csc_e2e::assert_row_refused(&r, 5, "source", "3Z");
        csc_e2e::assert_row_refused(&r, 6, "child_id", "required");
        csc_e2e::assert_row_refused(&r, 7, "became_referral", "maybe");
        // A row with two bad columns is one rejected record, with both problems listed.
        csc_e2e::assert_row_refused(&r, 9, "contact_date", "not a date");
        csc_e2e::assert_row_refused(&r, 9, "became_referral", "maybe");

        let strategy = dir.path().join("strategy.csv");
        std::fs::write(
            &strategy,
            "la_code,child_id,discussion_date,invited,attended\n\
             885,C1,2018-04-03,police;health;education,health\n\
             885,C2,2018-04-04,police|health,police|health\n\
             885,C3,2018-04-05,police;fire brigade,police\n\
             886,C4,2018-04-05,police,police\n",
        )
        .unwrap();
        let mut r = ImportSummary::default();
        import_strategy(&mut c, &strategy, Some("885"), &mut r)
            .await
            .unwrap();
        // The 886 row is another LA's: --la 885 leaves it out, and the summary says so.
        assert_eq!(tally(&r, "strategy discussions"), (3, 2, 0, 1));
        assert!(
            r.rejected
                .iter()
                .any(|p| p.source.ends_with("line 4 column invited")
                    && p.reason.contains("fire brigade"))
        );
        assert!(
            r.notes
                .iter()
                .any(|n| n.contains("rows for other LAs left out") && n.contains("886 (1 rows)")),
            "{:?}",
            r.notes
        );

        let doc = csc::measures::fetch_frontdoor(&s.addr, "885", "2018-19-Q1")
            .await
            .unwrap();
        let m = |id: &str| doc.measures.iter().find(|m| m.id == id).unwrap().clone();
        assert_eq!(m("frontdoor.contacts").value.unwrap().as_f64(), 2.0);
        assert_eq!(
            m("frontdoor.strategy_discussions").value.unwrap().as_f64(),
            2.0
        );
        let police = m("frontdoor.strategy_attendance")
            .row("police")
            .unwrap()
            .clone();
        assert_eq!((police.numerator, police.denominator), (Some(1), Some(2)));

        // Re-importing changes nothing.
        let mut again = ImportSummary::default();
        import_contacts(&mut c, &contacts, Some("885"), &mut again)
            .await
            .unwrap();
        assert_eq!(tally(&again, "contacts"), (8, 0, 3, 5));
        s.stop().await;
    }
}
