//! Closed-loop referrals: the lifecycle, its history, illegal moves, the
//! consent gate, and who may make and move them.

use casework::domain::Role;
use chrono::{Duration, Utc};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::{Account, TestApp, assert_problem, spawn_app};

async fn ok(resp: reqwest::Response, status: u16) -> Value {
    let got = resp.status().as_u16();
    let text = resp.text().await.unwrap();
    assert_eq!(got, status, "{text}");
    serde_json::from_str(&text).unwrap()
}

fn id(v: &Value) -> String {
    v["id"].as_str().unwrap().to_owned()
}

/// Sends a move with the referral's current version.
async fn move_to(app: &TestApp, who: &Account, r: &Value, body: Value) -> reqwest::Response {
    app.client
        .post(app.url(&format!("/v1/referrals/{}/transitions", id(r))))
        .bearer_auth(&who.token)
        .header("If-Match", format!("\"{}\"", r["version"]))
        .json(&body)
        .send()
        .await
        .unwrap()
}

struct World {
    app: TestApp,
    worker: Account,
    peer: Account,
    patron: String,
    case: String,
    service: String,
}

/// A branch with a social worker's patron and case (the peer on its team)
/// and a directory service.
async fn world() -> World {
    let app = spawn_app().await;
    let branch = app.branch("MAIN").await;
    let worker = app.account(Role::SocialWorker, &[branch]).await;
    let peer = app.account(Role::Peer, &[branch]).await;
    let patron = ok(
        app.post_as(
            "/v1/patrons",
            &worker.token,
            &json!({"preferred_name": "Noor Invented", "home_branch_id": branch}),
        )
        .await,
        201,
    )
    .await;
    let patron = id(&patron["patron"]);
    let case = id(&ok(
        app.post_as("/v1/cases", &worker.token, &json!({"patron_id": patron}))
            .await,
        201,
    )
    .await);
    let resp = app
        .client
        .post(app.url(&format!("/v1/cases/{case}/team")))
        .bearer_auth(&worker.token)
        .header("If-Match", "\"1\"")
        .json(&json!({"staff_id": peer.id}))
        .send()
        .await
        .unwrap();
    ok(resp, 200).await;
    let admin = app.admin().await.token.clone();
    let service = id(&ok(
        app.post_as(
            "/v1/services",
            &admin,
            &json!({"organization_name": "Harbor Housing (invented)", "name": "Rapid Rehousing",
                    "categories": ["housing"], "phone": "555-0110"}),
        )
        .await,
        201,
    )
    .await);
    World {
        app,
        worker,
        peer,
        patron,
        case,
        service,
    }
}

