/// How much zero padding TLS 1.3 adds to each protected record's
/// TLSInnerPlaintext (RFC 8446 5.4). Padding never makes content + padding
/// exceed the writer's `maxFragmentLength`. Ignored for TLS 1.2 and for
/// plaintext records.
public enum PaddingPolicy {
    case none
    /// Pads the TLSInnerPlaintext (content + content type byte + padding) to the
    /// next multiple of `n` bytes (capped at the fragment limit). n <= 1: no padding.
    case padToMultiple(Int)
    /// Returns the number of padding bytes for a record of `contentType` with
    /// `contentLength` bytes of content; `maxPadding` is the most allowed. The
    /// result is clamped to 0...maxPadding.
    case custom((_ contentType: ContentType, _ contentLength: Int, _ maxPadding: Int) -> Int)

    func padding(for type: ContentType, contentLength: Int, maxPadding: Int) -> Int {
        let cap = max(0, maxPadding)
        switch self {
        case .none:
            return 0
        case .padToMultiple(let n):
            guard n > 1 else { return 0 }
            let inner = contentLength + 1
            let pad = (n - inner % n) % n
            return min(pad, cap)
        case .custom(let f):
            return min(max(f(type, contentLength, cap), 0), cap)
        }
    }
}

/// Writes records: fragments a payload, protects each fragment, and appends the
/// records to a caller-owned output buffer (reuse it to avoid allocation).
public struct RecordWriter {
    public private(set) var cipher: RecordCipher?
    /// The negotiated version (nil before the hello messages settle it).
    public private(set) var version: ProtocolVersion?
    /// legacy_record_version written in record headers. Starts at TLS 1.0
    /// (0x0301, allowed for an initial ClientHello, RFC 8446 5.1); `setCipher`
    /// sets it to 0x0303 for TLS 1.3 and to the version itself otherwise.
    public var recordVersion: ProtocolVersion = .tls10
    /// TLS 1.3 padding for protected records.
    public var paddingPolicy: PaddingPolicy = .none
    /// Largest content per record (TLSInnerPlaintext.content in TLS 1.3, with any
    /// padding counted against it). Lower it to the peer's record_size_limit
    /// (`RecordLimits.contentLimit(forRecordSizeLimit:version:)`); values outside
    /// 1...2^14 are clamped.
    public var maxFragmentLength: Int = RecordLimits.protocolMaxPlaintext

    private var failure: RecordLayerError?

    public init(maxFragmentLength: Int = RecordLimits.protocolMaxPlaintext) {
        self.maxFragmentLength = maxFragmentLength
    }

    /// Installs the protection for records written from now on (nil = plaintext)
    /// and the negotiated version.
    public mutating func setCipher(_ cipher: RecordCipher?, version: ProtocolVersion) {
        self.cipher = cipher
        self.version = version
        self.recordVersion = version >= .tls13 ? .tls12 : version
    }

    private var effectiveFragmentLength: Int {
        min(max(maxFragmentLength, 1), RecordLimits.protocolMaxPlaintext)
    }

    /// Upper bound of the bytes `write` appends for `payloadLength` bytes of
    /// `type` under the current state, not counting custom padding.
    public func maxOutputSize(for type: ContentType, payloadLength: Int) -> Int {
        let limit = effectiveFragmentLength
        let records = max(1, (payloadLength + limit - 1) / limit)
        var perRecord = 5
        if let c = cipher, !(type == .changeCipherSpec && c.framing == .tls13) {
            perRecord += c.overhead
            if c.framing == .tls13, case .padToMultiple(let n) = paddingPolicy, n > 1 { perRecord += min(n, limit) }
        }
        return payloadLength + records * perRecord
    }

