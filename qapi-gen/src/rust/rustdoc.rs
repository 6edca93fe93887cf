//! QAPI doc comments (a dialect of reStructuredText) as rustdoc Markdown.
//!
//! Every example and literal block is fenced (` ```text `), so no doc
//! comment becomes a doctest; `@name` becomes an intra-doc link where the
//! name is a definition of the schema; characters rustdoc would read as
//! links or HTML are escaped; no line outside a fence is indented far
//! enough to become a code block. Whatever the conversion lets through,
//! [`code_as_text`] finds as Markdown reads it, and tags `text`.

/// Resolves a QAPI name to an intra-doc link target, if it has one.
pub(crate) type Resolver<'a> = dyn Fn(&str) -> Option<String> + 'a;

/// Converts one doc section's text to Markdown lines. `indented` sections
/// (member descriptions, tagged sections) indent every line after the
/// first; that indentation is removed.
pub(crate) fn markdown(text: &str, indented: bool, resolve: &Resolver<'_>) -> Vec<String> {
    let lines: Vec<&str> = text.lines().collect();
    let lines = if indented {
        dedent_continuation(&lines)
    } else {
        lines.iter().map(|l| l.trim_end().to_string()).collect()
    };
    let mut out = Vec::new();
    convert(&lines, resolve, &mut out);
    while out.last().is_some_and(|l| l.is_empty()) {
        out.pop();
    }
    out
}

fn indent(line: &str) -> usize {
    line.len() - line.trim_start().len()
}

/// Removes the indentation that continuation lines share (member and
/// tagged sections indent every line after the first).
fn dedent_continuation(lines: &[&str]) -> Vec<String> {
    // A section whose text starts on the line after its tag is indented
    // throughout (a single such line included).
    let first_indent = lines.first().map_or(0, |l| indent(l));
    let common = lines
        .iter()
        .skip(1)
        .filter(|l| !l.trim().is_empty())
        .map(|l| indent(l))
        .min()
        .unwrap_or(first_indent);
    let strip = if first_indent == 0 {
        common
    } else {
        common.min(first_indent)
    };
    lines
        .iter()
        .enumerate()
        .map(|(i, l)| {
            if l.trim().is_empty() || (i == 0 && first_indent == 0) {
                l.trim_end().to_string()
            } else {
                l[strip.min(indent(l))..].trim_end().to_string()
            }
        })
        .collect()
}

/// Removes the indentation all non-blank lines share.
fn dedent(lines: &[String]) -> Vec<String> {
    let common = lines
        .iter()
        .filter(|l| !l.trim().is_empty())
        .map(|l| indent(l))
        .min()
        .unwrap_or(0);
    lines
        .iter()
        .map(|l| {
            if l.trim().is_empty() {
                String::new()
            } else {
                l[common..].to_string()
            }
        })
        .collect()
}

/// The lines of an indented block starting at `start`: blank lines and
/// lines indented deeper than `base`, trailing blank lines excluded.
fn block_end(lines: &[String], start: usize, base: usize) -> usize {
    let mut end = start;
    let mut last_text = start;
    while end < lines.len() {
        let line = &lines[end];
        if !line.trim().is_empty() {
            if indent(line) <= base {
                break;
            }
            last_text = end + 1;
        }
        end += 1;
    }
    last_text
}

fn fence(out: &mut Vec<String>, lang: &str, lines: &[String]) {
    let body = dedent(lines);
    let body: Vec<&String> = {
        let start = body
            .iter()
            .position(|l| !l.is_empty())
            .unwrap_or(body.len());
        let end = body
            .iter()
            .rposition(|l| !l.is_empty())
            .map_or(start, |e| e + 1);
        body[start..end].iter().collect()
    };
    if body.is_empty() {
        return;
    }
    blank(out);
    out.push(format!("```{lang}"));
    out.extend(body.into_iter().map(|l| l.replace("```", "` ` `")));
    out.push("```".to_string());
    out.push(String::new());
}

fn blank(out: &mut Vec<String>) {
    if out.last().is_some_and(|l| !l.is_empty()) {
        out.push(String::new());
    }
}

