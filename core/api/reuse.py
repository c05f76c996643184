"""Serializers reused within a thread, for the hot endpoints.

A DRF serializer deep-copies its declared fields (and those of every nested
serializer) each time one is made; for the partner order intake that was a
fifth of the request's CPU time. Validation and representation keep no
state on the serializer but `initial_data` and the results, so one instance
per thread and class can serve request after request. Only for
serializers whose own methods keep no per-call state either."""

import threading

from rest_framework import serializers

_local = threading.local()


def _instance(serializer_class: type[serializers.Serializer]) -> serializers.Serializer:
    cache = _local.__dict__.setdefault("serializers", {})
    serializer = cache.get(serializer_class)
    if serializer is None:
        serializer = cache[serializer_class] = serializer_class()
    return serializer


def validated(serializer_class: type[serializers.Serializer], data) -> dict:
    """`serializer_class(data=data)`, `is_valid(raise_exception=True)`, and
    its `validated_data`."""
    serializer = _instance(serializer_class)
    serializer.initial_data = data
    try:
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data
    finally:
        for attr in ("initial_data", "_validated_data", "_errors", "_data"):
            serializer.__dict__.pop(attr, None)


def represented(serializer_class: type[serializers.Serializer], instance) -> dict:
    """`serializer_class(instance).data` (a plain dict)."""
    return _instance(serializer_class).to_representation(instance)


def declared_field(serializer_class: type[serializers.Serializer], *path: str):
    """A field of this thread's `serializer_class` instance, by name path
    (`"customer", "email"`), to run one field as the serializer would."""
    field = _instance(serializer_class)
    for name in path:
        field = field.fields[name]
    return field
