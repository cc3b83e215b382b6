//! Unified diffs of a file before and after fixes (`connlint check --diff`). Pure.
//!
//! Lines are compared with Myers' algorithm, whose work grows with the size of the difference,
//! not of the file: fixes change a few lines of long files.

/// Lines of context around each change.
const CONTEXT: usize = 3;

/// The unified diff of `old` and `new` for `path`, empty when they are equal.
pub fn unified(path: &str, old: &str, new: &str) -> String {
    if old == new {
        return String::new();
    }
    let a = lines(old);
    let b = lines(new);
    let script = myers(&a, &b);
    let mut out = format!("--- {path}\n+++ {path}\n");
    for hunk in hunks(&script) {
        let (mut old_start, mut old_len, mut new_start, mut new_len) = (None, 0, None, 0);
        let mut body = String::new();
        for op in &script[hunk.clone()] {
            let (prefix, line) = match *op {
                Op::Keep(i, j) => {
                    old_start.get_or_insert(i);
                    new_start.get_or_insert(j);
                    old_len += 1;
                    new_len += 1;
                    (' ', a[i])
                }
                Op::Delete(i, j) => {
                    old_start.get_or_insert(i);
                    new_start.get_or_insert(j);
                    old_len += 1;
                    ('-', a[i])
                }
                Op::Insert(i, j) => {
                    old_start.get_or_insert(i);
                    new_start.get_or_insert(j);
                    new_len += 1;
                    ('+', b[j])
                }
            };
            body.push(prefix);
            match line.strip_suffix('\n') {
                Some(text) => {
                    body.push_str(text);
                    body.push('\n');
                }
                None => {
                    body.push_str(line);
                    body.push_str("\n\\ No newline at end of file\n");
                }
            }
        }
        let range = |start: Option<usize>, len: usize| {
            let start = start.unwrap_or(0);
            // An empty range names the line before it.
            if len == 0 { format!("{start},0") } else { format!("{},{len}", start + 1) }
        };
        out.push_str(&format!("@@ -{} +{} @@\n", range(old_start, old_len), range(new_start, new_len)));
        out.push_str(&body);
    }
    out
}

/// The lines of a text, each with its line ending.
fn lines(text: &str) -> Vec<&str> {
    text.split_inclusive('\n').collect()
}

/// One step of the edit script, with the positions in the old and new lines it is at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Keep(usize, usize),
    Delete(usize, usize),
    Insert(usize, usize),
}

/// The shortest edit script from `a` to `b` (Myers 1986, with the trace kept for backtracking).
fn myers(a: &[&str], b: &[&str]) -> Vec<Op> {
    let (n, m) = (a.len() as isize, b.len() as isize);
    let max = (n + m) as usize;
    let offset = max as isize + 1;
    let mut v = vec![0isize; 2 * max + 3];
    let mut trace: Vec<Vec<isize>> = Vec::new();
    'search: for d in 0..=max as isize {
        trace.push(v.clone());
        let mut k = -d;
        while k <= d {
            let index = (k + offset) as usize;
            let mut x =
                if k == -d || (k != d && v[index - 1] < v[index + 1]) { v[index + 1] } else { v[index - 1] + 1 };
            let mut y = x - k;
            while x < n && y < m && a[x as usize] == b[y as usize] {
                x += 1;
                y += 1;
            }
            v[index] = x;
            if x >= n && y >= m {
                break 'search;
            }
            k += 2;
        }
    }
    // Walk back from the end through the saved frontiers.
    let mut ops = Vec::new();
    let (mut x, mut y) = (n, m);
    for d in (1..trace.len() as isize).rev() {
        let v = &trace[d as usize];
        let k = x - y;
        let index = (k + offset) as usize;
        let down = k == -d || (k != d && v[index - 1] < v[index + 1]);
        let previous_k = if down { k + 1 } else { k - 1 };
        let previous_x = v[(previous_k + offset) as usize];
        let previous_y = previous_x - previous_k;
        while x > previous_x && y > previous_y {
            x -= 1;
            y -= 1;
            ops.push(Op::Keep(x as usize, y as usize));
        }
        if down {
            y -= 1;
            ops.push(Op::Insert(x as usize, y as usize));
        } else {
            x -= 1;
            ops.push(Op::Delete(x as usize, y as usize));
        }
    }
    while x > 0 && y > 0 {
        x -= 1;
        y -= 1;
        ops.push(Op::Keep(x as usize, y as usize));
    }
    ops.reverse();
    ops
}

/// The ranges of the script that make hunks: the changes with their context, merged when the
/// context of two changes touches.
fn hunks(script: &[Op]) -> Vec<std::ops::Range<usize>> {
    let changed: Vec<usize> =
        script.iter().enumerate().filter(|(_, op)| !matches!(op, Op::Keep(..))).map(|(i, _)| i).collect();
    let mut out: Vec<std::ops::Range<usize>> = Vec::new();
    for i in changed {
        let start = i.saturating_sub(CONTEXT);
        let end = (i + CONTEXT + 1).min(script.len());
        match out.last_mut() {
            Some(last) if start <= last.end => last.end = end,
            _ => out.push(start..end),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_texts_have_no_diff() {
        assert_eq!(unified("a.py", "x\n", "x\n"), "");
    }

    #[test]
    fn a_change_with_context() {
        let old = "1\n2\n3\n4\n5\n6\n7\n8\n9\n";
        let new = "1\n2\n3\n4\nfive\n6\n7\n8\n9\n";
        let diff = unified("a.py", old, new);
        assert_eq!(diff, "--- a.py\n+++ a.py\n@@ -2,7 +2,7 @@\n 2\n 3\n 4\n-5\n+five\n 6\n 7\n 8\n");
    }

    #[test]
    fn insertions_at_the_start_and_a_missing_final_newline() {
        let diff = unified("a.py", "b\nc", "a\nb\nc\n");
        assert_eq!(diff, "--- a.py\n+++ a.py\n@@ -1,2 +1,3 @@\n+a\n b\n-c\n\\ No newline at end of file\n+c\n");
    }

    #[test]
    fn distant_changes_make_two_hunks() {
        let old: String = (1..=20).map(|i| format!("{i}\n")).collect();
        let new: String = (1..=20)
            .map(|i| match i {
                2 => "two\n".to_string(),
                19 => "nineteen\n".to_string(),
                _ => format!("{i}\n"),
            })
            .collect();
        let diff = unified("a.py", &old, &new);
        assert_eq!(diff.matches("@@ -").count(), 2, "{diff}");
        assert!(diff.contains("-19\n+nineteen\n"), "{diff}");
    }
}
