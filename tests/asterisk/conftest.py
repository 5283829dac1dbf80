"""The three-level tree of tests/levels, for the provisioning tests."""

from tests.levels.conftest import tree

__all__ = ["tree"]
