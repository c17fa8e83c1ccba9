//! The role test: every endpoint called as every role, and with no token, an
//! expired token, a token signed with another key and a revoked session.
//! The expected statuses are the matrix of DESIGN.md section 3. A new
//! endpoint must add a row here: the test fails for any operation in the
//! spec that the table does not cover.

use std::collections::BTreeSet;

use casework::domain::Role;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use reqwest::Method;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::{Account, TEST_SIGNING_KEY, TestApp, spawn_app};

/// Records a case needs: made fresh for every call, so that calls that
/// change or end things do not affect each other.
pub(crate) struct Fixture {
    pub caller: Account,
    pub(crate) branch: Uuid,
    pub(crate) other: Account,
    pub(crate) caller_second_session: Uuid,
    pub(crate) n: u32,
    /// Casework made by another social worker of the caller's branch; the
    /// caller is on the case team when its role can be.
    pub(crate) patron: Uuid,
    pub(crate) case: Uuid,
    pub(crate) case_etag: String,
    pub(crate) extra_member: Uuid,
    pub(crate) other_worker: Uuid,
    pub(crate) note: Uuid,
    pub(crate) consent: Uuid,
    pub(crate) follow_up: Uuid,
    pub(crate) contact: Uuid,
    /// A directory entry, made by the admin.
    pub(crate) service: Uuid,
    /// A referral the case owner made on the case.
    pub(crate) referral: Uuid,
    /// A mandated report the case owner wrote.
    pub(crate) report: Uuid,
    /// An incident at the branch, reported by another staff member.
    pub(crate) incident: Uuid,
    /// A suspension at the branch, recorded by a security officer.
    pub(crate) suspension: Uuid,
    /// A support request to the branch, opened by another staff member.
    pub(crate) support_request: Uuid,
    /// A training and a rule of behavior, made by the admin.
    pub(crate) training: Uuid,
    pub(crate) rule: Uuid,
    /// A break-glass grant to the case, by a supervisor of another branch.
    pub(crate) grant: Uuid,
}

type PathFn = fn(&Fixture) -> String;
type BodyFn = fn(&Fixture) -> Option<Value>;
type EtagFn = fn(&Fixture) -> Option<String>;

pub(crate) struct Case {
    pub method: Method,
    /// The path as in the spec, to check coverage.
    pub template: &'static str,
    pub path: PathFn,
    pub(crate) body: BodyFn,
    pub(crate) if_match: EtagFn,
    /// Expected status per role; `None` means the endpoint takes no token.
    pub expect: Box<dyn Fn(Role) -> u16>,
    pub public: bool,
}

fn all_200(_: Role) -> u16 {
    200
}
fn all_204(_: Role) -> u16 {
    204
}

fn admin_only_201(r: Role) -> u16 {
    if r == Role::Admin { 201 } else { 403 }
}
fn admin_only_200(r: Role) -> u16 {
    if r == Role::Admin { 200 } else { 403 }
}
fn admin_only_204(r: Role) -> u16 {
    if r == Role::Admin { 204 } else { 403 }
}
fn statistics_200(r: Role) -> u16 {
    if matches!(r, Role::Supervisor | Role::Admin) {
        200
    } else {
        403
    }
}
fn not_auditor_200(r: Role) -> u16 {
    if r == Role::Auditor { 403 } else { 200 }
}
fn supervisor_or_admin(ok: u16) -> impl Fn(Role) -> u16 {
    move |r| {
        if matches!(r, Role::Supervisor | Role::Admin) {
            ok
        } else {
            403
        }
    }
}
fn auditor_only_200(r: Role) -> u16 {
    if r == Role::Auditor { 200 } else { 403 }
}

fn no_body(_: &Fixture) -> Option<Value> {
    None
}
fn no_etag(_: &Fixture) -> Option<String> {
    None
}
fn v1(_: &Fixture) -> Option<String> {
    Some("\"1\"".into())
}
fn case_etag(f: &Fixture) -> Option<String> {
    Some(f.case_etag.clone())
}

/// Expected statuses for casework: one per group of roles.
fn cw(peer: u16, worker: u16, supervisor: u16, others: u16) -> impl Fn(Role) -> u16 {
    move |r| match r {
        Role::Peer => peer,
        Role::SocialWorker => worker,
        Role::Supervisor => supervisor,
        _ => others,
    }
}

/// Expected statuses for safety records: staff, security, everyone else.
fn sf(staff: u16, security: u16, others: u16) -> impl Fn(Role) -> u16 {
    move |r| match r {
        Role::Staff => staff,
        Role::Security => security,
        _ => others,
    }
}

