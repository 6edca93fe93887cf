//! Bad arguments derived from a schema's table: for every command, a
//! skeleton of arguments its types take (required members only), and that
//! skeleton with one thing wrong: a required member taken out, a member
//! the type lacks put in, a value of each JSON type, out-of-range
//! integers, an enumeration's unknown value; in nested objects, array
//! elements and each branch of a command's union as well. Under the build
//! conditions of the QEMU compared with: what they leave out of the schema
//! (a member, an enumeration's value) is put in, and nothing else of it
//! is used.

use std::collections::HashSet;

use qapi_types::schema::table::{Builtin, Member, TypeKind, TypeRef};
use qapi_types::schema::BindingSchema;
use qapi_types::serde_json::{self, json, Map, Value};
use qapi_types::server::Conditions;

/// Commands left out: their effect, were QEMU to accept the arguments,
/// would end the daemon.
const SKIPPED: [&str; 1] = ["quit"];

/// Whether QEMU 10.0.2 takes `arguments` of `command` and then crashes:
/// `blockdev-reopen` of no nodes fails an assertion, a `transaction`'s
/// dirty bitmap action on a node that does not exist dereferences NULL.
fn crashes_qemu(command: &str, arguments: &Value) -> bool {
    match command {
        "blockdev-reopen" => arguments.get("options") == Some(&json!([])),
        "transaction" => arguments["actions"].as_array().is_some_and(|actions| {
            actions.iter().any(|action| {
                action["type"]
                    .as_str()
                    .is_some_and(|kind| kind.starts_with("block-dirty-bitmap-"))
            })
        }),
        _ => false,
    }
}

/// The string the skeletons use, which names nothing the daemon has (a
/// node, a job, a file in its temporary directory).
const NAME: &str = "qapi-test";

/// The member put in where the type lacks it.
const UNEXPECTED: &str = "qapi-unexpected";

/// Names of members put in where the type lacks them, several at once.
const WORDS: [&str; 28] = [
    "id",
    "node-name",
    "driver",
    "size",
    "x",
    "y",
    "filename",
    "cache",
    "aio",
    "discard",
    "a",
    "b",
    "c",
    "zz",
    "extra",
    "foo",
    "bar",
    "baz",
    "qux",
    "job-id",
    "device",
    "speed",
    "data",
    "type",
    "mode",
    "format",
    "Z",
    "é",
];

/// How deep the skeletons expand objects (deeper, an alternate takes
/// its alternative that is not an object).
const MAX_DEPTH: usize = 3;

/// One request: a command and its arguments.
pub struct Case {
    /// The command's wire name.
    pub command: &'static str,
    /// The arguments object.
    pub arguments: Value,
    /// Whether what is wrong is a part of the schema the build leaves out
    /// (a member, an enumeration's value).
    pub left_out: bool,
}

/// A step from a value to one inside it.
#[derive(Clone, Copy)]
enum Step {
    Key(&'static str),
    Index(usize),
}

/// The cases for every command of `schema` but [`SKIPPED`] that a QEMU
/// built under `build` has, without duplicates.
pub fn cases(schema: &'static BindingSchema, build: &Conditions) -> Vec<Case> {
    cases_of(schema, build, |_| true)
}

/// The cases for the commands of `schema` `wanted` takes (never those of
/// [`SKIPPED`], nor those `build` leaves out), without duplicates.
pub fn cases_of(
    schema: &'static BindingSchema,
    build: &Conditions,
    wanted: impl Fn(&str) -> bool,
) -> Vec<Case> {
    let mut corpus = Corpus {
        schema,
        build,
        command: "",
        top_is_union: false,
        cases: Vec::new(),
        seen: HashSet::new(),
    };
    for command in schema.commands {
        if SKIPPED.contains(&command.name)
            || !build.keeps(command.condition)
            || !wanted(command.name)
        {
            continue;
        }
        corpus.command = command.name;
        let ty = command.arguments;
        corpus.top_is_union = matches!(corpus.kind(ty), Some(TypeKind::Union { .. }));
        // A union's every branch, at the top.
        let roots: Vec<Value> = match corpus.kind(ty) {
            Some(TypeKind::Union {
                members,
                tag,
                branches,
            }) => branches
                .iter()
                .filter(|branch| build.keeps(branch.condition))
                .map(|branch| corpus.union_skeleton(members, tag, branch.case, branch.ty, 0))
                .collect(),
            _ => vec![corpus.skeleton(ty, 0)],
        };
        for root in roots {
            corpus.walk(&root, &mut Vec::new(), ty, 0);
        }
    }
    corpus.cases
}

struct Corpus<'b> {
    schema: &'static BindingSchema,
    /// The build conditions of the QEMU compared with.
    build: &'b Conditions,
    command: &'static str,
    /// Whether the command's arguments are a union, whose every branch
    /// is walked at the top (and only there).
    top_is_union: bool,
    cases: Vec<Case>,
    seen: HashSet<String>,
}

