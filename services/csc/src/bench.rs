//! `csc bench`: ingest of synthetic records through gRPC into SQLite or PostgreSQL (referrals,
//! CP plans and missing episodes, or cost commitments), then the time `ComputeMeasures` takes for
//! one quarter over them. Figures go in docs/performance.md; no
//! test depends on them.

use std::time::Instant;

use csc_proto::{finance as fpb, frontdoor as pb, placements as lpb, protection as ppb};
use csc_runtime::{Shutdown, config::ServerArgs};
use tokio::net::TcpListener;

use crate::import::Upload;
use crate::serve::Service;

#[derive(clap::Args)]
pub struct BenchArgs {
    /// The service to measure: frontdoor (referrals), protection (CP plans and missing episodes,
    /// half each), placements (903 episodes, with a header per three episodes) or finance (cost
    /// commitments).
    #[arg(long, value_enum, default_value = "frontdoor")]
    pub service: Service,
    /// Records to ingest (for `--service intake`: children in the daily payload, 5,000 unless
    /// given).
    #[arg(long, alias = "referrals", default_value_t = 1_000_000)]
    pub records: usize,
    /// Records per batch call (at most 5,000).
    #[arg(long, default_value_t = 5_000)]
    pub batch: usize,
    /// Batches in flight at once.
    #[arg(long, default_value_t = 2)]
    pub concurrency: usize,
    /// Database URL (default: a fresh SQLite file in a temporary directory).
    #[arg(long, env = "CSC_BENCH_DATABASE_URL")]
    pub database_url: Option<String>,
    /// Order the records are sent in: `child` (each child's records together, as the importers
    /// send a census or an export) or `random` (keys in no order: the worst case for the B-trees).
    #[arg(long, value_enum, default_value = "child")]
    pub order: Order,
    /// Serve without authentication and audit, to measure what they cost (the default serves
    /// as production does: every batch's token verified, LAs checked, children audited).
    #[arg(long)]
    pub insecure_no_auth: bool,
    /// Quarter to compute measures for.
    #[arg(long, default_value = "2018-19-Q1")]
    pub period: String,
    /// The aggregator's benchmark: the LA's size, as `csc generate --scale`.
    #[arg(long, default_value = "county")]
    pub scale: String,
    /// The aggregator's benchmark: years of records, as `csc generate --years`.
    #[arg(long, default_value_t = 4)]
    pub years: u32,
    /// The front door under mixed load: the records split between `--writers` writers, each
    /// sending its batches one after another, while `--readers` readers ask for the quarter's
    /// measures again and again; prints the ingest rate and the reads' latency percentiles.
    #[arg(long)]
    pub mixed: bool,
    /// Writers of `--mixed`.
    #[arg(long, default_value_t = 16, requires = "mixed")]
    pub writers: usize,
    /// Readers of `--mixed`.
    #[arg(long, default_value_t = 7, requires = "mixed")]
    pub readers: usize,
    /// Readers of `--mixed` asking for LA 885's report (JSON) of the quarter again and again,
    /// beside the measures' readers. The other domain services and the aggregator are served
    /// too (empty, each on a SQLite file of its own); a report with a section unavailable counts
    /// as a failed read.
    #[arg(long, default_value_t = 0, requires = "mixed")]
    pub report_readers: usize,
    /// The front door: after the ingest through gRPC, load the same referrals into an empty
    /// database of the same schema on the same backend by its own fastest path (SQLite: one
    /// prepared 100-row INSERT in one transaction; PostgreSQL: COPY), and print the ratio.
    #[arg(long)]
    pub baseline: bool,
}

const LA: &str = "885";

#[derive(Clone, Copy, Debug, clap::ValueEnum)]
pub enum Order {
    Child,
    Random,
}

/// Puts records in `order`: by child then date, or in a fixed pseudo-random order.
fn arrange<P>(records: &mut [P], order: Order, key: impl Fn(&P) -> (&str, &str)) {
    match order {
        Order::Child => records.sort_by(|a, b| key(a).cmp(&key(b))),
        Order::Random => {
            let hash = |p: &P| {
                use std::hash::{BuildHasher, BuildHasherDefault, DefaultHasher};
                BuildHasherDefault::<DefaultHasher>::default().hash_one(key(p))
            };
            records.sort_by_cached_key(hash);
        }
    }
}

