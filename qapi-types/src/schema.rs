//! Bindings against a server: what the bindings use that the server lacks.
//!
//! Generated bindings describe themselves in a [`BindingSchema`] (`SCHEMA`
//! at the root of the generated module): their commands, events and the
//! types these reach, with QAPI names. [`check`] compares it with what a
//! server describes in its `query-qmp-schema` reply (`Qmp::check_schema`
//! runs both), and reports every [`Mismatch`]: a command the server lacks,
//! an argument it does not know or requires, a reply member the bindings
//! require but the server may leave out, an enumeration value it rejects,
//! a type that is a different kind of JSON value on the server.
//!
//! The server names its types with meaningless numbers, so types are
//! paired structurally, starting from commands and events (by name):
//! arguments with `arg-type`, returns with `ret-type`, members by name,
//! union branches by case, array elements, alternates' alternatives by
//! JSON type. Each pair of types is compared once, in each direction: a
//! mismatch is reported at the first place that reaches it.
//!
//! What the server offers beyond the bindings is fine (newer servers add
//! commands, members and values) and only counted ([`ServerOnly`]).
//! Definitions, members and values that the schema makes conditional
//! (`'if'`) may be absent from a server built without them: their
//! mismatches are notes, which [`SchemaReport::is_compatible`] accepts.
//! A missing event is a note too.
//!
//! Whatever the server sends, the report stays small: the members a
//! server's object requires and the bindings lack are one mismatch for
//! the pair of objects, names the server chose are shortened, and at most
//! [`MAX_KEPT`] incompatibilities and as many notes are kept (the others
//! are counted).

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::rc::Rc;

use crate::qmp::{
    JSONType, SchemaInfo, SchemaInfoAlternate, SchemaInfoBranch, SchemaInfoEnum,
    SchemaInfoEnumMember, SchemaInfoObject, SchemaInfoObjectMember, SchemaInfoObjectVariant,
};

/// What a set of bindings uses: generated as `SCHEMA` beside the
/// bindings.
///
/// Types are named as in the schema: builtins (`str`, `int`, `uint8`,
/// `size`, `number`, `bool`, `any`, `null`), arrays as `[Element]`,
/// implicit objects as QAPI names them (`q_obj_blockdev-del-arg`, and
/// `q_empty` for the empty object); the others are described in
/// [`types`](Self::types).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BindingSchema {
    /// The commands.
    pub commands: &'static [CommandDef],
    /// The events.
    pub events: &'static [EventDef],
    /// The types the commands and events reach, sorted by name.
    pub types: &'static [TypeDef],
}

/// A command of a [`BindingSchema`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CommandDef {
    /// The wire name.
    pub name: &'static str,
    /// The arguments' object type.
    pub arguments: &'static str,
    /// The return type.
    pub returns: &'static str,
    /// Whether the bindings may execute it out of band.
    pub allow_oob: bool,
    /// Whether the schema defines it only under a condition.
    pub conditional: bool,
}

/// An event of a [`BindingSchema`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EventDef {
    /// The wire name.
    pub name: &'static str,
    /// The data's object type.
    pub data: &'static str,
    /// Whether the schema defines it only under a condition.
    pub conditional: bool,
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
        values: Entries<EnumValue>,
    },
    /// A struct: an object whose members are always the same.
    Struct {
        /// Its members, the base's included.
        members: Entries<Member>,
    },
    /// A union: common members, one of which selects a branch.
    Union {
        /// The common members, the discriminator included.
        members: Entries<Member>,
        /// The discriminator's name.
        tag: &'static str,
        /// The branches that add members.
        branches: Entries<Branch>,
    },
    /// An alternate: a value of one of several types, told apart by
    /// JSON type.
    Alternate {
        /// The alternatives.
        alternatives: Entries<Alternative>,
    },
}

/// A member of a struct, union or arguments object.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Member {
    /// The wire name.
    pub name: &'static str,
    /// Its type.
    pub ty: &'static str,
    /// Whether the schema makes it optional.
    pub optional: bool,
    /// Whether the schema defines it only under a condition (the bindings
    /// then hold it as optional whatever the schema says).
    pub conditional: bool,
}

/// A value of an enumeration.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EnumValue {
    /// The wire name.
    pub name: &'static str,
    /// Whether the schema defines it only under a condition.
    pub conditional: bool,
}

/// A branch of a union.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Branch {
    /// The discriminator's value that selects it.
    pub case: &'static str,
    /// The object type whose members it adds.
    pub ty: &'static str,
    /// Whether the schema defines it only under a condition.
    pub conditional: bool,
}

/// An alternative of an alternate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Alternative {
    /// Its type.
    pub ty: &'static str,
    /// Whether the schema defines it only under a condition.
    pub conditional: bool,
}

// Constructors, which keep the generated tables short.

impl CommandDef {
    /// A command taking `arguments` and returning `returns`.
    pub const fn new(name: &'static str, arguments: &'static str, returns: &'static str) -> Self {
        Self {
            name,
            arguments,
            returns,
            allow_oob: false,
            conditional: false,
        }
    }

    /// The command may be executed out of band.
    pub const fn allow_oob(self) -> Self {
        Self {
            allow_oob: true,
            ..self
        }
    }

    /// The command exists only under a condition.
    pub const fn conditional(self) -> Self {
        Self {
            conditional: true,
            ..self
        }
    }
}

impl EventDef {
    /// An event carrying `data`.
    pub const fn new(name: &'static str, data: &'static str) -> Self {
        Self {
            name,
            data,
            conditional: false,
        }
    }

    /// The event exists only under a condition.
    pub const fn conditional(self) -> Self {
        Self {
            conditional: true,
            ..self
        }
    }
}

impl TypeDef {
    /// An enumeration.
    pub const fn enumeration(name: &'static str, values: &'static str) -> Self {
        Self {
            name,
            kind: TypeKind::Enum {
                values: Entries::new(values),
            },
        }
    }

