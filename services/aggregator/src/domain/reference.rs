//! The aggregator's reference data: ONS populations aged 0–17, the DfE's published LA tables and
//! statistical-neighbour groups, read from the files exactly as they are published.
//!
//! The suite ships one release of each table (`reference/`); an operator can load a newer release
//! of any table, which replaces that table as a whole. Parsing is pure: [`Reference::build`] takes
//! the text of every table.

use std::collections::HashMap;

/// One reference table: its name in the API, what it holds, and the release the suite ships.
#[derive(Debug, Clone, Copy)]
pub struct TableSpec {
    pub name: &'static str,
    pub description: &'static str,
    pub shipped_source: &'static str,
    pub shipped: &'static str,
    /// Columns a release must have to be accepted.
    pub required: &'static [&'static str],
}

macro_rules! shipped {
    ($file:literal) => {
        include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/reference/", $file))
    };
}

pub const TABLES: &[TableSpec] = &[
    TableSpec {
        name: "ons_population",
        description: "ONS mid-year population estimates, children aged 0 to 17",
        shipped_source: "ons_mid-year_population_estimates_2012_to_2024.csv",
        shipped: shipped!("ons_mid-year_population_estimates_2012_to_2024.csv"),
        required: &[
            "time_period",
            "geographic_level",
            "region_code",
            "region_name",
            "old_la_code",
            "la_name",
            "population_estimate",
        ],
    },
    TableSpec {
        name: "statistical_neighbours",
        description: "DfE statistical neighbour groups (10 neighbours per LA)",
        shipped_source: "sn_model_2025_wide.csv",
        shipped: shipped!("sn_model_2025_wide.csv"),
        required: &["old_la_code", "SN_1", "SN_10"],
    },
    TableSpec {
        name: "cin_referrals",
        description: "DfE children in need C1: referrals and re-referrals",
        shipped_source: "c1_children_in_need_referrals_and_rereferrals_2013_to_2025.csv",
        shipped: shipped!("c1_children_in_need_referrals_and_rereferrals_2013_to_2025.csv"),
        required: &[
            "time_period",
            "geographic_level",
            "region_code",
            "old_la_code",
            "rereferral_percent",
            "no_further_action_percent",
        ],
    },
    TableSpec {
        name: "cpp_subsequent",
        description: "DfE children in need D3: child protection plans that are a second or subsequent plan",
        shipped_source: "d3_cpps_subsequent_plan_2013_to_2025.csv",
        shipped: shipped!("d3_cpps_subsequent_plan_2013_to_2025.csv"),
        required: &[
            "time_period",
            "geographic_level",
            "region_code",
            "old_la_code",
            "CPP_subsequent_percent",
        ],
    },
    TableSpec {
        name: "cpp_duration",
        description: "DfE children in need D5: child protection plans at 31 March by duration",
        shipped_source: "d5_cpps_at31march_by_duration_2013_to_2025.csv",
        shipped: shipped!("d5_cpps_at31march_by_duration_2013_to_2025.csv"),
        required: &[
            "time_period",
            "geographic_level",
            "region_code",
            "old_la_code",
            "CPP_At31",
            "2_years_or_more_percent",
        ],
    },
    TableSpec {
        name: "cla_rate",
        description: "DfE children looked after: number and rate per 10,000 children",
        shipped_source: "cla_number_and_rate_per_10k_children.csv",
        shipped: shipped!("cla_number_and_rate_per_10k_children.csv"),
        required: &[
            "time_period",
            "geographic_level",
            "region_code",
            "old_la_code",
            "population_type",
            "rate_per_10000",
        ],
    },
    TableSpec {
        name: "cla_placement_stability",
        description: "DfE children looked after: placement stability",
        shipped_source: "la_cla_placement_stability.csv",
        shipped: shipped!("la_cla_placement_stability.csv"),
        required: &[
            "time_period",
            "geographic_level",
            "region_code",
            "old_la_code",
            "cla_group",
            "placement_stability",
            "children_percent",
        ],
    },
    TableSpec {
        name: "cla_social_workers",
        description: "DfE children looked after: changes of social worker",
        shipped_source: "la_cla_swcount.csv",
        shipped: shipped!("la_cla_swcount.csv"),
        required: &[
            "time_period",
            "geographic_level",
            "region_code",
            "old_la_code",
            "sw_stability",
            "percentage",
        ],
    },
];

