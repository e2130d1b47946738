"""Cassettes: the vcrpy format, record/replay, redaction, the cassette tools.

Private: import the public names from `httpdeck.testing`."""
