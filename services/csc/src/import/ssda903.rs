//! SSDA903 returns: a folder of the CSV tables, a single table, or the XML export. Children,
//! episodes, social worker episodes and reviews go to the looked-after children service; missing
//! episodes to child protection. Tables no measure uses are recognised and skipped with a note.
//!
//! Tables are recognised by their columns, not their file names (councils' exports name files
//! every which way). What real files contain is tolerated: a UTF-8 BOM, CRLF, blank trailing
//! columns, dd/mm/yyyy dates, sex as 1/2 or M/F/U, the placement codes of every year 2017–2027.
//! Several years' returns imported in turn (oldest first) build one history: an episode is keyed
//! by child and DECOM, and a later return that restates it replaces it.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use chrono::NaiveDate;
use csc_core::{codes, parse_date};
use csc_proto::{common::ListRequest, placements as lpb, protection as ppb};

use super::cin::{Item, Node, date, read_records};
use super::local::{CsvText, Format, Row, check_la_flag, read_csv_file, send_records};
use super::{ImportSummary, Origin};
use crate::ClientAddrs;
use crate::client::{PlacementsClient, ProtectionClient};

/// The 903 tables, as recognised by their columns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Table {
    Header,
    Episodes,
    SwEpisodes,
    Reviews,
    Missing,
    /// Recognised, not used by any measure.
    Unused(&'static str),
}

/// Which table a CSV file is, from its header row (lower-cased column names). A table is
/// recognised by the columns only it has, so that one missing a required column (episodes
/// without DEC or RNE, a header without DOB) is still named and then refused for what it lacks.
pub fn recognise(columns: &[String]) -> Option<Table> {
    let has = |c: &str| columns.iter().any(|x| x == c);
    Some(if has("decom") {
        Table::Episodes
    } else if has("sw_id") || has("sw_decom") {
        Table::SwEpisodes
    } else if has("review") || has("review_code") {
        Table::Reviews
    } else if has("mis_start") || (has("missing") && has("mis_end")) {
        Table::Missing
    } else if has("duc") {
        Table::Unused("UASC")
    } else if has("date_int") {
        Table::Unused("AD1 (adoption)")
    } else if has("sdq_score") {
        Table::Unused("OC2 (outcomes)")
    } else if has("in_touch") {
        Table::Unused("OC3 (care leavers)")
    } else if has("date_placed") {
        Table::Unused("placed for adoption")
    } else if has("prev_perm") {
        Table::Unused("previous permanence")
    } else if columns
        .iter()
        .any(|c| c.starts_with("dol") || c.contains("depriv"))
    {
        // 2025-26: deprivation of liberty orders. Recognised by a DOL… or "deprivation" column
        // (docs/formats.md says why not by exact names).
        Table::Unused("deprivation of liberty (2025-26)")
    } else if has("sex") && (has("child") || has("dob")) {
        Table::Header
    } else {
        return None;
    })
}

/// The services a 903 return feeds; child protection is connected to only if the return has
/// missing episodes.
pub struct Clients903 {
    pub placements: PlacementsClient,
    protection: Option<ProtectionClient>,
    protection_addr: String,
}

impl Clients903 {
    pub async fn connect(addrs: &ClientAddrs) -> anyhow::Result<Self> {
        Ok(Self {
            placements: crate::client::connect_placements(&addrs.placements).await?,
            protection: None,
            protection_addr: addrs.protection.clone(),
        })
    }

    async fn protection(&mut self) -> anyhow::Result<&mut ProtectionClient> {
        let addr = &self.protection_addr;
        crate::client::on_first_use(&mut self.protection, || {
            crate::client::connect_protection(addr)
        })
        .await
    }
}

/// 903 SEX: 1/2 (the return's codes) or M/F/U.
fn sex(text: &str) -> Option<lpb::Sex> {
    Some(match text.trim().to_ascii_uppercase().as_str() {
        "1" | "M" | "MALE" => lpb::Sex::Male,
        "2" | "F" | "FEMALE" => lpb::Sex::Female,
        "U" | "0" | "9" | "UNKNOWN" => lpb::Sex::Unknown,
        _ => return None,
    })
}

fn upper(row: &Row<'_>, column: &str) -> String {
    row.get(column).to_ascii_uppercase()
}

/// Records of one kind grouped by the return year they came from (`None` where the file has no
/// YEAR column).
type ByYear<P> = BTreeMap<Option<i32>, Vec<(P, Origin)>>;

