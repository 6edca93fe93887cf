//! Builds the model from checked definitions, as QEMU's `schema.py` does:
//! the builtins, the implicit types (arrays, argument and base objects)
//! and the one namespace of names. References between definitions are
//! left pending: the rules of `check.rs` resolve them.

use indexmap::IndexMap;

use crate::frontend::diagnostic::{Context, Diagnostic};
use crate::frontend::doc::Doc;
use crate::frontend::expr::{BranchDef, Data, Def, DefKind, MemberDef, Name, TypeRef};
use crate::frontend::source::Span;
use crate::model::{
    AlternateType, ArrayType, Builtin, Command, Cond, Entity, EntityId, EntityKind, EnumType,
    EnumValue, Event, Feature, ObjectType, Pragma, SchemaItem,
};

/// One definition (or free-form doc, or include) in source order.
pub(crate) enum DefItem {
    Def(Box<Def>),
    Include(SchemaItem),
    Doc(Doc),
}

/// References an entity still has to resolve.
pub(crate) enum Pending {
    Array {
        element: Name,
    },
    Object {
        base: Option<Name>,
        members: Vec<MemberDef>,
        union: Option<(Name, Vec<BranchDef>)>,
    },
    Alternate {
        branches: Vec<BranchDef>,
    },
    Command {
        arg: Option<Name>,
        returns: Option<Name>,
        command: Command,
    },
    Event {
        arg: Option<Name>,
        boxed: bool,
    },
}

/// The model as built: every entity in order, with the references each
/// has still to resolve.
pub(crate) struct Built {
    /// Every entity by name, in order: an [`EntityId`] is an index.
    pub(crate) entities: IndexMap<String, Entity>,
    /// Each entity's kind as QEMU's messages name it (`struct`, `array`).
    pub(crate) metas: Vec<&'static str>,
    pub(crate) contexts: Vec<Option<Context>>,
    pub(crate) pending: Vec<Option<Pending>>,
    /// Distinct feature names in order of first use, `deprecated` and
    /// `unstable` first.
    pub(crate) features: Vec<(String, Option<Span>)>,
    pub(crate) items: Vec<SchemaItem>,
    pub(crate) pragma: Pragma,
    /// The empty object, the type of what failed to resolve.
    pub(crate) empty: EntityId,
}

struct Builder {
    entities: IndexMap<String, Entity>,
    metas: Vec<&'static str>,
    contexts: Vec<Option<Context>>,
    pending: Vec<Option<Pending>>,
    features: Vec<(String, Option<Span>)>,
    items: Vec<SchemaItem>,
    pragma: Pragma,
    errors: Vec<Diagnostic>,
    empty: EntityId,
}

/// QEMU's `describe()` of a type, command or event.
pub(crate) fn describe(name: &str, meta: &str) -> String {
    match meta {
        "array" => format!(
            "array type ['{}']",
            name.strip_suffix("List").unwrap_or(name)
        ),
        "command" | "event" => format!("{meta} '{name}'"),
        meta => format!("{meta} type '{name}'"),
    }
}

/// Builds the model. Returns every error found.
pub(crate) fn build(defs: Vec<DefItem>, pragma: Pragma) -> Result<Built, Vec<Diagnostic>> {
    let mut b = Builder {
        entities: IndexMap::new(),
        metas: Vec::new(),
        contexts: Vec::new(),
        pending: Vec::new(),
        features: vec![],
        items: Vec::new(),
        pragma,
        errors: Vec::new(),
        empty: EntityId(0),
    };
    b.predefine();
    for item in defs {
        match item {
            DefItem::Def(def) => b.define(*def),
            DefItem::Include(include) => b.items.push(include),
            DefItem::Doc(doc) => b.items.push(SchemaItem::Doc(doc)),
        }
    }
    if !b.errors.is_empty() {
        return Err(b.errors);
    }
    Ok(Built {
        entities: b.entities,
        metas: b.metas,
        contexts: b.contexts,
        pending: b.pending,
        features: b.features,
        items: b.items,
        pragma: b.pragma,
        empty: b.empty,
    })
}