pub(crate) fn cases() -> Vec<Case> {
    vec![
        Case {
            method: Method::GET,
            template: "/healthz",
            path: |_| "/healthz".into(),
            body: no_body,
            if_match: no_etag,
            expect: Box::new(all_200),
            public: true,
        },
        Case {
            method: Method::GET,
            template: "/readyz",
            path: |_| "/readyz".into(),
            body: no_body,
            if_match: no_etag,
            expect: Box::new(all_200),
            public: true,
        },
        Case {
            method: Method::POST,
            template: "/v1/auth/login",
            path: |_| "/v1/auth/login".into(),
            body: |f| {
                Some(
                    json!({"username": f.caller.username, "password": f.caller.password, "device_name": "role test"}),
                )
            },
            if_match: no_etag,
            expect: Box::new(all_200),
            public: true,
        },
        Case {
            method: Method::POST,
            template: "/v1/auth/refresh",
            path: |_| "/v1/auth/refresh".into(),
            body: |f| Some(json!({"refresh_token": f.caller.refresh_token})),
            if_match: no_etag,
            expect: Box::new(all_200),
            public: true,
        },
        // Single sign-on is not configured here (tests/api/sso.rs and the
        // browser tests run a real provider): it is offered to nobody,
        // start is 404, the callback sends everyone back to the app.
        Case {
            method: Method::GET,
            template: "/v1/auth/sso",
            path: |_| "/v1/auth/sso".into(),
            body: no_body,
            if_match: no_etag,
            expect: Box::new(all_200),
            public: true,
        },
        Case {
            method: Method::GET,
            template: "/v1/auth/sso/start",
            path: |_| "/v1/auth/sso/start?device_name=role%20test".into(),
            body: no_body,
            if_match: no_etag,
            expect: Box::new(|_| 404),
            public: true,
        },
        Case {
            method: Method::GET,
            template: "/v1/auth/sso/callback",
            path: |_| "/v1/auth/sso/callback?state=unknown&code=x".into(),
            body: no_body,
            if_match: no_etag,
            expect: Box::new(|_| 303),
            public: true,
        },
        Case {
            method: Method::POST,
            template: "/v1/auth/sso/redeem",
            path: |_| "/v1/auth/sso/redeem".into(),
            body: |_| Some(json!({"ticket": "not-a-ticket"})),
            if_match: no_etag,
            expect: Box::new(|_| 401),
            public: true,
        },
        Case {
            method: Method::POST,
            template: "/v1/auth/logout",
            path: |_| "/v1/auth/logout".into(),
            body: no_body,
            if_match: no_etag,
            expect: Box::new(all_204),
            public: false,
        },
        Case {
            method: Method::GET,
            template: "/v1/me",
            path: |_| "/v1/me".into(),
            body: no_body,
            if_match: no_etag,
            expect: Box::new(all_200),
            public: false,
        },
        Case {
            method: Method::POST,
            template: "/v1/me/password",
            path: |_| "/v1/me/password".into(),
            // Every role may change its own password; a wrong current one
            // is refused naming the field (the fixture keeps its password).
            body: |_| {
                Some(
                    json!({"current_password": "not the password", "new_password": "a brand new passphrase"}),
                )
            },
            if_match: no_etag,
            expect: Box::new(|_| 422),
            public: false,
        },
        Case {
            method: Method::GET,
            template: "/v1/me/sessions",
            path: |_| "/v1/me/sessions".into(),
            body: no_body,
            if_match: no_etag,
            expect: Box::new(all_200),
            public: false,
        },
        Case {
            method: Method::DELETE,
            template: "/v1/me/sessions/{id}",
            path: |f| format!("/v1/me/sessions/{}", f.caller_second_session),
            body: no_body,
            if_match: no_etag,
            expect: Box::new(all_204),
            public: false,
        },
        Case {
            method: Method::GET,
            template: "/v1/branches",
            path: |_| "/v1/branches".into(),
            body: no_body,
            if_match: no_etag,
            expect: Box::new(all_200),
            public: false,
        },
        Case {
            method: Method::POST,
            template: "/v1/branches",
            path: |_| "/v1/branches".into(),
            body: |f| Some(json!({"code": format!("R{}", f.n), "name": "Role test"})),
            if_match: no_etag,
            expect: Box::new(admin_only_201),
            public: false,
        },
        Case {
            method: Method::GET,
            template: "/v1/branches/{id}",
            path: |f| format!("/v1/branches/{}", f.branch),
            body: no_body,
            if_match: no_etag,
            expect: Box::new(all_200),
            public: false,
        },
        Case {
            method: Method::PATCH,
            template: "/v1/branches/{id}",
            path: |f| format!("/v1/branches/{}", f.branch),
            body: |_| Some(json!({"name": "Renamed"})),
            if_match: v1,
            expect: Box::new(admin_only_200),
            public: false,
        },
        Case {
            method: Method::POST,
            template: "/v1/services",
            path: |_| "/v1/services".into(),
            body: |f| {
                Some(
                    json!({"organization_name": "Invented Org", "name": format!("Role test {}", f.n),
                            "categories": ["housing"]}),
                )
            },
            if_match: no_etag,
            expect: Box::new(admin_only_201),
            public: false,
        },
        Case {
            method: Method::POST,
            template: "/v1/services/import",
            path: |_| "/v1/services/import".into(),
            body: |f| {
                let service = json!([{"id": format!("role-test-{}", f.n), "name": "Role Test Pantry",
                    "organization": {"name": "Invented Org"}}]);
                Some(json!({"files": [{"name": "services.json", "text": service.to_string()}]}))
            },
            if_match: no_etag,
            expect: Box::new(admin_only_200),
            public: false,
        },
        Case {
            method: Method::GET,
            template: "/v1/services",
            path: |_| "/v1/services?q=invented".into(),
            body: no_body,
            if_match: no_etag,
            expect: Box::new(all_200),
            public: false,
        },
        Case {
            method: Method::GET,
            template: "/v1/services/{id}",
            path: |f| format!("/v1/services/{}", f.service),
            body: no_body,
            if_match: no_etag,
            expect: Box::new(all_200),
            public: false,
        },
        Case {
            method: Method::PATCH,
            template: "/v1/services/{id}",
            path: |f| format!("/v1/services/{}", f.service),
            body: |_| Some(json!({"eligibility": "Anyone.", "status": "inactive"})),
            if_match: v1,
            expect: Box::new(admin_only_200),
            public: false,
        },
        Case {
            method: Method::GET,
            template: "/v1/staff",
            path: |_| "/v1/staff".into(),
            body: no_body,
            if_match: no_etag,
            expect: Box::new(all_200),
            public: false,
        },
        Case {
            method: Method::POST,
            template: "/v1/staff",
            path: |_| "/v1/staff".into(),
            body: |f| {
                Some(
                    json!({"username": format!("made.{}", f.n), "display_name": "Invented", "role": "peer", "password": "a long enough password"}),
                )
            },
            if_match: no_etag,
            expect: Box::new(admin_only_201),
            public: false,
        },
        Case {
            method: Method::GET,
            template: "/v1/staff/{id}",
            path: |f| format!("/v1/staff/{}", f.other.id),
            body: no_body,
            if_match: no_etag,
            expect: Box::new(all_200),
            public: false,
        },
        Case {
            method: Method::PATCH,
            template: "/v1/staff/{id}",
            path: |f| format!("/v1/staff/{}", f.other.id),
            body: |_| Some(json!({"display_name": "Renamed (invented)"})),
            if_match: v1,
            expect: Box::new(admin_only_200),
            public: false,
        },
        Case {
            method: Method::GET,
            template: "/v1/staff/{id}/sessions",
            path: |f| format!("/v1/staff/{}/sessions", f.other.id),
            body: no_body,
            if_match: no_etag,
            expect: Box::new(admin_only_200),
            public: false,
        },
        Case {
            method: Method::DELETE,
            template: "/v1/staff/{id}/sessions/{session_id}",
            path: |f| format!("/v1/staff/{}/sessions/{}", f.other.id, f.other.session_id),
            body: no_body,
            if_match: no_etag,
            expect: Box::new(admin_only_204),
            public: false,
        },
        Case {
            method: Method::GET,
            template: "/v1/audit/events",
            path: |_| "/v1/audit/events".into(),
            body: no_body,
            if_match: no_etag,
            expect: Box::new(auditor_only_200),
            public: false,
        },
        Case {
            method: Method::GET,
            template: "/v1/audit/verify",
            path: |_| "/v1/audit/verify".into(),
            body: no_body,
            if_match: no_etag,
            expect: Box::new(auditor_only_200),
            public: false,
        },
        // ---- casework: patrons
        Case {
            method: Method::POST,
            template: "/v1/patrons",
            path: |_| "/v1/patrons".into(),
            body: |f| {
                Some(json!({"preferred_name": "Invented Person", "home_branch_id": f.branch}))
            },
            if_match: no_etag,
            expect: Box::new(cw(201, 201, 403, 403)),
            public: false,
        },
        Case {
            method: Method::GET,
            template: "/v1/patrons",
            path: |_| "/v1/patrons?q=inv".into(),
            body: no_body,
            if_match: no_etag,
            expect: Box::new(cw(200, 200, 200, 403)),
            public: false,
        },
        Case {
            method: Method::GET,
            template: "/v1/patrons/{id}",
            path: |f| format!("/v1/patrons/{}", f.patron),
            body: no_body,
            if_match: no_etag,
            expect: Box::new(cw(200, 200, 200, 404)),
            public: false,
        },
        Case {
            method: Method::PATCH,
            template: "/v1/patrons/{id}",
            path: |f| format!("/v1/patrons/{}", f.patron),
            body: |_| Some(json!({"language": "es"})),
            if_match: v1,
            expect: Box::new(cw(403, 403, 200, 404)),
            public: false,
        },
        // ---- contacts
        Case {
            method: Method::POST,
            template: "/v1/contacts",
            path: |_| "/v1/contacts".into(),
            body: |f| Some(json!({"branch_id": f.branch, "kind": "outreach", "needs": ["food"]})),
            if_match: no_etag,
            expect: Box::new(cw(201, 201, 403, 403)),
            public: false,
        },
        Case {
            method: Method::GET,
            template: "/v1/contacts/{id}",
            path: |f| format!("/v1/contacts/{}", f.contact),
            body: no_body,
            if_match: no_etag,
            expect: Box::new(cw(404, 200, 200, 404)),
            public: false,
        },
        Case {
            method: Method::PATCH,
            template: "/v1/contacts/{id}",
            path: |f| format!("/v1/contacts/{}", f.contact),
            body: |_| Some(json!({"duration_minutes": 20})),
            if_match: v1,
            expect: Box::new(cw(404, 403, 403, 404)),
            public: false,
        },
        Case {
            method: Method::GET,
            template: "/v1/me/contacts",
            path: |_| "/v1/me/contacts".into(),
            body: no_body,
            if_match: no_etag,
            expect: Box::new(cw(200, 200, 200, 403)),
            public: false,
        },
        // ---- cases
        Case {
            method: Method::POST,
            template: "/v1/cases",
            path: |_| "/v1/cases".into(),
            body: |f| Some(json!({"patron_id": f.patron})),
            if_match: no_etag,
            // Refused on the role before the patron is looked at.
            expect: Box::new(cw(403, 201, 403, 403)),
            public: false,
        },
        Case {
            method: Method::GET,
            template: "/v1/cases/{id}",
            path: |f| format!("/v1/cases/{}", f.case),
            body: no_body,
            if_match: no_etag,
            expect: Box::new(cw(200, 200, 200, 404)),
            public: false,
        },
        Case {
            method: Method::PATCH,
            template: "/v1/cases/{id}",
            path: |f| format!("/v1/cases/{}", f.case),
            body: |_| Some(json!({"summary": "Updated"})),
            if_match: case_etag,
            expect: Box::new(cw(403, 200, 200, 404)),
            public: false,
        },
        Case {
            method: Method::POST,
            template: "/v1/cases/{id}/team",
            path: |f| format!("/v1/cases/{}/team", f.case),
            body: |f| Some(json!({"staff_id": f.other.id})),
            if_match: case_etag,
            expect: Box::new(cw(403, 403, 200, 404)),
            public: false,
        },
        Case {
            method: Method::DELETE,
            template: "/v1/cases/{id}/team/{staff_id}",
            path: |f| format!("/v1/cases/{}/team/{}", f.case, f.extra_member),
            body: no_body,
            if_match: case_etag,
            expect: Box::new(cw(403, 403, 200, 404)),
            public: false,
        },
        Case {
            method: Method::POST,
            template: "/v1/cases/{id}/close",
            path: |f| format!("/v1/cases/{}/close", f.case),
            body: |_| Some(json!({"reason": "Housed"})),
            if_match: case_etag,
            expect: Box::new(cw(403, 200, 200, 404)),
            public: false,
        },
        Case {
            method: Method::POST,
            template: "/v1/cases/{id}/reopen",
            path: |f| format!("/v1/cases/{}/reopen", f.case),
            body: |_| Some(json!({"reason": "Back"})),
            if_match: case_etag,
            expect: Box::new(cw(403, 409, 409, 404)),
            public: false,
        },
        Case {
            method: Method::POST,
            template: "/v1/cases/{id}/reassign",
            path: |f| format!("/v1/cases/{}/reassign", f.case),
            body: |f| Some(json!({"owner_id": f.other_worker})),
            if_match: case_etag,
            expect: Box::new(cw(403, 403, 200, 404)),
            public: false,
        },
        Case {
            method: Method::GET,
            template: "/v1/me/caseload",
            path: |_| "/v1/me/caseload".into(),
            body: no_body,
            if_match: no_etag,
            expect: Box::new(cw(200, 200, 200, 403)),
            public: false,
        },
        // ---- notes
        Case {
            method: Method::POST,
            template: "/v1/cases/{id}/notes",
            path: |f| format!("/v1/cases/{}/notes", f.case),
            body: |_| Some(json!({"body": "Met at the desk.", "sensitivity": "standard"})),
            if_match: no_etag,
            expect: Box::new(cw(201, 201, 403, 404)),
            public: false,
        },
        Case {
            method: Method::GET,
            template: "/v1/cases/{id}/notes",
            path: |f| format!("/v1/cases/{}/notes", f.case),
            body: no_body,
            if_match: no_etag,
            expect: Box::new(cw(200, 200, 200, 404)),
            public: false,
        },
        Case {
            method: Method::GET,
            template: "/v1/cases/{id}/notes/{note_id}",
            path: |f| format!("/v1/cases/{}/notes/{}", f.case, f.note),
            body: no_body,
            if_match: no_etag,
            expect: Box::new(cw(200, 200, 200, 404)),
            public: false,
        },
        // ---- consents
        Case {
            method: Method::POST,
            template: "/v1/patrons/{id}/consents",
            path: |f| format!("/v1/patrons/{}/consents", f.patron),
            body: |_| {
                Some(
                    json!({"recipient": "Harbor Housing", "scope": "name, phone", "purpose": "housing referral", "method": "verbal"}),
                )
            },
            if_match: no_etag,
            expect: Box::new(cw(403, 201, 403, 404)),
            public: false,
        },
        Case {
            method: Method::GET,
            template: "/v1/patrons/{id}/consents",
            path: |f| format!("/v1/patrons/{}/consents", f.patron),
            body: no_body,
            if_match: no_etag,
            expect: Box::new(cw(200, 200, 200, 404)),
            public: false,
        },
        Case {
            method: Method::POST,
            template: "/v1/consents/{id}/revoke",
            path: |f| format!("/v1/consents/{}/revoke", f.consent),
            body: no_body,
            if_match: v1,
            expect: Box::new(cw(403, 200, 403, 404)),
            public: false,
        },
        // ---- follow-ups
        Case {
            method: Method::POST,
            template: "/v1/follow-ups",
            path: |_| "/v1/follow-ups".into(),
            body: |f| {
                Some(
                    json!({"case_id": f.case, "due_on": chrono::Utc::now().date_naive().to_string()}),
                )
            },
            if_match: no_etag,
            expect: Box::new(cw(201, 201, 201, 422)),
            public: false,
        },
        Case {
            method: Method::GET,
            template: "/v1/follow-ups/{id}",
            path: |f| format!("/v1/follow-ups/{}", f.follow_up),
            body: no_body,
            if_match: no_etag,
            expect: Box::new(cw(404, 200, 200, 404)),
            public: false,
        },
        Case {
            method: Method::POST,
            template: "/v1/follow-ups/{id}/done",
            path: |f| format!("/v1/follow-ups/{}/done", f.follow_up),
            body: no_body,
            if_match: v1,
            expect: Box::new(cw(404, 200, 200, 404)),
            public: false,
        },
        Case {
            method: Method::POST,
            template: "/v1/referrals",
            path: |_| "/v1/referrals".into(),
            body: |f| {
                Some(json!({"patron_id": f.patron, "case_id": f.case,
                            "recipient": "Invented food bank", "needs": ["food"]}))
            },
            if_match: no_etag,
            // Refused on the role before the patron is looked at.
            expect: Box::new(cw(201, 201, 201, 403)),
            public: false,
        },
        Case {
            method: Method::GET,
            template: "/v1/referrals/{id}",
            path: |f| format!("/v1/referrals/{}", f.referral),
            body: no_body,
            if_match: no_etag,
            expect: Box::new(cw(200, 200, 200, 404)),
            public: false,
        },
        Case {
            method: Method::POST,
            template: "/v1/referrals/{id}/transitions",
            path: |f| format!("/v1/referrals/{}/transitions", f.referral),
            body: |_| Some(json!({"to": "requested"})),
            if_match: v1,
            // Peers move only the referrals they made.
            expect: Box::new(cw(403, 200, 200, 404)),
            public: false,
        },
        Case {
            method: Method::PATCH,
            template: "/v1/referrals/{id}",
            path: |f| format!("/v1/referrals/{}", f.referral),
            body: |_| Some(json!({"notes": "Call after 10."})),
            if_match: v1,
            expect: Box::new(cw(403, 200, 200, 404)),
            public: false,
        },
        Case {
            method: Method::GET,
            template: "/v1/branches/{id}/referrals/overdue",
            path: |f| format!("/v1/branches/{}/referrals/overdue", f.branch),
            body: no_body,
            if_match: no_etag,
            expect: Box::new(cw(403, 403, 200, 403)),
            public: false,
        },
        Case {
            method: Method::GET,
            template: "/v1/patrons/{id}/referrals",
            path: |f| format!("/v1/patrons/{}/referrals", f.patron),
            body: no_body,
            if_match: no_etag,
            expect: Box::new(cw(200, 200, 200, 404)),
            public: false,
        },
        Case {
            method: Method::GET,
            template: "/v1/me/referrals",
            path: |_| "/v1/me/referrals".into(),
            body: no_body,
            if_match: no_etag,
            expect: Box::new(cw(200, 200, 200, 403)),
            public: false,
        },
        Case {
            method: Method::POST,
            template: "/v1/mandated-reports",
            path: |_| "/v1/mandated-reports".into(),
            body: |f| {
                Some(
                    json!({"patron_id": f.patron, "kind": "other", "agency": "Invented agency",
                            "learned_at": chrono::Utc::now().to_rfc3339(),
                            "persons_concerned": "Invented.", "what_was_reported": "Invented."}),
                )
            },
            if_match: no_etag,
            expect: Box::new(cw(403, 201, 403, 403)),
            public: false,
        },
        Case {
            method: Method::GET,
            template: "/v1/mandated-reports",
            path: |_| "/v1/mandated-reports".into(),
            body: no_body,
            if_match: no_etag,
            expect: Box::new(cw(403, 200, 200, 403)),
            public: false,
        },
        Case {
            method: Method::GET,
            template: "/v1/mandated-reports/{id}",
            path: |f| format!("/v1/mandated-reports/{}", f.report),
            body: no_body,
            if_match: no_etag,
            // The author and the branch's supervisors only; the team does not read it.
            expect: Box::new(cw(404, 404, 200, 404)),
            public: false,
        },
        Case {
            method: Method::PATCH,
            template: "/v1/mandated-reports/{id}",
            path: |f| format!("/v1/mandated-reports/{}", f.report),
            body: |_| Some(json!({"agency_worker": "Invented worker"})),
            if_match: v1,
            expect: Box::new(cw(404, 404, 403, 404)),
            public: false,
        },
        Case {
            method: Method::POST,
            template: "/v1/mandated-reports/{id}/transitions",
            path: |f| format!("/v1/mandated-reports/{}/transitions", f.report),
            body: |_| {
                Some(
                    json!({"to": "submitted", "reported_at": chrono::Utc::now().to_rfc3339(), "reported_how": "phone"}),
                )
            },
            if_match: v1,
            expect: Box::new(cw(404, 404, 403, 404)),
            public: false,
        },
        Case {
            method: Method::GET,
            template: "/v1/stats/contacts",
            path: |_| "/v1/stats/contacts?group_by=need".into(),
            body: no_body,
            if_match: no_etag,
            expect: Box::new(statistics_200),
            public: false,
        },
        Case {
            method: Method::GET,
            template: "/v1/stats/referrals",
            path: |_| "/v1/stats/referrals?group_by=outcome".into(),
            body: no_body,
            if_match: no_etag,
            expect: Box::new(statistics_200),
            public: false,
        },
        Case {
            method: Method::GET,
            template: "/v1/me/follow-ups",
            path: |_| "/v1/me/follow-ups".into(),
            body: no_body,
            if_match: no_etag,
            expect: Box::new(cw(200, 200, 200, 403)),
            public: false,
        },
        Case {
            method: Method::POST,
            template: "/v1/incidents",
            path: |_| "/v1/incidents".into(),
            body: |f| {
                Some(
                    json!({"branch_id": f.branch, "occurred_at": chrono::Utc::now().to_rfc3339(),
                            "category": "other", "description": "Invented.", "action_taken": "none"}),
                )
            },
            if_match: no_etag,
            expect: Box::new(sf(201, 201, 403)),
            public: false,
        },
        Case {
            method: Method::GET,
            template: "/v1/incidents",
            path: |_| "/v1/incidents".into(),
            body: no_body,
            if_match: no_etag,
            expect: Box::new(sf(200, 200, 403)),
            public: false,
        },
        Case {
            method: Method::GET,
            template: "/v1/incidents/{id}",
            path: |f| format!("/v1/incidents/{}", f.incident),
            body: no_body,
            if_match: no_etag,
            expect: Box::new(sf(200, 200, 404)),
            public: false,
        },
        Case {
            method: Method::PATCH,
            template: "/v1/incidents/{id}",
            path: |f| format!("/v1/incidents/{}", f.incident),
            body: |_| Some(json!({"action_taken": "warning"})),
            if_match: v1,
            // Staff change only the reports they made.
            expect: Box::new(sf(403, 200, 404)),
            public: false,
        },
        Case {
            method: Method::POST,
            template: "/v1/incidents/{id}/amendments",
            path: |f| format!("/v1/incidents/{}/amendments", f.incident),
            body: |_| Some(json!({"text": "Invented amendment."})),
            if_match: no_etag,
            expect: Box::new(sf(403, 201, 404)),
            public: false,
        },
        Case {
            method: Method::POST,
            template: "/v1/suspensions",
            path: |_| "/v1/suspensions".into(),
            body: |_| {
                Some(json!({"person": "Invented", "scope": "system_wide",
                            "ends_at": (chrono::Utc::now() + chrono::Duration::days(1)).to_rfc3339(),
                            "reason": "Invented.", "notified_how": "letter"}))
            },
            if_match: no_etag,
            expect: Box::new(sf(403, 201, 403)),
            public: false,
        },
        Case {
            method: Method::GET,
            template: "/v1/suspensions",
            path: |_| "/v1/suspensions".into(),
            body: no_body,
            if_match: no_etag,
            expect: Box::new(sf(403, 200, 403)),
            public: false,
        },
        Case {
            method: Method::GET,
            template: "/v1/suspensions/{id}",
            path: |f| format!("/v1/suspensions/{}", f.suspension),
            body: no_body,
            if_match: no_etag,
            expect: Box::new(sf(404, 200, 404)),
            public: false,
        },
        Case {
            method: Method::PATCH,
            template: "/v1/suspensions/{id}",
            path: |f| format!("/v1/suspensions/{}", f.suspension),
            body: |_| Some(json!({"appeal_status": "requested"})),
            if_match: v1,
            expect: Box::new(sf(404, 200, 404)),
            public: false,
        },
        Case {
            method: Method::POST,
            template: "/v1/suspensions/{id}/lift",
            path: |f| format!("/v1/suspensions/{}/lift", f.suspension),
            body: |_| Some(json!({"reason": "Invented."})),
            if_match: v1,
            expect: Box::new(sf(404, 200, 404)),
            public: false,
        },
        Case {
            method: Method::GET,
            template: "/v1/branches/{id}/suspensions/active",
            path: |f| format!("/v1/branches/{}/suspensions/active", f.branch),
            body: no_body,
            if_match: no_etag,
            expect: Box::new(sf(200, 200, 403)),
            public: false,
        },
        Case {
            method: Method::POST,
            template: "/v1/support-requests",
            path: |_| "/v1/support-requests".into(),
            body: |f| {
                Some(json!({"branch_id": f.branch, "urgency": "urgent", "needed": "Invented."}))
            },
            if_match: no_etag,
            expect: Box::new(sf(201, 201, 403)),
            public: false,
        },
        Case {
            method: Method::GET,
            template: "/v1/support-requests",
            path: |_| "/v1/support-requests?status=open".into(),
            body: no_body,
            if_match: no_etag,
            expect: Box::new(|r| match r {
                Role::Staff | Role::Security | Role::SocialWorker | Role::Supervisor => 200,
                _ => 403,
            }),
            public: false,
        },
        Case {
            method: Method::GET,
            template: "/v1/sync",
            path: |_| "/v1/sync".into(),
            body: no_body,
            if_match: no_etag,
            expect: Box::new(cw(200, 200, 200, 403)),
            public: false,
        },
        Case {
            method: Method::POST,
            template: "/v1/sync",
            path: |_| "/v1/sync".into(),
            body: |f| {
                Some(
                    json!({"operations": [{"op_id": format!("role-table-{}", f.n),
                    "method": "POST", "path": "/v1/contacts",
                    "body": {"branch_id": f.branch, "kind": "drop_in"}}]}),
                )
            },
            if_match: no_etag,
            expect: Box::new(cw(200, 200, 200, 403)),
            public: false,
        },
        Case {
            method: Method::GET,
            template: "/v1/support-requests/{id}",
            path: |f| format!("/v1/support-requests/{}", f.support_request),
            body: no_body,
            if_match: no_etag,
            // Another staff member's request: its requester alone sees its status.
            expect: Box::new(cw(404, 200, 200, 404)),
            public: false,
        },
        Case {
            method: Method::POST,
            template: "/v1/support-requests/{id}/receive",
            path: |f| format!("/v1/support-requests/{}/receive", f.support_request),
            body: |_| Some(json!({})),
            if_match: v1,
            expect: Box::new(cw(404, 200, 200, 404)),
            public: false,
        },
        Case {
            method: Method::POST,
            template: "/v1/support-requests/{id}/close",
            path: |f| format!("/v1/support-requests/{}/close", f.support_request),
            body: |_| Some(json!({})),
            if_match: v1,
            expect: Box::new(cw(404, 200, 200, 404)),
            public: false,
        },
        Case {
            method: Method::GET,
            template: "/v1/trainings",
            path: |_| "/v1/trainings".into(),
            body: no_body,
            if_match: no_etag,
            expect: Box::new(not_auditor_200),
            public: false,
        },
        Case {
            method: Method::POST,
            template: "/v1/trainings",
            path: |_| "/v1/trainings".into(),
            body: |f| {
                Some(json!({"name": format!("Another training {}", f.n), "provider": "Invented"}))
            },
            if_match: no_etag,
            expect: Box::new(admin_only_201),
            public: false,
        },
        Case {
            method: Method::PATCH,
            template: "/v1/trainings/{id}",
            path: |f| format!("/v1/trainings/{}", f.training),
            body: |_| Some(json!({"provider": "Invented provider"})),
            if_match: v1,
            expect: Box::new(admin_only_200),
            public: false,
        },
        Case {
            method: Method::GET,
            template: "/v1/staff/{id}/certifications",
            path: |f| format!("/v1/staff/{}/certifications", f.other.id),
            body: no_body,
            if_match: no_etag,
            // Another staff member's: their branch's supervisors, admins.
            expect: Box::new(supervisor_or_admin(200)),
            public: false,
        },
        Case {
            method: Method::POST,
            template: "/v1/staff/{id}/certifications",
            path: |f| format!("/v1/staff/{}/certifications", f.other.id),
            body: |f| {
                Some(json!({"training_id": f.training,
                            "completed_on": chrono::Utc::now().date_naive().to_string()}))
            },
            if_match: no_etag,
            expect: Box::new(supervisor_or_admin(201)),
            public: false,
        },
        Case {
            method: Method::GET,
            template: "/v1/branches/{id}/certifications/expiring",
            path: |f| format!("/v1/branches/{}/certifications/expiring?days=90", f.branch),
            body: no_body,
            if_match: no_etag,
            expect: Box::new(supervisor_or_admin(200)),
            public: false,
        },
        Case {
            method: Method::GET,
            template: "/v1/branches/{id}/certifications/coverage",
            path: |f| format!("/v1/branches/{}/certifications/coverage", f.branch),
            body: no_body,
            if_match: no_etag,
            expect: Box::new(supervisor_or_admin(200)),
            public: false,
        },
        Case {
            method: Method::GET,
            template: "/v1/branches/{id}/trainers",
            path: |f| format!("/v1/branches/{}/trainers", f.branch),
            body: no_body,
            if_match: no_etag,
            expect: Box::new(supervisor_or_admin(200)),
            public: false,
        },
        Case {
            method: Method::GET,
            template: "/v1/rules",
            path: |_| "/v1/rules".into(),
            body: no_body,
            if_match: no_etag,
            expect: Box::new(not_auditor_200),
            public: false,
        },
        Case {
            method: Method::POST,
            template: "/v1/rules",
            path: |_| "/v1/rules".into(),
            body: |f| Some(json!({"code": format!("another_{}", f.n), "text": "Invented."})),
            if_match: no_etag,
            expect: Box::new(admin_only_201),
            public: false,
        },
        Case {
            method: Method::PATCH,
            template: "/v1/rules/{id}",
            path: |f| format!("/v1/rules/{}", f.rule),
            body: |_| Some(json!({"active": false})),
            if_match: v1,
            expect: Box::new(admin_only_200),
            public: false,
        },
        Case {
            method: Method::POST,
            template: "/v1/break-glass",
            path: |_| "/v1/break-glass".into(),
            body: |f| {
                Some(
                    json!({"case_id": f.case, "reason": "An invented reason of enough length.", "hours": 1}),
                )
            },
            if_match: no_etag,
            // The fixture's case is in its supervisor's branch: no grant needed.
            expect: Box::new(|r| if r == Role::Supervisor { 409 } else { 403 }),
            public: false,
        },
        Case {
            method: Method::GET,
            template: "/v1/break-glass",
            path: |_| "/v1/break-glass?reviewed=false".into(),
            body: no_body,
            if_match: no_etag,
            expect: Box::new(auditor_only_200),
            public: false,
        },
        Case {
            method: Method::POST,
            template: "/v1/break-glass/{id}/review",
            path: |f| format!("/v1/break-glass/{}/review", f.grant),
            body: |_| Some(json!({"comment": "Invented review."})),
            if_match: no_etag,
            expect: Box::new(auditor_only_200),
            public: false,
        },
        Case {
            method: Method::GET,
            template: "/v1/audit/receipt",
            path: |_| "/v1/audit/receipt".into(),
            body: no_body,
            if_match: no_etag,
            expect: Box::new(auditor_only_200),
            public: false,
        },
        Case {
            method: Method::GET,
            template: "/v1/audit/anomalies",
            path: |_| "/v1/audit/anomalies?kind=denied_by_actor".into(),
            body: no_body,
            if_match: no_etag,
            expect: Box::new(auditor_only_200),
            public: false,
        },
        Case {
            method: Method::GET,
            template: "/v1/audit/export",
            path: |f| format!("/v1/audit/export?format=ndjson&patron_id={}", f.patron),
            body: no_body,
            if_match: no_etag,
            expect: Box::new(auditor_only_200),
            public: false,
        },
        Case {
            method: Method::GET,
            template: "/v1/audit/disclosures",
            path: |f| format!("/v1/audit/disclosures?patron_id={}", f.patron),
            body: no_body,
            if_match: no_etag,
            expect: Box::new(auditor_only_200),
            public: false,
        },
        Case {
            method: Method::GET,
            template: "/v1/stats/incidents",
            path: |_| "/v1/stats/incidents?group_by=rule".into(),
            body: no_body,
            if_match: no_etag,
            expect: Box::new(statistics_200),
            public: false,
        },
    ]
}

