//! The project-wide Python analysis: every module lowered once, function summaries computed to
//! a fixpoint (which functions are factories, across modules), then every function checked.
//!
//! No I/O: modules come in as (path, module name, source) and diagnostics go out per module.

use crate::hash::{FastMap as HashMap, FastSet as HashSet};
use std::cell::RefCell;
use std::rc::Rc;
use std::sync::Arc;

use super::knowledge::{ContextManager, Knowledge, Resource, ResourceId};
use super::lower::{self, FunctionKind, LoweredFunction, LoweredModule, Site};
use super::nesting;
use super::rules;
use super::select::{self, Needles, Selection};
use super::symbols::{FactoryOrigin, Hierarchy, Resolved, Resolver, Summary, Sym};
use super::syntax;
use crate::ModuleInfo;
use crate::checker::{self, ArgumentEffect, ContextExit, Oracle, SiteBehaviour, SiteReport};
use crate::diagnostic::{Diagnostic, Span};
use crate::ir::{Arg, Stmt};
use crate::rule::Rule;

/// Summaries settle in a few rounds; this bounds pathological chains.
const MAX_SUMMARY_ROUNDS: usize = 12;

/// One lowered module. Its text is not kept: a run reads it again for the few modules whose
/// findings quote it ([`TextOf`]).
#[derive(Debug, Clone)]
pub struct ModuleUnit {
    /// The path as shown to the user.
    pub path: String,
    pub name: String,
    /// Its package, for relative imports.
    pub package: Option<String>,
    pub lowered: LoweredModule,
    /// Parse errors found while parsing it.
    pub parse_diagnostics: Vec<Diagnostic>,
    /// Only the parts that can matter were parsed (see [`super::select`]).
    pub partial: bool,
    /// Of a module parsed in part, the functions selected because selected code calls them (see
    /// [`select::Selected::called`]).
    pub called: HashSet<String>,
    /// The functions defined in the parts not parsed.
    pub unselected_defs: HashSet<String>,
    /// The functions other modules call that were selected here for that reason.
    pub wanted_defs: HashSet<String>,
    /// What was parsed.
    pub selection: Selection,
    /// Of a module parsed in part, its name and the modules it imports (see
    /// [`select::reaches`]): a later round selects more of it only for a factory it can reach.
    pub imported: Vec<String>,
}

/// The text of a module, asked for only when a finding needs it (a fix, a message that quotes a
/// call): a project keeps no text, so that a run does not hold every file it has parsed. `None`
/// when it is no longer the text that was lowered (the file changed during the run).
pub type TextOf<'a> = &'a dyn Fn() -> Option<Arc<str>>;

/// A module's text, read through [`TextOf`] when first asked for.
pub struct LazyText<'t> {
    read: TextOf<'t>,
    text: std::cell::OnceCell<Option<Arc<str>>>,
}

