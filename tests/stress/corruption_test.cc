// Corruption tests on real files, in the spirit of LevelDB's
// db/corruption_test.cc: build a database, close it, flip bits in
// ringdb.data (the superblock copies, the page map, mapped pages, anywhere)
// or in a log segment, reopen, and require that
//   - Open either fails with a Corruption / InvalidArgument / NotSupported
//     status whose message names the damaged file, or succeeds;
//   - after a successful Open every Get and every iterator step returns the
//     right value or a Corruption status: never a wrong value, a missing
//     key that should be there, or a key that should not, and never a crash;
//   - DB::Verify reports a damaged page the tree can reach.
// Every case runs many seeds; a failure prints the seed and the flipped
// offsets.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <map>
#include <random>
#include <set>

#include "engine/db_impl.h"
#include "engine/superblock.h"
#include "io/fault_backend.h"
#include "tests/util/temp_dir.h"

namespace ringdb {
namespace corruption_test {

namespace fs = std::filesystem;
using Model = std::map<std::string, std::string>;

constexpr uint32_t kPageSize = 4096;
constexpr int kSeeds = 40;

Options TestOptions() {
  Options o;
  // Small, so reads go to the disk; not the 16-page minimum, on which every
  // iterator read-ahead stalls 2 s (see small_pool_scan_test.cc).
  o.buffer_pool_bytes = 48 * kPageSize;
  o.page_size = kPageSize;
  o.io_backend = IoBackendKind::kPread;
  o.lock_pool_memory = false;
  o.info_log = [](std::string_view) {};
  return o;
}

std::string ValueFor(std::mt19937_64& rng, int i) {
  size_t len = i % 50 == 7 ? 9000 + rng() % 20000 : 10 + rng() % 700;
  std::string v = "val" + std::to_string(i) + ":";
  while (v.size() < len) v.push_back(static_cast<char>('A' + rng() % 58));
  return v;
}

std::string ReadFile(const std::string& path) {
  std::string out;
  int fd = ::open(path.c_str(), O_RDONLY);
  if (fd < 0) return out;
  char buf[65536];
  ssize_t n;
  while ((n = ::read(fd, buf, sizeof(buf))) > 0) out.append(buf, static_cast<size_t>(n));
  ::close(fd);
  return out;
}

uint64_t Get64(const std::string& s, size_t off) {
  uint64_t v = 0;
  std::memcpy(&v, s.data() + off, 8);
  return v;
}

// Flips `bits` random bits in [lo, hi) of `path`; returns the offsets.
std::vector<uint64_t> FlipBits(const std::string& path, uint64_t lo, uint64_t hi, int bits,
                               std::mt19937_64& rng) {
  std::vector<uint64_t> where;
  int fd = ::open(path.c_str(), O_RDWR);
  EXPECT_GE(fd, 0) << path;
  if (fd < 0 || hi <= lo) return where;
  for (int b = 0; b < bits; b++) {
    uint64_t off = lo + rng() % (hi - lo);
    unsigned char c;
    EXPECT_EQ(::pread(fd, &c, 1, static_cast<off_t>(off)), 1);
    c ^= static_cast<unsigned char>(1u << (rng() % 8));
    EXPECT_EQ(::pwrite(fd, &c, 1, static_cast<off_t>(off)), 1);
    where.push_back(off);
  }
  ::close(fd);
  return where;
}

std::string Describe(uint64_t seed, const std::vector<uint64_t>& offsets) {
  std::string s = "seed " + std::to_string(seed) + ", flipped bytes at";
  for (uint64_t o : offsets) s += " " + std::to_string(o);
  return s;
}

// The outcome of reading a damaged database back.
struct ReadBack {
  bool opened = false;
  Status open_status;
  bool saw_corruption = false;  // some Get or iterator reported Corruption
  Status verify;
  std::string error;  // non-empty: a contract violation
};

// Opens `dir` and compares every key with one of the acceptable models
// (`models`: a database may legitimately hold any of them, e.g. any prefix
// of the log). Gets and iterator steps may fail with Corruption.
ReadBack CheckDamaged(const std::string& dir, const std::vector<Model>& models) {
  ReadBack rb;
  std::unique_ptr<DB> db;
  rb.open_status = DB::Open(TestOptions(), dir, &db);
  if (!rb.open_status.ok()) {
    const Status& s = rb.open_status;
    if (!s.IsCorruption() && !s.IsInvalidArgument() && !s.IsNotSupported()) {
      rb.error = "Open failed with an unexpected code: " + s.ToString();
    } else if (s.message().find(dir) == std::string::npos) {
      rb.error = "Open failed without naming the file: " + s.ToString();
    }
    return rb;
  }
  rb.opened = true;
  std::set<std::string> keys;
  for (const Model& m : models) {
    for (const auto& kv : m) keys.insert(kv.first);
  }
  // Which models are still consistent with what we read.
  std::vector<bool> possible(models.size(), true);
  auto observe = [&](const std::string& key, const std::string* value) {
    bool any = false;
    for (size_t i = 0; i < models.size(); i++) {
      auto it = models[i].find(key);
      bool match = value ? (it != models[i].end() && it->second == *value) : it == models[i].end();
      if (!match) possible[i] = false;
      any = any || possible[i];
    }
    if (!any && rb.error.empty()) {
      rb.error = "key " + key + ": read " +
                 (value ? "a value of " + std::to_string(value->size()) + " bytes" : "NotFound") +
                 ", which no acceptable state holds";
    }
  };
  for (const std::string& key : keys) {
    std::string value;
    Status s = db->Get(ReadOptions(), key, &value);
    if (s.IsCorruption()) {
      rb.saw_corruption = true;
    } else if (s.ok()) {
      observe(key, &value);
    } else if (s.IsNotFound()) {
      observe(key, nullptr);
    } else if (rb.error.empty()) {
      rb.error = "Get(" + key + "): unexpected " + s.ToString();
    }
  }
  {
    std::unique_ptr<Iterator> it = db->NewIterator(ReadOptions());
    std::string prev;
    bool first = true;
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      std::string key(it->key()), value(it->value());
      if (!first && key <= prev && rb.error.empty()) rb.error = "iterator out of order at " + key;
      if (keys.count(key) == 0 && rb.error.empty()) {
        rb.error = "iterator returned a key no state holds: " + key.substr(0, 40);
      }
      observe(key, &value);
      prev = key;
      first = false;
    }
    if (it->status().IsCorruption()) {
      rb.saw_corruption = true;
    } else if (!it->status().ok() && rb.error.empty()) {
      rb.error = "iterator: unexpected " + it->status().ToString();
    }
  }
  std::string report;
  rb.verify = db->Verify(&report);
  if (rb.verify.ok() && rb.saw_corruption && rb.error.empty()) {
    rb.error = "a read reported Corruption but Verify is OK";
  }
  db.reset();  // Close errors are fine on a damaged database
  return rb;
}

class CorruptionTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    // tmpfs when there is one: each case opens the database dozens of
    // times and every open checkpoints.
    tmp_ = new test::TempDir("corruption", test::TempDir::MemoryParent());
    root_ = tmp_->path();
    // A closed database: everything is in ringdb.data.
    clean_dir_ = root_ + "/clean";
    std::mt19937_64 rng(42);
    {
      std::unique_ptr<DB> db;
      ASSERT_TRUE(DB::Open(TestOptions(), clean_dir_, &db).ok());
      for (int i = 0; i < 400; i++) {
        char key[16];
        std::snprintf(key, sizeof(key), "key%05d", i);
        std::string v = ValueFor(rng, i);
        ASSERT_TRUE(db->Put(WriteOptions(), key, v).ok());
        clean_[key] = v;
      }
      for (int i = 0; i < 400; i += 9) {
        char key[16];
        std::snprintf(key, sizeof(key), "key%05d", i);
        ASSERT_TRUE(db->Delete(WriteOptions(), key).ok());
        clean_.erase(key);
      }
      ASSERT_TRUE(db->Close().ok());
    }
    // A crashed database: the clean one plus synced writes only in the log
    // (the closing checkpoint never reaches the disk).
    crashed_dir_ = root_ + "/crashed";
    fs::copy(clean_dir_, crashed_dir_);
    {
      auto backend = std::make_shared<io::FaultBackend>(io::NewPreadBackend());
      std::unique_ptr<DB> db;
      ASSERT_TRUE(OpenWithBackend(TestOptions(), crashed_dir_, backend, &db).ok());
      logged_.push_back(clean_);
      for (int i = 0; i < 120; i++) {
        Model next = logged_.back();
        char key[16];
        std::snprintf(key, sizeof(key), "key%05d", (i * 37) % 450);
        WriteOptions wo;
        wo.sync = true;
        if (i % 5 == 4) {
          ASSERT_TRUE(db->Delete(wo, key).ok());
          next.erase(key);
        } else {
          std::string v = ValueFor(rng, 1000 + i);
          ASSERT_TRUE(db->Put(wo, key, v).ok());
          next[key] = v;
        }
        logged_.push_back(std::move(next));
      }
      backend->Arm(io::Fault{io::FaultOp::kWrite, 1, io::FaultKind::kEio, 0, true});
      db.reset();
    }
  }
  static void TearDownTestSuite() {
    delete tmp_;
    tmp_ = nullptr;
  }

  // A fresh copy of `src` to damage.
  std::string Copy(const std::string& src) {
    std::string dst = root_ + "/work";
    fs::remove_all(dst);
    fs::copy(src, dst);
    return dst;
  }
  static std::string DataPath(const std::string& dir) { return dir + "/" + kDataFileName; }
  // The log segment that holds records (the failed closing checkpoint may
  // have started an empty next one).
  static std::string LogWithRecords(const std::string& dir) {
    std::string best;
    uint64_t best_size = 0;
    for (const auto& e : fs::directory_iterator(dir)) {
      uint64_t seg;
      if (wal::ParseSegmentFileName(e.path().filename().string(), &seg) &&
          (best.empty() || e.file_size() > best_size)) {
        best = e.path().string();
        best_size = e.file_size();
      }
    }
    return best;
  }
  // The slots the newest superblock's map references (and the map itself).
  static void MappedSlots(const std::string& data, std::vector<uint64_t>* slots,
                          uint64_t* map_start, uint64_t* map_pages) {
    size_t newest = Get64(data, 24) >= Get64(data, kPageSize + 24) ? 0 : kPageSize;
    *map_start = Get64(data, newest + 72);
    *map_pages = Get64(data, newest + 80);
    uint64_t logical = Get64(data, newest + 56);
    uint64_t per_page = (kPageSize - kPageHeaderSize) / 8;
    for (uint64_t id = 0; id < logical; id++) {
      uint64_t off = (*map_start + id / per_page) * kPageSize + kPageHeaderSize + (id % per_page) * 8;
      uint64_t slot = Get64(data, off);
      if (slot != 0) slots->push_back(slot);
    }
  }

  static test::TempDir* tmp_;
  static std::string root_, clean_dir_, crashed_dir_;
  static Model clean_;
  static std::vector<Model> logged_;  // logged_[k]: the state after k logged writes
};

