//! The run-time check: a [`BindingSchema`] against a server's
//! `query-qmp-schema` reply, paired structurally.

use std::collections::{HashMap, HashSet};
use std::rc::Rc;

use super::report::{Location, Mismatch, MismatchKind, SchemaReport};
use super::table::{
    Alternative, BindingSchema, Branch, Builtin, CommandDef, EnumValue, EventDef, Member, TypeKind,
    TypeRef,
};
use crate::qmp::{
    JSONType, SchemaInfo, SchemaInfoAlternate, SchemaInfoBranch, SchemaInfoEnum,
    SchemaInfoEnumMember, SchemaInfoObject, SchemaInfoObjectMember, SchemaInfoObjectVariant,
};

/// How many names of members the server requires and the bindings lack a
/// [`MismatchKind::MissingRequired`] holds.
const MAX_NAMES: usize = 8;

/// How many characters of a name the server chose a report holds.
const MAX_NAME_LEN: usize = 100;

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
    Enum(&'static [EnumValue]),
    Object(&'static [Member], Option<(&'static str, &'static [Branch])>),
    Alternate(&'static [Alternative]),
    Array(TypeRef),
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
            bindings: BindingsRef::Type(command.arguments),
            server: ServerRef::Named(&info.arg_type),
            direction: Direction::Send,
            root: Root::Arguments(command.name),
            path: Rc::from(""),
            conditional: command.conditional,
            depth: 0,
        });
        self.run(Task {
            bindings: BindingsRef::Type(command.returns),
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
            bindings: BindingsRef::Type(event.data),
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
                    BindingsRef::Type(ty) => ty.to_string(),
                    BindingsRef::Empty => String::new(),
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
                    bindings: BindingsRef::Type(element),
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
                .map(|a| (BindingsRef::Type(a.ty), task.conditional || a.conditional))
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
                    bindings: BindingsRef::Type(member.ty),
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
                for ours in branches {
                    let cond = task.conditional || ours.conditional;
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
                        let cond = task.conditional || ours.conditional;
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
