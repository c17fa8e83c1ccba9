//! Casework records through the API: the scripted day, the mobile
//! conventions, search, validation, notes, consents, follow-ups.

use std::collections::HashSet;

use casework::domain::Role;
use chrono::{Duration, Utc};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::{Account, TestApp, assert_problem, present, spawn_app};

async fn body(resp: reqwest::Response, status: u16) -> Value {
    let got = resp.status().as_u16();
    let text = resp.text().await.unwrap();
    assert_eq!(got, status, "{text}");
    serde_json::from_str(&text).unwrap()
}

fn id(v: &Value) -> String {
    v["id"].as_str().unwrap().to_owned()
}

async fn new_patron(
    app: &TestApp,
    who: &Account,
    branch: Uuid,
    name: &str,
    year: Option<i32>,
) -> String {
    let v = body(
        app.post_as(
            "/v1/patrons",
            &who.token,
            &match year {
                Some(year) => {
                    json!({"preferred_name": name, "birth_year": year, "home_branch_id": branch})
                }
                None => json!({"preferred_name": name, "home_branch_id": branch}),
            },
        )
        .await,
        201,
    )
    .await;
    id(&v["patron"])
}

#[tokio::test]
async fn a_day_of_casework_keeps_the_wall_and_is_fully_audited() {
    let app = spawn_app().await;
    let main = app.branch("MAIN").await;
    let peer = app.account(Role::Peer, &[main]).await;
    let worker = app.account(Role::SocialWorker, &[main]).await;
    let security = app.account(Role::Security, &[main]).await;
    let staff = app.account(Role::Staff, &[main]).await;
    let admin = app.admin().await.clone();
    let auditor = app.account(Role::Auditor, &[]).await;

    // Morning: the peer meets three people on the floor; one stays anonymous.
    let dana = new_patron(&app, &peer, main, "Dana Brightwater", Some(1984)).await;
    let lee = new_patron(&app, &peer, main, "Lee Quill", None).await;
    let mut contacts = Vec::new();
    for (patron, kind, needs) in [
        (Some(&dana), "outreach", json!(["housing", "food"])),
        (Some(&lee), "drop_in", json!(["documents"])),
        (None, "crisis", json!(["safety"])),
    ] {
        let v = body(
            app.post_as(
                "/v1/contacts",
                &peer.token,
                &present(json!({"branch_id": main, "patron_id": patron, "kind": kind,
                        "needs": needs, "duration_minutes": 15,
                        "note": "Talked by the reading room.",
                        "occurred_at": (Utc::now() - Duration::minutes(30)).to_rfc3339()})),
            )
            .await,
            201,
        )
        .await;
        assert!(v["recorded_at"].as_str().is_some() && v["occurred_at"].as_str().is_some());
        contacts.push(id(&v));
    }
    let mine = body(app.get_as("/v1/me/contacts", &peer.token).await, 200).await;
    assert_eq!(mine["items"].as_array().unwrap().len(), 3);
    assert!(
        mine["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["patron_id"].is_null()),
        "one anonymous"
    );

    // The social worker opens a case for Dana and adds the peer to the team.
    let case = body(
        app.post_as(
            "/v1/cases",
            &worker.token,
            &json!({"patron_id": dana, "summary": "Needs stable housing."}),
        )
        .await,
        201,
    )
    .await;
    let case_id = id(&case);
    assert_eq!(case["owner_id"], worker.id.to_string());
    let resp = app
        .client
        .post(app.url(&format!("/v1/cases/{case_id}/team")))
        .bearer_auth(&worker.token)
        .header("If-Match", "\"1\"")
        .json(&json!({"staff_id": peer.id}))
        .send()
        .await
        .unwrap();
    assert_eq!(body(resp, 200).await["team"], json!([peer.id]));

    let standard = body(
        app.post_as(
            &format!("/v1/cases/{case_id}/notes"),
            &worker.token,
            &json!({"body": "Applied for the housing list."}),
        )
        .await,
        201,
    )
    .await;
    let restricted = body(
        app.post_as(
            &format!("/v1/cases/{case_id}/notes"),
            &worker.token,
            &json!({"body": "Disclosed a health condition.", "sensitivity": "restricted"}),
        )
        .await,
        201,
    )
    .await;
    let consent = body(
        app.post_as(
            &format!("/v1/patrons/{dana}/consents"),
            &worker.token,
            &json!({"recipient": "Harbor Housing Coalition", "scope": "name, phone, housing history",
                    "purpose": "housing referral", "method": "signed",
                    "expires_at": (Utc::now() + Duration::days(180)).to_rfc3339()}),
        )
        .await,
        201,
    )
    .await;
    assert_eq!(consent["valid"], true);
    let due = (Utc::now() + Duration::days(3)).date_naive().to_string();
    let follow_up = body(
        app.post_as(
            "/v1/follow-ups",
            &worker.token,
            &json!({"case_id": case_id, "due_on": due}),
        )
        .await,
        201,
    )
    .await;

    // The peer sees the case summary and the standard note, never the restricted one.
    let seen = body(
        app.get_as(&format!("/v1/cases/{case_id}"), &peer.token)
            .await,
        200,
    )
    .await;
    assert_eq!(seen["summary"], "Needs stable housing.");
    let notes = body(
        app.get_as(&format!("/v1/cases/{case_id}/notes"), &peer.token)
            .await,
        200,
    )
    .await;
    let notes = notes["items"].as_array().unwrap();
    assert_eq!(notes.len(), 1, "not even counted");
    assert_eq!(notes[0]["id"], standard["id"]);
    let restricted_path = format!("/v1/cases/{case_id}/notes/{}", id(&restricted));
    assert_problem(
        app.get_as(&restricted_path, &peer.token).await,
        404,
        "not-found",
    )
    .await;
    let peer_restricted = app
        .post_as(
            &format!("/v1/cases/{case_id}/notes"),
            &peer.token,
            &json!({"body": "x", "sensitivity": "restricted"}),
        )
        .await;
    assert_problem(peer_restricted, 403, "forbidden").await;
    // The worker sees both.
    let all = body(
        app.get_as(&format!("/v1/cases/{case_id}/notes"), &worker.token)
            .await,
        200,
    )
    .await;
    assert_eq!(all["items"].as_array().unwrap().len(), 2);

    // Security, front-line staff and admin cannot see any of it, and cannot
    // tell it from nothing: the same 404 as a record that never existed.
    let never = Uuid::now_v7();
    let paths = vec![
        format!("/v1/patrons/{dana}"),
        format!("/v1/patrons/{lee}"),
        format!("/v1/contacts/{}", contacts[0]),
        format!("/v1/contacts/{}", contacts[1]),
        format!("/v1/contacts/{}", contacts[2]),
        format!("/v1/cases/{case_id}"),
        format!("/v1/cases/{case_id}/notes"),
        format!("/v1/cases/{case_id}/notes/{}", id(&standard)),
        restricted_path.clone(),
        format!("/v1/patrons/{dana}/consents"),
        format!("/v1/follow-ups/{}", id(&follow_up)),
    ];
    for outsider in [&security, &staff, &admin] {
        let missing = assert_problem(
            app.get_as(&format!("/v1/patrons/{never}"), &outsider.token)
                .await,
            404,
            "not-found",
        )
        .await;
        for path in &paths {
            let hidden =
                assert_problem(app.get_as(path, &outsider.token).await, 404, "not-found").await;
            assert_eq!(hidden["title"], missing["title"], "{path}");
            assert_eq!(hidden["detail"], missing["detail"], "{path}");
        }
    }

    // The auditor sees every access to Dana's records, denials included.
    let mut events = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(c) => format!("/v1/audit/events?patron_id={dana}&limit=500&cursor={c}"),
            None => format!("/v1/audit/events?patron_id={dana}&limit=500"),
        };
        let page = body(app.get_as(&path, &auditor.token).await, 200).await;
        events.extend(page["items"].as_array().unwrap().iter().cloned());
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => break,
        }
    }
    let has = |actor: &Account, action: &str, record: &str, outcome: &str| {
        events.iter().any(|e| {
            e["actor_id"] == actor.id.to_string()
                && e["action"] == action
                && e["record_id"] == record
                && e["outcome"] == outcome
        })
    };
    assert!(has(&peer, "create", &dana, "allowed"));
    assert!(has(&peer, "create", &contacts[0], "allowed"));
    assert!(has(&worker, "create", &case_id, "allowed"));
    assert!(has(&worker, "create", &id(&restricted), "allowed"));
    assert!(has(&worker, "create", &id(&consent), "allowed"));
    assert!(has(&worker, "create", &id(&follow_up), "allowed"));
    assert!(has(&peer, "read", &case_id, "allowed"));
    assert!(has(&peer, "read", &id(&restricted), "denied"));
    // Outsiders are refused on their role, before any casework row is
    // loaded: a denial names the record asked for, and the patron only when
    // the record is the patron itself.
    let case_events = body(
        app.get_as(
            &format!("/v1/audit/events?record_id={case_id}&limit=500"),
            &auditor.token,
        )
        .await,
        200,
    )
    .await;
    let case_events = case_events["items"].as_array().unwrap().clone();
    for outsider in [&security, &staff, &admin] {
        assert!(
            has(outsider, "read", &dana, "denied"),
            "{:?}",
            outsider.role
        );
        assert!(
            case_events
                .iter()
                .any(|e| e["actor_id"] == outsider.id.to_string()
                    && e["action"] == "read"
                    && e["outcome"] == "denied"
                    && e["rule"] == "casework_roles_only"),
            "{:?}",
            outsider.role
        );
        assert!(
            has(outsider, "search", &dana, "denied"),
            "consent list of {:?}",
            outsider.role
        );
    }
    // The peer's list of notes is audited with the ids it returned.
    let note_list = events
        .iter()
        .find(|e| {
            e["actor_id"] == peer.id.to_string()
                && e["action"] == "search"
                && e["record_id"] == case_id
        })
        .expect("note list audited");
    assert_eq!(note_list["result_ids"], json!([standard["id"]]));
    // Fields by name, never values.
    let text = serde_json::to_string(&events).unwrap();
    assert!(!text.contains("Dana Brightwater") && !text.contains("health condition"));
    // The anonymous contact is in the trail too, without a patron.
    let anon = body(
        app.get_as(
            &format!("/v1/audit/events?record_id={}", contacts[2]),
            &auditor.token,
        )
        .await,
        200,
    )
    .await;
    assert_eq!(anon["items"][0]["patron_id"], Value::Null);
    assert_eq!(
        body(app.get_as("/v1/audit/verify", &auditor.token).await, 200).await["intact"],
        true
    );
}

