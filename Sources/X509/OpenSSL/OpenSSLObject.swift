internal import COpenSSL
internal import CShims
import Foundation

/// Owns one OpenSSL object and frees it in exactly one place.
///
/// One generic owner rather than a class per C type: every owner would be this same three lines with a different
/// free function, and the typed Swift values (`Certificate`, `PrivateKey` …) already give the C pointers meaning.
// @unchecked Sendable: the wrapped objects are never mutated after construction, and OpenSSL 3 makes concurrent
// reads of X509, EVP_PKEY, X509_CRL and X509_REQ objects safe (their lazy caches are lock-protected).
final class OpenSSLObject: @unchecked Sendable {
    let pointer: OpaquePointer
    private let free: (OpaquePointer) -> Void

    init(_ pointer: OpaquePointer, free: @escaping (OpaquePointer) -> Void) {
        self.pointer = pointer
        self.free = free
    }

    deinit { free(pointer) }
}

/// OpenSSL's thread-local error queue, drained into strings.
enum OpenSSLErrorQueue {
    /// Removes and returns every queued error, oldest first.
    static func drain() -> [String] {
        var messages: [String] = []
        while true {
            let code = ERR_get_error()
            if code == 0 { break }
            var buffer = [CChar](repeating: 0, count: 256)
            ERR_error_string_n(code, &buffer, buffer.count)
            messages.append(OpenSSLSupport.string(buffer))
        }
        return messages
    }

    /// An `X509Error` that carries the drained queue.
    static func error(_ code: X509Error.Code, _ reason: String) -> X509Error {
        X509Error(code, reason, openSSLErrors: drain())
    }
}

/// Helpers shared by the OpenSSL wrappers.
enum OpenSSLSupport {
    /// Parses DER with an OpenSSL d2i function; nil when it does not parse.
    static func decode(
        _ der: [UInt8], _ d2i: (UnsafeMutablePointer<UnsafePointer<UInt8>?>, Int) -> OpaquePointer?
    ) -> OpaquePointer? {
        der.withUnsafeBufferPointer { buffer in
            var cursor: UnsafePointer<UInt8>? = buffer.baseAddress
            return d2i(&cursor, buffer.count)
        }
    }

    /// Serialises with an i2d function: asks for the length, then fills a buffer of that size.
    static func der(_ encode: (UnsafeMutablePointer<UnsafeMutablePointer<UInt8>?>?) -> Int32) throws -> [UInt8] {
        let length = encode(nil)
        guard length > 0 else { throw OpenSSLErrorQueue.error(.internalError, "could not encode DER") }
        var bytes = [UInt8](repeating: 0, count: Int(length))
        let written = bytes.withUnsafeMutableBufferPointer { buffer -> Int32 in
            var cursor: UnsafeMutablePointer<UInt8>? = buffer.baseAddress
            return encode(&cursor)
        }
        guard written == length else { throw OpenSSLErrorQueue.error(.internalError, "could not encode DER") }
        return bytes
    }

    /// Runs `body` with a fresh memory BIO and returns what was written to it as a string.
    static func withMemoryBIO(_ body: (OpaquePointer) -> Bool) -> String? {
        guard let bio = BIO_new(BIO_s_mem()) else { return nil }
        defer { BIO_free(bio) }
        guard body(bio) else { return nil }
        var data: UnsafeMutablePointer<CChar>?
        let length = symbolon_BIO_get_mem_data(bio, &data)
        guard length >= 0, let data else { return length == 0 ? "" : nil }
        return String(
            decoding: UnsafeRawBufferPointer(start: data, count: length).bindMemory(to: UInt8.self), as: UTF8.self)
    }

