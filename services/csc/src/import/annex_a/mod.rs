//! `csc import annex-a`: the child-level lists a council keeps for Ofsted (ILACS Annex A), from a
//! workbook or a folder of per-list CSV files (docs/formats.md, "Ofsted Annex A").
//!
//! A list is recognised by its columns, or else by its sheet or file name (councils rename
//! sheets and keep the columns); its header row may sit below a title block. Lists 1 (contacts),
//! 2 (early help assessments), 3 (referrals), 4 (assessments, with their closure reasons from
//! List 6's episodes), 5 (section 47 enquiries and ICPCs), 7 (CP plans) and 8 (care summaries
//! and reviews) feed the front door, child protection and looked-after children services; Lists
//! 9-11 are recognised and said to be skipped, with why.
//! The records share their natural keys with the CIN census's, and are sent with `keep_stored`,
//! so an Annex A import next to a census import updates, never duplicates, and never erases
//! what only the census holds.

pub mod values;

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use chrono::{Duration, NaiveDate};
use csc_proto::{frontdoor as pb, placements as lpb, protection as ppb};

use super::dates::DateTally;
use super::input::quote;
use super::local::{CsvText, read_csv_file};
use super::upload::Uploader;
use super::{CinClients, ImportSummary, Origin, Upload};
use values::{Cell, words, words_begin};

/// The Annex A lists (Ofsted's numbering, the same in every layout since 2017).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum List {
    Contacts = 1,
    EarlyHelp = 2,
    Referrals = 3,
    Assessments = 4,
    Section47 = 5,
    ChildrenInNeed = 6,
    ChildProtection = 7,
    LookedAfter = 8,
    CareLeavers = 9,
    Adoption = 10,
    Adopters = 11,
}

impl List {
    const ALL: [List; 11] = [
        List::Contacts,
        List::EarlyHelp,
        List::Referrals,
        List::Assessments,
        List::Section47,
        List::ChildrenInNeed,
        List::ChildProtection,
        List::LookedAfter,
        List::CareLeavers,
        List::Adoption,
        List::Adopters,
    ];

    pub fn number(self) -> u8 {
        self as u8
    }

    fn name(self) -> &'static str {
        match self {
            List::Contacts => "contacts",
            List::EarlyHelp => "early help assessments",
            List::Referrals => "referrals",
            List::Assessments => "assessments",
            List::Section47 => "section 47 enquiries and ICPCs",
            List::ChildrenInNeed => "children in need",
            List::ChildProtection => "child protection plans",
            List::LookedAfter => "children looked after",
            List::CareLeavers => "care leavers",
            List::Adoption => "adoption",
            List::Adopters => "adopters",
        }
    }

    /// A list named by a sheet or file name: `List 3`, `list_3`, `L3 Referrals`, or a name such
    /// as `Referrals`.
    fn from_name(name: &str) -> Option<List> {
        let w = words(name);
        let compact = w.replace(' ', "");
        for prefix in ["list", "l"] {
            if let Some(rest) = compact.strip_prefix(prefix) {
                let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
                if let Ok(n) = digits.parse::<u8>() {
                    return List::ALL.into_iter().find(|l| l.number() == n);
                }
            }
        }
        let names: &[(&str, List)] = &[
            ("contact", List::Contacts),
            ("early help", List::EarlyHelp),
            ("referral", List::Referrals),
            ("assessment", List::Assessments),
            ("section 47", List::Section47),
            ("s47", List::Section47),
            ("child protection", List::ChildProtection),
            ("children in need", List::ChildrenInNeed),
            ("looked after", List::LookedAfter),
            ("care leaver", List::CareLeavers),
            ("adopter", List::Adopters),
            ("adoption", List::Adoption),
        ];
        let w = format!(" {w}");
        names
            .iter()
            .find(|(n, _)| w.contains(&format!(" {n}")))
            .map(|(_, l)| *l)
    }
}

/// A column the importer reads: its name in messages, and the words a header must hold (each at
/// the start of a word, in any order) for one of its names across the layouts.
struct Field {
    name: &'static str,
    headers: &'static [&'static [&'static str]],
    /// Words that rule a header out (`Reason Ceased to be Looked After` is not the date ceased).
    unless: &'static [&'static str],
}

const CHILD: Field = Field {
    name: "Child Unique ID",
    headers: &[&["child", "id"], &["unique", "id"], &["childid"]],
    unless: &[],
};
const CONTACT_DATE: Field = Field {
    name: "Date of Contact",
    headers: &[&["date", "contact"]],
    unless: &[],
};
const CONTACT_SOURCE: Field = Field {
    name: "Contact Source",
    headers: &[&["contact", "source"], &["source"]],
    unless: &[],
};
const EH_START: Field = Field {
    name: "Assessment start date",
    headers: &[&["assessment", "start"], &["start", "date"]],
    unless: &[],
};
const EH_COMPLETED: Field = Field {
    name: "Assessment completion date",
    headers: &[&["completion"], &["date", "completed"]],
    unless: &[],
};
const EH_ORGANISATION: Field = Field {
    name: "Organisation completing assessment",
    headers: &[&["organisation"], &["organization"]],
    unless: &[],
};
const CIN_START: Field = Field {
    name: "CIN Start Date",
    headers: &[&["cin", "start"]],
    unless: &[],
};
const CIN_CLOSED: Field = Field {
    name: "CIN Closure Date",
    headers: &[&["cin", "closure"], &["closure", "date"]],
    unless: &[],
};
const CIN_REASON: Field = Field {
    name: "Reason for Closure",
    headers: &[&["reason", "closure"]],
    unless: &[],
};
const CLA_START: Field = Field {
    name: "Date Started to be Looked After",
    headers: &[&["started", "looked", "after"], &["care", "start"]],
    unless: &[],
};
const LEGAL_STATUS: Field = Field {
    name: "Child's Legal Status",
    headers: &[&["legal", "status"]],
    unless: &["date"],
};
const LEGAL_STATUS_START: Field = Field {
    name: "Start date of current legal status",
    headers: &[&["date", "legal", "status"]],
    unless: &[],
};
const LATEST_REVIEW: Field = Field {
    name: "Date of Latest Statutory Review",
    headers: &[&["latest", "review"], &["last", "review"]],
    unless: &[],
};
const LAST_VISIT: Field = Field {
    name: "Date of Last Social Work Visit",
    headers: &[&["last", "social", "work", "visit"], &["last", "visit"]],
    unless: &["iro"],
};
const CEASED: Field = Field {
    name: "Date Ceased to be Looked After",
    headers: &[&["ceased", "looked", "after"]],
    unless: &["reason"],
};
const REASON_CEASED: Field = Field {
    name: "Reason Ceased to be Looked After",
    headers: &[&["reason", "ceased"]],
    unless: &[],
};
const REFERRAL_DATE: Field = Field {
    name: "Date of referral",
    headers: &[&["date", "referral"]],
    unless: &[],
};
const REFERRAL_SOURCE: Field = Field {
    name: "Referral Source",
    headers: &[&["referral", "source"], &["source"]],
    unless: &[],
};
const REFERRAL_NFA: Field = Field {
    name: "Referral NFA?",
    headers: &[&["nfa"], &["no", "further", "action"]],
    unless: &[],
};
const ASSESSMENT_START: Field = Field {
    name: "Assessment start date",
    headers: &[&["assessment", "start"], &["start", "date"]],
    unless: &[],
};
const ASSESSMENT_AUTHORISED: Field = Field {
    name: "Assessment date of authorisation",
    headers: &[&["authoris"], &["authoriz"], &["assessment", "completed"]],
    unless: &[],
};
const ASSESSMENT_NEED: Field = Field {
    name: "Was the child assessed as requiring LA children's social care support?",
    headers: &[&["assessed", "requiring"], &["requiring", "support"]],
    unless: &[],
};
const S47_START: Field = Field {
    name: "Section 47 Enquiry Start Date",
    headers: &[
        &["section", "47", "start"],
        &["s47", "start"],
        &["enquiry", "start"],
    ],
    unless: &[],
};
const ICPC_UNNECESSARY: Field = Field {
    name: "Was an Initial Child Protection Conference deemed unnecessary?",
    headers: &[&["unnecessary"], &["not", "required"]],
    unless: &[],
};
const ICPC_DATE: Field = Field {
    name: "Date of Initial Child Protection Conference",
    headers: &[
        &["date", "initial", "child", "protection", "conference"],
        &["date", "icpc"],
        &["icpc", "date"],
    ],
    unless: &[],
};
const CP_START: Field = Field {
    name: "Child Protection Plan Start Date",
    headers: &[&["plan", "start"]],
    unless: &[],
};
const CP_END: Field = Field {
    name: "Child Protection Plan End Date",
    headers: &[&["plan", "end"]],
    unless: &[],
};
const CP_INITIAL: Field = Field {
    name: "Initial Category of Abuse",
    headers: &[&["initial", "category"]],
    unless: &[],
};
const CP_LATEST: Field = Field {
    name: "Latest Category of Abuse",
    headers: &[&["latest", "category"]],
    unless: &[],
};
const CP_REVIEW: Field = Field {
    name: "Date of latest review conference",
    headers: &[&["review", "conference"], &["latest", "review"]],
    unless: &[],
};
const CP_PREVIOUS: Field = Field {
    name: "Number of Previous Child Protection Plans",
    headers: &[&["number", "previous"]],
    unless: &[],
};

/// The columns that only a list has, to know it by (checked in this order: the later lists
/// carry dates that earlier signatures would also match).
const SIGNATURES: &[(List, &[&[&str]])] = &[
    (List::Adopters, &[&["adopter"]]),
    (
        List::Adoption,
        &[&["placed", "for", "adoption"], &["adoption", "order"]],
    ),
    (
        List::CareLeavers,
        &[&["pathway", "plan"], &["care", "leaver"], &["in", "touch"]],
    ),
    (
        List::LookedAfter,
        &[
            &["started", "looked", "after"],
            &["ceased", "looked", "after"],
        ],
    ),
    (List::ChildProtection, &[&["protection", "plan", "start"]]),
    (
        List::ChildrenInNeed,
        &[&["cin", "start"], &["primary", "need"], &["cin", "closure"]],
    ),
    (List::Section47, &[&["section", "47"], &["s47"]]),
    (
        List::EarlyHelp,
        &[&["organisation", "completing"], &["early", "help"]],
    ),
    (
        List::Assessments,
        &[&["authoris"], &["authoriz"], &["continuous", "assessment"]],
    ),
    (List::Referrals, &[&["date", "referral"]]),
    (List::Contacts, &[&["date", "contact"]]),
];

/// A header holds every word of one alternative, each at the start of one of its words.
fn header_is(header: &str, alternatives: &[&[&str]]) -> bool {
    alternatives.iter().any(|alt| words_begin(header, alt))
}

/// Rows searched for the header row, below a title block.
const HEADER_SEARCH_ROWS: usize = 30;

/// A sheet or CSV file to read: its name, where its rows come from, and its first rows (where
/// the header is looked for). Rows are numbered as in the sheet (1-based) or the file's lines.
pub struct Table {
    /// The workbook or CSV file it was read from, as given.
    pub file: String,
    /// The sheet's name, or the CSV file's name.
    pub name: String,
    /// The workbook's sheet (`List 3!G14` in messages), or a CSV file (`file line 14 column …`).
    pub is_sheet: bool,
    /// First column's index in the sheet (0 = A) of the cells of each row, for cell references.
    pub first_col: u32,
    /// The rows from the first that holds anything to [`HEADER_SEARCH_ROWS`] rows below it;
    /// empty when no cell holds anything.
    head: Vec<(u32, Vec<Cell>)>,
    source: Source,
}

