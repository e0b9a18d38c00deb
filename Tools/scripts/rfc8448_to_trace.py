#!/usr/bin/env python3
"""Extract the RFC 8448 example handshakes into trace files.

Usage:
    python3 Tools/scripts/rfc8448_to_trace.py [--rfc PATH/rfc8448.txt] [--out DIR]

Defaults: --rfc /work/shared/rfc/rfc8448.txt, --out <repo>/Vectors/rfc8448.

The trace format is described in Spec/trace-format.md.  This script is a pure
text transformation (standard library only, no cryptography): it parses the
"{client}/{server} <action>:" steps of RFC 8448, joins hex values that are
wrapped over lines and pages, checks every declared "(N octets)" length, checks
that values the RFC repeats agree (PRK inputs, "same as" steps, record payloads
against the messages they carry, record and handshake header lengths) and
writes one .trace file per section.  Cryptographic verification is done
separately (it is not part of the repository).
"""

import argparse
import os
import re
import sys

HEX_LINE = re.compile(r'^\s+([0-9a-f]{2})( [0-9a-f]{2})*\s*$')
FIELD = re.compile(r'^( +)([A-Za-z][A-Za-z0-9 \-()]*?)(?: \((\d+) octets\))?:  (.*)$')
STEP = re.compile(r'^   \{(client|server)\}  (.*)$')
SECTION = re.compile(r'^(\d+)\.  (\S.*)$')
HRR_RANDOM = bytes.fromhex(
    'cf21ad74e59a6111be1d8c021e65b891c2a211167abb8c5e079e09e2c8a8339c')

FILES = {
    3: 'simple-1rtt.trace',
    4: 'resumed-0rtt.trace',
    5: 'hello-retry-request.trace',
    6: 'client-auth.trace',
    7: 'compatibility-mode.trace',
}


class ExtractError(Exception):
    pass


def fail(msg):
    raise ExtractError(msg)


# ---------------------------------------------------------------- parsing

def clean_lines(text):
    """Drop page footers/headers and form feeds; keep line numbers."""
    out = []
    for no, line in enumerate(text.split('\n'), 1):
        line = line.replace('\f', '').rstrip()
        if re.match(r'^Thomson\s+Informational\s+\[Page \d+\]$', line):
            continue
        if re.match(r'^RFC 8448\s+TLS 1\.3 Traces\s+January 2019$', line):
            continue
        out.append((no, line))
    return out


def parse_value(first, lines, i, indent):
    """Parse a field value starting with `first`, continuing over following
    hex-only lines that are indented deeper than the field (blank lines, left
    over from page breaks, are skipped).  Returns (bytes or special, next i)."""
    first = first.strip()
    if first == '(empty)':
        return b'', i
    if first == '0 (all zero octets)':
        return 'zero', i
    if not re.match(r'^[0-9a-f]{2}( [0-9a-f]{2})*$', first):
        return None, i
    parts = [first]
    j = i
    while j < len(lines):
        _, l = lines[j]
        if l.strip() == '':
            j += 1
            continue
        ind = len(l) - len(l.lstrip(' '))
        if ind > indent and HEX_LINE.match(l):
            parts.append(l.strip())
            j += 1
            i = j
            continue
        break
    return bytes.fromhex(''.join(p.replace(' ', '') for p in parts)), i


