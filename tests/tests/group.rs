//! The group report end to end, on SQLite and PostgreSQL: three generated West Midlands LAs
//! imported into one suite, a fourth member the suite holds nothing for, a custom group set
//! through the API, and the group report generated through it. Each member's figure must be its
//! own single-LA report's; the group's statistics are recomputed here; the member not held shows
//! the DfE's published figure from the reference files; published output has no count of 1–5.

use std::collections::HashMap;

use chrono::NaiveDate;
use csc_proto::reporting as pb;
use serde_json::Value;

const HELD: [&str; 3] = ["885", "884", "894"];
/// Staffordshire: in the group, with no data imported.
const NOT_HELD: &str = "860";
const PERIOD: &str = "2026-27-Q2";

/// Type-7 quantile, written here again from its definition (R's default): x[h] interpolated at
/// h = (n − 1) p over the sorted values.
fn quantile(values: &[f64], p: f64) -> f64 {
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    let h = (v.len() as f64 - 1.0) * p;
    let lo = h.floor() as usize;
    let hi = h.ceil() as usize;
    v[lo] + (h - lo as f64) * (v[hi] - v[lo])
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-9
}

fn measures(report: &Value) -> HashMap<String, &Value> {
    report["sections"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|s| s["measures"].as_array().unwrap())
        .map(|m| (m["id"].as_str().unwrap().to_owned(), m))
        .collect()
}

/// The latest published figure for an LA in a DfE file, read here from the file.
fn published(file: &str, filter: &[(&str, &str)], column: &str, la: &str) -> Option<(i32, f64)> {
    let path = csc_e2e::sample("../reference/dfe").join(file);
    let mut r = csv::Reader::from_path(path).unwrap();
    let headers: Vec<String> = r
        .headers()
        .unwrap()
        .iter()
        .map(|h| h.trim_start_matches('\u{feff}').to_owned())
        .collect();
    let col = |name: &str| headers.iter().position(|h| h == name).unwrap();
    r.records()
        .map(|x| x.unwrap())
        .filter(|x| {
            x[col("geographic_level")] == *"Local authority"
                && x[col("old_la_code")] == *la
                && filter.iter().all(|(c, v)| x[col(c)] == **v)
        })
        .filter_map(|x| {
            Some((
                x[col("time_period")].parse::<i32>().ok()?,
                x[col(column)].parse::<f64>().ok()?,
            ))
        })
        .max_by_key(|(y, _)| *y)
}

