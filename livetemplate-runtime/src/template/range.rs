//! Turning the body nodes of an `{{#each}}`'s items into the range slot, shared by the
//! output parser (every item freshly parsed) and the item cache of
//! `Template::render_cached` (items reused from an earlier render, others fresh).
//!
//! One function decides for both, so a cached render yields exactly the tree of a plain
//! render:
//!
//! 1. Items that are one node each, with the same statics, are inlined: the item statics
//!    are that node's statics with the item's leading and trailing text merged in.
//! 2. Items whose statics differ make the whole list one text slot.
//! 3. The first static ending in `data-key="` or `data-lvt-key="` whose following slot
//!    holds a unique, non-empty text in every item makes that slot the key; otherwise
//!    items are keyed by position.

use std::borrow::Cow;
use std::collections::HashSet;
use std::fmt::Write as _;
use std::sync::Arc;

use serde_json::Value;

use super::parse::StaticsCache;
use crate::tree::{
    same_statics, write_interleaved, Item, KeyHashBuilder, Node, Range, Slot, Statics,
};

/// Statics interning for one parse: the shared [`StaticsCache`] plus the statics already
/// interned by this parse (avoids locking the shared cache for every node).
pub(crate) struct Interner<'a> {
    cache: &'a StaticsCache,
    local: Vec<Option<Statics>>,
}

impl<'a> Interner<'a> {
    pub(crate) fn new(cache: &'a StaticsCache) -> Self {
        Interner {
            cache,
            local: Vec::new(),
        }
    }

    /// Statics with these pieces, shared with earlier renders when unchanged; `idx` is the
    /// cache entry (see [`StaticsCache::new`]).
    pub(crate) fn intern(&mut self, idx: usize, pieces: &[Cow<'_, str>]) -> Statics {
        let eq =
            |s: &Statics| s.len() == pieces.len() && s.iter().zip(pieces).all(|(a, b)| **a == **b);
        if let Some(Some(s)) = self.local.get(idx) {
            if eq(s) {
                return s.clone();
            }
        }
        let Some(shared) = self.cache.slot(idx) else {
            return pieces
                .iter()
                .map(|p| Box::<str>::from(p.as_ref()))
                .collect();
        };
        let mut guard = shared
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let statics = match guard.as_ref() {
            Some(s) if eq(s) => s.clone(),
            _ => {
                let s: Statics = pieces
                    .iter()
                    .map(|p| Box::<str>::from(p.as_ref()))
                    .collect();
                *guard = Some(s.clone());
                s
            }
        };
        drop(guard);
        if self.local.len() <= idx {
            self.local.resize(idx + 1, None);
        }
        self.local[idx] = Some(statics.clone());
        statics
    }

    /// Statics of an empty range.
    pub(crate) fn empty(&self) -> Statics {
        self.cache.empty.clone()
    }

    /// Whether [`Interner::text_slot`] makes `s` a node rather than a text slot.
    pub(crate) fn splits(s: &str) -> bool {
        s.len() >= 4 && s.starts_with("{{") && s.ends_with("}}")
    }

    /// A text slot; text the client would blank (`{{…}}`) is split into `{`, a slot, `}`.
    pub(crate) fn text_slot(&self, s: String) -> Slot {
        if Interner::splits(&s) {
            let inner = s[1..s.len() - 1].to_owned();
            Slot::Node(Node {
                statics: self.cache.braces.clone(),
                slots: vec![self.text_slot(inner)],
            })
        } else {
            Slot::Text(s)
        }
    }
}

/// How a range item was built from its item's body node (the same for every item of a
/// range).
#[derive(Clone, Debug)]
pub(crate) struct Form {
    /// Statics of the body node.
    outer: Statics,
    /// `Some`: the item was inlined; these are the statics of the body's single inner
    /// node, whose slots are the item's slots. `None`: the item's slots are the body's.
    inner: Option<Statics>,
}

/// The body node of one item.
pub(crate) enum Body<'a> {
    /// Parsed in this render.
    Fresh(Node),
    /// Reused: the item built from the body node, and how.
    Cached(&'a Arc<Item>, &'a Form),
}

