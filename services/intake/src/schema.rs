//! The DfE's request schema, checked as the DfE publishes it: `components.schemas.CSC` of each
//! `openapi.json` version the intake accepts, compiled into the binary (`schema/`, copied
//! byte for byte from DFE-Digital/children-in-social-care-schemas; MIT, `schema/LICENCE.md`) and
//! read by a JSON Schema validator, never re-typed by hand.
//!
//! A record is accepted when it is valid against any accepted version (1.0.1, 1.0.0, 0.8.1; they
//! differ only in a few lengths and patterns: a 1.0.0 payload's `la_child_id` may hold `_` and
//! `-` and be 36 long). When it is valid against none, the problems reported are the current
//! version's (1.0.1).

use std::sync::OnceLock;

use serde_json::Value;

/// The versions accepted, newest first: (version, openapi.json).
const VERSIONS: [(&str, &str); 3] = [
    ("1.0.1", include_str!("../schema/openapi_1.0.1.json")),
    ("1.0.0", include_str!("../schema/openapi_1.0.0.json")),
    ("0.8.1", include_str!("../schema/openapi_0.8.1.json")),
];

/// The most records one request may carry (`maxItems` of the schema; the DfE answers 413 above).
pub const MAX_RECORDS: usize = 100;

/// One problem with one record: its index in the request, the field's path inside it
/// (`child_details.sex`, empty for the record itself), and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub index: usize,
    pub field: String,
    pub message: String,
}

impl Problem {
    /// `[3].child_details.sex`: where the problem is, as a field violation names it.
    pub fn path(&self) -> String {
        if self.field.is_empty() {
            format!("[{}]", self.index)
        } else {
            format!("[{}].{}", self.index, self.field)
        }
    }
}

struct Versions(Vec<(&'static str, jsonschema::Validator)>);

fn validators() -> &'static Versions {
    static V: OnceLock<Versions> = OnceLock::new();
    V.get_or_init(|| {
        Versions(
            VERSIONS
                .iter()
                .map(|(version, text)| {
                    let doc: Value = serde_json::from_str(text).expect("a DfE openapi.json parses");
                    // One record: the array's `items`, so that each record is checked (and its
                    // problems named) on its own.
                    let item = doc["components"]["schemas"]["CSC"]["items"].clone();
                    let v = jsonschema::draft4::options()
                        .should_validate_formats(true)
                        .build(&item)
                        .expect("the DfE's record schema compiles");
                    (*version, v)
                })
                .collect(),
        )
    })
}

/// The version of the newest accepted schema (what the intake reports, and what export writes).
pub const CURRENT: &str = VERSIONS[0].0;

/// The schema version a record is valid against, newest first; `None` when none.
pub fn valid_version(record: &Value) -> Option<&'static str> {
    validators()
        .0
        .iter()
        .find(|(_, v)| v.is_valid(record))
        .map(|(version, _)| *version)
}

/// The current version's problems with `record`, at `index`.
pub fn problems(index: usize, record: &Value) -> Vec<Problem> {
    let (_, current) = &validators().0[0];
    let mut out: Vec<Problem> = current
        .iter_errors(record)
        .map(|e| Problem {
            index,
            field: pointer_to_path(&e.instance_path().to_string()),
            message: e.to_string(),
        })
        .collect();
    out.sort_by(|a, b| a.field.cmp(&b.field));
    out.dedup();
    out
}

/// A JSON pointer (`/social_care_episodes/0/referral_date`) as a field path
/// (`social_care_episodes[0].referral_date`).
fn pointer_to_path(pointer: &str) -> String {
    let mut out = String::new();
    for part in pointer.split('/').skip(1) {
        let part = part.replace("~1", "/").replace("~0", "~");
        if part.bytes().all(|b| b.is_ascii_digit()) && !part.is_empty() {
            out.push_str(&format!("[{part}]"));
        } else {
            if !out.is_empty() {
                out.push('.');
            }
            out.push_str(&part);
        }
    }
    out
}