    /// A struct.
    pub const fn structure(name: &'static str, members: &'static str) -> Self {
        Self {
            name,
            kind: TypeKind::Struct {
                members: Entries::new(members),
            },
        }
    }

    /// A union.
    pub const fn union(
        name: &'static str,
        members: &'static str,
        tag: &'static str,
        branches: &'static str,
    ) -> Self {
        Self {
            name,
            kind: TypeKind::Union {
                members: Entries::new(members),
                tag,
                branches: Entries::new(branches),
            },
        }
    }

    /// An alternate.
    pub const fn alternate(name: &'static str, alternatives: &'static str) -> Self {
        Self {
            name,
            kind: TypeKind::Alternate {
                alternatives: Entries::new(alternatives),
            },
        }
    }
}

/// Entries of a [`TypeDef`], written in one string: `", "` between
/// entries, a leading `~` on those the schema makes conditional.
///
/// - members: `name: type`, with `*` before the name of optional ones
///   (as QAPI writes them): `"*device: str, slot: str, ~*tls: bool"`;
/// - enumeration values: `"tcp, unix, ~vsock"`;
/// - union branches: `case: type`: `"tcp: TcpAddress, ~unix: UnixAddress"`;
/// - alternatives: their types: `"Listener, ~str"`.
///
/// QAPI names hold none of `,`, `:`, `*`, `~` or spaces. A malformed entry
/// reads as one with an empty name or type (which matches nothing on a
/// server).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[doc(hidden)]
pub struct Entries<T> {
    text: &'static str,
    entry: std::marker::PhantomData<fn() -> T>,
}

impl<T: Entry + 'static> Entries<T> {
    /// The entries written in `text`.
    pub const fn new(text: &'static str) -> Self {
        Self {
            text,
            entry: std::marker::PhantomData,
        }
    }

    /// The entries, in order.
    pub fn iter(&self) -> impl Iterator<Item = T> + Clone + 'static {
        self.text
            .split(", ")
            .filter(|e| !e.trim().is_empty())
            .map(T::parse)
    }

    /// The text, as generated.
    pub fn text(&self) -> &'static str {
        self.text
    }
}

impl<T: Entry + 'static> IntoIterator for Entries<T> {
    type Item = T;
    type IntoIter = Box<dyn Iterator<Item = T>>;

    fn into_iter(self) -> Self::IntoIter {
        Box::new(self.iter())
    }
}

/// An entry of [`Entries`].
pub trait Entry: Sized {
    /// Reads one entry (without the `", "` between entries).
    fn parse(text: &'static str) -> Self;
}

/// Splits off the conditional marker `~`.
fn conditional(text: &'static str) -> (&'static str, bool) {
    match text.strip_prefix('~') {
        Some(rest) => (rest, true),
        None => (text, false),
    }
}

impl Entry for Member {
    fn parse(text: &'static str) -> Self {
        let (text, conditional) = conditional(text);
        let (text, optional) = match text.strip_prefix('*') {
            Some(rest) => (rest, true),
            None => (text, false),
        };
        let (name, ty) = text.split_once(": ").unwrap_or((text, ""));
        Member {
            name,
            ty,
            optional,
            conditional,
        }
    }
}

impl Entry for EnumValue {
    fn parse(text: &'static str) -> Self {
        let (name, conditional) = conditional(text);
        EnumValue { name, conditional }
    }
}

impl Entry for Branch {
    fn parse(text: &'static str) -> Self {
        let (text, conditional) = conditional(text);
        let (case, ty) = text.split_once(": ").unwrap_or((text, ""));
        Branch {
            case,
            ty,
            conditional,
        }
    }
}

impl Entry for Alternative {
    fn parse(text: &'static str) -> Self {
        let (ty, conditional) = conditional(text);
        Alternative { ty, conditional }
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

/// Where a [`Mismatch`] is.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Location {
    /// A command itself (its name, `allow-oob`).
    Command(String),
    /// A command's arguments: what the bindings send.
    Arguments(String),
    /// A command's return value: what the bindings decode.
    Return(String),
    /// An event itself.
    Event(String),
    /// An event's data: what the bindings decode.
    Data(String),
}

impl Location {
    /// The command's or event's wire name.
    pub fn name(&self) -> &str {
        match self {
            Location::Command(name)
            | Location::Arguments(name)
            | Location::Return(name)
            | Location::Event(name)
            | Location::Data(name) => name,
        }
    }

    /// Whether this is what the bindings send (rather than decode).
    fn sends(&self) -> bool {
        matches!(self, Location::Arguments(_))
    }
}

/// What differs.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum MismatchKind {
    /// The command or event is not known to the server.
    Missing,
    /// The server has the name, but not as a command (for an event, not
    /// as an event): the command (event) is as good as missing. Holds
    /// what the server has there: its meta-type (`event`, `object`, ...).
    OtherMetaType(String),
    /// The command may be executed out of band in the bindings, not on the
    /// server.
    NotOob,
    /// The bindings can send the member; the server does not know it.
    UnknownMember,
    /// The server requires the member; the bindings hold it as optional
    /// (as they hold every member the schema makes conditional), so they
    /// may leave it out.
    RequiredByServer,
    /// The server requires members of the object that the bindings lack:
    /// one mismatch for each pair of objects compared, with the first
    /// eight names in the server's order and how many more there are.
    MissingRequired {
        /// The first names.
        names: Vec<String>,
        /// How many more the server requires.
        more: usize,
    },
    /// The bindings require the member in what they decode; the server
    /// lacks it, or may leave it out (`optional_on_server`).
    RequiredByBindings {
        /// Whether the server has the member, as optional.
        optional_on_server: bool,
    },
    /// The bindings can send this enumeration value; the server does not
    /// know it.
    UnknownValue(String),
    /// The value is a different kind of JSON value on each side: `str`,
    /// `int`, `number`, `bool`, `null`, `any`, `enum`, `object`, `array`,
    /// `alternate`.
    Kind {
        /// What the bindings have.
        bindings: String,
        /// What the server has.
        server: String,
    },
    /// A union whose discriminator differs: `None` when the server's
    /// object is not a union.
    Discriminator {
        /// The bindings' discriminator.
        bindings: String,
        /// The server's.
        server: Option<String>,
    },
    /// What the server said (or, for hand-written tables, the bindings)
    /// cannot be checked: a type named but not described, an unknown
    /// meta-type.
    Unrecognized(String),
}

/// One thing the bindings use that the server lacks or has otherwise.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct Mismatch {
    /// The command or event, and which side of it.
    pub location: Location,
    /// Where within the arguments, return value or data: member names
    /// joined by `.`, `[]` for an array's elements, `[tag=case]` for a
    /// union's branch; empty for the whole.
    pub path: String,
    /// What differs.
    pub kind: MismatchKind,
    /// Whether what the bindings have there exists only under a schema
    /// condition, so that a server built without it lacks it rightly.
    pub conditional: bool,
}

