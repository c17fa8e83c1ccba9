//! Program statistics: counts without personal data, small cells suppressed,
//! for supervisors and admins only.

use casework::domain::Role;
use serde_json::{Value, json};

use crate::helpers::{assert_problem, spawn_app};

async fn ok(resp: reqwest::Response, status: u16) -> Value {
    let got = resp.status().as_u16();
    let text = resp.text().await.unwrap();
    assert_eq!(got, status, "{text}");
    serde_json::from_str(&text).unwrap()
}

fn cells(v: &Value) -> Vec<(String, String)> {
    v["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["group"].as_str().unwrap().to_owned(),
                r["count"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

#[tokio::test]
async fn statistics_suppress_small_cells_and_refuse_other_roles() {
    let app = spawn_app().await;
    let main = app.branch("MAIN").await;
    let east = app.branch("EAST").await;
    let peer = app.account(Role::Peer, &[main]).await;
    let worker = app.account(Role::SocialWorker, &[main]).await;
    let east_peer = app.account(Role::Peer, &[east]).await;
    // Seven anonymous food contacts, two for housing, at MAIN; some at EAST.
    for need in std::iter::repeat_n("food", 7).chain(std::iter::repeat_n("housing", 2)) {
        let needs = json!([need]);
        ok(
            app.post_as(
                "/v1/contacts",
                &peer.token,
                &json!({"branch_id": main, "kind": "outreach", "needs": needs}),
            )
            .await,
            201,
        )
        .await;
    }
    for _ in 0..6 {
        ok(
            app.post_as(
                "/v1/contacts",
                &east_peer.token,
                &json!({"branch_id": east, "kind": "drop_in", "needs": ["legal"]}),
            )
            .await,
            201,
        )
        .await;
    }
    let supervisor = app.account(Role::Supervisor, &[main]).await;
    let by_need = ok(
        app.get_as("/v1/stats/contacts?group_by=need", &supervisor.token)
            .await,
        200,
    )
    .await;
    assert_eq!(
        cells(&by_need),
        vec![("food".into(), "7".into()), ("housing".into(), "<5".into())],
        "the supervisor's branch only; 2 is published as <5"
    );
    assert_eq!(
        by_need["total"], "10",
        "9 rounded: 9 - 7 would give the cell away"
    );
    assert_eq!(by_need["total_rounded"], true);

    // Admins see every branch.
    let admin = app.admin().await.token.clone();
    let by_branch = ok(
        app.get_as("/v1/stats/contacts?group_by=kind", &admin).await,
        200,
    )
    .await;
    assert_eq!(
        cells(&by_branch),
        vec![
            ("drop_in".into(), "6".into()),
            ("outreach".into(), "9".into())
        ]
    );
    assert_eq!(by_branch["total"], "15");
    assert_eq!(by_branch["total_rounded"], false);

    // As CSV.
    let csv = app
        .client
        .get(app.url("/v1/stats/contacts?group_by=need"))
        .bearer_auth(&supervisor.token)
        .header("Accept", "text/csv")
        .send()
        .await
        .unwrap();
    assert_eq!(csv.status(), 200);
    assert!(
        csv.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/csv")
    );
    let text = csv.text().await.unwrap();
    assert_eq!(
        text,
        "group,count,median_days_to_complete\nfood,7,\nhousing,<5,\ntotal,10,\n"
    );

    for who in [
        &peer,
        &worker,
        &app.account(Role::Security, &[main]).await,
        &app.account(Role::Auditor, &[]).await,
        &app.account(Role::Staff, &[main]).await,
    ] {
        for path in [
            "/v1/stats/contacts?group_by=need",
            "/v1/stats/referrals?group_by=status",
        ] {
            assert_problem(app.get_as(path, &who.token).await, 403, "forbidden").await;
        }
    }
}

#[tokio::test]
async fn referral_statistics_give_the_median_days_to_complete() {
    let app = spawn_app().await;
    let main = app.branch("MAIN").await;
    let worker = app.account(Role::SocialWorker, &[main]).await;
    let patron = ok(
        app.post_as(
            "/v1/patrons",
            &worker.token,
            &json!({"preferred_name": "Rae Invented", "home_branch_id": main}),
        )
        .await,
        201,
    )
    .await["patron"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let requested_at = (chrono::Utc::now() - chrono::Duration::days(10)).to_rfc3339();
    for i in 0..6 {
        let r = ok(
            app.post_as(
                "/v1/referrals",
                &worker.token,
                &json!({"patron_id": patron, "recipient": "Invented pantry", "needs": ["food"]}),
            )
            .await,
            201,
        )
        .await;
        let id = r["id"].as_str().unwrap().to_owned();
        let moves = [
            json!({"to": "requested", "occurred_at": requested_at}),
            json!({"to": "received"}),
            json!({"to": "accepted"}),
            json!({"to": "in_progress"}),
            json!({"to": "completed", "outcome": "got_help"}),
        ];
        let n = if i < 5 { moves.len() } else { 1 };
        for (v, body) in moves.iter().take(n).enumerate() {
            let resp = app
                .client
                .post(app.url(&format!("/v1/referrals/{id}/transitions")))
                .bearer_auth(&worker.token)
                .header("If-Match", format!("\"{}\"", v + 1))
                .json(body)
                .send()
                .await
                .unwrap();
            ok(resp, 200).await;
        }
    }
    let supervisor = app.account(Role::Supervisor, &[main]).await;
    let by_status = ok(
        app.get_as("/v1/stats/referrals?group_by=status", &supervisor.token)
            .await,
        200,
    )
    .await;
    assert_eq!(
        cells(&by_status),
        vec![
            ("completed".into(), "5".into()),
            ("requested".into(), "<5".into())
        ]
    );
    let completed = &by_status["rows"][0];
    assert_eq!(completed["median_days_to_complete"], 10.0);
    assert!(
        by_status["rows"][1]
            .get("median_days_to_complete")
            .is_none()
    );
    let by_category = ok(
        app.get_as("/v1/stats/referrals?group_by=category", &supervisor.token)
            .await,
        200,
    )
    .await;
    assert_eq!(cells(&by_category), vec![("food".into(), "6".into())]);
    assert_eq!(by_category["total"], "6");
}
