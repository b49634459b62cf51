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

use super::{BATCH, ImportSummary, Origin, Tally};
use crate::client::{
    FinanceClient, FrontDoorClient, PlacementsClient, ProtectionClient, Retry, describe_status,
    retrying,
};

/// A record kind a service takes in batches, and the client that sends it.
pub trait Upload: prost::Message + Clone + Send + Sync + 'static {
    type Client: Clone + Send + Sync + 'static;
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

/// Buffers one kind of record and sends it in batches, in order, from a task of its own: the
/// reader goes on parsing while a batch is on the wire, and the kinds of a file (and the files of
/// different services) are sent side by side. At most [`QUEUED`] full batches wait behind the one
/// being sent, so the client's memory stays bounded whatever the file's size; batches of one kind
/// are sent one after another, so a record that appears twice lands in the order the file gives.
pub struct Uploader<P: Upload> {
    buf: Vec<(P, Origin)>,
    /// Sent with each batch: fields the records leave empty keep their stored values (a source
    /// that holds less than another, such as Annex A beside the CIN census).
    pub keep_stored: bool,
    lane: Option<Lane<P>>,
}

/// Full batches waiting for their kind's sender, beside the one it is sending.
pub const QUEUED: usize = 1;

/// The task sending one kind's batches, and the queue that feeds it.
struct Lane<P: Upload> {
    tx: tokio::sync::mpsc::Sender<Vec<(P, Origin)>>,
    task: AbortOnDrop<anyhow::Result<Outcome>>,
}

/// A sender's task, stopped if its uploader is dropped unflushed: an import that stops on an
/// error stops its senders too (a flushed lane's task has already ended).
pub(super) struct AbortOnDrop<T>(pub(super) tokio::task::JoinHandle<T>);

impl<T> Drop for AbortOnDrop<T> {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// What a lane's batches did, added to the import's summary when the kind is flushed.
#[derive(Default)]
struct Outcome {
    /// Received, accepted and unchanged, as the service answered (refusals are counted as they
    /// are added to the summary).
    tally: Tally,
    /// Each refused record: its child and its (source, reason) problems, in the file's order.
    rejected: Vec<(String, Vec<(String, String)>)>,
}

impl<P: Upload> Default for Uploader<P> {
    fn default() -> Self {
        Self {
            buf: Vec::with_capacity(BATCH),
            keep_stored: false,
            lane: None,
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
            self.hand_off(client).await?;
        }
        Ok(())
    }

    /// Queues the buffered records for this kind's sender, starting it if need be; waits while
    /// [`QUEUED`] batches are already waiting. A sender that has stopped on an error gives it.
    async fn hand_off(&mut self, client: &P::Client) -> anyhow::Result<()> {
        let batch = std::mem::replace(&mut self.buf, Vec::with_capacity(BATCH));
        let keep_stored = self.keep_stored;
        let lane = self.lane.get_or_insert_with(|| {
            let (tx, mut rx) = tokio::sync::mpsc::channel::<Vec<(P, Origin)>>(QUEUED);
            let mut client = client.clone();
            let task = tokio::spawn(async move {
                let mut outcome = Outcome::default();
                while let Some(batch) = rx.recv().await {
                    send_batch(&mut client, batch, keep_stored, &mut outcome).await?;
                }
                Ok(outcome)
            });
            Lane {
                tx,
                task: AbortOnDrop(task),
            }
        });
        if lane.tx.send(batch).await.is_err() {
            // The sender ended before its queue closed: only an error ends it early.
            let Lane { mut task, .. } = self.lane.take().expect("just used");
            (&mut task.0).await??;
            anyhow::bail!("the sender of {} stopped unexpectedly", P::KIND);
        }
        Ok(())
    }

