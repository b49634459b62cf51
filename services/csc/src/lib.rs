//! The `csc` binary's commands as a library, so that the end-to-end tests in `tests/` can boot
//! the suite and import files in-process exactly as the binary does.

pub mod bench;
pub mod client;
pub mod coverage;
pub mod demo;
pub mod dfe_api;
pub mod dfe_export;
pub mod dfe_send;
pub mod generate;
pub mod import;
pub mod measures;
pub mod report;
pub mod report_bench;
pub mod security;
pub mod serve;

use std::path::PathBuf;

/// A command that ran to its end without getting everything through (an import with refusals,
/// a report with sections not `ok`): it has said what, and `csc` exits with `exit` (README,
/// "Exit status").
#[derive(Debug)]
pub struct Incomplete {
    /// The command, for the line `csc` prints: "import", "report".
    pub command: &'static str,
    pub exit: u8,
    pub message: String,
}

impl std::fmt::Display for Incomplete {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Incomplete {}

use csc_runtime::config::{
    AGGREGATOR_ADDR, FINANCE_ADDR, FRONTDOOR_ADDR, INTAKE_ADDR, PLACEMENTS_ADDR, PROTECTION_ADDR,
};

/// Where the services are: client commands connect there, and `serve all` listens there.
#[derive(Clone, clap::Args)]
pub struct ClientAddrs {
    /// Address of the front door service.
    #[arg(long = "frontdoor", env = "CSC_FRONTDOOR_ADDR", default_value = FRONTDOOR_ADDR)]
    pub frontdoor: String,
    /// Address of the child protection service.
    #[arg(long = "protection", env = "CSC_PROTECTION_ADDR", default_value = PROTECTION_ADDR)]
    pub protection: String,
    /// Address of the looked-after children service.
    #[arg(long = "placements", env = "CSC_PLACEMENTS_ADDR", default_value = PLACEMENTS_ADDR)]
    pub placements: String,
    /// Address of the finance service.
    #[arg(long = "finance", env = "CSC_FINANCE_ADDR", default_value = FINANCE_ADDR)]
    pub finance: String,
    /// Address of the reporting service (the aggregator).
    #[arg(long = "aggregator", env = "CSC_AGGREGATOR_ADDR", default_value = AGGREGATOR_ADDR)]
    pub aggregator: String,
    /// Address of the DfE CSC API intake.
    #[arg(long = "intake", env = "CSC_INTAKE_ADDR", default_value = INTAKE_ADDR)]
    pub intake: String,
}

/// Where the four domain services are, for the commands that talk to them and not to the
/// aggregator (`import`, `measures`, `coverage`): their help lists only the addresses they use.
#[derive(Clone, clap::Args)]
pub struct DomainAddrs {
    /// Address of the front door service.
    #[arg(long = "frontdoor", env = "CSC_FRONTDOOR_ADDR", default_value = FRONTDOOR_ADDR)]
    pub frontdoor: String,
    /// Address of the child protection service.
    #[arg(long = "protection", env = "CSC_PROTECTION_ADDR", default_value = PROTECTION_ADDR)]
    pub protection: String,
    /// Address of the looked-after children service.
    #[arg(long = "placements", env = "CSC_PLACEMENTS_ADDR", default_value = PLACEMENTS_ADDR)]
    pub placements: String,
    /// Address of the finance service.
    #[arg(long = "finance", env = "CSC_FINANCE_ADDR", default_value = FINANCE_ADDR)]
    pub finance: String,
}

impl DomainAddrs {
    /// Every address, the aggregator's its standard one (these commands never call it).
    pub fn all(&self) -> ClientAddrs {
        ClientAddrs {
            frontdoor: self.frontdoor.clone(),
            protection: self.protection.clone(),
            placements: self.placements.clone(),
            finance: self.finance.clone(),
            aggregator: AGGREGATOR_ADDR.into(),
            intake: INTAKE_ADDR.into(),
        }
    }
}

impl From<&ClientAddrs> for DomainAddrs {
    fn from(a: &ClientAddrs) -> Self {
        DomainAddrs {
            frontdoor: a.frontdoor.clone(),
            protection: a.protection.clone(),
            placements: a.placements.clone(),
            finance: a.finance.clone(),
        }
    }
}

/// Where the reporting service is, for the commands that talk to it alone (`report`,
/// `commentary`, `population`, `reference`): their help lists only the address they use.
#[derive(Clone, clap::Args)]
pub struct AggregatorAddr {
    /// Address of the reporting service (the aggregator).
    #[arg(long = "aggregator", env = "CSC_AGGREGATOR_ADDR", default_value = AGGREGATOR_ADDR)]
    pub aggregator: String,
}

impl Default for AggregatorAddr {
    fn default() -> Self {
        AggregatorAddr {
            aggregator: AGGREGATOR_ADDR.into(),
        }
    }
}

impl From<&ClientAddrs> for AggregatorAddr {
    fn from(a: &ClientAddrs) -> Self {
        AggregatorAddr {
            aggregator: a.aggregator.clone(),
        }
    }
}

impl Default for ClientAddrs {
    /// The standard local addresses (`csc serve all`).
    fn default() -> Self {
        ClientAddrs {
            frontdoor: FRONTDOOR_ADDR.into(),
            protection: PROTECTION_ADDR.into(),
            placements: PLACEMENTS_ADDR.into(),
            finance: FINANCE_ADDR.into(),
            aggregator: AGGREGATOR_ADDR.into(),
            intake: INTAKE_ADDR.into(),
        }
    }
}

impl ClientAddrs {
    pub fn of(&self, service: serve::Service) -> &str {
        match service {
            serve::Service::Frontdoor => &self.frontdoor,
            serve::Service::Protection => &self.protection,
            serve::Service::Placements => &self.placements,
            serve::Service::Finance => &self.finance,
            serve::Service::Aggregator => &self.aggregator,
            serve::Service::Intake => &self.intake,
        }
    }

