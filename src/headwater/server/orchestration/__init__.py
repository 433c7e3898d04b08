"""Orchestration: which proposed state transitions the server accepts."""
