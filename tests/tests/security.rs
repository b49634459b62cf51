//! Mutual TLS, end to end: the domain services serve TLS only and require a client certificate
//! from the council's CA; the aggregator calls them with its own. Certificates are made here
//! (rcgen), as a council's CA would issue them. Authentication is off in these servers so that
//! only TLS is under test (tests/python/test_auth.py covers tokens).

use std::{path::Path, time::Duration};

use csc::serve::Service;
use csc_proto::reporting as rpb;
use csc_runtime::{Shutdown, config::ServerArgs};
use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
};
use tokio::net::TcpListener;
use tonic::transport::{Certificate, ClientTlsConfig, Identity};

struct Pki {
    dir: tempfile::TempDir,
}

impl Pki {
    /// A CA with a server certificate (localhost, 127.0.0.1) and a client certificate, and a
    /// second CA nobody trusts with a client certificate of its own.
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let write = |name: &str, text: String| std::fs::write(dir.path().join(name), text).unwrap();
        for (prefix, cn) in [("", "council CA"), ("rogue-", "rogue CA")] {
            let ca_key = KeyPair::generate().unwrap();
            let mut ca = CertificateParams::new(Vec::<String>::new()).unwrap();
            ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
            ca.distinguished_name.push(DnType::CommonName, cn);
            write(
                &format!("{prefix}ca.pem"),
                ca.self_signed(&ca_key).unwrap().pem(),
            );
            let issuer = Issuer::new(ca, ca_key);
            let mut leaves = vec![("client", vec!["aggregator".to_owned()])];
            if prefix.is_empty() {
                leaves.push(("server", vec!["localhost".into(), "127.0.0.1".into()]));
            }
            for (leaf, names) in leaves {
                let key = KeyPair::generate().unwrap();
                let mut p = CertificateParams::new(names).unwrap();
                p.extended_key_usages = vec![if leaf == "server" {
                    ExtendedKeyUsagePurpose::ServerAuth
                } else {
                    ExtendedKeyUsagePurpose::ClientAuth
                }];
                write(
                    &format!("{prefix}{leaf}.pem"),
                    p.signed_by(&key, &issuer).unwrap().pem(),
                );
                write(&format!("{prefix}{leaf}-key.pem"), key.serialize_pem());
            }
        }
        Pki { dir }
    }

    fn path(&self, name: &str) -> std::path::PathBuf {
        self.dir.path().join(name)
    }

    fn read(&self, name: &str) -> String {
        std::fs::read_to_string(self.path(name)).unwrap()
    }

    /// A server that speaks only TLS and requires a client certificate from the council CA.
    fn server_args(&self) -> ServerArgs {
        let mut a = ServerArgs::default();
        a.auth.insecure_no_auth = true;
        a.tls.tls_cert_file = Some(self.path("server.pem"));
        a.tls.tls_key_file = Some(self.path("server-key.pem"));
        a.tls.tls_client_ca_file = Some(self.path("ca.pem"));
        a
    }

    /// A client trusting the council CA, presenting `identity` (`client` or `rogue-client`).
    fn client(&self, identity: Option<&str>) -> ClientTlsConfig {
        let mut c =
            ClientTlsConfig::new().ca_certificate(Certificate::from_pem(self.read("ca.pem")));
        if let Some(id) = identity {
            c = c.identity(Identity::from_pem(
                self.read(&format!("{id}.pem")),
                self.read(&format!("{id}-key.pem")),
            ));
        }
        c
    }
}

async fn start(
    service: Service,
    dir: &Path,
    args: ServerArgs,
    addrs: &csc::ClientAddrs,
) -> (String, Shutdown) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let shutdown = Shutdown::new();
    let url = csc_runtime::db::sqlite_url_in(dir, service.name());
    let (s, a) = (shutdown.clone(), addrs.clone());
    tokio::spawn(async move { csc::serve::run(service, listener, &url, &args, &a, s).await });
    (addr, shutdown)
}

