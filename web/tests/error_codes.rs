//! Native: the TypeScript union `PetrichainErrorCode` (emitted into the
//! package's .d.ts by web/src/error.rs from `petrichain::ERROR_CODE_TS`) lists
//! exactly the codes a JS error can carry: every literal the core's `code()`
//! functions return, plus the codes this crate's error.rs sets itself.

use std::collections::BTreeSet;

/// The `"CODE"` literals inside the body of `fn code(&self)` in `source`.
fn code_literals(source: &str, file: &str) -> BTreeSet<String> {
    let start = source
        .find("pub fn code(&self)")
        .unwrap_or_else(|| panic!("{file}: no `pub fn code(&self)`"));
    let body = &source[start..];
    let end = body.find("\n    }\n").expect("end of fn code");
    literals(&body[..end])
}

/// Every `"UPPER_CASE"` string literal in `text`.
fn literals(text: &str) -> BTreeSet<String> {
    text.split('"')
        .skip(1)
        .step_by(2)
        .filter(|s| !s.is_empty() && s.chars().all(|c| c.is_ascii_uppercase() || c == '_'))
        .map(str::to_string)
        .collect()
}

#[test]
fn the_union_lists_exactly_the_codes_errors_can_carry() {
    let mut produced = BTreeSet::new();
    for (file, source) in [
        (
            "engine/error.rs",
            include_str!("../../crate/src/engine/error.rs"),
        ),
        (
            "formats/mod.rs",
            include_str!("../../crate/src/formats/mod.rs"),
        ),
        (
            "chain/error.rs",
            include_str!("../../crate/src/chain/error.rs"),
        ),
        (
            "sync/error.rs",
            include_str!("../../crate/src/sync/error.rs"),
        ),
    ] {
        let found = code_literals(source, file);
        assert!(found.len() >= 8, "{file}: only {found:?}");
        produced.extend(found);
    }
    // The analysis errors reuse codes of the others (a replay refusal
    // carries the engine's own code).
    let analysis = code_literals(
        include_str!("../../crate/src/analysis/error.rs"),
        "analysis/error.rs",
    );
    assert!(
        analysis.len() >= 5 && analysis.is_subset(&produced),
        "analysis/error.rs: {analysis:?}"
    );
    // The bindings' own: BAD_ARGUMENT, and INVALID_MODEL for a ModelError.
    let binding = include_str!("../src/error.rs");
    let own = literals(&binding[..binding.find("#[cfg(test)]").unwrap_or(binding.len())]);
    assert!(
        own.contains("BAD_ARGUMENT") && own.contains("INVALID_MODEL"),
        "{own:?}"
    );
    produced.extend(own);

    let listed: BTreeSet<String> = petrichain::ERROR_CODES
        .iter()
        .map(|s| s.to_string())
        .collect();
    assert_eq!(
        listed, produced,
        "petrichain::ERROR_CODES (crate/src/error_codes.rs) must list exactly the codes errors return"
    );
    let mut sorted = petrichain::ERROR_CODES.to_vec();
    sorted.sort_unstable();
    sorted.dedup();
    assert_eq!(sorted, petrichain::ERROR_CODES, "sorted, no duplicates");

    // The TypeScript text is the same list, as a union of literal types.
    let ts = petrichain::ERROR_CODE_TS;
    let union = ts
        .split("export type PetrichainErrorCode =")
        .nth(1)
        .expect("the union's declaration")
        .trim()
        .trim_end_matches(';');
    let members: Vec<&str> = union
        .split('|')
        .map(str::trim)
        .filter(|m| !m.is_empty())
        .collect();
    let quoted: Vec<String> = petrichain::ERROR_CODES
        .iter()
        .map(|c| format!("\"{c}\""))
        .collect();
    assert_eq!(members, quoted);
    assert!(petrichain::is_error_code("NOT_ENABLED"));
    assert!(!petrichain::is_error_code("NOT_A_CODE"));
    // And the bindings emit that text into the .d.ts.
    assert!(binding.contains("petrichain::ERROR_CODE_TS"));
    assert!(binding.contains("code: PetrichainErrorCode;"));
}
