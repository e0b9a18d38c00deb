#!/usr/bin/env python3
"""Load test of tls-server on real sockets (127.0.0.1 only; bounded; stops by itself).

Runs the release tls-server (echo mode) and drives it with
  1. CONCURRENT connections open at once (Python ssl over asyncio): every one
     completes its handshake, then all send a random payload and check the echo;
  2. HANDSHAKES handshakes in all, from Python ssl (asyncio), our tls-client,
     `openssl s_client` (payload echoed and checked) and `openssl s_time`
     (against a second tls-server in --www mode, which s_time's GET needs);
and samples the server's RSS and thread count from /proc before, during and
after. Exits non-zero if a payload is lost or corrupted, a handshake fails,
or the RSS does not come back near its baseline.

usage: Tools/scripts/load.py [--concurrent N] [--handshakes N] [--time-limit SEC]
"""
import argparse
import asyncio
import os
import random
import re
import resource
import socket
import ssl
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
HOST = "127.0.0.1"


def log(*a):
    print(*a, flush=True)


def free_port():
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def proc_status(pid):
    out = {}
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                k, _, v = line.partition(":")
                out[k] = v.strip()
    except FileNotFoundError:
        return {}
    return out


def rss_kb(pid):
    return int(proc_status(pid).get("VmRSS", "0 kB").split()[0])


def threads(pid):
    return int(proc_status(pid).get("Threads", "0"))


def fds(pid):
    try:
        return len(os.listdir(f"/proc/{pid}/fd"))
    except FileNotFoundError:
        return 0


class Sampler:
    """Samples a process's RSS and threads in the background (asyncio task)."""

    def __init__(self, pid):
        self.pid, self.peak_rss, self.peak_threads, self.peak_fds = pid, 0, 0, 0

    def sample(self):
        self.peak_rss = max(self.peak_rss, rss_kb(self.pid))
        self.peak_threads = max(self.peak_threads, threads(self.pid))
        self.peak_fds = max(self.peak_fds, fds(self.pid))

    async def run(self):
        while True:
            self.sample()
            await asyncio.sleep(0.05)


def raise_fd_limit(n):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = min(max(n, soft), hard) if hard != resource.RLIM_INFINITY else max(n, soft)
    resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
    return want


def start_server(binary, port, mode, cert_out, extra=()):
    limit = raise_fd_limit(65536)
    p = subprocess.Popen([binary, "--host", HOST, "--port", str(port), mode, "--quiet", "--timeout", "60",
                          "--cert-out", cert_out, *extra],
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                         preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_NOFILE, (limit, limit)))
    line = p.stdout.readline()
    while line and "listening" not in line:
        line = p.stdout.readline()
    if "listening" not in line:
        raise SystemExit(f"tls-server did not start: {line}")
    # Drain its output in the background so it never blocks on a full pipe.
    import threading
    threading.Thread(target=lambda: [None for _ in p.stdout], daemon=True).start()
    return p


def client_context():
    c = ssl.create_default_context()
    c.check_hostname = False
    c.verify_mode = ssl.CERT_NONE
    return c


async def echo_connection(port, ctx, payload, barrier=None, stats=None, timeout=60):
    """One TLS connection: handshake, [wait at the barrier], send payload, read it back."""
    reader, writer = await asyncio.wait_for(
        asyncio.open_connection(HOST, port, ssl=ctx, server_hostname="localhost"), timeout)
    try:
        if stats is not None:
            stats["open"] += 1
            stats["peak_open"] = max(stats["peak_open"], stats["open"])
        if barrier is not None:
            await asyncio.wait_for(barrier.wait(), timeout)
        writer.write(payload)
        await writer.drain()
        got = await asyncio.wait_for(reader.readexactly(len(payload)), timeout)
        if got != payload:
            raise AssertionError("echo corrupted")
        return writer.get_extra_info("ssl_object").version()
    finally:
        if stats is not None:
            stats["open"] -= 1
        writer.close()
        try:
            await asyncio.wait_for(writer.wait_closed(), 5)
        except Exception:
            pass


