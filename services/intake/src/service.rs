//! What a `SubmitChildren` call does:
//!
//! 1. checks the request whole (a JSON array of 1–100 records, each valid against the DfE's
//!    schema, and the children the caller named being the payload's): any problem refuses it,
//!    naming each record and field, and nothing is applied;
//! 2. merges each record into what is held for its child ([`crate::merge`]) and derives the
//!    child's domain records before and after ([`crate::mapping`]);
//! 3. checks every record to be written with the domain services' own rules (the same
//!    conversions their `BatchUpsert` methods run), so a value they would refuse refuses the
//!    request here, before anything is written;
//! 4. deletes what the child no longer has (purged), upserts what is new or changed (the rest is
//!    not sent: re-sending a payload changes nothing), and only then keeps the merged records.
//!
//! A domain service failing part way leaves what the intake holds as it was, so the same request
//! sent again repeats what landed (each write is an upsert by natural key) and applies the rest.
//! Requests are applied one at a time.

use std::collections::{BTreeMap, HashMap};

use csc_core::Violations;
use csc_proto::{
    common as cpb, frontdoor as fd, frontdoor::front_door_service_client::FrontDoorServiceClient,
    intake as pb, placements as pl, placements::placements_service_client::PlacementsServiceClient,
    protection as pr, protection::protection_service_client::ProtectionServiceClient,
};
use csc_runtime::{Error, client::AuthChannel, rpc::WireRecord};
use sea_orm::{DatabaseConnection, TransactionTrait};
use serde_json::Value;
use tonic::{Code, Request, Response, Status};

use crate::mapping::{Derived, Item, by_key, derive};
use crate::schema::{self, Refusal};
use crate::{merge, store};

/// The domain services the intake writes to, each over a lazily connected channel carrying the
/// intake's own token (`CSC_TOKEN`, `CSC_TOKEN_FILE`, or the development key): it needs
/// `frontdoor:write`, `protection:write` and `placements:write` (docs/security.md).
#[derive(Clone)]
pub struct Upstreams {
    frontdoor: FrontDoorServiceClient<AuthChannel>,
    protection: ProtectionServiceClient<AuthChannel>,
    placements: PlacementsServiceClient<AuthChannel>,
}

impl Upstreams {
    pub fn connect_lazy(
        frontdoor: &str,
        protection: &str,
        placements: &str,
        tls: Option<tonic::transport::ClientTlsConfig>,
    ) -> anyhow::Result<Self> {
        let channel = |addr: &str| -> anyhow::Result<AuthChannel> {
            let e = csc_runtime::client::endpoint_with(addr, tls.clone())?
                .connect_timeout(std::time::Duration::from_secs(5));
            Ok(csc_runtime::client::with_token(e.connect_lazy()))
        };
        Ok(Self {
            frontdoor: FrontDoorServiceClient::new(channel(frontdoor)?)
                .max_decoding_message_size(csc_runtime::MAX_MESSAGE_BYTES)
                .max_encoding_message_size(csc_runtime::MAX_MESSAGE_BYTES),
            protection: ProtectionServiceClient::new(channel(protection)?)
                .max_decoding_message_size(csc_runtime::MAX_MESSAGE_BYTES)
                .max_encoding_message_size(csc_runtime::MAX_MESSAGE_BYTES),
            placements: PlacementsServiceClient::new(channel(placements)?)
                .max_decoding_message_size(csc_runtime::MAX_MESSAGE_BYTES)
                .max_encoding_message_size(csc_runtime::MAX_MESSAGE_BYTES),
        })
    }
}

pub struct Intake {
    db: DatabaseConnection,
    up: Upstreams,
    /// One request at a time: a child's records are read, merged and written back whole.
    one_at_a_time: tokio::sync::Mutex<()>,
}

impl Intake {
    pub fn new(db: DatabaseConnection, up: Upstreams) -> Self {
        Self {
            db,
            up,
            one_at_a_time: tokio::sync::Mutex::new(()),
        }
    }
}

/// Records per write: well inside the services' 5,000 and the message limits.
const CHUNK: usize = 2_000;

/// The changes of one kind: records to upsert (with the request's record index each came from)
/// and records to delete.
struct Changes<P> {
    upserts: Vec<(usize, Item<P>)>,
    deletes: Vec<(usize, P)>,
}

impl<P> Default for Changes<P> {
    fn default() -> Self {
        Self {
            upserts: Vec::new(),
            deletes: Vec::new(),
        }
    }
}

