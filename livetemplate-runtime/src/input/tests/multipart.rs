use crate::input::multipart::{boundary, parse_multipart, Part};
use crate::input::{parse_form_post, InputError};

const B: &str = "XyZ";

fn parse(body: &str) -> Result<Vec<Part<'_>>, InputError> {
    parse_multipart(body.as_bytes(), B)
}

fn assert_malformed(body: &str, reason: &str) {
    match parse(body) {
        Err(InputError::Multipart(r)) => assert_eq!(r, reason, "{body:?}"),
        other => panic!("{body:?}: expected Multipart({reason:?}), got {other:?}"),
    }
    // The form parser reports the same error instead of panicking.
    let err = parse_form_post(
        Some("multipart/form-data; boundary=XyZ"),
        body.as_bytes(),
        1 << 20,
    )
    .unwrap_err();
    assert!(
        err.to_string().starts_with("malformed multipart body"),
        "{err}"
    );
}

#[test]
fn parses_parts_with_headers_and_binary_content() {
    let body = "--XyZ\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nhello\r\n--XyZ\r\n\
                content-disposition: form-data; name=b; filename=\"C:\\dir\\x.bin\"\r\n\
                Content-Type: application/octet-stream\r\n\r\n\r\n--Xy\r\n--XyZ--\r\n";
    let parts = parse(body).unwrap();
    assert_eq!(parts.len(), 2);
    assert_eq!(parts[0].name, "a");
    assert_eq!(parts[0].body, b"hello");
    assert!(!parts[0].is_file());
    assert_eq!(parts[1].name, "b");
    assert_eq!(parts[1].filename.as_deref(), Some("C:\\dir\\x.bin"));
    assert_eq!(
        parts[1].content_type.as_deref(),
        Some("application/octet-stream")
    );
    // Content may contain CRLF and near-miss boundaries.
    assert_eq!(parts[1].body, b"\r\n--Xy");
}

#[test]
fn preamble_epilogue_padding_and_empty_values() {
    let body = "preamble text\r\n--XyZ  \r\nContent-Disposition: form-data; name=\"e\"\r\n\r\n\r\n--XyZ--epilogue";
    let parts = parse(body).unwrap();
    assert_eq!(parts.len(), 1);
    assert_eq!(parts[0].name, "e");
    assert_eq!(parts[0].body, b"");
}

#[test]
fn no_parts() {
    assert!(parse("--XyZ--\r\n").unwrap().is_empty());
}

#[test]
fn quoted_names_with_escapes_and_semicolons() {
    let body =
        "--XyZ\r\nContent-Disposition: form-data; name=\"a;b \\\"q\\\"\"\r\n\r\nv\r\n--XyZ--";
    let parts = parse(body).unwrap();
    assert_eq!(parts[0].name, "a;b \"q\"");
}

#[test]
fn utf8_names_and_values() {
    let body = "--XyZ\r\nContent-Disposition: form-data; name=\"café\"\r\n\r\nnaïve\r\n--XyZ--";
    let parts = parse(body).unwrap();
    assert_eq!(parts[0].name, "café");
    assert_eq!(parts[0].text(), "naïve");
}

#[test]
fn malformed_bodies_are_errors() {
    assert_malformed("", "no opening boundary");
    assert_malformed("hello", "no opening boundary");
    assert_malformed("--XyZ", "missing closing boundary");
    assert_malformed(
        "--XyZ\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nvalue",
        "missing closing boundary",
    );
    assert_malformed(
        "--XyZ\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nvalue\r\n--XyZ",
        "missing closing boundary",
    );
    assert_malformed(
        "--XyZ\r\nContent-Disposition: form-data; name=\"a\"",
        "part headers do not end",
    );
    assert_malformed("--XyZjunk\r\n", "boundary line not followed by CRLF");
    assert_malformed(
        "--XyZ\r\nbad header line\r\n\r\nv\r\n--XyZ--",
        "malformed part header",
    );
    assert_malformed(
        "--XyZ\r\nContent-Type: text/plain\r\n\r\nv\r\n--XyZ--",
        "part has no name",
    );
    assert_malformed("--XyZ\r\n\r\nv\r\n--XyZ--", "part has no name");
    assert_malformed(
        "--XyZ\r\nContent-Disposition: attachment; name=\"a\"\r\n\r\nv\r\n--XyZ--",
        "part disposition is not form-data",
    );
    // LF-only line breaks are not accepted.
    assert_malformed(
        "--XyZ\nContent-Disposition: form-data; name=\"a\"\n\nv\n--XyZ--",
        "boundary line not followed by CRLF",
    );
}

#[test]
fn header_block_is_bounded() {
    let body = format!(
        "--XyZ\r\nX-Long: {}\r\n\r\nv\r\n--XyZ--",
        "a".repeat(20_000)
    );
    assert!(matches!(
        parse(&body),
        Err(InputError::Multipart("part headers do not end"))
    ));
}

#[test]
fn boundary_parameter() {
    assert_eq!(
        boundary("multipart/form-data; boundary=abc").unwrap(),
        "abc"
    );
    assert_eq!(
        boundary("multipart/form-data; charset=utf-8; BOUNDARY=\"a b:c\"").unwrap(),
        "a b:c"
    );
    assert!(matches!(
        boundary("multipart/form-data"),
        Err(InputError::MissingBoundary)
    ));
    assert!(matches!(
        boundary("multipart/form-data; boundary=\"\""),
        Err(InputError::InvalidBoundary)
    ));
    let long = format!("multipart/form-data; boundary={}", "x".repeat(71));
    assert!(matches!(boundary(&long), Err(InputError::InvalidBoundary)));
    assert!(matches!(
        parse_multipart(b"--\r\n", ""),
        Err(InputError::InvalidBoundary)
    ));
}
