//! `csc import dfe-api`: DfE CSC API payload files (a day's file, or a folder of them) sent to
//! the intake exactly as the DfE endpoint takes them, in requests of at most 100 records; and
//! `csc bench --service intake`, a county's daily payload taken in on SQLite.
//!
//! A record the intake refuses (invalid against the DfE's schema, or holding a value a domain
//! service refuses) is reported with its file, its index and the field, and the request is sent
//! again without it, so every valid record lands. What a record holds that no domain record can
//! take yet (a plan without its start date) is a warning.

use std::path::{Path, PathBuf};

use csc_proto::intake::{self as pb, intake_service_client::IntakeServiceClient};
use serde_json::Value;
use tonic::Code;
use tonic_types::StatusExt;

use crate::import::ImportSummary;

/// The tally the summary counts payload records under.
const KIND: &str = "dfe api children";

pub type IntakeClient = IntakeServiceClient<csc_runtime::client::AuthChannel>;

pub async fn connect(addr: &str) -> anyhow::Result<IntakeClient> {
    Ok(
        IntakeServiceClient::new(crate::client::channel(addr, "intake").await?)
            .max_decoding_message_size(csc_runtime::MAX_MESSAGE_BYTES)
            .max_encoding_message_size(csc_runtime::MAX_MESSAGE_BYTES),
    )
}

/// The payload files `paths` name: each file, and each folder's `.json` files in name order
/// (name a day's files by date, as the DfE's receipts are, and they apply in date order).
pub fn payload_files(paths: &[PathBuf]) -> anyhow::Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for p in paths {
        if p.is_dir() {
            let files = json_files(p)?;
            if files.is_empty() {
                anyhow::bail!("{}: no .json payload file in the folder", p.display());
            }
            out.extend(files);
        } else {
            out.push(p.clone());
        }
    }
    Ok(out)
}

/// A folder's `.json` files, in name order.
pub fn json_files(dir: &Path) -> anyhow::Result<Vec<PathBuf>> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| anyhow::anyhow!("{}: {e}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|f| {
            f.extension()
                .is_some_and(|x| x.eq_ignore_ascii_case("json"))
        })
        .collect();
    files.sort();
    Ok(files)
}

/// Sends every record of `file` to the intake for LA `la`, in requests of at most 100.
pub async fn import_file(
    client: &mut IntakeClient,
    file: &Path,
    la: &str,
    report: &mut ImportSummary,
) -> anyhow::Result<()> {
    let name = file.display().to_string();
    let text = match std::fs::read(file) {
        Ok(t) => t,
        Err(e) => {
            report.refuse_file(&name, format!("cannot be read: {e}"));
            return Ok(());
        }
    };
    let records = match serde_json::from_slice::<Value>(&text) {
        Ok(Value::Array(r)) => r,
        Ok(_) => {
            report.refuse_file(
                &name,
                "not a DfE CSC API payload: the file is JSON, but not an array of child records",
            );
            return Ok(());
        }
        Err(e) => {
            report.refuse_file(&name, format!("not JSON: {e}; nothing was imported"));
            return Ok(());
        }
    };
    if records.is_empty() {
        report
            .notes
            .push(format!("{name}: an empty payload (no child record)"));
    }
    for (b, batch) in records.chunks(csc_intake::schema::MAX_RECORDS).enumerate() {
        let first = b * csc_intake::schema::MAX_RECORDS;
        // (index in the file, record); those refused are left out and the rest sent again.
        let mut pending: Vec<(usize, &Value)> = batch
            .iter()
            .enumerate()
            .map(|(i, r)| (first + i, r))
            .collect();
        while !pending.is_empty() {
            let refused = send(client, &name, la, &pending, report).await?;
            if refused.is_empty() {
                break;
            }
            pending.retain(|(i, _)| !refused.contains(i));
        }
    }
    Ok(())
}

fn child_of(r: &Value) -> String {
    r.get("la_child_id")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned()
}