    /// Appends one or more records carrying `payload` (fragmented at
    /// `maxFragmentLength`) to `output`. Zero-length application data yields one
    /// empty record; zero-length handshake or alert payloads, alerts that are not
    /// 2 bytes, and application data without protection are refused
    /// (internal_error). A TLS 1.3 change_cipher_spec is written unprotected.
    /// On failure `output` is left as it was; after a sealing failure (e.g. an
    /// exhausted sequence number) the writer refuses further use.
    public mutating func write(_ type: ContentType, _ payload: UnsafeRawBufferPointer, into output: inout [UInt8]) throws(RecordLayerError) {
        if let failure { throw failure }
        switch type {
        case .handshake where payload.count == 0:
            throw RecordLayerError(.internalError, "refusing to write a zero-length handshake record", kind: .localFailure)
        case .alert where payload.count != 2:
            throw RecordLayerError(.internalError, "an alert record carries exactly one 2-byte alert, not \(payload.count) bytes", kind: .localFailure)
        case .applicationData where cipher == nil:
            throw RecordLayerError(.internalError, "refusing to write application data without record protection", kind: .localFailure)
        default:
            break
        }
        let protection: RecordCipher?
        if let c = cipher, !(type == .changeCipherSpec && c.framing == .tls13) {
            protection = c
        } else {
            protection = nil
        }
        let originalCount = output.count
        output.reserveCapacity(originalCount + maxOutputSize(for: type, payloadLength: payload.count))
        let limit = effectiveFragmentLength
        var offset = 0
        repeat {
            let chunk = min(limit, payload.count - offset)
            let slice = UnsafeRawBufferPointer(rebasing: payload[offset..<(offset + chunk)])
            do {
                try writeRecord(type, slice, maxContent: limit, protection: protection, into: &output)
            } catch {
                output.removeSubrange(originalCount...)
                failure = error
                throw error
            }
            offset += chunk
        } while offset < payload.count
    }

    public mutating func write(_ type: ContentType, _ payload: [UInt8], into output: inout [UInt8]) throws(RecordLayerError) {
        var result: RecordLayerError? = nil
        payload.withUnsafeBytes { raw in
            do throws(RecordLayerError) { try write(type, raw, into: &output) } catch { result = error }
        }
        if let result { throw result }
    }

    public mutating func write(_ type: ContentType, _ payload: ArraySlice<UInt8>, into output: inout [UInt8]) throws(RecordLayerError) {
        var result: RecordLayerError? = nil
        payload.withUnsafeBytes { raw in
            do throws(RecordLayerError) { try write(type, raw, into: &output) } catch { result = error }
        }
        if let result { throw result }
    }

    /// Convenience: the records as a new array.
    public mutating func records(_ type: ContentType, _ payload: [UInt8]) throws(RecordLayerError) -> [UInt8] {
        var out: [UInt8] = []
        try write(type, payload, into: &out)
        return out
    }

