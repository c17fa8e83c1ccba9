//! The audit trail: what is recorded, the hash chain, group commit.

use std::process::Command;

use casework::domain::Role;
use sea_orm::ConnectionTrait;
use serde_json::{Value, json};

use crate::helpers::{TestApp, assert_problem, spawn_app};

async fn events(app: &TestApp, auditor: &str, query: &str) -> Vec<Value> {
    let resp = app
        .get_as(&format!("/v1/audit/events?limit=500&{query}"), auditor)
        .await;
    assert_eq!(resp.status(), 200);
    let body: Value = resp.json().await.unwrap();
    body["items"].as_array().unwrap().clone()
}

fn verify_cli(app: &TestApp) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_casework"))
        .args(["audit", "verify"])
        .env_clear()
        .env("CASEWORK_DATABASE_URL", &app.settings.database_url)
        .env("CASEWORK_DATA_DIR", &app.settings.data_dir)
        .output()
        .unwrap()
}

#[tokio::test]
async fn directory_changes_are_audited_with_field_names_not_values() {
    let app = spawn_app().await;
    let admin = app.admin().await.clone();
    let branch = app.branch("MAIN").await;
    let resp = app
        .post_as(
            "/v1/staff",
            &admin.token,
            &json!({"username": "t.nguyen", "display_name": "Tam Nguyen (invented)", "role": "peer",
                    "branches": [branch], "password": "a long enough password"}),
        )
        .await;
    let created: Value = resp.json().await.unwrap();
    let auditor = app.account(Role::Auditor, &[]).await;

    let mine = events(&app, &auditor.token, &format!("actor_id={}", admin.id)).await;
    let actions: Vec<(&str, &str)> = mine
        .iter()
        .map(|e| {
            (
                e["action"].as_str().unwrap(),
                e["record_type"].as_str().unwrap_or(""),
            )
        })
        .collect();
    assert_eq!(
        actions,
        vec![
            ("login", "session"),
            ("create", "branch"),
            ("create", "staff")
        ]
    );
    let staff_event = &mine[2];
    assert_eq!(staff_event["record_id"], created["id"]);
    assert_eq!(staff_event["outcome"], "allowed");
    assert_eq!(staff_event["rule"], "admin_manages_directory");
    assert_eq!(staff_event["actor_role"], "admin");
    assert_eq!(staff_event["session_id"], admin.session_id.to_string());
    assert!(staff_event["request_id"].as_str().is_some());
    assert!(
        staff_event["fields"]
            .as_array()
            .unwrap()
            .contains(&json!("display_name"))
    );

    let all = serde_json::to_string(&events(&app, &auditor.token, "").await).unwrap();
    assert!(!all.contains("Tam Nguyen"), "no values in the audit trail");
    assert!(!all.contains("a long enough password"));
}

#[tokio::test]
async fn only_auditors_read_the_trail_and_denials_are_recorded() {
    let app = spawn_app().await;
    let admin = app.admin().await.clone();
    assert_problem(
        app.get_as("/v1/audit/events", &admin.token).await,
        403,
        "forbidden",
    )
    .await;
    assert_problem(
        app.get_as("/v1/audit/verify", &admin.token).await,
        403,
        "forbidden",
    )
    .await;
    let auditor = app.account(Role::Auditor, &[]).await;
    let denied = events(
        &app,
        &auditor.token,
        &format!("actor_id={}&outcome=denied", admin.id),
    )
    .await;
    assert_eq!(denied.len(), 2);
    assert!(denied.iter().all(|e| e["rule"] == "audit_auditor_only"));
}

#[tokio::test]
async fn an_untouched_chain_verifies_and_an_edited_row_is_named() {
    let app = spawn_app().await;
    let auditor = app.account(Role::Auditor, &[]).await;
    app.branch("MAIN").await;
    app.branch("EAST").await;

    let out = verify_cli(&app);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("intact"));
    let ok: Value = app
        .get_as("/v1/audit/verify", &auditor.token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(ok["intact"], true);

    // Someone edits row 3 in the database.
    let row: Value = events(&app, &auditor.token, "").await[2].clone();
    app.db
        .execute_unprepared(
            "UPDATE audit_event SET outcome = 'allowed', rule = 'edited' WHERE seq = 3",
        )
        .await
        .unwrap();
    let out = verify_cli(&app);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("seq 3"), "{err}");
    assert!(err.contains(row["id"].as_str().unwrap()), "{err}");
    let broken: Value = app
        .get_as("/v1/audit/verify", &auditor.token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(broken["intact"], false);
    assert_eq!(broken["broken_seq"], 3);
}

#[tokio::test]
async fn a_deleted_row_is_detected() {
    let app = spawn_app().await;
    app.branch("MAIN").await;
    app.branch("EAST").await;
    app.db
        .execute_unprepared("DELETE FROM audit_event WHERE seq = 2")
        .await
        .unwrap();
    let out = verify_cli(&app);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("seq 3"));
}

