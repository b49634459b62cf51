//! `csc export dfe-api`: what the suite holds for an LA, as DfE CSC API payload files (at most 100
//! child records each), every record checked against the DfE's schema before it is written.
//!
//! One record per child the services hold records of. Each referral is a social care episode
//! (its id `R` and the referral date, `R20240105`); the assessments, enquiries and plans, and the
//! looked-after episodes and social worker allocations, go to the child's latest referral on or
//! before their start (an assessment to the referral it names), or, when none is held, to an
//! episode `U` without a referral. Item ids are their kind's letter and start date (`A…`, `S…`,
//! `P…` CIN plans, `C…` CP plans, `L…` placements), so an export sent twice names the same items
//! and an import of it converges on the records it came from (docs/formats.md).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use csc_proto::{common as cpb, frontdoor as fd, placements as pl, protection as pr};
use serde_json::{Map, Value, json};

use crate::ClientAddrs;
use crate::client::{connect_frontdoor, connect_protection};
use crate::import::ImportSummary;

/// Every record of a List method for LA `la`, page by page.
macro_rules! all {
    ($client:expr, $method:ident, $la:expr) => {{
        let mut out = Vec::new();
        let mut token = String::new();
        loop {
            let page = $client
                .$method(cpb::ListRequest {
                    la_code: $la.to_owned(),
                    child_id: String::new(),
                    page_size: 1000,
                    page_token: token.clone(),
                })
                .await
                .map_err(crate::client::describe_status)?
                .into_inner();
            out.extend(page.records);
            if page.next_page_token.is_empty() {
                break;
            }
            token = page.next_page_token;
        }
        out
    }};
}

/// What the services hold for one LA, as the payload needs it.
#[derive(Default)]
pub struct Held {
    pub referrals: Vec<fd::Referral>,
    pub assessments: Vec<fd::Assessment>,
    pub s47s: Vec<fd::Section47Enquiry>,
    pub cin_plans: Vec<pr::CinPlan>,
    pub cp_plans: Vec<pr::CpPlan>,
    pub children: Vec<pl::Child>,
    pub episodes: Vec<pl::Episode>,
    pub social_workers: Vec<pl::SocialWorkerAllocation>,
}

pub async fn fetch(addrs: &ClientAddrs, la: &str) -> anyhow::Result<Held> {
    let mut f = connect_frontdoor(&addrs.frontdoor).await?;
    let mut p = connect_protection(&addrs.protection).await?;
    let mut l = crate::client::connect_placements(&addrs.placements).await?;
    Ok(Held {
        referrals: all!(f, list_referrals, la),
        assessments: all!(f, list_assessments, la),
        s47s: all!(f, list_section47_enquiries, la),
        cin_plans: all!(p, list_cin_plans, la),
        cp_plans: all!(p, list_cp_plans, la),
        children: all!(l, list_children, la),
        episodes: all!(l, list_episodes, la),
        social_workers: all!(l, list_social_worker_allocations, la),
    })
}

fn id(letter: char, date: &str) -> String {
    format!("{letter}{}", date.replace('-', ""))
}

/// `key: value` for each value that is not empty (the payload sends no nulls and no empty
/// strings: a field not known is left out).
fn fields<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> Map<String, Value> {
    pairs
        .into_iter()
        .filter(|(_, v)| !v.is_empty())
        .map(|(k, v)| (k.to_owned(), Value::String(v.to_owned())))
        .collect()
}

/// One child's records as an episode tree: referral date (`None`: the episode without one) to
/// its episode object.
struct Child {
    episodes: BTreeMap<Option<String>, Map<String, Value>>,
    details: Map<String, Value>,
}

impl Child {
    fn new() -> Self {
        Child {
            episodes: BTreeMap::new(),
            details: Map::new(),
        }
    }

    /// The episode an item starting on `date` belongs to: the latest referral on or before it.
    fn episode_for(&mut self, date: &str) -> &mut Map<String, Value> {
        let key = self
            .episodes
            .keys()
            .flatten()
            .filter(|r| r.as_str() <= date)
            .max()
            .cloned();
        self.episode(key)
    }