/// Checks a whole request body: a JSON array of 1 to [`MAX_RECORDS`] records, each valid. The
/// records, or why the request is refused.
pub fn check_request(body: &[u8]) -> Result<Vec<Value>, Refusal> {
    let value: Value =
        serde_json::from_slice(body).map_err(|e| Refusal::Malformed(e.to_string()))?;
    let Value::Array(records) = value else {
        return Err(Refusal::Malformed(
            "the body is not a JSON array of child records".into(),
        ));
    };
    if records.is_empty() {
        return Err(Refusal::Malformed(
            "the array holds no child record (1 to 100 per request)".into(),
        ));
    }
    if records.len() > MAX_RECORDS {
        return Err(Refusal::TooMany(records.len()));
    }
    let problems: Vec<Problem> = records
        .iter()
        .enumerate()
        .filter(|(_, r)| valid_version(r).is_none())
        .flat_map(|(i, r)| problems(i, r))
        .collect();
    if problems.is_empty() {
        Ok(records)
    } else {
        Err(Refusal::Invalid(problems))
    }
}

/// Why a request is refused before anything in it is applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// Not a JSON array of records (HTTP 400).
    Malformed(String),
    /// More than [`MAX_RECORDS`] records (HTTP 413).
    TooMany(usize),
    /// Records that fail the schema (HTTP 400, naming each).
    Invalid(Vec<Problem>),
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn full_example() -> Value {
        let doc: Value = serde_json::from_str(VERSIONS[0].1).unwrap();
        doc["components"]["schemas"]["CSC"]["items"]["example"].clone()
    }

    #[test]
    fn the_dfe_example_is_valid_against_the_current_schema() {
        assert_eq!(valid_version(&full_example()), Some("1.0.1"));
    }

    #[test]
    fn an_unknown_key_is_refused_and_named() {
        let mut r = full_example();
        r["child_details"]["shoe_size"] = json!(5);
        assert_eq!(valid_version(&r), None);
        let p = problems(2, &r);
        assert_eq!(p.len(), 1, "{p:?}");
        assert_eq!(p[0].path(), "[2].child_details");
        assert!(p[0].message.contains("shoe_size"), "{}", p[0].message);
    }

    #[test]
    fn a_bad_date_is_refused_at_its_path() {
        let mut r = full_example();
        r["social_care_episodes"][0]["referral_date"] = json!("14/06/2022");
        let p = problems(0, &r);
        assert_eq!(
            p.iter().map(Problem::path).collect::<Vec<_>>(),
            ["[0].social_care_episodes[0].referral_date"]
        );
    }

    #[test]
    fn a_1_0_0_child_id_is_accepted_and_an_over_long_one_refused() {
        let mut r = full_example();
        r["la_child_id"] = json!("CHILD_0001-A");
        assert_eq!(valid_version(&r), Some("1.0.0"));
        r["la_child_id"] = json!("C".repeat(37));
        assert_eq!(valid_version(&r), None);
        assert_eq!(problems(0, &r)[0].path(), "[0].la_child_id");
    }

    #[test]
    fn a_three_character_placement_type_needs_1_0_0_or_later() {
        // 0.8.1 allowed two characters; 1.0.0 three ("Z11").
        let mut r = full_example();
        r["social_care_episodes"][0]["child_looked_after_placements"][0]["placement_type"] =
            json!("Z11");
        assert_eq!(valid_version(&r), Some("1.0.1"));
        r["social_care_episodes"][0]["child_looked_after_placements"][0]["placement_type"] =
            json!("Z111");
        assert_eq!(valid_version(&r), None);
    }

    #[test]
    fn requests_are_refused_whole_with_the_right_reason() {
        let one = full_example();
        assert!(matches!(check_request(b"{}"), Err(Refusal::Malformed(_))));
        assert!(matches!(check_request(b"[]"), Err(Refusal::Malformed(_))));
        assert!(matches!(check_request(b"[{"), Err(Refusal::Malformed(_))));
        let many = serde_json::to_vec(&vec![one.clone(); 101]).unwrap();
        assert_eq!(check_request(&many), Err(Refusal::TooMany(101)));
        let hundred = serde_json::to_vec(&vec![one.clone(); 100]).unwrap();
        assert_eq!(check_request(&hundred).unwrap().len(), 100);
        let mut bad = one.clone();
        bad.as_object_mut().unwrap().remove("la_child_id");
        let body = serde_json::to_vec(&vec![one, bad]).unwrap();
        match check_request(&body) {
            Err(Refusal::Invalid(p)) => {
                assert_eq!(p.len(), 1, "{p:?}");
                assert_eq!(p[0].index, 1);
                assert!(p[0].message.contains("la_child_id"), "{}", p[0].message);
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_null_is_refused_as_the_schema_declares_nothing_nullable() {
        let mut r = full_example();
        r["child_details"]["sex"] = Value::Null;
        assert_eq!(problems(0, &r)[0].path(), "[0].child_details.sex");
    }
}
