import os
import sqlite3
import time

D = os.environ["HANG_DIR"]


def test_writer():
    db = sqlite3.connect(os.path.join(D, "app.db"), isolation_level=None)
    db.execute("CREATE TABLE IF NOT EXISTS t (x)")
    db.execute("BEGIN IMMEDIATE")
    db.execute("INSERT INTO t VALUES (1)")
    open(os.path.join(D, "writer.locked"), "w").close()
    # Holds its transaction until a file appears that nothing creates.
    while not os.path.exists(os.path.join(D, "reader.done")):
        time.sleep(0.05)
    db.execute("COMMIT")
