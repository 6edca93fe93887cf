//! The table that generated bindings describe themselves with: `SCHEMA`,
//! a [`BindingSchema`] of static values that the compiler checks, read by
//! [`check`](super::check) and by anyone who wants to know what the
//! bindings use.

use std::fmt;

/// What a set of bindings uses: generated as `SCHEMA` beside the
/// bindings.
///
/// Types are referred to by [`TypeRef`]: builtins and arrays by what they
/// are, the others by their QAPI name (implicit objects as QAPI names them,
/// `q_obj_blockdev-del-arg`, and `q_empty` for the empty object), described
/// in [`types`](Self::types).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BindingSchema {
    /// The commands.
    pub commands: &'static [CommandDef],
    /// The events.
    pub events: &'static [EventDef],
    /// The named types the commands and events reach, sorted by name.
    pub types: &'static [TypeDef],
}

/// A command of a [`BindingSchema`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CommandDef {
    /// The wire name.
    pub name: &'static str,
    /// The arguments' object type.
    pub arguments: TypeRef,
    /// The return type.
    pub returns: TypeRef,
    /// Whether the bindings may execute it out of band.
    pub allow_oob: bool,
    /// The condition under which the schema defines it, if any.
    pub condition: Option<Condition>,
    /// Whether QEMU's implementation reads the arguments itself (the
    /// schema's `'gen': false`, as `device_add`'s, whose other members are
    /// the device's properties): they are not checked against
    /// [`arguments`](Self::arguments).
    pub reads_own_arguments: bool,
}

/// An event of a [`BindingSchema`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EventDef {
    /// The wire name.
    pub name: &'static str,
    /// The data's object type.
    pub data: TypeRef,
    /// The condition under which the schema defines it, if any.
    pub condition: Option<Condition>,
}

/// A named type of a [`BindingSchema`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TypeDef {
    /// The QAPI name.
    pub name: &'static str,
    /// What it is.
    pub kind: TypeKind,
}

/// What a [`TypeDef`] is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TypeKind {
    /// An enumeration.
    Enum {
        /// Its values.
        values: &'static [EnumValue],
    },
    /// A struct: an object whose members are always the same.
    Struct {
        /// Its members, the base's included.
        members: &'static [Member],
    },
    /// A union: common members, one of which selects a branch.
    Union {
        /// The common members, the discriminator included.
        members: &'static [Member],
        /// The discriminator's name.
        tag: &'static str,
        /// The branches that add members.
        branches: &'static [Branch],
    },
    /// An alternate: a value of one of several types, told apart by
    /// JSON type.
    Alternate {
        /// The alternatives.
        alternatives: &'static [Alternative],
    },
}

/// A reference to a type: a builtin, an array, or a type described in
/// [`BindingSchema::types`]. Displayed as QAPI writes it: `str`,
/// `[BlockInfo]`, `BlockInfo`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TypeRef {
    /// A builtin type.
    Builtin(Builtin),
    /// An array of the element type.
    Array(&'static TypeRef),
    /// The type of this QAPI name in [`BindingSchema::types`].
    Named(&'static str),
}

/// QAPI's builtin types.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Builtin {
    /// `str`: a JSON string.
    Str,
    /// `number`: a JSON number.
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
    /// `size`: a 64-bit unsigned integer counting bytes.
    Size,
    /// `bool`: a JSON boolean.
    Bool,
    /// `any`: any JSON value.
    Any,
    /// `null`: JSON `null`.
    Null,
}

impl Builtin {
    /// The QAPI name: `str`, `uint8`, ...
    pub const fn name(self) -> &'static str {
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
}

