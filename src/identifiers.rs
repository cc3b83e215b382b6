//! The identifiers a file mentions, as a small set of hashes: the prefilter that decides which
//! files are worth parsing, and which skipped files a later round must look at again.
//!
//! Two light passes over the bytes, no tokenizer: every maximal run of identifier bytes (ASCII letters,
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
    /// The hashes of the words of the lines that start with `import` or `from` (and of the
    /// lines they continue with a backslash): the modules the text may import (a later round
    /// looks for the files that can reach a new factory). Every import statement the selection
    /// reads starts a line, so its modules are among these.
    imported: Vec<u32>,
}

/// A bit per byte of `bytes` (at most 64) that continues an identifier: `[A-Za-z0-9_]` and every
/// non-ASCII byte (a UTF-8 sequence of a non-ASCII identifier, or of anything else: too much is
/// fine), eight bytes at a time.
fn identifier_bits(bytes: &[u8]) -> u64 {
    let mut bits = 0;
    if let Ok(block) = <&[u8; 64]>::try_from(bytes) {
        for (i, eight) in block.as_chunks::<8>().0.iter().enumerate() {
            bits |= identifier_bits8(u64::from_le_bytes(*eight)) << (8 * i);
        }
        return bits;
    }
    for (i, eight) in bytes.chunks(8).enumerate() {
        let mut word = [0; 8];
        word[..eight.len()].copy_from_slice(eight);
        bits |= identifier_bits8(u64::from_le_bytes(word)) << (8 * i);
    }
    bits
}

/// [`identifier_bits`] of eight bytes, with arithmetic on all of them at once: a byte's top bit
/// says whether it is at least `c` when `0x80 - c` is added to its low seven bits (the sum stays
/// under 0x100, so nothing carries into the next byte). A table lookup per byte took a quarter
/// of [`Identifiers::of`]'s time.
#[inline]
fn identifier_bits8(word: u64) -> u64 {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const TOP: u64 = 0x8080_8080_8080_8080;
    let non_ascii = word & TOP;
    let low = word & !TOP;
    let at_least = |bytes: u64, c: u8| (bytes + u64::from(0x80 - c) * ONES) & TOP;
    // `| 0x20` folds `A-Z` onto `a-z` and moves no other byte into that range.
    let folded = low | (0x20 * ONES);
    let letter = at_least(folded, b'a') & !at_least(folded, b'z' + 1);
    let digit = at_least(low, b'0') & !at_least(low, b'9' + 1);
    let underscore = at_least(low, b'_') & !at_least(low, b'_' + 1);
    let flags = (non_ascii | letter | digit | underscore) >> 7;
    // Byte k's flag (bit 8k) times the bit 7(7 - k) + 7 of the constant lands on bit 56 + k.
    flags.wrapping_mul(0x0102_0408_1020_4080) >> 56
}

thread_local! {
    /// Where the words of the last chunk of text start and end ([`Identifiers::of`]).
    static WORD_BOUNDS: std::cell::RefCell<(Vec<u32>, Vec<u32>)> = const { std::cell::RefCell::new((Vec::new(), Vec::new())) };
}

/// How much text [`Identifiers::of`] finds the words of at a time (a multiple of 64): the
/// bounds of one chunk's words are what [`WORD_BOUNDS`] holds, 64 KiB per thread. (Bounds for a
/// whole text, kept between texts of up to 512 KiB, were 3.1 MiB of the heap at its peak on
/// CPython's `Lib`.)
const CHUNK_BYTES: usize = 16 * 1024;

/// How many recent identifier hashes [`Identifiers::of`] remembers to skip repeats.
const RECENT_SLOTS: usize = 1024;

/// The hash of the word `text[start..end]`, eight bytes at a time, with ASCII letters folded
/// to lower case (`| 0x20` folds `A-Z` onto `a-z`; it moves other bytes too, the same way for
/// every text, which only adds collisions).
#[inline]
pub(crate) fn word_hash(text: &[u8], start: usize, end: usize) -> u32 {
    let mut h = (end - start) as u64;
    let mut at = start;
    while at < end {
        let n = (end - at).min(8);
        let word = match text.get(at..at + 8) {
            Some(bytes) => u64::from_le_bytes(bytes.try_into().unwrap_or_default()),
            None => {
                let mut buf = [0; 8];
                buf[..n].copy_from_slice(&text[at..at + n]);
                u64::from_le_bytes(buf)
            }
        };
        let mask = if n == 8 { u64::MAX } else { (1 << (n * 8)) - 1 };
        h = (h ^ ((word | 0x2020_2020_2020_2020) & mask)).wrapping_mul(0x2127_599b_f432_5c37);
        h ^= h >> 29;
        at += 8;
    }
    (h >> 32) as u32
}

