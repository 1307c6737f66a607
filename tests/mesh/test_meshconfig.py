"""mesh.meshconfig: where Istio keeps its installation settings.

- ConfigMap `istio` (`istio-<rev>`) in the root namespace, key `mesh` (MeshConfig as YAML text):
  istio/istio `manifests/charts/istio-control/istio-discovery/templates/configmap.yaml`;
- injector ConfigMap `istio-sidecar-injector[-<rev>]`, keys `config` (YAML: `policy:
  {{ .Values.global.proxy.autoInject }}`, `alwaysInjectSelector`, `neverInjectSelector`) and
  `values` (JSON): `templates/istiod-injector-configmap.yaml`, read by
  `pkg/kube/inject/webhook.go` (`unmarshalConfig`, `NewValuesConfig`);
- IstioOperator `spec.meshConfig` / `spec.values` / `spec.revision`;
- the pod annotation `proxy.istio.io/config` overlaid on `defaultConfig`:
  `pkg/config/mesh/mesh.go` `MergeProxyConfig` (a YAML overlay: maps merge, other values replace).
"""

from __future__ import annotations

import json

import pytest

from meshlint.mesh.meshconfig import (
    MeshSettings,
    classify_file,
    deep_merge,
    embedded,
    is_injector_configmap,
    is_mesh_configmap,
    proxy_config,
    settings,
)
from meshlint.resource import Document, FileOrigin, MeshConfigFile, Ref, Resource, Source

ROOT = "istio-system"


def resource(kind: str, name: str, ns: str, body: dict, api: str = "v1") -> Resource:
    meta = {"name": name, "namespace": ns}
    raw = {"apiVersion": api, "kind": kind, "metadata": meta, **body}
    return Resource(raw=raw, ref=Ref(kind, ns, name), api_version=api,
                    origin=FileOrigin(Document(Source("t.yaml", ""), 0, 0, 1, 0)), kind_name=kind, _meta=meta)


def configmap(name: str, data: dict, ns: str = ROOT) -> Resource:
    return resource("ConfigMap", name, ns, {"data": data})


def operator(spec: dict, name: str = "installed", ns: str = ROOT) -> Resource:
    return resource("IstioOperator", name, ns, {"spec": spec}, api="install.istio.io/v1alpha1")


MESH_YAML = """\
accessLogFile: /dev/stdout
defaultConfig:
  holdApplicationUntilProxyStarts: true
  proxyHeaders:
    envoyDebugHeaders:
      disabled: true
defaultHttpRetryPolicy:
  attempts: 1
"""


# --- ConfigMap `istio` ---------------------------------------------------------------------

def test_mesh_configmap_in_the_root_namespace():
    s = settings([configmap("istio", {"mesh": MESH_YAML, "meshNetworks": "networks: {}"})], [], ROOT)
    assert s.mesh == {"accessLogFile": "/dev/stdout",
                      "defaultConfig": {"holdApplicationUntilProxyStarts": True,
                                        "proxyHeaders": {"envoyDebugHeaders": {"disabled": True}}},
                      "defaultHttpRetryPolicy": {"attempts": 1}}
    assert s.mesh_sources == ["ConfigMap istio-system/istio"]
    assert s.has_mesh_config is True
    assert s.values == {} and s.injector == {} and s.revisions == set()


def test_mesh_configmap_in_another_namespace_is_ignored():
    s = settings([configmap("istio", {"mesh": MESH_YAML}, ns="shop")], [], ROOT)
    assert s.mesh == {} and s.mesh_sources == [] and s.has_mesh_config is False


def test_mesh_configmap_follows_a_custom_root_namespace():
    cms = [configmap("istio", {"mesh": "accessLogFile: /a"}, ns="mesh-root"),
           configmap("istio", {"mesh": "accessLogFile: /b"}, ns=ROOT)]
    s = settings(cms, [], "mesh-root")
    assert s.mesh == {"accessLogFile": "/a"}
    assert s.mesh_sources == ["ConfigMap mesh-root/istio"]


