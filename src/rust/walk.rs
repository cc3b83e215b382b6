//! One pass over a function body that records what the pattern rules need: where resources
//! are opened and in what context (a loop, a closure run per item, a request handler, a static
//! initialiser), what is forgotten or leaked, which driver halves are dropped, which finishing
//! calls are not awaited, and which pool checkouts nest.

use std::collections::{HashMap, HashSet};

use proc_macro2::TokenTree;
use syn::visit::Visit;

use super::knowledge::{Kind, ResourceId};
use super::scope::{FileScope, FunctionItem};
use super::span_of;
use crate::diagnostic::Span;

/// Methods that only pass a value through (`?` plumbing, unwrapping).
const PLUMBING: &[&str] = &[
    "unwrap",
    "expect",
    "unwrap_or_else",
    "context",
    "with_context",
    "wrap_err",
    "wrap_err_with",
    "map_err",
    "into_diagnostic",
    "ok",
];

/// Methods that see through to the value (`&mut *tx`, `conn.as_mut()`, `pool.clone()`).
const TRANSPARENT_METHODS: &[&str] =
    &["as_mut", "as_ref", "deref", "deref_mut", "borrow", "borrow_mut", "get_mut", "get_ref", "clone", "lock"];

/// Iterator and stream adaptors whose closure runs once per item.
const PER_ITEM_METHODS: &[&str] = &[
    "map",
    "for_each",
    "for_each_concurrent",
    "try_for_each",
    "try_for_each_concurrent",
    "filter_map",
    "flat_map",
    "then",
    "and_then",
    "map_while",
    "par_iter",
    "for_each_init",
];

/// Calls whose closure runs once per process: `Lazy::new(|| ...)`, `cell.get_or_init(|| ...)`.
const ONCE_INITIALISERS: &[&str] = &["get_or_init", "get_or_try_init", "call_once", "get_or_insert_with"];

/// Where an open happens.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OpenContext {
    /// Inside a `for`/`while`/`loop` body or a closure run per item.
    pub in_loop: Option<LoopKind>,
    /// Its arguments mention a name bound by the loop (each iteration opens a different one).
    pub depends_on_loop: bool,
    /// The innermost loop can stop early (`break`/`return` in its body): a retry loop.
    pub loop_can_exit: bool,
    /// Inside a `static` initialiser or a once-cell closure.
    pub in_once_initialiser: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoopKind {
    For,
    While,
    Loop,
    /// A closure given to `map`, `for_each`...
    PerItem,
}

#[derive(Debug, Clone)]
pub struct OpenFact {
    pub resource: ResourceId,
    pub span: Span,
    pub context: OpenContext,
}

/// `mem::forget(conn)`, `Box::leak(Box::new(conn))`, `checkout.leak()`...
#[derive(Debug, Clone)]
pub struct ForgetFact {
    pub resource: ResourceId,
    /// The call that forgets it.
    pub span: Span,
    /// `mem::forget`, `Box::leak`, `.detach()`...
    pub how: String,
    pub in_loop: bool,
    /// The value of an `into_raw_*` call is thrown away.
    pub result_discarded: bool,
}

/// `let (client, connection) = tokio_postgres::connect(..)` with the connection half dropped.
#[derive(Debug, Clone)]
pub struct PairFact {
    pub resource: ResourceId,
    pub span: Span,
    /// The name of the connection half, if bound (`None` for `_` or `.0`).
    pub driver: Option<String>,
    /// Where the binding ends, to look for later uses.
    pub bound_at: usize,
    /// The `let (client, _) = ...;` statement and its `_`, for the fix (`None` for `.0`).
    pub statement: Option<(Span, Option<Span>)>,
}

/// `tx.commit();` in async code, without `.await`.
#[derive(Debug, Clone)]
pub struct UnawaitedFact {
    pub resource: ResourceId,
    pub span: Span,
    pub method: String,
    /// The end of the method call, where `.await` goes.
    pub insert_at: usize,
    /// The innermost function, closure or block around it is async: `.await` is allowed there.
    pub awaitable: bool,
}