/// A small deterministic generator (SplitMix64): the same data on every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// Referrals spread over ten financial years (2010-11 to 2019-20), about three per child.
fn referrals(n: usize) -> Vec<pb::Referral> {
    let sources = [
        "1A", "1B", "2A", "2B", "3A", "3E", "4", "5A", "5D", "6", "6", "6", "7", "8", "9", "10",
    ];
    let start = chrono::NaiveDate::from_ymd_opt(2010, 4, 1).expect("valid");
    let days = 3652;
    let children = (n / 3).max(1) as u64;
    let mut rng = Rng(42);
    let mut seen = std::collections::HashSet::with_capacity(n);
    let mut out = Vec::with_capacity(n);
    while out.len() < n {
        let child = rng.below(children);
        let day = rng.below(days);
        if !seen.insert((child, day)) {
            continue; // one referral per child and day: the natural key
        }
        out.push(pb::Referral {
            la_code: LA.into(),
            child_id: format!("B{child:07}"),
            referral_date: (start + chrono::Days::new(day)).to_string(),
            source: sources[rng.below(sources.len() as u64) as usize].into(),
            nfa: rng.below(10) == 0,
        });
    }
    out
}

/// Placements spread over ten financial years, each costed by one to three consecutive
/// commitments (a cost change starts the next) of a week to ten months; only placements still
/// running at the data's end stay open. Children in no useful order. About 2% of the commitments
/// are active at the end of any quarter (a region's children in care, for a million
/// commitments).
fn commitments(n: usize) -> Vec<fpb::Commitment> {
    let categories = [
        "agency_residential",
        "ifa",
        "ifa",
        "in_house_fostering",
        "kinship_fostering",
        "external_supported_living",
    ];
    let base = chrono::NaiveDate::from_ymd_opt(2010, 4, 1).expect("valid");
    let recent = chrono::NaiveDate::from_ymd_opt(2019, 1, 1).expect("valid");
    let mut rng = Rng(7);
    let mut out = Vec::with_capacity(n);
    let mut child = 0u64;
    while out.len() < n {
        child += 1;
        // A scrambled id, so children arrive in no useful order.
        let id = format!("F{:010}", child.wrapping_mul(0x9E37_79B9) % 10_000_000_000);
        let placement_start = base + chrono::Days::new(rng.below(3652));
        let mut start = placement_start;
        let category = categories[rng.below(categories.len() as u64) as usize];
        for k in 0..(1 + rng.below(3)) {
            if out.len() == n {
                break;
            }
            // Placements end; only those still running at the data's end (2019 onwards) stay open.
            let open = start >= recent && (k == 2 || rng.below(2) == 0);
            let end = (!open).then(|| start + chrono::Days::new(7 + rng.below(300)));
            out.push(fpb::Commitment {
                la_code: LA.into(),
                child_id: id.clone(),
                placement_start: placement_start.to_string(),
                start_date: start.to_string(),
                end_date: end.map(|d| d.to_string()).unwrap_or_default(),
                weekly_cost_pence: 20_000 + rng.below(400_000) as i64,
                category_key: category.into(),
                ..Default::default()
            });
            match end {
                Some(e) => start = e,
                None => break,
            }
        }
    }
    out
}

/// Days a CP plan lasts, drawn like the DfE's figures for plans ending in a year (characteristics
/// of children in need): about a fifth under 3 months, a quarter 3–6 months, a quarter 6–12
/// months, a fifth 1–2 years, a few 2 years or more.
fn plan_days(rng: &mut Rng) -> u64 {
    let (lo, hi) = match rng.below(100) {
        0..22 => (14, 90),
        22..49 => (90, 182),
        49..77 => (182, 365),
        77..97 => (365, 730),
        _ => (730, 1500),
    };
    lo + rng.below(hi - lo)
}

/// CP plans over ten financial years, about England's starts in a year each year: children with
/// one to three plans in sequence, durations as [`plan_days`], a review three months after the
/// start and every six months after, gaps of up to four years between plans; only plans started
/// in the data's last year may still be open.
fn cp_plans(n: usize) -> Vec<ppb::CpPlan> {
    let categories = ["NEG", "NEG", "EMO", "EMO", "PHY", "SAB", "MUL"];
    let base = chrono::NaiveDate::from_ymd_opt(2010, 4, 1).expect("valid");
    let recent = chrono::NaiveDate::from_ymd_opt(2019, 4, 1).expect("valid");
    let mut rng = Rng(11);
    let mut out = Vec::with_capacity(n);
    let mut child = 0u64;
    while out.len() < n {
        child += 1;
        let id = format!("P{:010}", child.wrapping_mul(0x9E37_79B9) % 10_000_000_000);
        let mut start = base + chrono::Days::new(rng.below(3000));
        for k in 0..(1 + rng.below(3)) {
            if out.len() == n {
                break;
            }
            let days = plan_days(&mut rng);
            let open = start >= recent && rng.below(2) == 0;
            let end = start + chrono::Days::new(days);
            let reviews = (0..)
                .map(|r| 91 + r * 182)
                .take_while(|d| *d <= days)
                .map(|d| (start + chrono::Days::new(d)).to_string())
                .collect();
            let category = categories[rng.below(categories.len() as u64) as usize];
            out.push(ppb::CpPlan {
                la_code: LA.into(),
                child_id: id.clone(),
                start_date: start.to_string(),
                end_date: if open { String::new() } else { end.to_string() },
                initial_category: category.into(),
                latest_category: category.into(),
                previous_plans: Some(k as i32),
                review_dates: reviews,
            });
            if open {
                break;
            }
            start = end + chrono::Days::new(1 + rng.below(1460));
        }
    }
    out
}

