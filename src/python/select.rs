//! Which parts of a module can matter, found without parsing: the statements that mention a
//! name bound to a known module (or a factory found elsewhere), the functions they call, the
//! methods that touch the attributes they set, and the imports. Only those are parsed; a
//! 27,000-line test module with one socket test parses one class skeleton and one method.
//!
//! The scan is a light tokenizer: it knows strings, comments, brackets and line continuations,
//! so that statement boundaries and names are those of the real grammar, and a name inside a
//! string or comment does not count. It never fails; anything it cannot split stays whole.
//!
//! Pure: bytes in, byte ranges out.

use crate::hash::{FastMap as HashMap, FastSet as HashSet};

use crate::hash::FastSet;
use std::ops::Range;

/// What the knowledge base says a module must mention to matter.
#[derive(Debug, Clone, Default)]
pub struct Needles {
    /// Top-level names of the modules that have resources (`sqlite3`, `http`, `psycopg2`).
    pub module_roots: HashSet<String>,
    /// The modules that have resources (`sqlite3`, `http.client`), and every opener's path
    /// (`socket.create_connection`, `sqlite3.Connection.cursor`): an import matters when it
    /// brings one of those, or something they are in.
    pub modules: Vec<String>,
    pub openers: Vec<String>,
    /// Names that matter wherever they appear: methods recognised on any receiver (`getconn`).
    pub names: HashSet<String>,
    /// Factories found in the project: by name, the modules (or classes) defining one. A name
    /// matters in a module that imports one of those, or is one.
    pub factories: HashMap<String, Vec<String>>,
    /// What `from MODULE import *` brings in that matters, by top-level module name.
    pub star_names: HashMap<String, Vec<String>>,
}

impl Needles {
    /// The needles of a knowledge base: its modules' top-level names, the methods it
    /// recognises on any receiver, and what a star import of each module binds.
    pub fn from_knowledge(knowledge: &crate::python::knowledge::Knowledge) -> Needles {
        let mut needles = Needles::default();
        for resource in &knowledge.resources {
            let root = resource.module.split('.').next().unwrap_or_default().to_string();
            for open in &resource.open {
                if resource.unknown_receiver.as_deref() == Some("any")
                    && let Some(method) = open.rsplit('.').next()
                {
                    needles.names.insert(method.to_string());
                }
                let bound = open
                    .strip_prefix(resource.module.as_str())
                    .and_then(|rest| rest.strip_prefix('.'))
                    .and_then(|rest| rest.split('.').next());
                if let Some(bound) = bound {
                    let star = needles.star_names.entry(root.clone()).or_default();
                    if !star.iter().any(|s| s == bound) {
                        star.push(bound.to_string());
                    }
                }
            }
            needles.module_roots.insert(root);
            needles.modules.push(resource.module.clone());
            needles.openers.extend(resource.open.iter().cloned());
        }
        needles.modules.sort();
        needles.modules.dedup();
        needles.openers.sort();
        needles.openers.dedup();
        needles
    }

    /// Whether importing `path` (a module, or a name in one) can bring something that opens a
    /// resource: `http` (a module that holds one), `http.client`, `socket.socket`; not
    /// `socket.gethostname` or `http.HTTPStatus`.
    fn brings_opener(&self, path: &str) -> bool {
        self.openers.iter().any(|o| within(path, o)) || self.modules.iter().any(|m| within(path, m))
    }
}

/// Whether the dotted name `inner` is `outer` or lies inside it: `http.client` and
/// `http.client.HTTPConnection` are within `http.client`; `http.clients` is not.
pub fn within(outer: &str, inner: &str) -> bool {
    inner.strip_prefix(outer).is_some_and(|rest| rest.is_empty() || rest.starts_with('.'))
}

/// The result of the selection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Selection {
    /// Nothing in the module can matter.
    Nothing,
    /// Parse the whole module (most of it matters, or the scan found something odd).
    Whole,
    /// Parse only these byte ranges; each starts at the start of a line and ends after one.
    Ranges(Vec<Range<usize>>),
}

impl Selection {
    /// The byte ranges of a text of `len` bytes that are not parsed.
    pub fn outside(&self, len: usize) -> impl Iterator<Item = Range<usize>> + '_ {
        let parsed: &[Range<usize>] = match self {
            Selection::Nothing => &[],
            Selection::Whole => std::slice::from_ref(&WHOLE),
            Selection::Ranges(ranges) => ranges,
        };
        let starts = std::iter::once(0).chain(parsed.iter().map(move |r| r.end.min(len)));
        let ends = parsed.iter().map(move |r| r.start.min(len)).chain(std::iter::once(len));
        starts.zip(ends).filter(|(start, end)| start < end).map(|(start, end)| start..end)
    }
}

/// Everything, as a range (for [`Selection::outside`] of [`Selection::Whole`]).
const WHOLE: Range<usize> = 0..usize::MAX;