/// One request: the file indices refused (to leave out and send the rest again), or none when
/// it was applied.
async fn send(
    client: &mut IntakeClient,
    file: &str,
    la: &str,
    records: &[(usize, &Value)],
    report: &mut ImportSummary,
) -> anyhow::Result<Vec<usize>> {
    let body: Vec<&Value> = records.iter().map(|(_, r)| *r).collect();
    let req = pb::SubmitChildrenRequest {
        la_code: la.to_owned(),
        payload: serde_json::to_vec(&body)?,
        children: records
            .iter()
            .map(|(_, r)| pb::ChildRef {
                la_code: la.to_owned(),
                child_id: child_of(r),
            })
            .collect(),
    };
    let answer = crate::client::retrying(
        crate::client::Retry::IMPORT,
        "a DfE payload request",
        || {
            let mut c = client.clone();
            let req = req.clone();
            async move { c.submit_children(req).await }
        },
    )
    .await;
    match answer {
        Ok(resp) => {
            for (receipt, (i, r)) in resp.into_inner().receipts.iter().zip(records) {
                let t = report.tallies.entry(KIND).or_default();
                t.received += 1;
                if receipt.changed || receipt.written + receipt.deleted > 0 {
                    t.accepted += 1;
                } else {
                    t.unchanged += 1;
                }
                for n in &receipt.not_held {
                    report.warn("dfe api", &child_of(r), format!("{file}[{i}]"), n.clone());
                }
            }
            report.las_sent.insert(la.to_owned());
            Ok(Vec::new())
        }
        Err(s) if s.code() == Code::InvalidArgument => {
            let violations = s
                .get_details_bad_request()
                .map(|b| b.field_violations)
                .unwrap_or_default();
            let mut by_record: std::collections::BTreeMap<usize, Vec<(String, String)>> =
                Default::default();
            for v in &violations {
                let Some(local) = csc_intake::http::index_of(&v.field) else {
                    // Not one record's: the request itself (cannot happen for a file read
                    // here, but never silently).
                    anyhow::bail!("{file}: the intake refused the request: {}", s.message());
                };
                let Some((i, _)) = records.get(local as usize) else {
                    anyhow::bail!(
                        "{file}: the intake named record {local} of {}",
                        records.len()
                    );
                };
                let rest = v.field[v.field.find(']').map_or(0, |p| p + 1)..]
                    .trim_start_matches('.')
                    .to_owned();
                by_record
                    .entry(*i)
                    .or_default()
                    .push((format!("{file}[{i}].{rest}"), v.description.clone()));
            }
            if by_record.is_empty() {
                anyhow::bail!("{file}: the intake refused the request: {}", s.message());
            }
            let mut refused = Vec::new();
            for (i, problems) in by_record {
                let child = records
                    .iter()
                    .find(|(j, _)| *j == i)
                    .map(|(_, r)| child_of(r))
                    .unwrap_or_default();
                report.reject_record(KIND, &child, problems);
                refused.push(i);
            }
            Ok(refused)
        }
        Err(s) => Err(anyhow::anyhow!(
            "{file}: {}",
            crate::client::describe_status(s)
        )),
    }
}

/// `csc import dfe-api`: every file, in the order given (a folder's in name order).
pub async fn import(
    paths: &[PathBuf],
    la: &str,
    intake: &str,
    report: &mut ImportSummary,
) -> anyhow::Result<()> {
    let la = csc_core::LaCode::parse(la)
        .map_err(|e| anyhow::anyhow!("--la: {e}"))?
        .to_string();
    let files = payload_files(paths)?;
    let mut client = connect(intake).await?;
    for f in &files {
        import_file(&mut client, f, &la, report).await?;
    }
    Ok(())
}

/// `csc bench --service intake`: a county's daily payload, `children` open cases, generated
/// and taken in through the intake on SQLite (in a temporary folder), in requests of 100 as the
/// DfE's clients send them; then the same payload again (nothing to change).
pub async fn bench(children: usize) -> anyhow::Result<()> {
    use std::time::Instant;
    let dir = tempfile::tempdir()?;
    let (listeners, addrs) = crate::serve::bind_all().await?;
    let shutdown = csc_runtime::Shutdown::new();
    let args = crate::serve::AllArgs {
        data_dir: Some(dir.path().to_owned()),
        addrs: addrs.clone(),
        server: csc_runtime::config::ServerArgs::default(),
    };
    let served = tokio::spawn(crate::serve::run_all(args, listeners, shutdown.clone()));
    crate::serve::wait_until_serving(&addrs).await?;
    let records = payload(children.max(1));
    let mut client = connect(&addrs.intake).await?;
    let mut timings = Vec::new();
    for round in ["first", "again"] {
        let started = Instant::now();
        let mut report = ImportSummary::default();
        for chunk in records.chunks(csc_intake::schema::MAX_RECORDS) {
            let indexed: Vec<(usize, &Value)> = chunk.iter().enumerate().collect();
            let refused = send(&mut client, "bench", "885", &indexed, &mut report).await?;
            anyhow::ensure!(
                refused.is_empty(),
                "the bench payload was refused: {refused:?}"
            );
        }
        let t = report.tallies.get(KIND).copied().unwrap_or_default();
        timings.push((round, started.elapsed(), t));
    }
    shutdown.cancel();
    served.await??;
    println!("backend            sqlite");
    for (round, took, t) in timings {
        println!(
            "intake ({round:<5})     {} children in {:.2} s = {:.0} children/s ({} changed, {} unchanged)",
            t.received,
            took.as_secs_f64(),
            t.received as f64 / took.as_secs_f64(),
            t.accepted,
            t.unchanged
        );
    }
    Ok(())
}

