from sqlite3 import *


def star_imported(path):
    with connect(path) as conn:  # error: CL101
        conn.execute("select 1")
