#!/usr/bin/env python3
"""How much of a published run a dashboard query touches (issue 7, "outputs that read fast").

    python3 benches/read_outputs.py RUN_DIR        # e.g. out/latest, needs `pip install duckdb`

For `patient_risk/` (Hive-partitioned by practice, zstd, full statistics,
128k-row groups) it reports files, row groups and bytes, then runs typical
dashboard queries with DuckDB and reports, for each, the wall time (best of 5,
warm cache), the bytes DuckDB read and the files it opened (from its JSON
profile). For comparison it writes the same rows as one unpartitioned
file, sorted by practice and unsorted, with the same row-group size, and runs
the same queries on them.
"""

import json
import os
import sys
import tempfile
import time

import duckdb


def best_of(con, sql, n=5):
    best = float("inf")
    for _ in range(n):
        t = time.perf_counter()
        con.execute(sql).fetchall()
        best = min(best, time.perf_counter() - t)
    return best


def io_of(con, sql):
    """(bytes read, files opened) for one run of `sql`, from DuckDB's JSON profile."""
    path = tempfile.mktemp(suffix=".json")
    con.execute("PRAGMA enable_profiling='json'")
    con.execute(f"PRAGMA profiling_output='{path}'")
    con.execute(sql).fetchall()
    con.execute("PRAGMA disable_profiling")
    with open(path) as f:
        prof = json.load(f)
    os.unlink(path)
    files = 0

    def walk(node):
        nonlocal files
        info = node.get("extra_info") or {}
        if node.get("type") == "TABLE_SCAN":
            files += int(info.get("Total Files Read", 0) or 0)
        for child in node.get("children", []):
            walk(child)

    for op in prof.get("operator", []):
        walk(op)
    return int(prof.get("io", {}).get("total_bytes_read", 0)), files


def describe(con, glob):
    rg = con.execute(
        f"SELECT count(DISTINCT file_name), count(DISTINCT (file_name, row_group_id)), "
        f"sum(num_values) FILTER (WHERE path_in_schema = 'risk') "
        f"FROM parquet_metadata('{glob}')"
    ).fetchone()
    files = con.execute(f"SELECT count(*) FROM glob('{glob}')").fetchone()[0]
    size = sum(os.path.getsize(f) for (f,) in con.execute(f"SELECT file FROM glob('{glob}')").fetchall())
    return {"files": files, "row_groups": rg[1], "rows": rg[2], "bytes": size}


def main():
    if len(sys.argv) != 2:
        print(__doc__)
        sys.exit(2)
    run = sys.argv[1]
    con = duckdb.connect()
    con.execute("SET threads TO 2")
    part_glob = os.path.join(run, "patient_risk", "*", "*.parquet")
    src = f"read_parquet('{part_glob}', hive_partitioning = true)"
    practice, pcn = con.execute(
        f"SELECT practice_code, pcn_code FROM {src} GROUP BY ALL ORDER BY count(*) DESC LIMIT 1"
    ).fetchone()
    n_practices, n_pcns = con.execute(
        f"SELECT count(DISTINCT practice_code), count(DISTINCT pcn_code) FROM {src}"
    ).fetchone()

    tmp = tempfile.mkdtemp(prefix="strata-read-")
    sorted_file = os.path.join(tmp, "sorted.parquet")
    unsorted_file = os.path.join(tmp, "unsorted.parquet")
    con.execute(
        f"COPY (SELECT * FROM {src} ORDER BY practice_code, risk DESC) TO '{sorted_file}' "
        f"(FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE 131072)"
    )
    con.execute(
        f"COPY (SELECT * FROM {src} ORDER BY hash(person_id)) TO '{unsorted_file}' "
        f"(FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE 131072)"
    )

    layouts = {
        "hive by practice (strata)": (src, part_glob),
        "one file, sorted by practice": (f"read_parquet('{sorted_file}')", sorted_file),
        "one file, unsorted": (f"read_parquet('{unsorted_file}')", unsorted_file),
    }
    queries = {
        "one practice: its list": "SELECT person_id, risk, tier FROM {t} WHERE practice_code = '%s' ORDER BY risk DESC LIMIT 100" % practice,
        "one PCN: tier counts": "SELECT tier, count(*) FROM {t} WHERE pcn_code = '%s' GROUP BY tier" % pcn,
        "whole ICS: tier counts": "SELECT tier, count(*) FROM {t} GROUP BY tier",
    }
    print(f"run: {run}; {n_practices} practices, {n_pcns} PCNs; query practice {practice}, PCN {pcn}")
    print()
    print("| layout | files | row groups | rows | MiB |")
    print("|---|---:|---:|---:|---:|")
    for name, (_, glob) in layouts.items():
        d = describe(con, glob)
        print(f"| {name} | {d['files']} | {d['row_groups']} | {d['rows']:,} | {d['bytes'] / 2**20:.1f} |")
    print()
    print("| query | layout | ms (best of 5) | files opened | MiB read | share of bytes read |")
    print("|---|---|---:|---:|---:|---:|")
    for qname, q in queries.items():
        for lname, (table, glob) in layouts.items():
            sql = q.format(t=table)
            ms = best_of(con, sql) * 1000
            read, files = io_of(con, sql)
            total = describe(con, glob)["bytes"]
            print(f"| {qname} | {lname} | {ms:.1f} | {files} | {read / 2**20:.2f} | {read / total:.1%} |")
    for f in (sorted_file, unsorted_file):
        os.unlink(f)
    os.rmdir(tmp)


if __name__ == "__main__":
    main()
