/// Listener settings and protective limits, each with a safe default.
package struct TransportConfiguration: Sendable {
    package var host: String
    /// 0 asks the OS for a free port; `TransportServer.localPort` tells which.
    package var port: Int
    /// Largest REST request body (HTTP/1.1 and h2), in bytes.
    package var maxHTTPBodySize: Int = 1 << 20
    /// Largest gRPC message a client may send, in bytes (larger → RESOURCE_EXHAUSTED).
    package var maxReceiveMessageSize: Int = 4 << 20
    package var maxConcurrentStreams: Int = 256
    package var maxHeaderListSize: Int = 16 << 10
    package var maxConnections: Int = 10_000
    /// TLS for every connection when set (ALPN h2 / http/1.1); plaintext otherwise.
    package var tls: TLSContext?

    package init(host: String, port: Int) {
        self.host = host
        self.port = port
    }
}
