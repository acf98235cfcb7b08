#ifndef SESSIOND_SQLITE_WAL_BUFFER_H
#define SESSIOND_SQLITE_WAL_BUFFER_H

// Registers (once) the SQLite VFS "sessiond-wal-buffer": the system's default VFS, except that a
// write-ahead log's writes are gathered in memory and reach the file in one write when SQLite
// syncs it (or reads, truncates, sizes or closes it), instead of two `pwrite`s per frame. Returns
// an SQLite result code.
int sessiond_wal_buffer_register(void);

// The name to pass to sqlite3_open_v2.
extern const char *const sessiond_wal_buffer_vfs_name;

typedef struct sqlite3 sqlite3;

// Writes that reached the WAL file of `db` since it was opened, or -1 when that WAL is not open
// through this VFS (for tests: frames are gathered).
long long sessiond_wal_buffer_wal_writes(sqlite3 *db);

#endif
