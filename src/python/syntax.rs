//! Small helpers over the Python syntax tree ([`super::tree`]) and the grammar's kind and field
//! tables. Only the Python frontend sees tree-sitter.

use std::sync::LazyLock;

use tree_sitter::Language;

pub use super::tree::Node;

use crate::diagnostic::Span;

static LANGUAGE: LazyLock<Language> = LazyLock::new(|| tree_sitter_python::LANGUAGE.into());

/// Node kind names by id, built once from the grammar: tree-sitter's `Node::kind` validates the
/// kind's C string as UTF-8 on every call.
static KIND_NAMES: LazyLock<Vec<&'static str>> = LazyLock::new(|| {
    let language: &'static Language = &LANGUAGE;
    (0..language.node_kind_count())
        .map(|id| u16::try_from(id).ok().and_then(|id| language.node_kind_for_id(id)).unwrap_or(""))
        .collect()
});

/// The name of node kind `id`, as tree-sitter's `Node::kind` says it.
#[inline]
pub fn kind_name(id: u16) -> &'static str {
    match KIND_NAMES.get(usize::from(id)) {
        Some(name) => name,
        // The error node's id, `u16::MAX`, is not one of the grammar's kinds.
        None if id == u16::MAX => "ERROR",
        None => "",
    }
}

/// Declares [`Kind`]: one variant per grammar name listed.
macro_rules! kinds {
    ($($kind:ident = $name:literal,)*) => {
        /// The node kinds the frontend tells apart, and `Other` for the rest. A variant stands
        /// for every kind id the grammar gives its name (`await` is both a named node and a
        /// keyword token), so telling kinds apart by it says what comparing the names said.
        /// [`KindTable::of`] finds a node's kind by its id: comparing kind names cost about a
        /// tenth of the lowering's time.
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum Kind {
            $(#[doc = concat!("`", $name, "`")] $kind,)*
            /// Any kind not listed.
            Other,
        }

        impl Kind {
            /// Every listed kind with its name in the grammar.
            const NAMES: &[(Kind, &str)] = &[$((Kind::$kind, $name),)*];
        }
    };
}

kinds! {
    // Statements and their parts.
    Module = "module",
    Block = "block",
    Comment = "comment",
    ExpressionStatement = "expression_statement",
    ReturnStatement = "return_statement",
    RaiseStatement = "raise_statement",
    AssertStatement = "assert_statement",
    PassStatement = "pass_statement",
    BreakStatement = "break_statement",
    ContinueStatement = "continue_statement",
    DeleteStatement = "delete_statement",
    GlobalStatement = "global_statement",
    NonlocalStatement = "nonlocal_statement",
    PrintStatement = "print_statement",
    ExecStatement = "exec_statement",
    TypeAliasStatement = "type_alias_statement",
    ImportStatement = "import_statement",
    ImportFromStatement = "import_from_statement",
    FutureImportStatement = "future_import_statement",
    DottedName = "dotted_name",
    AliasedImport = "aliased_import",
    RelativeImport = "relative_import",
    WildcardImport = "wildcard_import",
    IfStatement = "if_statement",
    ElifClause = "elif_clause",
    ElseClause = "else_clause",
    ForStatement = "for_statement",
    WhileStatement = "while_statement",
    TryStatement = "try_statement",
    ExceptClause = "except_clause",
    FinallyClause = "finally_clause",
    WithStatement = "with_statement",
    WithClause = "with_clause",
    WithItem = "with_item",
    MatchStatement = "match_statement",
    CaseClause = "case_clause",
    CasePattern = "case_pattern",
    FunctionDefinition = "function_definition",
    ClassDefinition = "class_definition",
    DecoratedDefinition = "decorated_definition",
    Decorator = "decorator",
    // Parameters and annotations.
    DefaultParameter = "default_parameter",
    TypedParameter = "typed_parameter",
    TypedDefaultParameter = "typed_default_parameter",
    ListSplatPattern = "list_splat_pattern",
    DictionarySplatPattern = "dictionary_splat_pattern",
    KeywordSeparator = "keyword_separator",
    Type = "type",
    GenericType = "generic_type",
    TypeParameter = "type_parameter",
    // Assignment targets.
    Assignment = "assignment",
    AugmentedAssignment = "augmented_assignment",
    PatternList = "pattern_list",
    TuplePattern = "tuple_pattern",
    ListPattern = "list_pattern",
    AsPattern = "as_pattern",
    // Expressions.
    Identifier = "identifier",
    Attribute = "attribute",
    Call = "call",
    ArgumentList = "argument_list",
    KeywordArgument = "keyword_argument",
    ListSplat = "list_splat",
    DictionarySplat = "dictionary_splat",
    ParenthesizedExpression = "parenthesized_expression",
    ExpressionList = "expression_list",
    Tuple = "tuple",
    List = "list",
    Set = "set",
    Dictionary = "dictionary",
    ListComprehension = "list_comprehension",
    SetComprehension = "set_comprehension",
    DictionaryComprehension = "dictionary_comprehension",
    GeneratorExpression = "generator_expression",
    ForInClause = "for_in_clause",
    IfClause = "if_clause",
    ConditionalExpression = "conditional_expression",
    NamedExpression = "named_expression",
    BooleanOperator = "boolean_operator",
    BinaryOperator = "binary_operator",
    NotOperator = "not_operator",
    ComparisonOperator = "comparison_operator",
    Lambda = "lambda",
    Await = "await",
    Yield = "yield",
    // Literals.
    String = "string",
    ConcatenatedString = "concatenated_string",
    Interpolation = "interpolation",
    Integer = "integer",
    Float = "float",
    True = "true",
    False = "false",
    None = "none",
    Ellipsis = "ellipsis",
    // Keywords and operators (anonymous tokens).
    From = "from",
    Async = "async",
    Is = "is",
    IsNot = "is not",
    // The error node.
    Error = "ERROR",
}

/// The [`Kind`] of every kind id of the grammar.
pub struct KindTable {
    by_id: Box<[Kind]>,
}

static KIND_TABLE: LazyLock<KindTable> = LazyLock::new(|| KindTable {
    by_id: KIND_NAMES
        .iter()
        .map(|name| Kind::NAMES.iter().find(|(_, listed)| listed == name).map_or(Kind::Other, |(kind, _)| *kind))
        .collect(),
});

impl KindTable {
    /// The table, built on first use. Walks hold on to it rather than asking the lazy static
    /// again for every node.
    pub fn get() -> &'static KindTable {
        &KIND_TABLE
    }

    /// The kind of `node`.
    #[inline]
    pub fn of(&self, node: Node) -> Kind {
        self.of_id(node.kind_id())
    }

    /// The kind of the kind id `id`.
    #[inline]
    pub fn of_id(&self, id: u16) -> Kind {
        match self.by_id.get(usize::from(id)) {
            Some(kind) => *kind,
            // The error node's id, `u16::MAX`, is not one of the grammar's kinds.
            None if id == u16::MAX => Kind::Error,
            None => Kind::Other,
        }
    }
}

