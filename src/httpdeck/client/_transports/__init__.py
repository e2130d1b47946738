"""Transports: the seam between the client pipeline and the network."""
