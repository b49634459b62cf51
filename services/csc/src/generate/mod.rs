//! `csc generate`: a synthetic LA (or several), written as the files the importers read: CIN
//! census XML (one per census year), an SSDA903 return as CSV tables, and the local CSV formats
//! (contacts, strategy discussions, missing episodes with return interviews, service-user
//! feedback, placement costs), and an Ofsted Annex A workbook of the last 12 months. No real person is in them: every id, date and code is drawn from
//! a seeded generator, so the same arguments write the same files.
//!
//! Calibrated to the model report for a county of ~120,000 children: ~4,700 referrals a year
//! sourced like its table, child protection at ~40–46 per 10,000, ~800 children looked after with
//! its placement mix, moves and weekly costs; other scales multiply the volumes.

use std::{
    collections::{BTreeMap, HashMap, VecDeque},
    fmt::Write as _,
    path::{Path, PathBuf},
};

use chrono::{Datelike, Duration, NaiveDate};
use csc_core::{Period, workdays::is_working_day};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

mod annex_a;

#[derive(clap::Args, Clone, Debug)]
pub struct GenerateArgs {
    /// DfE LA code(s) of the synthetic LA(s); several give one folder each under --out
    /// (default 885; `--scale region` and `england` choose their own LAs).
    #[arg(long, value_delimiter = ',')]
    pub la: Vec<String>,
    /// Folder to write the files in (created).
    #[arg(long)]
    pub out: PathBuf,
    /// `county` (one LA of 120,000 children aged 0–17), a number of children for one LA,
    /// `region` (the 14 West Midlands LAs) or `england` (every LA), each of these LAs with its
    /// own ONS population.
    #[arg(long, default_value = "county")]
    pub scale: String,
    /// Financial years of records, ending with the one holding --until.
    #[arg(long, default_value_t = 4)]
    pub years: u32,
    /// Seed: the same seed and arguments write the same files.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Last day of the records (default: the end of the latest complete quarter).
    #[arg(long)]
    pub until: Option<String>,
}

/// The size of what `csc generate` writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scale {
    /// One LA (or each `--la`) with this many children aged 0–17.
    Children(u64),
    /// Every LA of the West Midlands, as a regional deployment holds them.
    Region,
    /// Every LA in England.
    England,
}

pub fn parse_scale(s: &str) -> anyhow::Result<Scale> {
    Ok(match s {
        "county" => Scale::Children(120_000),
        "region" => Scale::Region,
        "england" => Scale::England,
        n => Scale::Children(
            n.replace('_', "")
                .parse::<u64>()
                .ok()
                .filter(|n| (1_000..=2_000_000).contains(n))
                .ok_or_else(|| {
                    anyhow::anyhow!(
                        "--scale {s:?}: county, region, england, or a number of children 1,000–2,000,000"
                    )
                })?,
        ),
    })
}

/// The West Midlands: the region of the model report's LA.
const REGION: &str = "E12000005";

/// The LAs to generate and their children aged 0–17 (the latest ONS estimate), at `scale`.
fn las_at(scale: Scale, la: &[String]) -> anyhow::Result<Vec<(String, u64)>> {
    use csc_aggregator::domain::reference::{Area, Reference, TABLES};
    let las = |pick: &dyn Fn(&str) -> bool| -> anyhow::Result<Vec<(String, u64)>> {
        anyhow::ensure!(
            la.is_empty(),
            "--la cannot be combined with --scale region or england"
        );
        let pop = TABLES
            .iter()
            .find(|t| t.name == "ons_population")
            .expect("shipped");
        let texts = std::iter::once((pop.name.to_owned(), pop.shipped.to_owned())).collect();
        let r = Reference::build(&texts)?;
        let mut out: Vec<(String, u64)> = r
            .la_codes()
            .filter(|c| pick(c))
            .filter_map(|c| {
                r.ons_population(&Area::La(c.to_owned()), 2024)
                    .map(|p| (c.to_owned(), p.population as u64))
            })
            .collect();
        out.sort();
        Ok(out)
    };
    Ok(match scale {
        Scale::Children(n) if la.is_empty() => vec![("885".into(), n)],
        Scale::Children(n) => la.iter().map(|l| (l.clone(), n)).collect(),
        Scale::Region => {
            let pop = TABLES
                .iter()
                .find(|t| t.name == "ons_population")
                .expect("shipped");
            let texts = std::iter::once((pop.name.to_owned(), pop.shipped.to_owned())).collect();
            let r = Reference::build(&texts)?;
            las(&|c| r.region(c).is_some_and(|(code, _)| code == REGION))?
        }
        Scale::England => las(&|_| true)?,
    })
}

/// The end of the latest financial quarter that has ended on or before `today`.
pub fn latest_complete_quarter(today: NaiveDate) -> Period {
    Period::quarter_containing(today).previous()
}

/// What was written for one LA.
#[derive(Debug, Clone, Default)]
pub struct Generated {
    pub la: String,
    pub dir: PathBuf,
    pub until: NaiveDate,
    pub counts: BTreeMap<&'static str, usize>,
}

impl Generated {
    pub fn summary(&self) -> String {
        let mut s = format!(
            "LA {} in {} (records to {}):",
            self.la,
            self.dir.display(),
            self.until
        );
        for (k, v) in &self.counts {
            let _ = write!(s, " {v} {k},");
        }
        s.pop();
        s
    }
}

pub fn run(args: &GenerateArgs) -> anyhow::Result<Vec<Generated>> {
    let las = las_at(parse_scale(&args.scale)?, &args.la)?;
    let until = match &args.until {
        Some(d) => csc_core::parse_date(d)
            .ok_or_else(|| anyhow::anyhow!("--until {d:?} is not a date (YYYY-MM-DD)"))?,
        None => latest_complete_quarter(chrono::Utc::now().date_naive()).end(),
    };
    if !(1..=15).contains(&args.years) {
        anyhow::bail!("--years must be 1–15");
    }
    let several = las.len() > 1;
    let mut configs = Vec::new();
    for (i, (la, children)) in las.iter().enumerate() {
        let la = csc_core::LaCode::parse(la).map_err(|e| anyhow::anyhow!("--la: {e}"))?;
        let dir = if several {
            args.out.join(la.to_string())
        } else {
            args.out.clone()
        };
        let cfg = Config {
            la: la.to_string(),
            children: *children,
            years: args.years,
            seed: args.seed.wrapping_add(i as u64 * 0x9E37_79B9),
            until,
        };
        configs.push((cfg, dir));
    }
    // LAs are independent: generate them on every core.
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(configs.len().max(1));
    let chunk = configs.len().div_ceil(threads.max(1)).max(1);
    let results: Vec<anyhow::Result<Vec<Generated>>> = std::thread::scope(|s| {
        configs
            .chunks(chunk)
            .map(|part| s.spawn(move || part.iter().map(|(c, d)| generate(c, d)).collect()))
            .collect::<Vec<_>>()
            .into_iter()
            .map(|h| h.join().expect("a generator thread panicked"))
            .collect()
    });
    let mut out = Vec::new();
    for r in results {
        out.extend(r?);
    }
    Ok(out)
}

