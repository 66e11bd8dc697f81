"""Hostile-input fixtures: a loopback server that misbehaves in every way a news site can."""
