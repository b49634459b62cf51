//! CIN census XML (DfE layouts 2017-2026) to front-door and child-protection records, in one
//! pass: referrals, assessments, S47 enquiries and ICPCs go to the front door; CIN plans and CP
//! plans with their reviews to child protection.
//!
//! The file is read as a stream, one `<Child>` at a time, so a census of any size needs little
//! memory. Element names are matched without namespaces; modules no service uses yet
//! (characteristics, disabilities) are skipped. Each record keeps the element path it came from,
//! so that a refused value is named exactly:
//! `Message/Children/Child[2]/CINdetails[1]/Assessments[1]/AssessmentAuthorisationDate`.

use std::{fs::File, io::BufReader, path::Path};

use chrono::NaiveDate;

use csc_core::{LaCode, codes, parse_date};
use csc_proto::{frontdoor as pb, protection as ppb};
use quick_xml::{Reader, events::Event};

use super::dates::{is_not_midnight, read_date};
use super::input::{self, Charset, MAX_XML_DEPTH, MAX_XML_RUN_BYTES, quote};
use super::{CinClients, ImportSummary, Origin, Uploader};

/// An element of one child's subtree.
#[derive(Debug, Default)]
pub struct Node {
    pub name: String,
    pub text: String,
    pub children: Vec<Node>,
    /// On a `<Child>`: text found beside elements anywhere inside it, with its element path.
    pub stray: Vec<(String, String)>,
}

impl Node {
    pub fn child(&self, name: &str) -> Option<&Node> {
        self.children.iter().find(|c| c.name == name)
    }

    /// Children named `name`, with their 1-based position among them (for element paths).
    pub fn all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = (usize, &'a Node)> + 'a {
        self.children
            .iter()
            .filter(move |c| c.name == name)
            .enumerate()
            .map(|(i, c)| (i + 1, c))
    }

    pub fn text_of(&self, name: &str) -> String {
        self.child(name)
            .map(|c| c.text.trim().to_owned())
            .unwrap_or_default()
    }
}

/// The header fields the importer needs.
#[derive(Debug, Default)]
pub struct Header {
    pub lea: Option<String>,
    pub year: Option<String>,
    pub reference_date: Option<String>,
    /// When the file was made (`Source/DateTime`).
    pub made: Option<String>,
}

impl Header {
    /// The days the census covers: its year from 1 April, to its reference date, but never past
    /// the day the file was made or today (an in-year extract holds nothing later).
    pub fn covers(&self, today: NaiveDate) -> super::record::FileCovers {
        let year = self
            .year
            .as_deref()
            .and_then(|y| y.trim().parse::<i32>().ok());
        let Some(y) = year else {
            return Default::default();
        };
        let mut c = super::record::FileCovers::years(y, y);
        if let Some(r) = self.reference_date.as_deref().and_then(parse_date) {
            c.to = Some(r);
        }
        let made = self
            .made
            .as_deref()
            .and_then(|m| parse_date(m.get(..10).unwrap_or(m)));
        c.to = [c.to, made, Some(today)].into_iter().flatten().min();
        if let (Some(f), Some(t)) = (c.from, c.to)
            && t < f
        {
            c.from = Some(t);
        }
        c
    }
}

/// Everything read from one file: header, then each child with its position in the file.
pub enum Item {
    Header(Header),
    Child(usize, Node),
    /// Text outside any leaf element (a stray word between elements), with the element path.
    Stray {
        path: String,
        text: String,
    },
}

fn resolve_entity(name: &[u8]) -> Option<&'static str> {
    Some(match name {
        b"amp" => "&",
        b"lt" => "<",
        b"gt" => ">",
        b"quot" => "\"",
        b"apos" => "'",
        _ => return None,
    })
}

/// Streams a CIN census file, calling `on_item` for the header and for each child; the file's
/// encoding.
#[cfg(test)]
pub fn read(
    path: &Path,
    on_item: impl FnMut(Item, u64) -> anyhow::Result<()>,
) -> anyhow::Result<Charset> {
    read_records(path, "Children", "Child", on_item)
}

/// As [`read`], in an encoding already found (the import's second pass, or a header read).
fn read_as(
    path: &Path,
    charset: Charset,
    on_item: impl FnMut(Item, u64) -> anyhow::Result<()>,
) -> anyhow::Result<Charset> {
    read_records_as(path, Some(charset), "Children", "Child", on_item)
}

/// Streams an XML file of records, calling `on_item` for each `element` directly under a
/// `parent` (as [`Item::Child`], with its 1-based position), for a CIN census `Header`, and for
/// stray text. The 903 XML is read with this too (`EXPSSDA903`, `CHILD`). The file's encoding is
/// found first (UTF-8, UTF-16 by its BOM, else Windows-1252) and returned; a workbook or archive
/// is named and refused.
pub fn read_records(
    path: &Path,
    parent: &str,
    element: &str,
    on_item: impl FnMut(Item, u64) -> anyhow::Result<()>,
) -> anyhow::Result<Charset> {
    read_records_as(path, None, parent, element, on_item)
}

/// As [`read_records`]; `charset` skips the pass that finds the encoding when it is known.
fn read_records_as(
    path: &Path,
    charset: Option<Charset>,
    parent: &str,
    element: &str,
    on_item: impl FnMut(Item, u64) -> anyhow::Result<()>,
) -> anyhow::Result<Charset> {
    let (name, text, charset) = open_xml(path, charset)?;
    read_records_from(text, &name, parent, element, on_item)?;
    Ok(charset)
}

/// An XML file opened for reading as UTF-8: its name, the text, and its encoding (found first
/// unless `charset` gives it: UTF-8, UTF-16 by its BOM, else Windows-1252). A workbook, an archive
/// or another binary is named and refused.
fn open_xml(
    path: &Path,
    charset: Option<Charset>,
) -> anyhow::Result<(String, impl std::io::BufRead, Charset)> {
    let name = path.display().to_string();
    let open = || File::open(path).map_err(|e| anyhow::anyhow!("opening {name}: {e}"));
    let mut head = Vec::with_capacity(4096);
    std::io::Read::read_to_end(&mut std::io::Read::take(open()?, 4096), &mut head)?;
    if let Some(m) = input::not_text(&name, &head, "an XML file") {
        anyhow::bail!(m);
    }
    let charset = match charset {
        Some(c) => c,
        None => input::detect_charset(open()?)?,
    };
    let text = BufReader::new(input::utf8_reader(open()?, charset));
    Ok((name, text, charset))
}