#[tokio::test]
async fn a_retried_create_with_the_same_key_makes_one_record() {
    let app = spawn_app().await;
    let main = app.branch("MAIN").await;
    let peer = app.account(Role::Peer, &[main]).await;
    let payload = json!({"branch_id": main, "kind": "outreach", "needs": ["food"]});
    let send = |key: &'static str, payload: Value| {
        app.client
            .post(app.url("/v1/contacts"))
            .bearer_auth(&peer.token)
            .header("Idempotency-Key", key)
            .json(&payload)
            .send()
    };
    let first = send("tablet-7-0001", payload.clone()).await.unwrap();
    assert!(first.headers().get("idempotent-replayed").is_none());
    let first = body(first, 201).await;
    let retry = send("tablet-7-0001", payload.clone()).await.unwrap();
    assert_eq!(retry.headers()["idempotent-replayed"], "true");
    assert_eq!(retry.headers()["etag"], "\"1\"");
    let retry = body(retry, 201).await;
    assert_eq!(first, retry, "the first answer, replayed");
    let mine = body(app.get_as("/v1/me/contacts", &peer.token).await, 200).await;
    assert_eq!(mine["items"].as_array().unwrap().len(), 1);

    let other = send(
        "tablet-7-0001",
        json!({"branch_id": main, "kind": "crisis"}),
    )
    .await
    .unwrap();
    let problem = assert_problem(other, 422, "idempotency-key-reused").await;
    assert_eq!(problem["errors"][0]["field"], "Idempotency-Key");

    // A failed request keeps nothing: the same key may be used once it is fixed.
    let bad = send(
        "tablet-7-0002",
        json!({"branch_id": main, "kind": "outreach", "duration_minutes": -4}),
    )
    .await
    .unwrap();
    assert_problem(bad, 422, "validation").await;
    let fixed = send(
        "tablet-7-0002",
        json!({"branch_id": main, "kind": "outreach", "duration_minutes": 4}),
    )
    .await
    .unwrap();
    assert_eq!(fixed.status(), 201);

    // Keys are per account: another worker's same key is a new request.
    let other_peer = app.account(Role::Peer, &[main]).await;
    let theirs = app
        .client
        .post(app.url("/v1/contacts"))
        .bearer_auth(&other_peer.token)
        .header("Idempotency-Key", "tablet-7-0001")
        .json(&payload)
        .send()
        .await
        .unwrap();
    assert_eq!(theirs.status(), 201);
    assert!(theirs.headers().get("idempotent-replayed").is_none());
}

