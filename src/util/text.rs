//! The one rule for text a server or a scanner supplies that reaches a
//! person or a CI log: finding titles, paths, error pages.
//!
//! Such text is shown on one line, and every character that could change
//! what the line looks like is shown as a visible escape instead: CR, LF
//! and TAB as `\r`, `\n`, `\t`; the other C0 controls, DEL and the C1
//! controls, the bidirectional controls, the line and paragraph separators
//! and the zero-width characters as `\uXXXX`. So a finding titled
//! `ok\n::error::pwned` cannot start a line of a CI log (GitHub Actions
//! runs a line starting with `::` as a workflow command), and a title with
//! U+202E cannot show a reviewer something other than what it holds
//! (Trojan Source). (The Markdown summary turns line breaks into spaces
//! instead; the rest it escapes the same.) Titles are also cut at [`TITLE_CHARS`] characters, with
//! their full length said, so one huge title cannot flood a log or push
//! GitHub's step summary over its 1024 KiB limit.

use std::fmt::Write;

/// The most characters of a finding's title shown on stderr, in a log line
/// or in the Markdown summary (SARIF and JUnit have their own bounds).
pub const TITLE_CHARS: usize = 200;

/// What a finding without a usable title (missing, empty, blank) is shown as.
pub const UNTITLED: &str = "(untitled finding)";

/// Characters that are invisible or reorder what is around them: the
/// bidirectional controls (U+061C, U+200E/F, U+202A–E, U+2066–9), the line
/// and paragraph separators (U+2028/9), and the zero-width characters
/// (U+200B–D, U+2060–4, U+FEFF).
pub fn is_hidden(c: char) -> bool {
    // Most text is below the first of them: one comparison.
    if c < '\u{061C}' {
        return false;
    }
    matches!(
        c,
        '\u{061C}'
            | '\u{200B}'..='\u{200F}'
            | '\u{2028}'..='\u{202E}'
            | '\u{2060}'..='\u{2064}'
            | '\u{2066}'..='\u{2069}'
            | '\u{FEFF}'
    )
}

/// Writes `c` as the visible escape of [`one_line`], if it needs one.
fn escape(out: &mut String, c: char, keep: &[char]) -> bool {
    if keep.contains(&c) {
        return false;
    }
    match c {
        '\n' => out.push_str("\\n"),
        '\r' => out.push_str("\\r"),
        '\t' => out.push_str("\\t"),
        c if c.is_control() || is_hidden(c) => {
            // Every such character is in the Basic Multilingual Plane.
            let _ = write!(out, "\\u{:04X}", c as u32);
        }
        _ => return false,
    }
    true
}

/// `text` with every character of the rule escaped except those in `keep`
/// (the caller's own layout: the line breaks of a multi-line message).
pub fn escaped_except(text: &str, keep: &[char]) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if !escape(&mut out, c, keep) {
            out.push(c);
        }
    }
    out
}

/// `text` as one line, every character of the rule escaped.
pub fn one_line(text: &str) -> String {
    escaped_except(text, &[])
}

/// `text` cut to at most `max` of its characters: a longer text ends with
/// `… (N characters)`, N its full length.
pub fn cut(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        None => text.to_string(),
        Some((end, _)) => format!("{}… ({} characters)", &text[..end], text.chars().count()),
    }
}

/// A finding's title as a person is shown it, before the escaping of the
/// place it goes to ([`one_line`] on stderr, the Markdown summary's own):
/// trimmed, cut at [`TITLE_CHARS`], and [`UNTITLED`] when it has none that
/// shows.
pub fn title(title: &str) -> String {
    if title
        .chars()
        .all(|c| c.is_whitespace() || c.is_control() || is_hidden(c))
    {
        return UNTITLED.to_string();
    }
    cut(title.trim(), TITLE_CHARS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_breaks_controls_and_bidi_are_shown_escaped() {
        assert_eq!(
            one_line("ok\n::error title=x::y\r\n\t\u{1b}[31m\u{7f}\u{9b}"),
            "ok\\n::error title=x::y\\r\\n\\t\\u001B[31m\\u007F\\u009B"
        );
        assert_eq!(
            one_line("a\u{202E}b\u{2028}c\u{2029}d\u{200B}e\u{2066}f\u{FEFF}\0"),
            "a\\u202Eb\\u2028c\\u2029d\\u200Be\\u2066f\\uFEFF\\u0000"
        );
        assert_eq!(one_line("Grüße, 世界 ✓"), "Grüße, 世界 ✓");
        assert_eq!(escaped_except("a\nb\tc\rd", &['\n', '\t']), "a\nb\tc\\rd");
    }

    #[test]
    fn long_titles_are_cut_with_their_length_and_blank_ones_named() {
        let long = "é".repeat(1_000_000);
        let shown = one_line(&title(&long));
        let tail = "… (1000000 characters)";
        assert_eq!(shown.chars().count(), TITLE_CHARS + tail.chars().count());
        assert!(shown.ends_with("é… (1000000 characters)"), "{shown}");
        assert_eq!(title("exactly"), "exactly");
        for blank in ["", "  ", "\u{200B}", " \u{202E} "] {
            assert_eq!(title(blank), UNTITLED);
        }
        assert_eq!(title(" \nx\r\n"), "x");
        assert_eq!(title("\0"), UNTITLED);
        assert_eq!(cut("abcdef", 3), "abc… (6 characters)");
        assert_eq!(cut("abc", 3), "abc");
    }
}