/// As [`read_records`], from any reader (the fuzz targets hand it bytes); `name` names it in
/// errors. The file must be whole (its root element closed), nest no deeper than
/// [`MAX_XML_DEPTH`], and hold no run of text or markup over [`MAX_XML_RUN_BYTES`].
pub fn read_records_from(
    input: impl std::io::BufRead,
    name: &str,
    parent: &str,
    element: &str,
    mut on_item: impl FnMut(Item, u64) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    let file_name = name;
    let mut reader = Reader::from_reader(BufReader::new(input::BoundedRuns::new(input)));
    let mut root: Option<String> = None;
    reader.config_mut().trim_text(true);
    let mut buf = Vec::new();
    // Open elements, outermost first. Children of <Children> and the <Header> are handed over
    // when they close instead of being kept, so memory stays at one child.
    let mut stack: Vec<Node> = Vec::new();
    let mut child_count = 0usize;
    // Element path with the child's position: Message/Children/Child[3]/ChildIdentifiers.
    let path_of = |stack: &[Node], last: &str, child: usize| {
        let names = stack
            .iter()
            .map(|n| n.name.as_str())
            .chain([last])
            .collect::<Vec<_>>();
        names
            .iter()
            .enumerate()
            .map(|(i, n)| {
                if *n == element && i > 0 && names[i - 1] == parent {
                    format!("Child[{child}]")
                } else {
                    (*n).to_owned()
                }
            })
            .collect::<Vec<_>>()
            .join("/")
    };
    loop {
        let pos = reader.buffer_position();
        let event = reader.read_event_into(&mut buf).map_err(|e| {
            anyhow::anyhow!(
                "{}: malformed XML at byte {}: {e}; nothing was imported",
                name,
                reader.error_position()
            )
        })?;
        match event {
            Event::Start(e) => {
                let name = String::from_utf8_lossy(e.local_name().as_ref()).into_owned();
                if stack.len() >= MAX_XML_DEPTH {
                    anyhow::bail!(
                        "{file}: elements nest deeper than {MAX_XML_DEPTH} at byte {pos}: not a file this importer reads (the limit is in docs/formats.md); nothing was imported",
                        file = file_name,
                    );
                }
                if stack.is_empty() {
                    root.get_or_insert_with(|| name.clone());
                }
                if name == element && stack.last().is_some_and(|n| n.name == parent) {
                    child_count += 1;
                }
                stack.push(Node {
                    name,
                    ..Default::default()
                });
            }
            Event::Empty(e) => {
                let name = String::from_utf8_lossy(e.local_name().as_ref()).into_owned();
                if let Some(top) = stack.last_mut() {
                    top.children.push(Node {
                        name,
                        ..Default::default()
                    });
                }
            }
            Event::Text(t) => {
                if let Some(top) = stack.last_mut() {
                    top.text.push_str(
                        &t.decode()
                            .map_err(|e| anyhow::anyhow!("{name}: bad text at byte {pos}: {e}"))?,
                    );
                    if top.text.len() > MAX_XML_RUN_BYTES {
                        anyhow::bail!(
                            "{name}: the text of <{}> is longer than {MAX_XML_RUN_BYTES} bytes (the limit is in docs/formats.md); nothing was imported",
                            top.name
                        );
                    }
                }
            }
            Event::CData(t) => {
                if let Some(top) = stack.last_mut() {
                    top.text.push_str(&String::from_utf8_lossy(&t));
                }
            }
            Event::GeneralRef(r) => {
                if let Some(top) = stack.last_mut() {
                    if let Some(s) = resolve_entity(r.as_ref()) {
                        top.text.push_str(s);
                    } else if let Ok(Some(c)) = r.resolve_char_ref() {
                        top.text.push(c);
                    }
                }
            }
            Event::End(_) => {
                let Some(node) = stack.pop() else { continue };
                // Text beside child elements is not a value: report it, it may be a shifted value.
                let mut node = node;
                if !node.children.is_empty() && !node.text.trim().is_empty() {
                    let path = path_of(&stack, &node.name, child_count);
                    let text = node.text.trim().to_owned();
                    // Inside a child, the warning goes with the child's records (and its id).
                    let child = if node.name == element {
                        Some(&mut node)
                    } else {
                        stack.iter_mut().rev().find(|n| n.name == element)
                    };
                    match child {
                        Some(c) => c.stray.push((path, text)),
                        None => on_item(Item::Stray { path, text }, pos)?,
                    }
                }
                let parent_name = stack.last().map(|n| n.name.as_str());
                if node.name == element && parent_name == Some(parent) {
                    on_item(Item::Child(child_count, node), pos)?;
                } else if node.name == "Header" {
                    on_item(Item::Header(header_of(&node)), pos)?;
                } else if let Some(top) = stack.last_mut() {
                    top.children.push(node);
                }
            }
            Event::Eof => {
                if let Some(open) = stack.first() {
                    anyhow::bail!(
                        "{name}: the file ends before </{}>: it was cut short; nothing was imported",
                        open.name
                    );
                }
                if root.is_none() {
                    anyhow::bail!("{name}: no XML element in the file; nothing was imported");
                }
                break;
            }
            _ => {}
        }
        buf.clear();
    }
    Ok(())
}

/// A date element's text as ISO, read in any of the forms real exports write (docs/formats.md);
/// anything that is no date is sent as written, so that the service names it, quoting the file's
/// own text. A time of day is noted (midnight, once per file) or warned about (any other time).
pub(super) fn date(report: &mut ImportSummary, child_id: &str, at: &str, text: &str) -> String {
    let t = text.trim();
    if t.is_empty() {
        return String::new();
    }
    match read_date(t) {
        Some(d) => {
            report.dates.note(&d, at, t);
            if is_not_midnight(&d) {
                report.warn(
                    "dates",
                    child_id,
                    at,
                    format!(
                        "{} has a time of day on an xs:date element: the date {} is kept, the time is not",
                        quote(t),
                        d.date
                    ),
                );
            }
            d.date.to_string()
        }
        None => t.to_owned(),
    }
}

