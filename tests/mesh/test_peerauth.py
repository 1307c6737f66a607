"""mesh.peerauth against istio/istio `pilot/pkg/security/authn/policy_applier.go`
`ComposePeerAuthentication` (and `GetMutualTLSModeForPort`):

- no applicable config -> PERMISSIVE;
- `spec.Selector == nil || len(MatchLabels) == 0` -> mesh level in the root namespace, else
  namespace level; a selector policy in the root namespace is ignored;
- the oldest (`CreationTimestamp.Before`) wins within a level;
- mesh -> namespace -> workload, each overriding its parent unless `isMtlsModeUnset`;
- `PortLevelMtls` only from the workload-level policy; an UNSET port inherits the workload mode.
"""

from __future__ import annotations

import datetime as dt

import pytest

from meshlint.mesh.peerauth import PeerAuthentications
from meshlint.resource import Document, FileOrigin, Ref, Resource, Source

ROOT = "istio-system"
LABELS = {"app": "cart", "version": "v1"}


def pa(name: str, ns: str, mode: str | None = None, selector: dict | None = None, ports: dict | None = None,
       ts=None, mtls=...) -> Resource:
    meta: dict = {"name": name, "namespace": ns}
    if ts is not None:
        meta["creationTimestamp"] = ts
    spec: dict = {}
    if mtls is not ...:
        spec["mtls"] = mtls
    elif mode is not None:
        spec["mtls"] = {"mode": mode}
    if selector is not None:
        spec["selector"] = {"matchLabels": selector}
    if ports is not None:
        spec["portLevelMtls"] = ports
    raw = {"apiVersion": "security.istio.io/v1", "kind": "PeerAuthentication", "metadata": meta, "spec": spec}
    return Resource(raw=raw, ref=Ref("PeerAuthentication", ns, name), api_version=raw["apiVersion"],
                    origin=FileOrigin(Document(Source("t.yaml", ""), 0, 0, 1, 0)), kind_name="PeerAuthentication",
                    _meta=meta)


def effective(policies, ns="shop", labels=LABELS, port=None, root=ROOT):
    m = PeerAuthentications(policies, root).mode(ns, labels, port)
    return m.mode, (m.policy.name if m.policy is not None else None)


def test_nothing_is_permissive():
    m = PeerAuthentications([], ROOT).mode("shop", LABELS)
    assert (m.mode, m.policy, m.path) == ("PERMISSIVE", None, ())
    assert m.describe() == "PERMISSIVE (no PeerAuthentication applies)"


MESH_STRICT = pa("mesh", ROOT, "STRICT")

