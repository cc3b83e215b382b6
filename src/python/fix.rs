//! What the Python rules' fixes share: the name `contextlib.closing` is reachable under (and the
//! import that brings it in), a fresh local name, and the rewrite of `x = OPEN(...)` and the
//! statements after it into a block of their own, `with ... as x:` or `try:`/`finally:`.
//!
//! Every edit is made of the file's own text and line endings; nothing here parses.

use super::knowledge::{CloseOn, ContextManager, Kind, Returns};
use super::layout::{BoundStatement, CloseStatement, SiteLayout, indentation_before};
use super::lower::{LoweredFunction, LoweredModule};
use super::rules::SiteFinding;
use crate::diagnostic::{Edit, Span};
use crate::fix::{line_ending, line_ending_at, line_start, next_line_start};
use crate::ir::{Block, Function, SiteId, Stmt, Var, WithExit, visit};

/// How a fix names `contextlib.closing`, and the import it needs for that, if any.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Closing {
    pub name: String,
    pub import: Option<Edit>,
}

/// What a name means inside a function, as far as its own scopes say.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Local<'a> {
    /// Not bound in the function or the functions around it: it is the module's.
    Free,
    /// Imported there as this qualified name.
    Imports(&'a str),
    /// Bound there to something else (or maybe).
    Shadowed,
}

/// The function and the functions it is nested in, innermost first.
fn scopes<'m>(module: &'m LoweredModule, function: &'m LoweredFunction) -> Vec<&'m LoweredFunction> {
    let mut out = vec![function];
    let mut enclosing: Vec<&LoweredFunction> =
        module.functions.iter().filter(|f| function.qualified.starts_with(&format!("{}.", f.qualified))).collect();
    enclosing.sort_by_key(|f| std::cmp::Reverse(f.qualified.len()));
    out.extend(enclosing);
    out
}

fn local_meaning<'m>(scopes: &[&'m LoweredFunction], name: &str) -> Local<'m> {
    for function in scopes {
        if let Some((_, qualified)) = function.layout().imports.iter().find(|(local, _)| local == name) {
            return Local::Imports(qualified);
        }
        if function.layout().locals.iter().any(|local| local == name) {
            return Local::Shadowed;
        }
    }
    Local::Free
}

/// How `function` can call `contextlib.closing`: through an import the module or the function
/// has, or through one the fix adds (`from contextlib import closing`, or `import contextlib`
/// when a name `closing` is taken). `None` when every way is shadowed.
pub fn closing(source: &str, module: &LoweredModule, function: &LoweredFunction) -> Option<Closing> {
    let scopes = scopes(module, function);
    let reaches = |name: &str, qualified: &str| match local_meaning(&scopes, name) {
        Local::Free => true,
        Local::Imports(q) => q == qualified,
        Local::Shadowed => false,
    };
    let layout = &module.layout;
    if let Some(name) = layout.closing.as_deref().filter(|n| reaches(n, "contextlib.closing")) {
        return Some(Closing { name: name.to_string(), import: None });
    }
    if local_meaning(&scopes, "closing") == Local::Imports("contextlib.closing") {
        return Some(Closing { name: "closing".to_string(), import: None });
    }
    if let Some(module_name) = layout.contextlib.as_deref().filter(|n| reaches(n, "contextlib")) {
        return Some(Closing { name: format!("{module_name}.closing"), import: None });
    }
    let free = |name: &str| !layout.is_taken(name) && local_meaning(&scopes, name) == Local::Free;
    let (name, statement) = if free("closing") {
        ("closing", "from contextlib import closing")
    } else if free("contextlib") {
        ("contextlib.closing", "import contextlib")
    } else {
        return None;
    };
    Some(Closing { name: name.to_string(), import: Some(import_edit(source, module, statement)) })
}

