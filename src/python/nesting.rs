//! Refusing Python nested deeper than the analysis can take.
//!
//! tree-sitter parses without recursion, so any input gives a tree. The lowering then follows
//! that tree with recursive helpers (callee chains, conditions, calls inside calls), and a
//! symbol built from a chain of calls is as deep as the chain. Deep enough input would overflow
//! the analysis threads' 256 MiB stack and abort the whole run, and long chains also cost time
//! in proportion to depth times size. So a tree deeper than [`MAX_TREE_DEPTH`] is measured
//! (while the tree is copied, without recursion: [`super::tree::SyntaxTree::new`]) before
//! lowering and gets `CL000` instead.

/// The deepest syntax tree connlint lowers. Real code stays below: of 19,041 Python files
/// (CPython 3.11's library with its site-packages, and the corpora in `docs/reliability.md`),
/// 99.9% are under 40 levels deep and the deepest (a CPython test of 800 chained assignments)
/// is 808. At the bound, analysis takes a few MiB of stack even in a debug build.
pub const MAX_TREE_DEPTH: usize = 3000;

#[cfg(test)]
mod tests {
    fn deepest_within(source: &str, limit: usize) -> bool {
        let tree = crate::python::parse_limited(source, limit).expect("tree-sitter gives a tree");
        tree.too_deep().is_none()
    }

    #[test]
    fn depth_is_measured_down_every_branch() {
        let nested = format!("x = {}1{}\ny = 2\n", "(".repeat(100), ")".repeat(100));
        assert!(!deepest_within(&nested, 100));
        assert!(deepest_within(&nested, 300));
        // The deep part last, after shallow siblings.
        let late = format!("{}z = {}1{}\n", "a = 1\n".repeat(50), "[".repeat(100), "]".repeat(100));
        assert!(!deepest_within(&late, 100));
        assert!(deepest_within("import sqlite3\n", 5));
    }
}