/// Whether the word `text[start..end]` is `import` or `from` (after a byte-order mark at the
/// start of the text, which the word bounds count as part of the first word).
fn is_import_keyword(text: &[u8], start: usize, end: usize) -> bool {
    let word = &text[start..end];
    let word = if start == 0 { word.strip_prefix(b"\xef\xbb\xbf").unwrap_or(word) } else { word };
    word == b"import" || word == b"from"
}

/// Whether only indentation comes before `at` on its line.
fn starts_its_line(text: &[u8], at: usize) -> bool {
    let before = text[..at].iter().rposition(|&b| !matches!(b, b' ' | b'\t' | b'\x0c'));
    before.is_none_or(|i| text[i] == b'\n' || (i == 2 && at >= 3 && text.starts_with(b"\xef\xbb\xbf")))
}

/// The end of the line at `at`, and of the lines after it that a backslash continues.
fn end_of_statement_line(text: &[u8], mut at: usize) -> usize {
    loop {
        let Some(newline) = memchr::memchr(b'\n', &text[at..]).map(|i| at + i) else { return text.len() };
        let before = if newline > 0 && text[newline - 1] == b'\r' { newline - 1 } else { newline };
        if before == 0 || text[before - 1] != b'\\' {
            return newline;
        }
        at = newline + 1;
    }
}

/// The hashes of the words [`Identifiers::of`] looks for.
struct Keywords {
    import: u32,
    from: u32,
    def: u32,
}

/// The second pass of [`Identifiers::of`]: the hash of each word, and what the words around it
/// say (an import statement, a `def`), carried from one chunk of words to the next.
struct WordHashes<'t> {
    text: &'t [u8],
    /// The hashes so far; from `kept` on, room for the chunk being hashed.
    hashes: Vec<u32>,
    kept: usize,
    defined: Vec<u32>,
    imported: Vec<u32>,
    /// Most occurrences repeat a name seen a moment ago (`self`, `conn`, `return`): a small
    /// direct-mapped memory of recent hashes keeps them out of the sort at the end. Each slot
    /// starts with a value that never maps to it, so the first hash is kept.
    recent: [u32; RECENT_SLOTS],
    /// Where the last word ended, when it was `def`.
    after_def: Option<usize>,
    /// Where the import statement the words are in ends (0: none).
    import_end: usize,
    /// Words are told apart by their hashes first: comparing the bytes of every word with
    /// `import`, `from` and `def` took a tenth of the time.
    keywords: Keywords,
}

impl<'t> WordHashes<'t> {
    fn new(text: &'t [u8]) -> Self {
        WordHashes {
            text,
            hashes: Vec::new(),
            kept: 0,
            defined: Vec::new(),
            imported: Vec::new(),
            recent: std::array::from_fn(|slot| slot as u32 + 1),
            after_def: None,
            import_end: 0,
            keywords: Keywords { import: hash("import"), from: hash("from"), def: hash("def") },
        }
    }

    /// Hashes the words `text[starts[i]..ends[i]]`, in order.
    fn add(&mut self, starts: &[u32], ends: &[u32]) {
        let text = self.text;
        // Room for every word, so that a repeat is dropped by not moving `kept` rather than by
        // a branch.
        self.hashes.resize(self.kept + starts.len(), 0);
        for (&start, &end) in starts.iter().zip(ends) {
            let (start, end) = (start as usize, end as usize);
            let hash = word_hash(text, start, end);
            if start < self.import_end {
                self.imported.push(hash);
            } else if (hash == self.keywords.import || hash == self.keywords.from || start == 0)
                && is_import_keyword(text, start, end)
                && starts_its_line(text, start)
            {
                self.import_end = end_of_statement_line(text, end);
            }
            let slot = &mut self.recent[(hash as usize) % RECENT_SLOTS];
            self.hashes[self.kept] = hash;
            self.kept += usize::from(*slot != hash);
            *slot = hash;
            if let Some(def_end) = self.after_def
                && text[def_end..start].iter().all(|&b| b == b' ' || b == b'\t')
            {
                self.defined.push(hash);
            }
            self.after_def = (hash == self.keywords.def && &text[start..end] == b"def").then_some(end);
        }
    }