test::TempDir* CorruptionTest::tmp_ = nullptr;
std::string CorruptionTest::root_, CorruptionTest::clean_dir_, CorruptionTest::crashed_dir_;
Model CorruptionTest::clean_;
std::vector<Model> CorruptionTest::logged_;

TEST_F(CorruptionTest, UndamagedCopiesReadBack) {
  ReadBack rb = CheckDamaged(Copy(clean_dir_), {clean_});
  EXPECT_TRUE(rb.opened) << rb.open_status.ToString();
  EXPECT_EQ(rb.error, "");
  EXPECT_FALSE(rb.saw_corruption);
  EXPECT_TRUE(rb.verify.ok()) << rb.verify.ToString();
  rb = CheckDamaged(Copy(crashed_dir_), {logged_.back()});
  EXPECT_TRUE(rb.opened) << rb.open_status.ToString();
  EXPECT_EQ(rb.error, "");
}

// Damaging the older superblock copy changes nothing; damaging both is a
// clean Open failure.
TEST_F(CorruptionTest, OlderSuperblockCopy) {
  for (uint64_t seed = 1; seed <= kSeeds; seed++) {
    std::mt19937_64 rng(seed);
    std::string dir = Copy(clean_dir_);
    std::string data = ReadFile(DataPath(dir));
    uint64_t older = Get64(data, 24) >= Get64(data, kPageSize + 24) ? kPageSize : 0;
    auto where = FlipBits(DataPath(dir), older, older + 128, 1 + seed % 8, rng);
    ReadBack rb = CheckDamaged(dir, {clean_});
    EXPECT_EQ(rb.error, "") << Describe(seed, where);
    EXPECT_TRUE(rb.opened) << Describe(seed, where) << ": " << rb.open_status.ToString();
    EXPECT_FALSE(rb.saw_corruption) << Describe(seed, where);
  }
}

