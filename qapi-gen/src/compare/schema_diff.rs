//! Comparing two checked schemas: what changed between two versions of an
//! API, and which changes break a client written against the old one.
//!
//! [`compare`] matches the commands, events and named types (enums,
//! structs, unions, alternates) of two schemas by name. Builtins, arrays
//! and implicit objects are not compared on their own: a command's inline
//! arguments are compared as the command's arguments, an event's inline
//! data as the event's members, a union's inline base as the union's
//! members. Members are compared flattened (base members included), so
//! moving a member into a base is not a change; a change to a member a
//! struct inherits from a base it has in both schemas is reported once,
//! on the base. A named type is compared once, as itself, not again
//! wherever it is used.
//!
//! Where a member, branch, alternative, argument or return type is
//! another type in the new schema, the two are compared by what they put
//! on the wire, not by name: type names are not part of the wire ABI, so
//! a type renamed with the same members, `int` for `int64`, or an enum
//! renamed with the same values is reported as the same on the wire and
//! breaks nothing; a wider integer accepts what clients send, an
//! alternate holding the old type accepts it too. Alternatives are paired
//! by JSON type (their names are not on the wire).
//!
//! # What breaks a client
//!
//! A type's direction comes from its use in both schemas: what a
//! command's arguments reach (through members, union branches,
//! alternatives and array elements, a base's members counting as the
//! struct's) is *input*, what a command's return type or an event's data
//! reach is *output*; a type can be both. Only a direction the type has
//! in both schemas counts: a type that no command or event uses in one of
//! them (a base only, a type whose last use went away) has its changes
//! reported, never as breaking (where its use changed, that is reported).
//! A change is breaking when it breaks in either direction.
//!
//! Breaking:
//! - a command or event removed;
//! - a definition whose kind changed (struct → union, …);
//! - an input member (a command argument included) removed, added as
//!   required, or made required;
//! - an output member that was required removed or made optional;
//! - a member's, alternative's, union branch's, argument's or return type
//!   changed to one that does not accept what clients send (input) or
//!   sends what they can't read (output), judged as above; a union branch
//!   that gains a type, or loses it for an implicit empty one, is judged
//!   as the additions or removals of its type's members, and a command
//!   without a return type as returning an empty object;
//! - an input enum value, union branch or alternative removed;
//! - an alternative added to an output alternate (clients cannot decode
//!   the new JSON type; unions and enums keep what they don't know);
//! - a union's discriminator changed;
//! - `allow-oob` or `allow-preconfig` dropped; `success-response`
//!   changed either way.
//!
//! Not breaking (reported): removals of what is unstable (the
//! `unstable` feature, an `x-` name: QMP says such names may be withdrawn
//! or changed incompatibly); additions of commands, events, types,
//! optional input members, output members, enum values and union
//! branches; removals of named types (where they were used, that use
//! changed and is reported), of output enum values, output union
//! branches and optional output members; types that are the same on the
//! wire or compatible in the type's directions; alternatives renamed;
//! `deprecated`, `unstable` and any other feature added or removed;
//! `boxed`, `coroutine` and `gen` changed, and `allow-oob`/`allow-preconfig`
//! added; conditions (`if`) changed, which only say in which builds
//! something exists (compared as logic: `{'all': ['A']}` is `A`, `not (A
//! or B)` is `not A and not B`, by truth table). Enum `prefix` changes (C
//! only) and reordering are ignored.
//!
//! # Order
//!
//! Changes are sorted by definition kind (commands, events, enums,
//! structs, unions, alternates; the old kind for a definition whose kind
//! changed), then definition name (byte order), then [`Part`] (first the
//! definition itself and its features, then flags, arguments or data as
//! a whole, returns, discriminator, then arguments or members, values,
//! branches and alternatives, each by name), then feature (none first,
//! then by name); changes to one subject in a fixed order (a member's
//! type before its optionality).

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt;

use serde_json::{json, Value};

use crate::compare::compatibility::{self, unstable, Compat, TypeComparison, Use};
use crate::frontend::diagnostic::article;
use crate::model::{
    Command, Cond, EntityId, EntityKind, EnumValue, Feature, Member, Schema, Variant,
};

/// The kinds of definition compared, in the order changes are listed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum DefinitionKind {
    /// A command.
    Command,
    /// An event.
    Event,
    /// An enumeration.
    Enum,
    /// A struct.
    Struct,
    /// A union.
    Union,
    /// An alternate.
    Alternate,
}

impl DefinitionKind {
    /// The schema keyword: `command`, `event`, `enum`, `struct`, `union`
    /// or `alternate`.
    pub fn as_str(self) -> &'static str {
        match self {
            DefinitionKind::Command => "command",
            DefinitionKind::Event => "event",
            DefinitionKind::Enum => "enum",
            DefinitionKind::Struct => "struct",
            DefinitionKind::Union => "union",
            DefinitionKind::Alternate => "alternate",
        }
    }
}

/// The part of a definition a change concerns, in the order changes are
/// listed.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Part {
    /// A command flag (`allow-oob`, `allow-preconfig`, `success-response`,
    /// `coroutine`, `boxed`, `gen`) or an event's `boxed`.
    Flag(&'static str),
    /// A command's arguments or an event's data as a whole (its type).
    Arguments,
    /// A command's return type.
    Returns,
    /// A union's discriminator.
    Discriminator,
    /// An argument of a command.
    Argument(String),
    /// A member of a struct, a union's base or an event's data.
    Member(String),
    /// A value of an enumeration.
    Value(String),
    /// A union branch.
    Branch(String),
    /// An alternative of an alternate.
    Alternative(String),
}

impl Part {
    /// What the part is: `flag`, `arguments` (`data` for events),
    /// `returns`, `discriminator`, `argument`, `member`, `value`,
    /// `branch` or `alternative`.
    pub fn kind(&self, definition: DefinitionKind) -> &'static str {
        match self {
            Part::Flag(_) => "flag",
            Part::Arguments if definition == DefinitionKind::Event => "data",
            Part::Arguments => "arguments",
            Part::Returns => "returns",
            Part::Discriminator => "discriminator",
            Part::Argument(_) => "argument",
            Part::Member(_) => "member",
            Part::Value(_) => "value",
            Part::Branch(_) => "branch",
            Part::Alternative(_) => "alternative",
        }
    }

    /// The name of the flag, argument, member, value, branch or
    /// alternative; `None` for the parts a definition has only one of.
    pub fn name(&self) -> Option<&str> {
        match self {
            Part::Flag(name) => Some(name),
            Part::Arguments | Part::Returns | Part::Discriminator => None,
            Part::Argument(name)
            | Part::Member(name)
            | Part::Value(name)
            | Part::Branch(name)
            | Part::Alternative(name) => Some(name),
        }
    }
}

/// Whether something was added, removed or changed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ChangeKind {
    /// It is in the new schema only.
    Added,
    /// It is in the old schema only.
    Removed,
    /// It is in both, differently.
    Changed,
}

impl ChangeKind {
    /// `added`, `removed` or `changed`.
    pub fn as_str(self) -> &'static str {
        match self {
            ChangeKind::Added => "added",
            ChangeKind::Removed => "removed",
            ChangeKind::Changed => "changed",
        }
    }

    /// The text format's first character: `+`, `-` or `~`.
    pub fn sigil(self) -> char {
        match self {
            ChangeKind::Added => '+',
            ChangeKind::Removed => '-',
            ChangeKind::Changed => '~',
        }
    }
}

/// One difference between two schemas.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Change {
    /// The kind of the definition concerned (in the old schema, unless it
    /// was added).
    pub definition: DefinitionKind,
    /// The definition's name.
    pub name: String,
    /// The part of the definition concerned; `None` for the definition
    /// itself.
    pub part: Option<Part>,
    /// The feature concerned, of the definition or of [`Change::part`].
    pub feature: Option<String>,
    /// Added, removed or changed (what [`Change::feature`], else
    /// [`Change::part`], else the definition, is).
    pub kind: ChangeKind,
    /// What happened, for people: `added`, `removed`, `type 'int' →
    /// 'str'`, `became required`, `true → false`, …
    pub detail: String,
    /// For changes: the old type, flag value, kind, condition, …;
    /// `None` when there was none or for additions and removals.
    pub old: Option<String>,
    /// For changes: the new type, flag value, kind, condition, ….
    pub new: Option<String>,
    /// Whether the change breaks clients written against the old schema.
    pub breaking: bool,
    /// Why it breaks them; set exactly when [`Change::breaking`].
    pub reason: Option<String>,
}

impl Change {
    fn to_json(&self) -> Value {
        let part = self.part.as_ref().map(|part| {
            json!({
                "kind": part.kind(self.definition),
                "name": part.name(),
            })
        });
        json!({
            "change": self.kind.as_str(),
            "definition": self.definition.as_str(),
            "name": self.name,
            "part": part,
            "feature": self.feature,
            "detail": self.detail,
            "old": self.old,
            "new": self.new,
            "breaking": self.breaking,
            "reason": self.reason,
        })
    }
}

/// The change's line in the text format, without a newline:
/// `~ command 'baz': argument 'x': became required [breaking: …]`.
impl fmt::Display for Change {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {} '{}'",
            self.kind.sigil(),
            self.definition.as_str(),
            self.name
        )?;
        if let Some(part) = &self.part {
            write!(f, ": {}", part.kind(self.definition))?;
            if let Some(name) = part.name() {
                write!(f, " '{name}'")?;
            }
        }
        if let Some(feature) = &self.feature {
            write!(f, ": feature '{feature}'")?;
        }
        write!(f, ": {}", self.detail)?;
        if self.breaking {
            match &self.reason {
                Some(reason) => write!(f, " [breaking: {reason}]")?,
                None => f.write_str(" [breaking]")?,
            }
        }
        Ok(())
    }
}

/// Every difference between two schemas, in the documented order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Changes {
    changes: Vec<Change>,
}

impl Changes {
    /// The changes, sorted.
    pub fn changes(&self) -> &[Change] {
        &self.changes
    }

    /// Whether the schemas are the same as far as clients can tell.
    pub fn is_empty(&self) -> bool {
        self.changes.is_empty()
    }

    /// How many changes break clients.
    pub fn breaking(&self) -> usize {
        self.changes.iter().filter(|c| c.breaking).count()
    }

