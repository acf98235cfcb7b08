/// Builds indented Swift source line by line.
struct CodeWriter {
    private(set) var text = ""
    private var indentation = 0

    mutating func line(_ line: String = "") {
        if line.isEmpty {
            self.text += "\n"
        } else {
            self.text += String(repeating: "    ", count: self.indentation) + line + "\n"
        }
    }

    /// Writes `header {`, the body one level deeper, then `footer`.
    mutating func block(_ header: String, footer: String = "}", _ body: (inout CodeWriter) throws(ProtoGenError) -> Void)
        throws(ProtoGenError)
    {
        // Swift style keeps `case` labels level with their `switch`.
        let step = header.hasPrefix("switch ") ? 0 : 1
        self.line(header + " {")
        self.indentation += step
        try body(&self)
        self.indentation -= step
        self.line(footer)
    }
}
