"""Evidence: facts that a live source adds to the findings the rules made from the configuration.

A source (`prometheus.py`: Istio's and Envoy's metrics) answers bounded questions; `attach.py`
gives each finding the facts that bear on it, after the rules ran. Evidence confirms,
quantifies, or says where the source contradicts an assumption; it never creates a finding.
Observed call edges are different: they are an input of the call graph, like the
`--call-graph` file, so they reach the rules through the index.
"""


class EvidenceError(Exception):
    """A source the user asked for cannot give its evidence (exit code 2): the run does not go
    on silently without it. The message is one line."""