pub fn table_spec(name: &str) -> Option<&'static TableSpec> {
    TABLES.iter().find(|t| t.name == name)
}

/// A published figure comparable with one of the suite's measures.
#[derive(Debug, Clone, Copy)]
pub struct BenchmarkSpec {
    pub measure: &'static str,
    pub table: &'static str,
    /// Rows of the table holding the figure: column = value.
    pub filter: &'static [(&'static str, &'static str)],
    pub column: &'static str,
    /// What the published figure is, for a reader of the report.
    pub note: &'static str,
}

pub const BENCHMARKS: &[BenchmarkSpec] = &[
    BenchmarkSpec {
        measure: "frontdoor.rereferrals_12m",
        table: "cin_referrals",
        filter: &[],
        column: "rereferral_percent",
        note: "re-referrals within 12 months, % of referrals in the year (C1)",
    },
    BenchmarkSpec {
        measure: "frontdoor.referrals_nfa",
        table: "cin_referrals",
        filter: &[],
        column: "no_further_action_percent",
        note: "referrals with no further action, % of referrals in the year (C1)",
    },
    BenchmarkSpec {
        measure: "protection.cp_repeat_ever",
        table: "cpp_subsequent",
        filter: &[],
        column: "CPP_subsequent_percent",
        note: "plans starting in the year that are a second or subsequent plan (D3)",
    },
    BenchmarkSpec {
        measure: "protection.cp_open_2y_plus",
        table: "cpp_duration",
        filter: &[],
        column: "2_years_or_more_percent",
        note: "plans open at 31 March for 2 years or more (D5)",
    },
    BenchmarkSpec {
        measure: "placements.cla_rate_per_10k",
        table: "cla_rate",
        filter: &[(
            "population_type",
            "Children looked after on 31 March each year",
        )],
        column: "rate_per_10000",
        note: "children looked after at 31 March per 10,000 children aged 0–17",
    },
    BenchmarkSpec {
        measure: "placements.three_plus_placements_12m",
        table: "cla_placement_stability",
        filter: &[
            ("cla_group", "CLA on 31 March"),
            (
                "placement_stability",
                "With 3 or more placements during the year",
            ),
        ],
        column: "children_percent",
        note: "children looked after at 31 March with 3 or more placements during the year",
    },
    BenchmarkSpec {
        measure: "placements.long_term_stability",
        table: "cla_placement_stability",
        filter: &[
            (
                "cla_group",
                "Children looked after continuously for at least 2.5 years on 31 March aged under 16 years",
            ),
            (
                "placement_stability",
                "Living with the same carer for at least 2 years",
            ),
        ],
        column: "children_percent",
        note: "under 16s looked after for 2.5 years or more, living with the same carer for 2 years or more",
    },
    BenchmarkSpec {
        measure: "placements.social_workers_3plus_12m",
        table: "cla_social_workers",
        filter: &[("sw_stability", "3 or more social workers during the year")],
        column: "percentage",
        note: "children looked after at 31 March with 3 or more social workers during the year",
    },
];

/// The CP rate per 10,000 is not in the tables as such: it is derived from the published count
/// of plans at 31 March (D5 `CPP_At31`) and the ONS population of the same estimate year the
/// suite's own rate uses.
pub const CP_RATE: &str = "protection.cp_rate_per_10k";
const CP_RATE_NOTE: &str =
    "children on a plan at 31 March (D5) per 10,000 children aged 0–17 (ONS), derived";

/// An area a published figure is for.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Area {
    England,
    Region(String),
    La(String),
}

/// The published England, region and statistical-neighbour figures for one measure.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Benchmarks {
    /// The collection year the figures are for (31 March of this year).
    pub year: i32,
    pub england: Option<f64>,
    pub region: Option<f64>,
    /// The median of the neighbours' figures that were published (not suppressed).
    pub statistical_neighbours: Option<f64>,
    /// How many of the 10 neighbours had a published figure.
    pub neighbours_published: usize,
    pub note: String,
    /// Each neighbour by name with its published figure (none where the DfE suppressed it), in
    /// the SN model's order: what the median is the median of.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub neighbours: Vec<NeighbourFigure>,
}

/// One statistical neighbour's published figure.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct NeighbourFigure {
    pub la_code: String,
    pub name: Option<String>,
    pub value: Option<f64>,
}

