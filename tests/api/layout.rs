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

/// Tables on each side of the wall (the entity modules share their names).
const CASEWORK_TABLES: &[&str] = &[
    "patron",
    "patron_name_key",
    "contact",
    "case_file",
    "case_member",
    "case_note",
    "consent",
    "follow_up",
    "referral",
    "referral_event",
    "mandated_report",
    "support_link",
    "break_glass",
];
const SAFETY_TABLES: &[&str] = &["incident", "incident_amendment", "suspension"];
/// The door: a support request holds copies, never a key into either side.
const BRIDGE_TABLES: &[&str] = &["support_request"];
/// Shared by both sides: the directory, the audit trail, the kernel's own.
const KERNEL_TABLES: &[&str] = &[
    "branch",
    "staff",
    "staff_branch",
    "device_session",
    "refresh_token",
    "login_throttle",
    "sso_flow",
    "sso_ticket",
    "audit_event",
    "audit_event_patron",
    "audit_reader_day",
    "audit_reader_day_patron",
    "audit_flag",
    "audit_rollup_backfill",
    "audit_checkpoint_mark",
    "sync_holding",
    "change_log",
    "idempotency_record",
    "service",
    "training",
    "certification",
    "rule",
    "seaql_migrations",
];

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
            // `entities::safety::` too: safety's tables live in that module.
            assert!(!src.contains("safety::"), "{path} reaches into safety");
            assert!(!src.contains("support::"), "{path} reaches into the door");
        }
        if path.starts_with("safety/") {
            assert!(!src.contains("casework::"), "{path} reaches into casework");
            assert!(!src.contains("support::"), "{path} reaches into the door");
        }
        // A tablet's copy is of casework (and the door's inbox): never of
        // security's records.
        if path.starts_with("sync/") {
            assert!(!src.contains("safety::"), "{path} reaches into safety");
        }
        // Shared by both sides, so it depends on neither.
        if path.starts_with("training/") || path == "stats.rs" {
            assert!(!src.contains("casework::"), "{path} reaches into casework");
            assert!(!src.contains("safety::"), "{path} reaches into safety");
        }
    }
}

#[test]
fn the_door_names_no_table_of_either_side() {
    for (path, src) in sources() {
        if path.starts_with("support/") {
            for t in CASEWORK_TABLES.iter().chain(SAFETY_TABLES) {
                assert!(!names_table(&src, t), "{path} names the table {t}");
            }
        }
    }
}

/// Every foreign key in the migrated schema stays on one side of the wall
/// (or points at the shared directory), and every table is placed on a side.
#[tokio::test]
async fn no_foreign_key_crosses_the_wall() {
    use sea_orm::{ConnectionTrait, Statement};
    let app = crate::helpers::spawn_app().await;
    let backend = app.db.get_database_backend();
    let (tables_sql, keys_sql) = if app.is_postgres() {
        (
            "SELECT table_name AS t FROM information_schema.tables WHERE table_schema = 'public'",
            "SELECT tc.table_name AS t, ccu.table_name AS r
               FROM information_schema.table_constraints tc
               JOIN information_schema.constraint_column_usage ccu
                 ON tc.constraint_name = ccu.constraint_name
              WHERE tc.constraint_type = 'FOREIGN KEY'",
        )
    } else {
        (
            "SELECT name AS t FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'",
            "SELECT m.name AS t, p.\"table\" AS r
               FROM sqlite_master m JOIN pragma_foreign_key_list(m.name) p
              WHERE m.type = 'table'",
        )
    };
    let side = |t: &str| -> &'static str {
        if CASEWORK_TABLES.contains(&t) {
            "casework"
        } else if SAFETY_TABLES.contains(&t) {
            "safety"
        } else if BRIDGE_TABLES.contains(&t) {
            "bridge"
        } else if KERNEL_TABLES.contains(&t) {
            "kernel"
        } else {
            panic!("table {t} is on no side of the wall: add it to tests/api/layout.rs")
        }
    };
    let tables = app
        .db
        .query_all_raw(Statement::from_string(backend, tables_sql))
        .await
        .unwrap();
    assert!(tables.len() > 20, "the schema is there");
    for row in tables {
        side(&row.try_get::<String>("", "t").unwrap());
    }
    let keys = app
        .db
        .query_all_raw(Statement::from_string(backend, keys_sql))
        .await
        .unwrap();
    let mut seen = 0;
    for row in keys {
        let (from, to): (String, String) =
            (row.try_get("", "t").unwrap(), row.try_get("", "r").unwrap());
        let (a, b) = (side(&from), side(&to));
        assert!(
            a == b || b == "kernel",
            "{from} ({a}) has a foreign key to {to} ({b})"
        );
        seen += 1;
    }
    assert!(seen > 10, "the keys are read");
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
        let is_service = [
            "casework/",
            "directory/",
            "oversight/",
            "auth/",
            "safety/",
            "support/",
        ]
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

/// Where each top-level module of `src/` stands. A module imports only
/// those below it (and its own layer where the layer allows it):
///
/// - the kernel, which every part uses and which uses no part;
/// - the shared domains, the library's people, services and training, which
///   both sides of the wall use;
/// - the two sides, casework and safety, which never import each other;
/// - the bridges, which stand on both sides by design: the door (support
///   requests), the tablet's copy (sync) and the auditors' review
///   (oversight);
/// - the root: the composition of every domain's endpoints (`app`), and
///   what runs it (start-up, the connection loop, the command line, the
///   first start, the demo library).
const KERNEL: &[&str] = &[
    "access",
    "audit",
    "auth",
    "clock",
    "config",
    "credentials",
    "db",
    "domain",
    "error",
    "http",
    "idempotency",
    "oidc",
    "paging",
    "private",
    "scope",
    "state",
    "stats",
    "telemetry",
    "text",
    "unit",
];
const SHARED: &[&str] = &["directory", "training"];
const SIDES: &[&str] = &["casework", "safety"];
const BRIDGES: &[&str] = &["support", "sync", "oversight"];
const ROOT: &[&str] = &[
    "app",
    "startup",
    "server",
    "cli",
    "backup",
    "first_start",
    "demo",
    "web",
];

