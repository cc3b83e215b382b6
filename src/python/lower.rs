//! Lowering: a tree-sitter-python tree becomes one resource-IR [`Function`] per `def`.
//!
//! The lowering decides what each piece of syntax means for a resource: which calls open one
//! (through imports and the knowledge base), which close it, where it is handed off, which
//! statements can raise. It knows nothing about diagnostics; [`super::rules`] turns the
//! checker's findings into them.
//!
//! Module-level code is not lowered: a script's module-level resources live as long as the
//! process, which owns them.

use std::collections::{HashMap, HashSet};

use tree_sitter::Node;

use super::knowledge::{Knowledge, ResourceId, Returns};
use super::names::Imports;
use super::syntax::{attribute_chain, is_plain_literal, named_children, peel, span, text};
use crate::diagnostic::Span;
use crate::ir::{Block, Function, HandOffHow, NullTest, SiteId, Stmt, Var, WithExit, WithItem};

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

/// Calls that take a resource (or its close method) and see to its closing.
const REGISTERING_FUNCTIONS: &[&str] =
    &["contextlib.closing", "contextlib.aclosing", "atexit.register", "weakref.finalize", "functools.partial"];

/// Calls whose `with` closes the resource they wrap.
const CLOSING_WRAPPERS: &[&str] = &["contextlib.closing", "contextlib.aclosing"];

const ENTER_CONTEXT_METHODS: &[&str] = &["enter_context", "enter_async_context"];

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

/// One place where a resource is opened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Site {
    /// The open call.
    pub span: Span,
    /// The qualified name the call resolved to (`sqlite3.connect`).
    pub callee: String,
    pub resource: ResourceId,
    /// The name the resource was bound to, if any.
    pub binding: Option<String>,
    /// Where the open call sits.
    pub opened_in: OpenedIn,
}

/// The syntactic place of an open call, for messages and fixes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpenedIn {
    /// Anywhere but the two below.
    Expression,
    /// The expression of a `with` item, or the argument of `closing(...)` there.
    WithItem,
    /// The argument of `ExitStack.enter_context(...)`.
    EnterContext,
}

#[derive(Debug, Clone)]
pub struct LoweredFunction {
    pub ir: Function,
    pub kind: FunctionKind,
}

#[derive(Debug, Clone, Default)]
pub struct LoweredModule {
    pub functions: Vec<LoweredFunction>,
    pub sites: Vec<Site>,
}

/// What the whole module tells a function body: imports, and the types of module globals and
/// of `self.x` fields.
struct ModuleScope<'a> {
    knowledge: &'a Knowledge,
    imports: Imports,
    global_types: HashMap<String, String>,
    close_methods: HashSet<&'a str>,
    close_functions: HashSet<&'a str>,
    handoff_functions: HashSet<&'a str>,
    /// Close methods called on a pool with the checkout as argument: `pool.putconn(conn)`.
    pool_close_methods: HashSet<&'a str>,
}

/// Lowers every function of a parsed module.
pub fn lower_module<'t>(root: Node<'t>, src: &'t str, knowledge: &Knowledge, package: Option<&str>) -> LoweredModule {
    let mut imports = Imports::default();
    collect_imports(root, src, package, knowledge, &mut imports, 0);
    let mut scope = ModuleScope {
        knowledge,
        imports,
        global_types: HashMap::new(),
        close_methods: HashSet::new(),
        close_functions: HashSet::new(),
        handoff_functions: HashSet::new(),
        pool_close_methods: HashSet::new(),
    };
    for resource in &knowledge.resources {
        for close in &resource.close {
            if close.contains('.') {
                scope.close_functions.insert(close);
            } else {
                scope.close_methods.insert(close);
            }
        }
        scope.handoff_functions.extend(resource.handoff.iter().map(String::as_str));
        if resource.is_pool_checkout() {
            scope.pool_close_methods.extend(resource.close.iter().map(String::as_str));
        }
    }
    scope.close_methods.extend(["__exit__", "__aexit__", "aclose"]);
    scope.global_types = module_global_types(root, src, &scope);

    let mut module = LoweredModule::default();
    let mut pending: Vec<(Node<'t>, Option<HashMap<String, String>>)> = Vec::new();
    queue_definitions(root, src, &scope, None, &mut pending, 0);
    while let Some((def, fields)) = pending.pop() {
        let mut lowerer = FnLowerer::new(src, &scope, &mut module.sites, fields.as_ref());
        if let Some(function) = lowerer.function(def) {
            module.functions.push(function);
        }
        let nested = std::mem::take(&mut lowerer.nested);
        for inner in nested {
            queue_definitions_in(inner, src, &scope, fields.clone(), &mut pending);
        }
    }
    module.functions.sort_by_key(|f| f.ir.span.start);
    module
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
    if depth > MAX_DEPTH {
        return;
    }
    for child in named_children(node) {
        match child.kind() {
            "import_statement" | "import_from_statement" => imports.add_statement(child, src, package, knowledge),
            "function_definition"
            | "class_definition"
            | "decorated_definition"
            | "block"
            | "if_statement"
            | "try_statement"
            | "with_statement"
            | "else_clause"
            | "except_clause"
            | "finally_clause"
            | "elif_clause"
            | "for_statement"
            | "while_statement" => collect_imports(child, src, package, knowledge, imports, depth + 1),
            _ => {}
        }
    }
}

