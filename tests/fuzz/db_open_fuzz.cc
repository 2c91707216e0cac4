// Fuzz target: open and recover a database directory built from arbitrary
// bytes, then read it, write to it and close it. Must never crash, hang or
// touch memory it does not own; any Status is fine.
//
// Input layout (make_fuzz_corpus writes valid ones from the real engine):
//   byte 0        log segment number of the wal file (0: no wal file)
//   bytes 1..4    n, little-endian: how many of the following bytes are
//                 ringdb.data (clamped to what is there)
//   n bytes       ringdb.data
//   the rest      wal-<segment>.log, padded with zeros to a whole 4 KiB
//                 block as the log writer leaves it
#include <fcntl.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>

#include "engine/db_impl.h"
#include "engine/wal.h"
#include "ringdb/db.h"

namespace {

char g_dir[256];  // Dir(), for the exit handler

namespace fs = std::filesystem;

const std::string& Dir() {
  static const std::string dir = [] {
    std::string base = fs::is_directory("/dev/shm") ? "/dev/shm" : "/tmp";
    std::string d = base + "/ringdb_fuzz_open_" + std::to_string(getpid());
    std::snprintf(g_dir, sizeof(g_dir), "%s", d.c_str());
    std::atexit([] {  // g_dir, not Dir(): the string is destroyed first
      std::error_code ec;
      fs::remove_all(g_dir, ec);
    });
    return d;
  }();
  return dir;
}

void WriteFile(const std::string& path, const uint8_t* data, size_t size, bool pad) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd < 0) std::abort();
  if (size > 0 && ::write(fd, data, size) != static_cast<ssize_t>(size)) std::abort();
  if (pad && ::ftruncate(fd, static_cast<off_t>((size + 4095) / 4096 * 4096)) != 0) std::abort();
  ::close(fd);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 5) return 0;
  const uint8_t segment = data[0];
  uint32_t n;
  std::memcpy(&n, data + 1, 4);
  data += 5;
  size -= 5;
  if (n > size) n = static_cast<uint32_t>(size);

  fs::remove_all(Dir());
  fs::create_directories(Dir());
  WriteFile(Dir() + "/" + ringdb::kDataFileName, data, n, false);
  if (segment != 0) WriteFile(ringdb::wal::SegmentPath(Dir(), segment), data + n, size - n, true);

  ringdb::Options options;
  options.create_if_missing = false;
  options.buffer_pool_bytes = 32 * 4096;
  options.io_backend = ringdb::IoBackendKind::kPread;
  options.lock_pool_memory = false;
  options.info_log = [](std::string_view) {};
  std::unique_ptr<ringdb::DB> db;
  if (!ringdb::DB::Open(options, Dir(), &db).ok()) return 0;
  {
    std::unique_ptr<ringdb::Iterator> it = db->NewIterator(ringdb::ReadOptions());
    int steps = 0;
    for (it->SeekToFirst(); it->Valid() && steps < 200; it->Next()) steps++;
    for (it->SeekToLast(); it->Valid() && steps < 400; it->Prev()) steps++;
    it->Seek("key");
    if (it->Valid()) {
      std::string v;
      (void)db->Get(ringdb::ReadOptions(), it->key(), &v);
    }
  }
  std::string v;
  (void)db->Get(ringdb::ReadOptions(), "key00001", &v);
  std::string report;
  (void)db->Verify(&report);
  (void)db->Put(ringdb::WriteOptions(), "fuzz", "value");
  (void)db->Delete(ringdb::WriteOptions(), "key00002");
  (void)db->Close();
  return 0;
}
