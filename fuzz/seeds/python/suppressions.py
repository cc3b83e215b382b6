"""Suppression comments: on the line, on the line above, ruff-style noqa, and unused ones."""
import sqlite3


def trailing(path):
    with sqlite3.connect(path) as conn:  # connlint: ignore[CL101]
        return conn.execute("select 1").fetchone()


def above(path):
    # The caller closes the process soon after; reviewed in #412.
    # connlint: ignore[CL101]
    with sqlite3.connect(path) as conn:
        return conn.execute("select 1").fetchone()


def ruff_habit(path):
    with sqlite3.connect(path) as conn:  # noqa: CL101
        return conn.execute("select 1").fetchone()


def other_tools_codes(path):
    with sqlite3.connect(path) as conn:  # noqa: E501  # error: CL101
        return conn.execute("select 1").fetchone()


def wrong_code(path):
    with sqlite3.connect(path) as conn:  # connlint: ignore[CL102]  # error: CL101, CL001
        return conn.execute("select 1").fetchone()


def nothing_to_suppress(path):
    conn = sqlite3.connect(path)
    try:
        return conn.execute("select 1").fetchone()
    finally:
        conn.close()  # connlint: ignore[CL103]  # error: CL001


def typo(path):
    x = 1  # connlint: ignore[CL1O1]  # error: CL001
    return x


def multi_line_call(path):
    conn = sqlite3.connect(
        path, timeout=5)  # connlint: ignore[CL102]
    return conn.execute("select 1").fetchone()


def text_is_not_a_comment(path):
    note = "# connlint: ignore[CL102]"
    conn = sqlite3.connect(path)  # error: CL102
    return conn.execute(note).fetchone()
