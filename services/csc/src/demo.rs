//! `csc demo`: serve every service on a fresh data directory, import a CIN census file and an
//! SSDA903 return, and print the front door's, child protection's and looked-after children's
//! measures, all in one process and one command.

use std::path::PathBuf;

use csc_runtime::{Shutdown, config::ServerArgs};
use tokio::net::TcpListener;

use crate::{ClientAddrs, import, measures, serve, serve::Service};

#[derive(clap::Args)]
pub struct DemoArgs {
    /// CIN census XML to import (default: the shared synthetic sample).
    #[arg(long, default_value = "../shared/samples/cin/fake_CIN_data.xml")]
    pub cin: PathBuf,
    /// Data directory (default: $CSC_DATA_DIR, else ./csc-data).
    #[arg(long)]
    pub data_dir: Option<PathBuf>,
    /// Periods to print (default: the census year and its last quarter).
    #[arg(long)]
    pub period: Vec<String>,
    /// SSDA903 return to import (a folder of CSV tables, or the XML), filed under the census's
    /// LA (default: the shared synthetic sample).
    #[arg(long, default_value = "../shared/samples/ssda903")]
    pub ssda903: PathBuf,
    /// Period of the looked-after children's measures (default: the sample return's year).
    #[arg(long, default_value = "2017-18")]
    pub ssda903_period: String,
}

pub async fn run(args: DemoArgs) -> anyhow::Result<()> {
    // The demo's output is the measures: logs only when something is wrong, unless RUST_LOG asks.
    let _telemetry = csc_runtime::telemetry::init_with_level("csc-demo", "warn");
    let shutdown = Shutdown::new();
    // Ephemeral ports: the demo never collides with a suite already running.
    let mut listeners = Vec::new();
    for service in Service::ALL {
        listeners.push((service, TcpListener::bind("127.0.0.1:0").await?));
    }
    let addr_of = |s: Service| -> anyhow::Result<String> {
        let (_, l) = listeners
            .iter()
            .find(|(x, _)| *x == s)
            .expect("every service has a listener");
        Ok(l.local_addr()?.to_string())
    };
    let addrs = ClientAddrs {
        frontdoor: addr_of(Service::Frontdoor)?,
        protection: addr_of(Service::Protection)?,
        placements: addr_of(Service::Placements)?,
        finance: addr_of(Service::Finance)?,
    };
    let all = serve::AllArgs {
        data_dir: args.data_dir.clone(),
        addrs: addrs.clone(),
        server: ServerArgs::default(),
    };
    let server = tokio::spawn(serve::run_all(all, listeners, shutdown.clone()));

    let result = async {
        let mut clients = connect_when_ready(&addrs).await?;
        let mut report = import::Report::default();
        let la = crate::import::cin_la_and_year(&args.cin)?;
        import::import_cin(&mut clients, &args.cin, None, &mut report).await?;
        crate::out(&report.render());
        let periods = if args.period.is_empty() {
            default_periods(la.1)
        } else {
            args.period.clone()
        };
        for p in periods {
            for service in [Service::Frontdoor, Service::Protection] {
                let doc = measures::fetch(service, addrs.of(service), &la.0, &p).await?;
                crate::out(&format!("\n{}", measures::render_table(&doc)));
            }
        }

        let mut clients903 = import::ssda903::Clients903::connect(&addrs).await?;
        let mut report = import::Report::default();
        import::ssda903::import(&mut clients903, &args.ssda903, &la.0, None, &mut report).await?;
        import::ssda903::history_warnings(&mut clients903.placements, &la.0, &mut report).await?;
        crate::out(&format!("\n{}", report.render_summary()));
        let doc = measures::fetch(
            Service::Placements,
            addrs.of(Service::Placements),
            &la.0,
            &args.ssda903_period,
        )
        .await?;
        crate::out(&format!("\n{}", measures::render_table(&doc)));
        anyhow::Ok(())
    }
    .await;
    shutdown.cancel();
    server.await??;
    result
}

/// The census year Y covers the financial year ending 31 March Y: print it and its Q4.
fn default_periods(census_year: Option<i32>) -> Vec<String> {
    let y = census_year.unwrap_or(2022) - 1;
    let fy = format!("{y}-{:02}", (y + 1) % 100);
    vec![fy.clone(), format!("{fy}-Q4")]
}

async fn connect_when_ready(addrs: &ClientAddrs) -> anyhow::Result<import::CinClients> {
    let mut last = None;
    for _ in 0..100 {
        match import::CinClients::connect(addrs).await {
            Ok(c) => return Ok(c),
            Err(e) => last = Some(e),
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    Err(last.unwrap_or_else(|| anyhow::anyhow!("the services did not start")))
}
