//! Fetching the domain services' measures for a report: every service, every period of the
//! trend, concurrently, each call with a deadline and a bounded number of retries of
//! UNAVAILABLE. A service that does not answer for the report's own period is reported as
//! unavailable; the report still comes out without it.

use std::{collections::HashMap, future::Future, time::Duration};

use chrono::NaiveDate;

use csc_core::{Measure, Period};
use csc_proto::{
    common::{ComputeMeasureSeriesRequest, Coverage, GetCoverageRequest},
    finance::finance_service_client::FinanceServiceClient,
    frontdoor::front_door_service_client::FrontDoorServiceClient,
    placements::placements_service_client::PlacementsServiceClient,
    protection::protection_service_client::ProtectionServiceClient,
};
use csc_runtime::convert::measure_from_proto;
use tonic::{Code, Status, transport::Channel};
use tracing::Instrument as _;

use crate::domain::coverage::{Held, ImportHeld, KindHeld};
use crate::domain::{compose::PeriodMeasures, sections::Upstream};

/// How the aggregator calls the domain services.
#[derive(Debug, Clone)]
pub struct UpstreamConfig {
    /// Address (`host:port` or a URL) of each service.
    pub addrs: HashMap<Upstream, String>,
    /// Deadline of one `ComputeMeasures` call.
    pub deadline: Duration,
    /// Attempts per call when the service answers UNAVAILABLE (1 = no retry).
    pub attempts: u32,
    /// TLS (mutual, with the aggregator's own certificate) for the calls, when configured.
    pub tls: Option<tonic::transport::ClientTlsConfig>,
}

impl UpstreamConfig {
    pub fn new(addrs: HashMap<Upstream, String>) -> Self {
        UpstreamConfig {
            addrs,
            deadline: Duration::from_secs(30),
            attempts: 3,
            tls: None,
        }
    }
}

/// Lazily connected channels to every service: the aggregator starts, and answers, whether or
/// not they are up.
#[derive(Debug, Clone)]
pub struct Upstreams {
    channels: HashMap<Upstream, Channel>,
    config: UpstreamConfig,
}

impl Upstreams {
    pub fn new(config: UpstreamConfig) -> anyhow::Result<Self> {
        let mut channels = HashMap::new();
        for (service, addr) in &config.addrs {
            let endpoint = csc_runtime::client::endpoint_with(addr, config.tls.clone())
                .map_err(|e| anyhow::anyhow!("the {} address: {e}", service.name()))?
                .connect_timeout(Duration::from_secs(2))
                // The deadline, enforced here; each request also carries it to the service.
                .timeout(config.deadline)
                .tcp_nodelay(true);
            channels.insert(*service, endpoint.connect_lazy());
        }
        Ok(Upstreams { channels, config })
    }

    /// One service's measures for `periods`, in their order: one `ComputeMeasureSeries` call,
    /// the service reading its records once for all of them.
    async fn call_once(
        &self,
        service: Upstream,
        la: &str,
        periods: &[Period],
    ) -> Result<Vec<Vec<Measure>>, Status> {
        let channel = self
            .channels
            .get(&service)
            .cloned()
            .ok_or_else(|| Status::unavailable("no address configured"))?;
        let mut req = tonic::Request::new(ComputeMeasureSeriesRequest {
            la_code: la.to_owned(),
            periods: periods.iter().map(Period::id).collect(),
        });
        req.set_timeout(self.config.deadline);
        csc_runtime::telemetry::inject(req.metadata_mut());
        // The caller's own token: each service checks the caller's scopes and LAs itself.
        csc_runtime::auth::relay(req.metadata_mut());
        let max = csc_runtime::MAX_MESSAGE_BYTES;
        let resp = match service {
            Upstream::Frontdoor => {
                FrontDoorServiceClient::new(channel)
                    .max_decoding_message_size(max)
                    .compute_measure_series(req)
                    .await
            }
            Upstream::Protection => {
                ProtectionServiceClient::new(channel)
                    .max_decoding_message_size(max)
                    .compute_measure_series(req)
                    .await
            }
            Upstream::Placements => {
                PlacementsServiceClient::new(channel)
                    .max_decoding_message_size(max)
                    .compute_measure_series(req)
                    .await
            }
            Upstream::Finance => {
                FinanceServiceClient::new(channel)
                    .max_decoding_message_size(max)
                    .compute_measure_series(req)
                    .await
            }
        }?
        .into_inner();
        if resp.periods.len() != periods.len() {
            return Err(Status::internal(format!(
                "asked for {} periods, answered {}",
                periods.len(),
                resp.periods.len()
            )));
        }
        Ok(resp
            .periods
            .iter()
            .map(|p| p.measures.iter().map(measure_from_proto).collect())
            .collect())
    }

