//! The quarterly report end to end: a generated LA imported into the whole suite (five services
//! in-process on ephemeral ports, each on its own database), the report generated through the
//! aggregator's API, and its figures checked against values computed here, independently, from
//! the generated files themselves and the DfE reference files.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::NaiveDate;
use csc::serve::Service;
use csc_proto::reporting as pb;
use serde_json::Value;

const LA: &str = "885";
const PERIOD: &str = "2026-27-Q2";

fn d(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .or_else(|_| NaiveDate::parse_from_str(s, "%d/%m/%Y"))
        .unwrap_or_else(|_| panic!("date {s:?}"))
}

fn ymd(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).unwrap()
}

/// The text of every `<name>…</name>` in `block`, in order.
fn tags<'a>(block: &'a str, name: &str) -> Vec<&'a str> {
    let (open, close) = (format!("<{name}>"), format!("</{name}>"));
    let mut out = Vec::new();
    let mut rest = block;
    while let Some(i) = rest.find(&open) {
        let after = &rest[i + open.len()..];
        let j = after.find(&close).expect("closed");
        out.push(&after[..j]);
        rest = &after[j..];
    }
    out
}

fn tag<'a>(block: &'a str, name: &str) -> Option<&'a str> {
    tags(block, name).into_iter().next()
}

/// What the generated CIN censuses say, deduplicated by natural key.
#[derive(Default)]
struct Cin {
    /// (child, referral date) → source.
    referrals: BTreeMap<(String, NaiveDate), String>,
    /// (child, start) → end.
    cp: BTreeMap<(String, NaiveDate), Option<NaiveDate>>,
    cin: BTreeMap<(String, NaiveDate), Option<NaiveDate>>,
}

fn read_cin(dir: &std::path::Path) -> Cin {
    let mut out = Cin::default();
    let mut files: Vec<_> = std::fs::read_dir(dir.join("cin"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    for f in files {
        let text = std::fs::read_to_string(f).unwrap();
        for child in text.split("<Child>").skip(1) {
            let id = tag(child, "LAchildID").unwrap().to_owned();
            for ep in child.split("<CINdetails>").skip(1) {
                let r = d(tag(ep, "CINreferralDate").unwrap());
                out.referrals.insert(
                    (id.clone(), r),
                    tag(ep, "ReferralSource").unwrap().to_owned(),
                );
                for plan in tags(ep, "ChildProtectionPlans") {
                    let s = d(tag(plan, "CPPstartDate").unwrap());
                    out.cp
                        .insert((id.clone(), s), tag(plan, "CPPendDate").map(d));
                }
                for plan in tags(ep, "CINPlanDates") {
                    let s = d(tag(plan, "CINPlanStartDate").unwrap());
                    out.cin
                        .insert((id.clone(), s), tag(plan, "CINPlanEndDate").map(d));
                }
            }
        }
    }
    out
}

fn csv_rows(path: &std::path::Path) -> Vec<HashMap<String, String>> {
    let mut r = csv::Reader::from_path(path).unwrap();
    let headers: Vec<String> = r
        .headers()
        .unwrap()
        .iter()
        .map(|h| h.trim_start_matches('\u{feff}').to_owned())
        .collect();
    r.records()
        .map(|rec| {
            headers
                .iter()
                .cloned()
                .zip(rec.unwrap().iter().map(str::to_owned))
                .collect()
        })
        .collect()
}

/// `100 n / d` to 1 dp, half away from zero (n, d ≥ 0).
fn pct(n: i64, den: i64) -> f64 {
    ((2000 * n + den) / (2 * den)) as f64 / 10.0
}

fn open_at(start: NaiveDate, end: Option<NaiveDate>, at: NaiveDate) -> bool {
    start <= at && end.is_none_or(|e| e > at)
}

fn quarter(id: &str) -> (NaiveDate, NaiveDate) {
    let p: csc_core::Period = id.parse().unwrap();
    (p.start(), p.end())
}

fn measure<'a>(report: &'a Value, id: &str) -> &'a Value {
    report["sections"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|s| s["measures"].as_array().unwrap())
        .find(|m| m["id"] == id)
        .unwrap_or_else(|| panic!("no measure {id}"))
}

