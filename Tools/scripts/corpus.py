#!/usr/bin/env python3
"""Seed corpora for tls-fuzz, derived from captured streams.

  corpus.py derive RAW OUT [WORKDIR]
      RAW/server/NAME   bytes a client sent to the server target's peer (+ NAME.msgs:
                        the handshake messages it received, decrypted)
      RAW/client/NAME   bytes a server sent to the client target's peer (+ NAME.msgs)
    writes OUT/{server,client,record,handshake13,handshake12,extensions,x509}/
  corpus.py dict OUT_FILE
      writes the libFuzzer dictionary of TLS constants
"""
import hashlib
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def put(out, target, data, name=None):
    d = os.path.join(out, target)
    os.makedirs(d, exist_ok=True)
    name = name or hashlib.sha1(data).hexdigest()[:16]
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def messages(data):
    """Splits a stream of handshake messages (type, 24-bit length, body)."""
    i, out = 0, []
    while i + 4 <= len(data):
        t, n = data[i], int.from_bytes(data[i + 1:i + 4], "big")
        out.append((t, data[i:i + 4 + n]))
        i += 4 + n
    return out


def plaintext_handshake(stream):
    """Handshake messages carried in the unprotected records at the start of a stream."""
    i, hs = 0, b""
    while i + 5 <= len(stream):
        ct, n = stream[i], int.from_bytes(stream[i + 3:i + 5], "big")
        if ct == 22:
            hs += stream[i + 5:i + 5 + n]
        elif ct == 23:
            break
        i += 5 + n
    return messages(hs)


def ext_block(b):
    out, i = [], 2
    while i + 4 <= len(b):
        t, n = int.from_bytes(b[i:i + 2], "big"), int.from_bytes(b[i + 2:i + 4], "big")
        out.append(b[i:i + 2] + b[i + 4:i + 4 + n])
        i += 4 + n
    return out


def extensions(t, msg):
    """Extension entries (type + data) of the messages that carry them."""
    body = msg[4:]
    try:
        if t == 1:  # ClientHello
            i = 34
            i += 1 + body[i]
            i += 2 + int.from_bytes(body[i:i + 2], "big")
            i += 1 + body[i]
            return ext_block(body[i:])
        if t == 2:  # ServerHello
            i = 34
            i += 1 + body[i]
            i += 3
            return ext_block(body[i:])
        if t == 8:  # EncryptedExtensions
            return ext_block(body)
        if t == 13:  # CertificateRequest (1.3: context, extensions)
            return ext_block(body[1 + body[0]:])
        if t == 4:  # NewSessionTicket 1.3
            i = 8
            i += 1 + body[i]
            i += 2 + int.from_bytes(body[i:i + 2], "big")
            return ext_block(body[i:])
    except IndexError:
        pass
    return []


def certificates(t, msg, tls13):
    body = msg[4:]
    out = []
    if t != 11:
        return out
    i = 1 + body[0] if tls13 else 0
    i += 3
    while i + 3 <= len(body):
        n = int.from_bytes(body[i:i + 3], "big")
        out.append(body[i + 3:i + 3 + n])
        i += 3 + n
        if tls13:
            i += 2 + int.from_bytes(body[i:i + 2], "big")
    return out


