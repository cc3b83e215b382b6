//! The syntax tree the Python frontend reads: a copy of tree-sitter's tree in one flat array.
//!
//! Lowering, fix layouts, name collection and the depth check each walk the tree, and some ask
//! a node for its children or a field many times. Through tree-sitter every step of a walk
//! recomputes the child's position from its siblings' sizes (`ts_tree_cursor_goto_sibling`), and
//! every field lookup walks the parent's children again; on Django that was most of the
//! lowering's time. Here the tree is walked once with a cursor and stored in preorder: a node's
//! first child is the next entry, its next sibling is the entry after its subtree, and every
//! later question is index arithmetic. The tree-sitter tree is dropped right after.
//!
//! Invariants: entry 0 is the root; for every entry `i`, `i < end[i] <= end[parent(i)]`, and
//! the entries `i + 1 .. end[i]` are exactly its descendants, in source order.

use std::ops::Range;

use super::syntax::{field_id, kind_name};

/// One node: 24 bytes, no pointers.
#[derive(Clone, Copy)]
struct Entry {
    start_byte: u32,
    end_byte: u32,
    start_row: u32,
    /// The index after this node's subtree (its next sibling, if it has one).
    end: u32,
    parent: u32,
    kind: u16,
    /// The field this node is in its parent, 0 for none.
    field: u16,
    flags: u8,
}

const NAMED: u8 = 1;
const ERROR: u8 = 2;
const MISSING: u8 = 4;
const HAS_ERROR: u8 = 8;

/// A parsed module (or the parsed parts of one), flattened.
pub struct SyntaxTree {
    entries: Vec<Entry>,
    /// The first node, in source order, deeper than the limit given to [`SyntaxTree::new`].
    too_deep: Option<u32>,
}

fn to_u32(n: usize) -> u32 {
    // Sources over 4 GiB are refused before parsing (`run::read_source`).
    u32::try_from(n).unwrap_or(u32::MAX)
}

impl SyntaxTree {
    /// Copies `tree`, noting the first node more than `depth_limit` levels below the root. The
    /// walk uses a cursor and an explicit stack: any depth is copied without recursion.
    pub fn new(tree: &tree_sitter::Tree, depth_limit: usize) -> SyntaxTree {
        let mut entries: Vec<Entry> = Vec::with_capacity(tree.root_node().descendant_count());
        let mut open: Vec<u32> = Vec::new();
        let mut too_deep = None;
        let mut cursor = tree.walk();
        loop {
            let node = cursor.node();
            let index = to_u32(entries.len());
            let mut flags = 0;
            if node.is_named() {
                flags |= NAMED;
            }
            if node.is_error() {
                flags |= ERROR;
            }
            if node.is_missing() {
                flags |= MISSING;
            }
            if node.has_error() {
                flags |= HAS_ERROR;
            }
            entries.push(Entry {
                start_byte: to_u32(node.start_byte()),
                end_byte: to_u32(node.end_byte()),
                start_row: to_u32(node.start_position().row),
                end: index + 1,
                parent: open.last().copied().unwrap_or(0),
                kind: node.kind_id(),
                field: cursor.field_id().map_or(0, |id| id.get()),
                flags,
            });
            if too_deep.is_none() && open.len() > depth_limit {
                too_deep = Some(index);
            }
            if cursor.goto_first_child() {
                open.push(index);
                continue;
            }
            loop {
                if cursor.goto_next_sibling() {
                    break;
                }
                if !cursor.goto_parent() {
                    return SyntaxTree { entries, too_deep };
                }
                if let Some(parent) = open.pop() {
                    entries[parent as usize].end = to_u32(entries.len());
                }
            }
        }
    }

    pub fn root_node(&self) -> Node<'_> {
        Node { tree: self, index: 0 }
    }

    /// The first node deeper than the limit the tree was copied with.
    pub fn too_deep(&self) -> Option<Node<'_>> {
        self.too_deep.map(|index| Node { tree: self, index })
    }
}

/// Builds a [`SyntaxTree`] in preorder for a parser other than tree-sitter
/// ([`super::ruff_parse`]): a node is opened, its children are added, then it is closed.
pub(super) struct Builder {
    entries: Vec<Entry>,
    /// The open nodes, innermost last, each with the largest end of its children so far.
    open: Vec<(u32, u32)>,
    /// The offset of every line's first byte (rows are counted in `\n`, as tree-sitter does).
    line_starts: Vec<u32>,
    deepest: usize,
    /// The row of the last node pushed: nodes come in preorder, most on the same line as the
    /// node before them.
    last_row: usize,
}

