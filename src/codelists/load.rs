//! Code-list files: CSV with a header naming the columns `code` (required),
//! `description` (or `term`), `category` and `weight` (optional); other
//! columns (e.g. `source`) are kept out of the way. Lines that are blank or
//! start with `#` are skipped. Fields may be double-quoted, with `""` for a
//! quote inside.
//!
//! The same parser reads the built-in lists (compiled in) and users' own
//! lists (by path), so a user list is checked as strictly as ours: every
//! error names the file, the line and the column.
//!
//! Matching (docs/codelists.md): ICD-10 by prefix after normalisation,
//! SNOMED CT by exact concept id, BNF by prefix. A code can match several
//! entries (a list may put one code in several categories).

use std::collections::HashMap;
use std::path::Path;

use super::SpecError;
use super::code::{BnfCode, CodeSystem, Icd10Code, Icd10Key, SnomedCode, snomed_id};

/// One line of a code list.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    /// The code as matched: normalised ICD-10 prefix, SNOMED CT id, or upper-case BNF prefix.
    pub code: String,
    pub description: String,
    /// Index into [`Codelist::categories`], when the list has a `category` column.
    pub category: Option<usize>,
    /// The entry's weight, when the list has a `weight` column.
    pub weight: Option<f64>,
    /// 1-based line in the file, for messages.
    pub line: usize,
}

/// A parsed, validated code list in one code system.
#[derive(Debug, Clone)]
pub struct Codelist {
    origin: String,
    system: CodeSystem,
    categories: Vec<String>,
    entries: Vec<Entry>,
    /// SNOMED CT only: (concept id, entry index), sorted, for binary search.
    snomed: Vec<(u64, usize)>,
}

impl Codelist {
    /// Reads and validates a code-list file.
    pub fn load(path: &Path, system: CodeSystem) -> Result<Codelist, SpecError> {
        let text = std::fs::read_to_string(path).map_err(|e| SpecError::Codelist {
            path: path.display().to_string(),
            reason: format!("cannot be read: {e}"),
        })?;
        Codelist::parse(&text, &path.display().to_string(), system)
    }

