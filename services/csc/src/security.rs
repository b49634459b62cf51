//! `csc token` (issue bearer tokens, make signing keys) and `csc audit` (who touched a child's
//! records): the operator's side of docs/security.md.

use std::path::PathBuf;

use clap::Subcommand;
use csc_runtime::{
    audit,
    auth::{
        scopes,
        token::{self, Claims, DevKey},
    },
    config::DatabaseArgs,
};

use crate::serve::Service;

#[derive(Subcommand)]
pub enum TokenCommand {
    /// Sign a bearer token (printed on stdout) with a key you hold: by default the development
    /// key that `csc serve` made in the data directory.
    Issue(IssueArgs),
    /// Print the scope table: each method, the scopes it needs, and whether it is child-level
    /// (audited, closed to regional callers). Tab-separated.
    Scopes,
    /// Make a new ES256 signing key and the JWKS that verifies it (a council without an identity
    /// provider of its own; a key rotation: see docs/security.md).
    Keygen {
        /// Directory to write `signing-key.pem` (owner-only) and `jwks.json` into.
        #[arg(long)]
        out: PathBuf,
    },
}

#[derive(clap::Args)]
pub struct IssueArgs {
    /// Who the token is for: a person or a system, as the audit log will show it.
    #[arg(long)]
    pub sub: String,
    /// Scopes granted (repeat, or separate with commas): see `csc token issue --help`'s list,
    /// or "all".
    #[arg(long, value_delimiter = ',', required = true)]
    pub scope: Vec<String>,
    /// LAs the holder may touch (repeat, or separate with commas); "*" is every LA.
    #[arg(long, value_delimiter = ',', required = true)]
    pub la: Vec<String>,
    /// A regional caller: its LAs' measures and reports only, never child-level records.
    #[arg(long)]
    pub regional: bool,
    /// How long the token is valid: seconds, or with a unit (90s, 15m, 8h, 7d).
    #[arg(long, default_value = "1h")]
    pub ttl: String,
    /// The private key (PEM, EC P-256 or RSA) to sign with (default: the development key in the
    /// data directory).
    #[arg(long)]
    pub key: Option<PathBuf>,
    /// The key's id in the JWKS (default: the development key's).
    #[arg(long)]
    pub kid: Option<String>,
    /// The issuer (`iss`) the servers expect (default: the development issuer).
    #[arg(long)]
    pub issuer: Option<String>,
    /// The audience (`aud`) the servers expect.
    #[arg(long, env = "CSC_AUTH_AUDIENCE", default_value = token::DEFAULT_AUDIENCE)]
    pub audience: String,
    /// The data directory holding the development key (default: $CSC_DATA_DIR, else ./csc-data).
    #[arg(long)]
    pub data_dir: Option<PathBuf>,
}

/// Seconds in "90", "90s", "15m", "8h" or "7d".
fn parse_ttl(s: &str) -> anyhow::Result<u64> {
    let s = s.trim();
    let (n, unit) = match s.char_indices().find(|(_, c)| !c.is_ascii_digit()) {
        Some((i, _)) => s.split_at(i),
        None => (s, "s"),
    };
    let n: u64 = n
        .parse()
        .map_err(|_| anyhow::anyhow!("--ttl {s:?}: expected a number with s, m, h or d"))?;
    let mult = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => anyhow::bail!("--ttl {s:?}: the unit is s, m, h or d"),
    };
    anyhow::ensure!(n > 0, "--ttl must be more than zero");
    Ok(n * mult)
}

