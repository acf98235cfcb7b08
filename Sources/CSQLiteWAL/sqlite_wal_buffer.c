// A thin SQLite VFS over the default one that gathers a write-ahead log's writes.
//
// SQLite writes each WAL frame with two writes (its 24-byte header, then the page), so a commit
// of N pages costs 2N syscalls; the frames are contiguous. Here they are copied into a buffer
// and written with one call when SQLite next needs the file to be what it wrote: before a sync
// (a commit in WAL mode with synchronous = FULL syncs before it publishes the frames in the
// WAL index, so other connections never look for frames still in the buffer), a read (a
// checkpoint, a page read back), a truncation, a size query, a file control, or closing.
// Non-contiguous writes (SQLite rewriting a frame of the same transaction, a new WAL header)
// flush first, so the file sees the writes in SQLite's order. Other files pass through.
#include "sqlite_wal_buffer.h"

#include <sqlite3.h>
#include <string.h>

const char *const sessiond_wal_buffer_vfs_name = "sessiond-wal-buffer";

// The unix VFS writes at most 128 KiB - 1 bytes per call (it masks the length with 0x1ffff and
// reports a short write as SQLITE_FULL): 31 frames of 4 KiB pages per write.
enum { BUFFER_CAPACITY = 0x1ffff };

typedef struct BufferedFile {
    sqlite3_file base;   // must come first: SQLite sees this
    sqlite3_file *real;  // the default VFS's file, allocated right after this struct
    unsigned char *buffer;  // a WAL's pending bytes; NULL for other files
    sqlite3_int64 start;    // file offset of buffer[0]
    int used;
    long long writes;       // writes that reached the file (for tests)
} BufferedFile;

static sqlite3_vfs *default_vfs;
static sqlite3_vfs buffered_vfs;
static sqlite3_io_methods buffered_methods;

static int flush(BufferedFile *file) {
    if (file->used == 0) return SQLITE_OK;
    int used = file->used;
    file->used = 0;
    file->writes += 1;
    return file->real->pMethods->xWrite(file->real, file->buffer, used, file->start);
}

static int buffered_close(sqlite3_file *base) {
    BufferedFile *file = (BufferedFile *)base;
    int flushed = flush(file);
    int closed = file->real->pMethods->xClose(file->real);
    sqlite3_free(file->buffer);
    file->buffer = NULL;
    return flushed != SQLITE_OK ? flushed : closed;
}

static int buffered_read(sqlite3_file *base, void *out, int amount, sqlite3_int64 offset) {
    BufferedFile *file = (BufferedFile *)base;
    if (file->used > 0 && offset < file->start + file->used && offset + amount > file->start) {
        int rc = flush(file);
        if (rc != SQLITE_OK) return rc;
    }
    return file->real->pMethods->xRead(file->real, out, amount, offset);
}

static int buffered_write(sqlite3_file *base, const void *bytes, int amount, sqlite3_int64 offset) {
    BufferedFile *file = (BufferedFile *)base;
    if (file->buffer == NULL) {
        file->writes += 1;
        return file->real->pMethods->xWrite(file->real, bytes, amount, offset);
    }
    if (file->used > 0 && offset == file->start + file->used && amount <= BUFFER_CAPACITY - file->used) {
        memcpy(file->buffer + file->used, bytes, (size_t)amount);
        file->used += amount;
        return SQLITE_OK;
    }
    int rc = flush(file);
    if (rc != SQLITE_OK) return rc;
    if (amount > BUFFER_CAPACITY) {
        file->writes += 1;
        return file->real->pMethods->xWrite(file->real, bytes, amount, offset);
    }
    memcpy(file->buffer, bytes, (size_t)amount);
    file->start = offset;
    file->used = amount;
    return SQLITE_OK;
}

static int buffered_truncate(sqlite3_file *base, sqlite3_int64 size) {
    BufferedFile *file = (BufferedFile *)base;
    int rc = flush(file);
    return rc != SQLITE_OK ? rc : file->real->pMethods->xTruncate(file->real, size);
}

static int buffered_sync(sqlite3_file *base, int flags) {
    BufferedFile *file = (BufferedFile *)base;
    int rc = flush(file);
    return rc != SQLITE_OK ? rc : file->real->pMethods->xSync(file->real, flags);
}

static int buffered_file_size(sqlite3_file *base, sqlite3_int64 *size) {
    BufferedFile *file = (BufferedFile *)base;
    int rc = flush(file);
    return rc != SQLITE_OK ? rc : file->real->pMethods->xFileSize(file->real, size);
}

static int buffered_lock(sqlite3_file *base, int level) {
    BufferedFile *file = (BufferedFile *)base;
    return file->real->pMethods->xLock(file->real, level);
}

static int buffered_unlock(sqlite3_file *base, int level) {
    BufferedFile *file = (BufferedFile *)base;
    return file->real->pMethods->xUnlock(file->real, level);
}

static int buffered_check_reserved_lock(sqlite3_file *base, int *out) {
    BufferedFile *file = (BufferedFile *)base;
    return file->real->pMethods->xCheckReservedLock(file->real, out);
}