#[tokio::test]
async fn a_referral_walks_its_lifecycle_and_keeps_every_move() {
    let w = world().await;
    let app = &w.app;
    let mut r = ok(
        app.post_as(
            "/v1/referrals",
            &w.worker.token,
            &json!({"patron_id": w.patron, "case_id": w.case, "service_id": w.service,
                    "needs": ["housing"], "notes": "Prefers mornings.\nHas a phone."}),
        )
        .await,
        201,
    )
    .await;
    assert_eq!(r["status"], "draft");
    assert_eq!(
        r["recipient_name"], "Rapid Rehousing",
        "a snapshot of the name"
    );
    assert_eq!(r["recipient_phone"], "555-0110");
    let week = (Utc::now() + Duration::days(7)).date_naive().to_string();
    assert_eq!(r["follow_up_on"], week);

    // The caseload counts it as open.
    let caseload = ok(app.get_as("/v1/me/caseload", &w.worker.token).await, 200).await;
    assert_eq!(caseload["items"][0]["open_referrals"], 1);

    let called = (Utc::now() - Duration::hours(2)).to_rfc3339();
    for (to, extra) in [
        ("requested", json!({})),
        (
            "received",
            json!({"on_behalf_of_agency": true, "occurred_at": called}),
        ),
        ("accepted", json!({"on_behalf_of_agency": true})),
        ("in_progress", json!({})),
        ("on_hold", json!({"reason": "Waiting for an ID document."})),
        ("in_progress", json!({})),
        (
            "completed",
            json!({"outcome": "got_help", "on_behalf_of_agency": true}),
        ),
    ] {
        let mut body = extra.clone();
        body["to"] = json!(to);
        r = ok(move_to(app, &w.worker, &r, body).await, 200).await;
        assert_eq!(r["status"], to);
        if to == "accepted" {
            let two_weeks = (Utc::now() + Duration::days(14)).date_naive().to_string();
            assert_eq!(r["follow_up_on"], two_weeks, "moved forward");
        }
    }
    assert_eq!(r["outcome"], "got_help");
    assert!(
        r.get("follow_up_on").is_none(),
        "a closed referral has none"
    );
    let read = ok(
        app.get_as(&format!("/v1/referrals/{}", id(&r)), &w.peer.token)
            .await,
        200,
    )
    .await;
    let history = read["history"].as_array().unwrap();
    let moves: Vec<(&str, &str)> = history
        .iter()
        .map(|h| (h["from"].as_str().unwrap_or("-"), h["to"].as_str().unwrap()))
        .collect();
    assert_eq!(
        moves,
        vec![
            ("-", "draft"),
            ("draft", "requested"),
            ("requested", "received"),
            ("received", "accepted"),
            ("accepted", "in_progress"),
            ("in_progress", "on_hold"),
            ("on_hold", "in_progress"),
            ("in_progress", "completed"),
        ]
    );
    for h in history {
        assert_eq!(h["actor_id"], w.worker.id.to_string());
        assert!(h["recorded_at"].is_string() && h["occurred_at"].is_string());
    }
    assert_eq!(history[2]["on_behalf_of_agency"], true);
    assert_eq!(history[3]["on_behalf_of_agency"], true);
    assert_eq!(history[4]["on_behalf_of_agency"], false);
    assert_ne!(
        history[2]["occurred_at"], history[2]["recorded_at"],
        "the device's time is kept"
    );
    assert_eq!(history[5]["reason"], "Waiting for an ID document.");

    // Closed now: the caseload no longer counts it, and no move but
    // entered_in_error is left.
    let caseload = ok(app.get_as("/v1/me/caseload", &w.worker.token).await, 200).await;
    assert_eq!(caseload["items"][0]["open_referrals"], 0);
    let p = assert_problem(
        move_to(app, &w.worker, &r, json!({"to": "in_progress"})).await,
        409,
        "conflict",
    )
    .await;
    assert_eq!(p["errors"][0]["field"], "to");
    assert_eq!(
        p["errors"][0]["message"],
        "must be one of: entered_in_error"
    );
    // An old version is stale.
    let mut old = r.clone();
    old["version"] = json!(1);
    assert_problem(
        move_to(
            app,
            &w.worker,
            &old,
            json!({"to": "cancelled", "reason": "x"}),
        )
        .await,
        412,
        "stale",
    )
    .await;
}

#[tokio::test]
async fn illegal_moves_name_the_allowed_ones_and_reasons_are_required() {
    let w = world().await;
    let app = &w.app;
    let r = ok(
        app.post_as(
            "/v1/referrals",
            &w.worker.token,
            &json!({"patron_id": w.patron, "recipient": "Aunt's church pantry (invented)",
                    "needs": ["food"]}),
        )
        .await,
        201,
    )
    .await;
    for (to, allowed) in [
        ("completed", "requested, cancelled, entered_in_error"),
        ("accepted", "requested, cancelled, entered_in_error"),
        ("draft", "requested, cancelled, entered_in_error"),
    ] {
        let p = assert_problem(
            move_to(app, &w.worker, &r, json!({"to": to, "outcome": "got_help"})).await,
            409,
            "conflict",
        )
        .await;
        assert_eq!(
            p["errors"][0]["message"],
            format!("must be one of: {allowed}")
        );
    }
    let p = assert_problem(
        move_to(app, &w.worker, &r, json!({"to": "cancelled"})).await,
        422,
        "validation",
    )
    .await;
    assert_eq!(p["errors"][0]["field"], "reason");
    let r = ok(
        move_to(app, &w.worker, &r, json!({"to": "requested"})).await,
        200,
    )
    .await;
    let p = assert_problem(
        move_to(app, &w.worker, &r, json!({"to": "rejected"})).await,
        422,
        "validation",
    )
    .await;
    assert_eq!(p["errors"][0]["field"], "reason");
    let r = ok(
        move_to(
            app,
            &w.worker,
            &r,
            json!({"to": "rejected", "reason": "No capacity this month."}),
        )
        .await,
        200,
    )
    .await;
    assert_eq!(r["status"], "rejected");
    // Only the requester marks a referral entered in error.
    let supervisor = app.account(Role::Supervisor, &app_branches(&w).await).await;
    assert_problem(
        move_to(app, &supervisor, &r, json!({"to": "entered_in_error"})).await,
        403,
        "forbidden",
    )
    .await;
    let r = ok(
        move_to(app, &w.worker, &r, json!({"to": "entered_in_error"})).await,
        200,
    )
    .await;
    assert_eq!(r["status"], "entered_in_error");
}

async fn app_branches(w: &World) -> Vec<Uuid> {
    let me = ok(w.app.get_as("/v1/me", &w.worker.token).await, 200).await;
    me["branches"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b.as_str().unwrap().parse().unwrap())
        .collect()
}

