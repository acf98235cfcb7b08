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
    /// Open connections from one client IP address at most.
    package var maxConnectionsPerClient: Int = 10_000
    /// An HTTP/2 connection with no open stream and no traffic for this long gets GOAWAY and is
    /// closed.
    package var idleTimeout: Duration = .seconds(300)
    /// After this long without hearing from the peer, an HTTP/2 connection sends a PING…
    package var keepaliveInterval: Duration = .seconds(120)
    /// …and is closed if nothing arrives within this long after it.
    package var keepaliveTimeout: Duration = .seconds(20)
    /// An HTTP/1.1 request must arrive whole within this long of the connection opening or the
    /// previous response (slowloris; also the keep-alive idle limit).
    package var http1RequestTimeout: Duration = .seconds(30)
    /// TLS for every connection when set (ALPN h2 / http/1.1); plaintext otherwise.
    package var tls: TLSContext?

    package init(host: String, port: Int) {
        self.host = host
        self.port = port
    }
}
