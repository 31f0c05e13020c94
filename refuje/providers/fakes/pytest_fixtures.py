"""Pytest fixtures that start the local fake provider servers (see the modules beside this one)."""