async fn created_id(resp: reqwest::Response) -> Uuid {
    assert_eq!(resp.status(), 201, "fixture record");
    let v: Value = resp.json().await.unwrap();
    let id = if v.get("patron").is_some() {
        &v["patron"]["id"]
    } else {
        &v["id"]
    };
    id.as_str().unwrap().parse().unwrap()
}

pub(crate) async fn fixture(app: &TestApp, role: Role, n: u32) -> Fixture {
    let branch = app.branch(&format!("F{n}")).await;
    let caller = app.account(role, &[branch]).await;
    let other = app.account(Role::Peer, &[branch]).await;
    let second: Value = app
        .login(&caller.username, &caller.password, "second")
        .await
        .json()
        .await
        .unwrap();

    // Casework made by another social worker of the same branch.
    let owner = app.account(Role::SocialWorker, &[branch]).await;
    let extra = app.account(Role::Peer, &[branch]).await;
    let other_worker = app.account(Role::SocialWorker, &[branch]).await;
    let t = owner.token.as_str();
    let patron = created_id(
        app.post_as(
            "/v1/patrons",
            t,
            &json!({"preferred_name": format!("Invented {n}"), "home_branch_id": branch}),
        )
        .await,
    )
    .await;
    let case = created_id(
        app.post_as("/v1/cases", t, &json!({"patron_id": patron}))
            .await,
    )
    .await;
    let mut version = 1;
    let mut members = vec![extra.id];
    if matches!(role, Role::Peer | Role::SocialWorker | Role::Supervisor) {
        members.push(caller.id);
    }
    for m in members {
        let resp = app
            .client
            .post(app.url(&format!("/v1/cases/{case}/team")))
            .bearer_auth(t)
            .header("If-Match", format!("\"{version}\""))
            .json(&json!({"staff_id": m}))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200, "add team member");
        version += 1;
    }
    let note = created_id(
        app.post_as(
            &format!("/v1/cases/{case}/notes"),
            t,
            &json!({"body": "Fixture note."}),
        )
        .await,
    )
    .await;
    let consent = created_id(
        app.post_as(
            &format!("/v1/patrons/{patron}/consents"),
            t,
            &json!({"recipient": "Harbor Housing", "scope": "name", "purpose": "referral", "method": "signed"}),
        )
        .await,
    )
    .await;
    let due = chrono::Utc::now().date_naive().to_string();
    let follow_up = created_id(
        app.post_as(
            "/v1/follow-ups",
            t,
            &json!({"case_id": case, "due_on": due}),
        )
        .await,
    )
    .await;
    let contact = created_id(
        app.post_as(
            "/v1/contacts",
            t,
            &json!({"branch_id": branch, "patron_id": patron, "kind": "drop_in"}),
        )
        .await,
    )
    .await;
    let admin = app.admin().await.token.clone();
    let service = created_id(
        app.post_as(
            "/v1/services",
            &admin,
            &json!({"organization_name": "Invented Org", "name": format!("Invented service {n}"),
                    "categories": ["food"]}),
        )
        .await,
    )
    .await;
    let referral = created_id(
        app.post_as(
            "/v1/referrals",
            t,
            &json!({"patron_id": patron, "case_id": case, "service_id": service}),
        )
        .await,
    )
    .await;
    let report = created_id(
        app.post_as(
            "/v1/mandated-reports",
            t,
            &json!({"patron_id": patron, "kind": "adult_protective_services",
                    "agency": "Invented APS", "learned_at": chrono::Utc::now().to_rfc3339(),
                    "persons_concerned": "An older adult.", "what_was_reported": "Invented."}),
        )
        .await,
    )
    .await;
    let reporter = app.account(Role::Staff, &[branch]).await;
    let incident = created_id(
        app.post_as(
            "/v1/incidents",
            &reporter.token,
            &json!({"branch_id": branch, "occurred_at": chrono::Utc::now().to_rfc3339(),
                    "category": "other", "description": "Fixture incident (invented).",
                    "action_taken": "none"}),
        )
        .await,
    )
    .await;
    let officer = app.account(Role::Security, &[]).await;
    let suspension = created_id(
        app.post_as(
            "/v1/suspensions",
            &officer.token,
            &json!({"person": "Invented person", "scope": "branch", "branch_id": branch,
                    "ends_at": (chrono::Utc::now() + chrono::Duration::days(3)).to_rfc3339(),
                    "reason": "Invented.", "notified_how": "in_person"}),
        )
        .await,
    )
    .await;
    let support_request = created_id(
        app.post_as(
            "/v1/support-requests",
            &reporter.token,
            &json!({"branch_id": branch, "urgency": "routine", "needed": "Invented.",
                    "incident_id": incident, "share": ["category"]}),
        )
        .await,
    )
    .await;
    let training = created_id(
        app.post_as(
            "/v1/trainings",
            &admin,
            &json!({"name": format!("Invented training {n}"), "provider": "Invented",
                    "recertify_months": 36, "de_escalation": true}),
        )
        .await,
    )
    .await;
    let rule = created_id(
        app.post_as(
            "/v1/rules",
            &admin,
            &json!({"code": format!("rule_{n}"), "text": "Invented rule."}),
        )
        .await,
    )
    .await;
    let elsewhere = app.branch(&format!("G{n}")).await;
    let outsider = app.account(Role::Supervisor, &[elsewhere]).await;
    let grant = created_id(
        app.post_as(
            "/v1/break-glass",
            &outsider.token,
            &json!({"case_id": case, "reason": "An invented reason of enough length.", "hours": 1}),
        )
        .await,
    )
    .await;
    Fixture {
        grant,
        training,
        rule,
        incident,
        suspension,
        support_request,
        caller,
        branch,
        other,
        caller_second_session: second["session_id"].as_str().unwrap().parse().unwrap(),
        n,
        patron,
        case,
        case_etag: format!("\"{version}\""),
        extra_member: extra.id,
        other_worker: other_worker.id,
        note,
        consent,
        follow_up,
        contact,
        service,
        referral,
        report,
    }
}

