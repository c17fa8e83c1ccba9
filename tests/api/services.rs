//! The service directory: admins keep it, every role searches it, and Open
//! Referral HSDS data imports (twice without duplicates).

use std::{collections::BTreeSet, process::Command};

use casework::domain::Role;
use serde_json::{Value, json};

use crate::helpers::{TEST_SIGNING_KEY, assert_problem, spawn_app};

async fn json_of(resp: reqwest::Response, status: u16) -> (Value, Option<String>) {
    let got = resp.status().as_u16();
    let etag = resp
        .headers()
        .get("etag")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let text = resp.text().await.unwrap();
    assert_eq!(got, status, "{text}");
    (serde_json::from_str(&text).unwrap(), etag)
}

fn names(list: &Value) -> Vec<String> {
    list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn admins_keep_the_directory_and_every_role_searches_it() {
    let app = spawn_app().await;
    let admin = app.admin().await.token.clone();
    let branch = app.branch("MAIN").await;
    let peer = app.account(Role::Peer, &[branch]).await;
    let security = app.account(Role::Security, &[branch]).await;

    let (pantry, etag) = json_of(
        app.post_as(
            "/v1/services",
            &admin,
            &json!({"organization_name": "Harbor Mutual Aid (invented)",
                    "name": "Harbor Food Pantry", "categories": ["food"],
                    "phone": "555-0101", "address": "12 Harbor Street\nExampleton",
                    "languages": ["en", "es"]}),
        )
        .await,
        201,
    )
    .await;
    assert_eq!(pantry["status"], "active");
    assert_eq!(pantry["address"], "12 Harbor Street\nExampleton");
    assert!(pantry.get("email").is_none(), "absent fields are left out");
    let (_, _) = json_of(
        app.post_as(
            "/v1/services",
            &admin,
            &json!({"organization_name": "Maple House (invented)", "name": "Maple Shelter",
                    "categories": ["housing"], "status": "inactive"}),
        )
        .await,
        201,
    )
    .await;
    json_of(
        app.post_as(
            "/v1/services",
            &admin,
            &json!({"organization_name": "Riverside Clinic (invented)", "name": "Walk-in Clinic",
                    "categories": ["health", "mental_health"]}),
        )
        .await,
        201,
    )
    .await;

    // Only admins change it.
    assert_problem(
        app.post_as(
            "/v1/services",
            &peer.token,
            &json!({"organization_name": "X", "name": "Y", "categories": ["food"]}),
        )
        .await,
        403,
        "forbidden",
    )
    .await;

    // Every role reads and searches; active entries come first.
    let (all, _) = json_of(app.get_as("/v1/services", &security.token).await, 200).await;
    assert_eq!(all["items"].as_array().unwrap().len(), 3);
    assert_eq!(all["items"][2]["name"], "Maple Shelter", "inactive last");
    let (found, _) = json_of(
        app.get_as("/v1/services?q=harb%20pan", &peer.token).await,
        200,
    )
    .await;
    assert_eq!(names(&found), vec!["Harbor Food Pantry"]);
    let (found, _) = json_of(app.get_as("/v1/services?q=HÁRBOR", &peer.token).await, 200).await;
    assert_eq!(
        names(&found),
        vec!["Harbor Food Pantry"],
        "case and accents ignored"
    );
    let (found, _) = json_of(
        app.get_as("/v1/services?q=pantry%20maple", &peer.token)
            .await,
        200,
    )
    .await;
    assert_eq!(names(&found), Vec::<String>::new(), "every word must match");
    let (found, _) = json_of(
        app.get_as("/v1/services?category=mental_health", &peer.token)
            .await,
        200,
    )
    .await;
    assert_eq!(names(&found), vec!["Walk-in Clinic"]);
    let (found, _) = json_of(
        app.get_as("/v1/services?status=inactive", &peer.token)
            .await,
        200,
    )
    .await;
    assert_eq!(names(&found), vec!["Maple Shelter"]);
    // Paging walks every entry once.
    let (first, _) = json_of(app.get_as("/v1/services?limit=2", &peer.token).await, 200).await;
    let cursor = first["next_cursor"].as_str().unwrap();
    let (second, _) = json_of(
        app.get_as(
            &format!("/v1/services?limit=2&cursor={cursor}"),
            &peer.token,
        )
        .await,
        200,
    )
    .await;
    let walked: BTreeSet<String> = names(&first).into_iter().chain(names(&second)).collect();
    assert_eq!(walked.len(), 3);
    assert!(second.get("next_cursor").is_none());

    // Changes need the current version.
    let id = pantry["id"].as_str().unwrap();
    let (changed, _) = json_of(
        app.patch_as(
            &format!("/v1/services/{id}"),
            &admin,
            etag.as_deref().unwrap(),
            &json!({"phone": "", "status": "inactive"}),
        )
        .await,
        200,
    )
    .await;
    assert!(changed.get("phone").is_none(), "blank clears");
    assert_eq!(changed["status"], "inactive");
    let stale = assert_problem(
        app.patch_as(
            &format!("/v1/services/{id}"),
            &admin,
            etag.as_deref().unwrap(),
            &json!({"name": "Again"}),
        )
        .await,
        412,
        "stale",
    )
    .await;
    assert_eq!(stale["current"]["version"], 2);
    assert_problem(
        app.patch_as(
            &format!("/v1/services/{id}"),
            &peer.token,
            "\"2\"",
            &json!({"name": "Mine now"}),
        )
        .await,
        403,
        "forbidden",
    )
    .await;
    let (read, _) = json_of(
        app.get_as(&format!("/v1/services/{id}"), &peer.token).await,
        200,
    )
    .await;
    assert_eq!(read["name"], "Harbor Food Pantry");
    assert_problem(
        app.get_as(
            &format!("/v1/services/{}", uuid::Uuid::now_v7()),
            &peer.token,
        )
        .await,
        404,
        "not-found",
    )
    .await;
}

#[tokio::test]
async fn hsds_json_and_csv_import_twice_without_duplicates_and_report_broken_rows() {
    let app = spawn_app().await;
    let fixtures = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/hsds");
    let import = |path: String| {
        Command::new(env!("CARGO_BIN_EXE_casework"))
            .env_clear()
            .env("CASEWORK_DATABASE_URL", &app.settings.database_url)
            .env("CASEWORK_DATA_DIR", &app.settings.data_dir)
            .env("CASEWORK_SIGNING_KEY", TEST_SIGNING_KEY)
            .env("RUST_LOG", "warn")
            .args(["directory", "import", &path])
            .output()
            .unwrap()
    };
    for round in 1..=2 {
        let out = import(format!("{fixtures}/services.json"));
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            !out.status.success(),
            "a broken row makes the exit non-zero"
        );
        assert!(
            stderr.contains("services.json line 27: name: is required"),
            "{stderr}"
        );
        let stdout = String::from_utf8_lossy(&out.stdout);
        let expected = if round == 1 {
            "imported 2 new and 0 updated services; 1 rows not loaded"
        } else {
            "imported 0 new and 2 updated services; 1 rows not loaded"
        };
        assert!(stdout.contains(expected), "{stdout}");

        let out = import(format!("{fixtures}/csv"));
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains("services.csv line 5: organization name: is required"),
            "{stderr}"
        );
    }

    let peer = app.account(Role::Peer, &[]).await;
    let (list, _) = json_of(app.get_as("/v1/services", &peer.token).await, 200).await;
    let items = list["items"].as_array().unwrap();
    assert_eq!(
        items.len(),
        4,
        "no duplicates after a second import: {list}"
    );
    let hsds: BTreeSet<&str> = items
        .iter()
        .map(|s| s["hsds_id"].as_str().unwrap())
        .collect();
    assert_eq!(
        hsds,
        BTreeSet::from([
            "svc-clinic-walkin",
            "svc-harbor-pantry",
            "svc-legal-tenants",
            "svc-maple-shelter"
        ])
    );
    let by_id = |id: &str| items.iter().find(|s| s["hsds_id"] == id).unwrap().clone();
    let pantry = by_id("svc-harbor-pantry");
    assert_eq!(
        pantry["organization_name"],
        "Harbor Street Mutual Aid (invented)"
    );
    assert_eq!(pantry["phone"], "555-0101");
    assert_eq!(pantry["address"], "12 Harbor Street, Exampleton, EX 00001");
    assert_eq!(pantry["languages"], json!(["en", "es"]));
    assert_eq!(pantry["categories"], json!(["food"]));
    assert_eq!(
        by_id("svc-maple-shelter")["categories"],
        json!(["housing", "mental_health"])
    );
    let clinic = by_id("svc-clinic-walkin");
    assert_eq!(
        clinic["eligibility"],
        "Adults without insurance.\nBring any ID if you have one."
    );
    assert_eq!(clinic["languages"], json!(["en", "vi"]));
    let legal = by_id("svc-legal-tenants");
    assert_eq!(legal["status"], "inactive");
    assert_eq!(legal["categories"], json!(["benefits", "legal"]));
    assert_eq!(
        items.last().unwrap()["hsds_id"],
        "svc-legal-tenants",
        "inactive last"
    );
}

