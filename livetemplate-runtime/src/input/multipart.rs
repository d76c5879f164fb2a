//! A small, bounded `multipart/form-data` reader (RFC 7578) over a body already in
//! memory.
//!
//! It borrows part bodies from the input (no copies), never reads past the input, and
//! rejects anything it cannot delimit: a missing opening or closing boundary, a part
//! whose headers do not end, a part without `Content-Disposition: form-data; name=…`.
//! Line breaks must be CRLF, as browsers send them.

use super::error::InputError;

/// Longest header block of one part accepted.
const MAX_HEADER_BLOCK: usize = 16 * 1024;

/// One part of a multipart body.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Part<'a> {
    /// The `name` parameter of `Content-Disposition`.
    pub name: String,
    /// The `filename` parameter, present (possibly empty) for file inputs.
    pub filename: Option<String>,
    /// The part's `Content-Type` header, if any.
    pub content_type: Option<String>,
    /// The part's content.
    pub body: &'a [u8],
}

impl Part<'_> {
    /// Whether the part is a file (it has a `filename` parameter).
    pub fn is_file(&self) -> bool {
        self.filename.is_some()
    }

    /// The content as text (invalid UTF-8 replaced by U+FFFD).
    pub fn text(&self) -> String {
        String::from_utf8_lossy(self.body).into_owned()
    }
}

/// The `boundary` parameter of a `multipart/form-data` content type.
///
/// # Errors
///
/// [`InputError::MissingBoundary`] when absent, [`InputError::InvalidBoundary`] when
/// empty, longer than 70 bytes or containing a line break.
pub fn boundary(content_type: &str) -> Result<String, InputError> {
    let (_, params) = parse_header_value(content_type);
    let boundary = params
        .into_iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("boundary"))
        .map(|(_, v)| v)
        .ok_or(InputError::MissingBoundary)?;
    if boundary.is_empty() || boundary.len() > 70 || boundary.contains(['\r', '\n']) {
        return Err(InputError::InvalidBoundary);
    }
    Ok(boundary)
}

/// Split a `multipart/form-data` body into its parts.
///
/// # Errors
///
/// [`InputError::InvalidBoundary`] for an unusable boundary, [`InputError::Multipart`]
/// when the body is malformed or truncated.
pub fn parse_multipart<'a>(body: &'a [u8], boundary: &str) -> Result<Vec<Part<'a>>, InputError> {
    if boundary.is_empty() || boundary.len() > 70 {
        return Err(InputError::InvalidBoundary);
    }
    let delimiter = [b"--", boundary.as_bytes()].concat();
    let next_delimiter = [b"\r\n--", boundary.as_bytes()].concat();

    // The first delimiter opens the body or follows a preamble line.
    let mut pos = if body.starts_with(&delimiter) {
        delimiter.len()
    } else {
        find(body, &next_delimiter, 0).ok_or(InputError::Multipart("no opening boundary"))?
            + next_delimiter.len()
    };

    let mut parts = Vec::new();
    loop {
        let rest = &body[pos..];
        if rest.starts_with(b"--") {
            // Closing delimiter; whatever follows is epilogue.
            return Ok(parts);
        }
        let padding = rest
            .iter()
            .take_while(|b| matches!(b, b' ' | b'\t'))
            .count();
        if !rest[padding..].starts_with(b"\r\n") {
            return Err(if rest[padding..].is_empty() {
                InputError::Multipart("missing closing boundary")
            } else {
                InputError::Multipart("boundary line not followed by CRLF")
            });
        }
        pos += padding + 2;

        // Header block: empty, or lines ending with an empty line.
        let (header_block, content_start) = if body[pos..].starts_with(b"\r\n") {
            (&body[pos..pos], pos + 2)
        } else {
            let end = find(body, b"\r\n\r\n", pos)
                .filter(|end| end - pos <= MAX_HEADER_BLOCK)
                .ok_or(InputError::Multipart("part headers do not end"))?;
            (&body[pos..end], end + 4)
        };
        let headers = parse_part_headers(header_block)?;

        let content_end = find(body, &next_delimiter, content_start)
            .ok_or(InputError::Multipart("missing closing boundary"))?;
        parts.push(Part {
            name: headers.name,
            filename: headers.filename,
            content_type: headers.content_type,
            body: &body[content_start..content_end],
        });
        pos = content_end + next_delimiter.len();
    }
}

