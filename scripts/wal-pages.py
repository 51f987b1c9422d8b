#!/usr/bin/env python3
"""Which tables and indexes a SQLite database's write-ahead log holds pages of, per commit.

Each commit writes, as frames of the log, every page it changed; this counts the frames
since the log was last restarted by the page's owner (`dbstat`). Copy the database and its
log while the writer is paused, so that the two agree:

    kill -STOP $PID; cp X.db /tmp/a.db; cp X.db-wal /tmp/a.db-wal; cp X.db-wal /tmp/log; kill -CONT $PID
    python3 scripts/wal-pages.py /tmp/log /tmp/a.db

(The log is read from its own copy: opening the database copy replays and may remove its
log.) The sqlite3 module of Python must have `dbstat` (the Debian and PyPI builds do).
"""
import collections
import sqlite3
import struct
import sys


def frames(log):
    data = open(log, "rb").read()
    _magic, _version, page_size, _seq, salt1, salt2, _c1, _c2 = struct.unpack(">8I", data[:32])
    size = 24 + page_size
    pages, commits, at = [], 0, 32
    while at + size <= len(data):
        page, commit_size, s1, s2 = struct.unpack(">4I", data[at : at + 16])
        if (s1, s2) != (salt1, salt2):
            break  # frames of an earlier round of the log
        pages.append(page)
        commits += commit_size != 0
        at += size
    return pages, commits, page_size


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    pages, commits, page_size = frames(sys.argv[1])
    owner = dict(sqlite3.connect(sys.argv[2]).execute("SELECT pageno, name FROM dbstat"))
    count = collections.Counter(owner.get(p, "?") for p in pages)
    print(f"{len(pages)} frames of {page_size} bytes in {commits} commits")
    for name, n in count.most_common():
        print(f"{n:9d} {n / max(commits, 1):8.2f} a commit  {name}")


if __name__ == "__main__":
    main()