def parse_rfc(text):
    lines = clean_lines(text)
    section = None
    rsa = []          # section 2 fields, in order
    steps = []        # dicts: section, role, action, fields [(label, bytes)], line
    i = 0
    while i < len(lines):
        no, l = lines[i]
        i += 1
        m = SECTION.match(l)
        if m:
            section = int(m.group(1))
            continue
        m = STEP.match(l)
        if m and section in FILES:
            action = m.group(2)
            # step headers can wrap: "(same as server handshake\n      secret)"
            while not action.endswith(':') and action.count('(') > action.count(')'):
                action += ' ' + lines[i][1].strip()
                i += 1
            steps.append(dict(section=section, role=m.group(1), action=action,
                              fields=[], line=no))
            continue
        m = FIELD.match(l)
        if not m:
            continue
        indent, label, octets, rest = len(m.group(1)), m.group(2), m.group(3), m.group(4)
        value, i = parse_value(rest, lines, i, indent)
        if value is None:
            continue
        if octets is not None and value != 'zero' and len(value) != int(octets):
            fail('line %d: %s declares %s octets, parsed %d' % (no, label, octets, len(value)))
        if section == 2 and indent == 3:
            rsa.append((label, value))
        elif section in FILES and indent == 6 and steps and steps[-1]['section'] == section:
            steps[-1]['fields'].append((label, value))
    return rsa, steps


# ---------------------------------------------------------------- helpers

def hs_len_ok(msg):
    return len(msg) >= 4 and int.from_bytes(msg[1:4], 'big') + 4 == len(msg)


def split_messages(data):
    out = []
    while data:
        if len(data) < 4:
            fail('trailing bytes in handshake payload')
        n = 4 + int.from_bytes(data[1:4], 'big')
        if n > len(data):
            fail('truncated handshake message in payload')
        out.append(data[:n])
        data = data[n:]
    return out


def extensions(body):
    """Yield (type, data) of an extensions block (2-byte length prefixed)."""
    n = int.from_bytes(body[:2], 'big')
    ext = body[2:2 + n]
    if len(ext) != n:
        fail('bad extensions length')
    while ext:
        t = int.from_bytes(ext[:2], 'big')
        ln = int.from_bytes(ext[2:4], 'big')
        yield t, ext[4:4 + ln]
        ext = ext[4 + ln:]


def parse_client_hello(msg):
    b = msg[4:]
    random = b[2:34]
    sid_len = b[34]
    sid = b[35:35 + sid_len]
    p = 35 + sid_len
    cs_len = int.from_bytes(b[p:p + 2], 'big')
    p += 2 + cs_len
    comp_len = b[p]
    p += 1 + comp_len
    return random, sid, dict(extensions(b[p:]))


def parse_server_hello(msg):
    b = msg[4:]
    random = b[2:34]
    sid_len = b[34]
    p = 35 + sid_len + 2 + 1
    return random, dict(extensions(b[p:]))


def first_certificate(msg):
    b = msg[4:]
    ctx_len = b[0]
    p = 1 + ctx_len + 3
    cert_len = int.from_bytes(b[p:p + 3], 'big')
    return b[p + 3:p + 3 + cert_len]


def parse_new_session_ticket(msg):
    b = msg[4:]
    lifetime = b[0:4]
    age_add = b[4:8]
    nonce_len = b[8]
    nonce = b[9:9 + nonce_len]
    p = 9 + nonce_len
    ticket_len = int.from_bytes(b[p:p + 2], 'big')
    ticket = b[p + 2:p + 2 + ticket_len]
    p += 2 + ticket_len
    exts = dict(extensions(b[p:]))
    return dict(lifetime=lifetime, age_add=age_add, nonce=nonce, ticket=ticket,
                early_data=exts.get(42))


def parse_psk_extension(data):
    ids_len = int.from_bytes(data[:2], 'big')
    ids = data[2:2 + ids_len]
    ident_len = int.from_bytes(ids[:2], 'big')
    identity = ids[2:2 + ident_len]
    obf_age = ids[2 + ident_len:6 + ident_len]
    binders = data[2 + ids_len:]
    bl = int.from_bytes(binders[:2], 'big')
    binder = binders[3:3 + binders[2]]
    if 2 + bl != len(binders):
        fail('bad binders length')
    return identity, obf_age, binder, len(binders)


# ---------------------------------------------------------------- trace building

