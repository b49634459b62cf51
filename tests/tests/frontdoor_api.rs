//! The front door's gRPC API, end to end, on every backend: validation, atomic idempotent batches,
//! get/list/delete, health, and measures computed through the store.

use csc_e2e::{all_pages, backends, start_frontdoor};
use csc_proto::{common as cpb, frontdoor as pb};
use tonic::Code;
use tonic_types::StatusExt;

fn referral(la: &str, child: &str, date: &str, source: &str) -> pb::Referral {
    pb::Referral {
        la_code: la.into(),
        child_id: child.into(),
        referral_date: date.into(),
        source: source.into(),
        nfa: false,
    }
}

fn req(id: &str, records: Vec<pb::Referral>) -> pb::BatchUpsertReferralsRequest {
    pb::BatchUpsertReferralsRequest {
        request_id: id.into(),
        records,
    }
}

fn list(la: &str) -> cpb::ListRequest {
    cpb::ListRequest {
        la_code: la.into(),
        page_size: 100,
        ..Default::default()
    }
}

#[tokio::test]
async fn an_invalid_record_refuses_the_whole_batch_naming_record_and_field() {
    for b in backends().await {
        let s = start_frontdoor(&b.url).await;
        let mut c = s.client().await;
        let err = c
            .batch_upsert_referrals(req(
                "bad-1",
                vec![
                    referral("885", "C1", "2018-04-01", "6"),
                    referral("885", "C2", "2018-04-01", "3Z"),
                    referral("885", "C3", "2018-02-30", "6"),
                    referral("885", "", "2018-04-01", "6"),
                    referral("88", "C5", "2018-04-01", "6"),
                    referral("885", "=1+2", "2018-04-01", "6"),
                    referral("885", "<b>C7</b>", "2018-04-01", "6"),
                ],
            ))
            .await
            .expect_err("invalid batch");
        assert_eq!(err.code(), Code::InvalidArgument, "{}", b.name);
        let br = err.get_details_bad_request().expect("BadRequest details");
        let fields: Vec<&str> = br
            .field_violations
            .iter()
            .map(|v| v.field.as_str())
            .collect();
        assert_eq!(
            fields,
            [
                "records[1].source",
                "records[2].referral_date",
                "records[3].child_id",
                "records[4].la_code",
                "records[5].child_id",
                "records[6].child_id"
            ],
            "{}",
            b.name
        );
        assert!(br.field_violations[0].description.contains("3Z"));
        // Identifiers are constrained at the edge: a formula or markup is never stored.
        assert!(
            br.field_violations[4]
                .description
                .starts_with("\"=1+2\" is not an identifier"),
            "{}",
            br.field_violations[4].description
        );
        // Nothing of the batch was applied, not even the valid first record.
        let listed = c.list_referrals(list("885")).await.unwrap().into_inner();
        assert!(listed.records.is_empty(), "{}", b.name);
        s.stop().await;
    }
}

