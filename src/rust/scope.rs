//! What a whole Rust file tells each function: how names resolve (`use`), which struct fields
//! hold which resource, which functions are request handlers or tests, and the list of
//! function bodies to check.

use std::collections::{HashMap, HashSet};

use syn::visit::Visit;

use super::knowledge::{Kind, Knowledge, ResourceId};
use super::names::UseMap;

/// Attribute names that make a function a request handler (actix-web, rocket, poem, ...).
const HANDLER_ATTRIBUTES: &[&str] = &["get", "post", "put", "delete", "patch", "head", "route", "handler", "options"];

/// Parameter types that only a request handler takes (axum and actix-web extractors).
const EXTRACTOR_TYPES: &[&str] =
    &["State", "Json", "Path", "Query", "Form", "Extension", "HttpRequest", "Request", "Data"];

/// Functions whose first argument axum and warp register as a handler: `get(handler)`.
const ROUTE_REGISTRATIONS: &[&str] =
    &["get", "post", "put", "delete", "patch", "head", "options", "any", "service_fn", "and_then"];

/// Wrappers whose value is the resource inside: `Arc<PgPool>`, `State<PgPool>`, `&mut Transaction`.
const TRANSPARENT_WRAPPERS: &[&str] =
    &["Arc", "Rc", "Box", "Option", "Data", "State", "Extension", "Mutex", "RwLock", "RefCell", "Cell"];

/// The file-level facts of one Rust file.
pub struct FileScope<'a> {
    pub path: &'a str,
    pub knowledge: &'a Knowledge,
    pub uses: UseMap,
    /// The byte offset of the text syn parsed (past a byte-order mark).
    pub offset: usize,
    /// `(struct, field)` → the resource it holds.
    pub fields: HashMap<(String, String), ResourceId>,
    /// Names of functions registered as handlers (`.route("/", get(list_users))`).
    pub route_handlers: HashSet<String>,
    /// The file is test code (under `tests/`, or a `tests.rs`/`*_test.rs` file).
    pub test_file: bool,
    /// Crates of the knowledge base this file refers to.
    pub crates: HashSet<String>,
    /// The file takes boxes back with `Box::from_raw`: its `Box::into_raw` is an FFI hand-off.
    pub takes_boxes_back: bool,
}

impl<'a> FileScope<'a> {
    pub fn new(path: &'a str, file: &syn::File, knowledge: &'a Knowledge, offset: usize) -> FileScope<'a> {
        let uses = UseMap::from_file(file);
        let mut scope = FileScope {
            path,
            knowledge,
            uses,
            offset,
            fields: HashMap::new(),
            route_handlers: HashSet::new(),
            test_file: is_test_path(path),
            crates: HashSet::new(),
            takes_boxes_back: false,
        };
        let mut crates =
            Crates { known: knowledge.crates().map(str::to_string).collect(), found: HashSet::new(), from_raw: false };
        crates.visit_file(file);
        for known in &crates.known {
            if scope.uses.imports_crate(known) {
                crates.found.insert(known.clone());
            }
        }
        scope.crates = crates.found;
        scope.takes_boxes_back = crates.from_raw;
        let mut facts = FileFacts { scope: &mut scope };
        facts.visit_file(file);
        scope
    }

    /// The full path of a written path, through `use` items.
    pub fn resolve(&self, path: &syn::Path) -> Vec<String> {
        let knowledge = self.knowledge;
        self.uses.resolve(path, &|c| knowledge.crates().any(|k| k == c) || matches!(c, "std" | "core" | "tokio"))
    }

    /// The resource a type holds, looking through references and wrappers.
    pub fn type_resource(&self, ty: &syn::Type) -> Option<ResourceId> {
        let path = inner_type_path(ty)?;
        let resolved = self.resolve(path);
        self.knowledge.type_resource(&resolved)
    }

    pub fn kind(&self, resource: ResourceId) -> Kind {
        self.knowledge.resources[resource].kind
    }

    /// Whether the file uses a crate (by `use` or by a full path).
    pub fn uses_crate(&self, name: &str) -> bool {
        self.crates.contains(name)
    }
}

