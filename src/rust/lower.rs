//! Lowering a Rust function to the resource IR, for the two rules that need paths: a
//! transaction that reaches the end of its scope unfinished (CL203) and a raw C handle that
//! reaches a return without its close (CL208).
//!
//! Rust's exits map onto the IR's: `?`, `return Err(..)`, `bail!` and panics are error exits
//! (`MayRaise`/`Raise`); `return`, `return Ok(..)` and the end of the body are normal exits.
//! Moving a value (by value into a call, into a struct, into a `move` closure, returning it) is a
//! hand-off; `&x` and method calls borrow.

use std::collections::HashMap;

use syn::spanned::Spanned;

use super::knowledge::{HandleShape, Kind, ResourceId};
use super::scope::FileScope;
use super::span_of;
use super::walk::{FunctionFacts, peel, strip_type};
use crate::diagnostic::Span;
use crate::ir::{Block, Function, HandOffHow, LoopBlocks, MaybeVar, NullTest, SiteId, Stmt, Var};

/// Deeper nesting is not lowered (the function is skipped); real code stays far below.
const MAX_DEPTH: usize = 200;

/// Macros that return an error.
const ERROR_MACROS: &[&str] = &["bail"];

/// Macros that may return an error.
const CHECK_MACROS: &[&str] = &["ensure"];

/// Macros that panic: the path ends without a return.
const PANIC_MACROS: &[&str] = &["panic", "unreachable", "todo", "unimplemented"];

/// Macros that may panic.
const ASSERT_MACROS: &[&str] =
    &["assert", "assert_eq", "assert_ne", "debug_assert", "debug_assert_eq", "debug_assert_ne"];

/// Methods that pass a value through (`.expect(..)`, `.ok_or_else(..)`).
const PASS_THROUGH_METHODS: &[&str] = &[
    "ok_or",
    "ok_or_else",
    "map",
    "map_err",
    "unwrap",
    "expect",
    "unwrap_or",
    "unwrap_or_else",
    "context",
    "with_context",
    "into",
];

/// What an open site of a Rust function is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SiteWhat {
    Transaction(ResourceId),
    /// A raw handle from a C open: the FFI entry and the function called.
    Ffi {
        entry: usize,
        function: String,
    },
}

#[derive(Debug, Clone)]
pub struct RustSite {
    pub span: Span,
    pub what: SiteWhat,
    /// The name it is bound to.
    pub binding: String,
}

pub struct Lowered {
    pub function: Function,
    pub sites: Vec<RustSite>,
}

/// How a value is used by what surrounds it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    /// Evaluated and dropped, or borrowed.
    Ignore,
    /// The function's result.
    Return,
    /// Bound to a local.
    Bind(Var),
    /// Moved somewhere (a struct field, a call by value, a collection).
    Move,
}

struct Lowerer<'s, 'a> {
    scope: &'s FileScope<'a>,
    /// Transaction opens found by the walk, by the span of the open call.
    transactions: HashMap<Span, ResourceId>,
    vars: HashMap<String, Var>,
    sites: Vec<RustSite>,
    depth: usize,
    too_deep: bool,
}

/// Lowers a function whose body opens a transaction or a raw handle; `None` when it opens
/// neither (nothing to check) or nests too deep.
pub fn lower_function(scope: &FileScope, body: &syn::Block, facts: &FunctionFacts) -> Option<Lowered> {
    let transactions: HashMap<Span, ResourceId> = facts
        .opens
        .iter()
        .filter(|o| scope.kind(o.resource) == Kind::Transaction)
        .map(|o| (o.span, o.resource))
        .collect();
    let mentions_ffi = !scope.knowledge.ffi.is_empty() && mentions_ffi_open(scope, body);
    if transactions.is_empty() && !mentions_ffi {
        return None;
    }
    let mut lowerer =
        Lowerer { scope, transactions, vars: HashMap::new(), sites: Vec::new(), depth: 0, too_deep: false };
    let mut ir = Block::new();
    lowerer.block(body, Role::Return, &mut ir);
    if lowerer.too_deep || lowerer.sites.is_empty() {
        return None;
    }
    let var_count = u32::try_from(lowerer.vars.len()).unwrap_or(u32::MAX);
    let span = span_of(&body.brace_token.span.open(), scope.offset);
    // Its statements call no method by name and pass no keyword.
    let names = Box::default();
    Some(Lowered { function: Function { span, body: ir, var_count, names }, sites: lowerer.sites })
}