/// The records of one child, each with its origin. Problems the importer itself finds
/// (no child id, an unreadable yes/no) are reported here.
pub struct ChildRecords {
    pub referrals: Vec<(pb::Referral, Origin)>,
    pub assessments: Vec<(pb::Assessment, Origin)>,
    pub s47s: Vec<(pb::Section47Enquiry, Origin)>,
    pub icpcs: Vec<(pb::Icpc, Origin)>,
    pub cin_plans: Vec<(ppb::CinPlan, Origin)>,
    pub cp_plans: Vec<(ppb::CpPlan, Origin)>,
}

/// `year` is the census `Year`, when the header gives it: codes outside that year's lists are
/// warned about (docs/formats.md).
pub fn child_records(
    la: &str,
    year: Option<i32>,
    index: usize,
    child: &Node,
    report: &mut ImportSummary,
) -> ChildRecords {
    let mut out = ChildRecords {
        referrals: vec![],
        assessments: vec![],
        s47s: vec![],
        icpcs: vec![],
        cin_plans: vec![],
        cp_plans: vec![],
    };
    let base = format!("Message/Children/Child[{index}]");
    let child_id = child
        .child("ChildIdentifiers")
        .map(|c| c.text_of("LAchildID"))
        .unwrap_or_default();
    let id_path = format!("{base}/ChildIdentifiers/LAchildID");
    if child_id.is_empty() {
        let episodes = child.all("CINdetails").count();
        report.reject(
            "referrals",
            "(none)",
            id_path,
            format!("LAchildID is missing; the child's {episodes} episode(s) are skipped"),
        );
        return out;
    }
    for (path, text) in &child.stray {
        report.warn_stray("child", &child_id, path, text);
    }
    let common = |loc: &str| Origin {
        child_id: child_id.clone(),
        location: loc.to_owned(),
        fields: vec![
            ("child_id".into(), id_path.clone()),
            ("la_code".into(), "Message/Header/Source/LEA".into()),
        ],
        year: None,
        sources_are_columns: false,
    };

    for (e, cd) in child.all("CINdetails") {
        let seen = (
            out.assessments.len(),
            out.s47s.len(),
            out.cin_plans.len(),
            out.cp_plans.len(),
        );
        let ep = format!("{base}/CINdetails[{e}]");
        let referral_date = date(
            report,
            &child_id,
            &format!("{ep}/CINreferralDate"),
            &cd.text_of("CINreferralDate"),
        );
        let closure_reason = cd.text_of("ReasonForClosure");
        let source = cd.text_of("ReferralSource");
        if let Some(y) = year {
            let outside = [
                (
                    "ReferralSource",
                    &source,
                    codes::referral_source_group(&source).is_some()
                        && !codes::referral_source_in_year(&source, y),
                ),
                (
                    "ReasonForClosure",
                    &closure_reason,
                    codes::is_closure_reason(&closure_reason)
                        && !codes::closure_reason_in_year(&closure_reason, y),
                ),
            ];
            for (element, code, _) in outside.iter().filter(|o| o.2) {
                report.warn(
                    "plausibility",
                    &child_id,
                    format!("{ep}/{element}"),
                    format!(
                        "{element} {code} is not in the {} census's code list",
                        codes::return_year_label(y)
                    ),
                );
            }
        }

        // The referral.
        let nfa_text = cd.text_of("ReferralNFA");
        let nfa = match codes::parse_yes_no(&nfa_text) {
            Some(b) => Some(b),
            None if nfa_text.is_empty() => {
                report.warn(
                    "referrals",
                    &child_id,
                    format!("{ep}/ReferralNFA"),
                    "missing; taken as 0 (not NFA)",
                );
                Some(false)
            }
            None => {
                report.reject(
                    "referrals",
                    &child_id,
                    format!("{ep}/ReferralNFA"),
                    format!("{nfa_text:?} is not 0, 1, true or false"),
                );
                None
            }
        };
        if let Some(nfa) = nfa {
            let mut o = common(&ep);
            o.fields
                .push(("referral_date".into(), format!("{ep}/CINreferralDate")));
            o.fields
                .push(("source".into(), format!("{ep}/ReferralSource")));
            out.referrals.push((
                pb::Referral {
                    la_code: la.to_owned(),
                    child_id: child_id.clone(),
                    referral_date: referral_date.clone(),
                    source,
                    nfa,
                },
                o,
            ));
        }

        // Assessments, with the episode's closure reason as their outcome (RC8/RC9 = NFA).
        for (a, node) in cd.all("Assessments") {
            let ap = format!("{ep}/Assessments[{a}]");
            let mut o = common(&ap);
            o.fields.push((
                "start_date".into(),
                format!("{ap}/AssessmentActualStartDate"),
            ));
            o.fields.push((
                "authorisation_date".into(),
                format!("{ap}/AssessmentAuthorisationDate"),
            ));
            o.fields
                .push(("referral_date".into(), format!("{ep}/CINreferralDate")));
            o.fields
                .push(("closure_reason".into(), format!("{ep}/ReasonForClosure")));
            let mut factors = Vec::new();
            if let Some(f) = node.child("FactorsIdentifiedAtAssessment") {
                for (j, factor) in f.all("AssessmentFactors") {
                    o.fields.push((
                        format!("factors[{}]", factors.len()),
                        format!("{ap}/FactorsIdentifiedAtAssessment/AssessmentFactors[{j}]"),
                    ));
                    factors.push(factor.text.trim().to_owned());
                }
            }
            out.assessments.push((
                pb::Assessment {
                    la_code: la.to_owned(),
                    child_id: child_id.clone(),
                    start_date: date(
                        report,
                        &child_id,
                        &format!("{ap}/AssessmentActualStartDate"),
                        &node.text_of("AssessmentActualStartDate"),
                    ),
                    referral_date: referral_date.clone(),
                    authorisation_date: date(
                        report,
                        &child_id,
                        &format!("{ap}/AssessmentAuthorisationDate"),
                        &node.text_of("AssessmentAuthorisationDate"),
                    ),
                    factors,
                    outcome: 0,
                    closure_reason: closure_reason.clone(),
                },
                o,
            ));
        }

        // Section 47 enquiries, with the ICPC each led to.
        let mut s47_starts: Vec<(String, String)> = Vec::new(); // (start, icpc date)
        for (s, node) in cd.all("Section47") {
            let sp = format!("{ep}/Section47[{s}]");
            let not_required_text = node.text_of("ICPCnotRequired");
            let icpc_not_required = match codes::parse_yes_no(&not_required_text) {
                Some(b) => b,
                None => {
                    if !not_required_text.is_empty() {
                        report.warn(
                            "section 47 enquiries",
                            &child_id,
                            format!("{sp}/ICPCnotRequired"),
                            format!("{not_required_text:?} is not 0, 1, true or false; taken as 0"),
                        );
                    }
                    false
                }
            };
            let start = date(
                report,
                &child_id,
                &format!("{sp}/S47ActualStartDate"),
                &node.text_of("S47ActualStartDate"),
            );
            let icpc_date = date(
                report,
                &child_id,
                &format!("{sp}/DateOfInitialCPC"),
                &node.text_of("DateOfInitialCPC"),
            );
            s47_starts.push((start.clone(), icpc_date.clone()));
            let mut o = common(&sp);
            o.fields
                .push(("start_date".into(), format!("{sp}/S47ActualStartDate")));
            o.fields
                .push(("icpc_date".into(), format!("{sp}/DateOfInitialCPC")));
            o.fields
                .push(("icpc_target_date".into(), format!("{sp}/InitialCPCtarget")));
            o.fields
                .push(("referral_date".into(), format!("{ep}/CINreferralDate")));
            out.s47s.push((
                pb::Section47Enquiry {
                    la_code: la.to_owned(),
                    child_id: child_id.clone(),
                    start_date: start,
                    referral_date: referral_date.clone(),
                    icpc_target_date: date(
                        report,
                        &child_id,
                        &format!("{sp}/InitialCPCtarget"),
                        &node.text_of("InitialCPCtarget"),
                    ),
                    icpc_date,
                    icpc_not_required,
                },
                o,
            ));
        }

        // CIN plans.
        for (k, node) in cd.all("CINPlanDates") {
            let pp = format!("{ep}/CINPlanDates[{k}]");
            let mut o = common(&pp);
            o.fields
                .push(("start_date".into(), format!("{pp}/CINPlanStartDate")));
            o.fields
                .push(("end_date".into(), format!("{pp}/CINPlanEndDate")));
            out.cin_plans.push((
                ppb::CinPlan {
                    la_code: la.to_owned(),
                    child_id: child_id.clone(),
                    start_date: date(
                        report,
                        &child_id,
                        &format!("{pp}/CINPlanStartDate"),
                        &node.text_of("CINPlanStartDate"),
                    ),
                    end_date: date(
                        report,
                        &child_id,
                        &format!("{pp}/CINPlanEndDate"),
                        &node.text_of("CINPlanEndDate"),
                    ),
                },
                o,
            ));
        }

        // Child protection plans, with their review conferences.
        for (k, node) in cd.all("ChildProtectionPlans") {
            let pp = format!("{ep}/ChildProtectionPlans[{k}]");
            let mut o = common(&pp);
            for (field, element) in [
                ("start_date", "CPPstartDate"),
                ("end_date", "CPPendDate"),
                ("initial_category", "InitialCategoryOfAbuse"),
                ("latest_category", "LatestCategoryOfAbuse"),
                ("previous_plans", "NumberOfPreviousCPP"),
            ] {
                o.fields.push((field.into(), format!("{pp}/{element}")));
            }
            let previous_text = node.text_of("NumberOfPreviousCPP");
            let previous_plans = if previous_text.is_empty() {
                None
            } else {
                match previous_text.parse::<i32>() {
                    Ok(n) => Some(n),
                    Err(_) => {
                        report.reject(
                            "CP plans",
                            &child_id,
                            format!("{pp}/NumberOfPreviousCPP"),
                            format!("{previous_text:?} is not a whole number"),
                        );
                        continue;
                    }
                }
            };
            let mut review_dates = Vec::new();
            if let Some(reviews) = node.child("Reviews") {
                for (r, review) in reviews.all("CPPreviewDate") {
                    o.fields.push((
                        format!("review_dates[{}]", review_dates.len()),
                        format!("{pp}/Reviews/CPPreviewDate[{r}]"),
                    ));
                    review_dates.push(date(
                        report,
                        &child_id,
                        &format!("{pp}/Reviews/CPPreviewDate[{r}]"),
                        &review.text,
                    ));
                }
            }
            out.cp_plans.push((
                ppb::CpPlan {
                    la_code: la.to_owned(),
                    child_id: child_id.clone(),
                    start_date: date(
                        report,
                        &child_id,
                        &format!("{pp}/CPPstartDate"),
                        &node.text_of("CPPstartDate"),
                    ),
                    end_date: date(
                        report,
                        &child_id,
                        &format!("{pp}/CPPendDate"),
                        &node.text_of("CPPendDate"),
                    ),
                    initial_category: node.text_of("InitialCategoryOfAbuse"),
                    latest_category: node.text_of("LatestCategoryOfAbuse"),
                    previous_plans,
                    review_dates,
                },
                o,
            ));
        }

        // The episode's own ICPC date. The enquiry that led to it is the episode's enquiry naming
        // the same date, else its latest enquiry started on or before it (docs/measures.md).
        let icpc = date(
            report,
            &child_id,
            &format!("{ep}/DateOfInitialCPC"),
            &cd.text_of("DateOfInitialCPC"),
        );
        if !icpc.is_empty() {
            let same = s47_starts
                .iter()
                .filter(|(_, d)| *d == icpc)
                .map(|(s, _)| s.as_str())
                .max();
            let before = s47_starts
                .iter()
                .map(|(s, _)| s.as_str())
                .filter(|s| parse_date(s).is_some() && **s <= *icpc)
                .max();
            let mut o = common(&ep);
            o.fields
                .push(("icpc_date".into(), format!("{ep}/DateOfInitialCPC")));
            o.fields.push((
                "s47_start_date".into(),
                format!("{ep}/Section47/S47ActualStartDate"),
            ));
            out.icpcs.push((
                pb::Icpc {
                    la_code: la.to_owned(),
                    child_id: child_id.clone(),
                    icpc_date: icpc,
                    s47_start_date: same.or(before).unwrap_or_default().to_owned(),
                },
                o,
            ));
        }
        // Plausibility: the episode's work starts on or after its referral. Said, never refused.
        if parse_date(&referral_date).is_some() {
            let mut starts: Vec<(&str, &str, &Origin)> = Vec::new();
            for (a, o) in &out.assessments[seen.0..] {
                starts.push(("assessment", &a.start_date, o));
            }
            for (x, o) in &out.s47s[seen.1..] {
                starts.push(("section 47 enquiry", &x.start_date, o));
            }
            for (x, o) in &out.cin_plans[seen.2..] {
                starts.push(("CIN plan", &x.start_date, o));
            }
            for (x, o) in &out.cp_plans[seen.3..] {
                starts.push(("CP plan", &x.start_date, o));
            }
            let early: Vec<(String, String)> = starts
                .into_iter()
                .filter(|(_, d, _)| parse_date(d).is_some() && **d < *referral_date)
                .map(|(what, d, o)| {
                    (
                        o.location.clone(),
                        format!(
                            "the {what} starts {d}, before the episode's referral ({referral_date})"
                        ),
                    )
                })
                .collect();
            for (at, why) in early {
                report.warn("plausibility", &child_id, at, why);
            }
        }
    }
    out
}