    fn episode(&mut self, referral: Option<String>) -> &mut Map<String, Value> {
        self.episodes.entry(referral.clone()).or_insert_with(|| {
            let mut m = Map::new();
            let episode_id = match &referral {
                Some(r) => id('R', r),
                None => "U".to_owned(),
            };
            m.insert("social_care_episode_id".into(), episode_id.into());
            if let Some(r) = referral {
                m.insert("referral_date".into(), r.into());
            }
            m
        })
    }
}

fn child<'a>(children: &'a mut BTreeMap<String, Child>, id: &str) -> &'a mut Child {
    children.entry(id.to_owned()).or_insert_with(Child::new)
}

fn push(episode: &mut Map<String, Value>, list: &str, item: Map<String, Value>) {
    let slot = episode
        .entry(list.to_owned())
        .or_insert_with(|| Value::Array(Vec::new()));
    if let Value::Array(a) = slot {
        a.push(Value::Object(item));
    }
}

/// Every child's payload record, in child id order.
pub fn records(held: &Held) -> Vec<Value> {
    let mut children: BTreeMap<String, Child> = BTreeMap::new();
    for r in &held.referrals {
        let e = child(&mut children, &r.child_id).episode(Some(r.referral_date.clone()));
        e.insert("referral_source".into(), r.source.clone().into());
        e.insert("referral_no_further_action_flag".into(), r.nfa.into());
    }
    for a in &held.assessments {
        let c = child(&mut children, &a.child_id);
        let e = if c.episodes.contains_key(&Some(a.referral_date.clone())) {
            c.episode(Some(a.referral_date.clone()))
        } else {
            c.episode_for(&a.start_date)
        };
        if !a.closure_reason.is_empty() {
            e.insert("closure_reason".into(), a.closure_reason.clone().into());
        }
        let mut item = fields([
            (
                "child_and_family_assessment_id",
                id('A', &a.start_date).as_str(),
            ),
            ("start_date", &a.start_date),
            ("authorisation_date", &a.authorisation_date),
        ]);
        item.insert("factors".into(), json!(dedup(&a.factors)));
        push(e, "child_and_family_assessments", item);
    }
    for s in &held.s47s {
        let e = child(&mut children, &s.child_id).episode_for(&s.start_date);
        let mut item = fields([
            ("section_47_assessment_id", id('S', &s.start_date).as_str()),
            ("start_date", &s.start_date),
            ("icpc_date", &s.icpc_date),
        ]);
        if s.icpc_not_required {
            item.insert("icpc_required_flag".into(), false.into());
        } else if !s.icpc_date.is_empty() {
            item.insert("icpc_required_flag".into(), true.into());
        }
        push(e, "section_47_assessments", item);
    }
    for p in &held.cin_plans {
        let e = child(&mut children, &p.child_id).episode_for(&p.start_date);
        let item = fields([
            ("child_in_need_plan_id", id('P', &p.start_date).as_str()),
            ("start_date", &p.start_date),
            ("end_date", &p.end_date),
        ]);
        push(e, "child_in_need_plans", item);
    }
    for p in &held.cp_plans {
        let e = child(&mut children, &p.child_id).episode_for(&p.start_date);
        let item = fields([
            ("child_protection_plan_id", id('C', &p.start_date).as_str()),
            ("start_date", &p.start_date),
            ("end_date", &p.end_date),
        ]);
        push(e, "child_protection_plans", item);
    }
    for x in &held.episodes {
        let e = child(&mut children, &x.child_id).episode_for(&x.decom);
        let item = fields([
            (
                "child_looked_after_placement_id",
                id('L', &x.decom).as_str(),
            ),
            ("start_date", &x.decom),
            ("start_reason", &x.rne),
            ("postcode", &x.pl_post),
            ("placement_type", &x.place),
            ("end_date", &x.dec),
            ("end_reason", &x.rec),
            ("change_reason", &x.reason_place_change),
        ]);
        push(e, "child_looked_after_placements", item);
    }
    for w in &held.social_workers {
        let e = child(&mut children, &w.child_id).episode_for(&w.start_date);
        let item = fields([
            ("worker_id", w.sw_id.as_str()),
            ("start_date", &w.start_date),
            ("end_date", &w.end_date),
        ]);
        push(e, "care_worker_details", item);
    }
    // Where the child lives now: the home postcode of their open episode.
    let home: BTreeMap<&str, &str> = held
        .episodes
        .iter()
        .filter(|e| e.dec.is_empty() && !e.home_post.is_empty())
        .map(|e| (e.child_id.as_str(), e.home_post.as_str()))
        .collect();
    for c in &held.children {
        let sex = match pl::Sex::try_from(c.sex) {
            Ok(pl::Sex::Male) => "M",
            Ok(pl::Sex::Female) => "F",
            _ => "U",
        };
        let d = fields([
            ("unique_pupil_number", c.upn.as_str()),
            ("date_of_birth", &c.date_of_birth),
            ("sex", sex),
            ("ethnicity", &c.ethnicity),
            (
                "postcode",
                home.get(c.child_id.as_str()).copied().unwrap_or(""),
            ),
        ]);
        child(&mut children, &c.child_id).details = d;
    }
    children
        .into_iter()
        .map(|(id, c)| {
            let mut r = Map::new();
            r.insert("la_child_id".into(), id.into());
            if !c.details.is_empty() {
                r.insert("child_details".into(), Value::Object(c.details));
            }
            let episodes: Vec<Value> = c.episodes.into_values().map(Value::Object).collect();
            if !episodes.is_empty() {
                r.insert("social_care_episodes".into(), Value::Array(episodes));
            }
            Value::Object(r)
        })
        .collect()
}

