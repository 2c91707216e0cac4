/* ringdb's C API: every DB operation of the C++ API (include/ringdb/db.h)
 * behind opaque handles, for C programs and for bindings to other languages
 * (the Python package uses it).
 *
 * Names and conventions follow LevelDB's C API (leveldb/c.h) with the
 * ringdb_ prefix:
 * - Errors: a function that can fail takes `char** errptr` as its last
 *   argument. On success it leaves *errptr alone; on failure it stores a
 *   malloc'd, NUL-terminated message "<Code>: <text>" there (freeing any
 *   message already there first). The code names are those of
 *   ringdb::Status: "NotFound", "Corruption", "Invalid argument", "IO error",
 *   "No space", "Busy", "Not supported". Free the message with ringdb_free.
 *   errptr must not be NULL.
 * - Keys and values are byte strings with explicit lengths: they may hold
 *   NUL bytes. Pointers passed in are only read during the call.
 * - Ownership: everything a function returns that the library allocated
 *   (values from ringdb_get and ringdb_multi_get, property values, verify
 *   reports, error messages) belongs to the caller and is freed with
 *   ringdb_free. Handles from a *_create function are freed with the
 *   matching *_destroy; a ringdb_t from ringdb_open with ringdb_close.
 *   ringdb_iter_key/value return pointers into the iterator, valid until it
 *   moves or is destroyed.
 *
 * Thread-safety: a ringdb_t may be used from many threads at once (as a
 * DB). Options, batches and iterators are not thread-safe: use each from one
 * thread at a time. Destroy every iterator before closing its database.
 */
#ifndef RINGDB_C_H_
#define RINGDB_C_H_

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ringdb_t ringdb_t;
typedef struct ringdb_options_t ringdb_options_t;
typedef struct ringdb_readoptions_t ringdb_readoptions_t;
typedef struct ringdb_writeoptions_t ringdb_writeoptions_t;
typedef struct ringdb_writebatch_t ringdb_writebatch_t;
typedef struct ringdb_iterator_t ringdb_iterator_t;
typedef struct ringdb_snapshot_t ringdb_snapshot_t;

/* io_backend values for ringdb_options_set_io_backend. */
enum { ringdb_io_uring = 0, ringdb_io_pread = 1, ringdb_io_buffered = 2 };

/* Options: defaults as in ringdb::Options (create_if_missing on, a 64 MiB
 * pool, the "clock" policy, io_uring). */
ringdb_options_t* ringdb_options_create(void);
void ringdb_options_destroy(ringdb_options_t* options);
void ringdb_options_set_create_if_missing(ringdb_options_t* options, unsigned char v);
void ringdb_options_set_error_if_exists(ringdb_options_t* options, unsigned char v);
void ringdb_options_set_read_only(ringdb_options_t* options, unsigned char v);
void ringdb_options_set_buffer_pool_bytes(ringdb_options_t* options, size_t bytes);
void ringdb_options_set_page_size(ringdb_options_t* options, uint32_t bytes);
/* A built-in policy name ("lru", "clock", "midpoint", "sieve", "s3fifo");
 * an unknown name makes ringdb_open fail. The string is copied. */
void ringdb_options_set_eviction_policy(ringdb_options_t* options, const char* name);
void ringdb_options_set_io_backend(ringdb_options_t* options, int backend);
void ringdb_options_set_lock_pool_memory(ringdb_options_t* options, unsigned char v);
void ringdb_options_set_checkpoint_log_bytes(ringdb_options_t* options, uint64_t bytes);
/* Free space kept on the database's file system (Options::
 * reserved_disk_bytes): writes fail with "No space" before it, plus what a
 * checkpoint of the dirty pages would take, is used. 0 turns the check off;
 * RINGDB_RESERVED_DISK_BYTES_AUTO (the default) is the smaller of 64 MiB
 * and 1/8 of the file system. */
#define RINGDB_RESERVED_DISK_BYTES_AUTO UINT64_MAX
void ringdb_options_set_reserved_disk_bytes(ringdb_options_t* options, uint64_t bytes);
/* Options::delete_buffer_bytes: deletes whose leaf is not cached wait in
 * memory (logged) and reach the tree later, in key order. 0 turns it off;
 * RINGDB_DELETE_BUFFER_BYTES_AUTO (the default) is a quarter of the pool. */