/// Parts that cover more than this share of the file are parsed whole: splitting saves little.
const WHOLE_FILE_SHARE: f64 = 0.7;

/// What the selection found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Selected {
    pub selection: Selection,
    /// Of a module selected in part, the functions selected because selected code calls them
    /// (or another module wanted them): a later round that selects more of the module compares
    /// them with the new selection's. Empty for a module selected whole.
    pub called: HashSet<String>,
    /// The functions defined in the parts not selected.
    pub unselected_defs: HashSet<String>,
    /// The module's name and the modules its imports name, anywhere in it (see [`reaches`]):
    /// whether a factory found later can matter to it.
    pub imported: Vec<String>,
}

/// Which module a source is: its dotted name and its package (for relative imports).
#[derive(Debug, Clone, Copy)]
pub struct ModuleName<'a> {
    pub name: &'a str,
    pub package: Option<&'a str>,
}

/// Selects what to parse in `source`. `wanted_defs`: functions other modules call, selected
/// whatever they mention.
pub fn select(source: &str, module: ModuleName, needles: &Needles, wanted_defs: &HashSet<String>) -> Selected {
    let bytes = source.as_bytes();
    let whole = |called| Selected {
        selection: Selection::Whole,
        called,
        unselected_defs: HashSet::default(),
        imported: Vec::new(),
    };
    let Some(scan) = Scan::new(bytes) else { return whole(HashSet::default()) };
    let (seed_names, imported) = seeds(source, &scan, module, needles);
    let chunks = chunk(source, &scan, 0, scan.lines.len(), 0);
    let mut state = Closure {
        source,
        scan: &scan,
        seeds: FastSet::default(),
        seed_filter: NameFilter::default(),
        wanted_defs: wanted_defs.iter().map(String::as_str).collect(),
        included: FastSet::default(),
        imports_only: FastSet::default(),
    };
    seed_names.iter().for_each(|seed| state.add_seed(seed));
    if !state.seeds.is_empty() || !wanted_defs.is_empty() {
        state.run(&chunks);
    }
    if !state.included.iter().any(|&first| !state.import_only(first)) {
        let nothing = Selected {
            selection: Selection::Nothing,
            called: HashSet::default(),
            unselected_defs: HashSet::default(),
            imported,
        };
        return nothing;
    }
    let selection = state.selection(&chunks, source.len());
    let called: HashSet<String> = match selection {
        // Nothing more of a module parsed whole can be selected: nothing to compare.
        Selection::Whole => HashSet::default(),
        _ => state.wanted_defs.iter().map(|s| s.to_string()).collect(),
    };
    let unselected_defs = match selection {
        Selection::Ranges(_) => state.unselected_defs(&chunks),
        _ => HashSet::default(),
    };
    Selected { selection, called, unselected_defs, imported }
}

impl Closure<'_> {
    fn selection(&self, chunks: &[Chunk], len: usize) -> Selection {
        let state = self;
        let mut ranges = Vec::new();
        state.collect(chunks, &mut ranges);
        ranges.sort_by_key(|r| r.start);
        let mut merged: Vec<Range<usize>> = Vec::new();
        for range in ranges {
            match merged.last_mut() {
                Some(last) if range.start <= last.end => last.end = last.end.max(range.end),
                _ => merged.push(range),
            }
        }
        let selected: usize = merged.iter().map(|r| r.len()).sum();
        if selected as f64 > WHOLE_FILE_SHARE * len as f64 {
            return Selection::Whole;
        }
        Selection::Ranges(merged)
    }
}

/// One logical line: a statement's line, with its continuation lines.
#[derive(Debug, Clone)]
struct Line {
    /// The start of its first physical line and the end of its last (after the newline).
    start: usize,
    end: usize,
    /// Where the first token starts.
    code_start: usize,
    indent: usize,
    /// Its names, as indexes into `Scan::names`.
    names: Range<usize>,
}

/// A name in code, with what is around it.
#[derive(Debug, Clone, Copy)]
struct Name {
    start: usize,
    end: usize,
    /// `x.NAME`
    after_dot: bool,
    /// `NAME(`
    called: bool,
    /// `NAME =` (not `==`), or `NAME +=` and the like.
    assigned: bool,
    /// `self.NAME` / `cls.NAME`
    on_self: bool,
    /// [`crate::identifiers::word_hash`] of the name, for [`NameFilter`].
    hash: u32,
}

/// A filter over a few names, by their hashes: most names of a module are none of the seeds
/// or needles, and a bit test says so without hashing the text into a set again (the
/// selection asks about every name of a module, in every pass of its closure).
#[derive(Debug, Clone, Default)]
struct NameFilter {
    bits: [u64; 16],
}

impl NameFilter {
    fn insert(&mut self, name: &str) {
        let bit = crate::identifiers::hash(name) as usize % 1024;
        self.bits[bit / 64] |= 1 << (bit % 64);
    }

