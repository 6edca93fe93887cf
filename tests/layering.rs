//! The module structure of `qapi-gen` and `qapi-types`, read from their
//! sources: no module of `qapi-gen` imports from a later pipeline stage,
//! and no two modules (files) of either crate import each other, directly
//! or round a longer circle.
//!
//! Imports are the paths a file names: `use crate::…`, `use super::…`,
//! paths written inline (`crate::model::Schema`), and `use child::…` for a
//! module's own submodules, and `::crate_name::…` in generated code. `mod`
//! declarations are not imports; comments, string literals and `$crate`
//! paths (macro expansions) are skipped. A path counts as an import of
//! the deepest module file it names, or, for an item that file re-exports,
//! of the file the item comes from. The crate root (`lib.rs`) wires the
//! modules together and re-exports their items: its own imports are not
//! counted.
//!
//! `cargo test --test layering -- --nocapture` prints the graph between
//! the stages.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use qapi_tests::workspace;

/// `qapi-gen`'s stages, in the order data flows through them: the first
/// component of a module's path inside `src/` (`cli` for `cli.rs`).
const STAGES: [&str; 7] = [
    "frontend",
    "model",
    "rust",
    "introspection",
    "compare",
    "output",
    "cli",
];

/// A crate's module files, by module path (`[]` is the crate root).
struct Crate {
    /// Module path -> file, relative to the crate's `src/`.
    files: BTreeMap<Vec<String>, PathBuf>,
    /// File -> the files it imports from (itself excluded).
    imports: BTreeMap<PathBuf, BTreeSet<PathBuf>>,
}

impl Crate {
    fn read(name: &str) -> Crate {
        let src = workspace().join(name).join("src");
        let mut files = BTreeMap::new();
        collect(&src, &src, &mut files);
        let crate_name = name.replace('-', "_");
        let written: BTreeMap<Vec<String>, Vec<Written>> = files
            .iter()
            .map(|(module, file)| {
                let text = std::fs::read_to_string(src.join(file)).expect("readable");
                (module.clone(), paths(&code_only(&text), &crate_name))
            })
            .collect();
        let mut imports = BTreeMap::new();
        for (module, file) in &files {
            // The crate root only wires the modules together and
            // re-exports their items: it is exempt, so that a module may
            // take an item from the root that the root re-exports.
            if module.is_empty() {
                imports.insert(file.clone(), BTreeSet::new());
                continue;
            }
            let targets = written[module]
                .iter()
                .filter_map(|path| resolve(&files, &written, module, path, 0))
                .filter(|target| target != file)
                .collect();
            imports.insert(file.clone(), targets);
        }
        Crate { files, imports }
    }

    /// Every set of files that import each other (round a circle), each
    /// as the imports between its files, `a.rs -> b.rs`.
    fn cycles(&self) -> Vec<Vec<String>> {
        strongly_connected(&self.imports)
            .into_iter()
            .filter(|component| component.len() > 1)
            .map(|component| {
                let mut edges = Vec::new();
                for from in &component {
                    for to in &self.imports[from] {
                        if component.contains(to) {
                            edges.push(format!("{} -> {}", from.display(), to.display()));
                        }
                    }
                }
                edges
            })
            .collect()
    }
}

/// The module files under `dir`, by module path. `src/bin` holds binaries,
/// not modules.
fn collect(root: &Path, dir: &Path, out: &mut BTreeMap<Vec<String>, PathBuf>) {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("a directory")
        .map(|e| e.expect("readable").path())
        .collect();
    entries.sort();
    for path in entries {
        let relative = path.strip_prefix(root).expect("inside").to_path_buf();
        if path.is_dir() {
            if relative != Path::new("bin") {
                collect(root, &path, out);
            }
            continue;
        }
        if path.extension().is_none_or(|e| e != "rs") {
            continue;
        }
        let mut module: Vec<String> = relative
            .with_extension("")
            .components()
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .collect();
        if matches!(module.last().map(String::as_str), Some("lib" | "mod")) {
            module.pop();
        }
        out.insert(module, relative);
    }
}