    /// What one service holds for the LA (its `GetCoverage`).
    async fn coverage_once(&self, service: Upstream, la: &str) -> Result<Coverage, Status> {
        let channel = self
            .channels
            .get(&service)
            .cloned()
            .ok_or_else(|| Status::unavailable("no address configured"))?;
        let mut req = tonic::Request::new(GetCoverageRequest {
            la_code: la.to_owned(),
        });
        req.set_timeout(self.config.deadline);
        csc_runtime::telemetry::inject(req.metadata_mut());
        csc_runtime::auth::relay(req.metadata_mut());
        let resp = match service {
            Upstream::Frontdoor => FrontDoorServiceClient::new(channel).get_coverage(req).await,
            Upstream::Protection => {
                ProtectionServiceClient::new(channel)
                    .get_coverage(req)
                    .await
            }
            Upstream::Placements => {
                PlacementsServiceClient::new(channel)
                    .get_coverage(req)
                    .await
            }
            Upstream::Finance => FinanceServiceClient::new(channel).get_coverage(req).await,
        }?;
        Ok(resp.into_inner())
    }

    /// One service's measures for `periods` (in their order), retrying UNAVAILABLE with a
    /// growing pause.
    pub async fn compute(
        &self,
        service: Upstream,
        la: &str,
        periods: &[Period],
    ) -> Result<Vec<Vec<Measure>>, String> {
        let label = match periods {
            [one] => one.id(),
            [first, .., last] => format!("{first}..{last}"),
            [] => return Ok(Vec::new()),
        };
        self.retrying(service, "ComputeMeasureSeries", &label, || {
            self.call_once(service, la, periods)
        })
        .await
    }

    /// What one service holds for the LA, retrying UNAVAILABLE like [`Upstreams::compute`].
    pub async fn coverage(&self, service: Upstream, la: &str) -> Result<Held, String> {
        self.coverage_as_sent(service, la)
            .await
            .map(held_from_proto)
    }

    /// [`Upstreams::coverage`] as the service sent it.
    pub async fn coverage_as_sent(&self, service: Upstream, la: &str) -> Result<Coverage, String> {
        self.retrying(service, "GetCoverage", "", || {
            self.coverage_once(service, la)
        })
        .await
    }

    /// `call`, retried on UNAVAILABLE with a growing pause; the last error as a reason.
    async fn retrying<T, F: Future<Output = Result<T, Status>>>(
        &self,
        service: Upstream,
        method: &str,
        period: &str,
        call: impl Fn() -> F,
    ) -> Result<T, String> {
        let mut pause = Duration::from_millis(100);
        let mut attempt = 1;
        loop {
            // A client span per attempt, carried to the service as its trace context.
            let span = tracing::info_span!(
                "upstream_call",
                otel.name = %format!("{}/{method}", service.name()),
                otel.kind = "client",
                period,
                attempt,
            );
            match call().instrument(span).await {
                Ok(ms) => return Ok(ms),
                Err(s) if s.code() == Code::Unavailable && attempt < self.config.attempts => {
                    tracing::debug!(service = service.name(), attempt, error = %s.message(), "retrying");
                    tokio::time::sleep(pause).await;
                    pause *= 2;
                    attempt += 1;
                }
                Err(s) => {
                    return Err(format!("{:?}: {}", s.code(), s.message()));
                }
            }
        }
    }

