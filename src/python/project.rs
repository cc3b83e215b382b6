//! The project-wide Python analysis: every module lowered once, function summaries computed to
//! a fixpoint (which functions are factories, across modules), then every function checked.
//!
//! No I/O: modules come in as (path, module name, source) and diagnostics go out per module.

use std::cell::RefCell;
use std::collections::{HashMap, HashSet};
use std::rc::Rc;
use std::sync::Arc;

use super::knowledge::{ContextManager, Knowledge, ResourceId};
use super::lower::{self, FunctionKind, LoweredFunction, LoweredModule, Site};
use super::nesting;
use super::rules;
use super::symbols::{FactoryOrigin, Hierarchy, Resolved, Resolver, Summary};
use super::syntax;
use crate::ModuleInfo;
use crate::checker::{self, ArgumentEffect, ContextExit, Oracle, SiteBehaviour, SiteReport, SitesOnly};
use crate::diagnostic::{Diagnostic, Span};
use crate::ir::Arg;
use crate::rule::Rule;

/// Summaries settle in a few rounds; this bounds pathological chains.
const MAX_SUMMARY_ROUNDS: usize = 12;

/// One lowered module.
#[derive(Debug, Clone)]
pub struct ModuleUnit {
    /// The path as shown to the user.
    pub path: String,
    pub name: String,
    pub source: Arc<str>,
    pub lowered: LoweredModule,
    /// Parse errors found while parsing it.
    pub parse_diagnostics: Vec<Diagnostic>,
}

