"""Helpers shared by several stages; no Beam step here."""
