//! Lowering: a tree-sitter-python tree becomes one resource-IR [`Function`] per `def`, plus the
//! facts the project-wide analysis needs (what each function returns, which fields each class
//! opens and closes).
//!
//! The lowering decides what each piece of syntax means for a resource: which calls may open
//! one, which close it, where it is handed off, which statements can raise. Whether a call
//! really opens something is decided later, once every module is known: each call is written
//! down as a [`Sym`] (see [`super::symbols`]). The lowering knows nothing about diagnostics.
//!
//! Module-level code is not lowered: a script's module-level resources live as long as the
//! process, which owns them.

use std::borrow::Borrow;
use std::hash::Hash;
use std::num::NonZeroU32;

use crate::hash::{FastMap as HashMap, FastSet as HashSet};

use super::syntax::Node;

use super::knowledge::{Knowledge, NameRoles, Returns};
use super::layout::{
    self, Alias, BlockLayout, BoundStatement, CloseStatement, EnterContextLayout, FunctionLayout, ModuleLayout,
    SiteLayout,
};
use super::names::Imports;
use super::symbols::{Hierarchy, Resolver, Sym};
use super::syntax::{Kind, KindTable, attribute_chain, is_plain_literal, named_children, peel, span, text};
use crate::ModuleInfo;
use crate::diagnostic::Span;
use crate::ir::{
    self, Arg, Block, Function, HandOffHow, LoopBlocks, MaybeVar, NullTest, SiteId, Stmt, TryBlocks, Var, WithBlock,
    WithExit, WithItem,
};

/// Nesting deeper than this (blocks or expressions) is not lowered: the function is skipped
/// rather than risking the stack. Real code stays far below it.
pub const MAX_DEPTH: usize = 200;

/// Methods that put their argument somewhere that outlives the call (a container, a registry).
const STORING_METHODS: &[&str] = &[
    "append",
    "appendleft",
    "add",
    "extend",
    "insert",
    "put",
    "put_nowait",
    "push",
    "setdefault",
    "update",
    "register",
    "callback",
    "push_async_callback",
    "push_async_exit",
    "addCleanup",
    "addAsyncCleanup",
    "addfinalizer",
    "add_done_callback",
    "set",
    "set_result",
];

/// Functions that store an argument on an object: `setattr(obj, "conn", conn)`.
const STORING_FUNCTIONS: &[&str] = &["setattr"];

/// Conversions that cannot raise on plain arguments of the right type: not counted as able
/// to raise (see rules/CL103.md).
const PURE_FUNCTIONS: &[&str] = &[
    "str",
    "repr",
    "id",
    "len",
    "isinstance",
    "os.fspath",
    "os.path.join",
    "os.fsdecode",
    "os.fsencode",
    "pathlib.Path",
    "weakref.ref",
];

/// Test-case methods that only register a cleanup for later.
const CLEANUP_REGISTRATIONS: &[&str] = &["addCleanup", "addAsyncCleanup", "addClassCleanup"];

/// `with` items whose body is expected to raise or runs against mocks: an open there is not
/// a real resource (`with pytest.raises(...): sqlite3.connect(bad)`,
/// `with mock.patch.object(mod, "connect"): ...`).
const EXPECTING_CONTEXTS: &[&str] =
    &["assertRaises", "assertRaisesRegex", "assertRaisesRegexp", "raises", "patch", "object", "multiple"];

/// The builtin functions a resource can be given to (the others are not worth a site).
const BUILTINS: &[&str] =
    &["open", "setattr", "print", "repr", "str", "iter", "next", "id", "isinstance", "len", "super"];

/// Calls that take a resource (or its close method) and see to its closing.
const REGISTERING_FUNCTIONS: &[&str] =
    &["contextlib.closing", "contextlib.aclosing", "atexit.register", "weakref.finalize", "functools.partial"];

/// Calls whose `with` closes the resource they wrap.
const CLOSING_WRAPPERS: &[&str] = &["contextlib.closing", "contextlib.aclosing"];

const ENTER_CONTEXT_METHODS: &[&str] = &["enter_context", "enter_async_context", "enterContext", "enterAsyncContext"];

/// Calls that never return: the path ends there like at a `raise`.
const NEVER_RETURNING: &[&str] =
    &["fail", "skipTest", "sys.exit", "os._exit", "pytest.fail", "pytest.skip", "pytest.exit"];

/// How a call that never returns ends the path.
enum Ends {
    /// By an exception (`self.fail`, `sys.exit` raises `SystemExit`).
    Raises,
    /// With the process (`os._exit`).
    Exits,
}

/// How a function body runs, which decides what `yield` means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FunctionKind {
    Plain,
    /// A generator: a yielded resource is handed to the consumer; every `yield` can raise
    /// `GeneratorExit` when the consumer stops early.
    Generator,
    /// `@contextmanager`: the `with` body runs at the `yield`, and its exception is raised there.
    ContextManager,
    /// A pytest fixture: the code after `yield` always runs as teardown.
    Fixture,
}

/// The syntactic place of a call that may open a resource, for messages and fixes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpenedIn {
    /// Anywhere but the two below.
    Expression,
    /// The expression of a `with` item, or the argument of `closing(...)` there.
    WithItem,
    /// The argument of `ExitStack.enter_context(...)`.
    EnterContext,
}

/// An index into [`LoweredModule::callees`].
pub type CalleeId = u32;

/// An index into [`LoweredModule::names`], plus one: an absent name (`Option<NameId>`) takes
/// no room of its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NameId(NonZeroU32);

/// Gives each distinct value one index into `values`; its map lives only while the module is
/// lowered.
struct Interner<T> {
    values: Vec<T>,
    ids: HashMap<T, u32>,
}

impl<T> Default for Interner<T> {
    fn default() -> Self {
        Interner { values: Vec::new(), ids: HashMap::default() }
    }
}

impl<T: Hash + Eq> Interner<T> {
    /// The index of `value`, added (as `own(value)`) when it is new.
    fn intern<Q: ?Sized + Hash + Eq>(&mut self, value: &Q, own: impl Fn(&Q) -> T) -> u32
    where
        T: Borrow<Q>,
    {
        if let Some(&id) = self.ids.get(value) {
            return id;
        }
        let id = u32::try_from(self.values.len()).unwrap_or(u32::MAX);
        self.values.push(own(value));
        self.ids.insert(own(value), id);
        id
    }
}

/// The callees and names of a module's sites, interned while it is lowered.
#[derive(Default)]
struct SiteInterners {
    callees: Interner<Sym>,
    names: Interner<Box<str>>,
}

impl SiteInterners {
    fn name(&mut self, name: &str) -> Option<NameId> {
        let index = self.names.intern(name, |n: &str| Box::from(n));
        NonZeroU32::new(index.saturating_add(1)).map(NameId)
    }

    fn name_of(&self, id: Option<NameId>) -> Option<&str> {
        id.and_then(|id| self.names.values.get(id.0.get() as usize - 1)).map(|n| &**n)
    }
}

/// A call that may open a resource.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Site {
    /// The call.
    pub span: Span,
    /// What is called, to be resolved against the project: an index into
    /// [`LoweredModule::callees`] (see [`LoweredModule::callee`]).
    pub callee: CalleeId,
    /// The name the result was bound to, if any (see [`LoweredModule::binding`]).
    pub binding: Option<NameId>,
    pub opened_in: OpenedIn,
    /// For a method call, the receiver as written (`db_pool` in `db_pool.getconn()`; see
    /// [`LoweredModule::receiver`]).
    pub receiver: Option<NameId>,
    /// What the call is given, as far as the knowledge cares: the qualified callees of call
    /// arguments (`io.BytesIO`) and the names of keyword arguments (`fileobj`), a bit each
    /// ([`NameRoles::hint_mask`]).
    pub argument_hints: u64,
    /// One-based line of the call.
    pub line: u32,
}

// Every call is a site, kept until the run ends: its callee, binding and receiver are ids into
// the module's tables rather than a symbol and two strings of its own (88 bytes and up to three
// allocations before), and the hints' bits save two words and an allocation.
const _: () = assert!(std::mem::size_of::<Site>() <= 40);

#[derive(Debug, Clone)]
pub struct LoweredFunction {
    pub ir: Function,
    pub kind: FunctionKind,
    /// `module.function`, `module.Class.method`, `module.outer.inner`.
    pub qualified: String,
    /// What its `return` statements give back, where that is a known symbol.
    pub returns: Vec<Sym>,
    /// Some `return` statement gives back a value.
    pub returns_value: bool,
    /// The parameters a caller passes (without a method's `self`/`cls`).
    pub params: Box<[Param]>,
    /// Its body only raises `NotImplementedError` (or is `pass`/`...`), or it is an
    /// `@abstractmethod`: what it does with its arguments is up to an override.
    pub is_abstract: bool,
    /// Test code: a test, a fixture, a method of a test class, or anything in a test file.
    pub is_test: bool,
    /// It calls a fake or a mock (`self.fakehttp(...)`, `MockHTTPHandler(...)`,
    /// `add_ordered_mock_handlers(...)`): in a test, its clients may talk to those fakes.
    pub calls_fakes: bool,
    /// What its text says, for fixes: `None` when it says nothing (a function that binds no
    /// call's result, as most do), see [`LoweredFunction::layout`].
    pub layout: Option<Box<FunctionLayout>>,
    /// Its call sites: the indexes into [`LoweredModule::sites`] its lowering added.
    pub sites: std::ops::Range<u32>,
}

impl LoweredFunction {
    /// What its text says, for fixes.
    pub fn layout(&self) -> &FunctionLayout {
        static NOTHING: FunctionLayout = FunctionLayout::EMPTY;
        self.layout.as_deref().unwrap_or(&NOTHING)
    }
}

/// A parameter of a function.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Param {
    pub name: Box<str>,
    pub var: Var,
    /// It can be passed by position (it comes before any `*` or `*args`).
    pub positional: bool,
}

/// `self.field = CALL(...)` in a method.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldOpen {
    pub field: String,
    pub site: SiteId,
}

/// What a class does with the resources it keeps in its fields.
#[derive(Debug, Clone, Default)]
pub struct ClassFacts {
    pub qualified: String,
    /// A base class defined outside this module, which may close fields it knows about.
    pub has_external_base: bool,
    /// Names of base classes defined in this module.
    pub local_bases: Vec<String>,
    /// Qualified names of every base class that could be resolved (through imports too), for
    /// finding inherited methods.
    pub bases: Vec<String>,
    pub field_opens: Vec<FieldOpen>,
    /// Fields some method closes, or hands to `closing`/`ExitStack`/`atexit`.
    pub closed_fields: HashSet<String>,
    /// Fields some method gives away (returns, stores elsewhere): someone else may close them.
    pub exposed_fields: HashSet<String>,
    /// Fields passed to a call (`self._cleanup(self.__pipe)`): what the callee does with them
    /// is known once the project is.
    pub field_passes: Vec<(String, SiteId, Arg<Box<str>>)>,
}

#[derive(Debug, Clone, Default)]
pub struct LoweredModule {
    pub functions: Vec<LoweredFunction>,
    pub sites: Vec<Site>,
    /// The distinct callees of its sites, by [`CalleeId`]: a module calls the same few
    /// (`self.assertEqual` hundreds of times in a test class), and sites are kept until the run
    /// ends.
    pub callees: Vec<Sym>,
    /// The distinct bindings and receivers of its sites, by [`NameId`] (less one).
    pub names: Vec<Box<str>>,
    pub classes: Vec<ClassFacts>,
    /// The first segment of every imported module (`psycopg2` for `import psycopg2.pool`).
    pub imported_roots: HashSet<String>,
    /// Where its imports end and which names it binds, for fixes.
    pub layout: Box<ModuleLayout>,
    /// Where the calls that a fix may rewrite sit in the text, by site, sorted (most sites have
    /// none: [`LoweredModule::site_layout`] says [`SiteLayout::Other`] for those).
    pub site_layouts: Vec<(SiteId, SiteLayout)>,
    /// The names of functions skipped because they nest deeper than [`MAX_DEPTH`].
    pub too_deep: Vec<Span>,
}

impl LoweredModule {
    /// What `site` calls.
    pub fn callee(&self, site: &Site) -> &Sym {
        &self.callees[site.callee as usize]
    }

    /// The name the result of `site` was bound to, if any.
    pub fn binding(&self, site: &Site) -> Option<&str> {
        self.name(site.binding)
    }

    /// For a method call, the receiver of `site` as written.
    pub fn receiver(&self, site: &Site) -> Option<&str> {
        self.name(site.receiver)
    }

    fn name(&self, id: Option<NameId>) -> Option<&str> {
        id.and_then(|id| self.names.get(id.0.get() as usize - 1)).map(|n| &**n)
    }

    /// Where the call of `site` sits in the text, for fixes.
    pub fn site_layout(&self, site: SiteId) -> &SiteLayout {
        static OTHER: SiteLayout = SiteLayout::Other;
        match self.site_layouts.binary_search_by_key(&site, |(id, _)| *id) {
            Ok(i) => &self.site_layouts[i].1,
            Err(_) => &OTHER,
        }
    }
}

/// What the whole module tells a function body.
struct ModuleScope<'a> {
    knowledge: &'a Knowledge,
    module: String,
    imports: Imports,
    /// Module-level `def`s and classes, by local name.
    definitions: HashSet<String>,
    /// Module-level `name = CALL(...)`.
    globals: HashMap<String, Sym>,
    /// The knowledge's method and function names by what they do.
    roles: &'a NameRoles,
    /// The names a fix may use for `contextlib.closing` (`closing`, `contextlib`, the module's
    /// aliases): whether a function binds one is worth recording.
    fix_names: Vec<String>,
}

impl ModuleScope<'_> {
    fn qualify(&self, name: &str) -> String {
        format!("{}.{name}", self.module)
    }

    /// The symbol of a module-level name: an import, a definition of this module, or a global.
    fn global_sym(&self, parts: &[&str]) -> Option<Sym> {
        let (root, rest) = parts.split_first()?;
        let base = if let Some(sym) = self.globals.get(*root) {
            sym.clone()
        } else if self.definitions.contains(*root) {
            Sym::name(self.qualify(root))
        } else {
            Sym::name(self.imports.get(root)?)
        };
        Some(rest.iter().fold(base, |sym, part| sym.attr(part)))
    }
}

/// The class a method belongs to, as its methods see it.
#[derive(Debug, Clone)]
struct ClassScope {
    index: usize,
    qualified: String,
    /// `self.field = CALL(...)` anywhere in the class.
    fields: HashMap<String, Sym>,
}

