//! The Python frontend: parse (with ruff's parser, into tree-sitter-python's tree; with
//! tree-sitter where that is not built), lower to the resource IR, resolve calls
//! across the project, check, and turn the checker's findings into diagnostics.

//!
//! The knowledge base is always built (configuration files name Python resources); parsing and
//! everything after it sit behind the default `python` feature.

#[cfg(feature = "python")]
pub mod fix;
pub mod knowledge;
#[cfg(feature = "python")]
pub mod layout;
#[cfg(feature = "python")]
pub mod lower;
#[cfg(feature = "python")]
pub mod names;
#[cfg(feature = "python")]
pub mod nesting;
#[cfg(feature = "python")]
pub mod project;
#[cfg(feature = "python")]
pub mod ruff_parse;
#[cfg(feature = "python")]
pub mod rules;
pub mod select;
pub mod symbols;
#[cfg(feature = "python")]
pub mod syntax;
#[cfg(feature = "python")]
pub mod tree;

#[cfg(feature = "python")]
pub use analysis::*;

#[cfg(feature = "python")]
mod analysis {
    use std::cell::RefCell;
    use std::sync::Arc;

    use super::knowledge::{self, Knowledge};
    use super::lower;
    use super::nesting::MAX_TREE_DEPTH;
    use super::project::{self, Project};
    use super::tree::SyntaxTree;
    use crate::ModuleInfo;
    use crate::diagnostic::Diagnostic;

    thread_local! {
        static PARSER: RefCell<Option<tree_sitter::Parser>> = const { RefCell::new(None) };
    }

    /// Parses Python source with ruff's parser into tree-sitter's tree ([`super::ruff_parse`]),
    /// or with tree-sitter where that is not built (a syntax error, a rare construct). `None`
    /// only if tree-sitter gives up (it recovers from syntax errors).
    pub fn parse(source: &str) -> Option<SyntaxTree> {
        parse_limited(source, MAX_TREE_DEPTH)
    }

    /// Like [`parse`], noting the first node deeper than `depth_limit` instead of
    /// [`MAX_TREE_DEPTH`].
    pub fn parse_limited(source: &str, depth_limit: usize) -> Option<SyntaxTree> {
        if let Some(tree) = super::ruff_parse::parse(source, None, depth_limit) {
            return Some(tree);
        }
        let tree = with_parser(|parser| parser.parse(source, None))?;
        Some(SyntaxTree::new(&tree, depth_limit))
    }

    /// Runs `parse` with this thread's parser, made on first use.
    fn with_parser(
        parse: impl FnOnce(&mut tree_sitter::Parser) -> Option<tree_sitter::Tree>,
    ) -> Option<tree_sitter::Tree> {
        PARSER.with(|cell| {
            let mut slot = cell.borrow_mut();
            if slot.is_none() {
                let mut parser = tree_sitter::Parser::new();
                parser.set_language(&tree_sitter_python::LANGUAGE.into()).ok()?;
                *slot = Some(parser);
            }
            parse(slot.as_mut()?)
        })
    }

    /// Parses only `ranges` of the source (whole lines); positions are those of the whole text.
    pub fn parse_ranges(source: &str, ranges: &[std::ops::Range<usize>]) -> Option<SyntaxTree> {
        if let Some(tree) = super::ruff_parse::parse(source, Some(ranges), MAX_TREE_DEPTH) {
            return Some(tree);
        }
        let ranges = tree_sitter_ranges(source, ranges);
        let tree = with_parser(|parser| {
            parser.set_included_ranges(&ranges).ok()?;
            let tree = parser.parse(source, None);
            // Back to whole documents for the next parse.
            parser.set_included_ranges(&[]).ok()?;
            tree
        })?;
        Some(SyntaxTree::new(&tree, MAX_TREE_DEPTH))
    }