impl<P: Clone + PartialEq> Changes<P> {
    /// What turns `before` into `after` for record `index`: the written and deleted counts.
    fn diff(
        &mut self,
        index: usize,
        before: &[Item<P>],
        after: &[Item<P>],
        key: fn(&P) -> String,
    ) -> (i64, i64) {
        let (before, after) = (by_key(before, key), by_key(after, key));
        let mut counts = (0, 0);
        for (k, item) in &after {
            if before.get(k).map(|b| &b.record) != Some(&item.record) {
                self.upserts.push((index, item.clone()));
                counts.0 += 1;
            }
        }
        for (k, item) in &before {
            if !after.contains_key(k) {
                self.deletes.push((index, item.record.clone()));
                counts.1 += 1;
            }
        }
        counts
    }

    /// Each upsert as the domain service will check it; a refused value named at its place in
    /// the request (`[3].social_care_episodes[0].referral_source`).
    fn check<R: WireRecord<Proto = P>>(&self, v: &mut Violations) {
        for (i, item) in &self.upserts {
            if let Err(found) = R::from_proto(&item.record) {
                for f in found.0 {
                    v.add(
                        format!("[{i}].{}", item.path_of(&f.field)),
                        f.description.clone(),
                    );
                }
            }
        }
    }

    fn records(&self) -> Vec<P> {
        self.upserts.iter().map(|(_, i)| i.record.clone()).collect()
    }
}

/// Every change one request makes, by kind.
#[derive(Default)]
struct Plan {
    referrals: Changes<fd::Referral>,
    assessments: Changes<fd::Assessment>,
    s47s: Changes<fd::Section47Enquiry>,
    icpcs: Changes<fd::Icpc>,
    cin_plans: Changes<pr::CinPlan>,
    cp_plans: Changes<pr::CpPlan>,
    children: Changes<pl::Child>,
    episodes: Changes<pl::Episode>,
    social_workers: Changes<pl::SocialWorkerAllocation>,
}

impl Plan {
    /// Adds what turns `before` into `after` for record `index`: the written and deleted counts.
    fn add(&mut self, index: usize, before: &Derived, after: &Derived) -> (i64, i64) {
        let counts = [
            self.referrals
                .diff(index, &before.referrals, &after.referrals, |r| {
                    r.referral_date.clone()
                }),
            self.assessments
                .diff(index, &before.assessments, &after.assessments, |r| {
                    r.start_date.clone()
                }),
            self.s47s
                .diff(index, &before.s47s, &after.s47s, |r| r.start_date.clone()),
            self.icpcs
                .diff(index, &before.icpcs, &after.icpcs, |r| r.icpc_date.clone()),
            self.cin_plans
                .diff(index, &before.cin_plans, &after.cin_plans, |r| {
                    r.start_date.clone()
                }),
            self.cp_plans
                .diff(index, &before.cp_plans, &after.cp_plans, |r| {
                    r.start_date.clone()
                }),
            self.children
                .diff(index, &before.children, &after.children, |r| {
                    r.child_id.clone()
                }),
            self.episodes
                .diff(index, &before.episodes, &after.episodes, |r| {
                    r.decom.clone()
                }),
            self.social_workers
                .diff(index, &before.social_workers, &after.social_workers, |r| {
                    format!("{}\u{1f}{}", r.sw_id, r.start_date)
                }),
        ];
        counts.iter().fold((0, 0), |(w, d), (a, b)| (w + a, d + b))
    }

    fn check(&self) -> Result<(), Error> {
        let mut v = Violations::new();
        self.referrals
            .check::<csc_frontdoor::domain::Referral>(&mut v);
        self.assessments
            .check::<csc_frontdoor::domain::Assessment>(&mut v);
        self.s47s
            .check::<csc_frontdoor::domain::Section47Enquiry>(&mut v);
        self.icpcs.check::<csc_frontdoor::domain::Icpc>(&mut v);
        self.cin_plans
            .check::<csc_protection::domain::CinPlan>(&mut v);
        self.cp_plans
            .check::<csc_protection::domain::CpPlan>(&mut v);
        self.children.check::<csc_placements::domain::Child>(&mut v);
        self.episodes
            .check::<csc_placements::domain::Episode>(&mut v);
        self.social_workers
            .check::<csc_placements::domain::SwAllocation>(&mut v);
        v.into_result(()).map_err(Error::Invalid)
    }

