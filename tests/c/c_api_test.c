/* Tests of the C API (include/ringdb/c.h), compiled as C11: every function,
 * the error paths, binary keys and values with NUL bytes. Exits non-zero on
 * the first failed check, naming it. Usage: c_api_test DIR (a scratch
 * directory that does not exist yet). */
#include "ringdb/c.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int failures = 0;

#define CHECK(cond)                                                       \
  do {                                                                    \
    if (!(cond)) {                                                        \
      fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
      failures++;                                                         \
    }                                                                     \
  } while (0)

#define CHECK_NO_ERROR(err)                                                       \
  do {                                                                            \
    if ((err) != NULL) {                                                          \
      fprintf(stderr, "%s:%d: unexpected error: %s\n", __FILE__, __LINE__, (err)); \
      failures++;                                                                 \
      ringdb_free(err);                                                           \
      (err) = NULL;                                                               \
    }                                                                             \
  } while (0)

/* Checks that err holds a message starting with `prefix`, then frees it. */
static void expect_error(char** err, const char* prefix, int line) {
  if (*err == NULL) {
    fprintf(stderr, "line %d: expected an error starting with '%s', got none\n", line, prefix);
    failures++;
    return;
  }
  if (strncmp(*err, prefix, strlen(prefix)) != 0) {
    fprintf(stderr, "line %d: expected '%s...', got '%s'\n", line, prefix, *err);
    failures++;
  }
  ringdb_free(*err);
  *err = NULL;
}

static int equal_bytes(const char* a, size_t alen, const char* b, size_t blen) {
  return alen == blen && (alen == 0 || memcmp(a, b, alen) == 0);
}