TEST_F(CorruptionTest, BothSuperblockCopies) {
  for (uint64_t seed = 1; seed <= kSeeds; seed++) {
    std::mt19937_64 rng(seed);
    std::string dir = Copy(clean_dir_);
    auto where = FlipBits(DataPath(dir), 0, 96, 1 + seed % 4, rng);
    auto w2 = FlipBits(DataPath(dir), kPageSize, kPageSize + 96, 1 + seed % 4, rng);
    where.insert(where.end(), w2.begin(), w2.end());
    ReadBack rb = CheckDamaged(dir, {clean_});
    EXPECT_EQ(rb.error, "") << Describe(seed, where);
    EXPECT_FALSE(rb.opened) << Describe(seed, where) << ": opened with both copies damaged";
  }
}

// Damaging the newest copy leaves the older one, which names the previous
// checkpoint, whose log segments were deleted by the newer checkpoint. The
// database must then refuse to open (or still hold every write): falling
// back silently would lose everything written between the two checkpoints.
TEST_F(CorruptionTest, NewestSuperblockCopy) {
  for (uint64_t seed = 1; seed <= kSeeds; seed++) {
    std::mt19937_64 rng(seed);
    std::string dir = Copy(clean_dir_);
    std::string data = ReadFile(DataPath(dir));
    uint64_t newest = Get64(data, 24) >= Get64(data, kPageSize + 24) ? 0 : kPageSize;
    auto where = FlipBits(DataPath(dir), newest, newest + 128, 1 + seed % 8, rng);
    ReadBack rb = CheckDamaged(dir, {clean_});
    EXPECT_EQ(rb.error, "") << Describe(seed, where)
                            << (rb.opened ? " (the database opened)" : "");
  }
}