    pub fn set(&mut self, service: serve::Service, addr: String) {
        match service {
            serve::Service::Frontdoor => self.frontdoor = addr,
            serve::Service::Protection => self.protection = addr,
            serve::Service::Placements => self.placements = addr,
            serve::Service::Finance => self.finance = addr,
            serve::Service::Aggregator => self.aggregator = addr,
            serve::Service::Intake => self.intake = addr,
        }
    }

    /// How the aggregator calls the domain services: here, with the deadline and attempts of
    /// `server`.
    pub fn upstreams(
        &self,
        server: &csc_runtime::config::ServerArgs,
    ) -> anyhow::Result<csc_aggregator::UpstreamConfig> {
        use csc_aggregator::Upstream;
        let mut config = csc_aggregator::UpstreamConfig::new(
            [
                (Upstream::Frontdoor, self.frontdoor.clone()),
                (Upstream::Protection, self.protection.clone()),
                (Upstream::Placements, self.placements.clone()),
                (Upstream::Finance, self.finance.clone()),
            ]
            .into_iter()
            .collect(),
        );
        config.deadline = std::time::Duration::from_secs(server.upstream_deadline_secs.max(1));
        config.attempts = server.upstream_attempts.max(1);
        config.tls = server.tls.client_config()?;
        Ok(config)
    }
}

/// Where a command keeps its data when it runs services itself.
pub fn default_data_dir() -> PathBuf {
    csc_runtime::config::default_data_dir()
}

/// Writes to stdout; a closed pipe (`csc ... | head`) ends the program quietly, as Unix tools do.
pub fn out(text: &str) {
    use std::io::Write as _;
    let mut stdout = std::io::stdout().lock();
    if let Err(e) = stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush())
    {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            std::process::exit(0);
        }
        eprintln!("writing output: {e}");
        std::process::exit(1);
    }
}