int main(int argc, char** argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: %s DIR\n", argv[0]);
    return 2;
  }
  const char* dir = argv[1];
  char* err = NULL;

  CHECK(strncmp(ringdb_version(), "ringdb ", 7) == 0);

  ringdb_options_t* options = ringdb_options_create();
  ringdb_options_set_buffer_pool_bytes(options, 64 * 4096);
  ringdb_options_set_lock_pool_memory(options, 0);
  ringdb_options_set_quiet(options, 1);
  ringdb_options_set_io_backend(options, ringdb_io_pread);
  ringdb_options_set_page_size(options, 4096);
  ringdb_options_set_checkpoint_log_bytes(options, 1 << 20);
  ringdb_options_set_row_cache_bytes(options, 1 << 20);
  ringdb_options_set_compact_leaf_fill(options, 0.95);
  /* No idle compactor, and no fill counts as sparse (checked below). */
  ringdb_options_set_idle_compact_ms(options, 0);
  ringdb_options_set_idle_compact_fill(options, 0.0);
  ringdb_options_set_idle_compact_min_bytes(options, 0);
  ringdb_options_set_delete_buffer_bytes(options, RINGDB_DELETE_BUFFER_BYTES_AUTO);

  /* Error paths of open: missing without create_if_missing, unknown policy. */
  ringdb_options_set_create_if_missing(options, 0);
  CHECK(ringdb_open(options, dir, &err) == NULL);
  expect_error(&err, "Invalid argument", __LINE__);
  ringdb_options_set_create_if_missing(options, 1);
  ringdb_options_set_eviction_policy(options, "no-such-policy");
  CHECK(ringdb_open(options, dir, &err) == NULL);
  expect_error(&err, "Invalid argument", __LINE__);
  ringdb_options_set_eviction_policy(options, "sieve");

  ringdb_t* db = ringdb_open(options, dir, &err);
  CHECK_NO_ERROR(err);
  if (db == NULL) return 1;

  /* A second handle and DestroyDB are refused while it is open. */
  ringdb_options_set_error_if_exists(options, 1);
  CHECK(ringdb_open(options, dir, &err) == NULL);
  CHECK(err != NULL);
  ringdb_free(err);
  err = NULL;
  ringdb_options_set_error_if_exists(options, 0);
  ringdb_destroy_db(options, dir, &err);
  expect_error(&err, "Busy", __LINE__);

  ringdb_readoptions_t* ro = ringdb_readoptions_create();
  ringdb_readoptions_set_verify_checksums(ro, 1);
  ringdb_writeoptions_t* wo = ringdb_writeoptions_create();
  ringdb_writeoptions_set_sync(wo, 1);

  /* Binary keys and values with NUL bytes; an empty value. */
  const char k1[] = {'a', '\0', 'b'};
  const char v1[] = {'\0', 'x', '\0', 'y'};
  ringdb_put(db, wo, k1, sizeof(k1), v1, sizeof(v1), &err);
  CHECK_NO_ERROR(err);
  ringdb_put(db, wo, "empty", 5, "", 0, &err);
  CHECK_NO_ERROR(err);
  size_t len = 99;
  char* got = ringdb_get(db, ro, k1, sizeof(k1), &len, &err);
  CHECK_NO_ERROR(err);
  CHECK(got != NULL && equal_bytes(got, len, v1, sizeof(v1)));
  ringdb_free(got);
  got = ringdb_get(db, ro, "a", 1, &len, &err); /* a prefix of k1: missing */
  CHECK_NO_ERROR(err);
  CHECK(got == NULL && len == 0);
  got = ringdb_get(db, ro, "empty", 5, &len, &err);
  CHECK_NO_ERROR(err);
  CHECK(got != NULL && len == 0);
  ringdb_free(got);

  /* A snapshot: gets and iterators through it see the value before the
   * overwrite; the newest value without it. */
  const ringdb_snapshot_t* snap = ringdb_create_snapshot(db);
  CHECK(snap != NULL);
  ringdb_put(db, wo, "empty", 5, "now", 3, &err);
  CHECK_NO_ERROR(err);
  ringdb_readoptions_t* at_snap = ringdb_readoptions_create();
  ringdb_readoptions_set_snapshot(at_snap, snap);
  got = ringdb_get(db, at_snap, "empty", 5, &len, &err);
  CHECK_NO_ERROR(err);
  CHECK(got != NULL && len == 0);
  ringdb_free(got);
  got = ringdb_get(db, ro, "empty", 5, &len, &err);
  CHECK_NO_ERROR(err);
  CHECK(got != NULL && equal_bytes(got, len, "now", 3));
  ringdb_free(got);
  ringdb_iterator_t* sit = ringdb_create_iterator(db, at_snap);
  ringdb_iter_seek(sit, "empty", 5);
  CHECK(ringdb_iter_valid(sit));
  size_t snap_vlen = 99;
  ringdb_iter_value(sit, &snap_vlen);
  CHECK(snap_vlen == 0);
  ringdb_iter_destroy(sit);
  ringdb_readoptions_set_snapshot(at_snap, NULL);
  ringdb_readoptions_destroy(at_snap);
  ringdb_release_snapshot(db, snap);
  ringdb_release_snapshot(db, NULL);

  /* Oversized key: a clear error, and the database stays usable. */
  size_t big = 5000;
  char* bigkey = malloc(big);
  memset(bigkey, 'k', big);
  ringdb_put(db, wo, bigkey, big, "v", 1, &err);
  expect_error(&err, "Invalid argument", __LINE__);
  got = ringdb_get(db, ro, bigkey, big, &len, &err);
  expect_error(&err, "Invalid argument", __LINE__);
  CHECK(got == NULL);
  free(bigkey);

  /* An error already in *errptr is replaced, not leaked. */
  err = malloc(8);
  strcpy(err, "stale");
  ringdb_delete(db, wo, "nothing", 7, &err);
  CHECK(err != NULL && strcmp(err, "stale") == 0); /* success leaves it alone */
  free(err);
  err = NULL;
  ringdb_delete(db, wo, "empty", 5, &err);
  CHECK_NO_ERROR(err);
  got = ringdb_get(db, ro, "empty", 5, &len, &err);
  CHECK(got == NULL && err == NULL);

  /* Batches: all or nothing; count and clear. */
  ringdb_writebatch_t* batch = ringdb_writebatch_create();
  char key[32], val[32];
  for (int i = 0; i < 100; i++) {
    snprintf(key, sizeof(key), "key%03d", i);
    snprintf(val, sizeof(val), "val%03d", i);
    ringdb_writebatch_put(batch, key, strlen(key), val, strlen(val));
  }
  ringdb_writebatch_delete(batch, "key050", 6);
  CHECK(ringdb_writebatch_count(batch) == 101);
  ringdb_write(db, wo, batch, &err);
  CHECK_NO_ERROR(err);
  ringdb_writebatch_clear(batch);
  CHECK(ringdb_writebatch_count(batch) == 0);
  ringdb_writebatch_destroy(batch);

  /* MultiGet: found, missing, and a per-key error. */
  char* long_key = malloc(5000);
  memset(long_key, 'z', 5000);
  const char* keys[4] = {"key001", "key050", "key099", long_key};
  size_t key_sizes[4] = {6, 6, 6, 5000};
  char* values[4];
  size_t value_sizes[4];
  char* errs[4];
  ringdb_multi_get(db, ro, 4, keys, key_sizes, values, value_sizes, errs);
  CHECK(values[0] != NULL && equal_bytes(values[0], value_sizes[0], "val001", 6));
  CHECK(values[1] == NULL && errs[1] == NULL); /* deleted in the batch */
  CHECK(values[2] != NULL && equal_bytes(values[2], value_sizes[2], "val099", 6));
  CHECK(values[3] == NULL && errs[3] != NULL);
  for (int i = 0; i < 4; i++) {
    ringdb_free(values[i]);
    ringdb_free(errs[i]);
  }
  free(long_key);

  /* Iterators, both directions, seek and seek_for_prev. */
  ringdb_iterator_t* it = ringdb_create_iterator(db, ro);
  CHECK(!ringdb_iter_valid(it));
  int n = 0;
  size_t klen, vlen;
  for (ringdb_iter_seek_to_first(it); ringdb_iter_valid(it); ringdb_iter_next(it)) n++;
  CHECK(n == 100); /* 99 keyNNN plus k1 */
  ringdb_iter_get_error(it, &err);
  CHECK_NO_ERROR(err);
  ringdb_iter_seek_to_last(it);
  CHECK(ringdb_iter_valid(it));
  const char* k = ringdb_iter_key(it, &klen);
  CHECK(equal_bytes(k, klen, "key099", 6));
  ringdb_iter_prev(it);
  k = ringdb_iter_key(it, &klen);
  CHECK(equal_bytes(k, klen, "key098", 6));
  ringdb_iter_seek(it, "key050", 6);
  k = ringdb_iter_key(it, &klen);
  CHECK(equal_bytes(k, klen, "key051", 6));
  const char* v = ringdb_iter_value(it, &vlen);
  CHECK(equal_bytes(v, vlen, "val051", 6));
  ringdb_iter_seek_for_prev(it, "key050", 6);
  k = ringdb_iter_key(it, &klen);
  CHECK(equal_bytes(k, klen, "key049", 6));
  ringdb_iter_seek(it, "a", 1);
  k = ringdb_iter_key(it, &klen);
  CHECK(equal_bytes(k, klen, k1, sizeof(k1)));
  v = ringdb_iter_value(it, &vlen);
  CHECK(equal_bytes(v, vlen, v1, sizeof(v1)));
  ringdb_iter_destroy(it);

  /* Checkpoint, compact, verify, properties. */
  ringdb_checkpoint(db, &err);
  CHECK_NO_ERROR(err);
  ringdb_compact(db, &err);
  CHECK_NO_ERROR(err);
  CHECK(ringdb_compact_if_sparse(db, &err) == 0);
  CHECK_NO_ERROR(err);
  char* report = ringdb_verify(db, &err);
  CHECK_NO_ERROR(err);
  CHECK(report != NULL && report[0] == '\0');
  ringdb_free(report);
  char* prop = ringdb_property_value(db, "ringdb.io.backend");
  CHECK(prop != NULL && strcmp(prop, "pread") == 0);
  ringdb_free(prop);
  CHECK(ringdb_property_value(db, "ringdb.no-such-property") == NULL);
  /* The row cache set above answers a repeated get. */
  ringdb_put(db, wo, "row", 3, "rv", 2, &err);
  CHECK_NO_ERROR(err);
  for (int i = 0; i < 2; i++) {
    got = ringdb_get(db, ro, "row", 3, &len, &err);
    CHECK_NO_ERROR(err);
    CHECK(got != NULL && equal_bytes(got, len, "rv", 2));
    ringdb_free(got);
  }
  prop = ringdb_property_value(db, "ringdb.row_cache.hits");
  CHECK(prop != NULL && strtoull(prop, NULL, 10) > 0);
  ringdb_free(prop);
  prop = ringdb_property_value(db, "ringdb.delete_buffer.max_bytes");
  CHECK(prop != NULL && strtoull(prop, NULL, 10) == 64 * 4096 / 4);
  ringdb_free(prop);

  /* Backup into a fresh directory, then the copy opens with the data. */
  char backup_dir[4096];
  snprintf(backup_dir, sizeof(backup_dir), "%s-backup", dir);
  ringdb_backup(db, backup_dir, &err);
  CHECK_NO_ERROR(err);
  ringdb_backup(db, backup_dir, &err); /* it now holds a database */
  expect_error(&err, "Invalid argument", __LINE__);

  ringdb_close_with_error(db, &err);
  CHECK_NO_ERROR(err);

  ringdb_t* copy = ringdb_open(options, backup_dir, &err);
  CHECK_NO_ERROR(err);
  if (copy != NULL) {
    got = ringdb_get(copy, ro, "key099", 6, &len, &err);
    CHECK_NO_ERROR(err);
    CHECK(got != NULL && equal_bytes(got, len, "val099", 6));
    ringdb_free(got);
    ringdb_close(copy);
  }
  ringdb_destroy_db(options, backup_dir, &err);
  CHECK_NO_ERROR(err);

  /* Resume: a reserve larger than any disk refuses every write with "No
   * space" and the database turns read-only; resume fails the same way
   * while there is no room, reads go on; a reopen with the default reserve
   * accepts writes, and the refused one is absent. */
  ringdb_options_set_reserved_disk_bytes(options, (uint64_t)1 << 62);
  ringdb_options_set_auto_resume_interval_ms(options, 0);
  db = ringdb_open(options, dir, &err);
  CHECK_NO_ERROR(err);
  if (db != NULL) {
    ringdb_put(db, wo, "refused", 7, "x", 1, &err);
    CHECK(err != NULL && strstr(err, "reserved_disk_bytes") != NULL);
    expect_error(&err, "No space", __LINE__);
    ringdb_resume(db, &err);
    expect_error(&err, "No space", __LINE__);
    ringdb_put(db, wo, "refused2", 8, "x", 1, &err);
    expect_error(&err, "No space", __LINE__);
    got = ringdb_get(db, ro, "key010", 6, &len, &err);
    CHECK_NO_ERROR(err);
    CHECK(got != NULL && equal_bytes(got, len, "val010", 6));
    ringdb_free(got);
    ringdb_close_with_error(db, &err);
    CHECK_NO_ERROR(err);
  }
  ringdb_options_set_reserved_disk_bytes(options, RINGDB_RESERVED_DISK_BYTES_AUTO);
  db = ringdb_open(options, dir, &err);
  CHECK_NO_ERROR(err);
  if (db != NULL) {
    ringdb_resume(db, &err); /* nothing to resume */
    CHECK_NO_ERROR(err);
    ringdb_put(db, wo, "after", 5, "y", 1, &err);
    CHECK_NO_ERROR(err);
    got = ringdb_get(db, ro, "refused", 7, &len, &err);
    CHECK_NO_ERROR(err);
    CHECK(got == NULL);
    ringdb_delete(db, wo, "after", 5, &err);
    CHECK_NO_ERROR(err);
    ringdb_close(db);
  }

  /* Reopen read-only: the data is there, writes are refused. */
  ringdb_options_set_read_only(options, 1);
  db = ringdb_open(options, dir, &err);
  CHECK_NO_ERROR(err);
  if (db != NULL) {
    got = ringdb_get(db, ro, "key010", 6, &len, &err);
    CHECK_NO_ERROR(err);
    CHECK(got != NULL && equal_bytes(got, len, "val010", 6));
    ringdb_free(got);
    ringdb_put(db, wo, "x", 1, "y", 1, &err);
    expect_error(&err, "Invalid argument", __LINE__);
    ringdb_resume(db, &err);
    expect_error(&err, "Invalid argument", __LINE__);
    ringdb_close(db);
  }
  ringdb_options_set_read_only(options, 0);

  ringdb_destroy_db(options, dir, &err);
  CHECK_NO_ERROR(err);
  ringdb_readoptions_destroy(ro);
  ringdb_writeoptions_destroy(wo);
  ringdb_options_destroy(options);
  ringdb_free(NULL);

  if (failures != 0) {
    fprintf(stderr, "%d check(s) failed\n", failures);
    return 1;
  }
  printf("c_api_test: all checks passed\n");
  return 0;
}