/// Missing and away episodes over ten financial years: a day to three weeks each, two in three
/// from care, with return interviews offered after most and held after many.
fn missing_episodes(n: usize) -> Vec<ppb::MissingEpisode> {
    let base = chrono::NaiveDate::from_ymd_opt(2010, 4, 1).expect("valid");
    let mut rng = Rng(13);
    let mut seen = std::collections::HashSet::with_capacity(n);
    let children = (n / 4).max(1) as u64;
    let mut out = Vec::with_capacity(n);
    while out.len() < n {
        let child = rng.below(children);
        let day = rng.below(3652);
        if !seen.insert((child, day)) {
            continue;
        }
        let start = base + chrono::Days::new(day);
        let end = start + chrono::Days::new(rng.below(21));
        let offered = rng.below(10) < 8;
        let accepted = offered && rng.below(3) > 0;
        let completed = accepted.then(|| end + chrono::Days::new(rng.below(6)));
        out.push(ppb::MissingEpisode {
            la_code: LA.into(),
            child_id: format!("M{child:07}"),
            start_date: start.to_string(),
            kind: if rng.below(3) == 0 {
                ppb::AbsenceKind::Away
            } else {
                ppb::AbsenceKind::Missing
            } as i32,
            absent_from: if rng.below(3) == 0 {
                ppb::AbsentFrom::Home
            } else {
                ppb::AbsentFrom::Care
            } as i32,
            start_time: format!("{:02}:{:02}", rng.below(24), rng.below(60)),
            end_date: end.to_string(),
            end_time: String::new(),
            interview_offered_date: if offered {
                end.to_string()
            } else {
                String::new()
            },
            interview_outcome: match (offered, accepted) {
                (false, _) => 0,
                (true, true) => ppb::InterviewOutcome::Accepted as i32,
                (true, false) => ppb::InterviewOutcome::Declined as i32,
            },
            interview_completed_date: completed.map(|d| d.to_string()).unwrap_or_default(),
            interview_completed_time: String::new(),
        });
    }
    out
}

/// A 903 at scale: children with one period of care (one in ten has two), each a chain of one to
/// five episodes linked by X1 lasting a month to 14 months, placement types in roughly England's
/// mix, starting over ten financial years; a period started in the data's last year may still
/// be open. About three episodes per child.
fn episodes_903(n: usize) -> (Vec<lpb::Child>, Vec<lpb::Episode>) {
    let places = [
        "U1", "U3", "U4", "U4", "U5", "U6", "U6", "U6", "U6", "K2", "R1", "P1", "H5", "A5", "T2",
        "S1", "Z1",
    ];
    let rnes = ["P", "P", "P", "P", "L", "T", "B", "U"];
    let reasons = [
        "CARPL", "CREQB", "CREQO", "CHILD", "LAREQ", "STAND", "ALLEG", "CLOSE", "",
    ];
    let ends = ["E11", "E12", "E13", "E41", "E45", "E46", "E8", "E7", "E4A"];
    let base = chrono::NaiveDate::from_ymd_opt(2010, 4, 1).expect("valid");
    let recent = chrono::NaiveDate::from_ymd_opt(2019, 4, 1).expect("valid");
    let mut rng = Rng(17);
    let (mut children, mut out) = (Vec::new(), Vec::with_capacity(n));
    let mut child = 0u64;
    while out.len() < n {
        child += 1;
        let id = format!("L{:09}", child.wrapping_mul(0x9E37_79B9) % 1_000_000_000);
        let born = base - chrono::Days::new(rng.below(18 * 365));
        children.push(lpb::Child {
            la_code: LA.into(),
            child_id: id.clone(),
            sex: 1 + rng.below(2) as i32,
            date_of_birth: born.to_string(),
            ethnicity: "WBRI".into(),
            upn: String::new(),
        });
        let mut start = base + chrono::Days::new(rng.below(3652));
        for _ in 0..(1 + u64::from(rng.below(10) == 0)) {
            let k = 1 + rng.below(5);
            for j in 0..k {
                if out.len() == n {
                    break;
                }
                let days = 30 + rng.below(400);
                let last = j + 1 == k;
                let dec = start + chrono::Days::new(days);
                let open = last && start >= recent && rng.below(2) == 0;
                out.push(lpb::Episode {
                    la_code: LA.into(),
                    child_id: id.clone(),
                    decom: start.to_string(),
                    rne: if j == 0 {
                        "S"
                    } else {
                        rnes[rng.below(8) as usize]
                    }
                    .into(),
                    legal_status: ["C2", "C2", "C1", "V2", "E1"][rng.below(5) as usize].into(),
                    cin: "N1".into(),
                    place: places[rng.below(places.len() as u64) as usize].into(),
                    place_provider: "PR1".into(),
                    dec: if open { String::new() } else { dec.to_string() },
                    rec: match (open, last) {
                        (true, _) => String::new(),
                        (false, false) => "X1".into(),
                        (false, true) => ends[rng.below(ends.len() as u64) as usize].into(),
                    },
                    reason_place_change: if last {
                        String::new()
                    } else {
                        reasons[rng.below(reasons.len() as u64) as usize].into()
                    },
                    ..Default::default()
                });
                start = dec;
            }
            start = start + chrono::Days::new(30 + rng.below(700));
        }
    }
    (children, out)
}

