//! The house itself: what ARCHITECTURE.md and docs/ say of the code, checked
//! against the code (layers, the root's modules, names, module files), and
//! that every source of truth the code cites is inside the repository.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Files beside the repository that a clone does not have; the names are split
/// so that this test does not find itself.
const OUTSIDE: [&str; 5] = [
    concat!("hook-", "behaviour"),
    concat!("dojo-api-", "and-peers"),
    concat!("STYLE", ".md"),
    concat!("shared", "/"),
    concat!("dojo-", "api/"),
];

/// Every source of truth src/ and tests/ cite is in the repository: a recording
/// is cited by its path under `fixtures/` (a file, a folder, or `NNN-*` naming
/// exactly one file), never by a bare number, and no comment points at a file
/// beside the repository (the behaviour facts are in `docs/`).
#[test]
fn citations_resolve_inside_the_repository() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let files = rust_files(&[root.join("src"), root.join("tests")]);
    assert!(files.len() > 100, "{} source files", files.len());
    let mut problems = Vec::new();
    for file in &files {
        let text = std::fs::read_to_string(file).expect("source");
        let name = file.strip_prefix(root).unwrap().display().to_string();
        for (n, line) in text.lines().enumerate() {
            let at = format!("{name}:{}", n + 1);
            for outside in OUTSIDE {
                if line.contains(outside) {
                    problems.push(format!("{at}: cites {outside}, outside the repository"));
                }
            }
            for (i, _) in line.match_indices("fixtures/") {
                let cited: String = line[i..]
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || "_-./*".contains(*c))
                    .collect();
                let cited = cited.trim_end_matches(['.', '-']);
                if !resolves(root, cited) {
                    problems.push(format!("{at}: {cited} is not in the repository"));
                }
            }
            if let Some(number) = bare_number(line) {
                problems.push(format!("{at}: recording {number} cited without its path"));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// The `.rs` files under `dirs` (files or folders).
fn rust_files(dirs: &[PathBuf]) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut dirs = dirs.to_vec();
    while let Some(dir) = dirs.pop() {
        if dir.is_file() {
            files.push(dir);
            continue;
        }
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                files.push(path);
            }
        }
    }
    files
}

