//! Sending records in batches: each record kind's batch call, buffering, retrying while a service
//! is unavailable, and, when a batch is refused, reporting the refused records (named by where
//! they came from) and sending the rest again, so that every valid record lands.

use std::{collections::BTreeMap, future::Future, time::Duration};

use csc_proto::{
    common::BatchUpsertResponse, finance as fpb, frontdoor as pb, placements as lpb,
    protection as ppb,
};
use tonic::{Code, Status};
use tonic_types::StatusExt;

use super::{BATCH, ImportSummary, Origin};
use crate::client::{
    FinanceClient, FrontDoorClient, PlacementsClient, ProtectionClient, Retry, describe_status,
    retrying,
};

/// A record kind a service takes in batches, and the client that sends it.
pub trait Upload: prost::Message + Clone + Send + Sync + 'static {
    type Client: Clone + Send;
    const KIND: &'static str;
    /// The record's LA.
    fn la(&self) -> &str;
    /// Sends a batch; `keep_stored` (for kinds whose request has it) keeps stored values in the
    /// fields the records leave empty.
    fn send(
        client: &mut Self::Client,
        request_id: String,
        records: Vec<Self>,
        keep_stored: bool,
    ) -> impl Future<Output = Result<tonic::Response<BatchUpsertResponse>, Status>> + Send;
}

macro_rules! upload {
    ($client:ty, $pkg:ident :: $t:ident, $kind:literal, $req:ident, $method:ident $(, $keep:ident)?) => {
        impl Upload for $pkg::$t {
            type Client = $client;
            const KIND: &'static str = $kind;
            fn la(&self) -> &str {
                &self.la_code
            }
            fn send(
                client: &mut $client,
                request_id: String,
                records: Vec<Self>,
                keep_stored: bool,
            ) -> impl Future<Output = Result<tonic::Response<BatchUpsertResponse>, Status>> + Send
            {
                // Options beyond the id, the records and keep_stored (replace_reviews) keep their
                // defaults.
                #[allow(clippy::needless_update, unused_mut)]
                let mut msg = $pkg::$req {
                    request_id,
                    records,
                    ..Default::default()
                };
                $(msg.$keep = keep_stored;)?
                let _ = keep_stored;
                let mut req = tonic::Request::new(msg);
                req.set_timeout(BATCH_DEADLINE);
                client.$method(req)
            }
        }
    };
}
upload!(
    FrontDoorClient,
    pb::Contact,
    "contacts",
    BatchUpsertContactsRequest,
    batch_upsert_contacts
);
upload!(
    FrontDoorClient,
    pb::EarlyHelpAssessment,
    "early help assessments",
    BatchUpsertEarlyHelpAssessmentsRequest,
    batch_upsert_early_help_assessments
);
upload!(
    FrontDoorClient,
    pb::Referral,
    "referrals",
    BatchUpsertReferralsRequest,
    batch_upsert_referrals
);
upload!(
    FrontDoorClient,
    pb::Assessment,
    "assessments",
    BatchUpsertAssessmentsRequest,
    batch_upsert_assessments,
    keep_stored
);
upload!(
    FrontDoorClient,
    pb::Section47Enquiry,
    "section 47 enquiries",
    BatchUpsertSection47EnquiriesRequest,
    batch_upsert_section47_enquiries,
    keep_stored
);
upload!(
    FrontDoorClient,
    pb::StrategyDiscussion,
    "strategy discussions",
    BatchUpsertStrategyDiscussionsRequest,
    batch_upsert_strategy_discussions
);
upload!(
    FrontDoorClient,
    pb::Icpc,
    "ICPCs",
    BatchUpsertIcpcsRequest,
    batch_upsert_icpcs
);
upload!(
    ProtectionClient,
    ppb::CinPlan,
    "CIN plans",
    BatchUpsertCinPlansRequest,
    batch_upsert_cin_plans,
    keep_stored
);
upload!(
    ProtectionClient,
    ppb::CpPlan,
    "CP plans",
    BatchUpsertCpPlansRequest,
    batch_upsert_cp_plans,
    keep_stored
);
upload!(
    ProtectionClient,
    ppb::MissingEpisode,
    "missing episodes",
    BatchUpsertMissingEpisodesRequest,
    batch_upsert_missing_episodes
);
upload!(
    ProtectionClient,
    ppb::FeedbackResponse,
    "feedback responses",
    BatchUpsertFeedbackRequest,
    batch_upsert_feedback
);
upload!(
    PlacementsClient,
    lpb::CareSummary,
    "care summaries",
    BatchUpsertCareSummariesRequest,
    batch_upsert_care_summaries
);
upload!(
    PlacementsClient,
    lpb::Child,
    "children",
    BatchUpsertChildrenRequest,
    batch_upsert_children
);
upload!(
    PlacementsClient,
    lpb::Episode,
    "episodes",
    BatchUpsertEpisodesRequest,
    batch_upsert_episodes
);
upload!(
    PlacementsClient,
    lpb::SocialWorkerAllocation,
    "social worker allocations",
    BatchUpsertSocialWorkerAllocationsRequest,
    batch_upsert_social_worker_allocations
);
upload!(
    PlacementsClient,
    lpb::Review,
    "CLA reviews",
    BatchUpsertReviewsRequest,
    batch_upsert_reviews,
    keep_stored
);
upload!(
    FinanceClient,
    fpb::Commitment,
    "commitments",
    BatchUpsertCommitmentsRequest,
    batch_upsert_commitments
);