/// Where a table's rows come from when it is read.
enum Source {
    /// Read whole: a sheet of an `.xls`, `.xlsb` or `.ods` workbook (calamine reads those no
    /// other way; they are the older, smaller formats).
    Held(Vec<(u32, Vec<Cell>)>),
    /// A CSV list's text, parsed again at each pass (the records are never all held).
    Csv(CsvText),
    /// A sheet of workbook number `.0` of [`Books`] (an `.xlsx` or `.xlsm`), streamed cell by
    /// cell from the zip: only the workbook's shared strings and one row are held.
    Sheet(usize),
}

impl Table {
    /// The table in notes and refusals: `annex_a.xlsx sheet List 3`, or the CSV file.
    pub fn label(&self) -> String {
        if self.is_sheet {
            format!("{} sheet {}", self.file, self.name)
        } else {
            self.file.clone()
        }
    }
}

/// The `.xlsx` workbooks whose sheets are streamed, each open once (its shared strings read).
#[derive(Default)]
pub struct Books(Vec<calamine::Xlsx<std::io::BufReader<std::fs::File>>>);

/// What a pass over a table's rows does with each: `false` stops the pass.
type EachRow<'a> = dyn FnMut(u32, &[Cell]) -> bool + 'a;

impl Books {
    /// Calls `each` with `t`'s rows in order, from its first (a row holding nothing may be left
    /// out), until it returns `false`. With `formulas`, each formula cell of a sheet whose value
    /// was never saved is added to it (the cell reads as empty). `Err` is why the table cannot
    /// be read on.
    fn rows(
        &mut self,
        t: &Table,
        formulas: Option<&mut Vec<(String, String)>>,
        each: &mut EachRow<'_>,
    ) -> Result<(), String> {
        match &t.source {
            Source::Held(rows) => {
                for (r, cells) in rows {
                    if !each(*r, cells) {
                        break;
                    }
                }
                Ok(())
            }
            Source::Csv(text) => csv_rows(text, each),
            Source::Sheet(book) => sheet_rows(&mut self.0[*book], t, formulas, each),
        }
    }
}

/// A CSV list's rows as text cells, numbered as the file's lines.
fn csv_rows(text: &CsvText, each: &mut EachRow<'_>) -> Result<(), String> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(text.delimiter)
        .from_reader(text.text.as_bytes());
    let mut rec = csv::StringRecord::new();
    let mut cells = Vec::new();
    loop {
        match reader.read_record(&mut rec) {
            Ok(true) => {}
            Ok(false) => return Ok(()),
            Err(e) => return Err(format!("unreadable: {e}")),
        }
        let line = rec.position().map_or(0, |p| p.line()) as u32;
        cells.clear();
        cells.extend(rec.iter().map(|v| {
            let v = v.trim_start_matches('\u{feff}').trim();
            if v.is_empty() {
                Cell::Empty
            } else {
                Cell::Text(v.to_owned())
            }
        }));
        if !each(line, &cells) {
            return Ok(());
        }
    }
}

/// A workbook cell as the lists read it.
fn cell_of(d: calamine::Data) -> Cell {
    use calamine::Data;
    match d {
        Data::Empty => Cell::Empty,
        Data::String(s) => Cell::Text(s.trim().to_owned()),
        Data::Int(n) => Cell::Number(n as f64),
        Data::Float(f) => Cell::Number(f),
        Data::Bool(b) => Cell::Bool(b),
        Data::DateTime(dt) => match dt.as_datetime() {
            Some(t) if dt.is_datetime() => Cell::Date(t.date(), t.time() != chrono::NaiveTime::MIN),
            _ => Cell::Number(dt.as_f64()),
        },
        Data::DateTimeIso(s) | Data::DurationIso(s) => Cell::Text(s),
        Data::Error(e) => Cell::Error(format!("#{e:?}")),
    }
}

/// What is said of a formula cell whose value was never saved.
fn unsaved_formula(formula: &str) -> String {
    format!(
        "the formula ={formula} has no saved value (the workbook was saved without calculating it); read as empty"
    )
}

/// Streams a sheet of an `.xlsx` row by row (cells at their column, from A).
fn sheet_rows(
    book: &mut calamine::Xlsx<std::io::BufReader<std::fs::File>>,
    t: &Table,
    mut formulas: Option<&mut Vec<(String, String)>>,
    each: &mut EachRow<'_>,
) -> Result<(), String> {
    let mut reader = book
        .worksheet_cells_reader(&t.name)
        .map_err(|e| format!("unreadable: {e}"))?;
    let mut row: Option<u32> = None;
    let mut cells: Vec<Cell> = Vec::new();
    loop {
        let next = reader.next_cell_with_formula().map_err(|e| match row {
            Some(r) => format!("unreadable at row {} ({e})", r + 1),
            None => format!("unreadable: {e}"),
        })?;
        let Some(c) = next else { break };
        let (r, col) = c.pos;
        if row != Some(r) {
            if let Some(prev) = row
                && !each(prev + 1, &cells)
            {
                return Ok(());
            }
            cells.clear();
            row = Some(r);
        }
        let cell = match c.value {
            calamine::DataRef::SharedString(s) => Cell::Text(s.trim().to_owned()),
            v => cell_of(v.into()),
        };
        if cell.is_empty()
            && let (Some(formulas), Some(f)) = (formulas.as_deref_mut(), &c.formula)
        {
            formulas.push((
                format!("{} {}!{}{}", t.file, t.name, column_letters(col), r + 1),
                unsaved_formula(f),
            ));
        }
        let col = col as usize;
        if cells.len() <= col {
            cells.resize(col + 1, Cell::Empty);
        }
        cells[col] = cell;
    }
    if let Some(r) = row {
        each(r + 1, &cells);
    }
    Ok(())
}

/// A table's first rows: from its first row holding anything, [`HEADER_SEARCH_ROWS`] rows on.
fn head_of(books: &mut Books, t: &Table) -> Result<Vec<(u32, Vec<Cell>)>, String> {
    let mut head = Vec::new();
    let mut first: Option<u32> = None;
    books.rows(t, None, &mut |r, cells| {
        if first.is_none() && !cells.iter().all(Cell::is_empty) {
            first = Some(r);
        }
        match first {
            Some(f) if r >= f + HEADER_SEARCH_ROWS as u32 => false,
            Some(_) => {
                head.push((r, cells.to_vec()));
                true
            }
            None => true,
        }
    })?;
    Ok(head)
}

/// A table with its list and header found.
struct Found<'a> {
    table: &'a Table,
    list: List,
    /// The header's row number: the rows below it are the list's.
    header_row: u32,
    headers: Vec<String>,
    /// Columns already looked up, by the field's address: a list's rows each ask for the same
    /// dozen fields, and matching the header words once per list, not per row, is a tenth of
    /// a large workbook's reading.
    columns: std::cell::RefCell<Vec<(*const Field, Option<usize>)>>,
}

impl Found<'_> {
    /// Whether row `row` is one of the list's: below the header, and holding anything.
    fn is_data(&self, row: u32, cells: &[Cell]) -> bool {
        row > self.header_row && !cells.iter().all(Cell::is_empty)
    }

    fn column(&self, f: &Field) -> Option<usize> {
        let key = std::ptr::from_ref(f);
        if let Some((_, col)) = self.columns.borrow().iter().find(|(k, _)| *k == key) {
            return *col;
        }
        let col = self.headers.iter().position(|h| {
            header_is(h, f.headers) && (f.unless.is_empty() || !header_is(h, &[f.unless]))
        });
        self.columns.borrow_mut().push((key, col));
        col
    }

    /// `List 3!G14 (Date of referral)`, or `file.csv line 14 column Date of referral`.
    fn at(&self, row: u32, col: usize) -> String {
        let header = self.headers.get(col).map(String::as_str).unwrap_or("");
        if self.table.is_sheet {
            format!(
                "{}!{}{row} ({header})",
                self.table.name,
                column_letters(self.table.first_col + col as u32)
            )
        } else {
            format!("{} line {row} column {header}", self.table.name)
        }
    }
}

/// 0 → A, 25 → Z, 26 → AA.
fn column_letters(mut n: u32) -> String {
    let mut out = Vec::new();
    loop {
        out.push(b'A' + (n % 26) as u8);
        if n < 26 {
            break;
        }
        n = n / 26 - 1;
    }
    out.reverse();
    String::from_utf8(out).expect("ASCII")
}

/// Finds a table's header row (the first of its first rows with a child id column and another
/// column) and its list (by its columns, else by its name).
fn recognise(table: &Table) -> Result<Found<'_>, String> {
    let by_name = List::from_name(&table.name);
    for (row, cells) in &table.head {
        let headers: Vec<String> = cells.iter().map(Cell::text).collect();
        let named = headers.iter().filter(|h| !h.is_empty()).count();
        if named < 2 || !headers.iter().any(|h| header_is(h, CHILD.headers)) {
            continue;
        }
        let by_columns = SIGNATURES
            .iter()
            .find(|(_, sig)| headers.iter().any(|h| header_is(h, sig)))
            .map(|(l, _)| *l);
        let Some(list) = by_columns.or(by_name) else {
            return Err(format!(
                "a header row at row {row} names a child id, but no column says which Annex A list this is, nor does its name"
            ));
        };
        let mut headers = headers;
        while headers.last().is_some_and(String::is_empty) {
            headers.pop();
        }
        return Ok(Found {
            table,
            list,
            header_row: *row,
            headers,
            columns: Default::default(),
        });
    }
    Err(match by_name {
        Some(l) => format!(
            "named like List {} ({}) but no header row with a Child Unique ID column in its first {HEADER_SEARCH_ROWS} rows",
            l.number(),
            l.name()
        ),
        None => "no Annex A list (no header row with a Child Unique ID column)".to_owned(),
    })
}

/// One record read from an Annex A list, in the list's order.
pub enum Rec {
    Contact(pb::Contact, Origin),
    EarlyHelp(pb::EarlyHelpAssessment, Origin),
    Referral(pb::Referral, Origin),
    Assessment(pb::Assessment, Origin),
    S47(pb::Section47Enquiry, Origin),
    Icpc(pb::Icpc, Origin),
    CpPlan(ppb::CpPlan, Origin),
    CareSummary(lpb::CareSummary, Origin),
    Review(lpb::Review, Origin),
}

/// Every record an Annex A workbook (or folder) holds, read and checked, collected (the import
/// sends them as they are read instead, [`read_lists`]).
#[derive(Default)]
pub struct Parsed {
    pub contacts: Vec<(pb::Contact, Origin)>,
    pub referrals: Vec<(pb::Referral, Origin)>,
    pub assessments: Vec<(pb::Assessment, Origin)>,
    pub s47s: Vec<(pb::Section47Enquiry, Origin)>,
    pub icpcs: Vec<(pb::Icpc, Origin)>,
    pub cp_plans: Vec<(ppb::CpPlan, Origin)>,
    pub early_help: Vec<(pb::EarlyHelpAssessment, Origin)>,
    pub care_summaries: Vec<(lpb::CareSummary, Origin)>,
    pub reviews: Vec<(lpb::Review, Origin)>,
    pub covered: Covered,
}

