//! The `csc` binary's commands as a library, so that the end-to-end tests in `tests/` can boot
//! the suite and import files in-process exactly as the binary does.

pub mod bench;
pub mod demo;
pub mod import;
pub mod measures;
pub mod serve;

use std::path::PathBuf;

use csc_runtime::config::{FINANCE_ADDR, FRONTDOOR_ADDR, PLACEMENTS_ADDR, PROTECTION_ADDR};

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
}

impl ClientAddrs {
    pub fn of(&self, service: serve::Service) -> &str {
        match service {
            serve::Service::Frontdoor => &self.frontdoor,
            serve::Service::Protection => &self.protection,
            serve::Service::Placements => &self.placements,
            serve::Service::Finance => &self.finance,
        }
    }
}

/// Where a command keeps its data when it runs services itself.
pub fn default_data_dir() -> PathBuf {
    std::env::var_os("CSC_DATA_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("csc-data"))
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