#define RINGDB_DELETE_BUFFER_BYTES_AUTO UINT64_MAX
void ringdb_options_set_delete_buffer_bytes(ringdb_options_t* options, uint64_t bytes);
/* Options::row_cache_bytes: a cache of hot key-value pairs for ringdb_get,
 * on top of the pool; 0 turns it off. RINGDB_ROW_CACHE_BYTES_AUTO (the
 * default) splits the pool's budget between the two as the reads show. */
#define RINGDB_ROW_CACHE_BYTES_AUTO UINT64_MAX
void ringdb_options_set_row_cache_bytes(ringdb_options_t* options, uint64_t bytes);
/* After a soft write error, a background thread calls ringdb_resume after
 * this many milliseconds, with backoff (default 1000); 0 disables it. */
void ringdb_options_set_auto_resume_interval_ms(ringdb_options_t* options, uint32_t ms);
/* 1: drop notices (fallbacks, recovery) instead of printing them on
 * stderr. They stay readable through the "ringdb.stats" property. */
void ringdb_options_set_quiet(ringdb_options_t* options, unsigned char v);
/* Options::compact_leaf_fill: how full ringdb_compact packs each leaf, 0.5
 * to 1 (default 1; ringdb_open refuses other values). */
void ringdb_options_set_compact_leaf_fill(ringdb_options_t* options, double fill);
/* The idle compactor (Options::idle_compact_*): after idle_compact_ms
 * without writes (0: off, default 1000) a background thread compacts when
 * the sampled leaf fill is below idle_compact_fill (0 to 1, default 0.9)
 * and the live pages take at least idle_compact_min_bytes (default
 * 32 MiB). */
void ringdb_options_set_idle_compact_ms(ringdb_options_t* options, uint32_t ms);
void ringdb_options_set_idle_compact_fill(ringdb_options_t* options, double fill);
void ringdb_options_set_idle_compact_min_bytes(ringdb_options_t* options, uint64_t bytes);

ringdb_readoptions_t* ringdb_readoptions_create(void);
void ringdb_readoptions_destroy(ringdb_readoptions_t* options);
/* No effect, kept for source compatibility: page checksums are always
 * verified when a page is read from disk. */
void ringdb_readoptions_set_verify_checksums(ringdb_readoptions_t* options, unsigned char v);
/* Reads with these options see the database as of `snapshot` (NULL: the
 * newest for gets; each iterator and multi-get its own snapshot). */
void ringdb_readoptions_set_snapshot(ringdb_readoptions_t* options,
                                     const ringdb_snapshot_t* snapshot);

/* A consistent point-in-time view (DB::GetSnapshot); NULL after close.
 * Release it with ringdb_release_snapshot before closing `db`. */
const ringdb_snapshot_t* ringdb_create_snapshot(ringdb_t* db);
void ringdb_release_snapshot(ringdb_t* db, const ringdb_snapshot_t* snapshot);

ringdb_writeoptions_t* ringdb_writeoptions_create(void);
void ringdb_writeoptions_destroy(ringdb_writeoptions_t* options);
/* 1: the write survives a machine crash when the call returns (fdatasync);
 * 0 (default): it survives a crash of the process. */
void ringdb_writeoptions_set_sync(ringdb_writeoptions_t* options, unsigned char v);

/* Opens (or creates) the database in directory `name`. NULL on failure. */
ringdb_t* ringdb_open(const ringdb_options_t* options, const char* name, char** errptr);
/* Checkpoints, releases the files and frees `db`. An error on the way is
 * reported through errptr; `db` is freed in every case. */
void ringdb_close_with_error(ringdb_t* db, char** errptr);
/* The same, errors only printed (as LevelDB's leveldb_close). */
void ringdb_close(ringdb_t* db);
/* Deletes the database in `name`; Busy while it is open anywhere. */
void ringdb_destroy_db(const ringdb_options_t* options, const char* name, char** errptr);

void ringdb_put(ringdb_t* db, const ringdb_writeoptions_t* options, const char* key,
                size_t keylen, const char* val, size_t vallen, char** errptr);
void ringdb_delete(ringdb_t* db, const ringdb_writeoptions_t* options, const char* key,
                   size_t keylen, char** errptr);
/* Applies the whole batch or nothing. The batch is left as it was. */
void ringdb_write(ringdb_t* db, const ringdb_writeoptions_t* options,
                  ringdb_writebatch_t* batch, char** errptr);
/* The value of `key` (malloc'd, *vallen bytes, not NUL-terminated; free
 * with ringdb_free), or NULL with no error when the key is missing. */