/// Buffers one kind of record and sends it in batches.
pub struct Uploader<P: Upload> {
    buf: Vec<(P, Origin)>,
    /// Sent with each batch: fields the records leave empty keep their stored values (a source
    /// that holds less than another, such as Annex A beside the CIN census).
    pub keep_stored: bool,
}

impl<P: Upload> Default for Uploader<P> {
    fn default() -> Self {
        Self {
            buf: Vec::with_capacity(BATCH),
            keep_stored: false,
        }
    }
}

/// Deadline of one batch call: generous, since a busy PostgreSQL may take seconds.
const BATCH_DEADLINE: Duration = Duration::from_secs(60);

impl<P: Upload> Uploader<P> {
    /// An uploader whose batches keep stored values in the fields their records leave empty.
    pub fn keeping_stored() -> Self {
        Uploader {
            keep_stored: true,
            ..Self::default()
        }
    }

    pub async fn push(
        &mut self,
        client: &mut P::Client,
        report: &mut ImportSummary,
        record: P,
        origin: Origin,
    ) -> anyhow::Result<()> {
        if !report.las_sent.contains(record.la()) {
            report.las_sent.insert(record.la().to_owned());
        }
        self.buf.push((record, origin));
        if self.buf.len() >= BATCH {
            self.flush(client, report).await?;
        }
        Ok(())
    }

    /// Sends what is buffered. Records the service refuses are reported and left out, and the rest
    /// sent again, so that every valid record lands.
    pub async fn flush(
        &mut self,
        client: &mut P::Client,
        report: &mut ImportSummary,
    ) -> anyhow::Result<()> {
        let mut pending = std::mem::take(&mut self.buf);
        while !pending.is_empty() {
            let records: Vec<P> = pending.iter().map(|(r, _)| r.clone()).collect();
            match send_with_retry::<P>(client, records, self.keep_stored).await {
                Ok(resp) => {
                    let t = report.tallies.entry(P::KIND).or_default();
                    t.received += resp.received as u64;
                    t.accepted += resp.written as u64;
                    t.unchanged += resp.unchanged as u64;
                    break;
                }
                Err(status) if status.code() == Code::InvalidArgument => {
                    let by_index = record_violations(&status);
                    if by_index.is_empty() {
                        return Err(describe_status(status)
                            .context(format!("the service refused a batch of {}", P::KIND)));
                    }
                    // "same key as records[3]" names the batch's record 3: say where it came from.
                    let locations: Vec<String> =
                        pending.iter().map(|(_, o)| o.location.clone()).collect();
                    let mut keep = Vec::with_capacity(pending.len());
                    for (i, (r, origin)) in pending.into_iter().enumerate() {
                        match by_index.get(&i) {
                            None => keep.push((r, origin)),
                            Some(problems) => report.reject_record(
                                P::KIND,
                                &origin.child_id,
                                problems.iter().map(|(field, reason)| {
                                    (origin.source_of(field), name_records(reason, &locations))
                                }),
                            ),
                        }
                    }
                    pending = keep;
                }
                Err(status) => {
                    return Err(describe_status(status).context(format!("sending {}", P::KIND)));
                }
            }
        }
        Ok(())
    }
}

