//! The obligation checker: on which paths does an opened resource stay open when it becomes
//! unreachable?
//!
//! Each open site is analysed on its own ("must-call" typestate per allocation site). A path
//! state records whether the site's resource is open, which names hold it, whether a `with`
//! holds it for closing, and whether the path went through an exception edge while it was open.
//! The walk follows the structured IR; loops iterate to a fixpoint (the state space is finite).
//!
//! Precision contract (what the checker assumes, so that it does not cry wolf):
//! - An `except` handler catches every exception its `try` body raises.
//! - On the branch of a null test (`if x is None`, `if not x`) the resource named by `x` is not
//!   open.
//! - When a re-open or a rebinding overwrites a name while another name still holds the old
//!   resource, the old resource is no longer tracked (it is not reported).
//! - A hand-off ends the function's responsibility for good.
//!
//! The checker knows no language: what a site opens and what its context manager does come from
//! the frontend through [`SiteBehaviour`].

use std::collections::BTreeMap;

use crate::diagnostic::Span;
use crate::ir::{Arg, Block, Function, HandOffHow, NullTest, SiteId, Stmt, Var, WithExit, WithItem};

/// What a callee does with an argument.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArgumentEffect {
    /// Uses it and gives it back: the caller still has to close it.
    Borrow,
    /// Closes it.
    Close,
    /// Keeps it (stores it, registers it, hands it on).
    Take,
}

/// What the checker asks the frontend about sites and calls.
pub trait Oracle {
    /// What an open site opens; `None` when it is not a resource.
    fn site(&self, site: SiteId) -> Option<SiteBehaviour>;
    /// What the call at `call` does with the argument `arg` (a keyword by its name).
    fn argument(&self, call: SiteId, arg: Arg<&str>) -> ArgumentEffect;
    /// Whether calling `method` on a lazy resource of `site` makes it hold something.
    fn activates(&self, _site: SiteId, _method: &str) -> bool {
        false
    }
    /// Whether `method` closes the resource of `site` (a method that closes only some kinds of
    /// resource: `read()` to the end releases an HTTP response, not a file).
    fn closes(&self, _site: SiteId, _method: &str) -> bool {
        false
    }
}

/// An oracle from a site table only: every argument is borrowed.
pub struct SitesOnly<F: Fn(SiteId) -> Option<SiteBehaviour>>(pub F);

impl<F: Fn(SiteId) -> Option<SiteBehaviour>> Oracle for SitesOnly<F> {
    fn site(&self, site: SiteId) -> Option<SiteBehaviour> {
        (self.0)(site)
    }
    fn argument(&self, _call: SiteId, _arg: Arg<&str>) -> ArgumentEffect {
        ArgumentEffect::Borrow
    }
}

/// What the frontend knows about an open site that the checker needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SiteBehaviour {
    /// What leaving `with x:` does to the resource.
    pub context_exit: ContextExit,
    /// It holds nothing until a method the oracle names is called (`HTTPConnection.request`).
    pub lazy: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContextExit {
    /// The context manager closes (or releases) the resource.
    Closes,
    /// The context manager only ends a transaction; the resource stays open.
    EndsTransaction,
    /// The object is no context manager.
    None,
}

/// Where a path left the function with the resource still open.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LeakExit {
    /// The end of the function body.
    FallThrough,
    /// A `return` statement.
    Return(Span),
    /// The last name holding it was rebound (or the site opened again, for example in a loop).
    Overwritten(Span),
    /// An exception leaves the function; the span is the statement that raises.
    Exception(Span),
}