struct PartHeaders {
    name: String,
    filename: Option<String>,
    content_type: Option<String>,
}

fn parse_part_headers(block: &[u8]) -> Result<PartHeaders, InputError> {
    let block = String::from_utf8_lossy(block);
    let mut name = None;
    let mut filename = None;
    let mut content_type = None;
    for line in block.split("\r\n").filter(|l| !l.is_empty()) {
        let (key, value) = line
            .split_once(':')
            .ok_or(InputError::Multipart("malformed part header"))?;
        let key = key.trim();
        let value = value.trim();
        if key.eq_ignore_ascii_case("content-disposition") {
            let (kind, params) = parse_header_value(value);
            if !kind.eq_ignore_ascii_case("form-data") {
                return Err(InputError::Multipart("part disposition is not form-data"));
            }
            for (k, v) in params {
                if k.eq_ignore_ascii_case("name") {
                    name = Some(v);
                } else if k.eq_ignore_ascii_case("filename") {
                    filename = Some(v);
                }
            }
        } else if key.eq_ignore_ascii_case("content-type") {
            content_type = Some(value.to_string());
        }
    }
    let name = name.ok_or(InputError::Multipart("part has no name"))?;
    Ok(PartHeaders {
        name,
        filename,
        content_type,
    })
}

/// Split a header value `type; key=value; key="quoted value"` into its first token
/// (trimmed, case as written) and its parameters. Malformed parameters are skipped. In quoted strings
/// `\"` and `\\` are unescaped; other backslashes are kept (browsers send Windows paths
/// unescaped).
pub(crate) fn parse_header_value(value: &str) -> (String, Vec<(String, String)>) {
    let mut chars = value.chars().peekable();
    let mut first = String::new();
    while let Some(&c) = chars.peek() {
        if c == ';' {
            break;
        }
        first.push(c);
        chars.next();
    }
    let mut params = Vec::new();
    while chars.next() == Some(';') {
        let mut key = String::new();
        while let Some(&c) = chars.peek() {
            if c == '=' || c == ';' {
                break;
            }
            key.push(c);
            chars.next();
        }
        if chars.peek() != Some(&'=') {
            continue;
        }
        chars.next();
        while chars.peek().is_some_and(|c| *c == ' ' || *c == '\t') {
            chars.next();
        }
        let mut val = String::new();
        if chars.peek() == Some(&'"') {
            chars.next();
            while let Some(c) = chars.next() {
                match c {
                    '"' => break,
                    '\\' if matches!(chars.peek(), Some('"' | '\\')) => {
                        if let Some(escaped) = chars.next() {
                            val.push(escaped);
                        }
                    }
                    c => val.push(c),
                }
            }
            // Skip anything between the closing quote and the next ';'.
            while chars.peek().is_some_and(|c| *c != ';') {
                chars.next();
            }
        } else {
            while let Some(&c) = chars.peek() {
                if c == ';' {
                    break;
                }
                val.push(c);
                chars.next();
            }
            val = val.trim_end().to_string();
        }
        let key = key.trim();
        if !key.is_empty() {
            params.push((key.to_string(), val));
        }
    }
    (first.trim().to_string(), params)
}

/// Position of `needle` in `hay` at or after `from`.
fn find(hay: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    let first = *needle.first()?;
    let mut i = from;
    while i + needle.len() <= hay.len() {
        let offset = hay[i..=hay.len() - needle.len()]
            .iter()
            .position(|b| *b == first)?;
        i += offset;
        if hay[i..].starts_with(needle) {
            return Some(i);
        }
        i += 1;
    }
    None
}
