"""A DestinationRule originates TLS (SIMPLE or MUTUAL) without verifying the server's certificate.

Mirrors `istioctl analyze` IST0128 (the host's `trafficPolicy.tls`) and IST0129 (a
`portLevelSettings` entry's `tls`), istio/istio
`pkg/config/analysis/analyzers/destinationrule/ca-certificates.go`: `tls.mode` SIMPLE or MUTUAL
and no `caCertificates`, unless `credentialName` is set on a DestinationRule with a
`workloadSelector` (the secret then carries the CA). meshlint also reads the `tls` of each
subset, and follows what the proxy does, which changed in Istio 1.20 (istio/istio
`pilot/pkg/networking/core/cluster_tls.go`): with `VERIFY_CERTIFICATE_AT_CLIENT`, istiod's
default since 1.20, an empty `caCertificates` means the proxy's OS CA bundle (`system`) and the
name is checked (auto SAN validation), as for any HTTPS client. So:

- `insecureSkipVerify: true` is reported on any version: it turns verification off;
- `credentialName` without a `workloadSelector` is reported on any version: gateways take the
  CA from the secret, but sidecars read it only for a DestinationRule with a
  `workloadSelector`, and check the server against the OS bundle (or nothing) instead;
- no CA at all is reported when the proxies do not verify: Istio before 1.20, istiod's
  `VERIFY_CERTIFICATE_AT_CLIENT=false` or a `compatibilityVersion` of 1.19 or older. The
  version is `istio-version` from the configuration, else the oldest image tag the
  installation in the input names (IstioOperator `spec.tag`, Helm `global.tag`); when neither
  says, it is an info that names both outcomes and the setting that settles it (a supported
  Istio verifies). On 1.20 and later it is not reported, though the analyzer still reports it:
  the certificate is verified.

## Why it matters
TLS origination without verification encrypts the connection to whoever answers: a DNS
spoof or a misrouted request hands credentials and data to the wrong server, and nothing in
the logs says so. `insecureSkipVerify` left over from a test, or a `credentialName` that only
the egress gateway reads, does the same on current Istio.

## Example
```yaml
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: payments-api, namespace: shop}
spec:
  host: api.payments.example.com
  trafficPolicy:
    tls:
      mode: SIMPLE
      insecureSkipVerify: true   # left over from the sandbox
```

## Fixed example
```yaml
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: payments-api, namespace: shop}
spec:
  host: api.payments.example.com
  trafficPolicy:
    tls:
      mode: SIMPLE
      caCertificates: /etc/certs/payments-ca.pem
      subjectAltNames: [api.payments.example.com]
```

## Fix
Drop `insecureSkipVerify`. Set `caCertificates` to the CA bundle that signs the server's
certificate (mounted into the proxy) when it is not a public CA, or before Istio 1.20; or use
`credentialName` on a DestinationRule with a `workloadSelector`.

## References
- istio/istio `pkg/config/analysis/analyzers/destinationrule/ca-certificates.go`: `istioctl analyze` IST0128 and IST0129
- istio/istio `pilot/pkg/networking/core/cluster_tls.go`: an empty caCertificates, credentialName and insecureSkipVerify
- istio/api `networking/v1alpha3/destination_rule.proto`: credentialName reaches sidecars only with a workloadSelector
- [IST0128 NoServerCertificateVerificationDestinationLevel](https://istio.io/latest/docs/reference/config/analysis/ist0128/)
- [IST0129 NoServerCertificateVerificationPortLevel](https://istio.io/latest/docs/reference/config/analysis/ist0129/)
- [ClientTLSSettings](https://istio.io/latest/docs/reference/config/networking/destination-rule/#ClientTLSSettings)
"""

from __future__ import annotations

from collections.abc import Iterator

from ..finding import Finding, Options, Rule, Severity, Variant
from ..index import Index
from ..mesh.meshconfig import MeshSettings, minor_version
from ..mesh.trafficpolicy import TLSSetting, tls_settings

ORIGINATES = ("SIMPLE", "MUTUAL")
VERIFY_FLAG = "VERIFY_CERTIFICATE_AT_CLIENT"