/// The header's plausibility: a census's reference date is 31 March of its year.
pub(super) fn check_header(file: &str, h: &Header, report: &mut ImportSummary) {
    let year = h.year.as_deref().and_then(|y| y.trim().parse::<i32>().ok());
    let reference = h.reference_date.as_deref().and_then(parse_date);
    let at = format!("{file}: Message/Header/CollectionDetails");
    if let Some(r) = reference {
        use chrono::Datelike;
        if (r.month(), r.day()) != (3, 31) {
            report.warn(
                "census",
                "-",
                &at,
                format!("ReferenceDate {r} is not 31 March: a CIN census counts to 31 March"),
            );
        }
        if let Some(y) = year
            && r.year() != y
        {
            report.warn(
                "census",
                "-",
                &at,
                format!("ReferenceDate {r} is not in the census Year {y} (expected {y}-03-31)"),
            );
        }
    }
}

/// What the first pass over a census found: its header, and that the file is whole.
struct Checked {
    header: Option<Header>,
    charset: Charset,
}

/// The first pass: the whole file is parsed (cheaply: each child is dropped as it closes) so that
/// a file cut short, nested too deep or holding an oversized run is refused before a record is
/// sent; the header is kept.
fn check_file(path: &Path) -> anyhow::Result<Checked> {
    let (name, text, charset) = open_xml(path, None)?;
    let header = scan(text, &name)?;
    Ok(Checked { header, charset })
}

