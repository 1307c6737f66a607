"""Every rule on live objects: each rule fixture's objects, served by the API emulator and read
with `--kube`, give the findings that the same objects give from one JSON `kind: List` file,
message for message: a rule never forks into a live and a file version.

What a cluster would hold is served: the objects of kinds it serves, each in a namespace
(`default` when the fixture sets none, as the API server does); what meshlint reads of them
(the kinds the rules declare, ConfigMaps of the root namespace, Pods that have not ended) is
also written to the file, in the order meshlint reads the cluster (kind by kind, each sorted by
namespace and name as the API server lists it). The live side differs in one way only, and on
purpose: the running Pods of a live workload settle its sidecar (`Index.sidecar`), so a finding
on a workload whose Pods the fixture holds may differ; it must be explained by those Pods.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from meshlint import rules
from meshlint.config import from_mapping
from meshlint.engine import Inputs, check
from meshlint.load import load
from meshlint.load.kube import KubeTarget, api_kind
from meshlint.resource import CLUSTER_SCOPED

FIXTURES = sorted((Path(__file__).resolve().parents[1] / "rules").glob("ML*.yaml"))
READ = {kind for rule in rules.ALL for kind in rule.inputs}


def _cluster_objects(fixture: Path) -> list[dict]:
    """The objects of the fixture that a cluster would hold and meshlint would read."""
    loaded = load([str(fixture)])
    resources = loaded.resources + [p.resource for p in loaded.problems if p.resource is not None]
    out = []
    for r in resources:
        if r.kind not in READ or api_kind(r.kind) is None:
            continue
        obj = json.loads(json.dumps(r.raw, default=str))  # plain JSON, as the API server holds it
        meta = obj.setdefault("metadata", {}) if isinstance(obj.get("metadata"), dict) or "metadata" not in obj \
            else None
        if meta is None:
            continue
        if r.kind_name not in CLUSTER_SCOPED:
            meta["namespace"] = r.namespace
        if r.kind == "ConfigMap" and r.namespace != "istio-system":
            continue
        if r.kind == "Pod" and (obj.get("status") or {}).get("phase") in ("Succeeded", "Failed"):
            continue
        out.append((r.kind, r.namespace, r.name, obj))
    # in the order meshlint reads the cluster: kind by kind, each as the API server lists it
    return [obj for *_, obj in sorted(out, key=lambda entry: entry[:3])]


def _key(f) -> tuple:
    r = f.resource
    return (f.code, f.variant, r.kind_name or r.kind, r.namespace, r.name, f.message)


@pytest.mark.parametrize("fixture", FIXTURES, ids=lambda p: p.stem)
def test_the_cluster_gives_the_findings_its_objects_give_in_a_file(fixture, apiserver, tmp_path):
    objects = _cluster_objects(fixture)
    if not objects:
        pytest.skip("nothing a cluster would hold (input problems only)")
    first = fixture.read_text(encoding="utf-8").splitlines()[0]
    settings = {}
    if first.startswith("# meshlint-config:"):
        import yaml

        settings = yaml.safe_load(first.split(":", 1)[1])
    config = from_mapping(settings, rules.BY_CODE)
    listed = tmp_path / "objects.json"
    listed.write_text(json.dumps({"apiVersion": "v1", "kind": "List", "items": objects}), encoding="utf-8")
    apiserver.serve(objects)

    from_file = {_key(f) for f in check(Inputs([str(listed)]), config).reported if f.resource is not None}
    live_result = check(Inputs([], kube=KubeTarget(str(apiserver.kubeconfig()))), config)
    live = {_key(f) for f in live_result.reported if f.resource is not None}
    assert all(f.file == "" and f.line == 0 for f in live_result.reported)

    pods_of = {(o.get("metadata", {}).get("namespace"), ref.get("kind"), ref.get("name"))
               for o in objects if o.get("kind") == "Pod"
               for ref in o.get("metadata", {}).get("ownerReferences") or ()}
    owners = {(ns, kind, name) for ns, kind, name in pods_of}
    differ = from_file ^ live
    # a difference is only allowed on a workload whose running pods the fixture holds (through
    # a ReplicaSet: owners of owners are in `objects` too)
    replica_owners = {(o["metadata"].get("namespace"), ref.get("kind"), ref.get("name"))
                      for o in objects if (o["metadata"].get("namespace"), o.get("kind"), o["metadata"].get("name"))
                      in owners for ref in o["metadata"].get("ownerReferences") or ()}
    unexplained = [d for d in differ if (d[3], d[2], d[4]) not in owners | replica_owners]
    assert not unexplained, f"live only: {sorted(live - from_file)}\nfile only: {sorted(from_file - live)}"
