//! Single sign-on without a provider: what an admin may set on an account
//! (the browser tests in web/tests/sso.spec.mjs run the whole flow against
//! a real OpenID Connect provider), a password switched off, and the
//! settings a provider needs.

use casework::domain::Role;
use serde_json::{Value, json};

use crate::helpers::{assert_problem, spawn_app};

#[tokio::test]
async fn an_admin_links_accounts_and_switches_passwords_off_only_for_linked_ones() {
    let app = spawn_app().await;
    let main = app.branch("MAIN").await;
    let admin = app.admin().await.clone();
    let worker = app.account(Role::SocialWorker, &[main]).await;
    let other = app.account(Role::Peer, &[main]).await;
    let path = format!("/v1/staff/{}", worker.id);

    // Off for an account that cannot sign in another way: refused by field.
    let refused = app
        .patch_as(
            &path,
            &admin.token,
            "\"1\"",
            &json!({"password_sign_in": false}),
        )
        .await;
    let p = assert_problem(refused, 422, "validation").await;
    assert_eq!(p["errors"][0]["field"], "password_sign_in");

    // Linked and off in one change.
    let linked = app
        .patch_as(
            &path,
            &admin.token,
            "\"1\"",
            &json!({"sso_subject": "00000000-aaaa-4bbb-8ccc-invented01", "password_sign_in": false}),
        )
        .await;
    assert_eq!(linked.status(), 200);
    let v: Value = linked.json().await.unwrap();
    assert_eq!(v["sso_subject"], "00000000-aaaa-4bbb-8ccc-invented01");
    assert_eq!(v["password_sign_in"], false);

    // Its password no longer signs in; the answer is the same as a wrong one.
    let by_password = app
        .login(&worker.username, &worker.password, "tablet")
        .await;
    let p = assert_problem(by_password, 401, "unauthorized").await;
    let wrong = app
        .login(&worker.username, "not the password!", "tablet")
        .await;
    let q = assert_problem(wrong, 401, "unauthorized").await;
    assert_eq!(p["detail"], q["detail"]);

    // One subject, one account; one email, one account.
    let taken = app
        .patch_as(
            &format!("/v1/staff/{}", other.id),
            &admin.token,
            "\"1\"",
            &json!({"sso_subject": "00000000-aaaa-4bbb-8ccc-invented01"}),
        )
        .await;
    let p = assert_problem(taken, 422, "validation").await;
    assert_eq!(p["errors"][0]["field"], "sso_subject");
    let bad_email = app
        .patch_as(
            &format!("/v1/staff/{}", other.id),
            &admin.token,
            "\"1\"",
            &json!({"sso_email": "not an email"}),
        )
        .await;
    let p = assert_problem(bad_email, 422, "validation").await;
    assert_eq!(p["errors"][0]["field"], "sso_email");

    // Unlinking an account whose password is off is refused; both at once
    // (password back on) is fine.
    let unlink = app
        .patch_as(&path, &admin.token, "\"2\"", &json!({"sso_subject": ""}))
        .await;
    let p = assert_problem(unlink, 422, "validation").await;
    assert_eq!(p["errors"][0]["field"], "sso_subject");
    let back = app
        .patch_as(
            &path,
            &admin.token,
            "\"2\"",
            &json!({"sso_subject": "", "password_sign_in": true}),
        )
        .await;
    assert_eq!(back.status(), 200);
    let v: Value = back.json().await.unwrap();
    assert!(v.get("sso_subject").is_none());
    assert_eq!(
        app.login(&worker.username, &worker.password, "tablet")
            .await
            .status(),
        200
    );

    // Only an admin links: a supervisor is refused before anything is read.
    let supervisor = app.account(Role::Supervisor, &[main]).await;
    let denied = app
        .patch_as(
            &path,
            &supervisor.token,
            "\"3\"",
            &json!({"sso_subject": "x"}),
        )
        .await;
    assert_eq!(denied.status(), 403);

    // Without a provider, single sign-on is offered to nobody.
    let sso: Value = app.get("/v1/auth/sso").await.json().await.unwrap();
    assert_eq!(sso, json!({"enabled": false}));
}

#[test]
fn a_provider_needs_its_client_and_casework_address() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_casework"))
        .arg("config")
        .env_clear()
        .env(
            "CASEWORK_OIDC_ISSUER",
            "https://login.example.org/tenant/v2.0",
        )
        .env("CASEWORK_OIDC_CLIENT_ID", "casework")
        .env(
            "CASEWORK_OIDC_CLIENT_SECRET",
            "a secret that is never shown",
        )
        .output()
        .unwrap();
    assert!(!out.status.success());
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(said.contains("oidc_redirect_base"), "{said}");

    let out = std::process::Command::new(env!("CARGO_BIN_EXE_casework"))
        .arg("config")
        .env_clear()
        .env(
            "CASEWORK_OIDC_ISSUER",
            "https://login.example.org/tenant/v2.0",
        )
        .env("CASEWORK_OIDC_CLIENT_ID", "casework")
        .env(
            "CASEWORK_OIDC_CLIENT_SECRET",
            "a secret that is never shown",
        )
        .env(
            "CASEWORK_OIDC_REDIRECT_BASE",
            "https://casework.library.example",
        )
        .output()
        .unwrap();
    assert!(out.status.success());
    let shown = String::from_utf8_lossy(&out.stdout);
    assert!(shown.contains("oidc_issuer"));
    assert!(!shown.contains("a secret that is never shown"), "{shown}");
}

#[tokio::test]
async fn forged_returns_from_one_address_lock_it_like_wrong_passwords() {
    // A provider that is never reached: a forged `state` fails before it is.
    let app = crate::helpers::spawn_app_with(|s| {
        s.oidc_issuer = "http://127.0.0.1:9/issuer".into();
        s.oidc_client_id = "casework".into();
        s.oidc_client_secret = "invented-secret".into();
        s.oidc_redirect_base = "http://127.0.0.1:8080".into();
    })
    .await;
    let sso: Value = app.get("/v1/auth/sso").await.json().await.unwrap();
    assert_eq!(
        sso,
        json!({"enabled": true, "provider_name": "single sign-on"})
    );
    let admin = app.admin().await.clone();

    let back = |i: usize| {
        let app = &app;
        async move {
            let resp = app
                .get(&format!("/v1/auth/sso/callback?state=forged-{i}&code=x"))
                .await;
            assert_eq!(resp.status(), 303);
            resp.headers()["location"].to_str().unwrap().to_owned()
        }
    };
    for i in 0..20 {
        assert_eq!(back(i).await, "/#sso-error=state");
    }
    // The address is locked now: for returns, for beginnings, for passwords.
    assert_eq!(back(20).await, "/#sso-error=throttled");
    let start = app.get("/v1/auth/sso/start?device_name=tablet").await;
    assert_eq!(start.status(), 429);
    assert!(start.headers().get("retry-after").is_some());
    let by_password = app.login(&admin.username, &admin.password, "tablet").await;
    assert_eq!(by_password.status(), 429);
}
