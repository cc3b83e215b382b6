//! Parsing with ruff's parser into the tree tree-sitter-python would have built.
//!
//! tree-sitter-python parses about 10 MB/s on one core here, ruff's hand-written parser about
//! 100 MB/s. Lowering, fix layouts and name collection read tree-sitter's tree
//! ([`super::tree`]), so this module walks ruff's syntax tree once and writes the same flat tree:
//! the same node kinds, fields, byte ranges and rows, with parentheses as
//! `parenthesized_expression` nodes and comments where tree-sitter puts them (found from
//! ruff's tokens). Of the anonymous tokens it writes only those the frontend reads: `async`,
//! `from` in `yield from`, and the operators of a comparison.
//!
//! It gives up, and the caller parses with tree-sitter, on a syntax error or a NUL byte
//! (tree-sitter's error recovery decides what of a broken file is still checked), on the few
//! constructs it does not build (`match`, type parameters and aliases, t-strings, nested format
//! specifications, `except*`), on some shapes tree-sitter-python reads differently from Python
//! (each where it is met, with its reason: `a & b ^ c`, `print >> f`, …), and on trees close to
//! the depth limit (whose exact depth only tree-sitter's tree has). Three shapes tree-sitter
//! misreads are built as Python reads them instead, for the lowering is better for it: the star
//! of `*a.b` (tree-sitter's is the attribute of `*a`), `type(x).a = b` (its type alias) and
//! `with (open(p) as f,):` (its tuple). The tests build the tree both ways for every fixture,
//! and for each of those shapes, and compare them node by node.

use std::sync::LazyLock;

use ruff_python_ast::token::{Token, TokenKind, Tokens};
use ruff_text_size::{Ranged, TextRange};

use super::syntax;
use super::tree::{Builder, SyntaxTree};

#[cfg(test)]
mod compare;
mod expressions;
mod statements;
#[cfg(test)]
mod tests;

/// Parses `source` (of which only `ranges` if given; the rest is read as comments, so positions
/// stay those of the whole text). `None` when the caller has to parse with tree-sitter.
pub fn parse(source: &str, ranges: Option<&[std::ops::Range<usize>]>, depth_limit: usize) -> Option<SyntaxTree> {
    convert(source, ranges, depth_limit).ok()
}

/// The tree, or why it is not built here.
pub fn convert(
    source: &str,
    ranges: Option<&[std::ops::Range<usize>]>,
    depth_limit: usize,
) -> Result<SyntaxTree, &'static str> {
    // No ranges means the whole text, as for tree-sitter.
    let ranges = ranges.filter(|ranges| !ranges.is_empty());
    let commented;
    let text = match ranges {
        Some(ranges) => {
            commented = comment_outside(source, ranges).ok_or("ranges split a character")?;
            commented.as_str()
        }
        None => source,
    };
    // Only the parts parsed matter below (the rest is comments), one after the other.
    let parsed_parts: Vec<&[u8]> = match ranges {
        Some(ranges) => ranges.iter().filter_map(|range| text.as_bytes().get(range.clone())).collect(),
        None => vec![text.as_bytes()],
    };
    // Python refuses a NUL byte anywhere in a file; ruff's parser takes it in a string.
    if parsed_parts.iter().any(|part| memchr::memchr(0, part).is_some()) {
        return Err("NUL byte");
    }
    // ruff's parser grows its stack for deep nesting and builds the whole tree before this
    // module can refuse it (three million nested parentheses: 20 s and 6 GB); tree-sitter
    // reads such a file in a fraction of that, and it is refused as too deep anyway.
    if bracket_depth_above(&parsed_parts, MAX_CONVERTED_DEPTH) {
        return Err("too deep");
    }
    let parsed = ruff_python_parser::parse_module(text).map_err(|_| "syntax error")?;
    // About a node per six bytes of what is parsed (not of the rest, made comments).
    let parsed_bytes = ranges.map_or(text.len(), |ranges| ranges.iter().map(|r| r.len()).sum());
    let mut converter = Converter::new(text, parsed.tokens(), ranges, parsed_bytes / 6);
    // With ranges, tree-sitter's tree ends where the last range does.
    let end = ranges.and_then(|ranges| ranges.last()).map_or(source.len(), |last| last.end.min(source.len()));
    converter.module(parsed.syntax(), u32::try_from(end).unwrap_or(u32::MAX));
    if let Some(why) = converter.gave_up {
        return Err(why);
    }
    if converter.out.deepest() + 2 >= depth_limit.min(MAX_CONVERTED_DEPTH) {
        return Err("too deep");
    }
    Ok(converter.out.finish())
}

