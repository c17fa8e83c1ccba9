//! One order for every keyed write: the policy decides before the
//! `Idempotency-Key` is claimed, so a refused caller neither takes a key nor
//! learns anything from one it holds; and a replay is answered through the
//! operation's read, policy re-checked and the read audited.

use casework::domain::Role;
use reqwest::Method;
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::{TestApp, spawn_app};
use crate::roles::{Case, Fixture, cases, fixture};
use entities::idempotency_record;

/// The POSTs whose operation claims an `Idempotency-Key`.
const KEYED: &[&str] = &[
    "/v1/contacts",
    "/v1/patrons",
    "/v1/cases",
    "/v1/cases/{id}/team",
    "/v1/cases/{id}/close",
    "/v1/cases/{id}/reopen",
    "/v1/cases/{id}/reassign",
    "/v1/cases/{id}/notes",
    "/v1/patrons/{id}/consents",
    "/v1/consents/{id}/revoke",
    "/v1/follow-ups",
    "/v1/follow-ups/{id}/done",
    "/v1/referrals",
    "/v1/referrals/{id}/transitions",
    "/v1/mandated-reports",
    "/v1/incidents",
    "/v1/incidents/{id}/amendments",
    "/v1/suspensions",
    "/v1/support-requests",
    "/v1/trainings",
    "/v1/staff/{id}/certifications",
    "/v1/rules",
    "/v1/break-glass",
    "/v1/branches",
    "/v1/services",
    "/v1/staff",
];

/// Whether the role table's answer `status` to `template` is the policy's
/// refusal. A follow-up on a record the caller cannot read is refused as if
/// the record did not exist: 422, naming the field.
fn refused(template: &str, status: u16) -> bool {
    matches!(status, 403 | 404) || (template == "/v1/follow-ups" && status == 422)
}

/// A keyed request that the policy refuses.
struct Refusal {
    what: String,
    caller: Uuid,
    token: String,
    method: Method,
    path: String,
    if_match: Option<String>,
    body: Value,
    status: u16,
}

impl Refusal {
    /// `case` of the role table, as the fixture's caller.
    fn of(case: &Case, role: Role, f: &Fixture) -> Refusal {
        Refusal {
            what: format!("{} {} as {}", case.method, case.template, role.as_str()),
            caller: f.caller.id,
            token: f.caller.token.clone(),
            method: case.method.clone(),
            path: (case.path)(f),
            if_match: (case.if_match)(f),
            body: (case.body)(f).unwrap_or_else(|| json!({})),
            status: (case.expect)(role),
        }
    }

    /// A create by the fixture's caller, refused on a record it names that
    /// the caller cannot see: 422, as if that record did not exist.
    fn naming(what: &str, f: &Fixture, path: &str, body: Value) -> Refusal {
        Refusal {
            what: what.to_owned(),
            caller: f.caller.id,
            token: f.caller.token.clone(),
            method: Method::POST,
            path: path.to_owned(),
            if_match: None,
            body,
            status: 422,
        }
    }

    async fn send(&self, app: &TestApp, key: &str) -> reqwest::Response {
        let mut req = app
            .client
            .request(self.method.clone(), app.url(&self.path))
            .bearer_auth(&self.token)
            .header("Idempotency-Key", key);
        if let Some(etag) = &self.if_match {
            req = req.header("If-Match", etag);
        }
        req.json(&self.body).send().await.unwrap()
    }
}

async fn keys_of(app: &TestApp, staff: Uuid) -> Vec<idempotency_record::Model> {
    idempotency_record::Entity::find()
        .filter(idempotency_record::Column::StaffId.eq(staff))
        .all(&app.db)
        .await
        .unwrap()
}

/// What a refused answer was: its status and problem type.
async fn answer(resp: reqwest::Response) -> (u16, String) {
    let status = resp.status().as_u16();
    let body: Value = resp.json().await.unwrap_or(Value::Null);
    let kind = body["type"]
        .as_str()
        .unwrap_or_default()
        .trim_start_matches("urn:casework:problem:")
        .to_owned();
    (status, kind)
}

