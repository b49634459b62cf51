"""The looked-after children service as a stock gRPC client sees it: bad episodes are named field
by field, nothing of a bad batch lands, and a child's care history comes back."""

import grpc
import pytest

import reflected
from test_stock_client import bad_request

SERVICE = "csc.placements.v1.PlacementsService"


def method(channel, name):
    return reflected.method(channel, SERVICE, name)


def episode(**over):
    e = {
        "la_code": "885",
        "child_id": "L1",
        "decom": "2018-04-02",
        "rne": "S",
        "legal_status": "C2",
        "place": "U4",
        "dec": "2018-09-01",
        "rec": "X1",
        "reason_place_change": "CREQB",
    }
    e.update(over)
    return e


def test_bad_episodes_get_field_violations_and_a_history_comes_back(placements):
    with grpc.insecure_channel(placements) as ch:
        req_cls, upsert = method(ch, "BatchUpsertEpisodes")
        records = [
            episode(),
            episode(child_id="L2", place="Q9"),
            episode(child_id="L3", legal_status="Z9", rec="X9"),
            episode(child_id="L4", dec="2018-04-01"),
        ]
        with pytest.raises(grpc.RpcError) as e:
            upsert(req_cls(request_id="bad-episodes", records=records), timeout=10)
        assert e.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        fields = [v.field for v in bad_request(e.value).field_violations]
        assert fields == [
            "records[1].place",
            "records[2].legal_status",
            "records[2].rec",
            "records[3].dec",
        ]
        list_cls, list_rpc = method(ch, "ListEpisodes")
        assert len(list_rpc(list_cls(la_code="885"), timeout=10).records) == 0

        good = [
            episode(),
            episode(decom="2018-09-01", rne="P", place="K2", dec="", rec="", reason_place_change=""),
        ]
        ok = upsert(req_cls(request_id="good-episodes", records=good), timeout=10)
        assert (ok.received, ok.written) == (2, 2)
        key_cls, history = method(ch, "GetCareHistory")
        h = history(key_cls(la_code="885", child_id="L1"), timeout=10)
        assert len(h.periods) == 1 and len(h.periods[0].placements) == 2
        assert h.periods[0].placements[0].ended_with_move
        assert h.periods[0].placements[0].end_reason == "CREQB"
