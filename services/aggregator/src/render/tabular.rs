//! The report as tables: Markdown for reading, CSV and XLSX for analysts' own work. The CSV and
//! the XLSX share one flattening: a line per measure, and a line per row of a breakdown.

use std::fmt::Write as _;

use csc_core::measure::Num;
use csc_core::text::md_text;

use super::{Figure, cell, fig, has_headline, headline, pounds, value_text};
use crate::domain::{
    cells::{Cell, Cells, SUPPRESSED},
    report::{Report, ReportMeasure, Snapshot},
    sections::SectionStatus,
};

/// One line of the flat report.
pub(crate) struct Line<'a> {
    pub section: &'a str,
    pub status: SectionStatus,
    pub measure: &'a ReportMeasure,
    pub row: Option<(&'a str, &'a str)>,
    pub cells: &'a Cells,
    pub previous: Option<(&'a str, Figure)>,
    pub year_earlier: Option<(&'a str, Figure)>,
}

fn at<'a>(s: &'a Option<Snapshot>, row: Option<&str>) -> Option<(&'a str, Figure)> {
    let s = s.as_ref()?;
    let v = match row {
        None => s.cells.value,
        Some(k) => s
            .rows
            .iter()
            .find(|r| r.key == k)
            .and_then(|r| r.cells.value),
    };
    Some((s.period.as_str(), v))
}

pub(crate) fn lines(report: &Report) -> Vec<Line<'_>> {
    let mut out = Vec::new();
    for s in &report.sections {
        for m in &s.measures {
            if has_headline(m) || m.rows.is_empty() {
                out.push(Line {
                    section: &s.id,
                    status: s.status,
                    measure: m,
                    row: None,
                    cells: &m.cells,
                    previous: at(&m.previous, None),
                    year_earlier: at(&m.year_earlier, None),
                });
            }
            for r in &m.rows {
                out.push(Line {
                    section: &s.id,
                    status: s.status,
                    measure: m,
                    row: Some((&r.key, &r.label)),
                    cells: &r.cells,
                    previous: at(&m.previous, Some(&r.key)),
                    year_earlier: at(&m.year_earlier, Some(&r.key)),
                });
            }
        }
    }
    out
}

const COLUMNS: [&str; 19] = [
    "section",
    "section_status",
    "measure_id",
    "measure",
    "unit",
    "row_key",
    "row",
    "numerator",
    "denominator",
    "value",
    "percent",
    "previous_period",
    "previous_value",
    "year_earlier_period",
    "year_earlier_value",
    "benchmark_year",
    "england",
    "region",
    "statistical_neighbours",
];

/// One field of a flat line.
enum Field<'a> {
    Empty,
    Text(&'a str),
    Figure(Cell<Num>),
}

impl<'a> Field<'a> {
    fn figure(c: Figure) -> Self {
        c.map_or(Field::Empty, Field::Figure)
    }

    fn text(t: Option<&'a str>) -> Self {
        t.map_or(Field::Empty, Field::Text)
    }

    fn decimal(v: Option<f64>) -> Self {
        Field::figure(v.map(|x| Cell::Number(Num::Dec(x))))
    }

    /// For machines: the number as JSON writes it (money in pounds), `z`, `c`, or empty; free
    /// text (labels, category names) neutralised for spreadsheets.
    fn raw(&self) -> String {
        match self {
            Field::Empty => String::new(),
            Field::Text(t) => csc_core::text::csv_cell(t).into_owned(),
            Field::Figure(Cell::NoValue) => "z".into(),
            Field::Figure(Cell::Suppressed) => SUPPRESSED.into(),
            Field::Figure(Cell::Number(n)) => {
                serde_json::to_string(n).expect("a number serialises")
            }
        }
    }
}

/// The 19 columns of a line.
fn fields<'a>(l: &Line<'a>) -> Vec<Field<'a>> {
    let b = l.measure.benchmarks.as_ref().filter(|_| l.row.is_none());
    vec![
        Field::Text(l.section),
        Field::Text(l.status.as_str()),
        Field::Text(&l.measure.id),
        Field::Text(&l.measure.label),
        Field::Text(l.measure.unit.as_str()),
        Field::text(l.row.map(|r| r.0)),
        Field::text(l.row.map(|r| r.1)),
        Field::figure(fig(l.cells.numerator)),
        Field::figure(fig(l.cells.denominator)),
        Field::figure(l.cells.value),
        Field::figure(fig(l.cells.percent)),
        Field::text(l.previous.map(|p| p.0)),
        Field::figure(l.previous.and_then(|p| p.1)),
        Field::text(l.year_earlier.map(|p| p.0)),
        Field::figure(l.year_earlier.and_then(|p| p.1)),
        Field::figure(b.map(|b| Cell::Number(Num::Int(i64::from(b.year))))),
        Field::decimal(b.and_then(|b| b.england)),
        Field::decimal(b.and_then(|b| b.region)),
        Field::decimal(b.and_then(|b| b.statistical_neighbours)),
    ]
}