impl Mismatch {
    /// Whether using what it affects can fail with this server: anything
    /// but a missing event, a conditional definition, or what cannot be
    /// checked.
    pub fn is_incompatible(&self) -> bool {
        !self.conditional
            && !matches!(self.kind, MismatchKind::Unrecognized(_))
            && !matches!(
                (&self.location, &self.kind),
                (
                    Location::Event(_),
                    MismatchKind::Missing | MismatchKind::OtherMetaType(_)
                )
            )
    }
}

impl fmt::Display for Mismatch {
    /// `command 'blockdev-add' argument 'node-name': not known to the
    /// server`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let path = &self.path;
        let (what, name) = match &self.location {
            Location::Command(name) => ("command", name),
            Location::Event(name) => ("event", name),
            Location::Arguments(name) => ("command", name),
            Location::Return(name) => ("command", name),
            Location::Data(name) => ("event", name),
        };
        write!(f, "{what} '{name}'")?;
        let part = match &self.location {
            Location::Arguments(_) if path.is_empty() => " arguments",
            Location::Arguments(_) => " argument",
            Location::Return(_) => " return",
            Location::Data(_) => " data",
            Location::Command(_) | Location::Event(_) => "",
        };
        f.write_str(part)?;
        if !path.is_empty() {
            write!(f, " '{path}'")?;
        }
        f.write_str(": ")?;
        match &self.kind {
            MismatchKind::Missing | MismatchKind::UnknownMember => {
                f.write_str("not known to the server")?
            }
            MismatchKind::OtherMetaType(meta_type) => {
                let (what, name) = match &self.location {
                    Location::Event(name) | Location::Data(name) => ("an event", name),
                    Location::Command(name)
                    | Location::Arguments(name)
                    | Location::Return(name) => ("a command", name),
                };
                write!(
                    f,
                    "not known to the server as {what}: the server's '{name}' has meta-type \
                     '{meta_type}'"
                )?
            }
            MismatchKind::NotOob => f.write_str("allow-oob in the bindings, not on the server")?,
            MismatchKind::RequiredByServer => {
                f.write_str("required by the server, optional in the bindings")?
            }
            MismatchKind::MissingRequired { names, more } => {
                let plural = names.len() + more > 1;
                f.write_str(if plural { "members " } else { "member " })?;
                for (i, name) in names.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "'{name}'")?;
                }
                if *more > 0 {
                    write!(f, " and {more} more")?;
                }
                f.write_str(" required by the server, absent from the bindings")?
            }
            MismatchKind::RequiredByBindings { optional_on_server } => {
                if *optional_on_server {
                    f.write_str("required by the bindings, optional on the server")?
                } else {
                    f.write_str("required by the bindings, absent on the server")?
                }
            }
            MismatchKind::UnknownValue(value) => {
                write!(f, "value '{value}' not known to the server")?
            }
            MismatchKind::Kind { bindings, server } => {
                if self.location.sends() {
                    write!(
                        f,
                        "the bindings send {bindings}, the server expects {server}"
                    )?
                } else {
                    write!(
                        f,
                        "the bindings expect {bindings}, the server sends {server}"
                    )?
                }
            }
            MismatchKind::Discriminator { bindings, server } => match server {
                Some(server) => write!(
                    f,
                    "a union on '{bindings}' in the bindings, on '{server}' on the server"
                )?,
                None => write!(
                    f,
                    "a union on '{bindings}' in the bindings, not a union on the server"
                )?,
            },
            MismatchKind::Unrecognized(why) => write!(f, "cannot check: {why}")?,
        }
        if self.conditional {
            f.write_str(" (conditional in the schema)")?;
        }
        Ok(())
    }
}

/// What the server has that the bindings lack: harmless, counted.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ServerOnly {
    /// Commands.
    pub commands: usize,
    /// Events.
    pub events: usize,
    /// Members of the server's objects that the bindings' objects paired
    /// with them lack, counted once for each pair and direction.
    pub members: usize,
}

/// How many incompatibilities, and as many notes, a [`SchemaReport`]
/// keeps at most; the others are only counted
/// ([`SchemaReport::incompatibilities_left_out`],
/// [`SchemaReport::notes_left_out`]).
pub const MAX_KEPT: usize = 1000;

/// How many names of members the server requires and the bindings lack a
/// [`MismatchKind::MissingRequired`] holds.
const MAX_NAMES: usize = 8;

/// How many characters of a name the server chose a report holds.
const MAX_NAME_LEN: usize = 100;

/// The result of [`check`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SchemaReport {
    mismatches: Vec<Mismatch>,
    server_only: ServerOnly,
    /// Incompatibilities and notes kept.
    kept: (usize, usize),
    /// Incompatibilities and notes left out beyond [`MAX_KEPT`].
    left_out: (usize, usize),
}

impl SchemaReport {
    /// Whether nothing the bindings use can fail with this server: no
    /// mismatch but notes ([`Mismatch::is_incompatible`]).
    pub fn is_compatible(&self) -> bool {
        self.kept.0 == 0 && self.left_out.0 == 0
    }