/// The path of the type a value really is, through `&`, `&mut`, `Arc<..>`, `State<..>`, ...
fn inner_type_path(ty: &syn::Type) -> Option<&syn::Path> {
    match ty {
        syn::Type::Reference(reference) => inner_type_path(&reference.elem),
        syn::Type::Paren(paren) => inner_type_path(&paren.elem),
        syn::Type::Group(group) => inner_type_path(&group.elem),
        syn::Type::Path(type_path) => {
            let last = type_path.path.segments.last()?;
            if TRANSPARENT_WRAPPERS.contains(&last.ident.to_string().as_str())
                && let syn::PathArguments::AngleBracketed(arguments) = &last.arguments
                && let Some(syn::GenericArgument::Type(inner)) =
                    arguments.args.iter().find(|a| matches!(a, syn::GenericArgument::Type(_)))
            {
                return inner_type_path(inner);
            }
            Some(&type_path.path)
        }
        _ => None,
    }
}

/// Whether a file path is test code: under a `tests` or `benches` folder, or `tests.rs`,
/// `*_test.rs`, `*_tests.rs`.
pub fn is_test_path(path: &str) -> bool {
    let parts: Vec<&str> = path.split(['/', '\\']).collect();
    let Some((file, folders)) = parts.split_last() else { return false };
    let stem = file.strip_suffix(".rs").unwrap_or(file);
    folders.contains(&"tests")
        || folders.contains(&"benches")
        || stem == "tests"
        || stem.ends_with("_test")
        || stem.ends_with("_tests")
}

/// Which knowledge crates the file names in paths (`sqlx::query(...)`, `rusqlite::Connection`).
struct Crates {
    known: HashSet<String>,
    found: HashSet<String>,
    from_raw: bool,
}

impl<'ast> Visit<'ast> for Crates {
    fn visit_path(&mut self, path: &'ast syn::Path) {
        let segments: Vec<String> = path.segments.iter().map(|s| s.ident.to_string()).collect();
        if segments.ends_with(&["Box".to_string(), "from_raw".to_string()]) {
            self.from_raw = true;
        }
        if let Some(first) = path.segments.first() {
            let name = first.ident.to_string();
            if self.known.contains(&name) {
                self.found.insert(name);
            }
        }
        syn::visit::visit_path(self, path);
    }
}

/// Struct fields that hold resources, and functions registered as route handlers.
struct FileFacts<'s, 'a> {
    scope: &'s mut FileScope<'a>,
}

impl<'ast> Visit<'ast> for FileFacts<'_, '_> {
    fn visit_item_struct(&mut self, item: &'ast syn::ItemStruct) {
        for field in &item.fields {
            if let Some(name) = &field.ident
                && let Some(resource) = self.scope.type_resource(&field.ty)
            {
                self.scope.fields.insert((item.ident.to_string(), name.to_string()), resource);
            }
        }
        syn::visit::visit_item_struct(self, item);
    }

    fn visit_expr_call(&mut self, call: &'ast syn::ExprCall) {
        if let syn::Expr::Path(function) = &*call.func
            && let Some(last) = function.path.segments.last()
            && ROUTE_REGISTRATIONS.contains(&last.ident.to_string().as_str())
        {
            for argument in &call.args {
                if let syn::Expr::Path(handler) = argument
                    && let Some(name) = handler.path.segments.last()
                {
                    self.scope.route_handlers.insert(name.ident.to_string());
                }
            }
        }
        syn::visit::visit_expr_call(self, call);
    }

    fn visit_expr_method_call(&mut self, call: &'ast syn::ExprMethodCall) {
        // `.route("/", web::get().to(handler))` (actix-web) and `.and_then(handler)` (warp).
        if matches!(call.method.to_string().as_str(), "to" | "and_then" | "service")
            && let Some(syn::Expr::Path(handler)) = call.args.first()
            && let Some(name) = handler.path.segments.last()
        {
            self.scope.route_handlers.insert(name.ident.to_string());
        }
        syn::visit::visit_expr_method_call(self, call);
    }
}

/// A function body to check, with what surrounds it.
pub struct FunctionItem<'ast> {
    pub name: String,
    pub attrs: Vec<&'ast syn::Attribute>,
    pub sig: &'ast syn::Signature,
    pub body: &'ast syn::Block,
    /// The type of the `impl` block it is in, for `self.field`.
    pub self_type: Option<String>,
    /// Inside a `#[cfg(test)]` module.
    pub in_test_module: bool,
}