pub fn csv(report: &Report) -> anyhow::Result<Vec<u8>> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(COLUMNS)?;
    let all = lines(report);
    for s in &report.sections {
        // A section with no figures still has its line: its status, and why, in `measure`.
        if s.measures.is_empty() {
            let why = s.notes.first().map(String::as_str).unwrap_or_default();
            let mut rec = vec![
                Field::Text(&s.id).raw(),
                Field::Text(s.status.as_str()).raw(),
                String::new(),
                Field::Text(why).raw(),
            ];
            rec.resize(COLUMNS.len(), String::new());
            w.write_record(rec)?;
        }
        for l in all.iter().filter(|l| l.section == s.id) {
            w.write_record(fields(l).iter().map(Field::raw))?;
        }
    }
    Ok(w.into_inner()?)
}

/// The columns of a breakdown's table, and each row's cells as text.
pub(crate) fn breakdown(m: &ReportMeasure) -> (Vec<String>, Vec<Vec<String>>) {
    let money = m.unit.is_money();
    let any_ratio = m.rows.iter().any(|r| r.cells.is_ratio());
    let any_percent = m.rows.iter().any(|r| r.cells.percent.is_some());
    let mut headers = vec![String::new()];
    if money && any_ratio {
        headers.extend(["Average £ per week".into(), "Number".into()]);
    } else if money {
        headers.push("£".into());
    } else if any_ratio {
        headers.extend(["Number".into(), "Out of".into(), "%".into()]);
    } else {
        headers.push("Number".into());
        if any_percent {
            headers.push("%".into());
        }
    }
    // The same rows a year earlier, beside them, as the model report sets two years side by side.
    let earlier = m.year_earlier.as_ref().filter(|s| !s.rows.is_empty());
    if let Some(e) = earlier {
        headers.push(e.period.clone());
    }
    let rows = m
        .rows
        .iter()
        .map(|r| {
            let c = &r.cells;
            let mut v = vec![r.label.clone()];
            if money && any_ratio {
                v.extend([pounds(c.value), cell(fig(c.denominator))]);
            } else if money {
                v.push(pounds(c.value));
            } else if any_ratio {
                v.extend([
                    cell(fig(c.numerator)),
                    cell(fig(c.denominator)),
                    cell(c.value),
                ]);
            } else {
                v.push(cell(c.value));
                if any_percent {
                    v.push(cell(fig(c.percent)));
                }
            }
            if let Some(e) = earlier {
                let then = e.rows.iter().find(|x| x.key == r.key).map(|x| &x.cells);
                v.push(match then {
                    Some(t) if t.percent.is_some() && !money => {
                        format!("{} ({}%)", cell(t.value), cell(fig(t.percent)))
                    }
                    Some(t) if money => pounds(t.value),
                    Some(t) => cell(t.value),
                    None => String::new(),
                });
            }
            v
        })
        .collect();
    (headers, rows)
}

/// The headline page in Markdown: the opening commentary, the table and its key.
fn headline_page(out: &mut String, report: &Report) {
    let hs = crate::domain::headline::headlines(report);
    let _ = writeln!(out, "## Headline figures\n");
    if let Some(c) = super::headline::opening(report) {
        let _ = writeln!(out, "{}\n", md_text(c));
    }
    if hs.is_empty() {
        let _ = writeln!(
            out,
            "None of the headline figures could be composed: see the sections below.\n"
        );
        return;
    }
    let notes = super::headline::with_commentary(&hs);
    let rows: Vec<Vec<String>> = hs.iter().map(|h| super::headline::row(h, notes)).collect();
    md_table(out, &super::headline::headers(report, &hs), &rows);
    let _ = writeln!(out, "_{}_\n", md_escape(super::headline::KEY));
}

fn md_escape(s: &str) -> String {
    md_text(s).replace('\n', " ")
}

