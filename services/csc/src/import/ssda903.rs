//! SSDA903 returns: a folder of the CSV tables, a single table, or the XML export. Children,
//! episodes, social worker episodes and reviews go to the looked-after children service; missing
//! episodes to child protection. Tables no measure uses are recognised and skipped with a note.
//!
//! Tables are recognised by their columns, not their file names (councils' exports name files
//! every which way). What real files contain is tolerated: a UTF-8 BOM, CRLF, blank trailing
//! columns, dd/mm/yyyy dates, sex as 1/2 or M/F/U, the placement codes of every year 2017–2027.
//! Several years' returns imported in turn (oldest first) build one history: an episode is keyed
//! by child and DECOM, and a later return that restates it replaces it.

use std::path::{Path, PathBuf};

use csc_core::LaCode;
use csc_proto::{common::ListRequest, placements as lpb, protection as ppb};

use super::cin::{Item, Node, date, read_records};
use super::local::{Format, Row, check_la_flag, header_row, import_format};
use super::{Origin, PlacementsClient, ProtectionClient, Report, Uploader};
use crate::ClientAddrs;

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

/// Which table a CSV file is, from its header row (lower-cased column names).
pub fn recognise(columns: &[String]) -> Option<Table> {
    let has = |c: &str| columns.iter().any(|x| x == c);
    Some(if has("decom") && has("rne") {
        Table::Episodes
    } else if has("sw_id") {
        Table::SwEpisodes
    } else if has("review") && has("review_code") {
        Table::Reviews
    } else if has("mis_start") {
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
    } else if has("sex") && has("dob") {
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
            placements: super::connect_placements(&addrs.placements).await?,
            protection: None,
            protection_addr: addrs.protection.clone(),
        })
    }

    async fn protection(&mut self) -> anyhow::Result<&mut ProtectionClient> {
        if self.protection.is_none() {
            self.protection = Some(super::connect_protection(&self.protection_addr).await?);
        }
        Ok(self.protection.as_mut().expect("connected"))
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

/// Imports a 903 return: a folder of CSV tables, one CSV table, or an XML file.
pub async fn import(
    clients: &mut Clients903,
    path: &Path,
    la: &str,
    year: Option<i32>,
    report: &mut Report,
) -> anyhow::Result<()> {
    check_la_flag(Some(la))?;
    if let Some(y) = year {
        report
            .notes
            .push(format!("{}: SSDA903 return {y}", path.display()));
    }
    if path.is_dir() {
        let mut tables: Vec<(Table, PathBuf)> = Vec::new();
        let mut files: Vec<PathBuf> = std::fs::read_dir(path)
            .map_err(|e| anyhow::anyhow!("reading {}: {e}", path.display()))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.is_file())
            .collect();
        files.sort();
        for f in files {
            let is_csv = f.extension().is_some_and(|e| e.eq_ignore_ascii_case("csv"));
            if !is_csv {
                report
                    .notes
                    .push(format!("{}: not a CSV file; skipped", f.display()));
                continue;
            }
            match recognise(&csv_columns(&f)?) {
                Some(t) => tables.push((t, f)),
                None => report.notes.push(format!(
                    "{}: not a 903 table this importer knows (no CHILD with DECOM/RNE, SEX/DOB, REVIEW, SW_ID or MIS_START columns); skipped",
                    f.display()
                )),
            }
        }
        // Headers before episodes, so that a child's header lands with or before its history.
        tables.sort();
        for (t, f) in tables {
            import_table(clients, t, &f, la, report).await?;
        }
    } else if path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("xml"))
    {
        import_xml(clients, path, la, report).await?;
    } else {
        let t = recognise(&csv_columns(path)?).ok_or_else(|| {
            anyhow::anyhow!("{}: not a 903 table this importer knows", path.display())
        })?;
        import_table(clients, t, path, la, report).await?;
    }
    Ok(())
}

/// A CSV file's column names, lower-cased, BOM and spaces trimmed.
fn csv_columns(path: &Path) -> anyhow::Result<Vec<String>> {
    let file = std::fs::File::open(path)
        .map_err(|e| anyhow::anyhow!("reading {}: {e}", path.display()))?;
    let written = header_row(&path.display().to_string(), std::io::BufReader::new(file))?;
    Ok(written.iter().map(|h| h.to_ascii_lowercase()).collect())
}

