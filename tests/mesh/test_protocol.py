"""mesh.protocol against istio/istio pkg/config/kube/conversion.go ConvertProtocol
(and its table test pkg/config/kube/conversion_test.go)."""

import pytest

from meshlint.mesh.protocol import UNSUPPORTED, port_protocol


@pytest.mark.parametrize("port,name,proto,app,expected", [
    # name prefixes, case-insensitive, the part before the first dash
    (80, "http", None, None, "HTTP"),
    (80, "HTTP", None, None, "HTTP"),
    (80, "http-web", None, None, "HTTP"),
    (80, "Http2-x", None, None, "HTTP2"),
    (80, "https-admin", None, None, "HTTPS"),
    (80, "grpc", None, None, "GRPC"),
    (80, "grpc-web", None, None, "GRPC-Web"),
    (80, "GRPC-WEB-ui", None, None, "GRPC-Web"),
    (80, "grpcweb", None, None, UNSUPPORTED),
    (80, "tcp-db", None, None, "TCP"),
    (80, "tls", None, None, "TLS"),
    (80, "mongo-1", None, None, "Mongo"),
    (80, "redis", None, None, "Redis"),
    (80, "mysql-primary", None, None, "MySQL"),
    (80, "http_proxy", None, None, "HTTP_PROXY"),
    (80, "udp-x", None, None, "UDP"),
    (80, "web", None, None, UNSUPPORTED),
    (80, "webhttp", None, None, UNSUPPORTED),
    (80, "", None, None, UNSUPPORTED),
    (80, None, None, None, UNSUPPORTED),
    (80, "-http", None, None, UNSUPPORTED),
    # protocol UDP wins over everything
    (514, "web", "UDP", None, "UDP"),
    (514, "http", "UDP", "http", "UDP"),
    (80, "web", "TCP", None, UNSUPPORTED),
    # appProtocol is used instead of the name
    (80, "web", None, "http", "HTTP"),
    (80, "http", None, "linkerd.io/opaque", UNSUPPORTED),
    (80, "http", None, "kubernetes.io/h2c", "HTTP2"),
    (80, None, None, "kubernetes.io/ws", "HTTP"),
    (80, None, None, "kubernetes.io/wss", "HTTPS"),
    (80, None, None, "grpc-web", "GRPC-Web"),
    (80, None, None, "HTTP2", "HTTP2"),
    (80, "kubernetes.io/h2c", None, None, UNSUPPORTED),  # only recognised as appProtocol
    # well-known ports fall back to TCP only when unsupported
    (3306, None, None, None, "TCP"),
    (27017, "db", None, None, "TCP"),
    (25, "smtp", None, None, "TCP"),
    (53, "dns", None, None, "TCP"),
    (53, "dns", None, "example.com/dns", "TCP"),
    (3306, "http", None, None, "HTTP"),
    (3307, None, None, None, UNSUPPORTED),
])
def test_port_protocol(port, name, proto, app, expected):
    assert port_protocol(port, name, proto, app) == expected
