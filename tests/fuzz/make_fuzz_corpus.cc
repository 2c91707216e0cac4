// make_fuzz_corpus OUT_DIR: writes the seed corpora of the fuzz targets
// (tests/fuzz/corpus/<target>/) from the real engine, so the seeds stay
// valid when a format changes: regenerate with
//   build/tests/fuzz/make_fuzz_corpus tests/fuzz/corpus
// Seeds are small (a few pages each); the whole corpus stays under 1 MB.
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>

#include "engine/db_impl.h"
#include "engine/wal.h"
#include "io/fault_backend.h"
#include "ringdb/db.h"

namespace fs = std::filesystem;
using namespace ringdb;

namespace {

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

bool WriteFile(const fs::path& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  return static_cast<bool>(out);
}

Options SmallOptions() {
  Options o;
  o.buffer_pool_bytes = 32 * 4096;
  o.io_backend = IoBackendKind::kPread;
  o.lock_pool_memory = false;
  o.info_log = [](std::string_view) {};
  return o;
}

// db_open_fuzz input: segment byte, u32 data length, ringdb.data, log.
std::string DbInput(const std::string& dir) {
  std::string data = ReadFile(dir + "/" + kDataFileName);
  uint64_t best_seg = 0;
  std::string log;
  for (const auto& e : fs::directory_iterator(dir)) {
    uint64_t seg;
    if (wal::ParseSegmentFileName(e.path().filename().string(), &seg)) {
      std::string bytes = ReadFile(e.path().string());
      if (best_seg == 0 || bytes.size() > log.size()) {
        best_seg = seg;
        log = bytes;
      }
    }
  }
  // Trim the zero padding after the last record: the reader treats the end
  // of the file like zeros.
  size_t used = log.find_last_not_of('\0');
  log.resize(used == std::string::npos ? 0 : used + 1);
  std::string out(5, '\0');
  out[0] = static_cast<char>(best_seg > 255 ? 0 : best_seg);
  uint32_t n = static_cast<uint32_t>(data.size());
  std::memcpy(&out[1], &n, 4);
  return out + data + log;
}

// A database with `keys` keys; when `crash` the last writes stay in the log
// only (the closing checkpoint fails).
bool MakeDb(const std::string& dir, int keys, bool crash, std::string* input) {
  fs::remove_all(dir);
  auto backend = std::make_shared<io::FaultBackend>(io::NewPreadBackend());
  std::unique_ptr<DB> db;
  if (!OpenWithBackend(SmallOptions(), dir, backend, &db).ok()) return false;
  for (int i = 0; i < keys; i++) {
    char key[16];
    std::snprintf(key, sizeof(key), "key%05d", i);
    WriteOptions wo;
    wo.sync = i % 3 == 0;
    std::string value = "value" + std::to_string(i) + std::string(i % 7 == 0 ? 300 : 20, 'v');
    if (!db->Put(wo, key, value).ok()) return false;
  }
  if (crash) {
    WriteBatch batch;
    batch.Put("key00001", "batched");
    batch.Delete("key00002");
    batch.Put("zzz", std::string(5000, 'z'));  // an overflow value
    WriteOptions wo;
    wo.sync = true;
    if (!db->Write(wo, &batch).ok()) return false;
    backend->Arm(io::Fault{io::FaultOp::kWrite, 1, io::FaultKind::kEio, 0, true});
    db.reset();
  } else if (!db->Close().ok()) {
    return false;
  }
  *input = DbInput(dir);
  return true;
}

// A log segment starting at LSN 0 with a few batches.
bool MakeLog(const std::string& dir, int records, std::string* bytes) {
  fs::remove_all(dir);
  fs::create_directories(dir);
  std::unique_ptr<io::IoBackend> io = io::NewPreadBackend();
  auto w = wal::LogWriter::Create(io.get(), dir, 1, Lsn(0));
  if (!w.ok()) return false;
  for (int i = 0; i < records; i++) {
    WriteBatch batch;
    batch.Put("k" + std::to_string(i), std::string(10 + i * 40, 'a' + i % 26));
    if (i % 2) batch.Delete("k" + std::to_string(i - 1));
    if (!(*w)->Append(kBatchRecord, ringdb::WriteBatchInternal::Contents(batch)).ok()) return false;
  }
  if (!(*w)->Close().ok()) return false;
  *bytes = ReadFile(wal::SegmentPath(dir, 1));
  size_t used = bytes->find_last_not_of('\0');
  bytes->resize(used == std::string::npos ? 0 : used + 1);
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: make_fuzz_corpus OUT_DIR\n");
    return 2;
  }
  fs::path out = argv[1];
  std::string tmp = (fs::temp_directory_path() / ("ringdb_corpus_" + std::to_string(getpid()))).string();
  for (const char* t : {"db_open_fuzz", "wal_reader_fuzz", "shell_parse_fuzz"}) {
    fs::create_directories(out / t);
  }
  std::string bytes;
  struct {
    const char* name;
    int keys;
    bool crash;
  } dbs[] = {{"empty_closed", 0, false}, {"small_closed", 20, false},
             {"small_crashed", 12, true}, {"split_crashed", 150, true}};
  for (const auto& d : dbs) {
    if (!MakeDb(tmp, d.keys, d.crash, &bytes) || !WriteFile(out / "db_open_fuzz" / d.name, bytes)) {
      std::fprintf(stderr, "make_fuzz_corpus: db seed %s failed\n", d.name);
      return 1;
    }
  }
  for (int records : {1, 3, 12}) {
    if (!MakeLog(tmp, records, &bytes) ||
        !WriteFile(out / "wal_reader_fuzz" / ("log_" + std::to_string(records)), bytes)) {
      std::fprintf(stderr, "make_fuzz_corpus: log seed failed\n");
      return 1;
    }
  }
  const char* lines[] = {
      "put key value",
      "get \"a key\"",
      "put \"\\x00\\xff\\n\\t\\\\\\\"\" \"v\"",
      "scan --limit 10 \"--limit\"",
      "key\tvalue",
      "\"quoted key\"\t\"quoted\\x41value\"",
      "del \"unterminated",
  };
  int i = 0;
  for (const char* l : lines) {
    if (!WriteFile(out / "shell_parse_fuzz" / ("line_" + std::to_string(i++)), l)) return 1;
  }
  fs::remove_all(tmp);
  return 0;
}
