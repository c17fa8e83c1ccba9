//! Security's side of the wall through the API: incidents (the 24-hour edit
//! window, amendments, search), suspensions (ending by themselves, lifting),
//! and support requests (the one door, the requester's status-only view).

use casework::domain::Role;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::{TestApp, assert_problem, spawn_app};

async fn created(resp: reqwest::Response) -> Value {
    assert_eq!(resp.status(), 201, "created");
    resp.json().await.unwrap()
}

fn ids(page: &Value) -> Vec<&str> {
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_str().unwrap())
        .collect()
}

fn keys(v: &Value) -> Vec<&str> {
    let mut k: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
    k.sort();
    k
}

async fn incident(app: &TestApp, token: &str, branch: Uuid, description: &str) -> Value {
    created(
        app.post_as(
            "/v1/incidents",
            token,
            &json!({"branch_id": branch, "occurred_at": chrono::Utc::now().to_rfc3339(),
                    "category": "disturbance", "description": description,
                    "action_taken": "warning",
                    "persons_involved": "An adult in a green coat (invented)."}),
        )
        .await,
    )
    .await
}

#[tokio::test]
async fn incidents_close_to_edits_after_24_hours_and_take_amendments() {
    let app = spawn_app().await;
    let main = app.branch("MAIN").await;
    let east = app.branch("EAST").await;
    let mut staff = app.account(Role::Staff, &[main]).await;
    let east_staff = app.account(Role::Staff, &[east]).await;
    let mut security = app.account(Role::Security, &[]).await;
    let mut colleague = app.account(Role::Staff, &[main]).await;

    // Staff report at their own branches only.
    let resp = app
        .post_as(
            "/v1/incidents",
            &east_staff.token,
            &json!({"branch_id": main, "occurred_at": chrono::Utc::now().to_rfc3339(),
                    "category": "other", "description": "Invented.", "action_taken": "none"}),
        )
        .await;
    assert_problem(resp, 403, "forbidden").await;

    let resp = app
        .post_as(
            "/v1/incidents",
            &staff.token,
            &json!({"branch_id": main, "occurred_at": chrono::Utc::now().to_rfc3339(),
                    "category": "disturbance", "description": "Loud argument near the\nreading room.",
                    "action_taken": "warning",
                    "responders": [{"staff_id": staff.id, "part": "lead"},
                                   {"staff_id": colleague.id, "part": "witness"}]}),
        )
        .await;
    let etag = resp.headers()["etag"].to_str().unwrap().to_owned();
    let i = created(resp).await;
    let id = i["id"].as_str().unwrap().to_owned();
    assert_eq!(i["responders"][1]["part"], "witness");
    assert_eq!(i["amendments"], json!([]));

    // An unknown responder is named.
    let resp = app
        .post_as(
            "/v1/incidents",
            &staff.token,
            &json!({"branch_id": main, "occurred_at": chrono::Utc::now().to_rfc3339(),
                    "category": "other", "description": "Invented.", "action_taken": "none",
                    "responders": [{"staff_id": Uuid::now_v7(), "part": "lead"}]}),
        )
        .await;
    let body = assert_problem(resp, 422, "validation").await;
    assert_eq!(body["errors"][0]["field"], "responders/0/staff_id");

    // Within the window the author (and security) may edit.
    let resp = app
        .patch_as(
            &format!("/v1/incidents/{id}"),
            &staff.token,
            &etag,
            &json!({"action_taken": "asked_to_leave"}),
        )
        .await;
    assert_eq!(resp.status(), 200);
    let etag = resp.headers()["etag"].to_str().unwrap().to_owned();
    // Another staff member of the branch reads it but may not change it.
    assert_eq!(
        app.get_as(&format!("/v1/incidents/{id}"), &colleague.token)
            .await
            .status(),
        200
    );
    let resp = app
        .patch_as(
            &format!("/v1/incidents/{id}"),
            &colleague.token,
            &etag,
            &json!({"action_taken": "none"}),
        )
        .await;
    assert_problem(resp, 403, "forbidden").await;
    // Staff of another branch: as if it did not exist.
    let resp = app
        .get_as(&format!("/v1/incidents/{id}"), &east_staff.token)
        .await;
    assert_problem(resp, 404, "not-found").await;

    // 24 hours later the report is closed to edits...
    app.state.clock.advance(chrono::Duration::hours(24));
    // The access tokens expired with it; the devices refresh them.
    for who in [&mut staff, &mut security, &mut colleague] {
        app.refresh(who).await;
    }
    let resp = app
        .patch_as(
            &format!("/v1/incidents/{id}"),
            &security.token,
            &etag,
            &json!({"description": "Rewritten."}),
        )
        .await;
    let body = assert_problem(resp, 409, "conflict").await;
    assert_eq!(body["errors"][0]["field"], "editable_until");

    // ...and takes amendments, each with its own author and time.
    let a = created(
        app.post_as(
            &format!("/v1/incidents/{id}/amendments"),
            &security.token,
            &json!({"text": "Security spoke with both people the next day."}),
        )
        .await,
    )
    .await;
    assert_eq!(a["created_by"], security.id.to_string());
    let resp = app
        .get_as(&format!("/v1/incidents/{id}"), &staff.token)
        .await;
    assert_eq!(
        resp.headers()["etag"],
        "\"3\"",
        "an amendment moves the version"
    );
    let read: Value = resp.json().await.unwrap();
    assert_eq!(read["description"], "Loud argument near the\nreading room.");
    assert_eq!(read["action_taken"], "asked_to_leave");
    assert_eq!(read["amendments"][0]["text"], a["text"]);
    // The colleague may not amend someone else's report.
    let resp = app
        .post_as(
            &format!("/v1/incidents/{id}/amendments"),
            &colleague.token,
            &json!({"text": "Invented."}),
        )
        .await;
    assert_problem(resp, 403, "forbidden").await;
}

