"""mesh.trafficpolicy.tls_settings against istio/istio `pilot/pkg/networking/util/util.go`
(`MergeSubsetTrafficPolicy`, `GetPortLevelTrafficPolicy`): a `portLevelSettings` entry replaces
the level above it wholesale for its port, `tls` included even when the entry sets none; a
subset's policy overrides the host's for the subset's traffic."""

from __future__ import annotations

from meshlint.mesh.trafficpolicy import tls_settings
from meshlint.resource import Document, FileOrigin, Ref, Resource, Source


def dr(spec: dict) -> Resource:
    raw = {"apiVersion": "networking.istio.io/v1", "kind": "DestinationRule",
           "metadata": {"name": "db", "namespace": "shop"}, "spec": spec}
    return Resource(raw, Ref("DestinationRule", "shop", "db"), raw["apiVersion"],
                    FileOrigin(Document(Source("t.yaml", ""), 0, 0, 1, 0)), "DestinationRule", raw["metadata"])


def test_every_tls_block_with_where_it_applies():
    settings = list(tls_settings(dr({
        "host": "db",
        "trafficPolicy": {
            "tls": {"mode": "SIMPLE"},
            "portLevelSettings": [
                {"port": {"number": 5432}, "tls": {"mode": "DISABLE"}},
                {"port": {"number": 9187}, "loadBalancer": {"simple": "ROUND_ROBIN"}},  # no tls: still replaces
            ],
        },
        "subsets": [
            {"name": "replica", "labels": {"role": "replica"},
             "trafficPolicy": {"tls": {"mode": "MUTUAL"},
                               "portLevelSettings": [{"port": {"number": 5432}, "tls": {"mode": "ISTIO_MUTUAL"}}]}},
            {"name": "primary", "labels": {"role": "primary"}},  # no policy of its own
        ],
    })))
    assert [(s.mode, s.path, s.port, s.subset, s.overridden) for s in settings] == [
        ("SIMPLE", ("spec", "trafficPolicy", "tls"), None, None, frozenset({5432, 9187})),
        ("DISABLE", ("spec", "trafficPolicy", "portLevelSettings", 0, "tls"), 5432, None, frozenset()),
        ("MUTUAL", ("spec", "subsets", 0, "trafficPolicy", "tls"), None, "replica", frozenset({5432})),
        ("ISTIO_MUTUAL", ("spec", "subsets", 0, "trafficPolicy", "portLevelSettings", 0, "tls"), 5432, "replica",
         frozenset()),
    ]
    assert settings[2].subset_labels == {"role": "replica"}


def test_nothing_to_list_and_malformed_blocks():
    assert list(tls_settings(dr({"host": "db"}))) == []
    assert list(tls_settings(dr({"host": "db", "trafficPolicy": {"tls": "SIMPLE"}, "subsets": ["x"]}))) == []
    odd = list(tls_settings(dr({"host": "db", "trafficPolicy": {"tls": {"mode": 3},
                                                                 "portLevelSettings": [{"tls": {}}]}})))
    assert [(s.mode, s.port) for s in odd] == [("", None), ("", None)]
