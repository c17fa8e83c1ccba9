//! Device sessions: list, revoke, revocation reaching every instance.

use std::time::{Duration, Instant};

use casework::domain::Role;
use serde_json::{Value, json};

use crate::helpers::{assert_problem, spawn_app, spawn_second_instance};

#[tokio::test]
async fn a_worker_lists_devices_and_revokes_a_lost_tablet() {
    let app = spawn_app().await;
    let worker = app.account(Role::SocialWorker, &[]).await;
    let tablet: Value = app
        .login(&worker.username, &worker.password, "Tablet 3")
        .await
        .json()
        .await
        .unwrap();
    let tablet_token = tablet["access_token"].as_str().unwrap();
    let tablet_session = tablet["session_id"].as_str().unwrap();

    let list: Value = app
        .get_as("/v1/me/sessions", &worker.token)
        .await
        .json()
        .await
        .unwrap();
    let items = list["items"].as_array().unwrap();
    assert_eq!(items.len(), 2);
    assert_eq!(items[0]["device_name"], "Tablet 3", "newest first");
    assert_eq!(items[0]["current"], false);
    assert_eq!(items[1]["current"], true);

    let resp = app
        .delete_as(&format!("/v1/me/sessions/{tablet_session}"), &worker.token)
        .await;
    assert_eq!(resp.status(), 204);
    assert_problem(
        app.get_as("/v1/me", tablet_token).await,
        401,
        "session-ended",
    )
    .await;
    let refresh = app
        .post_json(
            "/v1/auth/refresh",
            &json!({"refresh_token": tablet["refresh_token"]}),
        )
        .await;
    assert_problem(refresh, 401, "session-ended").await;
    // The worker's own session goes on.
    assert_eq!(app.get_as("/v1/me", &worker.token).await.status(), 200);
    let list: Value = app
        .get_as("/v1/me/sessions", &worker.token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list["items"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn nobody_revokes_another_persons_session_but_an_admin() {
    let app = spawn_app().await;
    let peer = app.account(Role::Peer, &[]).await;
    let supervisor = app.account(Role::Supervisor, &[]).await;
    let path = format!("/v1/staff/{}/sessions/{}", peer.id, peer.session_id);
    assert_problem(
        app.delete_as(&path, &supervisor.token).await,
        403,
        "forbidden",
    )
    .await;
    // Through /me, another person's session simply is not there.
    let mine = format!("/v1/me/sessions/{}", peer.session_id);
    assert_problem(
        app.delete_as(&mine, &supervisor.token).await,
        404,
        "not-found",
    )
    .await;
    assert_eq!(app.get_as("/v1/me", &peer.token).await.status(), 200);

    let admin = app.admin().await.token.clone();
    let listed: Value = app
        .get_as(&format!("/v1/staff/{}/sessions", peer.id), &admin)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(listed["items"][0]["id"], peer.session_id.to_string());
    assert_eq!(app.delete_as(&path, &admin).await.status(), 204);
    assert_problem(
        app.get_as("/v1/me", &peer.token).await,
        401,
        "session-ended",
    )
    .await;
}

#[tokio::test]
async fn a_revoked_session_is_refused_by_another_instance_within_five_seconds() {
    let a = spawn_app().await;
    let b = spawn_second_instance(&a).await;
    let worker = a.account(Role::SocialWorker, &[]).await;
    // Instance B has loaded (and cached) the caller.
    assert_eq!(b.get_as("/v1/me", &worker.token).await.status(), 200);
    assert_eq!(b.get_as("/v1/me", &worker.token).await.status(), 200);

    let revoke = format!("/v1/me/sessions/{}", worker.session_id);
    // Revoke from a second device of the same worker, on instance A.
    let other: Value = a
        .login(&worker.username, &worker.password, "phone")
        .await
        .json()
        .await
        .unwrap();
    let started = Instant::now();
    assert_eq!(
        a.delete_as(&revoke, other["access_token"].as_str().unwrap())
            .await
            .status(),
        204
    );
    loop {
        let status = b.get_as("/v1/me", &worker.token).await.status();
        if status == 401 {
            break;
        }
        assert_eq!(status, 200);
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "still accepted after 5 s"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(started.elapsed() < Duration::from_secs(5));
}

#[tokio::test]
async fn deactivating_an_account_ends_all_its_sessions() {
    let app = spawn_app().await;
    let peer = app.account(Role::Peer, &[]).await;
    let second: Value = app
        .login(&peer.username, &peer.password, "phone")
        .await
        .json()
        .await
        .unwrap();
    let admin = app.admin().await.token.clone();
    let staff_path = format!("/v1/staff/{}", peer.id);
    let resp = app.get_as(&staff_path, &admin).await;
    let etag = resp.headers()["etag"].to_str().unwrap().to_owned();
    let resp = app
        .patch_as(&staff_path, &admin, &etag, &json!({"active": false}))
        .await;
    assert_eq!(resp.status(), 200);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["active"], false);

    assert_problem(
        app.get_as("/v1/me", &peer.token).await,
        401,
        "session-ended",
    )
    .await;
    assert_problem(
        app.get_as("/v1/me", second["access_token"].as_str().unwrap())
            .await,
        401,
        "session-ended",
    )
    .await;
    let refresh = app
        .post_json(
            "/v1/auth/refresh",
            &json!({"refresh_token": peer.refresh_token}),
        )
        .await;
    assert_problem(refresh, 401, "session-ended").await;
    // And it cannot sign in again, with the same answer as a wrong password.
    assert_problem(
        app.login(&peer.username, &peer.password, "t").await,
        401,
        "unauthorized",
    )
    .await;
}

#[tokio::test]
async fn changing_my_password_ends_my_other_sessions_but_not_this_one() {
    let app = spawn_app().await;
    let branch = app.branch("PWD").await;
    let worker = app.account(Role::SocialWorker, &[branch]).await;
    let tablet = app
        .login(&worker.username, &worker.password, "tablet")
        .await;
    let tablet: serde_json::Value = tablet.json().await.unwrap();
    let tablet_token = tablet["access_token"].as_str().unwrap().to_owned();

    let wrong = app
        .post_as(
            "/v1/me/password",
            &worker.token,
            &json!({"current_password": "not it at all", "new_password": "river stones and lanterns"}),
        )
        .await;
    let p = crate::helpers::assert_problem(wrong, 422, "validation").await;
    assert!(p["errors"].to_string().contains("current_password"));

    let ok = app
        .post_as(
            "/v1/me/password",
            &worker.token,
            &json!({"current_password": worker.password, "new_password": "river stones and lanterns"}),
        )
        .await;
    assert_eq!(ok.status(), 204);
    // This session goes on; the tablet's ended; the old password is gone.
    assert_eq!(app.get_as("/v1/me", &worker.token).await.status(), 200);
    let mut ended = false;
    for _ in 0..30 {
        if app.get_as("/v1/me", &tablet_token).await.status() == 401 {
            ended = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(ended, "the other session still works");
    assert_eq!(
        app.login(&worker.username, &worker.password, "x")
            .await
            .status(),
        401
    );
    assert_eq!(
        app.login(&worker.username, "river stones and lanterns", "x")
            .await
            .status(),
        200
    );
}

#[tokio::test]
async fn an_admin_cannot_widen_their_own_reach() {
    let app = spawn_app().await;
    let branch = app.branch("SELF").await;
    let admin = app.admin().await.clone();
    let path = format!("/v1/staff/{}", admin.id);
    let current = app.get_as(&path, &admin.token).await;
    let etag = current.headers()["etag"].to_str().unwrap().to_owned();
    let resp = app
        .patch_as(
            &path,
            &admin.token,
            &etag,
            &json!({"role": "supervisor", "branches": [branch]}),
        )
        .await;
    let p = crate::helpers::assert_problem(resp, 422, "validation").await;
    let errors = p["errors"].to_string();
    assert!(
        errors.contains("role") && errors.contains("branches"),
        "{p}"
    );
}

#[tokio::test]
async fn a_password_an_admin_sets_works_once_and_is_flagged() {
    let app = spawn_app().await;
    let branch = app.branch("ONCE").await;
    let worker = app.account(Role::SocialWorker, &[branch]).await;
    let admin = app.admin().await.clone();
    let path = format!("/v1/staff/{}", worker.id);
    let current = app.get_as(&path, &admin.token).await;
    let etag = current.headers()["etag"].to_str().unwrap().to_owned();
    let resp = app
        .patch_as(
            &path,
            &admin.token,
            &etag,
            &json!({"password": "temporary passphrase 42"}),
        )
        .await;
    assert_eq!(resp.status(), 200);

    let login = app
        .login(&worker.username, "temporary passphrase 42", "desk")
        .await;
    assert_eq!(login.status(), 200);
    let login: Value = login.json().await.unwrap();
    assert_eq!(login["password_change_required"], true);
    let token = login["access_token"].as_str().unwrap().to_owned();
    // Nothing else until the account chooses its own.
    let refused = app.get_as("/v1/patrons", &token).await;
    assert_problem(refused, 403, "password-change-required").await;
    assert_eq!(app.get_as("/v1/me", &token).await.status(), 200);
    let changed = app
        .post_as(
            "/v1/me/password",
            &token,
            &json!({"current_password": "temporary passphrase 42", "new_password": "my own quiet passphrase"}),
        )
        .await;
    assert_eq!(changed.status(), 204);
    assert_eq!(app.get_as("/v1/patrons", &token).await.status(), 200);
    let again: Value = app
        .login(&worker.username, "my own quiet passphrase", "desk")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(again["password_change_required"], false);

    // The reset is flagged in the trail for auditors.
    let auditor = app.account(Role::Auditor, &[]).await;
    let events: Value = app
        .get_as(
            &format!("/v1/audit/events?record_id={}", worker.id),
            &auditor.token,
        )
        .await
        .json()
        .await
        .unwrap();
    assert!(
        events["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["rule"] == "admin_password_reset_one_time"
                && e["actor_id"] == admin.id.to_string()),
        "{events}"
    );
}

/// A role change reaches every device at once: each session ends with a
/// `session-ended` problem that says why, so the tablet wipes its copy,
/// even on the sync feed it can no longer read; the same session never
/// reads incidents.
#[tokio::test]
async fn changing_a_role_ends_every_session_and_says_why() {
    let app = spawn_app().await;
    let main = app.branch("MAIN").await;
    let worker = app.account(Role::SocialWorker, &[main]).await;
    let tablet: Value = app
        .login(&worker.username, &worker.password, "tablet")
        .await
        .json()
        .await
        .unwrap();
    let tablet_token = tablet["access_token"].as_str().unwrap().to_owned();
    let first: Value = app
        .get_as("/v1/sync", &tablet_token)
        .await
        .json()
        .await
        .unwrap();
    let cursor = first["next_cursor"].as_str().unwrap().to_owned();

    let admin = app.admin().await.token.clone();
    let path = format!("/v1/staff/{}", worker.id);
    let etag = |resp: &reqwest::Response| resp.headers()["etag"].to_str().unwrap().to_owned();
    // Saying the same role again changes nothing and ends nothing.
    let current = app.get_as(&path, &admin).await;
    let resp = app
        .patch_as(
            &path,
            &admin,
            &etag(&current),
            &json!({"role": "social_worker"}),
        )
        .await;
    assert_eq!(resp.status(), 200);
    assert_eq!(app.get_as("/v1/me", &worker.token).await.status(), 200);

    let current = app.get_as(&path, &admin).await;
    let resp = app
        .patch_as(&path, &admin, &etag(&current), &json!({"role": "security"}))
        .await;
    assert_eq!(resp.status(), 200);
    for token in [worker.token.as_str(), tablet_token.as_str()] {
        for probe in [
            "/v1/me".to_owned(),
            format!("/v1/sync?cursor={cursor}"),
            "/v1/incidents".to_owned(),
        ] {
            let problem =
                assert_problem(app.get_as(&probe, token).await, 401, "session-ended").await;
            assert_eq!(problem["detail"], "the account's role changed", "{probe}");
        }
    }
    let refresh = app
        .post_json(
            "/v1/auth/refresh",
            &json!({"refresh_token": tablet["refresh_token"]}),
        )
        .await;
    let problem = assert_problem(refresh, 401, "session-ended").await;
    assert_eq!(problem["detail"], "the account's role changed");
    // Signing in again gives the new role's reach, from an empty device.
    let again: Value = app
        .login(&worker.username, &worker.password, "tablet")
        .await
        .json()
        .await
        .unwrap();
    let token = again["access_token"].as_str().unwrap();
    assert_eq!(app.get_as("/v1/incidents", token).await.status(), 200);
    assert_problem(app.get_as("/v1/sync", token).await, 403, "forbidden").await;
}

/// Guessing the current password is guessing the account's password: the
/// password change is throttled on the sign-in's counters, and each wrong
/// guess is audited as a failed sign-in is.
#[tokio::test]
async fn the_password_change_is_throttled_like_sign_in() {
    let app = spawn_app().await;
    let worker = app.account(Role::SocialWorker, &[]).await;
    let guess = |n: u32| json!({"current_password": format!("guess number {n}"), "new_password": "river stones and lanterns"});
    for n in 0..5 {
        let resp = app
            .post_as("/v1/me/password", &worker.token, &guess(n))
            .await;
        assert_problem(resp, 422, "validation").await;
    }
    let resp = app
        .post_as("/v1/me/password", &worker.token, &guess(5))
        .await;
    assert_eq!(resp.status(), 429);
    assert!(resp.headers().get("retry-after").is_some());
    // Even the right password waits now, and so does signing in.
    let resp = app
        .post_as(
            "/v1/me/password",
            &worker.token,
            &json!({"current_password": worker.password, "new_password": "river stones and lanterns"}),
        )
        .await;
    assert_eq!(resp.status(), 429);
    assert_eq!(
        app.login(&worker.username, &worker.password, "x")
            .await
            .status(),
        429
    );
    let auditor = app.account(Role::Auditor, &[]).await;
    let failed: Value = app
        .get_as(
            &format!(
                "/v1/audit/events?limit=500&action=login_failed&actor_id={}",
                worker.id
            ),
            &auditor.token,
        )
        .await
        .json()
        .await
        .unwrap();
    let rules: Vec<&str> = failed["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["rule"].as_str().unwrap())
        .collect();
    assert_eq!(
        rules
            .iter()
            .filter(|r| **r == "current_password_wrong")
            .count(),
        5,
        "{rules:?}"
    );
    assert!(rules.contains(&"throttled"), "{rules:?}");
}
