//! [`InputError`]: why a message or form post could not be read.

/// Why an action message, JSON body or form post was rejected.
///
/// These are protocol errors (the request is malformed), not validation errors:
/// the transport answers them without running any action.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum InputError {
    /// The input is longer than the configured limit.
    #[error("input too large: {len} bytes (limit {max})")]
    TooLarge {
        /// Length of the input in bytes.
        len: usize,
        /// The limit in bytes.
        max: usize,
    },
    /// The input is not valid JSON.
    #[error("malformed JSON: {0}")]
    Json(#[source] serde_json::Error),
    /// The input is valid JSON but not an object.
    #[error("action message must be a JSON object")]
    NotAnObject,
    /// The message has no `action` key.
    #[error("action message has no \"action\" key")]
    MissingAction,
    /// The `action` key is not a string.
    #[error("\"action\" must be a string")]
    ActionNotString,
    /// The `data` key is present but not an object.
    #[error("\"data\" must be a JSON object")]
    DataNotObject,
    /// The `submitter` key is present but neither a string nor null.
    #[error("\"submitter\" must be a string")]
    SubmitterNotString,
    /// A JSON body is not UTF-8.
    #[error("body is not valid UTF-8")]
    NotUtf8,
    /// A form post came without a `Content-Type` header.
    #[error("form post has no Content-Type")]
    MissingContentType,
    /// The `Content-Type` is not one this parser reads.
    #[error("unsupported content type {0:?}")]
    UnsupportedContentType(String),
    /// A `multipart/form-data` content type without a `boundary` parameter.
    #[error("multipart content type has no boundary parameter")]
    MissingBoundary,
    /// The multipart boundary is empty, longer than 70 bytes or contains line breaks.
    #[error("invalid multipart boundary")]
    InvalidBoundary,
    /// The multipart body does not follow the format.
    #[error("malformed multipart body: {0}")]
    Multipart(&'static str),
}