/// One kind of an XML export's records, read and checked, not yet sent.
enum Records {
    Header(ByYear<lpb::Child>),
    Episodes(ByYear<lpb::Episode>),
    Reviews(ByYear<lpb::Review>),
    Missing(ByYear<ppb::MissingEpisode>),
}

/// `$body` for whichever kind `$records` holds, with `$m` bound to its records by year.
macro_rules! each_kind {
    ($records:expr, $m:ident => $body:expr) => {
        match $records {
            Records::Header($m) => $body,
            Records::Episodes($m) => $body,
            Records::Reviews($m) => $body,
            Records::Missing($m) => $body,
        }
    };
}

fn by_year<P>(records: Vec<(P, Origin)>) -> ByYear<P> {
    let mut out: ByYear<P> = BTreeMap::new();
    for (p, o) in records {
        out.entry(o.year).or_default().push((p, o));
    }
    out
}

/// Sends the records of return year `year` in `m`, and forgets them.
async fn send_year_of<P: super::Upload>(
    client: &mut P::Client,
    m: &mut ByYear<P>,
    year: Option<i32>,
    file: &str,
    report: &mut ImportSummary,
) -> anyhow::Result<()> {
    match m.remove(&year) {
        Some(v) => send_records(client, file, v, report).await,
        None => Ok(()),
    }
}

impl Records {
    fn years(&self) -> BTreeSet<Option<i32>> {
        each_kind!(self, m => m.keys().copied().collect())
    }

    fn las(&self) -> BTreeSet<String> {
        each_kind!(self, m => m.values().flatten().map(|(p, _)| p.la_code.clone()).collect())
    }

    /// Sends the records of return year `year`, and forgets them.
    async fn send_year(
        &mut self,
        clients: &mut Clients903,
        file: &str,
        year: Option<i32>,
        report: &mut ImportSummary,
    ) -> anyhow::Result<()> {
        let placements = &mut clients.placements;
        match self {
            Records::Header(m) => send_year_of(placements, m, year, file, report).await,
            Records::Episodes(m) => send_year_of(placements, m, year, file, report).await,
            Records::Reviews(m) => send_year_of(placements, m, year, file, report).await,
            // Child protection is connected to only when there are missing episodes to send.
            Records::Missing(m) if m.contains_key(&year) => {
                send_year_of(clients.protection().await?, m, year, file, report).await
            }
            Records::Missing(_) => Ok(()),
        }
    }
}

/// Imports a 903 return: a folder of CSV tables, one CSV table, or an XML file. A table with a
/// YEAR column (a pooled file) is imported year by year, oldest first, every table's rows of a
/// year before the next year's, exactly as importing each year's folder in turn; a table with an
/// LA column files each row under its own LA, and `--la` then only chooses which. The LAs the
/// records were filed under are returned.
pub async fn import(
    clients: &mut Clients903,
    path: &Path,
    la: Option<&str>,
    year: Option<i32>,
    report: &mut ImportSummary,
) -> anyhow::Result<BTreeSet<String>> {
    check_la_flag(la)?;
    if let Some(y) = year {
        report
            .notes
            .push(format!("{}: SSDA903 return {y}", path.display()));
    }
    let mut tables: Vec<(Table, CsvText)> = Vec::new();
    if path.is_dir() {
        let mut files: Vec<PathBuf> = std::fs::read_dir(path)
            .map_err(|e| anyhow::anyhow!("reading {}: {e}", path.display()))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.is_file())
            .collect();
        files.sort();
        let refused_before = report.refused_files.len();
        for f in files {
            let is_csv = f.extension().is_some_and(|e| e.eq_ignore_ascii_case("csv"));
            if !is_csv {
                report
                    .notes
                    .push(format!("{}: not a CSV file; skipped", f.display()));
                continue;
            }
            if let Some(t) = recognised(&f, la, report)? {
                tables.push(t);
            }
        }
        if tables.is_empty() && report.refused_files.len() == refused_before {
            report.refuse_file(
                path.display().to_string(),
                "no 903 table recognised in the folder (episodes have CHILD and DECOM; the header SEX and DOB; reviews REVIEW; social worker episodes SW_ID; missing MIS_START)",
            );
        }
    } else if path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("xml"))
    {
        return import_xml(clients, path, la, year, report).await;
    } else if !path.exists() {
        anyhow::bail!("{}: no such file or folder", path.display());
    } else if let Some(t) = recognised(path, la, report)? {
        tables.push(t);
    }
    // Headers before episodes, so that a child's header lands with or before its history.
    tables.sort_by_key(|(t, _)| *t);
    stream_tables(clients, tables, la, year, report).await
}

