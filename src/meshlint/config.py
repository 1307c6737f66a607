"""Configuration: what the user decided. Which rules run, at what severity, with which
options, and the facts about the environment that the files cannot show (`Facts`).

One `Config` comes from the defaults, overlaid by a configuration mapping (a config file, or a
fixture's header) and then by command-line flags. Every key is validated: an unknown key, a
wrong type or an unknown code is a `ConfigError` (exit code 2) naming the key. What was read
(the manifests, the `--mesh-config` file, the `--call-graph` edges) is input, not
configuration: `load/` reads it.
"""

from __future__ import annotations

import fnmatch
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from .finding import Rule, Severity
from .mesh.hosts import DOMAIN

CODE_PREFIX = re.compile(r"^ML\d{0,3}$")


class ConfigError(Exception):
    """Invalid configuration (exit code 2)."""


@dataclass(frozen=True)
class Facts:
    """What the user states about the environment that the files cannot show (SPEC §4)."""

    root_namespace: str = "istio-system"
    injected_namespaces: frozenset[str] = frozenset()  # injection on, their Namespace not in the input
    uninjected_namespaces: frozenset[str] = frozenset()  # injection off, likewise
    known_gateways: frozenset[str] = frozenset()  # "ns/name"
    known_hosts: frozenset[str] = frozenset()  # service hosts outside the input; globs allowed

    def is_known_host(self, host: str) -> bool:
        """A host the user says exists outside the input (`known-hosts`, globs allowed)."""
        return any(fnmatch.fnmatchcase(host, pattern) for pattern in self.known_hosts)
    native_sidecars: bool = False
    istio_cni: bool | None = None  # the pods' traffic redirect comes from Istio CNI (None: unknown)
    istio_version: str = ""
    domain: str = DOMAIN
    default_namespace: str = "default"  # of resources that set none, as kubectl does


@dataclass(frozen=True)
class Config:
    select: tuple[str, ...] = ("ML",)
    ignore: tuple[str, ...] = ()
    severity: Mapping[str, Severity] = field(default_factory=dict)
    options: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)  # by rule name
    facts: Facts = field(default_factory=Facts)
    fail_on: Severity | None = Severity.WARNING  # None = never
    ignore_resources: tuple[tuple[tuple[str, ...], str], ...] = ()  # (code prefixes, "Kind ns/name" glob)
    namespace: str | None = None  # report only on this namespace (and cluster-scoped resources)
    source: str = ""  # the configuration file read, for --show-config

    def ignored_resource(self, code: str, resource_id: str) -> bool:
        return any(any(code.startswith(p) for p in codes) and fnmatch.fnmatchcase(resource_id, glob)
                   for codes, glob in self.ignore_resources)

    def is_enabled(self, rule: Rule) -> bool:
        """The longest matching prefix wins; on a tie, ignore wins (like ruff)."""
        sel = max((len(p) for p in self.select if rule.code.startswith(p)), default=-1)
        ign = max((len(p) for p in self.ignore if rule.code.startswith(p)), default=-1)
        return sel >= 0 and sel > ign

    def severity_of(self, rule: Rule) -> Severity:
        return self.severity.get(rule.code, rule.severity)

    def options_for(self, rule: Rule) -> Mapping[str, Any]:
        return {**rule.options, **self.options.get(rule.name, {})}

    def with_codes(self, select: list[str] | None, ignore: list[str] | None,
                   rules: Mapping[str, Rule]) -> Config:
        out = self
        if select:
            out = replace(out, select=tuple(parse_codes(select, rules, "--select")))
        if ignore:
            out = replace(out, ignore=out.ignore + tuple(parse_codes(ignore, rules, "--ignore")))
        return out


