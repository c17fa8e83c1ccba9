//! Conditional reads: `If-None-Match` with the current `ETag` answers 304
//! with no body, audited as the read it is; weak tags and lists compare as
//! RFC 9110 says; a caller who may not read the record gets the same 404 as
//! without the header.

use casework::domain::Role;
use serde_json::{Value, json};

use crate::helpers::{TestApp, spawn_app};

async fn read_if(app: &TestApp, path: &str, token: &str, tags: &str) -> reqwest::Response {
    app.client
        .get(app.url(path))
        .bearer_auth(token)
        .header("If-None-Match", tags)
        .send()
        .await
        .unwrap()
}

async fn not_modified(resp: reqwest::Response, etag: &str) {
    assert_eq!(resp.status(), 304);
    assert_eq!(resp.headers()["etag"], etag);
    assert_eq!(resp.headers()["cache-control"], "no-store");
    assert!(resp.headers().get("content-type").is_none());
    assert_eq!(resp.bytes().await.unwrap().len(), 0, "a 304 has no body");
}

async fn allowed_reads(app: &TestApp, auditor: &str, record: &str, actor: &str) -> usize {
    let resp = app
        .get_as(
            &format!(
                "/v1/audit/events?limit=500&action=read&outcome=allowed&record_id={record}&actor_id={actor}"
            ),
            auditor,
        )
        .await;
    assert_eq!(resp.status(), 200);
    let body: Value = resp.json().await.unwrap();
    body["items"].as_array().unwrap().len()
}

#[tokio::test]
async fn every_read_with_an_etag_declares_if_none_match_and_304() {
    let app = spawn_app().await;
    let spec: Value = app.get("/openapi.json").await.json().await.unwrap();
    let mut reads = 0;
    for (path, item) in spec["paths"].as_object().unwrap() {
        let Some(get) = item.get("get") else { continue };
        let has_etag = get["responses"]["200"]["headers"]
            .as_object()
            .is_some_and(|h| h.keys().any(|k| k.eq_ignore_ascii_case("etag")));
        let declares = get["parameters"]
            .as_array()
            .is_some_and(|ps| ps.iter().any(|p| p["name"] == "If-None-Match"));
        assert_eq!(has_etag, declares, "{path}: If-None-Match");
        assert_eq!(
            has_etag,
            get["responses"].get("304").is_some(),
            "{path}: 304"
        );
        reads += usize::from(has_etag);
    }
    assert!(
        reads >= 10,
        "only {reads} single-record reads declare ETags"
    );
}

