"""strata from Python: the Rust library's stages, Arrow in and out.

Every figure is computed by the same Rust functions the ``strata`` command
calls; this module only passes arguments and tables across. Tables come back
as :class:`pyarrow.Table` (``polars.from_arrow(t)`` and ``t.to_pandas()``
take them), and a dict of tables going in may hold any object speaking the
Arrow PyCapsule protocol (pyarrow, Polars, pandas >= 2.2, DuckDB).

Failures raise :class:`StrataError` subclasses, one per exit class of the
command line (``InputError`` is exit 10, ...), carrying the message the CLI
would print; ``exit_code`` and ``exit_class`` are on every one.
"""

from __future__ import annotations

import datetime as _dt
import json as _json
import os as _os
import tempfile as _tempfile
from collections.abc import Mapping as _Mapping

import pyarrow as _pa

from . import _strata
from ._strata import (
    DisclosureError,
    InputError,
    InternalError,
    ModelError,
    PublicationError,
    SpecError,
    StrataError,
    UsageError,
    __version__,
)

__all__ = [
    "validate",
    "features",
    "run",
    "StrataError",
    "UsageError",
    "InputError",
    "SpecError",
    "ModelError",
    "DisclosureError",
    "PublicationError",
    "InternalError",
    "__version__",
]


def _input(input):
    """A folder path as a string, or a dict of name -> Arrow table as is."""
    if isinstance(input, _Mapping):
        return dict(input)
    return _os.fspath(input)


def _path(value):
    return None if value is None else _os.fspath(value)


def _date(value, what):
    if value is None:
        return None
    if isinstance(value, _dt.datetime):
        raise UsageError(f"{what} = {value!r}: expected a date, not a date and time")
    if isinstance(value, _dt.date):
        return value.isoformat()
    if isinstance(value, str):
        return value
    raise UsageError(f"{what} = {value!r}: expected a date or a 'YYYY-MM-DD' string")


def validate(input, *, input_format="auto", config=None):
    """Validate an extract; return the validation report (``strata validate --json``)."""
    return _json.loads(
        _strata.validate(_input(input), input_format=input_format, config=_path(config))
    )


def features(
    input,
    index_date,
    *,
    features=None,
    config=None,
    input_format="auto",
    pseudonym_key_file=None,
):
    """The per-person feature table at ``index_date`` (``strata features``)."""
    stream = _strata.features(
        _input(input),
        _date(index_date, "index_date"),
        features=_path(features),
        config=_path(config),
        input_format=input_format,
        pseudonym_key_file=_path(pseudonym_key_file),
    )
    return _pa.table(stream)


def run(
    input,
    out=None,
    as_of=None,
    model=None,
    *,
    features=None,
    config=None,
    input_format="auto",
    pseudonym_key_file=None,
):
    """Score an extract (``strata run``); return the per-person table (patient_risk)."""
    with _tempfile.TemporaryDirectory(prefix="strata-run-") as scratch:
        stream, run_dir = _strata.run(
            _input(input),
            _os.fspath(out) if out is not None else scratch,
            as_of=_date(as_of, "as_of"),
            model=_path(model),
            features=_path(features),
            config=_path(config),
            input_format=input_format,
            pseudonym_key_file=_path(pseudonym_key_file),
        )
        table = _pa.table(stream)
    if out is None:
        return table
    metadata = dict(table.schema.metadata or {})
    metadata[b"strata.run_dir"] = run_dir.encode()
    return table.replace_schema_metadata(metadata)
