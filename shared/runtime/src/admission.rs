//! Load shedding: a server admits at most `max_calls` calls of its API at once, and holds at
//! most `max_request_bytes` of their request bodies; beyond either it answers at once with
//! RESOURCE_EXHAUSTED and a `RetryInfo` (retry in a second), instead of buffering more and
//! growing without bound. A body is counted as it arrives, frame by frame, so the bytes are
//! refused before they are held; an admitted call keeps its share until its answer is sent.
//! Health checks are never shed (the auth layer admits only calls of the API).

use std::{sync::Arc, time::Duration};

use bytes::{Bytes, BytesMut};
use http_body_util::BodyExt;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tonic::{Code, Status, body::Body};

/// How long a shed caller is asked to wait.
pub const RETRY_AFTER: Duration = Duration::from_secs(1);

/// The server's budget of calls and request bytes in flight.
#[derive(Debug, Clone)]
pub struct Admission {
    calls: Arc<Semaphore>,
    bytes: Arc<Semaphore>,
    max_calls: usize,
    max_bytes: usize,
}

/// An admitted call's share of the budget, given back when dropped.
#[derive(Debug)]
pub struct Ticket {
    _call: OwnedSemaphorePermit,
    bytes: Option<OwnedSemaphorePermit>,
}

fn shed(why: String) -> Status {
    crate::metrics::shed();
    crate::error::retry_status(Code::ResourceExhausted, &why, RETRY_AFTER)
}

impl Admission {
    /// A budget of `max_calls` calls and `max_bytes` bytes of request bodies (at least one
    /// largest message, [`crate::MAX_MESSAGE_BYTES`], so any single valid call can be admitted).
    pub fn new(max_calls: usize, max_bytes: usize) -> Self {
        let max_calls = max_calls.max(1);
        let max_bytes = max_bytes.max(crate::MAX_MESSAGE_BYTES + 5);
        Admission {
            calls: Arc::new(Semaphore::new(max_calls)),
            bytes: Arc::new(Semaphore::new(max_bytes)),
            max_calls,
            max_bytes,
        }
    }

    /// A call's ticket, or RESOURCE_EXHAUSTED when `max_calls` are in flight.
    pub fn admit(&self) -> Result<Ticket, Status> {
        match self.calls.clone().try_acquire_owned() {
            Ok(call) => Ok(Ticket {
                _call: call,
                bytes: None,
            }),
            Err(_) => Err(shed(format!(
                "the server is at its limit of {} calls in flight; retry shortly",
                self.max_calls
            ))),
        }
    }

    /// Reads a request body of at most `limit` bytes, taking each frame's bytes from the budget
    /// before keeping it: RESOURCE_EXHAUSTED when the budget is spent or the body is too long.
    pub async fn read(
        &self,
        ticket: &mut Ticket,
        body: Body,
        limit: usize,
    ) -> Result<Bytes, Status> {
        let mut body = body;
        let mut out = BytesMut::new();
        while let Some(frame) = body.frame().await {
            let frame = frame
                .map_err(|e| Status::cancelled(format!("the request could not be read: {e}")))?;
            let Ok(data) = frame.into_data() else {
                continue;
            };
            if out.len() + data.len() > limit {
                return Err(Status::resource_exhausted(format!(
                    "the request is larger than this server's limit of {limit} bytes"
                )));
            }
            let n = u32::try_from(data.len()).unwrap_or(u32::MAX);
            let permit = self.bytes.clone().try_acquire_many_owned(n).map_err(|_| {
                shed(format!(
                    "the server holds its limit of {} MiB of requests in flight; retry shortly",
                    self.max_bytes >> 20
                ))
            })?;
            match &mut ticket.bytes {
                Some(held) => held.merge(permit),
                None => ticket.bytes = Some(permit),
            }
            out.extend_from_slice(&data);
        }
        Ok(out.freeze())
    }
}

#[cfg(test)]
mod tests {
    use tonic_types::StatusExt;

    use super::*;

    fn body(chunks: &[usize]) -> Body {
        let frames: Vec<Result<http_body::Frame<Bytes>, std::convert::Infallible>> = chunks
            .iter()
            .map(|n| Ok(http_body::Frame::data(Bytes::from(vec![0u8; *n]))))
            .collect();
        Body::new(http_body_util::StreamBody::new(tokio_stream::iter(frames)))
    }

    fn is_shed(s: &Status) -> bool {
        s.code() == Code::ResourceExhausted
            && s.get_details_retry_info().and_then(|r| r.retry_delay) == Some(RETRY_AFTER)
    }

    #[test]
    fn calls_beyond_the_limit_are_shed_with_retry_advice_and_admitted_again_once_one_ends() {
        let a = Admission::new(2, 0);
        let t1 = a.admit().unwrap();
        let _t2 = a.admit().unwrap();
        let e = a.admit().unwrap_err();
        assert!(is_shed(&e), "{e:?}");
        assert!(e.message().contains("2 calls"), "{}", e.message());
        drop(t1);
        a.admit().expect("a slot is free again");
    }

    #[tokio::test]
    async fn request_bytes_are_held_until_the_call_ends_and_beyond_the_budget_are_refused() {
        let max = crate::MAX_MESSAGE_BYTES + 5;
        let a = Admission::new(8, max);
        let mut t1 = a.admit().unwrap();
        let got = a.read(&mut t1, body(&[max - 10, 4]), max).await.unwrap();
        assert_eq!(got.len(), max - 6);
        // 6 bytes of budget remain: a 7-byte body is shed, a 6-byte one is not.
        let mut t2 = a.admit().unwrap();
        let e = a.read(&mut t2, body(&[3, 4]), max).await.unwrap_err();
        assert!(is_shed(&e), "{e:?}");
        drop(t2); // a refused call gives back what it had taken
        let mut t3 = a.admit().unwrap();
        a.read(&mut t3, body(&[6]), max).await.unwrap();
        drop((t1, t3));
        let mut t4 = a.admit().unwrap();
        assert_eq!(
            a.read(&mut t4, body(&[max - 5]), max).await.unwrap().len(),
            max - 5
        );
    }

    #[tokio::test]
    async fn a_body_over_the_message_limit_is_refused_as_too_large_not_shed() {
        let a = Admission::new(8, 0);
        let mut t = a.admit().unwrap();
        let e = a.read(&mut t, body(&[10, 10]), 15).await.unwrap_err();
        assert_eq!(e.code(), Code::ResourceExhausted);
        assert!(e.get_details_retry_info().is_none(), "retrying cannot help");
    }
}
