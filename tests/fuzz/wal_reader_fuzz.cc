// Fuzz target: the log reader (engine/wal.h LogReader) over a segment file
// made of the input, and WriteBatchInternal::SetContents of every record it returns.
// The reader must stop cleanly at the first bad record (whatever the bytes)
// and never read out of bounds; every record it accepts carries the LSN of
// its position. Then, as recovery does, the stop is diagnosed and skipped
// (a few times). Segments start at LSN 0, as make_fuzz_corpus writes them.
// The file is the input padded with zeros to a whole 4 KiB block (zeros
// after the last record: a lost page).
#include <fcntl.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>

#include "engine/wal.h"
#include "engine/wal_format.h"
#include "io/io_backend.h"
#include "engine/write_batch_internal.h"
#include "ringdb/write_batch.h"

namespace {

char g_dir[256];  // Dir(), for the exit handler

struct Touch : ringdb::WriteBatch::Handler {
  size_t bytes = 0;
  ringdb::Status Put(std::string_view k, std::string_view v) override {
    bytes += k.size() + v.size();
    return ringdb::Status::OK();
  }
  ringdb::Status Delete(std::string_view k) override {
    bytes += k.size();
    return ringdb::Status::OK();
  }
};

std::string Dir() {
  static const std::string dir = [] {
    std::string base = std::filesystem::is_directory("/dev/shm") ? "/dev/shm" : "/tmp";
    std::string d = base + "/ringdb_fuzz_wal_" + std::to_string(getpid());
    std::filesystem::create_directories(d);
    std::snprintf(g_dir, sizeof(g_dir), "%s", d.c_str());
    std::atexit([] {  // g_dir, not Dir(): the string is destroyed first
      std::error_code ec;
      std::filesystem::remove_all(g_dir, ec);
    });
    return d;
  }();
  return dir;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static std::unique_ptr<ringdb::io::IoBackend> io = ringdb::io::NewPreadBackend();
  const std::string path = ringdb::wal::SegmentPath(Dir(), 1);
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd < 0) std::abort();
  if (size > 0 && ::write(fd, data, size) != static_cast<ssize_t>(size)) std::abort();
  const size_t padded = (size + 4095) / 4096 * 4096;
  if (::ftruncate(fd, static_cast<off_t>(padded)) != 0) std::abort();
  ::close(fd);

  // Small chunks make records cross chunk boundaries.
  size_t chunk = size > 0 && (data[size - 1] & 1) ? 4096 : 8192;
  auto reader = ringdb::wal::LogReader::Open(io.get(), path, ringdb::Lsn(), chunk);
  if (!reader.ok()) return 0;
  std::string payload;
  ringdb::Lsn last = (*reader)->end_of_valid_log();  // past the segment header
  int skips = 0;
  for (int i = 0; i < 100000; i++) {
    uint8_t type = 0;
    ringdb::Lsn end;
    bool eof = false;
    ringdb::Status s = (*reader)->Next(&payload, &type, &end, &eof);
    if (!s.ok()) break;
    if (eof) {
      // What recovery does next: diagnose the stop, maybe skip past it.
      ringdb::wal::LogDamage damage;
      if (!(*reader)->Diagnose(&damage).ok()) break;
      if (damage.followed &&
          (damage.next_offset <= damage.offset || damage.next_offset >= padded)) {
        std::abort();
      }
      if (!damage.followed || ++skips > 3) break;
      (*reader)->SkipTo(damage);
      last = (*reader)->end_of_valid_log();
      continue;
    }
    // A record is its payload plus one header per fragment.
    if (type == 0 || end <= last || end > ringdb::Lsn(padded)) std::abort();
    if (end - last < ringdb::wal::kHeaderSize + payload.size() ||
        (end - last - payload.size()) % ringdb::wal::kHeaderSize != 0) {
      std::abort();
    }
    last = end;
    ringdb::WriteBatch batch;
    if (ringdb::WriteBatchInternal::SetContents(&batch, payload).ok()) {
      Touch touch;
      (void)batch.Iterate(&touch);
    }
  }
  if ((*reader)->end_of_valid_log() > ringdb::Lsn(padded)) std::abort();
  return 0;
}
