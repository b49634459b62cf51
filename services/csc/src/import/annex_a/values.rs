//! Values as councils type them into an Annex A workbook (docs/formats.md, "Ofsted Annex A"):
//! Ofsted's dropdown form (`q) 6: Police`, `b) No`, `a) Neglect`), the bare code (`6`, `NEG`)
//! or the label (`Police`); child ids that Excel stored as numbers; dates as Excel serials,
//! date-times or text. Every mapping table the Annex A importer uses is here, with its tests.

use chrono::{Duration, NaiveDate};

use crate::import::dates::{ReadDate, read_date};

/// A cell as the workbook (or a CSV list) holds it.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Empty,
    Text(String),
    Number(f64),
    /// A cell Excel typed as a date or date-time: the date, and whether a time other than
    /// midnight was with it.
    Date(NaiveDate, bool),
    Bool(bool),
    /// An error value (`#REF!`), or a formula whose value was never calculated and saved.
    Error(String),
}

impl Cell {
    pub fn is_empty(&self) -> bool {
        match self {
            Cell::Empty => true,
            Cell::Text(t) => t.trim().is_empty(),
            _ => false,
        }
    }

    /// The cell as text, as a person would read it (a whole number without `.0`).
    pub fn text(&self) -> String {
        match self {
            Cell::Empty => String::new(),
            Cell::Text(t) => t.trim().to_owned(),
            Cell::Number(n) if n.fract() == 0.0 && n.abs() < 1e15 => format!("{}", *n as i64),
            Cell::Number(n) => n.to_string(),
            Cell::Date(d, _) => d.to_string(),
            Cell::Bool(b) => if *b { "Yes" } else { "No" }.to_owned(),
            Cell::Error(e) => e.clone(),
        }
    }
}

/// Excel's day 0 in the 1900 date system (serial 1 is 1900-01-01, counting Excel's phantom
/// 29 February 1900; every date a return holds is after it).
fn excel_epoch() -> NaiveDate {
    NaiveDate::from_ymd_opt(1899, 12, 30).expect("valid date")
}

/// A date from a cell: a date cell, an Excel serial number (a date column formatted as General),
/// or text in any form `dates::read_date` reads. `Err` is why the cell is no date.
pub fn date(cell: &Cell) -> Result<Option<Dated>, String> {
    match cell {
        Cell::Empty => Ok(None),
        Cell::Date(d, timed) => Ok(Some(Dated {
            date: *d,
            time_of_day: *timed,
            read: None,
        })),
        Cell::Number(n) if (1.0..2_958_466.0).contains(n) => {
            let d = excel_epoch() + Duration::days(n.trunc() as i64);
            plausible(d)?;
            Ok(Some(Dated {
                date: d,
                time_of_day: n.fract() != 0.0,
                read: None,
            }))
        }
        Cell::Text(t) if t.trim().is_empty() => Ok(None),
        Cell::Text(t) => match read_date(t) {
            Some(r) => Ok(Some(Dated {
                date: r.date,
                time_of_day: crate::import::dates::is_not_midnight(&r),
                read: Some(r),
            })),
            None => Err(format!(
                "{} is not a date (a date cell, DD/MM/YYYY, YYYY-MM-DD or DD/MM/YY)",
                crate::import::input::quote(t)
            )),
        },
        other => Err(format!(
            "{} is not a date",
            crate::import::input::quote(&other.text())
        )),
    }
}

fn plausible(d: NaiveDate) -> Result<(), String> {
    if (1900..=2099).contains(&chrono::Datelike::year(&d)) {
        Ok(())
    } else {
        Err(format!("{d} is outside 1900-2099"))
    }
}

/// A date read from a cell.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Dated {
    pub date: NaiveDate,
    /// A time of day other than midnight came with it (kept out of the date, warned about).
    pub time_of_day: bool,
    /// How a text date was read (two-digit year, time), for the file's date tally.
    pub read: Option<ReadDate>,
}

/// The council's child id: text as written, trimmed; a number Excel stored as a float
/// (`9212044.0`, or the text `9212044.0` a CSV export of it writes) is the whole number.
pub fn child_id(cell: &Cell) -> String {
    let t = cell.text();
    match t.strip_suffix(".0") {
        Some(whole) if !whole.is_empty() && whole.bytes().all(|b| b.is_ascii_digit()) => {
            whole.to_owned()
        }
        _ => t,
    }
}

