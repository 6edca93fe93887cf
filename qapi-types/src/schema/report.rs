//! What [`check`](super::check) finds: each [`Mismatch`] and the
//! [`SchemaReport`] that keeps them.

use std::fmt;

use super::table::Condition;

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
    pub(super) fn sends(&self) -> bool {
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
    /// The schema's condition on what the bindings have there (its own,
    /// else the nearest on the way to it), if any: a server built without
    /// it lacks it rightly.
    pub condition: Option<Condition>,
}

impl Mismatch {
    /// Whether using what it affects can fail with this server: anything
    /// but a missing event, a conditional definition, or what cannot be
    /// checked.
    pub fn is_incompatible(&self) -> bool {
        self.condition.is_none()
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
        if let Some(condition) = &self.condition {
            write!(f, " (conditional in the schema: {condition})")?;
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

/// The result of [`check`](super::check()).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SchemaReport {
    mismatches: Vec<Mismatch>,
    pub(super) server_only: ServerOnly,
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
    pub(super) fn push(&mut self, mismatch: Mismatch) {
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
