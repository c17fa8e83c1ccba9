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
        vec![("food".into(), "5".into()), ("housing".into(), "<5".into())],
        "the supervisor's branch only; 7 is rounded to 5, 2 is published as <5"
    );
    assert_eq!(
        by_need["total"], "10",
        "9 rounded to a multiple of 5: 9 - 7 would give the cell away"
    );

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
            ("drop_in".into(), "5".into()),
            ("outreach".into(), "10".into())
        ]
    );
    assert_eq!(by_branch["total"], "15");

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
        "group,count,median_days_to_complete\nfood,5,\nhousing,<5,\ntotal,10,\n"
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
    assert_eq!(cells(&by_category), vec![("food".into(), "5".into())]);
    assert_eq!(by_category["total"], "5");
}

/// Contacts on given days of 2026, anonymous, for one need.
async fn contacts_on(
    app: &crate::helpers::TestApp,
    token: &str,
    branch: uuid::Uuid,
    days: &[&str],
) {
    for day in days {
        ok(
            app.post_as(
                "/v1/contacts",
                token,
                &json!({"branch_id": branch, "kind": "outreach", "needs": ["food"],
                        "occurred_at": format!("{day}T12:00:00Z")}),
            )
            .await,
            201,
        )
        .await;
    }
}

#[tokio::test]
async fn statistics_take_whole_calendar_periods_and_cannot_be_differenced() {
    let app = spawn_app().await;
    let main = app.branch("MAIN").await;
    let peer = app.account(Role::Peer, &[main]).await;
    // Eight contacts in October, one on the evening of 5 November.
    contacts_on(&app, &peer.token, main, &["2026-10-02"; 8]).await;
    contacts_on(&app, &peer.token, main, &["2026-11-05"]).await;
    let supervisor = app.account(Role::Supervisor, &[main]).await;
    let total = |period: &'static str| {
        let app = &app;
        let token = supervisor.token.clone();
        async move {
            let v = ok(
                app.get_as(
                    &format!("/v1/stats/contacts?group_by=need&period={period}"),
                    &token,
                )
                .await,
                200,
            )
            .await;
            (v["total"].as_str().unwrap().to_owned(), cells(&v))
        }
    };
    // Every shape of period; each answer is `<5` or a multiple of 5.
    assert_eq!(total("2026-10").await.0, "10", "8 rounded");
    assert_eq!(total("2026-11").await.0, "<5");
    assert_eq!(total("2026-12").await.0, "0");
    let quarter = total("2026-Q4").await;
    assert_eq!(quarter.0, "10", "9 rounded");
    assert_eq!(quarter.1, vec![("food".into(), "10".into())]);
    assert_eq!(total("2026-10..2026-11").await.0, "10");
    assert_eq!(total("2026-11..2026-10").await.0, "10", "either order");
    assert_eq!(total("2026").await.0, "10");
    assert_eq!(total("2025").await.0, "0");
    // October and the quarter differ by one contact; both say 10, so the
    // difference tells nothing.
    assert_eq!(total("2026-10").await.0, total("2026-10..2026-12").await.0);

    // Instants, days and malformed periods are refused, naming `period`.
    for bad in [
        "2026-11-05",
        "2026-11-05T18:00:00Z",
        "2026-13",
        "2026-Q5",
        "2026-11..2026-1",
        "1999",
    ] {
        let resp = app
            .get_as(
                &format!("/v1/stats/contacts?group_by=need&period={bad}"),
                &supervisor.token,
            )
            .await;
        let status = resp.status().as_u16();
        let body: Value = resp.json().await.unwrap();
        assert!(matches!(status, 400 | 422), "{bad}: {status}");
        assert!(
            body.to_string().contains("period"),
            "{bad}: the problem names the parameter: {body}"
        );
    }
    for path in [
        "/v1/stats/referrals?group_by=month&period=2026-13",
        "/v1/stats/incidents?group_by=month&period=2026-11-05",
    ] {
        let resp = app.get_as(path, &supervisor.token).await;
        assert!(matches!(resp.status().as_u16(), 400 | 422), "{path}");
    }

    // Each call is audited with its period, grouping and filters.
    let auditor = app.account(Role::Auditor, &[]).await;
    let events: Value = app
        .get_as(
            &format!(
                "/v1/audit/events?limit=500&action=search&actor_id={}&record_type=contact",
                supervisor.id
            ),
            &auditor.token,
        )
        .await
        .json()
        .await
        .unwrap();
    let asked: Vec<Value> = events["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["outcome"] == "allowed")
        .map(|e| serde_json::from_str(e["query"].as_str().unwrap()).unwrap())
        .collect();
    let quarter = asked
        .iter()
        .find(|q| q["period"] == "2026-Q4")
        .expect("the quarter's call is in the trail");
    assert_eq!(quarter["statistics"], true);
    assert_eq!(quarter["group_by"], "need");
    assert_eq!(quarter["from"], "2026-10-01T00:00:00.000000Z");
    assert_eq!(quarter["to"], "2027-01-01T00:00:00.000000Z");
    assert_eq!(quarter["filters"]["branches"], json!([main]));
    assert!(asked.iter().any(|q| q["period"] == "2026-10..2026-11"));
}