/// A pass over a return's CSV tables: each table's rows are read on a thread of their own and
/// sent as they are read (`local::stream_records_keeping`), so the return's records are never
/// all held.
#[derive(Clone, Copy)]
enum Pass {
    /// A return without a YEAR column: every record read, checked and sent in one pass.
    All,
    /// A pooled return's first pass: every record read and checked, its years learnt, none sent.
    Scan,
    /// A pooled return's later pass, one per year oldest first: that year's records sent; what
    /// the reading finds was said by the first.
    Year(Option<i32>),
}

/// Sends a return's CSV tables, each in turn (headers first). A pooled return (a YEAR column)
/// is read once to say what it holds and learn its years, then once a year, oldest first, every
/// table's rows of a year before the next year's, as importing each year's folder in turn. The
/// LAs the records were filed under are returned.
async fn stream_tables(
    clients: &mut Clients903,
    tables: Vec<(Table, CsvText)>,
    la: Option<&str>,
    year: Option<i32>,
    report: &mut ImportSummary,
) -> anyhow::Result<BTreeSet<String>> {
    let tables: Vec<(Table, Arc<CsvText>)> = tables
        .into_iter()
        // Said in a note when recognised.
        .filter(|(t, _)| !matches!(t, Table::Unused(_)))
        .map(|(t, text)| (t, Arc::new(text)))
        .collect();
    let pooled = tables
        .iter()
        .any(|(_, text)| text.columns().is_ok_and(|c| c.iter().any(|c| c == "year")));
    let seen = Arc::new(Mutex::new(Seen::new(year)));
    let first = if pooled { Pass::Scan } else { Pass::All };
    for (t, text) in &tables {
        send_table(clients, *t, text.clone(), la, first, &seen, report).await?;
    }
    let (years, las) = {
        let seen = seen.lock().expect("not poisoned");
        (seen.years.clone(), seen.las.clone())
    };
    cover_years(&years, &las, year, report);
    if pooled {
        for y in years {
            for (t, text) in &tables {
                send_table(clients, *t, text.clone(), la, Pass::Year(y), &seen, report).await?;
            }
        }
    }
    Ok(las)
}

/// One pass over one table (`Pass`).
async fn send_table(
    clients: &mut Clients903,
    table: Table,
    text: Arc<CsvText>,
    la: Option<&str>,
    pass: Pass,
    seen: &Arc<Mutex<Seen>>,
    report: &mut ImportSummary,
) -> anyhow::Result<()> {
    use super::local::{Reading, stream_records_keeping as stream};
    let reading = match pass {
        Pass::All | Pass::Scan => Reading::Said,
        Pass::Year(_) => Reading::Unsaid,
    };
    let lac = &mut clients.placements;
    match table {
        Table::Header => {
            let keep = keeper(seen, pass, Seen::child);
            stream(lac, &HEADER, text, la, reading, report, keep).await
        }
        Table::Episodes => {
            let keep = keeper(seen, pass, Seen::episode);
            stream(lac, &EPISODES, text, la, reading, report, keep).await
        }
        Table::SwEpisodes => {
            let keep = keeper(seen, pass, |_, _, _, _| {});
            stream(lac, &SW_EPISODES, text, la, reading, report, keep).await
        }
        Table::Reviews => {
            let keep = keeper(seen, pass, |_, _, _, _| {});
            stream(lac, &REVIEWS, text, la, reading, report, keep).await
        }
        Table::Missing => {
            let keep = keeper(seen, pass, |_, _, _, _| {});
            let cp = clients.protection().await?;
            stream(cp, &super::local::MISSING, text, la, reading, report, keep).await
        }
        Table::Unused(_) => Ok(()),
    }
}

/// What a pass keeps of the records it reads: where the reading is said (`Pass::All`,
/// `Pass::Scan`), each record is checked (`check`) and its year and LA noted; `Pass::Scan`
/// sends none, `Pass::Year` only its year's.
fn keeper<P: super::Upload>(
    seen: &Arc<Mutex<Seen>>,
    pass: Pass,
    check: fn(&mut Seen, &P, &Origin, &mut ImportSummary),
) -> impl FnMut(&P, &Origin, &mut ImportSummary) -> bool + Send + 'static {
    let seen = seen.clone();
    move |p, o, read| match pass {
        Pass::All | Pass::Scan => {
            let mut seen = seen.lock().expect("not poisoned");
            check(&mut seen, p, o, read);
            seen.years.insert(o.year);
            if !seen.las.contains(p.la()) {
                seen.las.insert(p.la().to_owned());
            }
            matches!(pass, Pass::All)
        }
        Pass::Year(y) => o.year == y,
    }
}

