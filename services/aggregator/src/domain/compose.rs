//! How a report is composed from the domain services' measures (MEASURES.md "Composed by the
//! aggregator"): the figures the aggregator derives (rates per 10,000, the share of open cases),
//! the periods of the trend, and each section's measures with their previous quarter, year
//! earlier, series and benchmarks, as far as the data held covers them. Pure: fetching the
//! measures is `crate::upstream`'s.

use std::collections::HashMap;

use csc_core::{Measure, Period, Unit, measure::Num};

use super::coverage::{self, DataView, Held};
use super::reference::{PopulationSource, PopulationUsed, Reference};
use super::report::{PeriodRef, Report, ReportMeasure, Section, Snapshot};
use super::sections::{SECTIONS, SectionStatus, Upstream};

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

/// Composes the report.
pub fn compose(input: ComposeInput<'_>) -> Report {
    let n = input.periods.len();
    let current = n - 1;
    let idx_of = |p: &Period| input.periods.iter().position(|x| x == p);
    let previous = idx_of(&input.period.previous());
    let year_earlier = idx_of(&input.period.earlier_comparison());

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
                .map(|m| (m.id.clone(), ReportMeasure::from(m)))
                .collect();
            for (m, pop) in derived(pm, *pop) {
                let mut rm = ReportMeasure::from(&m);
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
            status: SectionStatus::Ok,
            data: None,
            commentary: input.commentary.get(def.id).cloned(),
            notes: Vec::new(),
            measures: Vec::new(),
        };
        if let Some(reason) = input.unavailable.get(&def.service) {
            section.status = SectionStatus::Unavailable;
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
                section.status = SectionStatus::Partial;
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
                section.status = a.standing;
                section.notes.extend(a.notes);
                if a.standing == SectionStatus::NoData {
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
            if m.unit == Unit::RatePer10k && m.population.is_none() {
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
            && p.source == PopulationSource::OnsLatest
            && section.measures.iter().any(|m| m.unit == Unit::RatePer10k)
        {
            section.notes.push(format!(
                "Rates per 10,000 use the ONS mid-{} estimate ({} children aged 0–17), the \
                 latest published; the mid-{} estimate is not out yet.",
                p.year,
                csc_core::text::number(p.population as f64),
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
        commentary: input
            .commentary
            .iter()
            .filter(|(target, _)| super::headline::is_headline_target(target))
            .map(|(t, c)| (t.clone(), c.clone()))
            .collect(),
        sections,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
        assert_eq!(cp.status, SectionStatus::Partial);
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
        assert_eq!(la.status, SectionStatus::NoData);
        assert!(la.measures.is_empty());
        let cin = section("children_in_need");
        assert!(
            cin.measures
                .iter()
                .all(|m| m.id != "protection.cin_share_of_open_cases")
        );
        // Services that did not say what they hold are partial, never ok.
        assert_eq!(section("frontdoor").status, SectionStatus::Partial);
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

    #[test]
    fn trend_is_eight_periods_ending_with_the_report_period() {
        let p: Period = "2018-19-Q1".parse().unwrap();
        let t = trend_periods(&p);
        assert_eq!(t.len(), 8);
        assert_eq!(t[0].id(), "2016-17-Q2");
        assert_eq!(t[7], p);
        assert!(t.contains(&p.year_earlier()));
        let y: Period = "2018-19".parse().unwrap();
        assert!(trend_periods(&y).contains(&y.earlier_comparison()));
    }
}
