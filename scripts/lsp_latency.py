#!/usr/bin/env python3
"""How long `connlint server` takes from a `didChange` to the `publishDiagnostics` of that version.

Generates a 20,000-line Python module (request handlers over sqlite3, psycopg2 and files; one
function in ten leaks), opens it in the server, then makes one-line edits in the middle of the
file as an editor would (incremental sync) and times each until its diagnostics arrive.

    cargo build --release
    python3 scripts/lsp_latency.py                       # target/release/connlint
    python3 scripts/lsp_latency.py --binary PATH --lines 20000 --edits 30

Only the standard library is used. This is a benchmark, not a test: it prints figures.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import queue

TEMPLATES = [
    # A leak: `with` on sqlite3 only commits.
    '''def load_orders_{i}(path, shop):
    with sqlite3.connect(path) as conn:
        rows = conn.execute("SELECT * FROM orders WHERE shop = ?", (shop,)).fetchall()
    total = 0
    for row in rows:
        total += row[2]
    if total > 1000:
        log.info("big shop %s", shop)
    return total

''',
    '''def count_users_{i}(path):
    with closing(sqlite3.connect(path)) as conn, conn:
        return conn.execute("SELECT count(*) FROM users").fetchone()[0]


def read_config_{i}(name):
    with open(name) as handle:
        data = json.load(handle)
    data.setdefault("retries", 3)
    return data

''',
    '''def update_stock_{i}(dsn, item, delta):
    conn = psycopg2.connect(dsn)
    try:
        with conn, conn.cursor() as cur:
            cur.execute("UPDATE stock SET n = n + %s WHERE id = %s", (delta, item))
    finally:
        conn.close()
    return delta


''',
    '''class Report{i}:
    def __init__(self, rows):
        self.rows = list(rows)

    def total(self):
        return sum(r.amount for r in self.rows)

    def render(self):
        return "\\n".join(f"{{r.name}}: {{r.amount}}" for r in self.rows)

''',
    '''def export_{i}(path, rows):
    with open(path, "w") as out:
        for row in rows:
            out.write(",".join(map(str, row)) + "\\n")
    return len(rows)


def summarise_{i}(values):
    values = sorted(values)
    return values[len(values) // 2] if values else None

''',
]


def generate(lines):
    header = "import json\nimport logging\nimport sqlite3\nfrom contextlib import closing\n\nimport psycopg2\n\nlog = logging.getLogger(__name__)\n\n\n"
    parts = [header]
    count = header.count("\n")
    i = 0
    while count < lines:
        # One function in ten leaks: the first template every tenth block.
        template = TEMPLATES[0] if i % 10 == 0 else TEMPLATES[1 + i % (len(TEMPLATES) - 1)]
        block = template.format(i=i)
        parts.append(block)
        count += block.count("\n")
        i += 1
    text = "".join(parts)
    return "\n".join(text.split("\n")[:lines]) + "\n"


class Server:
    def __init__(self, binary):
        self.process = subprocess.Popen([binary, "server"], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        self.messages = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()
        self.next_id = 0

    def _read(self):
        stdout = self.process.stdout
        while True:
            length = None
            while True:
                line = stdout.readline()
                if not line:
                    return
                line = line.strip()
                if not line:
                    break
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":")[1])
            self.messages.put((time.perf_counter(), json.loads(stdout.read(length))))

    def cpu_seconds(self):
        """The server's CPU time so far (Linux only; `None` elsewhere)."""
        try:
            with open(f"/proc/{self.process.pid}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
            return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        except (OSError, ValueError, IndexError):
            return None

    def send(self, message):
        body = json.dumps(message).encode()
        self.process.stdin.write(b"Content-Length: %d\r\n\r\n%s" % (len(body), body))
        self.process.stdin.flush()
        return time.perf_counter()

    def notify(self, method, params):
        return self.send({"jsonrpc": "2.0", "method": method, "params": params})

    def request(self, method, params):
        self.next_id += 1
        self.send({"jsonrpc": "2.0", "id": self.next_id, "method": method, "params": params})
        return self.wait(lambda m: m.get("id") == self.next_id and "method" not in m)[1]

    def wait(self, wanted, timeout=120):
        deadline = time.perf_counter() + timeout
        while True:
            at, message = self.messages.get(timeout=max(0.0, deadline - time.perf_counter()))
            if wanted(message):
                return at, message

    def diagnostics(self, uri, version):
        return self.wait(
            lambda m: m.get("method") == "textDocument/publishDiagnostics"
            and m["params"]["uri"] == uri
            and m["params"].get("version") == version
        )


def main():
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--binary", default=os.path.join(root, "target", "release", "connlint"))
    parser.add_argument("--lines", type=int, default=20000)
    parser.add_argument("--edits", type=int, default=30)
    args = parser.parse_args()

    text = generate(args.lines)
    folder = tempfile.mkdtemp(prefix="connlint-latency-")
    path = os.path.join(folder, "handlers.py")
    with open(path, "w") as f:
        f.write(text)
    uri = "file://" + path
    server = Server(args.binary)
    server.request("initialize", {"processId": os.getpid(), "rootUri": "file://" + folder, "capabilities": {}})
    server.notify("initialized", {})

    item = {"uri": uri, "languageId": "python", "version": 1, "text": text}
    sent = server.notify("textDocument/didOpen", {"textDocument": item})
    at, message = server.diagnostics(uri, 1)
    found = len(message["params"]["diagnostics"])
    print(f"{args.lines} lines, {len(text)} bytes: {found} diagnostics, didOpen to publishDiagnostics {1000 * (at - sent):.1f} ms")

    # Edit in the middle, as typing does: add a line, then take it away again.
    middle = args.lines // 2
    latencies = []
    cpu_before = server.cpu_seconds()
    for version in range(2, args.edits + 2):
        if version % 2 == 0:
            change = {"range": {"start": {"line": middle, "character": 0}, "end": {"line": middle, "character": 0}}, "text": "# edited\n"}
        else:
            change = {"range": {"start": {"line": middle, "character": 0}, "end": {"line": middle + 1, "character": 0}}, "text": ""}
        document = {"uri": uri, "version": version}
        sent = server.notify("textDocument/didChange", {"textDocument": document, "contentChanges": [change]})
        at, _ = server.diagnostics(uri, version)
        latencies.append(1000 * (at - sent))

    cpu_after = server.cpu_seconds()
    latencies.sort()
    p95 = latencies[min(len(latencies) - 1, int(round(0.95 * (len(latencies) - 1))))]
    print(
        f"didChange to publishDiagnostics over {len(latencies)} edits: "
        f"median {statistics.median(latencies):.1f} ms, p95 {p95:.1f} ms, "
        f"min {latencies[0]:.1f} ms, max {latencies[-1]:.1f} ms"
    )
    if cpu_before is not None and cpu_after is not None:
        print(f"server CPU time per edit: {1000 * (cpu_after - cpu_before) / len(latencies):.1f} ms")
    server.request("shutdown", None)
    server.notify("exit", None)
    server.process.wait(timeout=30)
    os.remove(path)
    os.rmdir(folder)
    return 0


if __name__ == "__main__":
    sys.exit(main())
