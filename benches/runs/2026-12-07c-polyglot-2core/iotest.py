import os, mmap, random, threading, time, sys
path = sys.argv[1]
fd = os.open(path, os.O_RDONLY | os.O_DIRECT)
size = os.fstat(fd).st_size
blocks = size // 8192 - 1
def worker(n, out):
    buf = mmap.mmap(-1, 8192)
    r = random.Random(n)
    c = 0
    end = time.time() + 8
    while time.time() < end:
        os.preadv(fd, [buf], r.randrange(blocks) * 8192)
        c += 1
    out.append(c)
for qd in (1, 4, 16, 32):
    out = []
    ts = [threading.Thread(target=worker, args=(i, out)) for i in range(qd)]
    [t.start() for t in ts]; [t.join() for t in ts]
    print(f"qd {qd}: {sum(out)/8:.0f} random 8k reads/s")