/// What the reading of a return has seen: its years and LAs, and its children's dates of birth
/// for the plausibility checks, which warn and never refuse.
struct Seen {
    years: BTreeSet<Option<i32>>,
    las: BTreeSet<String>,
    births: HashMap<(String, String), NaiveDate>,
    /// The `--year` flag: the return year of records without a YEAR column.
    year: Option<i32>,
    today: NaiveDate,
}

impl Seen {
    fn new(year: Option<i32>) -> Self {
        Self {
            years: BTreeSet::new(),
            las: BTreeSet::new(),
            births: HashMap::new(),
            year,
            today: chrono::Local::now().date_naive(),
        }
    }

    /// A date of birth after today; the child's date of birth kept for its episodes.
    fn child(&mut self, c: &lpb::Child, o: &Origin, report: &mut ImportSummary) {
        if let Some(dob) = parse_date(&c.date_of_birth) {
            if dob > self.today {
                report.warn(
                    "plausibility",
                    &c.child_id,
                    o.location.clone(),
                    format!("date of birth {dob} is in the future"),
                );
            }
            self.births
                .insert((c.la_code.clone(), c.child_id.clone()), dob);
        }
    }

    /// An episode starting before its child was born (by a header read before it); a placement
    /// code outside the return year's list.
    fn episode(&mut self, e: &lpb::Episode, o: &Origin, report: &mut ImportSummary) {
        if let (Some(decom), Some(dob)) = (
            parse_date(&e.decom),
            self.births.get(&(e.la_code.clone(), e.child_id.clone())),
        ) && decom < *dob
        {
            report.warn(
                "plausibility",
                &e.child_id,
                o.location.clone(),
                format!("the episode starts {decom}, before the child's date of birth {dob}"),
            );
        }
        if let Some(y) = o.year.or(self.year)
            && codes::is_placement_type(&e.place)
            && !codes::placement_type_in_year(&e.place, y)
        {
            report.warn(
                "plausibility",
                &e.child_id,
                o.location.clone(),
                format!(
                    "placement code {} is not in the {} return's code list",
                    e.place,
                    codes::return_year_label(y)
                ),
            );
        }
    }
}

/// The days a return covers (its year(s), never past today), and a pooled return's years and
/// LAs said in a note.
fn cover_years(
    years: &BTreeSet<Option<i32>>,
    las: &BTreeSet<String>,
    year: Option<i32>,
    report: &mut ImportSummary,
) {
    let known: BTreeSet<i32> = years.iter().flatten().copied().chain(year).collect();
    if let (Some(first), Some(last)) = (known.first(), known.last()) {
        let mut c = super::record::FileCovers::years(*first, *last);
        c.to = c.to.min(Some(chrono::Local::now().date_naive()));
        report.covers = c;
    }
    if years.iter().any(Option::is_some) {
        let list: Vec<String> = years
            .iter()
            .map(|y| y.map_or("(no YEAR)".to_owned(), |y| y.to_string()))
            .collect();
        report.notes.push(format!(
            "pooled 903 return: years {} imported oldest first; LAs {}",
            list.join(", "),
            las.iter().cloned().collect::<Vec<_>>().join(", ")
        ));
    }
}

/// Checks, then sends, a return read whole (the XML export) year by year; the LAs it was filed
/// under.
async fn send_return(
    clients: &mut Clients903,
    mut read: Vec<(String, Records)>,
    year: Option<i32>,
    report: &mut ImportSummary,
) -> anyhow::Result<BTreeSet<String>> {
    plausibility(&read, year, report);
    let years: BTreeSet<Option<i32>> = read.iter().flat_map(|(_, r)| r.years()).collect();
    let las: BTreeSet<String> = read.iter().flat_map(|(_, r)| r.las()).collect();
    cover_years(&years, &las, year, report);
    for y in years {
        for (file, r) in &mut read {
            r.send_year(clients, file, y, report).await?;
        }
    }
    Ok(las)
}