class Trace:
    def __init__(self, section):
        self.section = section
        self.params = []          # (name, value, comment)
        self.body = []            # ('entry', kind, name, value) | ('comment', text)
        self.values = {}          # name -> (kind, value)

    def _add(self, kind, name, value):
        if not re.match(r'^[a-z][a-z0-9_]*$', name):
            fail('bad name %r' % name)
        if name in self.values:
            k, v = self.values[name]
            if k != kind or v != value:
                fail('section %d: %s %s given twice with different values' % (self.section, kind, name))
            return False
        self.values[name] = (kind, value)
        return True

    def param(self, name, value, comment=None):
        if self._add('param', name, value):
            self.params.append((name, value, comment))

    def entry(self, kind, name, value):
        if self._add(kind, name, value):
            self.body.append(('entry', kind, name, value))

    def secret(self, name, value):
        self.entry('secret', name, value)

    def comment(self, text):
        self.body.append(('comment', text))

    def get(self, name):
        return self.values[name][1]

    def has(self, name):
        return name in self.values


DERIVE_LABELS = {
    'tls13 c hs traffic': ('client_handshake_traffic_secret', 'transcript_hash_server_hello'),
    'tls13 s hs traffic': ('server_handshake_traffic_secret', 'transcript_hash_server_hello'),
    'tls13 c ap traffic': ('client_application_traffic_secret_0', 'transcript_hash_server_finished'),
    'tls13 s ap traffic': ('server_application_traffic_secret_0', 'transcript_hash_server_finished'),
    'tls13 exp master': ('exporter_master_secret', 'transcript_hash_server_finished'),
    'tls13 res master': ('resumption_master_secret', 'transcript_hash_client_finished'),
    'tls13 c e traffic': ('client_early_traffic_secret', 'transcript_hash_client_hello'),
    'tls13 e exp master': ('early_exporter_master_secret', 'transcript_hash_client_hello'),
}
DERIVE_PRK = {
    'tls13 c hs traffic': 'handshake_secret', 'tls13 s hs traffic': 'handshake_secret',
    'tls13 c ap traffic': 'master_secret', 'tls13 s ap traffic': 'master_secret',
    'tls13 exp master': 'master_secret', 'tls13 res master': 'master_secret',
    'tls13 c e traffic': 'early_secret', 'tls13 e exp master': 'early_secret',
}
TRAFFIC_SECRET = {
    ('client', 'early'): 'client_early_traffic_secret',
    ('client', 'handshake'): 'client_handshake_traffic_secret',
    ('server', 'handshake'): 'server_handshake_traffic_secret',
    ('client', 'application'): 'client_application_traffic_secret_0',
    ('server', 'application'): 'server_application_traffic_secret_0',
}
MESSAGE_TYPES = {
    'ClientHello': 1, 'ServerHello': 2, 'NewSessionTicket': 4, 'EndOfEarlyData': 5,
    'EncryptedExtensions': 8, 'Certificate': 11, 'CertificateRequest': 13,
    'CertificateVerify': 15, 'Finished': 20,
}
CONTENT = {'handshake': 22, 'application_data': 23, 'alert': 21, 'change_cipher_spec': 20}
OTHER = {'client': 'server', 'server': 'client'}


def fields(step):
    d = {}
    for label, value in step['fields']:
        if label in d:
            fail('line %d: field %s repeated' % (step['line'], label))
        d[label] = value
    return d


