"""gRPC dev-server tests need grpclib (the ``[grpc]`` extra, part of the test extra)."""

import pytest

pytest.importorskip("grpclib")
