//! The report as data (MEASURES.md "The report as data"): its sections, the measures of each with
//! their trend and published benchmarks, and the suppression of its published form. Composed by
//! `super::compose`; rendered by `crate::render`.

use std::collections::BTreeMap;

use csc_core::{Measure, MeasureRow, Period, Unit};
use serde::{Deserialize, Deserializer, Serialize};

use super::cells::{Cell, Cells, suppress_body};
use super::coverage::DataView;
use super::direction::Direction;
use super::reference::{Benchmarks, PopulationUsed};
use super::sections::SectionStatus;

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
    pub unit: Unit,
    /// Which way is better (`super::direction`); `neither` in reports kept before it was added.
    #[serde(default)]
    pub direction: Direction,
    #[serde(flatten)]
    pub cells: Cells,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rows: Vec<ReportRow>,
    /// The previous quarter (the previous year, for a year's report).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous: Option<Snapshot>,
    /// The same quarter a year earlier; for a year's report, the year before the previous one
    /// (`Period::earlier_comparison`: the year earlier of a year is `previous` itself).
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
    /// The benchmarking group the report was asked to compare with, live: its statistics for
    /// this figure, this LA's place in it, and its median over the series' periods.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<super::group::GroupBenchmark>,
}

impl ReportMeasure {
    /// Every set of figures the measure holds: its own, its rows', and those of its previous
    /// quarter, year earlier and series.
    pub fn cells_mut(&mut self) -> impl Iterator<Item = &mut Cells> {
        let own =
            std::iter::once(&mut self.cells).chain(self.rows.iter_mut().map(|r| &mut r.cells));
        let others = [&mut self.previous, &mut self.year_earlier]
            .into_iter()
            .flatten()
            .chain(self.series.iter_mut())
            .flat_map(|s| {
                std::iter::once(&mut s.cells).chain(s.rows.iter_mut().map(|r| &mut r.cells))
            });
        own.chain(others)
    }

    /// The decimal places its figures are printed to, where fixed: a percentage to 1, a rate per
    /// 10,000 as MEASURES.md computes it (the CP rate to 1, the looked-after rate whole), so a
    /// benchmark beside the figure has the same places.
    pub fn decimals(&self) -> Option<usize> {
        match self.unit {
            Unit::Ratio => Some(1),
            Unit::RatePer10k if self.id == "placements.cla_rate_per_10k" => Some(0),
            Unit::RatePer10k => Some(1),
            _ => None,
        }
    }

