//! The wall in the layout: `casework` and `safety` never import each other,
//! no source file names tables of both, and services never reach up into
//! the HTTP layer or the application's start-up.

use std::path::{Path, PathBuf};

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("read src") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

fn sources() -> Vec<(String, String)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&root, &mut files);
    files
        .into_iter()
        .map(|p| {
            let rel = p
                .strip_prefix(&root)
                .unwrap()
                .to_string_lossy()
                .replace('\\', "/");
            (rel, std::fs::read_to_string(&p).unwrap())
        })
        .collect()
}

/// Entity modules on each side of the wall (safety's arrive with its issue).
const CASEWORK_TABLES: &[&str] = &[
    "patron",
    "patron_name_key",
    "contact",
    "case_file",
    "case_member",
    "case_note",
    "consent",
    "follow_up",
];
const SAFETY_TABLES: &[&str] = &["incident", "suspension", "support_request"];

fn names_table(src: &str, table: &str) -> bool {
    let bytes = src.as_bytes();
    let mut from = 0;
    while let Some(i) = src[from..].find(table) {
        let at = from + i;
        let before = at.checked_sub(1).map(|j| bytes[j] as char);
        let word_start = before.is_none_or(|c| !(c.is_ascii_alphanumeric() || c == '_'));
        if word_start && src[at + table.len()..].starts_with("::") {
            return true;
        }
        from = at + table.len();
    }
    false
}

#[test]
fn casework_and_safety_never_import_each_other() {
    for (path, src) in sources() {
        if path.starts_with("casework/") {
            assert!(!src.contains("safety::"), "{path} reaches into safety");
        }
        if path.starts_with("safety/") {
            assert!(!src.contains("casework::"), "{path} reaches into casework");
        }
    }
}

#[test]
fn no_source_file_names_tables_of_both_sides() {
    for (path, src) in sources() {
        let casework = CASEWORK_TABLES.iter().any(|t| names_table(&src, t));
        let safety = SAFETY_TABLES.iter().any(|t| names_table(&src, t));
        assert!(!(casework && safety), "{path} names tables of both sides");
    }
    // The check itself sees what it should.
    assert!(names_table(
        "use entities::{case_note, incident};\nincident::Entity",
        "incident"
    ));
    assert!(!names_table("coincident::x", "incident"));
}

#[test]
fn services_never_import_the_http_layer_or_start_up() {
    for (path, src) in sources() {
        let is_service = ["casework/", "directory/", "oversight/", "auth/", "safety/"]
            .iter()
            .any(|d| path.starts_with(d))
            && !path.contains("api");
        if !is_service {
            continue;
        }
        for forbidden in ["crate::http", "crate::startup", "api::", "poem"] {
            assert!(
                !src.contains(forbidden),
                "{path} imports `{forbidden}`: services must not depend on the API"
            );
        }
    }
}