/// A dropdown value split at Ofsted's list letter: `q) 6: Police` → (`q`, `6: Police`),
/// `p1) 5D: LA services` → (`p1`, `5D: LA services`); other text has no letter.
fn split_letter(t: &str) -> (Option<String>, &str) {
    let t = t.trim();
    if let Some(i) = t.find(')') {
        let head = &t[..i];
        let mut chars = head.chars();
        if chars.next().is_some_and(|c| c.is_ascii_alphabetic())
            && head.len() <= 3
            && chars.all(|c| c.is_ascii_digit())
        {
            return (Some(head.to_ascii_lowercase()), t[i + 1..].trim());
        }
    }
    (None, t)
}

/// The part of a dropdown value after Ofsted's list letter ([`split_letter`]).
fn without_letter(t: &str) -> &str {
    split_letter(t).1
}

/// Whether every needle begins a word of `text` (its [`words`]): "school" in "Schools", not in
/// "preschool".
pub(super) fn words_begin(text: &str, needles: &[&str]) -> bool {
    let w = format!(" {}", words(text));
    needles.iter().all(|n| w.contains(&format!(" {n}")))
}

/// The leading code of a value (`6: Police` → `6`, `N1 - Abuse or neglect` → `N1`,
/// `PSRMEM - Support with memory` → `PSRMEM`, `NEG` → `NEG`), upper case.
fn leading_code(t: &str) -> String {
    let t = t.trim();
    let end = t.find([':', ' ', '-', '\u{2013}']).unwrap_or(t.len());
    t[..end].trim().to_ascii_uppercase()
}

/// Lower-case words of a label or header, punctuation as spaces.
pub(super) fn words(t: &str) -> String {
    t.chars()
        .map(|c| {
            if c.is_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                ' '
            }
        })
        .collect::<String>()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// Contact and referral sources: CIN census ReferralSource code, Ofsted's dropdown letter, and
/// words of the label that name it (checked in this order; the first label match wins, so the
/// more specific labels come first).
pub const SOURCES: &[(&str, &str, &[&str])] = &[
    ("1A", "a", &["family", "relative", "carer"]),
    ("1B", "b", &["acquaintance", "neighbour"]),
    ("1C", "c", &["self"]),
    ("1D", "d", &["individual other", "stranger"]),
    ("3C", "i", &["school nurse"]),
    ("2A", "e", &["school"]),
    ("2B", "f", &["education"]),
    ("3A", "g", &["general practitioner", "gp"]),
    ("3B", "h", &["health visitor"]),
    ("3D", "j", &["other primary health"]),
    ("3E", "k", &["a e", "accident and emergency"]),
    (
        "3F",
        "l",
        &["health other", "other health", "hospice", "health"],
    ),
    ("5B", "o", &["other internal", "youth offending"]),
    ("5C", "p", &["external"]),
    ("5D", "p1", &["early help"]),
    ("5A", "n", &["social care", "la services"]),
    ("4", "m", &["housing"]),
    ("6", "q", &["police"]),
    (
        "7",
        "r",
        &[
            "legal",
            "court",
            "probation",
            "cafcass",
            "prison",
            "immigration",
        ],
    ),
    ("9", "t", &["anonymous"]),
    ("10", "u", &["unknown", "not known"]),
    ("8", "s", &["other"]),
];

/// A contact or referral source as a CIN census code: the code written after the list letter
/// (`q) 6: Police`), a bare code (`6`, `2a`), the letter alone (`q)`), or the label (`Police`).
pub fn source(text: &str) -> Option<&'static str> {
    let (letter, rest) = split_letter(text);
    let code = leading_code(rest);
    if let Some((c, _, _)) = SOURCES.iter().find(|(c, _, _)| *c == code) {
        return Some(c);
    }
    if rest.is_empty()
        && let Some(l) = letter
    {
        return SOURCES.iter().find(|(_, x, _)| *x == l).map(|(c, _, _)| *c);
    }
    SOURCES
        .iter()
        .find(|(_, _, labels)| labels.iter().any(|l| words_begin(rest, &[l])))
        .map(|(c, _, _)| *c)
}

