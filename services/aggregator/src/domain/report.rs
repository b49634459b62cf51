//! The report as data (MEASURES.md "The report as data"): its sections, the measures of each with
//! their trend and published benchmarks, and how it is composed from the domain services'
//! measures. Pure: the I/O that fetches measures is in `compose`.

use std::collections::HashMap;

use csc_core::{Measure, Period, Unit, measure::Num, suppression};
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;

use super::coverage::{self, DataView, Held, Standing};
use super::reference::{Benchmarks, PopulationUsed, Reference};

/// The domain services a report is composed from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Upstream {
    Frontdoor,
    Protection,
    Placements,
    Finance,
}

impl Upstream {
    pub const ALL: [Upstream; 4] = [
        Upstream::Frontdoor,
        Upstream::Protection,
        Upstream::Placements,
        Upstream::Finance,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Upstream::Frontdoor => "frontdoor",
            Upstream::Protection => "protection",
            Upstream::Placements => "placements",
            Upstream::Finance => "finance",
        }
    }
}

/// A section of the report, in the model report's order, with its measures in print order.
#[derive(Debug, Clone, Copy)]
pub struct SectionDef {
    pub id: &'static str,
    pub title: &'static str,
    pub service: Upstream,
    pub measures: &'static [&'static str],
}

pub const SECTIONS: &[SectionDef] = &[
    SectionDef {
        id: "frontdoor",
        title: "Family Front Door",
        service: Upstream::Frontdoor,
        measures: &[
            "frontdoor.contacts",
            "frontdoor.early_help_assessments",
            "frontdoor.referrals",
            "frontdoor.referrals_by_source",
            "frontdoor.rereferrals_12m",
            "frontdoor.referrals_nfa",
            "frontdoor.assessments_completed",
            "frontdoor.assessments_within_45wd",
            "frontdoor.assessment_duration_bands",
            "frontdoor.assessments_nfa",
            "frontdoor.nfa_children_previous_referral",
            "frontdoor.nfa_children_previous_contact",
            "frontdoor.s47_started",
            "frontdoor.strategy_discussions",
            "frontdoor.strategy_attendance",
            "frontdoor.icpc_within_15wd",
        ],
    },
    SectionDef {
        id: "child_protection",
        title: "Child Protection",
        service: Upstream::Protection,
        measures: &[
            "protection.cp_open_at_end",
            "protection.cp_children_at_end",
            "protection.cp_rate_per_10k",
            "protection.cp_started",
            "protection.cp_repeat_ever",
            "protection.cp_repeat_within_2y",
            "protection.cp_repeat_over_2y",
            "protection.cp_first_review_ended",
            "protection.cp_ended",
            "protection.cp_ended_2y_plus",
            "protection.cp_open_2y_plus",
            "protection.feedback",
        ],
    },
    SectionDef {
        id: "children_in_need",
        title: "Children in Need",
        service: Upstream::Protection,
        measures: &[
            "protection.cin_plans_open_at_end",
            "protection.cin_share_of_open_cases",
            "protection.cin_open_over_6m",
        ],
    },
    SectionDef {
        id: "missing",
        title: "Missing Children",
        service: Upstream::Protection,
        measures: &[
            "protection.missing_episodes",
            "protection.away_episodes",
            "protection.children_missing",
            "protection.return_interviews",
        ],
    },
    SectionDef {
        id: "exploitation",
        title: "Child Sexual Exploitation",
        service: Upstream::Frontdoor,
        measures: &["frontdoor.assessment_factors"],
    },
    SectionDef {
        id: "looked_after",
        title: "Looked After Children",
        service: Upstream::Placements,
        measures: &[
            "placements.cla_at_end",
            "placements.cla_rate_per_10k",
            "placements.cla_started",
            "placements.cla_ceased",
            "placements.three_plus_placements_12m",
            "placements.moves_by_end_reason",
            "placements.long_term_stability",
            "placements.social_workers_per_child",
            "placements.social_workers_3plus_12m",
            "placements.duration_at_exit",
            "placements.placement_type_mix",
        ],
    },
    SectionDef {
        id: "costs",
        title: "Placement Costs",
        service: Upstream::Finance,
        measures: &[
            "finance.unit_costs",
            "finance.weekly_spend_at_end",
            "finance.spend_in_period",
        ],
    },
];

pub fn section_def(id: &str) -> Option<&'static SectionDef> {
    SECTIONS.iter().find(|s| s.id == id)
}

/// A JSON field that may be present as `null`: absent → `None`, `null` → `Some(Null)`.
fn keep_null<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Value>, D::Error> {
    Value::deserialize(d).map(Some)
}

