//! Comparing two checked schemas: what changed between two versions of an
//! API, and which changes break a client written against the old one.
//!
//! [`compare`] matches the commands, events and named types (enums,
//! structs, unions, alternates) of two schemas by name. Builtins, arrays
//! and implicit objects are not compared on their own: a command's inline
//! arguments are compared as the command's arguments, an event's inline
//! data as the event's members, a union's inline base as the union's
//! members. Members are compared flattened (base members included), so
//! moving a member into a base is not a change. Types are compared by
//! name as written (`int`, `VolumeInfo`, `[Tag]` for an array); a named
//! type is compared once, as itself, not again wherever it is used.
//!
//! # What breaks a client
//!
//! A type's direction comes from its use in the *old* schema: what a
//! command's arguments reach (through members, bases, union branches,
//! alternatives and array elements) is *input*, what a command's return
//! type or an event's data reach is *output*; a type can be both. A type
//! neither reaches is used by no command or event: its changes are
//! reported, never as breaking. A change is breaking when it breaks in
//! either of the type's directions.
//!
//! Breaking:
//! - a command or event removed;
//! - a definition whose kind changed (struct → union, …);
//! - an input member (a command argument included) removed, added as
//!   required, or made required;
//! - an output member that was required removed or made optional;
//! - any member's, alternative's or union branch's type changed, and a
//!   command's return type changed (a union branch that gains a type, or
//!   loses it for an implicit empty one, is judged as the additions or
//!   removals of its type's members);
//! - an input enum value, union branch or alternative removed;
//! - an alternative added to an output alternate (clients cannot decode
//!   the new JSON type; unions and enums keep what they don't know);
//! - a union's discriminator changed;
//! - `allow-oob` or `allow-preconfig` dropped; `success-response`
//!   changed either way;
//! - a command's or event's arguments changed from or to a union type
//!   (branches cannot be compared member by member; other argument type
//!   changes are compared member by member).
//!
//! Not breaking (reported): additions of commands, events, types,
//! optional input members, output members, enum values and union
//! branches; removals of named types (where they were used, that use
//! changed and is reported), of output enum values, output union
//! branches and optional output members; `deprecated`, `unstable` and
//! any other feature added or removed; `boxed`, `coroutine` and `gen`
//! changed, and `allow-oob`/`allow-preconfig` added; conditions (`if`)
//! changed, which only say in which builds something exists. Enum
//! `prefix` changes (C only) and reordering are ignored.
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
        use_of: directions(old),
        changes: Vec::new(),
    };
    let old_defs = compared_definitions(old);
    let new_defs = compared_definitions(new);
    for (name, &(old_kind, old_id)) in &old_defs {
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
                cmp.push(Subject::new(old_kind, name), ChangeKind::Removed, reason);
            }
        }
    }
    for (name, &(new_kind, _)) in &new_defs {
        if !old_defs.contains_key(name) {
            cmp.push(Subject::new(new_kind, name), ChangeKind::Added, None);
        }
    }
    let mut changes = cmp.changes;
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

/// In which directions a type travels.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Use {
    /// Clients send it (command arguments).
    input: bool,
    /// Clients receive it (command returns, event data).
    output: bool,
}

impl Use {
    const INPUT: Use = Use {
        input: true,
        output: false,
    };
    const OUTPUT: Use = Use {
        input: false,
        output: true,
    };

    fn any(self) -> bool {
        self.input || self.output
    }

    fn contains(self, other: Use) -> bool {
        (self.input || !other.input) && (self.output || !other.output)
    }

    fn union(self, other: Use) -> Use {
        Use {
            input: self.input || other.input,
            output: self.output || other.output,
        }
    }
}

/// Each entity's direction, by walking from commands and events through
/// members, bases, branches, alternatives and array elements.
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
                stack.extend(object.base.map(|b| (b, dir)));
                stack.extend(object.local_members.iter().map(|m| (m.ty, dir)));
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

/// A condition as text: `CONFIG_A and (CONFIG_B or not CONFIG_C)`.
fn cond_text(cond: &Cond) -> String {
    fn atom(cond: &Cond) -> String {
        match cond {
            Cond::Name(_) | Cond::Not(_) => cond_text(cond),
            _ => format!("({})", cond_text(cond)),
        }
    }
    match cond {
        Cond::Name(name) => name.clone(),
        Cond::Not(inner) => format!("not {}", atom(inner)),
        Cond::All(conds) => conds.iter().map(atom).collect::<Vec<_>>().join(" and "),
        Cond::Any(conds) => conds.iter().map(atom).collect::<Vec<_>>().join(" or "),
    }
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
    use_of: Vec<Use>,
    changes: Vec<Change>,
}

impl<'s> Comparison<'s> {
    fn use_of(&self, id: EntityId) -> Use {
        self.use_of.get(id.index()).copied().unwrap_or_default()
    }

