"""A server's limits as a stock client meets them (docs/security.md): calls beyond the server's
budget are shed with RESOURCE_EXHAUSTED and a RetryInfo, and a retry lands; oversized headers are
refused for that call alone, with the gRPC code and message the documentation gives."""

import threading
import time

import grpc
import pytest
from google.rpc import error_details_pb2
from grpc_status import rpc_status

from conftest import serve
from reflected import method

SERVICE = "csc.frontdoor.v1.FrontDoorService"


@pytest.fixture(scope="module")
def tight():
    """A front door that runs at most 2 calls at once, with the smallest request budget."""
    yield from serve("frontdoor", ["--max-concurrent-calls", "2", "--max-inflight-request-mib", "1"])


def retry_delay(e):
    """The RetryInfo delay of an error, in seconds, or None."""
    status = rpc_status.from_call(e)
    for d in status.details if status else []:
        if d.Is(error_details_pb2.RetryInfo.DESCRIPTOR):
            info = error_details_pb2.RetryInfo()
            d.Unpack(info)
            return info.retry_delay.seconds + info.retry_delay.nanos / 1e9
    return None


def contacts(req_cls, rid, n, prefix):
    req = req_cls(request_id=rid)
    for k in range(n):
        c = req.records.add()
        c.la_code, c.contact_id, c.child_id, c.contact_date, c.source = "885", f"{prefix}{k}", f"C{k}", "2025-01-01", "6"
    return req


def test_calls_beyond_the_budget_are_shed_with_retry_advice_and_land_when_retried(tight):
    channel = grpc.insecure_channel(tight)
    req_cls, upsert = method(channel, SERVICE, "BatchUpsertContacts")
    outcomes, delays = [], []
    lock = threading.Lock()

    def send(i):
        req = contacts(req_cls, f"shed-{i}", 5000, f"S{i}-")
        # Retried as the importers do, for up to two minutes (a slow machine runs 2 at a time).
        deadline = time.time() + 120
        attempt = 0
        while time.time() < deadline:
            attempt += 1
            try:
                upsert(req, timeout=60)
                with lock:
                    outcomes.append(("OK", attempt))
                return
            except grpc.RpcError as e:
                if e.code() != grpc.StatusCode.RESOURCE_EXHAUSTED:
                    with lock:
                        outcomes.append((f"{e.code()}: {e.details()}", attempt))
                    return
                with lock:
                    delays.append(retry_delay(e))
                time.sleep(0.1)
        with lock:
            outcomes.append(("gave up", attempt))

    threads = [threading.Thread(target=send, args=(i,)) for i in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert [o for o, _ in outcomes] == ["OK"] * 12, outcomes
    assert delays, "12 concurrent batches against a budget of 2 calls: some must be shed"
    assert all(d == 1.0 for d in delays), delays
    count_cls, count = method(channel, SERVICE, "ListContacts")
    seen, token = 0, ""
    while True:
        page = count(count_cls(la_code="885", page_size=1000, page_token=token), timeout=30)
        seen += len(page.records)
        token = page.next_page_token
        if not token:
            break
    assert seen == 12 * 5000


def test_oversized_headers_are_refused_for_that_call_alone(frontdoor):
    channel = grpc.insecure_channel(frontdoor)
    req_cls, measures = method(channel, SERVICE, "ComputeMeasures")
    up_cls, upsert = method(channel, SERVICE, "BatchUpsertContacts")
    ask = req_cls(la_code="885", period="2018-19")
    measures(ask, metadata=[("x-pad", "a" * 8_000)], timeout=30)  # within the limit

    results = []

    def batch(i):
        try:
            upsert(contacts(up_cls, f"hdr-{i}", 5000, f"H{i}-"), timeout=60)
            results.append("OK")
        except grpc.RpcError as e:
            results.append(str(e.code()))

    # Over 16 KiB and within the HTTP/2 limit (256 KiB): RESOURCE_EXHAUSTED naming the limit,
    # while other calls on the same connection carry on.
    threads = [threading.Thread(target=batch, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    with pytest.raises(grpc.RpcError) as e:
        measures(ask, metadata=[("x-pad", "a" * 100_000)], timeout=30)
    for t in threads:
        t.join()
    assert e.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED, e.value
    assert "limit of 16384 bytes" in e.value.details()
    assert results == ["OK"] * 4, results

    # Beyond the HTTP/2 limit the HTTP/2 library (h2) answers before the server sees the call:
    # HTTP 431 or a stream reset, whichever reaches the client first (UNKNOWN or INTERNAL to a
    # gRPC client), and far beyond it a GOAWAY (UNAVAILABLE). Never an answer; and the next call
    # on the channel succeeds.
    with pytest.raises(grpc.RpcError) as e:
        measures(ask, metadata=[("x-pad", "a" * 290_000)], timeout=30)
    assert e.value.code() in (grpc.StatusCode.UNKNOWN, grpc.StatusCode.INTERNAL), e.value
    measures(ask, timeout=30)
    with pytest.raises(grpc.RpcError) as e:
        measures(ask, metadata=[("x-pad", "a" * 1_000_000)], timeout=30)
    assert e.value.code() in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.INTERNAL, grpc.StatusCode.UNKNOWN), e.value
    measures(ask, timeout=30)