fn mentions_ffi_open(scope: &FileScope, body: &syn::Block) -> bool {
    let text = quote::ToTokens::to_token_stream(body).to_string();
    scope.knowledge.ffi.iter().any(|f| f.open.iter().any(|o| text.contains(o.as_str())))
}

impl Lowerer<'_, '_> {
    fn span(&self, node: &impl Spanned) -> Span {
        span_of(node, self.scope.offset)
    }

    fn var(&mut self, name: &str) -> Var {
        let next = u32::try_from(self.vars.len()).unwrap_or(u32::MAX);
        *self.vars.entry(name.to_string()).or_insert(next)
    }

    fn known(&self, name: &str) -> Option<Var> {
        self.vars.get(name).copied()
    }

    fn enter(&mut self) -> bool {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            self.too_deep = true;
        }
        !self.too_deep
    }

    fn block(&mut self, block: &syn::Block, tail_role: Role, out: &mut Block) {
        if !self.enter() {
            self.depth -= 1;
            return;
        }
        let count = block.stmts.len();
        for (i, stmt) in block.stmts.iter().enumerate() {
            let last = i + 1 == count;
            match stmt {
                syn::Stmt::Local(local) => self.local(local, out),
                syn::Stmt::Expr(expr, None) if last => self.expr(expr, tail_role, out),
                syn::Stmt::Expr(expr, _) => self.expr(expr, Role::Ignore, out),
                syn::Stmt::Macro(mac) => self.mac(&mac.mac, out),
                syn::Stmt::Item(_) => {}
            }
        }
        if tail_role == Role::Return && !matches!(block.stmts.last(), Some(syn::Stmt::Expr(_, None))) {
            // A body that ends in a statement returns `()`.
        }
        self.depth -= 1;
    }

    fn local(&mut self, local: &syn::Local, out: &mut Block) {
        let target = match strip_type(&local.pat) {
            syn::Pat::Ident(ident) => Some(self.var(&ident.ident.to_string())),
            _ => None,
        };
        if let Some(init) = &local.init {
            let role = target.map_or(Role::Ignore, Role::Bind);
            self.expr(&init.expr, role, out);
            if let Some((_, diverge)) = &init.diverge {
                let mut else_block = Block::new();
                self.expr(diverge, Role::Ignore, &mut else_block);
                out.push(Stmt::If { branches: Box::new([Block::new(), else_block]), null_test: None });
            }
        }
        if target.is_none() {
            for name in super::walk::pattern_names(&local.pat) {
                let var = self.var(&name);
                out.push(Stmt::Assign { dst: var, src: None, span: self.span(&local.pat) });
            }
        }
    }

    /// Lowers an expression whose value is used in `role`.
    fn expr(&mut self, expr: &syn::Expr, role: Role, out: &mut Block) {
        if !self.enter() {
            self.depth -= 1;
            return;
        }
        self.expr_inner(expr, role, out);
        self.depth -= 1;
    }

    fn expr_inner(&mut self, expr: &syn::Expr, role: Role, out: &mut Block) {
        let at = self.span(expr);
        // A transaction open bound to a name.
        if let Role::Bind(var) = role
            && let Some(&resource) = self.transactions.get(&self.span(peel(expr)))
        {
            self.subexpressions(peel(expr), out);
            if matches!(expr, syn::Expr::Try(_)) {
                out.push(Stmt::MayRaise { span: at });
            }
            self.open(SiteWhat::Transaction(resource), var, at, out);
            return;
        }
        match expr {
            syn::Expr::Path(path) => {
                let Some(name) = path.path.get_ident().map(|i| i.to_string()) else { return };
                let Some(var) = self.known(&name) else {
                    if let Role::Bind(dst) = role {
                        out.push(Stmt::Assign { dst, src: None, span: at });
                    }
                    return;
                };
                match role {
                    Role::Ignore => out.push(Stmt::Use { var, span: at }),
                    Role::Return => out.push(Stmt::HandOff { var, how: HandOffHow::Return, span: at }),
                    Role::Move => out.push(Stmt::HandOff { var, how: HandOffHow::Store, span: at }),
                    Role::Bind(dst) => out.push(Stmt::Assign { dst, src: Some(var), span: at }),
                }
            }
            syn::Expr::Try(inner) => {
                self.expr(&inner.expr, role, out);
                out.push(Stmt::MayRaise { span: at });
            }
            syn::Expr::Await(inner) => {
                self.expr(&inner.base, role, out);
                out.push(Stmt::Await { span: at });
            }
            syn::Expr::Paren(inner) => self.expr(&inner.expr, role, out),
            syn::Expr::Group(inner) => self.expr(&inner.expr, role, out),
            syn::Expr::Reference(reference) => {
                self.expr(&reference.expr, Role::Ignore, out);
                self.bind_nothing(role, at, out);
            }
            syn::Expr::Call(call) => self.call(call, role, out),
            syn::Expr::MethodCall(call) => self.method_call(call, role, out),
            syn::Expr::Struct(structure) => {
                for field in &structure.fields {
                    self.expr(&field.expr, Role::Move, out);
                }
                if let Some(rest) = &structure.rest {
                    self.expr(rest, Role::Ignore, out);
                }
                self.bind_nothing(role, at, out);
            }
            syn::Expr::Tuple(tuple) => {
                let inner = if role == Role::Return { Role::Return } else { Role::Move };
                for element in &tuple.elems {
                    self.expr(element, inner, out);
                }
                self.bind_nothing(role, at, out);
            }
            syn::Expr::Array(array) => {
                for element in &array.elems {
                    self.expr(element, Role::Move, out);
                }
                self.bind_nothing(role, at, out);
            }
            syn::Expr::Closure(closure) => {
                self.captures(&closure.body, closure.capture.is_some(), out);
                self.bind_nothing(role, at, out);
            }
            syn::Expr::Async(block) => {
                let mut names = Vec::new();
                collect_block_names(&block.block, &mut names);
                self.capture_names(&names, block.capture.is_some(), at, out);
                self.bind_nothing(role, at, out);
            }
            syn::Expr::Block(block) => self.block(&block.block, role, out),
            syn::Expr::Unsafe(block) => self.block(&block.block, role, out),
            syn::Expr::If(if_expr) => self.if_expr(if_expr, role, out),
            syn::Expr::Match(match_expr) => {
                self.expr(&match_expr.expr, Role::Ignore, out);
                let mut branches = Vec::new();
                for arm in &match_expr.arms {
                    let mut branch = Block::new();
                    if let syn::Pat::Guard(guarded) = &arm.pat {
                        self.expr(&guarded.guard, Role::Ignore, &mut branch);
                    }
                    self.expr(&arm.body, role, &mut branch);
                    branches.push(branch);
                }
                if branches.is_empty() {
                    branches.push(Block::new());
                }
                out.push(Stmt::If { branches: branches.into_boxed_slice(), null_test: None });
            }
            syn::Expr::ForLoop(for_loop) => {
                self.expr(&for_loop.expr, Role::Ignore, out);
                let mut body = Block::new();
                for name in super::walk::pattern_names(&for_loop.pat) {
                    let var = self.var(&name);
                    body.push(Stmt::Assign { dst: var, src: None, span: at });
                }
                self.block(&for_loop.body, Role::Ignore, &mut body);
                out.push(Stmt::Loop(Box::new(LoopBlocks { body, orelse: Block::new(), infinite: false })));
            }
            syn::Expr::While(while_loop) => {
                let mut body = Block::new();
                self.expr(&while_loop.cond, Role::Ignore, &mut body);
                self.block(&while_loop.body, Role::Ignore, &mut body);
                out.push(Stmt::Loop(Box::new(LoopBlocks { body, orelse: Block::new(), infinite: false })));
            }
            syn::Expr::Loop(loop_expr) => {
                let mut body = Block::new();
                self.block(&loop_expr.body, Role::Ignore, &mut body);
                out.push(Stmt::Loop(Box::new(LoopBlocks { body, orelse: Block::new(), infinite: true })));
            }
            syn::Expr::Break(_) => out.push(Stmt::Break),
            syn::Expr::Continue(_) => out.push(Stmt::Continue),
            syn::Expr::Return(ret) => match &ret.expr {
                Some(value) if is_err_call(value) => {
                    self.expr(value, Role::Ignore, out);
                    out.push(Stmt::Raise { span: at });
                }
                Some(value) => {
                    self.expr(value, Role::Return, out);
                    out.push(Stmt::Return { span: at });
                }
                None => out.push(Stmt::Return { span: at }),
            },
            syn::Expr::Assign(assign) => {
                match &*assign.left {
                    syn::Expr::Path(path) if path.path.get_ident().is_some() => {
                        let name = path.path.get_ident().map(|i| i.to_string()).unwrap_or_default();
                        let var = self.var(&name);
                        self.expr(&assign.right, Role::Bind(var), out);
                    }
                    _ => {
                        // `self.db = db`, `*slot = conn`: kept elsewhere.
                        self.expr(&assign.right, Role::Move, out);
                        self.expr(&assign.left, Role::Ignore, out);
                    }
                }
                self.bind_nothing(role, at, out);
            }
            syn::Expr::Macro(mac) => {
                self.mac(&mac.mac, out);
                self.bind_nothing(role, at, out);
            }
            syn::Expr::Let(let_expr) => {
                self.expr(&let_expr.expr, Role::Ignore, out);
                for name in super::walk::pattern_names(&let_expr.pat) {
                    let var = self.var(&name);
                    out.push(Stmt::Assign { dst: var, src: None, span: at });
                }
            }
            other => {
                self.subexpressions(other, out);
                self.bind_nothing(role, at, out);
            }
        }
    }

    /// A value that is not a tracked resource, bound to a name: the name holds nothing now.
    fn bind_nothing(&mut self, role: Role, at: Span, out: &mut Block) {
        if let Role::Bind(dst) = role {
            out.push(Stmt::Assign { dst, src: None, span: at });
        }
    }

    /// Lowers the direct subexpressions of `expr`, borrowed.
    fn subexpressions(&mut self, expr: &syn::Expr, out: &mut Block) {
        match expr {
            syn::Expr::Call(call) => {
                self.expr(&call.func, Role::Ignore, out);
                for argument in &call.args {
                    self.expr(argument, self.argument_role(argument), out);
                }
            }
            syn::Expr::MethodCall(call) => {
                self.expr(&call.receiver, Role::Ignore, out);
                for argument in &call.args {
                    self.expr(argument, self.argument_role(argument), out);
                }
            }
            syn::Expr::Binary(binary) => {
                self.expr(&binary.left, Role::Ignore, out);
                self.expr(&binary.right, Role::Ignore, out);
            }
            syn::Expr::Unary(unary) => self.expr(&unary.expr, Role::Ignore, out),
            syn::Expr::Field(field) => self.expr(&field.base, Role::Ignore, out),
            syn::Expr::Index(index) => {
                self.expr(&index.expr, Role::Ignore, out);
                self.expr(&index.index, Role::Ignore, out);
            }
            syn::Expr::Cast(cast) => self.expr(&cast.expr, Role::Ignore, out),
            syn::Expr::Range(range) => {
                if let Some(start) = &range.start {
                    self.expr(start, Role::Ignore, out);
                }
                if let Some(end) = &range.end {
                    self.expr(end, Role::Ignore, out);
                }
            }
            syn::Expr::Repeat(repeat) => self.expr(&repeat.expr, Role::Ignore, out),
            syn::Expr::Await(inner) => self.expr(&inner.base, Role::Ignore, out),
            syn::Expr::Try(inner) => self.expr(&inner.expr, Role::Ignore, out),
            syn::Expr::Paren(inner) => self.expr(&inner.expr, Role::Ignore, out),
            _ => {}
        }
    }

    /// A name passed by value moves it; `&x` and everything else borrows.
    fn argument_role(&self, argument: &syn::Expr) -> Role {
        match argument {
            syn::Expr::Path(path) if path.path.get_ident().is_some() => Role::Move,
            _ => Role::Ignore,
        }
    }

    fn call(&mut self, call: &syn::ExprCall, role: Role, out: &mut Block) {
        let at = self.span(call);
        let name = match &*call.func {
            syn::Expr::Path(path) => path.path.segments.last().map(|s| s.ident.to_string()).unwrap_or_default(),
            _ => String::new(),
        };
        let knowledge = self.scope.knowledge;
        // `Ok(x)`, `Some(x)` pass the role on; `Err(..)` is an error value.
        if matches!(name.as_str(), "Ok" | "Some" | "Box" | "new") && role == Role::Return {
            for argument in &call.args {
                self.expr(argument, Role::Return, out);
            }
            return;
        }
        match knowledge.ffi_call(&name) {
            Some((_, false)) => {
                // A C close: `sqlite3_close(db)`.
                if let Some(var) = call.args.first().and_then(|a| self.arg_name(a)).and_then(|n| self.known(&n)) {
                    out.push(Stmt::Close { var, span: at });
                }
                for argument in call.args.iter().skip(1) {
                    self.expr(argument, Role::Ignore, out);
                }
                self.bind_nothing(role, at, out);
                return;
            }
            Some((entry, true)) => {
                let ffi = &knowledge.ffi[entry];
                for argument in &call.args {
                    self.expr(argument, Role::Ignore, out);
                }
                let what = SiteWhat::Ffi { entry, function: name.clone() };
                match ffi.handle {
                    HandleShape::OutArg => {
                        let handle = ffi.handle_arg.and_then(|i| call.args.iter().nth(i)).and_then(out_arg_name);
                        if let Some(handle) = handle {
                            let var = self.var(&handle);
                            self.open(what, var, at, out);
                        }
                        self.bind_nothing(role, at, out);
                    }
                    HandleShape::Return => {
                        if let Role::Bind(var) = role {
                            self.open(what, var, at, out);
                        }
                    }
                }
                return;
            }
            None => {}
        }
        let owned_by = knowledge.ffi.iter().any(|f| f.owned_by.iter().any(|o| o.ends_with(&format!("::{name}"))));
        let is_drop = name == "drop";
        // `NonNull::new(ptr)`, `Handle(ptr)`, `Self(..)`: the value kept owns the argument.
        let builds_an_owner = role != Role::Ignore
            && (name.starts_with(|c: char| c.is_ascii_uppercase())
                || matches!(name.as_str(), "new" | "new_unchecked" | "from_raw" | "from_ptr"));
        self.expr(&call.func, Role::Ignore, out);
        for argument in &call.args {
            let by_value = self.arg_name(argument).and_then(|n| self.known(&n));
            match by_value {
                Some(var) if is_drop => out.push(Stmt::Close { var, span: at }),
                Some(var) if owned_by || builds_an_owner => {
                    out.push(Stmt::HandOff { var, how: HandOffHow::Store, span: at })
                }
                Some(var) if matches!(argument, syn::Expr::Path(_)) && !self.is_raw_handle(var) => {
                    out.push(Stmt::HandOff { var, how: HandOffHow::Store, span: at })
                }
                _ if builds_an_owner => self.expr(argument, Role::Move, out),
                _ => self.expr(argument, Role::Ignore, out),
            }
        }
        self.bind_nothing(role, at, out);
    }

    fn method_call(&mut self, call: &syn::ExprMethodCall, role: Role, out: &mut Block) {
        let at = self.span(call);
        let method = call.method.to_string();
        let receiver = match &*call.receiver {
            syn::Expr::Path(path) => path.path.get_ident().map(|i| i.to_string()).and_then(|n| self.known(&n)),
            _ => None,
        };
        if let Some(var) = receiver
            && self.finishes(var, &method)
        {
            for argument in &call.args {
                self.expr(argument, Role::Ignore, out);
            }
            out.push(Stmt::Close { var, span: at });
            self.bind_nothing(role, at, out);
            return;
        }
        if role != Role::Ignore && PASS_THROUGH_METHODS.contains(&method.as_str()) {
            // `NonNull::new(ptr).expect(..)`: the value goes on to what receives the result.
            for argument in &call.args {
                self.expr(argument, Role::Ignore, out);
            }
            self.expr(&call.receiver, role, out);
            return;
        }
        self.expr(&call.receiver, Role::Ignore, out);
        for argument in &call.args {
            self.expr(argument, self.argument_role(argument), out);
        }
        self.bind_nothing(role, at, out);
    }

    /// Whether `method` finishes what `var` holds (commit/rollback, or a close).
    fn finishes(&self, var: Var, method: &str) -> bool {
        self.sites.iter().any(|site| {
            site.binding == self.name_of(var).unwrap_or_default()
                && match &site.what {
                    SiteWhat::Transaction(resource) => {
                        self.scope.knowledge.resources[*resource].finish.iter().any(|m| m == method)
                    }
                    SiteWhat::Ffi { .. } => false,
                }
        })
    }

    fn is_raw_handle(&self, var: Var) -> bool {
        let name = self.name_of(var).unwrap_or_default();
        self.sites.iter().any(|s| s.binding == name && matches!(s.what, SiteWhat::Ffi { .. }))
    }

    fn name_of(&self, var: Var) -> Option<String> {
        self.vars.iter().find(|(_, v)| **v == var).map(|(n, _)| n.clone())
    }

    fn arg_name(&self, argument: &syn::Expr) -> Option<String> {
        match argument {
            syn::Expr::Path(path) => path.path.get_ident().map(|i| i.to_string()),
            syn::Expr::Paren(inner) => self.arg_name(&inner.expr),
            syn::Expr::Cast(cast) => self.arg_name(&cast.expr),
            _ => None,
        }
    }

    fn open(&mut self, what: SiteWhat, var: Var, at: Span, out: &mut Block) {
        let site = SiteId::try_from(self.sites.len()).unwrap_or(SiteId::MAX - 1);
        let binding = self.name_of(var).unwrap_or_default();
        self.sites.push(RustSite { span: at, what, binding });
        out.push(Stmt::Open { site, target: MaybeVar::from(var), owner: MaybeVar::NONE, span: at });
    }

    fn if_expr(&mut self, if_expr: &syn::ExprIf, role: Role, out: &mut Block) {
        self.expr(&if_expr.cond, Role::Ignore, out);
        let null_test = self.null_test(&if_expr.cond);
        let mut then_block = Block::new();
        self.block(&if_expr.then_branch, role, &mut then_block);
        let mut else_block = Block::new();
        if let Some((_, else_branch)) = &if_expr.else_branch {
            self.expr(else_branch, role, &mut else_block);
        }
        out.push(Stmt::If { branches: Box::new([then_block, else_block]), null_test });
    }

    /// `if handle.is_null()`: on that branch there is no handle to close.
    fn null_test(&self, condition: &syn::Expr) -> Option<NullTest> {
        match condition {
            syn::Expr::MethodCall(call) if call.method == "is_null" => {
                let name = self.arg_name(&call.receiver)?;
                Some(NullTest { var: self.known(&name)?, none_branch: 0 })
            }
            syn::Expr::Unary(unary) if matches!(unary.op, syn::UnOp::Not(_)) => {
                let inner = self.null_test(&unary.expr)?;
                Some(NullTest { var: inner.var, none_branch: 1 - inner.none_branch })
            }
            syn::Expr::Paren(inner) => self.null_test(&inner.expr),
            _ => None,
        }
    }

    fn mac(&mut self, mac: &syn::Macro, out: &mut Block) {
        let at = self.span(mac);
        let name = mac.path.segments.last().map(|s| s.ident.to_string()).unwrap_or_default();
        // Arguments that are expressions (`assert_eq!(sqlite3_close(db), SQLITE_OK)`) are
        // lowered; other macro bodies only borrow the names they mention.
        let parser = syn::punctuated::Punctuated::<syn::Expr, syn::Token![,]>::parse_terminated;
        match syn::parse::Parser::parse2(parser, mac.tokens.clone()) {
            Ok(arguments) => {
                for argument in &arguments {
                    self.expr(argument, Role::Ignore, out);
                }
            }
            Err(_) => {
                let mut names = Vec::new();
                collect_token_names(&mac.tokens, &mut names);
                for name in &names {
                    if let Some(var) = self.known(name) {
                        out.push(Stmt::Use { var, span: at });
                    }
                }
            }
        }
        if ERROR_MACROS.contains(&name.as_str()) {
            out.push(Stmt::Raise { span: at });
        } else if CHECK_MACROS.contains(&name.as_str()) {
            out.push(Stmt::MayRaise { span: at });
        } else if PANIC_MACROS.contains(&name.as_str()) {
            out.push(Stmt::Diverge);
        } else if ASSERT_MACROS.contains(&name.as_str()) {
            out.push(Stmt::If { branches: Box::new([Block::new(), vec![Stmt::Diverge]]), null_test: None });
        }
    }

    /// A closure or async block that mentions a local: `move` takes it, otherwise it borrows.
    fn captures(&mut self, body: &syn::Expr, moves: bool, out: &mut Block) {
        let mut names = Vec::new();
        collect_expr_names(body, &mut names);
        let at = self.span(body);
        self.capture_names(&names, moves, at, out);
    }

    fn capture_names(&mut self, names: &[String], moves: bool, at: Span, out: &mut Block) {
        for name in names {
            if let Some(var) = self.known(name) {
                if moves {
                    out.push(Stmt::HandOff { var, how: HandOffHow::Store, span: at });
                } else {
                    out.push(Stmt::Use { var, span: at });
                }
            }
        }
    }
}