/// The statics of the single inner node of a body `[s0, node, s1]`.
fn single_inner<'n>(outer: &Statics, slots: &'n [Slot]) -> Option<&'n Statics> {
    match slots {
        [Slot::Node(inner)] if outer.len() == 2 => Some(&inner.statics),
        _ => None,
    }
}

impl Body<'_> {
    fn outer(&self) -> &Statics {
        match self {
            Body::Fresh(n) => &n.statics,
            Body::Cached(_, f) => &f.outer,
        }
    }

    fn inner(&self) -> Option<&Statics> {
        match self {
            Body::Fresh(n) => single_inner(&n.statics, &n.slots),
            Body::Cached(item, f) => match &f.inner {
                Some(inner) => Some(inner),
                None => single_inner(&f.outer, &item.slots),
            },
        }
    }

    /// Append the HTML of the body node.
    fn write_html(&self, out: &mut String) {
        match self {
            Body::Fresh(n) => n.write_html(out),
            Body::Cached(item, f) => match &f.inner {
                Some(inner) => {
                    out.push_str(f.outer.first().map_or("", |s| s));
                    write_interleaved(inner, &item.slots, out);
                    out.push_str(f.outer.get(1).map_or("", |s| s));
                }
                None => write_interleaved(&f.outer, &item.slots, out),
            },
        }
    }

    /// The item's slots under `inline`: `Ok` an item built that way, `Err` the slots.
    fn into_slots(self, inline: bool) -> Result<Arc<Item>, Vec<Slot>> {
        match self {
            Body::Fresh(mut n) => {
                if inline {
                    match n.slots.pop() {
                        Some(Slot::Node(inner)) => Err(inner.slots),
                        _ => Err(Vec::new()),
                    }
                } else {
                    Err(n.slots)
                }
            }
            Body::Cached(item, f) => match (&f.inner, inline) {
                (Some(_), true) | (None, false) => Ok(item.clone()),
                // Built inlined, wanted whole: rebuild the body's inner node.
                (Some(inner), false) => Err(vec![Slot::Node(Node {
                    statics: inner.clone(),
                    slots: item.slots.clone(),
                })]),
                // Built whole, wanted inlined: the single inner node's slots.
                (None, true) => match item.slots.first() {
                    Some(Slot::Node(n)) => Err(n.slots.clone()),
                    _ => Err(Vec::new()),
                },
            },
        }
    }
}

/// The range (or text) made of an `{{#each}}`'s item bodies.
pub(crate) enum Assembled {
    /// A range, with the form every item was built in.
    Range(Range, Form),
    /// Items with different statics: the list's HTML as one text slot.
    Text(String),
}

impl Assembled {
    /// The slot.
    pub(crate) fn into_slot(self, interner: &Interner<'_>) -> Slot {
        match self {
            Assembled::Range(r, _) => Slot::Range(r),
            Assembled::Text(html) => interner.text_slot(html),
        }
    }
}

/// What the last assembly at a cached `{{#each}}` site made (a range), so that the next
/// one can take shortcuts when most items are the same.
#[derive(Clone, Debug)]
pub(crate) struct Last {
    statics: Statics,
    key_slot: Option<usize>,
    form: Form,
}

impl Assembled {
    /// What this assembly made, for the next assembly at the same site (`None`: text).
    pub(crate) fn last(&self) -> Option<Last> {
        match self {
            Assembled::Range(r, form) => Some(Last {
                statics: r.statics.clone(),
                key_slot: r.key_slot,
                form: form.clone(),
            }),
            Assembled::Text(_) => None,
        }
    }
}

/// Most items freshly rendered for which key slot checks take the shortcut (comparing
/// each fresh key with every other key).
const FEW_FRESH: usize = 8;

/// Whether `s` is a static after which a slot may key the range.
fn key_static(s: &str) -> bool {
    s.ends_with("data-key=\"") || s.ends_with("data-lvt-key=\"")
}