/// For every keyed POST and every role the role table refuses, and for
/// creates refused on a record they name: the refusal is the same with a
/// key as without, and the key is not taken; and a key the caller already
/// holds (for another request) is neither replayed nor refused as reused:
/// the policy answers first.
#[tokio::test]
async fn a_refused_keyed_write_takes_no_key_and_reads_none() {
    let app = spawn_app().await;
    let mut fixtures = Vec::new();
    for (n, role) in Role::ALL.into_iter().enumerate() {
        fixtures.push((role, fixture(&app, role, n as u32 + 1).await));
    }
    let of = |role: Role| &fixtures.iter().find(|(r, _)| *r == role).unwrap().1;
    let mut covered = std::collections::BTreeSet::new();
    let mut refusals = Vec::new();
    for case in cases()
        .iter()
        .filter(|c| c.method == Method::POST && KEYED.contains(&c.template))
    {
        for (role, f) in &fixtures {
            if refused(case.template, (case.expect)(*role)) {
                covered.insert(case.template);
                refusals.push(Refusal::of(case, *role, f));
            }
        }
    }
    // Another branch's patron and incident, which these callers cannot see.
    let (worker, staff, elsewhere) = (of(Role::SocialWorker), of(Role::Staff), of(Role::Security));
    refusals.push(Refusal::naming(
        "a contact with a patron out of scope",
        worker,
        "/v1/contacts",
        json!({"branch_id": worker.branch, "patron_id": elsewhere.patron, "kind": "outreach"}),
    ));
    refusals.push(Refusal::naming(
        "a mandated report about a patron out of scope",
        worker,
        "/v1/mandated-reports",
        json!({"patron_id": elsewhere.patron, "kind": "adult_protective_services",
               "agency": "Invented APS", "learned_at": app.state.clock.now().to_rfc3339(),
               "persons_concerned": "An adult (invented).", "what_was_reported": "Invented."}),
    ));
    refusals.push(Refusal::naming(
        "a support request sharing an incident out of scope",
        staff,
        "/v1/support-requests",
        json!({"branch_id": staff.branch, "urgency": "routine", "needed": "Invented.",
               "incident_id": elsewhere.incident, "share": ["category"]}),
    ));

    let mut failures = Vec::new();
    for (i, r) in refusals.iter().enumerate() {
        let what = &r.what;
        let want = r.status;
        let before = keys_of(&app, r.caller).await;

        // A new key: refused as the table says, and not taken.
        let fresh = format!("refused-fresh-{i}");
        let (status, kind) = answer(r.send(&app, &fresh).await).await;
        if status != want || kind == "idempotency-key-reused" {
            failures.push(format!("{what}, new key: got {status} {kind}, want {want}"));
        }
        if keys_of(&app, r.caller).await != before {
            failures.push(format!("{what}, new key: a key was taken"));
        }

        // A key the caller holds for another request: still the refusal,
        // not 422 idempotency-key-reused, not a replay.
        let held = idempotency_record::ActiveModel {
            staff_id: Set(r.caller),
            key: Set(format!("refused-held-{i}")),
            request_hash: Set("another request".to_owned()),
            record_type: Set("patron".to_owned()),
            record_id: Set(Uuid::now_v7()),
            status: Set(201),
            created_at: Set(app.state.clock.now()),
        }
        .insert(&app.db)
        .await
        .unwrap();
        let resp = r.send(&app, &held.key).await;
        let replayed = resp.headers().contains_key("idempotent-replayed");
        let (status, kind) = answer(resp).await;
        if status != want || kind == "idempotency-key-reused" || replayed {
            failures.push(format!(
                "{what}, held key: got {status} {kind} (replayed: {replayed}), want {want}"
            ));
        }
        let now = idempotency_record::Entity::find_by_id((r.caller, held.key.clone()))
            .one(&app.db)
            .await
            .unwrap();
        if now.as_ref() != Some(&held) {
            failures.push(format!("{what}, held key: the key was changed"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    // At least these are refused to some role and so checked here.
    for t in [
        "/v1/contacts",
        "/v1/patrons",
        "/v1/cases",
        "/v1/cases/{id}/close",
        "/v1/cases/{id}/notes",
        "/v1/patrons/{id}/consents",
        "/v1/follow-ups",
        "/v1/referrals",
        "/v1/mandated-reports",
        "/v1/incidents",
        "/v1/suspensions",
        "/v1/support-requests",
        "/v1/trainings",
        "/v1/staff/{id}/certifications",
        "/v1/rules",
        "/v1/break-glass",
        "/v1/branches",
        "/v1/services",
    ] {
        assert!(covered.contains(t), "{t} is not checked");
    }
}

/// A keyed request, replayed.
struct Replay {
    what: &'static str,
    token: String,
    path: String,
    if_match: Option<String>,
    body: Value,
    status: u16,
    /// How the trail shows the replay: a read of the record, or (for records
    /// without a read of one) a search of their kind that returned it.
    trail: Trail,
}

enum Trail {
    Read,
    Search(&'static str),
}

async fn post_keyed(app: &TestApp, r: &Replay, key: &str) -> reqwest::Response {
    let mut req = app
        .client
        .post(app.url(&r.path))
        .bearer_auth(&r.token)
        .header("Idempotency-Key", key);
    if let Some(etag) = &r.if_match {
        req = req.header("If-Match", etag);
    }
    req.json(&r.body).send().await.unwrap()
}

async fn events(app: &TestApp, auditor: &str, query: &str) -> Vec<Value> {
    let resp = app
        .get_as(&format!("/v1/audit/events?{query}&limit=500"), auditor)
        .await;
    assert_eq!(resp.status(), 200, "audit events");
    let body: Value = resp.json().await.unwrap();
    body["items"].as_array().unwrap().clone()
}

/// How many events of `actor` show the record `id` disclosed as `trail` says.
async fn disclosures(app: &TestApp, auditor: &str, actor: Uuid, id: &str, trail: &Trail) -> usize {
    let all = events(app, auditor, &format!("actor_id={actor}")).await;
    all.iter()
        .filter(|e| e["outcome"] == "allowed")
        .filter(|e| match trail {
            Trail::Read => e["action"] == "read" && e["record_id"] == id,
            Trail::Search(kind) => {
                e["action"] == "search"
                    && e["record_type"] == *kind
                    && e["result_ids"] == json!([id])
            }
        })
        .count()
}

/// A replay (same key, same body, same caller) answers with the record the
/// first request made, says so, and is rendered by the operation's read:
/// the trail records that read.
#[tokio::test]
async fn a_replay_is_answered_and_audited_by_the_read() {
    let app = spawn_app().await;
    let branch = app.branch("KEYR").await;
    let worker = app.account(Role::SocialWorker, &[branch]).await;
    let supervisor = app.account(Role::Supervisor, &[branch]).await;
    let peer = app.account(Role::Peer, &[branch]).await;
    let admin = app.admin().await.token.clone();
    let auditor = app.account(Role::Auditor, &[]).await;
    let patron: Value = app
        .post_as(
            "/v1/patrons",
            &worker.token,
            &json!({"preferred_name": "Invented Replay", "home_branch_id": branch}),
        )
        .await
        .json()
        .await
        .unwrap();
    let patron = patron["patron"]["id"].as_str().unwrap().to_owned();
    let case: Value = app
        .post_as("/v1/cases", &worker.token, &json!({"patron_id": patron}))
        .await
        .json()
        .await
        .unwrap();
    let case = case["id"].as_str().unwrap().to_owned();
    let training: Value = app
        .post_as(
            "/v1/trainings",
            &admin,
            &json!({"name": "Invented first aid", "provider": "Invented",
                    "recertify_months": 24, "de_escalation": false}),
        )
        .await
        .json()
        .await
        .unwrap();
    let training = training["id"].as_str().unwrap().to_owned();
    let admin_id = app.admin().await.id;

    let replays = [
        (
            worker.id,
            Replay {
                what: "contact",
                token: worker.token.clone(),
                path: "/v1/contacts".into(),
                if_match: None,
                body: json!({"branch_id": branch, "patron_id": patron, "kind": "outreach"}),
                status: 201,
                trail: Trail::Read,
            },
        ),
        (
            worker.id,
            Replay {
                what: "case close",
                token: worker.token.clone(),
                path: format!("/v1/cases/{case}/close"),
                if_match: Some("\"1\"".into()),
                body: json!({"reason": "Housed"}),
                status: 200,
                trail: Trail::Read,
            },
        ),
        (
            admin_id,
            Replay {
                what: "rule",
                token: admin.clone(),
                path: "/v1/rules".into(),
                if_match: None,
                body: json!({"code": "replayed_rule", "text": "Invented rule."}),
                status: 201,
                trail: Trail::Search("rule"),
            },
        ),
        (
            admin_id,
            Replay {
                what: "training",
                token: admin.clone(),
                path: "/v1/trainings".into(),
                if_match: None,
                body: json!({"name": "Invented replayed training", "provider": "Invented"}),
                status: 201,
                trail: Trail::Search("training"),
            },
        ),
        (
            supervisor.id,
            Replay {
                what: "certification",
                token: supervisor.token.clone(),
                path: format!("/v1/staff/{}/certifications", peer.id),
                if_match: None,
                body: json!({"training_id": training,
                             "completed_on": app.state.clock.now().date_naive().to_string()}),
                status: 201,
                trail: Trail::Search("certification"),
            },
        ),
    ];
    for (n, (actor, r)) in replays.iter().enumerate() {
        let key = format!("replayed-{n}");
        let first = post_keyed(&app, r, &key).await;
        assert_eq!(first.status().as_u16(), r.status, "{}: first", r.what);
        assert!(first.headers().get("idempotent-replayed").is_none());
        let first: Value = first.json().await.unwrap();
        let id = first["id"].as_str().unwrap().to_owned();
        let before = disclosures(&app, &auditor.token, *actor, &id, &r.trail).await;

        let again = post_keyed(&app, r, &key).await;
        assert_eq!(again.status().as_u16(), r.status, "{}: replay", r.what);
        assert_eq!(
            again
                .headers()
                .get("idempotent-replayed")
                .and_then(|v| v.to_str().ok()),
            Some("true"),
            "{}: replay header",
            r.what
        );
        let again: Value = again.json().await.unwrap();
        assert_eq!(again, first, "{}: the same record, as it is now", r.what);
        let after = disclosures(&app, &auditor.token, *actor, &id, &r.trail).await;
        assert_eq!(
            after,
            before + 1,
            "{}: the replay is in the trail as its read",
            r.what
        );
    }
}
