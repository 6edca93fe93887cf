//! The checked schema: every definition, resolved, in declaration order.

use indexmap::IndexMap;
use qapi_types::qmp::JSONType;

pub use crate::frontend::cond::Cond;
use crate::frontend::doc::Doc;
pub use crate::frontend::expr::{EnumValue, Feature};
pub use crate::frontend::pragma::Pragma;
use crate::frontend::source::{FileId, SourceMap, Span};

pub(crate) mod build;
pub(crate) mod check;
pub(crate) mod load;
pub mod selection;

/// Index of an [`Entity`] in its [`Schema`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct EntityId(pub(crate) u32);

impl EntityId {
    pub(crate) fn index(self) -> usize {
        self.0 as usize
    }
}

/// A named thing in the schema's single namespace: a type, command or
/// event, explicit or implicit.
#[derive(Clone, Debug)]
pub struct Entity {
    /// The name: as written for explicit definitions; `strList` style for
    /// arrays; `q_obj_NAME-arg`/`q_obj_NAME-base` for implicit objects;
    /// `q_empty` for the empty object.
    pub name: String,
    /// Where it is defined (for implicit entities, where first used);
    /// `None` for builtins.
    pub span: Option<Span>,
    /// The definition's doc comment.
    pub doc: Option<Doc>,
    /// The condition under which it exists.
    pub cond: Option<Cond>,
    /// Its features.
    pub features: Vec<Feature>,
    /// What it is.
    pub kind: EntityKind,
}

/// The kinds of entity.
#[derive(Clone, Debug)]
pub enum EntityKind {
    /// A builtin type.
    Builtin(Builtin),
    /// An enumeration (including the predefined `QType`).
    Enum(EnumType),
    /// An array type.
    Array(ArrayType),
    /// A struct or union.
    Object(ObjectType),
    /// An alternate.
    Alternate(AlternateType),
    /// A command.
    Command(Command),
    /// An event.
    Event(Event),
}

/// The builtin types.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Builtin {
    /// `str`: a JSON string.
    Str,
    /// `number`: any JSON number.
    Number,
    /// `int`: a 64-bit signed integer.
    Int,
    /// `int8`.
    Int8,
    /// `int16`.
    Int16,
    /// `int32`.
    Int32,
    /// `int64`.
    Int64,
    /// `uint8`.
    Uint8,
    /// `uint16`.
    Uint16,
    /// `uint32`.
    Uint32,
    /// `uint64`.
    Uint64,
    /// `size`: a 64-bit unsigned byte count.
    Size,
    /// `bool`.
    Bool,
    /// `any`: any JSON value.
    Any,
    /// `null`: JSON null.
    Null,
}

impl Builtin {
    /// Every builtin, in QEMU's order.
    pub const ALL: [Builtin; 15] = [
        Builtin::Str,
        Builtin::Number,
        Builtin::Int,
        Builtin::Int8,
        Builtin::Int16,
        Builtin::Int32,
        Builtin::Int64,
        Builtin::Uint8,
        Builtin::Uint16,
        Builtin::Uint32,
        Builtin::Uint64,
        Builtin::Size,
        Builtin::Bool,
        Builtin::Any,
        Builtin::Null,
    ];

    /// The schema name.
    pub fn name(self) -> &'static str {
        match self {
            Builtin::Str => "str",
            Builtin::Number => "number",
            Builtin::Int => "int",
            Builtin::Int8 => "int8",
            Builtin::Int16 => "int16",
            Builtin::Int32 => "int32",
            Builtin::Int64 => "int64",
            Builtin::Uint8 => "uint8",
            Builtin::Uint16 => "uint16",
            Builtin::Uint32 => "uint32",
            Builtin::Uint64 => "uint64",
            Builtin::Size => "size",
            Builtin::Bool => "bool",
            Builtin::Any => "any",
            Builtin::Null => "null",
        }
    }

    /// How values appear on the wire.
    pub fn json_type(self) -> JsonType {
        match self {
            Builtin::Str => JsonType::String,
            Builtin::Number => JsonType::Number,
            Builtin::Bool => JsonType::Boolean,
            Builtin::Any => JsonType::Value,
            Builtin::Null => JsonType::Null,
            _ => JsonType::Int,
        }
    }
}

/// The JSON representation of a type, as introspection reports it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum JsonType {
    /// A string.
    String,
    /// A number.
    Number,
    /// An integral number.
    Int,
    /// `true` or `false`.
    Boolean,
    /// `null`.
    Null,
    /// An object.
    Object,
    /// An array.
    Array,
    /// Any JSON value.
    Value,
}