def test_revisioned_mesh_configmap():
    s = settings([configmap("istio-canary", {"mesh": "trustDomain: corp"})], [], ROOT)
    assert s.mesh == {"trustDomain": "corp"}
    assert s.mesh_sources == ["ConfigMap istio-system/istio-canary"]


@pytest.mark.parametrize("name,data,ns,expected", [
    ("istio", {"mesh": "a: 1"}, ROOT, True),
    ("istio-1-22", {"mesh": "a: 1"}, ROOT, True),
    ("istio", {"mesh": "a: 1"}, "shop", False),
    ("istio-ca-root-cert", {"root-cert.pem": "..."}, ROOT, False),  # no `mesh` key
    ("istio-sidecar-injector", {"mesh": "a: 1"}, ROOT, False),
    ("istiod", {"mesh": "a: 1"}, ROOT, False),
    ("my-istio", {"mesh": "a: 1"}, ROOT, False),
])
def test_is_mesh_configmap(name, data, ns, expected):
    assert is_mesh_configmap(configmap(name, data, ns=ns), ROOT) is expected


def test_mesh_configmap_without_data_is_not_a_mesh_configmap():
    cm = resource("ConfigMap", "istio", ROOT, {})
    assert is_mesh_configmap(cm, ROOT) is False


@pytest.mark.parametrize("text", ["defaultConfig: [", "- a\n- b\n", "just a string"])
def test_invalid_mesh_text_is_skipped(text):
    s = settings([configmap("istio", {"mesh": text})], [], ROOT)
    assert s.mesh == {} and s.mesh_sources == []


# --- injector ConfigMap ----------------------------------------------------------------------

INJECTOR_CONFIG = """\
policy: disabled
alwaysInjectSelector:
  - matchLabels: {inject: always}
neverInjectSelector:
  - matchExpressions:
    - {key: job-name, operator: Exists}
injectedAnnotations: {}
templates:
  sidecar: |
    spec: {}
"""
INJECTOR_VALUES = json.dumps({"global": {"proxy": {"autoInject": "enabled", "resources": {"limits": {"cpu": "2"}}}},
                              "sidecarInjectorWebhook": {"rewriteAppHTTPProbe": False},
                              "revision": "canary"})


def test_injector_configmap():
    cm = configmap("istio-sidecar-injector-canary", {"config": INJECTOR_CONFIG, "values": INJECTOR_VALUES})
    s = settings([cm], [], ROOT)
    assert s.injector["policy"] == "disabled"
    assert s.injection_policy == "disabled"  # the injector's policy wins over Helm autoInject
    assert s.selectors("alwaysInjectSelector") == [{"matchLabels": {"inject": "always"}}]
    assert s.selectors("neverInjectSelector") == [{"matchExpressions": [{"key": "job-name", "operator": "Exists"}]}]
    assert s.value("global", "proxy", "resources", "limits", "cpu") == "2"
    assert s.value("sidecarInjectorWebhook", "rewriteAppHTTPProbe") is False
    assert s.revisions == {"canary"}
    assert s.mesh == {} and s.has_mesh_config is False
    assert len(s.value_sources) == 1
    vs = s.value_sources[0]
    assert (vs.resource, vs.prefix, vs.values["revision"]) == (cm, ("data", "values"), "canary")


def test_injector_configmap_in_another_namespace_is_ignored():
    cm = configmap("istio-sidecar-injector", {"config": INJECTOR_CONFIG, "values": INJECTOR_VALUES}, ns="shop")
    s = settings([cm], [], ROOT)
    assert s.injector == {} and s.values == {} and s.injection_policy == "enabled"
    assert is_injector_configmap(cm, ROOT) is False
    assert is_injector_configmap(configmap("istio-sidecar-injector", {}), ROOT) is True