impl<'t> LazyText<'t> {
    pub fn new(read: TextOf<'t>) -> LazyText<'t> {
        LazyText { read, text: std::cell::OnceCell::new() }
    }

    /// The text; `None` when it is no longer the one that was lowered.
    pub fn get(&self) -> Option<&str> {
        self.text.get_or_init(self.read).as_deref()
    }

    /// It was asked for and is no longer the text that was lowered.
    pub fn changed(&self) -> bool {
        matches!(self.text.get(), Some(None))
    }
}

/// The text of a module changed between its lowering and its check: its findings cannot be
/// placed in it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TextChanged;

/// Parses and lowers the parts of a module that can matter, given the needles; `None` when
/// nothing in it can. Where the partial parse finds a syntax error, the whole module is parsed,
/// so that errors are reported as a whole parse reports them.
pub fn lower_unit_selected(
    path: &str,
    module: ModuleInfo,
    source: &str,
    knowledge: &Knowledge,
    needles: &Needles,
    wanted_defs: &HashSet<String>,
    parse_whole: bool,
) -> Option<ModuleUnit> {
    let name = select::ModuleName { name: module.name, package: module.package };
    let selected = select::select(source, name, needles, wanted_defs);
    lower_selected(path, module, source, knowledge, selected, wanted_defs, parse_whole)
}

/// Parses and lowers what `selected` says.
pub fn lower_selected(
    path: &str,
    module: ModuleInfo,
    source: &str,
    knowledge: &Knowledge,
    selected: select::Selected,
    wanted_defs: &HashSet<String>,
    parse_whole: bool,
) -> Option<ModuleUnit> {
    // The bookkeeping of a partial selection is kept when the module is parsed whole for
    // comparison, so that both ways read the same files.
    let partial = matches!(selected.selection, Selection::Ranges(_));
    let whole = |source: &str| {
        let mut unit = lower_unit(path, module, source, knowledge);
        unit.called = selected.called.clone();
        if partial {
            unit.partial = true;
            unit.unselected_defs = selected.unselected_defs.clone();
            unit.wanted_defs = wanted_defs.clone();
            unit.selection = selected.selection.clone();
            unit.imported = selected.imported.clone();
        }
        Some(unit)
    };
    debug_counts::count(path, &selected.selection, source.len(), parse_whole);
    let ranges = match &selected.selection {
        Selection::Nothing => return None,
        Selection::Whole => return whole(source),
        Selection::Ranges(_) if parse_whole => return whole(source),
        Selection::Ranges(ranges) => ranges,
    };
    let Some(tree) = super::analysis::parse_ranges(source, ranges) else { return whole(source) };
    let root = tree.root_node();
    // A syntax error or nesting too deep: the whole parse reports it as it always does.
    if root.has_error() || tree.too_deep().is_some() {
        return whole(source);
    }
    let lowered = lower::lower_module(root, source, knowledge, module, lower::is_test_path(path, module.name));
    if !lowered.too_deep.is_empty() {
        return whole(source);
    }
    Some(ModuleUnit {
        path: path.to_string(),
        name: module.name.to_string(),
        package: module.package.map(str::to_string),
        lowered,
        parse_diagnostics: Vec::new(),
        partial: true,
        called: selected.called,
        unselected_defs: selected.unselected_defs,
        wanted_defs: wanted_defs.clone(),
        selection: selected.selection,
        imported: selected.imported,
    })
}

/// Parses and lowers one module. Never fails: a syntax error becomes a `CL000` diagnostic.
pub fn lower_unit(path: &str, module: ModuleInfo, source: &str, knowledge: &Knowledge) -> ModuleUnit {
    let mut parse_diagnostics = Vec::new();
    let lowered = match super::analysis::parse(source) {
        Some(tree) => {
            let root = tree.root_node();
            if let Some(error) = syntax::first_error(root) {
                parse_diagnostics.push(parse_error(error, source));
            }
            if let Some(deep) = tree.too_deep() {
                parse_diagnostics.push(
                    Diagnostic::new(
                        Rule::ParseError,
                        syntax::span(deep),
                        format!("nesting too deep: connlint reads Python nested up to {} levels", nesting::MAX_TREE_DEPTH),
                    )
                    .with_help("the rest of the run goes on; this file is not checked (deeper nesting could overflow the stack)"),
                );
                return ModuleUnit {
                    path: path.to_string(),
                    name: module.name.to_string(),
                    package: module.package.map(str::to_string),
                    lowered: LoweredModule::default(),
                    parse_diagnostics,
                    partial: false,
                    called: HashSet::default(),
                    unselected_defs: HashSet::default(),
                    wanted_defs: HashSet::default(),
                    selection: Selection::Whole,
                    imported: Vec::new(),
                };
            }
            let lowered = lower::lower_module(root, source, knowledge, module, lower::is_test_path(path, module.name));
            for &function in &lowered.too_deep {
                parse_diagnostics.push(
                    Diagnostic::new(
                        Rule::ParseError,
                        function,
                        format!(
                            "nesting too deep: this function nests more than {} blocks or expressions",
                            lower::MAX_DEPTH
                        ),
                    )
                    .with_help("the rest of the file is still checked; this function is skipped"),
                );
            }
            lowered
        }
        None => {
            parse_diagnostics.push(Diagnostic::new(
                Rule::ParseError,
                Span::new(0, 0),
                "the Python parser gave up on this file",
            ));
            LoweredModule::default()
        }
    };
    ModuleUnit {
        path: path.to_string(),
        name: module.name.to_string(),
        package: module.package.map(str::to_string),
        lowered,
        parse_diagnostics,
        partial: false,
        called: HashSet::default(),
        unselected_defs: HashSet::default(),
        wanted_defs: HashSet::default(),
        selection: Selection::Whole,
        imported: Vec::new(),
    }
}

fn parse_error(error: syntax::Node, source: &str) -> Diagnostic {
    let at = syntax::span(error);
    let message = if error.is_missing() {
        format!("syntax error: missing `{}`", error.kind_str())
    } else {
        let snippet: String = syntax::text(error, source).chars().take(20).collect();
        // Control characters (a NUL byte in a binary file) are shown escaped, never printed.
        let snippet: String = snippet
            .lines()
            .next()
            .unwrap_or_default()
            .trim()
            .chars()
            .flat_map(|c| if c.is_control() { c.escape_debug().collect::<Vec<_>>() } else { vec![c] })
            .collect();
        if snippet.is_empty() { "syntax error".to_string() } else { format!("syntax error near `{snippet}`") }
    };
    Diagnostic::new(Rule::ParseError, at, message)
        .with_help("the rest of the file is still checked; functions with syntax errors are skipped")
}

/// The modules of one run and what they tell about each other.
pub struct Project<'k> {
    pub knowledge: &'k Knowledge,
    pub modules: Vec<ModuleUnit>,
    /// The base classes of every class of the modules.
    pub hierarchy: Hierarchy,
    /// Of every module, when first asked: the variables passed to a call (a function that
    /// may be given a resource), as `(a site that opens it, the call)`. Reset when the module
    /// is lowered again.
    passes: Vec<std::sync::OnceLock<Vec<(u32, u32)>>>,
}

impl<'k> Project<'k> {
    pub fn new(knowledge: &'k Knowledge) -> Self {
        Project { knowledge, modules: Vec::new(), hierarchy: Hierarchy::default(), passes: Vec::new() }
    }

