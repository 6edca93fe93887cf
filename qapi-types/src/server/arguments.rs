//! Checking a command's arguments as QEMU's input visitor does.
//!
//! QEMU's generated marshallers read a command's arguments with the QObject
//! input visitor: the members of each object in declaration order (a
//! union's common members, the discriminator among them, then its branch's),
//! each value checked against its type as it is read, an object's leftover
//! members reported once all of its members are read. The first error ends
//! the visit. This module walks a [`BindingSchema`] the same way and answers
//! QEMU's first error (always a `GenericError`), worded as QEMU words it:
//!
//! - a required member absent: `Parameter 'file.filename' is missing`;
//! - a member the type lacks: `Parameter 'children[0].zz' is unexpected`
//!   (of several, the one QEMU's hash table gives first: see `leftover`);
//! - a value of the wrong JSON type: `Invalid parameter type for
//!   'file.size', expected: integer` (`string`, `number`, `boolean`,
//!   `object`, `array`, `null`);
//! - no integer an unsigned one can be read from: `Parameter 'x.y' expects
//!   uint64`;
//! - an integer outside a narrower builtin's range: `Parameter 'y' expects
//!   uint16_t` (`int8_t`, `int32_t`, ...);
//! - an enumeration's unknown value: `Parameter 'y' does not accept value
//!   'z'`;
//! - a value none of an alternate's alternatives takes by its JSON type:
//!   `Invalid parameter type for 'y', expected: BlockdevRef`.
//!
//! The first four name the value by its path (`file.server.port`,
//! `enable[0]`), the last three by its own name only (`null` for an
//! array's element). Integers are read as QEMU's JSON parser reads them:
//! beyond the 64-bit ranges, or with a fraction or an exponent, a number is
//! a float, which no integer type takes; `uint64` and `size` take negative
//! integers, as QEMU does.
//!
//! What the schema defines under a condition (`'if'`) is there when the
//! server's build [`Conditions`] keep it, as in a QEMU built so: a member
//! left out is unexpected (and not missing), a value left out is not
//! accepted (a union's branch goes with its discriminator's value, as
//! QEMU's schemas make it; a branch left out adds no members), and an
//! alternative left out takes no value.

mod leftover;

use std::fmt;

use serde_json::{Map, Number, Value};

use super::conditions::Conditions;
use super::json::TOO_DEEP;
use crate::error::QmpError;
use crate::schema::table::{Builtin, Member, TypeKind, TypeRef};
use crate::schema::{BindingSchema, CommandDef};

/// How many objects and arrays may nest, the arguments object the first:
/// QEMU's JSON parser refuses a message nested deeper than 1,024 levels,
/// the request around the arguments one of them.
const MAX_NESTING: usize = super::json::MAX_NESTING - 1;

/// How many steps from a type to another without entering a value (an
/// alternate to its alternative, a union to its branch) a walk takes
/// before it takes the table for a cycle QEMU's schemas can't have.
const MAX_HOPS: usize = 16;

/// Checks `arguments` of `command` (a command of `schema`) as QEMU built
/// under `conditions` does before it runs a command: the error QEMU would
/// answer first (a missing, unexpected or mistyped member, a value an
/// enumeration lacks, ...), with QEMU's class and description.
///
/// A type the schema does not describe is taken as one that accepts any
/// value (bindings generated from a complete schema describe every type
/// they name). The walk keeps its own stack of the objects and arrays it
/// is in (no recursion), as deep as QEMU's parser lets a message nest.
///
/// The arguments of a command that reads them itself
/// ([`CommandDef::reads_own_arguments`], `device_add`) are not checked:
/// its implementation answers for them, as QEMU's does. Nor are arguments
/// whose type the table does not describe as an object.
pub fn check_arguments(
    schema: &BindingSchema,
    command: &CommandDef,
    arguments: &Map<String, Value>,
    conditions: &Conditions,
) -> Result<(), QmpError> {
    let walk = Walk { schema, conditions };
    // Arguments of a type the table does not describe as an object (`any`
    // in a hand-written table) are taken as any value is.
    if command.reads_own_arguments || walk.layout(command.arguments, arguments, 0).is_none() {
        return Ok(());
    }
    let mut stack = Vec::new();
    walk.enter_object(&mut stack, Name::Root, command.arguments, arguments)?;
    walk.run(&mut stack)
}

/// How a value is named in the object or array that holds it.
#[derive(Clone, Copy)]
enum Name<'v> {
    /// The arguments object itself.
    Root,
    /// A member of an object.
    Member(&'v str),
    /// An element of an array.
    Element(usize),
}

impl Name<'_> {
    /// The value's own name, as QEMU names it in the errors that do not
    /// give the path: the member's name, `null` for an array's element.
    fn own(&self) -> &str {
        match self {
            Name::Member(name) => name,
            Name::Root | Name::Element(_) => "null",
        }
    }
}

/// The objects and arrays the walk is in, the arguments first.
type Stack<'v> = Vec<Frame<'v>>;

/// An object or array the walk is in.
struct Frame<'v> {
    /// How its holder names it.
    name: Name<'v>,
    /// Where the walk is in it.
    place: Place<'v>,
}