/// Calls `case` as the fixture's caller would, at `path`.
pub(crate) async fn call(
    app: &TestApp,
    case: &Case,
    f: &Fixture,
    token: Option<&str>,
    path: &str,
) -> reqwest::Response {
    call_with(app, case, f, token, path, (case.body)(f)).await
}

/// `call` with another body.
pub(crate) async fn call_with(
    app: &TestApp,
    case: &Case,
    f: &Fixture,
    token: Option<&str>,
    path: &str,
    body: Option<Value>,
) -> reqwest::Response {
    let mut req = app.client.request(case.method.clone(), app.url(path));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    if let Some(etag) = (case.if_match)(f) {
        req = req.header("If-Match", etag);
    }
    if let Some(b) = body {
        req = req.json(&b);
    } else if case.method == Method::POST {
        req = req.json(&json!({}));
    }
    req.send().await.unwrap()
}

async fn send(app: &TestApp, case: &Case, f: &Fixture, token: Option<&str>) -> u16 {
    let resp = call(app, case, f, token, &(case.path)(f)).await;
    let status = resp.status().as_u16();
    if status >= 400 {
        let ct = resp
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned();
        assert!(
            ct.starts_with("application/problem+json"),
            "{} {}: {status} with {ct}",
            case.method,
            case.template
        );
    }
    status
}

