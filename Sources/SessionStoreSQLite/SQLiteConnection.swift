private import CSQLite
private import CSQLiteWAL
import Foundation
import ServiceErrors

/// Owns one `sqlite3` connection and its cached prepared statements.
///
/// Not thread-safe: each connection is used by exactly one thread (the store's writer or a
/// reader). Values are always bound as parameters, never spliced into SQL text.
final class SQLiteConnection {
    private var raw: OpaquePointer?
    private var statements: [String: OpaquePointer] = [:]
    let path: String

    /// Process-wide settings, applied once before the first connection opens.
    private static let configured: Bool = {
        _ = csqlite_disable_memory_statistics()
        return sessiond_wal_buffer_register() == SQLITE_OK
    }()

    /// Writes that reached this connection's WAL file since it opened; -1 unless it gathers.
    var walWrites: Int64 { sessiond_wal_buffer_wal_writes(self.raw) }

    /// `gatherWAL`: open through the VFS that writes a commit's WAL frames with one write at its
    /// sync (CSQLiteWAL), for the connection that writes.
    init(path: String, readOnly: Bool = false, gatherWAL: Bool = false) throws(ServiceError) {
        let registered = Self.configured  // before any connection opens, whichever opens first
        let vfs = gatherWAL && registered ? sessiond_wal_buffer_vfs_name : nil
        self.path = path
        var handle: OpaquePointer?
        let flags = (readOnly ? SQLITE_OPEN_READONLY : (SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE)) | SQLITE_OPEN_NOMUTEX
        let result = sqlite3_open_v2(path, &handle, flags, vfs)
        guard result == SQLITE_OK, let handle else {
            let message = handle.map { String(cString: sqlite3_errmsg($0)) } ?? "out of memory"
            sqlite3_close_v2(handle)
            throw ServiceError(.unavailable, "cannot open the database \(path): \(message)")
        }
        self.raw = handle
        sqlite3_extended_result_codes(handle, 1)
        sqlite3_busy_timeout(handle, 5000)
    }

    deinit {
        for statement in self.statements.values { sqlite3_finalize(statement) }
        sqlite3_close_v2(self.raw)
    }

    /// Runs SQL without results (several statements allowed; no parameters).
    func execute(_ sql: String) throws(ServiceError) {
        var message: UnsafeMutablePointer<CChar>?
        let result = sqlite3_exec(self.raw, sql, nil, nil, &message)
        if result != SQLITE_OK {
            let text = message.map { String(cString: $0) } ?? ""
            sqlite3_free(message)
            throw self.error(result, text)
        }
    }

    /// Runs one statement with parameters, calling `row` for each result row.
    func query(_ sql: String, _ values: [SQLiteValue] = [], row: (SQLiteRow) throws(ServiceError) -> Void = { _ in })
        throws(ServiceError)
    {
        let statement = try self.prepared(sql)
        defer {
            sqlite3_reset(statement)
            sqlite3_clear_bindings(statement)
        }
        for (offset, value) in values.enumerated() {
            let index = Int32(offset + 1)
            let result: Int32
            switch value {
            case .null:
                result = sqlite3_bind_null(statement, index)
            case .integer(let number):
                result = sqlite3_bind_int64(statement, index, number)
            case .real(let number):
                result = sqlite3_bind_double(statement, index, number)
            case .text(let text):
                result = text.withCString { csqlite_bind_text(statement, index, $0, Int32(text.utf8.count)) }
            case .blob(let bytes):
                result = bytes.withUnsafeBytes { csqlite_bind_blob(statement, index, $0.baseAddress, Int32(bytes.count)) }
            }
            guard result == SQLITE_OK else { throw self.error(result, "binding parameter \(index)") }
        }
        while true {
            let result = sqlite3_step(statement)
            if result == SQLITE_DONE { return }
            guard result == SQLITE_ROW else { throw self.error(result, sql) }
            try row(SQLiteRow(statement: statement))
        }
    }

