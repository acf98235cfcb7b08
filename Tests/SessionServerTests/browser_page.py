"""A plain HTML + JS page (no framework) in headless Chromium calls a running sessiond from
another origin: GetSession over Connect unary and WatchSession over Connect server streaming,
both with fetch(), and a REST GET for comparison; the page posts what it saw back to the page
server, and this script checks it. The same page from an origin that is not allowed
(http://localhost:PAGE_PORT, a different origin string for the same server) must see every call
fail as a browser does for CORS: fetch() rejects with a TypeError.

    browser_page.py --port PORT --secret-file DATA/jwt-secret --page-port PAGE_PORT

The server must run with `--cors-origins http://127.0.0.1:PAGE_PORT`. Needs Debian's chromium.
"""
import argparse
import http.server
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

import jwt
import requests

passes, failures = [], []


def check(condition, message):
    print(("PASS " if condition else "FAIL ") + message, flush=True)
    (passes if condition else failures).append(message)


PAGE = """<!doctype html>
<html>
<head><meta charset="utf-8"><title>sessiond from another origin</title></head>
<body>
<pre id="log">running</pre>
<script id="config" type="application/json">__CONFIG__</script>
<script>
"use strict";
const config = JSON.parse(document.getElementById("config").textContent);
const service = config.server + "/sessions.v1.SessionService/";

function described(error) {
  return {name: error && error.name, message: String(error && error.message || error)};
}

// Connect unary: the request message as JSON, the reply message (or a Connect error) as JSON.
async function connectUnary(method, message) {
  const response = await fetch(service + method, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      "connect-protocol-version": "1",
      "authorization": "Bearer " + config.token,
    },
    body: JSON.stringify(message),
  });
  const text = await response.text();
  let body = null;
  try { body = JSON.parse(text); } catch (error) { body = {unparsed: text}; }
  return {status: response.status, contentType: response.headers.get("content-type"), body: body};
}

// Connect server streaming: one enveloped request (flags byte, 4-byte big-endian length, JSON);
// reads envelopes until the first message, then aborts (WatchSession never ends on its own).
async function connectFirstMessage(method, message, timeoutMs) {
  const json = new TextEncoder().encode(JSON.stringify(message));
  const frame = new Uint8Array(5 + json.length);
  new DataView(frame.buffer).setUint32(1, json.length);
  frame.set(json, 5);
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), timeoutMs);
  const started = performance.now();
  try {
    const response = await fetch(service + method, {
      method: "POST",
      headers: {
        "content-type": "application/connect+json",
        "connect-protocol-version": "1",
        "authorization": "Bearer " + config.token,
      },
      body: frame,
      signal: controller.signal,
    });
    const result = {status: response.status, contentType: response.headers.get("content-type")};
    const reader = response.body.getReader();
    let buffered = new Uint8Array(0);
    for (;;) {
      const {value, done} = await reader.read();
      if (done) { result.ended = "the body ended before a message"; return result; }
      const joined = new Uint8Array(buffered.length + value.length);
      joined.set(buffered);
      joined.set(value, buffered.length);
      buffered = joined;
      if (buffered.length < 5) continue;
      const flags = buffered[0];
      const length = new DataView(buffered.buffer, buffered.byteOffset).getUint32(1);
      if (buffered.length < 5 + length) continue;
      const payload = JSON.parse(new TextDecoder().decode(buffered.subarray(5, 5 + length)));
      result.flags = flags;
      result.milliseconds = Math.round(performance.now() - started);
      if (flags & 0x02) { result.endOfStream = payload; } else { result.first = payload; }
      controller.abort();
      return result;
    }
  } finally {
    clearTimeout(timer);
  }
}

async function restGet(path) {
  const response = await fetch(config.server + path, {headers: {"authorization": "Bearer " + config.token}});
  return {status: response.status, body: await response.json()};
}

async function attempt(name, call, results) {
  try {
    results[name] = {ok: await call()};
  } catch (error) {
    results[name] = {error: described(error)};
  }
}

async function main() {
  const results = {page: config.page, origin: location.origin};
  const id = config.sessionId;
  await attempt("rest", () => restGet("/api/sessions/" + encodeURIComponent(id)), results);
  await attempt("getSession", () => connectUnary("GetSession", {sessionId: id}), results);
  await attempt("getMissing", () => connectUnary("GetSession", {sessionId: "sess_missing"}), results);
  await attempt("watchSession", () => connectFirstMessage("WatchSession", {sessionId: id}, 10000), results);
  return results;
}

function report(results) {
  document.getElementById("log").textContent = JSON.stringify(results, null, 2);
  return fetch("/result", {method: "POST", body: JSON.stringify(results)});
}

window.addEventListener("error", (event) => report({page: config.page, scriptError: String(event.message)}));
main().then(report, (error) => report({page: config.page, scriptError: described(error)}));
</script>
</body>
</html>
"""


