//! A streaming check of a report in DefectDojo's own Generic Findings Import
//! JSON: the checks DefectDojo's parser makes before it imports anything
//! (required keys present, no key outside the allowed list), so a dry run can
//! say "this upload would fail" without uploading. One finding's keys are
//! held at a time; values are skipped unparsed.

use std::fmt;
use std::io::Read;

use serde::Deserializer as _;
use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};

use super::generic::ALLOWED_KEYS;

const REQUIRED: [&str; 3] = ["title", "severity", "description"];

/// Checks a Generic Findings Import JSON document; returns its number of
/// findings, or what DefectDojo would reject.
pub fn generic_json(reader: impl Read) -> Result<u64, String> {
    let mut de = serde_json::Deserializer::from_reader(std::io::BufReader::new(reader));
    let count = de.deserialize_map(Document).map_err(|e| e.to_string())?;
    de.end().map_err(|e| e.to_string())?;
    Ok(count)
}

struct Document;

impl<'de> Visitor<'de> for Document {
    type Value = u64;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON object with a `findings` list")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<u64, A::Error> {
        let mut count = 0;
        while let Some(key) = map.next_key::<String>()? {
            if key == "findings" {
                count = map.next_value_seed(FindingsSeed)?;
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(count)
    }
}

struct FindingsSeed;

impl<'de> DeserializeSeed<'de> for FindingsSeed {
    type Value = u64;

    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<u64, D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for FindingsSeed {
    type Value = u64;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a list of findings")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<u64, A::Error> {
        let mut n = 0;
        while seq.next_element_seed(FindingSeed(n + 1))?.is_some() {
            n += 1;
        }
        Ok(n)
    }
}

struct FindingSeed(u64);

impl<'de> DeserializeSeed<'de> for FindingSeed {
    type Value = ();

    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for FindingSeed {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "finding #{} to be an object", self.0)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let mut seen = [false; 3];
        let mut unknown = Vec::new();
        while let Some(key) = map.next_key::<String>()? {
            map.next_value::<IgnoredAny>()?;
            if let Some(i) = REQUIRED.iter().position(|r| *r == key) {
                seen[i] = true;
            } else if !ALLOWED_KEYS.contains(&key.as_str()) {
                unknown.push(key);
            }
        }
        let missing: Vec<&str> = REQUIRED
            .iter()
            .zip(seen)
            .filter(|(_, s)| !s)
            .map(|(r, _)| *r)
            .collect();
        if !missing.is_empty() {
            return Err(de::Error::custom(format!(
                "finding #{}: required fields are missing: {}",
                self.0,
                missing.join(", ")
            )));
        }
        if !unknown.is_empty() {
            return Err(de::Error::custom(format!(
                "finding #{}: fields DefectDojo does not allow (the whole import would be rejected): {}",
                self.0,
                unknown.join(", ")
            )));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn valid_documents_count_their_findings() {
        let doc = r#"{"name":"x","findings":[{"title":"a","severity":"High","description":"d","endpoints":["https://h"]},
                     {"title":"b","severity":"Low","description":"e","cwe":79}]}"#;
        assert_eq!(generic_json(doc.as_bytes()), Ok(2));
        assert_eq!(generic_json(&b"{}"[..]), Ok(0));
    }

    #[test]
    fn what_dojo_rejects() {
        let missing = r#"{"findings":[{"title":"a","severity":"High","description":"d"},{"title":"b","severity":"Low"}]}"#;
        let err = generic_json(missing.as_bytes()).unwrap_err();
        assert!(
            err.contains("finding #2") && err.contains("description"),
            "{err}"
        );
        let unknown =
            r#"{"findings":[{"title":"a","severity":"High","description":"d","location":"x"}]}"#;
        assert!(
            generic_json(unknown.as_bytes())
                .unwrap_err()
                .contains("location")
        );
        assert!(generic_json(&b"[1]"[..]).is_err());
        assert!(generic_json(&b"{\"findings\":[]} x"[..]).is_err());
    }
}