/// ARCHITECTURE.md's layers, listed top down, use only the ones below them:
/// no line of code in a layer names a layer above it, nor a stage.
#[test]
fn architecture_layers_use_only_the_ones_below() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(root.join("ARCHITECTURE.md")).expect("ARCHITECTURE.md");
    let section = |from: &str, to: &str| -> Vec<Vec<String>> {
        let part = text
            .split(from)
            .nth(1)
            .expect(from)
            .split(to)
            .next()
            .unwrap();
        // Each bullet's names: the backticked words before its dash.
        part.lines()
            .filter_map(|l| l.strip_prefix("- `"))
            .map(|l| {
                let names = l.split(" — ").next().unwrap_or_default();
                names
                    .split('`')
                    .step_by(2)
                    .map(|n| n.trim_end_matches('/').to_string())
                    .filter(|n| !n.is_empty() && !n.contains([',', ' ']))
                    .collect()
            })
            .collect()
    };
    let stages: Vec<String> = section("Stages (", "Layers under").concat();
    let layers: Vec<String> = section("Layers under the stages", "## Invariants")
        .into_iter()
        .map(|names| names[0].clone())
        .collect();
    assert!(
        stages.len() >= 6 && layers.len() >= 8,
        "{stages:?} {layers:?}"
    );
    let mut problems = Vec::new();
    for (i, layer) in layers.iter().enumerate() {
        let src = root.join("src");
        let files = rust_files(&[src.join(layer), src.join(format!("{layer}.rs"))]);
        assert!(!files.is_empty(), "no source for layer {layer}");
        for file in files {
            let code = std::fs::read_to_string(&file).expect("source");
            for (n, line) in code.lines().enumerate() {
                if line.trim_start().starts_with("//") {
                    continue;
                }
                for (at, _) in line.match_indices("crate::") {
                    let used: String = line[at + 7..]
                        .chars()
                        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                        .collect();
                    if layers[..i].contains(&used) || stages.contains(&used) {
                        let name = file.strip_prefix(root).unwrap().display();
                        problems.push(format!("{name}:{}: {layer} uses {used}", n + 1));
                    }
                }
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// `cited` exists under `root`; a last component `NNN-*` must match exactly one file.
fn resolves(root: &Path, cited: &str) -> bool {
    let Some(prefix) = cited.strip_suffix('*') else {
        return root.join(cited).exists();
    };
    let (dir, start) = prefix.rsplit_once('/').unwrap_or(("", prefix));
    let Ok(entries) = std::fs::read_dir(root.join(dir)) else {
        return false;
    };
    let matches = entries
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().starts_with(start))
        .count();
    !start.is_empty() && matches == 1
}

/// A number right after the word "recorded" (or "recording", or the flavour
/// "2.x"): a citation that gives no path.
fn bare_number(line: &str) -> Option<String> {
    let lower = line.to_ascii_lowercase();
    for word in ["recorded ", "recording ", "recordings ", "2.x "] {
        for (i, _) in lower.match_indices(word) {
            let rest = lower[i + word.len()..].trim_start_matches("2.x ");
            let rest = rest.trim_start_matches("as ");
            let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
            if !digits.is_empty() {
                return Some(digits);
            }
        }
    }
    None
}

#[test]
fn the_citation_check_finds_what_it_must() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    // Built at run time, so that the check over the sources does not flag them here.
    let dir = format!("{}/dojo/recorded/v3/", "fixtures");
    assert!(resolves(root, &format!("{dir}109-*")));
    assert!(resolves(root, &dir));
    assert!(!resolves(root, &format!("{dir}1-*")), "many match");
    assert!(!resolves(root, &format!("{dir}999-*")), "none matches");
    assert!(!resolves(root, &format!("{dir}999-x.json")));
    let cite = |text: &str| bare_number(&text.replace('#', "recorded"));
    assert_eq!(cite(&format!("(# 2.x {})", 95)).as_deref(), Some("95"));
    assert_eq!(cite("as # 31, 145").as_deref(), Some("31"));
    assert_eq!(cite("(# 62)").as_deref(), Some("62"));
    assert_eq!(bare_number(&format!("(2.x {})", 41)).as_deref(), Some("41"));
    assert_eq!(cite(&format!("(# `{dir}62-*`)")), None);
}

/// The process modules, the stages and the layers ARCHITECTURE.md's code map
/// names: the process from its paragraph (`name.rs`), the rest from the
/// bullets of the two lists.
fn mapped_root_modules(text: &str) -> Vec<String> {
    let map = text.split("## Code map").nth(1).expect("a code map");
    let process = map
        .split("The process:")
        .nth(1)
        .expect("the process paragraph");
    let process = process.split("\n\n").next().unwrap();
    let mut names: Vec<String> = process
        .split('`')
        .skip(1)
        .step_by(2)
        .filter_map(|n| n.strip_suffix(".rs"))
        .map(|n| n.trim_start_matches("src/").to_string())
        .collect();
    for bullet in map.split("## Invariants").next().unwrap().lines() {
        if let Some(rest) = bullet.strip_prefix("- `") {
            let names_part = rest.split(" — ").next().unwrap_or_default();
            names.extend(
                format!("`{names_part}")
                    .split('`')
                    .skip(1)
                    .step_by(2)
                    .map(|n| n.trim_end_matches('/').to_string())
                    .filter(|n| !n.is_empty() && !n.contains([',', ' '])),
            );
        }
    }
    names
}

/// The root holds the process, the stages and the layers, and nothing else:
/// a module with one user lives in its user's folder, the small helpers in
/// `util/`. Every module at the root is one ARCHITECTURE.md's code map names.
#[test]
fn the_root_holds_only_the_process_the_stages_and_the_layers() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(root.join("ARCHITECTURE.md")).expect("ARCHITECTURE.md");
    let mapped = mapped_root_modules(&text);
    let mut unmapped = Vec::new();
    for entry in std::fs::read_dir(root.join("src")).expect("src") {
        let path = entry.expect("entry").path();
        let name = path.file_stem().unwrap().to_string_lossy().to_string();
        if name == "lib" || mapped.contains(&name) {
            continue;
        }
        unmapped.push(name);
    }
    unmapped.sort();
    assert!(
        unmapped.is_empty(),
        "modules at src/ that are neither process, stage nor layer in ARCHITECTURE.md \
         (move a module with one user beside it, a small helper into util/): {unmapped:?}"
    );
}

