//! The report as tables: Markdown for reading, CSV and XLSX for analysts' own work. The CSV and
//! the XLSX share one flattening: a line per measure, and a line per row of a breakdown.

use std::fmt::Write as _;

use csc_core::measure::Num;
use csc_core::text::md_text;

use super::{Figure, cell, fig, has_headline, headline, pounds, value_text};
use crate::domain::{
    cells::{Cell, Cells, SUPPRESSED},
    report::{Report, ReportMeasure, ReportRow, Snapshot},
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
        Some(k) => earlier_row(s, k).and_then(|r| r.cells.value),
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

const COLUMNS: [&str; 28] = [
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
    "group",
    "group_n",
    "group_mean",
    "group_median",
    "group_q1",
    "group_q3",
    "group_rank",
    "group_of",
    "group_quartile",
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

/// The 28 columns of a line.
fn fields<'a>(l: &Line<'a>) -> Vec<Field<'a>> {
    let b = l.measure.benchmarks.as_ref().filter(|_| l.row.is_none());
    let g = l.measure.group.as_ref().filter(|_| l.row.is_none());
    let int = |v: Option<usize>| Field::figure(v.map(|v| Cell::Number(Num::Int(v as i64))));
    let focus = g.and_then(|g| g.focus);
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
        Field::text(g.map(|g| g.group.as_str())),
        int(g.map(|g| g.stats.n)),
        Field::decimal(g.map(|g| g.stats.mean)),
        Field::decimal(g.map(|g| g.stats.median)),
        Field::decimal(g.map(|g| g.stats.q1)),
        Field::decimal(g.map(|g| g.stats.q3)),
        int(focus.map(|p| p.rank)),
        int(focus.map(|p| p.of)),
        int(focus.map(|p| usize::from(p.quartile))),
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

/// One table of a measure's breakdown: what it is called, its rows, and whether it is an
/// appendix (shown folded away in HTML, after the main table elsewhere), with a note.
pub(crate) struct Part<'a> {
    pub title: String,
    pub rows: Vec<&'a ReportRow>,
    pub appendix: bool,
    pub note: Option<String>,
}

/// The exploitation section's own rows, in the model report's order: child sexual exploitation,
/// criminal exploitation, going missing, gangs, trafficking (CIN census factor codes).
pub(crate) const EXPLOITATION_FACTORS: [&str; 5] = ["11A", "24A", "10A", "13A", "12A"];

/// The tables a measure's breakdown is shown in: one, except the assessment factors, whose
/// exploitation rows are the section's table and the other factors an appendix of the ones
/// recorded now or a year earlier (the rest are counted in a note; every row is in the JSON, CSV
/// and XLSX).
pub(crate) fn parts(m: &ReportMeasure) -> Vec<Part<'_>> {
    if m.id != "frontdoor.assessment_factors" {
        return vec![Part {
            title: m.label.clone(),
            rows: m.rows.iter().collect(),
            appendix: false,
            note: None,
        }];
    }
    let zero = |r: &ReportRow| {
        let none = |c: Option<Cell<Num>>| c.and_then(Cell::as_f64) == Some(0.0);
        none(r.cells.value)
            && m.year_earlier
                .as_ref()
                .and_then(|e| earlier_row(e, &r.key))
                .is_none_or(|e| none(e.cells.value))
    };
    let main: Vec<&ReportRow> = EXPLOITATION_FACTORS
        .iter()
        .filter_map(|k| m.row(k))
        .collect();
    let others: Vec<&ReportRow> = m
        .rows
        .iter()
        .filter(|r| !EXPLOITATION_FACTORS.contains(&r.key.as_str()))
        .collect();
    let shown: Vec<&ReportRow> = others.iter().copied().filter(|r| !zero(r)).collect();
    let left = others.len() - shown.len();
    vec![
        Part {
            title: "Exploitation and related factors identified at the end of assessment".into(),
            rows: main,
            appendix: false,
            note: None,
        },
        Part {
            title: "Other factors identified at the end of assessment".into(),
            rows: shown,
            appendix: true,
            note: (left > 0).then(|| {
                format!(
                    "{left} other factor(s) were recorded at no assessment in either period and \
                     are left out here (every factor is in the JSON, CSV and XLSX)."
                )
            }),
        },
    ]
}

