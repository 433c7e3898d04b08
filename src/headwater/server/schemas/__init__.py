"""The API's pydantic models: what requests carry and responses return."""
