//! The data of cached renders: updated in place from a `Serialize` value, with a record of
//! where it changed.
//!
//! [`update`] makes a `Value` equal to what `serde_json::to_value` returns for a value,
//! walking the existing `Value` instead of building a new one: unchanged strings, arrays
//! and objects keep their allocations, and nothing is allocated when nothing changed.
//! Scalars are produced by `serde_json`'s own value serializer (so numbers, floats, bytes,
//! chars, unit variants and its private marker structs come out exactly as in
//! `to_value`); only arrays, objects and the enum variant wrappers are walked in place.
//!
//! While walking, [`update`] records in [`Changes`] which array elements changed and which
//! values were replaced as a whole. An `{{#each}}` over an array whose elements are known
//! to be unchanged reuses its items without comparing their data.
//!
//! For the lists at the top of the data (arrays not inside arrays), [`Codes`] keeps a
//! code of each element (see the `code` module): an element that matches its code is
//! unchanged and is not walked at all.

use std::collections::HashMap;
use std::sync::OnceLock;

use serde::ser::{self, Serialize, SerializeMap as _, Serializer as _};
use serde_json::{Error, Map, Value};

use super::code;

/// Where the data changed since the changes were last taken (by a render).
///
/// Paths are the segments handlebars uses for context paths: object keys, and array
/// indices in decimal.
#[derive(Debug, Default)]
pub(crate) struct Changes {
    /// The data was changed without a record: nothing is known.
    untracked: bool,
    paths: HashMap<Vec<String>, PathLog>,
}

#[derive(Debug, Default)]
struct PathLog {
    /// The value at this path was replaced (or inserted, or removed) as a whole.
    replaced: bool,
    /// For an array updated in place: elements at and past this position are new.
    min_len: Option<usize>,
    /// For an array updated in place: elements that changed (a bit set).
    changed: Vec<u64>,
}

/// One change found by [`update`], at a path written last segment first.
enum Entry {
    Replaced,
    Array { min_len: usize, changed: Vec<usize> },
}

type Log = Vec<(Vec<String>, Entry)>;

impl Changes {
    /// Nothing is known about the data (it was changed by other means).
    pub(crate) fn forget(&mut self) {
        self.untracked = true;
        self.paths.clear();
    }

    fn record(&mut self, path: Vec<String>, entry: Entry) {
        if self.untracked {
            return;
        }
        let log = self.paths.entry(path).or_default();
        match entry {
            Entry::Replaced => log.replaced = true,
            Entry::Array { min_len, changed } => {
                log.min_len = Some(log.min_len.map_or(min_len, |m| m.min(min_len)));
                for i in changed {
                    let word = i / 64;
                    if log.changed.len() <= word {
                        log.changed.resize(word + 1, 0);
                    }
                    log.changed[word] |= 1 << (i % 64);
                }
            }
        }
    }

    /// Which elements of the array at `path` are unchanged (the same value at the same
    /// position since the changes were started); `None` when that is not known.
    pub(crate) fn unchanged(&self, path: &[String]) -> Option<Unchanged<'_>> {
        if self.untracked {
            return None;
        }
        let mut at_path = None;
        for k in 0..=path.len() {
            let Some(log) = self.paths.get(&path[..k]) else {
                continue;
            };
            if log.replaced {
                return None;
            }
            if k < path.len() {
                // An ancestor array: an element past its old length is new.
                if let (Some(min), Ok(i)) = (log.min_len, path[k].parse::<usize>()) {
                    if i >= min {
                        return None;
                    }
                }
            } else {
                at_path = Some(log);
            }
        }
        Some(match at_path {
            Some(log) => Unchanged {
                min_len: log.min_len.unwrap_or(usize::MAX),
                changed: &log.changed,
            },
            None => Unchanged {
                min_len: usize::MAX,
                changed: &[],
            },
        })
    }
}

/// The unchanged elements of one array (see [`Changes::unchanged`]).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Unchanged<'a> {
    min_len: usize,
    changed: &'a [u64],
}

impl Unchanged<'_> {
    /// An owned copy.
    pub(crate) fn to_owned(self) -> UnchangedOwned {
        UnchangedOwned {
            min_len: self.min_len,
            changed: self.changed.to_vec(),
        }
    }

    /// Whether element `i` is unchanged.
    pub(crate) fn get(&self, i: usize) -> bool {
        i < self.min_len
            && self
                .changed
                .get(i / 64)
                .is_none_or(|w| w & (1 << (i % 64)) == 0)
    }
}

/// [`Unchanged`], owned.
#[derive(Clone, Debug)]
pub(crate) struct UnchangedOwned {
    min_len: usize,
    changed: Vec<u64>,
}

impl UnchangedOwned {
    /// Whether element `i` is unchanged.
    pub(crate) fn get(&self, i: usize) -> bool {
        Unchanged {
            min_len: self.min_len,
            changed: &self.changed,
        }
        .get(i)
    }
}

/// The codes of the elements of the top-level lists (see the module documentation), by
/// path. Valid only for data written by [`update`] alone: clear them when the data is
/// changed by other means.
#[derive(Debug, Default)]
pub(crate) struct Codes {
    lists: Vec<CodedList>,
}

/// One code per element (empty: none, the element failed to encode).
type ElementCodes = Vec<Box<[u8]>>;

/// The shortest code kept: a list whose elements code shorter (scalars, short strings)
/// is not coded, as writing such elements in place costs no more than checking a code.
const MIN_CODE: usize = 24;

#[derive(Debug)]
struct CodedList {
    path: Vec<String>,
    codes: ElementCodes,
    /// During an update: the log length when the list was written (0: not written in
    /// this update). A value replaced at or above the list after that invalidates it.
    written_at: usize,
}

impl Codes {
    /// Forget every code.
    pub(crate) fn clear(&mut self) {
        self.lists.clear();
    }

    /// The codes of the list at `path` (empty when there are none), taken out.
    fn take(&mut self, path: &[String]) -> ElementCodes {
        match self.lists.iter().position(|l| l.path == path) {
            Some(i) => self.lists.swap_remove(i).codes,
            None => Vec::new(),
        }
    }

    /// Put the codes of the list at `path` back, as written when the log had `log_len`
    /// entries.
    fn put(&mut self, path: Vec<String>, codes: ElementCodes, log_len: usize) {
        self.lists.push(CodedList {
            path,
            codes,
            written_at: log_len,
        });
    }

    /// The value at `path` was replaced, as log entry `entry`: the lists at or below it
    /// that were not written after it are stale.
    fn replaced(&mut self, path: &[String], entry: usize) {
        self.lists
            .retain(|l| !(l.path.starts_with(path) && entry >= l.written_at));
    }
}

/// Make `dst` equal to `serde_json::to_value(value)`, changing only what differs, and
/// record the changes. Returns whether anything changed.
///
/// # Errors
///
/// When `to_value` fails; `dst` is then partly updated and `changes` forgets everything.
///
/// `codes` are the codes of the top-level lists' elements as the last update left them
/// (start with empty ones); they are updated too.
pub(crate) fn update<T: Serialize + ?Sized>(
    dst: &mut Value,
    value: &T,
    changes: &mut Changes,
    codes: &mut Codes,
) -> Result<bool, Error> {
    let mut log = Log::new();
    for l in &mut codes.lists {
        l.written_at = 0;
    }
    let mut keys = Keys {
        codes: std::mem::take(codes),
        ..Keys::default()
    };
    let result = write(dst, value, &mut log, &mut keys);
    *codes = keys.codes;
    if result.is_err() {
        changes.forget();
        codes.clear();
    }
    for (i, (mut path, entry)) in log.into_iter().enumerate() {
        path.reverse();
        if matches!(entry, Entry::Replaced) {
            codes.replaced(&path, i);
        }
        changes.record(path, entry);
    }
    result
}