def build_section(section, steps, rsa, s3_state):
    t = Trace(section)
    notes = []
    state = dict(pending={'client': [], 'server': []}, record_no={'client': 0, 'server': 0},
                 epoch={'client': None, 'server': None}, seq={}, hello_count=0,
                 deferred_ch=None, derived_count=0)
    same_as = []

    def check_prk(step, f, expected_name):
        if 'PRK' in f and t.has(expected_name) and f['PRK'] != t.get(expected_name):
            fail('line %d: PRK is not %s' % (step['line'], expected_name))

    for step in steps:
        role, action, line = step['role'], step['action'], step['line']
        f = fields(step)
        if not f:
            same_as.append((role, action))
            continue

        m = re.match(r'create an ephemeral (x25519|P-256) key pair:$', action)
        if m:
            group = 'x25519' if m.group(1) == 'x25519' else 'p256'
            t.param('%s_%s_private' % (role, group), f['private key'])
            t.param('%s_%s_public' % (role, group), f['public key'])
            continue

        m = re.match(r'extract secret "(early|handshake|master)":$', action)
        if m:
            which = m.group(1)
            if which == 'early':
                if f['salt'] != 'zero':
                    fail('line %d: early salt not zero' % line)
                if f['IKM'] != bytes(32):
                    t.param('resumption_psk', f['IKM'],
                            'PSK = section 3 secret resumption_psk (input keying material of "early")')
                t.secret('early_secret', f['secret'])
            elif which == 'handshake':
                if f['salt'] != t.get('derived_for_handshake'):
                    fail('line %d: handshake salt mismatch' % line)
                t.secret('ecdhe_shared', f['IKM'])
                t.secret('handshake_secret', f['secret'])
            else:
                if f['salt'] != t.get('derived_for_master') or f['IKM'] != bytes(32):
                    fail('line %d: master salt/IKM mismatch' % line)
                t.secret('master_secret', f['secret'])
            continue

        m = re.match(r'derive secret for (handshake|master) "tls13 derived":$', action)
        if m:
            name = 'derived_for_' + m.group(1)
            check_prk(step, f, 'early_secret' if m.group(1) == 'handshake' else 'handshake_secret')
            t.secret(name, f['expanded'])
            continue

        m = re.match(r'derive secret "(tls13 [a-z ]+)":$', action)
        if m:
            label = m.group(1)
            name, hname = DERIVE_LABELS[label]
            check_prk(step, f, DERIVE_PRK[label])
            t.secret(hname, f['hash'])
            t.secret(name, f['expanded'])
            continue

        if re.match(r'generate resumption secret "tls13 resumption":$', action):
            check_prk(step, f, 'resumption_master_secret')
            t.secret('resumption_psk', f['expanded'])
            state['resumption_nonce'] = f['hash']
            continue

        m = re.match(r'derive (read|write) traffic keys for (early application|handshake|application) data:$', action)
        if m:
            rw, phase = m.group(1), m.group(2).split()[0]
            writer = role if rw == 'write' else OTHER[role]
            check_prk(step, f, TRAFFIC_SECRET[(writer, phase)])
            t.secret('%s_%s_write_key' % (writer, phase), f['key expanded'])
            t.secret('%s_%s_write_iv' % (writer, phase), f['iv expanded'])
            if state['epoch'][writer] != phase:
                state['epoch'][writer] = phase
                state['seq'][(writer, phase)] = 0
            continue

        if re.match(r'calculate finished "tls13 finished":$', action):
            check_prk(step, f, '%s_handshake_traffic_secret' % role)
            t.secret('%s_finished_key' % role, f['expanded'])
            t.secret('%s_verify_data' % role, f['finished'])
            continue

        if re.match(r'calculate PSK binder:$', action):
            t.secret('binder_key', f['PRK'])
            t.secret('binder_transcript_hash', f['binder hash'])
            t.secret('binder_finished_key', f['expanded'])
            t.secret('psk_binder', f['finished'])
            state['binder_prefix'] = f['ClientHello prefix']
            continue

        m = re.match(r'construct an? (\w+) handshake message:$', action)
        if m:
            kind = m.group(1)
            msg = f[kind]
            if msg[0] != MESSAGE_TYPES[kind]:
                fail('line %d: %s has type %d' % (line, kind, msg[0]))
            if kind == 'ClientHello':
                state['hello_count'] += 1
                name = 'client_hello' if state['hello_count'] == 1 else 'client_hello_2'
                if not hs_len_ok(msg):
                    # Section 4 prints the ClientHello without its binders; the
                    # full message is the payload of the record that follows.
                    state['deferred_ch'] = (name, msg)
                    state['pending'][role].append(None)
                    continue
            elif kind == 'ServerHello':
                name = 'hello_retry_request' if msg[6:38] == HRR_RANDOM else 'server_hello'
            elif kind in ('Certificate', 'CertificateVerify'):
                base = 'certificate' if kind == 'Certificate' else 'certificate_verify'
                name = base if role == 'server' else 'client_' + base
            elif kind == 'Finished':
                name = role + '_finished'
                if msg[4:] != t.get(role + '_verify_data'):
                    fail('line %d: Finished does not carry verify_data' % line)
            else:
                name = re.sub(r'(?<!^)([A-Z])', r'_\1', kind).lower()
            if not hs_len_ok(msg):
                fail('line %d: %s header length mismatch' % (line, name))
            t.entry('message', name, msg)
            state['pending'][role].append(name)
            continue

        m = re.match(r'send (handshake|application_data|alert|change_cipher_spec) record:$', action)
        if m:
            ctype = m.group(1)
            payload, record = f['payload'], f['complete record']
            if int.from_bytes(record[3:5], 'big') + 5 != len(record):
                fail('line %d: record header length mismatch' % line)
            protected = record[0] == 23
            if not protected:
                if record[0] != CONTENT[ctype] or record[5:] != payload:
                    fail('line %d: plaintext record does not match payload' % line)
            elif len(record) - 5 != len(payload) + 1 + 16:
                fail('line %d: protected record length is not payload+1+16' % line)
            carried = []
            if ctype == 'handshake':
                msgs = split_messages(payload)
                names = state['pending'][role]
                if len(msgs) != len(names):
                    fail('line %d: record carries %d messages, %d constructed' % (line, len(msgs), len(names)))
                for name, msg in zip(names, msgs):
                    if name is None:
                        dname, prefix = state['deferred_ch']
                        if not msg.startswith(prefix):
                            fail('line %d: truncated ClientHello is not a prefix' % line)
                        if state.get('binder_prefix') not in (None, prefix):
                            fail('line %d: binder prefix mismatch' % line)
                        t.entry('message', dname, msg)
                        name = dname
                    elif t.get(name) != msg:
                        fail('line %d: record payload differs from message %s' % (line, name))
                    carried.append(name)
                state['pending'][role] = []
            elif ctype == 'application_data':
                epoch = state['epoch'][role] if protected else None
                pname = '%s_early_data' % role if epoch == 'early' else '%s_application_data' % role
                t.param(pname, payload)
                carried.append('param ' + pname)
            elif ctype == 'alert':
                t.param('%s_alert' % role, payload)
                carried.append('param %s_alert' % role)
            else:
                carried.append('change_cipher_spec 01')
            state['record_no'][role] += 1
            rname = '%s_%d' % (role, state['record_no'][role])
            if protected:
                epoch = state['epoch'][role]
                seq = state['seq'][(role, epoch)]
                state['seq'][(role, epoch)] = seq + 1
                t.comment('%s: protected (%s_%s_write_key/iv, seq %d), inner type %s (%d): %s'
                          % (rname, role, epoch, seq, ctype, CONTENT[ctype], ', '.join(carried)))
            else:
                t.comment('%s: plaintext %s (%d): %s'
                          % (rname, ctype, CONTENT[ctype], ', '.join(carried)))
            t.entry('record', rname, record)
            continue

        fail('line %d: unhandled step %r' % (line, action))

    # derived parameters from messages
    ch = t.get('client_hello')
    random, sid, exts = parse_client_hello(ch)
    extra = [('client_random', random, None)]
    if sid:
        extra.append(('client_legacy_session_id', sid, 'ClientHello legacy_session_id (compatibility mode)'))
    if t.has('client_hello_2'):
        r2, sid2, exts2 = parse_client_hello(t.get('client_hello_2'))
        if r2 != random or sid2 != sid:
            fail('second ClientHello changes random or session id')
    sh_random, sh_exts = parse_server_hello(t.get('server_hello'))
    extra.append(('server_random', sh_random, None))
    if t.has('hello_retry_request'):
        _, hrr_exts = parse_server_hello(t.get('hello_retry_request'))
        cookie_ext = hrr_exts[44]
        cookie = cookie_ext[2:2 + int.from_bytes(cookie_ext[:2], 'big')]
        extra.append(('hrr_cookie', cookie, 'cookie extension value sent in HelloRetryRequest '
                      '(opaque; the server\'s cookie protection key is not given)'))
    if t.has('certificate'):
        extra.append(('server_certificate', first_certificate(t.get('certificate')),
                      'DER of the first CertificateEntry of message certificate'))
    if t.has('client_certificate'):
        extra.append(('client_certificate_der', first_certificate(t.get('client_certificate')),
                      'DER of the first CertificateEntry of message client_certificate'))
    if t.has('new_session_ticket'):
        nst = parse_new_session_ticket(t.get('new_session_ticket'))
        if nst['nonce'] != state.get('resumption_nonce'):
            fail('ticket nonce differs from "tls13 resumption" context')
        s3_state.update(nst)
        s3_state['resumption_psk'] = t.get('resumption_psk')
    if 41 in exts:
        identity, obf_age, binder, _ = parse_psk_extension(exts[41])
        if binder != t.get('psk_binder'):
            fail('binder in ClientHello differs from computed binder')
        if s3_state:
            if identity != s3_state['ticket']:
                fail('PSK identity differs from section 3 ticket')
            if t.get('resumption_psk') != s3_state['resumption_psk']:
                fail('section 4 PSK differs from section 3 resumption_psk')
        extra.append(('psk_identity', identity, 'PSK identity = ticket of section 3 NewSessionTicket'))
        extra.append(('obfuscated_ticket_age', obf_age, 'from the ClientHello pre_shared_key extension'))
        if s3_state:
            extra.append(('ticket_lifetime', s3_state['lifetime'], 'from section 3 NewSessionTicket'))
            extra.append(('ticket_age_add', s3_state['age_add'], 'from section 3 NewSessionTicket'))
            extra.append(('ticket_nonce', s3_state['nonce'], 'from section 3 NewSessionTicket'))
            if s3_state['early_data'] is not None:
                extra.append(('max_early_data_size', s3_state['early_data'],
                              'early_data extension of section 3 NewSessionTicket'))
            age = (int.from_bytes(obf_age, 'big') - int.from_bytes(s3_state['age_add'], 'big')) % 2**32
            extra.append(('ticket_age', age.to_bytes(4, 'big'),
                          'DERIVED, not printed in the RFC: (obfuscated_ticket_age - ticket_age_add) '
                          'mod 2^32, in milliseconds'))
    return t, extra


