#!/bin/sh
# memcached with four worker threads (-A: shutdown allowed): eight client
# threads (python3) set and read back 300 keys each, then the server's own
# counts.
memcached -A -u root -p 18211 -l 127.0.0.1 -t 4 &
python3 - <<'PY'
import hashlib, socket, threading, time
for _ in range(100):
    try:
        socket.create_connection(("127.0.0.1", 18211)).close()
        break
    except OSError:
        time.sleep(0.5)
def client(k, out):
    f = socket.create_connection(("127.0.0.1", 18211)).makefile("rwb")
    ok = 0
    for i in range(300):
        v = hashlib.sha1(f"{k}-{i}".encode()).hexdigest().encode()
        f.write(b"set k%d_%d 0 0 %d\r\n%s\r\n" % (k, i, len(v), v)); f.flush()
        assert f.readline() == b"STORED\r\n"
        f.write(b"get k%d_%d\r\n" % (k, i)); f.flush()
        f.readline(); got = f.readline().strip(); f.readline()
        ok += got == v
    out[k] = ok
out = {}
threads = [threading.Thread(target=client, args=(k, out)) for k in range(8)]
for t in threads: t.start()
for t in threads: t.join()
print(sorted(out.values()))
f = socket.create_connection(("127.0.0.1", 18211)).makefile("rwb")
f.write(b"stats\r\n"); f.flush()
for line in iter(f.readline, b"END\r\n"):
    if line.split()[1] in (b"threads", b"curr_items", b"cmd_set"):
        print(line.decode().strip())
f.write(b"shutdown\r\n"); f.flush()
PY
wait
echo "memcached exit $?"