/// Module-level `name = CALL(...)` whose call has a known type (a module-wide pool).
fn module_global_types(root: Node, src: &str, scope: &ModuleScope) -> HashMap<String, String> {
    let mut types = HashMap::new();
    for stmt in named_children(root) {
        if stmt.kind() != "expression_statement" {
            continue;
        }
        for assignment in named_children(stmt).into_iter().filter(|n| n.kind() == "assignment") {
            let (Some(left), Some(right)) =
                (assignment.child_by_field_name("left"), assignment.child_by_field_name("right"))
            else {
                continue;
            };
            if left.kind() != "identifier" {
                continue;
            }
            let right = peel(right);
            if right.kind() != "call" {
                continue;
            }
            let Some(function) = right.child_by_field_name("function") else { continue };
            let Some(parts) = attribute_chain(function, src) else { continue };
            if let Some(qualified) = scope.imports.resolve(&parts)
                && let Some(type_name) = scope.knowledge.type_of_call(&qualified)
            {
                types.insert(text(left, src).to_string(), type_name.to_string());
            }
        }
    }
    types
}

/// Finds the `def`s directly under `node` (module, class bodies), with the field types of the
/// class they belong to.
fn queue_definitions<'t>(
    node: Node<'t>,
    src: &str,
    scope: &ModuleScope,
    fields: Option<HashMap<String, String>>,
    out: &mut Vec<(Node<'t>, Option<HashMap<String, String>>)>,
    depth: usize,
) {
    if depth > MAX_DEPTH {
        return;
    }
    for child in named_children(node) {
        match child.kind() {
            "function_definition" | "decorated_definition" | "class_definition" => {
                queue_definitions_in(child, src, scope, fields.clone(), out)
            }
            // Definitions under module-level `if`/`try` blocks are still module functions.
            "if_statement" | "try_statement" | "block" | "else_clause" | "elif_clause" | "except_clause"
            | "finally_clause" | "with_statement" => {
                queue_definitions(child, src, scope, fields.clone(), out, depth + 1)
            }
            _ => {}
        }
    }
}

fn queue_definitions_in<'t>(
    def: Node<'t>,
    src: &str,
    scope: &ModuleScope,
    fields: Option<HashMap<String, String>>,
    out: &mut Vec<(Node<'t>, Option<HashMap<String, String>>)>,
) {
    let inner = if def.kind() == "decorated_definition" { def.child_by_field_name("definition") } else { Some(def) };
    let Some(inner) = inner else { return };
    match inner.kind() {
        "function_definition" => out.push((def, fields)),
        "class_definition" => {
            if let Some(body) = inner.child_by_field_name("body") {
                let fields = class_field_types(body, src, scope);
                queue_definitions(body, src, scope, Some(fields), out, 0);
            }
        }
        _ => {}
    }
}