fn convert(lines: &[String], resolve: &Resolver<'_>, out: &mut Vec<String>) {
    let mut i = 0;
    while i < lines.len() {
        let line = &lines[i];
        let trimmed = line.trim_start();
        let base = indent(line);
        if let Some(rest) = trimmed.strip_prefix(".. ") {
            if let Some((directive, argument)) = rest.split_once("::") {
                let end = block_end(lines, i + 1, base);
                directive_block(
                    directive.trim(),
                    argument.trim(),
                    &lines[i + 1..end],
                    resolve,
                    out,
                );
                i = end;
                continue;
            }
            // An rST comment: skip it and its block.
            i = block_end(lines, i + 1, base);
            continue;
        }
        if trimmed.ends_with("::") {
            let text = trimmed.trim_end_matches("::").trim_end();
            if !text.is_empty() {
                out.push(inline(&format!("{text}:"), resolve));
            }
            let end = block_end(lines, i + 1, base);
            fence(out, "text", &lines[i + 1..end]);
            i = end;
            continue;
        }
        if trimmed.is_empty() {
            blank(out);
        } else {
            // Four spaces at the start of a paragraph would make a code
            // block; within a paragraph, indentation is only continuation.
            let starts_paragraph = out.last().is_none_or(|l| l.is_empty());
            let kept = if starts_paragraph { base.min(3) } else { base };
            out.push(format!("{}{}", " ".repeat(kept), inline(trimmed, resolve)));
        }
        i += 1;
    }
}

fn directive_block(
    directive: &str,
    argument: &str,
    block: &[String],
    resolve: &Resolver<'_>,
    out: &mut Vec<String>,
) {
    let block = dedent(block);
    let options: Vec<&String> = block.iter().take_while(|l| l.starts_with(':')).collect();
    let content = &block[options.len()..];
    let option = |name: &str| {
        options.iter().find_map(|o| {
            o.strip_prefix(':')
                .and_then(|o| o.strip_prefix(name))
                .and_then(|o| o.strip_prefix(':'))
                .map(|v| v.trim().to_string())
        })
    };
    match directive {
        "qmp-example" => {
            let title = option("title")
                .filter(|t| !t.is_empty())
                .unwrap_or_else(|| "Example".to_string());
            blank(out);
            out.push(format!(
                "**{}**",
                inline(title.trim_end_matches(':'), resolve)
            ));
            if option("annotated").is_some() {
                blank(out);
                convert(content, resolve, out);
            } else {
                fence(out, "text", content);
            }
        }
        "code-block" | "code" | "parsed-literal" => {
            let lang = if argument == "json" { "json" } else { "text" };
            fence(out, lang, content);
        }
        _ => {
            let title = match directive {
                "admonition" => argument.to_string(),
                other => {
                    let mut chars = other.chars();
                    chars.next().map_or(String::new(), |c| {
                        c.to_uppercase().collect::<String>() + chars.as_str()
                    })
                }
            };
            blank(out);
            let mut body = Vec::new();
            if directive != "admonition" && !argument.is_empty() {
                body.push(argument.to_string());
            }
            body.extend(content.iter().cloned());
            let mut inner = Vec::new();
            convert(&body, resolve, &mut inner);
            let mut first = true;
            for line in inner {
                if first {
                    out.push(
                        format!("> **{}:** {line}", inline(&title, resolve))
                            .trim_end()
                            .to_string(),
                    );
                    first = false;
                } else if line.is_empty() {
                    out.push(">".to_string());
                } else {
                    out.push(format!("> {line}"));
                }
            }
            out.push(String::new());
        }
    }
}

