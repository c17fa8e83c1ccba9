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