impl JsonType {
    /// The JSON type of introspection's `json-type`; `None` for one this
    /// version does not know.
    pub fn from_introspection(json: &JSONType) -> Option<JsonType> {
        Some(match json {
            JSONType::String => JsonType::String,
            JSONType::Number => JsonType::Number,
            JSONType::Int => JsonType::Int,
            JSONType::Boolean => JsonType::Boolean,
            JSONType::Null => JsonType::Null,
            JSONType::Object => JsonType::Object,
            JSONType::Array => JsonType::Array,
            JSONType::Value => JsonType::Value,
            _ => return None,
        })
    }

    /// Its name as introspection's `json-type`: `string`, `boolean`.
    pub fn name(self) -> &'static str {
        match self {
            JsonType::String => "string",
            JsonType::Number => "number",
            JsonType::Int => "int",
            JsonType::Boolean => "boolean",
            JsonType::Null => "null",
            JsonType::Object => "object",
            JsonType::Array => "array",
            JsonType::Value => "value",
        }
    }

    /// The builtin QEMU reports for it: `str`, `bool`; `any` for objects,
    /// arrays and any value.
    pub fn builtin_name(self) -> &'static str {
        match self {
            JsonType::String => "str",
            JsonType::Number => "number",
            JsonType::Int => "int",
            JsonType::Boolean => "bool",
            JsonType::Null => "null",
            JsonType::Object | JsonType::Array | JsonType::Value => "any",
        }
    }
}

/// An enumeration type.
#[derive(Clone, Debug)]
pub struct EnumType {
    /// The values in declaration order.
    pub values: Vec<EnumValue>,
    /// The C prefix override (`'prefix'`).
    pub prefix: Option<String>,
}

/// An array type.
#[derive(Clone, Debug)]
pub struct ArrayType {
    /// The element type.
    pub element: EntityId,
}

/// A struct or union: an object on the wire.
#[derive(Clone, Debug)]
pub struct ObjectType {
    /// The base type whose members come first.
    pub base: Option<EntityId>,
    /// The members declared here (for unions: none; the base holds them).
    /// [`Schema::members`] adds the base's.
    pub local_members: Vec<Member>,
    /// For unions: the discriminator and the branches.
    pub branches: Option<Branches>,
    /// For implicit objects: the definition they were made for.
    pub implicit_for: Option<EntityId>,
}

impl ObjectType {
    /// Whether this object is a union.
    pub fn is_union(&self) -> bool {
        self.branches.is_some()
    }
}

/// A member of a struct, union base, or command or event arguments.
#[derive(Clone, Debug)]
pub struct Member {
    /// The wire name (without the `*` of optional members).
    pub name: String,
    /// Where it is declared.
    pub span: Span,
    /// Its type.
    pub ty: EntityId,
    /// Whether the member may be absent.
    pub optional: bool,
    /// The condition under which the member exists.
    pub cond: Option<Cond>,
    /// Its features.
    pub features: Vec<Feature>,
    /// The object type that declares it.
    pub defined_in: EntityId,
}

/// A union's discriminator and branches.
#[derive(Clone, Debug)]
pub struct Branches {
    /// The discriminator: the name of an enum-typed base member.
    pub tag: String,
    /// The discriminator's enum type.
    pub tag_type: EntityId,
    /// The branches: those declared, then one empty branch for each
    /// discriminator value without a declared branch.
    pub variants: Vec<Variant>,
}

/// A union branch or an alternate's alternative.
#[derive(Clone, Debug)]
pub struct Variant {
    /// The branch name: a discriminator value (unions) or a name of its
    /// own (alternates).
    pub name: String,
    /// Where it is declared (for implicit empty branches: the union).
    pub span: Span,
    /// Its type (`q_empty` for empty branches).
    pub ty: EntityId,
    /// The condition under which the branch exists.
    pub cond: Option<Cond>,
    /// Whether the branch was not declared and is empty.
    pub implicit: bool,
}

/// An alternate: a value of one of several types told apart by JSON type.
#[derive(Clone, Debug)]
pub struct AlternateType {
    /// The alternatives in declaration order.
    pub variants: Vec<Variant>,
}

/// A command.
#[derive(Clone, Debug)]
pub struct Command {
    /// The arguments' object type (implicit `q_obj_NAME-arg` for inline
    /// members); `None` when the command takes no arguments.
    pub arg_type: Option<EntityId>,
    /// The return type; `None` when the command returns an empty object.
    pub ret_type: Option<EntityId>,
    /// The arguments are passed as one boxed object.
    pub boxed: bool,
    /// QEMU generates the marshalling code (`'gen': false` turns it off).
    pub gen: bool,
    /// The server answers success (`'success-response': false` turns it
    /// off).
    pub success_response: bool,
    /// The command may be executed out of band.
    pub allow_oob: bool,
    /// The command is available before the machine is built.
    pub allow_preconfig: bool,
    /// The handler runs in a coroutine.
    pub coroutine: bool,
}

