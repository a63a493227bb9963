//! `strata._strata`: the compiled half of the Python package `strata`.
//!
//! It calls the library's stages and nothing else: every figure comes from
//! the same functions the command line calls (`strata::pipeline`), so
//! Python and the binary cannot disagree. Tables cross the boundary through
//! the Arrow C stream interface (the PyCapsule protocol), so pyarrow, Polars
//! and pandas read them without a pinned version of any of them.
//!
//! Nothing panics across the boundary: each call runs under `catch_unwind`,
//! and errors become the Python exceptions of their exit class
//! (`strata.InputError` for exit 10, …) carrying the message.

use std::ffi::CString;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use polars::prelude::*;
use polars_arrow::array::{Array, StructArray};
use polars_arrow::datatypes::{ArrowDataType, Field as ArrowField};
use polars_arrow::ffi::{ArrowArrayStream, ArrowArrayStreamReader, export_iterator};
use pyo3::create_exception;
use pyo3::exceptions::PyException;
use pyo3::prelude::*;
use pyo3::types::{PyCapsule, PyDict};
use strata::config::{FileConfig, RunOverrides, RunPlan};
use strata::governance::pseudonym::PseudonymKey;
use strata::ingest::ValidateOptions;
use strata::pipeline::{self, input};
use strata::publication::OutputLock;
use strata::{Error, ExitClass};

create_exception!(
    _strata,
    StrataError,
    PyException,
    "A strata failure; `exit_code` and `exit_class` say how an operator acts on it (as the CLI's exit codes)."
);
create_exception!(
    _strata,
    UsageError,
    StrataError,
    "Bad arguments or configuration (exit 2)."
);
create_exception!(
    _strata,
    InputError,
    StrataError,
    "The extract breaks the data contract (exit 10)."
);
create_exception!(
    _strata,
    SpecError,
    StrataError,
    "A code list or feature specification is wrong (exit 11)."
);
create_exception!(
    _strata,
    ModelError,
    StrataError,
    "A model file is unusable (exit 12)."
);
create_exception!(
    _strata,
    DisclosureError,
    StrataError,
    "Disclosure control refused to release an output (exit 13)."
);
create_exception!(
    _strata,
    PublicationError,
    StrataError,
    "Outputs could not be written or published (exit 14)."
);
create_exception!(
    _strata,
    InternalError,
    StrataError,
    "A bug or an environment problem (exit 1), including a panic inside strata."
);

/// The message of `e` with the causes its own text does not already hold,
/// as the CLI prints it (`error: a: b`).
fn message(e: &(dyn std::error::Error + 'static)) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(cause) = source {
        let more = cause.to_string();
        if !text.contains(&more) {
            text = format!("{text}: {more}");
        }
        source = cause.source();
    }
    text
}

fn exception(class: ExitClass, text: String) -> PyErr {
    match class {
        ExitClass::Usage => UsageError::new_err(text),
        ExitClass::Input => InputError::new_err(text),
        ExitClass::Spec => SpecError::new_err(text),
        ExitClass::Model => ModelError::new_err(text),
        ExitClass::Disclosure => DisclosureError::new_err(text),
        ExitClass::Publication => PublicationError::new_err(text),
        ExitClass::Internal => InternalError::new_err(text),
    }
}

fn to_py(e: Error) -> PyErr {
    exception(e.class(), message(&e))
}

/// A bad argument from Python (an unparsable date, say): exit class usage.
fn usage(text: impl Into<String>) -> PyErr {
    exception(ExitClass::Usage, text.into())
}

/// Runs `work` without the GIL (strata uses every core) and turns a panic
/// into `InternalError` instead of letting it cross into Python.
fn call<T: Send>(py: Python<'_>, work: impl FnOnce() -> PyResult<T> + Send) -> PyResult<T> {
    py.detach(|| catch_unwind(AssertUnwindSafe(work)))
        .unwrap_or_else(|panic| {
            let what = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "no message".into());
            Err(exception(
                ExitClass::Internal,
                format!("internal error (a panic inside strata): {what}"),
            ))
        })
}

fn date(value: &str, what: &str) -> PyResult<NaiveDate> {
    NaiveDate::parse_from_str(value, "%Y-%m-%d").map_err(|e| {
        usage(format!(
            "{what} = {value:?}: expected a date YYYY-MM-DD ({e})"
        ))
    })
}

fn load_config(path: Option<&Path>) -> Result<FileConfig, Error> {
    match path {
        Some(p) => Ok(FileConfig::load(p)?),
        None => Ok(FileConfig::default()),
    }
}

fn today() -> NaiveDate {
    chrono::Local::now().date_naive()
}

