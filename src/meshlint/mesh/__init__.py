"""Istio/Linkerd semantics as pure functions, one module per fact they compute.

Every rule that needs one of these facts calls the function here; nothing re-implements it.
Each function cites the Istio source it mirrors and is unit-tested in tests/mesh/.
"""
