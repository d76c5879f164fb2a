//! Turns instrumented output (HTML interleaved with markers) into a [`Node`], in one pass.
//!
//! Grammar (markers in capitals, see `marker.rs`):
//!
//! ```text
//! output := BEGIN(id) node
//! node   := text (slot text)* END
//! slot   := RAW_OPEN part* RAW_CLOSE            -> Slot::Text (markers inside are dropped)
//!         | BLOCK part* CLOSE                  -> "" | the branch node
//!         | EACH(body) part* CLOSE             -> Slot::Range of the body items | the else node
//!         | EACH(body) ITEMS(n) CLOSE          -> the slot the item cache assembled
//!         | PARTIAL part* PARTIAL_CLOSE        -> the partial node
//! part   := text | BEGIN(id) node | slot
//! ```
//!
//! Ranges are built by `range::assemble`.
//!
//! Anything that does not fit the expected shape becomes a coarser `Slot::Text` holding
//! the same bytes, so the HTML always equals the output with the markers removed.

use std::borrow::Cow;
use std::sync::{Arc, Mutex};

use crate::tree::{Node, Slot, Statics};

use super::error::RenderError;
use super::marker::{self, find_reserved};
use super::range::{self, Body, Interner};

/// Statics shared between renders, per sub-template id, so that an unchanged structure
/// yields the same `Arc` (and `same_statics` is a pointer comparison).
pub(crate) struct StaticsCache {
    slots: Box<[Mutex<Option<Statics>>]>,
    /// Statics of an empty range.
    pub(crate) empty: Statics,
    /// Statics of a text the client would blank, sent as a node (`{`, slot, `}`).
    pub(crate) braces: Statics,
}

impl StaticsCache {
    /// A cache for sub-template ids `0..ids`; each id has two entries: the statics of its
    /// nodes, and the statics of its range items after inlining (see
    /// `Parser::inline_single_node`).
    pub(crate) fn new(ids: u32) -> Self {
        StaticsCache {
            slots: (0..u64::from(ids) * 2).map(|_| Mutex::new(None)).collect(),
            empty: Arc::from(Vec::<Box<str>>::new()),
            braces: Arc::from(vec![Box::<str>::from("{"), Box::<str>::from("}")]),
        }
    }

    /// Entry `idx` (see [`StaticsCache::new`]).
    pub(crate) fn slot(&self, idx: usize) -> Option<&Mutex<Option<Statics>>> {
        self.slots.get(idx)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Marker {
    Begin(u32),
    End,
    RawOpen,
    RawClose,
    Block,
    Each(u32),
    Close,
    Partial,
    PartialClose,
    Items(u32),
}

enum Part<'a> {
    Text(Cow<'a, str>),
    Node(u32, Node),
    Slot(Slot),
}

/// Parse the instrumented output of one render.
pub(crate) fn parse(
    output: &str,
    cache: &StaticsCache,
    template: &str,
) -> Result<Node, RenderError> {
    let mut p = Parser {
        s: output,
        pos: 0,
        interner: Interner::new(cache),
    };
    p.root().map_err(|detail| RenderError::Markers {
        template: template.to_owned(),
        detail,
    })
}

/// Parse the output of one `{{#each}}` body rendered on its own (`BEGIN(id) … END`).
pub(crate) fn parse_fragment(output: &str, cache: &StaticsCache) -> Result<Node, String> {
    let mut p = Parser {
        s: output,
        pos: 0,
        interner: Interner::new(cache),
    };
    p.root()
}

struct Parser<'a> {
    s: &'a str,
    pos: usize,
    interner: Interner<'a>,
}

type PResult<T> = Result<T, String>;

fn code_at(bytes: &[u8], at: usize) -> char {
    char::from_u32(0xFDD0 + u32::from(bytes[at + 2] - 0x90)).unwrap_or(marker::ESC)
}

fn append<'a>(cur: &mut Cow<'a, str>, t: Cow<'a, str>) {
    if cur.is_empty() {
        *cur = t;
    } else if !t.is_empty() {
        cur.to_mut().push_str(&t);
    }
}

