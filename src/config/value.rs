//! How one setting's text becomes a value: the getter type and the parsers
//! every concern shares. A leaf: the other config files use it, it uses
//! none of them, so there is no cycle between them.

use crate::scan::finding::Severity;

/// A variable getter: returns the value of an environment variable.
pub type Getter<'a> = &'a dyn Fn(&str) -> Option<String>;

/// A variable's value, trimmed; blank counts as unset.
pub fn nonblank(get: Getter, name: &str) -> Option<String> {
    get(name)
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
}

/// `product-type-name` → `DEFECTDOJO_PRODUCT_TYPE_NAME`.
pub fn variable_for(annotation: &str) -> String {
    format!(
        "DEFECTDOJO_{}",
        annotation.replace('-', "_").to_ascii_uppercase()
    )
}

/// The problem of a value longer than DefectDojo takes (its OpenAPI
/// schema's `maxLength`, 3.2.0 and 2.58.4), if it is: found before any
/// request, rather than by a 400 after the product was created. `what`
/// names the setting; the value is shown cut, on one line.
pub fn too_long(what: &str, value: &str, max: usize) -> Option<String> {
    let n = value.chars().count();
    (n > max).then(|| {
        let shown = crate::util::text::one_line(&crate::util::text::cut(value, 40));
        format!(
            "{what} is {n} characters long, DefectDojo takes at most {max}: '{shown}'; \
             shorten it"
        )
    })
}

/// A comma-separated list, entries trimmed, blanks dropped.
pub fn tags(value: Option<String>) -> Vec<String> {
    value
        .map(|v| {
            v.split(',')
                .map(|t| t.trim().to_string())
                .filter(|t| !t.is_empty())
                .collect()
        })
        .unwrap_or_default()
}

/// A switch variable: `None` when unset or not a boolean (then a problem).
pub fn boolean(var: Getter, name: &str, problems: &mut Vec<String>) -> Option<bool> {
    let v = var(name)?;
    let parsed = parse_bool(&v);
    if parsed.is_none() {
        problems.push(format!("{name} must be true or false, got '{v}'"));
    }
    parsed
}

/// `true`/`false` and the usual spellings, any case.
pub fn parse_bool(v: &str) -> Option<bool> {
    match v.trim().to_ascii_lowercase().as_str() {
        "true" | "yes" | "1" | "on" => Some(true),
        "false" | "no" | "0" | "off" => Some(false),
        _ => None,
    }
}

/// A severity in any case and spelling (`info` or `informational`) →
/// DefectDojo's form value.
pub fn dojo_severity(v: &str) -> Option<&'static str> {
    Severity::parse(v).ok().map(Severity::dojo_name)
}

/// A date of the form YYYY-MM-DD (month 1–12, day 1–31).
pub fn is_date(d: &str) -> bool {
    let b = d.as_bytes();
    b.len() == 10
        && b[4] == b'-'
        && b[7] == b'-'
        && b.iter()
            .enumerate()
            .all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit())
        && (1..=12).contains(&d[5..7].parse::<u32>().unwrap_or(0))
        && (1..=31).contains(&d[8..10].parse::<u32>().unwrap_or(0))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    #[test]
    fn blank_is_unset_and_switches_are_checked() {
        let vars = HashMap::from([("A", "  on "), ("B", "  "), ("C", "maybe")]);
        let get = |k: &str| vars.get(k).map(|v| v.to_string());
        let var = |k: &str| nonblank(&get, k);
        assert_eq!(var("A").as_deref(), Some("on"));
        assert_eq!(var("B"), None);
        let mut problems = Vec::new();
        assert_eq!(boolean(&var, "A", &mut problems), Some(true));
        assert_eq!(boolean(&var, "B", &mut problems), None);
        assert_eq!(boolean(&var, "C", &mut problems), None);
        assert_eq!(problems, ["C must be true or false, got 'maybe'"]);
    }

    #[test]
    fn severities_dates_tags_and_names() {
        assert_eq!(dojo_severity(" INFORMATIONAL"), Some("Info"));
        assert_eq!(dojo_severity("info"), Some("Info"));
        assert_eq!(dojo_severity("cRiTiCaL"), Some("Critical"));
        assert_eq!(dojo_severity("urgent"), None);
        assert!(is_date("2024-02-29"));
        assert!(!is_date("2024-13-01") && !is_date("2024-1-01"));
        assert_eq!(tags(Some(" a, ,b".into())), ["a", "b"]);
        assert_eq!(variable_for("test-title"), "DEFECTDOJO_TEST_TITLE");
    }
}
