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
import json
import os
import tempfile
from collections.abc import Mapping
from typing import Any, Dict, Optional, Union

import pyarrow as pa

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


#: What ``input`` may be: an extract folder (a contract extract, a FHIR R4
#: bulk export or an OMOP CDM folder, as ``strata --input`` takes), or a dict
#: of contract table name (``"patients"``, ``"encounters"``, ...) to a table
#: of any library speaking the Arrow PyCapsule protocol.
Input = Union[str, "os.PathLike[str]", Mapping[str, Any]]
#: A date: a :class:`datetime.date` or a ``"YYYY-MM-DD"`` string.
Date = Union[_dt.date, str]
_Path = Union[str, "os.PathLike[str]"]


def _input(input: Input) -> Any:
    """A folder path as a string, or a dict of name -> Arrow table as is."""
    if isinstance(input, Mapping):
        return dict(input)
    return os.fspath(input)


def _path(value: Optional[_Path]) -> Optional[str]:
    return None if value is None else os.fspath(value)


def _key_file(value: Optional[_Path]) -> Optional[str]:
    """The pseudonym key file: given, else STRATA_PSEUDONYM_KEY_FILE (as the CLI)."""
    return _path(value) if value is not None else os.environ.get("STRATA_PSEUDONYM_KEY_FILE")


def _date(value: Optional[Date], what: str) -> Optional[str]:
    if value is None:
        return None
    if isinstance(value, _dt.datetime):
        raise UsageError(f"{what} = {value!r}: expected a date, not a date and time")
    if isinstance(value, _dt.date):
        return value.isoformat()
    if isinstance(value, str):
        return value
    raise UsageError(f"{what} = {value!r}: expected a date or a 'YYYY-MM-DD' string")


def validate(
    input: Input,
    *,
    input_format: str = "auto",
    config: Optional[_Path] = None,
) -> Dict[str, Any]:
    """Validate an extract against the data contract.

    The same checks as ``strata validate``: every table, column, type and row
    rule, the rejection limit, IMD coverage. Rows breaking a rule are counted
    and rejected; an extract past the rejection limit raises.

    Args:
        input: an extract folder (contract, FHIR or OMOP) or a dict of tables.
        input_format: ``"auto"`` (detect), ``"contract"``, ``"fhir"`` or ``"omop"``.
        config: a ``strata.toml`` (its ``[validation]`` and ``[medicines]``).

    Returns:
        The validation report, as ``strata validate --json`` prints it: per
        table the rows read and rejected and the reasons, and IMD matching.

    Raises:
        InputError: the extract breaks the contract (exit 10).
        UsageError: a bad argument or configuration (exit 2).
    """
    return json.loads(
        _strata.validate(_input(input), input_format=input_format, config=_path(config))
    )


def features(
    input: Input,
    index_date: Date,
    *,
    features: Optional[_Path] = None,
    config: Optional[_Path] = None,
    input_format: str = "auto",
    pseudonym_key_file: Optional[_Path] = None,
) -> pa.Table:
    """The per-person feature table at ``index_date`` (``strata features``).

    One row per person in the population at the index date: the key columns
    (person_id, practice, PCN, LSOA), then every built-in feature
    (docs/feature-catalogue.md) and those declared in ``features``. It is
    person-level data: for direct care and analysts inside the organisation,
    never for publication.

    Args:
        input: an extract folder (contract, FHIR or OMOP) or a dict of tables.
        index_date: the date features are computed at (look-backs end here).
        features: a TOML file of extra feature declarations.
        config: a ``strata.toml`` (``[codelists]``, ``[validation]``, ``[medicines]``).
        input_format: ``"auto"`` (detect), ``"contract"``, ``"fhir"`` or ``"omop"``.
        pseudonym_key_file: the key file that replaces NHS-number person ids
            by keyed pseudonyms (default: ``$STRATA_PSEUDONYM_KEY_FILE``);
            without a key such ids are refused.

    Returns:
        A :class:`pyarrow.Table`; ``polars.from_arrow(t)`` and
        ``t.to_pandas()`` take it.

    Raises:
        InputError, SpecError, UsageError: as the CLI's exit codes 10, 11, 2.
    """
    stream = _strata.features(
        _input(input),
        _date(index_date, "index_date"),
        features=_path(features),
        config=_path(config),
        input_format=input_format,
        pseudonym_key_file=_key_file(pseudonym_key_file),
    )
    return pa.table(stream)


def run(
    input: Input,
    out: Optional[_Path] = None,
    as_of: Optional[Date] = None,
    model: Optional[_Path] = None,
    *,
    features: Optional[_Path] = None,
    config: Optional[_Path] = None,
    input_format: str = "auto",
    pseudonym_key_file: Optional[_Path] = None,
) -> pa.Table:
    """Score an extract, as ``strata run`` does, and return the per-person table.

    Validates, derives features at ``as_of``, scores with ``model``, assigns
    tiers (cut-offs over the planning population), segments and reasons.
    With ``out``, the run is published there exactly as ``strata run --out``
    publishes it (patient_risk and clinical_lists by practice, flag history,
    disclosure-controlled summaries, manifest, report; ``out/latest`` moves
    atomically), and the table's schema metadata ``strata.run_dir`` names the
    run's folder. Without ``out``, nothing is kept on disk.

    Args:
        input: an extract folder (contract, FHIR or OMOP) or a dict of tables.
        out: the output folder to publish into; ``None`` publishes nothing.
        as_of: the date risk is computed for; ``None`` = the extract's last
            event date.
        model: a model file; ``None`` = ``models/emergency_admission.json``
            from the working folder, else the copy built into this package.
        features: a TOML file of extra feature declarations.
        config: a ``strata.toml`` (tiers, disclosure profile, validation, ...).
        input_format: ``"auto"`` (detect), ``"contract"``, ``"fhir"`` or ``"omop"``.
        pseudonym_key_file: the key file for NHS-number person ids (default:
            ``$STRATA_PSEUDONYM_KEY_FILE``).

    Returns:
        The patient_risk rows as a :class:`pyarrow.Table`: key columns, the
        model's features, ``risk``, ``tier``, ``segment``, ``reason_1..3``,
        ``new_to_flagged``; sorted by practice, then by descending risk.

    Raises:
        InputError, SpecError, ModelError, DisclosureError, PublicationError,
        UsageError: as the CLI's exit codes 10, 11, 12, 13, 14, 2.
    """
    with tempfile.TemporaryDirectory(prefix="strata-run-") as scratch:
        stream, run_dir = _strata.run(
            _input(input),
            os.fspath(out) if out is not None else scratch,
            as_of=_date(as_of, "as_of"),
            model=_path(model),
            features=_path(features),
            config=_path(config),
            input_format=input_format,
            pseudonym_key_file=_key_file(pseudonym_key_file),
        )
        table = pa.table(stream)
    if out is None:
        return table
    metadata = dict(table.schema.metadata or {})
    metadata[b"strata.run_dir"] = run_dir.encode()
    return table.replace_schema_metadata(metadata)
