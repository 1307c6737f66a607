"""One parametrised runner over every rule fixture (conftest.py gives one `rule_fixture` per
tests/rules/*.yaml and describes the format)."""

from __future__ import annotations

from meshlint import rules
from meshlint.config import from_mapping
from meshlint.engine import Inputs, check


def test_fixture(rule_fixture):
    config = from_mapping(rule_fixture.config, rules.BY_CODE, where=rule_fixture.path.name)
    result = check(Inputs([str(rule_fixture.path)]), config)
    assert not result.internal_errors, result.internal_errors
    problems = rule_fixture.compare(result.findings)
    assert not problems, f"{rule_fixture.path.name}:\n" + "\n".join(problems)


def test_every_finding_points_at_its_field(rule_fixtures, field_at):
    """The column lands on the offending key (or list item), in every fixture: block and flow
    YAML, quoted keys, List items, several documents."""
    compared = 0
    for fixture in rule_fixtures:
        config = from_mapping(fixture.config, rules.BY_CODE, where=fixture.path.name)
        for f in check(Inputs([str(fixture.path)]), config).findings:
            at = field_at(f)
            if at is None:
                continue
            text, token = at
            assert text.startswith((token, f'"{token}"', f"'{token}'")), (fixture.path.name, f.line, f.column, f.path)
            compared += 1
    assert compared > 300


def test_findings_do_not_depend_on_the_order_of_the_input(tmp_path):
    """The same objects in the opposite order (as a `kubectl get` dump sorts them by kind and
    name, not as the repository lists them): the same findings, word for word."""
    from pathlib import Path

    import yaml

    root = Path(__file__).resolve().parent.parent / "examples"
    docs = [d for p in sorted(root.rglob("*.yaml")) for d in yaml.safe_load_all(p.read_text()) if d]
    docs += [{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name, "labels": labels}}
             for name, labels in (("zz-rev", {"istio.io/rev": "1-24"}), ("aa-rev", {"istio.io/rev": "1-24"}),
                                  ("old-injection", {"istio-injection": "enabled"}))]
    def key(r):
        return sorted((f.code, f.message, str(f.resource.ref) if f.resource else "") for f in r.findings)

    seen = []
    for order in (docs, docs[::-1]):
        path = tmp_path / "mesh.yaml"
        path.write_text(yaml.safe_dump_all(order))
        seen.append(key(check(Inputs([str(path)]), from_mapping({}, rules.BY_CODE))))
    assert seen[0] == seen[1] and len(seen[0]) > 15


def test_init_container_network_calls_are_recognised():
    """ML409: which commands call the network, and where to (the port decides exclusions)."""
    from meshlint.rules.init_container_network_blocked import network_call

    def call(command, env=(), dns=False):
        found = network_call({"command": command, "env": [{"name": k, "value": v} for k, v in env]}, dns)
        return found and (found.tool, found.host, found.port)

    assert call(["sh", "-c", "until nc -z kafka 9092; do sleep 1; done"]) == ("nc", "kafka", 9092)
    assert call(["sh", "-c", "wget -qO- http://$ADDR/healthz"], [("ADDR", "frontend:8080")]) == \
        ("wget", "frontend", 8080)
    assert call(["curl", "-fsS", "https://config.example.com/app.json"]) == ("curl", "config.example.com", 443)
    assert call(["/wait-for-it.sh", "db:5432", "--", "echo", "up"]) == ("wait-for-it.sh", "db", 5432)
    assert call(["pg_isready", "-h", "orders-db", "-p", "5432"]) == ("pg_isready", "orders-db", 5432)
    assert call(["dockerize", "-wait", "tcp://mysql:3306"]) == ("dockerize", "mysql", 3306)
    assert call(["sh", "-c", "until getent hosts db; do sleep 1; done"]) is None  # DNS, not captured
    assert call(["sh", "-c", "until getent hosts db; do sleep 1; done"], dns=True) == ("getent", "", None)
    assert call(["cp", "-r", "/defaults/.", "/config/"]) is None
    assert call(["sh", "-c", "chown -R 1000 /data && echo file:///data"]) is None