#[tokio::test]
async fn sharing_identifying_data_waits_for_a_valid_consent() {
    let w = world().await;
    let app = &w.app;
    let body = json!({"patron_id": w.patron, "case_id": w.case, "service_id": w.service,
                      "needs": ["housing"], "shares_identifying_data": true});
    let new_referral = || app.post_as("/v1/referrals", &w.worker.token, &body);
    let r = ok(new_referral().await, 201).await;
    let p = assert_problem(
        move_to(app, &w.worker, &r, json!({"to": "requested"})).await,
        409,
        "conflict",
    )
    .await;
    assert_eq!(p["errors"][0]["field"], "consent");

    // A consent naming the organization opens the gate.
    let consent = ok(
        app.post_as(
            &format!("/v1/patrons/{}/consents", w.patron),
            &w.worker.token,
            &json!({"recipient": "Harbor Housing (invented)", "scope": "Name and phone.",
                    "purpose": "Housing referral.", "method": "signed"}),
        )
        .await,
        201,
    )
    .await;
    let moved = ok(
        move_to(app, &w.worker, &r, json!({"to": "requested"})).await,
        200,
    )
    .await;
    assert_eq!(moved["status"], "requested");

    // Revoked: the next referral waits again.
    let resp = app
        .client
        .post(app.url(&format!("/v1/consents/{}/revoke", id(&consent))))
        .bearer_auth(&w.worker.token)
        .header("If-Match", "\"1\"")
        .send()
        .await
        .unwrap();
    ok(resp, 200).await;
    let r2 = ok(new_referral().await, 201).await;
    assert_problem(
        move_to(app, &w.worker, &r2, json!({"to": "requested"})).await,
        409,
        "conflict",
    )
    .await;

    // An expired consent does not count either.
    ok(
        app.post_as(
            &format!("/v1/patrons/{}/consents", w.patron),
            &w.worker.token,
            &json!({"recipient": "Rapid Rehousing", "scope": "Name.", "purpose": "Referral.",
                    "method": "verbal",
                    "given_at": (Utc::now() - Duration::days(30)).to_rfc3339(),
                    "expires_at": (Utc::now() - Duration::days(1)).to_rfc3339()}),
        )
        .await,
        201,
    )
    .await;
    assert_problem(
        move_to(app, &w.worker, &r2, json!({"to": "requested"})).await,
        409,
        "conflict",
    )
    .await;
    // Without identifying data there is no gate.
    let anonymous = ok(
        app.post_as(
            "/v1/referrals",
            &w.worker.token,
            &json!({"patron_id": w.patron, "service_id": w.service}),
        )
        .await,
        201,
    )
    .await;
    ok(
        move_to(app, &w.worker, &anonymous, json!({"to": "requested"})).await,
        200,
    )
    .await;
}