impl FunctionItem<'_> {
    pub fn is_async(&self) -> bool {
        self.sig.asyncness.is_some()
    }

    /// `#[test]`, `#[tokio::test]`, `#[sqlx::test]`, `#[rstest]`...
    pub fn has_test_attribute(&self) -> bool {
        self.attrs.iter().any(|a| {
            let last = a.path().segments.last().map(|s| s.ident.to_string()).unwrap_or_default();
            last == "test" || last == "rstest" || last.ends_with("_test")
        })
    }

    /// A request handler: a routing attribute, an extractor parameter, or registered as a route.
    pub fn is_handler(&self, scope: &FileScope) -> bool {
        let attribute = self.attrs.iter().any(|a| {
            let last = a.path().segments.last().map(|s| s.ident.to_string()).unwrap_or_default();
            HANDLER_ATTRIBUTES.contains(&last.as_str())
        });
        let extractor = self.sig.inputs.iter().any(|input| match input {
            syn::FnArg::Typed(typed) => type_names(&typed.ty).iter().any(|n| EXTRACTOR_TYPES.contains(&n.as_str())),
            syn::FnArg::Receiver(_) => false,
        });
        attribute || extractor || scope.route_handlers.contains(&self.name)
    }
}

/// The last segments of a type's paths (`web::Data<PgPool>` → `Data`, `PgPool`).
fn type_names(ty: &syn::Type) -> Vec<String> {
    match ty {
        syn::Type::Reference(reference) => type_names(&reference.elem),
        syn::Type::Path(path) => path.path.segments.last().map(|s| vec![s.ident.to_string()]).unwrap_or_default(),
        _ => Vec::new(),
    }
}

/// Every function body of the file: free functions, methods, trait default methods, and
/// functions nested in modules (closures and nested fns are walked within their function).
pub fn functions(file: &syn::File) -> Vec<FunctionItem<'_>> {
    let mut out = Vec::new();
    items(&file.items, None, false, &mut out);
    out
}

fn items<'ast>(
    items_list: &'ast [syn::Item],
    self_type: Option<String>,
    in_test: bool,
    out: &mut Vec<FunctionItem<'ast>>,
) {
    for item in items_list {
        match item {
            syn::Item::Fn(function) => out.push(FunctionItem {
                name: function.sig.ident.to_string(),
                attrs: function.attrs.iter().collect(),
                sig: &function.sig,
                body: &function.block,
                self_type: self_type.clone(),
                in_test_module: in_test,
            }),
            syn::Item::Impl(block) => {
                let type_name = match &*block.self_ty {
                    syn::Type::Path(path) => path.path.segments.last().map(|s| s.ident.to_string()),
                    _ => None,
                };
                for impl_item in &block.items {
                    if let syn::ImplItem::Fn(method) = impl_item {
                        out.push(FunctionItem {
                            name: method.sig.ident.to_string(),
                            attrs: method.attrs.iter().collect(),
                            sig: &method.sig,
                            body: &method.block,
                            self_type: type_name.clone(),
                            in_test_module: in_test,
                        });
                    }
                }
            }
            syn::Item::Trait(trait_item) => {
                for member in &trait_item.items {
                    if let syn::TraitItem::Fn(method) = member
                        && let Some(body) = &method.default
                    {
                        out.push(FunctionItem {
                            name: method.sig.ident.to_string(),
                            attrs: method.attrs.iter().collect(),
                            sig: &method.sig,
                            body,
                            self_type: None,
                            in_test_module: in_test,
                        });
                    }
                }
            }
            syn::Item::Mod(module) => {
                let test_module = module.attrs.iter().any(is_cfg_test);
                if let Some((_, content)) = &module.content {
                    items(content, None, in_test || test_module, out);
                }
            }
            _ => {}
        }
    }
}

/// `#[cfg(test)]`.
fn is_cfg_test(attribute: &syn::Attribute) -> bool {
    attribute.path().is_ident("cfg")
        && attribute
            .meta
            .require_list()
            .is_ok_and(|list| list.tokens.to_string().split_whitespace().any(|t| t == "test"))
}