impl Corpus<'_> {
    fn kind(&self, ty: TypeRef) -> Option<TypeKind> {
        match ty {
            TypeRef::Named(name) => self.schema.lookup(name).map(|def| def.kind),
            _ => None,
        }
    }

    fn push(&mut self, arguments: Value) {
        self.push_case(arguments, false);
    }

    /// Records a case whose fault is a part of the schema the build leaves
    /// out.
    fn push_left_out(&mut self, arguments: Value) {
        self.push_case(arguments, true);
    }

    fn push_case(&mut self, arguments: Value, left_out: bool) {
        if crashes_qemu(self.command, &arguments) {
            return;
        }
        if self.seen.insert(format!("{} {arguments}", self.command)) {
            self.cases.push(Case {
                command: self.command,
                arguments,
                left_out,
            });
        }
    }

    /// A value of `ty`: its required members only, a union's preferred
    /// branch, an array of one element.
    fn skeleton(&self, ty: TypeRef, depth: usize) -> Value {
        match ty {
            TypeRef::Builtin(builtin) => match builtin {
                Builtin::Str => json!(NAME),
                Builtin::Bool => json!(false),
                Builtin::Null => Value::Null,
                Builtin::Any => json!(NAME),
                _ => json!(1),
            },
            TypeRef::Array(element) if depth < MAX_DEPTH => {
                json!([self.skeleton(*element, depth + 1)])
            }
            TypeRef::Array(_) => json!([]),
            TypeRef::Named(_) => match self.kind(ty) {
                Some(TypeKind::Enum { values }) => values
                    .iter()
                    .find(|value| self.build.keeps(value.condition))
                    .map_or(json!(NAME), |value| json!(value.name)),
                Some(TypeKind::Struct { members }) => self.members_skeleton(members, depth),
                Some(TypeKind::Union {
                    members,
                    tag,
                    branches,
                }) => {
                    let branches = || {
                        branches
                            .iter()
                            .filter(|branch| self.build.keeps(branch.condition))
                    };
                    let preferred = ["unix", "file", "null-co"]
                        .iter()
                        .find_map(|case| branches().find(|branch| branch.case == *case));
                    match preferred.or_else(|| branches().next()) {
                        Some(branch) => {
                            self.union_skeleton(members, tag, branch.case, branch.ty, depth)
                        }
                        None => json!({}),
                    }
                }
                Some(TypeKind::Alternate { alternatives }) => {
                    let is_object = |ty: TypeRef| {
                        matches!(
                            self.kind(ty),
                            Some(TypeKind::Struct { .. } | TypeKind::Union { .. })
                        )
                    };
                    let usable = || {
                        alternatives
                            .iter()
                            .filter(|a| self.build.keeps(a.condition))
                    };
                    let chosen = if depth < MAX_DEPTH {
                        usable().find(|a| is_object(a.ty))
                    } else {
                        usable().find(|a| !is_object(a.ty))
                    };
                    match chosen.or_else(|| usable().next()) {
                        Some(alternative) => self.skeleton(alternative.ty, depth),
                        None => json!(NAME),
                    }
                }
                None => json!(NAME),
            },
        }
    }

    fn members_skeleton(&self, members: &[Member], depth: usize) -> Value {
        let mut object = Map::new();
        if depth < MAX_DEPTH + 2 {
            let build = self.build;
            let required = members
                .iter()
                .filter(|m| !m.optional && build.keeps(m.condition));
            for member in required {
                object.insert(member.name.to_string(), self.skeleton(member.ty, depth + 1));
            }
        }
        Value::Object(object)
    }

    fn union_skeleton(
        &self,
        members: &[Member],
        tag: &str,
        case: &str,
        branch: TypeRef,
        depth: usize,
    ) -> Value {
        let mut object = self.members_skeleton(members, depth);
        object[tag] = json!(case);
        if let (Value::Object(object), Value::Object(more)) =
            (&mut object, self.skeleton(branch, depth))
        {
            object.extend(more);
        }
        object
    }

    /// Records the cases of one thing wrong at `at` (a value of `ty` in
    /// `root`) and inside it.
    fn walk(&mut self, root: &Value, at: &mut Vec<Step>, ty: TypeRef, depth: usize) {
        // The arguments stay an object.
        if !at.is_empty() {
            for wrong in wrong_values(ty, self.kind(ty)) {
                self.push(replaced(root, at, Some(wrong)));
            }
            // The values the build leaves out, which it does not accept.
            if let Some(TypeKind::Enum { values }) = self.kind(ty) {
                for value in values.iter().filter(|v| !self.build.keeps(v.condition)) {
                    self.push_left_out(replaced(root, at, Some(json!(value.name))));
                }
            }
        }
        let Some(here) = get(root, at) else { return };
        match (ty, self.kind(ty), here) {
            (TypeRef::Array(element), _, Value::Array(items)) if !items.is_empty() => {
                at.push(Step::Index(0));
                self.walk(root, at, *element, depth + 1);
                at.pop();
            }
            (_, Some(TypeKind::Struct { .. }), Value::Object(_)) => {
                self.walk_object(root, at, ty, depth);
            }
            (_, Some(TypeKind::Union { .. }), Value::Object(_)) => {
                let each_branch = depth <= 2 && !self.top_is_union;
                self.walk_union(root, at, ty, depth, each_branch);
            }
            (_, Some(TypeKind::Alternate { alternatives }), value) => {
                // The alternative the skeleton took, walked as itself.
                let kept = alternatives
                    .iter()
                    .filter(|a| self.build.keeps(a.condition));
                let taken = kept.clone().find(|a| match self.kind(a.ty) {
                    Some(TypeKind::Struct { .. } | TypeKind::Union { .. }) => value.is_object(),
                    _ => false,
                });
                if let Some(alternative) = taken {
                    // Not each branch: a block node's (BlockdevRef)
                    // would be walked in every node's options.
                    self.walk_union(root, at, alternative.ty, depth, false);
                }
            }
            _ => {}
        }
    }

    /// The cases inside an object of the object type `ty` at `at`; with
    /// `each_branch`, for a union, inside each of its branches
    /// (`chardev-add`'s backend, `transaction`'s actions).
    fn walk_union(
        &mut self,
        root: &Value,
        at: &mut Vec<Step>,
        ty: TypeRef,
        depth: usize,
        each_branch: bool,
    ) {
        match self.kind(ty) {
            Some(TypeKind::Union {
                members,
                tag,
                branches,
            }) if each_branch => {
                let build = self.build;
                for branch in branches.iter().filter(|b| build.keeps(b.condition)) {
                    let skeleton = self.union_skeleton(members, tag, branch.case, branch.ty, depth);
                    let root = replaced(root, at, Some(skeleton));
                    self.walk_object(&root, at, ty, depth);
                }
            }
            _ => self.walk_object(root, at, ty, depth),
        }
    }

    /// The cases inside an object of type `ty` at `at`: each required
    /// member taken out, a member the type lacks, and each member's
    /// cases (an optional one given its skeleton first).
    fn walk_object(&mut self, root: &Value, at: &mut Vec<Step>, ty: TypeRef, depth: usize) {
        let Some(here) = get(root, at).and_then(Value::as_object) else {
            return;
        };
        let members = self.declared(ty, here);
        at.push(Step::Key(UNEXPECTED));
        self.push(replaced(root, at, Some(json!(1))));
        at.pop();
        if depth < 2 {
            self.several_unexpected(root, at, &members);
            // Every optional member given, so that many are read before
            // the leftovers are reported.
            let mut full = root.clone();
            let build = self.build;
            let kept_optional = members
                .iter()
                .filter(|m| m.optional && build.keeps(m.condition));
            for member in kept_optional {
                at.push(Step::Key(member.name));
                full = replaced(&full, at, Some(self.skeleton(member.ty, depth + 1)));
                at.pop();
            }
            self.several_unexpected(&full, at, &members);
        }
        for member in members {
            at.push(Step::Key(member.name));
            if !self.build.keeps(member.condition) {
                // Left out of the build: unexpected there.
                let value = self.skeleton(member.ty, depth + 1);
                self.push_left_out(replaced(root, at, Some(value)));
                at.pop();
                continue;
            }
            if member.optional {
                if depth < MAX_DEPTH {
                    let with = replaced(root, at, Some(self.skeleton(member.ty, depth + 1)));
                    self.walk(&with, at, member.ty, depth + 1);
                }
            } else {
                self.push(replaced(root, at, None));
                self.walk(root, at, member.ty, depth + 1);
            }
            at.pop();
        }
    }

    /// Cases of several members the type lacks at once in the object at
    /// `at`, where QEMU's hash table decides which is reported.
    fn several_unexpected(&mut self, root: &Value, at: &mut Vec<Step>, members: &[Member]) {
        let words = WORDS
            .iter()
            .filter(|word| !members.iter().any(|m| m.name == **word));
        for count in [2, 3, 4, 5, 7, 9, 12, 16, 24] {
            for skip in [0, 3, 7] {
                let mut case = root.clone();
                for word in words.clone().cycle().skip(skip).take(count) {
                    at.push(Step::Key(word));
                    case = replaced(&case, at, Some(json!(1)));
                    at.pop();
                }
                self.push(case);
            }
        }
    }

    /// The members `ty` declares for `object`: a union's common members
    /// and its selected branch's.
    fn declared(&self, ty: TypeRef, object: &Map<String, Value>) -> Vec<Member> {
        match self.kind(ty) {
            Some(TypeKind::Struct { members }) => members.to_vec(),
            Some(TypeKind::Union {
                members,
                tag,
                branches,
            }) => {
                let mut all = members.to_vec();
                let case = object.get(tag).and_then(Value::as_str);
                let selected = branches
                    .iter()
                    .find(|b| Some(b.case) == case && self.build.keeps(b.condition));
                if let Some(branch) = selected {
                    all.extend(self.declared(branch.ty, object));
                }
                all
            }
            _ => Vec::new(),
        }
    }
}