    /// Deletes first (a purged record and a new one may share a natural key), then upserts.
    async fn apply(&self, up: &Upstreams) -> Result<(), Status> {
        let (mut f, mut p, mut l) = (
            up.frontdoor.clone(),
            up.protection.clone(),
            up.placements.clone(),
        );
        let svc = |what: &'static str| move |s: Status| upstream(what, s);
        macro_rules! delete {
            ($kind:ident, $client:ident . $method:ident, $service:literal, |$r:ident| $key:expr) => {
                for (_, $r) in &self.$kind.deletes {
                    gone($client.$method($key).await).map_err(svc($service))?;
                }
            };
        }
        macro_rules! upsert {
            ($kind:ident, $client:ident . $method:ident, $service:literal, |$records:ident| $req:expr) => {
                for $records in chunks(self.$kind.records()) {
                    $client.$method($req).await.map_err(svc($service))?;
                }
            };
        }
        delete!(referrals, f.delete_referral, "front door", |r| {
            fd::ReferralKey {
                la_code: r.la_code.clone(),
                child_id: r.child_id.clone(),
                referral_date: r.referral_date.clone(),
            }
        });
        delete!(assessments, f.delete_assessment, "front door", |r| {
            fd::AssessmentKey {
                la_code: r.la_code.clone(),
                child_id: r.child_id.clone(),
                start_date: r.start_date.clone(),
            }
        });
        delete!(s47s, f.delete_section47_enquiry, "front door", |r| {
            fd::Section47EnquiryKey {
                la_code: r.la_code.clone(),
                child_id: r.child_id.clone(),
                start_date: r.start_date.clone(),
            }
        });
        delete!(icpcs, f.delete_icpc, "front door", |r| fd::IcpcKey {
            la_code: r.la_code.clone(),
            child_id: r.child_id.clone(),
            icpc_date: r.icpc_date.clone(),
        });
        delete!(cin_plans, p.delete_cin_plan, "child protection", |r| {
            plan_key(&r.la_code, &r.child_id, &r.start_date)
        });
        delete!(cp_plans, p.delete_cp_plan, "child protection", |r| {
            plan_key(&r.la_code, &r.child_id, &r.start_date)
        });
        delete!(episodes, l.delete_episode, "looked-after children", |r| {
            pl::EpisodeKey {
                la_code: r.la_code.clone(),
                child_id: r.child_id.clone(),
                decom: r.decom.clone(),
            }
        });
        delete!(
            social_workers,
            l.delete_social_worker_allocation,
            "looked-after children",
            |r| pl::SocialWorkerAllocationKey {
                la_code: r.la_code.clone(),
                child_id: r.child_id.clone(),
                sw_id: r.sw_id.clone(),
                start_date: r.start_date.clone(),
            }
        );
        delete!(children, l.delete_child, "looked-after children", |r| {
            pl::ChildKey {
                la_code: r.la_code.clone(),
                child_id: r.child_id.clone(),
            }
        });

        let id = || uuid::Uuid::new_v4().to_string();
        upsert!(
            referrals,
            f.batch_upsert_referrals,
            "front door",
            |records| {
                fd::BatchUpsertReferralsRequest {
                    request_id: id(),
                    records,
                }
            }
        );
        upsert!(
            assessments,
            f.batch_upsert_assessments,
            "front door",
            |records| {
                fd::BatchUpsertAssessmentsRequest {
                    request_id: id(),
                    records,
                    keep_stored: true,
                }
            }
        );
        upsert!(
            s47s,
            f.batch_upsert_section47_enquiries,
            "front door",
            |records| {
                fd::BatchUpsertSection47EnquiriesRequest {
                    request_id: id(),
                    records,
                    keep_stored: true,
                }
            }
        );
        upsert!(icpcs, f.batch_upsert_icpcs, "front door", |records| {
            fd::BatchUpsertIcpcsRequest {
                request_id: id(),
                records,
            }
        });
        upsert!(
            cin_plans,
            p.batch_upsert_cin_plans,
            "child protection",
            |records| {
                pr::BatchUpsertCinPlansRequest {
                    request_id: id(),
                    records,
                    keep_stored: true,
                }
            }
        );
        upsert!(
            cp_plans,
            p.batch_upsert_cp_plans,
            "child protection",
            |records| {
                pr::BatchUpsertCpPlansRequest {
                    request_id: id(),
                    records,
                    replace_reviews: false,
                    keep_stored: true,
                }
            }
        );
        upsert!(
            children,
            l.batch_upsert_children,
            "looked-after children",
            |records| {
                pl::BatchUpsertChildrenRequest {
                    request_id: id(),
                    records,
                }
            }
        );
        upsert!(
            episodes,
            l.batch_upsert_episodes,
            "looked-after children",
            |records| {
                pl::BatchUpsertEpisodesRequest {
                    request_id: id(),
                    records,
                    keep_stored: true,
                }
            }
        );
        upsert!(
            social_workers,
            l.batch_upsert_social_worker_allocations,
            "looked-after children",
            |records| pl::BatchUpsertSocialWorkerAllocationsRequest {
                request_id: id(),
                records,
            }
        );
        Ok(())
    }
}

