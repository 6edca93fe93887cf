//! Checks each definition's structure (keys, names, shapes) on its own and
//! turns it into a typed definition, as QEMU's `expr.py` does.

use std::fmt::Display;

use crate::frontend::cond::Cond;
use crate::frontend::diagnostic::{Context, Diagnostic};
use crate::frontend::doc::{Doc, DocReporter, SectionKind};
use crate::frontend::names;
use crate::frontend::pragma::Pragma;
use crate::frontend::source::Span;
use crate::frontend::value::{Node, Object, Value};

/// A feature of a definition, member or enum value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Feature {
    /// The feature's name.
    pub name: String,
    /// Where it is declared.
    pub span: Span,
    /// The condition under which the feature exists.
    pub cond: Option<Cond>,
}

impl Feature {
    /// `deprecated`: the interface may be withdrawn.
    pub fn is_deprecated(&self) -> bool {
        self.name == "deprecated"
    }

    /// `unstable`: the interface may change incompatibly.
    pub fn is_unstable(&self) -> bool {
        self.name == "unstable"
    }

    /// One of the features standardised across all schemas.
    pub fn is_special(&self) -> bool {
        self.is_deprecated() || self.is_unstable()
    }
}

/// One value of an enumeration.
#[derive(Clone, Debug)]
pub struct EnumValue {
    /// The wire name.
    pub name: String,
    /// Where it is declared; `None` for `QType`'s values.
    pub span: Option<Span>,
    /// The condition under which the value exists.
    pub cond: Option<Cond>,
    /// Its features.
    pub features: Vec<Feature>,
}

/// A definition whose structure has been checked; type names are not
/// resolved yet.
#[derive(Debug)]
pub(crate) struct Def {
    pub name: String,
    pub span: Span,
    pub doc: Option<Doc>,
    pub cond: Option<Cond>,
    pub features: Vec<Feature>,
    pub kind: DefKind,
    pub context: Context,
}

#[derive(Debug)]
pub(crate) enum DefKind {
    Enum {
        values: Vec<EnumValue>,
        prefix: Option<String>,
    },
    Struct {
        base: Option<Name>,
        members: Vec<MemberDef>,
    },
    Union {
        base: Data,
        discriminator: Name,
        branches: Vec<BranchDef>,
    },
    Alternate {
        branches: Vec<BranchDef>,
    },
    Command {
        data: Option<Data>,
        returns: Option<TypeRef>,
        flags: CommandFlags,
    },
    Event {
        data: Option<Data>,
        boxed: bool,
    },
}

#[derive(Debug, Default)]
pub(crate) struct CommandFlags {
    pub boxed: bool,
    pub gen: bool,
    pub success_response: bool,
    pub allow_oob: bool,
    pub allow_preconfig: bool,
    pub coroutine: bool,
}

/// A name with the position it is written at.
#[derive(Clone, Debug)]
pub(crate) struct Name {
    pub name: String,
    pub span: Span,
}

/// A type written as `'Name'` or `['Name']`.
#[derive(Clone, Debug)]
pub(crate) enum TypeRef {
    Named(Name),
    Array(Name),
}

/// Members written inline, or the name of a type holding them.
#[derive(Debug)]
pub(crate) enum Data {
    Members(Vec<MemberDef>),
    Named(Name),
}

#[derive(Debug)]
pub(crate) struct MemberDef {
    pub name: String,
    pub span: Span,
    pub optional: bool,
    pub ty: TypeRef,
    pub cond: Option<Cond>,
    pub features: Vec<Feature>,
}

#[derive(Debug)]
pub(crate) struct BranchDef {
    pub name: String,
    pub span: Span,
    pub ty: TypeRef,
    pub cond: Option<Cond>,
}

const METAS: [&str; 6] = ["enum", "struct", "union", "alternate", "command", "event"];

type Check<T> = Result<T, Diagnostic>;