/// Values to put where a value of `ty` goes: one of each JSON type, and
/// for integers the edges of every builtin's range, for enumerations an
/// unknown value.
fn wrong_values(ty: TypeRef, kind: Option<TypeKind>) -> Vec<Value> {
    let mut values = vec![
        json!("qapi-wrong"),
        json!(7),
        json!(2.5),
        json!(true),
        json!({}),
        json!([]),
        Value::Null,
    ];
    let integer = matches!(
        ty,
        TypeRef::Builtin(
            Builtin::Int
                | Builtin::Int8
                | Builtin::Int16
                | Builtin::Int32
                | Builtin::Int64
                | Builtin::Uint8
                | Builtin::Uint16
                | Builtin::Uint32
                | Builtin::Uint64
                | Builtin::Size
        )
    );
    if integer {
        for edge in [
            "-1",
            "1.0",
            "-129",
            "128",
            "256",
            "-32769",
            "32768",
            "65536",
            "-2147483649",
            "2147483648",
            "4294967296",
            "-4294967297",
            "9223372036854775807",
            "9223372036854775808",
            "-9223372036854775808",
            "18446744073709551615",
            "18446744073709551616",
            "-9223372036854775809",
            "1e3",
        ] {
            values.push(serde_json::from_str(edge).expect("a number"));
        }
    }
    if matches!(kind, Some(TypeKind::Enum { .. })) {
        values.push(json!("qapi-no-such-value"));
    }
    values
}