/// The fields the frontend asks for, looked up once; tree-sitter's own lookup compares the
/// name against every field name of the grammar.
const FIELD_NAMES: [&str; 22] = [
    "function",
    "name",
    "object",
    "body",
    "attribute",
    "value",
    "right",
    "left",
    "arguments",
    "definition",
    "consequence",
    "condition",
    "alias",
    "type",
    "superclasses",
    "subject",
    "parameters",
    "module_name",
    "guard",
    "argument",
    "alternative",
    "operator",
];

static FIELD_IDS: LazyLock<[u16; FIELD_NAMES.len()]> =
    LazyLock::new(|| FIELD_NAMES.map(|name| LANGUAGE.field_id_for_name(name).map_or(0, |id| id.get())));

/// The id of the field called `name`, 0 when the grammar has none.
#[inline]
pub fn field_id(name: &'static str) -> u16 {
    match FIELD_NAMES.iter().position(|field| *field == name) {
        Some(i) => FIELD_IDS[i],
        None => LANGUAGE.field_id_for_name(name).map_or(0, |id| id.get()),
    }
}

/// The id of the node kind called `name` (named kinds only).
pub fn kind_id(name: &str) -> u16 {
    LANGUAGE.id_for_node_kind(name, true)
}

/// The id of the anonymous token or node called `name` (`async`, `is not`).
pub fn token_kind_id(name: &str) -> u16 {
    LANGUAGE.id_for_node_kind(name, false)
}

pub fn text<'s>(node: Node, src: &'s str) -> &'s str {
    src.get(node.byte_range()).unwrap_or_default()
}

pub fn span(node: Node) -> Span {
    Span::new(node.start_byte(), node.end_byte())
}