/// The claims `args` ask for, every scope and LA checked.
pub fn claims(args: &IssueArgs, issuer: &str) -> anyhow::Result<Claims> {
    let mut scope = Vec::new();
    for s in args.scope.iter().flat_map(|s| s.split_whitespace()) {
        if s == "all" {
            scope.extend(scopes::ALL.iter().map(|s| s.to_string()));
        } else if scopes::ALL.contains(&s) {
            scope.push(s.to_owned());
        } else {
            anyhow::bail!(
                "unknown scope {s:?}; the scopes are: {}",
                scopes::ALL.join(" ")
            );
        }
    }
    scope.dedup();
    for la in &args.la {
        if la != "*" {
            csc_core::LaCode::parse(la)
                .map_err(|e| anyhow::anyhow!("--la {la:?}: {e} (or \"*\" for every LA)"))?;
        }
    }
    let now = token::now();
    Ok(Claims {
        sub: args.sub.clone(),
        iss: issuer.to_owned(),
        aud: args.audience.clone().into(),
        exp: now + parse_ttl(&args.ttl)?,
        nbf: Some(now),
        iat: Some(now),
        scope,
        la: args.la.clone(),
        regional: args.regional,
    })
}

/// A signed token for `args`.
pub fn issue(args: &IssueArgs) -> anyhow::Result<String> {
    let (pem, kid, issuer) = match &args.key {
        Some(key) => (
            String::from_utf8(csc_runtime::config::read(key)?)?,
            args.kid.clone(),
            args.issuer.clone().ok_or_else(|| {
                anyhow::anyhow!("--key needs --issuer: the `iss` the servers are configured with")
            })?,
        ),
        None => {
            let dir = args
                .data_dir
                .clone()
                .unwrap_or_else(crate::default_data_dir);
            let dev = DevKey::in_dir(&dir);
            anyhow::ensure!(
                dev.exists(),
                "no development key in {} (`csc serve` makes one there); give --key, --kid and --issuer to sign with another",
                dir.display()
            );
            let kid = args
                .kid
                .clone()
                .or_else(|| token::first_kid(&std::fs::read_to_string(&dev.jwks_file).ok()?));
            (
                std::fs::read_to_string(&dev.key_file)?,
                kid,
                args.issuer
                    .clone()
                    .unwrap_or_else(|| token::DEV_ISSUER.into()),
            )
        }
    };
    token::issue(&pem, kid.as_deref(), &claims(args, &issuer)?)
}

pub fn token(cmd: TokenCommand) -> anyhow::Result<()> {
    match cmd {
        TokenCommand::Issue(args) => {
            crate::out(&format!("{}\n", issue(&args)?));
            Ok(())
        }
        TokenCommand::Scopes => {
            let guard = csc_runtime::auth::Guard::for_whole_api(csc_runtime::auth::Mode::Off);
            let mut out = String::from("method\tscopes\tchild_level\n");
            for (method, needs) in scopes::table() {
                out.push_str(&format!(
                    "{method}\t{}\t{}\n",
                    needs.join(" "),
                    guard.is_child_level(method)
                ));
            }
            crate::out(&out);
            Ok(())
        }
        TokenCommand::Keygen { out } => {
            std::fs::create_dir_all(&out)?;
            let pair = token::generate_es256()?;
            token::write_private(&out.join("signing-key.pem"), &pair.private_pem)?;
            std::fs::write(out.join("jwks.json"), token::jwks(&[pair.jwk]))?;
            crate::out(&format!(
                "{}: the signing key (keep it secret)\n{}: the JWKS the servers verify with\nkid: {}\n",
                out.join("signing-key.pem").display(),
                out.join("jwks.json").display(),
                pair.kid
            ));
            Ok(())
        }
    }
}

#[derive(Clone, Copy, Debug, clap::ValueEnum)]
pub enum AuditFormat {
    Table,
    Json,
}

#[derive(clap::Args)]
pub struct AuditArgs {
    /// The child's LA (DfE three-digit code).
    #[arg(long)]
    pub la: String,
    /// The child's id, as the LA's records carry it.
    #[arg(long)]
    pub child: String,
    /// The services whose audit logs to read (repeat; default: every domain service).
    #[arg(long, value_enum)]
    pub service: Vec<Service>,
    /// One service's database (with a single --service): a URL or a secret file; default: its
    /// SQLite file in the data directory.
    #[command(flatten)]
    pub db: DatabaseArgs,
    #[arg(long, value_enum, default_value_t = AuditFormat::Table)]
    pub format: AuditFormat,
}

