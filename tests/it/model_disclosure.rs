//! The model file, model card, evaluation JSON and evaluation report are
//! shared beyond the analytics team: through the real binary, every count of
//! people or events they publish is withheld (null) or a multiple of 5 that
//! is not 1–7 (the default `opensafely` profile, docs/disclosure-control.md).

use serde_json::Value;

use crate::support::{root, stderr, strata};

/// Keys whose values count people or events, wherever they appear.
const COUNT_KEYS: &[&str] = &[
    "n",
    "events",
    "outcomes",
    "n_train",
    "n_holdout",
    "target",
    "flagged",
    "true_positives",
];

/// Every (path, value) of a count key in `v`.
fn counts(v: &Value, path: &str, out: &mut Vec<(String, Value)>) {
    match v {
        Value::Object(map) => {
            for (k, x) in map {
                let here = format!("{path}.{k}");
                if COUNT_KEYS.contains(&k.as_str()) {
                    out.push((here.clone(), x.clone()));
                }
                counts(x, &here, out);
            }
        }
        Value::Array(items) => {
            for (i, x) in items.iter().enumerate() {
                counts(x, &format!("{path}[{i}]"), out);
            }
        }
        _ => {}
    }
}

/// Fails naming every count that is 1–7 or not a multiple of 5.
fn assert_controlled(what: &str, v: &Value) -> usize {
    let mut found = Vec::new();
    counts(v, "", &mut found);
    let bad: Vec<String> = found
        .iter()
        .filter(|(_, x)| match x {
            Value::Null => false,
            Value::Number(n) => n
                .as_u64()
                .is_none_or(|n| (1..=7).contains(&n) || !n.is_multiple_of(5)),
            _ => true,
        })
        .map(|(p, x)| format!("{p} = {x}"))
        .collect();
    assert!(
        bad.is_empty(),
        "{what} publishes uncontrolled counts: {bad:#?}"
    );
    found.len()
}

/// The cells of columns `columns` (0-based) of every body row of table `id`.
fn table_cells(html: &str, id: &str, columns: &[usize]) -> Vec<String> {
    let start = html
        .find(&format!("id=\"{id}\""))
        .unwrap_or_else(|| panic!("no table {id}"));
    let table = &html[start..start + html[start..].find("</table>").expect("table end")];
    let body = &table[table.find("<tbody>").expect("tbody")..];
    let mut out = Vec::new();
    for row in body.split("<tr").skip(1) {
        let cells: Vec<&str> = row
            .split("<td")
            .skip(1)
            .map(|c| {
                let text = &c[c.find('>').map_or(0, |i| i + 1)..];
                &text[..text.find("</td>").unwrap_or(text.len())]
            })
            .collect();
        for &c in columns {
            if let Some(cell) = cells.get(c) {
                out.push((*cell).to_string());
            }
        }
    }
    out
}

#[test]
fn train_and_evaluate_publish_only_controlled_counts() {
    let dir = tempfile::tempdir().expect("tempdir");
    let model = dir.path().join("m.json");
    // Trained at 2024-03-31 and validated at 2025-03-31, so the file holds
    // a holdout and a temporal evaluation.
    let train = strata(
        &root(),
        &[
            "train",
            "--input",
            "sample-data",
            "--index-date",
            "2024-03-31",
            "--temporal-index-date",
            "2025-03-31",
            "--out",
            model.to_str().expect("utf-8"),
            "--synthetic",
        ],
    );
    assert!(train.status.success(), "{}", stderr(&train));
    let file: Value =
        serde_json::from_str(&std::fs::read_to_string(&model).expect("model")).expect("json");
    assert_eq!(
        file["schema_version"], 2,
        "a controlled model file is version 2"
    );
    let n = assert_controlled("the model file", &file);
    assert!(n > 50, "the walk found the counts ({n})");
    for part in ["evaluation", "temporal_evaluation"] {
        assert_eq!(
            file[part]["disclosure"]["profile"], "opensafely",
            "the model file records the rule its {part} passed"
        );
    }
    // The sample holdout has deciles with 1–7 admissions: withheld, as null.
    let deciles = file["evaluation"]["overall"]["deciles"]
        .as_array()
        .expect("deciles");
    assert!(deciles.iter().any(|d| d["events"].is_null()));
    assert!(
        deciles
            .iter()
            .filter(|d| d["events"].is_null())
            .all(|d| d["observed"].is_null()),
        "a withheld count takes its rate with it"
    );

    let card = std::fs::read_to_string(model.with_extension("card.md")).expect("card");
    assert!(card.contains("disclosure control (opensafely)"), "{card}");

    let json = dir.path().join("evaluation.json");
    let html = dir.path().join("evaluation.html");
    let evaluate = strata(
        &root(),
        &[
            "evaluate",
            "--input",
            "sample-data",
            "--model",
            model.to_str().expect("utf-8"),
            "--index-date",
            "2024-03-31",
            "--out",
            json.to_str().expect("utf-8"),
            "--html",
            html.to_str().expect("utf-8"),
        ],
    );
    assert!(evaluate.status.success(), "{}", stderr(&evaluate));
    let evaluation: Value =
        serde_json::from_str(&std::fs::read_to_string(&json).expect("json")).expect("json");
    assert_controlled("the evaluation JSON", &evaluation);

    let html = std::fs::read_to_string(&html).expect("html");
    let cells: Vec<String> = [
        table_cells(&html, "table-deciles", &[1, 2]),
        table_cells(&html, "table-top-shares", &[1]),
        table_cells(&html, "table-subgroups", &[2, 3]),
    ]
    .concat();
    assert!(cells.len() > 40, "{} count cells", cells.len());
    for cell in &cells {
        if cell == "withheld" {
            continue;
        }
        let n: u64 = cell
            .replace(',', "")
            .parse()
            .unwrap_or_else(|_| panic!("count cell `{cell}` is neither a count nor withheld"));
        assert!(
            !(1..=7).contains(&n) && n.is_multiple_of(5),
            "the HTML report shows an uncontrolled count {n}"
        );
    }
    assert!(cells.iter().any(|c| c == "withheld"));
    assert!(html.contains("Every figure passed disclosure control (opensafely)"));
}
