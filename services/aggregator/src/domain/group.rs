//! Benchmarking groups and the group report (docs/reporting.md "Group reports"): a set of LAs
//! compared side by side for one period, each member's figures exactly those of its own
//! single-LA report, with the group's mean, median and quartiles, the focus LA's rank and
//! quartile, England's latest published figure and the previous period's group median. Pure:
//! composing each member's report is `crate::service`'s.

use serde::{Deserialize, Serialize};

use csc_core::{Unit, measure::Num};

use super::cells::Cell;
use super::direction::Direction;
use super::reference::{Area, Reference};
use super::report::{PeriodRef, Report, ReportMeasure, Snapshot};
use super::sections::{SECTIONS, SectionStatus};

/// Where a group comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GroupKind {
    /// Named and kept by the council's analysts (`csc group set`).
    Custom,
    /// One of the nine DfE regions (`region:west-midlands`).
    Region,
    /// An LA and its ten DfE statistical neighbours (`neighbours:885`).
    Neighbours,
}

impl GroupKind {
    pub fn as_str(self) -> &'static str {
        match self {
            GroupKind::Custom => "custom",
            GroupKind::Region => "region",
            GroupKind::Neighbours => "neighbours",
        }
    }
}

/// A group, resolved to its members.
#[derive(Debug, Clone, PartialEq)]
pub struct GroupDef {
    pub name: String,
    pub title: String,
    pub kind: GroupKind,
    pub members: Vec<String>,
    /// The LA a built-in neighbours group is for: the report's focus unless another is asked.
    pub focus: Option<String>,
}

/// The most members a group may have: every LA in England, with room.
pub const MAX_MEMBERS: usize = 200;

/// A custom group's name: lower-case letters, digits and hyphens, 1–64 characters, starting with
/// a letter (a colon is the built-in groups' mark).
pub fn check_custom_name(name: &str) -> Result<(), String> {
    let ok = (1..=64).contains(&name.len())
        && name.starts_with(|c: char| c.is_ascii_lowercase())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    if ok {
        Ok(())
    } else {
        Err(format!(
            "{} is not a group name: lower-case letters, digits and hyphens, 1-64 characters, \
             starting with a letter (`region:NAME` and `neighbours:LA` are built in)",
            csc_core::text::quote(name)
        ))
    }
}

/// A region's name as a group names it: `West Midlands` → `west-midlands`.
pub fn slug(name: &str) -> String {
    name.split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_ascii_lowercase)
        .collect::<Vec<_>>()
        .join("-")
}

