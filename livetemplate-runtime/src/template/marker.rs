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

use std::cell::{Cell, RefCell};
use std::sync::Arc;

use handlebars::template::TemplateElement;
use handlebars::{
    BlockContext, Context, Handlebars, Helper, HelperDef, HelperResult, Output, RenderContext,
    RenderError, RenderErrorReason, Renderable, StringOutput,
};
use serde_json::Value;

use super::data::Changes;
use super::parse::{self, StaticsCache};
use super::range::{self, Assembled, Body, CachedItem, Flow, Interner, Site};
use crate::tree::Slot;

/// Name under which [`WrapHelper`] is registered. Template sources cannot contain it
/// (reserved characters are rejected), so it cannot clash with a user's helper call.
pub(crate) const HELPER_NAME: &str = "\u{FDD0}";

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
/// The slot of an `{{#each}}` assembled by the item cache; followed by the index of the
/// slot in [`Scratch::slots`]. Only written as `EACH(id) ITEMS(n) CLOSE`.
pub(crate) const ITEMS: char = '\u{FDD9}';
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

/// Item cache of one cached render (see `Template::render_cached`).
pub(crate) struct Scratch {
    /// Per `{{#each}}` body id: the items last rendered there.
    pub(crate) sites: Vec<Site>,
    /// Slots written as `ITEMS(n)` markers in this render.
    pub(crate) slots: Vec<Option<Slot>>,
    /// Where the data changed since the last render.
    pub(crate) changes: Changes,
    /// Number of this render (one more than the last).
    pub(crate) render: u64,
}

thread_local! {
    static STATE: Cell<State> = const { Cell::new(State { mode: Mode::Off, silent: 0, depth: 0, depth_exceeded: false }) };
    static SCRATCH: RefCell<Option<Scratch>> = const { RefCell::new(None) };
}

/// Installs a fresh [`State`] (and item cache) for one render and restores the previous
/// ones on drop.
pub(crate) struct StateGuard {
    prev: State,
    prev_scratch: Option<Scratch>,
}

impl StateGuard {
    pub(crate) fn enter(mode: Mode, scratch: Option<Scratch>) -> StateGuard {
        let prev = STATE.with(|s| {
            s.replace(State {
                mode,
                ..State::default()
            })
        });
        let prev_scratch = SCRATCH.with(|s| s.replace(scratch));
        StateGuard { prev, prev_scratch }
    }

    /// The state of the render this guard covers.
    pub(crate) fn current(&self) -> State {
        STATE.with(Cell::get)
    }

    /// Take back the item cache of the render this guard covers.
    pub(crate) fn take_scratch(&self) -> Option<Scratch> {
        SCRATCH.with(RefCell::take)
    }
}

impl Drop for StateGuard {
    fn drop(&mut self) {
        STATE.with(|s| s.set(self.prev));
        let prev = self.prev_scratch.take();
        SCRATCH.with(|s| *s.borrow_mut() = prev);
    }
}

/// The slot of an `ITEMS(n)` marker (taken: each slot is used once).
pub(crate) fn take_slot(n: usize) -> Option<Slot> {
    SCRATCH.with(|s| s.borrow_mut().as_mut()?.slots.get_mut(n)?.take())
}

impl Flow {
    fn of(rc: &RenderContext<'_, '_>) -> Flow {
        Flow {
            trailing_newline: rc.get_trailine_newline(),
            indent_before_write: rc.get_indent_before_write(),
            content_produced: rc.get_content_produced(),
        }
    }

    fn apply(self, rc: &mut RenderContext<'_, '_>) {
        rc.set_trailing_newline(self.trailing_newline);
        rc.set_indent_before_write(self.indent_before_write);
        rc.set_content_produced(self.content_produced);
    }
}