/// The population a rate was computed from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct PopulationUsed {
    pub year: i32,
    pub population: i64,
    pub source: PopulationSource,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PopulationSource {
    Override,
    Ons,
    /// The estimate for the year is not published yet: the latest earlier one.
    OnsLatest,
}

impl PopulationSource {
    pub fn as_str(self) -> &'static str {
        match self {
            PopulationSource::Override => "override",
            PopulationSource::Ons => "ons",
            PopulationSource::OnsLatest => "ons_latest",
        }
    }
}

/// Every reference table, parsed.
#[derive(Debug, Default)]
pub struct Reference {
    populations: HashMap<(Area, i32), i64>,
    la_names: HashMap<String, String>,
    la_regions: HashMap<String, (String, String)>,
    neighbours: HashMap<String, Vec<String>>,
    /// Benchmark figures by measure id: (area, year) → value.
    figures: HashMap<&'static str, HashMap<(Area, i32), f64>>,
    cp_at31: HashMap<(Area, i32), f64>,
    latest_year: HashMap<&'static str, i32>,
    rows: HashMap<&'static str, usize>,
}

/// A table that cannot be read, with the reason.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{table}: {reason}")]
pub struct TableError {
    pub table: String,
    pub reason: String,
}

type Row = HashMap<String, String>;

/// The rows of a published CSV (UTF-8, optional BOM), as column → text.
fn read_rows(spec: &TableSpec, text: &str) -> Result<Vec<Row>, TableError> {
    let err = |reason: String| TableError {
        table: spec.name.to_owned(),
        reason,
    };
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .from_reader(text.as_bytes());
    let headers: Vec<String> = reader
        .headers()
        .map_err(|e| err(format!("cannot read the header row: {e}")))?
        .iter()
        .map(|h| h.trim().to_owned())
        .collect();
    let missing: Vec<&str> = spec
        .required
        .iter()
        .copied()
        .filter(|c| !headers.iter().any(|h| h == c))
        .collect();
    if !missing.is_empty() {
        return Err(err(format!(
            "not a release of this table: no column {}",
            missing.join(", ")
        )));
    }
    let mut rows = Vec::new();
    for (i, record) in reader.records().enumerate() {
        let record = record.map_err(|e| err(format!("line {}: {e}", i + 2)))?;
        rows.push(
            headers
                .iter()
                .cloned()
                .zip(record.iter().map(|v| v.trim().to_owned()))
                .collect(),
        );
    }
    if rows.is_empty() {
        return Err(err("the table has no rows".into()));
    }
    Ok(rows)
}

fn field<'a>(row: &'a Row, column: &str) -> &'a str {
    row.get(column).map(String::as_str).unwrap_or("")
}

/// The area and year of a row of a DfE long table.
fn area_year(row: &Row) -> Option<(Area, i32)> {
    let year = field(row, "time_period").parse::<i32>().ok()?;
    let area = match field(row, "geographic_level") {
        "National" => Area::England,
        "Regional" => Area::Region(field(row, "region_code").to_owned()),
        "Local authority" => Area::La(field(row, "old_la_code").to_owned()),
        _ => return None,
    };
    Some((area, year))
}

/// A published number, or `None` for the DfE's markers (`c`, `x`, `z`, `k`, `low`, …).
fn number(text: &str) -> Option<f64> {
    text.replace(',', "")
        .parse::<f64>()
        .ok()
        .filter(|v| v.is_finite())
}

impl Reference {
    /// Parses every table from its text (`texts` by table name; a table not given is empty).
    pub fn build(texts: &HashMap<String, String>) -> Result<Reference, TableError> {
        let mut r = Reference::default();
        for spec in TABLES {
            let Some(text) = texts.get(spec.name) else {
                continue;
            };
            let rows = read_rows(spec, text)?;
            r.rows.insert(spec.name, rows.len());
            r.load(spec, &rows);
        }
        Ok(r)
    }

    /// Checks that `text` is a readable release of the named table; the number of rows.
    pub fn check_table(name: &str, text: &str) -> Result<(usize, Option<i32>), TableError> {
        let spec = table_spec(name).ok_or_else(|| TableError {
            table: name.to_owned(),
            reason: format!(
                "no such reference table; the tables are {}",
                TABLES.iter().map(|t| t.name).collect::<Vec<_>>().join(", ")
            ),
        })?;
        let rows = read_rows(spec, text)?;
        let latest = rows
            .iter()
            .filter_map(|r| field(r, "time_period").parse::<i32>().ok())
            .max();
        Ok((rows.len(), latest))
    }

