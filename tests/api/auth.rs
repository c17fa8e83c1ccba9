//! Sign-in, tokens, refresh rotation, brute-force slowing.

use std::time::Duration;

use casework::domain::Role;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};

use crate::helpers::{TEST_SIGNING_KEY, assert_problem, spawn_app};

#[tokio::test]
async fn login_returns_tokens_that_open_the_api() {
    let app = spawn_app().await;
    let worker = app.account(Role::SocialWorker, &[]).await;
    let resp = app
        .login(&worker.username, &worker.password, "Main desk tablet")
        .await;
    assert_eq!(resp.status(), 200);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 900);
    assert!(body["refresh_token"].as_str().unwrap().len() >= 40);

    let me: Value = app
        .get_as("/v1/me", body["access_token"].as_str().unwrap())
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(me["username"], worker.username);
    assert_eq!(me["role"], "social_worker");
    assert!(me.get("password_hash").is_none());
}

#[tokio::test]
async fn unknown_user_and_wrong_password_get_the_same_answer() {
    let app = spawn_app().await;
    let worker = app.account(Role::Peer, &[]).await;
    let wrong = assert_problem(
        app.login(&worker.username, "not the password at all", "t")
            .await,
        401,
        "unauthorized",
    )
    .await;
    let unknown = assert_problem(
        app.login("nobody.here", "not the password at all", "t")
            .await,
        401,
        "unauthorized",
    )
    .await;
    assert_eq!(wrong["detail"], unknown["detail"]);
    assert_eq!(wrong["title"], unknown["title"]);
}

#[tokio::test]
async fn username_is_case_insensitive() {
    let app = spawn_app().await;
    let worker = app.account(Role::Peer, &[]).await;
    let resp = app
        .login(&worker.username.to_uppercase(), &worker.password, "t")
        .await;
    assert_eq!(resp.status(), 200);
}

#[tokio::test]
async fn repeated_failures_are_slowed_with_retry_after_and_audited() {
    let app = spawn_app().await;
    let worker = app.account(Role::Staff, &[]).await;
    for _ in 0..5 {
        assert_eq!(
            app.login(&worker.username, "wrong password!!", "t")
                .await
                .status(),
            401
        );
    }
    // Locked now: even the right password waits.
    let resp = app.login(&worker.username, &worker.password, "t").await;
    let retry: u64 = resp.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((25..=30).contains(&retry), "{retry}");
    assert_problem(resp, 429, "too-many-requests").await;

    // Another account from the same address is not locked by these.
    let other = app.account(Role::Staff, &[]).await;
    assert_eq!(
        app.login(&other.username, &other.password, "t")
            .await
            .status(),
        200
    );

    let auditor = app.account(Role::Auditor, &[]).await;
    let events: Value = app
        .get_as(
            "/v1/audit/events?action=login_failed&limit=500",
            &auditor.token,
        )
        .await
        .json()
        .await
        .unwrap();
    let items = events["items"].as_array().unwrap();
    let bad = items
        .iter()
        .filter(|e| e["rule"] == "bad_credentials")
        .count();
    let throttled = items.iter().filter(|e| e["rule"] == "throttled").count();
    assert_eq!(bad, 5);
    assert_eq!(throttled, 1);
    assert!(
        items
            .iter()
            .all(|e| e["outcome"] == "denied" && e["client_addr"] == "127.0.0.1")
    );
    // The failed attempts name the account they were against.
    assert!(
        items
            .iter()
            .filter(|e| e["rule"] == "bad_credentials")
            .all(|e| e["record_id"] == worker.id.to_string())
    );
}