#[tokio::test]
async fn a_client_chosen_id_is_kept_and_a_second_use_conflicts() {
    let app = spawn_app().await;
    let main = app.branch("MAIN").await;
    let peer = app.account(Role::Peer, &[main]).await;
    let chosen = Uuid::now_v7();
    let payload = json!({"id": chosen, "branch_id": main, "kind": "outreach"});
    let v = body(
        app.post_as("/v1/contacts", &peer.token, &payload).await,
        201,
    )
    .await;
    assert_eq!(v["id"], chosen.to_string());
    assert_problem(
        app.post_as("/v1/contacts", &peer.token, &payload).await,
        409,
        "conflict",
    )
    .await;
    let v4 = json!({"id": Uuid::new_v4(), "branch_id": main, "kind": "outreach"});
    let p = assert_problem(
        app.post_as("/v1/contacts", &peer.token, &v4).await,
        422,
        "validation",
    )
    .await;
    assert_eq!(p["errors"][0]["field"], "id");
}

#[tokio::test]
async fn updates_need_if_match_and_a_stale_one_gets_the_current_record() {
    let app = spawn_app().await;
    let main = app.branch("MAIN").await;
    let peer = app.account(Role::Peer, &[main]).await;
    let c = body(
        app.post_as(
            "/v1/contacts",
            &peer.token,
            &json!({"branch_id": main, "kind": "outreach"}),
        )
        .await,
        201,
    )
    .await;
    let path = format!("/v1/contacts/{}", id(&c));

    let read = app.get_as(&path, &peer.token).await;
    assert_eq!(read.headers()["etag"], "\"1\"");

    let missing = app
        .client
        .patch(app.url(&path))
        .bearer_auth(&peer.token)
        .json(&json!({"duration_minutes": 10}))
        .send()
        .await
        .unwrap();
    assert_problem(missing, 428, "precondition-required").await;

    // Tablet A saves first.
    let a = app
        .patch_as(
            &path,
            &peer.token,
            "\"1\"",
            &json!({"duration_minutes": 10}),
        )
        .await;
    assert_eq!(a.headers()["etag"], "\"2\"");
    // Tablet B still holds version 1.
    let b = app
        .patch_as(
            &path,
            &peer.token,
            "\"1\"",
            &json!({"note": "From tablet B"}),
        )
        .await;
    let problem = assert_problem(b, 412, "stale").await;
    assert_eq!(problem["current"]["duration_minutes"], 10);
    assert_eq!(problem["current"]["version"], 2);
    assert_eq!(
        problem["current"]["note"],
        Value::Null,
        "B's change was not written"
    );
}