impl Parsed {
    fn add(&mut self, r: Rec) {
        match r {
            Rec::Contact(p, o) => self.contacts.push((p, o)),
            Rec::EarlyHelp(p, o) => self.early_help.push((p, o)),
            Rec::Referral(p, o) => self.referrals.push((p, o)),
            Rec::Assessment(p, o) => self.assessments.push((p, o)),
            Rec::S47(p, o) => self.s47s.push((p, o)),
            Rec::Icpc(p, o) => self.icpcs.push((p, o)),
            Rec::CpPlan(p, o) => self.cp_plans.push((p, o)),
            Rec::CareSummary(p, o) => self.care_summaries.push((p, o)),
            Rec::Review(p, o) => self.reviews.push((p, o)),
        }
    }
}

/// The days an Annex A's lists cover.
#[derive(Default, Clone, Copy)]
pub struct Covered {
    /// The first day: their earliest contact, early help assessment or referral (the lists of
    /// events in the inspection's months; an assessment, enquiry or plan in them may have
    /// started before, and does not say the lists reach back to its start).
    pub from: Option<NaiveDate>,
    /// The latest date the lists hold.
    pub to: Option<NaiveDate>,
}

/// What the lists read so far tell the lists read after them, and where each record goes.
struct Reading<'e> {
    /// List 6's episodes: (child, CIN start = referral date) → reason for closure.
    episodes: HashMap<(String, String), String>,
    /// Each child's List 3 referral dates and List 6 CIN start dates, for [`referral_before`]
    /// (one look-up per assessment or enquiry, not a pass over every list).
    referral_dates: HashMap<String, Vec<NaiveDate>>,
    /// Each child's List 3 referral dates alone: which contacts became referrals.
    referred: HashMap<String, Vec<NaiveDate>>,
    contact_ids: ContactIds,
    covered: Covered,
    /// Assessments of the list being read with no List 3 referral on or before their start:
    /// how many, and the first.
    unlinked: (usize, Option<String>),
    /// Takes each record; `false` when no more are wanted (the sending stopped on an error).
    emit: &'e mut dyn FnMut(Rec) -> bool,
    /// Whether `emit` still takes records: once it does not, the reading stops.
    open: bool,
}

impl Reading<'_> {
    /// Gives `r` to `emit`, unless it has said it wants no more.
    fn give(&mut self, r: Rec) {
        if self.open {
            self.open = (self.emit)(r);
        }
    }
}

/// A contact became a referral when the same child was referred (List 3) on its day or within
/// this many days after (docs/formats.md: Annex A does not link the two).
pub const CONTACT_TO_REFERRAL_DAYS: i64 = 7;

/// Whether a contact on `contact` became a referral: one of the child's `referrals` is on its
/// day or up to [`CONTACT_TO_REFERRAL_DAYS`] after it.
pub fn became_referral(contact: NaiveDate, referrals: impl IntoIterator<Item = NaiveDate>) -> bool {
    let last = contact + Duration::days(CONTACT_TO_REFERRAL_DAYS);
    referrals.into_iter().any(|r| r >= contact && r <= last)
}

/// The ids contacts from Annex A are stored under (Annex A has none), given in list order: the
/// child and the day, and for a child's second and later contacts that day, their number
/// (`C123/20240501/2`). A re-import of the same list gives the same ids.
#[derive(Default)]
pub struct ContactIds(HashMap<(String, NaiveDate), usize>);

impl ContactIds {
    pub fn next(&mut self, child: &str, date: NaiveDate) -> String {
        let n = self.0.entry((child.to_owned(), date)).or_default();
        *n += 1;
        let day = date.format("%Y%m%d");
        if *n == 1 {
            format!("{child}/{day}")
        } else {
            format!("{child}/{day}/{n}")
        }
    }
}

/// One row being read: the values taken so far, its problems and warnings.
struct RowRead<'a, 'b> {
    found: &'a Found<'b>,
    row: u32,
    cells: &'a [Cell],
    problems: Vec<(String, String)>,
    warnings: Vec<(String, String)>,
    fields: Vec<(String, String)>,
    /// Text dates read with a two-digit year or a time, said once for the workbook.
    dates: &'a mut DateTally,
}

impl RowRead<'_, '_> {
    fn cell(&self, col: Option<usize>) -> &Cell {
        static EMPTY: Cell = Cell::Empty;
        col.and_then(|c| self.cells.get(c)).unwrap_or(&EMPTY)
    }

    fn at(&self, col: Option<usize>, f: &Field) -> String {
        match col {
            Some(c) => self.found.at(self.row, c),
            None => format!("{} row {} ({})", self.found.table.name, self.row, f.name),
        }
    }

    /// Remembers where an API field was read from, to name it if the service refuses it.
    fn from(&mut self, api_field: &str, col: Option<usize>, f: &Field) {
        let at = self.at(col, f);
        self.fields.push((api_field.to_owned(), at));
    }

    fn fail(&mut self, col: Option<usize>, f: &Field, why: impl Into<String>) {
        let at = self.at(col, f);
        self.problems.push((at, why.into()));
    }

    /// The column of `f`, remembered as where API field `api` comes from.
    fn field(&mut self, api: &str, f: &Field) -> Option<usize> {
        let col = self.found.column(f);
        self.from(api, col, f);
        col
    }

    /// The date in column `f`, the source of API field `api`.
    fn date_of(&mut self, api: &str, f: &Field, required: bool) -> Option<NaiveDate> {
        let col = self.field(api, f);
        self.date(col, f, required)
    }

    fn date(&mut self, col: Option<usize>, f: &Field, required: bool) -> Option<NaiveDate> {
        let cell = self.cell(col).clone();
        match values::date(&cell) {
            Ok(Some(d)) => {
                if let Some(read) = &d.read {
                    let at = self.at(col, f);
                    self.dates.note(read, &at, &cell.text());
                }
                if d.time_of_day {
                    let at = self.at(col, f);
                    self.warnings.push((
                        at,
                        format!(
                            "{} has a time of day on a date-only field: the date {} is kept, the time is not",
                            quote(&cell.text()),
                            d.date
                        ),
                    ));
                }
                Some(d.date)
            }
            Ok(None) => {
                if required {
                    self.fail(col, f, "required");
                }
                None
            }
            Err(why) => {
                self.fail(col, f, why);
                None
            }
        }
    }

    fn yes_no(&mut self, col: Option<usize>, f: &Field) -> Option<bool> {
        match values::yes_no(self.cell(col)) {
            Ok(v) => v,
            Err(why) => {
                self.fail(col, f, why);
                None
            }
        }
    }
}

/// Reads every recognised list of `tables` into records, collected.
pub fn parse(books: &mut Books, tables: &[Table], la: &str, report: &mut ImportSummary) -> Parsed {
    let mut out = Parsed::default();
    out.covered = read_lists(books, tables, la, report, &mut |r| {
        out.add(r);
        true
    });
    out
}

/// Reads every recognised list of `tables`, giving each record to `emit` as its row is read,
/// reporting each unreadable row with its cell and each table refused or skipped; the days the
/// lists cover. The reading stops at the first record `emit` answers `false` to. Lists 3
/// (referrals) and 6 (CIN episodes) are read first, since contacts, assessments and enquiries
/// are linked to them: what is kept of them is each child's dates and each episode's reason for
/// closure, never their rows.
pub fn read_lists(
    books: &mut Books,
    tables: &[Table],
    la: &str,
    report: &mut ImportSummary,
    emit: &mut dyn FnMut(Rec) -> bool,
) -> Covered {
    let mut by_list: BTreeMap<List, Vec<Found<'_>>> = BTreeMap::new();
    for t in tables {
        if t.head.is_empty() {
            report.notes.push(format!("{}: empty; skipped", t.label()));
            continue;
        }
        match recognise(t) {
            Ok(f) => by_list.entry(f.list).or_default().push(f),
            Err(why) => {
                if List::from_name(&t.name).is_some() {
                    report.refuse_file(t.label(), why);
                } else {
                    report.notes.push(format!("{}: {why}; skipped", t.label()));
                }
            }
        }
    }
    let mut out = Reading {
        episodes: HashMap::new(),
        referral_dates: HashMap::new(),
        referred: HashMap::new(),
        contact_ids: ContactIds::default(),
        covered: Covered::default(),
        unlinked: (0, None),
        emit,
        open: true,
    };
    // The lists left after these (9-11) are noted, not imported.
    for list in [
        List::Referrals,
        List::ChildrenInNeed,
        List::Contacts,
        List::EarlyHelp,
        List::Assessments,
        List::Section47,
        List::ChildProtection,
        List::LookedAfter,
    ] {
        for f in by_list.remove(&list).unwrap_or_default() {
            if out.open {
                read_list(books, &f, la, &mut out, report);
            }
        }
    }
    if !out.open {
        return out.covered;
    }
    for (list, found) in by_list {
        for f in found {
            let mut formulas = Vec::new();
            let mut rows = 0usize;
            let read = books.rows(f.table, Some(&mut formulas), &mut |r, cells| {
                rows += usize::from(f.is_data(r, cells));
                true
            });
            warn_formulas(report, formulas);
            if let Err(why) = read {
                report.refuse_file(f.table.label(), why);
                continue;
            }
            report.notes.push(format!(
                "{}: Annex A List {} ({}), {rows} row(s): no measure uses this list; not imported",
                f.table.label(),
                list.number(),
                list.name(),
            ));
        }
    }
    out.covered
}

/// Formula cells with no saved value, found in a pass over a sheet: (cell, what is said).
fn warn_formulas(report: &mut ImportSummary, formulas: Vec<(String, String)>) {
    for (at, why) in formulas {
        report.warn("file", "-", at, why);
    }
}

/// The fields of each list the importer needs: a table without one is refused whole.
fn required(list: List) -> &'static [&'static Field] {
    match list {
        List::Contacts => &[&CHILD, &CONTACT_DATE, &CONTACT_SOURCE],
        List::EarlyHelp => &[&CHILD, &EH_START],
        List::ChildrenInNeed => &[&CHILD, &CIN_START],
        List::LookedAfter => &[&CHILD, &CLA_START],
        List::Referrals => &[&CHILD, &REFERRAL_DATE, &REFERRAL_SOURCE, &REFERRAL_NFA],
        List::Assessments => &[&CHILD, &ASSESSMENT_START, &ASSESSMENT_AUTHORISED],
        List::Section47 => &[&CHILD, &S47_START, &ICPC_DATE],
        List::ChildProtection => &[&CHILD, &CP_START, &CP_END, &CP_INITIAL],
        _ => &[&CHILD],
    }
}

/// Columns read when present, listed as "not in file" when not.
fn optional(list: List) -> &'static [&'static Field] {
    match list {
        List::EarlyHelp => &[&EH_COMPLETED, &EH_ORGANISATION],
        List::ChildrenInNeed => &[&CIN_CLOSED, &CIN_REASON],
        List::LookedAfter => &[
            &LEGAL_STATUS,
            &LEGAL_STATUS_START,
            &LATEST_REVIEW,
            &LAST_VISIT,
            &CEASED,
            &REASON_CEASED,
        ],
        List::Assessments => &[&ASSESSMENT_NEED],
        List::Section47 => &[&ICPC_UNNECESSARY],
        List::ChildProtection => &[&CP_LATEST, &CP_REVIEW, &CP_PREVIOUS],
        _ => &[],
    }
}

