//! Where things sit in the text, for the rules' fixes: the statement that binds an open and the
//! statements after it in its block, the `with` item or `enter_context` argument an open is, the
//! names a function mentions, and where a module's imports end.
//!
//! The lowering records these facts while it walks the tree (the tree is not kept), so a fix
//! never parses the text again. Nothing here decides what a fix does: see [`super::fix`].

use std::collections::HashSet;

use super::syntax::Node;

use super::syntax::{self, Kind, KindTable, dotted_name, named_children, span, text};
use crate::diagnostic::Span;

/// How the call of an open site sits in the text.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum SiteLayout {
    /// Anywhere else: no fix rewrites it.
    #[default]
    Other,
    /// `x = OPEN(...)`, a statement of its own in a block.
    Bound(BoundStatement),
    /// The expression of a `with` item.
    WithItem(WithItemLayout),
    /// The argument of `stack.enter_context(...)`.
    EnterContext(EnterContextLayout),
}

/// `x = OPEN(...)` as a statement of its own in a block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BoundStatement {
    /// The whole statement.
    pub statement: Span,
    /// The right-hand side as written.
    pub value: Span,
    /// Its block: an index into [`FunctionLayout::blocks`] of the function it is in.
    pub block: u32,
    /// Its place in the block.
    pub index: u32,
}

/// A block that holds a bound statement: its statements, and its indentation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlockLayout {
    pub statements: Vec<Span>,
    /// What one level of indentation is in this block (the text of `"    "`, `"\t"`), if the
    /// block has its own lines and is indented consistently with its parent.
    pub unit: Option<Span>,
}

/// The name a `with` item binds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Alias {
    /// No `as`.
    None,
    /// `as name`.
    Name(Span),
    /// `as self.x`, `as (a, b)`.
    Other,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WithItemLayout {
    /// The expression before `as`, as written.
    pub value: Span,
    pub alias: Alias,
    /// `async with`.
    pub is_async: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnterContextLayout {
    /// The argument as written.
    pub argument: Span,
    /// `stack.enter_context` as written, when the receiver is a plain name or attribute chain
    /// (so that evaluating it twice is harmless).
    pub method: Option<Span>,
    /// `enter_async_context`/`enterAsyncContext`.
    pub is_async: bool,
}

/// `x.close()`, `pool.putconn(x)` or `os.close(x)`: a statement that is only a close.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CloseStatement {
    /// The call.
    pub call: Span,
    /// The statement (the call, unless a comment or parentheses surround it).
    pub statement: Span,
    /// The only statement of its block (removing it needs a `pass`).
    pub alone_in_block: bool,
    /// The next statement of its block is a `return` or a `raise`: nothing runs between the
    /// close and leaving the function.
    pub before_exit: bool,
}

/// What a function's text says, as far as fixes need it. Kept small: every function has one.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FunctionLayout {
    /// Every name the function (with its nested functions) mentions, not counting attribute
    /// names and keyword-argument names: collected only when a `with` item without `as` may
    /// need a fresh name.
    pub names: Option<Box<HashSet<String>>>,
    /// Where each name bound by one of its calls is mentioned.
    pub mentions: Vec<(String, Vec<Span>)>,
    /// Of the names a fix may use (`closing`, `contextlib` and the module's names for them),
    /// the ones that may be local to the function (assigned, parameters): a superset.
    pub locals: Vec<String>,
    /// Imports inside the function: local name and qualified name.
    pub imports: Vec<(String, String)>,
    /// String literals that span lines: re-indenting must not change their text.
    pub multiline_strings: Vec<Span>,
    pub close_statements: Vec<CloseStatement>,
    /// The blocks that hold a bound statement.
    pub blocks: Vec<BlockLayout>,
}

impl FunctionLayout {
    /// A function's text that says nothing a fix needs.
    pub const EMPTY: FunctionLayout = FunctionLayout {
        names: None,
        mentions: Vec::new(),
        locals: Vec::new(),
        imports: Vec::new(),
        multiline_strings: Vec::new(),
        close_statements: Vec::new(),
        blocks: Vec::new(),
    };

