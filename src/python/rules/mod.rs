//! The Python resource rules. Each rule reads what the checker found for one open site and
//! decides whether it is that rule's finding. The rules' conditions do not overlap, so a leak
//! is reported once, under the rule that says best how to fix it.

mod cl101_with_does_not_close;
mod cl102_never_closed;
mod cl103_close_skipped_on_error;
mod cl104_pool_checkout_not_returned;
mod cl105_owned_field_never_closed;
mod cl106_discarded_resource;

use crate::checker::{ArgumentEffect, SiteReport};
use crate::diagnostic::Diagnostic;
use crate::ir::Arg;
use crate::python::knowledge::{Knowledge, Resource, Returns, Severity};
use crate::python::layout::SiteLayout;
use crate::python::lower::{LoweredFunction, LoweredModule, Site};
use crate::python::project::LazyText;
use crate::python::symbols::Resolved;

/// One open site with everything known about it.
pub struct SiteFinding<'a> {
    pub report: &'a SiteReport,
    pub site: &'a Site,
    pub resolved: &'a Resolved,
    pub resource: &'a Resource,
    pub function: &'a LoweredFunction,
    /// The module the function is in.
    pub module: &'a LoweredModule,
    /// The module's text, read only when a finding needs it.
    pub text: &'a LazyText<'a>,
}

impl<'a> SiteFinding<'a> {
    /// Where the open's call sits in the text, for fixes.
    pub fn layout(&self) -> &'a SiteLayout {
        self.module.site_layout(self.report.site)
    }

    /// Whether a missing close of this resource is worth reporting at all.
    pub fn reportable(&self) -> bool {
        self.resource.severity == Severity::Normal
    }

    /// The module's text; `None` when it changed since it was lowered (the caller then reports
    /// that instead of the finding).
    pub fn source(&self) -> Option<&'a str> {
        self.text.get()
    }

    pub fn call_text(&self) -> String {
        call_text(self.source().unwrap_or_default(), self.site)
    }

    /// The name the resource is bound to, or a placeholder for help texts.
    pub fn name(&self) -> &str {
        self.module.binding(self.site).unwrap_or(self.resource.kind.placeholder())
    }

    /// "this connection", or "the connection `get_db()` returns" for a factory.
    pub fn what(&self) -> String {
        let noun = self.resource.kind.noun();
        match &self.resolved.origin {
            Some(origin) => {
                let function = origin.function.rsplit('.').next().unwrap_or(&origin.function);
                format!("the {noun} `{function}()` returns")
            }
            None => format!("this {noun}"),
        }
    }

    /// Adds where a factory really opens the resource.
    pub fn with_origin(&self, diagnostic: Diagnostic) -> Diagnostic {
        match &self.resolved.origin {
            Some(origin) => diagnostic.with_related(
                origin.path.clone(),
                origin.line,
                format!("`{}` opens it with `{}()`", origin.function, origin.opener),
            ),
            None => diagnostic,
        }
    }

    /// The `with` that closes it (through `closing` where its own `with` does not close).
    pub fn with_rewrite(&self) -> String {
        let call = self.call_text();
        let name = self.name();
        if self.resource.context_manager.closes() {
            format!("`with {call} as {name}:`")
        } else {
            format!("`with closing({call}) as {name}:` (and `from contextlib import closing`)")
        }
    }

    /// How to close it: `conn.close()`, or `os.close(fd)` for a raw handle.
    pub fn close_call(&self) -> String {
        let name = self.name();
        match self.resource.close.first() {
            Some(close) if close.contains('.') => format!("{close}({name})"),
            Some(close) => format!("{name}.{close}()"),
            None => format!("{name}.close()"),
        }
    }

    /// The fix to suggest: a `with` where the value is the resource itself, else a `finally`.
    pub fn fix_suggestion(&self) -> String {
        if self.resource.returns == Returns::Object {
            format!("open it as {} or call `{}` in a `finally` block", self.with_rewrite(), self.close_call())
        } else {
            format!("call `{}` in a `finally` block", self.close_call())
        }
    }
}

/// The call as written, shortened to one line for help texts.
pub fn call_text(source: &str, site: &Site) -> String {
    let raw = source.get(site.span.range()).unwrap_or_default();
    let one_line = raw.split_whitespace().collect::<Vec<_>>().join(" ");
    if one_line.chars().count() <= 60 {
        return one_line;
    }
    match one_line.find('(') {
        Some(paren) => format!("{}(...)", &one_line[..paren]),
        None => one_line.chars().take(57).collect::<String>() + "...",
    }
}

/// The diagnostic for one open site, if any.
pub fn diagnose(finding: &SiteFinding) -> Option<Diagnostic> {
    if !finding.reportable() {
        return None;
    }
    // A test that sets up fakes (`self.fakehttp(...)`, `MockHTTPHandler(...)`) most often wires
    // its network clients to them: a response over a `BytesIO` holds nothing.
    if finding.function.is_test && finding.function.calls_fakes && finding.resource.kind.is_network() {
        return None;
    }
    cl106_discarded_resource::check(finding)
        .or_else(|| cl104_pool_checkout_not_returned::check(finding))
        .or_else(|| cl101_with_does_not_close::check(finding))
        .or_else(|| cl102_never_closed::check(finding))
        .or_else(|| cl103_close_skipped_on_error::check(finding))
}

/// The class rule (CL105) over a module's classes.
pub fn check_classes(
    module: &LoweredModule,
    resolved: &[Option<Resolved>],
    knowledge: &Knowledge,
    text: &LazyText,
    effect: &dyn Fn(u32, Arg<&str>) -> ArgumentEffect,
) -> Vec<Diagnostic> {
    cl105_owned_field_never_closed::check_classes_impl(module, resolved, knowledge, text, effect)
}
