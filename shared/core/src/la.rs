//! Local authorities, by their DfE three-digit code.

use std::fmt;

use serde::{Deserialize, Serialize};

/// A DfE three-digit LA code (`885` Worcestershire), one of the English LAs in the DfE's tables
/// ([`LOCAL_AUTHORITIES`]), codes retired by reorganisations included: records of their years keep
/// their code. [`LaCode::check_period`] says whether a code was in use in a period.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct LaCode([u8; 3]);

impl LaCode {
    /// A code of the DfE's list; anything else is refused, naming the nearest codes.
    pub fn parse(text: &str) -> Result<Self, String> {
        let b = text.as_bytes();
        if !(b.len() == 3 && b.iter().all(u8::is_ascii_digit)) {
            return Err(format!(
                "malformed LA code {}: expected three digits, e.g. \"885\"",
                crate::text::quote(text)
            ));
        }
        let code = Self([b[0], b[1], b[2]]);
        if code.name().is_none() {
            return Err(format!(
                "unknown LA code \"{text}\": not an English LA in the DfE's list; nearest: {}",
                nearest(text)
            ));
        }
        Ok(code)
    }

    /// Three digits, whether or not the DfE lists them: for records already held, which stay
    /// readable whatever the list says (input goes through [`LaCode::parse`]).
    pub fn parse_held(text: &str) -> Result<Self, String> {
        let b = text.as_bytes();
        if b.len() == 3 && b.iter().all(u8::is_ascii_digit) {
            Ok(Self([b[0], b[1], b[2]]))
        } else {
            Err(format!(
                "malformed LA code {}: expected three digits",
                crate::text::quote(text)
            ))
        }
    }

    /// Whether the LA existed during `[start, end]`: a code retired by a reorganisation serves
    /// the periods before it, and a code it created those after (see [`REORGANISATIONS`]).
    pub fn check_period(
        &self,
        start: chrono::NaiveDate,
        end: chrono::NaiveDate,
    ) -> Result<(), String> {
        for r in REORGANISATIONS {
            let on = chrono::NaiveDate::parse_from_str(r.on, "%Y-%m-%d").expect("valid date");
            let name = |c: &str| {
                format!(
                    "{c} {}",
                    Self::parse(c).ok().and_then(|l| l.name()).unwrap_or("")
                )
            };
            let list = |codes: &[&str]| {
                codes
                    .iter()
                    .map(|c| name(c))
                    .collect::<Vec<_>>()
                    .join(" and ")
            };
            if r.retired.contains(&self.as_str()) && start >= on {
                return Err(format!(
                    "{} was replaced on {on} by {}: a period from {start} is theirs",
                    name(self.as_str()),
                    list(r.created)
                ));
            }
            if r.created.contains(&self.as_str()) && end < on {
                return Err(format!(
                    "{} began on {on} (before it: {}): a period to {end} is theirs",
                    name(self.as_str()),
                    list(r.retired)
                ));
            }
        }
        Ok(())
    }

    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&self.0).expect("ASCII digits")
    }

    /// The LA's row of [`LOCAL_AUTHORITIES`] (sorted by code: every record's LA is looked up).
    fn entry(&self) -> Option<&'static (&'static str, &'static str, &'static str)> {
        LOCAL_AUTHORITIES
            .binary_search_by(|(c, _, _)| (*c).cmp(self.as_str()))
            .ok()
            .map(|i| &LOCAL_AUTHORITIES[i])
    }

    /// The LA's name, for codes in the DfE's published tables 2012–2025.
    pub fn name(&self) -> Option<&'static str> {
        self.entry().map(|(_, n, _)| *n)
    }

    /// The LA's region as the DfE tables name it ("West Midlands", "Inner London", ...).
    pub fn region(&self) -> Option<&'static str> {
        self.entry().map(|(_, _, r)| *r)
    }
}