    /// A NUL-terminated C buffer as a String.
    static func string(_ buffer: [CChar]) -> String {
        String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// The bytes of an ASN1_STRING (or OCTET STRING, IA5String …).
    static func bytes(of string: UnsafePointer<ASN1_STRING>?) -> [UInt8] {
        guard let string, let data = ASN1_STRING_get0_data(string) else { return [] }
        return Array(UnsafeBufferPointer(start: data, count: Int(ASN1_STRING_length(string))))
    }

    /// An ASN1_STRING as UTF-8 text (converted from whatever string type it has).
    static func text(of string: UnsafePointer<ASN1_STRING>?) -> String {
        guard let string else { return "" }
        var out: UnsafeMutablePointer<UInt8>?
        let length = ASN1_STRING_to_UTF8(&out, string)
        guard length >= 0, let out else { return "" }
        defer { symbolon_OPENSSL_free(out) }
        return String(decoding: UnsafeBufferPointer(start: out, count: Int(length)), as: UTF8.self)
    }

    /// An ASN1_TIME as a Date.
    static func date(of time: UnsafePointer<ASN1_TIME>?) -> Date {
        guard let time else { return .distantPast }
        var parts = tm()
        guard ASN1_TIME_to_tm(time, &parts) == 1 else { return .distantPast }
        return Date(timeIntervalSince1970: TimeInterval(timegm(&parts)))
    }

    /// A new ASN1_TIME for `date` (UTCTime before 2050, GeneralizedTime after, as RFC 5280 requires).
    static func asn1Time(_ date: Date) throws -> OpenSSLObject {
        guard let time = ASN1_TIME_set(nil, time_t(date.timeIntervalSince1970.rounded(.down))) else {
            throw OpenSSLErrorQueue.error(.internalError, "could not encode the time \(date)")
        }
        return OpenSSLObject(OpaquePointer(time)) { ASN1_TIME_free(UnsafeMutablePointer($0)) }
    }

    /// An ASN1_INTEGER as lowercase hex (the form `openssl x509 -serial` prints, lowercased).
    static func hex(of integer: UnsafePointer<ASN1_INTEGER>?) -> String {
        guard let integer, let bn = ASN1_INTEGER_to_BN(integer, nil) else { return "" }
        defer { BN_free(bn) }
        guard let hex = BN_bn2hex(bn) else { return "" }
        defer { symbolon_OPENSSL_free(hex) }
        return String(cString: hex).lowercased()
    }

    /// An ASN1_INTEGER from big-endian unsigned bytes.
    static func asn1Integer(bigEndian bytes: [UInt8]) throws -> OpenSSLObject {
        guard let bn = BN_bin2bn(bytes, Int32(bytes.count), nil) else {
            throw OpenSSLErrorQueue.error(.internalError, "could not make an integer")
        }
        defer { BN_free(bn) }
        guard let integer = BN_to_ASN1_INTEGER(bn, nil) else {
            throw OpenSSLErrorQueue.error(.internalError, "could not make an integer")
        }
        return OpenSSLObject(OpaquePointer(integer)) { ASN1_INTEGER_free(UnsafeMutablePointer($0)) }
    }

    /// The dotted or short name of an ASN1_OBJECT: short name when OpenSSL knows one, else the dotted OID.
    static func dottedOID(of object: OpaquePointer?) -> String {
        guard let object else { return "" }
        var buffer = [CChar](repeating: 0, count: 128)
        let length = OBJ_obj2txt(&buffer, Int32(buffer.count), object, 1)
        guard length > 0 else { return "" }
        return OpenSSLSupport.string(buffer)
    }

    /// Number of elements of an OpenSSL stack.
    static func count(_ stack: OpaquePointer?) -> Int {
        guard let stack else { return 0 }
        return Int(max(0, OPENSSL_sk_num(stack)))
    }

    /// Element `index` of an OpenSSL stack, as an opaque pointer.
    static func element(_ stack: OpaquePointer, _ index: Int) -> OpaquePointer? {
        OPENSSL_sk_value(stack, Int32(index)).map { OpaquePointer($0) }
    }
}