#[tokio::test]
async fn concurrent_writers_share_one_unforked_chain_and_failures_stay_their_own() {
    let app = spawn_app().await;
    let admin = app.admin().await.token.clone();
    // 30 branch creations at once; every third reuses a code and must fail
    // alone, without taking its batch neighbours down.
    let mut tasks = Vec::new();
    for i in 0..30 {
        let code = if i % 3 == 2 {
            format!("B{}", i - 1)
        } else {
            format!("B{i}")
        };
        let client = app.client.clone();
        let url = app.url("/v1/branches");
        let token = admin.clone();
        tasks.push(tokio::spawn(async move {
            client
                .post(url)
                .bearer_auth(token)
                .json(&json!({"code": code, "name": "Concurrent"}))
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }));
    }
    let mut created = 0;
    let mut conflicts = 0;
    for t in tasks {
        match t.await.unwrap() {
            201 => created += 1,
            409 => conflicts += 1,
            other => panic!("unexpected status {other}"),
        }
    }
    assert_eq!(created + conflicts, 30);
    assert_eq!(
        (created, conflicts),
        (20, 10),
        "each distinct code is created once"
    );

    let auditor = app.account(Role::Auditor, &[]).await;
    let branch_events = events(&app, &auditor.token, "action=create").await;
    let branch_events: Vec<&Value> = branch_events
        .iter()
        .filter(|e| e["record_type"] == "branch")
        .collect();
    assert_eq!(
        branch_events.len(),
        30,
        "every attempt, allowed or failed, is audited"
    );
    assert_eq!(
        branch_events
            .iter()
            .filter(|e| e["outcome"] == "error")
            .count(),
        conflicts
    );

    let all = events(&app, &auditor.token, "").await;
    for (i, e) in all.iter().enumerate() {
        assert_eq!(e["seq"], (i + 1) as i64, "no gap and no fork");
        if i > 0 {
            assert_eq!(e["prev_hash"], all[i - 1]["hash"]);
        }
    }
    let ok: Value = app
        .get_as("/v1/audit/verify", &auditor.token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(ok["intact"], true);
}

/// Auditors can ask who searched for a name, while the trail never holds the
/// name: searches are kept as keyed fingerprints of their words.
#[tokio::test]
async fn who_searched_for_a_name_without_the_trail_holding_it() {
    let app = crate::helpers::spawn_app().await;
    let branch = app.branch("SRCH").await;
    let worker = app
        .account(casework::domain::Role::SocialWorker, &[branch])
        .await;
    let other = app
        .account(casework::domain::Role::SocialWorker, &[branch])
        .await;
    let auditor = app.account(casework::domain::Role::Auditor, &[]).await;
    assert_eq!(
        app.get_as("/v1/patrons?q=Zephyrine%20Fakename", &worker.token)
            .await
            .status(),
        200
    );
    assert_eq!(
        app.get_as("/v1/patrons?q=someone", &other.token)
            .await
            .status(),
        200
    );
    let page: serde_json::Value = app
        .get_as(
            "/v1/audit/events?search_text=z%C3%A9phyrine",
            &auditor.token,
        )
        .await
        .json()
        .await
        .unwrap();
    let found: Vec<&serde_json::Value> = page["items"].as_array().unwrap().iter().collect();
    assert_eq!(found.len(), 1, "{page}");
    assert_eq!(found[0]["actor_id"], worker.id.to_string());
    // Neither the search nor the auditor's question left the words behind.
    let all: serde_json::Value = app
        .get_as("/v1/audit/events?limit=500", &auditor.token)
        .await
        .json()
        .await
        .unwrap();
    let text = all.to_string().to_lowercase();
    assert!(
        !text.contains("zephyrine") && !text.contains("zéphyrine") && !text.contains("fakename")
    );
}

/// A patron's file, looked at by several people in several ways.
#[tokio::test]
async fn the_accounting_of_disclosures_and_the_review_filters() {
    let app = spawn_app().await;
    let main = app.branch("MAIN").await;
    let east = app.branch("EAST").await;
    let worker = app.account(Role::SocialWorker, &[main]).await;
    let supervisor = app.account(Role::Supervisor, &[main, east]).await;
    let staff = app.account(Role::Staff, &[main]).await;
    let auditor = app.account(Role::Auditor, &[]).await;
    let made: Value = app
        .post_as(
            "/v1/patrons",
            &worker.token,
            &json!({"preferred_name": "Quinn Invented", "home_branch_id": main}),
        )
        .await
        .json()
        .await
        .unwrap();
    let patron = made["patron"]["id"].as_str().unwrap().to_owned();
    let other: Value = app
        .post_as(
            "/v1/patrons",
            &worker.token,
            &json!({"preferred_name": "Rowan Invented", "home_branch_id": main}),
        )
        .await
        .json()
        .await
        .unwrap();
    // The worker reads it twice, finds it in a search; the supervisor reads
    // it and writes nothing; staff are refused (nothing disclosed).
    for _ in 0..2 {
        assert_eq!(
            app.get_as(&format!("/v1/patrons/{patron}"), &worker.token)
                .await
                .status(),
            200
        );
    }
    assert_eq!(
        app.get_as("/v1/patrons?q=quinn", &worker.token)
            .await
            .status(),
        200
    );
    assert_eq!(
        app.get_as(&format!("/v1/patrons/{patron}"), &supervisor.token)
            .await
            .status(),
        200
    );
    assert_eq!(
        app.get_as(&format!("/v1/patrons/{patron}"), &staff.token)
            .await
            .status(),
        404
    );
    // A mandated report: its accesses carry their purpose of use.
    let report: Value = app
        .post_as(
            "/v1/mandated-reports",
            &worker.token,
            &json!({"patron_id": patron, "kind": "child_protective_services", "agency": "Invented CPS",
                    "learned_at": chrono::Utc::now().to_rfc3339(),
                    "persons_concerned": "A child (invented).", "what_was_reported": "Invented."}),
        )
        .await
        .json()
        .await
        .unwrap();
    assert!(report["id"].is_string());

    let resp = app
        .get_as(
            &format!("/v1/audit/disclosures?patron_id={patron}"),
            &auditor.token,
        )
        .await;
    assert_eq!(resp.status(), 200);
    let body: Value = resp.json().await.unwrap();
    let rows: Vec<(String, String, u64, Vec<String>)> = body["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["staff_id"].as_str().unwrap().to_owned(),
                r["purpose"].as_str().unwrap_or("").to_owned(),
                r["accesses"].as_u64().unwrap(),
                r["record_types"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|t| t.as_str().unwrap().to_owned())
                    .collect(),
            )
        })
        .collect();
    let (w, s) = (worker.id.to_string(), supervisor.id.to_string());
    assert_eq!(
        rows,
        vec![
            // Created, read twice, found in a search.
            (w.clone(), String::new(), 4, vec!["patron".to_owned()]),
            (s.clone(), String::new(), 1, vec!["patron".to_owned()]),
            (
                w.clone(),
                "mandated_reporting".to_owned(),
                1,
                vec!["mandated_report".to_owned()]
            ),
        ]
    );
    assert!(
        !body.to_string().contains(&staff.id.to_string()),
        "a refused attempt disclosed nothing"
    );
    assert_eq!(
        body["rows"][1]["display_name"],
        format!("Test {}", supervisor.username)
    );
    // The other patron's accounting does not include this one's accesses.
    let other_id = other["patron"]["id"].as_str().unwrap();
    let theirs: Value = app
        .get_as(
            &format!("/v1/audit/disclosures?patron_id={other_id}"),
            &auditor.token,
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        theirs["rows"].as_array().unwrap().len(),
        1,
        "only its creation"
    );

    // As CSV.
    let resp = app
        .client
        .get(app.url(&format!("/v1/audit/disclosures?patron_id={patron}")))
        .bearer_auth(&auditor.token)
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
        lines[0],
        "staff_id,display_name,role,purpose,accesses,first_at,last_at,record_types"
    );
    assert_eq!(lines.len(), 4);
    assert!(lines[1].starts_with(&format!("{w},Test {},social_worker,,4,", worker.username)));
    // Only auditors.
    assert_problem(
        app.get_as(
            &format!("/v1/audit/disclosures?patron_id={patron}"),
            &supervisor.token,
        )
        .await,
        403,
        "forbidden",
    )
    .await;

    // The filters of a review.
    let t = auditor.token.as_str();
    let reports = events(&app, t, "record_type=mandated_report").await;
    assert_eq!(reports.len(), 1);
    assert_eq!(reports[0]["purpose"], "mandated_reporting");
    assert_eq!(events(&app, t, "purpose=mandated_reporting").await.len(), 1);
    let sup = events(
        &app,
        t,
        &format!("actor_role=supervisor&record_id={patron}"),
    )
    .await;
    assert_eq!(sup.len(), 1);
    assert_eq!(sup[0]["actor_id"], s);
    let east_events = events(&app, t, &format!("branch_id={east}&action=read")).await;
    assert!(
        east_events.iter().all(|e| e["actor_id"] == s),
        "only the supervisor works at EAST"
    );
    assert_eq!(east_events.len(), 1);
}