/// A county's open cases as a DfE payload: every child with an open episode, some on CIN plans,
/// some on CP plans after an enquiry, some looked after; ids and dates varied by child.
pub fn payload(children: usize) -> Vec<Value> {
    use serde_json::json;
    // `base` days (negative: before) from 1 April 2024, spread over 500 days by child.
    let date = |base: i64, i: usize, off: i64| {
        (chrono::NaiveDate::from_ymd_opt(2024, 4, 1).unwrap()
            + chrono::TimeDelta::days(base + (i as i64 * 7919 + off) % 500))
        .to_string()
    };
    (0..children)
        .map(|i| {
            let referral = date(0, i, 0);
            let source = ["1A", "2A", "3A", "5A", "6", "9"][i % 6];
            let mut ep = json!({
                "social_care_episode_id": format!("E{i}"),
                "referral_date": referral,
                "referral_source": source,
                "referral_no_further_action_flag": false,
                "care_worker_details": [{"worker_id": format!("SW{}", i % 400), "start_date": referral}],
                "child_and_family_assessments": [{
                    "child_and_family_assessment_id": format!("A{i}"),
                    "start_date": date(2, i, 0),
                    "authorisation_date": date(30, i, 0),
                    "factors": ["1C", "4A"]
                }]
            });
            match i % 4 {
                0 => {
                    ep["child_in_need_plans"] = json!([{"child_in_need_plan_id": format!("P{i}"), "start_date": date(40, i, 0)}]);
                }
                1 => {
                    ep["section_47_assessments"] = json!([{"section_47_assessment_id": format!("S{i}"),
                        "start_date": date(5, i, 0), "icpc_required_flag": true, "icpc_date": date(15, i, 0), "end_date": date(15, i, 0)}]);
                    ep["child_protection_plans"] = json!([{"child_protection_plan_id": format!("C{i}"), "start_date": date(15, i, 0)}]);
                }
                2 => {
                    ep["child_looked_after_placements"] = json!([
                        {"child_looked_after_placement_id": format!("L{i}a"), "start_date": date(50, i, 0),
                         "start_reason": "S", "placement_type": "U4", "postcode": "AB1 2CD",
                         "end_date": date(120, i, 0), "end_reason": "X1", "change_reason": "CARPL"},
                        {"child_looked_after_placement_id": format!("L{i}b"), "start_date": date(120, i, 0),
                         "start_reason": "P", "placement_type": "K2", "postcode": "AB3 4EF"}]);
                }
                _ => {}
            }
            json!({
                "la_child_id": format!("DFE{i:07}"),
                "mis_child_id": format!("MIS-{i}"),
                "child_details": {
                    "unique_pupil_number": format!("A{:012}", i),
                    "date_of_birth": date(-4000, i, 0),
                    "sex": if i % 2 == 0 { "F" } else { "M" },
                    "ethnicity": "WBRI",
                    "disabilities": ["NONE"],
                    "postcode": "AB1 2CD"
                },
                "social_care_episodes": [ep]
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bench_payload_is_valid_against_the_dfe_schema() {
        let records = payload(40);
        for (i, r) in records.iter().enumerate() {
            assert_eq!(
                csc_intake::schema::valid_version(r),
                Some("1.0.1"),
                "{i}: {:?}",
                csc_intake::schema::problems(i, r)
            );
        }
    }
}
