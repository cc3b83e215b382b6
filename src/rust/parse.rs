//! Reading a Rust file into a syntax tree without risking the stack.
//!
//! syn parses recursively, and dropping, visiting and printing its tree recurse as deep as the
//! tree is. Deeply nested input (a generated file, a fuzzer's output) would overflow even the
//! analysis threads' 256 MiB stack, and a stack overflow aborts the whole process: every other
//! file's results would be lost. So the file is first split into tokens (proc-macro2's lexer
//! works with an explicit stack), an upper bound on the tree's depth is taken from the tokens,
//! and a file above [`MAX_NESTING`] gets `CL000` instead of being parsed.
//!
//! The tokens are then handed to syn, so the file is still lexed only once.

use proc_macro2::{Delimiter, Spacing, TokenStream, TokenTree};

/// The deepest nesting estimate (see [`nesting`]) a file may have. Real code stays below: of
/// the 49,012 files of the Rust corpora in `docs/reliability.md`, 99.9% score under 220 and the
/// deepest (a generated Unicode table) 1,407. At the bound, the costliest input measured (3,000
/// nested `&` in a type) needs 11 MiB of stack in a release build and 104 MiB in a debug build;
/// analysis threads have 256 MiB.
pub const MAX_NESTING: usize = 3000;

/// Why a file could not be turned into a syntax tree: a byte range in the file and a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unparsed {
    pub start: usize,
    pub end: usize,
    pub message: String,
    pub help: &'static str,
}

/// A parsed file, and where in the source the text that syn saw starts (past a byte-order mark
/// and a `#!` line): every syn span is shifted by it.
pub struct Parsed {
    pub file: syn::File,
    pub offset: usize,
}

/// Parses a whole Rust file as `syn::parse_file` does (byte-order mark and `#!` line skipped),
/// refusing input nested deeper than [`MAX_NESTING`].
pub fn parse_file(source: &str) -> Result<Parsed, Unparsed> {
    let mut offset = if source.starts_with('\u{feff}') { '\u{feff}'.len_utf8() } else { 0 };
    let shebang = shebang_len(&source[offset..]);
    let shebang_text = shebang.map(|len| source[offset..offset + len].to_string());
    offset += shebang.unwrap_or(0);
    let content = &source[offset..];
    let tokens: TokenStream = content.parse().map_err(|error: proc_macro2::LexError| {
        let range = error.span().byte_range();
        Unparsed {
            start: range.start + offset,
            end: range.end + offset,
            message: format!("syntax error: {}", syn::Error::from(error)),
            help: SYNTAX_HELP,
        }
    })?;
    if let Err(at) = nesting(&tokens, MAX_NESTING) {
        let range = at.byte_range();
        return Err(Unparsed {
            start: range.start + offset,
            end: range.end + offset,
            message: format!("nesting too deep: connlint reads Rust nested up to {MAX_NESTING} levels"),
            help: "the rest of the run goes on; this file is not checked (deeper nesting could overflow the stack)",
        });
    }
    let mut file: syn::File = syn::parse2(tokens).map_err(|error| {
        let range = error.span().byte_range();
        Unparsed {
            start: range.start + offset,
            end: range.end + offset,
            message: format!("syntax error: {error}"),
            help: SYNTAX_HELP,
        }
    })?;
    file.shebang = shebang_text;
    Ok(Parsed { file, offset })
}

const SYNTAX_HELP: &str = "the rest of the run goes on; this file is not checked until it parses";

/// The length of a `#!` first line that is not an inner attribute (`#![...]`), as rustc and
/// `syn::parse_file` read it. The line's newline is not part of it.
fn shebang_len(text: &str) -> Option<usize> {
    let rest = text.strip_prefix("#!")?;
    if skip_trivia(rest).starts_with('[') {
        return None;
    }
    Some(text.find('\n').unwrap_or(text.len()))
}

/// `text` without leading whitespace and (non-doc) comments.
fn skip_trivia(mut text: &str) -> &str {
    loop {
        let trimmed = text.trim_start();
        if trimmed.starts_with("//") && !trimmed.starts_with("///") && !trimmed.starts_with("//!")
            || trimmed.starts_with("////")
        {
            text = trimmed.find('\n').map_or("", |i| &trimmed[i..]);
        } else if trimmed.starts_with("/*") && !trimmed.starts_with("/*!") {
            // Block comments nest; an unterminated one leaves nothing.
            let mut depth = 0usize;
            let bytes = trimmed.as_bytes();
            let mut i = 0;
            let mut end = None;
            while i + 1 < bytes.len() {
                if bytes[i] == b'/' && bytes[i + 1] == b'*' {
                    depth += 1;
                    i += 2;
                } else if bytes[i] == b'*' && bytes[i + 1] == b'/' {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        end = Some(i);
                        break;
                    }
                } else {
                    i += 1;
                }
            }
            text = end.map_or("", |i| &trimmed[i..]);
        } else {
            return trimmed;
        }
    }
}

