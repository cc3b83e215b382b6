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
//! (tree-sitter's error recovery decides what of a broken file is still checked), on the few constructs it does not
//! build (`match`, type parameters and aliases, t-strings, nested format specifications,
//! `except*`), and on trees close to the depth limit (whose exact depth only tree-sitter's tree
//! has). A test builds the tree both ways for every fixture and compares them node by node.

use std::sync::LazyLock;

use ruff_python_ast::token::{Token, TokenKind, Tokens};
use ruff_python_ast::{self as ast, Expr, Stmt};
use ruff_text_size::{Ranged, TextRange};

use super::syntax;
use super::tree::{Builder, SyntaxTree};

/// Parses `source` (of which only `ranges` if given; the rest is read as blank, so positions
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
    let blanked;
    let text = match ranges {
        Some(ranges) => {
            blanked = blank_outside(source, ranges);
            blanked.as_str()
        }
        None => source,
    };
    // Python refuses a NUL byte anywhere in a file; ruff's parser takes it in a string.
    if memchr::memchr(0, text.as_bytes()).is_some() {
        return Err("NUL byte");
    }
    // ruff's parser grows its stack for deep nesting and builds the whole tree before this
    // module can refuse it (three million nested parentheses: 20 s and 6 GB); tree-sitter
    // reads such a file in a fraction of that, and it is refused as too deep anyway.
    if bracket_depth_above(text.as_bytes(), MAX_CONVERTED_DEPTH) {
        return Err("too deep");
    }
    let parsed = ruff_python_parser::parse_module(text).map_err(|_| "syntax error")?;
    let mut converter = Converter::new(text, parsed.tokens());
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
fn bracket_depth_above(bytes: &[u8], limit: usize) -> bool {
    let mut depth = 0usize;
    for byte in bytes {
        match byte {
            b'(' | b'[' | b'{' => {
                depth += 1;
                if depth > limit {
                    return true;
                }
            }
            b')' | b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    false
}

/// `source` with every byte outside `ranges` but line ends made a space.
fn blank_outside(source: &str, ranges: &[std::ops::Range<usize>]) -> String {
    let mut bytes = source.as_bytes().to_vec();
    let mut from = 0;
    let blank = |bytes: &mut [u8], range: std::ops::Range<usize>| {
        for byte in &mut bytes[range] {
            if *byte != b'\n' && *byte != b'\r' {
                *byte = b' ';
            }
        }
    };
    for range in ranges {
        let start = range.start.min(bytes.len()).max(from);
        blank(&mut bytes, from..start);
        from = range.end.min(bytes.len()).max(from);
    }
    let end = bytes.len();
    blank(&mut bytes, from..end);
    // Only whole UTF-8 sequences were replaced (ranges are whole lines), so this cannot fail;
    // if it did, tree-sitter parses instead.
    String::from_utf8(bytes).unwrap_or_default()
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
}

fn start(node: &impl Ranged) -> u32 {
    node.start().to_u32()
}

fn end(node: &impl Ranged) -> u32 {
    node.end().to_u32()
}

impl<'a> Converter<'a> {
    fn new(src: &'a str, tokens: &'a Tokens) -> Converter<'a> {
        let tokens: &[Token] = tokens;
        let extras = extras(src, tokens);
        Converter {
            src,
            tokens,
            extras,
            next_extra: 0,
            out: Builder::new(src),
            ids: &IDS,
            call_parens: Vec::new(),
            gave_up: None,
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

    // ---- statements ----

    fn module(&mut self, module: &ast::ModModule, end: u32) {
        // tree-sitter's tree starts at its first token or comment (after a byte order mark).
        let text = self.src.strip_prefix('\u{feff}').unwrap_or(self.src);
        let blank = text.len() - text.trim_start_matches([' ', '\t', '\n', '\r', '\x0c']).len();
        let start = u32::try_from(self.src.len() - text.len() + blank).unwrap_or(0);
        self.out.open(self.ids.kind.module, 0, start);
        for statement in &module.body {
            self.statement(statement);
        }
        self.close(end);
    }

    /// A block: from its first statement to its last, and the comments after it that
    /// tree-sitter's scanner puts in it (see [`Converter::comments_ending_block`]).
    fn block(&mut self, field: u16, body: &[Stmt], header_start: u32) {
        let Some(first) = body.first() else { return };
        self.open(self.ids.kind.block, field, start(first));
        for statement in body {
            self.statement(statement);
        }
        let last_end = self.out.children_end();
        let end = self.comments_ending_block(start(first), header_start, last_end);
        self.close(end);
    }

    /// Where a block ends, given where its last statement ends. tree-sitter's scanner closes
    /// an indented block at the first line, comment or code, indented less than the block
    /// (comments as deep as the block stay in it); a block on its header's line ends at the
    /// end of that line.
    fn comments_ending_block(&mut self, first: u32, header_start: u32, last_end: u32) -> u32 {
        // A `;` after the last statement is the block's.
        let last_end = match self.token_after(last_end) {
            Some(semicolon) if semicolon.kind() == TokenKind::Semi => end(&semicolon),
            _ => last_end,
        };
        let next_code = self.token_after_trivia(last_end);
        let line_end = self.src[last_end as usize..].find('\n').map_or(self.src.len(), |i| last_end as usize + i);
        let line_end = u32::try_from(line_end).unwrap_or(u32::MAX);
        let indented = self.line_start(first) > header_start;
        let indent = self.column(first);
        let mut end = last_end;
        loop {
            let at = self.next_extra_start();
            if at >= next_code {
                break;
            }
            let same_line = at < line_end;
            if !same_line && (!indented || self.column(at) < indent) {
                break;
            }
            end = self.write_extra();
        }
        end
    }

    /// Writes the comments on the rest of the line `offset` is on; where the last one ends.
    fn same_line_comments(&mut self, offset: u32) -> u32 {
        let line_end = self.src[offset as usize..].find('\n').map_or(self.src.len(), |i| offset as usize + i);
        let line_end = u32::try_from(line_end).unwrap_or(u32::MAX);
        let mut end = offset;
        while self.next_extra_start() < line_end {
            end = self.write_extra();
        }
        end
    }

    /// The start of the first token at or after `offset` that is code (not a comment or a line
    /// break, indent or dedent).
    fn token_after_trivia(&self, offset: u32) -> u32 {
        let from = self.tokens.partition_point(|t| start(t) < offset);
        self.tokens[from..]
            .iter()
            .find(|t| {
                !matches!(
                    t.kind(),
                    TokenKind::Comment
                        | TokenKind::NonLogicalNewline
                        | TokenKind::Newline
                        | TokenKind::Indent
                        | TokenKind::Dedent
                )
            })
            .map_or(u32::MAX, start)
    }

    fn line_start(&self, offset: u32) -> u32 {
        let offset = offset as usize;
        self.src[..offset].rfind('\n').map_or(0, |i| u32::try_from(i + 1).unwrap_or(u32::MAX))
    }

    /// The column of `offset` as tree-sitter's scanner measures indentation (a tab to the next
    /// multiple of 8).
    fn column(&self, offset: u32) -> u32 {
        let line_start = self.line_start(offset) as usize;
        let mut column = 0;
        for byte in self.src[line_start..offset as usize].bytes() {
            column = match byte {
                b'\t' => (column / 8 + 1) * 8,
                b'\x0c' => 0,
                _ => column + 1,
            };
        }
        column
    }

    fn statement(&mut self, statement: &Stmt) {
        if self.out.depth() > MAX_CONVERTED_DEPTH {
            self.give_up("too deep");
            return;
        }
        let k = &self.ids().kind;
        let f = &self.ids().field;
        let (s, e) = (start(statement), end(statement));
        match statement {
            Stmt::Expr(ast::StmtExpr { value, .. }) => {
                let text = &self.src[s as usize..e as usize];
                let after_print = text.strip_prefix("print").map(|rest| rest.trim_start_matches([' ', '\t']));
                if after_print.is_some_and(|rest| !rest.is_empty() && !rest.starts_with(['(', '.', '[', '='])) {
                    // tree-sitter reads `print >> f, x` as Python 2's print statement.
                    self.give_up("print statement");
                    return;
                }
                self.open(k.expression_statement, 0, s);
                match value.as_ref() {
                    Expr::Tuple(tuple) if !tuple.parenthesized => {
                        self.check_starred(&tuple.elts, self.ids().kind.expression_list);
                        for element in &tuple.elts {
                            self.expr(element, 0);
                        }
                    }
                    value => self.expr(value, 0),
                }
                self.close(e);
            }
            Stmt::Assign(ast::StmtAssign { targets, value, .. }) => {
                let text = &self.src[s as usize..e as usize];
                if text.strip_prefix("type").is_some_and(|rest| rest.starts_with(['(', '['])) {
                    // tree-sitter reads `type(x).a = b` as a type alias statement.
                    self.give_up("type(...) assignment");
                    return;
                }
                self.open(k.expression_statement, 0, s);
                let mut open = 0;
                for (i, target) in targets.iter().enumerate() {
                    let field = if i == 0 { 0 } else { f.right };
                    self.open(k.assignment, field, self.outer_start(target.range()));
                    open += 1;
                    self.target(target, f.left);
                }
                self.value_list(value, f.right);
                for _ in 0..open {
                    self.close(e);
                }
                self.close(e);
            }
            Stmt::AnnAssign(ast::StmtAnnAssign { target, annotation, value, .. }) => {
                self.open(k.expression_statement, 0, s);
                self.open(k.assignment, 0, s);
                self.target(target, f.left);
                self.type_(annotation, f.type_);
                if let Some(value) = value {
                    self.value_list(value, f.right);
                }
                self.close(e);
                self.close(e);
            }
            Stmt::AugAssign(ast::StmtAugAssign { target, value, .. }) => {
                self.open(k.expression_statement, 0, s);
                self.open(k.augmented_assignment, 0, s);
                self.target(target, f.left);
                self.value_list(value, f.right);
                self.close(e);
                self.close(e);
            }
            Stmt::Return(ast::StmtReturn { value, .. }) => {
                self.open(k.return_statement, 0, s);
                if let Some(value) = value {
                    self.value_list(value, 0);
                }
                self.close(e);
            }
            Stmt::Delete(ast::StmtDelete { targets, .. }) => {
                self.open(k.delete_statement, 0, s);
                match targets.as_slice() {
                    [one] => self.expr(one, 0),
                    [first, .., last] => {
                        self.open(k.expression_list, 0, self.outer_start(first.range()));
                        for target in targets {
                            self.expr(target, 0);
                        }
                        self.close(self.outer_end(last.range()));
                    }
                    [] => {}
                }
                self.close(e);
            }
            Stmt::Raise(ast::StmtRaise { exc, cause, .. }) => {
                self.open(k.raise_statement, 0, s);
                if let Some(exc) = exc {
                    self.value_list(exc, 0);
                }
                if let Some(cause) = cause {
                    self.expr(cause, f.cause);
                }
                self.close(e);
            }
            Stmt::Assert(ast::StmtAssert { test, msg, .. }) => {
                self.open(k.assert_statement, 0, s);
                self.expr(test, 0);
                if let Some(msg) = msg {
                    self.expr(msg, 0);
                }
                self.close(e);
            }
            Stmt::Pass(_) => self.leaf(k.pass_statement, 0, s, e),
            Stmt::Break(_) => self.leaf(k.break_statement, 0, s, e),
            Stmt::Continue(_) => self.leaf(k.continue_statement, 0, s, e),
            Stmt::Global(ast::StmtGlobal { names, .. }) | Stmt::Nonlocal(ast::StmtNonlocal { names, .. }) => {
                let kind = if statement.is_global_stmt() { k.global_statement } else { k.nonlocal_statement };
                self.open(kind, 0, s);
                for name in names {
                    self.leaf(k.identifier, 0, start(name), end(name));
                }
                self.close(e);
            }
            Stmt::Import(ast::StmtImport { names, is_lazy, .. }) => {
                if *is_lazy {
                    self.give_up("lazy import");
                    return;
                }
                self.open(k.import_statement, 0, s);
                for alias in names {
                    self.alias(alias);
                }
                self.close(e);
            }
            Stmt::ImportFrom(import) => self.import_from(import, s, e),
            Stmt::If(ast::StmtIf { test, body, elif_else_clauses, .. }) => {
                self.open(k.if_statement, 0, s);
                self.expr(test, f.condition);
                self.block(f.consequence, body, s);
                for clause in elif_else_clauses {
                    let clause_start = start(clause);
                    match &clause.test {
                        Some(test) => {
                            self.open(k.elif_clause, f.alternative, clause_start);
                            self.expr(test, f.condition);
                            self.block(f.consequence, &clause.body, clause_start);
                        }
                        None => {
                            self.open(k.else_clause, f.alternative, clause_start);
                            self.block(f.body, &clause.body, clause_start);
                        }
                    }
                    self.close(end(clause));
                }
                self.close(e);
            }
            Stmt::While(ast::StmtWhile { test, body, orelse, .. }) => {
                self.open(k.while_statement, 0, s);
                self.expr(test, f.condition);
                self.block(f.body, body, s);
                self.else_clause(orelse, f.alternative);
                self.close(e);
            }
            Stmt::For(ast::StmtFor { is_async, target, iter, body, orelse, .. }) => {
                self.open(k.for_statement, 0, s);
                if *is_async {
                    self.async_token(s);
                }
                self.target(target, f.left);
                self.value_list(iter, f.right);
                self.block(f.body, body, s);
                self.else_clause(orelse, f.alternative);
                self.close(e);
            }
            Stmt::Try(ast::StmtTry { body, handlers, orelse, finalbody, is_star, .. }) => {
                if *is_star {
                    self.give_up("except*");
                    return;
                }
                self.open(k.try_statement, 0, s);
                self.block(f.body, body, s);
                for ast::ExceptHandler::ExceptHandler(handler) in handlers {
                    let handler_start = start(handler);
                    self.open(k.except_clause, 0, handler_start);
                    if let Some(type_) = &handler.type_ {
                        match &handler.name {
                            Some(name) => {
                                self.open(k.as_pattern, f.value, self.outer_start(type_.range()));
                                self.expr(type_, 0);
                                self.open(k.as_pattern_target, f.alias, start(name));
                                self.leaf(k.identifier, 0, start(name), end(name));
                                self.close(end(name));
                                self.close(end(name));
                            }
                            None => self.expr(type_, f.value),
                        }
                    }
                    self.block(0, &handler.body, handler_start);
                    self.close(end(handler));
                }
                self.else_clause(orelse, 0);
                if let Some(first) = finalbody.first() {
                    let keyword = self.find_token_back(TokenKind::Finally, s, start(first));
                    let at = keyword.map_or(start(first), |t| start(&t));
                    self.open(k.finally_clause, 0, at);
                    self.block(0, finalbody, at);
                    self.close(end(finalbody.last().unwrap_or(first)));
                }
                self.close(e);
            }
            Stmt::With(with) => self.with(with, s, e),
            Stmt::FunctionDef(function) => self.function(function, s, e),
            Stmt::ClassDef(class) => self.class(class, s, e),
            Stmt::Match(_) => self.give_up("match"),
            Stmt::TypeAlias(_) => self.give_up("type alias"),
            Stmt::IpyEscapeCommand(_) => self.give_up("IPython escape"),
        }
    }

    fn async_token(&mut self, from: u32) {
        if let Some(token) = self.find_token(TokenKind::Async, from, from + 6) {
            self.token(self.ids.token.async_, 0, token);
        }
    }

    /// The `else` of a `for`, `while` or `try`: from its keyword to the end of its block.
    fn else_clause(&mut self, orelse: &[Stmt], field: u16) {
        let (Some(first), Some(last)) = (orelse.first(), orelse.last()) else { return };
        let from = self.out.children_end();
        let keyword = self.find_token_back(TokenKind::Else, from, start(first));
        let at = keyword.map_or(start(first), |t| start(&t));
        self.open(self.ids.kind.else_clause, field, at);
        self.block(self.ids.field.body, orelse, at);
        self.close(end(last));
    }

    fn with(&mut self, with: &ast::StmtWith, s: u32, e: u32) {
        let k = &self.ids().kind;
        let f = &self.ids().field;
        self.open(k.with_statement, 0, s);
        if with.is_async {
            self.async_token(s);
        }
        let (Some(first), Some(last)) = (with.items.first(), with.items.last()) else {
            self.give_up("with without items");
            return;
        };
        // `with (a as b, c):` puts its parentheses in the with clause; parentheses around a
        // single item without `as` are the expression's.
        let keyword_end = self.find_token(TokenKind::With, s, start(first) + 1).map_or(s, |t| end(&t));
        let open_paren = self.token_after(keyword_end).filter(|t| t.kind() == TokenKind::Lpar);
        let first_start = self.outer_start(first.context_expr.range());
        let clause_parens = open_paren.is_some_and(|paren| start(&paren) < first_start);
        let (clause_start, clause_end) = if clause_parens {
            let close = self.token_after(end(last)).filter(|t| t.kind() == TokenKind::Rpar);
            let close = close.or_else(|| {
                // A trailing comma before the closing parenthesis.
                let after = self.token_after(end(last))?;
                (after.kind() == TokenKind::Comma).then(|| self.token_after(end(&after)))?
            });
            (open_paren.map_or(start(first), |t| start(&t)), close.map_or(end(last), |t| end(&t)))
        } else {
            (self.outer_start(first.context_expr.range()), self.item_end(last))
        };
        if clause_parens && let Some(paren) = open_paren {
            self.call_parens.push(start(&paren));
        }
        self.open(k.with_clause, 0, clause_start);
        for item in &with.items {
            let item_start = self.outer_start(item.context_expr.range());
            let item_end = self.item_end(item);
            self.open(k.with_item, 0, item_start);
            match &item.optional_vars {
                Some(target) => {
                    self.open(k.as_pattern, f.value, item_start);
                    self.expr(&item.context_expr, 0);
                    self.open(k.as_pattern_target, f.alias, self.outer_start(target.range()));
                    // tree-sitter reads `with ... as (a, b)` as an expression, not a pattern.
                    self.expr(target, 0);
                    self.close(item_end);
                    self.close(item_end);
                }
                None => self.expr(&item.context_expr, f.value),
            }
            self.close(item_end);
        }
        self.close(clause_end);
        if clause_parens && open_paren.is_some() {
            self.call_parens.pop();
        }
        self.block(f.body, &with.body, s);
        self.close(e);
    }

    fn item_end(&self, item: &ast::WithItem) -> u32 {
        match &item.optional_vars {
            Some(target) => self.outer_end(target.range()),
            None => self.outer_end(item.context_expr.range()),
        }
    }

    /// Opens the decorated definition and writes its decorators; the definition itself starts
    /// at the next token (`def`, `async` or `class`).
    fn decorated(&mut self, decorators: &[ast::Decorator], s: u32) -> u32 {
        let k = &self.ids().kind;
        let Some(last) = decorators.last() else { return s };
        self.open(k.decorated_definition, 0, s);
        for decorator in decorators {
            self.open(k.decorator, 0, start(decorator));
            self.expr(&decorator.expression, 0);
            // A decorator ends with its line: a comment after it is inside.
            let end = self.same_line_comments(end(decorator));
            self.close(end);
        }
        self.token_after_trivia(end(last))
    }

    fn function(&mut self, function: &ast::StmtFunctionDef, s: u32, e: u32) {
        if function.type_params.is_some() {
            self.give_up("type parameters");
            return;
        }
        let k = &self.ids().kind;
        let f = &self.ids().field;
        let decorated = !function.decorator_list.is_empty();
        let def_start = if decorated { self.decorated(&function.decorator_list, s) } else { s };
        let field = if decorated { f.definition } else { 0 };
        self.open(k.function_definition, field, def_start);
        if function.is_async {
            self.async_token(def_start);
        }
        self.leaf(k.identifier, f.name, start(&function.name), end(&function.name));
        self.parameters(&function.parameters, false);
        if let Some(returns) = &function.returns {
            self.type_(returns, f.return_type);
        }
        self.block(f.body, &function.body, def_start);
        self.close(e);
        if decorated {
            self.close(e);
        }
    }

    fn class(&mut self, class: &ast::StmtClassDef, s: u32, e: u32) {
        if class.type_params.is_some() {
            self.give_up("type parameters");
            return;
        }
        let k = &self.ids().kind;
        let f = &self.ids().field;
        let decorated = !class.decorator_list.is_empty();
        let class_start = if decorated { self.decorated(&class.decorator_list, s) } else { s };
        self.open(k.class_definition, if decorated { f.definition } else { 0 }, class_start);
        self.leaf(k.identifier, f.name, start(&class.name), end(&class.name));
        if let Some(arguments) = &class.arguments {
            self.arguments(arguments, f.superclasses);
        }
        self.block(f.body, &class.body, class_start);
        self.close(e);
        if decorated {
            self.close(e);
        }
    }

    fn parameters(&mut self, parameters: &ast::Parameters, lambda: bool) {
        let k = &self.ids().kind;
        let f = &self.ids().field;
        let (s, e) = (start(parameters), end(parameters));
        self.open(if lambda { k.lambda_parameters } else { k.parameters }, f.parameters, s);
        for parameter in &parameters.posonlyargs {
            self.parameter_with_default(parameter);
        }
        if let Some(last) = parameters.posonlyargs.last() {
            let next = parameters.args.first().map_or(e, start);
            if let Some(slash) = self.find_token(TokenKind::Slash, end(last), next) {
                self.leaf(k.positional_separator, 0, start(&slash), end(&slash));
            }
        }
        for parameter in &parameters.args {
            self.parameter_with_default(parameter);
        }
        let after_args = parameters.args.last().or(parameters.posonlyargs.last()).map_or(s, end);
        if let Some(vararg) = &parameters.vararg {
            self.star_parameter(vararg, k.list_splat_pattern, TokenKind::Star, after_args);
        } else if let Some(first) = parameters.kwonlyargs.first()
            && let Some(star) = self.find_token(TokenKind::Star, after_args, start(first))
        {
            self.leaf(k.keyword_separator, 0, start(&star), end(&star));
        }
        for parameter in &parameters.kwonlyargs {
            self.parameter_with_default(parameter);
        }
        if let Some(kwarg) = &parameters.kwarg {
            let from = parameters.kwonlyargs.last().map_or(after_args, end);
            let from = parameters.vararg.as_ref().map_or(from, |v| end(v.as_ref()).max(from));
            self.star_parameter(kwarg, k.dictionary_splat_pattern, TokenKind::DoubleStar, from);
        }
        self.close(e);
    }

    fn parameter_with_default(&mut self, parameter: &ast::ParameterWithDefault) {
        let k = &self.ids().kind;
        let f = &self.ids().field;
        let name = &parameter.parameter.name;
        let (s, e) = (start(parameter), end(parameter));
        match (&parameter.parameter.annotation, &parameter.default) {
            (None, None) => self.leaf(k.identifier, 0, start(name), end(name)),
            (None, Some(default)) => {
                self.open(k.default_parameter, 0, s);
                self.leaf(k.identifier, f.name, start(name), end(name));
                self.expr(default, f.value);
                self.close(e);
            }
            (Some(annotation), None) => {
                self.open(k.typed_parameter, 0, s);
                self.leaf(k.identifier, 0, start(name), end(name));
                self.type_(annotation, f.type_);
                self.close(e);
            }
            (Some(annotation), Some(default)) => {
                self.open(k.typed_default_parameter, 0, s);
                self.leaf(k.identifier, f.name, start(name), end(name));
                self.type_(annotation, f.type_);
                self.expr(default, f.value);
                self.close(e);
            }
        }
    }

    /// `*args` or `**kwargs`, possibly typed.
    fn star_parameter(&mut self, parameter: &ast::Parameter, kind: u16, star: TokenKind, from: u32) {
        let k = &self.ids().kind;
        let name = &parameter.name;
        let star_start = self.find_token_back(star, from, start(name)).map_or(start(name), |t| start(&t));
        match &parameter.annotation {
            None => {
                self.open(kind, 0, star_start);
                self.leaf(k.identifier, 0, start(name), end(name));
                self.close(end(name));
            }
            Some(annotation) => {
                self.open(k.typed_parameter, 0, star_start);
                self.open(kind, 0, star_start);
                self.leaf(k.identifier, 0, start(name), end(name));
                self.close(end(name));
                self.type_(annotation, self.ids.field.type_);
                self.close(end(parameter));
            }
        }
    }

    fn alias(&mut self, alias: &ast::Alias) {
        let k = &self.ids().kind;
        let f = &self.ids().field;
        match &alias.asname {
            Some(asname) => {
                self.open(k.aliased_import, f.name, start(alias));
                self.dotted_name(start(&alias.name), end(&alias.name), f.name);
                self.leaf(k.identifier, f.alias, start(asname), end(asname));
                self.close(end(alias));
            }
            None => self.dotted_name(start(&alias.name), end(&alias.name), f.name),
        }
    }

    /// A dotted name, one identifier a part.
    fn dotted_name(&mut self, from: u32, to: u32, field: u16) {
        let k = &self.ids().kind;
        self.open(k.dotted_name, field, from);
        let text = &self.src.as_bytes()[from as usize..to as usize];
        let mut part_start = None;
        for (i, byte) in text.iter().enumerate().chain(std::iter::once((text.len(), &b'.'))) {
            let at = from + u32::try_from(i).unwrap_or(0);
            let separator = *byte == b'.' || byte.is_ascii_whitespace() || *byte == b'\\';
            match (separator, part_start) {
                (true, Some(s)) => {
                    self.leaf(k.identifier, 0, s, at);
                    part_start = None;
                }
                (false, None) => part_start = Some(at),
                _ => {}
            }
        }
        self.close(to);
    }

    fn import_from(&mut self, import: &ast::StmtImportFrom, s: u32, e: u32) {
        if import.is_lazy {
            self.give_up("lazy import");
            return;
        }
        let k = &self.ids().kind;
        let f = &self.ids().field;
        let future = import.level == 0 && import.module.as_ref().is_some_and(|m| m.id.as_str() == "__future__");
        self.open(if future { k.future_import_statement } else { k.import_from_statement }, 0, s);
        let import_keyword = self.find_token(TokenKind::Import, s, e);
        let names_from = import_keyword.map_or(s, |t| end(&t));
        if !future {
            if import.level > 0 {
                let from_end = s + 4;
                let dots_end = import.module.as_ref().map_or(names_from, start);
                let dots = self
                    .tokens_between(from_end, dots_end, |kind| matches!(kind, TokenKind::Dot | TokenKind::Ellipsis));
                let (Some(first_dot), Some(last_dot)) = (dots.first().copied(), dots.last().copied()) else {
                    self.give_up("relative import without dots");
                    return;
                };
                let relative_end = import.module.as_ref().map_or(end(&last_dot), end);
                self.open(k.relative_import, f.module_name, start(&first_dot));
                self.leaf(k.import_prefix, 0, start(&first_dot), end(&last_dot));
                if let Some(module) = &import.module {
                    self.dotted_name(start(module), end(module), 0);
                }
                self.close(relative_end);
            } else if let Some(module) = &import.module {
                self.dotted_name(start(module), end(module), f.module_name);
            }
        }
        for alias in &import.names {
            if alias.name.id.as_str() == "*" {
                self.leaf(k.wildcard_import, 0, start(alias), end(alias));
            } else {
                self.alias(alias);
            }
        }
        self.close(e);
    }

    fn tokens_between(&self, from: u32, to: u32, wanted: impl Fn(TokenKind) -> bool) -> Vec<Token> {
        let first = self.tokens.partition_point(|t| start(t) < from);
        self.tokens[first..].iter().take_while(|t| start(*t) < to).copied().filter(|t| wanted(t.kind())).collect()
    }

    // ---- expressions ----

    /// An assignment's value, a `return`'s or a `for`'s iterable: a tuple without parentheses
    /// is an `expression_list`.
    fn value_list(&mut self, value: &Expr, field: u16) {
        match value {
            Expr::Tuple(tuple) if !tuple.parenthesized => {
                self.check_starred(&tuple.elts, self.ids().kind.expression_list);
                self.open(self.ids.kind.expression_list, field, start(tuple));
                for element in &tuple.elts {
                    self.expr(element, 0);
                }
                self.close(end(tuple));
            }
            value => self.expr(value, field),
        }
    }

    /// An assignment target, a `for`'s or a comprehension's variables, a `with`'s `as`.
    fn target(&mut self, target: &Expr, field: u16) {
        let k = &self.ids().kind;
        match target {
            Expr::Tuple(tuple) => {
                let kind = if tuple.parenthesized { k.tuple_pattern } else { k.pattern_list };
                self.open(kind, field, start(tuple));
                for element in &tuple.elts {
                    self.target(element, 0);
                }
                self.close(end(tuple));
            }
            Expr::List(list) => {
                self.open(k.list_pattern, field, start(list));
                for element in &list.elts {
                    self.target(element, 0);
                }
                self.close(end(list));
            }
            Expr::Starred(starred) => {
                if !starred.value.is_name_expr() {
                    // tree-sitter reads `*a.b` as the attribute of `*a` here: not built.
                    self.give_up("star target");
                    return;
                }
                self.open(k.list_splat_pattern, field, start(starred));
                self.target(&starred.value, 0);
                self.close(end(starred));
            }
            target => {
                // Parentheses around a single target make a tuple pattern of one.
                let layers = self.parentheses(target.range());
                let mut inner_field = field;
                for &(s, _) in &layers {
                    self.open(k.tuple_pattern, inner_field, s);
                    inner_field = 0;
                }
                self.bare_expr(target, inner_field);
                for &(_, e) in layers.iter().rev() {
                    self.close(e);
                }
            }
        }
    }

    /// An annotation: `type`, with `Name[...]` as a `generic_type`.
    fn type_(&mut self, annotation: &Expr, field: u16) {
        let k = &self.ids().kind;
        let s = self.outer_start(annotation.range());
        let e = self.outer_end(annotation.range());
        self.open(k.type_, field, s);
        self.type_inner(annotation);
        self.close(e);
    }

    fn type_inner(&mut self, annotation: &Expr) {
        let k = &self.ids().kind;
        match annotation {
            Expr::Subscript(subscript)
                if subscript.value.is_name_expr() && self.parentheses(subscript.range).is_empty() =>
            {
                self.open(k.generic_type, 0, start(subscript));
                self.expr(&subscript.value, 0);
                let bracket = self.find_token(TokenKind::Lsqb, end(subscript.value.as_ref()), end(subscript));
                self.open(k.type_parameter, 0, bracket.map_or(start(subscript.slice.as_ref()), |t| start(&t)));
                let elements: &[Expr] = match subscript.slice.as_ref() {
                    Expr::Tuple(tuple) if !tuple.parenthesized => &tuple.elts,
                    slice => std::slice::from_ref(slice),
                };
                for element in elements {
                    self.type_(element, 0);
                }
                self.close(end(subscript));
                self.close(end(subscript));
            }
            Expr::BinOp(union)
                if union.op == ast::Operator::BitOr
                    && starts_as_type(&union.left)
                    && self.parentheses(union.range).is_empty() =>
            {
                if matches!(union.left.as_ref(), Expr::BinOp(_)) {
                    // Which way tree-sitter nests `a[b] | c | d` depends on where it stands.
                    self.give_up("union chain");
                }
                self.open(k.union_type, 0, start(union));
                self.type_(&union.left, 0);
                self.type_(&union.right, 0);
                self.close(end(union));
            }
            annotation => self.expr(annotation, 0),
        }
    }

    fn expr(&mut self, expr: &Expr, field: u16) {
        if self.out.depth() > MAX_CONVERTED_DEPTH {
            self.give_up("too deep");
            return;
        }
        let layers = self.parentheses(expr.range());
        let mut inner_field = field;
        for &(s, _) in &layers {
            self.open(self.ids.kind.parenthesized_expression, inner_field, s);
            inner_field = 0;
        }
        self.bare_expr(expr, inner_field);
        for &(_, e) in layers.iter().rev() {
            self.close(e);
        }
    }

    fn bare_expr(&mut self, expr: &Expr, field: u16) {
        let k = &self.ids().kind;
        let f = &self.ids().field;
        let (s, e) = (start(expr), end(expr));
        match expr {
            Expr::Name(_) => self.leaf(k.identifier, field, s, e),
            Expr::NumberLiteral(number) => {
                let kind = match &number.value {
                    ast::Number::Int(_) => k.integer,
                    ast::Number::Float(_) => k.float,
                    ast::Number::Complex { .. } => {
                        let text = &self.src[s as usize..e as usize];
                        let hex = text.starts_with("0x") || text.starts_with("0X");
                        if !hex && text.contains(['.', 'e', 'E']) { k.float } else { k.integer }
                    }
                };
                self.leaf(kind, field, s, e);
            }
            Expr::BooleanLiteral(literal) => self.leaf(if literal.value { k.true_ } else { k.false_ }, field, s, e),
            Expr::NoneLiteral(_) => self.leaf(k.none, field, s, e),
            Expr::EllipsisLiteral(_) => self.leaf(k.ellipsis, field, s, e),
            Expr::StringLiteral(string) => {
                let parts: Vec<TextRange> = string.value.iter().map(Ranged::range).collect();
                self.plain_strings(&parts, field, s, e);
            }
            Expr::BytesLiteral(bytes) => {
                let parts: Vec<TextRange> = bytes.value.iter().map(Ranged::range).collect();
                self.plain_strings(&parts, field, s, e);
            }
            Expr::FString(fstring) => {
                let concatenated = fstring.value.is_implicit_concatenated();
                if concatenated {
                    self.open(k.concatenated_string, field, s);
                }
                for part in fstring.value.iter() {
                    let part_field = if concatenated { 0 } else { field };
                    match part {
                        ast::FStringPart::Literal(literal) => {
                            self.leaf(k.string, part_field, start(literal), end(literal))
                        }
                        ast::FStringPart::FString(fstring) => {
                            self.open(k.string, part_field, start(fstring));
                            self.interpolations(&fstring.elements);
                            self.close(end(fstring));
                        }
                    }
                }
                if concatenated {
                    self.close(e);
                }
            }
            Expr::Attribute(attribute) => {
                self.open(k.attribute, field, s);
                self.expr(&attribute.value, f.object);
                self.leaf(k.identifier, f.attribute, start(&attribute.attr), end(&attribute.attr));
                self.close(e);
            }
            Expr::Call(call) => {
                self.open(k.call, field, s);
                self.expr(&call.func, f.function);
                let arguments = &call.arguments;
                match (arguments.args.as_ref(), arguments.keywords.is_empty()) {
                    ([Expr::Generator(generator)], true) if !generator.parenthesized => {
                        self.comprehension(
                            k.generator_expression,
                            f.arguments,
                            start(arguments),
                            end(arguments),
                            |this| this.expr(&generator.elt, this.ids.field.body),
                            &generator.generators,
                        );
                    }
                    (args, _) => {
                        let print = call.func.as_name_expr().is_some_and(|name| name.id.as_str() == "print");
                        if print {
                            self.check_starred(args, k.expression_list);
                        }
                        self.arguments(arguments, f.arguments);
                    }
                }
                self.close(e);
            }
            Expr::Subscript(subscript) => {
                let slice = subscript.slice.as_ref();
                let elements = slice
                    .as_tuple_expr()
                    .filter(|t| !t.parenthesized)
                    .map_or(std::slice::from_ref(slice), |t| &t.elts[..]);
                // `a[*b[c]]`: read by tree-sitter as the subscript of `*b`.
                self.check_starred(elements, k.expression_list);
                self.open(k.subscript, field, s);
                self.expr(&subscript.value, f.value);
                match subscript.slice.as_ref() {
                    Expr::Tuple(tuple) if !tuple.parenthesized => {
                        for element in &tuple.elts {
                            self.expr(element, f.subscript);
                        }
                    }
                    slice => self.expr(slice, f.subscript),
                }
                self.close(e);
            }
            Expr::Slice(slice) => {
                self.open(k.slice, field, s);
                for part in [&slice.lower, &slice.upper, &slice.step].into_iter().flatten() {
                    self.expr(part, 0);
                }
                self.close(e);
            }
            Expr::Starred(starred) => {
                self.open(k.list_splat, field, s);
                self.expr(&starred.value, 0);
                self.close(e);
            }
            Expr::Tuple(tuple) => {
                let kind = if tuple.parenthesized { k.tuple } else { k.expression_list };
                self.sequence(kind, field, s, e, &tuple.elts);
            }
            Expr::List(list) => self.sequence(k.list, field, s, e, &list.elts),
            Expr::Set(set) => self.sequence(k.set, field, s, e, &set.elts),
            Expr::Dict(dict) => {
                self.open(k.dictionary, field, s);
                for item in &dict.items {
                    match &item.key {
                        Some(key) => {
                            let pair_start = self.outer_start(key.range());
                            self.open(k.pair, 0, pair_start);
                            self.expr(key, f.key);
                            self.expr(&item.value, f.value);
                            self.close(self.outer_end(item.value.range()));
                        }
                        None => {
                            let value_start = self.outer_start(item.value.range());
                            let from = self.out.children_end().max(s);
                            let stars = self.find_token_back(TokenKind::DoubleStar, from, value_start);
                            self.open(k.dictionary_splat, 0, stars.map_or(value_start, |t| start(&t)));
                            self.expr(&item.value, 0);
                            self.close(self.outer_end(item.value.range()));
                        }
                    }
                }
                self.close(e);
            }
            Expr::ListComp(comp) => self.comprehension(
                k.list_comprehension,
                field,
                s,
                e,
                |this| this.expr(&comp.elt, this.ids.field.body),
                &comp.generators,
            ),
            Expr::SetComp(comp) => self.comprehension(
                k.set_comprehension,
                field,
                s,
                e,
                |this| this.expr(&comp.elt, this.ids.field.body),
                &comp.generators,
            ),
            Expr::Generator(comp) => self.comprehension(
                k.generator_expression,
                field,
                s,
                e,
                |this| this.expr(&comp.elt, this.ids.field.body),
                &comp.generators,
            ),
            Expr::DictComp(comp) => {
                let Some(key) = &comp.key else {
                    self.give_up("dict comprehension without key");
                    return;
                };
                self.comprehension(
                    k.dictionary_comprehension,
                    field,
                    s,
                    e,
                    |this| {
                        let pair_start = this.outer_start(key.range());
                        this.open(this.ids.kind.pair, this.ids.field.body, pair_start);
                        this.expr(key, this.ids.field.key);
                        this.expr(&comp.value, this.ids.field.value);
                        this.close(this.outer_end(comp.value.range()));
                    },
                    &comp.generators,
                )
            }
            Expr::Lambda(lambda) => {
                self.open(k.lambda, field, s);
                if let Some(parameters) = &lambda.parameters {
                    self.parameters(parameters, true);
                }
                self.expr(&lambda.body, f.body);
                self.close(e);
            }
            Expr::If(conditional) => {
                self.open(k.conditional_expression, field, s);
                self.expr(&conditional.body, 0);
                self.expr(&conditional.test, 0);
                self.expr(&conditional.orelse, 0);
                self.close(e);
            }
            Expr::Named(named) => {
                if matches!(named.value.as_ref(), Expr::If(_) | Expr::Lambda(_))
                    && self.parentheses(named.value.range()).is_empty()
                {
                    // tree-sitter reads `a := b if c else d` as `(a := b) if c else d`.
                    self.give_up("named conditional");
                }
                self.open(k.named_expression, field, s);
                self.expr(&named.target, f.name);
                self.expr(&named.value, f.value);
                self.close(e);
            }
            Expr::Await(await_) => {
                self.open(k.await_, field, s);
                self.expr(&await_.value, 0);
                self.close(e);
            }
            Expr::Yield(yield_) => {
                self.open(k.yield_, field, s);
                if let Some(value) = &yield_.value {
                    self.value_list(value, 0);
                }
                self.close(e);
            }
            Expr::YieldFrom(yield_) => {
                self.open(k.yield_, field, s);
                if let Some(from) = self.find_token(TokenKind::From, s, start(yield_.value.as_ref())) {
                    self.token(self.ids.token.from, 0, from);
                }
                self.expr(&yield_.value, 0);
                self.close(e);
            }
            Expr::BoolOp(boolean) => {
                // `a and b and c` is `(a and b) and c`.
                let values = &boolean.values;
                for i in 1..values.len() {
                    self.open(k.boolean_operator, if i == 1 { field } else { f.left }, s);
                }
                for (i, value) in values.iter().enumerate() {
                    self.expr(value, if i == 0 { f.left } else { f.right });
                    if i > 0 {
                        self.close(self.outer_end(value.range()));
                    }
                }
            }
            Expr::BinOp(binary) => {
                if mixes_bitwise_operators(binary) {
                    // tree-sitter-python ranks `&` and `^` the other way round.
                    self.give_up("mixed bitwise operators");
                }
                self.open(k.binary_operator, field, s);
                self.expr(&binary.left, f.left);
                self.expr(&binary.right, f.right);
                self.close(e);
            }
            Expr::UnaryOp(unary) => {
                let kind = if unary.op == ast::UnaryOp::Not { k.not_operator } else { k.unary_operator };
                self.open(kind, field, s);
                self.expr(&unary.operand, f.argument);
                self.close(e);
            }
            Expr::Compare(compare) => {
                self.open(k.comparison_operator, field, s);
                self.expr(&compare.left, 0);
                let mut previous_end = self.outer_end(compare.left.range());
                for (op, comparator) in compare.ops.iter().zip(compare.comparators.iter()) {
                    let next_start = self.outer_start(comparator.range());
                    self.comparison_token(*op, previous_end, next_start);
                    self.expr(comparator, 0);
                    previous_end = self.outer_end(comparator.range());
                }
                self.close(e);
            }
            Expr::TString(_) => self.give_up("t-string"),
            Expr::IpyEscapeCommand(_) => self.give_up("IPython escape"),
        }
    }

    fn comparison_token(&mut self, op: ast::CmpOp, from: u32, to: u32) {
        let t = &self.ids().token;
        let ops = self.tokens_between(from, to, |kind| {
            matches!(
                kind,
                TokenKind::Less
                    | TokenKind::LessEqual
                    | TokenKind::Greater
                    | TokenKind::GreaterEqual
                    | TokenKind::EqEqual
                    | TokenKind::NotEqual
                    | TokenKind::In
                    | TokenKind::Is
                    | TokenKind::Not
            )
        });
        let (Some(first), Some(last)) = (ops.first(), ops.last()) else {
            self.give_up("comparison operator not found");
            return;
        };
        let kind = match op {
            ast::CmpOp::Lt => t.lt,
            ast::CmpOp::LtE => t.le,
            ast::CmpOp::Gt => t.gt,
            ast::CmpOp::GtE => t.ge,
            ast::CmpOp::Eq => t.eq,
            ast::CmpOp::NotEq => t.ne,
            ast::CmpOp::In => t.in_,
            ast::CmpOp::NotIn => t.not_in,
            ast::CmpOp::Is => t.is,
            ast::CmpOp::IsNot => t.is_not,
        };
        self.comments_before(start(first));
        self.out.leaf(kind, self.ids.field.operators, start(first), end(last), false);
    }

    fn plain_strings(&mut self, parts: &[TextRange], field: u16, s: u32, e: u32) {
        let k = &self.ids().kind;
        if parts.len() > 1 {
            self.open(k.concatenated_string, field, s);
            for part in parts {
                self.leaf(k.string, 0, part.start().to_u32(), part.end().to_u32());
            }
            self.close(e);
        } else {
            self.leaf(k.string, field, s, e);
        }
    }

    fn interpolations(&mut self, elements: &ast::InterpolatedStringElements) {
        let k = &self.ids().kind;
        let f = &self.ids().field;
        for element in elements.iter() {
            let ast::InterpolatedStringElement::Interpolation(interpolation) = element else { continue };
            self.open(k.interpolation, 0, start(interpolation));
            self.value_list(&interpolation.expression, f.expression);
            let expression_end = self.outer_end(interpolation.expression.range());
            if interpolation.conversion != ast::ConversionFlag::None
                && let Some(bang) = self.find_token(TokenKind::Exclamation, expression_end, end(interpolation))
            {
                self.leaf(k.type_conversion, f.type_conversion, start(&bang), end(&bang) + 1);
            }
            if let Some(spec) = &interpolation.format_spec {
                if spec.elements.iter().any(|e| matches!(e, ast::InterpolatedStringElement::Interpolation(_))) {
                    self.give_up("nested format specification");
                }
                let colon = self.find_token_back(TokenKind::Colon, expression_end, start(spec.as_ref()) + 1);
                self.leaf(
                    k.format_specifier,
                    f.format_specifier,
                    colon.map_or(start(spec.as_ref()), |t| start(&t)),
                    end(spec.as_ref()),
                );
            }
            self.close(end(interpolation));
        }
    }

    fn sequence(&mut self, kind: u16, field: u16, s: u32, e: u32, elements: &[Expr]) {
        self.check_starred(elements, kind);
        self.open(kind, field, s);
        for element in elements {
            self.expr(element, 0);
        }
        self.close(e);
    }

    /// tree-sitter reads `*a.b` as the attribute of `*a` (and `*a()` as the call of `*a`) in a
    /// list or set of one, in a tuple without parentheses and in `print`'s arguments: trees
    /// with such a star are not built here.
    fn check_starred(&mut self, elements: &[Expr], kind: u16) {
        let k = &self.ids().kind;
        let odd_star = |element: &Expr| element.as_starred_expr().is_some_and(|starred| !starred.value.is_name_expr());
        let odd = if kind == k.list || kind == k.set {
            elements.len() == 1 && odd_star(&elements[0])
        } else {
            kind == k.expression_list && elements.iter().any(odd_star)
        };
        if odd {
            self.give_up("star before a non-name");
        }
    }

    /// A call's or a class's arguments, in source order.
    fn arguments(&mut self, arguments: &ast::Arguments, field: u16) {
        let k = &self.ids().kind;
        let f = &self.ids().field;
        let (s, e) = (start(arguments), end(arguments));
        self.open(k.argument_list, field, s);
        self.call_parens.push(s);
        for argument in arguments.iter_source_order() {
            match argument {
                ast::ArgOrKeyword::Arg(arg) => self.expr(arg, 0),
                ast::ArgOrKeyword::Keyword(keyword) => match &keyword.arg {
                    Some(name) => {
                        self.open(k.keyword_argument, 0, start(keyword));
                        self.leaf(k.identifier, f.name, start(name), end(name));
                        self.expr(&keyword.value, f.value);
                        self.close(end(keyword));
                    }
                    None => {
                        self.open(k.dictionary_splat, 0, start(keyword));
                        self.expr(&keyword.value, 0);
                        self.close(end(keyword));
                    }
                },
            }
        }
        self.call_parens.pop();
        self.close(e);
    }

    /// A comprehension: its element, then a `for_in_clause` for each `for` and an `if_clause`
    /// for each `if`.
    fn comprehension(
        &mut self,
        kind: u16,
        field: u16,
        s: u32,
        e: u32,
        element: impl FnOnce(&mut Self),
        generators: &[ast::Comprehension],
    ) {
        let k = &self.ids().kind;
        let f = &self.ids().field;
        self.open(kind, field, s);
        element(self);
        for generator in generators {
            let target_start = self.outer_start(generator.target.range());
            let from = self.out.children_end();
            let keyword = if generator.is_async { TokenKind::Async } else { TokenKind::For };
            let clause_start =
                self.find_token_back(keyword, from, target_start).map_or(start(generator), |t| start(&t));
            let clause_start = if generator.is_async {
                self.find_token_back(TokenKind::Async, from, target_start).map_or(clause_start, |t| start(&t))
            } else {
                clause_start
            };
            self.open(k.for_in_clause, 0, clause_start);
            if generator.is_async {
                self.async_token(clause_start);
            }
            self.target(&generator.target, f.left);
            match &generator.iter {
                Expr::Tuple(tuple) if !tuple.parenthesized => {
                    for element in &tuple.elts {
                        self.expr(element, f.right);
                    }
                }
                iter => self.expr(iter, f.right),
            }
            self.close(self.outer_end(generator.iter.range()));
            for condition in &generator.ifs {
                let condition_start = self.outer_start(condition.range());
                let from = self.out.children_end();
                let keyword = self.find_token_back(TokenKind::If, from, condition_start);
                self.open(k.if_clause, 0, keyword.map_or(condition_start, |t| start(&t)));
                self.expr(condition, 0);
                self.close(self.outer_end(condition.range()));
            }
        }
        self.close(e);
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

/// Whether `&` and `^` meet without parentheses: tree-sitter-python ranks `^` above `&`,
/// Python the other way round.
fn mixes_bitwise_operators(binary: &ast::ExprBinOp) -> bool {
    use ast::Operator::{BitAnd, BitXor};
    let other = match binary.op {
        BitAnd => BitXor,
        BitXor => BitAnd,
        _ => return false,
    };
    [&binary.left, &binary.right].into_iter().any(|side| side.as_bin_op_expr().is_some_and(|inner| inner.op == other))
}

/// Whether tree-sitter reads an annotation as a type that is not an expression: it starts with
/// `Name[...]` (a `generic_type`; `a | b[c]` stays a `binary_operator`).
fn starts_as_type(annotation: &Expr) -> bool {
    match annotation {
        Expr::Subscript(subscript) => subscript.value.is_name_expr(),
        Expr::BinOp(union) => union.op == ast::Operator::BitOr && starts_as_type(&union.left),
        _ => false,
    }
}

/// Comparing the tree built here with tree-sitter's, for the tests.
#[cfg(test)]
pub(crate) mod compare {
    use super::super::tree::Node;

    /// The children both trees are expected to have: named nodes (in a string, only its
    /// interpolations) and the anonymous tokens this module writes.
    fn kept(parent: Node, child: Node) -> bool {
        let parent = parent.kind_str();
        if parent == "string" {
            return child.kind_str() == "interpolation";
        }
        if child.is_named() {
            return true;
        }
        match child.kind_str() {
            "async" => matches!(parent, "with_statement" | "for_statement" | "function_definition" | "for_in_clause"),
            "from" => parent == "yield",
            _ => parent == "comparison_operator",
        }
    }

    fn describe(node: Node, source: &str) -> String {
        let text: String = source.get(node.byte_range()).unwrap_or("").chars().take(40).collect();
        format!(
            "{} {:?} (row {}, field {}) `{}`",
            node.kind_str(),
            node.byte_range(),
            node.start_row(),
            node.field_id(),
            text.replace('\n', "\\n")
        )
    }

    /// The first difference between tree-sitter's tree and this module's, if any.
    pub(crate) fn first_difference(theirs: Node, ours: Node, source: &str) -> Option<String> {
        let same = theirs.kind_id() == ours.kind_id()
            && theirs.byte_range() == ours.byte_range()
            && theirs.start_row() == ours.start_row()
            && theirs.field_id() == ours.field_id();
        if !same {
            return Some(format!("tree-sitter: {}\nruff:        {}", describe(theirs, source), describe(ours, source)));
        }
        if !theirs.is_named() {
            return None;
        }
        let their_children: Vec<Node> = theirs.children().filter(|c| kept(theirs, *c)).collect();
        let our_children: Vec<Node> = ours.children().filter(|c| kept(ours, *c)).collect();
        for (their_child, our_child) in their_children.iter().zip(&our_children) {
            if let Some(difference) = first_difference(*their_child, *our_child, source) {
                return Some(difference);
            }
        }
        if their_children.len() != our_children.len() {
            let list =
                |children: &[Node]| children.iter().map(|c| describe(*c, source)).collect::<Vec<_>>().join("\n    ");
            return Some(format!(
                "children of {}:\n  tree-sitter:\n    {}\n  ruff:\n    {}",
                describe(theirs, source),
                list(&their_children),
                list(&our_children)
            ));
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::compare::first_difference;
    use super::*;

    fn tree_sitter(source: &str) -> SyntaxTree {
        let mut parser = tree_sitter::Parser::new();
        parser.set_language(&tree_sitter_python::LANGUAGE.into()).expect("the grammar loads");
        let tree = parser.parse(source, None).expect("tree-sitter gives a tree");
        SyntaxTree::new(&tree, usize::MAX)
    }

    /// `Some(difference)`, or `None` when the trees agree or ruff's tree is not built.
    fn difference(source: &str) -> Option<String> {
        let ours = parse(source, None, usize::MAX)?;
        let theirs = tree_sitter(source);
        first_difference(theirs.root_node(), ours.root_node(), source)
    }

    fn python_files(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
        let Ok(entries) = std::fs::read_dir(dir) else { return };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                python_files(&path, out);
            } else if path.extension().is_some_and(|e| e == "py") {
                out.push(path);
            }
        }
    }

    #[test]
    fn every_fixture_gets_tree_sitters_tree() {
        let mut files = Vec::new();
        python_files(std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures")), &mut files);
        files.sort();
        let mut built = 0;
        let mut differences = Vec::new();
        for path in &files {
            let source = std::fs::read_to_string(path).expect("fixtures are UTF-8");
            if parse(&source, None, usize::MAX).is_some() {
                built += 1;
            }
            if let Some(difference) = difference(&source) {
                differences.push(format!("{}:\n{difference}", path.display()));
            }
        }
        assert!(
            differences.is_empty(),
            "{} of {} fixtures differ:\n{}",
            differences.len(),
            files.len(),
            differences.join("\n\n")
        );
        // Most fixtures must take the fast path, or this test proves little.
        assert!(built * 10 >= files.len() * 9, "only {built} of {} fixtures were built from ruff's tree", files.len());
    }

    fn tree_sitter_ranges(source: &str, ranges: &[std::ops::Range<usize>]) -> SyntaxTree {
        let line_index = crate::diagnostic::LineIndex::new(source);
        let point = |offset: usize| {
            let (line, _) = line_index.line_col(source, offset);
            let line_start = line_index.line_start(line).unwrap_or(0);
            tree_sitter::Point { row: line - 1, column: offset - line_start }
        };
        let ranges: Vec<tree_sitter::Range> = ranges
            .iter()
            .map(|r| tree_sitter::Range {
                start_byte: r.start,
                end_byte: r.end,
                start_point: point(r.start),
                end_point: point(r.end),
            })
            .collect();
        let mut parser = tree_sitter::Parser::new();
        parser.set_language(&tree_sitter_python::LANGUAGE.into()).expect("the grammar loads");
        parser.set_included_ranges(&ranges).expect("ranges in order");
        SyntaxTree::new(&parser.parse(source, None).expect("tree-sitter gives a tree"), usize::MAX)
    }

    /// Every second top-level statement of `source`, as whole lines.
    fn every_second_statement(source: &str) -> Vec<std::ops::Range<usize>> {
        let whole = tree_sitter(source);
        let line_start = |offset: usize| source[..offset].rfind('\n').map_or(0, |i| i + 1);
        let line_end = |offset: usize| source[offset..].find('\n').map_or(source.len(), |i| offset + i + 1);
        let mut ranges: Vec<std::ops::Range<usize>> = Vec::new();
        let statements = whole.root_node().named_children().filter(|c| c.kind_str() != "comment");
        for statement in statements.step_by(2) {
            let range = line_start(statement.start_byte())..line_end(statement.end_byte().max(1) - 1);
            match ranges.last_mut() {
                Some(last) if last.end >= range.start => last.end = last.end.max(range.end),
                _ => ranges.push(range),
            }
        }
        ranges
    }

    /// Parsing parts of a module: ruff's parser reads the rest as blank, tree-sitter is given
    /// the parts as included ranges; the trees must agree.
    #[test]
    fn parts_of_every_fixture_get_tree_sitters_tree() {
        let mut files = Vec::new();
        python_files(std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures")), &mut files);
        files.sort();
        let knowledge = crate::python::knowledge::Knowledge::builtin();
        let needles = crate::python::select::Needles::from_knowledge(knowledge);
        let mut compared = 0;
        let mut differences = Vec::new();
        for path in &files {
            let source = std::fs::read_to_string(path).expect("fixtures are UTF-8");
            if tree_sitter(&source).root_node().has_error() {
                continue;
            }
            let module = crate::python::select::ModuleName { name: "fixture", package: None };
            let selected = crate::python::select::select(&source, module, &needles, &Default::default());
            let mut tries = vec![every_second_statement(&source)];
            if let crate::python::select::Selection::Ranges(ranges) = selected.selection {
                tries.push(ranges);
            }
            for ranges in tries {
                let Some(ours) = parse(&source, Some(&ranges), usize::MAX) else { continue };
                compared += 1;
                let theirs = tree_sitter_ranges(&source, &ranges);
                if let Some(difference) = first_difference(theirs.root_node(), ours.root_node(), &source) {
                    differences.push(format!("{} {ranges:?}:\n{difference}", path.display()));
                }
            }
        }
        assert!(differences.is_empty(), "{} differ:\n{}", differences.len(), differences.join("\n\n"));
        assert!(compared >= files.len(), "only {compared} parts compared");
    }

    /// Shapes whose tree is built here: each must equal tree-sitter's.
    const BUILT: &[&str] = &[
        "with a as b, c:\n    pass\n    # in the block\n# after it\n",
        "with (a as b, c):\n    pass\n",
        "with (open(x)) as f:\n    pass\n",
        "with (x / y).open() as f:\n    pass\n",
        "async def f(a, /, b, *, c: int = 1, **k):\n    async with a as b:\n        pass\n    async for x in y:\n        pass\n",
        "def f(*args: int, **kw: str) -> Optional[Dict[str, int]]:\n    return (a), [*b], {**c, 1: 2}\n",
        "@dec  # on the decorator's line\n# between\ndef f():  # after the colon\n    # before the first statement\n    x = 1; y = 2;\n",
        "if x: pass  # same line\nelif y:\n    pass\nelse:\n    pass\n",
        "def f():\n    if x:\n        pass\n        # a\n    # b\n  # c\n# d\n    y = 1\n",
        "try:\n    pass\nexcept (A, B) as e:\n    pass\nexcept C:\n    pass\nelse:\n    pass\nfinally:\n    pass\n",
        "for (x) in y:\n    pass\nelse:\n    pass\nwhile x:\n    break\nelse:\n    continue\n",
        "a = (b.c) = d = e, f\nx: frozenset[int] | None = 1\ny: None | list[int]\nz: a.B | None\n",
        "from . import x\nfrom ..a.b import (c as d, e)\nfrom __future__ import annotations\nimport a.b as c, d\nfrom m import *\n",
        "x = f\"a{b!r:>3}c{d}\" \"e\" f'{g(h)=}'\ny = b'x' b'y'\nz = 1j + 1.5j + 0x1F\n",
        "x = \\\n    'continued string'\ny = a + \\\n    b\n",
        "def g():\n    x = yield from y\n    z = yield a, b\n    await c\n",
        "x = [a async for a in b if c if d]\ny = {k: v for k, v in d}\nz = {a for a in b}\nw = f(x for x in y)\n",
        "x = lambda a, *b, c=1, **d: a if b else c\ny = not a and b or c\nz = a is not None and b not in c < d\n",
        "del a, b\ndel (c)\nglobal g\nnonlocal n\nassert x, 'm'\nraise E from F\n",
        "x = d[a, b:c, ::2]\ny = *a, *b\nprint(*a, **b)\nf(*a.b, *c.d())\nx = [*a.b, c]\n",
        "class A(B, metaclass=M):\n    x: int\n    def f(self): pass\n    # c2\n",
        "\u{feff}# a byte order mark\r\nimport sqlite3\r\n# crlf\r\nx = 1\r\n",
        "\n\n# leading blank lines\nx = (  # a comment in parentheses\n    1)\n",
    ];

    /// Shapes tree-sitter-python reads differently from Python (or that are not built here),
    /// with the reason given. Each must be left to tree-sitter: building any of them here would
    /// give a tree that differs from tree-sitter's.
    const LEFT_TO_TREE_SITTER: &[(&str, &str)] = &[
        ("x = a & b ^ c\n", "mixed bitwise operators"),
        ("x = [*a.b]\n", "star before a non-name"),
        ("x = c, *a.b\n", "star before a non-name"),
        ("x = [*range(5)]\n", "star before a non-name"),
        ("x = d[*t[int]]\n", "star before a non-name"),
        ("print(1, *sys.version.split())\n", "star before a non-name"),
        ("*a.b, c = d\n", "star target"),
        ("print >> f, x\n", "print statement"),
        ("type(x).a = b\n", "type(...) assignment"),
        ("y = (a := b if c else d)\n", "named conditional"),
        ("x: dict[str, list[int] | str | int] = 1\n", "union chain"),
        ("match x:\n    case 1:\n        pass\n", "match"),
        ("def f[T](x: T): pass\n", "type parameters"),
        ("try:\n    pass\nexcept* E:\n    pass\n", "except*"),
        ("x = f'{a:{b}}'\n", "nested format specification"),
        ("x = 'a\0b'\n", "NUL byte"),
        ("def f(:\n", "syntax error"),
    ];

    #[test]
    fn each_shape_is_built_as_tree_sitter_builds_it_or_left_to_it() {
        for source in BUILT {
            assert!(convert(source, None, usize::MAX).is_ok(), "not built: {source:?}");
            assert_eq!(difference(source), None, "in {source:?}");
        }
        for (source, why) in LEFT_TO_TREE_SITTER {
            assert_eq!(convert(source, None, usize::MAX).err(), Some(*why), "{source:?}");
        }
    }

    #[test]
    fn deep_brackets_are_left_to_tree_sitter_before_ruff_parses_them() {
        let deep = format!("x = {}1{}\n", "(".repeat(MAX_CONVERTED_DEPTH + 1), ")".repeat(MAX_CONVERTED_DEPTH + 1));
        assert_eq!(convert(&deep, None, usize::MAX).err(), Some("too deep"));
        let shallow = format!("x = {}1{}\n", "(".repeat(50), ")".repeat(50));
        assert!(convert(&shallow, None, usize::MAX).is_ok());
        // Brackets in strings count too: such a file goes to tree-sitter, which is only slower.
        assert!(bracket_depth_above("s = '((('\n".as_bytes(), 2));
    }

    /// `CONNLINT_TREE_CORPUS=DIR cargo test --release --lib ruff_parse -- --ignored --nocapture`
    #[test]
    #[ignore = "needs a downloaded tree: CONNLINT_TREE_CORPUS=DIR"]
    fn a_corpus_gets_tree_sitters_tree() {
        let Ok(dirs) = std::env::var("CONNLINT_TREE_CORPUS") else { return };
        let mut files = Vec::new();
        for dir in dirs.split(':') {
            python_files(std::path::Path::new(dir), &mut files);
        }
        files.sort();
        let (mut built, mut differ, mut tree_sitter_failed) = (0, 0, 0);
        let mut gave_up = std::collections::BTreeMap::new();
        for path in &files {
            let Ok(source) = std::fs::read_to_string(path) else { continue };
            if let Err(why) = convert(&source, None, usize::MAX) {
                *gave_up.entry(why).or_insert(0) += 1;
                continue;
            }
            built += 1;
            if tree_sitter(&source).root_node().has_error() {
                // Valid to ruff, not to tree-sitter (or ruff does not check what CPython's
                // compiler does): ruff's tree is used.
                tree_sitter_failed += 1;
                continue;
            }
            if let Some(difference) = difference(&source) {
                differ += 1;
                if differ <= 30 {
                    println!("{}:\n{difference}\n", path.display());
                }
            }
        }
        println!(
            "{} files, {built} built from ruff's tree, {differ} differ, {tree_sitter_failed} with errors only to tree-sitter",
            files.len()
        );
        println!("not built: {gave_up:?}");
        assert_eq!(differ, 0);
    }
}
