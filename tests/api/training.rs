//! Training and certification, how incidents were resolved, and the
//! statistics for program review, through the API.

use casework::domain::Role;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::{TestApp, assert_problem, spawn_app};

async fn created(resp: reqwest::Response) -> Value {
    let status = resp.status();
    let body: Value = resp.json().await.unwrap();
    assert_eq!(status, 201, "{body}");
    body
}

async fn training(app: &TestApp, name: &str, months: Option<i32>, de_escalation: bool) -> Uuid {
    let admin = app.admin().await.token.clone();
    let mut body = json!({"name": name, "provider": "Invented", "de_escalation": de_escalation});
    if let Some(m) = months {
        body["recertify_months"] = json!(m);
    }
    created(app.post_as("/v1/trainings", &admin, &body).await).await["id"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap()
}

async fn complete(
    app: &TestApp,
    token: &str,
    staff: Uuid,
    training: Uuid,
    on: chrono::NaiveDate,
    trainer: bool,
) -> Value {
    created(
        app.post_as(
            &format!("/v1/staff/{staff}/certifications"),
            token,
            &json!({"training_id": training, "completed_on": on.to_string(), "trainer": trainer}),
        )
        .await,
    )
    .await
}

fn today() -> chrono::NaiveDate {
    chrono::Utc::now().date_naive()
}

fn months_ago(m: u32) -> chrono::NaiveDate {
    today().checked_sub_months(chrono::Months::new(m)).unwrap()
}

#[tokio::test]
async fn expiry_comes_from_the_period_and_a_new_completion_renews_it() {
    let app = spawn_app().await;
    let main = app.branch("MAIN").await;
    let east = app.branch("EAST").await;
    let supervisor = app.account(Role::Supervisor, &[main]).await;
    let east_supervisor = app.account(Role::Supervisor, &[east]).await;
    let staff = app.account(Role::Staff, &[main]).await;
    let nvci = training(&app, "NVCI", Some(36), true).await;
    let tic = training(&app, "TIC", None, false).await;

    // Completed 36 months less 20 days ago: expires in 20 days.
    let done = months_ago(36) + chrono::Duration::days(20);
    let c = complete(&app, &supervisor.token, staff.id, nvci, done, false).await;
    assert_eq!(
        c["expires_on"],
        done.checked_add_months(chrono::Months::new(36))
            .unwrap()
            .to_string()
    );
    assert_eq!(c["current"], true);
    let t = complete(&app, &supervisor.token, staff.id, tic, months_ago(1), false).await;
    assert!(t.get("expires_on").is_none(), "no period, no expiry");

    let expiring = |days: u32| {
        let path = format!("/v1/branches/{main}/certifications/expiring?days={days}");
        let token = supervisor.token.clone();
        let app = &app;
        async move {
            let resp = app.get_as(&path, &token).await;
            assert_eq!(resp.status(), 200);
            resp.json::<Value>().await.unwrap()
        }
    };
    let soon = expiring(90).await;
    assert_eq!(soon["items"].as_array().unwrap().len(), 1);
    assert_eq!(soon["items"][0]["staff_id"], staff.id.to_string());
    assert_eq!(soon["items"][0]["training_name"], "NVCI");
    assert_eq!(expiring(10).await["items"], json!([]), "not within 10 days");

    // A supervisor of another branch neither records nor reads them.
    let resp = app
        .post_as(
            &format!("/v1/staff/{}/certifications", staff.id),
            &east_supervisor.token,
            &json!({"training_id": nvci, "completed_on": today().to_string()}),
        )
        .await;
    assert_problem(resp, 403, "forbidden").await;
    assert_problem(
        app.get_as(
            &format!("/v1/branches/{main}/certifications/expiring"),
            &east_supervisor.token,
        )
        .await,
        403,
        "forbidden",
    )
    .await;

    // Renewed today: nothing expires soon, the old completion is not current.
    complete(&app, &supervisor.token, staff.id, nvci, today(), false).await;
    assert_eq!(expiring(90).await["items"], json!([]));
    let own: Value = app
        .get_as(
            &format!("/v1/staff/{}/certifications", staff.id),
            &staff.token,
        )
        .await
        .json()
        .await
        .unwrap();
    let currents: Vec<(&str, bool)> = own["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["training_name"].as_str().unwrap(),
                c["current"].as_bool().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        currents,
        vec![("NVCI", true), ("TIC", true), ("NVCI", false)],
        "newest first"
    );
    // A future completion is refused, naming the field.
    let resp = app
        .post_as(
            &format!("/v1/staff/{}/certifications", staff.id),
            &supervisor.token,
            &json!({"training_id": nvci,
                    "completed_on": (today() + chrono::Duration::days(3)).to_string()}),
        )
        .await;
    let body = assert_problem(resp, 422, "validation").await;
    assert_eq!(body["errors"][0]["field"], "completed_on");
}

#[tokio::test]
async fn coverage_and_trainers_on_a_known_roster() {
    let app = spawn_app().await;
    let main = app.branch("MAIN").await;
    let supervisor = app.account(Role::Supervisor, &[main]).await;
    let admin = app.admin().await.token.clone();
    // Four front-line people; the supervisor does not count.
    let staff = app.account(Role::Staff, &[main]).await;
    let security = app.account(Role::Security, &[main]).await;
    let peer = app.account(Role::Peer, &[main]).await;
    let worker = app.account(Role::SocialWorker, &[main]).await;
    let nvci = training(&app, "NVCI", Some(36), true).await;
    let mhfa = training(&app, "MHFA", Some(36), true).await;
    let tic = training(&app, "TIC", None, false).await;
    complete(&app, &admin, staff.id, nvci, months_ago(3), false).await;
    complete(&app, &admin, worker.id, nvci, months_ago(12), true).await;
    // Expired: does not count.
    complete(&app, &admin, security.id, nvci, months_ago(40), true).await;
    complete(&app, &admin, peer.id, mhfa, months_ago(1), false).await;
    complete(&app, &admin, supervisor.id, mhfa, months_ago(1), true).await;

    let cov: Value = app
        .get_as(
            &format!("/v1/branches/{main}/certifications/coverage"),
            &supervisor.token,
        )
        .await
        .json()
        .await
        .unwrap();
    let rows: Vec<(String, u64, u64, f64)> = cov["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["training_name"].as_str().unwrap().to_owned(),
                r["certified"].as_u64().unwrap(),
                r["front_line_staff"].as_u64().unwrap(),
                r["share"].as_f64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        rows,
        vec![
            ("MHFA".into(), 1, 4, 0.25),
            ("NVCI".into(), 2, 4, 0.5),
            ("TIC".into(), 0, 4, 0.0),
        ]
    );
    let _ = tic;
    let trainers: Value = app
        .get_as(&format!("/v1/branches/{main}/trainers"), &supervisor.token)
        .await
        .json()
        .await
        .unwrap();
    let who: Vec<(&str, &str)> = trainers["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            (
                t["training_name"].as_str().unwrap(),
                t["staff_id"].as_str().unwrap(),
            )
        })
        .collect();
    let (w, s) = (worker.id.to_string(), supervisor.id.to_string());
    assert_eq!(
        who,
        vec![("MHFA", s.as_str()), ("NVCI", w.as_str())],
        "current trainers only; the expired one is not"
    );
}

