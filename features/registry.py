"""Registry of feature functions: name, version and declared output schema, so a job can tell when features changed.

Every feature function is decorated with `@feature(version=..., output_schema=...)`. The decorator records the
function and checks, each time it is called, that the LazyFrame it returns resolves to exactly the declared
schema (`collect_schema()` resolves the plan only; no data is read). Bump `version` whenever a function's
output can change for the same input (a new cue, a changed rule); `registry_fingerprint()` then changes,
and so does `features.pipeline.FEATURE_VERSION`.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, ParamSpec

import polars as pl

P = ParamSpec("P")
Schema = Mapping[str, pl.DataType | type[pl.DataType]]


class FeatureSchemaError(TypeError):
    """A feature function returned a frame whose schema differs from the one it declared."""


@dataclass(frozen=True)
class FeatureSpec:
    """What the registry knows about one feature function."""

    name: str
    version: str
    output_schema: Schema
    func: Callable[..., Any]
    doc: str
    adds_columns: bool = False

    def schema_text(self) -> str:
        cols = ", ".join(f"{col}:{dtype}" for col, dtype in self.output_schema.items())
        return f"+({cols})" if self.adds_columns else cols


REGISTRY: dict[str, FeatureSpec] = {}


def feature(
    *, version: str, output_schema: Schema, adds_columns: bool = False
) -> Callable[[Callable[P, pl.LazyFrame]], Callable[P, pl.LazyFrame]]:
    """Register a `pl.LazyFrame -> pl.LazyFrame` feature function with its version and output schema.

    With `adds_columns=True` the function keeps its input frame's columns and `output_schema` declares the
    columns it adds: the result must be the input schema followed by exactly those columns.
    """
    declared = dict(output_schema)

    def decorate(func: Callable[P, pl.LazyFrame]) -> Callable[P, pl.LazyFrame]:
        name = f"{func.__module__}.{func.__qualname__}"
        doc = (func.__doc__ or "").strip()
        if not doc or "\n" in doc:
            raise ValueError(f"feature {name} needs a one-line docstring")

        @functools.wraps(func)
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> pl.LazyFrame:
            out = func(*args, **kwargs)
            got = dict(out.collect_schema())
            expected = declared
            if adds_columns:
                frame = args[0]
                if not isinstance(frame, pl.LazyFrame):
                    raise TypeError(f"{name}: the first argument must be a LazyFrame")
                expected = {**dict(frame.collect_schema()), **declared}
            if got != expected or (adds_columns and list(got) != list(expected)):
                raise FeatureSchemaError(f"{name} v{version}: declared {expected}, got {got}")
            return out

        if name in REGISTRY and REGISTRY[name].func is not wrapper:
            raise ValueError(f"feature {name} registered twice")
        REGISTRY[name] = FeatureSpec(
            name=name, version=version, output_schema=declared, func=wrapper, doc=doc, adds_columns=adds_columns
        )
        return wrapper

    return decorate


def registry_fingerprint(specs: Mapping[str, FeatureSpec] | None = None) -> str:
    """A short hash of every registered feature's name, version and output schema (sorted by name)."""
    specs = REGISTRY if specs is None else specs
    text = "\n".join(f"{s.name}|{s.version}|{s.schema_text()}" for s in sorted(specs.values(), key=lambda s: s.name))
    return hashlib.sha256(text.encode()).hexdigest()[:16]