/// `let a = pool.acquire().await?`: a checkout (or transaction) bound to a name.
#[derive(Debug, Clone)]
pub struct CheckoutFact {
    pub span: Span,
    /// The receiver as written (`pool`, `self.pool`, `state.db`).
    pub receiver: String,
    pub binding: Option<String>,
    /// The end of the statement that binds it.
    pub statement_end: usize,
    /// The block it is bound in.
    pub block: Span,
    /// Which closure or async block it is in (0: the function itself).
    pub closure: usize,
    /// Taken from a pool (not a transaction on a single connection).
    pub from_pool: bool,
}

#[derive(Debug, Default)]
pub struct FunctionFacts {
    pub is_test: bool,
    pub is_handler: bool,
    pub is_main: bool,
    pub opens: Vec<OpenFact>,
    pub forgets: Vec<ForgetFact>,
    pub pairs: Vec<PairFact>,
    pub unawaited: Vec<UnawaitedFact>,
    pub checkouts: Vec<CheckoutFact>,
    /// Every use of a single-segment name (in code and in macro tokens), by byte offset.
    pub uses: Vec<(String, usize)>,
    /// `drop(name)` calls, by byte offset.
    pub drops: Vec<(String, usize)>,
}

impl FunctionFacts {
    /// Whether `name` is mentioned in `from..to`.
    pub fn used_between(&self, name: &str, from: usize, to: usize) -> bool {
        self.uses.iter().any(|(n, at)| n == name && *at >= from && *at < to)
    }
}

struct LoopFrame {
    kind: LoopKind,
    /// Names bound by the loop pattern and inside its body.
    names: HashSet<String>,
    can_exit: bool,
}

struct Walker<'s, 'a> {
    scope: &'s FileScope<'a>,
    function: &'s FunctionItem<'s>,
    facts: FunctionFacts,
    /// Names bound to resources, innermost block last.
    env: Vec<HashMap<String, ResourceId>>,
    loops: Vec<LoopFrame>,
    async_depth: usize,
    /// For each function, closure and async block the walk is in: whether it is async.
    async_bodies: Vec<bool>,
    once_depth: usize,
    blocks: Vec<Span>,
    closure_count: usize,
    closures: Vec<usize>,
    /// The method call that is a whole statement (its value is thrown away).
    discarded_call: Option<Span>,
}

pub fn walk_function(scope: &FileScope, function: &FunctionItem) -> FunctionFacts {
    let mut walker = Walker {
        scope,
        function,
        facts: FunctionFacts {
            is_test: scope.test_file || function.in_test_module || function.has_test_attribute(),
            is_handler: function.is_handler(scope),
            is_main: function.name == "main",
            ..FunctionFacts::default()
        },
        env: vec![HashMap::new()],
        loops: Vec::new(),
        async_depth: usize::from(function.is_async()),
        async_bodies: vec![function.is_async()],
        once_depth: 0,
        blocks: Vec::new(),
        closure_count: 0,
        closures: vec![0],
        discarded_call: None,
    };
    for input in &function.sig.inputs {
        if let syn::FnArg::Typed(typed) = input
            && let Some(resource) = scope.type_resource(&typed.ty)
        {
            for name in pattern_names(&typed.pat) {
                walker.bind(name, resource);
            }
        }
    }
    walker.visit_block(function.body);
    walker.facts
}

impl Walker<'_, '_> {
    fn span(&self, node: &impl syn::spanned::Spanned) -> Span {
        span_of(node, self.scope.offset)
    }

    fn bind(&mut self, name: String, resource: ResourceId) {
        if let Some(scope) = self.env.last_mut() {
            scope.insert(name, resource);
        }
    }

    fn unbind(&mut self, name: &str) {
        if let Some(scope) = self.env.last_mut() {
            scope.remove(name);
        }
    }

    fn lookup(&self, name: &str) -> Option<ResourceId> {
        self.env.iter().rev().find_map(|scope| scope.get(name).copied())
    }

    fn uses_crate(&self, name: &str) -> bool {
        self.scope.uses_crate(name)
    }

    /// The resource a value is, after `?`, `.await`, `.unwrap()` and friends.
    fn classify_value(&self, expr: &syn::Expr) -> Option<ResourceId> {
        self.classify_node(peel(expr))
    }

