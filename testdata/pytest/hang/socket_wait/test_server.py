import os
import socket

D = os.environ["HANG_DIR"]


def test_server():
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(1)
    tmp = os.path.join(D, "port.tmp")
    with open(tmp, "w") as f:
        f.write(str(srv.getsockname()[1]))
    os.rename(tmp, os.path.join(D, "port"))
    conn, _ = srv.accept()
    conn.settimeout(3600)  # Python then polls the socket before each recv
    open(os.path.join(D, "server.blocking"), "w").close()
    request = conn.recv(100)  # the client waits for a greeting first
    conn.sendall(b"hello " + request)
