import os
import socket
import time

D = os.environ["HANG_DIR"]


def test_client():
    port = os.path.join(D, "port")
    while not os.path.exists(port):
        time.sleep(0.01)
    with open(port) as f:
        c = socket.create_connection(("127.0.0.1", int(f.read())))
    open(os.path.join(D, "client.blocking"), "w").close()
    greeting = c.recv(100)  # the server waits for a request first
    c.sendall(b"request after " + greeting)
