//! A child as the intake holds it (the DfE payload, merged: [`crate::merge`]) in the domain
//! services' records, keyed by the same natural keys the CIN census and the 903 use, so that a
//! payload, a census and a 903 describing the same events converge on one record each
//! (docs/formats.md, "DfE CSC API payload", maps every field):
//!
//! - each social care episode: a referral (front door), keyed by its `referral_date`;
//! - its assessments, section 47 enquiries (with their ICPC) and CIN and CP plans, keyed by their
//!   start dates (an ICPC by its date);
//! - its looked-after placements: 903 episodes keyed by their start (DECOM), and, for a child
//!   with any, the child's 903 header (sex, date of birth, ethnicity, UPN);
//! - its care workers: social worker allocations keyed by worker and start.
//!
//! What has no key in the suite (a plan without a start date, say) is not derived: it is named
//! in [`Derived::not_held`] and stays in what the intake holds, to land when a later payload
//! completes it.

use std::collections::BTreeMap;

use csc_proto::{frontdoor as fd, placements as pl, protection as pr};
use serde_json::Value;

/// One domain record derived from the payload: the record, and where in the child's record it
/// came from, with each of its fields' names there (for naming a refused value).
#[derive(Debug, Clone, PartialEq)]
pub struct Item<T> {
    pub record: T,
    /// The path of the payload object it came from, in the child's record
    /// (`social_care_episodes[0].child_in_need_plans[1]`).
    pub at: String,
    /// (domain field, payload field relative to `at`).
    pub fields: &'static [(&'static str, &'static str)],
}

impl<T> Item<T> {
    /// The payload path of a domain field (`source` → `…referral_source`).
    pub fn path_of(&self, domain_field: &str) -> String {
        let (head, rest) = match domain_field.find(['[', '.']) {
            Some(i) => domain_field.split_at(i),
            None => (domain_field, ""),
        };
        match self.fields.iter().find(|(d, _)| *d == head) {
            Some((_, p)) if p.starts_with('^') => format!("{}{rest}", &p[1..]),
            Some((_, p)) if self.at.is_empty() => format!("{p}{rest}"),
            Some((_, p)) => format!("{}.{p}{rest}", self.at),
            None => self.at.clone(),
        }
    }
}

/// Everything one child's record gives each domain service.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Derived {
    pub referrals: Vec<Item<fd::Referral>>,
    pub assessments: Vec<Item<fd::Assessment>>,
    pub s47s: Vec<Item<fd::Section47Enquiry>>,
    pub icpcs: Vec<Item<fd::Icpc>>,
    pub cin_plans: Vec<Item<pr::CinPlan>>,
    pub cp_plans: Vec<Item<pr::CpPlan>>,
    pub children: Vec<Item<pl::Child>>,
    pub episodes: Vec<Item<pl::Episode>>,
    pub social_workers: Vec<Item<pl::SocialWorkerAllocation>>,
    /// What the record holds that no domain record can take yet, and why.
    pub not_held: Vec<String>,
}

fn s(v: &Value, key: &str) -> String {
    v.get(key)
        .and_then(Value::as_str)
        .map(|t| t.trim().to_owned())
        .unwrap_or_default()
}

fn b(v: &Value, key: &str) -> Option<bool> {
    v.get(key).and_then(Value::as_bool)
}

fn items<'a>(v: &'a Value, key: &str) -> impl Iterator<Item = (usize, &'a Value)> {
    v.get(key)
        .and_then(Value::as_array)
        .map(|a| a.as_slice())
        .unwrap_or_default()
        .iter()
        .enumerate()
}

const REFERRAL_FIELDS: &[(&str, &str)] = &[
    ("referral_date", "referral_date"),
    ("source", "referral_source"),
    ("nfa", "referral_no_further_action_flag"),
];
const ASSESSMENT_FIELDS: &[(&str, &str)] = &[
    ("start_date", "start_date"),
    ("authorisation_date", "authorisation_date"),
    ("factors", "factors"),
];
const S47_FIELDS: &[(&str, &str)] = &[
    ("start_date", "start_date"),
    ("icpc_date", "icpc_date"),
    ("icpc_not_required", "icpc_required_flag"),
];
const ICPC_FIELDS: &[(&str, &str)] =
    &[("icpc_date", "icpc_date"), ("s47_start_date", "start_date")];
