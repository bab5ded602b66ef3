//! One place, one writer: every file the run reads or writes, resolved to
//! what it is on this machine before anything is created in DefectDojo.
//!
//! A path's spelling says little: `out.sarif`, `./out.sarif`, its absolute
//! path, a symbolic link to it and `sub/../out.sarif` are one file, and `-`,
//! `/dev/stdout` and `/proc/self/fd/1` are one stream. So a place is its
//! device and inode when it exists, else its canonical directory and file
//! name (after following links); a URL is its scheme, host and path. Two
//! outputs on one place (the Markdown summary file is an output) would leave
//! the last one's bytes under the first one's name, and a report on an input
//! would replace what was read; both are exit 2 naming the two variables.
//! The one place shared on purpose stays allowed: the findings output on
//! FINDINGS (secureCodeBox's own pattern, and the input is read first).
//! Each output path is also checked for what would fail it after the import
//! (a directory, a name ending in `/`, a missing or read-only directory).

use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::{Path, PathBuf};

use super::Inputs;
use crate::config::Getter;
use crate::error::Error;
use crate::storage::Place;

/// Checks every place the run reads or writes: each output path on its
/// own ([`check_output_path`]), then all of them together ([`check`]).
pub(super) fn check_run(inputs: &Inputs, get: Getter) -> Result<(), Error> {
    let scan_file = inputs
        .cluster
        .is_none()
        .then(|| get("SCAN_FILE").filter(|p| !p.trim().is_empty()))
        .flatten()
        .map(|p| Place::Path(p.into()));
    let summary = summary_place(inputs);
    let named = named(inputs, scan_file.as_ref(), summary.as_ref());
    for n in named.iter().filter(|n| n.role != Role::Input) {
        if let Place::Path(path) = n.location {
            // The summary is written in place, never renamed into place.
            let renamed = summary.as_ref().is_none_or(|(name, _)| n.name != *name);
            check_output_path(n.name, path, renamed)?;
        }
    }
    check(&named)
}

/// The Markdown summary's file and the variable that named it.
fn summary_place(inputs: &Inputs) -> Option<(&'static str, Place)> {
    let (path, append) = inputs.cfg.summary_file.as_ref()?;
    let name = if *append {
        "GITHUB_STEP_SUMMARY"
    } else {
        "DEFECTDOJO_SUMMARY_FILE"
    };
    Some((name, Place::Path(path.into())))
}

/// Every place of the run with its name and role.
fn named<'a>(
    inputs: &'a Inputs,
    scan_file: Option<&'a Place>,
    summary: Option<&'a (&'static str, Place)>,
) -> Vec<NamedPlace<'a>> {
    let one_argument = inputs.cfg.args.findings.is_empty();
    let findings = (!one_argument).then_some(&inputs.findings);
    let places = [
        ("RAW_RESULT", Some(&inputs.raw), Role::Input),
        (FINDINGS, findings, Role::Input),
        ("SCAN_FILE", scan_file, Role::Input),
        ("FINDINGS_UPLOAD", inputs.output.as_ref(), Role::Findings),
        (
            "DEFECTDOJO_SARIF_OUTPUT",
            inputs.sarif.as_ref(),
            Role::Output,
        ),
        (
            "DEFECTDOJO_JUNIT_OUTPUT",
            inputs.junit.as_ref(),
            Role::Output,
        ),
    ];
    let summary = summary.map(|(name, location)| (*name, Some(location), Role::Output));
    // An input named `-` is refused when it is opened; it reads no place.
    let reads_stdout = |l: &Place, role: Role| role == Role::Input && *l == Place::Stdout;
    places
        .into_iter()
        .chain(summary)
        .filter_map(|(name, location, role)| {
            let location = location.filter(|l| !reads_stdout(l, role))?;
            Some(NamedPlace {
                name,
                location,
                role,
            })
        })
        .collect()
}

/// What a named place is to the run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    /// Read: the raw report, FINDINGS, the scan file.
    Input,
    /// The findings output, which may be FINDINGS itself.
    Findings,
    /// Any other output (SARIF, JUnit, the Markdown summary).
    Output,
}

/// A place as the user named it.
struct NamedPlace<'a> {
    /// The variable or argument that names it.
    name: &'a str,
    location: &'a Place,
    role: Role,
}

/// What a place is on this machine; two places are one when any part that
/// both have is equal.
#[derive(Debug, Default, PartialEq, Eq)]
struct Identity {
    /// `-`.
    stdout: bool,
    /// Device and inode of what exists there (after following links).
    inode: Option<(u64, u64)>,
    /// The canonical path, or the canonical directory and the file name
    /// when there is no file yet.
    path: Option<PathBuf>,
    /// A URL without its query (presigned URLs to one object differ there).
    url: Option<String>,
}