fn dedup(v: &[String]) -> Vec<&str> {
    let mut out: Vec<&str> = Vec::new();
    for x in v {
        if !out.contains(&x.as_str()) {
            out.push(x);
        }
    }
    out
}

/// Writes `records` as payload files of at most 100 into `dir` (`dfe_api_<la>_<nnnn>.json`), each
/// record valid against the DfE's current schema; a record that is not (a child id the 1.0.1
/// pattern refuses, say) is left out and named in `report`. The files written.
pub fn write(
    dir: &Path,
    la: &str,
    records: Vec<Value>,
    report: &mut ImportSummary,
) -> anyhow::Result<Vec<PathBuf>> {
    std::fs::create_dir_all(dir)?;
    let mut valid = Vec::new();
    for (i, r) in records.into_iter().enumerate() {
        let child = r["la_child_id"].as_str().unwrap_or_default().to_owned();
        let t = report.tallies.entry("dfe api children").or_default();
        t.received += 1;
        if csc_intake::schema::valid_version(&r) == Some(csc_intake::schema::CURRENT) {
            t.accepted += 1;
            valid.push(r);
        } else {
            let problems = csc_intake::schema::problems(i, &r)
                .into_iter()
                .map(|p| (format!("child {child}: {}", p.field), p.message))
                .collect::<Vec<_>>();
            report.reject_record("dfe api children", &child, problems);
        }
    }
    let mut files = Vec::new();
    for (n, chunk) in valid.chunks(csc_intake::schema::MAX_RECORDS).enumerate() {
        let path = dir.join(format!("dfe_api_{la}_{:04}.json", n + 1));
        std::fs::write(&path, serde_json::to_vec_pretty(chunk)?)?;
        files.push(path);
    }
    Ok(files)
}

/// Which children an export writes.
#[derive(Debug, Clone)]
pub enum Which {
    Full,
    /// Those with a record dated on or after the day.
    Since(chrono::NaiveDate),
    /// Those changed since the last send acknowledged in this `csc send` state folder.
    ChangedSinceSend(PathBuf),
}