#[tokio::test]
async fn paging_through_a_thousand_contacts_returns_each_exactly_once() {
    let app = spawn_app().await;
    let main = app.branch("MAIN").await;
    let peer = app.account(Role::Peer, &[main]).await;
    // Many contacts share a timestamp, so the cursor must break ties by id.
    let base = Utc::now() - Duration::days(2);
    let mut made = HashSet::new();
    let mut tasks = Vec::new();
    for chunk in 0..10 {
        let client = app.client.clone();
        let url = app.url("/v1/contacts");
        let token = peer.token.clone();
        tasks.push(tokio::spawn(async move {
            let mut ids = Vec::new();
            for i in 0..100 {
                let at = base + Duration::seconds(((chunk * 100 + i) % 50) as i64);
                let resp = client
                    .post(&url)
                    .bearer_auth(&token)
                    .json(&json!({"branch_id": main, "kind": "outreach", "occurred_at": at.to_rfc3339()}))
                    .send()
                    .await
                    .unwrap();
                assert_eq!(resp.status(), 201);
                let v: Value = resp.json().await.unwrap();
                ids.push(v["id"].as_str().unwrap().to_owned());
            }
            ids
        }));
    }
    for t in tasks {
        made.extend(t.await.unwrap());
    }
    assert_eq!(made.len(), 1000);

    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    let mut pages = 0;
    loop {
        let path = match &cursor {
            Some(c) => format!("/v1/me/contacts?limit=37&cursor={c}"),
            None => "/v1/me/contacts?limit=37".to_owned(),
        };
        let page = body(app.get_as(&path, &peer.token).await, 200).await;
        pages += 1;
        // Meanwhile the tablet keeps logging: new contacts must not disturb the walk.
        if pages % 5 == 0 {
            app.post_as(
                "/v1/contacts",
                &peer.token,
                &json!({"branch_id": main, "kind": "drop_in"}),
            )
            .await;
        }
        let items = page["items"].as_array().unwrap();
        assert!(items.len() <= 37);
        seen.extend(items.iter().map(id));
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => break,
        }
    }
    let unique: HashSet<_> = seen.iter().cloned().collect();
    assert_eq!(unique.len(), seen.len(), "no contact twice");
    assert!(made.is_subset(&unique), "every contact once");
    assert_eq!(pages, 28);
    assert_problem(
        app.get_as("/v1/me/contacts?limit=201", &peer.token).await,
        400,
        "invalid-parameter",
    )
    .await;
    assert_problem(
        app.get_as("/v1/me/contacts?cursor=bm9wZQ", &peer.token)
            .await,
        422,
        "validation",
    )
    .await;
}

