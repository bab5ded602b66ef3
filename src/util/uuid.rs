//! Name-based UUIDs (version 5) and the SHA-1 they are built on.
//!
//! Sync-back gives every DefectDojo finding a secureCodeBox id that is the
//! same on every run (`uuid_v5(URL_NAMESPACE, "<base>/finding/<id>")`), so a
//! consumer can tell a finding it has seen before.
//!
//! SHA-1 stays, written by hand (FIPS 180-4, checked against NIST's vectors
//! below): a version 5 UUID is defined on SHA-1, so the ids match any other
//! implementation's; no allowed runtime crate offers it (ring's legacy SHA-1
//! would be a new direct dependency), and it is about a hundred lines. It
//! names things (these ids, long SARIF rule ids), never protects anything.

/// The RFC 9562 namespace for names that are URLs
/// (`6ba7b811-9dad-11d1-80b4-00c04fd430c8`).
pub const URL_NAMESPACE: [u8; 16] = [
    0x6b, 0xa7, 0xb8, 0x11, 0x9d, 0xad, 0x11, 0xd1, 0x80, 0xb4, 0x00, 0xc0, 0x4f, 0xd4, 0x30, 0xc8,
];

/// A name-based UUID (version 5, RFC 9562 §5.5) of `name` in `namespace`,
/// formatted lowercase as `xxxxxxxx-xxxx-5xxx-yxxx-xxxxxxxxxxxx`.
pub fn uuid_v5(namespace: [u8; 16], name: &[u8]) -> String {
    let mut sha = Sha1::new();
    sha.update(&namespace);
    sha.update(name);
    let digest = sha.finish();
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    bytes[6] = (bytes[6] & 0x0f) | 0x50; // version 5
    bytes[8] = (bytes[8] & 0x3f) | 0x80; // variant 10xx (RFC 9562)
    format_uuid(&bytes)
}

fn format_uuid(bytes: &[u8; 16]) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(36);
    for (i, b) in bytes.iter().enumerate() {
        if matches!(i, 4 | 6 | 8 | 10) {
            out.push('-');
        }
        out.push(HEX[usize::from(b >> 4)] as char);
        out.push(HEX[usize::from(b & 0x0f)] as char);
    }
    out
}

/// Incremental SHA-1 (FIPS 180-4 §6.1).
#[derive(Clone)]
pub struct Sha1 {
    state: [u32; 5],
    block: [u8; 64],
    /// Bytes waiting in `block`.
    filled: usize,
    /// Message length so far, in bytes.
    length: u64,
}

impl Default for Sha1 {
    fn default() -> Sha1 {
        Sha1::new()
    }
}

impl Sha1 {
    /// A hasher with the initial hash value H(0).
    pub fn new() -> Sha1 {
        Sha1 {
            state: [
                0x6745_2301,
                0xefcd_ab89,
                0x98ba_dcfe,
                0x1032_5476,
                0xc3d2_e1f0,
            ],
            block: [0; 64],
            filled: 0,
            length: 0,
        }
    }

    /// Feeds more of the message.
    pub fn update(&mut self, mut data: &[u8]) {
        self.length = self.length.wrapping_add(data.len() as u64);
        while !data.is_empty() {
            let take = (64 - self.filled).min(data.len());
            self.block[self.filled..self.filled + take].copy_from_slice(&data[..take]);
            self.filled += take;
            data = &data[take..];
            if self.filled == 64 {
                let block = self.block;
                self.compress(&block);
                self.filled = 0;
            }
        }
    }

    /// Pads the message (a 1 bit, zeros, the 64-bit bit length) and returns
    /// the digest.
    pub fn finish(mut self) -> [u8; 20] {
        let bit_length = self.length.wrapping_mul(8);
        self.update(&[0x80]);
        while self.filled != 56 {
            self.update(&[0]);
        }
        self.update(&bit_length.to_be_bytes());
        debug_assert_eq!(self.filled, 0);
        let mut out = [0u8; 20];
        for (chunk, word) in out.chunks_exact_mut(4).zip(self.state) {
            chunk.copy_from_slice(&word.to_be_bytes());
        }
        out
    }