/// The source with comments and the contents of string and character
/// literals blanked out (lengths kept).
fn code_only(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    let blank = |out: &mut String, from: usize, to: usize| {
        out.extend(std::iter::repeat_n(' ', to - from));
    };
    while i < bytes.len() {
        let rest = &text[i..];
        if rest.starts_with("//") {
            let end = rest.find('\n').map_or(bytes.len(), |n| i + n);
            blank(&mut out, i, end);
            i = end;
        } else if rest.starts_with("/*") {
            let mut depth = 0;
            let mut j = i;
            while j < bytes.len() {
                if text[j..].starts_with("/*") {
                    depth += 1;
                    j += 2;
                } else if text[j..].starts_with("*/") {
                    depth -= 1;
                    j += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    j += 1;
                }
            }
            blank(&mut out, i, j);
            i = j;
        } else if let Some(hashes) = raw_string_start(rest) {
            let open = 2 + hashes; // `r`, the hashes, `"`
            let close = format!("\"{}", "#".repeat(hashes));
            let end = text[i + open..]
                .find(&close)
                .map_or(bytes.len(), |n| i + open + n + close.len());
            blank(&mut out, i, end);
            i = end;
        } else if bytes[i] == b'"' {
            let mut j = i + 1;
            while j < bytes.len() && bytes[j] != b'"' {
                j += if bytes[j] == b'\\' { 2 } else { 1 };
            }
            let end = (j + 1).min(bytes.len());
            blank(&mut out, i, end);
            i = end;
        } else if bytes[i] == b'\'' {
            // A character literal, or a lifetime (left as it is).
            let end = if let Some(escaped) = rest.strip_prefix("'\\") {
                // The escaped character, then up to the closing quote.
                escaped
                    .get(1..)
                    .and_then(|e| e.find('\''))
                    .map(|n| i + 3 + n + 1)
            } else {
                rest.char_indices()
                    .nth(2)
                    .filter(|&(_, c)| c == '\'')
                    .map(|(n, _)| i + n + 1)
            };
            match end {
                Some(end) => {
                    blank(&mut out, i, end);
                    i = end;
                }
                None => {
                    out.push('\'');
                    i += 1;
                }
            }
        } else {
            let c = rest.chars().next().expect("not at the end");
            out.push(c);
            i += c.len_utf8();
        }
    }
    out
}

/// How many `#` a raw string literal starting here has (`r"`, `br#"`).
fn raw_string_start(rest: &str) -> Option<usize> {
    let after = rest.strip_prefix('b').unwrap_or(rest).strip_prefix('r')?;
    let hashes = after.len() - after.trim_start_matches('#').len();
    after[hashes..].starts_with('"').then_some(hashes)
}

/// A path as written: where it starts, and its segments.
#[derive(Debug)]
struct Written {
    /// `crate`, or how many `super`s (counted from the enclosing file
    /// module: inline modules already subtracted), or a relative path.
    base: Base,
    segments: Vec<String>,
    /// Written in a `use` item: a name the file's module now holds.
    is_use: bool,
}

#[derive(Debug, PartialEq)]
enum Base {
    Crate,
    Super(usize),
    /// `use name::…` (a submodule of the file's module, if one is named).
    Relative,
}

fn is_ident(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_'
}

/// Every path of `code` that may name a module of the crate; `name` is
/// the crate's own name (generated code names it as `::name::…`).
fn paths(code: &str, name: &str) -> Vec<Written> {
    let absolute = format!("::{name}::");
    let bytes = code.as_bytes();
    let mut out = Vec::new();
    // Brace depths at which inline modules (`mod tests {`) opened.
    let mut inline_modules: Vec<usize> = Vec::new();
    let mut depth = 0usize;
    let mut i = 0;
    while i < bytes.len() {
        let at_word = i == 0 || !(is_ident(bytes[i - 1]) || bytes[i - 1] == b'$');
        let rest = &code[i..];
        match bytes[i] {
            b'{' => {
                depth += 1;
                i += 1;
                continue;
            }
            b'}' => {
                if inline_modules.last() == Some(&depth) {
                    inline_modules.pop();
                }
                depth = depth.saturating_sub(1);
                i += 1;
                continue;
            }
            _ => {}
        }
        if at_word && rest.starts_with("mod ") {
            let name_end = rest[4..]
                .find(|c: char| !(c.is_alphanumeric() || c == '_' || c == ' '))
                .map_or(rest.len(), |n| n + 4);
            if rest[name_end..].starts_with('{') {
                inline_modules.push(depth + 1);
            }
            i += 4;
            continue;
        }
        let is_use = at_word && rest.starts_with("use ");
        let start = if is_use { i + 4 } else { i };
        let path_text = code[start..].trim_start();
        let path_start = code.len() - path_text.len();
        let (base, after) = if at_word && path_text.starts_with("crate::") {
            (Base::Crate, path_start + "crate::".len())
        } else if path_text.starts_with(&absolute) && (i == 0 || !is_ident(bytes[i - 1])) {
            (Base::Crate, path_start + absolute.len())
        } else if at_word && path_text.starts_with("super::") {
            let mut n = 0usize;
            let mut j = path_start;
            while code[j..].starts_with("super::") {
                n += 1;
                j += "super::".len();
            }
            (Base::Super(n.saturating_sub(inline_modules.len())), j)
        } else if is_use && !path_text.starts_with("std::") && !path_text.starts_with("self::") {
            (Base::Relative, path_start)
        } else {
            i += 1;
            continue;
        };
        let mut trees = Vec::new();
        let end = use_tree(code, after, Vec::new(), &mut trees);
        for segments in trees {
            out.push(Written {
                base: match base {
                    Base::Crate => Base::Crate,
                    Base::Super(n) => Base::Super(n),
                    Base::Relative => Base::Relative,
                },
                segments,
                is_use,
            });
        }
        i = end.max(i + 1);
    }
    out
}