/// The built-in group `name` (`region:…` by slug or ONS code, `neighbours:LA`), `Ok(None)` for a
/// name that is not a built-in's, or why a built-in name names nothing.
pub fn builtin(reference: &Reference, name: &str) -> Result<Option<GroupDef>, String> {
    if let Some(r) = name.strip_prefix("region:") {
        let found = reference
            .regions()
            .into_iter()
            .find(|(code, n)| slug(n) == r || code.eq_ignore_ascii_case(r));
        let Some((code, region)) = found else {
            return Err(format!(
                "no region {}; the regions are {}",
                csc_core::text::quote(r),
                reference
                    .regions()
                    .iter()
                    .map(|(_, n)| format!("region:{}", slug(n)))
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        };
        return Ok(Some(GroupDef {
            name: format!("region:{}", slug(&region)),
            title: format!("{region} region"),
            kind: GroupKind::Region,
            members: reference.region_members(&code),
            focus: None,
        }));
    }
    if let Some(la) = name.strip_prefix("neighbours:") {
        let neighbours = reference.neighbours(la);
        if neighbours.is_empty() {
            return Err(format!(
                "LA {} has no statistical neighbours in the reference tables",
                csc_core::text::quote(la)
            ));
        }
        let who = reference
            .la_name(la)
            .map_or_else(|| format!("LA {la}"), str::to_owned);
        return Ok(Some(GroupDef {
            name: name.to_owned(),
            title: format!("{who} and its statistical neighbours"),
            kind: GroupKind::Neighbours,
            members: std::iter::once(la.to_owned())
                .chain(neighbours.iter().cloned())
                .collect(),
            focus: Some(la.to_owned()),
        }));
    }
    Ok(None)
}

/// Whether a member's figures are in the report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Standing {
    /// The suite holds data for it: its figures are its own single-LA report's.
    Held,
    /// The suite holds nothing for it: the DfE's published figures, where there are any.
    NotHeld,
    /// The caller's token does not grant it: nothing of it is shown, and its services were not
    /// asked.
    NotShared,
}

impl Standing {
    pub fn as_str(self) -> &'static str {
        match self {
            Standing::Held => "held",
            Standing::NotHeld => "not_held",
            Standing::NotShared => "not_shared",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Member {
    pub la_code: String,
    pub name: Option<String>,
    pub standing: Standing,
}

/// What one member's figure for one measure is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    /// From the member's own report for the period (`section_status` says how complete).
    Live,
    /// The DfE's latest published figure for the member (annual, `year` to 31 March): shown,
    /// never counted in the group's statistics.
    Published,
    NotHeld,
    NotShared,
    /// The member's service could not be reached.
    Unavailable,
}

/// One member's figure for a measure or a row.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MemberFigure {
    pub la_code: String,
    pub source: Source,
    /// The figure compared: a count, a percentage (1 dp), a rate, money (pounds); `null` for no
    /// value, `"c"` when suppressed in published output.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<Cell<Num>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub numerator: Option<Cell<i64>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub denominator: Option<Cell<i64>>,
    /// The year of a published figure.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub year: Option<i32>,
    /// The standing of the member's section, where its figure is live and it is not `ok`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub section_status: Option<SectionStatus>,
}

impl MemberFigure {
    fn empty(la: &str, source: Source) -> Self {
        MemberFigure {
            la_code: la.to_owned(),
            source,
            value: None,
            numerator: None,
            denominator: None,
            year: None,
            section_status: None,
        }
    }

    /// The number the group's statistics count: a live figure that is a number.
    pub fn counted(&self) -> Option<f64> {
        match (self.source, self.value) {
            (Source::Live, Some(c)) => c.as_f64(),
            _ => None,
        }
    }
}

/// The group's statistics over its members' live figures (docs/reporting.md): quartiles by
/// linear interpolation between order statistics (Excel's QUARTILE.INC, R's type 7), so `q2` is
/// the median.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Stats {
    /// How many members' figures are counted.
    pub n: usize,
    pub mean: f64,
    pub median: f64,
    pub q1: f64,
    pub q3: f64,
    pub min: f64,
    pub max: f64,
}

/// The `p`-quantile of sorted values, type 7: `x[h]` interpolated at `h = (n − 1) p`.
pub fn quantile(sorted: &[f64], p: f64) -> f64 {
    let h = (sorted.len() - 1) as f64 * p;
    let (lo, hi) = (h.floor() as usize, h.ceil() as usize);
    sorted[lo] + (h - lo as f64) * (sorted[hi] - sorted[lo])
}

impl Stats {
    pub fn of(values: &[f64]) -> Option<Stats> {
        if values.is_empty() {
            return None;
        }
        let mut v = values.to_vec();
        v.sort_by(f64::total_cmp);
        Some(Stats {
            n: v.len(),
            mean: v.iter().sum::<f64>() / v.len() as f64,
            median: quantile(&v, 0.5),
            q1: quantile(&v, 0.25),
            q3: quantile(&v, 0.75),
            min: v[0],
            max: v[v.len() - 1],
        })
    }
}

/// The focus LA's place in the group for one figure.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Position {
    /// 1 is the best (the highest for `higher_is_better` and `neither`, the lowest for
    /// `lower_is_better`); tied figures share the better rank.
    pub rank: usize,
    pub of: usize,
    /// 1 (the best quarter) to 4, against the group's quartiles; a figure on a quartile falls in
    /// the better quarter. For a measure that is `neither`, 1 is simply the highest quarter.
    pub quartile: u8,
}

impl Position {
    pub fn of(value: f64, values: &[f64], stats: &Stats, direction: Direction) -> Position {
        let lower_better = direction == Direction::LowerIsBetter;
        let better = |x: f64| if lower_better { x < value } else { x > value };
        let rank = 1 + values.iter().filter(|&&x| better(x)).count();
        let cuts = if lower_better {
            [stats.q1, stats.median, stats.q3]
        } else {
            [stats.q3, stats.median, stats.q1]
        };
        let quartile = 1 + cuts
            .iter()
            .take_while(|&&c| if lower_better { value > c } else { value < c })
            .count() as u8;
        Position {
            rank,
            of: values.len(),
            quartile,
        }
    }
}

/// A published figure with its year.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Published {
    pub year: i32,
    pub value: f64,
}

