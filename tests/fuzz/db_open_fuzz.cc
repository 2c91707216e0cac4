// Fuzz target: open and recover a database directory built from arbitrary
// bytes, then read it, write to it and close it. Must never crash, hang or
// touch memory it does not own. Opening may fail with any Status; once it
// succeeds, what the database answers must hang together (else abort, which
// libFuzzer reports with the input):
//   - forward and backward scans are ordered and, when both end OK, agree;
//   - a Get of every key a scan showed returns the scanned value, or
//     Corruption (never NotFound or another value);
//   - Verify OK means no read failed (a read that failed means Verify is
//     not OK), and Verify fails only with Corruption;
//   - a Put that returns OK is then read back by Get.
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
#include <map>
#include <string>
#include <utility>
#include <vector>

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

// A broken invariant: say which, then abort so libFuzzer keeps the input.
[[noreturn]] void Broken(const std::string& what) {
  std::fprintf(stderr, "db_open_fuzz invariant broken: %s\n", what.c_str());
  std::abort();
}

constexpr int kMaxScan = 2000;  // Entries a scan collects before it stops.

// Scans one way, collecting up to kMaxScan entries. Returns the iterator's
// status; *complete when the scan ran off the end rather than hit the cap.
ringdb::Status Scan(ringdb::DB* db, bool forward,
                    std::vector<std::pair<std::string, std::string>>* out, bool* complete) {
  std::unique_ptr<ringdb::Iterator> it = db->NewIterator(ringdb::ReadOptions());
  *complete = false;
  for (forward ? it->SeekToFirst() : it->SeekToLast(); it->Valid();
       forward ? it->Next() : it->Prev()) {
    if (out->size() >= kMaxScan) return it->status();
    std::string key(it->key());
    if (!out->empty() && (forward ? key <= out->back().first : key >= out->back().first)) {
      Broken(std::string(forward ? "forward" : "backward") + " scan out of order");
    }
    out->emplace_back(std::move(key), std::string(it->value()));
  }
  *complete = true;
  return it->status();
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
  ringdb::DB* d = db.get();
  bool saw_corruption = false;
  // Any failed read (Corruption, or an I/O error on a page past the end)
  // counts as one that Verify must also see.
  auto note = [&](const ringdb::Status& s, const char*) {
    if (!s.ok() && !s.IsNotFound()) saw_corruption = true;
  };
  std::vector<std::pair<std::string, std::string>> fwd, bwd;
  bool fwd_complete = false, bwd_complete = false;
  const ringdb::Status fs_status = Scan(d, true, &fwd, &fwd_complete);
  const ringdb::Status bs_status = Scan(d, false, &bwd, &bwd_complete);
  note(fs_status, "forward scan");
  note(bs_status, "backward scan");
  if (fs_status.ok() && bs_status.ok() && fwd_complete && bwd_complete) {
    std::vector<std::pair<std::string, std::string>> back(bwd.rbegin(), bwd.rend());
    if (back != fwd) {
      Broken("forward (" + std::to_string(fwd.size()) + " entries) and backward (" +
             std::to_string(bwd.size()) + ") scans disagree");
    }
  }
  // Point reads agree with what the scans showed.
  std::map<std::string, std::string> shown(fwd.begin(), fwd.end());
  shown.insert(bwd.begin(), bwd.end());
  int gets = 0;
  for (const auto& [key, value] : shown) {
    if (++gets > 300) break;
    std::string v;
    ringdb::Status g = d->Get(ringdb::ReadOptions(), key, &v);
    note(g, "Get");
    if (g.ok() && v != value) Broken("Get returned another value than the scan");
    if (g.IsNotFound()) Broken("Get says NotFound for a key the scan showed");
  }
  {
    std::string v;
    note(d->Get(ringdb::ReadOptions(), "key00001", &v), "Get key00001");
  }
  std::string report;
  const ringdb::Status verify = d->Verify(&report);
  if (verify.ok() && saw_corruption) Broken("Verify is OK but a read failed");
  if (!verify.ok() && !verify.IsCorruption()) Broken("Verify: " + verify.ToString());
  // Writing: a Put that is acknowledged is read back.
  const ringdb::Status put = d->Put(ringdb::WriteOptions(), "fuzz", "value");
  if (put.ok()) {
    std::string v;
    ringdb::Status g = d->Get(ringdb::ReadOptions(), "fuzz", &v);
    if (!g.ok() && !g.IsCorruption()) Broken("Put OK, then Get: " + g.ToString());
    if (g.ok() && v != "value") Broken("Put OK, then Get returned " + v.substr(0, 40));
  }
  (void)d->Delete(ringdb::WriteOptions(), "key00002");
  (void)db->Close();
  return 0;
}
