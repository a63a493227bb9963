//! ICD-10 codes as hospital data writes them, normalised for prefix matching.

/// Normalises an ICD-10 code for prefix matching: upper case, with dots,
/// spaces, dagger (`†`, `+`) and asterisk (`*`) marks removed, and trailing
/// filler characters (`X`, `-`) after the three-character category dropped.
///
/// `e11.2` → `E112`, `R69X` → `R69`, `A17.0†` → `A170`, `G01*` → `G01`.
pub fn normalise_icd10(code: &str) -> String {
    let mut out: String = code
        .chars()
        .filter(|c| !matches!(c, '.' | ' ' | '†' | '*' | '+' | '\t'))
        .flat_map(char::to_uppercase)
        .collect();
    while out.len() > 3 && (out.ends_with('X') || out.ends_with('-')) {
        out.pop();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::normalise_icd10;

    #[test]
    fn dots_and_case_are_removed() {
        assert_eq!(normalise_icd10("e11.2"), "E112");
        assert_eq!(normalise_icd10("I21.0"), "I210");
        assert_eq!(normalise_icd10(" I50 "), "I50");
    }

    #[test]
    fn x_fillers_after_the_category_are_dropped() {
        assert_eq!(normalise_icd10("R69X"), "R69");
        assert_eq!(normalise_icd10("I10X"), "I10");
        assert_eq!(normalise_icd10("R69.X"), "R69");
        assert_eq!(normalise_icd10("I10-"), "I10");
    }

    #[test]
    fn dagger_and_asterisk_marks_are_dropped() {
        assert_eq!(normalise_icd10("A17.0†"), "A170");
        assert_eq!(normalise_icd10("G01*"), "G01");
        assert_eq!(normalise_icd10("A170+"), "A170");
    }

    #[test]
    fn short_codes_keep_their_letters() {
        // A category is three characters: never strip into it.
        assert_eq!(normalise_icd10("X59"), "X59");
        assert_eq!(normalise_icd10("XX"), "XX");
    }
}