    /// Parses and validates code-list text; `origin` names it in errors.
    pub fn parse(text: &str, origin: &str, system: CodeSystem) -> Result<Codelist, SpecError> {
        let err = |line: usize, column: &str, reason: String| SpecError::CodelistEntry {
            path: origin.to_string(),
            line,
            column: column.to_string(),
            reason,
        };
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        let mut lines = text
            .lines()
            .enumerate()
            .map(|(i, l)| (i + 1, l.trim_end_matches('\r')))
            .filter(|(_, l)| !l.trim().is_empty() && !l.starts_with('#'));
        let Some((header_line, header)) = lines.next() else {
            return Err(SpecError::Codelist {
                path: origin.to_string(),
                reason: "is empty (expected a header line with at least a `code` column)".into(),
            });
        };
        let names: Vec<String> = split_csv(header)
            .map_err(|r| err(header_line, "header", r))?
            .into_iter()
            .map(|h| h.trim().to_ascii_lowercase())
            .collect();
        let find = |wanted: &[&str]| names.iter().position(|n| wanted.contains(&n.as_str()));
        let Some(code_col) = find(&["code"]) else {
            return Err(err(
                header_line,
                "code",
                format!("no `code` column (columns found: {})", names.join(", ")),
            ));
        };
        let desc_col = find(&["description", "term"]);
        let cat_col = find(&["category"]);
        let weight_col = find(&["weight"]);

        let mut list = Codelist {
            origin: origin.to_string(),
            system,
            categories: Vec::new(),
            entries: Vec::new(),
            snomed: Vec::new(),
        };
        let mut category_ids: HashMap<String, usize> = HashMap::new();
        let mut seen: HashMap<(String, Option<usize>), usize> = HashMap::new();
        for (line, text) in lines {
            let fields = split_csv(text).map_err(|r| err(line, "-", r))?;
            if fields.len() != names.len() {
                let column = names
                    .get(fields.len())
                    .map_or("-", String::as_str)
                    .to_string();
                return Err(err(
                    line,
                    &column,
                    format!(
                        "has {} fields, the header has {} ({})",
                        fields.len(),
                        names.len(),
                        names.join(", ")
                    ),
                ));
            }
            let raw = fields[code_col].trim();
            let code = validate_code(system, raw).map_err(|r| err(line, "code", r))?;
            let category = match cat_col {
                Some(c) => {
                    let name = fields[c].trim();
                    if name.is_empty() {
                        return Err(err(line, "category", "is empty".into()));
                    }
                    let next = category_ids.len();
                    let id = *category_ids.entry(name.to_string()).or_insert(next);
                    if id == next {
                        list.categories.push(name.to_string());
                    }
                    Some(id)
                }
                None => None,
            };
            let weight = match weight_col {
                Some(c) => {
                    let w = fields[c].trim();
                    match w.parse::<f64>() {
                        Ok(v) if v.is_finite() => Some(v),
                        _ => {
                            return Err(err(line, "weight", format!("`{w}` is not a number")));
                        }
                    }
                }
                None => None,
            };
            if let Some(first) = seen.insert((code.clone(), category), line) {
                return Err(err(
                    line,
                    "code",
                    format!("`{raw}` is listed twice in the same category (first at line {first})"),
                ));
            }
            list.entries.push(Entry {
                code,
                description: desc_col
                    .map(|c| fields[c].trim().to_string())
                    .unwrap_or_default(),
                category,
                weight,
                line,
            });
        }
        if list.entries.is_empty() {
            return Err(SpecError::Codelist {
                path: origin.to_string(),
                reason: "has a header but no codes".into(),
            });
        }
        if system == CodeSystem::Snomed {
            list.snomed = list
                .entries
                .iter()
                .enumerate()
                .filter_map(|(i, e)| e.code.parse::<u64>().ok().map(|id| (id, i)))
                .collect();
            list.snomed.sort_unstable();
        }
        Ok(list)
    }

    /// Where the list came from (a path, or `built-in:<file>`).
    pub fn origin(&self) -> &str {
        &self.origin
    }

    pub fn system(&self) -> CodeSystem {
        self.system
    }

    /// The distinct category names, in order of first appearance.
    pub fn categories(&self) -> &[String] {
        &self.categories
    }

    /// The index of a category name.
    pub fn category_index(&self, name: &str) -> Option<usize> {
        self.categories.iter().position(|c| c == name)
    }

    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Whether `code` (as an extract writes it) matches any entry.
    pub fn matches(&self, code: &str) -> bool {
        let mut any = false;
        self.for_each_match(code, |_| any = true);
        any
    }

    /// Calls `f` with every entry that `code` matches, without allocating.
    pub fn for_each_match<'a>(&'a self, code: &str, mut f: impl FnMut(&'a Entry)) {
        match self.system {
            CodeSystem::Icd10 => {
                let Some(key) = Icd10Key::new(code) else {
                    return;
                };
                let key = key.as_str();
                if key.is_empty() {
                    return;
                }
                self.entries
                    .iter()
                    .filter(|e| key.starts_with(e.code.as_str()))
                    .for_each(f);
            }
            CodeSystem::Snomed => {
                let Some(id) = snomed_id(code) else {
                    return;
                };
                let start = self.snomed.partition_point(|(c, _)| *c < id);
                self.snomed[start..]
                    .iter()
                    .take_while(|(c, _)| *c == id)
                    .for_each(|(_, i)| f(&self.entries[*i]));
            }
            CodeSystem::Bnf => {
                let code = code.trim();
                self.entries
                    .iter()
                    .filter(|e| {
                        code.len() >= e.code.len()
                            && code.as_bytes()[..e.code.len()]
                                .eq_ignore_ascii_case(e.code.as_bytes())
                    })
                    .for_each(f);
            }
        }
    }

