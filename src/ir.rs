//! The resource IR: a function body reduced to what matters for the lifetime of a resource.
//!
//! A frontend (Python, Rust) lowers each function to a [`Function`]; the [`crate::checker`] walks
//! it. The IR knows no language and no parser: names are interned [`Var`]s, places are byte
//! [`Span`]s, and every open site is a [`SiteId`] whose meaning (what the resource is, what its
//! `with` does) the frontend keeps in its own table.
//!
//! Invariants the frontends keep:
//! - Control flow is structured: `If`, `Loop`, `Try` and `With` nest; there is no goto.
//! - A statement that can raise is preceded by a [`Stmt::MayRaise`] at the point where the
//!   exception would leave, so the state the exception carries is the state before the statement.
//! - An `Open` binds its site to `target` only after the call returned (a failing open holds
//!   nothing).

use crate::diagnostic::Span;

/// An interned local name of one function.
pub type Var = u32;

/// A [`Var`] or none, in the four bytes of a `Var`: `Option<Var>` takes eight, and a statement
/// holding two of them would not fit in 24 bytes (see the assertion at the end). No function
/// has `u32::MAX` names, so that value stands for none.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct MaybeVar(u32);

impl MaybeVar {
    pub const NONE: MaybeVar = MaybeVar(u32::MAX);

    pub fn get(self) -> Option<Var> {
        (self != MaybeVar::NONE).then_some(self.0)
    }

    pub fn is_some(self) -> bool {
        self != MaybeVar::NONE
    }
}

impl From<Option<Var>> for MaybeVar {
    fn from(var: Option<Var>) -> Self {
        match var {
            Some(var) => {
                debug_assert!(var != u32::MAX, "a Var of u32::MAX reads as none");
                MaybeVar(var)
            }
            None => MaybeVar::NONE,
        }
    }
}

impl From<Var> for MaybeVar {
    fn from(var: Var) -> Self {
        MaybeVar::from(Some(var))
    }
}

impl std::fmt::Debug for MaybeVar {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.get().fmt(f)
    }
}

/// A method or keyword name of one function: an index into [`Function::names`].
pub type NameId = u32;

/// An open site of one function: an index into the frontend's site table.
pub type SiteId = u32;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Function {
    /// The span of the `def` header, for messages about the function itself.
    pub span: Span,
    pub body: Block,
    /// The number of interned names, so the checker can size its tables.
    pub var_count: u32,
    /// The method and keyword names its statements call and pass, by [`NameId`]: a statement
    /// holds an id rather than a string of its own, to stay small (see the assertion at the
    /// end), and a function calls the same few methods again and again.
    pub names: Box<[Box<str>]>,
}

impl Function {
    /// The method or keyword name `id` stands for.
    pub fn name(&self, id: NameId) -> &str {
        &self.names[id as usize]
    }
}

pub type Block = Vec<Stmt>;

/// How a value leaves the function's responsibility.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HandOffHow {
    /// `return x` (the function is a factory).
    Return,
    /// `yield x` in a plain generator.
    Yield,
    /// Stored on an attribute, in a container, a global, a closure, or given to a constructor.
    Store,
    /// Registered for closing elsewhere: `ExitStack.enter_context`, `atexit.register(x.close)`,
    /// `closing(x)`, `weakref.finalize`, `addCleanup(x.close)`.
    Registered,
}

/// What leaving a `with` block does to the resource named by the item.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WithExit {
    /// Whatever the resource's own context manager does (looked up through its site).
    OwnContextManager,
    /// A wrapper that closes it: `closing(x)`, a context manager known to close.
    Closes,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WithItem {
    pub var: Var,
    pub exit: WithExit,
    /// The span of the item, for messages.
    pub span: Span,
}

/// What a condition tells about a name on each branch of an `If`.
///
/// Packed (five bytes, alignment one) so that the statement's tag and an `Option<NullTest>` fit
/// in the eight bytes beside the `If`'s boxed branches: unpacked it would take twelve, and every
/// statement would be 32 bytes instead of 24. Its fields are read by value, never borrowed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(C, packed)]
pub struct NullTest {
    pub var: Var,
    /// The index of the branch on which `var` is known to be `None` (or unbound); an `If` with
    /// a null test has two branches.
    pub none_branch: u8,
}

/// Which argument of a call a value is passed as. In a statement a keyword is a [`NameId`] of
/// the function (a string each would make every statement larger); an
/// [`Oracle`](crate::checker::Oracle) is given it as `Arg<&str>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Arg<Name = NameId> {
    /// The n-th positional argument (from 0, not counting a method's receiver).
    Position(u32),
    /// A keyword argument.
    Keyword(Name),
}

