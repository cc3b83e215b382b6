//! Suppression comments: `# connlint: ignore[CL101]`, `// connlint: ignore[CL201]`,
//! `# noqa: CL101`, and `# connlint: ignore-file[CL102]`. A line comment applies to its own
//! line; a comment alone on its line applies to the next line of code (so it can sit above a
//! long statement). A finding is covered when a line it spans is covered.
//!
//! A connlint code in a suppression that covered nothing is reported as `CL001`, with a fix that
//! removes it. Codes of other tools (`# noqa: E501`) and bare `# noqa` are never reported: they
//! may be there for another linter. Pure: works on the source text.

use crate::SourceKind;
use crate::diagnostic::{Applicability, Diagnostic, Edit, Fix, LineIndex, Span};
use crate::rule::Rule;
use crate::settings::RuleSet;

/// One suppression comment.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Suppression {
    scope: Scope,
    form: Form,
    /// The codes named, with their byte spans; empty for a blanket suppression.
    codes: Vec<(String, Span)>,
    /// The directive's text (`connlint: ignore[CL101]`), for messages and the blanket fix.
    directive: Span,
    /// The byte range of the codes list inside the brackets or after `noqa:`, for fixes.
    list: Option<Span>,
    /// The whole comment, from its marker to the end of the line.
    comment: Span,
    /// The comment is the only thing on its line.
    own_line: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scope {
    /// Covers these one-based lines.
    Lines(usize, usize),
    File,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Form {
    Connlint,
    Noqa,
}

/// Removes the findings that a suppression covers and adds a `CL001` for every connlint code
/// that covered nothing. `rules` are the rules that ran on this file: a code of a rule that did
/// not run is not reported (the comment may matter when it runs).
pub fn apply(source: &str, kind: SourceKind, diagnostics: Vec<Diagnostic>, rules: RuleSet) -> Vec<Diagnostic> {
    // Every directive names `connlint:` or `noqa`: most files have neither, and need no
    // tokenizing for comments.
    if !may_have_suppression(source.as_bytes()) {
        return diagnostics;
    }
    let lines = LineIndex::new(source);
    let suppressions = find(source, kind, &lines);
    if suppressions.is_empty() {
        return diagnostics;
    }
    // used[i][j]: code j of suppression i covered something; a blanket uses slot 0.
    let mut used: Vec<Vec<bool>> = suppressions.iter().map(|s| vec![false; s.codes.len().max(1)]).collect();
    let mut kept = Vec::with_capacity(diagnostics.len());
    for diagnostic in diagnostics {
        let (first, _) = lines.line_col(source, diagnostic.span.start as usize);
        let (last, _) = lines.line_col(source, diagnostic.span.end as usize);
        let mut covered = false;
        if diagnostic.rule != Rule::ParseError {
            for (i, suppression) in suppressions.iter().enumerate() {
                let in_scope = match suppression.scope {
                    Scope::File => true,
                    Scope::Lines(from, to) => from <= last && first <= to,
                };
                if !in_scope {
                    continue;
                }
                if suppression.codes.is_empty() {
                    used[i][0] = true;
                    covered = true;
                }
                for (j, (code, _)) in suppression.codes.iter().enumerate() {
                    if code.eq_ignore_ascii_case(diagnostic.rule.code()) {
                        used[i][j] = true;
                        covered = true;
                    }
                }
            }
        }
        if !covered {
            kept.push(diagnostic);
        }
    }
    if rules.contains(Rule::UnusedSuppression) {
        for (suppression, used) in suppressions.iter().zip(&used) {
            kept.extend(unused(source, suppression, used, rules));
        }
    }
    kept.sort_by_key(|d| (d.span, d.rule));
    kept
}

/// The `CL001` findings of one suppression.
fn unused(source: &str, suppression: &Suppression, used: &[bool], rules: RuleSet) -> Vec<Diagnostic> {
    let text = |span: Span| source.get(span.range()).unwrap_or_default();
    if suppression.codes.is_empty() {
        // A bare `# noqa` may be for any tool; only a blanket connlint suppression is ours.
        if suppression.form == Form::Noqa || used[0] {
            return Vec::new();
        }
        let message = format!("`{}` suppresses nothing", text(suppression.directive));
        return vec![unused_diagnostic(suppression.directive, message, remove_directive(source, suppression))];
    }
    let reportable = |code: &str| match Rule::from_code(code) {
        Some(rule) => rules.contains(rule),
        // Another tool's code (`E501`) is not ours to judge; an unknown `CL` code is a typo.
        None => code.len() > 2 && code[..2].eq_ignore_ascii_case("CL"),
    };
    let stale: Vec<usize> =
        (0..suppression.codes.len()).filter(|&j| !used[j] && reportable(&suppression.codes[j].0)).collect();
    if stale.is_empty() {
        return Vec::new();
    }
    let remaining: Vec<&str> =
        (0..suppression.codes.len()).filter(|j| !stale.contains(j)).map(|j| suppression.codes[j].0.as_str()).collect();
    let edits = match (remaining.is_empty(), suppression.list) {
        (true, _) | (false, None) => remove_directive(source, suppression),
        (false, Some(list)) => vec![Edit::replace(list, remaining.join(", "))],
    };
    let span = match stale.as_slice() {
        [only] => suppression.codes[*only].1,
        _ => suppression.directive,
    };
    let known: Vec<String> = stale
        .iter()
        .filter_map(|&j| Rule::from_code(&suppression.codes[j].0))
        .map(|rule| format!("{} ({})", rule.code(), rule.name()))
        .collect();
    let typos: Vec<String> = stale
        .iter()
        .map(|&j| &suppression.codes[j].0)
        .filter(|c| Rule::from_code(c).is_none())
        .map(|c| format!("`{c}`"))
        .collect();
    let message = match (known.is_empty(), typos.is_empty()) {
        (false, true) => format!("the suppression of {} suppresses nothing here", known.join(", ")),
        (true, _) => format!("{} is not a connlint rule; `connlint rules` lists them", typos.join(", ")),
        (false, false) => format!(
            "the suppression of {} suppresses nothing here, and {} is not a connlint rule",
            known.join(", "),
            typos.join(", ")
        ),
    };
    vec![unused_diagnostic(span, message, edits)]
}

fn unused_diagnostic(span: Span, message: String, edits: Vec<Edit>) -> Diagnostic {
    let fix = Fix::new("Remove the unused suppression", Applicability::Safe, edits);
    Diagnostic::new(Rule::UnusedSuppression, span, message)
        .with_help("remove it, so that it cannot hide a finding on this line later")
        .with_fix(fix)
}

/// Whether a text may hold a suppression comment.
pub fn may_have_suppression(bytes: &[u8]) -> bool {
    static MATCHER: std::sync::LazyLock<Option<aho_corasick::AhoCorasick>> = std::sync::LazyLock::new(|| {
        aho_corasick::AhoCorasick::builder()
            .ascii_case_insensitive(true)
            .kind(Some(aho_corasick::AhoCorasickKind::DFA))
            .build(["connlint:", "noqa"])
            .ok()
    });
    MATCHER.as_ref().is_none_or(|m| m.is_match(bytes))
}

/// The edit that suppresses `rule` on the line holding byte `offset`: the code added to a
/// `connlint: ignore[...]` list already on that line, or a trailing comment
/// (`# connlint: ignore[CL102]`, `// connlint: ignore[CL201]`). A Python line that ends in a `\`
/// continuation cannot take a trailing comment; the comment goes alone on the line above.
pub fn ignore_edit(source: &str, kind: SourceKind, offset: usize, rule: Rule) -> Edit {
    let lines = LineIndex::new(source);
    let (line, _) = lines.line_col(source, offset);
    let line_start = lines.line_start(line).unwrap_or(source.len());
    let line_end = lines.line_start(line + 1).map_or(source.len(), |next| next - 1);
    let line_end = if source[..line_end].ends_with('\r') { line_end - 1 } else { line_end };
    let existing = find(source, kind, &lines).into_iter().find(|s| {
        s.form == Form::Connlint
            && !s.own_line
            && matches!(s.scope, Scope::Lines(..))
            && (line_start..=line_end).contains(&(s.comment.start as usize))
    });
    if let Some(list) = existing.and_then(|s| s.list) {
        let separator = if source[list.range()].trim().is_empty() { "" } else { ", " };
        return Edit::insert(list.end as usize, format!("{separator}{}", rule.code()));
    }
    let text = &source[line_start..line_end];
    let code_end = line_start + text.trim_end().len();
    let (marker, gap) = match kind {
        SourceKind::Python => ("#", "  "),
        SourceKind::Rust => ("//", " "),
    };
    let directive = format!("{marker} connlint: ignore[{}]", rule.code());
    let continued = kind == SourceKind::Python && text.trim_end().ends_with('\\') && !text.contains('#');
    if continued {
        let indent = &text[..text.len() - text.trim_start().len()];
        return Edit::insert(line_start, format!("{indent}{directive}\n"));
    }
    Edit::replace(Span::new(code_end, line_end), format!("{gap}{directive}"))
}

/// Edits that remove a whole directive: the comment if it holds nothing else, and the line if
/// the comment was alone on it.
fn remove_directive(source: &str, suppression: &Suppression) -> Vec<Edit> {
    let comment_text = source.get(suppression.comment.range()).unwrap_or_default();
    let directive_text = source.get(suppression.directive.range()).unwrap_or_default();
    let marker_and_directive_only =
        comment_text.trim_start_matches(['#', '/']).trim().eq_ignore_ascii_case(directive_text.trim());
    if !marker_and_directive_only {
        // `# connlint: ignore[CL101]  # other`: the other comment takes the directive's place.
        let comment_start = suppression.comment.start as usize;
        let directive_end = suppression.directive.end as usize;
        let opens_comment = source
            .get(comment_start..suppression.directive.start as usize)
            .is_some_and(|marker| marker.trim_start_matches(['#', '/']).trim().is_empty());
        let rest = source.get(directive_end..suppression.comment.end as usize).unwrap_or_default();
        let next = rest.trim_start();
        if opens_comment && (next.starts_with('#') || next.starts_with("//")) {
            let next_start = directive_end + (rest.len() - next.len());
            return vec![Edit::delete(Span::new(comment_start, next_start))];
        }
        // `# type: ignore  # connlint: ignore[CL101]`: drop the directive and the `#` before it.
        let before = &source[..suppression.directive.start as usize];
        let hash = before.trim_end().strip_suffix('#').map(|b| b.trim_end().len());
        let start = match hash {
            Some(start) if start >= suppression.comment.start as usize => start,
            _ => suppression.directive.start as usize,
        };
        return vec![Edit::delete(Span::new(start, suppression.directive.end as usize))];
    }
    let line_start = source[..suppression.comment.start as usize].rfind('\n').map_or(0, |i| i + 1);
    let line_end = source[suppression.comment.end as usize..]
        .find('\n')
        .map_or(source.len(), |i| suppression.comment.end as usize + i + 1);
    if suppression.own_line {
        return vec![Edit::delete(Span::new(line_start, line_end))];
    }
    // Trailing comment: remove it and the spaces before it.
    let code_end = source[..suppression.comment.start as usize].trim_end_matches([' ', '\t']).len();
    vec![Edit::delete(Span::new(code_end, suppression.comment.end as usize))]
}

/// Every suppression in a file.
fn find(source: &str, kind: SourceKind, lines: &LineIndex) -> Vec<Suppression> {
    let comments = match kind {
        SourceKind::Python => python_comments(source),
        SourceKind::Rust => rust_comments(source),
    };
    let mut out = Vec::new();
    for comment in &comments {
        let text = &source[comment.range()];
        let (line, _) = lines.line_col(source, comment.start as usize);
        let own_line = source[..comment.start as usize].rsplit('\n').next().is_some_and(|b| b.trim().is_empty());
        for mut suppression in directives(text, comment.start as usize) {
            suppression.comment = *comment;
            suppression.own_line = own_line;
            if suppression.scope != Scope::File {
                let target = if own_line { next_code_line(source, lines, line, &comments) } else { line };
                suppression.scope = Scope::Lines(target, target);
            }
            out.push(suppression);
        }
    }
    out
}

/// The first line after `line` that is not blank and not only a comment.
fn next_code_line(source: &str, lines: &LineIndex, line: usize, comments: &[Span]) -> usize {
    let mut next = line + 1;
    while let Some(start) = lines.line_start(next) {
        let end = lines.line_start(next + 1).unwrap_or(source.len());
        let text = source[start..end].trim();
        let only_comment = comments.iter().any(|c| {
            let c_start = c.start as usize;
            c_start >= start && c_start < end && source[start..c_start].trim().is_empty()
        });
        if !text.is_empty() && !only_comment {
            return next;
        }
        next += 1;
    }
    line + 1
}

/// The directives in one comment's text (which starts at byte `offset` of the file). A comment
/// may hold several, each after its own `#` (`# type: ignore  # noqa: CL101`).
fn directives(text: &str, offset: usize) -> Vec<Suppression> {
    let mut out = Vec::new();
    let lower = text.to_ascii_lowercase();
    let mut search_from = 0;
    while search_from < text.len() {
        let rest = &lower[search_from..];
        let connlint = rest.find("connlint:");
        let noqa = rest.find("noqa");
        let (at, form) = match (connlint, noqa) {
            (Some(c), Some(n)) if n < c => (n, Form::Noqa),
            (Some(c), _) => (c, Form::Connlint),
            (None, Some(n)) => (n, Form::Noqa),
            (None, None) => break,
        };
        let start = search_from + at;
        // A directive starts the comment or follows a `#`/`//` inside it.
        let before = text[..start].trim_end();
        let starts_segment = before.is_empty() || before.ends_with('#') || before.ends_with("//");
        let parsed = if starts_segment {
            match form {
                Form::Connlint => connlint_directive(text, start),
                Form::Noqa => noqa_directive(text, start),
            }
        } else {
            None
        };
        match parsed {
            Some((scope, codes, list, end)) => {
                let shift = |span: Span| Span::new(span.start as usize + offset, span.end as usize + offset);
                out.push(Suppression {
                    scope,
                    form,
                    codes: codes.into_iter().map(|(code, span)| (code, shift(span))).collect(),
                    directive: Span::new(start + offset, end + offset),
                    list: list.map(shift),
                    comment: Span::default(),
                    own_line: false,
                });
                search_from = end.max(start + 1);
            }
            None => search_from = start + 1,
        }
    }
    out
}

type Parsed = (Scope, Vec<(String, Span)>, Option<Span>, usize);

/// `connlint: ignore`, `connlint: ignore[CL101, CL102]`, `connlint: ignore-file[...]`.
fn connlint_directive(text: &str, start: usize) -> Option<Parsed> {
    let after_tag = start + "connlint:".len();
    let rest = &text[after_tag..];
    let word_start = after_tag + (rest.len() - rest.trim_start().len());
    let word: String =
        text[word_start..].chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_').collect();
    let scope = match word.to_ascii_lowercase().as_str() {
        "ignore" => Scope::Lines(0, 0),
        "ignore-file" => Scope::File,
        _ => return None,
    };
    let word_end = word_start + word.len();
    if !text[word_end..].starts_with('[') {
        return Some((scope, Vec::new(), None, word_end));
    }
    let close = text[word_end..].find(']')? + word_end;
    let list = Span::new(word_end + 1, close);
    Some((scope, codes_in(text, list), Some(list), close + 1))
}

/// `noqa`, `noqa: CL101, E501`.
fn noqa_directive(text: &str, start: usize) -> Option<Parsed> {
    let word_end = start + "noqa".len();
    let after = &text[word_end..];
    if after.starts_with(|c: char| c.is_ascii_alphanumeric()) {
        return None;
    }
    let Some(colon_rest) = after.trim_start_matches(' ').strip_prefix(':') else {
        return Some((Scope::Lines(0, 0), Vec::new(), None, word_end));
    };
    let list_start = text.len() - colon_rest.len();
    let skipped = colon_rest.len() - colon_rest.trim_start().len();
    let list_start = list_start + skipped;
    // The list ends where something other than codes, commas and spaces starts.
    let mut list_end = list_start;
    for (i, c) in text[list_start..].char_indices() {
        if c.is_ascii_alphanumeric() || c == ',' || c == ' ' {
            list_end = list_start + i + c.len_utf8();
        } else {
            break;
        }
    }
    let list_end = list_start + text[list_start..list_end].trim_end().len();
    let list = Span::new(list_start, list_end);
    let codes = codes_in(text, list);
    if codes.is_empty() {
        return Some((Scope::Lines(0, 0), Vec::new(), None, word_end));
    }
    Some((Scope::Lines(0, 0), codes, Some(list), list_end))
}

/// The codes in a comma- or space-separated list, with their spans.
fn codes_in(text: &str, list: Span) -> Vec<(String, Span)> {
    let mut codes = Vec::new();
    let mut current: Option<usize> = None;
    let body = &text[list.range()];
    for (i, c) in body.char_indices().chain(std::iter::once((body.len(), ','))) {
        if c.is_ascii_alphanumeric() {
            current.get_or_insert(i);
        } else if let Some(from) = current.take() {
            let at = list.start as usize;
            codes.push((body[from..i].to_string(), Span::new(at + from, at + i)));
        }
    }
    codes
}

/// The byte spans of Python comments (from `#` to the end of the line), skipping `#` in strings.
fn python_comments(source: &str) -> Vec<Span> {
    let bytes = source.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'#' => {
                let end = source[i..].find('\n').map_or(source.len(), |n| i + n);
                let end = if end > i && bytes[end - 1] == b'\r' { end - 1 } else { end };
                out.push(Span::new(i, end));
                i = end;
            }
            quote @ (b'"' | b'\'') => {
                let triple = bytes.get(i + 1) == Some(&quote) && bytes.get(i + 2) == Some(&quote);
                i = skip_python_string(bytes, i, quote, triple);
            }
            _ => i += 1,
        }
    }
    out
}