/// An export crosses its page size, keeps order, and is itself audited.
#[tokio::test]
async fn an_export_streams_every_selected_event_and_is_audited() {
    let app = spawn_app().await;
    let main = app.branch("MAIN").await;
    let worker = app.account(Role::SocialWorker, &[main]).await;
    let auditor = app.account(Role::Auditor, &[]).await;
    let made: Value = app
        .post_as(
            "/v1/patrons",
            &worker.token,
            &json!({"preferred_name": "Sky Invented", "home_branch_id": main}),
        )
        .await
        .json()
        .await
        .unwrap();
    let patron = made["patron"]["id"].as_str().unwrap().to_owned();
    // More reads than one export page holds.
    let reads = casework::oversight::audit_review::EXPORT_PAGE as usize + 50;
    let path = format!("/v1/patrons/{patron}");
    for chunk in (0..reads).collect::<Vec<_>>().chunks(50) {
        let calls = chunk.iter().map(|_| app.get_as(&path, &worker.token));
        for resp in futures_util::future::join_all(calls).await {
            assert_eq!(resp.status(), 200);
        }
    }
    let export = |format: &str| {
        let url = app.url(&format!(
            "/v1/audit/export?format={format}&actor_id={}&action=read",
            worker.id
        ));
        let token = auditor.token.clone();
        let client = app.client.clone();
        async move {
            let resp = client.get(url).bearer_auth(token).send().await.unwrap();
            assert_eq!(resp.status(), 200);
            let ct = resp.headers()["content-type"].to_str().unwrap().to_owned();
            (ct, resp.text().await.unwrap())
        }
    };
    let (ct, ndjson) = export("ndjson").await;
    assert_eq!(ct, "application/x-ndjson");
    let lines: Vec<Value> = ndjson
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), reads);
    assert!(
        lines
            .windows(2)
            .all(|w| w[0]["seq"].as_i64() < w[1]["seq"].as_i64())
    );
    assert!(
        lines
            .iter()
            .all(|e| e["action"] == "read" && e["patron_id"] == patron.as_str())
    );
    let (ct, csv) = export("csv").await;
    assert!(ct.starts_with("text/csv"));
    let rows: Vec<&str> = csv.lines().collect();
    assert!(rows[0].starts_with("seq,id,recorded_at,occurred_at,actor_id,"));
    assert_eq!(rows.len(), reads + 1);
    // Nothing selected: only the header.
    let resp = app
        .client
        .get(app.url(&format!(
            "/v1/audit/export?format=csv&actor_id={}",
            uuid::Uuid::now_v7()
        )))
        .bearer_auth(&auditor.token)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.text().await.unwrap().lines().count(), 1);
    // Each export is in the trail, with its filter.
    let exports = events(&app, &auditor.token, "action=export").await;
    assert_eq!(exports.len(), 3);
    assert!(
        exports[0]["query"]
            .as_str()
            .unwrap()
            .contains(&worker.id.to_string())
    );
    // Only auditors.
    let resp = app
        .get_as("/v1/audit/export?format=csv", &worker.token)
        .await;
    assert_problem(resp, 403, "forbidden").await;
}