const PLAN_FIELDS: &[(&str, &str)] = &[("start_date", "start_date"), ("end_date", "end_date")];
const CHILD_FIELDS: &[(&str, &str)] = &[
    ("sex", "sex"),
    ("date_of_birth", "date_of_birth"),
    ("ethnicity", "ethnicity"),
    ("upn", "unique_pupil_number"),
];
const EPISODE_FIELDS: &[(&str, &str)] = &[
    ("decom", "start_date"),
    ("rne", "start_reason"),
    ("place", "placement_type"),
    ("dec", "end_date"),
    ("rec", "end_reason"),
    ("reason_place_change", "change_reason"),
    ("pl_post", "postcode"),
    ("home_post", "^child_details.postcode"),
];
const WORKER_FIELDS: &[(&str, &str)] = &[
    ("sw_id", "worker_id"),
    ("start_date", "start_date"),
    ("end_date", "end_date"),
];

/// The domain records of one child (`doc`, as the intake holds it) in LA `la`.
pub fn derive(la: &str, doc: &Value) -> Derived {
    let mut out = Derived::default();
    let child = s(doc, "la_child_id");
    let mut any_placement = false;
    for (e, ep) in items(doc, "social_care_episodes") {
        let at = format!("social_care_episodes[{e}]");
        let referral_date = s(ep, "referral_date");
        let closure_reason = s(ep, "closure_reason");
        let source = s(ep, "referral_source");
        if referral_date.is_empty() {
            out.not_held.push(format!(
                "{at}: no referral_date, so its referral and assessments (keyed by, and tied \
                 to, that date in the suite) are not held yet"
            ));
        } else if source.is_empty() {
            out.not_held.push(format!(
                "{at}: no referral_source (the CIN census ReferralSource every referral has), \
                 so its referral is not held yet"
            ));
        } else {
            out.referrals.push(Item {
                record: fd::Referral {
                    la_code: la.to_owned(),
                    child_id: child.clone(),
                    referral_date: referral_date.clone(),
                    source,
                    nfa: b(ep, "referral_no_further_action_flag").unwrap_or(false),
                },
                at: at.clone(),
                fields: REFERRAL_FIELDS,
            });
        }
        let mut assessments = Vec::new();
        for (i, a) in items(ep, "child_and_family_assessments") {
            let item_at = format!("{at}.child_and_family_assessments[{i}]");
            let start = s(a, "start_date");
            if !keyed(&mut out.not_held, "assessment", &item_at, &start) || referral_date.is_empty()
            {
                continue;
            }
            let factors = a
                .get("factors")
                .and_then(Value::as_array)
                .map(|f| {
                    f.iter()
                        .filter_map(Value::as_str)
                        .map(|x| x.trim().to_owned())
                        .collect()
                })
                .unwrap_or_default();
            assessments.push(Item {
                record: fd::Assessment {
                    la_code: la.to_owned(),
                    child_id: child.clone(),
                    start_date: start,
                    referral_date: referral_date.clone(),
                    authorisation_date: s(a, "authorisation_date"),
                    factors,
                    outcome: 0,
                    closure_reason: closure_reason.clone(),
                },
                at: item_at,
                fields: ASSESSMENT_FIELDS,
            });
        }
        let mut s47s = Vec::new();
        let mut icpcs = Vec::new();
        for (i, x) in items(ep, "section_47_assessments") {
            let item_at = format!("{at}.section_47_assessments[{i}]");
            let start = s(x, "start_date");
            if !keyed(&mut out.not_held, "section 47 enquiry", &item_at, &start) {
                continue;
            }
            let icpc_date = s(x, "icpc_date");
            if !icpc_date.is_empty() {
                icpcs.push(Item {
                    record: fd::Icpc {
                        la_code: la.to_owned(),
                        child_id: child.clone(),
                        icpc_date: icpc_date.clone(),
                        s47_start_date: start.clone(),
                    },
                    at: item_at.clone(),
                    fields: ICPC_FIELDS,
                });
            }
            s47s.push(Item {
                record: fd::Section47Enquiry {
                    la_code: la.to_owned(),
                    child_id: child.clone(),
                    start_date: start,
                    referral_date: referral_date.clone(),
                    icpc_target_date: String::new(),
                    icpc_date,
                    icpc_not_required: b(x, "icpc_required_flag") == Some(false),
                },
                at: item_at,
                fields: S47_FIELDS,
            });
        }
        let mut cin_plans = Vec::new();
        for (i, p) in items(ep, "child_in_need_plans") {
            let item_at = format!("{at}.child_in_need_plans[{i}]");
            let start = s(p, "start_date");
            if !keyed(&mut out.not_held, "CIN plan", &item_at, &start) {
                continue;
            }
            cin_plans.push(Item {
                record: pr::CinPlan {
                    la_code: la.to_owned(),
                    child_id: child.clone(),
                    start_date: start,
                    end_date: s(p, "end_date"),
                },
                at: item_at,
                fields: PLAN_FIELDS,
            });
        }
        let mut cp_plans = Vec::new();
        for (i, p) in items(ep, "child_protection_plans") {
            let item_at = format!("{at}.child_protection_plans[{i}]");
            let start = s(p, "start_date");
            if !keyed(&mut out.not_held, "CP plan", &item_at, &start) {
                continue;
            }
            cp_plans.push(Item {
                record: pr::CpPlan {
                    la_code: la.to_owned(),
                    child_id: child.clone(),
                    start_date: start,
                    end_date: s(p, "end_date"),
                    initial_category: String::new(),
                    latest_category: String::new(),
                    previous_plans: None,
                    review_dates: Vec::new(),
                },
                at: item_at,
                fields: PLAN_FIELDS,
            });
        }
        let mut episodes = Vec::new();
        for (i, p) in items(ep, "child_looked_after_placements") {
            let item_at = format!("{at}.child_looked_after_placements[{i}]");
            let start = s(p, "start_date");
            if !keyed(&mut out.not_held, "903 episode", &item_at, &start) {
                continue;
            }
            any_placement = true;
            let rne = s(p, "start_reason");
            if rne.is_empty() {
                out.not_held.push(format!(
                    "{item_at}: no start_reason (the 903's RNE, which every episode needs), so \
                     the episode is not held yet"
                ));
                continue;
            }
            let end = s(p, "end_date");
            // The child's postcode is where they live now: the home postcode of the episode that
            // is open, never of one that ended (the 903 keeps each episode's own).
            let home_post = if end.is_empty() {
                doc.get("child_details")
                    .map(|d| s(d, "postcode"))
                    .unwrap_or_default()
            } else {
                String::new()
            };
            episodes.push(Item {
                record: pl::Episode {
                    la_code: la.to_owned(),
                    child_id: child.clone(),
                    decom: start,
                    rne,
                    legal_status: String::new(),
                    cin: String::new(),
                    place: s(p, "placement_type"),
                    place_provider: String::new(),
                    dec: end,
                    rec: s(p, "end_reason"),
                    reason_place_change: s(p, "change_reason"),
                    home_post,
                    pl_post: s(p, "postcode"),
                    urn: String::new(),
                },
                at: item_at,
                fields: EPISODE_FIELDS,
            });
        }
        let mut workers = Vec::new();
        for (i, w) in items(ep, "care_worker_details") {
            let item_at = format!("{at}.care_worker_details[{i}]");
            let (id, start) = (s(w, "worker_id"), s(w, "start_date"));
            if id.is_empty() || start.is_empty() {
                out.not_held.push(format!(
                    "{item_at}: a social worker allocation needs its worker_id and start_date; \
                     not held yet"
                ));
                continue;
            }
            workers.push(Item {
                record: pl::SocialWorkerAllocation {
                    la_code: la.to_owned(),
                    child_id: child.clone(),
                    sw_id: id,
                    start_date: start,
                    end_date: s(w, "end_date"),
                    reason: String::new(),
                },
                at: item_at,
                fields: WORKER_FIELDS,
            });
        }
        out.assessments.extend(assessments);
        out.s47s.extend(s47s);
        out.icpcs.extend(icpcs);
        out.cin_plans.extend(cin_plans);
        out.cp_plans.extend(cp_plans);
        out.episodes.extend(episodes);
        out.social_workers.extend(workers);
    }
    if any_placement {
        child_header(la, &child, doc, &mut out);
    }
    out
}

