//! Who is asking: session groups, the `livetemplate-id` cookie, [`Authenticator`] and
//! [`BasicAuth`].
//!
//! A *session group* is the set of connections that belong together (by default: the
//! tabs of one browser, keyed by a random cookie). Authenticators can name a user and
//! choose the group themselves. This module reads request headers only; it never touches
//! connections or state.

use std::fmt;

use http::header::{AUTHORIZATION, COOKIE};
use http::request::Parts;
use rand::RngCore;

/// Name of the anonymous session-group cookie.
pub const SESSION_COOKIE: &str = "livetemplate-id";

/// Name of the cookie that carries flash messages across a no-JS redirect.
pub const FLASH_COOKIE: &str = "lvt-flash";

/// One year, the lifetime of the session cookie.
const SESSION_COOKIE_MAX_AGE: u64 = 365 * 24 * 60 * 60;

/// Who a request belongs to, as an [`Authenticator`] sees it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Identity {
    /// The authenticated user, if any (`ctx.user_id()`).
    pub user_id: Option<String>,
    /// The session group; `None` keeps the default (the browser's `livetemplate-id`
    /// cookie).
    pub group_id: Option<String>,
}

impl Identity {
    /// An anonymous visitor grouped by the default cookie.
    pub fn anonymous() -> Identity {
        Identity::default()
    }

    /// A named user; all of the user's tabs and devices form one group.
    pub fn user(user_id: impl Into<String>) -> Identity {
        let user_id = user_id.into();
        Identity {
            group_id: Some(format!("user:{user_id}")),
            user_id: Some(user_id),
        }
    }
}

/// Why a request was refused by an [`Authenticator`].
#[derive(Clone, Debug, thiserror::Error)]
pub enum AuthError {
    /// No or wrong credentials: answered with 401 and, if given, a `WWW-Authenticate`
    /// challenge.
    #[error("authentication required")]
    Unauthorized {
        /// Value of the `WWW-Authenticate` header, e.g. `Basic realm="app"`.
        challenge: Option<String>,
    },
    /// Known user without access: answered with 403.
    #[error("forbidden")]
    Forbidden,
}

/// Identifies the user and session group of a request (HTTP and WebSocket upgrade).
///
/// Runs on every request before anything else; keep it fast (no blocking I/O).
///
/// # Examples
///
/// ```
/// use livetemplate_runtime::transport::{AuthError, Authenticator, Identity};
///
/// struct HeaderUser;
/// impl Authenticator for HeaderUser {
///     fn identify(&self, req: &http::request::Parts) -> Result<Identity, AuthError> {
///         match req.headers.get("x-user").and_then(|v| v.to_str().ok()) {
///             Some(user) => Ok(Identity::user(user)),
///             None => Err(AuthError::Unauthorized { challenge: None }),
///         }
///     }
/// }
/// ```
pub trait Authenticator: Send + Sync + 'static {
    /// Identify the request, or refuse it.
    fn identify(&self, req: &Parts) -> Result<Identity, AuthError>;
}

/// A credential check: `(user, password) -> accepted`.
type CredentialCheck = Box<dyn Fn(&str, &str) -> bool + Send + Sync>;

/// HTTP Basic authentication with a credential check; the group is the user name.
pub struct BasicAuth {
    realm: String,
    check: CredentialCheck,
}

impl BasicAuth {
    /// Accept the credentials for which `check(user, password)` returns true.
    pub fn new(
        realm: impl Into<String>,
        check: impl Fn(&str, &str) -> bool + Send + Sync + 'static,
    ) -> BasicAuth {
        BasicAuth {
            realm: realm.into(),
            check: Box::new(check),
        }
    }

    fn challenge(&self) -> AuthError {
        let realm = self.realm.replace(['"', '\\'], "");
        AuthError::Unauthorized {
            challenge: Some(format!("Basic realm=\"{realm}\", charset=\"UTF-8\"")),
        }
    }
}