    /// False only if no inserted name has this hash: a name it lets through is looked up.
    fn may_contain(&self, hash: u32) -> bool {
        let bit = hash as usize % 1024;
        self.bits[bit / 64] & (1 << (bit % 64)) != 0
    }
}

struct Scan {
    lines: Vec<Line>,
    names: Vec<Name>,
}

impl Scan {
    /// Splits the text into logical lines and names. `None` when the text does not tokenize
    /// (an unterminated string or bracket): then the whole file is parsed.
    fn new(bytes: &[u8]) -> Option<Scan> {
        // About a name per eight bytes and a line per forty, in Python as written: room for
        // them at once rather than by doubling.
        let mut lines = Vec::with_capacity(bytes.len() / 40);
        let mut names = Vec::with_capacity(bytes.len() / 8);
        // A byte-order mark is not part of the first line's code.
        let mut i = if bytes.starts_with(b"\xef\xbb\xbf") { 3 } else { 0 };
        let len = bytes.len();
        while i < len {
            // The start of a physical line, outside brackets and strings.
            let line_start = i;
            let mut indent = 0;
            while i < len {
                match bytes[i] {
                    b' ' => indent += 1,
                    b'\t' => indent = (indent / 8 + 1) * 8,
                    b'\x0c' => indent = 0,
                    _ => break,
                }
                i += 1;
            }
            if i >= len {
                break;
            }
            if matches!(bytes[i], b'\n' | b'\r' | b'#') {
                // Blank or comment-only line.
                i = end_of_physical_line(bytes, i);
                continue;
            }
            let code_start = i;
            let first_name = names.len();
            let mut depth: usize = 0;
            let mut prev_significant: u8 = b'\n';
            loop {
                if i >= len {
                    break;
                }
                let b = bytes[i];
                match b {
                    b'\n' => {
                        i += 1;
                        if depth == 0 {
                            break;
                        }
                    }
                    b'\r' => i += 1,
                    b'\\' => {
                        // A line continuation (or a stray backslash): skip it and the newline.
                        i += 1;
                        if i < len && bytes[i] == b'\r' {
                            i += 1;
                        }
                        if i < len && bytes[i] == b'\n' {
                            i += 1;
                        }
                    }
                    b'#' => i = memchr::memchr(b'\n', &bytes[i..]).map_or(len, |at| i + at),
                    b'(' | b'[' | b'{' => {
                        depth += 1;
                        prev_significant = b;
                        i += 1;
                    }
                    b')' | b']' | b'}' => {
                        depth = depth.saturating_sub(1);
                        prev_significant = b;
                        i += 1;
                    }
                    b'"' | b'\'' => {
                        i = skip_string(bytes, i)?;
                        prev_significant = b'"';
                    }
                    b if b.is_ascii_alphabetic() || b == b'_' || b >= 0x80 => {
                        let start = i;
                        while i < len && IN_NAME[usize::from(bytes[i])] {
                            i += 1;
                        }
                        if i < len && matches!(bytes[i], b'"' | b'\'') && is_string_prefix(&bytes[start..i]) {
                            i = skip_string(bytes, i)?;
                            prev_significant = b'"';
                            continue;
                        }
                        let after = next_significant(bytes, i);
                        let assigned = match after {
                            Some((b'=', at)) => bytes.get(at + 1) != Some(&b'='),
                            // `name: Type = value` (or only declared) at the start of a statement.
                            Some((b':', _)) => {
                                depth == 0
                                    && prev_significant == b'\n'
                                    && !matches!(&bytes[start..i], b"else" | b"try" | b"except" | b"finally")
                            }
                            Some((op, at)) => {
                                matches!(op, b'+' | b'-' | b'*' | b'/' | b'|' | b'&' | b'%' | b'^')
                                    && bytes.get(at + 1) == Some(&b'=')
                            }
                            None => false,
                        };
                        let after_dot = prev_significant == b'.';
                        let on_self = after_dot && {
                            let before_dot = previous_name(bytes, start);
                            matches!(before_dot, Some(b"self") | Some(b"cls"))
                        };
                        names.push(Name {
                            start,
                            end: i,
                            after_dot,
                            called: matches!(after, Some((b'(', _))),
                            assigned,
                            on_self,
                            hash: crate::identifiers::word_hash(bytes, start, i),
                        });
                        prev_significant = b'a';
                    }
                    b' ' | b'\t' | b'\x0c' => i += 1,
                    _ => {
                        prev_significant = b;
                        i += 1;
                    }
                }
            }
            lines.push(Line { start: line_start, end: i, code_start, indent, names: first_name..names.len() });
        }
        Some(Scan { lines, names })
    }

