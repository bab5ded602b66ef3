//! Scanner file paths as SARIF artifact URIs.
//!
//! GitHub resolves a relative URI against the repository (through
//! `%SRCROOT%`) and rejects an empty one, so paths are normalised lexically
//! (no file system access: the scanned tree is usually not on this machine)
//! and percent-encoded. Windows paths count as paths: scanners on Windows
//! runners report `C:\work\x.py`.

use std::borrow::Cow;

use crate::http::url::{percent_encode_into, push_escape};

/// A path split into its parts: a drive (`C`), whether it is absolute, and
/// its segments with `.` dropped and `..` resolved where possible.
#[derive(Debug, PartialEq, Eq)]
struct Norm<'a> {
    drive: Option<u8>,
    absolute: bool,
    segments: Vec<&'a str>,
}

impl<'a> Norm<'a> {
    /// `path` must already use `/` as its separator.
    fn parse(path: &'a str) -> Norm<'a> {
        let b = path.as_bytes();
        let has_drive = b.len() >= 2
            && b[0].is_ascii_alphabetic()
            && b[1] == b':'
            && (b.len() == 2 || b[2] == b'/');
        let (drive, rest) = if has_drive {
            (Some(b[0].to_ascii_uppercase()), &path[2..])
        } else {
            (None, path)
        };
        let absolute = has_drive || rest.starts_with('/');
        let mut segments: Vec<&str> = Vec::new();
        for seg in rest.split('/') {
            match seg {
                "" | "." => {}
                ".." => match segments.last() {
                    Some(&last) if last != ".." => {
                        segments.pop();
                    }
                    // Above the root is the root; above a relative start
                    // is kept, GitHub may still resolve it.
                    _ if !absolute => segments.push(".."),
                    _ => {}
                },
                _ => segments.push(seg),
            }
        }
        Norm {
            drive,
            absolute,
            segments,
        }
    }
}

/// A `file:///` URI of an absolute path, with `suffix` appended.
fn file_uri<S: AsRef<str>>(drive: Option<u8>, segments: &[S], suffix: &str) -> String {
    let mut out = String::from("file:///");
    if let Some(d) = drive {
        // RFC 8089 keeps the drive's colon as is.
        out.push(char::from(d));
        out.push_str(":/");
    }
    push_segments(&mut out, segments);
    out.push_str(suffix);
    out
}

/// The repository root that absolute paths are made relative to.
#[derive(Debug)]
pub(super) struct Root {
    drive: Option<u8>,
    segments: Vec<String>,
}

impl Root {
    /// `None` unless `root` is absolute (a relative root cannot be a
    /// `file:///` base, and nothing can be relative to it).
    pub(super) fn parse(root: &str) -> Option<Root> {
        let root = slashes(root);
        let norm = Norm::parse(&root);
        norm.absolute.then(|| Root {
            drive: norm.drive,
            segments: norm.segments.iter().map(|s| s.to_string()).collect(),
        })
    }

    /// `%SRCROOT%`'s URI: `file:///…/` (SARIF wants the trailing slash).
    pub(super) fn base_uri(&self) -> String {
        let suffix = if self.segments.is_empty() { "" } else { "/" };
        file_uri(self.drive, &self.segments, suffix)
    }
}

/// Where a finding's file is, for `artifactLocation`.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Artifact {
    /// Relative to `%SRCROOT%`, encoded.
    InRoot(String),
    /// An absolute `file:///` URI outside the root.
    Absolute(String),
}

/// `path` as an artifact URI; `None` when nothing is left of it (empty,
/// `.`, or the root itself) or when a relative path climbs out of the root
/// (`../x`): resolved against `%SRCROOT%` it would name a file outside the
/// repository, so the finding is shown like one without a file.
pub(super) fn artifact(path: &str, root: Option<&Root>) -> Option<Artifact> {
    let path = slashes(path);
    let norm = Norm::parse(&path);
    if !norm.absolute {
        return in_root(&norm.segments);
    }
    if let Some(rest) = root.and_then(|r| under(&norm, r)) {
        return in_root(rest);
    }
    Some(Artifact::Absolute(file_uri(norm.drive, &norm.segments, "")))
}

fn in_root(segments: &[&str]) -> Option<Artifact> {
    // `Norm` keeps `..` only at the start of a relative path.
    if segments.first().is_none_or(|s| *s == "..") {
        return None;
    }
    let mut out = String::new();
    push_segments(&mut out, segments);
    Some(Artifact::InRoot(out))
}

/// The segments of `path` below `root`, if it is below it.
fn under<'p>(path: &'p Norm<'_>, root: &Root) -> Option<&'p [&'p str]> {
    let n = root.segments.len();
    let below = path.drive == root.drive
        && path.segments.len() >= n
        && path
            .segments
            .iter()
            .zip(&root.segments)
            .all(|(p, r)| p == r);
    below.then(|| &path.segments[n..])
}

fn slashes(path: &str) -> Cow<'_, str> {
    if path.contains('\\') {
        Cow::Owned(path.replace('\\', "/"))
    } else {
        Cow::Borrowed(path)
    }
}

fn push_segments<S: AsRef<str>>(out: &mut String, segments: &[S]) {
    for (i, seg) in segments.iter().enumerate() {
        if i > 0 {
            out.push('/');
        }
        percent_encode_into(out, seg.as_ref());
    }
}