/// Decode the id of an encoded marker (`encode(kind, Some(id))`).
fn decode_id(open: &str) -> Option<u32> {
    let mut chars = open.chars();
    chars.next()?;
    let mut id: u32 = 0;
    for c in chars {
        id = id.checked_mul(16)? + (c as u32).checked_sub(DIGIT0 as u32)?;
    }
    Some(id)
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

/// Stack left before a partial grows the stack.
const RED_ZONE: usize = 256 * 1024;
/// Size of each extra stack segment.
const STACK_SEGMENT: usize = 2 * 1024 * 1024;

/// The block helper every instrumented construct is wrapped in.
///
/// A wrapper is a `HelperBlock` named [`HELPER_NAME`] whose template holds the wrapped
/// elements and, as its name, the opening marker (see `compile::wrap`). The helper writes
/// the opening marker, renders the wrapped elements, and writes the closing marker:
///
/// | opening | closing | also |
/// |---|---|---|
/// | `BEGIN(id)` (a whole sub-template) | `END` | |
/// | `RAW_OPEN` (an expression, an opaque block) | `RAW_CLOSE` | markers inside are suppressed |
/// | `BLOCK`, `EACH(id)` | `CLOSE` | |
/// | `PARTIAL` | `PARTIAL_CLOSE` | counts depth, grows the stack |
///
/// Markers are written straight to the output, not through handlebars'
/// indentation-aware writer. The wrapped elements are rendered one by one (not through
/// `Template::render`), so handlebars' current template name (used to refuse a partial
/// including itself) is unchanged; and handlebars' helper call around this helper
/// restores its indentation state exactly as the wrapped element alone would. Errors get
/// the line and column of the wrapped element, as `Template::render` would add them.
pub(crate) struct WrapHelper {
    pub(crate) max_depth: u32,
    /// The template's statics, for parsing items rendered outside the main output.
    pub(crate) statics: Arc<StaticsCache>,
}

impl WrapHelper {
    /// An `{{#each}}` over a non-empty array in a cached render: every item whose value,
    /// and the render state it starts in, are those of the item rendered at its position
    /// last time reuses that item (and leaves the render state that one left); the others
    /// are rendered (the body depends only on the item, see `compile::item_cacheable`)
    /// and parsed on their own. The range is assembled here, as the parser would, and
    /// written as `EACH(id) ITEMS(n) CLOSE`. `Ok(false)`: not applicable.
    ///
    /// Called inside the wrapper that carries the `{{#each}}`'s own indentation flag, so
    /// the render state seen here is the one handlebars' `each` helper would see.
    fn each_cached<'reg: 'rc, 'rc>(
        &self,
        h: &Helper<'rc>,
        body: &'rc handlebars::template::Template,
        r: &'reg Handlebars<'reg>,
        ctx: &'rc Context,
        rc: &mut RenderContext<'reg, 'rc>,
        out: &mut dyn Output,
    ) -> Result<bool, RenderError> {
        let Some(Value::Array(list)) = h.param(0).map(|p| p.value()) else {
            return Ok(false);
        };
        let open = body.name.as_deref().unwrap_or_default();
        let Some(TemplateElement::HelperBlock(each)) = body.elements.first() else {
            return Ok(false);
        };
        let (Some(item_tpl), Some(site)) = (each.template.as_ref(), decode_id(open)) else {
            return Ok(false);
        };
        let site = site as usize;
        if list.is_empty() {
            return Ok(false);
        }
        // This site's items, taken out while rendering (nested sites are other ids).
        let path = h.param(0).and_then(|p| p.context_path());
        // The change record names data paths: use it only when the list's context path
        // leads to the list in the data.
        let tracked = path.filter(|p| {
            let found = p.iter().try_fold(ctx.data(), |v, seg| match v {
                Value::Object(m) => m.get(seg.as_str()),
                Value::Array(a) => a.get(seg.parse::<usize>().ok()?),
                _ => None,
            });
            found.is_some_and(|v| {
                std::ptr::eq(v, h.param(0).map_or(std::ptr::null(), |p| p.value()))
            })
        });
        let Some((mut site_items, last, render, unchanged)) = SCRATCH.with(|s| {
            let mut s = s.borrow_mut();
            let sc = s.as_mut()?;
            let render = sc.render;
            let entry = sc.sites.get_mut(site)?;
            // Items rendered from this same list in the last render, and known unchanged
            // since, need no comparison.
            let unchanged = match (tracked, &entry.origin) {
                (Some(p), Some(o)) if entry.render + 1 == render && o == p => {
                    sc.changes.unchanged(p).map(|u| u.to_owned())
                }
                _ => None,
            };
            Some((
                std::mem::take(&mut entry.items),
                entry.last.take(),
                render,
                unchanged,
            ))
        }) else {
            return Ok(false);
        };
        site_items.truncate(list.len());
        let mut cached = site_items;

        let mut flow = Flow::of(rc);
        // Per position: `None` for an item reused, else `Some` of the render states the
        // item rendered here started and ended in (`None` when it cannot be reused).
        let mut fresh: Vec<Option<Option<(Flow, Flow)>>> = Vec::with_capacity(list.len());
        let mut bodies = Vec::with_capacity(list.len());
        let mut last_reused = false;
        for (i, item) in list.iter().enumerate() {
            match cached.get(i) {
                Some(Some(c))
                    if c.entry == flow
                        && (unchanged.as_ref().is_some_and(|u| u.get(i)) || c.value == *item) =>
                {
                    flow = c.exit;
                    bodies.push(Body::Cached(&c.item, &c.form));
                    fresh.push(None);
                    last_reused = true;
                    continue;
                }
                _ => {}
            }
            flow.apply(rc);
            let mut buf = StringOutput::new();
            let mut block = BlockContext::new();
            match path {
                // As handlebars' `each` does: the item is read through its context path.
                Some(p) => {
                    let base = block.base_path_mut();
                    base.clone_from(p);
                    base.push(i.to_string());
                }
                None => block.set_base_value(item.clone()),
            }
            rc.push_block(block);
            let result = item_tpl.render(r, ctx, rc, &mut buf);
            rc.pop_block();
            if let Err(e) = result {
                drop(bodies);
                self.put_back(site, cached, None, None);
                return Err(e);
            }
            let exit = Flow::of(rc);
            // Rendering a block body leaves its name as handlebars' current template; an
            // item whose render leaves another name cannot stand in for a render.
            let name_kept = rc.get_current_template_name() == item_tpl.name.as_ref();
            let parsed = buf
                .into_string()
                .map_err(|e| format!("invalid output: {e}"))
                .and_then(|text| parse::parse_fragment(&text, &self.statics));
            let node = match parsed {
                Ok(node) => node,
                Err(detail) => {
                    drop(bodies);
                    self.put_back(site, cached, None, None);
                    return Err(RenderErrorReason::Other(detail).into());
                }
            };
            bodies.push(Body::Fresh(node));
            fresh.push(Some(name_kept.then_some((flow, exit))));
            flow = exit;
            last_reused = false;
        }
        flow.apply(rc);
        if last_reused {
            rc.set_current_template_name(item_tpl.name.as_ref());
        }

        let mut interner = Interner::new(&self.statics);
        let assembled = range::assemble(&mut interner, site as u32, bodies, last.as_ref());
        if let Assembled::Text(_) = &assembled {
            // No items were made: the positions rendered here hold nothing reusable.
            for (c, fresh) in cached.iter_mut().zip(&fresh) {
                if fresh.is_some() {
                    *c = None;
                }
            }
        }
        if let Assembled::Range(range, form) = &assembled {
            if cached.len() < list.len() {
                cached.resize_with(list.len(), || None);
            }
            for (((c, item), value), fresh) in
                cached.iter_mut().zip(&range.items).zip(list).zip(&fresh)
            {
                match (c.as_mut(), fresh) {
                    (_, Some(Some((entry, exit)))) => {
                        *c = Some(CachedItem {
                            value: value.clone(),
                            entry: *entry,
                            exit: *exit,
                            item: item.clone(),
                            form: form.clone(),
                        });
                    }
                    (_, Some(None)) => *c = None,
                    // Reused: rebuilt only when the range's form or keys changed (an
                    // item reused as is was built in a form like this range's).
                    (Some(c), None) => {
                        if !std::sync::Arc::ptr_eq(&c.item, item) {
                            c.item = item.clone();
                            c.form = form.clone();
                        }
                    }
                    (None, None) => {}
                }
            }
        }
        let last = assembled.last();
        let slot = assembled.into_slot(&interner);
        self.put_back(site, cached, last, Some((tracked, render)));
        let n = SCRATCH.with(|s| {
            let mut s = s.borrow_mut();
            let sc = s.as_mut()?;
            sc.slots.push(Some(slot));
            Some(sc.slots.len() - 1)
        });
        let Some(n) = n else {
            return Err(RenderErrorReason::Other("item cache vanished".into()).into());
        };
        out.write(open)?;
        out.write(&encode(ITEMS, Some(n as u32)))?;
        out.write(CLOSE_STR)?;
        Ok(true)
    }

    /// Return a site's items to the cache, with what their range was made of; `rendered`:
    /// the list they were rendered from (its context path) in render number `render`
    /// (`None` after an error).
    fn put_back(
        &self,
        site: usize,
        items: Vec<Option<CachedItem>>,
        last: Option<range::Last>,
        rendered: Option<(Option<&Vec<String>>, u64)>,
    ) {
        SCRATCH.with(|s| {
            let mut s = s.borrow_mut();
            let Some(entry) = s.as_mut().and_then(|sc| sc.sites.get_mut(site)) else {
                return;
            };
            entry.items = items;
            entry.last = last;
            if let Some((path, render)) = rendered {
                if entry.render == render {
                    // A second list in one render: positions hold items of either.
                    entry.origin = None;
                } else {
                    entry.origin = path.cloned();
                    entry.render = render;
                }
            }
        });
    }

    fn enter_partial(&self) -> HelperResult {
        let mut st = STATE.with(Cell::get);
        st.depth += 1;
        if st.depth > self.max_depth {
            st.depth_exceeded = true;
        }
        STATE.with(|s| s.set(st));
        if st.depth_exceeded {
            return Err(RenderErrorReason::Other(format!(
                "partials nested deeper than {} levels",
                self.max_depth
            ))
            .into());
        }
        Ok(())
    }
}

