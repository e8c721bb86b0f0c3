//! `.env.example` lists every variable the code reads, so an operator never
//! has to read source to configure the system.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// Names passed to a settings lookup or `std::env::var` in the products'
/// sources (tests excluded).
fn variables_read_by_the_code(root: &Path) -> BTreeSet<String> {
    let pattern = regex::Regex::new(
        r#"(?:\.get|\.required|\.parsed_or|\.flag_or|\.list|env::var|env::var_os)\(\s*"([A-Z][A-Z0-9_]{2,})""#,
    )
    .unwrap();
    let mut files = Vec::new();
    for krate in std::fs::read_dir(root.join("crates")).unwrap() {
        let src = krate.unwrap().path().join("src");
        if src.is_dir() {
            rust_files(&src, &mut files);
        }
    }
    let mut names = BTreeSet::new();
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        // Unit tests inside source files set variables of their own.
        let product = text.split("#[cfg(test)]").next().unwrap_or("");
        for capture in pattern.captures_iter(product) {
            names.insert(capture[1].to_owned());
        }
    }
    names
}

#[test]
fn every_variable_the_code_reads_is_listed_in_env_example() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let example = std::fs::read_to_string(root.join(".env.example")).expect(".env.example exists");
    let listed: BTreeSet<String> = example
        .lines()
        .map(|line| line.trim_start_matches('#').trim())
        .filter_map(|line| line.split_once('=').map(|(k, _)| k.trim().to_owned()))
        .collect();
    let read = variables_read_by_the_code(&root);
    assert!(read.len() > 20, "the scan found the settings: {read:?}");
    let missing: Vec<_> = read.difference(&listed).collect();
    assert!(
        missing.is_empty(),
        "variables missing from .env.example: {missing:?}"
    );
}
