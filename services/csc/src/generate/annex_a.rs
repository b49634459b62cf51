//! The synthetic county's Ofsted Annex A workbook (`annex_a.xlsx`): the last 12 months of
//! contacts, referrals, assessments, section 47 enquiries, CIN episodes, child protection plans
//! and children looked after of the same
//! children as its CIN censuses and contacts file, and the early help assessments of the children
//! whose cases closed with a referral to early help (RC9), written as councils keep it (a title
//! block above each header row, Ofsted's dropdown values, dates as Excel dates).

use std::collections::BTreeMap;

use chrono::{Datelike, NaiveDate};
use rust_xlsxwriter::{DocProperties, ExcelDateTime, Format, Workbook, Worksheet, XlsxError};

use super::{CareChild, CinChild, Config, Writer};
use crate::import::annex_a::values::{CATEGORIES, SOURCES};

/// Columns every child-level list starts with.
const CHILD_COLUMNS: &[&str] = &[
    "Child Unique ID",
    "Gender",
    "Ethnicity",
    "Date of Birth",
    "Age of Child (Years)",
];

enum Value {
    Text(String),
    Date(NaiveDate),
    Number(f64),
    Empty,
}

struct Sheet {
    name: &'static str,
    title: &'static str,
    columns: &'static [&'static str],
    rows: Vec<Vec<Value>>,
}

fn dropdown_source(code: &str) -> String {
    let (_, letter, _) = SOURCES
        .iter()
        .find(|(c, _, _)| *c == code)
        .expect("a CIN census source code");
    let group = csc_core::codes::referral_source_group(code)
        .map(|g| csc_core::codes::REFERRAL_SOURCE_GROUPS[g].1)
        .unwrap_or("Other");
    format!("{letter}) {code}: {group}")
}

fn dropdown_category(code: &str) -> String {
    let (_, letter, _) = CATEGORIES
        .iter()
        .find(|(c, _, _)| *c == code)
        .expect("a CIN census category code");
    let label = csc_core::codes::CATEGORIES_OF_ABUSE
        .iter()
        .find(|(c, _)| *c == code)
        .map_or(code, |(_, l)| l);
    format!("{letter}) {label}")
}

fn yes_no(v: bool) -> Value {
    Value::Text(if v { "a) Yes" } else { "b) No" }.to_owned())
}

/// The child columns: id, gender, ethnicity, date of birth and age on `on`, for a child whose
/// sex (1 male) and date of birth are known, where they are.
fn child_cells(id: &str, known: Option<(u8, Option<NaiveDate>)>, on: NaiveDate) -> Vec<Value> {
    let (gender, ethnicity, dob) = match known {
        Some((sex, dob)) => (
            if sex == 1 { "a) Male" } else { "b) Female" },
            "a) WBRI",
            dob,
        ),
        None => ("c) Not stated/recorded", "s) NOBT", None),
    };
    let age = dob.map(|d| on.years_since(d).unwrap_or(0));
    vec![
        Value::Text(id.to_owned()),
        Value::Text(gender.to_owned()),
        Value::Text(ethnicity.to_owned()),
        dob.map_or(Value::Empty, Value::Date),
        age.map_or(Value::Empty, |a| Value::Number(f64::from(a))),
    ]
}

/// A CIN child's sex and date of birth, for [`child_cells`].
fn cin(child: &CinChild) -> Option<(u8, Option<NaiveDate>)> {
    Some((child.sex, child.dob))
}

