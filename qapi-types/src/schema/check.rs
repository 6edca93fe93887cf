//! The run-time check: a [`BindingSchema`] against a server's
//! `query-qmp-schema` reply, paired structurally.

use std::collections::HashSet;
use std::rc::Rc;

use super::report::{Location, Mismatch, MismatchKind, SchemaReport};
use super::server_types::{shown, ServerType, ServerTypes};
use super::table::{
    Alternative, BindingSchema, Branch, Builtin, CommandDef, Condition, EnumValue, EventDef,
    Member, TypeKind, TypeRef,
};
use crate::qmp::{
    JSONType, SchemaInfo, SchemaInfoBranch, SchemaInfoObject, SchemaInfoObjectMember,
    SchemaInfoObjectVariant,
};

/// How many names of members the server requires and the bindings lack a
/// [`MismatchKind::MissingRequired`] holds.
const MAX_NAMES: usize = 8;

/// The object without members that stands for a union branch the server
/// does not list.
static EMPTY_OBJECT: SchemaInfoObject = SchemaInfoObject {
    members: Vec::new(),
    tag: None,
    variants: None,
};

/// Compares bindings with the server's `query-qmp-schema` reply. Total:
/// whatever the server describes (cycles, names it does not define,
/// meta-types from the future), the answer is a report.
pub fn check(bindings: &BindingSchema, server: &[SchemaInfo]) -> SchemaReport {
    let mut checker = Checker {
        bindings,
        server: ServerTypes::new(server),
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
            .is_some_and(|first| std::ptr::eq(first, info));
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
    Type(TypeRef),
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
    /// The condition of the nearest conditional definition on the way
    /// here (this one's own, else its holder's), if any.
    condition: Option<Condition>,
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
    Enum(&'static [EnumValue]),
    Object(&'static [Member], Option<(&'static str, &'static [Branch])>),
    Alternate(&'static [Alternative]),
    Array(TypeRef),
    Unknown,
}

impl Bindings {
    fn json(self) -> JSONType {
        match self {
            Bindings::Str | Bindings::Enum(_) => JSONType::String,
            Bindings::Int | Bindings::Number => JSONType::Number,
            Bindings::Bool => JSONType::Boolean,
            Bindings::Null => JSONType::Null,
            Bindings::Object(..) => JSONType::Object,
            Bindings::Array(_) => JSONType::Array,
            Bindings::Any | Bindings::Alternate(_) | Bindings::Unknown => JSONType::Value,
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

struct Checker<'a, 'b> {
    bindings: &'b BindingSchema,
    server: ServerTypes<'a>,
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
                self.mismatch(location, String::new(), kind, command.condition);
                return;
            }
            None => {
                let kind = MismatchKind::Missing;
                self.mismatch(location, String::new(), kind, command.condition);
                return;
            }
        };
        if command.allow_oob && info.allow_oob != Some(true) {
            let kind = MismatchKind::NotOob;
            self.mismatch(location, String::new(), kind, command.condition);
        }
        self.run(Task {
            bindings: BindingsRef::Type(command.arguments),
            server: ServerRef::Named(&info.arg_type),
            direction: Direction::Send,
            root: Root::Arguments(command.name),
            path: Rc::from(""),
            condition: command.condition,
            depth: 0,
        });
        self.run(Task {
            bindings: BindingsRef::Type(command.returns),
            server: ServerRef::Named(&info.ret_type),
            direction: Direction::Receive,
            root: Root::Return(command.name),
            path: Rc::from(""),
            condition: command.condition,
            depth: 0,
        });
    }

    fn event(&mut self, event: &'static EventDef) {
        let location = Location::Event(event.name.to_string());
        let info = match self.server.get(event.name).map(|i| &i.meta_type) {
            Some(SchemaInfoBranch::Event(info)) => info,
            Some(other) => {
                let kind = MismatchKind::OtherMetaType(shown(other.meta_type_name()));
                self.mismatch(location, String::new(), kind, event.condition);
                return;
            }
            None => {
                self.mismatch(
                    location,
                    String::new(),
                    MismatchKind::Missing,
                    event.condition,
                );
                return;
            }
        };
        self.run(Task {
            bindings: BindingsRef::Type(event.data),
            server: ServerRef::Named(&info.arg_type),
            direction: Direction::Receive,
            root: Root::Data(event.name),
            path: Rc::from(""),
            condition: event.condition,
            depth: 0,
        });
    }

    fn mismatch(
        &mut self,
        location: Location,
        path: String,
        kind: MismatchKind,
        condition: Option<Condition>,
    ) {
        self.report.push(Mismatch {
            location,
            path,
            kind,
            condition,
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

    fn report(
        &mut self,
        task: &Task<'a>,
        path: &str,
        kind: MismatchKind,
        condition: Option<Condition>,
    ) {
        let location = match task.root {
            Root::Arguments(name) => Location::Arguments(name.to_string()),
            Root::Return(name) => Location::Return(name.to_string()),
            Root::Data(name) => Location::Data(name.to_string()),
        };
        self.mismatch(location, path.to_string(), kind, condition);
    }

    fn bindings_type(&self, name: BindingsRef) -> Bindings {
        let name = match name {
            BindingsRef::Empty => return Bindings::Object(&[], None),
            BindingsRef::Type(TypeRef::Array(element)) => return Bindings::Array(*element),
            BindingsRef::Type(TypeRef::Builtin(builtin)) => {
                return match builtin {
                    Builtin::Str => Bindings::Str,
                    Builtin::Int
                    | Builtin::Int8
                    | Builtin::Int16
                    | Builtin::Int32
                    | Builtin::Int64
                    | Builtin::Uint8
                    | Builtin::Uint16
                    | Builtin::Uint32
                    | Builtin::Uint64
                    | Builtin::Size => Bindings::Int,
                    Builtin::Number => Bindings::Number,
                    Builtin::Bool => Bindings::Bool,
                    Builtin::Null => Bindings::Null,
                    Builtin::Any => Bindings::Any,
                }
            }
            BindingsRef::Type(TypeRef::Named(name)) => name,
        };
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

    fn server_type(&self, name: ServerRef<'a>) -> ServerType<'a> {
        match name {
            ServerRef::Named(name) => self.server.resolve(name),
            ServerRef::Empty => ServerType::Object(&EMPTY_OBJECT),
        }
    }

    fn step(&mut self, task: &Task<'a>, children: &mut Vec<Task<'a>>) {
        // A pair compared unconditionally needs no conditional comparison.
        let unconditional = (task.bindings, task.server, task.direction, false);
        if task.condition.is_some() && self.seen.contains(&unconditional) {
            return;
        }
        let key = (
            task.bindings,
            task.server,
            task.direction,
            task.condition.is_some(),
        );
        if !self.seen.insert(key) {
            return;
        }
        if task.depth > MAX_DEPTH {
            let why = format!("nested more than {MAX_DEPTH} levels deep");
            self.report(task, &task.path, MismatchKind::Unrecognized(why), None);
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
                    BindingsRef::Type(ty) => ty.to_string(),
                    BindingsRef::Empty => String::new(),
                };
                let why = format!("the bindings describe no type '{name}'");
                self.report(task, &task.path, MismatchKind::Unrecognized(why), None);
            }
            (_, ServerType::Unrecognized(why)) => {
                let kind = MismatchKind::Unrecognized(why.clone());
                self.report(task, &task.path, kind, None);
            }
            (Bindings::Any, _) | (_, ServerType::Any) => {}
            (Bindings::Alternate(_), _) | (_, ServerType::Alternate(_)) => {
                self.alternatives(task, bindings, &server, children);
            }
            // A string decodes any value the server sends; sent, it may
            // be one the server rejects (the last arm).
            (Bindings::Str, ServerType::Enum(_)) if !send => {}
            (Bindings::Str | Bindings::Enum(_), ServerType::Str)
            | (Bindings::Int, ServerType::Int)
            | (Bindings::Number, ServerType::Number)
            | (Bindings::Bool, ServerType::Bool)
            | (Bindings::Null, ServerType::Null)
            | (Bindings::Object(..), ServerType::AnyObject)
            | (Bindings::Array(_), ServerType::AnyArray) => {}
            // Integers are numbers; numbers need not be integers.
            (Bindings::Int, ServerType::Number) | (Bindings::Number, ServerType::Int) => {
                let fails = match bindings {
                    // The bindings send fractions; the server takes integers.
                    Bindings::Number => send,
                    // The server sends fractions; the bindings take integers.
                    _ => !send,
                };
                if fails {
                    let kind = kind_mismatch(bindings.describe(), server.describe());
                    self.report(task, &task.path, kind, task.condition);
                }
            }
            (Bindings::Enum(values), ServerType::Enum(info)) => {
                if send {
                    for value in values {
                        if !info.has_value(value.name) {
                            let kind = MismatchKind::UnknownValue(value.name.to_string());
                            let cond = value.condition.or(task.condition);
                            self.report(task, &task.path, kind, cond);
                        }
                    }
                }
            }
            (Bindings::Array(element), ServerType::Array(server_element)) => {
                children.push(Task {
                    bindings: BindingsRef::Type(element),
                    server: ServerRef::Named(server_element),
                    direction: task.direction,
                    root: task.root,
                    path: Rc::from(format!("{}[]", task.path)),
                    condition: task.condition,
                    depth: task.depth + 1,
                });
            }
            (Bindings::Object(members, branches), ServerType::Object(info)) => {
                let variants = info.variants.as_deref().unwrap_or_default();
                let server_object = (&info.members[..], info.tag.as_deref(), variants);
                self.object(task, members, branches, server_object, children);
            }
            (bindings, server) => {
                let kind = kind_mismatch(bindings.describe(), server.describe());
                self.report(task, &task.path, kind, task.condition);
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
        server: &ServerType<'a>,
        children: &mut Vec<Task<'a>>,
    ) {
        let ours: Vec<(BindingsRef, Option<Condition>)> = match bindings {
            Bindings::Alternate(alternatives) => alternatives
                .iter()
                .map(|a| (BindingsRef::Type(a.ty), a.condition.or(task.condition)))
                .collect(),
            _ => vec![(task.bindings, task.condition)],
        };
        let theirs: Vec<ServerRef<'a>> = match server {
            ServerType::Alternate(info) => info
                .members
                .iter()
                .map(|m| ServerRef::Named(m.r#type.as_str()))
                .collect(),
            _ => vec![task.server],
        };
        let ours: Vec<(BindingsRef, Option<Condition>, Bindings)> = ours
            .into_iter()
            .map(|(ty, cond)| (ty, cond, self.bindings_type(ty)))
            .collect();
        let theirs: Vec<(ServerRef<'a>, ServerType<'a>)> = theirs
            .into_iter()
            .map(|r| (r, self.server_type(r)))
            .collect();
        let describe_theirs = || describe(theirs.iter().map(|(_, s)| s.describe()));
        let describe_ours = || describe(ours.iter().map(|(_, _, b)| b.describe()));
        let pair = |ty, server, condition| Task {
            bindings: ty,
            server,
            direction: task.direction,
            root: task.root,
            path: task.path.clone(),
            condition,
            depth: task.depth + 1,
        };
        match task.direction {
            Direction::Send => {
                for &(ty, cond, b) in &ours {
                    if b.json() == JSONType::Value {
                        // `any` sends anything; a nested alternate or an
                        // unknown type is compared (or reported) on its own.
                        children.push(pair(ty, task.server, cond));
                        continue;
                    }
                    let accepted = theirs
                        .iter()
                        .find(|(_, s)| s.json() == b.json() || s.json() == JSONType::Value);
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
                    if s.json() == JSONType::Value {
                        // Likewise on the server's side.
                        children.push(pair(task.bindings, server, task.condition));
                        continue;
                    }
                    let decoded = ours
                        .iter()
                        .find(|(_, _, b)| b.json() == s.json() || b.json() == JSONType::Value);
                    match decoded {
                        Some(&(ty, cond, _)) => children.push(pair(ty, server, cond)),
                        None => {
                            let kind = MismatchKind::Kind {
                                bindings: describe_ours(),
                                server: s.describe().to_string(),
                            };
                            self.report(task, &task.path, kind, task.condition);
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
        members: &'static [Member],
        branches: Option<(&'static str, &'static [Branch])>,
        (server_members, server_tag, variants): (
            &'a [SchemaInfoObjectMember],
            Option<&'a str>,
            &'a [SchemaInfoObjectVariant],
        ),
        children: &mut Vec<Task<'a>>,
    ) {
        // The first of members listed twice counts.
        let find = |name: &str| server_members.iter().find(|m| m.name == name);
        let ours = members;
        for member in ours {
            let path = join(&task.path, member.name);
            let cond = member.condition.or(task.condition);
            let theirs = find(member.name);
            match (task.direction, theirs) {
                (Direction::Send, None) => {
                    self.report(task, &path, MismatchKind::UnknownMember, cond);
                    continue;
                }
                (Direction::Receive, _) if member.optional || member.condition.is_some() => {}
                (Direction::Receive, None) => {
                    let kind = MismatchKind::RequiredByBindings {
                        optional_on_server: false,
                    };
                    self.report(task, &path, kind, task.condition);
                    continue;
                }
                (Direction::Receive, Some(theirs)) if theirs.default.is_some() => {
                    let kind = MismatchKind::RequiredByBindings {
                        optional_on_server: true,
                    };
                    self.report(task, &path, kind, task.condition);
                }
                _ => {}
            }
            if let Some(theirs) = theirs {
                children.push(Task {
                    bindings: BindingsRef::Type(member.ty),
                    server: ServerRef::Named(&theirs.r#type),
                    direction: task.direction,
                    root: task.root,
                    path: Rc::from(path),
                    condition: cond,
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
                Some(i) if (ours[i].optional || ours[i].condition.is_some()) && !reported[i] => {
                    reported[i] = true;
                    let path = join(&task.path, ours[i].name);
                    let kind = MismatchKind::RequiredByServer;
                    self.report(task, &path, kind, task.condition);
                }
                Some(_) => {}
            }
        }
        if !absent.is_empty() {
            let kind = MismatchKind::MissingRequired {
                names: absent,
                more,
            };
            self.report(task, &task.path, kind, task.condition);
        }
        let Some((tag, branches)) = branches else {
            return;
        };
        if server_tag != Some(tag) {
            let kind = MismatchKind::Discriminator {
                bindings: tag.to_string(),
                server: server_tag.map(shown),
            };
            self.report(task, &task.path, kind, task.condition);
            return;
        }
        let branch = |case: &str, ty, server, condition| Task {
            bindings: ty,
            server,
            direction: task.direction,
            root: task.root,
            path: Rc::from(join(&task.path, &format!("[{tag}={case}]"))),
            condition,
            depth: task.depth + 1,
        };
        let server_variant = |case: &str| variants.iter().find(|v| v.case == case);
        match task.direction {
            Direction::Send => {
                for ours in branches {
                    let cond = ours.condition.or(task.condition);
                    let ty = BindingsRef::Type(ours.ty);
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
                    Some(member) => match self.bindings_type(BindingsRef::Type(member.ty)) {
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
                        let cond = value.condition.or(task.condition);
                        let server = ServerRef::Named(theirs.r#type.as_str());
                        children.push(branch(value.name, BindingsRef::Empty, server, cond));
                    }
                }
            }
            Direction::Receive => {
                for theirs in variants {
                    if let Some(ours) = branches.iter().find(|b| b.case == theirs.case) {
                        let cond = ours.condition.or(task.condition);
                        let ty = BindingsRef::Type(ours.ty);
                        let server = ServerRef::Named(theirs.r#type.as_str());
                        children.push(branch(&theirs.case, ty, server, cond));
                    }
                    // Branches the bindings lack decode as unrecognized.
                }
                // A case the server's `variants` leave out adds no members
                // there, when the server's discriminator takes it at all.
                for ours in branches {
                    if server_variant(ours.case).is_none()
                        && self.server_enum_has(find(tag), ours.case)
                    {
                        let cond = ours.condition.or(task.condition);
                        let ty = BindingsRef::Type(ours.ty);
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
            ServerType::Enum(info) => info.has_value(case),
            _ => false,
        }
    }
}

/// `path.segment`.
fn join(path: &str, segment: &str) -> String {
    if path.is_empty() {
        segment.to_string()
    } else {
        format!("{path}.{segment}")
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