def parse_codes(values: list[str] | str, rules: Mapping[str, Rule], where: str) -> list[str]:
    """`["ML1,ML203", "ML3"]` -> `["ML1", "ML203", "ML3"]`, each a known code or prefix."""
    if isinstance(values, str):
        values = [values]
    if not isinstance(values, (list, tuple)):
        raise ConfigError(f"{where}: expected rule codes (a list or a comma-separated string), got {_shown(values)}")
    out = []
    for value in values:
        if not isinstance(value, str):
            raise ConfigError(f"{where}: expected rule codes, got {_shown(value)}")
        for part in value.split(","):
            code = part.strip().upper()
            if not code:
                continue
            if code == "ALL":
                code = "ML"
            if not CODE_PREFIX.match(code):
                raise ConfigError(f"{where}: {part.strip()!r} is not a rule code or prefix (like ML101 or ML3)")
            if len(code) == 5 and code not in rules:
                raise ConfigError(f"{where}: unknown rule code {code}")
            if not any(known.startswith(code) for known in rules):  # ML9 selects nothing: say so
                raise ConfigError(f"{where}: no rule code starts with {code} (codes: {_code_ranges(rules)})")
            out.append(code)
    return out


def _code_ranges(rules: Mapping[str, Rule]) -> str:
    """`ML001-ML002, ML101-ML105, ...`: the codes there are, by area."""
    areas: dict[str, list[str]] = {}
    for code in sorted(rules):
        areas.setdefault(code[:3], []).append(code)
    return ", ".join(codes[0] if len(codes) == 1 else f"{codes[0]}-{codes[-1]}" for codes in areas.values())


ENV_KEYS = {"root-namespace", "injected-namespaces", "uninjected-namespaces", "known-gateways", "known-hosts",
            "native-sidecars", "istio-cni", "istio-version"}
TOP_KEYS = {"select", "ignore", "severity", "fail-on", "default-namespace", "ignore-resources"} | ENV_KEYS


def from_mapping(data: Mapping[str, Any], rules: Mapping[str, Rule], where: str = "config",
                 base: Config | None = None) -> Config:
    """Build a Config from a configuration mapping (keys as in SPEC §4), validating it."""
    if not isinstance(data, Mapping):
        raise ConfigError(f"{where}: expected a mapping of settings")
    by_name = {r.name: r for r in rules.values()}
    cfg = base or Config()
    facts = cfg.facts
    severity = dict(cfg.severity)
    options = {k: dict(v) for k, v in cfg.options.items()}
    for key, value in data.items():
        at = f"{where}: {key}"
        if key == "select":
            cfg = replace(cfg, select=tuple(parse_codes(value, rules, at)))
        elif key == "ignore":
            cfg = replace(cfg, ignore=tuple(parse_codes(value, rules, at)))
        elif key == "severity":
            if not isinstance(value, Mapping):
                raise ConfigError(f"{at}: expected a mapping of rule code to severity")
            for code, sev in value.items():
                if code not in rules:
                    raise ConfigError(f"{at}: unknown rule code {_shown(code)}")
                if not isinstance(sev, str):
                    raise ConfigError(f"{at}.{code}: expected info, warning or error, got {_shown(sev)}")
                try:
                    severity[code] = Severity.parse(sev)
                except ValueError:
                    raise ConfigError(f"{at}.{code}: unknown severity {_shown(sev)} (expected info, warning or "
                                      "error)") from None
        elif key == "fail-on":
            cfg = replace(cfg, fail_on=parse_fail_on(value, at))
        elif key == "default-namespace":
            facts = replace(facts, default_namespace=_string(value, at))
        elif key == "root-namespace":
            facts = replace(facts, root_namespace=_string(value, at))
        elif key == "istio-version":
            facts = replace(facts, istio_version=_string(value, at))
        elif key == "native-sidecars":
            if not isinstance(value, bool):
                raise ConfigError(f"{at}: expected true or false")
            facts = replace(facts, native_sidecars=value)
        elif key == "istio-cni":
            if not isinstance(value, bool):
                raise ConfigError(f"{at}: expected true or false")
            facts = replace(facts, istio_cni=value)
        elif key == "injected-namespaces":
            facts = replace(facts, injected_namespaces=frozenset(_strings(value, at)))
        elif key == "uninjected-namespaces":
            facts = replace(facts, uninjected_namespaces=frozenset(_strings(value, at)))
        elif key == "known-hosts":
            facts = replace(facts, known_hosts=frozenset(_strings(value, at)))
        elif key == "known-gateways":
            gateways = _strings(value, at)
            for gw in gateways:
                if gw.count("/") != 1 or not all(gw.split("/")):
                    raise ConfigError(f"{at}: {gw!r} is not of the form namespace/name")
            facts = replace(facts, known_gateways=frozenset(gateways))
        elif key in by_name:
            rule = by_name[key]
            if not isinstance(value, Mapping):
                raise ConfigError(f"{at}: expected a mapping of options for rule {rule.code}")
            for opt, opt_value in value.items():
                if opt not in rule.options:
                    known = ", ".join(sorted(rule.options)) or "none"
                    raise ConfigError(f"{at}.{opt}: unknown option for {rule.code} (options: {known})")
                default = rule.options[opt]
                if type(opt_value) is not type(default) and not (
                        isinstance(default, float) and type(opt_value) is int):
                    raise ConfigError(f"{at}.{opt}: expected {type(default).__name__}, got {_shown(opt_value)}")
                if isinstance(default, float) and not _finite(opt_value):
                    raise ConfigError(f"{at}.{opt}: expected a finite number, got {_shown(opt_value)}")
                options.setdefault(rule.name, {})[opt] = opt_value
        elif key == "ignore-resources":
            cfg = replace(cfg, ignore_resources=tuple(_ignore_resources(value, rules, at)))
        else:
            raise ConfigError(f"{at}: unknown key{_instead(key, value, rules)}")
    both = facts.injected_namespaces & facts.uninjected_namespaces
    if both:
        raise ConfigError(f"{where}: namespace {sorted(both)[0]} is in both injected-namespaces and "
                          "uninjected-namespaces")
    return replace(cfg, facts=facts, severity=severity, options=options, source=where)