/// A table file in a 903 folder (or given alone): read, checked and recognised; `None` (with a
/// refusal in the report) when it is not one to import, such as a table that names no LA when
/// `--la` (`la`) is not given either. A table no measure uses is said in a note here.
fn recognised(
    f: &Path,
    la: Option<&str>,
    report: &mut ImportSummary,
) -> anyhow::Result<Option<(Table, CsvText)>> {
    let text = match read_csv_file(f, report)? {
        Ok(t) => t,
        Err(why) => {
            report.refuse_file(f.display().to_string(), why);
            return Ok(None);
        }
    };
    let columns = match text.columns() {
        Ok(c) => c,
        Err(e) => {
            report.refuse_file(f.display().to_string(), format!("{e:#}"));
            return Ok(None);
        }
    };
    match recognise(&columns) {
        // Recognised (so the folder is a 903 return), said, and not read.
        Some(Table::Unused(name)) => {
            report.notes.push(format!(
                "{}: the 903 {name} table; no measure uses it, skipped",
                f.display()
            ));
            Ok(Some((Table::Unused(name), text)))
        }
        Some(_) if la.is_none() && !columns.iter().any(|c| c == "la" || c == "la_code") => {
            report.refuse_file(
                f.display().to_string(),
                "a 903 table does not name its LA: give --la CODE (or pool files with an LA column)",
            );
            Ok(None)
        }
        Some(t) => Ok(Some((t, text))),
        None => {
            report.refuse_file(
                f.display().to_string(),
                "not a 903 table this importer knows (episodes have CHILD and DECOM; the header SEX and DOB; reviews REVIEW; social worker episodes SW_ID; missing MIS_START)",
            );
            Ok(None)
        }
    }
}

/// Warnings, never refusals ([`Seen`]), over a return read whole: headers before episodes.
fn plausibility(read: &[(String, Records)], year: Option<i32>, report: &mut ImportSummary) {
    let mut seen = Seen::new(year);
    for (_, r) in read {
        if let Records::Header(m) = r {
            for (c, o) in m.values().flatten() {
                seen.child(c, o, report);
            }
        }
    }
    for (_, r) in read {
        if let Records::Episodes(m) = r {
            for (e, o) in m.values().flatten() {
                seen.episode(e, o, report);
            }
        }
    }
}

/// API field → 903 column (CSV) of an episode.
const EPISODE_COLUMNS: &[(&str, &str)] = &[
    ("child_id", "child"),
    ("decom", "decom"),
    ("rne", "rne"),
    ("legal_status", "ls"),
    ("cin", "cin"),
    ("place", "place"),
    ("place_provider", "place_provider"),
    ("dec", "dec"),
    ("rec", "rec"),
    ("reason_place_change", "reason_place_change"),
    ("home_post", "home_post"),
    ("pl_post", "pl_post"),
    ("urn", "urn"),
];

/// The records of one `<CHILD>` of the XML export.
pub(super) struct XmlChild {
    child: Option<(lpb::Child, Origin)>,
    episodes: Vec<(lpb::Episode, Origin)>,
    reviews: Vec<(lpb::Review, Origin)>,
    missing: Vec<(ppb::MissingEpisode, Origin)>,
}

