"""The finance service as a stock gRPC client sees it: money is whole pence, bad costs are named."""

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

import reflected

from test_stock_client import bad_request

SERVICE = "csc.finance.v1.FinanceService"


def method(channel, name):
    return reflected.method(channel, SERVICE, name)


def commitment(**over):
    c = {
        "la_code": "885",
        "child_id": "F1",
        "placement_start": "2018-04-01",
        "start_date": "2018-04-01",
        "weekly_cost_pence": 78950,
        "category_key": "ifa",
    }
    c.update(over)
    return c


def test_health(finance):
    with grpc.insecure_channel(finance) as ch:
        status = health_pb2_grpc.HealthStub(ch).Check(health_pb2.HealthCheckRequest(service=SERVICE), timeout=5).status
        assert status == health_pb2.HealthCheckResponse.SERVING


def test_a_float_cannot_be_sent_where_pence_are_expected(finance):
    with grpc.insecure_channel(finance) as ch:
        req_cls, _ = method(ch, "BatchUpsertCommitments")
        # The API's money is int64 pence: a stock client cannot even build a float amount.
        with pytest.raises(TypeError):
            req_cls(request_id="f", records=[commitment(weekly_cost_pence=789.5)])


def test_bad_costs_get_field_violations_and_nothing_is_applied(finance):
    with grpc.insecure_channel(finance) as ch:
        req_cls, upsert = method(ch, "BatchUpsertCommitments")
        records = [
            commitment(child_id="G1"),
            commitment(child_id="G2", weekly_cost_pence=-100),
            commitment(child_id="G3", weekly_cost_pence=10**9),
            commitment(child_id="G4", end_date="2018-03-01"),
        ]
        with pytest.raises(grpc.RpcError) as e:
            upsert(req_cls(request_id="g", records=records), timeout=10)
        assert e.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        fields = [v.field for v in bad_request(e.value).field_violations]
        assert fields == ["records[1].weekly_cost_pence", "records[2].weekly_cost_pence", "records[3].end_date"]

        list_cls, list_rpc = method(ch, "ListCommitments")
        assert len(list_rpc(list_cls(la_code="885"), timeout=10).records) == 0

        ok = upsert(req_cls(request_id="h", records=records[:1]), timeout=10)
        assert (ok.received, ok.written) == (1, 1)
        measures_cls, measures = method(ch, "ComputeMeasures")
        resp = measures(measures_cls(la_code="885", period="2018-19-Q1"), timeout=10)
        weekly = next(m for m in resp.measures if m.id == "finance.weekly_spend_at_end")
        assert weekly.pence == 78950 and not weekly.HasField("value"), "money travels as pence, not a float"