#[tokio::test]
async fn search_ignores_case_and_accents_and_stays_in_scope() {
    let app = spawn_app().await;
    let main = app.branch("MAIN").await;
    let east = app.branch("EAST").await;
    let worker = app.account(Role::SocialWorker, &[main]).await;
    let jose = new_patron(&app, &worker, main, "José Núñez", Some(1990)).await;
    new_patron(&app, &worker, main, "Joan Smith", None).await;

    for q in ["nun", "NUÑ", "jose", "José N", "Núñez"] {
        let found = body(
            app.get_as(&format!("/v1/patrons?q={q}"), &worker.token)
                .await,
            200,
        )
        .await;
        let ids: Vec<String> = found["items"].as_array().unwrap().iter().map(id).collect();
        assert_eq!(ids, vec![jose.clone()], "q={q}");
    }
    let jo = body(app.get_as("/v1/patrons?q=jo", &worker.token).await, 200).await;
    assert_eq!(jo["items"].as_array().unwrap().len(), 2);

    // A peer of the same branch who has not worked with José, and a worker of
    // another branch, find nothing.
    let peer = app.account(Role::Peer, &[main]).await;
    let elsewhere = app.account(Role::SocialWorker, &[east]).await;
    for other in [&peer, &elsewhere] {
        let found = body(app.get_as("/v1/patrons?q=nun", &other.token).await, 200).await;
        assert!(found["items"].as_array().unwrap().is_empty());
    }
    let security = app.account(Role::Security, &[main]).await;
    assert_problem(
        app.get_as("/v1/patrons?q=nun", &security.token).await,
        403,
        "forbidden",
    )
    .await;
}

#[tokio::test]
async fn possible_duplicates_are_flagged_not_merged() {
    let app = spawn_app().await;
    let main = app.branch("MAIN").await;
    let worker = app.account(Role::SocialWorker, &[main]).await;
    let first = new_patron(&app, &worker, main, "Ana Lima", Some(1975)).await;
    let second = body(
        app.post_as(
            "/v1/patrons",
            &worker.token,
            &json!({"preferred_name": "ANA LIMA", "birth_year": 1975, "home_branch_id": main}),
        )
        .await,
        201,
    )
    .await;
    assert_eq!(second["possible_duplicates"], json!([first]));
    assert_ne!(id(&second["patron"]), first, "a second record, not a merge");
    let other_year = body(
        app.post_as(
            "/v1/patrons",
            &worker.token,
            &json!({"preferred_name": "Ana Lima", "birth_year": 1976, "home_branch_id": main}),
        )
        .await,
        201,
    )
    .await;
    assert_eq!(other_year["possible_duplicates"], json!([]));
}