static int buffered_file_control(sqlite3_file *base, int op, void *argument) {
    BufferedFile *file = (BufferedFile *)base;
    int rc = flush(file);
    return rc != SQLITE_OK ? rc : file->real->pMethods->xFileControl(file->real, op, argument);
}

static int buffered_sector_size(sqlite3_file *base) {
    BufferedFile *file = (BufferedFile *)base;
    return file->real->pMethods->xSectorSize(file->real);
}

static int buffered_device_characteristics(sqlite3_file *base) {
    BufferedFile *file = (BufferedFile *)base;
    return file->real->pMethods->xDeviceCharacteristics(file->real);
}

static int buffered_shm_map(sqlite3_file *base, int region, int size, int extend, void volatile **out) {
    BufferedFile *file = (BufferedFile *)base;
    return file->real->pMethods->xShmMap(file->real, region, size, extend, out);
}

static int buffered_shm_lock(sqlite3_file *base, int offset, int count, int flags) {
    BufferedFile *file = (BufferedFile *)base;
    return file->real->pMethods->xShmLock(file->real, offset, count, flags);
}

static void buffered_shm_barrier(sqlite3_file *base) {
    BufferedFile *file = (BufferedFile *)base;
    file->real->pMethods->xShmBarrier(file->real);
}

static int buffered_shm_unmap(sqlite3_file *base, int delete_flag) {
    BufferedFile *file = (BufferedFile *)base;
    return file->real->pMethods->xShmUnmap(file->real, delete_flag);
}

static int buffered_fetch(sqlite3_file *base, sqlite3_int64 offset, int amount, void **out) {
    BufferedFile *file = (BufferedFile *)base;
    int rc = flush(file);
    return rc != SQLITE_OK ? rc : file->real->pMethods->xFetch(file->real, offset, amount, out);
}

static int buffered_unfetch(sqlite3_file *base, sqlite3_int64 offset, void *pointer) {
    BufferedFile *file = (BufferedFile *)base;
    return file->real->pMethods->xUnfetch(file->real, offset, pointer);
}

static int buffered_open(sqlite3_vfs *vfs, const char *name, sqlite3_file *base, int flags, int *out_flags) {
    (void)vfs;  // the default VFS opens the file
    BufferedFile *file = (BufferedFile *)base;
    memset(file, 0, sizeof *file);
    file->real = (sqlite3_file *)&file[1];
    int rc = default_vfs->xOpen(default_vfs, name, file->real, flags, out_flags);
    if (rc == SQLITE_OK && file->real->pMethods->iVersion < 3) {
        rc = SQLITE_CANTOPEN;  // this file passes version-3 methods through; the unix VFS has them
    }
    if (rc != SQLITE_OK) {
        if (file->real->pMethods != NULL) file->real->pMethods->xClose(file->real);
        file->base.pMethods = NULL;
        return rc;
    }
    // Only a WAL is gathered.
    if ((flags & SQLITE_OPEN_WAL) != 0) {
        file->buffer = sqlite3_malloc(BUFFER_CAPACITY);  // NULL: writes pass through
    }
    file->base.pMethods = &buffered_methods;
    return SQLITE_OK;
}

int sessiond_wal_buffer_register(void) {
    if (default_vfs != NULL) return SQLITE_OK;
    sqlite3_vfs *found = sqlite3_vfs_find(NULL);
    if (found == NULL || found->iVersion < 2) return SQLITE_ERROR;
    buffered_methods = (sqlite3_io_methods){
        .iVersion = 3,
        .xClose = buffered_close,
        .xRead = buffered_read,
        .xWrite = buffered_write,
        .xTruncate = buffered_truncate,
        .xSync = buffered_sync,
        .xFileSize = buffered_file_size,
        .xLock = buffered_lock,
        .xUnlock = buffered_unlock,
        .xCheckReservedLock = buffered_check_reserved_lock,
        .xFileControl = buffered_file_control,
        .xSectorSize = buffered_sector_size,
        .xDeviceCharacteristics = buffered_device_characteristics,
        .xShmMap = buffered_shm_map,
        .xShmLock = buffered_shm_lock,
        .xShmBarrier = buffered_shm_barrier,
        .xShmUnmap = buffered_shm_unmap,
        .xFetch = buffered_fetch,
        .xUnfetch = buffered_unfetch,
    };
    // The default VFS's own methods for everything but opening a file: they take the VFS
    // pointer for its pAppData, which the copy keeps.
    buffered_vfs = *found;
    buffered_vfs.pNext = NULL;
    buffered_vfs.szOsFile = (int)sizeof(BufferedFile) + found->szOsFile;
    buffered_vfs.zName = sessiond_wal_buffer_vfs_name;
    buffered_vfs.xOpen = buffered_open;
    default_vfs = found;
    return sqlite3_vfs_register(&buffered_vfs, 0);
}

long long sessiond_wal_buffer_wal_writes(sqlite3 *db) {
    sqlite3_file *wal = NULL;
    if (sqlite3_file_control(db, "main", SQLITE_FCNTL_JOURNAL_POINTER, &wal) != SQLITE_OK || wal == NULL
        || wal->pMethods != &buffered_methods) {
        return -1;
    }
    return ((BufferedFile *)wal)->writes;
}