/// Make `dst` equal to `src`, changing only what differs, and record the changes (as
/// [`update`] does, from a `Value`). Returns whether anything changed.
pub(crate) fn assign(dst: &mut Value, src: &Value, changes: &mut Changes) -> bool {
    let mut log = Log::new();
    let changed = assign_logged(dst, src, &mut log);
    for (mut path, entry) in log {
        path.reverse();
        changes.record(path, entry);
    }
    changed
}

fn assign_logged(dst: &mut Value, src: &Value, log: &mut Log) -> bool {
    match (dst, src) {
        (Value::String(d), Value::String(s)) => {
            if d == s {
                return false;
            }
            d.clone_from(s);
            true
        }
        (Value::Array(d), Value::Array(s)) => {
            let old_len = d.len();
            d.truncate(s.len());
            let mut changed = Vec::new();
            for (i, (dv, sv)) in d.iter_mut().zip(s).enumerate() {
                let mark = log.len();
                if assign_logged(dv, sv, log) {
                    changed.push(i);
                }
                if log.len() > mark {
                    prefix(log, mark, || i.to_string());
                }
            }
            let have = d.len();
            d.extend(s[have..].iter().cloned());
            let any = !changed.is_empty() || old_len != s.len();
            if any {
                log.push((
                    Vec::new(),
                    Entry::Array {
                        min_len: old_len.min(s.len()),
                        changed,
                    },
                ));
            }
            any
        }
        (Value::Object(d), Value::Object(s))
            if d.len() == s.len() && d.keys().zip(s.keys()).all(|(a, b)| a == b) =>
        {
            let mut any = false;
            for ((k, dv), sv) in d.iter_mut().zip(s.values()) {
                let mark = log.len();
                any |= assign_logged(dv, sv, log);
                if log.len() > mark {
                    prefix(log, mark, || k.clone());
                }
            }
            any
        }
        (d, s) => {
            if *d == *s {
                return false;
            }
            if is_container(d) || is_container(s) {
                log.push((Vec::new(), Entry::Replaced));
            }
            d.clone_from(s);
            true
        }
    }
}

/// Keys of the objects being updated, as stacks (nested objects push after their
/// parent's current key and pop back to it).
#[derive(Default)]
struct Keys {
    /// Map keys: text, and spans of `buf`.
    buf: String,
    spans: Vec<(usize, usize)>,
    /// Struct field names.
    names: Vec<&'static str>,
    /// What the struct written last left to do to its object's keys (see [`write`]).
    fixup: Option<Box<Fixup>>,
    /// Arrays and enum variants open around the value being written; the path to it
    /// is kept (and its arrays coded) only while there are none.
    depth: u32,
    /// The path to the value being written, while `depth` is 0.
    path: Vec<Seg>,
    /// The codes of the top-level lists.
    codes: Codes,
    /// A buffer to encode elements in.
    scratch: Vec<u8>,
}

/// A segment of [`Keys::path`].
#[derive(Clone, Copy)]
enum Seg {
    Field(&'static str),
    /// A map key: a span of [`Keys::buf`].
    Key((usize, usize)),
}

impl Keys {
    fn get(&self, span: (usize, usize)) -> &str {
        &self.buf[span.0..span.1]
    }

    /// Enter the value at `seg` (when the path is kept).
    #[inline]
    fn enter(&mut self, seg: Seg) {
        if self.depth == 0 {
            self.path.push(seg);
        }
    }

    /// Leave the value entered last.
    #[inline]
    fn leave(&mut self) {
        if self.depth == 0 {
            self.path.pop();
        }
    }

    /// The path, as handlebars segments.
    fn path_strings(&self) -> Vec<String> {
        self.path
            .iter()
            .map(|s| match *s {
                Seg::Field(f) => f.to_owned(),
                Seg::Key(span) => self.get(span).to_owned(),
            })
            .collect()
    }
}

/// Append `segment` to the paths of the log entries from `mark` on (they are below it).
fn prefix(log: &mut Log, mark: usize, segment: impl Fn() -> String) {
    for (path, _) in &mut log[mark..] {
        path.push(segment());
    }
}

fn is_container(v: &Value) -> bool {
    matches!(v, Value::Array(_) | Value::Object(_))
}

/// Whether `serde_json::Map` keeps insertion order (its `preserve_order` feature).
fn preserves_order() -> bool {
    static ORDERED: OnceLock<bool> = OnceLock::new();
    *ORDERED.get_or_init(|| {
        let mut m = Map::new();
        m.insert("b".into(), Value::Null);
        m.insert("a".into(), Value::Null);
        m.keys().next().is_some_and(|k| k == "b")
    })
}

/// The serializer writing into an existing value. `Ok(true)`: the value changed.
struct InPlace<'a> {
    dst: &'a mut Value,
    log: &'a mut Log,
    keys: &'a mut Keys,
}

impl<'a> InPlace<'a> {
    /// Take the value `serde_json` produced for a scalar (or a container, walked in place).
    fn set(self, v: Result<Value, Error>) -> Result<bool, Error> {
        let v = v?;
        if is_container(&v) {
            return v.serialize(self);
        }
        if *self.dst == v {
            return Ok(false);
        }
        if is_container(self.dst) {
            self.log.push((Vec::new(), Entry::Replaced));
        }
        *self.dst = v;
        Ok(true)
    }

    /// Make the value an array (an empty one if it was not an array).
    fn array(self) -> SeqInPlace<'a> {
        let fresh = !self.dst.is_array();
        if fresh {
            self.log.push((Vec::new(), Entry::Replaced));
            *self.dst = Value::Array(Vec::new());
        }
        let arr = match self.dst {
            Value::Array(a) => a,
            _ => unreachable!("made an array above"),
        };
        let codes = (self.keys.depth == 0).then(|| {
            let path = self.keys.path_strings();
            let mut codes = self.keys.codes.take(&path);
            if fresh {
                codes.clear();
            }
            (path, codes)
        });
        self.keys.depth += 1;
        SeqInPlace {
            old_len: arr.len(),
            arr,
            log: self.log,
            keys: self.keys,
            at: 0,
            changed: Vec::new(),
            fresh,
            codes,
            in_variant: false,
        }
    }

    /// Make the value an object (an empty one if it was not an object).
    fn object(self) -> MapInPlace<'a> {
        let fresh = !self.dst.is_object();
        if fresh {
            self.log.push((Vec::new(), Entry::Replaced));
            *self.dst = Value::Object(Map::new());
        }
        let map = match self.dst {
            Value::Object(m) => m,
            _ => unreachable!("made an object above"),
        };
        MapInPlace {
            old_len: map.len(),
            map,
            log: self.log,
            span_start: self.keys.spans.len(),
            keys: self.keys,
            pending: None,
            found: 0,
            changed: fresh,
        }
    }

    /// The value as `{variant: …}`: the inner value to write, and whether the wrapper
    /// itself changed.
    fn variant(self, variant: &'static str) -> (InPlace<'a>, bool) {
        let changed =
            !matches!(&*self.dst, Value::Object(m) if m.len() == 1 && m.contains_key(variant));
        if changed {
            if self.dst.is_array() || self.dst.is_object() {
                self.log.push((Vec::new(), Entry::Replaced));
            }
            let mut m = Map::new();
            m.insert(variant.to_owned(), Value::Null);
            *self.dst = Value::Object(m);
        }
        let inner = match self.dst {
            Value::Object(m) => m.get_mut(variant),
            _ => None,
        };
        let inner = match inner {
            Some(v) => v,
            None => unreachable!("the variant key was inserted above"),
        };
        (
            InPlace {
                dst: inner,
                log: self.log,
                keys: self.keys,
            },
            changed,
        )
    }
}

