private import COpenSSL

/// A server TLS configuration over the system OpenSSL: certificate chain, key, TLS 1.2 or newer,
/// and ALPN choosing `h2` or `http/1.1`.
///
/// `@unchecked Sendable`: the `SSL_CTX` is configured once in `init` and only read afterwards,
/// which OpenSSL allows from any thread.
package final class TLSContext: @unchecked Sendable {
    let raw: OpaquePointer

    package struct Failure: Error, CustomStringConvertible {
        package var description: String
    }

    /// ALPN protocols we accept, in preference order (RFC 7301 wire format).
    private static let alpn: [UInt8] = [2] + Array("h2".utf8) + [8] + Array("http/1.1".utf8)

    package init(certificateChainFile: String, privateKeyFile: String) throws(Failure) {
        guard let context = SSL_CTX_new(TLS_server_method()) else { throw Self.failure("cannot create an SSL_CTX") }
        self.raw = context
        guard cssl_ctx_set_min_tls12(context) == 1 else { throw Self.failure("cannot require TLS 1.2") }
        guard SSL_CTX_use_certificate_chain_file(context, certificateChainFile) == 1 else {
            throw Self.failure("cannot load the certificate chain \(certificateChainFile)")
        }
        guard SSL_CTX_use_PrivateKey_file(context, privateKeyFile, SSL_FILETYPE_PEM) == 1 else {
            throw Self.failure("cannot load the private key \(privateKeyFile)")
        }
        guard SSL_CTX_check_private_key(context) == 1 else {
            throw Self.failure("the private key does not match the certificate")
        }
        SSL_CTX_set_alpn_select_cb(context, { _, out, outLength, input, inputLength, _ in
            // Pick the first of our protocols the client offers; no overlap means no ALPN.
            var selected: UnsafeMutablePointer<UInt8>?
            let result = TLSContext.alpn.withUnsafeBufferPointer { server in
                SSL_select_next_proto(&selected, outLength, server.baseAddress, UInt32(server.count), input, inputLength)
            }
            guard result == OPENSSL_NPN_NEGOTIATED, let selected else { return SSL_TLSEXT_ERR_NOACK }
            out?.pointee = UnsafePointer(selected)
            return SSL_TLSEXT_ERR_OK
        }, nil)
    }

    deinit {
        SSL_CTX_free(self.raw)
    }

    private static func failure(_ message: String) -> Failure {
        let code = ERR_get_error()
        var buffer = [CChar](repeating: 0, count: 256)
        ERR_error_string_n(code, &buffer, buffer.count)
        let text = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        let detail = code == 0 ? "" : ": " + text
        return Failure(description: message + detail)
    }
}
