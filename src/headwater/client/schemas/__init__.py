"""Prefect 2's ``prefect.client.schemas`` paths, for the objects headwater has."""

__all__: list[str] = []
