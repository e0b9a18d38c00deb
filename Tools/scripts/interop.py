#!/usr/bin/env python3
"""Interop matrix: our tls-server / tls-client against OpenSSL 3.0 (s_server,
s_client), GnuTLS 3.7 (gnutls-serv, gnutls-cli) and Python's ssl module, all on
127.0.0.1.

    Tools/scripts/interop.py [--bin DIR] [--quick] [--filter SUBSTRING] [-j N]
                             [--keep] [--list] [-v]

Prints one line per case (PASS name / FAIL name: why / XFAIL name: why) and
ends with the line "interop: N passed, M failed"; exits 1 if any case failed.
Standard library only. Every process it starts runs in its own process group
and is killed when its case ends, and again at exit, whatever happens.
"""

import argparse
import atexit
import concurrent.futures
import hashlib
import json
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import traceback

# Cases that fail because of a bug in our library or tools (not in this script):
# they print XFAIL and do not count as failed. One line of reason each.
KNOWN_FAILURES = {
}

HOST = "127.0.0.1"
TLS13_SUITES = ["TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256"]
# OpenSSL name -> (IANA name, key type of the certificate it needs, GnuTLS kx, GnuTLS cipher)
TLS12_SUITES = {
    "ECDHE-ECDSA-AES128-GCM-SHA256": ("TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", "ec256", "ECDHE-ECDSA", "AES-128-GCM"),
    "ECDHE-ECDSA-AES256-GCM-SHA384": ("TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384", "ec384", "ECDHE-ECDSA", "AES-256-GCM"),
    "ECDHE-ECDSA-CHACHA20-POLY1305": ("TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256", "ec256", "ECDHE-ECDSA", "CHACHA20-POLY1305"),
    "ECDHE-RSA-AES128-GCM-SHA256": ("TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", "rsa", "ECDHE-RSA", "AES-128-GCM"),
    "ECDHE-RSA-AES256-GCM-SHA384": ("TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384", "rsa", "ECDHE-RSA", "AES-256-GCM"),
    "ECDHE-RSA-CHACHA20-POLY1305": ("TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256", "rsa", "ECDHE-RSA", "CHACHA20-POLY1305"),
}
GROUPS = ["x25519", "secp256r1", "secp384r1"]
GNUTLS_CIPHER = {"TLS_AES_128_GCM_SHA256": "AES-128-GCM", "TLS_AES_256_GCM_SHA384": "AES-256-GCM",
                 "TLS_CHACHA20_POLY1305_SHA256": "CHACHA20-POLY1305"}
GNUTLS_GROUP = {"x25519": "X25519", "secp256r1": "SECP256R1", "secp384r1": "SECP384R1"}
OSSL_GROUP = {"x25519": "X25519", "secp256r1": "P-256", "secp384r1": "P-384"}
# How OpenSSL's s_client names the key exchange group ("Server Temp Key: X25519, 253 bits").
OSSL_TEMP_KEY = {"x25519": "X25519", "secp256r1": "prime256v1", "secp384r1": "secp384r1"}
# The TLS 1.3 signature scheme each server certificate leads to.
SIG_SCHEME = {"rsa": "rsa_pss_rsae_sha256", "ec256": "ecdsa_secp256r1_sha256",
              "ec384": "ecdsa_secp384r1_sha384", "ed25519": "ed25519"}
CERT_KINDS = ["rsa", "ec256", "ec384", "ed25519"]
MB10 = 10 * 1024 * 1024


class CaseFailure(Exception):
    pass


def fail(msg):
    raise CaseFailure(msg)


def tail(text, n=600):
    text = text.decode("utf-8", "replace") if isinstance(text, (bytes, bytearray)) else text
    text = text.strip()
    if len(text) > n:
        text = "..." + text[-n:]
    return text.replace("\n", " | ")


# ---------------------------------------------------------------- processes

_live_lock = threading.Lock()
_live = set()
_aborting = threading.Event()   # set on interrupt: no new processes, every case fails fast
STDBUF = ["stdbuf", "-oL", "-eL"] if shutil.which("stdbuf") else []


def kill_all():
    with _live_lock:
        procs = list(_live)
    for p in procs:
        p.kill()