fn render_elements<'reg: 'rc, 'rc>(
    body: &'rc handlebars::template::Template,
    r: &'reg Handlebars<'reg>,
    ctx: &'rc Context,
    rc: &mut RenderContext<'reg, 'rc>,
    out: &mut dyn Output,
) -> HelperResult {
    for (i, el) in body.elements.iter().enumerate() {
        el.render(r, ctx, rc, out).map_err(|mut e| {
            if e.line_no.is_none() {
                if let Some(m) = body.mapping.get(i) {
                    e.line_no = Some(m.0);
                    e.column_no = Some(m.1);
                }
            }
            e
        })?;
    }
    Ok(())
}

impl HelperDef for WrapHelper {
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
        let open = body.name.as_deref().unwrap_or_default();
        let kind = open.chars().next().unwrap_or(BEGIN);
        let close = match kind {
            BEGIN => END_STR,
            RAW_OPEN => RAW_CLOSE_STR,
            PARTIAL => PARTIAL_CLOSE_STR,
            _ => CLOSE_STR,
        };
        if kind == PARTIAL {
            self.enter_partial()?;
        }
        let mut st = STATE.with(Cell::get);
        let write = st.mode == Mode::Tree && st.silent == 0;
        if kind == EACH
            && write
            && !h.params().is_empty()
            && self.each_cached(h, body, r, ctx, rc, out)?
        {
            return Ok(());
        }
        if kind == RAW_OPEN {
            st.silent += 1;
            STATE.with(|s| s.set(st));
        }
        if write {
            out.write(open).map_err(RenderError::from)?;
        }
        let result = if kind == PARTIAL {
            stacker::maybe_grow(RED_ZONE, STACK_SEGMENT, || {
                render_elements(body, r, ctx, rc, out)
            })
        } else {
            render_elements(body, r, ctx, rc, out)
        };
        if kind == PARTIAL || kind == RAW_OPEN {
            STATE.with(|s| {
                let mut st = s.get();
                if kind == PARTIAL {
                    st.depth = st.depth.saturating_sub(1);
                } else {
                    st.silent = st.silent.saturating_sub(1);
                }
                s.set(st);
            });
        }
        result?;
        if write {
            out.write(close).map_err(RenderError::from)?;
        }
        Ok(())
    }
}

const END_STR: &str = "\u{FDD1}";
const RAW_CLOSE_STR: &str = "\u{FDD3}";
const CLOSE_STR: &str = "\u{FDD6}";
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
    fn closing_marker_strings_match_kinds() {
        assert_eq!(END_STR, encode(END, None));
        assert_eq!(RAW_CLOSE_STR, encode(RAW_CLOSE, None));
        assert_eq!(CLOSE_STR, encode(CLOSE, None));
        assert_eq!(PARTIAL_CLOSE_STR, encode(PARTIAL_CLOSE, None));
    }

    #[test]
    fn encode_writes_hex_digits() {
        assert_eq!(encode(END, None), "\u{FDD1}");
        assert_eq!(encode(BEGIN, Some(0)), "\u{FDD0}\u{FDE0}");
        assert_eq!(encode(BEGIN, Some(0x1f)), "\u{FDD0}\u{FDE1}\u{FDEF}");
    }
}