/// Lowers every function of a parsed module.
pub fn lower_module<'t>(
    root: Node<'t>,
    src: &'t str,
    knowledge: &Knowledge,
    module: ModuleInfo,
    test_file: bool,
) -> LoweredModule {
    let mut imports = Imports::default();
    collect_imports(root, src, module.package, knowledge, &mut imports, 0);
    let mut scope = ModuleScope {
        knowledge,
        module: module.name.to_string(),
        imports,
        definitions: HashSet::default(),
        globals: HashMap::default(),
        roles: knowledge.roles(),
        fix_names: Vec::new(),
    };
    collect_module_names(root, src, &mut scope);

    let module_layout = layout::module_layout(root, src);
    scope.fix_names = ["closing", "contextlib"]
        .into_iter()
        .map(str::to_string)
        .chain(module_layout.closing.iter().cloned())
        .chain(module_layout.contextlib.iter().cloned())
        .collect();
    let mut module_out = LoweredModule {
        imported_roots: {
            let mut roots = HashSet::default();
            imported_roots(root, src, 0, &mut roots);
            roots
        },
        layout: Box::new(module_layout),
        ..LoweredModule::default()
    };
    let mut pending: Vec<Pending<'t>> = Vec::new();
    let mut interners = SiteInterners::default();
    queue_definitions(root, src, &scope, &None, &scope.module.clone(), &mut module_out.classes, &mut pending, 0);
    while let Some(job) = pending.pop() {
        let class = job.class.clone();
        let mut lowerer =
            FnLowerer::new(src, &scope, &mut module_out.sites, &mut interners, class.as_ref(), job.locals);
        let lowered = lowerer.function(job.node, &job.prefix, job.is_method).map(|mut function| {
            let class_name = class.as_ref().map(|c| c.qualified.rsplit('.').next().unwrap_or_default());
            function.is_test |= test_file || class_name.is_some_and(is_test_class);
            function
        });
        if lowerer.too_deep {
            let def = job.node.field("definition").unwrap_or(job.node);
            let name = def.field("name").unwrap_or(def);
            module_out.too_deep.push(span(name));
        }
        let facts = std::mem::take(&mut lowerer.class_facts);
        let nested = std::mem::take(&mut lowerer.nested);
        let nested_locals = lowerer.local_definitions.clone();
        module_out.site_layouts.append(&mut lowerer.site_layouts);
        // A name a function declares `global` is a module-level name (for fixes' imports).
        for name in std::mem::take(&mut lowerer.outer_names) {
            module_out.layout.take(&name);
        }
        drop(lowerer);
        if let Some(class) = &class {
            let target = &mut module_out.classes[class.index];
            target.closed_fields.extend(facts.closed_fields);
            target.exposed_fields.extend(facts.exposed_fields);
            target.field_opens.extend(facts.field_opens);
            target.field_passes.extend(facts.field_passes);
        }
        if let Some(function) = lowered {
            let prefix = function.qualified.clone();
            module_out.functions.push(function);
            for inner in nested {
                // A nested def sees its enclosing function's nested defs by name.
                queue_definition(
                    inner,
                    src,
                    &scope,
                    &class,
                    &prefix,
                    &mut module_out.classes,
                    &mut pending,
                    nested_locals.clone(),
                );
            }
        }
    }
    module_out.functions.sort_by_key(|f| f.ir.span.start);
    module_out.site_layouts.sort_by_key(|(site, _)| *site);
    // Kept until the run ends: no room for more.
    module_out.functions.shrink_to_fit();
    module_out.sites.shrink_to_fit();
    module_out.callees = interners.callees.values;
    module_out.callees.shrink_to_fit();
    module_out.names = interners.names.values;
    module_out.names.shrink_to_fit();
    module_out.site_layouts.shrink_to_fit();
    module_out
}

/// A `def` waiting to be lowered.
struct Pending<'t> {
    node: Node<'t>,
    class: Option<ClassScope>,
    /// Defined directly in a class body: its first parameter is the receiver.
    is_method: bool,
    /// The qualified name of what encloses it (`module`, `module.Class`, `module.outer`).
    prefix: String,
    /// Names of sibling nested defs visible to it, with their qualified names.
    locals: HashMap<String, String>,
}

/// Imports anywhere in the module (module level, and inside functions and classes, which
/// real code uses for lazy imports).
fn collect_imports(
    node: Node,
    src: &str,
    package: Option<&str>,
    knowledge: &Knowledge,
    imports: &mut Imports,
    depth: usize,
) {
    let kinds = KindTable::get();
    if depth > MAX_DEPTH {
        return;
    }
    for child in node.named_children() {
        match kinds.of(child) {
            Kind::ImportStatement | Kind::ImportFromStatement => imports.add_statement(child, src, package, knowledge),
            Kind::FunctionDefinition
            | Kind::ClassDefinition
            | Kind::DecoratedDefinition
            | Kind::Block
            | Kind::IfStatement
            | Kind::TryStatement
            | Kind::WithStatement
            | Kind::ElseClause
            | Kind::ExceptClause
            | Kind::FinallyClause
            | Kind::ElifClause
            | Kind::ForStatement
            | Kind::WhileStatement => collect_imports(child, src, package, knowledge, imports, depth + 1),
            _ => {}
        }
    }
}

fn imported_roots(node: Node, src: &str, depth: usize, roots: &mut HashSet<String>) {
    let kinds = KindTable::get();
    if depth > MAX_DEPTH {
        return;
    }
    for child in node.named_children() {
        match kinds.of(child) {
            Kind::ImportStatement | Kind::ImportFromStatement => {
                let text = text(child, src);
                let module = text
                    .trim_start_matches("from")
                    .trim_start_matches("import")
                    .split(|c: char| c.is_whitespace() || c == ',')
                    .find(|w| !w.is_empty())
                    .unwrap_or_default();
                if let Some(root) = module.split('.').next().filter(|r| !r.is_empty()) {
                    roots.insert(root.to_string());
                }
                if kinds.of(child) == Kind::ImportStatement {
                    for name in text.trim_start_matches("import").split(',') {
                        if let Some(root) = name.split_whitespace().next().and_then(|n| n.split('.').next()) {
                            roots.insert(root.to_string());
                        }
                    }
                }
            }
            Kind::FunctionDefinition
            | Kind::ClassDefinition
            | Kind::DecoratedDefinition
            | Kind::Block
            | Kind::IfStatement
            | Kind::TryStatement
            | Kind::WithStatement
            | Kind::ElseClause
            | Kind::ExceptClause
            | Kind::FinallyClause => imported_roots(child, src, depth + 1, roots),
            _ => {}
        }
    }
}

/// Module-level definitions, module-level `name = CALL(...)` (a module-wide pool), and
/// module-level aliases of imported names (`OPEN = sqlite3.connect`).
fn collect_module_names(root: Node, src: &str, scope: &mut ModuleScope) {
    let kinds = KindTable::get();
    let mut globals = Vec::new();
    let mut aliases = Vec::new();
    let mut stack = vec![(root, 0usize)];
    while let Some((node, depth)) = stack.pop() {
        if depth > MAX_DEPTH {
            continue;
        }
        for stmt in named_children(node) {
            match kinds.of(stmt) {
                Kind::FunctionDefinition | Kind::ClassDefinition => {
                    if let Some(name) = stmt.field("name") {
                        scope.definitions.insert(text(name, src).to_string());
                    }
                }
                Kind::DecoratedDefinition => {
                    if let Some(name) = stmt.field("definition").and_then(|d| d.field("name")) {
                        scope.definitions.insert(text(name, src).to_string());
                    }
                }
                Kind::ExpressionStatement => {
                    for assignment in named_children(stmt).into_iter().filter(|n| kinds.of(*n) == Kind::Assignment) {
                        let (Some(left), Some(right)) = (assignment.field("left"), assignment.field("right")) else {
                            continue;
                        };
                        if kinds.of(left) != Kind::Identifier {
                            continue;
                        }
                        let right = peel(right);
                        if kinds.of(right) == Kind::Call {
                            globals.push((text(left, src).to_string(), right));
                        } else if let Some(parts) = attribute_chain(right, src)
                            && let Some(qualified) = scope.imports.resolve(&parts)
                        {
                            // `OPEN = sqlite3.connect`: another name for what an import names.
                            aliases.push((text(left, src).to_string(), qualified));
                        }
                    }
                }
                Kind::IfStatement
                | Kind::TryStatement
                | Kind::Block
                | Kind::ElseClause
                | Kind::ElifClause
                | Kind::ExceptClause
                | Kind::FinallyClause => stack.push((stmt, depth + 1)),
                _ => {}
            }
        }
    }
    for (name, qualified) in aliases {
        scope.imports.bind(&name, qualified);
    }
    for (name, call) in globals {
        let sym = call.field("function").and_then(|f| callee_sym(f, src, scope, None));
        if let Some(sym) = sym {
            scope.globals.insert(name, sym.call());
        }
    }
}

/// The symbol of a callee as seen at module level or from a class (no locals).
fn callee_sym(function: Node, src: &str, scope: &ModuleScope, class: Option<&ClassScope>) -> Option<Sym> {
    let kinds = KindTable::get();
    let function = peel(function);
    if kinds.of(function) == Kind::Attribute
        && let Some(object) = function.field("object").map(peel)
        && kinds.of(object) == Kind::Call
    {
        let attribute = text(function.field("attribute")?, src);
        let inner = callee_sym(object.field("function")?, src, scope, class)?;
        return Some(inner.call().attr(attribute));
    }
    let parts = attribute_chain(function, src)?;
    if let (Some(class), [receiver, rest @ ..]) = (class, parts.as_slice())
        && matches!(*receiver, "self" | "cls")
        && let Some((first, more)) = rest.split_first()
    {
        let base = match class.fields.get(*first) {
            Some(field) => field.clone(),
            None => Sym::name(format!("{}.{first}", class.qualified)),
        };
        return Some(more.iter().fold(base, |sym, part| sym.attr(part)));
    }
    scope.global_sym(&parts)
}

