//! Source files, positions and include chains.

use std::path::{Path, PathBuf};

/// Identifies one file of a loaded schema within its [`SourceMap`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FileId(u32);

/// A position in a schema file: 1-based line and column.
///
/// Columns count characters, with tabs expanded to the next multiple of
/// eight, as QEMU's own generator counts them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Span {
    /// The file.
    pub file: FileId,
    /// 1-based line number.
    pub line: u32,
    /// 1-based column number.
    pub col: u32,
}

/// One file read while loading a schema.
#[derive(Clone, Debug)]
pub struct SourceFile {
    /// The path as it is shown in diagnostics: the root path as given, and
    /// include paths joined onto the directory of their including file.
    pub path: PathBuf,
    /// Where the file was included from; `None` for the root file.
    pub included_from: Option<Span>,
}

/// Every file of a schema, in the order they were first read.
#[derive(Clone, Debug, Default)]
pub struct SourceMap {
    files: Vec<SourceFile>,
}

impl SourceMap {
    /// Registers a file and returns its id.
    pub(crate) fn add(&mut self, path: PathBuf, included_from: Option<Span>) -> FileId {
        let id = FileId(u32::try_from(self.files.len()).expect("fewer than 2^32 schema files"));
        self.files.push(SourceFile {
            path,
            included_from,
        });
        id
    }

    /// The file with the given id.
    pub fn file(&self, id: FileId) -> &SourceFile {
        &self.files[id.0 as usize]
    }

    /// The path of the file with the given id.
    pub fn path(&self, id: FileId) -> &Path {
        &self.file(id).path
    }

    /// All files, root first, in the order they were read.
    pub fn files(&self) -> &[SourceFile] {
        &self.files
    }

    /// The include sites leading to `file`, outermost first.
    pub fn include_chain(&self, file: FileId) -> Vec<Span> {
        let mut chain = Vec::new();
        let mut current = self.file(file).included_from;
        while let Some(site) = current {
            chain.push(site);
            current = self.file(site.file).included_from;
        }
        chain.reverse();
        chain
    }
}
