"""Test doubles, cassettes, fault injection and the pytest plugin for httpdeck.

Needs the `testing` extra: `pip install httpdeck[testing]`.
"""

__all__: list[str] = []