/// Finds the `def`s and classes directly under `node` (the module, a class body).
#[allow(clippy::too_many_arguments)]
fn queue_definitions<'t>(
    node: Node<'t>,
    src: &str,
    scope: &ModuleScope,
    class: &Option<ClassScope>,
    prefix: &str,
    classes: &mut Vec<ClassFacts>,
    out: &mut Vec<Pending<'t>>,
    depth: usize,
) {
    let kinds = KindTable::get();
    if depth > MAX_DEPTH {
        return;
    }
    for child in named_children(node) {
        match kinds.of(child) {
            Kind::FunctionDefinition | Kind::DecoratedDefinition | Kind::ClassDefinition => {
                queue_definition(child, src, scope, class, prefix, classes, out, HashMap::default())
            }
            // Definitions under module-level `if`/`try` blocks are still module functions.
            Kind::IfStatement
            | Kind::TryStatement
            | Kind::Block
            | Kind::ElseClause
            | Kind::ElifClause
            | Kind::ExceptClause
            | Kind::FinallyClause
            | Kind::WithStatement => queue_definitions(child, src, scope, class, prefix, classes, out, depth + 1),
            _ => {}
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn queue_definition<'t>(
    def: Node<'t>,
    src: &str,
    scope: &ModuleScope,
    class: &Option<ClassScope>,
    prefix: &str,
    classes: &mut Vec<ClassFacts>,
    out: &mut Vec<Pending<'t>>,
    locals: HashMap<String, String>,
) {
    let kinds = KindTable::get();
    let inner = if kinds.of(def) == Kind::DecoratedDefinition { def.field("definition") } else { Some(def) };
    let Some(inner) = inner else { return };
    match kinds.of(inner) {
        Kind::FunctionDefinition => {
            let is_method = class.as_ref().is_some_and(|c| c.qualified == prefix);
            out.push(Pending { node: def, class: class.clone(), is_method, prefix: prefix.to_string(), locals })
        }
        Kind::ClassDefinition => {
            let Some(name) = inner.field("name") else { return };
            let Some(body) = inner.field("body") else { return };
            let qualified = format!("{prefix}.{}", text(name, src));
            let mut facts = ClassFacts { qualified: qualified.clone(), ..ClassFacts::default() };
            if let Some(bases) = inner.field("superclasses") {
                for base in named_children(bases) {
                    if kinds.of(base) == Kind::KeywordArgument {
                        continue;
                    }
                    let base_text = text(base, src);
                    if let Some(parts) = attribute_chain(base, src)
                        && let Some(Sym::Name(qualified)) = scope.global_sym(&parts)
                    {
                        facts.bases.push(qualified);
                    }
                    if scope.definitions.contains(base_text) {
                        facts.local_bases.push(format!("{}.{base_text}", scope.module));
                    } else if !matches!(base_text, "object" | "Exception" | "BaseException") {
                        facts.has_external_base = true;
                    }
                }
            }
            let index = classes.len();
            classes.push(facts);
            let mut class_scope = ClassScope { index, qualified: qualified.clone(), fields: HashMap::default() };
            class_scope.fields = class_field_syms(body, src, scope, &class_scope);
            queue_definitions(body, src, scope, &Some(class_scope), &qualified, classes, out, 0);
        }
        _ => {}
    }
}

/// `self.x = CALL(...)` in any method of a class.
fn class_field_syms(body: Node, src: &str, scope: &ModuleScope, class: &ClassScope) -> HashMap<String, Sym> {
    let kinds = KindTable::get();
    let mut fields = HashMap::default();
    let mut stack = vec![(body, 0usize)];
    while let Some((node, depth)) = stack.pop() {
        if depth > MAX_DEPTH {
            continue;
        }
        if kinds.of(node) == Kind::Assignment
            && let (Some(left), Some(right)) = (node.field("left"), node.field("right"))
            && let Some(parts) = attribute_chain(left, src)
            && parts.len() == 2
            && parts[0] == "self"
        {
            let right = peel(right);
            if kinds.of(right) == Kind::Call
                && let Some(function) = right.field("function")
                && let Some(sym) = callee_sym(function, src, scope, Some(class))
            {
                fields.insert(parts[1].to_string(), sym.call());
            }
        }
        if kinds.of(node) == Kind::ClassDefinition && depth > 0 {
            continue;
        }
        for child in named_children(node) {
            // An assignment is a statement (or the value of one: `a = self.x = f()`); no
            // expression holds one, so expressions are not searched (except in broken code).
            if may_hold_statements(kinds.of(child)) || kinds.of(child) == Kind::Assignment || node.is_error() {
                stack.push((child, depth + 1));
            }
        }
    }
    fields
}

/// Whether a node of this kind can hold a statement (`def`, an assignment) among its
/// descendants: statements and their clauses and blocks, definitions, and broken code, but no
/// expression. Searches for statements need not look inside anything else.
fn may_hold_statements(kind: Kind) -> bool {
    matches!(
        kind,
        Kind::Module
            | Kind::Block
            | Kind::Error
            | Kind::DecoratedDefinition
            | Kind::FunctionDefinition
            | Kind::ClassDefinition
            // Every `*_statement` and `*_clause` of the grammar (a test checks that none is missing).
            | Kind::ExpressionStatement
            | Kind::ReturnStatement
            | Kind::RaiseStatement
            | Kind::AssertStatement
            | Kind::PassStatement
            | Kind::BreakStatement
            | Kind::ContinueStatement
            | Kind::DeleteStatement
            | Kind::GlobalStatement
            | Kind::NonlocalStatement
            | Kind::PrintStatement
            | Kind::ExecStatement
            | Kind::TypeAliasStatement
            | Kind::ImportStatement
            | Kind::ImportFromStatement
            | Kind::FutureImportStatement
            | Kind::IfStatement
            | Kind::ForStatement
            | Kind::WhileStatement
            | Kind::TryStatement
            | Kind::WithStatement
            | Kind::MatchStatement
            | Kind::ElifClause
            | Kind::ElseClause
            | Kind::ExceptClause
            | Kind::FinallyClause
            | Kind::WithClause
            | Kind::CaseClause
            | Kind::ForInClause
            | Kind::IfClause
    )
}

/// How the value of an expression is used by what surrounds it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    /// The value of an expression statement: thrown away.
    Discard,
    /// Assigned to a local name.
    Bind(Var),
    /// Kept somewhere that outlives the statement (attribute, container, global, constructor).
    Store,
    /// Handed to something that closes it or registers its closing.
    Register,
    Return,
    Yield,
    /// The object of `x.attr` or `x.method()`.
    Receiver,
    /// An argument of an ordinary call: borrowed.
    Argument,
    /// Anything else: an operand, a condition.
    Other,
}

impl Role {
    /// The result outlives the statement.
    fn keeps(self) -> bool {
        matches!(self, Role::Return | Role::Store | Role::Yield)
    }
}

/// What lowering one function learned about its class's fields.
#[derive(Debug, Default)]
struct FieldFacts {
    field_opens: Vec<FieldOpen>,
    closed_fields: HashSet<String>,
    exposed_fields: HashSet<String>,
    field_passes: Vec<(String, SiteId, Arg<Box<str>>)>,
}

struct FnLowerer<'a, 's> {
    src: &'s str,
    /// Held here rather than asked of the lazy static for every node.
    kinds: &'static KindTable,
    scope: &'a ModuleScope<'a>,
    sites: &'a mut Vec<Site>,
    interners: &'a mut SiteInterners,
    class: Option<&'a ClassScope>,
    /// The imports of the function itself, over the module's (`scope.imports`).
    imports: Imports,
    vars: HashMap<String, Var>,
    var_names: Vec<String>,
    /// The method and keyword names its statements refer to, by [`ir::NameId`] (see
    /// [`Function::names`]; not this module's [`NameId`] of site bindings), and the id of each.
    names: Vec<&'s str>,
    name_ids: HashMap<&'s str, ir::NameId>,
    /// What each local holds, as far as it is known.
    local_syms: HashMap<Var, Sym>,
    /// Nested `def`s visible by name, with their qualified names.
    local_definitions: HashMap<String, String>,
    /// Locals that hold a field of `self` (`conn = self.conn`).
    field_aliases: HashMap<Var, Vec<String>>,
    /// Names declared `global` or `nonlocal`: binding one stores the value outside.
    outer_names: HashSet<String>,
    /// Names bound by a call in this function; setting their attributes is not counted as able
    /// to raise.
    resource_names: HashSet<Var>,
    kind: FunctionKind,
    returns: Vec<Sym>,
    returns_value: bool,
    /// See [`LoweredFunction::calls_fakes`].
    calls_fakes: bool,
    class_facts: FieldFacts,
    /// The site of the last call lowered, to connect `self.x = CALL` to its field.
    last_site: Option<SiteId>,
    /// Nested `def`s and classes, lowered as functions of their own.
    nested: Vec<Node<'s>>,
    depth: usize,
    too_deep: bool,
    /// How many `except`/`finally` clauses the current statement is in.
    handler_depth: usize,
    /// How many `with pytest.raises(...)`/`with mock.patch(...)` blocks it is in.
    expecting_depth: usize,
    /// For fixes: the statement being lowered is the only one of its block.
    stmt_alone: bool,
    /// For fixes: the statement after the one being lowered is a `return` or a `raise`.
    stmt_before_exit: bool,
    /// For fixes: the open the statement being lowered binds, as `x = OPEN(...)`, with its value.
    bound_here: Option<(SiteId, Span)>,
    /// For fixes: the `with` statement being lowered is an `async with`.
    in_async_with: bool,
    /// For fixes: statements that are only a close.
    close_statements: Vec<CloseStatement>,
    /// For fixes: imports inside the function.
    local_imports: HashMap<String, String>,
    /// For fixes: the blocks that hold a bound statement.
    blocks: Vec<BlockLayout>,
    /// For fixes: where the calls of its sites sit, when a fix may rewrite them.
    site_layouts: Vec<(SiteId, SiteLayout)>,
}

impl<'a, 's> FnLowerer<'a, 's> {
    fn new(
        src: &'s str,
        scope: &'a ModuleScope<'a>,
        sites: &'a mut Vec<Site>,
        interners: &'a mut SiteInterners,
        class: Option<&'a ClassScope>,
        local_definitions: HashMap<String, String>,
    ) -> Self {
        FnLowerer {
            src,
            kinds: KindTable::get(),
            scope,
            sites,
            interners,
            class,
            imports: Imports::default(),
            vars: HashMap::default(),
            var_names: Vec::new(),
            names: Vec::new(),
            name_ids: HashMap::default(),
            local_syms: HashMap::default(),
            local_definitions,
            field_aliases: HashMap::default(),
            outer_names: HashSet::default(),
            resource_names: HashSet::default(),
            kind: FunctionKind::Plain,
            returns: Vec::new(),
            returns_value: false,
            calls_fakes: false,
            class_facts: FieldFacts::default(),
            last_site: None,
            nested: Vec::new(),
            depth: 0,
            too_deep: false,
            handler_depth: 0,
            expecting_depth: 0,
            stmt_alone: false,
            stmt_before_exit: false,
            bound_here: None,
            in_async_with: false,
            close_statements: Vec::new(),
            local_imports: HashMap::default(),
            blocks: Vec::new(),
            site_layouts: Vec::new(),
        }
    }

    fn function(&mut self, def: Node<'s>, prefix: &str, is_method: bool) -> Option<LoweredFunction> {
        let sites_before = self.sites.len();
        let (decorators, inner) = if self.kinds.of(def) == Kind::DecoratedDefinition {
            let decorators: Vec<Node> =
                named_children(def).into_iter().filter(|n| self.kinds.of(*n) == Kind::Decorator).collect();
            (decorators, def.field("definition")?)
        } else {
            (Vec::new(), def)
        };
        let name = text(inner.field("name")?, self.src).to_string();
        let qualified = format!("{prefix}.{name}");
        let body = inner.field("body")?;
        if inner.has_error() {
            // The parse-error diagnostic covers it; a half-parsed body would mislead the checker.
            return None;
        }
        self.kind = self.function_kind(&decorators, body);
        for nested in nested_definition_names(body, self.src) {
            self.local_definitions.insert(nested.clone(), format!("{qualified}.{nested}"));
        }
        let is_static = decorators.iter().any(|d| text(*d, self.src).trim_start_matches('@').trim() == "staticmethod");
        let mut params = match inner.field("parameters") {
            Some(params) => self.parameters(params),
            None => Vec::new(),
        };
        if is_method && !is_static && !params.is_empty() {
            params.remove(0);
        }
        let header_end = body.start_byte();
        let first_site = self.sites.len();
        let ir_body = self.block(body);
        if self.too_deep {
            return None;
        }
        let layout = self.function_layout(inner, first_site);
        let var_count = u32::try_from(self.vars.len()).unwrap_or(u32::MAX);
        let is_test = self.kind == FunctionKind::Fixture || name.starts_with("test");
        Some(LoweredFunction {
            ir: Function {
                span: Span::new(inner.start_byte(), header_end),
                body: ir_body,
                var_count,
                names: self.names.iter().map(|name| Box::from(*name)).collect(),
            },
            kind: self.kind,
            qualified,
            returns: std::mem::take(&mut self.returns),
            returns_value: self.returns_value,
            calls_fakes: self.calls_fakes,
            // Kept until the run ends, for every function: no room to spare.
            params: params.into_boxed_slice(),
            is_abstract: is_abstract(&decorators, body, self.src),
            is_test,
            layout: (!layout.is_empty()).then(|| Box::new(layout)),
            sites: to_u32(sites_before)..to_u32(self.sites.len()),
        })
    }

    /// What the function's text says, for fixes (see [`layout`]).
    fn function_layout(&mut self, def: Node, first_site: usize) -> FunctionLayout {
        let sites = &self.sites[first_site..];
        let mut bound: Vec<&str> = sites.iter().filter_map(|s| self.interners.name_of(s.binding)).collect();
        bound.sort_unstable();
        bound.dedup();
        let unnamed_with =
            self.site_layouts.iter().any(|(_, l)| matches!(l, SiteLayout::WithItem(w) if w.alias == Alias::None));
        let mut out = layout::function_layout(def, self.src, &bound, unnamed_with);
        out.locals = self.scope.fix_names.iter().filter(|n| self.vars.contains_key(n.as_str())).cloned().collect();
        out.imports = std::mem::take(&mut self.local_imports).into_iter().collect();
        out.close_statements = std::mem::take(&mut self.close_statements);
        out.blocks = std::mem::take(&mut self.blocks);
        out
    }

    fn function_kind(&self, decorators: &[Node], body: Node) -> FunctionKind {
        for decorator in decorators {
            let Some(expr) = named_children(*decorator).into_iter().next() else { continue };
            let expr = if self.kinds.of(expr) == Kind::Call { expr.field("function").unwrap_or(expr) } else { expr };
            let Some(parts) = attribute_chain(expr, self.src) else { continue };
            let qualified = self.imports.resolve_over(&self.scope.imports, &parts).unwrap_or_else(|| parts.join("."));
            match qualified.as_str() {
                "contextlib.contextmanager" | "contextlib.asynccontextmanager" => return FunctionKind::ContextManager,
                "pytest.fixture" | "pytest_asyncio.fixture" | "pytest.yield_fixture" => return FunctionKind::Fixture,
                _ => {}
            }
        }
        // Most bodies have no `yield` in their text at all: skip the walk for them.
        let may_yield = text(body, self.src).contains("yield");
        if may_yield && contains_yield(body, 0) { FunctionKind::Generator } else { FunctionKind::Plain }
    }

    /// Interns the parameters (in order, for callers' positional arguments); annotations tell
    /// what a parameter holds: `pool: asyncpg.Pool`.
    fn parameters(&mut self, params: Node) -> Vec<Param> {
        let mut list = Vec::new();
        let mut positional = true;
        for param in named_children(params) {
            if matches!(self.kinds.of(param), Kind::ListSplatPattern | Kind::KeywordSeparator) {
                positional = false;
            }
            // Every parameter is a local, whatever it holds.
            let name = match self.kinds.of(param) {
                Kind::Identifier => Some(param),
                Kind::DefaultParameter | Kind::TypedDefaultParameter => param.field("name"),
                Kind::TypedParameter | Kind::ListSplatPattern | Kind::DictionarySplatPattern => {
                    named_children(param).into_iter().find(|n| self.kinds.of(*n) == Kind::Identifier)
                }
                _ => None,
            };
            if let Some(name) = name {
                let var = self.var(text(name, self.src));
                if !matches!(self.kinds.of(param), Kind::ListSplatPattern | Kind::DictionarySplatPattern) {
                    list.push(Param { name: text(name, self.src).into(), var, positional });
                }
            }
            if !matches!(self.kinds.of(param), Kind::TypedParameter | Kind::TypedDefaultParameter) {
                continue;
            }
            let name_node = param.field("name").or_else(|| named_children(param).into_iter().next());
            let (Some(name_node), Some(annotation)) = (name_node, param.field("type")) else { continue };
            if self.kinds.of(name_node) != Kind::Identifier {
                continue;
            }
            if let Some(class) = self.annotation_class(annotation) {
                let var = self.var(text(name_node, self.src));
                // An instance of the class: what calling the class gives.
                self.local_syms.insert(var, Sym::name(class).call());
            }
        }
        list
    }

    fn annotation_class(&self, annotation: Node) -> Option<String> {
        let mut node = named_children(annotation).into_iter().next().unwrap_or(annotation);
        // `Optional[X]` and `X | None` name the class X.
        loop {
            match self.kinds.of(node) {
                Kind::GenericType => {
                    let inner = named_children(node).into_iter().find(|n| self.kinds.of(*n) == Kind::TypeParameter)?;
                    let first = named_children(inner).into_iter().next()?;
                    node = named_children(first).into_iter().next().unwrap_or(first);
                }
                Kind::BinaryOperator => {
                    node = named_children(node).into_iter().find(|n| self.kinds.of(*n) != Kind::None)?;
                }
                Kind::Type => node = named_children(node).into_iter().next()?,
                _ => break,
            }
        }
        let parts = attribute_chain(node, self.src)?;
        self.imports.resolve_over(&self.scope.imports, &parts)
    }

    fn var(&mut self, name: &str) -> Var {
        if let Some(var) = self.vars.get(name) {
            return *var;
        }
        let var = u32::try_from(self.var_names.len()).unwrap_or(u32::MAX);
        self.vars.insert(name.to_string(), var);
        self.var_names.push(name.to_string());
        var
    }

    /// The id of a method or keyword name in the function's table of names.
    fn name_id(&mut self, name: &'s str) -> ir::NameId {
        if let Some(id) = self.name_ids.get(name) {
            return *id;
        }
        let id = to_u32(self.names.len());
        self.names.push(name);
        self.name_ids.insert(name, id);
        id
    }

    /// The method or keyword name `id` stands for (as [`Function::name`] once lowered).
    fn name_of_id(&self, id: ir::NameId) -> &'s str {
        self.names[id as usize]
    }

    fn temp(&mut self) -> Var {
        let name = format!("<temp {}>", self.var_names.len());
        self.var(&name)
    }

    fn known_var(&self, name: &str) -> Option<Var> {
        self.vars.get(name).copied()
    }

    /// Resolves what can be resolved from the knowledge base alone (stdlib helpers such as
    /// `contextlib.closing` and `os.close`), before the project is known.
    fn resolve_now(&self, sym: &Sym) -> Option<String> {
        let no_summaries = HashMap::default();
        let no_classes = Hierarchy::default();
        Resolver { knowledge: self.scope.knowledge, summaries: &no_summaries, hierarchy: &no_classes }.callee(sym)
    }

    /// `self.field` (or `cls.field`), when `node` is exactly that.
    fn self_field(&self, node: Node) -> Option<String> {
        self.class?;
        match attribute_chain(node, self.src)?.as_slice() {
            ["self", field] => Some((*field).to_string()),
            _ => None,
        }
    }

    // ----- statements -----

    fn block(&mut self, node: Node<'s>) -> Block {
        let mut out = Block::new();
        if self.enter() {
            let is_block = self.kinds.of(node) == Kind::Block;
            let statements = if is_block { named_children(node) } else { vec![node] };
            let mut block_index = None;
            for (i, stmt) in statements.iter().enumerate() {
                self.stmt_alone = statements.len() == 1;
                self.stmt_before_exit = statements
                    .get(i + 1)
                    .is_some_and(|next| matches!(self.kinds.of(*next), Kind::ReturnStatement | Kind::RaiseStatement));
                self.bound_here = None;
                self.stmt(*stmt, &mut out);
                if let Some((site, value)) = self.bound_here.take()
                    && is_block
                {
                    let block = *block_index.get_or_insert_with(|| {
                        self.blocks.push(layout::block_layout(node, &statements, self.src));
                        u32::try_from(self.blocks.len() - 1).unwrap_or(u32::MAX)
                    });
                    let index = u32::try_from(i).unwrap_or(u32::MAX);
                    let bound = BoundStatement { statement: span(*stmt), value, block, index };
                    self.site_layouts.push((site, SiteLayout::Bound(bound)));
                }
            }
        }
        self.leave();
        // Blocks are kept until the run ends and most hold a statement or two: without this a
        // block of one statement keeps room for four (96 bytes each).
        out.shrink_to_fit();
        out
    }

    fn enter(&mut self) -> bool {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            self.too_deep = true;
        }
        !self.too_deep
    }

    fn leave(&mut self) {
        self.depth -= 1;
    }

    fn stmt(&mut self, node: Node<'s>, out: &mut Block) {
        let at = span(node);
        let (alone, before_exit) = (self.stmt_alone, self.stmt_before_exit);
        match self.kinds.of(node) {
            Kind::ExpressionStatement => {
                for expr in named_children(node) {
                    if let Some(ends) = self.never_returns(expr) {
                        let mut effects = Block::new();
                        self.value(expr, Role::Discard, &mut effects);
                        out.extend(effects);
                        out.push(match ends {
                            Ends::Raises => Stmt::Raise { span: span(expr) },
                            Ends::Exits => Stmt::Diverge,
                        });
                        continue;
                    }
                    let mut effects = Block::new();
                    match self.kinds.of(expr) {
                        Kind::Assignment => {
                            self.assignment(expr, &mut effects);
                            self.bound_here = self.bound_open(node, expr, &effects);
                        }
                        Kind::AugmentedAssignment => {
                            // `conns += [conn]` keeps what it adds.
                            if let Some(right) = expr.field("right") {
                                self.value(right, Role::Store, &mut effects);
                            }
                        }
                        Kind::String | Kind::ConcatenatedString => {}
                        _ => {
                            self.value(expr, Role::Discard, &mut effects);
                            self.note_close_statement(node, alone, before_exit, &effects);
                        }
                    }
                    self.with_may_raise(expr, effects, out);
                    if let Some(var) = self.asserted_closed(expr, false) {
                        out.push(Stmt::Close { var, span: span(expr) });
                    }
                }
            }
            Kind::ReturnStatement => {
                if let Some(value) = named_children(node).into_iter().next() {
                    self.returns_value = true;
                    if let Some(sym) = self.value_sym(value) {
                        self.returns.push(sym);
                    }
                    let mut effects = Block::new();
                    self.value(value, Role::Return, &mut effects);
                    self.with_may_raise(value, effects, out);
                }
                out.push(Stmt::Return { span: at });
            }
            Kind::RaiseStatement => {
                for expr in named_children(node) {
                    self.value(expr, Role::Other, out);
                }
                out.push(Stmt::Raise { span: at });
            }
            Kind::BreakStatement => out.push(Stmt::Break),
            Kind::ContinueStatement => out.push(Stmt::Continue),
            Kind::IfStatement => self.if_statement(node, out),
            Kind::ForStatement => self.for_statement(node, out),
            Kind::WhileStatement => self.while_statement(node, out),
            Kind::TryStatement => self.try_statement(node, out),
            Kind::WithStatement => self.with_statement(node, out),
            Kind::MatchStatement => self.match_statement(node, out),
            Kind::FunctionDefinition | Kind::DecoratedDefinition | Kind::ClassDefinition => {
                self.captures(node, out);
                self.nested.push(node);
            }
            Kind::GlobalStatement | Kind::NonlocalStatement => {
                for name in named_children(node) {
                    self.outer_names.insert(text(name, self.src).to_string());
                }
            }
            Kind::DeleteStatement => {
                // `del x` drops the name on purpose; the object is finalised when unreferenced.
                for target in named_children(node)
                    .into_iter()
                    .flat_map(|n| if self.kinds.of(n) == Kind::ExpressionList { named_children(n) } else { vec![n] })
                {
                    if self.kinds.of(target) == Kind::Identifier
                        && let Some(var) = self.known_var(text(target, self.src))
                    {
                        out.push(Stmt::HandOff { var, how: HandOffHow::Store, span: span(target) });
                    }
                }
            }
            Kind::ImportStatement | Kind::ImportFromStatement => {
                self.raise_point(at, out);
                self.imports.add_statement(node, self.src, None, self.scope.knowledge);
                for local in layout::imported_locals(node, self.src) {
                    if let Some(qualified) = self.imports.get_over(&self.scope.imports, &local) {
                        self.local_imports.insert(local.clone(), qualified.to_string());
                    }
                }
            }
            Kind::PassStatement | Kind::FutureImportStatement | Kind::TypeAliasStatement | Kind::Comment => {}
            _ => {
                // assert, print/exec (Python 2), anything new: evaluate it, it can raise.
                self.raise_point(at, out);
                for expr in named_children(node) {
                    self.value(expr, Role::Other, out);
                }
                if self.kinds.of(node) == Kind::AssertStatement
                    && let Some(var) = named_children(node).first().and_then(|c| self.asserted_closed(*c, true))
                {
                    out.push(Stmt::Close { var, span: at });
                }
            }
        }
    }

    /// A test's assertion that a resource is closed: past it, the resource is closed (the
    /// library closed it, and the test checks that it did). `self.assertIsNone(x.sock)`,
    /// `self.assertTrue(x.closed)`, and as an `assert`: `x.closed`, `x.sock is None`. The
    /// attributes are the ones the libraries clear or set when they close: `sock` (http.client,
    /// smtplib, ftplib), `fp` (http.client responses, zipfile), `closed` (files, sockets,
    /// responses). `in_assert`: `expr` is the condition of an `assert` statement (else a
    /// statement of its own, where only the assertion calls count).
    fn asserted_closed(&self, expr: Node, in_assert: bool) -> Option<Var> {
        const CLEARED_ON_CLOSE: &[&str] = &["sock", "_sock", "fp"];
        const SET_ON_CLOSE: &[&str] = &["closed", "_closed"];
        let expr = peel(expr);
        let (attribute, cleared) = match self.kinds.of(expr) {
            Kind::Call => {
                let method =
                    expr.field("function").filter(|f| self.kinds.of(*f) == Kind::Attribute)?.field("attribute")?;
                let [argument] = named_children(expr.field("arguments")?)[..] else { return None };
                match text(method, self.src) {
                    "assertIsNone" => (argument, true),
                    "assertTrue" => (argument, false),
                    _ => return None,
                }
            }
            Kind::ComparisonOperator if in_assert => {
                let [left, right] = named_children(expr)[..] else { return None };
                let operators: Vec<Kind> = expr.children().map(|c| self.kinds.of(c)).collect();
                if self.kinds.of(right) != Kind::None
                    || !operators.contains(&Kind::Is)
                    || operators.contains(&Kind::IsNot)
                {
                    return None;
                }
                (left, true)
            }
            Kind::Attribute if in_assert => (expr, false),
            _ => return None,
        };
        let attribute = peel(attribute);
        if self.kinds.of(attribute) != Kind::Attribute {
            return None;
        }
        let name = text(attribute.field("attribute")?, self.src);
        let expected = if cleared { CLEARED_ON_CLOSE } else { SET_ON_CLOSE };
        let object = attribute.field("object").filter(|o| self.kinds.of(*o) == Kind::Identifier)?;
        expected.contains(&name).then(|| self.known_var(text(object, self.src))).flatten()
    }

    /// `x = OPEN(...)` as a whole statement: the open it binds and the value as written.
    fn bound_open(&self, statement: Node, assignment: Node, effects: &Block) -> Option<(SiteId, Span)> {
        if named_children(statement).len() != 1 || assignment.child_by_field_name("type").is_some() {
            return None;
        }
        let left = assignment.child_by_field_name("left").filter(|l| self.kinds.of(*l) == Kind::Identifier)?;
        let right = assignment.child_by_field_name("right").filter(|r| self.kinds.of(*r) != Kind::Assignment)?;
        let var = self.known_var(text(left, self.src))?;
        effects.iter().find_map(|effect| match effect {
            Stmt::Open { site, target, .. }
                if target.get() == Some(var) && self.sites[*site as usize].opened_in == OpenedIn::Expression =>
            {
                Some((*site, span(right)))
            }
            _ => None,
        })
    }

    /// Records a statement that is only a plain close (`x.close()`), for fixes that move it.
    fn note_close_statement(&mut self, statement: Node, alone: bool, before_exit: bool, effects: &Block) {
        let Some(call) = layout::statement_call(statement) else { return };
        // `x.quit()` is a close only of the resources that list it: the fix checks which.
        let closes = effects.iter().any(|e| match e {
            Stmt::Close { span: s, .. } => *s == span(call),
            Stmt::MethodCall { span: s, method, .. } => {
                *s == span(call) && self.scope.roles.close_methods.contains(self.name_of_id(*method))
            }
            _ => false,
        });
        if closes && layout::is_plain_close(call, self.src) {
            self.close_statements.push(CloseStatement {
                call: span(call),
                statement: span(statement),
                alone_in_block: alone,
                before_exit,
            });
        }
    }

    /// Appends a statement's effects with the point where it can raise: after what its calls do
    /// with their arguments (a closing helper closes before it can fail), before the binding of
    /// its result (a failed open holds nothing).
    fn with_may_raise(&self, node: Node, mut effects: Block, out: &mut Block) {
        if self.can_raise(node) {
            let bindings_at_the_end = effects.iter().rev().take_while(|e| is_binding(e)).count();
            // A method that closes its object when it fails (`smtp.connect(host)`) raises with
            // the state from before it: a client it would have connected holds nothing then.
            let closing_on_error = effects.iter().position(|e| match e {
                Stmt::MethodCall { method, .. } => {
                    self.scope.roles.closes_on_error_methods.contains(self.name_of_id(*method))
                }
                _ => false,
            });
            if self.handler_depth == 0 {
                let at = closing_on_error.unwrap_or(effects.len() - bindings_at_the_end);
                effects.insert(at, Stmt::MayRaise { span: span(node) });
            }
        }
        out.extend(effects);
    }

    /// A point where an exception can leave. Inside cleanup code (an `except` or `finally`
    /// clause) none is recorded: an exception raised while cleaning up is not what CL103 is
    /// about, and counting it would report every `log.error(...)` before a close (an explicit
    /// `raise` still counts).
    fn raise_point(&self, at: Span, out: &mut Block) {
        if self.handler_depth == 0 {
            out.push(Stmt::MayRaise { span: at });
        }
    }

    fn may_raise(&self, node: Node, out: &mut Block) {
        if self.can_raise(node) {
            self.raise_point(span(node), out);
        }
    }

    /// Whether evaluating a statement's expression can raise. The list of things that cannot is
    /// kept small on purpose (see rules/CL103.md): names, literals, null tests, assignments of
    /// those, attribute sets on the resource itself, and close calls.
    fn can_raise(&self, node: Node) -> bool {
        match self.kinds.of(node) {
            Kind::Identifier => false,
            Kind::Assignment => {
                let (Some(left), Some(right)) = (node.field("left"), node.field("right")) else {
                    return false;
                };
                let simple_right = is_plain_literal(right) || self.kinds.of(right) == Kind::Identifier;
                match self.kinds.of(left) {
                    // `f = p.stdout`: reading an attribute of a name.
                    Kind::Identifier | Kind::PatternList | Kind::TuplePattern => {
                        !(simple_right || attribute_chain(right, self.src).is_some() || self.is_pure_call(right))
                    }
                    Kind::Attribute => {
                        let on_resource = left
                            .field("object")
                            .filter(|o| self.kinds.of(*o) == Kind::Identifier)
                            .and_then(|o| self.known_var(text(o, self.src)))
                            .is_some_and(|v| self.resource_names.contains(&v));
                        let dotted_right = simple_right || attribute_chain(right, self.src).is_some();
                        !(on_resource && dotted_right)
                    }
                    _ => true,
                }
            }
            Kind::Call => !self.is_close_call(node) && !self.is_pure_call(node),
            // `yield` raises where the consumer throws in; `yield_` says so itself.
            Kind::Yield => named_children(node).into_iter().next().is_some_and(|inner| self.can_raise(inner)),
            // Awaiting a close is a close.
            Kind::Await => named_children(node).into_iter().next().is_none_or(|inner| self.can_raise(inner)),
            Kind::NotOperator => {
                named_children(node).into_iter().next().is_some_and(|n| self.kinds.of(n) != Kind::Identifier)
            }
            Kind::ComparisonOperator => !is_null_comparison(node, self.src),
            _ => !is_plain_literal(node),
        }
    }

    /// A call of a pure conversion on plain arguments (`Path(name)`, `os.fsdecode(path)`,
    /// `weakref.ref(conn)`), or registering a test cleanup (`self.addCleanup(f.close)`).
    fn is_pure_call(&self, call: Node) -> bool {
        if self.kinds.of(call) != Kind::Call {
            return false;
        }
        let Some(function) = call.field("function") else { return false };
        let plain = |n: &Node| {
            is_plain_literal(*n) || self.kinds.of(*n) == Kind::Identifier || attribute_chain(*n, self.src).is_some()
        };
        let args_plain = call.field("arguments").is_none_or(|a| {
            named_children(a).into_iter().all(|n| plain(&n) || (self.kinds.of(n) == Kind::Call && self.is_pure_call(n)))
        });
        if !args_plain {
            return false;
        }
        if self.kinds.of(function) == Kind::Attribute
            && function.field("attribute").is_some_and(|a| CLEANUP_REGISTRATIONS.contains(&text(a, self.src)))
        {
            return true;
        }
        let qualified = self.resolve_callee(function).and_then(|c| self.resolve_now(&c)).unwrap_or_default();
        PURE_FUNCTIONS.contains(&qualified.as_str())
    }

    /// `x.close()` or `pool.putconn(x)` with plain arguments: closing another resource is not
    /// counted as a statement that can raise, or every pair of closes would be reported.
    fn is_close_call(&self, call: Node) -> bool {
        let Some(function) = call.field("function") else { return false };
        let args_plain = call.field("arguments").is_none_or(|a| {
            named_children(a).into_iter().all(|n| is_plain_literal(n) || self.kinds.of(n) == Kind::Identifier)
        });
        if !args_plain {
            return false;
        }
        match self.kinds.of(function) {
            Kind::Attribute => {
                // A close, a method that closes its object when it fails (`smtp.sendmail`), or
                // adding a plain value to a container.
                function.field("attribute").is_some_and(|a| {
                    let method = text(a, self.src);
                    self.scope.roles.close_methods.contains(method)
                        || self.scope.roles.closes_on_error_methods.contains(method)
                        || matches!(method, "append" | "add" | "extend" | "appendleft")
                }) && function.field("object").is_some_and(|o| attribute_chain(o, self.src).is_some())
            }
            _ => false,
        }
    }

    fn assignment(&mut self, node: Node<'s>, out: &mut Block) {
        let (Some(left), Some(right)) = (node.field("left"), node.field("right")) else {
            return;
        };
        match self.kinds.of(left) {
            Kind::Identifier => {
                let name = text(left, self.src);
                if self.outer_names.contains(name) {
                    self.value(right, Role::Store, out);
                    return;
                }
                let var = self.var(name);
                self.bind(var, right, out);
            }
            Kind::PatternList | Kind::TuplePattern | Kind::ListPattern => self.unpacking(left, right, out),
            _ => {
                // `conn.sock = FakeSocket(...)`: the client now wraps something else.
                if let Some(["sock" | "_sock" | "socket"]) =
                    left.field("attribute").map(|a| [text(a, self.src)]).as_ref().map(|a| a.as_slice())
                    && let Some(object) = left.field("object").filter(|o| self.kinds.of(*o) == Kind::Identifier)
                    && let Some(var) = self.known_var(text(object, self.src))
                {
                    out.push(Stmt::HandOff { var, how: HandOffHow::Store, span: span(left) });
                }
                // `self.conn = ...`, `cache[key] = ...`: the value is kept outside the function.
                self.last_site = None;
                self.value(right, Role::Store, out);
                if let Some(field) = self.self_field(left)
                    && let Some(site) = self.last_site
                    && self.sites[site as usize].span == span(peel(right))
                {
                    self.class_facts.field_opens.push(FieldOpen { field, site });
                }
                if let Some(object) = left.field("object").or_else(|| left.field("value")) {
                    self.value(object, Role::Other, out);
                }
            }
        }
    }

    /// Emits exactly one binding of `var` for the value `right`.
    fn bind(&mut self, var: Var, right: Node<'s>, out: &mut Block) {
        let value = peel(right);
        match self.kinds.of(value) {
            Kind::Assignment => {
                // `a = b = value`
                self.assignment(value, out);
                let inner = value.field("left").filter(|l| self.kinds.of(*l) == Kind::Identifier);
                let src = inner.map(|l| self.var(text(l, self.src)));
                out.push(Stmt::Assign { dst: var, src, span: span(right) });
            }
            Kind::ConditionalExpression => {
                let parts = named_children(value);
                if parts.len() == 3 {
                    self.value(parts[1], Role::Other, out);
                    let mut then_block = Block::new();
                    self.bind(var, parts[0], &mut then_block);
                    let mut else_block = Block::new();
                    self.bind(var, parts[2], &mut else_block);
                    out.push(Stmt::If { branches: Box::new([then_block, else_block]), null_test: None });
                } else {
                    self.value(value, Role::Other, out);
                    out.push(Stmt::Assign { dst: var, src: None, span: span(right) });
                }
            }
            _ => {
                if !self.value(right, Role::Bind(var), out) {
                    out.push(Stmt::Assign { dst: var, src: None, span: span(right) });
                }
            }
        }
    }

    fn unpacking(&mut self, left: Node<'s>, right: Node<'s>, out: &mut Block) {
        let targets = named_children(left);
        let value = peel(right);
        // `fd, path = tempfile.mkstemp()`: the resource is the first element.
        if self.kinds.of(value) == Kind::Call
            && let Some(function) = value.field("function")
            && let Some(callee) = self.resolve_callee(function)
            && let Some(resource) = self.resolve_now(&callee).and_then(|q| self.scope.knowledge.opener(&q))
            && self.scope.knowledge.resources[resource].returns == Returns::FdPathTuple
            && let Some(first) = targets.first().filter(|t| self.kinds.of(**t) == Kind::Identifier)
        {
            let var = self.var(text(*first, self.src));
            let qualified = self.resolve_now(&callee).unwrap_or_default();
            let site = self.new_site(value, &callee, Role::Bind(var), OpenedIn::Expression);
            self.call_inputs(value, &qualified, Role::Bind(var), Some(site), out);
            self.emit_open(value, site, callee, Role::Bind(var), out);
            for target in &targets[1..] {
                self.rebind_target(*target, out);
            }
            return;
        }
        let values = if matches!(self.kinds.of(value), Kind::ExpressionList | Kind::Tuple) {
            named_children(value)
        } else {
            Vec::new()
        };
        if values.len() == targets.len() {
            for (target, value) in targets.into_iter().zip(values) {
                if self.kinds.of(target) == Kind::Identifier {
                    let var = self.var(text(target, self.src));
                    self.bind(var, value, out);
                } else {
                    self.value(value, Role::Store, out);
                }
            }
            return;
        }
        self.value(right, Role::Store, out);
        for target in targets {
            self.rebind_target(target, out);
        }
    }

    fn rebind_target(&mut self, target: Node, out: &mut Block) {
        match self.kinds.of(target) {
            Kind::Identifier => {
                let var = self.var(text(target, self.src));
                out.push(Stmt::Assign { dst: var, src: None, span: span(target) });
            }
            Kind::PatternList
            | Kind::TuplePattern
            | Kind::ListPattern
            | Kind::ListSplatPattern
            | Kind::ParenthesizedExpression => {
                for inner in named_children(target) {
                    self.rebind_target(inner, out);
                }
            }
            _ => {}
        }
    }

    fn if_statement(&mut self, node: Node<'s>, out: &mut Block) {
        let Some(condition) = node.field("condition") else { return };
        let consequence = node.field("consequence");
        let alternatives: Vec<Node<'s>> = node.children_by_field_name("alternative").collect();
        self.conditional(condition, consequence, &alternatives, out);
    }

    /// `if cond: consequence` followed by `elif`/`else` clauses, as nested two-way `If`s.
    fn conditional(&mut self, condition: Node<'s>, consequence: Option<Node<'s>>, rest: &[Node<'s>], out: &mut Block) {
        let null_test = self.null_test(condition);
        if null_test.is_none() {
            // A null test (`if conn:`, `if "conn" in locals():`) cannot raise.
            self.may_raise(condition, out);
        }
        self.value(condition, Role::Other, out);
        let then_block = consequence.map(|c| self.block(c)).unwrap_or_default();
        let mut else_block = Block::new();
        if let Some((first, later)) = rest.split_first() {
            match self.kinds.of(*first) {
                Kind::ElifClause => {
                    if let Some(cond) = first.field("condition") {
                        let cons = first.field("consequence");
                        if self.enter() {
                            self.conditional(cond, cons, later, &mut else_block);
                        }
                        self.leave();
                    }
                }
                _ => {
                    if let Some(body) = first.field("body") {
                        else_block = self.block(body);
                    }
                }
            }
        }
        out.push(Stmt::If { branches: Box::new([then_block, else_block]), null_test });
    }

    /// `if x`, `if not x`, `if x is None`, `if x is not None`, `if "x" in locals()`.
    fn null_test(&mut self, condition: Node) -> Option<NullTest> {
        let condition = peel(condition);
        match self.kinds.of(condition) {
            Kind::Identifier => {
                let var = self.known_var(text(condition, self.src))?;
                Some(NullTest { var, none_branch: 1 })
            }
            // `if conn.closed:` — on that branch it is not open either.
            Kind::Attribute => match attribute_chain(condition, self.src)?.as_slice() {
                [name, "closed"] => Some(NullTest { var: self.known_var(name)?, none_branch: 0 }),
                _ => None,
            },
            Kind::NotOperator => {
                let inner = self.null_test(condition.field("argument")?)?;
                Some(NullTest { var: inner.var, none_branch: 1 - inner.none_branch })
            }
            Kind::ComparisonOperator => {
                let parts = named_children(condition);
                let ops: Vec<&str> =
                    condition.children().filter(|c| !c.is_named()).map(|c| text(c, self.src)).collect();
                if parts.len() != 2 {
                    return None;
                }
                let op = ops.join(" ");
                if self.kinds.of(parts[1]) == Kind::None && self.kinds.of(parts[0]) == Kind::Identifier {
                    let var = self.known_var(text(parts[0], self.src))?;
                    return match op.as_str() {
                        "is" | "==" => Some(NullTest { var, none_branch: 0 }),
                        "is not" | "!=" => Some(NullTest { var, none_branch: 1 }),
                        _ => None,
                    };
                }
                // `"conn" in locals()`
                if self.kinds.of(parts[0]) == Kind::String && self.kinds.of(parts[1]) == Kind::Call {
                    let callee = parts[1].field("function").map(|f| text(f, self.src));
                    if matches!(callee, Some("locals" | "vars" | "dir")) {
                        let name = text(parts[0], self.src).trim_matches(|c| c == '"' || c == '\'');
                        let var = self.known_var(name)?;
                        return match op.as_str() {
                            "in" => Some(NullTest { var, none_branch: 1 }),
                            "not in" => Some(NullTest { var, none_branch: 0 }),
                            _ => None,
                        };
                    }
                }
                None
            }
            _ => None,
        }
    }

    fn for_statement(&mut self, node: Node<'s>, out: &mut Block) {
        // `for s in [self._server, *self._socks]: s.close()` closes the fields listed.
        if let (Some(iterable), Some(target)) = (node.field("right"), node.field("left"))
            && matches!(self.kinds.of(peel(iterable)), Kind::List | Kind::Tuple)
            && self.kinds.of(target) == Kind::Identifier
        {
            let fields: Vec<String> = named_children(peel(iterable))
                .into_iter()
                .map(|e| {
                    if self.kinds.of(e) == Kind::ListSplat {
                        named_children(e).into_iter().next().unwrap_or(e)
                    } else {
                        e
                    }
                })
                .filter_map(|e| self.self_field(e))
                .collect();
            if !fields.is_empty() {
                let var = self.var(text(target, self.src));
                self.field_aliases.insert(var, fields);
            }
        }
        if let Some(iterable) = node.field("right") {
            self.may_raise(iterable, out);
            self.value(iterable, Role::Other, out);
        }
        let mut body = Block::new();
        self.raise_point(span(node), &mut body);
        if let Some(target) = node.field("left") {
            self.rebind_target(target, &mut body);
        }
        if let Some(inner) = node.field("body") {
            body.extend(self.block(inner));
        }
        let orelse = self.else_of(node);
        out.push(Stmt::Loop(Box::new(LoopBlocks { body, orelse, infinite: false })));
    }

    fn while_statement(&mut self, node: Node<'s>, out: &mut Block) {
        let condition = node.field("condition");
        let infinite = condition.is_some_and(|c| matches!(text(c, self.src), "True" | "1"));
        let mut body = Block::new();
        if let Some(condition) = condition {
            self.may_raise(condition, &mut body);
            self.value(condition, Role::Other, &mut body);
        }
        if let Some(inner) = node.field("body") {
            body.extend(self.block(inner));
        }
        let orelse = self.else_of(node);
        out.push(Stmt::Loop(Box::new(LoopBlocks { body, orelse, infinite })));
    }

    fn else_of(&mut self, node: Node<'s>) -> Block {
        node.field("alternative").and_then(|alt| alt.field("body")).map(|body| self.block(body)).unwrap_or_default()
    }

    fn try_statement(&mut self, node: Node<'s>, out: &mut Block) {
        let body = node.field("body").map(|b| self.block(b)).unwrap_or_default();
        let mut handlers = Vec::new();
        let mut orelse = Block::new();
        let mut finally = Block::new();
        for clause in named_children(node) {
            match self.kinds.of(clause) {
                Kind::ExceptClause => {
                    let mut handler = Block::new();
                    if let Some(block) = named_children(clause).into_iter().rfind(|c| self.kinds.of(*c) == Kind::Block)
                    {
                        self.handler_depth += 1;
                        handler = self.block(block);
                        self.handler_depth -= 1;
                    }
                    handlers.push(handler);
                }
                Kind::ElseClause => {
                    if let Some(block) = clause.field("body") {
                        orelse = self.block(block);
                    }
                }
                Kind::FinallyClause => {
                    if let Some(block) = named_children(clause).into_iter().find(|c| self.kinds.of(*c) == Kind::Block) {
                        self.handler_depth += 1;
                        finally = self.block(block);
                        self.handler_depth -= 1;
                    }
                }
                _ => {}
            }
        }
        out.push(Stmt::Try(Box::new(TryBlocks { body, handlers, orelse, finally })));
    }

    fn match_statement(&mut self, node: Node<'s>, out: &mut Block) {
        if let Some(subject) = node.field("subject") {
            self.may_raise(subject, out);
            self.value(subject, Role::Other, out);
        }
        let mut branches = Vec::new();
        let mut exhaustive = false;
        if let Some(body) = node.field("body") {
            for case in named_children(body).into_iter().filter(|c| self.kinds.of(*c) == Kind::CaseClause) {
                let pattern_text = named_children(case)
                    .into_iter()
                    .find(|c| self.kinds.of(*c) == Kind::CasePattern)
                    .map(|p| text(p, self.src).trim());
                if pattern_text == Some("_") && case.field("guard").is_none() {
                    exhaustive = true;
                }
                branches.push(case.field("consequence").map(|c| self.block(c)).unwrap_or_default());
            }
        }
        if !exhaustive {
            branches.push(Block::new());
        }
        out.push(Stmt::If { branches: branches.into_boxed_slice(), null_test: None });
    }

    /// `with A as a, B as b: body` is `with A as a: with B as b: body`: if B raises, A exits.
    fn with_statement(&mut self, node: Node<'s>, out: &mut Block) {
        let items: Vec<Node> = named_children(node)
            .into_iter()
            .find(|c| self.kinds.of(*c) == Kind::WithClause)
            .map(|clause| named_children(clause).into_iter().filter(|c| self.kinds.of(*c) == Kind::WithItem).collect())
            .unwrap_or_default();
        let with_span = span(node);
        let mut prepared = Vec::new();
        self.in_async_with = node.children().any(|c| self.kinds.of(c) == Kind::Async);
        for &item in &items {
            let mut setup = Block::new();
            let with_item = self.with_item(item, &mut setup);
            prepared.push((setup, with_item));
        }
        // The body comes after the items, so the names and types they bind are known in it.
        let expecting = items.iter().any(|item| self.is_expecting_context(*item));
        self.expecting_depth += usize::from(expecting);
        let body = node.field("body").map(|b| self.block(b)).unwrap_or_default();
        self.expecting_depth -= usize::from(expecting);
        let mut inner = body;
        for (mut setup, with_item) in prepared.into_iter().rev() {
            setup.push(Stmt::With(Box::new(WithBlock {
                items: with_item.into_iter().collect(),
                body: inner,
                span: with_span,
            })));
            inner = setup;
        }
        out.extend(inner);
    }

    /// `self.fail(...)`, `pytest.fail(...)`, `sys.exit(...)` raise; `os._exit(...)` ends the
    /// process: either way the path ends here.
    fn never_returns(&self, expr: Node) -> Option<Ends> {
        let expr = peel(expr);
        if self.kinds.of(expr) != Kind::Call {
            return None;
        }
        let function = expr.field("function")?;
        let parts = attribute_chain(function, self.src)?;
        let qualified = self.imports.resolve_over(&self.scope.imports, &parts).unwrap_or_else(|| parts.join("."));
        if matches!(qualified.as_str(), "os._exit" | "os.abort") {
            return Some(Ends::Exits);
        }
        let method = if parts.first() == Some(&"self") { parts.last().copied() } else { None };
        let raises =
            NEVER_RETURNING.contains(&qualified.as_str()) || method.is_some_and(|m| NEVER_RETURNING.contains(&m));
        raises.then_some(Ends::Raises)
    }

    /// `with pytest.raises(...)`, `with self.assertRaises(...)`, `with mock.patch(...)`.
    fn is_expecting_context(&self, item: Node) -> bool {
        let Some(value) = item.field("value") else { return false };
        let expr = if self.kinds.of(value) == Kind::AsPattern {
            named_children(value).into_iter().next()
        } else {
            Some(value)
        };
        let Some(call) = expr.map(peel).filter(|e| self.kinds.of(*e) == Kind::Call) else { return false };
        let Some(parts) = call.field("function").and_then(|f| attribute_chain(f, self.src)) else {
            return false;
        };
        let last = parts.last().copied().unwrap_or_default();
        EXPECTING_CONTEXTS.contains(&last) && (last != "object" || parts.contains(&"patch")) || parts.contains(&"patch")
    }

    /// Lowers the expression of one `with` item into `setup` and says what the `with` holds.
    fn with_item(&mut self, item: Node<'s>, setup: &mut Block) -> Option<WithItem> {
        let value = item.field("value")?;
        let (expr, alias) = if self.kinds.of(value) == Kind::AsPattern {
            let expr = named_children(value).into_iter().next()?;
            let alias = value
                .field("alias")
                .and_then(|a| named_children(a).into_iter().next())
                .filter(|a| self.kinds.of(*a) == Kind::Identifier);
            (expr, alias)
        } else {
            (value, None)
        };
        let alias_var = alias.map(|a| self.var(text(a, self.src)));
        let item_layout = layout::WithItemLayout {
            value: span(expr),
            alias: match (self.kinds.of(value) == Kind::AsPattern, alias) {
                (false, _) => Alias::None,
                (true, Some(name)) => Alias::Name(span(name)),
                (true, None) => Alias::Other,
            },
            is_async: self.in_async_with,
        };
        let first_site = self.sites.len();
        let expr = peel(expr);
        let item_span = span(item);
        let closing_inner = if self.kinds.of(expr) == Kind::Call { self.closing_argument(expr) } else { None };
        let mut effects = Block::new();
        let (held, exit) = match closing_inner {
            // `with closing(OPEN(...)) as x:` / `with closing(x):`
            Some(inner) => {
                if let Some(field) = self.self_field(peel(inner)) {
                    self.class_facts.closed_fields.insert(field);
                }
                (self.held_value(inner, alias_var, OpenedIn::WithItem, &mut effects), WithExit::Closes)
            }
            None => {
                let held = self.held_value(expr, alias_var, OpenedIn::WithItem, &mut effects);
                self.set_layout(first_site, OpenedIn::WithItem, SiteLayout::WithItem(item_layout));
                (held, WithExit::OwnContextManager)
            }
        };
        if held.is_none()
            && let Some(alias) = alias_var
        {
            effects.push(Stmt::Assign { dst: alias, src: None, span: item_span });
        }
        if closing_inner.is_some_and(|inner| self.kinds.of(peel(inner)) == Kind::Identifier) {
            // `closing(conn)` only wraps a name: it cannot raise.
            setup.extend(effects);
        } else {
            self.with_may_raise(expr, effects, setup);
        }
        Some(WithItem { var: held?, exit, span: item_span })
    }

    /// The name holding the value of a `with` expression (binding the alias to it), when it is
    /// an open or a local name.
    fn held_value(
        &mut self,
        mut expr: Node<'s>,
        alias: Option<Var>,
        opened_in: OpenedIn,
        setup: &mut Block,
    ) -> Option<Var> {
        expr = peel(expr);
        // `with engine.connect().execution_options(...) as conn:` holds the connection.
        while self.kinds.of(expr) == Kind::Call
            && let Some(function) = expr.field("function").filter(|f| self.kinds.of(*f) == Kind::Attribute)
            && function
                .field("attribute")
                .is_some_and(|m| self.scope.roles.returns_self_methods.contains(text(m, self.src)))
            && let Some(receiver) = function.field("object")
        {
            if let Some(arguments) = expr.field("arguments") {
                for argument in named_children(arguments) {
                    self.value(argument, Role::Argument, setup);
                }
            }
            expr = peel(receiver);
        }
        if self.kinds.of(expr) == Kind::Call
            && let Some(function) = expr.field("function")
            && let Some(callee) = self.resolve_callee(function)
            && self.closing_argument(expr).is_none()
        {
            let var = alias.unwrap_or_else(|| self.temp());
            let qualified = self.resolve_now(&callee).unwrap_or_default();
            let site = self.new_site(expr, &callee, Role::Bind(var), opened_in);
            self.call_inputs(expr, &qualified, Role::Bind(var), Some(site), setup);
            self.emit_open(expr, site, callee, Role::Bind(var), setup);
            return Some(var);
        }
        if self.kinds.of(expr) == Kind::Identifier {
            let var = self.var(text(expr, self.src));
            if let Some(alias) = alias.filter(|a| *a != var) {
                setup.push(Stmt::Assign { dst: alias, src: Some(var), span: span(expr) });
            }
            return Some(var);
        }
        self.value(expr, Role::Other, setup);
        None
    }

    /// The argument of `closing(...)`/`aclosing(...)`, if `call` is one.
    fn closing_argument(&self, call: Node<'s>) -> Option<Node<'s>> {
        let callee = self.resolve_callee(call.field("function")?)?;
        let qualified = self.resolve_now(&callee)?;
        if !CLOSING_WRAPPERS.contains(&qualified.as_str()) {
            return None;
        }
        named_children(call.field("arguments")?).into_iter().next()
    }

    /// A nested function or lambda that mentions a local keeps it alive: a hand-off.
    fn captures(&mut self, node: Node, out: &mut Block) {
        let mut seen = HashSet::default();
        let mut stack = vec![(node, 0usize)];
        while let Some((current, depth)) = stack.pop() {
            if depth > MAX_DEPTH {
                continue;
            }
            if self.kinds.of(current) == Kind::Identifier
                && let Some(var) = self.known_var(text(current, self.src))
                && seen.insert(var)
            {
                out.push(Stmt::HandOff { var, how: HandOffHow::Store, span: span(current) });
            }
            for child in named_children(current) {
                stack.push((child, depth + 1));
            }
        }
    }

    // ----- expressions -----

    /// Lowers an expression used in `role`. Returns whether it emitted the binding for a
    /// `Role::Bind`.
    fn value(&mut self, node: Node<'s>, role: Role, out: &mut Block) -> bool {
        if !self.enter() {
            self.leave();
            return false;
        }
        let bound = self.value_inner(node, role, out);
        self.leave();
        bound
    }

    fn value_inner(&mut self, node: Node<'s>, role: Role, out: &mut Block) -> bool {
        match self.kinds.of(node) {
            Kind::Identifier => self.name(node, role, out),
            Kind::ParenthesizedExpression => match named_children(node).as_slice() {
                [inner] => self.value(*inner, role, out),
                children => {
                    for child in children {
                        self.value(*child, Role::Other, out);
                    }
                    false
                }
            },
            Kind::Await => {
                out.push(Stmt::Await { span: span(node) });
                match named_children(node).into_iter().next() {
                    Some(inner) => self.value(inner, role, out),
                    None => false,
                }
            }
            Kind::Call => self.call(node, role, out),
            Kind::Attribute => {
                if let Some(field) = self.self_field(node) {
                    match role {
                        Role::Return | Role::Store | Role::Yield => {
                            self.class_facts.exposed_fields.insert(field);
                        }
                        Role::Register => {
                            self.class_facts.closed_fields.insert(field);
                        }
                        Role::Bind(var) => {
                            self.field_aliases.insert(var, vec![field]);
                        }
                        _ => {}
                    }
                    return false;
                }
                if let Some(object) = node.field("object") {
                    let attribute = node.field("attribute").map(|a| text(a, self.src));
                    // `atexit.register(conn.close)`, `self.addCleanup(conn.close)`: the close is
                    // registered to run later.
                    let close_ref = attribute.is_some_and(|a| self.scope.roles.close_methods.contains(a))
                        && matches!(role, Role::Argument | Role::Register | Role::Store | Role::Bind(_));
                    if close_ref && self.kinds.of(object) == Kind::Identifier {
                        let var = self.var(text(object, self.src));
                        out.push(Stmt::HandOff { var, how: HandOffHow::Registered, span: span(node) });
                    } else if close_ref && let Some(field) = self.self_field(object) {
                        self.class_facts.closed_fields.insert(field);
                    } else {
                        self.value(object, Role::Receiver, out);
                    }
                }
                false
            }
            Kind::Yield => {
                self.yield_(node, out);
                false
            }
            Kind::ExpressionList | Kind::Tuple | Kind::List | Kind::Set => {
                let inner = match role {
                    Role::Return => Role::Return,
                    Role::Discard | Role::Other | Role::Receiver => Role::Other,
                    _ => Role::Store,
                };
                for child in named_children(node) {
                    self.value(child, inner, out);
                }
                false
            }
            Kind::Dictionary => {
                let inner = if role == Role::Return { Role::Return } else { Role::Store };
                for pair in named_children(node) {
                    for child in named_children(pair) {
                        self.value(child, inner, out);
                    }
                }
                false
            }
            Kind::ConditionalExpression => {
                let parts = named_children(node);
                let inner = if matches!(role, Role::Bind(_)) { Role::Store } else { role };
                for (i, part) in parts.into_iter().enumerate() {
                    self.value(part, if i == 1 { Role::Other } else { inner }, out);
                }
                false
            }
            Kind::BooleanOperator => {
                let inner = if role == Role::Other || role == Role::Discard { Role::Other } else { Role::Store };
                for child in named_children(node) {
                    self.value(child, inner, out);
                }
                false
            }
            Kind::NamedExpression => {
                if let (Some(name), Some(value)) = (node.field("name"), node.field("value")) {
                    let var = self.var(text(name, self.src));
                    self.bind(var, value, out);
                }
                false
            }
            Kind::Lambda => {
                self.captures(node, out);
                false
            }
            Kind::ListSplat | Kind::DictionarySplat | Kind::KeywordArgument => {
                let value = node.field("value").or_else(|| named_children(node).into_iter().last());
                if let Some(value) = value {
                    self.value(value, role, out);
                }
                false
            }
            Kind::ListComprehension
            | Kind::SetComprehension
            | Kind::DictionaryComprehension
            | Kind::GeneratorExpression => {
                for child in named_children(node) {
                    self.value(child, Role::Other, out);
                }
                false
            }
            _ => {
                for child in named_children(node) {
                    self.value(child, Role::Other, out);
                }
                false
            }
        }
    }

    fn name(&mut self, node: Node, role: Role, out: &mut Block) -> bool {
        let name = text(node, self.src);
        let at = span(node);
        match role {
            Role::Bind(dst) => {
                let src = self.var(name);
                out.push(Stmt::Assign { dst, src: Some(src), span: at });
                match self.local_syms.get(&src).cloned().or_else(|| self.scope.global_sym(&[name])) {
                    Some(sym) => self.local_syms.insert(dst, sym),
                    None => self.local_syms.remove(&dst),
                };
                if let Some(field) = self.field_aliases.get(&src).cloned() {
                    self.field_aliases.insert(dst, field);
                }
                true
            }
            Role::Return | Role::Store | Role::Register => {
                if let Some(var) = self.known_var(name) {
                    let how = match role {
                        Role::Return => HandOffHow::Return,
                        Role::Register => HandOffHow::Registered,
                        _ => HandOffHow::Store,
                    };
                    out.push(Stmt::HandOff { var, how, span: at });
                }
                false
            }
            Role::Yield => {
                if let Some(var) = self.known_var(name) {
                    self.yielded(var, at, out);
                }
                false
            }
            Role::Discard | Role::Receiver | Role::Argument | Role::Other => {
                if let Some(var) = self.known_var(name) {
                    out.push(Stmt::Use { var, span: at });
                }
                false
            }
        }
    }

    fn yield_(&mut self, node: Node<'s>, out: &mut Block) {
        let at = span(node);
        let is_from = node.children().any(|c| self.kinds.of(c) == Kind::From);
        match named_children(node).into_iter().next() {
            Some(value) if !is_from => {
                self.value(value, Role::Yield, out);
            }
            Some(value) => {
                self.value(value, Role::Other, out);
            }
            None => {}
        }
        if self.kind != FunctionKind::Fixture {
            // The consumer's exception (or GeneratorExit) arrives at the yield.
            self.raise_point(at, out);
        }
    }

    fn yielded(&mut self, var: Var, at: Span, out: &mut Block) {
        match self.kind {
            FunctionKind::ContextManager | FunctionKind::Fixture => out.push(Stmt::Use { var, span: at }),
            FunctionKind::Generator | FunctionKind::Plain => {
                out.push(Stmt::HandOff { var, how: HandOffHow::Yield, span: at })
            }
        }
    }

    fn call(&mut self, node: Node<'s>, role: Role, out: &mut Block) -> bool {
        let Some(function) = node.field("function") else { return false };
        let called = match self.kinds.of(function) {
            Kind::Attribute => function.field("attribute"),
            Kind::Identifier => Some(function),
            _ => None,
        };
        if let Some(called) = called {
            self.calls_fakes |= text(called, self.src)
                .as_bytes()
                .windows(4)
                .any(|w| w.eq_ignore_ascii_case(b"fake") || w.eq_ignore_ascii_case(b"mock"));
        }
        let callee = self.resolve_callee(function);
        let qualified = callee.as_ref().and_then(|c| self.resolve_now(c));
        let arguments: Vec<Node> = node.field("arguments").map(named_children).unwrap_or_default();
        let method = (self.kinds.of(function) == Kind::Attribute)
            .then(|| function.field("attribute").map(|a| text(a, self.src)))
            .flatten();
        let receiver = (self.kinds.of(function) == Kind::Attribute).then(|| function.field("object")).flatten();

        if let (Some(method), Some(receiver)) = (method, receiver) {
            let pooled = arguments.first().filter(|a| self.kinds.of(**a) == Kind::Identifier);
            if let Some(first) = pooled.filter(|_| self.scope.roles.pool_close_methods.contains(method)) {
                // `pool.putconn(conn)`, `pool.release(conn)`: closed through its pool.
                let var = self.var(text(*first, self.src));
                self.close(var, span(node), out);
                self.value(receiver, Role::Receiver, out);
                for argument in arguments.iter().skip(1) {
                    self.value(*argument, Role::Argument, out);
                }
                return false;
            }
            if self.scope.roles.close_methods.contains(method) {
                if self.kinds.of(receiver) == Kind::Identifier && !UNIVERSAL_CLOSE_METHODS.contains(&method) {
                    // `f.read()`: closes an HTTP response (read to the end), not a file; the
                    // checker asks what the resource's own close methods are.
                    let var = self.var(text(receiver, self.src));
                    let method = self.name_id(method);
                    out.push(Stmt::MethodCall { var, method, span: span(node) });
                } else if self.kinds.of(receiver) == Kind::Identifier {
                    let var = self.var(text(receiver, self.src));
                    self.close(var, span(node), out);
                } else if let Some(field) = self.self_field(receiver) {
                    self.class_facts.closed_fields.insert(field);
                } else {
                    // `OPEN(...).close()`: opened and closed at once; nothing to report.
                    self.value(receiver, Role::Register, out);
                }
                for argument in &arguments {
                    self.value(*argument, Role::Argument, out);
                }
                return false;
            }
            if ENTER_CONTEXT_METHODS.contains(&method) {
                self.value(receiver, Role::Receiver, out);
                return self.enter_context(node, &arguments, role, out);
            }
            if matches!(method, "__enter__" | "__aenter__") && self.kinds.of(receiver) == Kind::Identifier {
                // `x = conn.__enter__()` is `conn` again.
                return self.value(receiver, role, out);
            }
            if self.scope.roles.returns_self_methods.contains(method) {
                // `engine.connect().execution_options(...)` is the connection itself.
                for argument in &arguments {
                    self.value(*argument, Role::Argument, out);
                }
                return self.value(receiver, role, out);
            }
        }
        let site = callee.as_ref().map(|c| self.new_site(node, c, role, OpenedIn::Expression));
        self.call_inputs(node, qualified.as_deref().unwrap_or_default(), role, site, out);
        if qualified.as_deref().is_some_and(|q| self.scope.roles.close_functions.contains(q))
            && let Some(first) = arguments.first().filter(|a| self.kinds.of(**a) == Kind::Identifier)
        {
            // `os.close(fd)`, `shutil.rmtree(path)`
            let var = self.var(text(*first, self.src));
            self.close(var, span(node), out);
        }
        match (site, callee) {
            (Some(site), Some(callee)) => self.emit_open(node, site, callee, role, out),
            _ => false,
        }
    }

    /// Emits a close of `var`, and of the field it was read from.
    fn close(&mut self, var: Var, at: Span, out: &mut Block) {
        if let Some(fields) = self.field_aliases.get(&var).cloned() {
            self.class_facts.closed_fields.extend(fields);
        }
        out.push(Stmt::Close { var, span: at });
    }

    /// Lowers what a call reads: its receiver and its arguments, in the roles the callee gives
    /// them. A kept result of an opener method keeps its receiver reachable (a returned cursor
    /// keeps its connection); constructors and containers keep their arguments.
    /// `qualified` is what the call's function resolves to (`sqlite3.connect`), or empty.
    fn call_inputs(
        &mut self,
        call: Node<'s>,
        qualified: &str,
        result_role: Role,
        site: Option<SiteId>,
        out: &mut Block,
    ) {
        let Some(function) = call.field("function") else { return };
        let method = (self.kinds.of(function) == Kind::Attribute)
            .then(|| function.field("attribute").map(|a| text(a, self.src)))
            .flatten();
        match function.field("object").filter(|_| self.kinds.of(function) == Kind::Attribute) {
            Some(receiver)
                if self.kinds.of(receiver) == Kind::Identifier
                    && !result_role.keeps()
                    && self.known_var(text(receiver, self.src)).is_some() =>
            {
                // `conn.request(...)`: a lazily connecting client opens here (unless the call is
                // expected to fail).
                let var = self.var(text(receiver, self.src));
                if self.expecting_depth == 0 {
                    let method = self.name_id(method.unwrap_or_default());
                    out.push(Stmt::MethodCall { var, method, span: span(receiver) });
                }
            }
            Some(receiver) => {
                // A field stays its object's: returning `self.conn.cursor()` does not give it away.
                let keeps_receiver = result_role.keeps()
                    && method.is_some_and(|m| self.scope.roles.opener_methods.contains(m))
                    && self.self_field(receiver).is_none();
                self.value(receiver, if keeps_receiver { Role::Store } else { Role::Receiver }, out);
            }
            None => {
                self.value(function, Role::Other, out);
            }
        }
        let last_segment = qualified
            .rsplit('.')
            .next()
            .filter(|s| !s.is_empty())
            .or(method)
            .or_else(|| attribute_chain(function, self.src).and_then(|p| p.last().copied()))
            .unwrap_or_default();
        let argument_role = if REGISTERING_FUNCTIONS.contains(&qualified) {
            Role::Register
        } else if method == Some("__init__") {
            // `Base.__init__(self, sock)`, `super().__init__(sock)`: a constructor keeps it.
            Role::Store
        } else if self.scope.roles.handoff_functions.contains(qualified)
            || STORING_FUNCTIONS.contains(&qualified)
            || method.is_some_and(|m| STORING_METHODS.contains(&m) || self.scope.roles.handoff_functions.contains(m))
            || last_segment.starts_with(|c: char| c.is_ascii_uppercase())
            || is_factory_name(last_segment)
        {
            // Constructors and containers keep what they are given.
            Role::Store
        } else {
            Role::Argument
        };
        let Some(arguments) = call.field("arguments") else { return };
        let mut position = 0;
        for argument in named_children(arguments) {
            // A name passed to a call the project may know: the callee's summary decides
            // whether it borrows, closes or keeps it.
            let passed = match self.kinds.of(argument) {
                Kind::Identifier => {
                    position += 1;
                    Some((argument, Arg::Position(position - 1)))
                }
                Kind::KeywordArgument => argument
                    .field("value")
                    .filter(|v| self.kinds.of(*v) == Kind::Identifier)
                    .zip(argument.field("name"))
                    .map(|(value, name)| (value, Arg::Keyword(text(name, self.src)))),
                Kind::ListSplat | Kind::DictionarySplat => None,
                _ => {
                    position += 1;
                    None
                }
            };
            // `sock = wrap(sock)`: the old value goes into the new one.
            let rebinds_itself = matches!((result_role, passed.as_ref()), (Role::Bind(target), Some((value, _)))
                if self.known_var(text(*value, self.src)) == Some(target));
            if rebinds_itself {
                self.value(argument, Role::Store, out);
                continue;
            }
            if let (Some(call_site), Some(field)) = (site, self.self_field(peel(argument))) {
                let arg = match self.kinds.of(argument) {
                    Kind::KeywordArgument => argument.field("name").map(|n| Arg::Keyword(text(n, self.src).into())),
                    _ => Some(Arg::Position(position - 1)),
                };
                if let Some(arg) = arg {
                    self.class_facts.field_passes.push((field, call_site, arg));
                }
            }
            match (passed, site) {
                (Some((value, arg)), Some(call_site)) if argument_role == Role::Argument => {
                    if let Some(var) = self.known_var(text(value, self.src)) {
                        let arg = arg.map_name(|name| self.name_id(name));
                        out.push(Stmt::Pass { var, call: call_site, arg });
                    }
                }
                _ => {
                    self.value(argument, argument_role, out);
                }
            }
        }
    }

    /// `stack.enter_context(X)`: the stack's exit runs X's own `__exit__`, like a `with`.
    fn enter_context(&mut self, node: Node<'s>, arguments: &[Node<'s>], role: Role, out: &mut Block) -> bool {
        let Some(argument) = arguments.first().map(|a| peel(*a)) else { return false };
        let target = match role {
            Role::Bind(var) => Some(var),
            _ => None,
        };
        let (inner, exit) =
            match (self.kinds.of(argument) == Kind::Call).then(|| self.closing_argument(argument)).flatten() {
                Some(inner) => (peel(inner), WithExit::Closes),
                None => (argument, WithExit::OwnContextManager),
            };
        if let Some(field) = self.self_field(inner) {
            self.class_facts.closed_fields.insert(field);
            return false;
        }
        let first_site = self.sites.len();
        let held = self.held_value(inner, target, OpenedIn::EnterContext, out);
        if exit == WithExit::OwnContextManager
            && let Some(function) = node.child_by_field_name("function")
            && let Some(original) = arguments.first()
        {
            let receiver_plain =
                function.child_by_field_name("object").is_some_and(|o| attribute_chain(o, self.src).is_some());
            let is_async = function
                .child_by_field_name("attribute")
                .is_some_and(|m| text(m, self.src).to_ascii_lowercase().contains("async"));
            let layout = EnterContextLayout {
                argument: span(*original),
                method: receiver_plain.then(|| span(function)),
                is_async,
            };
            self.set_layout(first_site, OpenedIn::EnterContext, SiteLayout::EnterContext(layout));
        }
        let Some(held) = held else {
            return false;
        };
        out.push(Stmt::With(Box::new(WithBlock {
            items: vec![WithItem { var: held, exit, span: span(node) }],
            body: Block::new(),
            span: span(node),
        })));
        target.is_some()
    }

    /// Gives the layout to the site opened in `opened_in` among those created since `first_site`.
    fn set_layout(&mut self, first_site: usize, opened_in: OpenedIn, layout: SiteLayout) {
        if let Some(offset) = self.sites[first_site..].iter().rposition(|s| s.opened_in == opened_in) {
            let site = SiteId::try_from(first_site + offset).unwrap_or(SiteId::MAX);
            self.site_layouts.push((site, layout));
        }
    }

    /// Writes down a call that may open a resource, before its arguments are lowered (they may
    /// refer to it).
    fn new_site(&mut self, call: Node<'s>, callee: &Sym, role: Role, opened_in: OpenedIn) -> SiteId {
        let binding = match role {
            // A temporary of the lowering (`<temp 3>`) has no name in the text.
            Role::Bind(var) => self.var_names.get(var as usize).filter(|n| !n.starts_with('<')),
            _ => None,
        };
        let binding = binding.and_then(|name| self.interners.name(name));
        let receiver = call
            .field("function")
            .filter(|f| self.kinds.of(*f) == Kind::Attribute)
            .and_then(|f| f.field("object"))
            .and_then(|r| self.interners.name(text(r, self.src)));
        let site = SiteId::try_from(self.sites.len()).unwrap_or(SiteId::MAX - 1);
        let line = u32::try_from(call.start_row() + 1).unwrap_or(u32::MAX);
        let argument_hints = self.argument_hints(call);
        let callee = self.interners.callees.intern(callee, Sym::clone);
        self.sites.push(Site { span: span(call), callee, binding, opened_in, receiver, argument_hints, line });
        site
    }

    /// What the call is given, as far as some entry of the knowledge asks: a bit per hint (see
    /// [`NameRoles::hint_mask`]; most calls keep none or `#0`).
    fn argument_hints(&self, call: Node) -> u64 {
        let Some(arguments) = call.field("arguments") else { return 0 };
        let roles = self.scope.roles;
        let mut hints = 0;
        let mut hint = |hint: &str| hints |= roles.hint_bit(hint).unwrap_or(0);
        for (index, argument) in named_children(arguments).into_iter().enumerate() {
            // `#0`: a first positional argument is given (`smtplib.SMTP(host)` connects).
            if index == 0
                && !matches!(
                    self.kinds.of(argument),
                    Kind::KeywordArgument | Kind::ListSplat | Kind::DictionarySplat | Kind::None
                )
            {
                hint("#0");
            }
            let value = match self.kinds.of(argument) {
                Kind::KeywordArgument => {
                    if let Some(name) = argument.field("name") {
                        hint(text(name, self.src));
                    }
                    argument.field("value")
                }
                _ => Some(argument),
            };
            let Some(value) = value.map(peel) else { continue };
            // `urlopen("data:,")`: the scheme of a URL given as a literal (`scheme:data`).
            if index == 0
                && let Some(scheme) = string_literal_scheme(value, self.src)
            {
                hint(&format!("scheme:{scheme}"));
            }
            // A module constant: `stdout=subprocess.PIPE`.
            if let Some(parts) = attribute_chain(value, self.src)
                && self.known_var(parts[0]).is_none()
                && let Some(qualified) = self.imports.resolve_over(&self.scope.imports, &parts)
            {
                hint(&qualified);
            }
            let sym = match self.kinds.of(value) {
                Kind::Call => value.field("function").and_then(|f| self.resolve_callee(f)).map(Sym::call),
                Kind::Identifier => {
                    self.known_var(text(value, self.src)).and_then(|v| self.local_syms.get(&v).cloned())
                }
                _ => None,
            };
            if let Some(Sym::Call(callee)) = sym
                && let Some(qualified) = self.resolve_now(&callee)
            {
                hint(&qualified);
            }
        }
        hints
    }

    /// Emits the open of `site`, used in `role`. Returns whether it bound a `Role::Bind` name.
    fn emit_open(&mut self, call: Node<'s>, site: SiteId, callee: Sym, role: Role, out: &mut Block) -> bool {
        let at = span(call);
        self.last_site = Some(site);
        match role {
            Role::Bind(var) => {
                self.local_syms.insert(var, callee.call());
                self.field_aliases.remove(&var);
                self.resource_names.insert(var);
                let owner = self.receiver_var(call);
                out.push(Stmt::Open { site, target: MaybeVar::from(var), owner: owner.into(), span: at });
                if self.expecting_depth > 0 {
                    // Expected to raise, or a mock: not a resource of this function's.
                    out.push(Stmt::HandOff { var, how: HandOffHow::Store, span: at });
                }
                true
            }
            Role::Receiver => {
                out.push(Stmt::Open { site, target: MaybeVar::NONE, owner: MaybeVar::NONE, span: at });
                false
            }
            Role::Discard | Role::Store | Role::Register | Role::Argument | Role::Other if !ends_in_binding(out) => {
                // Opened and handed off at once, under a name nothing else mentions: no
                // statement of the function can observe it, and the checker would find it
                // given away. Most calls are such (every call passed as an argument), so the
                // pair is not kept. After a binding it is kept all the same: it separates the
                // binding from the point where the statement can raise (see
                // `with_may_raise`).
                false
            }
            Role::Discard => {
                // A bare `OPEN(...)` statement is most often a test that expects it to raise
                // (`with pytest.raises(...): sqlite3.connect(bad)`), or a process started and
                // left to run: not reported.
                let temp = self.temp();
                out.push(Stmt::Open { site, target: MaybeVar::from(temp), owner: MaybeVar::NONE, span: at });
                out.push(Stmt::HandOff { var: temp, how: HandOffHow::Store, span: at });
                false
            }
            Role::Return | Role::Yield | Role::Store | Role::Register | Role::Argument | Role::Other => {
                let temp = self.temp();
                out.push(Stmt::Open { site, target: MaybeVar::from(temp), owner: MaybeVar::NONE, span: at });
                match role {
                    Role::Return => out.push(Stmt::HandOff { var: temp, how: HandOffHow::Return, span: at }),
                    Role::Yield => self.yielded(temp, at, out),
                    _ => out.push(Stmt::HandOff { var: temp, how: HandOffHow::Store, span: at }),
                }
                false
            }
        }
    }

    /// The local a method call is made on (`pool` in `pool.acquire()`): what it opens is
    /// released with it.
    fn receiver_var(&self, call: Node) -> Option<Var> {
        let receiver = call.field("function").filter(|f| self.kinds.of(*f) == Kind::Attribute)?;
        let object = receiver.field("object").filter(|o| self.kinds.of(*o) == Kind::Identifier)?;
        self.known_var(text(object, self.src))
    }

    /// What a callee is: a local's value, a field or method of `self`, a nested def, or a
    /// module-level name (import, definition, global), with the attributes after it.
    fn resolve_callee(&self, function: Node) -> Option<Sym> {
        let function = peel(function);
        if self.kinds.of(function) == Kind::Attribute
            && let Some(object) = function.field("object").map(peel)
            && self.kinds.of(object) == Kind::Call
        {
            let attribute = text(function.field("attribute")?, self.src);
            let inner = self.resolve_callee(object.field("function")?)?;
            return Some(inner.call().attr(attribute));
        }
        let parts = attribute_chain(function, self.src)?;
        let (root, rest) = parts.split_first()?;
        let attach = |base: Sym| rest.iter().fold(base, |sym, part| sym.attr(part));
        if matches!(*root, "self" | "cls")
            && let Some(class) = self.class
        {
            return callee_sym(function, self.src, self.scope, Some(class));
        }
        if let Some(var) = self.known_var(root) {
            // A local shadows every outer name. A method of an unknown value is still written
            // down: the knowledge may recognise it by its name (`pool.getconn()`).
            return match self.local_syms.get(&var) {
                Some(sym) => Some(attach(sym.clone())),
                None if !rest.is_empty() => Some(attach(Sym::Unknown)),
                None => None,
            };
        }
        if let Some(qualified) = self.local_definitions.get(*root) {
            return Some(attach(Sym::name(qualified.clone())));
        }
        if let Some(qualified) = self.imports.get_over(&self.scope.imports, root)
            && self.scope.imports.get(root) != Some(qualified)
        {
            // Imported inside this function.
            return Some(attach(Sym::name(qualified)));
        }
        match self.scope.global_sym(&parts) {
            Some(sym) => Some(sym),
            // A method of something unknown (a global set elsewhere, a builtin).
            None if !rest.is_empty() => Some(attach(Sym::Unknown)),
            // A builtin function: `open(fd)` takes a raw descriptor over.
            None if BUILTINS.contains(root) => Some(Sym::name(*root)),
            None => None,
        }
    }

    /// The symbol of a returned expression, for the function's summary.
    fn value_sym(&self, value: Node) -> Option<Sym> {
        let value = peel(value);
        match self.kinds.of(value) {
            Kind::Call => Some(self.resolve_callee(value.field("function")?)?.call()),
            Kind::Identifier | Kind::Attribute => {
                let parts = attribute_chain(value, self.src)?;
                let (root, rest) = parts.split_first()?;
                let base = match self.known_var(root) {
                    Some(var) => self.local_syms.get(&var).cloned()?,
                    None => match self.imports.get_over(&self.scope.imports, root) {
                        Some(qualified) => Sym::name(qualified),
                        None => self.scope.global_sym(&[root])?,
                    },
                };
                Some(rest.iter().fold(base, |sym, part| sym.attr(part)))
            }
            _ => None,
        }
    }
}

