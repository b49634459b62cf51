//! The server every service runs: its gRPC routes behind authentication, authorisation and
//! audit ([`crate::auth`]), TLS when configured, grpc.health.v1 (the named
//! services SERVING only while their database is reachable and migrated, NOT_SERVING as soon as
//! shutdown begins), server reflection over every package, per-method metrics, W3C trace context,
//! deliberate limits, graceful shutdown.

use std::{future::Future, pin::Pin, sync::Arc, time::Duration};

use tokio::net::TcpListener;
pub use tokio_util::sync::CancellationToken as Shutdown;
use tonic::service::Routes;
use tonic_health::ServingStatus;

use crate::auth::{AuthLayer, Guard};
use crate::config::ServerArgs;

/// Binds a server's listening socket with `SO_REUSEADDR`, so that a restarted server gets its
/// port back while connections of the last run linger in TIME-WAIT; the error names the address.
pub fn bind(addr: std::net::SocketAddr, what: &str) -> anyhow::Result<TcpListener> {
    let socket = if addr.is_ipv4() {
        tokio::net::TcpSocket::new_v4()?
    } else {
        tokio::net::TcpSocket::new_v6()?
    };
    socket.set_reuseaddr(true)?;
    socket
        .bind(addr)
        .map_err(|e| anyhow::anyhow!("cannot listen on {addr} for {what}: {e}"))?;
    Ok(socket.listen(1024)?)
}

/// Cancels `shutdown` on SIGTERM (Kubernetes) or SIGINT (Ctrl-C).
pub fn cancel_on_signal(shutdown: Shutdown) {
    tokio::spawn(async move {
        let ctrl_c = tokio::signal::ctrl_c();
        #[cfg(unix)]
        {
            let mut term =
                tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
                    .expect("install SIGTERM handler");
            tokio::select! {
                _ = ctrl_c => {},
                _ = term.recv() => {},
            }
        }
        #[cfg(not(unix))]
        let _ = ctrl_c.await;
        tracing::info!("shutdown signal received");
        shutdown.cancel();
    });
}

/// A check of what a server's readiness depends on (its database reachable, its migrations
/// applied), run at start and then every few seconds; an `Err` says what is missing.
pub type ReadyCheck =
    Box<dyn Fn() -> Pin<Box<dyn Future<Output = anyhow::Result<()>> + Send>> + Send + Sync>;

/// How often readiness is checked until the server is first ready, and after.
const READY_RETRY: Duration = Duration::from_secs(1);
const READY_RECHECK: Duration = Duration::from_secs(10);

/// Serves `routes` (one or more gRPC services) on `listener` until `shutdown` is cancelled.
///
/// Health: the server as a whole (`""`, what startup and liveness probes ask) is SERVING while
/// the process serves. Each of `service_names` (the fully qualified gRPC names, what readiness
/// probes ask) is SERVING only while `ready` passes, re-checked every 10 s, and NOT_SERVING as
/// soon as shutdown begins. Then the server keeps answering for the drain period, stops
/// accepting, and lets in-flight calls finish for at most the grace period.
pub async fn serve(
    listener: TcpListener,
    service_names: &[&str],
    routes: Routes,
    args: &ServerArgs,
    shutdown: Shutdown,
    ready: ReadyCheck,
    guard: Arc<Guard>,
) -> anyhow::Result<()> {
    guard.hold_until_ready();
    let (health_reporter, health_service) = tonic_health::server::health_reporter();
    let names: Vec<String> = service_names.iter().map(|s| s.to_string()).collect();
    health_reporter
        .set_service_status("", ServingStatus::Serving)
        .await;
    for n in &names {
        health_reporter
            .set_service_status(n, ServingStatus::NotServing)
            .await;
    }

    let reflection_v1 = tonic_reflection::server::Builder::configure()
        .register_encoded_file_descriptor_set(csc_proto::FILE_DESCRIPTOR_SET)
        .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
        .build_v1()?;
    let reflection_v1alpha = tonic_reflection::server::Builder::configure()
        .register_encoded_file_descriptor_set(csc_proto::FILE_DESCRIPTOR_SET)
        .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
        .build_v1alpha()?;

    let addr = listener.local_addr()?;
    tracing::info!(%addr, services = ?service_names, "serving");

    // One task owns the named services' status: readiness while serving, NOT_SERVING at
    // shutdown (it is a child token, so the task also ends if the server stops on its own).
    let stop = shutdown.child_token();
    let readiness = tokio::spawn(watch_readiness(
        health_reporter.clone(),
        names.clone(),
        ready,
        guard.clone(),
        stop.clone(),
    ));

    let drain = {
        let shutdown = shutdown.clone();
        let drain = args.shutdown_drain();
        async move {
            shutdown.cancelled().await;
            // Readiness goes first, so that load balancers stop sending before we stop accepting.
            let _ = readiness.await;
            tracing::info!(?drain, "not ready; draining before the listener closes");
            tokio::time::sleep(drain).await;
        }
    };

    let mut builder = tonic::transport::Server::builder();
    if let Some(tls) = args.tls.server_config()? {
        tracing::info!(
            mutual = args.tls.tls_client_ca_file.is_some(),
            "serving TLS only"
        );
        builder = builder
            .tls_config(tls)
            .map_err(|e| anyhow::anyhow!("the server's TLS configuration: {e}"))?;
    }
    let server = builder
        .max_connection_age(args.max_connection_age())
        .timeout(Duration::from_secs(args.request_timeout_secs))
        .http2_keepalive_interval(Some(Duration::from_secs(30)))
        .http2_max_header_list_size(crate::MAX_HEADER_LIST_BYTES)
        // One span per call, named by its method and joined to the caller's trace (W3C
        // `traceparent`), for logs and traces.
        .trace_fn(crate::telemetry::server_span)
        .layer(crate::metrics::MetricsLayer)
        // Authentication, scopes, LAs and audit: inside the metrics, so refusals are counted.
        .layer(AuthLayer(guard))
        .add_routes(routes)
        .add_service(health_service)
        .add_service(reflection_v1)
        .add_service(reflection_v1alpha)
        // TCP_NODELAY on every accepted connection: without it a small response waits for the
        // peer's delayed ACK (~40 ms a call, measured on the report's 32 calls).
        .serve_with_incoming_shutdown(
            tonic::transport::server::TcpIncoming::from(listener).with_nodelay(Some(true)),
            drain,
        );

    let grace = args.shutdown_grace() + args.shutdown_drain();
    tokio::pin!(server);
    let result = tokio::select! {
        r = &mut server => r.map_err(anyhow::Error::from),
        _ = after_grace(shutdown.clone(), grace) => {
            tracing::warn!(?grace, "in-flight calls did not finish within the grace period; exiting");
            Ok(())
        }
    };
    stop.cancel();
    result?;
    tracing::info!(%addr, "stopped");
    Ok(())
}