impl fmt::Debug for BasicAuth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BasicAuth")
            .field("realm", &self.realm)
            .finish_non_exhaustive()
    }
}

impl Authenticator for BasicAuth {
    fn identify(&self, req: &Parts) -> Result<Identity, AuthError> {
        let header = req.headers.get(AUTHORIZATION).and_then(|v| v.to_str().ok());
        let Some(encoded) = header.and_then(|h| {
            let (scheme, rest) = h.trim().split_once(' ')?;
            scheme.eq_ignore_ascii_case("basic").then_some(rest.trim())
        }) else {
            return Err(self.challenge());
        };
        let decoded = base64_decode(encoded).and_then(|b| String::from_utf8(b).ok());
        let Some((user, password)) = decoded.as_deref().and_then(|d| d.split_once(':')) else {
            return Err(self.challenge());
        };
        if (self.check)(user, password) {
            Ok(Identity::user(user))
        } else {
            Err(self.challenge())
        }
    }
}

/// Standard base64 (with or without padding); `None` on any invalid character.
fn base64_decode(s: &str) -> Option<Vec<u8>> {
    fn val(c: u8) -> Option<u32> {
        Some(match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        } as u32)
    }
    let bytes = s.trim_end_matches('=').as_bytes();
    if bytes.len() % 4 == 1 {
        return None;
    }
    let mut out = Vec::with_capacity(bytes.len() * 3 / 4);
    for chunk in bytes.chunks(4) {
        let mut acc = 0u32;
        for (i, &c) in chunk.iter().enumerate() {
            acc |= val(c)? << (18 - 6 * i);
        }
        let n = chunk.len() * 6 / 8;
        out.extend_from_slice(&acc.to_be_bytes()[1..1 + n]);
    }
    Some(out)
}

/// The value of cookie `name` in the request, if present.
pub(crate) fn cookie<'a>(parts: &'a Parts, name: &str) -> Option<&'a str> {
    parts
        .headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.trim_matches('"'))
}

/// A fresh anonymous group id: 128 random bits from the OS-seeded CSPRNG, hex encoded.
pub(crate) fn new_group_id() -> String {
    let mut bytes = [0u8; 16];
    rand::rng().fill_bytes(&mut bytes);
    hex(&bytes)
}

/// Lowercase hex of `bytes`.
pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Whether a cookie value is one of our group ids (anything else is replaced).
fn valid_group_id(v: &str) -> bool {
    (16..=128).contains(&v.len())
        && v.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// Whether the request reached us over TLS (directly, or as a trusted proxy says).
pub(crate) fn is_secure(parts: &Parts, trust_forwarded: bool) -> bool {
    if parts.uri.scheme_str() == Some("https") {
        return true;
    }
    trust_forwarded && forwarded_proto(parts).is_some_and(|p| p.eq_ignore_ascii_case("https"))
}

/// The scheme a proxy reports (`X-Forwarded-Proto`, else RFC 7239 `Forwarded: proto=`).
pub(crate) fn forwarded_proto(parts: &Parts) -> Option<&str> {
    if let Some(p) = parts
        .headers
        .get("x-forwarded-proto")
        .and_then(|v| v.to_str().ok())
    {
        return p.split(',').next().map(str::trim);
    }
    let fwd = parts
        .headers
        .get("forwarded")
        .and_then(|v| v.to_str().ok())?;
    fwd.split([';', ','])
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| k.eq_ignore_ascii_case("proto"))
        .map(|(_, v)| v.trim_matches('"'))
}

/// The resolved identity of one request.
#[derive(Clone, Debug)]
pub(crate) struct Who {
    pub(crate) user_id: Option<String>,
    pub(crate) group_id: String,
    /// `Set-Cookie` value to send when the anonymous group cookie is new.
    pub(crate) set_cookie: Option<String>,
}

