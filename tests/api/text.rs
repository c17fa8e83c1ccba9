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

#[tokio::test]
async fn values_of_the_wrong_type_bad_dates_and_enums_are_named_all_at_once() {
    let app = spawn_app().await;
    let branch = app.branch("TYPES").await;
    let worker = app.account(Role::SocialWorker, &[branch]).await;
    // A JSON `true` is not a name and numbers are not services.
    let p = assert_problem(
        app.post_as(
            "/v1/patrons",
            &worker.token,
            &json!({"preferred_name": true, "birth_year": "1980", "home_branch_id": branch,
                    "contact_preference": "carrier_pigeon", "birth_date": "1980-13-45"}),
        )
        .await,
        422,
        "validation",
    )
    .await;
    let mut fields: Vec<(String, String)> = p["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["field"].as_str().unwrap().to_owned(),
                e["message"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    fields.sort();
    assert_eq!(
        fields,
        vec![
            ("birth_date".into(), "must be a date, YYYY-MM-DD".into()),
            ("birth_year".into(), "must be of type integer".into()),
            (
                "contact_preference".into(),
                "must be one of: phone, text_message, email, in_person, mail".into()
            ),
            ("preferred_name".into(), "must be of type string".into()),
        ],
        "{p}"
    );
    assert!(
        !p.to_string().contains("carrier_pigeon"),
        "values are not echoed"
    );

    let p = assert_problem(
        app.post_as(
            "/v1/contacts",
            &worker.token,
            &json!({"branch_id": branch, "kind": "bogus", "services_given": [1, 2],
                    "id": "0192f0c1-7a2b-4c3d-8e4f-0123456789ab"}),
        )
        .await,
        422,
        "validation",
    )
    .await;
    let fields: std::collections::BTreeSet<&str> = p["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(
        fields,
        ["id", "kind", "services_given/0", "services_given/1"]
            .into_iter()
            .collect(),
        "{p}"
    );
    // Nothing was stored on the way.
    let mine: Value = app
        .get_as("/v1/me/contacts", &worker.token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(mine["items"], json!([]));

    // A malformed If-Match is a bad parameter; a missing one is 428.
    let p = assert_problem(
        app.patch_as(
            &format!("/v1/patrons/{}", uuid::Uuid::now_v7()),
            &worker.token,
            "\"not-a-version\"",
            &json!({"language": "es"}),
        )
        .await,
        400,
        "invalid-parameter",
    )
    .await;
    assert_eq!(p["errors"][0]["field"], "If-Match");
    assert_eq!(
        p["errors"][0]["message"],
        "must be an ETag returned by a read"
    );
}
