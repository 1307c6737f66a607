"""The live cluster as a source (`--kube`): the objects the selected rules read, as Resources.

`connect` finds the cluster as kubectl does: `--kubeconfig FILE` alone, else the files of
`KUBECONFIG` merged (separated by `os.pathsep`; for every cluster, user and context the first
file that names it wins, and so does the first `current-context`), else `~/.kube/config`, else
the pod's service account when meshlint runs inside the cluster. `read` then lists exactly the
kinds the selected rules declare as inputs (`Rule.inputs`) and hands every object to
`objects.add_value` with a `LiveOrigin`, as the file source does with a `FileOrigin`.

- **Read-only.** Every request is a GET, sent by `_get` and nowhere else: discovery
  (`/api/v1`, `/apis`, `/apis/<group>/<version>`) and lists. Secrets are never read, whatever
  a rule declares (`NEVER_READ`). ConfigMaps are read in the root namespace only: the mesh
  config and the injector's are the only ConfigMaps a rule reads (`mesh/meshconfig.py`).
- **What the API server has, not what the client models.** Responses are taken raw (the
  client's request layer, the one its `_preload_content=False` calls use) and parsed by orjson:
  the client's per-object models validate every field and are far too slow for a large
  cluster. `managedFields` is dropped on arrival: no rule reads it, and it is often the larger
  part of an object.
- **Large clusters.** Lists are paged (`limit`, `continue`, kubectl's page size; a continue
  token that expired restarts the list in one page, as client-go's pager does), and at most
  `MAX_PARALLEL` requests are in flight, so that meshlint never crowds out the controllers
  that share the API server. Pods that have ended are not read (`status.phase` field
  selector): no proxy runs in them.
- **What cannot be read is said once.** A kind the cluster does not serve (its CRD is not
  installed) or may not be listed (403) is one note naming the rules that lose those facts;
  the run goes on. With `--namespace NS`, a kind that may not be listed in every namespace is
  read in NS. A cluster that cannot be reached, or refuses the credentials, is a
  `ClusterError`: one line, exit code 2, within `CONNECT_TIMEOUT` per attempt to connect
  and `DISCOVERY_TIMEOUT` for an answer.

`overlay` puts the files given with `--kube` over the live objects of the same kind, namespace
and name: "what happens if I apply these".
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import orjson

from ..resource import KIND_GROUPS, LiveOrigin, Ref
from . import objects
from .result import ClusterError, Loaded

if TYPE_CHECKING:
    from kubernetes.client import ApiClient

MAX_PARALLEL = 4  # requests in flight at once
PAGE_SIZE = 500  # objects per page: kubectl's --chunk-size
CONNECT_TIMEOUT = 5.0  # seconds to open a connection (tried twice)
DISCOVERY_TIMEOUT = 10.0  # seconds to wait for a discovery answer: a server that hangs is said so soon
READ_TIMEOUT = 60.0  # seconds to wait for a page of a list

NEVER_READ = frozenset({"Secret"})
# Read in the root namespace only: the rules read the `istio` and `istio-sidecar-injector*`
# ConfigMaps there (`mesh.meshconfig.settings`) and no other ConfigMap.
ROOT_NAMESPACE_ONLY = frozenset({"ConfigMap"})
# A Pod that has ended (a finished Job's) runs no proxy: no rule reads anything from it.
FIELD_SELECTORS = {"Pod": "status.phase!=Succeeded,status.phase!=Failed"}
IN_CLUSTER_TOKEN = "/var/run/secrets/kubernetes.io/serviceaccount/token"
IN_CLUSTER_NAMESPACE = "/var/run/secrets/kubernetes.io/serviceaccount/namespace"


@dataclass(frozen=True)
class KubeTarget:
    """What `--kube` was given: a kubeconfig file (None: KUBECONFIG, ~/.kube/config or the
    service account), a context (None: the current one), and the `--namespace` to read in
    when a kind may not be listed in every namespace."""

    kubeconfig: str | None = None
    context: str | None = None
    namespace: str | None = None


@dataclass
class Cluster:
    """A cluster to read: the client, the context it was reached through (named in every
    location of a live finding), the context's namespace and the API server's address."""

    api: ApiClient
    context: str
    namespace: str
    server: str
    fallback_namespace: str | None = None


def api_kind(key: str) -> tuple[str, str] | None:
    """A kind key of the index -> (API group, kind): `Deployment` -> (`apps`, `Deployment`),
    `gateway.networking.k8s.io/Gateway` -> (`gateway.networking.k8s.io`, `Gateway`); None
    for a kind whose group meshlint does not know."""
    if "/" in key:
        group, kind = key.rsplit("/", 1)
        return group, kind
    expected = KIND_GROUPS.get(key)
    return None if expected is None else (expected, key)


# --- finding the cluster ----------------------------------------------------------------------


@dataclass
class _Kubeconfig:
    """The files of a kubeconfig as kubectl merges them, for what meshlint decides itself:
    which context is current, and its namespace."""

    paths: list[str]
    contexts: dict[str, Mapping[str, Any]] = field(default_factory=dict)
    current: str = ""

    @classmethod
    def read(cls, paths: list[str]) -> _Kubeconfig:
        """The files merged; `paths` keeps those that hold a configuration (kubectl passes over
        an empty file, which the client would refuse)."""
        import yaml

        merged = cls([])
        for path in paths:
            try:
                with open(path, encoding="utf-8") as fh:
                    data = yaml.safe_load(fh)
            except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
                raise ClusterError(f"kubeconfig {path}: {_first_line(exc)}") from None
            if data is None:
                continue
            if not isinstance(data, dict):
                raise ClusterError(f"kubeconfig {path}: not a kubeconfig (a {type(data).__name__}, not a mapping)")
            merged.paths.append(path)
            for entry in data.get("contexts") or ():
                if isinstance(entry, dict) and isinstance(entry.get("name"), str):
                    context = entry.get("context")
                    merged.contexts.setdefault(entry["name"], context if isinstance(context, dict) else {})
            current = data.get("current-context")
            if not merged.current and isinstance(current, str):
                merged.current = current
        return merged


def _kubeconfig_paths(explicit: str | None) -> list[str]:
    """The kubeconfig files kubectl would read, in order (missing KUBECONFIG entries are
    skipped, as kubectl skips them)."""
    if explicit:
        if not os.path.isfile(explicit):
            raise ClusterError(f"--kubeconfig {explicit}: no such file")
        return [explicit]
    listed = os.environ.get("KUBECONFIG", "")
    if listed:
        paths = [os.path.expanduser(p) for p in listed.split(os.pathsep) if p]
        return list(dict.fromkeys(p for p in paths if os.path.isfile(p)))
    default = os.path.expanduser(os.path.join("~", ".kube", "config"))
    return [default] if os.path.isfile(default) else []


def connect(target: KubeTarget) -> Cluster:
    """The cluster `target` names, ready to read (nothing is sent yet). Raises ClusterError."""
    try:
        from kubernetes import client
        from kubernetes import config as kubeconfig
        from kubernetes.config.config_exception import ConfigException
        from urllib3.util.retry import Retry
    except ImportError:
        raise ClusterError("--kube needs the official Kubernetes client: pip install kubernetes") from None

    configuration = client.Configuration()
    paths = _kubeconfig_paths(target.kubeconfig)
    try:
        merged = _Kubeconfig.read(paths)
        if target.kubeconfig and not merged.paths:
            raise ClusterError(f"--kubeconfig {target.kubeconfig}: the file is empty")
        paths = merged.paths
        if paths:
            where = paths[0] if len(paths) == 1 else f"the {len(paths)} files of KUBECONFIG"
            context = target.context or merged.current
            if not context:
                raise ClusterError(f"kubeconfig {where} sets no current-context: pass --context")
            if context not in merged.contexts:
                known = ", ".join(sorted(merged.contexts)) or "none"
                raise ClusterError(f"context {context} is not in kubeconfig {where} (contexts: {known})")
            # persist_config=False: a refreshed token is never written back into the user's files
            kubeconfig.load_kube_config(config_file=os.pathsep.join(paths), context=context,
                                        client_configuration=configuration, persist_config=False)
            namespace = merged.contexts[context].get("namespace") or "default"
        elif os.environ.get("KUBERNETES_SERVICE_HOST") and os.path.isfile(IN_CLUSTER_TOKEN):
            if target.context:
                raise ClusterError(f"--context {target.context}: no kubeconfig to find it in (running in the "
                                   "cluster, with the pod's service account)")
            kubeconfig.load_incluster_config(client_configuration=configuration)
            context = "in-cluster"
            namespace = _read_text(IN_CLUSTER_NAMESPACE) or "default"
        else:
            raise ClusterError("no kubeconfig: pass --kubeconfig FILE, set KUBECONFIG, or create ~/.kube/config")
    except ConfigException as exc:
        raise ClusterError(f"kubeconfig: {_first_line(exc)}") from None
    # a connection that fails is tried once more; a GET that gets no answer is not repeated
    # (the run would only take twice as long to say so)
    configuration.retries = Retry(total=1, connect=1, read=0, redirect=0, status=0)
    configuration.connection_pool_maxsize = MAX_PARALLEL
    return Cluster(client.ApiClient(configuration), context, namespace, configuration.host,
                   fallback_namespace=target.namespace)


def _read_text(path: str) -> str:
    try:
        with open(path, encoding="utf-8") as fh:
            return fh.read().strip()
    except OSError:
        return ""


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


# --- requests ----------------------------------------------------------------------------------


def _get(cluster: Cluster, path: str, query: Sequence[tuple[str, str]] = (),
         timeout: float = DISCOVERY_TIMEOUT) -> tuple[int, bytes]:
    """GET `path`: the status and the raw body. The only request meshlint sends."""
    from kubernetes.client.exceptions import ApiException
    from urllib3.exceptions import HTTPError

    api = cluster.api
    method, url, headers, _, _ = api.param_serialize(
        "GET", path, query_params=list(query) or None, header_params={"Accept": "application/json"},
        auth_settings=["BearerToken"])
    try:
        response = api.call_api(method, url, headers, _request_timeout=(CONNECT_TIMEOUT, timeout))
        return response.status, response.read()
    except (HTTPError, ApiException, OSError) as exc:
        raise ClusterError(f"cannot reach the cluster of context {cluster.context} at {cluster.server}: "
                           f"{_unreachable(exc, timeout)}") from None


def _unreachable(exc: BaseException, timeout: float) -> str:
    """Why a request got no answer, in words (urllib3 wraps the cause in MaxRetryError)."""
    from urllib3.exceptions import ConnectTimeoutError, NameResolutionError, NewConnectionError, ReadTimeoutError

    cause = getattr(exc, "reason", None)
    cause = cause if isinstance(cause, BaseException) else exc
    # (a NewConnectionError is a ConnectTimeoutError too, for urllib3's compatibility)
    if isinstance(cause, NameResolutionError):
        return "the host name does not resolve"
    if isinstance(cause, NewConnectionError):
        text = str(cause).rsplit("]", 1)[-1].strip() or _first_line(cause)
        return text[:1].lower() + text[1:]
    if isinstance(cause, ConnectTimeoutError):
        return f"no connection within {CONNECT_TIMEOUT:g} s"
    if isinstance(cause, ReadTimeoutError):
        return f"no answer within {timeout:g} s"
    return _first_line(cause)


def _status_message(body: bytes) -> str:
    """The message of the `Status` object an API server answers an error with."""
    try:
        status = orjson.loads(body)
    except orjson.JSONDecodeError:
        return body[:200].decode("utf-8", "replace").strip()
    message = status.get("message") if isinstance(status, dict) else None
    return message if isinstance(message, str) else ""


def _refused(cluster: Cluster, path: str, status: int, body: bytes) -> ClusterError:
    where = f"the cluster of context {cluster.context} at {cluster.server}"
    if status == 401:
        return ClusterError(f"{where} refused the credentials (401 Unauthorized)")
    message = _status_message(body)
    return ClusterError(f"{where} answered {status} to GET {path}" + (f": {message}" if message else ""))


# --- discovery ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Endpoint:
    """Where a kind is listed: `/api/v1` or `/apis/<group>/<version>`, its plural, its scope."""

    base: str
    plural: str
    namespaced: bool

    def path(self, namespace: str | None = None) -> str:
        if namespace is None:
            return f"{self.base}/{self.plural}"
        return f"{self.base}/namespaces/{quote(namespace, safe='')}/{self.plural}"


def _resources(cluster: Cluster, base: str) -> dict[str, _Endpoint]:
    """kind -> endpoint, for the kinds `base` lists (APIResourceList; subresources skipped)."""
    status, body = _get(cluster, base)
    if status == 404:
        return {}
    if status != 200:
        raise _refused(cluster, base, status, body)
    out: dict[str, _Endpoint] = {}
    for r in orjson.loads(body).get("resources") or ():
        name = r.get("name", "")
        if "/" not in name and "list" in (r.get("verbs") or ()):
            out.setdefault(r.get("kind", ""), _Endpoint(base, name, bool(r.get("namespaced"))))
    return out


def _discover(cluster: Cluster, kinds: Iterable[str], pool: ThreadPoolExecutor) -> dict[str, _Endpoint]:
    """kind key -> where it is listed, for the kinds the cluster serves."""
    wanted: dict[str, tuple[str, str]] = {}
    for key in kinds:
        found = api_kind(key)
        if found is not None:
            wanted[key] = found
    core = _resources(cluster, "/api/v1")  # the first request: it tells whether the cluster answers
    status, body = _get(cluster, "/apis")
    if status != 200:
        raise _refused(cluster, "/apis", status, body)
    versions: dict[str, list[str]] = {}
    for group in orjson.loads(body).get("groups") or ():
        preferred = (group.get("preferredVersion") or {}).get("groupVersion")
        listed = [v.get("groupVersion") for v in group.get("versions") or ()]
        versions[group.get("name", "")] = list(dict.fromkeys(v for v in [preferred, *listed] if v))
    groups = {group for group, _ in wanted.values() if group}
    bases = [f"/apis/{gv}" for group in sorted(groups) for gv in versions.get(group, ())]
    served = dict(zip(bases, pool.map(lambda base: _resources(cluster, base), bases)))
    out: dict[str, _Endpoint] = {}
    for key, (group, kind) in wanted.items():
        if not group:
            if kind in core:
                out[key] = core[kind]
            continue
        for gv in versions.get(group, ()):  # the preferred version first
            endpoint = served[f"/apis/{gv}"].get(kind)
            if endpoint is not None:
                out[key] = endpoint
                break
    return out


# --- lists -------------------------------------------------------------------------------------


@dataclass
class _Listed:
    """One kind's list: its pages, or why there are none."""

    pages: list[dict[str, Any]] = field(default_factory=list)
    forbidden: str = ""  # the API server's message when listing is forbidden
    missing: bool = False  # the resource went away after discovery (a CRD removed)
    namespace: str = ""  # the namespace read instead of all of them