    /// The resource this very call opens (not looking through plumbing around it).
    fn classify_node(&self, expr: &syn::Expr) -> Option<ResourceId> {
        match expr {
            syn::Expr::Call(call) => self.classify_call(call),
            syn::Expr::MethodCall(call) => self.classify_method_call(call),
            _ => None,
        }
    }

    fn classify_call(&self, call: &syn::ExprCall) -> Option<ResourceId> {
        let syn::Expr::Path(function) = &*call.func else { return None };
        self.scope.knowledge.call(&self.scope.resolve(&function.path))
    }

    fn classify_method_call(&self, call: &syn::ExprMethodCall) -> Option<ResourceId> {
        let knowledge = self.scope.knowledge;
        {
            {
                let method = call.method.to_string();
                // `conn.transaction(|c| ...)` (diesel) scopes the transaction in the closure.
                if call.args.iter().any(|a| matches!(a, syn::Expr::Closure(_))) {
                    return None;
                }
                // A builder chain: `PgPoolOptions::new().max_connections(5).connect(url)`.
                let mut current = peel(&call.receiver);
                let mut inner_methods = Vec::new();
                loop {
                    match current {
                        syn::Expr::MethodCall(inner) => {
                            inner_methods.push(inner);
                            current = peel(&inner.receiver);
                        }
                        syn::Expr::Call(root) => {
                            if let syn::Expr::Path(function) = &*root.func
                                && let Some(found) = knowledge.builder(&self.scope.resolve(&function.path), &method)
                            {
                                return Some(found);
                            }
                            break;
                        }
                        _ => break,
                    }
                }
                // A builder started by a method: `client.build_transaction().start()`.
                if let Some(root) = inner_methods.last()
                    && knowledge.resources.iter().any(|r| r.builder_finish.contains(&method))
                {
                    for kind in self.kinds_of(&root.receiver).1 {
                        if let Some(found) = knowledge.method_builder(&root.method.to_string(), &method, kind) {
                            return Some(found);
                        }
                    }
                }
                // The receiver's own crate first: a rusqlite connection opens a rusqlite
                // transaction even in a file that also uses postgres.
                if !knowledge.resources.iter().any(|r| r.methods.contains(&method)) {
                    return None;
                }
                let (receiver, kinds) = self.kinds_of(&call.receiver);
                let receiver_crate = receiver.map(|r| knowledge.resources[r].crate_name.clone());
                for kind in kinds {
                    let preferred = |c: &str| match &receiver_crate {
                        Some(own) => c == own,
                        None => self.uses_crate(c),
                    };
                    // A receiver known only by its name must belong to a crate the file uses.
                    if let Some(found) = knowledge.method(&method, kind, &preferred, receiver.is_none()) {
                        return Some(found);
                    }
                }
                None
            }
        }
    }

    /// What a receiver may be: its binding, its field type, what opened it, or (for names
    /// that say so, in a file that uses such a crate) a guess from its name. Resolves the
    /// receiver once: chains of calls are walked in linear time.
    fn kinds_of(&self, expr: &syn::Expr) -> (Option<ResourceId>, Vec<Kind>) {
        let expr = see_through(expr);
        if let Some(found) = self.resource_of(expr) {
            return (Some(found), vec![self.scope.kind(found)]);
        }
        let name = match expr {
            syn::Expr::Path(path) => path.path.get_ident().map(|i| i.to_string()),
            syn::Expr::Field(field) => match &field.member {
                syn::Member::Named(ident) => Some(ident.to_string()),
                syn::Member::Unnamed(_) => None,
            },
            // An accessor: `self.db.pool()`, `state.db()`.
            syn::Expr::MethodCall(call) if call.args.is_empty() => Some(call.method.to_string()),
            _ => None,
        };
        (None, name.map(|n| kinds_by_name(&n)).unwrap_or_default())
    }