class Barrier:
    """Releases everyone once `n` have arrived (or when `release` is called)."""

    def __init__(self, n):
        self.n, self.count, self.event = n, 0, asyncio.Event()

    async def wait(self):
        self.count += 1
        if self.count >= self.n:
            self.event.set()
        await self.event.wait()

    def release(self):
        self.event.set()


async def phase_concurrent(port, n, pid, deadline):
    ctx12 = client_context()
    ctx12.maximum_version = ssl.TLSVersion.TLSv1_2
    ctx13 = client_context()
    barrier = Barrier(n)
    stats = {"open": 0, "peak_open": 0}
    sampler = Sampler(pid)
    task = asyncio.ensure_future(sampler.run())
    payloads = [os.urandom(random.randint(1, 32768)) for _ in range(n)]
    start = time.time()
    sem = asyncio.Semaphore(200)  # connection attempts in flight at once (the listen backlog is 128)

    async def one(i):
        async with sem:
            ctx = ctx12 if i % 4 == 0 else ctx13
            reader, writer = await asyncio.wait_for(
                asyncio.open_connection(HOST, port, ssl=ctx, server_hostname="localhost"), 60)
        try:
            stats["open"] += 1
            stats["peak_open"] = max(stats["peak_open"], stats["open"])
            await asyncio.wait_for(barrier.wait(), max(1, deadline - time.time()))
            writer.write(payloads[i])
            await writer.drain()
            got = await asyncio.wait_for(reader.readexactly(len(payloads[i])), 60)
            if got != payloads[i]:
                raise AssertionError("echo corrupted")
            return len(got)
        finally:
            stats["open"] -= 1
            writer.close()
            try:
                await asyncio.wait_for(writer.wait_closed(), 5)
            except Exception:
                pass

    results = await asyncio.gather(*(one(i) for i in range(n)), return_exceptions=True)
    barrier.release()
    task.cancel()
    sampler.sample()
    errors = [r for r in results if isinstance(r, BaseException)]
    ok = [r for r in results if not isinstance(r, BaseException)]
    return {
        "connections": n, "ok": len(ok), "failed": len(errors), "bytes_echoed": sum(ok),
        "peak_open_at_once": stats["peak_open"], "seconds": round(time.time() - start, 2),
        "peak_server_rss_kb": sampler.peak_rss, "peak_server_threads": sampler.peak_threads,
        "peak_server_fds": sampler.peak_fds,
        "errors": sorted({f"{type(e).__name__}: {e}" for e in errors})[:5],
    }


async def python_handshakes(port, count, concurrency, deadline):
    ctx12 = client_context()
    ctx12.maximum_version = ssl.TLSVersion.TLSv1_2
    ctx13 = client_context()
    sem = asyncio.Semaphore(concurrency)
    done = {"ok": 0, "failed": 0, "bytes": 0, "errors": set(), "versions": {}}

    async def one(i):
        if time.time() > deadline:
            done["failed"] += 1
            done["errors"].add("time limit")
            return
        async with sem:
            payload = os.urandom(random.randint(1, 4096))
            try:
                v = await echo_connection(port, ctx12 if i % 3 == 0 else ctx13, payload)
                done["ok"] += 1
                done["bytes"] += len(payload)
                done["versions"][v] = done["versions"].get(v, 0) + 1
            except Exception as e:
                done["failed"] += 1
                done["errors"].add(f"{type(e).__name__}: {e}")

    await asyncio.gather(*(one(i) for i in range(count)))
    done["errors"] = sorted(done["errors"])[:5]
    return done


