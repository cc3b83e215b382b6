//! Expressions, targets, annotations, strings, arguments and comprehensions.

use ruff_python_ast::token::TokenKind;
use ruff_python_ast::{self as ast, Expr};
use ruff_text_size::{Ranged, TextRange};

use super::{Converter, MAX_CONVERTED_DEPTH, end, start};

impl Converter<'_> {
    /// An assignment's value, a `return`'s or a `for`'s iterable: a tuple without parentheses
    /// is an `expression_list`.
    pub(super) fn value_list(&mut self, value: &Expr, field: u16) {
        match value {
            Expr::Tuple(tuple) if !tuple.parenthesized => {
                self.sequence(self.ids().kind.expression_list, field, start(tuple), end(tuple), &tuple.elts);
            }
            value => self.expr(value, field),
        }
    }

    /// An assignment target, a `for`'s or a comprehension's variables, a `with`'s `as`.
    pub(super) fn target(&mut self, target: &Expr, field: u16) {
        let k = &self.ids().kind;
        match target {
            Expr::Tuple(tuple) => {
                let kind = if tuple.parenthesized { k.tuple_pattern } else { k.pattern_list };
                self.open(kind, field, start(tuple));
                for element in &tuple.elts {
                    self.target(element, 0);
                }
                self.close(end(tuple));
            }
            Expr::List(list) => {
                self.open(k.list_pattern, field, start(list));
                for element in &list.elts {
                    self.target(element, 0);
                }
                self.close(end(list));
            }
            // `*a.b, c = d` as Python reads it: tree-sitter's own tree has the attribute of `*a`.
            Expr::Starred(starred) => {
                self.open(k.list_splat_pattern, field, start(starred));
                self.target(&starred.value, 0);
                self.close(end(starred));
            }
            // Parentheses around a single target make a tuple pattern of one.
            target => self.in_parentheses(target, field, k.tuple_pattern),
        }
    }

    /// An annotation: `type`, with `Name[...]` as a `generic_type`.
    pub(super) fn type_(&mut self, annotation: &Expr, field: u16) {
        let k = &self.ids().kind;
        let s = self.outer_start(annotation.range());
        let e = self.outer_end(annotation.range());
        self.open(k.type_, field, s);
        self.type_inner(annotation);
        self.close(e);
    }

    pub(super) fn type_inner(&mut self, annotation: &Expr) {
        let k = &self.ids().kind;
        match annotation {
            Expr::Subscript(subscript)
                if subscript.value.is_name_expr() && self.parentheses(subscript.range).is_empty() =>
            {
                self.open(k.generic_type, 0, start(subscript));
                self.expr(&subscript.value, 0);
                let bracket = self.find_token(TokenKind::Lsqb, end(subscript.value.as_ref()), end(subscript));
                self.open(k.type_parameter, 0, bracket.map_or(start(subscript.slice.as_ref()), |t| start(&t)));
                let elements: &[Expr] = match subscript.slice.as_ref() {
                    Expr::Tuple(tuple) if !tuple.parenthesized => &tuple.elts,
                    slice => std::slice::from_ref(slice),
                };
                for element in elements {
                    self.type_(element, 0);
                }
                self.close(end(subscript));
                self.close(end(subscript));
            }
            Expr::BinOp(union)
                if union.op == ast::Operator::BitOr
                    && starts_as_type(&union.left)
                    && self.parentheses(union.range).is_empty() =>
            {
                if matches!(union.left.as_ref(), Expr::BinOp(_)) {
                    // Which way tree-sitter nests `a[b] | c | d` depends on where it stands.
                    self.give_up("union chain");
                }
                self.open(k.union_type, 0, start(union));
                self.type_(&union.left, 0);
                self.type_(&union.right, 0);
                self.close(end(union));
            }
            annotation => self.expr(annotation, 0),
        }
    }

    pub(super) fn expr(&mut self, expr: &Expr, field: u16) {
        if self.out.depth() > MAX_CONVERTED_DEPTH {
            self.give_up("too deep");
            return;
        }
        self.in_parentheses(expr, field, self.ids().kind.parenthesized_expression);
    }

    /// `expr` inside a node of `kind` for each pair of its own parentheses.
    fn in_parentheses(&mut self, expr: &Expr, field: u16, kind: u16) {
        let layers = self.parentheses(expr.range());
        let mut inner_field = field;
        for &(s, _) in &layers {
            self.open(kind, inner_field, s);
            inner_field = 0;
        }
        self.bare_expr(expr, inner_field);
        for &(_, e) in layers.iter().rev() {
            self.close(e);
        }
    }

    pub(super) fn bare_expr(&mut self, expr: &Expr, field: u16) {
        let k = &self.ids().kind;
        let f = &self.ids().field;
        let (s, e) = (start(expr), end(expr));
        match expr {
            Expr::Name(_) => self.leaf(k.identifier, field, s, e),
            Expr::NumberLiteral(number) => {
                let kind = match &number.value {
                    ast::Number::Int(_) => k.integer,
                    ast::Number::Float(_) => k.float,
                    ast::Number::Complex { .. } => {
                        let text = &self.src[s as usize..e as usize];
                        let hex = text.starts_with("0x") || text.starts_with("0X");
                        if !hex && text.contains(['.', 'e', 'E']) { k.float } else { k.integer }
                    }
                };
                self.leaf(kind, field, s, e);
            }
            Expr::BooleanLiteral(literal) => self.leaf(if literal.value { k.true_ } else { k.false_ }, field, s, e),
            Expr::NoneLiteral(_) => self.leaf(k.none, field, s, e),
            Expr::EllipsisLiteral(_) => self.leaf(k.ellipsis, field, s, e),
            Expr::StringLiteral(string) => {
                let parts: Vec<TextRange> = string.value.iter().map(Ranged::range).collect();
                self.plain_strings(&parts, field, s, e);
            }
            Expr::BytesLiteral(bytes) => {
                let parts: Vec<TextRange> = bytes.value.iter().map(Ranged::range).collect();
                self.plain_strings(&parts, field, s, e);
            }
            Expr::FString(fstring) => {
                let concatenated = fstring.value.is_implicit_concatenated();
                if concatenated {
                    self.open(k.concatenated_string, field, s);
                }
                for part in fstring.value.iter() {
                    let part_field = if concatenated { 0 } else { field };
                    match part {
                        ast::FStringPart::Literal(literal) => {
                            self.leaf(k.string, part_field, start(literal), end(literal))
                        }
                        ast::FStringPart::FString(fstring) => {
                            self.open(k.string, part_field, start(fstring));
                            self.interpolations(&fstring.elements);
                            self.close(end(fstring));
                        }
                    }
                }
                if concatenated {
                    self.close(e);
                }
            }
            Expr::Attribute(attribute) => {
                self.open(k.attribute, field, s);
                self.expr(&attribute.value, f.object);
                self.leaf(k.identifier, f.attribute, start(&attribute.attr), end(&attribute.attr));
                self.close(e);
            }
            Expr::Call(call) => {
                self.open(k.call, field, s);
                self.expr(&call.func, f.function);
                let arguments = &call.arguments;
                match (arguments.args.as_ref(), arguments.keywords.is_empty()) {
                    ([Expr::Generator(generator)], true) if !generator.parenthesized => {
                        self.comprehension(
                            k.generator_expression,
                            f.arguments,
                            start(arguments),
                            end(arguments),
                            |this| this.expr(&generator.elt, this.ids.field.body),
                            &generator.generators,
                        );
                    }
                    _ => self.arguments(arguments, f.arguments),
                }
                self.close(e);
            }
            Expr::Subscript(subscript) => {
                self.open(k.subscript, field, s);
                self.expr(&subscript.value, f.value);
                match subscript.slice.as_ref() {
                    Expr::Tuple(tuple) if !tuple.parenthesized => {
                        for element in &tuple.elts {
                            self.expr(element, f.subscript);
                        }
                    }
                    slice => self.expr(slice, f.subscript),
                }
                self.close(e);
            }
            Expr::Slice(slice) => {
                self.open(k.slice, field, s);
                for part in [&slice.lower, &slice.upper, &slice.step].into_iter().flatten() {
                    self.expr(part, 0);
                }
                self.close(e);
            }
            Expr::Starred(starred) => {
                self.open(k.list_splat, field, s);
                self.expr(&starred.value, 0);
                self.close(e);
            }
            Expr::Tuple(tuple) => {
                let kind = if tuple.parenthesized { k.tuple } else { k.expression_list };
                self.sequence(kind, field, s, e, &tuple.elts);
            }
            Expr::List(list) => self.sequence(k.list, field, s, e, &list.elts),
            Expr::Set(set) => self.sequence(k.set, field, s, e, &set.elts),
            Expr::Dict(dict) => {
                self.open(k.dictionary, field, s);
                for item in &dict.items {
                    match &item.key {
                        Some(key) => {
                            let pair_start = self.outer_start(key.range());
                            self.open(k.pair, 0, pair_start);
                            self.expr(key, f.key);
                            self.expr(&item.value, f.value);
                            self.close(self.outer_end(item.value.range()));
                        }
                        None => {
                            let value_start = self.outer_start(item.value.range());
                            let from = self.out.children_end().max(s);
                            let stars = self.find_token_back(TokenKind::DoubleStar, from, value_start);
                            self.open(k.dictionary_splat, 0, stars.map_or(value_start, |t| start(&t)));
                            self.expr(&item.value, 0);
                            self.close(self.outer_end(item.value.range()));
                        }
                    }
                }
                self.close(e);
            }
            Expr::ListComp(comp) => self.comprehension(
                k.list_comprehension,
                field,
                s,
                e,
                |this| this.expr(&comp.elt, this.ids.field.body),
                &comp.generators,
            ),
            Expr::SetComp(comp) => self.comprehension(
                k.set_comprehension,
                field,
                s,
                e,
                |this| this.expr(&comp.elt, this.ids.field.body),
                &comp.generators,
            ),
            Expr::Generator(comp) => self.comprehension(
                k.generator_expression,
                field,
                s,
                e,
                |this| this.expr(&comp.elt, this.ids.field.body),
                &comp.generators,
            ),
            Expr::DictComp(comp) => {
                let Some(key) = &comp.key else {
                    self.give_up("dict comprehension without key");
                    return;
                };
                self.comprehension(
                    k.dictionary_comprehension,
                    field,
                    s,
                    e,
                    |this| {
                        let pair_start = this.outer_start(key.range());
                        this.open(this.ids.kind.pair, this.ids.field.body, pair_start);
                        this.expr(key, this.ids.field.key);
                        this.expr(&comp.value, this.ids.field.value);
                        this.close(this.outer_end(comp.value.range()));
                    },
                    &comp.generators,
                )
            }
            Expr::Lambda(lambda) => {
                self.open(k.lambda, field, s);
                if let Some(parameters) = &lambda.parameters {
                    self.parameters(parameters, true);
                }
                self.expr(&lambda.body, f.body);
                self.close(e);
            }
            Expr::If(conditional) => {
                self.open(k.conditional_expression, field, s);
                self.expr(&conditional.body, 0);
                self.expr(&conditional.test, 0);
                self.expr(&conditional.orelse, 0);
                self.close(e);
            }
            Expr::Named(named) => {
                if matches!(named.value.as_ref(), Expr::If(_) | Expr::Lambda(_))
                    && self.parentheses(named.value.range()).is_empty()
                {
                    // tree-sitter reads `a := b if c else d` as `(a := b) if c else d`.
                    self.give_up("named conditional");
                }
                self.open(k.named_expression, field, s);
                self.expr(&named.target, f.name);
                self.expr(&named.value, f.value);
                self.close(e);
            }
            Expr::Await(await_) => {
                self.open(k.await_, field, s);
                self.expr(&await_.value, 0);
                self.close(e);
            }
            Expr::Yield(yield_) => {
                self.open(k.yield_, field, s);
                if let Some(value) = &yield_.value {
                    self.value_list(value, 0);
                }
                self.close(e);
            }
            Expr::YieldFrom(yield_) => {
                self.open(k.yield_, field, s);
                if let Some(from) = self.find_token(TokenKind::From, s, start(yield_.value.as_ref())) {
                    self.token(self.ids.token.from, 0, from);
                }
                self.expr(&yield_.value, 0);
                self.close(e);
            }
            Expr::BoolOp(boolean) => {
                // `a and b and c` is `(a and b) and c`.
                let values = &boolean.values;
                for i in 1..values.len() {
                    self.open(k.boolean_operator, if i == 1 { field } else { f.left }, s);
                }
                for (i, value) in values.iter().enumerate() {
                    self.expr(value, if i == 0 { f.left } else { f.right });
                    if i > 0 {
                        self.close(self.outer_end(value.range()));
                    }
                }
            }
            Expr::BinOp(binary) => {
                if mixes_bitwise_operators(binary) {
                    // tree-sitter-python ranks `&` and `^` the other way round.
                    self.give_up("mixed bitwise operators");
                }
                self.open(k.binary_operator, field, s);
                self.expr(&binary.left, f.left);
                self.expr(&binary.right, f.right);
                self.close(e);
            }
            Expr::UnaryOp(unary) => {
                let kind = if unary.op == ast::UnaryOp::Not { k.not_operator } else { k.unary_operator };
                self.open(kind, field, s);
                self.expr(&unary.operand, f.argument);
                self.close(e);
            }
            Expr::Compare(compare) => {
                self.open(k.comparison_operator, field, s);
                self.expr(&compare.left, 0);
                let mut previous_end = self.outer_end(compare.left.range());
                for (op, comparator) in compare.ops.iter().zip(compare.comparators.iter()) {
                    let next_start = self.outer_start(comparator.range());
                    self.comparison_token(*op, previous_end, next_start);
                    self.expr(comparator, 0);
                    previous_end = self.outer_end(comparator.range());
                }
                self.close(e);
            }
            Expr::TString(_) => self.give_up("t-string"),
            Expr::IpyEscapeCommand(_) => self.give_up("IPython escape"),
        }
    }

    pub(super) fn comparison_token(&mut self, op: ast::CmpOp, from: u32, to: u32) {
        let t = &self.ids().token;
        let ops = self.tokens_between(from, to, |kind| {
            matches!(
                kind,
                TokenKind::Less
                    | TokenKind::LessEqual
                    | TokenKind::Greater
                    | TokenKind::GreaterEqual
                    | TokenKind::EqEqual
                    | TokenKind::NotEqual
                    | TokenKind::In
                    | TokenKind::Is
                    | TokenKind::Not
            )
        });
        let (Some(first), Some(last)) = (ops.first(), ops.last()) else {
            self.give_up("comparison operator not found");
            return;
        };
        let kind = match op {
            ast::CmpOp::Lt => t.lt,
            ast::CmpOp::LtE => t.le,
            ast::CmpOp::Gt => t.gt,
            ast::CmpOp::GtE => t.ge,
            ast::CmpOp::Eq => t.eq,
            ast::CmpOp::NotEq => t.ne,
            ast::CmpOp::In => t.in_,
            ast::CmpOp::NotIn => t.not_in,
            ast::CmpOp::Is => t.is,
            ast::CmpOp::IsNot => t.is_not,
        };
        self.comments_before(start(first));
        self.out.leaf(kind, self.ids.field.operators, start(first), end(last), false);
    }

    pub(super) fn plain_strings(&mut self, parts: &[TextRange], field: u16, s: u32, e: u32) {
        let k = &self.ids().kind;
        if parts.len() > 1 {
            self.open(k.concatenated_string, field, s);
            for part in parts {
                self.leaf(k.string, 0, part.start().to_u32(), part.end().to_u32());
            }
            self.close(e);
        } else {
            self.leaf(k.string, field, s, e);
        }
    }

    pub(super) fn interpolations(&mut self, elements: &ast::InterpolatedStringElements) {
        let k = &self.ids().kind;
        let f = &self.ids().field;
        for element in elements.iter() {
            let ast::InterpolatedStringElement::Interpolation(interpolation) = element else { continue };
            self.open(k.interpolation, 0, start(interpolation));
            self.value_list(&interpolation.expression, f.expression);
            let expression_end = self.outer_end(interpolation.expression.range());
            if interpolation.conversion != ast::ConversionFlag::None
                && let Some(bang) = self.find_token(TokenKind::Exclamation, expression_end, end(interpolation))
            {
                self.leaf(k.type_conversion, f.type_conversion, start(&bang), end(&bang) + 1);
            }
            if let Some(spec) = &interpolation.format_spec {
                if spec.elements.iter().any(|e| matches!(e, ast::InterpolatedStringElement::Interpolation(_))) {
                    self.give_up("nested format specification");
                }
                let colon = self.find_token_back(TokenKind::Colon, expression_end, start(spec.as_ref()) + 1);
                self.leaf(
                    k.format_specifier,
                    f.format_specifier,
                    colon.map_or(start(spec.as_ref()), |t| start(&t)),
                    end(spec.as_ref()),
                );
            }
            self.close(end(interpolation));
        }
    }

    pub(super) fn sequence(&mut self, kind: u16, field: u16, s: u32, e: u32, elements: &[Expr]) {
        self.open(kind, field, s);
        for element in elements {
            self.expr(element, 0);
        }
        self.close(e);
    }

    /// A call's or a class's arguments, in source order.
    pub(super) fn arguments(&mut self, arguments: &ast::Arguments, field: u16) {
        let k = &self.ids().kind;
        let f = &self.ids().field;
        let (s, e) = (start(arguments), end(arguments));
        self.open(k.argument_list, field, s);
        self.call_parens.push(s);
        for argument in arguments.iter_source_order() {
            match argument {
                ast::ArgOrKeyword::Arg(arg) => self.expr(arg, 0),
                ast::ArgOrKeyword::Keyword(keyword) => match &keyword.arg {
                    Some(name) => {
                        self.open(k.keyword_argument, 0, start(keyword));
                        self.leaf(k.identifier, f.name, start(name), end(name));
                        self.expr(&keyword.value, f.value);
                        self.close(end(keyword));
                    }
                    None => {
                        self.open(k.dictionary_splat, 0, start(keyword));
                        self.expr(&keyword.value, 0);
                        self.close(end(keyword));
                    }
                },
            }
        }
        self.call_parens.pop();
        self.close(e);
    }

    /// A comprehension: its element, then a `for_in_clause` for each `for` and an `if_clause`
    /// for each `if`.
    pub(super) fn comprehension(
        &mut self,
        kind: u16,
        field: u16,
        s: u32,
        e: u32,
        element: impl FnOnce(&mut Self),
        generators: &[ast::Comprehension],
    ) {
        let k = &self.ids().kind;
        let f = &self.ids().field;
        self.open(kind, field, s);
        element(self);
        for generator in generators {
            let target_start = self.outer_start(generator.target.range());
            let from = self.out.children_end();
            let keyword = if generator.is_async { TokenKind::Async } else { TokenKind::For };
            let clause_start =
                self.find_token_back(keyword, from, target_start).map_or(start(generator), |t| start(&t));
            let clause_start = if generator.is_async {
                self.find_token_back(TokenKind::Async, from, target_start).map_or(clause_start, |t| start(&t))
            } else {
                clause_start
            };
            self.open(k.for_in_clause, 0, clause_start);
            if generator.is_async {
                self.async_token(clause_start);
            }
            self.target(&generator.target, f.left);
            match &generator.iter {
                Expr::Tuple(tuple) if !tuple.parenthesized => {
                    for element in &tuple.elts {
                        self.expr(element, f.right);
                    }
                }
                iter => self.expr(iter, f.right),
            }
            self.close(self.outer_end(generator.iter.range()));
            for condition in &generator.ifs {
                let condition_start = self.outer_start(condition.range());
                let from = self.out.children_end();
                let keyword = self.find_token_back(TokenKind::If, from, condition_start);
                self.open(k.if_clause, 0, keyword.map_or(condition_start, |t| start(&t)));
                self.expr(condition, 0);
                self.close(self.outer_end(condition.range()));
            }
        }
        self.close(e);
    }
}

/// Whether `&` and `^` meet without parentheses: tree-sitter-python ranks `^` above `&`,
/// Python the other way round.
fn mixes_bitwise_operators(binary: &ast::ExprBinOp) -> bool {
    use ast::Operator::{BitAnd, BitXor};
    let other = match binary.op {
        BitAnd => BitXor,
        BitXor => BitAnd,
        _ => return false,
    };
    [&binary.left, &binary.right].into_iter().any(|side| side.as_bin_op_expr().is_some_and(|inner| inner.op == other))
}

/// Whether tree-sitter reads an annotation as a type that is not an expression: it starts with
/// `Name[...]` (a `generic_type`; `a | b[c]` stays a `binary_operator`).
fn starts_as_type(annotation: &Expr) -> bool {
    match annotation {
        Expr::Subscript(subscript) => subscript.value.is_name_expr(),
        Expr::BinOp(union) => union.op == ast::Operator::BitOr && starts_as_type(&union.left),
        _ => false,
    }
}