/// Build the range of `{{#each}}` body `body` from its items' body nodes.
///
/// `last`: what the last assembly at the same site made, when every `Body::Cached` here
/// is an item of that range at the same position (the item cache's case). The result is
/// the same either way; `last` only saves work.
pub(crate) fn assemble(
    interner: &mut Interner<'_>,
    body: u32,
    bodies: Vec<Body<'_>>,
    last: Option<&Last>,
) -> Assembled {
    let Some(first) = bodies.first() else {
        let empty = interner.empty();
        return Assembled::Range(
            Range {
                statics: empty.clone(),
                items: Vec::new(),
                key_slot: None,
            },
            Form {
                outer: empty,
                inner: None,
            },
        );
    };
    let outer = first.outer().clone();
    let inner = first.inner().cloned();
    let inline = inner.as_ref().is_some_and(|inner| {
        !inner.is_empty()
            && bodies.iter().all(|b| {
                same_statics(b.outer(), &outer) && b.inner().is_some_and(|s| same_statics(s, inner))
            })
    });
    let (statics, form) = match inner {
        Some(inner) if inline => {
            let statics = match last {
                Some(l)
                    if same_statics(&l.form.outer, &outer)
                        && l.form
                            .inner
                            .as_ref()
                            .is_some_and(|i| same_statics(i, &inner)) =>
                {
                    l.statics.clone()
                }
                _ => merged_statics(interner, body, &outer, &inner),
            };
            (
                statics,
                Form {
                    outer,
                    inner: Some(inner),
                },
            )
        }
        _ => {
            if !bodies.iter().all(|b| same_statics(b.outer(), &outer)) {
                tracing::debug!(
                    "each items rendered with different statics; sending the list as text"
                );
                let mut html = String::new();
                for b in &bodies {
                    b.write_html(&mut html);
                }
                return Assembled::Text(html);
            }
            (outer.clone(), Form { outer, inner: None })
        }
    };
    // The shortcut: the same item statics as the last range, whose key slot (if any) was
    // the first candidate; items reused from it keep their keys.
    let last = last.filter(|l| {
        Arc::ptr_eq(&l.statics, &statics)
            && (0..statics.len().saturating_sub(1)).find(|&i| key_static(&statics[i])) == l.key_slot
    });
    let fresh = bodies
        .iter()
        .filter(|b| matches!(b, Body::Fresh(_)))
        .count();
    if let Some(l) = last {
        let keys_hold = fresh <= FEW_FRESH
            && l.key_slot
                .is_none_or(|k| fresh_keys_unique(&bodies, k, inline));
        if keys_hold {
            // Reused items keep their key (the same slot's text, or the same position).
            let mut position = String::new();
            let items = bodies
                .into_iter()
                .enumerate()
                .map(|(idx, b)| match b.into_slots(inline) {
                    Ok(item) => item,
                    Err(slots) => Arc::new(Item {
                        key: required_key(l.key_slot, &slots, idx, &mut position).to_owned(),
                        slots,
                    }),
                })
                .collect();
            return Assembled::Range(
                Range {
                    statics,
                    items,
                    key_slot: l.key_slot,
                },
                form,
            );
        }
    }

    let slots: Vec<Result<Arc<Item>, Vec<Slot>>> =
        bodies.into_iter().map(|b| b.into_slots(inline)).collect();
    let mut seen: HashSet<&str, KeyHashBuilder> =
        HashSet::with_capacity_and_hasher(slots.len(), KeyHashBuilder::default());
    let key_slot = (0..statics.len().saturating_sub(1)).find(|&i| {
        key_static(&statics[i]) && {
            seen.clear();
            slots.iter().all(|s| match item_slots(s).get(i) {
                Some(Slot::Text(k)) => !k.is_empty() && seen.insert(k.as_str()),
                _ => false,
            })
        }
    });
    drop(seen);

    let mut position = String::new();
    let items = slots
        .into_iter()
        .enumerate()
        .map(|(idx, s)| match s {
            Ok(item) => {
                let key = required_key(key_slot, &item.slots, idx, &mut position);
                if item.key == key {
                    item
                } else {
                    let key = key.to_owned();
                    Arc::new(Item {
                        key,
                        slots: item.slots.clone(),
                    })
                }
            }
            Err(slots) => Arc::new(Item {
                key: required_key(key_slot, &slots, idx, &mut position).to_owned(),
                slots,
            }),
        })
        .collect();
    Assembled::Range(
        Range {
            statics,
            items,
            key_slot,
        },
        form,
    )
}