/// Where the walk is in an object or array.
enum Place<'v> {
    /// In an object of an object type.
    Object {
        /// The object type (a struct or union).
        ty: TypeRef,
        /// The object.
        object: &'v Map<String, Value>,
        /// The members being read: the type's, then its branch's.
        members: &'static [Member],
        /// The next of them to read.
        next: usize,
        /// The branch whose members come after these.
        branch: Option<TypeRef>,
        /// The branches taken so far.
        hops: usize,
    },
    /// In an array.
    Array {
        /// The elements' type.
        element: TypeRef,
        /// The elements.
        items: &'v [Value],
        /// The next to read.
        next: usize,
    },
}

/// The full name of a value named `last` in the innermost of `stack`, as
/// QEMU writes it: `file.server.port`, `enable[0]`,
/// `children[1].filename`.
struct FullName<'a, 'v> {
    stack: &'a [Frame<'v>],
    last: Name<'v>,
}

impl fmt::Display for FullName<'_, '_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut empty = true;
        for name in self.stack.iter().map(|frame| frame.name).chain([self.last]) {
            match name {
                Name::Root => {}
                Name::Member(member) if empty => f.write_str(member)?,
                Name::Member(member) => write!(f, ".{member}")?,
                Name::Element(index) => write!(f, "[{index}]")?,
            }
            empty = matches!(name, Name::Root) && empty;
        }
        Ok(())
    }
}

fn full_name<'a, 'v>(stack: &'a [Frame<'v>], last: Name<'v>) -> FullName<'a, 'v> {
    FullName { stack, last }
}

/// `Invalid parameter type for 'NAME', expected: EXPECTED` (a path or a
/// member's own name).
fn invalid_type(name: &dyn fmt::Display, expected: &str) -> QmpError {
    QmpError::generic(format!(
        "Invalid parameter type for '{name}', expected: {expected}"
    ))
}

