"""AT+WEBSERVER end to end (guide 3.10 and its chapter-4 examples 4.6.1,
4.6.2): the module's provisioning page in a real headless browser (Debian's
chromium + chromium-driver through python3-selenium), then bad input on raw
sockets. The module's softAP is up and a phone has joined it (`espat ctl
sta join`); the browser reaches the module's server where espat listens:
the host's loopback at the module's port. docs/COMPAT.md #180-199."""
import os
import re
import shutil
import socket
import time

import pytest

from conftest import OK, ERROR, note

PHONE = "5e:d9:97:7b:ad:3c"
WAIT = 20  # seconds: the bound of every wait on the browser


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(d, timeout=25):
    """The guide's setup (4.6.1): station+softAP, the softAP, multiple
    connections, the web server; a phone joins the softAP."""
    assert d.cmd("ATE0").endswith(OK)
    assert d.cmd("AT+CWMODE=3") == OK
    assert d.cmd('AT+CWSAP="pos_softap","",11,0,3') == OK
    assert d.cmd("AT+CIPMUX=1") == OK
    port = free_port()
    assert d.cmd(f"AT+WEBSERVER=1,{port},{timeout}") == OK
    d.ctl("sta", "join", PHONE)
    d.expect(f'+STA_CONNECTED:"{PHONE}"\r\n'
             f'+DIST_STA_IP:"{PHONE}","192.168.4.2"\r\n'.encode())
    return port


def browser():
    webdriver = pytest.importorskip("selenium.webdriver")
    if not shutil.which("chromium") or not shutil.which("chromedriver"):
        pytest.skip("chromium / chromium-driver not installed (scripts/deps.sh)")
    from selenium.webdriver.chrome.service import Service
    opts = webdriver.ChromeOptions()
    opts.binary_location = shutil.which("chromium")
    for a in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
              "--window-size=390,844"):  # a phone's viewport
        opts.add_argument(a)
    drv = webdriver.Chrome(service=Service(shutil.which("chromedriver")), options=opts)
    drv.set_page_load_timeout(WAIT)
    drv.set_script_timeout(WAIT)
    return drv


def wait_text(drv, elem_id, pattern):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait
    rx = re.compile(pattern)
    return WebDriverWait(drv, WAIT).until(
        lambda d: rx.search(d.find_element(By.ID, elem_id).text) and
        d.find_element(By.ID, elem_id).text)


def test_provision_in_a_browser(dut, tmp_path):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select
    port = start_server(dut)
    drv = browser()
    try:
        drv.get(f"http://127.0.0.1:{port}/")
        assert drv.title == "ESP-AT Wi-Fi provisioning"
        wait_text(drv, "aps", r"HomeNet-2G")  # the scan list, from the world
        Select(drv.find_element(By.ID, "aps")).select_by_value("HomeNet-2G")
        assert drv.find_element(By.ID, "ssid").get_attribute("value") == "HomeNet-2G"
        drv.find_element(By.ID, "password").send_keys("homepass123")
        drv.find_element(By.ID, "connect").click()
        # the guide's order: 1, the join, then 2 once the page has the result
        dut.expect(b"+WEBSERVERRSP:1\r\n", timeout=WAIT)
        dut.expect(b"WIFI CONNECTED\r\nWIFI GOT IP\r\n", timeout=WAIT)
        assert wait_text(drv, "status", r"^Connected$")
        dut.expect(b"+WEBSERVERRSP:2\r\n", timeout=WAIT)
        shot = tmp_path / "web_provisioned.png"
        assert drv.save_screenshot(str(shot)) and shot.stat().st_size > 0
        print(f"screenshot: {shot}")
        note(f"web: screenshot of the provisioning page at {shot}")
        # the page's width fits the phone: no horizontal scrolling
        assert drv.execute_script(
            "return document.documentElement.scrollWidth <= window.innerWidth")
    finally:
        drv.quit()
    assert b'+CWJAP:"HomeNet-2G"' in dut.cmd("AT+CWJAP?")


def test_provision_fails_in_a_browser(dut, tmp_path):
    from selenium.webdriver.common.by import By
    port = start_server(dut)
    drv = browser()
    try:
        drv.get(f"http://127.0.0.1:{port}/")
        drv.find_element(By.ID, "ssid").send_keys("HomeNet-2G")
        drv.find_element(By.ID, "password").send_keys("not-the-password")
        drv.find_element(By.ID, "connect").click()
        dut.expect(b"+WEBSERVERRSP:1\r\n", timeout=WAIT)
        assert wait_text(drv, "status", r"^Connection failed$")
        drv.save_screenshot(str(tmp_path / "web_failed.png"))
        print(f"screenshot: {tmp_path / 'web_failed.png'}")
    finally:
        drv.quit()
    out = dut.cmd("AT")  # whatever the station said, no +WEBSERVERRSP:2
    assert b"+WEBSERVERRSP" not in out and out.endswith(OK)


