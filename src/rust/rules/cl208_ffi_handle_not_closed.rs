#![doc = include_str!("../../../rules/CL208.md")]

use quote::{format_ident, quote};

use crate::checker::{LeakExit, SiteReport};
use crate::diagnostic::Diagnostic;
use crate::rule::Rule;
use crate::rust::lower::RustSite;
use crate::rust::scope::FileScope;

pub fn check(
    scope: &FileScope,
    site: &RustSite,
    entry: usize,
    opener: &str,
    report: &SiteReport,
) -> Option<Diagnostic> {
    let ffi = &scope.knowledge.ffi[entry];
    let (exit, on_error) = match (report.normal_leak, report.error_leak) {
        (Some(exit), _) => (exit, false),
        (None, Some(leak)) => (leak.exit, true),
        (None, None) => return None,
    };
    let close = ffi.close.first().map(String::as_str).unwrap_or("close");
    let handle = &site.binding;
    let when = if on_error { "on an error path" } else { "on some path" };
    let mut diagnostic = Diagnostic::new(
        Rule::FfiHandleNotClosed,
        site.span,
        format!(
            "the handle `{handle}` from `{opener}` can reach a return {when} without `{close}`: the C side never frees it"
        ),
    );
    match exit {
        LeakExit::Return(at) | LeakExit::Exception(at) | LeakExit::Overwritten(at) => {
            diagnostic = diagnostic.with_label(at, format!("`{handle}` is still open here"));
        }
        LeakExit::FallThrough => {}
    }
    let wrapper = raii_wrapper(&ffi.handle_type, close);
    Some(diagnostic.with_help(format!(
        "call `{close}({handle})` on every path, errors included (the C library needs it even when the open fails), or hand the handle to an owner that closes it on drop:\n{wrapper}"
    )))
}

/// The RAII wrapper to suggest, built with `quote` and formatted.
fn raii_wrapper(handle_type: &str, close: &str) -> String {
    let type_ident = format_ident!("{}", handle_type);
    let close_ident = format_ident!("{}", close);
    let wrapper = format_ident!("{}Handle", to_camel(handle_type));
    let tokens = quote! {
        /// Owns the handle and closes it when dropped, on every path.
        pub struct #wrapper(*mut #type_ident);

        impl #wrapper {
            pub fn as_ptr(&self) -> *mut #type_ident {
                self.0
            }
        }

        impl Drop for #wrapper {
            fn drop(&mut self) {
                if !self.0.is_null() {
                    unsafe {
                        #close_ident(self.0);
                    }
                }
            }
        }
    };
    match syn::parse2::<syn::File>(tokens.clone()) {
        Ok(file) => prettyplease::unparse(&file),
        Err(_) => tokens.to_string(),
    }
}

fn to_camel(name: &str) -> String {
    name.split('_')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let mut chars = p.chars();
            chars.next().map(|c| c.to_ascii_uppercase().to_string() + chars.as_str()).unwrap_or_default()
        })
        .collect()
}