/// The scheme of a URL written as a plain string literal (`"data:,"` gives `data`).
fn string_literal_scheme<'s>(node: Node, src: &'s str) -> Option<&'s str> {
    let kinds = KindTable::get();
    if kinds.of(node) != Kind::String || named_children(node).iter().any(|c| kinds.of(*c) == Kind::Interpolation) {
        return None;
    }
    let literal = text(node, src);
    let body = literal.trim_start_matches(|c: char| c.is_ascii_alphabetic()).trim_start_matches(['"', '\'']);
    let (scheme, _) = body.split_once(':')?;
    let valid = scheme.len() > 1 && scheme.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
    valid.then_some(scheme)
}

/// Whether a module is test code by its path and dotted name: named `test_*.py`, `*_test.py`,
/// `tests.py` or `conftest.py`, or in a `tests`/`testing` package or folder, or under a top
/// `test` package or folder (not a library's `mylib.test` helpers, which are library code).
fn to_u32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

pub fn is_test_path(path: &str, module: &str) -> bool {
    let parts: Vec<&str> = path.split(['/', '\\']).collect();
    let Some((file, folders)) = parts.split_last() else { return false };
    let stem = file.strip_suffix(".py").unwrap_or(file);
    let packages: Vec<&str> = module.split('.').collect();
    // Folders above the package (`tests/unit/` holding scripts) count by their names; inside
    // a package, `tests` and `testing` do, and `test` only as the top package (CPython's
    // `test.test_os`), not as a library's own package of test helpers (`django.test`).
    let above_package = folders.len().saturating_sub(packages.len().saturating_sub(1));
    folders[..above_package].iter().any(|f| matches!(*f, "test" | "tests" | "testing"))
        || packages[..packages.len().saturating_sub(1)].iter().any(|p| matches!(*p, "tests" | "testing"))
        || (packages.len() > 1 && packages[0] == "test")
        || stem.starts_with("test_")
        || stem.ends_with("_test")
        || matches!(stem, "tests" | "conftest")
}