/// Deeper trees are left to tree-sitter: the conversion recurses, and its depth is bounded.
const MAX_CONVERTED_DEPTH: usize = 1000;

/// Whether brackets nest deeper than `limit` (counting those in strings and comments too,
/// which can only send a file to tree-sitter that did not need to go).
fn bracket_depth_above(parts: &[&[u8]], limit: usize) -> bool {
    // Every file parsed goes through here: a step without branches per byte (a table of
    // what each byte adds, the deepest point kept) instead of a match.
    static DEPTH_CHANGE: [i8; 256] = {
        let mut table = [0; 256];
        table[b'(' as usize] = 1;
        table[b'[' as usize] = 1;
        table[b'{' as usize] = 1;
        table[b')' as usize] = -1;
        table[b']' as usize] = -1;
        table[b'}' as usize] = -1;
        table
    };
    let mut depth = 0isize;
    let mut deepest = 0isize;
    for &byte in parts.iter().copied().flatten() {
        depth = (depth + isize::from(DEPTH_CHANGE[usize::from(byte)])).max(0);
        deepest = deepest.max(depth);
    }
    deepest.unsigned_abs() > limit
}

/// `source` with every line outside `ranges` made a comment: `#` over its first character,
/// the rest left as it is (a comment runs to the line's end whatever it holds). ruff's lexer
/// skips a comment with `memchr`, where it reads a line of spaces a character at a time; the
/// converter drops the comments outside `ranges` ([`extras`]). `None` if a range starts or ends
/// inside a character (they are whole lines, so it does not).
fn comment_outside(source: &str, ranges: &[std::ops::Range<usize>]) -> Option<String> {
    let mut bytes = source.as_bytes().to_vec();
    let len = bytes.len();
    let mut from = 0;
    for range in ranges {
        let start = range.start.min(len).max(from);
        comment_out(&mut bytes, from..start);
        from = range.end.min(len).max(from);
    }
    comment_out(&mut bytes, from..len);
    String::from_utf8(bytes).ok()
}

/// Makes each line of `range` a comment. A line the range ends within, where a part parsed
/// goes on, is made spaces instead.
fn comment_out(bytes: &mut [u8], range: std::ops::Range<usize>) {
    let mut line_start = range.start;
    while line_start < range.end {
        match memchr::memchr2(b'\n', b'\r', &bytes[line_start..range.end]) {
            Some(offset) => {
                comment_line(bytes, line_start, line_start + offset);
                line_start += offset + 1;
            }
            None if range.end == bytes.len() => {
                comment_line(bytes, line_start, range.end);
                break;
            }
            None => {
                bytes[line_start..range.end].fill(b' ');
                break;
            }
        }
    }
}

/// `#` over the first character of the line `start..end` (and spaces over the rest of that
/// character's bytes, so the text stays UTF-8).
fn comment_line(bytes: &mut [u8], start: usize, end: usize) {
    if start >= end {
        return;
    }
    bytes[start] = b'#';
    for byte in bytes[start + 1..end].iter_mut().take_while(|b| **b & 0xC0 == 0x80) {
        *byte = b' ';
    }
}

macro_rules! ids {
    ($name:ident, $lookup:expr, { $($field:ident = $text:literal),* $(,)? }) => {
        struct $name { $($field: u16),* }
        impl $name {
            fn load() -> $name {
                let lookup = $lookup;
                $name { $($field: lookup($text)),* }
            }
        }
    };
}