fn in_batches<P: Clone>(records: &[P], batch: usize) -> Vec<Vec<P>> {
    records.chunks(batch).map(<[_]>::to_vec).collect()
}

/// Sends `batches` with `concurrency` calls in flight; returns the rows written.
async fn ingest<P>(
    client: P::Client,
    batches: Vec<Vec<P>>,
    concurrency: usize,
) -> anyhow::Result<i64>
where
    P: Upload,
    P::Client: Clone + 'static,
{
    let queue = std::sync::Arc::new(tokio::sync::Mutex::new(batches.into_iter()));
    let mut workers = Vec::new();
    for _ in 0..concurrency.max(1) {
        let (queue, mut client) = (queue.clone(), client.clone());
        workers.push(tokio::spawn(async move {
            let mut written = 0i64;
            loop {
                let Some(batch) = queue.lock().await.next() else {
                    break;
                };
                written += P::send(&mut client, uuid::Uuid::new_v4().to_string(), batch, false)
                    .await?
                    .into_inner()
                    .written;
            }
            anyhow::Ok(written)
        }));
    }
    let mut written = 0;
    for w in workers {
        written += w.await??;
    }
    Ok(written)
}

pub async fn run(args: BenchArgs) -> anyhow::Result<()> {
    let _telemetry = csc_runtime::telemetry::init("csc-bench");
    anyhow::ensure!(
        (1..=csc_runtime::MAX_BATCH).contains(&args.batch),
        "--batch must be 1..=5000"
    );
    if args.service == Service::Aggregator {
        return crate::report_bench::run(&args.scale, args.years).await;
    }
    if args.service == Service::Intake {
        // The default is the referral benchmark's million; a county's daily payload is ~5,000.
        let children = if args.records == 1_000_000 {
            5_000
        } else {
            args.records
        };
        return crate::dfe_api::bench(children).await;
    }
    anyhow::ensure!(
        args.service == Service::Frontdoor || !(args.mixed || args.baseline),
        "--mixed and --baseline measure the front door (referrals): give --service frontdoor"
    );
    anyhow::ensure!(
        !args.mixed || (args.writers >= 1 && args.readers >= 1),
        "--mixed needs at least one writer and one reader"
    );
    let tmp = tempfile::tempdir()?;
    let url = args
        .database_url
        .clone()
        .unwrap_or_else(|| csc_runtime::db::sqlite_url_in(tmp.path(), args.service.name()));
    let backend = if url.starts_with("sqlite") {
        "SQLite"
    } else {
        "PostgreSQL"
    };

    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let shutdown = Shutdown::new();
    // As in production: every batch authenticated, checked and audited (a development key).
    let mut server_args = ServerArgs::default();
    server_args.auth.dev_key_dir = Some(tmp.path().to_owned());
    server_args.auth.insecure_no_auth = args.insecure_no_auth;
    csc_runtime::auth::token::DevKey::in_dir(tmp.path()).ensure()?;
    csc_runtime::client::use_dev_key(tmp.path());
    let server = tokio::spawn({
        let (url, shutdown, service) = (url.clone(), shutdown.clone(), args.service);
        let server_args = server_args.clone();
        async move {
            crate::serve::run(
                service,
                listener,
                &url,
                &server_args,
                &crate::ClientAddrs::default(),
                shutdown,
            )
            .await
        }
    });

    // Calls before the migrations are applied are answered UNAVAILABLE: wait for readiness.
    let started = Instant::now();
    while !crate::serve::serving(&addr.to_string(), args.service.grpc_name())
        .await
        .unwrap_or(false)
    {
        anyhow::ensure!(
            started.elapsed() < std::time::Duration::from_secs(60),
            "the {} service did not become ready within 60 s",
            args.service.name()
        );
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }

    let gen_start = Instant::now();
    let (mut mixed_report, mut baseline_report) = (None, None);
    let (started, written, n_batches) = match args.service {
        Service::Frontdoor => {
            let records = referrals(args.records);
            eprintln!(
                "generated {} referrals in {:.1?}",
                records.len(),
                gen_start.elapsed()
            );
            let batches: Vec<Vec<pb::Referral>> =
                records.chunks(args.batch).map(<[_]>::to_vec).collect();
            let n = batches.len();
            let client = crate::client::connect_frontdoor(&addr.to_string()).await?;
            let t = Instant::now();
            let written = if args.mixed {
                let reporting = if args.report_readers > 0 {
                    Some(
                        serve_for_reports(&addr.to_string(), tmp.path(), &server_args, &shutdown)
                            .await?,
                    )
                } else {
                    None
                };
                let m = mixed(client, batches, &args, &addr.to_string(), reporting).await?;
                mixed_report = Some((m.render(t.elapsed()), m.failed.len()));
                m.written
            } else {
                ingest(client, batches, args.concurrency).await?
            };
            let elapsed = t.elapsed();
            if args.baseline {
                let b = baseline(&url, tmp.path(), &records).await?;
                baseline_report = Some((b, elapsed));
            }
            (t, written, n)
        }
        Service::Protection => {
            let mut plans = cp_plans(args.records / 2);
            let mut episodes = missing_episodes(args.records - args.records / 2);
            arrange(&mut plans, args.order, |p| (&p.child_id, &p.start_date));
            arrange(&mut episodes, args.order, |e| (&e.child_id, &e.start_date));
            eprintln!(
                "generated {} CP plans and {} missing episodes in {:.1?}",
                plans.len(),
                episodes.len(),
                gen_start.elapsed()
            );
            let (plans, episodes) = (
                in_batches(&plans, args.batch),
                in_batches(&episodes, args.batch),
            );
            let n = plans.len() + episodes.len();
            let client = crate::client::connect_protection(&addr.to_string()).await?;
            let t = Instant::now();
            let written_plans = ingest(client.clone(), plans, args.concurrency).await?;
            let plans_time = t.elapsed();
            let written = written_plans + ingest(client, episodes, args.concurrency).await?;
            eprintln!(
                "CP plans: {written_plans} in {:.2} s ({:.0}/s); missing episodes: {} in {:.2} s ({:.0}/s)",
                plans_time.as_secs_f64(),
                written_plans as f64 / plans_time.as_secs_f64(),
                written - written_plans,
                (t.elapsed() - plans_time).as_secs_f64(),
                (written - written_plans) as f64 / (t.elapsed() - plans_time).as_secs_f64(),
            );
            (t, written, n)
        }
        Service::Placements => {
            let (mut children, mut episodes) = episodes_903(args.records);
            arrange(&mut children, args.order, |c| (&c.child_id, ""));
            arrange(&mut episodes, args.order, |e| (&e.child_id, &e.decom));
            eprintln!(
                "generated {} children and {} episodes in {:.1?}",
                children.len(),
                episodes.len(),
                gen_start.elapsed()
            );
            let (children, episodes) = (
                in_batches(&children, args.batch),
                in_batches(&episodes, args.batch),
            );
            let n = episodes.len();
            let client = crate::client::connect_placements(&addr.to_string()).await?;
            let t = Instant::now();
            let headers = ingest(client.clone(), children, args.concurrency).await?;
            let headers_time = t.elapsed();
            let t = Instant::now();
            let written = ingest(client, episodes, args.concurrency).await?;
            eprintln!(
                "children: {headers} in {:.2} s ({:.0}/s), then episodes",
                headers_time.as_secs_f64(),
                headers as f64 / headers_time.as_secs_f64()
            );
            (t, written, n)
        }
        Service::Finance => {
            let records = commitments(args.records);
            eprintln!(
                "generated {} commitments in {:.1?}",
                records.len(),
                gen_start.elapsed()
            );
            let batches: Vec<Vec<fpb::Commitment>> =
                records.chunks(args.batch).map(<[_]>::to_vec).collect();
            let n = batches.len();
            let client = crate::client::connect_finance(&addr.to_string()).await?;
            let t = Instant::now();
            (t, ingest(client, batches, args.concurrency).await?, n)
        }
        Service::Aggregator | Service::Intake => unreachable!("benchmarked above"),
    };
    let ingest_time = match &baseline_report {
        // The gRPC ingest alone, not the baseline's load after it.
        Some((_, grpc)) => *grpc,
        None => started.elapsed(),
    };
    let rate = written as f64 / ingest_time.as_secs_f64();

    // Measures: the first call warms the database's page cache; report the median of five after.
    let mut timings = Vec::new();
    for _ in 0..6 {
        let t = Instant::now();
        let doc = crate::measures::fetch(args.service, &addr.to_string(), LA, &args.period).await?;
        timings.push(t.elapsed());
        anyhow::ensure!(!doc.measures.is_empty(), "no measures returned");
    }
    let cold = timings.remove(0);
    timings.sort();
    let median = timings[timings.len() / 2];

    let what = match args.service {
        Service::Frontdoor => "referrals",
        Service::Protection => "records",
        Service::Placements => "episodes",
        Service::Finance => "commitments",
        Service::Aggregator => "reports",
        Service::Intake => "children",
    };
    println!("backend            {backend}");
    println!(
        "{what:<18} {written} written in {n_batches} batches of {} ({} in flight)",
        args.batch, args.concurrency
    );
    println!(
        "ingest             {:.2} s  = {rate:.0} {what}/s",
        ingest_time.as_secs_f64()
    );
    if let Some((m, _)) = &mixed_report {
        println!("{m}");
    }
    if let Some((b, _)) = baseline_report {
        let base_rate = b.rows as f64 / b.time.as_secs_f64();
        println!(
            "baseline           {} rows by {} in {:.2} s = {base_rate:.0}/s; gRPC ingest is {:.0}% of it",
            b.rows,
            b.how,
            b.time.as_secs_f64(),
            100.0 * rate / base_rate
        );
    }
    println!(
        "measures {}  first {} ms, median of 5 after {} ms",
        args.period,
        cold.as_millis(),
        median.as_millis()
    );
    shutdown.cancel();
    server.await??;
    if let Some((_, failed)) = mixed_report {
        anyhow::ensure!(failed == 0, "{failed} reads failed under the mixed load");
    }
    Ok(())
}