/// Inline markup: ``` ``code`` ``` and `` `text` `` as code, `@name` as a
/// link or code, `:role:` prefixes dropped, Markdown-sensitive characters
/// escaped, bare URLs wrapped.
fn inline(text: &str, resolve: &Resolver<'_>) -> String {
    let mut out = String::with_capacity(text.len() + 8);
    let mut rest = text;
    while let Some(c) = rest.chars().next() {
        if let Some(after) = rest.strip_prefix("``") {
            if let Some(end) = after.find("``") {
                code(&mut out, &after[..end]);
                rest = &after[end + 2..];
                continue;
            }
        }
        if c == ':' {
            // An interpreted-text role such as :ref:`x`.
            if let Some(role_end) = rest[1..].find(":`") {
                let role = &rest[1..1 + role_end];
                if !role.is_empty()
                    && role
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b':' || b == b'-')
                {
                    rest = &rest[1 + role_end + 1..];
                    continue;
                }
            }
        }
        if c == '`' {
            if let Some(end) = rest[1..].find('`') {
                let inner = rest[1..1 + end].trim_end_matches('_');
                code(&mut out, inner);
                rest = &rest[2 + end..];
                rest = rest.strip_prefix('_').unwrap_or(rest);
                continue;
            }
        }
        if c == '@' {
            let name_len = rest[1..]
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.'))
                .unwrap_or(rest.len() - 1);
            let name = rest[1..1 + name_len].trim_end_matches(['.', '-']);
            if !name.is_empty() {
                match resolve(name) {
                    Some(path) if path == name => out.push_str(&format!("[`{name}`]")),
                    Some(path) => out.push_str(&format!("[`{name}`]({path})")),
                    None => code(&mut out, name),
                }
                rest = &rest[1 + name.len()..];
                continue;
            }
        }
        // An rST standalone link, `<https://...>`: already an autolink.
        if let Some(url) = rest
            .strip_prefix('<')
            .filter(|r| r.starts_with("https://") || r.starts_with("http://"))
        {
            if let Some(end) = url
                .find('>')
                .filter(|&end| !url[..end].contains(char::is_whitespace))
            {
                out.push_str(&rest[..end + 2]);
                rest = &rest[end + 2..];
                continue;
            }
        }
        if rest.starts_with("https://") || rest.starts_with("http://") {
            let end = rest
                .find(|c: char| c.is_whitespace() || c == '>' || c == ')' || c == '`')
                .unwrap_or(rest.len());
            let url = rest[..end].trim_end_matches(['.', ',', ';']);
            out.push('<');
            out.push_str(url);
            out.push('>');
            rest = &rest[url.len()..];
            continue;
        }
        match c {
            '[' | ']' | '<' | '>' | '#' | '|' | '\\' => {
                out.push('\\');
                out.push(c);
            }
            _ => out.push(c),
        }
        rest = &rest[c.len_utf8()..];
    }
    out
}

fn code(out: &mut String, text: &str) {
    let ticks = if text.contains('`') { "`` " } else { "`" };
    let close = if text.contains('`') { " ``" } else { "`" };
    out.push_str(ticks);
    out.push_str(text);
    out.push_str(close);
}

/// Doc lines (a line may hold several, split at `\n`) with every code
/// block that Markdown reads in them tagged `text`, so that rustdoc runs
/// none as a doctest, whatever the schema's doc comment holds: a fence
/// without a language (or any language but `text` and `json`) is retagged
/// `text`, an indented block is fenced as `text`. The blocks are found by
/// pulldown-cmark, the parser rustdoc uses, as prost-build does for
/// Protobuf comments. `None` when the lines cannot hold a code block
/// (no fence characters, no four spaces or tab): they are as they were,
/// unparsed.
pub(crate) fn code_as_text(lines: &[String]) -> Option<Vec<String>> {
    let may_hold_code = |l: &String| {
        l.contains("```") || l.contains("~~~") || l.contains("    ") || l.contains('\t')
    };
    if !lines.iter().any(may_hold_code) {
        return None;
    }
    let lines: Vec<String> = lines
        .iter()
        .flat_map(|line| line.split('\n'))
        .map(str::to_string)
        .collect();
    // As rustdoc reads them: without the indentation all lines share.
    let mut lines = dedent(&lines);
    // Fencing an indented block inside other containers (quotes, lists)
    // can leave another block to fence: a few rounds, then the whole doc
    // as one block of text.
    for _ in 0..4 {
        match code_edits(&lines) {
            Some(edits) if edits.is_empty() => return Some(lines),
            Some(edits) => {
                for edit in edits.into_iter().rev() {
                    edit.apply(&mut lines);
                }
            }
            None => break,
        }
    }
    Some(whole_as_text(&lines))
}