    /// The resource a receiver is known to hold.
    fn resource_of(&self, expr: &syn::Expr) -> Option<ResourceId> {
        match see_through(expr) {
            syn::Expr::Path(path) => self.lookup(&path.path.get_ident()?.to_string()),
            syn::Expr::Field(field) => {
                let syn::Expr::Path(base) = see_through(&field.base) else { return None };
                if !base.path.is_ident("self") {
                    return None;
                }
                let syn::Member::Named(member) = &field.member else { return None };
                let owner = self.function.self_type.clone()?;
                self.scope.fields.get(&(owner, member.to_string())).copied()
            }
            other => self.classify_value(other),
        }
    }

    fn loop_context(&self, arguments: &[&syn::Expr]) -> OpenContext {
        let Some(frame) = self.loops.last() else {
            return OpenContext { in_once_initialiser: self.once_depth > 0, ..OpenContext::default() };
        };
        let mentioned: HashSet<String> = arguments.iter().flat_map(|a| names_in_expr(a)).collect();
        let depends = self.loops.iter().any(|f| f.names.iter().any(|n| mentioned.contains(n)));
        OpenContext {
            in_loop: Some(frame.kind),
            depends_on_loop: depends,
            loop_can_exit: frame.can_exit,
            in_once_initialiser: self.once_depth > 0,
        }
    }

    fn record_open_call(&mut self, call: &syn::ExprCall) {
        let Some(resource) = self.classify_call(call) else { return };
        let arguments: Vec<&syn::Expr> = call.args.iter().collect();
        let context = self.loop_context(&arguments);
        let span = self.span(call);
        self.facts.opens.push(OpenFact { resource, span, context });
    }

    fn record_open_method(&mut self, call: &syn::ExprMethodCall) {
        let Some(resource) = self.classify_method_call(call) else { return };
        let mut arguments: Vec<&syn::Expr> = call.args.iter().collect();
        // A builder's earlier calls carry the target too: `Config::new().host(h).connect()`.
        let mut current = &*call.receiver;
        while let syn::Expr::MethodCall(inner) = peel(current) {
            arguments.extend(inner.args.iter());
            current = &inner.receiver;
        }
        if let syn::Expr::Call(root) = peel(current) {
            arguments.extend(root.args.iter());
        }
        let context = self.loop_context(&arguments);
        let span = self.span(call);
        self.facts.opens.push(OpenFact { resource, span, context });
    }

    /// `mem::forget(x)`, `ManuallyDrop::new(x)`, `Box::leak(x)`, `Box::into_raw(x)`,
    /// `Object::take(x)`.
    fn record_forget_call(&mut self, call: &syn::ExprCall) {
        let syn::Expr::Path(function) = &*call.func else { return };
        let path = self.scope.resolve(&function.path);
        let segments: Vec<&str> = path.iter().map(String::as_str).collect();
        let how = match segments.as_slice() {
            [.., "mem", "forget"] | ["forget"] => "mem::forget",
            [.., "ManuallyDrop", "new"] => "ManuallyDrop::new",
            [.., "Box", "leak"] => "Box::leak",
            [.., "Box", "into_raw"] => "Box::into_raw",
            [.., "Object", "take"] => "Object::take",
            _ => return,
        };
        let Some(argument) = call.args.first() else { return };
        let Some(resource) = self.boxed_resource(argument) else { return };
        let span = self.span(call);
        let in_loop = !self.loops.is_empty();
        self.facts.forgets.push(ForgetFact { resource, span, how: how.to_string(), in_loop, result_discarded: false });
    }

    /// The resource in `x`, `Box::new(x)` or `Box::new(OPEN(...))`.
    fn boxed_resource(&self, expr: &syn::Expr) -> Option<ResourceId> {
        let expr = see_through(expr);
        if let syn::Expr::Call(call) = expr
            && let syn::Expr::Path(function) = &*call.func
            && function.path.segments.last().is_some_and(|s| s.ident == "new")
            && function.path.segments.iter().rev().nth(1).is_some_and(|s| s.ident == "Box")
            && let Some(inner) = call.args.first()
        {
            return self.boxed_resource(inner);
        }
        self.resource_of(expr)
    }

