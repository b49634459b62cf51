//! Measures computed by the service (which loads only the date windows a period needs) equal the
//! pure domain computation over every record: the store's windows miss nothing the definitions
//! reach, and every field survives the round trip through the database.

use chrono::{Days, NaiveDate};
use csc_core::{LaCode, Period};
use csc_e2e::{backends, protos, start_frontdoor};
use csc_frontdoor::domain::{
    self, Agency, Assessment, AssessmentOutcome, Contact, EarlyHelpAssessment, FrontDoorData, Icpc,
    Referral, Section47Enquiry, StrategyDiscussion,
};
use csc_proto::{common as cpb, frontdoor as pb};
use csc_runtime::convert::measure_from_proto;

struct Rng(u64);
impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

/// Three years of records for 60 children, dense enough that every window and edge is hit.
fn dataset() -> FrontDoorData {
    let la = LaCode::parse("885").unwrap();
    let base = NaiveDate::from_ymd_opt(2016, 4, 1).unwrap();
    let mut rng = Rng(0x5eed);
    let day = |rng: &mut Rng| base + Days::new(rng.below(1096));
    let sources = ["1A", "2A", "2B", "3C", "4", "5D", "6", "7", "8", "9", "10"];
    let factors = ["11A", "24A", "10A", "13A", "3B", "21"];
    let closures = ["", "RC1", "RC7", "RC8", "RC9"];
    let mut d = FrontDoorData::default();
    for c in 0..60 {
        let child = format!("C{c:02}");
        let mut referral_days: Vec<NaiveDate> = (0..rng.below(6)).map(|_| day(&mut rng)).collect();
        referral_days.sort();
        referral_days.dedup();
        for rd in &referral_days {
            d.referrals.push(Referral {
                la_code: la,
                child_id: child.clone(),
                referral_date: *rd,
                source: sources[rng.below(sources.len() as u64) as usize].into(),
                nfa: rng.below(4) == 0,
            });
            if rng.below(3) > 0 {
                let start = *rd + Days::new(rng.below(5));
                let closure = closures[rng.below(closures.len() as u64) as usize];
                d.assessments.push(Assessment {
                    la_code: la,
                    child_id: child.clone(),
                    start_date: start,
                    referral_date: *rd,
                    authorisation_date: (rng.below(5) > 0)
                        .then(|| start + Days::new(rng.below(90))),
                    factors: (0..rng.below(3))
                        .map(|_| factors[rng.below(factors.len() as u64) as usize].to_string())
                        .collect(),
                    outcome: [
                        AssessmentOutcome::Unspecified,
                        AssessmentOutcome::Nfa,
                        AssessmentOutcome::FurtherAction,
                    ][rng.below(3) as usize],
                    closure_reason: (!closure.is_empty()).then(|| closure.to_string()),
                });
            }
            if rng.below(3) == 0 {
                let start = *rd + Days::new(rng.below(10));
                let icpc = (rng.below(2) == 0).then(|| start + Days::new(rng.below(30)));
                d.s47s.push(Section47Enquiry {
                    la_code: la,
                    child_id: child.clone(),
                    start_date: start,
                    referral_date: Some(*rd),
                    icpc_target_date: Some(start + Days::new(21)),
                    icpc_date: icpc,
                    icpc_not_required: icpc.is_none(),
                });
                if rng.below(2) == 0 {
                    let date = icpc.unwrap_or(start + Days::new(rng.below(40)));
                    d.icpcs.push(Icpc {
                        la_code: la,
                        child_id: child.clone(),
                        icpc_date: date,
                        s47_start_date: (rng.below(2) == 0).then_some(start),
                    });
                }
                let mut invited: Vec<Agency> = Agency::ALL
                    .into_iter()
                    .filter(|_| rng.below(3) > 0)
                    .collect();
                invited.sort();
                let attended: Vec<Agency> = invited
                    .iter()
                    .copied()
                    .filter(|_| rng.below(2) == 0)
                    .collect();
                d.strategy_discussions.push(StrategyDiscussion {
                    la_code: la,
                    child_id: child.clone(),
                    discussion_date: start,
                    invited,
                    attended,
                });
            }
        }
        for _ in 0..rng.below(3) {
            let start = day(&mut rng);
            d.early_help.push(EarlyHelpAssessment {
                la_code: la,
                child_id: child.clone(),
                start_date: start,
                completion_date: (rng.below(2) == 0).then(|| start + Days::new(rng.below(60))),
                organisation: (rng.below(2) == 0).then(|| "School".to_owned()),
            });
        }
        for k in 0..rng.below(8) {
            d.contacts.push(Contact {
                la_code: la,
                contact_id: format!("K{c:02}-{k}"),
                child_id: child.clone(),
                contact_date: day(&mut rng),
                source: sources[rng.below(sources.len() as u64) as usize].into(),
                became_referral: rng.below(3) == 0,
            });
        }
    }
    // Duplicate keys would be merged by the store; keep one record per key, as the API does.
    d.assessments
        .sort_by(|a, b| (&a.child_id, a.start_date).cmp(&(&b.child_id, b.start_date)));
    d.assessments
        .dedup_by(|a, b| a.child_id == b.child_id && a.start_date == b.start_date);
    d.s47s
        .sort_by(|a, b| (&a.child_id, a.start_date).cmp(&(&b.child_id, b.start_date)));
    d.s47s
        .dedup_by(|a, b| a.child_id == b.child_id && a.start_date == b.start_date);
    d.strategy_discussions
        .sort_by(|a, b| (&a.child_id, a.discussion_date).cmp(&(&b.child_id, b.discussion_date)));
    d.strategy_discussions
        .dedup_by(|a, b| a.child_id == b.child_id && a.discussion_date == b.discussion_date);
    d.early_help
        .sort_by(|a, b| (&a.child_id, a.start_date).cmp(&(&b.child_id, b.start_date)));
    d.early_help
        .dedup_by(|a, b| a.child_id == b.child_id && a.start_date == b.start_date);
    d.icpcs
        .sort_by(|a, b| (&a.child_id, a.icpc_date).cmp(&(&b.child_id, b.icpc_date)));
    d.icpcs
        .dedup_by(|a, b| a.child_id == b.child_id && a.icpc_date == b.icpc_date);
    d
}