RSA_NAMES = [
    ('modulus (public)', 'server_rsa_modulus'),
    ('public exponent', 'server_rsa_public_exponent'),
    ('private exponent', 'server_rsa_private_exponent'),
    ('prime1', 'server_rsa_prime1'),
    ('prime2', 'server_rsa_prime2'),
    ('exponent1', 'server_rsa_exponent1'),
    ('exponent2', 'server_rsa_exponent2'),
    ('coefficient', 'server_rsa_coefficient'),
]

TITLES = {
    3: 'Simple 1-RTT Handshake',
    4: 'Resumed 0-RTT Handshake',
    5: 'HelloRetryRequest',
    6: 'Client Authentication',
    7: 'Compatibility Mode',
}

NOTES = {
    3: [
        'Full handshake, x25519, TLS_AES_128_GCM_SHA256, server authenticated with the',
        'RSA-1024 certificate of RFC 8448 section 2 (rsa_pss_rsae_sha256 CertificateVerify).',
        'The server sends a NewSessionTicket that section 4 resumes.',
        'Not provided by the RFC:',
        '- the RSA-PSS salt of the CertificateVerify signature: the signature can be',
        '  verified with the certificate key, but a server cannot regenerate these bytes;',
        '- the ticket protection key: the ticket in new_session_ticket is opaque.',
    ],
    4: [
        'PSK resumption (psk_dhe_ke) of the section 3 session with 0-RTT data; x25519,',
        'TLS_AES_128_GCM_SHA256. No certificate is sent.',
        'The PSK (param resumption_psk) is section 3\'s secret resumption_psk =',
        'HKDF-Expand-Label(resumption_master_secret, "resumption", ticket_nonce, 32).',
        'Ticket parameters (lifetime, age_add, nonce, max_early_data_size) are taken from',
        'the section 3 NewSessionTicket; param ticket_age is derived, not printed.',
        'The RFC prints "ClientHello (477 octets)" as the ClientHello truncated before the',
        'binders list (the binder input); message client_hello is the full 512-octet',
        'ClientHello taken from the record payload.',
        'Not provided by the RFC:',
        '- the ticket protection key: a server-side replay must map psk_identity to the PSK',
        '  itself (inject the ticket decryption);',
        '- the client\'s clock: only the obfuscated age is given.',
    ],
    5: [
        'The first ClientHello carries only an x25519 key share; the server prefers P-256',
        'and answers with a HelloRetryRequest (labelled "ServerHello" in the RFC) carrying',
        'a cookie; the second ClientHello has a P-256 share. TLS_AES_128_GCM_SHA256, RSA',
        'certificate of section 2. The transcript starts with',
        'message_hash(client_hello) || hello_retry_request.',
        'ecdhe_shared is the P-256 ECDH x-coordinate (32 octets).',
        'No NewSessionTicket and no application data in this section.',
        'Not provided by the RFC:',
        '- the RSA-PSS salt of the CertificateVerify signature (verify only, cannot be',
        '  regenerated);',
        '- the cookie protection key: param hrr_cookie is opaque, a server-side replay must',
        '  emit and accept it as given.',
    ],
    6: [
        'Full handshake with client authentication: the server sends CertificateRequest;',
        'the server has an ECDSA P-256 certificate (ecdsa_secp256r1_sha256 signature), the',
        'client an RSA-1024 certificate (rsa_pss_rsae_sha256). x25519, TLS_AES_128_GCM_SHA256.',
        'The RSA key of RFC 8448 section 2 is NOT used here, so no server_rsa_* params.',
        'Not provided by the RFC:',
        '- the server\'s ECDSA private key and the client\'s RSA private key ("private keys',
        '  for the certificates used in this example are not shown"): both',
        '  CertificateVerify signatures can be verified but not regenerated;',
        '- no NewSessionTicket and no application data in this section.',
    ],
    7: [
        'Middlebox compatibility mode (RFC 8446 appendix D.4): 32-octet',
        'legacy_session_id echoed by the server, and a change_cipher_spec record from each',
        'side. x25519, TLS_AES_128_GCM_SHA256, RSA certificate of section 2.',
        'Not provided by the RFC:',
        '- the RSA-PSS salt of the CertificateVerify signature (verify only, cannot be',
        '  regenerated);',
        '- no NewSessionTicket and no application data in this section.',
    ],
}

