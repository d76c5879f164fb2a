//! The marker alphabet written into instrumented output, the helper that writes it, and
//! the per-thread render state it consults.
//!
//! Markers are Unicode *noncharacters* (U+FDD0..=U+FDEF): code points permanently
//! reserved for internal use, never assigned, and all three bytes long in UTF-8
//! (`EF B7 90`..=`EF B7 AF`). A marker is one kind character, optionally followed by an id
//! written with hex digit characters.
//!
//! Escaped data containing one of these code points is prefixed with [`ESC`] by the
//! escape function, so the output parser takes it literally. Unescaped output (`{{{ }}}`,
//! raw-writing helpers) containing them is not supported: the parser reports an error
//! when the marker structure breaks, and otherwise the characters are dropped.

use std::cell::Cell;

use handlebars::{
    Context, Handlebars, Helper, HelperDef, HelperResult, Output, RenderContext, RenderError,
    RenderErrorReason, Renderable,
};

/// Name under which [`MarkerHelper`] is registered (reserved for user helpers).
pub(crate) const HELPER_NAME: &str = "__livetemplate_marker";
/// Name under which [`PartialHelper`] is registered (reserved for user helpers).
pub(crate) const PARTIAL_HELPER_NAME: &str = "__livetemplate_partial";

/// Start of a sub-template body; followed by its id.
pub(crate) const BEGIN: char = '\u{FDD0}';
/// End of a sub-template body.
pub(crate) const END: char = '\u{FDD1}';
/// Start of a text slot (an expression, or a block we do not split). Everything up to
/// the matching [`RAW_CLOSE`] is rendered with markers suppressed.
pub(crate) const RAW_OPEN: char = '\u{FDD2}';
/// End of a text slot.
pub(crate) const RAW_CLOSE: char = '\u{FDD3}';
/// Start of an `if`/`unless`/`with` slot.
pub(crate) const BLOCK: char = '\u{FDD4}';
/// Start of an `each` slot; followed by the id of the each body.
pub(crate) const EACH: char = '\u{FDD5}';
/// End of a [`BLOCK`] or [`EACH`] slot.
pub(crate) const CLOSE: char = '\u{FDD6}';
/// Start of a partial slot (counts one level of partial depth).
pub(crate) const PARTIAL: char = '\u{FDD7}';
/// End of a partial slot.
pub(crate) const PARTIAL_CLOSE: char = '\u{FDD8}';
/// Escape: the next character is data, not a marker.
pub(crate) const ESC: char = '\u{FDDF}';
/// First hex digit character (`0`); digits run to U+FDEF (`f`).
pub(crate) const DIGIT0: char = '\u{FDE0}';

/// Whether `c` is one of the reserved code points.
#[inline]
pub(crate) fn is_reserved(c: char) -> bool {
    ('\u{FDD0}'..='\u{FDEF}').contains(&c)
}

/// Whether `s` contains a reserved code point (a byte scan, no char decoding).
#[inline]
pub(crate) fn contains_reserved(s: &str) -> bool {
    find_reserved(s.as_bytes(), 0).is_some()
}

/// Byte offset of the first reserved code point at or after `from`.
#[inline]
pub(crate) fn find_reserved(bytes: &[u8], from: usize) -> Option<usize> {
    let mut i = from;
    while let Some(off) = bytes[i..].iter().position(|&b| b == 0xEF) {
        let at = i + off;
        if at + 2 < bytes.len() && bytes[at + 1] == 0xB7 && (0x90..=0xAF).contains(&bytes[at + 2]) {
            return Some(at);
        }
        i = at + 1;
    }
    None
}

/// Encode a marker: `kind` followed, for kinds that carry one, by `id` in hex digits.
pub(crate) fn encode(kind: char, id: Option<u32>) -> String {
    let mut s = String::with_capacity(12);
    s.push(kind);
    if let Some(id) = id {
        let digits = format!("{id:x}");
        for d in digits.bytes() {
            let v = (d as char).to_digit(16).unwrap_or(0);
            s.push(char::from_u32(DIGIT0 as u32 + v).unwrap_or(DIGIT0));
        }
    }
    s
}

/// What the instrumented registry writes in the current render on this thread.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) enum Mode {
    /// Not rendering through a `Template` (escape function behaves like `html_escape`).
    #[default]
    Off,
    /// Write markers and escape reserved code points in data.
    Tree,
    /// Write plain HTML: markers suppressed, only partial depth is tracked.
    Plain,
}

/// Per-thread render state, reset for every render (and restored afterwards, so a
/// render started from inside a helper does not disturb the outer one).
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct State {
    pub(crate) mode: Mode,
    /// Nesting of text slots: markers are only written at level 0.
    pub(crate) silent: u32,
    /// Current partial nesting.
    pub(crate) depth: u32,
    /// Set when `depth` went past the limit.
    pub(crate) depth_exceeded: bool,
}

thread_local! {
    static STATE: Cell<State> = const { Cell::new(State { mode: Mode::Off, silent: 0, depth: 0, depth_exceeded: false }) };
}

/// Installs a fresh [`State`] for one render and restores the previous one on drop.
pub(crate) struct StateGuard {
    prev: State,
}

impl StateGuard {
    pub(crate) fn enter(mode: Mode) -> StateGuard {
        let prev = STATE.with(|s| {
            s.replace(State {
                mode,
                ..State::default()
            })
        });
        StateGuard { prev }
    }

    /// The state of the render this guard covers.
    pub(crate) fn current(&self) -> State {
        STATE.with(Cell::get)
    }
}

impl Drop for StateGuard {
    fn drop(&mut self) {
        STATE.with(|s| s.set(self.prev));
    }
}