# (policies, expected (mode, deciding policy name))
LEVEL_CASES = {
    "mesh-wide": ([MESH_STRICT], ("STRICT", "mesh")),
    "mesh-wide-permissive": ([pa("mesh", ROOT, "PERMISSIVE")], ("PERMISSIVE", "mesh")),
    "mesh-wide-disable": ([pa("mesh", ROOT, "DISABLE")], ("DISABLE", "mesh")),
    "namespace-overrides-mesh": ([MESH_STRICT, pa("ns", "shop", "PERMISSIVE")], ("PERMISSIVE", "ns")),
    "namespace-disable-overrides-mesh": ([MESH_STRICT, pa("ns", "shop", "DISABLE")], ("DISABLE", "ns")),
    "namespace-only": ([pa("ns", "shop", "STRICT")], ("STRICT", "ns")),
    "other-namespace-does-not-apply": ([pa("ns", "billing", "STRICT")], ("PERMISSIVE", None)),
    "workload-overrides-namespace": ([MESH_STRICT, pa("ns", "shop", "DISABLE"),
                                      pa("wl", "shop", "STRICT", selector={"app": "cart"})], ("STRICT", "wl")),
    "workload-overrides-mesh": ([MESH_STRICT, pa("wl", "shop", "PERMISSIVE", selector={"app": "cart"})],
                                ("PERMISSIVE", "wl")),
    "workload-selector-not-matching": ([MESH_STRICT, pa("wl", "shop", "DISABLE", selector={"app": "web"})],
                                       ("STRICT", "mesh")),
    "workload-selector-needs-all-labels": ([pa("wl", "shop", "STRICT", selector={"app": "cart", "version": "v2"})],
                                           ("PERMISSIVE", None)),
    "workload-selector-subset-matches": ([pa("wl", "shop", "STRICT", selector={"version": "v1"})],
                                         ("STRICT", "wl")),
    "workload-in-other-namespace": ([pa("wl", "billing", "STRICT", selector={"app": "cart"})],
                                    ("PERMISSIVE", None)),
    # UNSET or missing mtls inherits from the parent, at every level
    "namespace-unset-inherits-mesh": ([MESH_STRICT, pa("ns", "shop", "UNSET")], ("STRICT", "mesh")),
    "namespace-no-mtls-inherits-mesh": ([MESH_STRICT, pa("ns", "shop")], ("STRICT", "mesh")),
    "namespace-empty-mtls-inherits-mesh": ([MESH_STRICT, pa("ns", "shop", mtls={})], ("STRICT", "mesh")),
    "namespace-null-mtls-inherits-mesh": ([MESH_STRICT, pa("ns", "shop", mtls=None)], ("STRICT", "mesh")),
    "workload-unset-inherits-namespace": ([MESH_STRICT, pa("ns", "shop", "PERMISSIVE"),
                                           pa("wl", "shop", "UNSET", selector={"app": "cart"})],
                                          ("PERMISSIVE", "ns")),
    "workload-and-namespace-unset-inherit-mesh": ([MESH_STRICT, pa("ns", "shop", "UNSET"),
                                                   pa("wl", "shop", selector={"app": "cart"})], ("STRICT", "mesh")),
    "mesh-unset-is-permissive": ([pa("mesh", ROOT, "UNSET")], ("PERMISSIVE", None)),
    # selector policies in the root namespace are ignored, for every pod
    "root-selector-ignored": ([pa("root-wl", ROOT, "STRICT", selector={"app": "cart"})], ("PERMISSIVE", None)),
    "root-selector-ignored-does-not-shadow-mesh": ([pa("root-wl", ROOT, "DISABLE", selector={"app": "cart"}),
                                                    MESH_STRICT], ("STRICT", "mesh")),
    # `len(spec.Selector.MatchLabels) == 0`: an empty selector is namespace level
    "empty-selector-is-namespace-level": ([MESH_STRICT, pa("ns", "shop", "DISABLE", selector={})],
                                          ("DISABLE", "ns")),
    "empty-selector-in-root-is-mesh-level": ([pa("mesh", ROOT, "STRICT", selector={})], ("STRICT", "mesh")),
}


@pytest.mark.parametrize("policies,expected", list(LEVEL_CASES.values()), ids=list(LEVEL_CASES))
def test_compose_levels(policies, expected):
    assert effective(policies) == expected


def test_input_order_does_not_matter_across_levels():
    policies = [pa("wl", "shop", "STRICT", selector={"app": "cart"}), pa("ns", "shop", "DISABLE"), MESH_STRICT]
    assert effective(policies) == ("STRICT", "wl")
    assert effective(list(reversed(policies))) == ("STRICT", "wl")


def test_pod_in_the_root_namespace_gets_the_mesh_policy():
    assert effective([MESH_STRICT], ns=ROOT) == ("STRICT", "mesh")
    # a selector policy in the root namespace is ignored even for the root namespace's own pods
    assert effective([MESH_STRICT, pa("wl", ROOT, "DISABLE", selector={"app": "cart"})], ns=ROOT) == \
        ("STRICT", "mesh")


def test_mode_records_the_deciding_field():
    m = PeerAuthentications([MESH_STRICT, pa("ns", "shop", "PERMISSIVE")], ROOT).mode("shop", LABELS)
    assert m.path == ("spec", "mtls", "mode")
    assert m.describe() == "PERMISSIVE from PeerAuthentication shop/ns"


# --- within a level, the oldest wins ---------------------------------------------------------

T1, T2 = "2024-01-01T00:00:00Z", "2024-06-01T00:00:00Z"


