//! Mandated reports: their author and the branch's supervisors read them;
//! everyone else gets the answer a missing id gets; every access is audited
//! for the purpose `mandated_reporting`.

use casework::domain::Role;
use chrono::{Duration, Utc};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::{assert_problem, spawn_app};

async fn ok(resp: reqwest::Response, status: u16) -> Value {
    let got = resp.status().as_u16();
    let text = resp.text().await.unwrap();
    assert_eq!(got, status, "{text}");
    serde_json::from_str(&text).unwrap()
}

#[tokio::test]
async fn a_report_is_read_by_its_author_and_supervisors_only() {
    let app = spawn_app().await;
    let main = app.branch("MAIN").await;
    let east = app.branch("EAST").await;
    let author = app.account(Role::SocialWorker, &[main]).await;
    let peer = app.account(Role::Peer, &[main]).await;
    let patron = ok(
        app.post_as(
            "/v1/patrons",
            &author.token,
            &json!({"preferred_name": "Kit Invented", "home_branch_id": main}),
        )
        .await,
        201,
    )
    .await["patron"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let case = ok(
        app.post_as("/v1/cases", &author.token, &json!({"patron_id": patron}))
            .await,
        201,
    )
    .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    // The peer is on the case team, and still never sees the report.
    let resp = app
        .client
        .post(app.url(&format!("/v1/cases/{case}/team")))
        .bearer_auth(&author.token)
        .header("If-Match", "\"1\"")
        .json(&json!({"staff_id": peer.id}))
        .send()
        .await
        .unwrap();
    ok(resp, 200).await;

    let learned = (Utc::now() - Duration::hours(3)).to_rfc3339();
    let report = ok(
        app.post_as(
            "/v1/mandated-reports",
            &author.token,
            &json!({"patron_id": patron, "case_id": case, "kind": "child_protective_services",
                    "agency": "County DSS (invented)", "learned_at": learned,
                    "persons_concerned": "A child of about six, alone in the children's room.",
                    "what_was_reported": "Left alone for three hours.\nNo adult answered the page."}),
        )
        .await,
        201,
    )
    .await;
    assert_eq!(report["status"], "draft");
    let id = report["id"].as_str().unwrap().to_owned();
    let path = format!("/v1/mandated-reports/{id}");
    let move_to = |version: i64, body: Value| {
        app.client
            .post(app.url(&format!("{path}/transitions")))
            .bearer_auth(&author.token)
            .header("If-Match", format!("\"{version}\""))
            .json(&body)
            .send()
    };
    // Acknowledged needs when and how it was reported, and the intake number.
    let p = assert_problem(
        move_to(1, json!({"to": "acknowledged"})).await.unwrap(),
        422,
        "validation",
    )
    .await;
    let fields: Vec<&str> = p["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, vec!["reported_at", "reported_how", "intake_number"]);
    let p = assert_problem(
        move_to(1, json!({"to": "closed"})).await.unwrap(),
        409,
        "conflict",
    )
    .await;
    assert_eq!(
        p["errors"][0]["message"],
        "must be one of: submitted, acknowledged"
    );
    let acked = ok(
        move_to(
            1,
            json!({"to": "acknowledged", "reported_at": Utc::now().to_rfc3339(),
                   "reported_how": "phone", "intake_number": "INV-2026-0042"}),
        )
        .await
        .unwrap(),
        200,
    )
    .await;
    assert_eq!(acked["status"], "acknowledged");
    assert_eq!(acked["intake_number"], "INV-2026-0042");
    let closed = ok(move_to(2, json!({"to": "closed"})).await.unwrap(), 200).await;
    assert_eq!(closed["status"], "closed");

    // The author and the branch's supervisor read it.
    ok(app.get_as(&path, &author.token).await, 200).await;
    let supervisor = app.account(Role::Supervisor, &[main]).await;
    ok(app.get_as(&path, &supervisor.token).await, 200).await;
    let listed = ok(
        app.get_as(
            &format!("/v1/mandated-reports?patron_id={patron}"),
            &supervisor.token,
        )
        .await,
        200,
    )
    .await;
    assert_eq!(listed["items"][0]["id"], id.as_str());

    // Everyone else: exactly what a missing id gets.
    let missing_path = format!("/v1/mandated-reports/{}", Uuid::now_v7());
    let others = [
        peer.clone(),
        app.account(Role::SocialWorker, &[main]).await,
        app.account(Role::Supervisor, &[east]).await,
        app.account(Role::Staff, &[main]).await,
        app.account(Role::Security, &[main]).await,
        app.account(Role::Auditor, &[]).await,
        app.admin().await.clone(),
    ];
    for who in &others {
        let hidden = assert_problem(app.get_as(&path, &who.token).await, 404, "not-found").await;
        let missing = assert_problem(
            app.get_as(&missing_path, &who.token).await,
            404,
            "not-found",
        )
        .await;
        assert_eq!(hidden["detail"], missing["detail"], "{:?}", who.role);
        assert_eq!(hidden["title"], missing["title"]);
    }
    // A patron's view shows the report only to those who may read it.
    let colleague = &others[1];
    let theirs = ok(
        app.get_as(
            &format!("/v1/mandated-reports?patron_id={patron}"),
            &colleague.token,
        )
        .await,
        200,
    )
    .await;
    assert_eq!(theirs["items"], json!([]));
    assert_problem(
        app.get_as("/v1/mandated-reports", &peer.token).await,
        403,
        "forbidden",
    )
    .await;

    // Every access is audited for the purpose of mandated reporting.
    let auditor = &others[5];
    let events = ok(
        app.get_as(
            &format!("/v1/audit/events?record_id={id}&limit=100"),
            &auditor.token,
        )
        .await,
        200,
    )
    .await;
    let events = events["items"].as_array().unwrap();
    assert!(events.len() >= 6 + others.len(), "{}", events.len());
    assert!(
        events.iter().all(|e| e["purpose"] == "mandated_reporting"),
        "{events:?}"
    );
    assert!(
        events
            .iter()
            .any(|e| e["outcome"] == "denied" && e["actor_id"] == peer.id.to_string())
    );
}