/// Interned item statics of inlined items: the inner node's statics with the body's
/// leading and trailing text merged in.
fn merged_statics(
    interner: &mut Interner<'_>,
    body: u32,
    outer: &Statics,
    inner: &Statics,
) -> Statics {
    let last = inner.len() - 1;
    let pieces: Vec<Cow<'_, str>> = inner
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let mut piece = String::new();
            if i == 0 {
                piece.push_str(outer.first().map_or("", |s| s));
            }
            piece.push_str(s);
            if i == last {
                piece.push_str(outer.get(1).map_or("", |s| s));
            }
            Cow::Owned(piece)
        })
        .collect();
    interner.intern(body as usize * 2 + 1, &pieces)
}

/// With the items reused from a range keyed by slot `k` (unique keys among them): whether
/// every fresh item has a non-empty text in slot `k` that no other item has.
fn fresh_keys_unique(bodies: &[Body<'_>], k: usize, inline: bool) -> bool {
    fn key<'b>(b: &'b Body<'_>, k: usize, inline: bool) -> Option<&'b str> {
        let slots = match b {
            // Built under key slot `k`: its key is that slot's text.
            Body::Cached(item, _) => return Some(item.key.as_str()),
            Body::Fresh(n) if inline => match n.slots.first() {
                Some(Slot::Node(inner)) => &inner.slots,
                _ => return None,
            },
            Body::Fresh(n) => &n.slots,
        };
        match slots.get(k) {
            Some(Slot::Text(t)) => Some(t.as_str()),
            _ => None,
        }
    }
    bodies.iter().enumerate().all(|(j, b)| {
        if matches!(b, Body::Cached(..)) {
            return true;
        }
        match key(b, k, inline) {
            Some(mine) if !mine.is_empty() => bodies
                .iter()
                .enumerate()
                .all(|(i, other)| i == j || key(other, k, inline) != Some(mine)),
            _ => false,
        }
    })
}

/// The slots of an item being assembled.
fn item_slots(s: &Result<Arc<Item>, Vec<Slot>>) -> &[Slot] {
    match s {
        Ok(item) => &item.slots,
        Err(slots) => slots,
    }
}

/// The key of the item at `idx` with these slots: its key slot's text, or its position.
fn required_key<'a>(
    key_slot: Option<usize>,
    slots: &'a [Slot],
    idx: usize,
    position: &'a mut String,
) -> &'a str {
    match key_slot {
        Some(k) => match slots.get(k) {
            Some(Slot::Text(t)) => t,
            _ => "",
        },
        None => {
            position.clear();
            let _ = write!(position, "{idx}");
            position
        }
    }
}

/// The handlebars render state an item's output can depend on (through partial
/// indentation) and that it leaves behind.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Flow {
    pub(crate) trailing_newline: bool,
    pub(crate) indent_before_write: bool,
    pub(crate) content_produced: bool,
}

/// One item kept for reuse: rendered from `value`, starting in render state `entry` and
/// ending in `exit`.
#[derive(Debug)]
pub(crate) struct CachedItem {
    pub(crate) value: Value,
    pub(crate) entry: Flow,
    pub(crate) exit: Flow,
    pub(crate) item: Arc<Item>,
    pub(crate) form: Form,
}

/// The items of one `{{#each}}` site, by position, and where they were rendered from.
#[derive(Debug, Default)]
pub(crate) struct Site {
    pub(crate) items: Vec<Option<CachedItem>>,
    /// What the last assembly here made, when `items` hold its items (`None` after text,
    /// or an error).
    pub(crate) last: Option<Last>,
    /// The context path of the list the site rendered in render number `render` (`None`:
    /// not a context path, or the site rendered several lists in that render).
    pub(crate) origin: Option<Vec<String>>,
    pub(crate) render: u64,
}

impl Site {
    pub(crate) fn cached_items(&self) -> usize {
        self.items.iter().flatten().count()
    }
}