/// The index just past the string starting at `start`. An unterminated single-quoted string
/// ends at the end of its line, as the tokenizer would give up there.
fn skip_python_string(bytes: &[u8], start: usize, quote: u8, triple: bool) -> usize {
    let mut i = start + if triple { 3 } else { 1 };
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 2,
            b'\n' if !triple => return i,
            c if c == quote => {
                if !triple {
                    return i + 1;
                }
                if bytes.get(i + 1) == Some(&quote) && bytes.get(i + 2) == Some(&quote) {
                    return i + 3;
                }
                i += 1;
            }
            _ => i += 1,
        }
    }
    bytes.len()
}

/// The byte spans of Rust line comments (`//`, not doc comments), skipping strings, chars and
/// block comments.
fn rust_comments(source: &str) -> Vec<Span> {
    let bytes = source.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'/' if bytes.get(i + 1) == Some(&b'/') => {
                let end = source[i..].find('\n').map_or(source.len(), |n| i + n);
                let end = if end > i && bytes[end - 1] == b'\r' { end - 1 } else { end };
                let doc = matches!(bytes.get(i + 2), Some(b'/' | b'!')) && bytes.get(i + 3) != Some(&b'/');
                if !doc {
                    out.push(Span::new(i, end));
                }
                i = end;
            }
            b'/' if bytes.get(i + 1) == Some(&b'*') => i = skip_block_comment(bytes, i),
            b'r' if is_raw_string_start(bytes, i) => i = skip_raw_string(bytes, i + 1),
            b'"' => i = skip_rust_string(bytes, i),
            b'\'' => i = skip_char_or_lifetime(bytes, i),
            _ => i += 1,
        }
    }
    out
}

