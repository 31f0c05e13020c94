"""Pytest fixtures for the local fake Moyasar server."""