    /// Every mismatch kept, notes included, in the bindings' order.
    pub fn mismatches(&self) -> &[Mismatch] {
        &self.mismatches
    }

    /// The mismatches that make the server incompatible, in the bindings'
    /// order.
    pub fn incompatibilities(&self) -> impl Iterator<Item = &Mismatch> {
        self.mismatches.iter().filter(|m| m.is_incompatible())
    }

    /// The mismatches that leave the server compatible (conditional
    /// definitions, missing events, what cannot be checked), in the
    /// bindings' order.
    pub fn notes(&self) -> impl Iterator<Item = &Mismatch> {
        self.mismatches.iter().filter(|m| !m.is_incompatible())
    }

    /// How many incompatibilities were found beyond the [`MAX_KEPT`]
    /// kept.
    pub fn incompatibilities_left_out(&self) -> usize {
        self.left_out.0
    }

    /// How many notes were found beyond the [`MAX_KEPT`] kept.
    pub fn notes_left_out(&self) -> usize {
        self.left_out.1
    }

    /// What the server has beyond the bindings.
    pub fn server_only(&self) -> ServerOnly {
        self.server_only
    }

    /// Keeps `mismatch`, or counts it when [`MAX_KEPT`] of its kind are
    /// kept already.
    fn push(&mut self, mismatch: Mismatch) {
        let (kept, left_out) = if mismatch.is_incompatible() {
            (&mut self.kept.0, &mut self.left_out.0)
        } else {
            (&mut self.kept.1, &mut self.left_out.1)
        };
        if *kept < MAX_KEPT {
            *kept += 1;
            self.mismatches.push(mismatch);
        } else {
            *left_out += 1;
        }
    }
}

/// `1 note`, `2 notes`.
fn count(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

impl fmt::Display for SchemaReport {
    /// A summary line, then each incompatibility on a line of its own,
    /// then each note (marked `note:`), and how many of either were left
    /// out.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let errors = self.kept.0 + self.left_out.0;
        let notes = self.kept.1 + self.left_out.1;
        let ServerOnly {
            commands,
            events,
            members,
        } = self.server_only;
        write!(
            f,
            "{}: {}, {}; the server has {}, {} and {} the bindings lack",
            if errors == 0 {
                "compatible"
            } else {
                "incompatible"
            },
            count(errors, "incompatibility", "incompatibilities"),
            count(notes, "note", "notes"),
            count(commands, "command", "commands"),
            count(events, "event", "events"),
            count(members, "member", "members"),
        )?;
        for mismatch in self.incompatibilities() {
            write!(f, "\n  {mismatch}")?;
        }
        if self.left_out.0 > 0 {
            let more = count(
                self.left_out.0,
                "more incompatibility",
                "more incompatibilities",
            );
            write!(f, "\n  ... and {more}, left out")?;
        }
        for mismatch in self.notes() {
            write!(f, "\n  note: {mismatch}")?;
        }
        if self.left_out.1 > 0 {
            let more = count(self.left_out.1, "more note", "more notes");
            write!(f, "\n  note: ... and {more}, left out")?;
        }
        Ok(())
    }
}

/// Compares bindings with the server's `query-qmp-schema` reply. Total:
/// whatever the server describes (cycles, names it does not define,
/// meta-types from the future), the answer is a report.
pub fn check(bindings: &BindingSchema, server: &[SchemaInfo]) -> SchemaReport {
    let mut index = HashMap::with_capacity(server.len());
    for info in server {
        index.entry(info.name.as_str()).or_insert(info);
    }
    let mut checker = Checker {
        bindings,
        server: index,
        seen: HashSet::new(),
        stack: Vec::new(),
        report: SchemaReport::default(),
    };
    for command in bindings.commands {
        checker.command(command);
    }
    for event in bindings.events {
        checker.event(event);
    }
    let commands: HashSet<&str> = bindings.commands.iter().map(|c| c.name).collect();
    let events: HashSet<&str> = bindings.events.iter().map(|e| e.name).collect();
    for info in server {
        // A name listed twice counts once.
        let first = checker
            .server
            .get(info.name.as_str())
            .is_some_and(|first| std::ptr::eq(*first, info));
        match &info.meta_type {
            SchemaInfoBranch::Command(_) if first && !commands.contains(info.name.as_str()) => {
                checker.report.server_only.commands += 1;
            }
            SchemaInfoBranch::Event(_) if first && !events.contains(info.name.as_str()) => {
                checker.report.server_only.events += 1;
            }
            _ => {}
        }
    }
    checker.report
}

/// Which way values go.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Direction {
    /// The bindings send, the server reads: arguments.
    Send,
    /// The server sends, the bindings decode: returns, event data.
    Receive,
}

/// A server type: named, or the empty object that stands for a union
/// branch the server does not list.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum ServerRef<'a> {
    Named(&'a str),
    Empty,
}

/// A bindings type: named, or the empty object that stands for a union
/// branch the bindings leave empty.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum BindingsRef {
    Named(&'static str),
    Empty,
}

