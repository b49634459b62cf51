//! Authentication, authorisation and audit, in front of every RPC of every server.
//!
//! [`crate::server::serve`] puts [`layer::AuthLayer`] in front of every service's routes, so a
//! service (and any added later) gets all of it without a line of its own:
//! - every call but the health checks needs a bearer JWT, verified against a JWKS
//!   ([`token::Verifier`]): in production the council's identity provider's keys
//!   (`CSC_AUTH_JWKS_FILE`), in development a key `csc serve` makes in the data directory;
//! - each method needs the scopes of its row in [`scopes::table`], read from the `.proto` files;
//! - every `la_code` a call sends or gets back must be one of the token's `la` claim;
//! - child-level calls are closed to regional callers and written to the audit log
//!   ([`crate::audit`]).
//!
//! Running without any of it takes an explicit `--insecure-no-auth`, warned about at every start.

pub mod layer;
pub mod scopes;
pub mod token;

use std::{path::Path, sync::Arc};

pub use layer::{AuthLayer, Guard};
pub use token::{Claims, Verifier};

use crate::config::AuthArgs;

/// The suite's API as described by its own `.proto` files (the descriptor set compiled into the
/// binary), decoded once per process: the guard reads each method's messages from it, and
/// [`scopes`] each method's scopes.
pub fn api_descriptors() -> &'static prost_reflect::DescriptorPool {
    static POOL: std::sync::OnceLock<prost_reflect::DescriptorPool> = std::sync::OnceLock::new();
    POOL.get_or_init(|| {
        prost_reflect::DescriptorPool::decode(csc_proto::FILE_DESCRIPTOR_SET)
            .expect("the suite's own descriptor set decodes")
    })
}

/// How a server checks its callers.
#[derive(Debug)]
pub enum Mode {
    /// Every call admitted, as whoever: only with `--insecure-no-auth`.
    Off,
    /// Bearer JWTs verified against a JWKS.
    Verify(Verifier),
}

impl Mode {
    /// The mode `args` ask for. Without a JWKS, the development key in `dev_key_dir` (made if
    /// missing) when there is one; otherwise an error that says what to configure.
    pub fn from_args(args: &AuthArgs, dev_key_dir: Option<&Path>) -> anyhow::Result<Mode> {
        if args.insecure_no_auth {
            tracing::warn!(
                "AUTHENTICATION IS OFF (--insecure-no-auth): every call is admitted, from anyone, \
                 for any LA, and audited as '-'. Never run a server holding children's records \
                 like this outside a closed test bench."
            );
            return Ok(Mode::Off);
        }
        if let Some(jwks) = &args.auth_jwks_file {
            let issuer = args.auth_issuer.as_deref().ok_or_else(|| {
                anyhow::anyhow!(
                    "--auth-jwks-file needs --auth-issuer (CSC_AUTH_ISSUER): the `iss` tokens must name"
                )
            })?;
            let v = Verifier::from_file(jwks, issuer, &args.auth_audience)?;
            tracing::info!(jwks = %jwks.display(), issuer, audience = %args.auth_audience, "bearer tokens verified against the JWKS");
            return Ok(Mode::Verify(v));
        }
        let Some(dir) = dev_key_dir else {
            anyhow::bail!(
                "no JWKS configured: set --auth-jwks-file and --auth-issuer (CSC_AUTH_JWKS_FILE, \
                 CSC_AUTH_ISSUER), or run with --insecure-no-auth on a closed test bench"
            );
        };
        let dev = token::DevKey::in_dir(dir);
        dev.ensure()?;
        let issuer = args.auth_issuer.as_deref().unwrap_or(token::DEV_ISSUER);
        // Said once per key: `csc serve all` (and the demo) verify five services' tokens
        // against the same key, and one warning says it.
        static WARNED: std::sync::Mutex<Vec<std::path::PathBuf>> =
            std::sync::Mutex::new(Vec::new());
        let mut warned = WARNED
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if !warned.contains(&dev.key_file) {
            warned.push(dev.key_file.clone());
            tracing::warn!(
                key = %dev.key_file.display(),
                "bearer tokens verified against the DEVELOPMENT key in the data directory; \
                 production configures CSC_AUTH_JWKS_FILE with the council's identity provider's keys"
            );
        }
        Ok(Mode::Verify(Verifier::from_file(
            &dev.jwks_file,
            issuer,
            &args.auth_audience,
        )?))
    }
}

/// The caller of the call being served: its token (to relay) and what the token says.
#[derive(Debug, Clone, Default)]
pub struct Caller {
    pub token: Option<String>,
    pub claims: Option<Arc<Claims>>,
}

tokio::task_local! {
    static CALLER: Caller;
}

/// The caller of the call this task is serving, if any.
pub fn caller() -> Option<Caller> {
    CALLER.try_with(|c| c.clone()).ok()
}

/// The subject (who) of the call this task is serving, when it came with a token.
pub fn caller_subject() -> Option<String> {
    caller().and_then(|c| c.claims.map(|c| c.sub.clone()))
}

/// Adds the caller's own bearer token to a call made on its behalf (the aggregator asking a
/// service for measures), so that service checks the caller's scopes and LAs itself.
pub fn relay(metadata: &mut tonic::metadata::MetadataMap) {
    if let Some(token) = caller().and_then(|c| c.token)
        && let Ok(v) = format!("Bearer {token}").parse()
    {
        metadata.insert("authorization", v);
    }
}
