#![doc = include_str!("../../../rules/CL105.md")]

use crate::hash::FastSet as HashSet;

use crate::checker::ArgumentEffect;
use crate::diagnostic::Diagnostic;
use crate::ir::Arg;
use crate::python::knowledge::{Knowledge, Severity};
use crate::python::lower::{ClassFacts, LoweredModule};
use crate::python::project::LazyText;
use crate::python::symbols::Resolved;
use crate::rule::Rule;

pub fn check_classes_impl(
    module: &LoweredModule,
    resolved: &[Option<Resolved>],
    knowledge: &Knowledge,
    text: &LazyText,
    effect: &dyn Fn(u32, Arg<&str>) -> ArgumentEffect,
) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    for class in &module.classes {
        if class.has_external_base {
            // A base class from elsewhere may close the fields it knows about.
            continue;
        }
        // Found when a field holds a resource (most classes keep none): in a test module of
        // hundreds of classes over a few shared bases, it is a long search.
        let mut related: Option<Vec<&ClassFacts>> = None;
        let mut reported = HashSet::default();
        for open in &class.field_opens {
            let Some(found) = resolved.get(open.site as usize).and_then(Option::as_ref) else { continue };
            let resource = &knowledge.resources[found.resource];
            if resource.severity != Severity::Normal {
                continue;
            }
            // Closed or kept by a method it is passed to (`self._cleanup(self.__pipe)`).
            let passed_on = |c: &&ClassFacts| {
                c.field_passes.iter().any(|(field, call, arg)| {
                    field == &open.field && effect(*call, arg.as_deref()) != ArgumentEffect::Borrow
                })
            };
            let related = related.get_or_insert_with(|| related_classes(module, class));
            let handled = related.iter().any(|c| {
                c.closed_fields.contains(&open.field) || c.exposed_fields.contains(&open.field) || passed_on(c)
            });
            if handled || !reported.insert(open.field.as_str()) {
                continue;
            }
            let site = &module.sites[open.site as usize];
            let class_name = class.qualified.rsplit('.').next().unwrap_or(&class.qualified);
            let noun = resource.kind.noun();
            let close = resource.close.first().map(String::as_str).unwrap_or("close");
            // The caller finds out that the text changed, and reports that instead.
            let Some(source) = text.get() else { continue };
            let call = super::call_text(source, site);
            let mut diagnostic = Diagnostic::new(
                Rule::OwnedFieldNeverClosed,
                site.span,
                format!("`{class_name}` keeps {} in `self.{}` but no method closes it", with_article(noun), open.field),
            )
            .with_help(format!(
                "add a `close()` method (and `__enter__`/`__exit__`) that calls `self.{}.{close}()`; `{call}` opens it",
                open.field
            ));
            if let Some(origin) = &found.origin {
                diagnostic = diagnostic.with_related(
                    origin.path.clone(),
                    origin.line,
                    format!("`{}` opens it with `{}()`", origin.function, origin.opener),
                );
            }
            out.push(diagnostic);
        }
    }
    out
}

/// The class, its bases and its subclasses within the module (transitively): a field opened in
/// one of them may be closed by another.
fn related_classes<'m>(module: &'m LoweredModule, class: &'m ClassFacts) -> Vec<&'m ClassFacts> {
    let mut related = vec![class];
    let mut i = 0;
    while i < related.len() {
        let current = related[i];
        for other in &module.classes {
            let is_base = current.local_bases.contains(&other.qualified);
            let is_subclass = other.local_bases.contains(&current.qualified);
            if (is_base || is_subclass) && !related.iter().any(|c| std::ptr::eq(*c, other)) {
                related.push(other);
            }
        }
        i += 1;
    }
    related
}

/// `a process`, `an executor`.
fn with_article(noun: &str) -> String {
    let article = if noun.starts_with(['a', 'e', 'i', 'o', 'u']) { "an" } else { "a" };
    format!("{article} {noun}")
}
