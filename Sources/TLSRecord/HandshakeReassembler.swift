/// One complete handshake message.
public struct HandshakeMessage: Equatable, Sendable {
    /// The msg_type byte as received.
    public var typeCode: UInt8
    /// The body (without the 4-byte header).
    public var body: [UInt8]
    /// Header + body, exactly as received: what goes into the transcript.
    public var raw: [UInt8]

    /// The known type, or nil for a code this library does not know (the
    /// handshake layer answers `unexpected_message`).
    public var type: HandshakeType? { HandshakeType(rawValue: typeCode) }

    public init(typeCode: UInt8, body: [UInt8]) {
        self.typeCode = typeCode
        self.body = body
        let n = body.count
        var raw: [UInt8] = []
        raw.reserveCapacity(4 + n)
        raw.append(typeCode)
        raw.append(UInt8(truncatingIfNeeded: n >> 16))
        raw.append(UInt8(truncatingIfNeeded: n >> 8))
        raw.append(UInt8(truncatingIfNeeded: n))
        raw.append(contentsOf: body)
        self.raw = raw
    }

    public init(_ type: HandshakeType, body: [UInt8]) {
        self.init(typeCode: type.rawValue, body: body)
    }
}

/// Reassembles handshake messages from handshake-record fragments: several
/// messages per record, or one message split across records.
///
/// Errors are sticky, like `RecordReader`'s.
public struct HandshakeReassembler {
    /// Largest message body accepted (the 24-bit length); checked as soon as a
    /// message header is complete, before its body is buffered.
    public var maxMessageSize: Int

    private var buffer: [UInt8] = []
    private var start = 0
    /// Offset (from `start`) up to which message headers have been checked.
    private var checkedUpTo = 0
    private var failure: RecordLayerError?

    public init(maxMessageSize: Int = 65536) {
        self.maxMessageSize = maxMessageSize
    }

    public init(limits: RecordLimits) {
        self.init(maxMessageSize: limits.maxHandshakeMessageSize)
    }

    /// No partial message is buffered. RFC 8446 5.1: handshake messages must not
    /// span a key change, nor be interleaved with other record types; the
    /// handshake layer checks this when it changes keys and when a non-handshake
    /// record arrives (and answers `unexpected_message` if it is false).
    public var isEmpty: Bool { buffer.count == start }

    /// Bytes buffered (complete messages not yet taken plus any partial one).
    public var bufferedByteCount: Int { buffer.count - start }

    /// Appends the content of one handshake record.
    public mutating func feed(_ fragment: UnsafeRawBufferPointer) throws(RecordLayerError) {
        if let failure { throw failure }
        guard fragment.count > 0 else {
            let e = RecordLayerError(.unexpectedMessage, "zero-length handshake fragment")
            failure = e
            throw e
        }
        compact()
        // Check every header that becomes complete with this fragment before
        // keeping its bytes.
        do {
            try checkHeaders(extra: fragment)
        } catch {
            failure = error
            throw error
        }
        buffer.append(contentsOf: fragment)
    }

    public mutating func feed(_ fragment: ArraySlice<UInt8>) throws(RecordLayerError) {
        var result: RecordLayerError? = nil
        fragment.withUnsafeBytes { raw in
            do throws(RecordLayerError) { try feed(raw) } catch { result = error }
        }
        if let result { throw result }
    }

    public mutating func feed(_ fragment: [UInt8]) throws(RecordLayerError) {
        try feed(fragment[...])
    }

    /// The next complete message, or nil if more fragments are needed.
    public mutating func nextMessage() throws(RecordLayerError) -> HandshakeMessage? {
        if let failure { throw failure }
        let available = buffer.count - start
        guard available >= 4 else { return nil }
        let length = Int(buffer[start + 1]) << 16 | Int(buffer[start + 2]) << 8 | Int(buffer[start + 3])
        guard length <= maxMessageSize else {
            // Only reachable if maxMessageSize was lowered after feeding.
            let e = RecordLayerError(.illegalParameter, "handshake message of \(length) bytes exceeds the limit of \(maxMessageSize)", kind: .limitExceeded)
            failure = e
            throw e
        }
        guard available >= 4 + length else { return nil }
        let end = start + 4 + length
        let raw = Array(buffer[start..<end])
        let message = HandshakeMessage(typeCode: raw[0], body: Array(raw[4...]), raw: raw)
        start = end
        checkedUpTo = max(0, checkedUpTo - (4 + length))
        if start == buffer.count {
            buffer.removeAll(keepingCapacity: true)
            start = 0
            checkedUpTo = 0
        }
        return message
    }

    /// Walks the message headers of (buffered bytes || extra) from the first
    /// unchecked one and rejects any declared length over the limit.
    private mutating func checkHeaders(extra: UnsafeRawBufferPointer) throws(RecordLayerError) {
        let buffered = buffer.count - start
        let total = buffered + extra.count
        var pos = checkedUpTo
        while pos + 4 <= total {
            var header: (UInt8, UInt8, UInt8) = (0, 0, 0)
            for k in 1...3 {
                let i = pos + k
                let b = i < buffered ? buffer[start + i] : extra[i - buffered]
                switch k { case 1: header.0 = b; case 2: header.1 = b; default: header.2 = b }
            }
            let length = Int(header.0) << 16 | Int(header.1) << 8 | Int(header.2)
            guard length <= maxMessageSize else {
                throw RecordLayerError(.illegalParameter, "handshake message of \(length) bytes exceeds the limit of \(maxMessageSize)", kind: .limitExceeded)
            }
            pos += 4 + length
        }
        checkedUpTo = pos
    }

    private mutating func compact() {
        guard start > 0 else { return }
        buffer.removeSubrange(0..<start)
        start = 0
    }
}

extension HandshakeMessage {
    init(typeCode: UInt8, body: [UInt8], raw: [UInt8]) {
        self.typeCode = typeCode
        self.body = body
        self.raw = raw
    }
}
