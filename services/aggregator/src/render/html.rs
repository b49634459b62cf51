//! The report as one self-contained HTML file: laid out as the model report, section by section,
//! with the analysts' commentary, accessible tables (captions, header cells with scope) and
//! inline SVG charts. No scripts and no fetches: it opens from a file, offline, and prints.

//!
//! Every piece of text reaches the page through maud, which escapes it: markup comes only from the
//! templates below, so no label, commentary or file name can become markup (docs/security.md).

use maud::{DOCTYPE, Markup, PreEscaped, html};

use super::{
    charts, headline,
    tabular::{breakdown, neighbours_table, parts, summary},
};
use crate::domain::{
    direction::Judgement,
    headline::headlines,
    report::{Report, ReportMeasure, Section},
};

const STYLE: &str = r#"
body{font-family:"Helvetica Neue",Arial,sans-serif;color:#0b0c0c;max-width:60rem;margin:2rem auto;padding:0 1rem;line-height:1.4}
h1{font-size:1.8rem;margin-bottom:.2rem}h2{font-size:1.35rem;border-bottom:3px solid #1d70b8;padding-bottom:.2rem;margin-top:2.2rem}
h3{font-size:1.05rem;margin:1.4rem 0 .4rem}
.meta{color:#505a5f;font-size:.9rem}.published{background:#fff7bf;padding:.4rem .6rem;display:inline-block}
.commentary{background:#f3f2f1;border-left:5px solid #1d70b8;padding:.6rem 1rem;margin:1rem 0}
.note{color:#505a5f;font-size:.9rem;font-style:italic}
.unavailable{background:#fdf0ef;border-left:5px solid #d4351c;padding:.6rem 1rem}
table{border-collapse:collapse;margin:.6rem 0 1.2rem;font-size:.9rem;min-width:50%}
caption{text-align:left;font-weight:bold;padding-bottom:.3rem}
th,td{border-bottom:1px solid #b1b4b6;padding:.3rem .6rem;vertical-align:top}
th{text-align:left}td{text-align:right;font-variant-numeric:tabular-nums}
thead th{border-bottom:2px solid #0b0c0c}
figure{margin:1rem 0}figcaption{font-size:.85rem;color:#505a5f}
svg.chart{max-width:100%;height:auto;font-family:inherit}
nav ol{columns:2;font-size:.95rem}
.headline td.better{color:#00703c;font-weight:bold}.headline td.worse{color:#d4351c;font-weight:bold}
.headline td.comment{text-align:left;font-size:.85rem}
@media print{nav{display:none}body{margin:0;max-width:none}h2{break-after:avoid}table,figure{break-inside:avoid}a{color:inherit;text-decoration:none}}
"#;

/// An accessible table: a caption, header cells with scope, the first cell of each row a row
/// header.
pub(crate) fn table(caption: &str, headers: &[String], rows: &[Vec<String>]) -> Markup {
    html! {
        table {
            caption { (caption) }
            thead { tr { @for h in headers { th scope="col" { (h) } } } }
            tbody {
                @for r in rows {
                    tr {
                        @for (i, c) in r.iter().enumerate() {
                            @if i == 0 { th scope="row" { (c) } } @else { td { (c) } }
                        }
                    }
                }
            }
        }
    }
}

fn figure(svg: Markup, caption: &str) -> Markup {
    html! { figure { (svg) figcaption { (caption) } } }
}

pub fn render(report: &Report) -> String {
    let title = report.title();
    let page = html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width,initial-scale=1";
                title { (title) }
                // The stylesheet is the constant above, not text from anywhere else.
                style { (PreEscaped(STYLE)) }
            }
            body {
                header {
                    h1 { (title) }
                    p class="meta" {
                        "LA " (report.la_code) " · " (report.period.start) " to " (report.period.end)
                        " · generated " (report.generated_at) " · report " code { (report.report_id) }
                        " · requested by " (report.requested_by)
                    }
                    @if report.published {
                        p class="published" { (super::marks_key(report)) }
                    } @else {
                        p class="meta" { (super::marks_key(report)) }
                    }
                    (headline_page(report))
                    section class="data" {
                        h2 { "The data this report rests on" }
                        ul { @for line in super::front_matter(report) { li { (line) } } }
                    }
                }
                nav {
                    h2 { "Contents" }
                    ol { @for s in &report.sections { li { a href=(format!("#{}", s.id)) { (s.title) } } } }
                }
                main {
                    @for s in &report.sections { (section(report, s)) }
                }
            }
        }
    };
    let mut out = page.into_string();
    out.push('\n');
    out
}

fn section(report: &Report, s: &Section) -> Markup {
    let heads = super::summary_measures(s);
    html! {
        section id=(s.id) {
            h2 { "Analysis - " (s.title) }
            @if let Some(t) = super::standing_text(s.status) {
                p class="unavailable" data-status=(s.status.as_str()) { (t) }
            }
            @if let Some(c) = &s.commentary {
                div class="commentary" {
                    @for para in c.split("\n\n").filter(|p| !p.trim().is_empty()) {
                        p {
                            @for (i, l) in para.trim().split('\n').enumerate() {
                                @if i > 0 { br; }
                                (l)
                            }
                        }
                    }
                }
            }
            @for n in &s.notes { p class="note" { (n) } }
            @if let Some(d) = super::data_text(s) { p class="note data" { (d) } }
            @if !heads.is_empty() {
                @let (h, r) = summary(report, &heads);
                (table(&format!("{}: headline measures", s.title), &h, &r))
                @for n in super::summary_notes(&heads) { p class="note" { (n) } }
                @if heads.iter().any(|m| m.benchmarks.is_some()) {
                    p class="note" {
                        "England, region and statistical neighbours (the median of the LA's 10 DfE neighbours): the latest figures the DfE has published, for the year to 31 March shown."
                    }
                }
                @if let Some((h, r)) = neighbours_table(&heads) {
                    details class="neighbours" {
                        summary { "Statistical neighbours, by name (" (r.len()) ")" }
                        (table(&format!("{}: statistical neighbours' published figures", s.title), &h, &r))
                    }
                }
            }
            @for c in charts::charts(report, s) { (figure(c.svg, c.caption)) }
            @for m in s.measures.iter().filter(|m| !m.rows.is_empty()) {
                (breakdown_tables(m))
            }
        }
    }
}

/// The headline page: the figures asked about first, with their direction of travel (arrow,
/// word and colour) and position against the benchmarks.
fn headline_page(report: &Report) -> Markup {
    let hs = headlines(report);
    let notes = headline::with_commentary(&hs);
    let group = headline::group_title(&hs).is_some();
    let judged = |j: Option<Judgement>| match j {
        Some(Judgement::Better) => "better",
        Some(Judgement::Worse) => "worse",
        _ => "",
    };
    html! {
        section class="headline" id="headline" {
            h2 { "Headline figures" }
            @if let Some(c) = headline::opening(report) {
                div class="commentary" { @for para in c.split("\n\n").filter(|p| !p.trim().is_empty()) { p { (para.trim()) } } }
            }
            @if hs.is_empty() {
                p class="note" { "None of the headline figures could be composed: see the sections below." }
            } @else {
                table {
                    caption { "Headline figures, " (report.period.id) }
                    thead { tr { @for h in headline::headers(report, &hs) { th scope="col" { (h) } } } }
                    tbody {
                        @for h in &hs {
                            @let r = headline::row(h, &hs);
                            tr {
                                th scope="row" { a href=(format!("#{}", h.section)) { (r[0]) } }
                                td { (r[1]) } td { (r[2]) } td { (r[3]) }
                                td class=(judged(h.travel.map(|t| t.1))) { (r[4]) }
                                td class=(judged(h.england.map(|p| p.judgement))) { (r[5]) }
                                td class=(judged(h.statistical_neighbours.map(|p| p.judgement))) { (r[6]) }
                                @if group { td { (r[7]) } }
                                @if notes { td class="comment" { (r[r.len() - 1]) } }
                            }
                        }
                    }
                }
                p class="note" { (headline::KEY) }
            }
        }
    }
}

/// A table whose first header cell is left blank (the rows' own names are headers).
fn blank_first((mut h, r): (Vec<String>, Vec<Vec<String>>)) -> (Vec<String>, Vec<Vec<String>>) {
    if let Some(first) = h.first_mut() {
        first.clear();
    }
    (h, r)
}

/// A breakdown's tables, their first header cell left blank (the rows' own names are headers);
/// an appendix folded away under its title.
fn breakdown_tables(m: &ReportMeasure) -> Markup {
    html! {
        @for p in parts(m) {
            @let (h, r) = blank_first(breakdown(m, &p.rows));
            @if p.appendix {
                details {
                    summary { (p.title) " (" (p.rows.len()) ")" }
                    (table(&p.title, &h, &r))
                    @if let Some(n) = &p.note { p class="note" { (n) } }
                }
            } @else {
                (table(&p.title, &h, &r))
                @if let Some(n) = &p.note { p class="note" { (n) } }
            }
        }
    }
}