    pub fn is_empty(&self) -> bool {
        *self == FunctionLayout::EMPTY
    }

    /// Where `name` is mentioned, if it is a name bound by one of the function's calls.
    pub fn mentions_of(&self, name: &str) -> Option<&[Span]> {
        self.mentions.iter().find(|(n, _)| n == name).map(|(_, spans)| spans.as_slice())
    }
}

/// What a module's text says, as far as fixes need it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ModuleLayout {
    /// Where a new import line goes: after the docstring, the `__future__` imports and the
    /// leading block of imports (a line start, or the end of the text).
    pub import_at: usize,
    /// `import_at` is after a docstring or imports (else it is before the first statement).
    pub after_header: bool,
    /// The first statement is a function or class definition (two blank lines go before it).
    pub before_definition: bool,
    /// The name a module-level `from contextlib import closing [as x]` binds.
    pub closing: Option<String>,
    /// The name a module-level `import contextlib [as x]` binds.
    pub contextlib: Option<String>,
    /// Of the names a fix may add an import for ([`IMPORTABLE`]), the ones the module already
    /// uses: mentioned at module level outside function bodies, the name of a function, or
    /// declared `global` or `nonlocal` in one.
    pub taken: Vec<String>,
}

/// What [`walk_names`] tells about a node.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Seen {
    /// An identifier that names a variable: not an attribute name (`x.name`) or a keyword
    /// argument's name (`f(name=...)`).
    Variable,
    String,
    FunctionDefinition,
    Other,
}

/// The grammar's ids for the node kinds and fields [`walk_names`] looks at (comparing ids is
/// much cheaper than comparing kind names on every node).
struct Ids {
    identifier: u16,
    string: u16,
    function_definition: u16,
    attribute: u16,
    keyword_argument: u16,
    attribute_field: u16,
    name_field: u16,
}

fn ids() -> &'static Ids {
    static IDS: std::sync::OnceLock<Ids> = std::sync::OnceLock::new();
    IDS.get_or_init(|| Ids {
        identifier: syntax::kind_id("identifier"),
        string: syntax::kind_id("string"),
        function_definition: syntax::kind_id("function_definition"),
        attribute: syntax::kind_id("attribute"),
        keyword_argument: syntax::kind_id("keyword_argument"),
        attribute_field: syntax::field_id("attribute"),
        name_field: syntax::field_id("name"),
    })
}

/// Calls `visit` on every node under `root` (itself included) with what it is; `visit` returns
/// whether to go into the node's children.
fn walk_names(root: Node, mut visit: impl FnMut(Node, Seen) -> bool) {
    let ids = ids();
    let mut nodes = root.descendants();
    while let Some(node) = nodes.next() {
        let kind = node.kind_id();
        let seen = if kind == ids.identifier {
            let field = node.field_id();
            let not_a_variable = match node.parent().filter(|_| node != root).map(|parent| parent.kind_id()) {
                Some(parent) if parent == ids.attribute => field == ids.attribute_field,
                Some(parent) if parent == ids.keyword_argument => field == ids.name_field,
                _ => false,
            };
            if not_a_variable { Seen::Other } else { Seen::Variable }
        } else if kind == ids.string {
            Seen::String
        } else if kind == ids.function_definition {
            Seen::FunctionDefinition
        } else {
            Seen::Other
        };
        if !visit(node, seen) {
            nodes.skip_children(node);
        }
    }
}

/// The mentions of `bound_names`, the multi-line strings and, with `all_names`, every name
/// of a function.
pub fn function_layout(def: Node, src: &str, bound_names: &[&str], all_names: bool) -> FunctionLayout {
    let mut layout = FunctionLayout::default();
    let mut names = HashSet::new();
    let mut mentions: Vec<(&str, Vec<Span>)> = Vec::new();
    walk_names(def, |node, seen| {
        match seen {
            Seen::Variable => {
                let name = text(node, src);
                if bound_names.contains(&name) {
                    match mentions.iter_mut().find(|(n, _)| *n == name) {
                        Some((_, spans)) => spans.push(span(node)),
                        None => mentions.push((name, vec![span(node)])),
                    }
                }
                if all_names && !names.contains(name) {
                    names.insert(name.to_string());
                }
            }
            // Names in an f-string's interpolations are still mentions: go on into it.
            Seen::String if text(node, src).contains('\n') => layout.multiline_strings.push(span(node)),
            _ => {}
        }
        true
    });
    layout.names = all_names.then(|| Box::new(names));
    layout.mentions = mentions.into_iter().map(|(name, spans)| (name.to_string(), spans)).collect();
    layout
}