    /// One line a change, then a summary line: `3 changes, 1 breaking`
    /// (`no changes` when there are none).
    pub fn render_text(&self) -> String {
        let mut out = String::new();
        for change in &self.changes {
            out.push_str(&change.to_string());
            out.push('\n');
        }
        match self.changes.len() {
            0 => out.push_str("no changes\n"),
            1 => out.push_str(&format!("1 change, {} breaking\n", self.breaking())),
            n => out.push_str(&format!("{n} changes, {} breaking\n", self.breaking())),
        }
        out
    }

    /// The changes as JSON:
    ///
    /// ```json
    /// { "changes": [ { "change": "changed", "definition": "command",
    ///                  "name": "baz",
    ///                  "part": { "kind": "argument", "name": "x" },
    ///                  "feature": null, "detail": "became required",
    ///                  "old": "optional", "new": "required",
    ///                  "breaking": true,
    ///                  "reason": "clients that omit it are rejected" } ],
    ///   "breaking": 1 }
    /// ```
    ///
    /// Keys are in serde_json's map order (sorted, unless its
    /// `preserve_order` feature is on). `part` is `null` for the
    /// definition itself and its `name` is
    /// `null` for `arguments`/`data`, `returns` and `discriminator`;
    /// `old`/`new` are `null` for additions and removals and where there
    /// was none (no return type, no condition); `reason` is `null` unless
    /// `breaking`.
    pub fn to_json(&self) -> Value {
        json!({
            "changes": self.changes.iter().map(Change::to_json).collect::<Vec<_>>(),
            "breaking": self.breaking(),
        })
    }
}

/// Compares `old` with `new`: what a client written against `old` sees
/// change in `new`.
pub fn compare(old: &Schema, new: &Schema) -> Changes {
    let mut cmp = Comparison {
        old,
        new,
        old_use: directions(old),
        new_use: directions(new),
        wire: TypeComparison::new(old, new),
        changes: Vec::new(),
    };
    let old_defs = compared_definitions(old);
    let new_defs = compared_definitions(new);
    for (&name, &(old_kind, old_id)) in &old_defs {
        match new_defs.get(name) {
            Some(&(new_kind, new_id)) => {
                cmp.definition(name, (old_kind, old_id), (new_kind, new_id));
            }
            None => {
                let reason = match old_kind {
                    DefinitionKind::Command => Some("clients that execute it get an error"),
                    DefinitionKind::Event => Some("clients waiting for it never receive it"),
                    _ => None,
                };
                cmp.removed(
                    Subject::new(old_kind, name),
                    unstable(name, &old.entity(old_id).features),
                    reason,
                );
            }
        }
    }
    for (&name, &(new_kind, _)) in &new_defs {
        if !old_defs.contains_key(name) {
            cmp.push(Subject::new(new_kind, name), ChangeKind::Added, None);
        }
    }
    let mut changes = merged(cmp.changes);
    changes.sort_by(|a, b| {
        (a.definition, &a.name, &a.part, &a.feature).cmp(&(
            b.definition,
            &b.name,
            &b.part,
            &b.feature,
        ))
    });
    Changes { changes }
}

/// The changes with those found more than once (a base's member, through
/// each struct built on it) reported once: breaking if any of them is.
fn merged(changes: Vec<Change>) -> Vec<Change> {
    let mut out: Vec<Change> = Vec::with_capacity(changes.len());
    let mut seen: HashMap<String, usize> = HashMap::new();
    for change in changes {
        let key = format!(
            "{:?}\0{}\0{:?}\0{:?}\0{:?}\0{}\0{:?}\0{:?}",
            change.definition,
            change.name,
            change.part,
            change.feature,
            change.kind,
            change.detail,
            change.old,
            change.new
        );
        match seen.get(&key) {
            Some(&i) => {
                let first = &mut out[i];
                if change.breaking && !first.breaking {
                    first.breaking = true;
                    first.reason = change.reason;
                }
            }
            None => {
                seen.insert(key, out.len());
                out.push(change);
            }
        }
    }
    out
}

/// The definitions compared, by name: explicit commands, events and types.
fn compared_definitions(schema: &Schema) -> BTreeMap<&str, (DefinitionKind, EntityId)> {
    schema
        .definitions()
        .filter_map(|id| {
            let entity = schema.entity(id);
            if entity.is_implicit() {
                return None;
            }
            Some((entity.name.as_str(), (definition_kind(schema, id)?, id)))
        })
        .collect()
}

fn definition_kind(schema: &Schema, id: EntityId) -> Option<DefinitionKind> {
    Some(match &schema.entity(id).kind {
        EntityKind::Command(_) => DefinitionKind::Command,
        EntityKind::Event(_) => DefinitionKind::Event,
        EntityKind::Enum(_) => DefinitionKind::Enum,
        EntityKind::Object(o) if o.is_union() => DefinitionKind::Union,
        EntityKind::Object(_) => DefinitionKind::Struct,
        EntityKind::Alternate(_) => DefinitionKind::Alternate,
        EntityKind::Builtin(_) | EntityKind::Array(_) => return None,
    })
}

/// Each entity's direction, by walking from commands and events through
/// members (a base's included), branches, alternatives and array
/// elements. A struct used only as a base travels in no direction of its
/// own: its members travel as members of the structs built on it.
fn directions(schema: &Schema) -> Vec<Use> {
    let mut uses = vec![Use::default(); schema.entities().len()];
    let mut stack: Vec<(EntityId, Use)> = Vec::new();
    for id in schema.ids() {
        match &schema.entity(id).kind {
            EntityKind::Command(command) => {
                stack.extend(command.arg_type.map(|t| (t, Use::INPUT)));
                stack.extend(command.ret_type.map(|t| (t, Use::OUTPUT)));
            }
            EntityKind::Event(event) => {
                stack.extend(event.arg_type.map(|t| (t, Use::OUTPUT)));
            }
            _ => {}
        }
    }
    while let Some((id, dir)) = stack.pop() {
        let Some(slot) = uses.get_mut(id.index()) else {
            continue;
        };
        if slot.contains(dir) {
            continue;
        }
        *slot = slot.union(dir);
        match &schema.entity(id).kind {
            EntityKind::Object(object) => {
                stack.extend(schema.members(id).iter().map(|m| (m.ty, dir)));
                if let Some(branches) = &object.branches {
                    stack.push((branches.tag_type, dir));
                    stack.extend(branches.variants.iter().map(|v| (v.ty, dir)));
                }
            }
            EntityKind::Alternate(alternate) => {
                stack.extend(alternate.variants.iter().map(|v| (v.ty, dir)));
            }
            EntityKind::Array(array) => stack.push((array.element, dir)),
            _ => {}
        }
    }
    uses
}

/// The type of something as written: `int`, `VolumeInfo`, `[Tag]`.
fn type_name(schema: &Schema, id: EntityId) -> String {
    let entity = schema.entity(id);
    match &entity.kind {
        EntityKind::Array(array) => format!("[{}]", schema.entity(array.element).name),
        _ => entity.name.clone(),
    }
}

/// Written for inline arguments or event data in [`Change::old`] and
/// [`Change::new`].
const INLINE: &str = "{...}";

/// `'old' → 'new'`, with `none` for nothing and inline members unquoted.
fn arrow(old: Option<&str>, new: Option<&str>) -> String {
    let show = |v: Option<&str>| match v {
        None => "none".to_string(),
        Some(INLINE) => INLINE.to_string(),
        Some(v) => format!("'{v}'"),
    };
    format!("{} → {}", show(old), show(new))
}

/// What a change is about, short of its kind and detail.
#[derive(Clone)]
struct Subject<'a> {
    definition: DefinitionKind,
    name: &'a str,
    part: Option<Part>,
    feature: Option<&'a str>,
}

impl<'a> Subject<'a> {
    fn new(definition: DefinitionKind, name: &'a str) -> Self {
        Subject {
            definition,
            name,
            part: None,
            feature: None,
        }
    }

    fn part(&self, part: Part) -> Self {
        Subject {
            part: Some(part),
            ..self.clone()
        }
    }

    fn feature(&self, feature: &'a str) -> Self {
        Subject {
            feature: Some(feature),
            ..self.clone()
        }
    }
}

struct Comparison<'s> {
    old: &'s Schema,
    new: &'s Schema,
    /// Directions of the old schema's entities.
    old_use: Vec<Use>,
    /// Directions of the new schema's entities.
    new_use: Vec<Use>,
    /// Types compared by what they put on the wire.
    wire: TypeComparison<'s>,
    changes: Vec<Change>,
}

impl<'s> Comparison<'s> {
    /// The directions a definition travels in both schemas.
    fn use_of(&self, old: EntityId, new: EntityId) -> Use {
        let get = |uses: &[Use], id: EntityId| uses.get(id.index()).copied().unwrap_or_default();
        get(&self.old_use, old).intersection(get(&self.new_use, new))
    }

    /// Records an addition or removal.
    fn push(&mut self, subject: Subject<'_>, kind: ChangeKind, reason: Option<&str>) {
        self.record(subject, kind, kind.as_str().to_string(), None, None, reason);
    }

    /// Records a removal; one of something `unstable` breaks no promise.
    fn removed(&mut self, subject: Subject<'_>, unstable: bool, reason: Option<&str>) {
        if unstable {
            let detail = "removed (it was unstable)".to_string();
            self.record(subject, ChangeKind::Removed, detail, None, None, None);
        } else {
            self.push(subject, ChangeKind::Removed, reason);
        }
    }

    /// Records a change from `old` to `new`, described by `detail`.
    fn changed(
        &mut self,
        subject: Subject<'_>,
        detail: String,
        (old, new): (Option<String>, Option<String>),
        reason: Option<&str>,
    ) {
        self.record(subject, ChangeKind::Changed, detail, old, new, reason);
    }

    /// Records that the type at `subject` is another one: `PREFIX 'old' →
    /// 'new'`, with the verdict of comparing the two on the wire.
    fn retyped(
        &mut self,
        subject: Subject<'_>,
        prefix: &str,
        (old, new): (Option<String>, Option<String>),
        compat: Compat,
    ) {
        let mut detail = format!("{prefix}{}", arrow(old.as_deref(), new.as_deref()));
        match &compat {
            Compat::Same => detail.push_str(" (the same on the wire)"),
            // What differs, unless the types say it (`int32 → int64`).
            Compat::Compatible(Some(note))
                if Some(note.as_str())
                    != old
                        .as_deref()
                        .zip(new.as_deref())
                        .map(|(o, n)| format!("{o} → {n}"))
                        .as_deref() =>
            {
                detail.push_str(&format!(" ({note})"));
            }
            _ => {}
        }
        let reason = match &compat {
            Compat::Breaking(reason) => Some(reason.as_str()),
            _ => None,
        };
        self.changed(subject, detail, (old, new), reason);
    }

