#!/usr/bin/env python3
"""Deterministic generator of realistic Istio meshes for meshlint's benchmark.

    python benchmarks/generate.py --services 5000 --out benchmarks/.data/5000

writes into OUT:

- ``files/``     one directory per namespace: ``namespace.yaml`` (Namespace, PeerAuthentications,
                 Gateway, EnvoyFilters, ServiceEntries), one ``<app>.yaml`` per application (its
                 ServiceAccount, ConfigMap, Deployment(s), Service, HPA, PDB, VirtualService,
                 DestinationRule) and ``jobs.yaml`` (Jobs, CronJobs); hand-written style, keys in
                 authoring order, block sequences indented or not depending on the team;
- ``stream.yaml`` the same documents as one multi-document stream (``---`` and a ``# Source:``
                 comment per file, as ``helm template`` prints them);
- ``dump.yaml``  the same objects as ``kubectl get <kinds> -A -o yaml`` prints them: one
                 ``kind: List``, keys sorted, sequences not indented, the fields the API server
                 adds (uid, resourceVersion, creationTimestamp, generation, defaults, status);
- ``dump.json``  the same as ``kubectl get <kinds> -A -o json`` (4-space indent, sorted keys);
- ``dump-compact.json`` the same List as compact JSON, one line (``json.dump(..., separators=(",", ":"))``
                 of ``dump.json``): what ``kubectl get --raw``, ``jq -c``, API responses and export
                 tools write;
- ``dump-objects.yaml`` the dump's objects, byte for byte, as a multi-document stream instead of
                 one List (as ``kubectl get <kind> <name> -o yaml`` per object, concatenated,
                 prints them): what the List form costs, apart from what its objects cost;
- ``meta.json``  counts (services, resources per kind, bytes per form) and the generator version.

Everything comes from one ``random.Random`` seeded with the service count and the same N gives
byte-identical output. About 5 resources per service; a few percent of them carry the
footguns meshlint is written for, so a run reports findings but most resources are clean.
Only the standard library is used.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import sys
import uuid
from functools import lru_cache

GENERATOR_VERSION = 1
SERVICES_PER_NAMESPACE = 20
REVISION = "1-22"

TEAMS = [
    "shop", "payments", "search", "identity", "shipping", "inventory", "pricing", "reviews",
    "ads", "analytics", "notifications", "media", "billing", "fraud", "loyalty", "support",
    "messaging", "maps", "accounts", "orders", "ledger", "risk", "compliance", "growth",
    "content", "partners", "catalog", "checkout", "returns", "warehouse", "delivery", "tax",
    "travel", "booking", "rewards", "wallet", "insurance", "lending", "trading", "markets",
]
NOUNS = [
    "cart", "order", "user", "session", "profile", "catalog", "price", "quote", "tax", "invoice",
    "ledger", "wallet", "token", "auth", "search", "index", "feed", "rank", "geo", "route",
    "media", "thumbnail", "email", "sms", "push", "audit", "report", "export", "import", "sync",
    "cache", "config", "rate", "quota", "stock", "shipment", "label", "tracking", "review",
    "rating", "coupon", "promo", "upload", "avatar", "chat", "notify", "fraud", "risk", "score",
    "payment", "refund", "settlement", "account", "address", "basket", "checkout", "delivery",
    "dispatch", "fulfilment", "identity", "inventory", "loyalty", "merchant", "offer", "partner",
    "product", "receipt", "recommend", "schedule", "subscription", "ticket", "translation",
]
ROLES = ["api", "service", "worker", "backend", "store", "frontend", "adapter", "reader",
         "writer", "proxy", "engine", "manager", "consumer", "publisher", "resolver"]
EXTERNAL_HOSTS = [
    ("api.stripe.com", "STRIPE_API", "https://api.stripe.com/v1"),
    ("hooks.slack.com", "SLACK_WEBHOOK", "https://hooks.slack.com/services/T000/B000"),
    ("api.sendgrid.com", "SENDGRID_API", "https://api.sendgrid.com/v3/mail/send"),
    ("sqs.eu-west-1.amazonaws.com", "SQS_ENDPOINT", "https://sqs.eu-west-1.amazonaws.com"),
    ("oauth2.googleapis.com", "GOOGLE_OAUTH", "https://oauth2.googleapis.com/token"),
    ("api.twilio.com", "TWILIO_API", "https://api.twilio.com/2010-04-01"),
]
SAFE_RETRY_ON = [
    "connect-failure,refused-stream,unavailable,cancelled,503",
    "gateway-error,connect-failure,refused-stream",
    "connect-failure,refused-stream,503",
    "reset,connect-failure,refused-stream,retriable-status-codes",
]
GRPC_RETRY_ON = ["unavailable,cancelled,resource-exhausted", "unavailable,connect-failure,refused-stream"]


# --- YAML emitter --------------------------------------------------------------------------------
# A small block-style emitter: full control over the layout (kubectl's go-yaml style or
# hand-written style) and fast enough for 25,000 services. Strings are written plain when
# YAML 1.1 reads them back as the same string, else double-quoted (JSON escapes are valid YAML).

_RESOLVERS = [
    re.compile(r"^(?:yes|Yes|YES|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF|y|Y|n|N)$"),
    re.compile(r"^(?:[-+]?0b[0-1_]+|[-+]?0[0-7_]+|[-+]?(?:0|[1-9][0-9_]*)|[-+]?0x[0-9a-fA-F_]+"
               r"|[-+]?[1-9][0-9_]*(?::[0-5]?[0-9])+)$"),
    re.compile(r"^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+][0-9]+)?|\.[0-9_]+(?:[eE][-+][0-9]+)?"
               r"|[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN)"
               r"|[-+]?[0-9]+(?:\.[0-9]*)?[eE][-+]?[0-9]+)$"),
    re.compile(r"^(?:~|null|Null|NULL|)$"),
    re.compile(r"^[0-9][0-9][0-9][0-9]-[0-9][0-9]?-[0-9][0-9]?"),
    re.compile(r"^(?:<<|=)$"),
]
_UNSAFE = re.compile(r"^[\s\-?:,\[\]{}#&*!|>'\"%@`]|[\s:]$|: |\s#|[\x00-\x1f\x7f{}\[\]\"]|^-$")


@lru_cache(maxsize=200_000)
def _string(s: str) -> str:
    if not s or _UNSAFE.search(s) or any(rx.match(s) for rx in _RESOLVERS):
        return json.dumps(s)
    return s


def _scalar(v) -> str:
    if isinstance(v, str):
        return _string(v)
    if v is True:
        return "true"
    if v is False:
        return "false"
    if v is None:
        return "null"
    if isinstance(v, dict):
        return "{}"
    if isinstance(v, list):
        return "[]"
    return repr(v)


def _block_string(v: str, ind: str) -> str | None:
    """A multi-line string as a literal block (`|` / `|-`), as go-yaml writes it."""
    if "\n" not in v or v != v.strip(" ") or "\t" in v or "\r" in v:
        return None
    body = v[:-1] if v.endswith("\n") else v
    if "\n\n" in body or body.startswith(" "):
        return None
    head = "|" if v.endswith("\n") else "|-"
    return head + "".join("\n" + ind + line for line in body.split("\n"))


def emit(obj: dict, sort_keys: bool, indent_seq: bool, ind: str = "") -> list[str]:
    out: list[str] = []
    _emit_map(obj, ind, out, sort_keys, indent_seq)
    return out


def _emit_map(d: dict, ind: str, out: list[str], sort_keys: bool, indent_seq: bool) -> None:
    items = sorted(d.items()) if sort_keys else d.items()
    for k, v in items:
        key = _string(k) if isinstance(k, str) else _scalar(k)
        if isinstance(v, dict) and v:
            out.append(f"{ind}{key}:")
            _emit_map(v, ind + "  ", out, sort_keys, indent_seq)
        elif isinstance(v, list) and v:
            out.append(f"{ind}{key}:")
            _emit_seq(v, ind + "  " if indent_seq else ind, out, sort_keys, indent_seq)
        elif isinstance(v, str) and "\n" in v:
            block = _block_string(v, ind + "  ")
            out.append(f"{ind}{key}: {block if block is not None else json.dumps(v)}")
        else:
            out.append(f"{ind}{key}: {_scalar(v)}")


def _emit_seq(seq: list, ind: str, out: list[str], sort_keys: bool, indent_seq: bool) -> None:
    for item in seq:
        if isinstance(item, dict) and item:
            start = len(out)
            _emit_map(item, ind + "  ", out, sort_keys, indent_seq)
            out[start] = ind + "- " + out[start][len(ind) + 2:]
        elif isinstance(item, list) and item:
            out.append(ind + "-")
            _emit_seq(item, ind + "  ", out, sort_keys, indent_seq)
        else:
            out.append(f"{ind}- {_scalar(item)}")


# --- the mesh -------------------------------------------------------------------------------------

class Gen:
    def __init__(self, services: int) -> None:
        self.n = services
        self.rng = random.Random(f"meshlint-bench-{GENERATOR_VERSION}-{services}")
        self.files: list[tuple[str, list[dict]]] = []  # (relative path, documents)
        self.resource_version = 1_000_000

    # small helpers
    def chance(self, p: float) -> bool:
        return self.rng.random() < p

    def pick(self, seq):
        return seq[self.rng.randrange(len(seq))]

    def build(self) -> None:
        rng = self.rng
        n_ns = max(1, -(-self.n // SERVICES_PER_NAMESPACE))
        namespaces = []
        for i in range(n_ns):
            team = TEAMS[i % len(TEAMS)]
            name = team if i < len(TEAMS) else f"{team}-{i // len(TEAMS) + 1}"
            namespaces.append(name)
        # services per namespace: 20 on average, between 8 and 32, exactly n in total
        counts = [SERVICES_PER_NAMESPACE] * n_ns
        counts[-1] = self.n - SERVICES_PER_NAMESPACE * (n_ns - 1)
        for _ in range(n_ns):
            a, b = rng.randrange(n_ns), rng.randrange(n_ns)
            d = rng.randrange(0, 8)
            if a != b and counts[a] - d >= 8 and counts[b] + d <= 32:
                counts[a] -= d
                counts[b] += d

        # namespace-level facts first: injection, mTLS, gateways (call edges need them)
        self.ns_info = {}
        for i, ns in enumerate(namespaces):
            r = rng.random()
            injection = "rev" if r < 0.84 else "legacy" if r < 0.93 else "both" if r < 0.95 else "none"
            r = rng.random()
            mtls = "STRICT" if r < 0.45 else "PERMISSIVE" if r < 0.60 else None
            if injection == "none" and mtls == "STRICT":
                mtls = None
            self.ns_info[ns] = {
                "injection": injection, "mtls": mtls, "gateway": i % 4 == 1,
                "indent_seq": rng.random() < 0.6, "services": [],
            }
        # services: names, tiers (edge, mid, backend) and protocol
        all_services = []
        for ns, count in zip(namespaces, counts):
            used: set[str] = set()
            for j in range(count):
                while True:
                    name = f"{self.pick(NOUNS)}-{self.pick(ROLES)}"
                    if name in used:
                        name = f"{name}-{rng.randrange(2, 99)}"
                    if name not in used:
                        break
                used.add(name)
                tier = 0 if j < max(1, count * 15 // 100) else 1 if j < count // 2 else 2
                r = rng.random()
                proto = "http" if r < 0.6 else "grpc" if r < 0.9 else "tcp"
                svc = {"name": name, "ns": ns, "tier": tier, "proto": proto, "calls": []}
                self.ns_info[ns]["services"].append(svc)
                all_services.append(svc)
        by_tier = {t: [s for s in all_services if s["tier"] == t] for t in (0, 1, 2)}
        # call edges: tier t calls tier t+1, mostly in its own namespace
        for svc in all_services:
            if svc["tier"] == 2:
                continue
            local = [s for s in self.ns_info[svc["ns"]]["services"] if s["tier"] == svc["tier"] + 1]
            k = rng.choice((1, 2, 2, 3)) if svc["tier"] == 0 else rng.choice((0, 1, 1, 2))
            for _ in range(k):
                pool = local if local and rng.random() < 0.8 else by_tier[svc["tier"] + 1]
                if not pool:
                    continue
                target = self.pick(pool)
                if target is not svc and target not in svc["calls"]:
                    svc["calls"].append(target)

        self.istio_system()
        for ns in namespaces:
            self.namespace(ns)

    # --- istio-system: the control plane and the shared ingress ---------------------------------
    def istio_system(self) -> None:
        ns = "istio-system"
        docs = [
            {"apiVersion": "v1", "kind": "Namespace",
             "metadata": {"name": ns, "labels": {"kubernetes.io/metadata.name": ns,
                                                 "topology.istio.io/network": "network1"}}},
            {"apiVersion": "install.istio.io/v1alpha1", "kind": "IstioOperator",
             "metadata": {"name": f"control-plane-{REVISION}", "namespace": ns},
             "spec": {
                 "profile": "minimal", "revision": REVISION, "tag": "1.22.3",
                 "meshConfig": {
                     "accessLogFile": "/dev/stdout", "accessLogEncoding": "JSON",
                     "defaultConfig": {
                         "holdApplicationUntilProxyStarts": True,
                         "proxyHeaders": {"envoyDebugHeaders": {"disabled": True},
                                          "server": {"disabled": True}},
                     },
                 },
                 "values": {"global": {"proxy": {"resources": {
                     "requests": {"cpu": "100m", "memory": "128Mi"},
                     "limits": {"cpu": "2", "memory": "1Gi"}}}}},
             }},
            {"apiVersion": "apps/v1", "kind": "Deployment",
             "metadata": {"name": "istio-ingressgateway", "namespace": ns,
                          "labels": {"app": "istio-ingressgateway", "istio": "ingressgateway"}},
             "spec": {"replicas": 3,
                      "selector": {"matchLabels": {"app": "istio-ingressgateway", "istio": "ingressgateway"}},
                      "template": {
                          "metadata": {"labels": {"app": "istio-ingressgateway", "istio": "ingressgateway",
                                                  "sidecar.istio.io/inject": "false"}},
                          "spec": {"serviceAccountName": "istio-ingressgateway", "containers": [{
                              "name": "istio-proxy", "image": "docker.io/istio/proxyv2:1.22.3",
                              "args": ["proxy", "router", "--domain", "$(POD_NAMESPACE).svc.cluster.local"],
                              "ports": [{"containerPort": 8080, "name": "http2"},
                                        {"containerPort": 8443, "name": "https"},
                                        {"containerPort": 15021, "name": "status-port"}],
                              "resources": {"requests": {"cpu": "500m", "memory": "512Mi"},
                                            "limits": {"cpu": "2", "memory": "1Gi"}},
                              "readinessProbe": {"httpGet": {"path": "/healthz/ready", "port": 15021}},
                          }]}}}},
            {"apiVersion": "v1", "kind": "Service",
             "metadata": {"name": "istio-ingressgateway", "namespace": ns,
                          "labels": {"app": "istio-ingressgateway", "istio": "ingressgateway"}},
             "spec": {"type": "LoadBalancer",
                      "selector": {"app": "istio-ingressgateway", "istio": "ingressgateway"},
                      "ports": [{"name": "status-port", "port": 15021, "targetPort": 15021},
                                {"name": "http2", "port": 80, "targetPort": 8080},
                                {"name": "https", "port": 443, "targetPort": 8443}]}},
            {"apiVersion": "networking.istio.io/v1", "kind": "Gateway",
             "metadata": {"name": "public-gateway", "namespace": ns},
             "spec": {"selector": {"istio": "ingressgateway"}, "servers": [
                 {"port": {"number": 80, "name": "http", "protocol": "HTTP"}, "hosts": ["*.example.com"],
                  "tls": {"httpsRedirect": True}},
                 {"port": {"number": 443, "name": "https", "protocol": "HTTPS"}, "hosts": ["*.example.com"],
                  "tls": {"mode": "SIMPLE", "credentialName": "wildcard-example-com"}},
             ]}},
            {"apiVersion": "networking.istio.io/v1alpha3", "kind": "EnvoyFilter",
             "metadata": {"name": "ingress-request-id", "namespace": ns},
             "spec": {"workloadSelector": {"labels": {"istio": "ingressgateway"}}, "configPatches": [{
                 "applyTo": "NETWORK_FILTER",
                 "match": {"context": "GATEWAY", "proxy": {"proxyVersion": r"^1\.22.*"},
                           "listener": {"filterChain": {"filter": {
                               "name": "envoy.filters.network.http_connection_manager"}}}},
                 "patch": {"operation": "MERGE", "value": {"typed_config": {
                     "@type": "type.googleapis.com/envoy.extensions.filters.network."
                              "http_connection_manager.v3.HttpConnectionManager",
                     "always_set_request_id_in_response": True}}},
             }]}},
        ]
        self.files.append((f"{ns}/control-plane.yaml", docs))

    # --- one namespace ----------------------------------------------------------------------------
    def namespace(self, ns: str) -> None:
        rng, info = self.rng, self.ns_info[ns]
        labels = {"kubernetes.io/metadata.name": ns, "team": ns.split("-")[0]}
        if info["injection"] in ("legacy", "both"):
            labels["istio-injection"] = "enabled"
        if info["injection"] in ("rev", "both"):
            labels["istio.io/rev"] = REVISION
        docs: list[dict] = [{"apiVersion": "v1", "kind": "Namespace",
                             "metadata": {"name": ns, "labels": labels,
                                          "annotations": {"owner": f"team-{ns.split('-')[0]}@example.com"}}}]
        if info["mtls"]:
            docs.append({"apiVersion": "security.istio.io/v1", "kind": "PeerAuthentication",
                         "metadata": {"name": "default", "namespace": ns},
                         "spec": {"mtls": {"mode": info["mtls"]}}})
        if info["mtls"] == "STRICT" and self.chance(0.3):
            # metrics port scraped by a Prometheus outside the mesh
            target = self.pick(info["services"])
            docs.append({"apiVersion": "security.istio.io/v1", "kind": "PeerAuthentication",
                         "metadata": {"name": f"{target['name']}-metrics", "namespace": ns},
                         "spec": {"selector": {"matchLabels": {"app": target["name"]}},
                                  "mtls": {"mode": "STRICT"},
                                  "portLevelMtls": {9091: {"mode": "PERMISSIVE"}}}})
        if info["gateway"]:
            docs.append({"apiVersion": "networking.istio.io/v1", "kind": "Gateway",
                         "metadata": {"name": f"{ns}-gateway", "namespace": ns},
                         "spec": {"selector": {"istio": "ingressgateway"}, "servers": [
                             {"port": {"number": 443, "name": "https", "protocol": "HTTPS"},
                              "hosts": [f"*.{ns}.example.com"],
                              "tls": {"mode": "SIMPLE", "credentialName": f"{ns}-example-com"}}]}})
        if self.chance(0.2):
            host, _, _ = self.pick(EXTERNAL_HOSTS)
            docs.append({"apiVersion": "networking.istio.io/v1", "kind": "ServiceEntry",
                         "metadata": {"name": host.split(".")[-2] + "-" + host.split(".")[0], "namespace": ns},
                         "spec": {"hosts": [host], "location": "MESH_EXTERNAL", "resolution": "DNS",
                                  "ports": [{"number": 443, "name": "tls", "protocol": "TLS"}]}})
        if self.chance(0.12):
            target = self.pick(info["services"])
            pinned = self.chance(0.8)
            match = {"context": "SIDECAR_INBOUND",
                     "listener": {"filterChain": {"filter": {
                         "name": "envoy.filters.network.http_connection_manager",
                         "subFilter": {"name": "envoy.filters.http.router"}}}}}
            if pinned:
                match["proxy"] = {"proxyVersion": r"^1\.22.*"}
            spec = {"workloadSelector": {"labels": {"app": target["name"]}}, "configPatches": [{
                "applyTo": "HTTP_FILTER", "match": match,
                "patch": {"operation": "INSERT_BEFORE", "value": {
                    "name": "envoy.filters.http.local_ratelimit",
                    "typed_config": {
                        "@type": "type.googleapis.com/udpa.type.v1.TypedStruct",
                        "type_url": "type.googleapis.com/envoy.extensions.filters.http."
                                    "local_ratelimit.v3.LocalRateLimit",
                        "value": {"stat_prefix": "http_local_rate_limiter",
                                  "token_bucket": {"max_tokens": 500, "tokens_per_fill": 500,
                                                   "fill_interval": "1s"}}}}}}]}
            if pinned or self.chance(0.5):
                spec = {"workloadSelector": spec["workloadSelector"], "priority": 10,
                        "configPatches": spec["configPatches"]}
            docs.append({"apiVersion": "networking.istio.io/v1alpha3", "kind": "EnvoyFilter",
                         "metadata": {"name": f"{target['name']}-ratelimit", "namespace": ns},
                         "spec": spec})
        self.files.append((f"{ns}/namespace.yaml", docs))

        for svc in info["services"]:
            self.files.append((f"{ns}/{svc['name']}.yaml", self.app(svc, info)))

        jobs = []
        for _ in range(rng.choice((0, 0, 1, 1, 2))):
            jobs.append(self.job(ns, info))
        if jobs:
            self.files.append((f"{ns}/jobs.yaml", jobs))

    def pod_annotations_for_sidecar(self) -> dict:
        r = self.rng.random()
        if r < 0.15:
            return {"sidecar.istio.io/proxyCPU": "50m", "sidecar.istio.io/proxyMemory": "96Mi",
                    "sidecar.istio.io/proxyMemoryLimit": "256Mi"}
        if r < 0.158:  # footgun: a limit alone replaces the default requests (ML402)
            return {"sidecar.istio.io/proxyCPULimit": "1"}
        return {}

    def app(self, svc: dict, info: dict) -> list[dict]:
        rng = self.rng
        name, ns, proto = svc["name"], svc["ns"], svc["proto"]
        port = {"http": 8080, "grpc": 9090, "tcp": 5432}[proto]
        labels = {"app": name, "app.kubernetes.io/name": name, "app.kubernetes.io/part-of": ns}
        docs: list[dict] = [{"apiVersion": "v1", "kind": "ServiceAccount",
                             "metadata": {"name": name, "namespace": ns, "labels": {"app": name}}}]
        has_config = self.chance(0.5)
        if has_config:
            docs.append({"apiVersion": "v1", "kind": "ConfigMap",
                         "metadata": {"name": f"{name}-config", "namespace": ns, "labels": {"app": name}},
                         "data": {
                             "LOG_LEVEL": self.pick(["info", "info", "warn", "debug"]),
                             "FEATURE_FLAGS": ",".join(rng.sample(["new-pricing", "fast-search", "v2-api",
                                                                  "async-writes", "edge-cache"], 2)),
                             "application.yaml": (
                                 f"server:\n  port: {port}\n  shutdownTimeout: 20s\n"
                                 f"database:\n  host: {ns}-db.{ns}.internal\n  pool: {rng.randrange(5, 50)}\n"
                                 f"cache:\n  ttl: {rng.choice((30, 60, 300))}s\n"),
                         }})

        version_label = "v1"
        canary = proto != "tcp" and svc["tier"] != 2 and self.chance(0.07)
        deployment = self.deployment(svc, info, version_label, labels, port, has_config)
        docs.append(deployment)
        if canary:  # the same workload, one replica of the next version
            v2 = json.loads(json.dumps(deployment))
            v2["metadata"]["name"] += "-v2"
            v2["metadata"]["labels"]["version"] = "v2"
            v2["spec"]["replicas"] = 1
            v2["spec"]["selector"]["matchLabels"]["version"] = "v2"
            v2["spec"]["template"]["metadata"]["labels"]["version"] = "v2"
            c = v2["spec"]["template"]["spec"]["containers"][0]
            repo, tag = c["image"].rsplit(":", 1)
            major, minor, _ = tag.split(".")
            c["image"] = f"{repo}:{major}.{int(minor) + 1}.0"
            docs.append(v2)

        # Service, with mixed port names
        ports = []
        r = rng.random()
        if proto == "tcp":
            pname = self.pick(["tcp-postgres", "tcp-postgres", "tcp", "tcp-db"]) if self.chance(0.9) else "postgres"
            entry = {"name": pname, "port": port, "targetPort": port}
            if pname == "postgres" and self.chance(0.5):
                entry["appProtocol"] = "tcp"
            ports.append(entry)
        else:
            good = ["http", "http", "http-web", "http-api"] if proto == "http" else ["grpc", "grpc", "grpc-api"]
            entry = {"port": 80 if proto == "http" else port, "targetPort": port}
            if r < 0.90:
                entry = {"name": self.pick(good), **entry}
                if self.chance(0.15):
                    entry["appProtocol"] = "http" if proto == "http" else "grpc"
            elif r < 0.95:
                entry = {"name": self.pick(["web", "api", "main", "server"]), **entry}
                if self.chance(0.5):  # a bad name made good by appProtocol
                    entry["appProtocol"] = "http" if proto == "http" else "kubernetes.io/h2c"
            else:
                if self.chance(0.5):
                    entry["appProtocol"] = proto
            ports.append(entry)
            if "name" in entry and self.chance(0.3):
                ports.append({"name": "http-metrics" if self.chance(0.96) else "metrics",
                              "port": 9091, "targetPort": 9091})
        docs.append({"apiVersion": "v1", "kind": "Service",
                     "metadata": {"name": name, "namespace": ns, "labels": dict(labels)},
                     "spec": {"selector": {"app": name}, "ports": ports}})

        if self.chance(0.3):
            docs.append({"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler",
                         "metadata": {"name": name, "namespace": ns},
                         "spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": name},
                                  "minReplicas": 2, "maxReplicas": rng.choice((6, 10, 20)),
                                  "metrics": [{"type": "Resource", "resource": {
                                      "name": "cpu", "target": {"type": "Utilization",
                                                                "averageUtilization": rng.choice((60, 70, 80))}}}]}})
        if self.chance(0.2):
            docs.append({"apiVersion": "policy/v1", "kind": "PodDisruptionBudget",
                         "metadata": {"name": name, "namespace": ns},
                         "spec": {"minAvailable": 1, "selector": {"matchLabels": {"app": name}}}})

        # Istio traffic management
        if proto != "tcp":
            vs_retries = None
            wants_vs = canary or self.chance(0.38)
            if wants_vs:
                vs, vs_retries = self.virtual_service(svc, canary, port if proto == "grpc" else 80)
                docs.append(vs)
            exposed = svc["tier"] == 0 and (info["gateway"] or self.chance(0.15))
            if exposed:
                docs.append(self.ingress_virtual_service(svc, info, port if proto == "grpc" else 80))
            retried = exposed or (vs_retries or 0) >= 1
            if canary or retried or self.chance(0.2):
                docs.append(self.destination_rule(svc, info, canary, retried))
        return docs

    def deployment(self, svc, info, version, labels, port, has_config) -> dict:
        rng = self.rng
        name, ns, proto = svc["name"], svc["ns"], svc["proto"]
        pod_labels = {"app": name, "version": version}
        annotations = {}
        if self.chance(0.4):
            annotations["prometheus.io/scrape"] = "true"
            annotations["prometheus.io/port"] = "9091"
        annotations.update(self.pod_annotations_for_sidecar())
        if info["injection"] != "none" and self.chance(0.015):
            pod_labels["sidecar.istio.io/inject"] = "false"  # opted out (ML201 under STRICT)
        if info["mtls"] == "STRICT" and proto == "http" and self.chance(0.015):
            annotations["sidecar.istio.io/rewriteAppHTTPProbers"] = "false"  # ML202
        env = [{"name": "LOG_FORMAT", "value": "json"},
               {"name": "PORT", "value": str(port)},
               {"name": "HOST_IP", "valueFrom": {"fieldRef": {"fieldPath": "status.hostIP"}}},
               {"name": "OTEL_EXPORTER_OTLP_ENDPOINT", "value": "http://$(HOST_IP):4317"}]
        for target in svc["calls"]:
            var = target["name"].upper().replace("-", "_")
            tport = {"http": 80, "grpc": 9090, "tcp": 5432}[target["proto"]]
            if target["ns"] == ns and self.chance(0.5):
                env.append({"name": f"{var}_HOST", "value": target["name"]})
            elif target["proto"] == "tcp" or self.chance(0.5):
                env.append({"name": f"{var}_ADDR", "value": f"{target['name']}.{target['ns']}:{tport}"})
            else:
                env.append({"name": f"{var}_URL",
                            "value": f"http://{target['name']}.{target['ns']}.svc.cluster.local:{tport}/api"})
        if svc["tier"] == 2 and self.chance(0.1):
            _, var, url = self.pick(EXTERNAL_HOSTS)
            env.append({"name": var, "value": url})
        if has_config:
            env.append({"name": "CONFIG_PATH", "value": "/etc/app/application.yaml"})
        memory = self.pick([("128Mi", "256Mi"), ("256Mi", "512Mi"), ("256Mi", "1Gi"), ("512Mi", "1Gi"),
                            ("1Gi", "1Gi"), ("1Gi", "2Gi")])
        cport = {"containerPort": port, "name": "http" if proto == "http" else proto}
        container = {
            "name": name.split("-")[0] if self.chance(0.5) else "app",
            "image": f"registry.example.com/{ns}/{name}:"
                     f"{rng.randrange(1, 4)}.{rng.randrange(0, 30)}.{rng.randrange(0, 12)}",
            "ports": [cport] + ([{"containerPort": 9091, "name": "metrics"}]
                                if "prometheus.io/port" in annotations else []),
            "env": env,
            "resources": {"requests": {"cpu": self.pick(["50m", "100m", "250m", "500m"]), "memory": memory[0]},
                          "limits": {"memory": memory[1]}},
        }
        if proto == "http":
            container["readinessProbe"] = {"httpGet": {"path": "/ready", "port": "http"}, "periodSeconds": 5}
            container["livenessProbe"] = {"httpGet": {"path": "/healthz", "port": port},
                                          "initialDelaySeconds": 10, "periodSeconds": 15}
        elif proto == "grpc":
            container["readinessProbe"] = {"grpc": {"port": port}, "periodSeconds": 5}
            container["livenessProbe"] = {"grpc": {"port": port}, "initialDelaySeconds": 10}
        else:
            container["readinessProbe"] = {"tcpSocket": {"port": port}, "periodSeconds": 10}
            container["livenessProbe"] = {"exec": {"command": ["pg_isready", "-h", "127.0.0.1"]},
                                          "periodSeconds": 30}
        if has_config:
            container["volumeMounts"] = [{"name": "config", "mountPath": "/etc/app", "readOnly": True}]
        pod_spec = {"serviceAccountName": name, "containers": [container]}
        if has_config:
            pod_spec["volumes"] = [{"name": "config", "configMap": {"name": f"{name}-config"}}]
        template_meta = {"labels": pod_labels}
        if annotations:
            template_meta["annotations"] = annotations
        return {
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": name, "namespace": ns, "labels": {**labels, "version": version}},
            "spec": {
                "replicas": 1 if version != "v1" else rng.choice((2, 2, 3, 3, 4, 6)),
                "selector": {"matchLabels": {"app": name, "version": version}},
                "template": {"metadata": template_meta, "spec": pod_spec},
            },
        }

    def retries(self, proto: str) -> dict:
        r = self.rng.random()
        if r < 0.08:
            return {"attempts": 0}
        attempts = 1 if r < 0.45 else 2 if r < 0.86 else 3 if r < 0.975 else 5  # 5: ML301
        retry_on = self.pick(SAFE_RETRY_ON if proto == "http" else GRPC_RETRY_ON)
        if self.chance(0.03):
            retry_on = "5xx,connect-failure"  # ML301: retries unsafe server errors
        per_try = self.pick(("1s", "2s", "2s", "3s"))
        return {"attempts": attempts, "perTryTimeout": per_try, "retryOn": retry_on}

    def virtual_service(self, svc, canary, port) -> tuple[dict, int | None]:
        name, ns = svc["name"], svc["ns"]
        host = name if self.chance(0.6) else f"{name}.{ns}.svc.cluster.local"
        route_entry: dict = {"name": "primary"}
        if self.chance(0.2):
            route_entry["match"] = [{"uri": {"prefix": "/"}}] if svc["proto"] == "http" else \
                [{"headers": {"x-tenant": {"exact": "internal"}}}]
        if canary:
            route_entry["route"] = [
                {"destination": {"host": host, "subset": "v1", "port": {"number": port}}, "weight": 90},
                {"destination": {"host": host, "subset": "v2", "port": {"number": port}}, "weight": 10}]
        else:
            route_entry["route"] = [{"destination": {"host": host, "port": {"number": port}}}]
        retries = self.retries(svc["proto"]) if self.chance(0.85) else None
        attempts = None
        if retries is not None:
            attempts = retries["attempts"]
            if attempts:
                per_try = int(retries["perTryTimeout"][:-1])
                route_entry["timeout"] = f"{per_try * (attempts + 1) + self.rng.choice((0, 1, 5))}s"
            route_entry["retries"] = retries
        else:
            route_entry["timeout"] = self.pick(("5s", "10s", "30s"))
        vs = {"apiVersion": self.pick(("networking.istio.io/v1", "networking.istio.io/v1beta1")),
              "kind": "VirtualService",
              "metadata": {"name": name, "namespace": ns},
              "spec": {"hosts": [host], "http": [route_entry]}}
        return vs, attempts

    def ingress_virtual_service(self, svc, info, port) -> dict:
        name, ns = svc["name"], svc["ns"]
        if info["gateway"]:
            gateway = f"{ns}-gateway"
            host = f"{name}.{ns}.example.com"
        else:
            gateway = "istio-system/public-gateway"
            host = f"{name}-{ns}.example.com"
        if self.chance(0.04):
            gateway = "public-gateway"  # ML102: looked up in the VirtualService's own namespace
        route = {"name": "public",
                 "match": [{"uri": {"prefix": "/"}}],
                 "route": [{"destination": {"host": f"{name}.{ns}.svc.cluster.local", "port": {"number": port}}}],
                 "timeout": "15s",
                 "retries": {"attempts": 1, "perTryTimeout": "7s", "retryOn": "connect-failure,refused-stream"},
                 "headers": {"response": {"set": {"strict-transport-security": "max-age=31536000; includeSubDomains"}}}}
        return {"apiVersion": "networking.istio.io/v1", "kind": "VirtualService",
                "metadata": {"name": f"{name}-public", "namespace": ns},
                "spec": {"hosts": [host], "gateways": [gateway], "http": [route]}}

    def destination_rule(self, svc, info, canary, retried) -> dict:
        name, ns = svc["name"], svc["ns"]
        policy: dict = {"loadBalancer": {"simple": self.pick(("LEAST_REQUEST", "ROUND_ROBIN", "LEAST_REQUEST"))}}
        protect = self.chance(0.95) if (canary or retried) else self.chance(0.3)
        if protect:
            if self.chance(0.6):
                policy["connectionPool"] = {"tcp": {"maxConnections": self.pick((100, 200, 1000))},
                                            "http": {"http2MaxRequests": 1000, "maxRequestsPerConnection": 10,
                                                     "maxRetries": self.pick((3, 5, 10))}}
            if canary or self.chance(0.7) or "connectionPool" not in policy:
                policy["outlierDetection"] = {"consecutive5xxErrors": 5, "interval": "10s",
                                              "baseEjectionTime": "30s", "maxEjectionPercent": 50}
        if info["injection"] != "none" and self.chance(0.25):
            policy["tls"] = {"mode": "ISTIO_MUTUAL"}
        spec: dict = {"host": f"{name}.{ns}.svc.cluster.local" if self.chance(0.5) else name,
                      "trafficPolicy": policy}
        if canary:
            spec["subsets"] = [{"name": "v1", "labels": {"version": "v1"}},
                               {"name": "v2", "labels": {"version": "v2"}}]
        return {"apiVersion": self.pick(("networking.istio.io/v1", "networking.istio.io/v1beta1")),
                "kind": "DestinationRule", "metadata": {"name": name, "namespace": ns}, "spec": spec}

    def job(self, ns: str, info: dict) -> dict:
        rng = self.rng
        cron = self.chance(0.6)
        task = self.pick(["report", "cleanup", "reindex", "backfill", "export", "reconcile", "migrate"])
        name = f"{ns.split('-')[0]}-{task}"
        info["jobs"] = info.get("jobs", 0) + 1
        if info["jobs"] > 1:
            name += f"-{info['jobs']}"
        pod_meta: dict = {"labels": {"app": name}}
        command = ["/app/run", task]
        r = rng.random()
        if info["injection"] != "none":
            if r < 0.6:
                pod_meta["annotations"] = {"sidecar.istio.io/nativeSidecar": "true"}
            elif r < 0.75:
                pod_meta["labels"]["sidecar.istio.io/inject"] = "false"
            elif r < 0.88:
                command = ["/bin/sh", "-c",
                           f"/app/run {task}; rc=$?; curl -fsS -XPOST http://127.0.0.1:15020/quitquitquit; exit $rc"]
            # else: footgun, the sidecar keeps the Job from completing (ML401)
        template = {"metadata": pod_meta, "spec": {
            "restartPolicy": "Never" if self.chance(0.5) else "OnFailure",
            "serviceAccountName": f"{ns.split('-')[0]}-batch",
            "containers": [{"name": task, "image": f"registry.example.com/{ns}/{task}:{rng.randrange(1, 9)}.0.0",
                            "command": command,
                            "resources": {"requests": {"cpu": "100m", "memory": "256Mi"}}}]}}
        if cron:
            return {"apiVersion": "batch/v1", "kind": "CronJob", "metadata": {"name": name, "namespace": ns},
                    "spec": {"schedule": f"{rng.randrange(60)} {rng.randrange(24)} * * *",
                             "concurrencyPolicy": "Forbid",
                             "jobTemplate": {"spec": {"backoffLimit": 2, "template": template}}}}
        return {"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": name, "namespace": ns},
                "spec": {"backoffLimit": 3, "ttlSecondsAfterFinished": 86400, "template": template}}


# --- what the API server adds (for the kubectl dumps) ---------------------------------------------

# `kubectl get <these> -A -o yaml`: grouped by kind in this order, then by namespace and name.
DUMP_KIND_ORDER = [
    "Namespace", "ServiceAccount", "ConfigMap", "Service", "Deployment", "Job", "CronJob",
    "HorizontalPodAutoscaler", "PodDisruptionBudget", "IstioOperator", "Gateway", "VirtualService",
    "DestinationRule", "ServiceEntry", "PeerAuthentication", "EnvoyFilter",
]
_ISTIO_GROUPS = ("networking.istio.io", "security.istio.io", "install.istio.io")


class Server:
    """Adds uid, resourceVersion, creationTimestamp and the defaulted fields, as the API
    server returns them."""

    def __init__(self, seed: str) -> None:
        self.rng = random.Random(seed)
        self.rv = 4_100_000

    def timestamp(self) -> str:
        day = self.rng.randrange(0, 300)
        month, mday = 1 + day // 28 % 12, 1 + day % 28
        return (f"2024-{month:02d}-{mday:02d}T{self.rng.randrange(24):02d}:"
                f"{self.rng.randrange(60):02d}:{self.rng.randrange(60):02d}Z")

    def item(self, obj: dict) -> dict:
        rng = self.rng
        kind = obj["kind"]
        obj = json.loads(json.dumps(obj))  # deep copy
        meta = obj["metadata"]
        created = self.timestamp()
        self.rv += rng.randrange(1, 500)
        meta["creationTimestamp"] = created
        meta["resourceVersion"] = str(self.rv)
        meta["uid"] = str(uuid.UUID(int=rng.getrandbits(128), version=4))
        api_group = obj["apiVersion"].split("/")[0] if "/" in obj["apiVersion"] else ""
        if kind in ("Deployment", "Job", "CronJob", "HorizontalPodAutoscaler", "PodDisruptionBudget") \
                or api_group in _ISTIO_GROUPS:
            meta["generation"] = 1
        spec = obj.get("spec")
        if kind == "Namespace":
            obj["spec"] = {"finalizers": ["kubernetes"]}
            obj["status"] = {"phase": "Active"}
        elif kind == "Service":
            a, b = rng.randrange(96, 112), rng.randrange(256)
            ip = f"10.{a}.{b}.{rng.randrange(1, 255)}"
            spec.update({"clusterIP": ip, "clusterIPs": [ip], "internalTrafficPolicy": "Cluster",
                         "ipFamilies": ["IPv4"], "ipFamilyPolicy": "SingleStack", "sessionAffinity": "None",
                         "type": spec.get("type", "ClusterIP")})
            for p in spec["ports"]:
                p.setdefault("protocol", "TCP")
                p.setdefault("targetPort", p["port"])
                if spec["type"] == "LoadBalancer":
                    p["nodePort"] = rng.randrange(30000, 32768)
            if spec["type"] == "LoadBalancer":
                spec["allocateLoadBalancerNodePorts"] = True
                spec["externalTrafficPolicy"] = "Cluster"
                obj["status"] = {"loadBalancer": {"ingress": [{"ip": f"203.0.113.{rng.randrange(1, 255)}",
                                                               "ipMode": "VIP"}]}}
            else:
                obj["status"] = {"loadBalancer": {}}
        elif kind == "Deployment":
            meta.setdefault("annotations", {})["deployment.kubernetes.io/revision"] = "1"
            spec.update({"progressDeadlineSeconds": 600, "revisionHistoryLimit": 10,
                         "strategy": {"rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"},
                                      "type": "RollingUpdate"}})
            self.pod_template(spec["template"], "Always")
            replicas = spec["replicas"]
            updated = self.timestamp()
            obj["status"] = {
                "availableReplicas": replicas, "observedGeneration": 1, "readyReplicas": replicas,
                "replicas": replicas, "updatedReplicas": replicas,
                "conditions": [
                    {"lastTransitionTime": updated, "lastUpdateTime": updated,
                     "message": "Deployment has minimum availability.", "reason": "MinimumReplicasAvailable",
                     "status": "True", "type": "Available"},
                    {"lastTransitionTime": created, "lastUpdateTime": updated,
                     "message": f'ReplicaSet "{meta["name"]}-{rng.getrandbits(40):010x}" has successfully progressed.',
                     "reason": "NewReplicaSetAvailable", "status": "True", "type": "Progressing"}]}
        elif kind == "Job":
            spec.update({"completionMode": "NonIndexed", "completions": 1, "parallelism": 1, "suspend": False,
                         "podReplacementPolicy": "TerminatingOrFailed"})
            self.pod_template(spec["template"], None)
            obj["status"] = {"completionTime": created, "startTime": created, "succeeded": 1,
                             "ready": 0, "terminating": 0, "uncountedTerminatedPods": {}}
        elif kind == "CronJob":
            spec.update({"failedJobsHistoryLimit": 1, "successfulJobsHistoryLimit": 3, "suspend": False})
            self.pod_template(spec["jobTemplate"]["spec"]["template"], None)
            spec["jobTemplate"]["metadata"] = {"creationTimestamp": None}
            obj["status"] = {"lastScheduleTime": self.timestamp(), "lastSuccessfulTime": self.timestamp()}
        elif kind == "HorizontalPodAutoscaler":
            obj["status"] = {"currentReplicas": 2, "desiredReplicas": 2,
                             "currentMetrics": [{"type": "Resource", "resource": {
                                 "name": "cpu", "current": {"averageUtilization": rng.randrange(5, 60),
                                                            "averageValue": f"{rng.randrange(5, 400)}m"}}}],
                             "conditions": [{"lastTransitionTime": created,
                                             "message": "recommended size matches current size",
                                             "reason": "ReadyForNewScale", "status": "True", "type": "AbleToScale"}]}
        elif kind == "PodDisruptionBudget":
            obj["status"] = {"currentHealthy": 2, "desiredHealthy": 1, "disruptionsAllowed": 1,
                             "expectedPods": 2, "observedGeneration": 1}
        elif api_group in _ISTIO_GROUPS:
            obj["status"] = {}
        return obj

    def pod_template(self, template: dict, restart: str | None) -> None:
        template["metadata"]["creationTimestamp"] = None
        spec = template["spec"]
        if restart:
            spec.setdefault("restartPolicy", restart)
        spec.update({"dnsPolicy": "ClusterFirst", "schedulerName": "default-scheduler", "securityContext": {},
                     "terminationGracePeriodSeconds": 30})
        if "serviceAccountName" in spec:
            spec["serviceAccount"] = spec["serviceAccountName"]
        for c in spec["containers"]:
            c.update({"imagePullPolicy": "IfNotPresent", "terminationMessagePath": "/dev/termination-log",
                      "terminationMessagePolicy": "File"})
            for p in c.get("ports", []):
                p.setdefault("protocol", "TCP")
            for probe in ("readinessProbe", "livenessProbe", "startupProbe"):
                if probe in c:
                    pr = c[probe]
                    for k, v in (("failureThreshold", 3), ("periodSeconds", 10), ("successThreshold", 1),
                                 ("timeoutSeconds", 1)):
                        pr.setdefault(k, v)
                    if "httpGet" in pr:
                        pr["httpGet"].setdefault("scheme", "HTTP")
                    if "grpc" in pr:
                        pr["grpc"].setdefault("service", "")
        for v in spec.get("volumes", []):
            if "configMap" in v:
                v["configMap"].setdefault("defaultMode", 420)


def _sort_key(obj: dict) -> tuple:
    kind = obj["kind"]
    rank = DUMP_KIND_ORDER.index(kind) if kind in DUMP_KIND_ORDER else len(DUMP_KIND_ORDER)
    return rank, obj["metadata"].get("namespace", ""), obj["metadata"]["name"]


# --- output ----------------------------------------------------------------------------------------

def generate(services: int, out: str) -> dict:
    gen = Gen(services)
    gen.build()

    tmp = out.rstrip("/") + ".tmp"
    if os.path.exists(tmp):
        shutil.rmtree(tmp)
    os.makedirs(os.path.join(tmp, "files"))
    kinds: dict[str, int] = {}
    all_docs: list[dict] = []
    with open(os.path.join(tmp, "stream.yaml"), "w", encoding="utf-8", newline="\n") as stream:
        for rel, docs in gen.files:
            ns = rel.split("/")[0]
            indent_seq = gen.ns_info[ns]["indent_seq"] if ns in gen.ns_info else True
            texts = ["\n".join(emit(d, sort_keys=False, indent_seq=indent_seq)) + "\n" for d in docs]
            path = os.path.join(tmp, "files", rel)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "w", encoding="utf-8", newline="\n") as f:
                f.write("---\n".join(texts))
            stream.write(f"---\n# Source: {rel}\n" + "---\n".join(texts))
            for d in docs:
                kinds[d["kind"]] = kinds.get(d["kind"], 0) + 1
                all_docs.append(d)

    server = Server(f"meshlint-bench-server-{GENERATOR_VERSION}-{services}")
    items = [server.item(d) for d in sorted(all_docs, key=_sort_key)]
    with open(os.path.join(tmp, "dump.yaml"), "w", encoding="utf-8", newline="\n") as f, \
            open(os.path.join(tmp, "dump-objects.yaml"), "w", encoding="utf-8", newline="\n") as objects:
        f.write("apiVersion: v1\nitems:\n")
        chunk: list[str] = []
        for item in items:
            text = "\n".join(emit(item, sort_keys=True, indent_seq=False))
            objects.write("---\n" + text + "\n")
            chunk.append("- " + text.replace("\n", "\n  "))  # (block scalars hold no empty line)
            if len(chunk) >= 1000:
                f.write("\n".join(chunk) + "\n")
                chunk = []
        if chunk:
            f.write("\n".join(chunk) + "\n")
        f.write('kind: List\nmetadata:\n  resourceVersion: ""\n')
    dump_list = {"apiVersion": "v1", "items": items, "kind": "List", "metadata": {"resourceVersion": ""}}
    with open(os.path.join(tmp, "dump.json"), "w", encoding="utf-8", newline="\n") as f:
        text = json.dumps(dump_list, indent=4, sort_keys=True)
        # Go's encoding/json escapes these three in strings
        f.write(text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026") + "\n")
    with open(os.path.join(tmp, "dump-compact.json"), "w", encoding="utf-8", newline="\n") as f:
        # dump.json re-serialised as the issue did (#19): json.dump's escapes, no line break at all
        json.dump(dump_list, f, separators=(",", ":"), sort_keys=True)

    def size(p: str) -> int:
        if os.path.isdir(p):
            return sum(os.path.getsize(os.path.join(r, n)) for r, _, ns in os.walk(p) for n in ns)
        return os.path.getsize(p)

    meta = {
        "generator_version": GENERATOR_VERSION,
        "services": services,
        "namespaces": len(gen.ns_info) + 1,
        "resources": len(all_docs),
        "files": len(gen.files),
        "kinds": dict(sorted(kinds.items())),
        "bytes": {form: size(os.path.join(tmp, form)) for form in ("stream.yaml", "files", "dump.yaml", "dump.json",
                                                                     "dump-compact.json", "dump-objects.yaml")},
    }
    with open(os.path.join(tmp, "meta.json"), "w", encoding="utf-8") as f:
        json.dump(meta, f, indent=2, sort_keys=True)
        f.write("\n")
    if os.path.exists(out):
        shutil.rmtree(out)
    os.replace(tmp, out)
    return meta


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--services", type=int, required=True, help="number of services (e.g. 1000, 5000, 25000)")
    p.add_argument("--out", required=True, help="output directory (replaced)")
    args = p.parse_args(argv)
    if args.services < 1:
        p.error("--services must be at least 1")
    meta = generate(args.services, args.out)
    mb = meta["bytes"]
    print(f"{args.out}: {meta['services']} services, {meta['resources']} resources in {meta['namespaces']} namespaces, "
          f"{meta['files']} files; stream {mb['stream.yaml'] / 1e6:.1f} MB, dump.yaml {mb['dump.yaml'] / 1e6:.1f} MB, "
          f"dump.json {mb['dump.json'] / 1e6:.1f} MB, dump-compact.json {mb['dump-compact.json'] / 1e6:.1f} MB",
          file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
