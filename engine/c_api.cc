// The C API (include/ringdb/c.h): thin wrappers over the C++ API. Each
// handle struct holds the C++ object it stands for; errors cross as
// malloc'd "Code: message" strings.
#include "ringdb/c.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "ringdb/db.h"

using ringdb::DB;
using ringdb::Iterator;
using ringdb::Options;
using ringdb::ReadOptions;
using ringdb::Status;
using ringdb::WriteBatch;
using ringdb::WriteOptions;

struct ringdb_t {
  std::unique_ptr<DB> rep;
};
struct ringdb_options_t {
  Options rep;
};
struct ringdb_readoptions_t {
  ReadOptions rep;
};
struct ringdb_writeoptions_t {
  WriteOptions rep;
};
struct ringdb_writebatch_t {
  WriteBatch rep;
};
struct ringdb_iterator_t {
  std::unique_ptr<Iterator> rep;
};
struct ringdb_snapshot_t {
  const ringdb::Snapshot* rep;
};

namespace {

char* CopyBytes(const char* data, size_t n) {
  // One extra NUL so that text values can be used as C strings; malloc(0)
  // is avoided for empty values.
  char* out = static_cast<char*>(std::malloc(n + 1));
  if (out == nullptr) return nullptr;
  if (n > 0) std::memcpy(out, data, n);
  out[n] = '\0';
  return out;
}

char* CopyString(const std::string& s) { return CopyBytes(s.data(), s.size()); }

// Stores the error of a failed `s` in *errptr; true when it failed.
bool SaveError(char** errptr, const Status& s) {
  if (s.ok()) return false;
  std::free(*errptr);
  *errptr = CopyString(s.ToString());
  return true;
}

std::string_view View(const char* p, size_t n) { return std::string_view(p, n); }

}  // namespace