/// Below a `{variant: …}` wrapper: prefix the entries logged inside with the variant.
fn below_variant(log: &mut Log, mark: usize, variant: &'static str) {
    prefix(log, mark, || variant.to_owned());
}

macro_rules! scalars {
    ($($method:ident($ty:ty)),* $(,)?) => {
        $(
            fn $method(self, v: $ty) -> Result<bool, Error> {
                self.set(serde_json::value::Serializer.$method(v))
            }
        )*
    };
}

impl<'a> ser::Serializer for InPlace<'a> {
    type Ok = bool;
    type Error = Error;
    type SerializeSeq = SeqInPlace<'a>;
    type SerializeTuple = SeqInPlace<'a>;
    type SerializeTupleStruct = SeqInPlace<'a>;
    type SerializeTupleVariant = VariantInPlace<SeqInPlace<'a>>;
    type SerializeMap = MapInPlace<'a>;
    type SerializeStruct = StructInPlace<'a>;
    type SerializeStructVariant = VariantInPlace<FieldsInPlace<'a>>;

    scalars!(
        serialize_i128(i128),
        serialize_u128(u128),
        serialize_f32(f32),
        serialize_f64(f64),
        serialize_char(char),
        serialize_bytes(&[u8]),
    );

    fn serialize_bool(self, v: bool) -> Result<bool, Error> {
        if *self.dst == Value::Bool(v) {
            return Ok(false);
        }
        self.set(serde_json::value::Serializer.serialize_bool(v))
    }

    fn serialize_i8(self, v: i8) -> Result<bool, Error> {
        self.serialize_i64(i64::from(v))
    }

    fn serialize_i16(self, v: i16) -> Result<bool, Error> {
        self.serialize_i64(i64::from(v))
    }

    fn serialize_i32(self, v: i32) -> Result<bool, Error> {
        self.serialize_i64(i64::from(v))
    }

    fn serialize_i64(self, v: i64) -> Result<bool, Error> {
        // The same number: nothing to build (serde_json makes `v` a number as it is).
        if matches!(&*self.dst, Value::Number(n) if n.as_i64() == Some(v)) {
            return Ok(false);
        }
        self.set(serde_json::value::Serializer.serialize_i64(v))
    }

    fn serialize_u8(self, v: u8) -> Result<bool, Error> {
        self.serialize_u64(u64::from(v))
    }

    fn serialize_u16(self, v: u16) -> Result<bool, Error> {
        self.serialize_u64(u64::from(v))
    }

    fn serialize_u32(self, v: u32) -> Result<bool, Error> {
        self.serialize_u64(u64::from(v))
    }

    fn serialize_u64(self, v: u64) -> Result<bool, Error> {
        if matches!(&*self.dst, Value::Number(n) if n.as_u64() == Some(v)) {
            return Ok(false);
        }
        self.set(serde_json::value::Serializer.serialize_u64(v))
    }

    fn serialize_str(self, v: &str) -> Result<bool, Error> {
        if let Value::String(s) = self.dst {
            if s == v {
                return Ok(false);
            }
            v.clone_into(s);
            return Ok(true);
        }
        self.set(serde_json::value::Serializer.serialize_str(v))
    }

    fn serialize_none(self) -> Result<bool, Error> {
        self.set(serde_json::value::Serializer.serialize_none())
    }

    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<bool, Error> {
        value.serialize(self)
    }

    fn serialize_unit(self) -> Result<bool, Error> {
        self.set(serde_json::value::Serializer.serialize_unit())
    }

    fn serialize_unit_struct(self, name: &'static str) -> Result<bool, Error> {
        self.set(serde_json::value::Serializer.serialize_unit_struct(name))
    }

    fn serialize_unit_variant(
        self,
        name: &'static str,
        index: u32,
        variant: &'static str,
    ) -> Result<bool, Error> {
        self.set(serde_json::value::Serializer.serialize_unit_variant(name, index, variant))
    }

    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        name: &'static str,
        value: &T,
    ) -> Result<bool, Error> {
        if name.starts_with('$') {
            // serde_json's private marker types: let it build the value.
            return self.set(serde_json::value::Serializer.serialize_newtype_struct(name, value));
        }
        value.serialize(self)
    }

    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        value: &T,
    ) -> Result<bool, Error> {
        let (inner, wrapper_changed) = self.variant(variant);
        let InPlace { dst, log, keys } = inner;
        let mark = log.len();
        keys.depth += 1;
        let written = write(dst, value, log, keys);
        keys.depth -= 1;
        let changed = written?;
        below_variant(log, mark, variant);
        Ok(changed || wrapper_changed)
    }

    fn serialize_seq(self, _len: Option<usize>) -> Result<SeqInPlace<'a>, Error> {
        Ok(self.array())
    }

    fn serialize_tuple(self, _len: usize) -> Result<SeqInPlace<'a>, Error> {
        Ok(self.array())
    }

    fn serialize_tuple_struct(
        self,
        _name: &'static str,
        _len: usize,
    ) -> Result<SeqInPlace<'a>, Error> {
        Ok(self.array())
    }

    fn serialize_tuple_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        _len: usize,
    ) -> Result<VariantInPlace<SeqInPlace<'a>>, Error> {
        let (inner, changed) = self.variant(variant);
        let mark = inner.log.len();
        // No codes below a variant (see `Keys::depth`).
        inner.keys.depth += 1;
        let mut seq = inner.array();
        seq.in_variant = true;
        Ok(VariantInPlace {
            inner: seq,
            variant,
            mark,
            changed,
        })
    }

    fn serialize_map(self, _len: Option<usize>) -> Result<MapInPlace<'a>, Error> {
        Ok(self.object())
    }

    fn serialize_struct(self, name: &'static str, len: usize) -> Result<StructInPlace<'a>, Error> {
        if name.starts_with('$') {
            // serde_json's private marker types: let it build the value.
            let builder = serde_json::value::Serializer.serialize_struct(name, len)?;
            return Ok(StructInPlace::Delegated(builder, self));
        }
        Ok(StructInPlace::Object(FieldsInPlace::new(self, None)))
    }

    fn serialize_struct_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        _len: usize,
    ) -> Result<VariantInPlace<FieldsInPlace<'a>>, Error> {
        let (inner, changed) = self.variant(variant);
        let mark = inner.log.len();
        // No codes below a variant (see `Keys::depth`; `FieldsInPlace::finish` leaves).
        inner.keys.depth += 1;
        Ok(VariantInPlace {
            inner: FieldsInPlace::new(inner, Some(variant)),
            variant,
            mark,
            changed,
        })
    }
}

/// An array being written in place.
struct SeqInPlace<'a> {
    arr: &'a mut Vec<Value>,
    log: &'a mut Log,
    keys: &'a mut Keys,
    old_len: usize,
    at: usize,
    changed: Vec<usize>,
    /// The array was created by this update.
    fresh: bool,
    /// A top-level list: its path and its elements' codes.
    codes: Option<(Vec<String>, ElementCodes)>,
    /// Inside a tuple variant (which entered `Keys::depth` once more).
    in_variant: bool,
}