    pub fn add(&mut self, unit: ModuleUnit) {
        for class in &unit.lowered.classes {
            self.hierarchy.bases.insert(class.qualified.clone(), class.bases.clone());
        }
        self.modules.push(unit);
        self.passes.push(std::sync::OnceLock::new());
    }

    /// Takes note that module `index` was lowered again in place (more of it parsed).
    pub fn replaced(&mut self, index: usize) {
        for class in &self.modules[index].lowered.classes {
            self.hierarchy.bases.insert(class.qualified.clone(), class.bases.clone());
        }
        self.passes[index] = std::sync::OnceLock::new();
    }

    /// Which functions are factories, `@contextmanager`s, or return some known value.
    pub fn summaries(&self) -> HashMap<String, Summary> {
        let mut summaries = HashMap::default();
        let mut defined: HashMap<&str, usize> = HashMap::default();
        for unit in &self.modules {
            for function in &unit.lowered.functions {
                *defined.entry(function.qualified.as_str()).or_default() += 1;
            }
        }
        // Each round summarizes every module against the summaries of the round before, the
        // modules in parallel, until nothing changes.
        // References to the modules, so that the names returned borrow from the project.
        let modules: Vec<&ModuleUnit> = self.modules.iter().collect();
        for _ in 0..MAX_SUMMARY_ROUNDS {
            let updates: Vec<Vec<(&str, Option<Summary>)>> = crate::parallel::parallel_map(&modules, |unit| {
                // Only a function that returns something can be a factory or return a value.
                let candidates: Vec<&LoweredFunction> = unit
                    .lowered
                    .functions
                    .iter()
                    .filter(|f| f.returns_value || f.kind == FunctionKind::ContextManager)
                    // Two modules of the same name (scripts in different folders): ambiguous.
                    .filter(|f| defined.get(f.qualified.as_str()).copied().unwrap_or(0) == 1)
                    .collect();
                if candidates.is_empty() {
                    return Vec::new();
                }
                let resolver =
                    Resolver { knowledge: self.knowledge, summaries: &summaries, hierarchy: &self.hierarchy };
                // A function's summary reads only its own call sites.
                let resolved = resolve_sites_of(&unit.lowered, &resolver, &candidates);
                candidates
                    .into_iter()
                    .map(|function| (function.qualified.as_str(), self.summarize(unit, function, &resolved)))
                    .filter(|(name, summary)| summaries.get(*name) != summary.as_ref())
                    .collect()
            });
            let mut changed = false;
            for (name, summary) in updates.into_iter().flatten() {
                changed = true;
                match summary {
                    Some(summary) => summaries.insert(name.to_string(), summary),
                    None => summaries.remove(name),
                };
            }
            if !changed {
                break;
            }
        }
        summaries
    }

    fn summarize(
        &self,
        unit: &ModuleUnit,
        function: &LoweredFunction,
        resolved: &[Option<Resolved>],
    ) -> Option<Summary> {
        match function.kind {
            FunctionKind::ContextManager => return Some(Summary::ContextManager),
            FunctionKind::Generator | FunctionKind::Fixture => return None,
            FunctionKind::Plain => {}
        }
        let reports =
            if opens_something(function, resolved) { check(function, resolved, self.knowledge) } else { Vec::new() };
        for report in reports.iter().filter(|r| r.returned) {
            let Some(found) = &resolved[report.site as usize] else { continue };
            let site = &unit.lowered.sites[report.site as usize];
            let origin = found.origin.as_deref().cloned().unwrap_or_else(|| FactoryOrigin {
                function: function.qualified.clone(),
                opener: found.callee.clone(),
                path: unit.path.clone(),
                line: site.line as usize,
            });
            return Some(Summary::Factory { resource: found.resource, origin });
        }
        function.returns.first().map(|sym| Summary::Returns(sym.clone()))
    }

    /// The diagnostics of every module, in module order; `text_of(m)` is the text of module `m`.
    pub fn check(
        &self,
        summaries: &HashMap<String, Summary>,
        text_of: &dyn Fn(usize) -> Option<Arc<str>>,
    ) -> Vec<Result<Vec<Diagnostic>, TextChanged>> {
        let functions = self.function_index();
        (0..self.modules.len()).map(|m| self.check_module(m, summaries, &functions, &|| text_of(m))).collect()
    }

    /// Every function of the project by qualified name (names defined twice are left out).
    pub fn function_index(&self) -> HashMap<&str, FunctionRef> {
        let mut index: HashMap<&str, Option<FunctionRef>> = HashMap::default();
        for (m, unit) in self.modules.iter().enumerate() {
            for (f, function) in unit.lowered.functions.iter().enumerate() {
                index.entry(function.qualified.as_str()).and_modify(|slot| *slot = None).or_insert(Some((m, f)));
            }
        }
        index.into_iter().filter_map(|(name, slot)| slot.map(|r| (name, r))).collect()
    }

    /// The diagnostics of module `module`; its text is asked of `text_of` only if a finding
    /// needs it.
    pub fn check_module(
        &self,
        module: usize,
        summaries: &HashMap<String, Summary>,
        functions: &HashMap<&str, FunctionRef>,
        text_of: TextOf,
    ) -> Result<Vec<Diagnostic>, TextChanged> {
        self.check_unit(module, &self.modules[module], summaries, functions, text_of)
    }

