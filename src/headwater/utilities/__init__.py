"""Utilities that Prefect 2 scripts import from ``prefect.utilities``."""
