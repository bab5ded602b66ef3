//! Lossless JSON minification as a streaming `Read` adapter.
//!
//! Drops the whitespace between JSON tokens and keeps strings byte for byte,
//! so a pretty-printed report shrinks without a parse and without memory.
//! It does not validate: invalid JSON stays as invalid as it was.

use std::io::{self, Read};

/// Reads `inner` and yields it without insignificant whitespace.
pub struct Minify<R> {
    inner: R,
    in_string: bool,
    escaped: bool,
    buf: Vec<u8>,
}

impl<R: Read> Minify<R> {
    /// Wraps a reader of JSON text.
    pub fn new(inner: R) -> Minify<R> {
        Minify {
            inner,
            in_string: false,
            escaped: false,
            buf: vec![0; 64 * 1024],
        }
    }
}

impl<R: Read> Read for Minify<R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        if out.is_empty() {
            return Ok(0);
        }
        loop {
            let want = out.len().min(self.buf.len());
            let n = self.inner.read(&mut self.buf[..want])?;
            if n == 0 {
                return Ok(0);
            }
            let mut written = 0;
            for &b in &self.buf[..n] {
                if self.in_string {
                    if self.escaped {
                        self.escaped = false;
                    } else if b == b'\\' {
                        self.escaped = true;
                    } else if b == b'"' {
                        self.in_string = false;
                    }
                } else if matches!(b, b' ' | b'\t' | b'\n' | b'\r') {
                    continue;
                } else if b == b'"' {
                    self.in_string = true;
                }
                out[written] = b;
                written += 1;
            }
            // A chunk of pure whitespace yields nothing: read on, as 0 means EOF.
            if written > 0 {
                return Ok(written);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn minify(text: &str) -> String {
        let mut out = String::new();
        Minify::new(text.as_bytes())
            .read_to_string(&mut out)
            .unwrap();
        out
    }

    #[test]
    fn whitespace_between_tokens_goes_strings_stay() {
        let pretty = "{\n  \"a b\" : [ 1, 2 ],\n  \"c\": \"x \\\" y\\\\\",\n\t\"d\": \"\\n \"\n}\n";
        let small = minify(pretty);
        assert_eq!(small, r#"{"a b":[1,2],"c":"x \" y\\","d":"\n "}"#);
        let a: serde_json::Value = serde_json::from_str(pretty).unwrap();
        let b: serde_json::Value = serde_json::from_str(&small).unwrap();
        assert_eq!(a, b);
    }

    #[test]
    fn long_whitespace_runs_are_not_end_of_file() {
        let text = format!("[1,{}2]", " ".repeat(200_000));
        assert_eq!(minify(&text), "[1,2]");
    }
}
