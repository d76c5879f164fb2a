//! Errors of the template engine: [`TemplateError`] at build time, [`RenderError`] at
//! render time.

use std::fmt;

/// Where something is in a template source: the template (or partial) name, and the line
/// and column (1-based) when known.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Location {
    /// Name of the template or partial.
    pub template: String,
    /// 1-based line, when known.
    pub line: Option<usize>,
    /// 1-based column, when known.
    pub column: Option<usize>,
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "template `{}`", self.template)?;
        match (self.line, self.column) {
            (Some(line), Some(col)) => write!(f, ", line {line}, column {col}"),
            (Some(line), None) => write!(f, ", line {line}"),
            _ => Ok(()),
        }
    }
}

/// A template that cannot be served; reported by [`TemplateBuilder::build`](super::TemplateBuilder::build).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TemplateError {
    /// The source does not parse.
    #[error("{location}: syntax error: {message}")]
    Syntax {
        /// Where the parser stopped.
        location: Location,
        /// The parser's explanation.
        message: String,
    },
    /// `{{> name}}` names a partial that is neither registered nor defined inline.
    #[error("{location}: unknown partial `{name}` (register it with `TemplateBuilder::partial` or define it with `{{{{#*inline \"{name}\"}}}}`)")]
    UnknownPartial {
        /// Where the partial is used.
        location: Location,
        /// The partial name as written.
        name: String,
    },
    /// A helper call names a helper that is neither built in nor registered.
    #[error("{location}: unknown helper `{name}` (register it with `TemplateBuilder::helper`)")]
    UnknownHelper {
        /// Where the helper is called.
        location: Location,
        /// The helper name as written.
        name: String,
    },
    /// A decorator other than `*inline` is used.
    #[error("{location}: unknown decorator `{name}` (only `*inline` is available)")]
    UnknownDecorator {
        /// Where the decorator is used.
        location: Location,
        /// The decorator name as written.
        name: String,
    },
    /// The source contains a code point in U+FDD0..=U+FDEF (reserved for the engine).
    #[error("{location}: the template contains the reserved character U+{code:04X} (U+FDD0..=U+FDEF are used internally)")]
    ReservedCharacter {
        /// The template (line and column of the character).
        location: Location,
        /// The code point.
        code: u32,
    },
    /// A name is used twice or is reserved.
    #[error("{0}")]
    Name(String),
}

/// A render that failed; the state could not be turned into HTML.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RenderError {
    /// handlebars reported an error (missing partial at run time, a helper failing, …).
    #[error("rendering template `{template}` failed: {source}")]
    Handlebars {
        /// The root template.
        template: String,
        /// The error from handlebars (it names the template, line and column).
        #[source]
        source: Box<handlebars::RenderError>,
    },
    /// Partials nested deeper than the limit (usually a partial including itself forever).
    #[error("rendering template `{template}` failed: partials nested deeper than {max_depth} levels (does a partial include itself without end?)")]
    DepthExceeded {
        /// The root template.
        template: String,
        /// The configured limit.
        max_depth: usize,
    },
    /// The rendered output could not be split into a tree; this happens when unescaped
    /// output (`{{{ }}}` or a raw-writing helper) contains code points in U+FDD0..=U+FDEF.
    #[error("rendering template `{template}` failed: {detail} (unescaped output must not contain U+FDD0..=U+FDEF)")]
    Markers {
        /// The root template.
        template: String,
        /// What was wrong.
        detail: String,
    },
}
