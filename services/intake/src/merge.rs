//! What the intake holds for a child: every record received for it, merged by key, as the
//! DfE's receiver is read to hold them (docs/formats.md, "DfE CSC API payload"):
//!
//! - a field sent replaces the value held; a field left out keeps it;
//! - an array whose items carry an id (`social_care_episodes`, `child_in_need_plans`, …) is
//!   merged item by item on that id; an item not sent is kept;
//! - an array without ids (`disabilities`, `factors`, `care_worker_details`, `sdq_assessments`)
//!   is replaced whole when sent: there is no key to merge its items on;
//! - `purge: true` removes the level it sits on: the whole child at the top (anything sent
//!   beside it is not applied), `child_details`, `health_and_wellbeing`, `adoption` and
//!   `care_leavers` as blocks, an array item by its id. A purge of something not held is no
//!   change.
//!
//! `purge: false` is never held: it is the default.

use serde_json::{Map, Value};

/// Arrays whose items are merged on an id, with the id's key.
const KEYED: [(&str, &str); 7] = [
    ("social_care_episodes", "social_care_episode_id"),
    (
        "child_and_family_assessments",
        "child_and_family_assessment_id",
    ),
    ("child_in_need_plans", "child_in_need_plan_id"),
    ("section_47_assessments", "section_47_assessment_id"),
    ("child_protection_plans", "child_protection_plan_id"),
    (
        "child_looked_after_placements",
        "child_looked_after_placement_id",
    ),
    (
        "education_health_care_plans",
        "education_health_care_plan_id",
    ),
];

fn purged(v: &Value) -> bool {
    v.get("purge").and_then(Value::as_bool) == Some(true)
}

/// `held` (what was held for the child, if anything) with `record` applied; `None` when the
/// record purges the child.
pub fn apply(held: Option<&Value>, record: &Value) -> Option<Value> {
    if purged(record) {
        return None;
    }
    let mut out = held.and_then(Value::as_object).cloned().unwrap_or_default();
    if let Some(r) = record.as_object() {
        merge_object(&mut out, r);
    }
    Some(Value::Object(out))
}

fn merge_object(held: &mut Map<String, Value>, sent: &Map<String, Value>) {
    for (key, value) in sent {
        if key == "purge" {
            continue;
        }
        match value {
            Value::Object(inner) => {
                if purged(value) {
                    held.remove(key);
                } else {
                    let slot = held
                        .entry(key.clone())
                        .or_insert_with(|| Value::Object(Map::new()));
                    if !slot.is_object() {
                        *slot = Value::Object(Map::new());
                    }
                    if let Value::Object(h) = slot {
                        merge_object(h, inner);
                    }
                }
            }
            Value::Array(items) => match KEYED.iter().find(|(k, _)| k == key) {
                Some((_, id)) => {
                    let slot = held
                        .entry(key.clone())
                        .or_insert_with(|| Value::Array(Vec::new()));
                    if !slot.is_array() {
                        *slot = Value::Array(Vec::new());
                    }
                    if let Value::Array(h) = slot {
                        merge_keyed(h, items, id);
                    }
                    if slot.as_array().is_some_and(Vec::is_empty) {
                        held.remove(key);
                    }
                }
                None => {
                    held.insert(key.clone(), value.clone());
                }
            },
            _ => {
                held.insert(key.clone(), value.clone());
            }
        }
    }
}