    fn record(
        &mut self,
        subject: Subject<'_>,
        kind: ChangeKind,
        detail: String,
        old: Option<String>,
        new: Option<String>,
        reason: Option<&str>,
    ) {
        self.changes.push(Change {
            definition: subject.definition,
            name: subject.name.to_string(),
            part: subject.part,
            feature: subject.feature.map(str::to_string),
            kind,
            detail,
            old,
            new,
            breaking: reason.is_some(),
            reason: reason.map(str::to_string),
        });
    }

    fn definition(
        &mut self,
        name: &'s str,
        (old_kind, old_id): (DefinitionKind, EntityId),
        (new_kind, new_id): (DefinitionKind, EntityId),
    ) {
        let subject = Subject::new(old_kind, name);
        let use_ = self.use_of(old_id, new_id);
        if old_kind != new_kind {
            let reason = if matches!(old_kind, DefinitionKind::Command | DefinitionKind::Event)
                || matches!(new_kind, DefinitionKind::Command | DefinitionKind::Event)
            {
                Some(format!(
                    "clients handle it as {}",
                    article(old_kind.as_str())
                ))
            } else {
                // A struct that became a union may still read the same.
                match self.wire.definitions(old_id, new_id, use_) {
                    Compat::Breaking(why) => Some(why),
                    _ => None,
                }
            };
            self.changed(
                subject.clone(),
                format!(
                    "changed from {} to {}",
                    old_kind.as_str(),
                    new_kind.as_str()
                ),
                (
                    Some(old_kind.as_str().to_string()),
                    Some(new_kind.as_str().to_string()),
                ),
                reason.as_deref(),
            );
            // A struct that became a union: what became of the members it
            // kept (those it gained or lost are in the verdict above).
            if self.old.entity(old_id).as_object().is_some()
                && self.new.entity(new_id).as_object().is_some()
            {
                let (old_members, new_members) =
                    (self.old.members(old_id), self.new.members(new_id));
                let kept = |members: Vec<&'s Member>, other: &[&'s Member]| {
                    members
                        .into_iter()
                        .filter(|m| other.iter().any(|o| o.name == m.name))
                        .collect::<Vec<_>>()
                };
                let old_kept = kept(old_members.clone(), &new_members);
                let new_kept = kept(new_members, &old_members);
                self.members(
                    &subject,
                    Part::Member,
                    (old_kept, new_kept),
                    use_,
                    Some((old_id, new_id)),
                );
            }
            let (old, new) = (self.old.entity(old_id), self.new.entity(new_id));
            self.features(&subject, &old.features, &new.features);
            self.cond(&subject, old.cond.as_ref(), new.cond.as_ref());
            return;
        }
        match (&self.old.entity(old_id).kind, &self.new.entity(new_id).kind) {
            (EntityKind::Command(old), EntityKind::Command(new)) => {
                self.command(&subject, old, new);
            }
            (EntityKind::Event(old), EntityKind::Event(new)) => {
                self.flag(&subject, "boxed", old.boxed, new.boxed, None);
                self.arguments(&subject, old.arg_type, new.arg_type, Use::OUTPUT);
            }
            (EntityKind::Enum(old), EntityKind::Enum(new)) => {
                self.values(&subject, &old.values, &new.values, use_);
            }
            (EntityKind::Object(old), EntityKind::Object(new)) => {
                self.members(
                    &subject,
                    Part::Member,
                    (self.old.members(old_id), self.new.members(new_id)),
                    use_,
                    Some((old_id, new_id)),
                );
                if let (Some(old), Some(new)) = (&old.branches, &new.branches) {
                    if old.tag != new.tag {
                        self.changed(
                            subject.part(Part::Discriminator),
                            arrow(Some(&old.tag), Some(&new.tag)),
                            (Some(old.tag.clone()), Some(new.tag.clone())),
                            use_.any().then_some("clients use the old discriminator"),
                        );
                    }
                    self.branches(&subject, &old.variants, &new.variants, use_);
                }
            }
            (EntityKind::Alternate(old), EntityKind::Alternate(new)) => {
                self.alternatives(&subject, &old.variants, &new.variants, use_);
            }
            _ => {}
        }
        let (old, new) = (self.old.entity(old_id), self.new.entity(new_id));
        self.features(&subject, &old.features, &new.features);
        self.cond(&subject, old.cond.as_ref(), new.cond.as_ref());
    }

    fn command(&mut self, subject: &Subject<'s>, old: &Command, new: &Command) {
        let success_reason = if old.success_response {
            "clients wait for a response that is no longer sent"
        } else {
            "clients do not expect the response that is now sent"
        };
        let flags = [
            (
                "allow-oob",
                old.allow_oob,
                new.allow_oob,
                old.allow_oob
                    .then_some("clients that execute it out of band are rejected"),
            ),
            (
                "allow-preconfig",
                old.allow_preconfig,
                new.allow_preconfig,
                old.allow_preconfig
                    .then_some("clients that run it before the machine is built are rejected"),
            ),
            (
                "success-response",
                old.success_response,
                new.success_response,
                Some(success_reason),
            ),
            ("coroutine", old.coroutine, new.coroutine, None),
            ("boxed", old.boxed, new.boxed, None),
            ("gen", old.gen, new.gen, None),
        ];
        for (name, old_value, new_value, reason) in flags {
            self.flag(subject, name, old_value, new_value, reason);
        }
        self.arguments(subject, old.arg_type, new.arg_type, Use::INPUT);
        let old_ret = old.ret_type.map(|t| type_name(self.old, t));
        let new_ret = new.ret_type.map(|t| type_name(self.new, t));
        if old_ret != new_ret {
            // No return type is an empty object on the wire.
            let compat = self.wire.compare(old.ret_type, new.ret_type, Use::OUTPUT);
            self.retyped(subject.part(Part::Returns), "", (old_ret, new_ret), compat);
        }
    }

    /// A boolean flag; `reason` says why a change breaks clients.
    fn flag(
        &mut self,
        subject: &Subject<'_>,
        name: &'static str,
        old: bool,
        new: bool,
        reason: Option<&str>,
    ) {
        if old != new {
            self.changed(
                subject.part(Part::Flag(name)),
                format!("{old} → {new}"),
                (Some(old.to_string()), Some(new.to_string())),
                reason,
            );
        }
    }

    /// A command's arguments or an event's data. Inline on both sides:
    /// member by member. A named type on both sides: the type is compared
    /// as itself. Otherwise the type changed: that is reported, and the
    /// members are compared as well (a union's branches as part of the
    /// type change).
    fn arguments(
        &mut self,
        subject: &Subject<'s>,
        old: Option<EntityId>,
        new: Option<EntityId>,
        dir: Use,
    ) {
        let written = |schema: &Schema, id: Option<EntityId>| {
            id.map(|id| {
                let entity = schema.entity(id);
                if entity.is_implicit() {
                    INLINE.to_string()
                } else {
                    entity.name.clone()
                }
            })
        };
        let (old_written, new_written) = (written(self.old, old), written(self.new, new));
        let inline_or_none = |w: &Option<String>| w.as_deref().is_none_or(|w| w == INLINE);
        if inline_or_none(&old_written) && inline_or_none(&new_written) {
            // Compared below, member by member.
        } else if old_written == new_written {
            return;
        } else {
            let is_union = |schema: &Schema, id: Option<EntityId>| {
                id.and_then(|id| schema.entity(id).as_object())
                    .is_some_and(|o| o.is_union())
            };
            let union = is_union(self.old, old) || is_union(self.new, new);
            let compat = match self.wire.compare(old, new, dir) {
                // The members are reported one by one below.
                Compat::Breaking(_) | Compat::Compatible(_) if !union => Compat::Compatible(None),
                compat => compat,
            };
            self.retyped(
                subject.part(Part::Arguments),
                "",
                (old_written, new_written),
                compat,
            );
            if union {
                // Branches can't be compared member by member: the verdict
                // above is the whole story.
                return;
            }
        }
        let part = if subject.definition == DefinitionKind::Command {
            Part::Argument
        } else {
            Part::Member
        };
        let old_members = old.map(|id| self.old.members(id)).unwrap_or_default();
        let new_members = new.map(|id| self.new.members(id)).unwrap_or_default();
        self.members(subject, part, (old_members, new_members), dir, None);
    }

    /// Members, flattened. For the members of two objects (`objects`), a
    /// change to a member that a base declares in both schemas is
    /// reported on that base.
    fn members(
        &mut self,
        subject: &Subject<'s>,
        part: fn(String) -> Part,
        (old, new): (Vec<&'s Member>, Vec<&'s Member>),
        dir: Use,
        objects: Option<(EntityId, EntityId)>,
    ) {
        let new_by_name: HashMap<&str, &Member> =
            new.iter().map(|m| (m.name.as_str(), *m)).collect();
        let old_names: HashSet<&str> = old.iter().map(|m| m.name.as_str()).collect();
        for o in old {
            let n = new_by_name.get(o.name.as_str()).copied();
            let at = self
                .reported_on(subject, objects, (Some(o), n))
                .part(part(o.name.clone()));
            let Some(n) = n else {
                let reason = if dir.input {
                    Some("clients that pass it are rejected")
                } else if dir.output && !o.optional {
                    Some("clients that read it find it missing")
                } else {
                    None
                };
                self.removed(at, unstable(&o.name, &o.features), reason);
                continue;
            };
            let (old_ty, new_ty) = (type_name(self.old, o.ty), type_name(self.new, n.ty));
            if old_ty != new_ty {
                let compat = self.wire.compare(Some(o.ty), Some(n.ty), dir);
                self.retyped(at.clone(), "type ", (Some(old_ty), Some(new_ty)), compat);
            }
            if o.optional != n.optional {
                let (detail, reason) = if n.optional {
                    let reason = dir
                        .output
                        .then_some("clients that read it may find it missing");
                    ("became optional", reason)
                } else {
                    let reason = dir.input.then_some("clients that omit it are rejected");
                    ("became required", reason)
                };
                let word = |optional: bool| if optional { "optional" } else { "required" };
                self.changed(
                    at.clone(),
                    detail.to_string(),
                    (
                        Some(word(o.optional).to_string()),
                        Some(word(n.optional).to_string()),
                    ),
                    reason,
                );
            }
            self.features(&at, &o.features, &n.features);
            self.cond(&at, o.cond.as_ref(), n.cond.as_ref());
        }
        for n in new {
            if !old_names.contains(n.name.as_str()) {
                let reason =
                    (dir.input && !n.optional).then_some("clients that omit it are rejected");
                let at = self
                    .reported_on(subject, objects, (None, Some(n)))
                    .part(part(n.name.clone()));
                self.push(at, ChangeKind::Added, reason);
            }
        }
    }

    /// Where a change to a member of `objects` is reported: on the named
    /// base that declares it in both schemas (the member added or removed
    /// there, the objects having that base in both), else on `subject`.
    fn reported_on(
        &self,
        subject: &Subject<'s>,
        objects: Option<(EntityId, EntityId)>,
        (old, new): (Option<&'s Member>, Option<&'s Member>),
    ) -> Subject<'s> {
        let Some((old_object, new_object)) = objects else {
            return subject.clone();
        };
        let named = |schema: &'s Schema, member: Option<&'s Member>, object: EntityId| {
            member
                .map(|m| m.defined_in)
                .filter(|&owner| owner != object && !schema.entity(owner).is_implicit())
                .map(|owner| schema.entity(owner).name.as_str())
        };
        let owner = match (
            named(self.old, old, old_object),
            named(self.new, new, new_object),
        ) {
            (Some(o), Some(n)) if o == n => Some(o),
            (Some(o), None) if new.is_none() && has_base(self.new, new_object, o) => Some(o),
            (None, Some(n)) if old.is_none() && has_base(self.old, old_object, n) => Some(n),
            _ => None,
        };
        match owner {
            Some(owner) => Subject::new(DefinitionKind::Struct, owner),
            None => subject.clone(),
        }
    }

    fn values(
        &mut self,
        subject: &Subject<'s>,
        old: &'s [EnumValue],
        new: &'s [EnumValue],
        dir: Use,
    ) {
        let new_by_name: HashMap<&str, _> = new.iter().map(|v| (v.name.as_str(), v)).collect();
        let old_names: HashSet<&str> = old.iter().map(|v| v.name.as_str()).collect();
        for o in old {
            let at = subject.part(Part::Value(o.name.clone()));
            match new_by_name.get(o.name.as_str()) {
                Some(n) => {
                    self.features(&at, &o.features, &n.features);
                    self.cond(&at, o.cond.as_ref(), n.cond.as_ref());
                }
                None => {
                    let reason = dir.input.then_some("clients that send it are rejected");
                    self.removed(at, unstable(&o.name, &o.features), reason);
                }
            }
        }
        for n in new {
            if !old_names.contains(n.name.as_str()) {
                self.push(
                    subject.part(Part::Value(n.name.clone())),
                    ChangeKind::Added,
                    None,
                );
            }
        }
    }

    /// Union branches, by discriminator value. A union's implicit empty
    /// branches (discriminator values without a branch) come and go with
    /// the values, which are reported on the enum; they count only where
    /// a branch gains or loses a type.
    fn branches(
        &mut self,
        subject: &Subject<'s>,
        old: &'s [Variant],
        new: &'s [Variant],
        dir: Use,
    ) {
        let new_by_name: HashMap<&str, &Variant> =
            new.iter().map(|v| (v.name.as_str(), v)).collect();
        let old_names: HashSet<&str> = old.iter().map(|v| v.name.as_str()).collect();
        for o in old {
            let at = subject.part(Part::Branch(o.name.clone()));
            let Some(n) = new_by_name.get(o.name.as_str()) else {
                if !o.implicit {
                    let reason = dir.input.then_some("clients that send it are rejected");
                    // A branch is a discriminator value: unstable as the
                    // value is.
                    self.removed(at, unstable(&o.name, &[]), reason);
                }
                continue;
            };
            let ty = |v: &Variant| (!v.implicit).then_some(v.ty);
            let written = |schema: &Schema, v: &Variant| ty(v).map(|t| type_name(schema, t));
            let (old_ty, new_ty) = (written(self.old, o), written(self.new, n));
            if old_ty != new_ty {
                // An empty branch is an empty object on the wire.
                let compat = self.wire.compare(ty(o), ty(n), dir);
                self.retyped(at.clone(), "type ", (old_ty, new_ty), compat);
            }
            if !o.implicit && !n.implicit {
                self.cond(&at, o.cond.as_ref(), n.cond.as_ref());
            }
        }
        for n in new {
            if !n.implicit && !old_names.contains(n.name.as_str()) {
                self.push(
                    subject.part(Part::Branch(n.name.clone())),
                    ChangeKind::Added,
                    None,
                );
            }
        }
    }

    /// An alternate's alternatives, paired by JSON type (their names are
    /// not on the wire); reported under their old names, and the new
    /// ones for additions.
    fn alternatives(
        &mut self,
        subject: &Subject<'s>,
        old: &'s [Variant],
        new: &'s [Variant],
        dir: Use,
    ) {
        let (old_schema, new_schema) = (self.old, self.new);
        let paired = |o: &Variant| {
            let category = compatibility::category(old_schema, Some(o.ty));
            new.iter()
                .find(|n| compatibility::category(new_schema, Some(n.ty)) == category)
        };
        // Alternatives are told apart by JSON type: the lines say which.
        let json = |schema: &Schema, v: &Variant| {
            compatibility::category(schema, Some(v.ty)).unwrap_or("value")
        };
        for o in old {
            let at = subject.part(Part::Alternative(o.name.clone()));
            let category = json(self.old, o);
            let Some(n) = paired(o) else {
                let reason = dir.input.then_some("clients that send it are rejected");
                let detail = format!("removed (the {category} alternative)");
                self.record(at, ChangeKind::Removed, detail, None, None, reason);
                continue;
            };
            if o.name != n.name {
                self.changed(
                    at.clone(),
                    format!(
                        "renamed {} (the {category} alternative)",
                        arrow(Some(&o.name), Some(&n.name))
                    ),
                    (Some(o.name.clone()), Some(n.name.clone())),
                    None,
                );
            }
            let (old_ty, new_ty) = (type_name(self.old, o.ty), type_name(self.new, n.ty));
            if old_ty != new_ty {
                let compat = self.wire.compare(Some(o.ty), Some(n.ty), dir);
                self.retyped(at.clone(), "type ", (Some(old_ty), Some(new_ty)), compat);
            }
            self.cond(&at, o.cond.as_ref(), n.cond.as_ref());
        }
        for n in new {
            let category = compatibility::category(new_schema, Some(n.ty));
            if !old
                .iter()
                .any(|o| compatibility::category(old_schema, Some(o.ty)) == category)
            {
                let reason = dir
                    .output
                    .then_some("clients cannot decode values of the new alternative");
                let detail = format!("added (the {} alternative)", json(self.new, n));
                self.record(
                    subject.part(Part::Alternative(n.name.clone())),
                    ChangeKind::Added,
                    detail,
                    None,
                    None,
                    reason,
                );
            }
        }
    }

    /// Features added and removed, and their conditions: reported, never
    /// breaking.
    fn features(&mut self, subject: &Subject<'s>, old: &'s [Feature], new: &'s [Feature]) {
        for o in old {
            match new.iter().find(|n| n.name == o.name) {
                Some(n) => self.cond(&subject.feature(&o.name), o.cond.as_ref(), n.cond.as_ref()),
                None => self.push(subject.feature(&o.name), ChangeKind::Removed, None),
            }
        }
        for n in new {
            if !old.iter().any(|o| o.name == n.name) {
                self.push(subject.feature(&n.name), ChangeKind::Added, None);
            }
        }
    }

    /// A changed condition: reported, never breaking. Conditions are
    /// compared as logic (see [`equivalent`]), not as written.
    fn cond(&mut self, subject: &Subject<'_>, old: Option<&Cond>, new: Option<&Cond>) {
        if !equivalent(old, new) {
            let (old, new) = (old.map(Cond::to_string), new.map(Cond::to_string));
            self.changed(
                subject.clone(),
                format!("condition {}", arrow(old.as_deref(), new.as_deref())),
                (old, new),
                None,
            );
        }
    }
}