/// Checks one definition expression.
///
/// Structural problems come back as `Err`; doc-comment problems go to
/// `reporter` (and come back as `Err` only when it says they must).
pub(crate) fn check_definition(
    node: &Node,
    doc: Option<Doc>,
    pragma: &Pragma,
    reporter: &mut DocReporter,
) -> Check<Def> {
    let span = node.span;
    let Value::Object(expr) = &node.value else {
        unreachable!("the parser only passes objects")
    };
    let metas: Vec<&str> = METAS.iter().copied().filter(|m| expr.contains(m)).collect();
    let [meta] = metas[..] else {
        return Err(Diagnostic::error(
            span,
            "expression must have exactly one key 'enum', 'struct', 'union', 'alternate', \
             'command', 'event'",
        ));
    };
    let name_node = expr.get(meta).expect("meta key is present");
    let Some(name) = name_node.value.as_str() else {
        return Err(Diagnostic::error(
            span,
            format!("'{meta}' requires a string name"),
        ));
    };
    let context = Context {
        meta,
        name: name.to_string(),
    };
    let checker = ExprChecker { span, pragma, name };
    let result =
        checker
            .definition(meta, expr, doc, reporter)
            .map(|(cond, features, kind, doc)| Def {
                name: name.to_string(),
                span,
                doc,
                cond,
                features,
                kind,
                context: context.clone(),
            });
    result.map_err(|d| d.in_definition(Some(&context)))
}

struct ExprChecker<'a> {
    span: Span,
    pragma: &'a Pragma,
    name: &'a str,
}

type DefParts = (Option<Cond>, Vec<Feature>, DefKind, Option<Doc>);