    /// Records an addition or removal.
    fn push(&mut self, subject: Subject<'_>, kind: ChangeKind, reason: Option<&str>) {
        self.record(subject, kind, kind.as_str().to_string(), None, None, reason);
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
        name: &str,
        (old_kind, old_id): (DefinitionKind, EntityId),
        (new_kind, new_id): (DefinitionKind, EntityId),
    ) {
        let subject = Subject::new(old_kind, name);
        if old_kind != new_kind {
            let used = matches!(old_kind, DefinitionKind::Command | DefinitionKind::Event)
                || self.use_of(old_id).any();
            let reason = format!("clients handle it as {}", article(old_kind.as_str()));
            self.changed(
                subject,
                format!(
                    "changed from {} to {}",
                    old_kind.as_str(),
                    new_kind.as_str()
                ),
                (
                    Some(old_kind.as_str().to_string()),
                    Some(new_kind.as_str().to_string()),
                ),
                used.then_some(reason.as_str()),
            );
            return;
        }
        let use_ = self.use_of(old_id);
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
                    self.old.members(old_id),
                    self.new.members(new_id),
                    use_,
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
                    self.variants(&subject, Part::Branch, &old.variants, &new.variants, use_);
                }
            }
            (EntityKind::Alternate(old), EntityKind::Alternate(new)) => {
                self.variants(
                    &subject,
                    Part::Alternative,
                    &old.variants,
                    &new.variants,
                    use_,
                );
            }
            _ => {}
        }
        let (old, new) = (self.old.entity(old_id), self.new.entity(new_id));
        self.features(&subject, &old.features, &new.features);
        self.cond(&subject, old.cond.as_ref(), new.cond.as_ref());
    }

    fn command(&mut self, subject: &Subject<'_>, old: &Command, new: &Command) {
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
            self.changed(
                subject.part(Part::Returns),
                arrow(old_ret.as_deref(), new_ret.as_deref()),
                (old_ret, new_ret),
                Some("clients decode the reply as the old type"),
            );
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
    /// members are compared as well.
    fn arguments(
        &mut self,
        subject: &Subject<'_>,
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
            self.changed(
                subject.part(Part::Arguments),
                arrow(old_written.as_deref(), new_written.as_deref()),
                (old_written, new_written),
                union.then_some("clients build them as the old type"),
            );
        }
        let part = if subject.definition == DefinitionKind::Command {
            Part::Argument
        } else {
            Part::Member
        };
        let old_members = old.map(|id| self.old.members(id)).unwrap_or_default();
        let new_members = new.map(|id| self.new.members(id)).unwrap_or_default();
        self.members(subject, part, old_members, new_members, dir);
    }

    fn members(
        &mut self,
        subject: &Subject<'_>,
        part: fn(String) -> Part,
        old: Vec<&'s Member>,
        new: Vec<&'s Member>,
        dir: Use,
    ) {
        let new_by_name: HashMap<&str, &Member> =
            new.iter().map(|m| (m.name.as_str(), *m)).collect();
        let old_names: HashSet<&str> = old.iter().map(|m| m.name.as_str()).collect();
        for o in old {
            let at = subject.part(part(o.name.clone()));
            let Some(n) = new_by_name.get(o.name.as_str()) else {
                let reason = if dir.input {
                    Some("clients that pass it are rejected")
                } else if dir.output && !o.optional {
                    Some("clients that read it find it missing")
                } else {
                    None
                };
                self.push(at, ChangeKind::Removed, reason);
                continue;
            };
            let (old_ty, new_ty) = (type_name(self.old, o.ty), type_name(self.new, n.ty));
            if old_ty != new_ty {
                let reason = if dir.input {
                    Some("clients send values of the old type")
                } else if dir.output {
                    Some("clients expect values of the old type")
                } else {
                    None
                };
                self.changed(
                    at.clone(),
                    format!("type {}", arrow(Some(&old_ty), Some(&new_ty))),
                    (Some(old_ty), Some(new_ty)),
                    reason,
                );
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
                self.push(
                    subject.part(part(n.name.clone())),
                    ChangeKind::Added,
                    reason,
                );
            }
        }
    }

    fn values(
        &mut self,
        subject: &Subject<'_>,
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
                    self.push(at, ChangeKind::Removed, reason);
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

    /// Union branches or alternatives. A union's implicit empty branches
    /// (discriminator values without a branch) come and go with the
    /// values, which are reported on the enum; they count only where a
    /// branch gains or loses a type.
    fn variants(
        &mut self,
        subject: &Subject<'_>,
        part: fn(String) -> Part,
        old: &'s [Variant],
        new: &'s [Variant],
        dir: Use,
    ) {
        let alternate = subject.definition == DefinitionKind::Alternate;
        let new_by_name: HashMap<&str, &Variant> =
            new.iter().map(|v| (v.name.as_str(), v)).collect();
        let old_names: HashSet<&str> = old.iter().map(|v| v.name.as_str()).collect();
        for o in old {
            let at = subject.part(part(o.name.clone()));
            let Some(n) = new_by_name.get(o.name.as_str()) else {
                if !o.implicit {
                    let reason = dir.input.then_some("clients that send it are rejected");
                    self.push(at, ChangeKind::Removed, reason);
                }
                continue;
            };
            let written =
                |schema: &Schema, v: &Variant| (!v.implicit).then(|| type_name(schema, v.ty));
            let (old_ty, new_ty) = (written(self.old, o), written(self.new, n));
            if old_ty != new_ty {
                let reason = self.branch_type_reason(o, n, dir);
                self.changed(
                    at.clone(),
                    format!("type {}", arrow(old_ty.as_deref(), new_ty.as_deref())),
                    (old_ty, new_ty),
                    reason,
                );
            }
            if !o.implicit && !n.implicit {
                self.cond(&at, o.cond.as_ref(), n.cond.as_ref());
            }
        }
        for n in new {
            if !n.implicit && !old_names.contains(n.name.as_str()) {
                let reason = (alternate && dir.output)
                    .then_some("clients cannot decode values of the new alternative");
                self.push(
                    subject.part(part(n.name.clone())),
                    ChangeKind::Added,
                    reason,
                );
            }
        }
    }

    /// Why a branch's new type breaks clients. A branch that was empty
    /// gains the members of its new type, one that becomes empty loses
    /// those of its old type: judged as those members' additions or
    /// removals.
    fn branch_type_reason(&self, old: &Variant, new: &Variant, dir: Use) -> Option<&'static str> {
        if old.implicit {
            let required = self.new.members(new.ty).iter().any(|m| !m.optional);
            (dir.input && required).then_some("clients that omit its new members are rejected")
        } else if new.implicit {
            let members = self.old.members(old.ty);
            if dir.input && !members.is_empty() {
                Some("clients that pass its members are rejected")
            } else if dir.output && members.iter().any(|m| !m.optional) {
                Some("clients that read its members find them missing")
            } else {
                None
            }
        } else if dir.input {
            Some("clients send values of the old type")
        } else if dir.output {
            Some("clients expect values of the old type")
        } else {
            None
        }
    }

    /// Features added and removed: reported, never breaking.
    fn features(&mut self, subject: &Subject<'_>, old: &[Feature], new: &[Feature]) {
        for o in old {
            if !new.iter().any(|n| n.name == o.name) {
                self.push(subject.feature(&o.name), ChangeKind::Removed, None);
            }
        }
        for n in new {
            if !old.iter().any(|o| o.name == n.name) {
                self.push(subject.feature(&n.name), ChangeKind::Added, None);
            }
        }
    }

    /// A changed condition: reported, never breaking.
    fn cond(&mut self, subject: &Subject<'_>, old: Option<&Cond>, new: Option<&Cond>) {
        if old != new {
            let (old, new) = (old.map(cond_text), new.map(cond_text));
            self.changed(
                subject.clone(),
                format!("condition {}", arrow(old.as_deref(), new.as_deref())),
                (old, new),
                None,
            );
        }
    }
}