def _list(cluster: Cluster, key: str, endpoint: _Endpoint, root_namespace: str) -> _Listed:
    namespace = root_namespace if key in ROOT_NAMESPACE_ONLY and endpoint.namespaced else None
    listed = _pages(cluster, key, endpoint.path(namespace))
    fallback = cluster.fallback_namespace
    if listed.forbidden and namespace is None and endpoint.namespaced and fallback:
        narrowed = _pages(cluster, key, endpoint.path(fallback))
        if not narrowed.forbidden:
            narrowed.namespace = fallback
            return narrowed
    return listed


def _pages(cluster: Cluster, key: str, path: str) -> _Listed:
    out = _Listed()
    selector = FIELD_SELECTORS.get(key)
    base = [("fieldSelector", selector)] if selector else []
    token = ""
    while True:
        query = [*base, ("limit", str(PAGE_SIZE))] + ([("continue", token)] if token else [])
        status, body = _get(cluster, path, query, READ_TIMEOUT)
        if status == 410 and token:  # the continue token expired: list everything in one go
            out.pages.clear()
            status, body = _get(cluster, path, base, READ_TIMEOUT)
            token = ""
        if status == 403:
            out.forbidden = _status_message(body) or "forbidden"
            return out
        if status == 404:
            out.missing = True
            return out
        if status != 200:
            raise _refused(cluster, path, status, body)
        page = orjson.loads(body)
        for item in page.get("items") or ():
            metadata = item.get("metadata") if isinstance(item, dict) else None
            if isinstance(metadata, dict):
                metadata.pop("managedFields", None)
        out.pages.append(page)
        token = (page.get("metadata") or {}).get("continue") or ""
        if not token:
            return out