#[tokio::test]
async fn responders_keep_their_role_and_certification_and_a_peer_never_enforces() {
    let app = spawn_app().await;
    let main = app.branch("MAIN").await;
    let east = app.branch("EAST").await;
    let admin = app.admin().await.token.clone();
    let security = app.account(Role::Security, &[main]).await;
    let staff = app.account(Role::Staff, &[main]).await;
    let peer = app.account(Role::Peer, &[main]).await;
    let supervisor = app.account(Role::Supervisor, &[main]).await;
    let nvci = training(&app, "NVCI", Some(36), true).await;
    complete(&app, &admin, staff.id, nvci, months_ago(2), false).await;
    let rule = created(
        app.post_as(
            "/v1/rules",
            &admin,
            &json!({"code": "no_sleeping", "text": "No sleeping in the library."}),
        )
        .await,
    )
    .await;
    let east_rule = created(
        app.post_as(
            "/v1/rules",
            &admin,
            &json!({"code": "east_quiet", "text": "Quiet floor.", "branch_id": east}),
        )
        .await,
    )
    .await;
    let base = json!({"branch_id": main, "occurred_at": chrono::Utc::now().to_rfc3339(),
                      "category": "rule_violation", "description": "Asleep in a chair (invented).",
                      "action_taken": "warning", "resolution": "staff_de_escalation",
                      "rule_id": rule["id"]});
    let with = |extra: Value| {
        let mut b = base.clone();
        for (k, v) in extra.as_object().unwrap() {
            b[k] = v.clone();
        }
        b
    };

    // A peer as the one who enforced: refused, naming the field.
    let resp = app
        .post_as(
            "/v1/incidents",
            &security.token,
            &with(json!({"responders": [{"staff_id": peer.id, "part": "lead"}]})),
        )
        .await;
    let body = assert_problem(resp, 422, "validation").await;
    assert_eq!(body["errors"][0]["field"], "responders/0/part");

    let i = created(
        app.post_as(
            "/v1/incidents",
            &security.token,
            &with(json!({"responders": [
                {"staff_id": staff.id, "part": "lead"},
                {"staff_id": peer.id, "part": "support"},
                {"staff_id": supervisor.id, "part": "assisting"},
                {"outside": "Two paramedics (invented)", "part": "witness"}]})),
        )
        .await,
    )
    .await;
    let r = &i["responders"];
    assert_eq!(
        (r[0]["role"].as_str(), r[0]["certified"].as_bool()),
        (Some("staff"), Some(true))
    );
    assert_eq!(
        (r[1]["role"].as_str(), r[1]["certified"].as_bool()),
        (Some("peer"), Some(false))
    );
    assert_eq!(
        r[2]["role"], "social_worker",
        "supervisors respond as social work"
    );
    assert_eq!(
        (r[3]["role"].as_str(), r[3]["outside"].as_str()),
        (Some("outside"), Some("Two paramedics (invented)"))
    );
    assert_eq!(i["police_called"], false);
    assert_eq!(i["rule_id"], rule["id"]);

    // The police, and how long after de-escalation was tried.
    let p = created(
        app.post_as(
            "/v1/incidents",
            &security.token,
            &with(
                json!({"action_taken": "police_called", "resolution": "police",
                         "minutes_before_police": 20}),
            ),
        )
        .await,
    )
    .await;
    assert_eq!(
        (
            p["police_called"].as_bool(),
            p["minutes_before_police"].as_i64()
        ),
        (Some(true), Some(20))
    );
    let resp = app
        .post_as(
            "/v1/incidents",
            &security.token,
            &with(json!({"minutes_before_police": 5})),
        )
        .await;
    let body = assert_problem(resp, 422, "validation").await;
    assert_eq!(body["errors"][0]["field"], "minutes_before_police");
    // Another branch's rule, or a retired one, is not for this incident.
    let resp = app
        .post_as(
            "/v1/incidents",
            &security.token,
            &with(json!({"rule_id": east_rule["id"]})),
        )
        .await;
    let body = assert_problem(resp, 422, "validation").await;
    assert_eq!(body["errors"][0]["field"], "rule_id");
    let resp = app
        .patch_as(
            &format!("/v1/rules/{}", rule["id"].as_str().unwrap()),
            &admin,
            "\"1\"",
            &json!({"active": false}),
        )
        .await;
    assert_eq!(resp.status(), 200);
    let resp = app.post_as("/v1/incidents", &security.token, &base).await;
    assert_problem(resp, 422, "validation").await;
    // A branch's supervisors keep its own rules, not the library's.
    let mine = created(
        app.post_as(
            "/v1/rules",
            &supervisor.token,
            &json!({"code": "main_quiet", "text": "Quiet reading room.", "branch_id": main}),
        )
        .await,
    )
    .await;
    let resp = app
        .post_as(
            "/v1/rules",
            &supervisor.token,
            &json!({"code": "everywhere", "text": "Invented."}),
        )
        .await;
    assert_problem(resp, 403, "forbidden").await;
    let resp = app
        .post_as(
            "/v1/rules",
            &supervisor.token,
            &json!({"code": "east_rule", "text": "Invented.", "branch_id": east}),
        )
        .await;
    assert_problem(resp, 403, "forbidden").await;
    let resp = app
        .patch_as(
            &format!("/v1/rules/{}", mine["id"].as_str().unwrap()),
            &supervisor.token,
            "\"1\"",
            &json!({"active": false}),
        )
        .await;
    assert_eq!(resp.status(), 200);
    // The list of rules in force at the branch no longer shows them.
    let rules: Value = app
        .get_as(&format!("/v1/rules?branch_id={main}"), &peer.token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(rules["items"], json!([]));
    let all: Value = app
        .get_as("/v1/rules?include_inactive=true", &peer.token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(all["items"].as_array().unwrap().len(), 3);
}

/// The seeded set, and the table it must give, written out.
#[tokio::test]
async fn incident_statistics_suppress_small_cells_on_a_known_set() {
    let app = spawn_app().await;
    let main = app.branch("MAIN").await;
    let admin = app.admin().await.token.clone();
    let supervisor = app.account(Role::Supervisor, &[main]).await;
    let security = app.account(Role::Security, &[main]).await;
    let staff = app.account(Role::Staff, &[main]).await;
    let nvci = training(&app, "NVCI", Some(36), true).await;
    // Certified before the incidents (June 2026): a certification counts
    // only if it held on the incident's day.
    let before = chrono::NaiveDate::from_ymd_opt(2026, 1, 15).unwrap();
    complete(&app, &admin, staff.id, nvci, before, false).await;
    let mut rules = Vec::new();
    for code in ["no_sleeping", "respect"] {
        let r = created(
            app.post_as(
                "/v1/rules",
                &admin,
                &json!({"code": code, "text": "Invented."}),
            )
            .await,
        )
        .await;
        rules.push(r["id"].clone());
    }
    let incident = |at: &str, rule: &Value, action: &str, resolution: &str, responder: Uuid| {
        json!({"branch_id": main, "occurred_at": at, "category": "rule_violation",
               "description": "Invented.", "action_taken": action, "resolution": resolution,
               "rule_id": rule, "responders": [{"staff_id": responder, "part": "lead"}]})
    };
    let mut set = Vec::new();
    // no_sleeping: five warnings on 10 June and one on 11 June, resolved by
    // a certified staff member; five police calls on the afternoon of 10
    // June (so the five warnings before them escalated).
    for m in 0..5 {
        set.push(incident(
            &format!("2026-06-10T10:0{m}:00Z"),
            &rules[0],
            "warning",
            "staff_de_escalation",
            staff.id,
        ));
    }
    set.push(incident(
        "2026-06-11T10:00:00Z",
        &rules[0],
        "warning",
        "staff_de_escalation",
        staff.id,
    ));
    for m in 0..5 {
        set.push(incident(
            &format!("2026-06-10T15:0{m}:00Z"),
            &rules[0],
            "police_called",
            "police",
            security.id,
        ));
    }
    // respect: two people asked to leave by security.
    for d in ["2026-06-12T10:00:00Z", "2026-06-13T10:00:00Z"] {
        set.push(incident(
            d,
            &rules[1],
            "asked_to_leave",
            "security",
            security.id,
        ));
    }
    for body in &set {
        created(app.post_as("/v1/incidents", &security.token, body).await).await;
    }

    let table = |group_by: &str| {
        let path = format!("/v1/stats/incidents?group_by={group_by}&period=2026-06");
        let token = supervisor.token.clone();
        let app = &app;
        async move {
            let resp = app.get_as(&path, &token).await;
            assert_eq!(resp.status(), 200);
            resp.json::<Value>().await.unwrap()
        }
    };
    assert_eq!(
        table("rule").await,
        json!({"rows": [
            {"group": "no_sleeping", "incidents": "10", "without_enforcement": "5",
             "percent_without_enforcement": 50.0, "police_calls": "5", "police_per_1000": 500.0,
             "warnings": "5", "escalated": "5", "escalation_percent": 100.0},
            {"group": "respect", "incidents": "<5", "without_enforcement": "0",
             "police_calls": "0", "warnings": "0", "escalated": "0"}],
         "total": "15"}),
        "11, 6, 6 and 13 published rounded to 5; the shares from the published figures"
    );
    assert_eq!(
        table("certified_responder").await,
        json!({"rows": [
            {"group": "certified_present", "incidents": "5", "without_enforcement": "5",
             "percent_without_enforcement": 100.0, "police_calls": "0", "police_per_1000": 0.0,
             "warnings": "5", "escalated": "5", "escalation_percent": 100.0},
            {"group": "none_certified", "incidents": "5", "without_enforcement": "0",
             "percent_without_enforcement": 0.0, "police_calls": "5", "police_per_1000": 1000.0,
             "warnings": "0", "escalated": "0"}],
         "total": "15"})
    );
    let by_resolution = table("resolution").await;
    let groups: Vec<(&str, &str)> = by_resolution["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["group"].as_str().unwrap(),
                r["incidents"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        groups,
        vec![
            ("police", "5"),
            ("security", "<5"),
            ("staff_de_escalation", "5")
        ]
    );

    // As CSV.
    let resp = app
        .client
        .get(app.url("/v1/stats/incidents?group_by=branch"))
        .bearer_auth(&supervisor.token)
        .header("Accept", "text/csv")
        .send()
        .await
        .unwrap();
    assert!(
        resp.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/csv")
    );
    let csv = resp.text().await.unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(
        lines,
        vec![
            "group,incidents,without_enforcement,percent_without_enforcement,police_calls,police_per_1000,warnings,escalated,escalation_percent",
            &format!("{main},15,5,33.3,5,333.3,5,5,100"),
            "total,15,,,,,,,",
        ]
    );
    // Everyone but supervisors and admins is refused.
    for role in [
        Role::Peer,
        Role::SocialWorker,
        Role::Staff,
        Role::Security,
        Role::Auditor,
    ] {
        let who = app.account(role, &[main]).await;
        assert_problem(
            app.get_as("/v1/stats/incidents?group_by=rule", &who.token)
                .await,
            403,
            "forbidden",
        )
        .await;
    }
}

#[tokio::test]
async fn a_csv_roster_loads_what_it_can_and_names_the_rest_by_line() {
    use crate::helpers::TEST_SIGNING_KEY;
    let app = spawn_app().await;
    let main = app.branch("MAIN").await;
    let admin = app.admin().await.token.clone();
    let nvci = training(&app, "NVCI", Some(36), true).await;
    training(&app, "TIC", None, false).await;
    let mut ids = Vec::new();
    for (username, role) in [
        ("roster.staff", "staff"),
        ("roster.worker", "social_worker"),
    ] {
        let made = created(
            app.post_as(
                "/v1/staff",
                &admin,
                &json!({"username": username, "display_name": "Invented", "role": role,
                        "branches": [main], "password": "an invented password"}),
            )
            .await,
        )
        .await;
        ids.push(made["id"].as_str().unwrap().to_owned());
    }
    let path = format!(
        "{}/tests/fixtures/roster/roster.csv",
        env!("CARGO_MANIFEST_DIR")
    );
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_casework"))
        .env_clear()
        .env("CASEWORK_DATABASE_URL", &app.settings.database_url)
        .env("CASEWORK_DATA_DIR", &app.settings.data_dir)
        .env("CASEWORK_SIGNING_KEY", TEST_SIGNING_KEY)
        .env("RUST_LOG", "warn")
        .args(["certifications", "import", &path])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(!out.status.success(), "some rows failed: the exit says so");
    assert!(
        stdout.contains("recorded 3 completions; 4 rows not loaded"),
        "{stdout}"
    );
    for line in [
        "line 5: username: no such account",
        "line 6: training: no such training in the catalogue",
        "line 7: completed_on: must be a date, YYYY-MM-DD",
        "line 8: trainer: must be true or false",
    ] {
        assert!(stderr.contains(line), "{line} in {stderr}");
    }
    assert!(!stderr.contains("nobody.here"), "no values in the report");
    let worker: Value = app
        .get_as(&format!("/v1/staff/{}/certifications", ids[1]), &admin)
        .await
        .json()
        .await
        .unwrap();
    let first = worker["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["training_id"] == nvci.to_string())
        .unwrap()
        .clone();
    assert_eq!(
        (first["expires_on"].as_str(), first["trainer"].as_bool()),
        (Some("2027-06-15"), Some(true))
    );
    let staff: Value = app
        .get_as(&format!("/v1/staff/{}/certifications", ids[0]), &admin)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(staff["items"][0]["evidence"], "CPI-0001");
}
