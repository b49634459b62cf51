//! The looked-after children service end to end, on every backend: validation (nothing of a bad
//! batch applied), the 903 import (CSV folder, XML, several years in turn), care-history warnings,
//! and measures through the store equal to the definitions over every record.

use csc::import::ImportSummary;
use csc::import::ssda903::{self, Clients903};
use csc::serve::Service;
use csc_core::Period;
use csc_core::measure::testing::count;
use csc_e2e::{Backend, Running, all_pages, assert_row_refused, backends, sample, start};
use csc_placements::domain::{self, PlacementsData};
use csc_proto::{common as cpb, placements as pb};
use csc_runtime::convert::measure_from_proto;
use tonic::Code;
use tonic_types::StatusExt;

fn tally(r: &ImportSummary, kind: &str) -> (u64, u64, u64, u64) {
    let t = r.tallies.get(kind).copied().unwrap_or_default();
    (t.received, t.accepted, t.unchanged, t.rejected)
}

fn episode(child: &str, decom: &str) -> pb::Episode {
    pb::Episode {
        la_code: "885".into(),
        child_id: child.into(),
        decom: decom.into(),
        rne: "S".into(),
        legal_status: "C2".into(),
        place: "U4".into(),
        ..Default::default()
    }
}

/// The placements service and child protection (for the 903's missing episodes).
struct Suite {
    placements: Running,
    protection: Running,
}

impl Suite {
    async fn start(b: &Backend) -> Self {
        Self {
            placements: start(Service::Placements, &b.url).await,
            protection: start(Service::Protection, &b.another("protection").await).await,
        }
    }

    async fn clients(&self) -> Clients903 {
        Clients903::connect(&csc::ClientAddrs {
            protection: self.protection.addr.clone(),
            placements: self.placements.addr.clone(),
            ..csc::ClientAddrs::default()
        })
        .await
        .unwrap()
    }

    async fn stop(self) {
        self.placements.stop().await;
        self.protection.stop().await;
    }
}

async fn measures(
    c: &mut csc::client::PlacementsClient,
    la: &str,
    period: &str,
) -> Vec<csc_core::Measure> {
    c.compute_measures(cpb::ComputeMeasuresRequest {
        la_code: la.into(),
        period: period.into(),
    })
    .await
    .unwrap()
    .into_inner()
    .measures
    .iter()
    .map(measure_from_proto)
    .collect()
}

