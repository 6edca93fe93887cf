//! Token streams as compact source text, for unformatted output.

use std::fmt::Write;

use proc_macro2::{Delimiter, Spacing, TokenStream, TokenTree};

/// Writes `tokens` to `out`, tokens a space apart but where a
/// punctuation mark joins the next (`::`, `'a`). The tokens are consumed
/// as they are written, so none is copied, which printing a stream with
/// `Display` does for every group.
pub(crate) fn write(out: &mut String, tokens: TokenStream) {
    let mut joined = true;
    for token in tokens {
        if !joined {
            out.push(' ');
        }
        joined = false;
        match token {
            TokenTree::Group(group) => {
                let (open, close) = match group.delimiter() {
                    Delimiter::Parenthesis => ("(", ")"),
                    Delimiter::Brace => ("{", "}"),
                    Delimiter::Bracket => ("[", "]"),
                    Delimiter::None => ("", ""),
                };
                out.push_str(open);
                // The group's only other holder is gone: its tokens are
                // taken, not copied.
                let inner = group.stream();
                drop(group);
                write(out, inner);
                out.push_str(close);
            }
            // Writing to a String cannot fail.
            TokenTree::Ident(ident) => {
                let _ = write!(out, "{ident}");
            }
            TokenTree::Punct(punct) => {
                out.push(punct.as_char());
                joined = punct.spacing() == Spacing::Joint;
            }
            TokenTree::Literal(literal) => {
                let _ = write!(out, "{literal}");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use quote::quote;

    fn compact(tokens: proc_macro2::TokenStream) -> String {
        let mut out = String::new();
        super::write(&mut out, tokens);
        out
    }

    #[test]
    fn tokens_are_spaced_unless_joined() {
        let tokens = quote! {
            #[doc = "a \"quoted\" text"]
            pub struct S<'a> { pub r#type: ::std::vec::Vec<&'a str>, x: [u8; 2] }
            fn f() -> i64 { -1 }
        };
        assert_eq!(
            compact(tokens),
            "# [doc = \"a \\\"quoted\\\" text\"] pub struct S < 'a > {pub r#type : :: std :: vec :: Vec < & 'a str > , x : [u8 ; 2]} fn f () -> i64 {- 1}"
        );
    }
}