    fn text<'s>(&self, source: &'s str, name: &Name) -> &'s str {
        source.get(name.start..name.end).unwrap_or_default()
    }

    /// The first word of a logical line (`def`, `class`, `import`, `@`...).
    fn first_word<'s>(&self, source: &'s str, line: &Line) -> &'s str {
        let rest = &source.as_bytes()[line.code_start..line.end];
        if rest.starts_with(b"@") {
            return "@";
        }
        // Bytes, not characters: asked of every line, and only ever compared with keywords.
        let end = rest.iter().position(|&b| !IN_NAME[usize::from(b)]).unwrap_or(rest.len());
        source.get(line.code_start..line.code_start + end).unwrap_or_default()
    }
}

/// The bytes that continue a name: ASCII letters, digits, `_`, and any byte of a non-ASCII
/// character.
static IN_NAME: [bool; 256] = {
    let mut table = [false; 256];
    let mut b = 0;
    while b < 256 {
        let byte = b as u8;
        table[b] = byte.is_ascii_alphanumeric() || byte == b'_' || byte >= 0x80;
        b += 1;
    }
    table
};

fn end_of_physical_line(bytes: &[u8], i: usize) -> usize {
    memchr::memchr(b'\n', &bytes[i..]).map_or(bytes.len(), |at| i + at + 1)
}

/// `r`, `b`, `f`, `u`, `rb`, `br`, `fr`, `rf`, in any case.
fn is_string_prefix(word: &[u8]) -> bool {
    word.len() <= 2
        && word.iter().all(|b| matches!(b.to_ascii_lowercase(), b'r' | b'b' | b'f' | b'u'))
        && !(word.len() == 2 && word[0].eq_ignore_ascii_case(&word[1]))
}

/// The index after the string that starts with the quote at `start`; `None` if it never ends.
fn skip_string(bytes: &[u8], start: usize) -> Option<usize> {
    let quote = bytes[start];
    let triple = bytes.get(start + 1) == Some(&quote) && bytes.get(start + 2) == Some(&quote);
    let mut i = start + if triple { 3 } else { 1 };
    while i < bytes.len() {
        // Straight to the next byte that can end the string.
        i += memchr::memchr3(quote, b'\\', b'\n', &bytes[i..])?;
        match bytes[i] {
            b'\\' => i += 2,
            b'\n' if !triple => return None,
            c if c == quote => {
                if !triple {
                    return Some(i + 1);
                }
                if bytes.get(i + 1) == Some(&quote) && bytes.get(i + 2) == Some(&quote) {
                    return Some(i + 3);
                }
                i += 1;
            }
            _ => i += 1,
        }
    }
    None
}

/// The next byte that is not a space (within the logical line), with its index.
fn next_significant(bytes: &[u8], mut i: usize) -> Option<(u8, usize)> {
    while i < bytes.len() && matches!(bytes[i], b' ' | b'\t') {
        i += 1;
    }
    bytes.get(i).map(|&b| (b, i))
}

/// The name just before the `.` that precedes the name at `start`.
fn previous_name(bytes: &[u8], start: usize) -> Option<&[u8]> {
    let mut i = start;
    while i > 0 && matches!(bytes[i - 1], b' ' | b'\t') {
        i -= 1;
    }
    if i == 0 || bytes[i - 1] != b'.' {
        return None;
    }
    i -= 1;
    while i > 0 && matches!(bytes[i - 1], b' ' | b'\t') {
        i -= 1;
    }
    let end = i;
    while i > 0 && (bytes[i - 1].is_ascii_alphanumeric() || bytes[i - 1] == b'_') {
        i -= 1;
    }
    let word_start_ok =
        i == 0 || !(bytes[i - 1].is_ascii_alphanumeric() || bytes[i - 1] == b'_' || bytes[i - 1] == b'.');
    word_start_ok.then(|| &bytes[i..end])
}

/// The names that matter in this module: what its imports of known modules bind, the
/// knowledge's names, what star imports bring, and the factories its imports can reach.
/// Also returns the module's name and the modules its imports name (absolute), for
/// [`reaches`].
fn seeds(source: &str, scan: &Scan, module: ModuleName, needles: &Needles) -> (HashSet<String>, Vec<String>) {
    let mut seeds = HashSet::default();
    let mut imported: Vec<String> = vec![module.name.to_string()];
    for line in &scan.lines {
        let word = scan.first_word(source, line);
        if word != "import" && word != "from" {
            continue;
        }
        for binding in import_bindings(&source[line.code_start..line.end]) {
            let absolute = absolute_module(&binding.module, module);
            if !imported.contains(&absolute) {
                imported.push(absolute.clone());
            }
            let root = absolute.split('.').next().unwrap_or_default();
            if binding.module.starts_with('.') || !needles.module_roots.contains(root) {
                continue;
            }
            match &binding.name {
                // `from M import *`
                Some(name) if name == "*" => seeds.extend(needles.star_names.get(root).into_iter().flatten().cloned()),
                // `from M import name`: a module or a name in one.
                Some(name) => {
                    if needles.brings_opener(&format!("{absolute}.{name}")) {
                        seeds.insert(binding.bound);
                    }
                }
                // `import a.b` binds `a`, and all of `a` is reachable through it; `import a.b as c`
                // binds `a.b`.
                None => {
                    let reachable = if binding.bound == root { root } else { absolute.as_str() };
                    if needles.brings_opener(reachable) {
                        seeds.insert(binding.bound);
                    }
                }
            }
        }
    }
    if needles.names.is_empty() && needles.factories.is_empty() {
        return (seeds, imported);
    }
    let mut needle_filter = NameFilter::default();
    needles.factories.keys().chain(&needles.names).for_each(|name| needle_filter.insert(name));
    for name in &scan.names {
        if !needle_filter.may_contain(name.hash) {
            continue;
        }
        let text = scan.text(source, name);
        if seeds.contains(text) {
            continue;
        }
        let factory = needles.factories.get(text).is_some_and(|modules| modules.iter().any(|m| reaches(&imported, m)));
        if factory || needles.names.contains(text) {
            seeds.insert(text.to_string());
        }
    }
    (seeds, imported)
}