pub(super) fn write(
    w: &mut Writer,
    cfg: &Config,
    children: &BTreeMap<String, CinChild>,
    care: &[CareChild],
    contacts: &[Vec<String>],
) -> anyhow::Result<()> {
    let until = cfg.until;
    let from = csc_core::sub_months(until, 12)
        .succ_opt()
        .expect("a valid date");
    let in_window = |d: NaiveDate| d >= from && d <= until;
    let mut sheets = Vec::new();

    // List 1: every contact of the 12 months, in the contacts file's order (the order numbers a
    // child's contacts of one day).
    let mut rows = Vec::new();
    for c in contacts {
        let d: NaiveDate = c[2].parse().expect("written as a date");
        if !in_window(d) {
            continue;
        }
        let mut row = child_cells(&c[1], children.get(&c[1]).and_then(cin), d);
        row.push(Value::Date(d));
        row.push(Value::Text(dropdown_source(&c[3])));
        rows.push(row);
    }
    sheets.push(Sheet {
        name: "List 1",
        title: "List 1: Contacts",
        columns: &["Date of Contact", "Contact Source"],
        rows,
    });
    // List 2: an early help assessment for each child whose case closed after assessment with a
    // referral to early help (RC9), started within a fortnight of the closure.
    let mut early_help = Vec::new();
    for (id, child) in children {
        for e in &child.episodes {
            let Some((closed, "RC9")) = e.closure else {
                continue;
            };
            let h = id.bytes().fold(u64::from(closed.ordinal()), |h, b| {
                h.wrapping_mul(31).wrapping_add(u64::from(b))
            });
            let start = closed + chrono::Days::new(h % 14);
            if !in_window(start) {
                continue;
            }
            let done = start + chrono::Days::new(20 + h % 40);
            let mut row = child_cells(id, cin(child), start);
            row.push(Value::Date(start));
            row.push(if done <= until {
                Value::Date(done)
            } else {
                Value::Empty
            });
            row.push(Value::Text(
                ["Early Help Team", "School", "Health visiting", "Family hub"][(h % 4) as usize]
                    .to_owned(),
            ));
            early_help.push(row);
        }
    }
    sheets.push(Sheet {
        name: "List 2",
        title: "List 2: Early help assessments",
        columns: &[
            "Assessment start date",
            "Assessment completion date",
            "Organisation completing assessment",
        ],
        rows: early_help,
    });

    let (mut referrals, mut assessments, mut s47s, mut plans) = (vec![], vec![], vec![], vec![]);
    let mut in_need = Vec::new();
    for (id, child) in children {
        for e in &child.episodes {
            // List 6: every episode open at some time in the 12 months.
            if e.referral <= until && e.closure.is_none_or(|(d, _)| d >= from) {
                let mut row = child_cells(id, cin(child), e.referral);
                row.push(Value::Text("b) No".into()));
                row.push(Value::Date(e.referral));
                row.push(Value::Text("N1 - Abuse or neglect".into()));
                row.push(e.closure.map_or(Value::Empty, |(d, _)| Value::Date(d)));
                row.push(e.closure.map_or(Value::Empty, |(_, r)| {
                    let label = csc_core::codes::CLOSURE_REASONS
                        .iter()
                        .find(|(c, _)| *c == r)
                        .map_or("", |(_, l)| l);
                    Value::Text(format!("{r} - {label}"))
                }));
                in_need.push(row);
            }
            if in_window(e.referral) {
                let mut row = child_cells(id, cin(child), e.referral);
                row.push(Value::Date(e.referral));
                row.push(Value::Text(dropdown_source(e.source)));
                row.push(yes_no(e.nfa));
                row.push(Value::Text("Front door".into()));
                referrals.push(row);
            }
            // The assessments of the referrals in List 3 (an Annex A may also hold assessments
            // of earlier referrals; the importer then infers their referral, with a warning).
            if let Some((start, auth, _)) = &e.assessment
                && in_window(e.referral)
            {
                // Not in need: the episode closed with RC8 or RC9 (as the census says).
                let nfa = auth.is_some()
                    && e.closure
                        .is_some_and(|(_, r)| csc_core::codes::closure_means_nfa(r));
                let mut row = child_cells(id, cin(child), *start);
                row.push(Value::Text("b) No".into()));
                row.push(Value::Date(*start));
                row.push(yes_no(true));
                row.push(auth.map_or(Value::Empty, Value::Date));
                row.push(if auth.is_some() {
                    yes_no(!nfa)
                } else {
                    Value::Empty
                });
                assessments.push(row);
            }
            if let Some((start, icpc)) = e.s47
                && in_window(start)
            {
                let mut row = child_cells(id, cin(child), start);
                row.push(Value::Text("b) No".into()));
                row.push(Value::Date(start));
                row.push(yes_no(icpc.is_none()));
                row.push(icpc.map_or(Value::Empty, Value::Date));
                row.push(icpc.map_or(Value::Empty, |_| yes_no(e.cp.is_some())));
                s47s.push(row);
            }
            if let Some(cp) = &e.cp
                && cp.start <= until
                && cp.end.is_none_or(|end| end >= from)
            {
                let mut row = child_cells(id, cin(child), cp.start);
                row.push(Value::Text("b) No".into()));
                row.push(Value::Date(cp.start));
                row.push(Value::Text(dropdown_category(cp.initial)));
                row.push(Value::Text(dropdown_category(cp.latest)));
                row.push(
                    cp.reviews
                        .iter()
                        .filter(|d| **d <= until)
                        .max()
                        .map_or(Value::Empty, |d| Value::Date(*d)),
                );
                row.push(cp.end.map_or(Value::Empty, Value::Date));
                row.push(Value::Number(f64::from(cp.previous)));
                plans.push(row);
            }
        }
    }
    sheets.push(Sheet {
        name: "List 3",
        title: "List 3: Referrals",
        columns: &[
            "Date of referral",
            "Referral Source",
            "Referral NFA?",
            "Allocated Team",
        ],
        rows: referrals,
    });
    sheets.push(Sheet {
        name: "List 4",
        title: "List 4: Assessments",
        columns: &[
            "Does the Child have a Disability",
            "Continuous Assessment Start Date",
            "Child Seen During Continuous Assessment",
            "Continuous Assessment Date of Authorisation",
            "Was the child assessed as requiring LA children's social care support?",
        ],
        rows: assessments,
    });
    sheets.push(Sheet {
        name: "List 5",
        title: "List 5: Section 47 enquiries and ICPCs",
        columns: &[
            "Does the Child have a Disability",
            "Strategy discussion initiating Section 47 Enquiry Start Date",
            "Was an Initial Child Protection Conference deemed unnecessary?",
            "Date of Initial Child Protection Conference",
            "Did the Initial Child Protection Conference Result in a Child Protection Plan",
        ],
        rows: s47s,
    });
    sheets.push(Sheet {
        name: "List 6",
        title: "List 6: Children in need",
        columns: &[
            "Does the Child have a Disability",
            "CIN Start Date",
            "Primary Need Code",
            "CIN Closure Date",
            "Reason for Closure",
        ],
        rows: in_need,
    });
    sheets.push(Sheet {
        name: "List 7",
        title: "List 7: Child protection",
        columns: &[
            "Does the Child have a Disability",
            "Child Protection Plan Start Date",
            "Initial Category of Abuse",
            "Latest Category of Abuse",
            "Date of latest review conference",
            "Child Protection Plan End Date",
            "Number of Previous Child Protection Plans",
        ],
        rows: plans,
    });

    // List 8: every child looked after at some time in the 12 months, as their 903 episodes say.
    let mut looked_after = Vec::new();
    for c in care {
        if c.start > until || c.end.is_some_and(|e| e < from) {
            continue;
        }
        let held: Vec<_> = c.episodes.iter().filter(|e| e.decom <= until).collect();
        let Some(last) = held.last() else { continue };
        let status_from = held
            .iter()
            .rev()
            .take_while(|e| e.ls == last.ls)
            .last()
            .map_or(last.decom, |e| e.decom);
        let ceased = c.end.filter(|e| *e <= until);
        let mut row = child_cells(&c.id, Some((c.sex, Some(c.dob))), until);
        let label = csc_core::codes::LEGAL_STATUSES
            .iter()
            .find(|(code, _)| *code == last.ls)
            .map_or("", |(_, l)| l);
        row.push(Value::Date(c.start));
        row.push(Value::Date(status_from));
        row.push(Value::Text(format!("{}: {label}", last.ls)));
        row.push(ceased.map_or(Value::Empty, Value::Date));
        row.push(match (ceased, last.rec) {
            (Some(_), Some(rec)) => Value::Text(rec.to_owned()),
            _ => Value::Empty,
        });
        looked_after.push(row);
    }
    sheets.push(Sheet {
        name: "List 8",
        title: "List 8: Children looked after",
        columns: &[
            "Date Started to be Looked After",
            "Start date of current legal status",
            "Child's Legal Status",
            "Date Ceased to be Looked After",
            "Reason Ceased to be Looked After",
        ],
        rows: looked_after,
    });

    let mut book = Workbook::new();
    // Dated as its records, not by the clock: the same arguments write the same bytes.
    let made =
        ExcelDateTime::from_ymd(until.year() as u16, until.month() as u8, until.day() as u8)?;
    book.set_properties(&DocProperties::new().set_creation_datetime(&made));
    let date = Format::new().set_num_format("dd/mm/yyyy");
    let bold = Format::new().set_bold();
    let mut n = 0;
    for s in &sheets {
        let ws = book.add_worksheet();
        write_sheet(ws, s, &cfg.la, &date, &bold)?;
        n += s.rows.len();
    }
    book.save(w.dir.join("annex_a.xlsx"))?;
    *w.counts.entry("Annex A rows").or_default() += n;
    Ok(())
}

