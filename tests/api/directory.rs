//! Branches and staff accounts.

use std::collections::HashSet;

use casework::domain::Role;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::{assert_problem, spawn_app};

#[tokio::test]
async fn admin_creates_a_branch_and_an_account_that_can_sign_in() {
    let app = spawn_app().await;
    let admin = app.admin().await.token.clone();
    let id = Uuid::now_v7();
    let resp = app
        .post_as(
            "/v1/branches",
            &admin,
            &json!({"id": id, "code": "main", "name": "Main Library"}),
        )
        .await;
    assert_eq!(resp.status(), 201);
    assert_eq!(resp.headers()["etag"], "\"1\"");
    let branch: Value = resp.json().await.unwrap();
    assert_eq!(branch["id"], id.to_string(), "the client's id is kept");
    assert_eq!(branch["code"], "MAIN");

    let resp = app
        .post_as(
            "/v1/staff",
            &admin,
            &json!({
                "username": "R.Okafor", "display_name": "Rae Okafor (invented)",
                "role": "social_worker", "branches": [id], "password": "a long enough password"
            }),
        )
        .await;
    assert_eq!(resp.status(), 201);
    let account: Value = resp.json().await.unwrap();
    assert_eq!(account["username"], "r.okafor");
    assert_eq!(account["branches"], json!([id]));
    assert!(account.get("password").is_none() && account.get("password_hash").is_none());

    // The password the admin chose works once: the account must choose its
    // own before anything else.
    let first = app.login("r.okafor", "a long enough password", "t").await;
    assert_eq!(first.status(), 200);
    let first: Value = first.json().await.unwrap();
    assert_eq!(first["password_change_required"], true);
    let token = first["access_token"].as_str().unwrap();
    crate::helpers::assert_problem(
        app.get_as("/v1/branches", token).await,
        403,
        "password-change-required",
    )
    .await;
    let resp = app
        .post_as(
            "/v1/me/password",
            token,
            &json!({"current_password": "a long enough password", "new_password": "my very own passphrase"}),
        )
        .await;
    assert_eq!(resp.status(), 204);
    assert_eq!(app.get_as("/v1/branches", token).await.status(), 200);
    let again: Value = app
        .login("r.okafor", "my very own passphrase", "t")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(again["password_change_required"], false);

    // Every role reads the directory.
    let peer = app.account(Role::Peer, &[id]).await;
    let branches: Value = app
        .get_as("/v1/branches", &peer.token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(branches["items"][0]["code"], "MAIN");
}

#[tokio::test]
async fn duplicates_and_bad_fields_are_refused_by_name() {
    let app = spawn_app().await;
    let admin = app.admin().await.token.clone();
    app.branch("MAIN").await;
    let dup = app
        .post_as(
            "/v1/branches",
            &admin,
            &json!({"code": "MAIN", "name": "Again"}),
        )
        .await;
    assert_problem(dup, 409, "conflict").await;

    let body = json!({
        "username": "a b", "display_name": "", "role": "peer",
        "branches": [Uuid::now_v7()], "password": "short"
    });
    let resp = app.post_as("/v1/staff", &admin, &body).await;
    let problem = assert_problem(resp, 422, "validation").await;
    let fields: HashSet<&str> = problem["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(
        fields,
        HashSet::from(["username", "display_name", "password"])
    );

    let unknown_branch = json!({
        "username": "pat.doe", "display_name": "Pat", "role": "peer",
        "branches": [Uuid::now_v7()], "password": "a long enough password"
    });
    let problem = assert_problem(
        app.post_as("/v1/staff", &admin, &unknown_branch).await,
        422,
        "validation",
    )
    .await;
    assert_eq!(problem["errors"][0]["field"], "branches");

    let bad_role = json!({"username": "pat.doe", "display_name": "Pat", "role": "root", "password": "a long enough password"});
    let problem = assert_problem(
        app.post_as("/v1/staff", &admin, &bad_role).await,
        422,
        "validation",
    )
    .await;
    assert_eq!(problem["errors"][0]["field"], "role");
    assert!(
        problem["errors"][0]["message"]
            .as_str()
            .unwrap()
            .starts_with("must be one of: peer, social_worker"),
        "{problem}"
    );

    let peer = app.account(Role::Peer, &[]).await;
    let taken = json!({"username": peer.username, "display_name": "X", "role": "peer", "password": "a long enough password"});
    assert_problem(
        app.post_as("/v1/staff", &admin, &taken).await,
        409,
        "conflict",
    )
    .await;
    // Nothing was half-written: the refused accounts do not exist.
    let list: Value = app
        .get_as("/v1/staff?limit=200", &admin)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list["items"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn only_admins_change_the_directory() {
    let app = spawn_app().await;
    for role in [
        Role::Peer,
        Role::SocialWorker,
        Role::Supervisor,
        Role::Staff,
        Role::Security,
        Role::Auditor,
    ] {
        let a = app.account(role, &[]).await;
        let resp = app
            .post_as(
                "/v1/branches",
                &a.token,
                &json!({"code": "X1", "name": "X"}),
            )
            .await;
        assert_problem(resp, 403, "forbidden").await;
    }
}

#[tokio::test]
async fn updates_need_the_current_etag() {
    let app = spawn_app().await;
    let admin = app.admin().await.token.clone();
    let id = app.branch("EAST").await;
    let path = format!("/v1/branches/{id}");

    let no_if_match = app
        .client
        .patch(app.url(&path))
        .bearer_auth(&admin)
        .json(&json!({"name": "Eastside"}))
        .send()
        .await
        .unwrap();
    assert_problem(no_if_match, 428, "precondition-required").await;

    let resp = app
        .patch_as(&path, &admin, "\"1\"", &json!({"name": "Eastside"}))
        .await;
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["etag"], "\"2\"");

    // A tablet that read version 1 tries again: 412 with the record as it is now.
    let stale = app
        .patch_as(&path, &admin, "\"1\"", &json!({"name": "East Side"}))
        .await;
    let problem = assert_problem(stale, 412, "stale").await;
    assert_eq!(problem["current"]["name"], "Eastside");
    assert_eq!(problem["current"]["version"], 2);

    let read = app.get_as(&path, &admin).await;
    assert_eq!(read.headers()["etag"], "\"2\"");
}

#[tokio::test]
async fn staff_pages_return_every_account_exactly_once() {
    let app = spawn_app().await;
    let admin = app.admin().await.token.clone();
    let mut created = HashSet::new();
    for i in 0..23 {
        let resp = app
            .post_as(
                "/v1/staff",
                &admin,
                &json!({"username": format!("user{i:02}"), "display_name": "Invented", "role": "peer", "password": "a long enough password"}),
            )
            .await;
        assert_eq!(resp.status(), 201);
        let v: Value = resp.json().await.unwrap();
        created.insert(v["id"].as_str().unwrap().to_owned());
    }
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(c) => format!("/v1/staff?limit=5&cursor={c}"),
            None => "/v1/staff?limit=5".to_owned(),
        };
        let page: Value = app.get_as(&path, &admin).await.json().await.unwrap();
        for item in page["items"].as_array().unwrap() {
            seen.push(item["id"].as_str().unwrap().to_owned());
        }
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => break,
        }
    }
    let unique: HashSet<_> = seen.iter().cloned().collect();
    assert_eq!(unique.len(), seen.len(), "no account twice");
    assert!(created.is_subset(&unique));
    assert_eq!(seen.len(), 24, "23 made here plus the admin");

    let bad = app.get_as("/v1/staff?cursor=%%%", &admin).await;
    assert_eq!(bad.status().as_u16() / 100, 4);
    assert_problem(
        app.get_as("/v1/staff?limit=0", &admin).await,
        400,
        "invalid-parameter",
    )
    .await;
}