    fn compress(&mut self, block: &[u8; 64]) {
        let mut w = [0u32; 80];
        for (t, chunk) in block.chunks_exact(4).enumerate() {
            w[t] = u32::from_be_bytes([chunk[0], chunk[1], chunk[2], chunk[3]]);
        }
        for t in 16..80 {
            w[t] = (w[t - 3] ^ w[t - 8] ^ w[t - 14] ^ w[t - 16]).rotate_left(1);
        }
        let [mut a, mut b, mut c, mut d, mut e] = self.state;
        for (t, wt) in w.iter().enumerate() {
            let (f, k) = match t {
                0..=19 => ((b & c) | (!b & d), 0x5a82_7999),
                20..=39 => (b ^ c ^ d, 0x6ed9_eba1),
                40..=59 => ((b & c) | (b & d) | (c & d), 0x8f1b_bcdc),
                _ => (b ^ c ^ d, 0xca62_c1d6),
            };
            let temp = a
                .rotate_left(5)
                .wrapping_add(f)
                .wrapping_add(e)
                .wrapping_add(k)
                .wrapping_add(*wt);
            e = d;
            d = c;
            c = b.rotate_left(30);
            b = a;
            a = temp;
        }
        for (s, v) in self.state.iter_mut().zip([a, b, c, d, e]) {
            *s = s.wrapping_add(v);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 9562 namespace for DNS names (`6ba7b810-9dad-11d1-80b4-00c04fd430c8`).
    const DNS_NAMESPACE: [u8; 16] = [
        0x6b, 0xa7, 0xb8, 0x10, 0x9d, 0xad, 0x11, 0xd1, 0x80, 0xb4, 0x00, 0xc0, 0x4f, 0xd4, 0x30,
        0xc8,
    ];

    /// SHA-1 of `data` in one call.
    fn sha1(data: &[u8]) -> [u8; 20] {
        let mut sha = Sha1::new();
        sha.update(data);
        sha.finish()
    }

    fn hex(bytes: &[u8]) -> String {
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }

    // FIPS 180-2 appendix A / NIST CAVP example vectors.
    #[test]
    fn sha1_known_answers() {
        assert_eq!(
            hex(&sha1(b"abc")),
            "a9993e364706816aba3e25717850c26c9cd0d89d"
        );
        assert_eq!(hex(&sha1(b"")), "da39a3ee5e6b4b0d3255bfef95601890afd80709");
        assert_eq!(
            hex(&sha1(
                b"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"
            )),
            "84983e441c3bd26ebaae4aa1f95129e5e54670f1"
        );
    }

    #[test]
    fn sha1_one_million_a_in_odd_chunks() {
        let mut sha = Sha1::new();
        let chunk = [b'a'; 997]; // not a multiple of 64: exercises the block buffer
        let mut left = 1_000_000usize;
        while left > 0 {
            let n = left.min(chunk.len());
            sha.update(&chunk[..n]);
            left -= n;
        }
        assert_eq!(
            hex(&sha.finish()),
            "34aa973cd4c4daa4f61eeb2bdbad27316534016f"
        );
    }

    #[test]
    fn sha1_padding_boundaries() {
        // 55, 56 and 64 bytes: the length field fits, just misses, and a
        // whole extra block is needed (values from python3 hashlib).
        assert_eq!(
            hex(&sha1(&[b'a'; 55])),
            "c1c8bbdc22796e28c0e15163d20899b65621d65a"
        );
        assert_eq!(
            hex(&sha1(&[b'a'; 56])),
            "c2db330f6083854c99d4b5bfb6e8f29f201be699"
        );
        assert_eq!(
            hex(&sha1(&[b'a'; 64])),
            "0098ba824b5c16427bd7a1122a5a442a25ec644d"
        );
    }

    // RFC 9562 appendix A.4, checked with python3:
    // uuid.uuid5(uuid.NAMESPACE_DNS, "www.example.com").
    #[test]
    fn uuid_v5_rfc_example() {
        assert_eq!(
            uuid_v5(DNS_NAMESPACE, b"www.example.com"),
            "2ed6657d-e927-568b-95e1-2665a8aea6a2"
        );
    }

    // python3: uuid.uuid5(uuid.NAMESPACE_URL, "https://dojo.example/finding/68")
    #[test]
    fn uuid_v5_url_namespace() {
        assert_eq!(
            uuid_v5(URL_NAMESPACE, b"https://dojo.example/finding/68"),
            "042c154a-2f39-591a-a9ac-9e0e3ceba596"
        );
    }

    #[test]
    fn uuid_v5_sets_version_and_variant() {
        for name in ["", "a", "https://dojo.example/finding/1"] {
            let id = uuid_v5(URL_NAMESPACE, name.as_bytes());
            assert_eq!(id.len(), 36);
            assert_eq!(&id[14..15], "5");
            assert!(matches!(&id[19..20], "8" | "9" | "a" | "b"), "{id}");
        }
    }
}