# --- reading ----------------------------------------------------------------------------------


def read(cluster: Cluster, readers: Mapping[str, Sequence[str]], root_namespace: str,
         default_namespace: str, clock: Callable[[], float] = time.time) -> Loaded:
    """The live objects of the kinds in `readers` (kind key -> what reads it: rule codes, for
    the note when a kind cannot be read). Raises ClusterError."""
    kinds = sorted(k for k in readers if k not in NEVER_READ)
    read_at = clock()
    with ThreadPoolExecutor(MAX_PARALLEL, thread_name_prefix="meshlint-kube") as pool:
        endpoints = _discover(cluster, kinds, pool)
        listed = dict(zip(endpoints, pool.map(lambda key: _list(cluster, key, endpoints[key], root_namespace),
                                              endpoints)))
    out = Loaded(cluster=cluster.context)
    origin = LiveOrigin(cluster.context, read_at)
    for key in kinds:
        for page in listed[key].pages if key in listed else ():
            objects.add_value(out, page, origin, default_namespace)
    out.notes += _notes(cluster.context, readers, kinds, endpoints, listed)
    return out


def _notes(context: str, readers: Mapping[str, Sequence[str]], kinds: list[str], endpoints: Mapping[str, Any],
           listed: Mapping[str, _Listed]) -> list[str]:
    """One note per reason some kinds could not be read, naming what loses those facts."""
    def who(keys: list[str]) -> str:
        return ", ".join(sorted({r for k in keys for r in readers[k]}))

    def named(keys: list[str]) -> str:
        return ", ".join(sorted((k.rsplit("/", 1)[-1] for k in keys), key=str.lower))

    notes = []
    missing = [k for k in kinds if k not in endpoints or listed[k].missing]
    if missing:
        notes.append(f"context {context}: the cluster does not serve {named(missing)} (not installed): "
                     f"{who(missing)} see none")
    forbidden = [k for k in kinds if k in listed and listed[k].forbidden]
    if forbidden:
        notes.append(f"context {context}: not allowed to list {named(forbidden)} "
                     f"({listed[forbidden[0]].forbidden}): {who(forbidden)} lose the facts they read there; "
                     "deploy/rbac.yaml grants what meshlint reads")
    narrowed = [k for k in kinds if k in listed and listed[k].namespace]
    if narrowed:
        notes.append(f"context {context}: {named(narrowed)} read in namespace {listed[narrowed[0]].namespace} only "
                     f"(not allowed to list them in every namespace): {who(narrowed)} see no others")
    return notes


def overlay(live: Loaded, files: Loaded) -> Loaded:
    """The files over the cluster: each object of the files replaces the live object of the
    same kind, namespace and name (so does a broken one: it is what would be applied)."""
    replaced: set[Ref] = {r.ref for r in files.resources}
    replaced.update(p.resource.ref for p in files.problems if p.resource is not None)
    kept = [r for r in live.resources if r.ref not in replaced]
    problems = [p for p in live.problems if p.resource is None or p.resource.ref not in replaced]
    dropped = (len(live.resources) - len(kept)) + (len(live.problems) - len(problems))
    return Loaded(sources=files.sources, resources=files.resources + kept, problems=files.problems + problems,
                  skipped=files.skipped + live.skipped, notes=files.notes + live.notes,
                  count=files.count + live.count - dropped, context=files.context, cluster=live.cluster)