    fn record_forget_method(&mut self, call: &syn::ExprMethodCall, discarded: bool) {
        let method = call.method.to_string();
        let Some(resource) = self.resource_of(&call.receiver) else { return };
        let entry = &self.scope.knowledge.resources[resource];
        if !entry.leak.contains(&method) {
            return;
        }
        let span = self.span(call);
        let in_loop = !self.loops.is_empty();
        self.facts.forgets.push(ForgetFact {
            resource,
            span,
            how: format!(".{method}()"),
            in_loop,
            result_discarded: discarded,
        });
    }

    /// `tx.commit();` or `let _ = tx.commit();` in async code.
    fn record_unawaited(&mut self, expr: &syn::Expr) {
        if self.async_depth == 0 {
            return;
        }
        let syn::Expr::MethodCall(call) = expr else { return };
        let method = call.method.to_string();
        let Some(resource) = self.resource_of(&call.receiver) else { return };
        let entry = &self.scope.knowledge.resources[resource];
        if !entry.is_async || !entry.finish.contains(&method) {
            return;
        }
        let span = self.span(call);
        let insert_at = span.end as usize;
        let awaitable = self.async_bodies.last().copied().unwrap_or(false);
        self.facts.unawaited.push(UnawaitedFact { resource, span, method, insert_at, awaitable });
    }

    fn record_checkout(&mut self, local: &syn::Local, init: &syn::Expr) {
        let node = peel(init);
        let syn::Expr::MethodCall(call) = node else { return };
        let Some(resource) = self.classify_node(node) else { return };
        if !matches!(self.scope.kind(resource), Kind::Checkout | Kind::Transaction) {
            return;
        }
        let from_pool = self.kinds_of(&call.receiver).1.contains(&Kind::Pool);
        let receiver = expr_text(see_through(&call.receiver));
        let binding = pattern_names(&local.pat).into_iter().next();
        let statement_end = self.span(local).end as usize;
        let block = self.blocks.last().copied().unwrap_or_default();
        let closure = self.closures.last().copied().unwrap_or(0);
        let span = self.span(call);
        self.facts.checkouts.push(CheckoutFact { span, receiver, binding, statement_end, block, closure, from_pool });
    }

    fn with_loop(&mut self, kind: LoopKind, names: HashSet<String>, can_exit: bool, body: impl FnOnce(&mut Self)) {
        self.loops.push(LoopFrame { kind, names, can_exit });
        body(self);
        self.loops.pop();
    }

    fn in_closure(&mut self, body: impl FnOnce(&mut Self)) {
        self.closure_count += 1;
        self.closures.push(self.closure_count);
        body(self);
        self.closures.pop();
    }

    fn record_tokens(&mut self, tokens: &proc_macro2::TokenStream) {
        for token in tokens.clone() {
            match token {
                TokenTree::Ident(ident) => {
                    let at = ident.span().byte_range().start + self.scope.offset;
                    self.facts.uses.push((ident.to_string(), at));
                }
                TokenTree::Group(group) => self.record_tokens(&group.stream()),
                _ => {}
            }
        }
    }
}

impl<'ast> Visit<'ast> for Walker<'_, '_> {
    fn visit_block(&mut self, block: &'ast syn::Block) {
        self.env.push(HashMap::new());
        self.blocks.push(self.span(block));
        syn::visit::visit_block(self, block);
        self.blocks.pop();
        self.env.pop();
    }

    fn visit_item(&mut self, _item: &'ast syn::Item) {
        // Nested items are checked on their own.
    }

