//! The layering rule, checked: a module may use modules of a lower layer,
//! never one of its own layer or a higher one. The layers are written once,
//! in the module table of `docs/architecture.md` (rows `| 3 | `features` | … |`),
//! which this test reads, so the document and the check cannot drift apart.
//!
//! Every `src/**/*.rs` is scanned for `crate::<module>` paths, including
//! groups (`use crate::{a, b::c}`); `super::` stays inside a module and is
//! always fine. Items the crate root re-exports (`crate::Error`) count as
//! uses of the module they come from. The crate root (`lib.rs`, `main.rs`)
//! and this file are not checked; the binary (`cli`) reaches the library as
//! `strata::`, so it is the top layer by construction.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// A use of a module that is not below the user.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Violation {
    file: String,
    line: usize,
    from: String,
    to: String,
}

impl std::fmt::Display for Violation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}:{}: `{}` uses `crate::{}`, which is not in a lower layer",
            self.file, self.line, self.from, self.to
        )
    }
}

/// The layer of each module, from the rows of the table whose first cell is
/// a number and whose second names a module in backquotes.
fn layers_from_doc(doc: &str) -> BTreeMap<String, u32> {
    let mut out = BTreeMap::new();
    for line in doc.lines() {
        let cells: Vec<&str> = line.trim().split('|').map(str::trim).collect();
        // "| 3 | `features` | …": cells[0] is empty (before the first bar).
        if cells.len() < 3 || !cells[0].is_empty() {
            continue;
        }
        let Ok(layer) = cells[1].parse::<u32>() else {
            continue;
        };
        let name = cells[2].trim_matches('`');
        if !name.is_empty() && name.chars().all(|c| c.is_ascii_lowercase() || c == '_') {
            out.insert(name.to_string(), layer);
        }
    }
    out
}

/// The names the crate root re-exports, and the module each comes from
/// (`pub use pipeline::error::{Error, Result};` gives `Error → pipeline`).
fn root_reexports(lib: &str) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for statement in lib.split(';') {
        let Some(rest) = statement.trim().strip_prefix("pub use ") else {
            continue;
        };
        let module = rest.split("::").next().unwrap_or_default().trim();
        let names = match (rest.find('{'), rest.rfind('}')) {
            (Some(a), Some(b)) if a < b => rest[a + 1..b].split(',').collect(),
            _ => vec![rest.rsplit("::").next().unwrap_or_default()],
        };
        for name in names {
            let name = name.split(" as ").last().unwrap_or_default().trim();
            if !name.is_empty() {
                out.insert(name.to_string(), module.to_string());
            }
        }
    }
    out
}

/// The first path segment after each `crate::` in `text`, with its line;
/// a group `crate::{a, b::{c, d}}` gives `a` and `b`.
fn crate_paths(text: &str) -> Vec<(usize, String)> {
    let bytes = text.as_bytes();
    let line_of = |at: usize| text[..at].matches('\n').count() + 1;
    let ident = |from: usize| -> String {
        text[from..]
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect()
    };
    let mut out = Vec::new();
    for (at, _) in text.match_indices("crate::") {
        // Not `$crate::`, `my_crate::`, `strata_crate::`.
        if at > 0 {
            let before = bytes[at - 1];
            if before == b'$' || before == b'_' || before == b':' || before.is_ascii_alphanumeric()
            {
                continue;
            }
        }
        let start = at + "crate::".len();
        if bytes.get(start) == Some(&b'{') {
            let mut depth = 0usize;
            let mut item_start = start + 1;
            for (i, &b) in bytes.iter().enumerate().skip(start) {
                match b {
                    b'{' => depth += 1,
                    b'}' | b',' if depth == 1 => {
                        let item = &text[item_start..i];
                        let offset = item_start + (item.len() - item.trim_start().len());
                        let name = ident(offset);
                        if !name.is_empty() {
                            out.push((line_of(offset), name));
                        }
                        item_start = i + 1;
                        if b == b'}' {
                            break;
                        }
                    }
                    b'}' => depth -= 1,
                    _ => {}
                }
            }
        } else {
            let name = ident(start);
            if !name.is_empty() {
                out.push((line_of(at), name));
            }
        }
    }
    out
}

/// The top-level module a source file belongs to (`src/model/score.rs` →
/// `model`, `src/usage.rs` → `usage`); `None` for the crate roots.
fn module_of(relative: &Path) -> Option<String> {
    let first = relative.components().next()?.as_os_str().to_str()?;
    let name = first.strip_suffix(".rs").unwrap_or(first);
    (!matches!(name, "lib" | "main")).then(|| name.to_string())
}