/// Whether a module that imports `imported` (and is the first of them) can reach what
/// `defining` defines: it imports that module or a package above it.
pub fn reaches(imported: &[String], defining: &str) -> bool {
    imported.iter().any(|i| within(i, defining))
}

/// `..db` in package `app.web` is `app.db`.
fn absolute_module(imported: &str, module: ModuleName) -> String {
    let dots = imported.len() - imported.trim_start_matches('.').len();
    if dots == 0 {
        return imported.to_string();
    }
    let mut base: Vec<&str> = module.package.unwrap_or_default().split('.').filter(|p| !p.is_empty()).collect();
    for _ in 1..dots {
        base.pop();
    }
    let rest = &imported[dots..];
    if !rest.is_empty() {
        base.push(rest);
    }
    base.join(".")
}

/// What an import statement binds: `import a.b as c` binds `c` to module `a.b`; `import a.b`
/// binds `a` (to the module `a.b` for our purpose); `from a import b as c` binds `c` to `b` of
/// `a`.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Binding {
    module: String,
    /// The name imported from `module`, for `from` imports.
    name: Option<String>,
    bound: String,
}

/// The names an import statement binds.
fn import_bindings(statement: &str) -> Vec<Binding> {
    let code: String = statement
        .lines()
        .map(|l| l.split('#').next().unwrap_or_default())
        .collect::<Vec<_>>()
        .join(" ")
        .replace(['\\', '(', ')'], " ");
    let words: Vec<&str> = code.split_whitespace().collect();
    let mut out = Vec::new();
    match words.first() {
        Some(&"import") => {
            for part in words[1..].join(" ").split(',') {
                let pieces: Vec<&str> = part.split_whitespace().collect();
                match pieces.as_slice() {
                    [module] => out.push(Binding {
                        module: module.to_string(),
                        name: None,
                        bound: module.split('.').next().unwrap_or_default().to_string(),
                    }),
                    [module, "as", alias] => {
                        out.push(Binding { module: module.to_string(), name: None, bound: alias.to_string() })
                    }
                    _ => {}
                }
            }
        }
        Some(&"from") if words.len() >= 4 && words[2] == "import" => {
            let module = words[1];
            for part in words[3..].join(" ").split(',') {
                let pieces: Vec<&str> = part.split_whitespace().collect();
                let (name, bound) = match pieces.as_slice() {
                    [name] => (*name, *name),
                    [name, "as", alias] => (*name, *alias),
                    _ => continue,
                };
                out.push(Binding {
                    module: module.to_string(),
                    name: Some(name.to_string()),
                    bound: bound.to_string(),
                });
            }
        }
        _ => {}
    }
    out
}

/// A statement at some level: a leaf (parsed whole when selected) or a class (split into its
/// members).
#[derive(Debug)]
struct Chunk {
    /// Logical lines `first..end`.
    first: usize,
    end: usize,
    kind: ChunkKind,
    /// The name a `def` or `class` defines.
    defines: Option<Range<usize>>,
}

#[derive(Debug)]
enum ChunkKind {
    Leaf {
        top_level: bool,
    },
    /// The header is lines `first..members[0].first`.
    Class {
        members: Vec<Chunk>,
    },
}

