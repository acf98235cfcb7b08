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
    /// Request bytes one HTTP/2 connection may hold on its clients' behalf (partial and queued
    /// messages, decompressed; REST bodies): past it, flow-control credit is withheld until the
    /// handlers take what is held. One stream holds at most one message (`maxReceiveMessageSize`)
    /// or one body (`maxHTTPBodySize`) beyond what its window lets in.
    package var maxBufferedBytesPerConnection: Int = 16 << 20
    /// Response bytes one HTTP/2 connection may have queued for a client that does not read;
    /// past it (or while the socket is not writable) the connection stops reading requests.
    package var maxQueuedOutputBytesPerConnection: Int = 16 << 20
    package var maxHeaderListSize: Int = 16 << 10
    package var maxConnections: Int = 10_000
    /// Open connections from one client IP address at most; by default a tenth of
    /// `maxConnections`, so one address cannot lock everyone else out.
    package var maxConnectionsPerClient: Int?
    /// The per-client cap in force.
    package var effectiveMaxConnectionsPerClient: Int {
        self.maxConnectionsPerClient ?? max(1, self.maxConnections / 10)
    }
    /// A new connection must finish its TLS handshake and send the HTTP/2 preface or a whole
    /// first HTTP/1.1 request head within this long, or it is closed (timers before trust).
    package var handshakeTimeout: Duration = .seconds(5)
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
    /// Log every gRPC call at info (method, status, duration, request ID, peer).
    package var accessLog = false
    /// TLS for every connection when set (ALPN h2 / http/1.1); plaintext otherwise.
    package var tls: TLSContext?

    package init(host: String, port: Int) {
        self.host = host
        self.port = port
    }
}
