//! Small helpers over tree-sitter-python nodes. Only the Python frontend sees tree-sitter.

use std::sync::LazyLock;

use tree_sitter::{Language, Node};

use crate::diagnostic::Span;

/// Node kinds and field lookups without tree-sitter's per-call costs: `Node::kind` validates the
/// kind's C string as UTF-8 on every call, and `Node::child_by_field_name` compares the name
/// against every field name of the grammar. Both tables are built once from the grammar.
pub trait NodeExt<'t> {
    /// The node's kind, as `Node::kind` says it.
    fn kind_str(&self) -> &'static str;
    /// The child in field `name`, as `Node::child_by_field_name` finds it.
    fn field(&self, name: &'static str) -> Option<Node<'t>>;
}

static LANGUAGE: LazyLock<Language> = LazyLock::new(|| tree_sitter_python::LANGUAGE.into());

static KIND_NAMES: LazyLock<Vec<&'static str>> = LazyLock::new(|| {
    let language: &'static Language = &LANGUAGE;
    (0..language.node_kind_count())
        .map(|id| u16::try_from(id).ok().and_then(|id| language.node_kind_for_id(id)).unwrap_or(""))
        .collect()
});

/// The fields the frontend asks for; any other name falls back to tree-sitter's own lookup.
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

static FIELD_IDS: LazyLock<[Option<std::num::NonZeroU16>; FIELD_NAMES.len()]> =
    LazyLock::new(|| FIELD_NAMES.map(|name| LANGUAGE.field_id_for_name(name)));

impl<'t> NodeExt<'t> for Node<'t> {
    #[inline]
    fn kind_str(&self) -> &'static str {
        // Every id a tree holds is below the grammar's kind count.
        KIND_NAMES.get(usize::from(self.kind_id())).copied().unwrap_or_default()
    }

    #[inline]
    fn field(&self, name: &'static str) -> Option<Node<'t>> {
        match FIELD_NAMES.iter().position(|field| *field == name).and_then(|i| FIELD_IDS[i]) {
            Some(id) => self.child_by_field_id(id.get()),
            None => self.child_by_field_name(name),
        }
    }
}

pub fn text<'s>(node: Node, src: &'s str) -> &'s str {
    src.get(node.byte_range()).unwrap_or_default()
}

pub fn span(node: Node) -> Span {
    Span::new(node.start_byte(), node.end_byte())
}

/// `a.b.c` of a `dotted_name` node, without whitespace or comments.
pub fn dotted_name(node: Node, src: &str) -> String {
    let mut cursor = node.walk();
    let parts: Vec<&str> =
        node.named_children(&mut cursor).filter(|c| c.kind_str() == "identifier").map(|c| text(c, src)).collect();
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
    let mut cursor = node.walk();
    let mut children = node.named_children(&mut cursor).filter(|c| c.kind_str() != "comment");
    let first = children.next()?;
    children.next().is_none().then_some(first)
}

pub fn named_children(node: Node) -> Vec<Node> {
    let mut cursor = node.walk();
    node.named_children(&mut cursor).filter(|c| c.kind_str() != "comment").collect()
}

/// The first node that is an error or a missing token, for the parse-error diagnostic.
pub fn first_error(node: Node) -> Option<Node> {
    if !node.has_error() {
        return None;
    }
    let mut cursor = node.walk();
    loop {
        let current = cursor.node();
        if current.is_error() || current.is_missing() {
            return Some(current);
        }
        // Descend into the first child that holds the error.
        let mut descended = false;
        if cursor.goto_first_child() {
            loop {
                let child = cursor.node();
                if child.has_error() || child.is_missing() {
                    descended = true;
                    break;
                }
                if !cursor.goto_next_sibling() {
                    break;
                }
            }
        }
        if !descended {
            return Some(current);
        }
    }
}

/// Whether a node is a literal whose evaluation cannot raise.
pub fn is_plain_literal(node: Node) -> bool {
    match node.kind_str() {
        "integer" | "float" | "true" | "false" | "none" | "ellipsis" => true,
        "string" => {
            let mut cursor = node.walk();
            !node.named_children(&mut cursor).any(|c| c.kind_str() == "interpolation")
        }
        "concatenated_string" => named_children(node).into_iter().all(is_plain_literal),
        "tuple" | "list" | "set" | "parenthesized_expression" => {
            named_children(node).into_iter().all(|c| is_plain_literal(c) || c.kind_str() == "identifier")
        }
        _ => false,
    }
}
