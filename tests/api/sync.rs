//! Offline tablets: the sync feed keeps each device's copy exactly the
//! server's view of what its user may see.

use std::collections::BTreeMap;

use casework::domain::Role;
use sea_orm::ConnectionTrait;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::{Account, TestApp, spawn_app};

/// A tablet: its session's token, where it is in the feed, and its copy.
struct Tablet {
    token: String,
    refresh_token: String,
    cursor: Option<String>,
    copy: BTreeMap<(String, String), Value>,
}

impl Tablet {
    /// Signs in as `who` on a new device (its own session).
    async fn of(app: &TestApp, who: &Account, device: &str) -> Tablet {
        let body: Value = app
            .login(&who.username, &who.password, device)
            .await
            .json()
            .await
            .unwrap();
        Tablet {
            token: body["access_token"].as_str().unwrap().to_owned(),
            refresh_token: body["refresh_token"].as_str().unwrap().to_owned(),
            cursor: None,
            copy: BTreeMap::new(),
        }
    }

    /// New tokens for the tablet's session, as once its access token expired.
    async fn refresh(&mut self, app: &TestApp) {
        (self.token, self.refresh_token) = app.refreshed(&self.refresh_token).await;
    }

    /// Syncs until nothing more waits; returns what the pages sent and
    /// removed, as (kind, id).
    async fn sync(&mut self, app: &TestApp) -> (Vec<(String, String)>, Vec<(String, String)>) {
        let (mut sent, mut removed) = (Vec::new(), Vec::new());
        loop {
            let path = match &self.cursor {
                Some(c) => format!("/v1/sync?limit=3&cursor={c}"),
                None => "/v1/sync?limit=3".to_owned(),
            };
            let resp = app.get_as(&path, &self.token).await;
            assert_eq!(resp.status(), 200);
            let page: Value = resp.json().await.unwrap();
            if page["reset"] == true {
                self.copy.clear();
                self.cursor = None;
                continue;
            }
            if self.cursor.is_none() {
                self.copy.clear();
            }
            for it in page["items"].as_array().unwrap() {
                let key = key(it);
                let kind = key.0.clone();
                assert!(it.get(&kind).is_some(), "the record under its kind: {it}");
                assert!(
                    !it.as_object().unwrap().values().any(Value::is_null),
                    "no null fields: {it}"
                );
                self.copy.insert(key.clone(), it[&kind].clone());
                sent.push(key);
            }
            for r in page["removed"].as_array().unwrap() {
                let key = key(r);
                self.copy.remove(&key);
                removed.push(key);
            }
            self.cursor = Some(page["next_cursor"].as_str().unwrap().to_owned());
            if page["more"] != true {
                return (sent, removed);
            }
        }
    }

    fn holds(&self, kind: &str, id: &str) -> bool {
        self.copy.contains_key(&(kind.to_owned(), id.to_owned()))
    }
}

fn key(v: &Value) -> (String, String) {
    (
        v["kind"].as_str().unwrap().to_owned(),
        v["id"].as_str().unwrap().to_owned(),
    )
}

async fn created(resp: reqwest::Response) -> String {
    let status = resp.status();
    let body: Value = resp.json().await.unwrap();
    assert_eq!(status, 201, "{body}");
    // A new patron comes with possible duplicates beside it.
    let record = body.get("patron").unwrap_or(&body);
    record["id"].as_str().unwrap().to_owned()
}

async fn case_version(app: &TestApp, case: &str, token: &str) -> String {
    app.get_as(&format!("/v1/cases/{case}"), token)
        .await
        .headers()
        .get("etag")
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned()
}

async fn on_case(
    app: &TestApp,
    method: reqwest::Method,
    path: String,
    token: &str,
    etag: String,
    body: Value,
) {
    let resp = app
        .client
        .request(method, app.url(&path))
        .bearer_auth(token)
        .header("If-Match", etag)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200, "{}", resp.text().await.unwrap());
}