fn forge(claims: &Value, key: &[u8]) -> String {
    jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        claims,
        &EncodingKey::from_secret(key).unwrap(),
    )
    .unwrap()
}

#[tokio::test]
async fn every_endpoint_answers_every_role_as_the_matrix_says() {
    let app = spawn_app().await;
    let mut n = 0;
    let mut failures = Vec::new();
    // Reads, and calls the role must be refused (which change nothing),
    // share one fixture per role; anything that may change state gets a
    // fresh one.
    let mut shared = Vec::new();
    for role in Role::ALL {
        n += 1;
        shared.push((role, fixture(&app, role, n).await));
    }
    for case in cases() {
        for role in Role::ALL {
            n += 1;
            let fresh;
            let refused = matches!((case.expect)(role), 403 | 404);
            let f = if (case.method == Method::GET || refused) && !case.public {
                &shared.iter().find(|(r, _)| *r == role).unwrap().1
            } else {
                fresh = fixture(&app, role, n).await;
                &fresh
            };
            let token = (!case.public).then_some(f.caller.token.as_str());
            let got = send(&app, &case, f, token).await;
            let want = (case.expect)(role);
            if got != want {
                failures.push(format!(
                    "{} {} as {}: got {got}, want {want}",
                    case.method,
                    case.template,
                    role.as_str()
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[tokio::test]
async fn every_protected_endpoint_refuses_bad_credentials() {
    let app = spawn_app().await;
    let mut n = 1000;
    let mut failures = Vec::new();
    for case in cases().into_iter().filter(|c| !c.public) {
        n += 1;
        let f = fixture(&app, Role::Admin, n).await;
        let now = chrono::Utc::now().timestamp();
        let claims = json!({"iss": "casework", "aud": "casework-api", "sub": f.caller.id, "sid": f.caller.session_id, "iat": now - 3600, "exp": now - 1800});
        let expired = forge(&claims, TEST_SIGNING_KEY.as_bytes());
        let mut fresh = claims.clone();
        fresh["iat"] = json!(now);
        fresh["exp"] = json!(now + 600);
        let other_key = forge(&fresh, b"a-completely-different-signing-key-0123456789");
        let mut attempts = vec![
            ("no token", None),
            ("expired", Some(expired)),
            ("other key", Some(other_key)),
        ];
        // A revoked session: sign in on another device, revoke it, use its token.
        let revoked: Value = app
            .login(&f.caller.username, &f.caller.password, "revoked")
            .await
            .json()
            .await
            .unwrap();
        let rid = revoked["session_id"].as_str().unwrap();
        assert_eq!(
            app.delete_as(&format!("/v1/me/sessions/{rid}"), &f.caller.token)
                .await
                .status(),
            204
        );
        attempts.push((
            "revoked session",
            revoked["access_token"].as_str().map(str::to_owned),
        ));
        for (what, token) in attempts {
            let got = send(&app, &case, &f, token.as_deref()).await;
            if got != 401 {
                failures.push(format!(
                    "{} {} with {what}: got {got}",
                    case.method, case.template
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[tokio::test]
async fn the_table_covers_every_operation_in_the_spec() {
    let spec: Value = serde_json::from_str(&casework::app::openapi_service().spec()).unwrap();
    let mut in_spec = BTreeSet::new();
    for (path, item) in spec["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            in_spec.insert(format!("{} {path}", method.to_uppercase()));
        }
    }
    let in_table: BTreeSet<String> = cases()
        .iter()
        .map(|c| format!("{} {}", c.method, c.template))
        .collect();
    let missing: Vec<_> = in_spec.difference(&in_table).collect();
    assert!(
        missing.is_empty(),
        "operations without a row in the role table: {missing:?}"
    );
}