    /// The services' measures for `periods` (aligned with them), one series call per service,
    /// all at once; the services that did not answer, with the reason
    /// (a service that answers answers for every period asked, or for none); and what each
    /// service that answered holds for the LA. Periods the LA's code was not in use for (before
    /// a reorganisation made it, after one retired it) are not asked for.
    pub async fn fetch_all(&self, la: &str, periods: &[Period]) -> Fetched {
        let code = csc_core::LaCode::parse(la).ok();
        let served = |p: &Period| code.is_none_or(|c| c.check_period(p.start(), p.end()).is_ok());
        let asked: Vec<usize> = (0..periods.len())
            .filter(|&i| served(&periods[i]))
            .collect();
        let asked = &asked;
        let calls = Upstream::ALL.iter().map(|&service| {
            let asked = asked.clone();
            async move {
                let ps: Vec<Period> = asked.iter().map(|&i| periods[i]).collect();
                (service, asked, self.compute(service, la, &ps).await)
            }
        });
        let coverage = futures::future::join_all(
            Upstream::ALL
                .iter()
                .map(|&service| async move { (service, self.coverage(service, la).await) }),
        );
        let (results, coverage) = futures::join!(futures::future::join_all(calls), coverage);
        let mut measures = vec![PeriodMeasures::default(); periods.len()];
        let mut unavailable = HashMap::new();
        for (service, asked, result) in results {
            match result {
                Ok(series) => {
                    for (i, ms) in asked.into_iter().zip(series) {
                        measures[i].by_service.insert(service, ms);
                    }
                }
                Err(reason) => {
                    tracing::warn!(service = service.name(), %reason, "service unavailable for the report");
                    unavailable.insert(service, reason);
                }
            }
        }
        let mut held = HashMap::new();
        for (service, c) in coverage {
            match c {
                Ok(h) => {
                    held.insert(service, h);
                }
                Err(reason) if !unavailable.contains_key(&service) => {
                    tracing::warn!(service = service.name(), %reason, "no coverage from the service");
                }
                Err(_) => {}
            }
        }
        Fetched {
            measures,
            unavailable,
            held,
        }
    }
}

/// What [`Upstreams::fetch_all`] brings back.
#[derive(Debug, Default)]
pub struct Fetched {
    pub measures: Vec<PeriodMeasures>,
    pub unavailable: HashMap<Upstream, String>,
    pub held: HashMap<Upstream, Held>,
}

/// A `GetCoverage` answer as the report reads it; dates that do not parse are left out.
pub fn held_from_proto(c: Coverage) -> Held {
    let date = |s: &str| s.parse::<NaiveDate>().ok();
    Held {
        kinds: c
            .kinds
            .into_iter()
            .map(|k| KindHeld {
                earliest: date(&k.earliest),
                latest: date(&k.latest),
                kind: k.kind,
                records: k.records,
            })
            .collect(),
        imports: c
            .imports
            .into_iter()
            .map(|i| ImportHeld {
                return_year: (i.return_year != 0).then_some(i.return_year),
                covers_from: date(&i.covers_from),
                covers_to: date(&i.covers_to),
                source: i.source,
                file: i.file,
                imported_at: i.imported_at,
                accepted: i.accepted,
                refused: i.refused,
            })
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An address nothing listens on: every call is refused, which gRPC reports as UNAVAILABLE.
    async fn closed_addr() -> String {
        let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = l.local_addr().unwrap().to_string();
        drop(l);
        addr
    }

    fn upstreams(addr: &str, attempts: u32) -> Upstreams {
        let mut config =
            UpstreamConfig::new([(Upstream::Finance, addr.to_owned())].into_iter().collect());
        config.attempts = attempts;
        config.deadline = Duration::from_secs(5);
        Upstreams::new(config).unwrap()
    }

    #[tokio::test]
    async fn unavailable_is_retried_a_bounded_number_of_times_then_reported() {
        let addr = closed_addr().await;
        let p: Period = "2018-19-Q1".parse().unwrap();
        let started = std::time::Instant::now();
        let e = upstreams(&addr, 3)
            .compute(Upstream::Finance, "885", &[p])
            .await
            .unwrap_err();
        assert!(e.starts_with("Unavailable"), "{e}");
        // Two pauses before the second and third attempts: 100 ms, then 200 ms.
        assert!(started.elapsed() >= Duration::from_millis(300));
    }

    #[tokio::test]
    async fn a_service_that_does_not_answer_makes_only_its_sections_unavailable() {
        let addr = closed_addr().await;
        let periods = crate::domain::compose::trend_periods(&"2018-19-Q1".parse().unwrap());
        let f = upstreams(&addr, 1).fetch_all("885", &periods).await;
        // Only finance is configured: it is unavailable, and no period has measures from it.
        assert_eq!(f.unavailable.len(), 4, "{:?}", f.unavailable);
        assert!(f.unavailable[&Upstream::Finance].starts_with("Unavailable"));
        assert!(f.measures.iter().all(|m| m.by_service.is_empty()));
        assert!(
            f.held.is_empty(),
            "no coverage from a service that does not answer"
        );
    }
}
