//! QEMU's introspection: the `query-qmp-schema` reply, a list of
//! `SchemaInfo` objects, read from a file or captured from a running QEMU.
//!
//! Command and event names are real; type names are masked (`"123"`),
//! and types are reached only by following references from commands and
//! events. [`crate::reconstruct`] turns an introspection into a QAPI schema
//! with names derived for the masked types; [`crate::resolve`] pairs it
//! with the schema source QEMU was built from.

use std::collections::HashMap;
use std::path::Path;

use qapi_types::qmp::{JSONType, SchemaInfo, SchemaInfoBranch};

/// A server's introspection, indexed by name.
#[derive(Clone, Debug)]
pub struct Introspection {
    infos: Vec<SchemaInfo>,
    index: HashMap<String, usize>,
}

impl Introspection {
    /// Reads introspection JSON: the `query-qmp-schema` reply's `return`
    /// array, or the whole reply (`{"return": [...]}`).
    pub fn from_json(text: &str) -> Result<Self, String> {
        let value: serde_json::Value =
            serde_json::from_str(text).map_err(|e| format!("not JSON: {e}"))?;
        let list = match value {
            serde_json::Value::Object(mut reply) => match reply.remove("return") {
                Some(list) => list,
                None => {
                    return Err("expected an array of SchemaInfo or a reply with 'return'".into())
                }
            },
            list => list,
        };
        let infos: Vec<SchemaInfo> = serde_json::from_value(list)
            .map_err(|e| format!("not a query-qmp-schema reply: {e}"))?;
        Self::new(infos)
    }

    /// Indexes `infos`; names must be unique.
    pub fn new(infos: Vec<SchemaInfo>) -> Result<Self, String> {
        let mut index = HashMap::with_capacity(infos.len());
        for (i, info) in infos.iter().enumerate() {
            if index.insert(info.name.clone(), i).is_some() {
                return Err(format!("'{}' is described twice", info.name));
            }
        }
        Ok(Self { infos, index })
    }

    /// Reads an introspection file.
    pub fn read(path: &Path) -> Result<Self, crate::Error> {
        let bytes = std::fs::read(path).map_err(|source| crate::Error::Io {
            path: path.to_path_buf(),
            source,
        })?;
        let text = String::from_utf8(bytes).map_err(|_| crate::Error::Introspection {
            path: path.to_path_buf(),
            message: "not UTF-8".into(),
        })?;
        Self::from_json(&text).map_err(|message| crate::Error::Introspection {
            path: path.to_path_buf(),
            message,
        })
    }

    /// Every entity, in the server's order.
    pub fn infos(&self) -> &[SchemaInfo] {
        &self.infos
    }

    /// The entity called `name`.
    pub fn get(&self, name: &str) -> Option<&SchemaInfo> {
        self.index.get(name).map(|&i| &self.infos[i])
    }

    /// The JSON type of builtin `name`, if it is a builtin.
    pub(crate) fn builtin(&self, name: &str) -> Option<&JSONType> {
        match &self.get(name)?.meta_type {
            SchemaInfoBranch::Builtin(b) => Some(&b.json_type),
            _ => None,
        }
    }

    /// Whether `name` is an object type without members or branches (what
    /// QEMU names as the arguments of commands that take none, and as the
    /// return type of commands that return nothing).
    pub(crate) fn is_empty_object(&self, name: &str) -> bool {
        matches!(self.get(name).map(|i| &i.meta_type),
            Some(SchemaInfoBranch::Object(o))
                if o.members.is_empty() && o.variants.as_ref().is_none_or(|v| v.is_empty()))
    }
}

/// Whether a file's contents look like introspection JSON rather than a
/// QAPI schema: a JSON array, or an object with a `return` member.
pub fn looks_like_introspection(bytes: &[u8]) -> bool {
    let text = String::from_utf8_lossy(bytes);
    let trimmed = text.trim_start();
    trimmed.starts_with('[')
        || (trimmed.starts_with('{') && trimmed[1..].trim_start().starts_with("\"return\""))
}

/// A schema read from an introspection.
#[derive(Debug)]
pub struct Introspected {
    /// The schema, checked as any other.
    pub loaded: crate::Loaded,
    /// Where the schema source and the introspection disagree beyond
    /// build conditions (they come from different QEMU versions).
    pub notes: Vec<String>,
}