#[tokio::test]
async fn refresh_rotates_and_reuse_revokes_the_whole_session() {
    let app = spawn_app().await;
    let worker = app.account(Role::SocialWorker, &[]).await;

    let first = app
        .post_json(
            "/v1/auth/refresh",
            &json!({"refresh_token": worker.refresh_token}),
        )
        .await;
    assert_eq!(first.status(), 200);
    let first: Value = first.json().await.unwrap();
    let new_refresh = first["refresh_token"].as_str().unwrap().to_owned();
    let new_access = first["access_token"].as_str().unwrap().to_owned();
    assert_ne!(new_refresh, worker.refresh_token);
    assert_eq!(first["session_id"], worker.session_id.to_string());
    assert_eq!(app.get_as("/v1/me", &new_access).await.status(), 200);

    // The old token again: someone copied it. The session ends.
    let reuse = app
        .post_json(
            "/v1/auth/refresh",
            &json!({"refresh_token": worker.refresh_token}),
        )
        .await;
    assert_problem(reuse, 401, "session-ended").await;
    let after = app
        .post_json("/v1/auth/refresh", &json!({"refresh_token": new_refresh}))
        .await;
    assert_problem(after, 401, "session-ended").await;
    assert_problem(
        app.get_as("/v1/me", &new_access).await,
        401,
        "session-ended",
    )
    .await;
    assert_problem(
        app.get_as("/v1/me", &worker.token).await,
        401,
        "session-ended",
    )
    .await;

    let auditor = app.account(Role::Auditor, &[]).await;
    let events: Value = app
        .get_as(
            &format!("/v1/audit/events?record_id={}", worker.session_id),
            &auditor.token,
        )
        .await
        .json()
        .await
        .unwrap();
    let rules: Vec<&str> = events["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["rule"].as_str().unwrap())
        .collect();
    assert!(rules.contains(&"refresh_token_reuse"), "{rules:?}");
}

#[tokio::test]
async fn logout_ends_the_session() {
    let app = spawn_app().await;
    let peer = app.account(Role::Peer, &[]).await;
    let resp = app
        .post_as("/v1/auth/logout", &peer.token, &json!({}))
        .await;
    assert_eq!(resp.status(), 204);
    assert_problem(
        app.get_as("/v1/me", &peer.token).await,
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
}

fn forge(claims: &Value, key: &[u8], alg: Algorithm) -> String {
    jsonwebtoken::encode(
        &Header::new(alg),
        claims,
        &EncodingKey::from_secret(key).unwrap(),
    )
    .unwrap()
}

#[tokio::test]
async fn bad_tokens_are_refused_with_problem_json() {
    let app = spawn_app().await;
    let peer = app.account(Role::Peer, &[]).await;
    let now = chrono::Utc::now().timestamp();
    let good = json!({
        "iss": "casework", "aud": "casework-api", "sub": peer.id, "sid": peer.session_id,
        "iat": now, "exp": now + 600,
    });
    // Sanity: a token forged with the real key and right claims works, so the
    // refusals below are about the one thing each changes.
    let forged = forge(&good, TEST_SIGNING_KEY.as_bytes(), Algorithm::HS256);
    assert_eq!(app.get_as("/v1/me", &forged).await.status(), 200);

    let mut wrong_aud = good.clone();
    wrong_aud["aud"] = json!("another-api");
    let mut expired = good.clone();
    expired["iat"] = json!(now - 3600);
    expired["exp"] = json!(now - 1800);
    let mut wrong_iss = good.clone();
    wrong_iss["iss"] = json!("someone-else");
    let mut no_exp = good.clone();
    no_exp.as_object_mut().unwrap().remove("exp");

    // alg "none": header and claims, no signature.
    use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
    let alg_none = format!(
        "{}.{}.",
        URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#),
        URL_SAFE_NO_PAD.encode(good.to_string())
    );

    let cases = [
        (
            "wrong audience",
            forge(&wrong_aud, TEST_SIGNING_KEY.as_bytes(), Algorithm::HS256),
        ),
        (
            "expired",
            forge(&expired, TEST_SIGNING_KEY.as_bytes(), Algorithm::HS256),
        ),
        (
            "wrong issuer",
            forge(&wrong_iss, TEST_SIGNING_KEY.as_bytes(), Algorithm::HS256),
        ),
        (
            "no exp",
            forge(&no_exp, TEST_SIGNING_KEY.as_bytes(), Algorithm::HS256),
        ),
        (
            "other key",
            forge(
                &good,
                b"another-key-another-key-another-key-0123",
                Algorithm::HS256,
            ),
        ),
        (
            "HS512",
            forge(&good, TEST_SIGNING_KEY.as_bytes(), Algorithm::HS512),
        ),
        ("alg none", alg_none),
        ("garbage", "not-a-token".to_owned()),
    ];
    for (what, token) in cases {
        let resp = app.get_as("/v1/me", &token).await;
        assert_eq!(resp.status(), 401, "{what}");
        assert_problem(resp, 401, "unauthorized").await;
    }

    // No header, and a non-bearer scheme: refused before any check, same shape.
    assert_problem(app.get("/v1/me").await, 401, "unauthorized").await;
    let basic = app
        .client
        .get(app.url("/v1/me"))
        .header("Authorization", "Basic YWRtaW46YWRtaW4=")
        .send()
        .await
        .unwrap();
    assert_problem(basic, 401, "unauthorized").await;
}

#[tokio::test]
async fn login_input_is_validated_by_field() {
    let app = spawn_app().await;
    let resp = app
        .post_json(
            "/v1/auth/login",
            &json!({"username": "x", "password": "y", "device_name": "   "}),
        )
        .await;
    let body = assert_problem(resp, 422, "validation").await;
    assert_eq!(body["errors"][0]["field"], "device_name");

    let too_long = "a".repeat(300);
    let resp = app
        .post_json(
            "/v1/auth/login",
            &json!({"username": too_long, "password": "y", "device_name": "t"}),
        )
        .await;
    let body = assert_problem(resp, 422, "validation").await;
    assert_eq!(body["errors"][0]["field"], "username");
    assert_eq!(
        body["errors"][0]["message"],
        "must have at most 64 characters"
    );
    assert!(
        !body.to_string().contains(&too_long),
        "the value is not echoed"
    );
}

#[tokio::test]
async fn an_access_token_lives_fifteen_minutes() {
    let app = spawn_app().await;
    let peer = app.account(Role::Peer, &[]).await;
    let payload = peer.token.split('.').nth(1).unwrap();
    use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
    let claims: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap();
    assert_eq!(
        claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(),
        900
    );
    assert_eq!(claims["aud"], "casework-api");
    assert_eq!(claims["sid"], peer.session_id.to_string());
    let _ = Duration::from_secs(0);
}