fn skip_block_comment(bytes: &[u8], start: usize) -> usize {
    let mut depth = 0;
    let mut i = start;
    while i + 1 < bytes.len() {
        if bytes[i] == b'/' && bytes[i + 1] == b'*' {
            depth += 1;
            i += 2;
        } else if bytes[i] == b'*' && bytes[i + 1] == b'/' {
            depth -= 1;
            i += 2;
            if depth == 0 {
                return i;
            }
        } else {
            i += 1;
        }
    }
    bytes.len()
}

/// `r"`, `r#"`, `br"`: a raw string, unless the `r` ends an identifier (`bar"` cannot occur).
fn is_raw_string_start(bytes: &[u8], i: usize) -> bool {
    let prev_is_ident = i > 0 && (bytes[i - 1].is_ascii_alphanumeric() || bytes[i - 1] == b'_');
    let prefix_ok = !prev_is_ident || (bytes[i - 1] == b'b' && (i < 2 || !bytes[i - 2].is_ascii_alphanumeric()));
    let mut j = i + 1;
    while bytes.get(j) == Some(&b'#') {
        j += 1;
    }
    prefix_ok && bytes.get(j) == Some(&b'"')
}

/// Skips `#*"..."#*` starting at the first `#` or `"` after the `r`.
fn skip_raw_string(bytes: &[u8], start: usize) -> usize {
    let hashes = bytes[start..].iter().take_while(|&&b| b == b'#').count();
    let mut i = start + hashes + 1;
    while i < bytes.len() {
        if bytes[i] == b'"' && bytes[i + 1..].iter().take(hashes).filter(|&&b| b == b'#').count() == hashes {
            return i + 1 + hashes;
        }
        i += 1;
    }
    bytes.len()
}