#[tokio::test]
async fn a_current_etag_answers_304_audited_and_nothing_to_anyone_else() {
    let app = spawn_app().await;
    let main = app.branch("MAIN").await;
    let east = app.branch("EAST").await;
    let worker = app.account(Role::SocialWorker, &[main]).await;
    let outsider = app.account(Role::SocialWorker, &[east]).await;
    let auditor = app.account(Role::Auditor, &[]).await;

    let patron: Value = app
        .post_as(
            "/v1/patrons",
            &worker.token,
            &json!({"preferred_name": "Orla Venn (invented)", "home_branch_id": main}),
        )
        .await
        .json()
        .await
        .unwrap();
    let patron_id = patron["patron"]["id"].as_str().unwrap().to_owned();
    let opened = app
        .post_as(
            "/v1/cases",
            &worker.token,
            &json!({"patron_id": patron_id, "summary": "Looking for a room."}),
        )
        .await;
    assert_eq!(opened.status(), 201);
    let case: Value = opened.json().await.unwrap();
    let case_id = case["id"].as_str().unwrap().to_owned();
    let path = format!("/v1/cases/{case_id}");

    let first = app.get_as(&path, &worker.token).await;
    assert_eq!(first.status(), 200);
    // No cache keeps a record: the client revalidates with its own copy.
    assert_eq!(first.headers()["cache-control"], "no-store");
    let etag = first.headers()["etag"].to_str().unwrap().to_owned();
    assert_eq!(etag, "\"1\"");

    // The current tag, weak or strong, alone or in a list, or `*`.
    for tags in [
        etag.clone(),
        format!("W/{etag}"),
        format!("\"7\", W/\"a,b\", {etag}"),
        "*".to_owned(),
    ] {
        not_modified(read_if(&app, &path, &worker.token, &tags).await, &etag).await;
    }
    // A tag that is not current gets the whole record.
    let other = read_if(&app, &path, &worker.token, "\"2\", W/\"3\"").await;
    assert_eq!(other.status(), 200);
    assert_eq!(other.json::<Value>().await.unwrap()["id"], case_id.as_str());

    // Each 304 is a read in the audit trail, as a 200 is: six reads so far.
    let mut reads = 0;
    for _ in 0..50 {
        reads = allowed_reads(&app, &auditor.token, &case_id, &worker.id.to_string()).await;
        if reads >= 6 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(reads, 6, "every read, 304 or 200, is audited");

    // Someone who may not read the case learns nothing from the tag: the
    // same 404 as without it, for the real case and for a made-up one.
    let refused = read_if(&app, &path, &outsider.token, &etag).await;
    assert_eq!(refused.status(), 404);
    let made_up = read_if(
        &app,
        &format!("/v1/cases/{}", uuid::Uuid::now_v7()),
        &outsider.token,
        "*",
    )
    .await;
    assert_eq!(made_up.status(), 404);
    let without_id = |mut v: Value| {
        v.as_object_mut().unwrap().remove("request_id");
        v
    };
    assert_eq!(
        without_id(refused.json().await.unwrap()),
        without_id(made_up.json().await.unwrap())
    );

    // A change makes the old tag stale: the whole record again, new tag.
    let changed = app
        .patch_as(
            &path,
            &worker.token,
            &etag,
            &json!({"summary": "Found a room; following up."}),
        )
        .await;
    assert_eq!(changed.status(), 200);
    let after = read_if(&app, &path, &worker.token, &etag).await;
    assert_eq!(after.status(), 200);
    assert_eq!(after.headers()["etag"], "\"2\"");
    not_modified(read_if(&app, &path, &worker.token, "\"2\"").await, "\"2\"").await;

    // Lists carry no ETag: `*` does not turn them into 304.
    let list = read_if(&app, "/v1/me/caseload", &worker.token, "*").await;
    assert_eq!(list.status(), 200);
}

#[tokio::test]
async fn the_safety_side_and_the_directory_answer_304_too() {
    let app = spawn_app().await;
    let main = app.branch("MAIN").await;
    let security = app.account(Role::Security, &[main]).await;
    let worker = app.account(Role::SocialWorker, &[main]).await;
    let admin = app.admin().await.clone();

    let incident: Value = app
        .post_as(
            "/v1/incidents",
            &security.token,
            &json!({"branch_id": main, "occurred_at": chrono::Utc::now().to_rfc3339(),
                    "category": "disturbance", "description": "Invented: a raised voice.",
                    "action_taken": "warning"}),
        )
        .await
        .json()
        .await
        .unwrap();
    let path = format!("/v1/incidents/{}", incident["id"].as_str().unwrap());
    let etag = app.get_as(&path, &security.token).await.headers()["etag"]
        .to_str()
        .unwrap()
        .to_owned();
    not_modified(read_if(&app, &path, &security.token, &etag).await, &etag).await;
    // Across the wall the tag opens nothing: the same refusal as without it.
    let without = app.get_as(&path, &worker.token).await.status();
    assert!(without.is_client_error());
    assert_eq!(
        read_if(&app, &path, &worker.token, &etag).await.status(),
        without
    );

    let staff = format!("/v1/staff/{}", worker.id);
    let etag = app.get_as(&staff, &admin.token).await.headers()["etag"]
        .to_str()
        .unwrap()
        .to_owned();
    not_modified(read_if(&app, &staff, &admin.token, &etag).await, &etag).await;
}