/// Splits logical lines `first..end` into statements (with their decorators, bodies and
/// `else`/`except`/`finally` clauses); classes are split into their members.
fn chunk(source: &str, scan: &Scan, first: usize, end: usize, depth: usize) -> Vec<Chunk> {
    let lines = &scan.lines;
    let mut chunks = Vec::new();
    let mut i = first;
    while i < end {
        let base = lines[i].indent;
        let start = i;
        // Decorators, then the statement itself.
        while i + 1 < end && scan.first_word(source, &lines[i]) == "@" && lines[i + 1].indent == base {
            i += 1;
        }
        let statement = i;
        i += 1;
        loop {
            while i < end && lines[i].indent > base {
                i += 1;
            }
            let is_clause = i < end
                && lines[i].indent == base
                && matches!(scan.first_word(source, &lines[i]), "else" | "elif" | "except" | "finally");
            if !is_clause {
                break;
            }
            i += 1;
        }
        let keyword = scan.first_word(source, &lines[statement]);
        let defines = defined_name(source, scan, &lines[statement]);
        let kind = if keyword == "class" && statement + 1 < i {
            ChunkKind::Class { members: chunk(source, scan, statement + 1, i, depth + 1) }
        } else {
            ChunkKind::Leaf { top_level: depth == 0 }
        };
        chunks.push(Chunk { first: start, end: i, kind, defines });
    }
    chunks
}

/// The name after `def` or `class` on a statement's line.
fn defined_name(source: &str, scan: &Scan, line: &Line) -> Option<Range<usize>> {
    let names = &scan.names[line.names.clone()];
    let keyword = names.iter().position(|n| matches!(scan.text(source, n), "def" | "class"))?;
    if keyword > 1 {
        return None;
    }
    names.get(keyword + 1).map(|n| n.start..n.end)
}

struct Closure<'a> {
    source: &'a str,
    scan: &'a Scan,
    seeds: FastSet<&'a str>,
    /// The hashes of the seeds.
    seed_filter: NameFilter,
    /// Functions called from selected code: a `def` of that name is selected too.
    wanted_defs: FastSet<&'a str>,
    /// Selected leaves, by their first logical line.
    included: FastSet<usize>,
    /// Top-level leaves selected only because they import something.
    imports_only: FastSet<usize>,
}