#[tokio::test]
async fn bad_input_is_refused_field_by_field_and_nothing_is_written() {
    let app = spawn_app().await;
    let main = app.branch("MAIN").await;
    let east = app.branch("EAST").await;
    let peer = app.account(Role::Peer, &[main]).await;
    let resp = app
        .post_as(
            "/v1/contacts",
            &peer.token,
            &json!({"branch_id": main, "kind": "outreach", "duration_minutes": 5000,
                    "occurred_at": "2026-13-45T10:00:00Z", "patron_id": 7,
                    "services_given": ["", "bus pass"], "note": "x".repeat(2001)}),
        )
        .await;
    let p = assert_problem(resp, 422, "validation").await;
    let fields: HashSet<&str> = p["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(
        fields,
        HashSet::from([
            "duration_minutes",
            "occurred_at",
            "patron_id",
            "services_given/0",
            "note"
        ]),
        "every field the spec refuses, at once"
    );
    assert!(!p.to_string().contains("xxxx"), "values are not echoed");
    // A well-formed time the clock rules out is judged once the shape is right.
    let future = app
        .post_as(
            "/v1/contacts",
            &peer.token,
            &json!({"branch_id": main, "kind": "outreach",
                    "occurred_at": (Utc::now() + Duration::days(30)).to_rfc3339()}),
        )
        .await;
    let p = assert_problem(future, 422, "validation").await;
    assert_eq!(p["errors"][0]["field"], "occurred_at");

    let bad_enum = app
        .post_as(
            "/v1/contacts",
            &peer.token,
            &json!({"branch_id": main, "kind": "outreach", "needs": ["unicorns"]}),
        )
        .await;
    let p = assert_problem(bad_enum, 422, "validation").await;
    assert_eq!(p["errors"][0]["field"], "needs/0");
    let p = assert_problem(
        app.post_as(
            "/v1/patrons",
            &peer.token,
            &json!({"preferred_name": " ", "birth_year": 1850, "home_branch_id": main}),
        )
        .await,
        422,
        "validation",
    )
    .await;
    let fields: HashSet<&str> = p["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, HashSet::from(["preferred_name", "birth_year"]));
    // Outside the peer's branches.
    assert_problem(
        app.post_as(
            "/v1/contacts",
            &peer.token,
            &json!({"branch_id": east, "kind": "outreach"}),
        )
        .await,
        403,
        "forbidden",
    )
    .await;
    // A patron the peer cannot see is refused as if it did not exist.
    let unseen = Uuid::now_v7();
    let p = assert_problem(
        app.post_as(
            "/v1/contacts",
            &peer.token,
            &json!({"branch_id": main, "kind": "outreach", "patron_id": unseen}),
        )
        .await,
        422,
        "validation",
    )
    .await;
    assert_eq!(p["errors"][0]["field"], "patron_id");

    let mine = body(app.get_as("/v1/me/contacts", &peer.token).await, 200).await;
    assert!(
        mine["items"].as_array().unwrap().is_empty(),
        "nothing partially written"
    );
}

#[tokio::test]
async fn notes_are_append_only_and_corrections_amend() {
    let app = spawn_app().await;
    let main = app.branch("MAIN").await;
    let worker = app.account(Role::SocialWorker, &[main]).await;
    let patron = new_patron(&app, &worker, main, "Sky Ortega", None).await;
    let case = id(&body(
        app.post_as("/v1/cases", &worker.token, &json!({"patron_id": patron}))
            .await,
        201,
    )
    .await);
    let first = body(
        app.post_as(
            &format!("/v1/cases/{case}/notes"),
            &worker.token,
            &json!({"body": "Apointment on Tuesday."}),
        )
        .await,
        201,
    )
    .await;
    let fix = body(
        app.post_as(
            &format!("/v1/cases/{case}/notes"),
            &worker.token,
            &json!({"body": "Correction: the appointment is on Thursday.", "amends_note_id": first["id"]}),
        )
        .await,
        201,
    )
    .await;
    assert_eq!(fix["amends_note_id"], first["id"]);
    let note_path = format!("/v1/cases/{case}/notes/{}", id(&first));
    for method in [
        reqwest::Method::PATCH,
        reqwest::Method::PUT,
        reqwest::Method::DELETE,
    ] {
        let resp = app
            .call(
                method.clone(),
                &note_path,
                Some(&worker.token),
                Some(&json!({"body": "edited"})),
            )
            .await;
        assert_problem(resp, 405, "method-not-allowed").await;
    }
    let unchanged = body(app.get_as(&note_path, &worker.token).await, 200).await;
    assert_eq!(unchanged["body"], "Apointment on Tuesday.");
    let bogus = app
        .post_as(
            &format!("/v1/cases/{case}/notes"),
            &worker.token,
            &json!({"body": "x", "amends_note_id": Uuid::now_v7()}),
        )
        .await;
    assert_problem(bogus, 422, "validation").await;
}

#[tokio::test]
async fn consents_cover_a_recipient_until_revoked_or_expired() {
    let app = spawn_app().await;
    let main = app.branch("MAIN").await;
    let worker = app.account(Role::SocialWorker, &[main]).await;
    let patron = new_patron(&app, &worker, main, "Rowan Vale", None).await;
    let patron_id: Uuid = patron.parse().unwrap();
    let consent = body(
        app.post_as(
            &format!("/v1/patrons/{patron}/consents"),
            &worker.token,
            &json!({"recipient": "Café Food Bank", "scope": "name", "purpose": "food referral", "method": "verbal",
                    "expires_at": (Utc::now() + Duration::days(1)).to_rfc3339()}),
        )
        .await,
        201,
    )
    .await;
    let check = |recipient: &'static str, at| {
        casework::casework::consents::valid_consent(&app.db, patron_id, recipient, at)
    };
    assert!(
        check("cafe food bank", Utc::now()).await.unwrap().is_some(),
        "case and accents ignored"
    );
    assert!(check("Other Agency", Utc::now()).await.unwrap().is_none());
    assert!(
        check("Café Food Bank", Utc::now() + Duration::days(2))
            .await
            .unwrap()
            .is_none(),
        "expired by then"
    );

    let path = format!("/v1/consents/{}/revoke", id(&consent));
    let resp = app
        .client
        .post(app.url(&path))
        .bearer_auth(&worker.token)
        .header("If-Match", "\"1\"")
        .send()
        .await
        .unwrap();
    let revoked = body(resp, 200).await;
    assert_eq!(revoked["valid"], false);
    assert!(check("Café Food Bank", Utc::now()).await.unwrap().is_none());
    let again = app
        .client
        .post(app.url(&path))
        .bearer_auth(&worker.token)
        .header("If-Match", "\"2\"")
        .send()
        .await
        .unwrap();
    assert_problem(again, 409, "conflict").await;
    let list = body(
        app.get_as(&format!("/v1/patrons/{patron}/consents"), &worker.token)
            .await,
        200,
    )
    .await;
    assert_eq!(list["items"][0]["revoked_by"], worker.id.to_string());
}

