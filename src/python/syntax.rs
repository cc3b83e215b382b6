//! Small helpers over the Python syntax tree ([`super::tree`]) and the grammar's kind and field
//! tables. Only the Python frontend sees tree-sitter.

use std::sync::LazyLock;

use tree_sitter::Language;

pub use super::tree::Node;

use crate::diagnostic::Span;

static LANGUAGE: LazyLock<Language> = LazyLock::new(|| tree_sitter_python::LANGUAGE.into());

/// Node kind names by id, built once from the grammar: tree-sitter's `Node::kind` validates the
/// kind's C string as UTF-8 on every call.
static KIND_NAMES: LazyLock<Vec<&'static str>> = LazyLock::new(|| {
    let language: &'static Language = &LANGUAGE;
    (0..language.node_kind_count())
        .map(|id| u16::try_from(id).ok().and_then(|id| language.node_kind_for_id(id)).unwrap_or(""))
        .collect()
});

/// The name of node kind `id`, as tree-sitter's `Node::kind` says it.
#[inline]
pub fn kind_name(id: u16) -> &'static str {
    match KIND_NAMES.get(usize::from(id)) {
        Some(name) => name,
        // The error node's id, `u16::MAX`, is not one of the grammar's kinds.
        None if id == u16::MAX => "ERROR",
        None => "",
    }
}

/// The fields the frontend asks for, looked up once; tree-sitter's own lookup compares the
/// name against every field name of the grammar.
const FIELD_NAMES: [&str; 22] = [
    "function",
    "name",
    "object",
    "body",
    "attribute",
    "value",
    "right",
    "left",
    "arguments",
    "definition",
    "consequence",
    "condition",
    "alias",
    "type",
    "superclasses",
    "subject",
    "parameters",
    "module_name",
    "guard",
    "argument",
    "alternative",
    "operator",
];

static FIELD_IDS: LazyLock<[u16; FIELD_NAMES.len()]> =
    LazyLock::new(|| FIELD_NAMES.map(|name| LANGUAGE.field_id_for_name(name).map_or(0, |id| id.get())));

/// The id of the field called `name`, 0 when the grammar has none.
#[inline]
pub fn field_id(name: &'static str) -> u16 {
    match FIELD_NAMES.iter().position(|field| *field == name) {
        Some(i) => FIELD_IDS[i],
        None => LANGUAGE.field_id_for_name(name).map_or(0, |id| id.get()),
    }
}

/// The id of the node kind called `name` (named kinds only).
pub fn kind_id(name: &str) -> u16 {
    LANGUAGE.id_for_node_kind(name, true)
}

/// The id of the anonymous token or node called `name` (`async`, `is not`).
pub fn token_kind_id(name: &str) -> u16 {
    LANGUAGE.id_for_node_kind(name, false)
}

pub fn text<'s>(node: Node, src: &'s str) -> &'s str {
    src.get(node.byte_range()).unwrap_or_default()
}

pub fn span(node: Node) -> Span {
    Span::new(node.start_byte(), node.end_byte())
}

/// `a.b.c` of a `dotted_name` node, without whitespace or comments.
pub fn dotted_name(node: Node, src: &str) -> String {
    let parts: Vec<&str> =
        node.named_children().filter(|c| c.kind_str() == "identifier").map(|c| text(c, src)).collect();
    if parts.is_empty() { text(node, src).to_string() } else { parts.join(".") }
}

/// The parts of an identifier or attribute chain (`a.b.c` → `[a, b, c]`), or `None` when the
/// chain has anything else in it (a call, a subscript).
pub fn attribute_chain<'s>(node: Node, src: &'s str) -> Option<Vec<&'s str>> {
    let mut parts = Vec::new();
    let mut current = node;
    loop {
        match current.kind_str() {
            "identifier" => {
                parts.push(text(current, src));
                parts.reverse();
                return Some(parts);
            }
            "attribute" => {
                parts.push(text(current.field("attribute")?, src));
                current = current.field("object")?;
            }
            "parenthesized_expression" => current = single_named_child(current)?,
            _ => return None,
        }
    }
}

/// Strips parentheses and `await`, which do not change what a value is.
pub fn peel(mut node: Node) -> Node {
    loop {
        match node.kind_str() {
            "parenthesized_expression" | "await" => match single_named_child(node) {
                Some(inner) => node = inner,
                None => return node,
            },
            _ => return node,
        }
    }
}

pub fn single_named_child(node: Node) -> Option<Node> {
    let mut children = node.named_children().filter(|c| c.kind_str() != "comment");
    let first = children.next()?;
    children.next().is_none().then_some(first)
}

pub fn named_children(node: Node) -> Vec<Node> {
    node.named_children().filter(|c| c.kind_str() != "comment").collect()
}

/// The first node that is an error or a missing token, for the parse-error diagnostic.
pub fn first_error(node: Node) -> Option<Node> {
    if !node.has_error() {
        return None;
    }
    let mut current = node;
    loop {
        if current.is_error() || current.is_missing() {
            return Some(current);
        }
        // Descend into the first child that holds the error.
        match current.children().find(|child| child.has_error() || child.is_missing()) {
            Some(child) => current = child,
            None => return Some(current),
        }
    }
}

/// Whether a node is a literal whose evaluation cannot raise.
pub fn is_plain_literal(node: Node) -> bool {
    match node.kind_str() {
        "integer" | "float" | "true" | "false" | "none" | "ellipsis" => true,
        "string" => !node.named_children().any(|c| c.kind_str() == "interpolation"),
        "concatenated_string" => named_children(node).into_iter().all(is_plain_literal),
        "tuple" | "list" | "set" | "parenthesized_expression" => {
            named_children(node).into_iter().all(|c| is_plain_literal(c) || c.kind_str() == "identifier")
        }
        _ => false,
    }
}
