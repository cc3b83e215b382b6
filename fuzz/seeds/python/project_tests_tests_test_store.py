"""Test code: an exception fails the test and the harness cleans up, so error paths are not
reported; a connection never closed on the normal path still is."""
import sqlite3


def test_closes_at_the_end(tmp_path):
    conn = sqlite3.connect(tmp_path / "db.sqlite3")
    conn.execute("create table t (x)")
    assert conn.execute("select count(*) from t").fetchone() == (0,)
    conn.close()


def test_never_closes(tmp_path):
    conn = sqlite3.connect(tmp_path / "db.sqlite3")  # error: CL102
    assert conn.execute("select 1").fetchone() == (1,)