TEST_F(CorruptionTest, PageMap) {
  std::string data = ReadFile(DataPath(clean_dir_));
  std::vector<uint64_t> slots;
  uint64_t map_start, map_pages;
  MappedSlots(data, &slots, &map_start, &map_pages);
  ASSERT_GT(map_pages, 0u);
  for (uint64_t seed = 1; seed <= kSeeds; seed++) {
    std::mt19937_64 rng(seed);
    std::string dir = Copy(clean_dir_);
    auto where = FlipBits(DataPath(dir), map_start * kPageSize,
                          (map_start + map_pages) * kPageSize, 1 + seed % 4, rng);
    ReadBack rb = CheckDamaged(dir, {clean_});
    EXPECT_EQ(rb.error, "") << Describe(seed, where);
    EXPECT_FALSE(rb.opened) << Describe(seed, where) << ": opened with a damaged page map";
  }
}

// A damaged page the tree reaches: reads of its keys report Corruption
// (or Open does), other keys read back right, and Verify names it.
TEST_F(CorruptionTest, MappedPages) {
  std::string data = ReadFile(DataPath(clean_dir_));
  std::vector<uint64_t> slots;
  uint64_t map_start, map_pages;
  MappedSlots(data, &slots, &map_start, &map_pages);
  ASSERT_GT(slots.size(), 3u);
  int opened = 0;
  for (uint64_t seed = 1; seed <= 3 * kSeeds; seed++) {
    std::mt19937_64 rng(seed);
    std::string dir = Copy(clean_dir_);
    uint64_t slot = slots[rng() % slots.size()];
    auto where = FlipBits(DataPath(dir), slot * kPageSize, (slot + 1) * kPageSize,
                          1 + seed % 3, rng);
    ReadBack rb = CheckDamaged(dir, {clean_});
    EXPECT_EQ(rb.error, "") << Describe(seed, where) << " (slot " << slot << ")";
    if (rb.opened) {
      opened++;
      EXPECT_FALSE(rb.verify.ok()) << Describe(seed, where) << " (slot " << slot
                                   << "): Verify missed a damaged page";
    }
  }
  EXPECT_GT(opened, 0);
}