fn read_list(
    books: &mut Books,
    f: &Found<'_>,
    la: &str,
    out: &mut Reading<'_>,
    report: &mut ImportSummary,
) {
    let missing: Vec<&str> = required(f.list)
        .iter()
        .filter(|field| f.column(field).is_none())
        .map(|field| field.name)
        .collect();
    if !missing.is_empty() {
        report.refuse_file(
            f.table.label(),
            format!(
                "Annex A List {} ({}) without the column(s) {}: none of its rows was sent",
                f.list.number(),
                f.list.name(),
                missing.join(", ")
            ),
        );
        return;
    }
    let absent: Vec<&str> = optional(f.list)
        .iter()
        .filter(|field| f.column(field).is_none())
        .map(|field| field.name)
        .collect();
    if !absent.is_empty() {
        report.notes.push(format!(
            "{}: not in file: {}",
            f.table.label(),
            absent.join(", ")
        ));
    }
    let mut rows = 0usize;
    let mut dates = std::mem::take(&mut report.dates);
    let mut formulas = Vec::new();
    let read = books.rows(f.table, Some(&mut formulas), &mut |row, cells| {
        if !f.is_data(row, cells) {
            return true;
        }
        rows += 1;
        let mut r = RowRead {
            found: f,
            row,
            cells,
            problems: Vec::new(),
            warnings: Vec::new(),
            fields: Vec::new(),
            dates: &mut dates,
        };
        let child_col = r.field("child_id", &CHILD);
        let child_id = values::child_id(r.cell(child_col));
        if child_id.is_empty() {
            r.fail(child_col, &CHILD, "required");
        }
        let kind = match f.list {
            List::Contacts => read_contact(&mut r, la, &child_id, out),
            List::EarlyHelp => read_early_help(&mut r, la, &child_id, out),
            List::ChildrenInNeed => read_cin_episode(&mut r, &child_id, out),
            List::Referrals => read_referral(&mut r, la, &child_id, out),
            List::Assessments => read_assessment(&mut r, la, &child_id, out),
            List::Section47 => read_s47(&mut r, la, &child_id, out),
            List::ChildProtection => read_cp_plan(&mut r, la, &child_id, out),
            List::LookedAfter => read_looked_after(&mut r, la, &child_id, out),
            _ => unreachable!("only the imported lists are read"),
        };
        for (at, why) in r.warnings {
            report.warn(kind, &child_id, at, why);
        }
        if f.list == List::ChildrenInNeed {
            // List 6 makes no record of its own: a row it cannot read is not used, and said.
            for (at, why) in r.problems {
                report.warn(kind, &child_id, at, format!("{why}; the row is not used"));
            }
        } else if !r.problems.is_empty() {
            report.reject_record(kind, &child_id, r.problems);
        }
        out.open
    });
    report.dates = dates;
    warn_formulas(report, formulas);
    if let (n, Some(first)) = std::mem::take(&mut out.unlinked) {
        report.warn(
            <pb::Assessment as Upload>::KIND,
            "-",
            f.table.label(),
            format!(
                "{} assessment(s) have no List 3 referral or List 6 episode of their child starting on or before their start (first: {first}): the start date stands for the referral date, and a referral date already held from the CIN census is kept",
                n
            ),
        );
    }
    if let Err(why) = read {
        // A sheet whose zip or XML breaks part-way: what was read before the break is sent.
        let why = if rows == 0 {
            why
        } else {
            format!("{why}; the {rows} row(s) before it were read and sent")
        };
        report.refuse_file(f.table.label(), why);
        return;
    }
    report.notes.push(format!(
        "{}: Annex A List {} ({}), header on row {}, {rows} row(s) read",
        f.table.label(),
        f.list.number(),
        f.list.name(),
        f.header_row
    ));
}

/// A date the lists hold; `event` when it is an event a list holds every one of in its months
/// (a contact, an early help assessment, a referral), so that it marks where they begin.
fn span(out: &mut Reading<'_>, d: Option<NaiveDate>, event: bool) {
    if let Some(d) = d {
        let c = &mut out.covered;
        c.to = Some(c.to.map_or(d, |t| t.max(d)));
        if event {
            c.from = Some(c.from.map_or(d, |f| f.min(d)));
        }
    }
}

fn origin(r: &RowRead<'_, '_>, child_id: &str) -> Origin {
    Origin {
        child_id: child_id.to_owned(),
        location: format!("{} row {}", r.found.table.name, r.row),
        fields: r.fields.clone(),
        year: None,
        sources_are_columns: false,
    }
}

fn iso(d: Option<NaiveDate>) -> String {
    d.map(|d| d.to_string()).unwrap_or_default()
}

fn source_of(r: &mut RowRead<'_, '_>, f: &Field) -> String {
    let col = r.field("source", f);
    let text = r.cell(col).text();
    if text.is_empty() {
        r.fail(col, f, "required");
        return String::new();
    }
    match values::source(&text) {
        Some(c) => c.to_owned(),
        None => {
            r.fail(
                col,
                f,
                format!(
                    "{} is no contact or referral source (a CIN census code such as 6 or 2A, Ofsted's dropdown such as \"q) 6: Police\", or its label)",
                    quote(&text)
                ),
            );
            String::new()
        }
    }
}

fn read_contact(
    r: &mut RowRead<'_, '_>,
    la: &str,
    child_id: &str,
    out: &mut Reading<'_>,
) -> &'static str {
    let date = r.date_of("contact_date", &CONTACT_DATE, true);
    let source = source_of(r, &CONTACT_SOURCE);
    if r.problems.is_empty()
        && let Some(d) = date
    {
        span(out, date, true);
        let o = origin(r, child_id);
        let contact_id = out.contact_ids.next(child_id, d);
        let became_referral = out
            .referred
            .get(child_id)
            .is_some_and(|ds| became_referral(d, ds.iter().copied()));
        out.give(Rec::Contact(
            pb::Contact {
                la_code: la.to_owned(),
                contact_id,
                child_id: child_id.to_owned(),
                contact_date: d.to_string(),
                source,
                became_referral,
            },
            o,
        ));
    }
    <pb::Contact as Upload>::KIND
}

fn read_early_help(
    r: &mut RowRead<'_, '_>,
    la: &str,
    child_id: &str,
    out: &mut Reading<'_>,
) -> &'static str {
    let start = r.date_of("start_date", &EH_START, true);
    let completed = r.date_of("completion_date", &EH_COMPLETED, false);
    let col = r.field("organisation", &EH_ORGANISATION);
    let organisation = r.cell(col).text();
    if r.problems.is_empty()
        && let Some(start) = start
    {
        span(out, Some(start), true);
        span(out, completed, false);
        let o = origin(r, child_id);
        out.give(Rec::EarlyHelp(
            pb::EarlyHelpAssessment {
                la_code: la.to_owned(),
                child_id: child_id.to_owned(),
                start_date: start.to_string(),
                completion_date: iso(completed),
                organisation,
            },
            o,
        ));
    }
    <pb::EarlyHelpAssessment as Upload>::KIND
}

/// A List 6 row: a CIN episode (its start is the referral's date), whose reason for closure the
/// assessment of that referral carries, as the CIN census puts it (`close_episodes`).
fn read_cin_episode(
    r: &mut RowRead<'_, '_>,
    child_id: &str,
    out: &mut Reading<'_>,
) -> &'static str {
    let start = r.date_of("referral_date", &CIN_START, true);
    let closed = r.date_of("closure_date", &CIN_CLOSED, false);
    let col = r.field("closure_reason", &CIN_REASON);
    let text = r.cell(col).text();
    let reason = if text.is_empty() {
        None
    } else {
        match values::closure_reason(&text) {
            Some(c) => Some(c),
            None => {
                r.fail(
                    col,
                    &CIN_REASON,
                    format!(
                        "{} is no reason for closure (RC1-RC9, as \"RC8 - Case closed after assessment, no further action\")",
                        quote(&text)
                    ),
                );
                None
            }
        }
    };
    if r.problems.is_empty()
        && let (Some(start), Some(reason)) = (start, reason)
    {
        span(out, closed, false);
        out.episodes
            .insert((child_id.to_owned(), start.to_string()), reason.to_owned());
        out.referral_dates
            .entry(child_id.to_owned())
            .or_default()
            .push(start);
    }
    "CIN episodes (List 6)"
}

/// Gives an assessment without a closure reason that of its referral's episode in List 6 (the
/// child's episode starting on the assessment's referral date), as the CIN census does.
fn close_episode(out: &Reading<'_>, a: &mut pb::Assessment, o: &mut Origin) {
    if a.closure_reason.is_empty()
        && let Some(reason) = out
            .episodes
            .get(&(a.child_id.clone(), a.referral_date.clone()))
    {
        a.closure_reason = reason.clone();
        o.fields.push((
            "closure_reason".into(),
            "List 6 (Reason for Closure)".into(),
        ));
    }
}

fn read_referral(
    r: &mut RowRead<'_, '_>,
    la: &str,
    child_id: &str,
    out: &mut Reading<'_>,
) -> &'static str {
    let date = r.date_of("referral_date", &REFERRAL_DATE, true);
    let source = source_of(r, &REFERRAL_SOURCE);
    let col = r.field("nfa", &REFERRAL_NFA);
    let nfa = r.yes_no(col, &REFERRAL_NFA);
    if nfa.is_none() && r.cell(col).is_empty() {
        r.fail(col, &REFERRAL_NFA, "required");
    }
    if r.problems.is_empty() {
        span(out, date, true);
        if let Some(d) = date {
            for dates in [&mut out.referral_dates, &mut out.referred] {
                dates.entry(child_id.to_owned()).or_default().push(d);
            }
        }
        let o = origin(r, child_id);
        out.give(Rec::Referral(
            pb::Referral {
                la_code: la.to_owned(),
                child_id: child_id.to_owned(),
                referral_date: iso(date),
                source,
                nfa: nfa.unwrap_or(false),
            },
            o,
        ));
    }
    <pb::Referral as Upload>::KIND
}

/// The latest referral of `child` on or before `d`: a List 3 referral, or the start of a List 6
/// CIN episode (its CIN start date is its referral's date; List 6 keeps cases open since before
/// List 3's months).
fn referral_before(out: &Reading<'_>, child: &str, d: NaiveDate) -> Option<String> {
    out.referral_dates
        .get(child)?
        .iter()
        .filter(|r| **r <= d)
        .max()
        .map(NaiveDate::to_string)
}

fn read_assessment(
    r: &mut RowRead<'_, '_>,
    la: &str,
    child_id: &str,
    out: &mut Reading<'_>,
) -> &'static str {
    let start = r.date_of("start_date", &ASSESSMENT_START, true);
    let authorised = r.date_of("authorisation_date", &ASSESSMENT_AUTHORISED, false);
    let col = r.field("outcome", &ASSESSMENT_NEED);
    let outcome = match r.yes_no(col, &ASSESSMENT_NEED) {
        Some(true) => pb::AssessmentOutcome::FurtherAction,
        Some(false) => pb::AssessmentOutcome::Nfa,
        None => pb::AssessmentOutcome::Unspecified,
    };
    if r.problems.is_empty()
        && let Some(start) = start
    {
        span(out, Some(start), false);
        span(out, authorised, false);
        let referral = match referral_before(out, child_id, start) {
            Some(d) => d,
            None => {
                // Said once per list (`read_list`), with the first such row.
                let (n, first) = &mut out.unlinked;
                *n += 1;
                first.get_or_insert_with(|| format!("{} row {}", r.found.table.name, r.row));
                start.to_string()
            }
        };
        let mut o = origin(r, child_id);
        let mut a = pb::Assessment {
            la_code: la.to_owned(),
            child_id: child_id.to_owned(),
            start_date: start.to_string(),
            referral_date: referral,
            authorisation_date: iso(authorised),
            factors: Vec::new(),
            outcome: outcome as i32,
            closure_reason: String::new(),
        };
        close_episode(out, &mut a, &mut o);
        out.give(Rec::Assessment(a, o));
    }
    <pb::Assessment as Upload>::KIND
}