impl<'a> SeqInPlace<'a> {
    fn element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Error> {
        let i = self.at;
        if let Some((_, codes)) = &self.codes {
            if i < self.arr.len() && codes.get(i).is_some_and(|c| code::matches(value, c)) {
                self.at += 1;
                return Ok(());
            }
        }
        self.write_element(i, value)?;
        if let Some((_, codes)) = &mut self.codes {
            let scratch = &mut self.keys.scratch;
            scratch.clear();
            if !code::encode(value, scratch) {
                scratch.clear();
            }
            if scratch.len() < MIN_CODE {
                // Elements this small (scalars, short strings) are compared as fast as
                // their codes: the list is not coded.
                self.codes = None;
                return Ok(());
            }
            let c = Box::<[u8]>::from(&scratch[..]);
            match codes.get_mut(i) {
                Some(slot) => *slot = c,
                None => {
                    codes.resize_with(i, Box::default);
                    codes.push(c);
                }
            }
        }
        Ok(())
    }

    fn write_element<T: Serialize + ?Sized>(&mut self, i: usize, value: &T) -> Result<(), Error> {
        if let Some(dst) = self.arr.get_mut(i) {
            let mark = self.log.len();
            let changed = write(dst, value, self.log, self.keys)?;
            if self.log.len() > mark {
                prefix(self.log, mark, || i.to_string());
            }
            if changed {
                self.changed.push(i);
            }
        } else {
            self.arr.push(serde_json::to_value(value)?);
        }
        self.at += 1;
        Ok(())
    }

    /// Drop the elements not written; whether the array changed, and the log.
    fn finish(mut self) -> (bool, &'a mut Log) {
        if self.arr.len() > self.at {
            self.arr.truncate(self.at);
        }
        self.keys.depth -= 1 + u32::from(self.in_variant);
        if let Some((path, mut codes)) = self.codes.take() {
            codes.truncate(self.at);
            self.keys.codes.put(path, codes, self.log.len());
        }
        let any = self.fresh || !self.changed.is_empty() || self.old_len != self.at;
        if any && !self.fresh {
            self.log.push((
                Vec::new(),
                Entry::Array {
                    min_len: self.old_len.min(self.at),
                    changed: self.changed,
                },
            ));
        }
        (any, self.log)
    }
}

impl ser::SerializeSeq for SeqInPlace<'_> {
    type Ok = bool;
    type Error = Error;

    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Error> {
        self.element(value)
    }

    fn end(self) -> Result<bool, Error> {
        Ok(self.finish().0)
    }
}

impl ser::SerializeTuple for SeqInPlace<'_> {
    type Ok = bool;
    type Error = Error;

    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Error> {
        self.element(value)
    }

    fn end(self) -> Result<bool, Error> {
        Ok(self.finish().0)
    }
}

impl ser::SerializeTupleStruct for SeqInPlace<'_> {
    type Ok = bool;
    type Error = Error;

    fn serialize_field<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Error> {
        self.element(value)
    }

    fn end(self) -> Result<bool, Error> {
        Ok(self.finish().0)
    }
}

/// An object being written in place.
struct MapInPlace<'a> {
    map: &'a mut Map<String, Value>,
    log: &'a mut Log,
    keys: &'a mut Keys,
    old_len: usize,
    /// This object's keys are `keys.spans[span_start..]`.
    span_start: usize,
    /// The span of the key waiting for its value.
    pending: Option<(usize, usize)>,
    /// Values written over an existing key.
    found: usize,
    changed: bool,
}

/// Serializes a map key that is a string into the key buffer; anything else is refused
/// (and then serialized by `serde_json`'s own key rules).
struct StrKey<'a>(&'a mut String);

/// The error [`StrKey`] refuses non-string keys with.
fn not_a_str() -> Error {
    ser::Error::custom("not a string key")
}

impl<'a> MapInPlace<'a> {
    fn key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), Error> {
        let start = self.keys.buf.len();
        if key.serialize(StrKey(&mut self.keys.buf)).is_err() {
            self.keys.buf.truncate(start);
            // serde_json's key rules, through a one-entry map.
            let mut m = serde_json::value::Serializer.serialize_map(Some(1))?;
            m.serialize_key(key)?;
            m.serialize_value(&())?;
            match m.end()? {
                Value::Object(o) => match o.keys().next() {
                    Some(k) => self.keys.buf.push_str(k),
                    None => return Err(ser::Error::custom("map key vanished")),
                },
                _ => return Err(ser::Error::custom("map key vanished")),
            }
        }
        let span = (start, self.keys.buf.len());
        self.keys.spans.push(span);
        self.pending = Some(span);
        Ok(())
    }

    fn value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Error> {
        let Some(span) = self.pending.take() else {
            return Err(ser::Error::custom("map value without a key"));
        };
        let mark = self.log.len();
        let existing = self.map.get_mut(self.keys.get(span));
        match existing {
            Some(dst) => {
                self.found += 1;
                self.keys.enter(Seg::Key(span));
                let written = write(dst, value, self.log, self.keys);
                self.keys.leave();
                self.changed |= written?;
                let keys = &*self.keys;
                prefix(self.log, mark, || keys.get(span).to_owned());
            }
            None => {
                let v = serde_json::to_value(value)?;
                let key = self.keys.get(span).to_owned();
                self.log.push((vec![key.clone()], Entry::Replaced));
                self.map.insert(key, v);
                self.changed = true;
            }
        }
        Ok(())
    }

    /// Remove the keys not written; whether the object changed, and the log.
    fn finish(self) -> (bool, &'a mut Log) {
        let MapInPlace {
            map,
            log,
            keys,
            old_len,
            span_start,
            found,
            changed,
            ..
        } = self;
        let spans = &keys.spans[span_start..];
        let keys_ref = &*keys;
        let changed = finish_object(
            map,
            log,
            found != old_len || has_duplicates(keys_ref, spans),
            changed,
            |k| spans.iter().any(|&s| keys_ref.get(s) == k),
            || spans.iter().map(|&s| keys_ref.get(s)),
        );
        let buf_start = spans.first().map_or(keys.buf.len(), |s| s.0);
        keys.spans.truncate(span_start);
        keys.buf.truncate(buf_start);
        (changed, log)
    }
}

#[cold]
#[inline(never)]
/// End an object written in place: when `retain` (some old key may not have been
/// written), remove the keys `written` does not accept; restore the written order if the
/// map keeps insertion order. Returns whether the object changed.
fn finish_object<'k, I: Iterator<Item = &'k str>>(
    map: &mut Map<String, Value>,
    log: &mut Log,
    retain: bool,
    mut changed: bool,
    written: impl Fn(&str) -> bool,
    order: impl Fn() -> I,
) -> bool {
    if retain {
        let mut removed = Vec::new();
        map.retain(|k, _| {
            let keep = written(k);
            if !keep {
                removed.push(k.clone());
            }
            keep
        });
        for k in removed {
            log.push((vec![k], Entry::Replaced));
            changed = true;
        }
    }
    if preserves_order() && !in_key_order(map, order()) {
        let mut old = std::mem::take(map);
        for k in order() {
            if let Some(v) = old.remove(k) {
                map.insert(k.to_owned(), v);
            }
        }
        changed = true;
    }
    changed
}

/// Whether two of these keys are equal.
fn has_duplicates(keys: &Keys, spans: &[(usize, usize)]) -> bool {
    if spans.len() <= 16 {
        return spans
            .iter()
            .enumerate()
            .any(|(i, &a)| spans[..i].iter().any(|&b| keys.get(a) == keys.get(b)));
    }
    let mut all: Vec<&str> = spans.iter().map(|&s| keys.get(s)).collect();
    all.sort_unstable();
    all.windows(2).any(|w| w[0] == w[1])
}

/// Whether `map` lists its keys in the order they were first written.
fn in_key_order<'k>(map: &Map<String, Value>, written: impl Iterator<Item = &'k str>) -> bool {
    let mut written = written;
    let mut seen: Vec<&str> = Vec::new();
    for k in map.keys() {
        let next = loop {
            match written.next() {
                Some(w) if seen.contains(&w) => continue,
                other => break other,
            }
        };
        match next {
            Some(w) if w == k => seen.push(w),
            _ => return false,
        }
    }
    true
}