// The builtins as references, which keep the generated tables short.
impl TypeRef {
    /// `str`.
    pub const STR: TypeRef = TypeRef::Builtin(Builtin::Str);
    /// `number`.
    pub const NUMBER: TypeRef = TypeRef::Builtin(Builtin::Number);
    /// `int`.
    pub const INT: TypeRef = TypeRef::Builtin(Builtin::Int);
    /// `int8`.
    pub const INT8: TypeRef = TypeRef::Builtin(Builtin::Int8);
    /// `int16`.
    pub const INT16: TypeRef = TypeRef::Builtin(Builtin::Int16);
    /// `int32`.
    pub const INT32: TypeRef = TypeRef::Builtin(Builtin::Int32);
    /// `int64`.
    pub const INT64: TypeRef = TypeRef::Builtin(Builtin::Int64);
    /// `uint8`.
    pub const UINT8: TypeRef = TypeRef::Builtin(Builtin::Uint8);
    /// `uint16`.
    pub const UINT16: TypeRef = TypeRef::Builtin(Builtin::Uint16);
    /// `uint32`.
    pub const UINT32: TypeRef = TypeRef::Builtin(Builtin::Uint32);
    /// `uint64`.
    pub const UINT64: TypeRef = TypeRef::Builtin(Builtin::Uint64);
    /// `size`.
    pub const SIZE: TypeRef = TypeRef::Builtin(Builtin::Size);
    /// `bool`.
    pub const BOOL: TypeRef = TypeRef::Builtin(Builtin::Bool);
    /// `any`.
    pub const ANY: TypeRef = TypeRef::Builtin(Builtin::Any);
    /// `null`.
    pub const NULL: TypeRef = TypeRef::Builtin(Builtin::Null);
}

impl fmt::Display for TypeRef {
    /// `str`, `[BlockInfo]`, `BlockInfo`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TypeRef::Builtin(builtin) => f.write_str(builtin.name()),
            TypeRef::Array(element) => write!(f, "[{element}]"),
            TypeRef::Named(name) => f.write_str(name),
        }
    }
}

/// A member of a struct, union or arguments object.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Member {
    /// The wire name.
    pub name: &'static str,
    /// Its type.
    pub ty: TypeRef,
    /// Whether the schema makes it optional.
    pub optional: bool,
    /// The condition under which the schema defines it, if any (the
    /// bindings then hold it as optional whatever the schema says).
    pub condition: Option<Condition>,
}

/// A value of an enumeration.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EnumValue {
    /// The wire name.
    pub name: &'static str,
    /// The condition under which the schema defines it, if any.
    pub condition: Option<Condition>,
}

/// A branch of a union.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Branch {
    /// The discriminator's value that selects it.
    pub case: &'static str,
    /// The object type whose members it adds.
    pub ty: TypeRef,
    /// The condition under which the schema defines it, if any.
    pub condition: Option<Condition>,
}

/// An alternative of an alternate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Alternative {
    /// Its type.
    pub ty: TypeRef,
    /// The condition under which the schema defines it, if any.
    pub condition: Option<Condition>,
}