/// Reads the use tree at `at` (`a::b`, `a::{b, c::d}`, `a::*`), adding
/// each leaf path (after `prefix`) to `out`; returns where it ends.
fn use_tree(code: &str, mut at: usize, prefix: Vec<String>, out: &mut Vec<Vec<String>>) -> usize {
    let bytes = code.as_bytes();
    let skip_space = |mut at: usize| {
        while at < bytes.len() && bytes[at].is_ascii_whitespace() {
            at += 1;
        }
        at
    };
    let mut segments = prefix;
    loop {
        at = skip_space(at);
        if at < bytes.len() && bytes[at] == b'{' {
            at += 1;
            loop {
                at = skip_space(at);
                if at >= bytes.len() {
                    return at;
                }
                if bytes[at] == b'}' {
                    return at + 1;
                }
                if bytes[at] == b',' {
                    at += 1;
                    continue;
                }
                let before = at;
                at = use_tree(code, at, segments.clone(), out);
                if at == before {
                    at += 1;
                }
            }
        }
        let word_end = (at..bytes.len())
            .find(|&j| !is_ident(bytes[j]))
            .unwrap_or(bytes.len());
        if word_end > at {
            segments.push(code[at..word_end].to_string());
        }
        if code[word_end..].starts_with("::") {
            at = word_end + 2;
        } else {
            out.push(segments);
            return word_end;
        }
    }
}

/// The file of the deepest module `path` names, from the module `from`;
/// an item that module re-exports (`pub use`) is followed to the module
/// defining it.
fn resolve(
    files: &BTreeMap<Vec<String>, PathBuf>,
    written: &BTreeMap<Vec<String>, Vec<Written>>,
    from: &[String],
    path: &Written,
    hops: usize,
) -> Option<PathBuf> {
    let mut module: Vec<String> = match path.base {
        Base::Crate => Vec::new(),
        Base::Super(n) => from[..from.len().checked_sub(n)?].to_vec(),
        Base::Relative => {
            let mut child = from.to_vec();
            child.push(path.segments.first()?.clone());
            if !files.contains_key(&child) {
                return None;
            }
            from.to_vec()
        }
    };
    let mut item = None;
    for segment in &path.segments {
        let segment = if segment == "self" { continue } else { segment };
        module.push(segment.clone());
        if !files.contains_key(&module) {
            module.pop();
            item = Some(segment);
            break;
        }
    }
    let reexport = item.and_then(|item| {
        written
            .get(&module)?
            .iter()
            .find(|w| w.is_use && w.segments.last() == Some(item) && w.segments.len() > 1)
    });
    match reexport {
        Some(reexport) if hops < 8 => resolve(files, written, &module, reexport, hops + 1),
        _ => files.get(&module).cloned(),
    }
}

/// Tarjan's strongly connected components of the import graph.
fn strongly_connected(graph: &BTreeMap<PathBuf, BTreeSet<PathBuf>>) -> Vec<Vec<PathBuf>> {
    struct State<'g> {
        graph: &'g BTreeMap<PathBuf, BTreeSet<PathBuf>>,
        index: BTreeMap<&'g PathBuf, usize>,
        low: BTreeMap<&'g PathBuf, usize>,
        stack: Vec<&'g PathBuf>,
        on_stack: BTreeSet<&'g PathBuf>,
        out: Vec<Vec<PathBuf>>,
    }
    fn visit<'g>(s: &mut State<'g>, node: &'g PathBuf) {
        let n = s.index.len();
        s.index.insert(node, n);
        s.low.insert(node, n);
        s.stack.push(node);
        s.on_stack.insert(node);
        for next in s.graph.get(node).into_iter().flatten() {
            if !s.index.contains_key(next) {
                visit(s, next);
                let low = s.low[node].min(s.low[next]);
                s.low.insert(node, low);
            } else if s.on_stack.contains(next) {
                let low = s.low[node].min(s.index[next]);
                s.low.insert(node, low);
            }
        }
        if s.low[node] == s.index[node] {
            let mut component = Vec::new();
            while let Some(top) = s.stack.pop() {
                s.on_stack.remove(top);
                component.push(top.clone());
                if top == node {
                    break;
                }
            }
            component.sort();
            s.out.push(component);
        }
    }
    let mut state = State {
        graph,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on_stack: BTreeSet::new(),
        out: Vec::new(),
    };
    for node in graph.keys() {
        if !state.index.contains_key(node) {
            visit(&mut state, node);
        }
    }
    state.out
}