/// An upper bound on the depth of syn's tree of `tokens`: the largest estimate, or the first
/// token at which the estimate exceeds `limit`.
///
/// A syntax tree is only deeper than its tokens where something nests. Nesting comes from
/// groups (`(`, `[`, `{`) and, inside one group, from runs of tokens that build on each other:
/// prefix operators (`- - x`, `&&&x`, `|| || x`), postfix chains (`a.b().c()?`), binary operators
/// (`a + b + c`), generic types (`Vec<Vec<u8>>`), `else if` chains. Siblings do not nest: the
/// statements of a block, the elements of a list, the items of a module, the arms of a match.
///
/// So the estimate at a token is the number of tokens before it in its run, summed over the
/// enclosing groups (a group counts as one token of its parent's run). A run ends where a sibling
/// starts: after `;`; after `,` unless inside `<...>` or a closure's `|...|` (where a comma
/// separates parts of one nested thing); after a `{...}` block followed by an identifier other
/// than `else`/`as`, or by `#` (the next statement, item or match arm). Attributes and doc
/// comments add nothing to a run (syn keeps them in a list beside what they annotate); their
/// own contents nest from where they stand.
///
/// Every rule errs towards a longer run, so the estimate does not undercount where syn keeps
/// building a tree (past a syntax error it stops). Real files score a few dozen; the deepest in
/// the corpora of `docs/reliability.md` scores a few hundred.
pub fn nesting(tokens: &TokenStream, limit: usize) -> Result<usize, proc_macro2::Span> {
    let mut deepest = 0;
    let mut stack = vec![Level::new(tokens.clone(), 0)];
    while let Some(level) = stack.last_mut() {
        let Some(token) = level.tokens.next() else {
            stack.pop();
            continue;
        };
        if level.prev == Prev::Brace && starts_sibling(&token) {
            level.end_run();
        }
        // `#`, `#!` and the `[...]` after them are an attribute: not part of the run.
        let in_attribute = std::mem::take(&mut level.in_attribute);
        match &token {
            TokenTree::Punct(punct) if punct.as_char() == '#' || punct.as_char() == '!' && in_attribute => {
                level.in_attribute = true;
                continue;
            }
            TokenTree::Group(group) if in_attribute && group.delimiter() == Delimiter::Bracket => {
                let estimate = level.base + level.run + 1;
                if estimate > limit {
                    return Err(token.span());
                }
                deepest = deepest.max(estimate);
                stack.push(Level::new(group.stream(), estimate));
                continue;
            }
            _ => {}
        }
        // A binary operator or separator after an operand (`a + b`, `a && b`, `A | B`, `x: T`,
        // `a::b`) adds no token to the run: every level of `a + b + c` still has an operand
        // that counts, and flat lists (`A | B | C` patterns, `T: A + B` bounds) stay flat.
        let operator = match &token {
            TokenTree::Punct(punct) => {
                let joint = punct.spacing() == Spacing::Joint;
                let continues = match (&level.operator, level.prev) {
                    (Some(so_far), Prev::Punct { joint: true, .. }) => {
                        Some(format!("{so_far}{}", punct.as_char())).filter(|op| is_operator_prefix(op, joint))
                    }
                    _ => None,
                };
                let starts = || {
                    Some(punct.as_char().to_string())
                        .filter(|op| level.prev == Prev::Operand && is_operator_prefix(op, joint))
                };
                continues.or_else(starts)
            }
            _ => None,
        };
        let counted = operator.is_none();
        level.operator = operator;
        if counted {
            level.run += 1;
        }
        let estimate = level.base + level.run;
        if estimate > limit {
            return Err(token.span());
        }
        deepest = deepest.max(estimate);
        let prev = std::mem::replace(&mut level.prev, Prev::Operand);
        match token {
            TokenTree::Group(group) => {
                if group.delimiter() == Delimiter::Brace {
                    level.prev = Prev::Brace;
                }
                stack.push(Level::new(group.stream(), estimate));
            }
            TokenTree::Ident(ident) => {
                if EXPRESSION_KEYWORDS.iter().any(|k| ident == k) {
                    level.prev = Prev::Start;
                }
            }
            TokenTree::Literal(_) => {}
            TokenTree::Punct(punct) => {
                let joint = punct.spacing() == Spacing::Joint;
                level.prev = Prev::Punct { ch: punct.as_char(), joint };
                match (punct.as_char(), prev) {
                    (';', _) => level.end_run(),
                    (',', _) if level.angles == 0 && !level.in_pipes => level.end_run(),
                    ('<', _) => level.angles += 1,
                    // `<=` compares.
                    ('=', Prev::Punct { ch: '<', joint: true }) => level.angles = level.angles.saturating_sub(1),
                    // `=>` ends a match arm's pattern: no generic or closure parameters span it.
                    ('>', Prev::Punct { ch: '=', joint: true }) => {
                        level.angles = 0;
                        level.in_pipes = false;
                    }
                    ('>', Prev::Punct { ch: '-', joint: true }) => {}
                    ('>', _) => level.angles = level.angles.saturating_sub(1),
                    ('|', _) if level.in_pipes => {
                        // The closing `|` of closure parameters: the body starts.
                        level.in_pipes = false;
                        level.prev = Prev::Start;
                    }
                    // After an operand `|` is `a | b` or the first half of `a || b` (after a block it
                    // may start a closure: counted as one, which only lengthens the run).
                    ('|', Prev::Operand) => level.prev = Prev::OrOperator { joint },
                    // The second half of `a || b`; an operand comes next.
                    ('|', Prev::OrOperator { joint: true }) => level.prev = Prev::Start,
                    ('|', _) => {
                        level.in_pipes = true;
                        level.prev = Prev::Start;
                    }
                    ('?', _) => level.prev = Prev::Operand,
                    _ => {}
                }
            }
        }
    }
    Ok(deepest)
}