impl Identity {
    fn of(location: &Place) -> Identity {
        match location {
            Place::Stdout => Identity {
                stdout: true,
                inode: inode(Path::new("/proc/self/fd/1")),
                ..Identity::default()
            },
            // Any number of outputs may discard their bytes.
            Place::Path(path) if is_null(path) => Identity::default(),
            Place::Path(path) => Identity {
                inode: inode(path),
                path: canonical(path),
                ..Identity::default()
            },
            Place::Url(url) => Identity {
                url: Some(url_place(url)),
                ..Identity::default()
            },
        }
    }

    fn same(&self, other: &Identity) -> bool {
        fn both<T: PartialEq>(a: &Option<T>, b: &Option<T>) -> bool {
            a.is_some() && a == b
        }
        (self.stdout && other.stdout)
            || both(&self.inode, &other.inode)
            || both(&self.path, &other.path)
            || both(&self.url, &other.url)
    }
}

/// Device and inode of what `path` leads to.
fn inode(path: &Path) -> Option<(u64, u64)> {
    let meta = std::fs::metadata(path).ok()?;
    Some((meta.dev(), meta.ino()))
}

/// Whether `path` leads to the null device (character device 1:3 on Linux).
fn is_null(path: &Path) -> bool {
    std::fs::metadata(path)
        .is_ok_and(|m| m.file_type().is_char_device() && m.rdev() == (1 << 8 | 3))
}

/// The canonical path of `path`, or of its directory joined with its name
/// when nothing exists there yet (a dangling link: where it points).
fn canonical(path: &Path) -> Option<PathBuf> {
    if let Ok(full) = std::fs::canonicalize(path) {
        return Some(full);
    }
    let target = link_target(path);
    let name = target.file_name()?;
    let dir = match target.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    Some(std::fs::canonicalize(dir).ok()?.join(name))
}

/// `scheme://host/path` in lower case up to the path, without query,
/// fragment and user info.
fn url_place(url: &str) -> String {
    let plain = crate::http::redact::url(url);
    let plain = plain.trim_end_matches("?…");
    match plain.split_once("://") {
        Some((scheme, rest)) => {
            let end = rest.find('/').unwrap_or(rest.len());
            let (host, path) = rest.split_at(end);
            format!(
                "{}://{}{path}",
                scheme.to_ascii_lowercase(),
                host.to_ascii_lowercase()
            )
        }
        None => plain.to_string(),
    }
}

/// The name of the input the findings output may share.
const FINDINGS: &str = "FINDINGS";