impl ExprChecker<'_> {
    fn err(&self, message: impl Into<String>) -> Diagnostic {
        Diagnostic::error(self.span, message)
    }

    fn definition(
        &self,
        meta: &'static str,
        expr: &Object,
        mut doc: Option<Doc>,
        reporter: &mut DocReporter,
    ) -> Check<DefParts> {
        let name = self.name;
        let context = Context {
            meta,
            name: name.to_string(),
        };
        let name_check = match meta {
            "event" => names::check_upper(name),
            "command" => names::check_command(
                name,
                self.pragma
                    .command_name_exceptions
                    .iter()
                    .any(|n| n == name),
            ),
            _ => names::check_camel(name),
        };
        name_check.map_err(|e| self.err(names::message(e, &meta)))?;
        if !matches!(meta, "event" | "command") && name.ends_with("List") {
            return Err(self.err(format!("{meta} name should not end in 'List'")));
        }

        if let Some(d) = &doc {
            let doc_problem = if d.symbol.as_deref() != Some(name) {
                let symbol = d.symbol.as_deref().unwrap_or_default();
                Some(Diagnostic::doc(
                    self.span,
                    format!("documentation comment is for '{symbol}'"),
                ))
            } else {
                check_doc_sections(d, meta, expr.contains("returns"))
            };
            if let Some(problem) = doc_problem {
                let mismatch = d.symbol.as_deref() != Some(name);
                reporter.report(problem.in_definition(Some(&context)))?;
                if mismatch {
                    doc = None;
                }
            }
        } else if self.pragma.doc_required {
            reporter.report(
                Diagnostic::doc(self.span, "documentation comment required")
                    .in_definition(Some(&context)),
            )?;
        }

        let kind = match meta {
            "enum" => {
                self.keys(
                    expr,
                    &meta,
                    &["enum", "data"],
                    &["if", "features", "prefix"],
                )?;
                self.enumeration(expr)?
            }
            "union" => {
                self.keys(
                    expr,
                    &meta,
                    &["union", "base", "discriminator", "data"],
                    &["if", "features"],
                )?;
                self.union(expr)?
            }
            "alternate" => {
                self.keys(expr, &meta, &["alternate", "data"], &["if", "features"])?;
                self.alternate(expr)?
            }
            "struct" => {
                self.keys(
                    expr,
                    &meta,
                    &["struct", "data"],
                    &["base", "if", "features"],
                )?;
                let members = self.implicit(expr.get("data"), &"'data'", Some(name))?;
                let base = self.type_name(expr.get("base"), &"'base'")?;
                DefKind::Struct {
                    base,
                    members: match members {
                        Some(Data::Members(members)) => members,
                        _ => {
                            // The grammar allows only members here; QEMU
                            // rejects a type name with this message.
                            let span = expr.get("data").map_or(self.span, |n| n.span);
                            return Err(Diagnostic::error(
                                span,
                                "'data' should be an object or type name",
                            ));
                        }
                    },
                }
            }
            "command" => {
                self.keys(
                    expr,
                    &meta,
                    &["command"],
                    &[
                        "data",
                        "returns",
                        "boxed",
                        "if",
                        "features",
                        "gen",
                        "success-response",
                        "allow-oob",
                        "allow-preconfig",
                        "coroutine",
                    ],
                )?;
                let data = self.arguments(expr)?;
                let returns = self.type_name_or_array(expr.get("returns"), &"'returns'")?;
                DefKind::Command {
                    data,
                    returns,
                    flags: CommandFlags::default(),
                }
            }
            "event" => {
                self.keys(
                    expr,
                    &meta,
                    &["event"],
                    &["data", "boxed", "if", "features"],
                )?;
                let data = self.arguments(expr)?;
                DefKind::Event { data, boxed: false }
            }
            _ => unreachable!("meta is one of METAS"),
        };
        let cond = self.cond(expr, &meta)?;
        let features = self.features(expr.get("features"))?;
        let kind = self.flags(expr, kind)?;
        Ok((cond, features, kind, doc))
    }

    /// QEMU's `check_keys`.
    fn keys(
        &self,
        object: &Object,
        source: &dyn Display,
        required: &[&str],
        optional: &[&str],
    ) -> Check<()> {
        keys_at(self.span, object, source, required, optional)
    }

    /// QEMU's `check_flags`, filling in the flags of commands and events.
    fn flags(&self, expr: &Object, kind: DefKind) -> Check<DefKind> {
        let flag = |key: &str, allowed: bool| -> Check<Option<bool>> {
            match expr.get(key).map(|n| &n.value) {
                None => Ok(None),
                Some(Value::Bool(b)) if *b == allowed => Ok(Some(*b)),
                Some(_) => Err(Diagnostic::error(
                    expr.entry(key).map_or(self.span, |e| e.key_span),
                    format!(
                        "flag '{key}' may only use {} value",
                        if allowed { "true" } else { "false" }
                    ),
                )),
            }
        };
        let gen = flag("gen", false)?;
        let success_response = flag("success-response", false)?;
        let boxed = flag("boxed", true)?;
        let allow_oob = flag("allow-oob", true)?;
        let allow_preconfig = flag("allow-preconfig", true)?;
        let coroutine = flag("coroutine", true)?;
        if allow_oob.is_some() && coroutine.is_some() {
            return Err(self.err("flags 'allow-oob' and 'coroutine' are incompatible"));
        }
        Ok(match kind {
            DefKind::Command { data, returns, .. } => DefKind::Command {
                data,
                returns,
                flags: CommandFlags {
                    boxed: boxed.is_some(),
                    gen: gen.is_none(),
                    success_response: success_response.is_none(),
                    allow_oob: allow_oob.is_some(),
                    allow_preconfig: allow_preconfig.is_some(),
                    coroutine: coroutine.is_some(),
                },
            },
            DefKind::Event { data, .. } => DefKind::Event {
                data,
                boxed: boxed.is_some(),
            },
            other => other,
        })
    }

    fn enumeration(&self, expr: &Object) -> Check<DefKind> {
        let data = expr.get("data").expect("checked by keys");
        let Value::Array(items) = &data.value else {
            return Err(Diagnostic::error(data.span, "'data' must be an array"));
        };
        let prefix = match expr.get("prefix").map(|n| &n.value) {
            None => None,
            Some(Value::Str(s)) => Some(s.clone()),
            Some(_) => return Err(self.err("'prefix' must be a string")),
        };
        let permissive = self
            .pragma
            .member_name_exceptions
            .iter()
            .any(|n| n == self.name);
        let mut values = Vec::with_capacity(items.len());
        for item in items {
            let (name, member) = match &item.value {
                Value::Object(member) => {
                    keys_at(
                        item.span,
                        member,
                        &"'data' member",
                        &["name"],
                        &["if", "features"],
                    )?;
                    let Some(name) = member.get("name").and_then(|n| n.value.as_str()) else {
                        return Err(Diagnostic::error(
                            item.span,
                            "'data' member requires a string name",
                        ));
                    };
                    (name, Some(member))
                }
                Value::Str(name) => (name.as_str(), None),
                _ => {
                    return Err(Diagnostic::error(
                        item.span,
                        "'data' member requires a string name",
                    ))
                }
            };
            let source = MemberOf(&"'data'", name);
            // Enum values may start with a digit.
            let hidden = if name.starts_with(|c: char| c.is_ascii_digit()) {
                format!("d{name}")
            } else {
                name.to_string()
            };
            names::check_lower(&hidden, permissive)
                .map_err(|e| Diagnostic::error(item.span, names::message(e, &source)))?;
            let (cond, features) = match member {
                Some(member) => (
                    cond_at(member.get("if"), &source)?,
                    self.features(member.get("features"))?,
                ),
                None => (None, Vec::new()),
            };
            values.push(EnumValue {
                name: name.to_string(),
                span: Some(item.span),
                cond,
                features,
            });
        }
        Ok(DefKind::Enum { values, prefix })
    }

    fn union(&self, expr: &Object) -> Check<DefKind> {
        let base_node = expr.get("base");
        let base = self
            .implicit(base_node, &"'base'", Some(self.name))?
            .expect("checked by keys");
        let disc = expr.get("discriminator").expect("checked by keys");
        let Some(discriminator) = disc.value.as_str() else {
            return Err(self.err("'discriminator' requires a string name"));
        };
        let data = expr.get("data").expect("checked by keys");
        let Value::Object(branches) = &data.value else {
            return Err(Diagnostic::error(data.span, "'data' must be an object"));
        };
        let mut out = Vec::with_capacity(branches.len());
        for entry in &branches.entries {
            let source = MemberOf(&"'data'", &entry.key);
            let (ty, cond) = self.branch(&entry.value, &source, false)?;
            out.push(BranchDef {
                name: entry.key.clone(),
                span: entry.key_span,
                ty,
                cond,
            });
        }
        Ok(DefKind::Union {
            base,
            discriminator: Name {
                name: discriminator.to_string(),
                span: disc.span,
            },
            branches: out,
        })
    }

    fn alternate(&self, expr: &Object) -> Check<DefKind> {
        let data = expr.get("data").expect("checked by keys");
        let empty = match &data.value {
            Value::Str(s) => s.is_empty(),
            Value::Bool(b) => !b,
            Value::Array(a) => a.is_empty(),
            Value::Object(o) => o.is_empty(),
        };
        if empty {
            return Err(Diagnostic::error(data.span, "'data' must not be empty"));
        }
        let Value::Object(branches) = &data.value else {
            return Err(Diagnostic::error(data.span, "'data' must be an object"));
        };
        let mut out = Vec::with_capacity(branches.len());
        for entry in &branches.entries {
            let source = MemberOf(&"'data'", &entry.key);
            names::check_lower(&entry.key, false)
                .map_err(|e| Diagnostic::error(entry.key_span, names::message(e, &source)))?;
            let (ty, cond) = self.branch(&entry.value, &source, true)?;
            out.push(BranchDef {
                name: entry.key.clone(),
                span: entry.key_span,
                ty,
                cond,
            });
        }
        Ok(DefKind::Alternate { branches: out })
    }

    /// A union branch or alternative: a type, or `{'type': ..., 'if': ...}`.
    fn branch(
        &self,
        node: &Node,
        source: &dyn Display,
        allow_array: bool,
    ) -> Check<(TypeRef, Option<Cond>)> {
        let (ty_node, cond) = match &node.value {
            Value::Object(object) => {
                keys_at(node.span, object, source, &["type"], &["if"])?;
                (
                    object.get("type").expect("checked by keys"),
                    cond_at(object.get("if"), source)?,
                )
            }
            _ => (node, None),
        };
        let ty = if allow_array {
            self.type_name_or_array(Some(ty_node), source)?
        } else {
            self.type_name(Some(ty_node), source)?.map(TypeRef::Named)
        };
        Ok((ty.expect("a value is present"), cond))
    }

    /// A command's or event's `'data'` (and `'boxed'`).
    fn arguments(&self, expr: &Object) -> Check<Option<Data>> {
        let boxed = expr.get("boxed").is_some_and(|n| truthy(&n.value));
        let data = expr.get("data");
        if boxed {
            if data.is_none() {
                return Err(self.err("'boxed': true requires 'data'"));
            }
            return Ok(self.type_name(data, &"'data'")?.map(Data::Named));
        }
        self.implicit(data, &"'data'", None)
    }

    /// QEMU's `check_type_name`.
    fn type_name(&self, node: Option<&Node>, source: &dyn Display) -> Check<Option<Name>> {
        let Some(node) = node else { return Ok(None) };
        match &node.value {
            Value::Str(name) => Ok(Some(Name {
                name: name.clone(),
                span: node.span,
            })),
            _ => Err(Diagnostic::error(
                node.span,
                format!("{source} should be a type name"),
            )),
        }
    }

    /// QEMU's `check_type_name_or_array`.
    fn type_name_or_array(
        &self,
        node: Option<&Node>,
        source: &dyn Display,
    ) -> Check<Option<TypeRef>> {
        let Some(node) = node else { return Ok(None) };
        match &node.value {
            Value::Str(name) => Ok(Some(TypeRef::Named(Name {
                name: name.clone(),
                span: node.span,
            }))),
            Value::Array(items) => match &items[..] {
                [Node {
                    value: Value::Str(name),
                    span,
                }] => Ok(Some(TypeRef::Array(Name {
                    name: name.clone(),
                    span: *span,
                }))),
                _ => Err(Diagnostic::error(
                    node.span,
                    format!("{source}: array type must contain single type name"),
                )),
            },
            _ => Err(Diagnostic::error(
                node.span,
                format!("{source} should be a type name or array"),
            )),
        }
    }

    /// QEMU's `check_type_name_or_implicit`: a type name or inline members.
    fn implicit(
        &self,
        node: Option<&Node>,
        source: &dyn Display,
        parent: Option<&str>,
    ) -> Check<Option<Data>> {
        let Some(node) = node else { return Ok(None) };
        let members = match &node.value {
            Value::Str(name) => {
                return Ok(Some(Data::Named(Name {
                    name: name.clone(),
                    span: node.span,
                })))
            }
            Value::Array(_) | Value::Bool(_) => {
                return Err(Diagnostic::error(
                    node.span,
                    format!("{source} should be an object or type name"),
                ))
            }
            Value::Object(members) => members,
        };
        let permissive =
            parent.is_some_and(|p| self.pragma.member_name_exceptions.iter().any(|n| n == p));
        let mut out = Vec::with_capacity(members.len());
        for entry in &members.entries {
            let key_source = MemberOf(source, &entry.key);
            let (name, optional) = match entry.key.strip_prefix('*') {
                Some(name) => (name, true),
                None => (entry.key.as_str(), false),
            };
            let at = entry.key_span;
            names::check_lower(name, permissive)
                .map_err(|e| Diagnostic::error(at, names::message(e, &key_source)))?;
            if names::is_reserved_member(name) {
                return Err(Diagnostic::error(
                    at,
                    format!("{key_source} uses reserved name"),
                ));
            }
            let (ty_node, cond, features) = match &entry.value.value {
                Value::Object(arg) => {
                    keys_at(at, arg, &key_source, &["type"], &["if", "features"])?;
                    (
                        arg.get("type").expect("checked by keys"),
                        cond_at(arg.get("if"), &key_source)?,
                        self.features(arg.get("features"))?,
                    )
                }
                _ => (&entry.value, None, Vec::new()),
            };
            let ty = self
                .type_name_or_array(Some(ty_node), &key_source)?
                .expect("a value is present");
            out.push(MemberDef {
                name: name.to_string(),
                span: at,
                optional,
                ty,
                cond,
                features,
            });
        }
        Ok(Some(Data::Members(out)))
    }

    fn cond(&self, expr: &Object, source: &dyn Display) -> Check<Option<Cond>> {
        cond_at(expr.get("if"), source)
    }

    /// QEMU's `check_features`.
    fn features(&self, node: Option<&Node>) -> Check<Vec<Feature>> {
        let Some(node) = node else {
            return Ok(Vec::new());
        };
        let Value::Array(items) = &node.value else {
            return Err(Diagnostic::error(node.span, "'features' must be an array"));
        };
        let mut features = Vec::with_capacity(items.len());
        for item in items {
            let (name, object) = match &item.value {
                Value::Object(f) => {
                    keys_at(item.span, f, &"'features' member", &["name"], &["if"])?;
                    (f.get("name").and_then(|n| n.value.as_str()), Some(f))
                }
                Value::Str(s) => (Some(s.as_str()), None),
                _ => (None, None),
            };
            let Some(name) = name else {
                return Err(Diagnostic::error(
                    item.span,
                    "'features' member requires a string name",
                ));
            };
            let source = MemberOf(&"'features'", name);
            names::check_lower(name, false)
                .map_err(|e| Diagnostic::error(item.span, names::message(e, &source)))?;
            let cond = match object {
                Some(f) => cond_at(f.get("if"), &source)?,
                None => None,
            };
            features.push(Feature {
                name: name.to_string(),
                span: item.span,
                cond,
            });
        }
        Ok(features)
    }
}