async fn group_report(
    client: &mut csc::report::ReportingClient,
    focus: &str,
    publish: bool,
) -> (pb::GroupReportDocument, Value) {
    let doc = client
        .generate_group_report(pb::GenerateGroupReportRequest {
            group: "wm-test".into(),
            period: PERIOD.into(),
            la_code: focus.into(),
            publish,
            format: pb::Format::Json as i32,
            requested_by: "e2e".into(),
        })
        .await
        .expect("group report")
        .into_inner();
    let v = serde_json::from_slice(&doc.content).unwrap();
    (doc, v)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn each_members_figure_is_its_own_reports_and_the_statistics_are_the_groups() {
    let files = tempfile::tempdir().unwrap();
    for (i, la) in HELD.iter().enumerate() {
        csc::generate::generate(
            &csc::generate::Config {
                la: (*la).into(),
                children: 6_000 + 2_000 * i as u64,
                years: 3,
                seed: 21 + i as u64,
                until: NaiveDate::from_ymd_opt(2026, 9, 30).unwrap(),
            },
            &files.path().join(la),
        )
        .unwrap();
    }

    for b in csc_e2e::backends().await {
        let suite = csc_e2e::Suite::start(&b).await;
        for la in HELD {
            let mut imported = csc::import::ImportSummary::default();
            csc::import::import_generated(
                &suite.addrs,
                &files.path().join(la),
                None,
                &mut imported,
            )
            .await
            .unwrap();
            assert!(imported.rejected.is_empty(), "{}: LA {la} imports", b.name);
        }
        let mut client = csc::client::connect_reporting(&suite.addrs.aggregator)
            .await
            .unwrap();

        // Groups: set, read back with names, listed beside the regions; a bad one refused by field.
        let members: Vec<String> = HELD
            .iter()
            .map(|s| s.to_string())
            .chain([NOT_HELD.to_owned()])
            .collect();
        let g = client
            .set_group(pb::Group {
                name: "wm-test".into(),
                title: "West Midlands test group".into(),
                members: members.clone(),
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner();
        assert_eq!(g.members, members);
        assert_eq!(g.kind, "custom");
        let got = client
            .get_group(pb::GetGroupRequest {
                name: "wm-test".into(),
            })
            .await
            .unwrap()
            .into_inner();
        assert_eq!(got.member_names[0], "Worcestershire");
        let list = client
            .list_groups(pb::ListGroupsRequest {})
            .await
            .unwrap()
            .into_inner();
        assert!(list.groups.iter().any(|g| g.name == "wm-test"));
        assert!(
            list.groups
                .iter()
                .any(|g| g.name == "region:west-midlands" && g.members.len() == 14)
        );
        let bad = client
            .set_group(pb::Group {
                name: "Bad Name".into(),
                members: vec!["885".into(), "88".into(), "885".into()],
                ..Default::default()
            })
            .await
            .unwrap_err();
        assert_eq!(bad.code(), tonic::Code::InvalidArgument);
        let details = tonic_types::StatusExt::get_error_details(&bad);
        let fields: Vec<String> = details
            .bad_request()
            .unwrap()
            .field_violations
            .iter()
            .map(|v| v.field.clone())
            .collect();
        assert_eq!(fields, ["name", "members[1]", "members[2]"], "{}", b.name);

        // Each held member's own report.
        let mut own: HashMap<&str, Value> = HashMap::new();
        for la in HELD {
            let doc = client
                .generate_report(pb::GenerateReportRequest {
                    la_code: la.into(),
                    period: PERIOD.into(),
                    format: pb::Format::Json as i32,
                    ..Default::default()
                })
                .await
                .unwrap()
                .into_inner();
            own.insert(la, serde_json::from_slice(&doc.content).unwrap());
        }

        let (doc, r) = group_report(&mut client, "885", false).await;
        assert_eq!(r["period"]["id"], PERIOD);
        assert_eq!(r["focus"], "885");
        assert_eq!(r["previous_period"], "2026-27-Q1");
        assert!(doc.not_shared.is_empty());
        let standing: Vec<(&str, &str)> = r["members"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| {
                (
                    m["la_code"].as_str().unwrap(),
                    m["standing"].as_str().unwrap(),
                )
            })
            .collect();
        assert_eq!(
            standing,
            [
                ("885", "held"),
                ("884", "held"),
                ("894", "held"),
                (NOT_HELD, "not_held")
            ]
        );

        let group = measures(&r);
        let mut compared = 0;
        for (id, gm) in &group {
            let Some(figure) = gm.get("figure") else {
                continue;
            };
            let figs = figure["members"].as_array().unwrap();
            let mut live = Vec::new();
            for (i, la) in HELD.iter().enumerate() {
                let f = &figs[i];
                assert_eq!(f["la_code"], *la);
                let mine = measures(&own[la]);
                let m = mine.get(id).unwrap_or_else(|| panic!("{la} has no {id}"));
                assert_eq!(f["source"], "live", "{id} {la}");
                assert_eq!(f["value"], m["value"], "{}: {id} for {la}", b.name);
                assert_eq!(f.get("numerator"), m.get("numerator"), "{id} {la}");
                assert_eq!(f.get("denominator"), m.get("denominator"), "{id} {la}");
                if let Some(v) = m["value"].as_f64() {
                    live.push(v);
                }
                compared += 1;
            }
            if live.is_empty() {
                assert!(figure.get("stats").is_none(), "{id}");
                continue;
            }
            let s = &figure["stats"];
            assert_eq!(s["n"], live.len(), "{id}");
            let mean = live.iter().sum::<f64>() / live.len() as f64;
            assert!(close(s["mean"].as_f64().unwrap(), mean), "{id} mean");
            assert!(
                close(s["median"].as_f64().unwrap(), quantile(&live, 0.5)),
                "{id} median"
            );
            assert!(
                close(s["q1"].as_f64().unwrap(), quantile(&live, 0.25)),
                "{id} q1"
            );
            assert!(
                close(s["q3"].as_f64().unwrap(), quantile(&live, 0.75)),
                "{id} q3"
            );
            // The focus's rank, from the direction: 1 + members strictly better.
            if let Some(v) = figs[0]["value"].as_f64() {
                let lower = gm["direction"] == "lower_is_better";
                let better = live
                    .iter()
                    .filter(|&&x| if lower { x < v } else { x > v })
                    .count();
                assert_eq!(figure["focus"]["rank"], better + 1, "{id} rank");
                assert_eq!(figure["focus"]["of"], live.len());
            }
            // The previous period's group median, from each member's own previous figure.
            let prev: Vec<f64> = HELD
                .iter()
                .filter_map(|la| measures(&own[la])[id]["previous"]["value"].as_f64())
                .collect();
            match gm.get("previous_median") {
                Some(p) => assert!(
                    close(p.as_f64().unwrap(), quantile(&prev, 0.5)),
                    "{id} previous"
                ),
                None => assert!(prev.is_empty(), "{id}: previous figures but no median"),
            }
            // The group's median each period of the trend, from the members' own series.
            let own_series = |la: &str| -> Vec<(String, Option<f64>)> {
                measures(&own[la])[id]["series"]
                    .as_array()
                    .map(|a| {
                        a.iter()
                            .map(|p| {
                                (
                                    p["period"].as_str().unwrap().to_owned(),
                                    p["value"].as_f64(),
                                )
                            })
                            .collect()
                    })
                    .unwrap_or_default()
            };
            if let Some(series) = gm["series"].as_array() {
                for (k, point) in series.iter().enumerate() {
                    let at: Vec<f64> = HELD
                        .iter()
                        .filter_map(|la| own_series(la).get(k).and_then(|p| p.1))
                        .collect();
                    assert_eq!(point["n"], at.len(), "{id} series {k}");
                    if !at.is_empty() {
                        assert!(
                            close(point["median"].as_f64().unwrap(), quantile(&at, 0.5)),
                            "{id} series median {k}"
                        );
                    }
                    assert_eq!(
                        point["focus"].as_f64(),
                        own_series("885").get(k).and_then(|p| p.1),
                        "{id} focus {k}"
                    );
                }
            } else {
                assert!(
                    HELD.iter().all(|la| own_series(la).is_empty()),
                    "{id}: no series"
                );
            }
        }
        assert!(compared > 60, "{compared} member figures compared");
        let series_of = |id: &str| group[id]["series"].as_array().map_or(0, Vec::len);
        assert_eq!(
            series_of("frontdoor.referrals"),
            8,
            "the front door trends too"
        );
        assert_eq!(series_of("finance.spend_in_period"), 8, "costs trend too");

        // The single-LA report compared with the group: each figure's group statistics, rank
        // and trend medians are the group report's.
        let compared_doc = client
            .generate_report(pb::GenerateReportRequest {
                la_code: "885".into(),
                period: PERIOD.into(),
                format: pb::Format::Json as i32,
                benchmark_group: "wm-test".into(),
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner();
        let single: Value = serde_json::from_slice(&compared_doc.content).unwrap();
        let mut with_group = 0;
        for (id, m) in measures(&single) {
            let Some(stats) = group
                .get(&id)
                .and_then(|gm| gm.get("figure"))
                .and_then(|f| f.get("stats"))
            else {
                assert!(
                    m.get("group").is_none(),
                    "{id}: a group figure without stats"
                );
                continue;
            };
            let g = &m["group"];
            assert_eq!(g["group"], "wm-test");
            assert_eq!(g["members"], 4);
            assert_eq!(&g["stats"], stats, "{}: {id} stats", b.name);
            assert_eq!(
                g.get("focus"),
                group[&id]["figure"].get("focus"),
                "{id} focus"
            );
            assert_eq!(g.get("series"), group[&id].get("series"), "{id} series");
            // The figure itself is the one the report without a group gives.
            assert_eq!(m["value"], measures(&own["885"])[&id]["value"], "{id}");
            with_group += 1;
        }
        assert!(
            with_group > 20,
            "{with_group} figures compared with the group"
        );
        // The CSV and the XLSX's Figures table carry the same group columns, numbers as
        // numbers; the report without a group leaves them empty.
        let compared_in = |format: pb::Format, group: &str| {
            let mut client = client.clone();
            let group = group.to_owned();
            async move {
                client
                    .generate_report(pb::GenerateReportRequest {
                        la_code: "885".into(),
                        period: PERIOD.into(),
                        format: format as i32,
                        benchmark_group: group,
                        ..Default::default()
                    })
                    .await
                    .unwrap()
                    .into_inner()
                    .content
            }
        };
        let by_id = measures(&single);
        let mut checked = 0;
        for (group, csv_doc) in [
            ("wm-test", compared_in(pb::Format::Csv, "wm-test").await),
            ("", compared_in(pb::Format::Csv, "").await),
        ] {
            let mut r = csv::Reader::from_reader(csv_doc.as_slice());
            let h = r.headers().unwrap().clone();
            let col = |name: &str| h.iter().position(|c| c == name).unwrap();
            for line in r.records() {
                let line = line.unwrap();
                let (id, row) = (&line[col("measure_id")], &line[col("row_key")]);
                let g = by_id.get(id).and_then(|m| m.get("group"));
                match g.filter(|_| row.is_empty() && !group.is_empty()) {
                    Some(g) => {
                        assert_eq!(&line[col("group")], "wm-test", "{id}");
                        let median: f64 = line[col("group_median")].parse().unwrap();
                        assert!(
                            close(median, g["stats"]["median"].as_f64().unwrap()),
                            "{id}"
                        );
                        assert_eq!(line[col("group_n")], g["stats"]["n"].to_string(), "{id}");
                        let rank = g.get("focus").map(|f| f["rank"].to_string());
                        assert_eq!(line[col("group_rank")], rank.unwrap_or_default(), "{id}");
                        checked += 1;
                    }
                    None => assert!(
                        (col("group")..col("group_quartile") + 1).all(|c| line[c].is_empty()),
                        "{id} {row}: group columns without a group"
                    ),
                }
            }
        }
        assert_eq!(checked, with_group, "every figure with a group in the CSV");
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("compared.xlsx");
        std::fs::write(&path, compared_in(pb::Format::Xlsx, "wm-test").await).unwrap();
        {
            use calamine::{Data, Reader};
            let mut book = calamine::open_workbook_auto(&path).unwrap();
            let figures = book.worksheet_range("Figures").unwrap();
            let mut rows = figures.rows();
            let h: Vec<String> = rows.next().unwrap().iter().map(|c| c.to_string()).collect();
            let col = |name: &str| h.iter().position(|c| c == name).unwrap();
            let mut in_xlsx = 0;
            for line in rows {
                let id = line[col("measure_id")].to_string();
                if !line[col("row_key")].to_string().is_empty() {
                    continue;
                }
                let Some(g) = by_id.get(id.as_str()).and_then(|m| m.get("group")) else {
                    continue;
                };
                let Data::Float(median) = line[col("group_median")] else {
                    panic!("{id}: the group's median is not a number in the XLSX");
                };
                // Percentages are fractions in a workbook.
                let unit = by_id[id.as_str()]["unit"].as_str().unwrap();
                let scale = if unit == "ratio" { 100.0 } else { 1.0 };
                assert!(
                    close(median * scale, g["stats"]["median"].as_f64().unwrap()),
                    "{id}"
                );
                in_xlsx += 1;
            }
            assert_eq!(in_xlsx, with_group, "every figure with a group in Figures");
            let headline = book.worksheet_range("Headline").unwrap();
            assert!(
                headline
                    .rows()
                    .next()
                    .unwrap()
                    .iter()
                    .any(|c| c.to_string().starts_with("In ")),
                "the Headline sheet's group column"
            );
        }
        let unknown = client
            .generate_report(pb::GenerateReportRequest {
                la_code: "885".into(),
                period: PERIOD.into(),
                benchmark_group: "no-such-group".into(),
                ..Default::default()
            })
            .await
            .unwrap_err();
        assert_eq!(unknown.code(), tonic::Code::NotFound);

        // Breakdown rows are their own reports' too: police's share of referrals.
        let police = group["frontdoor.referrals_by_source"]["rows"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["key"] == "police")
            .unwrap();
        assert_eq!(police["compares"], "percent");
        for (i, la) in HELD.iter().enumerate() {
            let mine = measures(&own[la]);
            let row = mine["frontdoor.referrals_by_source"]["rows"]
                .as_array()
                .unwrap()
                .iter()
                .find(|r| r["key"] == "police")
                .unwrap();
            assert_eq!(
                police["members"][i]["value"], row["percent"],
                "{la} police share"
            );
        }

        // The member not held: the DfE's published figure with its year, or not_held.
        let rereferrals = &group["frontdoor.rereferrals_12m"]["figure"]["members"][3];
        let (year, value) = published(
            "c1_children_in_need_referrals_and_rereferrals_2013_to_2025.csv",
            &[],
            "rereferral_percent",
            NOT_HELD,
        )
        .unwrap();
        assert_eq!(rereferrals["source"], "published");
        assert_eq!(rereferrals["year"], year);
        assert_eq!(rereferrals["value"].as_f64(), Some(value));
        assert_eq!(
            group["frontdoor.referrals"]["figure"]["members"][3]["source"],
            "not_held"
        );
        // England's latest published figure.
        let england = &group["frontdoor.rereferrals_12m"]["england"];
        assert_eq!(england["year"], 2025);
        assert_eq!(england["value"].as_f64(), Some(22.6));

        // Published: no member's count of 1–5 anywhere.
        let (doc, p) = group_report(&mut client, "", true).await;
        assert!(doc.published && p["published"] == true);
        let mut small = Vec::new();
        for (id, gm) in measures(&p) {
            let unit = gm["unit"].as_str().unwrap();
            let mut figures: Vec<&Value> = Vec::new();
            if let Some(f) = gm.get("figure") {
                figures.extend(f["members"].as_array().unwrap());
            }
            for row in gm
                .get("rows")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                figures.extend(row["members"].as_array().unwrap());
            }
            for f in figures {
                let count = |k: &str| {
                    f.get(k)
                        .and_then(Value::as_i64)
                        .filter(|n| (1..=5).contains(n))
                };
                let money = unit.starts_with("gbp");
                let is_count_value =
                    unit == "count" && f.get("numerator").is_none() && f["source"] == "live";
                if let Some(n) = count("numerator").filter(|_| !money) {
                    small.push(format!("{id} {} numerator {n}", f["la_code"]));
                }
                if let Some(n) = count("denominator").filter(|_| unit != "rate_per_10k") {
                    small.push(format!("{id} {} denominator {n}", f["la_code"]));
                }
                if let Some(n) = count("value").filter(|_| is_count_value) {
                    small.push(format!("{id} {} value {n}", f["la_code"]));
                }
            }
        }
        assert!(
            small.is_empty(),
            "{}: published counts 1-5: {small:?}",
            b.name
        );

        // Every other format renders; a Word group report is refused by field.
        for format in [
            pb::Format::Html,
            pb::Format::Markdown,
            pb::Format::Csv,
            pb::Format::Xlsx,
        ] {
            let doc = client
                .generate_group_report(pb::GenerateGroupReportRequest {
                    group: "region:west-midlands".into(),
                    period: PERIOD.into(),
                    la_code: "885".into(),
                    format: format as i32,
                    ..Default::default()
                })
                .await
                .unwrap()
                .into_inner();
            assert!(!doc.content.is_empty(), "{format:?}");
            assert_eq!(doc.members.len(), 14, "a region's every member is composed");
        }
        let word = client
            .generate_group_report(pb::GenerateGroupReportRequest {
                group: "wm-test".into(),
                period: PERIOD.into(),
                format: pb::Format::Docx as i32,
                ..Default::default()
            })
            .await
            .unwrap_err();
        assert_eq!(word.code(), tonic::Code::InvalidArgument);
        // A focus outside the group is refused, naming the field.
        let outside = client
            .generate_group_report(pb::GenerateGroupReportRequest {
                group: "wm-test".into(),
                period: PERIOD.into(),
                la_code: "201".into(),
                ..Default::default()
            })
            .await
            .unwrap_err();
        assert_eq!(outside.code(), tonic::Code::InvalidArgument, "{outside:?}");
        suite.stop().await;
    }
}