/// The layout of a block that holds a bound statement.
pub fn block_layout(block: Node, statements: &[Node], src: &str) -> BlockLayout {
    BlockLayout {
        statements: statements.iter().map(|s| span(*s)).collect(),
        unit: statements.first().and_then(|first| indentation_unit(block, *first, src)),
    }
}

/// The indentation a block adds to its parent's: the statement's indentation without the
/// parent's, as a span of the text. `None` when the statement does not start its line, or the
/// two do not agree.
fn indentation_unit(block: Node, statement: Node, src: &str) -> Option<Span> {
    let parent = block.parent()?;
    let own = indentation_before(src, statement.start_byte())?;
    let outer = line_indentation(src, parent.start_byte());
    let unit = own.strip_prefix(outer)?;
    let end = statement.start_byte();
    (!unit.is_empty()).then(|| Span::new(end - unit.len(), end))
}

/// The whitespace between the start of the line and `offset`, if there is only whitespace.
pub fn indentation_before(src: &str, offset: usize) -> Option<&str> {
    let start = src[..offset].rfind('\n').map_or(0, |i| i + 1);
    let before = src[start..offset].trim_start_matches('\u{feff}');
    before.chars().all(|c| c == ' ' || c == '\t').then_some(before)
}

/// The leading whitespace of the line `offset` is on.
pub fn line_indentation(src: &str, offset: usize) -> &str {
    let start = src[..offset].rfind('\n').map_or(0, |i| i + 1);
    let line = src[start..].trim_start_matches('\u{feff}');
    let end = line.find(|c| c != ' ' && c != '\t').unwrap_or(line.len());
    &line[..end]
}

/// Whether `statement` is exactly a call (a close), and the call.
pub fn statement_call(statement: Node) -> Option<Node> {
    let kinds = KindTable::get();
    if kinds.of(statement) != Kind::ExpressionStatement {
        return None;
    }
    match named_children(statement).as_slice() {
        [call] if kinds.of(*call) == Kind::Call => Some(*call),
        _ => None,
    }
}

/// Whether a close call has the plain shape a fix can move: `x.m()`, `a.b.m(x)` or `f.g(x)`.
pub fn is_plain_close(call: Node, src: &str) -> bool {
    let kinds = KindTable::get();
    let Some(arguments) = call.child_by_field_name("arguments") else { return false };
    if kinds.of(arguments) != Kind::ArgumentList {
        return false;
    }
    let args = named_children(arguments);
    let function = call.child_by_field_name("function");
    let plain_chain = |node: Node| super::syntax::attribute_chain(node, src).is_some();
    match args.as_slice() {
        [] => function.is_some_and(|f| kinds.of(f) == Kind::Attribute && plain_chain(f)),
        [only] => kinds.of(*only) == Kind::Identifier && function.is_some_and(plain_chain),
        _ => false,
    }
}

