"""gRPC support (the ``[grpc]`` extra): the Nacos ``Payload`` codec and its grpclib adapter.

``codec`` is pure Python and safe to import anywhere; only ``_grpclib`` needs grpclib. The
wire format is described in the project's NACOS_GRPC.md, section 1.
"""