async fn send_with_retry<P: Upload>(
    client: &mut P::Client,
    records: Vec<P>,
    keep_stored: bool,
) -> Result<BatchUpsertResponse, Status> {
    // One request id for every try: a batch that landed before its answer was lost is answered
    // "unchanged" when tried again.
    let request_id = uuid::Uuid::new_v4().to_string();
    let what = format!("a batch of {}", P::KIND);
    retrying(Retry::IMPORT, &what, || {
        // tonic's clients are handles on one shared channel: a clone per try is cheap.
        let (mut client, request_id, records) =
            (client.clone(), request_id.clone(), records.clone());
        async move { P::send(&mut client, request_id, records, keep_stored).await }
    })
    .await
    .map(tonic::Response::into_inner)
}

/// `reason` with each `records[N]` it mentions replaced by where record N came from.
fn name_records(reason: &str, locations: &[String]) -> String {
    let mut out = String::with_capacity(reason.len());
    let mut rest = reason;
    while let Some(at) = rest.find("records[") {
        out.push_str(&rest[..at]);
        let after = &rest[at + "records[".len()..];
        match after.split_once(']') {
            Some((n, tail)) if n.parse::<usize>().is_ok_and(|n| n < locations.len()) => {
                out.push_str(&locations[n.parse::<usize>().expect("checked")]);
                rest = tail;
            }
            _ => {
                out.push_str("records[");
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// BadRequest field violations grouped by record index: `records[17].source` → (17, "source").
fn record_violations(status: &Status) -> BTreeMap<usize, Vec<(String, String)>> {
    let mut out: BTreeMap<usize, Vec<(String, String)>> = BTreeMap::new();
    if let Some(br) = status.get_details_bad_request() {
        for v in br.field_violations {
            if let Some(rest) = v.field.strip_prefix("records[")
                && let Some((idx, tail)) = rest.split_once(']')
                && let Ok(i) = idx.parse::<usize>()
            {
                out.entry(i)
                    .or_default()
                    .push((tail.trim_start_matches('.').to_owned(), v.description));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_repeated_key_names_the_line_it_repeats() {
        let locations = vec!["f.csv line 2".to_owned(), "f.csv line 3".to_owned()];
        assert_eq!(
            name_records("same key as records[1] but different content", &locations),
            "same key as f.csv line 3 but different content"
        );
        assert_eq!(
            name_records("records[9] and records[x]", &locations),
            "records[9] and records[x]"
        );
    }

    #[test]
    fn violations_are_grouped_by_record_and_mapped_to_their_source() {
        let mut d = tonic_types::ErrorDetails::new();
        d.add_bad_request_violation(
            "records[3].factors[1]",
            "unknown assessment factor code \"RB\"",
        );
        d.add_bad_request_violation("records[3].authorisation_date", "before start");
        d.add_bad_request_violation("records[7]", "same key as records[2] but different content");
        let s = Status::with_error_details(Code::InvalidArgument, "bad", d);
        let v = record_violations(&s);
        assert_eq!(v.keys().copied().collect::<Vec<_>>(), [3, 7]);
        assert_eq!(v[&3][0].0, "factors[1]");
        assert_eq!(v[&7][0].0, "");
        let origin = Origin {
            child_id: "C1".into(),
            location: "Child[1]/CINdetails[1]/Assessments[1]".into(),
            fields: vec![("factors[1]".into(), "Child[1]/CINdetails[1]/Assessments[1]/FactorsIdentifiedAtAssessment/AssessmentFactors[2]".into())],
            year: None,
        };
        assert!(
            origin
                .source_of("factors[1]")
                .ends_with("AssessmentFactors[2]")
        );
        assert_eq!(
            origin.source_of(""),
            "Child[1]/CINdetails[1]/Assessments[1]"
        );
    }
}
