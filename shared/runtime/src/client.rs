//! How the suite's own clients (the `csc` commands, the demo, the aggregator) reach a server:
//! TLS when configured, and a bearer token on every call.
//!
//! The token, first found of:
//! 1. `CSC_TOKEN`: the token itself;
//! 2. `CSC_TOKEN_FILE`: a file holding it (a mounted Secret; re-read as it rotates);
//! 3. the development key in the data directory (`$CSC_DATA_DIR`, else `./csc-data`, or the
//!    directory `csc serve all` in this process uses): a short-lived token with every scope,
//!    minted here, so `csc demo` and the README's commands work with no flags.
//!
//! TLS: `CSC_CLIENT_TLS_CA_FILE` (the CA servers' certificates chain to) turns it on;
//! `CSC_CLIENT_TLS_CERT_FILE` and `CSC_CLIENT_TLS_KEY_FILE` add a client certificate (mutual
//! TLS); `CSC_CLIENT_TLS_DOMAIN` overrides the name checked in the server's certificate.

use std::{
    path::PathBuf,
    sync::Mutex,
    time::{Duration, Instant},
};

use tonic::{
    Request, Status,
    service::{Interceptor, interceptor::InterceptedService},
    transport::{Certificate, Channel, ClientTlsConfig, Endpoint, Identity},
};

use crate::auth::token::DevKey;

/// A channel whose calls carry the bearer token.
pub type AuthChannel = InterceptedService<Channel, Bearer>;

/// How long a token minted from the development key lasts, and when a fresh one is minted.
const DEV_TOKEN_TTL: Duration = Duration::from_secs(3600);
const DEV_TOKEN_RENEW: Duration = Duration::from_secs(3000);
/// How long a token read from `CSC_TOKEN_FILE` is used before the file is read again.
const TOKEN_FILE_TTL: Duration = Duration::from_secs(30);

struct Cached {
    token: String,
    until: Instant,
}

static DEV_DIR: Mutex<Option<PathBuf>> = Mutex::new(None);
static CACHE: Mutex<Option<Cached>> = Mutex::new(None);

/// Tells this process's clients to use the development key in `dir` (what `csc serve all`
/// serves with), unless `CSC_TOKEN` or `CSC_TOKEN_FILE` says otherwise.
pub fn use_dev_key(dir: &std::path::Path) {
    *DEV_DIR.lock().expect("lock") = Some(dir.to_owned());
    *CACHE.lock().expect("lock") = None;
}

/// Where this process's token comes from: the first of the three sources that is set.
enum Source {
    /// `CSC_TOKEN`: the token itself.
    Env(String),
    /// `CSC_TOKEN_FILE`: a file holding it.
    File(PathBuf),
    /// The development key in this data directory, if it has one.
    DevKey(PathBuf),
}

fn source() -> Source {
    if let Ok(t) = std::env::var("CSC_TOKEN")
        && !t.trim().is_empty()
    {
        return Source::Env(t.trim().to_owned());
    }
    if let Some(file) = std::env::var_os("CSC_TOKEN_FILE") {
        return Source::File(file.into());
    }
    let dir = DEV_DIR
        .lock()
        .expect("lock")
        .clone()
        .unwrap_or_else(crate::config::default_data_dir);
    Source::DevKey(dir)
}

/// The bearer token this process's calls carry, if any.
pub fn token() -> Result<Option<String>, Status> {
    let source = source();
    if let Source::Env(t) = &source {
        return Ok(Some(t.clone()));
    }
    let mut cache = CACHE.lock().expect("lock");
    if let Some(c) = cache.as_ref()
        && Instant::now() < c.until
    {
        return Ok(Some(c.token.clone()));
    }
    let fresh = match source {
        // Answered above, never cached.
        Source::Env(_) => None,
        Source::File(file) => {
            let t = std::fs::read_to_string(&file).map_err(|e| {
                Status::unauthenticated(format!(
                    "cannot read the token file {} (CSC_TOKEN_FILE): {e}",
                    file.display()
                ))
            })?;
            Some((t.trim().to_owned(), TOKEN_FILE_TTL))
        }
        Source::DevKey(dir) => {
            let dev = DevKey::in_dir(&dir);
            if !dev.exists() {
                return Ok(None);
            }
            let t = dev
                .token("csc (development key)", DEV_TOKEN_TTL)
                .map_err(|e| {
                    Status::unauthenticated(format!(
                        "cannot sign a token with the development key {}: {e}",
                        dev.key_file.display()
                    ))
                })?;
            Some((t, DEV_TOKEN_RENEW))
        }
    };
    Ok(fresh.map(|(token, ttl)| {
        *cache = Some(Cached {
            token: token.clone(),
            until: Instant::now() + ttl,
        });
        token
    }))
}