class PageServer:
    """Serves the page on 127.0.0.1:PORT from a thread and collects what each page posts to /result."""

    def __init__(self, port, configs):
        self.results = {}
        self.arrived = threading.Condition()
        owner = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                page = self.path.split("?")[0].strip("/")
                if page not in configs:
                    self.send_error(404)
                    return
                # </ never appears in JSON from json.dumps with these values, but be safe inside <script>.
                inline = json.dumps({**configs[page], "page": page}).replace("</", "<\\/")
                body = PAGE.replace("__CONFIG__", inline).encode()
                self.send_response(200)
                self.send_header("content-type", "text/html; charset=utf-8")
                self.send_header("content-length", str(len(body)))
                self.send_header("cache-control", "no-store")
                self.end_headers()
                self.wfile.write(body)

            def do_POST(self):
                length = int(self.headers.get("content-length") or 0)
                data = self.rfile.read(length)
                self.send_response(204)
                self.end_headers()
                try:
                    result = json.loads(data)
                except ValueError:
                    result = {"page": "?", "unparsed": data.decode(errors="replace")}
                with owner.arrived:
                    owner.results[result.get("page", "?")] = result
                    owner.arrived.notify_all()

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def wait(self, page, browser, deadline):
        """What `page` posted, or None once the deadline passes or the browser has exited."""
        with self.arrived:
            while page not in self.results:
                remaining = deadline - time.monotonic()
                if remaining <= 0 or browser.process.poll() is not None:
                    break
                self.arrived.wait(min(remaining, 0.5))
            return self.results.get(page)

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