/// Whether a health check over `tls` succeeds, retried while the server starts.
async fn healthy(addr: &str, tls: Option<ClientTlsConfig>, name: &str) -> Result<bool, String> {
    use tonic_health::pb::{HealthCheckRequest, health_client::HealthClient};
    let mut last = String::new();
    for _ in 0..100 {
        let endpoint = csc_runtime::client::endpoint_with(addr, tls.clone()).unwrap();
        match endpoint.connect().await {
            Ok(ch) => {
                match HealthClient::new(ch)
                    .check(HealthCheckRequest {
                        service: name.into(),
                    })
                    .await
                {
                    Ok(r) if r.get_ref().status == 1 => return Ok(true),
                    Ok(_) => last = "not serving".into(),
                    Err(e) => last = format!("{e}"),
                }
            }
            Err(e) => last = format!("{e:?}"),
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Err(last)
}

#[tokio::test]
async fn domain_services_serve_mutual_tls_only_and_the_aggregator_calls_them_with_its_certificate()
{
    let pki = Pki::new();
    let data = tempfile::tempdir().unwrap();
    let mut addrs = csc::ClientAddrs::default();
    let mut stops = Vec::new();
    for s in Service::DOMAIN {
        let (addr, stop) = start(s, data.path(), pki.server_args(), &addrs).await;
        addrs.set(s, addr);
        stops.push(stop);
    }
    let fd = addrs.frontdoor.clone();
    let name = Service::Frontdoor.grpc_name();
    assert_eq!(
        healthy(&fd, Some(pki.client(Some("client"))), name).await,
        Ok(true)
    );

    // No certificate, a certificate from another CA, or no TLS at all: no conversation.
    for (what, tls) in [
        ("no client certificate", Some(pki.client(None))),
        (
            "a rogue CA's certificate",
            Some(pki.client(Some("rogue-client"))),
        ),
        ("plaintext", None),
    ] {
        let endpoint = csc_runtime::client::endpoint_with(&fd, tls).unwrap();
        let refused = match endpoint.connect().await {
            Err(_) => true,
            Ok(ch) => tonic_health::pb::health_client::HealthClient::new(ch)
                .check(tonic_health::pb::HealthCheckRequest {
                    service: String::new(),
                })
                .await
                .is_err(),
        };
        assert!(refused, "{what} is refused");
    }

    // The aggregator with its client certificate gets every section; without one, none.
    for (with_cert, expect_ok) in [(true, true), (false, false)] {
        let mut args = ServerArgs::default();
        args.auth.insecure_no_auth = true;
        args.upstream_attempts = 1;
        args.tls.client_tls_ca_file = Some(pki.path("ca.pem"));
        if with_cert {
            args.tls.client_tls_cert_file = Some(pki.path("client.pem"));
            args.tls.client_tls_key_file = Some(pki.path("client-key.pem"));
        }
        let agg_dir = tempfile::tempdir().unwrap();
        let (agg, stop) = start(Service::Aggregator, agg_dir.path(), args, &addrs).await;
        assert_eq!(
            healthy(&agg, None, Service::Aggregator.grpc_name()).await,
            Ok(true)
        );
        let channel = csc_runtime::client::endpoint(&agg)
            .unwrap()
            .connect()
            .await
            .unwrap();
        let doc = rpb::reporting_service_client::ReportingServiceClient::new(channel)
            .generate_report(rpb::GenerateReportRequest {
                la_code: "885".into(),
                period: "2018-19".into(),
                format: rpb::Format::Json as i32,
                ..Default::default()
            })
            .await
            .expect("the report is composed either way")
            .into_inner();
        let statuses: Vec<_> = doc
            .sections
            .iter()
            .map(|s| (s.id.as_str(), s.status.as_str()))
            .collect();
        assert!(!statuses.is_empty());
        // Reached, the services answer that they hold nothing yet (no data); not reached, the
        // sections are unavailable.
        let expected = if expect_ok { "no_data" } else { "unavailable" };
        assert!(
            statuses.iter().all(|(_, s)| *s == expected),
            "with certificate {with_cert}, every section {expected}: {statuses:?}"
        );
        stop.cancel();
    }
    for s in stops {
        s.cancel();
    }
}

/// The audit log is append-only in the database itself, on SQLite and PostgreSQL: whoever holds
/// the service's database login cannot rewrite or delete what it recorded.
#[tokio::test]
async fn the_audit_log_refuses_updates_deletes_and_truncation_on_every_backend() {
    use sea_orm::ConnectionTrait;
    for b in csc_e2e::backends().await {
        let db = Service::Frontdoor.migrate(&b.url).await.unwrap();
        let event = csc_runtime::audit::Event {
            subject: "reader".into(),
            method: "/csc.frontdoor.v1.FrontDoorService/GetReferral".into(),
            la_codes: vec!["885".into()],
            request_id: "r1".into(),
            outcome: "OK".into(),
            children: vec![("885".into(), "C1".into())],
        };
        csc_runtime::audit::record(&db, &event).await.unwrap();
        let mut statements = vec![
            "UPDATE audit_event SET subject = 'nobody'",
            "DELETE FROM audit_event",
            "UPDATE audit_child SET child_id = 'C2'",
            "DELETE FROM audit_child",
        ];
        if b.name == "postgres" {
            statements.push("TRUNCATE audit_event, audit_child");
        }
        for sql in statements {
            let e = db.execute_unprepared(sql).await.expect_err(sql);
            assert!(
                e.to_string().contains("append-only"),
                "{}: {sql}: {e}",
                b.name
            );
        }
        let trail = csc_runtime::audit::for_child(&db, "885", "C1")
            .await
            .unwrap();
        assert_eq!(trail.len(), 1, "{}", b.name);
        assert_eq!(trail[0].subject, "reader");
    }
}

/// The rows of `sql`'s first column, as text.
async fn texts(db: &sea_orm::DatabaseConnection, sql: &str) -> Vec<String> {
    use sea_orm::{ConnectionTrait, Statement};
    db.query_all_raw(Statement::from_string(db.get_database_backend(), sql))
        .await
        .unwrap()
        .iter()
        .map(|r| r.try_get_by_index::<String>(0).unwrap())
        .collect()
}

/// Every write that commits has its audit row in the same transaction, under the batch's
/// request id (so every request-log entry has one); a replay is audited; a refused batch is
/// audited with its outcome and leaves no request-log entry; a delete by a key that names no
/// child (a contact's id) still names the child whose record it removed. Both backends.
#[tokio::test]
async fn every_write_commits_with_its_audit_row_and_a_delete_names_its_child() {
    use csc_proto::frontdoor as pb;
    for b in csc_e2e::backends().await {
        let server = csc_e2e::start_frontdoor(&b.url).await;
        let mut c = server.client().await;
        let contact = |id: &str, child: &str| pb::Contact {
            la_code: "885".into(),
            contact_id: id.into(),
            child_id: child.into(),
            contact_date: "2025-04-01".into(),
            source: "6".into(),
            became_referral: false,
        };
        let batch = pb::BatchUpsertContactsRequest {
            request_id: "batch-1".into(),
            records: vec![contact("K1", "C1"), contact("K2", "C2")],
        };
        c.batch_upsert_contacts(batch.clone()).await.unwrap();
        c.batch_upsert_contacts(batch).await.unwrap(); // a replay
        let bad = c
            .batch_upsert_contacts(pb::BatchUpsertContactsRequest {
                request_id: "batch-2".into(),
                records: vec![pb::Contact {
                    contact_date: "not a date".into(),
                    ..contact("K3", "C3")
                }],
            })
            .await
            .unwrap_err();
        assert_eq!(bad.code(), tonic::Code::InvalidArgument);
        c.delete_contact(pb::ContactKey {
            la_code: "885".into(),
            contact_id: "K2".into(),
        })
        .await
        .unwrap();
        let missing = c
            .delete_contact(pb::ContactKey {
                la_code: "885".into(),
                contact_id: "K9".into(),
            })
            .await
            .unwrap_err();
        assert_eq!(missing.code(), tonic::Code::NotFound);
        server.stop().await;

        let db = csc_runtime::db::connect(&b.url).await.unwrap();
        let events = texts(
            &db,
            "SELECT method || ' ' || request_id || ' ' || outcome || ' ' || CAST(children AS TEXT) \
             FROM audit_event ORDER BY id",
        )
        .await;
        let m = "/csc.frontdoor.v1.FrontDoorService/";
        assert_eq!(
            events,
            [
                format!("{m}BatchUpsertContacts batch-1 OK 2"),
                format!("{m}BatchUpsertContacts batch-1 OK 2"),
                format!("{m}BatchUpsertContacts batch-2 InvalidArgument 1"),
                format!("{m}DeleteContact  OK 1"),
                format!("{m}DeleteContact  NotFound 0"),
            ],
            "{}",
            b.name
        );
        let unaudited = texts(
            &db,
            "SELECT request_id FROM request_log r WHERE NOT EXISTS (SELECT 1 FROM audit_event a \
             WHERE a.request_id = r.request_id AND a.outcome = 'OK')",
        )
        .await;
        assert!(unaudited.is_empty(), "{}: {unaudited:?}", b.name);
        assert_eq!(
            texts(&db, "SELECT request_id FROM request_log").await,
            ["batch-1"],
            "{}: a refused batch leaves no request-log entry",
            b.name
        );
        let trail = csc_runtime::audit::for_child(&db, "885", "C2")
            .await
            .unwrap();
        let methods: Vec<&str> = trail.iter().map(|e| e.method.as_str()).collect();
        assert_eq!(
            methods,
            [
                format!("{m}BatchUpsertContacts"),
                format!("{m}BatchUpsertContacts"),
                format!("{m}DeleteContact"),
            ],
            "{}: the delete by contact id names child C2",
            b.name
        );
    }
}
