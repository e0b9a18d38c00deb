import TLSCrypto
import TLSRecord

/// Exporters and the sessions a connection can be resumed with.
extension TLSConnection {
    /// TLS-Exporter (RFC 8446 7.5 / RFC 5705).
    public func exportKeyingMaterial(label: String, context: [UInt8], length: Int) throws -> [UInt8] {
        if let t = session12, status == .established {
            guard length > 0, length <= 16384 else { throw HandshakeError(.internalError, "exporter length out of range") }
            return TLS12PRF.exporter(t.suite.hash, masterSecret: t.masterSecret, label: label, clientRandom: t.clientRandom,
                                     serverRandom: t.serverRandom, context: context, length: length)
        }
        guard let s = secrets, status == .established else { throw HandshakeError(.internalError, "exporter needs an established connection") }
        guard length > 0, length <= 255 * s.suite.hash.digestLength else { throw HandshakeError(.internalError, "exporter length out of range") }
        return TLS13KDF.exporter(s.suite.hash, exporterSecret: s.exporterMasterSecret, label: label, context: context, length: length)
    }

    /// The TLS 1.2 session state (renegotiation and exporter inputs), for tests.
    var currentSessionForTesting: TLS12Session? { session12 }

    /// The newest resumable session (for `--sess-out` and `get_session_id`).
    public var currentSession: StoredSession? { sessionInvalidated ? nil : sessions.last }

    /// NSS `invalidate_session`: this session is never resumed again; the connection goes on.
    public func invalidateSession() {
        sessionInvalidated = true
        sessions.removeAll()
        if let key = config.sessionKey { config.clientSessionStore?.remove(key: key) }
        if let id = negotiated?.sessionID, !id.isEmpty { config.serverSessionStore?.remove(id: id) }
    }

    func rememberSession(_ s: StoredSession) {
        guard !sessionInvalidated, !config.sessionCacheDisabled else { return }
        sessions.append(s)
        if sessions.count > 8 { sessions.removeFirst() }
        if let key = config.sessionKey { config.clientSessionStore?.store(key: key, session: s) }
    }
}