/// Adds an import line where the module's imports end. Every fix that needs the same import
/// makes the same edit, so it is applied once.
fn import_edit(source: &str, module: &LoweredModule, statement: &str) -> Edit {
    let at = module.layout.import_at;
    let newline = line_ending(source);
    let content = if at == source.len() && !source.is_empty() && !source.ends_with('\n') {
        format!("{newline}{statement}{newline}")
    } else if module.layout.after_header {
        format!("{statement}{newline}")
    } else if module.layout.before_definition {
        format!("{statement}{newline}{newline}{newline}")
    } else {
        format!("{statement}{newline}{newline}")
    };
    Edit::insert(at, content)
}

/// `base`, or `base2`, `base3`... whichever the function does not mention (`None` when its
/// names were not collected).
pub fn fresh_name(function: &LoweredFunction, base: &str) -> Option<String> {
    let names = function.layout().names.as_ref()?;
    if !names.contains(base) {
        return Some(base.to_string());
    }
    (2..).map(|n| format!("{base}{n}")).find(|name| !names.contains(name))
}

/// What the IR says about the name an open binds.
struct Events {
    closes: Vec<Span>,
    /// Rebindings of the name, other than the open itself.
    rebinds: Vec<Span>,
    /// Another name is made to hold it, or a `with closing(x)` closes it.
    aliased_or_wrapped: bool,
    /// An `if x is None`/`if not x`: it may not hold a resource at all.
    null_tested: bool,
}

/// The name the open of `site` binds, in the function body.
fn bound_var(body: &Block, site: SiteId) -> Option<Var> {
    let mut found = None;
    visit(body, &mut |stmt| {
        if let Stmt::Open { site: s, target, .. } = stmt
            && *s == site
            && let Some(var) = target.get()
        {
            found = Some(var);
        }
    });
    found
}

/// What happens to `var`, bound by the open of `site`, whose resource closes with any of
/// `close_methods` (`close`, and its own: `quit`, `putconn` is not one).
fn events(function: &Function, var: Var, site: SiteId, close_methods: &[String]) -> Events {
    let mut events = Events { closes: Vec::new(), rebinds: Vec::new(), aliased_or_wrapped: false, null_tested: false };
    visit(&function.body, &mut |stmt| match stmt {
        Stmt::Close { var: v, span } if *v == var => events.closes.push(*span),
        // `smtp.quit()`: a method that closes only the resources that list it.
        Stmt::MethodCall { var: v, method, span }
            if *v == var && close_methods.iter().any(|m| m == function.name(*method)) =>
        {
            events.closes.push(*span)
        }
        Stmt::Open { site: s, target, span, .. } if target.get() == Some(var) && *s != site => {
            events.rebinds.push(*span)
        }
        Stmt::Assign { dst, span, .. } if *dst == var => events.rebinds.push(*span),
        Stmt::Assign { src: Some(src), .. } if *src == var => events.aliased_or_wrapped = true,
        Stmt::With(with) if with.items.iter().any(|i| i.var == var && i.exit == WithExit::Closes) => {
            events.aliased_or_wrapped = true
        }
        Stmt::If { null_test: Some(test), .. } if test.var == var => events.null_tested = true,
        _ => {}
    });
    events
}

/// `x = OPEN(...)` and the statements after it that use `x`, planned as a block of their own: the
/// statements up to a plain `x.close()` that ends them (which the block replaces), or else up
/// to the last one that mentions `x` or something opened from it (a cursor). Only made when it
/// keeps the code's meaning apart from when `x` is closed: `x` is not handed off, not mentioned
/// before the open, not tested for `None`, not rebound or given another name, and every other
/// close of it inside the block is a statement of its own the rewrite can drop.
pub struct BlockPlan<'a> {
    source: &'a str,
    function: &'a LoweredFunction,
    bound: &'a BoundStatement,
    name: &'a str,
    unit: &'a str,
    /// The statements after the open in its block.
    following: &'a [Span],
    /// `following[..body_end]` go into the new block.
    body_end: usize,
    /// The close that ends the statements, which the new block replaces.
    trailing_close: Option<&'a CloseStatement>,
    /// Closes inside the new block, which it makes redundant.
    inner_closes: Vec<&'a CloseStatement>,
}