#[tokio::test]
async fn bad_episodes_are_refused_whole_with_field_violations() {
    for b in backends().await {
        let s = start(Service::Placements, &b.url).await;
        let mut c = csc::client::connect_placements(&s.addr).await.unwrap();
        let mut bad_place = episode("C2", "2018-04-01");
        bad_place.place = "Q9".into();
        let mut ends_before = episode("C3", "2018-04-01");
        ends_before.dec = "2018-03-01".into();
        ends_before.rec = "E11".into();
        let mut bad_rne = episode("C4", "2018-04-01");
        bad_rne.rne = "Z".into();
        let err = c
            .batch_upsert_episodes(pb::BatchUpsertEpisodesRequest {
                request_id: "bad".into(),
                records: vec![episode("C1", "2018-04-01"), bad_place, ends_before, bad_rne],
                ..Default::default()
            })
            .await
            .unwrap_err();
        assert_eq!(err.code(), Code::InvalidArgument, "{}", b.name);
        let fields: Vec<String> = err
            .get_details_bad_request()
            .unwrap()
            .field_violations
            .into_iter()
            .map(|v| v.field)
            .collect();
        assert_eq!(
            fields,
            ["records[1].place", "records[2].dec", "records[3].rne"]
        );
        let listed = c
            .list_episodes(cpb::ListRequest {
                la_code: "885".into(),
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner();
        assert!(listed.records.is_empty());
        s.stop().await;
    }
}

/// A 903 episode names its legal status and placement type; only a batch that keeps stored
/// values (the DfE CSC API payload's, which has neither) may leave them out, and then the stored
/// ones stay.
#[tokio::test]
async fn legal_status_and_placement_may_be_left_out_only_by_a_batch_that_keeps_stored_values() {
    for b in backends().await {
        let s = start(Service::Placements, &b.url).await;
        let mut c = csc::client::connect_placements(&s.addr).await.unwrap();
        let mut bare = episode("C1", "2018-04-01");
        bare.legal_status = String::new();
        bare.place = String::new();
        let err = c
            .batch_upsert_episodes(pb::BatchUpsertEpisodesRequest {
                request_id: String::new(),
                records: vec![bare.clone()],
                keep_stored: false,
            })
            .await
            .unwrap_err();
        let fields: Vec<String> = err
            .get_details_bad_request()
            .unwrap()
            .field_violations
            .into_iter()
            .map(|v| v.field)
            .collect();
        assert_eq!(
            fields,
            ["records[0].legal_status", "records[0].place"],
            "{}",
            b.name
        );
        // A 903's episode, then the payload's of the same start: its legal status and placement
        // stay, its end comes from the payload.
        c.batch_upsert_episodes(pb::BatchUpsertEpisodesRequest {
            request_id: String::new(),
            records: vec![episode("C1", "2018-04-01")],
            keep_stored: false,
        })
        .await
        .unwrap();
        let mut ended = bare.clone();
        ended.dec = "2018-06-01".into();
        ended.rec = "E11".into();
        c.batch_upsert_episodes(pb::BatchUpsertEpisodesRequest {
            request_id: String::new(),
            records: vec![ended, {
                let mut new = bare.clone();
                new.child_id = "C2".into();
                new
            }],
            keep_stored: true,
        })
        .await
        .unwrap();
        let held = c
            .list_episodes(cpb::ListRequest {
                la_code: "885".into(),
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner()
            .records;
        let c1 = held.iter().find(|e| e.child_id == "C1").unwrap();
        let want = episode("C1", "2018-04-01");
        assert_eq!(
            (c1.legal_status.as_str(), c1.place.as_str()),
            (want.legal_status.as_str(), want.place.as_str())
        );
        assert_eq!((c1.dec.as_str(), c1.rec.as_str()), ("2018-06-01", "E11"));
        // First known from such a batch: held with them not recorded.
        let c2 = held.iter().find(|e| e.child_id == "C2").unwrap();
        assert_eq!((c2.legal_status.as_str(), c2.place.as_str()), ("", ""));
        s.stop().await;
    }
}

/// Children with a (non-short-break) episode open at the end of `end`, counted naively from one
/// 903 episodes table, independently of the importer and the service.
fn naive_cla_at(episodes_csv: &str, end: chrono::NaiveDate) -> usize {
    let text = std::fs::read_to_string(episodes_csv).unwrap();
    let mut lines = text.lines();
    let header: Vec<&str> = lines
        .next()
        .unwrap()
        .trim_start_matches('\u{feff}')
        .split(',')
        .collect();
    let col = |n: &str| header.iter().position(|h| *h == n).unwrap();
    let (child, decom, dec, ls) = (col("CHILD"), col("DECOM"), col("DEC"), col("LS"));
    let date = |s: &str| chrono::NaiveDate::parse_from_str(s, "%d/%m/%Y").ok();
    let mut open = std::collections::BTreeSet::new();
    for l in lines {
        let f: Vec<&str> = l.split(',').collect();
        if matches!(f[ls], "V3" | "V4") {
            continue;
        }
        let started = date(f[decom]).is_some_and(|d| d <= end);
        let not_ended = date(f[dec]).is_none_or(|d| d > end);
        if started && not_ended {
            open.insert(f[child].to_owned());
        }
    }
    open.len()
}

#[tokio::test]
async fn the_903_sample_folder_reports_its_invalid_rows_and_loads_the_rest() {
    for b in backends().await {
        let s = Suite::start(&b).await;
        let mut clients = s.clients().await;
        let mut report = ImportSummary::default();
        ssda903::import(
            &mut clients,
            &sample("ssda903"),
            Some("885"),
            None,
            &mut report,
        )
        .await
        .unwrap();
        assert_eq!(tally(&report, "children"), (2675, 2675, 0, 0), "{}", b.name);
        assert_eq!(tally(&report, "episodes"), (5050, 5050, 0, 0));
        assert_eq!(tally(&report, "missing episodes"), (43, 43, 0, 0));
        // Repeated reviews with different codes: the second of each pair is refused, naming the
        // line it repeats.
        let (received, accepted, unchanged, rejected) = tally(&report, "CLA reviews");
        assert_eq!(received, 12582);
        assert_eq!(rejected, 12);
        assert_eq!(accepted + unchanged + rejected, received);
        let dup = report
            .rejected
            .iter()
            .find(|p| p.kind == "CLA reviews")
            .unwrap();
        assert!(dup.source.contains("reviews.csv line "), "{dup:?}");
        assert!(dup.reason.contains("same key as "), "{dup:?}");
        assert!(dup.reason.contains("reviews.csv line "), "{dup:?}");
        // Tables no measure uses are recognised and skipped with a note.
        for t in ["UASC", "OC2", "OC3", "AD1", "previous permanence"] {
            assert!(
                report
                    .notes
                    .iter()
                    .any(|n| n.contains(t) && n.contains("skipped")),
                "{t}: {:?}",
                report.notes
            );
        }

        // Re-importing changes nothing.
        let mut again = ImportSummary::default();
        ssda903::import(
            &mut clients,
            &sample("ssda903"),
            Some("885"),
            None,
            &mut again,
        )
        .await
        .unwrap();
        assert_eq!(tally(&again, "episodes"), (5050, 0, 5050, 0));

        // Looked after at the end of 2017-18, against a naive count of the episodes table.
        let ms = measures(&mut clients.placements, "885", "2017-18").await;
        let end = chrono::NaiveDate::from_ymd_opt(2018, 3, 31).unwrap();
        let naive = naive_cla_at(sample("ssda903/episodes.csv").to_str().unwrap(), end);
        assert_eq!(count(&ms, "placements.cla_at_end") as usize, naive);
        s.stop().await;
    }
}

/// The 903 XML export rewritten as CSV tables, by string search (independent of the importer).
fn xml_as_csv(xml: &str, dir: &std::path::Path) {
    let between = |s: &str, tag: &str| -> String {
        let open = format!("<{tag}>");
        match s.find(&open) {
            Some(i) => {
                let j = s[i..].find(&format!("</{tag}>")).unwrap() + i;
                s[i + open.len()..j].to_owned()
            }
            None => String::new(),
        }
    };
    let mut header = String::from("CHILD,SEX,DOB,ETHNIC,UPN\n");
    let mut episodes = String::from(
        "CHILD,DECOM,RNE,LS,CIN,PLACE,PLACE_PROVIDER,DEC,REC,REASON_PLACE_CHANGE,HOME_POST,PL_POST,URN\n",
    );
    let mut reviews = String::from("CHILD,DOB,REVIEW,REVIEW_CODE\n");
    for child in xml.split("<CHILD>").skip(1) {
        let h = between(child, "HEADER");
        let id = between(&h, "CHILDID");
        header.push_str(&format!(
            "{id},{},{},{},{}\n",
            between(&h, "SEX"),
            between(&h, "DOB"),
            between(&h, "ETHNIC"),
            between(&h, "UPN")
        ));
        for r in h.split("<AREVIEW>").skip(1) {
            reviews.push_str(&format!(
                "{id},,{},{}\n",
                between(r, "REVIEW"),
                between(r, "REVIEW_CODE")
            ));
        }
        for e in child.split("<EPISODE>").skip(1) {
            let f = |t| between(e, t);
            episodes.push_str(&format!(
                "{id},{},{},{},{},{},{},{},{},{},{},{},{}\n",
                f("DECOM"),
                f("RNE"),
                f("LS"),
                f("CIN"),
                f("PL"),
                f("PLACE_PROVIDER"),
                f("DEC"),
                f("REC"),
                f("REASON_PLACE_CHANGE"),
                f("HOME_POST"),
                f("PL_POST"),
                f("URN")
            ));
        }
    }
    std::fs::write(dir.join("header.csv"), header).unwrap();
    std::fs::write(dir.join("episodes.csv"), episodes).unwrap();
    std::fs::write(dir.join("reviews.csv"), reviews).unwrap();
}

#[tokio::test]
async fn the_csv_and_xml_forms_of_a_return_give_the_same_measures() {
    let xml = sample("ssda903/fake_903.xml");
    let dir = tempfile::tempdir().unwrap();
    xml_as_csv(&std::fs::read_to_string(&xml).unwrap(), dir.path());
    for b in backends().await {
        let s = Suite::start(&b).await;
        let mut clients = s.clients().await;
        let mut from_xml = ImportSummary::default();
        ssda903::import(&mut clients, &xml, Some("885"), Some(2018), &mut from_xml)
            .await
            .unwrap();
        let mut from_csv = ImportSummary::default();
        ssda903::import(
            &mut clients,
            dir.path(),
            Some("886"),
            Some(2018),
            &mut from_csv,
        )
        .await
        .unwrap();
        for kind in ["children", "episodes", "CLA reviews"] {
            assert_eq!(
                tally(&from_xml, kind),
                tally(&from_csv, kind),
                "{kind} on {}",
                b.name
            );
        }
        assert!(tally(&from_xml, "episodes").1 > 400);
        assert_eq!(tally(&from_xml, "missing episodes").1, 6);
        for period in ["2016-17", "2017-18", "2017-18-Q3", "2018-19-Q1"] {
            let a = measures(&mut clients.placements, "885", period).await;
            let c = measures(&mut clients.placements, "886", period).await;
            assert_eq!(a, c, "{period} on {}", b.name);
        }
        s.stop().await;
    }
}

async fn all_records(c: &mut csc::client::PlacementsClient, la: &str) -> PlacementsData {
    use csc_placements::domain::{Child, Episode};
    use csc_runtime::rpc::WireRecord as _;
    let list = |page_token: String| cpb::ListRequest {
        la_code: la.into(),
        child_id: String::new(),
        page_size: 1000,
        page_token,
    };
    let episodes = all_pages(|t| {
        let (mut c, req) = (c.clone(), list(t));
        async move {
            let page = c.list_episodes(req).await.unwrap().into_inner();
            (page.records, page.next_page_token)
        }
    })
    .await;
    let children = all_pages(|t| {
        let (mut c, req) = (c.clone(), list(t));
        async move {
            let page = c.list_children(req).await.unwrap().into_inner();
            (page.records, page.next_page_token)
        }
    })
    .await;
    // Read back through the API, converted as the service converts what it is sent.
    let mut data = PlacementsData::default();
    data.episodes.extend(
        episodes
            .iter()
            .flatten()
            .map(|e| Episode::from_proto(e).expect("a stored episode reads back")),
    );
    data.children.extend(
        children
            .iter()
            .flatten()
            .map(|x| Child::from_proto(x).expect("a stored child reads back")),
    );
    data
}

#[tokio::test]
async fn several_years_imported_in_turn_build_one_history_and_measures_match_the_definitions() {
    for b in backends().await {
        let s = Suite::start(&b).await;
        let mut clients = s.clients().await;
        let mut first = ImportSummary::default();
        ssda903::import(
            &mut clients,
            &sample("ssda903-series/2017"),
            Some("885"),
            Some(2017),
            &mut first,
        )
        .await
        .unwrap();
        // One year on its own: looked after at its end, against a naive count of its table.
        let ms = measures(&mut clients.placements, "885", "2017-18").await;
        let end = chrono::NaiveDate::from_ymd_opt(2018, 3, 31).unwrap();
        let naive = naive_cla_at(
            sample("ssda903-series/2017/episodes.csv").to_str().unwrap(),
            end,
        );
        assert_eq!(
            count(&ms, "placements.cla_at_end") as usize,
            naive,
            "{}",
            b.name
        );

        let mut report = ImportSummary::default();
        for y in ["2018", "2019", "2020", "2021"] {
            ssda903::import(
                &mut clients,
                &sample(&format!("ssda903-series/{y}")),
                Some("885"),
                y.parse().ok(),
                &mut report,
            )
            .await
            .unwrap();
        }
        // Later returns restate episodes of earlier ones: some land as unchanged.
        let (received, accepted, unchanged, _) = tally(&report, "episodes");
        assert_eq!(
            received,
            accepted + unchanged + tally(&report, "episodes").3
        );
        ssda903::history_warnings(&mut clients.placements, "885", &mut report)
            .await
            .unwrap();

        // The service's measures (which load only the children a period can reach) equal the
        // definitions over every record, for quarters and years across the history.
        let data = all_records(&mut clients.placements, "885").await;
        for id in [
            "2017-18",
            "2018-19",
            "2019-20",
            "2020-21",
            "2017-18-Q4",
            "2018-19-Q2",
            "2019-20-Q3",
            "2021-22-Q1",
        ] {
            let period: Period = id.parse().unwrap();
            let expected = domain::compute(&period, &data);
            let got = measures(&mut clients.placements, "885", id).await;
            assert_eq!(got.len(), expected.len());
            for (g, e) in got.iter().zip(&expected) {
                assert_eq!(g, e, "{id} {} on {}", e.id, b.name);
            }
        }
        s.stop().await;
    }
}

#[tokio::test]
async fn a_child_s_care_history_and_warnings_through_the_api() {
    for b in backends().await {
        let s = start(Service::Placements, &b.url).await;
        let mut c = csc::client::connect_placements(&s.addr).await.unwrap();
        let mut e1 = episode("C1", "2017-01-01");
        e1.dec = "2017-06-01".into();
        e1.rec = "X1".into();
        e1.reason_place_change = "CREQB".into();
        let mut e2 = episode("C1", "2017-06-01");
        e2.rne = "P".into();
        e2.place = "K2".into();
        e2.dec = "2017-09-01".into();
        e2.rec = "E13".into();
        // After an ending, an episode with RNE P: a warning, and still a period of care.
        let mut e3 = episode("C1", "2018-01-01");
        e3.rne = "P".into();
        c.batch_upsert_episodes(pb::BatchUpsertEpisodesRequest {
            request_id: String::new(),
            records: vec![e1, e2, e3],
            ..Default::default()
        })
        .await
        .unwrap();
        let h = c
            .get_care_history(pb::ChildKey {
                la_code: "885".into(),
                child_id: "C1".into(),
            })
            .await
            .unwrap()
            .into_inner();
        assert_eq!(h.periods.len(), 2, "{}", b.name);
        let p = &h.periods[0];
        assert_eq!(
            (p.start_date.as_str(), p.end_date.as_str()),
            ("2017-01-01", "2017-09-01")
        );
        assert_eq!(p.placements.len(), 2);
        assert!(p.placements[0].ended_with_move);
        assert_eq!(p.placements[0].end_reason, "CREQB");
        assert_eq!(h.warnings.len(), 1);
        assert_eq!(h.warnings[0].kind, "no_start");
        assert_eq!(h.warnings[0].date, "2018-01-01");
        let listed = c
            .list_history_warnings(cpb::ListRequest {
                la_code: "885".into(),
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner();
        assert_eq!(listed.warnings, h.warnings);
        let none = c
            .get_care_history(pb::ChildKey {
                la_code: "885".into(),
                child_id: "NOBODY".into(),
            })
            .await
            .unwrap_err();
        assert_eq!(none.code(), Code::NotFound);
        s.stop().await;
    }
}

#[tokio::test]
async fn what_real_903_files_contain_is_tolerated_and_bad_rows_are_named() {
    let dir = tempfile::tempdir().unwrap();
    // A BOM, CRLF, blank trailing columns, sex as letters and digits, codes of every year.
    std::fs::write(
        dir.path().join("Header_2024.csv"),
        "\u{feff}CHILD,SEX,DOB,ETHNIC,UPN,MOTHER,MC_DOB,,\r\n\
         A1,M,01/02/2010,WBRI,,,,,\r\n\
         A2,2,2011-03-04,WBRI,,,,,\r\n\
         A3,X,01/02/2010,WBRI,,,,,\r\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("903 episodes.CSV"),
        "\u{feff}CHILD,DECOM,RNE,LS,CIN,PLACE,PLACE_PROVIDER,DEC,REC,REASON_PLACE_CHANGE,HOME_POST,PL_POST,URN,\r\n\
         A1,01/04/2023,S,C2,N1,H5,PR1,01/06/2024,X1,CREQB,,,,\r\n\
         A1,01/06/2024,P,C2,N1,K3,PR1,01/09/2025,X1,,,,,\r\n\
         A1,01/09/2025,P,C2,N1,Z11,PR4,,,,,,,\r\n\
         A2,01/04/2017,S,V2,N2,P2,PR0,31/12/2019,E11,,,,,\r\n\
         A2,01/01/2020,S,C1,N2,Q9,PR0,,,,,,,\r\n\
         A2,31/02/2020,S,C1,N2,U4,PR0,,,,,,,\r\n",
    )
    .unwrap();
    std::fs::write(dir.path().join("notes.txt"), "not a table").unwrap();
    for b in backends().await {
        let s = Suite::start(&b).await;
        let mut clients = s.clients().await;
        let mut report = ImportSummary::default();
        ssda903::import(
            &mut clients,
            dir.path(),
            Some("885"),
            Some(2025),
            &mut report,
        )
        .await
        .unwrap();
        assert_eq!(tally(&report, "children"), (3, 2, 0, 1), "{}", b.name);
        assert_eq!(tally(&report, "episodes"), (6, 4, 0, 2));
        assert_row_refused(&report, 4, "SEX", "\"X\"");
        assert_row_refused(&report, 6, "PLACE", "\"Q9\"");
        assert_row_refused(&report, 7, "DECOM", "not a date");
        assert!(report.notes.iter().any(|n| n.contains("notes.txt")));
        let got = clients
            .placements
            .get_child(pb::ChildKey {
                la_code: "885".into(),
                child_id: "A1".into(),
            })
            .await
            .unwrap()
            .into_inner();
        assert_eq!(
            (got.sex, got.date_of_birth.as_str()),
            (pb::Sex::Male as i32, "2010-02-01")
        );
        let ms = measures(&mut clients.placements, "885", "2025-26-Q3").await;
        assert_eq!(count(&ms, "placements.cla_at_end"), 1);
        s.stop().await;
    }
}