fn layer(module: &str) -> Option<usize> {
    [KERNEL, SHARED, SIDES, BRIDGES, ROOT]
        .iter()
        .position(|l| l.contains(&module))
}

/// The source without comments (a comment may name any module).
fn code_of(src: &str) -> String {
    src.lines()
        .map(|l| match l.find("//") {
            // A `//` inside a string literal (a URL) is rare in this code;
            // cutting there only loses what follows on that line.
            Some(i) => &l[..i],
            None => l,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The top-level modules a source file names through `crate::`, including
/// inside a grouped `use crate::{a::b, c}`.
fn crate_imports(src: &str) -> std::collections::BTreeSet<String> {
    let code = code_of(src);
    let mut found = std::collections::BTreeSet::new();
    let mut rest = code.as_str();
    while let Some(i) = rest.find("crate::") {
        rest = &rest[i + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            // The first segment of each top-level entry of the group.
            let mut depth = 0;
            let mut entry = String::new();
            for c in group.chars() {
                match c {
                    '{' => depth += 1,
                    '}' if depth == 0 => break,
                    '}' => depth -= 1,
                    ',' if depth == 0 => {
                        found.insert(first_segment(&entry));
                        entry.clear();
                        continue;
                    }
                    _ => {}
                }
                if depth == 0 {
                    entry.push(c);
                }
            }
            found.insert(first_segment(&entry));
        } else {
            found.insert(first_segment(rest));
        }
    }
    found.remove("");
    found
}

fn first_segment(s: &str) -> String {
    s.trim_start()
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
        .collect()
}

fn top_module(path: &str) -> String {
    path.split('/')
        .next()
        .unwrap_or(path)
        .trim_end_matches(".rs")
        .to_owned()
}

/// Module to the modules it imports, drawn from every file of `src/`.
fn import_graph() -> std::collections::BTreeMap<String, std::collections::BTreeSet<String>> {
    let mut graph = std::collections::BTreeMap::<String, std::collections::BTreeSet<String>>::new();
    for (path, src) in sources() {
        let from = top_module(&path);
        if from == "lib" || from == "main" {
            continue;
        }
        let entry = graph.entry(from.clone()).or_default();
        for to in crate_imports(&src) {
            if to != from {
                entry.insert(to);
            }
        }
    }
    graph
}

#[test]
fn every_module_stands_in_one_layer_and_imports_only_below() {
    let graph = import_graph();
    for (from, tos) in &graph {
        let Some(from_layer) = layer(from) else {
            panic!("src/{from} is in no layer: place it in tests/api/layout.rs");
        };
        for to in tos {
            let Some(to_layer) = layer(to) else {
                continue; // a name that is not a module of src (a macro path)
            };
            let allowed = match from_layer {
                // The kernel and the shared domains: only the kernel.
                0 | 1 => to_layer == 0,
                // A side: the kernel and the shared domains, never the
                // other side.
                2 => to_layer < 2,
                // A bridge: any domain, and the door.
                3 => to_layer < 3 || to == "support",
                // The root: anything.
                _ => true,
            };
            assert!(
                allowed,
                "src/{from} imports {to}, which does not stand below it"
            );
        }
    }
    // Only the root assembles the endpoints.
    for (from, tos) in &graph {
        if tos.contains("app") {
            assert_eq!(
                layer(from),
                Some(4),
                "src/{from} imports the composition root"
            );
        }
    }
    // The check sees grouped imports and ignores comments.
    let seen = crate_imports("use crate::{a::{b, c}, d};\n// crate::e\nlet x = crate::f::g;");
    assert_eq!(
        seen.into_iter().collect::<Vec<_>>(),
        ["a", "d", "f"].map(String::from)
    );
}

#[test]
fn the_kernel_has_no_circle() {
    let graph = import_graph();
    let kernel: std::collections::BTreeMap<&str, Vec<&str>> = graph
        .iter()
        .filter(|(m, _)| KERNEL.contains(&m.as_str()))
        .map(|(m, tos)| {
            (
                m.as_str(),
                tos.iter()
                    .map(String::as_str)
                    .filter(|t| KERNEL.contains(t))
                    .collect(),
            )
        })
        .collect();
    // Depth-first search; a module met again on the current path closes a
    // circle, which is named in full.
    fn visit<'a>(
        m: &'a str,
        kernel: &std::collections::BTreeMap<&'a str, Vec<&'a str>>,
        path: &mut Vec<&'a str>,
        done: &mut std::collections::BTreeSet<&'a str>,
    ) {
        if let Some(at) = path.iter().position(|p| *p == m) {
            let mut circle = path[at..].to_vec();
            circle.push(m);
            panic!("a circle in the kernel: {}", circle.join(" -> "));
        }
        if !done.insert(m) {
            return;
        }
        path.push(m);
        for to in kernel.get(m).into_iter().flatten() {
            visit(to, kernel, path, done);
        }
        path.pop();
    }
    let mut done = std::collections::BTreeSet::new();
    for m in kernel.keys() {
        visit(m, &kernel, &mut Vec::new(), &mut done);
    }
}
