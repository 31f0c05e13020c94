"""Pytest fixtures for the local fake Push server."""