/// Reads the introspection file at `path` as a schema.
///
/// With the schema `source` QEMU was built from, the result is that
/// source holding exactly what the introspected build exposes (see
/// [`crate::resolve`]), with its docs and exact types. Without one, it
/// is rebuilt from the introspection alone, with names derived for the
/// masked types (see [`crate::reconstruct`]).
pub fn load(path: &Path, source: Option<&Path>) -> Result<Introspected, crate::Error> {
    let intro = Introspection::read(path)?;
    match source {
        Some(source) => {
            let loaded = crate::load_for_generation(source)?;
            let (schema, notes) = crate::resolve::resolve(&loaded.schema, &intro);
            Ok(Introspected {
                loaded: crate::Loaded {
                    schema,
                    warnings: loaded.warnings,
                },
                notes,
            })
        }
        None => Ok(Introspected {
            loaded: rebuild(&intro, path)?,
            notes: Vec::new(),
        }),
    }
}

/// The schema rebuilt from `intro` alone; `path` names it in messages.
pub fn rebuild(intro: &Introspection, path: &Path) -> Result<crate::Loaded, crate::Error> {
    rebuild_with(intro, path, &HashMap::new())
}

fn rebuild_with(
    intro: &Introspection,
    path: &Path,
    names: &HashMap<String, String>,
) -> Result<crate::Loaded, crate::Error> {
    let text = crate::reconstruct::reconstruct_named(intro, names).map_err(|message| {
        crate::Error::Introspection {
            path: path.to_path_buf(),
            message,
        }
    })?;
    let virtual_path = std::path::PathBuf::from(format!("{} (rebuilt as QAPI)", path.display()));
    let mut loaded = crate::load_with(&virtual_path, crate::DocRules::Lenient, &|p| {
        if p == virtual_path {
            Ok(text.clone().into_bytes())
        } else {
            Err(std::io::ErrorKind::NotFound.into())
        }
    })?;
    // The docs are the rebuild's own; problems with them are not the user's.
    loaded.warnings.clear();
    Ok(loaded)
}

/// The schema rebuilt from an introspection, as QAPI schema text.
pub fn to_qapi(intro: &Introspection) -> Result<String, String> {
    crate::reconstruct::reconstruct(intro)
}

/// Like [`rebuild`], with the type names of `previous` (a schema rebuilt
/// from an earlier introspection, or a schema source) wherever its types
/// pair up with the introspection's: the names stay what they were when
/// the server gains or moves definitions.
pub fn rebuild_like(
    intro: &Introspection,
    path: &Path,
    previous: &crate::Schema,
) -> Result<crate::Loaded, crate::Error> {
    let names = crate::resolve::type_names(previous, intro);
    rebuild_with(intro, path, &names)
}

/// What a file holds: a schema (with its includes) or an introspection.
#[derive(Debug)]
pub enum Input {
    /// A schema, loaded with lenient doc rules and its warnings dropped.
    Schema(crate::Schema),
    /// An introspection.
    Introspection(Introspection),
}

/// Reads a schema file or an introspection file, telling them apart by
/// their first bytes (see [`looks_like_introspection`]).
pub fn read_input(path: &Path) -> Result<Input, crate::Error> {
    let io = |source| crate::Error::Io {
        path: path.to_path_buf(),
        source,
    };
    let mut head = Vec::new();
    let file = std::fs::File::open(path).map_err(io)?;
    std::io::Read::read_to_end(&mut std::io::Read::take(file, 64), &mut head).map_err(io)?;
    if looks_like_introspection(&head) {
        Introspection::read(path).map(Input::Introspection)
    } else {
        crate::load_for_generation(path).map(|loaded| Input::Schema(loaded.schema))
    }
}

/// Two versions of an interface, schema or introspection files, as
/// schemas to compare: an introspection is rebuilt with the other side's
/// type names wherever the types pair up (see [`rebuild_like`]), so that
/// a type is not reported as renamed because its derived name moved.
pub fn load_pair(old: &Path, new: &Path) -> Result<(crate::Schema, crate::Schema), crate::Error> {
    Ok(match (read_input(old)?, read_input(new)?) {
        (Input::Schema(a), Input::Schema(b)) => (a, b),
        (Input::Introspection(a), Input::Introspection(b)) => {
            let a = rebuild(&a, old)?.schema;
            let b = rebuild_like(&b, new, &a)?.schema;
            (a, b)
        }
        (Input::Schema(a), Input::Introspection(b)) => {
            let b = rebuild_like(&b, new, &a)?.schema;
            (a, b)
        }
        (Input::Introspection(a), Input::Schema(b)) => {
            let a = rebuild_like(&a, old, &b)?.schema;
            (a, b)
        }
    })
}

/// The introspection at `path` rebuilt with the type names of
/// `names_from` (a schema, or the introspection bindings were generated
/// from before) wherever their types pair up (see [`rebuild_like`]).
pub fn load_named(path: &Path, names_from: &Path) -> Result<crate::Loaded, crate::Error> {
    let previous = match read_input(names_from)? {
        Input::Schema(schema) => schema,
        Input::Introspection(intro) => rebuild(&intro, names_from)?.schema,
    };
    let intro = Introspection::read(path)?;
    rebuild_like(&intro, path, &previous)
}