/// The first pass's reading: events, not a tree of each child. It fails exactly where
/// [`read_records_from`] would, with the same message (malformed XML, an element left open at
/// the end, nesting over [`MAX_XML_DEPTH`], a run over [`MAX_XML_RUN_BYTES`] or an element's text
/// over it), and finds the same first `Header` — only a `Header`'s elements are built — at a
/// fraction of the cost (docs/performance.md). The fuzz target holds the two readings together.
pub fn scan(input: impl std::io::BufRead, name: &str) -> anyhow::Result<Option<Header>> {
    let mut reader = Reader::from_reader(BufReader::new(input::BoundedRuns::new(input)));
    reader.config_mut().trim_text(true);
    let mut buf = Vec::new();
    let mut root: Option<String> = None;
    // Per open element: its name (buffers reused as the depth goes up and down) and the length
    // of its text so far.
    let mut names: Vec<String> = Vec::new();
    let mut lens: Vec<usize> = Vec::new();
    // The elements of a Header being read, outermost first.
    let mut tree: Vec<Node> = Vec::new();
    let mut header: Option<Header> = None;
    loop {
        let pos = reader.buffer_position();
        let event = reader.read_event_into(&mut buf).map_err(|e| {
            anyhow::anyhow!(
                "{name}: malformed XML at byte {}: {e}; nothing was imported",
                reader.error_position()
            )
        })?;
        match event {
            Event::Start(e) => {
                if lens.len() >= MAX_XML_DEPTH {
                    anyhow::bail!(
                        "{name}: elements nest deeper than {MAX_XML_DEPTH} at byte {pos}: not a file this importer reads (the limit is in docs/formats.md); nothing was imported",
                    );
                }
                let local = String::from_utf8_lossy(e.local_name().as_ref()).into_owned();
                if root.is_none() {
                    root = Some(local.clone());
                }
                if !tree.is_empty() || local == "Header" {
                    tree.push(Node {
                        name: local.clone(),
                        ..Default::default()
                    });
                }
                match names.get_mut(lens.len()) {
                    Some(n) => {
                        n.clear();
                        n.push_str(&local);
                    }
                    None => names.push(local),
                }
                lens.push(0);
            }
            Event::Empty(e) => {
                if let Some(top) = tree.last_mut() {
                    top.children.push(Node {
                        name: String::from_utf8_lossy(e.local_name().as_ref()).into_owned(),
                        ..Default::default()
                    });
                }
            }
            // Text outside every element is not read (as the full reading).
            Event::Text(t) if !lens.is_empty() => {
                let text = t
                    .decode()
                    .map_err(|e| anyhow::anyhow!("{name}: bad text at byte {pos}: {e}"))?;
                if let Some(len) = lens.last_mut() {
                    *len += text.len();
                    if *len > MAX_XML_RUN_BYTES {
                        anyhow::bail!(
                            "{name}: the text of <{}> is longer than {MAX_XML_RUN_BYTES} bytes (the limit is in docs/formats.md); nothing was imported",
                            names[lens.len() - 1]
                        );
                    }
                }
                if let Some(top) = tree.last_mut() {
                    top.text.push_str(&text);
                }
            }
            Event::CData(t) => {
                let text = String::from_utf8_lossy(&t);
                if let Some(len) = lens.last_mut() {
                    *len += text.len();
                }
                if let Some(top) = tree.last_mut() {
                    top.text.push_str(&text);
                }
            }
            Event::GeneralRef(r) => {
                let c = match resolve_entity(r.as_ref()) {
                    Some(s) => Some(s.to_owned()),
                    None => r.resolve_char_ref().ok().flatten().map(String::from),
                };
                if let Some(c) = c {
                    if let Some(len) = lens.last_mut() {
                        *len += c.len();
                    }
                    if let Some(top) = tree.last_mut() {
                        top.text.push_str(&c);
                    }
                }
            }
            Event::End(_) => {
                if lens.pop().is_none() {
                    continue;
                }
                // As the full reading: a Header is handed over (the first kept), a Child under
                // Children too, anything else joins its parent.
                if let Some(node) = tree.pop() {
                    let parent = tree.last().map(|n| n.name.as_str());
                    if node.name == "Child" && parent == Some("Children") {
                    } else if node.name == "Header" {
                        header.get_or_insert_with(|| header_of(&node));
                    } else if let Some(top) = tree.last_mut() {
                        top.children.push(node);
                    }
                }
            }
            Event::Eof => {
                if !lens.is_empty() {
                    anyhow::bail!(
                        "{name}: the file ends before </{}>: it was cut short; nothing was imported",
                        names[0]
                    );
                }
                if root.is_none() {
                    anyhow::bail!("{name}: no XML element in the file; nothing was imported");
                }
                break;
            }
            _ => {}
        }
        buf.clear();
    }
    Ok(header)
}

