//! QAPI doc comments (a dialect of reStructuredText) as rustdoc Markdown.
//!
//! Every example and literal block is fenced (` ```text `), so no doc
//! comment becomes a doctest; `@name` becomes an intra-doc link where the
//! name is a definition of the schema; characters rustdoc would read as
//! links or HTML are escaped; no line outside a fence is indented far
//! enough to become a code block.

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
}
