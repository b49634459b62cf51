//! The CLI's connections to the services: a channel per service (TLS when configured, every call
//! carrying the bearer token), a typed client for each, errors described for people, and the one
//! way a call is tried again.

use std::time::{Duration, Instant};

use csc_proto::{
    finance::finance_service_client::FinanceServiceClient,
    frontdoor::front_door_service_client::FrontDoorServiceClient,
    placements::placements_service_client::PlacementsServiceClient,
    protection::protection_service_client::ProtectionServiceClient,
    reporting::reporting_service_client::ReportingServiceClient,
};
use csc_runtime::client::AuthChannel;
use tonic::{Code, Status};
use tonic_types::StatusExt;

pub type FrontDoorClient = FrontDoorServiceClient<AuthChannel>;
pub type FinanceClient = FinanceServiceClient<AuthChannel>;
pub type ProtectionClient = ProtectionServiceClient<AuthChannel>;
pub type PlacementsClient = PlacementsServiceClient<AuthChannel>;
pub type ReportingClient = ReportingServiceClient<AuthChannel>;

/// A channel to a service, over TLS when configured, its calls carrying the bearer token
/// (`csc_runtime::client`).
pub async fn channel(addr: &str, service: &str) -> anyhow::Result<AuthChannel> {
    let channel = csc_runtime::client::endpoint(addr)?
        .connect_timeout(Duration::from_secs(10))
        .connect()
        .await
        .map_err(|e| unreachable(service, addr, &e))?;
    Ok(csc_runtime::client::with_token(channel))
}

/// Why a service could not be reached, with its cause, and what to do: start the suite, or
/// point at it.
fn unreachable(service: &str, addr: &str, e: &tonic::transport::Error) -> anyhow::Error {
    let mut cause = String::new();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        cause = s.to_string();
        source = s.source();
    }
    // By the name a caller gives: a person's ("front door") or the service's ("frontdoor").
    let (flag, env) = match service {
        "front door" | "frontdoor" => ("--frontdoor", "CSC_FRONTDOOR_ADDR"),
        "child protection" | "protection" => ("--protection", "CSC_PROTECTION_ADDR"),
        "looked-after children" | "placements" => ("--placements", "CSC_PLACEMENTS_ADDR"),
        "finance" => ("--finance", "CSC_FINANCE_ADDR"),
        "intake" => ("--intake", "CSC_INTAKE_ADDR"),
        _ => ("--aggregator", "CSC_AGGREGATOR_ADDR"),
    };
    anyhow::anyhow!(
        "cannot reach the {service} service at {addr}{}.\n  Is the suite running? Start it with \
         `csc serve all` (every service on this machine), or give the service's address with \
         {flag} ADDR or {env}.",
        if cause.is_empty() {
            String::new()
        } else {
            format!(" ({cause})")
        }
    )
}

/// A typed client over [`channel`], with the suite's message limits.
macro_rules! connect {
    ($name:ident, $client:ident, $service:literal) => {
        #[doc = concat!("A client of the ", $service, " service.")]
        pub async fn $name(addr: &str) -> anyhow::Result<$client> {
            Ok($client::new(channel(addr, $service).await?)
                .max_decoding_message_size(csc_runtime::MAX_MESSAGE_BYTES)
                .max_encoding_message_size(csc_runtime::MAX_MESSAGE_BYTES))
        }
    };
}

connect!(connect_frontdoor, FrontDoorClient, "front door");
connect!(connect_protection, ProtectionClient, "child protection");
connect!(
    connect_placements,
    PlacementsClient,
    "looked-after children"
);
connect!(connect_finance, FinanceClient, "finance");
connect!(connect_reporting, ReportingClient, "reporting (aggregator)");

/// `client`, connected by `connect` on its first use and kept for later ones: an import connects
/// only to the services its file has records for.
pub async fn on_first_use<C, F>(
    client: &mut Option<C>,
    connect: impl FnOnce() -> F,
) -> anyhow::Result<&mut C>
where
    F: std::future::Future<Output = anyhow::Result<C>>,
{
    if client.is_none() {
        *client = Some(connect().await?);
    }
    Ok(client.as_mut().expect("just connected"))
}

/// A gRPC error as a person should read it, with its field violations and failed preconditions;
/// a broken connection is called a transport error, with its cause, not "Unknown".
pub fn describe_status(s: Status) -> anyhow::Error {
    if is_transport(&s) {
        let mut msg = format!("transport error: {}", s.message());
        let mut source = std::error::Error::source(&s);
        while let Some(e) = source {
            msg.push_str(&format!(": {e}"));
            source = e.source();
        }
        return anyhow::anyhow!(msg);
    }
    let mut msg = format!("{:?}: {}", s.code(), s.message());
    if s.code() == Code::Unauthenticated {
        msg.push_str("\n  ");
        msg.push_str(&csc_runtime::client::token_source());
    }
    if let Some(br) = s.get_details_bad_request() {
        for v in br.field_violations {
            msg.push_str(&format!("\n  {}: {}", v.field, v.description));
        }
    }
    if let Some(pf) = s.get_details_precondition_failure() {
        for v in pf.violations {
            msg.push_str(&format!("\n  {}: {}", v.subject, v.description));
        }
    }
    anyhow::anyhow!(msg)
}