/// The row of a snapshot a year earlier that matches `key`: the same key, or for a row of one
/// month (`question.2026-07`) the same month a year before (`question.2025-07`).
pub(crate) fn earlier_row<'a>(e: &'a Snapshot, key: &str) -> Option<&'a ReportRow> {
    e.rows.iter().find(|x| x.key == key).or_else(|| {
        let (question, month) = key.rsplit_once('.')?;
        let (year, mm) = month.split_once('-')?;
        if year.len() != 4 || mm.len() != 2 || !mm.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let key = format!("{question}.{}-{mm}", year.parse::<i32>().ok()? - 1);
        e.rows.iter().find(|x| x.key == key)
    })
}

/// A percentage in a table, always to 1 dp: `75.0`.
fn pct(c: Figure) -> String {
    match c {
        Some(Cell::Number(n)) => csc_core::text::fixed(n.as_f64(), 1),
        other => cell(other),
    }
}

/// The columns of a breakdown's table, and each of `rows`' cells as text.
pub(crate) fn breakdown(m: &ReportMeasure, rows: &[&ReportRow]) -> (Vec<String>, Vec<Vec<String>>) {
    let money = m.unit.is_money();
    let any_ratio = rows.iter().any(|r| r.cells.is_ratio());
    let any_percent = rows.iter().any(|r| r.cells.percent.is_some());
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
    let rows = rows
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
                    pct(c.value),
                ]);
            } else {
                v.push(cell(c.value));
                if any_percent {
                    v.push(pct(fig(c.percent)));
                }
            }
            if let Some(e) = earlier {
                let then = earlier_row(e, &r.key).map(|x| &x.cells);
                v.push(match then {
                    Some(t) if t.percent.is_some() && !money => {
                        format!("{} ({}%)", cell(t.value), pct(fig(t.percent)))
                    }
                    Some(t) if money => pounds(t.value),
                    Some(t) if t.is_ratio() => pct(t.value),
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
    let rows: Vec<Vec<String>> = hs.iter().map(|h| super::headline::row(h, &hs)).collect();
    md_table(out, &super::headline::headers(report, &hs), &rows);
    let _ = writeln!(out, "_{}_\n", md_escape(super::headline::KEY));
}

pub(crate) fn md_escape(s: &str) -> String {
    md_text(s).replace('\n', " ")
}

pub(crate) fn md_table(out: &mut String, headers: &[String], rows: &[Vec<String>]) {
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
    let (prev, earlier) = report.comparison_periods();
    // The benchmarking group the report is compared with, live, if any: its median and the
    // LA's rank, for the period itself.
    let group = measures
        .iter()
        .find_map(|m| m.group.as_ref().map(|g| g.title.clone()));
    let mut headers = vec![
        "Measure".into(),
        report.period.id.clone(),
        prev,
        earlier,
        "England".into(),
        "Region".into(),
        "Stat. neighbours".into(),
        "Benchmarks for year to".into(),
    ];
    if let Some(t) = &group {
        headers.push(format!("{t} median, {}", report.period.id));
        headers.push(format!("Rank in {t}"));
    }
    let rows = measures
        .iter()
        .map(|m| {
            let b = m.benchmarks.as_ref();
            let bench = |v: Option<f64>| v.map(|x| super::benchmark_text(m, x)).unwrap_or_default();
            let g = m.group.as_ref();
            let group_cells = group.as_ref().map(|_| {
                [
                    g.map(|g| super::benchmark_text(m, g.stats.median))
                        .unwrap_or_default(),
                    g.and_then(|g| g.focus)
                        .map(|p| format!("{} of {}", p.rank, p.of))
                        .unwrap_or_default(),
                ]
            });
            let mut line = vec![
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
            ];
            line.extend(group_cells.into_iter().flatten());
            line
        })
        .collect();
    (headers, rows)
}

/// The statistical neighbours by name with their published figures, a column per benchmarked
/// measure of `heads`: what each section's neighbours' median is the median of. None when no
/// measure has neighbours.
pub(crate) fn neighbours_table(
    heads: &[&ReportMeasure],
) -> Option<(Vec<String>, Vec<Vec<String>>)> {
    let with: Vec<(&ReportMeasure, &crate::domain::reference::Benchmarks)> = heads
        .iter()
        .filter_map(|m| m.benchmarks.as_ref().map(|b| (*m, b)))
        .filter(|(_, b)| !b.neighbours.is_empty())
        .collect();
    let (_, first) = with.first()?;
    let mut headers = vec!["Statistical neighbour".to_owned()];
    headers.extend(
        with.iter()
            .map(|(m, b)| format!("{} ({})", m.label, b.year)),
    );
    let rows = first
        .neighbours
        .iter()
        .map(|n| {
            let mut line = vec![
                n.name
                    .clone()
                    .unwrap_or_else(|| format!("LA {}", n.la_code)),
            ];
            line.extend(with.iter().map(|(m, b)| {
                b.neighbours
                    .iter()
                    .find(|x| x.la_code == n.la_code)
                    .and_then(|x| x.value)
                    .map_or_else(
                        || "not published".to_owned(),
                        |v| super::benchmark_text(m, v),
                    )
            }));
            line
        })
        .collect();
    Some((headers, rows))
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
    let _ = writeln!(out, "{}\n", md_escape(&super::marks_key(report)));
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
        let heads = super::summary_measures(s);
        if !heads.is_empty() {
            let (h, r) = summary(report, &heads);
            md_table(&mut out, &h, &r);
            for n in super::summary_notes(&heads) {
                let _ = writeln!(out, "_{n}_\n");
            }
            if let Some((h, r)) = neighbours_table(&heads) {
                let _ = writeln!(out, "Statistical neighbours' published figures:\n");
                md_table(&mut out, &h, &r);
            }
        }
        for m in s.measures.iter().filter(|m| !m.rows.is_empty()) {
            for p in parts(m) {
                let _ = writeln!(out, "### {}\n", md_escape(&p.title));
                let (mut h, r) = breakdown(m, &p.rows);
                h[0] = p.title.clone();
                md_table(&mut out, &h, &r);
                if let Some(n) = &p.note {
                    let _ = writeln!(out, "_{}_\n", md_escape(n));
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn measure(json: serde_json::Value) -> ReportMeasure {
        serde_json::from_value(json).unwrap()
    }

    /// A month's row a year earlier is the same question's row for the same month a year before;
    /// other rows match by key.
    #[test]
    fn a_row_of_one_month_is_matched_a_year_earlier_by_its_month() {
        let e: Snapshot = serde_json::from_value(serde_json::json!({
            "period": "2025-26-Q2",
            "rows": [
                { "key": "q.2025-07", "label": "", "numerator": 3, "denominator": 4, "value": 75.0 },
                { "key": "police", "label": "", "value": 9 }
            ]
        }))
        .unwrap();
        assert_eq!(earlier_row(&e, "q.2026-07").unwrap().key, "q.2025-07");
        assert_eq!(earlier_row(&e, "police").unwrap().key, "police");
        assert!(earlier_row(&e, "q.2026-08").is_none());
        assert!(earlier_row(&e, "a.b").is_none());
    }

    /// The factors: the five exploitation rows in the model's order, then an appendix of the
    /// others recorded now or a year earlier, the rest counted in its note.
    #[test]
    fn assessment_factors_split_into_exploitation_and_an_appendix_without_empty_rows() {
        let row = |k: &str, v: i64| serde_json::json!({ "key": k, "label": k, "value": v });
        let m = measure(serde_json::json!({
            "id": "frontdoor.assessment_factors", "label": "Factors", "unit": "count",
            "rows": [row("1A", 0), row("2A", 5), row("3A", 0), row("10A", 2), row("11A", 0),
                     row("12A", 1), row("13A", 0), row("24A", 3)],
            "year_earlier": { "period": "x", "rows": [row("1A", 0), row("3A", 4)] }
        }));
        let p = parts(&m);
        let keys = |i: usize| p[i].rows.iter().map(|r| r.key.as_str()).collect::<Vec<_>>();
        assert_eq!(
            keys(0),
            ["11A", "24A", "10A", "13A", "12A"],
            "zeros kept: the model's rows"
        );
        assert!(!p[0].appendix && p[1].appendix);
        assert_eq!(keys(1), ["2A", "3A"], "3A was recorded a year earlier");
        assert!(p[1].note.as_deref().unwrap().starts_with("1 other factor"));
        // Any other measure is one table of all its rows.
        let other = measure(serde_json::json!({
            "id": "frontdoor.referrals_by_source", "label": "By source", "unit": "count",
            "rows": [row("police", 0)]
        }));
        assert_eq!(parts(&other).len(), 1);
        assert_eq!(parts(&other)[0].rows.len(), 1);
    }
}