/// What the checker found for one open site.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SiteReport {
    pub site: SiteId,
    /// A path without any exception on which the resource stays open.
    pub normal_leak: Option<LeakExit>,
    /// A path on which an exception (raised or caught) leaves the resource open; `raised_at` is
    /// the statement whose exception started it.
    pub error_leak: Option<ErrorLeak>,
    /// Closed (by a call or a closing `with`) on at least one path.
    pub closed: bool,
    /// Handed off on at least one path, and how (the first seen).
    pub handed_off: Option<HandOffHow>,
    /// Returned to the caller on at least one path: the function is a factory.
    pub returned: bool,
    /// A `with` on it whose context manager only ends the transaction.
    pub transaction_with: Option<Span>,
    /// Opened and never bound to a name.
    pub discarded: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ErrorLeak {
    pub raised_at: Span,
    pub exit: LeakExit,
}

/// Checks every site that the oracle knows (the others are not resources).
pub fn check_function(func: &Function, oracle: &dyn Oracle) -> Vec<SiteReport> {
    let mut sites = Vec::new();
    collect_sites(&func.body, &mut sites);
    sites.sort_unstable();
    sites.dedup();
    sites.into_iter().filter_map(|site| oracle.site(site).map(|b| check_site(func, site, b, oracle, None))).collect()
}

/// The site id that stands for "the value the parameter holds on entry".
pub const PARAMETER_SITE: SiteId = SiteId::MAX;

/// What a function does with a resource it receives in `param`: closes it or keeps it on some
/// path, or only borrows it.
pub fn parameter_effect(func: &Function, param: Var, oracle: &dyn Oracle) -> ArgumentEffect {
    let behaviour = SiteBehaviour { context_exit: ContextExit::Closes, lazy: false };
    let report = check_site(func, PARAMETER_SITE, behaviour, oracle, Some(param));
    if report.handed_off.is_some() {
        ArgumentEffect::Take
    } else if report.closed {
        ArgumentEffect::Close
    } else {
        ArgumentEffect::Borrow
    }
}

fn collect_sites(block: &Block, out: &mut Vec<SiteId>) {
    for stmt in block {
        match stmt {
            Stmt::Open { site, .. } => out.push(*site),
            _ => stmt.for_each_child_block(|b| collect_sites(b, out)),
        }
    }
}

fn check_site(
    func: &Function,
    site: SiteId,
    behaviour: SiteBehaviour,
    oracle: &dyn Oracle,
    held_on_entry: Option<Var>,
) -> SiteReport {
    let mut walker = SiteWalker {
        func,
        site,
        owner: None,
        behaviour,
        oracle,
        report: SiteReport {
            site,
            normal_leak: None,
            error_leak: None,
            closed: false,
            handed_off: None,
            returned: false,
            transaction_with: None,
            discarded: false,
        },
    };
    let mut entry = States::new();
    let start = match held_on_entry {
        Some(var) => PathState { status: Status::Open, holders: vec![var], via_exception: false, guarded_by: None },
        None => PathState::unopened(),
    };
    entry.insert(start, Trace::default());
    let flow = walker.block(&func.body, entry);
    for (state, trace) in flow.normal.iter() {
        walker.leak_if_open(state, trace, LeakExit::FallThrough);
    }
    for (state, trace) in flow.returned.iter() {
        let exit = trace.returned_at.map_or(LeakExit::FallThrough, LeakExit::Return);
        walker.leak_if_open(state, trace, exit);
    }
    for (state, trace) in flow.raised.iter() {
        let at = trace.raised_at.unwrap_or(func.span);
        walker.leak_if_open(state, trace, LeakExit::Exception(at));
    }
    walker.report
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Status {
    Unopened,
    /// Created, but holding nothing until its first real use (a lazily connecting client).
    Dormant,
    Open,
    Done,
}

/// One abstract path state for the site under analysis.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct PathState {
    status: Status,
    /// The names holding the resource (sorted); empty unless `Open`.
    holders: Vec<Var>,
    /// The path went through an exception edge while the resource was open.
    via_exception: bool,
    /// The `with` (by span start) that holds the resource and will close it on exit.
    guarded_by: Option<u32>,
}

