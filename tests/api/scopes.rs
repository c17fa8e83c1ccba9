//! Scopes through the API: callers who are not on a case team, and callers
//! of another branch. Reads answer as DESIGN.md section 3 says, lists hold
//! exactly what reads allow ("a list never shows what a read would refuse"),
//! and leaving a team takes the case out of both.

use std::collections::BTreeSet;

use casework::domain::Role;
use chrono::{Duration, Utc};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::{Account, TestApp, present, spawn_app};

/// Asserts the status (showing the body when it differs) and returns the JSON.
async fn expect_json(resp: reqwest::Response, status: u16, what: &str) -> Value {
    let got = resp.status().as_u16();
    let text = resp.text().await.unwrap();
    assert_eq!(got, status, "{what}: {text}");
    serde_json::from_str(&text).unwrap_or(Value::Null)
}

fn id_of(v: &Value) -> String {
    v["id"].as_str().expect("an id").to_owned()
}

async fn status_of(app: &TestApp, path: &str, token: &str) -> u16 {
    app.get_as(path, token).await.status().as_u16()
}

/// A request with `If-Match` (and a JSON body when given).
async fn with_if_match(
    app: &TestApp,
    method: reqwest::Method,
    path: &str,
    token: &str,
    etag: &str,
    body: Option<&Value>,
) -> reqwest::Response {
    let mut req = app
        .client
        .request(method, app.url(path))
        .bearer_auth(token)
        .header("If-Match", etag);
    if let Some(b) = body {
        req = req.json(b);
    }
    req.send().await.expect("request")
}

/// The current ETag of a case, read by `token`.
async fn case_etag(app: &TestApp, case: &str, token: &str) -> String {
    let resp = app.get_as(&format!("/v1/cases/{case}"), token).await;
    assert_eq!(resp.status(), 200, "read the case for its ETag");
    resp.headers()
        .get("etag")
        .expect("ETag header")
        .to_str()
        .unwrap()
        .to_owned()
}

async fn new_patron(app: &TestApp, who: &Account, branch: Uuid, name: &str) -> String {
    let v = expect_json(
        app.post_as(
            "/v1/patrons",
            &who.token,
            &json!({"preferred_name": name, "home_branch_id": branch}),
        )
        .await,
        201,
        "create patron",
    )
    .await;
    id_of(&v["patron"])
}

async fn new_contact(app: &TestApp, who: &Account, branch: Uuid, patron: Option<&str>) -> String {
    let v = expect_json(
        app.post_as(
            "/v1/contacts",
            &who.token,
            &present(
                json!({"branch_id": branch, "patron_id": patron, "kind": "outreach",
                    "needs": ["food"], "note": "Met by the reading room."}),
            ),
        )
        .await,
        201,
        "log contact",
    )
    .await;
    id_of(&v)
}

async fn new_case(app: &TestApp, who: &Account, patron: &str) -> String {
    let v = expect_json(
        app.post_as(
            "/v1/cases",
            &who.token,
            &json!({"patron_id": patron, "summary": "Invented case for a scope test."}),
        )
        .await,
        201,
        "open case",
    )
    .await;
    id_of(&v)
}

/// A follow-up on a case (`case`) or a contact (`contact`), due in `days`.
async fn new_follow_up(
    app: &TestApp,
    who: &Account,
    case: Option<&str>,
    contact: Option<&str>,
    days: i64,
) -> String {
    let due = (Utc::now().date_naive() + Duration::days(days)).to_string();
    let v = expect_json(
        app.post_as(
            "/v1/follow-ups",
            &who.token,
            &present(
                json!({"case_id": case, "contact_id": contact, "due_on": due, "note": "Check in"}),
            ),
        )
        .await,
        201,
        "set follow-up",
    )
    .await;
    id_of(&v)
}

/// Every item of a list, following `next_cursor` to the end.
async fn all_items(app: &TestApp, path: &str, token: &str) -> Vec<Value> {
    let sep = if path.contains('?') { '&' } else { '?' };
    let mut items = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let url = match &cursor {
            Some(c) => format!("{path}{sep}limit=200&cursor={c}"),
            None => format!("{path}{sep}limit=200"),
        };
        let page = expect_json(app.get_as(&url, token).await, 200, &url).await;
        items.extend(page["items"].as_array().expect("items").iter().cloned());
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => break,
        }
    }
    items
}

/// Ids of the patrons a search (or the full patron list) shows.
async fn patron_ids(app: &TestApp, path: &str, token: &str) -> BTreeSet<String> {
    all_items(app, path, token)
        .await
        .iter()
        .map(id_of)
        .collect()
}

