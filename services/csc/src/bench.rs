//! `csc bench`: ingest of synthetic referrals through gRPC into SQLite or PostgreSQL, then the
//! time `ComputeMeasures` takes for one quarter over them. Figures go in docs/performance.md; no
//! test depends on them.

use std::time::{Duration, Instant};

use csc_proto::{
    common::ComputeMeasuresRequest,
    frontdoor::{self as pb, front_door_service_client::FrontDoorServiceClient},
};
use csc_runtime::{Shutdown, config::ServerArgs};
use tokio::net::TcpListener;

#[derive(clap::Args)]
pub struct BenchArgs {
    /// Referrals to ingest.
    #[arg(long, default_value_t = 1_000_000)]
    pub referrals: usize,
    /// Records per BatchUpsertReferrals call (at most 5,000).
    #[arg(long, default_value_t = 5_000)]
    pub batch: usize,
    /// Batches in flight at once.
    #[arg(long, default_value_t = 2)]
    pub concurrency: usize,
    /// Database URL (default: a fresh SQLite file in a temporary directory).
    #[arg(long, env = "CSC_BENCH_DATABASE_URL")]
    pub database_url: Option<String>,
    /// Quarter to compute measures for.
    #[arg(long, default_value = "2018-19-Q1")]
    pub period: String,
}

const LA: &str = "885";

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

pub async fn run(args: BenchArgs) -> anyhow::Result<()> {
    let _telemetry = csc_runtime::telemetry::init("csc-bench");
    anyhow::ensure!(
        (1..=csc_runtime::MAX_BATCH).contains(&args.batch),
        "--batch must be 1..=5000"
    );
    let tmp = tempfile::tempdir()?;
    let url = args
        .database_url
        .clone()
        .unwrap_or_else(|| csc_runtime::db::sqlite_url_in(tmp.path(), "frontdoor"));
    let backend = if url.starts_with("sqlite") {
        "SQLite"
    } else {
        "PostgreSQL"
    };

    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let shutdown = Shutdown::new();
    let server = tokio::spawn({
        let (url, shutdown) = (url.clone(), shutdown.clone());
        async move {
            crate::serve::run_frontdoor(listener, &url, &ServerArgs::default(), shutdown).await
        }
    });

    let gen_start = Instant::now();
    let records = referrals(args.referrals);
    eprintln!(
        "generated {} referrals in {:.1?}",
        records.len(),
        gen_start.elapsed()
    );

    let client = connect(&addr.to_string()).await?;
    let batches: Vec<Vec<pb::Referral>> = records.chunks(args.batch).map(<[_]>::to_vec).collect();
    drop(records);
    let n_batches = batches.len();
    let started = Instant::now();
    let queue = std::sync::Arc::new(tokio::sync::Mutex::new(batches.into_iter()));
    let mut workers = Vec::new();
    for _ in 0..args.concurrency.max(1) {
        let (queue, mut client) = (queue.clone(), client.clone());
        workers.push(tokio::spawn(async move {
            let mut written = 0i64;
            loop {
                let Some(batch) = queue.lock().await.next() else {
                    break;
                };
                let resp = client
                    .batch_upsert_referrals(pb::BatchUpsertReferralsRequest {
                        request_id: uuid::Uuid::new_v4().to_string(),
                        records: batch,
                    })
                    .await?
                    .into_inner();
                written += resp.written;
            }
            anyhow::Ok(written)
        }));
    }
    let mut written = 0;
    for w in workers {
        written += w.await??;
    }
    let ingest = started.elapsed();
    let rate = written as f64 / ingest.as_secs_f64();

    // Measures: the first call warms the database's page cache; report the median of five after.
    let mut client = client;
    let mut timings = Vec::new();
    for _ in 0..6 {
        let t = Instant::now();
        let resp = client
            .compute_measures(ComputeMeasuresRequest {
                la_code: LA.into(),
                period: args.period.clone(),
            })
            .await?
            .into_inner();
        timings.push(t.elapsed());
        anyhow::ensure!(!resp.measures.is_empty(), "no measures returned");
    }
    let cold = timings.remove(0);
    timings.sort();
    let median = timings[timings.len() / 2];

    println!("backend            {backend}");
    println!(
        "referrals written  {written} in {n_batches} batches of {} ({} in flight)",
        args.batch, args.concurrency
    );
    println!(
        "ingest             {:.2} s  = {:.0} referrals/s",
        ingest.as_secs_f64(),
        rate
    );
    println!(
        "measures {}  first {} ms, median of 5 after {} ms",
        args.period,
        ms(cold),
        ms(median)
    );
    shutdown.cancel();
    server.await??;
    Ok(())
}

fn ms(d: Duration) -> u128 {
    d.as_millis()
}

async fn connect(addr: &str) -> anyhow::Result<FrontDoorServiceClient<tonic::transport::Channel>> {
    let c = crate::import::connect(addr).await?;
    Ok(c)
}