pub(super) fn xml_child(
    la: &str,
    index: usize,
    node: &Node,
    report: &mut ImportSummary,
) -> XmlChild {
    let base = format!("EXPSSDA903/CHILD[{index}]");
    let mut out = XmlChild {
        child: None,
        episodes: vec![],
        reviews: vec![],
        missing: vec![],
    };
    let Some(header) = node.child("HEADER") else {
        report.reject(
            "children",
            "(none)",
            format!("{base}/HEADER"),
            "no HEADER: the child's records are skipped",
        );
        return out;
    };
    let hp = format!("{base}/HEADER");
    let child_id = header.text_of("CHILDID");
    if child_id.is_empty() {
        report.reject(
            "children",
            "(none)",
            format!("{hp}/CHILDID"),
            "CHILDID is missing: the child's records are skipped",
        );
        return out;
    }
    let origin = |loc: &str, fields: &[(&str, String)]| Origin {
        child_id: child_id.clone(),
        location: loc.to_owned(),
        fields: fields
            .iter()
            .map(|(f, p)| ((*f).to_owned(), p.clone()))
            .chain([("child_id".to_owned(), format!("{hp}/CHILDID"))])
            .collect(),
        year: None,
        sources_are_columns: false,
    };
    let sex_text = header.text_of("SEX");
    match sex(&sex_text) {
        Some(s) => {
            out.child = Some((
                lpb::Child {
                    la_code: la.to_owned(),
                    child_id: child_id.clone(),
                    sex: s as i32,
                    date_of_birth: date(
                        report,
                        &child_id,
                        &format!("{hp}/DOB"),
                        &header.text_of("DOB"),
                    ),
                    ethnicity: header.text_of("ETHNIC").to_ascii_uppercase(),
                    upn: header.text_of("UPN").to_ascii_uppercase(),
                },
                origin(
                    &hp,
                    &[
                        ("date_of_birth", format!("{hp}/DOB")),
                        ("ethnicity", format!("{hp}/ETHNIC")),
                        ("upn", format!("{hp}/UPN")),
                    ],
                ),
            ))
        }
        None => report.reject(
            "children",
            &child_id,
            format!("{hp}/SEX"),
            format!("{sex_text:?} is not 1, 2, M, F or U"),
        ),
    }
    for (i, r) in header.all("AREVIEW") {
        let rp = format!("{hp}/AREVIEW[{i}]");
        out.reviews.push((
            lpb::Review {
                la_code: la.to_owned(),
                child_id: child_id.clone(),
                review_date: date(
                    report,
                    &child_id,
                    &format!("{rp}/REVIEW"),
                    &r.text_of("REVIEW"),
                ),
                review_code: r.text_of("REVIEW_CODE").to_ascii_uppercase(),
            },
            origin(
                &rp,
                &[
                    ("review_date", format!("{rp}/REVIEW")),
                    ("review_code", format!("{rp}/REVIEW_CODE")),
                ],
            ),
        ));
    }
    for (i, m) in header.all("AMISSING") {
        let mp = format!("{hp}/AMISSING[{i}]");
        let kind = match m.text_of("MISSING").to_ascii_uppercase().as_str() {
            "M" => ppb::AbsenceKind::Missing as i32,
            "A" => ppb::AbsenceKind::Away as i32,
            _ => 0,
        };
        out.missing.push((
            ppb::MissingEpisode {
                la_code: la.to_owned(),
                child_id: child_id.clone(),
                start_date: date(
                    report,
                    &child_id,
                    &format!("{mp}/MIS_START"),
                    &m.text_of("MIS_START"),
                ),
                kind,
                absent_from: ppb::AbsentFrom::Care as i32,
                end_date: date(
                    report,
                    &child_id,
                    &format!("{mp}/MIS_END"),
                    &m.text_of("MIS_END"),
                ),
                ..Default::default()
            },
            origin(
                &mp,
                &[
                    ("kind", format!("{mp}/MISSING")),
                    ("start_date", format!("{mp}/MIS_START")),
                    ("end_date", format!("{mp}/MIS_END")),
                ],
            ),
        ));
    }
    for (i, e) in node.all("EPISODE") {
        let ep = format!("{base}/EPISODE[{i}]");
        let el = |name: &str| e.text_of(name);
        let fields: Vec<(&str, String)> = EPISODE_COLUMNS
            .iter()
            .filter(|(f, _)| *f != "child_id")
            .map(|(f, c)| {
                let element = if *c == "place" {
                    "PL".to_owned()
                } else {
                    c.to_ascii_uppercase()
                };
                (*f, format!("{ep}/{element}"))
            })
            .collect();
        out.episodes.push((
            lpb::Episode {
                la_code: la.to_owned(),
                child_id: child_id.clone(),
                decom: date(report, &child_id, &format!("{ep}/DECOM"), &el("DECOM")),
                rne: el("RNE").to_ascii_uppercase(),
                legal_status: el("LS").to_ascii_uppercase(),
                cin: el("CIN").to_ascii_uppercase(),
                place: el("PL").to_ascii_uppercase(),
                place_provider: el("PLACE_PROVIDER").to_ascii_uppercase(),
                dec: date(report, &child_id, &format!("{ep}/DEC"), &el("DEC")),
                rec: el("REC").to_ascii_uppercase(),
                reason_place_change: el("REASON_PLACE_CHANGE").to_ascii_uppercase(),
                home_post: el("HOME_POST"),
                pl_post: el("PL_POST"),
                urn: el("URN"),
            },
            origin(&ep, &fields),
        ));
    }
    out
}