/// Whether `base` (by name) is among the bases of object `id`.
fn has_base(schema: &Schema, id: EntityId, base: &str) -> bool {
    let mut current = schema.entity(id).as_object().and_then(|o| o.base);
    // Bases never form a cycle in a checked schema; the bound is a guard.
    for _ in 0..schema.entities().len() {
        let Some(id) = current else {
            return false;
        };
        if schema.entity(id).name == base {
            return true;
        }
        current = schema.entity(id).as_object().and_then(|o| o.base);
    }
    false
}

/// Whether two conditions (none: always) hold in the same builds: by
/// their truth tables over the configuration symbols they name, or, past
/// 16 symbols, by their [`canonical`] forms.
fn equivalent(a: Option<&Cond>, b: Option<&Cond>) -> bool {
    fn symbols<'c>(cond: &'c Cond, out: &mut Vec<&'c str>) {
        match cond {
            Cond::Name(name) => {
                if !out.contains(&name.as_str()) {
                    out.push(name);
                }
            }
            Cond::Not(inner) => symbols(inner, out),
            Cond::All(conds) | Cond::Any(conds) => conds.iter().for_each(|c| symbols(c, out)),
        }
    }
    fn holds(cond: &Cond, set: &dyn Fn(&str) -> bool) -> bool {
        match cond {
            Cond::Name(name) => set(name),
            Cond::Not(inner) => !holds(inner, set),
            Cond::All(conds) => conds.iter().all(|c| holds(c, set)),
            Cond::Any(conds) => conds.iter().any(|c| holds(c, set)),
        }
    }
    let mut names = Vec::new();
    for cond in [a, b].into_iter().flatten() {
        symbols(cond, &mut names);
    }
    if names.len() > 16 {
        return a.map(canonical) == b.map(canonical);
    }
    (0..1u32 << names.len()).all(|bits| {
        let set = |name: &str| {
            names
                .iter()
                .position(|n| *n == name)
                .is_some_and(|i| bits >> i & 1 == 1)
        };
        let eval = |cond: Option<&Cond>| cond.is_none_or(|c| holds(c, &set));
        eval(a) == eval(b)
    })
}