    /// A transaction is open (SQLite rolls all of it back on some errors: a full disk, I/O).
    var inTransaction: Bool { sqlite3_get_autocommit(self.raw) == 0 }

    /// Rows changed by the last INSERT, UPDATE or DELETE.
    var changes: Int { Int(sqlite3_changes(self.raw)) }

    private func prepared(_ sql: String) throws(ServiceError) -> OpaquePointer {
        if let statement = self.statements[sql] { return statement }
        var statement: OpaquePointer?
        let result = sqlite3_prepare_v3(self.raw, sql, -1, UInt32(SQLITE_PREPARE_PERSISTENT), &statement, nil)
        guard result == SQLITE_OK, let statement else { throw self.error(result, sql) }
        self.statements[sql] = statement
        return statement
    }

    /// Converts an SQLite result code into the one error model: constraint violations are
    /// `alreadyExists`, a busy or unreadable database `unavailable`, corruption `dataLoss`.
    private func error(_ code: Int32, _ context: String) -> ServiceError {
        let message = String(cString: sqlite3_errmsg(self.raw))
        let cause = SQLiteError(code: code, message: message, context: context)
        switch code & 0xFF {
        case SQLITE_CONSTRAINT:
            if code == CSQLITE_CONSTRAINT_FOREIGNKEY {
                return ServiceError(.notFound, "a referenced record does not exist", cause: cause)
            }
            return ServiceError(.alreadyExists, "already exists", cause: cause)
        case SQLITE_BUSY, SQLITE_LOCKED, SQLITE_CANTOPEN, SQLITE_IOERR, SQLITE_FULL, SQLITE_READONLY:
            return ServiceError(.unavailable, "the database is unavailable: \(message)", cause: cause)
        case SQLITE_CORRUPT, SQLITE_NOTADB:
            return ServiceError(.dataLoss, "the database is damaged: \(message)", cause: cause)
        default:
            return ServiceError(.internal, "database error: \(message)", cause: cause)
        }
    }
}

/// The underlying SQLite failure, kept as a `ServiceError` cause for the logs.
struct SQLiteError: Error, CustomStringConvertible {
    var code: Int32
    var message: String
    var context: String

    var description: String { "SQLite error \(self.code): \(self.message) (\(self.context))" }
}

/// A value bound to a statement parameter.
enum SQLiteValue {
    case null
    case integer(Int64)
    case real(Double)
    case text(String)
    case blob([UInt8])

    static func date(_ date: Date?) -> SQLiteValue {
        date.map { .real($0.timeIntervalSince1970) } ?? .null
    }

    static func text(_ text: String?) -> SQLiteValue {
        text.map { .text($0) } ?? .null
    }
}

/// One result row, valid only inside the `query` callback.
struct SQLiteRow {
    fileprivate let statement: OpaquePointer

    func isNull(_ column: Int32) -> Bool { sqlite3_column_type(self.statement, column) == SQLITE_NULL }

    func integer(_ column: Int32) -> Int64 { sqlite3_column_int64(self.statement, column) }

    func real(_ column: Int32) -> Double { sqlite3_column_double(self.statement, column) }

    func text(_ column: Int32) -> String {
        guard let text = sqlite3_column_text(self.statement, column) else { return "" }
        return String(cString: text)
    }

    func optionalText(_ column: Int32) -> String? { self.isNull(column) ? nil : self.text(column) }

    func date(_ column: Int32) -> Date { Date(timeIntervalSince1970: self.real(column)) }

    func optionalDate(_ column: Int32) -> Date? { self.isNull(column) ? nil : self.date(column) }

    func blob(_ column: Int32) -> [UInt8] {
        let count = Int(sqlite3_column_bytes(self.statement, column))
        guard count > 0, let bytes = sqlite3_column_blob(self.statement, column) else { return [] }
        return [UInt8](UnsafeRawBufferPointer(start: bytes, count: count))
    }
}
