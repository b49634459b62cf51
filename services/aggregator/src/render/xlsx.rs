//! The report as a workbook an analyst can pivot and reuse:
//!
//! - `About`: what the report is, the data it rests on, each section's standing, commentary and
//!   notes, the key, and the definitions (every measure's id, unit and direction);
//! - `Headline`: the headline page;
//! - `Figures`: every figure in one tidy, long table (an Excel table with its autofilter and a
//!   frozen header), one line per measure or breakdown row, ready for a pivot table;
//! - a sheet per section, header row first, panes frozen, filters on;
//! - `Series`: every 8-period series, long.
//!
//! Numbers are numbers with formats for their unit: counts `#,##0`, percentages stored as
//! fractions and shown `0.0%`, rates `0.0` (the looked-after rate `0`), money in pounds (from its
//! exact pence) `£#,##0` or `£#,##0.00`. A figure with no value (`z`) or suppressed (`c`) is a
//! blank number with its marker in the line's `value_status`, so a sum or a pivot never meets text
//! in a number column. Text enters through [`text_cell`], which keeps formula-like text as text.

use csc_core::text::spreadsheet_risky;
use csc_core::{Unit, measure::Num};
use rust_xlsxwriter::{
    Format as XFormat, FormatAlign, Note, Table, TableColumn, TableStyle, Workbook, Worksheet,
    XlsxError,
};

use super::{
    Figure, fig, headline as hl,
    tabular::{Line, lines},
};
use crate::domain::{
    cells::{Cell, SUPPRESSED},
    direction::Direction,
    group::Stats,
    headline::headlines,
    report::{Report, ReportMeasure},
};

/// What kind of number a cell holds, for its format.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Kind {
    Count,
    /// A percentage, stored as a fraction.
    Percent,
    /// A rate per 10,000, to so many places.
    Rate(usize),
    /// Money: pence in, pounds out.
    Money,
}

impl Kind {
    /// The kind of a measure's own figure (its value, previous, year earlier and benchmarks).
    fn of_value(m: &ReportMeasure) -> Kind {
        match m.unit {
            Unit::Count => Kind::Count,
            Unit::Ratio => Kind::Percent,
            Unit::RatePer10k => Kind::Rate(m.decimals().unwrap_or(1)),
            Unit::Gbp | Unit::GbpPerWeek => Kind::Money,
        }
    }

    /// A numerator is money for a money measure (a total in pence), else a count.
    fn of_numerator(m: &ReportMeasure) -> Kind {
        if m.unit.is_money() {
            Kind::Money
        } else {
            Kind::Count
        }
    }
}

struct Formats {
    bold: XFormat,
    header: XFormat,
    wrap: XFormat,
    count: XFormat,
    percent: XFormat,
    rate1: XFormat,
    rate0: XFormat,
    pounds: XFormat,
    pence: XFormat,
}

impl Formats {
    fn new() -> Formats {
        Formats {
            bold: XFormat::new().set_bold(),
            header: XFormat::new().set_bold().set_text_wrap(),
            wrap: XFormat::new().set_text_wrap().set_align(FormatAlign::Top),
            count: XFormat::new().set_num_format("#,##0"),
            percent: XFormat::new().set_num_format("0.0%"),
            rate1: XFormat::new().set_num_format("0.0"),
            rate0: XFormat::new().set_num_format("0"),
            pounds: XFormat::new().set_num_format("£#,##0"),
            pence: XFormat::new().set_num_format("£#,##0.00"),
        }
    }
}