/// Binary operators and separators that follow an operand. A `.` starts one only when joint
/// (`..`, `..=`): alone it is a field or method access, which nests.
const OPERATORS: &[&str] = &[
    "+", "-", "*", "/", "%", "^", "&", "|", "&&", "||", "<<", ">>", "==", "!=", "<", "<=", ">", ">=", "=", "+=", "-=",
    "*=", "/=", "%=", "^=", "&=", "|=", "<<=", ">>=", "..", "..=", "...", ":", "::", "=>", "->", "!", "@",
];

fn is_operator_prefix(text: &str, joint: bool) -> bool {
    if text == "." {
        return joint;
    }
    OPERATORS.iter().any(|op| op.starts_with(text))
}

/// Keywords after which an expression starts (so a `|` after them opens a closure).
const EXPRESSION_KEYWORDS: &[&str] =
    &["return", "break", "yield", "move", "async", "static", "in", "match", "if", "while", "else", "box", "become"];

/// The kind of the previous token of a run, for telling a closure's `|` from `a | b`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Prev {
    /// Nothing, or something after which an expression starts.
    Start,
    /// A value: an identifier, a literal, a group, `?`.
    Operand,
    /// A `{...}` group: the next token may start a sibling.
    Brace,
    /// A `|` that is `a | b` or half of `a || b`.
    OrOperator {
        joint: bool,
    },
    Punct {
        ch: char,
        joint: bool,
    },
}

/// One group being measured.
struct Level {
    tokens: proc_macro2::token_stream::IntoIter,
    /// The estimate where this group starts.
    base: usize,
    /// Tokens so far in the current run.
    run: usize,
    prev: Prev,
    /// Unclosed `<` in the run: commas inside separate generic arguments of one type.
    angles: usize,
    /// Inside a closure's `|...|`: commas separate its parameters.
    in_pipes: bool,
    /// The previous token was `#` (or `#!`): a `[...]` now is an attribute.
    in_attribute: bool,
    /// The operator being read, if the previous punctuation started one after an operand.
    operator: Option<String>,
}

impl Level {
    fn new(tokens: TokenStream, base: usize) -> Level {
        Level {
            tokens: tokens.into_iter(),
            base,
            run: 0,
            prev: Prev::Start,
            angles: 0,
            in_pipes: false,
            in_attribute: false,
            operator: None,
        }
    }

    fn end_run(&mut self) {
        self.run = 0;
        self.prev = Prev::Start;
        self.angles = 0;
        self.in_pipes = false;
    }
}