/// An event.
#[derive(Clone, Debug)]
pub struct Event {
    /// The data's object type; `None` when the event carries no data.
    pub arg_type: Option<EntityId>,
    /// The data is one boxed object.
    pub boxed: bool,
}

/// A top-level item of the schema, in source order.
#[derive(Clone, Debug)]
pub enum SchemaItem {
    /// A definition.
    Definition(EntityId),
    /// An include directive; `file` is `None` when the file had already
    /// been included.
    Include {
        /// Where the directive is.
        span: Span,
        /// The included file.
        file: Option<FileId>,
    },
    /// Free-form documentation (headings, prose).
    Doc(Doc),
}

/// A checked schema.
#[derive(Clone, Debug)]
pub struct Schema {
    /// Every entity by name, in order: an [`EntityId`] is an index.
    pub(crate) entities: IndexMap<String, Entity>,
    pub(crate) items: Vec<SchemaItem>,
    pub(crate) pragma: Pragma,
    pub(crate) sources: SourceMap,
}

impl Schema {
    /// Every entity: builtins first, then each definition preceded by the
    /// implicit types it introduced, in declaration order.
    pub fn entities(
        &self,
    ) -> impl ExactSizeIterator<Item = &Entity> + DoubleEndedIterator + std::fmt::Debug + '_ {
        self.entities.values()
    }

    /// The entity with the given id.
    pub fn entity(&self, id: EntityId) -> &Entity {
        &self.entities[id.index()]
    }

    /// Ids of all entities, in order.
    pub fn ids(&self) -> impl Iterator<Item = EntityId> + '_ {
        (0..self.entities.len()).map(|i| EntityId(i as u32))
    }

    /// Looks an entity up by name.
    pub fn lookup(&self, name: &str) -> Option<EntityId> {
        self.entities.get_index_of(name).map(|i| EntityId(i as u32))
    }

    /// The top-level items in source order (definitions, includes, free
    /// documentation).
    pub fn items(&self) -> &[SchemaItem] {
        &self.items
    }

    /// The explicit definitions in declaration order.
    pub fn definitions(&self) -> impl Iterator<Item = EntityId> + '_ {
        self.items.iter().filter_map(|item| match item {
            SchemaItem::Definition(id) => Some(*id),
            _ => None,
        })
    }

    /// All members of an object type: its base's (recursively), then its
    /// own. Empty for entities that are not objects.
    pub fn members(&self, id: EntityId) -> Vec<&Member> {
        let mut out = Vec::new();
        self.collect_members(id, &mut out);
        out
    }

    fn collect_members<'s>(&'s self, id: EntityId, out: &mut Vec<&'s Member>) {
        if let Some(object) = self.entity(id).as_object() {
            if let Some(base) = object.base {
                self.collect_members(base, out);
            }
            out.extend(&object.local_members);
        }
    }

    /// The entities an entity refers to (not counting the definition an
    /// implicit object was made for).
    pub(crate) fn references(&self, id: EntityId) -> Vec<EntityId> {
        let mut out = Vec::new();
        match &self.entity(id).kind {
            EntityKind::Builtin(_) | EntityKind::Enum(_) => {}
            EntityKind::Array(a) => out.push(a.element),
            EntityKind::Object(o) => {
                out.extend(o.base);
                out.extend(o.local_members.iter().map(|m| m.ty));
                if let Some(branches) = &o.branches {
                    out.push(branches.tag_type);
                    out.extend(branches.variants.iter().map(|v| v.ty));
                }
            }
            EntityKind::Alternate(a) => out.extend(a.variants.iter().map(|v| v.ty)),
            EntityKind::Command(c) => out.extend(c.arg_type.iter().chain(&c.ret_type)),
            EntityKind::Event(e) => out.extend(e.arg_type),
        }
        out
    }

    /// The schema cut down to the entities in `roots`, what they refer to,
    /// and the builtins, renumbered; the other definitions leave the
    /// top-level items too.
    pub(crate) fn retain(&self, roots: impl IntoIterator<Item = EntityId>) -> Schema {
        let mut keep = vec![false; self.entities.len()];
        let mut stack: Vec<EntityId> = roots.into_iter().collect();
        // The predefined entities (builtins, `QType`) have no position.
        stack.extend(self.ids().filter(|&id| self.entity(id).span.is_none()));
        while let Some(id) = stack.pop() {
            if !std::mem::replace(&mut keep[id.index()], true) {
                stack.extend(self.references(id));
            }
        }
        let mut new_ids = vec![None; self.entities.len()];
        let mut next = 0u32;
        for (old, kept) in keep.iter().enumerate() {
            if *kept {
                new_ids[old] = Some(EntityId(next));
                next += 1;
            }
        }
        // Every reference of a kept entity is kept: the fallback is unused.
        let map = |id: EntityId| new_ids[id.index()].unwrap_or(id);
        let entities: IndexMap<String, Entity> = self
            .entities
            .values()
            .zip(&keep)
            .filter(|(_, kept)| **kept)
            .map(|(entity, _)| {
                let mut entity = entity.clone();
                match &mut entity.kind {
                    EntityKind::Builtin(_) | EntityKind::Enum(_) => {}
                    EntityKind::Array(a) => a.element = map(a.element),
                    EntityKind::Object(o) => {
                        o.base = o.base.map(map);
                        o.implicit_for = o.implicit_for.and_then(|id| new_ids[id.index()]);
                        for member in &mut o.local_members {
                            member.ty = map(member.ty);
                            member.defined_in = map(member.defined_in);
                        }
                        if let Some(branches) = &mut o.branches {
                            branches.tag_type = map(branches.tag_type);
                            for variant in &mut branches.variants {
                                variant.ty = map(variant.ty);
                            }
                        }
                    }
                    EntityKind::Alternate(a) => {
                        for variant in &mut a.variants {
                            variant.ty = map(variant.ty);
                        }
                    }
                    EntityKind::Command(c) => {
                        c.arg_type = c.arg_type.map(map);
                        c.ret_type = c.ret_type.map(map);
                    }
                    EntityKind::Event(e) => e.arg_type = e.arg_type.map(map),
                }
                (entity.name.clone(), entity)
            })
            .collect();
        let items = self
            .items
            .iter()
            .filter_map(|item| match item {
                SchemaItem::Definition(id) => new_ids[id.index()].map(SchemaItem::Definition),
                other => Some(other.clone()),
            })
            .collect();
        Schema {
            entities,
            items,
            pragma: self.pragma.clone(),
            sources: self.sources.clone(),
        }
    }

    /// The pragmas in force.
    pub fn pragma(&self) -> &Pragma {
        &self.pragma
    }

    /// The files the schema was read from.
    pub fn sources(&self) -> &SourceMap {
        &self.sources
    }
}

