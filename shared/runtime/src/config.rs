//! Configuration shared by every server: each flag has a `CSC_*` environment variable, and the
//! database URL may come from a mounted secret file.

use std::{net::SocketAddr, path::PathBuf, time::Duration};

use clap::Args;

/// Default addresses of the services on one machine (`csc serve all` and the client commands).
pub const FRONTDOOR_ADDR: &str = "127.0.0.1:50051";
pub const PROTECTION_ADDR: &str = "127.0.0.1:50052";
pub const PLACEMENTS_ADDR: &str = "127.0.0.1:50053";
pub const FINANCE_ADDR: &str = "127.0.0.1:50054";
pub const AGGREGATOR_ADDR: &str = "127.0.0.1:50055";
pub const INTAKE_ADDR: &str = "127.0.0.1:50056";

/// Where a server keeps its data: a database URL, or a file holding one.
#[derive(Debug, Clone, Args)]
pub struct DatabaseArgs {
    /// Database URL: `sqlite://FILE` (created if missing) or `postgres://USER:PASS@HOST/DB`.
    #[arg(long, env = "CSC_DATABASE_URL", hide_env_values = true)]
    pub database_url: Option<String>,
    /// A file holding the database URL (a mounted secret); wins over --database-url.
    #[arg(long, env = "CSC_DATABASE_URL_FILE")]
    pub database_url_file: Option<PathBuf>,
}

impl DatabaseArgs {
    /// The URL to connect to, or `default` when none is configured.
    pub fn url_or(&self, default: impl FnOnce() -> String) -> anyhow::Result<String> {
        Ok(
            crate::db::resolve_url(self.database_url.clone(), self.database_url_file.clone())?
                .unwrap_or_else(default),
        )
    }
}

/// How a server listens and treats its connections.
#[derive(Debug, Clone, Args)]
pub struct ServerArgs {
    /// Seconds after which a client connection is closed gracefully, so that long-lived HTTP/2
    /// connections spread over new replicas.
    #[arg(long, env = "CSC_MAX_CONNECTION_AGE_SECS", default_value_t = 300)]
    pub max_connection_age_secs: u64,
    /// Seconds to let in-flight calls finish after SIGTERM before exiting.
    #[arg(long, env = "CSC_SHUTDOWN_GRACE_SECS", default_value_t = 20)]
    pub shutdown_grace_secs: u64,
    /// Seconds between SIGTERM and closing the listener: readiness reports NOT_SERVING at once
    /// and the server keeps answering meanwhile, so that calls routed before the balancer noticed
    /// still land (Kubernetes: a few seconds, on top of the preStop sleep).
    #[arg(long, env = "CSC_SHUTDOWN_DRAIN_SECS", default_value_t = 0)]
    pub shutdown_drain_secs: u64,
    /// Longest a call may run on the server, in seconds, whatever deadline the client set (or
    /// none): a slow or stalled call cannot hold the server's resources for ever.
    #[arg(long, env = "CSC_REQUEST_TIMEOUT_SECS", default_value_t = 120)]
    pub request_timeout_secs: u64,
    /// Serve Prometheus metrics (`/metrics`) on this address, e.g. `0.0.0.0:9464` (default: off).
    #[arg(long, env = "CSC_METRICS_LISTEN")]
    pub metrics_listen: Option<String>,
    /// The aggregator's HTTP read API on this address, e.g. `0.0.0.0:8080` (default: off):
    /// reports and coverage for BI tools, with the gRPC methods' tokens, scopes and audit
    /// (docs/reporting.md). For `csc serve intake`, the DfE CSC API endpoint. The domain
    /// services ignore it.
    #[arg(long, env = "CSC_HTTP_LISTEN")]
    pub http_listen: Option<String>,
    /// With `csc serve all`: the intake's DfE CSC API endpoint (`POST
    /// /children_social_care_data/{la_code}/children`) on this address (default: off).
    #[arg(long, env = "CSC_INTAKE_HTTP_LISTEN")]
    pub intake_http_listen: Option<String>,
    /// The aggregator's deadline, in seconds, for one call to a domain service.
    #[arg(long, env = "CSC_UPSTREAM_DEADLINE_SECS", default_value_t = 30)]
    pub upstream_deadline_secs: u64,
    /// The aggregator's attempts at a call that a domain service answers UNAVAILABLE.
    #[arg(long, env = "CSC_UPSTREAM_ATTEMPTS", default_value_t = 3, value_parser = clap::value_parser!(u32).range(1..=10))]
    pub upstream_attempts: u32,
    /// Calls of the API a server runs at once; beyond it a call is answered RESOURCE_EXHAUSTED
    /// with retry advice at once (health checks are never refused).
    #[arg(long, env = "CSC_MAX_CONCURRENT_CALLS", default_value_t = 256)]
    pub max_concurrent_calls: usize,
    /// MiB of request bodies a server holds at once (at least one largest message, 16 MiB);
    /// beyond it a call is answered RESOURCE_EXHAUSTED with retry advice (docs/security.md).
    #[arg(long, env = "CSC_MAX_INFLIGHT_REQUEST_MIB", default_value_t = 64)]
    pub max_inflight_request_mib: usize,
    #[command(flatten)]
    pub auth: AuthArgs,
    #[command(flatten)]
    pub tls: TlsArgs,
}

