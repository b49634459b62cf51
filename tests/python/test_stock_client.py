"""The front door as a stock gRPC client sees it: health, reflection, and error details.

Nothing here is generated from the suite's protos: every message class comes from the server's
reflection service, as a council system's integration engineer would first meet the API.
"""

import grpc
from google.protobuf import descriptor_pool, message_factory
from google.rpc import error_details_pb2
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha.proto_reflection_descriptor_database import ProtoReflectionDescriptorDatabase
from grpc_status import rpc_status

SERVICE = "csc.frontdoor.v1.FrontDoorService"


def reflect(channel):
    db = ProtoReflectionDescriptorDatabase(channel)
    pool = descriptor_pool.DescriptorPool(db)
    return db, pool


def call(channel, pool, method, fields):
    request_cls = message_factory.GetMessageClass(method.input_type)
    response_cls = message_factory.GetMessageClass(method.output_type)
    rpc = channel.unary_unary(
        f"/{SERVICE}/{method.name}",
        request_serializer=lambda m: m.SerializeToString(),
        response_deserializer=response_cls.FromString,
    )
    return rpc(request_cls(**fields), timeout=10)


def test_health_reports_serving_for_server_and_service(frontdoor):
    with grpc.insecure_channel(frontdoor) as ch:
        stub = health_pb2_grpc.HealthStub(ch)
        for service in ("", SERVICE):
            status = stub.Check(health_pb2.HealthCheckRequest(service=service), timeout=5).status
            assert status == health_pb2.HealthCheckResponse.SERVING, service


def test_reflection_lists_the_service_and_every_method_can_be_called(frontdoor):
    with grpc.insecure_channel(frontdoor) as ch:
        db, pool = reflect(ch)
        services = list(db.get_services())
        assert SERVICE in services
        assert "grpc.health.v1.Health" in services
        service = pool.FindServiceByName(SERVICE)
        names = [m.name for m in service.methods]
        assert "ComputeMeasures" in names and "BatchUpsertReferrals" in names
        assert "ComputeMeasureSeries" in names
        assert len(names) == 32
        for method in service.methods:
            fields = {}
            if "la_code" in method.input_type.fields_by_name:
                fields["la_code"] = "885"
            if "period" in method.input_type.fields_by_name:
                fields["period"] = "2018-19-Q1"
            if "periods" in method.input_type.fields_by_name:
                fields["periods"] = ["2018-19-Q1", "2018-19-Q2"]
            try:
                call(ch, pool, method, fields)
                code = grpc.StatusCode.OK
            except grpc.RpcError as e:
                code = e.code()
            # Every method is implemented: a Get/Delete with an incomplete key is invalid, the
            # rest succeed.
            assert code in (grpc.StatusCode.OK, grpc.StatusCode.INVALID_ARGUMENT), (method.name, code)
            if method.name.startswith(("List", "BatchUpsert", "Compute")):
                assert code == grpc.StatusCode.OK, method.name


def bad_request(err):
    status = rpc_status.from_call(err)
    assert status is not None, "no google.rpc.Status in the trailers"
    for detail in status.details:
        if detail.Is(error_details_pb2.BadRequest.DESCRIPTOR):
            br = error_details_pb2.BadRequest()
            detail.Unpack(br)
            return br
    raise AssertionError("no BadRequest detail")


def test_invalid_records_get_field_violations_and_nothing_is_applied(frontdoor):
    with grpc.insecure_channel(frontdoor) as ch:
        _, pool = reflect(ch)
        service = pool.FindServiceByName(SERVICE)
        upsert = service.FindMethodByName("BatchUpsertReferrals")
        records = [
            {"la_code": "885", "child_id": "P1", "referral_date": "2018-04-01", "source": "6"},
            {"la_code": "885", "child_id": "P2", "referral_date": "2018-04-01", "source": "3Z"},
            {"la_code": "885", "child_id": "P3", "referral_date": "01/04/2018", "source": "6"},
            {"la_code": "885", "child_id": "", "referral_date": "2018-04-01", "source": "6"},
            {"la_code": "88A", "child_id": "P5", "referral_date": "2018-04-01", "source": "6"},
        ]
        try:
            call(ch, pool, upsert, {"request_id": "py-1", "records": records})
            raise AssertionError("an invalid batch was accepted")
        except grpc.RpcError as e:
            assert e.code() == grpc.StatusCode.INVALID_ARGUMENT
            br = bad_request(e)
        fields = [v.field for v in br.field_violations]
        assert fields == [
            "records[1].source",
            "records[2].referral_date",
            "records[3].child_id",
            "records[4].la_code",
        ]
        assert "3Z" in br.field_violations[0].description

        listed = call(ch, pool, service.FindMethodByName("ListReferrals"), {"la_code": "885", "child_id": "P1"})
        assert len(listed.records) == 0, "nothing of the refused batch may be applied"

        ok = call(ch, pool, upsert, {"request_id": "py-2", "records": records[:1]})
        assert (ok.received, ok.written, ok.unchanged) == (1, 1, 0)
        again = call(ch, pool, upsert, {"request_id": "py-2", "records": records[:1]})
        assert (again.received, again.written, again.unchanged) == (1, 1, 0), "a replay returns the first response"
        fresh = call(ch, pool, upsert, {"request_id": "py-3", "records": records[:1]})
        assert (fresh.written, fresh.unchanged) == (0, 1)


def test_measures_are_typed_and_shaped(frontdoor):
    with grpc.insecure_channel(frontdoor) as ch:
        _, pool = reflect(ch)
        service = pool.FindServiceByName(SERVICE)
        resp = call(ch, pool, service.FindMethodByName("ComputeMeasures"), {"la_code": "885", "period": "2018-19-Q1"})
        assert resp.period.start == "2018-04-01" and resp.period.end == "2018-06-30"
        ids = [m.id for m in resp.measures]
        assert ids[0] == "frontdoor.contacts" and "frontdoor.icpc_within_15wd" in ids
        try:
            call(ch, pool, service.FindMethodByName("ComputeMeasures"), {"la_code": "885", "period": "2018-19-Q7"})
            raise AssertionError("a malformed period was accepted")
        except grpc.RpcError as e:
            assert e.code() == grpc.StatusCode.INVALID_ARGUMENT
            assert [v.field for v in bad_request(e).field_violations] == ["period"]