fn plan_key(la: &str, child: &str, start: &str) -> pr::PlanKey {
    pr::PlanKey {
        la_code: la.to_owned(),
        child_id: child.to_owned(),
        start_date: start.to_owned(),
    }
}

fn chunks<P>(records: Vec<P>) -> Vec<Vec<P>> {
    let mut out = Vec::new();
    let mut it = records.into_iter().peekable();
    while it.peek().is_some() {
        out.push(it.by_ref().take(CHUNK).collect());
    }
    out
}

/// A delete of what is already gone is done.
fn gone(r: Result<Response<cpb::DeleteResponse>, Status>) -> Result<(), Status> {
    match r {
        Ok(_) => Ok(()),
        Err(s) if s.code() == Code::NotFound => Ok(()),
        Err(s) => Err(s),
    }
}

/// A domain service's refusal or failure, said as the intake's: nothing the intake holds has
/// changed, so the request may be sent again.
fn upstream(service: &str, s: Status) -> Status {
    let again = "; what the intake holds is unchanged, and sending the same request again \
                 applies the rest and repeats nothing";
    match s.code() {
        Code::InvalidArgument | Code::FailedPrecondition => Status::new(
            s.code(),
            format!(
                "the {service} service refused a record: {}{again}",
                s.message()
            ),
        ),
        Code::Unauthenticated | Code::PermissionDenied => Status::unavailable(format!(
            "the intake's own token was refused by the {service} service ({}): it needs \
             frontdoor:write, protection:write and placements:write (docs/security.md){again}",
            s.message()
        )),
        _ => Status::unavailable(format!("the {service} service: {}{again}", s.message())),
    }
}

fn refusal(r: Refusal) -> Status {
    match r {
        Refusal::Malformed(m) => Error::invalid("payload", m).into(),
        Refusal::TooMany(n) => Status::out_of_range(format!(
            "{n} child records: a request carries at most {} (send them in batches)",
            schema::MAX_RECORDS
        )),
        Refusal::Invalid(problems) => {
            let mut v = Violations::new();
            for p in problems {
                v.add(p.path(), p.message);
            }
            Error::Invalid(v).into()
        }
    }
}

/// The DfE's receipt form: `YYYY-MM-DD_HH:MM:SS.ff_<uuid>.json`.
fn receipt(now: chrono::DateTime<chrono::Utc>) -> String {
    let centis = now.timestamp_subsec_millis() / 10;
    format!(
        "{}.{centis:02}_{}.json",
        now.format("%Y-%m-%d_%H:%M:%S"),
        uuid::Uuid::new_v4()
    )
}

