//! The HTML document around the live region: the wrapper element the client manages,
//! the client's `<script>`/`<link>` tags, and the layout (default or custom).
//!
//! # Layouts
//!
//! The live template renders only the live region. The page around it comes from the
//! default layout (doctype, `<title>`, the client tags in `<head>`, the region as the
//! body's content) or from a custom layout template, rendered with the same data as the
//! live template plus:
//!
//! | key | value |
//! |---|---|
//! | `lvt.title` | the handler's title |
//! | `lvt.head` | raw HTML: the stylesheet `<link>` and the deferred client `<script>`; render with `{{{lvt.head}}}` |
//! | `lvt.body` | raw HTML: the wrapper `<div data-lvt-id=…>` holding the live region; render with `{{{lvt.body}}}` |
//! | `lvt.client_script_url`, `lvt.client_style_url` | the client asset URLs, to write the tags yourself |
//!
//! The live region must not be placed inside another element the client would morph,
//! and scripts must stay outside the wrapper (`lvt.head` puts the client in `<head>`
//! with `defer`).

use serde_json::{Map, Value};

use super::live::{Page, RenderFailure, Shared, LVT_KEY};
use super::options::ClientAssets;
use super::session::hex;
use crate::controller::Controller;
use crate::tree::Node;

/// A new wrapper id: `lvt-` + 16 lowercase hex.
pub(crate) fn new_wrapper_id() -> String {
    let bytes: [u8; 8] = rand::random();
    format!("lvt-{}", hex(&bytes))
}

/// The wrapper element holding the live region's HTML.
pub(crate) fn wrapper_html(id: &str, loading: bool, inner: &str) -> String {
    let loading = if loading {
        " data-lvt-loading=\"true\""
    } else {
        ""
    };
    format!("<div data-lvt-id=\"{id}\"{loading}>{inner}</div>")
}

/// The client's stylesheet and deferred script tags.
pub(crate) fn head_html(assets: &ClientAssets) -> String {
    format!(
        "<link rel=\"stylesheet\" href=\"{}\">\n<script defer src=\"{}\"></script>",
        escape_html(&assets.style_url),
        escape_html(&assets.script_url)
    )
}

/// The complete HTML document for `page`, whose live region rendered to `region`.
pub(crate) fn document<C: Controller>(
    shared: &Shared<C>,
    page: &Page<C>,
    region: &Node,
) -> Result<String, RenderFailure> {
    let opts = &shared.options;
    let body = wrapper_html(
        &shared.wrapper_id,
        opts.loading_indicator,
        &region.to_html(),
    );
    let head = head_html(&opts.assets);
    let Some(layout) = &shared.layout else {
        return Ok(format!(
            "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
             <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
             <title>{}</title>\n{head}\n</head>\n<body>\n{body}\n</body>\n</html>\n",
            escape_html(&opts.title)
        ));
    };
    let mut data = page.template_data()?;
    if let Some(Value::Object(lvt)) = data.get_mut(LVT_KEY) {
        let extra: Map<String, Value> = [
            ("title", opts.title.clone()),
            ("head", head),
            ("body", body),
            ("client_script_url", opts.assets.script_url.clone()),
            ("client_style_url", opts.assets.style_url.clone()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), Value::String(v)))
        .collect();
        lvt.extend(extra);
    }
    Ok(layout.render(&Value::Object(data))?.to_html())
}

/// Escape text for HTML content and double-quoted attributes.
pub(crate) fn escape_html(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrapper_id_shape() {
        let id = new_wrapper_id();
        assert_eq!(id.len(), 20);
        assert!(
            id.starts_with("lvt-")
                && id[4..]
                    .bytes()
                    .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
        );
    }

    #[test]
    fn wrapper_and_head() {
        assert_eq!(
            wrapper_html("lvt-x", true, "<p>1</p>"),
            "<div data-lvt-id=\"lvt-x\" data-lvt-loading=\"true\"><p>1</p></div>"
        );
        assert_eq!(
            wrapper_html("lvt-x", false, ""),
            "<div data-lvt-id=\"lvt-x\"></div>"
        );
        let head = head_html(&ClientAssets::at("/c/"));
        assert_eq!(
            head,
            "<link rel=\"stylesheet\" href=\"/c/livetemplate.css\">\n<script defer src=\"/c/dist/livetemplate-client.browser.js\"></script>"
        );
    }
}
