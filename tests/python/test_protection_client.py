"""The child protection service as a stock gRPC client sees it: bad plans and episodes are named
field by field, nothing of a bad batch lands, and measures come back for the counts sent."""

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

import reflected
from test_stock_client import bad_request

SERVICE = "csc.protection.v1.ProtectionService"


def method(channel, name):
    return reflected.method(channel, SERVICE, name)


def plan(**over):
    p = {
        "la_code": "885",
        "child_id": "P1",
        "start_date": "2018-04-02",
        "initial_category": "NEG",
        "previous_plans": 0,
        "review_dates": ["2018-05-01"],
    }
    p.update(over)
    return p


def test_health(protection):
    with grpc.insecure_channel(protection) as ch:
        status = health_pb2_grpc.HealthStub(ch).Check(health_pb2.HealthCheckRequest(service=SERVICE), timeout=5).status
        assert status == health_pb2.HealthCheckResponse.SERVING


def test_bad_plans_get_field_violations_and_nothing_is_applied(protection):
    with grpc.insecure_channel(protection) as ch:
        req_cls, upsert = method(ch, "BatchUpsertCpPlans")
        records = [
            plan(),
            plan(child_id="P2", initial_category="ABC"),
            plan(child_id="P3", end_date="2018-04-01", review_dates=[]),
            plan(child_id="P4", review_dates=["2018-03-30"]),
            plan(child_id="P5", previous_plans=-2),
        ]
        with pytest.raises(grpc.RpcError) as e:
            upsert(req_cls(request_id="bad-plans", records=records), timeout=10)
        assert e.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        violations = bad_request(e.value).field_violations
        assert [v.field for v in violations] == [
            "records[1].initial_category",
            "records[2].end_date",
            "records[3].review_dates[0]",
            "records[4].previous_plans",
        ]
        assert '"ABC"' in violations[0].description

        list_cls, list_rpc = method(ch, "ListCpPlans")
        assert len(list_rpc(list_cls(la_code="885"), timeout=10).records) == 0

        ok = upsert(req_cls(request_id="good-plan", records=records[:1]), timeout=10)
        assert (ok.received, ok.written) == (1, 1)
        measures_cls, measures = method(ch, "ComputeMeasures")
        resp = measures(measures_cls(la_code="885", period="2018-19-Q1"), timeout=10)
        by_id = {m.id: m for m in resp.measures}
        # A count travels as a whole number in the `figure` oneof, never as a float to be guessed at.
        assert by_id["protection.cp_started"].WhichOneof("figure") == "count"
        assert by_id["protection.cp_started"].count == 1
        assert by_id["protection.cp_children_at_end"].count == 1
        neglect = next(r for r in by_id["protection.cp_open_at_end"].rows if r.key == "NEG")
        assert (neglect.count, neglect.percent) == (1, 100.0)


def test_bad_episodes_get_field_violations(protection):
    with grpc.insecure_channel(protection) as ch:
        req_cls, upsert = method(ch, "BatchUpsertMissingEpisodes")
        good = {
            "la_code": "885",
            "child_id": "M1",
            "start_date": "2018-04-02",
            "kind": "ABSENCE_KIND_MISSING",
            "absent_from": "ABSENT_FROM_CARE",
            "end_date": "2018-04-03",
            "interview_offered_date": "2018-04-03",
            "interview_outcome": "INTERVIEW_OUTCOME_ACCEPTED",
            "interview_completed_date": "2018-04-05",
        }
        records = [
            good,
            dict(good, child_id="M2", kind="ABSENCE_KIND_UNSPECIFIED"),
            dict(good, child_id="M3", end_date="", interview_completed_date="2018-04-05"),
            dict(good, child_id="M4", start_time="25:00"),
        ]
        with pytest.raises(grpc.RpcError) as e:
            upsert(req_cls(request_id="bad-episodes", records=records), timeout=10)
        assert e.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        fields = [v.field for v in bad_request(e.value).field_violations]
        assert fields == [
            "records[1].kind",
            "records[2].interview_completed_date",
            "records[3].start_time",
        ]
        ok = upsert(req_cls(request_id="good-episode", records=records[:1]), timeout=10)
        assert ok.written == 1