/// The escape function of instrumented registries: handlebars' `html_escape`, plus an
/// [`ESC`] before every reserved code point when rendering a tree.
pub(crate) fn escape(data: &str) -> String {
    let escaped = handlebars::html_escape(data);
    if STATE.with(|s| s.get().mode) != Mode::Tree || !contains_reserved(&escaped) {
        return escaped;
    }
    let mut out = String::with_capacity(escaped.len() + 6);
    for c in escaped.chars() {
        if is_reserved(c) {
            out.push(ESC);
        }
        out.push(c);
    }
    out
}

/// The helper behind every marker element: `{{__livetemplate_marker "<marker>"}}`.
///
/// It writes straight to the output (not through handlebars' indentation-aware writer),
/// so it changes neither the output nor handlebars' indentation state.
pub(crate) struct MarkerHelper;

impl HelperDef for MarkerHelper {
    fn call<'reg: 'rc, 'rc>(
        &self,
        h: &Helper<'rc>,
        _: &'reg Handlebars<'reg>,
        _: &'rc Context,
        _: &mut RenderContext<'reg, 'rc>,
        out: &mut dyn Output,
    ) -> HelperResult {
        let Some(marker) = h.param(0).and_then(|p| p.value().as_str()) else {
            return Ok(());
        };
        let Some(kind) = marker.chars().next() else {
            return Ok(());
        };
        let mut st = STATE.with(Cell::get);
        let mut write = st.mode == Mode::Tree && st.silent == 0;
        match kind {
            RAW_OPEN => st.silent += 1,
            RAW_CLOSE => {
                st.silent = st.silent.saturating_sub(1);
                write = st.mode == Mode::Tree && st.silent == 0;
            }
            _ => {}
        }
        STATE.with(|s| s.set(st));
        if write {
            out.write(marker).map_err(RenderError::from)?;
        }
        Ok(())
    }
}

/// Stack left before a partial grows the stack (see [`PartialHelper`]).
const RED_ZONE: usize = 256 * 1024;
/// Size of each extra stack segment.
const STACK_SEGMENT: usize = 2 * 1024 * 1024;

/// The block helper every partial element is wrapped in:
/// `{{#__livetemplate_partial}}{{> name}}{{/__livetemplate_partial}}`.
///
/// It counts partial depth (failing once it exceeds `max_depth`), grows the stack when
/// little is left (so deep but legitimate nesting does not overflow it), and writes the
/// partial slot markers. The partial element is rendered directly, not through
/// `Template::render`, so handlebars' notion of the current template (used to refuse a
/// partial including itself) is unchanged; the surrounding helper call restores the
/// indentation state exactly as the partial element alone would.
pub(crate) struct PartialHelper {
    pub(crate) max_depth: u32,
}

impl HelperDef for PartialHelper {
    fn call<'reg: 'rc, 'rc>(
        &self,
        h: &Helper<'rc>,
        r: &'reg Handlebars<'reg>,
        ctx: &'rc Context,
        rc: &mut RenderContext<'reg, 'rc>,
        out: &mut dyn Output,
    ) -> HelperResult {
        let Some(body) = h.template() else {
            return Ok(());
        };
        let mut st = STATE.with(Cell::get);
        st.depth += 1;
        if st.depth > self.max_depth {
            st.depth_exceeded = true;
            STATE.with(|s| s.set(st));
            return Err(RenderErrorReason::Other(format!(
                "partials nested deeper than {} levels",
                self.max_depth
            ))
            .into());
        }
        STATE.with(|s| s.set(st));
        let write = st.mode == Mode::Tree && st.silent == 0;
        if write {
            out.write(PARTIAL_OPEN_STR).map_err(RenderError::from)?;
        }
        let result = stacker::maybe_grow(RED_ZONE, STACK_SEGMENT, || -> HelperResult {
            for el in &body.elements {
                el.render(r, ctx, rc, out)?;
            }
            Ok(())
        });
        STATE.with(|s| {
            let mut st = s.get();
            st.depth = st.depth.saturating_sub(1);
            s.set(st);
        });
        result?;
        if write {
            out.write(PARTIAL_CLOSE_STR).map_err(RenderError::from)?;
        }
        Ok(())
    }
}

const PARTIAL_OPEN_STR: &str = "\u{FDD7}";
const PARTIAL_CLOSE_STR: &str = "\u{FDD8}";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reserved_scan_finds_only_noncharacters() {
        assert_eq!(find_reserved("abc".as_bytes(), 0), None);
        assert_eq!(find_reserved("a\u{FDCF}b".as_bytes(), 0), None);
        assert_eq!(find_reserved("a\u{FDF0}b".as_bytes(), 0), None);
        assert_eq!(find_reserved("ab\u{FDD0}".as_bytes(), 0), Some(2));
        assert_eq!(find_reserved("é\u{FDEF}".as_bytes(), 0), Some(2));
        assert_eq!(find_reserved("\u{FDD0}x\u{FDD1}".as_bytes(), 1), Some(4));
    }

    #[test]
    fn partial_marker_strings_match_kinds() {
        assert_eq!(PARTIAL_OPEN_STR, encode(PARTIAL, None));
        assert_eq!(PARTIAL_CLOSE_STR, encode(PARTIAL_CLOSE, None));
    }

    #[test]
    fn encode_writes_hex_digits() {
        assert_eq!(encode(END, None), "\u{FDD1}");
        assert_eq!(encode(BEGIN, Some(0)), "\u{FDD0}\u{FDE0}");
        assert_eq!(encode(BEGIN, Some(0x1f)), "\u{FDD0}\u{FDE1}\u{FDEF}");
    }
}