def _verification(index: Index, mesh: MeshSettings) -> tuple[bool | None, str]:
    """Does the proxy verify against its OS CA bundle when caCertificates is empty? True, False
    or None (unknown), and why."""
    env = mesh.value("pilot", "env", VERIFY_FLAG)
    if env is not None:
        on = str(env).lower() in ("1", "t", "true")
        return on, f"istiod sets {VERIFY_FLAG}={str(env).lower()}"
    declared = mesh.value("compatibilityVersion")
    compat = minor_version(declared) if isinstance(declared, str) else None  # a YAML float loses "1.20"
    if compat is not None and compat < (1, 20):
        return False, f"compatibilityVersion {declared}"
    configured = minor_version(index.facts.istio_version)
    version = configured or mesh.istio_version()
    if version is None:
        return None, ""
    return version >= (1, 20), f"Istio {version[0]}.{version[1]}"


def _port(setting: TLSSetting) -> str:
    parts = []
    if setting.port is not None:
        parts.append(f"port {setting.port}")
    if setting.subset is not None:
        parts.append(f"subset {setting.subset}")
    return f" ({', '.join(parts)})" if parts else ""


def check(index: Index, options: Options) -> Iterator[Finding]:
    rules = index.of_kind("DestinationRule")
    if not rules:
        return
    verifies, why = _verification(index, index.mesh())
    for dr in rules:
        host = dr.spec.get("host", "?")
        for setting in tls_settings(dr):
            tls = setting.tls
            if setting.mode not in ORIGINATES:
                continue
            values = {"mode": setting.mode, "host": host, "port": _port(setting), "why": why}
            skip = tls.get("insecureSkipVerify")
            if skip is True or str(skip).lower() == "true":
                yield RULE.finding(INSECURE_SKIP_VERIFY, dr, (*setting.path, "insecureSkipVerify"), **values)
                continue
            if tls.get("caCertificates"):
                continue
            credential = tls.get("credentialName")
            if credential:
                if dr.spec.get("workloadSelector") is None:
                    yield RULE.finding(CREDENTIAL_WITHOUT_SELECTOR, dr, (*setting.path, "credentialName"),
                                       credential=credential, **values)
                continue
            if verifies:
                continue  # the OS CA bundle, and the name: what any HTTPS client does
            variant = NO_CA_CERTIFICATES if verifies is None else NOT_VERIFIED
            yield RULE.finding(variant, dr, (*setting.path, "mode"), **values)


NO_CA_CERTIFICATES = Variant(
    "no-ca-certificates", Severity.INFO,
    "tls.mode {mode} for {host}{port} sets no caCertificates: proxies before Istio 1.20 accept any "
    "server certificate (later ones check it against their OS CA bundle; set istio-version to say "
    "which applies)",
    "Set caCertificates to the CA bundle that signs {host}'s certificate, or istio-version if the "
    "mesh runs Istio 1.20 or later.")
NOT_VERIFIED = Variant(
    "not-verified", Severity.WARNING,
    "tls.mode {mode} for {host}{port} sets no caCertificates: the proxy accepts any server "
    "certificate ({why})",
    "Set caCertificates to the CA bundle that signs {host}'s certificate (or credentialName with a "
    "workloadSelector).")
INSECURE_SKIP_VERIFY = Variant(
    "insecure-skip-verify", Severity.WARNING,
    "tls.mode {mode} for {host}{port} sets insecureSkipVerify: the proxy accepts any server "
    "certificate",
    "Drop insecureSkipVerify and set caCertificates to the CA bundle that signs {host}'s certificate.")
CREDENTIAL_WITHOUT_SELECTOR = Variant(
    "credential-without-selector", Severity.WARNING,
    "tls.mode {mode} for {host}{port} takes its CA from credentialName {credential}, which sidecars "
    "read only when the DestinationRule has a workloadSelector: they check {host} without its CA",
    "Add a workloadSelector for the pods that call {host}, or set caCertificates.")

RULE = Rule(
    code="ML206",
    name="server-certificate-not-verified",
    summary="DestinationRule originates TLS without a CA to verify the server",
    inputs=frozenset({"DestinationRule", "ConfigMap", "IstioOperator"}),
    variants=(INSECURE_SKIP_VERIFY, NOT_VERIFIED, CREDENTIAL_WITHOUT_SELECTOR, NO_CA_CERTIFICATES),
    check=check,
    # NoServerCertificateVerificationDestinationLevel, NoServerCertificateVerificationPortLevel
    istio_codes=frozenset({"IST0128", "IST0129"}),
)