@pytest.mark.parametrize("policies,expected", [
    # namespace level: older PERMISSIVE wins over newer STRICT, whatever the input order
    ([pa("new", "shop", "STRICT", ts=T2), pa("old", "shop", "PERMISSIVE", ts=T1)], ("PERMISSIVE", "old")),
    ([pa("old", "shop", "PERMISSIVE", ts=T1), pa("new", "shop", "STRICT", ts=T2)], ("PERMISSIVE", "old")),
    # mesh level
    ([pa("new", ROOT, "DISABLE", ts=T2), pa("old", ROOT, "STRICT", ts=T1)], ("STRICT", "old")),
    # workload level, both selectors matching
    ([pa("new", "shop", "DISABLE", selector={"app": "cart"}, ts=T2),
      pa("old", "shop", "STRICT", selector={"version": "v1"}, ts=T1)], ("STRICT", "old")),
    # the oldest that *matches*: an older non-matching one is not applicable
    ([pa("old-other", "shop", "DISABLE", selector={"app": "web"}, ts=T1),
      pa("new", "shop", "STRICT", selector={"app": "cart"}, ts=T2)], ("STRICT", "new")),
    # datetime objects (what PyYAML makes of an unquoted timestamp)
    ([pa("new", "shop", "STRICT", ts=dt.datetime(2024, 6, 1, tzinfo=dt.UTC)),
      pa("old", "shop", "DISABLE", ts=dt.datetime(2024, 1, 1, tzinfo=dt.UTC))], ("DISABLE", "old")),
    # naive datetimes are UTC; aware ones are converted (02:00+02:00 == 00:00Z, before 00:30Z)
    ([pa("str", "shop", "STRICT", ts="2024-01-01T00:30:00Z"),
      pa("aware", "shop", "DISABLE", ts=dt.datetime(2024, 1, 1, 2, 0, tzinfo=dt.timezone(dt.timedelta(hours=2))))],
     ("DISABLE", "aware")),
    ([pa("str", "shop", "STRICT", ts="2024-01-01T00:30:00Z"),
      pa("naive", "shop", "DISABLE", ts=dt.datetime(2024, 1, 1, 0, 10))], ("DISABLE", "naive")),
    ([pa("naive", "shop", "DISABLE", ts=dt.datetime(2024, 1, 1, 0, 40)),
      pa("str", "shop", "STRICT", ts="2024-01-01T00:30:00Z")], ("STRICT", "str")),
    # equal or absent timestamps: the first in input order
    ([pa("a", "shop", "STRICT", ts=T1), pa("b", "shop", "DISABLE", ts=T1)], ("STRICT", "a")),
    ([pa("b", "shop", "DISABLE", ts=T1), pa("a", "shop", "STRICT", ts=T1)], ("DISABLE", "b")),
    ([pa("a", "shop", "STRICT"), pa("b", "shop", "DISABLE")], ("STRICT", "a")),
    ([pa("b", "shop", "DISABLE"), pa("a", "shop", "STRICT")], ("DISABLE", "b")),
    # a policy without a timestamp (not applied yet) counts as the newest
    ([pa("unapplied", "shop", "STRICT"), pa("applied", "shop", "PERMISSIVE", ts=T2)], ("PERMISSIVE", "applied")),
    ([pa("unapplied", "shop", "STRICT", selector={"app": "cart"}),
      pa("applied", "shop", "DISABLE", selector={"app": "cart"}, ts=T2)], ("DISABLE", "applied")),
])
def test_oldest_wins_within_a_level(policies, expected):
    assert effective(policies) == expected


def test_the_oldest_winner_may_be_unset_and_then_inherits():
    """The oldest is *selected* first; only then does UNSET inherit from the parent level."""
    policies = [MESH_STRICT, pa("old", "shop", "UNSET", ts=T1), pa("new", "shop", "DISABLE", ts=T2)]
    assert effective(policies) == ("STRICT", "mesh")


# --- portLevelMtls ---------------------------------------------------------------------------

@pytest.mark.parametrize("policies,port,expected", [
    ([pa("wl", "shop", "PERMISSIVE", selector={"app": "cart"}, ports={8080: {"mode": "STRICT"}})],
     8080, ("STRICT", "wl")),
    ([pa("wl", "shop", "PERMISSIVE", selector={"app": "cart"}, ports={8080: {"mode": "STRICT"}})],
     9090, ("PERMISSIVE", "wl")),
    ([pa("wl", "shop", "PERMISSIVE", selector={"app": "cart"}, ports={8080: {"mode": "STRICT"}})],
     None, ("PERMISSIVE", "wl")),
    # string keys (JSON input) match an int port
    ([pa("wl", "shop", "STRICT", selector={"app": "cart"}, ports={"8080": {"mode": "DISABLE"}})],
     8080, ("DISABLE", "wl")),
    # the workload's own mtls may be absent: the port overrides what it inherited
    ([MESH_STRICT, pa("wl", "shop", selector={"app": "cart"}, ports={15021: {"mode": "PERMISSIVE"}})],
     15021, ("PERMISSIVE", "wl")),
    ([MESH_STRICT, pa("wl", "shop", selector={"app": "cart"}, ports={15021: {"mode": "PERMISSIVE"}})],
     8080, ("STRICT", "mesh")),
    # an UNSET port inherits the effective workload mode (itself maybe inherited)
    ([MESH_STRICT, pa("ns", "shop", "DISABLE"),
      pa("wl", "shop", selector={"app": "cart"}, ports={8080: {"mode": "UNSET"}})], 8080, ("DISABLE", "ns")),
    ([pa("wl", "shop", "STRICT", selector={"app": "cart"}, ports={8080: {}})], 8080, ("STRICT", "wl")),
    # only a workload-level policy's portLevelMtls counts
    ([pa("ns", "shop", "PERMISSIVE", ports={8080: {"mode": "STRICT"}})], 8080, ("PERMISSIVE", "ns")),
    ([pa("mesh", ROOT, "PERMISSIVE", ports={8080: {"mode": "STRICT"}})], 8080, ("PERMISSIVE", "mesh")),
    ([pa("wl", "shop", "PERMISSIVE", selector={"app": "web"}, ports={8080: {"mode": "STRICT"}})],
     8080, ("PERMISSIVE", None)),
])
def test_port_level_mtls(policies, port, expected):
    assert effective(policies, port=port) == expected