/// Methods that close whatever resource they are called on; other close methods of the
/// knowledge (`read`, `quit`, `wait`) close only the resources that list them.
const UNIVERSAL_CLOSE_METHODS: &[&str] = &["close", "__exit__", "__aexit__", "aclose"];

/// `TestUsers`, `UsersTest`, `UsersTests`, `UsersTestCase`.
fn is_test_class(name: &str) -> bool {
    name.starts_with("Test") || name.ends_with("Test") || name.ends_with("Tests") || name.ends_with("TestCase")
}

/// `connection_factory`, `protocol_class`: a callable that makes objects, which keep what they
/// are given, like a constructor.
fn is_factory_name(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    lower.ends_with("factory") || lower.ends_with("_class") || lower.ends_with("_cls") || lower.ends_with("handler")
}

/// A body that only says "an override does this": docstring, `pass`, `...`,
/// `raise NotImplementedError`; or an `@abstractmethod`.
/// Whether `block` ends in a binding: the statements [`FnLowerer::with_may_raise`] puts after
/// the point where a statement can raise.
fn ends_in_binding(block: &Block) -> bool {
    block.last().is_some_and(is_binding)
}

/// Whether `stmt` binds a name: an `Open` with a target, or an `Assign`.
fn is_binding(stmt: &Stmt) -> bool {
    match stmt {
        Stmt::Open { target, .. } => target.is_some(),
        Stmt::Assign { .. } => true,
        _ => false,
    }
}