fn row<'a>(m: &'a Value, key: &str) -> &'a Value {
    m["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["key"] == key)
        .unwrap_or_else(|| panic!("no row {key}"))
}

/// The latest national figure and the neighbours' median of a DfE column, computed here from the
/// files in `../shared/reference/dfe`.
fn published(file: &str, filter: &[(&str, &str)], column: &str) -> (i32, f64, f64) {
    let rows: Vec<_> = csv_rows(&csc_e2e::sample("../reference/dfe").join(file))
        .into_iter()
        .filter(|r| filter.iter().all(|(c, v)| r[*c] == *v))
        .collect();
    let year = rows
        .iter()
        .filter(|r| r["geographic_level"] == "National")
        .map(|r| r["time_period"].parse::<i32>().unwrap())
        .max()
        .unwrap();
    let of = |level: &str, la: &str| {
        rows.iter()
            .find(|r| {
                r["geographic_level"] == level
                    && r["time_period"] == year.to_string()
                    && (la.is_empty() || r["old_la_code"] == la)
            })
            .and_then(|r| r[column].parse::<f64>().ok())
    };
    let sn = csv_rows(&csc_e2e::sample("../reference/dfe/sn_model_2025_wide.csv"));
    let ours = sn.iter().find(|r| r["old_la_code"] == LA).unwrap();
    let mut vals: Vec<f64> = (1..=10)
        .filter_map(|i| of("Local authority", &ours[&format!("SN_{i}")]))
        .collect();
    vals.sort_by(f64::total_cmp);
    let n = vals.len();
    let median = if n % 2 == 1 {
        vals[n / 2]
    } else {
        (vals[n / 2 - 1] + vals[n / 2]) / 2.0
    };
    (year, of("National", "").unwrap(), median)
}

async fn generate(
    client: &mut csc::report::ReportingClient,
    period: &str,
    publish: bool,
) -> (String, Value) {
    let doc = client
        .generate_report(pb::GenerateReportRequest {
            la_code: LA.into(),
            period: period.into(),
            publish,
            allow_partial: false,
            format: pb::Format::Json as i32,
            requested_by: "e2e".into(),
            benchmark_group: String::new(),
        })
        .await
        .expect("report")
        .into_inner();
    (doc.report_id, serde_json::from_slice(&doc.content).unwrap())
}

/// Every figure a published report shows that is a count: never 1–5.
fn small_counts(v: &Value, unit: &str, path: &str, out: &mut Vec<String>) {
    match v {
        Value::Object(m) => {
            let unit = m.get("unit").and_then(Value::as_str).unwrap_or(unit);
            let money = matches!(unit, "gbp" | "gbp_per_week");
            for (k, x) in m {
                // Money totals are pence and a rate's denominator is a population: not counts.
                let is_count = match k.as_str() {
                    "numerator" => !money,
                    "denominator" => unit != "rate_per_10k",
                    "value" => unit == "count" && !m.contains_key("numerator"),
                    _ => false,
                };
                if is_count
                    && x.as_i64().is_some_and(|n| (1..=5).contains(&n))
                    && path.contains("sections")
                    && !path.contains("benchmarks")
                {
                    out.push(format!("{path}.{k} = {x}"));
                }
                small_counts(x, unit, &format!("{path}.{k}"), out);
            }
        }
        Value::Array(a) => {
            for (i, x) in a.iter().enumerate() {
                small_counts(x, unit, &format!("{path}[{i}]"), out);
            }
        }
        _ => {}
    }
}