/// How a builtin refuses a value.
enum Refusal {
    /// Not of the JSON type; QEMU's word for the type.
    Type(&'static str),
    /// Not an integer an unsigned 64-bit one can be read from.
    NotUint64,
    /// An integer outside the range of the C type named.
    Range(&'static str),
}

/// The walk over the arguments and the schema's types, in the order of
/// QEMU's visit.
#[derive(Clone, Copy)]
struct Walk<'s> {
    schema: &'s BindingSchema,
    /// What of the schema's conditional parts is there.
    conditions: &'s Conditions,
}

impl Walk<'_> {
    /// Reads the objects and arrays on `stack` to their ends, and those
    /// their values push: QEMU's first error, if any.
    fn run<'v>(&self, stack: &mut Stack<'v>) -> Result<(), QmpError> {
        while let Some(frame) = stack.last_mut() {
            match &mut frame.place {
                Place::Object {
                    ty,
                    object,
                    members,
                    next,
                    branch,
                    hops,
                } => {
                    let object: &'v Map<String, Value> = object;
                    if let Some(member) = members.get(*next) {
                        *next += 1;
                        if !self.conditions.keeps(member.condition) {
                            continue;
                        }
                        let name = Name::Member(member.name);
                        match object.get(member.name) {
                            Some(value) => self.visit(stack, name, member.ty, value)?,
                            None if member.optional => {}
                            None => {
                                return Err(QmpError::generic(format!(
                                    "Parameter '{}' is missing",
                                    full_name(stack, name)
                                )))
                            }
                        }
                    } else if let Some((more, further)) = branch
                        .take()
                        .and_then(|branch| self.layout(branch, object, *hops + 1))
                    {
                        *members = more;
                        *next = 0;
                        *branch = further;
                        *hops += 1;
                    } else {
                        if let Some(key) = self.unexpected(*ty, object) {
                            return Err(QmpError::generic(format!(
                                "Parameter '{}' is unexpected",
                                full_name(stack, Name::Member(key))
                            )));
                        }
                        stack.pop();
                    }
                }
                Place::Array {
                    element,
                    items,
                    next,
                } => {
                    let items: &'v [Value] = items;
                    let element = *element;
                    if let Some(item) = items.get(*next) {
                        let name = Name::Element(*next);
                        *next += 1;
                        self.visit(stack, name, element, item)?;
                    } else {
                        stack.pop();
                    }
                }
            }
        }
        Ok(())
    }

    /// Reads `value`, named `name` in the innermost of `stack`, as a
    /// value of `ty`: a scalar at once, an object or array pushed onto
    /// `stack` to be read next.
    fn visit<'v>(
        &self,
        stack: &mut Stack<'v>,
        name: Name<'v>,
        ty: TypeRef,
        value: &'v Value,
    ) -> Result<(), QmpError> {
        let mut ty = ty;
        for hops in 0..=MAX_HOPS {
            let named = match ty {
                TypeRef::Builtin(builtin) => {
                    return builtin_value(builtin, value).map_err(|refusal| match refusal {
                        Refusal::Type(expected) => invalid_type(&full_name(stack, name), expected),
                        Refusal::NotUint64 => QmpError::generic(format!(
                            "Parameter '{}' expects uint64",
                            full_name(stack, name)
                        )),
                        Refusal::Range(c_type) => QmpError::generic(format!(
                            "Parameter '{}' expects {c_type}",
                            name.own()
                        )),
                    });
                }
                TypeRef::Array(element) => {
                    let Value::Array(items) = value else {
                        return Err(invalid_type(&full_name(stack, name), "array"));
                    };
                    return push(
                        stack,
                        Frame {
                            name,
                            place: Place::Array {
                                element: *element,
                                items,
                                next: 0,
                            },
                        },
                    );
                }
                TypeRef::Named(named) => named,
            };
            let Some(def) = self.schema.lookup(named) else {
                return Ok(());
            };
            match def.kind {
                TypeKind::Enum { values } => {
                    let Value::String(text) = value else {
                        return Err(invalid_type(&full_name(stack, name), "string"));
                    };
                    if values
                        .iter()
                        .any(|v| v.name == text && self.conditions.keeps(v.condition))
                    {
                        return Ok(());
                    }
                    return Err(QmpError::generic(format!(
                        "Parameter '{}' does not accept value '{text}'",
                        name.own()
                    )));
                }
                TypeKind::Struct { .. } | TypeKind::Union { .. } => {
                    let Value::Object(object) = value else {
                        return Err(invalid_type(&full_name(stack, name), "object"));
                    };
                    return self.enter_object(stack, name, ty, object);
                }
                TypeKind::Alternate { alternatives } => {
                    match alternatives.iter().find(|alternative| {
                        self.conditions.keeps(alternative.condition)
                            && self.takes_json_type(alternative.ty, value, hops)
                    }) {
                        Some(alternative) => ty = alternative.ty,
                        None => return Err(invalid_type(&name.own(), def.name)),
                    }
                }
            }
        }
        // A cycle of alternates QEMU's schemas can't have.
        Ok(())
    }

    /// Pushes `object`, named `name`, as an object of type `ty` onto
    /// `stack`.
    fn enter_object<'v>(
        &self,
        stack: &mut Stack<'v>,
        name: Name<'v>,
        ty: TypeRef,
        object: &'v Map<String, Value>,
    ) -> Result<(), QmpError> {
        let (members, branch) = self.layout(ty, object, 0).unwrap_or((&[], None));
        push(
            stack,
            Frame {
                name,
                place: Place::Object {
                    ty,
                    object,
                    members,
                    next: 0,
                    branch,
                    hops: 0,
                },
            },
        )
    }

    /// The members an object type declares itself, and the type of the
    /// branch `object` selects (for a union whose discriminator names
    /// one). `None` for a type that is not an object type, or a walk
    /// [`MAX_HOPS`] long.
    fn layout(
        &self,
        ty: TypeRef,
        object: &Map<String, Value>,
        hops: usize,
    ) -> Option<(&'static [Member], Option<TypeRef>)> {
        let TypeRef::Named(name) = ty else {
            return None;
        };
        if hops >= MAX_HOPS {
            return None;
        }
        match self.schema.lookup(name)?.kind {
            TypeKind::Struct { members } => Some((members, None)),
            TypeKind::Union {
                members,
                tag,
                branches,
            } => {
                let case = object.get(tag).and_then(Value::as_str);
                let branch = branches
                    .iter()
                    .find(|branch| {
                        Some(branch.case) == case && self.conditions.keeps(branch.condition)
                    })
                    .map(|branch| branch.ty);
                Some((members, branch))
            }
            TypeKind::Enum { .. } | TypeKind::Alternate { .. } => None,
        }
    }

    /// The members `ty` reads from `object`, in the order it reads them: a
    /// union's common members, then its branch's.
    fn read_order<'o>(
        &self,
        ty: TypeRef,
        object: &'o Map<String, Value>,
    ) -> impl Iterator<Item = &'static Member> + Clone + 'o
    where
        Self: 'o,
    {
        let walk = *self;
        let mut layout = walk.layout(ty, object, 0);
        let mut hops = 0;
        std::iter::from_fn(move || {
            let (members, branch) = layout?;
            hops += 1;
            layout = branch.and_then(|branch| walk.layout(branch, object, hops));
            Some(members)
        })
        .flatten()
        .filter(move |member| walk.conditions.keeps(member.condition))
    }

    /// The member of `object` QEMU reports as unexpected once every
    /// member `ty` declares is read, if any is left: the one left, or of
    /// several the first in the order of QEMU's hash table.
    fn unexpected<'o>(&self, ty: TypeRef, object: &'o Map<String, Value>) -> Option<&'o str> {
        let declared = self.read_order(ty, object);
        let mut undeclared = object
            .keys()
            .map(String::as_str)
            .filter(|key| !declared.clone().any(|member| member.name == *key));
        let first = undeclared.next()?;
        if undeclared.next().is_none() {
            return Some(first);
        }
        let read = declared
            .map(|member| member.name)
            .filter(|name| object.contains_key(*name));
        leftover::first_unexpected(object.keys().map(String::as_str), read)
    }

    /// Whether an alternative of type `ty` is the one QEMU picks for
    /// `value`, by its JSON type.
    fn takes_json_type(&self, ty: TypeRef, value: &Value, hops: usize) -> bool {
        match ty {
            TypeRef::Builtin(builtin) => match builtin {
                Builtin::Str => value.is_string(),
                Builtin::Bool => value.is_boolean(),
                Builtin::Null => value.is_null(),
                Builtin::Any => true,
                Builtin::Number
                | Builtin::Int
                | Builtin::Int8
                | Builtin::Int16
                | Builtin::Int32
                | Builtin::Int64
                | Builtin::Uint8
                | Builtin::Uint16
                | Builtin::Uint32
                | Builtin::Uint64
                | Builtin::Size => value.is_number(),
            },
            TypeRef::Array(_) => value.is_array(),
            TypeRef::Named(name) => match self.schema.lookup(name).map(|def| def.kind) {
                Some(TypeKind::Enum { .. }) => value.is_string(),
                Some(TypeKind::Struct { .. } | TypeKind::Union { .. }) => value.is_object(),
                Some(TypeKind::Alternate { alternatives }) => {
                    hops < MAX_HOPS
                        && alternatives.iter().any(|alternative| {
                            self.conditions.keeps(alternative.condition)
                                && self.takes_json_type(alternative.ty, value, hops + 1)
                        })
                }
                None => true,
            },
        }
    }
}