    fn load(&mut self, spec: &'static TableSpec, rows: &[Row]) {
        if let Some(latest) = rows
            .iter()
            .filter_map(|r| field(r, "time_period").parse::<i32>().ok())
            .max()
        {
            self.latest_year.insert(spec.name, latest);
        }
        match spec.name {
            "ons_population" => {
                for row in rows {
                    let Some(key) = area_year(row) else { continue };
                    if let Area::La(code) = &key.0 {
                        self.la_names
                            .insert(code.clone(), field(row, "la_name").to_owned());
                        self.la_regions.insert(
                            code.clone(),
                            (
                                field(row, "region_code").to_owned(),
                                field(row, "region_name").to_owned(),
                            ),
                        );
                    }
                    if let Some(v) = number(field(row, "population_estimate")) {
                        self.populations.insert(key, v as i64);
                    }
                }
            }
            "statistical_neighbours" => {
                for row in rows {
                    let la = field(row, "old_la_code").to_owned();
                    let ns: Vec<String> = (1..=10)
                        .map(|i| field(row, &format!("SN_{i}")).to_owned())
                        .filter(|c| !c.is_empty())
                        .collect();
                    if !la.is_empty() {
                        self.neighbours.insert(la, ns);
                    }
                }
            }
            _ => {}
        }
        for b in BENCHMARKS.iter().filter(|b| b.table == spec.name) {
            let figures = self.figures.entry(b.measure).or_default();
            for row in rows {
                if b.filter.iter().any(|(c, v)| field(row, c) != *v) {
                    continue;
                }
                if let (Some(key), Some(v)) = (area_year(row), number(field(row, b.column))) {
                    figures.insert(key, v);
                }
            }
        }
        if spec.name == "cpp_duration" {
            for row in rows {
                if let (Some(key), Some(v)) = (area_year(row), number(field(row, "CPP_At31"))) {
                    self.cp_at31.insert(key, v);
                }
            }
        }
    }

    /// Every LA the population table names.
    pub fn la_codes(&self) -> impl Iterator<Item = &str> {
        self.la_names.keys().map(String::as_str)
    }

    pub fn la_name(&self, la: &str) -> Option<&str> {
        self.la_names.get(la).map(String::as_str)
    }

    /// The nine regions of England (ONS code, name), by code. The population table files
    /// London's boroughs under Inner and Outer London (E13…); both are London (E12000007) here.
    pub fn regions(&self) -> Vec<(String, String)> {
        let mut out: Vec<(String, String)> = self
            .la_regions
            .values()
            .map(|(code, name)| match nine_region(code) {
                LONDON => (LONDON.to_owned(), "London".to_owned()),
                _ => (code.clone(), name.clone()),
            })
            .filter(|(code, _)| code.starts_with("E12"))
            .collect();
        out.sort();
        out.dedup();
        out
    }

    /// The LAs of a region that exist now (with an estimate in the population table's latest
    /// year: not Northamptonshire or Cumbria, since split), by code.
    pub fn region_members(&self, region_code: &str) -> Vec<String> {
        let latest = self
            .populations
            .keys()
            .map(|(_, y)| *y)
            .max()
            .unwrap_or_default();
        let mut out: Vec<String> = self
            .la_regions
            .iter()
            .filter(|(la, (code, _))| {
                nine_region(code) == region_code
                    && self
                        .populations
                        .contains_key(&(Area::La((*la).clone()), latest))
            })
            .map(|(la, _)| la.clone())
            .collect();
        out.sort();
        out
    }

    /// An area's latest published figure of `measure` (year, value): England's latest year, or
    /// for an LA or region its own latest year with a figure (a suppressed year is skipped).
    pub fn published(&self, measure: &str, area: &Area) -> Option<(i32, f64)> {
        if !Self::has_benchmarks(measure) {
            return None;
        }
        let latest = self.latest_year.values().copied().max()?;
        (latest - 12..=latest)
            .rev()
            .find_map(|y| self.figure(measure, area, y).map(|v| (y, v)))
    }