/// A patron of `worker`'s with a case whose team has `peer` on it.
async fn team_case(
    app: &TestApp,
    branch: Uuid,
    worker: &Account,
    peer: &Account,
    name: &str,
) -> (String, String) {
    let w = worker.token.as_str();
    let patron = created(
        app.post_as(
            "/v1/patrons",
            w,
            &json!({"preferred_name": name, "home_branch_id": branch}),
        )
        .await,
    )
    .await;
    let case = created(
        app.post_as("/v1/cases", w, &json!({"patron_id": patron}))
            .await,
    )
    .await;
    on_case(
        app,
        reqwest::Method::POST,
        format!("/v1/cases/{case}/team"),
        w,
        case_version(app, &case, w).await,
        json!({"staff_id": peer.id}),
    )
    .await;
    (patron, case)
}

/// Two tablets of one team through a day of edits, syncs, a reassignment and
/// a team change: each ends holding exactly what a fresh sync of its user
/// would hold; the peer's never holds a restricted note; records that left
/// a user's view come back as removals.
#[tokio::test]
async fn two_tablets_of_one_team_keep_exact_copies_through_a_day() {
    let app = spawn_app().await;
    let branch = app.branch("SYNC").await;
    let worker = app.account(Role::SocialWorker, &[branch]).await;
    let next_worker = app.account(Role::SocialWorker, &[branch]).await;
    let peer = app.account(Role::Peer, &[branch]).await;
    let supervisor = app.account(Role::Supervisor, &[branch]).await;
    let w = worker.token.as_str();

    let (patron, case) = team_case(&app, branch, &worker, &peer, "Invented Rowan").await;
    let standard = created(
        app.post_as(
            &format!("/v1/cases/{case}/notes"),
            w,
            &json!({"body": "Met at the library; wants help with housing forms."}),
        )
        .await,
    )
    .await;
    let restricted = created(
        app.post_as(
            &format!("/v1/cases/{case}/notes"),
            w,
            &json!({"body": "Disclosed an invented health condition.", "sensitivity": "restricted"}),
        )
        .await,
    )
    .await;

    let mut worker_tablet = Tablet::of(&app, &worker, "worker tablet").await;
    let mut peer_tablet = Tablet::of(&app, &peer, "peer tablet").await;
    worker_tablet.sync(&app).await;
    peer_tablet.sync(&app).await;
    assert!(worker_tablet.holds("case", &case) && peer_tablet.holds("case", &case));
    assert!(worker_tablet.holds("case_note", &restricted));
    assert!(peer_tablet.holds("case_note", &standard));
    assert!(
        !peer_tablet.holds("case_note", &restricted),
        "a peer's tablet never holds a restricted note"
    );
    assert_eq!(
        peer_tablet.copy[&("case".to_owned(), case.clone())].get("status_reason"),
        None,
        "the peer's copy is the peer's summary view"
    );

    // Up to date: an empty page, the cursor where it was.
    let before = worker_tablet.cursor.clone();
    let (sent, removed) = worker_tablet.sync(&app).await;
    assert!(sent.is_empty() && removed.is_empty());
    assert_eq!(worker_tablet.cursor, before);

    // The day: each works offline, uploads on reconnecting, then syncs.
    let second = Uuid::now_v7().to_string();
    let peer_contact = Uuid::now_v7().to_string();
    for (token, op) in [
        (
            w,
            json!({"op_id": "worker-1", "method": "POST", "path": format!("/v1/cases/{case}/notes"),
                   "body": {"id": second, "body": "Forms filed together."}}),
        ),
        (
            peer.token.as_str(),
            json!({"op_id": "peer-1", "method": "POST", "path": "/v1/contacts",
                   "body": {"id": peer_contact, "branch_id": branch, "patron_id": patron,
                            "kind": "drop_in"}}),
        ),
    ] {
        let resp = app
            .post_as("/v1/sync", token, &json!({ "operations": [op] }))
            .await;
        let body: Value = resp.json().await.unwrap();
        assert_eq!(body["results"][0]["outcome"], "applied", "{body}");
    }
    let (sent, _) = peer_tablet.sync(&app).await;
    assert!(sent.contains(&("case_note".into(), second.clone())));
    assert!(sent.contains(&("contact".into(), peer_contact.clone())));
    let (sent, _) = worker_tablet.sync(&app).await;
    assert!(sent.contains(&("contact".into(), peer_contact.clone())));

    // The supervisor reassigns the case: it leaves the first worker's view.
    on_case(
        &app,
        reqwest::Method::POST,
        format!("/v1/cases/{case}/reassign"),
        &supervisor.token,
        case_version(&app, &case, &supervisor.token).await,
        json!({"owner_id": next_worker.id}),
    )
    .await;
    let (_, removed) = worker_tablet.sync(&app).await;
    assert!(
        removed.contains(&("case".into(), case.clone())),
        "the reassigned case is a tombstone on the old owner's tablet: {removed:?}"
    );
    assert!(removed.contains(&("case_note".into(), restricted.clone())));
    assert!(!worker_tablet.holds("case_note", &standard));

    // The new owner takes the peer off the team.
    on_case(
        &app,
        reqwest::Method::DELETE,
        format!("/v1/cases/{case}/team/{}", peer.id),
        &next_worker.token,
        case_version(&app, &case, &next_worker.token).await,
        json!({}),
    )
    .await;
    let (_, removed) = peer_tablet.sync(&app).await;
    assert!(removed.contains(&("case".into(), case.clone())));
    assert!(removed.contains(&("case_note".into(), standard.clone())));
    assert!(
        peer_tablet.holds("contact", &peer_contact),
        "the peer's own contact stays"
    );

    // Each copy is exactly what a fresh sync of its user holds now.
    for (who, tablet) in [(&worker, &worker_tablet), (&peer, &peer_tablet)] {
        let mut fresh = Tablet::of(&app, who, "fresh device").await;
        fresh.sync(&app).await;
        assert_eq!(tablet.copy, fresh.copy);
    }
    assert!(
        !peer_tablet
            .copy
            .values()
            .any(|v| v.get("sensitivity") == Some(&json!("restricted")))
    );

    // Every page that sent records is audited with the ids it sent.
    let auditor = app.account(Role::Auditor, &[]).await;
    let events: Value = app
        .get_as(
            &format!(
                "/v1/audit/events?action=sync&actor_id={}&limit=500",
                peer.id
            ),
            &auditor.token,
        )
        .await
        .json()
        .await
        .unwrap();
    let disclosed: Vec<&str> = events["items"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|e| e["result_ids"].as_array().unwrap())
        .map(|v| v.as_str().unwrap())
        .collect();
    assert!(disclosed.contains(&standard.as_str()));
    assert!(disclosed.contains(&peer_contact.as_str()));
}