/// Parses and lowers one module. Never fails: a syntax error becomes a `CL000` diagnostic.
pub fn lower_unit(path: &str, module: ModuleInfo, source: Arc<str>, knowledge: &Knowledge) -> ModuleUnit {
    let mut parse_diagnostics = Vec::new();
    let lowered = match super::analysis::parse(&source) {
        Some(tree) => {
            let root = tree.root_node();
            if let Some(error) = syntax::first_error(root) {
                parse_diagnostics.push(parse_error(error, &source));
            }
            if let Some(deep) = nesting::too_deep(root, nesting::MAX_TREE_DEPTH) {
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
                    source,
                    lowered: LoweredModule::default(),
                    parse_diagnostics,
                };
            }
            let lowered = lower::lower_module(root, &source, knowledge, module, lower::is_test_path(path));
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
    ModuleUnit { path: path.to_string(), name: module.name.to_string(), source, lowered, parse_diagnostics }
}

fn parse_error(error: tree_sitter::Node, source: &str) -> Diagnostic {
    let at = syntax::span(error);
    let message = if error.is_missing() {
        format!("syntax error: missing `{}`", error.kind())
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
}

impl<'k> Project<'k> {
    pub fn new(knowledge: &'k Knowledge) -> Self {
        Project { knowledge, modules: Vec::new(), hierarchy: Hierarchy::default() }
    }

    pub fn add(&mut self, unit: ModuleUnit) {
        for class in &unit.lowered.classes {
            self.hierarchy.bases.insert(class.qualified.clone(), class.bases.clone());
        }
        self.modules.push(unit);
    }

    /// Which functions are factories, `@contextmanager`s, or return some known value.
    pub fn summaries(&self) -> HashMap<String, Summary> {
        let mut summaries = HashMap::new();
        let mut defined: HashMap<&str, usize> = HashMap::new();
        for unit in &self.modules {
            for function in &unit.lowered.functions {
                *defined.entry(function.qualified.as_str()).or_default() += 1;
            }
        }
        for _ in 0..MAX_SUMMARY_ROUNDS {
            let mut changed = false;
            for unit in &self.modules {
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
                    continue;
                }
                let resolver =
                    Resolver { knowledge: self.knowledge, summaries: &summaries, hierarchy: &self.hierarchy };
                let resolved = resolve_sites(&unit.lowered, &resolver);
                let updates: Vec<(&str, Option<Summary>)> = candidates
                    .into_iter()
                    .map(|function| (function.qualified.as_str(), self.summarize(unit, function, &resolved)))
                    .filter(|(name, summary)| summaries.get(*name) != summary.as_ref())
                    .collect();
                for (name, summary) in updates {
                    changed = true;
                    match summary {
                        Some(summary) => summaries.insert(name.to_string(), summary),
                        None => summaries.remove(name),
                    };
                }
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
        let reports = check(function, resolved, self.knowledge);
        for report in reports.iter().filter(|r| r.returned) {
            let Some(found) = &resolved[report.site as usize] else { continue };
            let site = &unit.lowered.sites[report.site as usize];
            let origin = found.origin.clone().unwrap_or_else(|| FactoryOrigin {
                function: function.qualified.clone(),
                opener: found.callee.clone(),
                path: unit.path.clone(),
                line: site.line,
            });
            return Some(Summary::Factory { resource: found.resource, origin });
        }
        function.returns.first().map(|sym| Summary::Returns(sym.clone()))
    }

    /// The diagnostics of every module, in module order.
    pub fn check(&self, summaries: &HashMap<String, Summary>) -> Vec<Vec<Diagnostic>> {
        let functions = self.function_index();
        (0..self.modules.len()).map(|m| self.check_module(m, summaries, &functions)).collect()
    }

    /// Every function of the project by qualified name (names defined twice are left out).
    pub fn function_index(&self) -> HashMap<String, FunctionRef> {
        let mut index: HashMap<String, Option<FunctionRef>> = HashMap::new();
        for (m, unit) in self.modules.iter().enumerate() {
            for (f, function) in unit.lowered.functions.iter().enumerate() {
                index.entry(function.qualified.clone()).and_modify(|slot| *slot = None).or_insert(Some((m, f)));
            }
        }
        index.into_iter().filter_map(|(name, slot)| slot.map(|r| (name, r))).collect()
    }

    pub fn check_module(
        &self,
        module: usize,
        summaries: &HashMap<String, Summary>,
        functions: &HashMap<String, FunctionRef>,
    ) -> Vec<Diagnostic> {
        let unit = &self.modules[module];
        let resolver = Resolver { knowledge: self.knowledge, summaries, hierarchy: &self.hierarchy };
        let resolved = Rc::new(resolve_sites(&unit.lowered, &resolver));
        let cache = RefCell::new(EffectCache::default());
        cache.borrow_mut().resolved.insert(module, resolved.clone());
        let oracle =
            ProjectOracle { project: self, summaries, functions, module, resolved: resolved.clone(), cache: &cache };
        let mut out = unit.parse_diagnostics.clone();
        for function in &unit.lowered.functions {
            for report in checker::check_function(&function.ir, &oracle) {
                let Some(found) = &resolved[report.site as usize] else { continue };
                let finding = rules::SiteFinding {
                    report: &report,
                    site: &unit.lowered.sites[report.site as usize],
                    resolved: found,
                    resource: &self.knowledge.resources[found.resource],
                    function,
                    source: &unit.source,
                };
                out.extend(rules::diagnose(&finding));
            }
        }
        let effect = |call: u32, arg: &Arg| oracle.argument(call, arg);
        out.extend(rules::check_classes(&unit.lowered, &resolved, self.knowledge, &unit.source, &effect));
        out.sort_by_key(|d| (d.span, d.rule));
        out
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

    /// The names of the factories found, for the prefilter: a file that mentions none of them
    /// (and no opener) cannot call one.
    pub fn factory_names(summaries: &HashMap<String, Summary>) -> Vec<String> {
        let mut names: Vec<String> = summaries
            .iter()
            .filter(|(_, s)| matches!(s, Summary::Factory { .. } | Summary::Returns(_)))
            .filter_map(|(q, _)| q.rsplit('.').next().map(str::to_string))
            .collect();
        names.sort();
        names.dedup();
        names
    }
}

/// What every site of a module opens, by site id.
fn resolve_sites(module: &LoweredModule, resolver: &Resolver) -> Vec<Option<Resolved>> {
    module.sites.iter().map(|site| resolve_site(site, module, resolver)).collect()
}

fn resolve_site(site: &Site, module: &LoweredModule, resolver: &Resolver) -> Option<Resolved> {
    let found = resolve_opener(site, module, resolver)?;
    let resource = &resolver.knowledge.resources[found.resource];
    // `zipfile.ZipFile(io.BytesIO(data))`: built on the caller's object, it owns nothing.
    if site.argument_hints.iter().any(|hint| resource.borrowed_when.contains(hint)) {
        return None;
    }
    // `subprocess.Popen(args)` without pipes holds no descriptor.
    if !resource.opens_only_with.is_empty() && !site.argument_hints.iter().any(|h| resource.opens_only_with.contains(h))
    {
        return None;
    }
    Some(found)
}

fn resolve_opener(site: &Site, module: &LoweredModule, resolver: &Resolver) -> Option<Resolved> {
    if let Some(found) = resolver.open_site(&site.callee) {
        return Some(found);
    }
    // A method of a receiver of unknown type: some methods name their resource on their own
    // (`pool.getconn()`), when the file imports the library.
    let method = match &site.callee {
        super::symbols::Sym::Attr(_, method) => method.as_str(),
        super::symbols::Sym::Name(name) => name.rsplit('.').next()?,
        _ => return None,
    };
    let receiver = site.receiver.as_deref()?.to_ascii_lowercase();
    let knowledge = resolver.knowledge;
    let mut best: Option<(bool, ResourceId)> = None;
    for id in knowledge.by_unknown_receiver(method) {
        let resource = &knowledge.resources[id];
        let imported = module.imported_roots.contains(resource.module.split('.').next().unwrap_or_default());
        let fits = match resource.unknown_receiver.as_deref() {
            Some("any") => true,
            Some(word) => imported && receiver.contains(&word.to_ascii_lowercase()),
            None => false,
        };
        if fits && best.is_none_or(|(was_imported, _)| imported && !was_imported) {
            best = Some((imported, id));
        }
    }
    let (_, resource) = best?;
    let suffix = format!(".{method}");
    let callee = knowledge.resources[resource].open.iter().find(|o| o.ends_with(&suffix))?.clone();
    Some(Resolved { resource, callee, origin: None })
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
    let lazy = !knowledge.resources[found.resource].opens_on.is_empty();
    Some(SiteBehaviour { context_exit, lazy })
}

/// Runs the checker over one function with the resolved sites; every argument is borrowed
/// (used while summaries settle).
fn check(function: &LoweredFunction, resolved: &[Option<Resolved>], knowledge: &Knowledge) -> Vec<SiteReport> {
    let oracle = SitesOnly(|site| site_behaviour(resolved, site, knowledge));
    checker::check_function(&function.ir, &oracle)
}

/// A function by (module index, function index).
type FunctionRef = (usize, usize);

/// What the checker of one module asks: its sites, and what the project's functions do with
/// the arguments they are given (computed on demand, per thread, so results do not depend on
/// which thread checks what).
struct ProjectOracle<'p> {
    project: &'p Project<'p>,
    summaries: &'p HashMap<String, Summary>,
    functions: &'p HashMap<String, FunctionRef>,
    module: usize,
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
            module,
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
        let Some(Some(found)) = self.resolved.get(site as usize) else { return false };
        self.project.knowledge.resources[found.resource].opens_on.iter().any(|m| m == method)
    }

    fn argument(&self, call: u32, arg: &Arg) -> ArgumentEffect {
        let unit = &self.project.modules[self.module];
        let Some(site) = unit.lowered.sites.get(call as usize) else { return ArgumentEffect::Borrow };
        let resolver = Resolver {
            knowledge: self.project.knowledge,
            summaries: self.summaries,
            hierarchy: &self.project.hierarchy,
        };
        let Some(called) = resolver.callee(&site.callee) else { return ArgumentEffect::Borrow };
        // A class of the project: what its `__init__` does.
        // An inherited method, or a class of the project (what its `__init__` does).
        let hierarchy = &self.project.hierarchy;
        let function = hierarchy
            .find(&called, |name| self.functions.contains_key(name))
            .or_else(|| hierarchy.find(&format!("{called}.__init__"), |name| self.functions.contains_key(name)))
            .and_then(|name| self.functions.get(&name));
        let Some(&function) = function else { return ArgumentEffect::Borrow };
        let callee = &self.project.modules[function.0].lowered.functions[function.1];
        if callee.is_abstract {
            // An override decides; it may well keep what it is given.
            return ArgumentEffect::Take;
        }
        let params = &callee.params;
        let index = match arg {
            Arg::Position(n) => params.iter().position(|p| p.positional).map(|first| first + *n as usize),
            Arg::Keyword(name) => params.iter().position(|p| &p.name == name),
        };
        match index.filter(|&i| i < params.len() && (matches!(arg, Arg::Keyword(_)) || params[i].positional)) {
            Some(i) => self.effect(function, i),
            None => ArgumentEffect::Borrow,
        }
    }
}