fn get<'v>(root: &'v Value, at: &[Step]) -> Option<&'v Value> {
    at.iter().try_fold(root, |value, step| match step {
        Step::Key(key) => value.get(key),
        Step::Index(index) => value.get(index),
    })
}

/// `root` with the value at `at` replaced by `with` (taken out for
/// `None`).
fn replaced(root: &Value, at: &[Step], with: Option<Value>) -> Value {
    let mut root = root.clone();
    let Some((last, parents)) = at.split_last() else {
        return with.unwrap_or(root);
    };
    let mut parent = &mut root;
    for step in parents {
        parent = match step {
            Step::Key(key) => &mut parent[key],
            Step::Index(index) => &mut parent[index],
        };
    }
    match (last, with, parent) {
        (Step::Key(key), Some(with), Value::Object(object)) => {
            object.insert(key.to_string(), with);
        }
        (Step::Key(key), None, Value::Object(object)) => {
            object.remove(*key);
        }
        (Step::Index(index), Some(with), Value::Array(items)) if *index < items.len() => {
            items[*index] = with;
        }
        (Step::Index(index), None, Value::Array(items)) if *index < items.len() => {
            items.remove(*index);
        }
        _ => {}
    }
    root
}

/// Fails naming the first 60 of `mismatches` (of `cases` cases compared)
/// unless there are none.
pub fn assert_no_mismatches(mismatches: &[String], cases: usize) {
    assert!(
        mismatches.is_empty(),
        "{} of {cases} cases differ:\n{}",
        mismatches.len(),
        mismatches
            .iter()
            .take(60)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
}