#[tokio::test]
async fn service_measures_equal_the_definitions_over_all_records() {
    let data = dataset();
    assert!(data.referrals.len() > 100 && data.assessments.len() > 50 && !data.icpcs.is_empty());
    for b in backends().await {
        let srv = start_frontdoor(&b.url).await;
        let mut c = srv.client().await;
        let rid = String::new;
        c.batch_upsert_referrals(pb::BatchUpsertReferralsRequest {
            request_id: rid(),
            records: protos(&data.referrals),
        })
        .await
        .unwrap();
        c.batch_upsert_contacts(pb::BatchUpsertContactsRequest {
            request_id: rid(),
            records: protos(&data.contacts),
        })
        .await
        .unwrap();
        c.batch_upsert_assessments(pb::BatchUpsertAssessmentsRequest {
            request_id: rid(),
            keep_stored: false,
            records: protos(&data.assessments),
        })
        .await
        .unwrap();
        c.batch_upsert_section47_enquiries(pb::BatchUpsertSection47EnquiriesRequest {
            request_id: rid(),
            keep_stored: false,
            records: protos(&data.s47s),
        })
        .await
        .unwrap();
        c.batch_upsert_strategy_discussions(pb::BatchUpsertStrategyDiscussionsRequest {
            request_id: rid(),
            records: protos(&data.strategy_discussions),
        })
        .await
        .unwrap();
        c.batch_upsert_icpcs(pb::BatchUpsertIcpcsRequest {
            request_id: rid(),
            records: protos(&data.icpcs),
        })
        .await
        .unwrap();

        c.batch_upsert_early_help_assessments(pb::BatchUpsertEarlyHelpAssessmentsRequest {
            request_id: rid(),
            records: protos(&data.early_help),
        })
        .await
        .unwrap();

        for id in [
            "2016-17",
            "2017-18",
            "2018-19",
            "2016-17-Q1",
            "2017-18-Q2",
            "2017-18-Q4",
            "2018-19-Q3",
            "2019-20-Q1",
        ] {
            let period: Period = id.parse().unwrap();
            let expected = domain::compute(&period, &data);
            let got = c
                .compute_measures(cpb::ComputeMeasuresRequest {
                    la_code: "885".into(),
                    period: id.into(),
                })
                .await
                .unwrap()
                .into_inner();
            let got: Vec<_> = got.measures.iter().map(measure_from_proto).collect();
            assert_eq!(got.len(), expected.len());
            for (g, e) in got.iter().zip(&expected) {
                assert_eq!(g, e, "{id} {} on {}", e.id, b.name);
            }
        }
        srv.stop().await;
    }
}