pub fn plan_block<'a>(finding: &SiteFinding<'a>) -> Option<BlockPlan<'a>> {
    let SiteLayout::Bound(bound) = finding.layout() else { return None };
    if finding.report.handed_off.is_some() {
        return None;
    }
    let source = finding.source()?;
    let function = finding.function;
    let name = finding.module.binding(finding.site)?;
    let block = function.layout().blocks.get(bound.block as usize)?;
    let unit = &source[block.unit?.range()];
    let following = block.statements.get(bound.index as usize + 1..)?;
    let site = finding.report.site;
    let var = bound_var(&function.ir.body, site)?;
    let events = events(&function.ir, var, site, &finding.resource.close);
    if events.aliased_or_wrapped || events.null_tested {
        return None;
    }
    let mentions = function.layout().mentions_of(name)?;
    if mentions.iter().any(|m| m.start < bound.statement.start) {
        return None;
    }
    let contains = |outer: Span, inner: Span| outer.start <= inner.start && inner.end <= outer.end;
    let mentioned_in = |mentions: &[Span]| following.iter().rposition(|s| mentions.iter().any(|m| contains(*s, *m)));
    let last_own = mentioned_in(mentions)?;
    let closes = &function.layout().close_statements;
    let trailing_close = closes
        .iter()
        .find(|c| c.statement == following[last_own] && events.closes.contains(&c.call))
        .filter(|c| ends_its_line(source, c.statement));
    // What is opened from it (a cursor) needs it open while it is used.
    let derived: Vec<Span> = derived_names(finding, var)
        .iter()
        .filter_map(|n| function.layout().mentions_of(n))
        .flatten()
        .copied()
        .filter(|m| m.start >= bound.statement.end)
        .collect();
    let last = match trailing_close {
        Some(_) => last_own,
        None => last_own.max(mentioned_in(&derived).unwrap_or(0)),
    };
    let body_end = if trailing_close.is_some() { last } else { last + 1 };
    let region = Span::new(bound.statement.start as usize, following[last].end as usize);
    // Without a close to replace, nothing may use it after the new block closes it.
    if trailing_close.is_none() && mentions.iter().chain(&derived).any(|m| m.start >= region.end) {
        return None;
    }
    if events.rebinds.iter().any(|r| contains(region, *r)) {
        return None;
    }
    let body = Span::new(bound.statement.end as usize, region.end as usize);
    let mut inner_closes = Vec::new();
    for close in events.closes.iter().filter(|c| contains(body, **c)) {
        if trailing_close.is_some_and(|t| t.call == *close) {
            continue;
        }
        // Dropped only where the block's own close comes right after it: before a `return` or
        // `raise`, or with nothing of the block left after it. A close that is the only
        // statement of its block would leave a `pass` behind; one that shares its line cannot
        // be dropped alone.
        let statement = closes.iter().find(|c| c.call == *close)?;
        let own_lines = starts_its_line(source, statement.statement) && ends_its_line(source, statement.statement);
        let last_thing = only_trivia(source, statement.statement.end as usize, region.end as usize);
        if statement.alone_in_block || !own_lines || !(statement.before_exit || last_thing) {
            return None;
        }
        inner_closes.push(statement);
    }
    let own_lines =
        ends_its_line(source, bound.statement) && following[..=last].iter().all(|s| starts_its_line(source, *s));
    own_lines.then_some(BlockPlan {
        source,
        function,
        bound,
        name,
        unit,
        following,
        body_end,
        trailing_close,
        inner_closes,
    })
}