fn is_abstract(decorators: &[Node], body: Node, src: &str) -> bool {
    let kinds = KindTable::get();
    if decorators.iter().any(|d| text(*d, src).contains("abstractmethod")) {
        return true;
    }
    named_children(body).into_iter().all(|stmt| match kinds.of(stmt) {
        Kind::PassStatement => true,
        Kind::ExpressionStatement => named_children(stmt)
            .into_iter()
            .all(|e| matches!(kinds.of(e), Kind::String | Kind::Ellipsis | Kind::ConcatenatedString)),
        Kind::RaiseStatement => text(stmt, src).contains("NotImplementedError"),
        _ => false,
    })
}

/// `x is None`, `x is not None`, `x == None`, `x != None`, and any identity test of two names
/// (`x is not _SENTINEL`): none of them can raise.
fn is_null_comparison(node: Node, src: &str) -> bool {
    let kinds = KindTable::get();
    let parts = named_children(node);
    let operators: Vec<&str> = node.children().filter(|c| !c.is_named()).map(|c| text(c, src)).collect();
    let identity = !operators.is_empty() && operators.iter().all(|op| matches!(*op, "is" | "not" | "is not"));
    let simple = |n: &Node| {
        matches!(kinds.of(*n), Kind::Identifier | Kind::None | Kind::True | Kind::False) || is_plain_literal(*n)
    };
    if identity && parts.len() == 2 && parts.iter().all(simple) {
        return true;
    }
    is_none_comparison(node, src)
}