impl LaCode {
    /// An LA as a pooled file names it: its three-digit code, or its name as the DfE's tables
    /// write it, in any case and punctuation (`Barking and Dagenham`, `Barking & Dagenham`,
    /// `St Helens`, `Bristol` or `Bristol, City of`, `Durham`).
    pub fn from_code_or_name(text: &str) -> Option<Self> {
        let t = text.trim();
        if let Ok(code) = Self::parse(t) {
            return Some(code);
        }
        let wanted = name_key(t);
        if wanted.is_empty() {
            return None;
        }
        LOCAL_AUTHORITIES
            .iter()
            .find(|(_, n, _)| {
                let key = name_key(n);
                key == wanted || short_name_key(n) == wanted
            })
            .and_then(|(c, _, _)| Self::parse(c).ok())
    }
}

/// The three listed codes numerically nearest to `text` (three digits), with their names.
fn nearest(text: &str) -> String {
    let n: i32 = text.parse().unwrap_or(0);
    let mut all: Vec<&(&str, &str, &str)> = LOCAL_AUTHORITIES.iter().collect();
    all.sort_by_key(|(c, _, _)| ((c.parse::<i32>().unwrap_or(0) - n).abs(), *c));
    all.iter()
        .take(3)
        .map(|(c, name, _)| format!("{c} {name}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A reorganisation of English LAs that changed their codes: the codes retired the day before
/// `on`, and the codes created on it. (North Yorkshire, 2023, and Somerset, 2023, and
/// Buckinghamshire, 2020, kept their county codes.)
pub struct Reorganisation {
    pub on: &'static str,
    pub retired: &'static [&'static str],
    pub created: &'static [&'static str],
}

pub const REORGANISATIONS: &[Reorganisation] = &[
    Reorganisation {
        on: "2019-04-01",
        retired: &["835", "836", "837"],
        created: &["838", "839"],
    },
    Reorganisation {
        on: "2021-04-01",
        retired: &["928"],
        created: &["940", "941"],
    },
    Reorganisation {
        on: "2023-04-01",
        retired: &["909"],
        created: &["942", "943"],
    },
];

/// A name with case, punctuation and "&"/"and" differences taken out.
fn name_key(name: &str) -> String {
    name.to_lowercase()
        .replace('&', " and ")
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .collect()
}

/// The name without its ", City of" / ", County of" tail or "County " head.
fn short_name_key(name: &str) -> String {
    let n = name
        .split(", ")
        .next()
        .unwrap_or(name)
        .trim_start_matches("County ");
    name_key(n)
}

impl fmt::Display for LaCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for LaCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "LaCode({})", self.as_str())
    }
}

impl TryFrom<String> for LaCode {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        Self::parse(&s)
    }
}

impl From<LaCode> for String {
    fn from(c: LaCode) -> String {
        c.as_str().to_owned()
    }
}

