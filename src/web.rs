//! The app: the files of the repository's `web/` folder, built into the
//! binary (or, with the `web_dir` setting, read from that folder on each
//! request, for development). Each file is served at its own path, `/` is
//! `index.html`, and every answer carries the app's security headers: a
//! strict Content-Security-Policy (no inline script, no other origin, never
//! framed), no MIME sniffing, no referrer.

use poem::{
    Endpoint, EndpointExt, Request, Response, Route,
    endpoint::{BoxEndpoint, EmbeddedFileEndpoint, StaticFileEndpoint},
    http::{HeaderValue, Uri, header},
};

/// The app's files. What only the developers use (packages, the vendoring
/// script, the type declarations, the browser tests) is left out.
#[derive(rust_embed::RustEmbed)]
#[folder = "web/"]
#[exclude = "node_modules/*"]
#[exclude = "tests/*"]
#[exclude = "scripts/*"]
#[exclude = "types/*"]
#[exclude = "test-results/*"]
#[exclude = "playwright-report/*"]
#[exclude = "package.json"]
#[exclude = "package-lock.json"]
#[exclude = "tsconfig.json"]
#[exclude = "playwright.config.mjs"]
#[exclude = ".gitignore"]
#[exclude = ".*"]
#[exclude = "*/.*"]
pub struct App;

/// Sent with every file of the app. `connect-src 'self'`: the app talks to
/// this service only; `worker-src 'self'`: its service worker.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; \
     style-src 'self'; img-src 'self' data:; connect-src 'self'; worker-src 'self'; \
     manifest-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

/// What is left out of the app, in the built-in copy and from disk alike
/// (the same as `web/scripts/shell.mjs` leaves out of the service worker's
/// list; `tests/api/web.rs` checks that the two agree).
const EXCLUDED: &[&str] = &[
    "node_modules/",
    "tests/",
    "scripts/",
    "types/",
    "test-results/",
    "playwright-report/",
    "package.json",
    "package-lock.json",
    "tsconfig.json",
    "playwright.config.mjs",
];

/// The paths of the app's files (`index.html`, `vendor/preact.mjs`, ...):
/// those of `web_dir` when it is set, otherwise the built-in copy's.
pub fn files(web_dir: &str) -> Vec<String> {
    if web_dir.is_empty() {
        return App::iter().map(|p| p.into_owned()).collect();
    }
    let mut found = Vec::new();
    let mut pending = vec![std::path::PathBuf::from(web_dir)];
    while let Some(dir) = pending.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            let Ok(rel) = path.strip_prefix(web_dir) else {
                continue;
            };
            let rel = rel.to_string_lossy().replace('\\', "/");
            // Dotfiles (`.gitignore`, an editor's) are never served.
            let hidden = rel.split('/').any(|part| part.starts_with('.'));
            if hidden
                || EXCLUDED
                    .iter()
                    .any(|x| rel == x.trim_end_matches('/') || rel.starts_with(x))
            {
                continue;
            }
            if path.is_dir() {
                pending.push(path);
            } else {
                found.push(rel);
            }
        }
    }
    found
}

/// Adds a route for each of the app's files to `routes`: exact paths, so
/// that they never shadow an API path. `/` is `index.html` (see
/// [`index_at_root`]).
pub fn routes(mut routes: Route, web_dir: &str) -> Route {
    for path in files(web_dir) {
        routes = routes.at(format!("/{path}"), file(&path, web_dir));
    }
    routes
}

/// Answers `/` with `index.html`, at the same address (the app's start URL).
/// (A route at `/` beside the API nested at `/` is taken by the nest.)
pub fn index_at_root(ep: impl Endpoint) -> impl Endpoint {
    ep.before(|mut req: Request| async move {
        if req.uri().path() == "/" {
            let mut parts = req.uri().clone().into_parts();
            let query = req
                .uri()
                .query()
                .map(|q| format!("?{q}"))
                .unwrap_or_default();
            parts.path_and_query = format!("/index.html{query}").parse().ok();
            if let Ok(uri) = Uri::from_parts(parts) {
                *req.uri_mut() = uri;
            }
        }
        Ok(req)
    })
}

fn file(path: &str, web_dir: &str) -> BoxEndpoint<'static> {
    // Errors (304 while unchanged, 405 for another method) become answers
    // here, so that a 304 keeps its empty body.
    let ep = if web_dir.is_empty() {
        EmbeddedFileEndpoint::<App>::new(path)
            .map_to_response()
            .boxed()
    } else {
        StaticFileEndpoint::new(std::path::Path::new(web_dir).join(path))
            .map_to_response()
            .boxed()
    };
    let is_worker = path == "sw.js";
    ep.map(move |resp: Response| async move { with_headers(resp, is_worker) })
        .boxed()
}

fn with_headers(mut resp: Response, is_worker: bool) -> Response {
    let headers = resp.headers_mut();
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CONTENT_SECURITY_POLICY),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    // Always asked again (answered 304 while unchanged), so that a new
    // version reaches the service worker, which keeps the offline copy.
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    if is_worker {
        headers.insert("service-worker-allowed", HeaderValue::from_static("/"));
    }
    resp
}