    fn visit_local(&mut self, local: &'ast syn::Local) {
        if let Some(init) = &local.init {
            self.visit_expr(&init.expr);
            if let Some((_, diverge)) = &init.diverge {
                self.visit_expr(diverge);
            }
            if matches!(local.pat, syn::Pat::Wild(_)) {
                // `let _ = tx.commit();`
                self.record_unawaited(&init.expr);
            }
            self.record_checkout(local, &init.expr);
        }
        let names = pattern_names(&local.pat);
        if let Some(frame) = self.loops.last_mut() {
            frame.names.extend(names.iter().cloned());
        }
        let resource = match (&local.pat, &local.init) {
            (syn::Pat::Type(typed), _) if self.scope.type_resource(&typed.ty).is_some() => {
                self.scope.type_resource(&typed.ty)
            }
            (_, Some(init)) => self.classify_value(&init.expr),
            _ => None,
        };
        if let (Some(resource), Some(init)) = (resource, &local.init)
            && self.scope.kind(resource) == Kind::DriverPair
        {
            let bound_at = self.span(local).end as usize;
            if let syn::Pat::Tuple(tuple) = strip_type(&local.pat)
                && let Some(second) = tuple.elems.iter().nth(1)
            {
                let (driver, hole) = match strip_type(second) {
                    syn::Pat::Wild(wild) => (None, Some(self.span(wild))),
                    syn::Pat::Ident(ident) => (Some(ident.ident.to_string()), None),
                    _ => return,
                };
                let span = self.span(&init.expr);
                let statement = Some((self.span(local), hole));
                self.facts.pairs.push(PairFact { resource, span, driver, bound_at, statement });
            }
            return;
        }
        for name in names {
            match resource {
                Some(resource) => self.bind(name, resource),
                None => self.unbind(&name),
            }
        }
    }

    fn visit_stmt(&mut self, stmt: &'ast syn::Stmt) {
        if let syn::Stmt::Expr(expr, Some(_)) = stmt {
            self.record_unawaited(expr);
            if let syn::Expr::MethodCall(call) = expr {
                self.discarded_call = Some(self.span(call));
            }
        }
        syn::visit::visit_stmt(self, stmt);
    }

    fn visit_expr_for_loop(&mut self, expr: &'ast syn::ExprForLoop) {
        self.visit_expr(&expr.expr);
        let names: HashSet<String> = pattern_names(&expr.pat).into_iter().collect();
        let can_exit = can_exit(&expr.body);
        self.with_loop(LoopKind::For, names, can_exit, |walker| walker.visit_block(&expr.body));
    }

    fn visit_expr_while(&mut self, expr: &'ast syn::ExprWhile) {
        let mut names = HashSet::new();
        if let syn::Expr::Let(condition) = &*expr.cond {
            names.extend(pattern_names(&condition.pat));
        }
        let can_exit = can_exit(&expr.body);
        self.with_loop(LoopKind::While, names, can_exit, |walker| {
            walker.visit_expr(&expr.cond);
            walker.visit_block(&expr.body);
        });
    }

    fn visit_expr_loop(&mut self, expr: &'ast syn::ExprLoop) {
        let can_exit = can_exit(&expr.body);
        self.with_loop(LoopKind::Loop, HashSet::new(), can_exit, |walker| walker.visit_block(&expr.body));
    }

    fn visit_expr_closure(&mut self, closure: &'ast syn::ExprClosure) {
        let is_async = closure.asyncness.is_some();
        self.async_depth += usize::from(is_async);
        self.async_bodies.push(is_async);
        self.in_closure(|walker| walker.visit_expr(&closure.body));
        self.async_bodies.pop();
        self.async_depth -= usize::from(is_async);
    }

    fn visit_expr_async(&mut self, block: &'ast syn::ExprAsync) {
        self.async_depth += 1;
        self.async_bodies.push(true);
        self.in_closure(|walker| walker.visit_block(&block.block));
        self.async_bodies.pop();
        self.async_depth -= 1;
    }

    fn visit_expr_call(&mut self, call: &'ast syn::ExprCall) {
        self.record_forget_call(call);
        if let syn::Expr::Path(function) = &*call.func
            && function.path.segments.last().is_some_and(|s| s.ident == "drop")
            && let Some(syn::Expr::Path(argument)) = call.args.first()
            && let Some(name) = argument.path.get_ident()
        {
            let at = self.span(call).start as usize;
            self.facts.drops.push((name.to_string(), at));
        }
        // `Lazy::new(|| ...)`, `LazyLock::new(|| ...)`: the closure runs once.
        let once = matches!(&*call.func, syn::Expr::Path(p) if p.path.segments.len() >= 2
            && p.path.segments.last().is_some_and(|s| s.ident == "new")
            && p.path.segments.iter().rev().nth(1).is_some_and(|s| matches!(s.ident.to_string().as_str(), "Lazy" | "LazyLock" | "LazyCell" | "OnceLock")));
        self.once_depth += usize::from(once);
        syn::visit::visit_expr_call(self, call);
        self.once_depth -= usize::from(once);
        self.record_open_call(call);
    }

