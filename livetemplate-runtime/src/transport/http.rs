//! Plain HTTP at the page URL: the HTML page (E1), the JSON initial tree (E4), JSON
//! actions (E5) and no-JS form posts (E11), plus the small helpers every path shares
//! (responses, `Accept` negotiation, origin check, flash cookie).
//!
//! # Answers to bad input
//!
//! | input | answer |
//! |---|---|
//! | JSON action that does not parse | `200` `{"tree":{},"meta":{"success":false,"errors":{"_general":"malformed message: …"}}}` (a non-2xx would leave the client's form busy) |
//! | form post that does not parse (e.g. an unknown content type) | `400` |
//! | body over the message size limit | `413` |
//! | foreign `Origin` on a POST | `403` |
//! | `__navigate__` over HTTP | `400` (WebSocket only) |
//! | unknown or internal action | like a failed action: errors rendered, `success:false` (JSON) or the page re-rendered with `200` (no JS) |
//! | mount fails | `500` |
//! | mount returns a refused subscription (`SubscribeError`) | the page, with the error in `lvt.errors._general`; mount's changes are discarded |

use std::collections::BTreeMap;

use bytes::Bytes;
use http::header::{CONTENT_TYPE, LOCATION, SET_COOKIE};
use http::request::Parts;
use http::{HeaderValue, Request, StatusCode};
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Body;
use serde_json::Value;

use super::live::{error_message, update_message, Meta, Page, Shared};
use super::page::document;
use super::realtime::{is_topic_error, Link};
use super::session::{cookie, forwarded_proto, identify, AuthError, Who, FLASH_COOKIE};
use super::{full_json, parse_post_body, BoxError, Response};
use crate::context::ConnectKind;
use crate::controller::{resolve_action, ActionKind, Controller};
use crate::error::GENERAL_ERROR_KEY;

/// A response with a body and content type.
pub(crate) fn respond(
    status: StatusCode,
    content_type: &'static str,
    body: impl Into<Bytes>,
) -> Response {
    let mut r = http::Response::new(Full::new(body.into()));
    *r.status_mut() = status;
    r.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    r
}

/// A short plain-text response.
pub(crate) fn text(status: StatusCode, msg: &'static str) -> Response {
    respond(status, "text/plain; charset=utf-8", msg)
}

/// A JSON response (200).
pub(crate) fn json(body: String) -> Response {
    respond(StatusCode::OK, "application/json", body)
}

/// Add a `Set-Cookie` header (ignored if the value is not a valid header value).
pub(crate) fn add_cookie(resp: &mut Response, value: &str) {
    if let Ok(v) = HeaderValue::from_str(value) {
        resp.headers_mut().append(SET_COOKIE, v);
    }
}

/// The response for a refused authentication.
pub(crate) fn auth_response(e: AuthError) -> Response {
    match e {
        AuthError::Unauthorized { challenge } => {
            let mut r = text(StatusCode::UNAUTHORIZED, "authentication required");
            if let Some(v) = challenge.and_then(|c| HeaderValue::from_str(&c).ok()) {
                r.headers_mut().insert(http::header::WWW_AUTHENTICATE, v);
            }
            r
        }
        AuthError::Forbidden => text(StatusCode::FORBIDDEN, "forbidden"),
    }
}

/// Whether the client asks for JSON: the first media range of `Accept` that is not
/// `*/*` is `application/json` or `…+json`.
pub(crate) fn wants_json(parts: &Parts) -> bool {
    let Some(accept) = parts
        .headers
        .get(http::header::ACCEPT)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    accept
        .split(',')
        .map(|r| {
            r.split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase()
        })
        .find(|r| r != "*/*" && !r.is_empty())
        .is_some_and(|r| {
            r == "application/json" || (r.starts_with("application/") && r.ends_with("+json"))
        })
}