impl Entity {
    /// `enum`, `struct`, `union`, `alternate`, `command`, `event`,
    /// `array` or `built-in`.
    pub fn meta(&self) -> &'static str {
        match &self.kind {
            EntityKind::Builtin(_) => "built-in",
            EntityKind::Enum(_) => "enum",
            EntityKind::Array(_) => "array",
            EntityKind::Object(o) if o.is_union() => "union",
            EntityKind::Object(_) => "struct",
            EntityKind::Alternate(_) => "alternate",
            EntityKind::Command(_) => "command",
            EntityKind::Event(_) => "event",
        }
    }

    /// Whether the entity was made by the schema rather than written in it.
    pub fn is_implicit(&self) -> bool {
        match &self.kind {
            EntityKind::Builtin(_) | EntityKind::Array(_) => true,
            EntityKind::Enum(_) => self.name == "QType",
            EntityKind::Object(_) => self.name.starts_with("q_"),
            _ => false,
        }
    }

    /// The object type, if this is a struct or union.
    pub fn as_object(&self) -> Option<&ObjectType> {
        match &self.kind {
            EntityKind::Object(o) => Some(o),
            _ => None,
        }
    }

    /// The enum type, if this is one.
    pub fn as_enum(&self) -> Option<&EnumType> {
        match &self.kind {
            EntityKind::Enum(e) => Some(e),
            _ => None,
        }
    }
}

/// How many definitions of each kind a schema has (explicit ones only).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    /// Commands.
    pub commands: usize,
    /// Events.
    pub events: usize,
    /// Enumerations.
    pub enums: usize,
    /// Structs.
    pub structs: usize,
    /// Unions.
    pub unions: usize,
    /// Alternates.
    pub alternates: usize,
}

/// `240 commands, 1 event, ...`.
impl std::fmt::Display for Counts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let counts = [
            (self.commands, "command"),
            (self.events, "event"),
            (self.enums, "enum"),
            (self.structs, "struct"),
            (self.unions, "union"),
            (self.alternates, "alternate"),
        ];
        for (i, (n, what)) in counts.into_iter().enumerate() {
            let plural = if n == 1 { "" } else { "s" };
            write!(f, "{}{n} {what}{plural}", if i == 0 { "" } else { ", " })?;
        }
        Ok(())
    }
}

impl Schema {
    /// Counts the explicit definitions by kind.
    pub fn counts(&self) -> Counts {
        let mut counts = Counts::default();
        for id in self.definitions() {
            let slot = match self.entity(id).meta() {
                "command" => &mut counts.commands,
                "event" => &mut counts.events,
                "enum" => &mut counts.enums,
                "struct" => &mut counts.structs,
                "union" => &mut counts.unions,
                _ => &mut counts.alternates,
            };
            *slot += 1;
        }
        counts
    }
}