fn read_s47(
    r: &mut RowRead<'_, '_>,
    la: &str,
    child_id: &str,
    out: &mut Reading<'_>,
) -> &'static str {
    let start = r.date_of("start_date", &S47_START, true);
    let icpc = r.date_of("icpc_date", &ICPC_DATE, false);
    let col = r.field("icpc_not_required", &ICPC_UNNECESSARY);
    let not_required = r.yes_no(col, &ICPC_UNNECESSARY).unwrap_or(false);
    if r.problems.is_empty()
        && let Some(start) = start
    {
        span(out, Some(start), false);
        span(out, icpc, false);
        let o = origin(r, child_id);
        let referral = referral_before(out, child_id, start).unwrap_or_default();
        out.give(Rec::S47(
            pb::Section47Enquiry {
                la_code: la.to_owned(),
                child_id: child_id.to_owned(),
                start_date: start.to_string(),
                referral_date: referral,
                icpc_target_date: String::new(),
                icpc_date: iso(icpc),
                icpc_not_required: not_required,
            },
            o.clone(),
        ));
        if let Some(icpc) = icpc {
            out.give(Rec::Icpc(
                pb::Icpc {
                    la_code: la.to_owned(),
                    child_id: child_id.to_owned(),
                    icpc_date: icpc.to_string(),
                    s47_start_date: start.to_string(),
                },
                o,
            ));
        }
    }
    <pb::Section47Enquiry as Upload>::KIND
}

fn read_cp_plan(
    r: &mut RowRead<'_, '_>,
    la: &str,
    child_id: &str,
    out: &mut Reading<'_>,
) -> &'static str {
    let start = r.date_of("start_date", &CP_START, true);
    let end = r.date_of("end_date", &CP_END, false);
    let category = |r: &mut RowRead<'_, '_>, f: &Field, api: &str, required: bool| {
        let col = r.field(api, f);
        let text = r.cell(col).text();
        if text.is_empty() {
            if required {
                r.fail(col, f, "required");
            }
            return String::new();
        }
        match values::category(&text) {
            Some(c) => c.to_owned(),
            None => {
                r.fail(
                    col,
                    f,
                    format!(
                        "{} is no category of abuse (a) Neglect, b) Physical abuse, c) Sexual abuse, d) Emotional abuse, e) Multiple, or NEG, PHY, SAB, EMO, MUL)",
                        quote(&text)
                    ),
                );
                String::new()
            }
        }
    };
    let initial = category(r, &CP_INITIAL, "initial_category", true);
    let latest = category(r, &CP_LATEST, "latest_category", false);
    let review = r.date_of("review_dates", &CP_REVIEW, false);
    let col = r.field("previous_plans", &CP_PREVIOUS);
    let previous = match r.cell(col) {
        Cell::Empty => None,
        c => {
            let t = c.text();
            match t.parse::<i32>() {
                Ok(n) if n >= 0 => Some(n),
                _ if t.is_empty() => None,
                _ => {
                    r.fail(
                        col,
                        &CP_PREVIOUS,
                        format!("{} is not a whole number", quote(&t)),
                    );
                    None
                }
            }
        }
    };
    if r.problems.is_empty() {
        span(out, start, false);
        span(out, end, false);
        span(out, review, false);
        let o = origin(r, child_id);
        out.give(Rec::CpPlan(
            ppb::CpPlan {
                la_code: la.to_owned(),
                child_id: child_id.to_owned(),
                start_date: iso(start),
                end_date: iso(end),
                initial_category: initial,
                latest_category: latest,
                previous_plans: previous,
                review_dates: review.map(|d| d.to_string()).into_iter().collect(),
            },
            o,
        ));
    }
    <ppb::CpPlan as Upload>::KIND
}

/// A code from a 903 list in a List 8 cell (`E1: Placement order`, `a) E11: Adopted - …`, `C2`),
/// or a refusal naming the list.
fn code_903(
    r: &mut RowRead<'_, '_>,
    api: &str,
    f: &Field,
    read: fn(&str) -> Option<String>,
    what: &str,
) -> String {
    let col = r.field(api, f);
    let text = r.cell(col).text();
    if text.is_empty() {
        return String::new();
    }
    match read(&text) {
        Some(c) => c,
        None => {
            r.fail(col, f, format!("{} is no {what}", quote(&text)));
            String::new()
        }
    }
}

/// A List 8 row: the child's care summary, and their latest statutory review as a CLA review
/// (the 903's review of that date, if held, keeps its review code).
fn read_looked_after(
    r: &mut RowRead<'_, '_>,
    la: &str,
    child_id: &str,
    out: &mut Reading<'_>,
) -> &'static str {
    let start = r.date_of("care_start_date", &CLA_START, true);
    let legal_status = code_903(
        r,
        "legal_status",
        &LEGAL_STATUS,
        values::legal_status,
        "903 legal status (C1, C2, E1, V2, ... or Ofsted's `C2: FCO`)",
    );
    let status_start = r.date_of("legal_status_start_date", &LEGAL_STATUS_START, false);
    let review = r.date_of("review_date", &LATEST_REVIEW, false);
    let visit = r.date_of("last_visit_date", &LAST_VISIT, false);
    let ceased = r.date_of("ceased_date", &CEASED, false);
    let reason = code_903(
        r,
        "reason_ceased",
        &REASON_CEASED,
        values::reason_ceased,
        "903 reason episode ceased (E11, E4A, ... or Ofsted's `a) E11: Adopted - …`)",
    );
    if r.problems.is_empty()
        && let Some(start) = start
    {
        for d in [status_start, review, visit, ceased] {
            span(out, d, false);
        }
        let o = origin(r, child_id);
        if let Some(review) = review {
            out.give(Rec::Review(
                lpb::Review {
                    la_code: la.to_owned(),
                    child_id: child_id.to_owned(),
                    review_date: review.to_string(),
                    review_code: String::new(),
                },
                o.clone(),
            ));
        }
        out.give(Rec::CareSummary(
            lpb::CareSummary {
                la_code: la.to_owned(),
                child_id: child_id.to_owned(),
                care_start_date: start.to_string(),
                legal_status,
                legal_status_start_date: iso(status_start),
                last_visit_date: iso(visit),
                ceased_date: iso(ceased),
                reason_ceased: reason,
            },
            o,
        ));
    }
    <lpb::CareSummary as Upload>::KIND
}

/// Opens an Annex A workbook (`.xlsx`, `.xlsm`, `.xls`, `.ods`), one CSV list, or a folder of
/// CSV lists as tables, each with its first rows read (where its header is looked for). `Err` is
/// why the path is refused whole.
pub fn read_tables(
    path: &Path,
    report: &mut ImportSummary,
) -> anyhow::Result<Result<(Books, Vec<Table>), String>> {
    let mut books = Books::default();
    let mut tables = Vec::new();
    if path.is_dir() {
        let mut files: Vec<_> = std::fs::read_dir(path)?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .collect();
        files.sort();
        for f in files {
            match f
                .extension()
                .and_then(|x| x.to_str())
                .map(str::to_ascii_lowercase)
            {
                Some(x) if x == "csv" => match read_csv_file(&f, report)? {
                    Ok(text) => add_table(&mut books, &mut tables, csv_table(text), report),
                    Err(why) => report.refuse_file(f.display().to_string(), why),
                },
                Some(x) if matches!(x.as_str(), "xlsx" | "xlsm" | "xls" | "ods") => {
                    if let Err(why) = read_workbook(&f, &mut books, &mut tables, report)? {
                        report.refuse_file(f.display().to_string(), why);
                    }
                }
                _ => report.notes.push(format!(
                    "{}: not a CSV list or a workbook; skipped",
                    f.display()
                )),
            }
        }
        return Ok(Ok((books, tables)));
    }
    let ext = path
        .extension()
        .and_then(|x| x.to_str())
        .map(str::to_ascii_lowercase)
        .unwrap_or_default();
    if ext == "csv" {
        return Ok(match read_csv_file(path, report)? {
            Ok(text) => {
                add_table(&mut books, &mut tables, csv_table(text), report);
                Ok((books, tables))
            }
            Err(why) => Err(why),
        });
    }
    Ok(read_workbook(path, &mut books, &mut tables, report)?.map(|()| (books, tables)))
}

/// Reads `t`'s first rows and adds it to `tables`; a table that cannot be read is refused.
fn add_table(books: &mut Books, tables: &mut Vec<Table>, mut t: Table, report: &mut ImportSummary) {
    match head_of(books, &t) {
        Ok(head) => {
            t.head = head;
            tables.push(t);
        }
        Err(why) => report.refuse_file(t.label(), why),
    }
}

/// A CSV list as a table of text cells, rows numbered as the file's lines.
fn csv_table(text: CsvText) -> Table {
    let name = Path::new(&text.file)
        .file_name()
        .map_or(text.file.clone(), |n| n.to_string_lossy().into_owned());
    Table {
        file: text.file.clone(),
        name,
        is_sheet: false,
        first_col: 0,
        head: Vec::new(),
        source: Source::Csv(text),
    }
}

/// Largest workbook read (an `.xlsx` is streamed, an older format read whole; Annex A for a large
/// county is a few MB).
pub const MAX_WORKBOOK_BYTES: u64 = 256 * 1024 * 1024;
/// Largest part of an .xlsx once decompressed (a sheet's XML), and all its parts together: a
/// county's List 1 is tens of MB; a workbook declaring more is refused before it is opened, so a
/// decompression bomb cannot exhaust memory.
pub const MAX_PART_BYTES: u64 = 512 * 1024 * 1024;
pub const MAX_UNZIPPED_BYTES: u64 = 1024 * 1024 * 1024;

/// An .xlsx (a zip) whose parts declare more than `max_part` bytes each or `max_total` together:
/// why it is refused. Other files pass (calamine names what it cannot read).
fn check_unzipped_size(path: &Path, max_part: u64, max_total: u64) -> Option<String> {
    let file = std::fs::File::open(path).ok()?;
    let mut zip = zip::ZipArchive::new(std::io::BufReader::new(file)).ok()?;
    let mut total = 0u64;
    for i in 0..zip.len() {
        let part = zip.by_index_raw(i).ok()?;
        let size = part.size();
        if size > max_part {
            return Some(format!(
                "its part {} unzips to {size} bytes, more than the {} MiB a part may be: not an Annex A a council keeps (a decompression bomb?)",
                part.name().unwrap_or_default(),
                max_part >> 20
            ));
        }
        total = total.saturating_add(size);
    }
    (total > max_total).then(|| {
        format!(
            "it unzips to {total} bytes, more than the {} MiB a workbook may be",
            max_total >> 20
        )
    })
}