def derive(raw, out, work=None):
    for side in ("server", "client"):
        d = os.path.join(raw, side)
        for name in sorted(os.listdir(d)):
            if name.endswith(".msgs"):
                continue
            stream = open(os.path.join(d, name), "rb").read()
            if not stream:
                continue
            put(out, side, stream, name)
            # record: control byte 0 (plaintext reader, one feed), and 1-byte feeds for a few.
            put(out, "record", b"\x00" + stream[:6000], f"{side}-{name}")
            if "ossl-tls13" == name or "ossl-tls12-ecdsa" in name:
                put(out, "record", b"\x08" + stream[:2000], f"{side}-{name}-bytewise")
                put(out, "record", b"\x01" + stream[:2000], f"{side}-{name}-tls13cipher")
            msgs = messages(open(os.path.join(d, name + ".msgs"), "rb").read()) if os.path.exists(os.path.join(d, name + ".msgs")) else []
            msgs += plaintext_handshake(stream)
            tls12 = "tls12" in name
            for t, m in msgs:
                put(out, "handshake12" if tls12 else "handshake13", m)
                for e in extensions(t, m):
                    put(out, "extensions", e)
                for c in certificates(t, m, not tls12):
                    put(out, "x509", c)
    # x509: keys and certificates in every format the parsers take (a handful).
    keys = os.path.join(ROOT, "Vectors", "x509", "keys")
    for f in ("ec-p256.pkcs8.der", "ec-p256.sec1.pem", "ec-p256.sec1-explicit-params.pem", "ec-p384.spki.pem",
              "ed25519.pkcs8.pem", "rsa-2048.pkcs1.der", "rsa-2048.pkcs8.aes256.pem", "rsa-2048.cert.pem",
              "ec-p384.pkcs8.aes256.pem", "rsa-2048.pkcs1.aes256-legacy.pem"):
        p = os.path.join(keys, f)
        if os.path.exists(p):
            put(out, "x509", open(p, "rb").read(), f)
    bundle = os.path.join(ROOT, "Vectors", "x509", "bundle")
    if os.path.isdir(bundle):
        for f in sorted(os.listdir(bundle))[:3]:
            put(out, "x509", open(os.path.join(bundle, f), "rb").read(), "bundle-" + f)
    for s in (b"CN=www.example.com,O=Example\\, Inc.,C=US", b"2001:db8::1", b"192.0.2.1", b"CN=#0c03616263+OU=x"):
        put(out, "x509", s)