/// The query string as a map (the last value of a repeated name wins).
pub(crate) fn query_map(parts: &Parts) -> BTreeMap<String, String> {
    let q = parts.uri.query().unwrap_or("");
    form_urlencoded::parse(q.as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

/// Whether the request's `Origin` is acceptable: absent, in the allowed list, or
/// (without a list) the same origin as the request's host.
pub(crate) fn origin_allowed(
    parts: &Parts,
    allowed: Option<&[String]>,
    trust_forwarded: bool,
) -> bool {
    let Some(origin) = parts.headers.get(http::header::ORIGIN) else {
        return true;
    };
    let Ok(origin) = origin.to_str() else {
        return false;
    };
    if let Some(list) = allowed {
        return list
            .iter()
            .any(|a| a == "*" || a.eq_ignore_ascii_case(origin));
    }
    let host = parts
        .headers
        .get(http::header::HOST)
        .and_then(|h| h.to_str().ok())
        .or_else(|| parts.uri.authority().map(|a| a.as_str()));
    let Some(host) = host else {
        return false;
    };
    let scheme = match trust_forwarded.then(|| forwarded_proto(parts)).flatten() {
        Some(p) => p.to_ascii_lowercase(),
        None => parts
            .uri
            .scheme_str()
            .unwrap_or("http")
            .to_ascii_lowercase(),
    };
    origin.eq_ignore_ascii_case(&format!("{scheme}://{host}"))
}

/// Flash messages as the `lvt-flash` cookie value (URL-encoded `key=value&…`).
fn flash_cookie(flash: &BTreeMap<String, String>) -> String {
    let mut ser = form_urlencoded::Serializer::new(String::new());
    ser.extend_pairs(flash);
    format!(
        "{FLASH_COOKIE}={}; Path=/; Max-Age=10; HttpOnly; SameSite=Lax",
        ser.finish()
    )
}

/// The cookie that deletes `lvt-flash`.
fn flash_cookie_delete() -> String {
    format!("{FLASH_COOKIE}=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax")
}

fn read_flash(parts: &Parts) -> Option<BTreeMap<String, String>> {
    let v = cookie(parts, FLASH_COOKIE)?;
    Some(
        form_urlencoded::parse(v.as_bytes())
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect(),
    )
}

/// The redirect target for a path and query: always a path on this host (leading
/// slashes and backslashes collapsed, so `//evil.example` cannot become a
/// scheme-relative URL).
fn safe_location(path_and_query: &str) -> String {
    let rest = path_and_query.trim_start_matches(['/', '\\']);
    format!("/{rest}")
}

fn mount_failed() -> Response {
    text(
        StatusCode::INTERNAL_SERVER_ERROR,
        "Failed to initialize application state",
    )
}

fn render_failed(e: impl std::fmt::Display) -> Response {
    tracing::error!(error = %e, "render failed");
    text(StatusCode::INTERNAL_SERVER_ERROR, "render failed")
}

fn finish(mut resp: Response, who: &Who) -> Response {
    if let Some(c) = &who.set_cookie {
        add_cookie(&mut resp, c);
    }
    resp
}

/// The link of a page served over plain HTTP: no connection, so subscriptions are only
/// checked and publishes exclude nobody.
fn http_link<C: Controller>(shared: &Shared<C>, parts: Parts) -> std::sync::Arc<Link> {
    std::sync::Arc::new(Link::new(
        &shared.options.pubsub,
        shared.registry.clone(),
        shared.scope.clone(),
        std::sync::Arc::new(parts),
        None,
    ))
}

/// GET: the HTML page, or the JSON initial tree.
pub(crate) async fn get<C: Controller>(shared: &Shared<C>, parts: &Parts) -> Response {
    let opts = &shared.options;
    let who = match identify(
        parts,
        opts.authenticator.as_deref(),
        opts.trust_forwarded_headers,
    ) {
        Ok(w) => w,
        Err(e) => return auth_response(e),
    };
    let mut page = Page::new(shared, who, query_map(parts), parts.uri.path()).await;
    page.link = Some(http_link(shared, parts.clone()));
    let flash = read_flash(parts);
    if let Some(f) = &flash {
        page.flash = f.clone();
    }
    if let Err(e) = page.mount(shared, ConnectKind::InitialMount).await {
        if !is_topic_error(&e) {
            tracing::warn!(error = %e, "mount failed");
            return finish(mount_failed(), &page.who);
        }
    }
    let node = match page.render(shared) {
        Ok(n) => n,
        Err(e) => return finish(render_failed(e), &page.who),
    };
    let mut resp = if wants_json(parts) {
        let meta = Meta {
            capabilities: shared.capabilities(),
            ..page.meta(None)
        };
        json(update_message(&full_json(&node), Some(&meta)))
    } else {
        match document(shared, &page, &node) {
            Ok(html) => respond(StatusCode::OK, "text/html; charset=utf-8", html),
            Err(e) => render_failed(e),
        }
    };
    if flash.is_some() {
        add_cookie(&mut resp, &flash_cookie_delete());
    }
    finish(resp, &page.who)
}

/// POST: a JSON action (answered with a full tree) or a no-JS form post (303 or an
/// HTML re-render with errors).
pub(crate) async fn post<C: Controller, B>(shared: &Shared<C>, req: Request<B>) -> Response
where
    B: Body<Data = Bytes> + Send + 'static,
    B::Error: Into<BoxError>,
{
    let opts = &shared.options;
    let (parts, body) = req.into_parts();
    let who = match identify(
        &parts,
        opts.authenticator.as_deref(),
        opts.trust_forwarded_headers,
    ) {
        Ok(w) => w,
        Err(e) => return auth_response(e),
    };
    if !origin_allowed(
        &parts,
        opts.allowed_origins.as_deref(),
        opts.trust_forwarded_headers,
    ) {
        return text(StatusCode::FORBIDDEN, "origin not allowed");
    }
    let body = match Limited::new(body, opts.max_message_size).collect().await {
        Ok(b) => b.to_bytes(),
        Err(e) if e.is::<http_body_util::LengthLimitError>() => {
            return finish(
                text(StatusCode::PAYLOAD_TOO_LARGE, "request body too large"),
                &who,
            )
        }
        Err(_) => {
            return finish(
                text(StatusCode::BAD_REQUEST, "failed to read the request body"),
                &who,
            )
        }
    };
    let content_type = parts
        .headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok());
    let is_json_body = content_type.is_none_or(|ct| {
        let essence = ct
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase();
        essence == "application/json" || essence.ends_with("+json")
    });
    let json_reply = wants_json(&parts) || is_json_body;
    let known = |name: &str| {
        resolve_action(C::ACTIONS, name).is_some_and(|i| C::ACTIONS[i].kind == ActionKind::Client)
    };
    let parsed = parse_post_body(content_type, &body, opts.max_message_size, &known)
        .map_err(|e| e.to_string());
    let mut msg = match parsed {
        Ok(m) => m,
        Err(e) if json_reply => {
            let reply = error_message(GENERAL_ERROR_KEY, &format!("malformed message: {e}"), None);
            return finish(json(reply), &who);
        }
        Err(e) => {
            tracing::debug!(error = %e, "malformed form post");
            return finish(text(StatusCode::BAD_REQUEST, "malformed form post"), &who);
        }
    };
    match msg.action.as_str() {
        "__navigate__" => {
            return finish(
                text(StatusCode::BAD_REQUEST, "__navigate__ is WebSocket-only"),
                &who,
            )
        }
        "__ping__" => return finish(json("{\"pong\":true}".into()), &who),
        _ => {}
    }
    let query = query_map(&parts);
    for (k, v) in &query {
        msg.data
            .entry(k.clone())
            .or_insert_with(|| Value::String(v.clone()));
    }
    let mut page = Page::new(shared, who, query, parts.uri.path()).await;
    page.link = Some(http_link(shared, parts.clone()));
    if let Err(e) = page.mount(shared, ConnectKind::Action).await {
        if !is_topic_error(&e) {
            tracing::warn!(error = %e, "mount failed");
            return finish(mount_failed(), &page.who);
        }
    }
    let action = page
        .client_action(shared, &msg.action, msg.data, msg.submitter.as_deref())
        .await;
    let node = match page.render(shared) {
        Ok(n) => n,
        Err(e) => return finish(render_failed(e), &page.who),
    };
    let resp = if json_reply {
        json(update_message(
            &full_json(&node),
            Some(&page.meta(Some(&action))),
        ))
    } else if page.errors.is_empty() {
        let mut r = text(StatusCode::SEE_OTHER, "");
        let location = safe_location(parts.uri.path_and_query().map_or("/", |pq| pq.as_str()));
        if let Ok(v) = HeaderValue::from_str(&location) {
            r.headers_mut().insert(LOCATION, v);
        }
        if !page.flash.is_empty() {
            add_cookie(&mut r, &flash_cookie(&page.flash));
        }
        r
    } else {
        match document(shared, &page, &node) {
            Ok(html) => respond(StatusCode::OK, "text/html; charset=utf-8", html),
            Err(e) => render_failed(e),
        }
    };
    finish(resp, &page.who)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(headers: &[(&str, &str)]) -> Parts {
        let mut b = http::Request::builder().uri("/p?x=1");
        for (k, v) in headers {
            b = b.header(*k, *v);
        }
        b.body(()).map(|r| r.into_parts().0).expect("request")
    }

    #[test]
    fn accept_rule() {
        assert!(wants_json(&parts(&[("accept", "application/json")])));
        assert!(wants_json(&parts(&[(
            "accept",
            "*/*, application/vnd.x+json;q=0.9"
        )])));
        assert!(!wants_json(&parts(&[(
            "accept",
            "text/html,application/json"
        )])));
        assert!(!wants_json(&parts(&[("accept", "*/*")])));
        assert!(!wants_json(&parts(&[])));
    }

    #[test]
    fn origin_rule() {
        let host = ("host", "example.com:8080");
        assert!(origin_allowed(&parts(&[host]), None, true));
        assert!(origin_allowed(
            &parts(&[host, ("origin", "http://example.com:8080")]),
            None,
            true
        ));
        assert!(!origin_allowed(
            &parts(&[host, ("origin", "http://evil.com")]),
            None,
            true
        ));
        assert!(!origin_allowed(
            &parts(&[host, ("origin", "https://example.com:8080")]),
            None,
            true
        ));
        let fwd = ("x-forwarded-proto", "https");
        assert!(origin_allowed(
            &parts(&[host, fwd, ("origin", "https://example.com:8080")]),
            None,
            true
        ));
        assert!(!origin_allowed(
            &parts(&[host, fwd, ("origin", "https://example.com:8080")]),
            None,
            false
        ));
        let list = ["http://a.test".to_string()];
        assert!(origin_allowed(
            &parts(&[host, ("origin", "http://a.test")]),
            Some(&list),
            true
        ));
        assert!(!origin_allowed(
            &parts(&[host, ("origin", "http://example.com:8080")]),
            Some(&list),
            true
        ));
    }

    #[test]
    fn redirects_stay_on_this_host() {
        assert_eq!(safe_location("/a?b=1"), "/a?b=1");
        assert_eq!(safe_location("//evil.example/x"), "/evil.example/x");
        assert_eq!(safe_location("/\\evil.example"), "/evil.example");
        assert_eq!(safe_location(""), "/");
    }

    #[test]
    fn flash_cookie_roundtrip() {
        let flash = BTreeMap::from([("ok".to_string(), "Saved; done & dusted".to_string())]);
        let set = flash_cookie(&flash);
        let value = set.split(';').next().expect("value");
        assert!(!value.contains(' '));
        let back = read_flash(&parts(&[("cookie", value)])).expect("flash");
        assert_eq!(back, flash);
    }
}