PARAM_ORDER = [
    'server_rsa_modulus', 'server_rsa_public_exponent', 'server_rsa_private_exponent',
    'server_rsa_prime1', 'server_rsa_prime2', 'server_rsa_exponent1', 'server_rsa_exponent2',
    'server_rsa_coefficient', 'server_certificate', 'client_certificate_der',
    'resumption_psk', 'psk_identity', 'ticket_lifetime', 'ticket_age_add', 'ticket_nonce',
    'max_early_data_size', 'obfuscated_ticket_age', 'ticket_age',
    'client_random', 'client_legacy_session_id',
    'client_x25519_private', 'client_x25519_public', 'client_p256_private', 'client_p256_public',
    'server_random', 'hrr_cookie',
    'server_x25519_private', 'server_x25519_public', 'server_p256_private', 'server_p256_public',
    'client_early_data', 'client_application_data', 'server_application_data',
    'client_alert', 'server_alert',
]


def render(section, t, extra, rsa_params):
    uses_rsa = t.has('certificate') and section != 6
    params = []
    if uses_rsa:
        params += [(n, v, None) for n, v in rsa_params]
    params += extra
    params += t.params
    seen = {}
    for n, v, c in params:
        if n in seen and seen[n][0] != v:
            fail('param %s conflicts' % n)
        if n not in seen:
            seen[n] = (v, c)
    if uses_rsa:
        # the certificate must carry the section 2 modulus
        if seen['server_rsa_modulus'][0] not in seen['server_certificate'][0]:
            fail('section %d: certificate does not contain the section 2 modulus' % section)
    unknown = [n for n in seen if n not in PARAM_ORDER]
    if unknown:
        fail('unordered params %r' % unknown)
    names_all = set(seen) | {e[2] for e in t.body if e[0] == 'entry'}
    if len(names_all) != len(seen) + len([e for e in t.body if e[0] == 'entry']):
        fail('section %d: a name is used by two kinds' % section)

    out = []
    out.append('# RFC 8448 section %d: %s' % (section, TITLES[section]))
    out.append('# Generated by Tools/scripts/rfc8448_to_trace.py from the text of RFC 8448;')
    out.append('# regenerate rather than edit. Format: Spec/trace-format.md.')
    out.append('#')
    for n in NOTES[section]:
        out.append('# ' + n)
    out.append('')
    out.append('# ---- fixed inputs')
    for n in PARAM_ORDER:
        if n in seen:
            v, c = seen[n]
            if n.startswith('server_rsa_') and n == 'server_rsa_modulus':
                out.append('# server RSA key of RFC 8448 section 2 (the key of server_certificate)')
            if c:
                out.append('# ' + c)
            out.append('param %s = %s' % (n, v.hex()))
    out.append('')
    out.append('# ---- handshake, in trace order')
    for e in t.body:
        if e[0] == 'comment':
            out.append('# ' + e[1])
        else:
            _, kind, name, value = e
            out.append('%s %s = %s' % (kind, name, value.hex()))
    return '\n'.join(out) + '\n', len(seen), len([e for e in t.body if e[0] == 'entry'])


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    repo = os.path.dirname(os.path.dirname(here))
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--rfc', default='/work/shared/rfc/rfc8448.txt')
    ap.add_argument('--out', default=os.path.join(repo, 'Vectors', 'rfc8448'))
    args = ap.parse_args()
    with open(args.rfc, encoding='ascii') as fh:
        text = fh.read()
    rsa, steps = parse_rfc(text)
    rsa_map = dict(rsa)
    rsa_params = [(name, rsa_map[label]) for label, name in RSA_NAMES]
    os.makedirs(args.out, exist_ok=True)
    s3_state = {}
    for section in sorted(FILES):
        sec_steps = [s for s in steps if s['section'] == section]
        t, extra = build_section(section, sec_steps, rsa, s3_state if section in (3, 4) else {})
        text_out, nparams, nbody = render(section, t, extra, rsa_params)
        path = os.path.join(args.out, FILES[section])
        with open(path, 'w') as fh:
            fh.write(text_out)
        kinds = {}
        for e in t.body:
            if e[0] == 'entry':
                kinds[e[1]] = kinds.get(e[1], 0) + 1
        print('%s: %d param, %d message, %d secret, %d record' % (
            FILES[section], nparams, kinds.get('message', 0), kinds.get('secret', 0),
            kinds.get('record', 0)))


if __name__ == '__main__':
    try:
        main()
    except ExtractError as e:
        print('error: %s' % e, file=sys.stderr)
        sys.exit(1)
