//! Break-glass, from grant to review, and its refusals.

use casework::domain::Role;
use serde_json::{Value, json};

use crate::helpers::{TestApp, assert_problem, spawn_app};

async fn post(app: &TestApp, path: &str, token: &str, body: Value) -> reqwest::Response {
    app.post_as(path, token, &body).await
}

fn sensitivities(notes: &Value) -> Vec<&str> {
    notes["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["sensitivity"].as_str().unwrap())
        .collect()
}

#[tokio::test]
async fn a_grant_opens_one_case_for_a_while_and_auditors_review_it() {
    let app = spawn_app().await;
    let main = app.branch("MAIN").await;
    let east = app.branch("EAST").await;
    let worker = app.account(Role::SocialWorker, &[main]).await;
    let peer = app.account(Role::Peer, &[main]).await;
    let staff = app.account(Role::Staff, &[east]).await;
    let main_supervisor = app.account(Role::Supervisor, &[main]).await;
    let mut supervisor = app.account(Role::Supervisor, &[east]).await;
    let mut auditor = app.account(Role::Auditor, &[]).await;
    let made: Value = post(
        &app,
        "/v1/patrons",
        &worker.token,
        json!({"preferred_name": "Lee Invented", "home_branch_id": main}),
    )
    .await
    .json()
    .await
    .unwrap();
    let patron = made["patron"]["id"].as_str().unwrap().to_owned();
    let case: Value = post(
        &app,
        "/v1/cases",
        &worker.token,
        json!({"patron_id": patron}),
    )
    .await
    .json()
    .await
    .unwrap();
    let case_id = case["id"].as_str().unwrap().to_owned();
    for (body, sensitivity) in [
        ("A standard note.", "standard"),
        ("A restricted note.", "restricted"),
    ] {
        let resp = post(
            &app,
            &format!("/v1/cases/{case_id}/notes"),
            &worker.token,
            json!({"body": body, "sensitivity": sensitivity}),
        )
        .await;
        assert_eq!(resp.status(), 201);
    }
    let read = |token: &str| {
        let (app, path, token) = (&app, format!("/v1/cases/{case_id}"), token.to_owned());
        async move { app.get_as(&path, &token).await.status().as_u16() }
    };
    let notes = |token: &str| {
        let (app, path, token) = (&app, format!("/v1/cases/{case_id}/notes"), token.to_owned());
        async move { app.get_as(&path, &token).await }
    };
    let reason = "Family member called the EAST desk about an urgent housing loss.";
    let open = |token: &str, body: Value| {
        let (app, token) = (&app, token.to_owned());
        async move { app.post_as("/v1/break-glass", &token, &body).await }
    };
    assert_eq!(
        read(&supervisor.token).await,
        404,
        "outside the supervisor's scope"
    );

    // Nobody but supervisors breaks glass, and nobody else learns whether
    // the case exists: a real and a missing case answer alike.
    for who in [&worker, &peer, &staff, &auditor] {
        let mut seen = Vec::new();
        for id in [case_id.to_string(), uuid::Uuid::now_v7().to_string()] {
            let resp = open(
                &who.token,
                json!({"case_id": id, "reason": reason, "hours": 2}),
            )
            .await;
            let mut body = assert_problem(resp, 403, "forbidden").await;
            body.as_object_mut().unwrap().remove("request_id");
            seen.push(body);
        }
        assert_eq!(seen[0], seen[1]);
    }
    // A reason of at least 20 characters; at most 8 hours.
    let resp = open(
        &supervisor.token,
        json!({"case_id": case_id, "reason": "Too short.", "hours": 2}),
    )
    .await;
    assert_eq!(
        assert_problem(resp, 422, "validation").await["errors"][0]["field"],
        "reason"
    );
    let resp = open(
        &supervisor.token,
        json!({"case_id": case_id, "reason": reason, "hours": 9}),
    )
    .await;
    assert_problem(resp, 422, "validation").await;
    // A case in scope needs no grant.
    let resp = open(
        &main_supervisor.token,
        json!({"case_id": case_id, "reason": reason, "hours": 2}),
    )
    .await;
    assert_problem(resp, 409, "conflict").await;

    // The reason is free text: words in it open nothing.
    let resp = open(
        &supervisor.token,
        json!({"case_id": case_id, "hours": 2,
               "reason": "Family emergency: standard notes only, not restricted ones."}),
    )
    .await;
    assert_eq!(resp.status(), 201);
    let grant: Value = resp.json().await.unwrap();
    assert_eq!(grant["restricted_notes"], false);
    assert_eq!(read(&supervisor.token).await, 200, "opened by the grant");
    let resp = notes(&supervisor.token).await;
    assert_eq!(resp.status(), 200);
    assert_eq!(
        sensitivities(&resp.json().await.unwrap()),
        vec!["standard"],
        "restricted stay closed"
    );
    // Not extended: a second grant while one is open is refused.
    let resp = open(
        &supervisor.token,
        json!({"case_id": case_id, "reason": reason, "hours": 8}),
    )
    .await;
    assert_problem(resp, 409, "conflict").await;

    // Two hours later (on the service's clock) the grant has ended: the
    // case is closed again.
    app.state
        .clock
        .advance(chrono::Duration::hours(2) + chrono::Duration::seconds(1));
    // The access tokens expired with it; the devices refresh them.
    app.refresh(&mut supervisor).await;
    app.refresh(&mut auditor).await;
    assert_eq!(
        read(&supervisor.token).await,
        404,
        "an expired grant opens nothing"
    );

    // A new grant that asks for the restricted notes opens them too.
    let resp = open(
        &supervisor.token,
        json!({"case_id": case_id, "include_restricted_notes": true,
        "reason": "Court order received this morning for the whole file.", "hours": 1}),
    )
    .await;
    assert_eq!(resp.status(), 201);
    let second: Value = resp.json().await.unwrap();
    assert_eq!(second["restricted_notes"], true);
    let resp = notes(&supervisor.token).await;
    let mut seen = sensitivities(&resp.json().await.unwrap())
        .into_iter()
        .map(str::to_owned)
        .collect::<Vec<_>>();
    seen.sort();
    assert_eq!(seen, vec!["restricted", "standard"]);

    // Auditors: every use flagged, the grants awaiting review, a review each.
    let t = auditor.token.as_str();
    let flagged: Value = app
        .get_as(
            &format!(
                "/v1/audit/events?break_glass=true&actor_id={}",
                supervisor.id
            ),
            t,
        )
        .await
        .json()
        .await
        .unwrap();
    let rules: Vec<(&str, &str)> = flagged["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["action"].as_str().unwrap(), e["rule"].as_str().unwrap()))
        .collect();
    assert!(
        rules.contains(&("break_glass", "supervisor_breaks_glass")),
        "{rules:?}"
    );
    assert!(rules.contains(&("read", "break_glass")), "{rules:?}");
    assert!(
        rules
            .iter()
            .all(|(a, r)| *a == "break_glass" || *r == "break_glass")
    );
    let waiting: Value = app
        .get_as("/v1/break-glass?reviewed=false", t)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(waiting["items"].as_array().unwrap().len(), 2);
    let anomalies: Value = app
        .get_as("/v1/audit/anomalies?kind=break_glass_unreviewed", t)
        .await
        .json()
        .await
        .unwrap();
    let rows = anomalies["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 2);
    let first = rows.iter().find(|r| r["grant_id"] == grant["id"]).unwrap();
    assert_eq!(first["actor_id"], supervisor.id.to_string());
    assert!(
        first["count"].as_u64().unwrap() >= 3,
        "the grant and the reads it allowed: {first}"
    );

    let gid = grant["id"].as_str().unwrap();
    let resp = post(
        &app,
        &format!("/v1/break-glass/{gid}/review"),
        t,
        json!({"comment": "Confirmed with the EAST manager; justified."}),
    )
    .await;
    assert_eq!(resp.status(), 200);
    let reviewed: Value = resp.json().await.unwrap();
    assert_eq!(reviewed["reviewed_by"], auditor.id.to_string());
    let resp = post(
        &app,
        &format!("/v1/break-glass/{gid}/review"),
        t,
        json!({"comment": "Again."}),
    )
    .await;
    assert_problem(resp, 409, "conflict").await;
    let waiting: Value = app
        .get_as("/v1/break-glass?reviewed=false", t)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(waiting["items"].as_array().unwrap().len(), 1);
    // Supervisors neither list nor review grants.
    assert_problem(
        app.get_as("/v1/break-glass", &supervisor.token).await,
        403,
        "forbidden",
    )
    .await;
    let resp = post(
        &app,
        &format!("/v1/break-glass/{gid}/review"),
        &supervisor.token,
        json!({"comment": "Mine is fine."}),
    )
    .await;
    assert_problem(resp, 403, "forbidden").await;
}
