//! Conditional reads (RFC 9110 §13.1.2): a `GET` whose `If-None-Match`
//! names the record's current `ETag` is answered `304 Not Modified` with no
//! body. The read itself runs as any read does (its access checked and
//! audited, as for a 200), and only its answer is replaced, so a 304 says
//! nothing a 200 to the same caller would not.

use poem::{
    Endpoint, IntoResponse, Request, Response,
    http::{HeaderMap, Method, StatusCode, header},
};

/// Headers a 304 keeps from the 200 it stands for (RFC 9110 §15.4.5).
const KEPT: &[header::HeaderName] = &[
    header::ETAG,
    header::CACHE_CONTROL,
    header::VARY,
    header::EXPIRES,
    header::CONTENT_LOCATION,
    header::DATE,
];

/// Whether `If-None-Match` (`*`, or a list of entity tags, weak or strong)
/// matches `current` by the weak comparison §13.1.2 prescribes: the opaque
/// tags are equal, whether or not either is marked `W/`.
pub fn none_match_hits(if_none_match: &str, current: &str) -> bool {
    let current = opaque(current.trim());
    if if_none_match.trim() == "*" {
        return true;
    }
    entity_tags(if_none_match).any(|tag| Some(tag) == current)
}

/// The opaque part (with its quotes) of one entity tag, `None` if malformed.
fn opaque(tag: &str) -> Option<&str> {
    let tag = tag.strip_prefix("W/").unwrap_or(tag);
    (tag.len() >= 2
        && tag.starts_with('"')
        && tag.ends_with('"')
        && !tag[1..tag.len() - 1].contains('"'))
    .then_some(tag)
}

/// The entity tags of a comma-separated list. A comma may sit inside the
/// quotes of a tag, so the list is split by walking the quotes.
fn entity_tags(list: &str) -> impl Iterator<Item = &str> {
    let mut tags = Vec::new();
    let mut rest = list;
    loop {
        rest = rest.trim_start_matches([' ', '\t', ',']);
        if rest.is_empty() {
            break;
        }
        let start = if rest.starts_with("W/") { 2 } else { 0 };
        if !rest[start..].starts_with('"') {
            // Not an entity tag: skip to the next comma.
            match rest.find(',') {
                Some(i) => rest = &rest[i..],
                None => break,
            }
            continue;
        }
        match rest[start + 1..].find('"') {
            Some(end) => {
                let len = start + 1 + end + 1;
                if let Some(tag) = opaque(&rest[..len]) {
                    tags.push(tag);
                }
                rest = &rest[len..];
            }
            None => break,
        }
    }
    tags.into_iter()
}

/// Answers 304 in place of a 200 whose `ETag` the request's
/// `If-None-Match` already holds.
pub async fn not_modified<E: Endpoint>(next: E, req: Request) -> poem::Result<Response> {
    let wanted = (matches!(*req.method(), Method::GET | Method::HEAD))
        .then(|| {
            req.headers()
                .get_all(header::IF_NONE_MATCH)
                .iter()
                .filter_map(|v| v.to_str().ok())
                .collect::<Vec<_>>()
                .join(",")
        })
        .filter(|v| !v.trim().is_empty());
    let resp = next.call(req).await?.into_response();
    let Some(wanted) = wanted else {
        return Ok(resp);
    };
    let hit = resp.status() == StatusCode::OK
        && resp
            .headers()
            .get(header::ETAG)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|current| none_match_hits(&wanted, current));
    if !hit {
        return Ok(resp);
    }
    let mut headers = HeaderMap::new();
    for name in KEPT {
        if let Some(v) = resp.headers().get(name) {
            headers.insert(name.clone(), v.clone());
        }
    }
    let mut answer = Response::builder()
        .status(StatusCode::NOT_MODIFIED)
        .finish();
    answer.headers_mut().extend(headers);
    // What the outer layers read off the answer (the operation's id).
    if let Some(op) = resp.data::<poem_openapi::OperationId>() {
        answer.set_data(*op);
    }
    Ok(answer)
}

#[cfg(test)]
mod tests {
    use super::none_match_hits;

    #[test]
    fn weak_comparison_and_lists() {
        assert!(none_match_hits("\"3\"", "\"3\""));
        assert!(none_match_hits("W/\"3\"", "\"3\""));
        assert!(none_match_hits("\"3\"", "W/\"3\""));
        assert!(none_match_hits("\"1\", W/\"3\"", "\"3\""));
        assert!(none_match_hits("\"a,b\", \"3\"", "\"3\""));
        assert!(none_match_hits("*", "\"9\""));
        assert!(!none_match_hits("\"4\"", "\"3\""));
        assert!(!none_match_hits("3", "\"3\""));
        assert!(!none_match_hits("\"1\", \"2\"", "\"3\""));
        assert!(!none_match_hits("w/\"3\"", "\"3\""));
        assert!(!none_match_hits("", "\"3\""));
    }
}