/// Sets the named services SERVING while `ready` passes and NOT_SERVING while it fails, logging
/// each change; at shutdown sets them NOT_SERVING and returns. The only writer of their status.
async fn watch_readiness(
    reporter: tonic_health::server::HealthReporter,
    names: Vec<String>,
    ready: ReadyCheck,
    guard: Arc<Guard>,
    stop: Shutdown,
) {
    let mut was_ready = None;
    loop {
        let result = tokio::select! {
            r = ready() => Some(r),
            _ = stop.cancelled() => None,
        };
        let Some(result) = result else { break };
        let now_ready = result.is_ok();
        if now_ready {
            guard.mark_ready();
        }
        if was_ready != Some(now_ready) {
            match &result {
                Ok(()) => tracing::info!(services = ?names, "ready"),
                Err(e) => {
                    tracing::warn!(services = ?names, reason = %format!("{e:#}"), "not ready")
                }
            }
            let status = if now_ready {
                ServingStatus::Serving
            } else {
                ServingStatus::NotServing
            };
            for n in &names {
                reporter.set_service_status(n, status).await;
            }
            was_ready = Some(now_ready);
        }
        let pause = if now_ready {
            READY_RECHECK
        } else {
            READY_RETRY
        };
        tokio::select! {
            _ = tokio::time::sleep(pause) => {},
            _ = stop.cancelled() => break,
        }
    }
    for n in &names {
        reporter
            .set_service_status(n, ServingStatus::NotServing)
            .await;
    }
}

async fn after_grace(shutdown: Shutdown, grace: Duration) {
    shutdown.cancelled().await;
    tokio::time::sleep(grace).await;
}

#[cfg(test)]
mod tests {
    use std::sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    };

    use tonic_health::{
        pb::{HealthCheckRequest, health_server::Health},
        server::{HealthReporter, HealthService},
    };

    use super::*;

    const NAME: &str = "csc.test.v1.TestService";

    async fn status(health: &HealthService) -> i32 {
        health
            .check(tonic::Request::new(HealthCheckRequest {
                service: NAME.into(),
            }))
            .await
            .unwrap()
            .into_inner()
            .status
    }

    /// Readiness follows the check both ways (a database that goes away makes the service
    /// NOT_SERVING at the next re-check, and it comes back), and ends NOT_SERVING at shutdown
    /// whatever the check says. Time is paused: the 1 s and 10 s pauses pass at once.
    #[tokio::test(start_paused = true)]
    async fn readiness_follows_the_check_and_ends_not_serving() {
        let reporter = HealthReporter::new();
        let health = HealthService::from_health_reporter(reporter.clone());
        let ok = Arc::new(AtomicBool::new(false));
        let check: ReadyCheck = {
            let ok = ok.clone();
            Box::new(move || {
                let ok = ok.load(Ordering::SeqCst);
                Box::pin(async move {
                    if ok {
                        Ok(())
                    } else {
                        anyhow::bail!("database unreachable")
                    }
                })
            })
        };
        let stop = Shutdown::new();
        let guard = Arc::new(Guard::for_whole_api(crate::auth::Mode::Off));
        guard.hold_until_ready();
        let task = tokio::spawn(watch_readiness(
            reporter,
            vec![NAME.into()],
            check,
            guard.clone(),
            stop.clone(),
        ));
        let serving = ServingStatus::Serving as i32;
        let not_serving = ServingStatus::NotServing as i32;

        tokio::time::sleep(Duration::from_millis(100)).await;
        assert_eq!(status(&health).await, not_serving);
        assert!(!guard.serves_calls(), "calls wait for the first readiness");

        ok.store(true, Ordering::SeqCst);
        tokio::time::sleep(READY_RETRY + Duration::from_millis(100)).await;
        assert_eq!(status(&health).await, serving);
        assert!(guard.serves_calls());

        ok.store(false, Ordering::SeqCst);
        tokio::time::sleep(READY_RECHECK + Duration::from_millis(100)).await;
        assert_eq!(status(&health).await, not_serving, "the outage is noticed");
        assert!(
            guard.serves_calls(),
            "once started, calls are served through an outage (they say what fails themselves)"
        );

        ok.store(true, Ordering::SeqCst);
        tokio::time::sleep(READY_RETRY + Duration::from_millis(100)).await;
        assert_eq!(status(&health).await, serving, "and its end");

        stop.cancel();
        task.await.unwrap();
        assert_eq!(status(&health).await, not_serving, "shutdown wins");
    }
}