/// What `--mixed` measured: the writers' rows and the readers' latencies.
struct Mixed {
    written: i64,
    writers: usize,
    readers: usize,
    latencies: Vec<std::time::Duration>,
    report_readers: usize,
    report_latencies: Vec<std::time::Duration>,
    failed: Vec<String>,
}

/// `p50 …, p90 …, p99 …, max …` of some latencies.
fn percentiles(latencies: &[std::time::Duration]) -> String {
    let mut l = latencies.to_vec();
    l.sort();
    let q = |p: f64| {
        l.get(((l.len() as f64 * p).ceil() as usize).saturating_sub(1))
            .map_or("-".to_owned(), |d| format!("{} ms", d.as_millis()))
    };
    format!(
        "p50 {}, p90 {}, p99 {}, max {}",
        q(0.5),
        q(0.9),
        q(0.99),
        q(1.0)
    )
}

impl Mixed {
    fn render(&self, elapsed: std::time::Duration) -> String {
        let mut out = format!(
            "mixed              {} writers: {} rows in {:.2} s = {:.0}/s; {} readers: {} ComputeMeasures, {}",
            self.writers,
            self.written,
            elapsed.as_secs_f64(),
            self.written as f64 / elapsed.as_secs_f64(),
            self.readers,
            self.latencies.len(),
            percentiles(&self.latencies),
        );
        if self.report_readers > 0 {
            out.push_str(&format!(
                "\nmixed              {} report readers: {} reports, {}",
                self.report_readers,
                self.report_latencies.len(),
                percentiles(&self.report_latencies),
            ));
        }
        if !self.failed.is_empty() {
            out.push_str(&format!(
                "\nmixed              {} reads FAILED, the first: {}",
                self.failed.len(),
                self.failed[0]
            ));
        }
        out
    }
}