/// The comparison of one figure (a measure's, or one row's) across the group.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Comparison {
    /// One per member, in the group's order.
    pub members: Vec<MemberFigure>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stats: Option<Stats>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub focus: Option<Position>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GroupRow {
    pub key: String,
    pub label: String,
    /// What a row compares: its share of the measure's total (`percent`) or its own `value`.
    pub compares: RowFigure,
    #[serde(flatten)]
    pub comparison: Comparison,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RowFigure {
    Percent,
    Value,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GroupMeasure {
    pub id: String,
    pub label: String,
    pub unit: Unit,
    pub direction: Direction,
    /// The measure's own figure compared, where it has one (a breakdown may have only rows).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub figure: Option<Comparison>,
    /// The median of the members' figures for the previous period.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous_median: Option<f64>,
    /// England's latest published figure, where the DfE publishes a comparable one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub england: Option<Published>,
    /// The group's median for each period of the trend (the members with a series), oldest
    /// first, and the focus LA's own figure.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub series: Vec<SeriesPoint>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rows: Vec<GroupRow>,
}

/// The group's median of one trend period.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SeriesPoint {
    pub period: String,
    /// How many members' figures the median is of.
    pub n: usize,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub median: Option<f64>,
    /// The focus LA's figure, where it has a series.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub focus: Option<f64>,
}

/// What a single-LA report shows of the benchmarking group it is compared with, for one figure:
/// the group's statistics over its live members, the LA's place among them, and the group's
/// median over the trend.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GroupBenchmark {
    pub group: String,
    pub title: String,
    /// How many members the group has, of which `stats.n` are counted.
    pub members: usize,
    pub stats: Stats,
    /// Where the LA stands, when it is a member with a figure.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub focus: Option<Position>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub series: Vec<SeriesPoint>,
}

/// The group's median for each trend period over the members' series (each a whole series or
/// none), with the focus member's own figure.
fn series_medians(shown: &[Option<&ReportMeasure>], focus: Option<usize>) -> Vec<SeriesPoint> {
    let Some(periods) = shown
        .iter()
        .flatten()
        .map(|m| &m.series)
        .find(|s| !s.is_empty())
    else {
        return Vec::new();
    };
    periods
        .iter()
        .map(|p| {
            let at = |m: &ReportMeasure| {
                m.series
                    .iter()
                    .find(|s| s.period == p.period)
                    .and_then(|s| s.cells.value?.as_f64())
            };
            let values: Vec<f64> = shown.iter().flatten().filter_map(|m| at(m)).collect();
            SeriesPoint {
                period: p.period.clone(),
                n: values.len(),
                median: Stats::of(&values).map(|s| s.median),
                focus: focus.and_then(|i| shown[i]).and_then(at),
            }
        })
        .collect()
}

/// Adds the group's comparison of each figure to the single-LA report (`report`'s LA the group
/// report's focus, or not a member): what its benchmark columns show beside England's.
pub fn attach(report: &mut Report, group: &GroupReport) {
    let members = group.members.len();
    for section in &mut report.sections {
        let Some(gs) = group.sections.iter().find(|g| g.id == section.id) else {
            continue;
        };
        for m in &mut section.measures {
            let Some(gm) = gs.measures.iter().find(|g| g.id == m.id) else {
                continue;
            };
            let Some(figure) = &gm.figure else { continue };
            let Some(stats) = figure.stats else { continue };
            m.group = Some(GroupBenchmark {
                group: group.group.clone(),
                title: group.title.clone(),
                members,
                stats,
                focus: figure.focus,
                series: gm.series.clone(),
            });
        }
    }
}

impl GroupMeasure {
    /// The decimal places of its figures, as in the single-LA report.
    pub fn decimals(&self) -> Option<usize> {
        probe(&self.id, self.unit).decimals()
    }
}