/// Ids of the cases in the caller's caseload.
async fn caseload_ids(app: &TestApp, token: &str) -> BTreeSet<String> {
    all_items(app, "/v1/me/caseload", token)
        .await
        .iter()
        .map(|i| id_of(&i["case"]))
        .collect()
}

/// A peer's view of a case is a summary: the close/reopen reason is not in
/// it, not even as a `null` (the spec declares the field a plain string).
fn summary_check(failures: &mut Vec<String>, what: &str, case: &Value) {
    match case.get("status_reason") {
        None => {}
        Some(Value::String(r)) => {
            failures.push(format!("{what}: the summary leaks status_reason {r:?}"))
        }
        Some(other) => failures.push(format!(
            "{what}: the summary has a status_reason key (value {other}); want no key"
        )),
    }
}

struct Caller {
    name: &'static str,
    account: Account,
}

/// For every record that a list shows a caller, the same caller's read of it:
/// anything but 200 is a failure ("a list never shows what a read would
/// refuse"). Returns the failures and how many reads were made.
async fn lists_agree_with_reads(
    app: &TestApp,
    callers: &[Caller],
    query: &str,
) -> (Vec<String>, usize) {
    let mut failures = Vec::new();
    let mut checked = 0;
    for c in callers {
        let token = c.account.token.as_str();
        let mut reads: Vec<(String, String)> = Vec::new();
        for list in [format!("/v1/patrons?q={query}"), "/v1/patrons".to_owned()] {
            for item in all_items(app, &list, token).await {
                reads.push((list.clone(), format!("/v1/patrons/{}", id_of(&item))));
            }
        }
        for item in all_items(app, "/v1/me/caseload", token).await {
            reads.push((
                "/v1/me/caseload".into(),
                format!("/v1/cases/{}", id_of(&item["case"])),
            ));
        }
        for item in all_items(app, "/v1/me/contacts", token).await {
            reads.push((
                "/v1/me/contacts".into(),
                format!("/v1/contacts/{}", id_of(&item)),
            ));
        }
        for item in all_items(app, "/v1/me/follow-ups", token).await {
            reads.push((
                "/v1/me/follow-ups".into(),
                format!("/v1/follow-ups/{}", id_of(&item)),
            ));
        }
        for (list, read) in reads {
            checked += 1;
            let got = status_of(app, &read, token).await;
            if got != 200 {
                failures.push(format!(
                    "{} ({}): {list} lists it, but GET {read} answers {got}",
                    c.name,
                    c.account.role.as_str()
                ));
            }
        }
    }
    (failures, checked)
}