extern "C" {

ringdb_options_t* ringdb_options_create(void) { return new ringdb_options_t; }
void ringdb_options_destroy(ringdb_options_t* options) { delete options; }
void ringdb_options_set_create_if_missing(ringdb_options_t* o, unsigned char v) {
  o->rep.create_if_missing = v != 0;
}
void ringdb_options_set_error_if_exists(ringdb_options_t* o, unsigned char v) {
  o->rep.error_if_exists = v != 0;
}
void ringdb_options_set_read_only(ringdb_options_t* o, unsigned char v) {
  o->rep.read_only = v != 0;
}
void ringdb_options_set_buffer_pool_bytes(ringdb_options_t* o, size_t bytes) {
  o->rep.buffer_pool_bytes = bytes;
}
void ringdb_options_set_page_size(ringdb_options_t* o, uint32_t bytes) {
  o->rep.page_size = bytes;
}
void ringdb_options_set_eviction_policy(ringdb_options_t* o, const char* name) {
  o->rep.eviction_policy = name != nullptr ? name : "";
}
void ringdb_options_set_io_backend(ringdb_options_t* o, int backend) {
  switch (backend) {
    case ringdb_io_pread: o->rep.io_backend = ringdb::IoBackendKind::kPread; break;
    case ringdb_io_buffered: o->rep.io_backend = ringdb::IoBackendKind::kBuffered; break;
    default: o->rep.io_backend = ringdb::IoBackendKind::kIoUring; break;
  }
}
void ringdb_options_set_lock_pool_memory(ringdb_options_t* o, unsigned char v) {
  o->rep.lock_pool_memory = v != 0;
}
void ringdb_options_set_checkpoint_log_bytes(ringdb_options_t* o, uint64_t bytes) {
  o->rep.checkpoint_log_bytes = bytes;
}
void ringdb_options_set_reserved_disk_bytes(ringdb_options_t* o, uint64_t bytes) {
  static_assert(RINGDB_RESERVED_DISK_BYTES_AUTO == Options::kAutoReservedDiskBytes);
  o->rep.reserved_disk_bytes = bytes;
}
void ringdb_options_set_delete_buffer_bytes(ringdb_options_t* o, uint64_t bytes) {
  static_assert(RINGDB_DELETE_BUFFER_BYTES_AUTO == Options::kAutoDeleteBufferBytes);
  o->rep.delete_buffer_bytes = bytes;
}
void ringdb_options_set_row_cache_bytes(ringdb_options_t* o, uint64_t bytes) {
  static_assert(RINGDB_ROW_CACHE_BYTES_AUTO == Options::kAutoRowCacheBytes);
  o->rep.row_cache_bytes = bytes;
}

void ringdb_options_set_compact_leaf_fill(ringdb_options_t* o, double fill) {
  o->rep.compact_leaf_fill = fill;
}

void ringdb_options_set_idle_compact_ms(ringdb_options_t* o, uint32_t ms) {
  o->rep.idle_compact_ms = ms;
}

void ringdb_options_set_idle_compact_fill(ringdb_options_t* o, double fill) {
  o->rep.idle_compact_fill = fill;
}

void ringdb_options_set_idle_compact_min_bytes(ringdb_options_t* o, uint64_t bytes) {
  o->rep.idle_compact_min_bytes = bytes;
}

void ringdb_options_set_auto_resume_interval_ms(ringdb_options_t* o, uint32_t ms) {
  o->rep.auto_resume_interval_ms = ms;
}
void ringdb_options_set_quiet(ringdb_options_t* o, unsigned char v) {
  if (v != 0) {
    o->rep.info_log = [](std::string_view) {};
  } else {
    o->rep.info_log = nullptr;
  }
}

ringdb_readoptions_t* ringdb_readoptions_create(void) { return new ringdb_readoptions_t; }
void ringdb_readoptions_destroy(ringdb_readoptions_t* o) { delete o; }
void ringdb_readoptions_set_verify_checksums(ringdb_readoptions_t*, unsigned char) {
  // No effect: checksums are always verified (ReadOptions in options.h).
}
void ringdb_readoptions_set_snapshot(ringdb_readoptions_t* o, const ringdb_snapshot_t* s) {
  o->rep.snapshot = s == nullptr ? nullptr : s->rep;
}

const ringdb_snapshot_t* ringdb_create_snapshot(ringdb_t* db) {
  const ringdb::Snapshot* s = db->rep->GetSnapshot();
  return s == nullptr ? nullptr : new ringdb_snapshot_t{s};
}
void ringdb_release_snapshot(ringdb_t* db, const ringdb_snapshot_t* s) {
  if (s == nullptr) return;
  db->rep->ReleaseSnapshot(s->rep);
  delete s;
}

ringdb_writeoptions_t* ringdb_writeoptions_create(void) { return new ringdb_writeoptions_t; }
void ringdb_writeoptions_destroy(ringdb_writeoptions_t* o) { delete o; }
void ringdb_writeoptions_set_sync(ringdb_writeoptions_t* o, unsigned char v) {
  o->rep.sync = v != 0;
}

ringdb_t* ringdb_open(const ringdb_options_t* options, const char* name, char** errptr) {
  std::unique_ptr<DB> db;
  if (SaveError(errptr, DB::Open(options->rep, name, &db))) return nullptr;
  return new ringdb_t{std::move(db)};
}

void ringdb_close_with_error(ringdb_t* db, char** errptr) {
  if (db == nullptr) return;
  SaveError(errptr, db->rep->Close());
  delete db;
}

void ringdb_close(ringdb_t* db) {
  char* err = nullptr;
  ringdb_close_with_error(db, &err);
  if (err != nullptr) {
    std::fprintf(stderr, "ringdb: close: %s\n", err);
    std::free(err);
  }
}

void ringdb_destroy_db(const ringdb_options_t*, const char* name, char** errptr) {
  SaveError(errptr, ringdb::DestroyDB(name));
}

void ringdb_put(ringdb_t* db, const ringdb_writeoptions_t* options, const char* key,
                size_t keylen, const char* val, size_t vallen, char** errptr) {
  SaveError(errptr, db->rep->Put(options->rep, View(key, keylen), View(val, vallen)));
}

void ringdb_delete(ringdb_t* db, const ringdb_writeoptions_t* options, const char* key,
                   size_t keylen, char** errptr) {
  SaveError(errptr, db->rep->Delete(options->rep, View(key, keylen)));
}

void ringdb_write(ringdb_t* db, const ringdb_writeoptions_t* options,
                  ringdb_writebatch_t* batch, char** errptr) {
  SaveError(errptr, db->rep->Write(options->rep, &batch->rep));
}

char* ringdb_get(ringdb_t* db, const ringdb_readoptions_t* options, const char* key,
                 size_t keylen, size_t* vallen, char** errptr) {
  std::string value;
  Status s = db->rep->Get(options->rep, View(key, keylen), &value);
  *vallen = 0;
  if (s.IsNotFound()) return nullptr;
  if (SaveError(errptr, s)) return nullptr;
  *vallen = value.size();
  return CopyString(value);
}

void ringdb_multi_get(ringdb_t* db, const ringdb_readoptions_t* options, size_t num_keys,
                      const char* const* keys_list, const size_t* keys_list_sizes,
                      char** values_list, size_t* values_list_sizes, char** errs) {
  std::vector<std::string_view> keys(num_keys);
  for (size_t i = 0; i < num_keys; i++) keys[i] = View(keys_list[i], keys_list_sizes[i]);
  std::vector<std::string> values;
  std::vector<Status> st = db->rep->MultiGet(options->rep, keys, &values);
  for (size_t i = 0; i < num_keys; i++) {
    values_list[i] = nullptr;
    values_list_sizes[i] = 0;
    errs[i] = nullptr;
    if (st[i].ok()) {
      values_list[i] = CopyString(values[i]);
      values_list_sizes[i] = values[i].size();
    } else if (!st[i].IsNotFound()) {
      errs[i] = CopyString(st[i].ToString());
    }
  }
}

ringdb_writebatch_t* ringdb_writebatch_create(void) { return new ringdb_writebatch_t; }
void ringdb_writebatch_destroy(ringdb_writebatch_t* b) { delete b; }
void ringdb_writebatch_clear(ringdb_writebatch_t* b) { b->rep.Clear(); }
void ringdb_writebatch_put(ringdb_writebatch_t* b, const char* key, size_t keylen,
                           const char* val, size_t vallen) {
  b->rep.Put(View(key, keylen), View(val, vallen));
}
void ringdb_writebatch_delete(ringdb_writebatch_t* b, const char* key, size_t keylen) {
  b->rep.Delete(View(key, keylen));
}
int ringdb_writebatch_count(const ringdb_writebatch_t* b) {
  return static_cast<int>(b->rep.Count());
}

ringdb_iterator_t* ringdb_create_iterator(ringdb_t* db, const ringdb_readoptions_t* options) {
  return new ringdb_iterator_t{db->rep->NewIterator(options->rep)};
}
void ringdb_iter_destroy(ringdb_iterator_t* it) { delete it; }
unsigned char ringdb_iter_valid(const ringdb_iterator_t* it) { return it->rep->Valid() ? 1 : 0; }
void ringdb_iter_seek_to_first(ringdb_iterator_t* it) { it->rep->SeekToFirst(); }
void ringdb_iter_seek_to_last(ringdb_iterator_t* it) { it->rep->SeekToLast(); }
void ringdb_iter_seek(ringdb_iterator_t* it, const char* k, size_t klen) {
  it->rep->Seek(View(k, klen));
}
void ringdb_iter_seek_for_prev(ringdb_iterator_t* it, const char* k, size_t klen) {
  it->rep->SeekForPrev(View(k, klen));
}
void ringdb_iter_next(ringdb_iterator_t* it) { it->rep->Next(); }
void ringdb_iter_prev(ringdb_iterator_t* it) { it->rep->Prev(); }
const char* ringdb_iter_key(const ringdb_iterator_t* it, size_t* klen) {
  std::string_view k = it->rep->key();
  *klen = k.size();
  return k.data();
}
const char* ringdb_iter_value(const ringdb_iterator_t* it, size_t* vlen) {
  std::string_view v = it->rep->value();
  *vlen = v.size();
  return v.data();
}
void ringdb_iter_get_error(const ringdb_iterator_t* it, char** errptr) {
  SaveError(errptr, it->rep->status());
}

void ringdb_checkpoint(ringdb_t* db, char** errptr) { SaveError(errptr, db->rep->Checkpoint()); }

void ringdb_compact(ringdb_t* db, char** errptr) { SaveError(errptr, db->rep->Compact()); }

unsigned char ringdb_compact_if_sparse(ringdb_t* db, char** errptr) {
  bool compacted = false;
  SaveError(errptr, db->rep->CompactIfSparse(&compacted));
  return compacted ? 1 : 0;
}

void ringdb_resume(ringdb_t* db, char** errptr) { SaveError(errptr, db->rep->Resume()); }

void ringdb_backup(ringdb_t* db, const char* dir, char** errptr) {
  SaveError(errptr, db->rep->Backup(dir));
}

char* ringdb_verify(ringdb_t* db, char** errptr) {
  std::string report;
  SaveError(errptr, db->rep->Verify(&report));
  return CopyString(report);
}

char* ringdb_property_value(ringdb_t* db, const char* propname) {
  std::string value;
  if (!db->rep->GetProperty(propname, &value)) return nullptr;
  return CopyString(value);
}

void ringdb_free(void* ptr) { std::free(ptr); }

const char* ringdb_version(void) { return ringdb::Version(); }

}  // extern "C"
