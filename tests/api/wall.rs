//! The wall, probed from outside. For every operation with an id in its
//! path, a caller on the other side of the wall gets exactly the same answer
//! for a record that exists as for one that does not: status, the headers
//! that could tell them apart, and body (the request id aside). And no
//! answer to a safety role names a casework field, nor any answer to a
//! casework role an incident's or suspension's, except the fields a support
//! request shares.

use std::collections::BTreeSet;

use casework::domain::Role;
use reqwest::Method;
use serde_json::Value;
use uuid::Uuid;

use crate::helpers::{TestApp, spawn_app};
use crate::roles::{Case, Fixture, call, call_with, cases, fixture};

const CASEWORK_TAGS: &[&str] = &[
    "Patrons",
    "Contacts",
    "Cases",
    "Consents",
    "FollowUps",
    "Referrals",
    "MandatedReports",
    "BreakGlass",
];
const SAFETY_TAGS: &[&str] = &["Incidents", "Suspensions"];
const SAFETY_ROLES: &[Role] = &[Role::Staff, Role::Security, Role::Auditor, Role::Admin];
const CASEWORK_ROLES: &[Role] = &[
    Role::Peer,
    Role::SocialWorker,
    Role::Supervisor,
    Role::Auditor,
    Role::Admin,
];

/// The roles that must not learn whether a record behind an operation of
/// this tag exists.
fn outsiders(tag: &str) -> &'static [Role] {
    if CASEWORK_TAGS.contains(&tag) {
        SAFETY_ROLES
    } else if SAFETY_TAGS.contains(&tag) {
        CASEWORK_ROLES
    } else if tag == "SupportRequests" {
        // Neither side's other roles; a requester reading another's
        // request is covered by the role table (404 like a missing one).
        &[Role::Peer, Role::Auditor, Role::Admin]
    } else {
        &[]
    }
}