#[derive(Debug, Clone)]
pub struct Config {
    pub la: String,
    pub children: u64,
    pub years: u32,
    pub seed: u64,
    pub until: NaiveDate,
}

// ---------------------------------------------------------------------------------------------
// Calibration: the model report's tables.

/// Referral sources as the model report's 2017/18 table (%), with the codes of each group.
const SOURCES: &[(f64, &[&str])] = &[
    (7.0, &["1A", "1B", "1C", "1D"]),
    (18.0, &["2A"]),
    (1.0, &["2B"]),
    (13.0, &["3A", "3B", "3C", "3D", "3E", "3F"]),
    (1.4, &["4"]),
    (9.0, &["5A", "5B", "5C", "5D"]),
    (37.0, &["6"]),
    (4.3, &["7"]),
    (4.6, &["8"]),
    (3.4, &["9"]),
    (0.1, &["10"]),
];

/// End reasons of placement moves, as the model report's table (%).
const MOVE_REASONS: &[(f64, &str)] = &[
    (37.0, "CREQB"),
    (28.0, "CARPL"),
    (11.0, "CHILD"),
    (8.0, "CREQO"),
    (6.0, "LAREQ"),
    (3.0, "STAND"),
    (2.0, "ALLEG"),
    (1.5, "CLOSE"),
    (2.5, "OTHER"),
    (1.0, "PLACE"),
];

const CATEGORIES: &[(f64, &str)] = &[
    (50.0, "NEG"),
    (35.0, "EMO"),
    (7.0, "PHY"),
    (4.0, "SAB"),
    (4.0, "MUL"),
];

/// Factors identified at assessment: the common ones, and the exploitation ones the CSE section
/// reads (11A, 24A, 10A, 13A, 12A), with the chance of each.
const FACTORS: &[(f64, &str)] = &[
    (0.30, "3A"),
    (0.35, "3B"),
    (0.30, "4B"),
    (0.12, "2B"),
    (0.10, "1B"),
    (0.08, "4A"),
    (0.06, "5A"),
    (0.05, "6B"),
    (0.06, "18B"),
    (0.06, "21"),
    (0.03, "11A"),
    (0.02, "24A"),
    (0.03, "10A"),
    (0.01, "13A"),
    (0.005, "12A"),
];

/// Assessment length in working days: (weight %, (lowest, highest)); 87% within 45.
const ASSESSMENT_DAYS: &[(f64, (i64, i64))] = &[
    (1.0, (0, 0)),
    (20.0, (1, 10)),
    (25.0, (11, 20)),
    (20.0, (21, 30)),
    (14.0, (31, 40)),
    (7.0, (41, 45)),
    (5.0, (46, 50)),
    (5.0, (51, 60)),
    (3.0, (61, 90)),
];

/// First placements of children under 16, as the model report's costs table: (weight, (PLACE,
/// PLACE_PROVIDER)).
const PLACEMENTS_UNDER_16: &[(f64, (&str, &str))] = &[
    (232.0, ("U4", "PR4")),
    (60.0, ("U5", "PR4")),
    (188.0, ("U4", "PR1")),
    (40.0, ("U6", "PR1")),
    (162.0, ("U1", "PR1")),
    (40.0, ("U3", "PR1")),
    (76.0, ("K2", "PR4")),
    (28.0, ("K2", "PR1")),
    (2.0, ("K1", "PR4")),
    (25.0, ("P1", "PR0")),
];

const PLACEMENTS_16_PLUS: &[(f64, (&str, &str))] = &[
    (30.0, ("U4", "PR4")),
    (20.0, ("U4", "PR1")),
    (15.0, ("U1", "PR1")),
    (25.0, ("K2", "PR4")),
    (23.0, ("SUPPORTED", "PR4")),
    (21.0, ("SUPPORTED", "PR1")),
    (15.0, ("P2", "PR4")),
];

/// Weekly cost in pounds by placement, as the model report: (mean, spread).
fn weekly_cost(place: &str, provider: &str) -> Option<(f64, f64)> {
    Some(match (place, provider) {
        ("K2", "PR1") => (2_600.0, 250.0),
        ("K2", _) => (3_418.0, 650.0),
        ("K1", _) => (5_900.0, 600.0),
        ("U4" | "U5" | "U6", "PR1") => (477.0, 70.0),
        ("U4" | "U5" | "U6", _) => (789.0, 110.0),
        ("U1" | "U2" | "U3", _) => (379.0, 60.0),
        ("H5" | "K3", "PR1") => (148.0, 40.0),
        ("H5" | "K3", _) => (839.0, 180.0),
        ("P2", _) => (333.0, 50.0),
        _ => return None,
    })
}

const FEEDBACK: &[(&str, &str, f64)] = &[
    ("parent_concern_explained", "parent", 0.85),
    ("parent_plan_positive_difference", "parent", 0.45),
    ("professional_child_voice_understood", "professional", 0.85),
    (
        "professional_conference_child_focused",
        "professional",
        0.78,
    ),
    ("professional_plan_reflects_needs", "professional", 0.80),
];

// ---------------------------------------------------------------------------------------------
// Drawing.

struct Draw(ChaCha8Rng);