ids!(Kinds, syntax::kind_id, {
    module = "module", block = "block", comment = "comment", line_continuation = "line_continuation", identifier = "identifier",
    expression_statement = "expression_statement", assignment = "assignment",
    augmented_assignment = "augmented_assignment", return_statement = "return_statement",
    delete_statement = "delete_statement", raise_statement = "raise_statement",
    assert_statement = "assert_statement", pass_statement = "pass_statement",
    break_statement = "break_statement", continue_statement = "continue_statement",
    global_statement = "global_statement", nonlocal_statement = "nonlocal_statement",
    import_statement = "import_statement", import_from_statement = "import_from_statement",
    future_import_statement = "future_import_statement", dotted_name = "dotted_name",
    aliased_import = "aliased_import", relative_import = "relative_import",
    import_prefix = "import_prefix", wildcard_import = "wildcard_import",
    if_statement = "if_statement", elif_clause = "elif_clause", else_clause = "else_clause",
    for_statement = "for_statement", while_statement = "while_statement",
    try_statement = "try_statement", except_clause = "except_clause",
    finally_clause = "finally_clause", with_statement = "with_statement",
    with_clause = "with_clause", with_item = "with_item", as_pattern = "as_pattern",
    as_pattern_target = "as_pattern_target", function_definition = "function_definition",
    class_definition = "class_definition", decorated_definition = "decorated_definition",
    decorator = "decorator", parameters = "parameters", lambda_parameters = "lambda_parameters",
    default_parameter = "default_parameter", typed_parameter = "typed_parameter",
    typed_default_parameter = "typed_default_parameter", list_splat_pattern = "list_splat_pattern",
    dictionary_splat_pattern = "dictionary_splat_pattern", keyword_separator = "keyword_separator",
    positional_separator = "positional_separator", type_ = "type", generic_type = "generic_type",
    type_parameter = "type_parameter", union_type = "union_type", pattern_list = "pattern_list",
    tuple_pattern = "tuple_pattern", list_pattern = "list_pattern",
    expression_list = "expression_list", tuple = "tuple", list = "list", set = "set",
    dictionary = "dictionary", pair = "pair", dictionary_splat = "dictionary_splat",
    list_splat = "list_splat", list_comprehension = "list_comprehension",
    set_comprehension = "set_comprehension", dictionary_comprehension = "dictionary_comprehension",
    generator_expression = "generator_expression", for_in_clause = "for_in_clause",
    if_clause = "if_clause", call = "call", argument_list = "argument_list",
    keyword_argument = "keyword_argument", attribute = "attribute", subscript = "subscript",
    slice = "slice", parenthesized_expression = "parenthesized_expression", lambda = "lambda",
    conditional_expression = "conditional_expression", named_expression = "named_expression",
    await_ = "await", yield_ = "yield", boolean_operator = "boolean_operator",
    binary_operator = "binary_operator", unary_operator = "unary_operator",
    not_operator = "not_operator", comparison_operator = "comparison_operator",
    integer = "integer", float = "float", true_ = "true", false_ = "false", none = "none",
    ellipsis = "ellipsis", string = "string", concatenated_string = "concatenated_string",
    interpolation = "interpolation", type_conversion = "type_conversion",
    format_specifier = "format_specifier",
});

ids!(Tokens_, syntax::token_kind_id, {
    async_ = "async", from = "from", lt = "<", le = "<=", gt = ">", ge = ">=", eq = "==",
    ne = "!=", in_ = "in", not_in = "not in", is = "is", is_not = "is not",
});

ids!(Fields, syntax::field_id, {
    name = "name", body = "body", value = "value", left = "left", right = "right",
    function = "function", arguments = "arguments", object = "object", attribute = "attribute",
    alias = "alias", type_ = "type", condition = "condition", consequence = "consequence",
    alternative = "alternative", parameters = "parameters", return_type = "return_type",
    superclasses = "superclasses", definition = "definition", module_name = "module_name",
    argument = "argument", operators = "operators", key = "key",
    subscript = "subscript", cause = "cause", expression = "expression",
    type_conversion = "type_conversion", format_specifier = "format_specifier",
});

struct Ids {
    kind: Kinds,
    token: Tokens_,
    field: Fields,
}

static IDS: LazyLock<Ids> =
    LazyLock::new(|| Ids { kind: Kinds::load(), token: Tokens_::load(), field: Fields::load() });

