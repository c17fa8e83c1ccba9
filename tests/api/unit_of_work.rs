//! One unit of work per operation: idempotent replays re-checked and
//! audited, keys stored with the work, versions guarded in the statement,
//! sign-in throttling decided and counted together, a panicking unit and a
//! dying writer survived, list disclosures findable by patron, and the
//! change log.

use std::time::Duration;

use casework::{
    audit::{AuditContext, Outcome},
    domain::{RecordKind, Role},
    error::ServiceError,
};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::{Account, TestApp, assert_problem, spawn_app, spawn_second_instance};

async fn post_keyed(
    app: &TestApp,
    token: &str,
    path: &str,
    key: &str,
    body: &Value,
) -> reqwest::Response {
    app.client
        .post(app.url(path))
        .bearer_auth(token)
        .header("Idempotency-Key", key)
        .json(body)
        .send()
        .await
        .expect("request")
}

async fn json_of(resp: reqwest::Response, status: u16) -> Value {
    assert_eq!(resp.status().as_u16(), status);
    resp.json().await.expect("json")
}

async fn patrons_with_id(app: &TestApp, id: &str) -> u64 {
    let id: Uuid = id.parse().unwrap();
    entities::patron::Entity::find_by_id(id)
        .count(&app.db)
        .await
        .unwrap()
}

async fn keys_named(app: &TestApp, key: &str) -> Vec<entities::idempotency_record::Model> {
    entities::idempotency_record::Entity::find()
        .filter(entities::idempotency_record::Column::Key.eq(key))
        .all(&app.db)
        .await
        .unwrap()
}

fn patron_body(branch: Uuid, name: &str) -> Value {
    json!({"preferred_name": name, "birth_year": 1980, "home_branch_id": branch})
}

async fn worker_in_new_branch(app: &TestApp, code: &str) -> (Uuid, Account) {
    let branch = app.branch(code).await;
    let worker = app.account(Role::SocialWorker, &[branch]).await;
    (branch, worker)
}

