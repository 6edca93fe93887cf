//! A server's types as its `query-qmp-schema` reply describes them,
//! resolved by name: the side that both structural pairings of a schema
//! with an introspection pair their own types with, the run-time
//! [`check`](super::check) of bindings and qapi-gen's pairing of a schema
//! source with the introspection of a QEMU built from it.

use std::collections::HashMap;

use crate::qmp::{
    JSONType, SchemaInfo, SchemaInfoAlternate, SchemaInfoBranch, SchemaInfoEnum,
    SchemaInfoEnumMember, SchemaInfoObject,
};

/// How many characters of a name the server chose a description holds.
const MAX_NAME_LEN: usize = 100;

/// A server's introspection indexed by name: of entries listed twice,
/// the first counts.
#[derive(Clone, Debug, Default)]
pub struct ServerTypes<'a> {
    index: HashMap<&'a str, &'a SchemaInfo>,
}

impl<'a> ServerTypes<'a> {
    /// Indexes a `query-qmp-schema` reply.
    pub fn new(infos: &'a [SchemaInfo]) -> Self {
        let mut index = HashMap::with_capacity(infos.len());
        for info in infos {
            index.entry(info.name.as_str()).or_insert(info);
        }
        Self { index }
    }

    /// The entry called `name`.
    pub fn get(&self, name: &str) -> Option<&'a SchemaInfo> {
        self.index.get(name).copied()
    }

    /// What the type called `name` is.
    pub fn resolve(&self, name: &str) -> ServerType<'a> {
        let Some(info) = self.get(name) else {
            let name = shown(name);
            return ServerType::Unrecognized(format!("the server describes no type '{name}'"));
        };
        match &info.meta_type {
            SchemaInfoBranch::Builtin(builtin) => match &builtin.json_type {
                JSONType::String => ServerType::Str,
                JSONType::Int => ServerType::Int,
                JSONType::Number => ServerType::Number,
                JSONType::Boolean => ServerType::Bool,
                JSONType::Null => ServerType::Null,
                JSONType::Value => ServerType::Any,
                JSONType::Object => ServerType::AnyObject,
                JSONType::Array => ServerType::AnyArray,
                JSONType::Unrecognized(json) => ServerType::Unrecognized(format!(
                    "the server's type '{}' has JSON type '{}'",
                    shown(name),
                    shown(json)
                )),
            },
            SchemaInfoBranch::Enum(info) => ServerType::Enum(info),
            SchemaInfoBranch::Array(info) => ServerType::Array(&info.element_type),
            SchemaInfoBranch::Object(info) => ServerType::Object(info),
            SchemaInfoBranch::Alternate(info) => ServerType::Alternate(info),
            SchemaInfoBranch::Command(_) | SchemaInfoBranch::Event(_) => {
                ServerType::Unrecognized(format!("the server's '{}' is not a type", shown(name)))
            }
            SchemaInfoBranch::Unrecognized { case, .. } => ServerType::Unrecognized(format!(
                "the server's type '{}' has meta-type '{}'",
                shown(name),
                shown(case)
            )),
        }
    }
}

/// What a server's type is, as far as pairing goes.
#[derive(Clone, Debug)]
pub enum ServerType<'a> {
    /// A string builtin.
    Str,
    /// An integer builtin (every integer type reports as `int`).
    Int,
    /// `number`.
    Number,
    /// `bool`.
    Bool,
    /// `null`.
    Null,
    /// `any`: any JSON value.
    Any,
    /// A builtin whose JSON type is `object`: members unknown.
    AnyObject,
    /// A builtin whose JSON type is `array`: elements unknown.
    AnyArray,
    /// An enumeration.
    Enum(&'a SchemaInfoEnum),
    /// An object: a struct or a union.
    Object(&'a SchemaInfoObject),
    /// An alternate.
    Alternate(&'a SchemaInfoAlternate),
    /// An array of the type of this name.
    Array(&'a str),
    /// Something no pairing can follow (a name the server does not
    /// describe, a command, a meta-type from the future), and why.
    Unrecognized(String),
}

impl ServerType<'_> {
    /// The JSON type of its values, as alternates tell their alternatives
    /// apart: integers are numbers, and `Value` stands for any value or
    /// several (an alternate).
    pub fn json(&self) -> JSONType {
        match self {
            ServerType::Str | ServerType::Enum(_) => JSONType::String,
            ServerType::Int | ServerType::Number => JSONType::Number,
            ServerType::Bool => JSONType::Boolean,
            ServerType::Null => JSONType::Null,
            ServerType::AnyObject | ServerType::Object(_) => JSONType::Object,
            ServerType::AnyArray | ServerType::Array(_) => JSONType::Array,
            ServerType::Any | ServerType::Alternate(_) | ServerType::Unrecognized(_) => {
                JSONType::Value
            }
        }
    }

    /// What it is in a word: `str`, `int`, `enum`, `object`, ...
    pub fn describe(&self) -> &'static str {
        match self {
            ServerType::Str => "str",
            ServerType::Int => "int",
            ServerType::Number => "number",
            ServerType::Bool => "bool",
            ServerType::Null => "null",
            ServerType::Any | ServerType::Unrecognized(_) => "any",
            ServerType::Enum(_) => "enum",
            ServerType::AnyObject | ServerType::Object(_) => "object",
            ServerType::Alternate(_) => "alternate",
            ServerType::AnyArray | ServerType::Array(_) => "array",
        }
    }
}

impl SchemaInfoEnum {
    /// The names of the values: from `members`, or, where `members` is
    /// absent or empty, from the deprecated `values` (all that QEMU before
    /// 6.2 sends).
    #[allow(deprecated)]
    pub fn value_names(&self) -> impl Iterator<Item = &str> + Clone + '_ {
        let members: &[SchemaInfoEnumMember] = self.members.as_deref().unwrap_or_default();
        let values: &[String] = match members {
            [] => self.values.as_deref().unwrap_or_default(),
            _ => &[],
        };
        let members = members.iter().map(|m| m.name.as_str());
        members.chain(values.iter().map(String::as_str))
    }

    /// Whether the enumeration has `value`.
    pub fn has_value(&self, value: &str) -> bool {
        self.value_names().any(|v| v == value)
    }
}

impl SchemaInfoBranch {
    /// The meta-type, as the server names it: `builtin`, `enum`, `array`,
    /// `object`, `alternate`, `command`, `event`, or one this crate does
    /// not know.
    pub fn meta_type_name(&self) -> &str {
        match self {
            SchemaInfoBranch::Builtin(_) => "builtin",
            SchemaInfoBranch::Enum(_) => "enum",
            SchemaInfoBranch::Array(_) => "array",
            SchemaInfoBranch::Object(_) => "object",
            SchemaInfoBranch::Alternate(_) => "alternate",
            SchemaInfoBranch::Command(_) => "command",
            SchemaInfoBranch::Event(_) => "event",
            SchemaInfoBranch::Unrecognized { case, .. } => case,
        }
    }
}

impl SchemaInfoObject {
    /// Whether it has no members and no branches (what QEMU names as the
    /// arguments of commands that take none, and as the return type of
    /// commands that return nothing).
    pub fn is_empty(&self) -> bool {
        self.members.is_empty() && self.variants.as_ref().is_none_or(|v| v.is_empty())
    }
}

/// A name the server chose, for a description: its first
/// [`MAX_NAME_LEN`] characters, then `...` when there are more.
pub(super) fn shown(name: &str) -> String {
    match name.char_indices().nth(MAX_NAME_LEN) {
        Some((end, _)) => format!("{}...", &name[..end]),
        None => name.to_string(),
    }
}
