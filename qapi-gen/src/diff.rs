//! A minimal unified diff, to show why checked-in bindings are stale.

/// The lines that differ between `old` and `new`, as one unified-diff
/// hunk between their common prefix and suffix (at most 200 lines each
/// side are shown).
pub(crate) fn unified(old: &str, new: &str, name: &str) -> String {
    const CONTEXT: usize = 3;
    const LIMIT: usize = 200;
    let a: Vec<&str> = old.lines().collect();
    let b: Vec<&str> = new.lines().collect();
    let prefix = a.iter().zip(&b).take_while(|(x, y)| x == y).count();
    let suffix = a[prefix..]
        .iter()
        .rev()
        .zip(b[prefix..].iter().rev())
        .take_while(|(x, y)| x == y)
        .count();
    let start = prefix.saturating_sub(CONTEXT);
    let a_end = (a.len() - suffix + CONTEXT).min(a.len());
    let b_end = (b.len() - suffix + CONTEXT).min(b.len());
    let mut out = format!(
        "--- {name}\n+++ {name} (generated)\n@@ -{},{} +{},{} @@\n",
        start + 1,
        a_end - start,
        start + 1,
        b_end - start
    );
    for line in &a[start..prefix] {
        out.push_str(&format!(" {line}\n"));
    }
    let removed = &a[prefix..a.len() - suffix];
    let added = &b[prefix..b.len() - suffix];
    for line in removed.iter().take(LIMIT) {
        out.push_str(&format!("-{line}\n"));
    }
    if removed.len() > LIMIT {
        out.push_str(&format!("-… {} more lines\n", removed.len() - LIMIT));
    }
    for line in added.iter().take(LIMIT) {
        out.push_str(&format!("+{line}\n"));
    }
    if added.len() > LIMIT {
        out.push_str(&format!("+… {} more lines\n", added.len() - LIMIT));
    }
    for line in &a[a.len() - suffix..a_end] {
        out.push_str(&format!(" {line}\n"));
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn one_hunk() {
        let diff = super::unified("a\nb\nc\nd\n", "a\nB\nc\nd\n", "f.rs");
        assert_eq!(
            diff,
            "--- f.rs\n+++ f.rs (generated)\n@@ -1,4 +1,4 @@\n a\n-b\n+B\n c\n d\n"
        );
    }
}
