//! The headline page as text, one table for every format: the figure now, before and a year
//! earlier, the direction of travel in words beside its arrow (so colour is never the only
//! signal), and where the figure stands against England and the statistical neighbours.

use csc_core::Unit;

use super::{Figure, cell, fig};
use crate::domain::{
    direction::Judgement,
    headline::{HEADLINE_COMMENTARY, Headline, Position},
    report::{Report, ReportMeasure},
};

/// A figure with its unit and places, as the headline page prints it; `–` where not held.
fn figure(m: &ReportMeasure, c: Figure) -> String {
    let s = super::value_text(m, c);
    if s.is_empty() { "–".into() } else { s }
}

/// The figure now, with what it counts: `16.5% (203 of 1,234)`, `1,234`, `£3,418 (232 placements)`.
pub fn now_text(h: &Headline) -> String {
    let m = h.measure;
    let c = &m.cells;
    let v = figure(m, c.value);
    match m.unit {
        Unit::Ratio if c.is_ratio() => format!(
            "{v} ({} of {})",
            cell(fig(c.numerator)),
            cell(fig(c.denominator))
        ),
        Unit::GbpPerWeek if c.denominator.is_some() => {
            format!("{v} ({} placements)", cell(fig(c.denominator)))
        }
        _ => v,
    }
}

/// The figure in another period, with the period's name: `17.0% (2018-19-Q1)`.
pub fn then_text(h: &Headline, s: Option<&crate::domain::report::Snapshot>) -> String {
    match s {
        Some(s) => figure(h.measure, s.cells.value),
        None => "–".into(),
    }
}

/// The direction of travel in words beside its arrow: `▲ up: worse`, `▼ down`, `▶ no change`,
/// or why there is none.
pub fn travel_text(h: &Headline) -> String {
    match h.travel {
        None => "no comparison".into(),
        Some((t, Judgement::Neither)) => format!("{} {}", t.arrow(), t.as_str()),
        Some((t, j)) => format!("{} {}: {}", t.arrow(), t.as_str(), j.as_str()),
    }
}

/// A position against a benchmark: `above (20.2%, 2018): worse`.
pub fn position_text(p: Option<Position>, m: &ReportMeasure) -> String {
    let Some(p) = p else {
        return "–".into();
    };
    let bench = super::benchmark_text(m, p.benchmark);
    match p.judgement {
        Judgement::Neither => format!("{} ({bench}, {})", p.describe(), p.year),
        j => format!("{} ({bench}, {}): {}", p.describe(), p.year, j.as_str()),
    }
}

/// The headline table's header row: a column for the benchmarking group where the report is
/// compared with one, and for commentary where a figure has some.
pub fn headers(report: &Report, hs: &[Headline]) -> Vec<String> {
    let (prev, earlier) = report.comparison_periods();
    vec![
        "Measure".into(),
        report.period.id.clone(),
        prev,
        earlier,
        "Since previous".into(),
        "Against England".into(),
        "Against statistical neighbours".into(),
    ]
    .into_iter()
    .chain(group_title(hs).map(|t| format!("In {t}")))
    .chain(with_commentary(hs).then(|| "Commentary".into()))
    .collect()
}

/// Whether any headline figure has its line of commentary (else the column is left out).
pub fn with_commentary(hs: &[Headline]) -> bool {
    hs.iter().any(|h| h.commentary.is_some())
}

/// The benchmarking group the headline figures are compared with, if any.
pub fn group_title<'a>(hs: &[Headline<'a>]) -> Option<&'a str> {
    hs.iter()
        .find_map(|h| h.measure.group.as_ref().map(|g| g.title.as_str()))
}

/// Where the figure stands in the benchmarking group: `rank 3 of 14, quartile 1 of 4 (median
/// 16.5%)` (1 the best, or the highest for a measure that is neither), or only the median when
/// the LA is not ranked in it.
pub fn group_text(m: &ReportMeasure) -> String {
    let Some(g) = &m.group else {
        return "–".into();
    };
    let median = super::benchmark_text(m, g.stats.median);
    match g.focus {
        Some(p) => format!(
            "rank {} of {}, quartile {} of 4 (median {median})",
            p.rank, p.of, p.quartile
        ),
        None => format!("median {median} ({} LAs)", g.stats.n),
    }
}

/// One headline's row, as text, with the group and commentary cells where the page (`hs`) has
/// those columns.
pub fn row(h: &Headline, hs: &[Headline]) -> Vec<String> {
    vec![
        h.label.into(),
        now_text(h),
        then_text(h, h.measure.previous.as_ref()),
        then_text(h, h.measure.year_earlier.as_ref()),
        travel_text(h),
        position_text(h.england, h.measure),
        position_text(h.statistical_neighbours, h.measure),
    ]
    .into_iter()
    .chain(group_title(hs).map(|_| group_text(h.measure)))
    .chain(with_commentary(hs).then(|| h.commentary.map(one_line).unwrap_or_default()))
    .collect()
}

/// The first line of a piece of commentary: a headline line is one line.
pub fn one_line(c: &str) -> String {
    c.lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .unwrap_or_default()
        .to_owned()
}

/// The headline page's opening commentary, if set.
pub fn opening(report: &Report) -> Option<&str> {
    report
        .commentary
        .get(HEADLINE_COMMENTARY)
        .map(String::as_str)
        .filter(|c| !c.trim().is_empty())
}

/// What the headline page's words mean, for its key.
pub const KEY: &str = "▲ up, ▼ down, ▶ no change since the previous period; \"better\" or \"worse\" only for measures where the DfE reads one direction as better (repeat plans and placement moves lower, timescales met and stability higher); volumes and rates of need are neither. Benchmarks: the DfE's latest published figures, for the year to 31 March shown.";