/// Refuses the first two places that may not be one.
fn check(named: &[NamedPlace<'_>]) -> Result<(), Error> {
    let places: Vec<Identity> = named.iter().map(|n| Identity::of(n.location)).collect();
    let at = |role: Role, name: Option<&str>| {
        named
            .iter()
            .position(|n| n.role == role && name.is_none_or(|m| n.name == m))
    };
    // The findings output on FINDINGS (secureCodeBox's own pattern) also
    // sits on any input that is FINDINGS under another name.
    let findings_back = match (at(Role::Findings, None), at(Role::Input, Some(FINDINGS))) {
        (Some(out), Some(input)) => places[out].same(&places[input]),
        _ => false,
    };
    for (i, a) in named.iter().enumerate() {
        for (j, b) in named.iter().enumerate().skip(i + 1) {
            if !places[i].same(&places[j]) {
                continue;
            }
            if let Some(problem) = conflict(a, b, findings_back) {
                return Err(Error::Config(vec![problem]));
            }
        }
    }
    Ok(())
}

/// Why `a` and `b` (one place, `a` named first) cannot be, if they cannot.
fn conflict(a: &NamedPlace<'_>, b: &NamedPlace<'_>, findings_back: bool) -> Option<String> {
    let (output, other) = match (a.role, b.role) {
        (Role::Input, Role::Input) => return None,
        (Role::Input, Role::Findings) | (Role::Findings, Role::Input) if findings_back => {
            return None;
        }
        (Role::Input, _) => (b, a),
        _ => (a, b),
    };
    let shown = |n: &NamedPlace<'_>| n.location.display();
    if other.role == Role::Input {
        return Some(format!(
            "{} ({}) is {} ({}), which is read: writing it would replace the input; \
             give the output a place of its own",
            output.name,
            shown(output),
            other.name,
            shown(other)
        ));
    }
    if a.location == &Place::Stdout && b.location == &Place::Stdout {
        return Some(format!(
            "{} and {} are both '-': only one output can be written to stdout; give the others a path",
            a.name, b.name
        ));
    }
    Some(format!(
        "{} ({}) and {} ({}) are one place: each output needs a place of its own",
        a.name,
        shown(a),
        b.name,
        shown(b)
    ))
}

/// What would fail an output path after the import, found before it: the
/// path names a directory (or ends in `/`), or its directory is missing or
/// takes no new files (outputs are written to a temp file there and
/// renamed; `probe_dir` false for one written in place). For a symbolic
/// link, the directory of the file it points to. A device or named pipe is
/// written in place, so its directory is not asked.
fn check_output_path(name: &str, path: &Path, probe_dir: bool) -> Result<(), Error> {
    let what = format!("{name} {}", path.display());
    // The kernel follows the links to tell the kind: `/dev/stdout` links to
    // `/proc/self/fd/1`, whose link text (`pipe:[…]`) is no path.
    match std::fs::metadata(path) {
        Ok(m) if is_stream(m.file_type()) => return Ok(()),
        Ok(m) if m.is_dir() => {
            return Err(Error::input(
                what,
                "is a directory: give the path of a file in it",
            ));
        }
        _ => {}
    }
    if path.as_os_str().as_encoded_bytes().ends_with(b"/") {
        return Err(Error::input(
            what,
            "ends with '/', so it names a directory: give the path of a file",
        ));
    }
    let target = link_target(path);
    let dir = match target.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    if !dir.is_dir() {
        return Err(Error::input(
            what,
            format!("its directory {} does not exist", dir.display()),
        ));
    }
    if !probe_dir {
        return Ok(());
    }
    crate::body::probe(dir).map_err(|e| {
        Error::input(
            what,
            format!(
                "its directory {} does not take new files ({e}): give a writable directory",
                dir.display()
            ),
        )
    })
}

fn is_stream(kind: std::fs::FileType) -> bool {
    kind.is_char_device() || kind.is_block_device() || kind.is_fifo()
}

/// The file a chain of symbolic links ends at, or `path` itself.
fn link_target(path: &Path) -> PathBuf {
    crate::storage::follow_links(path).unwrap_or_else(|_| path.to_path_buf())
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Dir(PathBuf);
    impl Drop for Dir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
    fn dir(tag: &str) -> Dir {
        let d = std::env::temp_dir().join(format!("dojo-hook-places-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(d.join("sub")).unwrap();
        Dir(d)
    }

    fn path(p: impl Into<PathBuf>) -> Place {
        Place::Path(p.into())
    }

    fn problem(places: &[(&str, &Place, Role)]) -> Option<String> {
        let named: Vec<NamedPlace<'_>> = places
            .iter()
            .map(|&(name, location, role)| NamedPlace {
                name,
                location,
                role,
            })
            .collect();
        check(&named).err().map(|e| e.to_string())
    }

    #[test]
    fn one_file_under_many_spellings_is_one_place() {
        let d = dir("spell");
        let file = d.0.join("out.sarif");
        let link = d.0.join("link.sarif");
        std::os::unix::fs::symlink(&file, &link).unwrap();
        let spellings = [
            path(&file),
            path(d.0.join("./out.sarif")),
            path(d.0.join("sub/../out.sarif")),
            path(&link),
        ];
        // Before and after the file exists.
        for exists in [false, true] {
            if exists {
                std::fs::write(&file, "x").unwrap();
            }
            for a in &spellings {
                for b in &spellings {
                    let p = problem(&[
                        ("DEFECTDOJO_SARIF_OUTPUT", a, Role::Output),
                        ("DEFECTDOJO_JUNIT_OUTPUT", b, Role::Output),
                    ])
                    .unwrap_or_else(|| panic!("{a:?} {b:?} exists={exists}"));
                    assert!(p.contains("are one place"), "{p}");
                }
            }
        }
        let other = path(d.0.join("other.sarif"));
        assert_eq!(
            problem(&[
                ("DEFECTDOJO_SARIF_OUTPUT", &spellings[0], Role::Output),
                ("DEFECTDOJO_JUNIT_OUTPUT", &other, Role::Output),
            ]),
            None
        );
    }

    #[test]
    fn inputs_take_no_reports_but_findings_may_go_back_to_findings() {
        let d = dir("inputs");
        let findings = path(d.0.join("findings.json"));
        std::fs::write(d.0.join("findings.json"), "[]").unwrap();
        let same = path(d.0.join("sub/../findings.json"));
        assert_eq!(
            problem(&[
                ("FINDINGS", &findings, Role::Input),
                ("FINDINGS_UPLOAD", &same, Role::Findings),
            ]),
            None
        );
        let p = problem(&[
            ("FINDINGS", &findings, Role::Input),
            ("DEFECTDOJO_SARIF_OUTPUT", &same, Role::Output),
        ])
        .unwrap();
        assert!(
            p.starts_with("configuration: DEFECTDOJO_SARIF_OUTPUT") && p.contains("is FINDINGS"),
            "{p}"
        );
        let p = problem(&[
            ("RAW_RESULT", &findings, Role::Input),
            ("FINDINGS_UPLOAD", &same, Role::Findings),
        ])
        .unwrap();
        assert!(
            p.contains("FINDINGS_UPLOAD") && p.contains("is RAW_RESULT"),
            "{p}"
        );
        // Unless the raw report is FINDINGS too.
        assert_eq!(
            problem(&[
                ("RAW_RESULT", &findings, Role::Input),
                ("FINDINGS", &findings, Role::Input),
                ("FINDINGS_UPLOAD", &same, Role::Findings),
            ]),
            None
        );
    }

    #[test]
    fn stdout_by_any_name_and_the_null_device() {
        let p = problem(&[
            ("FINDINGS_UPLOAD", &Place::Stdout, Role::Findings),
            ("DEFECTDOJO_SARIF_OUTPUT", &Place::Stdout, Role::Output),
        ])
        .unwrap();
        assert!(p.contains("both '-'"), "{p}");
        // The test harness's stdout is whatever it is; /dev/stdout is it.
        let dev = path("/dev/stdout");
        if inode(Path::new("/dev/stdout")).is_some() {
            let p = problem(&[
                ("FINDINGS_UPLOAD", &Place::Stdout, Role::Findings),
                ("DEFECTDOJO_JUNIT_OUTPUT", &dev, Role::Output),
            ])
            .unwrap();
            assert!(p.contains("one place"), "{p}");
        }
        let null = path("/dev/null");
        assert_eq!(
            problem(&[
                ("DEFECTDOJO_SARIF_OUTPUT", &null, Role::Output),
                ("DEFECTDOJO_JUNIT_OUTPUT", &null, Role::Output),
            ]),
            None
        );
    }

    #[test]
    fn urls_are_one_place_whatever_their_query() {
        let a = Place::Url("https://S3.example/b/k.json?X-Amz-Signature=1".into());
        let b = Place::Url("https://s3.example/b/k.json?X-Amz-Signature=2".into());
        let p = problem(&[
            ("FINDINGS_UPLOAD", &a, Role::Findings),
            ("DEFECTDOJO_SARIF_OUTPUT", &b, Role::Output),
        ])
        .unwrap();
        assert!(!p.contains("Signature"), "{p}");
        let c = Place::Url("https://s3.example/b/other.json".into());
        assert_eq!(
            problem(&[
                ("FINDINGS_UPLOAD", &a, Role::Findings),
                ("DEFECTDOJO_SARIF_OUTPUT", &c, Role::Output),
            ]),
            None
        );
    }

    #[test]
    fn a_dangling_link_is_checked_at_its_target() {
        let d = dir("link");
        let link = d.0.join("out.json");
        std::os::unix::fs::symlink("missing-dir/findings.json", &link).unwrap();
        let err = check_output_path("FINDINGS_UPLOAD", &link, true)
            .unwrap_err()
            .to_string();
        assert!(err.contains("missing-dir"), "{err}");
        std::fs::remove_file(&link).unwrap();
        std::os::unix::fs::symlink("findings.json", &link).unwrap();
        assert!(check_output_path("FINDINGS_UPLOAD", &link, true).is_ok());
    }

    #[test]
    fn directories_and_unwritable_places_are_refused_and_devices_are_not_asked() {
        let d = dir("dirs");
        let err = check_output_path("DEFECTDOJO_SARIF_OUTPUT", &d.0.join("sub"), true)
            .unwrap_err()
            .to_string();
        assert!(err.contains("is a directory"), "{err}");
        let slash = PathBuf::from(format!("{}/new/", d.0.display()));
        let err = check_output_path("DEFECTDOJO_SARIF_OUTPUT", &slash, true)
            .unwrap_err()
            .to_string();
        assert!(err.contains("ends with '/'"), "{err}");
        // procfs refuses new files even to root.
        let err = check_output_path(
            "DEFECTDOJO_SARIF_OUTPUT",
            Path::new("/proc/self/x.sarif"),
            true,
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("does not take new files"), "{err}");
        assert!(
            err.starts_with("DEFECTDOJO_SARIF_OUTPUT /proc/self/x.sarif"),
            "{err}"
        );
        assert!(check_output_path("DEFECTDOJO_JUNIT_OUTPUT", Path::new("/dev/null"), true).is_ok());
    }
}
