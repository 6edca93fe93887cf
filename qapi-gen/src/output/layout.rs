//! The generated macro invocations (`object!`, `enumeration!`) laid out
//! as a reviewer would write them, one member a line: prettyplease cannot
//! lay out a macro's body, and wraps it as running text.
//!
//! Formatting puts a placeholder item in each invocation's place
//! ([`Macros::hold`]), has prettyplease format the rest, and then writes
//! each invocation where its placeholder is ([`Macros::restore`]).

use proc_macro2::{Delimiter, Spacing, TokenStream, TokenTree};
use quote::ToTokens;

/// The name of the placeholder macro, which nothing defines.
const PLACEHOLDER: &str = "__qapi_laid_out";

/// The invocations held out of the formatted items, in order.
#[derive(Default)]
pub(crate) struct Macros {
    held: Vec<syn::ItemMacro>,
}

impl Macros {
    /// `item`, or a placeholder for it when it is an invocation of
    /// `qapi_types::object!` or `qapi_types::enumeration!`, which is then
    /// held.
    pub(crate) fn hold(&mut self, item: syn::Item) -> syn::Item {
        let syn::Item::Macro(mac) = item else {
            return item;
        };
        let segments = &mac.mac.path.segments;
        let ours = segments.len() == 2
            && segments[0].ident == "qapi_types"
            && (segments[1].ident == "object" || segments[1].ident == "enumeration");
        if !ours {
            return syn::Item::Macro(mac);
        }
        let placeholder = syn::Ident::new(PLACEHOLDER, proc_macro2::Span::call_site());
        let index = proc_macro2::Literal::usize_unsuffixed(self.held.len());
        self.held.push(mac);
        syn::parse_quote!(#placeholder!(#index);)
    }

    /// `source` (formatted) with each placeholder replaced by its
    /// invocation, laid out at the placeholder's indentation.
    pub(crate) fn restore(&self, source: &str) -> String {
        let mut out = String::with_capacity(source.len() + source.len() / 8);
        let prefix = format!("{PLACEHOLDER}!(");
        for line in source.lines() {
            let trimmed = line.trim_start();
            let held = trimmed
                .strip_prefix(&prefix)
                .and_then(|rest| rest.strip_suffix(");"))
                .and_then(|index| index.parse::<usize>().ok())
                .and_then(|index| self.held.get(index));
            match held {
                Some(mac) => {
                    let indent = &line[..line.len() - trimmed.len()];
                    lay_out(mac, indent, &mut out);
                }
                None => {
                    out.push_str(line);
                    out.push('\n');
                }
            }
        }
        out
    }
}

/// The bindings' `SCHEMA` static laid out one entry a line, without being
/// parsed: it is most of the tokens, all of them in one expression.
pub(crate) fn table(tokens: TokenStream) -> String {
    let mut out = String::new();
    item(tokens, "", &mut out);
    out
}

/// Writes an invocation: `path! {`, its body laid out a level deeper,
/// `}`.
fn lay_out(mac: &syn::ItemMacro, indent: &str, out: &mut String) {
    out.push_str(indent);
    inline(mac.mac.path.to_token_stream(), out);
    out.push_str("! {\n");
    block(mac.mac.tokens.clone(), &format!("{indent}    "), out);
    out.push_str(indent);
    out.push_str("}\n");
}

/// Writes the content of a brace-delimited body at `indent`: a list's
/// entries (separated by commas, no braces) one a line, each with its
/// comma; else each
/// `head { ... }` on lines of its own, its braces' content a level deeper
/// and what follows the braces (`else Unrecognized`) after the closing
/// one.
fn block(tokens: TokenStream, indent: &str, out: &mut String) {
    let tokens: Vec<TokenTree> = tokens.into_iter().collect();
    let comma = |t: &TokenTree| matches!(t, TokenTree::Punct(p) if p.as_char() == ',');
    let braces =
        |t: &TokenTree| matches!(t, TokenTree::Group(g) if g.delimiter() == Delimiter::Brace);
    // A list: entries without braces of their own.
    if tokens.iter().any(comma) || !tokens.iter().any(braces) {
        for entry in tokens.split(comma).filter(|entry| !entry.is_empty()) {
            out.push_str(indent);
            inline(entry.iter().cloned().collect(), out);
            out.push_str(",\n");
        }
        return;
    }
    let mut rest = &tokens[..];
    while !rest.is_empty() {
        let brace = rest.iter().position(braces);
        let Some(brace) = brace else {
            // Tokens without braces after them: a line of their own.
            out.push_str(indent);
            inline(rest.iter().cloned().collect(), out);
            out.push('\n');
            return;
        };
        let TokenTree::Group(group) = &rest[brace] else {
            return;
        };
        out.push_str(indent);
        inline(rest[..brace].iter().cloned().collect(), out);
        if group.stream().is_empty() {
            out.push_str(" {}");
        } else {
            out.push_str(" {\n");
            block(group.stream(), &format!("{indent}    "), out);
            out.push_str(indent);
            out.push('}');
        }
        rest = &rest[brace + 1..];
        // What follows the braces up to the next braces' head stays on
        // the closing line when no braces follow it.
        if !rest.iter().any(braces) && !rest.is_empty() {
            out.push(' ');
            inline(rest.iter().cloned().collect(), out);
            rest = &[];
        }
        out.push('\n');
    }
}

/// Writes tokens on one line as rustfmt would: `name = "wire" =>
/// with_name(::std::vec::Vec<Tag>)`.
fn inline(tokens: TokenStream, out: &mut String) {
    // Whether the next word needs a space before it.
    let mut space = false;
    // Whether the previous token was a word (an opening parenthesis
    // then calls it).
    let mut word = false;
    // Whether the previous token was a name a `::` continues (not a
    // keyword such as `use`, nor punctuation such as `: ::std`).
    let mut path = false;
    let mut tokens = tokens.into_iter().peekable();
    while let Some(token) = tokens.next() {
        match token {
            TokenTree::Ident(ident) => {
                if space {
                    out.push(' ');
                }
                let text = ident.to_string();
                path = !matches!(
                    text.as_str(),
                    "use" | "pub" | "static" | "as" | "in" | "const"
                );
                out.push_str(&text);
                (space, word) = (true, true);
            }
            TokenTree::Literal(literal) => {
                if space {
                    out.push(' ');
                }
                out.push_str(&literal.to_string());
                (space, word) = (true, true);
            }
            TokenTree::Group(group) => {
                let (open, close) = match group.delimiter() {
                    Delimiter::Parenthesis => ("(", ")"),
                    Delimiter::Bracket => ("[", "]"),
                    Delimiter::Brace => (" { ", " }"),
                    Delimiter::None => ("", ""),
                };
                if space && !(word && group.delimiter() != Delimiter::Brace) {
                    out.push(' ');
                }
                out.push_str(open);
                inline(group.stream(), out);
                out.push_str(close);
                (space, word) = (true, false);
            }
            TokenTree::Punct(punct) => {
                let mut op = punct.as_char().to_string();
                let mut spacing = punct.spacing();
                while spacing == Spacing::Joint {
                    match tokens.peek() {
                        Some(TokenTree::Punct(next)) => {
                            op.push(next.as_char());
                            spacing = next.spacing();
                            tokens.next();
                        }
                        _ => break,
                    }
                }
                match op.as_str() {
                    "::" if space && !path => {
                        out.push_str(" ::");
                        space = false;
                    }
                    "::" | "<" | "." => {
                        out.push_str(&op);
                        space = false;
                    }
                    ">" => {
                        out.push('>');
                        space = true;
                    }
                    "," | ";" | ":" => {
                        out.push_str(&op);
                        space = true;
                    }
                    "&" | "#" | "'" => {
                        if space {
                            out.push(' ');
                        }
                        out.push_str(&op);
                        space = false;
                    }
                    _ => {
                        out.push(' ');
                        out.push_str(&op);
                        space = true;
                    }
                }
                word = false;
                path = false;
            }
        }
    }
}

/// Writes an item (the bindings' table): doc attributes as `///` lines,
/// other attributes a line each, then the item with [`expression`]'s
/// layout.
fn item(tokens: TokenStream, indent: &str, out: &mut String) {
    let mut tokens: Vec<TokenTree> = tokens.into_iter().collect();
    let mut start = 0;
    while let [TokenTree::Punct(hash), TokenTree::Group(attr), ..] = &tokens[start..] {
        if hash.as_char() != '#' || attr.delimiter() != Delimiter::Bracket {
            break;
        }
        out.push_str(indent);
        let doc = syn::parse2::<syn::MetaNameValue>(attr.stream())
            .ok()
            .filter(|meta| meta.path.is_ident("doc"))
            .and_then(|meta| match meta.value {
                syn::Expr::Lit(syn::ExprLit {
                    lit: syn::Lit::Str(text),
                    ..
                }) => Some(text.value()),
                _ => None,
            });
        match doc {
            Some(text) => {
                out.push_str("///");
                out.push_str(&text);
            }
            None => {
                out.push('#');
                inline(TokenTree::Group(attr.clone()).into(), out);
            }
        }
        out.push('\n');
        start += 2;
    }
    let rest: TokenStream = tokens.drain(start..).collect();
    out.push_str(indent);
    expression(rest, indent, out);
    out.push('\n');
}

/// Writes tokens on a line as [`inline`] does, but for their non-empty
/// braces and brackets, whose entries (or statements) go a line each a
/// level deeper: `&[` / `M::new("name", R::STR),` / `]`.
fn expression(tokens: TokenStream, indent: &str, out: &mut String) {
    let mut run = TokenStream::new();
    let mut tokens = tokens.into_iter().peekable();
    while let Some(token) = tokens.next() {
        let group = match token {
            TokenTree::Group(group)
                if matches!(group.delimiter(), Delimiter::Brace | Delimiter::Bracket)
                    && !group.stream().is_empty()
                    && !run_ends_with_hash(&run) =>
            {
                group
            }
            TokenTree::Group(group) if group.delimiter() == Delimiter::Parenthesis => {
                flush(&mut run, out);
                // A call: its arguments on this line, their lists laid out.
                out.push('(');
                expression(group.stream(), indent, out);
                out.push(')');
                continue;
            }
            other => {
                run.extend([other]);
                continue;
            }
        };
        let after_path = run_ends_with_path(&run);
        flush(&mut run, out);
        let (open, close) = match group.delimiter() {
            Delimiter::Bracket => ("[", "]"),
            _ if after_path || out.ends_with('&') => ("{", "}"),
            _ => (" {", "}"),
        };
        out.push_str(open);
        out.push('\n');
        let inner = format!("{indent}    ");
        entries(group.stream(), &inner, out);
        out.push_str(indent);
        out.push_str(close);
        // What follows a list on its line: a comma, another argument.
        if let Some(TokenTree::Punct(p)) = tokens.peek() {
            if p.as_char() == ',' {
                out.push(',');
                tokens.next();
                if tokens.peek().is_some() {
                    out.push(' ');
                }
            }
        }
    }
    flush(&mut run, out);
}

/// Writes a list's entries, or a block's statements, a line each with
/// the comma or semicolon that ends it; an attribute on a line of its
/// own.
fn entries(tokens: TokenStream, indent: &str, out: &mut String) {
    let mut entry = TokenStream::new();
    let mut tokens = tokens.into_iter().peekable();
    while let Some(token) = tokens.next() {
        match token {
            TokenTree::Punct(p) if matches!(p.as_char(), ',' | ';') => {
                out.push_str(indent);
                expression(std::mem::take(&mut entry), indent, out);
                out.push(p.as_char());
                out.push('\n');
            }
            TokenTree::Punct(p) if p.as_char() == '#' && entry.is_empty() => {
                if let Some(TokenTree::Group(attr)) = tokens.next() {
                    out.push_str(indent);
                    out.push('#');
                    inline(TokenTree::Group(attr).into(), out);
                    out.push('\n');
                }
            }
            other => entry.extend([other]),
        }
    }
    if !entry.is_empty() {
        out.push_str(indent);
        expression(entry, indent, out);
        out.push('\n');
    }
}

/// Writes the tokens gathered so far with [`inline`], spaced from what
/// precedes them on the line.
fn flush(run: &mut TokenStream, out: &mut String) {
    if run.is_empty() {
        return;
    }
    let starts_with_word = matches!(
        run.clone().into_iter().next(),
        Some(TokenTree::Ident(_) | TokenTree::Literal(_))
    );
    if starts_with_word && !(out.ends_with(['(', ' ', '\n', '&', ':', '!']) || out.is_empty()) {
        out.push(' ');
    }
    inline(std::mem::take(run), out);
}

/// Whether the gathered tokens end with `#` (an attribute's brackets
/// follow).
fn run_ends_with_hash(run: &TokenStream) -> bool {
    matches!(run.clone().into_iter().last(), Some(TokenTree::Punct(p)) if p.as_char() == '#')
}

/// Whether the gathered tokens end with `::` (a `use` group follows).
fn run_ends_with_path(run: &TokenStream) -> bool {
    matches!(run.clone().into_iter().last(), Some(TokenTree::Punct(p)) if p.as_char() == ':')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn laid_out(item: syn::Item) -> String {
        let mut macros = Macros::default();
        let placeholder = macros.hold(item);
        let file = syn::File {
            shebang: None,
            frontmatter: None,
            attrs: Vec::new(),
            items: vec![placeholder],
        };
        macros.restore(&prettyplease::unparse(&file))
    }

    #[test]
    fn object_members_are_one_a_line() {
        let item = syn::parse_quote! {
            ::qapi_types::object! {
                Volume {
                    required { name = "name", r#type = "type" }
                    optional { tags = "tags" => with_tags(::std::vec::Vec<Tag>) }
                    flatten { driver }
                }
            }
        };
        assert_eq!(
            laid_out(item),
            "::qapi_types::object! {\n    Volume {\n        required {\n            name = \"name\",\n            \
             r#type = \"type\",\n        }\n        optional {\n            \
             tags = \"tags\" => with_tags(::std::vec::Vec<Tag>),\n        }\n        flatten {\n            \
             driver,\n        }\n    }\n}\n"
        );
    }

    #[test]
    fn enumeration_values_are_one_a_line() {
        let item = syn::parse_quote! {
            ::qapi_types::enumeration! { Mode { Fast = "fast", Slow = "slow" } else Unrecognized }
        };
        assert_eq!(
            laid_out(item),
            "::qapi_types::enumeration! {\n    Mode {\n        Fast = \"fast\",\n        Slow = \"slow\",\n    } else Unrecognized\n}\n"
        );
    }

    #[test]
    fn other_items_are_left_to_prettyplease() {
        let mut macros = Macros::default();
        let item: syn::Item = syn::parse_quote!(other::object! { A });
        assert!(
            matches!(macros.hold(item), syn::Item::Macro(m) if m.mac.path.segments[0].ident == "other")
        );
        assert!(macros.held.is_empty());
    }

    #[test]
    fn the_table_is_one_entry_a_line() {
        let mut out = String::new();
        item(
            quote::quote! {
                #[doc = " The table."]
                pub static SCHEMA: ::t::Table = {
                    #[allow(unused_imports)]
                    use ::t::{Member as M, TypeRef as R,};
                    Table { types: &[T::structure("A", &[M::new("x", R::Array(&R::STR)).optional(),]),], }
                };
            },
            "",
            &mut out,
        );
        assert_eq!(
            out,
            "/// The table.\npub static SCHEMA: ::t::Table = {\n    #[allow(unused_imports)]\n    \
             use ::t::{\n        Member as M,\n        TypeRef as R,\n    };\n    Table {\n        \
             types: &[\n            T::structure(\"A\", &[\n                \
             M::new(\"x\", R::Array(&R::STR)).optional(),\n            ]),\n        ],\n    }\n};\n"
        );
    }
}