/// `&mut db`, `&mut db as *mut _`, `ptr::addr_of_mut!(db)`, `&raw mut db`.
fn out_arg_name(argument: &syn::Expr) -> Option<String> {
    match argument {
        syn::Expr::Reference(reference) => match &*reference.expr {
            syn::Expr::Path(path) => path.path.get_ident().map(|i| i.to_string()),
            _ => None,
        },
        syn::Expr::RawAddr(raw) => match &*raw.expr {
            syn::Expr::Path(path) => path.path.get_ident().map(|i| i.to_string()),
            _ => None,
        },
        syn::Expr::Cast(cast) => out_arg_name(&cast.expr),
        syn::Expr::Paren(inner) => out_arg_name(&inner.expr),
        syn::Expr::Macro(mac) if mac.mac.path.segments.last().is_some_and(|s| s.ident == "addr_of_mut") => {
            syn::parse2::<syn::Expr>(mac.mac.tokens.clone()).ok().and_then(|e| match e {
                syn::Expr::Path(path) => path.path.get_ident().map(|i| i.to_string()),
                _ => None,
            })
        }
        _ => None,
    }
}

/// `Err(..)`, `Err(..).into()`, `Err(e)?`-free error returns.
fn is_err_call(expr: &syn::Expr) -> bool {
    match expr {
        syn::Expr::Call(call) => {
            matches!(&*call.func, syn::Expr::Path(p) if p.path.segments.last().is_some_and(|s| s.ident == "Err"))
        }
        syn::Expr::MethodCall(call) => is_err_call(&call.receiver),
        syn::Expr::Paren(inner) => is_err_call(&inner.expr),
        _ => false,
    }
}

