//! One clock: moving the service's clock moves every rule of time and every
//! stamp together, as seen through the HTTP API.

use casework::domain::Role;
use chrono::{DateTime, Duration, Utc};
use serde_json::{Value, json};

use crate::helpers::{TestApp, spawn_app};

async fn made(resp: reqwest::Response, status: u16) -> Value {
    let got = resp.status().as_u16();
    let text = resp.text().await.unwrap();
    assert_eq!(got, status, "{text}");
    serde_json::from_str(&text).unwrap()
}

fn id(v: &Value) -> String {
    v["id"].as_str().unwrap().to_owned()
}

fn ids(page: &Value) -> Vec<String> {
    page["items"].as_array().unwrap().iter().map(id).collect()
}

fn time(v: &Value) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(v.as_str().unwrap())
        .unwrap()
        .with_timezone(&Utc)
}

async fn get(app: &TestApp, path: &str, token: &str) -> Value {
    made(app.get_as(path, token).await, 200).await
}

/// Notes a rule that did not move with the clock; the test fails at the end
/// naming every one of them.
fn expect(stuck: &mut Vec<String>, moved: bool, rule: &str) {
    if !moved {
        stuck.push(rule.to_owned());
    }
}

#[tokio::test]
async fn moving_the_clock_moves_every_time_rule_together() {
    let app = spawn_app().await;
    let main = app.branch("MAIN").await;
    let east = app.branch("EAST").await;
    let admin = app.admin().await.token.clone();
    let mut worker = app.account(Role::SocialWorker, &[main]).await;
    let mut staff = app.account(Role::Staff, &[main]).await;
    let mut security = app.account(Role::Security, &[]).await;
    let mut supervisor = app.account(Role::Supervisor, &[main]).await;
    let mut outsider = app.account(Role::Supervisor, &[east]).await;
    let mut auditor = app.account(Role::Auditor, &[]).await;
    let today = app.state.clock.now().date_naive();
    let week = (today + Duration::days(7)).to_string();

    // Everything made now, each rule still on its "before" side.
    let patron = made(
        app.post_as(
            "/v1/patrons",
            &worker.token,
            &json!({"preferred_name": "Quinn Invented", "home_branch_id": main}),
        )
        .await,
        201,
    )
    .await;
    let patron = id(&patron["patron"]);
    let case = id(&made(
        app.post_as("/v1/cases", &worker.token, &json!({"patron_id": patron}))
            .await,
        201,
    )
    .await);

    let incident = made(
        app.post_as(
            "/v1/incidents",
            &staff.token,
            &json!({"branch_id": main, "occurred_at": app.state.clock.now().to_rfc3339(),
                    "category": "disturbance",
                    "description": "Raised voices at the desk (invented).",
                    "action_taken": "warning"}),
        )
        .await,
        201,
    )
    .await;
    let incident_etag = format!("\"{}\"", incident["version"]);
    let incident = id(&incident);

    let ends = (app.state.clock.now() + Duration::days(30)).to_rfc3339();
    let suspension = id(&made(
        app.post_as(
            "/v1/suspensions",
            &security.token,
            &json!({"person": "Invented Person", "scope": "branch", "branch_id": main,
                    "ends_at": ends, "reason": "Repeated threats (invented).",
                    "notified_how": "letter"}),
        )
        .await,
        201,
    )
    .await);
    let active_path = format!("/v1/branches/{main}/suspensions/active");
    let active = get(&app, &active_path, &staff.token).await;
    assert_eq!(active["items"][0]["person"], "Invented Person");

    made(
        app.post_as(
            "/v1/break-glass",
            &outsider.token,
            &json!({"case_id": case, "hours": 8,
                    "reason": "A relative called the east branch about an emergency."}),
        )
        .await,
        201,
    )
    .await;
    let case_path = format!("/v1/cases/{case}");
    assert_eq!(
        app.get_as(&case_path, &outsider.token).await.status(),
        200,
        "opened by the grant"
    );

    let follow_up = made(
        app.post_as(
            "/v1/follow-ups",
            &worker.token,
            &json!({"case_id": case, "due_on": week}),
        )
        .await,
        201,
    )
    .await;
    assert_eq!(follow_up["overdue"], false);
    let follow_up = id(&follow_up);

    let referral = made(
        app.post_as(
            "/v1/referrals",
            &worker.token,
            &json!({"patron_id": patron, "case_id": case,
                    "recipient": "Harbor Housing Coalition (invented)",
                    "follow_up_on": week}),
        )
        .await,
        201,
    )
    .await;
    let referral = id(&referral);
    let overdue_path = format!("/v1/branches/{main}/referrals/overdue");
    let attention_path = "/v1/me/referrals?status=needs_attention";
    assert!(ids(&get(&app, &overdue_path, &supervisor.token).await).is_empty());
    assert!(ids(&get(&app, attention_path, &worker.token).await).is_empty());

    let training = id(&made(
        app.post_as(
            "/v1/trainings",
            &admin,
            &json!({"name": "Invented de-escalation", "provider": "Invented",
                    "recertify_months": 12, "de_escalation": true}),
        )
        .await,
        201,
    )
    .await);
    let certification = made(
        app.post_as(
            &format!("/v1/staff/{}/certifications", worker.id),
            &admin,
            &json!({"training_id": training, "completed_on": today.to_string()}),
        )
        .await,
        201,
    )
    .await;
    assert_eq!(certification["current"], true);
    let certifications_path = format!("/v1/staff/{}/certifications", worker.id);

    let expires = (app.state.clock.now() + Duration::days(90)).to_rfc3339();
    let consent = made(
        app.post_as(
            &format!("/v1/patrons/{patron}/consents"),
            &worker.token,
            &json!({"recipient": "Harbor Housing Coalition (invented)",
                    "scope": "name and phone", "purpose": "housing referral",
                    "method": "verbal", "expires_at": expires}),
        )
        .await,
        201,
    )
    .await;
    assert_eq!(consent["valid"], true);
    let consents_path = format!("/v1/patrons/{patron}/consents");

    // A birth date a hundred days ahead is in the future...
    let born = (today + Duration::days(100)).to_string();
    let newborn = json!({"preferred_name": "Robin Invented", "home_branch_id": main,
                         "birth_date": born});
    assert_eq!(
        app.post_as("/v1/patrons", &worker.token, &newborn)
            .await
            .status(),
        422
    );
    // ...and an idempotency key is held: another request with it is refused.
    let keyed = |token: &str, due: String| {
        let (app, token, case) = (&app, token.to_owned(), case.clone());
        async move {
            app.client
                .post(app.url("/v1/follow-ups"))
                .bearer_auth(token)
                .header("Idempotency-Key", "clock-test-key")
                .json(&json!({"case_id": case, "due_on": due}))
                .send()
                .await
                .unwrap()
        }
    };
    assert_eq!(keyed(&worker.token, week.clone()).await.status(), 201);
    // Another due date, valid before and after the move.
    let other_day = (today + Duration::days(40)).to_string();
    assert_eq!(
        keyed(&worker.token, other_day.clone()).await.status(),
        422,
        "a held key with another request"
    );
    assert_eq!(app.get_as("/v1/me", &worker.token).await.status(), 200);

    // One move of the clock: 400 days.
    app.state.clock.advance(Duration::days(400));
    let moved_to = app.state.clock.now();
    let mut stuck = Vec::new();

    // The access token expired, and so did its session (idle for 30 days):
    // it cannot be refreshed; the worker signs in again.
    expect(
        &mut stuck,
        app.get_as("/v1/me", &worker.token).await.status() == 401,
        "access token expiry",
    );
    let refreshed = app
        .post_json(
            "/v1/auth/refresh",
            &json!({"refresh_token": worker.refresh_token}),
        )
        .await;
    expect(
        &mut stuck,
        refreshed.status() == 401,
        "session expiry (refresh refused)",
    );
    for who in [
        &mut worker,
        &mut staff,
        &mut security,
        &mut supervisor,
        &mut outsider,
        &mut auditor,
    ] {
        app.sign_in_again(who).await;
    }
    let token: Value = made(app.get_as("/v1/me", &worker.token).await, 200).await;
    assert_eq!(token["id"], worker.id.to_string());

    // The incident's 24-hour edit window has closed: it takes amendments.
    let resp = app
        .patch_as(
            &format!("/v1/incidents/{incident}"),
            &staff.token,
            &incident_etag,
            &json!({"action_taken": "asked_to_leave"}),
        )
        .await;
    expect(
        &mut stuck,
        resp.status() == 409,
        "incident edit window (amend required)",
    );

    // The suspension has ended: not in the branch's active list.
    let active = get(&app, &active_path, &staff.token).await;
    expect(
        &mut stuck,
        active["items"].as_array().unwrap().is_empty(),
        "suspension end (branch's active list)",
    );
    let ended = get(
        &app,
        &format!("/v1/suspensions/{suspension}"),
        &security.token,
    )
    .await;
    expect(&mut stuck, ended["status"] == "ended", "suspension status");

    // The break-glass grant has expired: the case is closed to the outsider.
    expect(
        &mut stuck,
        app.get_as(&case_path, &outsider.token).await.status() == 404,
        "break-glass grant expiry",
    );

    // The follow-up is overdue, on its own read and in the caseload.
    let f = get(&app, &format!("/v1/follow-ups/{follow_up}"), &worker.token).await;
    expect(&mut stuck, f["overdue"] == true, "follow-up overdue");
    let caseload = get(&app, "/v1/me/caseload", &worker.token).await;
    expect(
        &mut stuck,
        caseload["items"][0]["overdue_follow_ups"].as_u64() == Some(2),
        "caseload's overdue follow-ups",
    );

    // The referral's follow-up date has passed: it is overdue.
    expect(
        &mut stuck,
        ids(&get(&app, &overdue_path, &supervisor.token).await) == vec![referral.clone()],
        "referral follow-up overdue (branch)",
    );
    expect(
        &mut stuck,
        ids(&get(&app, attention_path, &worker.token).await) == vec![referral.clone()],
        "referral needs attention (mine)",
    );

    // The certification expired after its 12 months.
    let certs = get(&app, &certifications_path, &worker.token).await;
    expect(
        &mut stuck,
        certs["items"][0]["current"] == false,
        "certification expiry",
    );

    // The consent expired after its 90 days.
    let consents = get(&app, &consents_path, &worker.token).await;
    expect(
        &mut stuck,
        consents["items"][0]["valid"] == false,
        "consent expiry",
    );

    // The birth date is behind us now.
    expect(
        &mut stuck,
        app.post_as("/v1/patrons", &worker.token, &newborn)
            .await
            .status()
            == 201,
        "birth date not in the future",
    );

    // The idempotency key is older than a day: free again.
    expect(
        &mut stuck,
        keyed(&worker.token, other_day).await.status() == 201,
        "idempotency key age",
    );

    // And what is written now is stamped on the moved clock: the record,
    // and the audit event of the change.
    let resp = app
        .client
        .post(app.url(&format!("/v1/follow-ups/{follow_up}/done")))
        .bearer_auth(&worker.token)
        .header("If-Match", "\"1\"")
        .send()
        .await
        .unwrap();
    let done = made(resp, 200).await;
    expect(
        &mut stuck,
        time(&done["done_at"]) >= moved_to - Duration::minutes(1),
        "stamp of a change (done_at)",
    );
    let trail = get(
        &app,
        &format!("/v1/audit/events?record_id={follow_up}&action=update&limit=500"),
        &auditor.token,
    )
    .await;
    let last = trail["items"].as_array().unwrap().last().unwrap().clone();
    expect(
        &mut stuck,
        time(&last["recorded_at"]) >= moved_to - Duration::minutes(1),
        "audit event recorded_at",
    );

    assert!(
        stuck.is_empty(),
        "rules that did not move with the clock: {stuck:#?}"
    );
}