impl Builder {
    /// A builder with room for `nodes` nodes.
    pub(super) fn new(source: &str, nodes: usize) -> Builder {
        let mut line_starts = vec![0];
        line_starts.extend(memchr::memchr_iter(b'\n', source.as_bytes()).map(|i| to_u32(i + 1)));
        Builder { entries: Vec::with_capacity(nodes), open: Vec::new(), line_starts, deepest: 0, last_row: 0 }
    }

    fn row(&mut self, offset: u32) -> u32 {
        let starts = &self.line_starts;
        let on_last_row = starts.get(self.last_row).is_some_and(|&start| start <= offset)
            && starts.get(self.last_row + 1).is_none_or(|&next| offset < next);
        if !on_last_row {
            self.last_row = starts.partition_point(|&start| start <= offset).saturating_sub(1);
        }
        to_u32(self.last_row)
    }

    fn push(&mut self, kind: u16, field: u16, start: u32, end: u32, flags: u8) -> u32 {
        let index = to_u32(self.entries.len());
        let parent = self.open.last().map_or(0, |&(parent, _)| parent);
        let start_row = self.row(start);
        self.entries.push(Entry {
            start_byte: start,
            end_byte: end,
            start_row,
            end: index + 1,
            parent,
            kind,
            field,
            flags,
        });
        index
    }

    /// Opens a named node starting at `start`; its end is set by [`Builder::close`].
    pub(super) fn open(&mut self, kind: u16, field: u16, start: u32) {
        let index = self.push(kind, field, start, start, NAMED);
        self.open.push((index, start));
        self.deepest = self.deepest.max(self.open.len());
    }

    /// Closes the innermost open node: it ends at `end` or at its last child's end if later.
    pub(super) fn close(&mut self, end: u32) {
        let Some((index, children_end)) = self.open.pop() else { return };
        let end = end.max(children_end);
        let next = to_u32(self.entries.len());
        let entry = &mut self.entries[index as usize];
        entry.end_byte = end;
        entry.end = next;
        self.extend_parent(end);
    }

    /// Adds a node without children to the innermost open node.
    pub(super) fn leaf(&mut self, kind: u16, field: u16, start: u32, end: u32, named: bool) {
        self.push(kind, field, start, end, if named { NAMED } else { 0 });
        self.deepest = self.deepest.max(self.open.len() + 1);
        self.extend_parent(end);
    }

    fn extend_parent(&mut self, end: u32) {
        if let Some((_, children_end)) = self.open.last_mut() {
            *children_end = (*children_end).max(end);
        }
    }

    /// The end of the innermost open node's last child so far.
    pub(super) fn children_end(&self) -> u32 {
        self.open.last().map_or(0, |&(_, end)| end)
    }

    /// How many nodes are open.
    pub(super) fn depth(&self) -> usize {
        self.open.len()
    }

    /// The deepest a node has been (the root is at 1).
    pub(super) fn deepest(&self) -> usize {
        self.deepest
    }

    pub(super) fn finish(mut self) -> SyntaxTree {
        while !self.open.is_empty() {
            self.close(0);
        }
        SyntaxTree { entries: self.entries, too_deep: None }
    }
}

/// A node of a [`SyntaxTree`]; the method names are tree-sitter's.
#[derive(Clone, Copy)]
pub struct Node<'t> {
    tree: &'t SyntaxTree,
    index: u32,
}

impl std::fmt::Debug for Node<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {:?}", self.kind_str(), self.byte_range())
    }
}

impl PartialEq for Node<'_> {
    fn eq(&self, other: &Self) -> bool {
        std::ptr::eq(self.tree, other.tree) && self.index == other.index
    }
}

impl Eq for Node<'_> {}