/// A measure of the single-LA report with only its id and unit, to ask what it knows of itself.
fn probe(id: &str, unit: Unit) -> ReportMeasure {
    ReportMeasure::from(&csc_core::Measure {
        id: id.to_owned(),
        label: String::new(),
        unit,
        value: None,
        numerator: None,
        denominator: None,
        rows: Vec::new(),
    })
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GroupSection {
    pub id: String,
    pub title: String,
    pub measures: Vec<GroupMeasure>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GroupReport {
    pub group: String,
    pub title: String,
    pub kind: GroupKind,
    pub period: PeriodRef,
    /// The period `previous_median` is for.
    pub previous_period: String,
    pub generated_at: String,
    pub published: bool,
    pub requested_by: String,
    /// The LA whose rank and quartile are given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub focus: Option<String>,
    pub members: Vec<Member>,
    pub notes: Vec<String>,
    pub sections: Vec<GroupSection>,
}

impl GroupReport {
    pub fn heading(&self) -> String {
        format!(
            "{}: group performance analysis {}",
            self.title, self.period.id
        )
    }

    pub fn member_name(&self, la: &str) -> String {
        self.members
            .iter()
            .find(|m| m.la_code == la)
            .and_then(|m| m.name.clone())
            .unwrap_or_else(|| format!("LA {la}"))
    }
}

/// One member as the group report is composed from it: its own single-LA report (already
/// suppressed when the group report is published), or why there is none.
#[derive(Debug)]
pub enum MemberReport {
    Report(Box<Report>),
    NotShared,
}

/// Everything a group report is composed from.
pub struct GroupInput<'a> {
    pub group: GroupDef,
    pub period: csc_core::Period,
    pub focus: Option<String>,
    /// Aligned with `group.members`.
    pub members: Vec<MemberReport>,
    pub reference: &'a Reference,
    pub published: bool,
    pub generated_at: String,
    pub requested_by: String,
}

/// The figure of a set of cells that a group compares.
fn compared(
    value: Option<Cell<Num>>,
    percent: Option<Cell<f64>>,
    by: RowFigure,
) -> Option<Cell<Num>> {
    match by {
        RowFigure::Percent => percent.map(Cell::from),
        RowFigure::Value => value,
    }
}

/// Whether a member holds nothing at all: every section of its report is `no_data`.
fn holds_nothing(r: &Report) -> bool {
    r.sections.iter().all(|s| s.status == SectionStatus::NoData)
}

pub fn compose_group(input: GroupInput<'_>) -> GroupReport {
    let GroupInput {
        group,
        period,
        focus,
        members,
        reference,
        published,
        generated_at,
        requested_by,
    } = input;
    let reports: Vec<Option<&Report>> = members
        .iter()
        .map(|m| match m {
            MemberReport::Report(r) => Some(r.as_ref()),
            MemberReport::NotShared => None,
        })
        .collect();
    let member_list: Vec<Member> = group
        .members
        .iter()
        .zip(&reports)
        .map(|(la, r)| Member {
            la_code: la.clone(),
            name: reference.la_name(la).map(str::to_owned),
            standing: match r {
                None => Standing::NotShared,
                Some(r) if holds_nothing(r) => Standing::NotHeld,
                Some(_) => Standing::Held,
            },
        })
        .collect();
    let focus_idx = focus
        .as_ref()
        .and_then(|f| group.members.iter().position(|m| m == f));

    let mut sections = Vec::new();
    for def in SECTIONS {
        // The catalogue's order, then any measure a member's report has that it does not name.
        let mut ids: Vec<String> = def.measures.iter().map(|s| s.to_string()).collect();
        for r in reports.iter().flatten() {
            if let Some(s) = r.section(def.id) {
                for m in &s.measures {
                    if !ids.contains(&m.id) {
                        ids.push(m.id.clone());
                    }
                }
            }
        }
        let mut measures = Vec::new();
        for id in ids {
            // The measure as the first member that has it shows it.
            let shown: Vec<Option<&ReportMeasure>> = reports
                .iter()
                .map(|r| r.and_then(|r| r.section(def.id)?.measures.iter().find(|m| m.id == id)))
                .collect();
            let Some(model) = shown.iter().flatten().next() else {
                continue;
            };
            let england = reference
                .published(&id, &Area::England)
                .map(|(year, value)| Published { year, value });
            let has_figure = model.cells.value.is_some() || model.cells.is_ratio();
            let figure = has_figure.then(|| {
                comparison(
                    &group.members,
                    &reports,
                    def.id,
                    |m| m.map(|m| (m.cells.value, m.cells.numerator, m.cells.denominator)),
                    &shown,
                    Some(&id),
                    reference,
                    model.direction,
                    focus_idx,
                )
            });
            let previous: Vec<f64> = shown
                .iter()
                .flatten()
                .filter_map(|m| m.previous.as_ref())
                .filter_map(|s: &Snapshot| s.cells.value?.as_f64())
                .collect();
            let rows = model
                .rows
                .iter()
                .map(|row| {
                    let by = if row.cells.percent.is_some() {
                        RowFigure::Percent
                    } else {
                        RowFigure::Value
                    };
                    let row_of = |m: Option<&ReportMeasure>| {
                        m.map(|m| match m.row(&row.key) {
                            Some(r) => (
                                compared(r.cells.value, r.cells.percent, by),
                                r.cells.numerator,
                                r.cells.denominator,
                            ),
                            // A row a member's report does not have is a row of nothing there.
                            None => (None, None, None),
                        })
                    };
                    GroupRow {
                        key: row.key.clone(),
                        label: row.label.clone(),
                        compares: by,
                        comparison: comparison(
                            &group.members,
                            &reports,
                            def.id,
                            row_of,
                            &shown,
                            None,
                            reference,
                            model.direction,
                            focus_idx,
                        ),
                    }
                })
                .collect();
            measures.push(GroupMeasure {
                id: id.clone(),
                label: model.label.clone(),
                unit: model.unit,
                direction: model.direction,
                figure,
                previous_median: super::reference::median(&previous),
                england,
                series: series_medians(&shown, focus_idx),
                rows,
            });
        }
        sections.push(GroupSection {
            id: def.id.into(),
            title: def.title.into(),
            measures,
        });
    }

    let mut notes = Vec::new();
    let not_shared = member_list
        .iter()
        .filter(|m| m.standing == Standing::NotShared)
        .count();
    if not_shared > 0 {
        notes.push(format!(
            "{not_shared} of the {} members are not shared with this report's requester (their \
             figures are not shown, and not counted in the group's statistics).",
            member_list.len()
        ));
    }
    let not_held: Vec<String> = member_list
        .iter()
        .filter(|m| m.standing == Standing::NotHeld)
        .map(|m| {
            m.name
                .clone()
                .unwrap_or_else(|| format!("LA {}", m.la_code))
        })
        .collect();
    if !not_held.is_empty() {
        notes.push(format!(
            "The suite holds no data for {}: where the DfE publishes a comparable figure it is \
             shown with its year (to 31 March), and not counted in the group's statistics.",
            not_held.join(", ")
        ));
    }
    if published {
        notes.push(
            "Published: each member's counts of 1 to 5, and figures computed from them, are \
             suppressed (c) as in its own published report; the group's statistics count only \
             the figures shown."
                .into(),
        );
    }
    GroupReport {
        group: group.name,
        title: group.title,
        kind: group.kind,
        period: PeriodRef::from(&period),
        previous_period: period.previous().id(),
        generated_at,
        published,
        requested_by,
        focus,
        members: member_list,
        notes,
        sections,
    }
}

type Figures = (Option<Cell<Num>>, Option<Cell<i64>>, Option<Cell<i64>>);

/// One figure across the members: each member's from its report (`pick` over its measure, `None`
/// when it has none), a published figure for a member whose section holds nothing (`published`
/// names the measure, for the measure's own figure only), then the statistics and the focus.
#[allow(clippy::too_many_arguments)]
fn comparison(
    las: &[String],
    reports: &[Option<&Report>],
    section: &str,
    pick: impl Fn(Option<&ReportMeasure>) -> Option<Figures>,
    shown: &[Option<&ReportMeasure>],
    published: Option<&str>,
    reference: &Reference,
    direction: Direction,
    focus: Option<usize>,
) -> Comparison {
    let members: Vec<MemberFigure> = las
        .iter()
        .zip(reports)
        .zip(shown)
        .map(|((la, report), m)| {
            let Some(report) = report else {
                return MemberFigure::empty(la, Source::NotShared);
            };
            let status = report.section(section).map(|s| s.status);
            if status == Some(SectionStatus::Unavailable) {
                return MemberFigure::empty(la, Source::Unavailable);
            }
            match (m, pick(*m)) {
                (Some(_), Some((value, numerator, denominator))) => MemberFigure {
                    value,
                    numerator,
                    denominator,
                    section_status: status.filter(|s| *s != SectionStatus::Ok),
                    ..MemberFigure::empty(la, Source::Live)
                },
                _ => {
                    match published.and_then(|id| reference.published(id, &Area::La(la.clone()))) {
                        Some((year, v)) => MemberFigure {
                            value: Some(Cell::Number(Num::Dec(v))),
                            year: Some(year),
                            ..MemberFigure::empty(la, Source::Published)
                        },
                        None => MemberFigure::empty(la, Source::NotHeld),
                    }
                }
            }
        })
        .collect();
    let values: Vec<f64> = members.iter().filter_map(MemberFigure::counted).collect();
    let stats = Stats::of(&values);
    let focus = focus
        .and_then(|i| members[i].counted())
        .zip(stats)
        .map(|(v, s)| Position::of(v, &values, &s, direction));
    Comparison {
        members,
        stats,
        focus,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shipped() -> Reference {
        Reference::build(&super::super::reference::shipped_texts()).unwrap()
    }

    #[test]
    fn quartiles_interpolate_between_order_statistics() {
        // R: quantile(c(1, 2, 3, 4, 10), type = 7) → 2, 3, 4.
        let s = Stats::of(&[10.0, 1.0, 3.0, 2.0, 4.0]).unwrap();
        assert_eq!((s.q1, s.median, s.q3), (2.0, 3.0, 4.0));
        assert_eq!((s.mean, s.min, s.max, s.n), (4.0, 1.0, 10.0, 5));
        // An even count: the median is the mean of the middle two; q1 at h = 0.75.
        let s = Stats::of(&[1.0, 2.0, 3.0, 4.0]).unwrap();
        assert_eq!((s.q1, s.median, s.q3), (1.75, 2.5, 3.25));
        // One member: every statistic is its figure.
        let s = Stats::of(&[7.5]).unwrap();
        assert_eq!((s.q1, s.median, s.q3, s.mean), (7.5, 7.5, 7.5, 7.5));
        assert!(Stats::of(&[]).is_none());
    }

    #[test]
    fn rank_and_quartile_follow_the_direction_and_ties_take_the_better() {
        let values = [10.0, 20.0, 20.0, 30.0, 40.0];
        let s = Stats::of(&values).unwrap(); // q1 20, median 20, q3 30
        let higher = Position::of(20.0, &values, &s, Direction::HigherIsBetter);
        assert_eq!((higher.rank, higher.of), (3, 5));
        // 20 is on the median: the better quarter of the two it bounds.
        assert_eq!(higher.quartile, 2);
        let lower = Position::of(20.0, &values, &s, Direction::LowerIsBetter);
        assert_eq!(lower.rank, 2);
        assert_eq!(lower.quartile, 1);
        let best = Position::of(40.0, &values, &s, Direction::HigherIsBetter);
        assert_eq!((best.rank, best.quartile), (1, 1));
        let worst = Position::of(40.0, &values, &s, Direction::LowerIsBetter);
        assert_eq!((worst.rank, worst.quartile), (5, 4));
        // Neither: ranked from the highest, like higher-is-better, with no judgement drawn.
        let n = Position::of(10.0, &values, &s, Direction::Neither);
        assert_eq!((n.rank, n.quartile), (5, 4));
    }

    #[test]
    fn built_in_groups_are_the_regions_and_the_neighbours() {
        let r = shipped();
        let wm = builtin(&r, "region:west-midlands").unwrap().unwrap();
        assert_eq!(wm.kind, GroupKind::Region);
        assert_eq!(wm.members.len(), 14, "{:?}", wm.members);
        assert!(wm.members.contains(&"885".to_owned()));
        // By ONS code too; the same group.
        assert_eq!(
            builtin(&r, "region:E12000005").unwrap().unwrap().members,
            wm.members
        );
        assert_eq!(r.regions().len(), 9);
        // Every current LA is in exactly one region: 153 in all, no LA that has since gone.
        let all: usize = r
            .regions()
            .iter()
            .map(|(c, _)| r.region_members(c).len())
            .sum();
        assert_eq!(all, 153);
        assert!(!r.region_members("E12000001").is_empty());
        let sn = builtin(&r, "neighbours:885").unwrap().unwrap();
        assert_eq!(sn.members.len(), 11);
        assert_eq!(sn.members[0], "885");
        assert_eq!(sn.focus.as_deref(), Some("885"));
        assert!(
            builtin(&r, "region:atlantis")
                .unwrap_err()
                .contains("west-midlands")
        );
        assert!(builtin(&r, "neighbours:999").is_err());
        assert_eq!(builtin(&r, "west-midlands-bg").unwrap(), None);
    }

    #[test]
    fn custom_names_are_plain_slugs() {
        assert!(check_custom_name("west-midlands-bg").is_ok());
        for bad in ["", "West", "a b", "region:x", "9lives", &"a".repeat(65)] {
            assert!(check_custom_name(bad).is_err(), "{bad:?}");
        }
        assert_eq!(slug("Yorkshire and The Humber"), "yorkshire-and-the-humber");
    }
}