/// A write that is still committing while a tablet syncs is delivered at
/// the next sync: the cursor never passes a change that commits late.
#[tokio::test]
async fn a_change_that_commits_late_is_still_delivered() {
    let app = spawn_app().await;
    let branch = app.branch("LATE").await;
    let worker = app.account(Role::SocialWorker, &[branch]).await;
    let mut tablet = Tablet::of(&app, &worker, "tablet").await;
    tablet.sync(&app).await;

    // Another writer holds the database's write lock, as a slow commit
    // would: the worker's next change waits behind it, uncommitted.
    // (Its own connection: the service's reads may run apart from sqlx's.)
    let other = casework::db::connect_url(
        &app.settings.database_url,
        casework::config::SqliteSynchronous::Normal,
    )
    .await
    .unwrap();
    let held = casework::db::begin_write(&other).await.unwrap();
    if app.is_postgres() {
        held.execute_unprepared("LOCK TABLE change_log IN EXCLUSIVE MODE")
            .await
            .unwrap();
    }
    let (client, url, token) = (
        app.client.clone(),
        app.url("/v1/patrons"),
        worker.token.clone(),
    );
    let pending = tokio::spawn(async move {
        client
            .post(url)
            .bearer_auth(token)
            .json(&json!({"preferred_name": "Invented Late", "home_branch_id": branch}))
            .send()
            .await
            .unwrap()
    });
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let (sent, _) = tablet.sync(&app).await;
    assert!(sent.is_empty(), "nothing has committed yet");
    held.commit().await.unwrap();
    let resp = pending.await.unwrap();
    assert_eq!(resp.status(), 201);
    let id = created(resp).await;
    let (sent, _) = tablet.sync(&app).await;
    assert_eq!(sent, vec![("patron".to_owned(), id)]);
}