/// The names bound to what is opened from the resource of `var` (`cur = conn.cursor()`), and
/// from those in turn.
fn derived_names(finding: &SiteFinding, var: Var) -> Vec<String> {
    let mut owners = vec![var];
    let mut names = Vec::new();
    let mut grew = true;
    while grew {
        grew = false;
        visit(&finding.function.ir.body, &mut |stmt| {
            if let Stmt::Open { site, target, owner, .. } = stmt
                && let (Some(target), Some(owner)) = (target.get(), owner.get())
                && owners.contains(&owner)
                && !owners.contains(&target)
            {
                owners.push(target);
                names.extend(
                    finding
                        .module
                        .sites
                        .get(*site as usize)
                        .and_then(|s| finding.module.binding(s).map(str::to_string)),
                );
                grew = true;
            }
        });
    }
    names
}

/// Only line ends, whitespace and comments in `from..to`.
fn only_trivia(source: &str, from: usize, to: usize) -> bool {
    source[from..to].lines().all(|line| {
        let line = line.trim();
        line.is_empty() || line.starts_with('#')
    })
}

fn starts_its_line(source: &str, span: Span) -> bool {
    indentation_before(source, span.start as usize).is_some()
}

/// Only whitespace or a comment follows it on its last line.
fn ends_its_line(source: &str, span: Span) -> bool {
    let end = span.end as usize;
    let rest = &source[end..next_line_start(source, end)];
    let rest = rest.trim_start_matches([' ', '\t']);
    rest.is_empty() || rest.starts_with('#') || rest.starts_with('\n') || rest.starts_with("\r\n")
}

impl BlockPlan<'_> {
    /// The value of `x = OPEN(...)` as written.
    pub fn value(&self) -> &str {
        &self.source[self.bound.value.range()]
    }

    pub fn name(&self) -> &str {
        self.name
    }

    /// Whether every close the rewrite drops inside the block is `close` (up to spacing): the
    /// block must end with the same close the code made.
    pub fn drops_only(&self, close: &str) -> bool {
        let squeeze = |text: &str| text.split_whitespace().collect::<String>();
        self.inner_closes.iter().all(|c| squeeze(&self.source[c.statement.range()]) == squeeze(close))
    }

    /// The trailing close as written (`conn.close()`), if the statements end with one.
    pub fn trailing_close_text(&self) -> Option<&str> {
        self.trailing_close.map(|c| &self.source[c.statement.range()])
    }

    /// `header` (`with closing(OPEN(...)) as x:`) replaces `x = OPEN(...)`, and the statements
    /// after it move into its block.
    pub fn with_block(&self, header: &str) -> Edit {
        self.rewrite(header, None)
    }

    /// `x = OPEN(...)` stays; the statements after it move into `try:`, and `finally:` runs
    /// `close` (`x.close()`, `pool.putconn(x)`).
    pub fn try_finally(&self, close: &str) -> Edit {
        let statement = &self.source[self.bound.statement.range()];
        self.rewrite(statement, Some(close))
    }

    fn rewrite(&self, header: &str, finally: Option<&str>) -> Edit {
        let source = self.source;
        let start = self.bound.statement.start as usize;
        let indent = indentation_before(source, start).unwrap_or_default();
        let newline = line_ending_at(source, start);
        // The open's own line keeps its comment.
        let after_open = next_line_start(source, self.bound.statement.end as usize);
        let mut out = String::from(header);
        out.push_str(&source[self.bound.statement.end as usize..after_open]);
        if !out.ends_with('\n') {
            out.push_str(newline);
        }
        if finally.is_some() {
            out.push_str(&format!("{indent}try:{newline}"));
        }
        let (body_stop, end) = match (self.trailing_close, self.body_end) {
            (Some(close), _) => {
                let close_start = close.statement.start as usize;
                (line_start(source, close_start), next_line_start(source, close.statement.end as usize))
            }
            (None, n) => {
                let last_end = next_line_start(source, self.following[n - 1].end as usize);
                (last_end, last_end)
            }
        };
        let body_start = after_open.min(body_stop);
        if self.body_end == 0 {
            out.push_str(&format!("{indent}{}pass{newline}", self.unit));
        } else {
            out.push_str(&self.indented(body_start, body_stop));
            if !out.ends_with('\n') {
                out.push_str(newline);
            }
        }
        if let Some(close) = finally {
            out.push_str(&format!("{indent}finally:{newline}{indent}{}{close}{newline}", self.unit));
        }
        // A text that ended without a line ending keeps ending so.
        if end == source.len() && !source.ends_with('\n') && out.ends_with(newline) {
            out.truncate(out.len() - newline.len());
        }
        Edit::replace(Span::new(start, end), out)
    }

    /// The lines in `from..to` with one more level of indentation, the closes inside dropped.
    fn indented(&self, from: usize, to: usize) -> String {
        let source = self.source;
        let dropped: Vec<(usize, usize)> = self
            .inner_closes
            .iter()
            .map(|c| {
                (line_start(source, c.statement.start as usize), next_line_start(source, c.statement.end as usize))
            })
            .collect();
        let strings = &self.function.layout().multiline_strings;
        let mut out = String::new();
        let mut at = from;
        while at < to {
            if let Some(&(_, end)) = dropped.iter().find(|(start, _)| *start == at) {
                at = end;
                continue;
            }
            let line_end = next_line_start(source, at).min(to);
            let line = &source[at..line_end];
            let in_string = strings.iter().any(|s| (s.start as usize) < at && at < s.end as usize);
            if !line.trim().is_empty() && !in_string {
                out.push_str(self.unit);
            }
            out.push_str(line);
            at = line_end;
        }
        out
    }
}