/// The header fields of a `Header` element.
fn header_of(node: &Node) -> Header {
    let source = node.child("Source");
    let details = node.child("CollectionDetails");
    Header {
        lea: source.map(|s| s.text_of("LEA")).filter(|s| !s.is_empty()),
        year: details.map(|d| d.text_of("Year")).filter(|s| !s.is_empty()),
        reference_date: details
            .map(|d| d.text_of("ReferenceDate"))
            .filter(|s| !s.is_empty()),
        made: source
            .map(|s| s.text_of("DateTime"))
            .filter(|s| !s.is_empty()),
    }
}

/// Imports one CIN census file into the front door and child protection services. The file is
/// checked whole first (docs/formats.md, "Files"): one that is not well-formed is refused and
/// nothing of it sent. `--la` must agree with the header's LEA when the header has one.
pub async fn import(
    client: &mut CinClients,
    path: &Path,
    la_flag: Option<&str>,
    report: &mut ImportSummary,
) -> anyhow::Result<()> {
    if let Some(la) = la_flag {
        LaCode::parse(la).map_err(|e| anyhow::anyhow!("--la: {e}"))?;
    }
    let file = path.display().to_string();
    if !path.is_file() {
        anyhow::bail!("{file}: no such file");
    }
    let checked = match check_file(path) {
        Ok(c) => c,
        Err(e) => {
            report.refuse_file(&file, format!("{e:#}"));
            return Ok(());
        }
    };
    if let Some(w) = checked.charset.warning(&file) {
        report.warn("file", "-", &file, w);
    }
    let lea = checked
        .header
        .as_ref()
        .and_then(|h| h.lea.clone())
        .map(|l| l.trim().to_owned());
    // A header LEA that is no English LA code (test files, sample generators) cannot be the
    // file's LA: --la then says it, with a warning.
    let lea_known = lea.as_deref().map(|l| LaCode::parse(l).is_ok());
    let la = match (lea.as_deref(), la_flag) {
        (Some(lea), Some(flag)) if lea != flag && lea_known == Some(false) => {
            report.warn(
                "file",
                "-",
                format!("{file}: Message/Header/Source/LEA"),
                format!(
                    "the header's LEA {} is not an English LA code; the census is filed under --la {flag}",
                    input::quote(lea)
                ),
            );
            flag.to_owned()
        }
        (Some(lea), Some(flag)) if lea != flag => {
            report.refuse_file(
                &file,
                format!(
                    "the header's LEA is {lea} and --la is {flag}: a census is filed under its own LA (give --la {lea}, or no --la)"
                ),
            );
            return Ok(());
        }
        (_, Some(flag)) => flag.to_owned(),
        (Some(lea), None) => match LaCode::parse(lea) {
            Ok(code) => code.to_string(),
            Err(e) => {
                report.refuse_file(&file, format!("Message/Header/Source/LEA: {e}; give --la"));
                return Ok(());
            }
        },
        (None, None) => {
            report.refuse_file(
                &file,
                if checked.header.is_some() {
                    "the header has no LEA; give --la"
                } else {
                    "the file has no Header; give --la"
                },
            );
            return Ok(());
        }
    };
    if let Some(h) = &checked.header {
        check_header(&file, h, report);
        report.covers = h.covers(chrono::Local::now().date_naive());
        report.notes.push(format!(
            "{file}: CIN census {} (reference date {}), filed under LA {la}",
            h.year.as_deref().unwrap_or("year not stated"),
            h.reference_date.as_deref().unwrap_or("not stated"),
        ));
    }

    let size = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
    let bar = super::local::progress_bar(size, "{msg} [{bar:40}] {percent}% {eta}", &file);

    // Children are collected from the synchronous XML reader and sent in batches between reads.
    let mut stray: Vec<(String, String)> = Vec::new();
    let mut sender = Sender {
        year: checked
            .header
            .as_ref()
            .and_then(|h| h.year.as_deref())
            .and_then(|y| y.trim().parse().ok()),
        ..Sender::default()
    };
    let mut children = 0usize;

    // Read in slices of children so that memory stays bounded on very large files.
    let (tx, mut rx) = tokio::sync::mpsc::channel::<anyhow::Result<(Item, u64)>>(256);
    let reader_path = path.to_owned();
    let charset = checked.charset;
    let reader = tokio::task::spawn_blocking(move || {
        let tx2 = tx.clone();
        let r = read_as(&reader_path, charset, |item, pos| {
            tx2.blocking_send(Ok((item, pos)))
                .map_err(|_| anyhow::anyhow!("import cancelled"))
        });
        if let Err(e) = r {
            let _ = tx.blocking_send(Err(e));
        }
    });

    while let Some(msg) = rx.recv().await {
        let (item, pos) = match msg {
            Ok(x) => x,
            Err(e) => {
                // The file changed between the check and this pass: what was sent stays, and the
                // rest is said to be missing.
                super::local::progress_done(&bar);
                sender.finish(client, report, &la).await?;
                report.refuse_file(
                    &file,
                    format!(
                        "{e:#} (the file changed while it was imported: {children} children were sent before this)"
                    ),
                );
                return Ok(());
            }
        };
        bar.set_position(pos);
        match item {
            Item::Header(_) => {}
            Item::Child(i, node) => {
                children += 1;
                sender.pending.push((i, node));
                if sender.pending.len() >= 256 {
                    sender.send_pending(client, report, &la).await?;
                }
            }
            Item::Stray { path: p, text } => stray.push((p, text)),
        }
    }
    reader.await?;
    super::local::progress_done(&bar);
    sender.finish(client, report, &la).await?;
    for (p, text) in stray {
        report.warn_stray("file", "-", &p, &text);
    }
    report.finish_dates(&file, true);
    report
        .notes
        .push(format!("{file}: {children} children read"));
    Ok(())
}