/// How a server authenticates its callers (docs/security.md).
#[derive(Debug, Clone, Args)]
pub struct AuthArgs {
    /// A JWKS file holding the public keys that sign callers' tokens (the council's identity
    /// provider's); re-read when it changes. Without it, `csc serve` uses a development key it
    /// makes in the data directory.
    #[arg(long, env = "CSC_AUTH_JWKS_FILE")]
    pub auth_jwks_file: Option<PathBuf>,
    /// The issuer (`iss`) tokens must name; required with --auth-jwks-file.
    #[arg(long, env = "CSC_AUTH_ISSUER")]
    pub auth_issuer: Option<String>,
    /// The audience (`aud`) tokens must name.
    #[arg(long, env = "CSC_AUTH_AUDIENCE", default_value = crate::auth::token::DEFAULT_AUDIENCE)]
    pub auth_audience: String,
    /// Serve WITHOUT authentication or authorisation: every call admitted, from anyone, for any
    /// LA. For a closed test bench only; warned about at every start.
    #[arg(long, env = "CSC_INSECURE_NO_AUTH")]
    pub insecure_no_auth: bool,
    /// Where the development key lives when no JWKS is configured (set by `csc serve` to its
    /// data directory).
    #[arg(skip)]
    pub dev_key_dir: Option<PathBuf>,
}

impl Default for AuthArgs {
    fn default() -> Self {
        AuthArgs {
            auth_jwks_file: None,
            auth_issuer: None,
            auth_audience: crate::auth::token::DEFAULT_AUDIENCE.into(),
            insecure_no_auth: false,
            dev_key_dir: None,
        }
    }
}

/// TLS for a server: its certificate and key, and (for mutual TLS) the CA its clients'
/// certificates must chain to. All PEM files.
#[derive(Debug, Clone, Default, Args)]
pub struct TlsArgs {
    /// The server's certificate chain (PEM); with --tls-key-file, the server speaks only TLS.
    #[arg(long, env = "CSC_TLS_CERT_FILE", requires = "tls_key_file")]
    pub tls_cert_file: Option<PathBuf>,
    /// The server's private key (PEM).
    #[arg(long, env = "CSC_TLS_KEY_FILE", requires = "tls_cert_file")]
    pub tls_key_file: Option<PathBuf>,
    /// Require client certificates chaining to this CA (PEM): mutual TLS.
    #[arg(long, env = "CSC_TLS_CLIENT_CA_FILE", requires = "tls_cert_file")]
    pub tls_client_ca_file: Option<PathBuf>,
    /// For the calls this server makes (the aggregator's to the domain services): the CA their
    /// certificates chain to (PEM). Turns TLS on for those calls.
    #[arg(long, env = "CSC_CLIENT_TLS_CA_FILE")]
    pub client_tls_ca_file: Option<PathBuf>,
    /// The certificate this server presents when it calls others (mutual TLS).
    #[arg(
        long,
        env = "CSC_CLIENT_TLS_CERT_FILE",
        requires = "client_tls_key_file"
    )]
    pub client_tls_cert_file: Option<PathBuf>,
    /// Its private key (PEM).
    #[arg(
        long,
        env = "CSC_CLIENT_TLS_KEY_FILE",
        requires = "client_tls_cert_file"
    )]
    pub client_tls_key_file: Option<PathBuf>,
}