#[tokio::test]
async fn batches_are_atomic_idempotent_and_count_what_changed() {
    for b in backends().await {
        let s = start_frontdoor(&b.url).await;
        let mut c = s.client().await;
        let three = vec![
            referral("885", "C1", "2018-04-01", "6"),
            referral("885", "C1", "2018-05-01", "2A"),
            referral("885", "C2", "2018-04-02", "1A"),
        ];
        let r1 = c
            .batch_upsert_referrals(req("r-1", three.clone()))
            .await
            .unwrap()
            .into_inner();
        assert_eq!(
            (r1.received, r1.written, r1.unchanged),
            (3, 3, 0),
            "{}",
            b.name
        );
        // The same request again: the first response, nothing written.
        let replay = c
            .batch_upsert_referrals(req("r-1", three.clone()))
            .await
            .unwrap()
            .into_inner();
        assert_eq!(replay, r1);
        // The same data under a new request id: all unchanged.
        let again = c
            .batch_upsert_referrals(req("r-2", three.clone()))
            .await
            .unwrap()
            .into_inner();
        assert_eq!((again.written, again.unchanged), (0, 3));
        // One record restated with a new source: one written.
        let mut changed = three.clone();
        changed[1].source = "6".into();
        let r3 = c
            .batch_upsert_referrals(req("r-3", changed))
            .await
            .unwrap()
            .into_inner();
        assert_eq!((r3.written, r3.unchanged), (1, 2));
        // A request id reused for other content is refused.
        let reuse = c
            .batch_upsert_referrals(req("r-1", vec![referral("885", "C9", "2018-04-01", "6")]))
            .await
            .unwrap_err();
        assert_eq!(reuse.code(), Code::AlreadyExists);
        // A repeated key with other content inside one batch is ambiguous; identical repeats are not.
        let dup = c
            .batch_upsert_referrals(req(
                "r-4",
                vec![
                    referral("885", "C7", "2018-04-01", "6"),
                    referral("885", "C7", "2018-04-01", "2A"),
                ],
            ))
            .await
            .unwrap_err();
        assert_eq!(
            dup.get_details_bad_request().unwrap().field_violations[0].field,
            "records[1]"
        );
        let same = c
            .batch_upsert_referrals(req(
                "r-5",
                vec![
                    referral("885", "C7", "2018-04-01", "6"),
                    referral("885", "C7", "2018-04-01", "6"),
                ],
            ))
            .await
            .unwrap()
            .into_inner();
        assert_eq!((same.received, same.written, same.unchanged), (2, 1, 1));
        let listed = c.list_referrals(list("885")).await.unwrap().into_inner();
        assert_eq!(listed.records.len(), 4);
        assert_eq!(listed.records[1].source, "6");
        s.stop().await;
    }
}

#[tokio::test]
async fn concurrent_batches_all_land() {
    for b in backends().await {
        let s = start_frontdoor(&b.url).await;
        let mut tasks = Vec::new();
        for t in 0..8 {
            let mut c = s.client().await;
            tasks.push(tokio::spawn(async move {
                let records = (0..500)
                    .map(|i| referral("885", &format!("T{t}-{i}"), "2018-04-01", "6"))
                    .collect();
                c.batch_upsert_referrals(req(&format!("conc-{t}"), records))
                    .await
                    .map(|r| r.into_inner().written)
            }));
        }
        for t in tasks {
            assert_eq!(
                t.await.unwrap().expect("every concurrent batch succeeds"),
                500,
                "{}",
                b.name
            );
        }
        let m = s
            .client()
            .await
            .compute_measures(cpb::ComputeMeasuresRequest {
                la_code: "885".into(),
                period: "2018-19-Q1".into(),
            })
            .await
            .unwrap()
            .into_inner();
        assert_eq!(
            m.measures[1].figure,
            Some(cpb::measure::Figure::Count(4000))
        );
        s.stop().await;
    }
}

/// Issue 23's guard, not a benchmark: while 16 writers send batches at once, measures and a
/// child-level list (audited, so itself a small write) keep answering, none after more than a
/// generous 10 s, and every write lands without a retry. On SQLite the queued writers used to
/// hold every pooled connection while they waited for the write lock, so reads queued behind them
/// and writers failed after the 5 s busy timeout.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reads_are_answered_while_sixteen_writers_send_batches() {
    const WRITERS: usize = 16;
    const BATCHES: usize = 4;
    const RECORDS: usize = 2_000;
    const STARVED: std::time::Duration = std::time::Duration::from_secs(10);
    for b in backends().await {
        let s = start_frontdoor(&b.url).await;
        let mut writers = Vec::with_capacity(WRITERS);
        for w in 0..WRITERS {
            let mut c = s.client().await;
            writers.push(tokio::spawn(async move {
                for n in 0..BATCHES {
                    let records = (0..RECORDS)
                        .map(|i| referral("885", &format!("W{w}-{n}-{i}"), "2018-04-02", "6"))
                        .collect();
                    c.batch_upsert_referrals(req(&format!("mixed-{w}-{n}"), records))
                        .await?;
                }
                Ok::<_, tonic::Status>(())
            }));
        }

        let mut c = s.client().await;
        let (mut reads, mut slowest) = (0, std::time::Duration::ZERO);
        while writers.iter().any(|w| !w.is_finished()) {
            let t = std::time::Instant::now();
            let m = tokio::time::timeout(
                STARVED,
                c.compute_measures(cpb::ComputeMeasuresRequest {
                    la_code: "885".into(),
                    period: "2018-19-Q1".into(),
                }),
            )
            .await
            .unwrap_or_else(|_| panic!("{}: measures starved past {STARVED:?}", b.name));
            m.unwrap_or_else(|e| panic!("{}: measures during writes: {e}", b.name));
            let l = tokio::time::timeout(STARVED, c.list_referrals(list("885")))
                .await
                .unwrap_or_else(|_| panic!("{}: a list starved past {STARVED:?}", b.name));
            l.unwrap_or_else(|e| panic!("{}: a list during writes: {e}", b.name));
            slowest = slowest.max(t.elapsed());
            reads += 1;
        }
        for w in writers {
            w.await
                .unwrap()
                .unwrap_or_else(|e| panic!("{}: a writer was refused: {e}", b.name));
        }
        assert!(reads > 0, "{}: no read ran while the writers did", b.name);
        eprintln!(
            "{}: {reads} read pairs during the writes, slowest {slowest:?}",
            b.name
        );
        let m = c
            .compute_measures(cpb::ComputeMeasuresRequest {
                la_code: "885".into(),
                period: "2018-19-Q1".into(),
            })
            .await
            .unwrap()
            .into_inner();
        assert_eq!(
            m.measures[1].figure,
            Some(cpb::measure::Figure::Count(
                (WRITERS * BATCHES * RECORDS) as i64
            )),
            "{}: every batch landed",
            b.name
        );
        s.stop().await;
    }
}