async fn anomalies(app: &TestApp, auditor: &str, query: &str) -> Vec<Value> {
    let resp = app
        .get_as(&format!("/v1/audit/anomalies?{query}"), auditor)
        .await;
    assert_eq!(resp.status(), 200, "{query}");
    let body: Value = resp.json().await.unwrap();
    body["rows"].as_array().unwrap().clone()
}

#[tokio::test]
async fn each_anomaly_view_finds_its_pattern_and_links_its_events() {
    let app = spawn_app().await;
    let main = app.branch("MAIN").await;
    let east = app.branch("EAST").await;
    let worker = app.account(Role::SocialWorker, &[main]).await;
    let east_worker = app.account(Role::SocialWorker, &[east]).await;
    let staff = app.account(Role::Staff, &[main]).await;
    let auditor = app.account(Role::Auditor, &[]).await;
    let mut patrons = Vec::new();
    for name in ["Ash Invented", "Bay Invented", "Cy Invented"] {
        let made: Value = app
            .post_as(
                "/v1/patrons",
                &worker.token,
                &json!({"preferred_name": name, "home_branch_id": main}),
            )
            .await
            .json()
            .await
            .unwrap();
        patrons.push(made["patron"]["id"].as_str().unwrap().to_owned());
    }
    // The worker reads three patrons today.
    for p in &patrons {
        assert_eq!(
            app.get_as(&format!("/v1/patrons/{p}"), &worker.token)
                .await
                .status(),
            200
        );
    }
    // Staff try three times and are refused.
    for p in &patrons {
        assert_eq!(
            app.get_as(&format!("/v1/patrons/{p}"), &staff.token)
                .await
                .status(),
            404
        );
    }
    // An EAST worker on the team of a MAIN patron's case reads that patron.
    let case: Value = app
        .post_as(
            "/v1/cases",
            &worker.token,
            &json!({"patron_id": patrons[0]}),
        )
        .await
        .json()
        .await
        .unwrap();
    let resp = app
        .client
        .post(app.url(&format!("/v1/cases/{}/team", case["id"].as_str().unwrap())))
        .bearer_auth(&worker.token)
        .header("If-Match", "\"1\"")
        .json(&json!({"staff_id": east_worker.id}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(
        app.get_as(&format!("/v1/patrons/{}", patrons[0]), &east_worker.token)
            .await
            .status(),
        200
    );
    // Two wrong passwords for the staff account, one for nobody.
    for (user, pw) in [
        (staff.username.as_str(), "wrong password"),
        (staff.username.as_str(), "still wrong"),
        ("nobody.at.all", "whatever it is"),
    ] {
        assert_eq!(app.login(user, pw, "anomaly test").await.status(), 401);
    }

    let t = auditor.token.as_str();
    let denied = anomalies(&app, t, "kind=denied_by_actor").await;
    assert_eq!(denied.len(), 1);
    assert_eq!(denied[0]["actor_id"], staff.id.to_string());
    assert_eq!(denied[0]["count"], 3);
    assert_eq!(denied[0]["event_ids"].as_array().unwrap().len(), 3);
    // The events behind a row are the trail's own.
    let behind = events(&app, t, &format!("actor_id={}&outcome=denied", staff.id)).await;
    let ids: Vec<&Value> = behind.iter().map(|e| &e["id"]).collect();
    assert_eq!(
        denied[0]["event_ids"]
            .as_array()
            .unwrap()
            .iter()
            .collect::<Vec<_>>(),
        ids
    );

    let many = anomalies(&app, t, "kind=many_patrons_in_a_day&threshold=2").await;
    assert_eq!(many.len(), 1, "{many:?}");
    assert_eq!(many[0]["actor_id"], worker.id.to_string());
    assert_eq!(many[0]["count"], 3);
    assert!(
        anomalies(&app, t, "kind=many_patrons_in_a_day&threshold=3")
            .await
            .is_empty()
    );
    assert!(
        anomalies(&app, t, "kind=many_patrons_in_a_day")
            .await
            .is_empty(),
        "default 50"
    );

    let outside = anomalies(&app, t, "kind=outside_branches").await;
    assert_eq!(outside.len(), 1, "{outside:?}");
    assert_eq!(outside[0]["actor_id"], east_worker.id.to_string());

    let by_account = anomalies(&app, t, "kind=failed_sign_ins_by_account").await;
    assert_eq!(by_account.len(), 1);
    assert_eq!(by_account[0]["account_id"], staff.id.to_string());
    assert_eq!(by_account[0]["count"], 2);
    let by_address = anomalies(&app, t, "kind=failed_sign_ins_by_address").await;
    assert_eq!(by_address.len(), 1);
    assert_eq!(by_address[0]["count"], 3);
    assert!(
        by_address[0]["client_addr"]
            .as_str()
            .unwrap()
            .starts_with("127.0.0.1")
    );

    // A window that holds none of it.
    assert!(
        anomalies(
            &app,
            t,
            "kind=denied_by_actor&from=2020-01-01T00:00:00Z&to=2020-02-01T00:00:00Z"
        )
        .await
        .is_empty()
    );
    assert_problem(
        app.get_as("/v1/audit/anomalies?kind=denied_by_actor", &worker.token)
            .await,
        403,
        "forbidden",
    )
    .await;

    // A trail written before the rollups existed: the next start rolls it
    // up, and the views read the same.
    for sql in [
        "DELETE FROM audit_reader_day_patron",
        "DELETE FROM audit_reader_day",
        "DELETE FROM audit_flag",
        "INSERT INTO audit_rollup_backfill (id, next_seq, last_seq) \
         SELECT 1, MIN(seq), MAX(seq) FROM audit_event",
    ] {
        app.db.execute_unprepared(sql).await.unwrap();
    }
    assert!(
        anomalies(&app, t, "kind=outside_branches").await.is_empty(),
        "the rollups are gone"
    );
    let restarted = crate::helpers::spawn_second_instance(&app).await;
    assert_eq!(
        anomalies(&restarted, t, "kind=outside_branches").await,
        outside
    );
    let many_again = anomalies(&restarted, t, "kind=many_patrons_in_a_day&threshold=2").await;
    assert_eq!(many_again.len(), 1);
    assert_eq!(many_again[0]["count"], 3);
    assert_eq!(many_again[0]["actor_id"], worker.id.to_string());
}

/// Behind a load balancer the client's address comes from `X-Forwarded-For`,
/// but only when the peer is a configured trusted proxy.
#[tokio::test]
async fn the_client_address_is_believed_only_from_a_trusted_proxy() {
    async fn failed_sign_in_from(app: &TestApp, forwarded: &str) -> String {
        let resp = app
            .client
            .post(app.url("/v1/auth/login"))
            .header("X-Forwarded-For", forwarded)
            .json(&json!({"username": "nobody.here", "password": "not the password", "device_name": "x"}))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 401);
        let auditor = app.account(Role::Auditor, &[]).await;
        let failed = events(app, &auditor.token, "action=login_failed").await;
        failed.last().unwrap()["client_addr"]
            .as_str()
            .unwrap()
            .to_owned()
    }
    let direct = spawn_app().await;
    assert_eq!(
        failed_sign_in_from(&direct, "203.0.113.7").await,
        "127.0.0.1",
        "not a proxy: the header is ignored"
    );
    let behind =
        crate::helpers::spawn_app_with(|s| s.trusted_proxies = "10.0.0.9, 127.0.0.1".into()).await;
    assert_eq!(
        failed_sign_in_from(&behind, "198.51.100.9, 203.0.113.7").await,
        "203.0.113.7",
        "the nearest untrusted address"
    );
    assert_eq!(
        failed_sign_in_from(&behind, "203.0.113.8, 10.0.0.9").await,
        "203.0.113.8",
        "trusted hops skipped"
    );
    // Whatever a client puts first is never read: the proxy's own entry,
    // the rightmost untrusted one, is the client.
    for forged in [
        "not-an-address, 203.0.113.9",
        "10.0.0.9, 192.0.2.1, 203.0.113.9",
    ] {
        assert_eq!(
            failed_sign_in_from(&behind, forged).await,
            "203.0.113.9",
            "{forged}"
        );
    }
}

fn verify_cli_with(app: &TestApp, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_casework"))
        .args(["audit", "verify"])
        .args(args)
        .env_clear()
        .env("CASEWORK_DATABASE_URL", &app.settings.database_url)
        .env("CASEWORK_DATA_DIR", &app.settings.data_dir)
        .output()
        .unwrap()
}

async fn verify_api(app: &TestApp, auditor: &str, full: bool) -> Value {
    app.get_as(&format!("/v1/audit/verify?full={full}"), auditor)
        .await
        .json()
        .await
        .unwrap()
}

/// A routine verify while checkpoints are being made: the file and the
/// database's mark are read in the order they are written, so a checkpoint
/// made between the two reads never looks like a cut file (it once did, and
/// the app's chain screen showed "broken" under load).
#[tokio::test]
async fn a_routine_verify_while_checkpoints_are_made_finds_the_chain_intact() {
    let app = spawn_app().await;
    let auditor = app.account(Role::Auditor, &[]).await;
    let rounds = 300;
    let making = async {
        for i in 0..rounds {
            if i % 10 == 0 {
                app.branch(&format!("V{i}")).await;
            }
            // A receipt signs the head (each receipt is itself an audited
            // read, so the next one signs a new head): a checkpoint written
            // to the file, then marked in the database.
            let resp = app.get_as("/v1/audit/receipt", &auditor.token).await;
            assert_eq!(resp.status(), 200);
        }
    };
    let verifying = || async {
        let mut seen = Vec::new();
        for _ in 0..rounds {
            seen.push(verify_api(&app, &auditor.token, false).await);
        }
        seen
    };
    let ((), a, b, c) = tokio::join!(making, verifying(), verifying(), verifying());
    let seen: Vec<Value> = a.into_iter().chain(b).chain(c).collect();
    let broken: Vec<&Value> = seen.iter().filter(|v| v["intact"] != true).collect();
    assert!(
        broken.is_empty(),
        "{} of {} verifies said broken: {:?}",
        broken.len(),
        seen.len(),
        broken.first()
    );
}

/// Deleting the newest events used to pass `verify`; a signed checkpoint
/// outside the database now shows it, a receipt proves what came before it,
/// and a tampered row is found before the checkpoint (full) and after it
/// (routine).
#[tokio::test]
async fn signed_checkpoints_catch_a_cut_chain_and_receipts_prove_the_past() {
    let app = spawn_app().await;
    let auditor = app.account(Role::Auditor, &[]).await;
    for code in ["MAIN", "EAST", "RIVER"] {
        app.branch(code).await;
    }
    // A receipt: the head, signed, kept by the auditor.
    let resp = app.get_as("/v1/audit/receipt", &auditor.token).await;
    assert_eq!(resp.status(), 200);
    let receipt: Value = resp.json().await.unwrap();
    let receipt_path = app.settings.data_dir.join("receipt.json");
    std::fs::write(&receipt_path, receipt.to_string()).unwrap();
    let cut_at = receipt["seq"].as_i64().unwrap();
    assert!(cut_at > 3);
    assert_eq!(
        verify_api(&app, &auditor.token, false).await["intact"],
        true
    );
    let out = verify_cli_with(&app, &["--against", receipt_path.to_str().unwrap()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("intact up to the receipt"));

    // The newest events are deleted: the chain no longer reaches the checkpoint.
    for table in ["audit_event_patron", "audit_event"] {
        app.db
            .execute_unprepared(&format!("DELETE FROM {table} WHERE seq >= {}", cut_at - 2))
            .await
            .unwrap();
    }
    let out = verify_cli(&app);
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("events were removed"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = verify_cli_with(&app, &["--against", receipt_path.to_str().unwrap()]);
    assert!(!out.status.success(), "the receipt proves the cut");
    // The service refuses to start on it, unless told to (loudly).
    let refused = casework::startup::Application::build_checked(app.settings.clone(), false).await;
    let message = format!("{:#}", refused.err().expect("refused to start"));
    assert!(message.contains("Refusing to start"), "{message}");
    assert!(
        casework::startup::Application::build_checked(app.settings.clone(), true)
            .await
            .is_ok()
    );
}

#[tokio::test]
async fn a_tampered_row_is_found_before_the_checkpoint_in_full_and_after_it_routinely() {
    let app = spawn_app().await;
    let auditor = app.account(Role::Auditor, &[]).await;
    for code in ["MAIN", "EAST"] {
        app.branch(code).await;
    }
    let checkpoint = app
        .state
        .checkpoints
        .write(&app.db, app.state.clock.now())
        .await
        .unwrap()
        .unwrap();
    for code in ["RIVER", "HILL"] {
        app.branch(code).await;
    }
    // Before the checkpoint: the routine check walks only what is new, the
    // full one finds it.
    app.db
        .execute_unprepared("UPDATE audit_event SET rule = 'edited' WHERE seq = 2")
        .await
        .unwrap();
    assert_eq!(
        verify_api(&app, &auditor.token, false).await["intact"],
        true
    );
    let full = verify_api(&app, &auditor.token, true).await;
    assert_eq!(
        (full["intact"].as_bool(), full["broken_seq"].as_i64()),
        (Some(false), Some(2))
    );
    let out = verify_cli_with(&app, &["--full"]);
    assert!(!out.status.success());
    // The command walks the whole chain by default; the quick form used at
    // start-up walks only what came after the checkpoint.
    let out = verify_cli_with(&app, &[]);
    assert!(!out.status.success(), "the default finds it");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("seq 2"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = verify_cli_with(&app, &["--since-checkpoint"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("since the last checkpoint"));
    // After it: the routine check finds it.
    let after = checkpoint.seq + 2;
    app.db
        .execute_unprepared(&format!(
            "UPDATE audit_event SET outcome = 'allowed', rule = 'edited' WHERE seq = {after}"
        ))
        .await
        .unwrap();
    let routine = verify_api(&app, &auditor.token, false).await;
    assert_eq!(
        (routine["intact"].as_bool(), routine["broken_seq"].as_i64()),
        (Some(false), Some(after))
    );
    // The checkpoint file is beside the database and signed.
    let file =
        std::fs::read_to_string(app.settings.data_dir.join("audit-checkpoints.jsonl")).unwrap();
    let line: Value = serde_json::from_str(file.lines().next().unwrap()).unwrap();
    assert_eq!(line["seq"], checkpoint.seq);
    assert_eq!(line["signature"].as_str().unwrap().len(), 128);
}

#[tokio::test]
async fn checkpoints_reach_a_configured_syslog_collector() {
    let collector = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    collector
        .set_read_timeout(Some(std::time::Duration::from_secs(5)))
        .unwrap();
    let target = collector.local_addr().unwrap().to_string();
    let app = crate::helpers::spawn_app_with(|s| s.audit_syslog = target).await;
    let auditor = app.account(Role::Auditor, &[]).await;
    let receipt: Value = app
        .get_as("/v1/audit/receipt", &auditor.token)
        .await
        .json()
        .await
        .unwrap();
    let mut buf = [0u8; 2048];
    let n = collector.recv(&mut buf).unwrap();
    let msg = String::from_utf8_lossy(&buf[..n]);
    assert!(msg.starts_with("<110>1 "), "{msg}");
    assert!(msg.contains("audit-checkpoint"));
    assert!(msg.contains(receipt["hash"].as_str().unwrap()));
    // Only auditors get receipts.
    let worker = app.account(Role::SocialWorker, &[]).await;
    assert_problem(
        app.get_as("/v1/audit/receipt", &worker.token).await,
        403,
        "forbidden",
    )
    .await;
}

#[tokio::test]
async fn checkpoints_reach_a_configured_http_endpoint() {
    use poem::{
        EndpointExt, Route, Server, handler,
        http::StatusCode,
        listener::{Acceptor, Listener, TcpListener},
        web::{Data, Json},
    };
    type Inbox = tokio::sync::mpsc::UnboundedSender<Value>;
    #[handler]
    fn take(Json(body): Json<Value>, inbox: Data<&Inbox>) -> StatusCode {
        inbox.send(body).unwrap();
        StatusCode::NO_CONTENT
    }
    let (tx, mut received) = tokio::sync::mpsc::unbounded_channel::<Value>();
    let acceptor = TcpListener::bind("127.0.0.1:0")
        .into_acceptor()
        .await
        .unwrap();
    let addr = acceptor.local_addr()[0].as_socket_addr().copied().unwrap();
    let sink = Route::new().at("/checkpoints", poem::post(take)).data(tx);
    tokio::spawn(Server::new_with_acceptor(acceptor).run(sink));

    let url = format!("http://{addr}/checkpoints");
    let app = crate::helpers::spawn_app_with(|s| s.audit_checkpoint_url = url).await;
    let auditor = app.account(Role::Auditor, &[]).await;
    let receipt: Value = app
        .get_as("/v1/audit/receipt", &auditor.token)
        .await
        .json()
        .await
        .unwrap();
    let posted = tokio::time::timeout(std::time::Duration::from_secs(10), received.recv())
        .await
        .expect("a checkpoint arrives")
        .unwrap();
    assert_eq!(posted, receipt, "the endpoint gets the signed head itself");
    assert_eq!(posted["signature"].as_str().unwrap().len(), 128);
}

/// A worker's accesses to a patron, as the accounting of disclosures counts
/// them.
async fn accesses(app: &TestApp, auditor: &str, patron: &str, staff: uuid::Uuid) -> u64 {
    let body: Value = app
        .get_as(
            &format!("/v1/audit/disclosures?patron_id={patron}"),
            auditor,
        )
        .await
        .json()
        .await
        .unwrap();
    body["rows"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["staff_id"] == staff.to_string())
        .map(|r| r["accesses"].as_u64().unwrap())
        .sum()
}

/// Every answer that carries a record is a read of it: a 412's `current`
/// and a sync upload's conflict are in the accounting of disclosures, as
/// allowed reads of the record with its patron.
#[tokio::test]
async fn a_stale_answer_carrying_the_record_is_an_accounted_disclosure() {
    let app = spawn_app().await;
    let main = app.branch("MAIN").await;
    let worker = app.account(Role::SocialWorker, &[main]).await;
    let auditor = app.account(Role::Auditor, &[]).await;
    let created = |resp: reqwest::Response| async move {
        let status = resp.status();
        let body: Value = resp.json().await.unwrap();
        assert_eq!(status, 201, "{body}");
        body
    };
    let patron = created(
        app.post_as(
            "/v1/patrons",
            &worker.token,
            &json!({"preferred_name": "Noor Invented", "home_branch_id": main}),
        )
        .await,
    )
    .await["patron"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let case = created(
        app.post_as("/v1/cases", &worker.token, &json!({"patron_id": patron}))
            .await,
    )
    .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let report = created(
        app.post_as(
            "/v1/mandated-reports",
            &worker.token,
            &json!({"patron_id": patron, "case_id": case, "kind": "adult_protective_services",
                    "agency": "County APS (invented)", "learned_at": "2026-11-30T10:00:00Z",
                    "persons_concerned": "An adult (invented).",
                    "what_was_reported": "Invented."}),
        )
        .await,
    )
    .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let contact = created(
        app.post_as(
            "/v1/contacts",
            &worker.token,
            &json!({"branch_id": main, "patron_id": patron, "kind": "drop_in"}),
        )
        .await,
    )
    .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let before = accesses(&app, &auditor.token, &patron, worker.id).await;

    // A report changed from an old version: 412 with the report as it is.
    let path = format!("/v1/mandated-reports/{report}");
    let ok = app
        .patch_as(
            &path,
            &worker.token,
            "\"1\"",
            &json!({"agency": "County APS, north (invented)"}),
        )
        .await;
    assert_eq!(ok.status(), 200);
    let stale = app
        .patch_as(
            &path,
            &worker.token,
            "\"1\"",
            &json!({"agency": "Elsewhere (invented)"}),
        )
        .await;
    let problem = assert_problem(stale, 412, "stale").await;
    assert_eq!(problem["current"]["version"], 2);
    let reads = events(
        &app,
        &auditor.token,
        &format!("action=read&record_id={report}&actor_id={}", worker.id),
    )
    .await;
    assert_eq!(reads.len(), 1, "the 412 is one read: {reads:?}");
    assert_eq!(reads[0]["outcome"], "allowed");
    assert_eq!(reads[0]["patron_id"], patron.as_str());
    assert_eq!(reads[0]["purpose"], "mandated_reporting");
    assert!(
        reads[0]["fields"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f == "what_was_reported"),
        "the fields the answer showed: {reads:?}"
    );

    // A sync upload's conflict carries the contact as it is: a read too.
    let edit = |op: &str, note: &str| {
        json!({"operations": [{"op_id": op, "method": "PATCH",
               "path": format!("/v1/contacts/{contact}"), "version": 1,
               "body": {"note": note}}]})
    };
    let first: Value = app
        .post_as("/v1/sync", &worker.token, &edit("phone", "Invented one."))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(first["results"][0]["outcome"], "applied", "{first}");
    let second: Value = app
        .post_as("/v1/sync", &worker.token, &edit("tablet", "Invented two."))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(second["results"][0]["outcome"], "conflict", "{second}");
    let reads = events(
        &app,
        &auditor.token,
        &format!("action=read&record_id={contact}&actor_id={}", worker.id),
    )
    .await;
    assert_eq!(reads.len(), 1, "the conflict is one read: {reads:?}");
    assert_eq!(reads[0]["outcome"], "allowed");
    assert_eq!(reads[0]["patron_id"], patron.as_str());

    // Both are in the accounting of disclosures for the patron (besides
    // the report's and the contact's successful changes).
    let after = accesses(&app, &auditor.token, &patron, worker.id).await;
    assert_eq!(after, before + 4, "two changes and two stale answers");
}

/// A display name that a spreadsheet would run as a formula comes out of
/// the disclosures CSV as text (OWASP's rule: a leading `'`).
#[tokio::test]
async fn csv_answers_carry_no_live_formula() {
    let app = spawn_app().await;
    let main = app.branch("MAIN").await;
    let worker = app.account(Role::SocialWorker, &[main]).await;
    let auditor = app.account(Role::Auditor, &[]).await;
    let admin = app.admin().await.token.clone();
    let path = format!("/v1/staff/{}", worker.id);
    let etag = app.get_as(&path, &admin).await.headers()["etag"]
        .to_str()
        .unwrap()
        .to_owned();
    let formula = r#"=HYPERLINK("http://example.invalid","Open file")"#;
    let resp = app
        .patch_as(&path, &admin, &etag, &json!({"display_name": formula}))
        .await;
    assert_eq!(resp.status(), 200);
    let resp = app
        .post_as(
            "/v1/patrons",
            &worker.token,
            &json!({"preferred_name": "Ode Invented", "home_branch_id": main}),
        )
        .await;
    assert_eq!(resp.status(), 201);
    let patron: Value = resp.json().await.unwrap();
    let patron = patron["patron"]["id"].as_str().unwrap().to_owned();
    let csv = app
        .client
        .get(app.url(&format!("/v1/audit/disclosures?patron_id={patron}")))
        .bearer_auth(&auditor.token)
        .header("Accept", "text/csv")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let mut reader = ::csv::Reader::from_reader(csv.as_bytes());
    let names: Vec<String> = reader.records().map(|r| r.unwrap()[1].to_owned()).collect();
    assert_eq!(names, vec![format!("'{formula}")], "{csv}");
}

/// Evidence that stands alone: checkpoints chain to each other; a checkpoint
/// file removed or cut short, once checkpoints were made, fails `verify` and
/// stops the start (unless told, loudly); the key can live outside the data
/// directory; `casework audit receipt` gives an auditor a signed head to
/// keep, which `verify --against` proves later.
#[tokio::test]
async fn checkpoints_chain_and_a_missing_file_stops_the_start() {
    let key_dir = tempfile::tempdir().unwrap();
    let key_path = key_dir.path().join("checkpoint.key");
    let key_setting = key_path.display().to_string();
    let app = crate::helpers::spawn_app_with(|s| s.audit_checkpoint_key = key_setting).await;
    app.branch("MAIN").await;
    let first = app
        .state
        .checkpoints
        .write(&app.db, app.state.clock.now())
        .await
        .unwrap()
        .unwrap();
    app.branch("EAST").await;
    let second = app
        .state
        .checkpoints
        .write(&app.db, app.state.clock.now())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        second.prev.as_deref(),
        Some(first.signature.as_str()),
        "chained"
    );
    assert!(key_path.exists(), "the key is where the setting says");
    assert!(
        !app.settings.data_dir.join("checkpoint.key").exists(),
        "and not in the data directory"
    );
    let cli = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_casework"))
            .args(args)
            .env_clear()
            .env("CASEWORK_DATABASE_URL", &app.settings.database_url)
            .env("CASEWORK_DATA_DIR", &app.settings.data_dir)
            .env("CASEWORK_AUDIT_CHECKPOINT_KEY", &key_path)
            .output()
            .unwrap()
    };
    // A receipt to keep elsewhere: one JSON line, signed, chained.
    let out = cli(&["audit", "receipt"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let receipt: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(receipt["public_key"].as_str().unwrap().len(), 64);
    let receipt_path = key_dir.path().join("receipt.json");
    std::fs::write(&receipt_path, &out.stdout).unwrap();
    let out = cli(&["audit", "verify"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // The checkpoint file is cut short: verify and the start both see it.
    let file = app.settings.data_dir.join("audit-checkpoints.jsonl");
    let text = std::fs::read_to_string(&file).unwrap();
    let kept: Vec<&str> = text.lines().take(1).collect();
    std::fs::write(&file, format!("{}\n", kept.join("\n"))).unwrap();
    let out = cli(&["audit", "verify", "--since-checkpoint"]);
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("missing or shorter"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    std::fs::remove_file(&file).unwrap();
    let refused = casework::startup::Application::build_checked(app.settings.clone(), false).await;
    let message = format!("{:#}", refused.err().expect("refused to start"));
    assert!(message.contains("missing or shorter"), "{message}");
    // The receipt still proves the chain up to it.
    let out = cli(&[
        "audit",
        "verify",
        "--against",
        receipt_path.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