fn collect_expr_names(expr: &syn::Expr, out: &mut Vec<String>) {
    struct Names<'o>(&'o mut Vec<String>);
    impl<'ast> syn::visit::Visit<'ast> for Names<'_> {
        fn visit_expr_path(&mut self, path: &'ast syn::ExprPath) {
            if let Some(ident) = path.path.get_ident() {
                self.0.push(ident.to_string());
            }
        }
        fn visit_macro(&mut self, mac: &'ast syn::Macro) {
            collect_token_names(&mac.tokens, self.0);
        }
    }
    syn::visit::Visit::visit_expr(&mut Names(out), expr);
}

fn collect_block_names(block: &syn::Block, out: &mut Vec<String>) {
    for stmt in &block.stmts {
        match stmt {
            syn::Stmt::Local(local) => {
                if let Some(init) = &local.init {
                    collect_expr_names(&init.expr, out);
                }
            }
            syn::Stmt::Expr(expr, _) => collect_expr_names(expr, out),
            syn::Stmt::Macro(mac) => collect_token_names(&mac.mac.tokens, out),
            syn::Stmt::Item(_) => {}
        }
    }
}

fn collect_token_names(tokens: &proc_macro2::TokenStream, out: &mut Vec<String>) {
    for token in tokens.clone() {
        match token {
            proc_macro2::TokenTree::Ident(ident) => out.push(ident.to_string()),
            proc_macro2::TokenTree::Group(group) => collect_token_names(&group.stream(), out),
            _ => {}
        }
    }
}