/// Whether an item has the start date that keys it in the suite; if not, says so.
fn keyed(not_held: &mut Vec<String>, what: &str, item_at: &str, start: &str) -> bool {
    if start.is_empty() {
        not_held.push(format!(
            "{item_at}: no start_date, so the {what} (keyed by its start in the suite) is not \
             held yet"
        ));
        false
    } else {
        true
    }
}

/// The 903 header of a child with placements, when its sex and date of birth are known.
fn child_header(la: &str, child: &str, doc: &Value, out: &mut Derived) {
    let details = doc.get("child_details").cloned().unwrap_or(Value::Null);
    let sex = match s(&details, "sex").to_ascii_uppercase().as_str() {
        "M" => Some(pl::Sex::Male),
        "F" => Some(pl::Sex::Female),
        "U" => Some(pl::Sex::Unknown),
        _ => None,
    };
    let dob = s(&details, "date_of_birth");
    match sex {
        Some(sex) if !dob.is_empty() => out.children.push(Item {
            record: pl::Child {
                la_code: la.to_owned(),
                child_id: child.to_owned(),
                sex: sex as i32,
                date_of_birth: dob,
                ethnicity: s(&details, "ethnicity"),
                upn: s(&details, "unique_pupil_number"),
            },
            at: "child_details".into(),
            fields: CHILD_FIELDS,
        }),
        _ => out.not_held.push(
            "child_details: a looked-after child's 903 header needs sex (M, F or U) and \
             date_of_birth; not held yet"
                .into(),
        ),
    }
}