/// Where a pair of types was reached from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Root {
    Arguments(&'static str),
    Return(&'static str),
    Data(&'static str),
}

/// A pair of types to compare.
struct Task<'a> {
    bindings: BindingsRef,
    server: ServerRef<'a>,
    direction: Direction,
    root: Root,
    /// Shared by the pairs an alternate makes of one value.
    path: Rc<str>,
    conditional: bool,
    /// How many pairs lead here.
    depth: usize,
}

/// Deeper than this, pairs are not compared: QEMU's schemas nest a few
/// levels; a server whose types nest without end is not followed.
const MAX_DEPTH: usize = 100;

/// A bindings type, resolved.
#[derive(Clone, Copy)]
enum Bindings {
    Str,
    Int,
    Number,
    Bool,
    Null,
    Any,
    Enum(Entries<EnumValue>),
    Object(Entries<Member>, Option<(&'static str, Entries<Branch>)>),
    Alternate(Entries<Alternative>),
    Array(&'static str),
    Unknown,
}

/// A server type, resolved.
enum Server<'a> {
    Str,
    Int,
    Number,
    Bool,
    Null,
    Any,
    /// A builtin whose JSON type is `object`: members unknown.
    AnyObject,
    /// A builtin whose JSON type is `array`: elements unknown.
    AnyArray,
    Enum(&'a SchemaInfoEnum),
    Object(&'a SchemaInfoObject),
    Empty,
    Alternate(&'a SchemaInfoAlternate),
    Array(&'a str),
    Unrecognized(String),
}

/// JSON types, as alternates tell their alternatives apart.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Json {
    String,
    Number,
    Boolean,
    Null,
    Object,
    Array,
    /// Any value, or an alternate (which takes several).
    Any,
}

impl Bindings {
    fn json(self) -> Json {
        match self {
            Bindings::Str | Bindings::Enum(_) => Json::String,
            Bindings::Int | Bindings::Number => Json::Number,
            Bindings::Bool => Json::Boolean,
            Bindings::Null => Json::Null,
            Bindings::Object(..) => Json::Object,
            Bindings::Array(_) => Json::Array,
            Bindings::Any | Bindings::Alternate(_) | Bindings::Unknown => Json::Any,
        }
    }

    fn describe(self) -> &'static str {
        match self {
            Bindings::Str => "str",
            Bindings::Int => "int",
            Bindings::Number => "number",
            Bindings::Bool => "bool",
            Bindings::Null => "null",
            Bindings::Any | Bindings::Unknown => "any",
            Bindings::Enum(_) => "enum",
            Bindings::Object(..) => "object",
            Bindings::Alternate(_) => "alternate",
            Bindings::Array(_) => "array",
        }
    }
}

impl Server<'_> {
    fn json(&self) -> Json {
        match self {
            Server::Str | Server::Enum(_) => Json::String,
            Server::Int | Server::Number => Json::Number,
            Server::Bool => Json::Boolean,
            Server::Null => Json::Null,
            Server::AnyObject | Server::Object(_) | Server::Empty => Json::Object,
            Server::AnyArray | Server::Array(_) => Json::Array,
            Server::Any | Server::Alternate(_) | Server::Unrecognized(_) => Json::Any,
        }
    }

    fn describe(&self) -> &'static str {
        match self {
            Server::Str => "str",
            Server::Int => "int",
            Server::Number => "number",
            Server::Bool => "bool",
            Server::Null => "null",
            Server::Any | Server::Unrecognized(_) => "any",
            Server::Enum(_) => "enum",
            Server::AnyObject | Server::Object(_) | Server::Empty => "object",
            Server::Alternate(_) => "alternate",
            Server::AnyArray | Server::Array(_) => "array",
        }
    }
}

struct Checker<'a, 'b> {
    bindings: &'b BindingSchema,
    server: HashMap<&'a str, &'a SchemaInfo>,
    /// Pairs compared, each in a direction, reached through a
    /// conditional definition or not (a mismatch found through one is a
    /// note; through none, an incompatibility).
    seen: HashSet<(BindingsRef, ServerRef<'a>, Direction, bool)>,
    stack: Vec<Task<'a>>,
    report: SchemaReport,
}

impl<'a> Checker<'a, '_> {
    fn command(&mut self, command: &'static CommandDef) {
        let location = Location::Command(command.name.to_string());
        let info = match self.server.get(command.name).map(|i| &i.meta_type) {
            Some(SchemaInfoBranch::Command(info)) => info,
            Some(other) => {
                let kind = MismatchKind::OtherMetaType(shown(other.meta_type_name()));
                self.mismatch(location, String::new(), kind, command.conditional);
                return;
            }
            None => {
                let kind = MismatchKind::Missing;
                self.mismatch(location, String::new(), kind, command.conditional);
                return;
            }
        };
        if command.allow_oob && info.allow_oob != Some(true) {
            let kind = MismatchKind::NotOob;
            self.mismatch(location, String::new(), kind, command.conditional);
        }
        self.run(Task {
            bindings: BindingsRef::Named(command.arguments),
            server: ServerRef::Named(&info.arg_type),
            direction: Direction::Send,
            root: Root::Arguments(command.name),
            path: Rc::from(""),
            conditional: command.conditional,
            depth: 0,
        });
        self.run(Task {
            bindings: BindingsRef::Named(command.returns),
            server: ServerRef::Named(&info.ret_type),
            direction: Direction::Receive,
            root: Root::Return(command.name),
            path: Rc::from(""),
            conditional: command.conditional,
            depth: 0,
        });
    }

    fn event(&mut self, event: &'static EventDef) {
        let location = Location::Event(event.name.to_string());
        let info = match self.server.get(event.name).map(|i| &i.meta_type) {
            Some(SchemaInfoBranch::Event(info)) => info,
            Some(other) => {
                let kind = MismatchKind::OtherMetaType(shown(other.meta_type_name()));
                self.mismatch(location, String::new(), kind, event.conditional);
                return;
            }
            None => {
                self.mismatch(
                    location,
                    String::new(),
                    MismatchKind::Missing,
                    event.conditional,
                );
                return;
            }
        };
        self.run(Task {
            bindings: BindingsRef::Named(event.data),
            server: ServerRef::Named(&info.arg_type),
            direction: Direction::Receive,
            root: Root::Data(event.name),
            path: Rc::from(""),
            conditional: event.conditional,
            depth: 0,
        });
    }

    fn mismatch(&mut self, location: Location, path: String, kind: MismatchKind, cond: bool) {
        self.report.push(Mismatch {
            location,
            path,
            kind,
            conditional: cond,
        });
    }

    /// Compares a pair and everything it reaches, depth first, with a
    /// stack of its own: a server's deep or cyclic types cannot overflow
    /// the thread's.
    fn run(&mut self, task: Task<'a>) {
        self.stack.push(task);
        while let Some(task) = self.stack.pop() {
            let mut children = Vec::new();
            self.step(&task, &mut children);
            self.stack.extend(children.into_iter().rev());
        }
    }

    fn report(&mut self, task: &Task<'a>, path: &str, kind: MismatchKind, conditional: bool) {
        let location = match task.root {
            Root::Arguments(name) => Location::Arguments(name.to_string()),
            Root::Return(name) => Location::Return(name.to_string()),
            Root::Data(name) => Location::Data(name.to_string()),
        };
        self.mismatch(location, path.to_string(), kind, conditional);
    }

    fn bindings_type(&self, name: BindingsRef) -> Bindings {
        let BindingsRef::Named(name) = name else {
            return Bindings::Object(Entries::new(""), None);
        };
        if let Some(element) = name.strip_prefix('[').and_then(|n| n.strip_suffix(']')) {
            return Bindings::Array(element);
        }
        match name {
            "str" => return Bindings::Str,
            "int" | "int8" | "int16" | "int32" | "int64" | "uint8" | "uint16" | "uint32"
            | "uint64" | "size" => return Bindings::Int,
            "number" => return Bindings::Number,
            "bool" => return Bindings::Bool,
            "null" => return Bindings::Null,
            "any" => return Bindings::Any,
            _ => {}
        }
        match self.bindings.lookup(name).map(|t| t.kind) {
            Some(TypeKind::Enum { values }) => Bindings::Enum(values),
            Some(TypeKind::Struct { members }) => Bindings::Object(members, None),
            Some(TypeKind::Union {
                members,
                tag,
                branches,
            }) => Bindings::Object(members, Some((tag, branches))),
            Some(TypeKind::Alternate { alternatives }) => Bindings::Alternate(alternatives),
            None => Bindings::Unknown,
        }
    }

    fn server_type(&self, name: ServerRef<'a>) -> Server<'a> {
        let ServerRef::Named(name) = name else {
            return Server::Empty;
        };
        let Some(info) = self.server.get(name) else {
            let name = shown(name);
            return Server::Unrecognized(format!("the server describes no type '{name}'"));
        };
        match &info.meta_type {
            SchemaInfoBranch::Builtin(builtin) => match &builtin.json_type {
                JSONType::String => Server::Str,
                JSONType::Int => Server::Int,
                JSONType::Number => Server::Number,
                JSONType::Boolean => Server::Bool,
                JSONType::Null => Server::Null,
                JSONType::Value => Server::Any,
                JSONType::Object => Server::AnyObject,
                JSONType::Array => Server::AnyArray,
                JSONType::Unrecognized(json) => Server::Unrecognized(format!(
                    "the server's type '{}' has JSON type '{}'",
                    shown(name),
                    shown(json)
                )),
            },
            SchemaInfoBranch::Enum(info) => Server::Enum(info),
            SchemaInfoBranch::Array(info) => Server::Array(&info.element_type),
            SchemaInfoBranch::Object(info) => Server::Object(info),
            SchemaInfoBranch::Alternate(info) => Server::Alternate(info),
            SchemaInfoBranch::Command(_) | SchemaInfoBranch::Event(_) => {
                Server::Unrecognized(format!("the server's '{}' is not a type", shown(name)))
            }
            SchemaInfoBranch::Unrecognized { case, .. } => Server::Unrecognized(format!(
                "the server's type '{}' has meta-type '{}'",
                shown(name),
                shown(case)
            )),
        }
    }

    fn step(&mut self, task: &Task<'a>, children: &mut Vec<Task<'a>>) {
        // A pair compared unconditionally needs no conditional comparison.
        let unconditional = (task.bindings, task.server, task.direction, false);
        if task.conditional && self.seen.contains(&unconditional) {
            return;
        }
        let key = (task.bindings, task.server, task.direction, task.conditional);
        if !self.seen.insert(key) {
            return;
        }
        if task.depth > MAX_DEPTH {
            let why = format!("nested more than {MAX_DEPTH} levels deep");
            self.report(task, &task.path, MismatchKind::Unrecognized(why), false);
            return;
        }
        let bindings = self.bindings_type(task.bindings);
        let server = self.server_type(task.server);
        let send = task.direction == Direction::Send;
        let kind_mismatch = |b: &str, s: &str| MismatchKind::Kind {
            bindings: b.to_string(),
            server: s.to_string(),
        };
        match (bindings, &server) {
            (Bindings::Unknown, _) => {
                let name = match task.bindings {
                    BindingsRef::Named(name) => name,
                    BindingsRef::Empty => "",
                };
                let why = format!("the bindings describe no type '{name}'");
                self.report(task, &task.path, MismatchKind::Unrecognized(why), false);
            }
            (_, Server::Unrecognized(why)) => {
                let kind = MismatchKind::Unrecognized(why.clone());
                self.report(task, &task.path, kind, false);
            }
            (Bindings::Any, _) | (_, Server::Any) => {}
            (Bindings::Alternate(_), _) | (_, Server::Alternate(_)) => {
                self.alternatives(task, bindings, &server, children);
            }
            // A string decodes any value the server sends; sent, it may
            // be one the server rejects (the last arm).
            (Bindings::Str, Server::Enum(_)) if !send => {}
            (Bindings::Str | Bindings::Enum(_), Server::Str)
            | (Bindings::Int, Server::Int)
            | (Bindings::Number, Server::Number)
            | (Bindings::Bool, Server::Bool)
            | (Bindings::Null, Server::Null)
            | (Bindings::Object(..), Server::AnyObject)
            | (Bindings::Array(_), Server::AnyArray) => {}
            // Integers are numbers; numbers need not be integers.
            (Bindings::Int, Server::Number) | (Bindings::Number, Server::Int) => {
                let fails = match bindings {
                    // The bindings send fractions; the server takes integers.
                    Bindings::Number => send,
                    // The server sends fractions; the bindings take integers.
                    _ => !send,
                };
                if fails {
                    let kind = kind_mismatch(bindings.describe(), server.describe());
                    self.report(task, &task.path, kind, task.conditional);
                }
            }
            (Bindings::Enum(values), Server::Enum(info)) => {
                if send {
                    for value in values {
                        if !enum_has(info, value.name) {
                            let kind = MismatchKind::UnknownValue(value.name.to_string());
                            let cond = task.conditional || value.conditional;
                            self.report(task, &task.path, kind, cond);
                        }
                    }
                }
            }
            (Bindings::Array(element), Server::Array(server_element)) => {
                children.push(Task {
                    bindings: BindingsRef::Named(element),
                    server: ServerRef::Named(server_element),
                    direction: task.direction,
                    root: task.root,
                    path: Rc::from(format!("{}[]", task.path)),
                    conditional: task.conditional,
                    depth: task.depth + 1,
                });
            }
            (Bindings::Object(members, branches), Server::Object(info)) => {
                let variants = info.variants.as_deref().unwrap_or_default();
                let server_object = (&info.members[..], info.tag.as_deref(), variants);
                self.object(task, members, branches, server_object, children);
            }
            (Bindings::Object(members, branches), Server::Empty) => {
                self.object(task, members, branches, (&[], None, &[]), children);
            }
            (bindings, server) => {
                let kind = kind_mismatch(bindings.describe(), server.describe());
                self.report(task, &task.path, kind, task.conditional);
            }
        }
    }

    /// Pairs alternatives by JSON type: every alternative the bindings can
    /// send must be one the server accepts; every alternative the server
    /// can send must be one the bindings decode.
    fn alternatives(
        &mut self,
        task: &Task<'a>,
        bindings: Bindings,
        server: &Server<'a>,
        children: &mut Vec<Task<'a>>,
    ) {
        let ours: Vec<(BindingsRef, bool)> = match bindings {
            Bindings::Alternate(alternatives) => alternatives
                .iter()
                .map(|a| (BindingsRef::Named(a.ty), task.conditional || a.conditional))
                .collect(),
            _ => vec![(task.bindings, task.conditional)],
        };
        let theirs: Vec<ServerRef<'a>> = match server {
            Server::Alternate(info) => info
                .members
                .iter()
                .map(|m| ServerRef::Named(m.r#type.as_str()))
                .collect(),
            _ => vec![task.server],
        };
        let ours: Vec<(BindingsRef, bool, Bindings)> = ours
            .into_iter()
            .map(|(ty, cond)| (ty, cond, self.bindings_type(ty)))
            .collect();
        let theirs: Vec<(ServerRef<'a>, Server<'a>)> = theirs
            .into_iter()
            .map(|r| (r, self.server_type(r)))
            .collect();
        let describe_theirs = || describe(theirs.iter().map(|(_, s)| s.describe()));
        let describe_ours = || describe(ours.iter().map(|(_, _, b)| b.describe()));
        let pair = |ty, server, conditional| Task {
            bindings: ty,
            server,
            direction: task.direction,
            root: task.root,
            path: task.path.clone(),
            conditional,
            depth: task.depth + 1,
        };
        match task.direction {
            Direction::Send => {
                for &(ty, cond, b) in &ours {
                    if b.json() == Json::Any {
                        // `any` sends anything; a nested alternate or an
                        // unknown type is compared (or reported) on its own.
                        children.push(pair(ty, task.server, cond));
                        continue;
                    }
                    let accepted = theirs
                        .iter()
                        .find(|(_, s)| s.json() == b.json() || s.json() == Json::Any);
                    match accepted {
                        Some(&(server, _)) => children.push(pair(ty, server, cond)),
                        None => {
                            let kind = MismatchKind::Kind {
                                bindings: b.describe().to_string(),
                                server: describe_theirs(),
                            };
                            self.report(task, &task.path, kind, cond);
                        }
                    }
                }
            }
            Direction::Receive => {
                for &(server, ref s) in &theirs {
                    if s.json() == Json::Any {
                        // Likewise on the server's side.
                        children.push(pair(task.bindings, server, task.conditional));
                        continue;
                    }
                    let decoded = ours
                        .iter()
                        .find(|(_, _, b)| b.json() == s.json() || b.json() == Json::Any);
                    match decoded {
                        Some(&(ty, cond, _)) => children.push(pair(ty, server, cond)),
                        None => {
                            let kind = MismatchKind::Kind {
                                bindings: describe_ours(),
                                server: s.describe().to_string(),
                            };
                            self.report(task, &task.path, kind, task.conditional);
                        }
                    }
                }
            }
        }
    }

    /// Compares an object's members, then its branches when the bindings
    /// have a union.
    fn object(
        &mut self,
        task: &Task<'a>,
        members: Entries<Member>,
        branches: Option<(&'static str, Entries<Branch>)>,
        (server_members, server_tag, variants): (
            &'a [SchemaInfoObjectMember],
            Option<&'a str>,
            &'a [SchemaInfoObjectVariant],
        ),
        children: &mut Vec<Task<'a>>,
    ) {
        // The first of members listed twice counts.
        let find = |name: &str| server_members.iter().find(|m| m.name == name);
        let ours: Vec<Member> = members.iter().collect();
        for member in &ours {
            let path = join(&task.path, member.name);
            let cond = task.conditional || member.conditional;
            let theirs = find(member.name);
            match (task.direction, theirs) {
                (Direction::Send, None) => {
                    self.report(task, &path, MismatchKind::UnknownMember, cond);
                    continue;
                }
                (Direction::Receive, _) if member.optional || member.conditional => {}
                (Direction::Receive, None) => {
                    let kind = MismatchKind::RequiredByBindings {
                        optional_on_server: false,
                    };
                    self.report(task, &path, kind, task.conditional);
                    continue;
                }
                (Direction::Receive, Some(theirs)) if theirs.default.is_some() => {
                    let kind = MismatchKind::RequiredByBindings {
                        optional_on_server: true,
                    };
                    self.report(task, &path, kind, task.conditional);
                }
                _ => {}
            }
            if let Some(theirs) = theirs {
                children.push(Task {
                    bindings: BindingsRef::Named(member.ty),
                    server: ServerRef::Named(&theirs.r#type),
                    direction: task.direction,
                    root: task.root,
                    path: Rc::from(path),
                    conditional: cond,
                    depth: task.depth + 1,
                });
            }
        }
        // What the server requires and the bindings lack, as one mismatch.
        let mut absent = Vec::new();
        let mut more = 0;
        let mut reported = vec![false; ours.len()];
        for theirs in server_members {
            let index = ours.iter().position(|m| m.name == theirs.name);
            if index.is_none() {
                self.report.server_only.members += 1;
            }
            if task.direction == Direction::Receive || theirs.default.is_some() {
                continue;
            }
            match index {
                None if absent.len() < MAX_NAMES => absent.push(shown(&theirs.name)),
                None => more += 1,
                // The bindings may leave it out: it is optional or
                // conditional there, and the server has it either way.
                Some(i) if (ours[i].optional || ours[i].conditional) && !reported[i] => {
                    reported[i] = true;
                    let path = join(&task.path, ours[i].name);
                    let kind = MismatchKind::RequiredByServer;
                    self.report(task, &path, kind, task.conditional);
                }
                Some(_) => {}
            }
        }
        if !absent.is_empty() {
            let kind = MismatchKind::MissingRequired {
                names: absent,
                more,
            };
            self.report(task, &task.path, kind, task.conditional);
        }
        let Some((tag, branches)) = branches else {
            return;
        };
        if server_tag != Some(tag) {
            let kind = MismatchKind::Discriminator {
                bindings: tag.to_string(),
                server: server_tag.map(shown),
            };
            self.report(task, &task.path, kind, task.conditional);
            return;
        }
        let branches: Vec<Branch> = branches.iter().collect();
        let branch = |case: &str, ty, server, conditional| Task {
            bindings: ty,
            server,
            direction: task.direction,
            root: task.root,
            path: Rc::from(join(&task.path, &format!("[{tag}={case}]"))),
            conditional,
            depth: task.depth + 1,
        };
        let server_variant = |case: &str| variants.iter().find(|v| v.case == case);
        match task.direction {
            Direction::Send => {
                for ours in &branches {
                    let cond = task.conditional || ours.conditional;
                    let ty = BindingsRef::Named(ours.ty);
                    if let Some(theirs) = server_variant(ours.case) {
                        let server = ServerRef::Named(theirs.r#type.as_str());
                        children.push(branch(ours.case, ty, server, cond));
                    } else if self.server_enum_has(find(tag), ours.case) {
                        // A case without members: `variants` need not list it.
                        children.push(branch(ours.case, ty, ServerRef::Empty, cond));
                    }
                    // Otherwise the discriminator's value is unknown to the
                    // server, reported with the discriminator.
                }
                // The cases the bindings leave empty (their discriminator's
                // values without a branch) send no members: the server's
                // branch for them must require none.
                let values = match ours.iter().find(|m| m.name == tag) {
                    Some(member) => match self.bindings_type(BindingsRef::Named(member.ty)) {
                        Bindings::Enum(values) => Some(values),
                        _ => None,
                    },
                    None => None,
                };
                for value in values.into_iter().flatten() {
                    if branches.iter().any(|b| b.case == value.name) {
                        continue;
                    }
                    if let Some(theirs) = server_variant(value.name) {
                        let cond = task.conditional || value.conditional;
                        let server = ServerRef::Named(theirs.r#type.as_str());
                        children.push(branch(value.name, BindingsRef::Empty, server, cond));
                    }
                }
            }
            Direction::Receive => {
                for theirs in variants {
                    if let Some(ours) = branches.iter().find(|b| b.case == theirs.case) {
                        let cond = task.conditional || ours.conditional;
                        let ty = BindingsRef::Named(ours.ty);
                        let server = ServerRef::Named(theirs.r#type.as_str());
                        children.push(branch(&theirs.case, ty, server, cond));
                    }
                    // Branches the bindings lack decode as unrecognized.
                }
                // A case the server's `variants` leave out adds no members
                // there, when the server's discriminator takes it at all.
                for ours in &branches {
                    if server_variant(ours.case).is_none()
                        && self.server_enum_has(find(tag), ours.case)
                    {
                        let cond = task.conditional || ours.conditional;
                        let ty = BindingsRef::Named(ours.ty);
                        children.push(branch(ours.case, ty, ServerRef::Empty, cond));
                    }
                }
            }
        }
    }

    /// Whether the server's discriminator takes `case`.
    fn server_enum_has(&self, tag: Option<&'a SchemaInfoObjectMember>, case: &str) -> bool {
        let Some(tag) = tag else { return false };
        match self.server_type(ServerRef::Named(&tag.r#type)) {
            Server::Enum(info) => enum_has(info, case),
            _ => false,
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
}

/// Whether a server's enumeration has `value`.
fn enum_has(info: &SchemaInfoEnum, value: &str) -> bool {
    info.value_names().any(|v| v == value)
}

/// `path.segment`.
fn join(path: &str, segment: &str) -> String {
    if path.is_empty() {
        segment.to_string()
    } else {
        format!("{path}.{segment}")
    }
}

/// A name the server chose, for a report: its first [`MAX_NAME_LEN`]
/// characters, then `...` when there are more.
fn shown(name: &str) -> String {
    match name.char_indices().nth(MAX_NAME_LEN) {
        Some((end, _)) => format!("{}...", &name[..end]),
        None => name.to_string(),
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

/// Kinds of JSON values joined by ` or `, each once.
fn describe<'k>(kinds: impl Iterator<Item = &'k str>) -> String {
    let mut distinct: Vec<&str> = Vec::new();
    for kind in kinds {
        if !distinct.contains(&kind) {
            distinct.push(kind);
        }
    }
    distinct.join(" or ")
}