/// `a struct`, `an enum`.
fn article(word: &str) -> String {
    if word.starts_with(['a', 'e', 'i', 'o', 'u']) {
        format!("an {word}")
    } else {
        format!("a {word}")
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::DocRules;

    fn schema(text: &str) -> Schema {
        let read = |_: &Path| Ok(text.as_bytes().to_vec());
        crate::load_with(Path::new("test.json"), DocRules::Lenient, &read)
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
                "~ union 'Job': branch 'a': type 'Alpha' → 'Beta' [breaking: clients expect values of the old type]",
                "- union 'Job': branch 'b': removed",
                "~ union 'Job': branch 'c': type none → 'Alpha'",
            ]
        );
        // A branch that becomes empty loses its required members.
        let new = old.replace(
            "'data': { 'a': 'Alpha', 'b': 'Beta' }",
            "'data': { 'a': 'Alpha' }",
        );
        assert_eq!(
            lines(&old, &new),
            ["~ union 'Job': branch 'b': type 'Beta' → none [breaking: clients that read its members find them missing]"]
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
            ["~ union 'Job': branch 'b': type 'Beta' → none [breaking: clients that pass its members are rejected]"]
        );
        // A discriminator value gains a branch with a required member.
        let new = old.replace(
            "'data': { 'a': 'Alpha', 'b': 'Beta' }",
            "'data': { 'a': 'Alpha', 'b': 'Beta', 'c': 'Alpha' }",
        );
        assert_eq!(
            lines(&old, &new),
            ["~ union 'Job': branch 'c': type none → 'Alpha' [breaking: clients that omit its new members are rejected]"]
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
                "+ alternate 'In': alternative 'b': added",
                "- alternate 'In': alternative 'o': removed [breaking: clients that send it are rejected]",
                "+ alternate 'Out': alternative 'b': added [breaking: clients cannot decode values of the new alternative]",
                "- alternate 'Out': alternative 'o': removed",
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
            ["~ struct 'Spec': changed from struct to alternate [breaking: clients handle it as a struct]"]
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
                "~ command 'ret': returns: 'Reply' → none [breaking: clients decode the reply as the old type]",
                "~ command 'ret-list': returns: '[Reply]' → 'Reply' [breaking: clients decode the reply as the old type]",
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
                "~ command 'c': arguments: 'Job' → 'Alpha' [breaking: clients build them as the old type]",
                "- command 'c': argument 'kind': removed [breaking: clients that pass it are rejected]",
                "+ command 'c': argument 'x': added [breaking: clients that omit it are rejected]",
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
