//! Conditions (`'if'`): the builds in which a definition exists.

use std::fmt;

/// A condition on a definition, member, value, branch or feature: the
/// definition exists only in builds where it holds.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Cond {
    /// A configuration symbol, such as `CONFIG_LINUX`.
    Name(String),
    /// All conditions hold.
    All(Vec<Cond>),
    /// At least one condition holds.
    Any(Vec<Cond>),
    /// The condition does not hold.
    Not(Box<Cond>),
}

/// Prints the condition as text, operands that are themselves `all` or
/// `any` in parentheses: `CONFIG_A and (CONFIG_B or not CONFIG_C)`,
/// `not (CONFIG_A and CONFIG_B)`. The alternate form (`{:#}`) puts each
/// symbol in backticks, for Markdown: `` `CONFIG_A` and not `CONFIG_B` ``.
impl fmt::Display for Cond {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        /// An operand, in parentheses unless it binds tighter than `and`
        /// and `or`.
        fn operand(cond: &Cond, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            match cond {
                Cond::Name(_) | Cond::Not(_) => fmt::Display::fmt(cond, f),
                Cond::All(_) | Cond::Any(_) => {
                    f.write_str("(")?;
                    fmt::Display::fmt(cond, f)?;
                    f.write_str(")")
                }
            }
        }
        match self {
            Cond::Name(name) if f.alternate() => write!(f, "`{name}`"),
            Cond::Name(name) => f.write_str(name),
            Cond::Not(inner) => {
                f.write_str("not ")?;
                operand(inner, f)
            }
            Cond::All(operands) | Cond::Any(operands) => {
                let joiner = if matches!(self, Cond::All(_)) {
                    " and "
                } else {
                    " or "
                };
                for (i, cond) in operands.iter().enumerate() {
                    if i > 0 {
                        f.write_str(joiner)?;
                    }
                    operand(cond, f)?;
                }
                Ok(())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn name(s: &str) -> Cond {
        Cond::Name(s.to_string())
    }

    #[test]
    fn negated_groups_are_parenthesised() {
        let all = Cond::All(vec![name("A"), name("B")]);
        assert_eq!(
            Cond::Not(Box::new(all.clone())).to_string(),
            "not (A and B)"
        );
        let nested = Cond::Any(vec![all, Cond::Not(Box::new(name("C")))]);
        assert_eq!(nested.to_string(), "(A and B) or not C");
        assert_eq!(format!("{nested:#}"), "(`A` and `B`) or not `C`");
    }
}