async fn import_table(
    clients: &mut Clients903,
    table: Table,
    path: &Path,
    la: &str,
    report: &mut Report,
) -> anyhow::Result<()> {
    let la = Some(la);
    match table {
        Table::Header => import_format(&mut clients.placements, &HEADER, path, la, report).await,
        Table::Episodes => {
            import_format(&mut clients.placements, &EPISODES, path, la, report).await
        }
        Table::SwEpisodes => {
            import_format(&mut clients.placements, &SW_EPISODES, path, la, report).await
        }
        Table::Reviews => import_format(&mut clients.placements, &REVIEWS, path, la, report).await,
        Table::Missing => {
            let client = clients.protection().await?;
            super::local::import_missing(client, path, la, report).await
        }
        Table::Unused(name) => {
            report.notes.push(format!(
                "{}: the 903 {name} table; no measure uses it, skipped",
                path.display()
            ));
            Ok(())
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

pub(super) fn xml_child(la: &str, index: usize, node: &Node, report: &mut Report) -> XmlChild {
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
    };
    let sex_text = header.text_of("SEX");
    match sex(&sex_text) {
        Some(s) => {
            out.child = Some((
                lpb::Child {
                    la_code: la.to_owned(),
                    child_id: child_id.clone(),
                    sex: s as i32,
                    date_of_birth: date(&header.text_of("DOB")),
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
                review_date: date(&r.text_of("REVIEW")),
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
                start_date: date(&m.text_of("MIS_START")),
                kind,
                absent_from: ppb::AbsentFrom::Care as i32,
                end_date: date(&m.text_of("MIS_END")),
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
                decom: date(&el("DECOM")),
                rne: el("RNE").to_ascii_uppercase(),
                legal_status: el("LS").to_ascii_uppercase(),
                cin: el("CIN").to_ascii_uppercase(),
                place: el("PL").to_ascii_uppercase(),
                place_provider: el("PLACE_PROVIDER").to_ascii_uppercase(),
                dec: date(&el("DEC")),
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
    la: &str,
    report: &mut Report,
) -> anyhow::Result<()> {
    // The export is read whole into children first (a 903 is tens of megabytes at most), then
    // sent: headers, episodes, reviews, then missing episodes.
    let mut children: Vec<(usize, Node)> = Vec::new();
    let mut stray = Vec::new();
    read_records(path, "EXPSSDA903", "CHILD", |item, _| {
        match item {
            Item::Child(i, n) => children.push((i, n)),
            Item::Stray { path, text } => stray.push((path, text)),
            Item::Header(_) => {}
        }
        Ok(())
    })?;
    let mut headers = Uploader::<lpb::Child>::default();
    let mut episodes = Uploader::<lpb::Episode>::default();
    let mut reviews = Uploader::<lpb::Review>::default();
    let mut missing = Vec::new();
    let n = children.len();
    // Drawn on a terminal only.
    let bar = indicatif::ProgressBar::new(n as u64);
    bar.set_style(
        indicatif::ProgressStyle::with_template("{msg} [{bar:40}] {pos}/{len} children {eta}")
            .expect("valid template"),
    );
    bar.set_message(path.display().to_string());
    for (i, node) in children {
        bar.inc(1);
        let recs = xml_child(la, i, &node, report);
        let child_id = node
            .child("HEADER")
            .map(|h| h.text_of("CHILDID"))
            .unwrap_or_default();
        for (path, text) in &node.stray {
            report.warn_stray("child", &child_id, path, text);
        }
        if let Some((c, o)) = recs.child {
            headers.push(&mut clients.placements, report, c, o).await?;
        }
        for (e, o) in recs.episodes {
            episodes.push(&mut clients.placements, report, e, o).await?;
        }
        for (r, o) in recs.reviews {
            reviews.push(&mut clients.placements, report, r, o).await?;
        }
        missing.extend(recs.missing);
    }
    bar.finish_and_clear();
    headers.flush(&mut clients.placements, report).await?;
    episodes.flush(&mut clients.placements, report).await?;
    reviews.flush(&mut clients.placements, report).await?;
    if !missing.is_empty() {
        let client = clients.protection().await?;
        let mut up = Uploader::<ppb::MissingEpisode>::default();
        for (m, o) in missing {
            up.push(client, report, m, o).await?;
        }
        up.flush(client, report).await?;
    }
    for (p, text) in stray {
        report.warn_stray("file", "-", &p, &text);
    }
    report
        .notes
        .push(format!("{}: {n} children read", path.display()));
    Ok(())
}

/// Adds the LA's care-history warnings (gaps, overlaps, periods of care not starting with RNE S)
/// to the report: once, after every return of an import has landed.
pub async fn history_warnings(
    client: &mut PlacementsClient,
    la: &str,
    report: &mut Report,
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
            .map_err(super::describe_status)?
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

/// The LA for a 903 import: the flag (a 903 does not name its LA).
pub fn la_flag(la: Option<&str>) -> anyhow::Result<String> {
    let la =
        la.ok_or_else(|| anyhow::anyhow!("a 903 return does not name its LA: give --la CODE"))?;
    Ok(LaCode::parse(la)
        .map_err(|e| anyhow::anyhow!("--la: {e}"))?
        .to_string())
}

pub(super) const HEADER: Format<lpb::Child> = Format {
    required: &["child", "sex", "dob"],
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
    required: &["child", "decom", "rne", "ls", "place"],
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
        assert_eq!(
            recognise(&cols("CHILD,SEX,DOB,ETHNIC,UPN,MOTHER,MC_DOB")),
            Some(Table::Header)
        );
        assert_eq!(
            recognise(&cols("CHILD,DECOM,RNE,LS,CIN,PLACE,PLACE_PROVIDER,DEC,REC")),
            Some(Table::Episodes)
        );
        assert_eq!(
            recognise(&cols("CHILD,DOB,SW_ID,SW_DECOM,SW_DEC,SW_REASON")),
            Some(Table::SwEpisodes)
        );
        assert_eq!(
            recognise(&cols("CHILD,DOB,REVIEW,REVIEW_CODE")),
            Some(Table::Reviews)
        );
        assert_eq!(
            recognise(&cols("CHILD,DOB,MISSING,MIS_START,MIS_END")),
            Some(Table::Missing)
        );
        assert_eq!(
            recognise(&cols("CHILD,SEX,DOB,DUC")),
            Some(Table::Unused("UASC"))
        );
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