async def subprocess_clients(port, count, concurrency, make_cmd, name, deadline):
    """Runs `count` client processes, each sending a random payload that must come back."""
    sem = asyncio.Semaphore(concurrency)
    done = {"client": name, "ok": 0, "failed": 0, "bytes": 0, "errors": set()}

    async def one(i):
        async with sem:
            if time.time() > deadline:
                done["failed"] += 1
                done["errors"].add("time limit")
                return
            payload = os.urandom(random.randint(1, 3000)).hex().encode() + b"\n"
            p = await asyncio.create_subprocess_exec(*make_cmd(i), stdin=asyncio.subprocess.PIPE,
                                                     stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL)
            # Send the payload, then read until it has come back whole; then end the client
            # (s_client would otherwise wait for the echo server to close first).
            p.stdin.write(payload)
            await p.stdin.drain()
            p.stdin.close()  # tls-client sends once its input ends; s_client -ign_eof keeps reading
            out = b""
            try:
                while payload not in out:
                    chunk = await asyncio.wait_for(p.stdout.read(65536), 30)
                    if not chunk:
                        break
                    out += chunk
            except asyncio.TimeoutError:
                pass
            if payload in out:
                done["ok"] += 1
                done["bytes"] += len(payload)
            else:
                done["failed"] += 1
                done["errors"].add(f"echo missing or corrupted: {len(out)} bytes back, rc {p.returncode}")
            if p.returncode is None:
                p.terminate()
            try:
                await asyncio.wait_for(p.wait(), 5)
            except asyncio.TimeoutError:
                p.kill()
                await p.wait()

    await asyncio.gather(*(one(i) for i in range(count)))
    done["errors"] = sorted(done["errors"])[:5]
    return done


def s_time(port, seconds):
    """openssl s_time against a --www server: new handshakes for `seconds` seconds."""
    out = subprocess.run(["openssl", "s_time", "-connect", f"{HOST}:{port}", "-new", "-time", str(seconds), "-www", "/"],
                         capture_output=True, text=True, timeout=seconds + 60).stdout
    m = re.search(r"(\d+) connections in ([\d.]+)s", out)
    return {"client": "openssl s_time", "connections": int(m.group(1)) if m else 0,
            "seconds": float(m.group(2)) if m else 0.0, "summary": " / ".join(l.strip() for l in out.splitlines() if "connections" in l)}