struct Converter<'a> {
    src: &'a str,
    tokens: &'a [Token],
    /// The comments and line continuations (tree-sitter's "extras", which can stand between
    /// any two tokens), with their kinds, and the first not yet written.
    extras: Vec<(TextRange, u16)>,
    next_extra: usize,
    out: Builder,
    ids: &'static Ids,
    /// The opening parentheses of argument lists being written: parentheses around an
    /// argument that are these belong to the call, not to the argument.
    call_parens: Vec<u32>,
    /// Why the tree is not built here, if it is not.
    gave_up: Option<&'static str>,
    /// Where the first part parsed starts (0 for the whole text).
    first_parsed: usize,
}

fn start(node: &impl Ranged) -> u32 {
    node.start().to_u32()
}

fn end(node: &impl Ranged) -> u32 {
    node.end().to_u32()
}

impl<'a> Converter<'a> {
    fn new(src: &'a str, tokens: &'a Tokens, ranges: Option<&[std::ops::Range<usize>]>, nodes: usize) -> Converter<'a> {
        let tokens: &[Token] = tokens;
        let mut extras = extras(src, tokens);
        // The lines outside the ranges were made comments; tree-sitter sees nothing there.
        if let Some(ranges) = ranges {
            let mut range = ranges.iter().peekable();
            extras.retain(|(extra, _)| {
                let at = extra.start().to_usize();
                while range.next_if(|r| r.end <= at).is_some() {}
                range.peek().is_some_and(|r| r.start <= at)
            });
        }
        Converter {
            src,
            tokens,
            extras,
            next_extra: 0,
            out: Builder::new(src, nodes),
            ids: &IDS,
            call_parens: Vec::new(),
            gave_up: None,
            first_parsed: ranges.and_then(|ranges| ranges.first()).map_or(0, |first| first.start),
        }
    }

    fn give_up(&mut self, why: &'static str) {
        self.gave_up.get_or_insert(why);
    }

    fn ids(&self) -> &'static Ids {
        self.ids
    }

    // ---- writing nodes; comments before a node go into the node open at the time ----

    fn comments_before(&mut self, offset: u32) {
        while self.next_extra_start() < offset {
            self.write_extra();
        }
    }

    fn next_extra_start(&self) -> u32 {
        self.extras.get(self.next_extra).map_or(u32::MAX, |(range, _)| range.start().to_u32())
    }

    /// Writes the next extra into the node open now; where it ends.
    fn write_extra(&mut self) -> u32 {
        let Some(&(range, kind)) = self.extras.get(self.next_extra) else { return 0 };
        self.next_extra += 1;
        self.out.leaf(kind, 0, range.start().to_u32(), range.end().to_u32(), true);
        range.end().to_u32()
    }

    fn open(&mut self, kind: u16, field: u16, start: u32) {
        self.comments_before(start);
        self.out.open(kind, field, start);
    }

    fn close(&mut self, end: u32) {
        self.comments_before(end);
        self.out.close(end);
    }

    fn leaf(&mut self, kind: u16, field: u16, start: u32, end: u32) {
        self.comments_before(start);
        self.out.leaf(kind, field, start, end, true);
    }

    fn token(&mut self, kind: u16, field: u16, token: Token) {
        self.comments_before(start(&token));
        self.out.leaf(kind, field, start(&token), end(&token), false);
    }

    // ---- tokens ----

    /// The first token at or after `offset` that is not a comment or a line break inside
    /// brackets.
    fn token_after(&self, offset: u32) -> Option<Token> {
        let from = self.tokens.partition_point(|t| start(t) < offset);
        self.tokens[from..].iter().copied().find(|t| !t.kind().is_trivia())
    }

    /// The last such token ending at or before `offset`.
    fn token_before(&self, offset: u32) -> Option<Token> {
        let to = self.tokens.partition_point(|t| end(t) <= offset);
        self.tokens[..to].iter().rev().copied().find(|t| !t.kind().is_trivia())
    }

    /// The first token of `kind` in `from..to`.
    fn find_token(&self, kind: TokenKind, from: u32, to: u32) -> Option<Token> {
        let first = self.tokens.partition_point(|t| start(t) < from);
        self.tokens[first..].iter().take_while(|t| start(*t) < to).copied().find(|t| t.kind() == kind)
    }

    /// The last token of `kind` in `from..to`.
    fn find_token_back(&self, kind: TokenKind, from: u32, to: u32) -> Option<Token> {
        let first = self.tokens.partition_point(|t| start(t) < from);
        let last = self.tokens.partition_point(|t| start(t) < to);
        self.tokens[first..last.max(first)].iter().rev().copied().find(|t| t.kind() == kind)
    }

    fn tokens_between(&self, from: u32, to: u32, wanted: impl Fn(TokenKind) -> bool) -> Vec<Token> {
        let first = self.tokens.partition_point(|t| start(t) < from);
        self.tokens[first..].iter().take_while(|t| start(*t) < to).copied().filter(|t| wanted(t.kind())).collect()
    }

    /// The parentheses around `range` that are the expression's own, outermost first.
    fn parentheses(&self, range: TextRange) -> Vec<(u32, u32)> {
        let mut layers = Vec::new();
        if !self.may_be_parenthesized(range) {
            return layers;
        }
        let (mut from, mut to) = (range.start().to_u32(), range.end().to_u32());
        while let (Some(open), Some(close)) = (self.token_before(from), self.token_after(to)) {
            if open.kind() != TokenKind::Lpar || close.kind() != TokenKind::Rpar {
                break;
            }
            if self.call_parens.contains(&start(&open)) {
                break;
            }
            from = start(&open);
            to = end(&close);
            layers.push((from, to));
        }
        layers.reverse();
        layers
    }

    /// Whether `range` may stand in parentheses, from the bytes around it: most expressions do
    /// not, and the tokens are looked up only when a `(` or a line break comes before it.
    fn may_be_parenthesized(&self, range: TextRange) -> bool {
        let bytes = self.src.as_bytes();
        let before = bytes[..range.start().to_usize()].iter().rev().find(|b| !matches!(b, b' ' | b'\t' | b'\x0c'));
        // Before the expression on its own line there may be a comment, which ends anyhow.
        let open = matches!(before, Some(b'(' | b'\n' | b'\r' | b'\\'));
        let after = bytes[range.end().to_usize()..].iter().find(|b| !matches!(b, b' ' | b'\t' | b'\x0c'));
        let close = matches!(after, Some(b')' | b'\n' | b'\r' | b'\\' | b'#'));
        open && close
    }

    /// The start of `range` with its own parentheses.
    fn outer_start(&self, range: TextRange) -> u32 {
        self.parentheses(range).first().map_or(range.start().to_u32(), |&(s, _)| s)
    }

    fn outer_end(&self, range: TextRange) -> u32 {
        self.parentheses(range).first().map_or(range.end().to_u32(), |&(_, e)| e)
    }
}