def test_port_level_path_points_at_the_port_entry():
    wl = pa("wl", "shop", "PERMISSIVE", selector={"app": "cart"}, ports={"8080": {"mode": "STRICT"}})
    m = PeerAuthentications([wl], ROOT).mode("shop", LABELS, 8080)
    assert m.path == ("spec", "portLevelMtls", "8080", "mode")
    assert m.describe() == "STRICT from PeerAuthentication shop/wl"


# --- strict_somewhere ------------------------------------------------------------------------

def test_strict_somewhere():
    pas = PeerAuthentications([MESH_STRICT], ROOT)
    m = pas.strict_somewhere("shop", LABELS)
    assert (m.mode, m.policy.name, m.path) == ("STRICT", "mesh", ("spec", "mtls", "mode"))

    wl = pa("wl", "shop", "PERMISSIVE", selector={"app": "cart"}, ports={9000: {"mode": "STRICT"}})
    m = PeerAuthentications([wl], ROOT).strict_somewhere("shop", LABELS)
    assert (m.mode, m.policy.name, m.path) == ("STRICT", "wl", ("spec", "portLevelMtls", 9000, "mode"))

    assert PeerAuthentications([], ROOT).strict_somewhere("shop", LABELS) is None
    assert PeerAuthentications([pa("ns", "shop", "PERMISSIVE")], ROOT).strict_somewhere("shop", LABELS) is None
    # a STRICT port on a policy that does not select the pod does not count
    assert PeerAuthentications([wl], ROOT).strict_somewhere("shop", {"app": "web"}) is None
    # a STRICT port of a namespace-level policy is ignored
    ns_ports = pa("ns", "shop", "PERMISSIVE", ports={9000: {"mode": "STRICT"}})
    assert PeerAuthentications([ns_ports], ROOT).strict_somewhere("shop", LABELS) is None


# --- a custom root namespace -----------------------------------------------------------------

def test_custom_root_namespace():
    in_istio_system = pa("mesh", "istio-system", "STRICT")
    in_root = pa("mesh", "mesh-root", "STRICT")
    # with root `mesh-root`, a selector-less policy in istio-system is just that namespace's policy
    assert effective([in_istio_system], root="mesh-root") == ("PERMISSIVE", None)
    assert effective([in_istio_system], ns="istio-system", root="mesh-root") == ("STRICT", "mesh")
    assert effective([in_root], root="mesh-root") == ("STRICT", "mesh")
    # and selector policies are ignored in the custom root, not in istio-system
    assert effective([pa("wl", "mesh-root", "STRICT", selector={"app": "cart"})], ns="mesh-root",
                     root="mesh-root") == ("PERMISSIVE", None)
    assert effective([pa("wl", "istio-system", "STRICT", selector={"app": "cart"})], ns="istio-system",
                     root="mesh-root") == ("STRICT", "wl")


def test_applicable_returns_each_level():
    mesh, ns, wl = MESH_STRICT, pa("ns", "shop", "PERMISSIVE"), pa("wl", "shop", "STRICT", selector={"app": "cart"})
    pas = PeerAuthentications([wl, ns, mesh], ROOT)
    assert pas.applicable("shop", LABELS) == (mesh, ns, wl)
    assert pas.applicable("shop", {"app": "web"}) == (mesh, ns, None)
    assert pas.applicable("billing", LABELS) == (mesh, None, None)
    assert pas.applicable(ROOT, LABELS) == (mesh, None, None)