impl TlsArgs {
    /// The server's TLS configuration, when it has a certificate.
    pub fn server_config(&self) -> anyhow::Result<Option<tonic::transport::ServerTlsConfig>> {
        use tonic::transport::{Certificate, Identity, ServerTlsConfig};
        let (Some(cert), Some(key)) = (&self.tls_cert_file, &self.tls_key_file) else {
            return Ok(None);
        };
        let identity = Identity::from_pem(read(cert)?, read(key)?);
        let mut config = ServerTlsConfig::new().identity(identity);
        if let Some(ca) = &self.tls_client_ca_file {
            config = config.client_ca_root(Certificate::from_pem(read(ca)?));
        }
        Ok(Some(config))
    }

    /// The TLS configuration of the calls this server makes, when it has a CA for them.
    pub fn client_config(&self) -> anyhow::Result<Option<tonic::transport::ClientTlsConfig>> {
        crate::client::tls_from(
            self.client_tls_ca_file.as_deref(),
            self.client_tls_cert_file.as_deref(),
            self.client_tls_key_file.as_deref(),
            None,
        )
    }
}

/// A file's bytes, the error naming it.
pub fn read(path: &std::path::Path) -> anyhow::Result<Vec<u8>> {
    std::fs::read(path).map_err(|e| anyhow::anyhow!("reading {}: {e}", path.display()))
}

/// The data directory of `csc serve all` and the client commands: `$CSC_DATA_DIR`, else
/// `./csc-data`.
pub fn default_data_dir() -> PathBuf {
    std::env::var_os("CSC_DATA_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("csc-data"))
}

impl Default for ServerArgs {
    fn default() -> Self {
        Self {
            max_connection_age_secs: 300,
            shutdown_grace_secs: 20,
            shutdown_drain_secs: 0,
            request_timeout_secs: 120,
            metrics_listen: None,
            http_listen: None,
            intake_http_listen: None,
            upstream_deadline_secs: 30,
            upstream_attempts: 3,
            max_concurrent_calls: 256,
            max_inflight_request_mib: 64,
            auth: AuthArgs::default(),
            tls: TlsArgs::default(),
        }
    }
}

impl ServerArgs {
    /// The server's load-shedding budget.
    pub fn admission(&self) -> crate::admission::Admission {
        crate::admission::Admission::new(
            self.max_concurrent_calls,
            self.max_inflight_request_mib.saturating_mul(1 << 20),
        )
    }

    pub fn max_connection_age(&self) -> Duration {
        Duration::from_secs(self.max_connection_age_secs)
    }

    pub fn shutdown_grace(&self) -> Duration {
        Duration::from_secs(self.shutdown_grace_secs)
    }

    pub fn shutdown_drain(&self) -> Duration {
        Duration::from_secs(self.shutdown_drain_secs)
    }
}

/// What a server does about its database migrations before it reports ready.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Migrations {
    /// Apply pending migrations at start (one process per database: SQLite, development).
    #[default]
    Apply,
    /// Only check: stay NOT_SERVING until a `csc migrate` Job has applied them (several
    /// replicas on one PostgreSQL database, each release's migrations run once, first).
    Check,
}

/// The address a client command connects to: `http://` added to a bare `host:port`.
pub fn endpoint_uri(addr: &str) -> String {
    if addr.starts_with("http://") || addr.starts_with("https://") {
        addr.to_owned()
    } else {
        format!("http://{addr}")
    }
}

pub fn parse_listen(addr: &str) -> anyhow::Result<SocketAddr> {
    addr.parse()
        .map_err(|e| anyhow::anyhow!("listen address {addr:?}: {e}"))
}