    /// The entries `code` matches (allocates the result; for tests and reports).
    pub fn matching(&self, code: &str) -> Vec<&Entry> {
        let mut out = Vec::new();
        self.for_each_match(code, |e| out.push(e));
        out
    }

    /// The categories `code` falls in, as a bitset over category indices
    /// (lists with at most 64 categories; later categories are ignored).
    pub fn category_set(&self, code: &str) -> u64 {
        let mut set = 0u64;
        self.for_each_match(code, |e| {
            if let Some(c) = e.category.filter(|c| *c < 64) {
                set |= 1 << c;
            }
        });
        set
    }
}

/// Validates one code of a list in `system` and returns it in matching form.
fn validate_code(system: CodeSystem, raw: &str) -> Result<String, String> {
    if raw.is_empty() {
        return Err("is empty".into());
    }
    match system {
        CodeSystem::Icd10 => raw
            .parse::<Icd10Code>()
            .map(|c| c.as_str().to_string())
            .map_err(|e| e.to_string()),
        CodeSystem::Snomed => raw
            .parse::<SnomedCode>()
            .map(|c| c.to_string())
            .map_err(|e| e.to_string()),
        CodeSystem::Bnf => raw
            .parse::<BnfCode>()
            .map(|c| c.as_str().to_string())
            .map_err(|e| e.to_string()),
    }
}

