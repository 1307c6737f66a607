"""Fixtures of the report tests: the mixed input workspace (see mixed_input.py)."""

from __future__ import annotations

import pytest

from mixed_input import Workspace, make_workspace


@pytest.fixture(scope="session")
def workspace(tmp_path_factory) -> Workspace:
    return make_workspace(tmp_path_factory.mktemp("mixed"))