/// The figures of a measure, a row, or a trend point: a number, `null` (no value: shown `z`),
/// or `"c"` (suppressed in published output).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Cells {
    #[serde(
        default,
        deserialize_with = "keep_null",
        skip_serializing_if = "Option::is_none"
    )]
    pub numerator: Option<Value>,
    #[serde(
        default,
        deserialize_with = "keep_null",
        skip_serializing_if = "Option::is_none"
    )]
    pub denominator: Option<Value>,
    #[serde(
        default,
        deserialize_with = "keep_null",
        skip_serializing_if = "Option::is_none"
    )]
    pub value: Option<Value>,
    #[serde(
        default,
        deserialize_with = "keep_null",
        skip_serializing_if = "Option::is_none"
    )]
    pub percent: Option<Value>,
}

/// The marker of a suppressed figure.
pub const SUPPRESSED: &str = "c";

impl Cells {
    fn int(v: &Option<Value>) -> Option<i64> {
        v.as_ref().and_then(Value::as_i64)
    }

    pub fn value_f64(&self) -> Option<f64> {
        self.value.as_ref().and_then(Value::as_f64)
    }

    /// A ratio (or rate, or mean): it carries a numerator and a denominator.
    pub fn is_ratio(&self) -> bool {
        self.numerator.is_some() && self.denominator.is_some()
    }

    fn hide(v: &mut Option<Value>) {
        if v.as_ref().is_some_and(|v| !v.is_null()) {
            *v = Some(Value::String(SUPPRESSED.into()));
        }
    }

    fn hide_all(&mut self) {
        Self::hide(&mut self.value);
        Self::hide(&mut self.numerator);
        Self::hide(&mut self.denominator);
        Self::hide(&mut self.percent);
    }

    /// The count these cells show, for secondary suppression across a breakdown: a count row's
    /// value, or the number of items a mean of money was taken over. A ratio row is a ratio of
    /// its own, not a part of a total: `None`.
    fn count(&self, money: bool) -> Option<i64> {
        if self.is_ratio() {
            money.then(|| Self::int(&self.denominator)).flatten()
        } else if money {
            None
        } else {
            Self::int(&self.value)
        }
    }

