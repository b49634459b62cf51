"""Calling a service the way a stock client first meets it: message classes from server reflection."""

from google.protobuf import descriptor_pool, message_factory
from grpc_reflection.v1alpha.proto_reflection_descriptor_database import ProtoReflectionDescriptorDatabase


def method(channel, service, name):
    """(request class, callable) for `service`'s method `name`, built from the server's reflection."""
    pool = descriptor_pool.DescriptorPool(ProtoReflectionDescriptorDatabase(channel))
    m = pool.FindServiceByName(service).FindMethodByName(name)
    req_cls = message_factory.GetMessageClass(m.input_type)
    resp_cls = message_factory.GetMessageClass(m.output_type)
    rpc = channel.unary_unary(
        f"/{service}/{name}",
        request_serializer=lambda x: x.SerializeToString(),
        response_deserializer=resp_cls.FromString,
    )
    return req_cls, rpc