def test_injector_values_as_yaml_too():
    cm = configmap("istio-sidecar-injector", {"values": "global:\n  proxy:\n    autoInject: disabled\n"})
    s = settings([cm], [], ROOT)
    assert s.injection_policy == "disabled"


# --- IstioOperator -------------------------------------------------------------------------

def test_istio_operator():
    op = operator({"revision": "1-22", "meshConfig": {"accessLogFile": "/dev/stdout"},
                   "values": {"global": {"proxy": {"autoInject": "disabled"}}}})
    s = settings([], [op], ROOT)
    assert s.mesh == {"accessLogFile": "/dev/stdout"}
    assert s.mesh_sources == ["IstioOperator istio-system/installed"]
    assert s.values == {"global": {"proxy": {"autoInject": "disabled"}}}
    assert s.revisions == {"1-22"}
    assert s.operators == [op]
    assert s.injection_policy == "disabled"
    assert [(v.resource, v.prefix) for v in s.value_sources] == [(op, ("spec", "values"))]


def test_istio_operator_without_mesh_config_or_revision():
    op = operator({"profile": "minimal", "revision": ""})
    s = settings([], [op], ROOT)
    assert s.mesh == {} and s.has_mesh_config is False and s.revisions == set()
    assert s.operators == [op] and s.value_sources == []


# --- --mesh-config files --------------------------------------------------------------------

@pytest.mark.parametrize("data,kind", [
    ({"apiVersion": "install.istio.io/v1alpha1", "kind": "IstioOperator", "spec": {}}, "operator"),
    ({"defaultConfig": {"proxyMetadata": {}}}, "mesh"),
    ({"defaultHttpRetryPolicy": {"attempts": 0}, "accessLogFile": "/dev/stdout"}, "mesh"),
    ({"meshConfig": {"accessLogFile": "/dev/stdout"}}, "values"),
    ({"global": {"hub": "docker.io/istio"}}, "values"),
    ({"sidecarInjectorWebhook": {"enableNamespacesByDefault": True}}, "values"),
    ({"revision": "canary", "pilot": {}}, "values"),
    # a Helm key next to MeshConfig keys: Helm values
    ({"defaultConfig": {}, "global": {}}, "values"),
    ({}, "values"),
])
def test_classify_file(data, kind):
    assert classify_file(data) == kind


def test_file_istio_operator():
    doc = object()
    data = {"apiVersion": "install.istio.io/v1alpha1", "kind": "IstioOperator",
            "spec": {"revision": "blue", "meshConfig": {"trustDomain": "corp"},
                     "values": {"pilot": {"env": {"A": "1"}}}}}
    s = settings([], [], ROOT, MeshConfigFile("install.yaml", doc, data))
    assert s.mesh == {"trustDomain": "corp"}
    assert s.mesh_sources == ["install.yaml"]
    assert s.values == {"pilot": {"env": {"A": "1"}}}
    assert s.revisions == {"blue"}
    assert s.operators == []  # a file is not a resource of the input
    assert [(v.resource, v.document, v.prefix) for v in s.value_sources] == [(None, doc, ("spec", "values"))]


def test_file_istio_operator_with_spec_that_is_not_a_mapping():
    s = settings([], [], ROOT, MeshConfigFile("f.yaml", None, {"kind": "IstioOperator", "spec": "oops"}))
    assert s.mesh == {} and s.values == {} and s.mesh_sources == []


def test_file_bare_mesh_config():
    data = {"defaultConfig": {"holdApplicationUntilProxyStarts": True}, "enableAutoMtls": False}
    s = settings([], [], ROOT, MeshConfigFile("mesh.yaml", None, data))
    assert s.mesh == data
    assert s.mesh_sources == ["mesh.yaml"]
    assert s.values == {} and s.value_sources == []


