"""No silent loss under memory pressure (issue 20): the module runs with its
address space limited (RLIMIT_AS, `ulimit -v`) to just above what it needs
with its links open; five links push while the host does not read the pty,
then the host reads everything. Every +IPD header is whole and followed by
exactly its bytes, each link's data is what its peer sent (all of it, or a
prefix and the link reported CLOSED), and the module still answers.

Skipped for an ASan build: its shadow memory cannot live under a small
RLIMIT_AS. The allocation sites themselves fail one by one in
tests/unit/test_alloc_fail.c."""
import re
import resource
import threading

import pytest

from conftest import (ESPAT, TCPIP_WORLD as WORLD, join, ok, pattern, read_n, start,
                      wait_for)
from peers import TcpServer

LINKS = 5
EACH = 400 * 1000  # bytes each peer pushes: 2 MB in all, well past ESPAT_TX_HIGH
MARGIN = 256 << 10  # address space above the module's size with its links open


def asan_build():
    with open(ESPAT, "rb") as f:
        return b"__asan_init" in f.read()


def vm_kib(dut, field):
    with open(f"/proc/{dut.proc.pid}/status") as f:
        return int(re.search(rf"{field}:\s+(\d+)", f.read()).group(1))


def open_links(d, srv):
    ok(d, "AT+CIPMUX=1")
    conns = []
    for i in range(LINKS):
        start(d, srv.port, link=i)
        conns.append(srv.accept())
    return conns


@pytest.mark.skipif(asan_build(), reason="ASan's shadow memory does not fit a small RLIMIT_AS")
def test_links_pushing_under_a_tight_address_space_lose_nothing_silently(make_dut):
    with TcpServer() as srv:
        # the module's normal size with its links open
        probe = make_dut(world=WORLD)
        join(probe)
        conns = open_links(probe, srv)
        limit = vm_kib(probe, "VmPeak") * 1024 + MARGIN
        probe.stop()
        for c in conns:
            c.close()

        d = make_dut(world=WORLD, start=False)
        d.preexec = lambda: resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
        d.start()
        join(d)
        conns = open_links(d, srv)
        data = [pattern(EACH, seed=30 + i) for i in range(LINKS)]
        pushers = [threading.Thread(target=c.send, args=(data[i],), daemon=True)
                   for i, c in enumerate(conns)]
        for t in pushers:
            t.start()
        # the host does not read: the module stops reading the peers
        wait_for(lambda: any(c.held_back() for c in conns), "the module to hold a peer back",
                 timeout=20)
        # now the host reads everything
        got = [bytearray() for _ in range(LINKS)]
        closed = set()
        done = lambda: all(len(got[i]) == EACH or i in closed for i in range(LINKS))  # noqa
        while not done():
            m = d.expect_re(rb"\r\n\+IPD,(\d),(\d+):|(\d),CLOSED\r\n", timeout=20)
            if m.group(3) is not None:
                closed.add(int(m.group(3)))
                continue
            link, n = int(m.group(1)), int(m.group(2))
            assert 0 < n <= 2920
            got[link] += read_n(d, n)
        for i in range(LINKS):
            assert bytes(got[i]) == data[i][:len(got[i])], f"link {i}: a gap or foreign bytes"
        for t in pushers:
            t.join(10)
        assert d.alive()
        ok(d, "AT")
        assert "dropped" not in d.stderr(), d.stderr()