/// DefectDojo is spoken to in `dojo/` only: no stage and no module of the
/// process names an API path (a read the outputs need is a function there).
#[test]
fn only_dojo_names_defectdojo_api_paths() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(root.join("ARCHITECTURE.md")).expect("ARCHITECTURE.md");
    let map = text.split("Layers under the stages").next().unwrap();
    let src = root.join("src");
    let mut found = Vec::new();
    for name in mapped_root_modules(map) {
        for file in rust_files(&[src.join(&name), src.join(format!("{name}.rs"))]) {
            let code = std::fs::read_to_string(&file).expect("source");
            for (n, line) in code.lines().enumerate() {
                if !line.trim_start().starts_with("//") && line.contains("\"/api/v2/") {
                    let shown = file.strip_prefix(root).unwrap().display();
                    found.push(format!("{shown}:{}", n + 1));
                }
            }
        }
    }
    assert!(
        found.is_empty(),
        "DefectDojo API paths outside dojo/: {found:?}"
    );
}

/// One module-file style: a folder module is `folder/mod.rs`, never a
/// `folder.rs` beside `folder/`.
#[test]
fn a_folder_module_is_its_mod_rs() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut both = Vec::new();
    for file in rust_files(std::slice::from_ref(&root)) {
        let dir = file.with_extension("");
        if dir.is_dir() {
            both.push(file.strip_prefix(&root).unwrap().display().to_string());
        }
    }
    assert!(
        both.is_empty(),
        "folder modules with a file beside them: {both:?}"
    );
}

/// The library's code without its tests: a `tests.rs` is skipped, and a
/// file's `#[cfg(test)]` block runs to its end (as this project writes it).
fn library_code(file: &Path) -> Option<String> {
    if file.file_name()? == "tests.rs" {
        return None;
    }
    let code = std::fs::read_to_string(file).ok()?;
    Some(match code.find("#[cfg(test)]") {
        Some(at) => code[..at].to_string(),
        None => code,
    })
}

/// The names a file defines: `struct`, `enum` and `trait` at any indentation.
fn defined_types(code: &str) -> Vec<String> {
    let mut names = Vec::new();
    for line in code.lines() {
        let words: Vec<&str> = line.split_whitespace().collect();
        if words.first().is_some_and(|w| w.starts_with("//")) {
            continue;
        }
        for pair in words.windows(2) {
            if matches!(pair[0], "struct" | "enum" | "trait") {
                let name: String = pair[1]
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .collect();
                if name.starts_with(|c: char| c.is_ascii_uppercase()) {
                    names.push(name);
                }
            }
        }
    }
    names
}

/// A name says what it is without its path: no two modules of the library
/// share a name, and no two of its types (test helpers aside).
#[test]
fn no_two_modules_or_types_of_the_library_share_a_name() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut modules: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut types: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for file in rust_files(std::slice::from_ref(&src)) {
        let shown = file.strip_prefix(&src).unwrap().display().to_string();
        let stem = file.file_stem().unwrap().to_string_lossy().to_string();
        let module = match stem.as_str() {
            "mod" => file
                .parent()
                .unwrap()
                .file_name()
                .unwrap()
                .to_string_lossy()
                .to_string(),
            "lib" | "main" | "tests" => String::new(),
            _ => stem,
        };
        if !module.is_empty() {
            modules.entry(module).or_default().push(shown.clone());
        }
        for name in library_code(&file)
            .as_deref()
            .map(defined_types)
            .unwrap_or_default()
        {
            types.entry(name).or_default().push(shown.clone());
        }
    }
    let twice = |map: BTreeMap<String, Vec<String>>| -> Vec<String> {
        map.into_iter()
            .filter(|(_, at)| at.len() > 1)
            .map(|(name, at)| format!("{name}: {}", at.join(", ")))
            .collect()
    };
    let (modules, types) = (twice(modules), twice(types));
    assert!(modules.is_empty(), "module names used twice: {modules:#?}");
    assert!(types.is_empty(), "type names used twice: {types:#?}");
}

#[test]
fn the_house_checks_find_what_they_must() {
    let code =
        "pub(crate) struct Place {\n    enum Kind<'a> {\n// struct Not\nimpl Trait for X {}\n";
    assert_eq!(defined_types(code), ["Place", "Kind"]);
    let map = "## Code map\n\nThe process: `main.rs` (x), `app.rs`.\n\n- `inputs` — a\n\
               - `dedup`, `readback` — b\n- `dojo/` — c\n## Invariants\n";
    assert_eq!(
        mapped_root_modules(map),
        ["main", "app", "inputs", "dedup", "readback", "dojo"]
    );
}