#[tokio::test]
async fn get_list_pages_and_delete() {
    for b in backends().await {
        let s = start_frontdoor(&b.url).await;
        let mut c = s.client().await;
        let mut records: Vec<pb::Referral> = (1..=5)
            .map(|i| referral("885", &format!("C{}", i % 3), &format!("2018-04-0{i}"), "6"))
            .collect();
        records.push(referral("886", "C1", "2018-04-01", "6"));
        c.batch_upsert_referrals(req("", records)).await.unwrap();

        let pages = all_pages(|page_token| {
            let mut c = c.clone();
            async move {
                let page = c
                    .list_referrals(cpb::ListRequest {
                        la_code: "885".into(),
                        page_size: 2,
                        page_token,
                        ..Default::default()
                    })
                    .await
                    .unwrap()
                    .into_inner();
                (page.records, page.next_page_token)
            }
        })
        .await;
        assert!(pages.iter().all(|p| p.len() <= 2));
        let seen: Vec<_> = pages
            .into_iter()
            .flatten()
            .map(|r| (r.child_id, r.referral_date))
            .collect();
        // Key order: date, then child (the primary key's index order).
        let mut sorted = seen.clone();
        sorted.sort_by(|a, b| (&a.1, &a.0).cmp(&(&b.1, &b.0)));
        assert_eq!(seen, sorted, "key order");
        assert_eq!(seen.len(), 5, "{}: only LA 885's records", b.name);

        let one_child = c
            .list_referrals(cpb::ListRequest {
                la_code: "885".into(),
                child_id: "C1".into(),
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner();
        assert_eq!(one_child.records.len(), 2);

        let key = pb::ReferralKey {
            la_code: "885".into(),
            child_id: "C1".into(),
            referral_date: "2018-04-01".into(),
        };
        assert_eq!(
            c.get_referral(key.clone())
                .await
                .unwrap()
                .into_inner()
                .source,
            "6"
        );
        c.delete_referral(key.clone()).await.unwrap();
        assert_eq!(
            c.get_referral(key.clone()).await.unwrap_err().code(),
            Code::NotFound
        );
        assert_eq!(
            c.delete_referral(key).await.unwrap_err().code(),
            Code::NotFound
        );
        let bad = c
            .list_referrals(cpb::ListRequest {
                la_code: "885".into(),
                page_token: "garbage!".into(),
                ..Default::default()
            })
            .await
            .unwrap_err();
        assert_eq!(bad.code(), Code::InvalidArgument);
        s.stop().await;
    }
}

/// Sends `$record` alone through `$upsert`, and asserts that `$list` gives LA 885 back just it.
macro_rules! lands_and_lists {
    ($c:ident, $upsert:ident($req:ident), $list:ident, $record:expr) => {{
        let record = $record;
        $c.$upsert(pb::$req {
            request_id: String::new(),
            records: vec![record.clone()],
        })
        .await
        .unwrap();
        let listed = $c.$list(list("885")).await.unwrap().into_inner();
        assert_eq!(listed.records, [record]);
    }};
}

#[tokio::test]
async fn every_record_kind_round_trips() {
    for b in backends().await {
        let s = start_frontdoor(&b.url).await;
        let mut c = s.client().await;
        let contact = pb::Contact {
            la_code: "885".into(),
            contact_id: "K1".into(),
            child_id: "C1".into(),
            contact_date: "2018-04-01".into(),
            source: "6".into(),
            became_referral: true,
        };
        c.batch_upsert_contacts(pb::BatchUpsertContactsRequest {
            request_id: String::new(),
            records: vec![contact.clone()],
        })
        .await
        .unwrap();
        let got = c
            .get_contact(pb::ContactKey {
                la_code: "885".into(),
                contact_id: "K1".into(),
            })
            .await
            .unwrap()
            .into_inner();
        assert_eq!(got, contact);

        let a = pb::Assessment {
            la_code: "885".into(),
            child_id: "C1".into(),
            start_date: "2018-04-02".into(),
            referral_date: "2018-04-01".into(),
            authorisation_date: "2018-05-01".into(),
            factors: vec!["11A".into(), "24A".into()],
            outcome: pb::AssessmentOutcome::Nfa as i32,
            closure_reason: "RC8".into(),
        };
        c.batch_upsert_assessments(pb::BatchUpsertAssessmentsRequest {
            request_id: String::new(),
            keep_stored: false,
            records: vec![a.clone()],
        })
        .await
        .unwrap();
        let key = pb::AssessmentKey {
            la_code: "885".into(),
            child_id: "C1".into(),
            start_date: "2018-04-02".into(),
        };
        assert_eq!(c.get_assessment(key).await.unwrap().into_inner(), a);

        let s47 = pb::Section47Enquiry {
            la_code: "885".into(),
            child_id: "C1".into(),
            start_date: "2018-04-03".into(),
            referral_date: "2018-04-01".into(),
            icpc_target_date: "2018-04-24".into(),
            icpc_date: "2018-04-20".into(),
            icpc_not_required: false,
        };
        c.batch_upsert_section47_enquiries(pb::BatchUpsertSection47EnquiriesRequest {
            request_id: String::new(),
            keep_stored: false,
            records: vec![s47.clone()],
        })
        .await
        .unwrap();
        let listed = c
            .list_section47_enquiries(list("885"))
            .await
            .unwrap()
            .into_inner();
        assert_eq!(listed.records, [s47]);

        let sd = pb::StrategyDiscussion {
            la_code: "885".into(),
            child_id: "C1".into(),
            discussion_date: "2018-04-03".into(),
            invited: vec![pb::Agency::Police as i32, pb::Agency::Health as i32],
            attended: vec![pb::Agency::Health as i32],
        };
        lands_and_lists!(
            c,
            batch_upsert_strategy_discussions(BatchUpsertStrategyDiscussionsRequest),
            list_strategy_discussions,
            sd
        );

        let icpc = pb::Icpc {
            la_code: "885".into(),
            child_id: "C1".into(),
            icpc_date: "2018-04-20".into(),
            s47_start_date: "2018-04-03".into(),
        };
        lands_and_lists!(
            c,
            batch_upsert_icpcs(BatchUpsertIcpcsRequest),
            list_icpcs,
            icpc
        );

        // A conference before the enquiry started is refused, naming the field.
        let bad = pb::Icpc {
            la_code: "885".into(),
            child_id: "C1".into(),
            icpc_date: "2018-04-01".into(),
            s47_start_date: "2018-04-03".into(),
        };
        let err = c
            .batch_upsert_icpcs(pb::BatchUpsertIcpcsRequest {
                request_id: String::new(),
                records: vec![bad],
            })
            .await
            .unwrap_err();
        assert_eq!(
            err.get_details_bad_request().unwrap().field_violations[0].field,
            "records[0].icpc_date"
        );
        s.stop().await;
    }
}

#[tokio::test]
async fn health_reports_serving_for_the_server_and_the_service() {
    use tonic_health::pb::{
        HealthCheckRequest, health_check_response::ServingStatus, health_client::HealthClient,
    };
    for b in backends().await {
        let s = start_frontdoor(&b.url).await;
        let channel = tonic::transport::Endpoint::from_shared(format!("http://{}", s.addr))
            .unwrap()
            .connect()
            .await
            .unwrap();
        let mut h = HealthClient::new(channel);
        for service in ["", csc_frontdoor::SERVICE_NAME] {
            let r = h
                .check(HealthCheckRequest {
                    service: service.into(),
                })
                .await
                .unwrap()
                .into_inner();
            assert_eq!(
                r.status,
                ServingStatus::Serving as i32,
                "{service:?} on {}",
                b.name
            );
        }
        let unknown = h
            .check(HealthCheckRequest {
                service: "csc.nothing.v1.Nothing".into(),
            })
            .await
            .unwrap_err();
        assert_eq!(unknown.code(), Code::NotFound);
        s.stop().await;
    }
}

#[tokio::test]
async fn readiness_turns_not_serving_as_soon_as_shutdown_begins() {
    use tonic_health::pb::{
        HealthCheckRequest, health_check_response::ServingStatus, health_client::HealthClient,
    };
    let b = backends().await.remove(0);
    let s = start_frontdoor(&b.url).await;
    let channel = tonic::transport::Endpoint::from_shared(format!("http://{}", s.addr))
        .unwrap()
        .connect()
        .await
        .unwrap();
    let mut h = HealthClient::new(channel);
    let mut watch = h
        .watch(HealthCheckRequest {
            service: csc_frontdoor::SERVICE_NAME.into(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        watch.message().await.unwrap().unwrap().status,
        ServingStatus::Serving as i32
    );
    s.begin_shutdown();
    let next = tokio::time::timeout(std::time::Duration::from_secs(5), watch.message())
        .await
        .expect("an update");
    assert_eq!(
        next.unwrap().unwrap().status,
        ServingStatus::NotServing as i32
    );
    s.stop().await;
}

/// Writers that hold their transactions open never hold every pooled connection: with more
/// writers than the pool has connections (4 on SQLite, 16 on PostgreSQL) all begun, a read
/// still gets a connection at once, and every writer commits in its turn.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn open_writers_leave_connections_for_reads() {
    use sea_orm::ConnectionTrait;
    for b in backends().await {
        let db = csc_runtime::db::connect(&b.url).await.unwrap();
        db.execute_unprepared("CREATE TABLE t (x INTEGER)")
            .await
            .unwrap();
        let (release, _) = tokio::sync::watch::channel(false);
        let writers: Vec<_> = (0..20)
            .map(|i| {
                let (db, mut release) = (db.clone(), release.subscribe());
                tokio::spawn(async move {
                    let (txn, _turn) = csc_runtime::db::begin_write(&db).await?;
                    txn.execute_unprepared(&format!("INSERT INTO t VALUES ({i})"))
                        .await?;
                    // Held open until the read below has run.
                    let _ = release.wait_for(|r| *r).await;
                    txn.commit().await
                })
            })
            .collect();
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
        let read = tokio::time::timeout(
            std::time::Duration::from_secs(5),
            db.query_one_raw(sea_orm::Statement::from_string(
                db.get_database_backend(),
                "SELECT count(*) AS n FROM t",
            )),
        )
        .await
        .unwrap_or_else(|_| panic!("{}: a read waited behind open writers", b.name))
        .unwrap()
        .unwrap();
        assert_eq!(read.try_get::<i64>("", "n").unwrap(), 0, "{}", b.name);
        release.send(true).unwrap();
        for w in writers {
            w.await
                .unwrap()
                .unwrap_or_else(|e| panic!("{}: a writer failed: {e}", b.name));
        }
    }
}

/// A call that arrives while the service is still applying its migrations is told to come back
/// (UNAVAILABLE, retryable), not run against missing tables (it was INTERNAL "no such table", and
/// a write's audit entry failed). Here another connection holds the new database's lock, so the
/// migrations wait; once it is let go the service becomes ready and the same call is answered.
#[tokio::test]
async fn calls_before_the_migrations_are_applied_are_unavailable_not_internal() {
    let dir = tempfile::tempdir().unwrap();
    let url = csc_runtime::db::sqlite_url_in(dir.path(), "frontdoor");
    let holder = csc_runtime::db::connect(&url).await.unwrap();
    let mut conn = holder.get_sqlite_connection_pool().acquire().await.unwrap();
    sea_orm::sqlx::query("BEGIN EXCLUSIVE")
        .execute(&mut *conn)
        .await
        .unwrap();

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let shutdown = csc_runtime::Shutdown::new();
    let mut args = csc_runtime::config::ServerArgs {
        shutdown_grace_secs: 5,
        ..Default::default()
    };
    args.auth.insecure_no_auth = true;
    let server = tokio::spawn({
        let (url, shutdown) = (url.clone(), shutdown.clone());
        async move {
            csc::serve::run(
                csc::serve::Service::Frontdoor,
                listener,
                &url,
                &args,
                &csc::ClientAddrs::default(),
                shutdown,
            )
            .await
        }
    });
    let mut c = loop {
        if let Ok(c) = csc::client::connect_frontdoor(&addr).await {
            break c;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    };
    let err = c.list_referrals(list("885")).await.unwrap_err();
    assert_eq!(err.code(), Code::Unavailable, "{err:?}");
    assert!(err.message().contains("starting"), "{}", err.message());
    assert!(err.get_details_retry_info().is_some(), "retryable: {err:?}");

    sea_orm::sqlx::query("ROLLBACK")
        .execute(&mut *conn)
        .await
        .unwrap();
    drop(conn);
    let mut ready = false;
    for _ in 0..400 {
        if csc::serve::serving(&addr, csc::serve::Service::Frontdoor.grpc_name())
            .await
            .unwrap_or(false)
        {
            ready = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(ready, "the service becomes ready once the lock is let go");
    let listed = c.list_referrals(list("885")).await.unwrap().into_inner();
    assert!(listed.records.is_empty());
    shutdown.cancel();
    server.await.unwrap().unwrap();
}

#[tokio::test]
async fn compute_measures_validates_its_arguments() {
    for b in backends().await {
        let s = start_frontdoor(&b.url).await;
        let mut c = s.client().await;
        let err = c
            .compute_measures(cpb::ComputeMeasuresRequest {
                la_code: "8851".into(),
                period: "2018-19-Q5".into(),
            })
            .await
            .unwrap_err();
        let fields: Vec<String> = err
            .get_details_bad_request()
            .unwrap()
            .field_violations
            .into_iter()
            .map(|v| v.field)
            .collect();
        assert_eq!(fields, ["la_code", "period"]);

        // A series names each period it refuses; one the LA's code was not in use for too.
        let series = |la: &str, periods: &[&str]| cpb::ComputeMeasureSeriesRequest {
            la_code: la.into(),
            periods: periods.iter().map(|p| p.to_string()).collect(),
        };
        let fields = |err: tonic::Status| -> Vec<String> {
            assert_eq!(err.code(), tonic::Code::InvalidArgument);
            err.get_details_bad_request()
                .unwrap()
                .field_violations
                .into_iter()
                .map(|v| v.field)
                .collect()
        };
        let err = c
            .compute_measure_series(series("885", &["2018-19-Q1", "2018-19-Q5", "x"]))
            .await
            .unwrap_err();
        assert_eq!(fields(err), ["periods[1]", "periods[2]"]);
        let err = c
            .compute_measure_series(series("885", &[]))
            .await
            .unwrap_err();
        assert_eq!(fields(err), ["periods"]);
        let err = c
            .compute_measure_series(series("885", &["2018-19"; 17]))
            .await
            .unwrap_err();
        assert_eq!(fields(err), ["periods"]);
        // North Northamptonshire (940) was made on 1 April 2021.
        let err = c
            .compute_measure_series(series("940", &["2021-22-Q1", "2020-21-Q4"]))
            .await
            .unwrap_err();
        assert_eq!(fields(err), ["periods[1]"]);
        let ok = c
            .compute_measure_series(series("885", &["2018-19-Q2", "2018-19-Q1"]))
            .await
            .unwrap()
            .into_inner();
        let ids: Vec<String> = ok
            .periods
            .iter()
            .map(|p| p.period.as_ref().unwrap().id.clone())
            .collect();
        assert_eq!(
            ids,
            ["2018-19-Q2", "2018-19-Q1"],
            "answered in the request's order"
        );
        s.stop().await;
    }
}