    /// Checks `text` as a new text of module `module` (after fixes), against the rest of the
    /// project as it was.
    pub fn recheck_module(
        &self,
        module: usize,
        text: &str,
        summaries: &HashMap<String, Summary>,
        functions: &HashMap<&str, FunctionRef>,
    ) -> Vec<Diagnostic> {
        let old = &self.modules[module];
        let info = ModuleInfo { name: &old.name, package: old.package.as_deref() };
        let unit = lower_unit(&old.path, info, text, self.knowledge);
        // The text is at hand: it cannot have changed.
        self.check_unit(module, &unit, summaries, functions, &|| Some(Arc::from(text))).unwrap_or_default()
    }

    /// Checks `unit` as module `module` of the project (which it is, or a new text of it).
    fn check_unit(
        &self,
        module: usize,
        unit: &ModuleUnit,
        summaries: &HashMap<String, Summary>,
        functions: &HashMap<&str, FunctionRef>,
        text_of: TextOf,
    ) -> Result<Vec<Diagnostic>, TextChanged> {
        let text = LazyText::new(text_of);
        let resolver = Resolver { knowledge: self.knowledge, summaries, hierarchy: &self.hierarchy };
        let resolved = Rc::new(resolve_sites(&unit.lowered, &resolver));
        let cache = RefCell::new(EffectCache::default());
        if std::ptr::eq(unit, &self.modules[module]) {
            // Effects of this module's functions may use it; a new text's sites do not match them.
            cache.borrow_mut().resolved.insert(module, resolved.clone());
        }
        let oracle =
            ProjectOracle { project: self, summaries, functions, unit, resolved: resolved.clone(), cache: &cache };
        let mut out = unit.parse_diagnostics.clone();
        for function in unit.lowered.functions.iter().filter(|f| opens_something(f, &resolved)) {
            for report in checker::check_function(&function.ir, &oracle) {
                let Some(found) = &resolved[report.site as usize] else { continue };
                let finding = rules::SiteFinding {
                    report: &report,
                    site: &unit.lowered.sites[report.site as usize],
                    resolved: found,
                    resource: &self.knowledge.resources[found.resource],
                    function,
                    module: &unit.lowered,
                    text: &text,
                };
                let scope = scope_name(&function.qualified, &unit.name);
                out.extend(rules::diagnose(&finding).into_iter().map(|d| d.in_scope(scope)));
            }
        }
        let effect = |call: u32, arg: Arg<&str>| oracle.argument(call, arg);
        out.extend(rules::check_classes(&unit.lowered, &resolved, self.knowledge, &text, &effect));
        if text.changed() {
            return Err(TextChanged);
        }
        out.sort_by_key(|d| (d.span, d.rule));
        Ok(out)
    }

    /// Every resource some site of the project opens.
    pub fn resolved_resources(&self, summaries: &HashMap<String, Summary>) -> Vec<ResourceId> {
        let resolver = Resolver { knowledge: self.knowledge, summaries, hierarchy: &self.hierarchy };
        self.modules
            .iter()
            .flat_map(|unit| resolve_sites(&unit.lowered, &resolver))
            .flatten()
            .map(|found| found.resource)
            .collect()
    }

    /// The functions that are given a resource (opened in the function that calls them), by
    /// the qualified names their calls resolve to (`app.util.keep`, `app.Pool.keep`) and the
    /// same method in every known base class (`app.base.Base.keep`): the run looks for their
    /// definitions in the modules of those names not read yet, since they may close or keep
    /// what they are given. Those are the names the checker looks a callee up by.
    /// `module_names` holds every name a module of the project can start with: a function of
    /// any other module (`os.path.abspath`) has no definition in the project to look for.
    pub fn resource_receivers(
        &self,
        summaries: &HashMap<String, Summary>,
        module_names: &HashSet<String>,
    ) -> HashSet<String> {
        let resolver = Resolver { knowledge: self.knowledge, summaries, hierarchy: &self.hierarchy };
        let modules: Vec<usize> = (0..self.modules.len()).collect();
        let per_module = crate::parallel::parallel_map(&modules, |&m| {
            let unit = &self.modules[m];
            let passes = self.passes[m].get_or_init(|| opened_and_passed(unit));
            let mut places = HashSet::default();
            // A call is a receiver when one of the sites that open what it is given opens
            // something now (the summaries grow from round to round).
            let mut resolved: HashMap<u32, bool> = HashMap::default();
            for &(open, call) in passes {
                let Some(site) = unit.lowered.sites.get(call as usize) else { continue };
                if outside_project(unit.lowered.callee(site), module_names) {
                    continue;
                }
                // The checker asks a function what it does with an argument only when the
                // call resolves (`self.keep(conn)`, `util.keep(conn)`); `writer.write(conn)` on
                // a value of unknown type never does, whichever `def write` is read.
                let Some(called) = resolver.callee(unit.lowered.callee(site)) else { continue };
                if !in_project(&called, module_names) || places.contains(&called) {
                    continue;
                }
                let opens = *resolved.entry(open).or_insert_with(|| {
                    unit.lowered
                        .sites
                        .get(open as usize)
                        .is_some_and(|s| resolve_site(s, &unit.lowered, &resolver).is_some())
                });
                if opens {
                    places.extend(self.hierarchy.method_in_bases(&called));
                    places.insert(called);
                }
            }
            places
        });
        per_module.into_iter().flatten().collect()
    }