    /// The LA's region: (ONS code, name).
    pub fn region(&self, la: &str) -> Option<(&str, &str)> {
        self.la_regions
            .get(la)
            .map(|(c, n)| (c.as_str(), n.as_str()))
    }

    pub fn neighbours(&self, la: &str) -> &[String] {
        self.neighbours.get(la).map(Vec::as_slice).unwrap_or(&[])
    }

    pub fn rows(&self, table: &str) -> usize {
        self.rows.get(table).copied().unwrap_or(0)
    }

    pub fn latest_year(&self, table: &str) -> Option<i32> {
        self.latest_year.get(table).copied()
    }

    /// The ONS estimate for `year` (mid-year), else the latest earlier one, marked as such.
    pub fn ons_population(&self, area: &Area, year: i32) -> Option<PopulationUsed> {
        if let Some(&p) = self.populations.get(&(area.clone(), year)) {
            return Some(PopulationUsed {
                year,
                population: p,
                source: PopulationSource::Ons,
            });
        }
        (year - 10..year).rev().find_map(|y| {
            self.populations
                .get(&(area.clone(), y))
                .map(|&p| PopulationUsed {
                    year: y,
                    population: p,
                    source: PopulationSource::OnsLatest,
                })
        })
    }

    /// A figure of a measure for an area and collection year.
    fn figure(&self, measure: &str, area: &Area, year: i32) -> Option<f64> {
        if measure == CP_RATE {
            let count = *self.cp_at31.get(&(area.clone(), year))?;
            // Plans at 31 March Y over the mid-(Y − 1) estimate, as the suite's own rates.
            let pop = self.populations.get(&(area.clone(), year - 1))?;
            if *pop <= 0 {
                return None;
            }
            return Some(round_1dp(count * 10_000.0 / *pop as f64));
        }
        self.figures
            .get(measure)?
            .get(&(area.clone(), year))
            .copied()
    }

    /// The measures that have published figures.
    pub fn has_benchmarks(measure: &str) -> bool {
        measure == CP_RATE || BENCHMARKS.iter().any(|b| b.measure == measure)
    }

    /// The latest published England, region and statistical-neighbour figures for `measure`,
    /// all for the latest year in which England's figure is published.
    pub fn benchmarks(&self, measure: &str, la: &str) -> Option<Benchmarks> {
        let note = if measure == CP_RATE {
            CP_RATE_NOTE
        } else {
            BENCHMARKS.iter().find(|b| b.measure == measure)?.note
        };
        let years: Vec<i32> = if measure == CP_RATE {
            self.cp_at31
                .keys()
                .filter(|(a, _)| *a == Area::England)
                .map(|(_, y)| *y)
                .collect()
        } else {
            self.figures
                .get(measure)?
                .keys()
                .filter(|(a, _)| *a == Area::England)
                .map(|(_, y)| *y)
                .collect()
        };
        let year = years
            .into_iter()
            .filter(|&y| self.figure(measure, &Area::England, y).is_some())
            .max()?;
        let region = self
            .region(la)
            .and_then(|(code, _)| self.figure(measure, &Area::Region(code.to_owned()), year));
        let neighbours: Vec<NeighbourFigure> = self
            .neighbours(la)
            .iter()
            .map(|n| NeighbourFigure {
                la_code: n.clone(),
                name: self.la_name(n).map(str::to_owned),
                value: self.figure(measure, &Area::La(n.clone()), year),
            })
            .collect();
        let values: Vec<f64> = neighbours.iter().filter_map(|n| n.value).collect();
        Some(Benchmarks {
            year,
            england: self.figure(measure, &Area::England, year),
            region,
            statistical_neighbours: median(&values),
            neighbours_published: values.len(),
            note: note.to_owned(),
            neighbours,
        })
    }
}

/// London's ONS region code.
const LONDON: &str = "E12000007";

/// The one of the nine regions an ONS region code is in: Inner and Outer London are London.
fn nine_region(code: &str) -> &str {
    if code.starts_with("E13") {
        LONDON
    } else {
        code
    }
}

/// The median: the middle value, or the mean of the middle two.
pub fn median(values: &[f64]) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    let n = v.len();
    Some(if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    })
}

fn round_1dp(v: f64) -> f64 {
    (v * 10.0).round() / 10.0
}