/// A figure as the number a spreadsheet holds, with its format; none for `z`, `c` or nothing.
fn number(c: Figure, kind: Kind, f: &Formats) -> Option<(f64, &XFormat)> {
    let n = c?.number()?;
    Some(match (kind, n) {
        (Kind::Money, Num::Pence(p)) | (Kind::Money, Num::Int(p)) => (
            p as f64 / 100.0,
            if p % 100 == 0 { &f.pounds } else { &f.pence },
        ),
        (Kind::Money, n) => (n.as_f64(), &f.pence),
        (Kind::Percent, n) => (n.as_f64() / 100.0, &f.percent),
        (Kind::Rate(0), n) => (n.as_f64(), &f.rate0),
        (Kind::Rate(_), n) => (n.as_f64(), &f.rate1),
        (Kind::Count, n) => (n.as_f64(), &f.count),
    })
}

/// `z` or `c` for a figure that is not a number, else empty.
fn status(c: Figure) -> &'static str {
    match c {
        Some(Cell::NoValue) => "z",
        Some(Cell::Suppressed) => SUPPRESSED,
        _ => "",
    }
}

/// A published benchmark as a figure.
fn bench(v: Option<f64>) -> Figure {
    v.map(|x| Cell::Number(Num::Dec(x)))
}

/// An Excel sheet name: at most 31 characters, none of `[]:*?/\`.
fn sheet_name(title: &str) -> String {
    title
        .chars()
        .filter(|c| !"[]:*?/\\".contains(*c))
        .take(31)
        .collect()
}

/// The one way text enters the workbook: a cell that a spreadsheet could read as a formula
/// (`=`, `+`, `-`, `@`, tab, CR; `csc_core::text::spreadsheet_risky`) gets Excel's quote prefix,
/// so it stays text when edited or saved as CSV, and over-long text is cut as in CSV.
fn text_cell(
    ws: &mut Worksheet,
    row: u32,
    col: u16,
    text: &str,
    format: Option<&XFormat>,
) -> Result<(), XlsxError> {
    let cut = csc_core::text::cut_cell(text);
    let base = format.cloned().unwrap_or_default();
    let format = if spreadsheet_risky(text) {
        base.set_quote_prefix()
    } else {
        base
    };
    ws.write_string_with_format(row, col, cut.as_ref(), &format)?;
    Ok(())
}

/// One cell of a line: text, or a number of a kind, or nothing.
enum Out<'a> {
    Text(&'a str),
    Owned(String),
    Figure(Figure, Kind),
    /// A figure that is text where it is not a number (`z`, `c`): the section sheets, for reading.
    Shown(Figure, Kind),
}