impl<'t> Node<'t> {
    #[inline]
    fn entry(&self) -> &'t Entry {
        &self.tree.entries[self.index as usize]
    }

    #[inline]
    fn at(&self, index: u32) -> Node<'t> {
        Node { tree: self.tree, index }
    }

    /// Unique within its tree.
    pub fn id(&self) -> usize {
        self.index as usize
    }

    #[inline]
    pub fn kind_id(&self) -> u16 {
        self.entry().kind
    }

    #[inline]
    pub fn kind_str(&self) -> &'static str {
        kind_name(self.entry().kind)
    }

    /// The same as [`Node::kind_str`], under tree-sitter's name.
    #[inline]
    pub fn kind(&self) -> &'static str {
        self.kind_str()
    }

    pub fn start_byte(&self) -> usize {
        self.entry().start_byte as usize
    }

    pub fn end_byte(&self) -> usize {
        self.entry().end_byte as usize
    }

    pub fn byte_range(&self) -> Range<usize> {
        self.start_byte()..self.end_byte()
    }

    /// The 0-based line the node starts on.
    pub fn start_row(&self) -> usize {
        self.entry().start_row as usize
    }

    pub fn is_named(&self) -> bool {
        self.entry().flags & NAMED != 0
    }

    pub fn is_error(&self) -> bool {
        self.entry().flags & ERROR != 0
    }

    pub fn is_missing(&self) -> bool {
        self.entry().flags & MISSING != 0
    }

    /// Whether the node is or holds an error or a missing token.
    pub fn has_error(&self) -> bool {
        self.entry().flags & HAS_ERROR != 0
    }

    pub fn parent(&self) -> Option<Node<'t>> {
        (self.index != 0).then(|| self.at(self.entry().parent))
    }

    /// The field id this node has in its parent, 0 for none.
    pub fn field_id(&self) -> u16 {
        self.entry().field
    }

    /// All children, anonymous tokens and comments included.
    pub fn children(&self) -> Children<'t> {
        Children { tree: self.tree, next: self.index + 1, end: self.entry().end }
    }

    /// The named children, comments included (as tree-sitter's `named_children`).
    pub fn named_children(&self) -> impl Iterator<Item = Node<'t>> + use<'t> {
        self.children().filter(Node::is_named)
    }

    /// The first child in field `id`. Only the node's own children are searched: tree-sitter
    /// also finds a field the grammar lets a node inherit from an aliased child, which in
    /// tree-sitter-python is only `alternative` of a `match_statement` (its case clauses, which
    /// are children of its `body`).
    pub fn child_by_field_id(&self, id: u16) -> Option<Node<'t>> {
        if id == 0 {
            return None;
        }
        self.children().find(|child| child.entry().field == id)
    }

    /// The first child in the field called `name`.
    pub fn field(&self, name: &'static str) -> Option<Node<'t>> {
        self.child_by_field_id(field_id(name))
    }

    /// The same as [`Node::field`], under tree-sitter's name.
    pub fn child_by_field_name(&self, name: &'static str) -> Option<Node<'t>> {
        self.field(name)
    }

    /// Every child in the field called `name`.
    pub fn children_by_field_name(&self, name: &'static str) -> impl Iterator<Item = Node<'t>> + use<'t> {
        let id = field_id(name);
        self.children().filter(move |child| id != 0 && child.entry().field == id)
    }

    /// The node and all its descendants, in source order.
    pub fn descendants(&self) -> Preorder<'t> {
        Preorder { tree: self.tree, next: self.index, end: self.entry().end }
    }
}

/// A node and its descendants, in source order; a node's subtree can be skipped.
pub struct Preorder<'t> {
    tree: &'t SyntaxTree,
    next: u32,
    end: u32,
}

impl<'t> Preorder<'t> {
    /// Goes on after `node`'s subtree (`node` being the last one returned).
    pub fn skip_children(&mut self, node: Node<'t>) {
        self.next = self.next.max(node.entry().end);
    }
}

impl<'t> Iterator for Preorder<'t> {
    type Item = Node<'t>;

    #[inline]
    fn next(&mut self) -> Option<Node<'t>> {
        if self.next >= self.end {
            return None;
        }
        let node = Node { tree: self.tree, index: self.next };
        self.next += 1;
        Some(node)
    }
}

/// The children of a node, in order.
pub struct Children<'t> {
    tree: &'t SyntaxTree,
    next: u32,
    end: u32,
}

impl<'t> Iterator for Children<'t> {
    type Item = Node<'t>;

    #[inline]
    fn next(&mut self) -> Option<Node<'t>> {
        if self.next >= self.end {
            return None;
        }
        let node = Node { tree: self.tree, index: self.next };
        self.next = node.entry().end;
        Some(node)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree_sitter_tree(source: &str, ranges: &[tree_sitter::Range]) -> tree_sitter::Tree {
        let mut parser = tree_sitter::Parser::new();
        parser.set_language(&tree_sitter_python::LANGUAGE.into()).expect("the grammar loads");
        parser.set_included_ranges(ranges).expect("ranges in order");
        parser.parse(source, None).expect("tree-sitter gives a tree")
    }

