//! Query plans of the casework reads, lists and searches on SQLite: each
//! must reach its rows through an index, never by scanning a table. The SQL
//! mirrors what the services build (`src/services/*.rs`); PostgreSQL's
//! planner prefers sequential scans on the tiny tables of a test, so its
//! plans are not checked here.

use sea_orm::{ConnectionTrait, DatabaseBackend, Statement};

use crate::helpers::spawn_app;

const QUERIES: &[(&str, &str)] = &[
    ("patron by id", "SELECT * FROM patron WHERE id = x'00'"),
    (
        "patron search (worker scope)",
        "SELECT * FROM patron WHERE (created_by = x'01' OR patron.id IN (SELECT patron_id FROM case_file \
         WHERE owner_id = x'01' OR id IN (SELECT case_id FROM case_member WHERE staff_id = x'01')) \
         OR home_branch_id IN (x'02')) AND patron.id IN (SELECT DISTINCT patron_id FROM patron_name_key \
         WHERE key >= 'ab' AND key < 'ac') AND id > x'00' ORDER BY id LIMIT 51",
    ),
    (
        "patron list (peer scope)",
        "SELECT * FROM patron WHERE (created_by = x'01' OR patron.id IN (SELECT patron_id FROM case_file \
         WHERE owner_id = x'01' OR id IN (SELECT case_id FROM case_member WHERE staff_id = x'01'))) \
         ORDER BY id LIMIT 51",
    ),
    (
        "patron list (supervisor scope)",
        "SELECT * FROM patron WHERE home_branch_id IN (x'02', x'03') ORDER BY id LIMIT 51",
    ),
    (
        "my contacts",
        "SELECT * FROM contact WHERE worker_id = x'01' AND occurred_at >= 'a' AND occurred_at < 'b' \
         AND (occurred_at < 'c' OR (occurred_at = 'c' AND id < x'05')) ORDER BY occurred_at DESC, id DESC LIMIT 51",
    ),
    (
        "caseload",
        "SELECT * FROM case_file WHERE status = 'open' AND (case_file.id IN (SELECT case_id FROM case_member \
         WHERE staff_id = x'01') OR case_file.id IN (SELECT id FROM case_file WHERE owner_id = x'01')) \
         ORDER BY last_activity_at DESC, id DESC LIMIT 51",
    ),
    (
        "team of a case",
        "SELECT staff_id FROM case_member WHERE case_id = x'01'",
    ),
    (
        "caller on a patron's team",
        "SELECT COUNT(*) FROM case_file WHERE patron_id = x'01' AND (case_file.id IN (SELECT case_id FROM \
         case_member WHERE staff_id = x'01') OR case_file.id IN (SELECT id FROM case_file WHERE owner_id = x'01'))",
    ),
    (
        "notes of a case",
        "SELECT * FROM case_note WHERE case_id = x'01' AND sensitivity IN ('standard') AND id > x'00' ORDER BY id LIMIT 51",
    ),
    (
        "consents of a patron",
        "SELECT * FROM consent WHERE patron_id = x'01' ORDER BY id DESC LIMIT 51",
    ),
    (
        "valid consent",
        "SELECT * FROM consent WHERE patron_id = x'01' AND recipient_key = 'harbor' AND revoked_at IS NULL \
         AND given_at <= 'z' ORDER BY given_at DESC",
    ),
    (
        "my follow-ups",
        "SELECT * FROM follow_up WHERE assigned_to = x'01' AND status = 'open' AND due_on <= '2026-12-01' \
         ORDER BY due_on, id LIMIT 51",
    ),
    (
        "overdue follow-ups of a case",
        "SELECT COUNT(*) FROM follow_up WHERE case_id = x'01' AND status = 'open' AND due_on < '2026-11-28'",
    ),
    (
        "audit by patron",
        "SELECT * FROM audit_event WHERE patron_id = x'01' AND seq > 5 ORDER BY seq LIMIT 51",
    ),
    (
        "audit by actor",
        "SELECT * FROM audit_event WHERE actor_id = x'01' AND seq > 5 ORDER BY seq LIMIT 51",
    ),
    (
        "audit by record",
        "SELECT * FROM audit_event WHERE record_id = x'01' ORDER BY seq LIMIT 51",
    ),
];

#[tokio::test]
async fn casework_queries_use_indexes_on_sqlite() {
    let app = spawn_app().await;
    if app.is_postgres() {
        return;
    }
    let mut report = String::new();
    for (name, sql) in QUERIES {
        let rows = app
            .db
            .query_all_raw(Statement::from_string(
                DatabaseBackend::Sqlite,
                format!("EXPLAIN QUERY PLAN {sql}"),
            ))
            .await
            .unwrap();
        report.push_str(&format!("{name}:\n"));
        for row in rows {
            let detail: String = row.try_get("", "detail").unwrap();
            report.push_str(&format!("  {detail}\n"));
            assert!(
                !detail.starts_with("SCAN "),
                "{name} scans a table: {detail}"
            );
        }
    }
    // `cargo test plans -- --nocapture` prints the plans.
    println!("{report}");
}