/// Every upward (or sideways) use in `files` (path relative to `src/`, text).
fn violations(
    files: &[(PathBuf, String)],
    layers: &BTreeMap<String, u32>,
    reexports: &BTreeMap<String, String>,
) -> Vec<Violation> {
    let mut out = Vec::new();
    for (path, text) in files {
        let Some(from) = module_of(path) else {
            continue;
        };
        let Some(&own) = layers.get(&from) else {
            continue;
        };
        for (line, first) in crate_paths(text) {
            let to = match layers.get(&first) {
                Some(_) => first,
                None => match reexports.get(&first) {
                    Some(module) => module.clone(),
                    // A name the root itself defines (`crate::VERSION`).
                    None => continue,
                },
            };
            if to == from {
                continue;
            }
            let below = layers.get(&to).is_some_and(|&theirs| theirs < own);
            if !below {
                out.push(Violation {
                    file: format!("src/{}", path.display()),
                    line,
                    from: from.clone(),
                    to,
                });
            }
        }
    }
    out
}

fn rust_files(dir: &Path, root: &Path, out: &mut Vec<(PathBuf, String)>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .expect("src/ is readable")
        .map(|e| e.expect("directory entry").path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            rust_files(&path, root, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            let text = std::fs::read_to_string(&path).expect("source is UTF-8");
            let relative = path.strip_prefix(root).expect("under src/").to_path_buf();
            out.push((relative, text));
        }
    }
}

#[test]
fn no_module_uses_a_later_layer() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let doc = std::fs::read_to_string(root.join("docs/architecture.md")).expect("architecture doc");
    let layers = layers_from_doc(&doc);
    let src = root.join("src");
    let lib = std::fs::read_to_string(src.join("lib.rs")).expect("lib.rs");
    let mut files = Vec::new();
    rust_files(&src, &src, &mut files);
    files.retain(|(path, _)| path != Path::new("layers.rs"));
    // Every top-level module has a layer, so a new one cannot slip past.
    let unplaced: Vec<String> = files
        .iter()
        .filter_map(|(path, _)| module_of(path))
        .filter(|m| !layers.contains_key(m))
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    assert!(
        unplaced.is_empty(),
        "modules without a layer in docs/architecture.md: {unplaced:?}"
    );
    let found = violations(&files, &layers, &root_reexports(&lib));
    let listed: Vec<String> = found.iter().map(ToString::to_string).collect();
    assert!(found.is_empty(), "upward imports:\n{}", listed.join("\n"));
}

#[test]
fn the_table_gives_each_module_its_layer() {
    let doc = "| layer | module | does |\n|---|---|---|\n| 0 | `error` | x |\n| 2 | `ingest` | y |\n| `features` | 3 | not a layer row |\n";
    let layers = layers_from_doc(doc);
    assert_eq!(layers.len(), 2);
    assert_eq!(layers["error"], 0);
    assert_eq!(layers["ingest"], 2);
}

#[test]
fn an_upward_import_is_named_and_a_downward_one_passes() {
    let layers: BTreeMap<String, u32> = [("ingest", 1), ("model", 2), ("report", 3)]
        .into_iter()
        .map(|(m, l)| (m.to_string(), l))
        .collect();
    let reexports =
        root_reexports("pub use report::write::{Report, Page as P};\npub use ingest::Extract;");
    let files = vec![
        (
            PathBuf::from("model/score.rs"),
            // line 1 down (fine), line 2 up, line 3 up through a group, line 4
            // up through a root re-export, line 5 inside the module (fine).
            "use crate::ingest::Extract;\nuse crate::report::Page;\nuse crate::{ingest::PID,\n    report::html};\nfn f(_: crate::P) {}\nuse crate::model::Term;\n"
                .to_string(),
        ),
        (
            PathBuf::from("report/mod.rs"),
            "use crate::{model::{self, Term}, ingest};\nlet _ = crate::Extract::new;\n".to_string(),
        ),
        (PathBuf::from("lib.rs"), "pub use report::Report;\nuse crate::report;".to_string()),
    ];
    let found = violations(&files, &layers, &reexports);
    let named: Vec<String> = found.iter().map(ToString::to_string).collect();
    assert_eq!(
        named,
        [
            "src/model/score.rs:2: `model` uses `crate::report`, which is not in a lower layer",
            "src/model/score.rs:4: `model` uses `crate::report`, which is not in a lower layer",
            "src/model/score.rs:5: `model` uses `crate::report`, which is not in a lower layer",
        ]
    );
}

#[test]
fn a_module_may_not_use_one_of_its_own_layer() {
    let layers: BTreeMap<String, u32> = [("features", 3), ("governance", 3)]
        .into_iter()
        .map(|(m, l)| (m.to_string(), l))
        .collect();
    let files = vec![(
        PathBuf::from("governance/opt_out.rs"),
        "use crate::features::KEY_COLUMNS;\nmacro_rules! m { () => { $crate::features::X } }\n"
            .to_string(),
    )];
    let found = violations(&files, &layers, &BTreeMap::new());
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].line, 1);
    assert_eq!(found[0].to, "features");
}