/// A change that makes one code block text.
enum CodeEdit {
    /// Replace the fence's info string (the line's bytes from `info`) with
    /// `text`.
    Retag { line: usize, info: usize },
    /// Fence lines `first..=last` as `text`; `prefix` is what precedes
    /// the block on its first line (quote markers, list indentation),
    /// less the block's own indentation.
    Fence {
        first: usize,
        last: usize,
        prefix: String,
    },
}

impl CodeEdit {
    fn apply(self, lines: &mut Vec<String>) {
        match self {
            CodeEdit::Retag { line, info } => {
                lines[line].truncate(info);
                lines[line].push_str("text");
            }
            CodeEdit::Fence {
                first,
                last,
                prefix,
            } => {
                if prefix.is_empty() {
                    // At the top level the block's indentation is not
                    // the text's.
                    for line in &mut lines[first..=last] {
                        let strip = if line.starts_with('\t') {
                            1
                        } else {
                            line.len() - line.trim_start_matches(' ').len()
                        };
                        line.drain(..strip.min(4));
                    }
                }
                lines.insert(last + 1, format!("{prefix}```"));
                lines.insert(first, format!("{prefix}```text"));
            }
        }
    }
}

/// The edits that make every code block of `lines` text, in order; an
/// empty list when there is none to make; `None` when a block is not
/// where the parser says (then the caller fences the whole).
fn code_edits(lines: &[String]) -> Option<Vec<CodeEdit>> {
    use pulldown_cmark::{CodeBlockKind, Event, Parser, Tag};
    let text = lines.join("\n");
    let mut starts = Vec::with_capacity(lines.len());
    let mut offset = 0;
    for line in lines {
        starts.push(offset);
        offset += line.len() + 1;
    }
    let line_of = |offset: usize| starts.partition_point(|&start| start <= offset) - 1;
    let mut edits = Vec::new();
    for (event, range) in Parser::new(&text).into_offset_iter() {
        let Event::Start(Tag::CodeBlock(kind)) = event else {
            continue;
        };
        let first = line_of(range.start);
        let column = range.start - starts[first];
        match kind {
            CodeBlockKind::Fenced(info) if matches!(info.trim(), "text" | "json") => {}
            CodeBlockKind::Fenced(_) => {
                let line = &lines[first];
                let fence = line.get(column..)?.find(['`', '~'])? + column;
                let mark = line[fence..].chars().next()?;
                let info =
                    fence + line[fence..].len() - line[fence..].trim_start_matches(mark).len();
                edits.push(CodeEdit::Retag { line: first, info });
            }
            CodeBlockKind::Indented => {
                let last = line_of(range.end.max(range.start + 1) - 1);
                let before = lines[first].get(..column)?;
                // Less the block's indentation: a tab, or up to four spaces.
                let prefix = match before.strip_suffix('\t') {
                    Some(prefix) => prefix,
                    None => {
                        let spaces = before.len() - before.trim_end_matches(' ').len();
                        &before[..before.len() - spaces.min(4)]
                    }
                };
                edits.push(CodeEdit::Fence {
                    first,
                    last,
                    prefix: prefix.to_string(),
                });
            }
        }
    }
    Some(edits)
}

