//! `csc bench --service aggregator`: the full report end to end. Generates an LA at a scale,
//! serves every service on fresh SQLite files, imports the files through the APIs, then times
//! `GenerateReport` (a `ComputeMeasureSeries` call per service, composition, rendering, keeping)
//! in each format; and, with several LAs generated (`--scale region`, `england`), the group
//! report of them all and the single-LA report compared with that group.

use std::time::{Duration, Instant};

use csc_proto::reporting as pb;
use csc_runtime::{Shutdown, config::ServerArgs};

use crate::{generate, import, serve};

const UNTIL: &str = "2026-09-30";
const PERIOD: &str = "2026-27-Q2";

pub async fn run(scale: &str, years: u32) -> anyhow::Result<()> {
    let tmp = tempfile::tempdir()?;
    let t = Instant::now();
    let generated = generate::run(&generate::GenerateArgs {
        la: Vec::new(),
        out: tmp.path().join("generated"),
        scale: scale.into(),
        years,
        seed: 1,
        until: Some(UNTIL.into()),
    })?;
    let records: usize = generated.iter().flat_map(|g| g.counts.values()).sum();
    anyhow::ensure!(
        generated.iter().any(|g| g.la == "885"),
        "the report's LA, 885, was not generated"
    );
    eprintln!(
        "generated {} LAs, {records} rows, in {:.1?}",
        generated.len(),
        t.elapsed()
    );

    let (listeners, addrs) = serve::bind_all().await?;
    let shutdown = Shutdown::new();
    let server = tokio::spawn(serve::run_all(
        serve::AllArgs {
            data_dir: Some(tmp.path().join("data")),
            addrs: addrs.clone(),
            server: ServerArgs::default(),
        },
        listeners,
        shutdown.clone(),
    ));
    let result = async {
        serve::wait_until_serving(&addrs).await?;
        let t = Instant::now();
        let mut imported = import::ImportSummary::default();
        for g in &generated {
            import::import_generated(&addrs, &g.dir, Some(&g.la), &mut imported).await?;
        }
        let import_time = t.elapsed();
        eprintln!("imported in {import_time:.1?} ({:.0} rows/s)", records as f64 / import_time.as_secs_f64());

        // What each service's ComputeMeasures costs alone, for one period (second call).
        for service in serve::Service::DOMAIN {
            let mut best = Duration::MAX;
            for _ in 0..3 {
                let t = Instant::now();
                crate::measures::fetch(service, addrs.of(service), "885", PERIOD).await?;
                best = best.min(t.elapsed());
            }
            crate::out(&format!("{:<10} ComputeMeasures alone: {:>6.0} ms\n", service.name(), best.as_secs_f64() * 1e3));
        }
        let mut client = crate::client::connect_reporting(&addrs.aggregator).await?;
        crate::out(&format!(
            "report for LA 885 {PERIOD}, scale {scale}: {} LAs, {records} generated rows; import {import_time:.1?}\n\
             format   first      median of 5\n",
            generated.len()
        ));
        for format in [pb::Format::Json, pb::Format::Html, pb::Format::Xlsx, pb::Format::Csv, pb::Format::Markdown, pb::Format::Docx] {
            let mut times: Vec<Duration> = Vec::new();
            let mut size = 0;
            for _ in 0..6 {
                let t = Instant::now();
                let doc = client
                    .generate_report(pb::GenerateReportRequest {
                        la_code: "885".into(),
                        period: PERIOD.into(),
                        publish: false,
                        allow_partial: false,
                        format: format as i32,
                        requested_by: "bench".into(),
                        benchmark_group: String::new(),
                    })
                    .await
                    .map_err(crate::client::describe_status)?
                    .into_inner();
                times.push(t.elapsed());
                size = doc.content.len();
                let short = sections_short(&doc.sections)?;
                if times.len() == 1 && format == pb::Format::Json {
                    crate::out(&short);
                }
            }
            let first = times.remove(0);
            times.sort();
            crate::out(&format!(
                "{:<8} {:>8.0} ms {:>8.0} ms   ({} bytes)\n",
                format.as_str_name().trim_start_matches("FORMAT_").to_lowercase(),
                first.as_secs_f64() * 1e3,
                times[times.len() / 2].as_secs_f64() * 1e3,
                size
            ));
        }
        if generated.len() > 1 {
            group_reports(&mut client, &generated, scale == "region").await?;
        }
        anyhow::Ok(())
    }
    .await;
    shutdown.cancel();
    server.await??;
    result
}

