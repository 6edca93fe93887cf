//! QAPI's naming rules: valid names, case conventions and reserved names.

/// Why a name was rejected.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum NameError {
    /// Not of the form `[__RFQDN_][x-]letter[letters, digits, '-', '_']`,
    /// or in the reserved `q_` namespace.
    Invalid,
    /// A lowercase letter or `-` where only uppercase is allowed (events).
    Lowercase,
    /// An uppercase letter or `_` where only lowercase is allowed.
    Uppercase,
    /// Not CamelCase (types).
    NotCamel,
}

/// The C name QEMU derives for clash detection: every character other than
/// a letter, digit or `_` becomes `_`. (QEMU also prefixes C keywords with
/// `q_`, which maps equal names to equal names and so changes no clash.)
pub fn c_name(name: &str) -> std::borrow::Cow<'_, str> {
    if name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
        return std::borrow::Cow::Borrowed(name);
    }
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect::<String>()
        .into()
}

/// Whether the C name of `name` starts with `prefix` followed by `_`
/// (`q_`, `has_`), without building the C name.
fn c_name_starts_with(name: &str, prefix: &str) -> bool {
    name.strip_prefix(prefix)
        .and_then(|rest| rest.chars().next())
        .is_some_and(|c| !c.is_ascii_alphanumeric())
}

/// Member names QEMU reserves for its generated C: `u`, `has_*`/`has-*`.
pub(crate) fn is_reserved_member(name: &str) -> bool {
    name == "u" || c_name_starts_with(name, "has")
}

/// The stem of a valid name: the name without its downstream `__RFQDN_`
/// prefix and its `x-` prefix.
pub(crate) fn stem(name: &str) -> Result<&str, NameError> {
    let rest = match name.strip_prefix("__") {
        Some(rest) => {
            let end = rest.find('_').ok_or(NameError::Invalid)?;
            let domain = &rest[..end];
            if domain.is_empty()
                || !domain
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-')
            {
                return Err(NameError::Invalid);
            }
            &rest[end + 1..]
        }
        None => name,
    };
    let is_stem = |s: &str| {
        let mut bytes = s.bytes();
        bytes.next().is_some_and(|b| b.is_ascii_alphabetic())
            && bytes.all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    };
    let stem = match rest.get(..2) {
        Some(x) if x.eq_ignore_ascii_case("x-") && is_stem(&rest[2..]) => &rest[2..],
        _ if is_stem(rest) => rest,
        _ => return Err(NameError::Invalid),
    };
    if c_name_starts_with(name, "q") {
        return Err(NameError::Invalid);
    }
    Ok(stem)
}

/// An event name: uppercase and `_`.
pub(crate) fn check_upper(name: &str) -> Result<(), NameError> {
    let stem = stem(name)?;
    if stem.bytes().any(|b| b.is_ascii_lowercase() || b == b'-') {
        return Err(NameError::Lowercase);
    }
    Ok(())
}

/// A command, member or enum value name: lowercase and `-`, unless an
/// exception pragma permits uppercase and `_`.
pub(crate) fn check_lower(name: &str, permissive: bool) -> Result<(), NameError> {
    let stem = stem(name)?;
    if !permissive && stem.bytes().any(|b| b.is_ascii_uppercase() || b == b'_') {
        return Err(NameError::Uppercase);
    }
    Ok(())
}

/// A command name: like [`check_lower`], but only `_` can be excepted.
pub(crate) fn check_command(name: &str, permit_underscore: bool) -> Result<(), NameError> {
    let stem = stem(name)?;
    if stem.bytes().any(|b| b.is_ascii_uppercase()) || (!permit_underscore && stem.contains('_')) {
        return Err(NameError::Uppercase);
    }
    Ok(())
}

/// A type name: CamelCase, at least one lowercase letter after the first.
pub(crate) fn check_camel(name: &str) -> Result<(), NameError> {
    let stem = stem(name)?;
    let bytes = stem.as_bytes();
    let camel = bytes[0].is_ascii_uppercase()
        && bytes.iter().all(|b| b.is_ascii_alphanumeric())
        && bytes[1..].iter().any(|b| b.is_ascii_lowercase());
    if !camel {
        return Err(NameError::NotCamel);
    }
    Ok(())
}

/// The message QEMU prints for a rejected name; `source` says whose name.
pub(crate) fn message(error: NameError, source: &dyn std::fmt::Display) -> String {
    match error {
        NameError::Invalid => format!("{source} has an invalid name"),
        NameError::Lowercase => format!("name of {source} must not use lowercase or '-'"),
        NameError::Uppercase => format!("name of {source} must not use uppercase or '_'"),
        NameError::NotCamel => format!("name of {source} must use CamelCase"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stems() {
        assert_eq!(stem("foo-bar"), Ok("foo-bar"));
        assert_eq!(stem("x-foo"), Ok("foo"));
        assert_eq!(stem("X-foo"), Ok("foo"));
        assert_eq!(stem("x-1"), Ok("x-1"));
        assert_eq!(stem("__org.qemu_x-Enum"), Ok("Enum"));
        assert_eq!(stem("__com.redhat_drive-mirror"), Ok("drive-mirror"));
        assert_eq!(stem("__org_foo"), Ok("foo"));
        assert_eq!(stem("__.x_foo"), Ok("foo"));
        assert_eq!(stem("___foo"), Err(NameError::Invalid));
        assert_eq!(stem("__org"), Err(NameError::Invalid));
        assert_eq!(stem("__o!g_foo"), Err(NameError::Invalid));
        assert_eq!(stem("1abc"), Err(NameError::Invalid));
        assert_eq!(stem(""), Err(NameError::Invalid));
        assert_eq!(stem("a b"), Err(NameError::Invalid));
        assert_eq!(stem("q_foo"), Err(NameError::Invalid));
        assert_eq!(stem("q-foo"), Err(NameError::Invalid));
        assert_eq!(stem("Q_foo"), Ok("Q_foo"));
    }

    #[test]
    fn cases() {
        assert_eq!(check_upper("BLOCK_JOB_COMPLETED"), Ok(()));
        assert_eq!(check_upper("Block"), Err(NameError::Lowercase));
        assert_eq!(check_lower("query-foo", false), Ok(()));
        assert_eq!(check_lower("query_foo", false), Err(NameError::Uppercase));
        assert_eq!(check_lower("queryFoo", true), Ok(()));
        assert_eq!(check_command("qmp_capabilities", true), Ok(()));
        assert_eq!(
            check_command("qmp_capabilities", false),
            Err(NameError::Uppercase)
        );
        assert_eq!(check_command("Qmp", true), Err(NameError::Uppercase));
        assert_eq!(check_camel("BlockdevOptions"), Ok(()));
        assert_eq!(check_camel("QType"), Ok(()));
        assert_eq!(check_camel("ABC"), Err(NameError::NotCamel));
        assert_eq!(check_camel("Foo_bar"), Err(NameError::NotCamel));
        assert_eq!(check_camel("fooBar"), Err(NameError::NotCamel));
    }

    #[test]
    fn c_names() {
        assert_eq!(c_name("a-b.c_d"), "a_b_c_d");
        assert_eq!(c_name("plain_name"), "plain_name");
        assert!(is_reserved_member("u"));
        assert!(is_reserved_member("has-foo"));
        assert!(is_reserved_member("has_foo"));
        assert!(!is_reserved_member("hash"));
        assert!(!is_reserved_member("has"));
    }
}