impl Draw {
    fn p(&mut self, p: f64) -> bool {
        self.0.random_bool(p.clamp(0.0, 1.0))
    }
    fn unit(&mut self) -> f64 {
        self.0.random::<f64>()
    }
    fn range(&mut self, lo: i64, hi: i64) -> i64 {
        if hi <= lo {
            lo
        } else {
            self.0.random_range(lo..=hi)
        }
    }
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.0.random_range(0..items.len())]
    }
    fn weighted<'a, T>(&mut self, items: &'a [(f64, T)]) -> &'a T {
        let total: f64 = items.iter().map(|(w, _)| w).sum();
        let mut x = self.unit() * total;
        for (w, t) in items {
            if x < *w {
                return t;
            }
            x -= w;
        }
        &items[items.len() - 1].1
    }
    /// Exponentially distributed days with this mean, at least `min`.
    fn exp_days(&mut self, mean: f64, min: i64) -> i64 {
        let u = self.unit().max(1e-12);
        ((-u.ln() * mean) as i64).max(min)
    }
    /// A Poisson count (normal approximation for large means).
    fn poisson(&mut self, lambda: f64) -> u64 {
        if lambda > 50.0 {
            // Box–Muller.
            let (u1, u2) = (self.unit().max(1e-12), self.unit());
            let z = (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos();
            return (lambda + z * lambda.sqrt()).round().max(0.0) as u64;
        }
        let l = (-lambda).exp();
        let (mut k, mut p) = (0u64, 1.0);
        loop {
            p *= self.unit();
            if p <= l {
                return k;
            }
            k += 1;
        }
    }
    fn normal(&mut self, mean: f64, sd: f64) -> f64 {
        let (u1, u2) = (self.unit().max(1e-12), self.unit());
        mean + sd * (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
    }
}

fn add_working_days(d: NaiveDate, n: i64) -> NaiveDate {
    let mut x = d;
    let mut left = n;
    while left > 0 {
        x += Duration::days(1);
        if is_working_day(x) {
            left -= 1;
        }
    }
    x
}

fn next_working_day(d: NaiveDate) -> NaiveDate {
    let mut x = d;
    while !is_working_day(x) {
        x += Duration::days(1);
    }
    x
}

fn dmy(d: NaiveDate) -> String {
    d.format("%d/%m/%Y").to_string()
}

fn opt(d: Option<NaiveDate>) -> String {
    d.map(|d| d.to_string()).unwrap_or_default()
}

// ---------------------------------------------------------------------------------------------
// The records.

#[derive(Default)]
struct CinChild {
    dob: Option<NaiveDate>,
    sex: u8,
    episodes: Vec<CinEpisode>,
}

struct CinEpisode {
    referral: NaiveDate,
    source: &'static str,
    nfa: bool,
    closure: Option<(NaiveDate, &'static str)>,
    assessment: Option<(NaiveDate, Option<NaiveDate>, Vec<&'static str>)>,
    cin_plan: Option<(NaiveDate, Option<NaiveDate>)>,
    s47: Option<(NaiveDate, Option<NaiveDate>)>,
    cp: Option<CpPlan>,
}

impl CinEpisode {
    /// The last day anything in the episode is open (`None`: still open).
    fn open_until(&self) -> Option<NaiveDate> {
        let mut last = self.referral;
        let mut ends = vec![self.closure.map(|c| c.0)];
        if let Some((s, e)) = self.cin_plan {
            last = last.max(s);
            ends.push(e);
        }
        if let Some(cp) = &self.cp {
            last = last.max(cp.start);
            ends.push(cp.end);
        }
        if let Some((_, auth, _)) = &self.assessment {
            ends.push(*auth);
        }
        if ends.iter().skip(1).any(Option::is_none) && self.closure.is_none() {
            return None;
        }
        Some(ends.into_iter().flatten().fold(last, NaiveDate::max))
    }
}

struct CpPlan {
    start: NaiveDate,
    end: Option<NaiveDate>,
    initial: &'static str,
    latest: &'static str,
    previous: u32,
    reviews: Vec<NaiveDate>,
}

struct Episode903 {
    decom: NaiveDate,
    rne: &'static str,
    ls: &'static str,
    cin: &'static str,
    place: String,
    provider: &'static str,
    dec: Option<NaiveDate>,
    rec: Option<&'static str>,
    reason: Option<&'static str>,
}

struct CareChild {
    id: String,
    dob: NaiveDate,
    sex: u8,
    start: NaiveDate,
    end: Option<NaiveDate>,
    episodes: Vec<Episode903>,
    workers: Vec<(String, NaiveDate, Option<NaiveDate>, &'static str)>,
}

struct Writer {
    dir: PathBuf,
    counts: BTreeMap<&'static str, usize>,
}

impl Writer {
    fn csv(
        &mut self,
        name: &str,
        what: &'static str,
        header: &[&str],
        rows: Vec<Vec<String>>,
    ) -> anyhow::Result<()> {
        let path = self.dir.join(name);
        if let Some(p) = path.parent() {
            std::fs::create_dir_all(p)?;
        }
        let mut w = csv::Writer::from_path(&path)?;
        w.write_record(header)?;
        *self.counts.entry(what).or_default() += rows.len();
        for r in rows {
            w.write_record(r)?;
        }
        w.flush()?;
        Ok(())
    }
}

/// Writes one LA's files into `dir`.
pub fn generate(cfg: &Config, dir: &Path) -> anyhow::Result<Generated> {
    std::fs::create_dir_all(dir)?;
    let mut g = Draw(ChaCha8Rng::seed_from_u64(
        cfg.seed
            ^ cfg
                .la
                .bytes()
                .fold(0u64, |h, b| h.wrapping_mul(131).wrapping_add(u64::from(b))),
    ));
    let scale = cfg.children as f64 / 120_000.0;
    let until = cfg.until;
    let first_fy = Period::quarter_containing(until).financial_year() - cfg.years as i32 + 1;
    let start = Period::year(first_fy).start();
    // Two years before the files begin, so that plans and re-referrals already in progress at
    // the start are there, as in a real LA's first census.
    let warm = Period::year(first_fy - 2).start();
    let mut w = Writer {
        dir: dir.to_owned(),
        counts: BTreeMap::new(),
    };
    let la = cfg.la.clone();
    let mut next_id = 0u64;
    let mut new_id = |prefix: char| {
        next_id += 1;
        format!("{la}{prefix}{next_id:07}")
    };

    // --- Front door, CIN and CP: referral by referral. ---------------------------------------
    let referral_rate = 4_700.0 * scale / 252.0; // per working day
    let mut children: BTreeMap<String, CinChild> = BTreeMap::new();
    let mut recent: VecDeque<(NaiveDate, String)> = VecDeque::new();
    let mut ended_cp: Vec<(NaiveDate, String)> = Vec::new();
    let mut open_cp: HashMap<String, Option<NaiveDate>> = HashMap::new();
    let mut contacts: Vec<Vec<String>> = Vec::new();
    let mut strategy: Vec<Vec<String>> = Vec::new();
    let mut contact_n = 0u64;
    let mut contact = |rows: &mut Vec<Vec<String>>,
                       child: &str,
                       date: NaiveDate,
                       source: &str,
                       referral: bool| {
        contact_n += 1;
        rows.push(vec![
            format!("K{contact_n:08}"),
            child.to_owned(),
            date.to_string(),
            source.to_owned(),
            if referral { "Y" } else { "N" }.to_owned(),
        ]);
    };
    let mut referred_today: std::collections::HashSet<String> = std::collections::HashSet::new();
    let mut day = warm;
    while day <= until {
        if is_working_day(day) {
            referred_today.clear();
            for _ in 0..g.poisson(referral_rate) {
                // ~20% of referrals are of a child referred in the last 12 months.
                while recent
                    .front()
                    .is_some_and(|(d, _)| *d < csc_core::sub_months(day, 12))
                {
                    recent.pop_front();
                }
                // Never the same child twice in a day: a referral is keyed by child and date.
                let again = (g.p(0.2) && !recent.is_empty())
                    .then(|| g.range(0, recent.len() as i64 - 1) as usize)
                    .filter(|&i| recent[i].0 < day)
                    .map(|i| recent[i].1.clone())
                    .filter(|c| !referred_today.contains(c));
                let child_id = again.unwrap_or_else(|| new_id('C'));
                referred_today.insert(child_id.clone());
                recent.push_back((day, child_id.clone()));
                let group = g_sources(&mut g);
                let source = *g.pick(group);
                let child = children
                    .entry(child_id.clone())
                    .or_insert_with(|| CinChild {
                        dob: None,
                        sex: 0,
                        episodes: Vec::new(),
                    });
                if child.dob.is_none() {
                    let age_days = g.range(0, 17 * 365 + 300);
                    child.dob = Some(day - Duration::days(age_days));
                    child.sex = if g.p(0.5) { 1 } else { 2 };
                }
                contact(&mut contacts, &child_id, day, source, true);
                let mut ep = CinEpisode {
                    referral: day,
                    source,
                    nfa: false,
                    closure: None,
                    assessment: None,
                    cin_plan: None,
                    s47: None,
                    cp: None,
                };
                if g.p(0.065) {
                    ep.nfa = true;
                    ep.closure = Some((day, "RC8"));
                    child.episodes.push(ep);
                    continue;
                }
                // An assessment is keyed by child and start: not the day another of theirs started.
                let mut a_start = next_working_day(day + Duration::days(g.range(0, 2)));
                while child
                    .episodes
                    .iter()
                    .any(|e| e.assessment.as_ref().is_some_and(|a| a.0 == a_start))
                {
                    a_start = next_working_day(a_start + Duration::days(1));
                }
                let (lo, hi) = *g.weighted(ASSESSMENT_DAYS);
                let a_auth = add_working_days(a_start, g.range(lo, hi));
                let factors: Vec<&'static str> = FACTORS
                    .iter()
                    .filter(|(p, _)| g.p(*p))
                    .map(|(_, f)| *f)
                    .collect();
                let auth = (a_auth <= until).then_some(a_auth);
                ep.assessment = Some((a_start.min(until), auth, factors));
                let Some(auth) = auth else {
                    child.episodes.push(ep);
                    continue;
                };
                if g.p(0.40) {
                    // Child not in need: no further action.
                    ep.closure = Some((auth, if g.p(0.8) { "RC8" } else { "RC9" }));
                    if g.p(0.27) {
                        let before = day - Duration::days(g.range(20, 330));
                        contact(&mut contacts, &child_id, before, source, false);
                    }
                    child.episodes.push(ep);
                    continue;
                }
                let on_cp = open_cp
                    .get(&child_id)
                    .is_some_and(|e| e.is_none_or(|e| e >= day));
                if !on_cp && g.p(0.42) {
                    // Section 47 enquiry, after a strategy discussion.
                    let mut s47 = next_working_day(day + Duration::days(g.range(0, 5)));
                    while child
                        .episodes
                        .iter()
                        .any(|e| e.s47.is_some_and(|x| x.0 == s47))
                    {
                        s47 = next_working_day(s47 + Duration::days(1));
                    }
                    if s47 > until {
                        child.episodes.push(ep);
                        continue;
                    }
                    let invited = [
                        ("police", 0.98),
                        ("health", 0.9),
                        ("education", 0.7),
                        ("other", 0.3),
                    ];
                    let attend = [
                        ("police", 0.62),
                        ("health", 0.66),
                        ("education", 0.55),
                        ("other", 0.5),
                    ];
                    let inv: Vec<&str> = invited
                        .iter()
                        .filter(|(_, p)| g.p(*p))
                        .map(|(a, _)| *a)
                        .collect();
                    let att: Vec<&str> = inv
                        .iter()
                        .filter(|a| {
                            attend
                                .iter()
                                .find(|(x, _)| x == *a)
                                .is_some_and(|(_, p)| g.p(*p))
                        })
                        .copied()
                        .collect();
                    strategy.push(vec![
                        child_id.clone(),
                        s47.to_string(),
                        inv.join(";"),
                        att.join(";"),
                    ]);
                    if g.p(0.66) {
                        let wd = if g.p(0.8) {
                            g.range(5, 15)
                        } else {
                            g.range(16, 30)
                        };
                        let icpc = add_working_days(s47, wd);
                        if icpc <= until {
                            ep.s47 = Some((s47, Some(icpc)));
                            let repeat = g.p(0.22);
                            let mut previous = 0;
                            let mut cp_child = child_id.clone();
                            if repeat
                                && let Some(i) = (!ended_cp.is_empty())
                                    .then(|| g.range(0, ended_cp.len() as i64 - 1) as usize)
                                && ended_cp[i].0 < icpc
                                && !open_cp
                                    .get(&ended_cp[i].1)
                                    .is_some_and(|e| e.is_none_or(|e| e >= icpc))
                                && !referred_today.contains(&ended_cp[i].1)
                            {
                                cp_child = ended_cp[i].1.clone();
                                previous = 1;
                            }
                            let cat = *g.weighted(CATEGORIES);
                            let latest = if g.p(0.1) {
                                *g.weighted(CATEGORIES)
                            } else {
                                cat
                            };
                            let first_review = icpc + Duration::days(g.range(80, 95));
                            let length = if g.p(0.17) {
                                (first_review - icpc).num_days()
                            } else {
                                g.exp_days(300.0, 120).min(1_100)
                            };
                            let end = icpc + Duration::days(length);
                            let mut reviews = Vec::new();
                            let mut r = first_review;
                            while r <= end && r <= until {
                                reviews.push(r);
                                r += Duration::days(g.range(170, 190));
                            }
                            let end = (end <= until).then_some(end);
                            if let Some(e) = end {
                                ended_cp.push((e, cp_child.clone()));
                            }
                            open_cp.insert(cp_child.clone(), end);
                            let plan = CpPlan {
                                start: icpc,
                                end,
                                initial: cat,
                                latest,
                                previous,
                                reviews,
                            };
                            if cp_child == child_id {
                                ep.cp = Some(plan);
                            } else {
                                // A repeat plan for a child known before: the episode is theirs.
                                let other = children
                                    .get_mut(&cp_child)
                                    .expect("a child with an ended plan is known");
                                let mut ep2 = ep;
                                ep2.cp = Some(plan);
                                if let Some(a) = &mut ep2.assessment {
                                    while other
                                        .episodes
                                        .iter()
                                        .any(|e| e.assessment.as_ref().is_some_and(|x| x.0 == a.0))
                                    {
                                        a.0 = next_working_day(a.0 + Duration::days(1));
                                    }
                                }
                                other.episodes.push(ep2);
                                continue;
                            }
                            child.episodes.push(ep);
                            continue;
                        }
                    }
                    ep.s47 = Some((s47, None));
                }
                if g.p(0.62) {
                    let mut s = auth + Duration::days(g.range(0, 10));
                    while child
                        .episodes
                        .iter()
                        .any(|e| e.cin_plan.is_some_and(|p| p.0 == s))
                    {
                        s += Duration::days(1);
                    }
                    if s <= until {
                        let e = s + Duration::days(g.exp_days(190.0, 30));
                        ep.cin_plan = Some((s, (e <= until).then_some(e)));
                        if e <= until {
                            ep.closure = Some((e, "RC1"));
                        }
                    }
                } else {
                    let c = auth + Duration::days(g.range(0, 60));
                    if c <= until {
                        ep.closure = Some((c, "RC7"));
                    }
                }
                child.episodes.push(ep);
            }
        }
        day += Duration::days(1);
    }
    // Contacts that did not become referrals: about one and a half for every referral.
    let n_ref = contacts.len();
    for _ in 0..(n_ref as f64 * 1.5) as usize {
        let d = warm + Duration::days(g.range(0, (until - warm).num_days()));
        let group = g_sources(&mut g);
        let source = *g.pick(group);
        let id = new_id('K');
        contact(&mut contacts, &id, d, source, false);
    }
    let first_day = start.to_string();
    contacts.retain(|c| c[2] >= first_day);
    contacts.sort_by(|a, b| (&a[2], &a[1], &a[0]).cmp(&(&b[2], &b[1], &b[0])));
    link_contacts(&mut contacts, &children);
    let annex_contacts = contacts.clone();
    w.csv(
        "contacts.csv",
        "contacts",
        &[
            "contact_id",
            "child_id",
            "contact_date",
            "source",
            "became_referral",
        ],
        contacts,
    )?;
    strategy.retain(|s| s[1] >= first_day);
    w.csv(
        "strategy.csv",
        "strategy discussions",
        &["child_id", "discussion_date", "invited", "attended"],
        strategy,
    )?;
    write_cin(&mut w, cfg, &children, start, first_fy)?;

    // --- Looked-after children: periods of care, placements, social workers. ---------------
    let care_start = Period::year(first_fy - 9).start();
    let mut care: Vec<CareChild> = Vec::new();
    let mut worker_n = (60.0 * scale).max(8.0) as i64;
    let starts_per_day = 330.0 * scale / 365.0;
    let mut d = care_start;
    while d <= until {
        for _ in 0..g.poisson(starts_per_day) {
            if let Some(c) = care_period(&mut g, new_id('L'), d, until, &mut worker_n) {
                care.push(c);
            }
        }
        d += Duration::days(1);
    }
    // Only what a return covering the files' years holds: periods open on or after the start.
    care.retain(|c| c.end.is_none_or(|e| e >= start));
    write_903(&mut w, &care)?;
    annex_a::write(&mut w, cfg, &children, &care, &annex_contacts)?;
    write_costs(&mut w, &mut g, &care, start, until)?;

    // --- Missing episodes (from home and from care) and return interviews. -----------------
    let mut missing: Vec<Vec<String>> = Vec::new();
    let cin_ids: Vec<&String> = children.keys().collect();
    let mut d = start;
    while d <= until {
        for from_care in [false, true] {
            let (m_rate, a_rate) = if from_care { (3.0, 0.7) } else { (2.6, 0.8) };
            for kind in ["M", "A"] {
                let rate = if kind == "M" { m_rate } else { a_rate } * scale;
                for _ in 0..g.poisson(rate) {
                    let child = if from_care {
                        // A child in care that day.
                        let mut found = None;
                        for _ in 0..20 {
                            let c = g.pick(&care);
                            if c.start <= d && c.end.is_none_or(|e| e > d) {
                                found = Some(c.id.clone());
                                break;
                            }
                        }
                        match found {
                            Some(c) => c,
                            None => continue,
                        }
                    } else {
                        (*g.pick(&cin_ids)).clone()
                    };
                    missing.push(missing_row(&mut g, &child, kind, from_care, d, until));
                }
            }
        }
        d += Duration::days(1);
    }
    // One episode per child and start day.
    missing.sort_by(|a, b| (&a[0], &a[3]).cmp(&(&b[0], &b[3])));
    missing.dedup_by(|a, b| a[0] == b[0] && a[3] == b[3]);
    w.csv(
        "missing.csv",
        "missing and away episodes",
        &[
            "child_id",
            "kind",
            "absent_from",
            "start_date",
            "start_time",
            "end_date",
            "end_time",
            "interview_offered_date",
            "interview_outcome",
            "interview_completed_date",
            "interview_completed_time",
        ],
        missing,
    )?;

    // --- Service-user feedback: monthly answers to the five questions. ----------------------
    let mut feedback = Vec::new();
    let per_month = (28.0 * scale.sqrt()).round().max(8.0) as i64;
    let mut m = start;
    let mut n = 0u64;
    while m <= until {
        for (q, who, base) in FEEDBACK {
            let p = (base + g.normal(0.0, 0.06)).clamp(0.05, 0.98);
            for _ in 0..g.range(per_month * 3 / 4, per_month * 5 / 4) {
                n += 1;
                let day = m + Duration::days(g.range(0, 27));
                let rating = if g.p(p) {
                    "positive"
                } else if g.p(0.3) {
                    "neutral"
                } else {
                    "negative"
                };
                feedback.push(vec![
                    format!("R{n:08}"),
                    q.to_string(),
                    who.to_string(),
                    day.min(until).to_string(),
                    rating.into(),
                    String::new(),
                ]);
            }
        }
        m = csc_core::add_months(m, 1);
    }
    w.csv(
        "feedback.csv",
        "feedback answers",
        &[
            "response_id",
            "question",
            "respondent",
            "response_date",
            "rating",
            "child_id",
        ],
        feedback,
    )?;

    let mut readme = format!(
        "Synthetic data for LA {} written by `csc generate` (seed {}, {} children aged 0-17, records to {}).\n\
         No real person is in these files.\n\nImport them with `csc import generated FOLDER` (this folder), or one by one \
         (docs/formats.md):\n",
        cfg.la, cfg.seed, cfg.children, until,
    );
    for (k, v) in &w.counts {
        let _ = writeln!(readme, "  {v} {k}");
    }
    std::fs::write(dir.join("README.txt"), readme)?;
    Ok(Generated {
        la: cfg.la.clone(),
        dir: dir.to_owned(),
        until,
        counts: w.counts,
    })
}

fn g_sources(g: &mut Draw) -> &'static [&'static str] {
    let group: &&'static [&'static str] = g.weighted(SOURCES);
    group
}

fn missing_row(
    g: &mut Draw,
    child: &str,
    kind: &str,
    from_care: bool,
    d: NaiveDate,
    until: NaiveDate,
) -> Vec<String> {
    let start_time = format!("{:02}:{:02}", g.range(14, 23), g.range(0, 59));
    // Back the next day or later, so that the end time is after the start whatever the clock.
    let end = d + Duration::days(if g.p(0.6) { 1 } else { g.range(1, 4) });
    let (end_date, end_time) = if end <= until {
        (
            Some(end),
            format!("{:02}:{:02}", g.range(0, 23), g.range(0, 59)),
        )
    } else {
        (None, String::new())
    };
    let mut row = vec![
        child.to_owned(),
        kind.to_owned(),
        if from_care { "care" } else { "home" }.to_owned(),
        d.to_string(),
        start_time,
        opt(end_date),
        if end_date.is_some() {
            end_time.clone()
        } else {
            String::new()
        },
        String::new(),
        String::new(),
        String::new(),
        String::new(),
    ];
    if let Some(end) = end_date
        && kind == "M"
        && g.p(0.85)
    {
        let offered = end + Duration::days(g.range(0, 1));
        if offered <= until {
            row[7] = offered.to_string();
            if g.p(0.72) {
                row[8] = "accepted".into();
                let done = offered
                    + Duration::days(if g.p(0.65) {
                        g.range(0, 1)
                    } else {
                        g.range(2, 7)
                    });
                if done <= until && g.p(0.9) {
                    row[9] = done.to_string();
                    row[10] = format!("{:02}:{:02}", g.range(9, 18), g.range(0, 59));
                    if done == end && row[10] < end_time {
                        row[10] = end_time.clone();
                    }
                }
            } else {
                row[8] = "declined".into();
            }
        }
    }
    row
}

/// One period of care starting on `start`: its episodes and social workers, or `None` when the
/// child would be 18 before it starts.
fn care_period(
    g: &mut Draw,
    id: String,
    start: NaiveDate,
    until: NaiveDate,
    worker_n: &mut i64,
) -> Option<CareChild> {
    let age = *g.weighted(&[
        (20.0, (0, 0)),
        (15.0, (1, 4)),
        (20.0, (5, 9)),
        (35.0, (10, 15)),
        (10.0, (16, 17)),
    ]);
    let years = g.range(age.0, age.1);
    let dob = start - Duration::days(years * 365 + g.range(0, 364));
    let eighteen = csc_core::add_months(dob, 18 * 12);
    if eighteen <= start {
        return None;
    }
    let len = match *g.weighted(&[(42.0, 0u8), (20.0, 1), (38.0, 2)]) {
        0 => g.range(10, 364),
        1 => g.range(365, 729),
        _ => g.range(730, 3650),
    };
    let mut end = start + Duration::days(len);
    let rec;
    if end >= eighteen {
        end = eighteen;
        rec = "E8";
    } else if years < 5 && len > 300 {
        rec = *g.pick(&["E11", "E11", "E12", "E41"]);
    } else {
        rec = *g.weighted(&[
            (55.0, "E4A"),
            (15.0, "E12"),
            (12.0, "E8"),
            (10.0, "E41"),
            (8.0, "E13"),
        ]);
    }
    let end = (end <= until).then_some(end);
    let unstable = g.p(0.08);
    let ls_first = *g.weighted(&[(45.0, "C1"), (30.0, "V2"), (25.0, "C2")]);
    let cin = *g.weighted(&[
        (62.0, "N1"),
        (10.0, "N4"),
        (9.0, "N5"),
        (8.0, "N6"),
        (6.0, "N2"),
        (5.0, "N8"),
    ]);
    let last_day = end.unwrap_or(until);
    let mut episodes: Vec<Episode903> = Vec::new();
    let mut d = start;
    let mut ls = ls_first;
    let mut first = true;
    while d < last_day || (first && d == last_day) {
        let age_now = (d - dob).num_days() / 365;
        let (place, provider) = if age_now >= 16 {
            *g.weighted(PLACEMENTS_16_PLUS)
        } else if unstable && !first && g.p(0.35) {
            ("K2", if g.p(0.7) { "PR4" } else { "PR1" })
        } else {
            *g.weighted(PLACEMENTS_UNDER_16)
        };
        let place = if place == "SUPPORTED" {
            if d >= NaiveDate::from_ymd_opt(2024, 4, 1).expect("valid") {
                "K3"
            } else {
                "H5"
            }
        } else {
            place
        };
        let stay = if unstable {
            g.exp_days(90.0, 7)
        } else {
            g.exp_days(700.0, 30)
        };
        let p_end = (d + Duration::days(stay)).min(last_day);
        // A change of legal status alone, inside the placement: a new episode, not a new placement.
        let mut segments = vec![(d, ls)];
        if ls == "C1" {
            let change = d + Duration::days(g.range(60, 200));
            if change < p_end {
                segments.push((change, "C2"));
            }
        }
        for (i, (s, l)) in segments.iter().enumerate() {
            let seg_end = segments.get(i + 1).map(|x| x.0).unwrap_or(p_end);
            let rne = if i > 0 {
                "L"
            } else if first {
                "S"
            } else {
                "P"
            };
            episodes.push(Episode903 {
                decom: *s,
                rne,
                ls: l,
                cin,
                place: place.to_owned(),
                provider,
                dec: Some(seg_end),
                rec: Some("X1"),
                reason: None,
            });
            ls = l;
        }
        if p_end < last_day {
            let last = episodes.last_mut().expect("an episode");
            last.reason = Some(*g.weighted(MOVE_REASONS));
        }
        first = false;
        d = p_end;
        if p_end >= last_day {
            break;
        }
    }
    let last = episodes.last_mut()?;
    match end {
        Some(e) => {
            last.dec = Some(e);
            last.rec = Some(rec);
        }
        None => {
            last.dec = None;
            last.rec = None;
        }
    }
    // Social workers: a change every 9 months or so; a new worker's allocation starts the day
    // the previous one's ends.
    let mut workers = Vec::new();
    let mut s = start;
    loop {
        *worker_n += 1;
        let sw = format!("SW{:05}", g.range(1, (*worker_n).min(400)));
        let e = s + Duration::days(g.exp_days(270.0, 21));
        if e >= last_day {
            workers.push((sw, s, end, "OTHERS"));
            break;
        }
        workers.push((
            sw,
            s,
            Some(e),
            *g.pick(&["LEFTROLE", "MANAGE", "ORGRESTRUC", "OTHERS"]),
        ));
        s = e;
    }
    Some(CareChild {
        id,
        dob,
        sex: if g.p(0.55) { 1 } else { 2 },
        start,
        end,
        episodes,
        workers,
    })
}

fn write_903(w: &mut Writer, care: &[CareChild]) -> anyhow::Result<()> {
    let header = care
        .iter()
        .map(|c| {
            vec![
                c.id.clone(),
                c.sex.to_string(),
                dmy(c.dob),
                "WBRI".into(),
                String::new(),
            ]
        })
        .collect();
    w.csv(
        "ssda903/header.csv",
        "903 children",
        &["CHILD", "SEX", "DOB", "ETHNIC", "UPN"],
        header,
    )?;
    let mut eps = Vec::new();
    for c in care {
        for e in &c.episodes {
            eps.push(vec![
                c.id.clone(),
                dmy(e.decom),
                e.rne.into(),
                e.ls.into(),
                e.cin.into(),
                e.place.clone(),
                e.provider.into(),
                e.dec.map(dmy).unwrap_or_default(),
                e.rec.unwrap_or_default().into(),
                e.reason.unwrap_or_default().into(),
                String::new(),
                String::new(),
                String::new(),
            ]);
        }
    }
    w.csv(
        "ssda903/episodes.csv",
        "903 episodes",
        &[
            "CHILD",
            "DECOM",
            "RNE",
            "LS",
            "CIN",
            "PLACE",
            "PLACE_PROVIDER",
            "DEC",
            "REC",
            "REASON_PLACE_CHANGE",
            "HOME_POST",
            "PL_POST",
            "URN",
        ],
        eps,
    )?;
    let mut sw = Vec::new();
    for c in care {
        for (id, s, e, reason) in &c.workers {
            sw.push(vec![
                c.id.clone(),
                dmy(c.dob),
                id.clone(),
                dmy(*s),
                e.map(dmy).unwrap_or_default(),
                if e.is_some() {
                    reason.to_string()
                } else {
                    String::new()
                },
            ]);
        }
    }
    w.csv(
        "ssda903/sw_episodes.csv",
        "903 social worker episodes",
        &["CHILD", "DOB", "SW_ID", "SW_DECOM", "SW_DEC", "SW_REASON"],
        sw,
    )
}

/// One commitment per costed placement overlapping the files' years, with an uplift each April.
fn write_costs(
    w: &mut Writer,
    g: &mut Draw,
    care: &[CareChild],
    start: NaiveDate,
    until: NaiveDate,
) -> anyhow::Result<()> {
    let mut rows = Vec::new();
    for c in care {
        // Placements: runs of episodes from an episode whose RNE starts one.
        let mut i = 0;
        while i < c.episodes.len() {
            let first = &c.episodes[i];
            let mut j = i + 1;
            while j < c.episodes.len() && c.episodes[j].rne == "L" {
                j += 1;
            }
            let last = &c.episodes[j - 1];
            let p_start = first.decom;
            let p_end = last.dec;
            i = j;
            if p_end.is_some_and(|e| e < start) {
                continue;
            }
            let Some((mean, sd)) = weekly_cost(&first.place, first.provider) else {
                continue;
            };
            let mut pence = (g.normal(mean, sd).max(mean * 0.3) * 100.0).round() as i64;
            let mut s = p_start;
            loop {
                // The next 1 April after s, if the placement is still going then.
                let april = NaiveDate::from_ymd_opt(
                    if s.month() >= 4 {
                        s.year() + 1
                    } else {
                        s.year()
                    },
                    4,
                    1,
                )
                .expect("valid");
                let continues = april <= until && p_end.is_none_or(|e| e > april);
                let end = if continues { Some(april) } else { p_end };
                if end.is_none_or(|e| e >= start) {
                    rows.push(vec![
                        c.id.clone(),
                        p_start.to_string(),
                        s.to_string(),
                        opt(end),
                        pence.to_string(),
                        String::new(),
                        first.place.clone(),
                        first.provider.into(),
                    ]);
                }
                if !continues {
                    break;
                }
                s = april;
                pence = pence * 103 / 100;
            }
        }
    }
    w.csv(
        "costs.csv",
        "placement cost commitments",
        &[
            "child_id",
            "placement_start",
            "start_date",
            "end_date",
            "weekly_cost_pence",
            "category_key",
            "place",
            "place_provider",
        ],
        rows,
    )
}

/// Gives each contact the id an Annex A import gives it (`import::annex_a::ContactIds`, in file
/// order) and says it became a referral by the rule that import applies
/// (`import::annex_a::became_referral`), so that the contacts file and the Annex A's List 1 are
/// the same records.
fn link_contacts(contacts: &mut [Vec<String>], children: &BTreeMap<String, CinChild>) {
    use crate::import::annex_a::{ContactIds, became_referral};
    let mut ids = ContactIds::default();
    for c in contacts.iter_mut() {
        let d: NaiveDate = c[2].parse().expect("written as a date");
        c[0] = ids.next(&c[1], d);
        let referred = children
            .get(&c[1])
            .is_some_and(|ch| became_referral(d, ch.episodes.iter().map(|e| e.referral)));
        c[4] = if referred { "Y" } else { "N" }.to_owned();
    }
}

fn write_cin(
    w: &mut Writer,
    cfg: &Config,
    children: &BTreeMap<String, CinChild>,
    start: NaiveDate,
    first_fy: i32,
) -> anyhow::Result<()> {
    let last_fy = Period::quarter_containing(cfg.until).financial_year();
    std::fs::create_dir_all(w.dir.join("cin"))?;
    for fy in first_fy..=last_fy {
        let year = Period::year(fy);
        let census_year = fy + 1;
        // Made after the year ends, as a census is; the year holding --until is an in-year
        // extract, made the day after it, so it says it holds nothing later (docs/coverage.md).
        let made = NaiveDate::from_ymd_opt(census_year, 5, 1)
            .expect("valid date")
            .min(cfg.until + chrono::Days::new(1));
        let mut xml = String::with_capacity(1 << 20);
        let _ = write!(
            xml,
            "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<Message>\n<Header>\n<CollectionDetails><Collection>CIN</Collection><Year>{census_year}</Year><ReferenceDate>{census_year}-03-31</ReferenceDate></CollectionDetails>\n<Source><SourceLevel>L</SourceLevel><LEA>{}</LEA><SoftwareCode>csc generate</SoftwareCode><Release>synthetic</Release><SerialNo>1</SerialNo><DateTime>{made}T09:00:00</DateTime></Source>\n</Header>\n<Children>\n",
            cfg.la
        );
        let mut n = 0usize;
        for (id, child) in children {
            // An episode goes in the census of its referral's year, or of the files' first year
            // when it was still open when the files begin.
            let eps: Vec<&CinEpisode> = child
                .episodes
                .iter()
                .filter(|e| {
                    year.contains(e.referral)
                        || (fy == first_fy
                            && e.referral < start
                            && e.open_until().is_none_or(|u| u >= start))
                })
                .collect();
            if eps.is_empty() {
                continue;
            }
            n += eps.len();
            let _ = writeln!(
                xml,
                "<Child><ChildIdentifiers><LAchildID>{id}</LAchildID><UPNunknown>UN1</UPNunknown><PersonBirthDate>{}</PersonBirthDate><Sex>{}</Sex></ChildIdentifiers><ChildCharacteristics><Ethnicity>WBRI</Ethnicity><Disabilities><Disability>NONE</Disability></Disabilities></ChildCharacteristics>",
                opt(child.dob),
                if child.sex == 1 { "M" } else { "F" }
            );
            for e in eps {
                let _ = write!(
                    xml,
                    "<CINdetails><CINreferralDate>{}</CINreferralDate><ReferralSource>{}</ReferralSource><PrimaryNeedCode>N1</PrimaryNeedCode>",
                    e.referral, e.source
                );
                if let Some((d, r)) = e.closure {
                    let _ = write!(
                        xml,
                        "<CINclosureDate>{d}</CINclosureDate><ReasonForClosure>{r}</ReasonForClosure>"
                    );
                }
                if let Some((_, Some(icpc))) = e.s47 {
                    let _ = write!(xml, "<DateOfInitialCPC>{icpc}</DateOfInitialCPC>");
                }
                if let Some((s, a, f)) = &e.assessment {
                    let _ = write!(
                        xml,
                        "<Assessments><AssessmentActualStartDate>{s}</AssessmentActualStartDate>"
                    );
                    if let Some(a) = a {
                        let _ = write!(
                            xml,
                            "<AssessmentAuthorisationDate>{a}</AssessmentAuthorisationDate>"
                        );
                    }
                    xml.push_str("<FactorsIdentifiedAtAssessment>");
                    for f in f {
                        let _ = write!(xml, "<AssessmentFactors>{f}</AssessmentFactors>");
                    }
                    xml.push_str("</FactorsIdentifiedAtAssessment></Assessments>");
                }
                if let Some((s, e)) = e.cin_plan {
                    let _ = write!(
                        xml,
                        "<CINPlanDates><CINPlanStartDate>{s}</CINPlanStartDate>"
                    );
                    if let Some(e) = e {
                        let _ = write!(xml, "<CINPlanEndDate>{e}</CINPlanEndDate>");
                    }
                    xml.push_str("</CINPlanDates>");
                }
                if let Some((s, icpc)) = e.s47 {
                    let target = add_working_days(s, 15);
                    let _ = write!(
                        xml,
                        "<Section47><S47ActualStartDate>{s}</S47ActualStartDate><InitialCPCtarget>{target}</InitialCPCtarget>"
                    );
                    match icpc {
                        Some(d) => {
                            let _ = write!(
                                xml,
                                "<DateOfInitialCPC>{d}</DateOfInitialCPC><ICPCnotRequired>0</ICPCnotRequired>"
                            );
                        }
                        None => xml.push_str("<ICPCnotRequired>1</ICPCnotRequired>"),
                    }
                    xml.push_str("</Section47>");
                }
                if let Some(cp) = &e.cp {
                    let _ = write!(
                        xml,
                        "<ChildProtectionPlans><CPPstartDate>{}</CPPstartDate>",
                        cp.start
                    );
                    if let Some(end) = cp.end {
                        let _ = write!(xml, "<CPPendDate>{end}</CPPendDate>");
                    }
                    let _ = write!(
                        xml,
                        "<InitialCategoryOfAbuse>{}</InitialCategoryOfAbuse><LatestCategoryOfAbuse>{}</LatestCategoryOfAbuse><NumberOfPreviousCPP>{}</NumberOfPreviousCPP><Reviews>",
                        cp.initial, cp.latest, cp.previous
                    );
                    for r in &cp.reviews {
                        let _ = write!(xml, "<CPPreviewDate>{r}</CPPreviewDate>");
                    }
                    xml.push_str("</Reviews></ChildProtectionPlans>");
                }
                let _ = writeln!(
                    xml,
                    "<ReferralNFA>{}</ReferralNFA></CINdetails>",
                    u8::from(e.nfa)
                );
            }
            xml.push_str("</Child>\n");
        }
        xml.push_str("</Children>\n</Message>\n");
        std::fs::write(w.dir.join(format!("cin/CIN_Census_{census_year}.xml")), xml)?;
        *w.counts.entry("CIN census episodes").or_default() += n;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(seed: u64) -> Config {
        Config {
            la: "885".into(),
            children: 12_000,
            years: 2,
            seed,
            until: NaiveDate::from_ymd_opt(2026, 9, 30).unwrap(),
        }
    }

    fn read_all(dir: &Path) -> Vec<(String, Vec<u8>)> {
        let mut out = Vec::new();
        let mut stack = vec![dir.to_owned()];
        while let Some(d) = stack.pop() {
            for e in std::fs::read_dir(&d).unwrap() {
                let p = e.unwrap().path();
                if p.is_dir() {
                    stack.push(p);
                } else {
                    out.push((
                        p.strip_prefix(dir).unwrap().display().to_string(),
                        std::fs::read(&p).unwrap(),
                    ));
                }
            }
        }
        out.sort();
        out
    }

    #[test]
    fn the_same_seed_writes_the_same_files_and_another_seed_does_not() {
        let (a, b, c) = (
            tempfile::tempdir().unwrap(),
            tempfile::tempdir().unwrap(),
            tempfile::tempdir().unwrap(),
        );
        generate(&cfg(7), a.path()).unwrap();
        generate(&cfg(7), b.path()).unwrap();
        generate(&cfg(8), c.path()).unwrap();
        assert_eq!(read_all(a.path()), read_all(b.path()));
        assert_ne!(read_all(a.path()), read_all(c.path()));
    }

    #[test]
    fn no_record_is_dated_after_until() {
        let dir = tempfile::tempdir().unwrap();
        let g = generate(&cfg(3), dir.path()).unwrap();
        let until = g.until.to_string();
        for f in [
            "contacts.csv",
            "missing.csv",
            "costs.csv",
            "feedback.csv",
            "strategy.csv",
        ] {
            let text = std::fs::read_to_string(dir.path().join(f)).unwrap();
            for line in text.lines().skip(1) {
                for field in line.split(',') {
                    if field.len() == 10 && field.as_bytes()[4] == b'-' {
                        assert!(field <= until.as_str(), "{f}: {line}");
                    }
                }
            }
        }
    }

    #[test]
    fn latest_complete_quarter_is_the_one_before_today() {
        let d = |y, m, day| NaiveDate::from_ymd_opt(y, m, day).unwrap();
        assert_eq!(latest_complete_quarter(d(2026, 11, 26)).id(), "2026-27-Q2");
        assert_eq!(latest_complete_quarter(d(2026, 4, 1)).id(), "2025-26-Q4");
        assert_eq!(parse_scale("county").unwrap(), Scale::Children(120_000));
        assert_eq!(parse_scale("50000").unwrap(), Scale::Children(50_000));
        assert!(parse_scale("tiny").is_err());
        let region = las_at(Scale::Region, &[]).unwrap();
        assert_eq!(region.len(), 14, "the West Midlands' LAs");
        assert!(region.contains(&("885".into(), 120_119)));
        let england = las_at(Scale::England, &[]).unwrap();
        assert!(england.len() >= 150, "{} LAs", england.len());
        let children: u64 = england.iter().map(|(_, n)| n).sum();
        assert!(
            (11_000_000..13_000_000).contains(&children),
            "{children} children"
        );
    }
}