#[tokio::test]
async fn a_replay_answers_with_the_record_as_it_is_now_and_is_audited() {
    let app = spawn_app().await;
    let (branch, worker) = worker_in_new_branch(&app, "UOWA").await;
    let body = patron_body(branch, "Rowan Placeholder");
    let first = post_keyed(&app, &worker.token, "/v1/patrons", "tablet-1", &body).await;
    assert!(first.headers().get("idempotent-replayed").is_none());
    let first = json_of(first, 201).await;
    let id = first["patron"]["id"].as_str().unwrap().to_owned();

    let again = post_keyed(&app, &worker.token, "/v1/patrons", "tablet-1", &body).await;
    assert_eq!(
        again
            .headers()
            .get("idempotent-replayed")
            .and_then(|v| v.to_str().ok()),
        Some("true")
    );
    let again = json_of(again, 201).await;
    assert_eq!(
        again["patron"]["id"], id,
        "the same record, not a second one"
    );
    assert_eq!(patrons_with_id(&app, &id).await, 1);
    // The same key with another body is refused and names the header.
    let other = post_keyed(
        &app,
        &worker.token,
        "/v1/patrons",
        "tablet-1",
        &patron_body(branch, "Someone Else"),
    )
    .await;
    let p = assert_problem(other, 422, "idempotency-key-reused").await;
    assert!(p["errors"].to_string().contains("Idempotency-Key"));
    // The replay is audited as a read by the caller.
    let auditor = app.account(Role::Auditor, &[]).await;
    let events = json_of(
        app.get_as(&format!("/v1/audit/events?record_id={id}"), &auditor.token)
            .await,
        200,
    )
    .await;
    let actions: Vec<&str> = events["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["actor_id"] == worker.id.to_string())
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert!(actions.contains(&"create"), "{actions:?}");
    assert!(
        actions.contains(&"read"),
        "the replay left no trace: {actions:?}"
    );
    // The key is stored with the record it made, not the record's content.
    let keys = keys_named(&app, "tablet-1").await;
    assert_eq!(keys.len(), 1);
    assert_eq!((keys[0].record_id.to_string(), keys[0].status), (id, 201));
}

#[tokio::test]
async fn a_revoked_session_cannot_replay() {
    let app = spawn_app().await;
    let (branch, worker) = worker_in_new_branch(&app, "UOWB").await;
    let body = patron_body(branch, "Sasha Invented");
    json_of(
        post_keyed(&app, &worker.token, "/v1/patrons", "lost-tablet", &body).await,
        201,
    )
    .await;
    let resp = app
        .delete_as(
            &format!("/v1/me/sessions/{}", worker.session_id),
            &worker.token,
        )
        .await;
    assert_eq!(resp.status(), 204);
    let replay = post_keyed(&app, &worker.token, "/v1/patrons", "lost-tablet", &body).await;
    assert_problem(replay, 401, "session-ended").await;
}

/// The create's own policy answers before the key is looked at: a caller
/// who may no longer make the record is refused (403), not replayed.
#[tokio::test]
async fn a_caller_who_may_no_longer_make_the_record_is_refused_on_replay() {
    let app = spawn_app().await;
    let (branch, worker) = worker_in_new_branch(&app, "UOWC").await;
    let body = patron_body(branch, "Kit Madeup");
    json_of(
        post_keyed(&app, &worker.token, "/v1/patrons", "before-move", &body).await,
        201,
    )
    .await;
    // The worker becomes front-line staff: no casework at all. The role
    // change ends the session; signed in again, the replay is refused.
    let admin = app.admin().await.token.clone();
    let path = format!("/v1/staff/{}", worker.id);
    let current = app.get_as(&path, &admin).await;
    let etag = current.headers()["etag"].to_str().unwrap().to_owned();
    let resp = app
        .patch_as(&path, &admin, &etag, &json!({"role": "staff"}))
        .await;
    assert_eq!(resp.status(), 200);
    let ended = post_keyed(&app, &worker.token, "/v1/patrons", "before-move", &body).await;
    assert_problem(ended, 401, "session-ended").await;
    let again: Value = app
        .login(&worker.username, &worker.password, "tablet")
        .await
        .json()
        .await
        .unwrap();
    let token = again["access_token"].as_str().unwrap();
    let replay = post_keyed(&app, token, "/v1/patrons", "before-move", &body).await;
    assert_eq!(replay.status(), 403);
    assert!(replay.headers().get("idempotent-replayed").is_none());
    let text = replay.text().await.unwrap();
    assert!(
        !text.contains("Kit Madeup"),
        "no content for a caller out of scope"
    );
}

/// A replay is rendered by the read: a caller who may still make the record
/// but may no longer read it gets 404, as for any read of it.
#[tokio::test]
async fn a_caller_who_may_no_longer_read_the_record_gets_404_on_replay() {
    let app = spawn_app().await;
    let (branch, worker) = worker_in_new_branch(&app, "UOWG").await;
    let successor = app.account(Role::SocialWorker, &[branch]).await;
    let supervisor = app.account(Role::Supervisor, &[branch]).await;
    let patron = json_of(
        app.post_as(
            "/v1/patrons",
            &worker.token,
            &patron_body(branch, "Noor Imagined"),
        )
        .await,
        201,
    )
    .await;
    let body = json!({"patron_id": patron["patron"]["id"], "summary": "Invented summary"});
    let case = json_of(
        post_keyed(&app, &worker.token, "/v1/cases", "before-reassign", &body).await,
        201,
    )
    .await;
    let id = case["id"].as_str().unwrap().to_owned();
    // The case moves to another worker: its first owner no longer sees it.
    let moved = app
        .client
        .post(app.url(&format!("/v1/cases/{id}/reassign")))
        .bearer_auth(&supervisor.token)
        .header("If-Match", "\"1\"")
        .json(&json!({"owner_id": successor.id}))
        .send()
        .await
        .unwrap();
    assert_eq!(moved.status(), 200);
    let replay = post_keyed(&app, &worker.token, "/v1/cases", "before-reassign", &body).await;
    assert_eq!(replay.status(), 404);
    assert!(replay.headers().get("idempotent-replayed").is_none());
    let text = replay.text().await.unwrap();
    assert!(
        !text.contains("Invented summary"),
        "no content for a caller out of scope"
    );
}

#[tokio::test]
async fn a_request_abandoned_mid_flight_leaves_no_pending_key() {
    let app = spawn_app().await;
    let (branch, worker) = worker_in_new_branch(&app, "UOWD").await;
    let id = Uuid::now_v7();
    let body = json!({"id": id, "preferred_name": "Ari Fictional", "home_branch_id": branch});
    // The tablet gives up almost at once; the server may or may not have
    // committed. Either way the key and the record agree.
    let url = app.url("/v1/patrons");
    let client = app.client.clone();
    let token = worker.token.clone();
    let sent = body.clone();
    let abandoned = tokio::spawn(async move {
        let _ = tokio::time::timeout(
            Duration::from_millis(2),
            client
                .post(url)
                .bearer_auth(token)
                .header("Idempotency-Key", "flaky-wifi")
                .json(&sent)
                .send(),
        )
        .await;
    });
    abandoned.await.unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let patrons = patrons_with_id(&app, &id.to_string()).await;
    let keys = keys_named(&app, "flaky-wifi").await.len() as u64;
    assert_eq!(
        patrons, keys,
        "a key exists exactly when its work committed"
    );
    // The retry gets the record, made once.
    let retry = post_keyed(&app, &worker.token, "/v1/patrons", "flaky-wifi", &body).await;
    let retry = json_of(retry, 201).await;
    assert_eq!(retry["patron"]["id"], id.to_string());
    assert_eq!(patrons_with_id(&app, &id.to_string()).await, 1);
}

#[tokio::test]
async fn a_keyed_post_without_content_length_is_refused_before_its_body_is_read() {
    let app = spawn_app().await;
    let (_, worker) = worker_in_new_branch(&app, "UOWE").await;
    let chunks: Vec<Result<Vec<u8>, std::io::Error>> = (0..4)
        .map(|_| Ok(b"{\"preferred_name\":".to_vec()))
        .collect();
    let resp = app
        .client
        .post(app.url("/v1/patrons"))
        .bearer_auth(&worker.token)
        .header("Idempotency-Key", "chunked")
        .header("content-type", "application/json")
        .body(reqwest::Body::wrap_stream(futures_util::stream::iter(
            chunks,
        )))
        .send()
        .await
        .unwrap();
    assert_problem(resp, 411, "length-required").await;
}

#[tokio::test]
async fn parallel_wrong_passwords_are_all_counted() {
    let app = spawn_app().await;
    let branch = app.branch("UOWF").await;
    let target = app.account(Role::Peer, &[branch]).await;
    let mut tasks = Vec::new();
    for i in 0..12 {
        let client = app.client.clone();
        let url = app.url("/v1/auth/login");
        let username = target.username.clone();
        tasks.push(tokio::spawn(async move {
            client
                .post(url)
                .json(&json!({"username": username, "password": format!("wrong guess {i} here"), "device_name": "x"}))
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }));
    }
    let mut statuses = Vec::new();
    for t in tasks {
        statuses.push(t.await.unwrap());
    }
    let refused = statuses.iter().filter(|s| **s == 401).count();
    let throttled = statuses.iter().filter(|s| **s == 429).count();
    assert_eq!(
        refused, 5,
        "only five guesses reach the password check: {statuses:?}"
    );
    assert_eq!(throttled, 7, "{statuses:?}");
    // And the right password is locked out too, for now.
    let resp = app.login(&target.username, &target.password, "x").await;
    assert_eq!(resp.status(), 429);
}

#[tokio::test]
async fn a_panicking_unit_is_answered_audited_and_survived() {
    let app = spawn_app().await;
    let ctx = AuditContext {
        request_id: Some("panic-test".into()),
        ..Default::default()
    };
    let result: Result<(), ServiceError> = app
        .state
        .recorder
        .run(ctx, |u| {
            Box::pin(async move {
                u.begin(
                    casework::audit::Action::Update,
                    RecordKind::Patron,
                    Some(Uuid::nil()),
                );
                let bug = true;
                if bug {
                    panic!("a bug in a unit of work");
                }
                Ok(())
            })
        })
        .await;
    assert!(matches!(result, Err(ServiceError::Unexpected(_))));
    // Its event is in the trail, with the outcome `error`.
    let auditor = app.account(Role::Auditor, &[]).await;
    let events = json_of(
        app.get_as("/v1/audit/events?outcome=error", &auditor.token)
            .await,
        200,
    )
    .await;
    assert!(
        events["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["request_id"] == "panic-test"),
        "{events}"
    );
    assert_eq!(Outcome::Error.as_str(), "error");
    // The writer goes on.
    let (branch, worker) = worker_in_new_branch(&app, "UOWG").await;
    let resp = app
        .post_as(
            "/v1/patrons",
            &worker.token,
            &patron_body(branch, "Noa Sample"),
        )
        .await;
    assert_eq!(resp.status(), 201);
}

#[tokio::test]
async fn a_dead_writer_is_started_again_and_readyz_says_so() {
    let app = spawn_app().await;
    app.state.recorder.crash_writer_for_tests().await;
    // Ready again within a few seconds, and writes work.
    let mut ready = false;
    for _ in 0..50 {
        if app.get("/readyz").await.status() == 200 && app.state.recorder.is_running() {
            ready = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(ready, "the writer did not come back");
    let (branch, worker) = worker_in_new_branch(&app, "UOWH").await;
    let resp = app
        .post_as(
            "/v1/patrons",
            &worker.token,
            &patron_body(branch, "Indy Example"),
        )
        .await;
    assert_eq!(resp.status(), 201);
}

#[tokio::test]
async fn list_disclosures_are_found_by_patron_id() {
    let app = spawn_app().await;
    let (branch, worker) = worker_in_new_branch(&app, "UOWI").await;
    let p = json_of(
        app.post_as(
            "/v1/patrons",
            &worker.token,
            &patron_body(branch, "Quill Notreal"),
        )
        .await,
        201,
    )
    .await;
    let pid = p["patron"]["id"].as_str().unwrap().to_owned();
    let colleague = app.account(Role::SocialWorker, &[branch]).await;
    let found = json_of(
        app.get_as("/v1/patrons?q=quill", &colleague.token).await,
        200,
    )
    .await;
    assert_eq!(found["items"][0]["id"], pid);
    let auditor = app.account(Role::Auditor, &[]).await;
    let events = json_of(
        app.get_as(&format!("/v1/audit/events?patron_id={pid}"), &auditor.token)
            .await,
        200,
    )
    .await;
    assert!(
        events["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| { e["actor_id"] == colleague.id.to_string() && e["action"] == "search" }),
        "the search that disclosed the patron is in their accounting: {events}"
    );
}

#[tokio::test]
async fn two_instances_changing_one_version_cannot_both_win() {
    let app = spawn_app().await;
    let other = spawn_second_instance(&app).await;
    let branch = app.branch("UOWJ").await;
    let worker = app.account(Role::SocialWorker, &[branch]).await;
    let supervisor = app.account(Role::Supervisor, &[branch]).await;
    let p = json_of(
        app.post_as(
            "/v1/patrons",
            &worker.token,
            &patron_body(branch, "Vale Pretend"),
        )
        .await,
        201,
    )
    .await;
    let path = format!("/v1/patrons/{}", p["patron"]["id"].as_str().unwrap());
    let (en, es) = (json!({"language": "en"}), json!({"language": "es"}));
    let (a, b) = tokio::join!(
        app.patch_as(&path, &supervisor.token, "\"1\"", &en),
        other.patch_as(&path, &supervisor.token, "\"1\"", &es),
    );
    let mut statuses = [a.status().as_u16(), b.status().as_u16()];
    statuses.sort();
    assert_eq!(statuses, [200, 412]);
    let now = json_of(app.get_as(&path, &supervisor.token).await, 200).await;
    assert_eq!(now["version"], 2);
}

#[tokio::test]
async fn team_changes_end_memberships_and_append_to_the_change_log_in_order() {
    let app = spawn_app().await;
    let (branch, worker) = worker_in_new_branch(&app, "UOWK").await;
    let peer = app.account(Role::Peer, &[branch]).await;
    let p = json_of(
        app.post_as(
            "/v1/patrons",
            &worker.token,
            &patron_body(branch, "Wren Imaginary"),
        )
        .await,
        201,
    )
    .await;
    let case = json_of(
        app.post_as(
            "/v1/cases",
            &worker.token,
            &json!({"patron_id": p["patron"]["id"]}),
        )
        .await,
        201,
    )
    .await;
    let case_id = case["id"].as_str().unwrap().to_owned();
    let team = app
        .client
        .post(app.url(&format!("/v1/cases/{case_id}/team")))
        .bearer_auth(&worker.token)
        .header("If-Match", "\"1\"")
        .json(&json!({"staff_id": peer.id}))
        .send()
        .await
        .unwrap();
    assert_eq!(team.status(), 200);
    let removed = app
        .client
        .delete(app.url(&format!("/v1/cases/{case_id}/team/{}", peer.id)))
        .bearer_auth(&worker.token)
        .header("If-Match", "\"2\"")
        .send()
        .await
        .unwrap();
    assert_eq!(removed.status(), 200);
    // The membership ended; it was not deleted.
    let members = entities::case_member::Entity::find()
        .filter(entities::case_member::Column::CaseId.eq(case_id.parse::<Uuid>().unwrap()))
        .all(&app.db)
        .await
        .unwrap();
    assert_eq!(members.len(), 1);
    assert_eq!(members[0].ended_by, Some(worker.id));
    assert!(members[0].ended_at.is_some());
    assert_eq!(
        app.get_as(&format!("/v1/cases/{case_id}"), &peer.token)
            .await
            .status(),
        404
    );
    // Create, add, remove: three rows for the case, numbered in commit order.
    let rows = entities::change_log::Entity::find()
        .order_by_asc(entities::change_log::Column::Seq)
        .all(&app.db)
        .await
        .unwrap();
    let mut last = 0i64;
    let mut for_case = 0;
    for r in &rows {
        assert!(r.seq > last, "sequence numbers increase");
        last = r.seq;
        if r.kind == "case" && r.record_id.to_string() == case_id {
            for_case += 1;
        }
    }
    assert_eq!(for_case, 3);
    assert_eq!(rows.len() as i64, last, "no gaps");
}

#[tokio::test]
async fn a_retried_close_is_replayed_not_refused_as_stale() {
    let app = spawn_app().await;
    let (branch, worker) = worker_in_new_branch(&app, "UOWL").await;
    let p = json_of(
        app.post_as(
            "/v1/patrons",
            &worker.token,
            &patron_body(branch, "Yael Unreal"),
        )
        .await,
        201,
    )
    .await;
    let case = json_of(
        app.post_as(
            "/v1/cases",
            &worker.token,
            &json!({"patron_id": p["patron"]["id"]}),
        )
        .await,
        201,
    )
    .await;
    let path = format!("/v1/cases/{}/close", case["id"].as_str().unwrap());
    let close = |key: &'static str| {
        app.client
            .post(app.url(&path))
            .bearer_auth(&worker.token)
            .header("If-Match", "\"1\"")
            .header("Idempotency-Key", key)
            .json(&json!({"reason": "Housed; no further need."}))
            .send()
    };
    let first = json_of(close("close-1").await.unwrap(), 200).await;
    assert_eq!(first["status"], "closed");
    // The tablet lost the answer and sends the same request again.
    let again = close("close-1").await.unwrap();
    assert_eq!(
        again
            .headers()
            .get("idempotent-replayed")
            .and_then(|v| v.to_str().ok()),
        Some("true")
    );
    let again = json_of(again, 200).await;
    assert_eq!(again["status"], "closed");
    assert_eq!(again["version"], 2, "closed once");
    // Without the key the same request is stale, as before.
    let stale = app
        .client
        .post(app.url(&path))
        .bearer_auth(&worker.token)
        .header("If-Match", "\"1\"")
        .json(&json!({"reason": "Housed; no further need."}))
        .send()
        .await
        .unwrap();
    assert_eq!(stale.status(), 412);
}

#[tokio::test]
async fn directory_changes_are_in_the_change_log_and_keyed_creates_replay() {
    let app = spawn_app().await;
    let admin = app.admin().await.token.clone();
    let body = json!({"code": "UOWM", "name": "Mill Street branch"});
    let first = json_of(
        post_keyed(&app, &admin, "/v1/branches", "b-1", &body).await,
        201,
    )
    .await;
    let again = post_keyed(&app, &admin, "/v1/branches", "b-1", &body).await;
    assert_eq!(
        again
            .headers()
            .get("idempotent-replayed")
            .and_then(|v| v.to_str().ok()),
        Some("true")
    );
    assert_eq!(json_of(again, 201).await["id"], first["id"]);
    let id: Uuid = first["id"].as_str().unwrap().parse().unwrap();
    let logged = entities::change_log::Entity::find()
        .filter(entities::change_log::Column::RecordId.eq(id))
        .all(&app.db)
        .await
        .unwrap();
    assert_eq!(logged.len(), 1);
    assert_eq!(logged[0].kind, "branch");
}

/// Makes the keys named `key` a day and an hour older.
async fn age_key(app: &TestApp, key: &str) {
    use sea_orm::{ActiveModelTrait, ActiveValue::Set, IntoActiveModel};
    for k in keys_named(app, key).await {
        let created = k.created_at;
        let mut old = k.into_active_model();
        old.created_at = Set(created - chrono::Duration::hours(25));
        old.update(&app.db).await.unwrap();
    }
}

#[tokio::test]
async fn a_key_older_than_a_day_is_free_again_and_swept() {
    let app = spawn_app().await;
    let (branch, worker) = worker_in_new_branch(&app, "UOWK").await;
    let first = json_of(
        post_keyed(
            &app,
            &worker.token,
            "/v1/patrons",
            "old-key",
            &patron_body(branch, "Quinn Sample"),
        )
        .await,
        201,
    )
    .await;
    let fresh = json_of(
        post_keyed(
            &app,
            &worker.token,
            "/v1/patrons",
            "new-key",
            &patron_body(branch, "Sasha Sample"),
        )
        .await,
        201,
    )
    .await;
    // A day and an hour later, as far as the key is concerned.
    age_key(&app, "old-key").await;
    // The old key, with another body: a new record, not `422 reused`.
    let again = post_keyed(
        &app,
        &worker.token,
        "/v1/patrons",
        "old-key",
        &patron_body(branch, "Remy Sample"),
    )
    .await;
    assert!(again.headers().get("idempotent-replayed").is_none());
    let again = json_of(again, 201).await;
    assert_ne!(again["patron"]["id"], first["patron"]["id"]);
    assert_eq!(keys_named(&app, "old-key").await.len(), 1);

    // The sweep deletes what is older than a day, and nothing else.
    age_key(&app, "old-key").await;
    assert_eq!(casework::unit::sweep_keys(&app.state).await.unwrap(), 1);
    assert!(keys_named(&app, "old-key").await.is_empty());
    assert_eq!(keys_named(&app, "new-key").await.len(), 1);
    // The key that was not old still replays its first answer.
    let replay = post_keyed(
        &app,
        &worker.token,
        "/v1/patrons",
        "new-key",
        &patron_body(branch, "Sasha Sample"),
    )
    .await;
    assert_eq!(
        json_of(replay, 201).await["patron"]["id"],
        fresh["patron"]["id"]
    );
}

/// Two instances on one database, the same record created on both at once
/// with one client id and no `Idempotency-Key`: one is created, the other
/// is told it conflicts (409), never a server error.
#[tokio::test]
async fn the_same_id_created_on_two_instances_at_once_conflicts_cleanly() {
    let first = spawn_app().await;
    let second = spawn_second_instance(&first).await;
    let (branch, worker) = worker_in_new_branch(&first, "RACE").await;
    for _ in 0..25 {
        let id = Uuid::now_v7();
        let body = json!({"id": id, "branch_id": branch, "kind": "drop_in"});
        let (a, b) = tokio::join!(
            first.post_as("/v1/contacts", &worker.token, &body),
            second.post_as("/v1/contacts", &worker.token, &body),
        );
        let mut statuses = [a.status().as_u16(), b.status().as_u16()];
        statuses.sort();
        assert_eq!(statuses, [201, 409], "one made, the other told");
    }
}

/// The same refresh token presented to two instances at once is used once:
/// never two new pairs from one token.
#[tokio::test]
async fn one_refresh_token_rotates_once_across_two_instances() {
    let first = spawn_app().await;
    let second = spawn_second_instance(&first).await;
    let peer = first.account(Role::Peer, &[]).await;
    for round in 0..15 {
        let login: Value = first
            .login(&peer.username, &peer.password, &format!("tablet {round}"))
            .await
            .json()
            .await
            .unwrap();
        let body = json!({"refresh_token": login["refresh_token"]});
        let (a, b) = tokio::join!(
            first.post_json("/v1/auth/refresh", &body),
            second.post_json("/v1/auth/refresh", &body),
        );
        let statuses = [a.status().as_u16(), b.status().as_u16()];
        assert!(
            statuses.iter().filter(|s| **s == 200).count() <= 1,
            "{statuses:?}"
        );
        assert!(
            statuses.iter().all(|s| matches!(s, 200 | 401)),
            "{statuses:?}"
        );
    }
}