#[tokio::test]
async fn off_team_and_other_branch_callers_neither_read_nor_list_the_case() {
    let app = spawn_app().await;
    let a = app.branch("SCA").await;
    let b = app.branch("SCB").await;

    // ---- Arrange. Branch A: the case team and three outsiders.
    let owner = app.account(Role::SocialWorker, &[a]).await;
    let peer_on = app.account(Role::Peer, &[a]).await;
    let sw_off = app.account(Role::SocialWorker, &[a]).await;
    let peer_off = app.account(Role::Peer, &[a]).await;
    let sup_a = app.account(Role::Supervisor, &[a]).await;
    // Branch B.
    let sw_b = app.account(Role::SocialWorker, &[b]).await;
    let sup_b = app.account(Role::Supervisor, &[b]).await;
    let peer_b = app.account(Role::Peer, &[b]).await;

    // The owner's patron and case; the peer joins the team.
    let p1 = new_patron(&app, &owner, a, "Avery Testperson").await;
    let case = new_case(&app, &owner, &p1).await;
    let etag = case_etag(&app, &case, &owner.token).await;
    let joined = expect_json(
        with_if_match(
            &app,
            reqwest::Method::POST,
            &format!("/v1/cases/{case}/team"),
            &owner.token,
            &etag,
            Some(&json!({"staff_id": peer_on.id})),
        )
        .await,
        200,
        "add peer_on to the team",
    )
    .await;
    assert_eq!(joined["team"], json!([peer_on.id]));
    let owner_contact = new_contact(&app, &owner, a, Some(&p1)).await;
    let owner_follow_up = new_follow_up(&app, &owner, Some(&case), None, 3).await;

    // Records of everyone else, where the role allows. Every patron's name
    // starts with "Avery", so one search reaches all of them.
    let peer_on_contact = new_contact(&app, &peer_on, a, Some(&p1)).await;
    let peer_on_follow_up = new_follow_up(&app, &peer_on, Some(&case), None, 2).await;

    let p_sw_off = new_patron(&app, &sw_off, a, "Avery Samebranch").await;
    let sw_off_case = new_case(&app, &sw_off, &p_sw_off).await;
    let sw_off_contact = new_contact(&app, &sw_off, a, Some(&p_sw_off)).await;
    let sw_off_follow_up = new_follow_up(&app, &sw_off, Some(&sw_off_case), None, -1).await;

    let peer_off_contact = new_contact(&app, &peer_off, a, None).await;
    let p_peer_off = new_patron(&app, &peer_off, a, "Avery Walkin").await;
    let peer_off_follow_up = new_follow_up(&app, &peer_off, None, Some(&peer_off_contact), 1).await;

    let sup_a_follow_up = new_follow_up(&app, &sup_a, Some(&case), None, 5).await;

    let p_b = new_patron(&app, &sw_b, b, "Avery Otherbranch").await;
    let case_b = new_case(&app, &sw_b, &p_b).await;
    let sw_b_contact = new_contact(&app, &sw_b, b, Some(&p_b)).await;
    let sw_b_follow_up = new_follow_up(&app, &sw_b, Some(&case_b), None, 4).await;

    let sup_b_follow_up = new_follow_up(&app, &sup_b, Some(&case_b), None, 6).await;

    let peer_b_contact = new_contact(&app, &peer_b, b, None).await;
    let p_peer_b = new_patron(&app, &peer_b, b, "Avery Eastside").await;
    let peer_b_follow_up = new_follow_up(&app, &peer_b, None, Some(&peer_b_contact), 2).await;

    // Outsiders may not hang records on what they cannot see.
    for (who, acct, branch) in [("sw_b", &sw_b, b), ("peer_off", &peer_off, a)] {
        let resp = app
            .post_as(
                "/v1/contacts",
                &acct.token,
                &json!({"branch_id": branch, "patron_id": p1, "kind": "drop_in"}),
            )
            .await;
        assert_eq!(resp.status(), 422, "{who} logs a contact for P1");
        let due = Utc::now().date_naive().to_string();
        let resp = app
            .post_as(
                "/v1/follow-ups",
                &acct.token,
                &json!({"case_id": case, "due_on": due}),
            )
            .await;
        assert_eq!(resp.status(), 422, "{who} sets a follow-up on the case");
    }

    // Mismatches are collected so that one run reports all of them.
    let mut failures = Vec::new();

    // ---- A peer on the team reads a summary: no close/reopen reason.
    let etag = case_etag(&app, &case, &owner.token).await;
    let closed = expect_json(
        with_if_match(
            &app,
            reqwest::Method::POST,
            &format!("/v1/cases/{case}/close"),
            &owner.token,
            &etag,
            Some(&json!({"reason": "Invented reason: moved in with family"})),
        )
        .await,
        200,
        "owner closes",
    )
    .await;
    assert_eq!(closed["status"], "closed");
    let peer_view = expect_json(
        app.get_as(&format!("/v1/cases/{case}"), &peer_on.token)
            .await,
        200,
        "peer_on reads the closed case",
    )
    .await;
    assert_eq!(peer_view["status"], "closed");
    summary_check(
        &mut failures,
        "peer_on: GET /v1/cases/{case} (closed)",
        &peer_view,
    );
    let etag = case_etag(&app, &case, &owner.token).await;
    let reopened = expect_json(
        with_if_match(
            &app,
            reqwest::Method::POST,
            &format!("/v1/cases/{case}/reopen"),
            &owner.token,
            &etag,
            Some(&json!({"reason": "Invented reason: back at the branch"})),
        )
        .await,
        200,
        "owner reopens",
    )
    .await;
    assert_eq!(reopened["status"], "open");
    assert_eq!(
        reopened["status_reason"],
        "Invented reason: back at the branch"
    );
    for (who, acct, shown) in [("owner", &owner, true), ("sup_a", &sup_a, true)] {
        let v = expect_json(
            app.get_as(&format!("/v1/cases/{case}"), &acct.token).await,
            200,
            who,
        )
        .await;
        assert_eq!(
            v["status_reason"].is_string(),
            shown,
            "{who} sees the reason: {v}"
        );
    }
    let peer_view = expect_json(
        app.get_as(&format!("/v1/cases/{case}"), &peer_on.token)
            .await,
        200,
        "peer_on reads the reopened case",
    )
    .await;
    summary_check(
        &mut failures,
        "peer_on: GET /v1/cases/{case} (reopened)",
        &peer_view,
    );

    let callers = vec![
        Caller {
            name: "owner",
            account: owner.clone(),
        },
        Caller {
            name: "peer_on",
            account: peer_on.clone(),
        },
        Caller {
            name: "sw_off",
            account: sw_off.clone(),
        },
        Caller {
            name: "peer_off",
            account: peer_off.clone(),
        },
        Caller {
            name: "sup_a",
            account: sup_a.clone(),
        },
        Caller {
            name: "sw_b",
            account: sw_b.clone(),
        },
        Caller {
            name: "sup_b",
            account: sup_b.clone(),
        },
        Caller {
            name: "peer_b",
            account: peer_b.clone(),
        },
    ];

    // ---- Reads and lists, caller by caller.
    let check = |failures: &mut Vec<String>, who: &str, what: &str, got: String, want: String| {
        if got != want {
            failures.push(format!("{who}: {what}: got {got}, want {want}"));
        }
    };
    let set = |ids: &[&String]| -> BTreeSet<String> { ids.iter().map(|s| (*s).clone()).collect() };
    let branch_a_patrons = set(&[&p1, &p_sw_off, &p_peer_off]);
    let branch_b_patrons = set(&[&p_b, &p_peer_b]);
    for c in &callers {
        let t = c.account.token.as_str();
        let team = matches!(c.name, "owner" | "peer_on");
        let reads_p1 = matches!(c.name, "owner" | "peer_on" | "sw_off" | "sup_a");
        let reads_case = matches!(c.name, "owner" | "peer_on" | "sup_a");

        let p = status_of(&app, &format!("/v1/patrons/{p1}"), t).await;
        let k = status_of(&app, &format!("/v1/cases/{case}"), t).await;
        println!("{:>8}: GET patron P1 {p}, GET case {k}", c.name);
        check(
            &mut failures,
            c.name,
            "GET /v1/patrons/{P1}",
            p.to_string(),
            (if reads_p1 { 200 } else { 404 }).to_string(),
        );
        check(
            &mut failures,
            c.name,
            "GET /v1/cases/{case}",
            k.to_string(),
            (if reads_case { 200 } else { 404 }).to_string(),
        );

        // The search shows P1 exactly to those who can read it.
        let found = patron_ids(&app, "/v1/patrons?q=aver", t).await;
        check(
            &mut failures,
            c.name,
            "P1 in GET /v1/patrons?q=aver",
            found.contains(&p1).to_string(),
            reads_p1.to_string(),
        );
        // And, whole, what the matrix gives each role.
        let want: BTreeSet<String> = match c.name {
            "owner" | "sw_off" | "sup_a" => branch_a_patrons.clone(),
            "peer_on" => set(&[&p1]),
            "peer_off" => set(&[&p_peer_off]),
            "sw_b" | "sup_b" => branch_b_patrons.clone(),
            "peer_b" => set(&[&p_peer_b]),
            _ => unreachable!(),
        };
        check(
            &mut failures,
            c.name,
            "ids of GET /v1/patrons?q=aver",
            format!("{found:?}"),
            format!("{want:?}"),
        );
        let all = patron_ids(&app, "/v1/patrons", t).await;
        check(
            &mut failures,
            c.name,
            "ids of GET /v1/patrons",
            format!("{all:?}"),
            format!("{want:?}"),
        );

        // The caseload: the case for its team only.
        let load = caseload_ids(&app, t).await;
        check(
            &mut failures,
            c.name,
            "case in GET /v1/me/caseload",
            load.contains(&case).to_string(),
            team.to_string(),
        );
        let want_load: BTreeSet<String> = match c.name {
            "owner" | "peer_on" => set(&[&case]),
            "sw_off" => set(&[&sw_off_case]),
            "sw_b" => set(&[&case_b]),
            _ => BTreeSet::new(),
        };
        check(
            &mut failures,
            c.name,
            "ids of GET /v1/me/caseload",
            format!("{load:?}"),
            format!("{want_load:?}"),
        );

        // My contacts and follow-ups: exactly my own.
        let contacts: BTreeSet<String> = all_items(&app, "/v1/me/contacts", t)
            .await
            .iter()
            .map(id_of)
            .collect();
        let want_contacts: BTreeSet<String> = match c.name {
            "owner" => set(&[&owner_contact]),
            "peer_on" => set(&[&peer_on_contact]),
            "sw_off" => set(&[&sw_off_contact]),
            "peer_off" => set(&[&peer_off_contact]),
            "sw_b" => set(&[&sw_b_contact]),
            "peer_b" => set(&[&peer_b_contact]),
            _ => BTreeSet::new(),
        };
        check(
            &mut failures,
            c.name,
            "ids of GET /v1/me/contacts",
            format!("{contacts:?}"),
            format!("{want_contacts:?}"),
        );
        let follow_ups: BTreeSet<String> = all_items(&app, "/v1/me/follow-ups", t)
            .await
            .iter()
            .map(id_of)
            .collect();
        let want_follow_ups: BTreeSet<String> = match c.name {
            "owner" => set(&[&owner_follow_up]),
            "peer_on" => set(&[&peer_on_follow_up]),
            "sw_off" => set(&[&sw_off_follow_up]),
            "peer_off" => set(&[&peer_off_follow_up]),
            "sup_a" => set(&[&sup_a_follow_up]),
            "sw_b" => set(&[&sw_b_follow_up]),
            "sup_b" => set(&[&sup_b_follow_up]),
            "peer_b" => set(&[&peer_b_follow_up]),
            _ => unreachable!(),
        };
        check(
            &mut failures,
            c.name,
            "ids of GET /v1/me/follow-ups",
            format!("{follow_ups:?}"),
            format!("{want_follow_ups:?}"),
        );
    }

    // A peer's caseload entry is the summary too.
    let peer_load = all_items(&app, "/v1/me/caseload", &peer_on.token).await;
    for item in &peer_load {
        summary_check(&mut failures, "peer_on: GET /v1/me/caseload", &item["case"]);
    }

    // A list never shows what a read would refuse.
    let (agree, checked) = lists_agree_with_reads(&app, &callers, "aver").await;
    println!("lists vs reads, with the team: {checked} reads checked");
    failures.extend(agree);

    // ---- The owner takes peer_on off the team.
    let etag = case_etag(&app, &case, &owner.token).await;
    let left = expect_json(
        with_if_match(
            &app,
            reqwest::Method::DELETE,
            &format!("/v1/cases/{case}/team/{}", peer_on.id),
            &owner.token,
            &etag,
            None,
        )
        .await,
        200,
        "remove peer_on from the team",
    )
    .await;
    assert_eq!(left["team"], json!([]), "{left}");

    let got = status_of(&app, &format!("/v1/cases/{case}"), &peer_on.token).await;
    check(
        &mut failures,
        "peer_on (off the team)",
        "GET /v1/cases/{case}",
        got.to_string(),
        "404".into(),
    );
    let load = caseload_ids(&app, &peer_on.token).await;
    check(
        &mut failures,
        "peer_on (off the team)",
        "case in GET /v1/me/caseload",
        load.contains(&case).to_string(),
        "false".into(),
    );
    // The patron was theirs only through the team.
    let got = status_of(&app, &format!("/v1/patrons/{p1}"), &peer_on.token).await;
    check(
        &mut failures,
        "peer_on (off the team)",
        "GET /v1/patrons/{P1}",
        got.to_string(),
        "404".into(),
    );
    let found = patron_ids(&app, "/v1/patrons?q=aver", &peer_on.token).await;
    check(
        &mut failures,
        "peer_on (off the team)",
        "P1 in GET /v1/patrons?q=aver",
        found.contains(&p1).to_string(),
        "false".into(),
    );
    // What they made stays theirs.
    for path in [
        format!("/v1/contacts/{peer_on_contact}"),
        format!("/v1/follow-ups/{peer_on_follow_up}"),
    ] {
        let got = status_of(&app, &path, &peer_on.token).await;
        check(
            &mut failures,
            "peer_on (off the team)",
            &format!("GET {path}"),
            got.to_string(),
            "200".into(),
        );
    }
    // Everyone else is unchanged, and lists still agree with reads.
    for c in callers.iter().filter(|c| c.name != "peer_on") {
        let t = c.account.token.as_str();
        let reads_case = matches!(c.name, "owner" | "sup_a");
        let got = status_of(&app, &format!("/v1/cases/{case}"), t).await;
        check(
            &mut failures,
            c.name,
            "GET /v1/cases/{case} after peer_on left",
            got.to_string(),
            (if reads_case { 200 } else { 404 }).to_string(),
        );
    }
    let (agree, checked) = lists_agree_with_reads(&app, &callers, "aver").await;
    println!("lists vs reads, after peer_on left: {checked} reads checked");
    failures.extend(agree);
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}