impl ser::SerializeMap for MapInPlace<'_> {
    type Ok = bool;
    type Error = Error;

    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), Error> {
        self.key(key)
    }

    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Error> {
        self.value(value)
    }

    fn end(self) -> Result<bool, Error> {
        Ok(self.finish().0)
    }
}

/// A struct: an object written in place, or one of `serde_json`'s private marker types
/// built by `serde_json`.
enum StructInPlace<'a> {
    Object(FieldsInPlace<'a>),
    Delegated(
        <serde_json::value::Serializer as ser::Serializer>::SerializeStruct,
        InPlace<'a>,
    ),
}

impl ser::SerializeStruct for StructInPlace<'_> {
    type Ok = bool;
    type Error = Error;

    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), Error> {
        match self {
            StructInPlace::Object(f) => f.field(key, value),
            StructInPlace::Delegated(b, _) => ser::SerializeStruct::serialize_field(b, key, value),
        }
    }

    fn end(self) -> Result<bool, Error> {
        match self {
            StructInPlace::Object(f) => Ok(f.finish().0),
            StructInPlace::Delegated(b, dst) => dst.set(ser::SerializeStruct::end(b)),
        }
    }
}

/// The fields of a struct, written in place into an object.
///
/// Fields are matched to the object's entries by walking the entries once, in the map's
/// order, instead of looking each field up: a struct whose fields come in key order
/// costs one comparison per field, and one in another order a short search among the
/// entries passed over. When the keys must change (a field without a key, a key without
/// a field, or an order to restore), the change is left in [`Keys::fixup`] for the
/// caller, which holds the object again once the struct is written (see [`write`]).
struct FieldsInPlace<'a> {
    /// The object's entries not reached yet.
    entries: serde_json::map::IterMut<'a>,
    /// Entries passed over and fields without a key (allocated when there is one).
    detour: Option<Box<Detour<'a>>>,
    log: &'a mut Log,
    keys: &'a mut Keys,
    /// This struct's field names are `keys.names[names_start..]`.
    names_start: usize,
    /// Inside a struct variant: the variant (the object is `{variant: {…}}`).
    variant: Option<&'static str>,
    changed: bool,
}

impl<'a> FieldsInPlace<'a> {
    fn new(dst: InPlace<'a>, variant: Option<&'static str>) -> Self {
        let fresh = !dst.dst.is_object();
        if fresh {
            dst.log.push((Vec::new(), Entry::Replaced));
            *dst.dst = Value::Object(Map::new());
        }
        let map = match dst.dst {
            Value::Object(m) => m,
            _ => unreachable!("made an object above"),
        };
        FieldsInPlace {
            entries: map.iter_mut(),
            detour: None,
            log: dst.log,
            names_start: dst.keys.names.len(),
            keys: dst.keys,
            variant,
            changed: fresh,
        }
    }

    /// The entry for `key`, if the object has one not written yet.
    fn take_entry(&mut self, key: &str) -> Option<&'a mut Value> {
        if let Some(d) = &mut self.detour {
            if let Some(i) = d.passed.iter().position(|(k, _)| k.as_str() == key) {
                return Some(d.passed.swap_remove(i).1);
            }
        }
        for (k, v) in self.entries.by_ref() {
            if k.as_str() == key {
                return Some(v);
            }
            let d = self.detour.get_or_insert_with(Default::default);
            d.passed_any = true;
            d.passed.push((k, v));
        }
        None
    }

    fn field<T: Serialize + ?Sized>(&mut self, key: &'static str, value: &T) -> Result<(), Error> {
        self.keys.names.push(key);
        let Some(dst) = self.take_entry(key) else {
            let v = serde_json::to_value(value)?;
            let d = self.detour.get_or_insert_with(Default::default);
            d.inserts.push((key, v));
            return Ok(());
        };
        let mark = self.log.len();
        self.keys.enter(Seg::Field(key));
        let written = write(dst, value, self.log, self.keys);
        self.keys.leave();
        self.changed |= written?;
        if self.log.len() > mark {
            prefix(self.log, mark, || key.to_owned());
        }
        Ok(())
    }

    /// Whether the object changed (so far: a fix-up may be left for the caller), and
    /// the log.
    fn finish(self) -> (bool, &'a mut Log) {
        let FieldsInPlace {
            entries,
            detour,
            log,
            keys,
            names_start,
            variant,
            changed,
        } = self;
        if variant.is_some() {
            keys.depth -= 1;
        }
        let leftover = entries.len() > 0;
        match detour {
            None if !leftover => keys.names.truncate(names_start),
            detour => {
                let Detour {
                    passed,
                    passed_any,
                    inserts,
                } = detour.map(|d| *d).unwrap_or_default();
                let leftover = leftover || !passed.is_empty();
                if leftover || !inserts.is_empty() || (passed_any && preserves_order()) {
                    keys.fixup = Some(Box::new(Fixup {
                        variant,
                        names: keys.names.split_off(names_start),
                        inserts,
                        retain: leftover,
                    }));
                } else {
                    keys.names.truncate(names_start);
                }
            }
        }
        (changed, log)
    }
}

/// The unusual part of writing a struct in place (see [`FieldsInPlace`]).
#[derive(Default)]
struct Detour<'a> {
    /// Entries passed over while looking for a field, not written yet.
    passed: Vec<(&'a String, &'a mut Value)>,
    /// An entry was passed over: the written order differs from the map's.
    passed_any: bool,
    /// Fields without a key: their values, to insert.
    inserts: Vec<(&'static str, Value)>,
}

/// What a struct written in place leaves to do to its object's keys (see
/// [`FieldsInPlace`]).
struct Fixup {
    /// Inside a struct variant: the variant (the object is `{variant: {…}}`).
    variant: Option<&'static str>,
    /// The fields written, in order.
    names: Vec<&'static str>,
    /// Fields without a key, in order (a later one of a name wins, as in `to_value`).
    inserts: Vec<(&'static str, Value)>,
    /// Some keys had no field: remove them.
    retain: bool,
}

impl Fixup {
    /// Apply to the value the struct was written into. Returns whether it changed.
    #[cold]
    #[inline(never)]
    fn apply(self, dst: &mut Value, log: &mut Log) -> bool {
        let obj = match self.variant {
            None => Some(dst),
            Some(variant) => match dst {
                Value::Object(m) => m.get_mut(variant),
                _ => None,
            },
        };
        let Some(Value::Object(map)) = obj else {
            unreachable!("a struct is written into an object")
        };
        let mark = log.len();
        let mut changed = false;
        for (k, v) in self.inserts {
            if map.get(k) != Some(&v) {
                log.push((vec![k.to_owned()], Entry::Replaced));
                map.insert(k.to_owned(), v);
                changed = true;
            }
        }
        let names = &self.names;
        changed = finish_object(
            map,
            log,
            self.retain,
            changed,
            |k| names.contains(&k),
            || names.iter().copied(),
        );
        if let Some(variant) = self.variant {
            below_variant(log, mark, variant);
        }
        changed
    }
}

/// Write `value` into `dst` in place (then apply what its struct left to do to the
/// keys, if any). Returns whether `dst` changed.
fn write<T: Serialize + ?Sized>(
    dst: &mut Value,
    value: &T,
    log: &mut Log,
    keys: &mut Keys,
) -> Result<bool, Error> {
    let written = value.serialize(InPlace {
        dst: &mut *dst,
        log: &mut *log,
        keys: &mut *keys,
    });
    let fixup = keys.fixup.take();
    let changed = written?;
    Ok(match fixup {
        Some(f) => (*f).apply(dst, log) || changed,
        None => changed,
    })
}

/// The inside of a `{variant: …}` wrapper.
struct VariantInPlace<S> {
    inner: S,
    variant: &'static str,
    /// Log length before the wrapper: entries from here on are below the variant key.
    mark: usize,
    /// The wrapper itself was replaced.
    changed: bool,
}

impl<S> VariantInPlace<S> {
    /// Finish the inside (`finish` of the inner serializer), then prefix what it logged
    /// with the variant.
    fn finish<'a>(self, finish: impl FnOnce(S) -> (bool, &'a mut Log)) -> bool {
        let (inner_changed, log) = finish(self.inner);
        below_variant(log, self.mark, self.variant);
        inner_changed || self.changed
    }
}

