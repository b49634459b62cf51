//! The group report rendered: JSON (its data, docs/report.schema.json `GroupReport`), HTML (a
//! section per report section, each measure a small-multiples chart, a dot per LA with the focus
//! highlighted, the group median and England marked, beside an accessible table), Markdown, CSV
//! (one tidy line per measure, row and member, with the group's statistics) and XLSX (a sheet per
//! section, LAs as columns and measures as rows, numbers as numbers).

use maud::{DOCTYPE, Markup, html};

use csc_core::{Unit, measure::Num, text::fixed};

use super::{
    Figure, Format, cell, fig,
    html::table,
    number,
    tabular::{md_escape, md_table},
};
use crate::domain::{
    cells::Cell,
    direction::Direction,
    group::{
        Comparison, GroupMeasure, GroupReport, MemberFigure, Position, RowFigure, Source, Standing,
    },
};

/// The group report in `format` (Word is for the single-LA report only).
pub fn render_group(report: &GroupReport, format: Format) -> anyhow::Result<Vec<u8>> {
    Ok(match format {
        Format::Json => {
            let mut v = serde_json::to_vec_pretty(report)?;
            v.push(b'\n');
            v
        }
        Format::Html => html(report).into_bytes(),
        Format::Markdown => markdown(report).into_bytes(),
        Format::Csv => csv(report)?,
        Format::Xlsx => super::xlsx::group_xlsx(report)?,
        Format::Docx => {
            anyhow::bail!("a group report is not rendered as Word: use html, md, json, xlsx or csv")
        }
    })
}

/// How a figure of a measure (or of one of its rows) is printed.
#[derive(Clone, Copy)]
pub(crate) struct Shape {
    unit: Unit,
    decimals: Option<usize>,
    percent: bool,
}

impl Shape {
    pub(crate) fn of(m: &GroupMeasure) -> Shape {
        Shape {
            unit: m.unit,
            decimals: m.decimals(),
            percent: m.unit == Unit::Ratio,
        }
    }

    pub(crate) fn of_row(m: &GroupMeasure, by: RowFigure) -> Shape {
        match by {
            RowFigure::Percent => Shape {
                unit: Unit::Ratio,
                decimals: Some(1),
                percent: true,
            },
            RowFigure::Value => Shape::of(m),
        }
    }

    /// A number (a member's, a statistic) in the figure's unit and places.
    pub(crate) fn text(self, v: f64) -> String {
        let n = match self.decimals {
            Some(dp) => fixed(v, dp),
            // Statistics of counts and money are not whole: one decimal place.
            None if v.fract() != 0.0 && !self.unit.is_money() => fixed(v, 1),
            None if self.unit.is_money() => fixed(v, if v.fract() == 0.0 { 0 } else { 2 }),
            None => number(v),
        };
        if self.percent {
            format!("{n}%")
        } else if self.unit.is_money() {
            format!("£{n}")
        } else {
            n
        }
    }

    /// Whether a spreadsheet shows it as a percentage.
    pub(crate) fn is_percent(self) -> bool {
        self.percent
    }

    pub(crate) fn decimals(self) -> Option<usize> {
        self.decimals
    }
}

/// A member's figure as text: its number, `c`, no value, or why there is none.
pub(crate) fn member_text(f: &MemberFigure, shape: Shape) -> String {
    match f.source {
        Source::NotShared => "not shared".into(),
        Source::NotHeld => "not held".into(),
        Source::Unavailable => "unavailable".into(),
        Source::Published => match f.value.and_then(|c| c.as_f64()) {
            Some(v) => format!(
                "{} ({}, published)",
                shape.text(v),
                f.year.unwrap_or_default()
            ),
            None => "not held".into(),
        },
        Source::Live => match f.value {
            Some(Cell::Number(n)) => shape.text(n.as_f64()),
            other => {
                let t = cell(other);
                if t.is_empty() { "–".into() } else { t }
            }
        },
    }
}

pub(crate) fn position_text(p: Option<Position>, d: Direction) -> String {
    match p {
        None => String::new(),
        Some(p) => {
            let quarter = match (d, p.quartile) {
                (Direction::Neither, 1) => "highest quarter".to_owned(),
                (Direction::Neither, 4) => "lowest quarter".to_owned(),
                (Direction::Neither, q) => format!("quarter {q} from the highest"),
                (_, 1) => "best quarter".to_owned(),
                (_, 4) => "worst quarter".to_owned(),
                (_, q) => format!("quarter {q} of 4"),
            };
            format!("{} of {} ({quarter})", p.rank, p.of)
        }
    }
}