/// `self.x = CALL(...)` in any method of a class, where the call's type is known.
fn class_field_types(body: Node, src: &str, scope: &ModuleScope) -> HashMap<String, String> {
    let mut fields = HashMap::new();
    let mut stack = vec![(body, 0usize)];
    while let Some((node, depth)) = stack.pop() {
        if depth > MAX_DEPTH {
            continue;
        }
        if node.kind() == "assignment"
            && let (Some(left), Some(right)) = (node.child_by_field_name("left"), node.child_by_field_name("right"))
            && let Some(parts) = attribute_chain(left, src)
            && parts.len() == 2
            && parts[0] == "self"
        {
            let right = peel(right);
            if right.kind() == "call"
                && let Some(function) = right.child_by_field_name("function")
                && let Some(chain) = attribute_chain(function, src)
                && let Some(qualified) = scope.imports.resolve(&chain)
                && let Some(type_name) = scope.knowledge.type_of_call(&qualified)
            {
                fields.insert(parts[1].to_string(), type_name.to_string());
            }
        }
        if node.kind() == "class_definition" && depth > 0 {
            continue;
        }
        for child in named_children(node) {
            stack.push((child, depth + 1));
        }
    }
    fields
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

struct FnLowerer<'a, 's> {
    src: &'s str,
    scope: &'a ModuleScope<'a>,
    sites: &'a mut Vec<Site>,
    fields: Option<&'a HashMap<String, String>>,
    imports: Imports,
    vars: HashMap<String, Var>,
    local_types: HashMap<Var, String>,
    /// Names declared `global` or `nonlocal`: binding one stores the value outside.
    outer_names: HashSet<String>,
    /// Names bound by an open in this function; setting their attributes cannot raise.
    resource_names: HashSet<Var>,
    kind: FunctionKind,
    /// Nested `def`s and classes, lowered as functions of their own.
    nested: Vec<Node<'s>>,
    depth: usize,
    too_deep: bool,
}

impl<'a, 's> FnLowerer<'a, 's> {
    fn new(
        src: &'s str,
        scope: &'a ModuleScope<'a>,
        sites: &'a mut Vec<Site>,
        fields: Option<&'a HashMap<String, String>>,
    ) -> Self {
        FnLowerer {
            src,
            scope,
            sites,
            fields,
            imports: scope.imports.clone(),
            vars: HashMap::new(),
            local_types: HashMap::new(),
            outer_names: HashSet::new(),
            resource_names: HashSet::new(),
            kind: FunctionKind::Plain,
            nested: Vec::new(),
            depth: 0,
            too_deep: false,
        }
    }

    fn function(&mut self, def: Node<'s>) -> Option<LoweredFunction> {
        let (decorators, inner) = if def.kind() == "decorated_definition" {
            let decorators: Vec<Node> = named_children(def).into_iter().filter(|n| n.kind() == "decorator").collect();
            (decorators, def.child_by_field_name("definition")?)
        } else {
            (Vec::new(), def)
        };
        let name = text(inner.child_by_field_name("name")?, self.src).to_string();
        let body = inner.child_by_field_name("body")?;
        if inner.has_error() {
            // The parse-error diagnostic covers it; a half-parsed body would mislead the checker.
            return None;
        }
        self.kind = self.function_kind(&decorators, body);
        if let Some(params) = inner.child_by_field_name("parameters") {
            self.parameters(params);
        }
        let header_end = body.start_byte();
        let ir_body = self.block(body);
        if self.too_deep {
            return None;
        }
        let var_count = u32::try_from(self.vars.len()).unwrap_or(u32::MAX);
        Some(LoweredFunction {
            ir: Function { name, span: Span::new(inner.start_byte(), header_end), body: ir_body, var_count },
            kind: self.kind,
        })
    }

    fn function_kind(&self, decorators: &[Node], body: Node) -> FunctionKind {
        for decorator in decorators {
            let Some(expr) = named_children(*decorator).into_iter().next() else { continue };
            let expr = if expr.kind() == "call" { expr.child_by_field_name("function").unwrap_or(expr) } else { expr };
            let Some(parts) = attribute_chain(expr, self.src) else { continue };
            let qualified = self.imports.resolve(&parts).unwrap_or_else(|| parts.join("."));
            match qualified.as_str() {
                "contextlib.contextmanager" | "contextlib.asynccontextmanager" => return FunctionKind::ContextManager,
                "pytest.fixture" | "pytest_asyncio.fixture" | "pytest.yield_fixture" => return FunctionKind::Fixture,
                _ => {}
            }
        }
        if contains_yield(body, 0) { FunctionKind::Generator } else { FunctionKind::Plain }
    }

    /// Parameter annotations give types: `pool: asyncpg.Pool`.
    fn parameters(&mut self, params: Node) {
        for param in named_children(params) {
            if !matches!(param.kind(), "typed_parameter" | "typed_default_parameter") {
                continue;
            }
            let name_node = param.child_by_field_name("name").or_else(|| named_children(param).into_iter().next());
            let (Some(name_node), Some(annotation)) = (name_node, param.child_by_field_name("type")) else { continue };
            if name_node.kind() != "identifier" {
                continue;
            }
            if let Some(type_name) = self.annotation_type(annotation) {
                let var = self.var(text(name_node, self.src));
                self.local_types.insert(var, type_name);
            }
        }
    }

    fn annotation_type(&self, annotation: Node) -> Option<String> {
        let mut node = named_children(annotation).into_iter().next().unwrap_or(annotation);
        // `Optional[X]` and `X | None` name the type X.
        loop {
            match node.kind() {
                "generic_type" => {
                    let inner = named_children(node).into_iter().find(|n| n.kind() == "type_parameter")?;
                    let first = named_children(inner).into_iter().next()?;
                    node = named_children(first).into_iter().next().unwrap_or(first);
                }
                "binary_operator" => {
                    node = named_children(node).into_iter().find(|n| n.kind() != "none")?;
                }
                "type" => node = named_children(node).into_iter().next()?,
                _ => break,
            }
        }
        let parts = attribute_chain(node, self.src)?;
        let qualified = self.imports.resolve(&parts)?;
        let knowledge = self.scope.knowledge;
        Some(knowledge.type_of_call(&qualified).map_or(qualified.clone(), str::to_string))
    }

    fn var(&mut self, name: &str) -> Var {
        let next = u32::try_from(self.vars.len()).unwrap_or(u32::MAX);
        *self.vars.entry(name.to_string()).or_insert(next)
    }

    fn temp(&mut self) -> Var {
        let name = format!("<temp {}>", self.vars.len());
        self.var(&name)
    }

    fn known_var(&self, name: &str) -> Option<Var> {
        self.vars.get(name).copied()
    }

    // ----- statements -----

    fn block(&mut self, node: Node<'s>) -> Block {
        let mut out = Block::new();
        if self.enter() {
            let statements = if node.kind() == "block" { named_children(node) } else { vec![node] };
            for stmt in statements {
                self.stmt(stmt, &mut out);
            }
        }
        self.leave();
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
        match node.kind() {
            "expression_statement" => {
                for expr in named_children(node) {
                    self.may_raise(expr, out);
                    match expr.kind() {
                        "assignment" => self.assignment(expr, out),
                        "augmented_assignment" => {
                            if let Some(right) = expr.child_by_field_name("right") {
                                self.value(right, Role::Other, out);
                            }
                        }
                        "string" | "concatenated_string" => {}
                        _ => {
                            self.value(expr, Role::Discard, out);
                        }
                    }
                }
            }
            "return_statement" => {
                if let Some(value) = named_children(node).into_iter().next() {
                    self.may_raise(value, out);
                    self.value(value, Role::Return, out);
                }
                out.push(Stmt::Return { span: at });
            }
            "raise_statement" => {
                for expr in named_children(node) {
                    self.value(expr, Role::Other, out);
                }
                out.push(Stmt::Raise { span: at });
            }
            "break_statement" => out.push(Stmt::Break),
            "continue_statement" => out.push(Stmt::Continue),
            "if_statement" => self.if_statement(node, out),
            "for_statement" => self.for_statement(node, out),
            "while_statement" => self.while_statement(node, out),
            "try_statement" => self.try_statement(node, out),
            "with_statement" => self.with_statement(node, out),
            "match_statement" => self.match_statement(node, out),
            "function_definition" | "decorated_definition" | "class_definition" => {
                self.captures(node, out);
                self.nested.push(node);
            }
            "global_statement" | "nonlocal_statement" => {
                for name in named_children(node) {
                    self.outer_names.insert(text(name, self.src).to_string());
                }
            }
            "delete_statement" => {
                // `del x` drops the name on purpose; the object is finalised when unreferenced.
                for target in named_children(node)
                    .into_iter()
                    .flat_map(|n| if n.kind() == "expression_list" { named_children(n) } else { vec![n] })
                {
                    if target.kind() == "identifier"
                        && let Some(var) = self.known_var(text(target, self.src))
                    {
                        out.push(Stmt::HandOff { var, how: HandOffHow::Store, span: span(target) });
                    }
                }
            }
            "import_statement" | "import_from_statement" => {
                out.push(Stmt::MayRaise { span: at });
                self.imports.add_statement(node, self.src, None, self.scope.knowledge);
            }
            "pass_statement" | "future_import_statement" | "type_alias_statement" | "comment" => {}
            _ => {
                // assert, print/exec (Python 2), anything new: evaluate it, it can raise.
                out.push(Stmt::MayRaise { span: at });
                for expr in named_children(node) {
                    self.value(expr, Role::Other, out);
                }
            }
        }
    }

    fn may_raise(&self, node: Node, out: &mut Block) {
        if self.can_raise(node) {
            out.push(Stmt::MayRaise { span: span(node) });
        }
    }

    /// Whether evaluating a statement's expression can raise. The list of things that cannot is
    /// kept small on purpose (see rules/CL103.md): names, literals, null tests, assignments of
    /// those, attribute sets on the resource itself, and close calls.
    fn can_raise(&self, node: Node) -> bool {
        match node.kind() {
            "identifier" => false,
            "assignment" => {
                let (Some(left), Some(right)) = (node.child_by_field_name("left"), node.child_by_field_name("right"))
                else {
                    return false;
                };
                let simple_right = is_plain_literal(right) || right.kind() == "identifier";
                match left.kind() {
                    "identifier" | "pattern_list" | "tuple_pattern" => !simple_right,
                    "attribute" => {
                        let on_resource = left
                            .child_by_field_name("object")
                            .filter(|o| o.kind() == "identifier")
                            .and_then(|o| self.known_var(text(o, self.src)))
                            .is_some_and(|v| self.resource_names.contains(&v));
                        let dotted_right = simple_right || attribute_chain(right, self.src).is_some();
                        !(on_resource && dotted_right)
                    }
                    _ => true,
                }
            }
            "call" => !self.is_close_call(node),
            "not_operator" => named_children(node).into_iter().next().is_some_and(|n| n.kind() != "identifier"),
            "comparison_operator" => !is_null_comparison(node, self.src),
            _ => !is_plain_literal(node),
        }
    }

    /// `x.close()` or `pool.putconn(x)` with plain arguments: closing another resource is not
    /// counted as a statement that can raise, or every pair of closes would be reported.
    fn is_close_call(&self, call: Node) -> bool {
        let Some(function) = call.child_by_field_name("function") else { return false };
        let args_plain = call
            .child_by_field_name("arguments")
            .is_none_or(|a| named_children(a).into_iter().all(|n| is_plain_literal(n) || n.kind() == "identifier"));
        if !args_plain {
            return false;
        }
        match function.kind() {
            "attribute" => {
                function
                    .child_by_field_name("attribute")
                    .is_some_and(|a| self.scope.close_methods.contains(text(a, self.src)))
                    && function.child_by_field_name("object").is_some_and(|o| attribute_chain(o, self.src).is_some())
            }
            _ => false,
        }
    }

    fn assignment(&mut self, node: Node<'s>, out: &mut Block) {
        let (Some(left), Some(right)) = (node.child_by_field_name("left"), node.child_by_field_name("right")) else {
            return;
        };
        match left.kind() {
            "identifier" => {
                let name = text(left, self.src);
                if self.outer_names.contains(name) {
                    self.value(right, Role::Store, out);
                    return;
                }
                let var = self.var(name);
                self.bind(var, right, out);
            }
            "pattern_list" | "tuple_pattern" | "list_pattern" => self.unpacking(left, right, out),
            _ => {
                // `self.conn = ...`, `cache[key] = ...`: the value is kept outside the function.
                self.value(right, Role::Store, out);
                if let Some(object) = left.child_by_field_name("object").or_else(|| left.child_by_field_name("value")) {
                    self.value(object, Role::Other, out);
                }
            }
        }
    }

    /// Emits exactly one binding of `var` for the value `right`.
    fn bind(&mut self, var: Var, right: Node<'s>, out: &mut Block) {
        let value = peel(right);
        match value.kind() {
            "assignment" => {
                // `a = b = value`
                self.assignment(value, out);
                let inner = value.child_by_field_name("left").filter(|l| l.kind() == "identifier");
                let src = inner.map(|l| self.var(text(l, self.src)));
                out.push(Stmt::Assign { dst: var, src, span: span(right) });
            }
            "conditional_expression" => {
                let parts = named_children(value);
                if parts.len() == 3 {
                    self.value(parts[1], Role::Other, out);
                    let mut then_block = Block::new();
                    self.bind(var, parts[0], &mut then_block);
                    let mut else_block = Block::new();
                    self.bind(var, parts[2], &mut else_block);
                    out.push(Stmt::If { branches: vec![then_block, else_block], null_test: None });
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
        if value.kind() == "call"
            && let Some((qualified, resource)) = self.opener_of(value)
            && self.scope.knowledge.resources[resource].returns == Returns::FdPathTuple
            && let Some(first) = targets.first().filter(|t| t.kind() == "identifier")
        {
            let var = self.var(text(*first, self.src));
            self.call_arguments(value, Role::Bind(var), out);
            self.open(value, qualified, resource, Role::Bind(var), OpenedIn::Expression, out);
            for target in &targets[1..] {
                self.rebind_target(*target, out);
            }
            return;
        }
        let values =
            if matches!(value.kind(), "expression_list" | "tuple") { named_children(value) } else { Vec::new() };
        if values.len() == targets.len() {
            for (target, value) in targets.into_iter().zip(values) {
                if target.kind() == "identifier" {
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
        match target.kind() {
            "identifier" => {
                let var = self.var(text(target, self.src));
                out.push(Stmt::Assign { dst: var, src: None, span: span(target) });
            }
            "pattern_list" | "tuple_pattern" | "list_pattern" | "list_splat_pattern" | "parenthesized_expression" => {
                for inner in named_children(target) {
                    self.rebind_target(inner, out);
                }
            }
            _ => {}
        }
    }

    fn if_statement(&mut self, node: Node<'s>, out: &mut Block) {
        let Some(condition) = node.child_by_field_name("condition") else { return };
        let consequence = node.child_by_field_name("consequence");
        let mut cursor = node.walk();
        let alternatives: Vec<Node<'s>> = node.children_by_field_name("alternative", &mut cursor).collect();
        self.conditional(condition, consequence, &alternatives, out);
    }

    /// `if cond: consequence` followed by `elif`/`else` clauses, as nested two-way `If`s.
    fn conditional(&mut self, condition: Node<'s>, consequence: Option<Node<'s>>, rest: &[Node<'s>], out: &mut Block) {
        self.may_raise(condition, out);
        self.value(condition, Role::Other, out);
        let null_test = self.null_test(condition);
        let then_block = consequence.map(|c| self.block(c)).unwrap_or_default();
        let mut else_block = Block::new();
        if let Some((first, later)) = rest.split_first() {
            match first.kind() {
                "elif_clause" => {
                    if let Some(cond) = first.child_by_field_name("condition") {
                        let cons = first.child_by_field_name("consequence");
                        if self.enter() {
                            self.conditional(cond, cons, later, &mut else_block);
                        }
                        self.leave();
                    }
                }
                _ => {
                    if let Some(body) = first.child_by_field_name("body") {
                        else_block = self.block(body);
                    }
                }
            }
        }
        out.push(Stmt::If { branches: vec![then_block, else_block], null_test });
    }

    /// `if x`, `if not x`, `if x is None`, `if x is not None`, `if "x" in locals()`.
    fn null_test(&mut self, condition: Node) -> Option<NullTest> {
        let condition = peel(condition);
        match condition.kind() {
            "identifier" => {
                let var = self.known_var(text(condition, self.src))?;
                Some(NullTest { var, none_branch: 1 })
            }
            "not_operator" => {
                let inner = self.null_test(condition.child_by_field_name("argument")?)?;
                Some(NullTest { var: inner.var, none_branch: 1 - inner.none_branch })
            }
            "comparison_operator" => {
                let parts = named_children(condition);
                let ops: Vec<&str> = {
                    let mut cursor = condition.walk();
                    condition.children(&mut cursor).filter(|c| !c.is_named()).map(|c| text(c, self.src)).collect()
                };
                if parts.len() != 2 {
                    return None;
                }
                let op = ops.join(" ");
                if parts[1].kind() == "none" && parts[0].kind() == "identifier" {
                    let var = self.known_var(text(parts[0], self.src))?;
                    return match op.as_str() {
                        "is" | "==" => Some(NullTest { var, none_branch: 0 }),
                        "is not" | "!=" => Some(NullTest { var, none_branch: 1 }),
                        _ => None,
                    };
                }
                // `"conn" in locals()`
                if parts[0].kind() == "string" && parts[1].kind() == "call" {
                    let callee = parts[1].child_by_field_name("function").map(|f| text(f, self.src));
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
        if let Some(iterable) = node.child_by_field_name("right") {
            self.may_raise(iterable, out);
            self.value(iterable, Role::Other, out);
        }
        let mut body = vec![Stmt::MayRaise { span: span(node) }];
        if let Some(target) = node.child_by_field_name("left") {
            self.rebind_target(target, &mut body);
        }
        if let Some(inner) = node.child_by_field_name("body") {
            body.extend(self.block(inner));
        }
        let orelse = self.else_of(node);
        out.push(Stmt::Loop { body, orelse, infinite: false });
    }

    fn while_statement(&mut self, node: Node<'s>, out: &mut Block) {
        let condition = node.child_by_field_name("condition");
        let infinite = condition.is_some_and(|c| matches!(text(c, self.src), "True" | "1"));
        let mut body = Block::new();
        if let Some(condition) = condition {
            self.may_raise(condition, &mut body);
            self.value(condition, Role::Other, &mut body);
        }
        if let Some(inner) = node.child_by_field_name("body") {
            body.extend(self.block(inner));
        }
        let orelse = self.else_of(node);
        out.push(Stmt::Loop { body, orelse, infinite });
    }

    fn else_of(&mut self, node: Node<'s>) -> Block {
        node.child_by_field_name("alternative")
            .and_then(|alt| alt.child_by_field_name("body"))
            .map(|body| self.block(body))
            .unwrap_or_default()
    }

    fn try_statement(&mut self, node: Node<'s>, out: &mut Block) {
        let body = node.child_by_field_name("body").map(|b| self.block(b)).unwrap_or_default();
        let mut handlers = Vec::new();
        let mut orelse = Block::new();
        let mut finally = Block::new();
        for clause in named_children(node) {
            match clause.kind() {
                "except_clause" | "except_group_clause" => {
                    let mut handler = Block::new();
                    if let Some(block) = named_children(clause).into_iter().rfind(|c| c.kind() == "block") {
                        handler = self.block(block);
                    }
                    handlers.push(handler);
                }
                "else_clause" => {
                    if let Some(block) = clause.child_by_field_name("body") {
                        orelse = self.block(block);
                    }
                }
                "finally_clause" => {
                    if let Some(block) = named_children(clause).into_iter().find(|c| c.kind() == "block") {
                        finally = self.block(block);
                    }
                }
                _ => {}
            }
        }
        out.push(Stmt::Try { body, handlers, orelse, finally });
    }

    fn match_statement(&mut self, node: Node<'s>, out: &mut Block) {
        if let Some(subject) = node.child_by_field_name("subject") {
            self.may_raise(subject, out);
            self.value(subject, Role::Other, out);
        }
        let mut branches = Vec::new();
        let mut exhaustive = false;
        if let Some(body) = node.child_by_field_name("body") {
            for case in named_children(body).into_iter().filter(|c| c.kind() == "case_clause") {
                let pattern_text = named_children(case)
                    .into_iter()
                    .find(|c| c.kind() == "case_pattern")
                    .map(|p| text(p, self.src).trim());
                if pattern_text == Some("_") && case.child_by_field_name("guard").is_none() {
                    exhaustive = true;
                }
                branches.push(case.child_by_field_name("consequence").map(|c| self.block(c)).unwrap_or_default());
            }
        }
        if !exhaustive {
            branches.push(Block::new());
        }
        out.push(Stmt::If { branches, null_test: None });
    }

    /// `with A as a, B as b: body` is `with A as a: with B as b: body`: if B raises, A exits.
    fn with_statement(&mut self, node: Node<'s>, out: &mut Block) {
        let items: Vec<Node> = named_children(node)
            .into_iter()
            .find(|c| c.kind() == "with_clause")
            .map(|clause| named_children(clause).into_iter().filter(|c| c.kind() == "with_item").collect())
            .unwrap_or_default();
        let with_span = span(node);
        let mut prepared = Vec::new();
        for item in items {
            let mut setup = Block::new();
            let with_item = self.with_item(item, &mut setup);
            prepared.push((setup, with_item));
        }
        // The body comes after the items, so the names and types they bind are known in it.
        let body = node.child_by_field_name("body").map(|b| self.block(b)).unwrap_or_default();
        let mut inner = body;
        for (mut setup, with_item) in prepared.into_iter().rev() {
            setup.push(Stmt::With { items: with_item.into_iter().collect(), body: inner, span: with_span });
            inner = setup;
        }
        out.extend(inner);
    }

    /// Lowers the expression of one `with` item into `setup` and says what the `with` holds.
    fn with_item(&mut self, item: Node<'s>, setup: &mut Block) -> Option<WithItem> {
        let value = item.child_by_field_name("value")?;
        let (expr, alias) = if value.kind() == "as_pattern" {
            let expr = named_children(value).into_iter().next()?;
            let alias = value
                .child_by_field_name("alias")
                .and_then(|a| named_children(a).into_iter().next())
                .filter(|a| a.kind() == "identifier");
            (expr, alias)
        } else {
            (value, None)
        };
        let alias_var = alias.map(|a| self.var(text(a, self.src)));
        self.may_raise(expr, setup);
        let expr = peel(expr);
        let item_span = span(item);
        if expr.kind() == "call"
            && let Some(inner) = self.closing_argument(expr)
        {
            // `with closing(OPEN(...)) as x:` / `with closing(x):`
            let held = self.held_value(inner, alias_var, OpenedIn::WithItem, setup);
            if held.is_none()
                && let Some(alias) = alias_var
            {
                setup.push(Stmt::Assign { dst: alias, src: None, span: item_span });
            }
            return Some(WithItem { var: held?, exit: WithExit::Closes, span: item_span });
        }
        let held = self.held_value(expr, alias_var, OpenedIn::WithItem, setup);
        if held.is_none()
            && let Some(alias) = alias_var
        {
            setup.push(Stmt::Assign { dst: alias, src: None, span: item_span });
        }
        Some(WithItem { var: held?, exit: WithExit::OwnContextManager, span: item_span })
    }

    /// The name holding the value of a `with` expression (binding the alias to it), when it is
    /// an open or a local name.
    fn held_value(
        &mut self,
        expr: Node<'s>,
        alias: Option<Var>,
        opened_in: OpenedIn,
        setup: &mut Block,
    ) -> Option<Var> {
        let expr = peel(expr);
        if expr.kind() == "call"
            && let Some((qualified, resource)) = self.opener_of(expr)
        {
            let var = alias.unwrap_or_else(|| self.temp());
            self.call_arguments(expr, Role::Bind(var), setup);
            self.open(expr, qualified, resource, Role::Bind(var), opened_in, setup);
            return Some(var);
        }
        if expr.kind() == "identifier" {
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
        let qualified = self.resolve_callee(call.child_by_field_name("function")?)?;
        if !CLOSING_WRAPPERS.contains(&qualified.as_str()) {
            return None;
        }
        named_children(call.child_by_field_name("arguments")?).into_iter().next()
    }

    /// A nested function or lambda that mentions a local keeps it alive: a hand-off.
    fn captures(&mut self, node: Node, out: &mut Block) {
        let mut seen = HashSet::new();
        let mut stack = vec![(node, 0usize)];
        while let Some((current, depth)) = stack.pop() {
            if depth > MAX_DEPTH {
                continue;
            }
            if current.kind() == "identifier"
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
        match node.kind() {
            "identifier" => self.name(node, role, out),
            "parenthesized_expression" => match named_children(node).as_slice() {
                [inner] => self.value(*inner, role, out),
                children => {
                    for child in children {
                        self.value(*child, Role::Other, out);
                    }
                    false
                }
            },
            "await" => {
                out.push(Stmt::Await { span: span(node) });
                match named_children(node).into_iter().next() {
                    Some(inner) => self.value(inner, role, out),
                    None => false,
                }
            }
            "call" => self.call(node, role, out),
            "attribute" => {
                if let Some(object) = node.child_by_field_name("object") {
                    let attribute = node.child_by_field_name("attribute").map(|a| text(a, self.src));
                    // `atexit.register(conn.close)`, `self.addCleanup(conn.close)`: the close is
                    // registered to run later.
                    let close_ref = attribute.is_some_and(|a| self.scope.close_methods.contains(a))
                        && matches!(role, Role::Argument | Role::Register | Role::Store | Role::Bind(_));
                    if close_ref && object.kind() == "identifier" {
                        let var = self.var(text(object, self.src));
                        out.push(Stmt::HandOff { var, how: HandOffHow::Registered, span: span(node) });
                    } else {
                        self.value(object, Role::Receiver, out);
                    }
                }
                false
            }
            "yield" => {
                self.yield_(node, out);
                false
            }
            "expression_list" | "tuple" | "list" | "set" => {
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
            "dictionary" => {
                let inner = if role == Role::Return { Role::Return } else { Role::Store };
                for pair in named_children(node) {
                    for child in named_children(pair) {
                        self.value(child, inner, out);
                    }
                }
                false
            }
            "conditional_expression" => {
                let parts = named_children(node);
                let inner = if matches!(role, Role::Bind(_)) { Role::Store } else { role };
                for (i, part) in parts.into_iter().enumerate() {
                    self.value(part, if i == 1 { Role::Other } else { inner }, out);
                }
                false
            }
            "boolean_operator" => {
                let inner = if role == Role::Other || role == Role::Discard { Role::Other } else { Role::Store };
                for child in named_children(node) {
                    self.value(child, inner, out);
                }
                false
            }
            "named_expression" => {
                if let (Some(name), Some(value)) = (node.child_by_field_name("name"), node.child_by_field_name("value"))
                {
                    let var = self.var(text(name, self.src));
                    self.bind(var, value, out);
                }
                false
            }
            "lambda" => {
                self.captures(node, out);
                false
            }
            "list_splat" | "dictionary_splat" | "keyword_argument" => {
                let value = node.child_by_field_name("value").or_else(|| named_children(node).into_iter().last());
                if let Some(value) = value {
                    self.value(value, role, out);
                }
                false
            }
            "list_comprehension" | "set_comprehension" | "dictionary_comprehension" | "generator_expression" => {
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
                if let Some(t) = self.local_types.get(&src).cloned() {
                    self.local_types.insert(dst, t);
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
        let is_from = {
            let mut cursor = node.walk();
            node.children(&mut cursor).any(|c| c.kind() == "from")
        };
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
            out.push(Stmt::MayRaise { span: at });
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
        let Some(function) = node.child_by_field_name("function") else { return false };
        let qualified = self.resolve_callee(function);
        if let Some((qualified, resource)) = self.opener_of(node) {
            self.call_arguments(node, role, out);
            return self.open(node, qualified, resource, role, OpenedIn::Expression, out);
        }
        let arguments: Vec<Node> = node.child_by_field_name("arguments").map(named_children).unwrap_or_default();
        let method = (function.kind() == "attribute")
            .then(|| function.child_by_field_name("attribute").map(|a| text(a, self.src)))
            .flatten();
        let receiver = (function.kind() == "attribute").then(|| function.child_by_field_name("object")).flatten();

        // What the call does with its receiver.
        if let (Some(method), Some(receiver)) = (method, receiver) {
            let pooled = arguments.first().filter(|a| a.kind() == "identifier");
            if let Some(first) = pooled.filter(|_| self.scope.pool_close_methods.contains(method)) {
                // `pool.putconn(conn)`, `pool.release(conn)`: closed through its pool.
                let var = self.var(text(*first, self.src));
                out.push(Stmt::Close { var, span: span(node) });
                self.value(receiver, Role::Receiver, out);
                for argument in arguments.iter().skip(1) {
                    self.value(*argument, Role::Argument, out);
                }
                return false;
            }
            if self.scope.close_methods.contains(method) {
                if receiver.kind() == "identifier" {
                    let var = self.var(text(receiver, self.src));
                    out.push(Stmt::Close { var, span: span(node) });
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
            self.value(receiver, Role::Receiver, out);
        } else {
            self.value(function, Role::Other, out);
        }

        // What the call does with its arguments.
        let qualified_str = qualified.as_deref().unwrap_or_default();
        let last_segment =
            qualified_str.rsplit('.').next().filter(|s| !s.is_empty()).or(method).unwrap_or_else(|| {
                attribute_chain(function, self.src).and_then(|p| p.last().copied()).unwrap_or_default()
            });
        let argument_role = if self.scope.close_functions.contains(qualified_str) {
            if let Some(first) = arguments.first().filter(|a| a.kind() == "identifier") {
                let var = self.var(text(*first, self.src));
                out.push(Stmt::Close { var, span: span(node) });
            }
            Role::Argument
        } else if REGISTERING_FUNCTIONS.contains(&qualified_str) {
            Role::Register
        } else if self.scope.handoff_functions.contains(qualified_str)
            || method.is_some_and(|m| STORING_METHODS.contains(&m))
            || last_segment.starts_with(|c: char| c.is_ascii_uppercase())
        {
            // Constructors and containers keep what they are given.
            Role::Store
        } else {
            Role::Argument
        };
        for argument in arguments {
            self.value(argument, argument_role, out);
        }
        if let Role::Bind(var) = role {
            // The value of `f(...)` is of the type the knowledge gives, or else "whatever `f`
            // returns", so that `Session = sessionmaker(...)` makes `Session()` resolvable.
            match qualified {
                Some(q) => {
                    let type_name = self.scope.knowledge.type_of_call(&q).map_or(q.clone(), str::to_string);
                    self.local_types.insert(var, type_name);
                }
                None => {
                    self.local_types.remove(&var);
                }
            }
        }
        false
    }

    /// `stack.enter_context(X)`: the stack's exit runs X's own `__exit__`, like a `with`.
    fn enter_context(&mut self, node: Node<'s>, arguments: &[Node<'s>], role: Role, out: &mut Block) -> bool {
        let Some(argument) = arguments.first().map(|a| peel(*a)) else { return false };
        let target = match role {
            Role::Bind(var) => Some(var),
            _ => None,
        };
        let (inner, exit) = match (argument.kind() == "call").then(|| self.closing_argument(argument)).flatten() {
            Some(inner) => (peel(inner), WithExit::Closes),
            None => (argument, WithExit::OwnContextManager),
        };
        let Some(held) = self.held_value(inner, target, OpenedIn::EnterContext, out) else {
            return false;
        };
        out.push(Stmt::With {
            items: vec![WithItem { var: held, exit, span: span(node) }],
            body: Block::new(),
            span: span(node),
        });
        target.is_some()
    }

    /// Lowers the receiver and arguments of an open call: the arguments are borrowed; the
    /// receiver is used, or handed off with the result when the result is kept (a returned
    /// cursor keeps its connection reachable).
    fn call_arguments(&mut self, call: Node<'s>, result_role: Role, out: &mut Block) {
        if let Some(function) = call.child_by_field_name("function")
            && function.kind() == "attribute"
            && let Some(receiver) = function.child_by_field_name("object")
        {
            let receiver_role = match result_role {
                Role::Return | Role::Store | Role::Yield => Role::Store,
                _ => Role::Receiver,
            };
            self.value(receiver, receiver_role, out);
        }
        if let Some(arguments) = call.child_by_field_name("arguments") {
            for argument in named_children(arguments) {
                self.value(argument, Role::Argument, out);
            }
        }
    }

    /// Emits the open of a resource used in `role`.
    fn open(
        &mut self,
        call: Node<'s>,
        qualified: String,
        resource: ResourceId,
        role: Role,
        opened_in: OpenedIn,
        out: &mut Block,
    ) -> bool {
        let at = span(call);
        let binding = match role {
            Role::Bind(var) => self.vars.iter().find(|(_, v)| **v == var).map(|(name, _)| name.clone()),
            _ => None,
        }
        .filter(|name| !name.starts_with('<'));
        let site = self.new_site(Site { span: at, callee: qualified.clone(), resource, binding, opened_in });
        if let Some(type_name) = self.scope.knowledge.type_of_call(&qualified) {
            if let Role::Bind(var) = role {
                self.local_types.insert(var, type_name.to_string());
            }
        }
        match role {
            Role::Bind(var) => {
                self.resource_names.insert(var);
                out.push(Stmt::Open { site, target: Some(var), span: at });
                true
            }
            Role::Receiver | Role::Discard => {
                out.push(Stmt::Open { site, target: None, span: at });
                false
            }
            Role::Return | Role::Yield | Role::Store | Role::Register | Role::Argument | Role::Other => {
                let temp = self.temp();
                out.push(Stmt::Open { site, target: Some(temp), span: at });
                match role {
                    Role::Return => out.push(Stmt::HandOff { var: temp, how: HandOffHow::Return, span: at }),
                    Role::Yield => self.yielded(temp, at, out),
                    _ => out.push(Stmt::HandOff { var: temp, how: HandOffHow::Store, span: at }),
                }
                false
            }
        }
    }

    fn new_site(&mut self, site: Site) -> SiteId {
        let id = SiteId::try_from(self.sites.len()).unwrap_or(SiteId::MAX);
        self.sites.push(site);
        id
    }

    /// The resource a call opens, with the qualified name it resolved to.
    fn opener_of(&self, call: Node) -> Option<(String, ResourceId)> {
        let function = call.child_by_field_name("function")?;
        let knowledge = self.scope.knowledge;
        if let Some(qualified) = self.resolve_callee(function)
            && let Some(resource) = knowledge.opener(&qualified)
        {
            return Some((qualified, resource));
        }
        None
    }

    /// The qualified name of a callee: through imports, the types of locals, globals and
    /// `self` fields, and the types of calls it is chained on (`sqlite3.connect(p).cursor`).
    fn resolve_callee(&self, function: Node) -> Option<String> {
        let function = peel(function);
        if function.kind() == "attribute"
            && let Some(object) = function.child_by_field_name("object").map(peel)
            && object.kind() == "call"
        {
            let attribute = text(function.child_by_field_name("attribute")?, self.src);
            let inner = self.resolve_callee(object.child_by_field_name("function")?)?;
            let type_name = self.scope.knowledge.type_of_call(&inner)?;
            return Some(format!("{type_name}.{attribute}"));
        }
        let parts = attribute_chain(function, self.src)?;
        let (root, rest) = parts.split_first()?;
        // Calling a typed value itself: `factory()` is `sessionmaker.__call__`.
        let rest: &[&str] = if rest.is_empty() { &["__call__"] } else { rest };
        if let Some(var) = self.known_var(root)
            && let Some(type_name) = self.local_types.get(&var)
        {
            return Some(join_parts(type_name, rest));
        }
        if *root == "self"
            && let (Some(fields), Some((field, rest))) = (self.fields, rest.split_first())
            && let Some(type_name) = fields.get(*field)
        {
            return Some(join_parts(type_name, rest));
        }
        if self.known_var(root).is_none()
            && let Some(type_name) = self.scope.global_types.get(*root)
        {
            return Some(join_parts(type_name, rest));
        }
        self.imports.resolve(&parts)
    }
}

fn join_parts(base: &str, rest: &[&str]) -> String {
    let mut out = base.to_string();
    for part in rest {
        out.push('.');
        out.push_str(part);
    }
    out
}

/// `x is None`, `x is not None`, `x == None`, `x != None`.
fn is_null_comparison(node: Node, src: &str) -> bool {
    let parts = named_children(node);
    parts.len() == 2 && parts[0].kind() == "identifier" && parts[1].kind() == "none" && {
        let mut cursor = node.walk();
        node.children(&mut cursor).filter(|c| !c.is_named()).all(|c| matches!(text(c, src), "is" | "not" | "==" | "!="))
    }
}

/// Whether a function body yields (not counting nested functions and classes).
fn contains_yield(node: Node, depth: usize) -> bool {
    if depth > MAX_DEPTH {
        return false;
    }
    named_children(node).into_iter().any(|child| match child.kind() {
        "yield" => true,
        "function_definition" | "class_definition" | "decorated_definition" | "lambda" => false,
        _ => contains_yield(child, depth + 1),
    })
}
