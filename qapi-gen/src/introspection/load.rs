//! Schemas from introspection: an introspection file read as a schema
//! (with the schema source QEMU was built from, or rebuilt alone), and
//! the two sides of a comparison.

use std::collections::HashMap;
use std::path::Path;

use crate::frontend::doc::DocRules;
use crate::frontend::error::Error;
use crate::introspection::introspect::{looks_like_introspection, Introspection};
use crate::introspection::of_schema::of_schema;
use crate::introspection::{reconstruct, resolve};
use crate::model::load::{load_for_generation, load_with, Loaded};
use crate::model::Schema;

/// A schema read from an introspection.
#[derive(Debug)]
pub struct Introspected {
    /// The schema, checked as any other.
    pub loaded: Loaded,
    /// Where the schema source and the introspection disagree beyond
    /// build conditions (they come from different QEMU versions).
    pub notes: Vec<String>,
}

/// Reads the introspection file at `path` as a schema.
///
/// With the schema `source` QEMU was built from, the result is that
/// source holding exactly what the introspected build exposes (see
/// [`crate::introspection::resolve`]), with its docs and exact types. Without one, it
/// is rebuilt from the introspection alone, with names derived for the
/// masked types (see [`crate::introspection::reconstruct`]).
pub fn load(path: &Path, source: Option<&Path>) -> Result<Introspected, Error> {
    let intro = Introspection::read(path)?;
    match source {
        Some(source) => {
            let loaded = load_for_generation(source)?;
            let (schema, notes) = resolve::resolve(&loaded.schema, &intro);
            Ok(Introspected {
                loaded: Loaded {
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
pub fn rebuild(intro: &Introspection, path: &Path) -> Result<Loaded, Error> {
    rebuild_with(intro, path, &HashMap::new())
}

fn rebuild_with(
    intro: &Introspection,
    path: &Path,
    names: &HashMap<String, String>,
) -> Result<Loaded, Error> {
    let text =
        reconstruct::reconstruct_named(intro, names).map_err(|message| Error::Introspection {
            path: path.to_path_buf(),
            message,
        })?;
    let virtual_path = std::path::PathBuf::from(format!("{} (rebuilt as QAPI)", path.display()));
    let mut loaded = load_with(&virtual_path, DocRules::Lenient, &|p| {
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
    reconstruct::reconstruct(intro)
}

/// Like [`rebuild`], with the type names of `previous` (a schema rebuilt
/// from an earlier introspection, or a schema source) wherever its types
/// pair up with the introspection's: the names stay what they were when
/// the server gains or moves definitions.
pub fn rebuild_like(
    intro: &Introspection,
    path: &Path,
    previous: &Schema,
) -> Result<Loaded, Error> {
    let names = resolve::type_names(previous, intro);
    rebuild_with(intro, path, &names)
}

/// What a file holds: a schema (with its includes) or an introspection.
#[derive(Debug)]
pub enum Input {
    /// A schema, loaded with lenient doc rules and its warnings dropped.
    Schema(Schema),
    /// An introspection.
    Introspection(Introspection),
}

/// Reads a schema file or an introspection file, telling them apart by
/// their first bytes (see [`looks_like_introspection`]).
pub fn read_input(path: &Path) -> Result<Input, Error> {
    let io = |source| Error::Io {
        path: path.to_path_buf(),
        source,
    };
    let mut head = Vec::new();
    let file = std::fs::File::open(path).map_err(io)?;
    std::io::Read::read_to_end(&mut std::io::Read::take(file, 64), &mut head).map_err(io)?;
    if looks_like_introspection(&head) {
        Introspection::read(path).map(Input::Introspection)
    } else {
        load_for_generation(path).map(|loaded| Input::Schema(loaded.schema))
    }
}

/// Two versions of an interface, schema or introspection files, as
/// schemas to compare. Two schemas are compared as they are. Otherwise
/// both sides are taken as introspection (a schema as [`of_schema`]
/// reports it), so that only what the wire shows is compared, and rebuilt
/// with the type names of one side (the schema's, else the old one's)
/// wherever the types pair up (see [`rebuild_like`]): a type is not
/// reported as renamed because its derived name moved.
pub fn load_pair(old: &Path, new: &Path) -> Result<(Schema, Schema), Error> {
    let as_introspection = |input: Input| match input {
        Input::Schema(schema) => of_schema(&schema),
        Input::Introspection(intro) => intro,
    };
    match (read_input(old)?, read_input(new)?) {
        (Input::Schema(a), Input::Schema(b)) => Ok((a, b)),
        // The schema's names, where one side has them.
        (a @ Input::Introspection(_), b @ Input::Schema(_)) => {
            let b = rebuild(&as_introspection(b), new)?.schema;
            let a = rebuild_like(&as_introspection(a), old, &b)?.schema;
            Ok((a, b))
        }
        (a, b) => {
            let a = rebuild(&as_introspection(a), old)?.schema;
            let b = rebuild_like(&as_introspection(b), new, &a)?.schema;
            Ok((a, b))
        }
    }
}

/// The introspection at `path` rebuilt with the type names of
/// `names_from` (a schema, or the introspection bindings were generated
/// from before) wherever their types pair up (see [`rebuild_like`]).
pub fn load_named(path: &Path, names_from: &Path) -> Result<Loaded, Error> {
    let previous = match read_input(names_from)? {
        Input::Schema(schema) => schema,
        Input::Introspection(intro) => rebuild(&intro, names_from)?.schema,
    };
    let intro = Introspection::read(path)?;
    rebuild_like(&intro, path, &previous)
}