#[tonic::async_trait]
impl pb::intake_service_server::IntakeService for Intake {
    async fn submit_children(
        &self,
        req: Request<pb::SubmitChildrenRequest>,
    ) -> Result<Response<pb::SubmitChildrenResponse>, Status> {
        let req = req.into_inner();
        let la = csc_core::LaCode::parse(&req.la_code)
            .map_err(|e| Status::from(Error::invalid("la_code", e)))?
            .to_string();
        let records = schema::check_request(&req.payload).map_err(refusal)?;
        let ids: Vec<String> = records
            .iter()
            .map(|r| r["la_child_id"].as_str().unwrap_or_default().to_owned())
            .collect();
        let named: Vec<&str> = req.children.iter().map(|c| c.child_id.as_str()).collect();
        if named != ids || req.children.iter().any(|c| c.la_code.trim() != la) {
            return Err(Error::invalid(
                "children",
                format!(
                    "the children named ({}) are not the payload's la_child_ids in order ({}), \
                     each under LA {la}",
                    named.len(),
                    ids.len()
                ),
            )
            .into());
        }
        let _one = self.one_at_a_time.lock().await;
        let now = chrono::Utc::now();

        // Each child as held before this request, and after every record of it (a child may
        // appear twice: each record applies on the one before).
        let mut before: HashMap<&str, Option<Value>> = HashMap::new();
        let mut after: BTreeMap<&str, (usize, Option<Value>, &'static str)> = BTreeMap::new();
        for (i, (record, id)) in records.iter().zip(&ids).enumerate() {
            if !before.contains_key(id.as_str()) {
                let held = store::load(&self.db, &la, id).await?;
                before.insert(id, held);
            }
            let current = match after.get(id.as_str()) {
                Some((_, doc, _)) => doc.clone(),
                None => before[id.as_str()].clone(),
            };
            let version = schema::valid_version(record).unwrap_or(schema::CURRENT);
            after.insert(id, (i, merge::apply(current.as_ref(), record), version));
        }
        let mut plan = Plan::default();
        let mut counts: HashMap<&str, (i64, i64, Vec<String>, bool)> = HashMap::new();
        for (id, (last, doc, _)) in &after {
            let was = before[id]
                .as_ref()
                .map(|d| derive(&la, d))
                .unwrap_or_default();
            let now = doc.as_ref().map(|d| derive(&la, d)).unwrap_or_default();
            let (w, d) = plan.add(*last, &was, &now);
            counts.insert(id, (w, d, now.not_held, before[id] != *doc));
        }
        plan.check()?;
        plan.apply(&self.up).await?;

        let at = now.to_rfc3339();
        let txn = self.db.begin().await.map_err(|e| Error::from_db(&e))?;
        for (id, (_, doc, version)) in &after {
            store::save(&txn, &la, id, doc.as_ref(), version, &at).await?;
        }
        txn.commit().await.map_err(|e| Error::from_db(&e))?;
        // Per request: debug, as a daily payload is 50 of them; the audit log keeps each call.
        tracing::debug!(
            la = %la,
            records = records.len(),
            children = after.len(),
            "DfE CSC API payload applied"
        );

        let receipts = ids
            .iter()
            .enumerate()
            .map(|(i, id)| {
                // A child sent twice: its counts are on its last record.
                let (written, deleted, not_held, changed) = match after.get(id.as_str()) {
                    Some((last, _, _)) if *last == i => counts.get(id.as_str()).cloned(),
                    _ => None,
                }
                .unwrap_or_default();
                pb::Receipt {
                    la_code: la.clone(),
                    child_id: id.clone(),
                    receipt: receipt(now),
                    written,
                    deleted,
                    not_held,
                    changed,
                }
            })
            .collect();
        Ok(Response::new(pb::SubmitChildrenResponse { receipts }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_receipt_has_the_dfe_form() {
        let t = chrono::DateTime::parse_from_rfc3339("2026-12-07T09:05:03.478Z")
            .unwrap()
            .to_utc();
        let r = receipt(t);
        assert!(r.starts_with("2026-12-07_09:05:03.47_"), "{r}");
        assert!(r.ends_with(".json"));
        let uuid = &r["2026-12-07_09:05:03.47_".len()..r.len() - 5];
        assert!(uuid::Uuid::parse_str(uuid).is_ok(), "{uuid}");
    }

    #[test]
    fn a_refused_value_is_named_at_its_place_in_the_request() {
        let doc = serde_json::json!({"la_child_id": "C1", "social_care_episodes": [
            {"social_care_episode_id": "E1", "referral_date": "2024-01-05", "referral_source": "ZZ"}]});
        let mut plan = Plan::default();
        plan.add(4, &Derived::default(), &derive("885", &doc));
        let Err(Error::Invalid(v)) = plan.check() else {
            panic!("an unknown referral source passes")
        };
        assert_eq!(v.0[0].field, "[4].social_care_episodes[0].referral_source");
        assert!(v.0[0].description.contains("ZZ"), "{}", v.0[0].description);
    }

    #[test]
    fn only_what_changed_is_written_and_what_went_is_deleted() {
        let one = serde_json::json!({"la_child_id": "C1", "social_care_episodes": [
            {"social_care_episode_id": "E1", "referral_date": "2024-01-05", "referral_source": "1C",
             "child_in_need_plans": [{"child_in_need_plan_id": "P1", "start_date": "2024-02-01"}]}]});
        let d = derive("885", &one);
        let mut same = Plan::default();
        assert_eq!(same.add(0, &d, &d), (0, 0));
        let mut two = one.clone();
        two["social_care_episodes"][0]["child_in_need_plans"] = serde_json::json!([]);
        two["social_care_episodes"][0]["referral_no_further_action_flag"] = true.into();
        let mut plan = Plan::default();
        assert_eq!(plan.add(0, &d, &derive("885", &two)), (1, 1));
        assert!(plan.referrals.upserts[0].1.record.nfa);
        assert_eq!(plan.cin_plans.deletes[0].1.start_date, "2024-02-01");
    }
}