/// Whether a child's record holds a date on or after `since` (ISO dates compare as text).
pub fn touches(record: &Value, since: &str) -> bool {
    match record {
        Value::String(s) => s.len() == 10 && s.as_bytes()[4] == b'-' && s.as_str() >= since,
        Value::Array(a) => a.iter().any(|v| touches(v, since)),
        Value::Object(m) => m.values().any(|v| touches(v, since)),
        _ => false,
    }
}

/// `csc export dfe-api --la CODE --out DIR [--state DIR | --since DATE | --full]`.
pub async fn run(addrs: &ClientAddrs, la: &str, out: &Path, which: Which) -> anyhow::Result<()> {
    let la = csc_core::LaCode::parse(la)
        .map_err(|e| anyhow::anyhow!("--la: {e}"))?
        .to_string();
    let held = fetch(addrs, &la).await?;
    let mut report = ImportSummary::default();
    let all = records(&held);
    let chosen = match &which {
        Which::Full => all,
        Which::Since(d) => {
            let since = d.to_string();
            all.into_iter().filter(|r| touches(r, &since)).collect()
        }
        Which::ChangedSinceSend(dir) => {
            let state = crate::dfe_send::State::load(dir, &la)?;
            crate::dfe_send::changes(&state, &all, false)
        }
    };
    let files = write(out, &la, chosen, &mut report)?;
    crate::out(&format!(
        "{} payload file(s) in {} (schema {}, at most {} records each)\n",
        files.len(),
        out.display(),
        csc_intake::schema::CURRENT,
        csc_intake::schema::MAX_RECORDS
    ));
    crate::import::finish(report, None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn since_selects_records_with_a_date_on_or_after_it() {
        let r = json!({"la_child_id": "C1", "social_care_episodes": [{"referral_date": "2024-01-05",
            "child_in_need_plans": [{"start_date": "2024-03-01", "end_date": "2024-09-30"}]}]});
        assert!(touches(&r, "2024-09-30"));
        assert!(!touches(&r, "2024-10-01"));
        // An id is not a date.
        assert!(!touches(
            &json!({"la_child_id": "2099-01-01X"}),
            "2024-01-01"
        ));
    }

    #[test]
    fn items_go_to_the_latest_referral_before_them_and_are_valid() {
        let la = "885".to_owned();
        let held = Held {
            referrals: vec![
                fd::Referral {
                    la_code: la.clone(),
                    child_id: "C1".into(),
                    referral_date: "2024-01-05".into(),
                    source: "1C".into(),
                    nfa: false,
                },
                fd::Referral {
                    la_code: la.clone(),
                    child_id: "C1".into(),
                    referral_date: "2024-06-01".into(),
                    source: "6".into(),
                    nfa: false,
                },
            ],
            cin_plans: vec![pr::CinPlan {
                la_code: la.clone(),
                child_id: "C1".into(),
                start_date: "2024-03-01".into(),
                end_date: String::new(),
            }],
            cp_plans: vec![pr::CpPlan {
                la_code: la.clone(),
                child_id: "C2".into(),
                start_date: "2024-03-01".into(),
                ..Default::default()
            }],
            ..Default::default()
        };
        let r = records(&held);
        assert_eq!(r.len(), 2);
        let eps = r[0]["social_care_episodes"].as_array().unwrap();
        assert_eq!(eps[0]["social_care_episode_id"], "R20240105");
        assert_eq!(
            eps[0]["child_in_need_plans"][0]["child_in_need_plan_id"],
            "P20240301"
        );
        assert!(eps[0]["child_in_need_plans"][0].get("end_date").is_none());
        assert!(eps[1].get("child_in_need_plans").is_none());
        // A plan with no referral held goes to the episode without one.
        assert_eq!(
            r[1]["social_care_episodes"][0]["social_care_episode_id"],
            "U"
        );
        for x in &r {
            assert_eq!(csc_intake::schema::valid_version(x), Some("1.0.1"), "{x}");
        }
    }
}