/// What the feed holds of each kind is exactly what that kind's read
/// allows, for every role; the roles that do not work casework get 403.
#[tokio::test]
async fn the_feed_holds_exactly_what_reads_allow() {
    let app = spawn_app().await;
    for (n, role) in Role::ALL.iter().copied().enumerate() {
        let f = crate::roles::fixture(&app, role, 900 + n as u32).await;
        let resp = app.get_as("/v1/sync", &f.caller.token).await;
        if !matches!(role, Role::Peer | Role::SocialWorker | Role::Supervisor) {
            assert_eq!(resp.status(), 403, "{role:?}");
            continue;
        }
        let mut tablet = Tablet {
            token: f.caller.token.clone(),
            refresh_token: f.caller.refresh_token.clone(),
            cursor: None,
            copy: BTreeMap::new(),
        };
        tablet.sync(&app).await;
        let reads: Vec<(&str, Uuid, String)> = vec![
            ("service", f.service, format!("/v1/services/{}", f.service)),
            ("patron", f.patron, format!("/v1/patrons/{}", f.patron)),
            ("case", f.case, format!("/v1/cases/{}", f.case)),
            (
                "case_note",
                f.note,
                format!("/v1/cases/{}/notes/{}", f.case, f.note),
            ),
            ("contact", f.contact, format!("/v1/contacts/{}", f.contact)),
            (
                "referral",
                f.referral,
                format!("/v1/referrals/{}", f.referral),
            ),
            (
                "follow_up",
                f.follow_up,
                format!("/v1/follow-ups/{}", f.follow_up),
            ),
            (
                "mandated_report",
                f.report,
                format!("/v1/mandated-reports/{}", f.report),
            ),
            (
                "support_request",
                f.support_request,
                format!("/v1/support-requests/{}", f.support_request),
            ),
        ];
        for (kind, id, path) in reads {
            let readable = app.get_as(&path, &f.caller.token).await.status() == 200;
            assert_eq!(
                tablet.holds(kind, &id.to_string()),
                readable,
                "{role:?}: {kind} in the feed iff its read allows it"
            );
        }
        let consents: Value = app
            .get_as(
                &format!("/v1/patrons/{}/consents", f.patron),
                &f.caller.token,
            )
            .await
            .json()
            .await
            .unwrap();
        let listed = consents["items"]
            .as_array()
            .is_some_and(|a| a.iter().any(|c| c["id"] == json!(f.consent)));
        assert_eq!(
            tablet.holds("consent", &f.consent.to_string()),
            listed,
            "{role:?}: consent"
        );
    }
}