char* ringdb_get(ringdb_t* db, const ringdb_readoptions_t* options, const char* key,
                 size_t keylen, size_t* vallen, char** errptr);
/* Looks up num_keys keys at once. For each i: values_list[i] receives the
 * malloc'd value (NULL when missing or on error) and values_list_sizes[i]
 * its length; errs[i] receives NULL or a malloc'd error message. */
void ringdb_multi_get(ringdb_t* db, const ringdb_readoptions_t* options, size_t num_keys,
                      const char* const* keys_list, const size_t* keys_list_sizes,
                      char** values_list, size_t* values_list_sizes, char** errs);

ringdb_writebatch_t* ringdb_writebatch_create(void);
void ringdb_writebatch_destroy(ringdb_writebatch_t* batch);
void ringdb_writebatch_clear(ringdb_writebatch_t* batch);
void ringdb_writebatch_put(ringdb_writebatch_t* batch, const char* key, size_t keylen,
                           const char* val, size_t vallen);
void ringdb_writebatch_delete(ringdb_writebatch_t* batch, const char* key, size_t keylen);
int ringdb_writebatch_count(const ringdb_writebatch_t* batch);

/* A new iterator, not yet valid. Destroy it before closing `db`. */
ringdb_iterator_t* ringdb_create_iterator(ringdb_t* db, const ringdb_readoptions_t* options);
void ringdb_iter_destroy(ringdb_iterator_t* iter);
unsigned char ringdb_iter_valid(const ringdb_iterator_t* iter);
void ringdb_iter_seek_to_first(ringdb_iterator_t* iter);
void ringdb_iter_seek_to_last(ringdb_iterator_t* iter);
void ringdb_iter_seek(ringdb_iterator_t* iter, const char* k, size_t klen);
void ringdb_iter_seek_for_prev(ringdb_iterator_t* iter, const char* k, size_t klen);
/* Require: ringdb_iter_valid(iter). */
void ringdb_iter_next(ringdb_iterator_t* iter);
void ringdb_iter_prev(ringdb_iterator_t* iter);
/* Require: ringdb_iter_valid(iter). Pointers into the iterator. */
const char* ringdb_iter_key(const ringdb_iterator_t* iter, size_t* klen);
const char* ringdb_iter_value(const ringdb_iterator_t* iter, size_t* vlen);
/* Reports through errptr why the iterator stopped, if not at the end. */
void ringdb_iter_get_error(const ringdb_iterator_t* iter, char** errptr);

void ringdb_checkpoint(ringdb_t* db, char** errptr);
/* Shrinks the data file to about what the data needs (DB::Compact): packs
 * the leaves to the fill set with ringdb_options_set_compact_leaf_fill and
 * moves pages down. Readers go on; writers wait for short steps of it. */
void ringdb_compact(ringdb_t* db, char** errptr);
/* DB::CompactIfSparse: compacts now when the sampled leaf fill is below
 * the idle compactor's fill; returns 1 when it compacted, 0 otherwise. */
unsigned char ringdb_compact_if_sparse(ringdb_t* db, char** errptr);
/* After a soft write error (a full disk, an I/O error; see DB::Resume) the
 * database is read-only: reads go on, writes fail with that error. Retries
 * the failed writes with a checkpoint and, on success, accepts writes again
 * (no error also when there was nothing to resume). On failure errptr gets
 * the new error ("No space: ..." while the disk is still full: call again
 * later), or "Invalid argument" after a fatal error (close and reopen) or
 * on a database opened read-only. */
void ringdb_resume(ringdb_t* db, char** errptr);
/* An online, consistent copy of the database in directory `dir` (new or
 * empty), made while other threads keep reading and writing; see
 * DB::Backup. */
void ringdb_backup(ringdb_t* db, const char* dir, char** errptr);
/* Checks every page and the tree's invariants. Returns a malloc'd report
 * (one line per problem; empty when none), and reports Corruption through
 * errptr when there was any problem. */
char* ringdb_verify(ringdb_t* db, char** errptr);
/* The property's value (malloc'd), or NULL for an unknown name. */
char* ringdb_property_value(ringdb_t* db, const char* propname);

/* Frees anything the library returned (values, messages, reports). */
void ringdb_free(void* ptr);
/* "ringdb <major>.<minor>.<patch>"; static storage, do not free. */
const char* ringdb_version(void);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* RINGDB_C_H_ */