/// The fix that closes a resource bound by `x = OPEN(...)` when the statements that use it are
/// done. Where the close is `x.close()` (the code's own, or the resource's when the code has
/// none): `with OPEN(...) as x:` if the resource's own `with` does nothing but close it (files,
/// sockets), else `with closing(OPEN(...)) as x:` (its own `with` may do more, such as commit).
/// Where the code ends with another close (`smtp.quit()`): that close in `finally:`. Not offered
/// for processes (waiting for one on an error path can hang) or where no close is known.
/// Returns the fix's message and edits.
pub fn close_block(finding: &SiteFinding) -> Option<(String, Vec<Edit>)> {
    let resource = finding.resource;
    let unsupported = resource.is_async
        || resource.close_on == CloseOn::Pool
        || resource.returns != Returns::Object
        || resource.kind == Kind::Process;
    if unsupported {
        return None;
    }
    let plan = plan_block(finding)?;
    let name = plan.name();
    let plain_close = format!("{name}.close()");
    let squeeze = |text: &str| text.split_whitespace().collect::<String>();
    let close = match plan.trailing_close_text() {
        Some(text) if squeeze(text) == plain_close => plain_close.clone(),
        Some(text) => text.to_string(),
        None if resource.close.iter().any(|c| c == "close") => plain_close.clone(),
        None => return None,
    };
    if !plan.drops_only(&close) {
        return None;
    }
    if close == plain_close {
        let own_with = resource.context_manager == ContextManager::Closes
            && resource.history.is_empty()
            && matches!(resource.kind, Kind::File | Kind::Socket);
        if own_with {
            let edit = plan.with_block(&format!("with {} as {name}:", plan.value()));
            return Some((format!("Open `{name}` in a `with` block around the statements that use it"), vec![edit]));
        }
        if let Some(closing) = finding.source().and_then(|source| closing(source, finding.module, finding.function)) {
            let header = format!("with {}({}) as {name}:", closing.name, plan.value());
            let message = format!("Open `{name}` in `with {}(...)` around the statements that use it", closing.name);
            return Some((message, closing.import.into_iter().chain([plan.with_block(&header)]).collect()));
        }
    }
    Some((format!("Call `{close}` in a `finally` block"), vec![plan.try_finally(&close)]))
}