/// The lines as one fenced block of text, its fence longer than any run
/// of backticks in them, so that none closes it.
fn whole_as_text(lines: &[String]) -> Vec<String> {
    let longest = lines
        .iter()
        .flat_map(|line| line.split(|c| c != '`'))
        .map(str::len)
        .max()
        .unwrap_or(0);
    let fence = "`".repeat(longest.max(2) + 1);
    let mut out = Vec::with_capacity(lines.len() + 2);
    out.push(format!("{fence}text"));
    out.extend(lines.iter().cloned());
    out.push(fence);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn md(text: &str) -> String {
        let resolve = |name: &str| (name == "VolumeInfo").then(|| "VolumeInfo".to_string());
        markdown(text, false, &resolve).join("\n")
    }

    #[test]
    fn inline_markup() {
        assert_eq!(
            md("See @VolumeInfo and @name."),
            "See [`VolumeInfo`] and `name`."
        );
        assert_eq!(md("``literal`` and *emphasis*"), "`literal` and *emphasis*");
        assert_eq!(md("a [range] <tag> #1"), "a \\[range\\] \\<tag\\> \\#1");
        assert_eq!(md("see https://qemu.org."), "see <https://qemu.org>.");
        assert_eq!(md("see <http://zlib.net/>"), "see <http://zlib.net/>");
        assert_eq!(md("a :ref:`target` role"), "a `target` role");
    }

    #[test]
    fn continuation_lines_are_dedented() {
        let resolve = |_: &str| None;
        let text = "first line\n    second line\n\n    Literal::\n\n        code";
        assert_eq!(
            markdown(text, true, &resolve).join("\n"),
            "first line\nsecond line\n\nLiteral:\n\n```text\ncode\n```"
        );
    }

    #[test]
    fn examples_are_fenced() {
        let text = "Intro.\n\n.. qmp-example::\n\n    -> { \"execute\": \"x\" }\n    <- { \"return\": {} }";
        assert_eq!(
            md(text),
            "Intro.\n\n**Example**\n\n```text\n-> { \"execute\": \"x\" }\n<- { \"return\": {} }\n```"
        );
    }

    #[test]
    fn literal_blocks_are_fenced() {
        assert_eq!(
            md("Like this::\n\n    $ echo foo"),
            "Like this:\n\n```text\n$ echo foo\n```"
        );
    }

    #[test]
    fn notes_are_quotes() {
        assert_eq!(
            md(".. note:: Careful.\n   More."),
            "> **Note:** Careful.\n> More."
        );
    }

    fn safe(text: &str) -> String {
        let lines: Vec<String> = text.lines().map(str::to_string).collect();
        code_as_text(&lines).unwrap_or(lines).join("\n")
    }

    /// Every code block Markdown finds in `text`, with its info string.
    fn code_blocks(text: &str) -> Vec<String> {
        use pulldown_cmark::{CodeBlockKind, Event, Parser, Tag};
        Parser::new(text)
            .filter_map(|event| match event {
                Event::Start(Tag::CodeBlock(CodeBlockKind::Fenced(info))) => Some(info.to_string()),
                Event::Start(Tag::CodeBlock(CodeBlockKind::Indented)) => Some(String::new()),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn untagged_fences_become_text() {
        assert_eq!(
            safe("Run:\n\n```\nfn main() { panic!() }\n```"),
            "Run:\n\n```text\nfn main() { panic!() }\n```"
        );
        assert_eq!(safe("~~~~ rust,ignore\nx\n~~~~"), "~~~~text\nx\n~~~~");
        assert_eq!(safe("```json\n{}\n```"), "```json\n{}\n```");
    }

    #[test]
    fn indented_blocks_are_fenced_as_text() {
        assert_eq!(
            safe("Para.\n\n    fn main() {}\n      nested\n\nAfter."),
            "Para.\n\n```text\nfn main() {}\n  nested\n```\n\nAfter."
        );
        assert_eq!(
            safe("> Note.\n>\n>     code\n>     more"),
            "> Note.\n>\n> ```text\n>     code\n>     more\n> ```"
        );
        assert_eq!(safe("Tab:\n\n\tcode"), "Tab:\n\n```text\ncode\n```");
    }

    #[test]
    fn no_code_block_is_left_that_rustdoc_would_run() {
        for text in [
            "```\nfn main() {}\n```",
            "- item\n\n      code\n      more",
            "- item\n  > q\n  >\n  >     code",
            "-     first line code",
            "```\nunclosed",
            "> ```\n> quoted fence\n> ```",
            "1. a\n\n   ```rust\n   x\n   ```",
            "    ````\n    ```\n    ````",
        ] {
            let safe = safe(text);
            for info in code_blocks(&safe) {
                assert!(info == "text" || info == "json", "{text:?} became {safe:?}");
            }
        }
    }

    #[test]
    fn lines_without_code_are_returned_as_they_are() {
        assert_eq!(safe("  two spaces\n\n   three"), "  two spaces\n\n   three");
    }
}