/// `--mixed`: `args.writers` writers share the batches out (each sends its own, one at a time)
/// while `args.readers` readers ask for the quarter's measures until the writers are done.
async fn mixed(
    client: crate::client::FrontDoorClient,
    batches: Vec<Vec<pb::Referral>>,
    args: &BenchArgs,
    addr: &str,
    reporting: Option<String>,
) -> anyhow::Result<Mixed> {
    let mut shares: Vec<Vec<Vec<pb::Referral>>> = (0..args.writers).map(|_| Vec::new()).collect();
    for (i, b) in batches.into_iter().enumerate() {
        shares[i % args.writers].push(b);
    }
    let writing = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(args.writers));
    let writers: Vec<_> = shares
        .into_iter()
        .map(|share| {
            let (client, writing) = (client.clone(), writing.clone());
            tokio::spawn(async move {
                let r = ingest(client, share, 1).await;
                writing.fetch_sub(1, std::sync::atomic::Ordering::SeqCst);
                r
            })
        })
        .collect();
    let readers: Vec<_> = (0..args.readers)
        .map(|_| {
            let (writing, addr, period) = (writing.clone(), addr.to_owned(), args.period.clone());
            tokio::spawn(async move {
                let (mut latencies, mut failed) = (Vec::new(), Vec::new());
                // Each reader reads at least once, however short the load.
                loop {
                    let t = Instant::now();
                    match crate::measures::fetch(Service::Frontdoor, &addr, LA, &period).await {
                        Ok(_) => latencies.push(t.elapsed()),
                        Err(e) => failed.push(format!("{e:#}")),
                    }
                    if writing.load(std::sync::atomic::Ordering::SeqCst) == 0 {
                        break;
                    }
                }
                (latencies, failed)
            })
        })
        .collect();
    let report_readers: Vec<_> = reporting
        .iter()
        .flat_map(|aggregator| std::iter::repeat_n(aggregator, args.report_readers))
        .map(|aggregator| {
            let (writing, aggregator, period) =
                (writing.clone(), aggregator.clone(), args.period.clone());
            tokio::spawn(async move {
                let (mut latencies, mut failed) = (Vec::new(), Vec::new());
                let mut client = match crate::client::connect_reporting(&aggregator).await {
                    Ok(c) => c,
                    Err(e) => return (latencies, vec![format!("{e:#}")]),
                };
                loop {
                    let t = Instant::now();
                    match report(&mut client, &period).await {
                        Ok(()) => latencies.push(t.elapsed()),
                        Err(e) => failed.push(format!("report: {e:#}")),
                    }
                    if writing.load(std::sync::atomic::Ordering::SeqCst) == 0 {
                        break;
                    }
                }
                (latencies, failed)
            })
        })
        .collect();
    let mut written = 0;
    for w in writers {
        written += w.await??;
    }
    let (mut latencies, mut failed) = (Vec::new(), Vec::new());
    for r in readers {
        let (l, f) = r.await?;
        latencies.extend(l);
        failed.extend(f);
    }
    let mut report_latencies = Vec::new();
    for r in report_readers {
        let (l, f) = r.await?;
        report_latencies.extend(l);
        failed.extend(f);
    }
    Ok(Mixed {
        written,
        writers: args.writers,
        readers: args.readers,
        latencies,
        report_readers: args.report_readers,
        report_latencies,
        failed,
    })
}