/// Every sheet of a workbook as a table, added to `tables`: an `.xlsx`'s sheets are streamed when
/// read, an older format's read whole here. Formula cells give their saved value; a formula
/// whose value was never saved is a warning (the cell reads as empty). `Err` is why the
/// workbook is refused whole.
fn read_workbook(
    path: &Path,
    books: &mut Books,
    tables: &mut Vec<Table>,
    report: &mut ImportSummary,
) -> anyhow::Result<Result<(), String>> {
    use calamine::{Reader, Sheets};
    let file = path.display().to_string();
    let size = std::fs::metadata(path)
        .map_err(|e| anyhow::anyhow!("reading {file}: {e}"))?
        .len();
    if size > MAX_WORKBOOK_BYTES {
        return Ok(Err(format!(
            "{size} bytes: larger than the {} MiB a workbook may be",
            MAX_WORKBOOK_BYTES >> 20
        )));
    }
    if let Some(why) = check_unzipped_size(path, MAX_PART_BYTES, MAX_UNZIPPED_BYTES) {
        return Ok(Err(why));
    }
    let mut book = match calamine::open_workbook_auto(path) {
        Ok(b) => b,
        Err(e) => {
            return Ok(Err(format!(
                "not a workbook calamine can read ({e}); an Annex A is an .xlsx workbook or a folder of CSV lists"
            )));
        }
    };
    let sheet = |name: String, first_col: u32, source: Source| Table {
        file: file.clone(),
        name,
        is_sheet: true,
        first_col,
        head: Vec::new(),
        source,
    };
    if let Sheets::Xlsx(x) = book {
        let names = x.sheet_names();
        books.0.push(x);
        let at = books.0.len() - 1;
        for name in names {
            add_table(books, tables, sheet(name, 0, Source::Sheet(at)), report);
        }
        return Ok(Ok(()));
    }
    for name in book.sheet_names() {
        let range = match book.worksheet_range(&name) {
            Ok(r) => r,
            Err(e) => {
                report.refuse_file(format!("{file} sheet {name}"), format!("unreadable: {e}"));
                continue;
            }
        };
        let Some((row0, col0)) = range.start() else {
            add_table(
                books,
                tables,
                sheet(name, 0, Source::Held(Vec::new())),
                report,
            );
            continue;
        };
        // Formulas, by their cell, to tell an unsaved formula from an empty cell.
        let formulas: HashMap<(u32, u32), String> = match book.worksheet_formula(&name) {
            Ok(f) => {
                let (fr, fc) = f.start().unwrap_or((0, 0));
                f.cells()
                    .filter(|(_, _, t)| !t.is_empty())
                    .map(|(r, c, t)| ((fr + r as u32, fc + c as u32), t.clone()))
                    .collect()
            }
            Err(_) => HashMap::new(),
        };
        let mut rows = Vec::with_capacity(range.height());
        for (i, row) in range.rows().enumerate() {
            let r = row0 + i as u32;
            let cells = row
                .iter()
                .enumerate()
                .map(|(j, d)| {
                    let c = col0 + j as u32;
                    let cell = cell_of(d.clone());
                    if cell.is_empty()
                        && let Some(f) = formulas.get(&(r, c))
                    {
                        report.warn(
                            "file",
                            "-",
                            format!("{file} {name}!{}{}", column_letters(c), r + 1),
                            unsaved_formula(f),
                        );
                    }
                    cell
                })
                .collect();
            rows.push((r + 1, cells));
        }
        add_table(books, tables, sheet(name, col0, Source::Held(rows)), report);
    }
    Ok(Ok(()))
}

/// Imports an Annex A workbook or folder into the front door, child protection and (for List 8)
/// looked-after children services, under `la` (Annex A does not name its LA). The lists are read
/// on a thread of their own, and each record is sent as it is read: at most
/// [`CHUNKS_QUEUED`](super::local::CHUNKS_QUEUED) chunks of records wait between the reading and
/// the sending, and each kind's [`Uploader`](super::upload::Uploader) queue behind them, so the
/// client's memory is the workbook's shared strings, what links the lists (each child's referral
/// dates, List 6's reasons for closure) and a few batches, however long the lists are. The three
/// services are sent to at the same time. The looked-after children service, at `placements`, is
/// connected only when List 8 has something to send: an Annex A without one needs no such
/// service.
pub async fn import(
    clients: &mut CinClients,
    placements: &str,
    path: &Path,
    la: &str,
    report: &mut ImportSummary,
) -> anyhow::Result<()> {
    use super::local::{progress_bar, progress_done};
    super::local::check_la_flag(Some(la))?;
    let file = path.display().to_string();
    let bar = progress_bar(0, "{msg} {pos} records read", &file);
    let (mut rx, mut reader) = read_in_chunks(path, la, &file, bar.clone());
    let mut lanes = Lanes::default();
    let mut sent = ImportSummary::default();
    while let Some(chunk) = rx.recv().await {
        for r in chunk {
            lanes.push(clients, placements, &mut sent, r).await?;
        }
    }
    let (read, covered) = (&mut reader.0).await??;
    // What the reading found comes first in the summary, then what the services said.
    report.absorb(read);
    if let Some(c) = covered {
        report.covers = super::record::FileCovers {
            return_year: None,
            from: c.from,
            to: c.to,
            from_not_for_placements: true,
        };
    }
    lanes.flush(clients, &mut sent).await?;
    report.absorb(sent);
    progress_done(&bar);
    Ok(())
}

/// What the reading thread gives back: what it found in the file, and the days its lists cover
/// (none when the file was refused whole).
type ReadingDone = anyhow::Result<(ImportSummary, Option<Covered>)>;

/// Reads `path`'s lists on a blocking thread of their own and sends their records, in order, in
/// chunks of [`CHUNK`](super::local::CHUNK) through a queue of
/// [`CHUNKS_QUEUED`](super::local::CHUNKS_QUEUED): the reading waits while the queue is full, so
/// it is never more than the queue, the chunk waiting to enter it and the chunk being filled
/// ahead of whoever takes the records. `bar` counts the records as they are read. Dropping the
/// receiver stops the reading at the next full chunk.
fn read_in_chunks(
    path: &Path,
    la: &str,
    file: &str,
    bar: indicatif::ProgressBar,
) -> (
    tokio::sync::mpsc::Receiver<Vec<Rec>>,
    super::upload::AbortOnDrop<ReadingDone>,
) {
    use super::local::{CHUNK, CHUNKS_QUEUED};
    let (tx, rx) = tokio::sync::mpsc::channel::<Vec<Rec>>(CHUNKS_QUEUED);
    let (path, la, file) = (path.to_owned(), la.to_owned(), file.to_owned());
    let reader = tokio::task::spawn_blocking(move || -> ReadingDone {
        let mut read = ImportSummary::default();
        let (mut books, tables) = match read_tables(&path, &mut read)? {
            Ok(t) => t,
            Err(why) => {
                read.refuse_file(file, why);
                return Ok((read, None));
            }
        };
        let mut chunk = Vec::with_capacity(CHUNK);
        // A closed queue: the sending stopped on an error, which it reports, and the reading
        // stops too.
        let covered = read_lists(&mut books, &tables, &la, &mut read, &mut |r| {
            bar.inc(1);
            chunk.push(r);
            if chunk.len() < CHUNK {
                return true;
            }
            let full = std::mem::replace(&mut chunk, Vec::with_capacity(CHUNK));
            tx.blocking_send(full).is_ok()
        });
        if !chunk.is_empty() {
            let _ = tx.blocking_send(chunk);
        }
        read.finish_dates(&file, false);
        Ok((read, Some(covered)))
    });
    (rx, super::upload::AbortOnDrop(reader))
}

/// The senders of an Annex A's record kinds, one each: fields an Annex A leaves empty keep what
/// the CIN census or 903 stored for the kinds both hold in more detail.
struct Lanes {
    contacts: Uploader<pb::Contact>,
    early_help: Uploader<pb::EarlyHelpAssessment>,
    referrals: Uploader<pb::Referral>,
    assessments: Uploader<pb::Assessment>,
    s47s: Uploader<pb::Section47Enquiry>,
    icpcs: Uploader<pb::Icpc>,
    cp_plans: Uploader<ppb::CpPlan>,
    care_summaries: Uploader<lpb::CareSummary>,
    reviews: Uploader<lpb::Review>,
    /// Connected when List 8 gives its first record.
    placements: Option<crate::client::PlacementsClient>,
}

impl Default for Lanes {
    fn default() -> Self {
        Self {
            contacts: Uploader::default(),
            early_help: Uploader::default(),
            referrals: Uploader::default(),
            assessments: Uploader::keeping_stored(),
            s47s: Uploader::keeping_stored(),
            icpcs: Uploader::default(),
            cp_plans: Uploader::keeping_stored(),
            care_summaries: Uploader::default(),
            reviews: Uploader::keeping_stored(),
            placements: None,
        }
    }
}

impl Lanes {
    async fn push(
        &mut self,
        clients: &mut CinClients,
        placements: &str,
        sent: &mut ImportSummary,
        r: Rec,
    ) -> anyhow::Result<()> {
        let fd = &mut clients.frontdoor;
        match r {
            Rec::Contact(p, o) => self.contacts.push(fd, sent, p, o).await,
            Rec::EarlyHelp(p, o) => self.early_help.push(fd, sent, p, o).await,
            Rec::Referral(p, o) => self.referrals.push(fd, sent, p, o).await,
            Rec::Assessment(p, o) => self.assessments.push(fd, sent, p, o).await,
            Rec::S47(p, o) => self.s47s.push(fd, sent, p, o).await,
            Rec::Icpc(p, o) => self.icpcs.push(fd, sent, p, o).await,
            Rec::CpPlan(p, o) => {
                let cp = &mut clients.protection;
                self.cp_plans.push(cp, sent, p, o).await
            }
            Rec::CareSummary(p, o) => {
                let lac = crate::client::on_first_use(&mut self.placements, || {
                    crate::client::connect_placements(placements)
                })
                .await?;
                self.care_summaries.push(lac, sent, p, o).await
            }
            Rec::Review(p, o) => {
                let lac = crate::client::on_first_use(&mut self.placements, || {
                    crate::client::connect_placements(placements)
                })
                .await?;
                self.reviews.push(lac, sent, p, o).await
            }
        }
    }

