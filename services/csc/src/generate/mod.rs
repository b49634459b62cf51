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
    collections::BTreeMap,
    fmt::Write as _,
    path::{Path, PathBuf},
};

use chrono::NaiveDate;
use csc_core::Period;

mod annex_a;
mod calibration;
mod cin;
mod draws;
mod local;
mod ssda903;

use draws::Draw;

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
    // The draws are taken in this order, so that the same seed writes the same files.
    let mut g = Draw::for_la(cfg.seed, &cfg.la);
    let span = Span::of(cfg);
    let mut w = Writer {
        dir: dir.to_owned(),
        counts: BTreeMap::new(),
    };
    let mut ids = Ids {
        la: cfg.la.clone(),
        next: 0,
    };
    let (children, contacts) = cin::front_door(&mut g, &mut ids, &span, cfg, &mut w)?;
    let care = ssda903::looked_after(&mut g, &mut ids, &span);
    ssda903::write_903(&mut w, &care)?;
    annex_a::write(&mut w, cfg, &children, &care, &contacts)?;
    local::write_costs(&mut w, &mut g, &care, span.start, span.until)?;
    local::missing(&mut g, &mut w, &children, &care, &span)?;
    local::feedback(&mut g, &mut w, &span)?;
    let until = span.until;

    let mut readme = format!(
        "Synthetic data for LA {} written by `csc generate` (seed {}, {} children aged 0-17, records to {}).\n\
         No real person is in these files.\n\nImport them with `csc import generated FOLDER` (this folder), or one by one \
         (docs/formats.md):\n",
        cfg.la, cfg.seed, cfg.children, until,
    );
    for (k, v) in &w.counts {
        let _ = writeln!(readme, "  {v} {k}");
    }
    let current = Period::quarter_containing(until).financial_year();
    if until < Period::year(current).end() {
        let _ = writeln!(
            readme,
            "\nThe CIN census files are one per year that has ended; the year {} has not, so \
             its records to {until} are an in-year extract (cin/CIN_inyear_extract_*), not a \
             census.",
            Period::year(current).id(),
        );
    }
    std::fs::write(dir.join("README.txt"), readme)?;
    Ok(Generated {
        la: cfg.la.clone(),
        dir: dir.to_owned(),
        until,
        counts: w.counts,
    })
}

/// The children referred, by id.
type Children = BTreeMap<String, CinChild>;

/// The LA's size, and the dates its files span.
#[derive(Debug, Clone, Copy)]
struct Span {
    /// Children aged 0–17, as a multiple of the model report's county of 120,000.
    scale: f64,
    /// The last day of the records.
    until: NaiveDate,
    /// The first financial year of the files, and its first day.
    first_fy: i32,
    start: NaiveDate,
    /// Two years before the files begin, so that plans and re-referrals already in progress at
    /// the start are there, as in a real LA's first census.
    warm: NaiveDate,
}

impl Span {
    fn of(cfg: &Config) -> Self {
        let until = cfg.until;
        let first_fy = Period::quarter_containing(until).financial_year() - cfg.years as i32 + 1;
        Span {
            scale: cfg.children as f64 / 120_000.0,
            until,
            first_fy,
            start: Period::year(first_fy).start(),
            warm: Period::year(first_fy - 2).start(),
        }
    }
}

/// Record ids, numbered in the order they are drawn: the LA's code, a letter for the kind of
/// record and seven digits.
struct Ids {
    la: String,
    next: u64,
}

impl Ids {
    fn next(&mut self, prefix: char) -> String {
        self.next += 1;
        format!("{}{prefix}{:07}", self.la, self.next)
    }
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
    fn the_smallest_las_are_generated_too() {
        // The Isles of Scilly (420) have 319 children: `--scale england` panicked there,
        // picking a missing child in care from none.
        for (la, children) in [("420", 319), ("885", 1), ("885", 40)] {
            let dir = tempfile::tempdir().unwrap();
            let cfg = Config {
                la: la.into(),
                children,
                years: 3,
                ..cfg(1)
            };
            generate(&cfg, dir.path()).unwrap();
            assert!(dir.path().join("contacts.csv").exists(), "{la}");
        }
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