/// The stage of a `qapi-gen` file (its index in [`STAGES`]); `None` for
/// `lib.rs`, which wires the stages together and re-exports them.
fn stage(file: &Path) -> Option<usize> {
    let first = file.components().next()?.as_os_str().to_string_lossy();
    let name = first.strip_suffix(".rs").unwrap_or(&first);
    let found = STAGES.iter().position(|s| *s == name);
    assert!(
        found.is_some() || name == "lib",
        "{} is in no stage: add its folder to STAGES",
        file.display()
    );
    found
}

#[test]
fn the_path_reader_sees_every_form_of_import() {
    let code = code_only(
        "use crate::a::{b, c::{d, e}};\n\
         // use crate::commented::out;\n\
         let s = \"crate::in_a_string\";\n\
         let c = '{';\n\
         let q = '\\'';\n\
         fn f<'a>(x: &'a str) { crate::f::g(x); $crate::macro_path::h(); }\n\
         use super::sibling::Item;\n\
         use child::Thing;\n\
         mod tests { use super::*; }\n\
         let x = ::me::generated::Type;\n",
    );
    let written: Vec<(Base, Vec<String>)> = paths(&code, "me")
        .into_iter()
        .map(|w| (w.base, w.segments))
        .collect();
    let expected = [
        (Base::Crate, vec!["a", "b"]),
        (Base::Crate, vec!["a", "c", "d"]),
        (Base::Crate, vec!["a", "c", "e"]),
        (Base::Crate, vec!["f", "g"]),
        (Base::Super(1), vec!["sibling", "Item"]),
        (Base::Relative, vec!["child", "Thing"]),
        (Base::Super(0), vec![]),
        (Base::Crate, vec!["generated", "Type"]),
    ];
    let expected: Vec<(Base, Vec<String>)> = expected
        .into_iter()
        .map(|(base, s)| (base, s.into_iter().map(String::from).collect()))
        .collect();
    assert_eq!(written, expected);
}

#[test]
fn qapi_gen_imports_only_from_its_own_stage_or_earlier() {
    let krate = Crate::read("qapi-gen");
    assert!(krate.files.len() > 20, "{} modules", krate.files.len());
    let mut backwards = Vec::new();
    // (from stage, to stage) -> how many file imports.
    let mut between: BTreeMap<(usize, usize), usize> = BTreeMap::new();
    for (file, targets) in &krate.imports {
        let Some(from) = stage(file) else { continue };
        for target in targets {
            let Some(to) = stage(target) else {
                backwards.push(format!(
                    "{} imports lib.rs: import from the defining module instead",
                    file.display()
                ));
                continue;
            };
            *between.entry((from, to)).or_default() += 1;
            if to > from {
                backwards.push(format!(
                    "{} ({}) imports {} ({}), a later stage",
                    file.display(),
                    STAGES[from],
                    target.display(),
                    STAGES[to]
                ));
            }
        }
    }
    println!("qapi-gen stages, in order: {}", STAGES.join(" < "));
    println!("imports between stages (files importing -> files imported):");
    for ((from, to), count) in &between {
        if from != to {
            println!("  {:<13} -> {:<13} {count}", STAGES[*from], STAGES[*to]);
        }
    }
    assert!(backwards.is_empty(), "{}", backwards.join("\n"));
}

#[test]
fn no_two_qapi_gen_modules_import_each_other() {
    let cycles = Crate::read("qapi-gen").cycles();
    assert!(cycles.is_empty(), "import cycles: {cycles:#?}");
}

#[test]
fn no_two_qapi_types_modules_import_each_other() {
    let cycles = Crate::read("qapi-types").cycles();
    assert!(cycles.is_empty(), "import cycles: {cycles:#?}");
}

#[test]
fn a_cycle_is_found() {
    let graph: BTreeMap<PathBuf, BTreeSet<PathBuf>> = [
        ("a.rs", &["b.rs"][..]),
        ("b.rs", &["c.rs"]),
        ("c.rs", &["a.rs"]),
        ("d.rs", &["a.rs"]),
    ]
    .into_iter()
    .map(|(from, to)| (from.into(), to.iter().map(PathBuf::from).collect()))
    .collect();
    let cycles: Vec<Vec<PathBuf>> = strongly_connected(&graph)
        .into_iter()
        .filter(|c| c.len() > 1)
        .collect();
    assert_eq!(
        cycles,
        [vec![
            PathBuf::from("a.rs"),
            PathBuf::from("b.rs"),
            PathBuf::from("c.rs")
        ]]
    );
}