/// Children read but not yet sent, and the records made from them, batched per kind.
#[derive(Default)]
struct Sender {
    /// The census `Year`, for the code lists.
    year: Option<i32>,
    pending: Vec<(usize, Node)>,
    referrals: Uploader<pb::Referral>,
    assessments: Uploader<pb::Assessment>,
    s47s: Uploader<pb::Section47Enquiry>,
    icpcs: Uploader<pb::Icpc>,
    cin_plans: Uploader<ppb::CinPlan>,
    cp_plans: Uploader<ppb::CpPlan>,
}

impl Sender {
    /// Turns the pending children into records and queues them (full batches go at once).
    async fn send_pending(
        &mut self,
        c: &mut CinClients,
        report: &mut ImportSummary,
        la: &str,
    ) -> anyhow::Result<()> {
        for (i, node) in std::mem::take(&mut self.pending) {
            let recs = child_records(la, self.year, i, &node, report);
            for (r, o) in recs.referrals {
                self.referrals.push(&mut c.frontdoor, report, r, o).await?;
            }
            for (r, o) in recs.assessments {
                self.assessments
                    .push(&mut c.frontdoor, report, r, o)
                    .await?;
            }
            for (r, o) in recs.s47s {
                self.s47s.push(&mut c.frontdoor, report, r, o).await?;
            }
            for (r, o) in recs.icpcs {
                self.icpcs.push(&mut c.frontdoor, report, r, o).await?;
            }
            for (r, o) in recs.cin_plans {
                self.cin_plans.push(&mut c.protection, report, r, o).await?;
            }
            for (r, o) in recs.cp_plans {
                self.cp_plans.push(&mut c.protection, report, r, o).await?;
            }
        }
        Ok(())
    }

    /// Sends everything still held.
    async fn finish(
        &mut self,
        c: &mut CinClients,
        report: &mut ImportSummary,
        la: &str,
    ) -> anyhow::Result<()> {
        self.send_pending(c, report, la).await?;
        self.referrals.flush(&mut c.frontdoor, report).await?;
        self.assessments.flush(&mut c.frontdoor, report).await?;
        self.s47s.flush(&mut c.frontdoor, report).await?;
        self.icpcs.flush(&mut c.frontdoor, report).await?;
        self.cin_plans.flush(&mut c.protection, report).await?;
        self.cp_plans.flush(&mut c.protection, report).await
    }
}