fn put(ws: &mut Worksheet, row: u32, col: u16, v: &Out, f: &Formats) -> Result<(), XlsxError> {
    match v {
        Out::Text(t) if !t.is_empty() => text_cell(ws, row, col, t, None),
        Out::Owned(t) if !t.is_empty() => text_cell(ws, row, col, t, None),
        Out::Figure(c, k) | Out::Shown(c, k) => {
            if let Some((n, fmt)) = number(*c, *k, f) {
                ws.write_number_with_format(row, col, n, fmt)?;
            } else if matches!(v, Out::Shown(..)) && !status(*c).is_empty() {
                text_cell(ws, row, col, status(*c), None)?;
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

/// A sheet that is one table: its header row, its lines, an Excel table over them (autofilter,
/// banded rows), the header frozen with `frozen_cols` columns beside it, and column widths.
fn table_sheet(
    ws: &mut Worksheet,
    name: &str,
    headers: &[(&str, f64)],
    lines: &[Vec<Out>],
    frozen_cols: u16,
    f: &Formats,
) -> Result<(), XlsxError> {
    for (r, line) in lines.iter().enumerate() {
        for (c, v) in line.iter().enumerate() {
            put(ws, r as u32 + 1, c as u16, v, f)?;
        }
    }
    let columns: Vec<TableColumn> = headers
        .iter()
        .map(|(h, _)| {
            TableColumn::new()
                .set_header(*h)
                .set_header_format(&f.header)
        })
        .collect();
    let table = Table::new()
        .set_name(name)
        .set_style(TableStyle::Light9)
        .set_columns(&columns);
    // A table needs a line under its header, even an empty one.
    let last = lines.len().max(1) as u32;
    ws.add_table(0, 0, last, headers.len() as u16 - 1, &table)?;
    ws.set_freeze_panes(1, frozen_cols)?;
    for (c, (_, w)) in headers.iter().enumerate() {
        ws.set_column_width(c as u16, *w)?;
    }
    Ok(())
}

const FIGURES: [(&str, f64); 33] = [
    ("la_code", 8.0),
    ("la_name", 16.0),
    ("period", 11.0),
    ("section", 16.0),
    ("section_status", 10.0),
    ("measure_id", 34.0),
    ("measure", 40.0),
    ("direction", 14.0),
    ("unit", 12.0),
    ("row_key", 14.0),
    ("row", 30.0),
    ("numerator", 12.0),
    ("denominator", 12.0),
    ("value", 12.0),
    ("value_status", 8.0),
    ("percent", 9.0),
    ("previous_period", 11.0),
    ("previous_value", 12.0),
    ("year_earlier_period", 11.0),
    ("year_earlier_value", 12.0),
    ("benchmark_year", 10.0),
    ("england", 10.0),
    ("region", 10.0),
    ("statistical_neighbours", 12.0),
    ("group", 22.0),
    ("group_n", 8.0),
    ("group_mean", 10.0),
    ("group_median", 10.0),
    ("group_q1", 10.0),
    ("group_q3", 10.0),
    ("group_rank", 8.0),
    ("group_of", 8.0),
    ("group_quartile", 8.0),
];

fn figures_line<'a>(report: &'a Report, l: &Line<'a>) -> Vec<Out<'a>> {
    let m = l.measure;
    let kind = Kind::of_value(l.measure);
    let b = m.benchmarks.as_ref().filter(|_| l.row.is_none());
    let mut out = vec![
        Out::Text(&report.la_code),
        Out::Text(report.la_name.as_deref().unwrap_or_default()),
        Out::Text(&report.period.id),
        Out::Text(l.section),
        Out::Text(l.status.as_str()),
        Out::Text(&m.id),
        Out::Text(&m.label),
        Out::Text(m.direction.as_str()),
        Out::Text(m.unit.as_str()),
        Out::Text(l.row.map(|r| r.0).unwrap_or_default()),
        Out::Text(l.row.map(|r| r.1).unwrap_or_default()),
        Out::Figure(fig(l.cells.numerator), Kind::of_numerator(m)),
        Out::Figure(fig(l.cells.denominator), Kind::Count),
        Out::Figure(l.cells.value, kind),
        Out::Text(status(l.cells.value)),
        Out::Figure(fig(l.cells.percent), Kind::Percent),
        Out::Text(l.previous.map(|p| p.0).unwrap_or_default()),
        Out::Figure(l.previous.and_then(|p| p.1), kind),
        Out::Text(l.year_earlier.map(|p| p.0).unwrap_or_default()),
        Out::Figure(l.year_earlier.and_then(|p| p.1), kind),
    ];
    out.extend(benchmark_cells(b, kind));
    let g = m.group.as_ref().filter(|_| l.row.is_none());
    let whole =
        |v: Option<usize>| Out::Figure(v.map(|v| Cell::Number(Num::Int(v as i64))), Kind::Rate(0));
    let stat = |f: fn(&Stats) -> f64| Out::Figure(bench(g.map(|g| f(&g.stats))), kind);
    let focus = g.and_then(|g| g.focus);
    out.extend([
        Out::Text(g.map(|g| g.group.as_str()).unwrap_or_default()),
        whole(g.map(|g| g.stats.n)),
        stat(|s| s.mean),
        stat(|s| s.median),
        stat(|s| s.q1),
        stat(|s| s.q3),
        whole(focus.map(|p| p.rank)),
        whole(focus.map(|p| p.of)),
        whole(focus.map(|p| usize::from(p.quartile))),
    ]);
    out
}

/// The title of the benchmarking group the report is compared with, if it is.
fn compared_with(report: &Report) -> Option<&str> {
    report
        .sections
        .iter()
        .flat_map(|s| &s.measures)
        .find_map(|m| m.group.as_ref().map(|g| g.title.as_str()))
}

/// A section sheet's columns: the reader's first, the keys last; the group's median and the LA's
/// rank in it after the published benchmarks when the report is compared with a group.
fn section_headers(report: &Report) -> Vec<(String, f64)> {
    let (prev, earlier) = report.comparison_periods();
    let mut h = vec![
        ("Measure".into(), 40.0),
        ("Row".into(), 30.0),
        ("Numerator".into(), 12.0),
        ("Denominator".into(), 12.0),
        (report.period.id.clone(), 12.0),
        ("%".into(), 8.0),
        (prev, 12.0),
        (earlier, 12.0),
        ("Benchmark year".into(), 10.0),
        ("England".into(), 10.0),
        ("Region".into(), 10.0),
        ("Stat. neighbours".into(), 12.0),
    ];
    if let Some(t) = compared_with(report) {
        h.push((format!("{t} median"), 12.0));
        h.push((format!("Rank in {t}"), 12.0));
    }
    h.extend([
        ("Unit".into(), 12.0),
        ("Measure id".into(), 34.0),
        ("Row key".into(), 14.0),
    ]);
    h
}

fn section_line<'a>(l: &Line<'a>, compared: bool) -> Vec<Out<'a>> {
    let m = l.measure;
    let kind = Kind::of_value(l.measure);
    let b = m.benchmarks.as_ref().filter(|_| l.row.is_none());
    let mut out = vec![
        Out::Text(&m.label),
        Out::Text(l.row.map(|r| r.1).unwrap_or_default()),
        Out::Shown(fig(l.cells.numerator), Kind::of_numerator(m)),
        Out::Shown(fig(l.cells.denominator), Kind::Count),
        Out::Shown(l.cells.value, kind),
        Out::Shown(fig(l.cells.percent), Kind::Percent),
        Out::Shown(l.previous.and_then(|p| p.1), kind),
        Out::Shown(l.year_earlier.and_then(|p| p.1), kind),
    ];
    out.extend(benchmark_cells(b, kind));
    if compared {
        let g = m.group.as_ref().filter(|_| l.row.is_none());
        out.push(Out::Figure(bench(g.map(|g| g.stats.median)), kind));
        out.push(Out::Owned(
            g.and_then(|g| g.focus)
                .map(|p| format!("{} of {}", p.rank, p.of))
                .unwrap_or_default(),
        ));
    }
    out.extend([
        Out::Text(m.unit.as_str()),
        Out::Text(&m.id),
        Out::Text(l.row.map(|r| r.0).unwrap_or_default()),
    ]);
    out
}

/// A measure's benchmark columns: the year they are for, England, region and neighbours.
fn benchmark_cells<'a>(
    b: Option<&crate::domain::reference::Benchmarks>,
    kind: Kind,
) -> [Out<'a>; 4] {
    [
        Out::Figure(
            b.map(|b| Cell::Number(Num::Int(i64::from(b.year)))),
            Kind::Rate(0),
        ),
        Out::Figure(bench(b.and_then(|b| b.england)), kind),
        Out::Figure(bench(b.and_then(|b| b.region)), kind),
        Out::Figure(bench(b.and_then(|b| b.statistical_neighbours)), kind),
    ]
}

const SERIES: [(&str, f64); 12] = [
    ("section", 16.0),
    ("measure_id", 34.0),
    ("measure", 40.0),
    ("unit", 12.0),
    ("period", 11.0),
    ("numerator", 12.0),
    ("denominator", 12.0),
    ("value", 12.0),
    ("value_status", 8.0),
    ("direction", 14.0),
    ("group_median", 12.0),
    ("group_n", 8.0),
];

/// A table name Excel accepts: letters, digits and `_`, starting with a letter.
fn table_name(title: &str) -> String {
    let mut s: String = title
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    if !s.starts_with(|c: char| c.is_ascii_alphabetic()) {
        s.insert_str(0, "T_");
    }
    s.chars().take(250).collect()
}

pub fn xlsx(report: &Report) -> anyhow::Result<Vec<u8>> {
    let f = Formats::new();
    let mut wb = Workbook::new();
    let all = lines(report);

    about(wb.add_worksheet(), report, &f)?;
    headline_sheet(wb.add_worksheet(), report, &f)?;

    let ws = wb.add_worksheet();
    ws.set_name("Figures")?;
    let figs: Vec<Vec<Out>> = all.iter().map(|l| figures_line(report, l)).collect();
    table_sheet(ws, "Figures", &FIGURES, &figs, 0, &f)?;

    let compared = compared_with(report).is_some();
    let headers = section_headers(report);
    let headers: Vec<(&str, f64)> = headers.iter().map(|(h, w)| (h.as_str(), *w)).collect();
    for s in &report.sections {
        let ws = wb.add_worksheet();
        ws.set_name(sheet_name(&s.title))?;
        let mut rows: Vec<Vec<Out>> = all
            .iter()
            .filter(|l| l.section == s.id)
            .map(|l| section_line(l, compared))
            .collect();
        if rows.is_empty() {
            // No figures: the line says why, and no number stands in for them.
            let why = super::standing_text(s.status).unwrap_or("No figures.");
            rows.push(vec![Out::Owned(format!(
                "No figures ({}): {why}",
                s.status
            ))]);
        }
        table_sheet(ws, &table_name(&s.id), &headers, &rows, 2, &f)?;
        let mut note = format!("{}: {}.", s.title, s.status);
        if let Some(c) = &s.commentary {
            note.push_str("\n\n");
            note.push_str(c);
        }
        for n in &s.notes {
            note.push_str("\n\n");
            note.push_str(n);
        }
        ws.insert_note(
            0,
            0,
            &Note::new(csc_core::text::cut_cell(&note).as_ref())
                .set_author("csc")
                .set_width(480)
                .set_height(240),
        )?;
    }

    let ws = wb.add_worksheet();
    ws.set_name("Series")?;
    let series: Vec<Vec<Out>> = report
        .sections
        .iter()
        .flat_map(|s| s.measures.iter().map(move |m| (s, m)))
        .flat_map(|(s, m)| {
            m.series.iter().map(move |p| {
                let g = m
                    .group
                    .as_ref()
                    .and_then(|g| g.series.iter().find(|g| g.period == p.period));
                vec![
                    Out::Text(&s.id),
                    Out::Text(&m.id),
                    Out::Text(&m.label),
                    Out::Text(m.unit.as_str()),
                    Out::Text(&p.period),
                    Out::Figure(fig(p.cells.numerator), Kind::of_numerator(m)),
                    Out::Figure(fig(p.cells.denominator), Kind::Count),
                    Out::Figure(p.cells.value, Kind::of_value(m)),
                    Out::Text(status(p.cells.value)),
                    Out::Text(m.direction.as_str()),
                    Out::Figure(bench(g.and_then(|g| g.median)), Kind::of_value(m)),
                    Out::Figure(g.map(|g| Cell::Number(Num::Int(g.n as i64))), Kind::Rate(0)),
                ]
            })
        })
        .collect();
    table_sheet(ws, "Series", &SERIES, &series, 0, &f)?;
    Ok(wb.save_to_buffer()?)
}

/// The About sheet: the report, its data, its sections, the key and the definitions.
fn about(ws: &mut Worksheet, report: &Report, f: &Formats) -> Result<(), XlsxError> {
    ws.set_name("About")?;
    let title = format!(
        "{} ({}) quarterly performance analysis {}",
        report.la_name.as_deref().unwrap_or("LA"),
        report.la_code,
        report.period.id
    );
    text_cell(ws, 0, 0, &title, Some(&f.bold))?;
    let mut facts = vec![
        ("LA code", report.la_code.clone()),
        ("Period", report.period.id.clone()),
        ("Start", report.period.start.clone()),
        ("End", report.period.end.clone()),
        ("Generated at", report.generated_at.clone()),
        ("Report id", report.report_id.clone()),
        ("Requested by", report.requested_by.clone()),
        (
            "Published",
            if report.published {
                "yes: counts of 1 to 5, and figures computed from them, are c".into()
            } else {
                "no: internal, real numbers, not for publication".into()
            },
        ),
    ];
    if let Some(g) = report
        .sections
        .iter()
        .flat_map(|s| &s.measures)
        .find_map(|m| m.group.as_ref())
    {
        facts.push((
            "Compared with",
            format!(
                "{} ({}, {} members): the members' own figures for the period, live from their \
                 services; the group_ columns of Figures give the group's statistics over the \
                 members with a figure, and the LA's rank and quartile among them",
                g.title, g.group, g.members
            ),
        ));
    }
    let mut row = 2u32;
    for (k, v) in &facts {
        text_cell(ws, row, 0, k, Some(&f.bold))?;
        text_cell(ws, row, 1, v, None)?;
        row += 1;
    }
    row += 1;
    let mut block = |ws: &mut Worksheet, heading: &str, lines: Vec<(String, String)>| {
        text_cell(ws, row, 0, heading, Some(&f.bold))?;
        row += 1;
        for (k, v) in lines {
            text_cell(ws, row, 0, &k, None)?;
            text_cell(ws, row, 1, &v, Some(&f.wrap))?;
            row += 1;
        }
        row += 1;
        Ok::<(), XlsxError>(())
    };
    block(
        ws,
        "Sources",
        super::front_matter(report)
            .into_iter()
            .map(|l| match l.split_once(": ") {
                Some((k, v)) => (k.to_owned(), v.to_owned()),
                None => (String::new(), l),
            })
            .chain([(
                "benchmarks".into(),
                "England, region and statistical neighbours: the DfE's latest published figures \
                 (Children in need, Children looked after), for the year to 31 March shown; \
                 rates per 10,000 use the ONS mid-year population estimates."
                    .into(),
            )])
            .collect(),
    )?;
    let mut sections = Vec::new();
    for s in &report.sections {
        let mut text = s.status.as_str().to_owned();
        for t in super::standing_text(s.status)
            .map(str::to_owned)
            .into_iter()
            .chain(super::data_text(s))
            .chain(s.commentary.clone())
            .chain(s.notes.iter().cloned())
        {
            text.push_str("\n\n");
            text.push_str(&t);
        }
        sections.push((s.title.clone(), text));
    }
    block(ws, "Sections (standing, data, commentary, notes)", sections)?;
    block(
        ws,
        "Key",
        vec![
            (
                "z".into(),
                "no value: nothing to divide by (a blank number, z in value_status)".into(),
            ),
            (
                "c".into(),
                "suppressed in published output (a blank number, c in value_status)".into(),
            ),
            (
                "%".into(),
                "percentages are stored as fractions and shown as 0.0%".into(),
            ),
            ("£".into(), "money is in pounds, exact to the penny".into()),
            (
                "direction".into(),
                "higher_is_better, lower_is_better or neither: how a change is judged".into(),
            ),
        ],
    )?;
    let mut defs = Vec::new();
    for s in &report.sections {
        for m in &s.measures {
            let why = Direction::reason(&m.id).unwrap_or_default();
            defs.push((
                m.id.clone(),
                format!(
                    "{} — {}; {}{}{}",
                    m.label,
                    m.unit.as_str(),
                    m.direction.as_str().replace('_', " "),
                    if why.is_empty() { "" } else { ": " },
                    why
                ),
            ));
        }
    }
    block(ws, "Definitions (in full: docs/measures.md)", defs)?;
    ws.set_column_width(0, 34)?;
    ws.set_column_width(1, 100)?;
    Ok(())
}

/// The Headline sheet: the headline page with its figures as numbers.
fn headline_sheet(ws: &mut Worksheet, report: &Report, f: &Formats) -> Result<(), XlsxError> {
    ws.set_name("Headline")?;
    let hs = headlines(report);
    let (prev, earlier) = report.comparison_periods();
    let group = hl::group_title(&hs).map(|t| (format!("{t} median"), format!("In {t}")));
    let mut headers = vec![
        ("Measure", 34.0),
        (report.period.id.as_str(), 12.0),
        (prev.as_str(), 12.0),
        (earlier.as_str(), 12.0),
        ("Since previous", 16.0),
        ("England", 10.0),
        ("Against England", 24.0),
        ("Stat. neighbours", 12.0),
        ("Against neighbours", 24.0),
    ];
    if let Some((median, standing)) = &group {
        headers.push((median.as_str(), 12.0));
        headers.push((standing.as_str(), 30.0));
    }
    headers.push(("Commentary", 60.0));
    let rows: Vec<Vec<Out>> = hs
        .iter()
        .map(|h| {
            let m = h.measure;
            let kind = Kind::of_value(m);
            let mut row = vec![
                Out::Text(h.label),
                Out::Shown(m.cells.value, kind),
                Out::Shown(m.previous.as_ref().and_then(|s| s.cells.value), kind),
                Out::Shown(m.year_earlier.as_ref().and_then(|s| s.cells.value), kind),
                Out::Owned(hl::travel_text(h)),
                Out::Figure(bench(h.england.map(|p| p.benchmark)), kind),
                Out::Owned(hl::position_text(h.england, m)),
                Out::Figure(bench(h.statistical_neighbours.map(|p| p.benchmark)), kind),
                Out::Owned(hl::position_text(h.statistical_neighbours, m)),
            ];
            if group.is_some() {
                row.push(Out::Figure(
                    bench(m.group.as_ref().map(|g| g.stats.median)),
                    kind,
                ));
                row.push(Out::Owned(hl::group_text(m)));
            }
            row.push(Out::Owned(
                h.commentary.map(hl::one_line).unwrap_or_default(),
            ));
            row
        })
        .collect();
    table_sheet(ws, "Headline", &headers, &rows, 1, f)?;
    if let Some(c) = hl::opening(report) {
        ws.insert_note(
            0,
            0,
            &Note::new(csc_core::text::cut_cell(c).as_ref())
                .set_author("csc")
                .set_width(480)
                .set_height(200),
        )?;
    }
    Ok(())
}

/// The group report as a workbook: `About` (the group, its members and their standing, the
/// notes), then a sheet per section with a line per figure compared (a measure, or one of its
/// rows), the members as columns, then the group's statistics, England and the focus's rank.
/// Numbers are numbers in their unit's format; a member's figure that is not a number is blank,
/// with why (`not shared`, `c`, …) in a note-free text cell only where nothing else can stand.
pub(crate) fn group_xlsx(r: &crate::domain::group::GroupReport) -> anyhow::Result<Vec<u8>> {
    use super::group::{STAT_HEADERS, lines, member_text};
    use crate::domain::group::Source;
    let f = Formats::new();
    let mut wb = Workbook::new();
    {
        let ws = wb.add_worksheet();
        ws.set_name("About")?;
        text_cell(ws, 0, 0, &r.heading(), Some(&f.bold))?;
        let mut row = 2;
        for n in &r.notes {
            text_cell(ws, row, 0, n, Some(&f.wrap))?;
            row += 1;
        }
        row += 1;
        for (c, h) in ["LA", "Code", "Standing"].iter().enumerate() {
            text_cell(ws, row, c as u16, h, Some(&f.header))?;
        }
        for m in &r.members {
            row += 1;
            text_cell(ws, row, 0, &r.member_name(&m.la_code), None)?;
            text_cell(ws, row, 1, &m.la_code, None)?;
            text_cell(ws, row, 2, m.standing.as_str(), None)?;
        }
        ws.set_column_width(0, 60)?;
    }
    for s in &r.sections {
        let ws = wb.add_worksheet();
        ws.set_name(sheet_name(&s.title))?;
        let mut headers: Vec<String> = vec!["Measure id".into(), "Row".into(), "Figure".into()];
        headers.extend(r.members.iter().map(|m| r.member_name(&m.la_code)));
        headers.extend(STAT_HEADERS.iter().map(|h| h.to_string()));
        headers.extend([
            "England".into(),
            "England year".into(),
            format!("Median {}", r.previous_period),
            "Focus rank".into(),
            "Focus quartile".into(),
        ]);
        for (c, h) in headers.iter().enumerate() {
            text_cell(ws, 0, c as u16, h, Some(&f.header))?;
        }
        let mut row = 0u32;
        for m in &s.measures {
            for (label, key, shape, c) in lines(m) {
                row += 1;
                let kind = if shape.is_percent() {
                    Kind::Percent
                } else if m.unit.is_money() {
                    Kind::Money
                } else if m.unit == Unit::RatePer10k {
                    Kind::Rate(shape.decimals().unwrap_or(1))
                } else {
                    Kind::Count
                };
                let num = |ws: &mut Worksheet, col: u16, v: Option<f64>| -> Result<(), XlsxError> {
                    // Statistics are plain numbers in the figure's unit (money in pounds).
                    let c = v.map(|x| {
                        Cell::Number(if kind == Kind::Money {
                            Num::Pence((x * 100.0).round() as i64)
                        } else {
                            Num::Dec(x)
                        })
                    });
                    put(ws, row, col, &Out::Figure(c, kind), &f)
                };
                text_cell(ws, row, 0, &m.id, None)?;
                text_cell(ws, row, 1, key.as_deref().unwrap_or(""), None)?;
                text_cell(ws, row, 2, &label, None)?;
                let mut col = 3u16;
                for mf in &c.members {
                    match mf.source {
                        Source::Live | Source::Published
                            if mf.value.and_then(|v| v.number()).is_some() =>
                        {
                            num(ws, col, mf.value.and_then(|v| v.as_f64()))?;
                            if mf.source == Source::Published {
                                ws.insert_note(
                                    row,
                                    col,
                                    &Note::new(format!(
                                        "DfE published figure, year to 31 March {}",
                                        mf.year.unwrap_or_default()
                                    )),
                                )?;
                            }
                        }
                        _ => text_cell(ws, row, col, &member_text(mf, shape), None)?,
                    }
                    col += 1;
                }
                let st = c.stats;
                for v in [
                    st.map(|s| s.mean),
                    st.map(|s| s.q1),
                    st.map(|s| s.median),
                    st.map(|s| s.q3),
                ] {
                    num(ws, col, v)?;
                    col += 1;
                }
                if let Some(s) = st {
                    ws.write_number(row, col, s.n as f64)?;
                }
                col += 1;
                let own = key.is_none();
                num(ws, col, m.england.filter(|_| own).map(|e| e.value))?;
                if let Some(e) = m.england.filter(|_| own) {
                    ws.write_number(row, col + 1, e.year as f64)?;
                }
                num(ws, col + 2, m.previous_median.filter(|_| own))?;
                if let Some(p) = c.focus {
                    ws.write_number(row, col + 3, p.rank as f64)?;
                    ws.write_number(row, col + 4, p.quartile as f64)?;
                }
            }
        }
        ws.set_freeze_panes(1, 3)?;
        ws.set_column_width(0, 34)?;
        ws.set_column_width(2, 44)?;
        if row > 0 {
            ws.autofilter(0, 0, row, headers.len() as u16 - 1)?;
        }
    }
    Ok(wb.save_to_buffer()?)
}
