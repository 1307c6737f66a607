"""Templates are not manifests (load/templates.py): files whose placeholders are filled in as text
before the YAML is read are skipped, while manifests that carry placeholders inside their
strings, for a program to fill in later, are still analysed. Both sides, from real projects.
"""

from __future__ import annotations

import pytest

from meshlint.load.templates import chart_of, identity_placeholder, render_hint, structural_placeholder

TEMPLATES = {
    "helm deployment": ("""\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ include "shop.fullname" . }}
  labels:
    {{- include "shop.labels" . | nindent 4 }}
spec:
  {{- if not .Values.autoscaling.enabled }}
  replicas: {{ .Values.replicaCount }}
  {{- end }}
""", 4),
    "helm wrapped in if": ("""\
{{- if .Values.serviceMonitor.enabled }}
apiVersion: monitoring.coreos.com/v1
kind: ServiceMonitor
metadata:
  name: shop
{{- end }}
""", 1),
    "helm value in a quoted string": ("""\
apiVersion: v1
kind: Service
metadata:
  name: shop
spec:
  ports:
  - name: http
    port: 80
  externalName: "{{ .Release.Name }}.example.com"
""", 9),
    "helm value in a block scalar": ("""\
apiVersion: v1
kind: ConfigMap
metadata:
  name: shop
data:
  application.yaml: |
    server:
      port: {{ .Values.service.port }}
""", 8),
    "helm comment action": ('{{/* a helper, not a manifest */}}\napiVersion: v1\nkind: Service\n', 1),
    "jinja unquoted value": ("""\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: {{ web_replicas }}
""", 6),
    "jinja loop": ("""\
{% for ns in namespaces %}
---
apiVersion: v1
kind: Namespace
metadata:
  name: "{{ ns }}"
{% endfor %}
""", 1),
    "jinja list item": ("""\
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: web
spec:
  hosts:
  - {{ public_host }}
""", 7),
    "placeholder key": ("metadata:\n  labels:\n    {{ label_key }}: web\n", 3),
}

MANIFESTS = {
    "prometheus rule": """\
apiVersion: monitoring.coreos.com/v1
kind: PrometheusRule
metadata:
  name: istio-proxy
  namespace: monitoring
spec:
  groups:
  - name: istio
    rules:
    - alert: IstioProxyDown
      expr: up{job="envoy-stats"} == 0
      labels:
        severity: critical
      annotations:
        summary: "Envoy proxy {{ $labels.pod }} is down"
        description: 'Pod {{ $labels.namespace }}/{{ $labels.pod }} has been down for 5m (value {{ $value }})'
        runbook: Restart {{ $labels.pod }} after checking istiod
""",
    "alertmanager templates in a ConfigMap block scalar": """\
apiVersion: v1
kind: ConfigMap
metadata:
  name: alertmanager-templates
  namespace: monitoring
data:
  slack.tmpl: |
    {{ define "slack.title" }}[{{ .Status | toUpper }}] {{ .CommonLabels.alertname }}{{ end }}
    {{ define "slack.text" }}
    {{ range .Alerts }}
    - {{ .Annotations.summary }}
    {{ end }}
    {{ end }}
  config.yaml: >-
    {{ template "slack.text" . }}
""",
    "alertmanager config with quoted templates": """\
apiVersion: monitoring.coreos.com/v1alpha1
kind: AlertmanagerConfig
metadata:
  name: slack
  namespace: monitoring
spec:
  receivers:
  - name: slack
    slackConfigs:
    - title: '{{ template "slack.title" . }}'
      text: "{{ range .Alerts }}{{ .Annotations.summary }}\\n{{ end }}"
""",
    "argo workflow": """\
apiVersion: argoproj.io/v1alpha1
kind: WorkflowTemplate
metadata:
  name: canary-check
  namespace: argo
spec:
  templates:
  - name: curl
    inputs:
      parameters:
      - name: url
    container:
      image: curlimages/curl:8.7.1
      args: ["-fsS", "{{inputs.parameters.url}}"]
  - name: report
    script:
      image: alpine:3.19
      source: |
        {{steps.curl.outputs.result}}
""",
    "grafana dashboard json": """\
{
  "title": "Istio mesh",
  "panels": [
    {"targets": [{"expr": "sum(rate(istio_requests_total{destination_workload=~\\"$workload\\"}[5m]))",
                  "legendFormat": "{{destination_workload}} {{response_code}}"}]}
  ]
}
""",
    "multi-line strings": """\
apiVersion: v1
kind: ConfigMap
metadata:
  name: messages
data:
  plain: Instance down,
    {{ $labels.instance }} needs a restart
  quoted: "Instance down,
    {{ $labels.instance }} needs a restart"
""",
    # an Argo placeholder a controller fills in, left unquoted: kubectl rejects the YAML too,
    # so it stays an ML001 (the corpus' argo-rollouts/.../rollout-linkerd.yaml)
    "unquoted runtime placeholder": """\
apiVersion: argoproj.io/v1alpha1
kind: AnalysisTemplate
metadata:
  name: load-test
spec:
  metrics:
  - name: pass
    provider:
      job:
        spec:
          template:
            metadata:
              annotations:
                linkerd.io/inject: {{args.linkerd-enabled}}
""",
}


@pytest.mark.parametrize("name", sorted(TEMPLATES))
def test_a_template_is_found_at_its_first_structural_placeholder(name):
    text, line = TEMPLATES[name]
    assert structural_placeholder(text) == line


@pytest.mark.parametrize("name", sorted(MANIFESTS))
def test_placeholders_inside_strings_leave_a_manifest_a_manifest(name):
    assert structural_placeholder(MANIFESTS[name]) == 0


def test_a_placeholder_in_an_objects_identity_makes_a_template():
    """An Ansible-rendered Namespace: the YAML parses (the placeholder is quoted), but no name
    may hold braces, so something fills it in before the object is applied."""
    jinja_namespace = {"apiVersion": "v1", "kind": "Namespace",
                       "metadata": {"name": "{{ item }}", "labels": {"istio-injection": "enabled"}}}
    label = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "a", "labels": {"app": "{{ app }}"}}}
    prometheus = {"apiVersion": "monitoring.coreos.com/v1", "kind": "PrometheusRule",
                  "metadata": {"name": "r", "labels": {"role": "alert-rules"}},
                  "spec": {"groups": [{"rules": [{"labels": {"pod": "{{ $labels.pod }}"}}]}]}}
    assert identity_placeholder([jinja_namespace]) and identity_placeholder([label])
    assert not identity_placeholder([prometheus, ["a list"], None])


def test_the_note_names_the_command_that_renders_the_template(tmp_path, monkeypatch):
    chart = tmp_path / "charts" / "shop"
    (chart / "templates" / "sub").mkdir(parents=True)
    (chart / "Chart.yaml").write_text("apiVersion: v2\nname: shop\nversion: 0.1.0\n")
    monkeypatch.chdir(tmp_path)
    assert chart_of("charts/shop/templates/sub/deploy.yaml") == "charts/shop"
    assert chart_of(str(chart / "templates" / "deploy.yaml")) == str(chart)
    assert chart_of("charts/shop/values.yaml") == "" and chart_of("deploy/templates/x.yaml") == ""
    assert render_hint("charts/shop/templates/deploy.yaml", "") == (
        "Helm template, not a manifest: check `helm template charts/shop` instead")
    assert "helm template <its chart>" in render_hint("-", 'name: {{ include "x" . }}')
    assert "render it first (Jinja, Ansible)" in render_hint("roles/mesh/ns.yaml", "name: {{ ns }}")
