//! The app is served by the service: from the copy built into the binary at
//! `/`, each file at its path, with a strict Content-Security-Policy; from
//! a folder on disk with the `web_dir` setting; and it never shadows the API.

use crate::helpers::{spawn_app, spawn_app_with};

fn header(resp: &reqwest::Response, name: &str) -> String {
    resp.headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}

#[tokio::test]
async fn the_app_is_served_at_the_root_with_a_strict_policy() {
    let app = spawn_app().await;
    let resp = app.client.get(app.url("/")).send().await.unwrap();
    assert_eq!(resp.status(), 200, "{:?}", resp.headers());
    assert!(header(&resp, "content-type").starts_with("text/html"));
    let csp = header(&resp, "content-security-policy");
    for directive in [
        "default-src 'self'",
        "script-src 'self'",
        "frame-ancestors 'none'",
        "connect-src 'self'",
    ] {
        assert!(csp.contains(directive), "{csp}");
    }
    assert!(!csp.contains("unsafe-inline"), "{csp}");
    assert_eq!(header(&resp, "x-content-type-options"), "nosniff");
    let html = resp.text().await.unwrap();
    // The policy forbids inline script: the page has none.
    for tag in html.split("<script").skip(1) {
        let open = tag.split('>').next().unwrap_or_default();
        assert!(
            open.contains("src="),
            "an inline script in index.html: {open}"
        );
    }
}

#[tokio::test]
async fn every_file_of_the_app_is_served_at_its_path_and_revalidated() {
    let app = spawn_app().await;
    let files = casework::web::files("");
    assert!(files.iter().any(|f| f == "index.html"), "{files:?}");
    // What only developers use is not in the binary.
    for f in &files {
        assert!(
            !f.starts_with("node_modules/") && !f.starts_with("tests/") && f != "package.json",
            "{f} is built into the binary"
        );
    }
    for f in &files {
        let resp = app
            .client
            .get(app.url(&format!("/{f}")))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200, "{f}");
        assert!(
            header(&resp, "content-security-policy").contains("frame-ancestors 'none'"),
            "{f}"
        );
        if f.ends_with(".js") || f.ends_with(".mjs") {
            assert!(
                header(&resp, "content-type").contains("javascript"),
                "{f}: {}",
                header(&resp, "content-type")
            );
        }
        // Unchanged: 304 with no body, so a tablet fetches nothing twice.
        let etag = header(&resp, "etag");
        assert!(!etag.is_empty(), "{f}");
        let again = app
            .client
            .get(app.url(&format!("/{f}")))
            .header("if-none-match", &etag)
            .send()
            .await
            .unwrap();
        assert_eq!(again.status(), 304, "{f}");
        assert!(again.bytes().await.unwrap().is_empty(), "{f}");
    }
}

#[tokio::test]
async fn the_app_never_shadows_the_api() {
    let app = spawn_app().await;
    let health = app.client.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(health.status(), 200);
    assert!(header(&health, "content-type").starts_with("application/json"));
    // A path that is neither a file of the app nor the API's: a problem.
    let missing = app
        .client
        .get(app.url("/no-such-file.js"))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);
    assert!(header(&missing, "content-type").starts_with("application/problem+json"));
    // The API's answers carry no app policy (the docs page needs its own).
    let me = app.client.get(app.url("/v1/me")).send().await.unwrap();
    assert_eq!(me.status(), 401);
}

#[tokio::test]
async fn with_web_dir_the_app_is_read_from_disk() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("vendor")).unwrap();
    std::fs::write(
        dir.path().join("index.html"),
        "<!doctype html><title>the copy on disk</title>",
    )
    .unwrap();
    std::fs::write(dir.path().join("vendor/lib.mjs"), "export const x = 1;").unwrap();
    std::fs::create_dir_all(dir.path().join("node_modules/x")).unwrap();
    std::fs::write(dir.path().join("node_modules/x/index.js"), "secret").unwrap();
    let path = dir.path().to_string_lossy().to_string();
    let app = spawn_app_with(|s| s.web_dir = path).await;
    let page = app.client.get(app.url("/")).send().await.unwrap();
    assert_eq!(page.status(), 200);
    assert!(page.text().await.unwrap().contains("the copy on disk"));
    // A change on disk shows on the next request.
    std::fs::write(
        dir.path().join("index.html"),
        "<!doctype html><title>changed</title>",
    )
    .unwrap();
    let page = app.client.get(app.url("/")).send().await.unwrap();
    assert!(page.text().await.unwrap().contains("changed"));
    let lib = app
        .client
        .get(app.url("/vendor/lib.mjs"))
        .send()
        .await
        .unwrap();
    assert_eq!(lib.status(), 200);
    assert!(header(&lib, "content-type").contains("javascript"));
    let hidden = app
        .client
        .get(app.url("/node_modules/x/index.js"))
        .send()
        .await
        .unwrap();
    assert_eq!(hidden.status(), 404);
}

/// The service serves exactly what the service worker keeps for opening
/// offline (`web/shell-files.js`, written by `web/scripts/shell.mjs`), and
/// that list itself.
#[test]
fn the_built_in_app_is_the_service_workers_list() {
    let list = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("web/shell-files.js"),
    )
    .expect("web/shell-files.js");
    let mut listed: Vec<String> = list
        .lines()
        .filter_map(|l| l.trim().strip_prefix("\"/"))
        .filter_map(|l| l.split('"').next())
        .map(str::to_owned)
        .collect();
    listed.push("shell-files.js".to_owned());
    listed.sort();
    let mut built_in = casework::web::files("");
    built_in.sort();
    assert_eq!(built_in, listed);
    let mut on_disk = casework::web::files(&format!("{}/web", env!("CARGO_MANIFEST_DIR")));
    on_disk.sort();
    assert_eq!(on_disk, listed);
}