/// Yes, no, or unknown (`c) Unknown`, blank): `a) Yes`, `Yes`, `Y`, `1`, `true` and a ticked
/// checkbox are yes; `b) No`, `No`, `N`, `0`, `false` are no. `Err` for anything else.
pub fn yes_no(cell: &Cell) -> Result<Option<bool>, String> {
    if let Cell::Bool(b) = cell {
        return Ok(Some(*b));
    }
    let t = cell.text();
    let rest = without_letter(&t).to_ascii_lowercase();
    match rest.as_str() {
        "" => Ok(None),
        "yes" | "y" | "1" | "true" => Ok(Some(true)),
        "no" | "n" | "0" | "false" => Ok(Some(false)),
        "unknown" | "not known" | "u" | "n/a" | "na" => Ok(None),
        _ => Err(format!(
            "{} is not yes or no (a) Yes, b) No, Y/N, 1/0)",
            crate::import::input::quote(&t)
        )),
    }
}

/// A CIN reason for closure as its CIN census code: `RC8 - Case closed after assessment, no
/// further action`, `RC8`, `rc8`.
pub fn closure_reason(text: &str) -> Option<&'static str> {
    let code = leading_code(without_letter(text));
    csc_core::codes::CLOSURE_REASONS
        .iter()
        .find(|(c, _)| *c == code)
        .map(|(c, _)| *c)
}

/// Legal statuses by the words of Ofsted's labels, for cells that give the label alone.
const LEGAL_STATUS_LABELS: &[(&str, &str)] = &[
    ("C1", "interim care"),
    ("C2", "full care"),
    ("D1", "freeing order"),
    ("E1", "placement order"),
    ("V2", "section 20"),
    ("V2", "s20"),
    ("L1", "police protection"),
    ("L2", "emergency protection"),
    ("L3", "child assessment order"),
    ("J1", "remand"),
    ("J2", "pace"),
    ("J3", "youth rehabilitation"),
];

/// A 903 legal status: `C2: FCO`, `C2`, or a label such as `Interim care order`.
pub fn legal_status(text: &str) -> Option<String> {
    let rest = without_letter(text);
    let code = leading_code(rest);
    if csc_core::codes::is_legal_status(&code) {
        return Some(code);
    }
    LEGAL_STATUS_LABELS
        .iter()
        .find(|(_, l)| words_begin(rest, &[l]))
        .map(|(c, _)| (*c).to_owned())
}

/// A 903 reason episode ceased: `a) E11: Adopted - application unopposed`, `E11`, `e4a`.
pub fn reason_ceased(text: &str) -> Option<String> {
    let code = leading_code(without_letter(text));
    csc_core::codes::is_reason_episode_ceased(&code).then_some(code)
}

/// Categories of abuse: CIN census code, Ofsted's dropdown letter, label words.
pub const CATEGORIES: &[(&str, &str, &[&str])] = &[
    ("NEG", "a", &["neglect"]),
    ("PHY", "b", &["physical"]),
    ("SAB", "c", &["sexual"]),
    ("EMO", "d", &["emotional"]),
    ("MUL", "e", &["multiple", "not recommended"]),
];