fn merge_keyed(held: &mut Vec<Value>, sent: &[Value], id: &str) {
    for item in sent {
        let Some(key) = item.get(id).and_then(Value::as_str) else {
            continue;
        };
        let at = held
            .iter()
            .position(|h| h.get(id).and_then(Value::as_str) == Some(key));
        if purged(item) {
            if let Some(i) = at {
                held.remove(i);
            }
            continue;
        }
        let Some(sent) = item.as_object() else {
            continue;
        };
        match at {
            Some(i) => {
                if let Value::Object(h) = &mut held[i] {
                    merge_object(h, sent);
                }
            }
            None => {
                let mut fresh = Map::new();
                merge_object(&mut fresh, sent);
                held.push(Value::Object(fresh));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn held() -> Value {
        json!({
            "la_child_id": "C1",
            "child_details": {"sex": "F", "date_of_birth": "2015-01-02", "disabilities": ["HAND", "VIS"]},
            "social_care_episodes": [
                {"social_care_episode_id": "E1", "referral_date": "2024-01-05", "referral_source": "1C",
                 "child_in_need_plans": [
                     {"child_in_need_plan_id": "P1", "start_date": "2024-02-01"},
                     {"child_in_need_plan_id": "P2", "start_date": "2024-06-01"}],
                 "adoption": {"initial_decision_date": "2024-03-01"}},
                {"social_care_episode_id": "E2", "referral_date": "2024-09-01"}
            ]
        })
    }

    #[test]
    fn a_field_left_out_keeps_its_value_and_one_sent_replaces_it() {
        let sent = json!({"la_child_id": "C1", "child_details": {"sex": "M"},
            "social_care_episodes": [{"social_care_episode_id": "E1", "closure_date": "2024-12-01"}]});
        let out = apply(Some(&held()), &sent).unwrap();
        assert_eq!(out["child_details"]["sex"], "M");
        assert_eq!(out["child_details"]["date_of_birth"], "2015-01-02");
        let e1 = &out["social_care_episodes"][0];
        assert_eq!(e1["referral_source"], "1C");
        assert_eq!(e1["closure_date"], "2024-12-01");
        assert_eq!(e1["child_in_need_plans"].as_array().unwrap().len(), 2);
        assert_eq!(out["social_care_episodes"].as_array().unwrap().len(), 2);
    }

    #[test]
    fn an_array_without_ids_is_replaced_whole() {
        let sent = json!({"la_child_id": "C1", "child_details": {"disabilities": ["NONE"]}});
        let out = apply(Some(&held()), &sent).unwrap();
        assert_eq!(out["child_details"]["disabilities"], json!(["NONE"]));
    }

    #[test]
    fn purge_removes_exactly_its_level() {
        // An item by its id, and nothing else of its episode.
        let sent = json!({"la_child_id": "C1", "social_care_episodes": [{"social_care_episode_id": "E1",
            "child_in_need_plans": [{"child_in_need_plan_id": "P1", "purge": true}]}]});
        let out = apply(Some(&held()), &sent).unwrap();
        let plans = out["social_care_episodes"][0]["child_in_need_plans"]
            .as_array()
            .unwrap();
        assert_eq!(plans.len(), 1);
        assert_eq!(plans[0]["child_in_need_plan_id"], "P2");
        assert_eq!(out["social_care_episodes"][0]["referral_source"], "1C");
        // A block.
        let sent = json!({"la_child_id": "C1", "social_care_episodes": [{"social_care_episode_id": "E1",
            "adoption": {"purge": true}}], "child_details": {"purge": true}});
        let out = apply(Some(&held()), &sent).unwrap();
        assert!(out["social_care_episodes"][0].get("adoption").is_none());
        assert!(out.get("child_details").is_none());
        assert_eq!(
            out["social_care_episodes"][0]["referral_date"],
            "2024-01-05"
        );
        // An episode with all it holds.
        let sent = json!({"la_child_id": "C1", "social_care_episodes": [{"social_care_episode_id": "E1", "purge": true}]});
        let out = apply(Some(&held()), &sent).unwrap();
        let eps = out["social_care_episodes"].as_array().unwrap();
        assert_eq!(eps.len(), 1);
        assert_eq!(eps[0]["social_care_episode_id"], "E2");
        // The child.
        let sent = json!({"la_child_id": "C1", "purge": true, "child_details": {"sex": "M"}});
        assert_eq!(apply(Some(&held()), &sent), None);
    }

    #[test]
    fn purge_of_what_is_not_held_changes_nothing_and_false_is_not_held() {
        let sent = json!({"la_child_id": "C1", "purge": false, "social_care_episodes": [
            {"social_care_episode_id": "E9", "purge": true},
            {"social_care_episode_id": "E2", "purge": false}]});
        assert_eq!(apply(Some(&held()), &sent).unwrap(), held());
    }

    #[test]
    fn applying_the_same_record_twice_is_applying_it_once() {
        let sent = json!({"la_child_id": "C1", "social_care_episodes": [{"social_care_episode_id": "E3",
            "referral_date": "2025-01-01", "child_protection_plans": [{"child_protection_plan_id": "CP1", "start_date": "2025-02-01"}]}]});
        let once = apply(Some(&held()), &sent).unwrap();
        assert_eq!(apply(Some(&once), &sent).unwrap(), once);
    }
}