/// A condition in a form that compares equal to any other way of writing
/// the same: nested `all`s (`any`s) flattened, one-element ones unwrapped,
/// double negations removed, operands sorted and without repeats.
fn canonical(cond: &Cond) -> Cond {
    match cond {
        Cond::Name(name) => Cond::Name(name.clone()),
        Cond::Not(inner) => match canonical(inner) {
            Cond::Not(inner) => *inner,
            inner => Cond::Not(Box::new(inner)),
        },
        Cond::All(conds) | Cond::Any(conds) => {
            let all = matches!(cond, Cond::All(_));
            let mut operands: Vec<Cond> = Vec::new();
            for operand in conds.iter().map(canonical) {
                match operand {
                    Cond::All(inner) if all => operands.extend(inner),
                    Cond::Any(inner) if !all => operands.extend(inner),
                    operand => operands.push(operand),
                }
            }
            operands.sort_by_key(Cond::to_string);
            operands.dedup();
            if operands.len() == 1 {
                operands.remove(0)
            } else if all {
                Cond::All(operands)
            } else {
                Cond::Any(operands)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::frontend::doc::DocRules;

    fn schema(text: &str) -> Schema {
        let read = |_: &Path| Ok(text.as_bytes().to_vec());
        crate::model::load::load_with(Path::new("test.json"), DocRules::Lenient, &read)
            .unwrap_or_else(|e| panic!("{e}\n{text}"))
            .schema
    }

    fn lines(old: &str, new: &str) -> Vec<String> {
        compare(&schema(old), &schema(new))
            .changes()
            .iter()
            .map(Change::to_string)
            .collect()
    }

    #[test]
    fn identical_schemas_have_no_changes() {
        let text = "{ 'enum': 'Mode', 'data': [ 'a' ] }
                    { 'command': 'c', 'data': { 'e': 'Mode' }, 'returns': [ 'Spec' ] }
                    { 'struct': 'Spec', 'data': { '*x': 'int' } }";
        let changes = compare(&schema(text), &schema(text));
        assert!(changes.is_empty());
        assert_eq!(changes.render_text(), "no changes\n");
        assert_eq!(changes.to_json(), json!({ "changes": [], "breaking": 0 }));
    }

    #[test]
    fn direction_decides_whether_a_removed_value_breaks() {
        let common = "{ 'struct': 'Out', 'data': { 'o': 'OutE', 'b': 'BothE' } }
                      { 'command': 'c', 'data': { 'i': 'InE', 'b': 'BothE' },
                        'returns': 'Out' }";
        let old = format!(
            "{common}
             {{ 'enum': 'InE', 'data': [ 'a', 'b' ] }}
             {{ 'enum': 'OutE', 'data': [ 'a', 'b' ] }}
             {{ 'enum': 'BothE', 'data': [ 'a', 'b' ] }}
             {{ 'enum': 'Unused', 'data': [ 'a', 'b' ] }}"
        );
        let new = format!(
            "{common}
             {{ 'enum': 'InE', 'data': [ 'a', 'c' ] }}
             {{ 'enum': 'OutE', 'data': [ 'a', 'c' ] }}
             {{ 'enum': 'BothE', 'data': [ 'a' ] }}
             {{ 'enum': 'Unused', 'data': [ 'a' ] }}"
        );
        assert_eq!(
            lines(&old, &new),
            [
                "- enum 'BothE': value 'b': removed [breaking: clients that send it are rejected]",
                "- enum 'InE': value 'b': removed [breaking: clients that send it are rejected]",
                "+ enum 'InE': value 'c': added",
                "- enum 'OutE': value 'b': removed",
                "+ enum 'OutE': value 'c': added",
                "- enum 'Unused': value 'b': removed",
            ]
        );
    }

    #[test]
    fn members_break_by_direction() {
        let old = "{ 'struct': 'In', 'data': { '*gone': 'int', 'req': 'int', 'opt': 'int',
                                              'keep': 'int' } }
                   { 'struct': 'Out', 'data': { '*gone': 'int', 'gone-req': 'int',
                                                'req': 'int', '*opt': 'int' } }
                   { 'command': 'c', 'data': 'In', 'returns': 'Out' }";
        let new = "{ 'struct': 'In', 'data': { '*req': 'int', 'opt': 'int', 'keep': 'int',
                                              'new-req': 'int', '*new-opt': 'int' } }
                   { 'struct': 'Out', 'data': { '*req': 'int', 'opt': 'int',
                                                'new-req': 'int' } }
                   { 'command': 'c', 'data': 'In', 'returns': 'Out' }";
        assert_eq!(
            lines(old, new),
            [
                "- struct 'In': member 'gone': removed [breaking: clients that pass it are rejected]",
                "+ struct 'In': member 'new-opt': added",
                "+ struct 'In': member 'new-req': added [breaking: clients that omit it are rejected]",
                "~ struct 'In': member 'req': became optional",
                "- struct 'Out': member 'gone': removed",
                "- struct 'Out': member 'gone-req': removed [breaking: clients that read it find it missing]",
                "+ struct 'Out': member 'new-req': added",
                "~ struct 'Out': member 'opt': became required",
                "~ struct 'Out': member 'req': became optional [breaking: clients that read it may find it missing]",
            ]
        );
        let made_required = lines(
            "{ 'command': 'c', 'data': { '*a': 'int' } }",
            "{ 'command': 'c', 'data': { 'a': 'int' } }",
        );
        assert_eq!(
            made_required,
            ["~ command 'c': argument 'a': became required [breaking: clients that omit it are rejected]"]
        );
    }

    #[test]
    fn moving_a_member_into_a_base_is_no_change() {
        let old = "{ 'struct': 'Spec', 'data': { 'a': 'int', 'b': 'str' } }
                   { 'command': 'c', 'returns': 'Spec' }";
        let new = "{ 'struct': 'Base', 'data': { 'a': 'int' } }
                   { 'struct': 'Spec', 'base': 'Base', 'data': { 'b': 'str' } }
                   { 'command': 'c', 'returns': 'Spec' }";
        assert_eq!(lines(old, new), ["+ struct 'Base': added"]);
    }

    #[test]
    fn member_types_are_compared_as_written() {
        let changes = lines(
            "{ 'command': 'c', 'data': { 'a': [ 'int' ], 'b': 'int' } }",
            "{ 'command': 'c', 'data': { 'a': 'int', 'b': [ 'int' ] } }",
        );
        assert_eq!(
            changes,
            [
                "~ command 'c': argument 'a': type '[int]' → 'int' [breaking: clients send values of the old type]",
                "~ command 'c': argument 'b': type 'int' → '[int]' [breaking: clients send values of the old type]",
            ]
        );
    }

    const UNION: &str = "{ 'enum': 'Kind', 'data': [ 'a', 'b', 'c' ] }
        { 'struct': 'Alpha', 'data': { 'x': 'int' } }
        { 'struct': 'Beta', 'data': { 'y': 'int' } }
        { 'union': 'Job', 'base': { 'kind': 'Kind' }, 'discriminator': 'kind',
          'data': { 'a': 'Alpha', 'b': 'Beta' } }";

    #[test]
    fn output_unions_lose_branches_without_breaking() {
        let old = format!("{UNION} {{ 'event': 'EV', 'data': 'Job', 'boxed': true }}");
        let new = old
            .replace(
                "'data': { 'a': 'Alpha', 'b': 'Beta' }",
                "'data': { 'a': 'Beta', 'c': 'Alpha' }",
            )
            .replace("[ 'a', 'b', 'c' ]", "[ 'a', 'c' ]");
        assert_eq!(
            lines(&old, &new),
            [
                "- enum 'Kind': value 'b': removed",
                "~ union 'Job': branch 'a': type 'Alpha' → 'Beta' [breaking: clients that read member 'x' find it missing]",
                "- union 'Job': branch 'b': removed",
                "~ union 'Job': branch 'c': type none → 'Alpha' (member 'x' added)",
            ]
        );
        // A branch that becomes empty loses its required members.
        let new = old.replace(
            "'data': { 'a': 'Alpha', 'b': 'Beta' }",
            "'data': { 'a': 'Alpha' }",
        );
        assert_eq!(
            lines(&old, &new),
            ["~ union 'Job': branch 'b': type 'Beta' → none [breaking: clients that read member 'y' find it missing]"]
        );
    }

    #[test]
    fn input_unions_lose_branches_with_breaking() {
        let old = format!("{UNION} {{ 'command': 'c', 'data': 'Job', 'boxed': true }}");
        let new = old.replace(
            "'data': { 'a': 'Alpha', 'b': 'Beta' }",
            "'data': { 'a': 'Alpha' }",
        );
        assert_eq!(
            lines(&old, &new),
            ["~ union 'Job': branch 'b': type 'Beta' → none [breaking: clients that pass member 'y' are rejected]"]
        );
        // A discriminator value gains a branch with a required member.
        let new = old.replace(
            "'data': { 'a': 'Alpha', 'b': 'Beta' }",
            "'data': { 'a': 'Alpha', 'b': 'Beta', 'c': 'Alpha' }",
        );
        assert_eq!(
            lines(&old, &new),
            ["~ union 'Job': branch 'c': type none → 'Alpha' [breaking: clients that omit member 'x' are rejected]"]
        );
    }

    #[test]
    fn new_discriminator_values_report_the_value_not_an_empty_branch() {
        let old = format!("{UNION} {{ 'command': 'c', 'returns': 'Job' }}");
        let new = old.replace("[ 'a', 'b', 'c' ]", "[ 'a', 'b', 'c', 'd' ]");
        assert_eq!(lines(&old, &new), ["+ enum 'Kind': value 'd': added"]);
    }

    #[test]
    fn a_new_discriminator_breaks() {
        let old = "{ 'enum': 'Kind', 'data': [ 'a' ] }
            { 'struct': 'Alpha', 'data': { 'x': 'int' } }
            { 'union': 'Job', 'base': { 'kind': 'Kind', 'type': 'Kind' },
              'discriminator': 'kind', 'data': { 'a': 'Alpha' } }
            { 'command': 'c', 'returns': 'Job' }";
        let new = old.replace("'discriminator': 'kind'", "'discriminator': 'type'");
        assert_eq!(
            lines(old, &new),
            ["~ union 'Job': discriminator: 'kind' → 'type' [breaking: clients use the old discriminator]"]
        );
    }

    #[test]
    fn alternates_break_when_clients_cannot_decode_or_send() {
        let old = "{ 'struct': 'Obj', 'data': { 'x': 'int' } }
                   { 'alternate': 'In', 'data': { 'n': 'int', 'o': 'Obj' } }
                   { 'alternate': 'Out', 'data': { 'n': 'int', 'o': 'Obj' } }
                   { 'command': 'c', 'data': { 'a': 'In' }, 'returns': [ 'Reply' ] }
                   { 'struct': 'Reply', 'data': { 'b': 'Out' } }";
        let new = old
            .replace(
                "'In', 'data': { 'n': 'int', 'o': 'Obj' }",
                "'In', 'data': { 'n': 'int', 'b': 'bool' }",
            )
            .replace(
                "'Out', 'data': { 'n': 'int', 'o': 'Obj' }",
                "'Out', 'data': { 'n': 'int', 'b': 'bool' }",
            );
        assert_eq!(
            lines(old, &new),
            [
                "+ alternate 'In': alternative 'b': added (the boolean alternative)",
                "- alternate 'In': alternative 'o': removed (the object alternative) [breaking: clients that send it are rejected]",
                "+ alternate 'Out': alternative 'b': added (the boolean alternative) [breaking: clients cannot decode values of the new alternative]",
                "- alternate 'Out': alternative 'o': removed (the object alternative)",
            ]
        );
    }

    #[test]
    fn types_no_command_or_event_uses_never_break() {
        let old = "{ 'struct': 'Spec', 'data': { 'a': 'int', 'b': 'int' } }
                   { 'enum': 'Mode', 'data': [ 'a' ] }";
        let new = "{ 'struct': 'Spec', 'data': { 'a': 'str', 'c': 'int' } }
                   { 'alternate': 'Mode', 'data': { 'a': 'int' } }";
        let changes = compare(&schema(old), &schema(new));
        assert_eq!(changes.changes().len(), 4, "{}", changes.render_text());
        assert_eq!(changes.breaking(), 0, "{}", changes.render_text());
    }

    #[test]
    fn a_used_definition_changing_kind_breaks() {
        let old = "{ 'struct': 'Spec', 'data': { 'a': 'int' } }
                   { 'command': 'c', 'data': { 's': 'Spec' } }";
        let new = "{ 'alternate': 'Spec', 'data': { 'a': 'int' } }
                   { 'command': 'c', 'data': { 's': 'Spec' } }";
        assert_eq!(
            lines(old, new),
            ["~ struct 'Spec': changed from struct to alternate [breaking: the alternate takes no object]"]
        );
    }

    #[test]
    fn command_flags_and_return_types() {
        let old = "{ 'struct': 'Reply', 'data': { 'a': 'int' } }
                   { 'command': 'oob', 'allow-oob': true }
                   { 'command': 'pre', 'allow-preconfig': true, 'coroutine': true }
                   { 'command': 'quiet', 'success-response': false }
                   { 'command': 'ret', 'returns': 'Reply' }
                   { 'command': 'ret-list', 'returns': [ 'Reply' ] }";
        let new = "{ 'struct': 'Reply', 'data': { 'a': 'int' } }
                   { 'command': 'oob' }
                   { 'command': 'pre', 'allow-oob': true }
                   { 'command': 'quiet' }
                   { 'command': 'ret' }
                   { 'command': 'ret-list', 'returns': 'Reply' }";
        assert_eq!(
            lines(old, new),
            [
                "~ command 'oob': flag 'allow-oob': true → false [breaking: clients that execute it out of band are rejected]",
                "~ command 'pre': flag 'allow-oob': false → true",
                "~ command 'pre': flag 'allow-preconfig': true → false [breaking: clients that run it before the machine is built are rejected]",
                "~ command 'pre': flag 'coroutine': true → false",
                "~ command 'quiet': flag 'success-response': false → true [breaking: clients do not expect the response that is now sent]",
                "~ command 'ret': returns: 'Reply' → none [breaking: clients that read member 'a' find it missing]",
                "~ command 'ret-list': returns: '[Reply]' → 'Reply' [breaking: clients expect values of the old type]",
            ]
        );
    }

    #[test]
    fn arguments_changing_type_are_compared_member_by_member() {
        let old = "{ 'struct': 'Args', 'data': { 'a': 'int', '*b': 'int' } }
                   { 'command': 'c', 'data': 'Args' }
                   { 'command': 'd', 'data': { 'a': 'int' } }";
        let new = "{ 'struct': 'Args', 'data': { 'a': 'int', '*b': 'int' } }
                   { 'command': 'c', 'data': { 'a': 'int', '*b': 'int', 'z': 'int' } }
                   { 'command': 'd', 'data': 'Args' }";
        assert_eq!(
            lines(old, new),
            [
                "~ command 'c': arguments: 'Args' → {...}",
                "+ command 'c': argument 'z': added [breaking: clients that omit it are rejected]",
                "~ command 'd': arguments: {...} → 'Args'",
                "+ command 'd': argument 'b': added",
            ]
        );
        let old = format!("{UNION} {{ 'command': 'c', 'data': 'Job', 'boxed': true }}");
        let new = format!("{UNION} {{ 'command': 'c', 'data': 'Alpha', 'boxed': true }}");
        assert_eq!(
            lines(&old, &new),
            [
                // A union's branches can't be compared member by member:
                // the arguments' line says it all.
                "~ command 'c': arguments: 'Job' → 'Alpha' [breaking: branch 'a': clients that pass member 'kind' are rejected]",
            ]
        );
    }

    #[test]
    fn event_data_is_output() {
        let old = "{ 'event': 'EV', 'data': { 'a': 'int', '*b': 'int', 'c': 'int' } }";
        let new = "{ 'event': 'EV', 'data': { '*a': 'int', 'd': 'int' } }";
        assert_eq!(
            lines(old, new),
            [
                "~ event 'EV': member 'a': became optional [breaking: clients that read it may find it missing]",
                "- event 'EV': member 'b': removed",
                "- event 'EV': member 'c': removed [breaking: clients that read it find it missing]",
                "+ event 'EV': member 'd': added",
            ]
        );
    }

    #[test]
    fn features_and_conditions_are_reported_without_breaking() {
        let old = "{ 'enum': 'Mode', 'data': [ 'a', { 'name': 'b', 'features': [ 'unstable' ] } ] }
                   { 'struct': 'Spec', 'data': { 'x': { 'type': 'int', 'if': 'CONFIG_X' } } }
                   { 'command': 'c', 'data': { 'e': 'Mode', 's': 'Spec' } }";
        let new = "{ 'enum': 'Mode', 'data': [ { 'name': 'a', 'features': [ 'deprecated' ] }, 'b' ],
                     'if': { 'all': [ 'CONFIG_A', { 'any': [ 'CONFIG_B', { 'not': 'CONFIG_C' } ] } ] } }
                   { 'struct': 'Spec', 'data': { 'x': { 'type': 'int', 'features': [ 'unstable' ] } } }
                   { 'command': 'c', 'data': { 'e': 'Mode', 's': 'Spec' }, 'features': [ 'deprecated' ] }";
        assert_eq!(
            lines(old, new),
            [
                "+ command 'c': feature 'deprecated': added",
                "~ enum 'Mode': condition none → 'CONFIG_A and (CONFIG_B or not CONFIG_C)'",
                "+ enum 'Mode': value 'a': feature 'deprecated': added",
                "- enum 'Mode': value 'b': feature 'unstable': removed",
                "~ struct 'Spec': member 'x': condition 'CONFIG_X' → none",
                "+ struct 'Spec': member 'x': feature 'unstable': added",
            ]
        );
    }

    #[test]
    fn changes_are_ordered_by_kind_then_name() {
        let old = "{ 'command': 'b-cmd' }";
        let new = "{ 'alternate': 'Alt', 'data': { 'n': 'int' } }
                   { 'union': 'Un', 'base': { 'k': 'Kind' }, 'discriminator': 'k', 'data': {} }
                   { 'struct': 'St', 'data': {} }
                   { 'enum': 'Kind', 'data': [ 'k' ] }
                   { 'event': 'EV' }
                   { 'command': 'c-cmd' }
                   { 'command': 'a-cmd' }";
        assert_eq!(
            lines(old, new),
            [
                "+ command 'a-cmd': added",
                "- command 'b-cmd': removed [breaking: clients that execute it get an error]",
                "+ command 'c-cmd': added",
                "+ event 'EV': added",
                "+ enum 'Kind': added",
                "+ struct 'St': added",
                "+ union 'Un': added",
                "+ alternate 'Alt': added",
            ]
        );
    }

    #[test]
    fn a_base_member_is_reported_once_on_the_base() {
        let old = "{ 'struct': 'Base', 'data': { 'a': 'int' } }
                   { 'struct': 'One', 'base': 'Base', 'data': { 'b': 'str' } }
                   { 'struct': 'Two', 'base': 'Base', 'data': { 'c': 'str' } }
                   { 'command': 'c', 'data': { 'one': 'One' }, 'returns': 'Two' }";
        let new = old.replace(
            "'data': { 'a': 'int' }",
            "'data': { 'a': 'int', 'n': 'int' }",
        );
        assert_eq!(
            lines(old, &new),
            ["+ struct 'Base': member 'n': added [breaking: clients that omit it are rejected]"]
        );
        // Only a struct built on it is on the wire: the base alone breaks
        // nothing.
        let output_only = old.replace("'data': { 'one': 'One' }, ", "");
        let new = output_only.replace(
            "'data': { 'a': 'int' }",
            "'data': { 'a': 'int', 'n': 'int' }",
        );
        assert_eq!(
            lines(&output_only, &new),
            ["+ struct 'Base': member 'n': added"]
        );
        // A member moved into the base: new to a struct that has the base.
        let moved = old
            .replace(
                "'data': { 'a': 'int' }",
                "'data': { 'a': 'int', 'b': 'str' }",
            )
            .replace(
                "'base': 'Base', 'data': { 'b': 'str' }",
                "'base': 'Base', 'data': {}",
            );
        assert_eq!(
            lines(old, &moved),
            ["+ struct 'Base': member 'b': added"],
            "Two, only returned, gains it"
        );
    }

    #[test]
    fn renamed_types_are_compared_on_the_wire() {
        let old = "{ 'struct': 'Foo', 'data': { 'x': 'int', '*y': 'str' } }
                   { 'enum': 'Kind', 'data': [ 'a', 'b' ] }
                   { 'command': 'c', 'data': { 'f': 'Foo', 'k': 'Kind', 'n': 'int' },
                     'returns': 'Foo' }";
        let new = "{ 'struct': 'Bar', 'data': { '*y': 'str', 'x': 'int64' } }
                   { 'enum': 'Sort', 'data': [ 'b', 'a' ] }
                   { 'command': 'c', 'data': { 'f': 'Bar', 'k': 'Sort', 'n': 'int64' },
                     'returns': 'Bar' }";
        assert_eq!(
            lines(old, new),
            [
                "~ command 'c': returns: 'Foo' → 'Bar' (the same on the wire)",
                "~ command 'c': argument 'f': type 'Foo' → 'Bar' (the same on the wire)",
                "~ command 'c': argument 'k': type 'Kind' → 'Sort' (the same on the wire)",
                "~ command 'c': argument 'n': type 'int' → 'int64' (the same on the wire)",
                "- enum 'Kind': removed",
                "+ enum 'Sort': added",
                "+ struct 'Bar': added",
                "- struct 'Foo': removed",
            ]
        );
        // What differs inside a renamed type decides.
        let new = new.replace("'*y': 'str'", "'y': 'str'");
        assert_eq!(
            lines(old, &new)[1],
            "~ command 'c': argument 'f': type 'Foo' → 'Bar' [breaking: clients that omit member 'y' are rejected]"
        );
    }

    #[test]
    fn wider_and_narrower_types_by_direction() {
        let old = "{ 'struct': 'Out', 'data': { 'w': 'int32', 'n': 'int64', 's': 'str' } }
                   { 'command': 'c', 'data': { 'w': 'int32', 'n': 'int64', 's': 'str',
                                               'e': 'Mode' },
                     'returns': 'Out' }
                   { 'enum': 'Mode', 'data': [ 'a' ] }
                   { 'alternate': 'StrOrNull', 'data': { 's': 'str', 'n': 'null' } }";
        let new = old
            .replace(
                "'w': 'int32', 'n': 'int64', 's': 'str' }",
                "'w': 'int64', 'n': 'uint8', 's': 'StrOrNull' }",
            )
            .replace(
                "'w': 'int32', 'n': 'int64', 's': 'str',",
                "'w': 'int64', 'n': 'uint8', 's': 'StrOrNull',",
            )
            .replace("'e': 'Mode'", "'e': 'str'");
        assert_eq!(
            lines(old, &new),
            [
                "~ command 'c': argument 'e': type 'Mode' → 'str' (any string now)",
                "~ command 'c': argument 'n': type 'int64' → 'uint8' [breaking: clients that send int64 values outside uint8 are rejected]",
                "~ command 'c': argument 's': type 'str' → 'StrOrNull' (an alternate that takes it and more)",
                "~ command 'c': argument 'w': type 'int32' → 'int64'",
                "~ struct 'Out': member 'n': type 'int64' → 'uint8'",
                "~ struct 'Out': member 's': type 'str' → 'StrOrNull' [breaking: clients cannot decode the alternate's other JSON types]",
                "~ struct 'Out': member 'w': type 'int32' → 'int64' [breaking: clients may receive int64 values outside int32]",
            ]
        );
    }

    #[test]
    fn no_return_type_is_an_empty_object() {
        let old = "{ 'struct': 'Empty', 'data': {} }
                   { 'struct': 'Info', 'data': { '*x': 'int' } }
                   { 'struct': 'Needed', 'data': { 'x': 'int' } }
                   { 'command': 'a', 'returns': 'Empty' }
                   { 'command': 'b' }
                   { 'command': 'c', 'returns': 'Info' }
                   { 'command': 'd', 'returns': 'Needed' }";
        let new = old
            .replace("'a', 'returns': 'Empty'", "'a'")
            .replace("'command': 'b'", "'command': 'b', 'returns': 'Needed'")
            .replace("'c', 'returns': 'Info'", "'c'")
            .replace("'d', 'returns': 'Needed'", "'d'");
        assert_eq!(
            lines(old, &new),
            [
                "~ command 'a': returns: 'Empty' → none (the same on the wire)",
                "~ command 'b': returns: none → 'Needed' (member 'x' added)",
                "~ command 'c': returns: 'Info' → none (member 'x' removed)",
                "~ command 'd': returns: 'Needed' → none [breaking: clients that read member 'x' find it missing]",
            ]
        );
    }

    #[test]
    fn a_type_no_longer_used_breaks_nothing() {
        let old = "{ 'struct': 'Args', 'data': { 'a': 'int' } }
                   { 'command': 'c', 'data': 'Args' }";
        let new = "{ 'struct': 'Args', 'data': { 'a': 'int', 'b': 'int' } }
                   { 'command': 'c', 'data': { 'a': 'int' } }";
        assert_eq!(
            lines(old, new),
            [
                "~ command 'c': arguments: 'Args' → {...} (the same on the wire)",
                "+ struct 'Args': member 'b': added",
            ]
        );
    }

    #[test]
    fn alternatives_are_paired_by_json_type() {
        let old = "{ 'alternate': 'Alt', 'data': { 'n': 'int', 'o': 'null' } }
                   { 'struct': 'Reply', 'data': { 'a': 'Alt' } }
                   { 'command': 'c', 'data': { 'a': 'Alt' }, 'returns': 'Reply' }";
        let renamed = old.replace(
            "{ 'n': 'int', 'o': 'null' }",
            "{ 'null': 'null', 'num': 'int' }",
        );
        assert_eq!(
            lines(old, &renamed),
            [
                "~ alternate 'Alt': alternative 'n': renamed 'n' → 'num' (the number alternative)",
                "~ alternate 'Alt': alternative 'o': renamed 'o' → 'null' (the null alternative)"
            ]
        );
        let widened = old.replace("'n': 'int'", "'n': 'number'");
        assert_eq!(
            lines(old, &widened),
            ["~ alternate 'Alt': alternative 'n': type 'int' → 'number' [breaking: clients expect values of the old type]"]
        );
    }

    #[test]
    fn conditions_are_compared_as_logic() {
        let old = "{ 'command': 'a', 'if': 'CONFIG_A' }
                   { 'command': 'b', 'if': { 'all': [ 'CONFIG_A', 'CONFIG_B' ] } }
                   { 'command': 'c', 'if': { 'not': { 'not': 'CONFIG_C' } } }
                   { 'command': 'd', 'features': [ 'deprecated' ] }";
        let new = "{ 'command': 'a', 'if': { 'all': [ 'CONFIG_A' ] } }
                   { 'command': 'b', 'if': { 'all': [ 'CONFIG_B', { 'all': [ 'CONFIG_A' ] } ] } }
                   { 'command': 'c', 'if': 'CONFIG_C' }
                   { 'command': 'd', 'features': [ { 'name': 'deprecated', 'if': 'CONFIG_D' } ] }";
        assert_eq!(
            lines(old, new),
            ["~ command 'd': feature 'deprecated': condition none → 'CONFIG_D'"]
        );
    }

    #[test]
    fn a_struct_and_a_union_compare_branch_by_branch() {
        let old = "{ 'enum': 'Kind', 'data': [ 'a', 'b' ] }
                   { 'struct': 'Alpha', 'data': { 'x': 'int' } }
                   { 'union': 'Job', 'base': { 'kind': 'Kind' }, 'discriminator': 'kind',
                     'data': { 'a': 'Alpha' } }
                   { 'command': 'c', 'returns': 'Job' }";
        let new = old.replace(
            "{ 'union': 'Job', 'base': { 'kind': 'Kind' }, 'discriminator': 'kind',
                     'data': { 'a': 'Alpha' } }",
            "{ 'struct': 'Job', 'data': { 'kind': 'Kind', '*x': 'int' } }",
        );
        assert_eq!(
            lines(old, &new),
            ["~ union 'Job': changed from union to struct [breaking: branch 'a': clients that read member 'x' may find it missing]"]
        );
        // A struct that became a union with its members in the base reads
        // the same.
        let strict = "{ 'enum': 'Kind', 'data': [ 'a', 'b' ] }
                      { 'struct': 'Job', 'data': { 'kind': 'Kind', 'x': 'int' } }
                      { 'command': 'c', 'returns': 'Job' }";
        let union = "{ 'enum': 'Kind', 'data': [ 'a', 'b' ] }
                     { 'struct': 'Extra', 'data': { 'y': 'int' } }
                     { 'union': 'Job', 'base': { 'kind': 'Kind', 'x': 'int' },
                       'discriminator': 'kind', 'data': { 'a': 'Extra' } }
                     { 'command': 'c', 'returns': 'Job' }";
        assert_eq!(
            lines(strict, union),
            [
                "+ struct 'Extra': added",
                "~ struct 'Job': changed from struct to union"
            ]
        );
    }

    #[test]
    fn any_takes_and_reads_everything() {
        let old = "{ 'struct': 'Rep', 'data': { 'r': 'any' } }
                   { 'command': 'c', 'data': { 'a': 'str', 'l': [ 'str' ] }, 'returns': 'Rep' }";
        let new = "{ 'struct': 'Rep', 'data': { 'r': 'bool' } }
                   { 'command': 'c', 'data': { 'a': 'any', 'l': 'any' }, 'returns': 'Rep' }";
        let changes = compare(&schema(old), &schema(new));
        assert_eq!(changes.changes().len(), 3, "{}", changes.render_text());
        assert_eq!(changes.breaking(), 0, "{}", changes.render_text());
    }

    #[test]
    fn qemu_takes_any_int_for_a_uint64_or_size() {
        let old = "{ 'command': 'c', 'data': { 'a': 'int', 'b': 'int', 'c': 'int32' } }";
        let new = "{ 'command': 'c', 'data': { 'a': 'uint64', 'b': 'size', 'c': 'uint32' } }";
        assert_eq!(
            lines(old, new),
            [
                "~ command 'c': argument 'a': type 'int' → 'uint64'",
                "~ command 'c': argument 'b': type 'int' → 'size'",
                "~ command 'c': argument 'c': type 'int32' → 'uint32' [breaking: clients that send int32 values outside uint32 are rejected]",
            ]
        );
    }

    #[test]
    fn a_kind_change_still_reports_what_else_changed() {
        let old = "{ 'enum': 'Kind', 'data': [ 'a' ] }
                   { 'struct': 'Job', 'data': { 'k': 'Kind', 'x': 'int' }, 'if': 'CONFIG_X' }
                   { 'command': 'c', 'returns': 'Job' }";
        let new = "{ 'enum': 'Kind', 'data': [ 'a' ] }
                   { 'struct': 'Extra', 'data': { 'y': 'int' } }
                   { 'union': 'Job', 'base': { 'k': 'Kind', '*x': 'int' }, 'discriminator': 'k',
                     'data': { 'a': 'Extra' }, 'features': [ 'fancy' ] }
                   { 'command': 'c', 'returns': 'Job' }";
        assert_eq!(
            lines(old, new),
            [
                "+ struct 'Extra': added",
                "~ struct 'Job': changed from struct to union [breaking: branch 'a': clients that read member 'x' may find it missing]",
                "~ struct 'Job': condition 'CONFIG_X' → none",
                "+ struct 'Job': feature 'fancy': added",
                "~ struct 'Job': member 'x': became optional [breaking: clients that read it may find it missing]",
            ]
        );
    }

    #[test]
    fn a_union_branch_that_is_a_union_is_expanded() {
        let old = "{ 'enum': 'Kind', 'data': [ 'a' ] }
                   { 'enum': 'Sub', 'data': [ 'p' ] }
                   { 'struct': 'Job', 'data': { 'k': 'Kind', 's': 'Sub', 'x': 'int' } }
                   { 'command': 'c', 'data': { 'j': 'Job' } }";
        let new = "{ 'enum': 'Kind', 'data': [ 'a' ] }
                   { 'enum': 'Sub', 'data': [ 'p' ] }
                   { 'struct': 'Alpha', 'data': { 'x': 'int' } }
                   { 'union': 'Inner', 'base': { 's': 'Sub' }, 'discriminator': 's',
                     'data': { 'p': 'Alpha' } }
                   { 'union': 'Job', 'base': { 'k': 'Kind' }, 'discriminator': 'k',
                     'data': { 'a': 'Inner' } }
                   { 'command': 'c', 'data': { 'j': 'Job' } }";
        let changes = compare(&schema(old), &schema(new));
        assert_eq!(changes.breaking(), 0, "{}", changes.render_text());
        assert!(changes
            .render_text()
            .contains("~ struct 'Job': changed from struct to union\n"));
    }

    #[test]
    fn a_union_that_became_a_struct_is_one_line() {
        let old = format!("{UNION} {{ 'event': 'EV', 'data': 'Job', 'boxed': true }}");
        let new = format!("{UNION} {{ 'event': 'EV', 'data': 'Alpha', 'boxed': true }}");
        assert_eq!(
            lines(&old, &new),
            ["~ event 'EV': data: 'Job' → 'Alpha' [breaking: branch 'a': clients that read member 'kind' find it missing]"]
        );
    }

    #[test]
    fn equivalent_conditions_are_no_change() {
        let old = "{ 'command': 'a', 'if': { 'not': { 'any': [ 'A', 'B' ] } } }
                   { 'command': 'b', 'if': { 'all': [ 'A', { 'any': [ 'A', 'B' ] } ] } }
                   { 'command': 'c', 'if': { 'any': [ { 'all': [ 'A', 'B' ] }, { 'all': [ 'A', 'C' ] } ] } }
                   { 'command': 'd', 'if': { 'any': [ 'A', { 'not': 'A' } ] } }
                   { 'command': 'e', 'if': 'A' }";
        let new = "{ 'command': 'a', 'if': { 'all': [ { 'not': 'A' }, { 'not': 'B' } ] } }
                   { 'command': 'b', 'if': 'A' }
                   { 'command': 'c', 'if': { 'all': [ 'A', { 'any': [ 'B', 'C' ] } ] } }
                   { 'command': 'd' }
                   { 'command': 'e', 'if': 'B' }";
        assert_eq!(lines(old, new), ["~ command 'e': condition 'A' → 'B'"]);
    }

    #[test]
    fn renamed_types_say_what_differs_inside() {
        let old = "{ 'enum': 'Kind', 'data': [ 'a', 'b' ] }
                   { 'struct': 'Opts', 'data': { 'x': 'int', 'k': 'Kind' } }
                   { 'command': 'c', 'data': { 'o': 'Opts' } }";
        let new = "{ 'enum': 'Kind', 'data': [ 'a', 'b', 'c' ] }
                   { 'struct': 'Opts2', 'data': { 'x': { 'type': 'int', 'features': [ 'deprecated' ] },
                                                'k': 'Kind' } }
                   { 'command': 'c', 'data': { 'o': 'Opts2' } }";
        assert_eq!(
            lines(old, new)[0],
            "~ command 'c': argument 'o': type 'Opts' → 'Opts2' (member 'x': feature 'deprecated' added)"
        );
        // A type of the same name inside that changed: not the same.
        let new = new.replace(
            "'x': { 'type': 'int', 'features': [ 'deprecated' ] }",
            "'x': 'int'",
        );
        assert_eq!(
            lines(old, &new)[0],
            "~ command 'c': argument 'o': type 'Opts' → 'Opts2' (member 'k': value 'c' added)"
        );
    }

    #[test]
    fn removing_what_is_unstable_breaks_nothing() {
        let old = "{ 'command': 'x-debug' }
                   { 'command': 'query-y', 'features': [ 'unstable' ] }
                   { 'command': 'c', 'data': { '*x-knob': 'int', 'keep': 'int' } }";
        let new = "{ 'command': 'c', 'data': { 'keep': 'int' } }";
        assert_eq!(
            lines(old, new),
            [
                "- command 'c': argument 'x-knob': removed (it was unstable)",
                "- command 'query-y': removed (it was unstable)",
                "- command 'x-debug': removed (it was unstable)",
            ]
        );
    }

    /// Renamed types nested ever deeper are compared without recursion: no
    /// schema exhausts the stack (the test thread has 2 MiB), and a
    /// difference 8000 types down is found, its path shortened.
    #[test]
    fn long_chains_of_renamed_types_do_not_overflow() {
        let chain = |prefix: &str, n: usize, last: &str| {
            let mut text = String::new();
            for i in 0..n {
                text += &format!(
                    "{{ 'struct': '{prefix}{i}', 'data': {{ '*n': '{prefix}{}' }} }}\n",
                    i + 1
                );
            }
            text += &format!("{{ 'struct': '{prefix}{n}', 'data': {{ 'x': '{last}' }} }}\n");
            text += &format!("{{ 'command': 'c', 'data': {{ 'a': '{prefix}0' }} }}\n");
            text
        };
        let old = schema(&chain("Old", 8000, "int"));
        let same = compare(&old, &schema(&chain("New", 8000, "int"))).render_text();
        assert!(
            same.starts_with(
                "~ command 'c': argument 'a': type 'Old0' → 'New0' (the same on the wire)\n"
            ),
            "{}",
            &same[..same.len().min(500)]
        );
        let other = compare(&old, &schema(&chain("New", 8000, "str"))).render_text();
        assert!(
            other.starts_with(
                "~ command 'c': argument 'a': type 'Old0' → 'New0' [breaking: member 'n': member 'n': \
                 member 'n': …: member 'n': member 'x': clients send values of the old type]\n"
            ),
            "{}",
            &other[..other.len().min(500)]
        );
    }

    /// Renamed types that reach each other, through types of the same
    /// name too: every place is judged on its own, whatever the names
    /// (and so the order in which the types are compared).
    #[test]
    fn renamed_types_reaching_each_other_are_judged_whatever_the_names() {
        let old = "{ 'struct': 'Ra', 'data': { 's': 'Sa' } }
                   { 'struct': 'Sa', 'data': { 'p': 'Pa' } }
                   { 'struct': 'Pa', 'data': { 'm': 'Ma', 'x': 'int' } }
                   { 'struct': 'Ma', 'data': { '*p': 'Pa', '*r': 'Ra' } }
                   { 'struct': 'HOLDER', 'data': { 'r': 'Ra' } }
                   { 'command': 'cmd-h', 'data': { 'h': 'HOLDER' } }
                   { 'command': 'cmd-m', 'data': { 'm': 'Ma' } }";
        let new = "{ 'struct': 'Rb', 'data': { 's': 'Sa' } }
                   { 'struct': 'Sa', 'data': { 'p': 'Pb' } }
                   { 'struct': 'Pb', 'data': { 'm': 'Mb' } }
                   { 'struct': 'Mb', 'data': { '*p': 'Pb', '*r': 'Rb' } }
                   { 'struct': 'HOLDER', 'data': { 'r': 'Rb' } }
                   { 'command': 'cmd-h', 'data': { 'h': 'HOLDER' } }
                   { 'command': 'cmd-m', 'data': { 'm': 'Mb' } }";
        for holder in ["Aa", "Zz"] {
            let changes = lines(
                &old.replace("HOLDER", holder),
                &new.replace("HOLDER", holder),
            );
            let of = |prefix: &str| changes.iter().find(|l| l.starts_with(prefix)).cloned();
            assert_eq!(
                of("~ command 'cmd-m'").as_deref(),
                Some("~ command 'cmd-m': argument 'm': type 'Ma' → 'Mb' [breaking: member 'p': clients that pass member 'x' are rejected]"),
                "{holder}: {changes:#?}"
            );
            assert_eq!(
                of("~ struct 'Sa'").as_deref(),
                Some("~ struct 'Sa': member 'p': type 'Pa' → 'Pb' [breaking: clients that pass member 'x' are rejected]"),
                "{holder}: {changes:#?}"
            );
            // The holder's member is of a renamed type whose break is
            // reported where it is (on Sa): not breaking here.
            assert!(
                changes.contains(&format!(
                    "~ struct '{holder}': member 'r': type 'Ra' → 'Rb'"
                )),
                "{holder}: {changes:#?}"
            );
        }
    }

    #[test]
    fn text_and_json_forms() {
        let changes = compare(
            &schema("{ 'command': 'c', 'data': { '*a': 'int' } } { 'command': 'd' }"),
            &schema("{ 'command': 'c', 'data': { 'a': 'int' } } { 'command': 'e' }"),
        );
        assert_eq!(
            changes.render_text(),
            "~ command 'c': argument 'a': became required [breaking: clients that omit it are rejected]\n\
             - command 'd': removed [breaking: clients that execute it get an error]\n\
             + command 'e': added\n\
             3 changes, 2 breaking\n"
        );
        assert_eq!(
            changes.to_json()["changes"][0],
            json!({
                "change": "changed",
                "definition": "command",
                "name": "c",
                "part": { "kind": "argument", "name": "a" },
                "feature": null,
                "detail": "became required",
                "old": "optional",
                "new": "required",
                "breaking": true,
                "reason": "clients that omit it are rejected",
            })
        );
        assert_eq!(changes.to_json()["breaking"], 2);
        let one = compare(&schema("{ 'command': 'd' }"), &schema(""));
        assert!(one.render_text().ends_with("\n1 change, 1 breaking\n"));
    }
}