    fn visit_expr_method_call(&mut self, call: &'ast syn::ExprMethodCall) {
        let method = call.method.to_string();
        let discarded = self.discarded_call.take() == Some(self.span(call));
        self.record_forget_method(call, discarded);
        self.visit_expr(&call.receiver);
        let per_item = PER_ITEM_METHODS.contains(&method.as_str());
        let once = ONCE_INITIALISERS.contains(&method.as_str());
        for argument in &call.args {
            match argument {
                syn::Expr::Closure(closure) if per_item => {
                    let names: HashSet<String> = closure.inputs.iter().flat_map(pattern_names).collect();
                    self.with_loop(LoopKind::PerItem, names, false, |walker| walker.visit_expr(argument));
                }
                syn::Expr::Closure(_) if once => {
                    self.once_depth += 1;
                    self.visit_expr(argument);
                    self.once_depth -= 1;
                }
                _ => self.visit_expr(argument),
            }
        }
        self.record_open_method(call);
    }

    fn visit_expr_field(&mut self, field: &'ast syn::ExprField) {
        // `tokio_postgres::connect(..).await?.0` keeps the client and drops the driver.
        if let syn::Member::Unnamed(index) = &field.member
            && index.index == 0
            && let Some(resource) = self.classify_value(&field.base)
            && self.scope.kind(resource) == Kind::DriverPair
        {
            let span = self.span(&*field.base);
            let bound_at = span.end as usize;
            self.facts.pairs.push(PairFact { resource, span, driver: None, bound_at, statement: None });
        }
        syn::visit::visit_expr_field(self, field);
    }

    fn visit_expr_path(&mut self, path: &'ast syn::ExprPath) {
        if let Some(ident) = path.path.get_ident() {
            let at = self.span(path).start as usize;
            self.facts.uses.push((ident.to_string(), at));
        }
        syn::visit::visit_expr_path(self, path);
    }

    fn visit_macro(&mut self, mac: &'ast syn::Macro) {
        // Macro bodies need not be Rust: only the names they mention are recorded.
        self.record_tokens(&mac.tokens);
    }
}

/// Strips `?`, `.await`, parentheses and unwrapping calls.
pub fn peel(expr: &syn::Expr) -> &syn::Expr {
    match expr {
        syn::Expr::Try(e) => peel(&e.expr),
        syn::Expr::Await(e) => peel(&e.base),
        syn::Expr::Paren(e) => peel(&e.expr),
        syn::Expr::Group(e) => peel(&e.expr),
        syn::Expr::MethodCall(call) if PLUMBING.contains(&call.method.to_string().as_str()) => peel(&call.receiver),
        other => other,
    }
}

/// Strips what does not change which value it is: `&`, `*`, `.as_mut()`, `.clone()`.
pub fn see_through(expr: &syn::Expr) -> &syn::Expr {
    match peel(expr) {
        syn::Expr::Reference(e) => see_through(&e.expr),
        syn::Expr::Unary(e) if matches!(e.op, syn::UnOp::Deref(_)) => see_through(&e.expr),
        syn::Expr::MethodCall(call)
            if TRANSPARENT_METHODS.contains(&call.method.to_string().as_str()) && call.args.is_empty() =>
        {
            see_through(&call.receiver)
        }
        other => other,
    }
}

/// Kinds a receiver may be, going by its name alone.
fn kinds_by_name(name: &str) -> Vec<Kind> {
    let lower = name.to_ascii_lowercase();
    let word = lower.rsplit('_').next().unwrap_or(&lower);
    let word = word.strip_suffix('s').unwrap_or(word);
    match word {
        "pool" | "db" | "database" | "pg" | "redis" => vec![Kind::Pool],
        "conn" | "connection" | "client" => vec![Kind::Connection, Kind::Client, Kind::Checkout],
        "tx" | "txn" | "transaction" | "trans" => vec![Kind::Transaction],
        _ => Vec::new(),
    }
}

