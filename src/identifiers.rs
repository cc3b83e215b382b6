//! The identifiers a file mentions, as a small set of hashes: the prefilter that decides which
//! files are worth parsing, and which skipped files a later round must look at again.
//!
//! One pass over the bytes, no tokenizer: every maximal run of identifier bytes (ASCII letters,
//! digits, `_`, and any non-ASCII byte) counts, in code, strings and comments alike, compared
//! without regard to ASCII case. So the set only ever says too much: a name that occurs in the
//! file is always in it, and a name that is not may be reported present (same hash, another
//! case, a word in a comment). Callers use it to rule files out, never to rule them in.

/// The 32-bit hashes of the identifiers of one text, sorted and without repeats: about one
/// per 30 bytes of source. (A Bloom filter of a bit per byte was tried: with some sixty names
/// asked of every file, its false hits sent one file in three to the parser for nothing.)
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Identifiers {
    hashes: Vec<u32>,
    /// The hashes of the names that follow the word `def`: the functions the text may define
    /// (a later round looks for the definitions of functions given a resource).
    defined: Vec<u32>,
}

/// Which bytes continue an identifier: `[A-Za-z0-9_]` and every non-ASCII byte (a UTF-8
/// sequence of a non-ASCII identifier, or of anything else: too much is fine).
const IDENTIFIER_BYTE: [bool; 256] = {
    let mut table = [false; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        table[b] = c.is_ascii_alphanumeric() || c == b'_' || c >= 0x80;
        b += 1;
    }
    table
};

const FNV_OFFSET: u32 = 0x811c_9dc5;
const FNV_PRIME: u32 = 0x0100_0193;

/// How many recent identifier hashes [`Identifiers::of`] remembers to skip repeats.
const RECENT_SLOTS: usize = 1024;

/// FNV-1a of the bytes with ASCII letters folded to lower case (`| 0x20` folds `A-Z` onto
/// `a-z`; it moves other bytes too, the same way for every text, which only adds collisions).
#[inline]
fn hash(bytes: &[u8]) -> u32 {
    bytes.iter().fold(FNV_OFFSET, |h, &b| step(h, b))
}

#[inline]
fn step(h: u32, b: u8) -> u32 {
    (h ^ u32::from(b | 0x20)).wrapping_mul(FNV_PRIME)
}

impl Identifiers {
    pub fn of(text: &[u8]) -> Identifiers {
        // About one identifier per eight bytes of source; far fewer distinct ones.
        let mut hashes = Vec::with_capacity(text.len() / 8);
        let mut defined = Vec::new();
        // Each slot starts with a value that never maps to it, so the first hash is pushed.
        let mut recent: [u32; RECENT_SLOTS] = std::array::from_fn(|slot| slot as u32 + 1);
        // Where the last identifier ended, when it was `def`.
        let mut after_def: Option<usize> = None;
        let mut i = 0;
        while let Some(&first) = text.get(i) {
            if !IDENTIFIER_BYTE[usize::from(first)] {
                i += 1;
                continue;
            }
            // The word is hashed as it is scanned (as `hash` does), in one pass over its bytes.
            let start = i;
            let mut hash = step(FNV_OFFSET, first);
            i += 1;
            while let Some(&b) = text.get(i).filter(|&&b| IDENTIFIER_BYTE[usize::from(b)]) {
                hash = step(hash, b);
                i += 1;
            }
            // Most occurrences repeat a name seen a moment ago (`self`, `conn`, `return`): a
            // small direct-mapped memory of recent hashes keeps them out of the sort below.
            let slot = &mut recent[(hash as usize) % RECENT_SLOTS];
            if *slot != hash {
                *slot = hash;
                hashes.push(hash);
            }
            if let Some(end) = after_def
                && text[end..start].iter().all(|&b| b == b' ' || b == b'\t')
            {
                defined.push(hash);
            }
            after_def = (i - start == 3 && &text[start..i] == b"def").then_some(i);
        }
        for set in [&mut hashes, &mut defined] {
            set.sort_unstable();
            set.dedup();
            set.shrink_to_fit();
        }
        Identifiers { hashes, defined }
    }

    /// Whether the text may define a function `name` (`def name`): `false` means it certainly
    /// does not.
    pub fn may_define(&self, name: &str) -> bool {
        self.defined.binary_search(&hash(name.as_bytes())).is_ok()
    }

    /// Whether `name` may occur in the text: `false` means it certainly does not.
    pub fn may_contain(&self, name: &str) -> bool {
        self.hashes.binary_search(&hash(name.as_bytes())).is_ok()
    }

    /// Whether any of `names` may occur in the text.
    pub fn may_contain_any<'n>(&self, mut names: impl Iterator<Item = &'n str>) -> bool {
        names.any(|name| self.may_contain(name))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_identifier_of_the_text_is_found() {
        let ids = Identifiers::of(b"import sqlite3\nconn = sqlite3.connect(p)  # noqa: CL101\n");
        for name in ["import", "sqlite3", "conn", "connect", "p", "noqa", "CL101"] {
            assert!(ids.may_contain(name), "{name}");
        }
    }

    #[test]
    fn case_is_ignored_and_parts_of_identifiers_are_not_identifiers() {
        let ids = Identifiers::of(b"x = mysqlite3x.NOQA");
        assert!(ids.may_contain("noqa"));
        assert!(ids.may_contain("mysqlite3x"));
        assert!(!ids.may_contain("sqlite3"));
        assert!(!ids.may_contain_any(["socket", "psycopg2"].into_iter()));
    }

    #[test]
    fn defined_functions_are_the_names_after_def() {
        let ids = Identifiers::of(b"async def  fetch(conn):\n    def\tinner(): pass\n    undefined = close\n");
        assert!(ids.may_define("fetch"));
        assert!(ids.may_define("inner"));
        assert!(!ids.may_define("conn"), "a parameter is not defined by the def");
        assert!(!ids.may_define("close"), "named, not defined");
        assert!(!ids.may_define("undefined"), "`undefined` is not `def` followed by a name");
        assert!(ids.may_contain("close"));
    }

    #[test]
    fn non_ascii_identifiers_and_empty_text() {
        let ids = Identifiers::of("verbindung = öffne()".as_bytes());
        assert!(ids.may_contain("öffne"));
        assert!(!Identifiers::of(b"").may_contain("x"));
    }
}