fn is_none_comparison(node: Node, src: &str) -> bool {
    let kinds = KindTable::get();
    let parts = named_children(node);
    parts.len() == 2 && kinds.of(parts[0]) == Kind::Identifier && kinds.of(parts[1]) == Kind::None && {
        node.children().filter(|c| !c.is_named()).all(|c| matches!(text(c, src), "is" | "not" | "is not" | "==" | "!="))
    }
}

/// Whether a function body yields (not counting nested functions and classes).
fn contains_yield(node: Node, depth: usize) -> bool {
    let kinds = KindTable::get();
    if depth > MAX_DEPTH {
        return false;
    }
    named_children(node).into_iter().any(|child| match kinds.of(child) {
        Kind::Yield => true,
        Kind::FunctionDefinition | Kind::ClassDefinition | Kind::DecoratedDefinition | Kind::Lambda => false,
        _ => contains_yield(child, depth + 1),
    })
}

/// The names of the `def`s nested in a function body (not inside their own bodies).
fn nested_definition_names(body: Node, src: &str) -> Vec<String> {
    let kinds = KindTable::get();
    let mut names = Vec::new();
    let mut stack = vec![(body, 0usize)];
    while let Some((node, depth)) = stack.pop() {
        if depth > MAX_DEPTH {
            continue;
        }
        for child in named_children(node) {
            match kinds.of(child) {
                Kind::FunctionDefinition => {
                    if let Some(name) = child.field("name") {
                        names.push(text(name, src).to_string());
                    }
                }
                Kind::DecoratedDefinition => {
                    if let Some(name) = child.field("definition").and_then(|d| d.field("name")) {
                        names.push(text(name, src).to_string());
                    }
                }
                Kind::ClassDefinition | Kind::Lambda => {}
                kind if may_hold_statements(kind) || node.is_error() => stack.push((child, depth + 1)),
                _ => {}
            }
        }
    }
    names
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::python::syntax::kind_name;

    /// [`may_hold_statements`] lists the kinds its rule names: every statement and clause of the
    /// grammar, whatever its id. Hidden kinds (`_simple_statement`) are left out: no node has one.
    #[test]
    fn the_kinds_that_may_hold_statements_are_every_statement_and_clause() {
        let kinds = KindTable::get();
        let language: tree_sitter::Language = tree_sitter_python::LANGUAGE.into();
        let count = u16::try_from(language.node_kind_count()).expect("fewer than 65535 kinds");
        let node_kinds = (0..count).filter(|id| language.node_kind_is_visible(*id)).chain([u16::MAX]);
        for id in node_kinds {
            let name = kind_name(id);
            let by_name = matches!(
                name,
                "module" | "block" | "ERROR" | "decorated_definition" | "function_definition" | "class_definition"
            ) || name.ends_with("_statement")
                || name.ends_with("_clause");
            assert_eq!(may_hold_statements(kinds.of_id(id)), by_name, "{name:?} (id {id})");
        }
    }

    /// The statements of the only function of `source`, one letter each, nested blocks in
    /// brackets: `O` open, `H` hand-off, `P` pass, `R` may raise, `U` use, `A` assign.
    fn statements_of(source: &str) -> String {
        fn letters(block: &[Stmt], out: &mut String) {
            for stmt in block {
                out.push(match stmt {
                    Stmt::Open { .. } => 'O',
                    Stmt::HandOff { .. } => 'H',
                    Stmt::Pass { .. } => 'P',
                    Stmt::MayRaise { .. } => 'R',
                    Stmt::Use { .. } => 'U',
                    Stmt::Assign { .. } => 'A',
                    Stmt::Return { .. } => 'T',
                    _ => '?',
                });
                stmt.for_each_child_block(|inner| {
                    out.push('[');
                    letters(inner, out);
                    out.push(']');
                });
            }
        }
        let knowledge = crate::python::knowledge::Knowledge::builtin();
        let info = crate::ModuleInfo { name: "m", package: None };
        let unit = crate::python::project::lower_unit("m.py", info, source, knowledge);
        let [function] = unit.lowered.functions.as_slice() else { panic!("one function in {source:?}") };
        let mut out = String::new();
        letters(&function.ir.body, &mut out);
        out
    }

    /// A call whose result is handed off at once under a name nothing mentions (an argument, a
    /// bare call, a stored value) leaves no open of its own: only what it is given and where it
    /// can raise. Its site is kept for the call's arguments (`P`).
    #[test]
    fn a_call_handed_off_at_once_leaves_no_statement() {
        assert_eq!(statements_of("import os\ndef f(x):\n    os.g(x)\n"), "PR");
        assert_eq!(statements_of("import os\ndef f(x):\n    os.g(os.h(x))\n"), "PR");
        assert_eq!(statements_of("import os\ndef f(x):\n    x.y = os.g()\n"), "UR");
        // Bound or returned, it is kept.
        assert_eq!(statements_of("import os\ndef f(x):\n    y = os.g(x)\n    return y\n"), "PROHT");
        assert_eq!(statements_of("import os\ndef f():\n    return os.g()\n"), "OHRT");
        // After a binding of the same statement it is kept: the point where the statement can
        // raise comes after it, with `y` bound.
        assert_eq!(statements_of("import os\ndef f(x):\n    y, x.z = os.g(), os.h()\n"), "OOHR");
    }
}