/// Python truthiness of a schema value.
fn truthy(value: &Value) -> bool {
    match value {
        Value::Str(s) => !s.is_empty(),
        Value::Bool(b) => *b,
        Value::Array(a) => !a.is_empty(),
        Value::Object(o) => !o.is_empty(),
    }
}

/// QEMU's `check_keys`: required keys present, no unknown keys.
fn keys_at(
    span: Span,
    object: &Object,
    source: &dyn Display,
    required: &[&str],
    optional: &[&str],
) -> Check<()> {
    let quote = |mut keys: Vec<&str>| {
        keys.sort_unstable();
        keys.iter()
            .map(|k| format!("'{k}'"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let missing: Vec<&str> = required
        .iter()
        .copied()
        .filter(|k| !object.contains(k))
        .collect();
    if !missing.is_empty() {
        let s = if missing.len() > 1 { "s" } else { "" };
        return Err(Diagnostic::error(
            span,
            format!("{source} misses key{s} {}", quote(missing)),
        ));
    }
    let unknown: Vec<&str> = object
        .entries
        .iter()
        .map(|e| e.key.as_str())
        .filter(|k| !required.contains(k) && !optional.contains(k))
        .collect();
    if !unknown.is_empty() {
        let at = object
            .entries
            .iter()
            .find(|e| e.key == unknown[0])
            .map_or(span, |e| e.key_span);
        let s = if unknown.len() > 1 { "s" } else { "" };
        let allowed = required.iter().chain(optional).copied().collect();
        return Err(Diagnostic::error(
            at,
            format!(
                "{source} has unknown key{s} {}\nValid keys are {}.",
                quote(unknown),
                quote(allowed)
            ),
        ));
    }
    Ok(())
}

/// QEMU's `check_if`.
fn cond_at(node: Option<&Node>, source: &dyn Display) -> Check<Option<Cond>> {
    node.map(|node| cond_value(node, source)).transpose()
}

fn cond_value(node: &Node, source: &dyn Display) -> Check<Cond> {
    let span = node.span;
    let object = match &node.value {
        Value::Str(name) => {
            let valid = name.as_bytes().first().is_some_and(u8::is_ascii_uppercase)
                && name
                    .bytes()
                    .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_');
            if !valid {
                return Err(Diagnostic::error(
                    span,
                    format!("'if' condition '{name}' of {source} is not a valid identifier"),
                ));
            }
            return Ok(Cond::Name(name.clone()));
        }
        Value::Object(object) => object,
        _ => {
            return Err(Diagnostic::error(
                span,
                format!("'if' condition of {source} must be a string or an object"),
            ))
        }
    };
    keys_at(
        span,
        object,
        &format!("'if' condition of {source}"),
        &[],
        &["all", "any", "not"],
    )?;
    let [entry] = &object.entries[..] else {
        return Err(Diagnostic::error(
            span,
            format!("'if' condition of {source} has conflicting keys"),
        ));
    };
    if entry.key == "not" {
        return Ok(Cond::Not(Box::new(cond_value(&entry.value, source)?)));
    }
    let Value::Array(operands) = &entry.value.value else {
        return Err(Diagnostic::error(
            entry.value.span,
            format!("'{}' condition of {source} must be an array", entry.key),
        ));
    };
    if operands.is_empty() {
        return Err(Diagnostic::error(
            entry.value.span,
            format!("'if' condition [] of {source} is useless"),
        ));
    }
    let operands = operands
        .iter()
        .map(|o| cond_value(o, source))
        .collect::<Check<Vec<_>>>()?;
    Ok(if entry.key == "all" {
        Cond::All(operands)
    } else {
        Cond::Any(operands)
    })
}

/// QEMU's `QAPIDoc.check_expr`: `Returns:` and `Errors:` only on commands.
fn check_doc_sections(doc: &Doc, meta: &str, has_returns: bool) -> Option<Diagnostic> {
    let returns = doc.section(&SectionKind::Returns);
    if meta == "command" {
        return match returns {
            Some(section) if !has_returns => Some(Diagnostic::doc(
                section.span,
                "'Returns' section, but command doesn't return anything",
            )),
            _ => None,
        };
    }
    if let Some(section) = returns {
        return Some(Diagnostic::doc(
            section.span,
            "'Returns' section is only valid for commands",
        ));
    }
    doc.section(&SectionKind::Errors)
        .map(|section| Diagnostic::doc(section.span, "'Errors' section is only valid for commands"))
}

/// What a message names, `{of} member '{name}'` (`'data' member 'x'`),
/// formatted only when a message is made.
struct MemberOf<'a>(&'a dyn Display, &'a str);

impl Display for MemberOf<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} member '{}'", self.0, self.1)
    }
}
