# expect: clean
"""A script: module-level opens belong to the process and are not reported."""
import sqlite3

conn = sqlite3.connect("/var/lib/app/app.db")
for row in conn.execute("select * from items"):
    print(row)