/// The statistics' column headings and cells, as every table prints them.
pub(crate) const STAT_HEADERS: [&str; 5] = [
    "Mean",
    "Lower quartile",
    "Median",
    "Upper quartile",
    "Members counted",
];

/// What the report's front matter says: the group, its members and their standing, the notes.
fn about(r: &GroupReport) -> Vec<String> {
    let mut out = vec![format!(
        "{} members ({}); generated {} by {}{}.",
        r.members.len(),
        r.kind.as_str(),
        r.generated_at,
        r.requested_by,
        match &r.focus {
            Some(f) => format!("; focus: {}", r.member_name(f)),
            None => String::new(),
        }
    )];
    out.extend(r.notes.iter().cloned());
    out.push(
        "Each member's figure is its own single-LA report's for the period. Statistics are over \
         the members' live figures only; quartiles interpolate (Excel's QUARTILE.INC). Rank 1 is \
         the best where the DfE reads a direction as better, else the highest. England: the DfE's \
         latest published figure, for the year to 31 March shown."
            .into(),
    );
    out
}

fn standing_text(s: Standing) -> &'static str {
    match s {
        Standing::Held => "held",
        Standing::NotHeld => "not held (published figures only)",
        Standing::NotShared => "not shared",
    }
}

/// The figures compared for a measure: its own, then each row's, with their shape and label.
pub(crate) fn lines(m: &GroupMeasure) -> Vec<(String, Option<String>, Shape, &Comparison)> {
    let mut out = Vec::new();
    if let Some(c) = &m.figure {
        out.push((m.label.clone(), None, Shape::of(m), c));
    }
    for r in &m.rows {
        let label = match r.compares {
            RowFigure::Percent => format!("{} (% of total)", r.label),
            RowFigure::Value => r.label.clone(),
        };
        out.push((
            label,
            Some(r.key.clone()),
            Shape::of_row(m, r.compares),
            &r.comparison,
        ));
    }
    out
}

/// A measure's table for people: a line per member (the focus marked), then the group's lines.
fn member_table(
    r: &GroupReport,
    m: &GroupMeasure,
    c: &Comparison,
    shape: Shape,
) -> Vec<Vec<String>> {
    let mut rows: Vec<Vec<String>> = c
        .members
        .iter()
        .map(|f| {
            let mut name = r.member_name(&f.la_code);
            if r.focus.as_deref() == Some(f.la_code.as_str()) {
                name.push_str(" (focus)");
            }
            let mut note = String::new();
            if let Some(s) = f.section_status {
                note = format!("section {}", s.as_str().replace('_', " "));
            }
            vec![name, member_text(f, shape), note]
        })
        .collect();
    if let Some(s) = c.stats {
        for (label, v) in [
            ("Group mean", s.mean),
            ("Group median", s.median),
            ("Lower quartile", s.q1),
            ("Upper quartile", s.q3),
        ] {
            rows.push(vec![
                label.into(),
                shape.text(v),
                format!("{} members counted", s.n),
            ]);
        }
    }
    if c.focus.is_some() {
        rows.push(vec![
            "Focus rank".into(),
            position_text(c.focus, m.direction),
            String::new(),
        ]);
    }
    rows
}

/// A measure's own figure for people: the members and the group, then England and the previous
/// period's median.
fn figure_rows(
    r: &GroupReport,
    m: &GroupMeasure,
    c: &Comparison,
    shape: Shape,
) -> Vec<Vec<String>> {
    let mut rows = member_table(r, m, c, shape);
    if let Some(e) = m.england {
        rows.push(vec![
            "England (published)".into(),
            shape.text(e.value),
            format!("year to 31 March {}", e.year),
        ]);
    }
    if let Some(p) = m.previous_median {
        rows.push(vec![
            format!("Group median, {}", r.previous_period),
            shape.text(p),
            String::new(),
        ]);
    }
    rows
}