class Browser:
    """Headless Chromium (Debian's package) as root, with a throwaway profile, in its own process
    group so that every process it starts is ended with it."""

    def __init__(self, url):
        executable = shutil.which("chromium")
        self.profile = tempfile.mkdtemp(prefix="sessiond-chromium-")
        self.log = tempfile.TemporaryFile()
        flags = ["--headless=new", "--no-sandbox", "--disable-gpu", "--user-data-dir=" + self.profile,
                 "--no-first-run", "--disable-extensions", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--enable-logging=stderr", "--v=0"]
        self.started = time.monotonic()
        self.process = subprocess.Popen([executable, *flags, url], stdin=subprocess.DEVNULL,
                                        stdout=self.log, stderr=self.log, start_new_session=True)

    def console(self):
        """The page's console messages and Chromium's errors, for a failure's explanation."""
        self.log.seek(0)
        lines = self.log.read().decode(errors="replace").splitlines()
        return [line for line in lines if "CONSOLE" in line or ("ERROR" in line and "dbus" not in line)][-20:]

    def close(self):
        try:
            os.killpg(self.process.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            pass
        try:
            os.killpg(self.process.pid, signal.SIGKILL)  # whatever of the group is left
        except ProcessLookupError:
            pass
        self.process.wait()
        shutil.rmtree(self.profile, ignore_errors=True)
        self.log.close()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--secret-file", required=True)
    parser.add_argument("--page-port", type=int, required=True)
    parser.add_argument("--timeout", type=float, default=25.0, help="seconds to wait for each page's results")
    args = parser.parse_args()
    # A watchdog's SIGTERM still ends the browser (the finally blocks run).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    if shutil.which("chromium") is None:
        check(False, "Debian's chromium is installed (tools/setup.sh --test installs it)")
        print(f"browser page over Connect: {len(passes)} passed, {len(failures)} failed")
        sys.exit(1)
    secret = open(args.secret_file).read().strip()
    server = f"http://127.0.0.1:{args.port}"
    allowed, denied = f"http://127.0.0.1:{args.page_port}", f"http://localhost:{args.page_port}"

    tester = f"tester-browser-{int(time.time() * 1000)}"
    now = int(time.time())
    token = jwt.encode({"sub": tester, "role": "tester", "org": "org-browser", "iat": now, "exp": now + 600},
                       secret, algorithm="HS256")
    response = requests.post(f"{server}/api/sessions", json={"jobId": "job-browser", "testerId": tester},
                             headers={"Authorization": f"Bearer {token}"}, timeout=10)
    session_id = ((response.json() if response.ok else {}).get("data") or {}).get("sessionId", "")
    check(response.status_code == 201 and session_id.startswith("sess_"),
          f"a session for the page is created over REST ({response.status_code} {session_id})")

    # What a browser asks before the calls: the preflight, from the allowed origin and another.
    for origin, expected in ((allowed, allowed), (denied, None)):
        preflight = requests.options(f"{server}/sessions.v1.SessionService/GetSession", headers={
            "Origin": origin, "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization,connect-protocol-version,content-type"}, timeout=10)
        got = preflight.headers.get("access-control-allow-origin")
        allowed_headers = preflight.headers.get("access-control-allow-headers", "").lower()
        if expected:
            check(got == expected and "connect-protocol-version" in allowed_headers,
                  f"the Connect preflight from {origin} is allowed with its headers "
                  f"({preflight.status_code} allow-origin {got!r}, allow-headers {allowed_headers!r})")
        else:
            check(got is None, f"the Connect preflight from {origin} is not allowed "
                               f"({preflight.status_code} allow-origin {got!r})")

    config = {"server": server, "token": token, "sessionId": session_id}
    pages = PageServer(args.page_port, {"allowed": config, "denied": config})
    results = {}
    try:
        # One page per browser: headless Chromium opens one target from its command line.
        for page, url in (("allowed", f"{allowed}/allowed"), ("denied", f"{denied}/denied")):
            browser = Browser(url)
            try:
                results[page] = pages.wait(page, browser, time.monotonic() + args.timeout)
                elapsed = time.monotonic() - browser.started
                print(f"chromium: {url} reported in {elapsed:.1f} s" if results[page]
                      else f"chromium: nothing from {url} in {elapsed:.1f} s", flush=True)
                if not results[page]:
                    for line in browser.console():
                        print("  chromium: " + line, flush=True)
            finally:
                browser.close()
    finally:
        pages.close()
    judge(results, session_id, allowed, denied)

    print(f"browser page over Connect: {len(passes)} passed, {len(failures)} failed")
    sys.exit(1 if failures else 0)


def judge(results, session_id, allowed, denied):
    page = results.get("allowed")
    check(page is not None and "scriptError" not in page,
          f"the page from {allowed} reported its results: {json.dumps(page)[:300] if page else 'nothing'}")
    page = page or {}
    check(page.get("origin") == allowed, f"that page's origin is {allowed} ({page.get('origin')})")

    def ok(name):
        entry = page.get(name) or {}
        if "error" in entry:
            return None, f"fetch failed: {entry['error']}"
        return entry.get("ok") or {}, json.dumps(entry.get("ok"))[:400]

    rest, shown = ok("rest")
    data = ((rest or {}).get("body") or {}).get("data") or {}
    check(rest is not None and rest.get("status") == 200 and data.get("sessionId") == session_id
          and data.get("status") == "active", f"REST GET from the page: 200, the session, active ({shown})")

    got, shown = ok("getSession")
    body = (got or {}).get("body") or {}
    check(got is not None and got.get("status") == 200 and body.get("sessionId") == session_id
          and body.get("status") == "SESSION_STATUS_ACTIVE",
          f"Connect GetSession from the page: 200, the session id, SESSION_STATUS_ACTIVE ({shown})")
    check(got is not None and (got.get("contentType") or "").startswith("application/json"),
          f"  in application/json ({(got or {}).get('contentType')})")

    got, shown = ok("getMissing")
    body = (got or {}).get("body") or {}
    check(got is not None and got.get("status") == 404 and body.get("code") == "not_found"
          and isinstance(body.get("message"), str),
          f"Connect GetSession of an unknown id: 404 with code not_found, readable across origins ({shown})")

    got, shown = ok("watchSession")
    first = (got or {}).get("first") or {}
    check(got is not None and got.get("status") == 200 and got.get("flags") == 0
          and (first.get("session") or {}).get("sessionId") == session_id,
          f"Connect WatchSession from the page: the first message is the session ({shown})")
    check(first.get("event") == "snapshot" and (first.get("session") or {}).get("status") == "SESSION_STATUS_ACTIVE",
          f"  a snapshot of the active session ({first.get('event')}, {(first.get('session') or {}).get('status')})")
    check(got is not None and (got.get("contentType") or "").startswith("application/connect+json"),
          f"  in application/connect+json ({(got or {}).get('contentType')})")

    page = results.get("denied")
    check(page is not None and "scriptError" not in page,
          f"the page from {denied} reported its results: {json.dumps(page)[:300] if page else 'nothing'}")
    page = page or {}
    check(page.get("origin") == denied, f"that page's origin is {denied} ({page.get('origin')})")
    for name, what in (("rest", "REST GET"), ("getSession", "Connect GetSession"),
                       ("watchSession", "Connect WatchSession")):
        error = (page.get(name) or {}).get("error") or {}
        check(error.get("name") == "TypeError",
              f"{what} from {denied}: fetch() rejects with a TypeError, as for CORS ({page.get(name)})")


if __name__ == "__main__":
    main()