/// Records of one kind keyed by their natural key in the suite; where two share a key (two
/// episodes on one referral date), the later in the record wins.
pub fn by_key<T: Clone>(
    items: &[Item<T>],
    key: impl Fn(&T) -> String,
) -> BTreeMap<String, Item<T>> {
    items.iter().map(|i| (key(&i.record), i.clone())).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn example() -> Value {
        let text = include_str!("../schema/openapi_1.0.1.json");
        let doc: Value = serde_json::from_str(text).unwrap();
        doc["components"]["schemas"]["CSC"]["items"]["example"].clone()
    }

    #[test]
    fn the_dfe_example_gives_one_record_of_each_kind() {
        let d = derive("885", &example());
        assert_eq!(d.referrals.len(), 1);
        let r = &d.referrals[0].record;
        assert_eq!(
            (
                r.child_id.as_str(),
                r.referral_date.as_str(),
                r.source.as_str(),
                r.nfa
            ),
            ("Child1234", "2022-06-14", "1C", false)
        );
        assert_eq!(d.assessments[0].record.factors, ["1C", "4A"]);
        assert_eq!(d.assessments[0].record.closure_reason, "RC7");
        assert_eq!(d.s47s[0].record.icpc_date, "2022-06-14");
        assert!(!d.s47s[0].record.icpc_not_required);
        assert_eq!(d.icpcs[0].record.s47_start_date, "2022-06-14");
        assert_eq!(d.cin_plans.len(), 1);
        assert_eq!(d.cp_plans[0].record.initial_category, "");
        let e = &d.episodes[0].record;
        assert_eq!(
            (e.decom.as_str(), e.rne.as_str(), e.place.as_str()),
            ("2022-06-14", "S", "K1")
        );
        assert_eq!(
            (e.rec.as_str(), e.reason_place_change.as_str()),
            ("E3", "CHILD")
        );
        // The example's placement has ended: the child's postcode is not its home postcode.
        assert_eq!(e.home_post, "");
        assert_eq!(d.children[0].record.sex, pl::Sex::Male as i32);
        assert_eq!(d.social_workers[0].record.sw_id, "ABC123");
        assert!(d.not_held.is_empty(), "{:?}", d.not_held);
    }

    #[test]
    fn what_has_no_key_in_the_suite_is_named_not_held() {
        let doc = json!({"la_child_id": "C1", "social_care_episodes": [{"social_care_episode_id": "E1",
            "child_in_need_plans": [{"child_in_need_plan_id": "P1", "end_date": "2024-01-01"}],
            "child_looked_after_placements": [{"child_looked_after_placement_id": "L1", "start_date": "2024-01-01", "start_reason": "S"}]}]});
        let d = derive("885", &doc);
        assert!(d.referrals.is_empty() && d.cin_plans.is_empty());
        assert_eq!(d.episodes.len(), 1);
        let said = d.not_held.join("\n");
        assert!(
            said.contains("social_care_episodes[0]: no referral_date"),
            "{said}"
        );
        assert!(
            said.contains("social_care_episodes[0].child_in_need_plans[0]: no start_date"),
            "{said}"
        );
        assert!(
            said.contains("child_details: a looked-after child"),
            "{said}"
        );
    }

    #[test]
    fn icpc_not_required_only_when_the_flag_says_no() {
        for (flag, not_required) in [(json!(false), true), (json!(true), false)] {
            let doc = json!({"la_child_id": "C1", "social_care_episodes": [{"social_care_episode_id": "E1",
                "section_47_assessments": [{"section_47_assessment_id": "S1", "start_date": "2024-01-01", "icpc_required_flag": flag}]}]});
            assert_eq!(
                derive("885", &doc).s47s[0].record.icpc_not_required,
                not_required
            );
        }
        let doc = json!({"la_child_id": "C1", "social_care_episodes": [{"social_care_episode_id": "E1",
            "section_47_assessments": [{"section_47_assessment_id": "S1", "start_date": "2024-01-01"}]}]});
        assert!(!derive("885", &doc).s47s[0].record.icpc_not_required);
    }

    #[test]
    fn a_field_is_named_by_its_payload_path() {
        let d = derive("885", &example());
        assert_eq!(
            d.referrals[0].path_of("source"),
            "social_care_episodes[0].referral_source"
        );
        assert_eq!(
            d.assessments[0].path_of("factors[1]"),
            "social_care_episodes[0].child_and_family_assessments[0].factors[1]"
        );
        assert_eq!(d.episodes[0].path_of("home_post"), "child_details.postcode");
        assert_eq!(d.children[0].path_of("sex"), "child_details.sex");
    }
}