    /// Every node of the copy answers as tree-sitter's node at the same place does.
    fn assert_same(theirs: tree_sitter::Node, ours: Node, source: &str) {
        let at = || format!("{} at {:?} in {source:?}", theirs.kind(), theirs.byte_range());
        assert_eq!(theirs.kind_id(), ours.kind_id(), "{}", at());
        assert_eq!(theirs.kind(), ours.kind_str(), "{}", at());
        assert_eq!(theirs.byte_range(), ours.byte_range(), "{}", at());
        assert_eq!(theirs.start_position().row, ours.start_row(), "{}", at());
        assert_eq!(
            (theirs.is_named(), theirs.is_error(), theirs.is_missing(), theirs.has_error()),
            (ours.is_named(), ours.is_error(), ours.is_missing(), ours.has_error()),
            "{}",
            at()
        );
        for name in ["name", "body", "value", "left", "right", "function", "arguments", "alternative", "alias"] {
            if theirs.kind() == "match_statement" && name == "alternative" {
                // Inherited from the aliased block: not a field of the node's own children.
                continue;
            }
            assert_eq!(
                theirs.child_by_field_name(name).map(|n| n.byte_range()),
                ours.field(name).map(|n| n.byte_range()),
                "field {name} of {}",
                at()
            );
        }
        let mut cursor = theirs.walk();
        let their_children: Vec<_> = theirs.children(&mut cursor).collect();
        let our_children: Vec<_> = ours.children().collect();
        assert_eq!(their_children.len(), our_children.len(), "children of {}", at());
        assert_eq!(theirs.named_child_count(), ours.named_children().count(), "named children of {}", at());
        for (their_child, our_child) in their_children.into_iter().zip(our_children) {
            assert_eq!(our_child.parent(), Some(ours), "parent in {}", at());
            assert_same(their_child, our_child, source);
        }
        let descendants = ours.descendants().count();
        assert_eq!(descendants, theirs.descendant_count(), "descendants of {}", at());
    }

    fn check(source: &str) {
        let theirs = tree_sitter_tree(source, &[]);
        let ours = SyntaxTree::new(&theirs, usize::MAX);
        assert!(ours.root_node().parent().is_none());
        assert_same(theirs.root_node(), ours.root_node(), source);
    }

    #[test]
    fn the_copy_answers_as_tree_sitter_does() {
        check("import sqlite3\n\ndef f(path):\n    with sqlite3.connect(path) as conn:  # note\n        return conn\n");
        check(
            "@decorator\nclass A(B, metaclass=M):\n    async def g(self, *a, x=1, **k):\n        async with a as b, c:\n            pass\n",
        );
        check("match x:\n    case [1, *rest] if rest:\n        y = not a in b is not c\n    case _:\n        pass\n");
        // Errors and missing tokens.
        check("def f(:\n    x = (1,\n");
        check("if x\n    y = 1\n");
        check("");
    }

    #[test]
    fn the_copy_of_every_fixture_answers_as_tree_sitter_does() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/python");
        let mut checked = 0;
        for entry in std::fs::read_dir(dir).expect("fixtures/python is there") {
            let path = entry.expect("a directory entry").path();
            if path.extension().is_some_and(|e| e == "py") {
                check(&std::fs::read_to_string(&path).expect("a fixture reads"));
                checked += 1;
            }
        }
        assert!(checked > 20, "only {checked} fixtures found");
    }

    #[test]
    fn a_copy_of_included_ranges_keeps_the_whole_text_positions() {
        let source = "import os\n\ndef skipped():\n    pass\n\ndef kept():\n    return os.getcwd()\n";
        let start = source.find("def kept").expect("in the source");
        let point = |offset: usize| {
            let row = source[..offset].matches('\n').count();
            let column = offset - source[..offset].rfind('\n').map_or(0, |i| i + 1);
            tree_sitter::Point { row, column }
        };
        let range = |a: usize, b: usize| tree_sitter::Range {
            start_byte: a,
            end_byte: b,
            start_point: point(a),
            end_point: point(b),
        };
        let theirs = tree_sitter_tree(source, &[range(0, 10), range(start, source.len())]);
        let ours = SyntaxTree::new(&theirs, usize::MAX);
        assert_same(theirs.root_node(), ours.root_node(), source);
        let definitions: Vec<_> =
            ours.root_node().children().filter(|n| n.kind_str() == "function_definition").collect();
        assert_eq!(definitions.len(), 1);
        assert_eq!(definitions[0].start_byte(), start);
        assert_eq!(definitions[0].start_row(), 5);
    }

    #[test]
    fn skipping_children_goes_on_after_the_subtree() {
        let theirs = tree_sitter_tree("def f():\n    a = 1\nb = 2\n", &[]);
        let ours = SyntaxTree::new(&theirs, usize::MAX);
        let mut nodes = ours.root_node().descendants();
        let mut kinds = Vec::new();
        while let Some(node) = nodes.next() {
            kinds.push(node.kind_str());
            if node.kind_str() == "function_definition" {
                nodes.skip_children(node);
            }
        }
        assert_eq!(
            kinds,
            ["module", "function_definition", "expression_statement", "assignment", "identifier", "=", "integer"]
        );
    }
}