fn pseudonym_key(path: Option<&Path>) -> Result<Option<PseudonymKey>, Error> {
    use strata::governance::GovernanceError;
    let Some(path) = path else { return Ok(None) };
    let bytes = std::fs::read(path).map_err(|e| GovernanceError::BadKey {
        path: path.to_path_buf(),
        reason: format!("cannot be read: {}", e.kind()),
    })?;
    PseudonymKey::new(bytes).map(Some).map_err(|reason| {
        GovernanceError::BadKey {
            path: path.to_path_buf(),
            reason,
        }
        .into()
    })
}

/// The default model (`models/emergency_admission.json`), built into the
/// package so that `strata.run` works outside a checkout.
const DEFAULT_MODEL: &[u8] = include_bytes!("../../models/emergency_admission.json");
const DEFAULT_MODEL_NAME: &str = "emergency_admission.json";

fn packaged_model() -> Result<tempfile::TempDir, Error> {
    let io = |path: PathBuf, source| strata::publication::OutputError::Io {
        path,
        action: "writing the packaged default model",
        source,
    };
    let folder = tempfile::Builder::new()
        .prefix("strata-model-")
        .tempdir()
        .map_err(|e| io(std::env::temp_dir(), e))?;
    let path = folder.path().join(DEFAULT_MODEL_NAME);
    std::fs::write(&path, DEFAULT_MODEL).map_err(|e| io(path.clone(), e))?;
    Ok(folder)
}

fn form(name: &str) -> PyResult<input::Form> {
    match name {
        "auto" => Ok(input::Form::Auto),
        "contract" => Ok(input::Form::Contract),
        "fhir" => Ok(input::Form::Fhir),
        "omop" => Ok(input::Form::Omop),
        other => Err(usage(format!(
            "input_format = {other:?}: expected auto, contract, fhir or omop"
        ))),
    }
}

/// An extract as Python gives it: a folder, or tables already in memory.
enum Source {
    Folder(PathBuf),
    Tables(Vec<(String, DataFrame)>),
}

impl Source {
    fn read(input: &Bound<'_, PyAny>) -> PyResult<Source> {
        if let Ok(dict) = input.cast::<PyDict>() {
            let mut tables = Vec::with_capacity(dict.len());
            for (name, table) in dict.iter() {
                let name: String = name.extract()?;
                let frame = import_table(&table, &name)?;
                tables.push((name, frame));
            }
            return Ok(Source::Tables(tables));
        }
        Ok(Source::Folder(input.extract()?))
    }

    /// The contract extract to read, converting a FHIR or OMOP folder or
    /// writing in-memory tables first (`strata::pipeline::input`).
    fn prepare(
        self,
        form: input::Form,
        max_reject_fraction: f64,
    ) -> Result<input::Prepared, Error> {
        match self {
            Source::Folder(path) => input::prepare(
                &path,
                form,
                &strata::fhir::ConvertOptions {
                    max_reject_fraction,
                    ..Default::default()
                },
            ),
            Source::Tables(tables) => input::from_frames(tables),
        }
    }
}

/// Reads an object with `__arrow_c_stream__` (pyarrow, Polars, pandas ≥ 2.2,
/// DuckDB, …) into a DataFrame without copying the buffers.
fn import_table(table: &Bound<'_, PyAny>, name: &str) -> PyResult<DataFrame> {
    if !table.hasattr("__arrow_c_stream__")? {
        return Err(usage(format!(
            "table `{name}`: expected an Arrow table (an object with __arrow_c_stream__: pyarrow, Polars, pandas ≥ 2.2), got {}",
            table.get_type().name()?
        )));
    }
    let capsule = table.call_method0("__arrow_c_stream__")?;
    let capsule = capsule.cast::<PyCapsule>()?;
    let pointer = capsule.pointer_checked(Some(c"arrow_array_stream"))?;
    // SAFETY: the capsule holds an ArrowArrayStream (checked by its name, as
    // the protocol requires); the stream is moved out and the capsule's copy
    // marked released, so only we release it.
    let stream = unsafe {
        std::ptr::replace(
            pointer.as_ptr().cast::<ArrowArrayStream>(),
            ArrowArrayStream::empty(),
        )
    };
    let bad = |e: PolarsError| usage(format!("table `{name}`: reading its Arrow stream: {e}"));
    // SAFETY: a valid stream, from its producer.
    let mut reader = unsafe { ArrowArrayStreamReader::try_new(Box::new(stream)) }.map_err(bad)?;
    let ArrowDataType::Struct(fields) = reader.field().dtype().clone() else {
        return Err(usage(format!(
            "table `{name}`: its Arrow stream does not hold record batches"
        )));
    };
    let mut columns: Vec<Vec<Box<dyn Array>>> = vec![Vec::new(); fields.len()];
    // SAFETY: as above.
    while let Some(batch) = unsafe { reader.next() } {
        let batch = batch.map_err(bad)?;
        let Some(batch) = batch.as_any().downcast_ref::<StructArray>() else {
            return Err(usage(format!(
                "table `{name}`: its Arrow stream does not hold record batches"
            )));
        };
        for (column, values) in columns.iter_mut().zip(batch.values()) {
            column.push(values.clone());
        }
    }
    let columns = fields
        .iter()
        .zip(columns)
        .map(|(field, chunks)| {
            let series = if chunks.is_empty() {
                Series::new_empty(field.name.clone(), &DataType::from_arrow_field(field))
            } else {
                Series::try_from((field.name.clone(), chunks)).map_err(bad)?
            };
            Ok(series.into_column())
        })
        .collect::<PyResult<Vec<_>>>()?;
    DataFrame::new_infer_height(columns).map_err(bad)
}