    /// The functions whose calls can give a resource, as `(module, name)`, for the prefilter: a
    /// file that mentions none of them (and no opener) cannot call one. Those are the
    /// factories, and the functions returning something that leads to an opener or to such a
    /// function (a lazy-import helper returning `sqlite3`); not every function that returns a
    /// value.
    pub fn factory_names(summaries: &HashMap<String, Summary>, knowledge: &Knowledge) -> Vec<(String, String)> {
        let openers: Vec<&str> = knowledge.resources.iter().flat_map(|r| r.open.iter().map(String::as_str)).collect();
        let mut relevant: HashSet<&str> =
            summaries.iter().filter(|(_, s)| matches!(s, Summary::Factory { .. })).map(|(q, _)| q.as_str()).collect();
        loop {
            let before = relevant.len();
            for (qualified, summary) in summaries {
                if let Summary::Returns(sym) = summary
                    && !relevant.contains(qualified.as_str())
                    && leads_to(sym, &openers, &relevant)
                {
                    relevant.insert(qualified.as_str());
                }
            }
            if relevant.len() == before {
                break;
            }
        }
        let mut names: Vec<(String, String)> = relevant
            .into_iter()
            .filter_map(|q| q.rsplit_once('.'))
            .map(|(module, name)| (module.to_string(), name.to_string()))
            .collect();
        names.sort();
        names.dedup();
        names
    }
}

/// Every `(site, call)` of a module where a variable that `site` opens (in some statement of
/// the function) is passed to `call`.
fn opened_and_passed(unit: &ModuleUnit) -> Vec<(u32, u32)> {
    let mut pairs = Vec::new();
    for function in &unit.lowered.functions {
        let mut passes: Vec<(crate::ir::Var, u32)> = Vec::new();
        crate::ir::visit(&function.ir.body, &mut |stmt| {
            if let Stmt::Pass { var, call, .. } = stmt {
                passes.push((*var, *call));
            }
        });
        if passes.is_empty() {
            continue;
        }
        crate::ir::visit(&function.ir.body, &mut |stmt| {
            if let Stmt::Open { site, target, .. } = stmt
                && let Some(var) = target.get()
            {
                pairs.extend(passes.iter().filter(|(passed, _)| *passed == var).map(|&(_, call)| (*site, call)));
            }
        });
    }
    pairs
}

/// A function's name within its module (`Class.method`), for the baseline.
fn scope_name<'a>(qualified: &'a str, module: &str) -> &'a str {
    qualified.strip_prefix(module).and_then(|rest| rest.strip_prefix('.')).unwrap_or(qualified)
}

/// Whether `callee` is a function of a module whose first name no module of the project has
/// (`os.path.abspath`, where no file or folder is named `os`).
fn outside_project(callee: &Sym, module_names: &HashSet<String>) -> bool {
    match callee {
        Sym::Name(qualified) => qualified.split_once('.').is_some_and(|(root, _)| !module_names.contains(root)),
        _ => false,
    }
}

/// Whether the definition of a function resolved as `place` (`app.util.keep`,
/// `app.Pool.keep`) may be in `module` (`app.util`, `app`): the module's name is a part of
/// the place's at its start.
pub fn may_hold(module: &str, place: &str) -> bool {
    place != module && crate::python::select::within(module, place)
}

/// The function's own name in a qualified name: `keep` in `app.util.keep`.
pub fn last_part(place: &str) -> &str {
    place.rsplit('.').next().unwrap_or(place)
}

/// Whether a resolved name (`app.util.keep`, `keep`) may be defined in the project: a dotted
/// name whose first part is no module of the project is not.
fn in_project(resolved: &str, module_names: &HashSet<String>) -> bool {
    resolved.split_once('.').is_none_or(|(root, _)| module_names.contains(root))
}

/// Whether calling a function that returns `sym` can give a resource: `sym` is a known module
/// or a prefix of an opener (`sqlite3`, `sqlite3.connect`), or a function in `relevant`, or
/// what one of those gives back. `socket.gethostname()` is not: its result is no opener.
fn leads_to(sym: &Sym, openers: &[&str], relevant: &HashSet<&str>) -> bool {
    let names_opener = |name: &str| openers.iter().any(|o| crate::python::select::within(name, o));
    match sym {
        Sym::Name(name) => names_opener(name) || relevant.contains(name.as_str()),
        Sym::Attr(base, attr) => match base.as_ref() {
            Sym::Name(name) => names_opener(&format!("{name}.{attr}")),
            other => leads_to(other, openers, relevant),
        },
        Sym::Call(callee) => match callee.as_ref() {
            Sym::Name(name) => relevant.contains(name.as_str()),
            other => leads_to(other, openers, relevant),
        },
        Sym::Unknown => false,
    }
}

