//! A unified diff, to show why checked-in bindings are stale.

/// How many lines of a diff are shown; the rest are counted.
const LIMIT: usize = 400;

/// The lines that differ between `old` and `new` as a unified diff, each
/// change in a hunk of its own with three lines of context (at most
/// [`LIMIT`] lines are shown).
pub(crate) fn unified(old: &str, new: &str, name: &str) -> String {
    let generated = format!("{name} (generated)");
    let diff = similar::TextDiff::from_lines(old, new)
        .unified_diff()
        .context_radius(3)
        .header(name, &generated)
        .to_string();
    let total = diff.lines().count();
    if total <= LIMIT {
        return diff;
    }
    let mut out: String = diff.lines().take(LIMIT).flat_map(|l| [l, "\n"]).collect();
    out.push_str(&format!("… {} more lines of diff\n", total - LIMIT));
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn changes_far_apart_are_hunks_of_their_own() {
        let old: String = (0..40).map(|i| format!("line {i}\n")).collect();
        let new = old
            .replace("line 2\n", "line two\n")
            .replace("line 30\n", "line thirty\n");
        assert_eq!(
            super::unified(&old, &new, "f.rs"),
            "--- f.rs\n+++ f.rs (generated)\n\
             @@ -1,6 +1,6 @@\n line 0\n line 1\n-line 2\n+line two\n line 3\n line 4\n line 5\n\
             @@ -28,7 +28,7 @@\n line 27\n line 28\n line 29\n-line 30\n+line thirty\n line 31\n line 32\n line 33\n"
        );
    }

    #[test]
    fn long_diffs_are_cut() {
        let old: String = (0..1000).map(|i| format!("{i}\n")).collect();
        let diff = super::unified(&old, "", "f.rs");
        assert_eq!(diff.lines().count(), super::LIMIT + 1);
        assert!(diff.ends_with(" more lines of diff\n"), "{diff}");
    }
}