/// What tablets did offline, uploaded as batches: each write applied once
/// (a retried upload is all duplicates), a stale edit a conflict carrying
/// the server's record and overwriting nothing, a bad operation rejected on
/// its own, the device's time kept; and the feed brings it all back.
#[tokio::test]
async fn an_upload_applies_each_write_once_and_reports_conflicts() {
    let app = spawn_app().await;
    let branch = app.branch("UPLD").await;
    let worker = app.account(Role::SocialWorker, &[branch]).await;
    let peer = app.account(Role::Peer, &[branch]).await;
    let w = worker.token.as_str();
    let (patron, case) = team_case(&app, branch, &worker, &peer, "Invented Sage").await;
    let contact = created(
        app.post_as(
            "/v1/contacts",
            w,
            &json!({"branch_id": branch, "patron_id": patron, "kind": "drop_in"}),
        )
        .await,
    )
    .await;
    let upload = |token: String, ops: Value| {
        let app = &app;
        async move {
            let resp = app
                .post_as("/v1/sync", &token, &json!({ "operations": ops }))
                .await;
            let status = resp.status();
            let body: Value = resp.json().await.unwrap();
            assert_eq!(status, 200, "{body}");
            body["results"].as_array().unwrap().clone()
        }
    };
    let outcomes = |results: &[Value]| -> Vec<String> {
        results
            .iter()
            .map(|r| r["outcome"].as_str().unwrap().to_owned())
            .collect()
    };

    // The peer, offline for two hours: a contact and a note, and a contact
    // without its branch.
    let met = (chrono::Utc::now() - chrono::Duration::hours(2))
        .to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
    let new_contact = Uuid::now_v7();
    let new_note = Uuid::now_v7();
    let batch = json!([
        {"op_id": "peer-op-1", "method": "POST", "path": "/v1/contacts",
         "body": {"id": new_contact, "branch_id": branch, "patron_id": patron,
                  "kind": "outreach", "occurred_at": met}},
        {"op_id": "peer-op-2", "method": "POST", "path": format!("/v1/cases/{case}/notes"),
         "body": {"id": new_note, "body": "Walked over to the pantry together.",
                  "occurred_at": met}},
        {"op_id": "peer-op-3", "method": "POST", "path": "/v1/contacts",
         "body": {"patron_id": patron, "kind": "outreach"}},
    ]);
    let first = upload(peer.token.clone(), batch.clone()).await;
    assert_eq!(outcomes(&first), ["applied", "applied", "rejected"]);
    assert_eq!(first[0]["record"]["id"], json!(new_contact));
    assert_eq!(
        first[0]["record"]["occurred_at"],
        json!(met),
        "device time kept"
    );
    assert_eq!(first[2]["status"], 422);
    assert!(
        first[2]["problem"]["errors"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["field"] == "branch_id")
    );
    // The connection dropped before the answer: the same upload again.
    let again = upload(peer.token.clone(), batch).await;
    assert_eq!(outcomes(&again), ["duplicate", "duplicate", "rejected"]);
    let notes: Value = app
        .get_as(&format!("/v1/cases/{case}/notes"), w)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(notes["items"].as_array().unwrap().len(), 1, "applied once");

    // The worker edited the same contact on two devices, both from version 1.
    let edit = |device: &str, note: &str| {
        json!([{"op_id": format!("edit-on-{device}"), "method": "PATCH",
                "path": format!("/v1/contacts/{contact}"), "version": 1,
                "body": {"note": note}}])
    };
    let phone = upload(
        worker.token.clone(),
        edit("phone", "Asked about shelter beds."),
    )
    .await;
    assert_eq!(outcomes(&phone), ["applied"]);
    let tablet = upload(
        worker.token.clone(),
        edit("tablet", "Asked about bus passes."),
    )
    .await;
    assert_eq!(outcomes(&tablet), ["conflict"]);
    assert_eq!(tablet[0]["status"], 412);
    assert_eq!(tablet[0]["current"]["version"], 2);
    assert_eq!(tablet[0]["current"]["note"], "Asked about shelter beds.");
    let now: Value = app
        .get_as(&format!("/v1/contacts/{contact}"), w)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        now["note"], "Asked about shelter beds.",
        "the conflict overwrote nothing"
    );

    // The feed brings the uploads back to both tablets.
    let mut peer_tablet = Tablet::of(&app, &peer, "peer tablet").await;
    peer_tablet.sync(&app).await;
    assert!(peer_tablet.holds("contact", &new_contact.to_string()));
    assert!(peer_tablet.holds("case_note", &new_note.to_string()));

    // Only the roles that keep an offline copy upload; the rest are refused
    // whole, and nothing of theirs is applied.
    let security = app.account(Role::Security, &[]).await;
    let resp = app
        .post_as(
            "/v1/sync",
            &security.token,
            &json!({"operations": [{"op_id": "x", "method": "POST", "path": "/v1/contacts",
                                     "body": {"branch_id": branch, "kind": "outreach"}}]}),
        )
        .await;
    assert_eq!(resp.status(), 403);
    // A path outside casework's writes is refused by the schema, naming it.
    let resp = app
        .post_as(
            "/v1/sync",
            w,
            &json!({"operations": [{"op_id": "y", "method": "POST", "path": "/v1/staff"}]}),
        )
        .await;
    let problem = crate::helpers::assert_problem(resp, 422, "validation").await;
    assert_eq!(problem["errors"][0]["field"], "operations/0/path");
}