def test_file_helm_values_with_mesh_config():
    doc = object()
    data = {"meshConfig": {"accessLogFile": "/dev/stdout"}, "global": {"proxy": {"autoInject": "disabled"}},
            "revision": "green"}
    s = settings([], [], ROOT, MeshConfigFile("values.yaml", doc, data))
    assert s.mesh == {"accessLogFile": "/dev/stdout"}
    assert s.mesh_sources == ["values.yaml"]
    assert s.values == {"global": {"proxy": {"autoInject": "disabled"}}, "revision": "green"}
    assert "meshConfig" not in s.values
    assert s.revisions == {"green"}
    assert s.injection_policy == "disabled"
    assert [(v.resource, v.document, v.prefix) for v in s.value_sources] == [(None, doc, ())]


def test_file_helm_values_without_mesh_config():
    values = {"sidecarInjectorWebhook": {"enableNamespacesByDefault": True}}
    s = settings([], [], ROOT, MeshConfigFile("f.yaml", None, values))
    assert s.has_mesh_config is False
    assert s.value("sidecarInjectorWebhook", "enableNamespacesByDefault") is True


def test_empty_file_adds_nothing():
    empty = MeshConfigFile("f.yaml", None, {})
    assert settings([], [], ROOT, empty) == MeshSettings(file=empty)


# --- precedence: ConfigMap < IstioOperator < --mesh-config, dicts deep-merged ------------------

def test_deep_merge_precedence():
    cm = configmap("istio", {"mesh": "defaultConfig: {a: cm, b: cm}\naccessLogFile: /cm\n"})
    op = operator({"meshConfig": {"defaultConfig": {"b": "op", "c": "op"}},
                   "values": {"global": {"x": "op", "y": "op"}}})
    injector = configmap("istio-sidecar-injector", {"values": json.dumps({"global": {"w": "cm", "x": "cm"}})})
    file = {"meshConfig": {"defaultConfig": {"c": "file"}}, "global": {"y": "file"}}
    s = settings([cm, injector], [op], ROOT, MeshConfigFile("f.yaml", None, file))
    assert s.mesh == {"defaultConfig": {"a": "cm", "b": "op", "c": "file"}, "accessLogFile": "/cm"}
    assert s.values == {"global": {"w": "cm", "x": "op", "y": "file"}}
    assert s.mesh_sources == ["ConfigMap istio-system/istio", "IstioOperator istio-system/installed", "f.yaml"]


def test_two_operators_merge_in_input_order():
    a = operator({"meshConfig": {"accessLogFile": "/a", "trustDomain": "a"}}, name="a")
    b = operator({"meshConfig": {"accessLogFile": "/b"}, "revision": "b"}, name="b")
    s = settings([], [a, b], ROOT)
    assert s.mesh == {"accessLogFile": "/b", "trustDomain": "a"}
    assert s.revisions == {"b"}
    assert s.operators == [a, b]


@pytest.mark.parametrize("base,overlay,expected", [
    ({"a": 1}, {"b": 2}, {"a": 1, "b": 2}),
    ({"a": {"x": 1, "y": 1}}, {"a": {"y": 2}}, {"a": {"x": 1, "y": 2}}),
    ({"a": {"x": {"p": 1}}}, {"a": {"x": {"q": 2}}}, {"a": {"x": {"p": 1, "q": 2}}}),
    ({"a": [1, 2]}, {"a": [3]}, {"a": [3]}),  # lists are replaced
    ({"a": {"x": 1}}, {"a": "scalar"}, {"a": "scalar"}),
    ({"a": "scalar"}, {"a": {"x": 1}}, {"a": {"x": 1}}),
    ({}, {}, {}),
])
def test_deep_merge(base, overlay, expected):
    before = json.dumps(base, sort_keys=True)
    assert deep_merge(base, overlay) == expected
    assert json.dumps(base, sort_keys=True) == before  # the base is not modified


# --- injection_policy, selectors, value ------------------------------------------------------