    /// `ranges` of `source` as tree-sitter's included ranges (with rows and columns).
    pub(crate) fn tree_sitter_ranges(source: &str, ranges: &[std::ops::Range<usize>]) -> Vec<tree_sitter::Range> {
        let line_index = crate::diagnostic::LineIndex::new(source);
        let point = |offset: usize| {
            let (line, _) = line_index.line_col(source, offset);
            let line_start = line_index.line_start(line).unwrap_or(0);
            tree_sitter::Point { row: line - 1, column: offset - line_start }
        };
        ranges
            .iter()
            .map(|r| tree_sitter::Range {
                start_byte: r.start,
                end_byte: r.end,
                start_point: point(r.start),
                end_point: point(r.end),
            })
            .collect()
    }

    /// Analyses one module on its own (its factories are found; other modules' are not). Never
    /// fails: a syntax error becomes a `CL000` diagnostic and the functions that parsed are still
    /// checked.
    pub fn analyze(path: &str, source: &str, module: ModuleInfo, knowledge: &Knowledge) -> Vec<Diagnostic> {
        let mut project = Project::new(knowledge);
        project.add(project::lower_unit(path, module, source, knowledge));
        let summaries = project.summaries();
        // The text is at hand: it cannot have changed.
        project.check(&summaries, &|_| Some(Arc::from(source))).pop().and_then(Result::ok).unwrap_or_default()
    }

    /// Like [`analyze`], but reading the module the way `connlint check` does by default: only
    /// the statements that can matter are parsed ([`super::select`]); a syntax error in the rest
    /// is not seen. For the property test and the fuzz targets, which check both ways.
    pub fn analyze_selected(path: &str, source: &str, module: ModuleInfo, knowledge: &Knowledge) -> Vec<Diagnostic> {
        let needles = super::select::Needles::from_knowledge(knowledge);
        let wanted = std::collections::HashSet::default();
        let Some(unit) = project::lower_unit_selected(path, module, source, knowledge, &needles, &wanted, false) else {
            return Vec::new();
        };
        let mut project = Project::new(knowledge);
        project.add(unit);
        let summaries = project.summaries();
        project.check(&summaries, &|_| Some(Arc::from(source))).pop().and_then(Result::ok).unwrap_or_default()
    }

    /// The knowledge entries whose openers appear in `source` (for the test that every entry is
    /// exercised by a fixture, and for explaining what connlint recognised).
    pub fn recognized_resources(source: &str, module: ModuleInfo, knowledge: &Knowledge) -> Vec<knowledge::ResourceId> {
        let mut project = Project::new(knowledge);
        project.add(project::lower_unit("<input>", module, source, knowledge));
        let summaries = project.summaries();
        let mut ids = project.resolved_resources(&summaries);
        ids.sort_unstable();
        ids.dedup();
        ids
    }

    /// The lowered IR and sites of a module, as text (for developing connlint).
    pub fn debug_ir(source: &str) -> String {
        let Some(tree) = parse(source) else { return "parse failed\n".to_string() };
        if tree.too_deep().is_some() {
            return "nesting too deep\n".to_string();
        }
        let knowledge = Knowledge::builtin();
        let module = lower::lower_module(
            tree.root_node(),
            source,
            knowledge,
            ModuleInfo { name: "module", package: None },
            false,
        );
        let mut out = String::new();
        for (i, site) in module.sites.iter().enumerate() {
            let layout = module.site_layout(u32::try_from(i).unwrap_or(u32::MAX));
            out.push_str(&format!(
                "site {i}: line {} {:?} binding={:?} {layout:?}\n",
                site.line,
                module.callee(site),
                module.binding(site)
            ));
        }
        for function in &module.functions {
            // Statements name methods and keywords by index into this table.
            let names =
                if function.ir.names.is_empty() { String::new() } else { format!(" names={:?}", function.ir.names) };
            out.push_str(&format!("fn {} ({:?}){names}\n{:#?}\n", function.qualified, function.kind, function.ir.body));
        }
        out
    }
}