/// The comments and line continuations of `src`, in order. tree-sitter's comment is `#.*`,
/// which takes the `\r` of a CRLF line end; its line continuation is `\` and the line end.
fn extras(src: &str, tokens: &[Token]) -> Vec<(TextRange, u16)> {
    let ids = &IDS.kind;
    let bytes = src.as_bytes();
    let range = |from: usize, to: usize| {
        TextRange::new(
            ruff_text_size::TextSize::from(u32::try_from(from).unwrap_or(u32::MAX)),
            ruff_text_size::TextSize::from(u32::try_from(to).unwrap_or(u32::MAX)),
        )
    };
    let mut extras = Vec::new();
    let mut gap_start = 0;
    for token in tokens {
        let (from, to) = (start(token) as usize, end(token) as usize);
        // Line continuations stand in the gaps between tokens; tree-sitter's scanner skips
        // those before a string as it looks for the string's start.
        let before_string =
            matches!(token.kind(), TokenKind::String | TokenKind::FStringStart | TokenKind::TStringStart);
        for at in memchr::memchr_iter(b'\\', &bytes[gap_start.min(from)..from]) {
            let at = gap_start + at;
            let line_end = match bytes.get(at + 1..) {
                Some([b'\n', ..]) => at + 2,
                Some([b'\r', b'\n', ..]) => at + 3,
                _ => continue,
            };
            if before_string {
                continue;
            }
            extras.push((range(at, line_end), ids.line_continuation));
        }
        if token.kind() == TokenKind::Comment {
            let carriage_returns = bytes[to..].iter().take_while(|&&b| b == b'\r').count();
            extras.push((range(from, to + carriage_returns), ids.comment));
        }
        gap_start = to;
    }
    extras
}