impl ser::SerializeTupleVariant for VariantInPlace<SeqInPlace<'_>> {
    type Ok = bool;
    type Error = Error;

    fn serialize_field<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Error> {
        self.inner.element(value)
    }

    fn end(self) -> Result<bool, Error> {
        Ok(self.finish(SeqInPlace::finish))
    }
}

impl ser::SerializeStructVariant for VariantInPlace<FieldsInPlace<'_>> {
    type Ok = bool;
    type Error = Error;

    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), Error> {
        self.inner.field(key, value)
    }

    fn end(self) -> Result<bool, Error> {
        Ok(self.finish(FieldsInPlace::finish))
    }
}

impl ser::Serializer for StrKey<'_> {
    type Ok = ();
    type Error = Error;
    type SerializeSeq = ser::Impossible<(), Error>;
    type SerializeTuple = ser::Impossible<(), Error>;
    type SerializeTupleStruct = ser::Impossible<(), Error>;
    type SerializeTupleVariant = ser::Impossible<(), Error>;
    type SerializeMap = ser::Impossible<(), Error>;
    type SerializeStruct = ser::Impossible<(), Error>;
    type SerializeStructVariant = ser::Impossible<(), Error>;

    fn serialize_str(self, v: &str) -> Result<(), Error> {
        self.0.push_str(v);
        Ok(())
    }

    primitives_alike!(Result<(), Error> => Err(not_a_str()));
    answer_alike!(Result<(), Error> => Err(not_a_str());
        serialize_none(),
        serialize_unit(),
        serialize_unit_struct(&'static str),
        serialize_unit_variant(&'static str, u32, &'static str),
    );

    fn serialize_some<T: Serialize + ?Sized>(self, _: &T) -> Result<(), Error> {
        Err(not_a_str())
    }

    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: &T,
    ) -> Result<(), Error> {
        Err(not_a_str())
    }

    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: &T,
    ) -> Result<(), Error> {
        Err(not_a_str())
    }

    fn serialize_seq(self, _: Option<usize>) -> Result<Self::SerializeSeq, Error> {
        Err(not_a_str())
    }

    fn serialize_tuple(self, _: usize) -> Result<Self::SerializeTuple, Error> {
        Err(not_a_str())
    }

    fn serialize_tuple_struct(
        self,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleStruct, Error> {
        Err(not_a_str())
    }

    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleVariant, Error> {
        Err(not_a_str())
    }

    fn serialize_map(self, _: Option<usize>) -> Result<Self::SerializeMap, Error> {
        Err(not_a_str())
    }

    fn serialize_struct(self, _: &'static str, _: usize) -> Result<Self::SerializeStruct, Error> {
        Err(not_a_str())
    }

    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeStructVariant, Error> {
        Err(not_a_str())
    }
}

#[cfg(test)]
mod tests {
    use std::collections::{BTreeMap, HashMap};

    use proptest::prelude::*;
    use serde::Serialize;
    use serde_json::{json, Value};

    use super::*;

    /// `update` from `from` gives `to_value(to)` (or fails as `to_value` does), and says
    /// whether the value changed.
    fn check<T: Serialize + ?Sized>(from: &Value, to: &T) {
        let mut v = from.clone();
        let mut changes = Changes::default();
        let mut codes = Codes::default();
        let got = update(&mut v, to, &mut changes, &mut codes);
        match serde_json::to_value(to) {
            Ok(expected) => {
                let changed = got.unwrap_or_else(|e| panic!("update failed: {e}"));
                assert_eq!(v, expected, "from {from}");
                assert_eq!(changed, *from != expected, "from {from} to {expected}");
                // Again, with the codes the update left (a value writing a key twice
                // may report a change it undid).
                update(&mut v, to, &mut changes, &mut codes).expect("updates again");
                assert_eq!(v, expected, "again, from {from}");
            }
            Err(e) => assert!(got.is_err(), "to_value fails ({e}) but update did not"),
        }
    }

    #[derive(Serialize)]
    enum Kind {
        Unit,
        Newtype(u8),
        Tuple(i32, String),
        Struct { a: Vec<u8>, b: Option<bool> },
    }

    #[derive(Serialize)]
    struct Unit;

    #[derive(Serialize, PartialEq, Eq, PartialOrd, Ord)]
    enum Key {
        A,
        B(u8),
    }

    #[derive(Serialize)]
    struct Wrapper(Vec<String>);

    #[derive(Serialize)]
    struct Inner {
        x: i64,
    }

    #[derive(Serialize)]
    struct Row {
        id: String,
        name: String,
        qty: u32,
        kind: Kind,
        #[serde(flatten)]
        extra: Option<Inner>,
    }

    #[derive(Serialize)]
    struct Dup {
        x: u8,
        #[serde(flatten)]
        inner: Inner,
    }

    #[test]
    fn typed_values_come_out_as_to_value() {
        let rows = |n: usize, edit: &str| -> Vec<Row> {
            (0..n)
                .map(|i| Row {
                    id: format!("r{i}"),
                    name: format!("{edit}{i}"),
                    qty: i as u32,
                    kind: match i % 4 {
                        0 => Kind::Unit,
                        1 => Kind::Newtype(i as u8),
                        2 => Kind::Tuple(-(i as i32), edit.into()),
                        _ => Kind::Struct {
                            a: vec![1, 2],
                            b: (i % 8 == 3).then_some(true),
                        },
                    },
                    extra: (i % 3 == 0).then_some(Inner { x: i as i64 }),
                })
                .collect()
        };
        let froms = [
            Value::Null,
            json!([]),
            json!({"x": 1}),
            serde_json::to_value(rows(5, "a")).expect("serializes"),
            serde_json::to_value(rows(9, "b")).expect("serializes"),
        ];
        for from in &froms {
            check(from, &rows(5, "a"));
            check(from, &rows(3, "c"));
            check(from, &rows(9, "b"));
            check(from, &Unit);
            check(from, &Wrapper(vec!["w".into()]));
            check(from, &(1u8, "t", [1.5f64, f64::NAN, f64::INFINITY]));
            check(from, &'c');
            check(from, &u128::MAX);
            check(from, &(i64::MIN as i128));
            check(from, &HashMap::from([(1, "one"), (2, "two")]));
            check(from, &BTreeMap::from([(true, 1), (false, 2)]));
            check(from, &BTreeMap::from([((1, 2), 1)]));
            check(from, &[(Kind::Unit, 1)].into_iter().collect::<Vec<_>>());
            check(from, &BTreeMap::from([(Key::A, 1), (Key::B(2), 2)]));
            check(from, &BTreeMap::from([(Key::A, 1)]));
            check(from, &BTreeMap::from([("k", Kind::Newtype(3))]));
            check(
                from,
                &Dup {
                    x: 1,
                    inner: Inner { x: 2 },
                },
            );
            check(from, &Some(json!({"nested": [{"a": 1}, {"a": 2}]})));
            check(from, &Option::<u8>::None);
        }
    }