/// Where this process's token comes from, in words, with what to do when a server refuses it:
/// for an UNAUTHENTICATED answer, so that a person knows which of the three sources was tried.
pub fn token_source() -> String {
    match source() {
        Source::Env(_) => "The token sent was CSC_TOKEN's. Check that it has not expired and that \
                           it was issued for these servers (their issuer and audience): `csc \
                           token issue` makes one with the development key; production tokens \
                           come from the council's identity provider (docs/security.md)."
            .into(),
        Source::File(file) => format!(
            "The token sent was read from CSC_TOKEN_FILE ({}). Check that the file holds a \
             current token issued for these servers (docs/security.md, \"Rotating keys\").",
            file.display()
        ),
        Source::DevKey(dir) if DevKey::in_dir(&dir).exists() => format!(
            "The token sent was signed with the development key in {}. The servers did not \
             accept it: they may use another data directory (run this command with the same \
             CSC_DATA_DIR as `csc serve`) or verify a council's JWKS (then set CSC_TOKEN or \
             CSC_TOKEN_FILE).",
            dir.display()
        ),
        Source::DevKey(dir) => format!(
            "No token was sent: CSC_TOKEN and CSC_TOKEN_FILE are not set, and there is no \
             development key in {} (the data directory: $CSC_DATA_DIR, else ./csc-data). Run \
             this command with the CSC_DATA_DIR that `csc serve` uses, or set CSC_TOKEN (or \
             CSC_TOKEN_FILE) to a token, e.g. from `csc token issue`.",
            dir.display()
        ),
    }
}

/// Adds `authorization: Bearer <token>` to every call (see [`token`]).
#[derive(Debug, Clone, Copy, Default)]
pub struct Bearer;

impl Interceptor for Bearer {
    fn call(&mut self, mut req: Request<()>) -> Result<Request<()>, Status> {
        if let Some(t) = token()? {
            let v = format!("Bearer {t}")
                .parse()
                .map_err(|_| Status::unauthenticated("the token is not a valid header value"))?;
            req.metadata_mut().insert("authorization", v);
        }
        Ok(req)
    }
}

fn env_path(name: &str) -> Option<PathBuf> {
    std::env::var_os(name)
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
}

/// The client TLS configuration from `CSC_CLIENT_TLS_*`, when `CSC_CLIENT_TLS_CA_FILE` is set.
pub fn tls_config() -> anyhow::Result<Option<ClientTlsConfig>> {
    let domain = std::env::var("CSC_CLIENT_TLS_DOMAIN")
        .ok()
        .filter(|d| !d.is_empty());
    tls_from(
        env_path("CSC_CLIENT_TLS_CA_FILE").as_deref(),
        env_path("CSC_CLIENT_TLS_CERT_FILE").as_deref(),
        env_path("CSC_CLIENT_TLS_KEY_FILE").as_deref(),
        domain,
    )
}

/// A client TLS configuration trusting `ca`, presenting `cert` and `key` when given (mutual
/// TLS), checking `domain` in the server's certificate instead of the address's host.
pub fn tls_from(
    ca: Option<&std::path::Path>,
    cert: Option<&std::path::Path>,
    key: Option<&std::path::Path>,
    domain: Option<String>,
) -> anyhow::Result<Option<ClientTlsConfig>> {
    let Some(ca) = ca else {
        return Ok(None);
    };
    let mut config =
        ClientTlsConfig::new().ca_certificate(Certificate::from_pem(crate::config::read(ca)?));
    match (cert, key) {
        (Some(cert), Some(key)) => {
            config = config.identity(Identity::from_pem(
                crate::config::read(cert)?,
                crate::config::read(key)?,
            ))
        }
        (None, None) => {}
        _ => anyhow::bail!(
            "CSC_CLIENT_TLS_CERT_FILE and CSC_CLIENT_TLS_KEY_FILE go together (mutual TLS)"
        ),
    }
    if let Some(domain) = domain {
        config = config.domain_name(domain);
    }
    Ok(Some(config))
}

/// An endpoint for `addr` (`host:port`, or a URI), over TLS when `CSC_CLIENT_TLS_CA_FILE` is
/// set.
pub fn endpoint(addr: &str) -> anyhow::Result<Endpoint> {
    endpoint_with(addr, tls_config()?)
}

/// As [`endpoint`], with an explicit TLS configuration.
pub fn endpoint_with(addr: &str, tls: Option<ClientTlsConfig>) -> anyhow::Result<Endpoint> {
    let uri = match &tls {
        Some(_) if !addr.contains("://") => format!("https://{addr}"),
        _ => crate::config::endpoint_uri(addr),
    };
    let e =
        Endpoint::from_shared(uri.clone()).map_err(|e| anyhow::anyhow!("address {addr:?}: {e}"))?;
    Ok(match tls {
        Some(t) => e
            .tls_config(t)
            .map_err(|e| anyhow::anyhow!("TLS for {uri}: {e}"))?,
        None => e,
    })
}

/// `channel` with the bearer token on every call.
pub fn with_token(channel: Channel) -> AuthChannel {
    InterceptedService::new(channel, Bearer)
}
