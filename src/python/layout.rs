//! Where things sit in the text, for the rules' fixes: the statement that binds an open and the
//! statements after it in its block, the `with` item or `enter_context` argument an open is, the
//! names a function mentions, and where a module's imports end.
//!
//! The lowering records these facts while it walks the tree (the tree is not kept), so a fix
//! never parses the text again. Nothing here decides what a fix does: see [`super::fix`].

use std::collections::{HashMap, HashSet};

use tree_sitter::Node;

use super::syntax::{dotted_name, named_children, span, text};
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

/// `x = OPEN(...)` as a statement of its own, and the statements after it in its block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BoundStatement {
    /// The whole statement.
    pub statement: Span,
    /// The right-hand side as written.
    pub value: Span,
    /// What one level of indentation is in this block (`"    "`, `"\t"`), if the block has its
    /// own lines and is indented consistently with its parent.
    pub unit: Option<String>,
    /// The statements that follow it in the same block, in order.
    pub following: Vec<Span>,
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

/// What a function's text says, as far as fixes need it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FunctionLayout {
    /// Every name the function (with its nested functions) mentions, not counting attribute
    /// names and keyword-argument names.
    pub names: HashSet<String>,
    /// Where each name bound by one of its opens is mentioned.
    pub mentions: HashMap<String, Vec<Span>>,
    /// Names that may be local to the function (assigned, parameters): a superset.
    pub locals: HashSet<String>,
    /// Imports inside the function: local name → qualified name.
    pub imports: HashMap<String, String>,
    /// String literals that span lines: re-indenting must not change their text.
    pub multiline_strings: Vec<Span>,
    pub close_statements: Vec<CloseStatement>,
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
    /// Every name mentioned at module level outside function bodies, the names of module-level
    /// functions, and every name declared `global`: a name outside this set is free.
    pub names: HashSet<String>,
}

/// Whether `node` is an identifier that names a variable (not an attribute or a keyword).
fn is_variable(node: Node) -> bool {
    if node.kind() != "identifier" {
        return false;
    }
    let Some(parent) = node.parent() else { return true };
    let is_field = |field: &str| parent.child_by_field_name(field).is_some_and(|n| n.id() == node.id());
    match parent.kind() {
        "attribute" => !is_field("attribute"),
        "keyword_argument" => !is_field("name"),
        _ => true,
    }
}

/// The names, mentions and multi-line strings of a function.
pub fn function_layout(def: Node, src: &str, bound_names: &HashSet<&str>) -> FunctionLayout {
    let mut layout = FunctionLayout::default();
    let mut cursor = def.walk();
    loop {
        let node = cursor.node();
        let mut descend = true;
        match node.kind() {
            "identifier" if is_variable(node) => {
                let name = text(node, src);
                if bound_names.contains(name) {
                    layout.mentions.entry(name.to_string()).or_default().push(span(node));
                }
                if !layout.names.contains(name) {
                    layout.names.insert(name.to_string());
                }
            }
            "string" => {
                if text(node, src).contains('\n') {
                    layout.multiline_strings.push(span(node));
                }
                // Names in an f-string's interpolations are still mentions.
                descend = true;
            }
            _ => {}
        }
        if descend && cursor.goto_first_child() {
            continue;
        }
        loop {
            if cursor.node().id() == def.id() {
                return layout;
            }
            if cursor.goto_next_sibling() {
                break;
            }
            if !cursor.goto_parent() {
                return layout;
            }
        }
    }
}

/// The bound statement of `statements[index]`, whose value is `value`.
pub fn bound_statement(block: Node, statements: &[Node], index: usize, value: Span, src: &str) -> BoundStatement {
    let statement = statements[index];
    BoundStatement {
        statement: span(statement),
        value,
        unit: indentation_unit(block, statement, src),
        following: statements[index + 1..].iter().map(|s| span(*s)).collect(),
    }
}

/// The indentation a block adds to its parent's: the statement's indentation without the
/// parent's. `None` when the statement does not start its line, or the two do not agree.
fn indentation_unit(block: Node, statement: Node, src: &str) -> Option<String> {
    let parent = block.parent()?;
    let own = indentation_before(src, statement.start_byte())?;
    let outer = line_indentation(src, parent.start_byte());
    let unit = own.strip_prefix(outer)?;
    (!unit.is_empty()).then(|| unit.to_string())
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
    if statement.kind() != "expression_statement" {
        return None;
    }
    match named_children(statement).as_slice() {
        [call] if call.kind() == "call" => Some(*call),
        _ => None,
    }
}

