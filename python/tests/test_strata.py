"""`import strata` against the sample data: every table equals the one the
`strata` binary writes for the same input (the package calls the same Rust
functions; these tests keep it that way), errors carry the CLI's exit class,
and pyarrow, Polars and pandas take the results."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
from pathlib import Path

import pandas as pd
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import strata

from conftest import INDEX_DATE, REPO, SAMPLE

MODEL = REPO / "models" / "emergency_admission.json"
# Runs are scored two months before the sample's last event: a run that
# dropped `as_of` (scoring at the last event date) would not equal the CLI's.
AS_OF = "2026-01-31"


def cli_features(cli, input: Path, out: Path, *extra: str) -> pl.DataFrame:
    cli("features", "--input", str(input), "--index-date", INDEX_DATE, "--out", str(out), *extra)
    return pl.read_parquet(out)


def read_partitioned(folder: Path) -> pl.DataFrame:
    """A partitioned output (patient_risk/, clinical_lists/) as one table, in
    partition order: the order the run wrote it in."""
    parts = sorted(folder.glob("*/part-*.parquet"))
    assert parts, f"{folder}: no parts"
    return pl.concat([pl.read_parquet(p) for p in parts])


def assert_same(python: pa.Table, cli: pl.DataFrame) -> None:
    """Equal column names, order, values and (Polars) types, row for row."""
    ours = pl.from_arrow(python)
    assert ours.columns == cli.columns
    assert ours.schema == cli.schema
    assert ours.height == cli.height
    assert ours.equals(cli, null_equal=True)


@pytest.fixture(scope="module")
def cli_run(cli, tmp_path_factory):
    """`strata run` on the sample data at a fixed as-of date."""
    out = tmp_path_factory.mktemp("cli-run")
    cli("run", "--input", str(SAMPLE), "--out", str(out), "--as-of", AS_OF)
    return out / "latest"


# --- features -----------------------------------------------------------------


def test_features_equal_the_cli_table(cli, tmp_path):
    table = strata.features(SAMPLE, INDEX_DATE)
    assert isinstance(table, pa.Table)
    expected = cli_features(cli, SAMPLE, tmp_path / "features.parquet")
    # One row per person in the population at the index date: of the 5,000
    # generated (sample-data/README.md), the CLI's run summary scores 4,842.
    assert table.num_rows == 4842
    assert_same(table, expected)


def test_features_take_a_date_object():
    by_string = strata.features(SAMPLE, INDEX_DATE)
    by_date = strata.features(SAMPLE, dt.date(2026, 3, 31))
    assert by_string.equals(by_date)


def test_features_differ_at_another_index_date():
    # Guards the comparison above: the index date does reach the features.
    earlier = pl.from_arrow(strata.features(SAMPLE, "2025-03-31"))
    later = pl.from_arrow(strata.features(SAMPLE, INDEX_DATE))
    assert not earlier.equals(later)


@pytest.mark.parametrize("form", ["fhir", "omop"])
def test_features_of_a_fhir_or_omop_folder_equal_the_cli(cli, tmp_path, form):
    extract = tmp_path / form
    cli("generate", "--patients", "300", "--seed", "7", "--as-of", INDEX_DATE,
        "--format", form, "--out", str(extract))
    table = strata.features(extract, INDEX_DATE)
    expected = cli_features(cli, extract, tmp_path / "features.parquet")
    assert table.num_rows > 0
    assert_same(table, expected)


def test_a_dict_of_tables_gives_the_folder_s_features():
    files = {p.stem: p for p in SAMPLE.glob("*.parquet") if p.stem != "truth"}
    from_folder = strata.features(SAMPLE, INDEX_DATE)
    as_pyarrow = {name: pq.read_table(p) for name, p in files.items()}
    as_polars = {name: pl.read_parquet(p) for name, p in files.items()}
    as_pandas = {name: t.to_pandas() for name, t in as_pyarrow.items()}
    for tables in (as_pyarrow, as_polars, as_pandas):
        assert strata.features(tables, INDEX_DATE).equals(from_folder)


def test_a_dict_of_tables_is_checked_like_files():
    tables = {p.stem: pq.read_table(p) for p in SAMPLE.glob("*.parquet") if p.stem != "truth"}
    del tables["patients"]
    with pytest.raises(strata.InputError, match="required table `patients` not found"):
        strata.features(tables, INDEX_DATE)


# --- run ----------------------------------------------------------------------


def test_run_returns_the_published_patient_risk(cli_run):
    table = strata.run(SAMPLE, as_of=AS_OF, model=MODEL)
    assert_same(table, read_partitioned(cli_run / "patient_risk"))
    # docs/outputs.md: sorted by practice (the sample has one), then by
    # descending risk; a higher risk never has a lower tier.
    risks = table.column("risk").to_pylist()
    assert risks == sorted(risks, reverse=True)
    assert all(0.0 < r < 1.0 for r in risks)
    rank = {"very_high": 3, "high": 2, "rising": 1, "low": 0}
    tiers = [rank[t] for t in table.column("tier").to_pylist()]
    assert tiers == sorted(tiers, reverse=True)


def test_run_with_out_publishes_the_cli_layout(cli_run, tmp_path):
    table = strata.run(SAMPLE, out=tmp_path, as_of=dt.date(2026, 1, 31), model=MODEL)
    latest = tmp_path / "latest"
    run_dir = Path(table.schema.metadata[b"strata.run_dir"].decode())
    assert latest.resolve() == run_dir.resolve()
    ours = sorted(p.relative_to(latest) for p in latest.rglob("*") if p.is_file())
    theirs = sorted(p.relative_to(cli_run) for p in cli_run.rglob("*") if p.is_file())
    assert ours == theirs
    for name in ours:
        if name.suffix == ".parquet" and name.name != "flag_history.parquet":
            assert pl.read_parquet(latest / name).equals(
                pl.read_parquet(cli_run / name), null_equal=True
            ), name
    manifest = json.loads((latest / "manifest.json").read_text())
    expected = json.loads((cli_run / "manifest.json").read_text())
    for key in ("as_of", "people_scored", "tier_counts", "segment_counts", "outputs", "tables"):
        assert manifest[key] == expected[key], key
    assert_same(table, read_partitioned(latest / "patient_risk"))


def test_run_without_a_model_uses_the_packaged_default(cli_run, tmp_path, monkeypatch):
    # Outside a checkout the relative default path (models/...) is absent.
    monkeypatch.chdir(tmp_path)
    table = strata.run(SAMPLE, as_of=AS_OF)
    assert_same(table, read_partitioned(cli_run / "patient_risk"))


# --- validate -----------------------------------------------------------------


def test_validate_returns_the_cli_report(cli):
    report = strata.validate(SAMPLE)
    expected = json.loads(cli("validate", "--input", str(SAMPLE), "--json").stdout)
    assert report == expected
    patients = next(t for t in report["tables"] if t["table"] == "patients")
    # sample-data/README.md: generated with --patients 5000.
    assert patients["rows_read"] == 5000


# --- errors -------------------------------------------------------------------


@pytest.fixture
def broken_model(tmp_path):
    path = tmp_path / "model.json"
    path.write_text("{ not a model")
    return path


@pytest.fixture
def bad_config(tmp_path):
    path = tmp_path / "strata.toml"
    path.write_text("[validation]\nmax_reject_fraction = 7\n")
    return path


ERROR_CASES = {
    # name: (exception, exit code, Python call, CLI arguments)
    "missing extract": (
        strata.InputError, 10,
        lambda f: strata.run("no-such-folder", model=MODEL),
        lambda f: ["run", "--input", "no-such-folder", "--out", f["out"]],
    ),
    "broken model": (
        strata.ModelError, 12,
        lambda f: strata.run(SAMPLE, model=f["model"]),
        lambda f: ["run", "--input", str(SAMPLE), "--model", f["model"], "--out", f["out"]],
    ),
    "bad configuration": (
        strata.UsageError, 2,
        lambda f: strata.run(SAMPLE, model=MODEL, config=f["config"]),
        lambda f: ["run", "--input", str(SAMPLE), "--config", f["config"], "--out", f["out"]],
    ),
    "broken feature file": (
        strata.SpecError, 11,
        lambda f: strata.features(SAMPLE, INDEX_DATE, features=f["features"]),
        lambda f: ["features", "--input", str(SAMPLE), "--index-date", INDEX_DATE,
                   "--features", f["features"], "--out", f["out"] + "/f.parquet"],
    ),
}


@pytest.fixture
def broken_features(tmp_path):
    path = tmp_path / "features.toml"
    path.write_text("this is [ not toml\n")
    return path


@pytest.mark.parametrize("case", sorted(ERROR_CASES))
def test_errors_raise_the_cli_exit_class(
    case, cli, tmp_path, broken_model, bad_config, broken_features
):
    exception, code, call, args = ERROR_CASES[case]
    files = {
        "model": str(broken_model),
        "config": str(bad_config),
        "features": str(broken_features),
        "out": str(tmp_path),
    }
    with pytest.raises(exception) as raised:
        call(files)
    assert raised.value.exit_code == code
    assert isinstance(raised.value, strata.StrataError)
    done = cli(*args(files), check=False)
    assert done.returncode == code
    # The message is the CLI's (which may add context in front of it).
    assert str(raised.value) in done.stderr


def test_a_bad_date_is_a_usage_error():
    with pytest.raises(strata.UsageError, match="index_date") as raised:
        strata.features(SAMPLE, "2026-02-30")
    assert (raised.value.exit_code, raised.value.exit_class) == (2, "usage")


def test_an_unknown_table_name_is_an_input_error():
    with pytest.raises(strata.InputError, match="`patient` is not a contract table"):
        strata.features({"patient": pa.table({"person_id": ["a"]})}, INDEX_DATE)


def test_a_non_table_in_the_dict_is_a_usage_error():
    with pytest.raises(strata.UsageError, match="expected an Arrow table"):
        strata.features({"patients": [1, 2, 3]}, INDEX_DATE)


def test_exit_classes_match_the_documented_codes():
    # README "Exit codes".
    assert {
        cls.__name__: (cls.exit_code, cls.exit_class)
        for cls in (strata.UsageError, strata.InputError, strata.SpecError, strata.ModelError,
                    strata.DisclosureError, strata.PublicationError, strata.InternalError)
    } == {
        "UsageError": (2, "usage"),
        "InputError": (10, "input"),
        "SpecError": (11, "spec"),
        "ModelError": (12, "model"),
        "DisclosureError": (13, "disclosure"),
        "PublicationError": (14, "publication"),
        "InternalError": (1, "internal"),
    }


# --- other libraries take the results ------------------------------------------


def test_polars_and_pandas_take_the_results():
    table = strata.run(SAMPLE, as_of=AS_OF, model=MODEL)
    frame = pl.from_arrow(table)
    assert frame.schema["risk"] == pl.Float64
    assert frame.schema["person_id"] == pl.String
    pandas = table.to_pandas()
    assert isinstance(pandas, pd.DataFrame)
    assert pandas.shape == (table.num_rows, table.num_columns)
    assert pandas["risk"].tolist() == frame["risk"].to_list()
    assert pandas["person_id"].tolist() == frame["person_id"].to_list()


# --- NHS numbers -----------------------------------------------------------------


def check_digit(nine: str) -> int:
    """The Modulus 11 check digit of nine digits: weights 10 down to 2,
    11 - remainder, 11 -> 0 (10 means no valid number)."""
    check = 11 - sum(int(d) * w for d, w in zip(nine, range(10, 1, -1))) % 11
    return 0 if check == 11 else check


def nhs_number(serial: int) -> str:
    """A valid NHS number made from `serial`."""
    while True:
        nine = f"{400000000 + serial:09d}"
        if check_digit(nine) != 10:
            return nine + str(check_digit(nine))
        serial += 1_000_000


def test_check_digit_matches_a_published_example():
    # NHS Digital's example number 943 476 5919.
    assert check_digit("943476591") == 9


@pytest.fixture(scope="module")
def nhs_extract(tmp_path_factory):
    """The sample extract with every person_id replaced by an NHS number,
    as a dict of Polars tables and as a folder."""
    tables = {p.stem: pl.read_parquet(p) for p in SAMPLE.glob("*.parquet") if p.stem != "truth"}
    ids = tables["patients"]["person_id"].to_list()
    mapping = pl.DataFrame({"person_id": ids, "nhs": [nhs_number(i) for i in range(len(ids))]})
    for name, frame in tables.items():
        if "person_id" in frame.columns:
            tables[name] = (
                frame.join(mapping, on="person_id", how="left", maintain_order="left")
                .with_columns(pl.col("nhs").alias("person_id"))
                .drop("nhs")
            )
    folder = tmp_path_factory.mktemp("nhs")
    for name, frame in tables.items():
        frame.write_parquet(folder / f"{name}.parquet")
    key = folder / "key"
    key.write_bytes(b"k" * 32)
    return tables, folder, key


def test_nhs_numbers_without_a_key_are_refused(nhs_extract):
    tables, _, _ = nhs_extract
    with pytest.raises(strata.DisclosureError, match="holds NHS numbers") as raised:
        strata.features(tables, INDEX_DATE)
    assert raised.value.exit_code == 13


def test_nhs_numbers_are_pseudonymised_as_the_cli_does(nhs_extract, strata_bin, tmp_path):
    tables, folder, key = nhs_extract
    table = strata.features(tables, INDEX_DATE, pseudonym_key_file=key)
    out = tmp_path / "features.parquet"
    subprocess.run(
        [str(strata_bin), "-q", "features", "--input", str(folder), "--index-date", INDEX_DATE,
         "--out", str(out)],
        env={**os.environ, "STRATA_PSEUDONYM_KEY_FILE": str(key)},
        check=True,
    )
    assert_same(table, pl.read_parquet(out))
    published = set(table.column("person_id").to_pylist())
    assert not published & set(tables["patients"]["person_id"].to_list())