/// `ComputeMeasureSeries` of every domain service equals its `ComputeMeasures` for each period
/// alone, figure by figure and row by row.
async fn series_equals_each_period(addrs: &csc::ClientAddrs, periods: &[String], backend: &str) {
    use csc_proto::common::{ComputeMeasureSeriesRequest, ComputeMeasuresRequest};
    let series_req = || ComputeMeasureSeriesRequest {
        la_code: LA.into(),
        periods: periods.to_vec(),
    };
    let one = |p: &String| ComputeMeasuresRequest {
        la_code: LA.into(),
        period: p.clone(),
    };
    macro_rules! check {
        ($connect:ident, $addr:expr) => {{
            let mut c = csc::client::$connect($addr).await.unwrap();
            let series = c
                .compute_measure_series(series_req())
                .await
                .unwrap()
                .into_inner();
            assert_eq!(series.periods.len(), periods.len());
            for (p, got) in periods.iter().zip(&series.periods) {
                let alone = c.compute_measures(one(p)).await.unwrap().into_inner();
                assert_eq!(
                    csc_e2e::figures(p, &got.measures),
                    csc_e2e::figures(p, &alone.measures),
                    "{backend}: {} {p}",
                    stringify!($connect)
                );
                assert_eq!(got.period, alone.period);
            }
        }};
    }
    check!(connect_frontdoor, &addrs.frontdoor);
    check!(connect_protection, &addrs.protection);
    check!(connect_placements, &addrs.placements);
    check!(connect_finance, &addrs.finance);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_report_matches_figures_computed_from_the_generated_files() {
    let gen_dir = tempfile::tempdir().unwrap();
    csc::generate::generate(
        &csc::generate::Config {
            la: LA.into(),
            children: 30_000,
            years: 3,
            seed: 11,
            until: ymd(2026, 9, 30),
        },
        gen_dir.path(),
    )
    .unwrap();
    let dir = gen_dir.path();
    let cin = read_cin(dir);
    let episodes = csv_rows(&dir.join("ssda903/episodes.csv"));
    let costs = csv_rows(&dir.join("costs.csv"));

    for b in csc_e2e::backends().await {
        let mut suite = csc_e2e::Suite::start(&b).await;
        let mut imported = csc::import::ImportSummary::default();
        csc::import::import_generated(&suite.addrs, dir, None, &mut imported)
            .await
            .unwrap();
        assert!(
            imported.rejected.is_empty(),
            "{}: the generated files import cleanly",
            b.name
        );

        let mut client = csc::client::connect_reporting(&suite.addrs.aggregator)
            .await
            .unwrap();
        client
            .set_commentary(pb::Commentary {
                la_code: LA.into(),
                period: PERIOD.into(),
                section: "child_protection".into(),
                text: "Plans are falling.\n\nReviews are on time.".into(),
                author: "analyst".into(),
                updated_at: String::new(),
            })
            .await
            .unwrap();
        let (id, r) = generate(&mut client, PERIOD, false).await;
        assert_eq!(r["la_code"], LA);
        assert_eq!(r["period"]["id"], PERIOD);
        assert_eq!(r["period"]["start"], "2026-07-01");
        assert_eq!(r["published"], false);
        for s in r["sections"].as_array().unwrap() {
            assert_eq!(s["status"], "ok", "{}: section {}", b.name, s["id"]);
        }
        let cp_section = r["sections"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["id"] == "child_protection")
            .unwrap();
        assert_eq!(
            cp_section["commentary"],
            "Plans are falling.\n\nReviews are on time."
        );

        // Referrals: this quarter, the previous, a year earlier, and the 8-quarter series.
        let referrals_in = |q: &str| {
            let (s, e) = quarter(q);
            cin.referrals
                .keys()
                .filter(|(_, r)| *r >= s && *r <= e)
                .count() as i64
        };
        let m = measure(&r, "frontdoor.referrals");
        assert_eq!(m["value"], referrals_in(PERIOD), "{}: referrals", b.name);
        assert_eq!(m["previous"]["period"], "2026-27-Q1");
        assert_eq!(m["previous"]["value"], referrals_in("2026-27-Q1"));
        assert_eq!(m["year_earlier"]["period"], "2025-26-Q2");
        assert_eq!(m["year_earlier"]["value"], referrals_in("2025-26-Q2"));
        // The 8-quarter series, the front door's too, each quarter its own count.
        let series: Vec<(String, i64)> = m["series"]
            .as_array()
            .expect("a referrals series")
            .iter()
            .map(|p| {
                (
                    p["period"].as_str().unwrap().to_owned(),
                    p["value"].as_i64().unwrap(),
                )
            })
            .collect();
        let trend = csc_aggregator::domain::compose::trend_periods(&PERIOD.parse().unwrap());
        assert_eq!(series.len(), 8);
        for ((id, n), p) in series.iter().zip(&trend) {
            assert_eq!((id.as_str(), *n), (p.id().as_str(), referrals_in(&p.id())));
        }
        // Costs trend too.
        assert_eq!(
            measure(&r, "finance.spend_in_period")["series"]
                .as_array()
                .map(Vec::len),
            Some(8)
        );

        // Each service's series (one read for every period) equals its measures period by
        // period, for the trend's quarters and two whole years.
        let mut periods: Vec<String> = trend.iter().map(csc_core::Period::id).collect();
        periods.extend(["2025-26".to_owned(), "2024-25".to_owned()]);
        series_equals_each_period(&suite.addrs, &periods, b.name).await;

        // Police referrals and their share.
        let (s, e) = quarter(PERIOD);
        let total = referrals_in(PERIOD);
        let police = cin
            .referrals
            .iter()
            .filter(|((_, r), src)| *r >= s && *r <= e && src.as_str() == "6")
            .count() as i64;
        let p = row(measure(&r, "frontdoor.referrals_by_source"), "police");
        assert_eq!(p["value"], police);
        assert_eq!(p["percent"].as_f64().unwrap(), pct(police, total));

        // Children on a CP plan, children in need, children looked after, at the end.
        let cp_children: BTreeSet<&String> = cin
            .cp
            .iter()
            .filter(|((_, s0), e0)| open_at(*s0, **e0, e))
            .map(|((c, _), _)| c)
            .collect();
        let cin_children: BTreeSet<&String> = cin
            .cin
            .iter()
            .filter(|((c, s0), e0)| open_at(*s0, **e0, e) && !cp_children.contains(c))
            .map(|((c, _), _)| c)
            .collect();
        let cla: BTreeSet<&String> = episodes
            .iter()
            .filter(|ep| {
                let dec = (!ep["DEC"].is_empty()).then(|| d(&ep["DEC"]));
                open_at(d(&ep["DECOM"]), dec, e) && !matches!(ep["LS"].as_str(), "V3" | "V4")
            })
            .map(|ep| &ep["CHILD"])
            .collect();
        let (ncp, ncin, ncla) = (
            cp_children.len() as i64,
            cin_children.len() as i64,
            cla.len() as i64,
        );
        // The CP count over the last 8 quarters (the CP rate chart's series).
        let cp_at = |at: NaiveDate| {
            cin.cp
                .iter()
                .filter(|((_, s0), e0)| open_at(*s0, **e0, at))
                .map(|((c, _), _)| c)
                .collect::<BTreeSet<_>>()
                .len() as i64
        };
        let series = measure(&r, "protection.cp_children_at_end")["series"]
            .as_array()
            .unwrap()
            .clone();
        assert_eq!(series.len(), 8);
        assert_eq!(series[0]["period"], "2024-25-Q3");
        for p in &series {
            let (_, end) = quarter(p["period"].as_str().unwrap());
            assert_eq!(p["value"], cp_at(end), "{}: CP children at {end}", b.name);
        }
        assert_eq!(measure(&r, "protection.cp_children_at_end")["value"], ncp);
        assert_eq!(measure(&r, "placements.cla_at_end")["value"], ncla);
        let share = measure(&r, "protection.cin_share_of_open_cases");
        assert_eq!(
            (share["numerator"].as_i64(), share["denominator"].as_i64()),
            (Some(ncin), Some(ncin + ncp + ncla))
        );
        assert_eq!(
            share["value"].as_f64().unwrap(),
            pct(ncin, ncin + ncp + ncla)
        );

        // Rates: the mid-2026 estimate is not published, so the latest (mid-2024, 120,119).
        let pop = 120_119i64;
        let cp_rate = measure(&r, "protection.cp_rate_per_10k");
        assert_eq!(cp_rate["unit"], "rate_per_10k");
        assert_eq!(
            (
                cp_rate["numerator"].as_i64(),
                cp_rate["denominator"].as_i64()
            ),
            (Some(ncp), Some(pop))
        );
        assert_eq!(
            cp_rate["value"].as_f64().unwrap(),
            ((ncp * 100_000 * 2 + pop) / (2 * pop)) as f64 / 10.0
        );
        assert_eq!(cp_rate["population"]["source"], "ons_latest");
        assert_eq!(cp_rate["population"]["year"], 2024);
        let cla_rate = measure(&r, "placements.cla_rate_per_10k");
        assert_eq!(cla_rate["value"], (ncla * 10_000 * 2 + pop) / (2 * pop));

        // Placement costs active at the end: the number and the mean to the nearest pound.
        let active: Vec<i64> = costs
            .iter()
            .filter(|c| {
                open_at(
                    d(&c["start_date"]),
                    (!c["end_date"].is_empty()).then(|| d(&c["end_date"])),
                    e,
                )
            })
            .map(|c| c["weekly_cost_pence"].parse::<i64>().unwrap())
            .collect();
        let uc = measure(&r, "finance.unit_costs");
        let n = active.len() as i64;
        let sum: i64 = active.iter().sum();
        assert_eq!(uc["denominator"], n);
        assert_eq!(
            uc["value"],
            (sum * 2 + n * 100) / (n * 200),
            "{}: mean weekly cost in pounds",
            b.name
        );

        // Benchmarks: the latest England figure and the neighbours' median, from the DfE files.
        let (year, england, sn) = published(
            "c1_children_in_need_referrals_and_rereferrals_2013_to_2025.csv",
            &[],
            "rereferral_percent",
        );
        let bm = &measure(&r, "frontdoor.rereferrals_12m")["benchmarks"];
        assert_eq!(bm["year"], year);
        assert_eq!(bm["england"].as_f64().unwrap(), england);
        assert!((bm["statistical_neighbours"].as_f64().unwrap() - sn).abs() < 1e-9);
        let (year, england, _) = published(
            "la_cla_swcount.csv",
            &[("sw_stability", "3 or more social workers during the year")],
            "percentage",
        );
        let bm = &measure(&r, "placements.social_workers_3plus_12m")["benchmarks"];
        assert_eq!(
            (bm["year"].as_i64(), bm["england"].as_f64()),
            (Some(i64::from(year)), Some(england))
        );

        // An operator's population override is used from the next report on.
        client
            .set_population(pb::PopulationOverride {
                la_code: LA.into(),
                year: 2026,
                population: 100_000,
            })
            .await
            .unwrap();
        let (_, r2) = generate(&mut client, PERIOD, false).await;
        let cp_rate = measure(&r2, "protection.cp_rate_per_10k");
        assert_eq!(cp_rate["denominator"], 100_000);
        assert_eq!(cp_rate["population"]["source"], "override");

        // Published: no count of 1–5 anywhere, and suppressed figures are "c".
        let (_, published) = generate(&mut client, PERIOD, true).await;
        assert_eq!(published["published"], true);
        let mut bad = Vec::new();
        small_counts(&published, "count", "", &mut bad);
        assert!(
            bad.is_empty(),
            "{}: published counts of 1-5: {bad:?}",
            b.name
        );
        assert!(
            serde_json::to_string(&published).unwrap().contains("\"c\""),
            "something small was suppressed"
        );

        // Every report is kept, and renders again as it was.
        let again = client
            .get_report(pb::GetReportRequest {
                report_id: id.clone(),
                format: pb::Format::Json as i32,
            })
            .await
            .unwrap()
            .into_inner();
        assert_eq!(serde_json::from_slice::<Value>(&again.content).unwrap(), r);
        let list = client
            .list_reports(pb::ListReportsRequest {
                la_code: LA.into(),
                period: PERIOD.into(),
                page_size: 10,
                page_token: String::new(),
            })
            .await
            .unwrap()
            .into_inner();
        assert_eq!(list.reports.len(), 3);
        assert!(
            list.reports
                .iter()
                .any(|x| x.report_id == id && x.requested_by == "e2e")
        );

        // One domain service stopped: its section is unavailable, the rest still comes out.
        suite.stop_one(Service::Finance).await;
        let (_, r3) = generate(&mut client, PERIOD, false).await;
        for s in r3["sections"].as_array().unwrap() {
            let expected = if s["id"] == "costs" {
                "unavailable"
            } else {
                "ok"
            };
            assert_eq!(s["status"], expected, "{}: section {}", b.name, s["id"]);
            if s["id"] == "costs" {
                assert!(s["measures"].as_array().unwrap().is_empty());
            }
        }
        assert_eq!(
            measure(&r3, "frontdoor.referrals")["value"],
            referrals_in(PERIOD)
        );
        suite.stop().await;
    }
}

#[tokio::test]
async fn reporting_api_refuses_bad_requests_naming_the_field() {
    let b = csc_e2e::backends().await.remove(0);
    let suite = csc_e2e::Suite::start(&b).await;
    let mut client = csc::client::connect_reporting(&suite.addrs.aggregator)
        .await
        .unwrap();
    let field = |s: tonic::Status| {
        use tonic_types::StatusExt;
        assert_eq!(s.code(), tonic::Code::InvalidArgument, "{s:?}");
        s.get_details_bad_request()
            .unwrap()
            .field_violations
            .into_iter()
            .map(|v| v.field)
            .collect::<Vec<_>>()
    };
    let e = client
        .generate_report(pb::GenerateReportRequest {
            la_code: "88".into(),
            period: "2026-Q5".into(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(field(e), ["la_code", "period"]);
    let e = client
        .set_commentary(pb::Commentary {
            la_code: LA.into(),
            period: PERIOD.into(),
            section: "nope".into(),
            text: "x".into(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(field(e), ["section"]);
    let e = client
        .load_reference_table(pb::LoadReferenceTableRequest {
            table: "cla_rate".into(),
            source: "bad".into(),
            content: b"a,b\n1,2\n".to_vec(),
        })
        .await
        .unwrap_err();
    assert_eq!(field(e), ["content"]);
    let e = client
        .get_report(pb::GetReportRequest {
            report_id: "missing".into(),
            format: 0,
        })
        .await
        .unwrap_err();
    assert_eq!(e.code(), tonic::Code::NotFound);
    // A newer release of a table replaces it.
    let t = client
        .list_reference_tables(pb::ListReferenceTablesRequest {})
        .await
        .unwrap()
        .into_inner();
    assert_eq!(t.tables.len(), 8);
    assert!(t.tables.iter().all(|t| t.rows > 0 && !t.source.is_empty()));
    let release = "time_period,time_identifier,geographic_level,country_code,country_name,region_code,region_name,old_la_code,la_name,new_la_code,cla_group,sw_stability,number,percentage\n\
                   2025,Reporting year,National,E92000001,England,,,,,,CLA on 31 March,3 or more social workers during the year,20000,24\n";
    let info = client
        .load_reference_table(pb::LoadReferenceTableRequest {
            table: "cla_social_workers".into(),
            source: "swcount_2025.csv".into(),
            content: release.as_bytes().to_vec(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        (info.rows, info.latest_year, info.source.as_str()),
        (1, 2025, "swcount_2025.csv")
    );
    suite.stop().await;
}