/// A build condition: the schema's `'if'`, under which it defines a
/// command, event, member, value, branch or alternative. Written as the
/// schema writes it: `'CONFIG_LINUX'` is `Defined("CONFIG_LINUX")`,
/// `{'all': [...]}` is `All(&[...])`, and so on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Condition {
    /// The configuration symbol is defined.
    Defined(&'static str),
    /// Every one of the conditions holds.
    All(&'static [Condition]),
    /// At least one of the conditions holds.
    Any(&'static [Condition]),
    /// The condition does not hold.
    Not(&'static Condition),
}

impl Condition {
    /// Whether the condition holds when the configuration symbols for
    /// which `defined` answers `true` are defined.
    pub fn holds(&self, defined: &dyn Fn(&str) -> bool) -> bool {
        match self {
            Condition::Defined(symbol) => defined(symbol),
            Condition::All(all) => all.iter().all(|c| c.holds(defined)),
            Condition::Any(any) => any.iter().any(|c| c.holds(defined)),
            Condition::Not(not) => !not.holds(defined),
        }
    }
}

impl fmt::Display for Condition {
    /// `CONFIG_A and (CONFIG_B or not CONFIG_C)`: an operand that is
    /// itself `all` or `any` in parentheses.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let grouped = |condition: &Condition| matches!(condition, Self::All(_) | Self::Any(_));
        let (operands, joiner) = match self {
            Self::Defined(symbol) => return f.write_str(symbol),
            Self::Not(not) if grouped(not) => return write!(f, "not ({not})"),
            Self::Not(not) => return write!(f, "not {not}"),
            Self::All(all) => (all, " and "),
            Self::Any(any) => (any, " or "),
        };
        for (i, operand) in operands.iter().enumerate() {
            if i > 0 {
                f.write_str(joiner)?;
            }
            if grouped(operand) {
                write!(f, "({operand})")?;
            } else {
                write!(f, "{operand}")?;
            }
        }
        Ok(())
    }
}

// Constructors, which keep the generated tables short: each entry is
// required and unconditional unless a modifier says otherwise.

impl CommandDef {
    /// A command taking `arguments` and returning `returns`.
    pub const fn new(name: &'static str, arguments: TypeRef, returns: TypeRef) -> Self {
        Self {
            name,
            arguments,
            returns,
            allow_oob: false,
            condition: None,
            reads_own_arguments: false,
        }
    }

    /// The command may be executed out of band.
    pub const fn allow_oob(self) -> Self {
        Self {
            allow_oob: true,
            ..self
        }
    }

    /// The command exists only when `condition` holds.
    pub const fn only_if(self, condition: Condition) -> Self {
        Self {
            condition: Some(condition),
            ..self
        }
    }

    /// QEMU's implementation reads the command's arguments itself.
    pub const fn reads_own_arguments(self) -> Self {
        Self {
            reads_own_arguments: true,
            ..self
        }
    }
}

impl EventDef {
    /// An event carrying `data`.
    pub const fn new(name: &'static str, data: TypeRef) -> Self {
        Self {
            name,
            data,
            condition: None,
        }
    }

    /// The event exists only when `condition` holds.
    pub const fn only_if(self, condition: Condition) -> Self {
        Self {
            condition: Some(condition),
            ..self
        }
    }
}

impl TypeDef {
    /// An enumeration.
    pub const fn enumeration(name: &'static str, values: &'static [EnumValue]) -> Self {
        Self {
            name,
            kind: TypeKind::Enum { values },
        }
    }

    /// A struct.
    pub const fn structure(name: &'static str, members: &'static [Member]) -> Self {
        Self {
            name,
            kind: TypeKind::Struct { members },
        }
    }

    /// A union.
    pub const fn union(
        name: &'static str,
        members: &'static [Member],
        tag: &'static str,
        branches: &'static [Branch],
    ) -> Self {
        Self {
            name,
            kind: TypeKind::Union {
                members,
                tag,
                branches,
            },
        }
    }

    /// An alternate.
    pub const fn alternate(name: &'static str, alternatives: &'static [Alternative]) -> Self {
        Self {
            name,
            kind: TypeKind::Alternate { alternatives },
        }
    }
}

impl Member {
    /// A required member.
    pub const fn new(name: &'static str, ty: TypeRef) -> Self {
        Self {
            name,
            ty,
            optional: false,
            condition: None,
        }
    }

    /// The member is optional.
    pub const fn optional(self) -> Self {
        Self {
            optional: true,
            ..self
        }
    }

    /// The member exists only when `condition` holds.
    pub const fn only_if(self, condition: Condition) -> Self {
        Self {
            condition: Some(condition),
            ..self
        }
    }
}

impl EnumValue {
    /// A value.
    pub const fn new(name: &'static str) -> Self {
        Self {
            name,
            condition: None,
        }
    }

    /// The value exists only when `condition` holds.
    pub const fn only_if(self, condition: Condition) -> Self {
        Self {
            condition: Some(condition),
            ..self
        }
    }
}

impl Branch {
    /// The branch for `case`, adding the members of `ty`.
    pub const fn new(case: &'static str, ty: TypeRef) -> Self {
        Self {
            case,
            ty,
            condition: None,
        }
    }

    /// The branch exists only when `condition` holds.
    pub const fn only_if(self, condition: Condition) -> Self {
        Self {
            condition: Some(condition),
            ..self
        }
    }
}

impl Alternative {
    /// An alternative of type `ty`.
    pub const fn new(ty: TypeRef) -> Self {
        Self {
            ty,
            condition: None,
        }
    }

    /// The alternative exists only when `condition` holds.
    pub const fn only_if(self, condition: Condition) -> Self {
        Self {
            condition: Some(condition),
            ..self
        }
    }
}

impl BindingSchema {
    /// The named type `name` (a binary search; a table that is not sorted
    /// is searched through).
    pub fn lookup(&self, name: &str) -> Option<&'static TypeDef> {
        let types = self.types;
        match types.binary_search_by(|t| t.name.cmp(name)) {
            Ok(i) => Some(&types[i]),
            Err(_) => types.iter().find(|t| t.name == name),
        }
    }

    /// The command with wire name `name`.
    pub fn command(&self, name: &str) -> Option<&'static CommandDef> {
        self.commands.iter().find(|c| c.name == name)
    }

    /// The event with wire name `name`.
    pub fn event(&self, name: &str) -> Option<&'static EventDef> {
        self.events.iter().find(|e| e.name == name)
    }
}