    fn finish(self) -> Identifiers {
        let WordHashes { mut hashes, kept, mut defined, mut imported, .. } = self;
        hashes.truncate(kept);
        for set in [&mut hashes, &mut defined, &mut imported] {
            set.sort_unstable();
            set.dedup();
            set.shrink_to_fit();
        }
        Identifiers { hashes, defined, imported }
    }
}

/// The hash [`Identifiers`] keeps of `name`.
pub fn hash(name: &str) -> u32 {
    word_hash(name.as_bytes(), 0, name.len())
}

impl Identifiers {
    /// Two passes, with few branches (the time of a byte-by-byte loop went to mispredicted ends
    /// of words): where words start and end, then the hash of each word; both a chunk of
    /// [`CHUNK_BYTES`] at a time, so that the bounds kept per thread stay small whatever the
    /// size of the text.
    pub fn of(text: &[u8]) -> Identifiers {
        WORD_BOUNDS.with(|bounds| {
            let mut bounds = bounds.borrow_mut();
            let (starts, ends) = &mut *bounds;
            Identifiers::of_with(text, starts, ends)
        })
    }

    /// [`Identifiers::of`] with buffers for where words start and end (kept per thread: zeroing
    /// fresh ones for every file cost a fifth of the time).
    fn of_with(text: &[u8], starts: &mut Vec<u32>, ends: &mut Vec<u32>) -> Identifiers {
        // At most one word per two bytes of a chunk, one more for a word carried over from
        // the chunk before, and one end more, for a word at the very end.
        let slots = text.len().min(CHUNK_BYTES) / 2 + 2;
        if starts.len() < slots {
            starts.resize(slots, 0);
            ends.resize(slots, 0);
        }
        let mut words = WordHashes::new(text);
        // Whether the byte before the chunk continues an identifier, and where the word that
        // runs on into the next chunk started.
        let mut before = 0u64;
        let mut carried: Option<u32> = None;
        for (chunk_index, chunk) in text.chunks(CHUNK_BYTES).enumerate() {
            let (mut started, mut ended) = (0usize, 0usize);
            if let Some(start) = carried.take() {
                starts[0] = start;
                started = 1;
            }
            // Sixty-four bytes at a time: a bit per byte that continues an identifier, then the
            // bits where a word starts (set, with the byte before unset) and ends (the
            // reverse), visited one set bit at a time: the work is per word, not per byte.
            for (block, bytes) in chunk.chunks(64).enumerate() {
                let identifier = identifier_bits(bytes);
                let previous = (identifier << 1) | before;
                let mut word_starts = identifier & !previous;
                // An end within the block: past its last byte the bits are unset, so a word
                // that runs to the end of a short last block ends there too (and only there).
                let mut word_ends = !identifier & previous;
                if bytes.len() < 64 {
                    word_ends &= (1u64 << bytes.len()) - 1;
                }
                before = identifier >> 63;
                // Sources over 4 GiB are refused before they are read.
                let base = u32::try_from(chunk_index * CHUNK_BYTES + block * 64).unwrap_or(u32::MAX);
                while word_starts != 0 {
                    starts[started] = base + word_starts.trailing_zeros();
                    started += 1;
                    word_starts &= word_starts - 1;
                }
                while word_ends != 0 {
                    ends[ended] = base + word_ends.trailing_zeros();
                    ended += 1;
                    word_ends &= word_ends - 1;
                }
            }
            words.add(&starts[..ended], &ends[..ended]);
            // Starts are never behind ends: at most one word is still open.
            if started > ended {
                carried = Some(starts[ended]);
            }
        }
        // A word that runs to the end of the text (a whole last block of 64 bytes included).
        if let Some(start) = carried {
            words.add(&[start], &[u32::try_from(text.len()).unwrap_or(u32::MAX)]);
        }
        words.finish()
    }

    /// Whether the text may define a function `name` (`def name`): `false` means it certainly
    /// does not.
    pub fn may_define(&self, name: &str) -> bool {
        self.may_define_hash(hash(name))
    }

    /// [`Identifiers::may_define`] of a name's [`hash`], for a name asked of many texts.
    pub fn may_define_hash(&self, name_hash: u32) -> bool {
        self.defined.binary_search(&name_hash).is_ok()
    }