async fn import_xml(
    clients: &mut Clients903,
    path: &Path,
    la: Option<&str>,
    year: Option<i32>,
    report: &mut ImportSummary,
) -> anyhow::Result<BTreeSet<String>> {
    let file = path.display().to_string();
    let Some(la) = la else {
        report.refuse_file(
            &file,
            "a 903 XML export does not name its LA: give --la CODE",
        );
        return Ok(BTreeSet::new());
    };
    // The export is read whole into children first (a 903 is tens of megabytes at most), so
    // that a file cut short is refused before anything is sent; then headers, episodes, reviews
    // and missing episodes are sent.
    let mut children: Vec<(usize, Node)> = Vec::new();
    let mut stray = Vec::new();
    let charset = match read_records(path, "EXPSSDA903", "CHILD", |item, _| {
        match item {
            Item::Child(i, n) => children.push((i, n)),
            Item::Stray { path, text } => stray.push((path, text)),
            Item::Header(_) => {}
        }
        Ok(())
    }) {
        Ok(c) => c,
        Err(e) => {
            report.refuse_file(&file, format!("{e:#}"));
            return Ok(BTreeSet::new());
        }
    };
    if let Some(w) = charset.warning(&file) {
        report.warn("file", "-", &file, w);
    }
    let (mut headers, mut episodes, mut reviews, mut missing) = (vec![], vec![], vec![], vec![]);
    let n = children.len();
    for (i, node) in children {
        let recs = xml_child(la, i, &node, report);
        let child_id = node
            .child("HEADER")
            .map(|h| h.text_of("CHILDID"))
            .unwrap_or_default();
        for (path, text) in &node.stray {
            report.warn_stray("child", &child_id, path, text);
        }
        headers.extend(recs.child);
        episodes.extend(recs.episodes);
        reviews.extend(recs.reviews);
        missing.extend(recs.missing);
    }
    for (p, text) in stray {
        report.warn_stray("file", "-", &p, &text);
    }
    report.finish_dates(&file, true);
    report.notes.push(format!("{file}: {n} children read"));
    let read = vec![
        (file.clone(), Records::Header(by_year(headers))),
        (file.clone(), Records::Episodes(by_year(episodes))),
        (file.clone(), Records::Reviews(by_year(reviews))),
        (file, Records::Missing(by_year(missing))),
    ];
    send_return(clients, read, year, report).await
}

/// Adds the LA's care-history warnings (gaps, overlaps, periods of care not starting with RNE S)
/// to the report: once, after every return of an import has landed.
pub async fn history_warnings(
    client: &mut PlacementsClient,
    la: &str,
    report: &mut ImportSummary,
) -> anyhow::Result<()> {
    let mut token = String::new();
    let mut before_data = 0usize;
    loop {
        let page = client
            .list_history_warnings(ListRequest {
                la_code: la.to_owned(),
                child_id: String::new(),
                page_size: 1000,
                page_token: token,
            })
            .await
            .map_err(crate::client::describe_status)?
            .into_inner();
        for w in page.warnings {
            if w.kind == "starts_mid_period" {
                before_data += 1;
            } else {
                report.warn("care history", &w.child_id, w.date, w.message);
            }
        }
        if page.next_page_token.is_empty() {
            if before_data > 0 {
                report.notes.push(format!(
                    "{before_data} children's earliest episode held is not RNE S: they were looked after before the returns imported, and their periods of care are taken to start at that episode (import earlier returns, oldest first, for their true start; `ListHistoryWarnings` lists them)"
                ));
            }
            return Ok(());
        }
        token = page.next_page_token;
    }
}

pub(super) const HEADER: Format<lpb::Child> = Format {
    required: &["child", "sex", "dob"],
    optional: &["ethnic", "upn"],
    ignored: &["mother", "mc_dob"],
    aliases: &[],
    row: child_header_row,
};

fn child_header_row(row: &mut Row<'_>, la: Option<&str>) -> (lpb::Child, Origin) {
    let child_id = row.get("child").to_owned();
    let s = row.get("sex").to_owned();
    let sex = match sex(&s) {
        Some(x) => x as i32,
        None => {
            row.fail("sex", format!("{s:?} is not 1, 2, M, F or U"));
            0
        }
    };
    let c = lpb::Child {
        la_code: row.la(la),
        child_id: child_id.clone(),
        sex,
        date_of_birth: row.date("dob", true),
        ethnicity: upper(row, "ethnic"),
        upn: upper(row, "upn"),
    };
    let o = row.origin(
        &child_id,
        &[
            ("child_id", "child"),
            ("sex", "sex"),
            ("date_of_birth", "dob"),
            ("ethnicity", "ethnic"),
            ("upn", "upn"),
        ],
    );
    (c, o)
}