/// What every site of a module opens, by site id.
fn resolve_sites(module: &LoweredModule, resolver: &Resolver) -> Vec<Option<Resolved>> {
    module.sites.iter().map(|site| resolve_site(site, module, resolver)).collect()
}

/// [`resolve_sites`] for the sites of `functions` only (the others are `None`).
fn resolve_sites_of(
    module: &LoweredModule,
    resolver: &Resolver,
    functions: &[&LoweredFunction],
) -> Vec<Option<Resolved>> {
    let mut resolved = vec![None; module.sites.len()];
    for function in functions {
        for index in function.sites.clone() {
            if let Some(site) = module.sites.get(index as usize) {
                resolved[index as usize] = resolve_site(site, module, resolver);
            }
        }
    }
    resolved
}

fn resolve_site(site: &Site, module: &LoweredModule, resolver: &Resolver) -> Option<Resolved> {
    let found = resolve_opener(site, module, resolver)?;
    // The arguments of a factory are not the opener's: the factory decided what to open.
    if found.origin.is_some() {
        return Some(found);
    }
    let resource = &resolver.knowledge.resources[found.resource];
    // `zipfile.ZipFile(io.BytesIO(data))`: built on the caller's object, it owns nothing.
    let roles = resolver.knowledge.roles();
    if site.argument_hints & roles.hint_mask(&resource.borrowed_when) != 0 {
        return None;
    }
    // `subprocess.Popen(args)` without pipes holds no descriptor; `smtplib.SMTP()` without a
    // host holds one only once `connect()` is called.
    if !resource.opens_only_with.is_empty() && site.argument_hints & roles.hint_mask(&resource.opens_only_with) == 0 {
        return (!resource.opens_on.is_empty()).then_some(Resolved { opens_later: true, ..found });
    }
    Some(found)
}

fn resolve_opener(site: &Site, module: &LoweredModule, resolver: &Resolver) -> Option<Resolved> {
    if let Some(found) = resolver.open_site(module.callee(site)) {
        return Some(found);
    }
    // A method of a receiver of unknown type: some methods name their resource on their own
    // (`pool.getconn()`), when the file imports the library.
    let method = match module.callee(site) {
        super::symbols::Sym::Attr(_, method) => method.as_str(),
        super::symbols::Sym::Name(name) => name.rsplit('.').next()?,
        _ => return None,
    };
    let receiver = module.receiver(site)?;
    let knowledge = resolver.knowledge;
    let mut best: Option<(bool, ResourceId)> = None;
    // Lowered only when a method of that name is known on some receiver (most are not).
    let mut lowercase_receiver: Option<String> = None;
    for id in knowledge.by_unknown_receiver(method) {
        let resource = &knowledge.resources[id];
        let imported = module.imported_roots.contains(resource.module.split('.').next().unwrap_or_default());
        let fits = match resource.unknown_receiver.as_deref() {
            Some("any") => true,
            Some(word) => {
                imported
                    && lowercase_receiver
                        .get_or_insert_with(|| receiver.to_ascii_lowercase())
                        .contains(&word.to_ascii_lowercase())
            }
            None => false,
        };
        if fits && best.is_none_or(|(was_imported, _)| imported && !was_imported) {
            best = Some((imported, id));
        }
    }
    let (_, resource) = best?;
    let suffix = format!(".{method}");
    let callee = knowledge.resources[resource].open.iter().find(|o| o.ends_with(&suffix))?.clone();
    Some(Resolved { resource, callee, origin: None, opens_later: false })
}

/// What a site opens, as the checker needs it.
fn site_behaviour(resolved: &[Option<Resolved>], site: u32, knowledge: &Knowledge) -> Option<SiteBehaviour> {
    let found = resolved.get(site as usize)?.as_ref()?;
    let context_exit = match knowledge.resources[found.resource].context_manager {
        ContextManager::TransactionOnly => ContextExit::EndsTransaction,
        ContextManager::None => ContextExit::None,
        cm if cm.closes() => ContextExit::Closes,
        _ => ContextExit::None,
    };
    // Lazy: a client that connects on first use (`http.client.HTTPConnection`), or one called
    // without what makes it connect at once (`smtplib.SMTP()` without a host).
    let resource = &knowledge.resources[found.resource];
    let lazy = found.opens_later || (!resource.opens_on.is_empty() && resource.opens_only_with.is_empty());
    Some(SiteBehaviour { context_exit, lazy })
}

/// Whether some site of `function` opens something: the checker reports only on those, and
/// most functions have none (it need not walk them).
fn opens_something(function: &LoweredFunction, resolved: &[Option<Resolved>]) -> bool {
    resolved
        .get(function.sites.start as usize..function.sites.end as usize)
        .is_some_and(|sites| sites.iter().any(Option::is_some))
}

/// Runs the checker over one function with the resolved sites; every argument is borrowed
/// (used while summaries settle).
fn check(function: &LoweredFunction, resolved: &[Option<Resolved>], knowledge: &Knowledge) -> Vec<SiteReport> {
    checker::check_function(&function.ir, &SitesOracle { resolved, knowledge })
}