impl<'a> Parser<'a> {
    fn root(&mut self) -> PResult<Node> {
        let lead = self.text();
        if !lead.is_empty() {
            return Err("output does not start with the root marker".into());
        }
        let node = match self.marker()? {
            Some(Marker::Begin(id)) => self.node(id)?,
            other => return Err(format!("expected the root marker, found {other:?}")),
        };
        let rest = self.text();
        if !rest.is_empty() || self.pos < self.s.len() {
            return Err("unexpected output after the root template".into());
        }
        Ok(node)
    }

    /// Text up to the next marker (or the end), with escaped reserved characters decoded.
    fn text(&mut self) -> Cow<'a, str> {
        let bytes = self.s.as_bytes();
        let start = self.pos;
        let mut owned: Option<String> = None;
        let mut seg = start;
        loop {
            match find_reserved(bytes, self.pos) {
                None => {
                    self.pos = bytes.len();
                    break;
                }
                Some(at) if code_at(bytes, at) == marker::ESC => {
                    let o = owned.get_or_insert_with(String::new);
                    o.push_str(&self.s[seg..at]);
                    let next = at + 3;
                    let len = self.s[next..].chars().next().map_or(0, |c| {
                        o.push(c);
                        c.len_utf8()
                    });
                    self.pos = next + len;
                    seg = self.pos;
                }
                Some(at) => {
                    self.pos = at;
                    break;
                }
            }
        }
        match owned {
            Some(mut o) => {
                o.push_str(&self.s[seg..self.pos]);
                Cow::Owned(o)
            }
            None => Cow::Borrowed(&self.s[start..self.pos]),
        }
    }

    /// The marker at the current position (`None` at the end of the output).
    fn marker(&mut self) -> PResult<Option<Marker>> {
        let bytes = self.s.as_bytes();
        if self.pos >= bytes.len() {
            return Ok(None);
        }
        let kind = code_at(bytes, self.pos);
        self.pos += 3;
        let m = match kind {
            marker::BEGIN => Marker::Begin(self.id()?),
            marker::END => Marker::End,
            marker::RAW_OPEN => Marker::RawOpen,
            marker::RAW_CLOSE => Marker::RawClose,
            marker::BLOCK => Marker::Block,
            marker::EACH => Marker::Each(self.id()?),
            marker::CLOSE => Marker::Close,
            marker::PARTIAL => Marker::Partial,
            marker::PARTIAL_CLOSE => Marker::PartialClose,
            marker::ITEMS => Marker::Items(self.id()?),
            other => return Err(format!("unexpected U+{:04X} in output", other as u32)),
        };
        Ok(Some(m))
    }

    fn id(&mut self) -> PResult<u32> {
        let bytes = self.s.as_bytes();
        let mut id: u32 = 0;
        let mut digits = 0;
        while self.pos + 2 < bytes.len() && bytes[self.pos] == 0xEF && bytes[self.pos + 1] == 0xB7 {
            let c = bytes[self.pos + 2];
            if !(0xA0..=0xAF).contains(&c) {
                break;
            }
            if digits == 8 {
                return Err("marker id too long".into());
            }
            id = id * 16 + u32::from(c - 0xA0);
            digits += 1;
            self.pos += 3;
        }
        if digits == 0 {
            return Err("marker without id".into());
        }
        Ok(id)
    }

    /// A sub-template body, after its `BEGIN(id)`, up to and including its `END`.
    fn node(&mut self, id: u32) -> PResult<Node> {
        // Nesting follows partial recursion, which may be deep: grow the stack if needed.
        stacker::maybe_grow(64 * 1024, 1024 * 1024, || self.node_body(id))
    }

    fn node_body(&mut self, id: u32) -> PResult<Node> {
        let mut statics: Vec<Cow<'a, str>> = Vec::new();
        let mut slots = Vec::new();
        let mut cur = self.text();
        loop {
            let slot = match self.marker()? {
                Some(Marker::End) => break,
                Some(m @ (Marker::RawOpen | Marker::Block | Marker::Each(_) | Marker::Partial)) => {
                    self.slot(m)?
                }
                // Not produced by the instrumentation, but keeps its bytes.
                Some(Marker::Begin(inner)) => Slot::Node(self.node(inner)?),
                Some(other) => return Err(format!("unexpected {other:?} in a template body")),
                None => return Err("output ends inside a template body".into()),
            };
            statics.push(std::mem::take(&mut cur));
            slots.push(slot);
            let t = self.text();
            append(&mut cur, t);
        }
        statics.push(cur);
        let statics = self.interner.intern(id as usize * 2, &statics);
        Ok(Node { statics, slots })
    }

    /// A slot, after its opening marker, up to and including its closing marker.
    fn slot(&mut self, open: Marker) -> PResult<Slot> {
        match open {
            Marker::RawOpen => {
                let t = self.text();
                if self.peek_is(marker::RAW_CLOSE) {
                    self.pos += 3;
                    return Ok(self.text_slot(t.into_owned()));
                }
                let mut parts = Vec::new();
                if !t.is_empty() {
                    parts.push(Part::Text(t));
                }
                self.parts(Marker::RawClose, &mut parts)?;
                Ok(self.text_slot(concat(parts)))
            }
            Marker::Block => {
                let mut parts = Vec::new();
                self.parts(Marker::Close, &mut parts)?;
                Ok(self.single_node(parts))
            }
            Marker::Partial => {
                let mut parts = Vec::new();
                self.parts(Marker::PartialClose, &mut parts)?;
                Ok(self.single_node(parts))
            }
            Marker::Each(body) => {
                if self.peek_is(marker::ITEMS) {
                    // Items assembled by the item cache: the slot is ready.
                    let Some(Marker::Items(n)) = self.marker()? else {
                        return Err("expected an item list".into());
                    };
                    if !self.peek_is(marker::CLOSE) {
                        return Err("expected the end of an item list".into());
                    }
                    self.pos += 3;
                    return marker::take_slot(n as usize)
                        .ok_or_else(|| format!("unknown item list {n}"));
                }
                let mut parts = Vec::new();
                self.parts(Marker::Close, &mut parts)?;
                if parts
                    .iter()
                    .all(|p| matches!(p, Part::Node(id, _) if *id == body))
                {
                    let nodes = parts
                        .into_iter()
                        .filter_map(|p| match p {
                            Part::Node(_, n) => Some(n),
                            _ => None,
                        })
                        .collect();
                    return Ok(self.range(body, nodes));
                }
                Ok(self.single_node(parts))
            }
            other => Err(format!("{other:?} does not open a slot")),
        }
    }

    fn peek_is(&self, kind: char) -> bool {
        let bytes = self.s.as_bytes();
        self.pos + 2 < bytes.len()
            && bytes[self.pos] == 0xEF
            && bytes[self.pos + 1] == 0xB7
            && code_at(bytes, self.pos) == kind
    }

    /// Slot content up to and including `close`.
    fn parts(&mut self, close: Marker, parts: &mut Vec<Part<'a>>) -> PResult<()> {
        loop {
            let t = self.text();
            if !t.is_empty() {
                parts.push(Part::Text(t));
            }
            match self.marker()? {
                Some(m) if m == close => return Ok(()),
                Some(Marker::Begin(id)) => {
                    let n = self.node(id)?;
                    parts.push(Part::Node(id, n));
                }
                Some(m @ (Marker::RawOpen | Marker::Block | Marker::Each(_) | Marker::Partial)) => {
                    let s = self.slot(m)?;
                    parts.push(Part::Slot(s));
                }
                Some(other) => return Err(format!("unexpected {other:?} (expected {close:?})")),
                None => return Err(format!("output ends before {close:?}")),
            }
        }
    }

    /// Nothing → `""`; exactly one body → that node; anything else → its text.
    fn single_node(&self, mut parts: Vec<Part<'a>>) -> Slot {
        match parts.len() {
            0 => Slot::Text(String::new()),
            1 if matches!(parts[0], Part::Node(..)) => match parts.pop() {
                Some(Part::Node(_, n)) => Slot::Node(n),
                _ => Slot::Text(String::new()),
            },
            _ => self.text_slot(concat(parts)),
        }
    }

    fn range(&mut self, body: u32, nodes: Vec<Node>) -> Slot {
        let bodies = nodes.into_iter().map(Body::Fresh).collect();
        range::assemble(&mut self.interner, body, bodies, None).into_slot(&self.interner)
    }

    fn text_slot(&self, s: String) -> Slot {
        self.interner.text_slot(s)
    }
}

fn concat(parts: Vec<Part<'_>>) -> String {
    let mut out = String::new();
    for p in parts {
        match p {
            Part::Text(t) => out.push_str(&t),
            Part::Node(_, n) => n.write_html(&mut out),
            Part::Slot(s) => s.write_html(&mut out),
        }
    }
    out
}