def test_ota_upload_in_a_browser(dut, tmp_path):
    from selenium.webdriver.common.by import By
    port = start_server(dut)
    image = tmp_path / "espat_new.bin"
    image.write_bytes(b"\xe9" + os.urandom(200 * 1024 - 1))
    drv = browser()
    try:
        drv.get(f"http://127.0.0.1:{port}/")
        wait_text(drv, "version", r"^3\.3\.0\.0$")
        drv.find_element(By.ID, "ota-file").send_keys(str(image))
        drv.find_element(By.ID, "ota-send").click()
        assert wait_text(drv, "ota-status", r"^OTA Succeeded$")
        dut.expect(b"+WEBSERVERRSP:3\r\n+WEBSERVERRSP:4\r\n", timeout=WAIT)
        drv.save_screenshot(str(tmp_path / "web_ota.png"))
        print(f"screenshot: {tmp_path / 'web_ota.png'}")
        # a file that is no app image: 3 then 5, the page says so
        bad = tmp_path / "junk.bin"
        bad.write_bytes(b"\x00" * 4096)
        drv.find_element(By.ID, "ota-file").send_keys(str(bad))
        drv.find_element(By.ID, "ota-send").click()
        assert wait_text(drv, "ota-status", r"^OTA Failed$")
        dut.expect(b"+WEBSERVERRSP:3\r\n+WEBSERVERRSP:5\r\n", timeout=WAIT)
    finally:
        drv.quit()
    slot = os.path.join(dut.data_dir, "ota_1.bin")
    with open(slot, "rb") as f:
        assert f.read() == image.read_bytes()


# ---- bad input on raw sockets ------------------------------------------------


def exchange(port, data, timeout=10):
    """Sends data, reads until the server closes; returns (status, head, body)."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(data)
        got = b""
        while chunk := s.recv(65536):
            got += chunk
    head, _, body = got.partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1]) if head.startswith(b"HTTP/1.1 ") else None
    return status, head, body


def form(body):
    return (b"POST /setstainfo HTTP/1.1\r\nHost: x\r\n"
            b"Content-Type: application/x-www-form-urlencoded\r\n"
            b"Content-Length: %d\r\n\r\n" % len(body)) + body


def test_bad_input(dut):
    port = start_server(dut, timeout=21)
    assert exchange(port, b"GET /getresult HTTP/1.1\r\n\r\n")[2] == b'{"state":"idle"}'
    # oversized fields: 400, nothing printed, nothing saved
    for body in (b"ssid=" + b"s" * 33 + b"&password=homepass123",
                 b"ssid=HomeNet-2G&password=" + b"p" * 65,
                 b"ssid=HomeNet-2G&password=%zz"):
        assert exchange(port, form(body))[0] == 400
    assert exchange(port, form(b"a" * 600))[0] == 413
    # wrong methods, unknown paths, garbage, long lines
    st, head, _ = exchange(port, b"PUT /setstainfo HTTP/1.1\r\n\r\n")
    assert st == 405 and b"\r\nAllow: POST" in head
    assert exchange(port, b"GET /setstainfo HTTP/1.1\r\n\r\n")[0] == 405
    assert exchange(port, b"GET /etc/passwd HTTP/1.1\r\n\r\n")[0] == 404
    assert exchange(port, b"\x16\x03\x01garbage\r\n\r\n")[0] == 400
    assert exchange(port, b"GET /" + b"a" * 4000 + b" HTTP/1.1\r\n\r\n")[0] == 414
    assert exchange(port, b"GET / HTTP/1.1\r\nX: " + b"b" * 4000 + b"\r\n\r\n")[0] == 431
    # a captive-portal probe goes to the page
    st, head, _ = exchange(port, b"GET /generate_204 HTTP/1.1\r\n\r\n")
    assert st == 302 and b"\r\nLocation: http://192.168.4.1/" in head
    assert b"+WEBSERVERRSP" not in dut.cmd("AT")
    assert dut.cmd("AT+CWJAP?").endswith(b"\r\nOK\r\n")


def test_many_connections_and_half_sent(dut):
    port = start_server(dut, timeout=21)
    # a half-sent request holds a slot until the connection timeout: 408
    half = socket.create_connection(("127.0.0.1", port), timeout=40)
    half.sendall(b"POST /setstainfo HTTP/1.1\r\nContent-Length: 50\r\n\r\nssid=")
    t0 = time.monotonic()
    # many connections at once: up to the limit they are served, the rest 503
    conns = [socket.create_connection(("127.0.0.1", port), timeout=10) for _ in range(30)]
    served = busy = 0
    for c in conns:
        c.sendall(b"GET /getresult HTTP/1.1\r\n\r\n")
    for c in conns:
        got = b""
        while chunk := c.recv(4096):
            got += chunk
        c.close()
        if got.startswith(b"HTTP/1.1 200 OK\r\n"):
            served += 1
        else:
            assert got.startswith(b"HTTP/1.1 503 Service Unavailable\r\n"), got
            busy += 1
    assert served >= 1 and served + busy == 30
    # the server is fine afterwards
    assert exchange(port, b"GET / HTTP/1.1\r\n\r\n")[0] == 200
    got = b""
    while chunk := half.recv(4096):
        got += chunk
    half.close()
    assert got.startswith(b"HTTP/1.1 408 Request Timeout\r\n")
    assert 20 <= time.monotonic() - t0 <= 30
    assert dut.cmd("AT") == OK
    # disabled: nothing listens
    assert dut.cmd("AT+WEBSERVER=0") == OK
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", port), timeout=5)
    assert dut.cmd(f"AT+WEBSERVER=1,{port},20") == ERROR


def test_page_from_the_file_system(dut):
    """An index.html on the FAT partition (AT+FS) is served instead of the
    built-in page, as esp-at serves its fatfs copy."""
    port = start_server(dut)
    status, _, body = exchange(port, b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    assert status == 200 and b"<html" in body.lower()  # the built-in page
    page = b"<!doctype html><title>from fatfs</title><p>custom page</p>\n"
    dut.write(f'AT+FS=0,1,"index.html",0,{len(page)}\r\n')
    dut.expect(b">")
    dut.write(page)
    assert dut.answer() == OK
    status, _, body = exchange(port, b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    assert (status, body) == (200, page)