    /// Primary suppression of one set of figures.
    fn suppress(&mut self, money: bool) {
        let small = |v: &Option<Value>| Self::int(v).is_some_and(suppression::is_small);
        if money {
            // A mean over 1–5 items: the mean, the total and the number all go.
            if self.is_ratio() && small(&self.denominator) {
                self.hide_all();
            }
        } else if self.is_ratio() {
            let (n, d) = (small(&self.numerator), small(&self.denominator));
            if n || d {
                Self::hide(&mut self.value);
                Self::hide(&mut self.percent);
            }
            if n {
                Self::hide(&mut self.numerator);
            }
            if d {
                Self::hide(&mut self.denominator);
            }
        } else if small(&self.value) {
            self.hide_all();
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReportRow {
    pub key: String,
    pub label: String,
    #[serde(flatten)]
    pub cells: Cells,
}

/// The same measure in another period.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Snapshot {
    pub period: String,
    #[serde(flatten)]
    pub cells: Cells,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rows: Vec<ReportRow>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReportMeasure {
    pub id: String,
    pub label: String,
    pub unit: String,
    #[serde(flatten)]
    pub cells: Cells,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rows: Vec<ReportRow>,
    /// The previous quarter (the previous year, for a year's report).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous: Option<Snapshot>,
    /// The same period a year earlier.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub year_earlier: Option<Snapshot>,
    /// The last 8 periods, oldest first, ending with this one (measures with a single figure).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub series: Vec<Snapshot>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub benchmarks: Option<Benchmarks>,
    /// The population a rate was computed from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub population: Option<PopulationUsed>,
}

impl ReportMeasure {
    fn money(&self) -> bool {
        matches!(self.unit.as_str(), "gbp" | "gbp_per_week")
    }

    pub fn row(&self, key: &str) -> Option<&ReportRow> {
        self.rows.iter().find(|r| r.key == key)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Section {
    pub id: String,
    pub title: String,
    /// "ok"; "partial" when the data held does not cover the whole period or a look-back of its
    /// measures; "no_data" when nothing is held for the period; "unavailable" when its service
    /// could not be reached (docs/coverage.md).
    pub status: String,
    /// What the figures rest on: the records and imports its service holds for the LA.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<DataView>,
    pub commentary: Option<String>,
    /// What a reader must know about the figures (a measure left out, a population estimate).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
    pub measures: Vec<ReportMeasure>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PeriodRef {
    pub id: String,
    pub start: String,
    pub end: String,
}

impl From<&Period> for PeriodRef {
    fn from(p: &Period) -> Self {
        PeriodRef {
            id: p.id(),
            start: p.start().to_string(),
            end: p.end().to_string(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Report {
    pub la_code: String,
    #[serde(default)]
    pub la_name: Option<String>,
    pub period: PeriodRef,
    pub generated_at: String,
    pub published: bool,
    #[serde(default)]
    pub report_id: String,
    #[serde(default)]
    pub requested_by: String,
    pub sections: Vec<Section>,
}

impl Report {
    pub fn measure(&self, id: &str) -> Option<&ReportMeasure> {
        self.sections
            .iter()
            .flat_map(|s| &s.measures)
            .find(|m| m.id == id)
    }

    pub fn section(&self, id: &str) -> Option<&Section> {
        self.sections.iter().find(|s| s.id == id)
    }

    /// Applies the suppression rules of published output to every figure of the report,
    /// its trends included. Benchmarks are published figures already and stay as they are.
    pub fn publish(&mut self) {
        self.published = true;
        for m in self.sections.iter_mut().flat_map(|s| &mut s.measures) {
            let money = m.money();
            suppress_body(money, &mut m.cells, &mut m.rows);
            for s in [&mut m.previous, &mut m.year_earlier]
                .into_iter()
                .flatten()
                .chain(m.series.iter_mut())
            {
                suppress_body(money, &mut s.cells, &mut s.rows);
            }
        }
    }
}

fn suppress_body(money: bool, cells: &mut Cells, rows: &mut [ReportRow]) {
    cells.suppress(money);
    let counts: Vec<Option<i64>> = rows
        .iter()
        .map(|r| {
            if r.key == "total" {
                None
            } else {
                r.cells.count(money)
            }
        })
        .collect();
    let hide = suppression::suppressed_cells(&counts);
    for (row, hide) in rows.iter_mut().zip(hide) {
        if hide {
            row.cells.hide_all();
        } else {
            row.cells.suppress(money);
        }
    }
}

/// A csc-core measure in the report's shape (its JSON is the contract's shape already).
fn to_report(m: &Measure) -> ReportMeasure {
    let v = serde_json::to_value(m).expect("a measure serialises");
    let rm: ReportMeasure =
        serde_json::from_value(v).expect("a measure reads back as a report measure");
    rm
}

fn snapshot(period: &Period, m: &ReportMeasure) -> Snapshot {
    Snapshot {
        period: period.id(),
        cells: m.cells.clone(),
        rows: m.rows.clone(),
    }
}

/// The measures of one period from every service that answered, with those the aggregator
/// computes; `None` for a service that did not answer.
#[derive(Debug, Default, Clone)]
pub struct PeriodMeasures {
    pub by_service: HashMap<Upstream, Vec<Measure>>,
}

impl PeriodMeasures {
    fn get(&self, service: Upstream, id: &str) -> Option<&Measure> {
        self.by_service.get(&service)?.iter().find(|m| m.id == id)
    }

    fn count(&self, service: Upstream, id: &str) -> Option<i64> {
        match self.get(service, id)?.value {
            Some(Num::Int(n)) => Some(n),
            _ => None,
        }
    }
}

/// A rate per 10,000 from a count and a population, rounded half away from zero to `dp`
/// decimal places (0 or 1), exactly.
pub fn rate_per_10k(count: i64, population: i64, dp: u32) -> Option<Num> {
    if population <= 0 {
        return None;
    }
    let scale = 10i128.pow(dp);
    let r =
        csc_core::measure::div_round(i128::from(count) * 10_000 * scale, i128::from(population));
    Some(if dp == 0 {
        Num::Int(r as i64)
    } else {
        Num::Dec(r as f64 / scale as f64)
    })
}

fn rate_measure(
    id: &str,
    label: &str,
    count: i64,
    pop: Option<PopulationUsed>,
    dp: u32,
) -> Measure {
    Measure {
        id: id.into(),
        label: label.into(),
        unit: Unit::RatePer10k,
        value: pop.and_then(|p| rate_per_10k(count, p.population, dp)),
        numerator: Some(count),
        denominator: pop.map(|p| p.population),
        rows: Vec::new(),
    }
}

/// The measures the aggregator computes from the services' (MEASURES.md "Composed by the
/// aggregator"), for one period.
pub fn derived(
    pm: &PeriodMeasures,
    pop: Option<PopulationUsed>,
) -> Vec<(Measure, Option<PopulationUsed>)> {
    let mut out = Vec::new();
    let cp = pm.count(Upstream::Protection, "protection.cp_children_at_end");
    let cla = pm.count(Upstream::Placements, "placements.cla_at_end");
    let cin = pm.count(Upstream::Protection, "protection.cin_plans_open_at_end");
    if let Some(cp) = cp {
        out.push((
            rate_measure(
                "protection.cp_rate_per_10k",
                "Children on a child protection plan per 10,000 children",
                cp,
                pop,
                1,
            ),
            pop,
        ));
    }
    if let Some(cla) = cla {
        out.push((
            rate_measure(
                "placements.cla_rate_per_10k",
                "Children looked after per 10,000 children",
                cla,
                pop,
                0,
            ),
            pop,
        ));
    }
    if let (Some(cin), Some(cp), Some(cla)) = (cin, cp, cla) {
        out.push((
            Measure::ratio(
                "protection.cin_share_of_open_cases",
                "Children in need (plan, not CP) as a share of open cases (CIN + CP + looked after)",
                cin,
                cin + cp + cla,
            ),
            None,
        ));
    }
    out
}

/// Everything a report is composed from.
#[derive(Debug)]
pub struct ComposeInput<'a> {
    pub la_code: String,
    pub period: Period,
    /// The 8 periods of the trend, oldest first, ending with `period`; their measures, aligned.
    pub periods: Vec<Period>,
    pub measures: Vec<PeriodMeasures>,
    /// A service that did not answer for the report's own period, with the reason.
    pub unavailable: HashMap<Upstream, String>,
    /// What each service holds for the LA (its `GetCoverage`); a service missing here did not
    /// say.
    pub held: HashMap<Upstream, Held>,
    /// The population each period's rates use.
    pub populations: Vec<Option<PopulationUsed>>,
    pub reference: &'a Reference,
    /// Commentary by section id.
    pub commentary: HashMap<String, String>,
    pub generated_at: String,
    pub report_id: String,
    pub requested_by: String,
}

/// The periods of a report's trend: 8 periods, oldest first, ending with `p`.
pub fn trend_periods(p: &Period) -> Vec<Period> {
    let mut v = vec![*p];
    for _ in 0..7 {
        let prev = v.last().expect("non-empty").previous();
        v.push(prev);
    }
    v.reverse();
    v
}

/// Which service's measures the report needs for which of the trend's periods: every service's
/// for the period itself, the previous one and the one a year earlier; and for all 8 periods,
/// those of child protection and looked-after children, whose figures are charted over time
/// (the CP rate, children looked after). The front door's measures, the costliest to compute,
/// are not asked for periods nothing shows.
pub fn needed(period: &Period, periods: &[Period]) -> impl Fn(Upstream, usize) -> bool + use<> {
    let keep: Vec<bool> = periods
        .iter()
        .map(|p| p == period || *p == period.previous() || *p == period.year_earlier())
        .collect();
    move |service, i| {
        keep.get(i).copied().unwrap_or(false)
            || matches!(service, Upstream::Protection | Upstream::Placements)
    }
}

/// Composes the report.
pub fn compose(input: ComposeInput<'_>) -> Report {
    let n = input.periods.len();
    let current = n - 1;
    let idx_of = |p: &Period| input.periods.iter().position(|x| x == p);
    let previous = idx_of(&input.period.previous());
    let year_earlier = idx_of(&input.period.year_earlier());

    // A service holding nothing for a period contributes nothing to it: not zeros, and not to
    // the figures composed from several services (rates, the share of open cases).
    let mut measures = input.measures.clone();
    for (p, pm) in input.periods.iter().zip(&mut measures) {
        pm.by_service.retain(|service, _| {
            input.held.get(service).is_none_or(|h| {
                h.window(&[])
                    .is_some_and(|(from, to)| from <= p.end() && to >= p.start())
            })
        });
    }
    // Every measure of every period, as the report shows it, by id.
    let per_period: Vec<HashMap<String, ReportMeasure>> = measures
        .iter()
        .zip(&input.populations)
        .map(|(pm, pop)| {
            let mut all: HashMap<String, ReportMeasure> = pm
                .by_service
                .values()
                .flatten()
                .map(|m| (m.id.clone(), to_report(m)))
                .collect();
            for (m, pop) in derived(pm, *pop) {
                let mut rm = to_report(&m);
                rm.population = pop;
                all.insert(m.id.clone(), rm);
            }
            all
        })
        .collect();

    let mut sections = Vec::new();
    for def in SECTIONS {
        let mut section = Section {
            id: def.id.into(),
            title: def.title.into(),
            status: "ok".into(),
            data: None,
            commentary: input.commentary.get(def.id).cloned(),
            notes: Vec::new(),
            measures: Vec::new(),
        };
        if let Some(reason) = input.unavailable.get(&def.service) {
            section.status = "unavailable".into();
            section.notes.push(format!(
                "The {} service could not be reached: {reason}",
                def.service.name()
            ));
            sections.push(section);
            continue;
        }
        let held = input.held.get(&def.service);
        let mut hidden = Vec::new();
        match held {
            None => {
                section.status = "partial".into();
                section.notes.push(format!(
                    "The {} service did not say what data it holds: whether the figures cover \
                     the whole period cannot be checked.",
                    def.service.name()
                ));
            }
            Some(h) => {
                section.data = Some(DataView::of(def.id, def.service.name(), h));
                let labels: Vec<(&str, &str)> = def
                    .measures
                    .iter()
                    .map(|id| {
                        let label = per_period[current]
                            .get(*id)
                            .map_or(*id, |m| m.label.as_str());
                        (*id, label)
                    })
                    .collect();
                let a = coverage::assess(
                    def.id,
                    def.service.name(),
                    &labels,
                    h,
                    &input.la_code,
                    &input.period,
                );
                section.status = a.standing.as_str().into();
                section.notes.extend(a.notes);
                if a.standing == Standing::NoData {
                    sections.push(section);
                    continue;
                }
                hidden = a.hidden;
            }
        }
        // A trend figure only for a period the data held covers.
        let kinds = coverage::section_kinds(def.id);
        let covered: Vec<bool> = input
            .periods
            .iter()
            .enumerate()
            .map(|(i, p)| i == current || held.is_none_or(|h| h.covers(kinds, p)))
            .collect();
        // The catalogue's order, then anything else the service returns for this section's
        // service that no section names (a measure added since), in the service's order.
        let mut ids: Vec<String> = def.measures.iter().map(|s| s.to_string()).collect();
        if SECTIONS
            .iter()
            .find(|s| s.service == def.service)
            .map(|s| s.id)
            == Some(def.id)
            && let Some(ms) = input.measures[current].by_service.get(&def.service)
        {
            for m in ms {
                if !SECTIONS.iter().any(|s| s.measures.contains(&m.id.as_str())) {
                    ids.push(m.id.clone());
                }
            }
        }
        for id in ids {
            if hidden.contains(&id) {
                continue;
            }
            let Some(m) = per_period[current].get(&id) else {
                if id == "protection.cin_share_of_open_cases" {
                    section.notes.push(
                        "The share of open cases needs the looked-after children service's \
                         figures, which are not available (see that section)."
                            .into(),
                    );
                }
                continue;
            };
            let mut m = m.clone();
            if m.unit == "rate_per_10k" && m.population.is_none() {
                section.notes.push(format!(
                    "No population is held for LA {}: {} has no value.",
                    input.la_code, m.label
                ));
            }
            // A figure from an optional source that keeps only recent months (early help, from
            // Annex A) trends only over the periods its own records reach back to.
            let own_from = held
                .filter(|_| coverage::supplementary(&id))
                .and_then(|h| coverage::measure_kind(&id).and_then(|k| h.earliest(k)));
            let covered = |i: usize| {
                covered[i]
                    && (i == current || own_from.is_none_or(|f| f <= input.periods[i].start()))
            };
            let at = |i: Option<usize>| {
                i.filter(|i| covered(*i)).and_then(|i| {
                    per_period[i]
                        .get(&id)
                        .map(|x| snapshot(&input.periods[i], x))
                })
            };
            m.previous = at(previous);
            m.year_earlier = at(year_earlier);
            // A series only where every period is there: a trend with holes misleads.
            let series: Vec<Snapshot> = (0..n)
                .filter(|i| covered(*i))
                .filter_map(|i| {
                    per_period[i].get(&id).map(|x| Snapshot {
                        rows: Vec::new(),
                        ..snapshot(&input.periods[i], x)
                    })
                })
                .collect();
            if (m.cells.value.is_some() || m.cells.is_ratio()) && series.len() == n {
                m.series = series;
            }
            if Reference::has_benchmarks(&id) {
                m.benchmarks = input.reference.benchmarks(&id, &input.la_code);
            }
            section.measures.push(m);
        }
        if let Some(p) = input.populations[current]
            && p.source == super::reference::PopulationSource::OnsLatest
            && section.measures.iter().any(|m| m.unit == "rate_per_10k")
        {
            section.notes.push(format!(
                "Rates per 10,000 use the ONS mid-{} estimate ({} children aged 0–17), the \
                 latest published; the mid-{} estimate is not out yet.",
                p.year,
                crate::render::number(p.population as f64),
                input.period.financial_year()
            ));
        }
        sections.push(section);
    }
    Report {
        la_code: input.la_code.clone(),
        la_name: input.reference.la_name(&input.la_code).map(str::to_owned),
        period: PeriodRef::from(&input.period),
        generated_at: input.generated_at,
        published: false,
        report_id: input.report_id,
        requested_by: input.requested_by,
        sections,
    }
}

#[cfg(test)]
mod tests {
    use super::super::reference::PopulationSource;
    use super::*;
    use csc_core::MeasureRow;

    fn pop(n: i64) -> Option<PopulationUsed> {
        Some(PopulationUsed {
            year: 2018,
            population: n,
            source: PopulationSource::Ons,
        })
    }

    #[test]
    fn rates_round_half_away_from_zero_exactly() {
        // 46.5 per 10,000 exactly: 93 of 20,000.
        assert_eq!(rate_per_10k(93, 20_000, 1), Some(Num::Dec(46.5)));
        // 45.45 → 45.5 at 1 dp (not 45.4).
        assert_eq!(rate_per_10k(909, 200_000, 1), Some(Num::Dec(45.5)));
        // 66.5 → 67 as a whole number.
        assert_eq!(rate_per_10k(133, 20_000, 0), Some(Num::Int(67)));
        assert_eq!(rate_per_10k(5, 0, 0), None);
    }

    fn pm(prot: Vec<Measure>, plac: Vec<Measure>) -> PeriodMeasures {
        let mut by_service = HashMap::new();
        by_service.insert(Upstream::Protection, prot);
        by_service.insert(Upstream::Placements, plac);
        PeriodMeasures { by_service }
    }

    #[test]
    fn derived_measures_use_the_counts_and_the_population() {
        let m = pm(
            vec![
                Measure::count("protection.cp_children_at_end", "", 500),
                Measure::count("protection.cin_plans_open_at_end", "", 640),
            ],
            vec![Measure::count("placements.cla_at_end", "", 800)],
        );
        let d = derived(&m, pop(117_046));
        let get = |id: &str| d.iter().find(|(m, _)| m.id == id).unwrap().0.clone();
        let cp = get("protection.cp_rate_per_10k");
        assert_eq!(cp.value, Some(Num::Dec(42.7))); // 42.718…
        assert_eq!((cp.numerator, cp.denominator), (Some(500), Some(117_046)));
        assert_eq!(get("placements.cla_rate_per_10k").value, Some(Num::Int(68)));
        let share = get("protection.cin_share_of_open_cases");
        assert_eq!(
            (share.numerator, share.denominator),
            (Some(640), Some(1940))
        );
        // Without the looked-after children, no share.
        let m = pm(
            vec![
                Measure::count("protection.cp_children_at_end", "", 500),
                Measure::count("protection.cin_plans_open_at_end", "", 640),
            ],
            vec![],
        );
        assert!(
            derived(&m, None)
                .iter()
                .all(|(m, _)| m.id != "protection.cin_share_of_open_cases")
        );
    }

    /// Trend points only for periods the data covers; nothing composed from a service that holds
    /// nothing; the section's status and `data` from its service's coverage.
    /// The report of LA 885 for `period` from these measures and what is held.
    fn compose_held(
        period: Period,
        periods: &[Period],
        measures: Vec<PeriodMeasures>,
        held: HashMap<Upstream, Held>,
        reference: &Reference,
    ) -> Report {
        compose(ComposeInput {
            la_code: "885".into(),
            period,
            periods: periods.to_vec(),
            measures,
            unavailable: HashMap::new(),
            held,
            populations: vec![pop(117_046); periods.len()],
            reference,
            commentary: HashMap::new(),
            generated_at: String::new(),
            report_id: String::new(),
            requested_by: String::new(),
        })
    }

    #[test]
    fn compose_shows_only_what_the_data_held_covers() {
        use super::super::coverage::{ImportHeld, KindHeld};
        let period: Period = "2026-27-Q2".parse().unwrap();
        let periods = trend_periods(&period);
        let d = |s: &str| s.parse::<chrono::NaiveDate>().unwrap();
        // Child protection held from 2025-04-01 (one census), to the period's end.
        let held_cp = Held {
            kinds: vec![
                KindHeld {
                    kind: "cp_plans".into(),
                    records: 500,
                    earliest: Some(d("2020-01-01")),
                    latest: Some(d("2026-09-29")),
                },
                KindHeld {
                    kind: "cin_plans".into(),
                    records: 600,
                    earliest: Some(d("2020-01-01")),
                    latest: Some(d("2026-09-29")),
                },
            ],
            imports: vec![ImportHeld {
                file: "CIN_Census_2026.xml".into(),
                covers_from: Some(d("2025-04-01")),
                covers_to: Some(d("2026-10-01")),
                ..Default::default()
            }],
        };
        let measures: Vec<PeriodMeasures> = periods
            .iter()
            .map(|_| {
                pm(
                    vec![
                        Measure::count("protection.cp_children_at_end", "CP children", 500),
                        Measure::count("protection.cin_plans_open_at_end", "CIN", 640),
                    ],
                    // The placements service answers, with zeros: but it holds nothing.
                    vec![Measure::count("placements.cla_at_end", "CLA", 0)],
                )
            })
            .collect();
        let reference = Reference::build(&super::super::reference::shipped_texts()).unwrap();
        let held: HashMap<Upstream, Held> = [
            (Upstream::Protection, held_cp),
            (Upstream::Placements, Held::default()),
        ]
        .into_iter()
        .collect();
        let report = compose_held(period, &periods, measures, held, &reference);
        let section = |id: &str| report.sections.iter().find(|s| s.id == id).unwrap();
        let cp = section("child_protection");
        // 2 years of repeat-plan history are not held: partial, but the figures are shown.
        assert_eq!(cp.status, "partial");
        let children = cp
            .measures
            .iter()
            .find(|m| m.id == "protection.cp_children_at_end")
            .unwrap();
        // The year-earlier quarter (2025-26 Q2) is inside the data; no 8-quarter series is.
        assert!(children.year_earlier.is_some() && children.previous.is_some());
        assert!(
            children.series.is_empty(),
            "the series reaches before 2025-04-01"
        );
        assert_eq!(cp.data.as_ref().unwrap().from, Some(d("2025-04-01")));
        // Nothing held by placements: no data, and no share of open cases made with its zero.
        let la = section("looked_after");
        assert_eq!(la.status, "no_data");
        assert!(la.measures.is_empty());
        let cin = section("children_in_need");
        assert!(
            cin.measures
                .iter()
                .all(|m| m.id != "protection.cin_share_of_open_cases")
        );
        // Services that did not say what they hold are partial, never ok.
        assert_eq!(section("frontdoor").status, "partial");
    }

    #[test]
    fn early_help_trends_only_over_the_months_annex_a_holds() {
        use super::super::coverage::{ImportHeld, KindHeld};
        let period: Period = "2026-27-Q2".parse().unwrap();
        let periods = trend_periods(&period);
        let d = |s: &str| s.parse::<chrono::NaiveDate>().unwrap();
        let kind = |k: &str, from: &str| KindHeld {
            kind: k.into(),
            records: 100,
            earliest: Some(d(from)),
            latest: Some(d("2026-09-29")),
        };
        // Four years of censuses; an Annex A whose List 2 starts in October 2025.
        let held_fd = Held {
            kinds: vec![
                kind("referrals", "2022-04-01"),
                kind("assessments", "2022-04-01"),
                kind("contacts", "2022-04-01"),
                kind("early_help_assessments", "2025-10-02"),
            ],
            imports: vec![ImportHeld {
                file: "CIN_Census_2023.xml".into(),
                covers_from: Some(d("2022-04-01")),
                covers_to: Some(d("2026-10-01")),
                ..Default::default()
            }],
        };
        let measures: Vec<PeriodMeasures> = periods
            .iter()
            .map(|_| {
                let mut pm = pm(vec![], vec![]);
                pm.by_service.insert(
                    Upstream::Frontdoor,
                    vec![
                        Measure::count("frontdoor.referrals", "Referrals", 40),
                        Measure::count(
                            "frontdoor.early_help_assessments",
                            "Early help assessments started",
                            3,
                        ),
                    ],
                );
                pm
            })
            .collect();
        let reference = Reference::build(&super::super::reference::shipped_texts()).unwrap();
        let held: HashMap<Upstream, Held> = [(Upstream::Frontdoor, held_fd)].into_iter().collect();
        let report = compose_held(period, &periods, measures, held, &reference);
        let fd = report
            .sections
            .iter()
            .find(|s| s.id == "frontdoor")
            .unwrap();
        let m = |id: &str| fd.measures.iter().find(|m| m.id == id).unwrap();
        let referrals = m("frontdoor.referrals");
        assert!(referrals.year_earlier.is_some() && referrals.series.len() == periods.len());
        // The previous quarter (2026-27 Q1) is inside List 2's months; the year-earlier quarter
        // (2025-26 Q2) is not, so its figure is not a confident zero but absent, as is the series.
        let eh = m("frontdoor.early_help_assessments");
        assert!(eh.previous.is_some());
        assert!(eh.year_earlier.is_none());
        assert!(eh.series.is_empty());
    }

    fn measure_json(m: &ReportMeasure) -> Value {
        serde_json::to_value(m).unwrap()
    }

    #[test]
    fn publish_hides_small_counts_ratios_and_one_more_cell() {
        let m = Measure::breakdown(
            "frontdoor.referrals_by_source",
            "Referrals by source",
            Unit::Count,
            vec![
                MeasureRow::share("police", "Police", 40, 60),
                MeasureRow::share("schools", "Schools", 3, 60),
                MeasureRow::share("health", "Health", 9, 60),
                MeasureRow::share("other", "Other", 8, 60),
                MeasureRow::share("unknown", "Unknown", 0, 60),
            ],
        );
        let r = Measure::ratio("frontdoor.rereferrals_12m", "", 4, 60);
        let c = Measure::count("frontdoor.s47_started", "", 5);
        let mut report = Report {
            la_code: "885".into(),
            la_name: None,
            period: PeriodRef::from(&"2018-19-Q1".parse::<Period>().unwrap()),
            generated_at: String::new(),
            published: false,
            report_id: String::new(),
            requested_by: String::new(),
            sections: vec![Section {
                id: "frontdoor".into(),
                title: String::new(),
                status: "ok".into(),
                data: None,
                commentary: None,
                notes: vec![],
                measures: vec![to_report(&m), to_report(&r), to_report(&c)],
            }],
        };
        report.publish();
        let by = measure_json(&report.sections[0].measures[0]);
        let rows = by["rows"].as_array().unwrap();
        let shown = |i: usize| (rows[i]["value"].clone(), rows[i]["percent"].clone());
        assert_eq!(shown(0).0, 40);
        assert_eq!(shown(1), ("c".into(), "c".into()));
        // 8 is the next smallest non-zero: hidden with it.
        assert_eq!(shown(3), ("c".into(), "c".into()));
        assert_eq!(shown(2).0, 9);
        assert_eq!(shown(4).0, 0);
        let ratio = measure_json(&report.sections[0].measures[1]);
        assert_eq!(ratio["numerator"], "c");
        assert_eq!(ratio["value"], "c");
        assert_eq!(ratio["denominator"], 60);
        assert_eq!(measure_json(&report.sections[0].measures[2])["value"], "c");
        assert!(report.published);
    }

    #[test]
    fn publish_hides_means_over_few_items_and_a_second_category() {
        let m = Measure::mean(
            "finance.unit_costs",
            "",
            Unit::GbpPerWeek,
            Some(50_000),
            1_000_000,
            20,
        )
        .with_rows(vec![
            MeasureRow::mean("ifa", "IFA", Some(80_000), 800_000, 10),
            MeasureRow::mean("secure", "Secure", Some(40_000), 80_000, 2),
            MeasureRow::mean("kinship", "Kinship", Some(15_000), 120_000, 8),
            MeasureRow::mean("total", "Total", Some(50_000), 1_000_000, 20),
        ]);
        let mut body = to_report(&m);
        suppress_body(true, &mut body.cells, &mut body.rows);
        let j = measure_json(&body);
        assert_eq!(j["rows"][1]["value"], "c");
        assert_eq!(j["rows"][1]["denominator"], "c");
        assert_eq!(j["rows"][1]["numerator"], "c");
        // kinship (8) is the next smallest: hidden too; the total row stays.
        assert_eq!(j["rows"][2]["denominator"], "c");
        assert_eq!(j["rows"][0]["denominator"], 10);
        assert_eq!(j["rows"][3]["denominator"], 20);
    }

    /// Random breakdowns (a fixed xorshift sequence, so a failure repeats): once published, no
    /// row shows a count of 1–5, a percentage beside a hidden count, or is the only hidden
    /// non-zero part.
    #[test]
    fn published_breakdowns_never_show_or_leave_recoverable_a_small_count() {
        let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
        let mut next = |n: u64| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x % n
        };
        for _ in 0..20_000 {
            let parts = 1 + next(9) as usize;
            let counts: Vec<i64> = (0..parts)
                .map(|_| match next(4) {
                    0 => 0,
                    1 => 1 + next(5) as i64,
                    2 => 6 + next(10) as i64,
                    _ => next(400) as i64,
                })
                .collect();
            let total: i64 = counts.iter().sum();
            let mut rows: Vec<MeasureRow> = counts
                .iter()
                .enumerate()
                .map(|(i, &n)| MeasureRow::share(format!("r{i}"), "", n, total))
                .collect();
            rows.push(MeasureRow::count("total", "Total", total));
            let mut m = to_report(&Measure::count("x.y", "", total).with_rows(rows));
            suppress_body(false, &mut m.cells, &mut m.rows);
            let hidden = |v: &Option<Value>| matches!(v, Some(Value::String(s)) if s == SUPPRESSED);
            for r in &m.rows {
                if let Some(n) = r.cells.value.as_ref().and_then(Value::as_i64) {
                    assert!(!(1..=5).contains(&n), "{counts:?}: {} shows {n}", r.key);
                }
                if hidden(&r.cells.value) && r.key != "total" {
                    assert!(
                        hidden(&r.cells.percent),
                        "{counts:?}: {}'s percent shows",
                        r.key
                    );
                }
            }
            let hidden_parts: Vec<i64> = m
                .rows
                .iter()
                .zip(&counts)
                .filter(|(r, _)| hidden(&r.cells.value))
                .map(|(_, &n)| n)
                .collect();
            let other_nonzero = counts.iter().filter(|&&n| n > 0).count() > hidden_parts.len();
            if hidden_parts.len() == 1 && total > 5 {
                // A lone hidden part would be the total less the others: only when no other
                // non-zero part was there to hide with it.
                assert!(!other_nonzero, "{counts:?}: one part hidden alone");
            }
        }
    }

    #[test]
    fn a_report_reads_back_from_its_json_unchanged() {
        let r = Measure::ratio("frontdoor.rereferrals_12m", "Re-referrals", 0, 0);
        let rm = to_report(&r);
        let j = serde_json::to_string(&rm).unwrap();
        assert!(j.contains("\"value\":null"), "{j}");
        let back: ReportMeasure = serde_json::from_str(&j).unwrap();
        assert_eq!(back, rm);
    }

    #[test]
    fn the_front_door_is_asked_only_for_the_periods_the_report_shows() {
        let p: Period = "2018-19-Q1".parse().unwrap();
        let t = trend_periods(&p);
        let want = needed(&p, &t);
        let asked = |s| {
            (0..t.len())
                .filter(|&i| want(s, i))
                .map(|i| t[i].id())
                .collect::<Vec<_>>()
        };
        assert_eq!(
            asked(Upstream::Frontdoor),
            ["2017-18-Q1", "2017-18-Q4", "2018-19-Q1"]
        );
        assert_eq!(asked(Upstream::Finance).len(), 3);
        assert_eq!(asked(Upstream::Protection).len(), 8);
        assert_eq!(asked(Upstream::Placements).len(), 8);
    }

    #[test]
    fn trend_is_eight_periods_ending_with_the_report_period() {
        let p: Period = "2018-19-Q1".parse().unwrap();
        let t = trend_periods(&p);
        assert_eq!(t.len(), 8);
        assert_eq!(t[0].id(), "2016-17-Q2");
        assert_eq!(t[7], p);
        assert!(t.contains(&p.year_earlier()));
    }
}
