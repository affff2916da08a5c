import os
import sqlite3
import time

D = os.environ["HANG_DIR"]


def test_insert():
    while not os.path.exists(os.path.join(D, "writer.locked")):
        time.sleep(0.01)
    db = sqlite3.connect(os.path.join(D, "app.db"), timeout=3600)
    open(os.path.join(D, "insert.blocking"), "w").close()
    db.execute("INSERT INTO t VALUES (2)")
    db.commit()