/// LA 885's report of `period` (JSON), as a reader of `--mixed` asks for it: an error if the
/// call fails or a section came back unavailable (a service out of time under the load).
async fn report(client: &mut crate::client::ReportingClient, period: &str) -> anyhow::Result<()> {
    let doc = client
        .generate_report(csc_proto::reporting::GenerateReportRequest {
            la_code: LA.into(),
            period: period.into(),
            publish: false,
            allow_partial: false,
            format: csc_proto::reporting::Format::Json as i32,
            requested_by: "bench".into(),
            benchmark_group: String::new(),
        })
        .await
        .map_err(crate::client::describe_status)?
        .into_inner();
    crate::report_bench::sections_short(&doc.sections).map(drop)
}

/// For `--report-readers`: the other domain services (empty, on SQLite files in `dir`) and the
/// aggregator, which reads the bench's front door at `frontdoor`. Returns the aggregator's
/// address once every one of them is serving; they stop with `shutdown`.
async fn serve_for_reports(
    frontdoor: &str,
    dir: &std::path::Path,
    server_args: &ServerArgs,
    shutdown: &Shutdown,
) -> anyhow::Result<String> {
    let others = [
        Service::Protection,
        Service::Placements,
        Service::Finance,
        Service::Aggregator,
    ];
    let mut addrs = crate::ClientAddrs::default();
    addrs.set(Service::Frontdoor, frontdoor.to_owned());
    let mut listeners = Vec::new();
    for service in others {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        addrs.set(service, listener.local_addr()?.to_string());
        listeners.push((service, listener));
    }
    for (service, listener) in listeners {
        let url = csc_runtime::db::sqlite_url_in(dir, service.name());
        let (server_args, addrs, shutdown) = (server_args.clone(), addrs.clone(), shutdown.clone());
        tokio::spawn(async move {
            if let Err(e) =
                crate::serve::run(service, listener, &url, &server_args, &addrs, shutdown).await
            {
                tracing::error!(service = service.name(), error = %e, "a report reader's service stopped");
            }
        });
    }
    let started = Instant::now();
    for service in others {
        while !crate::serve::serving(addrs.of(service), service.grpc_name())
            .await
            .unwrap_or(false)
        {
            anyhow::ensure!(
                started.elapsed() < std::time::Duration::from_secs(60),
                "the {} service did not become ready within 60 s",
                service.name()
            );
            tokio::time::sleep(std::time::Duration::from_millis(25)).await;
        }
    }
    Ok(addrs.aggregator.clone())
}

/// The backend's own fastest load of the same referrals, into an empty database of the same
/// schema (the front door's migrations), for `--baseline`.
struct Baseline {
    rows: u64,
    time: std::time::Duration,
    how: &'static str,
}