impl<'a> Closure<'a> {
    fn names(&self, chunk: &Chunk) -> &'a [Name] {
        let scan: &'a Scan = self.scan;
        let lines = &scan.lines;
        let from = lines[chunk.first].names.start;
        let to = lines[chunk.end - 1].names.end;
        &scan.names[from..to]
    }

    fn mentions_seed(&self, names: &[Name]) -> bool {
        names
            .iter()
            .any(|n| self.seed_filter.may_contain(n.hash) && self.seeds.contains(self.scan.text(self.source, n)))
    }

    fn add_seed(&mut self, seed: &'a str) {
        self.seed_filter.insert(seed);
        self.seeds.insert(seed);
    }

    /// Selects leaves until nothing changes.
    fn run(&mut self, chunks: &[Chunk]) {
        loop {
            let before = (self.included.len(), self.seeds.len(), self.wanted_defs.len());
            self.visit(chunks, false);
            if before == (self.included.len(), self.seeds.len(), self.wanted_defs.len()) {
                break;
            }
        }
    }

    fn visit(&mut self, chunks: &[Chunk], forced: bool) {
        for chunk in chunks {
            match &chunk.kind {
                ChunkKind::Class { members } => {
                    // A class deriving from a known resource class matters whole.
                    let header = &self.scan.lines[chunk.first..members[0].first];
                    let header_names = &self.scan.names[header[0].names.start..header[header.len() - 1].names.end];
                    let whole = forced || self.mentions_seed(header_names);
                    self.visit(members, whole);
                }
                ChunkKind::Leaf { top_level } => {
                    if self.included.contains(&chunk.first) {
                        continue;
                    }
                    let names = self.names(chunk);
                    let direct = self.mentions_seed(names);
                    let wanted =
                        chunk.defines.as_ref().is_some_and(|r| self.wanted_defs.contains(&self.source[r.clone()]));
                    let import = *top_level && self.has_import(chunk);
                    if !(forced || direct || wanted || import) {
                        continue;
                    }
                    self.included.insert(chunk.first);
                    if !(forced || direct || wanted) {
                        self.imports_only.insert(chunk.first);
                    }
                    let is_def = chunk.defines.is_some();
                    let mut new_seeds = Vec::new();
                    for name in names {
                        let text: &'a str = self.scan.text(self.source, name);
                        if name.called {
                            self.wanted_defs.insert(text);
                        }
                        // What a selected statement stores where other code can reach it: an
                        // attribute of `self`, or a module- or class-level name.
                        if direct && name.assigned && (name.on_self || (!is_def && !name.after_dot)) {
                            new_seeds.push(text);
                        }
                    }
                    new_seeds.into_iter().for_each(|seed| self.add_seed(seed));
                }
            }
        }
    }

    /// A leaf selected only for its imports.
    fn import_only(&self, first: usize) -> bool {
        self.imports_only.contains(&first)
    }

    /// The functions defined in leaves that were not selected.
    fn unselected_defs(&self, chunks: &[Chunk]) -> HashSet<String> {
        let mut out = HashSet::default();
        for chunk in chunks {
            match &chunk.kind {
                ChunkKind::Leaf { .. } => {
                    if let Some(name) = &chunk.defines
                        && !self.included.contains(&chunk.first)
                    {
                        out.insert(self.source[name.clone()].to_string());
                    }
                }
                ChunkKind::Class { members } => out.extend(self.unselected_defs(members)),
            }
        }
        out
    }

    fn has_import(&self, chunk: &Chunk) -> bool {
        self.scan.lines[chunk.first..chunk.end]
            .iter()
            .any(|line| matches!(self.scan.first_word(self.source, line), "import" | "from"))
    }

    /// The byte ranges to parse: selected leaves, the headers of the classes around them, and
    /// a skeleton (header and smallest member) of every other class, for the class hierarchy.
    fn collect(&self, chunks: &[Chunk], ranges: &mut Vec<Range<usize>>) {
        let lines = &self.scan.lines;
        let span = |first: usize, end: usize| lines[first].start..lines[end - 1].end;
        for chunk in chunks {
            match &chunk.kind {
                ChunkKind::Leaf { .. } => {
                    if self.included.contains(&chunk.first) {
                        ranges.push(span(chunk.first, chunk.end));
                    }
                }
                ChunkKind::Class { members } => {
                    ranges.push(lines[chunk.first].start..lines[members[0].first].start);
                    if self.any_included(members) {
                        self.collect(members, ranges);
                    } else if let Some(smallest) = members.iter().min_by_key(|m| span(m.first, m.end).len()) {
                        ranges.push(span(smallest.first, smallest.end));
                    }
                }
            }
        }
    }

    fn any_included(&self, chunks: &[Chunk]) -> bool {
        chunks.iter().any(|chunk| match &chunk.kind {
            ChunkKind::Leaf { .. } => self.included.contains(&chunk.first),
            ChunkKind::Class { members } => self.any_included(members),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn needles() -> Needles {
        let mut needles = Needles::default();
        needles.module_roots.extend(["sqlite3".to_string(), "socket".to_string()]);
        needles.modules.extend(["sqlite3".to_string(), "socket".to_string()]);
        needles.openers.extend(["sqlite3.connect".to_string(), "socket.socket".to_string()]);
        needles.names.insert("getconn".to_string());
        needles.star_names.insert("sqlite3".to_string(), vec!["connect".to_string()]);
        needles
    }

    const MODULE: ModuleName = ModuleName { name: "app.store", package: Some("app") };

    /// The selected text, for assertions.
    fn selected(source: &str, wanted: &[&str]) -> String {
        let wanted: HashSet<String> = wanted.iter().map(|s| s.to_string()).collect();
        match select(source, MODULE, &needles(), &wanted).selection {
            Selection::Ranges(ranges) => ranges.iter().map(|r| &source[r.clone()]).collect(),
            other => format!("{other:?}"),
        }
    }

    const PADDING: &str = "def pad_a(x):\n    return x + 1\n\n\ndef pad_b(x):\n    y = [i for i in range(x)]\n    return sum(y) * 2\n\n\ndef pad_c(text):\n    return text.strip().lower().replace(' ', '-')\n\n\ndef pad_d(items):\n    return {k: v for k, v in items}\n";

    #[test]
    fn only_statements_that_mention_a_bound_name_are_parsed() {
        let source = format!(
            "import sqlite3\nimport os\n\n\ndef leak(p):\n    c = sqlite3.connect(p)\n    return c\n\n\n{PADDING}"
        );
        let text = selected(&source, &[]);
        assert!(text.contains("import sqlite3\nimport os\n"), "{text}");
        assert!(text.contains("def leak(p):"), "{text}");
        assert!(!text.contains("pad_"), "{text}");
    }

    #[test]
    fn a_byte_order_mark_does_not_hide_the_first_import() {
        let source = format!(
            "\u{feff}import sqlite3\n\n\ndef leak(p):\n    c = sqlite3.connect(p)\n    return c\n\n\n{PADDING}"
        );
        let text = selected(&source, &[]);
        assert!(text.starts_with("import sqlite3\n"), "{text}");
        assert!(text.contains("def leak(p):"), "{text}");
    }

    #[test]
    fn a_module_that_only_names_a_module_in_text_needs_nothing() {
        let source = format!("\"\"\"Talks about sqlite3 and socket.\"\"\"\n# import sqlite3\n{PADDING}");
        assert_eq!(select(&source, MODULE, &needles(), &HashSet::default()).selection, Selection::Nothing);
    }

    #[test]
    fn called_functions_and_attributes_stored_on_self_come_along() {
        let source = format!(
            "import sqlite3 as db\n\n\nclass Store:\n    def __init__(self, p):\n        self.conn = db.connect(p)\n\n    def close(self):\n        self.conn.close()\n\n    def other(self):\n        return 1\n\n\ndef use(p):\n    c = db.connect(p)\n    helper(c)\n\n\ndef helper(c):\n    c.close()\n\n\n{PADDING}"
        );
        let text = selected(&source, &[]);
        assert!(text.contains("class Store:\n"), "{text}");
        assert!(text.contains("def close(self):"), "the method that touches the stored attribute: {text}");
        assert!(!text.contains("def other"), "{text}");
        assert!(text.contains("def helper(c):"), "a function a selected one calls: {text}");
        assert!(!text.contains("pad_a"), "{text}");
    }

    #[test]
    fn other_classes_keep_a_skeleton_for_the_hierarchy() {
        let source = format!(
            "import socket\n\n\nclass Base:\n    \"\"\"Doc.\"\"\"\n\n    def big(self):\n        return [i * i for i in range(100)]\n\n\ndef f():\n    return socket.socket()\n\n\n{PADDING}"
        );
        let text = selected(&source, &[]);
        assert!(text.contains("class Base:\n    \"\"\"Doc.\"\"\"\n"), "{text}");
        assert!(!text.contains("def big"), "{text}");
    }

    #[test]
    fn wanted_definitions_are_parsed_whatever_they_mention() {
        let source = format!("import sqlite3\n\n\ndef f():\n    return sqlite3.connect('x')\n\n\n{PADDING}");
        let text = selected(&source, &["pad_c"]);
        assert!(text.contains("def pad_c(text):"), "{text}");
        assert!(!text.contains("def pad_a"), "{text}");
    }

    #[test]
    fn strings_comments_brackets_and_continuations_do_not_split_statements() {
        let source = format!(
            "import sqlite3\n\n\ndef f(p):\n    s = \"\"\"\ndef not_a_def():\n    pass\n\"\"\"\n    c = sqlite3.connect(\n        p,\n    )  # sqlite3\n    x = 1 + \\\n        2\n    return c\n\n\n{PADDING}"
        );
        let text = selected(&source, &[]);
        assert!(
            text.contains("def not_a_def():\n    pass\n\"\"\"\n    c = sqlite3.connect(\n        p,\n    )"),
            "{text}"
        );
        assert!(text.contains("    return c\n"), "{text}");
    }

    #[test]
    fn star_imports_and_any_receiver_names_are_seeds() {
        let source = format!(
            "from sqlite3 import *\n\n\ndef f(p):\n    return connect(p)\n\n\ndef g(pool):\n    return pool.getconn()\n\n\n{PADDING}"
        );
        let text = selected(&source, &[]);
        assert!(text.contains("def f(p):") && text.contains("def g(pool):"), "{text}");
    }

    #[test]
    fn factories_count_where_their_module_is_imported() {
        let mut needles = needles();
        needles.factories.insert("get_db".to_string(), vec!["app.db".to_string()]);
        let imports = format!("from .db import get_db\n\n\ndef f():\n    return get_db()\n\n\n{PADDING}");
        let selection = select(&imports, MODULE, &needles, &HashSet::default()).selection;
        assert!(matches!(selection, Selection::Ranges(_)), "{selection:?}");
        let unrelated = format!("from other import get_db\n\n\ndef f():\n    return get_db()\n\n\n{PADDING}");
        assert_eq!(select(&unrelated, MODULE, &needles, &HashSet::default()).selection, Selection::Nothing);
    }

    #[test]
    fn imports_of_names_that_open_nothing_are_not_seeds() {
        let source = format!("from socket import gethostname\n\n\ndef f():\n    return gethostname()\n\n\n{PADDING}");
        assert_eq!(select(&source, MODULE, &needles(), &HashSet::default()).selection, Selection::Nothing);
        let source = format!("from socket import socket as S\n\n\ndef f():\n    return S()\n\n\n{PADDING}");
        assert!(matches!(select(&source, MODULE, &needles(), &HashSet::default()).selection, Selection::Ranges(_)));
    }

    #[test]
    fn a_dotted_name_is_within_itself_and_its_packages_only() {
        assert!(within("http.client", "http.client"));
        assert!(within("http.client", "http.client.HTTPConnection"));
        assert!(within("http", "http.client"));
        assert!(!within("http.client", "http.clients"));
        assert!(!within("http.client", "http"));
    }

    #[test]
    fn what_is_outside_a_selection_is_the_gaps_between_its_ranges() {
        let outside = |selection: Selection| selection.outside(10).collect::<Vec<_>>();
        assert_eq!(outside(Selection::Nothing), vec![0..10]);
        assert!(outside(Selection::Whole).is_empty());
        assert_eq!(outside(Selection::Ranges(vec![2..4, 6..10])), vec![0..2, 4..6]);
        assert_eq!(outside(Selection::Ranges(vec![0..4, 4..5])), vec![5..10]);
    }

    #[test]
    fn unterminated_strings_parse_whole() {
        let source = "import sqlite3\nx = 'never ends\n";
        assert_eq!(select(source, MODULE, &needles(), &HashSet::default()).selection, Selection::Whole);
    }
}
