"""The `project` fixture: a throwaway pytest project (see plugin_project.py)."""

from __future__ import annotations

import pytest
from plugin_project import Project


@pytest.fixture
def project(pytester: pytest.Pytester) -> Project:
    made = Project(pytester)
    made.ini()
    return made