#[tokio::test]
async fn an_admin_uploads_hsds_files_through_the_api_as_the_console_imports_them() {
    let app = spawn_app().await;
    let fixtures = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/hsds");
    let admin = app.account(Role::Admin, &[]).await;
    let json_file = std::fs::read_to_string(format!("{fixtures}/services.json")).unwrap();
    let upload = json!({"files": [{"name": "services.json", "text": json_file}]});

    // Every other role is refused before anything is read, and nothing loads.
    for role in [
        Role::Peer,
        Role::SocialWorker,
        Role::Supervisor,
        Role::Staff,
        Role::Security,
        Role::Auditor,
    ] {
        let other = app.account(role, &[]).await;
        assert_problem(
            app.post_as("/v1/services/import", &other.token, &upload)
                .await,
            403,
            "forbidden",
        )
        .await;
    }

    for round in 1..=2 {
        let (report, _) = json_of(
            app.post_as("/v1/services/import", &admin.token, &upload)
                .await,
            200,
        )
        .await;
        let (created, updated) = if round == 1 { (2, 0) } else { (0, 2) };
        assert_eq!(report["created"], created, "{report}");
        assert_eq!(report["updated"], updated, "{report}");
        assert_eq!(
            report["errors"],
            json!([{"file": "services.json", "line": 27, "message": "name: is required"}])
        );
    }

    // A CSV package, file by file, as the console reads its directory.
    let files: Vec<Value> = std::fs::read_dir(format!("{fixtures}/csv"))
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            json!({"name": e.file_name().to_string_lossy(),
                   "text": std::fs::read_to_string(e.path()).unwrap()})
        })
        .collect();
    let (report, _) = json_of(
        app.post_as(
            "/v1/services/import",
            &admin.token,
            &json!({"files": files}),
        )
        .await,
        200,
    )
    .await;
    assert_eq!(
        report["errors"],
        json!([{"file": "services.csv", "line": 5, "message": "organization name: is required"}])
    );
    assert_eq!(
        (report["created"].as_u64(), report["updated"].as_u64()),
        (Some(2), Some(0)),
        "{report}"
    );

    let peer = app.account(Role::Peer, &[]).await;
    let (list, _) = json_of(app.get_as("/v1/services", &peer.token).await, 200).await;
    let hsds: BTreeSet<&str> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|s| s["hsds_id"].as_str())
        .collect();
    assert_eq!(
        hsds,
        BTreeSet::from([
            "svc-clinic-walkin",
            "svc-harbor-pantry",
            "svc-legal-tenants",
            "svc-maple-shelter"
        ])
    );

    // A package without its services, or a file that is not HSDS JSON, loads
    // nothing and says why, as a row would.
    for (bad, file, says) in [
        (
            json!({"files": [{"name": "organizations.csv", "text": "id,name\no1,Invented\n"}]}),
            "services.csv",
            "services.csv is missing",
        ),
        (
            json!({"files": [{"name": "services.json", "text": "{not json"}]}),
            "services.json",
            "services.json line 1: not HSDS JSON",
        ),
    ] {
        let (report, _) = json_of(
            app.post_as("/v1/services/import", &admin.token, &bad).await,
            200,
        )
        .await;
        assert_eq!(
            report,
            json!({"created": 0, "updated": 0, "errors": [{"file": file, "line": 0, "message": says}]})
        );
    }

    // Each entry is the admin's own create or update in the trail.
    let auditor = app.account(Role::Auditor, &[]).await;
    let (events, _) = json_of(
        app.get_as(
            &format!(
                "/v1/audit/events?actor_id={}&record_type=service&limit=100",
                admin.id
            ),
            &auditor.token,
        )
        .await,
        200,
    )
    .await;
    let actions: BTreeSet<&str> = events["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, BTreeSet::from(["create", "update"]), "{events}");
}
