//! The JSON-like values a schema file is made of, each with its position.

use crate::frontend::source::Span;

/// A value with the position of its first character.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Node {
    /// Where the value starts.
    pub span: Span,
    /// The value.
    pub value: Value,
}

/// A schema value: QAPI's subset of JSON (no numbers, no null).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Value {
    /// A single-quoted string.
    Str(String),
    /// `true` or `false`.
    Bool(bool),
    /// `[ ... ]`.
    Array(Vec<Node>),
    /// `{ ... }`, keys in source order, each key at most once.
    Object(Object),
}

/// A JSON object with keys in source order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Object {
    /// The members in source order.
    pub entries: Vec<Entry>,
}

/// One `'key': value` member of an object.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    /// The key, without quotes.
    pub key: String,
    /// Where the key starts.
    pub key_span: Span,
    /// The value.
    pub value: Node,
}

impl Object {
    /// The entry with the given key.
    pub fn entry(&self, key: &str) -> Option<&Entry> {
        self.entries.iter().find(|e| e.key == key)
    }

    /// The value of the given key.
    pub fn get(&self, key: &str) -> Option<&Node> {
        self.entry(key).map(|e| &e.value)
    }

    /// Whether the key is present.
    pub fn contains(&self, key: &str) -> bool {
        self.entry(key).is_some()
    }

    /// The number of members.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether the object has no members.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

impl Value {
    /// The string, if this is one.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }

    /// The object, if this is one.
    pub fn as_object(&self) -> Option<&Object> {
        match self {
            Value::Object(o) => Some(o),
            _ => None,
        }
    }
}