/// The module facts: where imports go, which `closing` names exist, the names at module level.
pub fn module_layout(root: Node, src: &str) -> ModuleLayout {
    let kinds = KindTable::get();
    let statements = named_children(root);
    let mut layout = ModuleLayout { import_at: 0, ..ModuleLayout::default() };
    let mut last_header: Option<Node> = None;
    for (i, statement) in statements.iter().enumerate() {
        let is_docstring = i == 0
            && kinds.of(*statement) == Kind::ExpressionStatement
            && matches!(named_children(*statement).as_slice(), [s] if matches!(kinds.of(*s), Kind::String | Kind::ConcatenatedString));
        let is_import = matches!(
            kinds.of(*statement),
            Kind::ImportStatement | Kind::ImportFromStatement | Kind::FutureImportStatement
        );
        if is_docstring || is_import {
            last_header = Some(*statement);
        } else {
            break;
        }
    }
    layout.after_header = last_header.is_some();
    layout.before_definition = statements.first().is_some_and(|s| {
        matches!(kinds.of(*s), Kind::FunctionDefinition | Kind::ClassDefinition | Kind::DecoratedDefinition)
    });
    layout.import_at = match (last_header, statements.first()) {
        (Some(header), _) => line_end(src, header.end_byte()),
        (None, Some(first)) => {
            let start = src[..first.start_byte()].rfind('\n').map_or(0, |i| i + 1);
            let bom = if src.starts_with('\u{feff}') { '\u{feff}'.len_utf8() } else { 0 };
            start.max(bom)
        }
        (None, None) => src.len(),
    };
    for statement in &statements {
        match kinds.of(*statement) {
            Kind::ImportFromStatement => {
                let module = statement.child_by_field_name("module_name").map(|m| text(m, src));
                if module == Some("contextlib") {
                    for (name, local) in imported_names(*statement, src) {
                        if name == "closing" {
                            layout.closing = Some(local);
                        }
                    }
                }
            }
            Kind::ImportStatement => {
                for (name, local) in imported_names(*statement, src) {
                    if name == "contextlib" {
                        layout.contextlib = Some(local);
                    }
                }
            }
            _ => {}
        }
    }
    collect_module_names(root, src, &mut layout);
    layout
}

/// The local names an import statement binds.
pub fn imported_locals(statement: Node, src: &str) -> Vec<String> {
    imported_names(statement, src).into_iter().map(|(_, local)| local).collect()
}

/// `(imported, local)` pairs of an import statement (`import a.b` binds `a`).
fn imported_names(statement: Node, src: &str) -> Vec<(String, String)> {
    let kinds = KindTable::get();
    let mut out = Vec::new();
    for name in statement.children_by_field_name("name") {
        match kinds.of(name) {
            Kind::DottedName => {
                let full = dotted_name(name, src);
                let local = if kinds.of(statement) == Kind::ImportStatement {
                    full.split('.').next().unwrap_or_default().to_string()
                } else {
                    full.clone()
                };
                out.push((full, local));
            }
            Kind::AliasedImport => {
                if let (Some(target), Some(alias)) =
                    (name.child_by_field_name("name"), name.child_by_field_name("alias"))
                {
                    out.push((dotted_name(target, src), text(alias, src).to_string()));
                }
            }
            _ => {}
        }
    }
    out
}

/// The names a fix may add an import for: `from contextlib import closing`, `import contextlib`.
pub const IMPORTABLE: &[&str] = &["closing", "contextlib"];

impl ModuleLayout {
    /// Whether the module already uses `name` (one of [`IMPORTABLE`]) for something.
    pub fn is_taken(&self, name: &str) -> bool {
        self.taken.iter().any(|t| t == name)
    }

    /// Records that the module uses `name`, if it is one of [`IMPORTABLE`].
    pub fn take(&mut self, name: &str) {
        if IMPORTABLE.contains(&name) && !self.is_taken(name) {
            self.taken.push(name.to_string());
        }
    }
}

/// Which [`IMPORTABLE`] names are mentioned at module level (outside function bodies) or name a
/// function. (The lowering adds the names functions declare `global`.)
fn collect_module_names(root: Node, src: &str, layout: &mut ModuleLayout) {
    walk_names(root, |node, seen| match seen {
        Seen::FunctionDefinition => {
            if let Some(name) = node.child_by_field_name("name") {
                layout.take(text(name, src));
            }
            false
        }
        Seen::Variable => {
            layout.take(text(node, src));
            true
        }
        _ => true,
    });
}

/// The start of the line after the one `offset` is on, or the end of the text.
pub fn line_end(src: &str, offset: usize) -> usize {
    src[offset..].find('\n').map_or(src.len(), |i| offset + i + 1)
}