/// A table handed to Python: an Arrow C stream, read once
/// (`pyarrow.table(x)`, `polars.from_arrow(x)`).
#[pyclass(module = "strata._strata")]
struct ArrowStream {
    frame: Option<DataFrame>,
}

#[pymethods]
impl ArrowStream {
    /// The Arrow PyCapsule stream protocol. `requested_schema` is ignored:
    /// the table is given in its own types.
    #[pyo3(signature = (requested_schema=None))]
    fn __arrow_c_stream__<'py>(
        &mut self,
        py: Python<'py>,
        requested_schema: Option<Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyCapsule>> {
        let _ = requested_schema;
        let mut frame = self
            .frame
            .take()
            .ok_or_else(|| usage("this Arrow stream has already been read"))?;
        frame.align_chunks_par();
        let level = CompatLevel::newest();
        let fields: Vec<ArrowField> = frame.schema().to_arrow(level).into_iter_values().collect();
        let dtype = ArrowDataType::Struct(fields);
        let batches: Vec<PolarsResult<Box<dyn Array>>> = frame
            .iter_chunks(level, true)
            .map(|batch| {
                let height = batch.height();
                Ok(StructArray::new(dtype.clone(), height, batch.into_arrays(), None).boxed())
            })
            .collect();
        let stream = export_iterator(
            Box::new(batches.into_iter()),
            ArrowField::new(PlSmallStr::EMPTY, dtype, false),
        );
        let name = CString::new("arrow_array_stream").map_err(|e| usage(e.to_string()))?;
        PyCapsule::new(py, stream, Some(name))
    }
}

fn stream(frame: DataFrame) -> ArrowStream {
    ArrowStream { frame: Some(frame) }
}

/// Validates an extract; returns the validation report as JSON (the one
/// `strata validate --json` prints).
#[pyfunction]
#[pyo3(signature = (input, input_format="auto", config=None))]
fn validate(
    py: Python<'_>,
    input: &Bound<'_, PyAny>,
    input_format: &str,
    config: Option<PathBuf>,
) -> PyResult<String> {
    let source = Source::read(input)?;
    let form = form(input_format)?;
    call(py, move || {
        let run = || -> Result<String, Error> {
            let file = load_config(config.as_deref())?;
            let options = ValidateOptions {
                today: today(),
                max_reject_fraction: file.validation.max_reject_fraction,
                dmd_bnf: pipeline::dmd_bnf_map(file.medicines.dmd_bnf.as_deref())?,
            };
            let prepared = source.prepare(form, options.max_reject_fraction)?;
            let extract = pipeline::validate(&prepared.path, &options)?;
            pipeline::warn_about_medicines(&extract);
            serde_json::to_string(&extract.report)
                .map_err(|e| Error::Internal(format!("writing the validation report: {e}")))
        };
        run().map_err(to_py)
    })
}

/// The per-person feature table at `index_date` (`strata features`).
#[pyfunction]
#[pyo3(signature = (input, index_date, features=None, config=None, input_format="auto", pseudonym_key_file=None))]
fn features(
    py: Python<'_>,
    input: &Bound<'_, PyAny>,
    index_date: &str,
    features: Option<PathBuf>,
    config: Option<PathBuf>,
    input_format: &str,
    pseudonym_key_file: Option<PathBuf>,
) -> PyResult<ArrowStream> {
    let index = date(index_date, "index_date")?;
    let source = Source::read(input)?;
    let form = form(input_format)?;
    call(py, move || {
        let run = || -> Result<DataFrame, Error> {
            let file = load_config(config.as_deref())?;
            let key = pseudonym_key(pseudonym_key_file.as_deref())?;
            let options = ValidateOptions {
                today: today(),
                max_reject_fraction: file.validation.max_reject_fraction,
                dmd_bnf: pipeline::dmd_bnf_map(file.medicines.dmd_bnf.as_deref())?,
            };
            let prepared = source.prepare(form, options.max_reject_fraction)?;
            pipeline::person_features(
                &prepared.path,
                index,
                features.as_deref(),
                &file.codelists,
                &options,
                key.as_ref(),
            )
        };
        run().map(stream).map_err(to_py)
    })
}