    /// Whether the text may import a module `name` or a module within it (`name.sub`), as an
    /// import statement at the start of a line does: `false` means it certainly does not.
    pub fn may_import(&self, name: &str) -> bool {
        self.may_import_hash(hash(name))
    }

    /// [`Identifiers::may_import`] of a name's [`hash`], for a name asked of many texts.
    pub fn may_import_hash(&self, name_hash: u32) -> bool {
        self.imported.binary_search(&name_hash).is_ok()
    }

    /// Whether `name` may occur in the text: `false` means it certainly does not.
    pub fn may_contain(&self, name: &str) -> bool {
        self.may_contain_hash(hash(name))
    }

    /// [`Identifiers::may_contain`] of a name's [`hash`], for a name asked of many texts.
    pub fn may_contain_hash(&self, name_hash: u32) -> bool {
        self.hashes.binary_search(&name_hash).is_ok()
    }

    /// Whether any of `names` may occur in the text.
    pub fn may_contain_any<'n>(&self, mut names: impl Iterator<Item = &'n str>) -> bool {
        names.any(|name| self.may_contain(name))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A byte at a time, as [`identifier_bits`] was written first.
    const IDENTIFIER_BYTE: [u8; 256] = {
        let mut table = [0; 256];
        let mut b = 0;
        while b < 256 {
            let c = b as u8;
            table[b] = (c.is_ascii_alphanumeric() || c == b'_' || c >= 0x80) as u8;
            b += 1;
        }
        table
    };

    #[test]
    fn the_bits_of_eight_bytes_at_once_are_those_of_the_table() {
        for first in 0..=255u8 {
            for second in [0u8, b'a', b'Z', b'_', b'0', b' ', 0x7f, 0x80, 0xff, first] {
                let bytes = [first, second, b'x', first, 0x40, first, b'{', second];
                let expected = bytes
                    .iter()
                    .enumerate()
                    .fold(0u64, |bits, (k, &b)| bits | u64::from(IDENTIFIER_BYTE[usize::from(b)]) << k);
                assert_eq!(identifier_bits(&bytes), expected, "{bytes:?}");
                assert_eq!(identifier_bits(&bytes[..3]), expected & 0b111, "{bytes:?}");
            }
        }
        // Whole blocks of 64 take another path: every byte value, in four blocks.
        let all: Vec<u8> = (0..=255u8).collect();
        for block in all.chunks(64) {
            let expected = block
                .iter()
                .enumerate()
                .fold(0u64, |bits, (k, &b)| bits | u64::from(IDENTIFIER_BYTE[usize::from(b)]) << k);
            assert_eq!(identifier_bits(block), expected, "{block:?}");
        }
    }

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
    fn long_words_and_words_at_the_very_end_are_whole_words() {
        // Hashed eight bytes at a time: words longer than that, and the last word of a text
        // with no byte after it, are read to their ends and no further.
        let ids = Identifiers::of(b"pool = make_connection_pool\nx = get_connection_factory");
        assert!(ids.may_contain("make_connection_pool"));
        assert!(ids.may_contain("get_connection_factory"));
        assert!(!ids.may_contain("get_connection_factor"));
        assert!(!ids.may_contain("make_connection"));
        assert!(!ids.may_contain("make_connection_pools"));
        assert!(Identifiers::of(b"def").may_contain("def"));
        assert!(!Identifiers::of(b"def").may_define("def"));
        assert!(Identifiers::of(b"def f").may_define("f"));
    }

    #[test]
    fn words_across_and_at_the_ends_of_64_byte_blocks_are_whole_words() {
        // The bounds are found 64 bytes at a time: a word that crosses a block, ends with one,
        // or ends the text at a block's end is one word.
        for len in [63, 64, 65, 127, 128, 129] {
            for at in [0, 1, 59, 60, 61, 62, 63, 64, 65] {
                let mut text = vec![b' '; len];
                let word = b"sqlite3";
                let end = (at + word.len()).min(len);
                text[at.min(len)..end].copy_from_slice(&word[..end - at.min(len)]);
                let ids = Identifiers::of(&text);
                let expected = std::str::from_utf8(&text).unwrap().split_whitespace().next();
                if let Some(expected) = expected {
                    assert!(ids.may_contain(expected), "len {len}, word at {at}: {expected}");
                    assert_eq!(ids.hashes.len(), 1, "len {len}, word at {at}: one word");
                }
            }
        }
        let long = "x".repeat(200);
        assert!(Identifiers::of(long.as_bytes()).may_contain(&long));
        assert!(!Identifiers::of(long.as_bytes()).may_contain(&long[..199]));
    }

    #[test]
    fn imported_modules_are_the_words_of_lines_that_start_with_import_or_from() {
        let text = "\u{feff}import os, \\\r\n    test.support\nfrom  shelve import open as o\n\
            \tfrom\t.db import (\n  pool,\n)\nx = 1; import later\nraise X from sqlite3\n\
            \"\"\"\nimport docs\n\"\"\"\nif x: import hidden\n";
        let ids = Identifiers::of(text.as_bytes());
        for module in ["os", "test", "support", "shelve", "open", "db", "docs"] {
            assert!(ids.may_import(module), "{module}");
        }
        // Not at the start of a line, or past the statement's line: the selection reads no
        // import there either.
        for name in ["pool", "later", "sqlite3", "hidden", "x"] {
            assert!(!ids.may_import(name), "{name}");
        }
        assert!(ids.may_contain("later") && ids.may_contain("hidden"));
        assert!(Identifiers::of(b"import sqlite3").may_import("sqlite3"), "a statement at the very end");
        assert!(!Identifiers::of(b"import").may_import("import"));
    }

    #[test]
    fn non_ascii_identifiers_and_empty_text() {
        let ids = Identifiers::of("verbindung = öffne()".as_bytes());
        assert!(ids.may_contain("öffne"));
        assert!(!Identifiers::of(b"").may_contain("x"));
    }

    /// Every word of `text` found a byte at a time: the hashes [`Identifiers::of`] must keep.
    fn words_one_byte_at_a_time(text: &[u8]) -> Vec<u32> {
        let mut hashes = Vec::new();
        let mut start = None;
        for at in 0..=text.len() {
            let continues = text.get(at).is_some_and(|&b| IDENTIFIER_BYTE[usize::from(b)] == 1);
            match (start, continues) {
                (None, true) => start = Some(at),
                (Some(from), false) => {
                    hashes.push(word_hash(text, from, at));
                    start = None;
                }
                _ => {}
            }
        }
        hashes.sort_unstable();
        hashes.dedup();
        hashes
    }

    #[test]
    fn words_across_the_bounds_of_chunks_are_whole_words() {
        // Texts several chunks long whose words start, end and run across every chunk bound,
        // shifted a byte at a time; long words span whole blocks of 64 bytes.
        for shift in [0, 1, 2, 31, 63, 64, 65] {
            let mut text = vec![b' '; shift];
            let mut n = 0;
            while text.len() < 3 * CHUNK_BYTES + 200 {
                let word = if n % 97 == 0 { format!("long_{}_{n}", "x".repeat(70)) } else { format!("w{n}") };
                text.extend_from_slice(word.as_bytes());
                text.push(if n % 5 == 0 { b'\n' } else { b'.' });
                n += 1;
            }
            for cut in [CHUNK_BYTES - 1, CHUNK_BYTES, CHUNK_BYTES + 1, 2 * CHUNK_BYTES] {
                let text = &text[..cut + shift];
                let ids = Identifiers::of(text);
                assert_eq!(ids.hashes, words_one_byte_at_a_time(text), "shift {shift}, cut {cut}");
            }
            let ids = Identifiers::of(&text);
            assert_eq!(ids.hashes, words_one_byte_at_a_time(&text), "shift {shift}");
        }
    }

    #[test]
    fn imports_and_defs_across_the_bounds_of_chunks_are_read() {
        // `def` and its name, and an import statement, on either side of a chunk's bound.
        for before in [CHUNK_BYTES - 5, CHUNK_BYTES - 4, CHUNK_BYTES - 3, CHUNK_BYTES - 12] {
            let mut text = "#".repeat(before - 1);
            text.push('\n');
            text.push_str("def fetch(conn):\n    pass\nfrom app.db import pool\nimport sqlite3\n");
            let ids = Identifiers::of(text.as_bytes());
            assert!(ids.may_define("fetch"), "{before}");
            assert!(!ids.may_define("conn"), "{before}");
            for module in ["app", "db", "pool", "sqlite3"] {
                assert!(ids.may_import(module), "{module} at {before}");
            }
        }
    }
}