impl Builder {
    fn add(
        &mut self,
        entity: Entity,
        meta: &'static str,
        context: Option<Context>,
        pending: Option<Pending>,
    ) -> EntityId {
        if let Some(previous) = self.lookup(&entity.name) {
            let prev = &self.entities[previous.index()];
            let span = entity.span.expect("only predefined entities lack a span");
            let diag = match prev.span {
                Some(prev_span) => {
                    Diagnostic::error(span, format!("'{}' is already defined", entity.name))
                        .with_note(prev_span, "previous definition")
                }
                None => Diagnostic::error(
                    span,
                    format!(
                        "{} is already defined",
                        describe(&prev.name, self.metas[previous.index()])
                    ),
                ),
            };
            self.errors.push(diag.in_definition(context.as_ref()));
            // The schema is rejected once every definition is read: what
            // follows of this definition refers to the first.
            return previous;
        }
        let id = EntityId(self.entities.len() as u32);
        self.entities.insert(entity.name.clone(), entity);
        self.metas.push(meta);
        self.contexts.push(context);

        self.pending.push(pending);
        id
    }

    fn predefine(&mut self) {
        for builtin in Builtin::ALL {
            let entity = plain_entity(
                builtin.name().to_string(),
                None,
                EntityKind::Builtin(builtin),
            );
            self.add(entity, "built-in", None, None);
            let element = self.lookup(builtin.name()).expect("just defined");
            let array = plain_entity(
                format!("{}List", builtin.name()),
                None,
                EntityKind::Array(ArrayType { element }),
            );
            self.add(array, "array", None, None);
        }
        let empty = plain_entity(
            "q_empty".to_string(),
            None,
            EntityKind::Object(ObjectType {
                base: None,
                local_members: Vec::new(),
                branches: None,
                implicit_for: None,
            }),
        );
        self.empty = self.add(empty, "struct", None, None);
        let values = [
            "none", "qnull", "qnum", "qstring", "qdict", "qlist", "qbool",
        ]
        .iter()
        .map(|name| EnumValue {
            name: name.to_string(),
            span: None,
            cond: None,
            features: Vec::new(),
        })
        .collect();
        let qtype = plain_entity(
            "QType".to_string(),
            None,
            EntityKind::Enum(EnumType {
                values,
                prefix: None,
            }),
        );
        self.add(qtype, "enum", None, None);
        self.features = vec![
            ("deprecated".to_string(), None),
            ("unstable".to_string(), None),
        ];
    }

    fn lookup(&self, name: &str) -> Option<EntityId> {
        self.entities
            .get_index_of(name)
            .map(|index| EntityId(index as u32))
    }

    fn note_features(&mut self, features: &[Feature]) {
        for feature in features {
            if !self.features.iter().any(|(name, _)| *name == feature.name) {
                self.features
                    .push((feature.name.clone(), Some(feature.span)));
            }
        }
    }

    /// The name of the array of `element`, defining it on first use.
    fn array_of(&mut self, element: &Name, context: &Context) -> Name {
        let name = format!("{}List", element.name);
        let is_type = self
            .lookup(&name)
            .is_some_and(|id| !matches!(self.metas[id.index()], "command" | "event"));
        if !is_type {
            let entity = plain_entity(
                name.clone(),
                Some(element.span),
                EntityKind::Array(ArrayType {
                    element: self.empty,
                }),
            );
            let pending = Pending::Array {
                element: element.clone(),
            };
            self.add(entity, "array", Some(context.clone()), Some(pending));
        }
        Name {
            name,
            span: element.span,
        }
    }

    fn type_name(&mut self, ty: &TypeRef, context: &Context) -> Name {
        match ty {
            TypeRef::Named(name) => name.clone(),
            TypeRef::Array(element) => self.array_of(element, context),
        }
    }

    /// Defines the implicit object `q_obj_OWNER-ROLE` for inline members;
    /// `None` when there are no members.
    fn implicit_object(
        &mut self,
        owner: &Owner<'_>,
        role: &str,
        members: Vec<MemberDef>,
    ) -> Option<Name> {
        if members.is_empty() {
            return None;
        }
        let name = format!("q_obj_{}-{role}", owner.name);
        if self.lookup(&name).is_none() {
            for m in &members {
                self.note_features(&m.features);
            }
            let members = self.resolve_array_members(members, owner.context);
            let entity = Entity {
                cond: owner.cond.clone(),
                ..plain_entity(name.clone(), Some(owner.span), placeholder_object())
            };
            let pending = Pending::Object {
                base: None,
                members,
                union: None,
            };
            self.add(entity, "struct", Some(owner.context.clone()), Some(pending));
        }
        Some(Name {
            name,
            span: owner.span,
        })
    }

    /// Replaces `['T']` member types by the name of the array type.
    fn resolve_array_members(
        &mut self,
        members: Vec<MemberDef>,
        context: &Context,
    ) -> Vec<MemberDef> {
        members
            .into_iter()
            .map(|m| {
                let ty = TypeRef::Named(self.type_name(&m.ty, context));
                MemberDef { ty, ..m }
            })
            .collect()
    }