/// The nightly run (`strata run`): publishes into `out` and returns the
/// patient_risk rows and the published run's folder.
#[pyfunction]
#[pyo3(signature = (input, out, as_of=None, model=None, features=None, config=None, input_format="auto", pseudonym_key_file=None))]
#[allow(clippy::too_many_arguments)]
fn run(
    py: Python<'_>,
    input: &Bound<'_, PyAny>,
    out: PathBuf,
    as_of: Option<&str>,
    model: Option<PathBuf>,
    features: Option<PathBuf>,
    config: Option<PathBuf>,
    input_format: &str,
    pseudonym_key_file: Option<PathBuf>,
) -> PyResult<(ArrowStream, String)> {
    let as_of = as_of.map(|d| date(d, "as_of")).transpose()?;
    let source = Source::read(input)?;
    let form = form(input_format)?;
    call(py, move || {
        let run = || -> Result<(DataFrame, String), Error> {
            let file = load_config(config.as_deref())?;
            let flags = RunOverrides {
                // Replaced by the prepared extract below; given so the plan
                // does not fall back to the configured input.
                input: Some(PathBuf::from(".")),
                model,
                out: Some(out),
                as_of,
                features,
                pseudonym_key: pseudonym_key(pseudonym_key_file.as_deref())?,
                dmd_bnf: None,
            };
            let given = flags.model.is_some()
                || file.run.model != strata::config::RunSection::default().model;
            let mut plan = RunPlan::resolve(file, flags, today())?;
            // The default model's path is relative (models/…, as in a
            // checkout): outside one, the copy built into the package is used.
            let packaged = if !given && !plan.model.exists() {
                let folder = packaged_model()?;
                plan.model = folder.path().join(DEFAULT_MODEL_NAME);
                Some(folder)
            } else {
                None
            };
            let lock = OutputLock::acquire(&plan.out)?;
            let prepared = source.prepare(form, plan.max_reject_fraction)?;
            plan.input = prepared.path.clone();
            plan.converted_from = prepared.converted_from.clone();
            let outcome = pipeline::run(&plan, &lock)?;
            drop(packaged);
            Ok((outcome.patient_risk, outcome.run_dir.display().to_string()))
        };
        run()
            .map(|(frame, dir)| (stream(frame), dir))
            .map_err(to_py)
    })
}

#[pymodule]
fn _strata(m: &Bound<'_, PyModule>) -> PyResult<()> {
    // Warnings (coverage, medicines) go to stderr as in the CLI; STRATA_LOG
    // sets the filter (e.g. `strata=info` for stage timings).
    let filter = tracing_subscriber::EnvFilter::try_from_env("STRATA_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("strata=warn"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .try_init();

    let py = m.py();
    m.add("__version__", strata::VERSION)?;
    m.add("StrataError", py.get_type::<StrataError>())?;
    for (name, class) in [
        ("UsageError", ExitClass::Usage),
        ("InputError", ExitClass::Input),
        ("SpecError", ExitClass::Spec),
        ("ModelError", ExitClass::Model),
        ("DisclosureError", ExitClass::Disclosure),
        ("PublicationError", ExitClass::Publication),
        ("InternalError", ExitClass::Internal),
    ] {
        let exception = match class {
            ExitClass::Usage => py.get_type::<UsageError>(),
            ExitClass::Input => py.get_type::<InputError>(),
            ExitClass::Spec => py.get_type::<SpecError>(),
            ExitClass::Model => py.get_type::<ModelError>(),
            ExitClass::Disclosure => py.get_type::<DisclosureError>(),
            ExitClass::Publication => py.get_type::<PublicationError>(),
            ExitClass::Internal => py.get_type::<InternalError>(),
        };
        exception.setattr("exit_code", class.code())?;
        exception.setattr("exit_class", name.trim_end_matches("Error").to_lowercase())?;
        m.add(name, exception)?;
    }
    m.add_class::<ArrowStream>()?;
    m.add_function(wrap_pyfunction!(validate, m)?)?;
    m.add_function(wrap_pyfunction!(features, m)?)?;
    m.add_function(wrap_pyfunction!(run, m)?)?;
    Ok(())
}
