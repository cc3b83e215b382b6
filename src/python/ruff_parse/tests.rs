use super::compare::first_difference;
use super::*;

fn tree_sitter(source: &str) -> SyntaxTree {
    let mut parser = tree_sitter::Parser::new();
    parser.set_language(&tree_sitter_python::LANGUAGE.into()).expect("the grammar loads");
    let tree = parser.parse(source, None).expect("tree-sitter gives a tree");
    SyntaxTree::new(&tree, usize::MAX)
}

/// `Some(difference)`, or `None` when the trees agree or ruff's tree is not built.
fn difference(source: &str) -> Option<String> {
    let ours = parse(source, None, usize::MAX)?;
    let theirs = tree_sitter(source);
    first_difference(theirs.root_node(), ours.root_node(), source)
}

fn python_files(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            python_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "py") {
            out.push(path);
        }
    }
}

#[test]
fn every_fixture_gets_tree_sitters_tree() {
    let mut files = Vec::new();
    python_files(std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures")), &mut files);
    files.sort();
    let mut built = 0;
    let mut differences = Vec::new();
    for path in &files {
        let source = std::fs::read_to_string(path).expect("fixtures are UTF-8");
        if parse(&source, None, usize::MAX).is_some() {
            built += 1;
        }
        if let Some(difference) = difference(&source) {
            differences.push(format!("{}:\n{difference}", path.display()));
        }
    }
    assert!(
        differences.is_empty(),
        "{} of {} fixtures differ:\n{}",
        differences.len(),
        files.len(),
        differences.join("\n\n")
    );
    // Most fixtures must take the fast path, or this test proves little.
    assert!(built * 10 >= files.len() * 9, "only {built} of {} fixtures were built from ruff's tree", files.len());
}

fn tree_sitter_ranges(source: &str, ranges: &[std::ops::Range<usize>]) -> SyntaxTree {
    let ranges = crate::python::tree_sitter_ranges(source, ranges);
    let mut parser = tree_sitter::Parser::new();
    parser.set_language(&tree_sitter_python::LANGUAGE.into()).expect("the grammar loads");
    parser.set_included_ranges(&ranges).expect("ranges in order");
    SyntaxTree::new(&parser.parse(source, None).expect("tree-sitter gives a tree"), usize::MAX)
}

/// Every second top-level statement of `source`, as whole lines.
fn every_second_statement(source: &str) -> Vec<std::ops::Range<usize>> {
    let whole = tree_sitter(source);
    let line_start = |offset: usize| source[..offset].rfind('\n').map_or(0, |i| i + 1);
    let line_end = |offset: usize| source[offset..].find('\n').map_or(source.len(), |i| offset + i + 1);
    let mut ranges: Vec<std::ops::Range<usize>> = Vec::new();
    let statements = whole.root_node().named_children().filter(|c| c.kind_str() != "comment");
    for statement in statements.step_by(2) {
        let range = line_start(statement.start_byte())..line_end(statement.end_byte().max(1) - 1);
        match ranges.last_mut() {
            Some(last) if last.end >= range.start => last.end = last.end.max(range.end),
            _ => ranges.push(range),
        }
    }
    ranges
}

/// Parsing parts of a module: ruff's parser reads the rest as comments, tree-sitter is given
/// the parts as included ranges; the trees must agree.
#[test]
fn parts_of_every_fixture_get_tree_sitters_tree() {
    let mut files = Vec::new();
    python_files(std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures")), &mut files);
    files.sort();
    let knowledge = crate::python::knowledge::Knowledge::builtin();
    let needles = crate::python::select::Needles::from_knowledge(knowledge);
    let mut compared = 0;
    let mut differences = Vec::new();
    for path in &files {
        let source = std::fs::read_to_string(path).expect("fixtures are UTF-8");
        if tree_sitter(&source).root_node().has_error() {
            continue;
        }
        let module = crate::python::select::ModuleName { name: "fixture", package: None };
        let selected = crate::python::select::select(&source, module, &needles, &Default::default());
        let mut tries = vec![every_second_statement(&source)];
        if let crate::python::select::Selection::Ranges(ranges) = selected.selection {
            tries.push(ranges);
        }
        for ranges in tries {
            let Some(ours) = parse(&source, Some(&ranges), usize::MAX) else { continue };
            compared += 1;
            let theirs = tree_sitter_ranges(&source, &ranges);
            if let Some(difference) = first_difference(theirs.root_node(), ours.root_node(), &source) {
                differences.push(format!("{} {ranges:?}:\n{difference}", path.display()));
            }
        }
    }
    assert!(differences.is_empty(), "{} differ:\n{}", differences.len(), differences.join("\n\n"));
    assert!(compared >= files.len(), "only {compared} parts compared");
}

/// Shapes whose tree is built here: each must equal tree-sitter's.
const BUILT: &[&str] = &[
    "with a as b, c:\n    pass\n    # in the block\n# after it\n",
    "with (a as b, c):\n    pass\n",
    "with (open(x)) as f:\n    pass\n",
    "with (x / y).open() as f:\n    pass\n",
    "async def f(a, /, b, *, c: int = 1, **k):\n    async with a as b:\n        pass\n    async for x in y:\n        pass\n",
    "def f(*args: int, **kw: str) -> Optional[Dict[str, int]]:\n    return (a), [*b], {**c, 1: 2}\n",
    "@dec  # on the decorator's line\n# between\ndef f():  # after the colon\n    # before the first statement\n    x = 1; y = 2;\n",
    "if x: pass  # same line\nelif y:\n    pass\nelse:\n    pass\n",
    "def f():\n    if x:\n        pass\n        # a\n    # b\n  # c\n# d\n    y = 1\n",
    "try:\n    pass\nexcept (A, B) as e:\n    pass\nexcept C:\n    pass\nelse:\n    pass\nfinally:\n    pass\n",
    "for (x) in y:\n    pass\nelse:\n    pass\nwhile x:\n    break\nelse:\n    continue\n",
    "a = (b.c) = d = e, f\nx: frozenset[int] | None = 1\ny: None | list[int]\nz: a.B | None\n",
    "from . import x\nfrom ..a.b import (c as d, e)\nfrom __future__ import annotations\nimport a.b as c, d\nfrom m import *\n",
    "x = f\"a{b!r:>3}c{d}\" \"e\" f'{g(h)=}'\ny = b'x' b'y'\nz = 1j + 1.5j + 0x1F\n",
    "x = \\\n    'continued string'\ny = a + \\\n    b\n",
    "def g():\n    x = yield from y\n    z = yield a, b\n    await c\n",
    "x = [a async for a in b if c if d]\ny = {k: v for k, v in d}\nz = {a for a in b}\nw = f(x for x in y)\n",
    "x = lambda a, *b, c=1, **d: a if b else c\ny = not a and b or c\nz = a is not None and b not in c < d\n",
    "del a, b\ndel (c)\nglobal g\nnonlocal n\nassert x, 'm'\nraise E from F\n",
    "x = d[a, b:c, ::2]\ny = *a, *b\nprint(*a, **b)\nf(*a.b, *c.d())\nx = [*a.b, c]\n",
    "class A(B, metaclass=M):\n    x: int\n    def f(self): pass\n    # c2\n",
    "\u{feff}# a byte order mark\r\nimport sqlite3\r\n# crlf\r\nx = 1\r\n",
    "\n\n# leading blank lines\nx = (  # a comment in parentheses\n    1)\n",
    "printlist(results)\nprinter.show(x)\nprint_all, x\nprint\nprint()\n",
];

/// Shapes tree-sitter-python reads differently from Python (or that are not built here),
/// with the reason given. Each must be left to tree-sitter: building any of them here would
/// give a tree that differs from tree-sitter's.
const LEFT_TO_TREE_SITTER: &[(&str, &str)] = &[
    ("x = a & b ^ c\n", "mixed bitwise operators"),
    ("print >> f, x\n", "print statement"),
    ("y = (a := b if c else d)\n", "named conditional"),
    ("x: dict[str, list[int] | str | int] = 1\n", "union chain"),
    ("match x:\n    case 1:\n        pass\n", "match"),
    ("def f[T](x: T): pass\n", "type parameters"),
    ("try:\n    pass\nexcept* E:\n    pass\n", "except*"),
    ("x = f'{a:{b}}'\n", "nested format specification"),
    ("x = 'a\0b'\n", "NUL byte"),
    ("def f(:\n", "syntax error"),
];

/// Shapes tree-sitter-python reads otherwise than Python does, built as Python reads them (as
/// the kinds of their nodes): the star of `*a.b` applies to `a.b`, not to `a`, and
/// `type(x).a = b` is an assignment, not a type alias, and `with (open(p) as f,):` opens `f`.
/// (The first two were left to tree-sitter before: the four files of CPython's `Lib` with such
/// a line were parsed twice, and their calls misread.)
const READ_AS_PYTHON_READS: &[(&str, &str)] = &[
    (
        "x = [*a.b]\n",
        "(module (expression_statement (assignment (identifier) (list (list_splat (attribute (identifier) (identifier)))))))",
    ),
    (
        "x = *a.b(), c\n",
        "(module (expression_statement (assignment (identifier) (expression_list (list_splat (call (attribute (identifier) (identifier)) (argument_list))) (identifier)))))",
    ),
    (
        "x = [*range(5)]\n",
        "(module (expression_statement (assignment (identifier) (list (list_splat (call (identifier) (argument_list (integer))))))))",
    ),
    (
        "x = d[*t[int]]\n",
        "(module (expression_statement (assignment (identifier) (subscript (identifier) (list_splat (subscript (identifier) (identifier)))))))",
    ),
    (
        "print(1, *sys.version.split())\n",
        "(module (expression_statement (call (identifier) (argument_list (integer) (list_splat (call (attribute (attribute (identifier) (identifier)) (identifier)) (argument_list)))))))",
    ),
    (
        "*a.b, c = d\n",
        "(module (expression_statement (assignment (pattern_list (list_splat_pattern (attribute (identifier) (identifier))) (identifier)) (identifier))))",
    ),
    (
        "with (open(p) as f,):\n    pass\n",
        "(module (with_statement (with_clause (with_item (as_pattern (call (identifier) (argument_list (identifier))) (as_pattern_target (identifier))))) (block (pass_statement))))",
    ),
    (
        "type(x).a = b\n",
        "(module (expression_statement (assignment (attribute (call (identifier) (argument_list (identifier))) (identifier)) (identifier))))",
    ),
];

/// Whether the first difference between the trees is one of [`READ_AS_PYTHON_READS`]'
/// shapes: where tree-sitter has the attribute, call or subscript of a star, a type alias, or
/// a `with` item of a tuple, ours has the star of the whole operand, an assignment, or the item
/// inside the parentheses.
fn is_a_tree_sitter_misreading(difference: &str) -> bool {
    // Each side of the difference is `kind range (row, field) \`text\``.
    let side = |who: &str| {
        let line = difference.lines().find_map(|line| line.trim_start().strip_prefix(who))?;
        let kind = line.split_whitespace().next()?;
        let text = line.split_once('`').map_or("", |(_, rest)| rest.strip_suffix('`').unwrap_or(rest));
        Some((kind, text))
    };
    let (Some((theirs, their_text)), Some((ours, our_text))) = (side("tree-sitter:"), side("ruff:")) else {
        return false;
    };
    match (theirs, ours) {
        ("attribute" | "call" | "subscript", "list_splat" | "list_splat_pattern") => our_text.starts_with('*'),
        ("type_alias_statement", "expression_statement") => their_text.starts_with("type"),
        ("with_item", "with_item") => their_text.starts_with('(') && !our_text.starts_with('('),
        _ => false,
    }
}

#[test]
fn each_shape_is_built_as_tree_sitter_builds_it_or_left_to_it() {
    for source in BUILT {
        assert!(convert(source, None, usize::MAX).is_ok(), "not built: {source:?}");
        assert_eq!(difference(source), None, "in {source:?}");
    }
    for (source, why) in LEFT_TO_TREE_SITTER {
        assert_eq!(convert(source, None, usize::MAX).err(), Some(*why), "{source:?}");
    }
    for (source, python_reads) in READ_AS_PYTHON_READS {
        assert!(difference(source).is_some_and(|d| is_a_tree_sitter_misreading(&d)), "{source:?}");
        let ours = convert(source, None, usize::MAX).unwrap_or_else(|why| panic!("not built ({why}): {source:?}"));
        assert_eq!(super::compare::shape(ours.root_node()), *python_reads, "in {source:?}");
        assert_ne!(
            super::compare::shape(tree_sitter(source).root_node()),
            *python_reads,
            "tree-sitter reads {source:?} so now"
        );
    }
}

#[test]
fn ranges_that_split_a_character_are_left_to_tree_sitter() {
    let source = "x = 'é'\ny = 1\n";
    let inside = 0..source.find('é').unwrap_or(0) + 1;
    let first_line = 0..source.find('y').unwrap_or(0);
    let split = convert(source, Some(std::slice::from_ref(&inside)), usize::MAX);
    assert_eq!(split.err(), Some("ranges split a character"));
    assert!(convert(source, Some(std::slice::from_ref(&first_line)), usize::MAX).is_ok());
}

#[test]
fn deep_brackets_are_left_to_tree_sitter_before_ruff_parses_them() {
    let deep = format!("x = {}1{}\n", "(".repeat(MAX_CONVERTED_DEPTH + 1), ")".repeat(MAX_CONVERTED_DEPTH + 1));
    assert_eq!(convert(&deep, None, usize::MAX).err(), Some("too deep"));
    let shallow = format!("x = {}1{}\n", "(".repeat(50), ")".repeat(50));
    assert!(convert(&shallow, None, usize::MAX).is_ok());
    // Brackets in strings count too: such a file goes to tree-sitter, which is only slower.
    assert!(bracket_depth_above(&["s = '((('\n".as_bytes()], 2));
    // The parts parsed are read one after the other, as the text with the rest made comments holds them.
    assert!(bracket_depth_above(&[b"x = ((", b"(1)))"], 2));
    assert!(!bracket_depth_above(&[b"x = ((1))", b"y = ((2))"], 2));
}

/// `CONNLINT_TREE_CORPUS=DIR cargo test --release --lib ruff_parse -- --ignored --nocapture`
#[test]
#[ignore = "needs a downloaded tree: CONNLINT_TREE_CORPUS=DIR"]
fn a_corpus_gets_tree_sitters_tree() {
    let Ok(dirs) = std::env::var("CONNLINT_TREE_CORPUS") else { return };
    let mut files = Vec::new();
    for dir in dirs.split(':') {
        python_files(std::path::Path::new(dir), &mut files);
    }
    files.sort();
    let (mut built, mut differ, mut misread, mut tree_sitter_failed) = (0, 0, 0, 0);
    let mut gave_up = std::collections::BTreeMap::new();
    for path in &files {
        let Ok(source) = std::fs::read_to_string(path) else { continue };
        if let Err(why) = convert(&source, None, usize::MAX) {
            *gave_up.entry(why).or_insert(0) += 1;
            continue;
        }
        built += 1;
        if tree_sitter(&source).root_node().has_error() {
            // Valid to ruff, not to tree-sitter (or ruff does not check what CPython's
            // compiler does): ruff's tree is used.
            tree_sitter_failed += 1;
            continue;
        }
        if let Some(difference) = difference(&source) {
            if is_a_tree_sitter_misreading(&difference) {
                misread += 1;
                continue;
            }
            differ += 1;
            if differ <= 30 {
                println!("{}:\n{difference}\n", path.display());
            }
        }
    }
    println!(
        "{} files, {built} built from ruff's tree, {differ} differ, {misread} read as Python reads them \
         (a shape of READ_AS_PYTHON_READS first), {tree_sitter_failed} with errors only to tree-sitter",
        files.len()
    );
    println!("not built: {gave_up:?}");
    assert_eq!(differ, 0);
}

#[test]
fn lines_outside_the_ranges_become_comments_of_the_same_length() {
    let comment = |source: &str, range: std::ops::Range<usize>| comment_outside(source, std::slice::from_ref(&range));
    // The first character of each line becomes `#`, whole: a two-byte `é` leaves a space.
    assert_eq!(comment("é = 1\nx = 2\n", 7..13).as_deref(), Some("#  = 1\nx = 2\n"));
    // Line ends of every kind end the comment, and stay.
    assert_eq!(comment("a = 1\r\nb = 2\r\n", 7..14).as_deref(), Some("# = 1\r\nb = 2\r\n"));
    assert_eq!(comment("a = 1\rb = 2\n", 6..12).as_deref(), Some("# = 1\rb = 2\n"));
    assert_eq!(comment("a = 1\n\nb = 2\n", 0..6).as_deref(), Some("a = 1\n\n# = 2\n"));
    // Before a part that starts within a line: spaces, or the part would be commented out.
    assert_eq!(comment("x = 1; y = 2\n", 7..13).as_deref(), Some("       y = 2\n"));
    // After a part that ends within a line: the rest of it is a comment.
    assert_eq!(comment("x = 1; y = 2\n", 0..6).as_deref(), Some("x = 1;#y = 2\n"));
}