fn tag_of(spec: &Value, case: &Case) -> String {
    spec["paths"][case.template][case.method.as_str().to_lowercase()]["tags"][0]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

/// The same path with every id in it replaced by one that exists nowhere.
fn missing(path: &str) -> String {
    let mut out = Vec::new();
    for seg in path.split('/') {
        let (head, query) = seg.split_once('?').unwrap_or((seg, ""));
        let head = if Uuid::parse_str(head).is_ok() {
            Uuid::now_v7().to_string()
        } else {
            head.to_owned()
        };
        out.push(if query.is_empty() {
            head
        } else {
            format!("{head}?{query}")
        });
    }
    out.join("/")
}

/// What a caller can observe of an answer, the request id aside.
#[derive(Debug, PartialEq)]
struct Seen {
    status: u16,
    etag: Option<String>,
    length: Option<String>,
    content_type: Option<String>,
    body: Value,
}

async fn observe(resp: reqwest::Response) -> Seen {
    let header = |n: &str| {
        resp.headers()
            .get(n)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let (status, etag, length, content_type) = (
        resp.status().as_u16(),
        header("etag"),
        header("content-length"),
        header("content-type"),
    );
    let mut body: Value = resp.json().await.unwrap_or(Value::Null);
    if let Some(o) = body.as_object_mut() {
        o.remove("request_id");
    }
    Seen {
        status,
        etag,
        length,
        content_type,
        body,
    }
}

#[tokio::test]
async fn a_hidden_record_answers_exactly_as_a_missing_one_across_the_wall() {
    let app = spawn_app().await;
    let spec: Value = serde_json::from_str(&casework::app::openapi_service().spec()).unwrap();
    let mut fixtures: Vec<(Role, Fixture)> = Vec::new();
    for (n, role) in Role::ALL.into_iter().enumerate() {
        fixtures.push((role, fixture(&app, role, 5000 + n as u32).await));
    }
    let mut failures = Vec::new();
    let mut probed = BTreeSet::new();
    for case in cases().iter().filter(|c| c.template.contains('{')) {
        let tag = tag_of(&spec, case);
        for &role in outsiders(&tag) {
            // Only where the role table says the caller is refused.
            if !matches!((case.expect)(role), 403 | 404) {
                continue;
            }
            let f = &fixtures.iter().find(|(r, _)| *r == role).unwrap().1;
            let token = Some(f.caller.token.as_str());
            let there = (case.path)(f);
            let nowhere = missing(&there);
            assert_ne!(there, nowhere, "{} has ids to replace", case.template);
            let a = observe(call(&app, case, f, token, &there).await).await;
            let b = observe(call(&app, case, f, token, &nowhere).await).await;
            probed.insert(format!("{} {}", case.method, case.template));
            if a != b {
                failures.push(format!(
                    "{} {} as {}: existing {a:?}\n  missing {b:?}",
                    case.method,
                    case.template,
                    role.as_str()
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    // Every id-taking operation of both sides was probed by someone.
    for case in cases().iter().filter(|c| c.template.contains('{')) {
        let tag = tag_of(&spec, case);
        if CASEWORK_TAGS.contains(&tag.as_str()) || SAFETY_TAGS.contains(&tag.as_str()) {
            let op = format!("{} {}", case.method, case.template);
            assert!(probed.contains(&op), "{op} was not probed");
        }
    }
}

/// The same body with every id in it (but the client-chosen `id` of a new
/// record) replaced by one that exists nowhere; `None` when it has none.
fn missing_ids(body: &Value) -> Option<Value> {
    fn walk(v: &mut Value, key: Option<&str>, changed: &mut bool) {
        match v {
            Value::String(s) if key != Some("id") && Uuid::parse_str(s).is_ok() => {
                *s = Uuid::now_v7().to_string();
                *changed = true;
            }
            Value::String(s) if key == Some("path") && s.contains('/') => {
                let m = missing(s);
                if m != *s {
                    *s = m;
                    *changed = true;
                }
            }
            Value::Array(items) => items.iter_mut().for_each(|i| walk(i, key, changed)),
            Value::Object(o) => o.iter_mut().for_each(|(k, v)| walk(v, Some(k), changed)),
            _ => {}
        }
    }
    let mut out = body.clone();
    let mut changed = false;
    walk(&mut out, None, &mut changed);
    changed.then_some(out)
}

/// Ids in bodies are doors too: for every operation whose body names a
/// record (break-glass, referrals, mandated reports, support links,
/// certifications, sync uploads, ...), every role that may not use it gets
/// the same answer for a real id as for a missing one.
#[tokio::test]
async fn an_id_in_a_body_answers_alike_whether_its_record_exists_or_not() {
    let app = spawn_app().await;
    let mut fixtures: Vec<(Role, Fixture)> = Vec::new();
    for (n, role) in Role::ALL.into_iter().enumerate() {
        fixtures.push((role, fixture(&app, role, 6000 + n as u32).await));
    }
    // Beyond the role table: a sync upload whose operations name records.
    let upload = Case {
        method: Method::POST,
        template: "/v1/sync",
        path: |_| "/v1/sync".into(),
        body: |f| {
            Some(serde_json::json!({"operations": [
                {"op_id": format!("ids-{}", f.n), "method": "POST",
                 "path": format!("/v1/cases/{}/notes", f.case), "body": {"body": "Invented."}},
                {"op_id": format!("ids2-{}", f.n), "method": "POST", "path": "/v1/referrals",
                 "body": {"patron_id": f.patron, "case_id": f.case, "service_id": f.service}}]}))
        },
        if_match: |_| None,
        expect: Box::new(|r: Role| match r {
            Role::Peer | Role::SocialWorker | Role::Supervisor => 200,
            _ => 403,
        }),
        public: false,
    };
    // And a support request received with the casework it led to.
    let receive = Case {
        method: Method::POST,
        template: "/v1/support-requests/{id}/receive",
        path: |f| format!("/v1/support-requests/{}/receive", f.support_request),
        body: |f| Some(serde_json::json!({"contact_id": f.contact, "case_id": f.case})),
        if_match: |_| Some("\"1\"".to_owned()),
        expect: Box::new(|r: Role| match r {
            Role::SocialWorker | Role::Supervisor => 200,
            _ => 404,
        }),
        public: false,
    };
    let table = cases();
    let mut failures = Vec::new();
    let mut probed = BTreeSet::new();
    for case in table.iter().chain([&upload, &receive]) {
        for (role, f) in &fixtures {
            if !matches!((case.expect)(*role), 403 | 404) {
                continue;
            }
            let Some(body) = (case.body)(f) else { continue };
            let Some(elsewhere) = missing_ids(&body) else {
                continue;
            };
            let token = Some(f.caller.token.as_str());
            let path = (case.path)(f);
            let a = observe(call_with(&app, case, f, token, &path, Some(body)).await).await;
            let b = observe(call_with(&app, case, f, token, &path, Some(elsewhere)).await).await;
            probed.insert(case.template);
            if a != b {
                failures.push(format!(
                    "{} {} as {}: existing {a:?}\n  missing {b:?}",
                    case.method,
                    case.template,
                    role.as_str()
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    for op in [
        "/v1/break-glass",
        "/v1/referrals",
        "/v1/mandated-reports",
        "/v1/support-requests/{id}/receive",
        "/v1/staff/{id}/certifications",
        "/v1/sync",
    ] {
        assert!(probed.contains(op), "{op} was not probed: {probed:?}");
    }
}

/// Field names only casework records carry.
const CASEWORK_FIELDS: &[&str] = &[
    "patron_id",
    "preferred_name",
    "legal_name",
    "case_id",
    "contact_id",
    "needs",
    "services_given",
    "sensitivity",
    "owner_id",
    "received_by",
    "intake_number",
    "what_was_reported",
    "persons_concerned",
];

/// Field names only incidents and suspensions carry.
const SAFETY_FIELDS: &[&str] = &[
    "action_taken",
    "persons_involved",
    "responders",
    "amendments",
    "editable_until",
    "person",
    "notified_how",
    "appeal_status",
    "appeal_decision",
    "lift_reason",
];

/// Every key in `v`, except inside a support request's `shared` copy.
fn keys(v: &Value, out: &mut BTreeSet<String>) {
    match v {
        Value::Object(o) => {
            for (k, v) in o {
                out.insert(k.clone());
                if k != "shared" {
                    keys(v, out);
                }
            }
        }
        Value::Array(a) => a.iter().for_each(|v| keys(v, out)),
        _ => {}
    }
}

async fn answers(app: &TestApp, role: Role, n: u32) -> BTreeSet<String> {
    let f = fixture(app, role, n).await;
    let token = Some(f.caller.token.as_str());
    let mut seen = BTreeSet::new();
    // Reads first, then the creates (which change nothing the reads need).
    let all = cases();
    let reads = all.iter().filter(|c| c.method == Method::GET && !c.public);
    let creates = all
        .iter()
        .filter(|c| c.method == Method::POST && !c.template.contains('{') && !c.public);
    for case in reads.chain(creates) {
        let resp = call(app, case, &f, token, &(case.path)(&f)).await;
        if let Ok(v) = resp.json::<Value>().await {
            keys(&v, &mut seen);
        }
    }
    seen
}

#[tokio::test]
async fn no_answer_carries_a_field_from_the_other_side() {
    let app = spawn_app().await;
    let mut failures = Vec::new();
    for (n, role) in Role::ALL.into_iter().enumerate() {
        let seen = answers(&app, role, 6000 + n as u32).await;
        let (forbidden, side) = match role {
            Role::Staff | Role::Security => (CASEWORK_FIELDS, "casework"),
            Role::Peer | Role::SocialWorker | Role::Supervisor => (SAFETY_FIELDS, "safety"),
            _ => continue,
        };
        for k in forbidden.iter().filter(|k| seen.contains(**k)) {
            failures.push(format!("{} saw the {side} field {k}", role.as_str()));
        }
        // The check sees fields: each role saw its own side's.
        let own = if side == "casework" {
            SAFETY_FIELDS
        } else {
            CASEWORK_FIELDS
        };
        assert!(
            own.iter().any(|k| seen.contains(*k)),
            "{} saw none of its own side's fields",
            role.as_str()
        );
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