    /// Waits for every kind's batches to be answered, and adds what they did to `sent`, kind
    /// by kind: the front door's, child protection's, then the looked-after children's.
    async fn flush(
        &mut self,
        clients: &mut CinClients,
        sent: &mut ImportSummary,
    ) -> anyhow::Result<()> {
        let fd = &mut clients.frontdoor;
        self.contacts.flush(fd, sent).await?;
        self.early_help.flush(fd, sent).await?;
        self.referrals.flush(fd, sent).await?;
        self.assessments.flush(fd, sent).await?;
        self.s47s.flush(fd, sent).await?;
        self.icpcs.flush(fd, sent).await?;
        self.cp_plans.flush(&mut clients.protection, sent).await?;
        if let Some(lac) = &mut self.placements {
            self.care_summaries.flush(lac, sent).await?;
            self.reviews.flush(lac, sent).await?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_xlsxwriter::{ExcelDateTime, Format, Workbook};

    /// A cell of a test workbook.
    enum W {
        S(&'static str),
        N(f64),
        D(u16, u8, u8),
        /// A formula and the value saved with it ("" = none saved).
        F(&'static str, &'static str),
        E,
    }
    use W::*;

    /// Writes a workbook of (sheet name, rows) and reads it as the importer does.
    fn read(sheets: Vec<(&str, Vec<Vec<W>>)>) -> (Parsed, ImportSummary) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("annex_a.xlsx");
        let mut book = Workbook::new();
        let date = Format::new().set_num_format("dd/mm/yyyy");
        for (name, rows) in sheets {
            let ws = book.add_worksheet();
            ws.set_name(name).unwrap();
            for (r, row) in rows.iter().enumerate() {
                for (c, v) in row.iter().enumerate() {
                    let (r, c) = (r as u32, c as u16);
                    match v {
                        S(s) => {
                            ws.write_string(r, c, *s).unwrap();
                        }
                        N(n) => {
                            ws.write_number(r, c, *n).unwrap();
                        }
                        D(y, m, d) => {
                            let dt = ExcelDateTime::from_ymd(*y, *m, *d).unwrap();
                            ws.write_date_with_format(r, c, &dt, &date).unwrap();
                        }
                        F(f, v) => {
                            ws.write_formula(r, c, *f).unwrap();
                            ws.set_formula_result(r, c, *v);
                        }
                        E => {}
                    }
                }
            }
        }
        book.save(&path).unwrap();
        let mut report = ImportSummary::default();
        let (mut books, tables) = read_tables(&path, &mut report).unwrap().unwrap();
        let parsed = parse(&mut books, &tables, "885", &mut report);
        (parsed, report)
    }

    /// A workbook of one List 1 (contacts) of `total` rows, children C0, C1, ..., being read by
    /// [`read_in_chunks`] with a hidden bar counting the rows read (the directory holds the file).
    fn reading_long_list_1(
        total: usize,
    ) -> (
        tempfile::TempDir,
        indicatif::ProgressBar,
        tokio::sync::mpsc::Receiver<Vec<Rec>>,
        super::super::upload::AbortOnDrop<ReadingDone>,
    ) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("annex_a.xlsx");
        let mut book = Workbook::new();
        let ws = book.add_worksheet();
        ws.set_name("List 1").unwrap();
        let head = [
            "Child Unique ID",
            "Gender",
            "Date of Contact",
            "Contact Source",
        ];
        for (c, h) in head.iter().enumerate() {
            ws.write_string(0, c as u16, *h).unwrap();
        }
        for n in 0..total {
            let r = n as u32 + 1;
            ws.write_string(r, 0, format!("C{n}")).unwrap();
            ws.write_string(r, 1, "Female").unwrap();
            ws.write_string(r, 2, "03/05/2024").unwrap();
            ws.write_string(r, 3, "6").unwrap();
        }
        book.save(&path).unwrap();
        let bar = indicatif::ProgressBar::hidden();
        let (rx, reader) = read_in_chunks(&path, "885", "annex_a.xlsx", bar.clone());
        (dir, bar, rx, reader)
    }

    /// When the sending stops (a service refused the import), the reading stops with it rather
    /// than read the rest of the workbook for nothing.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_reading_stops_when_the_sending_has_stopped() {
        use super::super::local::{CHUNK, CHUNKS_QUEUED};
        let total = 60 * CHUNK;
        let (_dir, bar, mut rx, mut reader) = reading_long_list_1(total);
        assert_eq!(rx.recv().await.map(|c| c.len()), Some(CHUNK));
        drop(rx);
        let (read, _) = (&mut reader.0).await.unwrap().unwrap();
        assert!(read.refused_files.is_empty(), "{:?}", read.refused_files);
        // The chunk taken, the queue, the chunk that found the queue closed.
        let most = ((CHUNKS_QUEUED + 2) * CHUNK) as u64;
        assert!(
            bar.position() <= most,
            "{} of {total} rows read after the sending stopped (at most {most})",
            bar.position()
        );
    }

    /// A long list is sent as it is read: every row comes through, in the file's order, and the
    /// reading is never more than the queue, the chunk waiting to enter it and the chunk being
    /// filled ahead of a slow sender, however long the list (the client's memory does not grow
    /// with the workbook).
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_long_list_is_sent_as_read_with_the_reading_a_few_chunks_ahead() {
        use super::super::local::{CHUNK, CHUNKS_QUEUED};
        let total = 30 * CHUNK;
        let (_dir, bar, mut rx, mut reader) = reading_long_list_1(total);
        // Nothing is taken until the reading has gone as far ahead as it will: its count has
        // stopped moving (or, unbounded, the whole list is read).
        let mut last = 0;
        for _ in 0..300 {
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            let now = bar.position();
            if (now > 0 && now == last) || now == total as u64 {
                break;
            }
            last = now;
        }
        let (mut received, mut most_ahead) = (0u64, 0u64);
        let mut children = Vec::with_capacity(total);
        while let Some(chunk) = rx.recv().await {
            received += chunk.len() as u64;
            most_ahead = most_ahead.max(bar.position() - received);
            for r in chunk {
                match r {
                    Rec::Contact(c, _) => children.push(c.child_id),
                    _ => panic!("List 1 gives contacts only"),
                }
            }
            // A sender slower than the reading, as a service is.
            tokio::time::sleep(std::time::Duration::from_millis(2)).await;
        }
        let (read, covered) = (&mut reader.0).await.unwrap().unwrap();
        assert!(read.rejected.is_empty(), "{:?}", read.rejected);
        assert!(covered.is_some());
        let expected: Vec<String> = (0..total).map(|n| format!("C{n}")).collect();
        assert_eq!(children, expected, "every row, in the list's order");
        assert_eq!(bar.position(), total as u64);
        let bound = ((CHUNKS_QUEUED + 2) * CHUNK) as u64;
        assert!(
            most_ahead <= bound,
            "the reading ran {most_ahead} records ahead (bound {bound}, the list {total})"
        );
    }

    fn title() -> Vec<W> {
        vec![S("Annex A: children's social care lists"), E, E]
    }

    #[test]
    fn a_2017_layout_with_renamed_sheets_bare_codes_float_ids_and_a_title_block() {
        let (p, report) = read(vec![
            (
                "Contacts received",
                vec![
                    title(),
                    vec![],
                    vec![
                        S("Child Unique ID"),
                        S("Gender"),
                        S("Date of Contact"),
                        S("Contact Source"),
                    ],
                    vec![N(9_212_044.0), S("Male"), D(2024, 5, 1), S("6")],
                    vec![S("C2"), S("Female"), S("03/05/2024"), S("Schools")],
                    vec![S("C2"), S("Female"), S("03/05/2024"), S("q) 6: Police")],
                    vec![],
                ],
            ),
            (
                "Sheet7",
                vec![
                    vec![
                        S("Child Unique ID"),
                        S("Date of referral"),
                        S("Referral Source"),
                        S("Referral NFA?"),
                    ],
                    vec![S("9212044.0"), D(2024, 5, 6), S("6"), S("N")],
                ],
            ),
            (
                "List 4",
                vec![
                    vec![
                        S("Child Unique ID"),
                        S("Assessment start date"),
                        S("Assessment authorisation date"),
                    ],
                    vec![N(9_212_044.0), D(2024, 5, 7), N(45_457.0)],
                ],
            ),
            (
                "List 2",
                vec![
                    vec![
                        S("Child Unique ID"),
                        S("Assessment start date"),
                        S("Organisation completing assessment"),
                    ],
                    vec![S("C2"), S("20/05/2024"), S("School")],
                ],
            ),
            ("List 6", vec![]),
        ]);
        assert!(
            report.refused_files.is_empty(),
            "{:?}",
            report.refused_files
        );
        assert!(report.rejected.is_empty(), "{:?}", report.rejected);
        let ids: Vec<(&str, &str, bool)> = p
            .contacts
            .iter()
            .map(|(c, _)| (c.contact_id.as_str(), c.source.as_str(), c.became_referral))
            .collect();
        // The float id is the whole number; a child's second contact of a day is numbered; the
        // contact five days before the child's referral became it.
        assert_eq!(
            ids,
            [
                ("9212044/20240501", "6", true),
                ("C2/20240503", "2A", false),
                ("C2/20240503/2", "6", false)
            ]
        );
        assert_eq!(p.referrals[0].0.child_id, "9212044");
        // The lists begin at their first contact or referral; the latest date is the assessment's.
        let d = |s: &str| s.parse::<NaiveDate>().ok();
        assert_eq!(
            (p.covered.from, p.covered.to),
            (d("2024-05-01"), d("2024-06-14"))
        );
        // List 2 without its completion column: the early help assessment is still read.
        let eh = &p.early_help[0].0;
        assert_eq!(
            (
                eh.child_id.as_str(),
                eh.start_date.as_str(),
                eh.completion_date.as_str(),
                eh.organisation.as_str()
            ),
            ("C2", "2024-05-20", "", "School")
        );
        assert!(
            report
                .notes
                .iter()
                .any(|n| n.contains("sheet List 2: not in file: Assessment completion date")),
            "{:?}",
            report.notes
        );
        let a = &p.assessments[0].0;
        // 45457 is 14 June 2024; the referral is List 3's; no outcome column in 2017.
        assert_eq!(
            (
                a.referral_date.as_str(),
                a.authorisation_date.as_str(),
                a.outcome
            ),
            ("2024-05-06", "2024-06-14", 0)
        );
        assert!(
            report
                .notes
                .iter()
                .any(|n| n.contains("sheet List 4: not in file: Was the child assessed")),
            "{:?}",
            report.notes
        );
        assert!(
            report
                .notes
                .iter()
                .any(|n| n.contains("sheet List 6: empty; skipped")),
            "{:?}",
            report.notes
        );
    }