/// The sections of a report that are not `ok`, a line each. A section whose service failed
/// (`unavailable`) makes the timing meaningless and is an error; a `partial` or `no_data` one is
/// what the generated years support (two years do not reach back to the repeat-plan measures'
/// look-back) and is said, not fatal.
pub(crate) fn sections_short(sections: &[pb::SectionStatus]) -> anyhow::Result<String> {
    let failed: Vec<&str> = sections
        .iter()
        .filter(|s| s.status == "unavailable")
        .map(|s| s.id.as_str())
        .collect();
    anyhow::ensure!(
        failed.is_empty(),
        "sections unavailable: {}",
        failed.join(", ")
    );
    Ok(sections
        .iter()
        .filter(|s| s.status != "ok")
        .map(|s| {
            format!(
                "section {:<28} {} (what the generated years support)\n",
                s.id, s.status
            )
        })
        .collect())
}

/// The group report of every generated LA (the West Midlands region for `--scale region`, a
/// custom group of them all otherwise), focused on 885, as JSON and HTML; then 885's report
/// compared with the group. First call and median of 3.
async fn group_reports(
    client: &mut crate::client::ReportingClient,
    generated: &[generate::Generated],
    region: bool,
) -> anyhow::Result<()> {
    let las: Vec<String> = generated.iter().map(|g| g.la.clone()).collect();
    let group = if region {
        "region:west-midlands".to_owned()
    } else {
        client
            .set_group(pb::Group {
                name: "bench-all".into(),
                title: format!("All {} LAs", las.len()),
                members: las.clone(),
                ..Default::default()
            })
            .await
            .map_err(crate::client::describe_status)?;
        "bench-all".to_owned()
    };
    crate::out(&format!(
        "group {group} ({} LAs), focus 885, {PERIOD}\nwhat                 first      median of 3\n",
        las.len()
    ));
    let time = |t: Vec<Duration>| {
        let mut t = t;
        let first = t.remove(0);
        t.sort();
        (first, t[t.len() / 2])
    };
    for format in [pb::Format::Json, pb::Format::Html] {
        let mut times = Vec::new();
        for _ in 0..4 {
            let t = Instant::now();
            let doc = client
                .generate_group_report(pb::GenerateGroupReportRequest {
                    group: group.clone(),
                    period: PERIOD.into(),
                    la_code: "885".into(),
                    publish: false,
                    format: format as i32,
                    requested_by: "bench".into(),
                })
                .await
                .map_err(crate::client::describe_status)?
                .into_inner();
            times.push(t.elapsed());
            anyhow::ensure!(doc.members.len() == las.len(), "a member was not composed");
        }
        let (first, median) = time(times);
        crate::out(&format!(
            "group {:<14} {:>8.0} ms {:>8.0} ms\n",
            format
                .as_str_name()
                .trim_start_matches("FORMAT_")
                .to_lowercase(),
            first.as_secs_f64() * 1e3,
            median.as_secs_f64() * 1e3
        ));
    }
    let mut times = Vec::new();
    for _ in 0..4 {
        let t = Instant::now();
        client
            .generate_report(pb::GenerateReportRequest {
                la_code: "885".into(),
                period: PERIOD.into(),
                format: pb::Format::Json as i32,
                requested_by: "bench".into(),
                benchmark_group: group.clone(),
                ..Default::default()
            })
            .await
            .map_err(crate::client::describe_status)?;
        times.push(t.elapsed());
    }
    let (first, median) = time(times);
    crate::out(&format!(
        "885 compared, json   {:>8.0} ms {:>8.0} ms\n",
        first.as_secs_f64() * 1e3,
        median.as_secs_f64() * 1e3
    ));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn section(id: &str, status: &str) -> pb::SectionStatus {
        pb::SectionStatus {
            id: id.into(),
            title: String::new(),
            status: status.into(),
        }
    }

    #[test]
    fn a_partial_section_is_said_and_an_unavailable_one_fails_the_bench() {
        let short = sections_short(&[
            section("contacts", "ok"),
            section("child_protection", "partial"),
        ])
        .unwrap();
        assert!(
            short.contains("child_protection") && short.contains("partial"),
            "{short}"
        );
        assert!(!short.contains("contacts"), "{short}");
        let failed = sections_short(&[
            section("child_protection", "partial"),
            section("costs", "unavailable"),
        ])
        .unwrap_err();
        assert_eq!(failed.to_string(), "sections unavailable: costs");
    }
}