/// The LA code (header LEA) and census year of a CIN census file, read from its header only.
pub fn la_and_year(path: &Path) -> anyhow::Result<(String, Option<i32>)> {
    let mut found = None;
    // The header's fields are ASCII: read as UTF-8 (or UTF-16 by its BOM), without the pass over
    // the whole file that finds a Windows-1252 one.
    let mut head = [0u8; 4];
    let n = std::io::Read::read(
        &mut File::open(path).map_err(|e| anyhow::anyhow!("opening {}: {e}", path.display()))?,
        &mut head,
    )?;
    let charset = match encoding_rs::Encoding::for_bom(&head[..n]) {
        Some((enc, _)) if enc != encoding_rs::UTF_8 => Charset::Utf16(enc),
        _ => Charset::Utf8,
    };
    let r = read_as(path, charset, |item, _| match item {
        Item::Header(h) => {
            found = Some(h);
            Err(anyhow::anyhow!("header read"))
        }
        _ => Ok(()),
    })
    .map(|_| ());
    let h = match (found, r) {
        (Some(h), _) => h,
        (None, Err(e)) => return Err(e),
        (None, Ok(())) => anyhow::bail!("{}: no header", path.display()),
    };
    let la = h
        .lea
        .ok_or_else(|| anyhow::anyhow!("{}: the header has no LEA", path.display()))?;
    LaCode::parse(&la).map_err(|e| anyhow::anyhow!("{}: LEA: {e}", path.display()))?;
    Ok((la, h.year.and_then(|y| y.trim().parse().ok())))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(xml: &str) -> (Vec<Header>, Vec<(usize, Node)>, Vec<String>) {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("c.xml");
        std::fs::write(&p, xml).unwrap();
        let (mut h, mut c, mut s) = (vec![], vec![], vec![]);
        read(&p, |item, _| {
            match item {
                Item::Header(x) => h.push(x),
                Item::Child(i, n) => c.push((i, n)),
                Item::Stray { path, text } => s.push(format!("{path}: {text}")),
            }
            Ok(())
        })
        .unwrap();
        (h, c, s)
    }

    const XML: &str = r#"<Message><Header><CollectionDetails><Collection>CIN</Collection><Year>2024</Year>
      <ReferenceDate>2024-03-31</ReferenceDate></CollectionDetails><Source><LEA>201</LEA></Source></Header>
      <Children>
        <Child><ChildIdentifiers><LAchildID>C1</LAchildID><UPNunknown>UN3</UPNunknown>PersonBirthDate<Sex>M</Sex></ChildIdentifiers>
          <CINdetails><CINreferralDate>2023-04-03</CINreferralDate><ReferralSource>6</ReferralSource>
            <ReasonForClosure>RC8</ReasonForClosure><DateOfInitialCPC>2023-05-02</DateOfInitialCPC>
            <Assessments><AssessmentActualStartDate>2023-04-04</AssessmentActualStartDate>
              <AssessmentAuthorisationDate>03/05/2023</AssessmentAuthorisationDate>
              <FactorsIdentifiedAtAssessment><AssessmentFactors>1C</AssessmentFactors><AssessmentFactors>RB</AssessmentFactors></FactorsIdentifiedAtAssessment>
            </Assessments>
            <Section47><S47ActualStartDate>2023-04-10</S47ActualStartDate><DateOfInitialCPC>2023-04-28</DateOfInitialCPC><ICPCnotRequired>false</ICPCnotRequired></Section47>
            <Section47><S47ActualStartDate>2023-04-20</S47ActualStartDate><ICPCnotRequired>0</ICPCnotRequired></Section47>
            <ReferralNFA>true</ReferralNFA></CINdetails>
        </Child>
        <Child><ChildIdentifiers><UPN>A1</UPN></ChildIdentifiers><CINdetails><CINreferralDate>2023-04-03</CINreferralDate></CINdetails></Child>
      </Children></Message>"#;

    #[test]
    fn reads_header_children_and_stray_text() {
        let (h, c, s) = parse(XML);
        assert_eq!(h[0].lea.as_deref(), Some("201"));
        assert_eq!(h[0].year.as_deref(), Some("2024"));
        assert_eq!(c.len(), 2);
        assert_eq!(c[1].0, 2);
        assert!(
            s.is_empty(),
            "stray text inside a child stays with the child"
        );
        assert_eq!(
            c[0].1.stray,
            [(
                "Message/Children/Child[1]/ChildIdentifiers".to_owned(),
                "PersonBirthDate".to_owned()
            )]
        );
    }

    #[test]
    fn maps_a_child_to_front_door_records_with_their_element_paths() {
        let (_, c, _) = parse(XML);
        let mut report = ImportSummary::default();
        let r = child_records("201", Some(2024), 1, &c[0].1, &mut report);
        assert_eq!(r.referrals.len(), 1);
        assert!(r.referrals[0].0.nfa);
        let (a, o) = &r.assessments[0];
        assert_eq!(
            a.authorisation_date, "2023-05-03",
            "day-first dates become ISO"
        );
        assert_eq!(a.closure_reason, "RC8");
        assert_eq!(a.factors, ["1C", "RB"]);
        assert_eq!(
            o.source_of("factors[1]"),
            "Message/Children/Child[1]/CINdetails[1]/Assessments[1]/FactorsIdentifiedAtAssessment/AssessmentFactors[2]"
        );
        assert_eq!(r.s47s.len(), 2);
        // The episode's ICPC (2 May) is not named by either enquiry: the latest enquiry started
        // on or before it led to it.
        assert_eq!(r.icpcs[0].0.icpc_date, "2023-05-02");
        assert_eq!(r.icpcs[0].0.s47_start_date, "2023-04-20");

        assert_eq!(report.warnings.len(), 1);
        assert_eq!(report.warnings[0].child_id, "C1");
        let r2 = child_records("201", Some(2024), 2, &c[1].1, &mut report);
        assert!(r2.referrals.is_empty());
        assert_eq!(report.rejected.len(), 1);
        assert!(
            report.rejected[0]
                .source
                .ends_with("Child[2]/ChildIdentifiers/LAchildID")
        );
    }

    #[test]
    fn maps_cin_plans_and_cp_plans_with_their_reviews() {
        let xml = r#"<Message><Header><Source><LEA>885</LEA></Source></Header><Children>
          <Child><ChildIdentifiers><LAchildID>C9</LAchildID></ChildIdentifiers>
            <CINdetails><CINreferralDate>2018-01-03</CINreferralDate><ReferralSource>6</ReferralSource><ReferralNFA>0</ReferralNFA>
              <CINPlanDates><CINPlanStartDate>03/02/2018</CINPlanStartDate></CINPlanDates>
              <ChildProtectionPlans><CPPstartDate>2018-03-01</CPPstartDate><CPPendDate>2018-09-01</CPPendDate>
                <InitialCategoryOfAbuse>NEG</InitialCategoryOfAbuse><LatestCategoryOfAbuse>EMO</LatestCategoryOfAbuse>
                <NumberOfPreviousCPP>2</NumberOfPreviousCPP>
                <Reviews><CPPreviewDate>2018-05-10</CPPreviewDate><CPPreviewDate>2018-08-10</CPPreviewDate></Reviews>
              </ChildProtectionPlans>
              <ChildProtectionPlans><CPPstartDate>2018-10-01</CPPstartDate>
                <InitialCategoryOfAbuse>PHY</InitialCategoryOfAbuse><LatestCategoryOfAbuse>PHY</LatestCategoryOfAbuse>
                <NumberOfPreviousCPP>two</NumberOfPreviousCPP>
              </ChildProtectionPlans>
            </CINdetails></Child></Children></Message>"#;
        let (_, c, _) = parse(xml);
        let mut report = ImportSummary::default();
        let r = child_records("885", Some(2024), 1, &c[0].1, &mut report);
        assert_eq!(r.cin_plans.len(), 1);
        assert_eq!(r.cin_plans[0].0.start_date, "2018-02-03");
        assert_eq!(r.cin_plans[0].0.end_date, "");
        assert_eq!(
            r.cp_plans.len(),
            1,
            "the plan with an unreadable count is refused"
        );
        let (p, o) = &r.cp_plans[0];
        assert_eq!(p.latest_category, "EMO");
        assert_eq!(p.previous_plans, Some(2));
        assert_eq!(p.review_dates, ["2018-05-10", "2018-08-10"]);
        assert!(
            o.source_of("review_dates[1]")
                .ends_with("ChildProtectionPlans[1]/Reviews/CPPreviewDate[2]")
        );
        assert_eq!(report.rejected.len(), 1);
        assert!(
            report.rejected[0]
                .source
                .ends_with("ChildProtectionPlans[2]/NumberOfPreviousCPP")
        );
    }
}
