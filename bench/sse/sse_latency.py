"""Marker renamed into place -> first Server-Sent Event of the change it causes, against a running
`cascade run --urls http://127.0.0.1:5191` in this folder (bench/sse/cascade.yaml). 20 markers, one
connection each (connected and subscribed before the marker appears). Prints min/p50/p90/max in ms.
    cd bench/sse && mkdir -p markers && cascade run --urls http://127.0.0.1:5191 -q &
    python3 sse_latency.py"""
import socket, time, os, sys
res=[]
for i in range(20):
    s=socket.create_connection(("127.0.0.1",5191))
    s.sendall(b"GET /api/events HTTP/1.1\r\nHost: x\r\n\r\n")
    buf=b""
    while b": changes after" not in buf: buf+=s.recv(4096)
    while not buf.endswith(b"\n\n") and b"\n\n" not in buf.split(b": changes after")[1]: buf+=s.recv(4096)
    day=f"2019{3 + i//28:02d}{1 + i%28:02d}"
    tmp=f"markers/.extract__{day}.tmp"
    open(tmp,"w").write("{}")
    t0=time.perf_counter()
    os.rename(tmp,f"markers/extract__{day}.done")
    buf=b""
    while b"id: " not in buf: buf+=s.recv(4096)
    res.append((time.perf_counter()-t0)*1000)
    s.close()
    time.sleep(0.2)
res.sort()
print("n=%d min %.1f p50 %.1f p90 %.1f max %.1f ms" % (len(res), res[0], res[len(res)//2], res[int(len(res)*0.9)], res[-1]))