fn write_sheet(
    ws: &mut Worksheet,
    s: &Sheet,
    la: &str,
    date: &Format,
    bold: &Format,
) -> Result<(), XlsxError> {
    ws.set_name(s.name)?;
    // A title block, as councils' workbooks have: the header row is the fourth.
    ws.write_string_with_format(0, 0, format!("Annex A {}", s.title), bold)?;
    ws.write_string(1, 0, format!("Local authority {la} (synthetic data)"))?;
    let header = 3;
    for (c, name) in CHILD_COLUMNS.iter().chain(s.columns).enumerate() {
        ws.write_string_with_format(header, c as u16, *name, bold)?;
    }
    for (i, row) in s.rows.iter().enumerate() {
        let r = header + 1 + i as u32;
        for (c, v) in row.iter().enumerate() {
            let c = c as u16;
            match v {
                Value::Text(t) => {
                    ws.write_string(r, c, t)?;
                }
                Value::Date(d) => {
                    let dt =
                        ExcelDateTime::from_ymd(d.year() as u16, d.month() as u8, d.day() as u8)?;
                    ws.write_date_with_format(r, c, &dt, date)?;
                }
                Value::Number(x) => {
                    ws.write_number(r, c, *x)?;
                }
                Value::Empty => {}
            }
        }
    }
    Ok(())
}
