//! The finance service end to end, on every backend: validation (nothing of a bad batch applied),
//! the catalogue and its 903 mapping, the costs import, and measures through the store.

use csc::serve::Service;
use csc_e2e::{all_pages, backends, start};
use csc_proto::{common as cpb, finance as pb};
use tonic::Code;
use tonic_types::StatusExt;

fn commitment(child: &str, start: &str, end: &str, pence: i64, category: &str) -> pb::Commitment {
    pb::Commitment {
        la_code: "885".into(),
        child_id: child.into(),
        placement_start: start.into(),
        start_date: start.into(),
        end_date: end.into(),
        weekly_cost_pence: pence,
        category_key: category.into(),
        ..Default::default()
    }
}

fn req(id: &str, records: Vec<pb::Commitment>) -> pb::BatchUpsertCommitmentsRequest {
    pb::BatchUpsertCommitmentsRequest {
        request_id: id.into(),
        records,
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

#[tokio::test]
async fn bad_commitments_are_refused_whole_with_field_violations() {
    for b in backends().await {
        let s = start(Service::Finance, &b.url).await;
        let mut c = s.finance().await;
        let mut before_placement = commitment("C7", "2018-04-01", "", 50_000, "ifa");
        before_placement.start_date = "2018-03-01".into();
        let mut no_category = commitment("C8", "2018-04-01", "", 50_000, "");
        no_category.place = String::new();
        let mut unmapped = commitment("C9", "2018-04-01", "", 50_000, "");
        unmapped.place = "P1".into();
        unmapped.place_provider = "PR0".into();
        let err = c
            .batch_upsert_commitments(req(
                "bad",
                vec![
                    commitment("C1", "2018-04-01", "", 78_950, "ifa"),
                    commitment("C2", "2018-04-01", "", -5, "ifa"),
                    commitment("C3", "2018-04-01", "", 50_000_000, "ifa"),
                    commitment("C4", "2018-04-01", "", 50_000, "no_such_category"),
                    commitment("C5", "2018-04-01", "2018-03-31", 50_000, "ifa"),
                    before_placement,
                    no_category,
                    unmapped,
                ],
            ))
            .await
            .unwrap_err();
        assert_eq!(err.code(), Code::InvalidArgument);
        // Static problems are all reported together; the catalogue's are checked once they pass.
        assert_eq!(
            fields(&err),
            [
                "records[1].weekly_cost_pence",
                "records[2].weekly_cost_pence",
                "records[4].end_date",
                "records[5].start_date",
                "records[6].category_key"
            ],
            "{}",
            b.name
        );
        let err = c
            .batch_upsert_commitments(req(
                "bad2",
                vec![
                    commitment("C1", "2018-04-01", "", 78_950, "ifa"),
                    commitment("C4", "2018-04-01", "", 50_000, "no_such_category"),
                    unmapped_clone(),
                ],
            ))
            .await
            .unwrap_err();
        assert_eq!(
            fields(&err),
            ["records[1].category_key", "records[2].place"]
        );
        let listed = c
            .list_commitments(cpb::ListRequest {
                la_code: "885".into(),
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner();
        assert!(
            listed.records.is_empty(),
            "nothing of a refused batch is applied"
        );
        s.stop().await;
    }
}

fn unmapped_clone() -> pb::Commitment {
    let mut u = commitment("C9", "2018-04-01", "", 50_000, "");
    u.place = "P1".into();
    u.place_provider = "PR0".into();
    u
}

#[tokio::test]
async fn overlapping_commitments_for_one_placement_are_refused_and_a_cost_change_is_two() {
    for b in backends().await {
        let s = start(Service::Finance, &b.url).await;
        let mut c = s.finance().await;
        // A cost change on 1 May: the first runs to (not including) 1 May, the second from it.
        let first = commitment("P1", "2018-04-01", "2018-05-01", 70_000, "ifa");
        let mut second = commitment("P1", "2018-04-01", "", 84_000, "ifa");
        second.start_date = "2018-05-01".into();
        let ok = c
            .batch_upsert_commitments(req("", vec![first.clone(), second.clone()]))
            .await
            .unwrap()
            .into_inner();
        assert_eq!(ok.written, 2, "{}", b.name);

        // Against what is stored: a third from 20 April overlaps both.
        let mut third = commitment("P1", "2018-04-01", "", 90_000, "ifa");
        third.start_date = "2018-04-20".into();
        let err = c
            .batch_upsert_commitments(req("", vec![third]))
            .await
            .unwrap_err();
        assert_eq!(fields(&err), ["records[0].start_date"]);
        assert!(
            err.get_details_bad_request().unwrap().field_violations[0]
                .description
                .contains("overlaps")
        );

        // Within one batch.
        let a = commitment("P2", "2018-04-01", "", 10_000, "ifa");
        let mut b2 = commitment("P2", "2018-04-01", "", 20_000, "ifa");
        b2.start_date = "2018-06-01".into();
        let err = c
            .batch_upsert_commitments(req("", vec![a, b2]))
            .await
            .unwrap_err();
        assert_eq!(
            fields(&err),
            ["records[0].start_date", "records[1].start_date"]
        );

        // Restating the first commitment with an end date earlier is fine (it replaces itself).
        let mut restated = first.clone();
        restated.end_date = "2018-04-30".into();
        assert_eq!(
            c.batch_upsert_commitments(req("", vec![restated]))
                .await
                .unwrap()
                .into_inner()
                .written,
            1
        );
        // A different placement of the same child may overlap: children move between placements.
        let other = commitment("P1", "2018-06-01", "", 30_000, "kinship_fostering");
        assert_eq!(
            c.batch_upsert_commitments(req("", vec![other]))
                .await
                .unwrap()
                .into_inner()
                .written,
            1
        );
        s.stop().await;
    }
}

#[tokio::test]
async fn the_catalogue_is_built_in_and_editable_per_la() {
    for b in backends().await {
        let s = start(Service::Finance, &b.url).await;
        let mut c = s.finance().await;
        let cats = |la: &str| pb::ListCategoriesRequest {
            la_code: la.into(),
            ..Default::default()
        };
        let built_in = c
            .list_categories(cats("885"))
            .await
            .unwrap()
            .into_inner()
            .records;
        assert_eq!(built_in.len(), 14, "{}", b.name);
        assert_eq!(built_in[0].key, "agency_residential");
        assert!(built_in.iter().all(|k| k.built_in));

        let home = |key: &str, name: &str| pb::Category {
            la_code: "885".into(),
            key: key.into(),
            name: name.into(),
            group: "residential".into(),
            parent_key: "in_house_residential".into(),
            built_in: false,
        };
        c.batch_upsert_categories(pb::BatchUpsertCategoriesRequest {
            request_id: String::new(),
            records: vec![
                home("downsell_road", "Downsell Road"),
                home("cwd_homes", "CWD Homes"),
            ],
        })
        .await
        .unwrap();
        let keys: Vec<String> = c
            .list_categories(cats("885"))
            .await
            .unwrap()
            .into_inner()
            .records
            .into_iter()
            .map(|k| k.key)
            .collect();
        assert_eq!(
            &keys[2..5],
            ["in_house_residential", "cwd_homes", "downsell_road"]
        );
        // Another LA's catalogue is untouched.
        assert_eq!(
            c.list_categories(cats("886"))
                .await
                .unwrap()
                .into_inner()
                .records
                .len(),
            14
        );
        // Pages of five walk the whole catalogue in order.
        let pages = all_pages(|page_token| {
            let mut c = c.clone();
            async move {
                let page = c
                    .list_categories(pb::ListCategoriesRequest {
                        la_code: "885".into(),
                        page_size: 5,
                        page_token,
                    })
                    .await
                    .unwrap()
                    .into_inner();
                (page.records, page.next_page_token)
            }
        })
        .await;
        assert!(pages.iter().all(|p| p.len() <= 5));
        let paged: Vec<String> = pages.into_iter().flatten().map(|k| k.key).collect();
        assert_eq!(paged, keys);
        let got = c
            .get_category(pb::CategoryKey {
                la_code: "885".into(),
                key: "cwd_homes".into(),
            })
            .await
            .unwrap()
            .into_inner();
        assert_eq!(
            (got.name.as_str(), got.parent_key.as_str(), got.built_in),
            ("CWD Homes", "in_house_residential", false)
        );
        let rule = c
            .get_category_mapping(pb::CategoryMappingKey {
                la_code: "885".into(),
                place: "U4".into(),
                place_provider: "PR1".into(),
            })
            .await
            .unwrap()
            .into_inner();
        assert_eq!(
            (rule.category_key.as_str(), rule.built_in),
            ("in_house_fostering", true)
        );
        let missing = c
            .get_category(pb::CategoryKey {
                la_code: "885".into(),
                key: "nothing".into(),
            })
            .await
            .unwrap_err();
        assert_eq!(missing.code(), Code::NotFound);

        // Homes nest one level; parents must exist.
        let err = c
            .batch_upsert_categories(pb::BatchUpsertCategoriesRequest {
                request_id: String::new(),
                records: vec![
                    pb::Category {
                        parent_key: "cwd_homes".into(),
                        ..home("annex", "Annex")
                    },
                    pb::Category {
                        parent_key: "nowhere".into(),
                        ..home("lost", "Lost")
                    },
                    pb::Category {
                        group: "castles".into(),
                        ..home("tower", "Tower")
                    },
                ],
            })
            .await
            .unwrap_err();
        assert_eq!(fields(&err), ["records[2].group"]);
        let err = c
            .batch_upsert_categories(pb::BatchUpsertCategoriesRequest {
                request_id: String::new(),
                records: vec![
                    pb::Category {
                        parent_key: "cwd_homes".into(),
                        ..home("annex", "Annex")
                    },
                    pb::Category {
                        parent_key: "nowhere".into(),
                        ..home("lost", "Lost")
                    },
                ],
            })
            .await
            .unwrap_err();
        assert_eq!(
            fields(&err),
            ["records[0].parent_key", "records[1].parent_key"]
        );

        // The mapping: built-in, then the LA's own rule wins for its exact provider.
        c.batch_upsert_category_mappings(pb::BatchUpsertCategoryMappingsRequest {
            request_id: String::new(),
            records: vec![pb::CategoryMapping {
                la_code: "885".into(),
                place: "U4".into(),
                place_provider: "PR4".into(),
                category_key: "placement_plus".into(),
                built_in: false,
            }],
        })
        .await
        .unwrap();
        let by_codes = |child: &str, place: &str, provider: &str| {
            let mut x = commitment(child, "2018-04-01", "", 60_000, "");
            x.place = place.into();
            x.place_provider = provider.into();
            x
        };
        c.batch_upsert_commitments(req(
            "",
            vec![
                by_codes("M1", "U4", "PR4"),
                by_codes("M2", "U4", "PR5"),
                by_codes("M3", "U6", "PR1"),
                by_codes("M4", "K2", "PR4"),
            ],
        ))
        .await
        .unwrap();
        let stored = c
            .list_commitments(cpb::ListRequest {
                la_code: "885".into(),
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner();
        let cat: Vec<(String, String)> = stored
            .records
            .into_iter()
            .map(|r| (r.child_id, r.category_key))
            .collect();
        assert_eq!(
            cat,
            [
                ("M1".to_string(), "placement_plus".to_string()),
                ("M2".into(), "ifa".into()),
                ("M3".into(), "in_house_fostering".into()),
                ("M4".into(), "agency_residential".into())
            ]
        );

        // Built-in categories cannot be deleted; the LA's own can.
        let err = c
            .delete_category(pb::CategoryKey {
                la_code: "885".into(),
                key: "ifa".into(),
            })
            .await
            .unwrap_err();
        assert_eq!(err.code(), Code::NotFound);
        c.delete_category(pb::CategoryKey {
            la_code: "885".into(),
            key: "cwd_homes".into(),
        })
        .await
        .unwrap();
        s.stop().await;
    }
}

#[tokio::test]
async fn costs_csv_reports_bad_rows_lands_good_ones_and_measures_match() {
    use csc::import::{ImportSummary, import_costs};
    for b in backends().await {
        let s = start(Service::Finance, &b.url).await;
        let mut c = s.finance().await;
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("costs.csv");
        std::fs::write(
            &file,
            "child_id,placement_start,start_date,end_date,weekly_cost_pence,category_key,place,place_provider,provider_name,provider_urn\r\n\
             A1,01/01/2018,01/01/2018,,341850,agency_residential,,,Oak House,SC123456\r\n\
             A2,2018-02-01,2018-02-01,2018-06-30,78950,,U4,PR4,,\r\n\
             A3,2018-03-01,2018-03-01,,789.50,ifa,,,,\r\n\
             A4,2018-03-01,2018-03-01,,47700,castle,,,,\r\n\
             A5,2018-03-01,2018-03-01,,47700,,P1,PR0,,\r\n\
             A6,2018-06-30,2018-06-30,,37900,kinship_fostering,,,,\r\n\
             A7,2018-03-01,2018-03-01,,,ifa,,,,\r\n",
        )
        .unwrap();
        let mut r = ImportSummary::default();
        import_costs(&mut c, &file, Some("885"), &mut r)
            .await
            .unwrap();
        let t = r.tallies["commitments"];
        assert_eq!(
            (t.received, t.accepted, t.unchanged, t.rejected),
            (7, 3, 0, 4),
            "{}: {:?}",
            b.name,
            r.rejected
        );
        csc_e2e::assert_row_refused(&r, 4, "weekly_cost_pence", "whole number of pence");
        csc_e2e::assert_row_refused(&r, 5, "category_key", "castle");
        csc_e2e::assert_row_refused(&r, 6, "place", "no category maps PLACE");
        csc_e2e::assert_row_refused(&r, 8, "weekly_cost_pence", "required");

        let doc = csc::measures::fetch(Service::Finance, &s.addr, "885", "2018-19-Q1")
            .await
            .unwrap();
        let m = |id: &str| doc.measures.iter().find(|m| m.id == id).unwrap().clone();
        let units = m("finance.unit_costs");
        // A2 ends on the quarter's last day: not active at its end. A1 and A6 are.
        assert_eq!(units.row("total").unwrap().denominator, Some(2));
        assert_eq!(
            units.row("agency_residential").unwrap().value,
            Some(csc_core::measure::Num::Pence(341_900))
        );
        assert_eq!(
            m("finance.weekly_spend_at_end").value,
            Some(csc_core::measure::Num::Pence(341_850 + 37_900))
        );
        // Spend: A1 all 91 days, A2 90 days (ends 30 June), A6 one day.
        let expected = csc_core::measure::div_round(341_850 * 91 + 78_950 * 90 + 37_900, 7) as i64;
        assert_eq!(
            m("finance.spend_in_period").value,
            Some(csc_core::measure::Num::Pence(expected))
        );
        let json = serde_json::to_value(&units).unwrap();
        assert_eq!(json["unit"], "gbp_per_week");

        let mut again = ImportSummary::default();
        import_costs(&mut c, &file, Some("885"), &mut again)
            .await
            .unwrap();
        let t = again.tallies["commitments"];
        assert_eq!((t.accepted, t.unchanged, t.rejected), (0, 3, 4));
        s.stop().await;
    }
}

/// Service measures (which load only commitments touching the period) equal the pure
/// computation over every commitment, for generated placements with cost changes.
#[tokio::test]
async fn service_measures_equal_the_definitions_over_all_commitments() {
    use chrono::{Days, NaiveDate};
    use csc_core::{LaCode, Period};
    use csc_finance::domain::{self, Commitment, effective_categories};
    let la = LaCode::parse("885").unwrap();
    let keys = [
        "agency_residential",
        "ifa",
        "in_house_fostering",
        "kinship_fostering",
        "staying_put",
    ];
    let base = NaiveDate::from_ymd_opt(2016, 4, 1).unwrap();
    let mut seed = 0x9e37_79b9_u64;
    let mut next = |n: u64| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed % n
    };
    let mut all: Vec<Commitment> = Vec::new();
    for child in 0..150 {
        let placement_start = base + Days::new(next(900));
        let mut start = placement_start;
        // One to three consecutive costs; the last may be open.
        for k in 0..(1 + next(3)) {
            let end = (next(4) > 0 || k < 2).then(|| start + Days::new(1 + next(200)));
            all.push(Commitment {
                la_code: la,
                child_id: format!("C{child:03}"),
                placement_start,
                start_date: start,
                end_date: end,
                weekly_cost_pence: 10_000 + next(400_000) as i64,
                category_key: keys[next(keys.len() as u64) as usize].into(),
                place: None,
                place_provider: None,
                provider_name: None,
                provider_urn: None,
            });
            match end {
                Some(e) => start = e,
                None => break,
            }
        }
    }
    for b in backends().await {
        let s = start(Service::Finance, &b.url).await;
        let mut c = s.finance().await;
        let records = all
            .iter()
            .map(|x| pb::Commitment {
                la_code: "885".into(),
                child_id: x.child_id.clone(),
                placement_start: x.placement_start.to_string(),
                start_date: x.start_date.to_string(),
                end_date: x.end_date.map(|d| d.to_string()).unwrap_or_default(),
                weekly_cost_pence: x.weekly_cost_pence,
                category_key: x.category_key.clone(),
                ..Default::default()
            })
            .collect();
        c.batch_upsert_commitments(req("", records)).await.unwrap();
        let cats = effective_categories(la, &[]);
        for id in [
            "2016-17-Q1",
            "2016-17",
            "2017-18-Q2",
            "2017-18-Q4",
            "2018-19",
            "2019-20-Q3",
        ] {
            let period: Period = id.parse().unwrap();
            let expected = domain::compute(&period, &cats, &all);
            let got = csc::measures::fetch(Service::Finance, &s.addr, "885", id)
                .await
                .unwrap()
                .measures;
            assert_eq!(got, expected, "{id} on {}", b.name);
        }
        s.stop().await;
    }
}