/// Whether a close call has the plain shape a fix can move: `x.m()`, `a.b.m(x)` or `f.g(x)`.
pub fn is_plain_close(call: Node, src: &str) -> bool {
    let Some(arguments) = call.child_by_field_name("arguments") else { return false };
    if arguments.kind() != "argument_list" {
        return false;
    }
    let args = named_children(arguments);
    let function = call.child_by_field_name("function");
    let plain_chain = |node: Node| super::syntax::attribute_chain(node, src).is_some();
    match args.as_slice() {
        [] => function.is_some_and(|f| f.kind() == "attribute" && plain_chain(f)),
        [only] => only.kind() == "identifier" && function.is_some_and(plain_chain),
        _ => false,
    }
}

/// The module facts: where imports go, which `closing` names exist, the names at module level.
pub fn module_layout(root: Node, src: &str) -> ModuleLayout {
    let statements = named_children(root);
    let mut layout = ModuleLayout { import_at: 0, ..ModuleLayout::default() };
    let mut last_header: Option<Node> = None;
    for (i, statement) in statements.iter().enumerate() {
        let is_docstring = i == 0
            && statement.kind() == "expression_statement"
            && matches!(named_children(*statement).as_slice(), [s] if matches!(s.kind(), "string" | "concatenated_string"));
        let is_import =
            matches!(statement.kind(), "import_statement" | "import_from_statement" | "future_import_statement");
        if is_docstring || is_import {
            last_header = Some(*statement);
        } else {
            break;
        }
    }
    layout.after_header = last_header.is_some();
    layout.before_definition = statements
        .first()
        .is_some_and(|s| matches!(s.kind(), "function_definition" | "class_definition" | "decorated_definition"));
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
        match statement.kind() {
            "import_from_statement" => {
                let module = statement.child_by_field_name("module_name").map(|m| text(m, src));
                if module == Some("contextlib") {
                    for (name, local) in imported_names(*statement, src) {
                        if name == "closing" {
                            layout.closing = Some(local);
                        }
                    }
                }
            }
            "import_statement" => {
                for (name, local) in imported_names(*statement, src) {
                    if name == "contextlib" {
                        layout.contextlib = Some(local);
                    }
                }
            }
            _ => {}
        }
    }
    collect_module_names(root, src, &mut layout.names);
    layout
}

/// The local names an import statement binds.
pub fn imported_locals(statement: Node, src: &str) -> Vec<String> {
    imported_names(statement, src).into_iter().map(|(_, local)| local).collect()
}

/// `(imported, local)` pairs of an import statement (`import a.b` binds `a`).
fn imported_names(statement: Node, src: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut cursor = statement.walk();
    for name in statement.children_by_field_name("name", &mut cursor) {
        match name.kind() {
            "dotted_name" => {
                let full = dotted_name(name, src);
                let local = if statement.kind() == "import_statement" {
                    full.split('.').next().unwrap_or_default().to_string()
                } else {
                    full.clone()
                };
                out.push((full, local));
            }
            "aliased_import" => {
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

/// Names mentioned at module level (outside function bodies), function names, and `global`
/// declarations anywhere.
fn collect_module_names(root: Node, src: &str, names: &mut HashSet<String>) {
    let mut stack = vec![root];
    while let Some(node) = stack.pop() {
        match node.kind() {
            "identifier" if is_variable(node) => {
                names.insert(text(node, src).to_string());
            }
            "function_definition" => {
                if let Some(name) = node.child_by_field_name("name") {
                    names.insert(text(name, src).to_string());
                }
                // Only `global` statements inside count.
                collect_globals(node, src, names);
                continue;
            }
            _ => {}
        }
        let mut cursor = node.walk();
        stack.extend(node.children(&mut cursor));
    }
}

fn collect_globals(node: Node, src: &str, names: &mut HashSet<String>) {
    let mut stack = vec![node];
    while let Some(node) = stack.pop() {
        if node.kind() == "global_statement" {
            names.extend(named_children(node).into_iter().map(|n| text(n, src).to_string()));
            continue;
        }
        let mut cursor = node.walk();
        stack.extend(node.children(&mut cursor));
    }
}

/// The start of the line after the one `offset` is on, or the end of the text.
pub fn line_end(src: &str, offset: usize) -> usize {
    src[offset..].find('\n').map_or(src.len(), |i| offset + i + 1)
}