    #[test]
    fn a_2024_layout_with_dropdown_values_and_formulas() {
        let (p, report) = read(vec![
            (
                "List 4",
                vec![
                    title(),
                    vec![
                        S("Child Unique ID"),
                        S("Does the Child have a Disability"),
                        S("Continuous Assessment Start Date"),
                        S("Child Seen During Continuous Assessment"),
                        S("Continuous Assessment Date of Authorisation"),
                        S("Was the child assessed as requiring LA children's social care support?"),
                    ],
                    vec![
                        S("A1"),
                        S("b) No"),
                        D(2024, 4, 2),
                        S("a) Yes"),
                        D(2024, 5, 1),
                        S("b) No"),
                    ],
                    vec![
                        S("A2"),
                        S("b) No"),
                        D(2024, 4, 3),
                        S("a) Yes"),
                        E,
                        F("=\"a) Yes\"", "a) Yes"),
                    ],
                    vec![
                        S("A3"),
                        S("b) No"),
                        D(2024, 4, 4),
                        S("a) Yes"),
                        E,
                        F("=B9", ""),
                    ],
                ],
            ),
            (
                "List 5",
                vec![
                    vec![
                        S("Child Unique ID"),
                        S("Strategy discussion initiating Section 47 Enquiry Start Date"),
                        S("Was an Initial Child Protection Conference deemed unnecessary?"),
                        S("Date of Initial Child Protection Conference"),
                        S(
                            "Did the Initial Child Protection Conference Result in a Child Protection Plan",
                        ),
                        S("Number of ICPCs in the last 12 months"),
                    ],
                    vec![
                        S("A1"),
                        D(2024, 4, 10),
                        S("b) No"),
                        D(2024, 4, 24),
                        S("a) Yes"),
                        N(1.0),
                    ],
                    vec![S("A2"), D(2024, 4, 11), S("a) Yes"), E, E, N(0.0)],
                ],
            ),
            (
                "List 6",
                vec![
                    vec![
                        S("Child Unique ID"),
                        S("CIN Start Date"),
                        S("Primary Need Code"),
                        S("CIN Closure Date"),
                        S("Reason for Closure"),
                        S("Case Status"),
                    ],
                    vec![
                        S("A1"),
                        D(2024, 3, 28),
                        S("N1 - Abuse or neglect"),
                        D(2024, 5, 1),
                        S("RC8 - Case closed after assessment, no further action"),
                        S("e) Closed episode"),
                    ],
                    vec![
                        S("A2"),
                        D(2024, 4, 1),
                        S("N4"),
                        E,
                        S("RC99"),
                        S("d) Open assessment"),
                    ],
                ],
            ),
            (
                "List 8",
                vec![
                    vec![
                        S("Child Unique ID"),
                        S("Date Started to be Looked After"),
                        S("Start date of current legal status"),
                        S("Child's Legal Status"),
                        S("Date of Latest Statutory Review"),
                        S("Date of Last Social Work Visit"),
                        S("Date of Last IRO Visit / Contact to the Child"),
                        S("Date Ceased to be Looked After"),
                        S("Reason Ceased to be Looked After"),
                    ],
                    vec![
                        S("L1"),
                        D(2023, 1, 9),
                        D(2023, 6, 1),
                        S("C2: FCO"),
                        D(2024, 3, 1),
                        D(2024, 4, 20),
                        D(2024, 4, 25),
                        D(2024, 5, 30),
                        S(
                            "f) E4B: Returned home to live with parents or relatives - not part of planning",
                        ),
                    ],
                    vec![S("L2"), D(2024, 2, 1), E, S("Remanded"), E, E, E, E, E],
                    vec![S("L3"), D(2024, 2, 1), E, S("Z9: Other"), E, E, E, E, E],
                ],
            ),
            (
                "List 7",
                vec![
                    vec![
                        S("Child Unique ID"),
                        S("Child Protection Plan Start Date"),
                        S("Initial Category of Abuse"),
                        S("Latest Category of Abuse"),
                        S("Date of the Last Statutory Visit"),
                        S("Date of latest review conference"),
                        S("Child Protection Plan End Date"),
                        S("Number of Previous Child Protection Plans"),
                    ],
                    vec![
                        S("A1"),
                        D(2024, 4, 24),
                        S("a) Neglect"),
                        S("d) Emotional abuse"),
                        D(2024, 6, 1),
                        D(2024, 7, 10),
                        E,
                        N(1.0),
                    ],
                ],
            ),
        ]);
        // The only refusal: List 8's unknown legal status (below).
        assert_eq!(report.rejected.len(), 1, "{:?}", report.rejected);
        let outcomes: Vec<i32> = p.assessments.iter().map(|(a, _)| a.outcome).collect();
        use pb::AssessmentOutcome as O;
        assert_eq!(
            outcomes,
            [
                O::Nfa as i32,
                O::FurtherAction as i32,
                O::Unspecified as i32
            ]
        );
        // The formula saved without its value is said, naming its cell.
        assert!(
            report
                .warnings
                .iter()
                .any(|w| w.source.ends_with("List 4!F5") && w.reason.contains("=B9")),
            "{:?}",
            report.warnings
        );
        // No List 3: the three assessments' referral is inferred, said once for the list.
        let unlinked: Vec<&str> = report
            .warnings
            .iter()
            .filter(|w| w.reason.contains("no List 3 referral"))
            .map(|w| w.reason.as_str())
            .collect();
        assert_eq!(unlinked.len(), 1, "{unlinked:?}");
        assert!(
            unlinked[0].starts_with("2 assessment(s)")
                && unlinked[0].contains("(first: List 4 row 4)")
        );
        // List 8: a care summary each (the IRO visit is not the social work visit, the reason
        // ceased not the date), the latest review as a CLA review; a legal status no list has is
        // refused by its cell.
        let cla: Vec<_> = p
            .care_summaries
            .iter()
            .map(|(c, _)| {
                (
                    c.child_id.as_str(),
                    c.legal_status.as_str(),
                    c.legal_status_start_date.as_str(),
                    c.last_visit_date.as_str(),
                    c.ceased_date.as_str(),
                    c.reason_ceased.as_str(),
                )
            })
            .collect();
        assert_eq!(
            cla,
            [
                ("L1", "C2", "2023-06-01", "2024-04-20", "2024-05-30", "E4B"),
                ("L2", "J1", "", "", "", "")
            ]
        );
        assert_eq!(p.reviews.len(), 1);
        assert_eq!(p.reviews[0].0.review_date, "2024-03-01");
        assert!(
            report
                .rejected
                .iter()
                .any(|x| x.source == "List 8!D4 (Child's Legal Status)"
                    && x.reason.contains("\"Z9: Other\" is no 903 legal status"))
        );
        // A1's referral is its List 6 episode's start, whose reason for closure it carries, as in
        // the census; A2's episode has a reason no list has, said and not used.
        let a1 = &p.assessments[0].0;
        assert_eq!(
            (a1.referral_date.as_str(), a1.closure_reason.as_str()),
            ("2024-03-28", "RC8")
        );
        assert_eq!(p.assessments[1].0.closure_reason, "");
        assert!(
            report
                .warnings
                .iter()
                .any(|w| w.source == "List 6!E3 (Reason for Closure)"
                    && w.reason.contains("\"RC99\" is no reason for closure")
                    && w.reason.ends_with("the row is not used"))
        );
        // List 6's bad row is a warning, not a refusal: the one refusal is List 8's.
        assert!(report.rejected.iter().all(|x| x.kind == "care summaries"));
        let s47: Vec<(&str, bool)> = p
            .s47s
            .iter()
            .map(|(s, _)| (s.icpc_date.as_str(), s.icpc_not_required))
            .collect();
        assert_eq!(s47, [("2024-04-24", false), ("", true)]);
        assert_eq!(p.icpcs.len(), 1);
        // No contacts or referrals: where the lists begin is not known (a plan's start is not it).
        assert_eq!(p.covered.from, None);
        assert_eq!(p.icpcs[0].0.s47_start_date, "2024-04-10");
        let cp = &p.cp_plans[0].0;
        assert_eq!(
            (
                cp.initial_category.as_str(),
                cp.latest_category.as_str(),
                cp.review_dates.clone(),
                cp.previous_plans,
                cp.end_date.as_str()
            ),
            ("NEG", "EMO", vec!["2024-07-10".to_owned()], Some(1), "")
        );
    }

    #[test]
    fn bad_values_are_refused_by_cell_and_a_list_without_its_columns_whole() {
        let (p, report) = read(vec![
            (
                "List 3",
                vec![
                    vec![
                        S("Child Unique ID"),
                        S("Gender"),
                        S("Date of referral"),
                        S("Referral Source"),
                        S("Referral NFA?"),
                    ],
                    vec![
                        S("R1"),
                        S("a) Male"),
                        S("31/02/2024"),
                        S("carrier pigeon"),
                        S("b) No"),
                    ],
                    vec![E, S("a) Male"), D(2024, 5, 1), S("6"), S("perhaps")],
                    vec![S("R3"), S("a) Male"), D(2024, 5, 1), S("6"), S("a) Yes")],
                ],
            ),
            (
                "List 1",
                vec![
                    vec![S("Child Unique ID"), S("Contact Source")],
                    vec![S("C1"), S("6")],
                ],
            ),
        ]);
        // Only the good row of List 3 is a record.
        assert_eq!(p.referrals.len(), 1);
        assert!(p.referrals[0].0.nfa);
        let refused: Vec<(&str, &str)> = report
            .rejected
            .iter()
            .map(|r| (r.source.as_str(), r.reason.as_str()))
            .collect();
        assert!(
            refused.contains(&(
                "List 3!C2 (Date of referral)",
                "\"31/02/2024\" is not a date (a date cell, DD/MM/YYYY, YYYY-MM-DD or DD/MM/YY)"
            )),
            "{refused:?}"
        );
        assert!(
            refused
                .iter()
                .any(|(at, why)| *at == "List 3!D2 (Referral Source)"
                    && why.contains("\"carrier pigeon\""))
        );
        assert!(refused.contains(&("List 3!A3 (Child Unique ID)", "required")));
        assert!(
            refused
                .iter()
                .any(|(at, why)| *at == "List 3!E3 (Referral NFA?)" && why.contains("\"perhaps\""))
        );
        assert_eq!(report.tallies["referrals"].rejected, 2);
        // List 1 lacks its date column: refused whole, named.
        assert!(
            report
                .refused_files
                .iter()
                .any(|(t, why)| t.ends_with("sheet List 1") && why.contains("Date of Contact")),
            "{:?}",
            report.refused_files
        );
        assert!(p.contacts.is_empty());
    }

    #[test]
    fn a_folder_of_csv_lists_is_read_like_the_workbook() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("list_1_contacts.csv"),
            "Annex A List 1\n\nChild Unique ID,Date of Contact,Contact Source\n9212044.0,01/05/2024,a) 1A: Individual\nC2,02/05/24,6\n",
        )
        .unwrap();
        std::fs::write(dir.path().join("notes.txt"), "not a list").unwrap();
        let mut report = ImportSummary::default();
        let (mut books, tables) = read_tables(dir.path(), &mut report).unwrap().unwrap();
        let p = parse(&mut books, &tables, "885", &mut report);
        report.finish_dates("folder", false);
        assert_eq!(p.contacts.len(), 2);
        assert_eq!(p.contacts[0].0.child_id, "9212044");
        // A two-digit year is read with the pivot and said once, with the first cell.
        assert_eq!(p.contacts[1].0.contact_date, "2024-05-02");
        assert!(
            report.warnings.iter().any(|w| w
                .reason
                .starts_with("1 date(s) written with a two-digit year")
                && w.reason
                    .contains("list_1_contacts.csv line 5 column Date of Contact")),
            "{:?}",
            report.warnings
        );
        assert_eq!(p.contacts[0].0.source, "1A");
        assert!(report.notes.iter().any(|n| n.contains("notes.txt")));
    }

    #[test]
    fn a_workbook_that_unzips_past_the_limits_is_refused_before_it_is_opened() {
        use std::io::Write;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bomb.xlsx");
        let mut z = zip::ZipWriter::new(std::fs::File::create(&path).unwrap());
        let opts = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated);
        z.start_file("xl/worksheets/sheet1.xml", opts).unwrap();
        let zeros = vec![0u8; 1 << 20];
        for _ in 0..3 {
            z.write_all(&zeros).unwrap();
        }
        z.finish().unwrap();
        // 3 MiB of zeros compress to a few KiB; with limits of 2 MiB a part and 8 MiB in all:
        let why = check_unzipped_size(&path, 2 << 20, 8 << 20).unwrap();
        assert!(
            why.contains("xl/worksheets/sheet1.xml unzips to 3145728 bytes"),
            "{why}"
        );
        let why = check_unzipped_size(&path, 4 << 20, 2 << 20).unwrap();
        assert!(why.contains("it unzips to 3145728 bytes"), "{why}");
        assert_eq!(check_unzipped_size(&path, 4 << 20, 8 << 20), None);
        assert!(std::fs::metadata(&path).unwrap().len() < 64 * 1024);
    }

    #[test]
    fn lists_are_known_by_name_when_columns_do_not_say() {
        assert_eq!(List::from_name("List 3"), Some(List::Referrals));
        assert_eq!(List::from_name("list_11"), Some(List::Adopters));
        assert_eq!(List::from_name("L7 CP"), Some(List::ChildProtection));
        assert_eq!(List::from_name("Care leavers"), Some(List::CareLeavers));
        assert_eq!(List::from_name("Lookups"), None);
        assert_eq!(List::from_name("LA details"), None);
        assert_eq!(column_letters(0), "A");
        assert_eq!(column_letters(26), "AA");
        assert_eq!(column_letters(27), "AB");
    }
}