    /// Sends what is buffered and waits for every batch of this kind to be answered, then adds
    /// what they did to `report`. Records the service refuses are reported and left out, and the
    /// rest sent again, so that every valid record lands.
    pub async fn flush(
        &mut self,
        client: &mut P::Client,
        report: &mut ImportSummary,
    ) -> anyhow::Result<()> {
        if !self.buf.is_empty() {
            self.hand_off(client).await?;
        }
        let Some(Lane { tx, mut task }) = self.lane.take() else {
            return Ok(());
        };
        // Closing the queue ends the sender once it has sent what is queued.
        drop(tx);
        let outcome = (&mut task.0).await??;
        report
            .tallies
            .entry(P::KIND)
            .or_default()
            .add(outcome.tally);
        for (child_id, problems) in outcome.rejected {
            report.reject_record(P::KIND, &child_id, problems);
        }
        Ok(())
    }
}

/// Sends one batch. Records the service refuses are noted in `outcome` and left out, and the rest
/// sent again, so that every valid record lands.
async fn send_batch<P: Upload>(
    client: &mut P::Client,
    mut pending: Vec<(P, Origin)>,
    keep_stored: bool,
    outcome: &mut Outcome,
) -> anyhow::Result<()> {
    while !pending.is_empty() {
        let records: Vec<P> = pending.iter().map(|(r, _)| r.clone()).collect();
        match send_with_retry::<P>(client, records, keep_stored).await {
            Ok(resp) => {
                outcome.tally.received += resp.received as u64;
                outcome.tally.accepted += resp.written as u64;
                outcome.tally.unchanged += resp.unchanged as u64;
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
                        Some(problems) => outcome.rejected.push((
                            origin.child_id.clone(),
                            problems
                                .iter()
                                .map(|(field, reason)| {
                                    (origin.source_of(field), name_records(reason, &locations))
                                })
                                .collect(),
                        )),
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
    use std::sync::{Arc, Mutex};

    /// A record kind for the uploader's own tests, sent to a stand-in service.
    #[derive(Clone, PartialEq, prost::Message)]
    struct Rec {
        #[prost(string, tag = "1")]
        la_code: String,
        #[prost(uint32, tag = "2")]
        n: u32,
    }

    /// The stand-in service: the batches it stored, in the order they came, and how many were
    /// being answered at once at most. It refuses, with a field violation, each record whose
    /// number ends in 007.
    #[derive(Clone, Default)]
    struct Stand(Arc<Mutex<Seen>>);

    #[derive(Default)]
    struct Seen {
        stored: Vec<u32>,
        sending: usize,
        most_at_once: usize,
        /// At most, how many records the streamed file's reader had read that were not yet
        /// stored, when a batch arrived.
        most_ahead: usize,
    }

    /// Records the streamed test file's reader has made.
    static READ: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

    impl Upload for Rec {
        type Client = Stand;
        const KIND: &'static str = "test records";
        fn la(&self) -> &str {
            &self.la_code
        }
        fn send(
            client: &mut Stand,
            _request_id: String,
            records: Vec<Self>,
            _keep_stored: bool,
        ) -> impl Future<Output = Result<tonic::Response<BatchUpsertResponse>, Status>> + Send
        {
            let stand = client.clone();
            async move {
                {
                    let mut s = stand.0.lock().unwrap();
                    s.sending += 1;
                    s.most_at_once = s.most_at_once.max(s.sending);
                }
                tokio::time::sleep(Duration::from_millis(2)).await;
                let mut s = stand.0.lock().unwrap();
                s.sending -= 1;
                let ahead = READ
                    .load(std::sync::atomic::Ordering::SeqCst)
                    .saturating_sub(s.stored.len());
                s.most_ahead = s.most_ahead.max(ahead);
                let mut d = tonic_types::ErrorDetails::new();
                for (i, r) in records.iter().enumerate() {
                    if r.n % 1000 == 7 {
                        d.add_bad_request_violation(format!("records[{i}].n"), "ends in 007");
                    }
                }
                if d.has_bad_request_violations() {
                    return Err(Status::with_error_details(Code::InvalidArgument, "bad", d));
                }
                s.stored.extend(records.iter().map(|r| r.n));
                let n = records.len() as i64;
                Ok(tonic::Response::new(BatchUpsertResponse {
                    received: n,
                    written: n,
                    ..Default::default()
                }))
            }
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn batches_of_a_kind_land_one_at_a_time_in_file_order_and_refusals_are_reported() {
        let mut stand = Stand::default();
        let mut report = ImportSummary::default();
        let mut up = Uploader::<Rec>::default();
        let total = 5 * BATCH as u32 + 3;
        for n in 0..total {
            let origin = Origin {
                child_id: format!("C{n}"),
                location: format!("line {}", n + 2),
                ..Default::default()
            };
            let rec = Rec {
                la_code: "885".into(),
                n,
            };
            up.push(&mut stand, &mut report, rec, origin).await.unwrap();
        }
        // Nothing is counted until the kind is flushed; then everything is.
        assert!(!report.tallies.contains_key("test records"));
        up.flush(&mut stand, &mut report).await.unwrap();

        let refused: Vec<u32> = (0..total).filter(|n| n % 1000 == 7).collect();
        let landed: Vec<u32> = (0..total).filter(|n| n % 1000 != 7).collect();
        let seen = stand.0.lock().unwrap();
        assert_eq!(
            seen.stored, landed,
            "every valid record, in the file's order"
        );
        assert_eq!(
            seen.most_at_once, 1,
            "a kind's batches go one after another"
        );
        let t = report.tallies["test records"];
        assert_eq!(t.received, total as u64);
        assert_eq!(t.accepted, landed.len() as u64);
        assert_eq!(t.rejected, refused.len() as u64);
        let named: Vec<&str> = report
            .rejected
            .iter()
            .map(|p| p.child_id.as_str())
            .collect();
        let expected: Vec<String> = refused.iter().map(|n| format!("C{n}")).collect();
        assert_eq!(named, expected);
        assert!(report.rejected.iter().all(|p| p.reason == "ends in 007"));
        assert_eq!(report.rejected[0].source, "line 9 (n)");
        assert!(report.las_sent.contains("885"));
    }

    /// A CSV layout of test records: `n` and the LA.
    const NUMBERS: super::super::local::Format<Rec> = super::super::local::Format {
        required: &["n"],
        optional: &[],
        ignored: &[],
        aliases: &[],
        row: |row, la| {
            let n = match row.get("n").parse() {
                Ok(n) => n,
                Err(_) => {
                    row.fail("n", "not a number");
                    0
                }
            };
            READ.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            let origin = Origin {
                child_id: format!("C{n}"),
                location: format!("row {n}"),
                ..Default::default()
            };
            let la_code = la.unwrap_or_default().to_owned();
            (Rec { la_code, n }, origin)
        },
    };

    /// A CSV file is sent as it is read: every valid row lands in the file's order, the rows the
    /// reader refuses come first in the summary and then those the service refuses, and the
    /// reader is never more than a few batches ahead of the service, however long the file.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_csv_file_streams_to_its_service_with_the_reader_a_few_batches_ahead() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("numbers.csv");
        let total = 40 * BATCH as u32;
        let mut csv = String::from("n\n");
        for n in 0..total {
            if n == 5 {
                csv.push_str("five\n");
            } else {
                csv.push_str(&format!("{n}\n"));
            }
        }
        std::fs::write(&path, csv).unwrap();
        let mut stand = Stand::default();
        let mut report = ImportSummary::default();
        super::super::local::import_format(&mut stand, &NUMBERS, &path, Some("885"), &mut report)
            .await
            .unwrap();

        let seen = stand.0.lock().unwrap();
        let landed: Vec<u32> = (0..total).filter(|n| *n != 5 && n % 1000 != 7).collect();
        assert_eq!(seen.stored, landed, "every valid row, in the file's order");
        // The chunk being read, the 4 queued, the one being handed to the uploader, the
        // uploader's buffer, its queued batch and the batch on the wire (and the rows refused,
        // never stored): far less than the file's 40 batches.
        let refused = total as usize - landed.len();
        let bound = 1024 * (1 + 4 + 1) + 3 * BATCH + refused;
        assert!(
            seen.most_ahead <= bound,
            "the reader ran {} records ahead (bound {bound})",
            seen.most_ahead
        );
        let t = report.tallies["test records"];
        assert_eq!(t.received, total as u64);
        assert_eq!(t.accepted, landed.len() as u64);
        assert_eq!(t.rejected, total as u64 - landed.len() as u64);
        assert_eq!(report.rejected[0].reason, "not a number");
        assert!(
            report.rejected[0].source.contains("line 7"),
            "{:?}",
            report.rejected[0]
        );
        assert!(
            report.rejected[1..]
                .iter()
                .all(|p| p.reason == "ends in 007")
        );
        assert!(
            report
                .notes
                .iter()
                .any(|n| n.ends_with(&format!("{total} rows read"))),
            "{:?}",
            report.notes
        );
        assert!(report.refused_files.is_empty());
    }

    /// A file without a required column is refused whole, and nothing of it is sent.
    #[tokio::test]
    async fn a_csv_file_refused_whole_sends_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("numbers.csv");
        std::fs::write(&path, "m\n1\n2\n").unwrap();
        let mut stand = Stand::default();
        let mut report = ImportSummary::default();
        super::super::local::import_format(&mut stand, &NUMBERS, &path, Some("885"), &mut report)
            .await
            .unwrap();
        assert!(stand.0.lock().unwrap().stored.is_empty());
        assert_eq!(report.refused_files.len(), 1, "{:?}", report.refused_files);
        assert!(
            report.refused_files[0].1.contains('n'),
            "{:?}",
            report.refused_files
        );
        assert!(!report.tallies.contains_key("test records"));
    }

    #[tokio::test]
    async fn a_sender_that_fails_stops_the_import_with_its_error() {
        #[derive(Clone, PartialEq, prost::Message)]
        struct Down {
            #[prost(string, tag = "1")]
            la_code: String,
        }
        impl Upload for Down {
            type Client = ();
            const KIND: &'static str = "down records";
            fn la(&self) -> &str {
                &self.la_code
            }
            async fn send(
                _: &mut (),
                _: String,
                _: Vec<Self>,
                _: bool,
            ) -> Result<tonic::Response<BatchUpsertResponse>, Status> {
                Err(Status::permission_denied("not for this LA"))
            }
        }
        let mut report = ImportSummary::default();
        let mut up = Uploader::<Down>::default();
        let mut failed = None;
        for _ in 0..4 * BATCH {
            let rec = Down {
                la_code: "885".into(),
            };
            if let Err(e) = up.push(&mut (), &mut report, rec, Origin::default()).await {
                failed = Some(e);
                break;
            }
        }
        let e = match failed {
            Some(e) => e,
            None => up.flush(&mut (), &mut report).await.unwrap_err(),
        };
        assert!(format!("{e:#}").contains("not for this LA"), "{e:#}");
    }

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
            sources_are_columns: false,
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