/// A URL as the scanner or DefectDojo wrote it, made a valid URI: bytes
/// that no URI may hold (spaces, non-ASCII, controls, a `%` that starts no
/// escape) are encoded, everything else is kept, so a valid URL is unchanged.
pub(super) fn clean_url(url: &str) -> Cow<'_, str> {
    let b = url.as_bytes();
    let ok = |i: usize| {
        let c = b[i];
        c.is_ascii_alphanumeric()
            || b"-._~:/?#[]@!$&'()*+,;=".contains(&c)
            || (c == b'%'
                && b.get(i + 1).is_some_and(u8::is_ascii_hexdigit)
                && b.get(i + 2).is_some_and(u8::is_ascii_hexdigit))
    };
    if (0..b.len()).all(ok) {
        return Cow::Borrowed(url);
    }
    let mut out = String::with_capacity(b.len() + 16);
    for (i, &c) in b.iter().enumerate() {
        if ok(i) {
            out.push(char::from(c));
        } else {
            push_escape(&mut out, c);
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rel(s: &str) -> Option<Artifact> {
        Some(Artifact::InRoot(s.to_string()))
    }
    fn abs(s: &str) -> Option<Artifact> {
        Some(Artifact::Absolute(s.to_string()))
    }

    #[test]
    fn paths_without_a_root() {
        let table: &[(&str, Option<Artifact>)] = &[
            ("src/main.rs", rel("src/main.rs")),
            ("./a", rel("a")),
            ("a/./b", rel("a/b")),
            ("a/../b", rel("b")),
            ("a/b/../../c", rel("c")),
            ("a//b/", rel("a/b")),
            // Out of the repository: no artifact.
            ("../up.py", None),
            ("..\\up.py", None),
            ("a/../../up.py", None),
            ("../../x", None),
            ("a/../b/../../x", None),
            ("my%20file", rel("my%2520file")),
            ("space name.txt", rel("space%20name.txt")),
            ("dir/fünf.py", rel("dir/f%C3%BCnf.py")),
            ("bad\u{1}name", rel("bad%01name")),
            ("tab\tand\nnewline", rel("tab%09and%0Anewline")),
            ("a#b?c", rel("a%23b%3Fc")),
            ("~user/x-y_z.1", rel("~user/x-y_z.1")),
            ("/etc/x", abs("file:///etc/x")),
            ("/etc/../x", abs("file:///x")),
            ("/../x", abs("file:///x")),
            ("C:\\work\\x.py", abs("file:///C:/work/x.py")),
            ("c:/work/x.py", abs("file:///C:/work/x.py")),
            (
                "C:\\Program Files\\a.dll",
                abs("file:///C:/Program%20Files/a.dll"),
            ),
            ("", None),
            (".", None),
            ("./", None),
            ("a/..", None),
            ("/", abs("file:///")),
        ];
        for (path, want) in table {
            assert_eq!(&artifact(path, None), want, "path {path:?}");
        }
    }

    #[test]
    fn absolute_paths_under_the_root_become_relative() {
        let root = Root::parse("/abs/under/root").unwrap();
        let r = Some(&root);
        assert_eq!(artifact("/abs/under/root/x", r), rel("x"));
        assert_eq!(artifact("/abs/under/root/src/../x y", r), rel("x%20y"));
        assert_eq!(
            artifact("/abs/under/rootx/y", r),
            abs("file:///abs/under/rootx/y")
        );
        assert_eq!(artifact("/abs/under/x", r), abs("file:///abs/under/x"));
        assert_eq!(artifact("/etc/x", r), abs("file:///etc/x"));
        assert_eq!(artifact("src/x", r), rel("src/x"));
        assert_eq!(artifact("/abs/under/root", r), None);
        assert_eq!(artifact("/abs/under/root/", r), None);
    }

    #[test]
    fn windows_paths_under_a_windows_root() {
        let root = Root::parse("C:\\work\\").unwrap();
        let r = Some(&root);
        assert_eq!(artifact("C:\\work\\x.py", r), rel("x.py"));
        assert_eq!(artifact("c:/work/sub/x.py", r), rel("sub/x.py"));
        assert_eq!(artifact("D:\\work\\x.py", r), abs("file:///D:/work/x.py"));
        assert_eq!(artifact("/work/x.py", r), abs("file:///work/x.py"));
        assert_eq!(root.base_uri(), "file:///C:/work/");
    }

    #[test]
    fn root_uris() {
        assert_eq!(
            Root::parse("/work/repo").unwrap().base_uri(),
            "file:///work/repo/"
        );
        assert_eq!(
            Root::parse("/work/repo/").unwrap().base_uri(),
            "file:///work/repo/"
        );
        assert_eq!(
            Root::parse("/w/my repo").unwrap().base_uri(),
            "file:///w/my%20repo/"
        );
        assert_eq!(Root::parse("/").unwrap().base_uri(), "file:///");
        assert!(Root::parse("relative/root").is_none());
        assert!(Root::parse("").is_none());
    }

    #[test]
    fn urls_are_kept_when_valid_and_encoded_when_not() {
        let valid = "https://example.com:8443/a/b?q=1&r=%2F#frag";
        assert!(matches!(clean_url(valid), Cow::Borrowed(_)));
        assert_eq!(clean_url("http://h/a b"), "http://h/a%20b");
        assert_eq!(clean_url("http://h/ü"), "http://h/%C3%BC");
        assert_eq!(clean_url("http://h/100%"), "http://h/100%25");
        assert_eq!(clean_url("http://h/%zz"), "http://h/%25zz");
        assert_eq!(clean_url("http://h/\"x\""), "http://h/%22x%22");
    }
}