/// Resolve the request's user and group: the authenticator (if any), then the
/// default cookie group.
pub(crate) fn identify(
    parts: &Parts,
    auth: Option<&dyn Authenticator>,
    trust_forwarded: bool,
) -> Result<Who, AuthError> {
    let id = match auth {
        Some(a) => a.identify(parts)?,
        None => Identity::anonymous(),
    };
    if let Some(group_id) = id.group_id {
        return Ok(Who {
            user_id: id.user_id,
            group_id,
            set_cookie: None,
        });
    }
    if let Some(existing) = cookie(parts, SESSION_COOKIE).filter(|v| valid_group_id(v)) {
        return Ok(Who {
            user_id: id.user_id,
            group_id: existing.to_string(),
            set_cookie: None,
        });
    }
    let group_id = new_group_id();
    let secure = if is_secure(parts, trust_forwarded) {
        "; Secure"
    } else {
        ""
    };
    let set_cookie = format!(
        "{SESSION_COOKIE}={group_id}; Path=/; Max-Age={SESSION_COOKIE_MAX_AGE}; HttpOnly; SameSite=Lax{secure}"
    );
    Ok(Who {
        user_id: id.user_id,
        group_id,
        set_cookie: Some(set_cookie),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(headers: &[(&str, &str)]) -> Parts {
        let mut b = http::Request::builder().uri("/");
        for (k, v) in headers {
            b = b.header(*k, *v);
        }
        b.body(()).map(|r| r.into_parts().0).expect("request")
    }

    #[test]
    fn base64_roundtrip_known_values() {
        assert_eq!(
            base64_decode("YWxhZGRpbjpvcGVuc2VzYW1l").as_deref(),
            Some(&b"aladdin:opensesame"[..])
        );
        assert_eq!(base64_decode("YQ==").as_deref(), Some(&b"a"[..]));
        assert_eq!(base64_decode("YWI").as_deref(), Some(&b"ab"[..]));
        assert_eq!(base64_decode("!!!!"), None);
        assert_eq!(base64_decode("Y"), None);
    }

    #[test]
    fn basic_auth_accepts_and_challenges() {
        let auth = BasicAuth::new("app", |u, p| u == "aladdin" && p == "opensesame");
        let ok = auth.identify(&parts(&[(
            "authorization",
            "Basic YWxhZGRpbjpvcGVuc2VzYW1l",
        )]));
        assert_eq!(ok.ok(), Some(Identity::user("aladdin")));
        for bad in [
            &[][..],
            &[("authorization", "Basic !!!")][..],
            &[("authorization", "Bearer x")][..],
        ] {
            match auth.identify(&parts(bad)) {
                Err(AuthError::Unauthorized { challenge: Some(c) }) => {
                    assert!(c.starts_with("Basic realm=\"app\""))
                }
                other => panic!("expected a challenge, got {other:?}"),
            }
        }
    }

    #[test]
    fn anonymous_group_cookie_is_created_once() {
        let first = identify(&parts(&[]), None, true).expect("identify");
        let set = first.set_cookie.expect("new cookie");
        assert_eq!(first.group_id.len(), 32);
        assert!(
            set.contains("HttpOnly") && set.contains("SameSite=Lax") && !set.contains("Secure")
        );
        let cookie_header = format!("a=b; {SESSION_COOKIE}={}", first.group_id);
        let again = identify(&parts(&[("cookie", &cookie_header)]), None, true).expect("identify");
        assert_eq!(again.group_id, first.group_id);
        assert!(again.set_cookie.is_none());
        let tls =
            identify(&parts(&[("x-forwarded-proto", "https")]), None, true).expect("identify");
        assert!(tls.set_cookie.expect("cookie").ends_with("; Secure"));
        let untrusted =
            identify(&parts(&[("x-forwarded-proto", "https")]), None, false).expect("identify");
        assert!(!untrusted.set_cookie.expect("cookie").contains("Secure"));
        let bogus = identify(
            &parts(&[("cookie", "livetemplate-id=<script>")]),
            None,
            true,
        )
        .expect("identify");
        assert_ne!(bogus.group_id, "<script>");
    }
}