#[tokio::test]
async fn follow_ups_lead_with_the_overdue_and_the_caseload_counts_them() {
    let app = spawn_app().await;
    let main = app.branch("MAIN").await;
    let worker = app.account(Role::SocialWorker, &[main]).await;
    let patron = new_patron(&app, &worker, main, "Kit Marlow", None).await;
    let case = id(&body(
        app.post_as("/v1/cases", &worker.token, &json!({"patron_id": patron}))
            .await,
        201,
    )
    .await);
    let today = Utc::now().date_naive();
    let mut made = Vec::new();
    for days in [5i64, -2, 1] {
        let due = (today + Duration::days(days)).to_string();
        let v = body(
            app.post_as(
                "/v1/follow-ups",
                &worker.token,
                &json!({"case_id": case, "due_on": due, "note": "Call back"}),
            )
            .await,
            201,
        )
        .await;
        made.push(v);
    }
    let list = body(app.get_as("/v1/me/follow-ups", &worker.token).await, 200).await;
    let items = list["items"].as_array().unwrap();
    assert_eq!(
        items.iter().map(|f| f["id"].clone()).collect::<Vec<_>>(),
        vec![
            made[1]["id"].clone(),
            made[2]["id"].clone(),
            made[0]["id"].clone()
        ]
    );
    assert_eq!(items[0]["overdue"], true);
    assert_eq!(items[1]["overdue"], false);
    let week = (today + Duration::days(2)).to_string();
    let due_soon = body(
        app.get_as(&format!("/v1/me/follow-ups?due_by={week}"), &worker.token)
            .await,
        200,
    )
    .await;
    assert_eq!(due_soon["items"].as_array().unwrap().len(), 2);

    let caseload = body(app.get_as("/v1/me/caseload", &worker.token).await, 200).await;
    assert_eq!(caseload["items"][0]["case"]["id"], case);
    assert_eq!(caseload["items"][0]["overdue_follow_ups"], 1);
    assert_eq!(caseload["items"][0]["open_referrals"], 0);

    let done_path = format!("/v1/follow-ups/{}/done", id(&made[1]));
    let resp = app
        .client
        .post(app.url(&done_path))
        .bearer_auth(&worker.token)
        .header("If-Match", "\"1\"")
        .send()
        .await
        .unwrap();
    assert_eq!(body(resp, 200).await["status"], "done");
    let caseload = body(app.get_as("/v1/me/caseload", &worker.token).await, 200).await;
    assert_eq!(caseload["items"][0]["overdue_follow_ups"], 0);
    let list = body(app.get_as("/v1/me/follow-ups", &worker.token).await, 200).await;
    assert_eq!(list["items"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn cases_close_reopen_and_reassign_with_the_old_owner_losing_sight() {
    let app = spawn_app().await;
    let main = app.branch("MAIN").await;
    let worker = app.account(Role::SocialWorker, &[main]).await;
    let successor = app.account(Role::SocialWorker, &[main]).await;
    let supervisor = app.account(Role::Supervisor, &[main]).await;
    let patron = new_patron(&app, &worker, main, "Ari Fenn", None).await;
    let case = id(&body(
        app.post_as("/v1/cases", &worker.token, &json!({"patron_id": patron}))
            .await,
        201,
    )
    .await);
    let post = |path: String, token: String, etag: &'static str, payload: Value| {
        app.client
            .post(app.url(&path))
            .bearer_auth(token)
            .header("If-Match", etag)
            .json(&payload)
            .send()
    };
    let closed = body(
        post(
            format!("/v1/cases/{case}/close"),
            worker.token.clone(),
            "\"1\"",
            json!({"reason": "Housed"}),
        )
        .await
        .unwrap(),
        200,
    )
    .await;
    assert_eq!(closed["status"], "closed");
    assert_eq!(closed["status_reason"], "Housed");
    let no_reason = post(
        format!("/v1/cases/{case}/reopen"),
        worker.token.clone(),
        "\"2\"",
        json!({"reason": ""}),
    )
    .await
    .unwrap();
    assert_problem(no_reason, 422, "validation").await;
    let reopened = body(
        post(
            format!("/v1/cases/{case}/reopen"),
            worker.token.clone(),
            "\"2\"",
            json!({"reason": "Lost housing"}),
        )
        .await
        .unwrap(),
        200,
    )
    .await;
    assert_eq!(reopened["status"], "open");

    let by_worker = post(
        format!("/v1/cases/{case}/reassign"),
        worker.token.clone(),
        "\"3\"",
        json!({"owner_id": successor.id}),
    )
    .await
    .unwrap();
    assert_problem(by_worker, 403, "forbidden").await;
    let moved = body(
        post(
            format!("/v1/cases/{case}/reassign"),
            supervisor.token.clone(),
            "\"3\"",
            json!({"owner_id": successor.id}),
        )
        .await
        .unwrap(),
        200,
    )
    .await;
    assert_eq!(moved["owner_id"], successor.id.to_string());
    assert_problem(
        app.get_as(&format!("/v1/cases/{case}"), &worker.token)
            .await,
        404,
        "not-found",
    )
    .await;
    assert_eq!(
        app.get_as(&format!("/v1/cases/{case}"), &successor.token)
            .await
            .status(),
        200
    );
    let caseload = body(app.get_as("/v1/me/caseload", &successor.token).await, 200).await;
    assert_eq!(caseload["items"][0]["case"]["id"], case);
}