def settle(pid, baseline, seconds=20, tolerance_kb=None):
    """Waits up to `seconds` for the server's RSS to come back near the baseline."""
    tolerance_kb = tolerance_kb if tolerance_kb is not None else max(8192, baseline // 5)
    end = time.time() + seconds
    rss = rss_kb(pid)
    while time.time() < end:
        rss = rss_kb(pid)
        if rss <= baseline + tolerance_kb and threads(pid) <= 3:
            break
        time.sleep(0.5)
    return rss, rss <= baseline + tolerance_kb, tolerance_kb


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--concurrent", type=int, default=1000)
    ap.add_argument("--handshakes", type=int, default=10000, help="total handshakes (all clients together)")
    ap.add_argument("--time-limit", type=float, default=900, help="the whole run stops after this many seconds")
    ap.add_argument("--server", default=os.path.join(ROOT, ".build", "release", "tls-server"))
    ap.add_argument("--client", default=os.path.join(ROOT, ".build", "release", "tls-client"))
    args = ap.parse_args()
    start = time.time()
    deadline = start + args.time_limit
    for tool in ("tls-server", "tls-client"):
        path = args.server if tool == "tls-server" else args.client
        if not os.access(path, os.X_OK):
            log(f"building {tool} (release) ...")
            subprocess.run(["swift", "build", "-c", "release", "--product", tool], cwd=ROOT, check=True)
    raise_fd_limit(65536)
    work = tempfile.mkdtemp(prefix="tls-load-")
    port, www_port = free_port(), free_port()
    server = start_server(args.server, port, "--echo", os.path.join(work, "cert.pem"))
    www = start_server(args.server, www_port, "--www", os.path.join(work, "cert-www.pem"))
    failed = False
    report = {}
    try:
        pid = server.pid
        report["server_rss_kb_at_start"] = rss_kb(pid)
        # Warm-up: the first handshakes allocate what stays for the life of the process.
        warm = asyncio.run(python_handshakes(port, 50, 10, deadline))
        time.sleep(1)
        baseline = rss_kb(pid)
        report["server_rss_kb_baseline_after_warmup"] = baseline
        log(f"tls-server pid {pid}: RSS {report['server_rss_kb_at_start']} kB at start, {baseline} kB after 50 warm-up handshakes")

        # 1. Concurrent connections.
        c = asyncio.run(phase_concurrent(port, args.concurrent, pid, deadline))
        report["concurrent"] = c
        log(f"concurrent: {c}")
        failed |= c["failed"] > 0 or c["peak_open_at_once"] < args.concurrent
        rss, back, tol = settle(pid, baseline)
        report["rss_after_concurrent_kb"] = rss
        log(f"RSS after the concurrent phase: {rss} kB (baseline {baseline} kB, tolerance {tol} kB): {'back' if back else 'NOT back'}")

        # 2. Handshakes from every kind of client.
        remaining = args.handshakes - args.concurrent - warm["ok"]
        n_ours = min(600, max(0, remaining // 10))
        n_ossl = min(600, max(0, remaining // 10))
        s_time_seconds = 5
        sampler = Sampler(pid)
        t0 = time.time()

        async def phase2():
            task = asyncio.ensure_future(sampler.run())
            ours = await subprocess_clients(port, n_ours, 16,
                                            lambda i: [args.client, f"{HOST}:{port}", "--insecure", "--quiet", "--wait", "0.3"]
                                            + (["--tls1_2"] if i % 2 else []), "tls-client", deadline)
            ossl = await subprocess_clients(port, n_ossl, 16,
                                            lambda i: ["openssl", "s_client", "-connect", f"{HOST}:{port}", "-quiet",
                                                       "-ign_eof"] + (["-tls1_2"] if i % 2 else []),
                                            "openssl s_client", deadline)
            task.cancel()
            return ours, ossl

        ours, ossl = asyncio.run(phase2())
        report["tls-client"], report["openssl s_client"] = ours, ossl
        log(f"tls-client: {ours}")
        log(f"openssl s_client: {ossl}")
        st = s_time(www_port, s_time_seconds)
        report["openssl s_time"] = st
        log(f"openssl s_time: {st}")
        n_python = max(0, args.handshakes - args.concurrent - warm["ok"] - ours["ok"] - ossl["ok"] - st["connections"])
        sampler2 = Sampler(pid)

        async def phase3():
            task = asyncio.ensure_future(sampler2.run())
            r = await python_handshakes(port, n_python, 64, deadline)
            task.cancel()
            return r

        py = asyncio.run(phase3())
        py["client"] = "python ssl"
        report["python ssl"] = py
        log(f"python ssl: {py}")
        report["phase2_seconds"] = round(time.time() - t0, 1)
        report["peak_server_rss_kb_phase2"] = max(sampler.peak_rss, sampler2.peak_rss)
        failed |= ours["failed"] > 0 or ossl["failed"] > 0 or py["failed"] > 0 or st["connections"] == 0
        total = warm["ok"] + c["ok"] + ours["ok"] + ossl["ok"] + py["ok"] + st["connections"]
        report["handshakes_total"] = total
        failed |= total < args.handshakes

        rss, back, tol = settle(pid, baseline)
        report["rss_after_kb"] = rss
        report["rss_back_to_baseline"] = back
        failed |= not back
        log(f"handshakes in all: {total} (warm-up {warm['ok']}, concurrent {c['ok']}, tls-client {ours['ok']}, "
            f"s_client {ossl['ok']}, s_time {st['connections']}, python {py['ok']})")
        log(f"server RSS: baseline {baseline} kB, peak {max(c['peak_server_rss_kb'], report['peak_server_rss_kb_phase2'])} kB, "
            f"after {rss} kB (tolerance {tol} kB): {'back to baseline' if back else 'NOT back to baseline'}")
        log(f"peak server threads {c['peak_server_threads']}, fds {c['peak_server_fds']}; total time {round(time.time() - start, 1)} s")
        if server.poll() is not None:
            log(f"tls-server exited with {server.returncode}")
            failed = True
    finally:
        for p in (server, www):
            p.terminate()
            try:
                p.wait(5)
            except subprocess.TimeoutExpired:
                p.kill()
    log("load: " + ("FAILED" if failed else "ok"))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