/// Codes worth another try of the same call: it either did not happen, or (a batch with the same
/// request id) happened and its replay is answered "unchanged". A transport failure (the
/// connection dropped mid-call) is one too.
pub fn retryable(s: &Status) -> bool {
    matches!(
        s.code(),
        Code::Unavailable | Code::ResourceExhausted | Code::Aborted | Code::DeadlineExceeded
    ) || is_transport(s)
}

/// A status the client made from a broken connection, not one the service sent: tonic gives
/// those code Unknown with the transport error as their source.
fn is_transport(s: &Status) -> bool {
    s.code() == Code::Unknown && std::error::Error::source(s).is_some()
}

/// How long a call is tried again, and the longest wait between two tries.
#[derive(Debug, Clone, Copy)]
pub struct Retry {
    pub give_up_after: Duration,
    pub max_wait: Duration,
}

impl Retry {
    /// A batch of an import, while its service restarts, upgrades or sheds load: two minutes.
    pub const IMPORT: Retry = Retry {
        give_up_after: Duration::from_secs(120),
        max_wait: Duration::from_secs(10),
    };
    /// A reporting call, while the aggregator starts or its database is busy: 30 seconds.
    pub const REPORT: Retry = Retry {
        give_up_after: Duration::from_secs(30),
        max_wait: Duration::from_secs(5),
    };
}

/// `call`, again while it answers a [`retryable`] code, for at most `retry.give_up_after`: waiting
/// as the answer's RetryInfo asks, else 200 ms doubling up to `retry.max_wait`, each wait drawn
/// from its upper half so that many clients do not retry in step. `what` names the call in the
/// log line of each retry.
pub async fn retrying<T, F>(
    retry: Retry,
    what: &str,
    mut call: impl FnMut() -> F,
) -> Result<T, Status>
where
    F: Future<Output = Result<T, Status>>,
{
    let started = Instant::now();
    let mut backoff = Duration::from_millis(200);
    let mut attempt = 0u32;
    loop {
        match call().await {
            Err(s) if retryable(&s) && started.elapsed() < retry.give_up_after => {
                attempt += 1;
                // A v4 uuid's random bits: no generator to seed for a few waits.
                let fraction = (uuid::Uuid::new_v4().as_u128() % 1024) as f64 / 1024.0;
                let wait = s
                    .get_details_retry_info()
                    .and_then(|r| r.retry_delay)
                    .unwrap_or_else(|| backoff.mul_f64(0.5 + fraction / 2.0));
                tracing::warn!(code = ?s.code(), message = s.message(), attempt, ?wait, "retrying {what}");
                tokio::time::sleep(wait).await;
                backoff = (backoff * 2).min(retry.max_wait);
            }
            r => return r,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A service that cannot be reached is named with its address and cause, and the message
    /// says how to start the suite and which flag and variable give the address.
    #[tokio::test]
    async fn an_unreachable_service_says_how_to_start_or_find_it() {
        for (name, flag) in [
            ("frontdoor", "--frontdoor"),
            ("reporting (aggregator)", "--aggregator"),
        ] {
            let Err(e) = channel("127.0.0.1:1", name).await else {
                panic!("nothing listens on port 1");
            };
            let msg = format!("{e:#}");
            assert!(msg.contains("at 127.0.0.1:1 ("), "{msg}");
            assert!(msg.contains("csc serve all") && msg.contains(flag), "{msg}");
        }
    }
    use std::sync::atomic::{AtomicU32, Ordering};

    #[tokio::test]
    async fn a_retryable_answer_is_tried_again_and_any_other_is_returned() {
        let calls = AtomicU32::new(0);
        let quick = Retry {
            give_up_after: Duration::from_secs(5),
            max_wait: Duration::from_millis(1),
        };
        let r = retrying(quick, "test", || async {
            match calls.fetch_add(1, Ordering::SeqCst) {
                0 => Err(Status::unavailable("starting")),
                1 => {
                    let mut d = tonic_types::ErrorDetails::new();
                    d.set_retry_info(Some(Duration::from_millis(1)));
                    Err(Status::with_error_details(Code::Aborted, "conflict", d))
                }
                _ => Ok(7),
            }
        })
        .await;
        assert_eq!(r.unwrap(), 7);
        assert_eq!(calls.load(Ordering::SeqCst), 3);

        let calls = AtomicU32::new(0);
        let r: Result<(), _> = retrying(quick, "test", || async {
            calls.fetch_add(1, Ordering::SeqCst);
            Err(Status::invalid_argument("bad"))
        })
        .await;
        assert_eq!(r.unwrap_err().code(), Code::InvalidArgument);
        assert_eq!(calls.load(Ordering::SeqCst), 1, "a refusal is not retried");
    }

    #[tokio::test]
    async fn retrying_gives_up_after_its_time() {
        let give_up = Retry {
            give_up_after: Duration::from_millis(30),
            max_wait: Duration::from_millis(5),
        };
        let r: Result<(), _> = retrying(give_up, "test", || async {
            Err(Status::unavailable("down"))
        })
        .await;
        assert_eq!(r.unwrap_err().code(), Code::Unavailable);
    }
}