pub fn strip_type(pat: &syn::Pat) -> &syn::Pat {
    match pat {
        syn::Pat::Type(typed) => strip_type(&typed.pat),
        other => other,
    }
}

/// The names a pattern binds.
pub fn pattern_names(pat: &syn::Pat) -> Vec<String> {
    let mut out = Vec::new();
    collect_pattern_names(pat, &mut out, 0);
    out
}

fn collect_pattern_names(pat: &syn::Pat, out: &mut Vec<String>, depth: usize) {
    if depth > 64 {
        return;
    }
    match pat {
        syn::Pat::Ident(ident) => {
            out.push(ident.ident.to_string());
            if let Some((_, sub)) = &ident.subpat {
                collect_pattern_names(sub, out, depth + 1);
            }
        }
        syn::Pat::Type(typed) => collect_pattern_names(&typed.pat, out, depth + 1),
        syn::Pat::Tuple(tuple) => tuple.elems.iter().for_each(|p| collect_pattern_names(p, out, depth + 1)),
        syn::Pat::TupleStruct(tuple) => tuple.elems.iter().for_each(|p| collect_pattern_names(p, out, depth + 1)),
        syn::Pat::Struct(structure) => {
            structure.fields.iter().for_each(|f| collect_pattern_names(&f.pat, out, depth + 1))
        }
        syn::Pat::Reference(reference) => collect_pattern_names(&reference.pat, out, depth + 1),
        syn::Pat::Slice(slice) => slice.elems.iter().for_each(|p| collect_pattern_names(p, out, depth + 1)),
        syn::Pat::Or(or) => {
            if let Some(first) = or.cases.first() {
                collect_pattern_names(first, out, depth + 1);
            }
        }
        syn::Pat::Paren(paren) => collect_pattern_names(&paren.pat, out, depth + 1),
        _ => {}
    }
}

/// Single-segment names an expression mentions (macro tokens included).
fn names_in_expr(expr: &syn::Expr) -> Vec<String> {
    struct Names(Vec<String>);
    impl<'ast> Visit<'ast> for Names {
        fn visit_expr_path(&mut self, path: &'ast syn::ExprPath) {
            if let Some(ident) = path.path.get_ident() {
                self.0.push(ident.to_string());
            }
        }
        fn visit_expr_field(&mut self, field: &'ast syn::ExprField) {
            self.visit_expr(&field.base);
        }
        fn visit_macro(&mut self, mac: &'ast syn::Macro) {
            collect_idents(&mac.tokens, &mut self.0);
        }
    }
    let mut names = Names(Vec::new());
    names.visit_expr(expr);
    names.0
}

fn collect_idents(tokens: &proc_macro2::TokenStream, out: &mut Vec<String>) {
    for token in tokens.clone() {
        match token {
            TokenTree::Ident(ident) => out.push(ident.to_string()),
            TokenTree::Group(group) => collect_idents(&group.stream(), out),
            _ => {}
        }
    }
}

/// Whether a loop body can stop the loop early: a retry loop that keeps what it got.
fn can_exit(body: &syn::Block) -> bool {
    struct Exits(bool);
    impl<'ast> Visit<'ast> for Exits {
        fn visit_expr_break(&mut self, _: &'ast syn::ExprBreak) {
            self.0 = true;
        }
        fn visit_expr_return(&mut self, _: &'ast syn::ExprReturn) {
            self.0 = true;
        }
        fn visit_expr_try(&mut self, expr: &'ast syn::ExprTry) {
            self.visit_expr(&expr.expr);
        }
        fn visit_expr_closure(&mut self, _: &'ast syn::ExprClosure) {}
        fn visit_item(&mut self, _: &'ast syn::Item) {}
    }
    let mut exits = Exits(false);
    exits.visit_block(body);
    exits.0
}

/// A receiver as written, for comparing two receivers (`self.pool`, `state.db`).
pub fn expr_text(expr: &syn::Expr) -> String {
    quote::ToTokens::to_token_stream(expr).to_string().replace(' ', "")
}