#[tokio::test]
async fn security_searches_every_incident_and_staff_their_branches() {
    let app = spawn_app().await;
    let main = app.branch("MAIN").await;
    let east = app.branch("EAST").await;
    let staff = app.account(Role::Staff, &[main]).await;
    let security = app.account(Role::Security, &[]).await;
    let a = incident(
        &app,
        &security.token,
        main,
        "Argument over a computer booking.",
    )
    .await;
    let b = incident(&app, &security.token, east, "Argument in the café, Ñandú.").await;
    let c = created(
        app.post_as(
            "/v1/incidents",
            &security.token,
            &json!({"branch_id": east, "occurred_at": "2026-01-05T10:00:00Z",
                    "category": "medical", "description": "A fall on the stairs.",
                    "action_taken": "medical_called"}),
        )
        .await,
    )
    .await;
    let (a, b, c) = (
        a["id"].as_str().unwrap(),
        b["id"].as_str().unwrap(),
        c["id"].as_str().unwrap(),
    );
    let search = |q: &str, token: &str| {
        let path = format!("/v1/incidents{q}");
        let token = token.to_owned();
        let app = &app;
        async move {
            let resp = app.get_as(&path, &token).await;
            assert_eq!(resp.status(), 200, "{path}");
            resp.json::<Value>().await.unwrap()
        }
    };
    assert_eq!(ids(&search("", &security.token).await), vec![c, b, a]);
    assert_eq!(
        ids(&search("", &staff.token).await),
        vec![a],
        "own branch only"
    );
    assert_eq!(
        ids(&search("?q=argument", &security.token).await),
        vec![b, a]
    );
    assert_eq!(
        ids(&search("?q=ARGU%20nandu", &security.token).await),
        vec![b]
    );
    assert_eq!(
        ids(&search("?q=gument", &security.token).await),
        Vec::<&str>::new()
    );
    assert_eq!(
        ids(&search("?q=%25", &security.token).await),
        Vec::<&str>::new()
    );
    assert_eq!(
        ids(&search("?category=medical", &security.token).await),
        vec![c]
    );
    assert_eq!(
        ids(&search("?action_taken=warning", &security.token).await),
        vec![b, a]
    );
    assert_eq!(
        ids(&search(&format!("?branch_id={east}"), &security.token).await),
        vec![c, b]
    );
    assert_eq!(
        ids(&search(
            "?from=2026-01-01T00:00:00Z&to=2026-02-01T00:00:00Z",
            &security.token
        )
        .await),
        vec![c]
    );
    let resp = app
        .get_as(
            "/v1/incidents?from=2026-02-01T00:00:00Z&to=2026-01-01T00:00:00Z",
            &security.token,
        )
        .await;
    assert_problem(resp, 422, "validation").await;
    // Casework roles, auditors and admins have no incidents to list.
    for role in [
        Role::Peer,
        Role::SocialWorker,
        Role::Supervisor,
        Role::Auditor,
        Role::Admin,
    ] {
        let who = app.account(role, &[main]).await;
        assert_problem(
            app.get_as("/v1/incidents", &who.token).await,
            403,
            "forbidden",
        )
        .await;
        assert_problem(
            app.get_as(&format!("/v1/incidents/{a}"), &who.token).await,
            404,
            "not-found",
        )
        .await;
    }
}