/// Pushes `frame` onto `stack`, or refuses as QEMU's parser does past
/// [`MAX_NESTING`].
fn push<'v>(stack: &mut Stack<'v>, frame: Frame<'v>) -> Result<(), QmpError> {
    if stack.len() >= MAX_NESTING {
        return Err(QmpError::generic(TOO_DEEP));
    }
    stack.push(frame);
    Ok(())
}

/// Reads `value` as a value of the builtin type `builtin`.
fn builtin_value(builtin: Builtin, value: &Value) -> Result<(), Refusal> {
    let (min, max, c_type) = match builtin {
        Builtin::Any => return Ok(()),
        Builtin::Str if value.is_string() => return Ok(()),
        Builtin::Str => return Err(Refusal::Type("string")),
        Builtin::Bool if value.is_boolean() => return Ok(()),
        Builtin::Bool => return Err(Refusal::Type("boolean")),
        Builtin::Null if value.is_null() => return Ok(()),
        Builtin::Null => return Err(Refusal::Type("null")),
        Builtin::Number if value.is_number() => return Ok(()),
        Builtin::Number => return Err(Refusal::Type("number")),
        Builtin::Int | Builtin::Int64 => (i64::MIN as i128, i64::MAX as i128, ""),
        Builtin::Int8 => (i8::MIN as i128, i8::MAX as i128, "int8_t"),
        Builtin::Int16 => (i16::MIN as i128, i16::MAX as i128, "int16_t"),
        Builtin::Int32 => (i32::MIN as i128, i32::MAX as i128, "int32_t"),
        Builtin::Uint64 | Builtin::Size => (0, u64::MAX as i128, ""),
        Builtin::Uint8 => (0, u8::MAX as i128, "uint8_t"),
        Builtin::Uint16 => (0, u16::MAX as i128, "uint16_t"),
        Builtin::Uint32 => (0, u32::MAX as i128, "uint32_t"),
    };
    let number = value.as_number();
    let n = if min < 0 {
        // Signed: read as int64 first.
        number
            .and_then(Number::as_i64)
            .ok_or(Refusal::Type("integer"))? as i128
    } else {
        // Unsigned: read as uint64 first, which takes negative integers
        // as their two's complement.
        number
            .and_then(|n| n.as_u64().or_else(|| n.as_i64().map(|n| n as u64)))
            .ok_or(Refusal::NotUint64)? as i128
    };
    if n < min || n > max {
        return Err(Refusal::Range(c_type));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::schema::table::{Alternative, Branch, Condition, EnumValue, TypeDef};

    /// A schema with one of each kind of type, sorted by name.
    static SCHEMA: BindingSchema = BindingSchema {
        commands: &[
            CommandDef::new("add", TypeRef::Named("Options"), TypeRef::Named("q_empty")),
            CommandDef::new(
                "set",
                TypeRef::Named("q_obj_set-arg"),
                TypeRef::Named("q_empty"),
            ),
            CommandDef::new("stop", TypeRef::Named("q_empty"), TypeRef::Named("q_empty")),
        ],
        events: &[],
        types: &[
            TypeDef::enumeration("Driver", &[EnumValue::new("file"), EnumValue::new("raw")]),
            TypeDef::structure(
                "FileOptions",
                &[
                    Member::new("filename", TypeRef::STR),
                    Member::new("cache", TypeRef::Named("Cache")).optional(),
                ],
            ),
            TypeDef::structure("Cache", &[Member::new("direct", TypeRef::BOOL).optional()]),
            TypeDef::union(
                "Options",
                &[
                    Member::new("driver", TypeRef::Named("Driver")),
                    Member::new("node-name", TypeRef::STR).optional(),
                ],
                "driver",
                &[
                    Branch::new("file", TypeRef::Named("FileOptions")),
                    Branch::new("raw", TypeRef::Named("RawOptions")),
                ],
            ),
            TypeDef::structure(
                "RawOptions",
                &[
                    Member::new("file", TypeRef::Named("Ref")),
                    Member::new("offset", TypeRef::INT).optional(),
                ],
            ),
            TypeDef::alternate(
                "Ref",
                &[
                    Alternative::new(TypeRef::Named("Options")),
                    Alternative::new(TypeRef::STR),
                    Alternative::new(TypeRef::NULL),
                ],
            ),
            TypeDef::structure("q_empty", &[]),
            TypeDef::structure(
                "q_obj_set-arg",
                &[
                    Member::new("name", TypeRef::STR),
                    Member::new("i8", TypeRef::INT8).optional(),
                    Member::new("i16", TypeRef::INT16).optional(),
                    Member::new("i32", TypeRef::INT32).optional(),
                    Member::new("i64", TypeRef::INT64).optional(),
                    Member::new("u8", TypeRef::UINT8).optional(),
                    Member::new("u16", TypeRef::UINT16).optional(),
                    Member::new("u32", TypeRef::UINT32).optional(),
                    Member::new("u64", TypeRef::UINT64).optional(),
                    Member::new("size", TypeRef::SIZE).optional(),
                    Member::new("number", TypeRef::NUMBER).optional(),
                    Member::new("flag", TypeRef::BOOL).optional(),
                    Member::new("nothing", TypeRef::NULL).optional(),
                    Member::new("anything", TypeRef::ANY).optional(),
                    Member::new("names", TypeRef::Array(&TypeRef::STR)).optional(),
                    Member::new("drivers", TypeRef::Array(&TypeRef::Named("Driver"))).optional(),
                    Member::new("refs", TypeRef::Array(&TypeRef::Named("Ref"))).optional(),
                    Member::new("matrix", TypeRef::Array(&TypeRef::Array(&TypeRef::INT)))
                        .optional(),
                    Member::new("unknown", TypeRef::Named("NotInTheTable")).optional(),
                ],
            ),
        ],
    };

    const POSIX: Condition = Condition::Defined("CONFIG_POSIX");
    const WIN32: Condition = Condition::Defined("CONFIG_WIN32");

    /// A schema whose parts are there in some builds only.
    static CONDITIONAL: BindingSchema = BindingSchema {
        commands: &[CommandDef::new(
            "listen",
            TypeRef::Named("Listen"),
            TypeRef::Named("q_empty"),
        )],
        events: &[],
        types: &[
            TypeDef::enumeration(
                "Kind",
                &[
                    EnumValue::new("unix").only_if(POSIX),
                    EnumValue::new("pipe").only_if(WIN32),
                    EnumValue::new("none"),
                ],
            ),
            TypeDef::union(
                "Listen",
                &[
                    Member::new("kind", TypeRef::Named("Kind")),
                    Member::new("backlog", TypeRef::INT)
                        .optional()
                        .only_if(WIN32),
                ],
                "kind",
                &[
                    Branch::new("unix", TypeRef::Named("Unix")).only_if(POSIX),
                    Branch::new("pipe", TypeRef::Named("Pipe")).only_if(WIN32),
                ],
            ),
            TypeDef::alternate(
                "Path",
                &[
                    Alternative::new(TypeRef::STR),
                    Alternative::new(TypeRef::INT).only_if(WIN32),
                ],
            ),
            TypeDef::structure("Pipe", &[Member::new("name", TypeRef::STR)]),
            TypeDef::structure(
                "Unix",
                &[
                    Member::new("path", TypeRef::Named("Path")),
                    Member::new("abstract", TypeRef::BOOL)
                        .only_if(Condition::Defined("CONFIG_LINUX")),
                ],
            ),
            TypeDef::structure("q_empty", &[]),
        ],
    };

    /// What checking `arguments` of `listen` under `conditions` answers.
    fn check_listen(conditions: &Conditions, arguments: Value) -> Result<(), String> {
        let command = CONDITIONAL.command("listen").expect("a command");
        let Value::Object(arguments) = arguments else {
            panic!("arguments are an object");
        };
        check_arguments(&CONDITIONAL, command, &arguments, conditions).map_err(|error| error.desc)
    }

    #[test]
    fn what_the_build_leaves_out_is_not_there() {
        let posix = Conditions::only(["CONFIG_POSIX"]);
        let check = |arguments| check_listen(&posix, arguments);
        assert_eq!(check(json!({"kind": "unix", "path": "/s"})), Ok(()));
        // A value left out; its branch with it.
        assert_eq!(
            check(json!({"kind": "pipe", "name": "p"})),
            err("Parameter 'kind' does not accept value 'pipe'")
        );
        // A member left out: unexpected, even when the schema requires it.
        assert_eq!(
            check(json!({"kind": "unix", "path": "/s", "backlog": 1})),
            err("Parameter 'backlog' is unexpected")
        );
        assert_eq!(
            check(json!({"kind": "unix", "path": "/s", "abstract": true})),
            err("Parameter 'abstract' is unexpected")
        );
        // An alternative left out.
        assert_eq!(
            check(json!({"kind": "unix", "path": 1})),
            err("Invalid parameter type for 'path', expected: Path")
        );
        let none = Conditions::only(Vec::<String>::new());
        assert_eq!(check_listen(&none, json!({"kind": "none"})), Ok(()));
        assert_eq!(
            check_listen(&none, json!({"kind": "unix", "path": "/s"})),
            err("Parameter 'kind' does not accept value 'unix'")
        );
    }

    #[test]
    fn what_the_build_keeps_is_there_and_required_where_the_schema_says() {
        let all = Conditions::all();
        assert_eq!(
            check_listen(&all, json!({"kind": "unix", "path": "/s"})),
            err("Parameter 'abstract' is missing")
        );
        for arguments in [
            json!({"kind": "pipe", "name": "p", "backlog": 1}),
            json!({"kind": "unix", "path": 1, "abstract": false}),
        ] {
            assert_eq!(check_listen(&all, arguments.clone()), Ok(()), "{arguments}");
            let windows_linux = Conditions::only(["CONFIG_WIN32", "CONFIG_POSIX", "CONFIG_LINUX"]);
            assert_eq!(
                check_listen(&windows_linux, arguments.clone()),
                Ok(()),
                "{arguments}"
            );
        }
    }

    /// What checking `arguments` of `command` answers: `Ok` or the
    /// error's description (always a `GenericError`).
    fn check(command: &str, arguments: Value) -> Result<(), String> {
        let command = SCHEMA.command(command).expect("a command of the schema");
        let Value::Object(arguments) = arguments else {
            panic!("arguments are an object");
        };
        check_arguments(&SCHEMA, command, &arguments, &Conditions::all()).map_err(|error| {
            assert_eq!(error.class, "GenericError");
            error.desc
        })
    }

    fn err(desc: &str) -> Result<(), String> {
        Err(desc.to_string())
    }

    #[test]
    fn a_required_member_absent_is_missing() {
        assert_eq!(check("set", json!({})), err("Parameter 'name' is missing"));
        assert_eq!(check("set", json!({"name": "x"})), Ok(()));
    }

    #[test]
    fn a_member_the_type_lacks_is_unexpected_once_the_others_are_read() {
        assert_eq!(
            check("stop", json!({"a": 1})),
            err("Parameter 'a' is unexpected")
        );
        assert_eq!(
            check("set", json!({"zz": 1, "name": "x"})),
            err("Parameter 'zz' is unexpected")
        );
        // Of several, the first in QEMU's hash table (see `leftover`).
        assert_eq!(
            check("stop", json!({"a": 1, "b": 2})),
            err("Parameter 'b' is unexpected")
        );
        // A mistyped member declared later is reported first.
        assert_eq!(
            check(
                "set",
                json!({"zz": 1, "name": "x", "anything": 1, "flag": 1})
            ),
            err("Invalid parameter type for 'flag', expected: boolean")
        );
    }

    #[test]
    fn each_builtin_names_the_json_type_it_expects() {
        for (member, wrong, expected) in [
            ("name", json!(1), "string"),
            ("flag", json!("true"), "boolean"),
            ("number", json!("1"), "number"),
            ("nothing", json!(0), "null"),
            ("i64", json!(true), "integer"),
            ("i64", json!(1.5), "integer"),
            ("i64", json!(9_223_372_036_854_775_808u64), "integer"),
            ("i8", json!(1.0), "integer"),
            ("names", json!("a"), "array"),
        ] {
            let mut arguments = json!({"name": "x"});
            arguments[member] = wrong;
            assert_eq!(
                check("set", arguments),
                Err(format!(
                    "Invalid parameter type for '{member}', expected: {expected}"
                )),
                "{member}"
            );
        }
    }

    #[test]
    fn null_is_a_value_even_for_an_optional_member() {
        assert_eq!(
            check("set", json!({"name": "x", "flag": null})),
            err("Invalid parameter type for 'flag', expected: boolean")
        );
        assert_eq!(check("set", json!({"name": "x", "nothing": null})), Ok(()));
    }

    #[test]
    fn any_takes_every_value() {
        for value in [json!(null), json!(1), json!({"a": [1]}), json!("s")] {
            assert_eq!(
                check("set", json!({"name": "x", "anything": value})),
                Ok(())
            );
        }
    }

    #[test]
    fn integers_fit_their_ranges() {
        for (member, good, bad, c_type) in [
            (
                "i8",
                vec![json!(-128), json!(127)],
                vec![json!(128), json!(-129)],
                "int8_t",
            ),
            (
                "i16",
                vec![json!(-32768), json!(32767)],
                vec![json!(32768)],
                "int16_t",
            ),
            (
                "i32",
                vec![json!(i32::MIN), json!(i32::MAX)],
                vec![json!(1u64 << 31)],
                "int32_t",
            ),
            (
                "u8",
                vec![json!(0), json!(255)],
                vec![json!(256), json!(-1)],
                "uint8_t",
            ),
            (
                "u16",
                vec![json!(65535)],
                vec![json!(65536), json!(-65536)],
                "uint16_t",
            ),
            (
                "u32",
                vec![json!(u32::MAX)],
                vec![json!(1u64 << 32), json!(i64::MIN)],
                "uint32_t",
            ),
        ] {
            for value in good {
                assert_eq!(
                    check("set", json!({"name": "x", member: value})),
                    Ok(()),
                    "{member}"
                );
            }
            for value in bad {
                assert_eq!(
                    check("set", json!({"name": "x", member: value})),
                    Err(format!("Parameter '{member}' expects {c_type}")),
                    "{member} {value}"
                );
            }
        }
        for member in ["i64", "i8"] {
            assert_eq!(
                check("set", json!({"name": "x", member: i64::MIN})),
                if member == "i64" {
                    Ok(())
                } else {
                    err("Parameter 'i8' expects int8_t")
                }
            );
        }
    }

    #[test]
    fn uint64_and_size_take_negative_integers_but_no_fraction() {
        for member in ["u64", "size"] {
            for good in [json!(-1), json!(u64::MAX), json!(i64::MIN)] {
                assert_eq!(check("set", json!({"name": "x", member: good})), Ok(()));
            }
            for bad in [json!(1.0), json!("1"), json!(1e30), json!(true)] {
                assert_eq!(
                    check("set", json!({"name": "x", member: bad})),
                    Err(format!("Parameter '{member}' expects uint64"))
                );
            }
        }
        assert_eq!(
            check("set", json!({"name": "x", "u8": "1"})),
            err("Parameter 'u8' expects uint64")
        );
    }

    #[test]
    fn number_takes_every_number() {
        for value in [json!(1), json!(-1), json!(u64::MAX), json!(1.5)] {
            assert_eq!(check("set", json!({"name": "x", "number": value})), Ok(()));
        }
    }

    #[test]
    fn an_enumeration_takes_its_values_only() {
        assert_eq!(
            check("add", json!({"driver": "nope"})),
            err("Parameter 'driver' does not accept value 'nope'")
        );
        assert_eq!(
            check("add", json!({"driver": 1})),
            err("Invalid parameter type for 'driver', expected: string")
        );
        assert_eq!(
            check("set", json!({"name": "x", "drivers": ["raw", "nope"]})),
            err("Parameter 'null' does not accept value 'nope'")
        );
    }

    #[test]
    fn arrays_name_their_elements_by_index() {
        assert_eq!(
            check("set", json!({"name": "x", "names": ["a", 2]})),
            err("Invalid parameter type for 'names[1]', expected: string")
        );
        assert_eq!(
            check("set", json!({"name": "x", "matrix": [[1], [2, "3"]]})),
            err("Invalid parameter type for 'matrix[1][1]', expected: integer")
        );
        assert_eq!(
            check("set", json!({"name": "x", "matrix": [1]})),
            err("Invalid parameter type for 'matrix[0]', expected: array")
        );
        assert_eq!(check("set", json!({"name": "x", "names": []})), Ok(()));
    }

    #[test]
    fn a_union_reads_its_discriminator_then_its_branch() {
        assert_eq!(
            check("add", json!({})),
            err("Parameter 'driver' is missing")
        );
        assert_eq!(
            check("add", json!({"driver": "file"})),
            err("Parameter 'filename' is missing")
        );
        assert_eq!(
            check("add", json!({"driver": "file", "filename": "f"})),
            Ok(())
        );
        // The common members come first.
        assert_eq!(
            check("add", json!({"driver": "file", "node-name": 1})),
            err("Invalid parameter type for 'node-name', expected: string")
        );
        // Another branch's member is unexpected.
        assert_eq!(
            check(
                "add",
                json!({"driver": "file", "filename": "f", "offset": 1})
            ),
            err("Parameter 'offset' is unexpected")
        );
    }

    #[test]
    fn nested_objects_are_named_by_their_path() {
        assert_eq!(
            check("add", json!({"driver": "raw", "file": {"driver": "file"}})),
            err("Parameter 'file.filename' is missing")
        );
        assert_eq!(
            check(
                "add",
                json!({"driver": "raw", "file": {"driver": "file", "filename": "f", "cache": 1}})
            ),
            err("Invalid parameter type for 'file.cache', expected: object")
        );
        assert_eq!(
            check(
                "add",
                json!({"driver": "raw", "file": {"driver": "file", "filename": "f", "cache": {"x": 1}}})
            ),
            err("Parameter 'file.cache.x' is unexpected")
        );
        // An inner object's leftover is reported before the outer one's.
        assert_eq!(
            check(
                "add",
                json!({"driver": "raw", "zz": 1, "file": {"driver": "file", "filename": "f", "yy": 1}})
            ),
            err("Parameter 'file.yy' is unexpected")
        );
        assert_eq!(
            check(
                "set",
                json!({"name": "x", "refs": ["a", {"driver": "raw", "file": {"driver": "file"}}]})
            ),
            err("Parameter 'refs[1].file.filename' is missing")
        );
        // Errors that name only the value's own name.
        assert_eq!(
            check(
                "add",
                json!({"driver": "raw", "file": {"driver": "raw", "file": "f", "offset": 1}, "offset": 1})
            ),
            Ok(())
        );
        assert_eq!(
            check("add", json!({"driver": "raw", "file": {"driver": "nope"}})),
            err("Parameter 'driver' does not accept value 'nope'")
        );
    }

    #[test]
    fn an_alternate_picks_its_alternative_by_json_type() {
        for good in [
            json!("node"),
            json!(null),
            json!({"driver": "file", "filename": "f"}),
        ] {
            assert_eq!(check("add", json!({"driver": "raw", "file": good})), Ok(()));
        }
        for bad in [json!(1), json!(true), json!([])] {
            assert_eq!(
                check("add", json!({"driver": "raw", "file": bad})),
                err("Invalid parameter type for 'file', expected: Ref")
            );
        }
        assert_eq!(
            check("set", json!({"name": "x", "refs": [1]})),
            err("Invalid parameter type for 'null', expected: Ref")
        );
    }

    #[test]
    fn a_type_missing_from_the_table_takes_any_value() {
        assert_eq!(
            check("set", json!({"name": "x", "unknown": [1, {}]})),
            Ok(())
        );
    }

    /// `levels` objects nested in the arguments of `add`: the arguments
    /// and `levels` - 1 more in one another.
    fn nested(levels: usize) -> Map<String, Value> {
        let mut value = json!({"driver": "file", "filename": 1});
        for _ in 1..levels {
            // Not json!, which would serialize the value (recursively).
            let mut outer = Map::new();
            outer.insert("driver".to_string(), Value::from("raw"));
            outer.insert("file".to_string(), value);
            value = Value::Object(outer);
        }
        let Value::Object(arguments) = value else {
            unreachable!()
        };
        arguments
    }

    /// As deep as QEMU's parser reads, the walk reads (on a small stack:
    /// it does not recurse); deeper, it refuses as QEMU's parser does.
    #[test]
    fn nesting_as_deep_as_qemu_reads() {
        let command = SCHEMA.command("add").expect("a command");
        let answers = std::thread::Builder::new()
            .stack_size(256 << 10)
            .spawn(move || {
                [MAX_NESTING, MAX_NESTING + 1, 100_000].map(|levels| {
                    let arguments = nested(levels);
                    let answer = check_arguments(&SCHEMA, command, &arguments, &Conditions::all());
                    // serde_json drops a value recursively.
                    std::mem::forget(arguments);
                    answer
                })
            })
            .expect("a thread")
            .join()
            .expect("no overflow");
        let path = vec!["file"; MAX_NESTING - 1].join(".");
        assert_eq!(
            answers,
            [
                Err(QmpError::generic(format!(
                    "Invalid parameter type for '{path}.filename', expected: string"
                ))),
                Err(QmpError::generic(TOO_DEEP)),
                Err(QmpError::generic(TOO_DEEP)),
            ]
        );
    }

    /// Tables QEMU's schemas can't make (a type that is its own
    /// alternative or branch) end the walk instead of looping.
    #[test]
    fn cyclic_tables_end() {
        static CYCLIC: BindingSchema = BindingSchema {
            commands: &[CommandDef::new("c", TypeRef::Named("U"), TypeRef::NULL)],
            events: &[],
            types: &[
                TypeDef::alternate("A", &[Alternative::new(TypeRef::Named("A"))]),
                TypeDef::union(
                    "U",
                    &[
                        Member::new("tag", TypeRef::STR),
                        Member::new("a", TypeRef::Named("A")).optional(),
                    ],
                    "tag",
                    &[Branch::new("u", TypeRef::Named("U"))],
                ),
            ],
        };
        let arguments = json!({"tag": "u", "a": 1});
        let Value::Object(arguments) = arguments else {
            unreachable!()
        };
        let command = CYCLIC.command("c").expect("a command");
        assert_eq!(
            check_arguments(&CYCLIC, command, &arguments, &Conditions::all()),
            Err(QmpError::generic(
                "Invalid parameter type for 'a', expected: A"
            ))
        );
    }

    /// A JSON value of a few levels whose member names are mostly the
    /// schema's, with numbers of every kind serde_json holds.
    fn value() -> impl proptest::strategy::Strategy<Value = Value> {
        use proptest::prelude::*;
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::from),
            any::<i64>().prop_map(Value::from),
            any::<u64>().prop_map(Value::from),
            any::<f64>().prop_map(Value::from),
            prop_oneof![Just("file"), Just("raw"), Just("f"), Just("nope")].prop_map(Value::from),
        ];
        let names = prop_oneof![
            Just("driver".to_string()),
            Just("file".to_string()),
            Just("filename".to_string()),
            Just("cache".to_string()),
            Just("direct".to_string()),
            Just("offset".to_string()),
            Just("node-name".to_string()),
            "[a-zé-]{1,6}",
        ];
        leaf.prop_recursive(6, 64, 6, move |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..4).prop_map(Value::from),
                prop::collection::btree_map(names.clone(), inner, 0..8)
                    .prop_map(|map| Value::Object(map.into_iter().collect())),
            ]
        })
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(512))]

        /// Whatever the arguments, the answer is Ok or one of QEMU's
        /// errors, and an unexpected member is one the arguments have.
        #[test]
        fn any_arguments_get_an_answer(value in value(), command in 0..3usize) {
            let Value::Object(arguments) = value else {
                return Ok(());
            };
            let command = &SCHEMA.commands[command];
            if let Err(error) = check_arguments(&SCHEMA, command, &arguments, &Conditions::all()) {
                proptest::prop_assert_eq!(&error.class, "GenericError");
                let desc = &error.desc;
                proptest::prop_assert!(
                    desc.starts_with("Parameter '") || desc.starts_with("Invalid parameter type for '"),
                    "{}", desc
                );
                if let Some(name) = desc
                    .strip_prefix("Parameter '")
                    .and_then(|rest| rest.strip_suffix("' is unexpected"))
                {
                    let last = name.rsplit('.').next().unwrap_or(name);
                    proptest::prop_assert!(
                        json_has_key(&Value::Object(arguments.clone()), last),
                        "{} not in the arguments", last
                    );
                }
            }
        }
    }

    /// Whether `value` has a member named `key` at any depth.
    fn json_has_key(value: &Value, key: &str) -> bool {
        match value {
            Value::Object(map) => {
                map.contains_key(key) || map.values().any(|v| json_has_key(v, key))
            }
            Value::Array(items) => items.iter().any(|v| json_has_key(v, key)),
            _ => false,
        }
    }
}