#[tokio::test]
async fn peers_refer_on_their_team_cases_and_move_only_their_own() {
    let w = world().await;
    let app = &w.app;
    // Without a case, or on a case they are not on: refused.
    assert_problem(
        app.post_as(
            "/v1/referrals",
            &w.peer.token,
            &json!({"patron_id": w.patron, "service_id": w.service}),
        )
        .await,
        403,
        "forbidden",
    )
    .await;
    let mine = ok(
        app.post_as(
            "/v1/referrals",
            &w.peer.token,
            &json!({"patron_id": w.patron, "case_id": w.case, "service_id": w.service}),
        )
        .await,
        201,
    )
    .await;
    let workers = ok(
        app.post_as(
            "/v1/referrals",
            &w.worker.token,
            &json!({"patron_id": w.patron, "case_id": w.case, "service_id": w.service}),
        )
        .await,
        201,
    )
    .await;
    ok(
        move_to(app, &w.peer, &mine, json!({"to": "requested"})).await,
        200,
    )
    .await;
    // The peer reads the team's referral but does not move it.
    ok(
        app.get_as(&format!("/v1/referrals/{}", id(&workers)), &w.peer.token)
            .await,
        200,
    )
    .await;
    assert_problem(
        move_to(app, &w.peer, &workers, json!({"to": "requested"})).await,
        403,
        "forbidden",
    )
    .await;

    // The patron's list shows both to the peer; "my referrals" only the peer's.
    let list = ok(
        app.get_as(
            &format!("/v1/patrons/{}/referrals", w.patron),
            &w.peer.token,
        )
        .await,
        200,
    )
    .await;
    assert_eq!(list["items"].as_array().unwrap().len(), 2);
    assert!(
        list["items"][0].get("history").is_none(),
        "lists leave history out"
    );
    let my = ok(app.get_as("/v1/me/referrals", &w.peer.token).await, 200).await;
    let ids: Vec<&str> = my["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, vec![id(&mine)]);
    let due = ok(
        app.get_as("/v1/me/referrals?status=needs_attention", &w.peer.token)
            .await,
        200,
    )
    .await;
    assert_eq!(due["items"], json!([]), "nothing is due yet");

    // Another branch's social worker sees nothing, as if nothing existed.
    let elsewhere = app.branch("EAST").await;
    let stranger = app.account(Role::SocialWorker, &[elsewhere]).await;
    let missing = assert_problem(
        app.get_as(
            &format!("/v1/referrals/{}", Uuid::now_v7()),
            &stranger.token,
        )
        .await,
        404,
        "not-found",
    )
    .await;
    let hidden = assert_problem(
        app.get_as(&format!("/v1/referrals/{}", id(&mine)), &stranger.token)
            .await,
        404,
        "not-found",
    )
    .await;
    assert_eq!(missing["detail"], hidden["detail"]);
    let security = app.account(Role::Security, &[elsewhere]).await;
    assert_problem(
        app.get_as(&format!("/v1/referrals/{}", id(&mine)), &security.token)
            .await,
        404,
        "not-found",
    )
    .await;
}

#[tokio::test]
async fn open_referrals_change_and_overdue_ones_surface_for_the_branch_supervisor() {
    use sea_orm::{ActiveModelTrait, ActiveValue::Set, EntityTrait};
    let w = world().await;
    let app = &w.app;
    let branches = app_branches(&w).await;
    let r = ok(
        app.post_as(
            "/v1/referrals",
            &w.worker.token,
            &json!({"patron_id": w.patron, "case_id": w.case, "service_id": w.service}),
        )
        .await,
        201,
    )
    .await;
    let later = (Utc::now() + Duration::days(3)).date_naive().to_string();
    let changed = ok(
        app.patch_as(
            &format!("/v1/referrals/{}", id(&r)),
            &w.worker.token,
            "\"1\"",
            &json!({"notes": "Call after 10.", "follow_up_on": later, "needs": ["housing", "food"]}),
        )
        .await,
        200,
    )
    .await;
    assert_eq!(changed["follow_up_on"], later);
    assert_eq!(changed["needs"], json!(["food", "housing"]));
    assert_eq!(changed["history"].as_array().unwrap().len(), 1, "no move");
    let past = (Utc::now() - Duration::days(3)).date_naive().to_string();
    let p = assert_problem(
        app.patch_as(
            &format!("/v1/referrals/{}", id(&r)),
            &w.worker.token,
            "\"2\"",
            &json!({"follow_up_on": past}),
        )
        .await,
        422,
        "validation",
    )
    .await;
    assert_eq!(p["errors"][0]["field"], "follow_up_on");

    // Time passes: the follow-up date is behind us.
    let rid: Uuid = id(&r).parse().unwrap();
    let mut m: entities::referral::ActiveModel = entities::referral::Entity::find_by_id(rid)
        .one(&app.db)
        .await
        .unwrap()
        .unwrap()
        .into();
    m.follow_up_on = Set(Some((Utc::now() - Duration::days(2)).date_naive()));
    m.update(&app.db).await.unwrap();

    let supervisor = app.account(Role::Supervisor, &branches).await;
    let overdue = ok(
        app.get_as(
            &format!("/v1/branches/{}/referrals/overdue", branches[0]),
            &supervisor.token,
        )
        .await,
        200,
    )
    .await;
    let ids: Vec<&str> = overdue["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, vec![id(&r)]);
    let attention = ok(
        app.get_as("/v1/me/referrals?status=needs_attention", &w.worker.token)
            .await,
        200,
    )
    .await;
    assert_eq!(attention["items"][0]["id"], id(&r));
    let east = app.branch("EAST").await;
    let other_supervisor = app.account(Role::Supervisor, &[east]).await;
    for who in [&other_supervisor, &w.worker] {
        assert_problem(
            app.get_as(
                &format!("/v1/branches/{}/referrals/overdue", branches[0]),
                &who.token,
            )
            .await,
            403,
            "forbidden",
        )
        .await;
    }

    // Closed referrals are not changed.
    let cancelled = ok(
        move_to(
            app,
            &w.worker,
            &changed,
            json!({"to": "cancelled", "reason": "expired"}),
        )
        .await,
        200,
    )
    .await;
    assert_eq!(cancelled["status"], "cancelled");
    assert_problem(
        app.patch_as(
            &format!("/v1/referrals/{}", id(&r)),
            &w.worker.token,
            "\"3\"",
            &json!({"notes": "Too late."}),
        )
        .await,
        409,
        "conflict",
    )
    .await;
}