    pub fn row(&self, key: &str) -> Option<&ReportRow> {
        self.rows.iter().find(|r| r.key == key)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Section {
    pub id: String,
    pub title: String,
    pub status: SectionStatus,
    /// What the figures rest on: the records and imports its service holds for the LA.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<DataView>,
    pub commentary: Option<String>,
    /// What a reader must know about the figures (a measure left out, a population estimate).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
    #[serde(deserialize_with = "money_in_pence")]
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
    /// Commentary for the headline page (`headline`) and its figures (by measure id).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub commentary: BTreeMap<String, String>,
    pub sections: Vec<Section>,
}

impl Report {
    /// The report's title, as every rendering heads it: "Worcestershire: quarterly performance
    /// analysis 2026-27-Q2".
    pub fn title(&self) -> String {
        let name = self
            .la_name
            .clone()
            .unwrap_or_else(|| format!("LA {}", self.la_code));
        format!("{name}: quarterly performance analysis {}", self.period.id)
    }

    /// The periods the report compares with, as its snapshots are named: the previous period
    /// and the earlier comparison (`Period::previous`, `Period::earlier_comparison`).
    pub fn comparison_periods(&self) -> (String, String) {
        match self.period.id.parse::<Period>() {
            Ok(p) => (p.previous().id(), p.earlier_comparison().id()),
            Err(_) => ("Previous".into(), "Year earlier".into()),
        }
    }

    pub fn measure(&self, id: &str) -> Option<&ReportMeasure> {
        self.sections
            .iter()
            .flat_map(|s| &s.measures)
            .find(|m| m.id == id)
    }

    pub fn section(&self, id: &str) -> Option<&Section> {
        self.sections.iter().find(|s| s.id == id)
    }

    /// The sections that keep the report from being published: a section `unavailable` or
    /// `no_data` always, a `partial` one unless `allow_partial`.
    pub fn blocking_publication(&self, allow_partial: bool) -> Vec<&Section> {
        self.sections
            .iter()
            .filter(|s| match s.status {
                SectionStatus::Ok => false,
                SectionStatus::Partial => !allow_partial,
                SectionStatus::NoData | SectionStatus::Unavailable => true,
            })
            .collect()
    }

    /// Applies the suppression rules of published output to every figure of the report,
    /// its trends included. Benchmarks are published figures already and stay as they are.
    pub fn publish(&mut self) {
        self.published = true;
        for m in self.sections.iter_mut().flat_map(|s| &mut s.measures) {
            let money = m.unit.is_money();
            suppress(money, &mut m.cells, &mut m.rows);
            for s in [&mut m.previous, &mut m.year_earlier]
                .into_iter()
                .flatten()
                .chain(m.series.iter_mut())
            {
                suppress(money, &mut s.cells, &mut s.rows);
            }
        }
    }
}

/// Suppresses a set of figures with its breakdown.
fn suppress(money: bool, cells: &mut Cells, rows: &mut [ReportRow]) {
    suppress_body(
        money,
        cells,
        rows.iter_mut().map(|r| (r.key.as_str(), &mut r.cells)),
    );
}

impl From<&MeasureRow> for ReportRow {
    fn from(r: &MeasureRow) -> Self {
        ReportRow {
            key: r.key.clone(),
            label: r.label.clone(),
            cells: figures(
                r.value,
                r.numerator,
                r.denominator,
                r.is_share.then_some(r.percent),
            ),
        }
    }
}

/// A measure in the report's shape, before its trend and benchmarks are added.
impl From<&Measure> for ReportMeasure {
    fn from(m: &Measure) -> Self {
        ReportMeasure {
            id: m.id.clone(),
            label: m.label.clone(),
            unit: m.unit,
            direction: Direction::of(&m.id),
            cells: figures(m.value, m.numerator, m.denominator, None),
            rows: m.rows.iter().map(ReportRow::from).collect(),
            previous: None,
            year_earlier: None,
            series: Vec::new(),
            benchmarks: None,
            population: None,
            group: None,
        }
    }
}

/// The cells of a measure or a row, as MEASURES.md shapes them: a ratio's value is always there
/// (`null` when its denominator is 0), a count's only when it has one; a share's percent is
/// always there (`null` when the total is 0).
fn figures(
    value: Option<csc_core::measure::Num>,
    numerator: Option<i64>,
    denominator: Option<i64>,
    percent: Option<Option<f64>>,
) -> Cells {
    let ratio = numerator.is_some() && denominator.is_some();
    Cells {
        numerator: numerator.filter(|_| ratio).map(Cell::Number),
        denominator: denominator.filter(|_| ratio).map(Cell::Number),
        value: if ratio {
            Some(value.into())
        } else {
            value.map(Cell::Number)
        },
        percent: percent.map(Cell::from),
    }
}

/// A section's measures as JSON wrote them, money back in pence.
fn money_in_pence<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<ReportMeasure>, D::Error> {
    let mut measures = Vec::<ReportMeasure>::deserialize(d)?;
    for m in measures.iter_mut().filter(|m| m.unit.is_money()) {
        for c in m.cells_mut() {
            c.money_in_pence();
        }
    }
    Ok(measures)
}

#[cfg(test)]
mod tests {
    use super::*;
    use csc_core::measure::Num;
    use serde_json::Value;

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
            commentary: Default::default(),
            sections: vec![Section {
                id: "frontdoor".into(),
                title: String::new(),
                status: SectionStatus::Ok,
                data: None,
                commentary: None,
                notes: vec![],
                measures: vec![
                    ReportMeasure::from(&m),
                    ReportMeasure::from(&r),
                    ReportMeasure::from(&c),
                ],
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
        let mut body = ReportMeasure::from(&m);
        suppress(true, &mut body.cells, &mut body.rows);
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
            let mut m = ReportMeasure::from(&Measure::count("x.y", "", total).with_rows(rows));
            suppress(false, &mut m.cells, &mut m.rows);
            let hidden = |v: Option<Cell<_>>| v.is_some_and(Cell::is_suppressed);
            for r in &m.rows {
                if let Some(n) = r.cells.count_value() {
                    assert!(!(1..=5).contains(&n), "{counts:?}: {} shows {n}", r.key);
                }
                if hidden(r.cells.value) && r.key != "total" {
                    assert!(
                        r.cells.percent.is_some_and(Cell::is_suppressed),
                        "{counts:?}: {}'s percent shows",
                        r.key
                    );
                }
            }
            let hidden_parts: Vec<i64> = m
                .rows
                .iter()
                .zip(&counts)
                .filter(|(r, _)| hidden(r.cells.value))
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
        let rm = ReportMeasure::from(&r);
        let j = serde_json::to_string(&rm).unwrap();
        assert!(j.contains("\"value\":null"), "{j}");
        let back: ReportMeasure = serde_json::from_str(&j).unwrap();
        assert_eq!(back, rm);
    }

    /// Money is written in pounds and read back in exact pence, whole pounds or not, in the
    /// measure, its rows and its trend; a count in a money measure's denominator stays a count.
    #[test]
    fn money_reads_back_from_the_report_json_in_pence() {
        let m = Measure::mean(
            "finance.unit_costs",
            "",
            Unit::GbpPerWeek,
            Some(78_951),
            157_902,
            2,
        )
        .with_rows(vec![
            MeasureRow::mean("ifa", "IFA", Some(100_000), 200_000, 2),
            MeasureRow::mean("secure", "Secure", None, 0, 0),
        ]);
        let mut rm = ReportMeasure::from(&m);
        rm.previous = Some(Snapshot {
            period: "2018-19-Q4".into(),
            cells: rm.cells.clone(),
            rows: rm.rows.clone(),
        });
        let mut report = Report {
            la_code: "885".into(),
            la_name: None,
            period: PeriodRef::from(&"2019-20-Q1".parse::<Period>().unwrap()),
            generated_at: String::new(),
            published: false,
            report_id: String::new(),
            requested_by: String::new(),
            commentary: Default::default(),
            sections: vec![Section {
                id: "costs".into(),
                title: String::new(),
                status: SectionStatus::Ok,
                data: None,
                commentary: None,
                notes: vec![],
                measures: vec![rm],
            }],
        };
        let j = serde_json::to_value(&report).unwrap();
        let written = &j["sections"][0]["measures"][0];
        assert_eq!(written["value"], 789.51);
        assert_eq!(written["rows"][0]["value"], 1000);
        assert_eq!(written["rows"][1]["value"], Value::Null);
        let back: Report = serde_json::from_value(j).unwrap();
        assert_eq!(back, report);
        let m = &back.sections[0].measures[0];
        assert_eq!(m.cells.value, Some(Cell::Number(Num::Pence(78_951))));
        assert_eq!(m.cells.denominator, Some(Cell::Number(2)));
        assert_eq!(
            m.previous.as_ref().unwrap().rows[0].cells.value,
            Some(Cell::Number(Num::Pence(100_000)))
        );
        report.publish();
        let published: Report =
            serde_json::from_value(serde_json::to_value(&report).unwrap()).unwrap();
        assert_eq!(
            published, report,
            "suppressed cells read back as suppressed"
        );
    }

    #[test]
    fn a_cell_is_a_number_null_or_c_and_nothing_else() {
        let c: Cells = serde_json::from_str(r#"{"value": "c", "percent": null}"#).unwrap();
        assert_eq!(c.value, Some(Cell::Suppressed));
        assert_eq!(c.percent, Some(Cell::NoValue));
        assert_eq!(c.numerator, None);
        assert!(serde_json::from_str::<Cells>(r#"{"value": "12"}"#).is_err());
        assert!(serde_json::from_str::<Cells>(r#"{"value": true}"#).is_err());
    }
}