fn md_table(out: &mut String, headers: &[String], rows: &[Vec<String>]) {
    let _ = writeln!(
        out,
        "| {} |",
        headers
            .iter()
            .map(|h| md_escape(h))
            .collect::<Vec<_>>()
            .join(" | ")
    );
    let _ = writeln!(
        out,
        "|{}|",
        headers
            .iter()
            .enumerate()
            .map(|(i, _)| if i == 0 { "---" } else { "---:" })
            .collect::<Vec<_>>()
            .join("|")
    );
    for r in rows {
        let _ = writeln!(
            out,
            "| {} |",
            r.iter()
                .map(|c| md_escape(c))
                .collect::<Vec<_>>()
                .join(" | ")
        );
    }
    out.push('\n');
}

/// The headline measures of a section: one line each, with the trend and benchmarks.
pub(crate) fn summary(
    report: &Report,
    measures: &[&ReportMeasure],
) -> (Vec<String>, Vec<Vec<String>>) {
    let prev = measures
        .iter()
        .find_map(|m| m.previous.as_ref().map(|s| s.period.clone()))
        .unwrap_or_else(|| "Previous".into());
    let earlier = measures
        .iter()
        .find_map(|m| m.year_earlier.as_ref().map(|s| s.period.clone()))
        .unwrap_or_else(|| "Year earlier".into());
    let headers = vec![
        "Measure".into(),
        report.period.id.clone(),
        prev,
        earlier,
        "England".into(),
        "Region".into(),
        "Stat. neighbours".into(),
        "Benchmarks for year to".into(),
    ];
    let rows = measures
        .iter()
        .map(|m| {
            let b = m.benchmarks.as_ref();
            let bench = |v: Option<f64>| v.map(|x| super::benchmark_text(m, x)).unwrap_or_default();
            vec![
                m.label.clone(),
                headline(m),
                m.previous
                    .as_ref()
                    .map(|s| value_text(m, s.cells.value))
                    .unwrap_or_default(),
                m.year_earlier
                    .as_ref()
                    .map(|s| value_text(m, s.cells.value))
                    .unwrap_or_default(),
                bench(b.and_then(|b| b.england)),
                bench(b.and_then(|b| b.region)),
                bench(b.and_then(|b| b.statistical_neighbours)),
                b.map(|b| format!("31 Mar {}", b.year)).unwrap_or_default(),
            ]
        })
        .collect();
    (headers, rows)
}

pub fn markdown(report: &Report) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "# {} — quarterly performance analysis, {}\n",
        md_escape(report.la_name.as_deref().unwrap_or(&report.la_code)),
        report.period.id
    );
    let _ = writeln!(
        out,
        "LA {} · {} to {} · generated {} · report {} · requested by {}{}\n",
        md_escape(&report.la_code),
        md_escape(&report.period.start),
        md_escape(&report.period.end),
        md_escape(&report.generated_at),
        md_escape(&report.report_id),
        md_escape(&report.requested_by),
        if report.published {
            " · **published: counts of 1 to 5 are shown as c**"
        } else {
            " · internal: not for publication"
        }
    );
    let _ = writeln!(out, "`z`: no value (nothing to divide by).\n");
    headline_page(&mut out, report);
    let _ = writeln!(out, "**The data this report rests on**\n");
    for line in super::front_matter(report) {
        let _ = writeln!(out, "- {}", md_escape(&line));
    }
    out.push('\n');
    for s in &report.sections {
        let _ = writeln!(out, "## Analysis - {}\n", md_escape(&s.title));
        if let Some(t) = super::standing_text(s.status) {
            let _ = writeln!(out, "**{}** {t}\n", s.status.as_str().replace('_', " "));
        }
        if let Some(c) = &s.commentary {
            let _ = writeln!(out, "{}\n", md_text(c));
        }
        for n in &s.notes {
            let _ = writeln!(out, "> {}\n", md_escape(n));
        }
        if let Some(d) = super::data_text(s) {
            let _ = writeln!(out, "_{}_\n", md_escape(&d));
        }
        let heads: Vec<&ReportMeasure> = s.measures.iter().filter(|m| has_headline(m)).collect();
        if !heads.is_empty() {
            let (h, r) = summary(report, &heads);
            md_table(&mut out, &h, &r);
        }
        for m in s.measures.iter().filter(|m| !m.rows.is_empty()) {
            let _ = writeln!(out, "### {}\n", md_escape(&m.label));
            let (mut h, r) = breakdown(m);
            h[0] = m.label.clone();
            md_table(&mut out, &h, &r);
        }
    }
    out
}