/// The shipped release of every table, by name.
pub fn shipped_texts() -> HashMap<String, String> {
    TABLES
        .iter()
        .map(|t| (t.name.to_owned(), t.shipped.to_owned()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shipped() -> Reference {
        Reference::build(&shipped_texts()).expect("the shipped tables parse")
    }

    #[test]
    fn every_shipped_table_parses_with_rows() {
        let r = shipped();
        for t in TABLES {
            assert!(r.rows(t.name) > 0, "{} has no rows", t.name);
        }
        assert_eq!(r.la_name("885"), Some("Worcestershire"));
        assert_eq!(r.region("885").map(|r| r.1), Some("West Midlands"));
        assert_eq!(r.neighbours("885").len(), 10);
    }

    #[test]
    fn population_is_the_estimate_for_the_year_else_the_latest_earlier() {
        let r = shipped();
        let p = r.ons_population(&Area::La("885".into()), 2018).unwrap();
        assert_eq!((p.population, p.source), (117_046, PopulationSource::Ons));
        let p = r.ons_population(&Area::La("885".into()), 2026).unwrap();
        assert_eq!(
            (p.year, p.population, p.source),
            (2024, 120_119, PopulationSource::OnsLatest)
        );
        assert!(r.ons_population(&Area::La("999".into()), 2018).is_none());
    }

    #[test]
    fn benchmarks_are_the_latest_year_with_the_neighbours_median() {
        let r = shipped();
        let b = r.benchmarks("frontdoor.rereferrals_12m", "885").unwrap();
        assert_eq!(b.year, 2025);
        assert_eq!(b.england, Some(22.6));
        assert_eq!(
            b.region,
            r.figure(
                "frontdoor.rereferrals_12m",
                &Area::Region("E12000005".into()),
                2025
            )
        );
        // The median recomputed by hand from the neighbours' published figures.
        let mut vals: Vec<f64> = r
            .neighbours("885")
            .iter()
            .filter_map(|n| r.figure("frontdoor.rereferrals_12m", &Area::La(n.clone()), 2025))
            .collect();
        vals.sort_by(f64::total_cmp);
        assert_eq!(b.neighbours_published, vals.len());
        assert!(vals.len() >= 2);
        assert_eq!(b.statistical_neighbours, median(&vals));
        // Each neighbour by name, the published ones the median's values.
        assert_eq!(b.neighbours.len(), 10);
        assert_eq!(
            b.neighbours
                .iter()
                .map(|n| n.la_code.as_str())
                .collect::<Vec<_>>(),
            r.neighbours("885")
        );
        assert!(b.neighbours.iter().all(|n| n.name.is_some()));
        let mut named: Vec<f64> = b.neighbours.iter().filter_map(|n| n.value).collect();
        named.sort_by(f64::total_cmp);
        assert_eq!(named, vals);
        assert!(r.benchmarks("frontdoor.referrals", "885").is_none());
    }

    #[test]
    fn cp_rate_benchmark_is_derived_from_plans_and_population() {
        let r = shipped();
        let b = r.benchmarks(CP_RATE, "885").unwrap();
        // England 2025: 49,420 plans over the mid-2024 estimate 12,183,016.
        assert_eq!(b.year, 2025);
        assert_eq!(b.england, Some(40.6));
    }

    #[test]
    fn median_of_odd_and_even_counts() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(median(&[4.0, 1.0, 3.0, 2.0]), Some(2.5));
        assert_eq!(median(&[]), None);
    }

    #[test]
    fn dfe_markers_are_not_figures() {
        for m in ["c", "x", "z", "k", "low", ""] {
            assert_eq!(number(m), None);
        }
        assert_eq!(number("1,234"), Some(1234.0));
    }

    #[test]
    fn a_release_without_the_columns_is_refused_naming_them() {
        let e = Reference::check_table("cla_rate", "a,b\n1,2\n").unwrap_err();
        assert!(e.reason.contains("rate_per_10000"), "{e}");
        assert!(Reference::check_table("nope", "a\n1\n").is_err());
        let (rows, latest) = Reference::check_table(
            "cla_social_workers",
            TABLES
                .iter()
                .find(|t| t.name == "cla_social_workers")
                .unwrap()
                .shipped,
        )
        .unwrap();
        assert!(rows > 100);
        assert_eq!(latest, Some(2024));
    }
}