/// The sites of one module, and what their resources' methods do; every argument is borrowed.
struct SitesOracle<'a> {
    resolved: &'a [Option<Resolved>],
    knowledge: &'a Knowledge,
}

impl Oracle for SitesOracle<'_> {
    fn site(&self, site: u32) -> Option<SiteBehaviour> {
        site_behaviour(self.resolved, site, self.knowledge)
    }
    fn argument(&self, _call: u32, _arg: Arg<&str>) -> ArgumentEffect {
        ArgumentEffect::Borrow
    }
    fn activates(&self, site: u32, method: &str) -> bool {
        resource_of(self.resolved, site, self.knowledge).is_some_and(|r| r.opens_on.iter().any(|m| m == method))
    }
    fn closes(&self, site: u32, method: &str) -> bool {
        closes(self.resolved, site, method, self.knowledge)
    }
}

fn resource_of<'k>(resolved: &[Option<Resolved>], site: u32, knowledge: &'k Knowledge) -> Option<&'k Resource> {
    let found = resolved.get(site as usize)?.as_ref()?;
    Some(&knowledge.resources[found.resource])
}

/// Whether `method` closes the resource of `site`. A parameter holds whatever the caller
/// passes: any resource's close method closes it.
fn closes(resolved: &[Option<Resolved>], site: u32, method: &str, knowledge: &Knowledge) -> bool {
    if site == checker::PARAMETER_SITE {
        return knowledge.resources.iter().any(|r| r.close.iter().any(|m| m == method));
    }
    resource_of(resolved, site, knowledge).is_some_and(|r| r.close.iter().any(|m| m == method))
}

/// A function by (module index, function index).
type FunctionRef = (usize, usize);

/// What the checker of one module asks: its sites, and what the project's functions do with
/// the arguments they are given (computed on demand, per thread, so results do not depend on
/// which thread checks what).
struct ProjectOracle<'p> {
    project: &'p Project<'p>,
    summaries: &'p HashMap<String, Summary>,
    functions: &'p HashMap<&'p str, FunctionRef>,
    /// The module's text and sites (a new text of it while fixing).
    unit: &'p ModuleUnit,
    resolved: Rc<Vec<Option<Resolved>>>,
    cache: &'p RefCell<EffectCache>,
}

#[derive(Default)]
struct EffectCache {
    resolved: HashMap<usize, Rc<Vec<Option<Resolved>>>>,
    effects: HashMap<(FunctionRef, usize), ArgumentEffect>,
    in_progress: HashSet<(FunctionRef, usize)>,
    /// A cycle was met while computing the current effect: do not keep the result.
    provisional: bool,
}

impl ProjectOracle<'_> {
    fn resolved_of(&self, module: usize) -> Rc<Vec<Option<Resolved>>> {
        if let Some(found) = self.cache.borrow().resolved.get(&module) {
            return found.clone();
        }
        let resolver = Resolver {
            knowledge: self.project.knowledge,
            summaries: self.summaries,
            hierarchy: &self.project.hierarchy,
        };
        let resolved = Rc::new(resolve_sites(&self.project.modules[module].lowered, &resolver));
        self.cache.borrow_mut().resolved.insert(module, resolved.clone());
        resolved
    }

    fn effect(&self, function: FunctionRef, param: usize) -> ArgumentEffect {
        let key = (function, param);
        if let Some(effect) = self.cache.borrow().effects.get(&key) {
            return *effect;
        }
        if !self.cache.borrow_mut().in_progress.insert(key) {
            // Recursion: assume a borrow, and keep nothing computed from the assumption.
            self.cache.borrow_mut().provisional = true;
            return ArgumentEffect::Borrow;
        }
        let outer_provisional = std::mem::take(&mut self.cache.borrow_mut().provisional);
        let (module, index) = function;
        let lowered = &self.project.modules[module].lowered.functions[index];
        let inner = ProjectOracle {
            project: self.project,
            summaries: self.summaries,
            functions: self.functions,
            unit: &self.project.modules[module],
            resolved: self.resolved_of(module),
            cache: self.cache,
        };
        let effect = checker::parameter_effect(&lowered.ir, lowered.params[param].var, &inner);
        let mut cache = self.cache.borrow_mut();
        cache.in_progress.remove(&key);
        if !cache.provisional {
            cache.effects.insert(key, effect);
        }
        cache.provisional |= outer_provisional;
        effect
    }
}