/// An audit entry with the service that recorded it.
#[derive(serde::Serialize)]
struct Row {
    service: &'static str,
    #[serde(flatten)]
    entry: audit::Entry,
}

/// `csc audit`: every recorded call that touched the child, oldest first, from each service's
/// own log. It reads the databases directly: the audit log has no API.
pub async fn audit(args: AuditArgs) -> anyhow::Result<()> {
    let services = if args.service.is_empty() {
        Service::DOMAIN.to_vec()
    } else {
        args.service.clone()
    };
    anyhow::ensure!(
        services.len() == 1
            || (args.db.database_url.is_none() && args.db.database_url_file.is_none()),
        "--database-url names one service's database: give one --service with it"
    );
    anyhow::ensure!(
        services.iter().all(|s| Service::DOMAIN.contains(s)),
        "the aggregator holds no child-level records, so keeps no audit log"
    );
    let la = csc_core::LaCode::parse(&args.la)
        .map_err(|e| anyhow::anyhow!("--la {:?}: {e}", args.la))?
        .to_string();
    let mut rows = Vec::new();
    for s in services {
        let url = s.database_url(&args.db)?;
        if url.starts_with("sqlite") && !crate::serve::sqlite_file(&url).exists() {
            anyhow::bail!(
                "no {} database at {url}: give --database-url, or run where the data directory is",
                s.name()
            );
        }
        let db = csc_runtime::db::connect(&url).await?;
        for entry in audit::for_child(&db, &la, &args.child).await? {
            rows.push(Row {
                service: s.name(),
                entry,
            });
        }
    }
    rows.sort_by(|a, b| a.entry.at.cmp(&b.entry.at));
    match args.format {
        AuditFormat::Json => crate::out(&format!("{}\n", serde_json::to_string_pretty(&rows)?)),
        AuditFormat::Table => {
            let mut out = format!(
                "{} call(s) touched child {} of LA {la}\n",
                rows.len(),
                args.child
            );
            if !rows.is_empty() {
                out.push_str("time\tservice\twho\tmethod\toutcome\trequest id\n");
            }
            for r in &rows {
                let e = &r.entry;
                let method = e.method.rsplit('/').next().unwrap_or(&e.method);
                out.push_str(&format!(
                    "{}\t{}\t{}\t{}\t{}\t{}\n",
                    e.at, r.service, e.subject, method, e.outcome, e.request_id
                ));
            }
            crate::out(&out);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(scope: &[&str], la: &[&str]) -> IssueArgs {
        IssueArgs {
            sub: "analyst".into(),
            scope: scope.iter().map(|s| s.to_string()).collect(),
            la: la.iter().map(|s| s.to_string()).collect(),
            regional: false,
            ttl: "15m".into(),
            key: None,
            kid: None,
            issuer: None,
            audience: "csc".into(),
            data_dir: None,
        }
    }

    #[test]
    fn ttls_read_with_their_units() {
        assert_eq!(parse_ttl("90").unwrap(), 90);
        assert_eq!(parse_ttl("15m").unwrap(), 900);
        assert_eq!(parse_ttl("8h").unwrap(), 28_800);
        assert_eq!(parse_ttl("7d").unwrap(), 604_800);
        assert!(parse_ttl("0").is_err() && parse_ttl("1w").is_err() && parse_ttl("h").is_err());
    }

    #[test]
    fn claims_refuse_unknown_scopes_and_bad_las() {
        let c = claims(&args(&["frontdoor:read report:read"], &["885"]), "i").unwrap();
        assert_eq!(c.scope, ["frontdoor:read", "report:read"]);
        assert_eq!(c.exp - c.nbf.unwrap(), 900);
        assert_eq!(
            claims(&args(&["all"], &["*"]), "i").unwrap().scope.len(),
            scopes::ALL.len()
        );
        assert!(claims(&args(&["frontdoor:admin"], &["885"]), "i").is_err());
        assert!(claims(&args(&["admin"], &["88"]), "i").is_err());
    }
}