/// Splits one CSV line: commas separate fields; a field may be enclosed in
/// double quotes, inside which commas are literal and `""` is one quote.
pub(crate) fn split_csv(line: &str) -> Result<Vec<String>, String> {
    let mut fields = Vec::new();
    let mut field = String::new();
    let mut chars = line.chars().peekable();
    let mut quoted = false;
    let mut at_start = true;
    while let Some(c) = chars.next() {
        match c {
            '"' if quoted => {
                if chars.peek() == Some(&'"') {
                    chars.next();
                    field.push('"');
                } else {
                    quoted = false;
                }
            }
            '"' if at_start => quoted = true,
            ',' if !quoted => {
                fields.push(std::mem::take(&mut field));
                at_start = true;
                continue;
            }
            _ => field.push(c),
        }
        at_start = false;
    }
    if quoted {
        return Err("has an opening double quote without its closing quote".into());
    }
    fields.push(field);
    Ok(fields)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn icd(text: &str) -> Codelist {
        Codelist::parse(text, "test.csv", CodeSystem::Icd10).unwrap()
    }

    fn error(text: &str, system: CodeSystem) -> String {
        Codelist::parse(text, "my/list.csv", system)
            .unwrap_err()
            .to_string()
    }

    #[test]
    fn icd10_entries_match_by_prefix_after_normalisation() {
        let list =
            icd("code,description\nI50,Heart failure\nI110,Hypertensive heart disease with HF\n");
        for hit in ["I50", "I500", "i50.9", "I50X", "I11.0", "I110X"] {
            assert!(list.matches(hit), "{hit}");
        }
        for miss in ["I5", "I11", "I111", "E11", "", "50"] {
            assert!(!list.matches(miss), "{miss}");
        }
    }

    #[test]
    fn snomed_entries_match_by_exact_concept_id() {
        let list = Codelist::parse(
            "code,term\n84114007,Heart failure\n",
            "t",
            CodeSystem::Snomed,
        )
        .unwrap();
        assert!(list.matches("84114007"));
        assert!(list.matches(" 84114007 "));
        // No prefix matching for SNOMED: a longer id is another concept.
        assert!(!list.matches("841140071"));
        assert!(!list.matches("8411400"));
        assert!(!list.matches("heart failure"));
    }

    #[test]
    fn bnf_entries_match_by_prefix_at_any_level() {
        // 0205051R0 is the chemical substance ramipril; 0212 the lipid-regulating section.
        let list = Codelist::parse(
            "code,description,category\n0205051R0,Ramipril,ace_inhibitor\n0212,Lipid-regulating drugs,lipid\n02,Cardiovascular system,cvs\n",
            "t",
            CodeSystem::Bnf,
        )
        .unwrap();
        let ramipril_5mg = "0205051R0AAACAC";
        assert_eq!(
            list.category_set(ramipril_5mg),
            0b101,
            "substance and chapter"
        );
        assert_eq!(
            list.category_set("0212000B0AAABAB"),
            0b110,
            "section and chapter"
        );
        assert_eq!(
            list.category_set("0205051r0aaacac"),
            0b101,
            "case-insensitive"
        );
        assert_eq!(list.category_set("0301011R0AAAPAP"), 0);
        assert_eq!(
            list.category_set("0205051"),
            0b100,
            "too short for the substance"
        );
    }

    #[test]
    fn categories_and_weights_are_read() {
        let list = icd(
            "code,description,category,weight\nI50,HF,chf,7\nI48,AF,carit,5\nI500,HF,chf,7\n# a comment\n\n",
        );
        assert_eq!(list.categories(), ["chf", "carit"]);
        assert_eq!(list.len(), 3);
        assert_eq!(list.entries()[1].weight, Some(5.0));
        assert_eq!(list.category_set("I500"), 0b01);
        assert_eq!(list.matching("I500").len(), 2);
        assert_eq!(list.category_index("carit"), Some(1));
    }

    #[test]
    fn quoted_fields_keep_their_commas_and_quotes() {
        assert_eq!(
            split_csv(r#"I10,"Hypertension, essential",x"#).unwrap(),
            ["I10", "Hypertension, essential", "x"]
        );
        assert_eq!(
            split_csv(r#"1,"say ""hi""""#).unwrap(),
            ["1", r#"say "hi""#]
        );
        assert!(split_csv(r#"1,"open"#).is_err());
    }

    #[test]
    fn errors_name_the_file_line_and_column() {
        let e = error(
            "code,description\nI50,ok\nI5O,letter O\n",
            CodeSystem::Icd10,
        );
        assert!(
            e.starts_with("code list my/list.csv, line 3, column `code`"),
            "{e}"
        );
        assert!(e.contains("not an ICD-10 code"), "{e}");

        let e = error("code,weight\nI50,seven\n", CodeSystem::Icd10);
        assert!(
            e.contains("line 2, column `weight`: `seven` is not a number"),
            "{e}"
        );

        let e = error("code,description,category\nI50,HF\n", CodeSystem::Icd10);
        assert!(
            e.contains("line 2, column `category`: has 2 fields, the header has 3"),
            "{e}"
        );

        let e = error("description\nHF\n", CodeSystem::Icd10);
        assert!(e.contains("line 1, column `code`: no `code` column"), "{e}");

        let e = error("code\n84114008\n", CodeSystem::Snomed);
        assert!(
            e.contains("line 2, column `code`") && e.contains("check digit"),
            "{e}"
        );

        let e = error("code,category\nI50,chf\nI50,chf\n", CodeSystem::Icd10);
        assert!(e.contains("line 3") && e.contains("first at line 2"), "{e}");

        let e = error("code,category\nI50,\n", CodeSystem::Icd10);
        assert!(e.contains("line 2, column `category`: is empty"), "{e}");

        assert!(error("", CodeSystem::Icd10).contains("is empty"));
        assert!(error("code\n", CodeSystem::Icd10).contains("no codes"));
    }

    #[test]
    fn a_list_loads_from_a_path_and_a_missing_file_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("frailty.csv");
        std::fs::write(&path, "\u{feff}code,term\r\n161898004,Falls\r\n").unwrap();
        let list = Codelist::load(&path, CodeSystem::Snomed).unwrap();
        assert!(list.matches("161898004"));
        let missing = dir.path().join("nope.csv");
        let e = Codelist::load(&missing, CodeSystem::Snomed)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("nope.csv") && e.contains("cannot be read"),
            "{e}"
        );
    }
}