# A libFuzzer dictionary: record headers, versions, handshake types, extension
# types, groups, signature schemes, cipher suites, ASN.1 fragments.
DICT = [
    ("record_handshake", b"\x16\x03\x01"), ("record_handshake12", b"\x16\x03\x03"), ("record_ccs", b"\x14\x03\x03\x00\x01\x01"),
    ("record_alert", b"\x15\x03\x03\x00\x02"), ("record_appdata", b"\x17\x03\x03"),
    ("v_tls12", b"\x03\x03"), ("v_tls13", b"\x03\x04"), ("v_tls10", b"\x03\x01"), ("v_ssl3", b"\x03\x00"),
    ("hs_client_hello", b"\x01\x00"), ("hs_server_hello", b"\x02\x00"), ("hs_nst", b"\x04\x00"), ("hs_eoed", b"\x05\x00\x00\x00"),
    ("hs_ee", b"\x08\x00"), ("hs_cert", b"\x0b\x00"), ("hs_ske", b"\x0c\x00"), ("hs_certreq", b"\x0d\x00"),
    ("hs_shd", b"\x0e\x00\x00\x00"), ("hs_cv", b"\x0f\x00"), ("hs_cke", b"\x10\x00"), ("hs_finished", b"\x14\x00\x00"),
    ("hs_keyupdate0", b"\x18\x00\x00\x01\x00"), ("hs_keyupdate1", b"\x18\x00\x00\x01\x01"), ("hs_hello_request", b"\x00\x00\x00\x00"),
    ("ext_sni", b"\x00\x00"), ("ext_status_request", b"\x00\x05"), ("ext_groups", b"\x00\x0a"), ("ext_point_formats", b"\x00\x0b"),
    ("ext_sigalgs", b"\x00\x0d"), ("ext_alpn", b"\x00\x10"), ("ext_ems", b"\x00\x17"), ("ext_rsl", b"\x00\x1c"),
    ("ext_ticket", b"\x00\x23"), ("ext_psk", b"\x00\x29"), ("ext_early_data", b"\x00\x2a"), ("ext_versions", b"\x00\x2b"),
    ("ext_cookie", b"\x00\x2c"), ("ext_psk_modes", b"\x00\x2d"), ("ext_cas", b"\x00\x2f"), ("ext_pha", b"\x00\x31"),
    ("ext_sigalgs_cert", b"\x00\x32"), ("ext_key_share", b"\x00\x33"), ("ext_reneg", b"\xff\x01"),
    ("ext_versions13", b"\x02\x03\x04"), ("ext_versions_both", b"\x04\x03\x04\x03\x03"), ("ext_psk_modes_dhe", b"\x01\x01"),
    ("grp_x25519", b"\x00\x1d"), ("grp_p256", b"\x00\x17"), ("grp_p384", b"\x00\x18"), ("grp_x448", b"\x00\x1e"),
    ("ss_ecdsa_p256", b"\x04\x03"), ("ss_ecdsa_p384", b"\x05\x03"), ("ss_pss_256", b"\x08\x04"), ("ss_pss_384", b"\x08\x05"),
    ("ss_ed25519", b"\x08\x07"), ("ss_pkcs1_256", b"\x04\x01"), ("ss_pkcs1_384", b"\x05\x01"),
    ("cs_aes128", b"\x13\x01"), ("cs_aes256", b"\x13\x02"), ("cs_chacha", b"\x13\x03"), ("cs_ecdsa_aes128", b"\xc0\x2b"),
    ("cs_rsa_aes128", b"\xc0\x2f"), ("cs_ecdsa_aes256", b"\xc0\x2c"), ("cs_rsa_aes256", b"\xc0\x30"),
    ("cs_ecdsa_chacha", b"\xcc\xa9"), ("cs_rsa_chacha", b"\xcc\xa8"), ("scsv_reneg", b"\x00\xff"), ("scsv_fallback", b"\x56\x00"),
    ("hrr_random", bytes.fromhex("cf21ad74e59a6111be1d8c021e65b891c2a211167abb8c5e079e09e2c8a8339c")),
    ("downgrade12", b"DOWNGRD\x01"), ("downgrade11", b"DOWNGRD\x00"),
    ("alert_close", b"\x01\x00"), ("alert_fatal", b"\x02\x28"), ("alert_user_canceled", b"\x01\x5a"), ("alert_no_reneg", b"\x01\x64"),
    ("ec_uncompressed", b"\x04"), ("curve_type_named", b"\x03\x00\x1d"), ("alpn_h2", b"\x02h2"), ("alpn_http11", b"\x08http/1.1"),
    ("ticket_tag", b"FZTK"),
    ("asn1_seq", b"\x30\x82"), ("asn1_oid_ecpub", b"\x06\x07\x2a\x86\x48\xce\x3d\x02\x01"),
    ("asn1_oid_p256", b"\x06\x08\x2a\x86\x48\xce\x3d\x03\x01\x07"), ("asn1_oid_rsa", b"\x06\x09\x2a\x86\x48\x86\xf7\x0d\x01\x01\x01"),
    ("asn1_oid_san", b"\x06\x03\x55\x1d\x11"), ("asn1_oid_bc", b"\x06\x03\x55\x1d\x13"), ("asn1_oid_nc", b"\x06\x03\x55\x1d\x1e"),
    ("asn1_oid_cn", b"\x06\x03\x55\x04\x03"), ("asn1_null", b"\x05\x00"), ("asn1_true", b"\x01\x01\xff"),
    ("pem_cert", b"-----BEGIN CERTIFICATE-----"), ("pem_end_cert", b"-----END CERTIFICATE-----"),
    ("pem_key", b"-----BEGIN PRIVATE KEY-----"), ("pem_enc_key", b"-----BEGIN ENCRYPTED PRIVATE KEY-----"),
    ("pem_ec_key", b"-----BEGIN EC PRIVATE KEY-----"), ("pem_rsa_key", b"-----BEGIN RSA PRIVATE KEY-----"),
] + [("cs_" + w.strip("@!+-=").replace(".", "_").replace("=", "").replace("-", "_"), w.encode()) for w in (
    "HIGH", "MEDIUM", "LOW", "ALL", "DEFAULT", "COMPLEMENTOFALL", "COMPLEMENTOFDEFAULT", "ECDHE", "EECDH", "kECDHE",
    "kEECDH", "aRSA", "aECDSA", "aNULL", "eNULL", "AESGCM", "AES256", "AES128", "CHACHA20", "SHA256", "SHA384", "MD5",
    "RC4", "3DES", "TLSv1.2", "TLSv1.3", "SUITEB128", "SUITEB192", "@STRENGTH", "@SECLEVEL=", "ECDHE-ECDSA-AES128-GCM-SHA256",
    "TLS_AES_128_GCM_SHA256", "TLS_CHACHA20_POLY1305_SHA256")]


def write_dict(path):
    with open(path, "w") as f:
        f.write("# libFuzzer dictionary of TLS, X.509 and PEM constants (Tools/scripts/corpus.py dict)\n")
        for name, value in DICT:
            f.write('%s="%s"\n' % (name, "".join("\\x%02x" % b for b in value)))


if __name__ == "__main__":
    if len(sys.argv) >= 4 and sys.argv[1] == "derive":
        derive(sys.argv[2], sys.argv[3], sys.argv[4] if len(sys.argv) > 4 else None)
    elif len(sys.argv) == 3 and sys.argv[1] == "dict":
        write_dict(sys.argv[2])
    else:
        sys.exit(__doc__)
