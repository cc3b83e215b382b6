//! Statements, blocks and the comments that end them, definitions and imports.

use ruff_python_ast::token::TokenKind;
use ruff_python_ast::{self as ast, Expr, Stmt};
use ruff_text_size::Ranged;

use super::{Converter, MAX_CONVERTED_DEPTH, end, start};

impl Converter<'_> {
    pub(super) fn module(&mut self, module: &ast::ModModule, end: u32) {
        // tree-sitter's tree starts at its first token or comment (after a byte order mark)
        // in the parts parsed (the lines before the first are comments here).
        let parsed = self.src.get(self.first_parsed..).unwrap_or_default();
        let text = parsed.strip_prefix('\u{feff}').unwrap_or(parsed);
        let blank = text.len() - text.trim_start_matches([' ', '\t', '\n', '\r', '\x0c']).len();
        let start = u32::try_from(self.src.len() - text.len() + blank).unwrap_or(0);
        self.out.open(self.ids.kind.module, 0, start);
        for statement in &module.body {
            self.statement(statement);
        }
        self.close(end);
    }

    /// A block: from its first statement to its last, and the comments after it that
    /// tree-sitter's scanner puts in it (see [`Converter::comments_ending_block`]).
    pub(super) fn block(&mut self, field: u16, body: &[Stmt], header_start: u32) {
        let Some(first) = body.first() else { return };
        self.open(self.ids.kind.block, field, start(first));
        for statement in body {
            self.statement(statement);
        }
        let last_end = self.out.children_end();
        let end = self.comments_ending_block(start(first), header_start, last_end);
        self.close(end);
    }

    /// Where a block ends, given where its last statement ends. tree-sitter's scanner closes
    /// an indented block at the first line, comment or code, indented less than the block
    /// (comments as deep as the block stay in it); a block on its header's line ends at the
    /// end of that line.
    pub(super) fn comments_ending_block(&mut self, first: u32, header_start: u32, last_end: u32) -> u32 {
        // A `;` after the last statement is the block's.
        let last_end = match self.token_after(last_end) {
            Some(semicolon) if semicolon.kind() == TokenKind::Semi => end(&semicolon),
            _ => last_end,
        };
        let mut end = self.same_line_comments(last_end);
        if self.line_start(first) > header_start {
            let indent = self.column(first);
            let next_code = self.token_after_trivia(last_end);
            while self.next_extra_start() < next_code && self.column(self.next_extra_start()) >= indent {
                end = self.write_extra();
            }
        }
        end
    }

    /// Writes the comments on the rest of the line `offset` is on; where the last one ends.
    pub(super) fn same_line_comments(&mut self, offset: u32) -> u32 {
        let line_end = self.src[offset as usize..].find('\n').map_or(self.src.len(), |i| offset as usize + i);
        let line_end = u32::try_from(line_end).unwrap_or(u32::MAX);
        let mut end = offset;
        while self.next_extra_start() < line_end {
            end = self.write_extra();
        }
        end
    }

    /// The start of the first token at or after `offset` that is code (not a comment or a line
    /// break, indent or dedent).
    pub(super) fn token_after_trivia(&self, offset: u32) -> u32 {
        let from = self.tokens.partition_point(|t| start(t) < offset);
        self.tokens[from..]
            .iter()
            .find(|t| {
                !matches!(
                    t.kind(),
                    TokenKind::Comment
                        | TokenKind::NonLogicalNewline
                        | TokenKind::Newline
                        | TokenKind::Indent
                        | TokenKind::Dedent
                )
            })
            .map_or(u32::MAX, start)
    }

    pub(super) fn line_start(&self, offset: u32) -> u32 {
        u32::try_from(crate::fix::line_start(self.src, offset as usize)).unwrap_or(u32::MAX)
    }

    /// The column of `offset` as tree-sitter's scanner measures indentation (a tab to the next
    /// multiple of 8).
    pub(super) fn column(&self, offset: u32) -> u32 {
        let line_start = self.line_start(offset) as usize;
        let mut column = 0;
        for byte in self.src[line_start..offset as usize].bytes() {
            column = match byte {
                b'\t' => (column / 8 + 1) * 8,
                b'\x0c' => 0,
                _ => column + 1,
            };
        }
        column
    }

    pub(super) fn statement(&mut self, statement: &Stmt) {
        if self.out.depth() > MAX_CONVERTED_DEPTH {
            self.give_up("too deep");
            return;
        }
        let k = &self.ids().kind;
        let f = &self.ids().field;
        let (s, e) = (start(statement), end(statement));
        match statement {
            Stmt::Expr(ast::StmtExpr { value, .. }) => {
                let text = &self.src[s as usize..e as usize];
                // Only the name `print` itself (`printlist(x)` is a call of another name).
                let after_print = text
                    .strip_prefix("print")
                    .filter(|rest| !rest.starts_with(|c: char| c.is_alphanumeric() || c == '_'))
                    .map(|rest| rest.trim_start_matches([' ', '\t']));
                if after_print.is_some_and(|rest| !rest.is_empty() && !rest.starts_with(['(', '.', '[', '='])) {
                    // tree-sitter reads `print >> f, x` as Python 2's print statement.
                    self.give_up("print statement");
                    return;
                }
                self.open(k.expression_statement, 0, s);
                match value.as_ref() {
                    Expr::Tuple(tuple) if !tuple.parenthesized => {
                        for element in &tuple.elts {
                            self.expr(element, 0);
                        }
                    }
                    value => self.expr(value, 0),
                }
                self.close(e);
            }
            Stmt::Assign(ast::StmtAssign { targets, value, .. }) => {
                // `type(x).a = b` is an assignment, as Python reads it (tree-sitter's own tree is a
                // type alias statement).
                self.open(k.expression_statement, 0, s);
                let mut open = 0;
                for (i, target) in targets.iter().enumerate() {
                    let field = if i == 0 { 0 } else { f.right };
                    self.open(k.assignment, field, self.outer_start(target.range()));
                    open += 1;
                    self.target(target, f.left);
                }
                self.value_list(value, f.right);
                for _ in 0..open {
                    self.close(e);
                }
                self.close(e);
            }
            Stmt::AnnAssign(ast::StmtAnnAssign { target, annotation, value, .. }) => {
                self.open(k.expression_statement, 0, s);
                self.open(k.assignment, 0, s);
                self.target(target, f.left);
                self.type_(annotation, f.type_);
                if let Some(value) = value {
                    self.value_list(value, f.right);
                }
                self.close(e);
                self.close(e);
            }
            Stmt::AugAssign(ast::StmtAugAssign { target, value, .. }) => {
                self.open(k.expression_statement, 0, s);
                self.open(k.augmented_assignment, 0, s);
                self.target(target, f.left);
                self.value_list(value, f.right);
                self.close(e);
                self.close(e);
            }
            Stmt::Return(ast::StmtReturn { value, .. }) => {
                self.open(k.return_statement, 0, s);
                if let Some(value) = value {
                    self.value_list(value, 0);
                }
                self.close(e);
            }
            Stmt::Delete(ast::StmtDelete { targets, .. }) => {
                self.open(k.delete_statement, 0, s);
                match targets.as_slice() {
                    [one] => self.expr(one, 0),
                    [first, .., last] => {
                        self.open(k.expression_list, 0, self.outer_start(first.range()));
                        for target in targets {
                            self.expr(target, 0);
                        }
                        self.close(self.outer_end(last.range()));
                    }
                    [] => {}
                }
                self.close(e);
            }
            Stmt::Raise(ast::StmtRaise { exc, cause, .. }) => {
                self.open(k.raise_statement, 0, s);
                if let Some(exc) = exc {
                    self.value_list(exc, 0);
                }
                if let Some(cause) = cause {
                    self.expr(cause, f.cause);
                }
                self.close(e);
            }
            Stmt::Assert(ast::StmtAssert { test, msg, .. }) => {
                self.open(k.assert_statement, 0, s);
                self.expr(test, 0);
                if let Some(msg) = msg {
                    self.expr(msg, 0);
                }
                self.close(e);
            }
            Stmt::Pass(_) => self.leaf(k.pass_statement, 0, s, e),
            Stmt::Break(_) => self.leaf(k.break_statement, 0, s, e),
            Stmt::Continue(_) => self.leaf(k.continue_statement, 0, s, e),
            Stmt::Global(ast::StmtGlobal { names, .. }) | Stmt::Nonlocal(ast::StmtNonlocal { names, .. }) => {
                let kind = if statement.is_global_stmt() { k.global_statement } else { k.nonlocal_statement };
                self.open(kind, 0, s);
                for name in names {
                    self.leaf(k.identifier, 0, start(name), end(name));
                }
                self.close(e);
            }
            Stmt::Import(ast::StmtImport { names, is_lazy, .. }) => {
                if *is_lazy {
                    self.give_up("lazy import");
                    return;
                }
                self.open(k.import_statement, 0, s);
                for alias in names {
                    self.alias(alias);
                }
                self.close(e);
            }
            Stmt::ImportFrom(import) => self.import_from(import, s, e),
            Stmt::If(ast::StmtIf { test, body, elif_else_clauses, .. }) => {
                self.open(k.if_statement, 0, s);
                self.expr(test, f.condition);
                self.block(f.consequence, body, s);
                for clause in elif_else_clauses {
                    let clause_start = start(clause);
                    match &clause.test {
                        Some(test) => {
                            self.open(k.elif_clause, f.alternative, clause_start);
                            self.expr(test, f.condition);
                            self.block(f.consequence, &clause.body, clause_start);
                        }
                        None => {
                            self.open(k.else_clause, f.alternative, clause_start);
                            self.block(f.body, &clause.body, clause_start);
                        }
                    }
                    self.close(end(clause));
                }
                self.close(e);
            }
            Stmt::While(ast::StmtWhile { test, body, orelse, .. }) => {
                self.open(k.while_statement, 0, s);
                self.expr(test, f.condition);
                self.block(f.body, body, s);
                self.else_clause(orelse, f.alternative);
                self.close(e);
            }
            Stmt::For(ast::StmtFor { is_async, target, iter, body, orelse, .. }) => {
                self.open(k.for_statement, 0, s);
                if *is_async {
                    self.async_token(s);
                }
                self.target(target, f.left);
                self.value_list(iter, f.right);
                self.block(f.body, body, s);
                self.else_clause(orelse, f.alternative);
                self.close(e);
            }
            Stmt::Try(ast::StmtTry { body, handlers, orelse, finalbody, is_star, .. }) => {
                if *is_star {
                    self.give_up("except*");
                    return;
                }
                self.open(k.try_statement, 0, s);
                self.block(f.body, body, s);
                for ast::ExceptHandler::ExceptHandler(handler) in handlers {
                    let handler_start = start(handler);
                    self.open(k.except_clause, 0, handler_start);
                    if let Some(type_) = &handler.type_ {
                        match &handler.name {
                            Some(name) => {
                                self.open(k.as_pattern, f.value, self.outer_start(type_.range()));
                                self.expr(type_, 0);
                                self.open(k.as_pattern_target, f.alias, start(name));
                                self.leaf(k.identifier, 0, start(name), end(name));
                                self.close(end(name));
                                self.close(end(name));
                            }
                            None => self.expr(type_, f.value),
                        }
                    }
                    self.block(0, &handler.body, handler_start);
                    self.close(end(handler));
                }
                self.else_clause(orelse, 0);
                if let Some(first) = finalbody.first() {
                    let keyword = self.find_token_back(TokenKind::Finally, s, start(first));
                    let at = keyword.map_or(start(first), |t| start(&t));
                    self.open(k.finally_clause, 0, at);
                    self.block(0, finalbody, at);
                    self.close(end(finalbody.last().unwrap_or(first)));
                }
                self.close(e);
            }
            Stmt::With(with) => self.with(with, s, e),
            Stmt::FunctionDef(function) => self.function(function, s, e),
            Stmt::ClassDef(class) => self.class(class, s, e),
            Stmt::Match(_) => self.give_up("match"),
            Stmt::TypeAlias(_) => self.give_up("type alias"),
            Stmt::IpyEscapeCommand(_) => self.give_up("IPython escape"),
        }
    }

    pub(super) fn async_token(&mut self, from: u32) {
        if let Some(token) = self.find_token(TokenKind::Async, from, from + 6) {
            self.token(self.ids.token.async_, 0, token);
        }
    }

    /// The `else` of a `for`, `while` or `try`: from its keyword to the end of its block.
    pub(super) fn else_clause(&mut self, orelse: &[Stmt], field: u16) {
        let (Some(first), Some(last)) = (orelse.first(), orelse.last()) else { return };
        let from = self.out.children_end();
        let keyword = self.find_token_back(TokenKind::Else, from, start(first));
        let at = keyword.map_or(start(first), |t| start(&t));
        self.open(self.ids.kind.else_clause, field, at);
        self.block(self.ids.field.body, orelse, at);
        self.close(end(last));
    }

    pub(super) fn with(&mut self, with: &ast::StmtWith, s: u32, e: u32) {
        let k = &self.ids().kind;
        let f = &self.ids().field;
        self.open(k.with_statement, 0, s);
        if with.is_async {
            self.async_token(s);
        }
        let (Some(first), Some(last)) = (with.items.first(), with.items.last()) else {
            self.give_up("with without items");
            return;
        };
        // `with (a as b, c):` puts its parentheses in the with clause; parentheses around a
        // single item without `as` are the expression's.
        let keyword_end = self.find_token(TokenKind::With, s, start(first) + 1).map_or(s, |t| end(&t));
        let open_paren = self.token_after(keyword_end).filter(|t| t.kind() == TokenKind::Lpar);
        let first_start = self.outer_start(first.context_expr.range());
        let clause_parens = open_paren.is_some_and(|paren| start(&paren) < first_start);
        let (clause_start, clause_end) = if clause_parens {
            let close = self.token_after(end(last)).filter(|t| t.kind() == TokenKind::Rpar);
            let close = close.or_else(|| {
                // A trailing comma before the closing parenthesis.
                let after = self.token_after(end(last))?;
                (after.kind() == TokenKind::Comma).then(|| self.token_after(end(&after)))?
            });
            (open_paren.map_or(start(first), |t| start(&t)), close.map_or(end(last), |t| end(&t)))
        } else {
            (self.outer_start(first.context_expr.range()), self.item_end(last))
        };
        if clause_parens && let Some(paren) = open_paren {
            self.call_parens.push(start(&paren));
        }
        self.open(k.with_clause, 0, clause_start);
        for item in &with.items {
            let item_start = self.outer_start(item.context_expr.range());
            let item_end = self.item_end(item);
            self.open(k.with_item, 0, item_start);
            match &item.optional_vars {
                Some(target) => {
                    self.open(k.as_pattern, f.value, item_start);
                    self.expr(&item.context_expr, 0);
                    self.open(k.as_pattern_target, f.alias, self.outer_start(target.range()));
                    // tree-sitter reads `with ... as (a, b)` as an expression, not a pattern.
                    self.expr(target, 0);
                    self.close(item_end);
                    self.close(item_end);
                }
                None => self.expr(&item.context_expr, f.value),
            }
            self.close(item_end);
        }
        self.close(clause_end);
        if clause_parens && open_paren.is_some() {
            self.call_parens.pop();
        }
        self.block(f.body, &with.body, s);
        self.close(e);
    }

    pub(super) fn item_end(&self, item: &ast::WithItem) -> u32 {
        match &item.optional_vars {
            Some(target) => self.outer_end(target.range()),
            None => self.outer_end(item.context_expr.range()),
        }
    }

    /// Opens the decorated definition and writes its decorators; the definition itself starts
    /// at the next token (`def`, `async` or `class`).
    pub(super) fn decorated(&mut self, decorators: &[ast::Decorator], s: u32) -> u32 {
        let k = &self.ids().kind;
        let Some(last) = decorators.last() else { return s };
        self.open(k.decorated_definition, 0, s);
        for decorator in decorators {
            self.open(k.decorator, 0, start(decorator));
            self.expr(&decorator.expression, 0);
            // A decorator ends with its line: a comment after it is inside.
            let end = self.same_line_comments(end(decorator));
            self.close(end);
        }
        self.token_after_trivia(end(last))
    }

    pub(super) fn function(&mut self, function: &ast::StmtFunctionDef, s: u32, e: u32) {
        let f = &self.ids().field;
        let kind = self.ids().kind.function_definition;
        let definition =
            Definition { kind, decorators: &function.decorator_list, generic: function.type_params.is_some() };
        self.definition(definition, s, e, |this, def_start| {
            if function.is_async {
                this.async_token(def_start);
            }
            this.leaf(this.ids().kind.identifier, f.name, start(&function.name), end(&function.name));
            this.parameters(&function.parameters, false);
            if let Some(returns) = &function.returns {
                this.type_(returns, f.return_type);
            }
            this.block(f.body, &function.body, def_start);
        });
    }

    pub(super) fn class(&mut self, class: &ast::StmtClassDef, s: u32, e: u32) {
        let f = &self.ids().field;
        let kind = self.ids().kind.class_definition;
        let definition = Definition { kind, decorators: &class.decorator_list, generic: class.type_params.is_some() };
        self.definition(definition, s, e, |this, class_start| {
            this.leaf(this.ids().kind.identifier, f.name, start(&class.name), end(&class.name));
            if let Some(arguments) = &class.arguments {
                this.arguments(arguments, f.superclasses);
            }
            this.block(f.body, &class.body, class_start);
        });
    }

    /// A `def` or `class`, in a `decorated_definition` when it has decorators: `inside` writes
    /// what follows its keyword, given where the definition starts.
    fn definition(&mut self, definition: Definition, s: u32, e: u32, inside: impl FnOnce(&mut Self, u32)) {
        if definition.generic {
            self.give_up("type parameters");
            return;
        }
        let decorated = !definition.decorators.is_empty();
        let def_start = if decorated { self.decorated(definition.decorators, s) } else { s };
        self.open(definition.kind, if decorated { self.ids().field.definition } else { 0 }, def_start);
        inside(self, def_start);
        self.close(e);
        if decorated {
            self.close(e);
        }
    }

    pub(super) fn parameters(&mut self, parameters: &ast::Parameters, lambda: bool) {
        let k = &self.ids().kind;
        let f = &self.ids().field;
        let (s, e) = (start(parameters), end(parameters));
        self.open(if lambda { k.lambda_parameters } else { k.parameters }, f.parameters, s);
        for parameter in &parameters.posonlyargs {
            self.parameter_with_default(parameter);
        }
        if let Some(last) = parameters.posonlyargs.last() {
            let next = parameters.args.first().map_or(e, start);
            if let Some(slash) = self.find_token(TokenKind::Slash, end(last), next) {
                self.leaf(k.positional_separator, 0, start(&slash), end(&slash));
            }
        }
        for parameter in &parameters.args {
            self.parameter_with_default(parameter);
        }
        let after_args = parameters.args.last().or(parameters.posonlyargs.last()).map_or(s, end);
        if let Some(vararg) = &parameters.vararg {
            self.star_parameter(vararg, k.list_splat_pattern, TokenKind::Star, after_args);
        } else if let Some(first) = parameters.kwonlyargs.first()
            && let Some(star) = self.find_token(TokenKind::Star, after_args, start(first))
        {
            self.leaf(k.keyword_separator, 0, start(&star), end(&star));
        }
        for parameter in &parameters.kwonlyargs {
            self.parameter_with_default(parameter);
        }
        if let Some(kwarg) = &parameters.kwarg {
            let from = parameters.kwonlyargs.last().map_or(after_args, end);
            let from = parameters.vararg.as_ref().map_or(from, |v| end(v.as_ref()).max(from));
            self.star_parameter(kwarg, k.dictionary_splat_pattern, TokenKind::DoubleStar, from);
        }
        self.close(e);
    }

    pub(super) fn parameter_with_default(&mut self, parameter: &ast::ParameterWithDefault) {
        let k = &self.ids().kind;
        let f = &self.ids().field;
        let name = &parameter.parameter.name;
        let (s, e) = (start(parameter), end(parameter));
        match (&parameter.parameter.annotation, &parameter.default) {
            (None, None) => self.leaf(k.identifier, 0, start(name), end(name)),
            (None, Some(default)) => {
                self.open(k.default_parameter, 0, s);
                self.leaf(k.identifier, f.name, start(name), end(name));
                self.expr(default, f.value);
                self.close(e);
            }
            (Some(annotation), None) => {
                self.open(k.typed_parameter, 0, s);
                self.leaf(k.identifier, 0, start(name), end(name));
                self.type_(annotation, f.type_);
                self.close(e);
            }
            (Some(annotation), Some(default)) => {
                self.open(k.typed_default_parameter, 0, s);
                self.leaf(k.identifier, f.name, start(name), end(name));
                self.type_(annotation, f.type_);
                self.expr(default, f.value);
                self.close(e);
            }
        }
    }

    /// `*args` or `**kwargs`, possibly typed.
    pub(super) fn star_parameter(&mut self, parameter: &ast::Parameter, kind: u16, star: TokenKind, from: u32) {
        let k = &self.ids().kind;
        let name = &parameter.name;
        let star_start = self.find_token_back(star, from, start(name)).map_or(start(name), |t| start(&t));
        match &parameter.annotation {
            None => {
                self.open(kind, 0, star_start);
                self.leaf(k.identifier, 0, start(name), end(name));
                self.close(end(name));
            }
            Some(annotation) => {
                self.open(k.typed_parameter, 0, star_start);
                self.open(kind, 0, star_start);
                self.leaf(k.identifier, 0, start(name), end(name));
                self.close(end(name));
                self.type_(annotation, self.ids.field.type_);
                self.close(end(parameter));
            }
        }
    }

    pub(super) fn alias(&mut self, alias: &ast::Alias) {
        let k = &self.ids().kind;
        let f = &self.ids().field;
        match &alias.asname {
            Some(asname) => {
                self.open(k.aliased_import, f.name, start(alias));
                self.dotted_name(start(&alias.name), end(&alias.name), f.name);
                self.leaf(k.identifier, f.alias, start(asname), end(asname));
                self.close(end(alias));
            }
            None => self.dotted_name(start(&alias.name), end(&alias.name), f.name),
        }
    }

    /// A dotted name, one identifier a part.
    pub(super) fn dotted_name(&mut self, from: u32, to: u32, field: u16) {
        let k = &self.ids().kind;
        self.open(k.dotted_name, field, from);
        let text = &self.src.as_bytes()[from as usize..to as usize];
        let mut part_start = None;
        for (i, byte) in text.iter().enumerate().chain(std::iter::once((text.len(), &b'.'))) {
            let at = from + u32::try_from(i).unwrap_or(0);
            let separator = *byte == b'.' || byte.is_ascii_whitespace() || *byte == b'\\';
            match (separator, part_start) {
                (true, Some(s)) => {
                    self.leaf(k.identifier, 0, s, at);
                    part_start = None;
                }
                (false, None) => part_start = Some(at),
                _ => {}
            }
        }
        self.close(to);
    }

    pub(super) fn import_from(&mut self, import: &ast::StmtImportFrom, s: u32, e: u32) {
        if import.is_lazy {
            self.give_up("lazy import");
            return;
        }
        let k = &self.ids().kind;
        let f = &self.ids().field;
        let future = import.level == 0 && import.module.as_ref().is_some_and(|m| m.id.as_str() == "__future__");
        self.open(if future { k.future_import_statement } else { k.import_from_statement }, 0, s);
        let import_keyword = self.find_token(TokenKind::Import, s, e);
        let names_from = import_keyword.map_or(s, |t| end(&t));
        if !future {
            if import.level > 0 {
                let from_end = s + 4;
                let dots_end = import.module.as_ref().map_or(names_from, start);
                let dots = self
                    .tokens_between(from_end, dots_end, |kind| matches!(kind, TokenKind::Dot | TokenKind::Ellipsis));
                let (Some(first_dot), Some(last_dot)) = (dots.first().copied(), dots.last().copied()) else {
                    self.give_up("relative import without dots");
                    return;
                };
                let relative_end = import.module.as_ref().map_or(end(&last_dot), end);
                self.open(k.relative_import, f.module_name, start(&first_dot));
                self.leaf(k.import_prefix, 0, start(&first_dot), end(&last_dot));
                if let Some(module) = &import.module {
                    self.dotted_name(start(module), end(module), 0);
                }
                self.close(relative_end);
            } else if let Some(module) = &import.module {
                self.dotted_name(start(module), end(module), f.module_name);
            }
        }
        for alias in &import.names {
            if alias.name.id.as_str() == "*" {
                self.leaf(k.wildcard_import, 0, start(alias), end(alias));
            } else {
                self.alias(alias);
            }
        }
        self.close(e);
    }
}

/// What a `def` and a `class` have in common, for [`Converter::definition`].
struct Definition<'a> {
    kind: u16,
    decorators: &'a [ast::Decorator],
    /// It has type parameters (not built here).
    generic: bool,
}
