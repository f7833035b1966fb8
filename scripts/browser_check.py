#!/usr/bin/env python3
"""Checks self-contained HTML reports in a real headless Chromium, driven through
ChromeDriver's W3C WebDriver protocol (Python standard library only).

For every page: it loads from a file:// URL with no console error or warning of level
SEVERE (script errors, failed loads, console.error), every inline chart (<svg>) is
displayed with a non-zero size and is the topmost element at its centre once scrolled
into view, clicking a table heading sorts without error, and a screenshot is not blank
(more than one colour, and enough non-white pixels). `--self-test` first proves the
check fails on pages that break each rule.

Usage: browser_check.py [--self-test] [--screenshots DIR] PAGE.html...
"""

import base64
import json
import os
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import zlib

CHROMIUM = os.environ.get("AESIM_CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("AESIM_CHROMEDRIVER", "/usr/bin/chromedriver")
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--window-size=1280,1600",
]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Driver:
    """A WebDriver session on a local ChromeDriver (loopback only)."""

    def __init__(self):
        self.port = free_port()
        self.profile = tempfile.mkdtemp(prefix="aesim-chromium-")
        self.proc = subprocess.Popen(
            [CHROMEDRIVER, f"--port={self.port}", "--allowed-ips=127.0.0.1"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        self.base = f"http://127.0.0.1:{self.port}"
        deadline = time.time() + 30
        while True:
            try:
                self.call("GET", "/status")
                break
            except (urllib.error.URLError, ConnectionError):
                if time.time() > deadline:
                    raise RuntimeError("chromedriver did not start within 30 s")
                time.sleep(0.2)
        caps = {
            "capabilities": {
                "alwaysMatch": {
                    "browserName": "chrome",
                    "goog:chromeOptions": {
                        "binary": CHROMIUM,
                        "args": FLAGS + [f"--user-data-dir={self.profile}"],
                    },
                    "goog:loggingPrefs": {"browser": "ALL"},
                }
            }
        }
        self.session = self.call("POST", "/session", caps)["sessionId"]

    def call(self, method, path, body=None):
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(
            self.base + path, data=data, method=method, headers={"Content-Type": "application/json"}
        )
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                return json.loads(response.read() or b"{}").get("value")
        except urllib.error.HTTPError as e:
            raise RuntimeError(f"webdriver {method} {path}: {e.read().decode(errors='replace')[:500]}")

    def s(self, method, path, body=None):
        return self.call(method, f"/session/{self.session}{path}", body)

    def script(self, source, *args):
        return self.s("POST", "/execute/sync", {"script": source, "args": list(args)})

    def logs(self):
        return self.s("POST", "/se/log", {"type": "browser"}) or []

    def close(self):
        try:
            self.s("DELETE", "")
        except Exception:
            pass
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        shutil.rmtree(self.profile, ignore_errors=True)


def png_pixels(data):
    """(width, height, rows of bytes, bytes per pixel) of an 8-bit RGB(A) PNG."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, idat, width = 8, b"", 0
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos : pos + 8])
        chunk = data[pos + 8 : pos + 8 + length]
        if kind == b"IHDR":
            width, height, depth, colour = struct.unpack(">IIBB", chunk[:10])
            assert depth == 8 and colour in (2, 6), f"unexpected PNG format {depth}/{colour}"
            bpp = 3 if colour == 2 else 4
        elif kind == b"IDAT":
            idat += chunk
        pos += 12 + length
    raw = zlib.decompress(idat)
    stride = width * bpp
    rows, prev = [], bytearray(stride)
    for y in range(height):
        f = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1 : (y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b = prev[i]
            c = prev[i - bpp] if i >= bpp else 0
            if f == 1:
                line[i] = (line[i] + a) & 255
            elif f == 2:
                line[i] = (line[i] + b) & 255
            elif f == 3:
                line[i] = (line[i] + (a + b) // 2) & 255
            elif f == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        rows.append(bytes(line))
        prev = line
    return width, height, rows, bpp


def blank_reason(png):
    """None if the screenshot shows something, else why it is blank."""
    width, height, rows, bpp = png_pixels(png)
    colours, non_white = set(), 0
    for row in rows[::4]:
        for x in range(0, width * bpp, bpp * 4):
            pixel = row[x : x + 3]
            colours.add(pixel)
            if pixel != b"\xff\xff\xff":
                non_white += 1
    sampled = len(rows[::4]) * len(range(0, width * bpp, bpp * 4))
    if len(colours) < 3:
        return f"only {len(colours)} colour(s) on screen"
    if non_white < sampled * 0.005:
        return f"only {non_white} of {sampled} sampled pixels are not white"
    return None


CHARTS_JS = """
var charts = Array.prototype.slice.call(document.querySelectorAll('svg'));
var problems = [];
charts.forEach(function (svg, i) {
  svg.scrollIntoView({block: 'center'});
  var r = svg.getBoundingClientRect();
  var style = window.getComputedStyle(svg);
  if (r.width < 50 || r.height < 50) problems.push('chart ' + i + ' is ' + r.width + 'x' + r.height + ' px');
  else if (style.visibility !== 'visible' || style.display === 'none' || parseFloat(style.opacity) < 0.5)
    problems.push('chart ' + i + ' is hidden by its style');
  else {
    var top = document.elementFromPoint(r.left + r.width / 2, r.top + Math.min(r.height / 2, window.innerHeight / 2 - 1));
    if (!top || (top !== svg && !svg.contains(top))) problems.push('chart ' + i + ' is covered by ' + (top ? top.tagName : 'nothing'));
  }
});
window.scrollTo(0, 0);
return {count: charts.length, problems: problems, ready: document.readyState};
"""

SORT_JS = """
var th = document.querySelector('table.sortable th:nth-child(2)') || document.querySelector('table.sortable th');
if (!th) return 'no sortable table';
th.click(); th.click();
return th.className;
"""


def check_page(driver, path, screenshots=None):
    """The problems found on the page at `path` (an empty list when it passes)."""
    path = os.path.abspath(path)
    expected = open(path, encoding="utf-8").read().count("<svg ")
    driver.logs()  # drop what earlier pages logged
    driver.s("POST", "/url", {"url": "file://" + path})
    problems = []
    result = driver.script(CHARTS_JS)
    if result["ready"] != "complete":
        problems.append(f"page not loaded: readyState {result['ready']}")
    if result["count"] != expected or expected == 0:
        problems.append(f"{result['count']} charts displayed, {expected} in the file")
    problems += result["problems"]
    sorted_class = driver.script(SORT_JS)
    if sorted_class not in ("asc", "desc", "no sortable table"):
        problems.append(f"clicking a table heading did not sort: {sorted_class!r}")
    png = base64.b64decode(driver.s("GET", "/screenshot"))
    reason = blank_reason(png)
    if reason:
        problems.append(f"blank screenshot: {reason}")
    if screenshots:
        os.makedirs(screenshots, exist_ok=True)
        name = os.path.basename(os.path.dirname(path)) + ".png"
        with open(os.path.join(screenshots, name), "wb") as f:
            f.write(png)
    for entry in driver.logs():
        if entry.get("level") in ("SEVERE",):
            problems.append(f"console {entry['level']}: {entry.get('message', '')[:300]}")
    return problems


GOOD_SVG = (
    '<svg xmlns="http://www.w3.org/2000/svg" width="400" height="200">'
    '<rect width="400" height="200" fill="#1F77B4"/><text x="10" y="20">chart</text></svg>'
)
BROKEN_PAGES = {
    "script-error": f"<html><body>{GOOD_SVG}<script>undefinedFunction();</script></body></html>",
    "console-error": f"<html><body>{GOOD_SVG}<script>console.error('boom');</script></body></html>",
    "missing-file": f"<html><body>{GOOD_SVG}<img src='no-such-image.png'></body></html>",
    "hidden-chart": f"<html><body><div style='display:none'>{GOOD_SVG}</div>{GOOD_SVG}</body></html>",
    "covered-chart": f"<html><body>{GOOD_SVG}<div style='position:fixed;inset:0;background:#fff'></div></body></html>",
    "blank-page": "<html><body style='background:#fff'><svg xmlns='http://www.w3.org/2000/svg' width='400' height='200'></svg></body></html>",
}
GOOD_PAGE = f"<html><body>{GOOD_SVG}<p>fine</p></body></html>"


def self_test(driver):
    """The check must pass a good page and fail each broken one; returns failures."""
    failures = []
    folder = tempfile.mkdtemp(prefix="aesim-browser-self-test-")
    try:
        good = os.path.join(folder, "good.html")
        open(good, "w").write(GOOD_PAGE)
        found = check_page(driver, good)
        if found:
            failures.append(f"a good page failed: {found}")
        for name, html in BROKEN_PAGES.items():
            page = os.path.join(folder, name + ".html")
            open(page, "w").write(html)
            found = check_page(driver, page)
            if not found:
                failures.append(f"the broken page '{name}' passed")
            else:
                print(f"self-test: '{name}' caught: {found[0]}")
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return failures


def main(argv):
    screenshots, pages, run_self_test = None, [], False
    args = iter(argv)
    for arg in args:
        if arg == "--self-test":
            run_self_test = True
        elif arg == "--screenshots":
            screenshots = next(args)
        else:
            pages.append(arg)
    driver = Driver()
    failed = 0
    try:
        if run_self_test:
            failures = self_test(driver)
            for f in failures:
                print(f"self-test FAILED: {f}")
            if failures:
                return 1
            print("self-test: the check catches every broken page")
        for page in pages:
            problems = check_page(driver, page, screenshots)
            if problems:
                failed += 1
                print(f"FAIL {page}")
                for p in problems:
                    print(f"  {p}")
            else:
                print(f"ok   {page}")
    finally:
        driver.close()
    print(f"{len(pages) - failed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