def _instead(key: Any, value: Any, rules: Mapping[str, Rule]) -> str:
    """What the user probably meant by an unknown key, as "; write ..." (or nothing): an option
    written at the top level, options under `rules:` or under a rule's code (options are keyed
    by the rule's name), or a close spelling of a key."""
    import difflib

    by_name = {r.name: r for r in rules.values()}

    def setting(rule: Rule, options: Any) -> str:
        return f"`{rule.name}: {_flow(options)}`"

    owners = [r for r in by_name.values() if key in r.options]
    if owners:
        return "; options are keyed by their rule's name: write " + " or ".join(
            setting(r, {key: value}) for r in owners)
    rule = rules.get(str(key).upper())
    if rule is not None:
        return f"; options are keyed by the rule's name, not its code: write {setting(rule, value)}"
    if key == "rules":
        nested = value.items() if isinstance(value, Mapping) else ()
        found = [(rules.get(str(k).upper()) or by_name.get(str(k)), v) for k, v in nested]
        written = [setting(r, v) for r, v in found if r is not None]
        example = next(r for r in by_name.values() if r.options)
        instead = (f"write {' and '.join(written)}" if written
                   else f"for example {setting(example, dict(example.options))}")
        return f"; options are keyed by the rule's name at the top level, not under rules: {instead}"
    close = difflib.get_close_matches(str(key), sorted(TOP_KEYS | set(by_name)), n=1, cutoff=0.75)
    return f"; did you mean {close[0]}?" if close else ""


def _flow(value: Any) -> str:
    """A value as one line of YAML flow style, as a user would write it in the file."""
    import yaml

    return yaml.safe_dump(value, default_flow_style=True, sort_keys=False).strip().removesuffix("...").strip()


def parse_fail_on(value: Any, where: str = "--fail-on") -> Severity | None:
    if value == "never":
        return None
    try:
        return Severity.parse(value if isinstance(value, str) else "")
    except ValueError:
        raise ConfigError(f"{where}: expected info, warning, error or never, got {_shown(value)}") from None