/// Code, name and region of every LA in the DfE's published tables 2012–2025 (Open Government
/// Licence), including codes retired by reorganisations.
pub const LOCAL_AUTHORITIES: &[(&str, &str, &str)] = &[
    ("201", "City of London", "Inner London"),
    ("202", "Camden", "Inner London"),
    ("203", "Greenwich", "Outer London"),
    ("204", "Hackney", "Inner London"),
    ("205", "Hammersmith and Fulham", "Inner London"),
    ("206", "Islington", "Inner London"),
    ("207", "Kensington and Chelsea", "Inner London"),
    ("208", "Lambeth", "Inner London"),
    ("209", "Lewisham", "Inner London"),
    ("210", "Southwark", "Inner London"),
    ("211", "Tower Hamlets", "Inner London"),
    ("212", "Wandsworth", "Inner London"),
    ("213", "Westminster", "Inner London"),
    ("301", "Barking and Dagenham", "Outer London"),
    ("302", "Barnet", "Outer London"),
    ("303", "Bexley", "Outer London"),
    ("304", "Brent", "Outer London"),
    ("305", "Bromley", "Outer London"),
    ("306", "Croydon", "Outer London"),
    ("307", "Ealing", "Outer London"),
    ("308", "Enfield", "Outer London"),
    ("309", "Haringey", "Inner London"),
    ("310", "Harrow", "Outer London"),
    ("311", "Havering", "Outer London"),
    ("312", "Hillingdon", "Outer London"),
    ("313", "Hounslow", "Outer London"),
    ("314", "Kingston upon Thames", "Outer London"),
    ("315", "Merton", "Outer London"),
    ("316", "Newham", "Inner London"),
    ("317", "Redbridge", "Outer London"),
    ("318", "Richmond upon Thames", "Outer London"),
    ("319", "Sutton", "Outer London"),
    ("320", "Waltham Forest", "Outer London"),
    ("330", "Birmingham", "West Midlands"),
    ("331", "Coventry", "West Midlands"),
    ("332", "Dudley", "West Midlands"),
    ("333", "Sandwell", "West Midlands"),
    ("334", "Solihull", "West Midlands"),
    ("335", "Walsall", "West Midlands"),
    ("336", "Wolverhampton", "West Midlands"),
    ("340", "Knowsley", "North West"),
    ("341", "Liverpool", "North West"),
    ("342", "St. Helens", "North West"),
    ("343", "Sefton", "North West"),
    ("344", "Wirral", "North West"),
    ("350", "Bolton", "North West"),
    ("351", "Bury", "North West"),
    ("352", "Manchester", "North West"),
    ("353", "Oldham", "North West"),
    ("354", "Rochdale", "North West"),
    ("355", "Salford", "North West"),
    ("356", "Stockport", "North West"),
    ("357", "Tameside", "North West"),
    ("358", "Trafford", "North West"),
    ("359", "Wigan", "North West"),
    ("370", "Barnsley", "Yorkshire and The Humber"),
    ("371", "Doncaster", "Yorkshire and The Humber"),
    ("372", "Rotherham", "Yorkshire and The Humber"),
    ("373", "Sheffield", "Yorkshire and The Humber"),
    ("380", "Bradford", "Yorkshire and The Humber"),
    ("381", "Calderdale", "Yorkshire and The Humber"),
    ("382", "Kirklees", "Yorkshire and The Humber"),
    ("383", "Leeds", "Yorkshire and The Humber"),
    ("384", "Wakefield", "Yorkshire and The Humber"),
    ("390", "Gateshead", "North East"),
    ("391", "Newcastle upon Tyne", "North East"),
    ("392", "North Tyneside", "North East"),
    ("393", "South Tyneside", "North East"),
    ("394", "Sunderland", "North East"),
    ("420", "Isles of Scilly", "South West"),
    ("800", "Bath and North East Somerset", "South West"),
    ("801", "Bristol, City of", "South West"),
    ("802", "North Somerset", "South West"),
    ("803", "South Gloucestershire", "South West"),
    ("805", "Hartlepool", "North East"),
    ("806", "Middlesbrough", "North East"),
    ("807", "Redcar and Cleveland", "North East"),
    ("808", "Stockton-on-Tees", "North East"),
    (
        "810",
        "Kingston upon Hull, City of",
        "Yorkshire and The Humber",
    ),
    (
        "811",
        "East Riding of Yorkshire",
        "Yorkshire and The Humber",
    ),
    ("812", "North East Lincolnshire", "Yorkshire and The Humber"),
    ("813", "North Lincolnshire", "Yorkshire and The Humber"),
    ("815", "North Yorkshire", "Yorkshire and The Humber"),
    ("816", "York", "Yorkshire and The Humber"),
    ("821", "Luton", "East of England"),
    ("822", "Bedford", "East of England"),
    ("823", "Central Bedfordshire", "East of England"),
    ("825", "Buckinghamshire", "South East"),
    ("826", "Milton Keynes", "South East"),
    ("830", "Derbyshire", "East Midlands"),
    ("831", "Derby", "East Midlands"),
    ("835", "Dorset", "South West"),
    ("836", "Poole", "South West"),
    ("837", "Bournemouth", "South West"),
    ("838", "Dorset", "South West"),
    ("839", "Bournemouth, Christchurch and Poole", "South West"),
    ("840", "County Durham", "North East"),
    ("841", "Darlington", "North East"),
    ("845", "East Sussex", "South East"),
    ("846", "Brighton and Hove", "South East"),
    ("850", "Hampshire", "South East"),
    ("851", "Portsmouth", "South East"),
    ("852", "Southampton", "South East"),
    ("855", "Leicestershire", "East Midlands"),
    ("856", "Leicester", "East Midlands"),
    ("857", "Rutland", "East Midlands"),
    ("860", "Staffordshire", "West Midlands"),
    ("861", "Stoke-on-Trent", "West Midlands"),
    ("865", "Wiltshire", "South West"),
    ("866", "Swindon", "South West"),
    ("867", "Bracknell Forest", "South East"),
    ("868", "Windsor and Maidenhead", "South East"),
    ("869", "West Berkshire", "South East"),
    ("870", "Reading", "South East"),
    ("871", "Slough", "South East"),
    ("872", "Wokingham", "South East"),
    ("873", "Cambridgeshire", "East of England"),
    ("874", "Peterborough", "East of England"),
    ("876", "Halton", "North West"),
    ("877", "Warrington", "North West"),
    ("878", "Devon", "South West"),
    ("879", "Plymouth", "South West"),
    ("880", "Torbay", "South West"),
    ("881", "Essex", "East of England"),
    ("882", "Southend-on-Sea", "East of England"),
    ("883", "Thurrock", "East of England"),
    ("884", "Herefordshire, County of", "West Midlands"),
    ("885", "Worcestershire", "West Midlands"),
    ("886", "Kent", "South East"),
    ("887", "Medway", "South East"),
    ("888", "Lancashire", "North West"),
    ("889", "Blackburn with Darwen", "North West"),
    ("890", "Blackpool", "North West"),
    ("891", "Nottinghamshire", "East Midlands"),
    ("892", "Nottingham", "East Midlands"),
    ("893", "Shropshire", "West Midlands"),
    ("894", "Telford and Wrekin", "West Midlands"),
    ("895", "Cheshire East", "North West"),
    ("896", "Cheshire West and Chester", "North West"),
    ("908", "Cornwall", "South West"),
    ("909", "Cumbria", "North West"),
    ("916", "Gloucestershire", "South West"),
    ("919", "Hertfordshire", "East of England"),
    ("921", "Isle of Wight", "South East"),
    ("925", "Lincolnshire", "East Midlands"),
    ("926", "Norfolk", "East of England"),
    ("928", "Northamptonshire", "East Midlands"),
    ("929", "Northumberland", "North East"),
    ("931", "Oxfordshire", "South East"),
    ("933", "Somerset", "South West"),
    ("935", "Suffolk", "East of England"),
    ("936", "Surrey", "South East"),
    ("937", "Warwickshire", "West Midlands"),
    ("938", "West Sussex", "South East"),
    ("940", "North Northamptonshire", "East Midlands"),
    ("941", "West Northamptonshire", "East Midlands"),
    ("942", "Cumberland", "North West"),
    ("943", "Westmorland and Furness", "North West"),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_the_listed_codes_and_names_the_nearest_for_others() {
        let c = LaCode::parse("885").unwrap();
        assert_eq!(c.as_str(), "885");
        assert_eq!(c.name(), Some("Worcestershire"));
        assert_eq!(c.region(), Some("West Midlands"));
        let e = LaCode::parse("999").unwrap_err();
        assert!(e.starts_with("unknown LA code \"999\""), "{e}");
        assert!(
            e.ends_with(
                "nearest: 943 Westmorland and Furness, 942 Cumberland, 941 West Northamptonshire"
            ),
            "{e}"
        );
        let e = LaCode::parse("884")
            .map(|_| ())
            .and(LaCode::parse("888").map(|_| ()));
        assert!(e.is_ok(), "Herefordshire and Lancashire");
        assert!(
            LaCode::parse("100")
                .unwrap_err()
                .contains("nearest: 201 City of London")
        );
        // The reorganised LAs, old codes and new.
        for code in [
            "835", "836", "837", "838", "839", "928", "940", "941", "909", "942", "943", "815",
            "933",
        ] {
            assert!(LaCode::parse(code).is_ok(), "{code}");
        }
    }

    #[test]
    fn the_list_is_sorted_by_code_for_its_binary_search() {
        assert!(LOCAL_AUTHORITIES.windows(2).all(|w| w[0].0 < w[1].0));
    }

    #[test]
    fn reorganised_codes_serve_their_own_years() {
        let d = |s: &str| chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
        let la = |c: &str| LaCode::parse(c).unwrap();
        // Northamptonshire to 31 March 2021, its successors from 1 April 2021.
        assert!(
            la("928")
                .check_period(d("2020-04-01"), d("2021-03-31"))
                .is_ok()
        );
        let e = la("928")
            .check_period(d("2021-04-01"), d("2021-06-30"))
            .unwrap_err();
        assert!(e.contains("928 Northamptonshire was replaced on 2021-04-01 by 940 North Northamptonshire and 941 West Northamptonshire"), "{e}");
        assert!(
            la("940")
                .check_period(d("2021-04-01"), d("2021-06-30"))
                .is_ok()
        );
        let e = la("941")
            .check_period(d("2020-04-01"), d("2020-06-30"))
            .unwrap_err();
        assert!(
            e.contains("began on 2021-04-01 (before it: 928 Northamptonshire)"),
            "{e}"
        );
        // Cumbria's 2023 split; Dorset, Bournemouth and Poole's of 2019.
        assert!(
            la("909")
                .check_period(d("2023-04-01"), d("2023-06-30"))
                .is_err()
        );
        assert!(
            la("943")
                .check_period(d("2023-04-01"), d("2023-06-30"))
                .is_ok()
        );
        assert!(
            la("837")
                .check_period(d("2018-04-01"), d("2019-03-31"))
                .is_ok()
        );
        assert!(
            la("839")
                .check_period(d("2018-04-01"), d("2019-03-31"))
                .is_err()
        );
        // Codes that did not change are good for any period.
        assert!(
            la("815")
                .check_period(d("2015-04-01"), d("2026-03-31"))
                .is_ok()
        );
        assert!(
            la("933")
                .check_period(d("2024-04-01"), d("2024-06-30"))
                .is_ok()
        );
    }

    #[test]
    fn rejects_anything_but_three_digits() {
        for bad in ["", "88", "8855", "88a", " 885", "E10000034"] {
            assert!(LaCode::parse(bad).is_err(), "{bad:?}");
        }
    }
}

#[cfg(test)]
mod name_tests {
    use super::*;

    #[test]
    fn pooled_files_name_las_by_code_or_name() {
        let code = |t: &str| LaCode::from_code_or_name(t).map(|c| c.to_string());
        assert_eq!(code("885").as_deref(), Some("885"));
        assert_eq!(code("Barking and Dagenham").as_deref(), Some("301"));
        assert_eq!(code("barking & dagenham").as_deref(), Some("301"));
        assert_eq!(code("St Helens").as_deref(), Some("342"));
        assert_eq!(code("Bristol").as_deref(), Some("801"));
        assert_eq!(code("Bristol, City of").as_deref(), Some("801"));
        assert_eq!(code("Durham").as_deref(), Some("840"));
        assert_eq!(code("Newham").as_deref(), Some("316"));
        assert_eq!(code("Atlantis"), None);
        assert_eq!(code(""), None);
    }
}
