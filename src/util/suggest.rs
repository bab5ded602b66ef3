//! "Did you mean": the nearest of a list of names to a mistyped one, for
//! scan types, annotations and variables.

/// The closest name by edit distance (case-insensitive), if close enough.
pub fn nearest<'a>(given: &str, names: &'a [String]) -> Option<&'a str> {
    let given_l = given.to_lowercase();
    names
        .iter()
        .map(|n| (distance(&given_l, &n.to_lowercase()), n))
        .filter(|(d, n)| *d <= 3.max(n.chars().count() / 4))
        .min_by_key(|(d, _)| *d)
        .map(|(_, n)| n.as_str())
}

/// Levenshtein distance over characters.
fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cur = row[j + 1];
            row[j + 1] = (prev + usize::from(ca != *cb)).min(row[j] + 1).min(cur + 1);
            prev = cur;
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn near_misses_are_suggested() {
        let names: Vec<String> = ["Trivy Scan", "Trivy Operator Scan", "Nmap Scan", "SARIF"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        assert_eq!(nearest("trivy scan", &names), Some("Trivy Scan"));
        assert_eq!(nearest("Trivy Scna", &names), Some("Trivy Scan"));
        assert_eq!(nearest("Sarif", &names), Some("SARIF"));
        assert_eq!(nearest("Completely Different", &names), None);
    }
}
