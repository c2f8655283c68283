"""gRPC support (the ``[grpc]`` extra): Nacos over gRPC for config.

- ``codec``: the ``Payload`` message, by hand; ``answers``: reading a response and its error
  codes. Both pure Python, safe to import anywhere.
- ``_grpclib``, ``connection``, ``channel``, ``config``: need grpclib. One connection to one
  server, the channel that keeps a module's connection up, and the config backend on top.

The wire format and the protocol are described in the project's NACOS_GRPC.md.
"""