TEST_F(CorruptionTest, AnywhereInTheDataFile) {
  uint64_t size = fs::file_size(DataPath(clean_dir_));
  for (uint64_t seed = 1; seed <= 3 * kSeeds; seed++) {
    std::mt19937_64 rng(seed);
    std::string dir = Copy(clean_dir_);
    auto where = FlipBits(DataPath(dir), 2 * kPageSize, size, 1 + seed % 16, rng);
    ReadBack rb = CheckDamaged(dir, {clean_});
    EXPECT_EQ(rb.error, "") << Describe(seed, where);
  }
}

// A data file cut short (a lost extension) or a log cut anywhere.
TEST_F(CorruptionTest, TruncatedFiles) {
  uint64_t data_size = fs::file_size(DataPath(crashed_dir_));
  uint64_t log_size = fs::file_size(LogWithRecords(crashed_dir_));
  for (uint64_t seed = 1; seed <= kSeeds; seed++) {
    std::mt19937_64 rng(seed);
    std::string dir = Copy(crashed_dir_);
    uint64_t cut = rng() % data_size;
    fs::resize_file(DataPath(dir), cut);
    ReadBack rb = CheckDamaged(dir, logged_);
    EXPECT_EQ(rb.error, "") << "seed " << seed << ": ringdb.data cut to " << cut;
    dir = Copy(crashed_dir_);
    cut = rng() % log_size;
    fs::resize_file(LogWithRecords(dir), cut);
    rb = CheckDamaged(dir, logged_);
    EXPECT_EQ(rb.error, "") << "seed " << seed << ": log cut to " << cut;
    // The cut segment was closed (synced in full) before the closing
    // checkpoint started the next one, so a cut in it loses acknowledged
    // writes: Open must either recover a logged state or say Corruption.
    EXPECT_TRUE(rb.opened || rb.open_status.IsCorruption())
        << "seed " << seed << ": log cut to " << cut << ": " << rb.open_status.ToString();
  }
}

// A damaged log record ends the log there: the database may hold any
// prefix of the logged writes, never anything else.
TEST_F(CorruptionTest, LogSegmentNeverGivesWrongValues) {
  std::string log = ReadFile(LogWithRecords(crashed_dir_));
  size_t used = log.find_last_not_of('\0');
  ASSERT_NE(used, std::string::npos);
  for (uint64_t seed = 1; seed <= kSeeds; seed++) {
    std::mt19937_64 rng(seed);
    std::string dir = Copy(crashed_dir_);
    auto where = FlipBits(LogWithRecords(dir), 0, used + 1, 1 + seed % 4, rng);
    ReadBack rb = CheckDamaged(dir, logged_);
    EXPECT_EQ(rb.error, "") << Describe(seed, where);
  }
}

// Every record in the log was acknowledged with sync=true. A damaged record
// followed by intact ones is not a torn tail (a crash only tears the end),
// so recovery must report it rather than silently drop the acknowledged
// writes after it.
TEST_F(CorruptionTest, LogSegmentDamageBeforeIntactRecordsIsReported) {
  std::string log = ReadFile(LogWithRecords(crashed_dir_));
  size_t used = log.find_last_not_of('\0');
  ASSERT_NE(used, std::string::npos);
  for (uint64_t seed = 1; seed <= kSeeds; seed++) {
    std::mt19937_64 rng(seed);
    std::string dir = Copy(crashed_dir_);
    // The first half of the log: intact records follow.
    auto where = FlipBits(LogWithRecords(dir), 0, used / 2, 1, rng);
    ReadBack rb = CheckDamaged(dir, {logged_.back()});
    EXPECT_EQ(rb.error, "") << Describe(seed, where)
                            << (rb.opened ? " (the database opened)" : "");
  }
}

}  // namespace corruption_test
}  // namespace ringdb
