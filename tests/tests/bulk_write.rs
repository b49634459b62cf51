//! Full batches through the store's bulk path: on PostgreSQL a batch of 100 records or more is
//! loaded by binary `COPY` into a staging table and one `INSERT … SELECT … ON CONFLICT`, smaller
//! ones (and every batch on SQLite) by `INSERT … VALUES`. Both must count written and unchanged
//! rows exactly, keep NULLs as NULLs, and leave a re-sent batch unchanged.

use csc_e2e::{all_pages, backends, start_frontdoor};
use csc_proto::{common as cpb, frontdoor as pb};
use sea_orm::ConnectionTrait;

fn referral(child: usize, source: &str) -> pb::Referral {
    pb::Referral {
        la_code: "885".into(),
        child_id: format!("B{child:05}"),
        referral_date: format!("2024-{:02}-{:02}", 1 + child % 12, 1 + child % 28),
        source: source.into(),
        nfa: child.is_multiple_of(3),
    }
}

/// Every third assessment open (no authorisation date, no closure reason, no factors): NULL and
/// empty values side by side with set ones in one batch.
fn assessment(child: usize) -> pb::Assessment {
    let open = child.is_multiple_of(3);
    pb::Assessment {
        la_code: "885".into(),
        child_id: format!("B{child:05}"),
        start_date: "2024-05-02".into(),
        referral_date: "2024-05-01".into(),
        authorisation_date: if open { "" } else { "2024-06-10" }.into(),
        factors: if open {
            vec![]
        } else {
            vec!["21".into(), "3A".into()]
        },
        outcome: if open {
            pb::AssessmentOutcome::Unspecified
        } else {
            pb::AssessmentOutcome::FurtherAction
        } as i32,
        closure_reason: if child.is_multiple_of(5) && !open {
            "RC8"
        } else {
            ""
        }
        .into(),
    }
}

fn referrals(id: &str, records: Vec<pb::Referral>) -> pb::BatchUpsertReferralsRequest {
    pb::BatchUpsertReferralsRequest {
        request_id: id.into(),
        records,
    }
}

fn counts(r: &cpb::BatchUpsertResponse) -> (i64, i64, i64) {
    (r.received, r.written, r.unchanged)
}

#[tokio::test]
async fn full_batches_count_what_changed_and_keep_nulls_on_every_backend() {
    for b in backends().await {
        let s = start_frontdoor(&b.url).await;
        let mut c = s.client().await;
        let first: Vec<_> = (0..600).map(|i| referral(i, "6")).collect();
        let r = c
            .batch_upsert_referrals(referrals("bulk-1", first.clone()))
            .await
            .unwrap()
            .into_inner();
        assert_eq!(counts(&r), (600, 600, 0), "{}", b.name);

        // The same rows again, under a new request id: nothing differs, nothing is written.
        let r = c
            .batch_upsert_referrals(referrals("bulk-2", first.clone()))
            .await
            .unwrap()
            .into_inner();
        assert_eq!(counts(&r), (600, 0, 600), "{}", b.name);

        // 150 restated with another source, 250 as they were, 200 new.
        let mut mixed: Vec<_> = (0..150).map(|i| referral(i, "2A")).collect();
        mixed.extend(first[150..400].iter().cloned());
        mixed.extend((600..800).map(|i| referral(i, "1A")));
        let r = c
            .batch_upsert_referrals(referrals("bulk-3", mixed))
            .await
            .unwrap()
            .into_inner();
        assert_eq!(counts(&r), (600, 350, 250), "{}", b.name);

        let held: Vec<pb::Referral> = all_pages(|token| {
            let mut c = c.clone();
            async move {
                let page = c
                    .list_referrals(cpb::ListRequest {
                        la_code: "885".into(),
                        page_size: 1000,
                        page_token: token,
                        ..Default::default()
                    })
                    .await
                    .unwrap()
                    .into_inner();
                (page.records, page.next_page_token)
            }
        })
        .await
        .concat();
        assert_eq!(held.len(), 800, "{}", b.name);
        let source_of = |child: usize| {
            let id = format!("B{child:05}");
            held.iter()
                .find(|r| r.child_id == id)
                .unwrap()
                .source
                .clone()
        };
        assert_eq!(
            (source_of(0), source_of(149), source_of(150), source_of(700)),
            ("2A".into(), "2A".into(), "6".into(), "1A".into()),
            "{}",
            b.name
        );
        assert!(held.iter().find(|r| r.child_id == "B00003").unwrap().nfa);

        // Optional columns: open assessments are held with no dates and no reason, and come back
        // exactly as sent.
        let sent: Vec<_> = (0..300).map(assessment).collect();
        let r = c
            .batch_upsert_assessments(pb::BatchUpsertAssessmentsRequest {
                request_id: "bulk-4".into(),
                records: sent.clone(),
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner();
        assert_eq!(counts(&r), (300, 300, 0), "{}", b.name);
        let mut back = c
            .list_assessments(cpb::ListRequest {
                la_code: "885".into(),
                page_size: 1000,
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner()
            .records;
        back.sort_by(|a, b| a.child_id.cmp(&b.child_id));
        assert_eq!(back, sent, "{}", b.name);
        // Closing ten open ones writes those ten: a NULL becoming a date is a change.
        let mut closing = sent.clone();
        for a in closing
            .iter_mut()
            .filter(|a| a.authorisation_date.is_empty())
            .take(10)
        {
            a.authorisation_date = "2024-06-20".into();
            a.outcome = pb::AssessmentOutcome::Nfa as i32;
        }
        let r = c
            .batch_upsert_assessments(pb::BatchUpsertAssessmentsRequest {
                request_id: "bulk-5".into(),
                records: closing,
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner();
        assert_eq!(counts(&r), (300, 10, 290), "{}", b.name);

        if b.name == "postgres" {
            // The batches went through the staging table (a session's temporary table, which
            // lives while its pooled connection does), not through INSERT … VALUES.
            let db = csc_runtime::db::connect(&b.url).await.unwrap();
            let staged = db
                .query_one_raw(sea_orm::Statement::from_string(
                    sea_orm::DbBackend::Postgres,
                    "SELECT count(*) FROM pg_class WHERE relpersistence = 't' \
                     AND relname IN ('csc_copy_referral', 'csc_copy_assessment')",
                ))
                .await
                .unwrap()
                .unwrap()
                .try_get_by_index::<i64>(0)
                .unwrap();
            assert!(staged >= 2, "no staging table: the batches were not copied");
        }
        s.stop().await;
    }
}
