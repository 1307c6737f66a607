"""Servers of two Istio Gateways on the same gateway workloads present the same certificate.

A TLS server of one Gateway and a TLS server of another that the same gateway workloads run
use one certificate: the same `credentialName`, or the same `serverCertificate` and
`privateKey` files. Same check as `istioctl analyze` IST0138 GatewayDuplicateCertificate
(istio/istio `pkg/config/analysis/analyzers/gateway/certificate.go`): a Gateway is compared
with the Gateways whose selector includes all of its own labels (an empty selector: every
Gateway), so that both apply to those workloads; `credentialName`s are compared by name, as
both resolve in the gateway workload's namespace.

## Why it matters
Browsers and HTTP/2 clients reuse a connection for every host the certificate covers (a
wildcard, or several SANs). A request for a host of the other Gateway then arrives on the
connection of the first server, whose routes do not know it: the client gets a 404 for a host
that works in a fresh connection (envoyproxy/envoy#6767). It shows up as intermittent 404s
in browsers and never in `curl`.

## Example
```yaml
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: shop, namespace: istio-system}
spec:
  selector: {istio: ingressgateway}
  servers:
  - port: {number: 443, name: https-shop, protocol: HTTPS}
    hosts: [shop.example.com]
    tls: {mode: SIMPLE, credentialName: wildcard-example-com}
---
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: blog, namespace: istio-system}
spec:
  selector: {istio: ingressgateway}
  servers:
  - port: {number: 443, name: https-blog, protocol: HTTPS}
    hosts: [blog.example.com]
    tls: {mode: SIMPLE, credentialName: wildcard-example-com}
```

## Fixed example
```yaml
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: example-com, namespace: istio-system}
spec:
  selector: {istio: ingressgateway}
  servers:
  - port: {number: 443, name: https-example-com, protocol: HTTPS}
    hosts: [shop.example.com, blog.example.com]   # one server for the certificate
    tls: {mode: SIMPLE, credentialName: wildcard-example-com}
```

## Fix
Put the hosts that share a certificate into one server of one Gateway (VirtualServices of
several namespaces can bind to it), or give each Gateway a certificate of its own hosts.

## References
- istio/istio `pkg/config/analysis/analyzers/gateway/certificate.go`: `istioctl analyze` IST0138
- [Envoy issue 6767: 404 on HTTP/2 connection reuse across filter chains](https://github.com/envoyproxy/envoy/issues/6767)
- [IST0138 GatewayDuplicateCertificate](https://istio.io/latest/docs/reference/config/analysis/ist0138/)
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from itertools import islice

from ..finding import MAX_RELATED, Finding, Options, Rule, Severity, Variant, some_of
from ..index import Index
from ..mesh.gateways import certificate, selector_subset
from ..resource import Ref, Resource

SHOWN = 5  # Gateways named in one message


def check(index: Index, options: Options) -> Iterator[Finding]:
    gateways = index.of_kind("Gateway")
    by_certificate: dict[tuple[str, ...], list[Resource]] = defaultdict(list)
    for gw in gateways:
        for server in gw.spec.get("servers") or ():
            cert = certificate(server)
            if cert is not None and (not by_certificate[cert] or by_certificate[cert][-1].ref != gw.ref):
                by_certificate[cert].append(gw)
    # once per certificate and selector: thousands of Gateways may present one certificate
    sharing: dict[tuple[tuple[str, ...], tuple], dict[Ref, Resource]] = {}
    for gw in gateways:
        selector = gw.spec.get("selector") or {}
        for s, server in enumerate(gw.spec.get("servers") or ()):
            cert = certificate(server)
            if cert is None:
                continue
            key = (cert, tuple(sorted(selector.items())))
            if key not in sharing:
                sharing[key] = {other.ref: other for other in by_certificate[cert]
                                if selector_subset(selector, other.spec.get("selector") or {})}
            presenting = sharing[key]
            count = len(presenting) - (gw.ref in presenting)
            if not count:
                continue
            first = [o for o in islice(presenting.values(), MAX_RELATED + 1) if o.ref != gw.ref][:MAX_RELATED]
            names = [f"{o.namespace}/{o.name}" for o in first[:SHOWN]]
            field = "credentialName" if cert[0] == "credentialName" else "serverCertificate"
            yield RULE.finding(SHARED, gw, ("spec", "servers", s, "tls", field), related=[o.ref for o in first],
                               related_total=count, certificate=cert[1], gateways=some_of(names, count),
                               plural="s" if count > 1 else "")


SHARED = Variant(
    "certificate-shared", Severity.WARNING,
    "certificate {certificate} is also presented by Gateway{plural} {gateways} on these workloads: "
    "HTTP/2 clients reuse one connection for the hosts of these servers and get 404s",
    "Serve the hosts of certificate {certificate} from one server of one Gateway, or give each Gateway a "
    "certificate of its own.")

RULE = Rule(
    code="ML112",
    name="certificate-shared-by-gateways",
    summary="Istio Gateways on the same workloads presenting the same TLS certificate",
    inputs=frozenset({"Gateway"}),
    variants=(SHARED,),
    check=check,
    istio_codes=frozenset({"IST0138"}),  # GatewayDuplicateCertificate
)