/// Whether a token after a `{...}` block starts the next statement, item or match arm rather
/// than continuing an expression (`} else {`, `} as u8`, `}.await`, `} + 1`).
fn starts_sibling(token: &TokenTree) -> bool {
    match token {
        TokenTree::Ident(ident) => ident != "else" && ident != "as",
        TokenTree::Punct(punct) => punct.as_char() == '#',
        TokenTree::Group(_) | TokenTree::Literal(_) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn estimate(source: &str) -> usize {
        let tokens: TokenStream = source.parse().expect("lexes");
        nesting(&tokens, usize::MAX).unwrap_or(usize::MAX)
    }

    #[test]
    fn siblings_do_not_add_up() {
        let many_statements = "fn f() { ".to_string() + &"let x = a.b(c); ".repeat(500) + "}";
        assert!(estimate(&many_statements) < 20, "{}", estimate(&many_statements));
        let many_items = "fn f() { x } ".repeat(500) + &"#[test] fn g() {} ".repeat(500);
        assert!(estimate(&many_items) < 20, "{}", estimate(&many_items));
        let long_docs = "//! docs\n".repeat(1000) + &"/// docs\n#[inline]\n".repeat(1000) + "fn f() {}";
        assert!(estimate(&long_docs) < 20, "{}", estimate(&long_docs));
        let long_list = format!("const T: [u8; 3000] = [{}];", "1, ".repeat(3000));
        assert!(estimate(&long_list) < 30, "{}", estimate(&long_list));
        let match_arms = format!(
            "fn f() {{ match x {{ {} }} }}",
            "A => { b } C(d) | D => e, x @ _ if 1 <= x && x <= 2 => x | 1, y if a || b => |a, b| a, ".repeat(500)
        );
        assert!(estimate(&match_arms) < 30, "{}", estimate(&match_arms));
    }

    #[test]
    fn nesting_adds_up() {
        // Groups, prefix and postfix chains, generic types, else-if chains: each level counts.
        assert!(estimate(&format!("{}1{}", "(".repeat(300), ")".repeat(300))) >= 300);
        assert!(estimate(&format!("fn f() {{ {}1; }}", "- ".repeat(300))) >= 300);
        assert!(estimate(&format!("fn f() {{ a{}; }}", ".b()".repeat(300))) >= 300);
        assert!(estimate(&format!("type T = {}u8{};", "Vec<".repeat(300), ">".repeat(300))) >= 300);
        assert!(estimate(&format!("fn f() {{ if a {{}} {} }}", "else if a {} ".repeat(300))) >= 300);
        // Commas inside generic arguments and closure parameters do not end the run.
        assert!(estimate(&format!("type T = {}V{};", "HashMap<K, ".repeat(300), ">".repeat(300))) >= 300);
        assert!(estimate(&format!("fn f() {{ let c = {}1; }}", "|a, b| ".repeat(300))) >= 300);
        assert!(estimate(&format!("fn f() {{ let c = {}1; }}", "|||a, b| ".repeat(300))) >= 300);
        assert!(estimate(&format!("fn f() {{ let c = {}1; }}", "move |a, b| x || |a, b| ".repeat(300))) >= 300);
        // Binary operators add nothing, but their operands do.
        assert!(estimate(&format!("fn f() {{ let x = 1{}; }}", " + 1".repeat(300))) >= 300);
        assert!(estimate(&format!("fn f() {{ let x = a{}; }}", " = a".repeat(300))) >= 300);
        assert!(estimate(&format!("fn f() {{ let x = a &&{}b; }}", "&&".repeat(300))) >= 300);
        assert!(estimate(&format!("fn f() {{ let x = a{}; }}", " - -a".repeat(300))) >= 300);
        // Attributes add nothing, but do not hide what they sit between.
        assert!(estimate(&format!("fn f() {{ {}1; }}", "- #[a] ".repeat(300))) >= 300);
        // An arrow's `>` does not close an angle bracket.
        assert!(estimate(&format!("type T = {}u8;", "Box<dyn Fn(u8) -> u8, ".repeat(300))) >= 300);
    }

    #[test]
    fn shebang_lines_are_skipped_but_inner_attributes_are_not() {
        assert_eq!(shebang_len("#!/usr/bin/env run-cargo-script\nfn main() {}"), Some(31));
        assert_eq!(shebang_len("#![allow(dead_code)]\nfn main() {}"), None);
        assert_eq!(shebang_len("#! // comment\n /* block */ [allow(x)]"), None);
        assert_eq!(shebang_len("#!"), Some(2));
        assert_eq!(shebang_len("fn main() {}"), None);
    }

    #[test]
    fn spans_count_from_the_start_of_the_file() {
        let source = "\u{feff}#!/usr/bin/env é\nfn broken( {\n";
        let error = parse_file(source).err().expect("a syntax error");
        assert!(source.is_char_boundary(error.start) && error.start >= source.find("fn").unwrap_or(0));
        let Ok(parsed) = parse_file("#!/bin/x\nfn f() {}\n") else { panic!("a file with a `#!` line parses") };
        assert_eq!(parsed.offset, "#!/bin/x".len());
        assert_eq!(parsed.file.shebang.as_deref(), Some("#!/bin/x"));
    }

    #[test]
    fn too_deep_is_refused_before_parsing() {
        let deep = format!("fn f() {{ let x = {}1{}; }}", "(".repeat(MAX_NESTING), ")".repeat(MAX_NESTING));
        let error = parse_file(&deep).err().expect("refused");
        assert!(error.message.starts_with("nesting too deep"), "{}", error.message);
        let fine = format!("fn f() {{ let x = {}1{}; }}", "(".repeat(100), ")".repeat(100));
        assert!(parse_file(&fine).is_ok());
    }
}
