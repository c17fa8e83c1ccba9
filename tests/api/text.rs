//! Long text may span lines; names stay on one line.

use casework::domain::Role;
use serde_json::{Value, json};

use crate::helpers::{assert_problem, spawn_app};

#[tokio::test]
async fn a_case_note_keeps_its_line_breaks_and_a_name_refuses_them() {
    let app = spawn_app().await;
    let branch = app.branch("TEXT").await;
    let worker = app.account(Role::SocialWorker, &[branch]).await;
    let refused = app
        .post_as(
            "/v1/patrons",
            &worker.token,
            &json!({"preferred_name": "Lina\nMadeup", "home_branch_id": branch}),
        )
        .await;
    let p = assert_problem(refused, 422, "validation").await;
    assert!(p["errors"].to_string().contains("preferred_name"), "{p}");

    let patron: Value = app
        .post_as(
            "/v1/patrons",
            &worker.token,
            &json!({"preferred_name": "Lina Madeup", "home_branch_id": branch}),
        )
        .await
        .json()
        .await
        .unwrap();
    let case: Value = app
        .post_as(
            "/v1/cases",
            &worker.token,
            &json!({"patron_id": patron["patron"]["id"], "summary": "Housing.\r\nBenefits."}),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(case["summary"], "Housing.\nBenefits.");
    let case_id = case["id"].as_str().unwrap();
    let body = "Called the shelter.\r\n\t- bed from Monday\n\t- bring ID";
    let note = app
        .post_as(
            &format!("/v1/cases/{case_id}/notes"),
            &worker.token,
            &json!({"body": body}),
        )
        .await;
    assert_eq!(note.status(), 201);
    let note: Value = note.json().await.unwrap();
    assert_eq!(
        note["body"],
        "Called the shelter.\n\t- bed from Monday\n\t- bring ID"
    );
    // Other control characters are still refused.
    let bell = app
        .post_as(
            &format!("/v1/cases/{case_id}/notes"),
            &worker.token,
            &json!({"body": "ring\u{7}"}),
        )
        .await;
    assert_problem(bell, 422, "validation").await;
}
