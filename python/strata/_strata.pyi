"""Type stubs of the compiled module ``strata._strata`` (python/src/lib.rs).
Use the functions of :mod:`strata`, which wrap these."""

from typing import Any, Optional, Tuple

__version__: str

class StrataError(Exception):
    """A strata failure; ``exit_code`` and ``exit_class`` are the CLI's."""

    exit_code: int
    exit_class: str

class UsageError(StrataError): ...
class InputError(StrataError): ...
class SpecError(StrataError): ...
class ModelError(StrataError): ...
class DisclosureError(StrataError): ...
class PublicationError(StrataError): ...
class InternalError(StrataError): ...

class ArrowStream:
    """A table as an Arrow C stream (PyCapsule protocol), readable once."""

    def __arrow_c_stream__(self, requested_schema: Optional[object] = None) -> object: ...

def validate(input: Any, input_format: str = "auto", config: Optional[str] = None) -> str: ...
def features(
    input: Any,
    index_date: str,
    features: Optional[str] = None,
    config: Optional[str] = None,
    input_format: str = "auto",
    pseudonym_key_file: Optional[str] = None,
) -> ArrowStream: ...
def run(
    input: Any,
    out: str,
    as_of: Optional[str] = None,
    model: Optional[str] = None,
    features: Optional[str] = None,
    config: Optional[str] = None,
    input_format: str = "auto",
    pseudonym_key_file: Optional[str] = None,
) -> Tuple[ArrowStream, str]: ...