/// A category of abuse as a CIN census code: `a) Neglect`, `Neglect`, `NEG`, `a)`.
pub fn category(text: &str) -> Option<&'static str> {
    let (letter, rest) = split_letter(text);
    let code = leading_code(rest);
    if let Some((c, _, _)) = CATEGORIES.iter().find(|(c, _, _)| *c == code) {
        return Some(c);
    }
    let w = words(rest);
    if let Some((c, _, _)) = CATEGORIES
        .iter()
        .find(|(_, _, labels)| labels.iter().any(|l| w.contains(l)))
    {
        return Some(c);
    }
    let l = letter?;
    CATEGORIES
        .iter()
        .find(|(_, x, _)| *x == l)
        .map(|(c, _, _)| *c)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ymd(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    #[test]
    fn sources_in_dropdown_bare_and_label_form() {
        for (text, code) in [
            ("q) 6: Police", "6"),
            ("6: Police", "6"),
            ("6", "6"),
            ("Police", "6"),
            ("a) 1A: Individual", "1A"),
            ("1a", "1A"),
            ("p1) 5D: LA services", "5D"),
            ("p1)", "5D"),
            ("i) 3C: Health services", "3C"),
            ("HEALTH SERVICES – school nurse", "3C"),
            ("Schools", "2A"),
            ("u) 10: Unknown", "10"),
            ("10", "10"),
            ("Anonymous", "9"),
            ("OTHER – including children's centres", "8"),
            ("OTHER LEGAL AGENCY – including courts", "7"),
            ("HEALTH SERVICES – general practitioner (GP)", "3A"),
        ] {
            assert_eq!(source(text), Some(code), "{text}");
        }
        assert_eq!(source("Q9"), None);
        assert_eq!(source("carrier pigeon"), None);
    }

    #[test]
    fn yes_no_unknown_and_refusals() {
        for (cell, v) in [
            (Cell::Text("a) Yes".into()), Some(true)),
            (Cell::Text("b) No".into()), Some(false)),
            (Cell::Text("Y".into()), Some(true)),
            (Cell::Text("n".into()), Some(false)),
            (Cell::Number(1.0), Some(true)),
            (Cell::Number(0.0), Some(false)),
            (Cell::Bool(true), Some(true)),
            (Cell::Text("c) Unknown".into()), None),
            (Cell::Empty, None),
        ] {
            assert_eq!(yes_no(&cell), Ok(v), "{cell:?}");
        }
        assert!(
            yes_no(&Cell::Text("maybe".into()))
                .unwrap_err()
                .contains("\"maybe\"")
        );
    }

    #[test]
    fn categories_of_abuse() {
        for (text, code) in [
            ("a) Neglect", "NEG"),
            ("Neglect", "NEG"),
            ("NEG", "NEG"),
            ("c) Sexual abuse", "SAB"),
            ("e) Multiple/not recommended", "MUL"),
            ("d)", "EMO"),
            ("Physical Abuse", "PHY"),
        ] {
            assert_eq!(category(text), Some(code), "{text}");
        }
        assert_eq!(category("f) Something"), None);
    }

    #[test]
    fn legal_statuses_and_reasons_ceased_as_ofsted_writes_them() {
        for (text, code) in [
            ("C2: FCO", "C2"),
            ("E1: Placement order", "E1"),
            ("v2", "V2"),
            ("Interim care order", "C1"),
            ("Accommodated under section 20", "V2"),
        ] {
            assert_eq!(legal_status(text).as_deref(), Some(code), "{text}");
        }
        assert_eq!(legal_status("Z9: Other"), None);
        for (text, code) in [
            ("a) E11: Adopted - application unopposed", "E11"),
            ("f) E4B: Returned home", "E4B"),
            ("E45", "E45"),
            ("x1", "X1"),
        ] {
            assert_eq!(reason_ceased(text).as_deref(), Some(code), "{text}");
        }
        assert_eq!(reason_ceased("Adopted"), None);
        assert_eq!(
            closure_reason("RC8 - Case closed after assessment"),
            Some("RC8")
        );
        assert_eq!(closure_reason("RC99"), None);
    }

    #[test]
    fn ids_stored_as_floats_are_whole_numbers() {
        assert_eq!(child_id(&Cell::Number(9_212_044.0)), "9212044");
        assert_eq!(child_id(&Cell::Text("9212044.0".into())), "9212044");
        assert_eq!(child_id(&Cell::Text(" C-12.0a ".into())), "C-12.0a");
        assert_eq!(child_id(&Cell::Text("AB.0".into())), "AB.0");
    }

    #[test]
    fn dates_from_date_cells_serials_and_text() {
        let d = |c: Cell| date(&c).unwrap().map(|x| (x.date, x.time_of_day));
        assert_eq!(
            d(Cell::Date(ymd(2024, 5, 1), false)),
            Some((ymd(2024, 5, 1), false))
        );
        // 45413 is 1 May 2024 in Excel's 1900 system; .5 is noon.
        assert_eq!(d(Cell::Number(45413.0)), Some((ymd(2024, 5, 1), false)));
        assert_eq!(d(Cell::Number(45413.5)), Some((ymd(2024, 5, 1), true)));
        assert_eq!(
            d(Cell::Text("01/05/2024".into())),
            Some((ymd(2024, 5, 1), false))
        );
        assert_eq!(
            d(Cell::Text("2024-05-01 00:00:00".into())),
            Some((ymd(2024, 5, 1), false))
        );
        assert_eq!(
            d(Cell::Text("01/05/24".into())),
            Some((ymd(2024, 5, 1), false))
        );
        assert_eq!(d(Cell::Empty), None);
        let e = date(&Cell::Text("08/05/0017".into())).unwrap_err();
        assert!(e.contains("\"08/05/0017\""), "{e}");
        assert!(date(&Cell::Bool(true)).is_err());
    }
}