/// A change to the caller's own account (its branches) since a cursor
/// answers `reset` before anything else, whether the device was following
/// changes or half-way through its first copy; the copy then starts again
/// with the new reach.
#[tokio::test]
async fn a_branch_change_resets_the_copy_before_anything_else() {
    let app = spawn_app().await;
    let main = app.branch("MAIN").await;
    let east = app.branch("EAST").await;
    let worker = app.account(Role::SocialWorker, &[main]).await;
    for (name, branch) in [
        ("Ada Invented", main),
        ("Bo Invented", main),
        ("Cy Invented", east),
    ] {
        let resp = app
            .post_as(
                "/v1/patrons",
                &worker.token,
                &json!({"preferred_name": name, "home_branch_id": branch}),
            )
            .await;
        assert!(
            matches!(resp.status().as_u16(), 201 | 403),
            "{}",
            resp.status()
        );
    }
    let mut tablet = Tablet::of(&app, &worker, "tablet").await;
    tablet.sync(&app).await;
    let following = tablet.cursor.clone().unwrap();
    // Half-way through a first copy: one record a page.
    let half: Value = app
        .get_as("/v1/sync?limit=1", &tablet.token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(half["more"], true, "{half}");
    let half_way = half["next_cursor"].as_str().unwrap().to_owned();

    let admin = app.admin().await.token.clone();
    let path = format!("/v1/staff/{}", worker.id);
    let current = app.get_as(&path, &admin).await;
    let etag = current.headers()["etag"].to_str().unwrap().to_owned();
    let resp = app
        .patch_as(&path, &admin, &etag, &json!({"branches": [east]}))
        .await;
    assert_eq!(resp.status(), 200);

    for cursor in [&following, &half_way] {
        let resp = app
            .get_as(&format!("/v1/sync?cursor={cursor}"), &tablet.token)
            .await;
        assert_eq!(resp.status(), 200);
        let page: Value = resp.json().await.unwrap();
        assert_eq!(page["reset"], true, "{page}");
        assert_eq!(page["items"], json!([]));
        assert!(page.get("next_cursor").is_none_or(Value::is_null), "{page}");
    }
    // The copy starts again: the new branch's patron, none of the old.
    tablet.sync(&app).await;
    let names: Vec<String> = tablet
        .copy
        .iter()
        .filter(|((kind, _), _)| kind == "patron")
        .map(|(_, v)| {
            v["patron"]["preferred_name"]
                .as_str()
                .unwrap_or_default()
                .to_owned()
        })
        .collect();
    assert!(
        names
            .iter()
            .all(|n| n != "Ada Invented" && n != "Bo Invented"),
        "{names:?}"
    );
}

/// Where a record of the feed is read on its own.
fn read_path(kind: &str, id: &str, record: &Value) -> String {
    match kind {
        "service" => format!("/v1/services/{id}"),
        "patron" => format!("/v1/patrons/{id}"),
        "case" => format!("/v1/cases/{id}"),
        "case_note" => format!(
            "/v1/cases/{}/notes/{id}",
            record["case_id"].as_str().unwrap()
        ),
        "contact" => format!("/v1/contacts/{id}"),
        "referral" => format!("/v1/referrals/{id}"),
        "follow_up" => format!("/v1/follow-ups/{id}"),
        "mandated_report" => format!("/v1/mandated-reports/{id}"),
        "support_request" => format!("/v1/support-requests/{id}"),
        other => panic!("a feed kind without a read: {other}"),
    }
}

/// Whether the caller's own reads allow a record: its read answers 200, or
/// for a consent, its patron's consent list names it.
async fn readable(app: &TestApp, token: &str, kind: &str, id: &str, record: &Value) -> bool {
    if kind == "consent" {
        let patron = record["patron_id"].as_str().unwrap();
        let list: Value = app
            .get_as(&format!("/v1/patrons/{patron}/consents"), token)
            .await
            .json()
            .await
            .unwrap_or(Value::Null);
        return list["items"]
            .as_array()
            .is_some_and(|a| a.iter().any(|c| c["id"] == id));
    }
    app.get_as(&read_path(kind, id, record), token)
        .await
        .status()
        == 200
}

/// One source of scope: for a peer who created a patron and is on its case
/// team, a peer added to a team and taken off it, a supervisor of another
/// branch and a supervisor holding a break-glass grant (and the case's own
/// worker), the records a fresh sync delivers are exactly the records the
/// caller's single-record reads allow.
#[tokio::test]
async fn a_fresh_sync_holds_exactly_what_reads_allow_for_every_kind_of_caller() {
    let app = spawn_app().await;
    let main = app.branch("MAIN").await;
    let east = app.branch("EAST").await;
    let worker = app.account(Role::SocialWorker, &[main]).await;
    let creator = app.account(Role::Peer, &[main]).await;
    let former = app.account(Role::Peer, &[main]).await;
    let elsewhere = app.account(Role::Supervisor, &[east]).await;
    let grantee = app.account(Role::Supervisor, &[east]).await;
    let w = worker.token.as_str();

    // The peer records the patron; the worker opens the case and puts the
    // peer on its team, and another peer on and off it.
    let patron = created(
        app.post_as(
            "/v1/patrons",
            &creator.token,
            &json!({"preferred_name": "Sol Invented", "home_branch_id": main}),
        )
        .await,
    )
    .await;
    let case = created(
        app.post_as("/v1/cases", w, &json!({"patron_id": patron}))
            .await,
    )
    .await;
    for (method, who) in [
        (reqwest::Method::POST, creator.id),
        (reqwest::Method::POST, former.id),
        (reqwest::Method::DELETE, former.id),
    ] {
        let path = if method == reqwest::Method::POST {
            format!("/v1/cases/{case}/team")
        } else {
            format!("/v1/cases/{case}/team/{who}")
        };
        on_case(
            &app,
            method,
            path,
            w,
            case_version(&app, &case, w).await,
            json!({"staff_id": who}),
        )
        .await;
    }
    // Everything a case gathers.
    let mut candidates: Vec<(&str, String)> =
        vec![("patron", patron.clone()), ("case", case.clone())];
    for (body, sensitivity) in [
        ("Invented standard note.", "standard"),
        ("Invented restricted note.", "restricted"),
    ] {
        let note = created(
            app.post_as(
                &format!("/v1/cases/{case}/notes"),
                w,
                &json!({"body": body, "sensitivity": sensitivity}),
            )
            .await,
        )
        .await;
        candidates.push(("case_note", note));
    }
    let consent = created(
        app.post_as(
            &format!("/v1/patrons/{patron}/consents"),
            w,
            &json!({"recipient": "Invented Shelter", "scope": "Name and needs.",
                    "purpose": "Referral.", "method": "verbal"}),
        )
        .await,
    )
    .await;
    candidates.push(("consent", consent));
    for (kind, path, body) in [
        (
            "contact",
            "/v1/contacts",
            json!({"branch_id": main, "patron_id": patron, "kind": "drop_in"}),
        ),
        (
            "referral",
            "/v1/referrals",
            json!({"patron_id": patron, "case_id": case, "recipient": "Invented Shelter", "needs": ["housing"]}),
        ),
        (
            "follow_up",
            "/v1/follow-ups",
            json!({"case_id": case, "due_on": "2026-12-24"}),
        ),
        (
            "mandated_report",
            "/v1/mandated-reports",
            json!({"patron_id": patron, "case_id": case,
            "kind": "adult_protective_services", "agency": "County APS (invented)",
            "learned_at": "2026-11-30T10:00:00Z", "persons_concerned": "An adult (invented).",
            "what_was_reported": "Invented."}),
        ),
    ] {
        candidates.push((kind, created(app.post_as(path, w, &body).await).await));
    }
    // The grantee breaks glass to the case.
    let resp = app
        .post_as(
            "/v1/break-glass",
            &grantee.token,
            &json!({"case_id": case, "hours": 2,
                    "reason": "A relative called the east branch about an emergency."}),
        )
        .await;
    assert_eq!(resp.status(), 201, "{}", resp.text().await.unwrap());

    for who in [&creator, &former, &elsewhere, &grantee, &worker] {
        let mut tablet = Tablet::of(&app, who, "tablet").await;
        tablet.sync(&app).await;
        // Everything delivered is readable.
        for ((kind, id), record) in &tablet.copy {
            assert!(
                readable(&app, &tablet.token, kind, id, record).await,
                "{:?}: the feed delivered a {kind} its read refuses",
                who.role
            );
        }
        // Everything readable is delivered.
        for (kind, id) in &candidates {
            let record = match *kind {
                "case_note" => json!({"case_id": case}),
                "consent" => json!({"patron_id": patron}),
                _ => json!({}),
            };
            let can_read = readable(&app, &tablet.token, kind, id, &record).await;
            assert_eq!(
                tablet.holds(kind, id),
                can_read,
                "{:?}: {kind} delivered iff its read allows it",
                who.role
            );
        }
    }
}

/// A break-glass grant opened after the tablet's copy was made brings the
/// case and the notes it opens onto the device (each also recorded under
/// the rule `break_glass` for auditors); when the grant ends they leave it.
#[tokio::test]
async fn a_break_glass_grant_reaches_the_tablet_and_leaves_it_when_it_ends() {
    let app = spawn_app().await;
    let main = app.branch("MAIN").await;
    let east = app.branch("EAST").await;
    let worker = app.account(Role::SocialWorker, &[main]).await;
    let grantee = app.account(Role::Supervisor, &[east]).await;
    let w = worker.token.as_str();
    let patron = created(
        app.post_as(
            "/v1/patrons",
            w,
            &json!({"preferred_name": "Ira Invented", "home_branch_id": main}),
        )
        .await,
    )
    .await;
    let case = created(
        app.post_as("/v1/cases", w, &json!({"patron_id": patron}))
            .await,
    )
    .await;
    let mut notes = Vec::new();
    for sensitivity in ["standard", "restricted"] {
        notes.push(
            created(
                app.post_as(
                    &format!("/v1/cases/{case}/notes"),
                    w,
                    &json!({"body": "Invented.", "sensitivity": sensitivity}),
                )
                .await,
            )
            .await,
        );
    }
    let mut tablet = Tablet::of(&app, &grantee, "tablet").await;
    tablet.sync(&app).await;
    assert!(!tablet.holds("case", &case));

    let resp = app
        .post_as(
            "/v1/break-glass",
            &tablet.token,
            &json!({"case_id": case, "hours": 1,
                    "reason": "A relative called the east branch about an emergency."}),
        )
        .await;
    assert_eq!(resp.status(), 201);
    tablet.sync(&app).await;
    assert!(tablet.holds("case", &case));
    assert!(tablet.holds("case_note", &notes[0]), "the standard note");
    assert!(
        !tablet.holds("case_note", &notes[1]),
        "not the restricted one"
    );
    let auditor = app.account(Role::Auditor, &[]).await;
    let flagged: Value = app
        .get_as(
            &format!(
                "/v1/audit/events?limit=500&break_glass=true&actor_id={}&action=read",
                grantee.id
            ),
            &auditor.token,
        )
        .await
        .json()
        .await
        .unwrap();
    let ids: Vec<&str> = flagged["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["record_id"].as_str().unwrap())
        .collect();
    assert!(
        ids.contains(&case.as_str()) && ids.contains(&notes[0].as_str()),
        "{ids:?}"
    );

    // The grant ends (on the service's clock): the next sync takes the case
    // and its note off the device, with nothing else having changed.
    app.state
        .clock
        .advance(chrono::Duration::hours(1) + chrono::Duration::seconds(1));
    // The access token expired with it; the tablet refreshes it.
    tablet.refresh(&app).await;
    let (_, removed) = tablet.sync(&app).await;
    assert!(
        removed.contains(&("case".into(), case.clone())),
        "{removed:?}"
    );
    assert!(
        removed.contains(&("case_note".into(), notes[0].clone())),
        "{removed:?}"
    );
    assert!(tablet.copy.is_empty() || !tablet.holds("case", &case));
    // And a fresh copy agrees.
    let mut fresh = Tablet::of(&app, &grantee, "second").await;
    fresh.sync(&app).await;
    assert!(!fresh.holds("case", &case) && !fresh.holds("case_note", &notes[0]));
}