async fn baseline(
    url: &str,
    dir: &std::path::Path,
    records: &[pb::Referral],
) -> anyhow::Result<Baseline> {
    use sea_orm::ConnectionTrait;
    if url.starts_with("sqlite") {
        let db = csc_runtime::db::connect_and_migrate::<csc_frontdoor::Migrator>(
            &csc_runtime::db::sqlite_url_in(dir, "baseline"),
        )
        .await?;
        let pool = db.get_sqlite_connection_pool();
        let t = Instant::now();
        let mut tx = pool.begin().await?;
        // One prepared statement of ROWS rows, bound again and again (sqlx prepares it once on the
        // connection): a statement per row would measure sqlx's hop to its worker thread, not
        // SQLite.
        const ROWS: usize = 100;
        let statement = |n: usize| {
            let mut sql = String::from(
                "INSERT INTO referral (la_code, child_id, referral_date, source, nfa) VALUES ",
            );
            for i in 0..n {
                sql.push_str(if i == 0 {
                    "(?, ?, ?, ?, ?)"
                } else {
                    ", (?, ?, ?, ?, ?)"
                });
            }
            sql
        };
        let full = statement(ROWS);
        for chunk in records.chunks(ROWS) {
            let sql = if chunk.len() == ROWS {
                full.clone()
            } else {
                statement(chunk.len())
            };
            let mut q = sea_orm::sqlx::query(sea_orm::sqlx::AssertSqlSafe(sql));
            for r in chunk {
                q = q
                    .bind(&r.la_code)
                    .bind(&r.child_id)
                    .bind(&r.referral_date)
                    .bind(&r.source)
                    .bind(r.nfa);
            }
            q.execute(&mut *tx).await?;
        }
        tx.commit().await?;
        let time = t.elapsed();
        let rows = db
            .query_one_raw(sea_orm::Statement::from_string(
                db.get_database_backend(),
                "SELECT count(*) AS n FROM referral",
            ))
            .await?
            .map(|r| r.try_get::<i64>("", "n"))
            .transpose()?
            .unwrap_or(0);
        db.close().await?;
        Ok(Baseline {
            rows: rows as u64,
            time,
            how: "one prepared INSERT of 100 rows, in one transaction",
        })
    } else {
        use sea_orm::sqlx::postgres::PgPoolCopyExt;
        let admin = csc_runtime::db::connect(url).await?;
        let name = format!("csc_bench_baseline_{}", uuid::Uuid::new_v4().simple());
        admin
            .execute_unprepared(&format!("CREATE DATABASE {name}"))
            .await?;
        let (base, query) = url.split_once('?').unwrap_or((url, ""));
        let prefix = &base[..base.rfind('/').unwrap_or(base.len())];
        let sep = if query.is_empty() { "" } else { "?" };
        let db = csc_runtime::db::connect_and_migrate::<csc_frontdoor::Migrator>(&format!(
            "{prefix}/{name}{sep}{query}"
        ))
        .await?;
        let pool = db.get_postgres_connection_pool();
        let t = Instant::now();
        let mut copy = pool
            .copy_in_raw(
                "COPY referral (la_code, child_id, referral_date, source, nfa) FROM STDIN (FORMAT csv)",
            )
            .await?;
        let mut buf = Vec::with_capacity(1 << 20);
        for r in records {
            // The generated values hold no comma, quote or newline.
            buf.extend_from_slice(
                format!(
                    "{},{},{},{},{}\n",
                    r.la_code, r.child_id, r.referral_date, r.source, r.nfa
                )
                .as_bytes(),
            );
            if buf.len() >= 1 << 20 {
                copy.send(std::mem::take(&mut buf)).await?;
            }
        }
        if !buf.is_empty() {
            copy.send(buf).await?;
        }
        let rows = copy.finish().await?;
        let time = t.elapsed();
        db.close().await?;
        admin
            .execute_unprepared(&format!("DROP DATABASE {name}"))
            .await?;
        Ok(Baseline {
            rows,
            time,
            how: "COPY",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The baseline loads exactly the rows the bench generated, into the front door's schema.
    #[tokio::test]
    async fn the_sqlite_baseline_loads_the_same_rows() {
        let dir = tempfile::tempdir().unwrap();
        let records = referrals(1_234);
        let b = baseline("sqlite://x", dir.path(), &records).await.unwrap();
        assert_eq!(b.rows, 1_234);
        let db = csc_runtime::db::connect(&csc_runtime::db::sqlite_url_in(dir.path(), "baseline"))
            .await
            .unwrap();
        let mut held: Vec<(String, String, String, bool)> = sea_orm::sqlx::query_as(
            "SELECT child_id, referral_date, source, nfa FROM referral WHERE la_code = '885'",
        )
        .fetch_all(db.get_sqlite_connection_pool())
        .await
        .unwrap();
        let mut sent: Vec<_> = records
            .iter()
            .map(|r| {
                (
                    r.child_id.clone(),
                    r.referral_date.clone(),
                    r.source.clone(),
                    r.nfa,
                )
            })
            .collect();
        held.sort();
        sent.sort();
        assert_eq!(held, sent);
    }

    /// `--mixed --baseline` on a small load, with readers of measures and of reports, runs to its
    /// end: the command itself fails if a write is refused or any read failed.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_small_mixed_run_with_its_baseline_succeeds() {
        use clap::Parser;
        #[derive(clap::Parser)]
        struct Cli {
            #[command(flatten)]
            bench: BenchArgs,
        }
        let cli = Cli::parse_from([
            "bench",
            "--records",
            "6000",
            "--batch",
            "500",
            "--mixed",
            "--writers",
            "3",
            "--readers",
            "2",
            "--report-readers",
            "1",
            "--baseline",
            "--insecure-no-auth",
        ]);
        run(cli.bench).await.unwrap();
    }
}