    private func writeRecord(_ type: ContentType, _ content: UnsafeRawBufferPointer, maxContent: Int,
                             protection: RecordCipher?, into output: inout [UInt8]) throws(RecordLayerError) {
        let headerStart = output.count
        guard let c = protection else {
            appendHeader(type.rawValue, length: content.count, into: &output)
            output.append(contentsOf: content)
            return
        }
        let outerType: UInt8
        let padding: Int
        if c.framing == .tls13 {
            outerType = ContentType.applicationData.rawValue
            padding = paddingPolicy.padding(for: type, contentLength: content.count, maxPadding: maxContent - content.count)
        } else {
            outerType = type.rawValue
            padding = 0
        }
        let innerLength = content.count + (c.framing == .tls13 ? 1 + padding : 0)
        let length = c.explicitNonceLength + innerLength + c.tagLength
        appendHeader(outerType, length: length, into: &output)
        let bodyStart = output.count + c.explicitNonceLength
        if c.explicitNonceLength > 0 { appendZeros(c.explicitNonceLength, to: &output) }
        // The content's first bytes (a multiple of 64) are encrypted on their way
        // into the record instead of being copied in and encrypted there: one pass
        // over a 16 KiB record fewer. The rest is sealed in place below.
        var encryptedHead = 0
        if content.count >= 64 {
            var beginError: RecordLayerError? = nil
            output.withUnsafeMutableBytes { raw in
                do throws(RecordLayerError) {
                    try c.beginSeal(header: UnsafeRawBufferPointer(rebasing: raw[headerStart..<(headerStart + 5)]),
                                    explicitNonce: UnsafeMutableRawBufferPointer(rebasing: raw[(headerStart + 5)..<bodyStart]),
                                    bodyLength: innerLength)
                } catch {
                    beginError = error
                }
            }
            if let beginError { throw beginError }
            output.append(contentsOf: EncryptingCopy(content: content, cipher: c))
            if let e = c.takeStepFailure() { throw e }
            encryptedHead = content.count / 64 * 64
        } else {
            output.append(contentsOf: content)
        }
        if c.framing == .tls13 {
            output.append(type.rawValue)
            if padding > 0 { appendZeros(padding, to: &output) }
        }
        appendZeros(c.tagLength, to: &output)
        let bodyEnd = bodyStart + innerLength
        let recordEnd = output.count

        var sealError: RecordLayerError? = nil
        output.withUnsafeMutableBytes { raw in
            let header = UnsafeRawBufferPointer(rebasing: raw[headerStart..<(headerStart + 5)])
            let explicit = UnsafeMutableRawBufferPointer(rebasing: raw[(headerStart + 5)..<bodyStart])
            let body = UnsafeMutableRawBufferPointer(rebasing: raw[bodyStart..<bodyEnd])
            let tag = UnsafeMutableRawBufferPointer(rebasing: raw[bodyEnd..<recordEnd])
            do throws(RecordLayerError) {
                if content.count >= 64 {
                    try c.finishSeal(rest: UnsafeMutableRawBufferPointer(rebasing: raw[(bodyStart + encryptedHead)..<bodyEnd]), tag: tag)
                } else {
                    try c.seal(header: header, explicitNonce: explicit, body: body, tag: tag)
                }
            } catch {
                sealError = error
            }
        }
        if let sealError { throw sealError }
    }

    /// Appended to a record buffer, writes `content` into it with its first
    /// bytes (a multiple of 64) encrypted on the way (`RecordCipher.sealStep`,
    /// after `beginSeal`), the rest copied: Array.append(contentsOf:) hands
    /// `_copyContents` the uninitialised space directly, so the content is not
    /// first copied in and then encrypted in place.
    /// (A failed step is left in the cipher, `takeStepFailure`, as `_copyContents` cannot throw.)
    private struct EncryptingCopy: Sequence {
        let content: UnsafeRawBufferPointer
        let cipher: RecordCipher

        var underestimatedCount: Int { content.count }
        func makeIterator() -> EmptyCollection<UInt8>.Iterator { EmptyCollection<UInt8>().makeIterator() }

        func _copyContents(initializing buffer: UnsafeMutableBufferPointer<UInt8>) -> (EmptyCollection<UInt8>.Iterator, Int) {
            precondition(buffer.count >= content.count)
            guard let out = buffer.baseAddress, let src = content.baseAddress else { return (makeIterator(), 0) }
            let head = content.count / 64 * 64
            if !cipher.sealStep(from: src, to: out, count: head) {
                out.initialize(repeating: 0, count: head)
            }
            UnsafeMutableRawPointer(out + head).copyMemory(from: src + head, byteCount: content.count - head)
            return (makeIterator(), content.count)
        }
    }

    private static let zeros = [UInt8](repeating: 0, count: 512)

    /// Appends `n` zero bytes (memcpy from a static buffer: no per-call allocation).
    private func appendZeros(_ n: Int, to output: inout [UInt8]) {
        var left = n
        while left > 0 {
            let k = min(left, RecordWriter.zeros.count)
            output.append(contentsOf: RecordWriter.zeros[0..<k])
            left -= k
        }
    }

    private func appendHeader(_ type: UInt8, length: Int, into output: inout [UInt8]) {
        output.append(type)
        output.append(recordVersion.major)
        output.append(recordVersion.minor)
        output.append(UInt8(truncatingIfNeeded: length >> 8))
        output.append(UInt8(truncatingIfNeeded: length))
    }
}