fn skip_rust_string(bytes: &[u8], start: usize) -> usize {
    let mut i = start + 1;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 2,
            b'"' => return i + 1,
            _ => i += 1,
        }
    }
    bytes.len()
}

/// `'a'`, `'\n'`, `'\u{1F600}'`, `'é'` are chars; `'a` in `&'a str` is a lifetime.
fn skip_char_or_lifetime(bytes: &[u8], start: usize) -> usize {
    if bytes.get(start + 1) == Some(&b'\\') {
        let mut i = start + 2;
        while i < bytes.len() && bytes[i] != b'\'' && bytes[i] != b'\n' {
            i += 1;
        }
        return (i + 1).min(bytes.len());
    }
    // One character (of up to four bytes when it is not ASCII) and a closing quote.
    let widest = if bytes.get(start + 1).is_some_and(|b| b.is_ascii()) { 1 } else { 4 };
    for width in 1..=widest {
        if bytes.get(start + 1 + width) == Some(&b'\'') {
            return start + 2 + width;
        }
    }
    start + 1
}

#[cfg(test)]
mod tests {
    use super::*;

    fn finding(source: &str, rule: Rule, needle: &str) -> Diagnostic {
        let at = source.find(needle).expect("needle");
        Diagnostic::new(rule, Span::new(at, at + needle.len()), "leak")
    }