impl Oracle for ProjectOracle<'_> {
    fn site(&self, site: u32) -> Option<SiteBehaviour> {
        site_behaviour(&self.resolved, site, self.project.knowledge)
    }

    fn activates(&self, site: u32, method: &str) -> bool {
        let knowledge = self.project.knowledge;
        resource_of(&self.resolved, site, knowledge).is_some_and(|r| r.opens_on.iter().any(|m| m == method))
    }

    fn closes(&self, site: u32, method: &str) -> bool {
        closes(&self.resolved, site, method, self.project.knowledge)
    }

    fn argument(&self, call: u32, arg: Arg<&str>) -> ArgumentEffect {
        let unit = self.unit;
        let Some(site) = unit.lowered.sites.get(call as usize) else { return ArgumentEffect::Borrow };
        let resolver = Resolver {
            knowledge: self.project.knowledge,
            summaries: self.summaries,
            hierarchy: &self.project.hierarchy,
        };
        let Some(called) = resolver.callee(unit.lowered.callee(site)) else { return ArgumentEffect::Borrow };
        // A class of the project: what its `__init__` does.
        // An inherited method, or a class of the project (what its `__init__` does).
        let hierarchy = &self.project.hierarchy;
        let function = hierarchy
            .find(&called, |name| self.functions.contains_key(name))
            .or_else(|| hierarchy.find(&format!("{called}.__init__"), |name| self.functions.contains_key(name)))
            .and_then(|name| self.functions.get(name.as_str()));
        let Some(&function) = function else { return ArgumentEffect::Borrow };
        let callee = &self.project.modules[function.0].lowered.functions[function.1];
        if callee.is_abstract {
            // An override decides; it may well keep what it is given.
            return ArgumentEffect::Take;
        }
        let params = &callee.params;
        let index = match arg {
            Arg::Position(n) => params.iter().position(|p| p.positional).map(|first| first + n as usize),
            Arg::Keyword(name) => params.iter().position(|p| &*p.name == name),
        };
        match index.filter(|&i| i < params.len() && (matches!(arg, Arg::Keyword(_)) || params[i].positional)) {
            Some(i) => self.effect(function, i),
            None => ArgumentEffect::Borrow,
        }
    }
}

/// How much of the text the runs parse: printed with `CONNLINT_DEBUG_ROUNDS`, to see where
/// selective parsing stands on a tree.
pub mod debug_counts {
    use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};

    use super::Selection;

    static WHOLE: AtomicUsize = AtomicUsize::new(0);
    static PARTIAL_FILES: AtomicUsize = AtomicUsize::new(0);
    static PARTIAL_BYTES: AtomicUsize = AtomicUsize::new(0);
    static SELECTED_BYTES: AtomicUsize = AtomicUsize::new(0);
    static NOTHING: AtomicUsize = AtomicUsize::new(0);

    pub(super) fn count(path: &str, selection: &Selection, len: usize, parse_whole: bool) {
        if std::env::var_os("CONNLINT_DEBUG_FILES").is_some() {
            let selected: usize = match selection {
                Selection::Nothing => 0,
                Selection::Whole => len,
                Selection::Ranges(r) => r.iter().map(|r| r.end - r.start).sum(),
            };
            eprintln!("select {path} {selected} {len}");
        }
        match selection {
            Selection::Nothing => {
                NOTHING.fetch_add(1, Relaxed);
            }
            Selection::Whole => {
                WHOLE.fetch_add(len, Relaxed);
            }
            Selection::Ranges(ranges) => {
                PARTIAL_FILES.fetch_add(1, Relaxed);
                PARTIAL_BYTES.fetch_add(len, Relaxed);
                let selected: usize = ranges.iter().map(|r| r.end - r.start).sum();
                SELECTED_BYTES.fetch_add(if parse_whole { len } else { selected }, Relaxed);
            }
        }
    }

    pub fn report() -> String {
        format!(
            "parsed whole: {} bytes; in part: {} files of {} bytes, {} bytes selected; nothing selected: {} files",
            WHOLE.load(Relaxed),
            PARTIAL_FILES.load(Relaxed),
            PARTIAL_BYTES.load(Relaxed),
            SELECTED_BYTES.load(Relaxed),
            NOTHING.load(Relaxed)
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LEAKY: &str = "import sqlite3\n\ndef count(path):\n    conn = sqlite3.connect(path)\n    return conn.execute('select 1').fetchone()\n";
    const CLOSED: &str = "import sqlite3\n\ndef count(path):\n    conn = sqlite3.connect(path)\n    try:\n        return conn.execute('select 1').fetchone()\n    finally:\n        conn.close()\n";

    #[test]
    fn only_a_finding_asks_for_the_text_and_a_text_gone_is_an_error() {
        let knowledge = Knowledge::builtin();
        let mut project = Project::new(knowledge);
        project.add(lower_unit("leaky.py", ModuleInfo { name: "leaky", package: None }, LEAKY, knowledge));
        project.add(lower_unit("closed.py", ModuleInfo { name: "closed", package: None }, CLOSED, knowledge));
        let summaries = project.summaries();
        let functions = project.function_index();
        let asked = std::cell::Cell::new(0);
        let gone = || {
            asked.set(asked.get() + 1);
            None
        };
        assert_eq!(project.check_module(1, &summaries, &functions, &gone).map(|found| found.len()), Ok(0));
        assert_eq!(asked.get(), 0, "a module without findings needs no text");
        assert_eq!(project.check_module(0, &summaries, &functions, &gone).map(|found| found.len()), Err(TextChanged));
        assert_eq!(asked.get(), 1, "the text is asked for once");
        let found = project.check_module(0, &summaries, &functions, &|| Some(Arc::from(LEAKY))).expect("the text");
        let rules: Vec<Rule> = found.iter().map(|d| d.rule).collect();
        assert_eq!(rules, [Rule::NeverClosed]);
    }
}