impl PathState {
    fn unopened() -> Self {
        PathState { status: Status::Unopened, holders: Vec::new(), via_exception: false, guarded_by: None }
    }
    fn done() -> Self {
        PathState { status: Status::Done, holders: Vec::new(), via_exception: false, guarded_by: None }
    }
    /// Holding a resource that must be closed.
    fn is_open(&self) -> bool {
        self.status == Status::Open
    }
    /// Created and not yet closed or handed off (open, or dormant).
    fn is_live(&self) -> bool {
        matches!(self.status, Status::Open | Status::Dormant)
    }
    fn holds(&self, var: Var) -> bool {
        self.is_live() && self.holders.binary_search(&var).is_ok()
    }
}

/// Where a path's exception came from and where it returned, kept beside the state (not part of
/// its identity) so that states differing only in these merge; the earliest span wins.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Trace {
    raised_at: Option<Span>,
    returned_at: Option<Span>,
}

impl Trace {
    fn merge(&mut self, other: Trace) {
        self.raised_at = earliest(self.raised_at, other.raised_at);
        self.returned_at = earliest(self.returned_at, other.returned_at);
    }
}

fn earliest(a: Option<Span>, b: Option<Span>) -> Option<Span> {
    match (a, b) {
        (Some(a), Some(b)) => Some(if b.start < a.start { b } else { a }),
        (a, b) => a.or(b),
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct States(BTreeMap<PathState, Trace>);

impl States {
    fn new() -> Self {
        States(BTreeMap::new())
    }
    fn insert(&mut self, state: PathState, trace: Trace) {
        self.0.entry(state).and_modify(|t| t.merge(trace)).or_insert(trace);
    }
    fn extend(&mut self, other: States) {
        for (s, t) in other.0 {
            self.insert(s, t);
        }
    }
    fn iter(&self) -> impl Iterator<Item = (&PathState, &Trace)> {
        self.0.iter()
    }
    fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
    fn map(self, mut f: impl FnMut(PathState, Trace) -> Option<(PathState, Trace)>) -> States {
        let mut out = States::new();
        for (s, t) in self.0 {
            if let Some((s, t)) = f(s, t) {
                out.insert(s, t);
            }
        }
        out
    }
}

/// The states leaving a block, by how they leave it.
#[derive(Debug, Default)]
struct Flow {
    normal: States,
    raised: States,
    returned: States,
    broke: States,
    continued: States,
}

impl Flow {
    /// Merges every way out of `other` into the same way out of `self`.
    fn merge(&mut self, mut other: Flow) {
        self.normal.extend(std::mem::take(&mut other.normal));
        self.absorb_exits(other);
    }

    /// Merges every way out of `other` but the normal one.
    fn absorb_exits(&mut self, other: Flow) {
        self.raised.extend(other.raised);
        self.returned.extend(other.returned);
        self.broke.extend(other.broke);
        self.continued.extend(other.continued);
    }
}

/// Bounds the loop fixpoint; the state space is finite, so this only guards against a bug.
const MAX_LOOP_ROUNDS: usize = 64;

struct SiteWalker<'o> {
    /// The function walked, for the names its statements refer to by id.
    func: &'o Function,
    site: SiteId,
    /// The resource the site's resource comes from: closing it releases this one too.
    owner: Option<Var>,
    behaviour: SiteBehaviour,
    oracle: &'o dyn Oracle,
    report: SiteReport,
}

impl SiteWalker<'_> {
    fn leak_if_open(&mut self, state: &PathState, trace: &Trace, exit: LeakExit) {
        if !state.is_open() || state.guarded_by.is_some() {
            return;
        }
        let exceptional = state.via_exception || matches!(exit, LeakExit::Exception(_));
        if exceptional {
            let raised_at = trace.raised_at.or(match exit {
                LeakExit::Exception(at) => Some(at),
                _ => None,
            });
            if let Some(raised_at) = raised_at {
                let leak = ErrorLeak { raised_at, exit };
                self.report.error_leak = Some(match self.report.error_leak {
                    Some(old) if old.raised_at.start <= raised_at.start => old,
                    _ => leak,
                });
            }
        } else {
            self.report.normal_leak = Some(match self.report.normal_leak {
                Some(old) if exit_pos(old) <= exit_pos(exit) => old,
                _ => exit,
            });
        }
    }

    fn block(&mut self, block: &Block, entry: States) -> Flow {
        let mut flow = Flow { normal: entry, ..Flow::default() };
        for stmt in block {
            if flow.normal.is_empty() {
                break;
            }
            let current = std::mem::take(&mut flow.normal);
            let mut step = self.stmt(stmt, current);
            flow.normal = std::mem::take(&mut step.normal);
            flow.absorb_exits(step);
        }
        flow
    }

    fn stmt(&mut self, stmt: &Stmt, entry: States) -> Flow {
        match stmt {
            Stmt::Open { site, target, owner, span } => {
                if *site == self.site {
                    self.owner = owner.get();
                }
                Flow { normal: self.open(*site, target.get(), *span, entry), ..Flow::default() }
            }
            Stmt::Close { var, .. } => Flow { normal: self.close(*var, entry), ..Flow::default() },
            Stmt::HandOff { var, how, .. } => Flow { normal: self.hand_off(*var, *how, entry), ..Flow::default() },
            Stmt::Use { .. } | Stmt::Await { .. } => Flow { normal: entry, ..Flow::default() },
            Stmt::MethodCall { var, method, .. } if self.oracle.closes(self.site, self.func.name(*method)) => {
                Flow { normal: self.close(*var, entry), ..Flow::default() }
            }
            Stmt::MethodCall { var, method, .. } => {
                let activates = self.behaviour.lazy && self.oracle.activates(self.site, self.func.name(*method));
                let normal = entry.map(|mut state, trace| {
                    if activates && state.status == Status::Dormant && state.holds(*var) {
                        state.status = Status::Open;
                    }
                    Some((state, trace))
                });
                Flow { normal, ..Flow::default() }
            }
            Stmt::Pass { var, call, arg, .. } => {
                let holds = entry.iter().any(|(s, _)| s.holds(*var));
                let effect = if holds {
                    self.oracle.argument(*call, arg.map_name(|id| self.func.name(id)))
                } else {
                    ArgumentEffect::Borrow
                };
                let normal = match effect {
                    ArgumentEffect::Borrow => entry,
                    ArgumentEffect::Close => self.close(*var, entry),
                    ArgumentEffect::Take => self.hand_off(*var, HandOffHow::Store, entry),
                };
                Flow { normal, ..Flow::default() }
            }
            Stmt::Assign { dst, src, span } => {
                Flow { normal: self.assign(*dst, *src, *span, entry), ..Flow::default() }
            }
            Stmt::MayRaise { span } => {
                let raised = raise_from(&entry, *span);
                Flow { normal: entry, raised, ..Flow::default() }
            }
            Stmt::Raise { span } => Flow { raised: raise_from(&entry, *span), ..Flow::default() },
            Stmt::Return { span } => {
                let returned = entry.map(|s, mut t| {
                    t.returned_at = earliest(t.returned_at, Some(*span));
                    Some((s, t))
                });
                Flow { returned, ..Flow::default() }
            }
            Stmt::Diverge => Flow::default(),
            Stmt::Break => Flow { broke: entry, ..Flow::default() },
            Stmt::Continue => Flow { continued: entry, ..Flow::default() },
            Stmt::If { branches, null_test } => self.if_(branches, *null_test, entry),
            Stmt::Loop(blocks) => self.loop_(&blocks.body, &blocks.orelse, blocks.infinite, entry),
            Stmt::Try(blocks) => self.try_(&blocks.body, &blocks.handlers, &blocks.orelse, &blocks.finally, entry),
            Stmt::With(with) => self.with(&with.items, &with.body, with.span, entry),
        }
    }

    fn open(&mut self, site: SiteId, target: Option<Var>, span: Span, entry: States) -> States {
        if site != self.site {
            // Another site binding `target` rebinds it, as far as this site is concerned.
            return match target {
                Some(var) => self.assign(var, None, span, entry),
                None => entry,
            };
        }
        let Some(var) = target else {
            self.report.discarded = true;
            return entry;
        };
        entry.map(|state, trace| {
            if state.is_open() && state.guarded_by.is_none() && state.holders == [var] {
                self.leak_if_open(&state, &trace, LeakExit::Overwritten(span));
            }
            let status = if self.behaviour.lazy { Status::Dormant } else { Status::Open };
            let fresh = PathState { status, holders: vec![var], via_exception: false, guarded_by: None };
            Some((fresh, Trace::default()))
        })
    }

    fn close(&mut self, var: Var, entry: States) -> States {
        let owner = self.owner == Some(var);
        entry.map(|state, trace| {
            if state.holds(var) || (owner && state.is_live()) {
                self.report.closed = true;
                Some((PathState::done(), trace))
            } else {
                Some((state, trace))
            }
        })
    }

    fn hand_off(&mut self, var: Var, how: HandOffHow, entry: States) -> States {
        let owner = self.owner == Some(var);
        entry.map(|state, trace| {
            if state.holds(var) || (owner && state.is_live()) {
                self.report.handed_off.get_or_insert(how);
                // Only the resource itself being returned makes the function its factory.
                self.report.returned |= how == HandOffHow::Return && state.holds(var);
                Some((PathState::done(), trace))
            } else {
                Some((state, trace))
            }
        })
    }

    fn assign(&mut self, dst: Var, src: Option<Var>, span: Span, entry: States) -> States {
        entry.map(|mut state, trace| {
            if !state.is_live() {
                return Some((state, trace));
            }
            let src_holds = src.is_some_and(|s| state.holds(s));
            match state.holders.binary_search(&dst) {
                Ok(i) if !src_holds => {
                    state.holders.remove(i);
                    if state.holders.is_empty() {
                        self.leak_if_open(&state, &trace, LeakExit::Overwritten(span));
                        return Some((PathState::done(), trace));
                    }
                }
                Err(i) if src_holds => state.holders.insert(i, dst),
                _ => {}
            }
            Some((state, trace))
        })
    }

    fn if_(&mut self, branches: &[Block], null_test: Option<NullTest>, entry: States) -> Flow {
        let mut out = Flow::default();
        for (i, branch) in branches.iter().enumerate() {
            let mut branch_entry = entry.clone();
            if let Some(test) = null_test.filter(|t| t.none_branch as usize == i) {
                // On this branch the name is None, so it cannot hold the open resource.
                branch_entry = branch_entry.map(|s, t| (!s.holds(test.var)).then_some((s, t)));
            }
            out.merge(self.block(branch, branch_entry));
        }
        out
    }

    fn loop_(&mut self, body: &Block, orelse: &Block, infinite: bool, entry: States) -> Flow {
        let mut head = entry;
        let mut exits = Flow::default();
        for _ in 0..MAX_LOOP_ROUNDS {
            let flow = self.block(body, head.clone());
            let mut next = head.clone();
            next.extend(flow.normal);
            next.extend(flow.continued);
            exits.raised.extend(flow.raised);
            exits.returned.extend(flow.returned);
            exits.broke.extend(flow.broke);
            if next == head {
                break;
            }
            head = next;
        }
        let after_condition = if infinite { States::new() } else { head };
        let else_flow = self.block(orelse, after_condition);
        let mut out = Flow { normal: else_flow.normal, ..Flow::default() };
        out.normal.extend(std::mem::take(&mut exits.broke));
        out.raised = exits.raised;
        out.returned = exits.returned;
        out.raised.extend(else_flow.raised);
        out.returned.extend(else_flow.returned);
        out.broke.extend(else_flow.broke);
        out.continued.extend(else_flow.continued);
        out
    }

    fn try_(&mut self, body: &Block, handlers: &[Block], orelse: &Block, finally: &Block, entry: States) -> Flow {
        let body_flow = self.block(body, entry);
        let mut out = Flow::default();
        if handlers.is_empty() {
            out.raised.extend(body_flow.raised);
        } else {
            for handler in handlers {
                out.merge(self.block(handler, body_flow.raised.clone()));
            }
        }
        out.merge(self.block(orelse, body_flow.normal));
        out.returned.extend(body_flow.returned);
        out.broke.extend(body_flow.broke);
        out.continued.extend(body_flow.continued);
        if finally.is_empty() {
            return out;
        }
        // Every way out of the try passes through the finally block and then continues its way.
        let mut result = Flow::default();
        let normal = self.through_finally(finally, out.normal, &mut result);
        result.normal.extend(normal);
        let raised = self.through_finally(finally, out.raised, &mut result);
        result.raised.extend(raised);
        let returned = self.through_finally(finally, out.returned, &mut result);
        result.returned.extend(returned);
        let broke = self.through_finally(finally, out.broke, &mut result);
        result.broke.extend(broke);
        let continued = self.through_finally(finally, out.continued, &mut result);
        result.continued.extend(continued);
        result
    }

    /// Runs `finally` on `states`; its own exits go to `result`, and the states that come out
    /// of its end are returned to continue the way they came.
    fn through_finally(&mut self, finally: &Block, states: States, result: &mut Flow) -> States {
        if states.is_empty() {
            return states;
        }
        let mut flow = self.block(finally, states);
        let normal = std::mem::take(&mut flow.normal);
        result.absorb_exits(flow);
        normal
    }

    fn with(&mut self, items: &[WithItem], body: &Block, span: Span, entry: States) -> Flow {
        let guard_id = span.start;
        let mut entry = entry;
        for item in items {
            let closes = match item.exit {
                WithExit::Closes => true,
                WithExit::OwnContextManager => match self.behaviour.context_exit {
                    ContextExit::Closes => true,
                    ContextExit::EndsTransaction => {
                        if entry.iter().any(|(s, _)| s.holds(item.var)) {
                            self.report.transaction_with.get_or_insert(item.span);
                        }
                        false
                    }
                    ContextExit::None => false,
                },
            };
            if closes {
                entry = entry.map(|mut s, t| {
                    if s.holds(item.var) && s.guarded_by.is_none() {
                        s.guarded_by = Some(guard_id);
                    }
                    Some((s, t))
                });
            }
        }
        let mut flow = self.block(body, entry);
        let mut release = |states: States| {
            states.map(|s, t| {
                if s.is_live() && s.guarded_by == Some(guard_id) {
                    self.report.closed = true;
                    Some((PathState::done(), t))
                } else {
                    Some((s, t))
                }
            })
        };
        flow.normal = release(flow.normal);
        flow.raised = release(flow.raised);
        flow.returned = release(flow.returned);
        flow.broke = release(flow.broke);
        flow.continued = release(flow.continued);
        flow
    }
}

/// The states an exception raised here carries: the current ones, marked as exceptional.
fn raise_from(entry: &States, at: Span) -> States {
    entry.clone().map(|mut s, mut t| {
        if s.is_open() && s.guarded_by.is_none() {
            s.via_exception = true;
            t.raised_at = earliest(t.raised_at, Some(at));
        }
        Some((s, t))
    })
}

fn exit_pos(exit: LeakExit) -> u32 {
    match exit {
        LeakExit::FallThrough => u32::MAX,
        LeakExit::Return(s) | LeakExit::Overwritten(s) | LeakExit::Exception(s) => s.start,
    }
}