const STYLE: &str = r#"
body{font-family:"Helvetica Neue",Arial,sans-serif;color:#0b0c0c;max-width:64rem;margin:2rem auto;padding:0 1rem;line-height:1.4}
h1{font-size:1.8rem;margin-bottom:.2rem}h2{font-size:1.35rem;border-bottom:3px solid #1d70b8;padding-bottom:.2rem;margin-top:2.2rem}
h3{font-size:1.05rem;margin:1.4rem 0 .4rem}.meta,.note{color:#505a5f;font-size:.9rem}
.published{background:#fff7bf;padding:.4rem .6rem;display:inline-block}
table{border-collapse:collapse;margin:.6rem 0 1.2rem;font-size:.9rem;min-width:50%}
caption{text-align:left;font-weight:bold;padding-bottom:.3rem}
th,td{border-bottom:1px solid #b1b4b6;padding:.3rem .6rem;vertical-align:top}
th{text-align:left}td{text-align:right;font-variant-numeric:tabular-nums}
thead th{border-bottom:2px solid #0b0c0c}
.multiple{display:flex;flex-wrap:wrap;gap:1rem;align-items:flex-start}
svg.chart{max-width:100%;height:auto;font-family:inherit}
@media print{body{margin:0;max-width:none}table,svg{break-inside:avoid}}
"#;

const FOCUS: &str = "#f46a25";

/// A measure's small multiple: a dot per member with a live figure, from the best (or highest)
/// down, the focus in orange, the group median as a solid line and England as a dashed one.
fn dots(r: &GroupReport, m: &GroupMeasure, c: &Comparison, shape: Shape) -> Option<Markup> {
    let mut live: Vec<(&MemberFigure, f64)> = c
        .members
        .iter()
        .filter_map(|f| f.counted().map(|v| (f, v)))
        .collect();
    if live.is_empty() {
        return None;
    }
    if m.direction == Direction::LowerIsBetter {
        live.sort_by(|a, b| a.1.total_cmp(&b.1));
    } else {
        live.sort_by(|a, b| b.1.total_cmp(&a.1));
    }
    let england = m.england.map(|e| e.value);
    let max = live
        .iter()
        .map(|x| x.1)
        .chain(england)
        .fold(0.0f64, f64::max)
        .max(f64::MIN_POSITIVE)
        * 1.05;
    let (label_w, plot_w, row_h, top) = (200.0, 260.0, 18.0, 22.0);
    let x = |v: f64| label_w + (v.max(0.0) / max) * plot_w;
    let h = top + row_h * live.len() as f64 + 10.0;
    let median = c.stats.map(|s| s.median);
    let desc: Vec<String> = live
        .iter()
        .map(|(f, v)| format!("{}: {}", r.member_name(&f.la_code), shape.text(*v)))
        .chain(median.map(|v| format!("group median: {}", shape.text(v))))
        .chain(england.map(|v| format!("England: {}", shape.text(v))))
        .collect();
    let title = format!("{}: each member", m.label);
    Some(html! {
        svg class="chart" xmlns="http://www.w3.org/2000/svg" viewBox=(format!("0 0 {} {}", label_w + plot_w + 70.0, h))
            width=(label_w + plot_w + 70.0) height=(h) role="img" aria-label=(title) {
            title { (title) }
            desc { (desc.join("; ")) }
            @if let Some(v) = median {
                line x1=(format!("{:.1}", x(v))) x2=(format!("{:.1}", x(v))) y1="14" y2=(format!("{:.1}", h - 6.0)) stroke="#0b0c0c" stroke-width="1.5" {}
                text x=(format!("{:.1}", x(v))) y="11" text-anchor="middle" font-size="10" { "median " (shape.text(v)) }
            }
            @if let Some(v) = england {
                line x1=(format!("{:.1}", x(v))) x2=(format!("{:.1}", x(v))) y1="14" y2=(format!("{:.1}", h - 6.0)) stroke="#28a197" stroke-width="1.5" stroke-dasharray="4 3" {}
            }
            @for (i, (f, v)) in live.iter().enumerate() {
                @let y = top + row_h * i as f64 + row_h / 2.0;
                @let focus = r.focus.as_deref() == Some(f.la_code.as_str());
                text x=(label_w - 6.0) y=(format!("{:.1}", y + 4.0)) text-anchor="end" font-size="11" font-weight=(if focus { "bold" } else { "normal" }) { (r.member_name(&f.la_code)) }
                line x1=(label_w) x2=(format!("{:.1}", x(*v))) y1=(format!("{:.1}", y)) y2=(format!("{:.1}", y)) stroke="#b1b4b6" stroke-width="1" {}
                circle cx=(format!("{:.1}", x(*v))) cy=(format!("{:.1}", y)) r=(if focus { "6" } else { "4.5" }) fill=(if focus { FOCUS } else { super::svg::BLUE }) {}
                text x=(format!("{:.1}", x(*v) + 9.0)) y=(format!("{:.1}", y + 4.0)) font-size="11" { (shape.text(*v)) }
            }
        }
    })
}

/// A breakdown's rows for people: a line per row, a column per member the report shows, then the
/// group median.
fn rows_table(r: &GroupReport, m: &GroupMeasure) -> (Vec<String>, Vec<Vec<String>>) {
    let mut headers = vec![m.label.clone()];
    headers.extend(
        r.members
            .iter()
            .filter(|x| x.standing != Standing::NotShared)
            .map(|x| r.member_name(&x.la_code)),
    );
    headers.push("Group median".into());
    let rows = m
        .rows
        .iter()
        .map(|row| {
            let shape = Shape::of_row(m, row.compares);
            let mut line = vec![match row.compares {
                RowFigure::Percent => format!("{} (%)", row.label),
                RowFigure::Value => row.label.clone(),
            }];
            line.extend(
                row.comparison
                    .members
                    .iter()
                    .filter(|f| f.source != Source::NotShared)
                    .map(|f| member_text(f, shape)),
            );
            line.push(
                row.comparison
                    .stats
                    .map(|s| shape.text(s.median))
                    .unwrap_or_default(),
            );
            line
        })
        .collect();
    (headers, rows)
}

/// The group's median over the trend's periods, with the focus LA's own line where it has one.
fn trend(r: &GroupReport, m: &GroupMeasure) -> Option<Markup> {
    if m.series.iter().all(|p| p.median.is_none()) {
        return None;
    }
    let x: Vec<String> = m.series.iter().map(|p| p.period.clone()).collect();
    let mut lines = Vec::new();
    if let Some(f) = &r.focus
        && m.series.iter().any(|p| p.focus.is_some())
    {
        lines.push(super::svg::Series {
            name: r.member_name(f),
            values: m.series.iter().map(|p| p.focus).collect(),
            dashed: false,
        });
    }
    lines.push(super::svg::Series {
        name: "Group median".into(),
        values: m.series.iter().map(|p| p.median).collect(),
        dashed: true,
    });
    Some(html! {
        figure {
            (super::svg::line(&format!("{}, last {} periods", m.label, x.len()), &x, &lines))
            figcaption { "The group's median each period over the members with the whole trend (dashed)" @if r.focus.is_some() { ", and the focus LA's own figure" } "." }
        }
    })
}

pub(crate) fn html(r: &GroupReport) -> String {
    let head = vec!["".to_owned(), "Figure".to_owned(), "Note".to_owned()];
    let page = html! {
        (DOCTYPE)
        html lang="en-GB" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (r.heading()) }
                style { (maud::PreEscaped(STYLE)) }
            }
            body {
                h1 { (r.heading()) }
                @if r.published { p class="published" { "Published: small counts suppressed (c)." } }
                @for line in about(r) { p class="meta" { (line) } }
                table {
                    caption { "Members" }
                    thead { tr { th scope="col" { "LA" } th scope="col" { "Code" } th scope="col" { "Standing" } } }
                    tbody { @for mb in &r.members { tr { th scope="row" { (r.member_name(&mb.la_code)) } td { (mb.la_code) } td { (standing_text(mb.standing)) } } } }
                }
                @for s in &r.sections {
                    h2 { (s.title) }
                    @if s.measures.is_empty() { p class="note" { "No member holds figures for this section." } }
                    @for m in &s.measures {
                        h3 { (m.label) }
                        @if let Some(c) = &m.figure {
                            @let shape = Shape::of(m);
                            div class="multiple" {
                                @if let Some(chart) = dots(r, m, c, shape) { (chart) }
                                (table(&m.label, &head, &figure_rows(r, m, c, shape)))
                            }
                        }
                        @if let Some(chart) = trend(r, m) { (chart) }
                        @if !m.rows.is_empty() {
                            @let (headers, rows) = rows_table(r, m);
                            (table(&format!("{}: by row", m.label), &headers, &rows))
                        }
                    }
                }
            }
        }
    };
    page.into_string()
}

pub(crate) fn markdown(r: &GroupReport) -> String {
    let mut out = format!("# {}\n\n", md_escape(&r.heading()));
    for line in about(r) {
        out.push_str(&format!("{}\n\n", md_escape(&line)));
    }
    let members: Vec<Vec<String>> = r
        .members
        .iter()
        .map(|m| {
            vec![
                r.member_name(&m.la_code),
                m.la_code.clone(),
                standing_text(m.standing).into(),
            ]
        })
        .collect();
    md_table(
        &mut out,
        &["LA".into(), "Code".into(), "Standing".into()],
        &members,
    );
    let head = vec!["".to_owned(), "Figure".to_owned(), "Note".to_owned()];
    for s in &r.sections {
        out.push_str(&format!("## {}\n\n", md_escape(&s.title)));
        for m in &s.measures {
            out.push_str(&format!("### {}\n\n", md_escape(&m.label)));
            if let Some(c) = &m.figure {
                let shape = Shape::of(m);
                md_table(&mut out, &head, &figure_rows(r, m, c, shape));
            }
            if !m.rows.is_empty() {
                let (headers, rows) = rows_table(r, m);
                md_table(&mut out, &headers, &rows);
            }
        }
    }
    out
}

/// A figure's number as CSV writes it: pounds for money, empty for none.
fn csv_number(c: Figure) -> String {
    match c {
        Some(Cell::Number(n)) => {
            let v = n.as_f64();
            if matches!(n, Num::Pence(_)) {
                format!("{v:.2}")
            } else {
                v.to_string()
            }
        }
        _ => String::new(),
    }
}

fn csv_status(c: Figure) -> &'static str {
    match c {
        Some(Cell::NoValue) => "z",
        Some(Cell::Suppressed) => "c",
        _ => "",
    }
}

fn opt(v: Option<f64>) -> String {
    v.map(|x| x.to_string()).unwrap_or_default()
}

pub(crate) fn csv(r: &GroupReport) -> anyhow::Result<Vec<u8>> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record([
        "group",
        "period",
        "section",
        "measure_id",
        "label",
        "unit",
        "direction",
        "row_key",
        "compares",
        "la_code",
        "la_name",
        "source",
        "value",
        "value_status",
        "numerator",
        "denominator",
        "published_year",
        "section_status",
        "group_n",
        "group_mean",
        "group_q1",
        "group_median",
        "group_q3",
        "england",
        "england_year",
        "previous_median",
        "focus",
        "focus_rank",
        "focus_of",
        "focus_quartile",
    ])?;
    for s in &r.sections {
        for m in &s.measures {
            for (label, key, shape, c) in lines(m) {
                for f in &c.members {
                    let st = c.stats;
                    let (england, eyear, prev) = if key.is_none() {
                        (
                            m.england.map(|e| e.value),
                            m.england.map(|e| e.year),
                            m.previous_median,
                        )
                    } else {
                        (None, None, None)
                    };
                    let source = match f.source {
                        Source::Live => "live",
                        Source::Published => "published",
                        Source::NotHeld => "not_held",
                        Source::NotShared => "not_shared",
                        Source::Unavailable => "unavailable",
                    };
                    let record: Vec<String> = vec![
                        r.group.clone(),
                        r.period.id.clone(),
                        s.id.clone(),
                        m.id.clone(),
                        label.clone(),
                        if shape.is_percent() {
                            "percent".into()
                        } else {
                            m.unit.as_str().into()
                        },
                        m.direction.as_str().into(),
                        key.clone().unwrap_or_default(),
                        if key.is_some() && shape.is_percent() {
                            "percent".into()
                        } else {
                            "value".into()
                        },
                        f.la_code.clone(),
                        r.member_name(&f.la_code),
                        source.into(),
                        csv_number(f.value),
                        csv_status(f.value).into(),
                        csv_number(fig(f.numerator)),
                        csv_number(fig(f.denominator)),
                        f.year.map(|y| y.to_string()).unwrap_or_default(),
                        f.section_status
                            .map(|s| s.as_str().to_owned())
                            .unwrap_or_default(),
                        st.map(|s| s.n.to_string()).unwrap_or_default(),
                        opt(st.map(|s| s.mean)),
                        opt(st.map(|s| s.q1)),
                        opt(st.map(|s| s.median)),
                        opt(st.map(|s| s.q3)),
                        opt(england),
                        eyear.map(|y| y.to_string()).unwrap_or_default(),
                        opt(prev),
                        r.focus.clone().unwrap_or_default(),
                        c.focus.map(|p| p.rank.to_string()).unwrap_or_default(),
                        c.focus.map(|p| p.of.to_string()).unwrap_or_default(),
                        c.focus.map(|p| p.quartile.to_string()).unwrap_or_default(),
                    ];
                    w.write_record(
                        record
                            .iter()
                            .map(|x| csc_core::text::csv_cell(x).into_owned()),
                    )?;
                }
            }
        }
    }
    Ok(w.into_inner()?)
}
