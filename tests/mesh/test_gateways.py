"""mesh.gateways against istio/istio pkg/config/analysis/analyzers/gateway/certificate.go
(haveSameCertificate, selectorSubset), conflictinggateway.go (the selector key
klabels.SelectorFromSet(...).String()), gateway.go (the Service ports of IngressGatewayPortAnalyzer,
after istio/istio#51278) and pilot/pkg/model/gateway.go (MergeGateways: which servers of one port
are merged)."""

import pytest

from meshlint.mesh.gateways import (
    certificate,
    merged_at_runtime,
    selector_subset,
    selector_text,
    service_ports,
    stock_assumed,
)
from meshlint.mesh.workloads import Workload
from meshlint.resource import FileOrigin, Ref, Resource


def test_selector_text_is_sorted_like_klabels():
    assert selector_text({"istio": "ingressgateway", "app": "gw"}) == "app=gw,istio=ingressgateway"
    assert selector_text({}) == ""


@pytest.mark.parametrize("inner,outer,expected", [
    ({"istio": "ingressgateway"}, {"istio": "ingressgateway"}, True),
    ({"istio": "ingressgateway"}, {"istio": "ingressgateway", "type": "internal"}, True),
    ({"istio": "ingressgateway", "type": "internal"}, {"istio": "ingressgateway"}, False),
    ({"istio": "ingressgateway"}, {"istio": "egressgateway"}, False),
    ({}, {"istio": "ingressgateway"}, True),  # an empty selector: every Gateway
])
def test_selector_subset(inner, outer, expected):
    assert selector_subset(inner, outer) is expected


@pytest.mark.parametrize("tls,expected", [
    (None, None),
    ({"mode": "PASSTHROUGH"}, None),
    ({"mode": "SIMPLE", "credentialName": "cert"}, ("credentialName", "cert")),
    # haveSameCertificate: with no credentialName, the certificate and the key must both be set
    ({"mode": "SIMPLE", "serverCertificate": "/c.crt", "privateKey": "/c.key"}, ("files", "/c.crt", "/c.key")),
    ({"mode": "SIMPLE", "serverCertificate": "/c.crt"}, None),
    # a credentialName wins over files
    ({"mode": "SIMPLE", "credentialName": "cert", "serverCertificate": "/c.crt", "privateKey": "/c.key"},
     ("credentialName", "cert")),
])
def test_certificate(tls, expected):
    server = {"port": {"number": 443, "protocol": "HTTPS"}, "hosts": ["a.example.com"]}
    if tls is not None:
        server["tls"] = tls
    assert certificate(server) == expected


def server(protocol, tls=None):
    out = {"port": {"number": 80, "protocol": protocol}, "hosts": ["*"]}
    if tls is not None:
        out["tls"] = tls
    return out


@pytest.mark.parametrize("a,b,expected", [
    (server("HTTP"), server("HTTP"), True),
    (server("HTTP"), server("http2"), True),
    (server("HTTP"), server("TCP"), False),  # a plaintext non-HTTP pair: the second is skipped
    (server("TCP"), server("TCP"), False),
    (server("HTTPS", {"mode": "SIMPLE"}), server("HTTPS", {"mode": "SIMPLE"}), False),  # duplicate TLS host
    (server("HTTP", {"httpsRedirect": True}), server("HTTP"), False),  # tls set: CheckDuplicates
])
def test_merged_at_runtime(a, b, expected):
    assert merged_at_runtime(a, b) is expected
    assert merged_at_runtime(b, a) is expected


def workload(namespace="istio-system", labels=None, ports=()):
    raw = {"metadata": {"name": "gw", "namespace": namespace},
           "spec": {"containers": [{"name": "istio-proxy", "ports": list(ports)}]}}
    resource = Resource(raw, Ref("Pod", namespace, "gw"), "v1", FileOrigin(None))  # type: ignore[arg-type]
    return Workload(resource, (), labels or {}, {}, raw["spec"])


def test_service_ports_are_the_ports_and_target_ports_of_tcp_ports():
    w = workload(ports=[{"name": "https-alt", "containerPort": 9444}])
    spec = {"ports": [
        {"port": 80, "targetPort": 8080},
        {"port": 443},  # no targetPort: the port itself
        {"port": 9443, "targetPort": "https-alt"},  # resolved in the workload's containers
        {"port": 8000, "targetPort": "8001"},
        {"port": 53, "protocol": "UDP"},  # istio counts TCP ports only
    ]}
    assert service_ports([(spec, w)]) == {80, 8080, 443, 9443, 9444, 8000, 8001}


def test_the_stock_gateway_is_assumed_unless_the_installation_is_in_the_input():
    stock = {"istio": "ingressgateway"}
    assert stock_assumed(stock, [], "istio-system")
    assert stock_assumed(stock, [workload("shop", {"istio": "shop-gateway"})], "istio-system")
    assert not stock_assumed(stock, [workload("istio-system", {"istio": "egressgateway"})], "istio-system")
    assert not stock_assumed({"istio": "my-gateway"}, [], "istio-system")
