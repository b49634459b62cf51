//! The report's charts, by section: drawn once as SVG, inlined by the HTML and rendered to PNG
//! for the Word document, so both show the same pictures.

use maud::Markup;

use super::{
    cell, fig, is_suppressed, num, number,
    svg::{self, Bar, Series},
};
use crate::domain::{
    cells::Cell,
    report::{Report, ReportMeasure, ReportRow, Section},
};

/// A chart and its caption.
pub(crate) struct Chart {
    pub svg: Markup,
    pub caption: &'static str,
}

fn chart(svg: Markup, caption: &'static str) -> Chart {
    Chart { svg, caption }
}

/// Bars of a breakdown's rows (without its total row).
fn bars(m: &ReportMeasure, value: impl Fn(&ReportRow) -> (Option<f64>, String)) -> Vec<Bar> {
    m.rows
        .iter()
        .filter(|r| r.key != "total")
        .map(|r| {
            let (v, text) = value(r);
            Bar {
                label: r.label.clone(),
                value: v,
                text,
            }
        })
        .collect()
}

fn share_text(r: &ReportRow) -> (Option<f64>, String) {
    let text = if is_suppressed(r.cells.value) {
        "c".to_owned()
    } else {
        match r.cells.percent {
            Some(Cell::Number(p)) => format!("{} ({}%)", cell(r.cells.value), number(p)),
            _ => cell(r.cells.value),
        }
    };
    (num(r.cells.value), text)
}

/// A rate's 8-period line, with the DfE's latest published England, neighbours' and region
/// figures as flat dashed lines and the benchmarking group's median per period, when the report
/// is compared with a group.
fn rate_trend(report: &Report, m: &ReportMeasure, title: &str) -> Markup {
    let x: Vec<String> = m.series.iter().map(|p| p.period.clone()).collect();
    let mut series = vec![Series {
        name: report
            .la_name
            .clone()
            .unwrap_or_else(|| report.la_code.clone()),
        values: m.series.iter().map(|p| num(p.cells.value)).collect(),
        dashed: false,
    }];
    if let Some(b) = &m.benchmarks {
        for (name, v) in [
            ("England", b.england),
            ("Stat. neighbours", b.statistical_neighbours),
            ("Region", b.region),
        ] {
            if let Some(v) = v {
                series.push(Series {
                    name: format!("{name} {}", b.year),
                    values: vec![Some(v); x.len()],
                    dashed: true,
                });
            }
        }
    }
    if let Some(g) = m.group.as_ref().filter(|g| !g.series.is_empty()) {
        series.push(Series {
            name: format!("{} median", g.title),
            values: x
                .iter()
                .map(|p| {
                    g.series
                        .iter()
                        .find(|s| &s.period == p)
                        .and_then(|s| s.median)
                })
                .collect(),
            dashed: true,
        });
    }
    svg::line(title, &x, &series)
}

/// The charts a reader would rather look at than read, by section.
pub(crate) fn charts(report: &Report, s: &Section) -> Vec<Chart> {
    let mut out = Vec::new();
    let m = |id: &str| s.measures.iter().find(|m| m.id == id);
    match s.id.as_str() {
        "frontdoor" => {
            if let Some(m) = m("frontdoor.referrals_by_source") {
                out.push(chart(
                    svg::hbar("Referrals by source", &bars(m, share_text)),
                    "Referrals in the period by source of referral: number (% of all referrals).",
                ));
            }
        }
        "child_protection" => {
            if let Some(m) = m("protection.cp_rate_per_10k") {
                out.push(chart(
                    rate_trend(
                        report,
                        m,
                        "Children on a CP plan per 10,000 children, last 8 quarters",
                    ),
                    "Rate per 10,000 children aged 0–17 at each quarter end; dashed: the latest published England, statistical-neighbour median and region rates (31 March), and the benchmarking group's median each quarter where the report is compared with one.",
                ));
            }
        }
        "looked_after" => {
            if let Some(m) = m("placements.cla_rate_per_10k").filter(|m| !m.series.is_empty()) {
                out.push(chart(
                    rate_trend(
                        report,
                        m,
                        "Children looked after per 10,000 children, last 8 quarters",
                    ),
                    "Rate per 10,000 children aged 0–17 on the last day of each period; dashed: the latest published England, statistical-neighbour median and region rates (31 March), and the benchmarking group's median each quarter where the report is compared with one.",
                ));
            } else if let Some(m) = m("placements.cla_at_end") {
                let x: Vec<String> = m.series.iter().map(|p| p.period.clone()).collect();
                let series = [Series {
                    name: "Children looked after".into(),
                    values: m.series.iter().map(|p| num(p.cells.value)).collect(),
                    dashed: false,
                }];
                out.push(chart(
                    svg::line(
                        "Children looked after at each quarter end, last 8 quarters",
                        &x,
                        &series,
                    ),
                    "Children looked after on the last day of each period (no population is held for a rate).",
                ));
            }
            if let Some(m) = m("placements.moves_by_end_reason") {
                out.push(chart(
                    svg::hbar("Placement moves by end reason", &bars(m, share_text)),
                    "Moves in the last 12 months of children with 3 or more placements, by the reason the placement ended.",
                ));
            }
            if let Some(m) = m("placements.social_workers_per_child") {
                out.push(chart(
                    svg::vbar(
                        "Children looked after by number of social workers",
                        &bars(m, share_text),
                    ),
                    "Distinct social workers allocated since the period of care started, at most the last 2 years.",
                ));
            }
            if let Some(m) = m("placements.duration_at_exit") {
                out.push(chart(
                    svg::vbar(
                        "Duration of care at exit, last 12 months",
                        &bars(m, share_text),
                    ),
                    "Periods of care that ended in the 12 months to the end of the period, by length.",
                ));
            }
        }
        "costs" => {
            if let Some(m) = m("finance.unit_costs") {
                let b = bars(m, |r| {
                    let text = match r.cells.value {
                        Some(Cell::Number(_)) => format!(
                            "£{} ({})",
                            super::pounds(r.cells.value),
                            cell(fig(r.cells.denominator))
                        ),
                        v => format!("{} ({})", cell(v), cell(fig(r.cells.denominator))),
                    };
                    (num(r.cells.value), text)
                });
                out.push(chart(
                    svg::hbar("Average weekly unit cost by placement type", &b),
                    "Mean weekly cost of the placements active at the end of the period (number of placements).",
                ));
            }
        }
        _ => {}
    }
    out
}