/// `a.b.c` of a `dotted_name` node, without whitespace or comments.
pub fn dotted_name(node: Node, src: &str) -> String {
    let kinds = KindTable::get();
    let parts: Vec<&str> =
        node.named_children().filter(|c| kinds.of(*c) == Kind::Identifier).map(|c| text(c, src)).collect();
    if parts.is_empty() { text(node, src).to_string() } else { parts.join(".") }
}

/// The parts of an identifier or attribute chain (`a.b.c` → `[a, b, c]`), or `None` when the
/// chain has anything else in it (a call, a subscript).
pub fn attribute_chain<'s>(node: Node, src: &'s str) -> Option<Vec<&'s str>> {
    let kinds = KindTable::get();
    let mut parts = Vec::new();
    let mut current = node;
    loop {
        match kinds.of(current) {
            Kind::Identifier => {
                parts.push(text(current, src));
                parts.reverse();
                return Some(parts);
            }
            Kind::Attribute => {
                parts.push(text(current.field("attribute")?, src));
                current = current.field("object")?;
            }
            Kind::ParenthesizedExpression => current = single_named_child(current)?,
            _ => return None,
        }
    }
}

/// Strips parentheses and `await`, which do not change what a value is.
pub fn peel(mut node: Node) -> Node {
    let kinds = KindTable::get();
    loop {
        match kinds.of(node) {
            Kind::ParenthesizedExpression | Kind::Await => match single_named_child(node) {
                Some(inner) => node = inner,
                None => return node,
            },
            _ => return node,
        }
    }
}

pub fn single_named_child(node: Node) -> Option<Node> {
    let kinds = KindTable::get();
    let mut children = node.named_children().filter(|c| kinds.of(*c) != Kind::Comment);
    let first = children.next()?;
    children.next().is_none().then_some(first)
}

pub fn named_children(node: Node) -> Vec<Node> {
    let kinds = KindTable::get();
    node.named_children().filter(|c| kinds.of(*c) != Kind::Comment).collect()
}

/// The first node that is an error or a missing token, for the parse-error diagnostic.
pub fn first_error(node: Node) -> Option<Node> {
    if !node.has_error() {
        return None;
    }
    let mut current = node;
    loop {
        if current.is_error() || current.is_missing() {
            return Some(current);
        }
        // Descend into the first child that holds the error.
        match current.children().find(|child| child.has_error() || child.is_missing()) {
            Some(child) => current = child,
            None => return Some(current),
        }
    }
}

/// Whether a node is a literal whose evaluation cannot raise.
pub fn is_plain_literal(node: Node) -> bool {
    let kinds = KindTable::get();
    match kinds.of(node) {
        Kind::Integer | Kind::Float | Kind::True | Kind::False | Kind::None | Kind::Ellipsis => true,
        Kind::String => !node.named_children().any(|c| kinds.of(c) == Kind::Interpolation),
        Kind::ConcatenatedString => named_children(node).into_iter().all(is_plain_literal),
        Kind::Tuple | Kind::List | Kind::Set | Kind::ParenthesizedExpression => {
            named_children(node).into_iter().all(|c| is_plain_literal(c) || kinds.of(c) == Kind::Identifier)
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every listed kind is a kind of the grammar, and its ids give it back: a misspelt or
    /// retired name (the grammar once had `except_group_clause`) would never match a node.
    #[test]
    fn every_listed_kind_is_a_kind_of_the_grammar() {
        let kinds = KindTable::get();
        for &(kind, name) in Kind::NAMES {
            for id in [kind_id(name), token_kind_id(name)].into_iter().filter(|id| *id != 0) {
                assert_eq!(kind_name(id), name, "id {id}");
                assert_eq!(kinds.of_id(id), kind, "{name}");
            }
            assert!(kind_id(name) != 0 || token_kind_id(name) != 0, "{name} is not a kind of the grammar");
        }
        assert_eq!(kind_id("ERROR"), u16::MAX);
    }

    /// The kind of an id is the kind its name says, for every id of the grammar and the error
    /// node's: comparing kinds says what comparing kind names said.
    #[test]
    fn the_kind_of_every_id_is_the_kind_of_its_name() {
        let kinds = KindTable::get();
        let count = u16::try_from(KIND_NAMES.len()).expect("the grammar has fewer than 65535 kinds");
        for id in (0..count + 2).chain([u16::MAX]) {
            let name = kind_name(id);
            let listed = Kind::NAMES.iter().find(|(_, listed)| *listed == name).map(|(kind, _)| *kind);
            assert_eq!(kinds.of_id(id), listed.unwrap_or(Kind::Other), "id {id} ({name:?})");
        }
    }
}