#[tokio::test]
async fn suspensions_end_by_themselves_and_lifting_needs_a_reason() {
    let app = spawn_app().await;
    let main = app.branch("MAIN").await;
    let east = app.branch("EAST").await;
    let mut staff = app.account(Role::Staff, &[main]).await;
    let east_staff = app.account(Role::Staff, &[east]).await;
    let mut security = app.account(Role::Security, &[]).await;
    let now = chrono::Utc::now();
    let week = (now + chrono::Duration::days(7)).to_rfc3339();
    let day = (now + chrono::Duration::days(1)).to_rfc3339();

    // Scope and branch must agree.
    let resp = app
        .post_as(
            "/v1/suspensions",
            &security.token,
            &json!({"person": "Invented Person", "scope": "branch", "ends_at": week,
                    "reason": "Invented.", "notified_how": "in_person"}),
        )
        .await;
    let body = assert_problem(resp, 422, "validation").await;
    assert_eq!(body["errors"][0]["field"], "branch_id");

    let at_main = created(
        app.post_as(
            "/v1/suspensions",
            &security.token,
            &json!({"person": "Invented Person A", "scope": "branch", "branch_id": main,
                    "ends_at": day, "reason": "Repeated threats (invented).",
                    "notified_how": "letter"}),
        )
        .await,
    )
    .await;
    let everywhere = created(
        app.post_as(
            "/v1/suspensions",
            &security.token,
            &json!({"person": "A man, about 40, red cap (invented)", "scope": "system_wide",
                    "ends_at": week, "reason": "Invented.", "notified_how": "in_person"}),
        )
        .await,
    )
    .await;
    assert_eq!(at_main["status"], "active");
    assert_eq!(everywhere["scope"], "system_wide");

    // Staff of the branch see who, where and until when: nothing else.
    let resp = app
        .get_as(
            &format!("/v1/branches/{main}/suspensions/active"),
            &staff.token,
        )
        .await;
    assert_eq!(resp.status(), 200);
    let page: Value = resp.json().await.unwrap();
    let items = page["items"].as_array().unwrap();
    assert_eq!(items.len(), 2);
    assert_eq!(
        items[0]["person"], "Invented Person A",
        "soonest to end first"
    );
    for item in items {
        assert_eq!(keys(item), vec!["ends_at", "person", "scope"]);
    }
    // At another branch only the system-wide one applies.
    let page: Value = app
        .get_as(
            &format!("/v1/branches/{east}/suspensions/active"),
            &east_staff.token,
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(page["items"].as_array().unwrap().len(), 1);
    assert_eq!(page["items"][0]["scope"], "system_wide");
    // Not another branch's list, and never the suspensions themselves.
    assert_problem(
        app.get_as(
            &format!("/v1/branches/{main}/suspensions/active"),
            &east_staff.token,
        )
        .await,
        403,
        "forbidden",
    )
    .await;
    let sid = at_main["id"].as_str().unwrap();
    assert_problem(
        app.get_as(&format!("/v1/suspensions/{sid}"), &staff.token)
            .await,
        404,
        "not-found",
    )
    .await;

    // Two days on, the one-day suspension has ended by itself.
    app.state.clock.advance(chrono::Duration::days(2));
    // The access tokens expired with it; the devices refresh them.
    app.refresh(&mut staff).await;
    app.refresh(&mut security).await;
    let page: Value = app
        .get_as(
            &format!("/v1/branches/{main}/suspensions/active"),
            &staff.token,
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(page["items"].as_array().unwrap().len(), 1);
    let resp = app
        .get_as(&format!("/v1/suspensions/{sid}"), &security.token)
        .await;
    let ended: Value = resp.json().await.unwrap();
    assert_eq!(ended["status"], "ended");
    let listed: Value = app
        .get_as("/v1/suspensions?status=ended", &security.token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(ids(&listed), vec![sid]);
    // An ended suspension is not lifted.
    let resp = app
        .client
        .post(app.url(&format!("/v1/suspensions/{sid}/lift")))
        .bearer_auth(&security.token)
        .header("If-Match", "\"1\"")
        .json(&json!({"reason": "Invented."}))
        .send()
        .await
        .unwrap();
    assert_problem(resp, 409, "conflict").await;

    // Lifting early needs a reason.
    let eid = everywhere["id"].as_str().unwrap();
    let lift = |body: Value| {
        app.client
            .post(app.url(&format!("/v1/suspensions/{eid}/lift")))
            .bearer_auth(&security.token)
            .header("If-Match", "\"1\"")
            .json(&body)
            .send()
    };
    let body = assert_problem(lift(json!({})).await.unwrap(), 422, "validation").await;
    assert_eq!(body["errors"][0]["field"], "reason");
    let resp = lift(json!({"reason": "Appeal upheld by the branch manager (invented)."}))
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let lifted: Value = resp.json().await.unwrap();
    assert_eq!(lifted["status"], "lifted");
    assert_eq!(lifted["lifted_by"], security.id.to_string());
    let page: Value = app
        .get_as(
            &format!("/v1/branches/{main}/suspensions/active"),
            &staff.token,
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(page["items"], json!([]));
}

#[tokio::test]
async fn a_support_request_carries_only_what_was_shared_and_its_requester_sees_only_status() {
    let app = spawn_app().await;
    let main = app.branch("MAIN").await;
    let east = app.branch("EAST").await;
    let security = app.account(Role::Security, &[]).await;
    let staff = app.account(Role::Staff, &[main]).await;
    let worker = app.account(Role::SocialWorker, &[main]).await;
    let east_worker = app.account(Role::SocialWorker, &[east]).await;
    let i = incident(
        &app,
        &security.token,
        main,
        "A child waiting alone by the entrance.",
    )
    .await;
    let iid = i["id"].as_str().unwrap();

    // Sharing needs an incident the requester can read.
    let resp = app
        .post_as(
            "/v1/support-requests",
            &staff.token,
            &json!({"branch_id": main, "urgency": "urgent", "needed": "Invented.",
                    "share": ["description"]}),
        )
        .await;
    assert_problem(resp, 422, "validation").await;
    let other_branch = incident(&app, &security.token, east, "Invented.").await;
    let resp = app
        .post_as(
            "/v1/support-requests",
            &staff.token,
            &json!({"branch_id": main, "urgency": "urgent", "needed": "Invented.",
                    "incident_id": other_branch["id"], "share": ["description"]}),
        )
        .await;
    let body = assert_problem(resp, 422, "validation").await;
    assert_eq!(body["errors"][0]["field"], "incident_id");

    let resp = app
        .post_as(
            "/v1/support-requests",
            &security.token,
            &json!({"branch_id": main, "urgency": "emergency",
                    "needed": "A child (about 8) has waited alone for two hours.",
                    "incident_id": iid, "share": ["description", "category"]}),
        )
        .await;
    let r = created(resp).await;
    let rid = r["id"].as_str().unwrap().to_owned();
    assert_eq!(keys(&r), vec!["created_at", "id", "status", "version"]);

    // The incident changes later; the copy does not.
    let resp = app
        .patch_as(
            &format!("/v1/incidents/{iid}"),
            &security.token,
            "\"1\"",
            &json!({"description": "Changed afterwards."}),
        )
        .await;
    assert_eq!(resp.status(), 200);

    // The branch's social worker sees the inbox with the shared fields only.
    let inbox: Value = app
        .get_as("/v1/support-requests?status=open", &worker.token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(ids(&inbox), vec![rid.as_str()]);
    let item = &inbox["items"][0];
    assert_eq!(
        item["shared"],
        json!({"description": "A child waiting alone by the entrance.", "category": "disturbance"})
    );
    assert_eq!(item["created_by"], security.id.to_string());
    // ...but never the incident itself.
    assert_problem(
        app.get_as(&format!("/v1/incidents/{iid}"), &worker.token)
            .await,
        404,
        "not-found",
    )
    .await;
    // Another branch's social worker does not see it at all.
    let other: Value = app
        .get_as("/v1/support-requests", &east_worker.token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(other["items"], json!([]));
    assert_problem(
        app.get_as(&format!("/v1/support-requests/{rid}"), &east_worker.token)
            .await,
        404,
        "not-found",
    )
    .await;

    // The worker meets the child's family, logs a contact, receives.
    let contact = created(
        app.post_as(
            "/v1/contacts",
            &worker.token,
            &json!({"branch_id": main, "kind": "crisis", "needs": ["child_and_family"]}),
        )
        .await,
    )
    .await;
    let receive = |path: &str, token: &str, etag: &str, body: Value| {
        app.client
            .post(app.url(path))
            .bearer_auth(token)
            .header("If-Match", etag)
            .json(&body)
            .send()
    };
    // The requester cannot receive its own request.
    let resp = receive(
        &format!("/v1/support-requests/{rid}/receive"),
        &security.token,
        "\"1\"",
        json!({}),
    )
    .await
    .unwrap();
    assert_problem(resp, 403, "forbidden").await;
    let resp = receive(
        &format!("/v1/support-requests/{rid}/receive"),
        &worker.token,
        "\"1\"",
        json!({"contact_id": contact["id"]}),
    )
    .await
    .unwrap();
    assert_eq!(resp.status(), 200);
    let received: Value = resp.json().await.unwrap();
    assert_eq!(received["received_by"], worker.id.to_string());
    assert_eq!(received["contact_id"], contact["id"]);
    // Receiving twice is a conflict naming what is allowed.
    let resp = receive(
        &format!("/v1/support-requests/{rid}/receive"),
        &worker.token,
        "\"2\"",
        json!({}),
    )
    .await
    .unwrap();
    let body = assert_problem(resp, 409, "conflict").await;
    assert_eq!(body["errors"][0]["message"], "allows only: closed");

    // The requester sees that it was received, when, and by which team.
    let resp = app
        .get_as(&format!("/v1/support-requests/{rid}"), &security.token)
        .await;
    assert_eq!(resp.status(), 200);
    let seen: Value = resp.json().await.unwrap();
    assert_eq!(
        keys(&seen),
        vec![
            "created_at",
            "id",
            "received_at",
            "received_team",
            "status",
            "version"
        ]
    );
    assert_eq!(seen["status"], "received");
    assert_eq!(seen["received_team"], "Social work, MAIN branch");

    let resp = receive(
        &format!("/v1/support-requests/{rid}/close"),
        &worker.token,
        "\"2\"",
        json!({}),
    )
    .await
    .unwrap();
    assert_eq!(resp.status(), 200);
    let seen: Value = app
        .get_as("/v1/support-requests", &security.token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(seen["items"][0]["status"], "closed");
    assert!(seen["items"][0].get("contact_id").is_none());
    assert!(seen["items"][0].get("received_by").is_none());
    assert!(seen["items"][0].get("needed").is_none());
    // Another staff member, even of the same branch, sees nothing of it.
    let resp = app
        .get_as(&format!("/v1/support-requests/{rid}"), &staff.token)
        .await;
    assert_problem(resp, 404, "not-found").await;
}

#[tokio::test]
async fn a_retried_incident_is_made_once() {
    let app = spawn_app().await;
    let main = app.branch("MAIN").await;
    let security = app.account(Role::Security, &[]).await;
    let body = json!({"branch_id": main, "occurred_at": chrono::Utc::now().to_rfc3339(),
                      "category": "theft", "description": "A bag taken (invented).",
                      "action_taken": "police_called"});
    let send = || {
        app.client
            .post(app.url("/v1/incidents"))
            .bearer_auth(&security.token)
            .header("Idempotency-Key", "incident-retry-1")
            .json(&body)
            .send()
    };
    let first: Value = send().await.unwrap().json().await.unwrap();
    let resp = send().await.unwrap();
    assert_eq!(resp.status(), 201);
    assert_eq!(resp.headers()["idempotent-replayed"], "true");
    let second: Value = resp.json().await.unwrap();
    assert_eq!(first["id"], second["id"]);
    let all: Value = app
        .get_as("/v1/incidents", &security.token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(all["items"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn every_safety_access_is_audited_and_searches_keep_no_words() {
    let app = spawn_app().await;
    let main = app.branch("MAIN").await;
    let security = app.account(Role::Security, &[]).await;
    let peer = app.account(Role::Peer, &[main]).await;
    let auditor = app.account(Role::Auditor, &[]).await;
    let i = incident(
        &app,
        &security.token,
        main,
        "Argument about a printer (invented).",
    )
    .await;
    let id = i["id"].as_str().unwrap();
    assert_eq!(
        app.get_as(&format!("/v1/incidents/{id}"), &security.token)
            .await
            .status(),
        200
    );
    assert_eq!(
        app.get_as(&format!("/v1/incidents/{id}"), &peer.token)
            .await
            .status(),
        404
    );
    assert_eq!(
        app.get_as("/v1/incidents?q=printer", &security.token)
            .await
            .status(),
        200
    );
    let trail: Value = app
        .get_as(&format!("/v1/audit/events?record_id={id}"), &auditor.token)
        .await
        .json()
        .await
        .unwrap();
    let seen: Vec<(&str, &str, &str)> = trail["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["action"].as_str().unwrap(),
                e["outcome"].as_str().unwrap(),
                e["rule"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        seen,
        vec![
            ("create", "allowed", "security_reports_incident"),
            ("read", "allowed", "security_reads_all_incidents"),
            ("read", "denied", "safety_roles_only"),
        ]
    );
    let searches: Value = app
        .get_as(
            &format!("/v1/audit/events?actor_id={}&action=search", security.id),
            &auditor.token,
        )
        .await
        .json()
        .await
        .unwrap();
    let text = searches.to_string();
    assert_eq!(searches["items"].as_array().unwrap().len(), 1);
    assert_eq!(searches["items"][0]["result_ids"][0], id);
    assert!(!text.contains("printer"), "the trail keeps no search words");
}