@pytest.mark.parametrize("s,policy", [
    (MeshSettings(), "enabled"),
    (MeshSettings(injector={"policy": "disabled"}), "disabled"),
    (MeshSettings(injector={"policy": "enabled"}), "enabled"),
    (MeshSettings(injector={"policy": ""}), "enabled"),
    (MeshSettings(values={"global": {"proxy": {"autoInject": "disabled"}}}), "disabled"),
    (MeshSettings(values={"global": {"proxy": {"autoInject": "enabled"}}}), "enabled"),
    (MeshSettings(values={"global": {"proxy": {"autoInject": ""}}}), "enabled"),
    (MeshSettings(values={"global": {"proxy": "x"}}), "enabled"),
    (MeshSettings(injector={"policy": "enabled"}, values={"global": {"proxy": {"autoInject": "disabled"}}}),
     "enabled"),
    (MeshSettings(injector={"policy": "disabled"}, values={"global": {"proxy": {"autoInject": "enabled"}}}),
     "disabled"),
])
def test_injection_policy(s, policy):
    assert s.injection_policy == policy


def test_selectors_prefer_the_injector_config():
    both = MeshSettings(injector={"neverInjectSelector": [{"matchLabels": {"a": "1"}}]},
                        values={"sidecarInjectorWebhook": {"neverInjectSelector": [{"matchLabels": {"b": "2"}}]}})
    assert both.selectors("neverInjectSelector") == [{"matchLabels": {"a": "1"}}]
    always = {"alwaysInjectSelector": [{"matchLabels": {"b": "2"}}]}
    values_only = MeshSettings(values={"sidecarInjectorWebhook": always})
    assert values_only.selectors("alwaysInjectSelector") == [{"matchLabels": {"b": "2"}}]
    assert values_only.selectors("neverInjectSelector") == []
    assert MeshSettings(injector={"neverInjectSelector": "oops"}).selectors("neverInjectSelector") == []
    assert MeshSettings().selectors("alwaysInjectSelector") == []


def test_value_path_and_default():
    s = MeshSettings(values={"global": {"proxy": {"autoInject": "enabled", "zero": 0, "off": False}}})
    assert s.value("global", "proxy", "autoInject") == "enabled"
    assert s.value("global", "proxy", "zero") == 0
    assert s.value("global", "proxy", "off") is False
    assert s.value("global", "missing", default="d") == "d"
    assert s.value("global", "proxy", "autoInject", "deeper", default=7) == 7
    assert s.value("nothing") is None


# --- proxy_config: defaultConfig + the pod's proxy.istio.io/config -----------------------------

DEFAULT = {"defaultConfig": {"holdApplicationUntilProxyStarts": True,
                             "proxyHeaders": {"envoyDebugHeaders": {"disabled": False}, "server": {"disabled": True}},
                             "tracing": {"sampling": 1.0}}}


@pytest.mark.parametrize("mesh,annotation,expected", [
    ({}, None, {}),
    (DEFAULT, None, DEFAULT["defaultConfig"]),
    (DEFAULT, "", DEFAULT["defaultConfig"]),
    ({}, "concurrency: 2", {"concurrency": 2}),
    (DEFAULT, "proxyHeaders:\n  envoyDebugHeaders:\n    disabled: true\n",
     {"holdApplicationUntilProxyStarts": True,
      "proxyHeaders": {"envoyDebugHeaders": {"disabled": True}, "server": {"disabled": True}},
      "tracing": {"sampling": 1.0}}),
    (DEFAULT, '{"holdApplicationUntilProxyStarts": false, "concurrency": 4}',
     {"holdApplicationUntilProxyStarts": False, "concurrency": 4,
      "proxyHeaders": {"envoyDebugHeaders": {"disabled": False}, "server": {"disabled": True}},
      "tracing": {"sampling": 1.0}}),
    ({"defaultConfig": "not a mapping"}, "concurrency: 2", {"concurrency": 2}),
])
def test_proxy_config_overlay(mesh, annotation, expected):
    annotations = {} if annotation is None else {"proxy.istio.io/config": annotation}
    s = MeshSettings(mesh=json.loads(json.dumps(mesh)))
    config, error = proxy_config(s, annotations)
    assert config == expected
    assert error == ""