    fn branch_types(&mut self, branches: Vec<BranchDef>, context: &Context) -> Vec<BranchDef> {
        branches
            .into_iter()
            .map(|b| BranchDef {
                ty: TypeRef::Named(self.type_name(&b.ty, context)),
                ..b
            })
            .collect()
    }

    /// A command's or event's argument type: named, implicit or none.
    fn arguments(&mut self, owner: &Owner<'_>, data: Option<Data>) -> Option<Name> {
        match data? {
            Data::Named(name) => Some(name),
            Data::Members(members) => self.implicit_object(owner, "arg", members),
        }
    }

    fn define(&mut self, def: Def) {
        let Def {
            name,
            span,
            doc,
            cond,
            features,
            kind,
            context,
        } = def;
        self.note_features(&features);
        let owner = Owner {
            name: &name,
            span,
            cond: &cond,
            context: &context,
        };
        let (meta, kind, pending) = match kind {
            DefKind::Enum { values, prefix } => {
                for v in &values {
                    self.note_features(&v.features);
                }
                ("enum", EntityKind::Enum(EnumType { values, prefix }), None)
            }
            DefKind::Struct { base, members } => {
                for m in &members {
                    self.note_features(&m.features);
                }
                let members = self.resolve_array_members(members, &context);
                let pending = Pending::Object {
                    base,
                    members,
                    union: None,
                };
                ("struct", placeholder_object(), Some(pending))
            }
            DefKind::Union {
                base,
                discriminator,
                branches,
            } => {
                let base = match base {
                    Data::Named(name) => Some(name),
                    Data::Members(members) => self.implicit_object(&owner, "base", members),
                };
                let branches = self.branch_types(branches, &context);
                let pending = Pending::Object {
                    base,
                    members: Vec::new(),
                    union: Some((discriminator, branches)),
                };
                ("union", placeholder_object(), Some(pending))
            }
            DefKind::Alternate { branches } => {
                let branches = self.branch_types(branches, &context);
                let kind = EntityKind::Alternate(AlternateType {
                    variants: Vec::new(),
                });
                ("alternate", kind, Some(Pending::Alternate { branches }))
            }
            DefKind::Command {
                data,
                returns,
                flags,
            } => {
                let arg = self.arguments(&owner, data);
                let returns = returns.map(|r| self.type_name(&r, &context));
                let command = Command {
                    arg_type: None,
                    ret_type: None,
                    boxed: flags.boxed,
                    gen: flags.gen,
                    success_response: flags.success_response,
                    allow_oob: flags.allow_oob,
                    allow_preconfig: flags.allow_preconfig,
                    coroutine: flags.coroutine,
                };
                let kind = EntityKind::Command(command.clone());
                let pending = Pending::Command {
                    arg,
                    returns,
                    command,
                };
                ("command", kind, Some(pending))
            }
            DefKind::Event { data, boxed } => {
                let arg = self.arguments(&owner, data);
                let kind = EntityKind::Event(Event {
                    arg_type: None,
                    boxed,
                });
                ("event", kind, Some(Pending::Event { arg, boxed }))
            }
        };
        let implicit = match &pending {
            Some(Pending::Object { base: Some(n), .. })
            | Some(Pending::Command { arg: Some(n), .. })
            | Some(Pending::Event { arg: Some(n), .. }) => self
                .lookup(&n.name)
                .filter(|_| n.name.starts_with("q_obj_")),
            _ => None,
        };
        let entity = Entity {
            name,
            span: Some(span),
            doc,
            cond,
            features,
            kind,
        };
        let id = self.add(entity, meta, Some(context), pending);
        if let Some(implicit) = implicit {
            if let EntityKind::Object(object) = &mut self.entities[implicit.index()].kind {
                object.implicit_for.get_or_insert(id);
            }
        }
        self.items.push(SchemaItem::Definition(id));
    }
}

/// What implicit types need to know of the definition they are made for.
struct Owner<'a> {
    name: &'a str,
    span: Span,
    cond: &'a Option<Cond>,
    context: &'a Context,
}

fn plain_entity(name: String, span: Option<Span>, kind: EntityKind) -> Entity {
    Entity {
        name,
        span,
        doc: None,
        cond: None,
        features: Vec::new(),
        kind,
    }
}

fn placeholder_object() -> EntityKind {
    EntityKind::Object(ObjectType {
        base: None,
        local_members: Vec::new(),
        branches: None,
        implicit_for: None,
    })
}