class Proc:
    """A child process in its own process group, its stdout and stderr read by
    threads into buffers that can be waited on."""

    def __init__(self, argv, name, cwd=None, env=None, line_buffered=True):
        self.name = name
        self.argv = argv
        full = (STDBUF if line_buffered else []) + argv
        self.out = bytearray()
        self.err = bytearray()
        self.cond = threading.Condition()
        self.eof = {"out": False, "err": False}
        self.p = subprocess.Popen(full, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                  cwd=cwd, env=env, start_new_session=True)
        with _live_lock:
            _live.add(self)
        self.readers = [threading.Thread(target=self._read, args=(self.p.stdout, self.out, "out"), daemon=True),
                        threading.Thread(target=self._read, args=(self.p.stderr, self.err, "err"), daemon=True)]
        for t in self.readers:
            t.start()

    def _read(self, stream, buf, key):
        fd = stream.fileno()
        while True:
            try:
                chunk = os.read(fd, 1 << 16)
            except OSError:
                chunk = b""
            with self.cond:
                if not chunk:
                    self.eof[key] = True
                    self.cond.notify_all()
                    return
                buf += chunk
                self.cond.notify_all()

    @property
    def text(self):
        with self.cond:
            return self.out.decode("utf-8", "replace")

    @property
    def errtext(self):
        with self.cond:
            return self.err.decode("utf-8", "replace")

    @property
    def alltext(self):
        with self.cond:
            return (self.out + b"\n" + self.err).decode("utf-8", "replace")

    def wait_until(self, predicate, deadline):
        """Waits until predicate() holds (True) or both streams ended or the deadline passed (False)."""
        with self.cond:
            while True:
                if predicate():
                    return True
                if self.eof["out"] and self.eof["err"]:
                    return predicate()
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self.cond.wait(min(left, 0.5))

    def expect(self, regex, deadline, where="all"):
        rx = re.compile(regex)
        found = []

        def check():
            buf = {"out": self.out, "err": self.err}.get(where)
            data = buf.decode("utf-8", "replace") if buf is not None else \
                (self.out + b"\n" + self.err).decode("utf-8", "replace")
            m = rx.search(data)
            if m:
                found.append(m)
            return m is not None

        if not self.wait_until(check, deadline):
            state = "exited %s" % self.p.poll() if self.p.poll() is not None else "still running"
            fail("%s did not print /%s/ (%s): %s" % (self.name, regex, state, tail(self.alltext)))
        return found[-1]

    def write(self, data):
        try:
            self.p.stdin.write(data)
            self.p.stdin.flush()
        except (BrokenPipeError, OSError, ValueError):
            pass

    def write_async(self, data, close=True):
        def run():
            self.write(data)
            if close:
                self.close_stdin()
        t = threading.Thread(target=run, daemon=True)
        t.start()
        return t

    def close_stdin(self):
        try:
            self.p.stdin.close()
        except (BrokenPipeError, OSError, ValueError):
            pass

    def wait_exit(self, deadline):
        """The exit status, or None if still running at the deadline."""
        try:
            rc = self.p.wait(timeout=max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            return None
        for t in self.readers:
            t.join(timeout=max(0.1, deadline - time.monotonic()))
        return rc

    def kill(self, grace=0.0):
        """Ends the process group this object started (TERM first if grace > 0, then KILL)."""
        if self.p.poll() is None:
            try:
                if grace > 0:
                    os.killpg(self.p.pid, signal.SIGTERM)
                    try:
                        self.p.wait(timeout=grace)
                    except subprocess.TimeoutExpired:
                        pass
                if self.p.poll() is None:
                    os.killpg(self.p.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        try:
            self.p.wait(timeout=5)
        except subprocess.TimeoutExpired:
            pass
        for t in self.readers:
            t.join(timeout=1)
        self.close_stdin()
        with _live_lock:
            _live.discard(self)


def listening_port(pid):
    """The IPv4 TCP port process pid listens on (from /proc), or None."""
    inodes = set()
    try:
        for fd in os.listdir("/proc/%d/fd" % pid):
            try:
                link = os.readlink("/proc/%d/fd/%s" % (pid, fd))
            except OSError:
                continue
            if link.startswith("socket:["):
                inodes.add(link[8:-1])
        with open("/proc/net/tcp") as f:
            for line in f.readlines()[1:]:
                fields = line.split()
                if len(fields) > 9 and fields[3] == "0A" and fields[9] in inodes:
                    return int(fields[1].split(":")[1], 16)
    except OSError:
        return None
    return None


# ---------------------------------------------------------------- environment

class Env:
    def __init__(self, bindir, tmp):
        self.bindir = bindir
        self.tmp = tmp
        self.server_bin = os.path.join(bindir, "tls-server")
        self.client_bin = os.path.join(bindir, "tls-client")
        self.certs = {}

    def cert(self, kind):
        return self.certs[kind]

    @property
    def ca(self):
        return self.certs["ca"][0]


def openssl(args, cwd):
    r = subprocess.run(["openssl"] + args, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
    if r.returncode != 0:
        raise RuntimeError("openssl %s: %s" % (" ".join(args), r.stderr.decode(errors="replace")))
    return r.stdout.decode(errors="replace")


def make_certificates(env):
    d = env.tmp
    newkey = {"rsa": ["-newkey", "rsa:2048"],
              "ec256": ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"],
              "ec384": ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-384"],
              "ed25519": ["-newkey", "ed25519"]}

    def ca(name, cn):
        openssl(["req", "-x509", "-new"] + newkey["rsa"] + ["-nodes", "-keyout", name + ".key", "-out", name + ".pem",
                "-days", "30", "-subj", "/CN=" + cn, "-addext", "basicConstraints=critical,CA:TRUE",
                "-addext", "keyUsage=critical,keyCertSign,cRLSign"], d)
        return os.path.join(d, name + ".pem"), os.path.join(d, name + ".key")

    def leaf(name, keytype, cn, san, eku, issuer):
        ext = os.path.join(d, name + ".ext")
        usage = "digitalSignature,keyEncipherment" if keytype == "rsa" else "digitalSignature"
        with open(ext, "w") as f:
            f.write("basicConstraints=CA:FALSE\nkeyUsage=critical,%s\nextendedKeyUsage=%s\n" % (usage, eku))
            if san:
                f.write("subjectAltName=%s\n" % san)
        openssl(["req", "-new"] + newkey[keytype] + ["-nodes", "-keyout", name + ".key", "-out", name + ".csr",
                "-subj", "/CN=" + cn], d)
        openssl(["x509", "-req", "-in", name + ".csr", "-CA", issuer[0], "-CAkey", issuer[1], "-set_serial",
                 str(int.from_bytes(os.urandom(8), "big")), "-days", "30", "-out", name + ".pem", "-extfile", ext], d)
        return os.path.join(d, name + ".pem"), os.path.join(d, name + ".key")

    env.certs["ca"] = ca("ca", "Interop Test CA")
    for kind in CERT_KINDS:
        env.certs[kind] = leaf("server-" + kind, kind, "localhost", "DNS:localhost,IP:127.0.0.1", "serverAuth",
                               env.certs["ca"])
    env.certs["other"] = leaf("server-other", "ec256", "other.test", "DNS:other.test", "serverAuth", env.certs["ca"])
    env.certs["client"] = leaf("client", "ec256", "Interop Client", None, "clientAuth", env.certs["ca"])
    env.certs["rogue-ca"] = ca("rogue-ca", "Rogue CA")
    env.certs["rogue"] = leaf("server-rogue", "ec256", "localhost", "DNS:localhost,IP:127.0.0.1", "serverAuth",
                              env.certs["rogue-ca"])
    env.certs["rogue-client"] = leaf("client-rogue", "ec256", "Rogue Client", None, "clientAuth", env.certs["rogue-ca"])


# ---------------------------------------------------------------- case context

class Ctx:
    def __init__(self, env, name, timeout):
        self.env = env
        self.name = name
        self.deadline = time.monotonic() + timeout
        self.procs = []

    def spawn(self, argv, name=None, line_buffered=True):
        if _aborting.is_set():
            fail("interrupted")
        if time.monotonic() > self.deadline:
            fail("case timeout")
        p = Proc(argv, name or os.path.basename(argv[0]), cwd=self.env.tmp, line_buffered=line_buffered)
        self.procs.append(p)
        return p

    def until(self, seconds):
        return min(self.deadline, time.monotonic() + seconds)

    def run(self, argv, input=b"", timeout=30, name=None):
        p = self.spawn(argv, name, line_buffered=False)
        p.write_async(input)
        rc = p.wait_exit(self.until(timeout))
        if rc is None:
            p.kill()
            fail("%s did not finish in time: %s" % (p.name, tail(p.alltext)))
        return p, rc

    def cleanup(self):
        for p in self.procs:
            p.kill(grace=0.3)


def payload_lines(n=64, tag="interop"):
    return b"".join(b"%s-%d-%s\n" % (tag.encode(), i, secrets.token_hex(24).encode()) for i in range(n))


def check(what, got, want):
    if got != want:
        fail("%s: got %r, want %r" % (what, got, want))


# ---------------------------------------------------------------- our tools

def our_server(ctx, args=(), certs=("ec256",), max_connections=1):
    argv = [ctx.env.server_bin, "--host", HOST, "--port", "0", "--max-connections", str(max_connections),
            "--timeout", "20"]
    for kind in certs:
        cert, key = ctx.env.cert(kind)
        argv += ["--cert", cert, "--key", key]
    argv += list(args)
    p = ctx.spawn(argv, "tls-server")
    m = p.expect(r"listening on 127\.0\.0\.1:(\d+)", ctx.until(15), where="out")
    return p, int(m.group(1))


HS_KEYS = ["protocol", "cipher", "group", "alpn", "server name", "hello retry", "resumed", "early data", "record size limit",
           "client certificate"]


def server_handshake(ctx, server, index=1):
    """The fields of our server's "[n] handshake: ..." line for connection n."""
    m = server.expect(r"\[%d\] (handshake: .*|connection failed: .*)\n" % index, ctx.until(15), where="out")
    line = m.group(1)
    if line.startswith("connection failed"):
        fail("our server: %s" % line)
    fields = {}
    body = line[len("handshake: "):]
    parts = re.split(r", (?=(?:%s): )" % "|".join(re.escape(k) for k in HS_KEYS), body)
    for part in parts:
        k, _, v = part.partition(": ")
        fields[k] = v
    return fields


def server_failure(ctx, server, index=1):
    m = server.expect(r"\[%d\] (handshake: .*|connection failed: .*)\n" % index, ctx.until(15), where="out")
    if not m.group(1).startswith("connection failed"):
        fail("our server completed a handshake it should have refused: %s" % m.group(1))
    return m.group(1)


def check_server(fields, **want):
    for k, v in want.items():
        key = k.replace("_", " ")
        if v is None:
            continue
        got = fields.get(key)
        if hasattr(v, "search"):
            if got is None or not v.search(got):
                fail("our server %s: got %r, want /%s/" % (key, got, v.pattern))
        else:
            check("our server " + key, got, v)


def our_client(ctx, port, args=(), payload=b"", get=None, wait=1.0, servername="localhost", cafile=True,
               timeout=40, expect_ok=True):
    argv = [ctx.env.client_bin, "%s:%d" % (HOST, port), "--wait", str(wait)]
    if servername:
        argv += ["--servername", servername]
    if cafile:
        argv += ["--cafile", ctx.env.ca]
    if get:
        argv += ["--get", get]
    argv += list(args)
    p, rc = ctx.run(argv, input=payload, timeout=timeout, name="tls-client")
    out = bytes(p.out)
    res = {"rc": rc, "stderr": p.errtext.strip(), "raw": out}
    if rc != 0:
        if expect_ok:
            fail("tls-client exited %d: %s" % (rc, tail(p.errtext or out)))
        return res
    if not expect_ok:
        fail("tls-client succeeded where it should have failed: %s" % tail(out[-400:]))
    i = out.rfind(b"\n---\n")
    if i < 0:
        fail("tls-client printed no status block: %s" % tail(out[-400:]))
    status = {}
    for line in out[i + 5:].decode("utf-8", "replace").splitlines():
        k, sep, v = line.partition(": ")
        if sep:
            status[k] = v
    n = int(status.get("bytes received", "-1"))
    if n != i:
        fail("tls-client: bytes received says %d but %d bytes were printed" % (n, i))
    res.update(status)
    res["data"] = out[:i]
    return res


def check_client(res, **want):
    for k, v in want.items():
        if v is None:
            continue
        key = k.replace("_", " ")
        check("tls-client " + key, res.get(key), v)


# ---------------------------------------------------------------- peers

def ossl_server(ctx, args, naccept=1, www=True):
    argv = ["openssl", "s_server", "-accept", "%s:0" % HOST, "-naccept", str(naccept)]
    if www:
        argv.append("-www")
    argv += list(args)
    p = ctx.spawn(argv, "openssl s_server")
    m = p.expect(r"ACCEPT 127\.0\.0\.1:(\d+)", ctx.until(15))
    return p, int(m.group(1))


def gnutls_server(ctx, args):
    argv = ["gnutls-serv", "-p", "0", "--echo"] + list(args)
    p = ctx.spawn(argv, "gnutls-serv")
    deadline = ctx.until(15)
    while time.monotonic() < deadline:
        port = listening_port(p.p.pid)
        if port:
            return p, port
        if p.p.poll() is not None:
            break
        time.sleep(0.05)
    fail("gnutls-serv did not start listening: %s" % tail(p.alltext))


def ossl_client(ctx, port, args, steps, sni="localhost", verify=True, commands=False, name="openssl s_client"):
    """Runs s_client interactively: waits for the handshake, then for each step
    either writes bytes (("send", b"...")) or waits for a regex (("expect", rx)) or
    for bytes to come back (("echo", b"...")); finally closes stdin and waits."""
    argv = ["openssl", "s_client", "-connect", "%s:%d" % (HOST, port)]
    if sni:
        argv += ["-servername", sni]
    if verify:
        argv += ["-CAfile", ctx.env.ca, "-verify_return_error"]
        if sni:
            argv += ["-verify_hostname", sni]
    if not commands:
        argv.append("-nocommands")
    argv += list(args)
    p = ctx.spawn(argv, name)
    p.expect(r"Verify return code: \d+", ctx.until(20), where="out")
    if re.search(r"New, \(NONE\), Cipher is \(NONE\)", p.text):
        p.wait_exit(ctx.until(3))
        errors = [l for l in p.alltext.splitlines() if ":error:" in l or "alert" in l]
        fail("%s: handshake failed: %s" % (name, " | ".join(errors) or tail(p.alltext)))
    run_steps(ctx, p, steps)
    p.close_stdin()
    rc = p.wait_exit(ctx.until(10))
    if rc is None:
        fail("%s did not exit after its stdin closed: %s" % (name, tail(p.text)))
    return p, rc


def run_steps(ctx, p, steps):
    for kind, arg in steps:
        if kind == "send":
            p.write(arg)
        elif kind == "expect":
            p.expect(arg, ctx.until(15))
        elif kind == "echo":
            if not p.wait_until(lambda: arg in p.out, ctx.until(15)):
                fail("%s: the data sent did not come back intact: %s" % (p.name, tail(p.alltext)))
        elif kind == "sleep":
            time.sleep(arg)


def ossl_client_info(text):
    info = {}
    m = re.search(r"New, (TLSv1\.[0-3]|SSLv3|\(NONE\)), Cipher is (\S+)", text)
    if m:
        info["protocol"], info["cipher"] = m.group(1), m.group(2)
    m = re.search(r"Server Temp Key: (?:ECDH, )?([A-Za-z0-9-]+),", text)
    if m:
        info["group"] = m.group(1)
    m = re.search(r"ALPN protocol: (\S+)", text)
    info["alpn"] = m.group(1) if m else None
    m = re.search(r"Verify return code: (\d+) \(([^)]*)\)", text)
    if m:
        info["verify"] = m.group(2)
    m = re.search(r"^subject=(.*)$", text, re.M)
    if m:
        info["subject"] = m.group(1).strip()
    return info


def check_ossl_client(p, protocol=None, cipher=None, group=None, alpn=None, subject=None):
    info = ossl_client_info(p.text)
    check("s_client verification", info.get("verify"), "ok")
    if protocol:
        check("s_client protocol", info.get("protocol"), protocol)
    if cipher:
        check("s_client cipher", info.get("cipher"), cipher)
    if group:
        check("s_client group", info.get("group"), OSSL_TEMP_KEY[group])
    if alpn:
        check("s_client alpn", info.get("alpn"), alpn)
    if subject:
        check("s_client peer subject", info.get("subject"), subject)
    return info


def gnutls_client(ctx, port, priority, args, steps, sni="localhost", name="gnutls-cli"):
    argv = ["gnutls-cli", HOST, "-p", str(port), "--x509cafile", ctx.env.ca, "--priority", priority]
    if sni:
        argv += ["--sni-hostname", sni, "--verify-hostname", sni]
    argv += list(args)
    p = ctx.spawn(argv, name)
    p.expect(r"- Simple Client Mode|\*\*\* Fatal error.*|Error.*", ctx.until(20))
    if "Simple Client Mode" not in p.alltext:
        fail("gnutls-cli handshake failed: %s" % tail(p.alltext))
    run_steps(ctx, p, steps)
    p.close_stdin()
    rc = p.wait_exit(ctx.until(10))
    if rc is None:
        fail("gnutls-cli did not exit after its stdin closed: %s" % tail(p.alltext))
    return p, rc


def gnutls_description(text):
    m = re.search(r"- Description: (.*)", text)
    return m.group(1).strip() if m else ""


def check_gnutls_client(p, version, cipher, group=None, alpn=None, subject=None):
    text = p.alltext
    if "The certificate is trusted" not in text:
        fail("gnutls-cli did not trust our certificate: %s" % tail(text))
    desc = gnutls_description(text)
    if "(%s-" % version not in desc or (cipher and "(%s)" % cipher not in desc):
        fail("gnutls-cli negotiated %r, want %s and %s" % (desc, version, cipher or "any cipher"))
    if group and GNUTLS_GROUP[group] not in desc:
        fail("gnutls-cli negotiated %r, want group %s" % (desc, GNUTLS_GROUP[group]))
    if alpn:
        m = re.search(r"- Application protocol: (\S+)", text)
        check("gnutls-cli alpn", m.group(1) if m else None, alpn)
    if subject:
        m = re.search(r"subject `([^']*)'", text)
        check("gnutls-cli peer subject", m.group(1) if m else None, subject)


PY_CLIENT = r'''
import hashlib, json, os, select, socket, ssl, sys, time
cfg = json.loads(sys.argv[1])
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
ctx.load_verify_locations(cfg["ca"])
if cfg.get("max12"):
    ctx.maximum_version = ssl.TLSVersion.TLSv1_2
if cfg.get("min13"):
    ctx.minimum_version = ssl.TLSVersion.TLSv1_3
if cfg.get("ciphers"):
    ctx.set_ciphers(cfg["ciphers"])
if cfg.get("curve"):
    ctx.set_ecdh_curve(cfg["curve"])
if cfg.get("alpn"):
    ctx.set_alpn_protocols(cfg["alpn"])
if cfg.get("cert"):
    ctx.load_cert_chain(cfg["cert"], cfg["key"])
timeout = cfg.get("timeout", 60)
deadline = time.monotonic() + timeout
raw = socket.create_connection(("127.0.0.1", cfg["port"]), timeout=timeout)
s = ctx.wrap_socket(raw, server_hostname=cfg["sni"])
subject = dict(x[0] for x in s.getpeercert()["subject"])
info = {"version": s.version(), "cipher": s.cipher()[0], "alpn": s.selected_alpn_protocol(),
        "subject": subject.get("commonName")}
n = cfg["bytes"]
data = os.urandom(n)
sent_hash = hashlib.sha256(data).hexdigest()
recv_hash = hashlib.sha256()
sent = received = 0
s.setblocking(False)
while received < n:
    if time.monotonic() > deadline:
        raise SystemExit("timeout: sent %d, received %d of %d" % (sent, received, n))
    if s.pending() == 0:
        select.select([s], [s] if sent < n else [], [], 1.0)
    if sent < n:
        try:
            sent += s.send(data[sent:sent + 65536])
        except (ssl.SSLWantWriteError, ssl.SSLWantReadError):
            pass
    while True:
        try:
            chunk = s.recv(1 << 17)
        except (ssl.SSLWantReadError, ssl.SSLWantWriteError):
            break
        if not chunk:
            raise SystemExit("connection closed after %d of %d bytes" % (received, n))
        recv_hash.update(chunk)
        received += len(chunk)
s.setblocking(True)
s.settimeout(10)
try:
    s.unwrap()
except (OSError, ssl.SSLError) as e:
    info["unwrap"] = repr(e)
s.close()
info.update(sent=sent, received=received, sent_sha256=sent_hash, received_sha256=recv_hash.hexdigest())
print(json.dumps(info))
'''


def python_client(ctx, port, nbytes=4096, sni="localhost", timeout=60, **cfg):
    cfg.update(port=port, ca=ctx.env.ca, sni=sni, bytes=nbytes, timeout=timeout)
    p, rc = ctx.run([sys.executable, "-c", PY_CLIENT, json.dumps(cfg)], timeout=timeout + 10, name="python ssl client")
    if rc != 0:
        fail("python ssl client exited %d: %s" % (rc, tail(p.errtext, 800)))
    try:
        info = json.loads(p.text.strip().splitlines()[-1])
    except (ValueError, IndexError):
        fail("python ssl client printed no result: %s" % tail(p.alltext))
    check("python bytes echoed", info["received"], nbytes)
    if info["received_sha256"] != info["sent_sha256"]:
        fail("python ssl client: SHA-256 of the echo differs from what was sent")
    return info


# ---------------------------------------------------------------- case bodies

def ossl_version_args(tls, suite):
    """Version and suite arguments for an OpenSSL peer and for our tool, and what both
    should then report: (OpenSSL's args, ours, IANA suite name, OpenSSL's suite name,
    the key kind the suite wants)."""
    if tls == "1.3":
        cipher = suite or "TLS_AES_128_GCM_SHA256"
        return ["-tls1_3"] + (["-ciphersuites", suite] if suite else []), ["--tls1_3"], cipher, cipher, "ec256"
    suite = suite or "ECDHE-ECDSA-AES128-GCM-SHA256"
    iana, kind, _, _ = TLS12_SUITES[suite]
    return ["-tls1_2", "-cipher", suite], ["--tls1_2"], iana, suite, kind


def c_ossl(ctx, tls="1.3", suite=None, group=None, cert=None, hrr=False, client_cert=False, alpn=False,
           sni=False, keyupdate=False, ours_any_version=False):
    """Our client against openssl s_server -www. ours_any_version: only the peer is
    limited to the version, our client offers both."""
    sargs, cargs, want_cipher, ossl_cipher, kind = ossl_version_args(tls, suite)
    cert = cert or kind
    if ours_any_version:
        cargs = []
    want_group = group or "x25519"
    c, k = ctx.env.cert(cert)
    sargs += ["-cert", c, "-key", k]
    if group:
        sargs += ["-groups", OSSL_GROUP[group]]
        cargs += ["--groups", group]
    if hrr:
        sargs += ["-groups", "P-384"]
        cargs += ["--groups", "x25519:secp384r1"]
        want_group = "secp384r1"
    if client_cert:
        sargs += ["-Verify", "1", "-CAfile", ctx.env.ca, "-verify_return_error"]
        cc, ck = ctx.env.cert("client")
        cargs += ["--cert", cc, "--key", ck]
    if alpn:
        sargs += ["-alpn", "h2,http/1.1"]
        cargs += ["--alpn", "spdy/1,http/1.1"]
    if keyupdate:
        sargs += ["-msg"]
        cargs += ["--keyupdate"]
    naccept = 1
    if sni:
        oc, ok = ctx.env.cert("other")
        sargs = [a for a in sargs]
        i = sargs.index("-cert")
        sargs[i + 1], sargs[i + 3] = oc, ok          # default certificate: other.test
        sargs += ["-servername", "localhost", "-cert2", c, "-key2", k]
        naccept = 2
    server, port = ossl_server(ctx, sargs, naccept=naccept)
    names = ["localhost", "other.test"] if sni else ["localhost"]
    for name in names:
        res = our_client(ctx, port, cargs, get="/", servername=name)
        want_subject = "CN=other.test" if name == "other.test" else "CN=localhost"
        check_client(res, protocol="TLSv" + tls, cipher=want_cipher, group=want_group,
                     hello_retry="yes" if hrr else "no", verification="ok", peer_subject=want_subject,
                     peer_issuer="CN=Interop Test CA", alpn="http/1.1" if alpn else "none",
                     signature_scheme=SIG_SCHEME[cert] if tls == "1.3" and name == "localhost" else None)
        page = res["data"].decode("utf-8", "replace")
        if not page.startswith("HTTP/1.0 200 ok") or not page.rstrip().endswith("</HTML>"):
            fail("the s_server page did not arrive intact: %s" % tail(page[:200] + " ... " + page[-200:]))
        wants = ["Protocol  : TLSv" + tls, "Cipher    : " + ossl_cipher]
        if tls == "1.2":  # RFC 7627 and RFC 5746, as s_server saw them
            wants += ["Extended master secret: yes", "Secure Renegotiation IS supported"]
        for want in wants:
            if want not in page:
                fail("s_server's page does not say %r" % want)
        if client_cert and "no client certificate available" in page:
            fail("s_server saw no client certificate")
    rc = server.wait_exit(ctx.until(5))
    if keyupdate:
        text = server.text
        if not re.search(r"<<< TLS 1\.3, Handshake \[length 0005\], KeyUpdate", text):
            fail("s_server did not receive our KeyUpdate: %s" % tail(text))
        if not re.search(r">>> TLS 1\.3, Handshake \[length 0005\], KeyUpdate", text):
            fail("s_server did not answer our KeyUpdate request")
    if rc not in (0, None):
        fail("s_server exited %s: %s" % (rc, tail(server.alltext)))


def gnutls_priority(tls, suite=None, group=None, groups=None, kx=None):
    prio = "NORMAL:-VERS-ALL:+VERS-TLS" + tls
    if suite:
        prio += ":-CIPHER-ALL:+" + suite
    if kx:
        prio += ":-KX-ALL:+" + kx
    if group:
        prio += ":-GROUP-ALL:+GROUP-" + GNUTLS_GROUP[group]
    if groups:
        prio += ":-GROUP-ALL" + "".join(":+GROUP-" + GNUTLS_GROUP[g] for g in groups)
    return prio


def c_gnutls(ctx, tls="1.3", suite=None, group=None, cert=None, hrr=False, client_cert=False, alpn=False,
             sni=False, keyupdate=False, record_limit=False):
    """Our client against gnutls-serv --echo."""
    if tls == "1.3":
        cert = cert or "ec256"
        prio = gnutls_priority("1.3", suite=GNUTLS_CIPHER[suite] if suite else None,
                               group=group, groups=["secp384r1"] if hrr else None)
        want_cipher = suite or None
        cargs = ["--tls1_3"]
    else:
        suite = suite or "ECDHE-ECDSA-AES128-GCM-SHA256"
        iana, kind, kx, gc = TLS12_SUITES[suite]
        cert = cert or kind
        prio = gnutls_priority("1.2", suite=gc, kx=kx, group=group)
        want_cipher = iana
        cargs = ["--tls1_2"]
    c, k = ctx.env.cert(cert)
    sargs = ["--priority", prio]
    if sni:
        oc, ok = ctx.env.cert("other")
        sargs += ["--x509certfile", oc, "--x509keyfile", ok]
    sargs += ["--x509certfile", c, "--x509keyfile", k]
    want_group = group or ("secp384r1" if hrr else "x25519")
    if group:
        cargs += ["--groups", group]
    if hrr:
        cargs += ["--groups", "x25519:secp384r1"]
    if client_cert:
        sargs += ["--require-client-cert", "--verify-client-cert", "--x509cafile", ctx.env.ca]
        cc, ck = ctx.env.cert("client")
        cargs += ["--cert", cc, "--key", ck]
    if alpn:
        sargs += ["--alpn", "h2", "--alpn", "http/1.1"]
        cargs += ["--alpn", "spdy/1,http/1.1"]
    if keyupdate:
        sargs += ["-d", "4"]
        cargs += ["--keyupdate"]
    if record_limit:  # RFC 8449 both ways (GnuTLS accepts no limit below 512): a larger record would be record_overflow
        sargs += ["--recordsize", "1024"]
        cargs += ["--record-size-limit", "600"]
    server, port = gnutls_server(ctx, sargs)
    names_done = []
    for name in (["localhost", "other.test"] if sni else ["localhost"]):
        payload = payload_lines(64, "gnutls")
        res = our_client(ctx, port, cargs, payload=payload, servername=name, wait=1.0)
        check_client(res, protocol="TLSv" + tls, cipher=want_cipher, group=want_group,
                     hello_retry="yes" if hrr else "no", verification="ok",
                     peer_subject="CN=other.test" if name == "other.test" else "CN=localhost",
                     alpn="http/1.1" if alpn else "none",
                     signature_scheme=SIG_SCHEME[cert] if tls == "1.3" and name == "localhost" else None)
        if res["data"] != payload:
            fail("gnutls-serv's echo differs from what we sent (%d bytes sent, %d back)" % (len(payload), len(res["data"])))
        # In TLS 1.3 the limit counts the content type byte too: GnuTLS says 1024 + 1 there.
        check("record size limit", res.get("record size limit"),
              ("peer 1025, ours 600" if tls == "1.3" else "peer 1024, ours 600") if record_limit else "none")
        # gnutls-serv's own view of the connection must match ours.
        count = len(names_done) + 1
        names_done.append(name)
        if not server.wait_until(lambda: len(re.findall(r"- Description: ", server.out.decode("utf-8", "replace")))
                                 >= count, ctx.until(5)):
            fail("gnutls-serv logged no description of the connection: %s" % tail(server.text))
        desc = re.findall(r"- Description: (.*)", server.text)[count - 1]
        gn_cipher = GNUTLS_CIPHER.get(res["cipher"]) or \
            next((v[3] for v in TLS12_SUITES.values() if v[0] == res["cipher"]), "?")
        for token in ("(TLS%s-" % tls, "(%s)" % gn_cipher, GNUTLS_GROUP[res["group"]]):
            if token not in desc:
                fail("gnutls-serv says %r, we say %s %s %s" % (desc, res["protocol"], res["cipher"], res["group"]))
    if keyupdate:
        if not server.wait_until(lambda: b"received TLS 1.3 key update (1)" in server.err, ctx.until(3)):
            fail("gnutls-serv did not log our KeyUpdate (update_requested)")


def s_ossl(ctx, tls="1.3", suite=None, group=None, cert=None, hrr=False, client_cert=False, alpn=False,
           sni=False, keyupdate_client=False, keyupdate_server=False, reneg_client=False, reneg_server=False,
           server_certs=None, sigalgs=None, key_bits=None, peer_any_version=False):
    """openssl s_client against our echo server. server_certs: the certificates our
    server holds (it must choose); key_bits: the size of the key s_client must get."""
    cargs, sargs, want_cipher, ossl_cipher, kind = ossl_version_args(tls, suite)
    if cert or tls == "1.3":
        certs = [cert or kind]
    else:  # the suite's key kind and an RSA one: our server must pick by the suite
        certs = ["rsa", "ec256"] if kind == "rsa" else [kind, "rsa"]
    want_group = group or "x25519"
    if peer_any_version:  # s_client offers TLS 1.3 too: our TLS 1.2-only server must not send a downgrade sentinel
        cargs = [a for a in cargs if a not in ("-tls1_2", "-tls1_3")]
    if server_certs:
        certs = server_certs
    if sigalgs:
        cargs += ["-sigalgs", sigalgs]
    if group:
        cargs += ["-groups", OSSL_GROUP[group]]
    if hrr:
        sargs += ["--hrr", "--groups", "secp384r1:x25519"]
        cargs += ["-groups", "X25519:P-384"]
        want_group = "secp384r1"
    if client_cert:
        sargs += ["--verify-client", "require", "--cafile", ctx.env.ca]
        cc, ck = ctx.env.cert("client")
        cargs += ["-cert", cc, "-key", ck]
    if alpn:
        sargs += ["--alpn", "h2,http/1.1"]
        cargs += ["-alpn", "spdy/1,http/1.1"]
    if keyupdate_client or keyupdate_server or reneg_client or reneg_server:
        cargs += ["-msg"]
    names = ["localhost"]
    if sni:
        certs = ["other", cert or "ec256"]
        names = ["localhost", "other.test"]
    if reneg_server:
        cargs += ["-nbio"]  # else s_client blocks in SSL_read after the renegotiation and stops reading stdin
    server, port = our_server(ctx, sargs, certs=certs, max_connections=len(names))
    for idx, name in enumerate(names, 1):
        payload = payload_lines(16, "ossl")
        steps = []
        if keyupdate_client:
            steps += [("send", b"K\n"), ("expect", r"KEYUPDATE"),
                      ("expect", r"<<< TLS 1\.3, Handshake \[length 0005\], KeyUpdate")]
        if keyupdate_server:
            # OpenSSL answers an update_requested KeyUpdate with its next write.
            first = payload_lines(4, "before-keyupdate-answer")
            steps += [("send", b"RENEGOTIATE\n"), ("echo", b"RENEGOTIATE\n"),
                      ("expect", r"<<< TLS 1\.3, Handshake \[length 0005\], KeyUpdate"),
                      ("send", first), ("echo", first),
                      ("expect", r">>> TLS 1\.3, Handshake \[length 0005\], KeyUpdate")]
        if reneg_client:
            steps += [("send", b"R\n"), ("expect", r"RENEGOTIATING"),
                      ("expect", r"(?s)ServerHello.*ServerHello.*<<< TLS 1\.2, Handshake \[length [0-9a-f]+\], Finished.*"
                                 r"<<< TLS 1\.2, Handshake \[length [0-9a-f]+\], Finished")]
        if reneg_server:
            steps += [("send", b"RENEGOTIATE\n"), ("echo", b"RENEGOTIATE\n"),
                      ("expect", r"<<< TLS 1\.2, Handshake \[length 0004\], HelloRequest"),
                      ("expect", r"(?s)ServerHello.*ServerHello.*<<< TLS 1\.2, Handshake \[length [0-9a-f]+\], Finished.*"
                                 r"<<< TLS 1\.2, Handshake \[length [0-9a-f]+\], Finished")]
        steps += [("send", payload), ("echo", payload)]
        p, rc = ossl_client(ctx, port, cargs, steps, sni=name, commands=keyupdate_client or reneg_client)
        check_ossl_client(p, protocol="TLSv" + tls, cipher=ossl_cipher, group=want_group,
                          alpn="http/1.1" if alpn else None,
                          subject="CN = other.test" if name == "other.test" else "CN = localhost")
        if key_bits:
            m = re.search(r"Server public key is (\d+) bit", p.text)
            check("s_client server key size", int(m.group(1)) if m else None, key_bits)
        if tls == "1.2":
            for want in ("Extended master secret: yes", "Secure Renegotiation IS supported"):
                if want not in p.text:
                    fail("s_client does not say %r" % want)
        fields = server_handshake(ctx, server, idx)
        check_server(fields, protocol="TLSv" + tls, cipher=want_cipher, group=want_group,
                     hello_retry="yes" if hrr else "no", alpn="http/1.1" if alpn else "none",
                     server_name=name,
                     client_certificate=re.compile(r"^CN=Interop Client \(issuer CN=Interop Test CA, ok\)$")
                     if client_cert else "none")


def s_gnutls(ctx, tls="1.3", suite=None, group=None, cert=None, hrr=False, client_cert=False, alpn=False,
             sni=False, keyupdate_client=False, keyupdate_server=False, reneg_client=False, reneg_server=False,
             record_limit=False):
    """gnutls-cli against our echo server."""
    if tls == "1.3":
        cert = cert or "ec256"
        certs = [cert]
        prio = gnutls_priority("1.3", suite=GNUTLS_CIPHER[suite] if suite else None, group=group,
                               groups=["x25519", "secp384r1"] if hrr else None)
        want_cipher = suite or None
        gn_cipher = GNUTLS_CIPHER[suite] if suite else "AES-"
        sargs = ["--tls1_3"]
    else:
        suite = suite or "ECDHE-ECDSA-AES128-GCM-SHA256"
        iana, kind, kx, gn_cipher = TLS12_SUITES[suite]
        certs = [cert or kind] if cert else ["rsa", "ec256"] if kind == "rsa" else [kind, "rsa"]
        prio = gnutls_priority("1.2", suite=gn_cipher, kx=kx, group=group)
        want_cipher = iana
        sargs = ["--tls1_2"]
    cargs = []
    want_group = group or ("secp384r1" if hrr else "x25519")
    if hrr:
        sargs += ["--hrr", "--groups", "secp384r1:x25519"]
        cargs += ["--single-key-share"]
    if client_cert:
        sargs += ["--verify-client", "require", "--cafile", ctx.env.ca]
        cc, ck = ctx.env.cert("client")
        cargs += ["--x509certfile", cc, "--x509keyfile", ck]
    if alpn:
        sargs += ["--alpn", "h2,http/1.1"]
        cargs += ["--alpn", "spdy/1", "--alpn", "http/1.1"]
    if keyupdate_client:
        cargs += ["--inline-commands"]
    if keyupdate_server:
        cargs += ["-d", "4"]
    if reneg_client:
        cargs += ["--rehandshake"]
    if record_limit:
        sargs += ["--record-size-limit", "600"]
        cargs += ["--recordsize", "1024"]
    names = ["localhost"]
    if sni:
        certs = ["other", cert or "ec256"]
        names = ["localhost", "other.test"]
    server, port = our_server(ctx, sargs, certs=certs, max_connections=len(names))
    for idx, name in enumerate(names, 1):
        payload = payload_lines(16, "gnutls")
        steps = []
        if record_limit:
            # Lines just under our limit, one at a time: gnutls-cli sends what it read in one
            # gnutls_record_send and drops whatever one record under the peer's limit does not take.
            for i in range(8):
                line = b"gnutls-%d-%s\n" % (i, secrets.token_hex(280).encode())
                steps += [("send", line), ("echo", line)]
        if keyupdate_client:
            steps += [("send", b"^rekey^\n"), ("expect", r"- Rekey was completed")]
        if keyupdate_server:
            steps += [("send", b"RENEGOTIATE\n"), ("echo", b"RENEGOTIATE\n"),
                      ("expect", r"received TLS 1\.3 key update \(1\)")]
        if reneg_client:
            steps += [("expect", r"- ReHandshake was completed")]
        if reneg_server:
            # gnutls-cli 3.7 reports a server-initiated rehandshake as "*** Rehandshake was performed."
            steps += [("send", b"RENEGOTIATE\n"), ("echo", b"RENEGOTIATE\n"),
                      ("expect", r"Re[Hh]andshake was (completed|performed)")]
        if not record_limit:
            steps += [("send", payload), ("echo", payload)]
        p, rc = gnutls_client(ctx, port, prio, cargs, steps, sni=name)
        check_gnutls_client(p, "TLS" + tls, gn_cipher if suite else None, group=want_group,
                            alpn="http/1.1" if alpn else None,
                            subject="CN=other.test" if name == "other.test" else "CN=localhost")
        fields = server_handshake(ctx, server, idx)
        check_server(fields, protocol="TLSv" + tls, cipher=want_cipher, group=want_group,
                     hello_retry="yes" if hrr else "no", alpn="http/1.1" if alpn else "none",
                     server_name=name,
                     client_certificate=re.compile(r"^CN=Interop Client \(issuer CN=Interop Test CA, ok\)$")
                     if client_cert else "none")
        if record_limit:
            check("our server's record size limit", fields.get("record size limit"),
                  "peer 1025, ours 600" if tls == "1.3" else "peer 1024, ours 600")
        if not want_cipher and fields.get("cipher") in GNUTLS_CIPHER:  # both sides agree on the suite used
            if "(%s)" % GNUTLS_CIPHER[fields["cipher"]] not in gnutls_description(p.alltext):
                fail("gnutls-cli says %r, our server %s" % (gnutls_description(p.alltext), fields["cipher"]))


def s_python(ctx, tls="1.3", suite=None, group=None, cert=None, hrr=False, client_cert=False, alpn=False,
             sni=False, nbytes=8192, peer_any_version=False):
    """Python's ssl module against our echo server."""
    cfg = {}
    if tls == "1.3":
        cert = cert or "ec256"
        certs = [cert]
        sargs = ["--tls1_3"]
        want_cipher = None
        cfg["min13"] = True
    else:
        iana, kind, _, _ = TLS12_SUITES[suite]
        certs = ["rsa", "ec256"] if kind == "rsa" else [kind, "rsa"]
        sargs = ["--tls1_2"]
        cfg.update(max12=not peer_any_version, ciphers=suite)
        want_cipher = iana
    want_group = group or "x25519"
    if group:  # SSLContext.set_ecdh_curve limits the client's groups to that one curve
        cfg["curve"] = {"secp256r1": "prime256v1", "secp384r1": "secp384r1"}[group]
    if hrr:
        sargs += ["--hrr", "--groups", "secp384r1:x25519"]
        want_group = "secp384r1"
    if client_cert:
        sargs += ["--verify-client", "require", "--cafile", ctx.env.ca]
        cfg["cert"], cfg["key"] = ctx.env.cert("client")
    if alpn:
        sargs += ["--alpn", "h2,http/1.1"]
        cfg["alpn"] = ["spdy/1", "http/1.1"]
    names = ["localhost"]
    if sni:
        certs = ["other", cert]
        names = ["localhost", "other.test"]
    server, port = our_server(ctx, sargs, certs=certs, max_connections=len(names))
    for idx, name in enumerate(names, 1):
        info = python_client(ctx, port, nbytes=nbytes, sni=name, **cfg)
        check("python protocol", info["version"], "TLSv" + tls)
        if suite:
            check("python cipher", info["cipher"], suite)
        check("python alpn", info["alpn"], "http/1.1" if alpn else None)
        check("python peer subject", info["subject"], name)
        fields = server_handshake(ctx, server, idx)
        check_server(fields, protocol="TLSv" + tls, cipher=want_cipher, group=want_group,
                     hello_retry="yes" if hrr else "no", alpn="http/1.1" if alpn else "none",
                     server_name=name,
                     client_certificate=re.compile(r"^CN=Interop Client \(issuer CN=Interop Test CA, ok\)$")
                     if client_cert else "none")
        if tls == "1.3":  # Python cannot choose TLS 1.3 suites: both sides must agree on the one used
            check("python cipher", info["cipher"], fields.get("cipher"))


# -- TLS 1.2 renegotiation started by our client

def c_ossl_renegotiate(ctx):
    """Our client renegotiates right after the handshake and sends nothing; s_server
    (default mode, which sends its stdin) writes a line once it has seen the second
    handshake finish."""
    c, k = ctx.env.cert("ec256")
    server, port = ossl_server(ctx, ["-tls1_2", "-cert", c, "-key", k, "-client_renegotiation", "-msg"], www=False)
    client = ctx.spawn([ctx.env.client_bin, "%s:%d" % (HOST, port), "--servername", "localhost", "--cafile", ctx.env.ca,
                        "--tls1_2", "--renegotiate", "--wait", "1.5"], "tls-client")
    client.close_stdin()
    # The second handshake: a second ClientHello, then the client's and the server's Finished.
    second = re.compile(r"(?s)ClientHello.*ClientHello.*<<< TLS 1\.2, Handshake \[length [0-9a-f]+\], Finished.*"
                        r">>> TLS 1\.2, Handshake \[length [0-9a-f]+\], Finished")
    server.wait_until(lambda: second.search(server.out.decode("utf-8", "replace")) or client.p.poll() is not None,
                      ctx.until(15))
    if not second.search(server.text):
        client.wait_exit(ctx.until(3))
        alerts = re.findall(r">>> TLS 1\.2, Alert \[length 0002\], (.*)", server.text)
        fail("the renegotiation did not complete: s_server sent %s; tls-client: %s" %
             (alerts or "no alert", client.errtext.strip() or "exit %s" % client.p.poll()))
    line = b"after-renegotiation-" + secrets.token_hex(16).encode() + b"\n"
    server.write(line)
    rc = client.wait_exit(ctx.until(20))
    if rc != 0:
        fail("tls-client exited %s: %s" % (rc, tail(client.alltext)))
    if line not in client.out:
        fail("the line s_server sent after the renegotiation did not arrive: %s" % tail(client.text))
    if "protocol: TLSv1.2" not in client.text:
        fail("tls-client did not report TLSv1.2: %s" % tail(client.text))


def c_renegotiate_with_data(ctx, peer):
    c, k = ctx.env.cert("ec256")
    if peer == "ossl":
        server, port = ossl_server(ctx, ["-tls1_2", "-cert", c, "-key", k, "-client_renegotiation", "-msg"])
        res = our_client(ctx, port, ["--tls1_2", "--renegotiate"], get="/", wait=3.0)
        page = res["data"].decode("utf-8", "replace")
        if not page.startswith("HTTP/1.0 200 ok"):
            fail("the s_server page did not arrive: %s" % tail(page))
        server.expect(r"(?s)ClientHello.*ClientHello", ctx.until(5))
    else:
        server, port = gnutls_server(ctx, ["--priority", gnutls_priority("1.2"), "--x509certfile", c,
                                           "--x509keyfile", k])
        payload = payload_lines(8, "reneg")
        res = our_client(ctx, port, ["--tls1_2", "--renegotiate"], payload=payload)
        check("gnutls-serv echo", res["data"], payload)


# -- transfers

def xfer_python(ctx, tls):
    s_python(ctx, tls=tls, suite="ECDHE-ECDSA-AES128-GCM-SHA256" if tls == "1.2" else None, nbytes=MB10)


def hex_lines(total):
    """total bytes of text lines (GnuTLS's echo server and s_client handle text, not NUL bytes)."""
    lines = total // 64
    blob = secrets.token_hex(lines * 27)
    return b"".join(b"%08d%s\n" % (i, blob[i * 54:(i + 1) * 54].encode()) for i in range(lines))


def xfer_ourclient(ctx, peer):
    data = os.urandom(MB10) if peer == "ours" else hex_lines(MB10)
    if peer == "ours":
        server, port = our_server(ctx, ["--tls1_3"])
    else:
        c, k = ctx.env.cert("ec256")
        server, port = gnutls_server(ctx, ["--priority", gnutls_priority("1.3"), "--x509certfile", c,
                                           "--x509keyfile", k])
    res = our_client(ctx, port, ["--tls1_3"], payload=data, wait=3.0, timeout=150)
    check("tls-client protocol", res.get("protocol"), "TLSv1.3")
    if len(res["data"]) != len(data) or hashlib.sha256(res["data"]).digest() != hashlib.sha256(data).digest():
        fail("echo differs: sent %d bytes, got %d back (SHA-256 %s)" %
             (len(data), len(res["data"]), "equal" if res["data"] == data else "differs"))


def xfer_ossl(ctx):
    data = hex_lines(MB10)
    server, port = our_server(ctx, ["--tls1_3"])
    argv = ["openssl", "s_client", "-connect", "%s:%d" % (HOST, port), "-servername", "localhost",
            "-CAfile", ctx.env.ca, "-verify_return_error", "-quiet", "-no_ign_eof", "-nocommands"]
    p = ctx.spawn(argv, "openssl s_client", line_buffered=False)
    p.write_async(data, close=False)
    if not p.wait_until(lambda: len(p.out) >= len(data), ctx.until(150)):
        fail("s_client got %d of %d bytes back: %s" % (len(p.out), len(data), tail(p.errtext)))
    p.close_stdin()
    got = bytes(p.out[:len(data)])
    if hashlib.sha256(got).digest() != hashlib.sha256(data).digest():
        fail("echo through s_client differs from what it sent (SHA-256)")
    if p.wait_exit(ctx.until(10)) is None:
        fail("s_client did not exit after its stdin closed")
    fields = server_handshake(ctx, server)
    check_server(fields, protocol="TLSv1.3", group="x25519")


# -- failures

def f_bad_server_cert(ctx, peer, cert, tls="1.3"):
    """Our client refuses the server's certificate (untrusted issuer, or not for
    localhost); the error names the reason, and the peer learns it from the alert."""
    c, k = ctx.env.cert(cert)
    if peer == "ossl":
        server, port = ossl_server(ctx, ["-tls" + tls.replace(".", "_"), "-cert", c, "-key", k])
    else:  # -d 5 makes gnutls-serv log the alerts it receives
        server, port = gnutls_server(ctx, ["-d", "5", "--priority", gnutls_priority(tls), "--x509certfile", c,
                                           "--x509keyfile", k])
    res = our_client(ctx, port, [], get="/", expect_ok=False)
    if cert == "rogue":
        ours, alert = r"unknown.?ca|unknown.?issuer|untrusted|not trusted", "48"       # unknown_ca
    else:
        ours, alert = r"host.?name|name mismatch|does not match", "4[26]"              # bad_certificate or certificate_unknown
    if not re.search(ours, res["stderr"], re.I):
        fail("tls-client's error does not name the reason: %s" % res["stderr"])
    want = r"SSL alert number %s" % alert if peer == "ossl" else r"Alert\[2\|%s\] .* was received" % alert
    server.expect(want + r"|Error in handshake|:error:|ERROR", ctx.until(5))
    time.sleep(0.1)
    if not re.search(want, server.alltext):
        lines = [l for l in server.alltext.splitlines() if re.search(r"alert|error|decrypt", l, re.I)]
        fail("%s did not receive our alert /%s/: %s" % (server.name, want, " | ".join(lines[-6:])))
    return res


def f_tls11_ossl_client(ctx):
    server, port = our_server(ctx, [])
    argv = ["openssl", "s_client", "-connect", "%s:%d" % (HOST, port), "-servername", "localhost", "-tls1_1",
            "-cipher", "DEFAULT:@SECLEVEL=0", "-CAfile", ctx.env.ca]
    p, rc = ctx.run(argv, input=b"", timeout=20, name="openssl s_client")
    if rc == 0 and re.search(r"New, TLSv1\.1", p.text):
        fail("s_client negotiated TLS 1.1 with our server")
    if not re.search(r"alert protocol version", p.alltext):
        fail("s_client did not report a protocol_version alert: %s" % tail(p.alltext))
    msg = server_failure(ctx, server)
    if not re.search(r"protocol.?version", msg, re.I):
        fail("our server's error does not name protocol_version: %s" % msg)


def f_tls11_gnutls_client(ctx):
    server, port = our_server(ctx, [])
    argv = ["gnutls-cli", HOST, "-p", str(port), "--x509cafile", ctx.env.ca, "--sni-hostname", "localhost",
            "--verify-hostname", "localhost", "--priority", "NORMAL:-VERS-ALL:+VERS-TLS1.1"]
    p, rc = ctx.run(argv, input=b"", timeout=20, name="gnutls-cli")
    if rc == 0:
        fail("gnutls-cli connected with TLS 1.1 only: %s" % tail(p.alltext))
    if not re.search(r"protocol version|Received alert \[70\]", p.alltext, re.I):
        fail("gnutls-cli did not report a protocol_version alert: %s" % tail(p.alltext))
    msg = server_failure(ctx, server)
    if not re.search(r"protocol.?version", msg, re.I):
        fail("our server's error does not name protocol_version: %s" % msg)


def f_tls11_ossl_server(ctx):
    c, k = ctx.env.cert("ec256")
    server, port = ossl_server(ctx, ["-tls1_1", "-cipher", "DEFAULT:@SECLEVEL=0", "-cert", c, "-key", k])
    res = our_client(ctx, port, [], get="/", expect_ok=False)
    if not re.search(r"protocol.?version", res["stderr"], re.I):
        fail("tls-client's error does not name protocol_version: %s" % res["stderr"])


def f_client_cert(ctx, peer, tls, cert):
    """Our server requires a client certificate; the peer sends none (cert None) or an untrusted one."""
    server, port = our_server(ctx, ["--tls" + tls.replace(".", "_"), "--verify-client", "require",
                                    "--cafile", ctx.env.ca])
    if peer == "ossl":
        argv = ["openssl", "s_client", "-connect", "%s:%d" % (HOST, port), "-servername", "localhost",
                "-CAfile", ctx.env.ca, "-nocommands", "-tls" + tls.replace(".", "_")]
        if cert:
            argv += ["-cert", ctx.env.cert(cert)[0], "-key", ctx.env.cert(cert)[1]]
        want = {None: r"alert certificate required|SSL alert number 116" if tls == "1.3"
                else r"alert handshake failure|SSL alert number 40",
                "rogue-client": r"alert unknown ca|SSL alert number 48"}[cert]
    else:
        argv = ["gnutls-cli", HOST, "-p", str(port), "--x509cafile", ctx.env.ca, "--sni-hostname", "localhost",
                "--verify-hostname", "localhost", "--priority", gnutls_priority(tls)]
        if cert:
            argv += ["--x509certfile", ctx.env.cert(cert)[0], "--x509keyfile", ctx.env.cert(cert)[1]]
        want = {None: r"Received alert \[116\]" if tls == "1.3" else r"Received alert \[40\]",
                "rogue-client": r"Received alert \[48\]"}[cert]
    p = ctx.spawn(argv, argv[0] if peer == "gnutls" else "openssl s_client")
    p.write(b"hello\n")
    # In TLS 1.3 the client is done before the server judges its certificate: keep stdin
    # open until the alert has been read (or the client gave up).
    p.wait_until(lambda: re.search(want, (p.out + p.err).decode("utf-8", "replace")) is not None
                 or p.p.poll() is not None, ctx.until(10))
    p.close_stdin()
    if p.wait_exit(ctx.until(15)) is None:
        fail("%s kept the connection: %s" % (p.name, tail(p.alltext)))
    if not re.search(want, p.alltext):
        fail("%s did not report /%s/: %s" % (p.name, want, tail(p.alltext)))
    msg = server_failure(ctx, server)
    if not re.search(r"certificate|unknown.?ca|issuer", msg, re.I):
        fail("our server's error does not mention the certificate: %s" % msg)


def f_version_mismatch(ctx):
    c, k = ctx.env.cert("ec256")
    server, port = ossl_server(ctx, ["-tls1_2", "-cert", c, "-key", k])
    res = our_client(ctx, port, ["--tls1_3"], get="/", expect_ok=False)
    if not re.search(r"protocol.?version", res["stderr"], re.I):
        fail("tls-client's error does not name protocol_version: %s" % res["stderr"])


# ---------------------------------------------------------------- the matrix

class Case:
    def __init__(self, name, fn, quick=False, timeout=40, **kw):
        self.name, self.fn, self.quick, self.timeout, self.kw = name, fn, quick, timeout, kw

    def run(self, ctx):
        self.fn(ctx, **self.kw)


# ---------------------------------------------------------------- sessions, 0-RTT, OCSP

def _tmpfile(ctx, name):
    return os.path.join(ctx.env.tmp, "%s-%s" % (secrets.token_hex(4), name))


def sess_ossl_client(ctx, tls, mode):
    """openssl s_client -sess_out, then -sess_in, against our server: the second is 'Reused'
    (TLS 1.2: session ID with --no-tickets, else RFC 5077 tickets; TLS 1.3: PSK, optionally 0-RTT)."""
    args = ["--tls1_3"] if tls == "1.3" else ["--tls1_2"]
    if mode == "id":
        args += ["--no-tickets"]
    if mode == "early":
        args += ["--max-early-data", "16384"]
    if mode == "psk-ke":
        args += ["--psk-modes", "psk_ke:psk_dhe_ke"]
    server, port = our_server(ctx, args, max_connections=2)
    sess = _tmpfile(ctx, "ossl.sess")
    version = ["-tls1_3"] if tls == "1.3" else ["-tls1_2"]
    line = b"first-" + secrets.token_hex(8).encode() + b"\n"
    p, _ = ossl_client(ctx, port, version + ["-sess_out", sess], [("send", line), ("echo", line)])
    if "New, TLSv" + tls not in p.text:
        fail("first connection not a new TLSv%s session: %s" % (tls, tail(p.text)))
    extra = []
    if mode == "early":
        early = _tmpfile(ctx, "early.txt")
        with open(early, "wb") as f:
            f.write(b"early-data-line\n")
        extra = ["-early_data", early]
    if mode == "psk-ke":
        extra = ["-allow_no_dhe_kex"]   # offers psk_dhe_ke and psk_ke; our server prefers psk_ke
    line2 = b"second-" + secrets.token_hex(8).encode() + b"\n"
    p2, _ = ossl_client(ctx, port, version + ["-sess_in", sess] + extra, [("send", line2), ("echo", line2)])
    if "Reused, TLSv" + tls not in p2.text:
        fail("second connection not resumed: %s" % tail(p2.text))
    if mode == "early":
        if "Early data was accepted" not in p2.text:
            fail("early data not accepted: %s" % tail(p2.text))
        if b"early-data-line" not in p2.out:
            fail("our server did not echo the early data")
    fields = server_handshake(ctx, server, 2)
    check_server(fields, resumed="yes", early_data="accepted" if mode == "early" else "none",
                 # TLS 1.3 resumes with (EC)DHE unless psk_ke; a TLS 1.2 resumption has no key exchange.
                 group="none" if mode == "psk-ke" or tls == "1.2" else re.compile(r"^(?!none$)"))


def sess_our_client(ctx, tls, mode):
    """Our tls-client --sess-out/--sess-in against openssl s_server: resumed, and no
    certificate on resumption (no signature scheme)."""
    c, k = ctx.env.cert("ec256")
    args = ["-tls1_3" if tls == "1.3" else "-tls1_2", "-cert", c, "-key", k]
    if mode == "id":
        args += ["-no_ticket"]
    if mode == "early":
        args += ["-early_data"]
    if mode == "psk-ke":
        args += ["-allow_no_dhe_kex"]
    server, port = ossl_server(ctx, args, naccept=2, www=(mode != "early"))
    sess = _tmpfile(ctx, "ours.sess")
    flag = ["--tls1_3"] if tls == "1.3" else ["--tls1_2"]
    res = our_client(ctx, port, flag + ["--sess-out", sess], get=None if mode == "early" else "/",
                     payload=b"hello\n" if mode == "early" else b"")
    check_client(res, protocol="TLSv" + tls, resumed="no")
    extra = []
    if mode == "early":
        early = _tmpfile(ctx, "early-ours.txt")
        with open(early, "wb") as f:
            f.write(b"zero-rtt-line\n")
        extra = ["--early-data", early]
    if mode in ("psk-ke", "psk-ke-refused"):
        extra = ["--psk-modes", "psk_ke"]
    res2 = our_client(ctx, port, flag + ["--sess-in", sess] + extra, get=None if mode == "early" else "/",
                      payload=b"again\n" if mode == "early" else b"")
    if mode == "psk-ke-refused":
        # s_server without -allow_no_dhe_kex cannot use a psk_ke-only offer: a full handshake.
        check_client(res2, protocol="TLSv1.3", resumed="no", group="x25519")
        return
    check_client(res2, protocol="TLSv" + tls, resumed="yes", signature_scheme="none",
                 group="none" if mode == "psk-ke" else None)
    if mode == "early":
        check_client(res2, early_data="accepted")
        server.expect(r"zero-rtt-line", ctx.until(5))


def capture_replay(ctx, side, hrr=False, peer="ossl"):
    """A handshake recorded with --record against OpenSSL or GnuTLS (our server with their
    client, our client with s_server) replays byte for byte through tls-replay on the
    recording side."""
    trace = _tmpfile(ctx, "capture.trace")
    replay_bin = os.path.join(os.path.dirname(ctx.env.server_bin), "tls-replay")
    if side == "server":
        args = ["--tls1_3", "--record", trace, "--alpn", "h2,http/1.1"] + (["--hrr"] if hrr else [])
        server, port = our_server(ctx, args, max_connections=1)
        line = b"capture-" + secrets.token_hex(8).encode() + b"\n"
        extra = ["-tls1_3", "-alpn", "http/1.1"] + (["-groups", "P-256:X25519"] if hrr else [])
        if peer == "gnutls":
            gnutls_client(ctx, port, "NORMAL:-VERS-ALL:+VERS-TLS1.3", ["--alpn", "http/1.1"], [("send", line), ("echo", line)])
        else:
            ossl_client(ctx, port, extra, [("send", line), ("echo", line)])
        check_server(server_handshake(ctx, server, 1), hello_retry="yes" if hrr else "no", alpn="http/1.1")
        server.wait_exit(ctx.until(10))
    else:
        c, k = ctx.env.cert("ec256")
        server, port = ossl_server(ctx, ["-tls1_3", "-cert", c, "-key", k], www=True)
        res = our_client(ctx, port, ["--tls1_3", "--record", trace], get="/")
        check_client(res, protocol="TLSv1.3")
    if not os.path.exists(trace):
        fail("no capture written to %s" % trace)
    p, rc = ctx.run([replay_bin, "--side", side, trace], timeout=30, name="tls-replay")
    out = bytes(p.out).decode("utf-8", "replace")
    if rc != 0 or "PASS" not in out:
        fail("tls-replay --side %s of the capture: %s" % (side, tail(out + p.errtext)))
    if hrr and "ok message hello_retry_request sent by our server" not in out:
        fail("the replay did not check the HelloRetryRequest: %s" % tail(out))


def sess_shared_ticket_keys(ctx, client):
    """A session begun on one tls-server process resumes on a second one that shares
    the ticket-key file (both TLS 1.3 PSK and TLS 1.2 tickets)."""
    keys = _tmpfile(ctx, "ticket-keys.txt")
    for tls in ("1.3", "1.2"):
        flag = "--tls1_3" if tls == "1.3" else "--tls1_2"
        a, port_a = our_server(ctx, [flag, "--ticket-keys", keys], max_connections=1)
        b, port_b = our_server(ctx, [flag, "--ticket-keys", keys], max_connections=1)
        sess = _tmpfile(ctx, "shared.sess")
        if client == "ours":
            res = our_client(ctx, port_a, [flag, "--sess-out", sess], payload=b"one\n")
            check_client(res, resumed="no")
            res2 = our_client(ctx, port_b, [flag, "--sess-in", sess], payload=b"two\n")
            check_client(res2, resumed="yes")
        else:
            version = ["-tls1_3"] if tls == "1.3" else ["-tls1_2"]
            p, _ = ossl_client(ctx, port_a, version + ["-sess_out", sess], [("send", b"one\n"), ("echo", b"one\n")])
            p2, _ = ossl_client(ctx, port_b, version + ["-sess_in", sess], [("send", b"two\n"), ("echo", b"two\n")])
            if "Reused, TLSv" + tls not in p2.text:
                fail("TLS %s session from process A not resumed on process B: %s" % (tls, tail(p2.text)))
        check_server(server_handshake(ctx, b, 1), resumed="yes")
        # Rotation while they run: a new key is added to the file; old tickets still open.
        rc = subprocess.run([ctx.env.server_bin, "--ticket-keys", keys, "--rotate-ticket-keys"],
                            capture_output=True, timeout=20).returncode
        if rc != 0:
            fail("--rotate-ticket-keys failed")


def ocsp_cases(ctx, side):
    """Stapled OCSP responses: s_client -status against our --ocsp, our --status against s_server -status_file."""
    der = _tmpfile(ctx, "ocsp.der")
    with open(der, "wb") as f:
        f.write(bytes([0x30, 0x03, 0x0a, 0x01, 0x06]))   # OCSPResponse{unauthorized}: any DER the peer can print
    if side == "server":
        for tls in ("1.3", "1.2"):
            server, port = our_server(ctx, ["--ocsp", der, "--tls1_3" if tls == "1.3" else "--tls1_2"])
            p, _ = ossl_client(ctx, port, ["-status", "-tls1_3" if tls == "1.3" else "-tls1_2"],
                               [("send", b"x\n"), ("echo", b"x\n")])
            if "OCSP Response Status: unauthorized" not in p.text:
                fail("s_client saw no stapled response (TLS %s): %s" % (tls, tail(p.text)))
    else:
        c, k = ctx.env.cert("ec256")
        good, revoked = make_ocsp_response(ctx, c, "good"), make_ocsp_response(ctx, c, "revoked")
        for tls in ("1.3", "1.2"):
            version = "-tls1_3" if tls == "1.3" else "-tls1_2"
            # An unsigned error status: handed over, not usable.
            server, port = ossl_server(ctx, ["-cert", c, "-key", k, "-status_file", der, version])
            res = our_client(ctx, port, ["--status"], get="/")
            check_client(res, protocol="TLSv" + tls, ocsp_response="5 bytes", ocsp_status="none usable")
            # A real response from the CA (openssl ocsp): checked against the verified issuer.
            server, port = ossl_server(ctx, ["-cert", c, "-key", k, "-status_file", good, version])
            res = our_client(ctx, port, ["--status", "--ocsp-policy", "require"], get="/")
            if not res.get("ocsp status", "").startswith("good (this update "):
                fail("TLS %s: ocsp status %r" % (tls, res.get("ocsp status")))
            # The CA says revoked: the handshake fails with certificate_revoked.
            server, port = ossl_server(ctx, ["-cert", c, "-key", k, "-status_file", revoked, version])
            res = our_client(ctx, port, ["--status"], get="/", expect_ok=False)
            if "certificate_revoked" not in res["stderr"]:
                fail("TLS %s: revoked staple: %s" % (tls, res["stderr"]))
            # Must-staple against a server that staples nothing.
            server, port = ossl_server(ctx, ["-cert", c, "-key", k, version])
            res = our_client(ctx, port, ["--ocsp-policy", "require"], get="/", expect_ok=False)
            if "bad_certificate_status_response" not in res["stderr"]:
                fail("TLS %s: required staple missing: %s" % (tls, res["stderr"]))


def make_ocsp_response(ctx, cert, status):
    """An OCSP response from the interop CA (openssl ocsp, one-shot responder) saying
    `cert` is good or revoked, valid for a day."""
    ca, ca_key = ctx.env.cert("ca")
    d = ctx.env.tmp
    tag = secrets.token_hex(4)
    serial = openssl(["x509", "-in", cert, "-noout", "-serial"], d).split("=", 1)[1].strip()
    index = os.path.join(d, "ocsp-%s-index.txt" % tag)
    with open(index, "w") as f:
        if status == "revoked":
            f.write("R\t21260101000000Z\t260101000000Z,keyCompromise\t%s\tunknown\t/CN=localhost\n" % serial)
        else:
            f.write("V\t21260101000000Z\t\t%s\tunknown\t/CN=localhost\n" % serial)
    req = os.path.join(d, "ocsp-%s.req" % tag)
    out = os.path.join(d, "ocsp-%s-%s.der" % (tag, status))
    openssl(["ocsp", "-issuer", ca, "-sha1", "-cert", cert, "-no_nonce", "-reqout", req], d)
    openssl(["ocsp", "-index", index, "-CA", ca, "-rsigner", ca, "-rkey", ca_key, "-reqin", req,
             "-respout", out, "-ndays", "1"], d)
    return out


def build_cases():
    cases = []

    def add(name, fn, quick=False, timeout=40, **kw):
        cases.append(Case(name, fn, quick, timeout, **kw))

    quick13 = {"ossl": {"suite-TLS_AES_256_GCM_SHA384", "hrr", "client-cert", "keyupdate", "keyupdate-client"},
               "gnutls": {"group-secp384r1", "cert-rsa", "hrr", "sni"}}
    for prefix, fn in (("c13-ossl", c_ossl), ("c13-gnutls", c_gnutls), ("s13-ossl", s_ossl), ("s13-gnutls", s_gnutls)):
        server_side = prefix.startswith("s")
        dims = [("suite-" + s, {"suite": s}) for s in TLS13_SUITES]
        dims += [("group-" + g, {"group": g}) for g in GROUPS]
        dims += [("cert-" + c, {"cert": c}) for c in CERT_KINDS]
        dims += [("hrr", {"hrr": True}), ("client-cert", {"client_cert": True}), ("alpn", {"alpn": True}),
                 ("sni", {"sni": True})]
        if server_side:
            dims += [("keyupdate-client", {"keyupdate_client": True}), ("keyupdate-server", {"keyupdate_server": True})]
        else:
            dims += [("keyupdate", {"keyupdate": True})]
        for dim, kw in dims:
            add("%s-%s" % (prefix, dim), fn, quick=dim in quick13[prefix.split("-")[1]], tls="1.3", **kw)
    for dim, kw in ([("default", {}), ("group-secp256r1", {"group": "secp256r1"}),
                     ("group-secp384r1", {"group": "secp384r1"})] +
                    [("cert-" + c, {"cert": c}) for c in CERT_KINDS if c != "ec256"] +
                    [("hrr", {"hrr": True}), ("client-cert", {"client_cert": True}), ("alpn", {"alpn": True}),
                     ("sni", {"sni": True})]):
        add("s13-python-" + dim, s_python, quick=dim in ("default", "hrr", "sni"), tls="1.3", **kw)

    # TLS 1.2
    for prefix, fn in (("c12-ossl", c_ossl), ("c12-gnutls", c_gnutls), ("s12-ossl", s_ossl), ("s12-gnutls", s_gnutls)):
        for suite in TLS12_SUITES:
            add("%s-%s" % (prefix, suite), fn, quick=suite == "ECDHE-RSA-AES256-GCM-SHA384" and "ossl" in prefix,
                tls="1.2", suite=suite)
    for prefix, fn in (("c12-ossl", c_ossl), ("s12-ossl", s_ossl), ("c12-gnutls", c_gnutls), ("s12-gnutls", s_gnutls)):
        for g in GROUPS:
            # An RSA suite: with ECDHE-ECDSA the certificate's curve must also be among the client's groups.
            if g != "x25519" or "gnutls" in prefix:
                add("%s-group-%s" % (prefix, g), fn, tls="1.2", group=g, suite="ECDHE-RSA-AES128-GCM-SHA256")
        add(prefix + "-client-cert", fn, quick=prefix == "s12-gnutls", tls="1.2", client_cert=True)
        add(prefix + "-alpn", fn, tls="1.2", alpn=True)
        add(prefix + "-sni", fn, tls="1.2", sni=True)
    # Ed25519 certificates with TLS 1.2 ECDHE-ECDSA (RFC 8422)
    for prefix, fn in (("c12-ossl", c_ossl), ("s12-ossl", s_ossl), ("c12-gnutls", c_gnutls), ("s12-gnutls", s_gnutls)):
        add(prefix + "-cert-ed25519", fn, tls="1.2", suite="ECDHE-ECDSA-AES128-GCM-SHA256", cert="ed25519")
    # record_size_limit (RFC 8449) in both versions, GnuTLS on the other side (OpenSSL 3.0 has none)
    for tls in ("1.3", "1.2"):
        v = tls.replace(".", "")
        add("c%s-gnutls-record-size-limit" % v, c_gnutls, tls=tls, record_limit=True)
        add("s%s-gnutls-record-size-limit" % v, s_gnutls, tls=tls, record_limit=True)
    # one side offers TLS 1.3 and 1.2, the other only 1.2
    add("c12-ossl-version-fallback", c_ossl, tls="1.2", ours_any_version=True)
    add("s12-ossl-version-fallback", s_ossl, quick=True, tls="1.2", peer_any_version=True)
    add("s12-python-version-fallback", s_python, tls="1.2", suite="ECDHE-ECDSA-AES128-GCM-SHA256",
        peer_any_version=True)
    # certificate choice: TLS 1.3 by signature_algorithms, TLS 1.2 by the client's curves (RFC 8422 5.1)
    add("s13-ossl-cert-by-sigalg", s_ossl, tls="1.3", server_certs=["ec256", "ec384"],
        sigalgs="ecdsa_secp384r1_sha384", key_bits=384)
    add("s12-ossl-ecdsa-cert-by-curve", s_ossl, tls="1.2", suite="ECDHE-ECDSA-AES256-GCM-SHA384", group="secp384r1",
        server_certs=["ec256", "ec384"], key_bits=384)
    add("c12-ossl-renegotiate", c_ossl_renegotiate)
    add("c12-ossl-renegotiate-with-data", c_renegotiate_with_data, peer="ossl")
    add("c12-gnutls-renegotiate-with-data", c_renegotiate_with_data, peer="gnutls")
    add("s12-ossl-renegotiate-client", s_ossl, quick=True, tls="1.2", reneg_client=True)
    add("s12-ossl-renegotiate-server", s_ossl, quick=True, tls="1.2", reneg_server=True)
    add("s12-gnutls-renegotiate-client", s_gnutls, tls="1.2", reneg_client=True)
    add("s12-gnutls-renegotiate-server", s_gnutls, tls="1.2", reneg_server=True)
    for suite in TLS12_SUITES:
        add("s12-python-" + suite, s_python, quick=suite == "ECDHE-ECDSA-CHACHA20-POLY1305", tls="1.2", suite=suite)

    # 10 MB transfers
    add("xfer-python-tls13-10MB", xfer_python, quick=True, timeout=150, tls="1.3")
    add("xfer-python-tls12-10MB", xfer_python, timeout=150, tls="1.2")
    add("xfer-ourclient-ourserver-10MB", xfer_ourclient, timeout=170, peer="ours")
    add("xfer-ourclient-gnutls-10MB", xfer_ourclient, timeout=170, peer="gnutls")
    add("xfer-ossl-client-10MB", xfer_ossl, timeout=170)

    # failures
    for peer in ("ossl", "gnutls"):
        for tls in ("1.3", "1.2"):
            add("fail-%s-untrusted-server-cert-tls%s" % (peer, tls.replace(".", "")), f_bad_server_cert,
                quick=peer == "ossl" and tls == "1.3", peer=peer, cert="rogue", tls=tls)
            add("fail-%s-hostname-mismatch-tls%s" % (peer, tls.replace(".", "")), f_bad_server_cert,
                quick=peer == "ossl" and tls == "1.3", peer=peer, cert="other", tls=tls)
    add("fail-tls11-ossl-client", f_tls11_ossl_client, quick=True)
    add("fail-tls11-gnutls-client", f_tls11_gnutls_client)
    add("fail-tls11-ossl-server", f_tls11_ossl_server)
    for peer in ("ossl", "gnutls"):
        for tls in ("1.3", "1.2"):
            add("fail-%s-no-client-cert-tls%s" % (peer, tls.replace(".", "")), f_client_cert,
                peer=peer, tls=tls, cert=None)
            add("fail-%s-untrusted-client-cert-tls%s" % (peer, tls.replace(".", "")), f_client_cert,
                peer=peer, tls=tls, cert="rogue-client")
    add("fail-tls13-client-vs-tls12-server", f_version_mismatch)
    for tls in ("1.3", "1.2"):
        for mode in (("ticket", "early", "psk-ke") if tls == "1.3" else ("ticket", "id")):
            add("sess-s%s-ossl-%s" % (tls.replace(".", ""), mode), sess_ossl_client, quick=(mode != "id"), tls=tls, mode=mode)
            add("sess-c%s-ossl-%s" % (tls.replace(".", ""), mode), sess_our_client, quick=(mode == "early"), tls=tls, mode=mode)
    add("sess-c13-ossl-psk-ke-refused", sess_our_client, tls="1.3", mode="psk-ke-refused")
    add("capture-s13-ossl", capture_replay, quick=True, side="server")
    add("capture-s13-ossl-hrr", capture_replay, side="server", hrr=True)
    add("capture-c13-ossl", capture_replay, side="client")
    add("capture-s13-gnutls", capture_replay, side="server", peer="gnutls")
    add("sess-shared-ticket-keys-ours", sess_shared_ticket_keys, quick=True, client="ours")
    add("sess-shared-ticket-keys-ossl", sess_shared_ticket_keys, client="ossl")
    add("ocsp-s-ossl", ocsp_cases, side="server")
    add("ocsp-c-ossl", ocsp_cases, quick=True, side="client")
    return cases


# ---------------------------------------------------------------- runner

def run_case(env, case, verbose):
    ctx = Ctx(env, case.name, case.timeout)
    start = time.monotonic()
    try:
        case.run(ctx)
        result = (True, "")
    except CaseFailure as e:
        result = (False, str(e))
    except Exception as e:  # a bug in this script: report it as a failure of the case
        result = (False, "harness error: %r%s" % (e, ("\n" + traceback.format_exc()) if verbose else ""))
    finally:
        ctx.cleanup()
    if not result[0] and time.monotonic() > ctx.deadline:
        result = (False, "timeout after %ds: %s" % (case.timeout, result[1]))
    return result + (time.monotonic() - start,)


def main():
    ap = argparse.ArgumentParser(description="Interop matrix against OpenSSL, GnuTLS and Python ssl on 127.0.0.1.")
    ap.add_argument("--bin", default=".build/debug", help="directory holding tls-server and tls-client")
    ap.add_argument("--quick", action="store_true", help="a smaller subset")
    ap.add_argument("--filter", default=None, help="only the cases whose name contains this")
    ap.add_argument("-j", type=int, default=2, help="cases in parallel (default 2)")
    ap.add_argument("--keep", action="store_true", help="keep the temporary directory (certificates)")
    ap.add_argument("--list", action="store_true", help="list the selected cases and exit")
    ap.add_argument("-v", "--verbose", action="store_true", help="timings and tracebacks")
    args = ap.parse_args()

    cases = build_cases()
    names = [c.name for c in cases]
    assert len(names) == len(set(names)), "duplicate case names"
    if args.quick:
        cases = [c for c in cases if c.quick]
    if args.filter:
        cases = [c for c in cases if args.filter in c.name]
    if args.list:
        for c in cases:
            print(c.name)
        return 0

    bindir = os.path.abspath(args.bin)
    if args.bin == ap.get_default("bin") and not os.path.isdir(bindir):
        # run from elsewhere than the package root: use the package's own build directory
        bindir = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", ".build", "debug")
        bindir = os.path.normpath(bindir)
    for tool in ("tls-server", "tls-client"):
        if not os.access(os.path.join(bindir, tool), os.X_OK):
            print("interop: %s not found in %s (build it, or pass --bin)" % (tool, bindir), file=sys.stderr)
            return 2
    for tool in ("openssl", "gnutls-serv", "gnutls-cli"):
        if not shutil.which(tool):
            print("interop: %s is not installed (Tools/scripts/setup.sh installs it)" % tool, file=sys.stderr)
            return 2

    tmp = tempfile.mkdtemp(prefix="interop-")
    env = Env(bindir, tmp)
    atexit.register(kill_all)

    def on_signal(signum, frame):
        kill_all()
        sys.exit(128 + signum)

    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGHUP, on_signal)
    started = time.monotonic()
    passed = failed = xfailed = 0
    print_lock = threading.Lock()
    try:
        make_certificates(env)
        pool = concurrent.futures.ThreadPoolExecutor(max_workers=max(1, args.j))
        try:
            futures = {pool.submit(run_case, env, c, args.verbose): c for c in cases}
            for fut in concurrent.futures.as_completed(futures):
                case = futures[fut]
                ok, why, secs = fut.result()
                timing = " (%.1fs)" % secs if args.verbose else ""
                with print_lock:
                    if ok:
                        passed += 1
                        note = " (listed in KNOWN_FAILURES but passed: remove it)" if case.name in KNOWN_FAILURES else ""
                        print("PASS %s%s%s" % (case.name, timing, note))
                    elif case.name in KNOWN_FAILURES:
                        xfailed += 1
                        print("XFAIL %s%s: %s [known: %s]" % (case.name, timing, why, KNOWN_FAILURES[case.name]))
                    else:
                        failed += 1
                        print("FAIL %s%s: %s" % (case.name, timing, why))
                    sys.stdout.flush()
        except BaseException:
            _aborting.set()
            kill_all()
            pool.shutdown(wait=True, cancel_futures=True)
            raise
        pool.shutdown(wait=True)
    except KeyboardInterrupt:
        print("interop: interrupted", file=sys.stderr)
        return 130
    finally:
        kill_all()
        if args.keep:
            print("certificates kept in %s" % tmp, file=sys.stderr)
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    if xfailed:
        print("(%d known failures, see KNOWN_FAILURES)" % xfailed)
    if args.verbose:
        print("(%.0fs)" % (time.monotonic() - started))
    print("interop: %d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