def test_proxy_config_does_not_modify_the_mesh_default():
    s = MeshSettings(mesh=json.loads(json.dumps(DEFAULT)))
    proxy_config(s, {"proxy.istio.io/config": "holdApplicationUntilProxyStarts: false\nproxyHeaders: {server: {}}"})
    assert s.mesh == DEFAULT


def test_proxy_config_invalid_yaml_is_an_error_and_keeps_the_default():
    s = MeshSettings(mesh=json.loads(json.dumps(DEFAULT)))
    config, error = proxy_config(s, {"proxy.istio.io/config": "proxyHeaders: [unclosed"})
    assert config == DEFAULT["defaultConfig"]
    assert error.startswith("proxy.istio.io/config is not valid YAML: ")
    assert "\n" not in error


# --- embedded: data.<key> of a ConfigMap ------------------------------------------------------

@pytest.mark.parametrize("data,expected", [
    ({"mesh": "a: 1\nb: {c: 2}\n"}, ({"a": 1, "b": {"c": 2}}, "")),
    ({"mesh": '{"a": 1, "b": [1, 2]}'}, ({"a": 1, "b": [1, 2]}, "")),
    ({"mesh": '  {"a": 1}'}, ({"a": 1}, "")),
    ({"mesh": "# only a comment\n"}, ({}, "")),
    ({"mesh": "~"}, ({}, "")),
    ({"mesh": ""}, (None, "")),
    ({"mesh": "   \n"}, (None, "")),
    ({}, (None, "")),
    ({"mesh": 42}, (None, "")),  # not text: nothing to parse
])
def test_embedded(data, expected):
    assert embedded(configmap("istio", data), "mesh") == expected


def test_embedded_without_data():
    assert embedded(resource("ConfigMap", "istio", ROOT, {}), "mesh") == (None, "")
    assert embedded(resource("ConfigMap", "istio", ROOT, {"data": ["x"]}), "mesh") == (None, "")


@pytest.mark.parametrize("text", ["a: [1, 2", "a: b: c", "\tkey: value", '{"a": 1,', "{a: "])
def test_embedded_invalid_yaml_or_json(text):
    value, error = embedded(configmap("istio", {"mesh": text}), "mesh")
    assert value is None
    assert error.startswith("data.mesh is not valid YAML/JSON: ")
    assert "\n" not in error


@pytest.mark.parametrize("text", ["- a\n- b\n", "just text", "42", "[1, 2]", "true"])
def test_embedded_must_be_a_mapping(text):
    assert embedded(configmap("istio-sidecar-injector", {"config": text}), "config") == \
        (None, "data.config must hold a mapping")


# --- the installed Istio version --------------------------------------------------------------

@pytest.mark.parametrize("text, expected", [
    ("1.22.3", (1, 22)), ("v1.19", (1, 19)), ("1.24.0-distroless", (1, 24)), ("1.20-dev", (1, 20)),
    ("latest", None), ("1", None), ("", None),
])
def test_minor_version(text, expected):
    from meshlint.mesh.meshconfig import minor_version

    assert minor_version(text) == expected


def test_istio_version_is_the_oldest_tag_the_installation_names():
    """IstioOperator `spec.tag` (operator/pkg/apis IstioOperatorSpec `Tag`) and Helm `global.tag`:
    during a revision upgrade both are installed, and the oldest proxies decide what can break."""
    assert settings([], [], ROOT).istio_version() is None
    assert settings([], [operator({"tag": "1.22.3", "revision": "1-22"})], ROOT).istio_version() == (1, 22)
    both = settings([], [operator({"tag": "1.22.3"}), operator({"values": {"global": {"tag": "1.19.9"}}}, "old")],
                    ROOT)
    assert both.istio_version() == (1, 19)