    fn codes(diagnostics: &[Diagnostic]) -> Vec<&'static str> {
        diagnostics.iter().map(|d| d.rule.code()).collect()
    }

    fn fixed(source: &str, diagnostics: &[Diagnostic]) -> String {
        let mut edits: Vec<&Edit> = diagnostics.iter().flat_map(|d| d.fix.iter().flat_map(|f| &f.edits)).collect();
        edits.sort_by_key(|e| std::cmp::Reverse(e.span));
        edits.dedup();
        let mut text = source.to_string();
        for edit in edits {
            text.replace_range(edit.span.range(), &edit.content);
        }
        text
    }

    #[test]
    fn python_forms_cover_their_line_or_the_next() {
        let source = "a = connect()  # connlint: ignore[CL102]\n# noqa: CL102\nb = connect()\nc = connect()  # noqa\nd = connect()\n";
        let found =
            ["a = connect", "b = connect", "c = connect", "d = connect"].map(|n| finding(source, Rule::NeverClosed, n));
        let kept = apply(source, SourceKind::Python, found.to_vec(), RuleSet::all());
        assert_eq!(kept.len(), 1);
        assert_eq!(kept[0].span.start as usize, source.find("d = connect").unwrap());
    }

    #[test]
    fn a_code_that_suppresses_nothing_is_reported_and_removable() {
        let source = "x = 1  # connlint: ignore[CL101, CL102]\ny = connect()\n";
        let kept = apply(source, SourceKind::Python, vec![finding(source, Rule::NeverClosed, "x = 1")], RuleSet::all());
        assert_eq!(codes(&kept), ["CL001"]);
        assert!(kept[0].message.contains("CL101"));
        assert_eq!(fixed(source, &kept), "x = 1  # connlint: ignore[CL102]\ny = connect()\n");

        let kept = apply(source, SourceKind::Python, Vec::new(), RuleSet::all());
        assert_eq!(codes(&kept), ["CL001"]);
        assert!(kept[0].message.contains("CL101 (with-does-not-close), CL102 (never-closed)"), "{}", kept[0].message);
        assert_eq!(fixed(source, &kept), "x = 1\ny = connect()\n");
    }

    #[test]
    fn a_directive_before_another_comment_leaves_that_comment() {
        let source = "x = 1  # connlint: ignore[CL102]  # see below\n";
        let kept = apply(source, SourceKind::Python, Vec::new(), RuleSet::all());
        assert_eq!(fixed(source, &kept), "x = 1  # see below\n");
        let source = "# connlint: ignore-file[CL104]  # error: CL001\nx = 1\n";
        let kept = apply(source, SourceKind::Python, Vec::new(), RuleSet::all());
        assert_eq!(fixed(source, &kept), "# error: CL001\nx = 1\n");
        let source = "fn f() {\n    let x = 1; // connlint: ignore[CL201] // why\n}\n";
        let kept = apply(source, SourceKind::Rust, Vec::new(), RuleSet::all());
        assert_eq!(fixed(source, &kept), "fn f() {\n    let x = 1; // why\n}\n");
        let source = "x = 1  # type: ignore  # connlint: ignore[CL102]\n";
        let kept = apply(source, SourceKind::Python, Vec::new(), RuleSet::all());
        assert_eq!(fixed(source, &kept), "x = 1  # type: ignore\n");
    }

    #[test]
    fn own_line_comment_is_removed_with_its_line() {
        let source = "def f():\n    # connlint: ignore[CL102]\n    return 1\n";
        let kept = apply(source, SourceKind::Python, Vec::new(), RuleSet::all());
        assert_eq!(codes(&kept), ["CL001"]);
        assert_eq!(fixed(source, &kept), "def f():\n    return 1\n");
    }

    #[test]
    fn other_tools_codes_and_bare_noqa_are_left_alone() {
        let source = "import os  # noqa\nx = 1  # noqa: E501\ny = 2  # noqa: E501, CL101\n";
        let kept = apply(source, SourceKind::Python, Vec::new(), RuleSet::all());
        assert_eq!(codes(&kept), ["CL001"]);
        assert_eq!(fixed(source, &kept), "import os  # noqa\nx = 1  # noqa: E501\ny = 2  # noqa: E501\n");
    }

    #[test]
    fn unknown_cl_codes_are_typos_and_disabled_rules_are_not_judged() {
        let source = "x = 1  # connlint: ignore[CL999]\ny = 2  # connlint: ignore[CL105]\n";
        let mut rules = RuleSet::all();
        rules.remove(Rule::OwnedFieldNeverClosed);
        let kept = apply(source, SourceKind::Python, Vec::new(), rules);
        assert_eq!(codes(&kept), ["CL001"]);
        assert!(kept[0].message.contains("not a connlint rule"));
    }

    #[test]
    fn file_level_suppression() {
        let source = "# connlint: ignore-file[CL102]\na = connect()\nb = connect()\n";
        let found = vec![finding(source, Rule::NeverClosed, "a = "), finding(source, Rule::NeverClosed, "b = ")];
        assert!(apply(source, SourceKind::Python, found, RuleSet::all()).is_empty());
    }

    #[test]
    fn hashes_in_strings_are_not_comments() {
        let source = "s = '# connlint: ignore[CL102]'\nt = \"\"\"\n# noqa: CL102\n\"\"\"\nu = connect()\n";
        let found = vec![finding(source, Rule::NeverClosed, "u = ")];
        assert_eq!(codes(&apply(source, SourceKind::Python, found, RuleSet::all())), ["CL102"]);
    }

    #[test]
    fn a_trailing_comment_covers_a_multi_line_finding() {
        let source = "conn = connect(\n    path)  # connlint: ignore[CL102]\n";
        let found = vec![finding(source, Rule::NeverClosed, "connect(\n    path)")];
        assert!(apply(source, SourceKind::Python, found, RuleSet::all()).is_empty());
    }

    #[test]
    fn rust_comments_skip_strings_chars_and_doc_comments() {
        let source = "fn f<'a>(s: &'a str) {\n    let u = \"// connlint: ignore[CL201]\";\n    let c = '\"';\n    /// connlint: ignore[CL201]\n    let r = r#\"// x\"#;\n    forget(conn); // connlint: ignore[CL201]\n}\n";
        let found = vec![finding(source, Rule::ForgottenConnection, "forget(conn)")];
        assert!(apply(source, SourceKind::Rust, found.clone(), RuleSet::all()).is_empty());
        assert_eq!(rust_comments(source).len(), 1);
    }

    /// Applies `ignore_edit` for the finding at `needle` and checks that the finding is gone.
    fn ignored(source: &str, kind: SourceKind, rule: Rule, needle: &str) -> String {
        let edit = ignore_edit(source, kind, source.find(needle).expect("needle"), rule);
        let mut text = source.to_string();
        text.replace_range(edit.span.range(), &edit.content);
        let kept = apply(&text, kind, vec![finding(&text, rule, needle)], RuleSet::all());
        assert!(kept.iter().all(|d| d.rule != rule), "{text}: {kept:?}");
        text
    }

    #[test]
    fn ignore_edit_adds_a_trailing_comment_or_extends_the_list() {
        let source = "a = connect()   \nb = connect()  # connlint: ignore[CL106]\nc = connect()  # noqa: E501\n";
        assert_eq!(
            ignored(source, SourceKind::Python, Rule::NeverClosed, "a = connect()"),
            "a = connect()  # connlint: ignore[CL102]\nb = connect()  # connlint: ignore[CL106]\nc = connect()  # noqa: E501\n"
        );
        let extended = ignored(source, SourceKind::Python, Rule::NeverClosed, "b = connect()");
        assert!(extended.contains("b = connect()  # connlint: ignore[CL106, CL102]\n"), "{extended}");
        let after_noqa = ignored(source, SourceKind::Python, Rule::NeverClosed, "c = connect()");
        assert!(after_noqa.contains("c = connect()  # noqa: E501  # connlint: ignore[CL102]\n"), "{after_noqa}");

        let windows = "x = 1\r\nconn = connect()\r\n";
        let fixed = ignored(windows, SourceKind::Python, Rule::NeverClosed, "conn = connect()");
        assert_eq!(fixed, "x = 1\r\nconn = connect()  # connlint: ignore[CL102]\r\n");
    }

    #[test]
    fn ignore_edit_in_rust_and_after_a_continuation() {
        let rust = "fn f() {\n    std::mem::forget(conn);\n}\n";
        assert_eq!(
            ignored(rust, SourceKind::Rust, Rule::ForgottenConnection, "std::mem::forget(conn)"),
            "fn f() {\n    std::mem::forget(conn); // connlint: ignore[CL201]\n}\n"
        );
        let continued = "def f():\n    conn = connect(p) \\\n        .cursor()\n";
        assert_eq!(
            ignored(continued, SourceKind::Python, Rule::NeverClosed, "conn = connect(p)"),
            "def f():\n    # connlint: ignore[CL102]\n    conn = connect(p) \\\n        .cursor()\n"
        );
    }

    #[test]
    fn parse_errors_cannot_be_suppressed() {
        let source = "def f(:  # connlint: ignore\n";
        let found = vec![finding(source, Rule::ParseError, "(:")];
        let kept = apply(source, SourceKind::Python, found, RuleSet::all());
        assert_eq!(codes(&kept), ["CL000", "CL001"]);
    }
}