impl<Name> Arg<Name> {
    /// The same argument with the keyword's name given by `f`.
    pub fn map_name<Other>(self, f: impl FnOnce(Name) -> Other) -> Arg<Other> {
        match self {
            Arg::Position(n) => Arg::Position(n),
            Arg::Keyword(name) => Arg::Keyword(f(name)),
        }
    }

    /// A borrowed view, as `Option::as_deref`.
    pub fn as_deref(&self) -> Arg<&Name::Target>
    where
        Name: std::ops::Deref,
    {
        match self {
            Arg::Position(n) => Arg::Position(*n),
            Arg::Keyword(name) => Arg::Keyword(&**name),
        }
    }
}

/// The blocks of a `try` statement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TryBlocks {
    pub body: Block,
    pub handlers: Vec<Block>,
    pub orelse: Block,
    pub finally: Block,
}

/// A loop: `infinite` loops (`while True:`) leave only by `break`, `return` or an exception.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoopBlocks {
    pub body: Block,
    pub orelse: Block,
    pub infinite: bool,
}

/// A `with` statement: its items, in order, and its body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WithBlock {
    pub items: Vec<WithItem>,
    pub body: Block,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Stmt {
    /// A resource is opened at `site` and bound to `target`; none when the value is never bound.
    /// `owner` is the resource it comes from (`pool` in `pool.acquire()`): closing or handing
    /// off the owner releases it too.
    Open {
        site: SiteId,
        target: MaybeVar,
        owner: MaybeVar,
        span: Span,
    },
    /// `x.close()` and its equivalents.
    Close {
        var: Var,
        span: Span,
    },
    HandOff {
        var: Var,
        how: HandOffHow,
        span: Span,
    },
    /// The resource named by `var` is used (read, called as a receiver).
    Use {
        var: Var,
        span: Span,
    },
    /// A method of the resource named by `var` is called (some resources open on first use);
    /// `method` is its name in [`Function::names`].
    MethodCall {
        var: Var,
        method: NameId,
        span: Span,
    },
    /// `var` is passed as an argument to the call at site `call`; what the callee does with it
    /// (borrow, close, keep) is for the frontend to say.
    Pass {
        var: Var,
        call: SiteId,
        arg: Arg,
    },
    /// `dst = src`: `dst` becomes another name for whatever `src` names; with `src: None`, `dst`
    /// is rebound to something that is not a tracked resource (or deleted).
    Assign {
        dst: Var,
        src: Option<Var>,
        span: Span,
    },
    /// The following statement can raise; an exception here carries the current state.
    MayRaise {
        span: Span,
    },
    /// An explicit `raise`.
    Raise {
        span: Span,
    },
    /// The path ends here without leaving the function normally or by an exception the caller
    /// sees: a panic, an abort, `os._exit`.
    Diverge,
    Return {
        span: Span,
    },
    Break,
    Continue,
    /// A suspension point (`await`); listed for frontends whose rules care about it.
    Await {
        span: Span,
    },
    If {
        branches: Box<[Block]>,
        null_test: Option<NullTest>,
    },
    /// Boxed, as are `Try` and `With`: they are rare, and their blocks inline would make every
    /// statement twice as large.
    Loop(Box<LoopBlocks>),
    Try(Box<TryBlocks>),
    With(Box<WithBlock>),
}

impl Stmt {
    /// Calls `f` on each block directly inside this statement, in order.
    pub fn for_each_child_block<'a>(&'a self, mut f: impl FnMut(&'a Block)) {
        match self {
            Stmt::If { branches, .. } => branches.iter().for_each(f),
            Stmt::Loop(blocks) => {
                f(&blocks.body);
                f(&blocks.orelse);
            }
            Stmt::Try(blocks) => {
                let TryBlocks { body, handlers, orelse, finally } = &**blocks;
                f(body);
                handlers.iter().for_each(&mut f);
                f(orelse);
                f(finally);
            }
            Stmt::With(with) => f(&with.body),
            _ => {}
        }
    }
}

/// Calls `f` on every statement of `block`, nested ones included, each before those inside it.
pub fn visit(block: &[Stmt], f: &mut dyn FnMut(&Stmt)) {
    for stmt in block {
        f(stmt);
        stmt.for_each_child_block(|inner| visit(inner, f));
    }
}

// Every lowered statement is kept until the run ends (157,000 over CPython's `Lib`): a larger
// variant grows them all. Hence the four-byte optional vars of `Open`, the
// names as ids into the function's table, and the packed null test of `If`.
const _: () = assert!(std::mem::size_of::<Stmt>() <= 24);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maybe_var_keeps_every_var_and_none() {
        for var in [Some(0), Some(7), Some(u32::MAX - 1), None] {
            assert_eq!(MaybeVar::from(var).get(), var);
            assert_eq!(MaybeVar::from(var).is_some(), var.is_some());
        }
    }
}
