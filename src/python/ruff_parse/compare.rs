//! Comparing the tree built here with tree-sitter's, for the tests.

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
        let list = |children: &[Node]| children.iter().map(|c| describe(*c, source)).collect::<Vec<_>>().join("\n    ");
        return Some(format!(
            "children of {}:\n  tree-sitter:\n    {}\n  ruff:\n    {}",
            describe(theirs, source),
            list(&their_children),
            list(&our_children)
        ));
    }
    None
}

/// The tree as nested kinds, `(kind child ...)`, with the children [`first_difference`]
/// compares: for the shapes this module reads as Python does and tree-sitter does not.
pub(crate) fn shape(node: Node) -> String {
    let children: Vec<String> = node.children().filter(|c| kept(node, *c)).map(shape).collect();
    if children.is_empty() {
        format!("({})", node.kind_str())
    } else {
        format!("({} {})", node.kind_str(), children.join(" "))
    }
}
