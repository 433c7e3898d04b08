"""Result serializers: ``pickle`` (default), ``json``, ``compressed/pickle``, your own.

Example:
    >>> from headwater.serializers import JSONSerializer, get_serializer
    >>> get_serializer("json").loads(get_serializer("json").dumps({"a": 1}))
    {'a': 1}
"""

from headwater._private.results.serializers import (
    CompressedJSONSerializer,
    CompressedPickleSerializer,
    CompressedSerializer,
    JSONSerializer,
    PickleSerializer,
    Serializer,
    get_serializer,
    register_serializer,
    serializer_names,
)

__all__ = [
    "CompressedJSONSerializer",
    "CompressedPickleSerializer",
    "CompressedSerializer",
    "JSONSerializer",
    "PickleSerializer",
    "Serializer",
    "get_serializer",
    "register_serializer",
    "serializer_names",
]

for _name in __all__:
    globals()[_name].__module__ = __name__
del _name