pub(super) const EPISODES: Format<lpb::Episode> = Format {
    required: &[
        "child",
        "decom",
        "rne",
        "ls",
        "place",
        "place_provider",
        "dec",
        "rec",
    ],
    optional: &["cin", "reason_place_change", "home_post", "pl_post", "urn"],
    ignored: &[],
    aliases: &[],
    row: episode_row,
};

fn episode_row(row: &mut Row<'_>, la: Option<&str>) -> (lpb::Episode, Origin) {
    let child_id = row.get("child").to_owned();
    let e = lpb::Episode {
        la_code: row.la(la),
        child_id: child_id.clone(),
        decom: row.date("decom", true),
        rne: upper(row, "rne"),
        legal_status: upper(row, "ls"),
        cin: upper(row, "cin"),
        place: upper(row, "place"),
        place_provider: upper(row, "place_provider"),
        dec: row.date("dec", false),
        rec: upper(row, "rec"),
        reason_place_change: upper(row, "reason_place_change"),
        home_post: row.get("home_post").to_owned(),
        pl_post: row.get("pl_post").to_owned(),
        urn: row.get("urn").to_owned(),
    };
    let o = row.origin(&child_id, EPISODE_COLUMNS);
    (e, o)
}

pub(super) const SW_EPISODES: Format<lpb::SocialWorkerAllocation> = Format {
    required: &["child", "sw_id", "sw_decom"],
    optional: &["sw_dec", "sw_reason"],
    ignored: &["dob"],
    aliases: &[],
    row: sw_row,
};

fn sw_row(row: &mut Row<'_>, la: Option<&str>) -> (lpb::SocialWorkerAllocation, Origin) {
    let child_id = row.get("child").to_owned();
    let a = lpb::SocialWorkerAllocation {
        la_code: row.la(la),
        child_id: child_id.clone(),
        sw_id: row.get("sw_id").to_owned(),
        start_date: row.date("sw_decom", true),
        end_date: row.date("sw_dec", false),
        reason: upper(row, "sw_reason"),
    };
    let o = row.origin(
        &child_id,
        &[
            ("child_id", "child"),
            ("sw_id", "sw_id"),
            ("start_date", "sw_decom"),
            ("end_date", "sw_dec"),
            ("reason", "sw_reason"),
        ],
    );
    (a, o)
}

pub(super) const REVIEWS: Format<lpb::Review> = Format {
    required: &["child", "review"],
    optional: &["review_code"],
    ignored: &["dob"],
    aliases: &[],
    row: review_row,
};

fn review_row(row: &mut Row<'_>, la: Option<&str>) -> (lpb::Review, Origin) {
    let child_id = row.get("child").to_owned();
    let r = lpb::Review {
        la_code: row.la(la),
        child_id: child_id.clone(),
        review_date: row.date("review", true),
        review_code: upper(row, "review_code"),
    };
    let o = row.origin(
        &child_id,
        &[
            ("child_id", "child"),
            ("review_date", "review"),
            ("review_code", "review_code"),
        ],
    );
    (r, o)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cols(s: &str) -> Vec<String> {
        s.split(',').map(|c| c.to_ascii_lowercase()).collect()
    }

    #[test]
    fn tables_are_recognised_by_their_columns() {
        for (columns, table) in [
            ("CHILD,SEX,DOB,ETHNIC,UPN,MOTHER,MC_DOB", Table::Header),
            (
                "CHILD,DECOM,RNE,LS,CIN,PLACE,PLACE_PROVIDER,DEC,REC",
                Table::Episodes,
            ),
            (
                "CHILD,DOB,SW_ID,SW_DECOM,SW_DEC,SW_REASON",
                Table::SwEpisodes,
            ),
            ("CHILD,DOB,REVIEW,REVIEW_CODE", Table::Reviews),
            ("CHILD,DOB,MISSING,MIS_START,MIS_END", Table::Missing),
            ("CHILD,SEX,DOB,DUC", Table::Unused("UASC")),
        ] {
            assert_eq!(recognise(&cols(columns)), Some(table), "{columns}");
        }
        assert_eq!(recognise(&cols("A,B,C")), None);
    }

    #[test]
    fn sex_as_the_return_or_letters() {
        assert_eq!(sex("1"), Some(lpb::Sex::Male));
        assert_eq!(sex("f"), Some(lpb::Sex::Female));
        assert_eq!(sex("U"), Some(lpb::Sex::Unknown));
        assert_eq!(sex("3"), None);
    }
}
