//! Who may subscribe to developer topics.
//!
//! Developer topics are denied unless the app opens them all ([`TopicPolicy::Open`]) or
//! an ACL hook admits them ([`TopicPolicy::acl`]). Self topics never reach the policy.

use std::fmt;
use std::sync::Arc;

/// What the ACL hook is asked.
#[derive(Debug)]
pub struct AclRequest<'a> {
    /// The literal subscribed string (a pattern such as `room/*`, never its matches).
    pub topic: &'a str,
    /// The authenticated user, if any.
    pub user_id: Option<&'a str>,
    /// The session group.
    pub group_id: &'a str,
    /// The request that opened the connection (the WebSocket upgrade, or the page GET/POST).
    pub request: &'a http::request::Parts,
}

type AclFn = dyn Fn(&AclRequest<'_>) -> bool + Send + Sync;

/// The subscription policy for developer topics.
#[derive(Clone, Default)]
pub enum TopicPolicy {
    /// Every developer topic is denied (the default).
    #[default]
    DenyAll,
    /// Every developer topic is allowed.
    Open,
    /// The hook decides, per subscription.
    Acl(Arc<AclFn>),
}

impl TopicPolicy {
    /// A policy deciding with `f`.
    pub fn acl(f: impl Fn(&AclRequest<'_>) -> bool + Send + Sync + 'static) -> TopicPolicy {
        TopicPolicy::Acl(Arc::new(f))
    }

    /// Whether the subscription is admitted.
    pub fn admits(&self, req: &AclRequest<'_>) -> bool {
        match self {
            TopicPolicy::DenyAll => false,
            TopicPolicy::Open => true,
            TopicPolicy::Acl(f) => f(req),
        }
    }
}

impl fmt::Debug for TopicPolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TopicPolicy::DenyAll => f.write_str("DenyAll"),
            TopicPolicy::Open => f.write_str("Open"),
            TopicPolicy::Acl(_) => f.write_str("Acl(..)"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts() -> http::request::Parts {
        http::Request::builder()
            .uri("/chat")
            .body(())
            .unwrap()
            .into_parts()
            .0
    }

    #[test]
    fn default_denies_open_admits_acl_decides() {
        let p = parts();
        let req = AclRequest {
            topic: "room/1",
            user_id: None,
            group_id: "g",
            request: &p,
        };
        assert!(!TopicPolicy::default().admits(&req));
        assert!(TopicPolicy::Open.admits(&req));
        let acl =
            TopicPolicy::acl(|r| r.topic.starts_with("room/") && r.request.uri.path() == "/chat");
        assert!(acl.admits(&req));
        let other = AclRequest {
            topic: "admin/1",
            ..req
        };
        assert!(!acl.admits(&other));
    }
}