def _shown(value: Any) -> str:
    """A value as a message quotes it: its repr, cut short."""
    try:
        text = repr(value)
    except ValueError:  # an integer of more than 4,300 digits (written in hex, say), or holding one
        return "a number too long to write"
    return text if len(text) <= 60 else f"{text[:57]}..."


def _finite(number: float) -> bool:
    """Not NaN nor infinite (TOML and YAML write both), nor an integer too large for a float."""
    try:
        return math.isfinite(number)
    except OverflowError:
        return False


def _string(value: Any, where: str) -> str:
    if not isinstance(value, str) or not value:
        raise ConfigError(f"{where}: expected a string")
    return value


def _strings(value: Any, where: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"{where}: expected a list of strings")
    return value


def _ignore_resources(value: Any, rules: Mapping[str, Rule], where: str) -> list[tuple[tuple[str, ...], str]]:
    """`[{code: ML101, resource: "Service legacy/*"}]` -> [(("ML101",), "Service legacy/*")]."""
    if not isinstance(value, list):
        raise ConfigError(f"{where}: expected a list of {{code, resource}} entries")
    out = []
    for i, entry in enumerate(value):
        at = f"{where}[{i}]"
        if not isinstance(entry, Mapping) or set(entry) - {"code", "resource"} or "resource" not in entry:
            raise ConfigError(f"{at}: expected {{code: ML101, resource: \"Kind namespace/name-glob\"}}")
        glob = entry["resource"]
        if not isinstance(glob, str) or " " not in glob.strip():
            raise ConfigError(f"{at}.resource: expected \"Kind namespace/name-glob\", got {_shown(glob)}")
        codes = tuple(parse_codes(entry.get("code", "ML"), rules, f"{at}.code"))
        out.append((codes, " ".join(glob.split())))
    return out


def effective(config: Config, rules: Mapping[str, Rule], mesh_config: str = "", call_edges: int = 0) -> str:
    """The effective configuration as a configuration file that meshlint reads back (for
    --show-config): every setting with its value in effect, and, as YAML comments, what is not
    a setting (where it came from, the command line's --namespace, the files given beside it,
    which rules run)."""
    import yaml

    facts = config.facts
    settings: dict[str, Any] = {
        "select": list(config.select),
        "ignore": list(config.ignore),
        "fail-on": config.fail_on.value if config.fail_on else "never",
        "severity": {r.code: config.severity_of(r).value for r in rules.values()},
        "ignore-resources": [{"code": ",".join(codes), "resource": glob} for codes, glob in config.ignore_resources],
        "default-namespace": facts.default_namespace,
        "root-namespace": facts.root_namespace,
        "injected-namespaces": sorted(facts.injected_namespaces),
        "uninjected-namespaces": sorted(facts.uninjected_namespaces),
        "known-gateways": sorted(facts.known_gateways),
        "known-hosts": sorted(facts.known_hosts),
        "native-sidecars": facts.native_sidecars,
    }
    if facts.istio_cni is not None:
        settings["istio-cni"] = facts.istio_cni
    if facts.istio_version:
        settings["istio-version"] = facts.istio_version
    settings |= {r.name: dict(config.options_for(r)) for r in rules.values() if r.options}
    disabled = [r.code for r in rules.values() if not config.is_enabled(r)]
    notes = [
        f"read from: {config.source or '(no configuration file: the defaults)'}",
        f"--namespace: {config.namespace or '(all namespaces)'}",
        f"--mesh-config: {mesh_config or '(none)'}",
        f"--call-graph: {f'{call_edges} edges' if call_edges else '(none)'}",
        f"rules that do not run: {', '.join(disabled) or '(none)'}",
    ]
    if facts.istio_cni is None:
        notes.append("istio-cni: not set")
    if not facts.istio_version:
        notes.append("istio-version: not set")
    header = "".join(f"# {note}\n" for note in ["meshlint configuration in effect", *notes])
    return header + yaml.safe_dump(settings, sort_keys=False, allow_unicode=True, width=100)