    /// A map serializing duplicate keys: the last value wins, as in `to_value`.
    struct Duplicates(Vec<(&'static str, u8)>);

    impl Serialize for Duplicates {
        fn serialize<S: ser::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            let mut m = s.serialize_map(None)?;
            for (k, v) in &self.0 {
                m.serialize_entry(k, v)?;
            }
            m.end()
        }
    }

    #[test]
    fn duplicate_and_missing_keys() {
        let from = json!({"a": 1, "b": 2, "c": 3});
        check(&from, &Duplicates(vec![("a", 1), ("a", 5), ("b", 2)]));
        check(&from, &Duplicates(vec![("a", 1), ("b", 2), ("b", 2)]));
        check(&from, &Duplicates(vec![("c", 3), ("b", 2), ("a", 1)]));
        check(&from, &Duplicates(vec![("d", 1)]));
        check(&from, &Duplicates(vec![]));
    }

    #[test]
    fn unchanged_values_allocate_nothing_and_record_nothing() {
        let value = json!({"rows": [{"id": "a", "n": [1, 2]}, {"id": "b", "n": []}]});
        let mut v = value.clone();
        let before = v["rows"][0]["id"].as_str().map(str::as_ptr);
        let mut changes = Changes::default();
        assert!(!update(&mut v, &value, &mut changes, &mut Codes::default()).expect("updates"));
        assert_eq!(v["rows"][0]["id"].as_str().map(str::as_ptr), before);
        assert!(changes.paths.is_empty());
    }

    #[test]
    fn top_level_lists_are_coded_and_matching_elements_left_alone() {
        #[derive(Serialize)]
        struct Item {
            name: String,
            tags: Vec<String>,
        }
        #[derive(Serialize)]
        struct State {
            items: Vec<Item>,
        }
        let state = |edit: usize| State {
            items: (0..5)
                .map(|i| Item {
                    name: if i == edit {
                        "edited".into()
                    } else {
                        format!("item {i}")
                    },
                    tags: vec![format!("t{i}")],
                })
                .collect(),
        };
        let (mut v, mut changes, mut codes) = (Value::Null, Changes::default(), Codes::default());
        update(&mut v, &state(9), &mut changes, &mut codes).expect("updates");
        // The list was inserted whole: coded from the next update on.
        assert!(codes.lists.is_empty());
        update(&mut v, &state(9), &mut changes, &mut codes).expect("updates");
        // One coded list (the inner lists are inside it), with a code per element.
        assert_eq!(codes.lists.len(), 1);
        assert_eq!(codes.lists[0].path, path(&["items"]));
        assert_eq!(codes.lists[0].codes.len(), 5);
        let before: Vec<*const u8> = (0..5)
            .map(|i| {
                v["items"][i]["name"]
                    .as_str()
                    .map_or(std::ptr::null(), str::as_ptr)
            })
            .collect();
        let mut changes = Changes::default();
        assert!(update(&mut v, &state(2), &mut changes, &mut codes).expect("updates"));
        assert_eq!(v, serde_json::to_value(state(2)).expect("serializes"));
        let u = changes.unchanged(&path(&["items"])).expect("tracked");
        assert_eq!(
            (0..5).map(|i| u.get(i)).collect::<Vec<_>>(),
            [true, true, false, true, true]
        );
        for i in [0, 1, 3, 4] {
            assert_eq!(
                v["items"][i]["name"].as_str().map(str::as_ptr),
                Some(before[i])
            );
        }
        // The list removed, then back: its old codes are gone.
        update(
            &mut v,
            &json!({"items": 1}),
            &mut Changes::default(),
            &mut codes,
        )
        .expect("updates");
        assert!(codes.lists.is_empty());
        for _ in 0..3 {
            update(&mut v, &state(9), &mut Changes::default(), &mut codes).expect("updates");
            assert_eq!(v, serde_json::to_value(state(9)).expect("serializes"));
        }
        // A failed update forgets every code.
        struct Fails;
        impl Serialize for Fails {
            fn serialize<S: ser::Serializer>(&self, _: S) -> Result<S::Ok, S::Error> {
                Err(ser::Error::custom("no"))
            }
        }
        assert_eq!(codes.lists.len(), 1);
        assert!(update(&mut v, &[Fails], &mut Changes::default(), &mut codes).is_err());
        assert!(codes.lists.is_empty());
        // Lists of small elements are not coded.
        for _ in 0..3 {
            let small = json!({"n": [1, 2, 3], "s": ["a", "b"]});
            update(&mut v, &small, &mut Changes::default(), &mut codes).expect("updates");
            assert_eq!(v, small);
        }
        assert!(codes.lists.is_empty());
    }

    fn path(p: &[&str]) -> Vec<String> {
        p.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn changes_name_the_changed_elements() {
        let mut v = json!({"rows": [{"id": "a"}, {"id": "b"}, {"id": "c"}], "t": "x"});
        let mut changes = Changes::default();
        let next = json!({"rows": [{"id": "a"}, {"id": "B"}, {"id": "c"}, {"id": "d"}], "t": "y"});
        assert!(update(&mut v, &next, &mut changes, &mut Codes::default()).expect("updates"));
        let u = changes.unchanged(&path(&["rows"])).expect("tracked");
        assert_eq!(
            (0..5).map(|i| u.get(i)).collect::<Vec<_>>(),
            [true, false, true, false, false]
        );
        // A replaced ancestor hides everything below it.
        let mut v = json!({"a": {"rows": [1, 2]}});
        let mut changes = Changes::default();
        update(
            &mut v,
            &json!({"a": [1]}),
            &mut changes,
            &mut Codes::default(),
        )
        .expect("updates");
        update(
            &mut v,
            &json!({"a": {"rows": [1, 2]}}),
            &mut changes,
            &mut Codes::default(),
        )
        .expect("updates");
        assert!(changes.unchanged(&path(&["a", "rows"])).is_none());
        // Elements past a shrunk array's length are new, even below them.
        let mut v = json!({"g": [{"xs": [1]}, {"xs": [2]}]});
        let mut changes = Changes::default();
        update(
            &mut v,
            &json!({"g": [{"xs": [1]}]}),
            &mut changes,
            &mut Codes::default(),
        )
        .expect("updates");
        update(
            &mut v,
            &json!({"g": [{"xs": [1]}, {"xs": [2]}]}),
            &mut changes,
            &mut Codes::default(),
        )
        .expect("updates");
        assert!(changes.unchanged(&path(&["g", "1", "xs"])).is_none());
        assert!(changes
            .unchanged(&path(&["g", "0", "xs"]))
            .is_some_and(|u| u.get(0)));
        // Untracked changes hide everything.
        changes.forget();
        assert!(changes.unchanged(&path(&["g"])).is_none());
    }

    /// A struct whose fields are not in key order, some of them skipped when empty, and
    /// a struct variant: its object's keys come and go between updates.
    #[derive(Serialize, Debug, Clone)]
    struct Shifting {
        zeta: u8,
        #[serde(skip_serializing_if = "Option::is_none")]
        beta: Option<String>,
        alpha: Vec<Shifting>,
        #[serde(skip_serializing_if = "Option::is_none")]
        mid: Option<Variant>,
    }

    #[derive(Serialize, Debug, Clone)]
    enum Variant {
        Pair {
            y: u8,
            #[serde(skip_serializing_if = "Option::is_none")]
            x: Option<bool>,
        },
        Other(u8),
    }

    /// A struct serializing a field name twice: the last value wins, as in `to_value`.
    struct TwiceNamed(u8, u8);

    impl Serialize for TwiceNamed {
        fn serialize<S: ser::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            let mut st = s.serialize_struct("TwiceNamed", 3)?;
            ser::SerializeStruct::serialize_field(&mut st, "b", &self.0)?;
            ser::SerializeStruct::serialize_field(&mut st, "a", &self.0)?;
            ser::SerializeStruct::serialize_field(&mut st, "b", &self.1)?;
            ser::SerializeStruct::end(st)
        }
    }

    fn shifting() -> impl Strategy<Value = Shifting> {
        let variant = prop_oneof![
            (0u8..2, prop::option::of(any::<bool>())).prop_map(|(y, x)| Variant::Pair { y, x }),
            (0u8..2).prop_map(Variant::Other),
        ];
        let leaf = (
            0u8..2,
            prop::option::of(prop::sample::select(vec!["", "b"])),
            prop::option::of(variant),
        )
            .prop_map(|(zeta, beta, mid)| Shifting {
                zeta,
                beta: beta.map(str::to_owned),
                alpha: Vec::new(),
                mid,
            });
        leaf.prop_recursive(3, 12, 3, |inner| {
            (inner.clone(), prop::collection::vec(inner, 0..3)).prop_map(|(mut s, alpha)| {
                s.alpha = alpha;
                s
            })
        })
    }

    #[test]
    fn struct_fields_out_of_key_order_and_repeated() {
        let from = json!({"a": 1, "b": 2, "c": 3});
        check(&from, &TwiceNamed(1, 2));
        check(&from, &TwiceNamed(2, 2));
        check(&json!({"a": 2, "b": 2}), &TwiceNamed(2, 2));
        check(&json!({"b": 2, "a": 2}), &TwiceNamed(1, 2));
        check(&Value::Null, &TwiceNamed(1, 2));
    }

    /// A state whose top-level lists come and go, change type and hold any value.
    #[derive(Serialize, Debug, Clone)]
    struct Top {
        rows: Vec<Shifting>,
        #[serde(skip_serializing_if = "Option::is_none")]
        maybe: Option<Vec<Pair>>,
        any: Value,
        nested: Nested,
    }

    #[derive(Serialize, Debug, Clone)]
    struct Pair {
        key: u8,
        label: String,
    }

    #[derive(Serialize, Debug, Clone)]
    enum Nested {
        Listed { list: Vec<u8> },
        Bare(Vec<u8>),
    }

    fn top() -> impl Strategy<Value = Top> {
        let small = || prop::collection::vec(0u8..2, 0..3);
        (
            prop::collection::vec(shifting(), 0..3),
            prop::option::of(prop::collection::vec(
                (0u8..2, prop::sample::select(vec!["a", "b"])).prop_map(|(key, label)| Pair {
                    key,
                    label: label.to_owned(),
                }),
                0..3,
            )),
            value(),
            prop_oneof![
                small().prop_map(|list| Nested::Listed { list }),
                small().prop_map(Nested::Bare)
            ],
        )
            .prop_map(|(rows, maybe, any, nested)| Top {
                rows,
                maybe,
                any,
                nested,
            })
    }

    /// Small values, so that random pairs share paths.
    fn value() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            (0u8..3).prop_map(|n| json!(n)),
            Just(json!(1.5)),
            prop::sample::select(vec!["", "x", "y"]).prop_map(|s| json!(s)),
        ];
        leaf.prop_recursive(4, 40, 4, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
                prop::collection::btree_map(
                    prop::sample::select(vec!["a", "b", "c", "0"]),
                    inner,
                    0..4
                )
                .prop_map(|m| Value::Object(
                    m.into_iter().map(|(k, v)| (k.to_owned(), v)).collect()
                )),
            ]
        })
    }

    /// Every array path of `v` (handlebars segments).
    fn arrays(v: &Value, at: &mut Vec<String>, out: &mut Vec<Vec<String>>) {
        match v {
            Value::Array(a) => {
                out.push(at.clone());
                for (i, e) in a.iter().enumerate() {
                    at.push(i.to_string());
                    arrays(e, at, out);
                    at.pop();
                }
            }
            Value::Object(m) => {
                for (k, e) in m {
                    at.push(k.clone());
                    arrays(e, at, out);
                    at.pop();
                }
            }
            _ => {}
        }
    }

    fn get<'v>(v: &'v Value, path: &[String]) -> Option<&'v Value> {
        path.iter().try_fold(v, |v, seg| match v {
            Value::Array(a) => a.get(seg.parse::<usize>().ok()?),
            Value::Object(m) => m.get(seg),
            _ => None,
        })
    }

    proptest! {
        #[test]
        fn values_update_to_their_target(from in value(), to in value()) {
            check(&from, &to);
            let mut v = from.clone();
            let changed = assign(&mut v, &to, &mut Changes::default());
            prop_assert_eq!(&v, &to);
            prop_assert_eq!(changed, from != to);
        }

        /// Typed structs whose keys come and go, from each other and from any value.
        #[test]
        fn structs_update_to_their_target(a in shifting(), b in shifting(), from in value()) {
            let a_value = serde_json::to_value(&a).expect("serializes");
            check(&a_value, &b);
            check(&from, &b);
            check(&json!([a_value]), std::slice::from_ref(&b));
            check(&json!({"v": 1}), &Variant::Pair { y: 1, x: Some(true) });
        }

        /// A typed state through a sequence of updates, the codes kept between them: the
        /// data always equals `to_value` of the state, and elements reported unchanged
        /// hold the value they held before the step.
        #[test]
        fn coded_lists_follow_typed_sequences(
            pool in prop::collection::vec(top(), 2..4),
            order in prop::collection::vec(0usize..4, 2..12),
        ) {
            let mut v = Value::Null;
            let mut codes = Codes::default();
            // States recur, so that lists are coded, dropped and come back.
            for s in order.iter().map(|i| &pool[i % pool.len()]) {
                let before = v.clone();
                let mut changes = Changes::default();
                update(&mut v, s, &mut changes, &mut codes).expect("updates");
                let expected = serde_json::to_value(s).expect("serializes");
                prop_assert_eq!(&v, &expected);
                let mut paths = Vec::new();
                arrays(&v, &mut Vec::new(), &mut paths);
                for p in paths {
                    let Some(u) = changes.unchanged(&p) else { continue };
                    let Some(Value::Array(now)) = get(&v, &p) else { unreachable!() };
                    for (i, e) in now.iter().enumerate() {
                        if u.get(i) {
                            let was = get(&before, &p).and_then(|a| a.as_array()).and_then(|a| a.get(i));
                            prop_assert_eq!(was, Some(e), "path {:?} element {}", p, i);
                        }
                    }
                }
            }
        }

        /// Whatever the updates in between, an element reported unchanged holds the
        /// value it held at the start.
        #[test]
        fn unchanged_elements_are_unchanged(start in value(), steps in prop::collection::vec(value(), 1..4)) {
            let mut v = start.clone();
            let mut changes = Changes::default();
            let mut codes = Codes::default();
            for (i, s) in steps.iter().enumerate() {
                // Alternate the two ways of writing the data.
                if i % 2 == 0 {
                    update(&mut v, s, &mut changes, &mut codes).expect("updates");
                } else {
                    assign(&mut v, s, &mut changes);
                    codes.clear();
                }
            }
            let mut paths = Vec::new();
            arrays(&v, &mut Vec::new(), &mut paths);
            for p in paths {
                let Some(u) = changes.unchanged(&p) else { continue };
                let Some(Value::Array(now)) = get(&v, &p) else { unreachable!() };
                for (i, e) in now.iter().enumerate() {
                    if u.get(i) {
                        let was = get(&start, &p).and_then(|a| a.as_array()).and_then(|a| a.get(i));
                        prop_assert_eq!(was, Some(e), "path {:?} element {}", p, i);
                    }
                }
            }
        }
    }
}
